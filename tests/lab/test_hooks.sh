#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of prefix events: DHCPv6 hooks, control socket, expiry, restart, IPv6 loader state (no traffic).
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOOK=$LAB_REPO/hooks/mwan-dhcpcd-hook
ODHCP=$LAB_REPO/hooks/mwan-odhcp6c-script
ATT_PD=2001:db8:a0:100::/56 ATT_EXT=2001:db8:a0:1fe::/64
ATT_PD2=2001:db8:a0:200::/56 ATT_EXT2=2001:db8:a0:2fe::/64
WP_PD=2001:db8:b0:200::/56 WP_EXT=2001:db8:b0:2fe::/64

# ---- setup --------------------------------------------------------------------

# write_config FILE [ATT_STATIC_PREFIX]: lan.ipv6 and NPTv6 on both WANs
# (delegated prefixes, subnet 0xfe), whatever lab.sh writes.
write_config() {
	local h
	{
		echo "pin_dir: $LAB_PIN"
		echo "run_dir: $LAB_DIR/run"
		echo "lan:"
		echo "  interface: eth3"
		echo "  ipv4: 10.250.250.0/29"
		echo "  ipv6: 3d06:bad:b01:fe::/64"
		echo "wans:"
		echo "  att:"
		echo "    interface: eth1"
		echo "    gateway4: 100.64.1.1"
		echo "    gateway6: 2001:db8:a::1"
		echo "    weight: 3"
		if [[ -n ${2:-} ]]; then
			echo "    npt: { subnet: 0xfe, prefix: '$2' }"
		else
			echo "    npt: { subnet: 0xfe }"
		fi
		echo "  webpass:"
		echo "    interface: eth2"
		echo "    gateway4: 100.64.2.1"
		echo "    gateway6: 2001:db8:b::1"
		echo "    npt: { subnet: 0xfe }"
		echo "nat:"
		for h in "${LAB_HOSTS[@]}"; do
			echo "  - internal: $(lab_host_ip "$h")"
			echo "    external: { att: $(lab_public att "$h"), webpass: $(lab_public webpass "$h") }"
		done
	} >"$1"
}

# A logger that writes to a file, so the test sees what goes to syslog.
make_fake_logger() {
	FAKEBIN=$LAB_DIR/bin
	SYSLOG=$LAB_DIR/syslog
	mkdir -p "$FAKEBIN"
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>%q\n' "$SYSLOG" >"$FAKEBIN/logger"
	chmod +x "$FAKEBIN/logger"
	: >"$SYSLOG"
}

start_loader() {
	lab_start_loader "$CFG" 2>"$LAB_DIR/loader-start.err" ||
		t_setup_fail "mwan-loader did not start: $(cat "$LAB_DIR/loader-start.err")"
}

# ---- reading the state --------------------------------------------------------------

ctl() { lab_exec router "$LAB_BPFCTL" -c "$CFG" "$@"; }

# wan_field WAN FIELD: one field of `bpfctl -j status` ("null" for null).
wan_field() {
	ctl -j status | "$LAB_PY" -c 'import json, sys
w = [w for w in json.load(sys.stdin)["wans"] if w["name"] == sys.argv[1]][0]
v = w[sys.argv[2]]
print("null" if v is None else v)' "$1" "$2"
}

# prefix_of WAN: "PREFIX EXTERNAL SOURCE VALID_S" from bpfctl -j status.
prefix_of() {
	ctl -j status | "$LAB_PY" -c 'import json, sys
w = [w for w in json.load(sys.stdin)["wans"] if w["name"] == sys.argv[1]][0]
print(" ".join("null" if w[k] is None else str(w[k])
               for k in ("prefix", "external", "prefix_source", "prefix_valid_s")))' "$1"
}

# npt_map: mwan_npt as "WAN DELEGATED/LEN EXT/64 SOURCE SUBNET TTL_S" lines
# (TTL_S: whole seconds left, "-" for none), from the pinned map itself.
npt_map() {
	bpftool -j map dump pinned "$LAB_PIN/mwan_npt" | "$LAB_PY" -c 'import ipaddress, json, sys, time
now = time.monotonic_ns()
for e in sorted(json.load(sys.stdin), key=lambda e: e["formatted"]["key"]):
    k, v = e["formatted"]["key"], e["formatted"]["value"]
    d = ipaddress.IPv6Address(bytes(v["delegated"]))
    x = ipaddress.IPv6Address(bytes(v["ext"]))
    src = {1: "static", 2: "pd"}.get(v["source"], v["source"])
    ttl = "-" if not v["valid_until_ns"] else (v["valid_until_ns"] - now) // 10**9
    print(k, "%s/%d" % (d, v["delegated_len"]), "%s/64" % x, src, v["subnet"], ttl)'
}

# npt_raw: the map byte for byte, for "nothing changed" checks.
npt_raw() { bpftool -j map dump pinned "$LAB_PIN/mwan_npt"; }

npt_mask() {
	bpftool -j map lookup pinned "$LAB_PIN/mwan_npt_mask" key 0 0 0 0 |
		"$LAB_PY" -c 'import json, sys; print(json.load(sys.stdin)["formatted"]["value"])'
}

