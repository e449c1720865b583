/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decide stage, IPv4: 1:1 NAT, per direction. */
#ifndef MWAN_BPF_DECIDE4_H
#define MWAN_BPF_DECIDE4_H

#include "verdict.h"
#include "filter.h"

static __always_inline int steer_later_frag(const struct pkt4 *p,
					    struct decision *d)
{
	struct mwan_frag_key fk = {
		.src = p->saddr,
		.dst = p->daddr,
		.id = p->frag_id,
		.proto = p->proto,
	};
	struct mwan_frag *fr = bpf_map_lookup_elem(&mwan_frags, &fk);
	__u32 wan;

	/* Never guess: an unmatched fragment would leave untranslated or on
	 * a WAN the rest of its datagram did not take. Datagrams the kernel
	 * routes elsewhere never had a first fragment recorded.
	 */
	if (!fr) {
		if (routed_elsewhere(p->daddr)) {
			d->reason = MWAN_EV_PASS_ROUTED;
			return V_PASS;
		}
		d->reason = MWAN_DROP_FRAG_UNMATCHED;
		return V_DROP;
	}
	wan = fr->wan;
	d->s.wan = wan;
	d->s.ext = fr->ext4;
	d->s.flow = NULL;
	d->s.w = bpf_map_lookup_elem(&mwan_wans, &wan);
	if (!d->s.w) {
		d->reason = MWAN_DROP_NO_WAN;
		return V_DROP;
	}
	stat_inc(MWAN_EV_FRAG_OUT);
	return V_FWD;
}

static __always_inline void remember_first_frag(const struct pkt4 *p,
						const struct steer *s)
{
	struct mwan_frag_key fk = {
		.src = p->saddr,
		.dst = p->daddr,
		.id = p->frag_id,
		.proto = p->proto,
	};
	struct mwan_frag fr = { .wan = s->wan, .ext4 = s->ext };

	bpf_map_update_elem(&mwan_frags, &fk, &fr, BPF_ANY);
	stat_inc(MWAN_EV_FRAG_OUT);
}

/* An internal host's ICMP error about a packet it received: it leaves by
 * the WAN of the flow it reports on, and creates no flow of its own.
 */
static __always_inline int steer_icmp_error_out(void *ctx, bool xdp,
						const struct pkt4 *p,
						struct pkt4 *in,
						struct decision *d)
{
	struct mwan_flow_key k;
	struct mwan_flow *f;
	const struct mwan_wan *w;
	__u32 wan;

	if (parse_quote(ctx, xdp, p, in) || in->daddr != p->saddr) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	flow_key_of(&k, in, p->saddr, false);
	f = flow_lookup(&k);
	if (!f) {
		if (routed_elsewhere(in->saddr)) {
			d->reason = MWAN_EV_PASS_ROUTED;
			return V_PASS;
		}
		d->reason = MWAN_DROP_ICMP_NO_FLOW;
		return V_DROP;
	}
	wan = f->wan;
	w = bpf_map_lookup_elem(&mwan_wans, &wan);
	if (!w) {
		d->reason = MWAN_DROP_NO_WAN;
		return V_DROP;
	}
	d->s.wan = wan;
	d->s.ext = f->ext4;
	d->s.flow = NULL;
	d->s.w = w;
	stat_inc(MWAN_EV_ICMP_ERR_OUT);
	return V_FWD;
}

/* A packet of an established flow: the flow says everything the checks
 * for a new one would, as it only exists because they passed (and the
 * loader deletes or updates flows whose mapping changes).
 */
static __always_inline bool established(const struct mwan_cfg *cfg,
					const struct mwan_flow_key *k,
					struct decision *d)
{
	struct mwan_flow *f = flow_lookup(k);

	return f && flow_keeps_wan(cfg, f, f->hostmask) &&
	       !steer_by_flow(f, &d->s);
}

/* LAN -> WAN: is this packet ours, and by which WAN does it leave? */
static __always_inline int decide_outbound(void *ctx, bool xdp,
					   const struct mwan_cfg *cfg,
					   const struct pkt4 *p,
					   struct pkt4 *in, struct decision *d)
{
	struct mwan_flow_key k;
	bool first = !p->later_frag && !p->icmp_error;
	int err;

	if (in_lan4(cfg, p->daddr) || is_special4(p->daddr) ||
	    is_special4(p->saddr)) {
		d->reason = MWAN_EV_PASS_LOCAL;
		return V_PASS;
	}
	if (first) {
		flow_key_of(&k, p, p->saddr, true);
		if (established(cfg, &k, d))
			goto steered;
	}
	if (is_local4(p->daddr)) {
		d->reason = MWAN_EV_PASS_LOCAL;
		return V_PASS;
	}
	d->nat = bpf_map_lookup_elem(&mwan_nat4, &p->saddr);
	if (!d->nat) {
		d->reason = MWAN_EV_PASS_UNMAPPED;
		return V_PASS;
	}
	if (p->later_frag)
		return steer_later_frag(p, d);
	if (p->icmp_error)
		return steer_icmp_error_out(ctx, xdp, p, in, d);
	err = steer_flow(cfg, &k, nat_wan_mask(d->nat), d->nat->ext, &d->s);
	if (err) {
		d->reason = err;
		return MWAN_STAT_IS_DROP(err) ? V_DROP : V_PASS;
	}
steered:
	if (p->frag)
		remember_first_frag(p, &d->s);
	return V_FWD;
}

/* WAN -> LAN: is this packet for one of our public addresses on the WAN it
 * arrived on? Records the flow so replies leave by that WAN.
 */
