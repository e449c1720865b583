/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Forward stage: finish a packet on XDP (L2, TTL, redirect) or hand it on in TC. */
#ifndef MWAN_BPF_FORWARD_H
#define MWAN_BPF_FORWARD_H

#include "decide.h"

/* ---- XDP fast path ---- */

static __always_inline int xdp_pass(__u32 stat)
{
	stat_inc(stat);
	return XDP_PASS;
}

static __always_inline int xdp_drop(struct xdp_md *ctx, __u32 reason)
{
	count_drop(ctx->ingress_ifindex, reason);
	return XDP_DROP;
}

static __always_inline int xdp_dec_ttl(struct xdp_md *ctx, const struct pkt4 *p)
{
	__u32 off = p->l3 + offsetof(struct iphdr, ttl);
	__u16 old, new;

	/* TTL shares a 16-bit checksum word with the protocol byte. */
	if (ctx_load16(ctx, true, off, &old))
		return -1;
	new = old;
	((__u8 *)&new)[0]--;
	if (ctx_store16(ctx, true, off, new))
		return -1;
	return ctx_csum_fix16(ctx, true, p->l3 + offsetof(struct iphdr, check),
			      old, new);
}

static __always_inline int xdp_set_macs(struct xdp_md *ctx, const __u8 *dst,
					const __u8 *src)
{
	__u8 macs[12];

	__builtin_memcpy(macs, dst, 6);
	__builtin_memcpy(macs + 6, src, 6);
	return ctx_store(ctx, true, 0, macs, sizeof(macs));
}

/* The checks that decide whether XDP can finish a packet on its own or
 * must leave it to the kernel, which then does TTL, MTU and ARP the
 * standard way (and sends the ICMP errors that go with them).
 */
static __always_inline int xdp_can_finish(bool xdp_tx, __u8 ttl, __u32 len,
					  __u16 mtu, bool have_mac)
{
	if (!xdp_tx)
		return MWAN_EV_PASS_NO_XDP_TX;
	if (ttl <= 1)
		return MWAN_EV_PASS_TTL;
	if (!have_mac)
		return MWAN_EV_PASS_NO_NEIGH;
	if (len > mtu)
		return MWAN_EV_PASS_MTU;
	return 0;
}

/* Rewritten and ready: account and send, out of a WAN or into the LAN. */
static __always_inline int xdp_send_out(const struct steer *s, __u32 len)
{
	if (s->flow)
		flow_account(s->flow, true, len);
	wanstat_out(s->wan, len);
	stat_inc(MWAN_EV_XDP_FWD_OUT);
	/* an interface mwan_tx does not know (yet) gets it from the kernel */
	return bpf_redirect_map(&mwan_tx, s->w->ifindex, XDP_PASS);
}

static __always_inline int xdp_send_in(const struct mwan_lan *lan,
				       const struct steer *s, __u32 len)
{
	if (s->flow)
		flow_account(s->flow, false, len);
	wanstat_in(s->wan, len);
	stat_inc(MWAN_EV_XDP_FWD_IN);
	return bpf_redirect_map(&mwan_tx, lan->ifindex, XDP_PASS);
}

static __always_inline int xdp_verdict(struct xdp_md *ctx, int v, __u32 reason)
{
	return v == V_PASS ? xdp_pass(reason) : xdp_drop(ctx, reason);
}

static __always_inline int xdp_set_hop6(struct xdp_md *ctx,
					const struct pkt6 *p)
{
	__u8 hop = p->hop - 1;

	return ctx_store(ctx, true, p->l3 + IP6_HOP_OFF, &hop, 1);
}

/* ---- TC slow path ---- */

static __always_inline int tc_drop(struct __sk_buff *skb, __u32 reason)
{
	count_drop(skb->ifindex, reason);
	return TC_ACT_SHOT;
}

static __always_inline int tc_verdict(struct __sk_buff *skb, int v,
				      __u32 reason)
{
	return v == V_PASS ? TC_ACT_OK : tc_drop(skb, reason);
}

/* LAN ingress: the kernel routes by the WAN's fwmark; SNAT follows at that
 * WAN's egress.
 */
static __always_inline int tc_mark(struct __sk_buff *skb, const struct steer *s)
{
	skb->mark = s->w->fwmark;
	if (s->flow)
		flow_account(s->flow, true, skb->len);
	stat_inc(MWAN_EV_TC_MARK);
	return TC_ACT_OK;
}

/* WAN ingress after DNAT. With net.ipv4/ipv6 fwmark_reflect the kernel's
 * own ICMP errors about this packet leave by the WAN it came in on.
 */
static __always_inline int tc_dnat_done(struct __sk_buff *skb, __u32 wan,
					struct mwan_flow *flow)
{
	const struct mwan_wan *w = bpf_map_lookup_elem(&mwan_wans, &wan);

	if (w)
		skb->mark = w->fwmark;
	if (flow)
		flow_account(flow, false, skb->len);
	wanstat_in(wan, skb->len);
	stat_inc(MWAN_EV_TC_DNAT);
	return TC_ACT_OK;
}

#endif
