/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parse stage, IPv4: the header, L4 ports and an ICMP error's quote. */
#ifndef MWAN_BPF_PARSE4_H
#define MWAN_BPF_PARSE4_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "ctx.h"

/* linux/icmp.h drags in libc socket headers, so the few ICMP bits we need
 * are spelled out here.
 */
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_TIMESTAMP 13
#define ICMP_TIMESTAMPREPLY 14

struct icmp_echo_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 seq;
};

#define ICMP_HDR_LEN 8

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* Everything the NAT needs to know about one IPv4 packet (or about the
 * packet embedded in an ICMP error).
 */
struct pkt4 {
	__u32 l3; /* offset of the IPv4 header */
	__u32 l4; /* offset of the L4 header */
	__u32 len; /* IPv4 total length */
	__be32 saddr;
	__be32 daddr;
	__be16 sport; /* ICMP echo: identifier */
	__be16 dport;
	__be16 frag_id;
	__u8 proto;
	__u8 ttl;
	__u8 ihl;
	bool frag; /* part of a fragmented datagram */
	bool later_frag; /* non-zero offset: carries no L4 header */
	bool has_ports; /* sport/dport (or echo id) are meaningful */
	bool icmp_error;
	bool l4_csum; /* the L4 checksum lies inside the data we have */
	__u8 icmp_type;
};

enum parse_result {
	PARSE_OK = 0,
	PARSE_BAD = -1, /* malformed or truncated */
	PARSE_DEFER = -2, /* well-formed as far as we looked, but deeper than
			   * we parse: the kernel's to handle
			   */
};

static __always_inline bool icmp_type_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_REDIRECT;
}

static __always_inline bool icmp_type_is_echo(__u8 type)
{
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY ||
	       type == ICMP_TIMESTAMP || type == ICMP_TIMESTAMPREPLY;
}

/* L4 part. `avail` is how many bytes of L4 data exist: for an embedded
 * packet only a prefix was quoted, so missing checksums are normal there
 * while missing ports are not.
 */
static __always_inline int parse_l4(void *ctx, bool xdp, struct pkt4 *p,
				    __u32 avail)
{
	p->has_ports = false;
	p->l4_csum = false;
	p->sport = 0;
	p->dport = 0;
	if (p->later_frag)
		return PARSE_OK;

	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		__be16 ports[2];

		if (ctx_load(ctx, xdp, p->l4, ports, sizeof(ports)))
			return PARSE_BAD;
		p->sport = ports[0];
		p->dport = ports[1];
		p->has_ports = true;
		p->l4_csum = p->proto == IPPROTO_TCP ? avail >= 18 : avail >= 8;
	} else if (p->proto == IPPROTO_ICMP) {
		struct icmp_echo_hdr ic;

		if (ctx_load(ctx, xdp, p->l4, &ic, sizeof(ic)))
			return PARSE_BAD;
		p->icmp_type = ic.type;
		p->icmp_error = icmp_type_is_error(ic.type);
		if (icmp_type_is_echo(ic.type)) {
			p->sport = ic.id;
			p->has_ports = true;
		}
		p->l4_csum = true;
	}
	return PARSE_OK;
}

/* Parse the IPv4 header at `l3`. `avail` bounds the datagram: the frame
 * for an outer header, the quoted bytes for an embedded one (whose total
 * length field then describes the original, not what we hold).
 */
static __always_inline int parse_ipv4(void *ctx, bool xdp, __u32 l3,
				      __u32 avail, bool embedded,
				      struct pkt4 *p)
{
	struct iphdr ip;
	__u16 frag;
	__u32 hlen;

	if (ctx_load(ctx, xdp, l3, &ip, sizeof(ip)))
		return PARSE_BAD;
	if (ip.version != 4 || ip.ihl < 5)
		return PARSE_BAD;
	hlen = ip.ihl * 4;
	p->len = bpf_ntohs(ip.tot_len);
	if (p->len < hlen || avail < hlen)
		return PARSE_BAD;
	if (!embedded && p->len > avail)
		return PARSE_BAD;
	if (!embedded)
		avail = p->len;
	p->l3 = l3;
	p->l4 = l3 + hlen;
	p->ihl = ip.ihl;
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->proto = ip.protocol;
	p->ttl = ip.ttl;
	p->frag_id = ip.id;
	frag = bpf_ntohs(ip.frag_off);
	p->frag = frag & (IP_MF | IP_OFFSET);
	p->later_frag = frag & IP_OFFSET;
	p->icmp_error = false;
	p->icmp_type = 0;
	if (parse_l4(ctx, xdp, p, avail - hlen))
		return PARSE_BAD;
	/* A first fragment too short to hold the L4 checksum is a known
	 * evasion trick; we could not translate it correctly anyway.
	 */
	if (!embedded && p->has_ports && !p->l4_csum)
		return PARSE_BAD;
	return PARSE_OK;
}

/* Parse the packet an ICMP error quotes. */
static __always_inline int
parse_quote(void *ctx, bool xdp, const struct pkt4 *outer, struct pkt4 *in)
{
	__u32 hdr = (outer->l4 - outer->l3) + ICMP_HDR_LEN;

	if (outer->len < hdr)
		return PARSE_BAD;
	if (parse_ipv4(ctx, xdp, outer->l4 + ICMP_HDR_LEN, outer->len - hdr,
		       true, in))
		return PARSE_BAD;
	/* Quoted packets are never themselves errors we would translate. */
	if (in->icmp_error)
		return PARSE_BAD;
	if (!in->later_frag && !in->has_ports &&
	    (in->proto == IPPROTO_TCP || in->proto == IPPROTO_UDP))
		return PARSE_BAD;
	return PARSE_OK;
}

#endif
