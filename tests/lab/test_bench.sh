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

check_no_leftovers() {
	local before=$1 after
	after=$(bench_namespaces)
	[[ $after == "$before" ]] || fail "namespaces left behind: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
}

main() {
	local cfg flows before
	t_install_traps
	trap bench_cleanup EXIT
	T_PREFIX=bench
	RES=$(mktemp -d /tmp/mwan-bench.XXXXXX)
	LOG=$RES/make.log
	before=$(bench_namespaces)
	check "make bench-all QUICK=1 runs every part" check_make
	check "micro: every case of every program measured" check_results micro
	for cfg in a b c d e; do
		check "forward: configuration $cfg forwards IPv4 and IPv6, translated as it must be" \
			check_results forward "$cfg"
	done
	for flows in 1000 100000; do
		check "scale: $flows flows forwarded by the fast path" check_results scale "$flows"
	done
	check "results: bench.json, bench.md (with targets) and bench.png written" check_results outputs
	check "no benchmark namespace left behind" check_no_leftovers "$before"
	exit $((T_FAILED > 0))
}

main "$@"
