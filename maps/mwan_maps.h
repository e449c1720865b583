/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one definition of every mwan map: names, keys, values and limits. */
#ifndef MWAN_MAPS_H
#define MWAN_MAPS_H

#include <linux/types.h>
#include <stdbool.h>

/* Bumped whenever a key or value below changes shape, so a loader never
 * misreads maps pinned by another version.
 */
#define MWAN_LAYOUT_VERSION 4

#define MWAN_MAX_WANS 8
#define MWAN_MAX_LANS 4
#define MWAN_MAX_HOSTS 4096
#define MWAN_MAX_LOCAL 256
#define MWAN_MAX_IFACES 64
#define MWAN_FLOWS_DEFAULT 262144
#define MWAN_FRAGS_MAX 8192
#define MWAN_NAME_LEN 16

#define MWAN_MAX_NEIGH6 16384
#define MWAN_HEALTH_TARGETS 8
#define MWAN_MAX_BYPASS 1024
#define MWAN_MAX_UNMAPPED 256
#define MWAN_MAX_ATTACH 32
#define MWAN_MAX_FILTER 1024
#define MWAN_MAX_SPOOFED 256

/* mwan_scratch[0] (per CPU): room for what a program would otherwise keep
 * on a stack that is full (the IPv6 fast path's ICMP quote: 6.1 counts
 * every frame of a call chain against 512 bytes). The programs' only.
 */
#define MWAN_SCRATCH_BYTES 128
struct mwan_scratch {
	__u8 b[MWAN_SCRATCH_BYTES];
};

/* One LAN (lans[i] of the config) as the programs see it. */
struct mwan_lan {
	__u32 ifindex; /* 0: no LAN in this slot */
	__be32 net4; /* network byte order, masked; 0xffffffff in a free slot */
	__be32 mask4; /* 0 in a free slot: with net4, matches nothing */
	__u16 mtu;
	__u8 mac[6];
	__u8 xdp_tx; /* takes XDP redirects (see MWAN_WAN_XDP_TX) */
	__u8 pad[3];
};

/* Values the programs read whole are never rewritten under them: the
 * loader writes the slot (or half) not in use, then flips one word.
 *
 * mwan_live[0].cfg_slot: which mwan_cfg slot is live (0 or 1);
 * mwan_cfg[slot].steer_half: which half of mwan_steer is. A program reads
 * the index, then the slot it names; the loader rewrites a slot only
 * MWAN_SLOT_GRACE_MS after it stopped being live, far longer than any
 * program runs, so no packet ever sees half of one config and half of
 * another, or a steering table being rewritten.
 */
#define MWAN_CFG_SLOTS 2
#define MWAN_SLOT_GRACE_MS 10

struct mwan_live {
	__u32 cfg_slot;
};

/* mwan_cfg[mwan_live.cfg_slot]: global settings written by the loader. */
struct mwan_cfg {
	__u32 layout_version;
	__u8 fast_path; /* 0: XDP hands everything to the TC/kernel path */
	__u8 ready; /* loader finished filling the maps */
	__u8 n_lans;
	__u8 lan6; /* the LAN lan_net6 is on */
	__u8 lan_net6[16]; /* internal IPv6 prefix (NPTv6), masked */
	__u8 lan_plen6; /* 0: no IPv6 translation */
	__u8 steer_half; /* mwan_steer[steer_half * MWAN_STEER_MASKS + mask] */
	__u8 pad6[6];
	/* Which interface is which, read on every packet: an index list in
	 * the one cache line the programs read anyway is cheaper than a hash
	 * lookup. wan_ifindex[id]: WAN id's interface; 0: none.
	 */
	__u32 wan_ifindex[MWAN_MAX_WANS];
	struct mwan_lan lan[MWAN_MAX_LANS];
};

/* mwan_wans[id] flags */
#define MWAN_WAN_CONFIGURED (1U << 0)
#define MWAN_WAN_LINK_UP (1U << 1)
#define MWAN_WAN_NEIGH4 (1U << 2) /* gw_mac is valid */
#define MWAN_WAN_NEIGH6 (1U << 3) /* gw6_mac is valid */
/* The interface takes XDP redirects: mwan_xdp runs there in native mode
 * (the driver has XDP, so ndo_xdp_xmit too). A device with generic XDP
 * only (a VLAN, a bridge, some VFs) drops what is redirected into it
 * from native XDP, so the fast path hands such packets to the kernel.
 */
