/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decide stage, IPv6: NPTv6, per direction. */
#ifndef MWAN_BPF_DECIDE6_H
#define MWAN_BPF_DECIDE6_H

#include "verdict.h"
#include "filter.h"

static __always_inline int npt_for_wan(struct decision *d)
{
	d->npt = npt_get(d->s.wan);
	if (!d->npt) {
		/* Fail closed: without a prefix nothing internal leaves. */
		d->reason = MWAN_DROP_NPT_NO_PREFIX;
		return V_DROP;
	}
	return V_FWD;
}

static __always_inline int steer6_later_frag(const struct pkt6 *p,
					     struct decision *d)
{
	struct mwan_frag6_key fk = { .id = p->frag_id };
	struct mwan_frag6 *fr;

	__builtin_memcpy(fk.src, &p->saddr, 16);
	__builtin_memcpy(fk.dst, &p->daddr, 16);
	fr = bpf_map_lookup_elem(&mwan_frags6, &fk);
	if (!fr) {
		d->reason = routed_elsewhere6(&p->daddr) ?
				    MWAN_EV_PASS_ROUTED :
				    MWAN_DROP_FRAG_UNMATCHED;
		return MWAN_STAT_IS_DROP(d->reason) ? V_DROP : V_PASS;
	}
	d->s.wan = fr->wan;
	d->s.flow = NULL;
	d->s.w = bpf_map_lookup_elem(&mwan_wans, &d->s.wan);
	if (!d->s.w) {
		d->reason = MWAN_DROP_NO_WAN;
		return V_DROP;
	}
	stat_inc(MWAN_EV_FRAG_OUT);
	return npt_for_wan(d);
}

static __always_inline void remember_first_frag6(const struct pkt6 *p,
						 __u32 wan)
{
	struct mwan_frag6_key fk = { .id = p->frag_id };
	struct mwan_frag6 fr = { .wan = wan };

	__builtin_memcpy(fk.src, &p->saddr, 16);
	__builtin_memcpy(fk.dst, &p->daddr, 16);
	bpf_map_update_elem(&mwan_frags6, &fk, &fr, BPF_ANY);
	stat_inc(MWAN_EV_FRAG_OUT);
}

/* An internal host's ICMPv6 error about a packet it received leaves by the
 * WAN of the flow it reports on.
 */
static __always_inline int
steer6_icmp_error_out(void *ctx, bool xdp, const struct mwan_cfg *cfg,
		      const struct pkt6 *p, struct pkt6 *in, struct decision *d)
{
	struct mwan_flow_key k;
	struct mwan_flow *f;

	if (parse_quote6(ctx, xdp, p, in) || !in_lan6(cfg, &in->daddr) ||
	    __builtin_memcmp(&in->daddr, &p->saddr, 16)) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	flow_key_of6(&k, in, &p->saddr, false);
	f = flow_lookup(&k);
	if (!f) {
		d->reason = routed_elsewhere6(&in->saddr) ?
				    MWAN_EV_PASS_ROUTED :
				    MWAN_DROP_ICMP_NO_FLOW;
		return MWAN_STAT_IS_DROP(d->reason) ? V_DROP : V_PASS;
	}
	d->s.wan = f->wan;
	d->s.flow = NULL;
	d->s.w = bpf_map_lookup_elem(&mwan_wans, &d->s.wan);
	if (!d->s.w) {
		d->reason = MWAN_DROP_NO_WAN;
		return V_DROP;
	}
	stat_inc(MWAN_EV_ICMP_ERR_OUT);
	return npt_for_wan(d);
}

/* An established IPv6 flow: its WAN still takes new flows and still has a
 * prefix; anything else goes the way of a new flow.
 */
static __always_inline bool established6(const struct mwan_cfg *cfg,
					 const struct mwan_flow_key *k,
					 __u32 mask, struct decision *d)
{
	struct mwan_flow *f = flow_lookup(k);

	if (!f || !flow_keeps_wan(cfg, f, mask) || steer_by_flow(f, &d->s))
		return false;
	d->npt = npt_get(d->s.wan);
	return d->npt != NULL;
}

