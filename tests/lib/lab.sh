#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The mwan lab in network namespaces: `lab.sh up|down|status ID [FAST_PATH]`, or source it for lab_* functions.
set -euo pipefail

LAB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_LOADER=${MWAN_LOADER:-$LAB_REPO/build/mwan-loader}
LAB_BPFCTL=${MWAN_BPFCTL:-$LAB_REPO/build/bpfctl}
LAB_PY=/usr/bin/python3 # Debian's python (scapy etc.), not a pyenv one on PATH
LAB_NET_PY=$LAB_REPO/tests/lib/labnet.py

# The seed's table: LAN hosts and their public address on each WAN. The
# optional third WAN, mb (Monkeybrains-like: tier 2, failover only), joins
# LAB_WANS when lab_init sees LAB_MB=1 or MWAN_LAB_MB=1.
LAB_HOSTS=(h2 h3 h4 h5 h6)
LAB_WANS=(att webpass)
LAB_ALL_WANS=(att webpass mb)
LAB_LAN_NET=10.250.250.0/29
LAB_ROUTER_LAN=10.250.250.1
LAB_SERVER=192.0.2.10
LAB_PROBE=192.0.2.1
declare -A LAB_WAN_N=([att]=1 [webpass]=2 [mb]=3) # ISP N; WAN link 100.64.N.0/30, router .2
declare -A LAB_WAN_IF=([att]=eth1 [webpass]=eth2 [mb]=eth4)
declare -A LAB_WAN_GW=([att]=100.64.1.1 [webpass]=100.64.2.1 [mb]=100.64.3.1)
declare -A LAB_WAN_NET=([att]=198.51.100.192/27 [webpass]=203.0.113.240/28 [mb]=203.0.113.96/28)
declare -A LAB_WAN_INET_IF=([att]=to-att [webpass]=to-webpass [mb]=to-mb) # inet's side
declare -A LAB_WAN_WEIGHT=([att]=3 [webpass]=1 [mb]=1)
declare -A LAB_WAN_TIER=([att]=1 [webpass]=1 [mb]=2)
# IPv6: the internal prefix mwan translates (NPTv6), each WAN link, each
# ISP's delegation range (routed to the router) and what its DHCPv6 server
# delegates first; the router's external /64 is subnet LAB_NPT_SUBNET of it.
LAB_LAN_NET6=3d06:bad:b01:fe::/64
LAB_ROUTER_LAN6=3d06:bad:b01:fe::1
LAB_SERVER6=2001:db8:ffff::10
LAB_PROBE6=2001:db8:ffff::1
LAB_NPT_SUBNET=0xfe
declare -A LAB_WAN_GW6=([att]=2001:db8:a::1 [webpass]=2001:db8:b::1 [mb]=2001:db8:c::1)
declare -A LAB_WAN_ADDR6=([att]=2001:db8:a::2 [webpass]=2001:db8:b::2 [mb]=2001:db8:c::2)
declare -A LAB_WAN_POOL6=([att]=2001:db8:a0::/48 [webpass]=2001:db8:b0::/48 [mb]=2001:db8:c0::/48)
declare -A LAB_WAN_PD=([att]=2001:db8:a0:100::/56 [webpass]=2001:db8:b0:200::/56 [mb]=2001:db8:c0:300::/56)
# Every address an ISP router owns (the hops traceroute may show; lab_init
# sets it for the WANs in use).
# shellcheck disable=SC2034 # used by the scripts that source this one
LAB_ISP_ADDRS=(100.64.1.1 100.64.2.1 100.127.0.1 100.127.0.5)
# Probe targets per WAN when the config has probes (lab_write_config -p/-k);
# unset: LAB_PROBE and LAB_PROBE6.
declare -A LAB_PROBE_TARGETS=()

