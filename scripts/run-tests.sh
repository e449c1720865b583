#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs the style checks, cmocka unit binaries and/or the lab tests; ends with one line "N passed, N failed".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PASSED=0
FAILED=0
FAILURES=()
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

usage() {
	echo "usage: run-tests.sh style | unit BIN... | lab [SCRIPT...] | all BIN... | some BIN... -- SCRIPT..." >&2
	exit 2
}

# record_failure NAME: one failed test, named in the summary.
record_failure() {
	FAILED=$((FAILED + 1))
	FAILURES+=("$1")
}

# run_logged CMD...: run CMD showing its output, keep it in $OUT; sets RC.
# tee ignores SIGINT so that a test cleaning up after Ctrl-C can still print.
run_logged() {
	RC=0
	"$@" 2>&1 | tee -i "$OUT" || RC=${PIPESTATUS[0]}
}

status_text() {
	if ((RC > 128)); then
		echo "killed by signal $((RC - 128))"
	else
		echo "exit status $RC"
	fi
}

# count_cmocka NAME: read a cmocka summary from $OUT.
count_cmocka() {
	local name=$1 passed failed listed i t
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$OUT" | tail -n 1)
	failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$OUT" | tail -n 1)
	if [[ -z $passed && -z $failed ]]; then
		record_failure "$name: no cmocka summary ($(status_text))"
		return
	fi
	PASSED=$((PASSED + ${passed:-0}))
	listed=0
	while read -r t; do
		record_failure "$name: $t"
		listed=$((listed + 1))
	done < <(awk '/^\[  FAILED  \] [0-9]+ test\(s\), listed below:/ { on = 1; next }
		on && /^\[  FAILED  \] / { print $4 }' "$OUT")
	for ((i = listed; i < ${failed:-0}; i++)); do
		record_failure "$name: unnamed failure"
	done
	if ((RC != 0 && ${failed:-0} == 0)); then
		record_failure "$name: $(status_text)"
	fi
}

run_unit() {
	local bin start
	for bin in "$@"; do
		echo "== unit: $bin"
		start=$SECONDS
		if [[ ! -x $bin ]]; then
			record_failure "$bin: missing"
			continue
		fi
		run_logged env CMOCKA_MESSAGE_OUTPUT=stdout "$bin"
		count_cmocka "$(basename "$bin")"
		echo "-- $bin: $((SECONDS - start)) s"
	done
}

# count_tap NAME: ok / not ok lines from $OUT.
count_tap() {
	local name=$1 ok line
	ok=$(grep -c '^ok - ' "$OUT" || true)
	PASSED=$((PASSED + ok))
	while IFS= read -r line; do
		record_failure "${line#not ok - }"
	done < <(grep '^not ok - ' "$OUT" || true)
	if ((RC != 0)) && ! grep -q '^not ok - ' "$OUT"; then
		record_failure "$name: $(status_text) without a failed check"
	fi
	if ((ok == 0)) && ! grep -q '^not ok - ' "$OUT"; then
		record_failure "$name: ran no check"
	fi
}

# run_lab [SCRIPT...]: the given lab tests (paths from the repository's
# top), or all of them.
run_lab() {
	local t start tests=("$@")
	if ((EUID != 0)); then
		record_failure "lab: needs root (network namespaces)"
		return
	fi
	((${#tests[@]})) || tests=("$REPO"/tests/lab/test_*.sh)
	for t in "${tests[@]}"; do
		[[ $t == /* ]] || t=$REPO/$t
		echo "== lab: ${t#"$REPO"/}"
		if [[ ! -x $t ]]; then
			record_failure "$t: missing"
			continue
		fi
		start=$SECONDS
		run_logged "$t"
		count_tap "$(basename "$t")"
		echo "-- ${t#"$REPO"/}: $((SECONDS - start)) s"
	done
}

# run_style: clang-format and shellcheck over the tracked sources
# (tests/style.sh); no root needed.
run_style() {
	local start=$SECONDS
	echo "== style: tests/style.sh"
	run_logged "$REPO/tests/style.sh"
	count_tap style.sh
	echo "-- tests/style.sh: $((SECONDS - start)) s"
}

# run_some BIN... -- SCRIPT...: these unit binaries, then these lab tests.
run_some() {
	local units=()
	while (($#)) && [[ $1 != -- ]]; do
		units+=("$1")
		shift
	done
	(($#)) && shift
	((${#units[@]} == 0)) || run_unit "${units[@]}"
	(($# == 0)) || run_lab "$@"
}

summary() {
	local f
	echo
	if ((FAILED > 0)); then
		echo "Failed:"
		for f in "${FAILURES[@]}"; do echo "  $f"; done
	fi
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main() {
	local mode=${1:-}
	# Ctrl-C reaches the running test too, whose traps clean up; then stop.
	trap 'echo "interrupted"; summary; exit 130' INT TERM
	[[ -n $mode ]] || usage
	shift
	case $mode in
	style) run_style ;;
	unit) run_unit "$@" ;;
	lab) run_lab "$@" ;;
	some) run_some "$@" ;;
	all)
		run_style
		run_unit "$@"
		run_lab
		;;
	*) usage ;;
	esac
	summary
}

main "$@"
