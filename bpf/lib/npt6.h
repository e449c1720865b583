/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* NPTv6 (RFC 6296): checksum-neutral prefix rewrites, then per-direction decisions. */
#ifndef MWAN_BPF_NPT6_H
#define MWAN_BPF_NPT6_H

#include "parse6.h"
#include "nat4.h"

#ifndef AF_INET6
#define AF_INET6 10
#endif
#define IP6_SADDR_OFF 8
#define IP6_DADDR_OFF 24
#define IP6_HOP_OFF 7

/* ---- RFC 6296 ---- */

static __always_inline void npt6_adjust(__u16 *w, __u16 adj)
{
	__u32 s = (__u32)*w + adj;
	__u16 r = csum_fold32(s);

	/* 0xFFFF and 0x0000 are the same one's complement value; RFC 6296
	 * (like the kernel's NPT target) writes 0x0000, keeping the all-ones
	 * word that §3.7 reserves out of translated addresses.
	 */
	*w = r == 0xffff ? 0 : r;
}

/* Rewrite a to prefix `to` and fix the adjustment word: word 3 for a
 * prefix of /48 or shorter (§3.4), else the first interface-identifier
 * word that is not 0xFFFF (§3.5). Returns -1 where the RFC says to drop.
 */
static __always_inline int npt6_map(struct addr6 *a, const void *to, __u32 plen,
				    __u16 adj)
{
	const struct addr6 *p = to;
	__u16 *w = (__u16 *)a;
	__u32 m0 = pfx_mask(plen, 0), m1 = pfx_mask(plen, 1);

	if (plen <= 48) {
		if (w[3] == 0xffff)
			return -1;
	} else if (w[4] == 0xffff && w[5] == 0xffff && w[6] == 0xffff &&
		   w[7] == 0xffff) {
		return -1;
	}
	a->w[0] = (a->w[0] & ~m0) | (p->w[0] & m0);
	a->w[1] = (a->w[1] & ~m1) | (p->w[1] & m1);
	if (plen <= 48)
		npt6_adjust(&w[3], adj);
	else if (w[4] != 0xffff)
		npt6_adjust(&w[4], adj);
	else if (w[5] != 0xffff)
		npt6_adjust(&w[5], adj);
	else if (w[6] != 0xffff)
		npt6_adjust(&w[6], adj);
	else
		npt6_adjust(&w[7], adj);
	return 0;
}

/* A WAN's external prefix, if it has one that has not expired. */
static __always_inline const struct mwan_npt *npt_get(__u32 wan)
{
	const struct mwan_npt *e = bpf_map_lookup_elem(&mwan_npt, &wan);

	/* The coarse clock (half the cost per packet) lags by at most a
	 * tick: a prefix may translate a few milliseconds past its end.
	 */
	if (e && e->valid_until_ns &&
	    bpf_ktime_get_coarse_ns() >= e->valid_until_ns)
		return NULL;
	return e;
}

/* Translate the address at `off` (currently `old`). No checksum anywhere
 * changes: that is the point of RFC 6296. Returns 1 for an RFC drop.
 */
static __always_inline int npt6_rewrite(void *ctx, bool xdp, __u32 off,
					const struct addr6 *old, const void *to,
					__u32 plen, __u16 adj)
{
	struct addr6 a = *old;

	if (npt6_map(&a, to, plen, adj))
		return 1;
	return ctx_store(ctx, xdp, off, &a, sizeof(a)) ? -1 : 0;
}

/* ---- flows ---- */

static __always_inline void flow_key_of6(struct mwan_flow_key *k,
					 const struct pkt6 *p,
					 const struct addr6 *inner,
					 bool outbound)
{
	const struct addr6 *remote = outbound ? &p->daddr : &p->saddr;
	__be16 iport = outbound ? p->sport : p->dport;
	__be16 rport = outbound ? p->dport : p->sport;

	if (p->proto == NEXTHDR_ICMPV6) {
		iport = p->sport;
		rport = 0;
	}
	__builtin_memset(k, 0, sizeof(*k));
	k->family = AF_INET6;
	k->proto = p->proto;
	k->sport = iport;
	k->dport = rport;
	__builtin_memcpy(k->inner6, inner, 16);
	__builtin_memcpy(k->remote6, remote, 16);
}

struct decision6 {
	__u32 reason;
	struct steer s;
	const struct mwan_npt *npt;
	struct addr6 internal; /* inbound: the internal address */
};

static __always_inline int npt_for_wan(struct decision6 *d)
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
					     struct decision6 *d)
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

static __always_inline int
parse_quote6(void *ctx, bool xdp, const struct pkt6 *outer, struct pkt6 *in)
{
	__u32 hdr = (outer->l4 - outer->l3) + ICMP_HDR_LEN;

	if (outer->len < hdr ||
	    parse_ipv6(ctx, xdp, outer->l4 + ICMP_HDR_LEN, outer->len - hdr,
		       true, in) ||
	    in->icmp_error)
		return PARSE_BAD;
	return PARSE_OK;
}

/* An internal host's ICMPv6 error about a packet it received leaves by the
 * WAN of the flow it reports on.
 */
static __always_inline int steer6_icmp_error_out(void *ctx, bool xdp,
						 const struct mwan_cfg *cfg,
						 const struct pkt6 *p,
						 struct pkt6 *in,
						 struct decision6 *d)
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
static __always_inline bool established6(const struct mwan_flow_key *k,
					 __u32 mask, struct decision6 *d)
{
	struct mwan_flow *f = flow_lookup(k);

	if (!f || !flow_keeps_wan(f, mask) || steer_by_flow(f, &d->s))
		return false;
	d->npt = npt_get(d->s.wan);
	return d->npt != NULL;
}

