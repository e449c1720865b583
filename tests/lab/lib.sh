# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the lab tests: `ok`/`not ok` reporting, checks, cleanup on every exit path.
# shellcheck shell=bash

# shellcheck source=tests/lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"

T_PREFIX= # "fast"/"slow": prepended to every check name
T_FAILED=0
# The map layout this build writes (maps/mwan_maps.h).
# shellcheck disable=SC2034 # read by the suites
T_LAYOUT=$(awk '/define MWAN_LAYOUT_VERSION/ { print $3 }' "$LAB_REPO/maps/mwan_maps.h")

t_name() { echo "${T_PREFIX:+$T_PREFIX: }$1"; }

# check NAME FUNC ARGS...: run FUNC in a subshell (errexit on). It passes by
# returning 0; on failure its last output line is the reason and the other
# lines are printed as diagnostics.
check() {
	local name=$1 out rc reason
	shift
	trap - ERR # a failing check is no setup error
	set +e
	out=$(
		set -e
		"$@" 2>&1
	)
	rc=$?
	set -e
	[[ -z ${T_TRAPS:-} ]] || trap t_on_err ERR
	if ((rc == 0)); then
		echo "ok - $(t_name "$name")"
		[[ -z $out ]] || echo "#   $(tail -n 1 <<<"$out")"
		return 0
	fi
	T_FAILED=$((T_FAILED + 1))
	if [[ $(wc -l <<<"$out") -gt 1 ]]; then
		head -n -1 <<<"$out" | tail -n 15 | sed 's/^/# /'
	fi
	reason=$(tail -n 1 <<<"$out")
	echo "not ok - $(t_name "$name"): ${reason:-exit status $rc}"
}

# fail REASON: end the current check (it runs in a subshell).
fail() {
	echo "$*"
	exit 1
}

# t_skip NAME REASON: a check that could not run counts as failed.
t_skip() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $(t_name "$1"): $2"
}

# t_cleanup: stop everything this test started; installed as the EXIT trap.
t_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n ${LAB_ID:-} ]]; then
		lab_stop_loader 2>/dev/null || true
		lab_down 2>/dev/null || true
	fi
	exit "$rc"
}

