#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of the IPv4 dataplane, run twice: fast_path true, then false (MWAN_FAST_PATHS overrides).
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 4 MB in make matrix (MWAN_MATRIX): TCG moves bytes slowly
BLOB_MB=$([[ -n ${MWAN_MATRIX:-} ]] && echo 4 || echo 20)
BLOB_SIZE=$((BLOB_MB * 1024 * 1024))
PORT_FILE=6001 PORT_SINK=6002 PORT_FLOWS=5001 PORT_BIG=5002 PORT_IDENT=7000 PORT_WHO=7001
UDP_FLOWS_PER_HOST=400 BIG_PER_HOST=6

# ---- setup --------------------------------------------------------------------

start_servers() {
	local h
	serve file inet serve-file --port "$PORT_FILE" --file "$LAB_DIR/blob" --log "$LAB_DIR/file.jsonl"
	serve sink inet sink-tcp --port "$PORT_SINK" --log "$LAB_DIR/sink.jsonl"
	serve flows inet udp-sink --port "$PORT_FLOWS" --log "$LAB_DIR/flows.jsonl"
	serve big inet udp-sink --port "$PORT_BIG" --log "$LAB_DIR/big.jsonl"
	serve who inet ident-server --addr "$LAB_SERVER" --port "$PORT_WHO" --name inet
	for h in "${LAB_HOSTS[@]}"; do
		serve "ident-$h" "$h" ident-server --addr "$(lab_host_ip "$h")" --port "$PORT_IDENT" --name "$h"
	done
}

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

