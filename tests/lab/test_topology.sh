#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of real router layouts: a bridge as LAN, a WAN whose subnet moves, forwarding turned off, a WAN removed across a restart.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT_WHO=5310
PORT_GUEST=5311
# Where att's link moves to, as a DHCP lease to another subnet would.
MOVED_ROUTER=100.64.9.2
MOVED_GW=100.64.9.1
# Every internal source a WAN must never see (RFC 1918, RFC 4193).
PRIVATE='src net 10.0.0.0/8 or src net 172.16.0.0/12 or src net 192.168.0.0/16'
PRIVATE6='ip6 and src net fc00::/7'
# h6 has no mapping in this suite's config: an unmapped LAN host.
MAPPED=(h2 h3 h4 h5)
UNMAPPED=h6
# A second LAN (lans:, GUEST=1): eth5 on the router, the guest
# namespace's eth0 with a mapped host and an unmapped one.
GUEST=${GUEST:-0}
GUEST_NET=10.250.251.0/24
GUEST_ROUTER=10.250.251.1
GUEST_HOST=10.250.251.2
GUEST_UNMAPPED=10.250.251.3
GUEST_PUBLIC=(198.51.100.197 203.0.113.245) # att, webpass
# A network behind h2 that mwan does not serve (no LAN of its config).
OTHER4=192.168.77.2
OTHER6=fd00:77::2

# ---- helpers (main shell and checks) ---------------------------------------------------

# The router's LAN interface in this suite (LAN_KIND: how it is made).
LAN_KIND=${LAN_KIND:-bridge}
case $LAN_KIND in
bridge) LAN_IF=br-lan ;;
vlan) LAN_IF=eth3.10 ;;
bond) LAN_IF=bond0 ;;
esac

# lan_move: the router's LAN address moves from eth3 to LAN_IF, built
# over eth3 as LAN_KIND says, and the config names LAN_IF. bridge:
# br-lan with eth3 as its port; vlan (8021q): eth3.10, with the LAN
# side's port tagging and untagging VLAN 10; bond: bond0 (active-backup)
# with eth3 as its one slave.
lan_move() {
	lab_exec router ip addr flush dev eth3
	case $LAN_KIND in
	bridge)
		lab_exec router ip link add br-lan type bridge stp_state 0
		lab_exec router ip link set eth3 master br-lan
		;;
	vlan)
		lab_exec router ip link add link eth3 name "$LAN_IF" type vlan id 10
		lab_exec lan ip link set p-router nomaster
		lab_exec lan ip link add link p-router name p-router.10 type vlan id 10
		lab_exec lan ip link set p-router.10 master br0
		lab_exec lan ip link set p-router.10 up
		;;
	bond)
		lab_exec router ip link add "$LAN_IF" type bond mode active-backup miimon 100
		lab_exec router ip link set eth3 down
		lab_exec router ip link set eth3 master "$LAN_IF"
		;;
	esac
	lab_exec router ip link set "$LAN_IF" up
	lab_addr router "$LAN_IF" "$LAB_ROUTER_LAN/29" "$LAB_ROUTER_LAN6/64"
	lab_router_if "$LAN_IF"
	mapped_config "$FAST" "$LAB_CFG"
}

# guest_lan: the guest namespace behind the router's eth5.
guest_lan() {
	ip netns add "$(lab_ns guest)"
	lab_exec guest ip link set lo up
	lab_link router eth5 guest eth0
	lab_addr router eth5 "$GUEST_ROUTER/24"
	lab_router_if eth5
	lab_addr guest eth0 "$GUEST_HOST/24" "$GUEST_UNMAPPED/24"
	lab_route guest default via "$GUEST_ROUTER"
	# XDP_REDIRECT into a veth needs NAPI (GRO) on the peer
	lab_ethtool guest eth0 gro on tx off
}

