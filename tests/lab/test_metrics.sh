#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of metrics.textfile: written atomically every interval, parses, matches bpfctl after real traffic.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM_CHECK=$LAB_REPO/tests/unit/prom_check.py
PORT_FLOWS=5001
INTERVAL=1
WATCH_S=6

# write_config FILE INTERVAL: the lab config with probes, plus a metrics section.
write_config() {
	lab_write_config -p true
	printf 'metrics:\n  textfile: %s\n  interval: %s\n' "$1" "$2" >>"$LAB_CFG"
}

# die REASON: fail from inside $(...), whose stdout is not the check's.
die() {
	echo "$*" >&2
	exit 1
}

# prom FILE: prom_check.py's canonical sample lines (labels sorted).
prom() {
	local out
	out=$("$LAB_PY" "$PROM_CHECK" "$1" 2>&1) || die "$1 does not parse: $out"
	echo "$out"
}

# value SAMPLES SERIES: the value of one series (exact name{labels}).
value() {
	local v
	v=$(awk -v s="$2" '$1 == s { print $2 }' <<<"$1")
	[[ -n $v ]] || die "no series $2"
	echo "$v"
}

inode() { stat -c %i "$1" 2>/dev/null || echo none; }

# wait_rewrite FILE SECONDS: until FILE is another inode than now (a rename).
wait_rewrite() {
	local before i
	before=$(inode "$1")
	for ((i = 0; i < $2 * 50; i++)); do
		[[ $(inode "$1") == "$before" ]] || return 0
		sleep 0.02
	done
	return 1
}

# leftovers DIR: anything in DIR but mwan.prom (a temporary file left behind).
leftovers() { find "$1" -mindepth 1 ! -name mwan.prom -printf '%f\n'; }

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

check_appears() {
	local i
	t_require_loader
	for ((i = 0; i < 150; i++)); do
		[[ -e $TEXTFILE ]] && break
		sleep 0.02
	done
	[[ -e $TEXTFILE ]] || fail "no $TEXTFILE 3 s after the start"
	[[ $(stat -c %a "$TEXTFILE") == 644 ]] || fail "mode $(stat -c %a "$TEXTFILE"), want 644"
	grep -q "metrics: writing $TEXTFILE every $INTERVAL s" "$LAB_LOADER_LOG" ||
		fail "no 'metrics: writing' line in the loader's log"
}

