/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One packet-access API for XDP and TC, so parsers and NAT are written once.
 *
 * Every function takes `xdp` as a compile-time constant (the callers are
 * always inlined), so each program keeps only its own branch. XDP touches
 * the linear frame directly; TC goes through the skb helpers, which work on
 * non-linear skbs and keep skb->csum right for CHECKSUM_COMPLETE.
 */
#ifndef MWAN_BPF_CTX_H
#define MWAN_BPF_CTX_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"

/* Largest header offset we ever touch: Ethernet + two IPv4 headers with
 * options + ICMP + inner L4 checksum, with room to spare. Bounding it lets
 * the verifier accept variable offsets into the XDP frame.
 */
#define CTX_OFF_MASK 0xff

/* The verifier must see the bound on the very register that offsets the
 * packet pointer; the empty asm stops clang from proving the mask useless
 * and checking a copy instead.
 */
static __always_inline __u64 ctx_bound_off(__u64 off)
{
	asm volatile("" : "+r"(off));
	return off & CTX_OFF_MASK;
}

static __always_inline __u32 ctx_len(void *ctx, bool xdp)
{
	if (xdp) {
		struct xdp_md *x = ctx;

		return x->data_end - x->data;
	}
	return ((struct __sk_buff *)ctx)->len;
}

/* A pointer to `len` bytes at `off` in the XDP frame, or NULL. Every
 * offset we touch is even and frames start 2-byte aligned, so the copies
 * below may use 16-bit loads and stores instead of byte by byte.
 */
static __always_inline __u8 *ctx_xdp_ptr(void *ctx, __u32 off, __u32 len)
{
	struct xdp_md *x = ctx;
	void *data = (void *)(long)x->data;
	void *end = (void *)(long)x->data_end;
	__u8 *p;

	if (off > CTX_OFF_MASK)
		return NULL;
	p = data + ctx_bound_off(off);
	if ((void *)(p + len) > end)
		return NULL;
	return p;
}

static __always_inline int ctx_load(void *ctx, bool xdp, __u32 off, void *to,
				    __u32 len)
{
	if (xdp) {
		__u8 *p = ctx_xdp_ptr(ctx, off, len);

		if (!p)
			return -1;
		__builtin_memcpy(to, __builtin_assume_aligned(p, 2), len);
		return 0;
	}
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline int ctx_store(void *ctx, bool xdp, __u32 off,
				     const void *from, __u32 len)
{
	if (xdp) {
		__u8 *p = ctx_xdp_ptr(ctx, off, len);

		if (!p)
			return -1;
		__builtin_memcpy(__builtin_assume_aligned(p, 2), from, len);
		return 0;
	}
	return bpf_skb_store_bytes(ctx, off, from, len, BPF_F_RECOMPUTE_CSUM);
}

static __always_inline int ctx_load16(void *ctx, bool xdp, __u32 off, __u16 *v)
{
	return ctx_load(ctx, xdp, off, v, sizeof(*v));
}

static __always_inline int ctx_store16(void *ctx, bool xdp, __u32 off, __u16 v)
{
	return ctx_store(ctx, xdp, off, &v, sizeof(v));
}

static __always_inline int ctx_store32(void *ctx, bool xdp, __u32 off, __u32 v)
{
	return ctx_store(ctx, xdp, off, &v, sizeof(v));
}

/* Adjust a checksum field we fully own (IP header, ICMP, anything inside
 * an ICMP error) for a 32-bit change elsewhere.
 */
static __always_inline int ctx_csum_fix32(void *ctx, bool xdp, __u32 csum_off,
					  __u32 from, __u32 to, bool udp)
{
	__u16 c;

	if (ctx_load16(ctx, xdp, csum_off, &c))
		return -1;
	c = udp ? csum_replace32_udp(c, from, to) : csum_replace32(c, from, to);
	return ctx_store16(ctx, xdp, csum_off, c);
}

static __always_inline int ctx_csum_fix16(void *ctx, bool xdp, __u32 csum_off,
					  __u16 from, __u16 to)
{
	__u16 c;

	if (ctx_load16(ctx, xdp, csum_off, &c))
		return -1;
	return ctx_store16(ctx, xdp, csum_off, csum_replace16(c, from, to));
}

/* The outer TCP/UDP checksum after an address change. On TC the skb may
 * carry CHECKSUM_PARTIAL (the field then holds the pseudo-header sum, not
 * a checksum), which only the kernel helper knows how to update.
 */
static __always_inline int ctx_l4_csum_pseudo(void *ctx, bool xdp,
					      __u32 csum_off, __u32 from,
					      __u32 to, bool udp)
{
	if (xdp)
		return ctx_csum_fix32(ctx, xdp, csum_off, from, to, udp);
	return bpf_l4_csum_replace(ctx, csum_off, from, to,
				   BPF_F_PSEUDO_HDR | sizeof(to) |
					   (udp ? BPF_F_MARK_MANGLED_0 : 0));
}

#endif
