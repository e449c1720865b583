/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Forward stage: finish a packet on XDP (L2, TTL, redirect) or hand it on in TC. */
#ifndef MWAN_BPF_FORWARD_H
#define MWAN_BPF_FORWARD_H

#include "classify.h"
#include "verdict.h"

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

static __always_inline int xdp_verdict(struct xdp_md *ctx, int v, __u32 reason)
{
	return v == V_PASS ? xdp_pass(reason) : xdp_drop(ctx, reason);
}

/* Where a packet the fast path finishes goes: out of a WAN to its
 * gateway, or into a LAN to the host.
 */
struct xdp_hop {
	const __u8 *dst_mac;
	const __u8 *src_mac;
	__u32 ifindex;
};

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

/* The next hop of a decided packet (*h), or the event under which the
 * kernel gets it instead. Outbound: the WAN's gateway; inbound: the host,
 * IPv4 by its mwan_nat4 entry, IPv6 by mwan_neigh6, on its LAN.
 */
static __always_inline __u32 xdp_next_hop(const struct mwan_cfg *cfg,
					  bool outbound, const struct pkt *p,
					  const struct decision *d,
					  struct xdp_hop *h, bool v6)
{
	__u8 ttl = v6 ? p->v6.hop : p->v4.ttl;
	__u32 len = v6 ? p->v6.len : p->v4.len;
	const struct mwan_neigh6 *nb;
	const struct mwan_nat4 *nat;
	const struct mwan_lan *lan;
	const struct mwan_wan *w;
	__u32 why;

	if (outbound) {
		w = d->s.w;
		h->dst_mac = v6 ? w->gw6_mac : w->gw_mac;
		h->src_mac = w->if_mac;
		h->ifindex = w->ifindex;
		return xdp_can_finish(
			w->flags & MWAN_WAN_XDP_TX, ttl, len, w->mtu,
			w->flags & (v6 ? MWAN_WAN_NEIGH6 : MWAN_WAN_NEIGH4));
	}
	if (v6) {
		nb = bpf_map_lookup_elem(&mwan_neigh6, &d->internal.v6);
		lan = lan_at(cfg, cfg->lan6);
		if (!lan)
			return MWAN_EV_PASS_NO_NEIGH;
		why = xdp_can_finish(lan->xdp_tx, ttl, len, lan->mtu,
				     nb != NULL);
		if (why)
			return why;
		if (!nb)
			return MWAN_EV_PASS_NO_NEIGH;
		h->dst_mac = nb->mac;
	} else {
		nat = bpf_map_lookup_elem(&mwan_nat4, &d->internal.v4);
		lan = nat ? lan_at(cfg, nat->lan) : NULL;
		if (!lan)
			return MWAN_EV_PASS_NO_NEIGH;
		why = xdp_can_finish(lan->xdp_tx, ttl, len, lan->mtu,
				     nat->has_mac);
		if (why)
			return why;
		h->dst_mac = nat->mac;
	}
	h->src_mac = lan->mac;
	h->ifindex = lan->ifindex;
	return 0;
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

static __always_inline int xdp_set_hop6(struct xdp_md *ctx,
					const struct pkt6 *p)
{
	__u8 hop = p->hop - 1;

	return ctx_store(ctx, true, p->l3 + IP6_HOP_OFF, &hop, 1);
}

/* What routing does to a packet it forwards: TTL or hop limit down by
 * one (IPv6 has no header checksum to fix), the next hop's MACs. 0 or a
 * drop reason (verdict.h).
 */
static __always_inline __u32 xdp_l2_rewrite(struct xdp_md *ctx,
					    const struct pkt *p,
					    const struct xdp_hop *h, bool v6)
{
	__u8 macs[12];

	if (v6 ? xdp_set_hop6(ctx, &p->v6) : xdp_dec_ttl(ctx, &p->v4))
		return XLATE_STORE_FAILED;
	__builtin_memcpy(macs, h->dst_mac, 6);
	__builtin_memcpy(macs + 6, h->src_mac, 6);
	return stored(ctx_store(ctx, true, 0, macs, sizeof(macs)));
}

/* Rewritten and ready: account and send, out of a WAN or into the LAN.
 * An interface mwan_tx does not know (yet) gets it from the kernel.
 */
static __always_inline int xdp_send(const struct decision *d,
				    const struct xdp_hop *h, bool outbound,
				    __u32 len)
{
	if (d->s.flow)
		flow_account(d->s.flow, outbound, len);
	if (outbound) {
		wanstat_out(d->s.wan, len);
		stat_inc(MWAN_EV_XDP_FWD_OUT);
	} else {
		wanstat_in(d->s.wan, len);
		stat_inc(MWAN_EV_XDP_FWD_IN);
	}
	return bpf_redirect_map(&mwan_tx, h->ifindex, XDP_PASS);
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

/* WAN egress after SNAT: the kernel sends it. */
static __always_inline int tc_snat_done(struct __sk_buff *skb, __u32 wan)
{
	wanstat_out(wan, skb->len);
	stat_inc(MWAN_EV_TC_SNAT);
	return TC_ACT_OK;
}

#endif
