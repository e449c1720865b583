#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of WAN health probes and per-flow failover (three WANs, mb tier 2); the key failover check again with fast_path: false.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOLD_DOWN=3       # hold_down_s in this test's config
DETECT_LIMIT=1.5  # a dead WAN is down this soon (s)
STREAM_GAP=0.05   # long-lived flows send this often (s)
MOVE_LIMIT=1.65   # a moved flow's first datagram via the new WAN: detection + one gap + slack
SOAK_S=60         # the loss soak on mb
BAD_TARGET=192.0.2.99 # nobody answers it (inet has no route: net unreachable)
STREAMS_PER_HOST=5
PORT_STREAMS=5001 PORT_NEW=5002
BAD_TARGETS=(192.0.2.300 tcp:192.0.2.1:99999 2001:db8::g) # for --check
T_SOAK=

# ---- helpers (main shell) -------------------------------------------------------------

# t_at SECONDS_SINCE_EPOCH: sleep until then.
t_at() {
	sleep "$(awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
}

# t_plus T S: T + S.
t_plus() { awk -v t="$1" -v s="$2" 'BEGIN { printf "%.6f", t + s }'; }

start_servers() {
	serve streams inet udp-sink --port "$PORT_STREAMS" --log "$LAB_DIR/streams.jsonl"
	serve new inet udp-sink --port "$PORT_NEW" --log "$LAB_DIR/new.jsonl"
}

# start_streams NAME BASE: STREAMS_PER_HOST long-lived flows from every host.
start_streams() {
	lab_streams "$1" "$LAB_SERVER:$PORT_STREAMS" "$2" "$STREAMS_PER_HOST" "$STREAM_GAP"
}

stream_ports() { echo "$1-$(($1 + STREAMS_PER_HOST - 1))"; }

# new_flows NAME HOST BASE COUNT GAP: new flows to the other sink (lab_new_flows).
new_flows() {
	lab_new_flows "$1" "$2" "$LAB_SERVER:$PORT_NEW" "${@:3}"
}

# burst NAME HOST BASE: 40 new flows in about a second, and their arrival.
burst() {
	local want
	want=$(($(t_log_lines "$LAB_DIR/new.jsonl") + 40))
	new_flows "$@" 40 0.02
	wait "$LAB_BG_PID" || true
	t_wait_settled "$LAB_DIR/new.jsonl" "$want" 3
}

flows_snapshot() { lab_ctl -j flows >"$LAB_DIR/flows-$1.json" 2>&1 || true; }

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

status_json() {
	local json
	json=$(lab_ctl -j status 2>&1) || fail "bpfctl -j status failed: $json"
	echo "$json"
}

# check_probing: every WAN has health data (reason, since, targets); all are
# healthy, every target but BAD_TARGET answered; tier 1 carries, mb waits.
check_probing() {
	local i f wan json vals targets missing
	t_require_loader
	for i in $(seq 50); do
		json=$(status_json)
		missing=
		for wan in "${LAB_WANS[@]}"; do
			vals=$(t_labnet wan-values "$wan" <<<"$json") || fail "no $wan in: ${json:0:300}"
			targets=$(t_labnet wan-targets "$wan" <<<"$json")
			for f in reason since holding; do
				grep -q "^${f}[=.]" <<<"$vals" || missing+=" $wan:no-$f"
			done
			grep -q '^health=up$' <<<"$vals" || missing+=" $wan:$(grep -E '^(health|reason)=' <<<"$vals" | tr '\n' ' ')"
			awk -v bad="$BAD_TARGET" '$1 != bad && !($3 + 0 > 0) { found = 1 } END { exit !found }' <<<"$targets" &&
				missing+=" $wan:a-target-unanswered"
			[[ -n $targets ]] || missing+=" $wan:no-targets"
		done
		[[ -n $missing ]] || break
		sleep 0.1
	done
	[[ -z $missing ]] || fail "after 5 s:$missing"
	for wan in "${LAB_WANS[@]}"; do
		echo "$wan: $(t_labnet wan-values "$wan" <<<"$json" | grep -E '^(state|health|reason|holding)=' | tr '\n' ' ')"
	done
	grep -q '"health_frozen": *false' <<<"$json" || fail "health_frozen is not false: ${json:0:200}"
	[[ $(t_labnet wan-field mb state <<<"$json") == down ]] || fail "mb (tier 2) carries new flows while att and webpass are up"
	echo "all WANs healthy and probing; mb standby"
}

