#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Smoke test of the benchmark harness: `make bench-all QUICK=1` forwards in every configuration and writes its outputs.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPORT=$LAB_REPO/bench/report.py
RES=
LOG=
PROBED=

bench_cleanup() {
	local rc=$?
	trap - EXIT
	[[ -z $RES ]] || rm -rf "$RES"
	exit "$rc"
}

# bench_namespaces: the namespaces a benchmark run makes (none may outlive it).
bench_namespaces() { ip netns list | grep -o '^mwb[0-9]*-[a-z]*' | sort || true; }

check_make() {
	local rc=0
	timeout 110 make -C "$LAB_REPO" --no-print-directory bench-all QUICK=1 RESULTS="$RES" >"$LOG" 2>&1 || rc=$?
	((rc == 0)) && return 0
	tail -n 12 "$LOG"
	((rc != 124)) || fail "still running after 110 s"
	fail "make bench-all QUICK=1 exited with status $rc"
}

# check_results KIND [KEY]: report.py's verdict on one part of the results.
check_results() { RESULTS=$RES "$LAB_PY" "$REPORT" check "$@"; }

# check_results_in DIR KIND [KEY]: the same for the results in DIR.
check_results_in() { RESULTS=$1 "$LAB_PY" "$REPORT" check "${@:2}"; }

# check_probe: forward.sh probe names a generator and why; a kernel that
# refuses live frames (BENCH_NO_LIVE_FRAMES=1 answers as one) gets the loop.
check_probe() {
	local line tab=$'\t'
	line=$(BENCH_BIN=$LAB_REPO/build/bench "$LAB_REPO/bench/forward.sh" probe 2>>"$LOG")
	[[ $line =~ ^(live-frames|xdp-loop)${tab}live\ frames ]] || fail "probe said: $line"
	PROBED=${line%%$'\t'*}
	echo "# here: $line"
	line=$(BENCH_NO_LIVE_FRAMES=1 BENCH_BIN=$LAB_REPO/build/bench "$LAB_REPO/bench/forward.sh" probe 2>>"$LOG")
	[[ $line == $'xdp-loop\tlive frames not tried: BENCH_NO_LIVE_FRAMES=1' ]] ||
		fail "with live frames refused, probe said: $line"
}

# check_report_rules: report.py refuses what a wrong run would give: a
# loop that lost frames, a run without per-program figures, a fast path
# whose program did not run; and says generator-bound where the ceiling
# is not clearly faster.
check_report_rules() {
	"$LAB_PY" - "$REPORT" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("report", sys.argv[1])
r = importlib.util.module_from_spec(spec)
spec.loader.exec_module(r)
def rec(cfg, back=128, progs=(("mwan_xdp", 100), ("sink", 100)), gen="xdp-loop"):
    return {"config": cfg, "generator": gen, "pps": 10e6,
            "loop_frames": {"injected": 128, "returned": back},
            "v4_ok": 1, "v6_ok": 1, "wrong": 0, "csum_bad": 0, "csum_checked": 1,
            "mwan_events": {"xdp_forward_out": 1},
            "progs": [{"name": n, "type": "xdp", "runs": k, "ns_per_run": 50.0} for n, k in progs]}
def problems(x):
    return " ".join(r.run_problems(x))
bad = []
if problems(rec("c")):
    bad.append("a sound run has problems: " + problems(rec("c")))
if "lost frames" not in problems(rec("c", back=100)):
    bad.append("a loop that kept 100 of 128 frames is not marked")
if "lost frames" in problems(rec("c", back=100, gen="live-frames")):
    bad.append("live frames marked for a loop's loss")
if "bpf_stats" not in problems(rec("c", progs=())):
    bad.append("a run without per-program figures passes")
if "mwan_xdp" not in problems(rec("c", progs=(("sink", 100),))):
    bad.append("a fast-path run without mwan_xdp in the live path passes")
spread = lambda lo, med, hi: {"mpps": {"min": lo, "median": med, "max": hi}}
if not r.generator_bound(spread(1.5, 1.7, 1.8), spread(1.8, 1.9, 2.0)):
    bad.append("a ceiling 12 % above c whose worst run is below c's best is not generator-bound")
if not r.generator_bound(spread(1.5, 1.7, 1.8), spread(1.81, 1.84, 1.9)):
    bad.append("a ceiling 8 % above c is not generator-bound")
if r.generator_bound(spread(9, 10, 11), spread(20, 22, 23)):
    bad.append("a ceiling twice c's rate is called generator-bound")
sys.exit("; ".join(bad) or None)
PY
}

# check_method GEN CONFIGS: a QUICK forwarded run with that generator.
check_method() {
	local gen=$1 configs=$2 rc=0
	mkdir -p "$RES/$gen"
	timeout 100 make -C "$LAB_REPO" --no-print-directory bench-forward QUICK=1 \
		RESULTS="$RES/$gen" BENCH_GEN="$gen" BENCH_CONFIGS="$configs" >>"$LOG" 2>&1 || rc=$?
	((rc == 0)) || fail "make bench-forward BENCH_GEN=$gen exited with status $rc: $(tail -n 3 "$LOG")"
	"$LAB_PY" -c 'import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
gens = {r["generator"] for r in runs}
sys.exit(0 if gens == {sys.argv[2]} else f"runs by {gens}, not {sys.argv[2]}")' "$RES/$gen/forward.json" "$gen"
}

check_no_leftovers() {
	local before=$1 after
	after=$(bench_namespaces)
	[[ $after == "$before" ]] || fail "namespaces left behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
}

main() {
	local cfg flows before gen
	t_install_traps
	trap bench_cleanup EXIT
	T_PREFIX=bench
	RES=$(mktemp -d /tmp/mwan-bench.XXXXXX)
	LOG=$RES/make.log
	before=$(bench_namespaces)
	check "report.py: marks a loop that lost frames, a run without program figures, a generator-bound ratio" \
		check_report_rules
	check "make bench-all QUICK=1 runs every part" check_make
	check "forward.sh probe: names the generator and why; live frames refused: the XDP loop" check_probe
	check "micro: every case of every program measured" check_results micro
	for cfg in a b c d e; do
		check "forward: configuration $cfg forwards IPv4 and IPv6, translated as it must be" \
			check_results forward "$cfg"
	done
	for flows in 1000 100000; do
		check "scale: $flows flows forwarded by the fast path" check_results scale "$flows"
	done
	check "results: bench.json, bench.md (with targets and the generator) and bench.png written" \
		check_results outputs
	# The loop is what a kernel that refuses live frames gets: every
	# configuration through it too, when the probe chose live frames.
	if [[ $PROBED != xdp-loop ]]; then
		check "BENCH_GEN=xdp-loop: the forwarded runs go through the closed loop" \
			check_method xdp-loop "a b c d e"
		for cfg in a b c d e; do
			check "xdp-loop: configuration $cfg forwards IPv4 and IPv6, translated as it must be" \
				check_results_in "$RES/xdp-loop" forward "$cfg"
		done
	fi
	for gen in af-packet af-xdp; do
		check "BENCH_GEN=$gen: mwan's fast path forwards what it sends, translated" \
			check_method "$gen" c
		check "$gen: configuration c forwards IPv4 and IPv6, translated as it must be" \
			check_results_in "$RES/$gen" forward c
	done
	check "no benchmark namespace left behind" check_no_leftovers "$before"
	exit $((T_FAILED > 0))
}

main "$@"
