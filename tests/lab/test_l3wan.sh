#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of a WAN without an Ethernet header (here a tun pair, as WireGuard, GRE or PPP give): translated both ways on IPv4 and IPv6, probed, guarded, on both paths.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT_WHO=5320
MAPPED=(h2 h3 h4 h5) # h6 has no mapping in this suite
PRIVATE='src net 10.0.0.0/8 or src net 172.16.0.0/12 or src net 192.168.0.0/16'
# L3_KIND: how webpass's link is made. tun: a tun pair relayed by
# labnet.py (make check); wireguard, gre: real tunnels over the veth
# (make matrix, tests/matrix/test_l3_wans.sh).
L3_KIND=${L3_KIND:-tun}
L3_IF=eth2 # the router's end, named as the config has it
L3_PEER=to-router

# ---- helpers (main shell) -------------------------------------------------------------

# l3_link: webpass's link made an L3 one, with the addresses, routes and
# sysctls lab_wan_link gives a veth link.
l3_link() {
	local router=100.64.2.2 gw=100.64.2.1
	case $L3_KIND in
	tun)
		lab_exec router ip link del eth2
		lab_bg tun webpass "$LAB_PY" "$LAB_NET_PY" tun-pair --ns-a "$(lab_ns router)" \
			--if-a "$L3_IF" --ns-b "$(lab_ns webpass)" --if-b "$L3_PEER"
		lab_wait_log "$LAB_DIR/tun.log" listening 5 "$LAB_BG_PID" ||
			t_setup_fail "tun pair did not start: $(tail -n 3 "$LAB_DIR/tun.log")"
		;;
	wireguard)
		underlay
		wg_pair
		;;
	gre)
		underlay
		lab_exec router ip link add "$L3_IF" type gre local 192.168.92.2 remote 192.168.92.1
		lab_exec webpass ip link add "$L3_PEER" type gre local 192.168.92.1 remote 192.168.92.2
		;;
	esac
	lab_exec router ip link set "$L3_IF" up
	lab_exec webpass ip link set "$L3_PEER" up
	lab_exec router ip addr flush dev "$L3_IF" 2>/dev/null || true
	lab_addr router "$L3_IF" "$router/30" "${LAB_WAN_ADDR6[webpass]}/64"
	lab_router_if "$L3_IF"
	lab_addr webpass "$L3_PEER" "$gw/30" "${LAB_WAN_GW6[webpass]}/64"
	lab_exec webpass ip route replace "${LAB_WAN_NET[webpass]}" via "$router"
	lab_exec webpass ip route replace "${LAB_WAN_POOL6[webpass]}" via "${LAB_WAN_ADDR6[webpass]}"
}

# underlay: the veth between the router and webpass carries the tunnel,
# renamed out of the config's way and readdressed (private, the router's
# own: its tunnel packets are no LAN's).
underlay() {
	lab_exec router ip link set eth2 down
	lab_exec router ip link set eth2 name eth2u
	lab_exec router ip addr flush dev eth2u
	lab_exec router ip link set eth2u up
	lab_exec webpass ip link set to-router down
	lab_exec webpass ip link set to-router name to-routeru
	lab_exec webpass ip addr flush dev to-routeru
	lab_exec webpass ip link set to-routeru up
	lab_exec router ip addr add 192.168.92.2/30 dev eth2u
	lab_exec webpass ip addr add 192.168.92.1/30 dev to-routeru
}

# wg_pair: WireGuard between the router (eth2) and webpass (to-router)
# over the underlay, every address allowed both ways.
wg_pair() {
	local k1 k2 p1 p2
	k1=$(wg genkey) k2=$(wg genkey)
	p1=$(wg pubkey <<<"$k1") p2=$(wg pubkey <<<"$k2")
	lab_exec router ip link add "$L3_IF" type wireguard
	lab_exec webpass ip link add "$L3_PEER" type wireguard
	lab_exec router wg set "$L3_IF" private-key <(echo "$k1") listen-port 51820 \
		peer "$p2" endpoint 192.168.92.1:51820 allowed-ips 0.0.0.0/0,::/0
	lab_exec webpass wg set "$L3_PEER" private-key <(echo "$k2") listen-port 51820 \
		peer "$p1" endpoint 192.168.92.2:51820 allowed-ips 0.0.0.0/0,::/0
}

