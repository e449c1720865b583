#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The style checks of make check, as TAP lines (scripts/run-tests.sh style):
# clang-format (the repository's .clang-format) over the C sources, and
# ShellCheck (severity warning and above, following sourced files) over the
# shell scripts, both as git tracks them. A failure names the file and line.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
SHELLCHECK=${SHELLCHECK:-shellcheck}
SHELLCHECK_SEVERITY=${SHELLCHECK_SEVERITY:-warning}
cd "$REPO"

# tracked FILES...: the tracked files matching git pathspecs, that exist.
tracked() {
	local f
	git ls-files -z -- "$@" | while IFS= read -r -d '' f; do
		[[ -f $f ]] && printf '%s\n' "$f"
	done
}

# shell_scripts: *.sh, and the scripts without that extension whose first
# line runs sh or bash (the DHCP hooks, .ci/run, debian's maintainer scripts).
shell_scripts() {
	local f first
	while IFS= read -r f; do
		if [[ $f == *.sh ]]; then
			echo "$f"
			continue
		fi
		IFS= read -r first <"$f" 2>/dev/null || continue
		[[ $first =~ ^#!.*(/|env\ )(ba)?sh([[:space:]]|$) ]] && echo "$f"
	done < <(tracked)
}

check_clang_format() {
	local files out bad=0 f line
	command -v "$CLANG_FORMAT" >/dev/null ||
		{ echo "not ok - style: clang-format: $CLANG_FORMAT not installed (scripts/install-deps.sh)"; return; }
	mapfile -t files < <(tracked '*.c' '*.h')
	out=$("$CLANG_FORMAT" --dry-run --Werror "${files[@]}" 2>&1) || true
	# file:line:col: error: code should be clang-formatted: the first per file
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		bad=$((bad + 1))
		echo "not ok - style: clang-format: ${line%%: error:*}: not formatted (clang-format -i ${line%%:*})"
	done < <(grep -E '^[^ :]+:[0-9]+:[0-9]+: (error|warning):' <<<"$out" | awk -F: '!seen[$1]++')
	if ((bad > 0)); then
		echo "$out" | head -n 40
	elif [[ -n $out ]]; then
		echo "not ok - style: clang-format: $(head -n 1 <<<"$out")"
	else
		echo "ok - style: clang-format: ${#files[@]} C files formatted"
	fi
}

check_shellcheck() {
	local files out line bad=0
	command -v "$SHELLCHECK" >/dev/null ||
		{ echo "not ok - style: shellcheck: $SHELLCHECK not installed (scripts/install-deps.sh)"; return; }
	mapfile -t files < <(shell_scripts)
	# -x: follow `source`; the scripts' "# shellcheck source=" directives
	# name the sourced file from the repository's top, where this runs.
	out=$("$SHELLCHECK" -x -S "$SHELLCHECK_SEVERITY" -f gcc "${files[@]}" 2>&1) || true
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		bad=$((bad + 1))
		echo "not ok - style: shellcheck: $line"
	done <<<"$out"
	((bad > 0)) || echo "ok - style: shellcheck: ${#files[@]} shell scripts clean at severity $SHELLCHECK_SEVERITY"
}

check_clang_format
check_shellcheck
