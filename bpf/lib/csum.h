/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Incremental Internet checksum updates (RFC 1624) on raw wire-order words. */
#ifndef MWAN_BPF_CSUM_H
#define MWAN_BPF_CSUM_H

#include <linux/types.h>

static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* HC' = ~(~HC + ~m + m'), eqn. 3 of RFC 1624. Words are used as they lie
 * in the packet; one's-complement sums do not care about byte order as
 * long as every term has the same one.
 */
static __always_inline __u16 csum_replace16(__u16 csum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~csum;

	s += (__u16)~from;
	s += to;
	return (__u16)~csum_fold32(s);
}

static __always_inline __u16 csum_replace32(__u16 csum, __u32 from, __u32 to)
{
	__u32 s = (__u16)~csum;

	s += (__u16) ~(from & 0xffff);
	s += (__u16) ~(from >> 16);
	s += to & 0xffff;
	s += to >> 16;
	return (__u16)~csum_fold32(s);
}

/* UDP: a zero checksum means "none" and stays zero; a computed zero is
 * sent as 0xffff (RFC 768).
 */
static __always_inline __u16 csum_replace32_udp(__u16 csum, __u32 from,
						__u32 to)
{
	if (!csum)
		return 0;
	csum = csum_replace32(csum, from, to);
	return csum ? csum : 0xffff;
}

#endif
