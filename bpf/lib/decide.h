/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decide stage: is a packet ours, by which WAN, to which internal host. */
#ifndef MWAN_BPF_DECIDE_H
#define MWAN_BPF_DECIDE_H

#include "classify.h"
#include "decide4.h"
#include "decide6.h"

/* The rules differ by family (IPv4 maps hosts 1:1 through mwan_nat4 and
 * mwan_pub4, IPv6 maps prefixes by RFC 6296), so each family decides in
 * its own header; this is the one interface the pipelines call. `v6` is a
 * compile-time constant: each instance keeps one family's code.
 */

/* A packet from interface `ifc` (IFACE_LAN: outbound, a WAN: inbound).
 * `in`: where an ICMP error's quote is parsed.
 */
static __always_inline int decide(void *ctx, bool xdp,
				  const struct mwan_cfg *cfg, __u32 ifc,
				  const struct pkt *p, struct pkt *in,
				  struct decision *d, bool v6)
{
	if (v6)
		return ifc == IFACE_LAN ? decide_outbound6(ctx, xdp, cfg,
							   &p->v6, &in->v6, d) :
					  decide_inbound6(ctx, xdp, cfg, ifc,
							  &p->v6, &in->v6, d);
	return ifc == IFACE_LAN ?
		       decide_outbound(ctx, xdp, cfg, &p->v4, &in->v4, d) :
		       decide_inbound(ctx, xdp, cfg, ifc, &p->v4, &in->v4, d);
}

/* WAN egress (TC): an internal source leaving by WAN `wan`. */
static __always_inline int decide_snat(struct __sk_buff *skb, __u32 wan,
				       const struct pkt *p, struct pkt *in,
				       struct decision *d, bool v6)
{
	if (v6)
		return decide_snat6(skb, wan, &p->v6, &in->v6, d);
	return decide_snat4(skb, wan, &p->v4, &in->v4, d);
}

/* WAN egress (TC): the router's own ICMP error quoting an internal host. */
static __always_inline int decide_quote_out(struct __sk_buff *skb,
					    const struct mwan_cfg *cfg,
					    __u32 wan, const struct pkt *p,
					    struct pkt *in, struct decision *d,
					    bool v6)
{
	if (v6)
		return decide_quote_out6(skb, cfg, wan, &p->v6, &in->v6, d);
	return decide_quote_out4(skb, cfg, wan, &p->v4, &in->v4, d);
}

#endif
