#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of config validation: bad configs are refused with FILE:LINE: and attach nothing.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Each case: name, the token the error is about, a sed script applied to the lab config.
CASES=(
	"unknown key|bogus_key|/^fast_path:/a bogus_key: 1"
	"bad address|100.64.1.300|s/gateway4: 100.64.1.1$/gateway4: 100.64.1.300/"
	"duplicate public address|198.51.100.193|s/att: 198.51.100.194/att: 198.51.100.193/"
	"mapping names an unknown WAN|nosuchwan|s/webpass: 203.0.113.241/nosuchwan: 203.0.113.241/"
	"missing interface|eth9|s/interface: eth2$/interface: eth9/"
	# no Ethernet header: a WAN may be one (tests/lab/test_l3wan.sh), the LAN not
	"tun device as the LAN|mwan-tun0|s/interface: eth3$/interface: mwan-tun0/"
	# mappings that would take the router's own traffic
	"mapping onto the router's LAN address|10.250.250.1|s/internal: 10.250.250.2$/internal: 10.250.250.1/"
	"mapping onto the router's WAN address|100.64.1.2|s/att: 198.51.100.193,/att: 100.64.1.2,/"
	"mapping onto a WAN's gateway|100.64.2.1|s/att: 198.51.100.193,/att: 100.64.2.1,/"
)

# run_loader FILE ARGS...: the loader in the router namespace, at most 15 s.
run_loader() {
	timeout 15 ip netns exec "$(lab_ns router)" "$LAB_LOADER" -c "$@" 2>&1
}

check_good_config() {
	local out
	out=$(run_loader "$LAB_CFG" --check) || fail "--check refuses the lab config: $out"
	[[ -z $(lab_attached) ]] || fail "--check attached something: $(lab_attached)"
}

# check_rejected FILE TOKEN [--check]: non-zero exit, FILE:LINE: on a line with TOKEN.
check_rejected() {
	local file=$1 token=$2 out rc=0 line lines attached
	shift 2
	out=$(run_loader "$file" "$@") || rc=$?
	echo "$out" | tail -n 5
	((rc != 0)) || fail "exit status 0"
	((rc != 124)) || fail "still running after 15 s"
	line=$(grep -oE -- "$file:[0-9]+:" <<<"$out" | head -n 1 | cut -d: -f2)
	[[ -n $line ]] || fail "exit status $rc but no '$file:LINE:' message"
	lines=$(grep -n -- "$token" "$file" | cut -d: -f1 | tr '\n' ' ')
	[[ " $lines" == *" $line "* ]] || fail "message points at line $line, want one of: $lines($token)"
	attached=$(lab_attached)
	[[ -z $attached ]] || fail "left attached: $(tr '\n' ';' <<<"$attached")"
	grep -m 1 -- "$file:$line:" <<<"$out"
}

# check_foreign_xdp: another XDP program (xdp-filter's) on the LAN
# interface. mwan does not share or replace it: the start fails with a
# line saying so, the program stays, and every WAN keeps mwan's egress
# guard, so a LAN host's datagram leaves no WAN with its internal source.
check_foreign_xdp() {
	local out rc=0 port=47011 before after lan
	lab_exec router xdp-filter load eth3 >/dev/null || fail "xdp-filter load eth3 failed"
	out=$(run_loader "$LAB_CFG") || rc=$?
	lab_exec router ip -d link show eth3 | grep -q 'name xdpfilt_' ||
		fail "xdp-filter's program is gone from eth3"
	((rc != 0 && rc != 124)) || fail "exit status $rc"
	grep -q "eth3: cannot attach XDP.*another XDP program is attached" <<<"$out" ||
		fail "no line names the other program: $(tail -n 3 <<<"$out")"
	grep -q "fail closed" <<<"$out" || fail "the failure does not say it failed closed: $(tail -n 1 <<<"$out")"
	! grep -q "native XDP not available" <<<"$out" || fail "it blamed native XDP and tried generic over the other program"
	for wan in "${LAB_WANS[@]}"; do
		lab_exec router tc filter show dev "${LAB_WAN_IF[$wan]}" egress | grep -q mwan_tc_out ||
			fail "${LAB_WAN_IF[$wan]} has no egress guard"
	done
	lab_serve foreign inet udp-sink --port "$port" --log "$LAB_DIR/foreign.jsonl" ||
		fail "udp sink did not start"
	before=$(lab_ctl -j stats | lab_exec router "$LAB_PY" "$LAB_NET_PY" counter internal_src_on_wan)
	lab_py h2 udp-flows --src 10.250.250.2 --base-port 47100 --count 5 --packets 2 \
		--dst "$LAB_SERVER:$port"
	sleep 1
	lab_stop_bg foreign
	after=$(lab_ctl -j stats | lab_exec router "$LAB_PY" "$LAB_NET_PY" counter internal_src_on_wan)
	lan=$(grep -c '"src": "10\.250\.250\.' "$LAB_DIR/foreign.jsonl" || true)
	((lan == 0)) || fail "$lan datagrams reached the internet with an internal source"
	((after > before)) || grep -q '"src"' "$LAB_DIR/foreign.jsonl" ||
		fail "nothing arrived and the guard counted nothing (internal_src_on_wan $before -> $after)"
	echo "internal_src_on_wan $before -> $after; $(grep -c '"src"' "$LAB_DIR/foreign.jsonl" || true) datagrams arrived, none from 10.250.250.0/29"
}

