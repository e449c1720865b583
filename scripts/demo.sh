#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The README's main job: lab up, mwan-loader on the fast path, real traffic, then what bpfctl shows.
set -euo pipefail

# shellcheck source=tests/lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/lab.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

explore_hint() {
	local r
	r=$(lab_ns router)
	say "Explore"
	echo "  KEEP=1 make demo     keeps the lab running after the demo (this run: KEEP=${KEEP:-0})"
	echo "  namespaces:          $(for n in $(lab_nodes); do printf '%s ' "$(lab_ns "$n")"; done)"
	echo "  bpfctl:              ip netns exec $r $LAB_BPFCTL -c $LAB_CFG status|nat|flows|stats|wan NAME up|down|auto"
	echo "  a LAN host:          ip netns exec $(lab_ns h2) ping 192.0.2.10"
	echo "                       ip netns exec $(lab_ns h2) ping $LAB_SERVER6"
	echo "  loader log:          $LAB_LOADER_LOG"
	echo "  DHCPv6-PD:           $(lab_dhcpcd_dir)/{dhcpcd.log,hook.log}, $LAB_DIR/kea-*/kea.log"
	echo "                       renew: $LAB_REPO/tests/lib/lab.sh dhcpcd $LAB_ID -N eth1"
	echo "  tear down:           $LAB_REPO/tests/lib/lab.sh down $LAB_ID"
}

teardown() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ ${KEEP:-0} == 1 ]]; then
		explore_hint
	else
		lab_stop_loader 2>/dev/null || true
		lab_down
		if ((rc == 0)); then
			explore_hint
			echo "  (this run's lab is already torn down: run KEEP=1 make demo to explore it)"
		fi
	fi
	exit "$rc"
}

start_services() {
	local h
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/blob"
	lab_serve file inet serve-file --addr :: --port 6001 --file "$LAB_DIR/blob" --log "$LAB_DIR/file.jsonl"
	lab_serve flows inet udp-sink --port 5001 --log "$LAB_DIR/flows.jsonl"
	for h in "${LAB_HOSTS[@]}"; do
		lab_serve "ident-$h" "$h" ident-server --addr "$(lab_host_ip "$h")" --port 7000 --name "$h"
		lab_serve "ident6-$h" "$h" ident-server --addr "$(lab_host_ip6 "$h")" --port 7000 --name "$h"
	done
}

