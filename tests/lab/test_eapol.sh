#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Lab test of 802.1X on a WAN: the router's wpa_supplicant authenticates to att's hostapd (EAP-PEAP, EAP-TLS, untagged and priority-tagged VLAN 0) through mwan's XDP and TC programs.
# Check functions run through `check`, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source=tests/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The ISP's authenticator (hostapd, driver wired) sits on att's to-router,
# the router's supplicant (wpa_supplicant -D wired) on eth1, as on AT&T
# fibre, whose ONT sends its EAPOL frames priority-tagged (VLAN ID 0).
WAN=att
WAN_IF=${LAB_WAN_IF[$WAN]}
PEAP_OUTER=anonymous # PEAP's outer identity; the real one stays in the tunnel
PEAP_USER=alice
PEAP_PASSWORD='correct horse battery staple'
TLS_IDENTITY=router@$WAN.test
SERVER_NAME=radius.$WAN.test
# The supplicant sends its first EAPOL-Start 1-2 s after it starts.
AUTH_TIMEOUT=10
VLAN0_PCP=5 # the priority the tagged frames carry (PCP; VLAN ID 0)

# ---- setup (main shell) ----------------------------------------------------------------

# need_tools: what this suite needs beyond the lab's own tools.
need_tools() {
	local tool missing=()
	for tool in hostapd hostapd_cli wpa_supplicant wpa_cli openssl; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	((${#missing[@]} == 0)) ||
		t_setup_fail "${missing[*]} not installed (hostapd, wpasupplicant: scripts/install-deps.sh)"
}

# eap_files: a test CA, hostapd's server certificate and the client's
# certificate for EAP-TLS (P-256, made now), hostapd's users, its config
# for group-addressed (PAE group 01:80:c2:00:00:03) and individually
# addressed EAPOL, and one supplicant config per case.
eap_files() {
	local d=$EAP_DIR name cn eku
	mkdir -p "$d"
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=mwan lab $LAB_ID test CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		for name in server client; do
			if [[ $name == server ]]; then cn=$SERVER_NAME eku=serverAuth; else cn=$TLS_IDENTITY eku=clientAuth; fi
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
				-keyout "$d/$name.key" -out "$d/$name.csr"
			printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
				"extendedKeyUsage=$eku" "subjectAltName=DNS:$cn" >"$d/$name.ext"
			openssl x509 -req -days 2 -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
				-CAcreateserial -extfile "$d/$name.ext" -out "$d/$name.pem"
		done
		openssl verify -CAfile "$d/ca.pem" "$d/server.pem" "$d/client.pem"
	} >"$d/openssl.log" 2>&1 || t_setup_fail "openssl: $(tail -n 3 "$d/openssl.log")"

	# Phase 1 identities, then the PEAP tunnel's (phase 2, [2]) one.
	cat >"$d/eap_user" <<EOF
"$TLS_IDENTITY" TLS
"$PEAP_OUTER" PEAP
"$PEAP_USER" MSCHAPV2 "$PEAP_PASSWORD" [2]
EOF
	hostapd_conf 1 >"$d/hostapd-group.conf"
	hostapd_conf 0 >"$d/hostapd-unicast.conf"
	wpa_conf peap "$PEAP_PASSWORD" >"$d/wpa-peap.conf"
	wpa_conf peap "not the password" >"$d/wpa-wrong.conf"
	wpa_conf tls >"$d/wpa-tls.conf"
}

# hostapd_conf USE_PAE_GROUP_ADDR: the authenticator on to-router, with
# its own EAP server (no RADIUS), no reauthentication timer.
hostapd_conf() {
	cat <<EOF
interface=to-router
driver=wired
logger_stdout=-1
logger_stdout_level=1
ctrl_interface=$EAP_DIR/hostapd
ieee8021x=1
eapol_version=2
use_pae_group_addr=$1
eap_reauth_period=0
eap_server=1
eap_user_file=$EAP_DIR/eap_user
ca_cert=$EAP_DIR/ca.pem
server_cert=$EAP_DIR/server.pem
private_key=$EAP_DIR/server.key
EOF
}

# wpa_conf peap PASSWORD | wpa_conf tls: the supplicant's config, checking
# the server's certificate (the test CA, the name).
wpa_conf() {
	cat <<EOF
ctrl_interface=$EAP_DIR/wpa
ap_scan=0
eapol_version=2
network={
	key_mgmt=IEEE8021X
	eapol_flags=0
	ca_cert="$EAP_DIR/ca.pem"
	domain_match="$SERVER_NAME"
EOF
	if [[ $1 == peap ]]; then
		cat <<EOF
	eap=PEAP
	anonymous_identity="$PEAP_OUTER"
	identity="$PEAP_USER"
	password="$2"
	phase2="auth=MSCHAPV2"
}
EOF
	else
		cat <<EOF
	eap=TLS
	identity="$TLS_IDENTITY"
	client_cert="$EAP_DIR/client.pem"
	private_key="$EAP_DIR/client.key"
}
EOF
	fi
}

# vlan0_object: a TC program for att's to-router egress that priority-tags
# every EAPOL frame in its bytes: 802.1Q, VLAN ID 0, PCP VLAN0_PCP, the
# EtherType 0x888e behind the tag. (tc's act_vlan, not built into every
# kernel, and bpf_skb_vlan_push put the tag in the skb's metadata, which
# veth hands on as such: the router's XDP program would not see it.)
vlan0_object() {
	local clang
	clang=$(command -v clang-16 || command -v clang) || t_setup_fail "no clang for the VLAN 0 tagger"
	cat >"$EAP_DIR/vlan0.bpf.c" <<EOF
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int vlan0_eapol(struct __sk_buff *skb)
{
	__be16 tag[2] = { bpf_htons(ETH_P_8021Q), bpf_htons($VLAN0_PCP << 13) };
	__u8 macs[12];
	__be16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) ||
	    proto != bpf_htons(ETH_P_PAE))
		return TC_ACT_OK;
	/* 4 bytes in front, the addresses moved there, the tag after them */
	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) ||
	    bpf_skb_change_head(skb, sizeof(tag), 0) ||
	    bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0) ||
	    bpf_skb_store_bytes(skb, sizeof(macs), tag, sizeof(tag), 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
EOF
	"$clang" -O2 -Wall -Werror -target bpf -I"/usr/include/$(gcc -print-multiarch)" \
		-c "$EAP_DIR/vlan0.bpf.c" -o "$EAP_DIR/vlan0.bpf.o" 2>"$EAP_DIR/clang.log" ||
		t_setup_fail "cannot build the VLAN 0 tagger: $(tail -n 3 "$EAP_DIR/clang.log")"
}

