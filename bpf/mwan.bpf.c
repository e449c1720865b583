/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan dataplane: XDP fast path and the TC programs of the kernel slow path. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/classify.h"
#include "lib/decide4.h"
#include "lib/decide6.h"
#include "lib/xlate4.h"
#include "lib/xlate6.h"
#include "lib/forward.h"
#include "lib/guard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Which maps/mwan_maps.h this object was built against: the loader
 * refuses an object file whose maps it would misread.
 */
const volatile __u32 mwan_layout = MWAN_LAYOUT_VERSION;

/* ---- XDP fast path ---- */

static __always_inline int xdp_outbound(struct xdp_md *ctx,
					const struct mwan_cfg *cfg,
					const struct pkt4 *p)
{
	struct decision d = {};
	struct pkt4 in = {};
	const struct mwan_wan *w;
	__u32 len = ctx_len(ctx, true);
	int v, why;

	v = decide_outbound(ctx, true, cfg, p, &in, &d);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	w = d.s.w;
	why = xdp_can_finish(w->flags & MWAN_WAN_XDP_TX, p->ttl, p->len, w->mtu,
			     w->flags & MWAN_WAN_NEIGH4);
	if (why)
		return xdp_pass(why);
	if (nat4_snat(ctx, true, p, &in, d.s.ext) || xdp_dec_ttl(ctx, p) ||
	    xdp_set_macs(ctx, w->gw_mac, w->if_mac))
		return xdp_drop(ctx, MWAN_DROP_TRUNCATED);
	return xdp_send_out(&d.s, len);
}

static __always_inline int xdp_inbound(struct xdp_md *ctx,
				       const struct mwan_cfg *cfg, __u32 wan,
				       const struct pkt4 *p)
{
	struct decision d = {};
	struct pkt4 in = {};
	const struct mwan_nat4 *nat;
	const struct mwan_lan *lan;
	__u32 len = ctx_len(ctx, true);
	int v, why;

	v = decide_inbound(ctx, true, cfg, wan, p, &in, &d);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	nat = bpf_map_lookup_elem(&mwan_nat4, &d.internal);
	lan = nat ? lan_at(cfg, nat->lan) : NULL;
	if (!lan)
		return xdp_pass(MWAN_EV_PASS_NO_NEIGH);
	why = xdp_can_finish(lan->xdp_tx, p->ttl, p->len, lan->mtu,
			     nat->has_mac);
	if (why)
		return xdp_pass(why);
	if (nat4_dnat(ctx, true, p, &in, d.internal) || xdp_dec_ttl(ctx, p) ||
	    xdp_set_macs(ctx, nat->mac, lan->mac))
		return xdp_drop(ctx, MWAN_DROP_TRUNCATED);
	return xdp_send_in(lan, &d.s, len);
}

/* Where the IPv6 fast path parses an ICMP error's quote: mwan_scratch,
 * not the stack (the frames of main -> xdp_ipv6 -> xdp_outbound6 ->
 * count_drop must fit 512 bytes on 6.1), cleared for each packet.
 */
static __always_inline struct pkt6 *quote6_scratch(void)
{
	__u32 zero = 0;
	struct pkt6 *in = bpf_map_lookup_elem(&mwan_scratch, &zero);

	_Static_assert(sizeof(*in) <= sizeof(struct mwan_scratch),
		       "mwan_scratch");
	if (in)
		__builtin_memset(in, 0, sizeof(*in));
	return in;
}

