#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of a hostile network: frames forged on an ISP's link and by a LAN host, and the loop for addresses nobody uses, on both paths.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORGED=9999  # destination port of every forged packet: none may arrive
CONTROL=9998 # an honest packet among them: it must (the capture works)
ALLOWED=9997 # from a source allow_sources lets out
COUNT=3      # frames per forged spec
ALLOWED_NET=192.0.2.128/26
ALLOWED_SRC=192.0.2.130
FILTERED_NET=203.0.113.0/28
FILTERED_SRC=203.0.113.5
UNUSED4=198.51.100.200      # in att's block, nobody's
UNUSED6=2001:db8:a0:1fe::77 # in att's external /64 while it has none
SINK=9996       # inet's UDP sink for the LAN flows of the flood test
LAN_PORTS=21000 # their source ports, ten from here

# ---- helpers -------------------------------------------------------------------------

mac_of() { lab_exec "$1" cat "/sys/class/net/$2/address"; }

# wan_forge WAN SPEC...: frames from WAN's ISP straight onto the router's
# interface (labnet.py forge: SRC>DST[/tcp:PORT][+ttl=N][+xh]).
wan_forge() {
	local wan=$1
	shift
	lab_py "$wan" forge --iface to-router --dst-mac "$(mac_of router "${LAB_WAN_IF[$wan]}")" \
		--count "$COUNT" "$@" >/dev/null
}

# lan_forge HOST SPEC...: the same from a LAN host to the router.
lan_forge() {
	local host=$1
	shift
	lab_py "$host" forge --iface eth0 --dst-mac "$(mac_of router eth3)" --count "$COUNT" "$@" >/dev/null
}

# drops_json: `bpfctl -j stats` drops_by_wan as {"NAME": {reason: n}}.
drops_json() {
	local json
	json=$(lab_ctl -j stats) || fail "bpfctl -j stats failed: $json"
	"$LAB_PY" -c '
import json, sys
print(json.dumps({d["name"]: d["drops"] for d in json.load(sys.stdin)["drops_by_wan"]}))' <<<"$json"
}

# expect_drops BEFORE AFTER AT:REASON=N...: each counter at AT grew by N.
expect_drops() {
	"$LAB_PY" -c '
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bad = []
for spec in sys.argv[3:]:
    at, rest = spec.split(":")
    reason, n = rest.split("=")
    got = after[at][reason] - before[at][reason]
    if got != int(n):
        bad.append(f"{at} {reason} +{got}, want +{n}")
if bad:
    sys.exit("; ".join(bad))
print("counted: " + ", ".join(sys.argv[3:]))' "$@"
}

# capture NAME NODE IF [DIRECTION]: tcpdump in the background until
# stop_capture NAME; DIRECTION in: only what IF receives.
capture() {
	lab_bg "cap-$1" "$2" tcpdump -i "$3" -Q "${4:-inout}" -n -s 128 -U -w "$LAB_DIR/$1.pcap"
	lab_wait_log "$LAB_DIR/cap-$1.log" "listening on" 5 "$LAB_BG_PID" ||
		t_setup_fail "tcpdump on $2/$3 did not start: $(cat "$LAB_DIR/cap-$1.log")"
}

stop_capture() {
	sleep 0.3 # the last frames through the router
	lab_stop_bg "cap-$1"
}

# seen NAME FILTER: packets in capture NAME matching FILTER.
seen() { tcpdump -r "$LAB_DIR/$1.pcap" -n "$2" 2>/dev/null | wc -l; }

# await NAME FILTER N: until capture NAME holds N packets matching FILTER
# (at most 5 s: a loaded machine may take a while). The honest packets
# were sent after the forged ones, so by then those are through too.
await() {
	local i
	for ((i = 0; i < 50; i++)); do
		(($(seen "$1" "$2") >= $3)) && return 0
		sleep 0.1
	done
}

# ext6 HOST: the host's address as att shows it (NPTv6).
ext6() {
	t_labnet npt --internal "$LAB_LAN_NET6" --delegated "${LAB_WAN_PD[att]}" \
		--subnet "$LAB_NPT_SUBNET" "$(lab_host_ip6 "$1")"
}

# ---- checks --------------------------------------------------------------------------

