/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Translate stage, IPv6: NPTv6 rewrites of addresses and ICMPv6 quotes. */
#ifndef MWAN_BPF_XLATE6_H
#define MWAN_BPF_XLATE6_H

#include "npt.h"
#include "verdict.h"

/* Translate the address at `off` (currently `old`). No checksum anywhere
 * changes: that is the point of RFC 6296. 0 or a drop reason.
 */
static __always_inline __u32 npt6_rewrite(void *ctx, bool xdp, __u32 off,
					  const struct addr6 *old,
					  const void *to, __u32 plen, __u16 adj)
{
	struct addr6 a = *old;

	if (npt6_map(&a, to, plen, adj))
		return MWAN_DROP_NPT_UNMAPPABLE;
	return stored(ctx_store(ctx, xdp, off, &a, sizeof(a)));
}

/* Outbound: the source (and for an error, the quoted destination) into
 * the WAN's external prefix.
 */
static __always_inline __u32 npt6_snat(void *ctx, bool xdp,
				       const struct mwan_cfg *cfg,
				       const struct pkt6 *p,
				       const struct pkt6 *in,
				       const struct mwan_npt *e)
{
	__u32 why = 0;

	if (p->icmp_error && !p->later_frag)
		why = npt6_rewrite(ctx, xdp, in->l3 + IP6_DADDR_OFF, &in->daddr,
				   e->ext, cfg->lan_plen6, e->adj_out);
	if (!why)
		why = npt6_rewrite(ctx, xdp, p->l3 + IP6_SADDR_OFF, &p->saddr,
				   e->ext, cfg->lan_plen6, e->adj_out);
	return why;
}

/* Inbound: the destination to the internal address the decide stage
 * mapped (and for an error, the quoted source back into the LAN).
 */
static __always_inline __u32 npt6_dnat(void *ctx, bool xdp,
				       const struct mwan_cfg *cfg,
				       const struct pkt6 *p,
				       const struct pkt6 *in,
				       const struct mwan_npt *e,
				       const struct addr6 *internal)
{
	__u32 why = 0;

	if (p->icmp_error && !p->later_frag)
		why = npt6_rewrite(ctx, xdp, in->l3 + IP6_SADDR_OFF, &in->saddr,
				   cfg->lan_net6, cfg->lan_plen6, e->adj_in);
	if (!why)
		why = stored(ctx_store(ctx, xdp, p->l3 + IP6_DADDR_OFF,
				       internal, 16));
	return why;
}

#endif
