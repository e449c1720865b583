#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Forwarded-path benchmark in namespaces, generator -> router -> sink: `forward.sh forward` (configurations a-e), `forward.sh scale` (mwan at 1k-1M flows), `forward.sh probe` (which generator runs here).
set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BENCH_BIN:-$REPO/build/bench}
LOADER=${MWAN_LOADER:-$REPO/build/mwan-loader}
RESULTS=${RESULTS:-$REPO/results}
QUICK=${QUICK:-0}
PY=/usr/bin/python3
# The traffic generator: auto (probed once: live frames where the kernel
# allows them, else the closed XDP loop), live-frames, xdp-loop, af-packet,
# af-xdp. `make bench-all` probes once and hands the verdict to every part
# in BENCH_GEN and BENCH_GEN_WHY. BENCH_GEN_ARGS: more options for `gen run`
# (for example --inflight 128).
GEN=${BENCH_GEN:-auto}
GEN_WHY=${BENCH_GEN_WHY:-}
read -r -a GEN_ARGS <<<"${BENCH_GEN_ARGS:-}"

# Unique names: namespaces mwbPID-{gen,rtr,sink}, state in /run/mwbPID.
ID=mwb$$
DIR=/run/$ID
PIN=$DIR/bpf
CFG=$DIR/mwan.yaml
LOADER_PID=

# Documentation, CGNAT and private addresses only (bench/nft-baseline.nft
# and bench/ip6tables-npt.rules spell out the same ones).
HOSTS=5
HOST4=10.250.250.2 # host i: .2 + i
HOST6=3d06:bad:b01:fe::2
PUB4=198.51.100.193 # host i on att: .193 + i
EXT6=2001:db8:a0:1fe::2 # host 0 after NPTv6: subnet 0xfe of the /56 below
PD6=2001:db8:a0:100::/56
REMOTE4=192.0.2.10
REMOTE6=2001:db8:ffff::10
GW4=100.64.1.1
GW6=2001:db8:a::1
FWMARK=0x6d770100
TABLE=27900

read -r -a CONFIGS <<<"${BENCH_CONFIGS:-a b c d e}" # BENCH_CONFIGS: a subset
declare -A CONFIG_NAME=(
	[a]="kernel forwarding, no NAT"
	[b]="nftables NAT + ct mark + policy routing + NPTv6"
	[c]="mwan fast path (XDP)"
	[d]="mwan slow path (TC + kernel)"
	[e]="XDP redirect only (ceiling)"
)

# Before each run, wait up to QUIET_WAIT seconds for the machine to be
# idle (other work lowers the Mpps the sink counts; see bench.md).
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
if [[ $QUICK == 1 ]]; then
	RUNS=1 SECONDS_RUN=1 WARMUP=0.5 FLOWS=1000 SCALE_RUNS=1 SCALE_FLOWS=(1000 100000)
	QUIET_WAIT=0
else
	RUNS=${BENCH_RUNS:-5} SECONDS_RUN=${BENCH_SECONDS:-5} WARMUP=2 FLOWS=1000
	SCALE_RUNS=${BENCH_SCALE_RUNS:-3} SCALE_FLOWS=(1000 10000 100000 1000000)
fi

log() { echo "forward: $*" >&2; }
die() {
	log "$*"
	exit 1
}

ns() { echo "$ID-$1"; }
in_ns() {
	local node=$1
	shift
	ip netns exec "$(ns "$node")" "$@"
}

# ---- topology ----

# link NODE1 IF1 NODE2 IF2: a veth pair with two queues each way.
link() {
	ip link add "$2" netns "$(ns "$1")" numtxqueues 2 numrxqueues 2 type veth \
		peer name "$4" netns "$(ns "$3")" numtxqueues 2 numrxqueues 2
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}

# addr NODE IF ADDR...: no duplicate address detection.
addr() {
	local node=$1 ifn=$2 a
	shift 2
	for a in "$@"; do
		if [[ $a == *:* ]]; then
			in_ns "$node" ip addr add "$a" dev "$ifn" nodad
		else
			in_ns "$node" ip addr add "$a" dev "$ifn"
		fi
	done
}

sysctls() {
	local node=$1 kv
	shift
	for kv in "$@"; do in_ns "$node" sysctl -qw "$kv" >/dev/null; done
}

mac_of() { in_ns "$1" cat "/sys/class/net/$2/address"; }

