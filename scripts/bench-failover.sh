#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Failover and fail-back times with the default probe settings in the netns lab, beside mwan3's and dpinger's documented defaults.
set -euo pipefail

# shellcheck source=tests/lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/lab.sh"

RUNS=${MWAN_BENCH_RUNS:-5}
RESULTS=${MWAN_RESULTS:-$LAB_REPO/results}
STREAMS_PER_HOST=10 # 50 long-lived flows in all
GAP=0.02            # each sends this often; h2 opens a new flow this often
PORT_STREAMS=5001 PORT_NEW=5002
NAT=()

# ---- the lab ------------------------------------------------------------------------

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	lab_stop_loader 2>/dev/null || true
	lab_down 2>/dev/null || true
	exit "$rc"
}

die() {
	echo "bench-failover: $*" >&2
	exit 1
}

# setup: two WANs probing with every default; sinks, a state watcher.
setup() {
	lab_init "bench$$"
	lab_up true
	lab_write_config -p true
	lab_serve streams inet udp-sink --port "$PORT_STREAMS" --log "$LAB_DIR/streams.jsonl"
	lab_serve new inet udp-sink --port "$PORT_NEW" --log "$LAB_DIR/new.jsonl"
	lab_start_loader "$LAB_CFG" || die "mwan-loader did not start"
	lab_ctl -j status | grep -q '"reason"' ||
		die "mwan-loader does not probe (no health reason in bpfctl -j status)"
	lab_start_watch || die "no state watcher"
	mapfile -t NAT < <(lab_nat_args)
	wait_state att up "$EPOCHREALTIME" 10 >/dev/null || die "att is not up"
}

# ---- measurements (each prints one JSON object) --------------------------------------

# wait_state WAN STATE SINCE [WAIT]: {"delay_s": ...} once WAN's state is STATE.
wait_state() {
	"$LAB_PY" "$LAB_NET_PY" watch-wait --log "$LAB_DIR/watch.jsonl" --wan "$1" --value "$2" \
		--since "$3" --wait "${4:-30}" --json | tail -n 1
}

# new_flows_json SENT ASPECT WAN SINCE: new-flows metrics, pass or fail.
new_flows_json() {
	"$LAB_PY" "$LAB_NET_PY" new-flows --log "$LAB_DIR/new.jsonl" --sent "$LAB_DIR/$1.sent" \
		--nat "${NAT[@]}" --aspect "$2" --wan "$3" --since "$4" --limit 60 --json | tail -n 1 || true
}

moved_json() {
	"$LAB_PY" "$LAB_NET_PY" stream-check --log "$LAB_DIR/streams.jsonl" --nat "${NAT[@]}" \
		--aspect moved --ports "$1-$(($1 + STREAMS_PER_HOST - 1))" --since "$2" \
		--old att --new webpass --json | tail -n 1 || true
}

# run_once N: att's upstream dies under 50 flows and a stream of new ones,
# then comes back; appends the run's figures to runs.jsonl.
run_once() {
	local n=$1 streams=$((40000 + 100 * $1)) new=$((20000 + 2000 * $1)) t down moved newj up back
	lab_streams "s$n" "$LAB_SERVER:$PORT_STREAMS" "$streams" "$STREAMS_PER_HOST" "$GAP"
	lab_new_flows "f$n" h2 "$LAB_SERVER:$PORT_NEW" "$new" 900 "$GAP"
	sleep 2
	t=$EPOCHREALTIME
	lab_blackhole att
	down=$(wait_state att down "$t") || true
	sleep 2
	lab_stop_bg "f$n"
	newj=$(new_flows_json "f$n" switch webpass "$t")
	moved=$(moved_json "$streams" "$t")
	lab_new_flows "b$n" h2 "$LAB_SERVER:$PORT_NEW" $((new + 1000)) 900 "$GAP"
	t=$EPOCHREALTIME
	lab_unblackhole att
	up=$(wait_state att up "$t") || true
	sleep 1
	lab_stop_bg "b$n"
	back=$(new_flows_json "b$n" first att "$t")
	lab_stop_streams "s$n"
	"$LAB_PY" - "$n" "$down" "$newj" "$moved" "$up" "$back" >>"$LAB_DIR/runs.jsonl" <<'EOF'
import json, sys
n, down, new, moved, up, back = sys.argv[1], *map(json.loads, sys.argv[2:])
print(json.dumps(dict(run=int(n), detect_down_s=down["delay_s"], new_flows_s=new.get("switch_s"),
                      moved_first_s=moved.get("moved_first_s"), moved_last_s=moved.get("moved_last_s"),
                      moved=moved.get("moved"), untouched=moved.get("untouched"),
                      detect_up_s=up["delay_s"], failback_first_s=back.get("first_s"))))
EOF
	tail -n 1 "$LAB_DIR/runs.jsonl"
	sleep 2
}