# Set the lab's identity; every other function uses these variables.
lab_init() {
	LAB_ID=${1:-$$}
	LAB_PREFIX=mwan${LAB_ID}-
	LAB_DIR=/run/mwan-lab-$LAB_ID
	LAB_PIN=$LAB_DIR/bpf
	LAB_CFG=$LAB_DIR/mwan.yaml
	LAB_LOADER_LOG=$LAB_DIR/loader.log
	LAB_LOADER_PID=
	LAB_WANS=(att webpass)
	if [[ ${LAB_MB:-${MWAN_LAB_MB:-0}} == 1 || -e /run/netns/$(lab_ns mb) ]]; then
		LAB_WANS+=(mb)
	fi
	local wan n
	LAB_ISP_ADDRS=()
	for wan in "${LAB_WANS[@]}"; do
		n=${LAB_WAN_N[$wan]}
		LAB_ISP_ADDRS+=("${LAB_WAN_GW[$wan]}" "100.127.0.$((4 * n - 3))")
	done
}

lab_ns() { echo "${LAB_PREFIX}$1"; }
lab_nodes() { echo router lan "${LAB_HOSTS[@]}" "${LAB_WANS[@]}" inet; }
# Every namespace a lab may have, whichever WANs it was built with (guest:
# a second LAN's hosts, made by tests/lab/test_topology.sh).
lab_all_nodes() { echo router lan "${LAB_HOSTS[@]}" "${LAB_ALL_WANS[@]}" inet guest; }
lab_exec() {
	local node=$1
	shift
	ip netns exec "$(lab_ns "$node")" "$@"
}
lab_host_ip() { echo "10.250.250.${1#h}"; }
lab_host_ip6() { echo "${LAB_LAN_NET6%::/*}::${1#h}"; }

# lab_public WAN HOST: the host's public address on that WAN.
lab_public() {
	local n=${2#h}
	case $1 in
	att) echo "198.51.100.$((191 + n))" ;;
	webpass) echo "203.0.113.$((239 + n))" ;;
	mb) echo "203.0.113.$((96 + n))" ;;
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
		# No DAD anywhere: addresses (link-local ones too) are usable at once.
		lab_sysctl "$node" net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
			net.ipv6.icmp.ratelimit=0 net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
}

# lab_router_if IF: what every router interface gets.
lab_router_if() {
	# the slash form: a VLAN device's name (eth3.10) has a dot
	lab_sysctl router "net/ipv4/conf/$1/rp_filter=0" "net/ipv6/conf/$1/accept_ra=0"
}

# lab_setup_router: after lab_setup_isp (the WAN links) and lab_setup_lan.
lab_setup_router() {
	lab_sysctl router net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.fwmark_reflect=1 net.ipv6.fwmark_reflect=1
	lab_addr router eth3 "$LAB_ROUTER_LAN/29" "$LAB_ROUTER_LAN6/64"
	lab_router_if eth3
	# The router's own traffic; mwan installs its own per-WAN tables.
	lab_route router default via 100.64.1.1
	lab_route router default via "${LAB_WAN_GW6[att]}"
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
		lab_addr "$h" eth0 "$(lab_host_ip "$h")/29" "$(lab_host_ip6 "$h")/64"
		lab_route "$h" default via "$LAB_ROUTER_LAN"
		lab_route "$h" default via "$LAB_ROUTER_LAN6"
		lab_ethtool "$h" eth0 tx off
	done
}

# lab_wan_l2 WAN: the router's WAN interface and its ISP's to-router, a
# veth pair; with MWAN_LAB_VLAN=WAN:ID (802.1Q, 8021q module) both are VLAN
# ID devices over a veth "trunk", as on an ISP that tags its service.
lab_wan_l2() {
	local wan=$1 ifn=${LAB_WAN_IF[$1]} spec=${MWAN_LAB_VLAN:-}
	if [[ ${spec%%:*} != "$wan" ]]; then
		lab_link router "$ifn" "$wan" to-router
		return
	fi
	lab_link router "$ifn-trunk" "$wan" trunk
	lab_exec router ip link add link "$ifn-trunk" name "$ifn" type vlan id "${spec#*:}"
	lab_exec "$wan" ip link add link trunk name to-router type vlan id "${spec#*:}"
	lab_exec router ip link set "$ifn" up
	lab_exec "$wan" ip link set to-router up
	lab_ethtool "$wan" trunk gro on tx off
}