/* LAN -> WAN for IPv6: WANs compete only while they hold a prefix. */
static __always_inline int
decide_outbound6(void *ctx, bool xdp, const struct mwan_cfg *cfg,
		 const struct pkt6 *p, struct pkt6 *in, struct decision6 *d)
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
		if (in_lan6(cfg, &p->saddr) && established6(&k, m, d))
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
	err = steer_flow(&k, m, NULL, &d->s);
	/* A prefix can expire before the loader clears its mask bit: steer
	 * again without that WAN rather than drop a flow another WAN could
	 * carry.
	 */
	if (!err && d->s.flow && d->s.flow->origin == MWAN_ORIGIN_LAN &&
	    !npt_get(d->s.wan)) {
		m &= ~(1U << (d->s.wan & 31));
		err = steer_flow(&k, m, NULL, &d->s);
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

/* Inbound to another WAN's external prefix: accepted only on the WAN
 * that owns it (as mwan_pub4 says for IPv4). Global, as wan_ingress4.
 */
__noinline __u32 wan_prefix6_elsewhere(__u32 wan, const struct addr6 *dst,
				       __u32 plen)
{
	__u32 i;

	if (!dst)
		return 0;
	for (i = 0; i < MWAN_MAX_WANS; i++) {
		const struct mwan_npt *e;

		if (i == wan)
			continue;
		e = npt_get(i);
		if (e && in_prefix6(dst, e->ext, plen))
			return MWAN_DROP_WRONG_WAN;
	}
	return 0;
}

/* The ingress filter's verdict on an IPv6 packet that arrived on WAN
 * `wan`: a global function, as wan_ingress4.
 */
__noinline __u32 wan_ingress6(const struct mwan_cfg *cfg, __u32 wan,
			      const struct pkt6 *p)
{
	const struct mwan_npt *own;
	__u32 why;

	/* few live values and one key at a time: this frame sits on top of
	 * the pipeline's, under the 512-byte limit of them all
	 */
	if (!cfg || !p)
		return 0;
	own = npt_get(wan);
	if (own && in_prefix6(&p->saddr, own->ext, cfg->lan_plen6))
		return MWAN_DROP_SPOOFED_OWN_SRC;
	if (own && in_prefix6(&p->daddr, own->ext, cfg->lan_plen6)) {
		why = ingress_check6(cfg, &p->saddr, &p->daddr, false);
		/* as wan_ingress4: an error from a bogon to this prefix */
		return why == MWAN_DROP_BOGON_SRC && p->icmp_error ? 0 : why;
	}
	return ingress_check6(cfg, &p->saddr, &p->daddr, true);
}

/* WAN -> LAN for IPv6: a destination inside the arrival WAN's external
 * prefix goes back to its internal address.
 */
static __always_inline int decide_inbound6(void *ctx, bool xdp,
					   const struct mwan_cfg *cfg,
					   __u32 wan, const struct pkt6 *p,
					   struct pkt6 *in, struct decision6 *d)
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
		d->internal = p->daddr;
		if (!npt6_map(&d->internal, cfg->lan_net6, plen,
			      d->npt->adj_in)) {
			flow_key_of6(&k, p, &d->internal, false);
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
	d->internal = p->daddr;
	if (npt6_map(&d->internal, cfg->lan_net6, plen, d->npt->adj_in)) {
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

/* ---- rewrites ---- */

static __always_inline int rfc_or_fail(int r, __u32 *reason)
{
	if (r > 0)
		*reason = MWAN_DROP_NPT_UNMAPPABLE;
	else if (r < 0)
		*reason = MWAN_DROP_TRUNCATED;
	return r;
}

/* Outbound: the source (and for an error, the quoted destination) into
 * the WAN's external prefix.
 */
static __always_inline int
npt6_snat(void *ctx, bool xdp, const struct mwan_cfg *cfg, const struct pkt6 *p,
	  const struct pkt6 *in, const struct mwan_npt *e, __u32 *reason)
{
	int r = 0;

	if (p->icmp_error && !p->later_frag)
		r = npt6_rewrite(ctx, xdp, in->l3 + IP6_DADDR_OFF, &in->daddr,
				 e->ext, cfg->lan_plen6, e->adj_out);
	if (!r)
		r = npt6_rewrite(ctx, xdp, p->l3 + IP6_SADDR_OFF, &p->saddr,
				 e->ext, cfg->lan_plen6, e->adj_out);
	return rfc_or_fail(r, reason);
}

static __always_inline int
npt6_dnat(void *ctx, bool xdp, const struct mwan_cfg *cfg, const struct pkt6 *p,
	  const struct pkt6 *in, const struct decision6 *d, __u32 *reason)
{
	int r = 0;

	if (p->icmp_error && !p->later_frag)
		r = npt6_rewrite(ctx, xdp, in->l3 + IP6_SADDR_OFF, &in->saddr,
				 cfg->lan_net6, cfg->lan_plen6, d->npt->adj_in);
	if (!r)
		r = ctx_store(ctx, xdp, p->l3 + IP6_DADDR_OFF, &d->internal,
			      16) ?
			    -1 :
			    0;
	return rfc_or_fail(r, reason);
}

#endif
