/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan dataplane: XDP fast path and the TC programs of the kernel slow path. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/classify.h"
#include "lib/parse.h"
#include "lib/decide.h"
#include "lib/xlate.h"
#include "lib/forward.h"
#include "lib/guard.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Which maps/mwan_maps.h this object was built against: the loader
 * refuses an object file whose maps it would misread.
 */
const volatile __u32 mwan_layout = MWAN_LAYOUT_VERSION;

/* Each hook is one pipeline, classify -> parse -> decide -> translate ->
 * forward, written once for both families. The family is a compile-time
 * constant `v6`, as the hook is for ctx.h (`xdp`): the stages pick their
 * family's part (decide.h, xlate.h) with no branch left at run time.
 *
 * A program enters its pipeline through one global function per family
 * (xdp_ipv4, tc_in6, ...). The verifier checks a global function once,
 * with what it knows from the BPF types alone: not once per interface
 * iface_of() can return (a constant on each of its paths), nor with the
 * other family's states. Its frame is its own, under 6.1's 512-byte limit
 * with the ingress filter's global functions on top. `cfg` comes in as
 * memory that may be NULL, so each one checks it first.
 */

/* ---- XDP fast path ---- */

static __always_inline int
xdp_pipeline(struct xdp_md *ctx, const struct mwan_cfg *cfg, __u32 ifc, bool v6)
{
	bool outbound = ifc == IFACE_LAN;
	__u32 len = ctx_len(ctx, true), why;
	struct pkt p, quote = {}, *in;
	struct decision d = {};
	struct xdp_hop hop;
	int v, err;

	err = parse_pkt(ctx, true, sizeof(struct ethhdr), &p, v6);
	v = guard_xdp_in(cfg, err, &p, &d.reason, v6);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	in = quote_room(&quote, true, v6);
	if (!in)
		return xdp_pass(MWAN_EV_PASS_SLOW_PATH);
	v = decide(ctx, true, cfg, ifc, &p, in, &d, v6);
	if (v != V_FWD)
		return xdp_verdict(ctx, v, d.reason);
	/* what XDP cannot finish (TTL, MTU, no neighbour) the kernel does */
	why = xdp_next_hop(cfg, outbound, &p, &d, &hop, v6);
	if (why)
		return xdp_pass(why);
	why = xlate(ctx, true, cfg, outbound, &p, in, &d, v6);
	if (!why)
		why = xdp_l2_rewrite(ctx, &p, &hop, v6);
	if (why)
		return xdp_drop(ctx, why);
	return xdp_send(&d, &hop, outbound, len);
}

__noinline int xdp_ipv4(struct xdp_md *ctx, const struct mwan_cfg *cfg,
			__u32 ifc)
{
	if (!cfg)
		return XDP_PASS;
	return xdp_pipeline(ctx, cfg, ifc, false);
}

__noinline int xdp_ipv6(struct xdp_md *ctx, const struct mwan_cfg *cfg,
			__u32 ifc)
{
	if (!cfg)
		return XDP_PASS;
	return xdp_pipeline(ctx, cfg, ifc, true);
}

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

static __always_inline int tc_in_pipeline(struct __sk_buff *skb,
					  const struct mwan_cfg *cfg, __u32 ifc,
					  __u32 l3, bool v6)
{
	struct pkt p, in = {};
	struct decision d = {};
	__u32 why;
	int v, err;

	err = parse_pkt(skb, false, l3, &p, v6);
	v = guard_tc_in(cfg, ifc, err, &p, &d.reason, v6);
	if (v == V_FWD)
		v = decide(skb, false, cfg, ifc, &p, &in, &d, v6);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	if (ifc == IFACE_LAN)
		return tc_mark(skb, &d.s);
	why = xlate(skb, false, cfg, false, &p, &in, &d, v6);
	if (why)
		return tc_drop(skb, why);
	return tc_dnat_done(skb, ifc, d.s.flow);
}