#define MWAN_WAN_XDP_TX (1U << 4)
/* No link-layer header (WireGuard, GRE, IP-in-IP, tun, PPP): packets on
 * it start at the IP header, so only the TC programs run there (told by
 * this flag where the header is) and the fast path leaves what goes out
 * by it to the kernel.
 */
#define MWAN_WAN_L3 (1U << 5)

/* mwan_wans[id].blocked: what keeps the kernel from routing a WAN's
 * traffic, whatever the probes say; any bit makes it unusable (unless
 * forced up). The loader checks them on every netlink change.
 */
#define MWAN_WAN_BLOCK_NO_ADDR (1U << 0) /* no IPv4 address on the link */
#define MWAN_WAN_BLOCK_GW_OFFLINK \
	(1U << 1) /* gateway4 in none of its subnets */
#define MWAN_WAN_BLOCK_NO_ROUTE (1U << 2) /* its table has no gateway route */
#define MWAN_WAN_BLOCK_GW_FAILED (1U << 3) /* ARP for gateway4 failed */
#define MWAN_WAN_BLOCK_NO_FORWARDING (1U << 4) /* net.ipv4.ip_forward is 0 */
#define MWAN_WAN_BLOCK_RP_STRICT (1U << 5) /* rp_filter 1 on its interface */
#define MWAN_WAN_BLOCK_ALL 0x3fU

/* Health as the probes (or, without probes, the link) see it. */
enum mwan_health {
	MWAN_HEALTH_UP = 0,
	MWAN_HEALTH_DOWN = 1,
};

/* mwan_admin[id]: the operator's override, written by bpfctl. */
enum mwan_admin {
	MWAN_ADMIN_AUTO = 0,
	MWAN_ADMIN_UP = 1,
	MWAN_ADMIN_DOWN = 2,
};

/* mwan_wans[id]: one WAN, written only by the loader. */
struct mwan_wan {
	__u32 ifindex;
	__u32 fwmark; /* skb mark that selects this WAN's routing table */
	__be32 gw4;
	__be32 addr4; /* router's own address on the WAN link */
	__u8 gw_mac[6];
	__u8 if_mac[6];
	__u16 mtu;
	__u8 flags;
	__u8 weight;
	__u8 tier;
	__u8 health; /* enum mwan_health */
	__u8 blocked; /* MWAN_WAN_BLOCK_* bits: why the system cannot route */
	__u8 pad[3];
	__u8 gw6[16]; /* IPv6 next hop; all zero: none */
	__u8 gw6_mac[6];
	__u8 pad6[2];
};

/* mwan_steer[half * MWAN_STEER_MASKS + mask]: where new flows go, for
 * hosts that have a public address on exactly the WANs in `mask` (bit i:
 * WAN i), in the half mwan_cfg.steer_half says is live. Computed in user
 * space (lib/steer.c) whenever weights, tiers, admin or health change, so
 * the datapath pays one lookup and a byte index per new flow.
 */
#define MWAN_STEER_SLOTS 256
#define MWAN_STEER_MASKS (1U << MWAN_MAX_WANS)
#define MWAN_STEER_ENTRIES (2 * MWAN_STEER_MASKS)

struct mwan_steer {
	__u32 members; /* WANs that may carry new flows; 0: none */
	__u8 failopen; /* no WAN usable: all configured ones take flows */
	__u8 pad[3];
	__u8 slot[MWAN_STEER_SLOTS]; /* flow hash & 0xff -> WAN id */
};

/* ---- WAN health, as the loader's probes see it (user space only) ---- */

enum mwan_health_reason {
	MWAN_HR_NONE = 0,
	MWAN_HR_START, /* loader started; no verdict yet */
	MWAN_HR_NO_PROBES, /* no probe targets: health follows the link */
	MWAN_HR_LOST_ROUNDS, /* down_after rounds in a row without quorum */
	MWAN_HR_LOSS, /* loss above the raise threshold */
	MWAN_HR_LATENCY, /* RTT above the raise threshold */
	MWAN_HR_RECOVERED, /* up_after good rounds, below clear thresholds */
	MWAN_HR_HOLD_DOWN, /* recovered, waiting out hold_down_s */
	MWAN_HR_LINK_DOWN, /* interface gone or without carrier */
	MWAN_HR_MAX,
};

