#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A short run of each fuzzer (make fuzz runs them long): the packet fuzzer's invariants, and the config and control parsers under libFuzzer with ASan and UBSan.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BF=$LAB_REPO/build/fuzz
CORPUS=$LAB_REPO/tests/fuzz/corpus
PACKETS=${MWAN_FUZZ_PACKETS:-200000}
SECONDS_EACH=${MWAN_FUZZ_TIME:-15}

# packet_fuzz SEED: PACKETS generated and mutated frames through every
# program, and the corpus; no invariant broken.
packet_fuzz() {
	local out
	out=$("$BF/fuzz_packets" -n "$PACKETS" -s "$1" -c "$CORPUS/packets" 2>&1) ||
		fail "$(grep -m 3 VIOLATION <<<"$out")${out##*$'\n'}"
	grep -q " 0 invariant violations$" <<<"$out" || fail "$out"
	echo "${out##*$'\n'}"
}

# lib_fuzz NAME MAX_LEN: a libFuzzer harness for SECONDS_EACH seconds from
# its corpus; a crash, a sanitizer report or an abort() is a failure.
lib_fuzz() {
	local name=$1 max=$2 dir out
	dir=$(mktemp -d)
	out=$("$BF/fuzz_$name" -max_total_time="$SECONDS_EACH" -max_len="$max" \
		-seed=1 -print_final_stats=1 "$dir" "$CORPUS/$name" 2>&1) || {
		rm -rf "$dir"
		fail "$(grep -m 5 -E 'ERROR|SUMMARY|abort|==[0-9]+==' <<<"$out" | tr '\n' ' ')"
	}
	rm -rf "$dir"
	grep -m 1 "^Done [0-9]* runs" <<<"$out" || fail "no run count: ${out: -300}"
}

main() {
	t_install_traps
	T_PREFIX=fuzz
	[[ -x $BF/fuzz_packets && -x $BF/fuzz_config && -x $BF/fuzz_control ]] ||
		t_setup_fail "fuzzers not built (make fuzz-build)"
	check "packets: $PACKETS random and mutated frames through XDP and TC, both directions, invariants hold" \
		packet_fuzz 0x6d77
	check "config parser: ${SECONDS_EACH}s of libFuzzer (ASan, UBSan): no crash, every refusal with FILE:LINE" \
		lib_fuzz config 4096
	check "control protocol: ${SECONDS_EACH}s of libFuzzer (ASan, UBSan): no crash, every refusal a reply" \
		lib_fuzz control 300
	exit $((T_FAILED > 0))
}

main "$@"