# vlan0_on: att tags its EAPOL frames from now on.
vlan0_on() {
	lab_exec "$WAN" tc qdisc add dev to-router clsact
	lab_exec "$WAN" tc filter add dev to-router egress bpf direct-action \
		obj "$EAP_DIR/vlan0.bpf.o" sec tc >"$EAP_DIR/tc.log" 2>&1 ||
		t_setup_fail "cannot attach the VLAN 0 tagger: $(tail -n 3 "$EAP_DIR/tc.log")"
}

# start_hostapd CONF: (re)start the authenticator, until it is enabled.
start_hostapd() {
	lab_stop_bg hostapd
	lab_bg hostapd "$WAN" hostapd -t "$1"
	lab_wait_log "$LAB_DIR/hostapd.log" "AP-ENABLED" 5 "$LAB_BG_PID" ||
		t_setup_fail "hostapd did not start: $(tail -n 3 "$LAB_DIR/hostapd.log")"
}

# start_supplicant CONF: a new wpa_supplicant on eth1 (the last one
# stopped), after noting mwan's counters and where hostapd's log stands.
start_supplicant() {
	lab_stop_bg wpa
	CTL0=$(counter pass_control)
	VLAN0=$(counter pass_vlan)
	HAPD_LINE=$(t_log_lines "$LAB_DIR/hostapd.log")
	lab_bg wpa router wpa_supplicant -t -D wired -i "$WAN_IF" -c "$1"
}