struct mwan_probe_stat {
	__u32 rtt_avg_us; /* over the window, answered probes only */
	__u32 jitter_us; /* mean absolute difference of consecutive RTTs */
	__u16 loss_permille; /* over the window */
	__u8 answered_last; /* the last judged round */
	__u8 pad;
	__u32 sent;
	__u32 received;
};

/* mwan_health[id]: written by the loader every round, read by bpfctl. */
struct mwan_health_info {
	__u64 updated_ns; /* CLOCK_MONOTONIC of the last write: loader alive */
	__u64 since_ns; /* CLOCK_MONOTONIC of the last state change */
	__u64 since_realtime_s; /* the same, as wall-clock seconds */
	__u32 reason; /* enum mwan_health_reason of the last change */
	__u8 health; /* enum mwan_health, as written to mwan_wans */
	__u8 holding; /* recovered but inside hold_down_s */
	__u8 n_targets;
	__u8 pad;
	struct mwan_probe_stat target[MWAN_HEALTH_TARGETS];
};

/* mwan_attach[i]: an interface the loader attached programs to, written
 * only by the loader (loader/attach.c) after every attach. A restart with
 * another config and `--cleanup` detach what is recorded here, whatever
 * the config they were given names. ifindex 0: a free slot.
 */
struct mwan_attach {
	__u32 ifindex;
	char name[16]; /* IF_NAMESIZE, for messages */
	__u8 xdp;
	__u8 tc_in;
	__u8 tc_out;
	__u8 pad;
};

/* mwan_names[id]: the WAN's name from the config, for bpfctl. */
struct mwan_name {
	char name[MWAN_NAME_LEN];
};

/* mwan_nat4[internal address]: one static 1:1 mapping. */
struct mwan_nat4 {
	__be32 ext[MWAN_MAX_WANS]; /* public address per WAN; 0: none */
	__u8 mac[6]; /* the host's MAC on its LAN, resolved by the loader */
	__u8 has_mac;
	__u8 lan; /* mwan_cfg.lan[] the host is on */
};

/* mwan_pub4[public address]: the reverse of one mwan_nat4 slot. */
struct mwan_pub4 {
	__be32 internal;
	__u32 wan;
};

/* mwan_local4[address]: the router's own addresses; their traffic is
 * always the kernel's.
 */
struct mwan_local4 {
	__u32 ifindex;
};

/* mwan_bypass4: destinations the kernel routes somewhere other than a WAN
 * (tunnels, other internal networks, a WireGuard mesh): new flows to them
 * are left to the kernel untranslated. Filled from the main routing table.
 */
struct mwan_bypass4_key {
	__u32 prefixlen;
	__be32 addr;
};

struct mwan_bypass4 {
	__u32 ifindex;
};

struct mwan_bypass6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* ---- Filtering at the WANs (the security model in the README) ----
 *
 * mwan_ingress4/6 (LPM, keys as mwan_bypass4/6): sources dropped when
 * they arrive on any WAN. Written only by the loader (the RFC 6890 bogon
 * list unless `ingress_filter.bogons: none`, and drop_sources). LAN
 * prefixes and the router's own public addresses need no entry: the
 * programs check them from mwan_cfg, mwan_pub4, mwan_local4 and mwan_npt.
 */
enum mwan_ingress_kind {
	MWAN_INGRESS_BOGON = 1, /* not on packets for the router itself */
	MWAN_INGRESS_CONFIGURED = 2, /* ingress_filter.drop_sources: always */
};

struct mwan_ingress {
	__u8 kind; /* enum mwan_ingress_kind */
	__u8 pad[3];
};

/* mwan_egress4/6 (LPM): wans.NAME.allow_sources, the sources other than
 * translated ones and the router's own that may leave by a WAN. Written
 * only by the loader.
 */
struct mwan_egress {
	__u32 wans; /* bit i: may leave by WAN i */
};

/* mwan_spoofed[source]: a source that tried to leave a WAN untranslated
 * without allow_sources (BCP 38) or that came in on a WAN and was routed
 * out of one. IPv4 as ::ffff:a.b.c.d. Written only by mwan_tc_out; the
 * loader logs each source (rate-limited).
 */