# check_probe_capture: webpass's probes leave by webpass from its own
# addresses (the main table's default route is att's); none of them on
# att's link, and att's link carries no more echo requests than its own.
check_probe_capture() {
	local v4 v6 leaked att6 wp6
	v4=$(pcap_count webpass "icmp[icmptype] == icmp-echo and src host 100.64.2.2 and dst host $LAB_PROBE")
	v6=$(pcap_count webpass "icmp6 and ip6[40] == 128 and src host ${LAB_WAN_ADDR6[webpass]} and dst host $LAB_PROBE6")
	leaked=$(pcap_count att "src host 100.64.2.2 or src host ${LAB_WAN_ADDR6[webpass]}")
	att6=$(pcap_count att "icmp6 and ip6[40] == 128 and dst host $LAB_PROBE6")
	wp6=$(pcap_count webpass "icmp6 and ip6[40] == 128 and dst host $LAB_PROBE6")
	echo "webpass link: $v4 echo requests 100.64.2.2 -> $LAB_PROBE, $v6 ${LAB_WAN_ADDR6[webpass]} -> $LAB_PROBE6; att link: $leaked from webpass's addresses, $att6 echo requests to $LAB_PROBE6 (webpass: $wp6)"
	lab_exec router ip route show default | sed 's/^/router main table: /'
	((v4 > 3 && v6 > 3)) || fail "too few webpass probes on webpass's link: $v4 IPv4, $v6 IPv6"
	((leaked == 0)) || fail "$leaked packets from webpass's addresses on att's link"
	((att6 * 2 <= wp6 * 3 + 4)) || fail "att's link carries $att6 echo requests to $LAB_PROBE6, webpass's $wp6: webpass's probes leave by att"
	echo "webpass's probes leave by webpass only ($v4 + $v6 in the capture)"
}

# check_bad_target: BAD_TARGET (among att's targets) never answers; att is
# healthy all the same and the loader runs.
check_bad_target() {
	local json line sent received loss
	t_require_loader
	json=$(status_json)
	line=$(t_labnet wan-targets att <<<"$json" | awk -v bad="$BAD_TARGET" '$1 == bad')
	[[ -n $line ]] || fail "att's status has no target $BAD_TARGET: $(t_labnet wan-targets att <<<"$json" | tr '\n' ';')"
	read -r _ sent received loss _ <<<"$line"
	((sent > 0 && received == 0)) || fail "$BAD_TARGET: sent=$sent received=$received"
	[[ $(t_labnet wan-field att health <<<"$json") == up ]] || fail "att is not healthy"
	echo "$BAD_TARGET: sent $sent, received $received, loss ${loss}%; att health up"
}

# check_wait WAN VALUE SINCE ARGS...: status-watch saw WAN's state become
# VALUE (watch-wait ARGS: --max, --min, --wait, --field).
check_wait() {
	t_labnet watch-wait --log "$LAB_DIR/watch.jsonl" --wan "$1" --value "$2" --since "$3" "${@:4}"
}

# check_steady WAN SINCE UNTIL FIELDS EXPECT: FIELDS (health,usable,...) of
# WAN did not change; EXPECT (health=up,...) held at SINCE.
check_steady() {
	t_labnet watch-steady --log "$LAB_DIR/watch.jsonl" --wan "$1" --since "$2" --until "$3" \
		--fields "$4" --expect "$5"
}

# target_stats WAN ADDR: "sent received loss_pct" of one of WAN's probe targets.
target_stats() {
	status_json | t_labnet wan-targets "$1" | awk -v a="$2" '$1 == a { print $2, $3, $4 }'
}