/* LAN -> WAN for IPv6: WANs compete only while they hold a prefix. */
static __always_inline int decide_outbound6(void *ctx, bool xdp,
					    const struct mwan_cfg *cfg,
					    const struct pkt6 *p,
					    struct pkt6 *in, struct decision *d)
{
	bool first = !p->later_frag && !p->icmp_error;
	struct mwan_flow_key k;
	__u32 zero = 0, *mask, m;
	int err;

	if (addr6_special(&p->daddr) || addr6_special(&p->saddr) ||
	    in_lan6(cfg, &p->daddr)) {
		d->reason = MWAN_EV_PASS_LOCAL;
		return V_PASS;
	}
	mask = bpf_map_lookup_elem(&mwan_npt_mask, &zero);
	m = mask ? *mask : 0;
	if (first) {
		flow_key_of6(&k, p, &p->saddr, true);
		/* a flow exists only for what passed the checks below */
		if (in_lan6(cfg, &p->saddr) && established6(cfg, &k, m, d))
			goto steered;
	}
	if (is_local6(&p->daddr)) {
		d->reason = MWAN_EV_PASS_LOCAL;
		return V_PASS;
	}
	if (!in_lan6(cfg, &p->saddr)) {
		d->reason = MWAN_EV_PASS_UNMAPPED;
		return V_PASS;
	}
	if (p->later_frag)
		return steer6_later_frag(p, d);
	if (p->icmp_error)
		return steer6_icmp_error_out(ctx, xdp, cfg, p, in, d);
	err = steer_flow(cfg, &k, m, NULL, &d->s);
	/* A prefix can expire before the loader clears its mask bit: steer
	 * again without that WAN rather than drop a flow another WAN could
	 * carry.
	 */
	if (!err && d->s.flow && d->s.flow->origin == MWAN_ORIGIN_LAN &&
	    !npt_get(d->s.wan)) {
		m &= ~(1U << (d->s.wan & 31));
		err = steer_flow(cfg, &k, m, NULL, &d->s);
	}
	if (err) {
		d->reason = err;
		return MWAN_STAT_IS_DROP(err) ? V_DROP : V_PASS;
	}
	if (npt_for_wan(d) == V_DROP)
		return V_DROP;
steered:
	if (p->frag)
		remember_first_frag6(p, d->s.wan);
	return V_FWD;
}

/* Whether the packet an ICMPv6 error quotes (one that left by the WAN
 * with external prefix e) belongs to a live flow.
 */
static __always_inline bool live_flow6(const struct mwan_cfg *cfg,
				       const struct pkt6 *in,
				       const struct mwan_npt *e)
{
	struct mwan_flow_key k;
	struct addr6 inner = in->saddr;

	if (npt6_map(&inner, cfg->lan_net6, cfg->lan_plen6, e->adj_in))
		return false;
	flow_key_of6(&k, in, &inner, true);
	return flow_lookup(&k) != NULL;
}

/* WAN -> LAN for IPv6: a destination inside the arrival WAN's external
 * prefix goes back to its internal address.
 */
static __always_inline int decide_inbound6(void *ctx, bool xdp,
					   const struct mwan_cfg *cfg,
					   __u32 wan, const struct pkt6 *p,
					   struct pkt6 *in, struct decision *d)
{
	__u32 plen = cfg->lan_plen6, why;
	struct mwan_flow_key k;