# t_on_err: a setup step failed (errexit is about to end the test). To
# the test's own stdout (T_OUT): the trap runs where the command failed,
# maybe inside a function whose output goes to /dev/null.
t_on_err() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $(t_name setup): '$BASH_COMMAND' failed (${BASH_SOURCE[1]##*/} line ${BASH_LINENO[0]})" >&"${T_OUT:-1}"
}

# t_setup_fail REASON: report a broken setup step and end the test.
t_setup_fail() {
	trap - ERR
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $(t_name setup): $*" | tr '\n' ' '
	echo
	exit 1
}

t_install_traps() {
	exec {T_OUT}>&1
	T_TRAPS=1
	set -E
	trap t_on_err ERR
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# t_json_last LOG KEY: KEY of the last JSON line in LOG.
t_json_last() {
	tail -n 1 "$1" | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# t_labnet ARGS...: labnet.py outside the namespaces (checks, JSON parsing).
t_labnet() { "$LAB_PY" "$LAB_NET_PY" "$@"; }

# t_log_lines FILE: number of lines (0 if missing).
t_log_lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }

# t_wait_settled FILE WANT TIMEOUT_S: until FILE has WANT lines or stops growing.
t_wait_settled() {
	local file=$1 want=$2 tenths=$(($3 * 10)) i n last=-1 still=0
	for ((i = 0; i < tenths; i++)); do
		n=$(t_log_lines "$file")
		((n >= want)) && return 0
		if ((n == last)); then
			still=$((still + 1))
			((still >= 10)) && return 0
		else
			still=0
		fi
		last=$n
		sleep 0.1
	done
}

# t_require_loader: fail the current check when the loader is not running.
t_require_loader() {
	lab_loader_alive && return 0
	tail -n 10 "$LAB_LOADER_LOG" 2>/dev/null || true
	fail "mwan-loader is not running"
}

# ---- shared setup and checks of the dataplane suites ---------------------------------

# t_burst HOST DST BASE WAN...: 200 new UDP flows at once from HOST (ports
# BASE..) to an ident-server at DST, a patient client (it asks again every
# second, for up to 8 s): every flow answered, the server seeing HOST's
# public addresses on exactly WAN....
t_burst() {
	local host=$1 dst=$2 base=$3 out want wan
	shift 3
	out=$(lab_py "$host" udp-burst --dst "$dst" --src "$(lab_host_ip "$host")" \
		--count 200 --base-port "$base" --wait 8) || fail "udp-burst failed: $out"
	want=$(for wan in "$@"; do lab_public "$wan" "$host"; done | paste -sd,)
	t_labnet burst-check --want "$want" <<<"$out" || return 1
}

# make_blob: $BLOB_SIZE random bytes in $LAB_DIR/blob; sets BLOB_SHA.
make_blob() {
	head -c "$BLOB_SIZE" /dev/urandom >"$LAB_DIR/blob"
	# shellcheck disable=SC2034 # read by the suites' checks
	BLOB_SHA=$(sha256sum "$LAB_DIR/blob" | cut -d' ' -f1)
}

# start_capture WAN: tcpdump on the ISP's interface facing the router.
start_capture() {
	lab_bg "cap-$1" "$1" tcpdump -i to-router -n -s 96 -B 8192 -U -Z root \
		-w "$LAB_DIR/$1.pcap"
	lab_wait_log "$LAB_DIR/cap-$1.log" "listening on" 5 "$LAB_BG_PID" ||
		t_setup_fail "tcpdump on $1 did not start: $(tail -n 3 "$LAB_DIR/cap-$1.log")"
}

stop_captures() {
	local wan pid
	for wan in "${LAB_WANS[@]}"; do
		pid=$(cat "$LAB_DIR/cap-$wan.pid")
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# pcap_count WAN FILTER: packets in the WAN link's capture matching FILTER.
pcap_count() {
	tcpdump -r "$LAB_DIR/$1.pcap" -n "${@:2}" 2>/dev/null | wc -l
}

# serve NAME NODE LABNET-ARGS...: a labnet.py server, until it listens.
serve() {
	lab_serve "$@" 2>"$LAB_DIR/serve.err" || t_setup_fail "$(cat "$LAB_DIR/serve.err")"
}

# check_loader_started: after lab_start_loader 2>$LAB_DIR/loader-start.err.
check_loader_started() {
	cat "$LAB_DIR/loader-start.err"
	lab_loader_alive || fail "mwan-loader is not running"
	grep -q "dataplane ready" "$LAB_LOADER_LOG" || fail "no 'dataplane ready' in its log"
	check_attach_modes
}

# check_attach_modes: the loader logged and bpfctl -j status shows this
# kernel, native XDP without libxdp's dispatcher and clsact on every
# interface (veth has native XDP), and each program within the verifier
# budget.
check_attach_modes() {
	local json out ifs=eth3 generic=none wan kernel vlan=${MWAN_LAB_VLAN:-}
	kernel=$(uname -r)
	for wan in "${LAB_WANS[@]}"; do
		# a VLAN device has generic XDP only (MWAN_LAB_VLAN)
		if [[ ${vlan%%:*} == "$wan" ]]; then
			generic=${LAB_WAN_IF[$wan]}
		else
			ifs+=",${LAB_WAN_IF[$wan]}"
		fi
	done
	grep -q "kernel $kernel: XDP single-program, native on eth3 .*, generic on $generic; TC clsact on every interface" "$LAB_LOADER_LOG" ||
		fail "no attach-modes line for kernel $kernel in the log: $(grep 'kernel ' "$LAB_LOADER_LOG")"
	grep -q "kernel $kernel: the verifier processed mwan_xdp [0-9]* ([0-9]* %), " "$LAB_LOADER_LOG" ||
		fail "no verifier line in the log"
	json=$(lab_ctl -j status) || fail "bpfctl -j status failed: $json"
	out=$(t_labnet attach-check --kernel "$kernel" --ifaces "$ifs" <<<"$json") || fail "$out"
	if [[ $generic != none ]]; then
		out+="; "$(t_labnet attach-check --kernel "$kernel" --ifaces "$generic" --xdp-mode generic <<<"$json") ||
			fail "$out"
	fi
	echo "# $out"
}

# check_wan_admin WAN ADMIN STATE: `bpfctl wan WAN ADMIN`, applied by the
# loader (its log says so, bpfctl wrote no map itself); -j status shows them.
check_wan_admin() {
	local json admin state out
	t_require_loader
	out=$(lab_ctl wan "$1" "$2" 2>&1) || fail "bpfctl wan $1 $2 failed: $out"
	[[ $out != *"wrote mwan_admin directly"* ]] || fail "bpfctl wrote the map itself with a loader running: $out"
	grep -q "wan $1: admin $2" "$LAB_LOADER_LOG" ||
		fail "the loader's log does not show 'wan $1: admin $2'"
	json=$(lab_ctl -j status) || fail "bpfctl -j status failed: $json"
	admin=$(t_labnet wan-field "$1" admin <<<"$json") || fail "no WAN $1 in: $json"
	state=$(t_labnet wan-field "$1" state <<<"$json")
	[[ $admin == "$2" && $state == "$3" ]] ||
		fail "$1 has admin=$admin state=$state, want admin=$2 state=$3"
}

# counter NAME: a counter from `bpfctl -j stats`.
counter() {
	local json
	json=$(lab_ctl -j stats) || fail "bpfctl -j stats failed: $json"
	t_labnet counter "$1" <<<"$json" || fail "no counter $1 in: ${json:0:300}"
}

# check_loader_stop RC: after lab_stop_loader (in the main shell) returned RC:
# exit 0, and the dataplane still attached and routing (hitless restart).
check_loader_stop() {
	local rc=$1 left
	((rc != 255)) || fail "mwan-loader was not running"
	((rc == 0)) || fail "mwan-loader exited with status $rc on SIGTERM: $(tail -n 3 "$LAB_LOADER_LOG" | tr '\n' ' ')"
	left=$(lab_attached)
	grep -q "^eth3: prog/xdp" <<<"$left" || fail "no XDP left on the LAN after SIGTERM: $left"
	grep -q "^eth3 tc ingress: .*mwan_tc_in" <<<"$left" || fail "no TC ingress left on the LAN: $left"
	grep -q "^rule: .*fwmark" <<<"$left" || fail "fwmark rules gone after SIGTERM: $left"
}

# check_cleanup_all: --cleanup leaves the router as the lab built it.
check_cleanup_all() {
	local out
	out=$(lab_exec router "$LAB_LOADER" --cleanup -c "$LAB_CFG" 2>&1) || fail "--cleanup failed: $out"
	[[ -z $(lab_attached) ]] || fail "--cleanup left: $(lab_attached)"
	[[ -z $(lab_exec router ip route show table all | grep -E "table 279[0-9][0-9]" || true) ]] ||
		fail "--cleanup left WAN routes: $(lab_exec router ip route show table all | grep -E 'table 279')"
	[[ -z $(find "$LAB_PIN" -maxdepth 1 -name 'mwan_*' 2>/dev/null) ]] || fail "--cleanup left pins: $(ls "$LAB_PIN")"
}

# t_stop_loader_check: stop the loader (main shell), check the dataplane
# stayed, then that --cleanup removes it.
t_stop_loader_check() {
	local rc=255
	if lab_loader_alive; then
		rc=0
		lab_stop_loader 2>>"$LAB_LOADER_LOG" || rc=$?
	fi
	check "mwan-loader exits 0 on SIGTERM and leaves the dataplane forwarding" check_loader_stop "$rc"
	check "mwan-loader --cleanup removes programs, rules, routes and pins" check_cleanup_all
}

# t_main_passes FN: run FN once per fast_path value (MWAN_FAST_PATHS, default
# "true false"), then exit non-zero if any check failed.
t_main_passes() {
	local fast
	t_install_traps
	for fast in ${MWAN_FAST_PATHS:-true false}; do
		"$1" "$fast"
	done
	exit $((T_FAILED > 0))
}
