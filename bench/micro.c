/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Micro benchmark: ns/packet of mwan_xdp, mwan_tc_in and mwan_tc_out per path, by BPF_PROG_TEST_RUN. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/pkt_cls.h>

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "micro: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define FX_FAIL(...) die(__VA_ARGS__)
#include "tests/lib/fixture.h"
#include "micro.skel.h"

#define NOT_RUN (-1)
#define NO_STAT (-1)
#define MAX_REPS 64
/* "New flow" cases stay below the flow table's size, so no insert
 * evicts; the "table full" case fills it first on purpose.
 */
#define NEW_FLOW_REPEAT_MAX 200000
#define VARY_FIRST 0x10001000U /* first port pair: sport 4096, dport 4096 */

enum vary {
	SAME, /* every run: the same packet (an established flow) */
	NEW_FLOW, /* every run: another port pair; flows cleared per repetition */
	NEW_FLOW_FULL, /* the same, into a full table: every insert evicts */
};

enum prime {
	PRIME_NONE,
	PRIME_OUT4, /* the IPv4 outbound flow exists */
	PRIME_OUT6, /* the IPv6 outbound flow exists */
	PRIME_FRAG, /* the IPv4 first fragment went out */
};

struct want {
	int action; /* NOT_RUN: this program does not see this packet */
	int stat; /* counter that must grow by one per run */
};

struct mcase {
	const char *name;
	struct ip46 ip, q; /* q: what an ICMP error quotes */
	int iface; /* where it arrives (XDP, TC ingress) */
	__u16 ethertype; /* 0: IP; else overrides the frame's */
	enum vary vary;
	enum prime prime;
	struct want want[N_PROGS]; /* mwan_tc_out runs on the WAN (egress) */
};

/* The flows the cases use: host 0 on att (webpass is set admin down so
 * that every flow takes att).
 */
#define OUT4 UDP(HOST(0), REMOTE, 40000, 53, 18)
#define IN4 UDP(REMOTE, PUB_ATT(0), 53, 40000, 18)
#define OUT6 UDP6(HOST6(0), REMOTE6, 40000, 53, 18)
#define IN6 UDP6(REMOTE6, EXT6_ATT(2), 53, 40000, 18) /* HOST6(0) is ::2 */
#define SENT4 UDP(PUB_ATT(0), REMOTE, 40000, 53, 18)
#define FRAG_FIRST \
	UDP(HOST(0), REMOTE, 40000, 53, 100, .id = 7, .mf = 1, .frag_len = 48)
#define FRAG_LATER UDP(HOST(0), REMOTE, 40000, 53, 100, .id = 7, .frag_off = 48)

#define W(a, s)          \
	{                \
		(a), (s) \
	}
#define NONE W(NOT_RUN, NO_STAT)
#define FWD_OUT W(XDP_REDIRECT, MWAN_EV_XDP_FWD_OUT)
#define FWD_IN W(XDP_REDIRECT, MWAN_EV_XDP_FWD_IN)
#define TC_OK(s) W(TC_ACT_OK, (s))

#define CASE(n, pkt, ifc, ...)                                      \
	{                                                           \
		.name = (n), .ip = pkt, .iface = (ifc), __VA_ARGS__ \
	}

