/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-flow WAN steering: the flow table and the weighted, tiered choice. */
#ifndef MWAN_BPF_STEER_H
#define MWAN_BPF_STEER_H

#include "maps.h"
#include "stats.h"
#include "parse.h"

#ifndef AF_INET
#define AF_INET 2
#endif

static __always_inline __u32 nat_wan_mask(const struct mwan_nat4 *nat)
{
	__u32 mask = 0;
	int i;

#pragma clang loop unroll(full)
	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (nat->ext[i])
			mask |= 1U << i;
	return mask;
}

static __always_inline void flow_key4(struct mwan_flow_key *k, __u8 proto,
				      __be32 inner, __be16 iport, __be32 remote,
				      __be16 rport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	k->proto = proto;
	k->sport = iport;
	k->dport = rport;
	k->inner4 = inner;
	k->remote4 = remote;
}

/* Flow times need no precision (bpfctl shows them in tenths of a second)
 * and the coarse clock costs half as much per packet.
 */
static __always_inline void flow_account(struct mwan_flow *f, bool out,
					 __u32 bytes)
{
	f->seen_ns = bpf_ktime_get_coarse_ns();
	if (out) {
		__sync_fetch_and_add(&f->pkts_out, 1);
		__sync_fetch_and_add(&f->bytes_out, bytes);
	} else {
		__sync_fetch_and_add(&f->pkts_in, 1);
		__sync_fetch_and_add(&f->bytes_in, bytes);
	}
}

/* A flow, in whichever table its origin put it: a flow opened from the
 * LAN is found by the first lookup, one opened from outside by the
 * second (maps/mwan_maps.h says why they are apart).
 */
static __always_inline struct mwan_flow *
flow_lookup(const struct mwan_flow_key *k)
{
	struct mwan_flow *f = bpf_map_lookup_elem(&mwan_flows, k);

	return f ? f : bpf_map_lookup_elem(&mwan_flows_in, k);
}

static __always_inline struct mwan_flow *
flow_create(const struct mwan_flow_key *k, __u32 wan, __be32 ext, __u8 origin,
	    __u32 hostmask)
{
	struct mwan_flow f = {};

	f.created_ns = bpf_ktime_get_coarse_ns();
	f.seen_ns = f.created_ns;
	f.wan = wan;
	f.ext4 = ext;
	f.origin = origin;
	f.hostmask = hostmask;
	/* NOEXIST: when two CPUs race on a new flow, the first one wins and
	 * the other adopts its choice.
	 */
	if (origin == MWAN_ORIGIN_WAN) {
		if (!bpf_map_update_elem(&mwan_flows_in, k, &f, BPF_NOEXIST)) {
			stat_inc(MWAN_EV_FLOW_NEW);
			stat_inc(MWAN_EV_FLOW_NEW_IN);
		}
		return bpf_map_lookup_elem(&mwan_flows_in, k);
	}
	if (!bpf_map_update_elem(&mwan_flows, k, &f, BPF_NOEXIST))
		stat_inc(MWAN_EV_FLOW_NEW);
	return bpf_map_lookup_elem(&mwan_flows, k);
}

/* Result of steering one outbound packet. */
struct steer {
	__u32 wan;
	__be32 ext;
	struct mwan_flow *flow; /* NULL for later fragments */
	const struct mwan_wan *w;
};

static __always_inline bool routed_elsewhere(__be32 dst)
{
	struct mwan_bypass4_key k = { .prefixlen = 32, .addr = dst };

	return bpf_map_lookup_elem(&mwan_bypass4, &k) != NULL;
}

static __always_inline bool routed_elsewhere6(const void *dst)
{
	struct mwan_bypass6_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, dst, 16);
	return bpf_map_lookup_elem(&mwan_bypass6, &k) != NULL;
}

static __always_inline bool flow_routed_elsewhere(const struct mwan_flow_key *k)
{
	if (k->family == AF_INET)
		return routed_elsewhere(k->remote4);
	return routed_elsewhere6(k->remote6);
}

/* Whether an existing flow keeps its WAN: flows opened from outside
 * never move (the remote end only knows that WAN's address); ours stay
 * while their WAN may still carry new flows for a host on the WANs in
 * `mask`, and move otherwise.
 */
static __always_inline bool flow_keeps_wan(const struct mwan_flow *f,
					   __u32 mask)
{
	const struct mwan_steer *st;

	if (f->origin == MWAN_ORIGIN_WAN)
		return true;
	st = bpf_map_lookup_elem(&mwan_steer, &mask);
	return st && (st->members & (1U << (f->wan & 31)));
}

/* Steer a packet the way its flow already goes. */
static __always_inline int steer_by_flow(struct mwan_flow *f, struct steer *s)
{
	__u32 wan = f->wan;

	s->w = bpf_map_lookup_elem(&mwan_wans, &wan);
	if (!s->w)
		return MWAN_DROP_NO_WAN;
	s->wan = wan;
	s->ext = f->ext4;
	s->flow = f;
	return 0;
}

/* The WAN for an outbound packet, creating or moving its flow as needed.
 * `mask`: the WANs that can carry this host's traffic (IPv4: where it has
 * a public address; IPv6: which WANs hold a prefix). `ext_by_wan`: the
 * host's IPv4 public addresses, NULL for IPv6. Only a new flow pays for
 * the routing-table check: a flow that exists was steered already.
 * Returns 0, a drop reason, or MWAN_EV_PASS_ROUTED.
 */
static __always_inline int steer_flow(const struct mwan_flow_key *k, __u32 mask,
				      const __be32 *ext_by_wan, struct steer *s)
{
	const struct mwan_steer *st;
	struct mwan_flow *f = flow_lookup(k);
	__be32 ext = 0;
	__u32 wan;

	if (f && flow_keeps_wan(f, mask))
		return steer_by_flow(f, s);
	if (!f && flow_routed_elsewhere(k))
		return MWAN_EV_PASS_ROUTED;
	st = bpf_map_lookup_elem(&mwan_steer, &mask);
	if (!st || !st->members)
		return ext_by_wan ? MWAN_DROP_NO_WAN : MWAN_DROP_NPT_NO_PREFIX;
	wan = st->slot[mwan_flow_hash(k) & (MWAN_STEER_SLOTS - 1)];
	if (wan >= MWAN_MAX_WANS)
		return MWAN_DROP_NO_WAN;
	if (ext_by_wan) {
		ext = ext_by_wan[wan];
		if (!ext)
			return MWAN_DROP_NO_WAN;
	}
	if (f) {
		f->wan = wan;
		f->ext4 = ext;
		f->hostmask = mask;
		f->moves++;
		stat_inc(MWAN_EV_FLOW_MOVED);
	} else {
		f = flow_create(k, wan, ext, MWAN_ORIGIN_LAN, mask);
		if (!f)
			return MWAN_DROP_FLOW_INSERT;
	}
	return steer_by_flow(f, s);
}

#endif