# lab_wan_link WAN: the link between the router's WAN interface and its
# ISP, with its addresses, sysctls and the ISP's routes to the router's
# blocks (lab_setup_isp; also re-creates a WAN interface that was deleted).
lab_wan_link() {
	local wan=$1 ifn=${LAB_WAN_IF[$1]} addr=100.64.${LAB_WAN_N[$1]}.2
	lab_wan_l2 "$wan"
	lab_addr router "$ifn" "$addr/30" "${LAB_WAN_ADDR6[$wan]}/64"
	lab_router_if "$ifn"
	lab_addr "$wan" to-router "${LAB_WAN_GW[$wan]}/30" "${LAB_WAN_GW6[$wan]}/64"
	lab_route "$wan" "${LAB_WAN_NET[$wan]}" via "$addr"
	# Whatever the ISP delegates lies in its range, routed to the router.
	lab_route "$wan" "${LAB_WAN_POOL6[$wan]}" via "${LAB_WAN_ADDR6[$wan]}"
	# XDP_REDIRECT into a veth needs NAPI (GRO or XDP) on the peer; senders
	# into the router put complete checksums on the wire.
	lab_ethtool "$wan" to-router gro on tx off
}

# lab_setup_isp WAN: ISP router N (LAB_WAN_N) between mwan and inet; its
# link to inet has MTU 1400 (ICMP Frag needed / Packet Too Big).
lab_setup_isp() {
	local isp=$1 n=${LAB_WAN_N[$1]} inet_v4 inet_isp isp6 inet6 link6
	inet_isp=100.127.0.$((4 * n - 3))
	inet_v4=100.127.0.$((4 * n - 2))
	link6=${LAB_WAN_GW6[$isp]%::*}::/64 # the WAN link: 2001:db8:a::/64
	isp6=${LAB_WAN_GW6[$isp]%::*}f::1    # ISP <-> inet: 2001:db8:af::/64
	inet6=${isp6%1}2
	# ISP routers check sources (BCP 38) and send ICMP errors as usual.
	lab_sysctl "$isp" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1
	lab_wan_link "$isp"
	lab_link "$isp" to-inet inet "${LAB_WAN_INET_IF[$isp]}" 1400
	lab_addr "$isp" to-inet "$inet_isp/30" "$isp6/64"
	lab_addr inet "${LAB_WAN_INET_IF[$isp]}" "$inet_v4/30" "$inet6/64"
	lab_route "$isp" 192.0.2.0/24 via "$inet_v4"
	lab_route "$isp" 2001:db8:ffff::/48 via "$inet6"
	lab_route inet "${LAB_WAN_NET[$isp]}" via "$inet_isp"
	lab_route inet "100.64.$n.0/30" via "$inet_isp"
	lab_route inet "${LAB_WAN_POOL6[$isp]}" via "$isp6"
	lab_route inet "$link6" via "$isp6"
	lab_sysctl inet "net.ipv4.conf.${LAB_WAN_INET_IF[$isp]}.rp_filter=1"
	lab_ethtool inet "${LAB_WAN_INET_IF[$isp]}" tx off
}

lab_setup_inet() {
	lab_sysctl inet net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 \
		net.ipv4.conf.default.rp_filter=1
	# No dummy module on every kernel: the server addresses live on lo.
	lab_addr inet lo "$LAB_SERVER/32" "$LAB_PROBE/32" "$LAB_SERVER6/128" "$LAB_PROBE6/128"
}

lab_mount_bpffs() {
	mkdir -p "$LAB_PIN" "$LAB_DIR/run"
	if ! mountpoint -q "$LAB_PIN"; then
		mount -t bpf bpf "$LAB_PIN"
	fi
}

