/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Guard stage at WAN egress: nothing internal or forged leaves untranslated. */
#ifndef MWAN_BPF_GUARD_H
#define MWAN_BPF_GUARD_H

#include "xlate4.h"
#include "forward.h"

/* A router-generated ICMP error about an inbound packet quotes the internal
 * address the packet was translated to; give it back its public face.
 */
static __always_inline int tc_guard_quote(struct __sk_buff *skb,
					  const struct mwan_cfg *cfg, __u32 wan,
					  const struct pkt4 *p)
{
	const struct mwan_nat4 *nat;
	struct pkt4 in = {};

	if (parse_quote(skb, false, p, &in))
		return TC_ACT_OK;
	if (in_lan4(cfg, in.saddr))
		return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
	if (!in_lan4(cfg, in.daddr))
		return TC_ACT_OK;
	nat = bpf_map_lookup_elem(&mwan_nat4, &in.daddr);
	if (!nat || wan >= MWAN_MAX_WANS || !nat->ext[wan])
		return tc_drop(skb, MWAN_DROP_ICMP_BAD_INNER);
	if (nat4_set_quoted_addr(skb, false, p, &in, false, nat->ext[wan]))
		return tc_drop(skb, MWAN_DROP_TRUNCATED);
	return TC_ACT_OK;
}

/* A LAN source without a public address on this WAN: remembered for
 * the loader's log and bpfctl (mwan_unmapped), then dropped.
 */
static __always_inline void note_unmapped(const struct pkt4 *p, __u32 wan)
{
	struct mwan_unmapped *u =
		bpf_map_lookup_elem(&mwan_unmapped, &p->saddr);
	struct mwan_unmapped v = {};

	if (u) {
		u->last_ns = bpf_ktime_get_ns();
		u->packets++;
		u->dst = p->daddr;
		u->wan = wan;
		return;
	}
	v.last_ns = bpf_ktime_get_ns();
	v.packets = 1;
	v.dst = p->daddr;
	v.wan = wan;
	bpf_map_update_elem(&mwan_unmapped, &p->saddr, &v, BPF_ANY);
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

/* What leaves a WAN untranslated with a private source the router does
 * not own came from some network behind it that mwan does not serve.
 */
static __always_inline bool private_leak4(__be32 src)
{
	return is_private4(src) && !is_local4(src);
}

#endif
