#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs 8021q): tests/lab/test_dataplane.sh (fast path; the slow one is the kernel's own VLAN handling) with att's WAN an 802.1Q VLAN device (generic XDP) over a trunk.
set -euo pipefail
modprobe -q 8021q 2>/dev/null || {
	echo "not ok - setup: kernel $(uname -r) has no module 8021q (a matrix test: make matrix)"
	exit 1
}
MWAN_FAST_PATHS=${MWAN_FAST_PATHS:-true} MWAN_LAB_VLAN=att:201 exec "$(dirname "${BASH_SOURCE[0]}")/../lab/test_dataplane.sh"