# lab_wan_config WAN [PROBE_KEY...]: its entry in mwan.yaml (external IPv6
# prefix from prefix delegation: no static npt.prefix). With PROBE_KEYs
# ("hold_down_s: 3"; "-" for none but the targets) it probes
# LAB_PROBE_TARGETS[WAN], by default LAB_PROBE and LAB_PROBE6.
lab_wan_config() {
	local wan=$1 key
	shift
	echo "  $wan:"
	echo "    interface: ${LAB_WAN_IF[$wan]}"
	echo "    gateway4: ${LAB_WAN_GW[$wan]}"
	echo "    gateway6: ${LAB_WAN_GW6[$wan]}"
	echo "    weight: ${LAB_WAN_WEIGHT[$wan]}"
	echo "    tier: ${LAB_WAN_TIER[$wan]}"
	echo "    npt: { subnet: $LAB_NPT_SUBNET }"
	(($#)) || return 0
	echo "    probe:"
	echo "      targets: [${LAB_PROBE_TARGETS[$wan]:-$LAB_PROBE, $LAB_PROBE6}]"
	for key in "$@"; do
		[[ $key == - ]] || echo "      $key"
	done
}

# lab_write_config [-p] [-k 'KEY: VALUE']... FAST_PATH [FILE]: the lab's
# mwan.yaml; -p: every WAN probes (lab_wan_config), -k: with that probe
# key too (implies -p).
lab_write_config() {
	local opt keys=() OPTIND=1 fast file h w ext
	while getopts pk: opt; do
		case $opt in
		p) keys+=(-) ;;
		k) keys+=("$OPTARG") ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	fast=${1:-true} file=${2:-$LAB_CFG}
	{
		echo "# mwan lab $LAB_ID (written by tests/lib/lab.sh)"
		echo "pin_dir: $LAB_PIN"
		echo "run_dir: $LAB_DIR/run"
		echo "fast_path: $fast"
		echo
		echo "lan:"
		echo "  interface: eth3"
		echo "  ipv4: $LAB_LAN_NET"
		echo "  ipv6: $LAB_LAN_NET6"
		echo
		echo "wans:"
		for w in "${LAB_WANS[@]}"; do lab_wan_config "$w" "${keys[@]}"; done
		echo
		echo "nat:"
		for h in "${LAB_HOSTS[@]}"; do
			ext=
			for w in "${LAB_WANS[@]}"; do ext+="${ext:+, }$w: $(lab_public "$w" "$h")"; done
			echo "  - internal: $(lab_host_ip "$h")"
			echo "    external: { $ext }"
		done
	} >"$file"
}

# ---- upstream faults: nftables tables named mwanlab_* in the ISPs and inet ----

# lab_nft NODE TABLE 'HOOK RULE'...: add each RULE to the filter chain on
# HOOK (named after it) of inet TABLE in NODE, all in one transaction.
lab_nft() {
	local node=$1 table=$2 hook r
	shift 2
	{
		echo "table inet $table {"
		for hook in $(printf '%s\n' "$@" | cut -d' ' -f1 | sort -u); do
			echo "  chain $hook { type filter hook $hook priority -10; policy accept; }"
		done
		echo "}"
		for r in "$@"; do echo "add rule inet $table $r"; done
	} | lab_exec "$node" nft -f -
}

# lab_nft_del NODE TABLE: remove a table lab_nft made (if it is there).
lab_nft_del() {
	lab_exec "$1" nft delete table inet "$2" 2>/dev/null || true
}

# lab_blackhole WAN: WAN's ISP drops everything from and to the router
# (forwarded, and addressed to itself) but still answers ARP and ND: the
# link stays up, the upstream is dead. lab_unblackhole WAN undoes it.
lab_blackhole() {
	lab_nft "$1" mwanlab_blackhole "forward iifname to-router drop" "forward oifname to-router drop" \
		"input iifname to-router icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept" \
		"input iifname to-router drop"
}

lab_unblackhole() { lab_nft_del "$1" mwanlab_blackhole; }

