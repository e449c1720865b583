/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Filtering at the WANs: what may come in (ingress) and leave (BCP 38). */
#ifndef MWAN_BPF_FILTER_H
#define MWAN_BPF_FILTER_H

#include "npt.h"

/* ---- ingress: what arrives on a WAN ----
 *
 * Both paths ask these for every packet arriving on a WAN that belongs to
 * no flow (a flow exists only for what passed them). `to_router`: the
 * packet is for the router itself (one of its addresses, a broadcast or a
 * multicast group): the kernel's own sockets judge those, and an ISP may
 * well talk to its customer's router from private space (a modem, a
 * privately numbered hop), so the bogon list does not apply to them. The
 * checks that hold for every packet are the ones a forger needs: a LAN or
 * the router as source, an internal destination.
 */

static __always_inline __u32 ingress_listed(const struct mwan_ingress *f,
					    bool to_router)
{
	if (!f)
		return 0;
	if (f->kind == MWAN_INGRESS_CONFIGURED)
		return MWAN_DROP_FILTERED_SRC;
	return to_router ? 0 : MWAN_DROP_BOGON_SRC;
}

/* 0, or why a packet from src to dst may not come in on WAN `wan`. */
static __always_inline __u32 ingress_check4(const struct mwan_cfg *cfg,
					    __u32 wan, __be32 src, __be32 dst,
					    bool to_router)
{
	struct mwan_bypass4_key k = { .prefixlen = 32, .addr = src };
	const struct mwan_pub4 *own;

	/* internal addresses are reachable only through their public ones */
	if (in_lan4(cfg, dst))
		return MWAN_DROP_INTERNAL_DST;
	if (in_lan4(cfg, src))
		return MWAN_DROP_SPOOFED_LAN_SRC;
	if (is_local4(src))
		return MWAN_DROP_SPOOFED_OWN_SRC;
	/* The ISP routes this WAN's public addresses to us: from outside,
	 * they can only be forged. Another WAN's can come back in honestly
	 * (a LAN host reaching a neighbour's public address out of one WAN
	 * and in by another).
	 */
	own = bpf_map_lookup_elem(&mwan_pub4, &src);
	if (own && own->wan == wan)
		return MWAN_DROP_SPOOFED_OWN_SRC;
	return ingress_listed(bpf_map_lookup_elem(&mwan_ingress4, &k),
			      to_router);
}

static __always_inline bool to_router4(__be32 dst)
{
	return is_special4(dst) || is_local4(dst);
}

/* The filters are global functions: the verifier checks each once, not
 * on every path of every program that reaches them (whose count their
 * branches would multiply).
 */
__noinline __u32 wan_ingress4(const struct mwan_cfg *cfg, __u32 wan, __be32 src,
			      __be32 dst, bool icmp_error)
{
	const struct mwan_pub4 *pub;
	__u32 why;

	if (!cfg)
		return 0;
	why = ingress_check4(cfg, wan, src, dst, to_router4(dst));
	/* An ICMP error from a bogon to this WAN's public address may be
	 * about a live flow (a privately numbered ISP hop: PMTUD,
	 * traceroute); the caller lets no error pass without one.
	 */
	if (why == MWAN_DROP_BOGON_SRC && icmp_error) {
		pub = bpf_map_lookup_elem(&mwan_pub4, &dst);
		if (pub && pub->wan == wan)
			return 0;
	}
	return why;
}

/* The same for IPv6, but for the WAN's own prefix: its caller knows
 * (`may_be_router`: the destination is not in it). src and dst are a
 * global function's arguments, which 6.1's verifier takes as map keys
 * only once they are on the stack: the LPM key's address serves every
 * lookup in turn (copies of their own would not fit the stack).
 */
static __always_inline __u32 ingress_check6(const struct mwan_cfg *cfg,
					    const struct addr6 *src,
					    const struct addr6 *dst,
					    bool may_be_router)
{
	struct mwan_bypass6_key k = { .prefixlen = 128 };
	bool to_router = false;

	if (in_lan6(cfg, dst))
		return MWAN_DROP_INTERNAL_DST;
	if (in_lan6(cfg, src))
		return MWAN_DROP_SPOOFED_LAN_SRC;
	if (may_be_router) {
		__builtin_memcpy(k.addr, dst, 16);
		to_router = addr6_special(dst) ||
			    bpf_map_lookup_elem(&mwan_local6, k.addr);
	}
	__builtin_memcpy(k.addr, src, 16);
	if (bpf_map_lookup_elem(&mwan_local6, k.addr))
		return MWAN_DROP_SPOOFED_OWN_SRC;
	return ingress_listed(bpf_map_lookup_elem(&mwan_ingress6, &k),
			      to_router);
}

