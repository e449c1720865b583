/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Steer stage: which WAN a flow takes, by the weighted, tiered choice. */
#ifndef MWAN_BPF_STEER_H
#define MWAN_BPF_STEER_H

#include "flow.h"

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
/* The steering table for `mask` in the half the live config names. */
static __always_inline const struct mwan_steer *
steer_table(const struct mwan_cfg *cfg, __u32 mask)
{
	__u32 key = (cfg->steer_half & 1) * MWAN_STEER_MASKS +
		    (mask & (MWAN_STEER_MASKS - 1));

	return bpf_map_lookup_elem(&mwan_steer, &key);
}

static __always_inline bool flow_keeps_wan(const struct mwan_cfg *cfg,
					   const struct mwan_flow *f,
					   __u32 mask)
{
	const struct mwan_steer *st;

	if (f->origin == MWAN_ORIGIN_WAN)
		return true;
	st = steer_table(cfg, mask);
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
static __always_inline int steer_flow(const struct mwan_cfg *cfg,
				      const struct mwan_flow_key *k, __u32 mask,
				      const __be32 *ext_by_wan, struct steer *s)
{
	const struct mwan_steer *st;
	struct mwan_flow *f = flow_lookup(k);
	__be32 ext = 0;
	__u32 wan;

	if (f && flow_keeps_wan(cfg, f, mask))
		return steer_by_flow(f, s);
	if (!f && flow_routed_elsewhere(k))
		return MWAN_EV_PASS_ROUTED;
	st = steer_table(cfg, mask);
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
