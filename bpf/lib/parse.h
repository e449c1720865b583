/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parse stage: one packet view for both families, filled by parse_pkt(). */
#ifndef MWAN_BPF_PARSE_H
#define MWAN_BPF_PARSE_H

#include "addr.h"

/* One packet, or the packet an ICMP error quotes, as the stages see it:
 * the view of its family. Which one is never stored: like ctx.h's `xdp`,
 * every stage takes the family as a compile-time constant `v6`, so each
 * program's per-family subprogram keeps only its own code (and its
 * verifier states stay apart from the other family's).
 */
struct pkt {
	union {
		struct pkt4 v4;
		struct pkt6 v6;
	};
};

/* Parse the IP header at l3, bounded by the frame (XDP) or skb (TC). */
static __always_inline int parse_pkt(void *ctx, bool xdp, __u32 l3,
				     struct pkt *p, bool v6)
{
	__u32 len = ctx_len(ctx, xdp);

	if (len < l3)
		return PARSE_BAD;
	if (v6)
		return parse_ipv6(ctx, xdp, l3, len - l3, false, &p->v6);
	return parse_ipv4(ctx, xdp, l3, len - l3, false, &p->v4);
}

/* The source address of a parsed packet. */
static __always_inline const union addr46 *pkt_src(const struct pkt *p, bool v6)
{
	if (v6)
		return (const union addr46 *)&p->v6.saddr;
	return (const union addr46 *)&p->v4.saddr;
}

/* Where the quote of an ICMP error is parsed: `stack`, except on the
 * IPv6 fast path, where it is mwan_scratch (the frames of mwan_xdp, its
 * IPv6 pipeline and count_drop must fit 512 bytes on 6.1), cleared for
 * each packet. NULL: no room, which the caller leaves to the slow path.
 */
static __always_inline struct pkt *quote_room(struct pkt *stack, bool xdp,
					      bool v6)
{
	__u32 zero = 0;
	struct pkt *in;

	if (!xdp || !v6)
		return stack;
	in = bpf_map_lookup_elem(&mwan_scratch, &zero);
	_Static_assert(sizeof(in->v6) <= sizeof(struct mwan_scratch),
		       "mwan_scratch");
	if (in)
		__builtin_memset(&in->v6, 0, sizeof(in->v6));
	return in;
}

#endif
