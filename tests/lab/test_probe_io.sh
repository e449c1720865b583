#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of the prober's bad inputs: unreachable targets, a WAN interface deleted and re-created, restarts, a stopped loader.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UNROUTED=198.18.0.1       # att's ISP has no route: ICMP net unreachable
TCP_UNROUTED=tcp:$UNROUTED:80 # ... which fails the connect: logged once
REFUSED=tcp:192.0.2.1:9   # inet listens on nothing: RST, which counts as answered
NOROUTE6=$LAB_PROBE6      # webpass has no gateway6: sendto fails at once
UP_WAIT=10           # s for a WAN to come back: up_after rounds and the loss clearing

# ---- setup --------------------------------------------------------------------

write_config() {
	local h
	{
		echo "pin_dir: $LAB_PIN"
		echo "run_dir: $LAB_DIR/run"
		echo "lan: { interface: eth3, ipv4: $LAB_LAN_NET }"
		echo "wans:"
		echo "  att:"
		echo "    interface: eth1"
		echo "    gateway4: 100.64.1.1"
		echo "    weight: 3"
		echo "    probe: { targets: [$LAB_PROBE, $UNROUTED, '$REFUSED', '$TCP_UNROUTED'] }"
		echo "  webpass:"
		echo "    interface: eth2"
		echo "    gateway4: 100.64.2.1"
		echo "    probe: { targets: [$LAB_PROBE, '$NOROUTE6'] }"
		echo "nat:"
		for h in "${LAB_HOSTS[@]}"; do
			echo "  - internal: $(lab_host_ip "$h")"
			echo "    external: { att: $(lab_public att "$h"), webpass: $(lab_public webpass "$h") }"
		done
	} >"$1"
}

start_loader() {
	rm -f "$LAB_LOADER_LOG" # lab_start_loader waits for a line in it
	lab_start_loader "$CFG" 2>"$LAB_DIR/loader-start.err" ||
		t_setup_fail "mwan-loader did not start: $(cat "$LAB_DIR/loader-start.err")"
}

# ---- reading the state --------------------------------------------------------------

ctl() { lab_exec router "$LAB_BPFCTL" -c "$CFG" "$@"; }

# wan_get WAN FIELD: one field of WAN in `bpfctl -j status`.
wan_get() {
	ctl -j status | "$LAB_PY" -c 'import json, sys
w = [w for w in json.load(sys.stdin)["wans"] if w["name"] == sys.argv[1]][0]
print(w[sys.argv[2]])' "$1" "$2"
}

