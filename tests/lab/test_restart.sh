#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab tests of the loader's worst days: SIGTERM, SIGKILL, an upgraded BPF object, foreign map layouts and reloads, under steady traffic.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=5101
STREAMS_PER_HOST=8 # 40 flows over both WANs
STREAM_GAP=0.02
BASE=42000

# ---- helpers (main shell) -------------------------------------------------------------

xdp_id() { lab_exec router ip -j link show "$1" | "$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin)[0].get("xdp", {}).get("prog", {}).get("id", 0))'; }

# pinned_cfg_layout [N]: print the layout_version of the live slot of the
# pinned mwan_cfg (mwan_live names it), or set it to N.
pinned_cfg_layout() {
	local pin=$LAB_PIN/mwan_cfg hex slot=0
	if [[ -e $LAB_PIN/mwan_live ]]; then
		slot=$(bpftool -j map lookup pinned "$LAB_PIN/mwan_live" key 0 0 0 0 |
			"$LAB_PY" -c 'import json,sys; print(int(json.load(sys.stdin)["value"][0], 16) & 1)')
	fi
	hex=$(bpftool -j map lookup pinned "$pin" key "$slot" 0 0 0 | "$LAB_PY" -c 'import json,sys; print(" ".join(json.load(sys.stdin)["value"]))')
	if (($# == 0)); then
		"$LAB_PY" -c 'import sys; b=[int(x,16) for x in sys.argv[1].split()]; print(int.from_bytes(bytes(b[:4]),"little"))' "$hex"
		return
	fi
	# shellcheck disable=SC2046
	bpftool map update pinned "$pin" key "$slot" 0 0 0 value $("$LAB_PY" -c '
import sys
b = sys.argv[1].split()
b[:4] = ["0x%02x" % x for x in int(sys.argv[2]).to_bytes(4, "little")]
print(" ".join(b))' "$hex" "$1")
}

# nat_maps: mwan_nat4 and mwan_pub4 as sorted text (addresses only; MACs follow the LAN).
nat_maps() {
	{
		bpftool -j map dump pinned "$LAB_PIN/mwan_nat4"
		echo
		bpftool -j map dump pinned "$LAB_PIN/mwan_pub4"
	} | "$LAB_PY" -c '
import json, socket, struct, sys
a = lambda v: socket.inet_ntoa(struct.pack("<I", v))
nat, pub = [json.loads(x) for x in sys.stdin.read().split("\n\n")]
for e in nat:
    f = e["formatted"]
    print("nat", a(f["key"]), " ".join(a(x) for x in f["value"]["ext"]))
for e in pub:
    f = e["formatted"]
    print("pub", a(f["key"]), a(f["value"]["internal"]), f["value"]["wan"])' | sort
}

flows_json() { lab_ctl -j flows; }

start_streams() {
	lab_streams restart "$LAB_SERVER:$PORT" "$BASE" "$STREAMS_PER_HOST" "$STREAM_GAP"
}

# notify_listen: a stand-in for systemd's notify socket; each datagram one
# line of $LAB_DIR/notify.log.
notify_listen() {
	rm -f "$LAB_DIR/notify.sock"
	lab_bg notify router "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)' "$LAB_DIR/notify.sock"
	for _ in $(seq 50); do grep -qs bound "$LAB_DIR/notify.log" && return 0; sleep 0.1; done
	return 1
}

restart_loader() {
	lab_start_loader "$LAB_CFG" 2>>"$LAB_DIR/loader-start.err"
}

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

# check_notify: READY=1 once attached, WATCHDOG=1 at half of WATCHDOG_USEC,
# RELOADING=1 then READY=1 around a reload, STOPPING=1 on SIGTERM.
check_notify() {
	local seq
	seq=$(grep -v '^bound' "$LAB_DIR/notify.log" | grep -v '^WATCHDOG=1' | tr '\n' ' ')
	[[ $seq == "READY=1 RELOADING=1 READY=1 STOPPING=1 " ]] || fail "notifications: $seq"
	(($(grep -c '^WATCHDOG=1' "$LAB_DIR/notify.log") >= 3)) ||
		fail "$(grep -c '^WATCHDOG=1' "$LAB_DIR/notify.log") watchdog pings in about 4 s with WATCHDOG_USEC=1 s"
}

check_journal_prio() {
	grep -q '^<6>dataplane ready' "$LAB_LOADER_LOG" || fail "no '<6>dataplane ready' line: $(head -n 3 "$LAB_LOADER_LOG")"
	! grep -v '^<[0-7]>' "$LAB_LOADER_LOG" | grep -q . || fail "lines without a syslog priority: $(grep -v '^<[0-7]>' "$LAB_LOADER_LOG" | head -n 2)"
}

# check_frozen: with the loader stopped, bpfctl says so and traffic still flows.
check_frozen() {
	local json
	json=$(lab_ctl -j status 2>&1) || fail "bpfctl -j status: $json"
	"$LAB_PY" -c 'import json,sys; s=json.load(sys.stdin); sys.exit(not (s["loader"]["running"] is False and s["health_frozen"] is True))' <<<"$json" ||
		fail "status does not say the loader is stopped and health frozen: ${json:0:200}"
}

# check_replaced OLD_ID: the new loader swapped the XDP program in place.
check_replaced() {
	local now
	now=$(xdp_id eth3)
	((now != 0 && now != $1)) || fail "XDP program id $now on eth3 (was $1)"
	grep -q "eth3: XDP program replaced in place" "$LAB_LOADER_LOG" || fail "no in-place replacement logged"
}

check_upgraded() {
	check_replaced "$1"
	grep -q "BPF object: $2" "$LAB_LOADER_LOG" || fail "the loader did not use $2: $(grep 'BPF object' "$LAB_LOADER_LOG")"
}

check_object_refused() {
	((${1} != 0)) || fail "mwan-loader started with an empty BPF object"
	grep -q "cannot read the BPF object $LAB_DIR/empty.o: Invalid argument" "$LAB_LOADER_LOG" ||
		fail "no clear refusal: $(tail -n 2 "$LAB_LOADER_LOG")"
	[[ $(xdp_id eth3) == "$2" ]] || fail "the running XDP program changed: $(xdp_id eth3), was $2"
}

check_layout_refused() {
	local rc=$1 before=$2
	((rc != 0)) || fail "mwan-loader started on maps of layout 99"
	grep -q '^<3>maps pinned under .* have layout version 99, which this mwan-loader (layout [0-9]*) can neither read nor migrate' \
		"$LAB_LOADER_LOG" || fail "no clear refusal: $(tail -n 2 "$LAB_LOADER_LOG")"
	[[ $(xdp_id eth3) == "$before" ]] || fail "the running XDP program changed: $(xdp_id eth3), was $before"
	[[ $(pinned_cfg_layout) == 99 ]] || fail "the pinned maps were touched (layout $(pinned_cfg_layout))"
}

# check_migrated FROM: the start migrated FROM's maps to this layout.
check_migrated() {
	grep -q "migrating the maps pinned under .* from layout $1 to $T_LAYOUT" "$LAB_LOADER_LOG" ||
		fail "no migration from $1 logged"
	[[ ! -e $LAB_PIN/mwan_ifaces ]] || fail "the old layout's mwan_ifaces is still pinned"
	[[ $(pinned_cfg_layout) == "$T_LAYOUT" ]] || fail "pinned layout $(pinned_cfg_layout) after the migration"
}

# pin_layout2_cfg: mwan_cfg as layout 2 pinned it: one LAN, 84 bytes.
pin_layout2_cfg() {
	rm -f "$LAB_PIN/mwan_cfg"
	bpftool map create "$LAB_PIN/mwan_cfg" type array key 4 value 84 entries 1 name mwan_cfg
	# shellcheck disable=SC2046
	bpftool map update pinned "$LAB_PIN/mwan_cfg" key 0 0 0 0 value 2 0 0 0 $(printf '0 %.0s' $(seq 80))
}

check_lossless() {
	local nat
	mapfile -t nat < <(lab_nat_args)
	t_labnet stream-check --log "$LAB_DIR/streams.jsonl" --nat "${nat[@]}" --aspect lossless \
		--ports "$BASE-$((BASE + STREAMS_PER_HOST - 1))" --since 0
}

check_flows_same() {
	t_labnet flows-compare --before "$LAB_DIR/flows-before.json" --after "$LAB_DIR/flows-after.json" \
		--aspect stay --ports "$BASE-$((BASE + STREAMS_PER_HOST - 1))"
}

# check_bad_reload HOW: a config with a bad value is refused with FILE:LINE and changes nothing.
check_bad_reload() {
	local before out rc=0 n
	before=$(nat_maps)
	n=$(t_log_lines "$LAB_LOADER_LOG")
	if [[ $1 == sighup ]]; then
		kill -HUP "$LAB_LOADER_PID"
		lab_wait_log "$LAB_LOADER_LOG" "reload refused" 5 || fail "no refusal logged"
		out=$(tail -n +"$((n + 1))" "$LAB_LOADER_LOG")
	else
		# -r, not -c: bpfctl would refuse the bad file itself
		out=$(lab_exec router "$LAB_BPFCTL" -r "$LAB_DIR/run" -p "$LAB_PIN" reload 2>&1) || rc=$?
		((rc != 0)) || fail "bpfctl reload exited 0 on a bad config: $out"
		grep -q "reload refused, the running dataplane is unchanged" <<<"$out" ||
			fail "not the loader's refusal: $out"
	fi
	grep -q "$LAB_CFG:$BAD_LINE: .*weight.*'0'" <<<"$out" || fail "no FILE:LINE: weight message: $out"
	[[ $(nat_maps) == "$before" ]] || fail "mwan_nat4/mwan_pub4 changed"
	echo "${out##*$'\n'}"
}

# check_reload_diff HOW WANT_MSG WANT_MAPS: the reload applies the difference only.
check_reload_diff() {
	local out rc=0
	if [[ $1 == sighup ]]; then
		local n
		n=$(t_log_lines "$LAB_LOADER_LOG")
		kill -HUP "$LAB_LOADER_PID"
		lab_wait_log "$LAB_LOADER_LOG" "reload: applied" 5 || fail "no 'reload: applied' logged"
		out=$(tail -n +"$((n + 1))" "$LAB_LOADER_LOG" | grep "reload: applied")
	else
		out=$(lab_ctl reload 2>&1) || rc=$?
		((rc == 0)) || fail "bpfctl reload failed ($rc): $out"
	fi
	grep -qF "$2" <<<"$out" || fail "want '$2' in: $out"
	diff <(nat_maps) <(echo "$3") >&2 || fail "maps differ from the config (diff above)"
	echo "$out"
}

# check_host_flows HOST WANT: HOST's flows: WANT "none" or "some".
check_host_flows() {
	local n
	n=$(lab_ctl -j flows | "$LAB_PY" -c 'import json,sys; print(sum(1 for f in json.load(sys.stdin) if f["src"] == sys.argv[1]))' "$(lab_host_ip "$1")")
	if [[ $2 == none ]]; then ((n == 0)) || fail "$1 still has $n flows"; else ((n > 0)) || fail "$1 has no flows"; fi
	echo "$1: $n flows"
}

# flows_of HOST: "KEY WAN HOSTMASK PKTS_OUT" for each of HOST's flows in mwan_flows, from the
# raw bytes (the key's inner address at 8; the value's pkts_out at 16, wan at 52, hostmask at 55).
flows_of() {
	bpftool -j map dump pinned "$LAB_PIN/mwan_flows" | "$LAB_PY" -c '
import json, socket, sys
host = socket.inet_aton(sys.argv[1])
for e in json.load(sys.stdin):
    k = bytes(int(x, 16) for x in e["key"])
    v = bytes(int(x, 16) for x in e["value"])
    if k[8:12] == host:
        print(k.hex(), v[52], v[55], int.from_bytes(v[16:24], "little"))' "$(lab_host_ip "$1")"
}

# check_hostmask_in_place BEFORE: after h3 lost its webpass address, its flows on webpass are
# gone; those on att remain, their hostmask now att alone (stored in place by the loader through
# mwan_hostmask), their counters not rewritten.
check_hostmask_in_place() {
	local after k wan mask pkts line m2 p2 n=0
	after=$(flows_of h3)
	while read -r k wan mask pkts; do
		[[ -n $k ]] || continue
		((mask == 3)) || fail "flow $k had hostmask $mask before the reload, want 3"
		if ((wan == 1)); then
			! grep -q "^$k " <<<"$after" || fail "flow $k on webpass survived losing webpass"
			continue
		fi
		line=$(grep "^$k " <<<"$after") || fail "flow $k on att is gone"
		read -r _ _ m2 p2 <<<"$line"
		((m2 == 1)) || fail "flow $k: hostmask $m2 after the reload, want 1 (att only)"
		((p2 >= pkts)) || fail "flow $k: pkts_out $p2, $pkts before the reload (rewritten)"
		n=$((n + 1))
	done <<<"$1"
	((n > 0)) || fail "no flow of h3 on att to watch"
	echo "# $n flows on att kept with hostmask 1 and their counters"
}

# ---- the run ---------------------------------------------------------------------------

run_restarts() {
	local fast=$1 id rc upgrade
	T_PREFIX=$([[ $fast == true ]] && echo fast || echo slow)
	lab_write_config "$fast"
	notify_listen || t_setup_fail "no notify socket"
	JOURNAL_STREAM=8:1 NOTIFY_SOCKET=$LAB_DIR/notify.sock WATCHDOG_USEC=1000000 restart_loader ||
		t_setup_fail "loader start: $(tail -n 5 "$LAB_LOADER_LOG")"
	check "log lines carry syslog priorities under journald (<6> info)" check_journal_prio
	: >"$LAB_DIR/streams.jsonl"
	start_streams
	sleep 1.5
	flows_json >"$LAB_DIR/flows-before.json"
	# the same config, every line one further down: nothing to apply
	sed -i '1i # moved down by one line' "$LAB_CFG"
	kill -HUP "$LAB_LOADER_PID"
	sleep 2.5
	check "SIGHUP with nothing changed but line numbers: nothing applied" \
		grep -q "reload: applied: 0 mapping(s) added, 0 removed, 0 changed\$" "$LAB_LOADER_LOG"

	id=$(xdp_id eth3)
	lab_stop_loader
	check "sd_notify: READY, WATCHDOG pings, RELOADING/READY around SIGHUP, STOPPING" check_notify
	lab_stop_bg notify
	check "SIGTERM: bpfctl status says the loader is not running (health frozen)" check_frozen
	sleep 1
	restart_loader || t_setup_fail "restart after SIGTERM"
	check "a new loader swaps the XDP program in place" check_replaced "$id"

	sleep 1
	id=$(xdp_id eth3)
	kill -KILL "$LAB_LOADER_PID"
	wait "$LAB_LOADER_PID" 2>/dev/null || true
	LAB_LOADER_PID=
	sleep 1
	restart_loader || t_setup_fail "restart after SIGKILL: $(tail -n 5 "$LAB_LOADER_LOG")"
	check "after SIGKILL: a new loader takes over in place" check_replaced "$id"

	sleep 1
	upgrade=$LAB_DIR/upgrade
	make -s -C "$LAB_REPO" B="$upgrade" "$upgrade/mwan.bpf.o" >/dev/null ||
		t_setup_fail "cannot rebuild the BPF object"
	id=$(xdp_id eth3)
	lab_stop_loader
	: >"$LAB_DIR/empty.o"
	LAB_LOADER_ARGS=(--bpf-object "$LAB_DIR/empty.o")
	rc=0
	restart_loader || rc=$?
	check "an unusable BPF object is refused, the running dataplane untouched" \
		check_object_refused "$rc" "$id"
	LAB_LOADER_ARGS=(--bpf-object "$upgrade/mwan.bpf.o")
	restart_loader || t_setup_fail "upgrade start: $(tail -n 5 "$LAB_LOADER_LOG")"
	LAB_LOADER_ARGS=()
	check "upgrade to a rebuilt BPF object: swapped in place, maps kept" check_upgraded "$id" "$upgrade/mwan.bpf.o"

	sleep 1
	id=$(xdp_id eth3)
	lab_stop_loader
	pinned_cfg_layout 99
	rc=0
	JOURNAL_STREAM=8:1 restart_loader || rc=$?
	check "maps of an unknown layout: refused (<3>, clear message), nothing touched" check_layout_refused "$rc" "$id"
	pinned_cfg_layout 1
	bpftool map create "$LAB_PIN/mwan_ifaces" type hash key 4 value 8 entries 64 name mwan_ifaces
	restart_loader || t_setup_fail "start on layout 1: $(tail -n 5 "$LAB_LOADER_LOG")"
	check "maps of layout 1: migrated in place (stale maps unpinned)" check_migrated 1
	sleep 1
	lab_stop_loader
	pin_layout2_cfg
	restart_loader || t_setup_fail "start on layout 2: $(tail -n 5 "$LAB_LOADER_LOG")"
	check "maps of layout 2 (one LAN, an 84-byte mwan_cfg): migrated in place" check_migrated 2

	sleep 1.5
	lab_stop_streams restart
	sleep 1
	flows_json >"$LAB_DIR/flows-after.json"
	check "40 flows through both WANs across SIGTERM, SIGKILL, upgrade and migration: zero loss, zero moved" \
		check_lossless
	check "bpfctl -j flows: every flow kept its WAN, none moved" check_flows_same
}

run_reloads() {
	local good changed ext_h2 before
	cp "$LAB_CFG" "$LAB_DIR/good.yaml"
	good=$(nat_maps)
	# a bad value: weight 0 on att's line
	BAD_LINE=$(grep -n '^    weight:' "$LAB_CFG" | head -n 1 | cut -d: -f1)
	[[ -n $BAD_LINE ]] || t_setup_fail "no weight line in $LAB_CFG"
	sed -i "${BAD_LINE}s/weight: .*/weight: 0/" "$LAB_CFG"
	check "SIGHUP with a bad config: refused with FILE:LINE, maps unchanged" check_bad_reload sighup
	check "bpfctl reload with a bad config: non-zero, FILE:LINE, maps unchanged" check_bad_reload ctl

	# h6 removed, h2 on a new att address, att's weight changed
	cp "$LAB_DIR/good.yaml" "$LAB_CFG"
	ext_h2=$(lab_public att h2)
	sed -i "s/att: $ext_h2,/att: 198.51.100.198,/; /internal: $(lab_host_ip h6)\$/,+1d" "$LAB_CFG"
	sed -i "${BAD_LINE}s/weight: .*/weight: 7/" "$LAB_CFG"
	changed=$(grep -v "$(lab_host_ip h6)" <<<"$good" | grep -v "^pub $(lab_public att h6) \|^pub $(lab_public webpass h6) " |
		sed "s/^nat $(lab_host_ip h2) $ext_h2 /nat $(lab_host_ip h2) 198.51.100.198 /; s/^pub $ext_h2 /pub 198.51.100.198 /" | sort)
	lab_new_flows reload-h6 h6 "$LAB_SERVER:$PORT" 46000 3 0
	wait "$LAB_BG_PID" || true
	check_host_flows h6 some >/dev/null || t_setup_fail "h6 has no flows to remove"
	check "SIGHUP: 0 added, 1 removed, 1 changed, wan att changed; maps follow" \
		check_reload_diff sighup "0 mapping(s) added, 1 removed, 1 changed; wan att changed" "$changed"
	check "the removed mapping's flows are gone" check_host_flows h6 none

	cp "$LAB_DIR/good.yaml" "$LAB_CFG"
	check "bpfctl reload of the original config: 1 added, 0 removed, 1 changed" \
		check_reload_diff ctl "1 mapping(s) added, 0 removed, 1 changed; wan att changed" "$good"

	# h3 loses its webpass address: its flows on att stay, knowing att is all it has
	lab_new_flows reload-h3 h3 "$LAB_SERVER:$PORT" 47000 12 0
	wait "$LAB_BG_PID" || true
	before=$(flows_of h3)
	[[ -n $before ]] || t_setup_fail "h3 has no flows"
	sed -i "s/, webpass: $(lab_public webpass h3) }/ }/" "$LAB_CFG"
	lab_ctl reload >/dev/null || t_setup_fail "reload without h3's webpass address failed"
	check "a host loses a WAN: its flows there go, the others keep their counters, hostmask stored in place" \
		check_hostmask_in_place "$before"
	cp "$LAB_DIR/good.yaml" "$LAB_CFG"
	lab_ctl reload >/dev/null || t_setup_fail "reload of the original config failed"
}

run() {
	local fast=$1
	lab_init "$$"
	lab_up "$fast"
	serve streams inet udp-sink --port "$PORT" --log "$LAB_DIR/streams.jsonl"
	run_restarts "$fast"
	[[ $fast != true ]] || run_reloads
	t_stop_loader_check
	lab_down
	LAB_ID=
}

t_main_passes run
