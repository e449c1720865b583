#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs 8021q and bonding): the LAN on an 802.1Q VLAN device and on a bond; mapped hosts reach the internet from their public addresses, no private source leaves, on the fast path (make check runs both on a bridge).
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/test_topology.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/test_topology.sh"

# One pass per LAN kind and path: the start, traffic from every mapped
# host by both WANs, an unmapped one and a private network behind the LAN
# dropped at the WANs, and the captures.
run_kind_pass() {
	start_pass "$1"
	# webpass too, so its capture holds traffic worth checking
	lab_ctl wan att down >/dev/null
	check "$LAN_KIND LAN, att down: every mapped host's TCP leaves by webpass from its public address" \
		check_lan_traffic webpass
	lab_ctl wan att auto >/dev/null
	check "an unmapped LAN host: nothing leaves, dropped at the WAN and counted there, listed by bpfctl, logged once" \
		check_unmapped
	check "a private network mwan does not serve (IPv4 and ULA): nothing leaves, private_src_on_wan counts it" \
		check_private_other
	t_stop_loader_check_lan
	end_pass
}

# SIGTERM leaves the dataplane on LAN_IF; --cleanup removes it.
t_stop_loader_check_lan() {
	local rc=0
	lab_stop_loader 2>>"$LAB_LOADER_LOG" || rc=$?
	check "mwan-loader exits 0 on SIGTERM with the LAN on $LAN_IF" test "$rc" -eq 0
	check "--cleanup removes everything from $LAN_IF, eth3 and the WANs" check_cleanup_lan
}

check_cleanup_lan() {
	local out
	out=$(lab_exec router "$LAB_LOADER" --cleanup -c "$LAB_CFG" 2>&1) || fail "--cleanup failed: $out"
	[[ -z $(ifaces_attached) ]] || fail "--cleanup left: $(ifaces_attached | tr '\n' ';')"
	echo "nothing left"
}

for mod in 8021q bonding; do
	modprobe -q "$mod" 2>/dev/null ||
		t_setup_fail "kernel $(uname -r) has no module $mod (a matrix test: make matrix)"
done
t_install_traps
for LAN_KIND in vlan bond; do
	case $LAN_KIND in
	vlan) LAN_IF=eth3.10 ;;
	bond) LAN_IF=bond0 ;;
	esac
	KIND_PREFIX="$LAN_KIND LAN, "
	# the fast path: the kernel's own is what make check runs on a bridge
	for fast in ${MWAN_FAST_PATHS:-true}; do
		run_kind_pass "$fast"
	done
done
exit $((T_FAILED > 0))