# expect_prefix WAN PREFIX EXTERNAL SOURCE MIN_S MAX_S: what status shows
# (MIN_S "null": no expiry; PREFIX "null": none at all).
expect_prefix() {
	local got p x s v
	got=$(prefix_of "$1")
	read -r p x s v <<<"$got"
	[[ $p == "$2" && $x == "$3" && $s == "$4" ]] ||
		fail "$1: status shows '$got', want prefix $2 external $3 source $4"
	if [[ $5 == null ]]; then
		[[ $v == null ]] || fail "$1: prefix_valid_s $v, want null"
	else
		((v >= $5 && v <= $6)) || fail "$1: prefix_valid_s $v, want $5..$6"
	fi
}

# expect_map WAN_ID LINE_REGEX: the map entry of WAN_ID (or none: "").
expect_map() {
	local line
	line=$(npt_map | grep "^$1 " || true)
	if [[ -z $2 ]]; then
		[[ -z $line ]] || fail "mwan_npt[$1] is '$line', want no entry"
		return 0
	fi
	[[ $line =~ ^$2$ ]] || fail "mwan_npt[$1] is '$line', want /$2/"
}

expect_mask() {
	local m
	m=$(npt_mask)
	[[ $m == "$1" ]] || fail "mwan_npt_mask is $m, want $1"
}

# ---- feeding the hooks ------------------------------------------------------------

# The variables dhcpcd 9.4.1 hands its hooks (as captured from dhcpcd
# against kea-dhcp6-server), with this test's prefixes and lifetimes.
lease_header() { # REASON UP
	echo "reason=$1"
	echo "protocol=dhcp6"
	echo "pid=25748"
	echo "if_configured=true"
	if [[ $2 == up ]]; then
		echo "if_up=true" && echo "if_down=false"
	else
		echo "if_up=false" && echo "if_down=true"
	fi
	echo "ifcarrier=up"
	echo "ifflags=69699"
	echo "ifmetric=1002"
	echo "ifmtu=1500"
	echo "ifwireless=0"
	echo "interface_order=eth1 eth2 eth3"
	echo "skip_hooks=resolv.conf"
	echo "syslog_debug=true"
}

# ia_pd SIDE PREFIX/LEN VLTIME [N M]: one delegated prefix's variables.
ia_pd() {
	local v=${5:-1} n=${4:-1} p=$1_dhcp6_ia_pd${4:-1}_prefix${5:-1}
	if [[ $v == 1 ]]; then
		echo "$1_dhcp6_client_id=000100013294d7f72aae3217114d"
		echo "$1_dhcp6_server_id=000100013294d81d96d75c92ef4f"
		echo "$1_dhcp6_ia_pd${n}_iaid=0000000$n"
		echo "$1_dhcp6_ia_pd${n}_t1=$(($3 / 2))"
		echo "$1_dhcp6_ia_pd${n}_t2=$(($3 * 4 / 5))"
	fi
	echo "$p=${2%/*}"
	echo "${p}_length=${2#*/}"
	echo "${p}_pltime=$(($3 * 3 / 4))"
	echo "${p}_vltime=$3"
}

# hook_env IFACE sh|exec VAR=VALUE...: the dhcpcd hook with just these
# variables in its environment, in the router namespace; its output in
# $LAB_DIR/hook.out. Fails when the hook does not exit 0.
hook_env() {
	local iface=$1 how=$2 cmd
	shift 2
	case $how in
	sh) cmd=(dash "$HOOK") ;;
	exec) cmd=("$HOOK") ;;
	esac
	lab_exec router env -i PATH="$FAKEBIN:/usr/sbin:/usr/bin:/sbin:/bin" \
		MWAN_CONFIG="$CFG" MWAN_BPFCTL="$LAB_BPFCTL" interface="$iface" \
		"$@" "${cmd[@]}" >"$LAB_DIR/hook.out" 2>&1 ||
		fail "hook exited $?: $(cat "$LAB_DIR/hook.out")"
}

# run_hook IFACE [sh|exec]: hook_env with the KEY=VALUE lines on stdin.
run_hook() {
	local vars=()
	mapfile -t vars
	hook_env "$1" "${2:-sh}" "${vars[@]}"
}

# run_odhcp6c IFACE STATE [PREFIXES]: the odhcp6c script, output as above.
run_odhcp6c() {
	lab_exec router env -i PATH="$FAKEBIN:/usr/sbin:/usr/bin:/sbin:/bin" \
		MWAN_CONFIG="$CFG" MWAN_BPFCTL="$LAB_BPFCTL" PREFIXES="${3:-}" \
		"$ODHCP" "$1" "$2" >"$LAB_DIR/hook.out" 2>&1 ||
		fail "odhcp6c script exited $?: $(cat "$LAB_DIR/hook.out")"
}

hook_said() {
	grep -qF -- "$1" "$LAB_DIR/hook.out" ||
		fail "hook output lacks '$1': $(tr '\n' ' ' <"$LAB_DIR/hook.out")"
}

syslog_has() {
	grep -qF -- "$1" "$SYSLOG" || fail "syslog lacks '$1': $(tail -n 3 "$SYSLOG")"
}

# ---- checks: loader and IPv6 state ------------------------------------------------------

check_socket_mode() {
	local st
	st=$(stat -c '%F %a %U %G' "$LAB_DIR/run/control")
	[[ $st == "socket 600 root root" ]] || fail "control socket is '$st', want socket 600 root root"
}

