/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Random and mutated frames through every program on both hooks, checking the dataplane's invariants. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps/mwan_maps.h"
#include "lib/npt.h"
#include "lib/steer.h"
#include "mwan.skel.h"

static void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
#define FX_FAIL(...) die(__VA_ARGS__)
#include "tests/lib/fixture.h"

/* Invariants, checked on every frame a program lets through:
 * - what leaves by a WAN (XDP redirected from the LAN, TC egress passed)
 *   has no internal or private source: no LAN address, no RFC 1918, no
 *   fc00::/7 (the fixture's router owns none of those on a WAN);
 * - a frame that came in with valid checksums leaves with valid ones
 *   (IPv4 header; TCP, UDP, ICMP, ICMPv6 of a whole datagram);
 * - no program run fails in the kernel but for a frame shorter than its
 *   Ethernet and IP headers, which newer kernels refuse to skb programs.
 */

static struct {
	unsigned long cases, runs, mutated, refused, forwarded_out,
		forwarded_in, violations;
	unsigned long long seed, seed0; /* the generator's state, its start */
	const char *corpus;
	const char *write_dir; /* -w: also write each generated frame there */
} st;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_packets: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* xorshift64*: reproducible from --seed */
static __u64 rng(void)
{
	st.seed ^= st.seed >> 12;
	st.seed ^= st.seed << 25;
	st.seed ^= st.seed >> 27;
	return st.seed * 2685821657736338717ULL;
}

static unsigned int pick(unsigned int n)
{
	return n ? (unsigned int)(rng() % n) : 0;
}

/* ---- checksums, recomputed from scratch (fixture.h's RFC 1071) ---- */

/* Where the frame's IP header starts and what it is; false if none. */
struct l3 {
	bool v6;
	const __u8 *ip;
	size_t iplen; /* bytes of IP packet in the frame */
	size_t hlen; /* IP header (IPv4 with options; IPv6 fixed) */
	__u8 proto; /* IPv6: the first next header */
	bool whole; /* not a fragment */
};

static bool l3_of(const struct frame *f, struct l3 *l)
{
	const __u8 *b = f->b;
	__u16 type;

	if (f->len < ETH_HLEN + 20)
		return false;
	type = (__u16)(b[12] << 8 | b[13]);
	l->ip = b + ETH_HLEN;
	l->iplen = f->len - ETH_HLEN;
	if (type == ETH_P_IP) {
		const struct iphdr *h = (const struct iphdr *)l->ip;
		size_t tot = ntohs(h->tot_len);

		l->v6 = false;
		l->hlen = h->ihl * 4u;
		if (h->version != 4 || l->hlen < 20 || tot < l->hlen ||
		    tot > l->iplen)
			return false;
		l->iplen = tot;
		l->proto = h->protocol;
		l->whole = !(ntohs(h->frag_off) & 0x3fff);
		return true;
	}
	if (type == ETH_P_IPV6 && l->iplen >= 40) {
		size_t tot = 40 + (l->ip[4] << 8 | l->ip[5]);

		l->v6 = true;
		l->hlen = 40;
		if ((l->ip[0] >> 4) != 6 || tot > l->iplen)
			return false;
		l->iplen = tot;
		l->proto = l->ip[6];
		l->whole = true;
		return true;
	}
	return false;
}

/* Whether the frame's checksums are right (those it can tell). */
static bool csums_ok(const struct frame *f)
{
	struct l3 l;
	const __u8 *l4;
	size_t n;
	__u32 s = 0;

	if (!l3_of(f, &l))
		return true;
	if (!l.v6 && csum_final(sum16(l.ip, l.hlen, 0)) != 0)
		return false;
	if (!l.whole)
		return true;
	l4 = l.ip + l.hlen;
	n = l.iplen - l.hlen;
	if (l.proto == IPPROTO_UDP && !l.v6 && n >= 8 && !l4[6] && !l4[7])
		return true; /* no UDP checksum */
	if (l.proto == IPPROTO_TCP || l.proto == IPPROTO_UDP ||
	    (l.v6 && l.proto == IPPROTO_ICMPV6)) {
		if (l.v6)
			s = sum16(l.ip + 8, 32, 0);
		else
			s = sum16(l.ip + 12, 8, 0);
		s += l.proto + (__u32)n;
	} else if (l.proto != IPPROTO_ICMP) {
		return true;
	}
	if ((l.proto == IPPROTO_TCP && n < 20) || n < 8)
		return true;
	return csum_final(sum16(l4, n, s)) == 0;
}

/* ---- the source invariant ---- */