# start_caps: capture both ends of the WAN link (every frame, written as it
# comes: --immediate-mode, or a quiet link's frames stay in the ring).
start_caps() {
	local node ifn
	for node in router "$WAN"; do
		ifn=$([[ $node == router ]] && echo "$WAN_IF" || echo to-router)
		lab_bg "eap-cap-$node" "$node" tcpdump -i "$ifn" -n --immediate-mode -U -Z root \
			-w "$EAP_DIR/$node.pcap"
		lab_wait_log "$LAB_DIR/eap-cap-$node.log" "listening on" 5 "$LAB_BG_PID" ||
			t_setup_fail "tcpdump on $node did not start: $(tail -n 3 "$LAB_DIR/eap-cap-$node.log")"
	done
}

stop_caps() { lab_stop_bg eap-cap-router "eap-cap-$WAN"; }

# ---- checks (each runs in a subshell; `fail` ends it) ------------------------------

wpa_cli_() { lab_exec router wpa_cli -p "$EAP_DIR/wpa" -i "$WAN_IF" "$@"; }
hostapd_cli_() { lab_exec "$WAN" hostapd_cli -p "$EAP_DIR/hostapd" -i to-router "$@"; }

# field TEXT KEY: KEY's value in wpa_cli's/hostapd_cli's KEY=VALUE lines.
field() { sed -n "s/^$2=//p" <<<"$1" | head -n 1; }

# A check's helper that fails inside $(...) ends only that subshell; its
# output, the reason last, is passed on by `... || refail "$out"`.
refail() {
	echo "$1"
	exit 1
}

router_mac() { lab_exec router cat "/sys/class/net/$WAN_IF/address"; }

