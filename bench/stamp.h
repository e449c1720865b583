/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF side of the traffic generator: stamp the next flow into a template frame (gen.bpf.c, and sink.bpf.c when it closes the loop). */
#ifndef MWAN_BENCH_STAMP_H
#define MWAN_BENCH_STAMP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench.h"

/* Frame layouts (no options, no extension headers). */
#define V4_SADDR_LO 28 /* last 16-bit word of the IPv4 source */
#define V4_CSUM 24
#define V4_UDP 34
#define V6_SADDR_LO 36
#define V6_UDP 54
#define UDP_CSUM 6
#define PL_FLOW 12 /* from the UDP header: payload flow, then host */
#define PL_HOST 16

/* Set by gen.c. The template frame carries the first host's source
 * address and zero ports and payload; the sums are the one's complement
 * sums (not folded) of its checksummed 16-bit words, so each frame costs
 * a handful of additions. Each object that includes this header has its
 * own copy (gen.c fills both).
 */
const volatile __u32 nflows = 1;
const volatile __u32 ncpus = 1;
const volatile __u32 hosts = 1;
const volatile __u32 sum4_ip;
const volatile __u32 sum4_udp;
const volatile __u32 sum6_udp;
const volatile __u16 saddr4_lo; /* the template source's last 16-bit word */
const volatile __u16 saddr6_lo;

struct bench_gen_cpu state[BENCH_MAX_CPUS];

/* The template frames, written whole into every frame: a frame that
 * comes back (a live frame's page, or a frame the loop turns round)
 * carries what the router and the sink left in it (MACs, translated
 * addresses, TTL).
 */
__u64 tmpl4[BENCH_FRAME4_LEN / 8 + 1];
__u64 tmpl6[BENCH_FRAME6_LEN / 8];

struct flow {
	__u16 sport, dport, host;
	__u32 id;
};

/* This CPU's next flow: CPU c sends the flows i = c, c + ncpus, ...
 * (shuffled), so that no two CPUs share a flow (as RSS would have it).
 */
static __always_inline void next_flow(struct flow *f)
{
	__u32 cpu = bpf_get_smp_processor_id() & (BENCH_MAX_CPUS - 1);
	struct bench_gen_cpu *s = &state[cpu];
	__u64 id = s->next * ncpus + cpu;
	__u32 r;

	if (id >= nflows) {
		s->next = 0;
		id = cpu % nflows;
	}
	s->next++;
	s->sent++;
	/* Visit the flows in a scattered order, as real traffic would: were
	 * they sent in the order they were created, the flow table would be
	 * read like an array, which the CPU prefetches.
	 */
	id = id * BENCH_FLOW_STRIDE % nflows;
	f->id = id;
	f->host = id % hosts;
	r = id / hosts;
	f->sport = BENCH_SPORT_BASE + r % BENCH_SPORTS;
	f->dport = BENCH_DPORT_BASE + r / BENCH_SPORTS;
}

/* `len` (a constant) bytes of `t` to the frame, in 8-byte words and a
 * 4-byte tail.
 */
static __always_inline void copy_template(__u8 *data, const __u64 *t, __u32 len)
{
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < len / 8; i++)
		((__u64 *)data)[i] = t[i];
	if (len % 8)
		((__u32 *)data)[len / 4 - 1] = ((const __u32 *)t)[len / 4 - 1];
}

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static __always_inline void put16(__u8 *p, __u16 v)
{
	*(__be16 *)p = bpf_htons(v);
}

/* Ports, payload and UDP checksum; `sum`: the template's UDP sum plus
 * what the address change added.
 */
static __always_inline void stamp_udp(__u8 *udp, const struct flow *f,
				      __u32 sum)
{
	__u16 c;

	put16(udp, f->sport);
	put16(udp + 2, f->dport);
	put16(udp + PL_FLOW, f->id >> 16);
	put16(udp + PL_FLOW + 2, f->id & 0xffff);
	udp[PL_HOST] = f->host;
	sum += f->sport + f->dport + (f->id >> 16) + (f->id & 0xffff) +
	       (f->host << 8);
	c = csum_fold(sum);
	put16(udp + UDP_CSUM, c ? c : 0xffff);
}

/* The frame at `data` (at least BENCH_FRAME4_LEN bytes, checked by the
 * caller) becomes the next IPv4 flow's.
 */
static __always_inline void stamp4(__u8 *data)
{
	struct flow f;

	copy_template(data, tmpl4, BENCH_FRAME4_LEN);
	next_flow(&f);
	put16(data + V4_SADDR_LO, saddr4_lo + f.host);
	put16(data + V4_CSUM, csum_fold(sum4_ip + f.host));
	stamp_udp(data + V4_UDP, &f, sum4_udp + f.host);
}

/* The same for IPv6 (BENCH_FRAME6_LEN bytes). */
static __always_inline void stamp6(__u8 *data)
{
	struct flow f;

	copy_template(data, tmpl6, BENCH_FRAME6_LEN);
	next_flow(&f);
	put16(data + V6_SADDR_LO, saddr6_lo + f.host);
	stamp_udp(data + V6_UDP, &f, sum6_udp + f.host);
}

#endif