struct mwan_spoofed {
	__u64 last_ns; /* bpf_ktime_get_ns() of the last drop */
	__u64 packets;
	__u8 dst[16]; /* where the last one was going, same form */
	__u32 wan; /* the WAN it tried to leave by */
	__u32 in_ifindex; /* where it came in (a LAN, a WAN, another link) */
	__u32 reason; /* MWAN_DROP_BCP38_SRC or MWAN_DROP_WAN_TO_WAN */
	__u32 pad;
};

/* ---- NPTv6 (RFC 6296) ---- */

enum mwan_npt_source {
	MWAN_NPT_STATIC = 1, /* wans.X.npt.prefix */
	MWAN_NPT_PD = 2, /* delegated, from `bpfctl pd` / the DHCPv6 hooks */
};

/* mwan_npt[wan id]: the external prefix a WAN translates lan.ipv6 to. A
 * hash map without preallocation, so that replacing an entry swaps it
 * whole under RCU: no packet ever sees half an update.
 */
struct mwan_npt {
	__u8 ext[16]; /* external prefix, length mwan_cfg.lan_plen6, host bits 0 */
	__u8 delegated[16]; /* what ext was derived from: PD or npt.prefix */
	__u8 delegated_len;
	__u8 source; /* enum mwan_npt_source */
	__u16 adj_out; /* RFC 6296 adjustment internal -> external, wire order */
	__u16 adj_in; /* external -> internal */
	__u16 subnet; /* npt.subnet used to derive ext from delegated */
	__u64 valid_until_ns; /* bpf_ktime_get_ns() clock; 0: no expiry */
	__u64 set_ns; /* when this entry was written, same clock */
};

/* mwan_npt_mask[0]: bit i set when WAN i has a valid external prefix; the
 * loader keeps it current (the datapath also checks expiry itself).
 */

/* Key of the IPv6 address-keyed maps (mwan_neigh6, mwan_local6). */
struct in6_addr_raw {
	__u8 a[16];
};

/* mwan_neigh6[address]: MACs of LAN hosts, from the kernel's neighbour
 * table, for the IPv6 fast path towards the LAN.
 */
struct mwan_neigh6 {
	__u8 mac[6];
	__u8 pad[2];
};

/* mwan_frags6: which WAN the later fragments of an outbound IPv6 datagram
 * follow (only the TC path handles IPv6 fragments).
 */
struct mwan_frag6_key {
	__u8 src[16];
	__u8 dst[16];
	__be32 id;
};

struct mwan_frag6 {
	__u32 wan;
};

enum mwan_origin {
	MWAN_ORIGIN_LAN = 0, /* opened by an internal host */
	MWAN_ORIGIN_WAN = 1, /* opened from outside to a public address */
};

/* The flow tables, LRU hashes of mwan_flow_key -> mwan_flow, one per
 * origin so that a flood from outside can only push out flows opened
 * from outside: mwan_flows holds the flows LAN hosts open (flows_max),
 * mwan_flows_in those opened from the Internet to a public address
 * (flows_inbound_max). Written by the programs (and by the loader when a
 * mapping or prefix changes under a flow). A LAN flow carries state no
 * hash can recompute (the WAN it was steered to while others were down);
 * one from outside does not (its public address says its WAN), so losing
 * one of those costs the least.
 */

/* mwan_flowstat[origin] (enum mwan_origin): flows the loader removed
 * (their mapping or prefix changed), written only by the loader; with
 * the programs' flow_new counters and a count of the table it gives the
 * flows the LRU pushed out.
 */
struct mwan_flowstat {
	__u64 removed;
};

/* Flow key, always in the internal side's view: inner is the internal
 * host, remote the far end. ICMP echo uses the identifier as both ports'
 * first half (sport = id, dport = 0).
 */
struct mwan_flow_key {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 proto;
	__be16 sport; /* internal host's port */
	__be16 dport; /* remote port */
	__u16 pad;
	union {
		__be32 inner4;
		__u8 inner6[16];
	};
	union {
		__be32 remote4;
		__u8 remote6[16];
	};
};

