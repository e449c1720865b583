#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The mwan lab in network namespaces: `lab.sh up|down|status ID [FAST_PATH]`, or source it for lab_* functions.
set -euo pipefail

LAB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_LOADER=${MWAN_LOADER:-$LAB_REPO/build/mwan-loader}
LAB_BPFCTL=${MWAN_BPFCTL:-$LAB_REPO/build/bpfctl}
LAB_PY=/usr/bin/python3 # Debian's python (scapy etc.), not a pyenv one on PATH
LAB_NET_PY=$LAB_REPO/scripts/labnet.py

# The seed's table: LAN hosts and their public address on each WAN.
LAB_HOSTS=(h2 h3 h4 h5 h6)
LAB_WANS=(att webpass)
LAB_LAN_NET=10.250.250.0/29
LAB_ROUTER_LAN=10.250.250.1
LAB_SERVER=192.0.2.10
LAB_PROBE=192.0.2.1
declare -A LAB_WAN_IF=([att]=eth1 [webpass]=eth2)
declare -A LAB_WAN_GW=([att]=100.64.1.1 [webpass]=100.64.2.1)
declare -A LAB_WAN_NET=([att]=198.51.100.192/27 [webpass]=203.0.113.240/28)
declare -A LAB_WAN_INET_IF=([att]=to-att [webpass]=to-webpass) # inet's side
# Every address an ISP router owns (the hops traceroute may show).
# shellcheck disable=SC2034 # used by the scripts that source this one
LAB_ISP_ADDRS=(100.64.1.1 100.64.2.1 100.127.0.1 100.127.0.5)

# Set the lab's identity; every other function uses these variables.
lab_init() {
	LAB_ID=${1:-$$}
	LAB_PREFIX=mwan${LAB_ID}-
	LAB_DIR=/run/mwan-lab-$LAB_ID
	LAB_PIN=$LAB_DIR/bpf
	LAB_CFG=$LAB_DIR/mwan.yaml
	LAB_LOADER_LOG=$LAB_DIR/loader.log
	LAB_LOADER_PID=
}

lab_ns() { echo "${LAB_PREFIX}$1"; }
lab_nodes() { echo router lan "${LAB_HOSTS[@]}" att webpass inet; }
lab_exec() {
	local node=$1
	shift
	ip netns exec "$(lab_ns "$node")" "$@"
}
lab_host_ip() { echo "10.250.250.${1#h}"; }

# lab_public WAN HOST: the host's public address on that WAN.
lab_public() {
	local n=${2#h}
	case $1 in
	att) echo "198.51.100.$((191 + n))" ;;
	webpass) echo "203.0.113.$((239 + n))" ;;
	*) return 1 ;;
	esac
}

# lab_nat_args: the seed's table as labnet.py --nat arguments, one a line.
lab_nat_args() {
	local h w
	for h in "${LAB_HOSTS[@]}"; do
		for w in "${LAB_WANS[@]}"; do
			echo "$(lab_host_ip "$h"):$w:$(lab_public "$w" "$h")"
		done
	done
}

lab_sysctl() {
	local node=$1 kv
	shift
	for kv in "$@"; do
		lab_exec "$node" sysctl -qw "$kv" >/dev/null
	done
}

# lab_link NODE1 IF1 NODE2 IF2 [MTU]: a veth pair between two namespaces.
lab_link() {
	ip link add "$2" netns "$(lab_ns "$1")" mtu "${5:-1500}" type veth \
		peer name "$4" netns "$(lab_ns "$3")" mtu "${5:-1500}"
	lab_exec "$1" ip link set "$2" up
	lab_exec "$3" ip link set "$4" up
}

# lab_addr NODE IF ADDR...: IPv4 and IPv6 addresses (no DAD delay).
lab_addr() {
	local node=$1 ifname=$2 a
	shift 2
	for a in "$@"; do
		if [[ $a == *:* ]]; then
			lab_exec "$node" ip addr add "$a" dev "$ifname" nodad
		else
			lab_exec "$node" ip addr add "$a" dev "$ifname"
		fi
	done
}

lab_route() {
	local node=$1
	shift
	lab_exec "$node" ip route add "$@"
}

lab_ethtool() {
	local node=$1
	shift
	lab_exec "$node" ethtool -K "$@" >/dev/null
}