static const struct mcase cases[] = {
	CASE("ipv4_out_established", OUT4, IF_LAN, .prime = PRIME_OUT4,
	     .want = { FWD_OUT, TC_OK(MWAN_EV_TC_MARK),
		       TC_OK(MWAN_EV_TC_SNAT) }),
	CASE("ipv4_out_new_flow", OUT4, IF_LAN, .vary = NEW_FLOW,
	     .want = { FWD_OUT, TC_OK(MWAN_EV_TC_MARK), NONE }),
	CASE("ipv4_out_new_flow_table_full", OUT4, IF_LAN,
	     .vary = NEW_FLOW_FULL,
	     .want = { FWD_OUT, TC_OK(MWAN_EV_TC_MARK), NONE }),
	CASE("ipv4_in_established", IN4, IF_ATT, .prime = PRIME_OUT4,
	     .want = { FWD_IN, TC_OK(MWAN_EV_TC_DNAT), NONE }),
	CASE("ipv4_icmp_error_in",
	     ICMP_ERR(HOP, PUB_ATT(0), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0),
	     IF_ATT, .q = SENT4, .prime = PRIME_OUT4,
	     .want = { W(XDP_REDIRECT, MWAN_EV_ICMP_ERR_IN),
		       TC_OK(MWAN_EV_TC_DNAT), NONE }),
	CASE("ipv4_fragment_first_out", FRAG_FIRST, IF_LAN, .prime = PRIME_OUT4,
	     .want = { W(XDP_REDIRECT, MWAN_EV_FRAG_OUT),
		       TC_OK(MWAN_EV_FRAG_OUT), TC_OK(MWAN_EV_TC_SNAT) }),
	CASE("ipv4_fragment_later_out", FRAG_LATER, IF_LAN, .prime = PRIME_FRAG,
	     .want = { W(XDP_REDIRECT, MWAN_EV_FRAG_OUT),
		       TC_OK(MWAN_EV_FRAG_OUT), TC_OK(MWAN_EV_TC_SNAT) }),
	CASE("ipv6_npt_out_established", OUT6, IF_LAN, .prime = PRIME_OUT6,
	     .want = { FWD_OUT, TC_OK(MWAN_EV_TC_MARK),
		       TC_OK(MWAN_EV_TC_SNAT) }),
	CASE("ipv6_npt_in_established", IN6, IF_ATT, .prime = PRIME_OUT6,
	     .want = { FWD_IN, TC_OK(MWAN_EV_TC_DNAT), NONE }),
	CASE("eapol_pass", OUT4, IF_ATT, .ethertype = ETH_P_PAE,
	     .want = { W(XDP_PASS, MWAN_EV_PASS_CONTROL), TC_OK(NO_STAT),
		       NONE }),
	CASE("ipv4_unmapped_pass", UDP(UNMAPPED, REMOTE, 40000, 53, 18), IF_LAN,
	     .want = { W(XDP_PASS, MWAN_EV_PASS_UNMAPPED), TC_OK(NO_STAT),
		       NONE }),
};

/* A program's cost on top of the harness (ns), over the repetitions. */
struct result {
	double net[MAX_REPS], raw[MAX_REPS], base[MAX_REPS];
};

static struct {
	__u32 repeat, reps;
	int cpu;
	const char *json;
	const char *only; /* -k: this case alone (for perf record) */
	const char *only_prog; /* -p: this program alone */
	struct micro_bpf *h;
	int noop[N_PROGS], entry[N_PROGS];
} m = { .repeat = 1000000, .reps = 5, .cpu = -1 };

static bool is_xdp(enum prog p)
{
	return p == XDP;
}

static void stats_snapshot(__u64 *v)
{
	int s;

	for (s = 0; s < MWAN_STAT_MAX; s++)
		v[s] = fx_stat(s);
}

/* Which counters moved since `before`: what the packets really did. */
static const char *stats_moved(const __u64 *before)
{
	static char buf[1024];
	size_t n = 0;
	int s;

	buf[0] = 0;
	for (s = 0; s < MWAN_STAT_MAX && n < sizeof(buf) - 64; s++)
		if (fx_stat(s) != before[s])
			n += snprintf(
				buf + n, sizeof(buf) - n, " %s+%llu",
				fx_stat_names[s],
				(unsigned long long)(fx_stat(s) - before[s]));
	return n ? buf : " none";
}

/* Delete every flow: collect the keys first, since a get_next_key from
 * the start after each delete would rescan the whole table every time.
 */
static void clear_flows(void)
{
	int fd = MAP(mwan_flows);
	__u32 max = bpf_map__max_entries(fx.skel->maps.mwan_flows), n = 0, i;
	struct mwan_flow_key *keys = calloc(max + 1, sizeof(*keys));

	if (!keys)
		die("out of memory");
	if (!bpf_map_get_next_key(fd, NULL, &keys[0]))
		for (n = 1; n <= max; n++)
			if (bpf_map_get_next_key(fd, &keys[n - 1], &keys[n]))
				break;
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
}

/* One BPF_PROG_TEST_RUN of `fd` on `f`; returns the kernel's average
 * duration (ns) and the last verdict.
 */
