/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the traffic generator's files share: options, frames, the sending methods and the measurements. */
#ifndef MWAN_BENCH_GEN_H
#define MWAN_BENCH_GEN_H

#include <stdbool.h>
#include <linux/types.h>

#include "bench.h"
#include "maps/mwan_maps.h"

#define FRAME_MAX 128

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

struct gen_opts {
	const char *gen_ns, *gen_if, *sink_ns, *sink_if, *netns, *dst_mac;
	const char *src4, *dst4, *src6, *dst6, *want4, *want6, *mwan_pin;
	const char *method;
	unsigned int want6_prefix, hosts, flows, cpus, inflight;
	double seconds, warmup, stats_seconds;
	bool v4, v6;
};

extern struct gen_opts opt;

/* A template frame: the first host's, ports and payload zero. */
struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
};

/* CPU c sends IPv6 when both families are on and c is odd. */
static inline bool cpu_sends_v6(unsigned int cpu)
{
	return opt.v6 && (!opt.v4 || cpu % 2);
}

/* ---- gen_send.c: the ways of sending ---- */

enum gen_method {
	GEN_LIVE, /* BPF_PROG_RUN live frames (XDP_TX from the generator) */
	GEN_LOOP, /* a few frames injected once, turned round by the sink */
	GEN_PACKET, /* AF_PACKET TX ring, qdisc bypassed */
	GEN_XSK, /* AF_XDP transmit, copy mode */
	GEN_METHODS
};

extern const char *const gen_method_names[GEN_METHODS];

struct gen_bpf;
struct sink_bpf;

/* The first of live, loop that this kernel allows (why, in `why`). */
enum gen_method gen_probe(struct gen_bpf *g, int ifindex, char *why,
			  size_t len);
/* Start sending on every CPU; the templates are in g (and in s for the
 * loop, whose sink must already be attached).
 */
void gen_start(enum gen_method m, struct gen_bpf *g, struct sink_bpf *s,
	       int ifindex, const struct frame *f4, const struct frame *f6);
void gen_stop(void);
/* Frames stamped so far by the method's stamping program. */
__u64 gen_stamped(enum gen_method m, const struct gen_bpf *g,
		  const struct sink_bpf *s);

/* ---- gen_stats.c: what a run measures besides the sink ---- */

struct cpu_times {
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
};

void stats_init(void);
struct cpu_times cpu_read(void);
unsigned long long cpu_total(const struct cpu_times *t);
unsigned long long bench_ticks(void);

void mwan_open(void);
void mwan_read(__u64 *sum);
extern const char *const mwan_stat_names[MWAN_STAT_MAX];

/* Per-program run time (BPF_ENABLE_STATS) over a window: start, then
 * print the programs that ran as a JSON member `"progs": [...]`.
 */
#define PROGS_MAX 64
struct prog_sample {
	unsigned int n;
	struct {
		__u32 id, type;
		char name[16];
		__u64 run_cnt, run_time_ns;
	} p[PROGS_MAX];
};

int progstats_enable(void);
void progstats_read(struct prog_sample *x);
void progstats_print(const struct prog_sample *a, const struct prog_sample *b);

#endif