lab_make_namespaces() {
	local node
	for node in $(lab_nodes); do
		ip netns add "$(lab_ns "$node")"
		lab_exec "$node" ip link set lo up
		lab_sysctl "$node" net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
			net.ipv6.icmp.ratelimit=0
	done
}

lab_setup_router() {
	local ifn
	lab_sysctl router net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.fwmark_reflect=1 net.ipv6.fwmark_reflect=1
	lab_addr router eth1 100.64.1.2/30 2001:db8:a::2/64
	lab_addr router eth2 100.64.2.2/30 2001:db8:b::2/64
	lab_addr router eth3 10.250.250.1/29 3d06:bad:b01:fe::1/64
	for ifn in eth1 eth2 eth3; do
		lab_sysctl router "net.ipv4.conf.$ifn.rp_filter=0"
	done
	# The router's own traffic; mwan installs its own per-WAN tables.
	lab_route router default via 100.64.1.1
}

lab_setup_lan() {
	local h
	lab_exec lan ip link add br0 type bridge stp_state 0 mcast_snooping 0
	lab_exec lan ip link set br0 up
	lab_link router eth3 lan p-router
	lab_exec lan ip link set p-router master br0
	lab_ethtool lan p-router gro on tx off
	for h in "${LAB_HOSTS[@]}"; do
		lab_link "$h" eth0 lan "p-$h"
		lab_exec lan ip link set "p-$h" master br0
		lab_addr "$h" eth0 "$(lab_host_ip "$h")/29" "3d06:bad:b01:fe::${h#h}/64"
		lab_route "$h" default via "$LAB_ROUTER_LAN"
		lab_exec "$h" ip -6 route add default via 3d06:bad:b01:fe::1
		lab_ethtool "$h" eth0 tx off
	done
}

# lab_setup_isp WAN N: ISP router N (1 att, 2 webpass) between mwan and inet.
lab_setup_isp() {
	local isp=$1 n=$2 inet_v4 inet_isp
	local hex=${isp:0:1} # a / w: keeps the IPv6 link prefixes apart
	[[ $hex == w ]] && hex=b
	inet_isp=100.127.0.$((4 * n - 3))
	inet_v4=100.127.0.$((4 * n - 2))
	lab_link router "${LAB_WAN_IF[$isp]}" "$isp" to-router
	lab_link "$isp" to-inet inet "${LAB_WAN_INET_IF[$isp]}" 1400
	# ISP routers check sources (BCP 38) and send ICMP errors as usual.
	lab_sysctl "$isp" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
	lab_addr "$isp" to-router "${LAB_WAN_GW[$isp]}/30" "2001:db8:$hex::1/64"
	lab_addr "$isp" to-inet "$inet_isp/30" "2001:db8:f$hex::1/64"
	lab_addr inet "${LAB_WAN_INET_IF[$isp]}" "$inet_v4/30" "2001:db8:f$hex::2/64"
	lab_route "$isp" "${LAB_WAN_NET[$isp]}" via "100.64.$n.2"
	lab_route "$isp" 192.0.2.0/24 via "$inet_v4"
	lab_exec "$isp" ip -6 route add "2001:db8:${hex}0:${n}00::/56" via "2001:db8:$hex::2"
	lab_exec "$isp" ip -6 route add 2001:db8:ffff::/48 via "2001:db8:f$hex::2"
	lab_route inet "${LAB_WAN_NET[$isp]}" via "$inet_isp"
	lab_route inet "100.64.$n.0/30" via "$inet_isp"
	lab_exec inet ip -6 route add "2001:db8:${hex}0:${n}00::/56" via "2001:db8:f$hex::1"
	lab_sysctl inet "net.ipv4.conf.${LAB_WAN_INET_IF[$isp]}.rp_filter=1"
	# XDP_REDIRECT into a veth needs NAPI (GRO or XDP) on the peer; senders
	# into the router put complete checksums on the wire.
	lab_ethtool "$isp" to-router gro on tx off
	lab_ethtool inet "${LAB_WAN_INET_IF[$isp]}" tx off
}

lab_setup_inet() {
	lab_sysctl inet net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 \
		net.ipv4.conf.default.rp_filter=1
	# No dummy module on every kernel: the server addresses live on lo.
	lab_addr inet lo "$LAB_SERVER/32" "$LAB_PROBE/32" 2001:db8:ffff::10/128 2001:db8:ffff::1/128
}

lab_mount_bpffs() {
	mkdir -p "$LAB_PIN" "$LAB_DIR/run"
	if ! mountpoint -q "$LAB_PIN"; then
		mount -t bpf bpf "$LAB_PIN"
	fi
}