static __u32 test_run(int fd, bool xdp, int iface, const struct frame *f,
		      __u32 repeat, int *action)
{
	struct xdp_md xctx = { .data_end = f->len,
			       .ingress_ifindex = fx.ifindex[iface] };
	struct __sk_buff sctx = { .ifindex = fx.ifindex[iface] };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .repeat = repeat);

	if (xdp) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		die("test run: %s", strerror(errno));
	*action = o.retval;
	return o.duration;
}

/* The harness tail-calls `target` from now on. */
static void set_target(enum prog p, int target)
{
	int map = is_xdp(p) ? bpf_map__fd(m.h->maps.xdp_target) :
			      bpf_map__fd(m.h->maps.tc_target);
	__u32 zero = 0;

	put(map, &zero, &target);
}

static void set_template(const struct frame *f, __u32 vary_off)
{
	if (f->len > sizeof(m.h->bss->tmpl))
		die("frame of %u bytes does not fit the harness", f->len);
	memcpy(m.h->bss->tmpl, f->b, f->len);
	m.h->bss->tmpl_len = f->len;
	m.h->bss->vary_off = vary_off;
}

static void frame_of(const struct mcase *c, struct frame *f)
{
	struct pkt p = arriving(c->iface, &c->ip, &c->q, 0);

	build(&p, f);
	if (c->ethertype) {
		__be16 t = htons(c->ethertype);

		memcpy(f->b + 12, &t, sizeof(t));
	}
}

/* Send one packet through mwan_xdp, as the case's preparation. */
static void send_once(const struct ip46 *ip, int iface)
{
	struct pkt p = arriving(iface, ip, NULL, 0);
	struct frame f;
	int action;

	build(&p, &f);
	test_run(fx.prog[XDP], true, iface, &f, 1, &action);
	if (action != XDP_REDIRECT)
		die("preparing packet: XDP verdict %d, want redirect", action);
}

static void prime(enum prime what)
{
	static const struct ip46 out4 = OUT4, out6 = OUT6, first = FRAG_FIRST;

	if (what == PRIME_OUT4)
		send_once(&out4, IF_LAN);
	else if (what == PRIME_OUT6)
		send_once(&out6, IF_LAN);
	else if (what == PRIME_FRAG)
		send_once(&first, IF_LAN);
}

/* The lab as the loader leaves it, with only att taking new flows. */
static void lab_reset(void)
{
	clear_flows();
	fx_reset();
	admin_set(WP, MWAN_ADMIN_DOWN);
	steer_sync();
}

static int iface_for(const struct mcase *c, enum prog p)
{
	return p == TC_OUT ? IF_ATT : c->iface;
}

/* The runs took the path under test: the verdict, its counter once per
 * run, and for "new flow" cases one new flow per run.
 */
static void check_run(const struct mcase *c, enum prog p, int action,
		      const __u64 *before, __u32 repeat)
{
	const struct want *w = &c->want[p];
	__u64 flows = fx_stat(MWAN_EV_FLOW_NEW) - before[MWAN_EV_FLOW_NEW];

	if (action != w->action ||
	    (w->stat != NO_STAT &&
	     fx_stat(w->stat) - before[w->stat] != repeat) ||
	    (c->vary != SAME && flows != repeat))
		die("%s on %s: verdict %d (want %d), counters in %u runs:%s%s%s",
		    prog_names[p], c->name, action, w->action, repeat,
		    stats_moved(before), w->stat == NO_STAT ? "" : "; want ",
		    w->stat == NO_STAT ? "" : fx_stat_names[w->stat]);
}

/* One repetition: the harness alone, then with the program under test. */
static void measure_once(const struct mcase *c, enum prog p,
			 const struct frame *f, __u32 repeat, struct result *r,
			 __u32 i)
{
	int fd = m.entry[p], action, iface = iface_for(c, p);
	__u64 before[MWAN_STAT_MAX];

	set_target(p, m.noop[p]);
	r->base[i] = test_run(fd, is_xdp(p), iface, f, repeat, &action);
	if (c->vary == NEW_FLOW)
		clear_flows();
	set_target(p, fx.prog[p]);
	stats_snapshot(before);
	r->raw[i] = test_run(fd, is_xdp(p), iface, f, repeat, &action);
	check_run(c, p, action, before, repeat);
	r->net[i] = r->raw[i] - r->base[i];
}

