#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of NPTv6 fed by DHCPv6-PD (kea in the ISPs, dhcpcd + mwan's hook on the router), fast_path true then false.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BLOB_SIZE=$((4 * 1024 * 1024))
PORT_FILE=6001 PORT_SINK=6002 PORT_IDENT=7000
FLOWS_PER_HOST=100
NEW_PD_ATT=2001:db8:a0:200::/56 # what att's ISP delegates after the change
SHORT_VALID=6                   # ... for that long, so that it expires soon
SWITCH_LIMIT=1.0                # new flows use a new prefix this soon (s)
# One UDP sink per phase.
declare -A SINK_PORT=([flows]=5001 [switch]=5002 [expired]=5003 [noprefix]=5004)
declare -A PD # each WAN's delegated prefix now ("" when it has none)

# ---- what to expect (labnet.py does RFC 6296 on its own) ------------------------

npt() {
	t_labnet npt --internal "$LAB_LAN_NET6" --delegated "${PD[$1]}" --subnet "$LAB_NPT_SUBNET" "${@:2}"
}

# ext_prefix WAN: its external /64. ext_addr WAN HOST: HOST as seen through WAN.
ext_prefix() { npt "$1"; }
ext_addr() { npt "$1" "$(lab_host_ip6 "$2")"; }

# npt_nat_args WAN...: INTERNAL,WAN,EXTERNAL for every host (in LAB_HOSTS order).
npt_nat_args() {
	local wan h i internal=() ext
	for h in "${LAB_HOSTS[@]}"; do internal+=("$(lab_host_ip6 "$h")"); done
	for wan in "$@"; do
		mapfile -t ext < <(npt "$wan" "${internal[@]}")
		for i in "${!internal[@]}"; do echo "${internal[$i]},$wan,${ext[$i]}"; done
	done
}

# ---- setup ---------------------------------------------------------------------------

start_servers() {
	local h sink
	serve file inet serve-file --addr :: --port "$PORT_FILE" --file "$LAB_DIR/blob" --log "$LAB_DIR/file.jsonl"
	serve sink inet sink-tcp --addr :: --port "$PORT_SINK" --log "$LAB_DIR/sink.jsonl"
	for sink in "${!SINK_PORT[@]}"; do
		serve "udp-$sink" inet udp-sink --addr :: --port "${SINK_PORT[$sink]}" --log "$LAB_DIR/$sink.jsonl"
	done
	for h in "${LAB_HOSTS[@]}"; do
		serve "ident-$h" "$h" ident-server --addr "$(lab_host_ip6 "$h")" --port "$PORT_IDENT" --name "$h"
	done
}

hook_log() { echo "$(lab_dhcpcd_dir)/hook.log"; }

# hook_line SKIP ERE: the first line of the hook log after line SKIP matching ERE.
hook_line() {
	tail -n +"$(($1 + 1))" "$(hook_log)" 2>/dev/null | grep -m 1 -E -- "$2"
}