# lab_echo_fault WAN TARGET PERCENT: inet drops PERCENT % (at random; 100:
# all) of the echo requests to TARGET (an address, or "all") that arrive
# from WAN's ISP. lab_echo_clear WAN removes every such rule for WAN.
lab_echo_fault() {
	local iif=${LAB_WAN_INET_IF[$1]} verdict=drop m matches rules=()
	(($3 >= 100)) || verdict="numgen random mod 100 < $3 drop"
	case $2 in
	all) matches=("icmp type echo-request" "icmpv6 type echo-request") ;;
	*:*) matches=("ip6 daddr $2 icmpv6 type echo-request") ;;
	*) matches=("ip daddr $2 icmp type echo-request") ;;
	esac
	for m in "${matches[@]}"; do rules+=("input iifname $iif $m $verdict"); done
	lab_nft inet "mwanlab_echo_$1" "${rules[@]}"
}

lab_echo_clear() { lab_nft_del inet "mwanlab_echo_$1"; }

# lab_faults_clear: remove every fault from the ISPs and inet.
lab_faults_clear() {
	local node table
	for node in "${LAB_WANS[@]}" inet; do
		for table in $({ lab_exec "$node" nft list tables 2>/dev/null || true; } |
			sed -n 's/^table inet \(mwanlab_[a-z_]*\)$/\1/p'); do
			lab_nft_del "$node" "$table"
		done
	done
}

# ---- DHCPv6 prefix delegation: kea-dhcp6 in each ISP, dhcpcd on the router ----
# Every file either daemon writes lives under $LAB_DIR; lab_down kills them.

lab_kea_dir() { echo "$LAB_DIR/kea-$1"; }