static __noinline int xdp_outbound6(struct xdp_md *ctx,
				    const struct mwan_cfg *cfg,
				    const struct pkt6 *p)
{
	struct pkt6 *in = quote6_scratch();
	struct decision6 d = {};
	const struct mwan_wan *w;
	__u32 len = ctx_len(ctx, true);
	int v, why;

	if (!in)
		return xdp_pass(MWAN_EV_PASS_SLOW_PATH);
	v = decide_outbound6(ctx, true, cfg, p, in, &d);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	w = d.s.w;
	why = xdp_can_finish(w->flags & MWAN_WAN_XDP_TX, p->hop, p->len, w->mtu,
			     w->flags & MWAN_WAN_NEIGH6);
	if (why)
		return xdp_pass(why);
	if (npt6_snat(ctx, true, cfg, p, in, d.npt, &d.reason) ||
	    xdp_set_hop6(ctx, p) || xdp_set_macs(ctx, w->gw6_mac, w->if_mac))
		return xdp_drop(ctx, d.reason ? d.reason : MWAN_DROP_TRUNCATED);
	return xdp_send_out(&d.s, len);
}

static __noinline int xdp_inbound6(struct xdp_md *ctx,
				   const struct mwan_cfg *cfg, __u32 wan,
				   const struct pkt6 *p)
{
	struct pkt6 *in = quote6_scratch();
	struct decision6 d = {};
	const struct mwan_neigh6 *nb;
	const struct mwan_lan *lan;
	__u32 len = ctx_len(ctx, true);
	int v, why;

	if (!in)
		return xdp_pass(MWAN_EV_PASS_SLOW_PATH);
	v = decide_inbound6(ctx, true, cfg, wan, p, in, &d);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	nb = bpf_map_lookup_elem(&mwan_neigh6, &d.internal);
	lan = lan_at(cfg, cfg->lan6);
	if (!lan)
		return xdp_pass(MWAN_EV_PASS_NO_NEIGH);
	why = xdp_can_finish(lan->xdp_tx, p->hop, p->len, lan->mtu, nb != NULL);
	if (why)
		return xdp_pass(why);
	if (!nb)
		return xdp_pass(MWAN_EV_PASS_NO_NEIGH);
	if (npt6_dnat(ctx, true, cfg, p, in, &d, &d.reason) ||
	    xdp_set_hop6(ctx, p) || xdp_set_macs(ctx, nb->mac, lan->mac))
		return xdp_drop(ctx, d.reason ? d.reason : MWAN_DROP_TRUNCATED);
	return xdp_send_in(lan, &d.s, len);
}

__noinline int xdp_ipv6(struct xdp_md *ctx, const struct mwan_cfg *cfg,
			__u32 ifc)
{
	struct pkt6 p;
	int err;

	if (!cfg)
		return XDP_PASS;
	/* Without lan.ipv6 no IPv6 is ours, whatever it looks like. */
	if (!cfg->lan_plen6)
		return xdp_pass(MWAN_EV_PASS_UNMAPPED);
	err = parse_ipv6(ctx, true, sizeof(struct ethhdr),
			 ctx_len(ctx, true) - sizeof(struct ethhdr), false, &p);
	if (err == PARSE_DEFER)
		return xdp_pass(MWAN_EV_PASS_EXT_HDR);
	if (err)
		return xdp_drop(ctx, MWAN_DROP_TRUNCATED);
	if (p.ext_hdr)
		return xdp_pass(MWAN_EV_PASS_EXT_HDR);
	if (ifc == IFACE_LAN)
		return xdp_outbound6(ctx, cfg, &p);
	return xdp_inbound6(ctx, cfg, ifc, &p);
}

__noinline int xdp_ipv4(struct xdp_md *ctx, const struct mwan_cfg *cfg,
			__u32 ifc)
{
	struct pkt4 p;

	if (!cfg)
		return XDP_PASS;
	if (parse_ipv4(ctx, true, sizeof(struct ethhdr),
		       ctx_len(ctx, true) - sizeof(struct ethhdr), false, &p))
		return xdp_drop(ctx, MWAN_DROP_TRUNCATED);
	if (p.ihl != 5)
		return xdp_pass(MWAN_EV_PASS_IP_OPTIONS);
	if (ifc == IFACE_LAN)
		return xdp_outbound(ctx, cfg, &p);
	return xdp_inbound(ctx, cfg, ifc, &p);
}

