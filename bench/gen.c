/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Traffic generator for bench/forward.sh: sends the flows (gen_send.c), counts and checks them at the sink, reports one JSON line; and the redirect ceiling. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "gen.skel.h"
#include "redirect.skel.h"
#include "sink.skel.h"

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

struct gen_opts opt = { .want6_prefix = 14,
			.hosts = 1,
			.flows = 1000,
			.cpus = 0,
			.inflight = 64,
			.seconds = 5,
			.warmup = 2,
			.stats_seconds = 1,
			.method = "auto",
			.v4 = true,
			.v6 = true };

/* ---- small helpers ---- */

static void enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die("netns %s: %s", name, strerror(errno));
	close(fd);
}

static int ifindex_of(const char *ifname)
{
	int idx = if_nametoindex(ifname);

	if (!idx)
		die("no interface %s", ifname);
	return idx;
}

static void mac_of(const char *ifname, __u8 *mac)
{
	struct ifreq r = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &r))
		die("MAC of %s: %s", ifname, strerror(errno));
	memcpy(mac, r.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
}

static void parse_mac(const char *s, __u8 *mac)
{
	unsigned int b[ETH_ALEN], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != ETH_ALEN)
		die("bad MAC %s", s);
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = b[i];
}

static void parse_addr(int af, const char *s, void *a)
{
	if (!s || inet_pton(af, s, a) != 1)
		die("bad or missing address %s", s ? s : "(none)");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One's complement sum (not folded) of big-endian 16-bit words. */
static __u32 sum16(const void *p, size_t len)
{
	const __u8 *b = p;
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += b[i] << 8 | b[i + 1];
	return s;
}

/* ---- the template frames ---- */

static void put_eth(struct frame *f, const __u8 *dst, const __u8 *src,
		    __u16 proto)
{
	struct ethhdr *e = (struct ethhdr *)f->b;

	memcpy(e->h_dest, dst, ETH_ALEN);
	memcpy(e->h_source, src, ETH_ALEN);
	e->h_proto = htons(proto);
}

/* UDP header and payload at `udp`, ports and flow zero; returns its sum. */
static __u32 put_udp(__u8 *udp)
{
	struct udphdr *u = (struct udphdr *)udp;
	struct bench_payload *pl = (struct bench_payload *)(u + 1);

	u->len = htons(sizeof(*u) + sizeof(*pl));
	pl->magic = htonl(BENCH_MAGIC);
	return sum16(udp, sizeof(*u) + sizeof(*pl));
}

#define UDP_LEN (sizeof(struct udphdr) + sizeof(struct bench_payload))
_Static_assert(ETH_HLEN + sizeof(struct iphdr) + UDP_LEN == BENCH_FRAME4_LEN,
	       "gen.bpf.c writes BENCH_FRAME4_LEN bytes");
_Static_assert(ETH_HLEN + sizeof(struct ipv6hdr) + UDP_LEN == BENCH_FRAME6_LEN,
	       "gen.bpf.c writes BENCH_FRAME6_LEN bytes");

/* IPv4 frame; sets the sums gen.bpf.c starts from. */
static void frame4(struct frame *f, const __u8 *dst, const __u8 *src,
		   struct gen_bpf *g)
{
	struct iphdr *ip = (struct iphdr *)(f->b + ETH_HLEN);

	put_eth(f, dst, src, ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(sizeof(*ip) + UDP_LEN);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	parse_addr(AF_INET, opt.src4, &ip->saddr);
	parse_addr(AF_INET, opt.dst4, &ip->daddr);
	g->rodata->sum4_ip = sum16(ip, sizeof(*ip));
	g->rodata->sum4_udp = put_udp((__u8 *)(ip + 1)) + sum16(&ip->saddr, 8) +
			      IPPROTO_UDP + UDP_LEN;
	g->rodata->saddr4_lo = ntohl(ip->saddr) & 0xffff;
	f->len = ETH_HLEN + sizeof(*ip) + UDP_LEN;
	memcpy(g->bss->tmpl4, f->b, f->len);
}

static void frame6(struct frame *f, const __u8 *dst, const __u8 *src,
		   struct gen_bpf *g)
{
	struct ipv6hdr *ip = (struct ipv6hdr *)(f->b + ETH_HLEN);

	put_eth(f, dst, src, ETH_P_IPV6);
	ip->version = 6;
	ip->payload_len = htons(UDP_LEN);
	ip->nexthdr = IPPROTO_UDP;
	ip->hop_limit = 64;
	parse_addr(AF_INET6, opt.src6, &ip->saddr);
	parse_addr(AF_INET6, opt.dst6, &ip->daddr);
	g->rodata->sum6_udp = put_udp((__u8 *)(ip + 1)) +
			      sum16(&ip->saddr, 32) + IPPROTO_UDP + UDP_LEN;
	g->rodata->saddr6_lo = ntohs(ip->saddr.s6_addr16[7]);
	f->len = ETH_HLEN + sizeof(*ip) + UDP_LEN;
	memcpy(g->bss->tmpl6, f->b, f->len);
}

/* ---- the sink ---- */

/* The sink, loaded; closing the loop, it stamps frames as g does. */
static struct sink_bpf *sink_open(const struct gen_bpf *g, bool loop)
{
	struct sink_bpf *s = sink_bpf__open();

	if (!s)
		die("opening sink.bpf.o: %s", strerror(errno));
	parse_addr(AF_INET, opt.want4, (void *)s->rodata->want4);
	parse_addr(AF_INET6, opt.want6, (void *)s->rodata->want6);
	s->rodata->want6_prefix = opt.want6_prefix;
	s->rodata->loop = loop;
	s->rodata->nflows = g->rodata->nflows;
	s->rodata->ncpus = g->rodata->ncpus;
	s->rodata->hosts = g->rodata->hosts;
	s->rodata->sum4_ip = g->rodata->sum4_ip;
	s->rodata->sum4_udp = g->rodata->sum4_udp;
	s->rodata->sum6_udp = g->rodata->sum6_udp;
	s->rodata->saddr4_lo = g->rodata->saddr4_lo;
	s->rodata->saddr6_lo = g->rodata->saddr6_lo;
	memcpy(s->bss->tmpl4, g->bss->tmpl4, sizeof(s->bss->tmpl4));
	memcpy(s->bss->tmpl6, g->bss->tmpl6, sizeof(s->bss->tmpl6));
	if (sink_bpf__load(s))
		die("loading sink.bpf.o: %s", strerror(errno));
	return s;
}

/* The sink's counters summed over CPUs. */
static struct bench_sink_counters sink_read(struct sink_bpf *s)
{
	int n = libbpf_num_possible_cpus(), i;
	struct bench_sink_counters *v = calloc(n, sizeof(*v)), sum = { 0 };
	__u32 zero = 0;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(s->maps.counters), &zero, v))
		die("reading the sink's counters: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		sum.pkts += v[i].pkts;
		sum.v4_ok += v[i].v4_ok;
		sum.v6_ok += v[i].v6_ok;
		sum.wrong += v[i].wrong;
		sum.csum_checked += v[i].csum_checked;
		sum.csum_bad += v[i].csum_bad;
		sum.other += v[i].other;
		sum.drained += v[i].drained;
	}
	free(v);
	return sum;
}

