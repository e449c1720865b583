/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the traffic generator, the sink and their user space share. */
#ifndef MWAN_BENCH_H
#define MWAN_BENCH_H

#include <linux/types.h>

#define BENCH_MAX_CPUS 64
#define BENCH_MAGIC 0x6d776e62 /* "mwnb": a frame of ours */
/* Flow i: host i % hosts, then source port and destination port. */
#define BENCH_SPORT_BASE 1024
#define BENCH_SPORTS 60000
#define BENCH_DPORT_BASE 10000
/* Flow i is sent as flow i * STRIDE mod flows: a bijection for any flow
 * count whose prime factors are only 2 and 5 (the stride is odd and does
 * not end in 0 or 5), so every flow is sent and the CPUs' shares stay
 * apart.
 */
#define BENCH_FLOW_STRIDE 2654435761ULL

/* The UDP payload of every generated frame (18 bytes: a 60-byte IPv4
 * frame, 80 bytes for IPv6).
 */
struct bench_payload {
	__be32 magic;
	__be32 flow;
	__u8 host; /* index of the internal host that sent it */
	__u8 pad[9];
} __attribute__((packed));

/* Frame sizes: Ethernet, IP, UDP, payload. */
#define BENCH_FRAME4_LEN (14 + 20 + 8 + 18)
#define BENCH_FRAME6_LEN (14 + 40 + 8 + 18)

/* The generator's per-CPU state, one cache line each. */
struct bench_gen_cpu {
	__u64 next; /* flows sent by this CPU so far, modulo its share */
	__u64 sent; /* frames stamped */
	__u64 pad[6];
};

/* What the sink counted (a per-CPU array of one). */
struct bench_sink_counters {
	__u64 pkts; /* every frame of ours */
	__u64 v4_ok; /* IPv4 with the source address expected */
	__u64 v6_ok;
	__u64 wrong; /* ours, but not translated as expected */
	__u64 csum_checked; /* sampled: full IPv4 header and UDP checksums */
	__u64 csum_bad;
	__u64 other; /* not ours (ARP, ND, ...): passed to the kernel */
	__u64 drained; /* ours after the loop was stopped (then dropped) */
};

/* The sink verifies the checksums of one frame in this many per CPU. */
#define BENCH_CSUM_SAMPLE 64

#endif