/* One global function per family: the verifier checks each once, with
 * what it knows from the BPF types alone, not once per interface
 * iface_of() can return (a constant on each of its paths) nor with the
 * other family's states. Each keeps its own stack frame, and the ingress
 * filter's global functions fit under both. `cfg` comes in as memory
 * that may be NULL, so each checks it first.
 */
SEC("xdp")
int mwan_xdp(struct xdp_md *ctx)
{
	const struct mwan_cfg *cfg = get_cfg();
	enum l2_class c;
	__u32 ifc;

	if (!cfg || !cfg->ready)
		return xdp_pass(MWAN_EV_PASS_NOT_READY);
	c = parse_l2(ctx, true);
	if (c != L2_IPV4 && c != L2_IPV6)
		return xdp_pass(l2_pass(c));
	ifc = iface_of(cfg, ctx->ingress_ifindex);
	if (ifc == IFACE_NONE)
		return XDP_PASS;
	if (!cfg->fast_path)
		return xdp_pass(MWAN_EV_PASS_SLOW_PATH);
	if (c == L2_IPV6)
		return xdp_ipv6(ctx, cfg, ifc);
	return xdp_ipv4(ctx, cfg, ifc);
}

/* ---- TC slow path ----
 * mwan_tc_in runs at ingress of the LAN and every WAN: on the LAN it only
 * steers (sets the WAN's fwmark, the kernel routes and SNAT happens at
 * egress); on a WAN it does the DNAT. mwan_tc_out runs at WAN egress: SNAT,
 * and the guard that no internal source ever leaves.
 */

static __always_inline int tc_parse(struct __sk_buff *skb, __u32 l3,
				    struct pkt4 *p)
{
	if (skb->len < l3)
		return PARSE_BAD;
	return parse_ipv4(skb, false, l3, skb->len - l3, false, p);
}

static __always_inline int tc_outbound(struct __sk_buff *skb,
				       const struct mwan_cfg *cfg,
				       const struct pkt4 *p)
{
	struct decision d = {};
	struct pkt4 in = {};
	int v;

	v = decide_outbound(skb, false, cfg, p, &in, &d);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	return tc_mark(skb, &d.s);
}

static __always_inline int tc_inbound(struct __sk_buff *skb,
				      const struct mwan_cfg *cfg, __u32 wan,
				      const struct pkt4 *p)
{
	struct decision d = {};
	struct pkt4 in = {};
	int v;

	v = decide_inbound(skb, false, cfg, wan, p, &in, &d);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	if (nat4_dnat(skb, false, p, &in, d.internal))
		return tc_drop(skb, MWAN_DROP_TRUNCATED);
	return tc_dnat_done(skb, wan, d.s.flow);
}

static __always_inline int tc_parse6(struct __sk_buff *skb, __u32 l3,
				     struct pkt6 *p)
{
	if (skb->len < l3)
		return PARSE_BAD;
	return parse_ipv6(skb, false, l3, skb->len - l3, false, p);
}

static __noinline int tc_outbound6(struct __sk_buff *skb,
				   const struct mwan_cfg *cfg,
				   const struct pkt6 *p)
{
	struct decision6 d = {};
	struct pkt6 in = {};
	int v;

	v = decide_outbound6(skb, false, cfg, p, &in, &d);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	return tc_mark(skb, &d.s);
}

static __noinline int tc_inbound6(struct __sk_buff *skb,
				  const struct mwan_cfg *cfg, __u32 wan,
				  const struct pkt6 *p)
{
	struct decision6 d = {};
	struct pkt6 in = {};
	int v;

	v = decide_inbound6(skb, false, cfg, wan, p, &in, &d);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	if (npt6_dnat(skb, false, cfg, p, &in, &d, &d.reason))
		return tc_drop(skb, d.reason);
	return tc_dnat_done(skb, wan, d.s.flow);
}

