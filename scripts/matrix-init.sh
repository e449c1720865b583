#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /init of the matrix guests' initramfs: load the modules a 9p root needs, mount the host's root read-only under a tmpfs overlay, hand over to scripts/matrix-guest.sh.
# The kernel passes mwan_guest (the guest script's path) in the
# environment; the modules are in /modules, listed in load order in
# /modules.order.
# shellcheck disable=SC2154 # mwan_guest: from the kernel command line

/bin/busybox --install -s /bin
export PATH=/bin

die() {
	echo "matrix-init: $*"
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/modules/$m" || die "insmod $m failed"
done </modules.order
mkdir -p /lower /rw /newroot
# cache=loose: the host's root is read-only here, so nothing the guest
# caches goes stale. What the guest writes goes to a tmpfs above it.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \
	host0 /lower || die "mounting the host's root over 9p failed"
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
	/newroot || die "the overlay on the host's root failed"
[ -x "/newroot$mwan_guest" ] || die "no guest script /newroot$mwan_guest"
umount /proc /sys /dev
exec switch_root /newroot "$mwan_guest"
