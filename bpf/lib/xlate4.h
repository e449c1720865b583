/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Translate stage, IPv4: 1:1 NAT rewrites of addresses, checksums and quotes. */
#ifndef MWAN_BPF_XLATE4_H
#define MWAN_BPF_XLATE4_H

#include <stddef.h>

#include "verdict.h"

#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
#define ICMP_CSUM_OFF 2

static __always_inline __u32 addr_off(const struct pkt4 *p, bool src)
{
	return p->l3 + (src ? offsetof(struct iphdr, saddr) :
			      offsetof(struct iphdr, daddr));
}

/* Replace the source or destination address of a packet, keeping the IP
 * header checksum and, where this packet carries it, the TCP/UDP checksum
 * (whose pseudo header covers the address) right.
 */
static __always_inline __u32 nat4_set_addr(void *ctx, bool xdp,
					   const struct pkt4 *p, bool src,
					   __be32 to)
{
	__be32 from = src ? p->saddr : p->daddr;

	if (ctx_store32(ctx, xdp, addr_off(p, src), to) ||
	    ctx_csum_fix32(ctx, xdp, p->l3 + offsetof(struct iphdr, check),
			   from, to, false))
		return XLATE_STORE_FAILED;
	if (p->later_frag)
		return 0;
	if (p->proto == IPPROTO_TCP)
		return stored(ctx_l4_csum_pseudo(ctx, xdp, p->l4 + TCP_CSUM_OFF,
						 from, to, false));
	if (p->proto == IPPROTO_UDP)
		return stored(ctx_l4_csum_pseudo(ctx, xdp, p->l4 + UDP_CSUM_OFF,
						 from, to, true));
	return 0;
}

/* Change a checksum field inside an ICMP error's quote and carry the
 * change into the outer ICMP checksum, which covers the quote.
 */
static __always_inline __u32 nat4_quote_csum(void *ctx, bool xdp,
					     const struct pkt4 *outer,
					     __u32 off, __u32 from, __u32 to,
					     bool udp)
{
	__u16 old, new;

	if (ctx_load16(ctx, xdp, off, &old))
		return XLATE_STORE_FAILED;
	new = udp ? csum_replace32_udp(old, from, to) :
		    csum_replace32(old, from, to);
	if (ctx_store16(ctx, xdp, off, new))
		return XLATE_STORE_FAILED;
	return stored(
		ctx_csum_fix16(ctx, xdp, outer->l4 + ICMP_CSUM_OFF, old, new));
}

/* Replace an address of the packet quoted in an ICMP error: the address,
 * the quoted IP checksum, the quoted L4 checksum where it was quoted, and
 * the outer ICMP checksum for each of them.
 */
static __always_inline __u32 nat4_set_quoted_addr(void *ctx, bool xdp,
						  const struct pkt4 *outer,
						  const struct pkt4 *in,
						  bool src, __be32 to)
{
	__be32 from = src ? in->saddr : in->daddr;

	__u32 why;

	if (ctx_store32(ctx, xdp, addr_off(in, src), to) ||
	    ctx_csum_fix32(ctx, xdp, outer->l4 + ICMP_CSUM_OFF, from, to,
			   false))
		return XLATE_STORE_FAILED;
	why = nat4_quote_csum(ctx, xdp, outer,
			      in->l3 + offsetof(struct iphdr, check), from, to,
			      false);
	if (why)
		return why;
	if (in->later_frag || !in->l4_csum)
		return 0;
	if (in->proto == IPPROTO_TCP)
		return nat4_quote_csum(ctx, xdp, outer, in->l4 + TCP_CSUM_OFF,
				       from, to, false);
	if (in->proto == IPPROTO_UDP)
		return nat4_quote_csum(ctx, xdp, outer, in->l4 + UDP_CSUM_OFF,
				       from, to, true);
	return 0;
}

/* Outbound rewrite: source becomes the public address; for an ICMP error
 * the quoted packet's destination (the same internal host) too.
 */
static __always_inline __u32 nat4_snat(void *ctx, bool xdp,
				       const struct pkt4 *p,
				       const struct pkt4 *in, __be32 ext)
{
	__u32 why = 0;

	if (p->icmp_error)
		why = nat4_set_quoted_addr(ctx, xdp, p, in, false, ext);
	return why ? why : nat4_set_addr(ctx, xdp, p, true, ext);
}

/* Inbound rewrite: destination becomes the internal host; for an ICMP
 * error the quoted packet's source too.
 */
static __always_inline __u32 nat4_dnat(void *ctx, bool xdp,
				       const struct pkt4 *p,
				       const struct pkt4 *in, __be32 internal)
{
	__u32 why = 0;

	if (p->icmp_error)
		why = nat4_set_quoted_addr(ctx, xdp, p, in, true, internal);
	return why ? why : nat4_set_addr(ctx, xdp, p, false, internal);
}

#endif