/* ---- the generator ---- */

static struct gen_bpf *gen_open(void)
{
	struct gen_bpf *g = gen_bpf__open();

	if (!g)
		die("opening gen.bpf.o: %s", strerror(errno));
	g->rodata->nflows = opt.flows;
	g->rodata->ncpus = opt.cpus;
	g->rodata->hosts = opt.hosts;
	return g;
}

/* ---- run ---- */

struct sample {
	double t;
	struct bench_sink_counters c;
	struct cpu_times cpu;
	unsigned long long bench_ticks;
	__u64 sent;
	__u64 mwan[MWAN_STAT_MAX];
};

struct run {
	enum gen_method method;
	char why[128];
	struct frame f4, f6; /* the templates */
	struct gen_bpf *g;
	struct sink_bpf *s;
	struct sample a, b;
	struct prog_sample pa, pb;
	__u64 loop_back; /* xdp-loop: frames still going round at the end */
};

static void snap(struct sample *x, const struct run *r)
{
	x->t = now_s();
	x->c = sink_read(r->s);
	x->cpu = cpu_read();
	x->bench_ticks = bench_ticks();
	x->sent = gen_stamped(r->method, r->g, r->s);
	mwan_read(x->mwan);
}

/* mwan's counters that moved, as a JSON object. */
static void print_mwan(const struct sample *a, const struct sample *b)
{
	const char *sep = "";
	int s;

	printf(", \"mwan_events\": {");
	for (s = 0; s < MWAN_STAT_MAX; s++) {
		if (b->mwan[s] == a->mwan[s])
			continue;
		printf("%s\"%s\": %llu", sep, mwan_stat_names[s],
		       (unsigned long long)(b->mwan[s] - a->mwan[s]));
		sep = ", ";
	}
	printf("}");
}

