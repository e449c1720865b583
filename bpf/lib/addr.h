/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Address classes: LAN prefixes, the router's own, private and special space. */
#ifndef MWAN_BPF_ADDR_H
#define MWAN_BPF_ADDR_H

#include "maps.h"
#include "parse6.h"

/* An address of either family, as the caller's `v6` says (parse.h). */
union addr46 {
	__be32 v4;
	struct addr6 v6;
};

/* ---- IPv4 ---- */

/* Inside any LAN's ipv4. A free slot has mask4 0 and net4 0xffffffff:
 * (a & 0) is never 0xffffffff, so it matches nothing without a branch
 * of its own.
 */
static __always_inline bool in_lan4(const struct mwan_cfg *cfg, __be32 a)
{
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < MWAN_MAX_LANS; i++)
		if ((a & cfg->lan[i].mask4) == cfg->lan[i].net4)
			return true;
	return false;
}

static __always_inline bool is_local4(__be32 a)
{
	return bpf_map_lookup_elem(&mwan_local4, &a) != NULL;
}

/* RFC 1918: sources that must never leave a WAN untranslated, whichever
 * network behind the router they come from, unless the router owns
 * them (a WAN link in a private subnet behind an ISP's modem).
 */
static __always_inline bool is_private4(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 10 || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8;
}

/* Addresses that are never routed to the Internet: this network,
 * loopback, link-local, multicast and class E/broadcast.
 */
static __always_inline bool is_special4(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 16) == 0xa9fe ||
	       (h >> 28) >= 0xe;
}

/* ---- IPv6 ---- */

/* Never translated: unspecified, loopback, IPv4-mapped/compatible (all
 * in ::/64), link-local, multicast. ND, RA, MLD and DHCPv6 all live here.
 */
static __always_inline bool addr6_special(const struct addr6 *a)
{
	__u32 w0 = bpf_ntohl(a->w[0]);

	return (w0 >> 24) == 0xff || (w0 & 0xffc00000) == 0xfe800000 ||
	       (!a->w[0] && !a->w[1]);
}

/* Network-order mask of the prefix bits that fall in 32-bit word i. */
static __always_inline __u32 pfx_mask(__u32 plen, int i)
{
	int bits = (int)plen - 32 * i;

	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(~0U << (32 - bits));
}

/* Prefixes here are at most /64 (the config allows no longer lan.ipv6). */
static __always_inline bool in_prefix6(const struct addr6 *a, const void *pfx,
				       __u32 plen)
{
	const struct addr6 *p = pfx;
	__u32 m0 = pfx_mask(plen, 0), m1 = pfx_mask(plen, 1);

	return !plen ? false :
		       ((a->w[0] ^ p->w[0]) & m0) == 0 &&
			       ((a->w[1] ^ p->w[1]) & m1) == 0;
}

static __always_inline bool in_lan6(const struct mwan_cfg *cfg,
				    const struct addr6 *a)
{
	return in_prefix6(a, cfg->lan_net6, cfg->lan_plen6);
}

static __always_inline bool is_local6(const struct addr6 *a)
{
	return bpf_map_lookup_elem(&mwan_local6, a) != NULL;
}

/* Unique local addresses (fc00::/7, RFC 4193): IPv6's private sources. */
static __always_inline bool is_ula6(const struct addr6 *a)
{
	return (((const __u8 *)a)[0] & 0xfe) == 0xfc;
}

/* ---- either ---- */

static __always_inline bool in_lan46(const struct mwan_cfg *cfg,
				     const union addr46 *a, bool v6)
{
	return v6 ? in_lan6(cfg, &a->v6) : in_lan4(cfg, a->v4);
}

/* A private source the router does not own: from some network behind it
 * that mwan does not serve, never to leave a WAN untranslated.
 */
static __always_inline bool private_leak(const union addr46 *a, bool v6)
{
	if (v6)
		return is_ula6(&a->v6) && !is_local6(&a->v6);
	return is_private4(a->v4) && !is_local4(a->v4);
}

#endif