# target_get WAN ADDRESS: "sent received loss_pct" of one target.
target_get() {
	ctl -j status | "$LAB_PY" -c 'import json, sys
w = [w for w in json.load(sys.stdin)["wans"] if w["name"] == sys.argv[1]][0]
t = [t for t in w["targets"] if t["address"] == sys.argv[2]][0]
print(t["sent"], t["received"], t["loss_pct"])' "$1" "$2"
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local tenths=$(($1 * 10)) i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

health_is() { [[ $(wan_get "$1" health) == "$2" ]]; }
reason_is() { [[ $(wan_get "$1" reason) == "$2" ]]; }

# ifaces_keys: the interface indexes mwan_tx redirects to, and mwan_cfg's
# WAN interface list, as "tx: 3 4 5 ; wans: 4 5 ".
ifaces_keys() {
	{
		bpftool -j map dump pinned "$LAB_PIN/mwan_tx"
		echo
		bpftool -j map dump pinned "$LAB_PIN/mwan_cfg"
	} | "$LAB_PY" -c '
import json, sys
tx, cfg = [json.loads(x) for x in sys.stdin.read().split("\n\n")]
print("tx:", *sorted(e["key"] if isinstance(e["key"], int) else int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little") for e in tx), end=" ; ")
print("wans:", *[i for i in cfg[0]["formatted"]["value"]["wan_ifindex"] if i], end=" \n")'
}

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

# expect_target WAN ADDRESS LOSS: sent > 4 and that loss.
expect_target() {
	local sent received loss
	read -r sent received loss <<<"$(target_get "$1" "$2")"
	((sent > 4)) || fail "$1 $2: only $sent probes judged"
	[[ $loss == "$3" ]] || fail "$1 $2: loss $loss % ($received of $sent), want $3 %"
}

check_targets() {
	t_require_loader
	expect_target att "$LAB_PROBE" 0.0
	expect_target att "$UNROUTED" 100.0
	expect_target att "$REFUSED" 0.0
	expect_target att "$TCP_UNROUTED" 100.0
	expect_target webpass "$LAB_PROBE" 0.0
	expect_target webpass "$NOROUTE6" 100.0
	health_is att up || fail "att is $(wan_get att health)"
	health_is webpass up || fail "webpass is $(wan_get webpass health)"
	echo "unanswered targets at 100 % loss, refused TCP at 0 %; both WANs up"
}

# expect_logged_once WAN TARGET: its error, once in all those rounds.
expect_logged_once() {
	local n
	n=$(grep -c "wan $1: probe $2: Network is unreachable; it counts as lost" "$LAB_LOADER_LOG" || true)
	((n == 1)) || fail "'wan $1: probe $2: Network is unreachable' logged $n times, want once"
}

check_logged_once() {
	local n
	expect_logged_once att "$TCP_UNROUTED"
	expect_logged_once webpass "$NOROUTE6"
	n=$(grep -c "probe $UNROUTED:" "$LAB_LOADER_LOG" || true)
	((n == 0)) || fail "$UNROUTED (sent fine, never answered) logged $n times"
}

check_link_gone() {
	t_require_loader
	wait_for 3 reason_is att link_down || fail "att: reason $(wan_get att reason), want link_down"
	health_is att down || fail "att is $(wan_get att health)"
	[[ " $(ifaces_keys) " != *" $OLD_IFINDEX "* ]] ||
		fail "mwan_tx or mwan_cfg still has the deleted ifindex $OLD_IFINDEX: $(ifaces_keys)"
	grep -q "eth1: interface gone" "$LAB_LOADER_LOG" || fail "no 'interface gone' in the log"
	echo "att down (link_down); $(ifaces_keys)"
}

check_link_back() {
	local idx keys table
	t_require_loader
	wait_for "$UP_WAIT" health_is att up || fail "att still $(wan_get att health) ($(wan_get att reason))"
	idx=$(lab_exec router cat /sys/class/net/eth1/ifindex)
	((idx != OLD_IFINDEX)) || fail "eth1 came back with the same ifindex $idx"
	[[ $(wan_get att ifindex) == "$idx" ]] || fail "mwan_wans: ifindex $(wan_get att ifindex), want $idx"
	[[ "$(ifaces_keys) " == *"wans: $idx "* ]] || fail "mwan_cfg's WAN list lacks $idx first: $(ifaces_keys)"
	keys=$(ifaces_keys)
	[[ "${keys%%;*}" == *" $idx "* ]] || fail "mwan_tx lacks $idx: $keys"
	lab_exec router ip link show eth1 | grep -q "prog/xdp" || fail "no XDP program on the new eth1"
	lab_exec router tc filter show dev eth1 ingress | grep -q mwan_tc_in || fail "no TC ingress on the new eth1"
	lab_exec router tc filter show dev eth1 egress | grep -q mwan_tc_out || fail "no TC egress on the new eth1"
	table=$(lab_exec router ip route show table 27900)
	grep -q "default via 100.64.1.1 dev eth1" <<<"$table" || fail "att's routing table: $table"
	echo "eth1 is ifindex $idx (was $OLD_IFINDEX): attached, maps and route follow, att up"
}

# New flows only on att (webpass forced down): through the new eth1 both ways.
check_traffic_back() {
	ctl wan webpass down >/dev/null || fail "bpfctl wan webpass down failed"
	if ! lab_exec h2 ping -c 3 -i 0.2 -W 1 "$LAB_SERVER" >"$LAB_DIR/ping.out" 2>&1; then
		ctl wan webpass auto >/dev/null || true
		fail "h2 cannot reach $LAB_SERVER via att: $(tail -n 2 "$LAB_DIR/ping.out" | tr '\n' ' ')"
	fi
	ctl wan webpass auto >/dev/null || fail "bpfctl wan webpass auto failed"
	tail -n 1 "$LAB_DIR/ping.out"
}

check_down_before_restart() {
	wait_for 3 health_is att down || fail "att still $(wan_get att health) with its upstream dropped"
	reason_is att lost_rounds || fail "att down with reason $(wan_get att reason)"
}

# Restarted during the outage: att stays down, nothing moves back to it.
check_restart_keeps_down() {
	t_require_loader
	health_is att down || fail "att is $(wan_get att health) after the restart"
	reason_is att lost_rounds || fail "att's reason is $(wan_get att reason), want lost_rounds (kept)"
	grep -q "wan att: down as the previous run left it" "$LAB_LOADER_LOG" || fail "no restart line in the log"
	sleep 2
	health_is att down || fail "att came up with its upstream still dropped"
	! grep -q "wan att: up" "$LAB_LOADER_LOG" || fail "att went up after the restart"
	echo "att down since $(wan_get att since)"
}

check_recovers() {
	wait_for "$UP_WAIT" health_is att up || fail "att still $(wan_get att health) after the upstream returned"
	reason_is att recovered || fail "att's reason is $(wan_get att reason)"
}

check_frozen() {
	local out
	out=$(ctl status) || fail "bpfctl status failed: $out"
	grep -q "^health data frozen: mwan-loader is not running$" <<<"$out" || fail "no frozen warning: $(head -n 5 <<<"$out")"
	ctl -j status | grep -q '"health_frozen":true' || fail "health_frozen is not true"
}

# ---- the run --------------------------------------------------------------------

drop_att_upstream() {
	lab_exec att nft -f - <<EOF
table inet mwanprobe {
	chain fw {
		type filter hook forward priority -10;
		iifname "to-router" drop
	}
}
EOF
}

main() {
	t_install_traps
	T_PREFIX=probe-io
	lab_init "$$"
	lab_up true
	CFG=$LAB_DIR/probe-io.yaml
	write_config "$CFG"
	start_loader
	sleep 3

	check "unreachable, unrouted and refused targets: counted per target, WANs up" check_targets
	check "a target that cannot be sent to is logged once" check_logged_once

	OLD_IFINDEX=$(lab_exec router cat /sys/class/net/eth1/ifindex)
	lab_exec router ip link del eth1
	check "ip link del eth1: loader runs, att down (link_down), old ifindex out of the maps" check_link_gone
	lab_wan_link att
	check "eth1 re-created: new ifindex attached (XDP, TC), maps and route follow, att up" check_link_back
	check "traffic to the internet through the re-created eth1" check_traffic_back

	drop_att_upstream
	check "att's upstream dropped: att down (lost_rounds)" check_down_before_restart
	lab_stop_loader || t_setup_fail "mwan-loader exited with status $?"
	start_loader
	check "restart during the outage: att stays down, reason and since kept" check_restart_keeps_down
	lab_exec att nft delete table inet mwanprobe
	check "upstream back: att recovers" check_recovers

	lab_stop_loader || t_setup_fail "mwan-loader exited with status $?"
	check "loader stopped: status says health data frozen" check_frozen

	lab_down
	LAB_ID=
	exit $((T_FAILED > 0))
}

main "$@"