struct mwan_flow {
	__u64 created_ns; /* CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns) */
	__u64 seen_ns;
	__u64 pkts_out;
	__u64 bytes_out;
	__u64 pkts_in;
	__u64 bytes_in;
	__be32 ext4; /* public address in use on that WAN */
	__u8 wan;
	__u8 origin; /* enum mwan_origin */
	__u8 moves; /* times re-steered because its WAN became unusable */
	/* IPv4 flows opened from the LAN: the WANs the host has a public
	 * address on (mwan_steer's index) when the flow was steered, so an
	 * established packet needs no mwan_nat4 lookup. The loader rewrites
	 * it when the host's mapping changes.
	 */
	__u8 hostmask;
};

_Static_assert(MWAN_MAX_WANS <= 8, "mwan_flow.hostmask holds one bit per WAN");

/* The loader's one write into a flow: mwan_hostmask, run through
 * BPF_PROG_TEST_RUN with this as its context, sets hostmask of the LAN
 * flow `key` in place (a byte store beside the counters' atomic adds:
 * no packet counted meanwhile is lost, as a rewrite of the whole value
 * would lose it). found: whether the flow was there.
 */
struct mwan_hostmask_req {
	struct mwan_flow_key key;
	__u8 mask;
	__u8 found;
	__u8 pad[6];
};

/* mwan_frags: which WAN the fragments of an outbound datagram use. */
struct mwan_frag_key {
	__be32 src;
	__be32 dst;
	__be16 id;
	__u8 proto;
	__u8 pad;
};

struct mwan_frag {
	__be32 ext4;
	__u32 wan;
};

/* mwan_wanstat[id] (per CPU): traffic mwan translated per WAN. */
struct mwan_wan_counters {
	__u64 pkts_out;
	__u64 bytes_out;
	__u64 pkts_in;
	__u64 bytes_in;
};

#include "mwan_reasons.h"

/* mwan_wandrop[slot * MWAN_DROP_MAX_ + reason] (per CPU): every drop by
 * the interface it happened on: slot = WAN id, MWAN_WANDROP_LAN + i for
 * mwan_cfg.lan[i] (what a LAN sent that may not leave is counted at the
 * LAN it came from), MWAN_WANDROP_OTHER for anything else. Written only
 * by the programs.
 */
#define MWAN_WANDROP_LAN MWAN_MAX_WANS
#define MWAN_WANDROP_OTHER (MWAN_MAX_WANS + MWAN_MAX_LANS)
#define MWAN_WANDROP_SLOTS (MWAN_WANDROP_OTHER + 1)
#define MWAN_WANDROP_ENTRIES (MWAN_WANDROP_SLOTS * MWAN_DROP_MAX_)

/* mwan_unmapped[source]: a LAN address with no mapping on the WAN its
 * traffic was routed to, dropped at that WAN's egress. Written only by
 * mwan_tc_out; the loader logs each source (rate-limited), bpfctl lists
 * them. LRU: the most recent sources stay.
 */
struct mwan_unmapped {
	__u64 last_ns; /* bpf_ktime_get_ns() of the last drop */
	__u64 packets;
	__be32 dst; /* where the last one was going */
	__u32 wan;
};

static inline bool mwan_wan_configured(const struct mwan_wan *w)
{
	return w->flags & MWAN_WAN_CONFIGURED;
}

/* Whether a WAN may carry new flows, before the all-down fail-open rule:
 * the admin override wins, otherwise link, route and health must all be
 * good.
 */
static inline bool mwan_wan_usable(const struct mwan_wan *w, __u32 admin)
{
	if (!mwan_wan_configured(w))
		return false;
	if (admin == MWAN_ADMIN_UP)
		return true;
	if (admin == MWAN_ADMIN_DOWN)
		return false;
	return (w->flags & MWAN_WAN_LINK_UP) && !w->blocked &&
	       w->health == MWAN_HEALTH_UP;
}

/* Deterministic flow hash (no per-boot seed) so a flow gets the same WAN
 * after a restart; user space uses it to predict steering in tests.
 */
static inline __u32 mwan_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

static inline __u32 mwan_flow_hash(const struct mwan_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = 0x6d77616eU; /* "mwan" */
	unsigned int i;

	for (i = 0; i < sizeof(*k) / 4; i++)
		h = mwan_mix32(h ^ w[i]);
	return h;
}

#endif