static bool private4(__u32 a)
{
	return (a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8;
}

static bool internal_src(const struct frame *f, char *why, size_t len)
{
	struct l3 l;

	if (!l3_of(f, &l))
		return false;
	if (l.v6) {
		const __u8 *s = l.ip + 8;

		if ((s[0] & 0xfe) == 0xfc || !memcmp(s, &lan_net6, 8)) {
			char a[INET6_ADDRSTRLEN];

			snprintf(why, len, "source %s",
				 inet_ntop(AF_INET6, s, a, sizeof(a)));
			return true;
		}
		return false;
	}
	{
		__u32 s;

		memcpy(&s, l.ip + 12, 4);
		s = ntohl(s);
		if (!private4(s))
			return false;
		snprintf(why, len, "source %u.%u.%u.%u", s >> 24,
			 s >> 16 & 0xff, s >> 8 & 0xff, s & 0xff);
		return true;
	}
}

/* ---- frames: generated, then perhaps mutated ---- */

static __u32 addr4(void)
{
	static const __u32 pool[] = {
		HOST(0),
		HOST(1),
		HOST(2),
		HOST(3),
		HOST(4),
		UNMAPPED,
		ROUTER_LAN,
		PUB_ATT(0),
		PUB_ATT(1),
		PUB_ATT(4),
		PUB_WP(0),
		PUB_WP(3),
		REMOTE,
		REMOTE2,
		HOP,
		ATT_ADDR,
		IP(100, 64, 2, 2),
		IP(10, 1, 2, 3),
		IP(192, 168, 1, 1),
		IP(172, 16, 0, 1),
		IP(127, 0, 0, 1),
		IP(0, 0, 0, 0),
		IP(224, 0, 0, 1),
		IP(255, 255, 255, 255),
		FILTERED4 + 3,
		ALLOWED4 + 9,
		IP(198, 51, 100, 200),
		IP(169, 254, 1, 1),
	};

	return pick(8) ? pool[pick(sizeof(pool) / sizeof(pool[0]))] :
			 (__u32)rng();
}

static struct in6_addr addr6(void)
{
	const struct in6_addr pool[] = {
		HOST6(0),
		HOST6(1),
		HOST6(4),
		ROUTER6,
		EXT6_ATT(2),
		EXT6_ATT(3),
		EXT6_WP(2),
		EXT6_WP(5),
		REMOTE6,
		REMOTE6_2,
		HOP6,
		LL6(1),
		LL6(2),
		MCAST6(1),
		ATT_ADDR6,
		WP_ADDR6,
		A6(0xfd00, 0x77, 0, 0, 0, 0, 0, 1),
		A6(0, 0, 0, 0, 0, 0, 0, 1),
		A6(0, 0, 0, 0, 0, 0, 0, 0),
		A6(0x2001, 0xdb8, 0xa1, 7, 0, 0, 0, 1),
	};
	struct in6_addr a;
	size_t i;

	if (pick(8))
		return pool[pick(sizeof(pool) / sizeof(pool[0]))];
	for (i = 0; i < 16; i++)
		a.s6_addr[i] = (__u8)rng();
	return a;
}

static void random_ip(struct ip46 *ip, bool v6, bool quoted)
{
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
				       IPPROTO_ICMP, 47 };
	static const __u8 err4[] = { ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED,
				     ICMP_PARAMETERPROB };
	static const __u8 err6[] = { ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG,
				     ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB };

	memset(ip, 0, sizeof(*ip));
	ip->v6 = v6;
	ip->ttl = pick(6) ? 64 : (__u8)pick(3);
	ip->proto = protos[pick(sizeof(protos))];
	if (v6) {
		ip->src6 = addr6();
		ip->dst6 = addr6();
		if (ip->proto == IPPROTO_ICMP)
			ip->proto = IPPROTO_ICMPV6;
		ip->xh = pick(6) ? 0 : (__u8)pick(0x40);
	} else {
		ip->src = addr4();
		ip->dst = addr4();
		ip->optwords = pick(8) ? 0 : (__u8)pick(4);
	}
	ip->sport = (__u16)(pick(4) ? 1024 + pick(64) : rng());
	ip->dport = (__u16)(pick(4) ? 53 + pick(3) : rng());
	ip->flags = (__u8)(pick(2) ? 0x02 : rng());
	ip->id = (__u32)rng();
	ip->paylen = (__u16)(pick(8) ? pick(64) : pick(1400));
	ip->nocsum = !v6 && ip->proto == IPPROTO_UDP && !pick(8);
	if (ip->proto == IPPROTO_ICMP || ip->proto == IPPROTO_ICMPV6) {
		bool error = !quoted && pick(2);

		if (error) {
			ip->type = v6 ? err6[pick(sizeof(err6))] :
					err4[pick(sizeof(err4))];
			ip->paylen = 0;
		} else {
			ip->type = v6 ? ICMP6_ECHO_REQUEST + pick(2) :
					(pick(2) ? ICMP_ECHO : ICMP_ECHOREPLY);
		}
		ip->rest = (__u32)rng();
	}
	if (!pick(10) && !quoted && !icmp_is_error(ip)) {
		ip->mf = pick(2);
		ip->frag_off = (__u16)(pick(4) * 8);
		ip->frag_len = ip->mf ? 8 + (__u16)pick(4) * 8 : 0;
		/* the slice lies inside the datagram */
		if (ip->paylen < ip->frag_off + ip->frag_len + 64)
			ip->paylen = ip->frag_off + ip->frag_len + 64;
	}
}