static void print_traffic(const struct run *r)
{
	const struct sample *a = &r->a, *b = &r->b;
	double dt = b->t - a->t;

	printf("{\"generator\": \"%s\", \"generator_why\": \"%s\", "
	       "\"seconds\": %.3f, \"flows\": %u, \"cpus\": %u, "
	       "\"pps\": %.0f, \"gen_pps\": %.0f, \"v4_ok\": %llu, "
	       "\"v6_ok\": %llu, \"wrong\": %llu, \"csum_checked\": %llu, "
	       "\"csum_bad\": %llu, \"other\": %llu",
	       gen_method_names[r->method], r->why, dt, opt.flows, opt.cpus,
	       (b->c.pkts - a->c.pkts) / dt, (b->sent - a->sent) / dt,
	       b->c.v4_ok - a->c.v4_ok, b->c.v6_ok - a->c.v6_ok,
	       b->c.wrong - a->c.wrong, b->c.csum_checked - a->c.csum_checked,
	       b->c.csum_bad - a->c.csum_bad, b->c.other - a->c.other);
}

/* CPU use over the window: the whole machine's (/proc/stat); the
 * packets' (bench_ticks), also per forwarded packet; and everything else
 * on the machine.
 */
static void print_cpu(const struct sample *a, const struct sample *b)
{
	double ticks = cpu_total(&b->cpu) - cpu_total(&a->cpu);
	double idle =
		(b->cpu.idle + b->cpu.iowait) - (a->cpu.idle + a->cpu.iowait);
	double self = b->bench_ticks - a->bench_ticks;
	double pkts = b->c.pkts - a->c.pkts;

	if (!ticks)
		ticks = 1;
	printf(", \"cpu_busy_pct\": %.1f, \"cpu_softirq_pct\": %.1f, "
	       "\"cpu_bench_pct\": %.1f, \"cpu_other_pct\": %.1f, "
	       "\"cpu_ns_per_pkt\": %.1f",
	       100 * (ticks - idle) / ticks,
	       100.0 * (b->cpu.softirq - a->cpu.softirq) / ticks,
	       100 * self / ticks, 100 * (ticks - idle - self) / ticks,
	       pkts ? self / sysconf(_SC_CLK_TCK) * 1e9 / pkts : 0);
}

/* The loop's frames in flight at the end against those injected: every
 * one the router or a queue lost on the way slowed the rest of the run.
 */
static void print_loop(const struct run *r)
{
	if (r->method == GEN_LOOP)
		printf(", \"loop_frames\": {\"injected\": %u, \"returned\": %llu}",
		       opt.inflight * opt.cpus,
		       (unsigned long long)r->loop_back);
}

static void report(const struct run *r)
{
	print_traffic(r);
	print_loop(r);
	print_cpu(&r->a, &r->b);
	print_mwan(&r->a, &r->b);
	progstats_print(&r->pa, &r->pb);
	printf("}\n");
}

/* The template frames into g (unless only probing), g loaded, the
 * method chosen (in the generator's namespace).
 */
static void gen_setup(struct run *r, bool frames)
{
	__u8 dst[ETH_ALEN], src[ETH_ALEN];
	int m;

	enter_netns(opt.gen_ns);
	parse_mac(opt.dst_mac, dst);
	mac_of(opt.gen_if, src);
	r->g = gen_open();
	if (frames) {
		frame4(&r->f4, dst, src, r->g);
		frame6(&r->f6, dst, src, r->g);
	}
	if (gen_bpf__load(r->g))
		die("loading gen.bpf.o: %s", strerror(errno));
	if (!strcmp(opt.method, "auto")) {
		r->method = gen_probe(r->g, ifindex_of(opt.gen_if), r->why,
				      sizeof(r->why));
		return;
	}
	for (m = 0; m < GEN_METHODS; m++)
		if (!strcmp(opt.method, gen_method_names[m]))
			break;
	if (m == GEN_METHODS)
		die("unknown method %s", opt.method);
	r->method = m;
	snprintf(r->why, sizeof(r->why), "chosen with --method");
}