# wait_eap_done: wpa_cli status once EAP has succeeded or failed (within
# AUTH_TIMEOUT), with the supplicant still running.
wait_eap_done() {
	local pid status i
	pid=$(cat "$LAB_DIR/wpa.pid" 2>/dev/null) || fail "wpa_supplicant was never started"
	for ((i = 0; i < AUTH_TIMEOUT * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 5 "$LAB_DIR/wpa.log"
			fail "wpa_supplicant (pid $pid) is not running"
		fi
		status=$(wpa_cli_ status 2>/dev/null) || status=
		case $(field "$status" "EAP state") in SUCCESS | FAILURE) break ;; esac
		sleep 0.1
	done
	if [[ -z $status ]]; then
		tail -n 5 "$LAB_DIR/wpa.log"
		fail "no answer on wpa_supplicant's control socket $EAP_DIR/wpa/$WAN_IF"
	fi
	echo "$status"
}

# wait_hostapd PATTERN: a line of hostapd's log (since the supplicant
# started) about the router's eth1 matching PATTERN, within 2 s.
wait_hostapd() {
	local mac i
	mac=$(router_mac) || fail "no $WAN_IF in the router"
	for ((i = 0; i < 20; i++)); do
		tail -n +"$((HAPD_LINE + 1))" "$LAB_DIR/hostapd.log" | grep -q -- "$1.*$mac\|$mac.*$1" && return 0
		sleep 0.1
	done
	tail -n +"$((HAPD_LINE + 1))" "$LAB_DIR/hostapd.log" | tail -n 5
	fail "hostapd logged no '$1' for $mac"
}

# eapol_seen: every EAPOL frame the supplicant received passed mwan's XDP
# program as a control frame (pass_control grew at least as much), none
# of them taken for tagged data (pass_vlan), tagged or not. Prints a summary.
eapol_seen() {
	local mib rx ctl vlan
	mib=$(wpa_cli_ mib) || fail "wpa_cli mib failed: $mib"
	rx=$(field "$mib" dot1xSuppEapolFramesRx)
	ctl=$(counter pass_control) || refail "$ctl"
	vlan=$(counter pass_vlan) || refail "$vlan"
	ctl=$((ctl - CTL0)) vlan=$((vlan - VLAN0))
	((rx > 0)) || fail "the supplicant received no EAPOL frame"
	((ctl >= rx)) || fail "$rx EAPOL frames reached the supplicant, but mwan's XDP counted $ctl pass_control"
	((vlan == 0)) || fail "mwan counted $vlan EAPOL frames as tagged data (pass_vlan), not control"
	echo "$rx EAPOL frames to the router, pass_control +$ctl, pass_vlan +0"
}

# check_auth METHOD: the supplicant authenticated with EAP-METHOD
# (PEAP/TLS), its port authorized; hostapd says so too, for the right user;
# and every EAPOL frame went through mwan (eapol_seen).
check_auth() {
	local want=$1 status sta user got seen
	status=$(wait_eap_done) || refail "$status"
	got="PAE $(field "$status" "Supplicant PAE state"), port $(field "$status" suppPortStatus), EAP $(field "$status" "EAP state")"
	[[ $got == "PAE AUTHENTICATED, port Authorized, EAP SUCCESS" ]] ||
		fail "not authenticated (waited up to $AUTH_TIMEOUT s): $got ($(grep -c 'EAP-FAILURE' "$LAB_DIR/wpa.log") failures logged)"
	[[ $(field "$status" selectedMethod) == *"(EAP-$want)" ]] ||
		fail "selectedMethod=$(field "$status" selectedMethod), want EAP-$want"
	if [[ $want == PEAP ]]; then
		[[ $(field "$status" "EAP-PEAPv[01] Phase2 method") == MSCHAPV2 ]] ||
			fail "PEAP's inner method is not MSCHAPV2: $(grep -i phase2 <<<"$status")"
		user=$PEAP_USER
	else
		user=$TLS_IDENTITY
	fi
	wait_hostapd "CTRL-EVENT-EAP-SUCCESS"
	wait_hostapd "authorizing port"
	sta=$(hostapd_cli_ sta "$(router_mac)") || fail "hostapd_cli sta failed: $sta"
	[[ $(field "$sta" flags) == *AUTHORIZED* ]] || fail "hostapd: station not authorized: $(field "$sta" flags)"
	[[ $(field "$sta" dot1xAuthSessionUserName) == "$user" ]] ||
		fail "hostapd: user $(field "$sta" dot1xAuthSessionUserName), want $user"
	[[ $(field "$sta" last_eap_type_sta) == *"($want)" ]] ||
		fail "hostapd: last EAP type $(field "$sta" last_eap_type_sta), want $want"
	seen=$(eapol_seen) || refail "$seen"
	echo "$user by EAP-$want ($(field "$status" eap_tls_version)): $seen"
}

# check_refused: a wrong password: EAP failure, the port stays
# unauthorized on both ends (the EAP-Failure itself came through mwan).
check_refused() {
	local status got sta seen
	status=$(wait_eap_done) || refail "$status"
	got="PAE $(field "$status" "Supplicant PAE state"), port $(field "$status" suppPortStatus), EAP $(field "$status" "EAP state")"
	[[ $got == "PAE HELD, port Unauthorized, EAP FAILURE" ]] || fail "want a refusal, got: $got"
	wait_hostapd "CTRL-EVENT-EAP-FAILURE"
	sta=$(hostapd_cli_ sta "$(router_mac)") || true # the refused station may be gone
	[[ $(field "$sta" flags) != *AUTHORIZED* ]] || fail "hostapd authorized the station anyway: $sta"
	seen=$(eapol_seen) || refail "$seen"
	echo "refused: $seen"
}

# check_tagged: hostapd's EAPOL frames left att priority-tagged (VLAN ID
# 0, PCP VLAN0_PCP) and arrived on eth1 byte for byte the same, the tag
# too; the supplicant received no other.
check_tagged() {
	local mib rx
	mib=$(wpa_cli_ mib) || fail "wpa_cli mib failed: $mib"
	rx=$(field "$mib" dot1xSuppEapolFramesRx)
	"$LAB_PY" - "$EAP_DIR/$WAN.pcap" "$EAP_DIR/router.pcap" "$VLAN0_PCP" "$rx" <<'EOF'
import struct, sys

def tagged_eapol(path):
    """Every frame in a pcap file with an 802.1Q tag before EtherType 0x888e."""
    with open(path, "rb") as f:
        data = f.read()
    end = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if frame[12:14] == b"\x81\x00" and frame[16:18] == b"\x88\x8e":
            out.append(frame)
    return out

sent, got = tagged_eapol(sys.argv[1]), tagged_eapol(sys.argv[2])
pcp, rx = int(sys.argv[3]), int(sys.argv[4])
if not sent:
    sys.exit("att sent no priority-tagged EAPOL frame")
bad = [f.hex() for f in sent if struct.unpack(">H", f[14:16])[0] != pcp << 13]
if bad:
    sys.exit(f"tags other than VLAN 0, PCP {pcp}: {bad[0][:40]}")
if got != sent:
    sys.exit(f"att sent {len(sent)} tagged EAPOL frames, eth1 got {len(got)}, "
             f"{sum(a != b for a, b in zip(sent, got))} of them changed")
if rx > len(got):
    sys.exit(f"the supplicant received {rx} EAPOL frames, only {len(got)} of them tagged")
print(f"{len(got)} EAPOL frames tagged VLAN 0 (PCP {pcp}) arrived unchanged")
EOF
}

# check_traffic: the LAN still reaches the internet through mwan.
check_traffic() {
	local out
	out=$(lab_exec h2 ping -c 3 -i 0.2 -W 2 "$LAB_SERVER" 2>&1) || fail "h2 cannot ping $LAB_SERVER: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	tail -n 2 <<<"$out" | head -n 1
}

# ---- the run ---------------------------------------------------------------------------

run_pass() {
	FAST=$1
	T_PREFIX=$([[ $FAST == true ]] && echo fast || echo slow)
	need_tools
	lab_init "$$"
	lab_up "$FAST"
	EAP_DIR=$LAB_DIR/eapol
	eap_files
	vlan0_object
	lab_start_loader "$LAB_CFG" 2>"$LAB_DIR/loader-start.err" || true
	check "mwan-loader starts: XDP and TC on every interface" check_loader_started
	start_hostapd "$EAP_DIR/hostapd-group.conf"

	start_supplicant "$EAP_DIR/wpa-peap.conf"
	check "EAP-PEAP (MSCHAPv2) through mwan: authorized, every EAPOL frame pass_control" check_auth PEAP
	start_supplicant "$EAP_DIR/wpa-tls.conf"
	check "EAP-TLS through mwan: authorized, every EAPOL frame pass_control" check_auth TLS

	# AT&T's ONT: the authenticator's frames priority-tagged, to the PAE
	# group address, then to the router's own MAC address (there mwan must
	# look behind the tag for the EtherType).
	vlan0_on
	start_caps
	start_supplicant "$EAP_DIR/wpa-peap.conf"
	check "VLAN 0 tagged EAPOL to the PAE group: EAP-PEAP authorized through mwan" check_auth PEAP
	stop_caps
	check "VLAN 0 tagged EAPOL to the PAE group arrives unchanged, tag and all" check_tagged
	start_hostapd "$EAP_DIR/hostapd-unicast.conf"
	start_caps
	start_supplicant "$EAP_DIR/wpa-tls.conf"
	check "VLAN 0 tagged EAPOL to the router's MAC: EAP-TLS authorized through mwan" check_auth TLS
	stop_caps
	check "VLAN 0 tagged EAPOL to the router's MAC arrives unchanged, tag and all" check_tagged

	# Last: hostapd holds a refused station off for 60 s (quietPeriod).
	start_supplicant "$EAP_DIR/wpa-wrong.conf"
	check "a wrong PEAP password is refused (EAP failure, port unauthorized)" check_refused
	lab_stop_bg wpa hostapd

	check "traffic flows through mwan afterwards: h2 pings $LAB_SERVER" check_traffic
	t_stop_loader_check
	lab_down
	LAB_ID=
}

t_main_passes run_pass