# From the att ISP's side of the link: every kind of forgery the ingress
# filter knows, IPv4 and IPv6; nothing reaches the LAN, each is counted
# at att by its reason; the honest packets among them arrive.
check_wan_forged() {
	local before after h2x h3x n
	t_require_loader
	h2x=$(ext6 h2) h3x=$(ext6 h3)
	before=$(drops_json)
	capture lan lan p-router
	wan_forge att \
		"10.250.250.3>10.250.250.2" \
		"10.250.250.3>$(lab_public att h2)" \
		"192.168.1.1>$(lab_public att h2)" \
		"10.1.2.3>$(lab_public att h2)/tcp:$FORGED" \
		"$(lab_public att h3)>$(lab_public att h2)" \
		"100.64.1.2>$(lab_public att h2)" \
		"$FILTERED_SRC>$(lab_public att h2)" \
		"$LAB_SERVER>$(lab_public webpass h2)" \
		"3d06:bad:b01:fe::3>$h2x" \
		"$LAB_SERVER6>3d06:bad:b01:fe::2" \
		"fd00::1>$h2x" \
		"$h3x>$h2x" \
		"$LAB_SERVER>$(lab_public att h2)/udp:$CONTROL" \
		"$LAB_SERVER6>$h2x/udp:$CONTROL"
	await lan "udp dst port $CONTROL" $((2 * COUNT))
	stop_capture lan
	after=$(drops_json)
	n=$(seen lan "port $FORGED")
	((n == 0)) || fail "$n forged packets reached the LAN: $(tcpdump -r "$LAB_DIR/lan.pcap" -n "port $FORGED" 2>/dev/null | head -n 3)"
	n=$(seen lan "udp dst port $CONTROL")
	((n == 2 * COUNT)) || fail "$n honest packets reached the LAN, want $((2 * COUNT)): the capture misses frames"
	expect_drops "$before" "$after" \
		"att:internal_dst_on_wan=$((2 * COUNT))" "att:spoofed_lan_src=$((2 * COUNT))" \
		"att:bogon_src=$((3 * COUNT))" "att:spoofed_own_src=$((3 * COUNT))" \
		"att:filtered_src=$COUNT" "att:public_addr_wrong_wan=$COUNT"
}

# From h2: sources the router would not translate. Nothing leaves either
# WAN but what allow_sources lets out by att; BCP 38 drops are counted at
# the LAN (eth3), private ones at the WAN; the loader names the source.
check_lan_forged() {
	local before after n
	t_require_loader
	before=$(drops_json)
	capture att-link att to-router
	capture wp-link webpass to-router
	lan_forge h2 \
		"198.18.0.5>$LAB_SERVER" \
		"203.0.113.99>$LAB_SERVER" \
		"100.64.1.5>$LAB_SERVER" \
		"10.99.0.1>$LAB_SERVER" \
		"172.16.0.1>$LAB_SERVER" \
		"192.168.1.1>$LAB_SERVER" \
		"10.250.250.9>$LAB_SERVER" \
		"2001:db8:1234::1>$LAB_SERVER6" \
		"fd00::1>$LAB_SERVER6" \
		"$ALLOWED_SRC>$LAB_SERVER/udp:$ALLOWED"
	await att-link "src host $ALLOWED_SRC and udp dst port $ALLOWED" "$COUNT"
	stop_capture att-link
	stop_capture wp-link
	after=$(drops_json)
	n=$(($(seen att-link "port $FORGED") + $(seen wp-link "port $FORGED")))
	((n == 0)) || fail "$n forged packets left a WAN: $(tcpdump -r "$LAB_DIR/att-link.pcap" -n "port $FORGED" 2>/dev/null | head -n 3)"
	n=$(seen att-link "src host $ALLOWED_SRC and udp dst port $ALLOWED")
	((n == COUNT)) || fail "$n packets from $ALLOWED_SRC (allow_sources of att) left att, want $COUNT"
	expect_drops "$before" "$after" \
		"eth3:bcp38_src=$((4 * COUNT))" "att:private_src_on_wan=$((5 * COUNT))"
	lab_wait_log "$LAB_LOADER_LOG" "source 198.18.0.5 from eth3 may not leave wan att untranslated (BCP 38" 5 ||
		fail "no log line naming 198.18.0.5: $(grep -i 'bcp 38' "$LAB_LOADER_LOG" | tail -n 2)"
}

# An unused address of att's block, and att's external IPv6 prefix while
# it has none (with an extension header: the kernel's path): the kernel
# routes them back out of att; dropped there as transit between WANs, so
# the ISP never gets one back (before, each bounced until its TTL ran out).
# What the ISP receives from the router is captured; the counter says the
# forged frames arrived.
check_loop() {
	local before after n
	t_require_loader
	lab_ctl pd att clear >/dev/null || fail "bpfctl pd att clear failed"
	before=$(drops_json)
	capture loop att to-router in
	wan_forge att "$LAB_SERVER>$UNUSED4+ttl=32" "$LAB_SERVER6>$UNUSED6+ttl=32+xh"
	# nothing to wait for on the wire: the counter says when they are in
	for ((n = 0; n < 50; n++)); do
		after=$(drops_json)
		expect_drops "$before" "$after" "att:wan_to_wan=$((2 * COUNT))" >/dev/null 2>&1 && break
		sleep 0.1
	done
	stop_capture loop
	n=$(seen loop "dst host $UNUSED4 or dst host $UNUSED6")
	if ((n != 0)); then
		tcpdump -r "$LAB_DIR/loop.pcap" -n -e 2>/dev/null | head -n 8
		fail "$n packets to $UNUSED4 and $UNUSED6 came back to the ISP for $((2 * COUNT)) sent"
	fi
	expect_drops "$before" "$after" "att:wan_to_wan=$((2 * COUNT))"
	lab_wait_log "$LAB_LOADER_LOG" "$LAB_SERVER came in on eth1 and was routed out of wan att" 5 ||
		fail "no log line for the transit: $(grep -i transit "$LAB_LOADER_LOG" | tail -n 2)"
	lab_ctl pd att "${LAB_WAN_PD[att]}" >/dev/null || fail "bpfctl pd att failed"
}