# lans_config FILE: lan: becomes lans: main (LAN_IF) and guest (eth5),
# and GUEST_HOST gets its public addresses.
lans_config() {
	local file=$1
	{
		sed -n '1,/^lan:$/p' "$file" | sed '$d'
		echo "lans:"
		echo "  - name: main"
		echo "    interface: $LAN_IF"
		echo "    ipv4: $LAB_LAN_NET"
		echo "    ipv6: $LAB_LAN_NET6"
		echo "  - name: guest"
		echo "    interface: eth5"
		echo "    ipv4: $GUEST_NET"
		echo
		sed -n '/^wans:$/,$p' "$file"
		echo "  - internal: $GUEST_HOST"
		echo "    external: { att: ${GUEST_PUBLIC[0]}, webpass: ${GUEST_PUBLIC[1]} }"
	} >"$file.new"
	mv "$file.new" "$file"
}

# mapped_config FAST FILE [WAN...]: the lab's config (every WAN, or
# those given) with mappings for MAPPED only, on LAN_IF.
mapped_config() {
	local fast=$1 file=$2 hosts=("${LAB_HOSTS[@]}") wans=("${LAB_WANS[@]}")
	shift 2
	LAB_HOSTS=("${MAPPED[@]}")
	(($# == 0)) || LAB_WANS=("$@")
	lab_write_config "$fast" "$file"
	LAB_HOSTS=("${hosts[@]}")
	LAB_WANS=("${wans[@]}")
	sed -i "s/^  interface: eth3\$/  interface: $LAN_IF/" "$file"
}

status_json() { lab_ctl -j status; }

# wan_is WAN STATE REASONS: bpfctl -j status shows WAN in STATE with
# exactly REASONS (comma-joined) within 5 s.
wan_is() {
	local json state reasons i
	for ((i = 0; i < 50; i++)); do
		json=$(status_json) || fail "bpfctl -j status failed: $json"
		state=$(t_labnet wan-field "$1" state <<<"$json")
		reasons=$(t_labnet wan-field "$1" reasons <<<"$json")
		[[ $state == "$2" && $reasons == "$3" ]] && return 0
		sleep 0.1
	done
	fail "$1: state $state, reasons '$reasons'; want $2, '$3'"
}

# who HOST: the address the internet server saw a new TCP connection
# from HOST come from.
who() {
	local out
	out=$(lab_py "$1" ident-query --proto tcp --timeout 3 --bind "$(lab_host_ip "$1")" \
		--target "$LAB_SERVER:$PORT_WHO")
	out=${out%%$'\t'*}
	[[ $out == "ident "* ]] || fail "$1: no answer from $LAB_SERVER:$PORT_WHO: $out"
	echo "${out##* peer }"
}

# ifaces_attached: what mwan has on eth1, eth2, eth3, LAN_IF and eth5, one line
# per program (empty: nothing).
ifaces_attached() {
	local ifn dir
	for ifn in eth1 eth2 eth3 "$LAN_IF" eth5; do
		lab_exec router ip link show "$ifn" 2>/dev/null | grep -o 'prog/xdp id [0-9]*' |
			sed "s/^/$ifn: /" || true
		for dir in ingress egress; do
			lab_exec router tc filter show dev "$ifn" "$dir" 2>/dev/null | grep -o 'mwan_tc_[a-z]*' |
				sed "s/^/$ifn $dir: /" || true
		done
	done
}

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

# check_lan_started: the loader runs on LAN_IF (a bridge or a VLAN
# device has generic XDP only, a bond over veth native) and is still
# attached there a second later: the bridge's AF_BRIDGE link messages are
# no "interface gone".
check_lan_started() {
	local json out mode
	cat "$LAB_DIR/loader-start.err"
	lab_loader_alive || fail "mwan-loader is not running"
	sleep 1
	! grep -E "interface gone|attaching again" "$LAB_LOADER_LOG" || fail "the loader let go of an interface"
	lab_exec router ip -d link show "$LAN_IF" | grep -q "prog/xdp id [0-9]* name mwan_xdp" ||
		fail "no mwan_xdp on $LAN_IF: $(lab_exec router ip -d link show "$LAN_IF" | grep xdp)"
	lab_exec router tc filter show dev "$LAN_IF" ingress | grep -q mwan_tc_in || fail "no mwan_tc_in on $LAN_IF"
	json=$(status_json) || fail "bpfctl -j status failed: $json"
	mode=$(lab_exec router ip -d link show "$LAN_IF" | grep -q xdpgeneric && echo generic || echo native)
	out=$(t_labnet attach-check --kernel "$(uname -r)" --ifaces "$LAN_IF" --xdp-mode "$mode" <<<"$json") ||
		fail "$out"
	out=$(t_labnet attach-check --kernel "$(uname -r)" --ifaces eth1,eth2 <<<"$json") || fail "$out"
	echo "$out"
}

# check_lan_traffic [WAN]: a new TCP connection from every mapped host
# behind LAN_IF reaches the internet from one of its own public addresses
# (WAN's, if given), and bpfctl records the flows as opened from the LAN.
check_lan_traffic() {
	local h seen flows n
	t_require_loader
	for h in "${MAPPED[@]}"; do
		seen=$(who "$h")
		if [[ -n ${1:-} ]]; then
			[[ $seen == "$(lab_public "$1" "$h")" ]] || fail "$h came from $seen, not its $1 address"
			continue
		fi
		[[ $seen == "$(lab_public att "$h")" || $seen == "$(lab_public webpass "$h")" ]] ||
			fail "$h came from $seen, none of its public addresses"
	done
	flows=$(lab_ctl -j flows) || fail "bpfctl -j flows failed"
	for h in "${MAPPED[@]}"; do
		n=$("$LAB_PY" -c '
import json, sys
fl = [f for f in json.load(sys.stdin) if f["src"] == sys.argv[1] and f["proto"] == "tcp"]
print(sum(f["origin"] == "lan" for f in fl), sum(f["origin"] != "lan" for f in fl))' "$(lab_host_ip "$h")" <<<"$flows")
		[[ $n == "1 0" || $n == "2 0" ]] || fail "$h: TCP flows (origin lan, other): $n"
	done
	! grep -q "interface gone" "$LAB_LOADER_LOG" || fail "the loader let go of $LAN_IF"
	echo "${#MAPPED[@]} hosts behind $LAN_IF: each from its public address, flows origin lan"
}

# check_gw_moved: att's link moves to another subnet (its gateway4 is no
# longer on-link): att goes down with both reasons, its table keeps only
# the unreachable route (nothing marked for att falls through to the main
# table), and every host's new connections leave by webpass.
check_gw_moved() {
	local h seen out table
	t_require_loader
	lab_exec router ip addr del 100.64.1.2/30 dev eth1
	lab_exec router ip addr add "$MOVED_ROUTER/30" dev eth1
	lab_exec att ip addr add "$MOVED_GW/30" dev to-router
	wan_is att down "gateway not on-link,no route"
	wan_is webpass up ""
	table=$(lab_exec router ip route show table 27900)
	grep -q "^unreachable default .*metric 4294967295" <<<"$table" ||
		fail "table 27900 has no unreachable route: $table"
	! grep -q "^default via" <<<"$table" || fail "table 27900 still routes by a gateway: $table"
	out=$(lab_exec router ip route get "$LAB_SERVER" mark 0x6d770100 2>&1) &&
		fail "a packet marked for att is routed: $out"
	for h in "${MAPPED[@]}"; do
		seen=$(who "$h")
		[[ $seen == "$(lab_public webpass "$h")" ]] || fail "$h came from $seen, not its webpass address"
	done
	grep -q "wan att: .*blocked: gateway not on-link, no route" "$LAB_LOADER_LOG" ||
		fail "the loader did not log why att is blocked"
	echo "att blocked; table 27900: $table; marked for att: $out; ${#MAPPED[@]} hosts via webpass"
}

# check_gw_back: the old subnet back, att carries flows again: its route
# is put back, no reason is left, and some new connection takes att.
check_gw_back() {
	local h i seen out att=0
	t_require_loader
	lab_exec router ip addr del "$MOVED_ROUTER/30" dev eth1
	lab_exec router ip addr add 100.64.1.2/30 dev eth1
	wan_is att up ""
	out=$(lab_exec router ip route show table 27900)
	grep -q "^default via 100.64.1.1 dev eth1" <<<"$out" || fail "no gateway route back in table 27900: $out"
	for i in 1 2 3 4 5; do
		for h in "${MAPPED[@]}"; do
			seen=$(who "$h")
			[[ $seen != "$(lab_public att "$h")" ]] || att=$((att + 1))
		done
	done
	((att > 0)) || fail "none of 20 new connections took att"
	echo "$att of 20 new connections via att"
}

# check_forwarding_runtime: net.ipv4.ip_forward=0 while running blocks
# every WAN ("forwarding off", seen through netconf notifications), and
# turning it back on unblocks them.
check_forwarding_runtime() {
	local wan
	t_require_loader
	lab_sysctl router net.ipv4.ip_forward=0
	for wan in "${LAB_WANS[@]}"; do wan_is "$wan" down "forwarding off"; done
	lab_sysctl router net.ipv4.ip_forward=1
	for wan in "${LAB_WANS[@]}"; do wan_is "$wan" up ""; done
	echo "every WAN: down with 'forwarding off', then up"
}

# check_guest_lan: the second LAN is mwan's too (attached, role
# lan:guest, its own `to LAN lookup main` rule); its mapped host reaches
# the internet from its public addresses and is reached on them; traffic
# between the LANs is routed untranslated.
check_guest_lan() {
	local json out seen peer
	t_require_loader
	lab_exec router ip link show eth5 | grep -q 'prog/xdp' || fail "no XDP on eth5"
	json=$(status_json) || fail "bpfctl -j status failed: $json"
	"$LAB_PY" -c '
import json, sys
i = {x["name"]: x for x in json.load(sys.stdin)["interfaces"]}
assert i["eth5"]["role"] == "lan:guest" and i["eth5"]["xdp_mode"] != "none", i.get("eth5")
assert i[sys.argv[1]]["role"] == "lan:main", i.get(sys.argv[1])' "$LAN_IF" <<<"$json" ||
		fail "interfaces in bpfctl -j status: $json"
	out=$(lab_exec router ip rule show)
	grep -q "^9000:.*to $GUEST_NET lookup main" <<<"$out" || fail "no LAN rule for $GUEST_NET: $out"
	grep -q "^9000:.*to $LAB_LAN_NET lookup main" <<<"$out" || fail "no LAN rule for $LAB_LAN_NET: $out"
	out=$(lab_py guest ident-query --proto tcp --timeout 3 --bind "$GUEST_HOST" \
		--target "$LAB_SERVER:$PORT_WHO")
	seen=${out%%$'\t'*}
	seen=${seen##* peer }
	[[ " ${GUEST_PUBLIC[*]} " == *" $seen "* ]] || fail "$GUEST_HOST came from '$seen': $out"
	# inbound to its att address, from the internet
	out=$(lab_py inet ident-query --proto tcp --timeout 3 --target "${GUEST_PUBLIC[0]}:$PORT_GUEST")
	[[ $out == "ident $GUEST_HOST "* ]] || fail "inbound to ${GUEST_PUBLIC[0]}: $out"
	# between the LANs: routed, untranslated
	out=$(lab_py h2 ident-query --proto tcp --timeout 3 --bind "$(lab_host_ip h2)" \
		--target "$GUEST_HOST:$PORT_GUEST")
	peer=${out%%$'\t'*}
	peer=${peer##* peer }
	[[ $peer == "$(lab_host_ip h2)" ]] || fail "h2 reached $GUEST_HOST as '$peer': $out"
	echo "guest: out from $seen, in via ${GUEST_PUBLIC[0]}, h2 seen as $peer"
}

# check_guest_unmapped: the guest LAN's unmapped host, dropped at the WAN
# and named like any other LAN's.
check_guest_unmapped() {
	local out json
	t_require_loader
	for _ in 1 2 3; do
		out=$(lab_py guest ident-query --proto udp --timeout 1 --bind "$GUEST_UNMAPPED" \
			--target "$LAB_SERVER:$PORT_WHO")
		[[ $out == error:* ]] || fail "$GUEST_UNMAPPED got an answer: $out"
	done
	json=$(lab_ctl -j stats) || fail "bpfctl -j stats failed: $json"
	out=$(t_labnet unmapped-check --src "$GUEST_UNMAPPED" --dst "$LAB_SERVER" --min 3 <<<"$json") ||
		fail "$out"
	echo "$out"
}

# check_unmapped: h6 has no mapping: its traffic leaves no WAN, the
# drop is counted at the WAN it was routed to (internal_src_on_wan),
# bpfctl lists h6 among the unmapped sources, and the loader logs it
# once, not once per attempt.
check_unmapped() {
	local src out json i lines
	t_require_loader
	src=$(lab_host_ip "$UNMAPPED")
	for i in 1 2 3; do
		out=$(lab_py "$UNMAPPED" ident-query --proto tcp --timeout 1 --bind "$src" \
			--target "$LAB_SERVER:$PORT_WHO")
		[[ $out == error:* ]] || fail "$UNMAPPED got an answer: $out"
	done
	json=$(lab_ctl -j stats) || fail "bpfctl -j stats failed: $json"
	out=$(t_labnet unmapped-check --src "$src" --dst "$LAB_SERVER" --min 3 <<<"$json") || fail "$out"
	for ((i = 0; i < 30; i++)); do
		grep -q "lan source $src has no public address" "$LAB_LOADER_LOG" && break
		sleep 0.1
	done
	lines=$(grep -c "lan source $src has no public address on wan .* dropped so far" "$LAB_LOADER_LOG" || true)
	((lines == 1)) || fail "$lines log lines about $src, want 1: $(grep "lan source" "$LAB_LOADER_LOG" | head -n 3)"
	echo "$out; logged once"
}

# check_private_other: a network behind a LAN host that mwan does not
# serve (192.168.77.0/24, fd00:77::/64, routed by the router to h2):
# its packets leave no WAN, counted as private_src_on_wan.
check_private_other() {
	local before after out
	t_require_loader
	before=$(counter private_src_on_wan)
	lab_py h2 ident-query --proto udp --timeout 1 --bind "$OTHER4" --target "$LAB_SERVER:$PORT_WHO" >/dev/null
	lab_py h2 ident-query --proto udp --timeout 1 --bind "$OTHER6" --target "[$LAB_SERVER6]:$PORT_WHO" >/dev/null
	after=$(counter private_src_on_wan)
	((after >= before + 2)) || fail "private_src_on_wan $before -> $after, want +2"
	echo "private_src_on_wan $before -> $after"
}

# check_rp_filter_runtime: strict rp_filter set on webpass while running
# blocks it ("strict rp_filter": the kernel's path would drop its
# replies); loose again, it is back.
check_rp_filter_runtime() {
	t_require_loader
	lab_sysctl router net.ipv4.conf.eth2.rp_filter=1
	wan_is webpass down "strict rp_filter"
	wan_is att up ""
	lab_sysctl router net.ipv4.conf.eth2.rp_filter=2
	wan_is webpass up ""
	echo "webpass: down with 'strict rp_filter', then up"
}

# check_renamed: eth2 renamed away (wp0) is no WAN of the config any
# more: mwan's programs come off it (same index, other name), webpass
# goes down with its reasons and new flows take att; renamed back, it is
# attached again and carries.
check_renamed() {
	local h seen left
	t_require_loader
	lab_exec router ip link set eth2 down
	lab_exec router ip link set eth2 name wp0
	lab_exec router ip link set wp0 up
	wan_is webpass down "link down,no address,no route,health down"
	left=$(lab_exec router ip link show wp0 | grep -o 'prog/xdp' || true)
	left+=$(lab_exec router tc filter show dev wp0 ingress | grep -o 'mwan_tc_in' || true)
	left+=$(lab_exec router tc filter show dev wp0 egress | grep -o 'mwan_tc_out' || true)
	[[ -z $left ]] || fail "left on the renamed device: $left"
	for h in "${MAPPED[@]}"; do
		seen=$(who "$h")
		[[ $seen == "$(lab_public att "$h")" ]] || fail "$h came from $seen while eth2 was gone"
	done
	lab_exec router ip link set wp0 down
	lab_exec router ip link set wp0 name eth2
	lab_exec router ip link set eth2 up
	lab_exec router ip addr add 100.64.2.2/30 dev eth2 2>/dev/null || true
	wan_is webpass up ""
	lab_exec router ip link show eth2 | grep -q 'prog/xdp' || fail "eth2 has no XDP after the rename back"
	lab_exec router tc filter show dev eth2 egress | grep -q mwan_tc_out || fail "eth2 has no egress guard after the rename back"
	grep -q "eth2: interface gone" "$LAB_LOADER_LOG" || fail "no 'interface gone' line for eth2"
	echo "renamed: programs off wp0, webpass down, flows via att; back: attached and up"
}

# check_removed_wan: a restart with webpass gone from the config takes
# its programs off eth2 and its rule and table away; att still carries.
check_removed_wan() {
	local out left
	cat "$LAB_DIR/loader-start.err"
	t_require_loader
	grep -q "eth2: not in this config; removing the XDP TC-in TC-out a previous run attached" "$LAB_LOADER_LOG" ||
		fail "no line about eth2 in the log: $(grep -i eth2 "$LAB_LOADER_LOG" | head -n 3)"
	left=$(ifaces_attached | grep '^eth2\|^eth5' || true)
	[[ -z $left ]] || fail "left on eth2 or eth5 (the guest LAN, gone from the config): $left"
	out=$(lab_exec router ip rule show)
	! grep -q "fwmark 0x6d770101" <<<"$out" || fail "webpass's rule is still there"
	! grep -q "to $GUEST_NET lookup main" <<<"$out" || fail "the guest LAN's rule is still there"
	out=$(lab_exec router ip route show table 27901; lab_exec router ip -6 route show table 27901)
	[[ -z $out ]] || fail "table 27901 still has: $out"
	out=$(who h2)
	[[ $out == "$(lab_public att h2)" ]] || fail "h2 came from $out, not its att address"
	echo "eth2 and eth5 clean, table 27901 empty, guest's rule gone, h2 via att"
}

# check_cleanup_recorded: after a run with both WANs, --cleanup given the
# att-only config still removes everything, eth2 included.
check_cleanup_recorded() {
	local out
	cat "$LAB_DIR/loader-start.err"
	grep -q "dataplane ready" "$LAB_LOADER_LOG" || fail "the run with both WANs did not start"
	ifaces_attached | grep -q '^eth2' || fail "nothing on eth2 after a run with webpass"
	out=$(lab_exec router "$LAB_LOADER" --cleanup -c "$LAB_DIR/att-only.yaml" 2>&1) ||
		fail "--cleanup failed: $out"
	[[ -z $(ifaces_attached) ]] || fail "--cleanup left: $(ifaces_attached | tr '\n' ';')"
	out=$(lab_exec router ip rule show)
	! grep -q fwmark <<<"$out" || fail "--cleanup left rules: $out"
	out=$(lab_exec router ip route show table all | grep -E "table 279[0-9][0-9]" || true)
	[[ -z $out ]] || fail "--cleanup left routes: $out"
	[[ -z $(find "$LAB_PIN" -maxdepth 1 -name 'mwan_*') ]] || fail "--cleanup left pins: $(ls "$LAB_PIN")"
	echo "nothing left on eth1, eth2, eth3, $LAN_IF; no rules, routes or pins"
}

# check_no_private WAN: the WAN link carried traffic, none of it from a
# private source.
check_no_private() {
	local wan=$1 total leaked
	[[ -s $LAB_DIR/$wan.pcap ]] || fail "no capture file for $wan"
	total=$(pcap_count "$wan" ip)
	leaked=$(($(pcap_count "$wan" "$PRIVATE") + $(pcap_count "$wan" "$PRIVATE6")))
	if ((leaked > 0)); then
		tcpdump -r "$LAB_DIR/$wan.pcap" -n -c 5 "($PRIVATE) or ($PRIVATE6)" 2>/dev/null || true
		fail "$leaked packets with a private source left the $wan WAN"
	fi
	((total > 20)) || fail "only $total IPv4 packets on the $wan link"
	echo "$wan link: $total IPv4 packets, none from a private source"
}

# ---- one pass --------------------------------------------------------------------

# start_pass FAST: a lab whose LAN is LAN_IF, captures, servers, the
# loader started.
start_pass() {
	FAST=$1
	T_PREFIX=${KIND_PREFIX:-}$([[ $FAST == true ]] && echo fast || echo slow)
	lab_init "$$"
	lab_up "$FAST"
	lan_move
	if ((GUEST)); then
		guest_lan
		lans_config "$LAB_CFG"
		serve guest-who guest ident-server --addr "$GUEST_HOST" --port "$PORT_GUEST" --name guest
	fi
	# a network behind h2 that no LAN of the config covers
	lab_addr h2 eth0 "$OTHER4/24" "$OTHER6/64"
	lab_route router 192.168.77.0/24 via "$(lab_host_ip h2)"
	lab_route router fd00:77::/64 via "$(lab_host_ip6 h2)"
	start_capture att
	start_capture webpass
	serve who inet ident-server --addr "$LAB_SERVER" --port "$PORT_WHO" --name inet
	serve who6 inet ident-server --addr "$LAB_SERVER6" --port "$PORT_WHO" --name inet6
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "$LAN_KIND LAN: the loader attaches to $LAN_IF and stays attached" check_lan_started
	check "$LAN_KIND LAN: every mapped host's TCP leaves from its public address, flows origin lan" \
		check_lan_traffic
}

# end_pass: no private source on any WAN's capture; the lab goes.
end_pass() {
	local wan
	stop_captures
	for wan in "${LAB_WANS[@]}"; do
		check "capture on the $wan link: no private source" check_no_private "$wan"
	done
	lab_down
	LAB_ID=
}

run_pass() {
	start_pass "$1"
	check "a second LAN (lans: guest on eth5): attached, its rule, its host out and in by its public addresses, routed to the main LAN untranslated" \
		check_guest_lan
	check "the guest LAN's unmapped host: dropped at the WAN, listed by bpfctl" check_guest_unmapped
	check "an unmapped LAN host: nothing leaves, dropped at the WAN and counted there, listed by bpfctl, logged once" \
		check_unmapped
	check "a private network mwan does not serve (IPv4 and ULA): nothing leaves, private_src_on_wan counts it" \
		check_private_other
	check "att's link moves to another subnet: att down (gateway not on-link, no route), table 27900 unreachable, new flows via webpass" \
		check_gw_moved
	check "att's subnet back: att up with no reason, its route back, new flows take it again" check_gw_back
	check "net.ipv4.ip_forward=0 at run time: every WAN down with 'forwarding off'; =1: up again" \
		check_forwarding_runtime
	check "rp_filter=1 on eth2 at run time: webpass down with 'strict rp_filter'; =2: up again" \
		check_rp_filter_runtime
	check "eth2 renamed away and back: programs off the renamed device, webpass down then attached and up" \
		check_renamed
	# the restarts happen here: the loader is this shell's child
	lab_stop_loader 2>>"$LAB_LOADER_LOG" || true
	mapped_config "$FAST" "$LAB_DIR/att-only.yaml" att
	lab_start_loader "$LAB_DIR/att-only.yaml" 2>"$LAB_DIR/loader-start.err" || true
	check "restart without webpass and the guest LAN: their programs, rules and table removed; att carries" \
		check_removed_wan
	lab_stop_loader 2>>"$LAB_LOADER_LOG" || true
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	lab_stop_loader 2>>"$LAB_LOADER_LOG" || true
	check "--cleanup with the att-only config after a run with both WANs removes everything" \
		check_cleanup_recorded
	end_pass
}

# Sourced (tests/matrix/test_lan_kinds.sh) it only defines the functions.
[[ ${BASH_SOURCE[0]} != "$0" ]] || GUEST=1 t_main_passes run_pass
