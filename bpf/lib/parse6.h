/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parse stage, IPv6: extension headers, fragments, L4 ports, the quote. */
#ifndef MWAN_BPF_PARSE6_H
#define MWAN_BPF_PARSE6_H

#include <stddef.h>
#include <linux/ipv6.h>

#include "parse4.h"

#ifndef AF_INET6
#define AF_INET6 10
#endif
#define IP6_SADDR_OFF 8
#define IP6_DADDR_OFF 24
#define IP6_HOP_OFF 7

#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60
#define NEXTHDR_ICMPV6 58

#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define IP6_MAX_EXT_HDRS 4
#define IP6_OFFSET_MASK 0xfff8
#define IP6_MF 0x0001

struct addr6 {
	__u32 w[4];
};

struct pkt6 {
	__u32 l3;
	__u32 l4;
	__u32 len; /* header + payload */
	struct addr6 saddr;
	struct addr6 daddr;
	__be16 sport; /* ICMPv6 echo: identifier */
	__be16 dport;
	__be32 frag_id;
	__u8 proto; /* upper-layer protocol after any extension headers */
	__u8 hop;
	bool ext_hdr; /* extension headers before L4 */
	bool frag;
	bool later_frag;
	bool has_ports;
	bool icmp_error;
};

static __always_inline bool ip6_is_ext(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING ||
	       nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_AUTH ||
	       nh == NEXTHDR_DEST;
}

/* Beyond the reach of XDP's bounded offsets: not malformed, just not ours. */
static __always_inline bool ctx_too_deep(bool xdp, __u32 off, __u32 len)
{
	return xdp && off + len > CTX_OFF_MASK;
}

/* Walk up to IP6_MAX_EXT_HDRS extension headers. A longer chain, or one
 * deeper than XDP can reach, is PARSE_DEFER: the kernel handles it.
 */
static __always_inline int parse6_ext(void *ctx, bool xdp, struct pkt6 *p,
				      __u32 end)
{
	__u8 nh = p->proto;
	__u32 off = p->l4;
	int i;

#pragma clang loop unroll(full)
	for (i = 0; i < IP6_MAX_EXT_HDRS; i++) {
		__u8 hdr[8];

		if (!ip6_is_ext(nh))
			break;
		p->ext_hdr = true;
		if (off + 8 > end)
			return PARSE_BAD;
		if (ctx_too_deep(xdp, off, 8))
			return PARSE_DEFER;
		if (ctx_load(ctx, xdp, off, hdr, sizeof(hdr)))
			return PARSE_BAD;
		if (nh == NEXTHDR_FRAGMENT) {
			__u16 fo = bpf_ntohs(*(__be16 *)&hdr[2]);

			p->frag = true;
			p->later_frag = fo & IP6_OFFSET_MASK;
			p->frag_id = *(__be32 *)&hdr[4];
			nh = hdr[0];
			off += 8;
		} else if (nh == NEXTHDR_AUTH) {
			nh = hdr[0];
			off += (hdr[1] + 2) * 4;
		} else {
			nh = hdr[0];
			off += (hdr[1] + 1) * 8;
		}
		if (p->later_frag)
			break;
	}
	if (ip6_is_ext(nh) && !p->later_frag)
		return PARSE_DEFER;
	p->proto = nh;
	p->l4 = off;
	return PARSE_OK;
}

static __always_inline bool icmp6_is_error(__u8 type)
{
	return type < 128;
}

static __always_inline int parse6_l4(void *ctx, bool xdp, struct pkt6 *p,
				     __u32 end, bool embedded)
{
	p->has_ports = false;
	p->icmp_error = false;
	p->sport = 0;
	p->dport = 0;
	if (p->later_frag)
		return PARSE_OK;
	if (ctx_too_deep(xdp, p->l4, 20))
		return PARSE_DEFER;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		__be16 ports[2];

		if (p->l4 + 4 > end ||
		    ctx_load(ctx, xdp, p->l4, ports, sizeof(ports)))
			return PARSE_BAD;
		p->sport = ports[0];
		p->dport = ports[1];
		p->has_ports = true;
		/* Like IPv4: a first fragment must carry the whole L4
		 * header we key on.
		 */
		if (!embedded &&
		    p->l4 + (p->proto == IPPROTO_TCP ? 20 : 8) > end)
			return PARSE_BAD;
	} else if (p->proto == NEXTHDR_ICMPV6) {
		struct icmp_echo_hdr ic;

		if (p->l4 + sizeof(ic) > end ||
		    ctx_load(ctx, xdp, p->l4, &ic, sizeof(ic)))
			return PARSE_BAD;
		p->icmp_error = icmp6_is_error(ic.type);
		if (ic.type == ICMPV6_ECHO_REQUEST ||
		    ic.type == ICMPV6_ECHO_REPLY) {
			p->sport = ic.id;
			p->has_ports = true;
		}
	}
	return PARSE_OK;
}

/* Parse the IPv6 header at l3. `avail` bounds the packet: the frame for
 * an outer header, the quoted bytes for an embedded one.
 */
static __always_inline int parse_ipv6(void *ctx, bool xdp, __u32 l3,
				      __u32 avail, bool embedded,
				      struct pkt6 *p)
{
	/* The first 8 bytes of the header here, the addresses straight into
	 * p: no copy of the whole header on the stack, which every frame
	 * that parses would carry.
	 */
	__u8 h[8]; /* version.., payload length, next header, hop limit */
	__u32 end;

	_Static_assert(offsetof(struct pkt6, daddr) ==
			       offsetof(struct pkt6, saddr) + 16,
		       "saddr and daddr are loaded in one go");
	if (avail < sizeof(struct ipv6hdr) || ctx_load(ctx, xdp, l3, h, 8) ||
	    ctx_load(ctx, xdp, l3 + 8, &p->saddr, 32))
		return PARSE_BAD;
	if (h[0] >> 4 != 6)
		return PARSE_BAD;
	p->len = sizeof(struct ipv6hdr) + (h[4] << 8 | h[5]);
	if (!embedded && p->len > avail)
		return PARSE_BAD;
	end = l3 + (embedded ? avail : p->len);
	p->l3 = l3;
	p->l4 = l3 + sizeof(struct ipv6hdr);
	p->proto = h[6];
	p->hop = h[7];
	p->ext_hdr = false;
	p->frag = false;
	p->later_frag = false;
	p->frag_id = 0;
	int err = parse6_ext(ctx, xdp, p, end);

	if (err)
		return err;
	return parse6_l4(ctx, xdp, p, end, embedded);
}

/* Parse the packet an ICMPv6 error quotes. */
static __always_inline int
parse_quote6(void *ctx, bool xdp, const struct pkt6 *outer, struct pkt6 *in)
{
	__u32 hdr = (outer->l4 - outer->l3) + ICMP_HDR_LEN;

	if (outer->len < hdr ||
	    parse_ipv6(ctx, xdp, outer->l4 + ICMP_HDR_LEN, outer->len - hdr,
		       true, in) ||
	    in->icmp_error)
		return PARSE_BAD;
	return PARSE_OK;
}

#endif