# unresolved_neighbours: WAN gateways and mapped hosts whose MAC mwan lacks.
unresolved_neighbours() {
	local wan mac
	for wan in "${LAB_WANS[@]}"; do
		mac=$(lab_ctl -j status | t_labnet wan-field "$wan" gateway_mac) || mac=None
		[[ $mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || echo "gateway of $wan"
	done
	lab_ctl -j nat | "$LAB_PY" -c 'import json, sys
for m in json.load(sys.stdin):
    if not m["mac"]:
        print("host", m["internal"])'
}

# check_neighbours_resolved: the loader has the kernel resolve gateways and
# LAN hosts itself, before any traffic, so XDP can forward from the start.
check_neighbours_resolved() {
	local i missing
	t_require_loader
	for i in $(seq 30); do
		missing=$(unresolved_neighbours)
		[[ -z $missing ]] && return 0
		sleep 0.1
	done
	fail "still unresolved after 3 s: $(echo "$missing" | tr '\n' ' ')"
}

# check_download WAN: h2 fetches the blob; bytes and the server's view of h2.
check_download() {
	local want_src out sha len port peer sport
	t_require_loader
	want_src=$(lab_public "$1" h2)
	out=$(lab_py h2 fetch --connect "$LAB_SERVER:$PORT_FILE" --timeout 60 2>&1) ||
		fail "download failed: $out"
	read -r sha len port <<<"$out"
	[[ $len == "$BLOB_SIZE" && $sha == "$BLOB_SHA" ]] ||
		fail "got $len bytes sha256 ${sha:0:16}.., want $BLOB_SIZE bytes ${BLOB_SHA:0:16}.."
	peer=$(t_json_last "$LAB_DIR/file.jsonl" peer)
	sport=$(t_json_last "$LAB_DIR/file.jsonl" sport)
	[[ $peer == "$want_src" && $sport == "$port" ]] ||
		fail "server saw the client as $peer:$sport, want $want_src:$port"
}

# check_upload WAN: h2 sends the blob; the server's sha256 and view of h2.
check_upload() {
	local want_src out sha len port peer
	t_require_loader
	want_src=$(lab_public "$1" h2)
	out=$(lab_py h2 send-file --connect "$LAB_SERVER:$PORT_SINK" --file "$LAB_DIR/blob" --timeout 60 2>&1) ||
		fail "upload failed: $out"
	read -r sha len port <<<"$out"
	[[ $len == "$BLOB_SIZE" && $sha == "$BLOB_SHA" ]] ||
		fail "server got $len bytes sha256 ${sha:0:16}.., want $BLOB_SIZE bytes ${BLOB_SHA:0:16}.."
	peer=$(t_json_last "$LAB_DIR/sink.jsonl" peer)
	[[ $peer == "$want_src" ]] || fail "server saw the client as $peer, want $want_src"
}

# tcp_through WAN: force new flows onto WAN (other WAN admin down), transfer, restore.
tcp_through() {
	local wan=$1 other
	other=$([[ $wan == att ]] && echo webpass || echo att)
	check "bpfctl wan $other down: status shows $other admin down, state down" \
		check_wan_admin "$other" down down
	check "tcp $BLOB_MB MB download through $wan (sha256, server sees $(lab_public "$wan" h2))" \
		check_download "$wan"
	check "tcp $BLOB_MB MB upload through $wan (sha256, server sees $(lab_public "$wan" h2))" \
		check_upload "$wan"
	check "bpfctl wan $other auto: status shows $other admin auto, state up" \
		check_wan_admin "$other" auto up
}

send_udp_flows() {
	local h pids=()
	for h in "${LAB_HOSTS[@]}"; do
		lab_py "$h" udp-flows --dst "$LAB_SERVER:$PORT_FLOWS" --src "$(lab_host_ip "$h")" \
			--count "$UDP_FLOWS_PER_HOST" --base-port 20000 --packets 2 &
		pids+=($!)
	done
	for h in "${pids[@]}"; do wait "$h" || true; done
	t_wait_settled "$LAB_DIR/flows.jsonl" $((2 * UDP_FLOWS_PER_HOST * ${#LAB_HOSTS[@]})) 10
}

# check_flows ASPECT: sources (every flow from its host's address on one WAN) or split.
check_flows() {
	local nat
	t_require_loader
	mapfile -t nat < <(lab_nat_args)
	t_labnet flows-check --log "$LAB_DIR/flows.jsonl" --aspect "$1" --nat "${nat[@]}" \
		--expect $((UDP_FLOWS_PER_HOST * ${#LAB_HOSTS[@]})) --wans "${LAB_WANS[@]}" \
		--iface att=to-att,webpass=to-webpass --weights att=3,webpass=1 --tolerance 5
}

# check_inbound PROTO WAN: every public address of WAN reaches its host, reply via WAN.
check_inbound() {
	local proto=$1 wan=$2 h pub out reply from iface want_if=${LAB_WAN_INET_IF[$2]}
	t_require_loader
	for h in "${LAB_HOSTS[@]}"; do
		pub=$(lab_public "$wan" "$h")
		out=$(lab_py inet ident-query --proto "$proto" --target "$pub:$PORT_IDENT" --bind "$LAB_SERVER")
		IFS=$'\t' read -r reply from iface <<<"$out"
		[[ $reply == "ident $(lab_host_ip "$h") $h "* ]] ||
			fail "$proto to $pub: reply '$reply' (want ident $(lab_host_ip "$h") $h)"
		[[ $from == "$pub" ]] || fail "$proto to $pub: reply came from $from"
		[[ $proto == tcp || $iface == "$want_if" ]] ||
			fail "$proto to $pub: reply arrived on $iface, want $want_if ($wan)"
	done
}

check_ping_out() {
	local h out
	t_require_loader
	for h in "${LAB_HOSTS[@]}"; do
		out=$(lab_exec "$h" ping -n -c 3 -i 0.2 -W 2 "$LAB_SERVER" 2>&1) ||
			fail "$h: $(grep -E 'packet loss|From' <<<"$out" | head -n 2 | tr '\n' ' ')"
	done
}

check_ping_in() {
	local h w pub out
	t_require_loader
	for w in "${LAB_WANS[@]}"; do
		for h in "${LAB_HOSTS[@]}"; do
			pub=$(lab_public "$w" "$h")
			out=$(lab_exec inet ping -n -c 1 -W 2 -I "$LAB_SERVER" "$pub" 2>&1) ||
				fail "ping $pub ($h via $w): $(grep 'packet loss' <<<"$out")"
		done
	done
}

check_traceroute() {
	local out hops isp a found=
	t_require_loader
	out=$(lab_exec h2 traceroute -n -w 2 -q 3 -m 8 "$LAB_SERVER" 2>&1) || fail "traceroute failed: $out"
	echo "$out"
	hops=$(tail -n +2 <<<"$out" | grep -oE '([0-9]+\.){3}[0-9]+' | sort -u | tr '\n' ' ')
	for isp in "${LAB_ISP_ADDRS[@]}"; do
		[[ " $hops" == *" $isp "* ]] && found=$isp
	done
	for a in "$LAB_ROUTER_LAN" "$LAB_SERVER"; do
		[[ " $hops" == *" $a "* ]] || fail "no hop $a in: $hops"
	done
	[[ -n $found ]] || fail "no ISP hop (${LAB_ISP_ADDRS[*]}) in: $hops"
	[[ $(tail -n 1 <<<"$out") == *"$LAB_SERVER"* ]] || fail "last hop is not $LAB_SERVER"
}

check_pmtu() {
	local out
	t_require_loader
	out=$(lab_exec h3 ping -n -M "do" -s 1472 -c 3 -i 0.3 -W 2 "$LAB_SERVER" 2>&1) || true
	echo "$out"
	grep -q 'Frag needed.*mtu = 1400' <<<"$out" ||
		fail "h3 got no 'Frag needed ... mtu = 1400': $(grep -E 'From|error|loss' <<<"$out" | head -n 2 | tr '\n' ' ')"
	out=$(lab_exec h3 ping -n -M "do" -s 1372 -c 2 -i 0.3 -W 2 "$LAB_SERVER" 2>&1) ||
		fail "a DF 1400-byte ping after that fails: $(grep -E 'From|error|loss' <<<"$out" | head -n 2 | tr '\n' ' ')"
	grep 'packet loss' <<<"$out"
}

send_big_udp() {
	local h i=0
	for h in "${LAB_HOSTS[@]}"; do
		lab_py "$h" udp-big --dst "$LAB_SERVER:$PORT_BIG" --src "$(lab_host_ip "$h")" \
			--count "$BIG_PER_HOST" --size 4000 --base-port $((30000 + 100 * i))
		i=$((i + 1))
	done
	t_wait_settled "$LAB_DIR/big.jsonl" $((BIG_PER_HOST * ${#LAB_HOSTS[@]})) 5
}

check_big_udp() {
	local nat
	t_require_loader
	mapfile -t nat < <(lab_nat_args)
	t_labnet big-check --log "$LAB_DIR/big.jsonl" --nat "${nat[@]}" --size 4000 \
		--expect $((BIG_PER_HOST * ${#LAB_HOSTS[@]}))
}

check_stats_fast() {
	local out in
	t_require_loader
	out=$(counter xdp_forward_out)
	in=$(counter xdp_forward_in)
	echo "xdp_forward_out=$out xdp_forward_in=$in"
	((out > 0)) || fail "xdp_forward_out=$out: the fast path forwarded nothing out in XDP"
	((in > 0)) || fail "xdp_forward_in=$in: the fast path forwarded nothing in in XDP"
}

check_stats_slow() {
	local out in snat dnat
	t_require_loader
	out=$(counter xdp_forward_out)
	in=$(counter xdp_forward_in)
	snat=$(counter tc_snat)
	dnat=$(counter tc_dnat)
	echo "xdp_forward_out=$out xdp_forward_in=$in tc_snat=$snat tc_dnat=$dnat"
	((out == 0 && in == 0)) || fail "XDP forwarded with fast_path: false (out=$out in=$in)"
	((snat > 0)) || fail "tc_snat=$snat: the TC path translated nothing outbound"
	((dnat > 0)) || fail "tc_dnat=$dnat: the TC path translated nothing inbound"
}

check_capture() {
	local wan=$1 total public leaked frags
	[[ -s $LAB_DIR/$wan.pcap ]] || fail "no capture file for $wan"
	total=$(pcap_count "$wan" ip)
	public=$(pcap_count "$wan" src net "${LAB_WAN_NET[$wan]}")
	leaked=$(pcap_count "$wan" src net "$LAB_LAN_NET")
	frags=$(pcap_count "$wan" src net "${LAB_WAN_NET[$wan]}" and '(ip[6:2] & 0x3fff != 0)')
	echo "$wan link: $total IPv4 packets, $public from ${LAB_WAN_NET[$wan]}, $frags fragments, $leaked from $LAB_LAN_NET"
	if ((leaked > 0)); then
		tcpdump -r "$LAB_DIR/$wan.pcap" -n -c 5 src net "$LAB_LAN_NET" 2>/dev/null || true
		fail "$leaked packets with an internal source left the $wan WAN"
	fi
	# a run of a few checks (tests/matrix/test_vlan.sh) names the WANs it
	# sends too little through to count
	[[ " ${CAPTURE_LEAKS_ONLY:-} " != *" $wan "* ]] || return 0
	((total > 1000 && public > 500)) || fail "capture too small to mean anything: $total packets, $public public"
	((frags > 0)) || fail "no fragments from ${LAB_WAN_NET[$wan]} on the $wan link"
}

# check_router_pmtu: with the router's own WAN links at MTU 1280 (the loader
# follows the change over netlink), a DF packet that no longer fits is left
# to the kernel, which answers "Frag needed" from the router itself.
check_router_pmtu() {
	local out wan rc=0
	t_require_loader
	for wan in "${LAB_WANS[@]}"; do lab_exec router ip link set "${LAB_WAN_IF[$wan]}" mtu 1280; done
	sleep 1.5
	out=$(lab_exec h4 ping -n -M "do" -s 1300 -c 2 -i 0.3 -W 2 "$LAB_SERVER" 2>&1) || true
	for wan in "${LAB_WANS[@]}"; do lab_exec router ip link set "${LAB_WAN_IF[$wan]}" mtu 1500; done
	echo "$out"
	grep -q "From $LAB_ROUTER_LAN.*Frag needed.*mtu = 1280" <<<"$out" || rc=1
	((rc == 0)) || fail "h4 got no 'Frag needed ... mtu = 1280' from $LAB_ROUTER_LAN: $(grep -E 'From|error|loss' <<<"$out" | head -n 2 | tr '\n' ' ')"
}

# check_burst: 200 new UDP flows at once from h2, just after the loader
# started, each answered (a patient client: it asks again every second
# for up to 8 s), seen by the server from h2's public addresses only, on
# both WANs.
check_burst() {
	t_burst h2 "$LAB_SERVER:$PORT_WHO" 30000 "${LAB_WANS[@]}"
}

# ---- one pass --------------------------------------------------------------------

run_checks() {
	local mode=$1 wan proto
	check "burst of 200 new UDP flows from h2 right after the start: all answered within 8 s, from h2's public addresses on every WAN" \
		check_burst
	for wan in "${LAB_WANS[@]}"; do tcp_through "$wan"; done
	send_udp_flows
	check "2000 UDP flows: each from its host's public address on the WAN it took, same for all its packets" \
		check_flows sources
	check "2000 UDP flows: att:webpass 3:1 within 5 points, every host on both" check_flows split
	for proto in tcp udp; do
		for wan in "${LAB_WANS[@]}"; do
			check "inbound $proto to every $wan public address reaches its host, reply from it via $wan" \
				check_inbound "$proto" "$wan"
		done
	done
	check "ping from every LAN host to $LAB_SERVER" check_ping_out
	check "ping from inet to every public address" check_ping_in
	check "traceroute -n from h2 shows $LAB_ROUTER_LAN, an ISP hop and $LAB_SERVER" check_traceroute
	check "ping -M do -s 1472 from h3 gets 'Frag needed' with mtu 1400, then 1400 bytes pass" check_pmtu
	check "router WAN MTU 1280: DF 1328-byte ping gets 'Frag needed' mtu 1280 from the router" check_router_pmtu
	send_big_udp
	check "4000-byte UDP datagrams from every host arrive whole (fragmented)" check_big_udp
	if [[ $mode == fast ]]; then
		check "bpfctl -j stats: xdp_forward_out > 0, xdp_forward_in > 0" check_stats_fast
	else
		check "bpfctl -j stats: xdp_forward_out/in == 0, tc_snat > 0, tc_dnat > 0" check_stats_slow
	fi
}

run_pass() {
	local fast=$1 wan
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	lab_init "$$"
	lab_up "$fast"
	make_blob
	start_capture att
	start_capture webpass
	start_servers
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with fast_path: $fast (dataplane ready)" check_loader_started
	check "gateway and LAN host MACs resolved by the loader before any traffic" check_neighbours_resolved
	run_checks "$T_PREFIX"
	t_stop_loader_check
	stop_captures
	for wan in "${LAB_WANS[@]}"; do
		check "capture on the $wan link: packets, fragments, none from $LAB_LAN_NET" check_capture "$wan"
	done
	lab_down
	LAB_ID=
}

# Sourced (tests/matrix/test_vlan.sh) it only defines the functions.
[[ ${BASH_SOURCE[0]} != "$0" ]] || t_main_passes run_pass