# lab_write_config FAST_PATH [FILE]: the lab's mwan.yaml.
lab_write_config() {
	local fast=${1:-true} file=${2:-$LAB_CFG} h
	{
		echo "# mwan lab $LAB_ID (written by scripts/lab.sh)"
		echo "pin_dir: $LAB_PIN"
		echo "run_dir: $LAB_DIR/run"
		echo "fast_path: $fast"
		echo
		echo "lan:"
		echo "  interface: eth3"
		echo "  ipv4: $LAB_LAN_NET"
		echo
		echo "wans:"
		echo "  att:"
		echo "    interface: eth1"
		echo "    gateway4: 100.64.1.1"
		echo "    weight: 3"
		echo "    tier: 1"
		echo "  webpass:"
		echo "    interface: eth2"
		echo "    gateway4: 100.64.2.1"
		echo "    weight: 1"
		echo
		echo "nat:"
		for h in "${LAB_HOSTS[@]}"; do
			echo "  - internal: $(lab_host_ip "$h")"
			echo "    external: { att: $(lab_public att "$h"), webpass: $(lab_public webpass "$h") }"
		done
	} >"$file"
}

lab_exists() { [[ -e /run/netns/$(lab_ns router) ]]; }

# lab_up [FAST_PATH]: build the whole topology (after lab_init).
lab_up() {
	if lab_exists; then
		echo "lab $LAB_ID already exists" >&2
		return 1
	fi
	lab_make_namespaces
	lab_setup_inet
	lab_setup_isp att 1
	lab_setup_isp webpass 2
	lab_setup_lan
	lab_setup_router
	lab_mount_bpffs
	lab_write_config "${1:-${MWAN_FAST_PATH:-true}}"
}

# lab_kill_ns_procs SIGNAL: signal every process living in the lab's namespaces.
lab_kill_ns_procs() {
	local node ns pid
	for node in $(lab_nodes); do
		ns=$(lab_ns "$node")
		[[ -e /run/netns/$ns ]] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "-$1" "$pid" 2>/dev/null || true
		done
	done
}