# send_flows SINK COUNT PACKETS GAP HOST...: COUNT UDP flows from each HOST's
# IPv6 address to the server's SINK port, in parallel; wait for the sink.
send_flows() {
	local sink=$1 count=$2 packets=$3 gap=$4 h pids=()
	shift 4
	for h in "$@"; do
		lab_py "$h" udp-flows --dst "[$LAB_SERVER6]:${SINK_PORT[$sink]}" --src "$(lab_host_ip6 "$h")" \
			--count "$count" --packets "$packets" --gap "$gap" --base-port 20000 &
		pids+=($!)
	done
	for h in "${pids[@]}"; do wait "$h" || true; done
	t_wait_settled "$LAB_DIR/$sink.jsonl" $((count * packets * $#)) 5
}

# save_stats NAME: `bpfctl -j stats` now, for stat_delta.
save_stats() { lab_ctl -j stats >"$LAB_DIR/stats-$1.json" 2>&1 || true; }

# stat_delta NAME COUNTER: how much COUNTER grew since save_stats NAME.
stat_delta() {
	local before now
	before=$(t_labnet counter "$2" <"$LAB_DIR/stats-$1.json" 2>&1) ||
		fail "no $2 in the stats saved at $1: $(head -c 300 "$LAB_DIR/stats-$1.json")"
	now=$(counter "$2") || fail "$now"
	echo $((now - before))
}

# ---- checks (each runs in a subshell; `fail` ends it) --------------------------------

# check_hook_ran SKIP ERE TIMEOUT_S: dhcpcd ran the hook (a start line
# matching ERE after line SKIP of the hook log) and the hook exited 0.
check_hook_ran() {
	local skip=$1 ere=$2 tenths=$(($3 * 10)) i start end reason ifn dir
	dir=$(lab_dhcpcd_dir)
	for ((i = 0; i < tenths; i++)); do
		start=$(hook_line "$skip" "^[0-9.]+ $ere") && break
		sleep 0.1
	done
	if [[ -z $start ]]; then
		tail -n 5 "$dir/dhcpcd.log" 2>/dev/null | sed 's/^/dhcpcd: /'
		tail -n 3 "$(hook_log)" 2>/dev/null | sed 's/^/hook: /'
		fail "no hook run '$ere' within $3 s"
	fi
	read -r _ _ reason ifn _ <<<"$start"
	for ((i = 0; i < 50; i++)); do
		end=$(hook_line "$skip" "^[0-9.]+ end $reason $ifn ") && break
		sleep 0.1
	done
	[[ -n $end ]] || fail "the hook ($reason $ifn) did not finish within 5 s"
	if [[ $end != *" rc=0" ]]; then
		tail -n 5 "$dir/hook.out" 2>/dev/null | sed 's/^/hook output: /'
		fail "the hook ($reason $ifn) exited with ${end##* }"
	fi
	echo "${start:0:150}.. (the hook took $(awk -v a="${start%% *}" -v b="${end%% *}" 'BEGIN { printf "%.3f", b - a }') s)"
}

# wan_values WAN: every field of WAN in `bpfctl -j status` as path=value.
wan_values() {
	local json
	json=$(lab_ctl -j status 2>&1) || fail "bpfctl -j status failed: $json"
	t_labnet wan-values "$1" <<<"$json" || fail "no WAN $1 in: ${json:0:300}"
}

# check_status_pd WAN: status shows WAN's delegated prefix and external /64.
check_status_pd() {
	local ext vals i
	t_require_loader
	ext=$(ext_prefix "$1")
	for i in $(seq 20); do
		vals=$(wan_values "$1") || fail "$vals"
		if grep -q -- "=${PD[$1]}$" <<<"$vals" && grep -q -- "=$ext$" <<<"$vals"; then
			grep -E -- "=(${PD[$1]}|$ext)$" <<<"$vals" | tr '\n' ' '
			return 0
		fi
		sleep 0.1
	done
	echo "$vals"
	fail "bpfctl -j status does not show ${PD[$1]} and $ext for $1"
}

# check_status_no_pd WAN: no address of WAN's delegation range left in its status.
check_status_no_pd() {
	local range=${LAB_WAN_POOL6[$1]%::/*}: vals i
	t_require_loader
	for i in $(seq 20); do
		vals=$(wan_values "$1") || fail "$vals"
		grep -q -- "=$range" <<<"$vals" || return 0
		sleep 0.1
	done
	fail "bpfctl -j status still shows for $1: $(grep -- "=$range" <<<"$vals" | tr '\n' ' ')"
}

# check_transfer CMD WAN: h2 fetches the blob from, or sends it to, the
# IPv6 server; bytes, sha256 and the client's address as the server saw it.
check_transfer() {
	local cmd=$1 want out sha len port peer log=$LAB_DIR/file.jsonl
	local args=(--connect "[$LAB_SERVER6]:$PORT_FILE")
	t_require_loader
	want=$(ext_addr "$2" h2)
	if [[ $cmd == send-file ]]; then
		log=$LAB_DIR/sink.jsonl
		args=(--connect "[$LAB_SERVER6]:$PORT_SINK" --file "$LAB_DIR/blob")
	fi
	out=$(lab_py h2 "$cmd" "${args[@]}" --timeout 30 2>&1) || fail "$cmd failed: $out"
	read -r sha len port <<<"$out"
	[[ $len == "$BLOB_SIZE" && $sha == "$BLOB_SHA" ]] ||
		fail "$len bytes sha256 ${sha:0:16}.. arrived, want $BLOB_SIZE bytes ${BLOB_SHA:0:16}.."
	# The server logs the connection once it is done with it.
	lab_wait_log "$log" "\"sport\": $port," 2 || fail "the server logged no client with port $port"
	peer=$(grep -F "\"sport\": $port," "$log" | tail -n 1 | sed -E 's/.*"peer": "([^"]*)".*/\1/')
	[[ $peer == "$want" ]] || fail "the server saw the client as [$peer]:$port, want [$want]:$port"
}

# tcp_through WAN: new flows on WAN only (the other admin down), both ways.
tcp_through() {
	local wan=$1 other ext
	other=$([[ $wan == att ]] && echo webpass || echo att)
	ext=$(ext_addr "$wan" h2)
	check "bpfctl wan $other down: status shows $other admin down, state down" \
		check_wan_admin "$other" down down
	check "tcp 4 MB download over IPv6 through $wan (sha256, server sees $ext)" \
		check_transfer fetch "$wan"
	check "tcp 4 MB upload over IPv6 through $wan (sha256, server sees $ext)" \
		check_transfer send-file "$wan"
	check "bpfctl wan $other auto: status shows $other admin auto, state up" \
		check_wan_admin "$other" auto up
}

# check_flows SINK ASPECT EXPECT WAN...: the flows a sink saw came from
# their hosts' external addresses on the WANs given (flows-check ASPECT).
check_flows() {
	local nat
	t_require_loader
	mapfile -t nat < <(npt_nat_args "${@:4}")
	t_labnet flows-check --log "$LAB_DIR/$1.jsonl" --aspect "$2" --nat "${nat[@]}" \
		--expect "$3" --wans "${@:4}" --iface att=to-att,webpass=to-webpass \
		--weights att=3,webpass=1 --tolerance 10
}

# check_inbound PROTO WAN: from the server, every host's external address on
# WAN reaches the host (which sees its own address and the server's), and
# the reply comes from that external address (UDP: in over WAN's link).
check_inbound() {
	local proto=$1 wan=$2 h i=0 exts out reply from iface want_if=${LAB_WAN_INET_IF[$2]}
	t_require_loader
	mapfile -t exts < <(npt_nat_args "$wan" | cut -d, -f3)
	for h in "${LAB_HOSTS[@]}"; do
		out=$(lab_py inet ident-query --proto "$proto" --target "[${exts[i]}]:$PORT_IDENT" --bind "$LAB_SERVER6")
		IFS=$'\t' read -r reply from iface <<<"$out"
		[[ $reply == "ident $(lab_host_ip6 "$h") $h peer $LAB_SERVER6" ]] ||
			fail "$proto to ${exts[i]}: reply '$reply' (want ident $(lab_host_ip6 "$h") $h peer $LAB_SERVER6)"
		[[ $from == "${exts[i]}" ]] || fail "$proto to ${exts[i]}: reply came from $from"
		[[ $proto == tcp || $iface == "$want_if" ]] ||
			fail "$proto to ${exts[i]}: reply arrived on $iface, want $want_if ($wan)"
		i=$((i + 1))
	done
}

check_ping_out() {
	local h out
	t_require_loader
	for h in "${LAB_HOSTS[@]}"; do
		out=$(lab_exec "$h" ping -6 -n -c 3 -i 0.2 -W 2 "$LAB_SERVER6" 2>&1) ||
			fail "$h: $(grep -E 'packet loss|From' <<<"$out" | head -n 2 | tr '\n' ' ')"
	done
}

# check_pmtu: a 1500-byte DF packet meets an ISP's 1400-byte link; the
# ISP's Packet Too Big (to the external address) reaches h3 translated.
check_pmtu() {
	local out
	t_require_loader
	out=$(lab_exec h3 ping -6 -n -M "do" -s 1452 -c 3 -i 0.3 -W 2 "$LAB_SERVER6" 2>&1) || true
	echo "$out"
	grep -q 'From .*Packet too big: mtu=1400' <<<"$out" ||
		fail "h3 got no 'Packet too big: mtu=1400': $(grep -E 'From|error|loss' <<<"$out" | head -n 2 | tr '\n' ' ')"
	out=$(lab_exec h3 ping -6 -n -M "do" -s 1352 -c 2 -i 0.3 -W 2 "$LAB_SERVER6" 2>&1) ||
		fail "a 1400-byte ping after that fails: $(grep -E 'From|error|loss' <<<"$out" | head -n 2 | tr '\n' ' ')"
	grep 'packet loss' <<<"$out"
}

# check_stats MODE: what the IPv6 steps since save_stats v6 did to the counters.
check_stats() {
	local out in snat dnat
	t_require_loader
	out=$(stat_delta v6 xdp_forward_out) || fail "$out"
	in=$(stat_delta v6 xdp_forward_in) || fail "$in"
	snat=$(stat_delta v6 tc_snat) || fail "$snat"
	dnat=$(stat_delta v6 tc_dnat) || fail "$dnat"
	echo "during the IPv6 steps: xdp_forward_out +$out, xdp_forward_in +$in, tc_snat +$snat, tc_dnat +$dnat"
	if [[ $1 == fast ]]; then
		((out > 0)) || fail "xdp_forward_out +$out: XDP forwarded no IPv6 packet out"
		((in > 0)) || fail "xdp_forward_in +$in: XDP forwarded no IPv6 packet in"
	else
		((out == 0 && in == 0)) || fail "XDP forwarded with fast_path: false (out +$out, in +$in)"
		((snat > 0)) || fail "tc_snat +$snat: the TC path translated nothing outbound"
		((dnat > 0)) || fail "tc_dnat +$dnat: the TC path translated nothing inbound"
	fi
}

# check_switch SINCE OLD NEW: flows from h2 started once the hook ran at
# SINCE: the first from NEW within SWITCH_LIMIT s, none from OLD after it.
check_switch() {
	t_require_loader
	t_labnet switch-check --log "$LAB_DIR/switch.jsonl" --since "$1" --old "$2" --new "$3" \
		--limit "$SWITCH_LIMIT"
}

# check_no_prefix N: with no prefix anywhere, N flows reached nobody and
# were counted as npt_no_prefix drops.
check_no_prefix() {
	local seen drops
	t_require_loader
	seen=$(t_log_lines "$LAB_DIR/noprefix.jsonl")
	drops=$(stat_delta noprefix npt_no_prefix) || fail "$drops"
	echo "$1 flows sent, $seen datagrams arrived, npt_no_prefix +$drops"
	((seen == 0)) || fail "$seen datagrams reached the server: $(head -n 1 "$LAB_DIR/noprefix.jsonl")"
	((drops > 0)) || fail "npt_no_prefix +$drops: the drops were not counted"
}

# check_capture WAN: the whole pass on WAN's link (ISP side): plenty of IPv6
# from WAN's delegation range, DHCPv6, and no byte string of the internal
# prefix in any packet (outer or quoted addresses).
check_capture() {
	local wan=$1 pool=${LAB_WAN_POOL6[$1]} total external dhcp leaked
	[[ -s $LAB_DIR/$wan.pcap ]] || fail "no capture file for $wan"
	total=$(pcap_count "$wan" ip6)
	external=$(pcap_count "$wan" ip6 and src net "$pool")
	dhcp=$(pcap_count "$wan" ip6 and udp port 547)
	leaked=$(t_labnet pcap-grep "$LAB_DIR/$wan.pcap" "$LAB_LAN_NET6")
	echo "$wan link: $total IPv6 packets, $external from $pool, $dhcp DHCPv6, ${leaked%% *} carrying $LAB_LAN_NET6"
	if [[ ${leaked%% *} != 0 ]]; then
		tcpdump -r "$LAB_DIR/$wan.pcap" -n -c 5 ip6 and src net "$LAB_LAN_NET6" 2>/dev/null || true
		fail "${leaked%% *} packets on the $wan link carry $LAB_LAN_NET6 (packets ${leaked#* })"
	fi
	((total > 1000 && external > 500 && dhcp > 0)) ||
		fail "capture too small to mean anything: $total IPv6 packets, $external from $pool, $dhcp DHCPv6"
}

# ---- phases (main shell) --------------------------------------------------------------

# run_bound: dhcpcd gets each WAN's first /56; the hook hands it to mwan.
run_bound() {
	local wan ifn
	lab_start_pd 2>"$LAB_DIR/pd-start.err" || t_setup_fail "$(cat "$LAB_DIR/pd-start.err")"
	for wan in "${LAB_WANS[@]}"; do
		ifn=${LAB_WAN_IF[$wan]}
		check "dhcpcd on $ifn gets $wan's ${PD[$wan]} from kea; the hook runs (BOUND6) and exits 0" \
			check_hook_ran 0 "start BOUND6 $ifn .*_prefix[0-9]+=${PD[$wan]%/*} " 15
		check "bpfctl -j status: $wan delegated ${PD[$wan]}, external $(ext_prefix "$wan")" \
			check_status_pd "$wan"
	done
}

# run_traffic MODE: IPv6 both ways through both WANs, then the counters.
run_traffic() {
	local wan proto nflows=$((FLOWS_PER_HOST * ${#LAB_HOSTS[@]}))
	save_stats v6
	for wan in "${LAB_WANS[@]}"; do tcp_through "$wan"; done
	send_flows flows "$FLOWS_PER_HOST" 2 0 "${LAB_HOSTS[@]}"
	check "$nflows IPv6 UDP flows: each from its host's RFC 6296 address on the WAN it took" \
		check_flows flows sources "$nflows" "${LAB_WANS[@]}"
	check "$nflows IPv6 UDP flows: att:webpass 3:1 within 10 points, every host on both" \
		check_flows flows split "$nflows" "${LAB_WANS[@]}"
	for proto in tcp udp; do
		for wan in "${LAB_WANS[@]}"; do
			check "inbound $proto to every host's external address on $wan ($(ext_prefix "$wan")) reaches it, reply via $wan" \
				check_inbound "$proto" "$wan"
		done
	done
	check "ping -6 from every LAN host to $LAB_SERVER6" check_ping_out
	check "ping -6 -M do -s 1452 from h3 gets 'Packet too big: mtu=1400', then 1400 bytes pass" check_pmtu
	check "bpfctl -j stats over the IPv6 steps: $([[ $1 == fast ]] && echo 'xdp_forward_out/in grew' ||
		echo 'xdp_forward_out/in unchanged, tc_snat/tc_dnat grew')" check_stats "$1"
}

# run_prefix_change: att's ISP delegates NEW_PD_ATT; dhcpcd renews; new
# flows (webpass admin down, so they take att) must use it at once.
run_prefix_change() {
	local skip ere since old new
	check "bpfctl wan webpass down: status shows webpass admin down, state down" \
		check_wan_admin webpass down down
	skip=$(t_log_lines "$(hook_log)")
	old=$(ext_addr att h2)
	lab_kea_delegate att "$NEW_PD_ATT" "$SHORT_VALID" 2>"$LAB_DIR/kea.err" ||
		t_setup_fail "$(cat "$LAB_DIR/kea.err")"
	lab_dhcpcd -N "${LAB_WAN_IF[att]}" >>"$LAB_DIR/dhcpcd-ctl.log" 2>&1 || true
	PD[att]=$NEW_PD_ATT
	new=$(ext_addr att h2)
	ere="start (RENEW6|REBIND6) ${LAB_WAN_IF[att]} .*_prefix[0-9]+=${NEW_PD_ATT%/*} "
	check "att's ISP now delegates $NEW_PD_ATT: dhcpcd -N gets it, the hook runs and exits 0" \
		check_hook_ran "$skip" "$ere" 10
	since=$(hook_line "$skip" "^[0-9.]+ $ere" | cut -d' ' -f1) || since=
	if [[ -n $since ]]; then
		lab_py h2 udp-flows --dst "[$LAB_SERVER6]:${SINK_PORT[switch]}" --src "$(lab_host_ip6 h2)" \
			--count 40 --packets 1 --gap 0.05 --base-port 21000
		t_wait_settled "$LAB_DIR/switch.jsonl" 40 3
		check "new flows from h2 leave from $new (not $old) within $SWITCH_LIMIT s of the hook" \
			check_switch "$since" "$old" "$new"
	else
		t_skip "new flows from h2 leave from $new (not $old) within $SWITCH_LIMIT s of the hook" "the hook never ran"
	fi
	check "bpfctl -j status: att delegated $NEW_PD_ATT, external $(ext_prefix att)" check_status_pd att
	check "inbound tcp to every host's new external address on att reaches it" check_inbound tcp att
	check "bpfctl wan webpass auto: status shows webpass admin auto, state up" \
		check_wan_admin webpass auto up
}

# run_expiry: att's ISP disappears; its short lease runs out.
run_expiry() {
	local skip nflows=$((20 * ${#LAB_HOSTS[@]}))
	skip=$(t_log_lines "$(hook_log)")
	lab_stop_kea att
	check "att's ISP is gone: the /56 expires within $((SHORT_VALID + 4)) s (EXPIRE6), the hook exits 0" \
		check_hook_ran "$skip" "start EXPIRE6 ${LAB_WAN_IF[att]} " $((SHORT_VALID + 4))
	PD[att]=
	check "bpfctl -j status: att shows no prefix from ${LAB_WAN_POOL6[att]}" check_status_no_pd att
	send_flows expired 20 1 0 "${LAB_HOSTS[@]}"
	check "att has no prefix: all $nflows new IPv6 flows leave by webpass, from its addresses" \
		check_flows expired sources "$nflows" webpass
}

# run_release: dhcpcd -k releases what is left (webpass); nothing may leave.
run_release() {
	local skip nflows=$((10 * ${#LAB_HOSTS[@]}))
	skip=$(t_log_lines "$(hook_log)")
	lab_dhcpcd -M -k >>"$LAB_DIR/dhcpcd-ctl.log" 2>&1 || true
	check "dhcpcd -k releases webpass's ${PD[webpass]} (RELEASE6), the hook exits 0" \
		check_hook_ran "$skip" "start RELEASE6 ${LAB_WAN_IF[webpass]} " 10
	PD[webpass]=
	check "bpfctl -j status: webpass shows no prefix from ${LAB_WAN_POOL6[webpass]}" check_status_no_pd webpass
	save_stats noprefix
	send_flows noprefix 10 1 0 "${LAB_HOSTS[@]}"
	lab_py h2 fetch --connect "[$LAB_SERVER6]:$PORT_FILE" --connect-timeout 1 >/dev/null 2>&1 || true
	check "no WAN has a prefix: $nflows new IPv6 flows reach nobody, counted as npt_no_prefix" \
		check_no_prefix "$nflows"
}

run_pass() {
	local fast=$1 wan
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	PD=([att]=${LAB_WAN_PD[att]} [webpass]=${LAB_WAN_PD[webpass]})
	lab_init "$$"
	lab_up "$fast"
	make_blob
	start_capture att
	start_capture webpass
	start_servers
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with fast_path: $fast (dataplane ready)" check_loader_started
	run_bound
	run_traffic "$T_PREFIX"
	run_prefix_change
	run_expiry
	run_release
	t_stop_loader_check
	stop_captures
	for wan in "${LAB_WANS[@]}"; do
		check "capture on the $wan link over the pass: IPv6 from ${LAB_WAN_POOL6[$wan]}, DHCPv6, nothing carrying $LAB_LAN_NET6" \
			check_capture "$wan"
	done
	lab_down
	LAB_ID=
}

t_main_passes run_pass