static __u32 case_repeat(const struct mcase *c)
{
	if (c->vary == NEW_FLOW && m.repeat > NEW_FLOW_REPEAT_MAX)
		return NEW_FLOW_REPEAT_MAX;
	return m.repeat;
}

static void fill_flow_table(const struct mcase *c, enum prog p,
			    const struct frame *f)
{
	__u32 n = bpf_map__max_entries(fx.skel->maps.mwan_flows) * 5 / 4;
	int action;

	set_target(p, fx.prog[p]);
	test_run(m.entry[p], is_xdp(p), iface_for(c, p), f, n, &action);
}

static void measure(const struct mcase *c, enum prog p, struct result *r)
{
	__u32 i, repeat = case_repeat(c), vary_off = 0;
	struct frame f;

	lab_reset();
	prime(c->prime);
	frame_of(c, &f);
	if (c->vary != SAME)
		vary_off = ETH_HLEN + sizeof(struct iphdr);
	set_template(&f, vary_off);
	m.h->bss->vary_next = VARY_FIRST;
	if (c->vary == NEW_FLOW_FULL)
		fill_flow_table(c, p, &f);
	for (i = 0; i < m.reps; i++)
		measure_once(c, p, &f, repeat, r, i);
}

/* ---- statistics and output ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	double median, min, max;
};

static struct summary summarize(const double *v, __u32 n)
{
	double s[MAX_REPS];
	struct summary r;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	r.min = s[0];
	r.max = s[n - 1];
	return r;
}

static const char *const prog_keys[N_PROGS] = { "xdp", "tc_in", "tc_out" };

static void json_result(FILE *out, const struct mcase *c, enum prog p,
			const struct result *r, bool *first)
{
	struct summary net = summarize(r->net, m.reps),
		       raw = summarize(r->raw, m.reps),
		       base = summarize(r->base, m.reps);

	fprintf(out,
		"%s\n    {\"case\": \"%s\", \"prog\": \"%s\", \"iface\": "
		"\"%s\", \"repeat\": %u, \"ns\": %.1f, \"min\": %.1f, "
		"\"max\": %.1f, \"raw_ns\": %.1f, \"harness_ns\": %.1f}",
		*first ? "" : ",", c->name, prog_keys[p],
		if_names[iface_for(c, p)], case_repeat(c), net.median, net.min,
		net.max, raw.median, base.median);
	*first = false;
	printf("%-30s %-7s %7.1f ns  (min %5.1f, max %5.1f; harness %5.1f)\n",
	       c->name, prog_keys[p], net.median, net.min, net.max,
	       base.median);
}

/* A building block's cost: `probe` minus the empty program, both run
 * directly.
 */
static double probe_ns(int probe)
{
	struct frame f;
	struct pkt p = arriving(IF_LAN, &(struct ip46)OUT4, NULL, 0);
	double d[MAX_REPS];
	int action;
	__u32 i;

	build(&p, &f);
	for (i = 0; i < m.reps; i++) {
		double base = test_run(m.noop[XDP], true, IF_LAN, &f, m.repeat,
				       &action);

		d[i] = test_run(probe, true, IF_LAN, &f, m.repeat, &action) -
		       base;
		if (action != XDP_PASS)
			die("probe %d: verdict %d: its map entry is missing",
			    probe, action);
	}
	return summarize(d, m.reps).median;
}

/* The entries the lookup probes hit. */
static void fill_probe_maps(void)
{
	__u8 key40[40] = { 2, 17 }, val[56] = { 0 };
	__u32 key = 1;

	put(bpf_map__fd(m.h->maps.probe_hash), &key, val);
	put(bpf_map__fd(m.h->maps.probe_lru), key40, val);
	key = fx.ifindex[IF_ATT];
	put(bpf_map__fd(m.h->maps.probe_tx), &key, &key);
	m.h->bss->probe_ifindex = key;
}