# LAN flows placed on webpass while att was down keep webpass once att is
# back; 4000 new flows from outside (four times what flows_inbound_max
# holds) push out inbound flows only: every LAN flow keeps its WAN and
# public address, bpfctl status warns of the inbound table's evictions,
# and of the LAN table's none.
check_flood() {
	local json out
	t_require_loader
	lab_ctl wan att down >/dev/null || fail "bpfctl wan att down failed"
	lab_py h2 udp-flows --dst "$LAB_SERVER:$SINK" --src "$(lab_host_ip h2)" \
		--count 10 --base-port "$LAN_PORTS" --packets 1 || fail "udp-flows failed"
	lab_ctl wan att auto >/dev/null || fail "bpfctl wan att auto failed"
	lab_py att forge --iface to-router --dst-mac "$(mac_of router eth1)" \
		--sport 1024 --sports 4000 --dport 7777 "$LAB_SERVER>$(lab_public att h2)" >/dev/null ||
		fail "the flood could not be sent"
	lab_py h2 udp-flows --dst "$LAB_SERVER:$SINK" --src "$(lab_host_ip h2)" \
		--count 10 --base-port "$LAN_PORTS" --packets 1 || fail "udp-flows failed"
	json=$(lab_ctl -j flows) || fail "bpfctl -j flows failed"
	out=$("$LAB_PY" -c '
import json, sys
lo, wp = int(sys.argv[1]), sys.argv[2]
mine = [f for f in json.load(sys.stdin) if f["proto"] == "udp" and f["src"] == sys.argv[3]
        and lo <= f["sport"] < lo + 10]
bad = [f for f in mine if f["wan"] != "webpass" or f["origin"] != "lan" or f["ext"] != wp]
if len(mine) != 10 or bad:
    sys.exit(f"{len(mine)} LAN flows, moved or translated otherwise: {bad[:2]}")
print("10 LAN flows on webpass as", wp)' "$LAN_PORTS" "$(lab_public webpass h2)" "$(lab_host_ip h2)" <<<"$json") ||
		fail "$out"
	json=$(lab_ctl -j status) || fail "bpfctl -j status failed"
	"$LAB_PY" -c '
import json, sys
t = {x["table"]: x for x in json.load(sys.stdin)["flow_tables"]}
lan, inb = t["lan"], t["inbound"]
assert inb["size"] == 1024 and inb["evicted"] >= 2000, inb
assert lan["evicted"] == 0 and not lan["near_full"] and lan["entries"] >= 10, lan
print("inbound %d/%d, %d evicted; lan %d, none evicted" %
      (inb["entries"], inb["size"], inb["evicted"], lan["entries"]))' <<<"$json" ||
		fail "status: $(grep -o '"flow_tables".*' <<<"$json" | head -c 400)"
	lab_ctl status | grep -q "warning: the table of flows opened from outside (flows_inbound_max) holds [0-9]* of 1024 and has pushed out [0-9]*" ||
		fail "no warning in bpfctl status: $(lab_ctl status | grep -i -A1 flows)"
	! lab_ctl status | grep -q "warning: the table of flows opened from a LAN" ||
		fail "a warning for the LAN's table"
}

# ---- one pass --------------------------------------------------------------------

# hostile_config: the lab's, with a configured drop list and a routed
# block att may carry untranslated.
hostile_config() {
	awk -v allow="$ALLOWED_NET" '{ print } /^  att:$/ { print "    allow_sources: [" allow "]" }' \
		"$LAB_CFG" >"$LAB_CFG.new"
	printf 'ingress_filter:\n  drop_sources: [%s]\n' "$FILTERED_NET" >>"$LAB_CFG.new"
	# the smallest tables, so that a flood fills the inbound one
	printf 'flows_max: 1024\nflows_inbound_max: 1024\n' >>"$LAB_CFG.new"
	mv "$LAB_CFG.new" "$LAB_CFG"
}

run_pass() {
	local fast=$1
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	lab_init "$$"
	lab_up "$fast"
	hostile_config
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with ingress_filter and allow_sources" check_loader_started
	lab_ctl pd att "${LAB_WAN_PD[att]}" >/dev/null || true
	check "forged on the att link (LAN, own, bogon, listed sources; internal and other WAN's destinations): none reach the LAN, each counted" \
		check_wan_forged
	check "forged by a LAN host: nothing leaves untranslated but allow_sources, counted at the LAN and logged" \
		check_lan_forged
	check "an unused public address and a prefix not delegated: no loop, counted as wan_to_wan" check_loop
	serve sink inet udp-sink --addr "$LAB_SERVER" --port "$SINK" --log "$LAB_DIR/sink.log"
	check "a flood of 4000 inbound flows: no LAN flow changes WAN, the inbound table warns" check_flood
	lab_stop_bg sink
	t_stop_loader_check
	lab_down
	LAB_ID=
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || t_main_passes run_pass