who() {
	local out
	out=$(lab_py "$1" ident-query --proto "${3:-tcp}" --timeout 3 --bind "$2" --target "$4")
	out=${out%%$'\t'*}
	[[ $out == "ident "* ]] || fail "$1 ($2): no answer from $4: $out"
	echo "${out##* peer }"
}

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

# check_l3_started: the loader took eth2 as an L3 WAN: TC only, no XDP,
# and webpass up with no reason.
check_l3_started() {
	local json
	cat "$LAB_DIR/loader-start.err"
	lab_loader_alive || fail "mwan-loader is not running"
	grep -q "eth2: no Ethernet header: TC only, no XDP" "$LAB_LOADER_LOG" || fail "no TC-only line for eth2"
	grep -q "TC clsact on every interface; no XDP on L3 eth2" "$LAB_LOADER_LOG" || fail "no attach-modes line naming eth2"
	! lab_exec router ip link show eth2 | grep -q 'prog/xdp' || fail "XDP on the L3 eth2"
	lab_exec router tc filter show dev eth2 egress | grep -q mwan_tc_out || fail "no egress guard on eth2"
	lab_exec router tc filter show dev eth2 ingress | grep -q mwan_tc_in || fail "no TC ingress on eth2"
	json=$(lab_ctl -j status) || fail "bpfctl -j status failed"
	"$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)
i = {x["name"]: x for x in d["interfaces"]}["eth2"]
assert i["xdp_mode"] == "none" and i["tc_mode"] == "clsact", i
for _ in range(1):
    w = {x["name"]: x for x in d["wans"]}["webpass"]
assert w["state"] == "up" and w["reasons"] == [], w' <<<"$json" || fail "status: $json"
	echo "eth2 ($L3_KIND): TC only, webpass up"
}

# check_l3_out: with att down, every host leaves by webpass from its own
# webpass address, TCP and UDP.
check_l3_out() {
	local h seen proto
	for proto in tcp udp; do
		for h in "${MAPPED[@]}"; do
			seen=$(who "$h" "$(lab_host_ip "$h")" "$proto" "$LAB_SERVER:$PORT_WHO")
			[[ $seen == "$(lab_public webpass "$h")" ]] || fail "$h ($proto) came from $seen"
		done
	done
	echo "${#MAPPED[@]} hosts, TCP and UDP, each from its webpass address"
}

# check_l3_in: from the internet to h2's webpass address and back.
check_l3_in() {
	local out
	out=$(lab_py inet ident-query --proto tcp --timeout 3 --target "$(lab_public webpass h2):$PORT_WHO")
	[[ $out == "ident $(lab_host_ip h2) "* ]] || fail "inbound to $(lab_public webpass h2): $out"
	echo "${out%%$'\t'*}"
}

# check_l3_npt6: IPv6 across the L3 WAN, translated by NPTv6 to the
# delegated prefix's subnet, and back.
check_l3_npt6() {
	local seen want out
	# a "delegated" prefix holding the LAN's own is refused, naming both
	if out=$(lab_ctl pd webpass 3d06:bad:b01::/48 2>&1); then
		fail "bpfctl pd with a prefix containing lan.ipv6 succeeded: $out"
	fi
	grep -q "delegated prefix 3d06:bad:b01::/48 contains the internal prefix 3d06:bad:b01:fe::/64" <<<"$out" ||
		fail "bpfctl pd refused it without saying why: $out"
	lab_ctl pd webpass "${LAB_WAN_PD[webpass]}" >/dev/null || fail "bpfctl pd failed"
	want=$(t_labnet npt --internal "$LAB_LAN_NET6" --delegated "${LAB_WAN_PD[webpass]}" \
		--subnet "$LAB_NPT_SUBNET" "$(lab_host_ip6 h2)") || fail "no NPT reference: $want"
	seen=$(who h2 "$(lab_host_ip6 h2)" tcp "[$LAB_SERVER6]:$PORT_WHO")
	[[ $seen == "$want" ]] || fail "h2 came from $seen over IPv6, want $want"
	echo "h2 over IPv6 as $seen"
}