static __always_inline int decide_inbound(void *ctx, bool xdp,
					  const struct mwan_cfg *cfg, __u32 wan,
					  const struct pkt4 *p, struct pkt4 *in,
					  struct decision *d)
{
	const struct mwan_pub4 *pub =
		bpf_map_lookup_elem(&mwan_pub4, &p->daddr);
	struct mwan_flow_key k;
	__u32 why;

	d->s.wan = wan;
	d->s.ext = p->daddr;
	d->s.flow = NULL;
	/* A flow exists only for sources that passed the checks below. */
	if (pub && pub->wan == wan && !p->later_frag && !p->icmp_error) {
		flow_key_of(&k, p, pub->internal, false);
		d->s.flow = flow_lookup(&k);
		if (d->s.flow)
			goto flow_found;
	}
	why = wan_ingress4(cfg, wan, p->saddr, p->daddr, p->icmp_error);
	if (why) {
		d->reason = why;
		return V_DROP;
	}
	/* What the kernel would reject as martian (bogons: none) meets
	 * the same fate on the fast path: leave it to the kernel.
	 */
	if (is_special4(p->saddr)) {
		d->reason = MWAN_EV_PASS_MARTIAN;
		return V_PASS;
	}
	if (!pub) {
		d->reason = to_router4(p->daddr) ? MWAN_EV_PASS_LOCAL :
						   MWAN_EV_PASS_UNMAPPED;
		return V_PASS;
	}
	if (pub->wan != wan) {
		d->reason = MWAN_DROP_WRONG_WAN;
		return V_DROP;
	}
	d->internal.v4 = pub->internal;
	if (p->later_frag) {
		stat_inc(MWAN_EV_FRAG_IN);
		return V_FWD;
	}
	if (p->icmp_error) {
		/* The quote is what this public address sent out, in a
		 * flow that is alive (RFC 5508: an error no mapping
		 * explains is not translated).
		 */
		if (parse_quote(ctx, xdp, p, in) || in->saddr != p->daddr) {
			d->reason = MWAN_DROP_ICMP_BAD_INNER;
			return V_DROP;
		}
		flow_key_of(&k, in, pub->internal, true);
		if (!flow_lookup(&k)) {
			d->reason = MWAN_DROP_ICMP_NO_FLOW;
			return V_DROP;
		}
		stat_inc(MWAN_EV_ICMP_ERR_IN);
		return V_FWD;
	}
	d->s.flow = flow_create(&k, wan, p->daddr, MWAN_ORIGIN_WAN, 0);
	if (!d->s.flow) {
		d->reason = MWAN_DROP_FLOW_INSERT;
		return V_DROP;
	}
flow_found:
	d->internal.v4 = pub->internal;
	if (p->frag)
		stat_inc(MWAN_EV_FRAG_IN);
	return V_FWD;
}

/* A LAN source without a public address on this WAN: remembered for
 * the loader's log and bpfctl (mwan_unmapped), then dropped.
 */
static __always_inline void note_unmapped(const struct pkt4 *p, __u32 wan)
{
	struct mwan_unmapped *u =
		bpf_map_lookup_elem(&mwan_unmapped, &p->saddr);
	struct mwan_unmapped v = {};

	if (u) {
		u->last_ns = bpf_ktime_get_ns();
		u->packets++;
		u->dst = p->daddr;
		u->wan = wan;
		return;
	}
	v.last_ns = bpf_ktime_get_ns();
	v.packets = 1;
	v.dst = p->daddr;
	v.wan = wan;
	bpf_map_update_elem(&mwan_unmapped, &p->saddr, &v, BPF_ANY);
}

/* WAN egress in TC, IPv4: the public address of an internal source on
 * this WAN, and for its ICMP error, a quote about that same host.
 */
static __always_inline int decide_snat4(struct __sk_buff *skb, __u32 wan,
					const struct pkt4 *p, struct pkt4 *in,
					struct decision *d)
{
	const struct mwan_nat4 *nat =
		bpf_map_lookup_elem(&mwan_nat4, &p->saddr);

	if (!nat || wan >= MWAN_MAX_WANS || !nat->ext[wan]) {
		note_unmapped(p, wan);
		d->reason = MWAN_DROP_INTERNAL_SRC;
		return V_DROP;
	}
	d->s.ext = nat->ext[wan];
	if (p->icmp_error && !p->later_frag &&
	    (parse_quote(skb, false, p, in) || in->daddr != p->saddr)) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	return V_FWD;
}

/* A router-generated ICMP error about an inbound packet quotes the
 * internal address the packet was translated to: the public face it
 * gets back on this WAN (d->s.ext).
 */
static __always_inline int
decide_quote_out4(struct __sk_buff *skb, const struct mwan_cfg *cfg, __u32 wan,
		  const struct pkt4 *p, struct pkt4 *in, struct decision *d)
{
	const struct mwan_nat4 *nat;

	if (!p->icmp_error || p->later_frag || parse_quote(skb, false, p, in))
		return V_PASS;
	if (in_lan4(cfg, in->saddr)) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	if (!in_lan4(cfg, in->daddr))
		return V_PASS;
	nat = bpf_map_lookup_elem(&mwan_nat4, &in->daddr);
	if (!nat || wan >= MWAN_MAX_WANS || !nat->ext[wan]) {
		d->reason = MWAN_DROP_ICMP_BAD_INNER;
		return V_DROP;
	}
	d->s.ext = nat->ext[wan];
	return V_FWD;
}

#endif