__noinline int tc_in6(struct __sk_buff *skb, const struct mwan_cfg *cfg,
		      __u32 ifc, __u32 l3)
{
	struct pkt6 p;
	__u32 why;
	int err;

	if (!cfg)
		return TC_ACT_OK;
	err = tc_parse6(skb, l3, &p);
	/* What is not translated (no lan.ipv6, headers too deep to parse)
	 * still meets the ingress filter's address checks on a WAN: the
	 * fast path left it to this program.
	 */
	if (err == PARSE_DEFER || (!err && !cfg->lan_plen6)) {
		why = 0;
		if (ifc < MWAN_MAX_WANS) {
			p.icmp_error = false;
			why = wan_ingress6(cfg, ifc, &p);
			if (!why && cfg->lan_plen6)
				why = wan_prefix6_elsewhere(ifc, &p.daddr,
							    cfg->lan_plen6);
		}
		return why ? tc_drop(skb, why) : TC_ACT_OK;
	}
	if (err)
		return cfg->lan_plen6 ? tc_drop(skb, MWAN_DROP_TRUNCATED) :
					TC_ACT_OK;
	if (ifc == IFACE_LAN)
		return tc_outbound6(skb, cfg, &p);
	return tc_inbound6(skb, cfg, ifc, &p);
}

__noinline int tc_in4(struct __sk_buff *skb, const struct mwan_cfg *cfg,
		      __u32 ifc, __u32 l3)
{
	struct pkt4 p;

	if (!cfg)
		return TC_ACT_OK;
	if (tc_parse(skb, l3, &p))
		return tc_drop(skb, MWAN_DROP_TRUNCATED);
	if (ifc == IFACE_LAN)
		return tc_outbound(skb, cfg, &p);
	return tc_inbound(skb, cfg, ifc, &p);
}

/* One subprogram per family, as mwan_xdp. */
SEC("tc")
int mwan_tc_in(struct __sk_buff *skb)
{
	const struct mwan_cfg *cfg = get_cfg();
	enum l2_class c;
	__u32 ifc, l3;

	if (!cfg || !cfg->ready)
		return TC_ACT_OK;
	ifc = iface_of(cfg, skb->ifindex);
	if (ifc == IFACE_NONE)
		return TC_ACT_OK;
	c = tc_classify(skb, ifc, &l3);
	if (c != L2_IPV4 && c != L2_IPV6)
		return TC_ACT_OK;
	if (c == L2_IPV6)
		return tc_in6(skb, cfg, ifc, l3);
	return tc_in4(skb, cfg, ifc, l3);
}

static __always_inline int tc_snat(struct __sk_buff *skb,
				   const struct mwan_cfg *cfg, __u32 wan,
				   const struct pkt4 *p)
{
	const struct mwan_nat4 *nat =
		bpf_map_lookup_elem(&mwan_nat4, &p->saddr);
	struct pkt4 in = {};
	__be32 ext;

	if (!nat || wan >= MWAN_MAX_WANS || !nat->ext[wan]) {
		note_unmapped(p, wan);
		return tc_drop(skb, MWAN_DROP_INTERNAL_SRC);
	}
	ext = nat->ext[wan];
	if (p->icmp_error && !p->later_frag &&
	    (parse_quote(skb, false, p, &in) || in.daddr != p->saddr))
		return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
	if (nat4_snat(skb, false, p, &in, ext))
		return tc_drop(skb, MWAN_DROP_TRUNCATED);
	wanstat_out(wan, skb->len);
	stat_inc(MWAN_EV_TC_SNAT);
	return TC_ACT_OK;
}

/* IPv6 at WAN egress: translate what the slow path sends with an internal
 * source, or drop it when the WAN has no prefix; give router-generated
 * errors about inbound packets their external quote.
 */