	/* the kernel's: ND, RA, MLD, DHCPv6, multicast; it drops martians */
	if (addr6_special(&p->daddr) || addr6_special(&p->saddr)) {
		d->reason = MWAN_EV_PASS_LOCAL;
		return V_PASS;
	}
	if (in_lan6(cfg, &p->saddr)) {
		d->reason = MWAN_DROP_SPOOFED_LAN_SRC;
		return V_DROP;
	}
	d->npt = npt_get(wan);
	d->s.wan = wan;
	d->s.flow = NULL;
	/* A flow exists only for sources that passed the checks below. */
	if (d->npt && in_prefix6(&p->daddr, d->npt->ext, plen) &&
	    !p->later_frag && !p->icmp_error) {
		d->internal.v6 = p->daddr;
		if (!npt6_map(&d->internal.v6, cfg->lan_net6, plen,
			      d->npt->adj_in)) {
			flow_key_of6(&k, p, &d->internal.v6, false);
			d->s.flow = flow_lookup(&k);
			if (d->s.flow)
				goto flow_found;
		}
	}
	why = wan_ingress6(cfg, wan, p);
	if (why) {
		d->reason = why;
		return V_DROP;
	}
	if (!d->npt || !in_prefix6(&p->daddr, d->npt->ext, plen)) {
		d->reason = wan_prefix6_elsewhere(wan, &p->daddr, plen);
		if (d->reason)
			return V_DROP;
		d->reason = is_local6(&p->daddr) ? MWAN_EV_PASS_LOCAL :
						   MWAN_EV_PASS_UNMAPPED;
		return V_PASS;
	}
	d->internal.v6 = p->daddr;
	if (npt6_map(&d->internal.v6, cfg->lan_net6, plen, d->npt->adj_in)) {
		d->reason = MWAN_DROP_NPT_UNMAPPABLE;
		return V_DROP;
	}
	if (p->later_frag) {
		stat_inc(MWAN_EV_FRAG_IN);
		return V_FWD;
	}
	if (p->icmp_error) {
		/* The quote is what we sent, in a live flow (as IPv4). */
		if (parse_quote6(ctx, xdp, p, in) ||
		    !in_prefix6(&in->saddr, d->npt->ext, plen)) {
			d->reason = MWAN_DROP_ICMP_BAD_INNER;
			return V_DROP;
		}
		if (!live_flow6(cfg, in, d->npt)) {
			d->reason = MWAN_DROP_ICMP_NO_FLOW;
			return V_DROP;
		}
		stat_inc(MWAN_EV_ICMP_ERR_IN);
		return V_FWD;
	}
	d->s.flow = flow_create(&k, wan, 0, MWAN_ORIGIN_WAN, 0);
	if (!d->s.flow) {
		d->reason = MWAN_DROP_FLOW_INSERT;
		return V_DROP;
	}
flow_found:
	if (p->frag)
		stat_inc(MWAN_EV_FRAG_IN);
	return V_FWD;
}

/* WAN egress in TC, IPv6: the prefix an internal source takes on this
 * WAN (none: it may not leave), and for its ICMPv6 error, a quote about
 * that same host.
 */
static __always_inline int decide_snat6(struct __sk_buff *skb, __u32 wan,
					const struct pkt6 *p, struct pkt6 *in,
					struct decision *d)
{
	d->npt = npt_get(wan);
	if (!d->npt) {
		d->reason = MWAN_DROP_INTERNAL_SRC;
		return V_DROP;
	}
	if (p->icmp_error && !p->later_frag &&
	    (parse_quote6(skb, false, p, in) ||
	     __builtin_memcmp(&in->daddr, &p->saddr, 16))) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	return V_FWD;
}

/* As decide_quote_out4: the WAN's prefix (d->npt) for the internal
 * address a router-generated ICMPv6 error quotes.
 */
static __always_inline int
decide_quote_out6(struct __sk_buff *skb, const struct mwan_cfg *cfg, __u32 wan,
		  const struct pkt6 *p, struct pkt6 *in, struct decision *d)
{
	if (!p->icmp_error || p->later_frag || parse_quote6(skb, false, p, in))
		return V_PASS;
	if (in_lan6(cfg, &in->saddr)) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	if (!in_lan6(cfg, &in->daddr))
		return V_PASS;
	d->npt = npt_get(wan);
	if (!d->npt) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	return V_FWD;
}

#endif