__noinline int tc_in4(struct __sk_buff *skb, const struct mwan_cfg *cfg,
		      __u32 ifc, __u32 l3)
{
	if (!cfg)
		return TC_ACT_OK;
	return tc_in_pipeline(skb, cfg, ifc, l3, false);
}

__noinline int tc_in6(struct __sk_buff *skb, const struct mwan_cfg *cfg,
		      __u32 ifc, __u32 l3)
{
	if (!cfg)
		return TC_ACT_OK;
	return tc_in_pipeline(skb, cfg, ifc, l3, true);
}

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

/* An internal source at WAN egress: translated, or it does not leave. */
static __always_inline int tc_out_snat(struct __sk_buff *skb,
				       const struct mwan_cfg *cfg, __u32 wan,
				       const struct pkt *p, bool v6)
{
	struct decision d = {};
	struct pkt in = {};
	__u32 why;
	int v;

	v = decide_snat(skb, wan, p, &in, &d, v6);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	why = xlate(skb, false, cfg, true, p, &in, &d, v6);
	if (why)
		return tc_drop(skb, why);
	return tc_snat_done(skb, wan);
}

/* Anything else leaving a WAN: the router's own and what it forwards
 * untranslated. Private and spoofed sources stay in; the router's ICMP
 * errors about inbound packets get their quote's public face.
 */
static __always_inline int tc_out_guard(struct __sk_buff *skb,
					const struct mwan_cfg *cfg, __u32 wan,
					const struct pkt *p, bool v6)
{
	struct decision d = {};
	struct pkt in = {};
	__u32 why;
	int v;

	if (private_leak(pkt_src(p, v6), v6))
		return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
	why = wan_egress(cfg, wan, pkt_src(p, v6), skb->ingress_ifindex, v6);
	if (why)
		return guard_spoofed(skb, wan, why, p, v6);
	v = decide_quote_out(skb, cfg, wan, p, &in, &d, v6);
	if (v != V_FWD)
		return tc_verdict(skb, v, d.reason);
	why = xlate_quote_out(skb, false, cfg, p, &in, &d, v6);
	return why ? tc_drop(skb, why) : TC_ACT_OK;
}

/* Without lan.ipv6 no IPv6 is translated, but no ULA leaves either. */
static __always_inline int tc_out_pipeline(struct __sk_buff *skb,
					   const struct mwan_cfg *cfg,
					   __u32 wan, __u32 l3, bool v6)
{
	struct pkt p;

	if (parse_pkt(skb, false, l3, &p, v6))
		return guard_unparsed_out(skb, cfg, wan, l3, v6);
	if (in_lan46(cfg, pkt_src(&p, v6), v6))
		return tc_out_snat(skb, cfg, wan, &p, v6);
	return tc_out_guard(skb, cfg, wan, &p, v6);
}

SEC("tc")
int mwan_tc_out(struct __sk_buff *skb)
{
	const struct mwan_cfg *cfg = get_cfg();
	enum l2_class c;
	__u32 wan, l3;

	if (!cfg || !cfg->n_lans)
		return TC_ACT_OK;
	wan = iface_of(cfg, skb->ifindex);
	if (wan >= MWAN_MAX_WANS)
		return TC_ACT_OK;
	c = tc_classify(skb, wan, &l3);
	if (c != L2_IPV4 && c != L2_IPV6)
		return TC_ACT_OK;
	if (c == L2_IPV6)
		return tc_out_pipeline(skb, cfg, wan, l3, true);
	return tc_out_pipeline(skb, cfg, wan, l3, false);
}

/* ---- the loader's write into a flow ----
 * Not attached anywhere: the loader runs it (BPF_PROG_TEST_RUN) when a
 * host's set of WANs changed under its flows (loader/flows.c). The
 * programs stay the only writers of the flow values' counters.
 */
SEC("syscall")
int mwan_hostmask(struct mwan_hostmask_req *req)
{
	struct mwan_flow_key k = req->key; /* a map key lives on the stack */
	struct mwan_flow *f = bpf_map_lookup_elem(&mwan_flows, &k);

	req->found = f != NULL;
	if (f)
		f->hostmask = req->mask;
	return 0;
}