static __always_inline int
tc_out6(struct __sk_buff *skb, const struct mwan_cfg *cfg, __u32 wan, __u32 l3)
{
	const struct mwan_npt *e = npt_get(wan);
	struct pkt6 p, in = {};
	__u32 reason = 0;

	if (tc_parse6(skb, l3, &p)) {
		struct addr6 src;

		if (bpf_skb_load_bytes(skb, l3 + 8, &src, 16))
			return TC_ACT_OK;
		if (in_lan6(cfg, &src))
			return tc_drop(skb, MWAN_DROP_INTERNAL_SRC);
		if (is_ula6(&src) && !is_local6(&src))
			return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
		reason = wan_egress6(cfg, wan, &src, skb->ingress_ifindex);
		if (reason)
			return tc_drop(skb, reason);
		return TC_ACT_OK;
	}
	if (in_lan6(cfg, &p.saddr)) {
		if (!e)
			return tc_drop(skb, MWAN_DROP_INTERNAL_SRC);
		if (p.icmp_error && !p.later_frag &&
		    (parse_quote6(skb, false, &p, &in) ||
		     __builtin_memcmp(&in.daddr, &p.saddr, 16)))
			return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
		if (npt6_snat(skb, false, cfg, &p, &in, e, &reason))
			return tc_drop(skb, reason);
		wanstat_out(wan, skb->len);
		stat_inc(MWAN_EV_TC_SNAT);
		return TC_ACT_OK;
	}
	if (is_ula6(&p.saddr) && !is_local6(&p.saddr))
		return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
	reason = wan_egress6(cfg, wan, &p.saddr, skb->ingress_ifindex);
	if (reason)
		return tc_spoofed(skb, wan, reason, &p.saddr, &p.daddr, 16);
	if (!p.icmp_error || p.later_frag || parse_quote6(skb, false, &p, &in))
		return TC_ACT_OK;
	if (in_lan6(cfg, &in.saddr))
		return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
	if (!in_lan6(cfg, &in.daddr))
		return TC_ACT_OK;
	if (!e)
		return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
	if (rfc_or_fail(npt6_rewrite(skb, false, in.l3 + IP6_DADDR_OFF,
				     &in.daddr, e->ext, cfg->lan_plen6,
				     e->adj_out),
			&reason))
		return tc_drop(skb, reason);
	return TC_ACT_OK;
}

SEC("tc")
int mwan_tc_out(struct __sk_buff *skb)
{
	const struct mwan_cfg *cfg = get_cfg();
	enum l2_class c;
	struct pkt4 p;
	__u32 wan, l3, reason;

	if (!cfg || !cfg->n_lans)
		return TC_ACT_OK;
	wan = iface_of(cfg, skb->ifindex);
	if (wan >= MWAN_MAX_WANS)
		return TC_ACT_OK;
	c = tc_classify(skb, wan, &l3);
	if (c != L2_IPV4 && c != L2_IPV6)
		return TC_ACT_OK;
	/* without lan.ipv6 nothing is translated, but no ULA leaves */
	if (c == L2_IPV6)
		return tc_out6(skb, cfg, wan, l3);
	if (tc_parse(skb, l3, &p)) {
		/* Unparseable but plainly internal: still never let it out. */
		__be32 src;

		if (bpf_skb_load_bytes(skb, l3 + 12, &src, 4))
			return TC_ACT_OK;
		if (in_lan4(cfg, src))
			return tc_drop(skb, MWAN_DROP_INTERNAL_SRC);
		if (private_leak4(src))
			return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
		reason = wan_egress4(cfg, wan, src, skb->ingress_ifindex);
		if (reason)
			return tc_drop(skb, reason);
		return TC_ACT_OK;
	}
	if (in_lan4(cfg, p.saddr))
		return tc_snat(skb, cfg, wan, &p);
	if (private_leak4(p.saddr))
		return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
	reason = wan_egress4(cfg, wan, p.saddr, skb->ingress_ifindex);
	if (reason)
		return tc_spoofed(skb, wan, reason, &p.saddr, &p.daddr, 4);
	if (p.icmp_error && !p.later_frag)
		return tc_guard_quote(skb, cfg, wan, &p);
	return TC_ACT_OK;
}