lab_any_ns_procs() {
	local node ns
	for node in $(lab_nodes); do
		ns=$(lab_ns "$node")
		[[ -e /run/netns/$ns ]] || continue
		[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || return 0
	done
	return 1
}

# lab_down: remove everything lab_up made; tolerant of partial state.
lab_down() {
	local node i
	lab_kill_ns_procs TERM
	for ((i = 0; i < 50; i++)); do
		lab_any_ns_procs || break
		sleep 0.1
	done
	lab_kill_ns_procs KILL
	for node in $(lab_nodes); do
		ip netns del "$(lab_ns "$node")" 2>/dev/null || true
	done
	if mountpoint -q "$LAB_PIN" 2>/dev/null; then
		umount "$LAB_PIN" 2>/dev/null || umount -l "$LAB_PIN" || true
	fi
	rm -rf "$LAB_DIR"
}

# lab_wait_log FILE PATTERN TIMEOUT_S [PID]: wait for a line; fail early if PID dies.
lab_wait_log() {
	local file=$1 pattern=$2 tenths=$(($3 * 10)) pid=${4:-} i
	for ((i = 0; i < tenths; i++)); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			grep -q -- "$pattern" "$file" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# lab_bg NAME NODE CMD...: run CMD in NODE in the background, log to
# $LAB_DIR/NAME.log; sets LAB_BG_PID.
lab_bg() {
	local name=$1 node=$2
	shift 2
	# A plain command (not a function): the background child just execs it.
	ip netns exec "$(lab_ns "$node")" "$@" >"$LAB_DIR/$name.log" 2>&1 &
	LAB_BG_PID=$!
	echo "$LAB_BG_PID" >"$LAB_DIR/$name.pid"
}

# lab_serve NAME NODE LABNET-ARGS...: a labnet.py server in the background,
# waiting until it listens.
lab_serve() {
	local name=$1 node=$2
	shift 2
	lab_bg "$name" "$node" "$LAB_PY" "$LAB_NET_PY" "$@"
	if ! lab_wait_log "$LAB_DIR/$name.log" "listening" 5 "$LAB_BG_PID"; then
		echo "$name server did not start: $(tail -n 3 "$LAB_DIR/$name.log")" >&2
		return 1
	fi
}

# lab_py NODE ARGS...: the lab's traffic helper inside NODE.
lab_py() {
	local node=$1
	shift
	lab_exec "$node" "$LAB_PY" "$LAB_NET_PY" "$@"
}

# lab_start_loader [CONFIG]: mwan-loader in the router namespace, until ready.
lab_start_loader() {
	local cfg=${1:-$LAB_CFG}
	if [[ ! -x $LAB_LOADER ]]; then
		echo "no loader at $LAB_LOADER (run make)" >&2
		return 1
	fi
	ip netns exec "$(lab_ns router)" "$LAB_LOADER" -c "$cfg" >"$LAB_LOADER_LOG" 2>&1 &
	LAB_LOADER_PID=$!
	echo "$LAB_LOADER_PID" >"$LAB_DIR/loader.pid"
	if ! lab_wait_log "$LAB_LOADER_LOG" "dataplane ready" 10 "$LAB_LOADER_PID"; then
		echo "mwan-loader not ready after 10 s; log tail:" >&2
		tail -n 20 "$LAB_LOADER_LOG" | sed 's/^/  | /' >&2
		return 1
	fi
}

lab_loader_alive() {
	[[ -n ${LAB_LOADER_PID:-} ]] && kill -0 "$LAB_LOADER_PID" 2>/dev/null
}

# lab_stop_loader: SIGTERM and wait (10 s, then SIGKILL); returns its exit status.
lab_stop_loader() {
	local pid=${LAB_LOADER_PID:-} i rc=0
	[[ -n $pid ]] || return 0
	LAB_LOADER_PID=
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "mwan-loader ignored SIGTERM for 10 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	rm -f "$LAB_DIR/loader.pid"
	return "$rc"
}

# lab_ctl ARGS...: bpfctl against the lab's loader.
lab_ctl() {
	lab_exec router "$LAB_BPFCTL" -c "$LAB_CFG" "$@"
}

# lab_attached: print whatever mwan left on the router (XDP, TC filters, fwmark rules).
lab_attached() {
	local ifn dir
	for ifn in eth1 eth2 eth3; do
		lab_exec router ip link show "$ifn" | grep -o 'xdp[a-z]*\|prog/xdp id [0-9]*' |
			sed "s/^/$ifn: /" || true
		for dir in ingress egress; do
			lab_exec router tc filter show dev "$ifn" "$dir" 2>/dev/null |
				sed "s/^/$ifn tc $dir: /" || true
		done
	done
	lab_exec router ip rule show | grep fwmark | sed 's/^/rule: /' || true
}

lab_usage() {
	cat <<EOF
usage: lab.sh up [ID] [FAST_PATH]   build the lab (ID defaults to the shell's pid)
       lab.sh down ID               remove it
       lab.sh status ID             namespaces, config and what mwan attached
sourced: lab_init ID; lab_up; lab_start_loader; lab_ctl status; lab_exec h2 ping ...; lab_down
EOF
}

lab_print_summary() {
	echo "lab $LAB_ID is up"
	echo "  namespaces: $(for n in $(lab_nodes); do printf '%s ' "$(lab_ns "$n")"; done)"
	echo "  config:     $LAB_CFG (pins in $LAB_PIN)"
	echo "  loader:     ip netns exec $(lab_ns router) $LAB_LOADER -c $LAB_CFG"
	echo "  bpfctl:     ip netns exec $(lab_ns router) $LAB_BPFCTL -c $LAB_CFG status"
	echo "  tear down:  $LAB_REPO/scripts/lab.sh down $LAB_ID"
}

lab_main() {
	local cmd=${1:-}
	case $cmd in
	up)
		lab_init "${2:-$$}"
		if lab_exists; then
			echo "lab $LAB_ID already exists" >&2
			return 1
		fi
		trap 'lab_down' EXIT # a failed step (set -e) leaves nothing behind
		lab_up "${3:-${MWAN_FAST_PATH:-true}}"
		trap - EXIT
		lab_print_summary
		;;
	down)
		[[ -n ${2:-} ]] || {
			lab_usage >&2
			return 2
		}
		lab_init "$2"
		lab_down
		;;
	status)
		lab_init "${2:?lab ID}"
		ip netns list | grep "^$LAB_PREFIX" || echo "no namespaces"
		[[ -f $LAB_CFG ]] && cat "$LAB_CFG"
		lab_attached
		;;
	*)
		lab_usage >&2
		return 2
		;;
	esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	lab_main "$@"
fi
