#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs wireguard and ip_gre): webpass's WAN a WireGuard and then a GRE tunnel over the veth; translated both ways on IPv4 and IPv6, probed, guarded (make check runs both paths on a tun pair).
set -euo pipefail

# shellcheck source=tests/lab/test_l3wan.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/test_l3wan.sh"

for mod in wireguard ip_gre; do
	modprobe -q "$mod" 2>/dev/null ||
		t_setup_fail "kernel $(uname -r) has no module $mod (a matrix test: make matrix)"
done
t_install_traps
for L3_KIND in wireguard gre; do
	# an L3 WAN's traffic takes the kernel's path either way; make check
	# runs both passes on a tun pair
	for fast in ${MWAN_FAST_PATHS:-true}; do
		run_pass "$fast"
	done
done
exit $((T_FAILED > 0))
