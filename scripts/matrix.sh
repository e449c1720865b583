#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make matrix`: boots Debian's own 6.1 and 6.12 kernels under qemu (KVM where /dev/kvm exists, else TCG) on the host's root, runs tests/matrix.list in each; one line per kernel.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$REPO/build/matrix
PKGS=$WORK/pkgs
# The kernels the users run: Debian 12's newest 6.1, and the 6.12 that
# Debian 13 runs (built for Debian 12 too); the generic flavour, not -rt
# or -cloud. MATRIX_KERNELS=REGEX... picks others (package names).
read -r -a KERNELS <<<"${MATRIX_KERNELS:-linux-image-6\.1\.0-[0-9]+-amd64 linux-image-6\.12\.[0-9]+\+deb12-amd64}"
MEM=${MATRIX_MEM:-3G}
TIMEOUT=${MATRIX_TIMEOUT:-1500} # seconds a guest may run
# What each guest runs; MATRIX_LIST=FILE runs another list (one test
# while working on it).
LIST=${MATRIX_LIST:-$REPO/tests/matrix.list}
# The modules a 9p root needs before anything else (their dependencies
# come along from modules.dep).
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

log() { echo "matrix: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# newest_package REGEX: the newest package in the archive whose whole
# name matches REGEX.
newest_package() {
	apt-cache pkgnames linux-image- 2>/dev/null | grep -E "^($1)\$" | sort -V | tail -n 1
}

# fetch PACKAGE: its .deb, unpacked under $WORK/PACKAGE/root (the host's
# /boot and /lib/modules are never touched), with modules.dep made.
fetch() {
	local pkg=$1 dir=$WORK/$1 deb kver
	if [[ ! -e $dir/.unpacked ]]; then
		mkdir -p "$PKGS"
		(cd "$PKGS" && apt-get download "$pkg" >/dev/null) || die "apt-get download $pkg failed"
		deb=$(find "$PKGS" -name "${pkg}_*.deb" | sort -V | tail -n 1)
		rm -rf "$dir"
		mkdir -p "$dir/root"
		dpkg-deb -x "$deb" "$dir/root"
		kver=$(ls "$dir/root/lib/modules")
		depmod -b "$dir/root" "$kver"
		touch "$dir/.unpacked"
	fi
}

kernel_release() { ls "$WORK/$1/root/lib/modules"; }

# module_deps KVER MODULE: the module's file and its dependencies', each
# after what it depends on (paths relative to lib/modules/KVER).
module_deps() {
	local root=$1 name=$2 dep file
	file=$(awk -F: -v m="/$name.ko" '{ f = $1; sub(/\.(xz|zst|gz)$/, "", f) }
		substr(f, length(f) - length(m) + 1) == m { print $1; exit }' "$root/modules.dep")
	[[ -n $file ]] || return 0 # built in
	awk -F: -v f="$file" '$1 == f { print $2 }' "$root/modules.dep" | tr ' ' '\n' |
		while read -r dep; do
			[[ -z $dep ]] || module_deps "$root" "$(basename "${dep%%.ko*}")"
		done
	echo "$file"
}

# initrd PACKAGE: busybox, the 9p root's modules (decompressed) and
# scripts/matrix-init.sh as /init.
initrd() {
	local pkg=$1 dir=$WORK/$1 kver mods m out name
	kver=$(kernel_release "$pkg")
	out=$dir/initrd
	rm -rf "$out"
	mkdir -p "$out/bin" "$out/modules" "$out/proc" "$out/sys" "$out/dev"
	cp /usr/bin/busybox "$out/bin/busybox"
	cp "$REPO/scripts/matrix-init.sh" "$out/init"
	mods=$(for m in "${INITRD_MODULES[@]}"; do
		module_deps "$dir/root/lib/modules/$kver" "$m"
	done | awk '!seen[$0]++')
	for m in $mods; do
		name=$(basename "$m")
		name=${name%.xz}
		name=${name%.zst}
		case $m in
		*.xz) xz -dc "$dir/root/lib/modules/$kver/$m" >"$out/modules/$name" ;;
		*.zst) zstd -qdc "$dir/root/lib/modules/$kver/$m" >"$out/modules/$name" ;;
		*) cp "$dir/root/lib/modules/$kver/$m" "$out/modules/$name" ;;
		esac
		echo "$name" >>"$out/modules.order"
	done
	(cd "$out" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd.img"
}

accel() {
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		echo "-accel kvm -cpu host"
	else
		echo "-accel tcg,thread=multi -cpu max"
	fi
}

# boot PACKAGE: the guest runs tests/matrix.list; prints
# "KERNEL: N passed, N failed" and logs how long it took.
boot() {
	local pkg=$1 dir=$WORK/$1 kver start rc=0 summary
	kver=$(kernel_release "$pkg")
	rm -f "$dir/guest.log" "$dir/exit-status" "$dir/console.log"
	cp "$LIST" "$dir/matrix.list"
	start=$SECONDS
	# shellcheck disable=SC2046 # accel is a list of words
	timeout "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -nographic \
		$(accel) -smp "$(nproc)" -m "$MEM" -no-reboot \
		-kernel "$dir/root/boot/vmlinuz-$kver" -initrd "$dir/initrd.img" \
		-append "console=ttyS0 panic=-1 oops=panic mwan_guest=$REPO/scripts/matrix-guest.sh" \
		-virtfs local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$dir,mount_tag=out,security_model=none,multidevs=remap" \
		-serial "file:$dir/console.log" -monitor none </dev/null || rc=$?
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/guest.log" 2>/dev/null | tail -n 1 || true)
	if [[ -z $summary ]]; then
		((rc != 124)) || log "$kver: still running after $TIMEOUT s"
		log "$kver: no test summary (qemu exit $rc); console: $dir/console.log"
		tail -n 5 "$dir/console.log" >&2 || true
		summary="0 passed, 1 failed"
	fi
	log "$kver: $summary in $((SECONDS - start)) s; logs: $dir/guest.log, console.log"
	# tests/unit/test_kernel: what the verifier of this kernel processed
	sed -n 's/^verifier: /matrix: /p' "$dir/guest.log" >&2 2>/dev/null || true
	echo "$kver: $summary"
}

main() {
	local pattern pkg line failed=0 lines=()
	((EUID == 0)) || die "needs root (the guests run the lab tests as root)"
	[[ -r $LIST ]] || die "no test list $LIST"
	command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64 (make deps-matrix)"
	mkdir -p "$WORK"
	for pattern in "${KERNELS[@]}"; do
		pkg=$(newest_package "$pattern")
		[[ -n $pkg ]] || die "no package in the archive matches $pattern (apt-get update?)"
		log "$pkg: fetching, unpacking"
		fetch "$pkg"
		initrd "$pkg"
		log "$pkg: booting ($(accel | cut -d' ' -f2))"
		line=$(boot "$pkg")
		lines+=("$line")
	done
	for line in "${lines[@]}"; do
		echo "$line"
		[[ $line == *" passed, 0 failed" ]] || failed=1
	done
	return "$failed"
}

main "$@"