static void cmd_run(void)
{
	struct bpf_link *link;
	struct run r = { 0 };
	__u32 zero = 0, oif;
	int gen_if, fd;

	mwan_open();
	stats_init();
	gen_setup(&r, true);
	gen_if = ifindex_of(opt.gen_if);
	enter_netns(opt.sink_ns);
	r.s = sink_open(r.g, r.method == GEN_LOOP);
	link = bpf_program__attach_xdp(r.s->progs.sink,
				       ifindex_of(opt.sink_if));
	if (!link)
		die("attaching the sink to %s: %s", opt.sink_if,
		    strerror(errno));
	/* The loop's way back: the generator's interface, as its namespace
	 * names it (a devmap entry is resolved where it is written).
	 */
	enter_netns(opt.gen_ns);
	oif = gen_if;
	if (bpf_map_update_elem(bpf_map__fd(r.s->maps.tx_port), &zero, &oif, 0))
		die("the sink's way back to %s: %s", opt.gen_if,
		    strerror(errno));
	gen_start(r.method, r.g, r.s, gen_if, &r.f4, &r.f6);
	sleep_s(opt.warmup);
	snap(&r.a, &r);
	sleep_s(opt.seconds);
	snap(&r.b, &r);
	/* Each program's cost, in a window of its own: timing slows them. */
	fd = progstats_enable();
	progstats_read(&r.pa);
	sleep_s(opt.stats_seconds);
	progstats_read(&r.pb);
	close(fd);
	gen_stop();
	if (r.method == GEN_LOOP) {
		r.s->bss->loop_stop = true;
		sleep_s(0.5);
		r.loop_back = sink_read(r.s).drained;
	}
	bpf_link__destroy(link);
	report(&r);
	gen_bpf__destroy(r.g);
	sink_bpf__destroy(r.s);
}

/* gen probe: which method `--method auto` takes here, and why. */
static void cmd_probe(void)
{
	static struct run r;

	gen_setup(&r, false);
	printf("%s\t%s\n", gen_method_names[r.method], r.why);
	gen_bpf__destroy(r.g);
}

/* gen redirect: attach the ceiling program to --in, sending to --out. */
static void cmd_redirect(const char *in, const char *out)
{
	struct redirect_bpf *r;
	__u32 zero = 0, oif;

	enter_netns(opt.netns);
	oif = ifindex_of(out);
	r = redirect_bpf__open();
	if (!r)
		die("opening redirect.bpf.o: %s", strerror(errno));
	parse_mac(opt.dst_mac, (__u8 *)r->rodata->macs);
	mac_of(out, (__u8 *)r->rodata->macs + ETH_ALEN);
	if (redirect_bpf__load(r) ||
	    bpf_map_update_elem(bpf_map__fd(r->maps.tx_port), &zero, &oif, 0))
		die("loading redirect.bpf.o: %s", strerror(errno));
	if (bpf_xdp_attach(ifindex_of(in), bpf_program__fd(r->progs.redirect),
			   XDP_FLAGS_DRV_MODE, NULL))
		die("attaching to %s: %s", in, strerror(errno));
	redirect_bpf__destroy(r);
}