# xps NODE IF: transmit queue q belongs to CPU q (the kernel paths).
xps() {
	local q ncpu
	ncpu=$(nproc)
	for q in 0 1; do
		in_ns "$1" sh -c "echo $(printf '%x' $((1 << (q % ncpu)))) >/sys/class/net/$2/queues/tx-$q/xps_cpus"
	done
}

# topo_up: the three namespaces, wired and addressed. Every run gets a
# fresh router: some kernel state outlives the configuration that made
# it (once a netns has had a policy routing rule, its route lookups go
# through the rules for good; conntrack entries).
topo_up() {
	local node sink_mac
	for node in gen rtr sink; do
		ip netns add "$(ns "$node")"
		in_ns "$node" ip link set lo up
		sysctls "$node" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	link gen gen0 rtr lan0
	link rtr wan0 sink sink0
	sysctls rtr net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.lan0.rp_filter=0 net.ipv4.conf.wan0.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 net.ipv6.conf.all.accept_ra=0
	addr rtr lan0 10.250.250.1/29 3d06:bad:b01:fe::1/64
	addr rtr wan0 100.64.1.2/30 2001:db8:a::2/64
	addr sink sink0 "$GW4/30" "$GW6/64"
	in_ns rtr ip route add default via "$GW4"
	in_ns rtr ip -6 route add default via "$GW6"
	# The sink answers nothing (its XDP program drops what it counts).
	sink_mac=$(mac_of sink sink0)
	in_ns rtr ip neigh replace "$GW4" lladdr "$sink_mac" dev wan0 nud permanent
	in_ns rtr ip -6 neigh replace "$GW6" lladdr "$sink_mac" dev wan0 nud permanent
	# Frames sent into a veth by XDP need NAPI on the peer: GRO on lan0
	# for the kernel paths (XDP programs provide it otherwise).
	in_ns rtr ethtool -K lan0 gro on >/dev/null
	xps rtr wan0
	xps rtr lan0
	xps gen gen0
}

# ns_pids: whatever still runs in our namespaces (a loader, a generator).
ns_pids() {
	local node
	for node in gen rtr sink; do
		[[ ! -e /run/netns/$(ns "$node") ]] || ip netns pids "$(ns "$node")" 2>/dev/null || true
	done
}

topo_down() {
	local node pid
	for pid in $(ns_pids); do kill -TERM "$pid" 2>/dev/null || true; done
	for node in gen rtr sink; do
		ip netns del "$(ns "$node")" 2>/dev/null || true
	done
}

# state_up / state_down: the bpffs the loader pins its maps in, its
# config, logs.
state_up() {
	mkdir -p "$DIR/run" "$PIN"
	mount -t bpf bpf "$PIN"
}

state_down() {
	if mountpoint -q "$PIN" 2>/dev/null; then
		umount "$PIN" 2>/dev/null || umount -l "$PIN" || true
	fi
	rm -rf "$DIR"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	loader_stop || true
	topo_down
	state_down
	exit "$rc"
}

# ---- configurations ----

# write_config FAST_PATH FLOWS_MAX: mwan.yaml for the bench's router.
write_config() {
	local i
	{
		echo "# mwan benchmark router (bench/forward.sh)"
		echo "pin_dir: $PIN"
		echo "run_dir: $DIR/run"
		echo "fast_path: $1"
		echo "flows_max: $2"
		echo "lan: { interface: lan0, ipv4: 10.250.250.0/29, ipv6: 3d06:bad:b01:fe::/64 }"
		echo "wans:"
		echo "  att:"
		echo "    interface: wan0"
		echo "    gateway4: $GW4"
		echo "    gateway6: $GW6"
		echo "    npt: { subnet: 0xfe, prefix: $PD6 }"
		echo "nat:"
		for ((i = 0; i < HOSTS; i++)); do
			echo "  - { internal: 10.250.250.$((2 + i)), external: { att: 198.51.100.$((193 + i)) } }"
		done
	} >"$CFG"
}

loader_start() {
	write_config "$1" "$2"
	rm -f "$DIR/loader.log" # never wait on the last loader's "ready"
	# A plain command, not a function: $! is then the loader itself.
	ip netns exec "$(ns rtr)" "$LOADER" -c "$CFG" >"$DIR/loader.log" 2>&1 &
	LOADER_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qs "dataplane ready" "$DIR/loader.log" && return 0
		kill -0 "$LOADER_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$DIR/loader.log" >&2
	die "mwan-loader did not get ready"
}