/* One case: a frame arriving on `iface`, with its checksums valid until
 * mutated (then *valid is false).
 */
static void make_frame(struct frame *f, int *iface, bool *valid)
{
	struct ip46 ip, q;
	struct pkt p;
	bool v6 = pick(3) == 0;

	*iface = pick(3) == 0 ? IF_LAN : pick(2) ? IF_ATT : IF_WP;
	random_ip(&ip, v6, false);
	random_ip(&q, v6, true);
	/* an error quotes what its destination once sent, often enough */
	if (pick(2)) {
		q.src = ip.dst;
		q.src6 = ip.dst6;
	}
	q.paylen = (__u16)pick(64); /* errors quote at most 576 bytes */
	p = arriving(*iface, &ip, &q, 0);
	build(&p, f);
	*valid = true;
	if (pick(10) < 3) {
		unsigned int n = 1 + pick(8), i;

		st.mutated++;
		*valid = false;
		for (i = 0; i < n; i++) {
			switch (pick(4)) {
			case 0: /* a byte anywhere */
				if (f->len)
					f->b[pick(f->len)] ^=
						(__u8)(1 + pick(255));
				break;
			case 1: /* in the IP header */
				f->b[ETH_HLEN + pick(40)] = (__u8)rng();
				break;
			case 2: /* cut */
				f->len = pick(f->len + 1);
				break;
			default: /* grow with junk */
				while (f->len < FRAME_MAX && pick(8))
					f->b[f->len++] = (__u8)rng();
			}
		}
	}
}

/* ---- running ---- */

