/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Translate stage: the rewrite a decision calls for, in either family. */
#ifndef MWAN_BPF_XLATE_H
#define MWAN_BPF_XLATE_H

#include "xlate4.h"
#include "xlate6.h"

/* Outbound (to a WAN): the source becomes its public face, IPv4 address
 * d->s.ext or IPv6 prefix d->npt; inbound: the destination becomes
 * d->internal. For an ICMP error, the quote the other way round. 0 or a
 * drop reason (verdict.h).
 */
static __always_inline __u32 xlate(void *ctx, bool xdp,
				   const struct mwan_cfg *cfg, bool outbound,
				   const struct pkt *p, const struct pkt *in,
				   const struct decision *d, bool v6)
{
	if (v6)
		return outbound ? npt6_snat(ctx, xdp, cfg, &p->v6, &in->v6,
					    d->npt) :
				  npt6_dnat(ctx, xdp, cfg, &p->v6, &in->v6,
					    d->npt, &d->internal.v6);
	return outbound ? nat4_snat(ctx, xdp, &p->v4, &in->v4, d->s.ext) :
			  nat4_dnat(ctx, xdp, &p->v4, &in->v4, d->internal.v4);
}

/* The destination of the packet an ICMP error quotes (an internal host)
 * to its public face (decide_quote_out()).
 */
static __always_inline __u32 xlate_quote_out(void *ctx, bool xdp,
					     const struct mwan_cfg *cfg,
					     const struct pkt *p,
					     const struct pkt *in,
					     const struct decision *d, bool v6)
{
	if (v6)
		return npt6_rewrite(ctx, xdp, in->v6.l3 + IP6_DADDR_OFF,
				    &in->v6.daddr, d->npt->ext, cfg->lan_plen6,
				    d->npt->adj_out);
	return nat4_set_quoted_addr(ctx, xdp, &p->v4, &in->v4, false, d->s.ext);
}

#endif