static void json_probes(FILE *out)
{
	const struct {
		const char *name;
		struct bpf_program *prog;
	} probes[] = {
		{ "bpf_ktime_get_ns", m.h->progs.probe_ktime },
		{ "bpf_ktime_get_coarse_ns", m.h->progs.probe_ktime_coarse },
		{ "hash_lookup_4B_key", m.h->progs.probe_hash_lookup },
		{ "lru_hash_lookup_40B_key", m.h->progs.probe_lru_lookup },
		{ "percpu_counter_inc", m.h->progs.probe_percpu_inc },
		{ "bpf_redirect_map_devmap_hash",
		  m.h->progs.probe_redirect_map },
		{ "two_atomic_adds", m.h->progs.probe_atomics },
	};
	size_t i;

	fill_probe_maps();
	fprintf(out, "\n  ],\n  \"probes\": {");
	printf("building blocks (alone, minus an empty program):");
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		double ns = probe_ns(bpf_program__fd(probes[i].prog));

		fprintf(out, "%s\"%s\": %.1f", i ? ", " : "", probes[i].name,
			ns);
		printf(" %s %.1f ns%s", probes[i].name, ns,
		       i + 1 < ARRAY_SIZE(probes) ? "," : "\n");
	}
	fprintf(out, "}\n}\n");
}

static void run_all(FILE *out)
{
	bool first = true;
	size_t i;
	int p;

	fprintf(out,
		"{\n  \"repeat\": %u, \"reps\": %u, \"flows_max\": %u, "
		"\"results\": [",
		m.repeat, m.reps,
		bpf_map__max_entries(fx.skel->maps.mwan_flows));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (m.only && strcmp(m.only, cases[i].name))
			continue;
		for (p = 0; p < N_PROGS; p++) {
			struct result r;

			if (cases[i].want[p].action == NOT_RUN ||
			    (m.only_prog && strcmp(m.only_prog, prog_keys[p])))
				continue;
			measure(&cases[i], p, &r);
			json_result(out, &cases[i], p, &r, &first);
		}
	}
	json_probes(out);
}

/* ---- setup ---- */

static void open_harness(void)
{
	m.h = micro_bpf__open_and_load();
	if (!m.h)
		die("loading micro.bpf.o: %s", strerror(errno));
	m.entry[XDP] = bpf_program__fd(m.h->progs.bench_xdp);
	m.entry[TC_IN] = m.entry[TC_OUT] = bpf_program__fd(m.h->progs.bench_tc);
	m.noop[XDP] = bpf_program__fd(m.h->progs.noop_xdp);
	m.noop[TC_IN] = m.noop[TC_OUT] = bpf_program__fd(m.h->progs.noop_tc);
}

static void pin_cpu(void)
{
	cpu_set_t set;

	if (m.cpu < 0)
		m.cpu = libbpf_num_possible_cpus() - 1;
	CPU_ZERO(&set);
	CPU_SET(m.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(%d): %s", m.cpu, strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: micro [-r REPEAT] [-n REPS] [-c CPU] "
			"[-o FILE.json] [-k CASE] [-p xdp|tc_in|tc_out]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "r:n:c:o:k:p:")) != -1) {
		if (opt == 'r')
			m.repeat = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			m.reps = strtoul(optarg, NULL, 0);
		else if (opt == 'c')
			m.cpu = atoi(optarg);
		else if (opt == 'o')
			m.json = optarg;
		else if (opt == 'k')
			m.only = optarg;
		else if (opt == 'p')
			m.only_prog = optarg;
		else
			usage();
	}
	if (!m.repeat || !m.reps || m.reps > MAX_REPS || optind != argc)
		usage();
}

int main(int argc, char **argv)
{
	FILE *out;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid())
		die("needs root (BPF_PROG_TEST_RUN, a private netns)");
	pin_cpu();
	if (fx_open())
		die("cannot load mwan.bpf.o in a private netns");
	open_harness();
	out = fopen(m.json ? m.json : "/dev/null", "w");
	if (!out)
		die("%s: %s", m.json ? m.json : "/dev/null", strerror(errno));
	printf("micro: repeat %u, %u repetitions, CPU %d; ns/packet of the "
	       "program alone (the harness subtracted)\n",
	       m.repeat, m.reps, m.cpu);
	run_all(out);
	fclose(out);
	micro_bpf__destroy(m.h);
	fx_close();
	return 0;
}