# loader_stop: SIGTERM (which leaves the dataplane forwarding), wait, then
# --cleanup: every configuration starts from a bare router and empty tables.
loader_stop() {
	local pid=$LOADER_PID
	[[ -n $pid ]] || return 0
	LOADER_PID=
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	ip netns exec "$(ns rtr)" "$LOADER" -c "$CFG" --cleanup >>"$DIR/loader.log" 2>&1 ||
		die "mwan-loader --cleanup failed: $(tail -n 3 "$DIR/loader.log")"
}

nft_up() {
	in_ns rtr nft -f "$REPO/bench/nft-baseline.nft"
	in_ns rtr ip6tables-restore --noflush <"$REPO/bench/ip6tables-npt.rules"
	local v
	for v in 4 6; do
		in_ns rtr ip -"$v" rule add priority 10000 fwmark "$FWMARK" lookup "$TABLE"
	done
	in_ns rtr ip rule add priority 9000 to 10.250.250.0/29 lookup main
	in_ns rtr ip -6 rule add priority 9000 to 3d06:bad:b01:fe::/64 lookup main
	in_ns rtr ip route add default via "$GW4" dev wan0 table "$TABLE"
	in_ns rtr ip -6 route add default via "$GW6" dev wan0 table "$TABLE"
}

nft_down() {
	local v
	in_ns rtr nft flush ruleset
	for v in 4 6; do
		in_ns rtr ip -"$v" rule del priority 10000
		in_ns rtr ip -"$v" rule del priority 9000
		in_ns rtr ip -"$v" route flush table "$TABLE"
	done
}

redirect_up() {
	"$BIN/gen" redirect --netns "$(ns rtr)" --dst-mac "$(mac_of sink sink0)" lan0 wan0
}

redirect_down() { in_ns rtr ip link set dev lan0 xdpdrv off; }

# cfg_up CONFIG [FLOWS_MAX] / cfg_down CONFIG
cfg_up() {
	case $1 in
	a) ;;
	b) nft_up ;;
	c) loader_start true "${2:-4096}" ;;
	d) loader_start false "${2:-4096}" ;;
	e) redirect_up ;;
	esac
}

cfg_down() {
	case $1 in
	b) nft_down ;;
	c | d) loader_stop ;;
	e) redirect_down ;;
	esac
	assert_clean
}

# Nothing of a configuration may survive into the next one.
assert_clean() {
	local left
	left=$(in_ns rtr nft list ruleset)
	[[ -z $left ]] || die "nftables rules left behind: $left"
	if in_ns rtr ip link show lan0 | grep -q 'xdp'; then
		die "an XDP program is still attached to lan0"
	fi
	if in_ns rtr ip rule show | grep -q fwmark; then
		die "fwmark rules left behind"
	fi
}

# ---- measuring ----

# busy_pct: how busy the CPUs were over the last second (/proc/stat).
busy_pct() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x); split(b, y)
		for (i = 2; i <= n; i++) { t += y[i] - x[i]; if (i == 5 || i == 6) idle += y[i] - x[i] }
		print t ? int(100 * (t - idle) / t) : 0 }'
}

# wait_quiet: until the machine is idle (under 10 % busy), QUIET_WAIT s at most.
wait_quiet() {
	local start=$SECONDS busy
	while ((SECONDS - start < QUIET_WAIT)); do
		busy=$(busy_pct)
		((busy >= 10)) || return 0
	done
	((QUIET_WAIT == 0)) || log "machine still ${busy}% busy after ${QUIET_WAIT}s; measuring anyway"
}

# expect_args CONFIG: what the sink must see as the source addresses.
expect_args() {
	case $1 in
	a | e) echo "--want4 $HOST4 --want6 $HOST6 --want6-prefix 14" ;;
	*) echo "--want4 $PUB4 --want6 $EXT6 --want6-prefix 8" ;;
	esac
}

# measure CONFIG FLOWS WARMUP: one run; prints one JSON object.
measure() {
	local cfg=$1 flows=$2 warmup=$3 out mwan=()
	[[ -z $LOADER_PID ]] || mwan=(--mwan-pin "$PIN")
	wait_quiet
	# shellcheck disable=SC2046 # expect_args is a list of words
	out=$("$BIN/gen" run --method "$GEN" --gen-ns "$(ns gen)" --gen-if gen0 \
		--dst-mac "$(mac_of rtr lan0)" --sink-ns "$(ns sink)" --sink-if sink0 \
		--src4 "$HOST4" --dst4 "$REMOTE4" --src6 "$HOST6" --dst6 "$REMOTE6" \
		--hosts "$HOSTS" --flows "$flows" --seconds "$SECONDS_RUN" \
		--warmup "$warmup" "${GEN_ARGS[@]}" "${mwan[@]}" $(expect_args "$cfg"))
	"$PY" "$REPO/bench/report.py" run-record "$cfg" "$out" "$GEN_WHY"
}