# check_silent_target WAN TARGET SINCE UNTIL: WAN stayed up, carrying, while
# TARGET (one of its targets) answered nothing, as status shows.
check_silent_target() {
	local sent received loss
	check_steady "$1" "$3" "$4" health,usable,state health=up,state=up
	read -r sent received loss < <(target_stats "$1" "$2")
	[[ $loss == 100* ]] || fail "$2 shows loss ${loss:-?}% (sent $sent, received $received), want 100%: was it dropped?"
	echo "$1 up throughout while $2 lost 100% of its window"
}

# check_soak WAN SINCE UNTIL TARGET...: WAN's health never changed, and each
# TARGET lost 10-30 % of its probes over its life (the fault was there).
check_soak() {
	local wan=$1 since=$2 until=$3 target sent received lost=
	shift 3
	check_steady "$wan" "$since" "$until" health,usable health=up,usable=true
	for target in "$@"; do
		read -r sent received _ < <(target_stats "$wan" "$target")
		((sent > 0)) || fail "$target: nothing sent"
		lost+=" $target $((100 * (sent - received) / sent))%"
		((100 * (sent - received) >= 10 * sent && 100 * (sent - received) <= 30 * sent)) ||
			fail "$target: $received of $sent probes answered; want 10-30 % lost"
	done
	echo "$wan healthy and usable throughout; probes lost over its life:$lost"
}

# check_new NAME ASPECT WAN SINCE ARGS...: the new flows of NAME (new-flows).
check_new() {
	local nat
	mapfile -t nat < <(lab_nat_args)
	t_labnet new-flows --log "$LAB_DIR/new.jsonl" --sent "$LAB_DIR/$1.sent" --nat "${nat[@]}" \
		--aspect "$2" --wan "$3" --since "$4" "${@:5}"
}

# check_streams ASPECT BASE SINCE ARGS...: the streams from ports BASE.. (stream-check).
check_streams() {
	local nat
	mapfile -t nat < <(lab_nat_args)
	t_labnet stream-check --log "$LAB_DIR/streams.jsonl" --nat "${nat[@]}" --aspect "$1" \
		--ports "$(stream_ports "$2")" --since "$3" "${@:4}"
}

# check_flows_compare ASPECT BEFORE AFTER BASE ARGS...: bpfctl -j flows snapshots.
check_flows_compare() {
	t_labnet flows-compare --before "$LAB_DIR/flows-$2.json" --after "$LAB_DIR/flows-$3.json" \
		--aspect "$1" --ports "$(stream_ports "$4")" "${@:5}"
}

# check_link_down WAN SINCE: the loader lives on, WAN went down for its link.
check_link_down() {
	local reason out
	t_require_loader
	out=$(check_wait "$1" down "$2" --max 3 --wait 5) || fail "$(tail -n 1 <<<"$out")"
	reason=$(status_json | t_labnet wan-field "$1" reason)
	[[ $reason == *link* ]] || fail "$1 is down with reason '$reason', want a link reason"
	echo "$1 down, reason $reason; mwan-loader still running"
}

# check_carries_again WAN NAME SINCE: WAN takes new flows again (and say
# what is attached to its interface now).
check_carries_again() {
	lab_attached | grep "${LAB_WAN_IF[$1]}" || echo "nothing attached to ${LAB_WAN_IF[$1]}"
	check_new "$2" first "$1" "$3"
}

# check_malformed_target: --check rejects each of BAD_TARGETS as a probe
# target with FILE:LINE and the value.
check_malformed_target() {
	local bad cfg=$LAB_DIR/malformed.yaml out line
	for bad in "${BAD_TARGETS[@]}"; do
		sed "0,/targets: \[/s//targets: [$bad, /" "$LAB_CFG" >"$cfg"
		line=$(grep -nF "[$bad," "$cfg" | cut -d: -f1)
		if out=$(lab_exec router "$LAB_LOADER" -c "$cfg" --check 2>&1); then
			fail "--check accepted probe target $bad: $out"
		fi
		[[ $out == *"$cfg:$line:"*"$bad"* ]] || fail "for $bad want '$cfg:$line: ... $bad ...', got: $out"
		echo "$out"
	done
}

# ---- phases (main shell) ---------------------------------------------------------------