# ---- the reference figures: documented defaults, not measured here -------------------

write_refs() {
	cat >"$LAB_DIR/refs.json" <<EOF
{
  "setup": "netns lab, two tier-1 WANs (att weight 3, webpass weight 1), mwan probe defaults (targets $LAB_PROBE and $LAB_PROBE6 every 250 ms, window 20, down after 3 lost rounds, up after 8 good ones, hold_down_s 0); att's upstream blackholed in its ISP namespace (nft drop), $((STREAMS_PER_HOST * ${#LAB_HOSTS[@]})) UDP flows sending every ${GAP} s, h2 opening a new flow every ${GAP} s; $RUNS runs; times from the nft command.",
  "metrics": [
    {"key": "detect_down_s", "label": "blackhole -> att down in bpfctl status"},
    {"key": "new_flows_s", "label": "blackhole -> every new flow on webpass (start of the last one that was not)"},
    {"key": "moved_last_s", "label": "blackhole -> last flow that was on att arrives via webpass"},
    {"key": "detect_up_s", "label": "restore -> att up in bpfctl status"},
    {"key": "failback_first_s", "label": "restore -> first new flow on att"}
  ],
  "references": [
    {"name": "mwan3, mwan3track built-in defaults (interval 10 s, timeout 4 s, down 5, up 5, reliability 1, count 1; one track_ip)",
     "failover": "60-70 s", "failback": "40-54 s",
     "derivation": "a failed round is one 4 s ping timeout plus failure_interval (= interval) 10 s = 14 s; offline after down = 5 failed rounds: the first starts 0-10 s after the failure, the fifth ends 4 x 14 + 4 s later. Online after up = 5 good rounds recovery_interval 10 s apart, the first 0-14 s after the repair. Source: config_get defaults in openwrt/packages net/mwan3/files/usr/sbin/mwan3track."},
    {"name": "mwan3, OpenWrt's sample /etc/config/mwan3 (interval 5 s, timeout 2 s, down 3, up 8, two track_ip, reliability 1)",
     "failover": "22-31 s", "failback": "35-44 s",
     "derivation": "a failed round pings both targets (2 x 2 s) then sleeps 5 s = 9 s; 3 failed rounds: 2 x 9 + 4 s after the first starts (0-9 s after the failure). Back after 8 good rounds 5 s apart."},
    {"name": "pfSense gateway monitoring, dpinger defaults (probe every 500 ms, loss interval 2000 ms, time period 60000 ms, alert interval 1000 ms, down at 20 % loss or 500 ms latency)",
     "failover": "14-15 s", "failback": "about 48 s (outage of 12 s or more)",
     "derivation": "loss is averaged over the 60 s time period (120 probes), down at 20 % = 24 lost probes; a probe counts as lost 2 s after it was sent: 24 x 0.5 + 2 = 14 s, checked every 1 s. Clear once fewer than 24 lost probes remain in the window: 60 - 12 = 48 s after the repair. Source: Netgate docs, Gateway Settings; dpinger's startup line in pfSense's gateway log."}
  ]
}
EOF
}

main() {
	local n
	[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	setup
	for ((n = 1; n <= RUNS; n++)); do
		echo "== run $n/$RUNS"
		run_once "$n"
	done
	write_refs
	mkdir -p "$RESULTS"
	"$LAB_PY" "$LAB_NET_PY" bench-report --runs "$LAB_DIR/runs.jsonl" --refs "$LAB_DIR/refs.json" \
		--out "$RESULTS/failover"
	echo "wrote $RESULTS/failover.json and $RESULTS/failover.md"
}

main "$@"
