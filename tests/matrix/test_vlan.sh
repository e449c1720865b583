#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs 8021q): att's WAN an 802.1Q VLAN device (generic XDP only) over a trunk; the fast path leaves what goes out by it to the kernel, and traffic flows both ways.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

MWAN_LAB_VLAN=att:201
CAPTURE_LEAKS_ONLY=webpass # only the burst and pings go through it here
# shellcheck source=tests/lab/test_dataplane.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/test_dataplane.sh"

# check_no_xdp_tx: what left by att went the kernel's way, counted.
check_no_xdp_tx() {
	local n
	t_require_loader
	n=$(counter pass_no_xdp_tx)
	((n > 0)) || fail "pass_no_xdp_tx is $n after traffic out of att"
	echo "pass_no_xdp_tx $n"
}

# test_dataplane.sh's checks that go through att, on the fast path (the
# slow path is the kernel's own VLAN handling, as for any WAN).
run_checks() {
	local proto
	check "burst of 200 new UDP flows from h2 right after the start: all answered within 8 s, from h2's public addresses on every WAN" \
		check_burst
	tcp_through att
	for proto in tcp udp; do
		check "inbound $proto to every att public address reaches its host, reply from it via att" \
			check_inbound "$proto" att
	done
	check "ping from every LAN host to $LAB_SERVER" check_ping_out
	send_big_udp
	check "4000-byte UDP datagrams from every host arrive whole (fragmented)" check_big_udp
	check "bpfctl -j stats: pass_no_xdp_tx > 0 (out of att by the kernel)" check_no_xdp_tx
}

modprobe -q 8021q 2>/dev/null ||
	t_setup_fail "kernel $(uname -r) has no module 8021q (a matrix test: make matrix)"
MWAN_FAST_PATHS=true t_main_passes run_pass