# check_l3_probes: webpass's probes go through the tunnel and come back.
check_l3_probes() {
	local json
	json=$(lab_ctl -j status) || fail "bpfctl -j status failed"
	"$LAB_PY" -c '
import json, sys
w = {x["name"]: x for x in json.load(sys.stdin)["wans"]}["webpass"]
got = [t["received"] for t in w["targets"]]
assert w["health"] == "up" and got and min(got) > 0, w' <<<"$json" || fail "webpass probes: $json"
	echo "webpass probes answered"
}

# check_l3_unmapped: an internal source without a mapping, routed to the
# L3 WAN by the main table, is dropped at its egress and counted there.
check_l3_unmapped() {
	local json out
	lab_exec router ip route replace 192.0.2.10/32 via 100.64.2.1 dev eth2
	out=$(lab_py h6 ident-query --proto udp --timeout 1 --bind 10.250.250.6 \
		--target "$LAB_SERVER:$PORT_WHO" 2>&1 || true)
	lab_exec router ip route del 192.0.2.10/32 via 100.64.2.1 dev eth2
	json=$(lab_ctl -j stats) || fail "bpfctl -j stats failed"
	"$LAB_PY" -c '
import json, sys
by = {d["name"]: d["drops"] for d in json.load(sys.stdin)["drops_by_wan"]}
assert by["webpass"]["internal_src_on_wan"] >= 1, by' <<<"$json" || fail "drops: ${json:0:400}"
	echo "unmapped h6 dropped at webpass (eth2)"
}

check_l3_capture() {
	local total leaked
	total=$(tcpdump -r "$LAB_DIR/l3.pcap" -n ip 2>/dev/null | wc -l)
	leaked=$(tcpdump -r "$LAB_DIR/l3.pcap" -n "$PRIVATE or (ip6 and src net fc00::/7) or src net 3d06::/16" 2>/dev/null | wc -l)
	((leaked == 0)) || fail "$leaked packets with an internal source on the L3 link"
	((total > 20)) || fail "only $total IPv4 packets on the L3 link"
	echo "L3 link: $total IPv4 packets, none from an internal source"
}

# ---- one pass --------------------------------------------------------------------

run_pass() {
	local fast=$1 h
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	T_PREFIX+=", $L3_KIND WAN"
	lab_init "$$"
	lab_up "$fast"
	l3_link
	lab_write_config -p "$fast"
	# h6 has no mapping: the guard's case
	sed -i '/^  - internal: 10.250.250.6$/,+1d' "$LAB_CFG"
	lab_bg cap webpass tcpdump -i "$L3_PEER" -n -s 96 -U -w "$LAB_DIR/l3.pcap"
	lab_wait_log "$LAB_DIR/cap.log" "listening on" 5 "$LAB_BG_PID" || t_setup_fail "tcpdump: $(cat "$LAB_DIR/cap.log")"
	serve who inet ident-server --addr "$LAB_SERVER" --port "$PORT_WHO" --name inet
	serve who6 inet ident-server --addr "$LAB_SERVER6" --port "$PORT_WHO" --name inet6
	serve who-h2 h2 ident-server --addr "$(lab_host_ip h2)" --port "$PORT_WHO" --name h2
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "$L3_KIND as webpass: TC only (no XDP), webpass up" check_l3_started
	lab_ctl wan att down >/dev/null
	check "out by the L3 WAN: every host from its webpass address, TCP and UDP" check_l3_out
	check "in by the L3 WAN: TCP to h2's webpass address reaches h2" check_l3_in
	check "IPv6 by the L3 WAN: NPTv6 to the delegated prefix and back (one holding lan.ipv6 refused)" \
		check_l3_npt6
	check "probes through the L3 WAN answered" check_l3_probes
	check "an unmapped source routed to the L3 WAN: dropped there, counted" check_l3_unmapped
	lab_ctl wan att auto >/dev/null
	t_stop_loader_check
	lab_stop_bg cap
	check "capture on the L3 link: no internal source" check_l3_capture
	for h in tun who who6 who-h2; do lab_stop_bg "$h"; done
	lab_down
	LAB_ID=
}

# Sourced (tests/matrix/test_l3_wans.sh) it only defines the functions.
[[ ${BASH_SOURCE[0]} != "$0" ]] || t_main_passes run_pass
