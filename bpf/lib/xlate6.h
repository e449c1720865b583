/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Translate stage, IPv6: NPTv6 rewrites of addresses and ICMPv6 quotes. */
#ifndef MWAN_BPF_XLATE6_H
#define MWAN_BPF_XLATE6_H

#include "decide6.h"

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