# check_sysctl_refused SYSCTL=BAD SYSCTL=GOOD PATTERN: with the first
# setting --check and a real start exit non-zero with a line matching
# PATTERN (FILE:LINE: field: ... the fix) and attach nothing; then the
# second setting is restored.
check_sysctl_refused() {
	local mode out rc
	lab_sysctl router "$1"
	for mode in --check start; do
		rc=0
		if [[ $mode == --check ]]; then
			out=$(run_loader "$LAB_CFG" --check) || rc=$?
		else
			out=$(run_loader "$LAB_CFG") || rc=$?
		fi
		((rc != 0 && rc != 124)) || fail "$mode: exit status $rc: $(tail -n 1 <<<"$out")"
		grep -q -- "$3" <<<"$out" || fail "$mode: no line like '$3': $(tail -n 1 <<<"$out")"
		[[ -z $(lab_attached) ]] || fail "$mode left attached: $(lab_attached | tr '\n' ';')"
	done
	lab_sysctl router "$2"
	grep -m 1 -o -- "$3" <<<"$out"
}

# check_forwarding_off: with net.ipv4.ip_forward=0 the kernel's path
# would drop what XDP forwards: refused at the lan.ipv4 line with the
# sysctl command that fixes it.
check_forwarding_off() {
	check_sysctl_refused net.ipv4.ip_forward=0 net.ipv4.ip_forward=1 \
		"$LAB_CFG:$(grep -n '^  ipv4:' "$LAB_CFG" | cut -d: -f1): lan.ipv4: .*run: sysctl -w net.ipv4.ip_forward=1"
}

# check_rp_filter_strict: strict reverse-path filtering on a WAN (eth2)
# would make the kernel's path drop the replies webpass brings in (XDP
# forwards them): refused at webpass's interface line with the sysctl
# command that fixes it.
check_rp_filter_strict() {
	check_sysctl_refused net.ipv4.conf.eth2.rp_filter=1 net.ipv4.conf.eth2.rp_filter=0 \
		"$LAB_CFG:$(grep -n '^    interface: eth2$' "$LAB_CFG" | cut -d: -f1): wans.webpass.interface: 'eth2' filters by reverse path strictly.*run: sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth2.rp_filter=2"
}

# In make matrix (MWAN_MATRIX) only the cases that ask the system: the
# parser's own do not depend on the kernel, and make check runs them all.
matrix_cases() {
	local c
	for c in "${CASES[@]}"; do
		case $c in "missing interface|"* | "tun device as the LAN|"* | "mapping onto the router's WAN address|"*) echo "$c" ;; esac
	done
}

main() {
	local c name token script bad
	t_install_traps
	T_PREFIX=config
	lab_init "$$"
	lab_up true
	lab_exec router ip tuntap add dev mwan-tun0 mode tun
	lab_exec router ip link set mwan-tun0 up
	check "the lab config passes --check and attaches nothing" check_good_config
	[[ -z ${MWAN_MATRIX:-} ]] || mapfile -t CASES < <(matrix_cases)
	((${#CASES[@]} > 0)) || t_setup_fail "no config cases to run"
	for c in "${CASES[@]}"; do
		IFS='|' read -r name token script <<<"$c"
		bad=$LAB_DIR/bad-${name// /-}.yaml
		sed "$script" "$LAB_CFG" >"$bad"
		if cmp -s "$bad" "$LAB_CFG"; then
			t_setup_fail "sed script for '$name' changed nothing"
		fi
		check "$name: --check exits non-zero with FILE:LINE:" check_rejected "$bad" "$token" --check
		check "$name: a real start exits non-zero with FILE:LINE: and attaches nothing" \
			check_rejected "$bad" "$token"
	done
	check "net.ipv4.ip_forward=0: --check and the start refuse at lan.ipv4 with the sysctl that fixes it" \
		check_forwarding_off
	lab_sysctl router net.ipv4.ip_forward=1
	check "rp_filter=1 on a WAN: --check and the start refuse at its interface line with the sysctl that fixes it" \
		check_rp_filter_strict
	lab_sysctl router net.ipv4.conf.eth2.rp_filter=0
	check "another XDP program on the LAN: the start fails naming it, keeps it, and fails closed" \
		check_foreign_xdp
	lab_exec router xdp-filter unload --all eth3 >/dev/null 2>&1 || true
	run_loader "$LAB_CFG" --cleanup >/dev/null || true
	lab_down
	LAB_ID=
	exit $((T_FAILED > 0))
}

main "$@"