# start_loader FAST_PATH: config with probes (att also probes BAD_TARGET), loader.
start_loader() {
	LAB_PROBE_TARGETS[att]="$LAB_PROBE, $BAD_TARGET, $LAB_PROBE6"
	lab_write_config -k "hold_down_s: $HOLD_DOWN" "$1"
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with probes on every WAN, fast_path: $1 (dataplane ready)" check_loader_started
	check "bpfctl -j status: every WAN probing (reason, since, targets), all healthy; mb (tier 2) standby" \
		check_probing
}

# run_probe_checks: the capture, the bad target, one silent target on att;
# the soak on mb starts here and is judged at the end.
run_probe_checks() {
	local t_drop
	T_SOAK=$EPOCHREALTIME
	lab_echo_fault mb all 20
	t_drop=$EPOCHREALTIME
	lab_echo_fault att "$LAB_PROBE" 100
	sleep 3
	stop_captures
	check "webpass's probes leave by webpass from 100.64.2.2 / ${LAB_WAN_ADDR6[webpass]} (main default route: att), none seen on att" \
		check_probe_capture
	check "a target nobody answers ($BAD_TARGET, beside two good ones on att) breaks nothing: att healthy" \
		check_bad_target
	t_at "$(t_plus "$t_drop" 10)"
	check "att: all echo to $LAB_PROBE dropped, $LAB_PROBE6 answers (quorum 1): no state change in 10 s" \
		check_silent_target att "$LAB_PROBE" "$t_drop" "$EPOCHREALTIME"
	lab_echo_clear att
}

# run_att_failover STREAMS NEW: att's upstream dies while STREAMS (port
# base) flow and h2 opens new flows (port base NEW); leaves it dead.
run_att_failover() {
	local streams=$1 new=$2 t
	start_streams "s$streams" "$streams"
	new_flows "n$new" h2 "$new" 400 0.02
	sleep 1.5
	flows_snapshot "$streams-before"
	t=$EPOCHREALTIME
	lab_blackhole att
	check "blackhole att's upstream: bpfctl status shows att down within $DETECT_LIMIT s" \
		check_wait att down "$t" --max "$DETECT_LIMIT"
	t_at "$(t_plus "$t" 3)"
	flows_snapshot "$streams-after"
	lab_stop_bg "n$new"
	check "new flows started $DETECT_LIMIT s after the blackhole or later all arrive via webpass" \
		check_new "n$new" switch webpass "$t" --limit "$DETECT_LIMIT"
	check "flows on att move to webpass (sink: via webpass within $MOVE_LIMIT s, never att again); flows on webpass keep source and port" \
		check_streams moved "$streams" "$t" --old att --new webpass --limit "$MOVE_LIMIT" --gap-max 0.5
	check "bpfctl -j flows: att's flows now on webpass with moves >= 1, webpass's unchanged with moves 0" \
		check_flows_compare moved "$streams-before" "$streams-after" "$streams" --old att --new webpass
}

# run_att_restore STREAMS NEW: att's upstream answers again.
run_att_restore() {
	local streams=$1 new=$2 t
	t=$EPOCHREALTIME
	lab_unblackhole att
	new_flows "n$new" h2 "$new" 400 0.05
	check "att answers again: it stays down for the ${HOLD_DOWN} s hold-down, then comes up" \
		check_wait att up "$t" --min "$HOLD_DOWN" --max $((HOLD_DOWN + 7)) --wait $((HOLD_DOWN + 9))
	sleep 1.5
	lab_stop_bg "n$new"
	flows_snapshot "$streams-back"
	check "no new flow via att during the hold-down; after it new flows take att again, none lost" \
		check_new "n$new" first att "$t" --min "$HOLD_DOWN"
	check "flows moved to webpass stay there after att is back (sink: same WAN, source, port)" \
		check_streams stay "$streams" "$t"
	check "bpfctl -j flows: every flow kept its WAN and moves after att came back" \
		check_flows_compare stay "$streams-after" "$streams-back" "$streams"
	lab_stop_streams "s$streams"
}

