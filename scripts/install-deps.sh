#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Installs (idempotently) every Debian package the build, the tests and the demo need.
set -euo pipefail

PACKAGES=(
	# build
	clang-16 llvm-16 libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
	libnl-3-dev libnl-route-3-dev libyaml-dev libcmocka-dev bpftool
	pkg-config make gcc
	libclang-rt-16-dev # libFuzzer and the sanitizers: tests/fuzz
	libsystemd-dev # sd_notify: readiness and watchdog under systemd
	# packaging and the service: make install, debian/, systemd-analyze verify
	debhelper dpkg-dev fakeroot systemd man-db
	python3-prometheus-client # parses the metrics in the tests
	# lab, tests and demo
	iproute2 nftables iptables tcpdump ethtool iputils-ping traceroute socat
	python3 python3-scapy procps kmod coreutils util-linux
	# DHCPv6 prefix delegation in the lab: the ISPs' server, the router's
	# client (dhcpcd-base: the binary without a service for the host)
	kea-dhcp6-server dhcpcd-base
	# 802.1X on a WAN in the lab (test_eapol.sh): the ISP's authenticator
	# (hostapd, driver wired) and the router's supplicant
	hostapd wpasupplicant
	# style checks (tests/style.sh): the C sources, the shell scripts
	clang-format shellcheck
	gnuplot-nox # make bench: results/bench.png
)

# `install-deps.sh matrix`: also what make matrix needs (qemu, and
# busybox and the archivers for the guests' initramfs, and what the
# matrix-only tests use).
MATRIX_PACKAGES=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod
	wireguard-tools) # wg: tests/matrix/test_tunnels.sh

# Prints the packages of PACKAGES that are not fully installed.
missing_packages() {
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[[ $status == installed ]] || echo "$pkg"
	done
}

main() {
	local missing
	[[ ${1:-} != matrix ]] || PACKAGES+=("${MATRIX_PACKAGES[@]}")
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		echo "install-deps: all ${#PACKAGES[@]} packages already installed"
		return 0
	fi
	if ((EUID != 0)); then
		echo "install-deps: missing packages (${missing[*]}); run as root" >&2
		return 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q </dev/null
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" </dev/null
}

main "$@"