static void violation(const char *what, const struct frame *in, int iface,
		      const struct frame *out)
{
	__u32 i;

	st.violations++;
	fprintf(stderr,
		"VIOLATION (case %lu of -s %llu): %s; in on %s:", st.cases,
		st.seed0, what, if_names[iface]);
	for (i = 0; i < in->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", in->b[i]);
	fprintf(stderr, "\n  out:");
	for (i = 0; out && i < out->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", out->b[i]);
	fputc('\n', stderr);
}

static int run_one(enum prog prog, int iface, const struct frame *f,
		   struct fx_result *r)
{
	int err = fx_run(prog, iface, f, r);

	st.runs++;
	if (err == -EINVAL && f->len < ETH_HLEN + 40) {
		st.refused++;
		return err;
	}
	if (err)
		die("%s on %s: test run failed: %s", prog_names[prog],
		    if_names[iface], strerror(-err));
	return 0;
}

/* What leaves by a WAN: no internal source; checksums kept. */
static void check_wan_out(const char *path, const struct frame *in, int iface,
			  bool valid, const struct frame *out)
{
	char why[96], what[160];

	st.forwarded_out++;
	if (internal_src(out, why, sizeof(why))) {
		snprintf(what, sizeof(what), "%s: %s leaves a WAN", path, why);
		violation(what, in, iface, out);
	}
	if (valid && !csums_ok(out)) {
		snprintf(what, sizeof(what), "%s: bad checksum on the wire",
			 path);
		violation(what, in, iface, out);
	}
}

static void check_in(const char *path, const struct frame *in, int iface,
		     bool valid, const struct frame *out)
{
	char what[160];

	st.forwarded_in++;
	if (valid && !csums_ok(out)) {
		snprintf(what, sizeof(what), "%s: bad checksum towards the LAN",
			 path);
		violation(what, in, iface, out);
	}
}

/* The WAN a TC mark routes to, or -1. */
static int wan_of_mark(__u32 mark)
{
	return mark == FWMARK(0) ? 0 : mark == FWMARK(1) ? 1 : -1;
}

static void one_case(const struct frame *f, int iface, bool valid)
{
	static struct fx_result r, r2;
	int w;

	st.cases++;
	/* the fast path */
	if (!run_one(XDP, iface, f, &r) && r.action == XDP_REDIRECT) {
		if (iface == IF_LAN)
			check_wan_out("xdp", f, iface, valid, &r.f);
		else
			check_in("xdp", f, iface, valid, &r.f);
	}
	/* the slow path: TC ingress, then the kernel routes by the mark */
	if (!run_one(TC_IN, iface, f, &r) && r.action == TC_ACT_OK) {
		w = iface == IF_LAN ? wan_of_mark(r.mark) : -1;
		if (w >= 0 && !run_one(TC_OUT, WAN_IF(w), &r.f, &r2) &&
		    r2.action == TC_ACT_OK)
			check_wan_out("tc_in+tc_out", f, iface, valid, &r2.f);
		else if (iface != IF_LAN && r.mark)
			check_in("tc_in", f, iface, valid, &r.f);
	}
	/* whatever the kernel might hand a WAN's egress */
	w = pick(2);
	if (!run_one(TC_OUT, WAN_IF(w), f, &r) && r.action == TC_ACT_OK)
		check_wan_out("tc_out", f, WAN_IF(w), valid, &r.f);
}

static void write_frame(const struct frame *f, int iface)
{
	static const char *const prefix[] = { "lan", "att", "wp" };
	char path[4096];
	FILE *fp;
	__u32 i;

	snprintf(path, sizeof(path), "%s/%s-%06lu.hex", st.write_dir,
		 prefix[iface], st.cases);
	fp = fopen(path, "w");
	if (!fp)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < f->len; i++)
		fprintf(fp, "%02x%s", f->b[i], i % 32 == 31 ? "\n" : "");
	fputc('\n', fp);
	fclose(fp);
}

/* Regression seeds: one frame per file, hex, arriving on the interface
 * the file name starts with (lan-, att-, wp-).
 */
static void run_corpus(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	unsigned int n = 0;

	if (!d)
		die("corpus %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char path[4096];
		static struct frame f;
		unsigned int byte;
		int iface;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		iface = !strncmp(e->d_name, "lan-", 4) ? IF_LAN :
			!strncmp(e->d_name, "att-", 4) ? IF_ATT :
			!strncmp(e->d_name, "wp-", 3)  ? IF_WP :
							 -1;
		if (iface < 0)
			die("corpus file %s: name it lan-, att- or wp-...",
			    e->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fp = fopen(path, "r");
		if (!fp)
			die("%s: %s", path, strerror(errno));
		f.len = 0;
		while (f.len < FRAME_MAX && fscanf(fp, "%2x", &byte) == 1)
			f.b[f.len++] = (__u8)byte;
		fclose(fp);
		one_case(&f, iface, csums_ok(&f));
		n++;
	}
	closedir(d);
	printf("corpus: %u seed frames from %s\n", n, dir);
}

int main(int argc, char **argv)
{
	unsigned long n = 1000000, reset = 20000, i;
	struct timespec t0, t1;
	static struct frame f;
	bool valid;
	int iface, opt;

	st.seed = 0x6d77616e;
	while ((opt = getopt(argc, argv, "n:s:c:w:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 's':
			st.seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			st.corpus = optarg;
			break;
		case 'w':
			st.write_dir = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: fuzz_packets [-n CASES] [-s SEED] [-c CORPUS_DIR] [-w DIR]\n");
			return 2;
		}
	}
	st.seed0 = st.seed;
	if (geteuid() != 0)
		die("needs root (BPF_PROG_TEST_RUN, a network namespace)");
	if (fx_open())
		die("cannot load the programs");
	fx_reset();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (st.corpus)
		run_corpus(st.corpus);
	for (i = 0; i < n; i++) {
		/* flows pile up; a fresh table now and then */
		if (i && i % reset == 0)
			fx_reset();
		make_frame(&f, &iface, &valid);
		if (st.write_dir)
			write_frame(&f, iface);
		one_case(&f, iface, valid);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("fuzz_packets: %lu cases (%lu mutated), %lu program runs in %.1f s: %lu left by a WAN, %lu towards the LAN, %lu refused by the kernel as too short; %lu invariant violations\n",
	       st.cases, st.mutated, st.runs,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       st.forwarded_out, st.forwarded_in, st.refused, st.violations);
	fx_close();
	return st.violations ? 1 : 0;
}