/* Inbound to another WAN's external prefix: accepted only on the WAN
 * that owns it (as mwan_pub4 says for IPv4). Global, as wan_ingress4.
 */
__noinline __u32 wan_prefix6_elsewhere(__u32 wan, const struct addr6 *dst,
				       __u32 plen)
{
	__u32 i;

	if (!dst)
		return 0;
	for (i = 0; i < MWAN_MAX_WANS; i++) {
		const struct mwan_npt *e;

		if (i == wan)
			continue;
		e = npt_get(i);
		if (e && in_prefix6(dst, e->ext, plen))
			return MWAN_DROP_WRONG_WAN;
	}
	return 0;
}

/* The ingress filter's verdict on an IPv6 packet that arrived on WAN
 * `wan`: a global function, as wan_ingress4.
 */
__noinline __u32 wan_ingress6(const struct mwan_cfg *cfg, __u32 wan,
			      const struct pkt6 *p)
{
	const struct mwan_npt *own;
	__u32 why;

	/* few live values and one key at a time: this frame sits on top of
	 * the pipeline's, under the 512-byte limit of them all
	 */
	if (!cfg || !p)
		return 0;
	own = npt_get(wan);
	if (own && in_prefix6(&p->saddr, own->ext, cfg->lan_plen6))
		return MWAN_DROP_SPOOFED_OWN_SRC;
	if (own && in_prefix6(&p->daddr, own->ext, cfg->lan_plen6)) {
		why = ingress_check6(cfg, &p->saddr, &p->daddr, false);
		/* as wan_ingress4: an error from a bogon to this prefix */
		return why == MWAN_DROP_BOGON_SRC && p->icmp_error ? 0 : why;
	}
	return ingress_check6(cfg, &p->saddr, &p->daddr, true);
}

/* ---- egress (BCP 38): what leaves by a WAN untranslated ----
 *
 * mwan_tc_out asks these for what it did not translate: the router's own
 * packets pass (and what has no routable source at all: a DHCP client's
 * 0.0.0.0, link-local); a forwarded packet passes only with a source that
 * allow_sources gives this WAN. What came in on a WAN and is leaving by
 * one is transit no edge router carries: a loop for an address of ours
 * that nothing uses, or a forger's reflection.
 */

static __always_inline bool from_wan(const struct mwan_cfg *cfg, __u32 ifindex)
{
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (ifindex && cfg->wan_ifindex[i] == ifindex)
			return true;
	return false;
}

static __always_inline __u32 egress_reason(const struct mwan_cfg *cfg,
					   __u32 wan,
					   const struct mwan_egress *e,
					   __u32 in_ifindex)
{
	if (e && (e->wans & (1U << (wan & 31))))
		return 0;
	return from_wan(cfg, in_ifindex) ? MWAN_DROP_WAN_TO_WAN :
					   MWAN_DROP_BCP38_SRC;
}

__noinline __u32 wan_egress4(const struct mwan_cfg *cfg, __u32 wan, __be32 src,
			     __u32 in_ifindex)
{
	struct mwan_bypass4_key k = { .prefixlen = 32, .addr = src };

	if (!cfg || is_special4(src) || is_local4(src))
		return 0;
	return egress_reason(cfg, wan, bpf_map_lookup_elem(&mwan_egress4, &k),
			     in_ifindex);
}

/* IPv6 only where mwan owns the LAN's IPv6: without lan.ipv6 a LAN may
 * be routed natively, with prefixes mwan does not know.
 */
__noinline __u32 wan_egress6(const struct mwan_cfg *cfg, __u32 wan,
			     const struct addr6 *src, __u32 in_ifindex)
{
	struct mwan_bypass6_key k = { .prefixlen = 128 };

	if (!cfg || !src || !cfg->lan_plen6 || addr6_special(src))
		return 0;
	/* on the stack first: 6.1 takes no other memory as a map key */
	__builtin_memcpy(k.addr, src, 16);
	if (bpf_map_lookup_elem(&mwan_local6, k.addr))
		return 0;
	return egress_reason(cfg, wan, bpf_map_lookup_elem(&mwan_egress6, &k),
			     in_ifindex);
}

#endif
