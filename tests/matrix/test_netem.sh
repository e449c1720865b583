#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs sch_netem): a WAN link with netem delay keeps its WAN up with the RTT shown; netem loss takes it down, new flows move, and it comes back.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lib.sh"

HOLD_DOWN=3
DELAY_MS=40
PORT_WHO=7001

# wan_json WAN: WAN's object in `bpfctl -j status`.
wan_json() {
	lab_ctl -j status | "$LAB_PY" -c 'import json, sys
for w in json.load(sys.stdin)["wans"]:
    if w["name"] == sys.argv[1]:
        print(json.dumps(w))' "$1"
}

# rtt WAN: the RTT (ms) of WAN's first probe target, or "None".
rtt() {
	wan_json "$1" | "$LAB_PY" -c 'import json, sys
print(json.load(sys.stdin)["targets"][0]["rtt_avg_ms"])'
}

# wait_field WAN FIELD VALUE SECONDS: until WAN's FIELD is VALUE; prints
# how long it took.
wait_field() {
	local t0=$EPOCHREALTIME end=$((SECONDS + $4)) v
	while ((SECONDS < end)); do
		v=$(wan_json "$1" | "$LAB_PY" -c 'import json, sys
print(json.load(sys.stdin)[sys.argv[1]])' "$2") || true
		if [[ $v == "$3" ]]; then
			awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'
			return 0
		fi
		sleep 0.1
	done
	echo "$1: $2 still ${v:-?} after $4 s"
	return 1
}

# burst BASE WAN...: 200 new UDP flows from h2, every one answered, via
# exactly WAN... (t_burst).
burst() {
	local base=$1
	shift
	t_burst h2 "$LAB_SERVER:$PORT_WHO" "$base" "$@"
}

check_delay() {
	local i v
	t_require_loader
	for i in $(seq 150); do
		v=$(rtt att)
		[[ $v != None ]] && awk -v v="$v" -v d="$DELAY_MS" 'BEGIN { exit !(v >= d) }' && break
		sleep 0.1
	done
	awk -v v="$v" -v d="$DELAY_MS" 'BEGIN { exit !(v >= d && v < 10 * d) }' ||
		fail "att's RTT is ${v} ms, want $DELAY_MS..$((10 * DELAY_MS))"
	[[ $(wan_json att) == *'"state": "up"'* ]] || fail "att is not up: $(wan_json att)"
	v=$(rtt webpass)
	awk -v v="$v" -v d="$DELAY_MS" 'BEGIN { exit !(v != "None" && v < d) }' ||
		fail "webpass's RTT is $v ms, want under $DELAY_MS"
	echo "att RTT $(rtt att) ms, webpass $v ms"
}

check_down() {
	local took
	took=$(wait_field att state down 10) || fail "$took"
	echo "att down after $took s"
}

check_back() {
	local took
	took=$(wait_field att state up $((HOLD_DOWN + 10))) || fail "$took"
	awk -v t="$took" -v h="$HOLD_DOWN" 'BEGIN { exit !(t >= h) }' ||
		fail "att up again after $took s, within the ${HOLD_DOWN} s hold-down"
	echo "att up again after $took s"
}

run_pass() {
	local fast=$1
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	lab_init "$$"
	lab_up "$fast"
	lab_write_config -k "hold_down_s: $HOLD_DOWN" "$fast"
	serve who inet ident-server --addr "$LAB_SERVER" --port "$PORT_WHO" --name inet
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with fast_path: $fast and probes on every WAN" check_loader_started
	lab_exec att tc qdisc add dev to-router root netem delay "${DELAY_MS}ms"
	check "netem delay ${DELAY_MS} ms on att's link: att stays up, its RTT shows the delay" check_delay
	check "with the delay, 200 new flows from h2 are all answered, via att and webpass" \
		burst 31000 att webpass
	lab_exec att tc qdisc change dev to-router root netem loss 100%
	check "netem loss 100 % on att's link: att goes down" check_down
	check "att down: 200 new flows from h2 are all answered, every one via webpass" \
		burst 32000 webpass
	lab_exec att tc qdisc del dev to-router root
	check "netem removed: att comes back after the ${HOLD_DOWN} s hold-down" check_back
	check "att back: 200 new flows from h2 are all answered, via att and webpass again" \
		burst 33000 att webpass
	t_stop_loader_check
	lab_down
	LAB_ID=
}

# Failover on the slow path is tested in make check (tests/lab/test_failover.sh).
MWAN_FAST_PATHS=${MWAN_FAST_PATHS:-true} t_main_passes run_pass
