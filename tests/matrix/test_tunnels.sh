#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Matrix only (needs wireguard and ip_gre): a WireGuard tunnel and a GRE tunnel from LAN hosts to the internet, carried through mwan's 1:1 mapping both ways, and across a loader restart.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lab/lib.sh"

WG_PORT=51820
WG_H2=192.168.251.2 WG_INET=192.168.251.1 # inside the WireGuard tunnel
GRE_H3=192.168.252.2 GRE_INET=192.168.252.1 # inside the GRE tunnel

# need_modules MODULE...: this kernel's modules, or the test cannot run.
need_modules() {
	local m
	for m in "$@"; do
		modprobe -q "$m" 2>/dev/null ||
			t_setup_fail "kernel $(uname -r) has no module $m (a matrix test: make matrix)"
	done
}

# wg_up NODE ADDR/LEN PEER_PUB PEER_IP [ENDPOINT]: wg0 in NODE.
wg_up() {
	local node=$1 key=$LAB_DIR/wg-$1.key
	lab_exec "$node" ip link add wg0 type wireguard
	lab_exec "$node" wg set wg0 private-key "$key" listen-port "$WG_PORT" \
		peer "$3" allowed-ips "$4/32" ${5:+endpoint "$5"}
	lab_exec "$node" ip addr add "$2" dev wg0
	lab_exec "$node" ip link set wg0 up
}

setup_wireguard() {
	local n
	for n in h2 inet; do
		(umask 077 && wg genkey >"$LAB_DIR/wg-$n.key")
		wg pubkey <"$LAB_DIR/wg-$n.key" >"$LAB_DIR/wg-$n.pub"
	done
	wg_up inet "$WG_INET/30" "$(cat "$LAB_DIR/wg-h2.pub")" "$WG_H2"
	wg_up h2 "$WG_H2/30" "$(cat "$LAB_DIR/wg-inet.pub")" "$WG_INET" "$LAB_SERVER:$WG_PORT"
}

# GRE has no ports: inet's end needs h3's public address, so every new
# flow takes att while this test runs (webpass admin down).
setup_gre() {
	lab_exec h3 ip tunnel add gre1 mode gre local "$(lab_host_ip h3)" remote "$LAB_SERVER" ttl 64
	lab_exec h3 ip addr add "$GRE_H3/30" dev gre1
	lab_exec h3 ip link set gre1 up
	lab_exec inet ip tunnel add gre1 mode gre local "$LAB_SERVER" remote "$(lab_public att h3)" ttl 64
	lab_exec inet ip addr add "$GRE_INET/30" dev gre1
	lab_exec inet ip link set gre1 up
}

# ping_across NODE ADDR: three echoes answered.
ping_across() {
	local out
	out=$(lab_exec "$1" ping -n -c 3 -i 0.3 -W 3 "$2" 2>&1) || fail "$1 -> $2: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	grep -q " 0% packet loss" <<<"$out" || fail "$1 -> $2: $(grep loss <<<"$out")"
}

check_wg() {
	local ep want
	ping_across h2 "$WG_INET"
	ep=$(lab_exec inet wg show wg0 endpoints | awk '{ print $2 }')
	want="$(lab_public att h2):$WG_PORT"
	[[ $ep == "$want" ]] || fail "inet sees h2's WireGuard endpoint as $ep, want $want"
	ping_across inet "$WG_H2"
	echo "endpoint $ep"
}

check_both() {
	ping_across h2 "$WG_INET"
	ping_across inet "$WG_H2"
	ping_across h3 "$GRE_INET"
	ping_across inet "$GRE_H3"
}

check_gre() {
	local json want
	ping_across h3 "$GRE_INET"
	ping_across inet "$GRE_H3"
	json=$(lab_ctl -j flows) || fail "bpfctl -j flows failed: $json"
	want=$(lab_public att h3)
	json=$("$LAB_PY" -c 'import json, sys
flows = [f for f in json.load(sys.stdin) if f["proto"] == 47]
ok = [f for f in flows if f["src"] == sys.argv[1] and f["wan"] == "att" and f["ext"] == sys.argv[2]]
if not ok:
    sys.exit(f"no GRE flow of {sys.argv[1]} on att as {sys.argv[2]}: {flows}")' \
		"$(lab_host_ip h3)" "$want" <<<"$json" 2>&1) || fail "$json"
}

# check_restart_ping: the echoes across WireGuard sent every 50 ms while
# the loader was stopped and started again: every one answered.
check_restart_ping() {
	local rc=$1 out
	out=$(cat "$LAB_DIR/wgping.log")
	((rc == 0)) || fail "ping across WireGuard during the restart: exit $rc: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	grep -q " 0% packet loss" <<<"$out" || fail "during the restart: $(grep loss <<<"$out")"
	grep "packets transmitted" <<<"$out"
}

# restart_under_traffic: SIGTERM the loader and start a new one (which
# swaps its programs in place) while h2 pings across WireGuard.
restart_under_traffic() {
	local pid rc=0
	lab_bg wgping h2 ping -n -q -i 0.05 -c 300 -W 2 "$WG_INET"
	pid=$LAB_BG_PID
	sleep 2
	lab_stop_loader 2>>"$LAB_LOADER_LOG" || true
	sleep 0.5
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader started again under traffic, XDP replaced in place" check_replaced_in_place
	wait "$pid" || rc=$?
	check "a ping every 50 ms across WireGuard through SIGTERM and a new loader: none lost" \
		check_restart_ping "$rc"
}

check_replaced_in_place() {
	check_loader_started
	grep -q "eth3: XDP program replaced in place" "$LAB_LOADER_LOG" ||
		fail "no in-place XDP replacement on eth3 in the log: $(grep 'eth3' "$LAB_LOADER_LOG" | tail -n 2)"
}

run_pass() {
	local fast=$1
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	lab_init "$$"
	lab_up "$fast"
	lab_write_config "$fast"
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts with fast_path: $fast" check_loader_started
	check "bpfctl wan webpass down: new flows take att" check_wan_admin webpass down down
	setup_wireguard
	check "WireGuard h2 <-> inet through mwan: both ways, inet sees h2's att address as endpoint" check_wg
	setup_gre
	check "GRE h3 <-> inet through mwan: both ways, one gre flow on att with h3's public address" check_gre
	restart_under_traffic
	check "after the restart: WireGuard and GRE still carried both ways" check_both
	t_stop_loader_check
	lab_down
	LAB_ID=
}

need_modules wireguard ip_gre
# One pass: on the slow path tunnel traffic is ordinary UDP and IP for TC
# and the kernel, which make check covers on both paths.
MWAN_FAST_PATHS=${MWAN_FAST_PATHS:-true} t_main_passes run_pass
