#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# PID 1 of a matrix guest (scripts/matrix.sh): the host's root (read-only, under a tmpfs overlay) with this kernel's own modules; runs tests/matrix.list, powers off.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=/run/matrix-out # the host's build/matrix/KERNEL/, over 9p (tag "out")
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1
# The tests may spend less time on what does not depend on the kernel
# (the parser's cases, bulk sizes): TCG is slow and the run has 30 min.
export MWAN_MATRIX=1

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}

mounts() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	# fresh /run and /tmp, unless the checkout is there (the overlay
	# keeps them writable either way)
	[[ $REPO == /run/* ]] || mount -t tmpfs -o mode=755 tmpfs /run
	[[ $REPO == /tmp/* ]] || mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t bpf bpf /sys/fs/bpf
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
	mkdir -p "$OUT"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "$OUT"
	# This kernel's modules, from its package (the host has only its
	# own, if any): modprobe finds them where it looks.
	local kver
	kver=$(uname -r)
	mkdir -p "/lib/modules/$kver"
	mount --bind "$OUT/root/lib/modules/$kver" "/lib/modules/$kver"
}

main() {
	local rc=0 kind args
	mounts
	exec >"$OUT/guest.log" 2>&1
	echo "matrix guest: $(uname -r), $(nproc) CPUs, $(date -u)"
	ip link set lo up
	hostname "mwan-matrix"
	# A device node appears with its module, and nothing asks for it
	# before a test opens it.
	modprobe tun
	sysctl -qw kernel.panic_on_oops=1
	if ! cd "$REPO"; then
		echo "matrix guest: cannot enter $REPO"
		poweroff_now
	fi
	# One line a test: "unit BIN" or "lab SCRIPT" (tests/matrix.list, or
	# MATRIX_LIST's copy in the output directory).
	local units=() labs=()
	while read -r kind args; do
		case $kind in
		unit) units+=("$args") ;;
		lab) labs+=("$args") ;;
		esac
	done < <(grep -v '^[[:space:]]*\(#\|$\)' "$OUT/matrix.list")
	scripts/run-tests.sh some "${units[@]}" -- "${labs[@]}" || rc=$?
	echo "matrix guest: run-tests.sh exited $rc"
	echo "$rc" >"$OUT/exit-status"
	poweroff_now
}

main "$@"