check_content() {
	local s status drops want w state
	t_require_loader
	s=$(prom "$TEXTFILE")
	[[ $(value "$s" mwan_loader_up) == 1 ]] || fail "mwan_loader_up is not 1"
	[[ $(value "$s" "mwan_info{layout=\"$T_LAYOUT\"}") == 1 ]] || fail "no mwan_info{layout=\"$T_LAYOUT\"} 1"
	drops=$(grep -c '^mwan_drops_total{reason="' <<<"$s")
	want=$(lab_ctl -j stats | "$LAB_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["drops"]))')
	((drops == want)) || fail "$drops drop reasons in the file, bpfctl has $want"
	status=$(lab_ctl -j status)
	for w in "${LAB_WANS[@]}"; do
		state=$(t_labnet wan-field "$w" state <<<"$status")
		[[ $(value "$s" "mwan_wan_state{wan=\"$w\"}") == "$([[ $state == up ]] && echo 1 || echo 0)" ]] ||
			fail "mwan_wan_state of $w does not match status state $state"
		value "$s" "mwan_probe_sent_total{target=\"$LAB_PROBE\",wan=\"$w\"}" >/dev/null
	done
	echo "$(wc -l <<<"$s") samples"
}

# check_interval: watched for WATCH_S s, the file is replaced about once
# per interval, every version whole (parses, has every series the first
# had), and no temporary file is left.
check_interval() {
	local snaps=$LAB_DIR/snaps i n=0 ino last=none times=() series first gap now end
	t_require_loader
	mkdir -p "$snaps"
	end=$((${EPOCHREALTIME/./} + WATCH_S * 1000000))
	while now=${EPOCHREALTIME/./} && ((now < end)); do
		ino=$(inode "$TEXTFILE")
		if [[ $ino != "$last" ]]; then
			# a rename swaps the inode: this is a new version
			cp "$TEXTFILE" "$snaps/$n" 2>/dev/null || fail "$TEXTFILE vanished"
			times+=("$now")
			n=$((n + 1))
			last=$ino
		fi
		sleep 0.02
	done
	((n > 0)) || fail "no $TEXTFILE"
	# the first one was there before the watch started
	((n - 1 >= WATCH_S / INTERVAL - 1 && n - 1 <= WATCH_S / INTERVAL + 1)) ||
		fail "$((n - 1)) rewrites in $WATCH_S s with interval $INTERVAL s"
	for ((i = 2; i < n; i++)); do
		gap=$(((times[i] - times[i - 1]) / 1000))
		((gap > INTERVAL * 700 && gap < INTERVAL * 1300)) ||
			fail "rewrites $gap ms apart, want about $((INTERVAL * 1000))"
	done
	# a cut file lacks the series at its end: each has all the first had
	# (RTTs may join once probes are answered)
	prom "$snaps/0" | cut -d' ' -f1 | LC_ALL=C sort >"$snaps/series"
	first=$(wc -l <"$snaps/series")
	for ((i = 1; i < n; i++)); do
		series=$(prom "$snaps/$i" | cut -d' ' -f1 | LC_ALL=C sort | LC_ALL=C comm -23 "$snaps/series" -)
		[[ -z $series ]] || fail "version $i lacks $(head -n 3 <<<"$series" | tr '\n' ' ')"
	done
	[[ -z $(leftovers "$TEXTFILE_DIR") ]] || fail "left in $TEXTFILE_DIR: $(leftovers "$TEXTFILE_DIR" | tr '\n' ' ')"
	echo "$((n - 1)) rewrites in $WATCH_S s, each whole ($first series)"
}

send_traffic() {
	local h w pids=()
	for h in "${LAB_HOSTS[@]}"; do
		lab_py "$h" udp-flows --dst "$LAB_SERVER:$PORT_FLOWS" --src "$(lab_host_ip "$h")" \
			--count 40 --base-port 21000 --packets 3 &
		pids+=($!)
		lab_exec "$h" ping -n -c 3 -i 0.2 -W 2 "$LAB_SERVER" >/dev/null 2>&1 &
		pids+=($!)
	done
	for w in "${LAB_WANS[@]}"; do
		for h in "${LAB_HOSTS[@]}"; do
			lab_exec inet ping -n -c 2 -i 0.2 -W 2 -I "$LAB_SERVER" "$(lab_public "$w" "$h")" >/dev/null 2>&1 &
			pids+=($!)
		done
	done
	for h in "${pids[@]}"; do wait "$h" || true; done
	sleep 0.3
}

# wan_counters JSON: "WAN FIELD VALUE" lines of `bpfctl -j stats`, and "drop REASON N".
wan_counters() {
	"$LAB_PY" -c 'import json, sys
d = json.load(sys.stdin)
for w in d["wans"]:
    for k in ("pkts_out", "bytes_out", "pkts_in", "bytes_in"):
        print(w["name"], k, w[k])
for k, v in d["drops"].items():
    print("drop", k, v)' <<<"$1"
}

# file_counters SAMPLES: the same lines from the textfile.
file_counters() {
	local w dir k
	for w in "${LAB_WANS[@]}"; do
		for dir in out in; do
			for k in pkts bytes; do
				echo "$w ${k}_$dir $(value "$1" \
					"mwan_wan_$([[ $k == pkts ]] && echo packets || echo bytes)_total{direction=\"$dir\",wan=\"$w\"}")"
			done
		done
	done
	awk '$1 ~ /^mwan_drops_total\{reason="/ { r = $1; sub(/^[^"]*"/, "", r); sub(/".*/, "", r); print "drop", r, $2 }' <<<"$1"
}

# check_counters: after the traffic, the next file has bpfctl -j stats's
# per-WAN packets and bytes and drops, and as many flows as bpfctl -j flows.
check_counters() {
	local try before after s snap=$LAB_DIR/after-traffic.prom want got flows w
	t_require_loader
	for try in 1 2 3; do
		before=$(lab_ctl -j stats)
		wait_rewrite "$TEXTFILE" $((INTERVAL + 2)) || fail "no rewrite within $((INTERVAL + 2)) s"
		cp "$TEXTFILE" "$snap"
		after=$(lab_ctl -j stats)
		# counters that moved meanwhile cannot be compared: again
		[[ $(wan_counters "$before") == "$(wan_counters "$after")" ]] && break
		echo "try $try: counters moved while the file was written"
	done
	s=$(prom "$snap")
	want=$(wan_counters "$after" | sort)
	got=$(file_counters "$s" | sort)
	[[ $got == "$want" ]] || fail "file and bpfctl -j stats differ: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
	for w in "${LAB_WANS[@]}"; do
		for k in out in; do
			(($(value "$s" "mwan_wan_packets_total{direction=\"$k\",wan=\"$w\"}") > 0)) ||
				fail "no packets $k on $w: the traffic did not reach both WANs"
		done
	done
	flows=$(lab_ctl -j flows | "$LAB_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
	got=$(value "$s" mwan_flows)
	((got == flows && got > 0)) || fail "mwan_flows $got, bpfctl -j flows lists $flows"
	grep '^att pkts_out' <<<"$want"
}

# check_same_series: bpfctl stats --prometheus prints the same series.
check_same_series() {
	local a b
	t_require_loader
	lab_ctl stats --prometheus >"$LAB_DIR/bpfctl.prom" || fail "bpfctl stats --prometheus failed"
	a=$(prom "$LAB_DIR/bpfctl.prom" | cut -d' ' -f1)
	b=$(prom "$TEXTFILE" | cut -d' ' -f1)
	[[ $a == "$b" ]] || fail "series differ: $(diff <(echo "$a") <(echo "$b") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
}

# check_reload_path: SIGHUP with the file moved to a missing directory:
# the old file goes, the failure is logged once, the file comes when the
# directory does.
check_reload_path() {
	local dir2=$LAB_DIR/textfile2 new i n
	t_require_loader
	new=$dir2/mwan.prom
	write_config "$new" "$INTERVAL"
	kill -HUP "$LAB_LOADER_PID"
	for ((i = 0; i < 100; i++)); do
		[[ -e $TEXTFILE ]] || break
		sleep 0.02
	done
	[[ ! -e $TEXTFILE ]] || fail "$TEXTFILE still there 2 s after the reload"
	sleep $((3 * INTERVAL + 1))
	n=$(grep -c "metrics: cannot write $new" "$LAB_LOADER_LOG" || true)
	((n == 1)) || fail "'cannot write' logged $n times in $((3 * INTERVAL + 1)) s, want once"
	mkdir -p "$dir2"
	for ((i = 0; i < 150; i++)); do
		[[ -e $new ]] && break
		sleep 0.02
	done
	[[ -e $new ]] || fail "no $new 3 s after its directory appeared"
	grep -q "metrics: writing $new again" "$LAB_LOADER_LOG" || fail "no 'writing ... again' line"
	prom "$new" >/dev/null
	[[ -z $(leftovers "$dir2") ]] || fail "left in $dir2: $(leftovers "$dir2" | tr '\n' ' ')"
}

# check_after_stop: the last file says the loader is gone.
check_after_stop() {
	local s
	s=$(prom "$TEXTFILE")
	[[ $(value "$s" mwan_loader_up) == 0 ]] || fail "mwan_loader_up is not 0 after the stop"
	[[ -z $(leftovers "$TEXTFILE_DIR") ]] || fail "left in $TEXTFILE_DIR: $(leftovers "$TEXTFILE_DIR" | tr '\n' ' ')"
}

main() {
	t_install_traps
	T_PREFIX=metrics
	lab_init "$$"
	lab_up true
	TEXTFILE_DIR=$LAB_DIR/textfile
	TEXTFILE=$TEXTFILE_DIR/mwan.prom
	mkdir -p "$TEXTFILE_DIR"
	write_config "$TEXTFILE" "$INTERVAL"
	serve flows inet udp-sink --port "$PORT_FLOWS" --log "$LAB_DIR/flows.jsonl"
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with metrics.textfile (dataplane ready)" check_loader_started
	check "the textfile appears at once, mode 644, and the loader says so" check_appears
	check "it parses (prometheus_client and the format's rules): loader up, every drop reason, probes, states" \
		check_content
	check "rewritten every $INTERVAL s by rename, every version whole, no temporary file left" check_interval
	send_traffic
	check "after real traffic: per-WAN packets/bytes and drops equal bpfctl -j stats, flows bpfctl -j flows" \
		check_counters
	check "bpfctl stats --prometheus has the same series as the textfile" check_same_series
	check "SIGHUP to a missing directory: old file removed, failure logged once, file when the directory comes" \
		check_reload_path
	TEXTFILE_DIR=$LAB_DIR/textfile2
	TEXTFILE=$TEXTFILE_DIR/mwan.prom
	t_stop_loader_check
	check "after SIGTERM the file remains and says mwan_loader_up 0" check_after_stop
	lab_down
	LAB_ID=
	exit $((T_FAILED > 0))
}

main "$@"