# lab_kea_config WAN PREFIX/LEN [VALID]: the ISP's kea-dhcp6 config,
# delegating exactly PREFIX/LEN to the one client on its router-facing link
# for VALID seconds (default 4000; renew after 1/4, rebind after 1/2).
lab_kea_config() {
	local wan=$1 pd=$2 v=${3:-4000} dir
	dir=$(lab_kea_dir "$wan")
	cat >"$dir/kea-dhcp6.conf" <<EOF
{ "Dhcp6": {
    "interfaces-config": { "interfaces": [ "to-router" ] },
    "data-directory": "$dir",
    "server-id": { "type": "LL", "persist": false },
    "lease-database": { "type": "memfile", "name": "$dir/leases6.csv", "lfc-interval": 0 },
    "renew-timer": $((v / 4)), "rebind-timer": $((v / 2)),
    "preferred-lifetime": $((v * 3 / 4)), "valid-lifetime": $v,
    "subnet6": [ {
        "id": 1, "subnet": "${LAB_WAN_GW6[$wan]%::*}::/64", "interface": "to-router",
        "pd-pools": [ { "prefix": "${pd%/*}", "prefix-len": ${pd#*/}, "delegated-len": ${pd#*/} } ]
    } ],
    "loggers": [ { "name": "kea-dhcp6", "severity": "INFO",
                   "output_options": [ { "output": "stdout" } ] } ]
} }
EOF
}

# lab_start_kea WAN PREFIX/LEN [VALID]: kea-dhcp6 in the ISP's namespace,
# until it serves. Its pid, lock, server-id and lease files stay in its
# directory.
lab_start_kea() {
	local wan=$1 dir log
	dir=$(lab_kea_dir "$wan")
	log=$dir/kea.log
	mkdir -p "$dir"
	lab_kea_config "$wan" "$2" "${3:-}"
	ip netns exec "$(lab_ns "$wan")" env KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
		kea-dhcp6 -c "$dir/kea-dhcp6.conf" >>"$log" 2>&1 &
	echo $! >"$dir/pid"
	if ! lab_wait_log "$log" DHCP6_STARTED 10 $!; then
		echo "kea-dhcp6 for $wan did not start: $(tail -n 3 "$log")" >&2
		return 1
	fi
}

# lab_stop_kea WAN: SIGTERM, and wait until it is gone.
lab_stop_kea() {
	local pidfile
	pidfile=$(lab_kea_dir "$1")/pid
	[[ -f $pidfile ]] || return 0
	lab_kill_wait "$(cat "$pidfile")" || echo "kea-dhcp6 for $1 ignored SIGTERM; killed it" >&2
	rm -f "$pidfile"
}

# lab_kea_delegate WAN PREFIX/LEN [VALID]: the ISP now delegates PREFIX
# instead (a restart with the new pool; the client learns it when it
# renews: kea then hands out PREFIX and the old one with lifetime 0).
lab_kea_delegate() {
	lab_stop_kea "$1"
	lab_start_kea "$@"
}

lab_dhcpcd_dir() { echo "$LAB_DIR/dhcpcd"; }

# lab_dhcpcd_files: dhcpcd's config, IPv6-only, one IA_PD per WAN delegated
# to no interface (mwan translates, nothing is assigned), and the script
# it runs: it logs each run (reason, time, the ia_pd variables) and hands
# over to mwan's hook with the lab's config and bpfctl.
lab_dhcpcd_files() {
	local dir wan i=0
	dir=$(lab_dhcpcd_dir)
	mkdir -p "$dir/db" "$dir/run"
	{
		echo "# dhcpcd for mwan lab $LAB_ID (written by tests/lib/lab.sh)"
		echo "script $dir/hook"
		printf '%s\n' nodev ipv6only noipv6rs nodelay "duid" "reboot 0" "timeout 0"
		echo "allowinterfaces ${LAB_WAN_IF[*]}"
		# "-": delegate to no interface (dhcpcd 9.4 says "cannot delegate
		# to -" and only adds its unreachable route for the prefix).
		for wan in "${LAB_WANS[@]}"; do
			i=$((i + 1))
			echo "interface ${LAB_WAN_IF[$wan]}"
			echo "  ia_pd $i -"
		done
	} >"$dir/dhcpcd.conf"
	cat >"$dir/hook" <<EOF
#!/bin/sh
# mwan lab $LAB_ID: dhcpcd's script (written by tests/lib/lab.sh).
MWAN_CONFIG=$LAB_CFG
MWAN_BPFCTL=$LAB_BPFCTL
export MWAN_CONFIG MWAN_BPFCTL
hook=${MWAN_DHCPCD_HOOK:-$LAB_REPO/hooks/mwan-dhcpcd-hook}
log=$dir/hook.log
echo "\$(date +%s.%N) start \$reason \$interface \$(env | grep -E '^(new|old)_dhcp6_ia_pd' | sort | tr '\n' ' ')" >>"\$log"
if [ -x "\$hook" ]; then
	"\$hook"
else
	(. "\$hook")
fi >>"$dir/hook.out" 2>&1
rc=\$?
echo "\$(date +%s.%N) end \$reason \$interface rc=\$rc" >>"\$log"
exit \$rc
EOF
	chmod 755 "$dir/hook"
}

# lab_dhcpcd_exec ARGS...: dhcpcd in the router namespace with its paths in
# the lab (run inside `ip netns exec`, so in a mount namespace of its own).
# dhcpcd's /var/lib/dhcpcd and /run/dhcpcd are built in: bind the lab's
# directories there; /run becomes a tree holding only the lab directory,
# the namespace names and dhcpcd's run directory.
lab_dhcpcd_exec() {
	local dir root
	dir=$(lab_dhcpcd_dir)
	root=$dir/root
	if [[ $(ip netns identify $$) != "$(lab_ns router)" ]]; then
		echo "lab_dhcpcd_exec: not run by ip netns exec in $(lab_ns router) (use lab_dhcpcd)" >&2
		return 1
	fi
	[[ $LAB_DIR == /run/* ]] || {
		echo "lab_dhcpcd_exec: $LAB_DIR is not under /run" >&2
		return 1
	}
	mkdir -p "$root/dhcpcd" "$root/netns" "$root/${LAB_DIR#/run/}"
	mount --rbind "$LAB_DIR" "$root/${LAB_DIR#/run/}"
	mount --rbind /run/netns "$root/netns"
	mount --rbind "$root" /run
	mount --bind "$dir/run" /run/dhcpcd
	mount --bind "$dir/db" /var/lib/dhcpcd
	exec dhcpcd -f "$dir/dhcpcd.conf" "$@"
}

# lab_dhcpcd ARGS...: a dhcpcd command (-N IF renew, -n IF rebind, -k IF
# release, -U IF dump) against the lab's dhcpcd.
lab_dhcpcd() {
	lab_exec router "$LAB_REPO/tests/lib/lab.sh" dhcpcd-ns "$LAB_ID" "$@"
}

# lab_start_dhcpcd: dhcpcd on the router's WAN interfaces (manager mode, in
# the foreground of a background job), logging to $LAB_DIR/dhcpcd/dhcpcd.log.
lab_start_dhcpcd() {
	local dir
	dir=$(lab_dhcpcd_dir)
	lab_dhcpcd_files
	lab_dhcpcd -B -M -d "${LAB_WAN_IF[@]}" >"$dir/dhcpcd.log" 2>&1 &
	echo $! >"$dir/pid"
}

# lab_start_pd: kea in each ISP delegating its first prefix, then dhcpcd.
lab_start_pd() {
	local wan
	for wan in "${LAB_WANS[@]}"; do
		lab_start_kea "$wan" "${LAB_WAN_PD[$wan]}"
	done
	lab_start_dhcpcd
}

lab_exists() { [[ -e /run/netns/$(lab_ns router) ]]; }

# lab_up [FAST_PATH]: build the whole topology (after lab_init); the
# config probes when MWAN_LAB_PROBES=1.
lab_up() {
	local wan probes=()
	if lab_exists; then
		echo "lab $LAB_ID already exists" >&2
		return 1
	fi
	lab_make_namespaces
	lab_setup_inet
	for wan in "${LAB_WANS[@]}"; do lab_setup_isp "$wan"; done
	lab_setup_lan
	lab_setup_router
	lab_mount_bpffs
	[[ ${MWAN_LAB_PROBES:-0} != 1 ]] || probes=(-p)
	lab_write_config "${probes[@]}" "${1:-${MWAN_FAST_PATH:-true}}"
}

# lab_kill_ns_procs SIGNAL: signal every process living in the lab's namespaces.
lab_kill_ns_procs() {
	local node ns pid
	for node in $(lab_all_nodes); do
		ns=$(lab_ns "$node")
		[[ -e /run/netns/$ns ]] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "-$1" "$pid" 2>/dev/null || true
		done
	done
}

lab_any_ns_procs() {
	local node ns
	for node in $(lab_all_nodes); do
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
	for node in $(lab_all_nodes); do
		ip netns del "$(lab_ns "$node")" 2>/dev/null || true
	done
	if mountpoint -q "$LAB_PIN" 2>/dev/null; then
		umount "$LAB_PIN" 2>/dev/null || umount -l "$LAB_PIN" || true
	fi
	rm -rf "$LAB_DIR"
}

# lab_kill_wait PID [SECONDS]: SIGTERM PID and wait for it to go (5 s);
# then SIGKILL it and fail.
lab_kill_wait() {
	local i tenths=$((${2:-5} * 10))
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < tenths; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	return 1
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

# lab_stop_bg NAME...: SIGTERM the background jobs lab_bg started; reap them.
lab_stop_bg() {
	local name pid
	for name in "$@"; do
		pid=$(cat "$LAB_DIR/$name.pid" 2>/dev/null) || continue
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# lab_start_watch: every WAN's state changes (bpfctl -j status every 50 ms,
# labnet.py status-watch) in $LAB_DIR/watch.jsonl, from now on.
lab_start_watch() {
	lab_bg watch router "$LAB_PY" "$LAB_NET_PY" status-watch --log "$LAB_DIR/watch.jsonl" \
		--interval 0.05 "$LAB_BPFCTL" -c "$LAB_CFG" -j status
	if ! lab_wait_log "$LAB_DIR/watch.log" watching 5 "$LAB_BG_PID"; then
		echo "status-watch did not start: $(tail -n 3 "$LAB_DIR/watch.log")" >&2
		return 1
	fi
}

# lab_streams NAME DST BASE COUNT GAP: COUNT long-lived UDP flows from every
# LAN host to DST (ports BASE..), each sending every GAP s, in the background
# until lab_stop_streams NAME.
lab_streams() {
	local h
	for h in "${LAB_HOSTS[@]}"; do
		lab_bg "$1-$h" "$h" "$LAB_PY" "$LAB_NET_PY" udp-stream --dst "$2" --src "$(lab_host_ip "$h")" \
			--base-port "$3" --count "$4" --gap "$5" --duration 300
	done
}

lab_stop_streams() {
	local h
	for h in "${LAB_HOSTS[@]}"; do lab_stop_bg "$1-$h"; done
}

# lab_new_flows NAME HOST DST BASE COUNT GAP: a new single-datagram UDP flow
# from HOST to DST every GAP s (ports BASE..), in the background (LAB_BG_PID);
# $LAB_DIR/NAME.sent says when each started.
lab_new_flows() {
	lab_bg "$1" "$2" "$LAB_PY" "$LAB_NET_PY" udp-flows --dst "$3" --src "$(lab_host_ip "$2")" \
		--base-port "$4" --count "$5" --gap "$6" --packets 1 --sent-log "$LAB_DIR/$1.sent"
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
	[[ -v LAB_LOADER_ARGS ]] || LAB_LOADER_ARGS=()
	if [[ ! -x $LAB_LOADER ]]; then
		echo "no loader at $LAB_LOADER (run make)" >&2
		return 1
	fi
	# Empty the log first: the background job's own redirection may come
	# after the wait below has read a previous loader's lines.
	: >"$LAB_LOADER_LOG"
	# LAB_LOADER_ARGS (array): extra options, e.g. --bpf-object FILE
	ip netns exec "$(lab_ns router)" "$LAB_LOADER" -c "$cfg" "${LAB_LOADER_ARGS[@]}" >>"$LAB_LOADER_LOG" 2>&1 &
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
	local pid=${LAB_LOADER_PID:-} rc=0
	[[ -n $pid ]] || return 0
	LAB_LOADER_PID=
	lab_kill_wait "$pid" 10 || echo "mwan-loader ignored SIGTERM for 10 s; killed it" >&2
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
	local ifn dir wan
	for ifn in eth3 $(for wan in "${LAB_WANS[@]}"; do echo "${LAB_WAN_IF[$wan]}"; done); do
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
       lab.sh pd ID                 DHCPv6-PD: kea in the ISPs, dhcpcd with mwan's hook
                                    on the router (start mwan-loader first)
       lab.sh dhcpcd ID ARGS...     control that dhcpcd: -N eth1 renew, -k eth1 release, -U eth1
environment: MWAN_LAB_MB=1 (up) adds the third WAN mb (eth4, tier 2, failover only);
             MWAN_LAB_PROBES=1 (up) writes a config in which every WAN probes
             $LAB_PROBE and $LAB_PROBE6
sourced: lab_init ID; lab_up; lab_start_loader; lab_ctl status; lab_exec h2 ping ...; lab_down
         faults: lab_blackhole WAN, lab_echo_fault WAN TARGET PERCENT, lab_faults_clear
EOF
}

lab_print_summary() {
	echo "lab $LAB_ID is up"
	echo "  namespaces: $(for n in $(lab_nodes); do printf '%s ' "$(lab_ns "$n")"; done)"
	echo "  config:     $LAB_CFG (pins in $LAB_PIN)"
	echo "  loader:     ip netns exec $(lab_ns router) $LAB_LOADER -c $LAB_CFG"
	echo "  bpfctl:     ip netns exec $(lab_ns router) $LAB_BPFCTL -c $LAB_CFG status"
	echo "  IPv6 PD:    $LAB_REPO/tests/lib/lab.sh pd $LAB_ID (once the loader runs)"
	echo "  tear down:  $LAB_REPO/tests/lib/lab.sh down $LAB_ID"
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
	pd)
		lab_init "${2:?lab ID}"
		lab_exists || {
			echo "no lab $LAB_ID" >&2
			return 1
		}
		lab_start_pd
		;;
	dhcpcd)
		lab_init "${2:?lab ID}"
		shift 2
		lab_dhcpcd "$@"
		;;
	dhcpcd-ns) # internal: what lab_dhcpcd runs in the router namespace
		lab_init "${2:?lab ID}"
		shift 2
		lab_dhcpcd_exec "$@"
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
