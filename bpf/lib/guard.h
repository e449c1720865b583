/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guard stage: what is not translated, kept to the kernel or to the filters. */
#ifndef MWAN_BPF_GUARD_H
#define MWAN_BPF_GUARD_H

#include "filter.h"
#include "forward.h"

/* ---- ingress: what the pipeline takes on ---- */

/* The fast path translates plain packets only; what it leaves to the
 * kernel (IPv4 options, IPv6 extension headers, IPv6 without lan.ipv6)
 * the slow path gets. A verdict, V_FWD: on to the decide stage.
 */
static __always_inline int guard_xdp_in(const struct mwan_cfg *cfg, int err,
					const struct pkt *p, __u32 *reason,
					bool v6)
{
	/* Without lan.ipv6 no IPv6 is ours, whatever it looks like. */
	if (v6 && !cfg->lan_plen6) {
		*reason = MWAN_EV_PASS_UNMAPPED;
		return V_PASS;
	}
	if (v6 && err == PARSE_DEFER) {
		*reason = MWAN_EV_PASS_EXT_HDR;
		return V_PASS;
	}
	if (err) {
		*reason = MWAN_DROP_TRUNCATED;
		return V_DROP;
	}
	if (v6 ? p->v6.ext_hdr : p->v4.ihl != 5) {
		*reason = v6 ? MWAN_EV_PASS_EXT_HDR : MWAN_EV_PASS_IP_OPTIONS;
		return V_PASS;
	}
	return V_FWD;
}

/* The slow path translates what it parses. Untranslated IPv6 (no
 * lan.ipv6, headers too deep to parse) still meets the ingress filter's
 * address checks on a WAN: the fast path left it to this program.
 */
static __always_inline int guard_tc_in(const struct mwan_cfg *cfg, __u32 ifc,
				       int err, struct pkt *p, __u32 *reason,
				       bool v6)
{
	if (!v6 || (!err && cfg->lan_plen6)) {
		*reason = MWAN_DROP_TRUNCATED;
		return err ? V_DROP : V_FWD;
	}
	if (err == PARSE_DEFER || !err) {
		*reason = 0;
		if (ifc < MWAN_MAX_WANS) {
			p->v6.icmp_error = false;
			*reason = wan_ingress6(cfg, ifc, &p->v6);
			if (!*reason && cfg->lan_plen6)
				*reason = wan_prefix6_elsewhere(
					ifc, &p->v6.daddr, cfg->lan_plen6);
		}
		return *reason ? V_DROP : V_PASS;
	}
	*reason = MWAN_DROP_TRUNCATED;
	return cfg->lan_plen6 ? V_DROP : V_PASS;
}

/* ---- WAN egress: nothing internal or forged leaves untranslated ---- */

static __always_inline __u32 wan_egress(const struct mwan_cfg *cfg, __u32 wan,
					const union addr46 *src,
					__u32 in_ifindex, bool v6)
{
	if (v6)
		return wan_egress6(cfg, wan, &src->v6, in_ifindex);
	return wan_egress4(cfg, wan, src->v4, in_ifindex);
}

/* What TC cannot parse but is plainly internal, private or not this
 * WAN's to send: still never let it out.
 */
static __always_inline int guard_unparsed_out(struct __sk_buff *skb,
					      const struct mwan_cfg *cfg,
					      __u32 wan, __u32 l3, bool v6)
{
	union addr46 src;
	__u32 why;

	if (bpf_skb_load_bytes(skb,
			       l3 + (v6 ? IP6_SADDR_OFF :
					  offsetof(struct iphdr, saddr)),
			       &src, v6 ? 16 : 4))
		return TC_ACT_OK;
	if (in_lan46(cfg, &src, v6))
		return tc_drop(skb, MWAN_DROP_INTERNAL_SRC);
	if (private_leak(&src, v6))
		return tc_drop(skb, MWAN_DROP_PRIVATE_SRC);
	why = wan_egress(cfg, wan, &src, skb->ingress_ifindex, v6);
	return why ? tc_drop(skb, why) : TC_ACT_OK;
}

/* A source that may not leave (BCP 38, or transit between WANs): kept
 * for the loader's log (mwan_spoofed), counted where it came in (its
 * LAN, or the WAN it arrived on), dropped. IPv4 as ::ffff:a.b.c.d.
 */
static __always_inline int tc_spoofed(struct __sk_buff *skb, __u32 wan,
				      __u32 reason, const void *src,
				      const void *dst, __u32 alen)
{
	struct in6_addr_raw key = {};
	struct mwan_spoofed v = {}, *u;
	__u8 *to;

	if (alen == 4) {
		key.a[10] = 0xff;
		key.a[11] = 0xff;
		__builtin_memcpy(&key.a[12], src, 4);
	} else {
		__builtin_memcpy(key.a, src, 16);
	}
	/* a source seen before is updated in place: a flood of them costs
	 * no map update per packet
	 */
	u = bpf_map_lookup_elem(&mwan_spoofed, &key);
	if (!u) {
		bpf_map_update_elem(&mwan_spoofed, &key, &v, BPF_NOEXIST);
		u = bpf_map_lookup_elem(&mwan_spoofed, &key);
	}
	if (u) {
		to = u->dst;
		if (alen == 4) {
			__builtin_memset(to, 0, 10);
			to[10] = 0xff;
			to[11] = 0xff;
			__builtin_memcpy(to + 12, dst, 4);
		} else {
			__builtin_memcpy(to, dst, 16);
		}
		u->last_ns = bpf_ktime_get_ns();
		u->packets++;
		u->wan = wan;
		u->in_ifindex = skb->ingress_ifindex;
		u->reason = reason;
	}
	count_drop(skb->ingress_ifindex, reason);
	return TC_ACT_SHOT;
}

/* tc_spoofed() for a parsed packet. */
static __always_inline int guard_spoofed(struct __sk_buff *skb, __u32 wan,
					 __u32 reason, const struct pkt *p,
					 bool v6)
{
	if (v6)
		return tc_spoofed(skb, wan, reason, &p->v6.saddr, &p->v6.daddr,
				  16);
	return tc_spoofed(skb, wan, reason, &p->v4.saddr, &p->v4.daddr, 4);
}

#endif