# probe_generator: once per benchmark, which generator this kernel allows
# (every run then uses the same one).
probe_generator() {
	local line
	if [[ $GEN != auto ]]; then
		GEN_WHY=${GEN_WHY:-BENCH_GEN=$GEN}
		return 0
	fi
	topo_up
	line=$("$BIN/gen" probe --gen-ns "$(ns gen)" --gen-if gen0 --dst-mac "$(mac_of rtr lan0)")
	topo_down
	GEN=${line%%$'\t'*}
	GEN_WHY=${line#*$'\t'}
}

# ---- the two modes ----

# json_array LINE...: the lines as a JSON array.
json_array() {
	local IFS=,
	echo "[$*]"
}

run_forward() {
	local r cfg rec records=()
	for ((r = 1; r <= RUNS; r++)); do
		for cfg in "${CONFIGS[@]}"; do
			topo_up
			cfg_up "$cfg"
			rec=$(measure "$cfg" "$FLOWS" "$WARMUP")
			cfg_down "$cfg"
			topo_down
			log "run $r/$RUNS $cfg (${CONFIG_NAME[$cfg]}): $(summary "$rec")"
			records+=("$rec")
		done
	done
	printf '{"mode": "forward", "quick": %s, "flows": %s, "seconds": %s, "configs": %s, "runs": %s}\n' \
		"$QUICK" "$FLOWS" "$SECONDS_RUN" "$(config_names)" "$(json_array "${records[@]}")" \
		>"$RESULTS/forward.json"
}

config_names() {
	local c items=()
	for c in "${CONFIGS[@]}"; do items+=("\"$c\": \"${CONFIG_NAME[$c]}\""); done
	local IFS=,
	echo "{${items[*]}}"
}

summary() { "$PY" "$REPO/bench/report.py" run-summary "$1"; }

# flow_table_bytes: what the kernel charges for the pinned flow table.
flow_table_bytes() {
	bpftool -j map show pinned "$PIN/mwan_flows" |
		"$PY" -c 'import json,sys; m=json.load(sys.stdin); print(m.get("bytes_memlock", 0))'
}

run_scale() {
	local flows max warmup r rec mem records=()
	for flows in "${SCALE_FLOWS[@]}"; do
		max=$((flows + flows / 4))
		((max >= 1024)) || max=1024
		# Long enough for every flow to exist before the first window.
		warmup=$(awk -v f="$flows" -v w="$WARMUP" 'BEGIN { print w + f / 250000 }')
		topo_up
		cfg_up c "$max"
		mem=$(flow_table_bytes)
		for ((r = 1; r <= SCALE_RUNS; r++)); do
			((r == 1)) || warmup=$WARMUP # the flows exist from the first run
			rec=$(measure c "$flows" "$warmup")
			rec="{\"flows_max\": $max, \"flow_table_bytes\": $mem, ${rec#\{}"
			log "flows $flows run $r/$SCALE_RUNS: $(summary "$rec"), flow table $((mem / 1048576)) MiB"
			records+=("$rec")
		done
		cfg_down c
		topo_down
	done
	printf '{"mode": "scale", "quick": %s, "seconds": %s, "runs": %s}\n' \
		"$QUICK" "$SECONDS_RUN" "$(json_array "${records[@]}")" >"$RESULTS/scale.json"
}

main() {
	local mode=${1:-}
	[[ $mode == forward || $mode == scale || $mode == probe ]] ||
		die "usage: forward.sh forward|scale|probe"
	((EUID == 0)) || die "needs root (network namespaces, XDP)"
	[[ -x $BIN/gen && -x $LOADER ]] || die "build first: make bench-build"
	mkdir -p "$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP PIPE
	state_up
	probe_generator
	if [[ $mode == probe ]]; then
		printf '%s\t%s\n' "$GEN" "$GEN_WHY"
		return 0
	fi
	log "$mode: generator $GEN ($GEN_WHY)"
	log "$mode: $(nproc) CPUs, runs of ${SECONDS_RUN}s after ${WARMUP}s warm-up, $RUNS per configuration ($SCALE_RUNS per flow count)"
	"run_$mode"
}

main "$@"