# run_tier2: mb carries new flows only while att and webpass are both down.
run_tier2() {
	local t wan
	local -A ts
	t=$EPOCHREALTIME
	burst t2-up h3 25000
	check "tier 2: no new flow via mb while att and webpass are up" check_new t2-up none mb "$t"
	for wan in att webpass; do
		ts[$wan]=$EPOCHREALTIME
		lab_blackhole "$wan"
	done
	for wan in att webpass; do
		check "blackhole att and webpass: $wan down within $DETECT_LIMIT s" \
			check_wait "$wan" down "${ts[$wan]}" --max "$DETECT_LIMIT"
	done
	check "mb (tier 2) takes new flows once both tier-1 WANs are down" \
		check_wait mb up "${ts[att]}" --max 2
	t=$EPOCHREALTIME
	burst t2-down h3 26000
	check "both tier-1 WANs down: every new flow arrives via mb" check_new t2-down switch mb "$t"
	t=$EPOCHREALTIME
	lab_unblackhole att
	lab_unblackhole webpass
	for wan in att webpass; do
		check "att and webpass answer again: $wan up after the hold-down" \
			check_wait "$wan" up "$t" --min "$HOLD_DOWN" --max $((HOLD_DOWN + 7)) --wait $((HOLD_DOWN + 9))
	done
	t=$EPOCHREALTIME
	burst t2-back h3 27000
	check "tier 1 back: no new flow via mb, all arrive" check_new t2-back none mb "$t"
}

# run_link_gone: the router's webpass interface disappears and comes back.
run_link_gone() {
	local base=41000 t
	start_streams "s$base" "$base"
	sleep 1.5
	flows_snapshot "$base-before"
	t=$EPOCHREALTIME
	lab_exec router ip link del "${LAB_WAN_IF[webpass]}"
	check "ip link del ${LAB_WAN_IF[webpass]}: mwan-loader keeps running, webpass down with a link reason" \
		check_link_down webpass "$t"
	t_at "$(t_plus "$t" 2.5)"
	flows_snapshot "$base-after"
	check "webpass's flows move to att (sink), att's keep source and port" \
		check_streams moved "$base" "$t" --old webpass --new att --limit 2.5
	check "bpfctl -j flows: webpass's flows on att with moves >= 1, att's unchanged" \
		check_flows_compare moved "$base-before" "$base-after" "$base" --old webpass --new att
	lab_stop_streams "s$base"
	t=$EPOCHREALTIME
	lab_wan_link webpass
	check "${LAB_WAN_IF[webpass]} re-created (same name and addresses): webpass comes back up" \
		check_wait webpass up "$t" --wait 20
	t=$EPOCHREALTIME
	burst link-back h4 28000
	check "webpass carries new flows again after the re-creation, none lost" \
		check_carries_again webpass link-back "$t"
}

# run_slow: the key failover check again with fast_path: false.
run_slow() {
	t_stop_loader_check
	lab_faults_clear
	T_PREFIX=slow
	start_loader false
	run_att_failover 42000 29000
	lab_unblackhole att
	t_stop_loader_check
}

main() {
	local wan
	t_install_traps
	T_PREFIX=fast
	LAB_MB=1
	lab_init "$$"
	lab_up true
	for wan in "${LAB_WANS[@]}"; do start_capture "$wan"; done
	start_servers
	start_loader true
	lab_start_watch 2>"$LAB_DIR/watch.err" || t_setup_fail "$(cat "$LAB_DIR/watch.err")"
	run_probe_checks
	run_att_failover 40000 21000
	run_att_restore 40000 23000
	run_tier2
	run_link_gone
	t_at "$(t_plus "$T_SOAK" "$SOAK_S")"
	check "mb: 20 % random loss on every echo to both its targets: no state change in $SOAK_S s" \
		check_soak mb "$T_SOAK" "$(t_plus "$T_SOAK" "$SOAK_S")" "$LAB_PROBE" "$LAB_PROBE6"
	lab_echo_clear mb
	check "mwan-loader --check rejects malformed probe targets (${BAD_TARGETS[*]}) with FILE:LINE" \
		check_malformed_target
	run_slow
	lab_down
	LAB_ID=
	exit $((T_FAILED > 0))
}

main "$@"