demo_download() {
	local t0 t1 sha len port
	say "TCP: h2 downloads 20 MB from the internet server $LAB_SERVER"
	t0=$(date +%s.%N)
	read -r sha len port < <(lab_py h2 fetch --connect "$LAB_SERVER:6001")
	t1=$(date +%s.%N)
	echo "  $len bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s (%.0f Mbit/s)", b - a, 8 * '"$len"' / (b - a) / 1e6 }')"
	echo "  sha256 $([[ $sha == "$(sha256sum <"$LAB_DIR/blob" | cut -d' ' -f1)" ]] && echo matches || echo DIFFERS)"
	echo "  the server saw h2 (10.250.250.2:$port) as" \
		"$(tail -n 1 "$LAB_DIR/file.jsonl" | sed -E 's/.*"peer": "([^"]*)", "sport": ([0-9]*).*/\1:\2/')"
}

demo_ping() {
	say "ICMP: ping from h3 and a traceroute from h2"
	lab_exec h3 ping -n -c 3 -i 0.3 "$LAB_SERVER" | sed 's/^/  /'
	lab_exec h2 traceroute -n -q 1 -w 1 "$LAB_SERVER" | sed 's/^/  /'
}

demo_udp() {
	local h nat
	say "UDP: 100 flows from each LAN host, spread over att:webpass by weight 3:1"
	for h in "${LAB_HOSTS[@]}"; do
		lab_py "$h" udp-flows --dst "$LAB_SERVER:5001" --src "$(lab_host_ip "$h")" --count 100 --packets 1
	done
	sleep 1
	mapfile -t nat < <(lab_nat_args)
	"$LAB_PY" "$LAB_NET_PY" flows-check --log "$LAB_DIR/flows.jsonl" --aspect split --nat "${nat[@]}" \
		--expect 500 --wans "${LAB_WANS[@]}" | sed 's/^/  the server saw: /' || true
}

demo_inbound() {
	local w pub
	say "Inbound TCP from the internet to a public address on each WAN"
	for w in "${LAB_WANS[@]}"; do
		pub=$(lab_public "$w" h4)
		printf '  %-15s (%s) answers: ' "$pub" "$w"
		lab_py inet ident-query --proto tcp --target "$pub:7000" --bind "$LAB_SERVER" | cut -f1
	done
}

# demo_pd_wait: until the hook has run for every WAN's first prefix.
demo_pd_wait() {
	local wan
	for wan in "${LAB_WANS[@]}"; do
		lab_wait_log "$(lab_dhcpcd_dir)/hook.log" "end BOUND6 ${LAB_WAN_IF[$wan]} " 15 || return 1
	done
}

demo_ipv6() {
	local w ext pfx sha len port
	say "IPv6: each ISP's kea delegates a /56 to dhcpcd on the router; mwan's hook hands it to mwan"
	lab_start_pd
	if ! demo_pd_wait; then
		echo "  no delegated prefix reached mwan in 15 s; dhcpcd and hook logs:"
		tail -n 5 "$(lab_dhcpcd_dir)/dhcpcd.log" "$(lab_dhcpcd_dir)/hook.log" | sed 's/^/  | /'
		return 0
	fi
	for w in "${LAB_WANS[@]}"; do
		pfx=$("$LAB_PY" "$LAB_NET_PY" npt --internal "$LAB_LAN_NET6" --delegated "${LAB_WAN_PD[$w]}" \
			--subnet "$LAB_NPT_SUBNET")
		echo "  $w delegated ${LAB_WAN_PD[$w]}: $LAB_LAN_NET6 is translated to $pfx (subnet $LAB_NPT_SUBNET)"
	done
	say "NPTv6: h2 ($(lab_host_ip6 h2)) downloads 20 MB from $LAB_SERVER6"
	read -r sha len port < <(lab_py h2 fetch --connect "[$LAB_SERVER6]:6001")
	echo "  $len bytes, sha256 $([[ $sha == "$(sha256sum <"$LAB_DIR/blob" | cut -d' ' -f1)" ]] && echo matches || echo DIFFERS)"
	echo "  the server saw h2 (port $port) as" \
		"$(tail -n 1 "$LAB_DIR/file.jsonl" | sed -E 's/.*"peer": "([^"]*)".*/\1/')"
	say "Inbound IPv6 TCP from the internet to h4's external address on each WAN"
	for w in "${LAB_WANS[@]}"; do
		ext=$("$LAB_PY" "$LAB_NET_PY" npt --internal "$LAB_LAN_NET6" --delegated "${LAB_WAN_PD[$w]}" \
			--subnet "$LAB_NPT_SUBNET" "$(lab_host_ip6 h4)")
		printf '  %-26s (%s) answers: ' "$ext" "$w"
		lab_py inet ident-query --proto tcp --target "[$ext]:7000" --bind "$LAB_SERVER6" | cut -f1
	done
}

demo_show() {
	local out
	say "bpfctl status"
	lab_ctl status
	say "bpfctl flows (first 20 lines)"
	out=$(lab_ctl flows)
	head -n 20 <<<"$out"
	say "bpfctl stats"
	lab_ctl stats
}

main() {
	lab_init "${MWAN_LAB_ID:-$$}"
	trap teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	say "Lab $LAB_ID: router, LAN switch with h2..h6, ISPs att and webpass, internet"
	lab_up true
	start_services
	say "mwan-loader -c $LAB_CFG (fast_path: true)"
	lab_start_loader "$LAB_CFG"
	grep -v '^$' "$LAB_LOADER_LOG" | sed 's/^/  | /'
	demo_download
	demo_ping
	demo_udp
	demo_inbound
	demo_ipv6
	demo_show
}

main "$@"