/* ---- command line ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: gen run --gen-ns NS --gen-if IF --dst-mac MAC --sink-ns NS\n"
		"               --sink-if IF --src4 A --dst4 A --src6 A --dst6 A\n"
		"               --want4 A --want6 A [--want6-prefix BYTES] [--hosts N]\n"
		"               [--flows N] [--cpus N] [--seconds S] [--warmup S]\n"
		"               [--only v4|v6] [--mwan-pin DIR] [--method M]\n"
		"               [--inflight N] [--stats-seconds S]\n"
		"       gen probe --gen-ns NS --gen-if IF --dst-mac MAC\n"
		"       gen redirect --netns NS --dst-mac MAC IN_IF OUT_IF\n"
		"run prints one JSON line: what the sink counted over --seconds\n"
		"after --warmup; the sink expects host i's source at --want4/6 + i;\n"
		"--mwan-pin: also the mwan counters that moved in that window;\n"
		"then each BPF program's ns per run over --stats-seconds.\n"
		"--method: auto (default: live-frames where the kernel allows them,\n"
		"else xdp-loop), live-frames, xdp-loop (--inflight frames per CPU\n"
		"go round and round: the sink sends each back as the next flow's),\n"
		"af-packet, af-xdp. probe prints the method auto takes, and why.\n");
	exit(2);
}

enum opt_kind { STR, UINT, DBL, ONLY };

static const struct {
	const char *name;
	enum opt_kind kind;
	void *dst;
} opts[] = {
	{ "gen-ns", STR, &opt.gen_ns },
	{ "gen-if", STR, &opt.gen_if },
	{ "sink-ns", STR, &opt.sink_ns },
	{ "sink-if", STR, &opt.sink_if },
	{ "netns", STR, &opt.netns },
	{ "dst-mac", STR, &opt.dst_mac },
	{ "src4", STR, &opt.src4 },
	{ "dst4", STR, &opt.dst4 },
	{ "src6", STR, &opt.src6 },
	{ "dst6", STR, &opt.dst6 },
	{ "want4", STR, &opt.want4 },
	{ "want6", STR, &opt.want6 },
	{ "mwan-pin", STR, &opt.mwan_pin },
	{ "want6-prefix", UINT, &opt.want6_prefix },
	{ "hosts", UINT, &opt.hosts },
	{ "flows", UINT, &opt.flows },
	{ "cpus", UINT, &opt.cpus },
	{ "seconds", DBL, &opt.seconds },
	{ "warmup", DBL, &opt.warmup },
	{ "method", STR, &opt.method },
	{ "inflight", UINT, &opt.inflight },
	{ "stats-seconds", DBL, &opt.stats_seconds },
	{ "only", ONLY, NULL },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void set_only(const char *v)
{
	opt.v4 = !strcmp(v, "v4");
	opt.v6 = !strcmp(v, "v6");
	if (!opt.v4 && !opt.v6)
		usage();
}

static void set_opt(size_t i, const char *v)
{
	if (i >= N_OPTS)
		usage();
	else if (opts[i].kind == STR)
		*(const char **)opts[i].dst = v;
	else if (opts[i].kind == UINT)
		*(unsigned int *)opts[i].dst = strtoul(v, NULL, 0);
	else if (opts[i].kind == DBL)
		*(double *)opts[i].dst = atof(v);
	else
		set_only(v);
}

/* Options follow the command: parse argv[1..] as if argv[1] were the
 * program name. Returns the index of the first operand.
 */
static int parse_opts(int argc, char **argv)
{
	struct option longopts[N_OPTS + 1];
	size_t i;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < N_OPTS; i++)
		longopts[i] = (struct option){ opts[i].name, required_argument,
					       NULL, 256 + (int)i };
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1)
		set_opt(c - 256, optarg);
	return 1 + optind;
}

static unsigned long long gcd(unsigned long long a, unsigned long long b)
{
	while (b) {
		unsigned long long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

enum cmd { RUN, PROBE, REDIRECT };

static void check_opts(enum cmd cmd)
{
	if (libbpf_num_possible_cpus() > BENCH_MAX_CPUS)
		die("more than %d possible CPUs", BENCH_MAX_CPUS);
	if (!opt.cpus)
		opt.cpus = libbpf_num_possible_cpus();
	if (!opt.dst_mac || (cmd != REDIRECT && (!opt.gen_ns || !opt.gen_if)) ||
	    (cmd == RUN && (!opt.sink_ns || !opt.sink_if)) ||
	    (cmd == REDIRECT && !opt.netns))
		usage();
	if (gcd(BENCH_FLOW_STRIDE, opt.flows) != 1)
		die("--flows %u shares a factor with the shuffle stride %llu",
		    opt.flows, BENCH_FLOW_STRIDE);
	if (!opt.hosts || opt.hosts > 250 || !opt.flows ||
	    opt.cpus > BENCH_MAX_CPUS || opt.seconds <= 0 ||
	    opt.stats_seconds <= 0 || opt.want6_prefix > 14 || !opt.inflight ||
	    opt.inflight > 4096)
		usage();
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int first = parse_opts(argc, argv), n = argc - first;
	char **rest = argv + first;

	if (!strcmp(cmd, "run") && n == 0) {
		check_opts(RUN);
		cmd_run();
	} else if (!strcmp(cmd, "probe") && n == 0) {
		check_opts(PROBE);
		cmd_probe();
	} else if (!strcmp(cmd, "redirect") && n == 2) {
		check_opts(REDIRECT);
		cmd_redirect(rest[0], rest[1]);
	} else {
		usage();
	}
	return 0;
}