# A client that is not root cannot connect at all; with the mode relaxed
# (as a mistake would), the loader still refuses it by its credentials.
check_non_root_refused() {
	local out rc=0 sock=$LAB_DIR/run/control before
	before=$(npt_raw)
	out=$(lab_exec router setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$LAB_BPFCTL" -r "$LAB_DIR/run" pd att "$ATT_PD" 2>&1) || rc=$?
	((rc == 1)) && [[ $out == *"Permission denied"* ]] ||
		fail "as nobody: exit $rc, '$out'; want exit 1 and Permission denied"
	chmod 0666 "$sock"
	chmod 0755 "$LAB_DIR/run"
	rc=0
	out=$(lab_exec router setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$LAB_BPFCTL" -r "$LAB_DIR/run" pd att "$ATT_PD" 2>&1) || rc=$?
	chmod 0600 "$sock"
	((rc == 1)) && [[ $out == "bpfctl: permission denied (uid 65534 is not root)" ]] ||
		fail "socket mode 0666, as nobody: exit $rc, '$out'"
	[[ $(npt_raw) == "$before" ]] || fail "mwan_npt changed"
}

check_gateway6() {
	local i mac
	for i in $(seq 30); do
		mac=$(wan_field att gateway6_mac)
		[[ $mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] && break
		sleep 0.1
	done
	[[ $mac != null ]] || fail "att's gateway6 still unresolved after 3 s"
	[[ $(wan_field att gateway6) == 2001:db8:a::1 ]] || fail "att gateway6 is $(wan_field att gateway6)"
	[[ $(wan_field webpass gateway6) == 2001:db8:b::1 ]] || fail "webpass gateway6 wrong"
}

check_routing6() {
	local rules t
	rules=$(lab_exec router ip -6 rule show)
	grep -q "^9000:.*to 3d06:bad:b01:fe::/64 lookup main" <<<"$rules" || fail "no LAN rule: $rules"
	grep -q "^9001:.*fwmark 0x6d770100 lookup 27900" <<<"$rules" || fail "no att rule: $rules"
	grep -q "^9002:.*fwmark 0x6d770101 lookup 27901" <<<"$rules" || fail "no webpass rule: $rules"
	# each table: the gateway route, then the unreachable one that ends it
	t=$(lab_exec router ip -6 route show table 27900)
	grep -q "^default via 2001:db8:a::1 dev eth1" <<<"$t" || fail "table 27900: $t"
	grep -q "^unreachable default dev lo .*metric 4294967295" <<<"$t" || fail "table 27900: $t"
	t=$(lab_exec router ip -6 route show table 27901)
	grep -q "^default via 2001:db8:b::1 dev eth2" <<<"$t" || fail "table 27901: $t"
	grep -q "^unreachable default dev lo .*metric 4294967295" <<<"$t" || fail "table 27901: $t"
}

# map_keys MAP: the keys of an IPv6-keyed map as addresses ("ADDR/LEN" for LPM).
map_keys() {
	bpftool -j map dump pinned "$LAB_PIN/$1" | "$LAB_PY" -c 'import ipaddress, json, sys
for e in json.load(sys.stdin):
    k = e["formatted"]["key"]
    if "prefixlen" in k:
        print("%s/%d" % (ipaddress.IPv6Address(bytes(k["addr"])), k["prefixlen"]))
    else:
        print(ipaddress.IPv6Address(bytes(k["a"])))'
}

check_local6_bypass6() {
	local local6 bypass6
	local6=$(map_keys mwan_local6)
	grep -qx 3d06:bad:b01:fe::1 <<<"$local6" || fail "mwan_local6 lacks the LAN address: $local6"
	grep -qx 2001:db8:a::2 <<<"$local6" || fail "mwan_local6 lacks att's address: $local6"
	bypass6=$(map_keys mwan_bypass6)
	grep -qx 3d06:bad:b01:fe::/64 <<<"$bypass6" || fail "mwan_bypass6 lacks the LAN route: $bypass6"
	! grep -q "^2001:db8:[ab]::/64\|^::/0\|^fe80" <<<"$bypass6" ||
		fail "mwan_bypass6 has a WAN, default or link-local route: $bypass6"
}

# LAN hosts appear in mwan_neigh6 once the kernel knows them, and leave.
check_neigh6() {
	local i keys
	lab_exec h2 ping -6 -c 1 -W 2 3d06:bad:b01:fe::1 >/dev/null || fail "h2 cannot ping the router"
	for i in $(seq 30); do
		keys=$(map_keys mwan_neigh6)
		grep -qx 3d06:bad:b01:fe::2 <<<"$keys" && break
		sleep 0.1
	done
	grep -qx 3d06:bad:b01:fe::2 <<<"$keys" || fail "mwan_neigh6 lacks h2 after 3 s: $keys"
	lab_exec router ip -6 neigh del 3d06:bad:b01:fe::2 dev eth3
	for i in $(seq 30); do
		keys=$(map_keys mwan_neigh6)
		grep -qx 3d06:bad:b01:fe::2 <<<"$keys" || return 0
		sleep 0.1
	done
	fail "h2 still in mwan_neigh6 3 s after its neighbour entry went"
}

# ---- checks: the dhcpcd hook --------------------------------------------------------

check_bound6() {
	{
		lease_header BOUND6 up
		ia_pd new "$ATT_PD" 7200
	} | run_hook eth1
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 7198 7200
	expect_map 0 "0 $ATT_PD $ATT_EXT pd 254 71(99|98)"
	expect_mask 1
	syslog_has "-t mwan-dhcpcd-hook -p daemon.info -- eth1: BOUND6: bpfctl pd att $ATT_PD --valid 7200: att: prefix $ATT_PD, external $ATT_EXT, valid 7200 s"
	hook_said "mwan-dhcpcd-hook: eth1: BOUND6: bpfctl pd att $ATT_PD --valid 7200"
	grep -q "wan att: prefix none -> $ATT_PD, external $ATT_EXT, pd, valid 7200 s" "$LAB_LOADER_LOG" ||
		fail "the loader did not log the change"
}

check_renew6() {
	{
		lease_header RENEW6 up
		ia_pd new "$ATT_PD" 3600
		ia_pd old "$ATT_PD" 7200
	} | run_hook eth1 exec
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 3598 3600
	expect_map 0 "0 $ATT_PD $ATT_EXT pd 254 3(599|598)"
	grep -q "wan att: prefix $ATT_PD -> $ATT_PD (renewed), external $ATT_EXT, pd, valid 3600 s" \
		"$LAB_LOADER_LOG" || fail "the loader did not log the renewal"
}

# As dhcpcd reports a new prefix: the new one first, the old one again
# with lifetime 0, and the old lease in old_*.
check_rebind6_new_prefix() {
	{
		lease_header REBIND6 up
		ia_pd new "$ATT_PD2" 1800
		ia_pd new "$ATT_PD" 0 1 2
		ia_pd old "$ATT_PD" 3600
	} | run_hook eth1
	expect_prefix att "$ATT_PD2" "$ATT_EXT2" pd 1798 1800
	expect_map 0 "0 $ATT_PD2 $ATT_EXT2 pd 254 1(799|798)"
	expect_mask 1
}

check_reboot6() {
	{
		lease_header REBOOT6 up
		ia_pd new "$ATT_PD" 900
	} | run_hook eth1
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 898 900
}

check_inform6() {
	{
		lease_header INFORM6 up
		ia_pd new "$ATT_PD" 600
		ia_pd old "$ATT_PD" 900
	} | run_hook eth1
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 598 600
}

# The first prefix still valid, lowest ia_pd first, numerically.
check_first_of_many() {
	{
		lease_header BOUND6 up
		ia_pd new 2001:db8:a0:500::/56 500 10 1
		ia_pd new 2001:db8:a0:400::/56 400 2 1
		ia_pd new 2001:db8:a0:600::/56 0 1 1
		ia_pd new 2001:db8:a0:300::/56 300 1 2
	} | run_hook eth1
	expect_prefix att 2001:db8:a0:300::/56 2001:db8:a0:3fe::/64 pd 298 300
}

check_webpass_bound6() {
	{
		lease_header BOUND6 up
		ia_pd new "$WP_PD" 7200
	} | run_hook eth2
	expect_prefix webpass "$WP_PD" "$WP_EXT" pd 7198 7200
	expect_prefix att 2001:db8:a0:300::/56 2001:db8:a0:3fe::/64 pd 290 300
	expect_mask 3
}

# clear_reason REASON: the old lease only, as dhcpcd passes it.
check_clear_reason() {
	{
		lease_header BOUND6 up
		ia_pd new "$ATT_PD" 600
	} | run_hook eth1
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 598 600
	{
		lease_header "$1" down
		ia_pd old "$ATT_PD" 600
	} | run_hook eth1
	expect_prefix att null null null null
	expect_map 0 ""
	expect_mask 2
	syslog_has "eth1: $1: bpfctl pd att clear: att: cleared prefix $ATT_PD"
	grep -q "wan att: prefix $ATT_PD -> none (cleared)" "$LAB_LOADER_LOG" ||
		fail "the loader did not log the clear"
}

# A renewal that no longer carries the prefix withdraws it.
check_withdrawn_in_renew() {
	{
		lease_header BOUND6 up
		ia_pd new "$ATT_PD" 600
	} | run_hook eth1
	{
		lease_header RENEW6 up
		ia_pd new "$ATT_PD" 0
		ia_pd old "$ATT_PD" 600
	} | run_hook eth1
	expect_prefix att null null null null
}

# Reasons without a prefix event, and an interface that is no WAN,
# change nothing and still exit 0.
check_ignored() {
	local before reason
	{
		lease_header BOUND6 up
		ia_pd new "$ATT_PD" 600
	} | run_hook eth1
	before=$(npt_raw)
	for reason in PREINIT CARRIER BOUND ROUTERADVERT DELEGATED6 NOCARRIER_ROAMING TEST; do
		{
			lease_header "$reason" up
			ia_pd old "$ATT_PD" 600
		} | run_hook eth1
	done
	{
		lease_header BOUND6 up
		ia_pd new "$ATT_PD2" 600
	} | run_hook eth3
	hook_said "eth3: not a WAN in $CFG; BOUND6 ignored"
	lease_header STOP6 down | run_hook eth1 # no old lease: nothing to clear
	[[ $(npt_raw) == "$before" ]] || fail "mwan_npt changed"
}

# dhcpcd-run-hooks sources its hooks: this one must not end the shell,
# nor leave variables or functions behind.
check_sourced() {
	local out
	out=$({
		lease_header RENEW6 up
		ia_pd new "$ATT_PD" 500
		ia_pd old "$ATT_PD" 600
	} | {
		mapfile -t vars
		lab_exec router env -i PATH="$FAKEBIN:/usr/sbin:/usr/bin:/sbin:/bin" \
			MWAN_CONFIG="$CFG" MWAN_BPFCTL="$LAB_BPFCTL" interface=eth1 "${vars[@]}" \
			dash -c 'set -u; . "$0"; echo "after the hook: $?"; set | grep -c "^mwan_" || :' "$HOOK" 2>&1
	})
	grep -q "after the hook: 0" <<<"$out" || fail "sourcing ended the shell: $out"
	[[ $(tail -n 1 <<<"$out") == 0 ]] || fail "mwan_* variables left behind: $out"
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 498 500
}

# hostile_hook NAME PREFIX LEN VLTIME MESSAGE [IFACE]: rejected with
# MESSAGE in the log, nothing changed, exit 0.
hostile_hook() {
	local before
	before=$(npt_raw)
	: >"$SYSLOG"
	hook_env "${6:-eth1}" sh reason=BOUND6 "new_dhcp6_ia_pd1_prefix1=$2" \
		"new_dhcp6_ia_pd1_prefix1_length=$3" "new_dhcp6_ia_pd1_prefix1_vltime=$4"
	[[ $(npt_raw) == "$before" ]] || fail "$1: mwan_npt changed"
	grep -qF -- "$5" "$SYSLOG" || fail "$1: syslog lacks '$5': $(cat "$SYSLOG")"
	hook_said "$5"
}

check_hostile_hook_input() {
	local pwned=$LAB_DIR/pwned
	hostile_hook "longer than /64" 2001:db8:a0:100:: 72 600 \
		"prefix '2001:db8:a0:100::/72' is longer than lan.ipv6 /64"
	hostile_hook "host bits" 2001:db8:a0:101:: 56 600 "host bits set in '2001:db8:a0:101::/56'"
	hostile_hook "garbage" garbage 56 600 "invalid prefix 'garbage/56' (expected ADDRESS/LENGTH)"
	hostile_hook "bad lifetime" 2001:db8:a0:100:: 56 abc "invalid lifetime 'abc'"
	hostile_hook "negative lifetime" 2001:db8:a0:100:: 56 -1 "invalid lifetime '-1'"
	hostile_hook "huge lifetime" 2001:db8:a0:100:: 56 99999999999 "lifetime '99999999999' out of range"
	hostile_hook "command substitution" "\$(touch $pwned)" 56 600 "invalid prefix '\$(touch $pwned)/56'"
	hostile_hook "backticks" "\`touch $pwned\`" 56 600 "invalid prefix '\`touch $pwned\`/56'"
	hostile_hook "separator" "2001:db8:a0:100::;touch" "56;touch${IFS:0:1}$pwned" 600 "invalid prefix"
	hostile_hook "newline" "$(printf '2001:db8:a0:100::\nx')" 56 600 "invalid prefix '2001:db8:a0:100::\\x0ax/56'"
	hostile_hook "interface" 2001:db8:a0:100:: 56 600 "not a WAN in $CFG" "eth1;touch $pwned"
	[[ ! -e $pwned ]] || fail "a hostile value ran a command"
	grep -q "control: request refused: host bits set in '2001:db8:a0:101::/56'" "$LAB_LOADER_LOG" ||
		fail "the loader did not log the refusal"
}

# Straight to bpfctl: a WAN that does not exist, one without NPTv6.
check_wrong_wan() {
	local out rc=0 before
	before=$(npt_raw)
	out=$(ctl pd nope "$ATT_PD" --valid 60 2>&1) || rc=$?
	((rc == 1)) && [[ $out == "bpfctl: unknown WAN 'nope' (known: att, webpass)" ]] ||
		fail "exit $rc: $out"
	[[ $(npt_raw) == "$before" ]] || fail "mwan_npt changed"
}

# ---- checks: the odhcp6c script ----------------------------------------------------

check_odhcp6c() {
	run_odhcp6c eth2 bound "$WP_PD,3600,7200"
	expect_prefix webpass "$WP_PD" "$WP_EXT" pd 7198 7200
	syslog_has "-t mwan-odhcp6c-script -p daemon.info -- eth2: bound: bpfctl pd webpass $WP_PD --valid 7200"
	run_odhcp6c eth2 updated "2001:db8:b0:300::/56,0,0 2001:db8:b0:400::/56,1800,3600,class=1"
	expect_prefix webpass 2001:db8:b0:400::/56 2001:db8:b0:4fe::/64 pd 3598 3600
	run_odhcp6c eth2 ra-updated ""
	expect_prefix webpass 2001:db8:b0:400::/56 2001:db8:b0:4fe::/64 pd 3590 3600
	run_odhcp6c eth2 started ""
	run_odhcp6c eth2 rebound ""
	expect_prefix webpass null null null null
	run_odhcp6c eth2 informed "$WP_PD,100,200"
	expect_prefix webpass "$WP_PD" "$WP_EXT" pd 198 200
	run_odhcp6c eth2 unbound ""
	expect_prefix webpass null null null null
	run_odhcp6c eth2 rebound "$WP_PD,100,200"
	run_odhcp6c eth2 stopped "$WP_PD,100,200"
	expect_prefix webpass null null null null
}

check_odhcp6c_hostile() {
	local before pwned=$LAB_DIR/pwned
	run_odhcp6c eth2 bound "$WP_PD,3600,7200"
	before=$(npt_raw)
	: >"$SYSLOG"
	run_odhcp6c eth2 updated "*"
	hook_said "malformed PREFIXES entry '*'; nothing changed"
	run_odhcp6c eth2 updated "\$(touch$IFS$pwned)/56,1,1"
	run_odhcp6c eth2 updated "2001:db8:b0:201::/56,1,1"
	hook_said "host bits set in '2001:db8:b0:201::/56'"
	run_odhcp6c eth2 bound "2001:db8:b0:200::/64,1,1"
	hook_said "npt.subnet 0xfe of WAN 'webpass' does not fit in '2001:db8:b0:200::/64' (at most 0x0)"
	run_odhcp6c "eth2 eth1" bound "$WP_PD,1,1"
	hook_said "not a WAN in $CFG"
	[[ $(npt_raw) == "$before" ]] || fail "mwan_npt changed"
	[[ ! -e $pwned ]] || fail "a hostile value ran a command"
	grep -q "daemon.err -- eth2: updated: bpfctl pd webpass 2001:db8:b0:201::/56 --valid 1 failed: bpfctl: host bits set" \
		"$SYSLOG" || fail "the error is not in syslog: $(cat "$SYSLOG")"
}

# ---- checks: the control socket under abuse -------------------------------------------

# Oversized, binary and hostile datagrams, idle and abandoned connections:
# error replies, nothing changed, and the loader keeps serving.
check_socket_abuse() {
	local out before
	before=$(npt_raw)
	out=$("$LAB_PY" - "$LAB_DIR/run/control" <<'EOF'
import socket, sys, time
path = sys.argv[1]
def connect(block=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if block:  # like bpfctl: wait a while for room in the backlog
        s.settimeout(3)
        for i in range(50):
            try:
                s.connect(path)
                return s
            except BlockingIOError:
                time.sleep(0.1)
        raise TimeoutError("no room in the backlog for 5 s")
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass
    return s
def ask(data):
    s = connect()
    s.send(data)
    r = s.recv(4096).decode("ascii", "replace")
    s.close()
    return r
idle = [connect() for i in range(8)]  # connected, silent, never closed
print(ask(b"x" * 100000))
print(ask(b"pd att \x00\xff\x1b[2J clear"))
print(ask(b"pd att 2001:db8:a0:100::/56 60\npd att clear"))
print(ask(b"pd " + b"a" * 250))
idle += [connect(False) for i in range(40)]  # more than it serves at once
print("flood:", ask(b"pd nope clear"))  # refused or served, but answered
for s in idle:
    s.close()
EOF
	) || fail "python client failed: $out"
	echo "$out"
	grep -qx "error: request too long (more than 256 bytes)" <<<"$out" || fail "oversized: $out"
	grep -qx "error: invalid byte 0x00 at offset 7 (requests are printable ASCII)" <<<"$out" ||
		fail "binary: $out"
	grep -qx "error: invalid byte 0x0a at offset 30 (requests are printable ASCII)" <<<"$out" ||
		fail "two requests in one: $out"
	grep -q "^error: unknown WAN 'aaaa" <<<"$out" || fail "long word: $out"
	grep -q "^flood: error: \(too many control connections\|unknown WAN 'nope'\)" <<<"$out" ||
		fail "flood: $out"
	[[ $(npt_raw) == "$before" ]] || fail "mwan_npt changed"
	t_require_loader
	out=$(timeout 8 ip netns exec "$(lab_ns router)" "$LAB_BPFCTL" -c "$CFG" pd att clear 2>&1) ||
		fail "loader unresponsive afterwards: $out"
}

# 24 root clients that never stop asking (more than the 16 connections the
# loader serves at once): a prefix change from bpfctl still gets through,
# the busy clients being closed oldest first, never the newcomer.
check_socket_fairness() {
	local out pid
	"$LAB_PY" - "$LAB_DIR/run/control" >"$LAB_DIR/busy.log" 2>&1 <<'EOF' &
import socket, sys, threading, time
path, stop = sys.argv[1], time.monotonic() + 8
def busy():
    while time.monotonic() < stop:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.settimeout(1)
            s.connect(path)
            while time.monotonic() < stop:
                s.send(b"pd nope clear")
                if not s.recv(4096).startswith(b"error: unknown WAN"):
                    break
        except OSError:
            pass
        finally:
            s.close()
threads = [threading.Thread(target=busy) for i in range(24)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
	pid=$!
	sleep 1 # every connection taken
	out=$(timeout 12 ip netns exec "$(lab_ns router)" "$LAB_BPFCTL" -c "$CFG" pd att "$ATT_PD" 2>&1) ||
		{
			kill "$pid" 2>/dev/null
			fail "bpfctl pd under 24 busy clients: $out"
		}
	wait "$pid" || true
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd null null
	grep -q "control: all 16 connections in use; closing the oldest for a new one" "$LAB_LOADER_LOG" ||
		fail "the clients never filled the socket: $(tail -n 3 "$LAB_DIR/busy.log")"
	ctl pd att clear >/dev/null
	echo "bpfctl pd applied while 24 clients kept the socket busy"
}

# A socket that is always busy (a stand-in server): bpfctl retries for
# MWAN_CTL_RETRY_S, then gives up saying the request was not applied.
check_busy_gives_up() {
	local out rc=0 dir=$LAB_DIR/busy-run pid
	mkdir -p "$dir"
	"$LAB_PY" - "$dir/control" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(16)
s.settimeout(6)
try:
    while True:
        c, _ = s.accept()
        c.recv(4096)  # as the loader: read, so close() resets nothing
        c.send(b"error: too many control connections; try again")
        c.close()
except socket.timeout:
    pass
EOF
	pid=$!
	sleep 0.3
	out=$(MWAN_CTL_RETRY_S=2 "$LAB_BPFCTL" --pin-dir "$LAB_PIN" --run-dir "$dir" pd att clear 2>&1) || rc=$?
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	((rc == 1)) || fail "exit $rc: $out"
	grep -q "the loader's control socket is busy; retrying for up to 2 s" <<<"$out" || fail "no retry notice: $out"
	grep -q "stayed busy (every connection in use) for 2 s; gave up: 'pd att clear' was not applied" <<<"$out" ||
		fail "no give-up message: $out"
	echo "${out##*$'\n'}"
}

# A reload whose parse takes as long as it likes (the config is a FIFO
# no one writes yet): the loop goes on serving (a prefix change gets
# through), `bpfctl reload` waits for the verdict, which comes once the
# parse ends (here: refused, the FIFO cannot be read as a file).
check_reload_off_loop() {
	local out pid rc=0 real=$CFG.real
	mv "$CFG" "$real"
	mkfifo "$CFG"
	ip netns exec "$(lab_ns router)" "$LAB_BPFCTL" -c "$real" reload >"$LAB_DIR/reload.out" 2>&1 &
	pid=$!
	if ! lab_wait_log "$LAB_LOADER_LOG" "reloading $CFG" 5; then
		kill "$pid" 2>/dev/null
		rm -f "$CFG" && mv "$real" "$CFG"
		fail "no reload started"
	fi
	out=$(timeout 3 ip netns exec "$(lab_ns router)" "$LAB_BPFCTL" -c "$real" pd att "$ATT_PD" 2>&1) || rc=$?
	kill -0 "$pid" 2>/dev/null || rc=99
	echo "not: [yaml" >"$CFG" # the parser's open() returns
	wait "$pid" || true
	rm -f "$CFG" && mv "$real" "$CFG"
	((rc != 99)) || fail "bpfctl reload returned before the parse ended: $(cat "$LAB_DIR/reload.out")"
	((rc == 0)) || fail "pd while a reload was parsed: exit $rc: $out"
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd null null
	grep -q "reload refused, the running dataplane is unchanged" "$LAB_DIR/reload.out" ||
		fail "bpfctl reload: $(cat "$LAB_DIR/reload.out")"
	ctl pd att clear >/dev/null
	echo "pd served while the parse waited; reload: $(tail -n 1 "$LAB_DIR/reload.out")"
}

# ---- checks: lifetime, reload, restart, cleanup --------------------------------------

# Milliseconds since the epoch.
ms_now() { echo $((${EPOCHREALTIME/./} / 1000)); }

check_expiry() {
	local t0 ms
	t0=$(ms_now)
	ctl pd att "$ATT_PD" --valid 2 >/dev/null
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 1 2
	[[ $(($(npt_mask) & 1)) == 1 ]] || fail "mask bit not set"
	while [[ $(npt_map | grep -c "^0 ") != 0 ]]; do
		(($(ms_now) - t0 < 4000)) || fail "still there after 4 s"
		sleep 0.05
	done
	ms=$(($(ms_now) - t0))
	((ms >= 1900)) || fail "gone after only $ms ms"
	expect_map 0 ""
	expect_prefix att null null null null
	[[ $(($(npt_mask) & 1)) == 0 ]] || fail "mask bit still set"
	grep -q "wan att: prefix $ATT_PD -> none (expired)" "$LAB_LOADER_LOG" || fail "expiry not logged"
}

check_static_reload() {
	local out rc=0
	write_config "$CFG" 2001:db8:a0:500::/56
	kill -HUP "$LAB_LOADER_PID"
	lab_wait_log "$LAB_LOADER_LOG" "reload: applied" 5 || fail "reload not applied"
	expect_prefix att 2001:db8:a0:500::/56 2001:db8:a0:5fe::/64 static null null
	expect_map 0 "0 2001:db8:a0:500::/56 2001:db8:a0:5fe::/64 static 254 -"
	out=$(ctl pd att "$ATT_PD" 2>&1) || rc=$?
	((rc == 1)) || fail "pd on a static WAN: exit $rc"
	[[ $out == "bpfctl: WAN 'att' has a static npt.prefix (2001:db8:a0:500::/56); delegated prefixes are not accepted for it" ]] ||
		fail "pd on a static WAN: $out"
	write_config "$CFG"
	kill -HUP "$LAB_LOADER_PID"
	sleep 0.5
	expect_prefix att null null null null
}

# Before a restart: a delegated prefix with a lifetime, one without.
restart_prepare() {
	ctl pd att "$ATT_PD" --valid 600 >/dev/null
	ctl pd webpass "$WP_PD" >/dev/null
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 598 600
	sleep 1.1
}

# Stopped: the control socket gone; maps, programs and routing stay so
# traffic keeps flowing until the next loader takes over.
check_stopped() {
	[[ -e $LAB_PIN/mwan_npt ]] || fail "maps unpinned on stop"
	[[ ! -e $LAB_DIR/run/control ]] || fail "control socket left behind"
	grep -q fwmark <<<"$(lab_exec router ip -6 rule show)" || fail "IPv6 fwmark rules removed on stop"
	lab_attached | grep -q "^eth3: prog/xdp" || fail "XDP detached on stop: $(lab_attached)"
}

check_restarted() {
	expect_prefix att "$ATT_PD" "$ATT_EXT" pd 590 598
	expect_prefix webpass "$WP_PD" "$WP_EXT" pd null null
	expect_map 0 "0 $ATT_PD $ATT_EXT pd 254 59[0-8]"
	expect_mask 3
	grep -q "wan att: prefix $ATT_PD -> $ATT_PD (kept from before), external $ATT_EXT, pd, valid 59[0-9] s" \
		"$LAB_LOADER_LOG" || fail "not logged as kept: $(grep 'wan att: prefix' "$LAB_LOADER_LOG")"
	ctl pd att clear >/dev/null || fail "control socket not served after the restart"
}

check_cleanup_running() {
	local out rc=0
	out=$(lab_exec router "$LAB_LOADER" --cleanup -c "$CFG" 2>&1) || rc=$?
	((rc == 1)) && [[ $out == *"mwan-loader is running (pid $LAB_LOADER_PID); stop it first"* ]] ||
		fail "exit $rc, $out"
	[[ -e $LAB_PIN/mwan_npt ]] || fail "pins removed while running"
}

check_cleanup() {
	local out
	out=$(lab_exec router "$LAB_LOADER" --cleanup -c "$CFG" 2>&1) || fail "--cleanup: $out"
	[[ -z $(find "$LAB_PIN" -name 'mwan_*') ]] || fail "pins left: $(ls "$LAB_PIN")"
	[[ -z $(lab_attached) ]] || fail "left attached: $(lab_attached)"
	echo "$out" | tail -n 1
}

stop_loader() {
	lab_stop_loader || t_setup_fail "mwan-loader exited with status $?: $(tail -n 3 "$LAB_LOADER_LOG")"
}

main() {
	t_install_traps
	T_PREFIX=hooks
	lab_init "$$"
	lab_up true
	CFG=$LAB_DIR/hooks.yaml
	write_config "$CFG"
	make_fake_logger
	start_loader

	check "control socket is a root-owned 0600 socket" check_socket_mode
	check "a client that is not root is refused" check_non_root_refused
	check "gateway6 of each WAN is resolved" check_gateway6
	check "IPv6 policy routing per WAN" check_routing6
	check "local IPv6 addresses and bypass routes in the maps" check_local6_bypass6
	check "LAN IPv6 neighbours follow the kernel" check_neigh6
	check "dhcpcd BOUND6 sets att's prefix" check_bound6
	check "dhcpcd RENEW6 renews it (hook executed)" check_renew6
	check "dhcpcd REBIND6 with a new prefix switches to it" check_rebind6_new_prefix
	check "dhcpcd REBOOT6 sets the prefix" check_reboot6
	check "dhcpcd INFORM6 sets the prefix" check_inform6
	check "the first valid of several ia_pd/prefix is used" check_first_of_many
	check "webpass gets its own prefix on eth2" check_webpass_bound6
	check "dhcpcd EXPIRE6 clears the prefix" check_clear_reason EXPIRE6
	check "dhcpcd STOP6 clears the prefix" check_clear_reason STOP6
	check "dhcpcd RELEASE6 clears the prefix" check_clear_reason RELEASE6
	check "dhcpcd NOCARRIER with an old lease clears the prefix" check_clear_reason NOCARRIER
	check "a renewal without the prefix withdraws it" check_withdrawn_in_renew
	check "other reasons and interfaces change nothing" check_ignored
	check "the hook sourced by sh leaves the shell running and clean" check_sourced
	check "hostile hook input is rejected with a message, nothing changes" check_hostile_hook_input
	check "an unknown WAN is rejected" check_wrong_wan
	check "odhcp6c script: bound, updated, rebound, unbound, stopped" check_odhcp6c
	check "odhcp6c script: hostile input is rejected" check_odhcp6c_hostile
	check "control socket: oversized, binary, idle clients" check_socket_abuse
	check "control socket: a request gets through 24 clients that never stop" check_socket_fairness
	check "bpfctl retries a busy socket, then says the request was not applied" check_busy_gives_up
	check "a reload is parsed off the loop: pd served meanwhile, reload waits for its verdict" \
		check_reload_off_loop
	check "a prefix valid 2 s expires by itself" check_expiry
	check "a static npt.prefix via SIGHUP; pd refused for it" check_static_reload
	restart_prepare
	stop_loader
	check "stopped: maps stay pinned, socket gone, programs and routing stay" check_stopped
	rm -f "$LAB_LOADER_LOG" # lab_start_loader waits for a line in it
	start_loader
	check "a delegated prefix survives a loader restart" check_restarted
	check "--cleanup refuses while the loader runs" check_cleanup_running
	stop_loader
	check "--cleanup removes the pins" check_cleanup

	lab_down
	LAB_ID=
	exit $((T_FAILED > 0))
}

main "$@"
