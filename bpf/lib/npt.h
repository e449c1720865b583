/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* NPTv6 (RFC 6296): the checksum-neutral prefix mapping and the WANs' prefixes. */
#ifndef MWAN_BPF_NPT_H
#define MWAN_BPF_NPT_H

#include "addr.h"

static __always_inline void npt6_adjust(__u16 *w, __u16 adj)
{
	__u32 s = (__u32)*w + adj;
	__u16 r = csum_fold32(s);

	/* 0xFFFF and 0x0000 are the same one's complement value; RFC 6296
	 * (like the kernel's NPT target) writes 0x0000, keeping the all-ones
	 * word that §3.7 reserves out of translated addresses.
	 */
	*w = r == 0xffff ? 0 : r;
}

/* Rewrite a to prefix `to` and fix the adjustment word: word 3 for a
 * prefix of /48 or shorter (§3.4), else the first interface-identifier
 * word that is not 0xFFFF (§3.5). Returns -1 where the RFC says to drop.
 */
static __always_inline int npt6_map(struct addr6 *a, const void *to, __u32 plen,
				    __u16 adj)
{
	const struct addr6 *p = to;
	__u16 *w = (__u16 *)a;
	__u32 m0 = pfx_mask(plen, 0), m1 = pfx_mask(plen, 1);

	if (plen <= 48) {
		if (w[3] == 0xffff)
			return -1;
	} else if (w[4] == 0xffff && w[5] == 0xffff && w[6] == 0xffff &&
		   w[7] == 0xffff) {
		return -1;
	}
	a->w[0] = (a->w[0] & ~m0) | (p->w[0] & m0);
	a->w[1] = (a->w[1] & ~m1) | (p->w[1] & m1);
	if (plen <= 48)
		npt6_adjust(&w[3], adj);
	else if (w[4] != 0xffff)
		npt6_adjust(&w[4], adj);
	else if (w[5] != 0xffff)
		npt6_adjust(&w[5], adj);
	else if (w[6] != 0xffff)
		npt6_adjust(&w[6], adj);
	else
		npt6_adjust(&w[7], adj);
	return 0;
}

/* A WAN's external prefix, if it has one that has not expired. */
static __always_inline const struct mwan_npt *npt_get(__u32 wan)
{
	const struct mwan_npt *e = bpf_map_lookup_elem(&mwan_npt, &wan);

	/* The coarse clock (half the cost per packet) lags by at most a
	 * tick: a prefix may translate a few milliseconds past its end.
	 */
	if (e && e->valid_until_ns &&
	    bpf_ktime_get_coarse_ns() >= e->valid_until_ns)
		return NULL;
	return e;
}

#endif
