/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The real XDP and TC programs run on crafted frames, checked byte for byte. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sched.h>
#include <setjmp.h>
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
#include <cmocka.h>

#include "maps/mwan_maps.h"
#include "lib/npt.h"
#include "lib/steer.h"
#include "loader/routing.h"
#include "mwan.skel.h"

#define FX_FAIL(...) fail_msg(__VA_ARGS__)
#include "tests/lib/fixture.h"

static int setup(void **state)
{
	(void)state;
	fx_reset();
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return fx_open();
}

static int group_teardown(void **state)
{
	(void)state;
	fx_close();
	return 0;
}

/* ---- RFC 6296, written from the RFC's text: the expected outputs ---- */

static __u16 word6(const struct in6_addr *a, int i)
{
	return a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1];
}

static void set_word6(struct in6_addr *a, int i, __u16 w)
{
	a->s6_addr[2 * i] = w >> 8;
	a->s6_addr[2 * i + 1] = w & 0xff;
}

/* One's complement addition with end-around carry (RFC 1071). */
static __u16 ones_add(__u16 a, __u16 b)
{
	__u32 s = (__u32)a + b;

	return (s & 0xffff) + (s >> 16);
}

/* Mask of the prefix bits of a /plen that fall in 16-bit word i. */
static __u16 plen_mask16(unsigned int plen, int i)
{
	int bits = (int)plen - 16 * i;

	if (bits >= 16)
		return 0xffff;
	return bits <= 0 ? 0 : (__u16)(0xffff << (16 - bits));
}

static __u16 prefix_sum6(const struct in6_addr *p, unsigned int plen)
{
	__u16 s = 0;
	int i;

	for (i = 0; i < 8; i++)
		s = ones_add(s, word6(p, i) & plen_mask16(plen, i));
	return s;
}

/* Rewrites `a` from prefix `from` to prefix `to` (both /plen, at most
 * /64) the way RFC 6296 says: §3.1 adjustment sum(from) - sum(to), added
 * to word 3 for a /48 or shorter (§3.4) and otherwise to the first word
 * of the interface identifier that is not 0xFFFF (§3.5), a result of
 * 0xFFFF written as 0x0000. False where it says to drop: word 3 0xFFFF,
 * an all-ones IID (§3.7 with erratum 8757).
 */
static bool rfc6296(struct in6_addr *a, const struct in6_addr *from,
		    const struct in6_addr *to, unsigned int plen)
{
	__u16 adj = ones_add(prefix_sum6(from, plen),
			     (__u16)~prefix_sum6(to, plen));
	int i, k = 3;
	__u16 w;

	if (plen > 48)
		for (k = 4; k < 8 && word6(a, k) == 0xffff; k++)
			;
	if (k == 8 || word6(a, k) == 0xffff)
		return false;
	for (i = 0; i < 8; i++) {
		__u16 m = plen_mask16(plen, i);

		set_word6(a, i, (word6(a, i) & ~m) | (word6(to, i) & m));
	}
	w = ones_add(word6(a, k), adj);
	set_word6(a, k, w == 0xffff ? 0 : w);
	return true;
}

static const char *ntop6(const struct in6_addr *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int n;

	n = (n + 1) % 4;
	return inet_ntop(AF_INET6, a, buf[n], sizeof(buf[n]));
}

/* An internal IPv6 address as `wan` shows it (out), or back (!out). */
static void npt6(struct in6_addr *a, int wan, bool out)
{
	const struct in6_addr *ext = &wan_defs[wan].ext6;
	struct in6_addr was = *a;

	if (!rfc6296(a, out ? &lan_net6 : ext, out ? ext : &lan_net6,
		     LAN_PLEN6))
		fail_msg("test bug: %s cannot be translated", ntop6(&was));
}

/* ---- what the router does to a packet ---- */

/* Addressed from `wan`'s interface to its gateway. */
static struct pkt to_gateway(struct pkt p, int wan)
{
	memcpy(p.dmac, gw_macs[p.ip.v6][wan], ETH_ALEN);
	memcpy(p.smac, if_macs[WAN_IF(wan)], ETH_ALEN);
	return p;
}

/* A forwarding hop to `wan`'s gateway: TTL and MACs. */
static struct pkt hop_out(struct pkt p, int wan)
{
	p.ip.ttl--;
	return to_gateway(p, wan);
}

/* A forwarding hop to the LAN host the packet is addressed to. */
static struct pkt hop_in(struct pkt p)
{
	p.ip.ttl--;
	host_mac(p.dmac, p.ip.v6, host_id(&p.ip, DST));
	memcpy(p.smac, if_macs[IF_LAN], ETH_ALEN);
	return p;
}

/* Address `which` of `ip` from internal to what `wan` shows (out), or
 * back (!out): IPv4 by the 1:1 map, IPv6 by RFC 6296.
 */
static void xlate(struct ip46 *ip, int which, int wan, bool out)
{
	__u32 *a = which == SRC ? &ip->src : &ip->dst;

	if (ip->v6)
		npt6(which == SRC ? &ip->src6 : &ip->dst6, wan, out);
	else
		*a = out ? ext_of(*a, wan) : internal_of(*a, wan);
}

/* Outbound on `wan`: the source, and an error's quoted destination. */
static struct pkt snat(struct pkt p, int wan)
{
	xlate(&p.ip, SRC, wan, true);
	if (icmp_is_error(&p.ip))
		xlate(&p.q, DST, wan, true);
	return p;
}

/* Inbound from `wan`: the destination, and an error's quoted source. */
static struct pkt dnat(struct pkt p, int wan)
{
	xlate(&p.ip, DST, wan, false);
	if (icmp_is_error(&p.ip))
		xlate(&p.q, SRC, wan, false);
	return p;
}

/* The answer to `ip`. */
static struct ip46 reply_of(const struct ip46 *ip)
{
	struct ip46 r = *ip;

	r.src = ip->dst;
	r.dst = ip->src;
	r.src6 = ip->dst6;
	r.dst6 = ip->src6;
	r.ttl = 60;
	if (is_icmp(ip)) {
		r.type = ip->v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
	} else {
		r.sport = ip->dport;
		r.dport = ip->sport;
		r.flags |= ACK;
	}
	return r;
}

/* What a flow records as its public IPv4 address for a packet seen on the
 * WAN side, address `which`; IPv6 flows record none.
 */
static __u32 flow_ext4(const struct ip46 *wire, int which)
{
	return wire->v6 ? 0 : which == SRC ? wire->src : wire->dst;
}

/* ---- flows and steering ---- */

/* The flow of `ip`, seen from the internal host: its source when `out`,
 * else its destination.
 */
static struct mwan_flow_key flow_key(const struct ip46 *ip, bool out)
{
	bool icmp = is_icmp(ip);
	struct mwan_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = ip->v6 ? AF_INET6 : AF_INET;
	k.proto = ip->proto;
	k.sport = htons(out || icmp ? ip->sport : ip->dport);
	k.dport = htons(icmp ? 0 : out ? ip->dport : ip->sport);
	if (ip->v6) {
		memcpy(k.inner6, out ? &ip->src6 : &ip->dst6, 16);
		memcpy(k.remote6, out ? &ip->dst6 : &ip->src6, 16);
	} else {
		k.inner4 = htonl(out ? ip->src : ip->dst);
		k.remote4 = htonl(out ? ip->dst : ip->src);
	}
	return k;
}

/* The flow of a packet from a LAN host. */
static struct mwan_flow_key key_out(const struct ip46 *ip)
{
	return flow_key(ip, true);
}

/* The flow of a packet from outside, arriving on `wan`. */
static struct mwan_flow_key key_in(const struct ip46 *ip, int wan)
{
	struct ip46 t = *ip;

	xlate(&t, DST, wan, false);
	return flow_key(&t, false);
}

/* The WAN the datapath must give a new flow of a host on both WANs; for
 * IPv6, of the WANs mwan_npt_mask says hold a prefix.
 */
static int predict(const struct mwan_flow_key *k)
{
	__u32 mask = k->family == AF_INET6 ? npt_mask_get() :
					     (1U << N_WANS) - 1;
	struct mwan_steer st;

	get(MAP(mwan_steer), &mask, &st);
	return st.slot[mwan_flow_hash(k) & (MWAN_STEER_SLOTS - 1)];
}

/* The first source port from 40000 that steers `ip` to `wan`: sent by a
 * LAN host (`arrival` < 0) or from outside on WAN `arrival`.
 */
static __u16 sport_to(int wan, struct ip46 ip, int arrival)
{
	struct mwan_flow_key k;

	for (ip.sport = 40000; ip.sport < 41000; ip.sport++) {
		k = arrival < 0 ? key_out(&ip) : key_in(&ip, arrival);
		if (predict(&k) == wan)
			return ip.sport;
	}
	fail_msg("no port steers to WAN %d", wan);
	return 0;
}

struct flow_want {
	int wan;
	__u32 ext;
	int origin, moves;
	__u64 pkts_out, bytes_out, pkts_in, bytes_in;
};

/* The WANs mwan_nat4 gives an internal host a public address on. */
static __u8 nat_mask_of(__be32 host)
{
	struct mwan_nat4 n;
	__u8 mask = 0;
	int w;

	if (bpf_map_lookup_elem(MAP(mwan_nat4), &host, &n))
		fail_msg("host not in mwan_nat4");
	for (w = 0; w < MWAN_MAX_WANS; w++)
		if (n.ext[w])
			mask |= 1U << w;
	return mask;
}

/* Flows in both tables. */
static unsigned int n_flows(void)
{
	return count_hash(MAP(mwan_flows)) + count_hash(MAP(mwan_flows_in));
}

/* The flow exists and takes `wan` with `ext` (and, for an IPv4 flow from
 * the LAN, records the WANs of its host's mapping); returns it.
 */
static struct mwan_flow expect_route(const struct mwan_flow_key *k, int wan,
				     __u32 ext, int origin)
{
	struct mwan_flow f;
	/* each origin has its table: a flood from outside cannot push out
	 * the LAN's flows
	 */
	int fd = origin == MWAN_ORIGIN_WAN ? MAP(mwan_flows_in) :
					     MAP(mwan_flows);

	if (bpf_map_lookup_elem(fd, k, &f))
		fail_msg("flow not in %s", origin == MWAN_ORIGIN_WAN ?
						   "mwan_flows_in" :
						   "mwan_flows");
	assert_int_equal(f.wan, wan);
	assert_int_equal(ntohl(f.ext4), ext);
	assert_int_equal(f.origin, origin);
	assert_true(f.created_ns && f.seen_ns >= f.created_ns);
	if (k->family == AF_INET && origin == MWAN_ORIGIN_LAN)
		assert_int_equal(f.hostmask, nat_mask_of(k->inner4));
	return f;
}

static void expect_flow(const struct mwan_flow_key *k,
			const struct flow_want *w)
{
	struct mwan_flow f = expect_route(k, w->wan, w->ext, w->origin);

	assert_int_equal(f.moves, w->moves);
	assert_int_equal(f.pkts_out, w->pkts_out);
	assert_int_equal(f.bytes_out, w->bytes_out);
	assert_int_equal(f.pkts_in, w->pkts_in);
	assert_int_equal(f.bytes_in, w->bytes_in);
}

/* ---- counters ---- */

struct stat_want {
	int stat; /* -1: none */
	__u64 n;
};

/* Every counter must hold what `w` says, and every other one zero. */
static void expect_stats_(const struct stat_want *w, size_t n)
{
	int s;
	size_t i;

	for (s = 0; s < MWAN_STAT_MAX; s++) {
		__u64 want = 0, got = fx_stat(s);

		for (i = 0; i < n; i++)
			if (w[i].stat == s)
				want = w[i].n;
		if (got != want)
			fail_msg("counter %s: %llu, want %llu",
				 fx_stat_names[s], (unsigned long long)got,
				 (unsigned long long)want);
	}
}

#define expect_stats(...)                                                 \
	do {                                                              \
		const struct stat_want w_[] = { { -1, 0 }, __VA_ARGS__ }; \
		expect_stats_(w_, ARRAY_SIZE(w_));                        \
	} while (0)

static void zero_stats(void)
{
	zero_percpu(MAP(mwan_stats), MWAN_STAT_MAX, sizeof(__u64));
}

static void expect_wanstat(int wan, __u64 pkts_out, __u64 bytes_out,
			   __u64 pkts_in, __u64 bytes_in)
{
	struct mwan_wan_counters *c = fx.percpu, sum = { 0 };
	__u32 key = wan;
	int i;

	get(MAP(mwan_wanstat), &key, c);
	for (i = 0; i < fx.ncpus; i++) {
		sum.pkts_out += c[i].pkts_out;
		sum.bytes_out += c[i].bytes_out;
		sum.pkts_in += c[i].pkts_in;
		sum.bytes_in += c[i].bytes_in;
	}
	assert_int_equal(sum.pkts_out, pkts_out);
	assert_int_equal(sum.bytes_out, bytes_out);
	assert_int_equal(sum.pkts_in, pkts_in);
	assert_int_equal(sum.bytes_in, bytes_in);
}

/* ---- running the programs ---- */

static void run(enum prog prog, int iface, const struct frame *in,
		struct fx_result *r)
{
	int err = fx_run(prog, iface, in, r);

	if (err)
		fail_msg("%s test run: %s", prog_names[prog], strerror(-err));
}

static void dump(const char *what, const struct frame *f, __u32 mark_at)
{
	__u32 i;

	print_error("%s (%u bytes):", what, f->len);
	for (i = 0; i < f->len; i++)
		print_error("%s%s%02x", i % 16 ? "" : "\n  ",
			    i == mark_at ? ">" : " ", f->b[i]);
	print_error("\n");
}

static void assert_frame(const struct frame *got, const struct frame *want)
{
	__u32 i, n = got->len < want->len ? got->len : want->len;

	for (i = 0; i < n && got->b[i] == want->b[i]; i++)
		;
	if (i == n && got->len == want->len)
		return;
	dump("got", got, i);
	dump("want", want, i);
	fail_msg("output differs at byte %u", i);
}

/* RFC 6296 is checksum-neutral: NPTv6 must leave the L4 checksum of the
 * packet and of the packet an ICMPv6 error quotes exactly as they came.
 */
static void expect_csums_kept(const struct frame *in, const struct frame *got)
{
	int i;

	for (i = 0; i < 2; i++) {
		__u32 at = in->csum_at[i];

		if (at && memcmp(in->b + at, got->b + at, 2))
			fail_msg("%s L4 checksum at byte %u: %02x%02x, came "
				 "in as %02x%02x (NPTv6 is checksum-neutral)",
				 i ? "quoted" : "outer", at, got->b[at],
				 got->b[at + 1], in->b[at], in->b[at + 1]);
	}
}

static bool is_drop(enum prog prog, int action)
{
	return prog == XDP ? action == XDP_DROP : action == TC_ACT_SHOT;
}

static struct fx_result last; /* of the latest expect_frame */

/* Runs `in` and checks the verdict and the output bytes (not for drops).
 * Returns the skb mark the program left.
 */
static __u32 expect_frame(enum prog prog, int iface, const struct frame *in,
			  int action, const struct frame *want)
{
	run(prog, iface, in, &last);
	if (last.action != action)
		fail_msg("%s on %s: action %d, want %d", prog_names[prog],
			 if_names[iface], last.action, action);
	if (!is_drop(prog, action))
		assert_frame(&last.f, want);
	return last.mark;
}

/* As expect_frame; `want` NULL: the bytes must come out untouched. IPv6
 * checksums must come out as they went in, whatever was translated.
 */
static __u32 expect(enum prog prog, int iface, const struct pkt *in, int action,
		    const struct pkt *want)
{
	static struct frame fin, fwant;
	__u32 mark;

	build(in, &fin);
	if (want)
		build(want, &fwant);
	else
		fwant = fin;
	mark = expect_frame(prog, iface, &fin, action, &fwant);
	if (in->ip.v6 && !is_drop(prog, action))
		expect_csums_kept(&fin, &last.f);
	return mark;
}

/* ---- the two paths a translated packet can take ---- */

/* XDP translates and redirects out of `wan`. */
static size_t xdp_out(const struct pkt *in, int wan)
{
	struct pkt want = hop_out(snat(*in, wan), wan);

	expect(XDP, IF_LAN, in, XDP_REDIRECT, &want);
	return frame_len(in);
}

static size_t xdp_in(const struct pkt *in, int wan)
{
	struct pkt want = hop_in(dnat(*in, wan));

	expect(XDP, WAN_IF(wan), in, XDP_REDIRECT, &want);
	return frame_len(in);
}

/* The slow path: mwan_tc_in marks the packet at LAN ingress without
 * touching it, the kernel routes it by the mark, mwan_tc_out SNATs it.
 */
static size_t tc_out(const struct pkt *in, int wan)
{
	struct pkt eg = hop_out(*in, wan), want = snat(eg, wan);

	assert_int_equal(expect(TC_IN, IF_LAN, in, TC_ACT_OK, NULL),
			 FWMARK(wan));
	expect(TC_OUT, WAN_IF(wan), &eg, TC_ACT_OK, &want);
	return frame_len(in);
}

/* mwan_tc_in DNATs at WAN ingress and marks with the WAN it came by. */
static size_t tc_in(const struct pkt *in, int wan)
{
	struct pkt want = dnat(*in, wan);

	assert_int_equal(expect(TC_IN, WAN_IF(wan), in, TC_ACT_OK, &want),
			 FWMARK(wan));
	return frame_len(in);
}

struct path {
	const char *name;
	size_t (*out)(const struct pkt *in, int wan);
	size_t (*in)(const struct pkt *in, int wan);
	int ev_out, ev_mark, ev_in; /* counted per packet out / in */
	enum prog entry; /* the program that sees a packet first */
	int pass, drop; /* its verdicts for "the kernel's" and "dropped" */
};

static const struct path xdp_path = {
	.name = "xdp",
	.out = xdp_out,
	.in = xdp_in,
	.ev_out = MWAN_EV_XDP_FWD_OUT,
	.ev_mark = -1,
	.ev_in = MWAN_EV_XDP_FWD_IN,
	.entry = XDP,
	.pass = XDP_PASS,
	.drop = XDP_DROP,
};
static const struct path tc_path = {
	.name = "tc",
	.out = tc_out,
	.in = tc_in,
	.ev_out = MWAN_EV_TC_SNAT,
	.ev_mark = MWAN_EV_TC_MARK,
	.ev_in = MWAN_EV_TC_DNAT,
	.entry = TC_IN,
	.pass = TC_ACT_OK,
	.drop = TC_ACT_SHOT,
};

/* Only XDP counts what it leaves to the kernel. */
static int xdp_only(const struct path *p, int stat)
{
	return p->entry == XDP ? stat : -1;
}

#define expect_traffic(p, out, in, flows, ...)                          \
	expect_stats({ MWAN_EV_FLOW_NEW, flows }, { (p)->ev_out, out }, \
		     { (p)->ev_mark, out }, { (p)->ev_in, in }, __VA_ARGS__)

/* A table case run on one path. */
struct variant {
	const void *c;
	const struct path *path;
};

/* ---- flows: LAN -> WAN, a second packet, the reply ---- */

struct flow_case {
	const char *name;
	struct ip46 first, next; /* two packets of one flow */
};

static const struct flow_case flow_cases[] = {
	{ "tcp_syn", TCP(HOST(0), REMOTE, 40000, 443, SYN, 0),
	  TCP(HOST(0), REMOTE, 40000, 443, ACK, 100) },
	{ "udp", UDP(HOST(0), REMOTE, 50000, 53, 32),
	  UDP(HOST(0), REMOTE, 50000, 53, 300) },
	{ "udp_zero_csum", UDP(HOST(1), REMOTE, 50001, 4789, 48, .nocsum = 1),
	  UDP(HOST(1), REMOTE, 50001, 4789, 9, .nocsum = 1) },
	{ "udp_tiny_padded", UDP(HOST(2), REMOTE, 50002, 9, 0),
	  UDP(HOST(2), REMOTE, 50002, 9, 1) },
	{ "icmp_echo", ECHO(HOST(3), REMOTE, 0x1234, 1, 56),
	  ECHO(HOST(3), REMOTE, 0x1234, 2, 56) },
	{ "ipv6_tcp_syn", TCP6(HOST6(0), REMOTE6, 40000, 443, SYN, 0),
	  TCP6(HOST6(0), REMOTE6, 40000, 443, ACK, 100) },
	{ "ipv6_udp", UDP6(HOST6(0), REMOTE6, 50000, 53, 32),
	  UDP6(HOST6(0), REMOTE6, 50000, 53, 300) },
	{ "ipv6_udp_empty", UDP6(HOST6(2), REMOTE6, 50002, 9, 0),
	  UDP6(HOST6(2), REMOTE6, 50002, 9, 1) },
	{ "ipv6_echo", ECHO6(HOST6(0), REMOTE6, 0x1234, 1, 56),
	  ECHO6(HOST6(0), REMOTE6, 0x1234, 2, 56) },
};

/* The fast path leaves these to the slow path, which handles them. */
static const struct flow_case flow_tc_cases[] = {
	{ "ipv6_udp_dstopts",
	  UDP6(HOST6(0), REMOTE6, 50000, 53, 32, .xh = X_DST),
	  UDP6(HOST6(0), REMOTE6, 50000, 53, 300, .xh = X_DST) },
	{ "ipv6_tcp_hbh_dstopts",
	  TCP6(HOST6(4), REMOTE6, 40000, 443, SYN, 0, .xh = X_HBH | X_DST),
	  TCP6(HOST6(4), REMOTE6, 40000, 443, ACK, 99, .xh = X_HBH | X_DST) },
};

static void test_flow(void **state)
{
	const struct variant *v = *state;
	const struct flow_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->first);
	int wan = predict(&k);
	struct ip46 sent = c->first, back;
	struct pkt a = arriving(IF_LAN, &c->first, NULL, 0);
	struct pkt b = arriving(IF_LAN, &c->next, NULL, 0), r;
	size_t la, lb, lr;

	xlate(&sent, SRC, wan, true);
	back = reply_of(&sent);
	r = arriving(WAN_IF(wan), &back, NULL, 0);
	la = p->out(&a, wan);
	lb = p->out(&b, wan);
	lr = p->in(&r, wan);
	expect_flow(&k, &(struct flow_want){ .wan = wan,
					     .ext = flow_ext4(&sent, SRC),
					     .origin = MWAN_ORIGIN_LAN,
					     .pkts_out = 2,
					     .bytes_out = la + lb,
					     .pkts_in = 1,
					     .bytes_in = lr });
	expect_traffic(p, 2, 1, 1);
	expect_wanstat(wan, 2, la + lb, 1, lr);
	expect_wanstat(!wan, 0, 0, 0, 0);
	assert_int_equal(n_flows(), 1);
}

/* ---- steering ---- */

static void wan_edit(int w, __u8 set_flags, __u8 clear_flags, int health,
		     int tier)
{
	struct mwan_wan v = wan_get(w);

	v.flags = (v.flags | set_flags) & ~clear_flags;
	if (health >= 0)
		v.health = health;
	if (tier >= 0)
		v.tier = tier;
	wan_put(w, &v);
}

static void tw_att_admin_down(void)
{
	admin_set(ATT, MWAN_ADMIN_DOWN);
}

static void tw_att_health_down(void)
{
	wan_edit(ATT, 0, 0, MWAN_HEALTH_DOWN, -1);
}

static void tw_att_link_down(void)
{
	wan_edit(ATT, 0, MWAN_WAN_LINK_UP, -1, -1);
}

static void tw_all_health_down(void)
{
	wan_edit(ATT, 0, 0, MWAN_HEALTH_DOWN, -1);
	wan_edit(WP, 0, 0, MWAN_HEALTH_DOWN, -1);
}

static void tw_all_links_down(void)
{
	wan_edit(ATT, 0, MWAN_WAN_LINK_UP, -1, -1);
	wan_edit(WP, 0, MWAN_WAN_LINK_UP, -1, -1);
}

static void tw_wp_tier2(void)
{
	wan_edit(WP, 0, 0, -1, 2);
}

static void tw_wp_tier2_att_down(void)
{
	tw_wp_tier2();
	tw_att_health_down();
}

static void tw_att_down_admin_up(void)
{
	tw_att_health_down();
	admin_set(ATT, MWAN_ADMIN_UP);
}

/* The loader takes a WAN's prefix away (`bpfctl pd WAN clear`, expiry):
 * entry and mask bit go, the steering tables are recomputed.
 */
static void npt_clear(int w)
{
	__u32 key = w;

	bpf_map_delete_elem(MAP(mwan_npt), &key);
	npt_mask_set(npt_mask_get() & ~(1U << w));
	steer_sync();
}

static void tw_wp_no_prefix(void)
{
	npt_clear(WP);
}

static void tw_att_no_prefix(void)
{
	npt_clear(ATT);
}

static void tw_no_prefix(void)
{
	npt_clear(ATT);
	npt_clear(WP);
}

static void tw_wp_no_prefix_att_down(void)
{
	tw_wp_no_prefix();
	tw_att_health_down();
}

/* webpass's delegated prefix ran out; the loader has not noticed yet
 * (mask bit still set).
 */
/* Expired 50 ms ago: the datapath reads the coarse clock, which may lag
 * CLOCK_MONOTONIC by a tick.
 */
static void tw_wp_expired(void)
{
	npt_put(WP, mono_ns() - 50000000ULL);
}

struct steer_case {
	const char *name;
	void (*tweak)(void);
	int att_pct; /* share of new flows on att */
	bool failopen;
	bool v6;
};

static const struct steer_case steer_cases[] = {
	{ "split_3_1", NULL, 75, false, false },
	{ "att_admin_down", tw_att_admin_down, 0, false, false },
	{ "att_health_down", tw_att_health_down, 0, false, false },
	{ "att_link_down", tw_att_link_down, 0, false, false },
	{ "all_down_fail_open", tw_all_health_down, 75, true, false },
	{ "all_links_down_fail_open", tw_all_links_down, 75, true, false },
	{ "tier2_idle_while_tier1_up", tw_wp_tier2, 100, false, false },
	{ "tier2_takes_over", tw_wp_tier2_att_down, 0, false, false },
	{ "admin_up_beats_health", tw_att_down_admin_up, 75, false, false },
	{ "ipv6_split_3_1", NULL, 75, false, true },
	{ "ipv6_att_health_down", tw_att_health_down, 0, false, true },
	/* only WANs with a prefix carry IPv6 */
	{ "ipv6_wp_no_prefix", tw_wp_no_prefix, 100, false, true },
	{ "ipv6_att_no_prefix", tw_att_no_prefix, 0, false, true },
	{ "ipv6_wp_no_prefix_att_down_fail_open", tw_wp_no_prefix_att_down, 100,
	  true, true },
};

/* Sends `n` new UDP flows through XDP, each checked against the steering
 * table byte for byte; returns how many left by att.
 */
static unsigned int send_new_flows(unsigned int n, __u16 base, bool v6)
{
	unsigned int i, att = 0;

	for (i = 0; i < n; i++) {
		__u16 port = base + i;
		struct ip46 ip = v6 ? (struct ip46)UDP6(HOST6(i % N_HOSTS),
							REMOTE6, port, 53, 16) :
				      (struct ip46)UDP(HOST(i % N_HOSTS),
						       REMOTE, port, 53, 16);
		struct mwan_flow_key k = key_out(&ip);
		struct pkt in = arriving(IF_LAN, &ip, NULL, 0);
		int wan = predict(&k);

		xdp_out(&in, wan);
		att += wan == ATT;
	}
	return att;
}

static void test_steer(void **state)
{
	const struct steer_case *c = *state;
	__u32 mask;
	struct mwan_steer st;
	unsigned int att;
	int pct;

	if (c->tweak)
		c->tweak();
	steer_sync();
	mask = c->v6 ? npt_mask_get() : (1U << N_WANS) - 1;
	get(MAP(mwan_steer), &mask, &st);
	assert_int_equal(st.failopen, c->failopen);
	att = send_new_flows(N_FLOWS, 10000, c->v6);
	pct = att * 100 / N_FLOWS;
	print_message("%s: %u of %u flows on att\n", c->name, att, N_FLOWS);
	if (c->att_pct == 0 || c->att_pct == 100)
		assert_int_equal(att * 100, c->att_pct * N_FLOWS);
	else
		assert_in_range(pct, c->att_pct - 5, c->att_pct + 5);
	expect_stats({ MWAN_EV_FLOW_NEW, N_FLOWS },
		     { MWAN_EV_XDP_FWD_OUT, N_FLOWS });
	assert_int_equal(n_flows(), N_FLOWS);
}

/* `bpfctl wan att down`: new flows avoid att, the flows on it move on
 * their next packet, and stay put when att comes back.
 */
static void test_steer_admin_down_moves_flow(void **state)
{
	struct ip46 ip = UDP(HOST(1), REMOTE, 0, 4500, 64);
	struct mwan_flow_key k;
	struct pkt in;
	size_t len;

	(void)state;
	ip.sport = sport_to(ATT, ip, -1);
	k = key_out(&ip);
	in = arriving(IF_LAN, &ip, NULL, 0);
	len = xdp_out(&in, ATT);
	admin_set(ATT, MWAN_ADMIN_DOWN);
	steer_sync();
	xdp_out(&in, WP);
	expect_flow(&k, &(struct flow_want){ .wan = WP,
					     .ext = ext_of(ip.src, WP),
					     .origin = MWAN_ORIGIN_LAN,
					     .moves = 1,
					     .pkts_out = 2,
					     .bytes_out = 2 * len });
	expect_stats({ MWAN_EV_FLOW_NEW, 1 }, { MWAN_EV_XDP_FWD_OUT, 2 },
		     { MWAN_EV_FLOW_MOVED, 1 });
	assert_int_equal(send_new_flows(200, 30000, false), 0);
	admin_set(ATT, MWAN_ADMIN_AUTO);
	steer_sync();
	xdp_out(&in, WP);
	expect_stats({ MWAN_EV_FLOW_NEW, 201 }, { MWAN_EV_XDP_FWD_OUT, 203 },
		     { MWAN_EV_FLOW_MOVED, 1 });
}

/* mwan_hostmask, as the loader runs it after a reload changed a
 * host's WANs: hostmask changes in place, the counters the programs keep
 * stay exactly as they were; a flow that is gone is reported, not made.
 */
static void run_hostmask(struct mwan_hostmask_req *req)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = req,
		    .ctx_size_in = sizeof(*req));

	assert_int_equal(bpf_prog_test_run_opts(
				 bpf_program__fd(fx.skel->progs.mwan_hostmask),
				 &opts),
			 0);
	assert_int_equal(opts.retval, 0);
}

static void test_flow_hostmask_in_place(void **state)
{
	struct ip46 ip = UDP(HOST(1), REMOTE, 0, 4502, 64);
	struct mwan_hostmask_req req = { .found = 0xff };
	struct mwan_flow before, after;
	struct pkt in;

	(void)state;
	ip.sport = sport_to(ATT, ip, -1);
	in = arriving(IF_LAN, &ip, NULL, 0);
	xdp_out(&in, ATT);
	xdp_out(&in, ATT);
	req.key = key_out(&ip);
	assert_int_equal(
		bpf_map_lookup_elem(MAP(mwan_flows), &req.key, &before), 0);
	req.mask = 1U << ATT;
	assert_int_not_equal(req.mask, before.hostmask);
	run_hostmask(&req);
	assert_int_equal(req.found, 1);
	assert_int_equal(bpf_map_lookup_elem(MAP(mwan_flows), &req.key, &after),
			 0);
	assert_int_equal(after.hostmask, 1U << ATT);
	after.hostmask = before.hostmask;
	assert_memory_equal(&after, &before, sizeof(after));
	assert_int_equal(after.pkts_out, 2);
	/* no such flow: nothing created */
	req.key.dport ^= 0xffff;
	req.found = 0xff;
	run_hostmask(&req);
	assert_int_equal(req.found, 0);
	assert_int_equal(n_flows(), 1);
}

/* The programs read the config slot mwan_live names and, through it, the
 * steering half that slot names (maps/mwan_maps.h): what the loader
 * writes into the other slot and half is not seen until the flip.
 */
static void test_live_slot_flip(void **state)
{
	struct ip46 ip = UDP(HOST(1), REMOTE, 0, 4501, 64);
	struct mwan_cfg c = cfg_get(), off;
	__u32 zero = 0, one = 1;
	struct mwan_live live;
	struct pkt in;

	(void)state;
	ip.sport = sport_to(ATT, ip, -1);
	in = arriving(IF_LAN, &ip, NULL, 0);
	/* half 1: the tables with att down; slot 1 steers from it */
	admin_set(ATT, MWAN_ADMIN_DOWN);
	assert_int_equal(mwan_steer_fill(MAP(mwan_wans), MAP(mwan_admin),
					 MAP(mwan_steer), 1),
			 0);
	admin_set(ATT, MWAN_ADMIN_AUTO);
	c.steer_half = 1;
	put(MAP(mwan_cfg), &one, &c);
	/* not live yet: the flow the hash gives att takes att */
	xdp_out(&in, ATT);
	clear_hash(MAP(mwan_flows));
	live.cfg_slot = 1;
	put(MAP(mwan_live), &zero, &live);
	/* live: the same new flow goes by webpass, whatever slot 0 says */
	off = cfg_get();
	off.ready = 0;
	put(MAP(mwan_cfg), &zero, &off);
	xdp_out(&in, WP);
	clear_hash(MAP(mwan_flows));
	/* back to slot 0, now not ready: the program passes everything */
	live.cfg_slot = 0;
	put(MAP(mwan_live), &zero, &live);
	expect(XDP, IF_LAN, &in, XDP_PASS, NULL);
	expect_stats({ MWAN_EV_FLOW_NEW, 2 }, { MWAN_EV_XDP_FWD_OUT, 2 },
		     { MWAN_EV_PASS_NOT_READY, 1 });
}

/* webpass's delegated prefix expires under a flow (valid_until_ns, on
 * CLOCK_MONOTONIC, read through the coarse clock) before the loader clears
 * its mask bit: the datapath treats the entry as gone within a tick. The flow moves to
 * att on its next packet, a new flow the stale mask sends to webpass is
 * re-steered to att (counted as created, then moved), and inbound packets
 * to the old prefix are no longer translated. Nothing is dropped.
 */
static void test_npt6_expiry(void **state)
{
	const struct variant *v = *state;
	const struct path *p = v->path;
	struct ip46 ip = UDP6(HOST6(1), REMOTE6, 0, 4500, 64), fresh, back;
	struct mwan_flow_key k, kf;
	struct pkt in, fin, r;
	size_t l1, l2, l3, l4;

	npt_put(WP, mono_ns() + 3600ULL * 1000000000ULL);
	ip.sport = sport_to(WP, ip, -1);
	k = key_out(&ip);
	in = arriving(IF_LAN, &ip, NULL, 0);
	l1 = p->out(&in, WP);
	back = ip;
	xlate(&back, SRC, WP, true);
	back = reply_of(&back);
	r = arriving(IF_WP, &back, NULL, 0);

	tw_wp_expired();
	l2 = p->out(&in, ATT);
	expect(p->entry, IF_WP, &r, p->pass, NULL);
	fresh = ip;
	fresh.dport = 4501;
	fresh.sport = sport_to(WP, fresh, -1);
	kf = key_out(&fresh);
	fin = arriving(IF_LAN, &fresh, NULL, 0);
	l3 = p->out(&fin, ATT);
	expect_flow(&kf, &(struct flow_want){ .wan = ATT,
					      .origin = MWAN_ORIGIN_LAN,
					      .moves = 1,
					      .pkts_out = 1,
					      .bytes_out = l3 });

	npt_clear(WP);
	l4 = p->out(&in, ATT);
	expect_flow(&k, &(struct flow_want){ .wan = ATT,
					     .origin = MWAN_ORIGIN_LAN,
					     .moves = 1,
					     .pkts_out = 3,
					     .bytes_out = l1 + l2 + l4 });
	expect_traffic(p, 4, 0, 2, { MWAN_EV_FLOW_MOVED, 2 },
		       { xdp_only(p, MWAN_EV_PASS_UNMAPPED), 1 });
	expect_wanstat(WP, 1, l1, 0, 0);
	expect_wanstat(ATT, 3, l2 + l3 + l4, 0, 0);
}

/* ---- WAN -> LAN ---- */

/* For tests that are one case, run on both paths. */
struct named {
	const char *name;
};

static const struct named one_case[] = { { "out_and_in" } };

struct inbound_case {
	const char *name;
	struct ip46 syn; /* as it arrives on att */
};

static const struct inbound_case inbound_cases[] = {
	{ "tcp_dnat_reply", TCP(REMOTE, PUB_ATT(1), 0, 22, SYN, 0) },
	{ "ipv6_tcp_dnat_reply", TCP6(REMOTE6, EXT6_ATT(3), 0, 22, SYN, 0) },
};

/* Inbound TCP to a public address on att is translated and recorded; the
 * host's replies leave by att with that address, even where steering
 * would pick webpass and even with att administratively down.
 */
static void test_inbound(void **state)
{
	const struct variant *v = *state;
	const struct inbound_case *c = v->c;
	const struct path *p = v->path;
	struct ip46 syn = c->syn, rep;
	struct mwan_flow_key k;
	struct pkt in, out;
	size_t li, lo;

	syn.sport = sport_to(WP, syn, ATT);
	k = key_in(&syn, ATT);
	rep = syn;
	xlate(&rep, DST, ATT, false);
	rep = reply_of(&rep);
	in = arriving(IF_ATT, &syn, NULL, 0);
	out = arriving(IF_LAN, &rep, NULL, 0);
	li = p->in(&in, ATT);
	lo = p->out(&out, ATT);
	admin_set(ATT, MWAN_ADMIN_DOWN);
	steer_sync();
	p->out(&out, ATT);
	expect_flow(&k, &(struct flow_want){ .wan = ATT,
					     .ext = flow_ext4(&syn, DST),
					     .origin = MWAN_ORIGIN_WAN,
					     .pkts_out = 2,
					     .bytes_out = 2 * lo,
					     .pkts_in = 1,
					     .bytes_in = li });
	expect_traffic(p, 2, 1, 1, { MWAN_EV_FLOW_NEW_IN, 1 });
	expect_wanstat(ATT, 2, 2 * lo, 1, li);
	expect_wanstat(WP, 0, 0, 0, 0);
}

/* Sources the kernel's input route lookup rejects as martian (loopback,
 * this network, multicast, limited broadcast, the router's own address):
 * with fast_path off they die in the kernel, so the fast path must not
 * forward them to a host either (XDP_PASS or XDP_DROP, not a redirect).
 */
static void test_inbound_martian_src(void **state)
{
	static const __u32 srcs[] = { IP(127, 0, 0, 1), IP(0, 0, 0, 0),
				      IP(224, 0, 0, 1), IP(255, 255, 255, 255),
				      ROUTER_LAN };
	static struct frame f;
	static struct fx_result r;
	char bad[256] = "";
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(srcs); i++) {
		struct ip46 ip = T_IN(1);
		struct pkt p;
		__u32 a = srcs[i];

		ip.src = a;
		p = arriving(IF_ATT, &ip, NULL, 0);
		build(&p, &f);
		run(XDP, IF_ATT, &f, &r);
		if (r.action == XDP_REDIRECT)
			n += snprintf(bad + n, sizeof(bad) - n, " %u.%u.%u.%u",
				      a >> 24, a >> 16 & 0xff, a >> 8 & 0xff,
				      a & 0xff);
	}
	if (n)
		fail_msg("BUG: TCP SYN to 198.51.100.194 on att from martian "
			 "source(s)%s: XDP_REDIRECT to 10.250.250.3, but the "
			 "slow path (fast_path: false) drops them",
			 bad);
}

/* ---- RFC 6296 corner cases through the datapath ---- */

/* The reference against hand-worked vectors and lib/npt.c (the loader's
 * arithmetic, through the very map entries it writes), for the lab and
 * the RFC's own example; then 10 000 random addresses and prefixes.
 */
struct npt_vector {
	struct in6_addr from, to, addr, want; /* prefixes, address, result */
	unsigned int plen;
	bool drop;
};

static const struct npt_vector npt_vectors[] = {
	/* RFC 6296 §3.6, and back as erratum 3033 corrects it */
	{ A6(0xfd01, 0x203, 0x405, 0, 0, 0, 0, 0),
	  A6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
	  A6(0xfd01, 0x203, 0x405, 1, 0, 0, 0, 0x1234),
	  A6(0x2001, 0xdb8, 1, 0xd550, 0, 0, 0, 0x1234), 48, false },
	{ A6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
	  A6(0xfd01, 0x203, 0x405, 0, 0, 0, 0, 0),
	  A6(0x2001, 0xdb8, 1, 0xd550, 0, 0, 0, 0x1234),
	  A6(0xfd01, 0x203, 0x405, 1, 0, 0, 0, 0x1234), 48, false },
	{ A6(0xfd01, 0x203, 0x405, 0, 0, 0, 0, 0),
	  A6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
	  A6(0xfd01, 0x203, 0x405, 0xffff, 0, 0, 0, 1),
	  A6(0, 0, 0, 0, 0, 0, 0, 0), 48, true },
	{ LAN6(0), EXT6_ATT(0), HOST6(0), EXT6_ATT(2), 64, false },
	{ LAN6(0), EXT6_WP(0), HOST6(4), EXT6_WP(6), 64, false },
	{ EXT6_ATT(0), LAN6(0), EXT6_ATT(3), HOST6(1), 64, false },
	{ LAN6(0), EXT6_ATT(0), LAN6_IID(0xffff, 1, 2, 3),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0xffff, 0x245c, 2, 3), 64, false },
	/* 0xdba4 + 0x245b = 0xffff, written 0x0000 */
	{ LAN6(0), EXT6_ATT(0), LAN6_IID(0xdba4, 0, 0, 9),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0, 0, 0, 9), 64, false },
	{ EXT6_ATT(0), LAN6(0), A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0, 0, 0, 9),
	  LAN6_IID(0xdba4, 0, 0, 9), 64, false },
	{ LAN6(0), EXT6_ATT(0), LAN6_IID(0xffff, 0xffff, 0xffff, 0xffff),
	  A6(0, 0, 0, 0, 0, 0, 0, 0), 64, true },
};

/* lib/npt.c's translation with an adjustment made by mwan_npt_fill. */
static bool lib_npt(struct in6_addr *a, const struct in6_addr *from,
		    const struct in6_addr *to, unsigned int plen)
{
	struct mwan_npt e;

	mwan_npt_fill(from, to, plen, &e);
	return mwan_npt_translate(a, to, plen, e.adj_out);
}

static void check_vector(const struct npt_vector *v)
{
	struct in6_addr mine = v->addr, lib = v->addr;
	bool ok = rfc6296(&mine, &v->from, &v->to, v->plen);
	bool lok = lib_npt(&lib, &v->from, &v->to, v->plen);

	if (ok == v->drop || (ok && memcmp(&mine, &v->want, 16)))
		fail_msg("reference: %s/%u -> %s, want %s", ntop6(&v->addr),
			 v->plen, ok ? ntop6(&mine) : "drop",
			 v->drop ? "drop" : ntop6(&v->want));
	if (lok == v->drop || (lok && memcmp(&lib, &v->want, 16)))
		fail_msg("lib/npt.c: %s/%u -> %s, want %s", ntop6(&v->addr),
			 v->plen, lok ? ntop6(&lib) : "drop",
			 v->drop ? "drop" : ntop6(&v->want));
}

static __u32 rnd(void)
{
	static __u32 x = 0x6d77616e;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static void rnd_addr(struct in6_addr *a)
{
	int i;

	for (i = 0; i < 8; i++)
		set_word6(a, i, rnd() % 4 ? rnd() : 0xffff);
}

static void test_npt6_reference(void **state)
{
	static const unsigned int plens[] = { 48, 56, 60, 64 };
	struct in6_addr ext;
	struct mwan_npt e;
	size_t i;
	int w;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(npt_vectors); i++)
		check_vector(&npt_vectors[i]);
	/* The loader's entries: the external /64 and both adjustments, in
	 * wire order, as worked by hand above.
	 */
	for (w = 0; w < N_WANS; w++) {
		static const __u8 adj[N_WANS][2][2] = {
			{ { 0x24, 0x5b }, { 0xdb, 0xa4 } },
			{ { 0x23, 0x4b }, { 0xdc, 0xb4 } },
		};

		assert_int_equal(mwan_npt_derive(&wan_defs[w].pd, PD_LEN,
						 PD_SUBNET, LAN_PLEN6, &ext,
						 NULL, 0),
				 0);
		assert_memory_equal(&ext, &wan_defs[w].ext6, 16);
		mwan_npt_fill(&lan_net6, &ext, LAN_PLEN6, &e);
		assert_memory_equal(&e.adj_out, adj[w][0], 2);
		assert_memory_equal(&e.adj_in, adj[w][1], 2);
	}
	for (i = 0; i < 10000; i++) {
		struct npt_vector v = { .plen = plens[i % ARRAY_SIZE(plens)] };
		struct in6_addr back;

		rnd_addr(&v.from);
		rnd_addr(&v.to);
		rnd_addr(&v.addr);
		for (w = 0; w < 8; w++) {
			__u16 m = plen_mask16(v.plen, w);

			set_word6(&v.addr, w,
				  (word6(&v.addr, w) & ~m) |
					  (word6(&v.from, w) & m));
		}
		v.want = v.addr;
		v.drop = !rfc6296(&v.want, &v.from, &v.to, v.plen);
		check_vector(&v);
		if (v.drop)
			continue;
		/* checksum-neutral, and one to one */
		assert_int_equal(prefix_sum6(&v.want, 128),
				 prefix_sum6(&v.addr, 128));
		back = v.want;
		assert_true(rfc6296(&back, &v.to, &v.from, v.plen));
		assert_memory_equal(&back, &v.addr, 16);
	}
}

struct npt6_case {
	const char *name;
	struct in6_addr host, ext; /* ext: host's face on wan, by hand */
	int wan;
};

static const struct npt6_case npt6_cases[] = {
	{ "iid_word4_ffff_adjusts_word5", LAN6_IID(0xffff, 1, 2, 3),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0xffff, 0x245c, 2, 3), ATT },
	{ "iid_words4_5_ffff_adjusts_word6", LAN6_IID(0xffff, 0xffff, 1, 2),
	  A6(0x2001, 0xdb8, 0xb0, 0x2fe, 0xffff, 0xffff, 0x234c, 2), WP },
	{ "iid_words4_6_ffff_adjusts_word7",
	  LAN6_IID(0xffff, 0xffff, 0xffff, 5),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0xffff, 0xffff, 0xffff, 0x2460), ATT },
	{ "adjusted_ffff_written_0000", LAN6_IID(0xdba4, 0, 0, 9),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0, 0, 0, 9), ATT },
	{ "adjusted_ffff_written_0000_webpass", LAN6_IID(0xdcb4, 0, 0, 9),
	  A6(0x2001, 0xdb8, 0xb0, 0x2fe, 0, 0, 0, 9), WP },
};

/* A host whose address puts the adjustment somewhere unusual: out by its
 * WAN with the hand-worked address, and the reply back to it.
 */
static void test_npt6_roundtrip(void **state)
{
	const struct variant *v = *state;
	const struct npt6_case *c = v->c;
	const struct path *p = v->path;
	struct ip46 ip = TCP6(c->host, REMOTE6, 0, 443, SYN, 0), sent, back;
	struct mwan_flow_key k;
	struct pkt out, in;
	size_t lo, li;

	neigh6_put(&c->host);
	ip.sport = sport_to(c->wan, ip, -1);
	k = key_out(&ip);
	sent = ip;
	xlate(&sent, SRC, c->wan, true);
	if (memcmp(&sent.src6, &c->ext, 16))
		fail_msg("reference: %s -> %s, by hand %s", ntop6(&c->host),
			 ntop6(&sent.src6), ntop6(&c->ext));
	back = reply_of(&sent);
	out = arriving(IF_LAN, &ip, NULL, 0);
	in = arriving(WAN_IF(c->wan), &back, NULL, 0);
	lo = p->out(&out, c->wan);
	li = p->in(&in, c->wan);
	expect_flow(&k, &(struct flow_want){ .wan = c->wan,
					     .origin = MWAN_ORIGIN_LAN,
					     .pkts_out = 1,
					     .bytes_out = lo,
					     .pkts_in = 1,
					     .bytes_in = li });
	expect_traffic(p, 1, 1, 1);
}

/* An all-ones IID has no external face (RFC 6296 §3.7, erratum 8757):
 * XDP drops it; the slow path marks it at the LAN and drops it at the WAN.
 */
static void test_npt6_unmappable_out(void **state)
{
	struct ip46 ip = UDP6(LAN6_IID(0xffff, 0xffff, 0xffff, 0xffff), REMOTE6,
			      40000, 53, 32);
	struct mwan_flow_key k = key_out(&ip);
	int wan = predict(&k);
	struct pkt in = arriving(IF_LAN, &ip, NULL, 0), eg = hop_out(in, wan);

	(void)state;
	expect(XDP, IF_LAN, &in, XDP_DROP, NULL);
	expect_stats({ MWAN_DROP_NPT_UNMAPPABLE, 1 }, { MWAN_EV_FLOW_NEW, 1 });
	zero_stats();
	assert_int_equal(expect(TC_IN, IF_LAN, &in, TC_ACT_OK, NULL),
			 FWMARK(wan));
	expect(TC_OUT, WAN_IF(wan), &eg, TC_ACT_SHOT, NULL);
	expect_stats({ MWAN_EV_TC_MARK, 1 }, { MWAN_DROP_NPT_UNMAPPABLE, 1 });
}

/* ---- ICMP errors ---- */

struct icmp_case {
	const char *name;
	__u8 type, code;
	__u32 rest;
	struct ip46 orig; /* the packet the error is about, as first sent */
	__u16 qlen; /* bytes of it the error quotes; 0: all */
};

#define MTU_1400 1400
/* An ICMPv6 error fills at most the IPv6 minimum MTU (RFC 4443 §2.4). */
#define QUOTE6_MAX (1280 - 48)

/* Errors from the Internet about a host's outbound packet. */
static const struct icmp_case icmp_in_cases[] = {
	{ "time_exceeded_tcp", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
	  TCP(HOST(0), REMOTE, 40000, 443, SYN, 0), 0 },
	{ "time_exceeded_tcp_28", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
	  TCP(HOST(0), REMOTE, 40001, 443, SYN, 0), 28 },
	{ "frag_needed_tcp_576", ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, MTU_1400,
	  TCP(HOST(1), REMOTE, 40002, 443, ACK, 1400), 548 },
	{ "frag_needed_udp", ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, MTU_1400,
	  UDP(HOST(2), REMOTE, 40003, 4500, 1420), 548 },
	{ "port_unreach_udp_28", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0,
	  UDP(HOST(2), REMOTE, 40004, 33434, 24), 28 },
	{ "time_exceeded_udp_zero_csum", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
	  UDP(HOST(3), REMOTE, 40005, 33435, 24, .nocsum = 1), 0 },
	{ "time_exceeded_echo", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
	  ECHO(HOST(4), REMOTE, 0x4d57, 7, 56), 0 },
	{ "frag_needed_echo_28", ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, MTU_1400,
	  ECHO(HOST(4), REMOTE, 0x4d58, 1, 1472), 28 },
	{ "ipv6_packet_too_big_tcp", ICMP6_PACKET_TOO_BIG, 0, MTU_1400,
	  TCP6(HOST6(1), REMOTE6, 40002, 443, ACK, 1400), QUOTE6_MAX },
	{ "ipv6_packet_too_big_udp", ICMP6_PACKET_TOO_BIG, 0, MTU_1400,
	  UDP6(HOST6(2), REMOTE6, 40003, 4500, 1420), QUOTE6_MAX },
	{ "ipv6_packet_too_big_echo_48", ICMP6_PACKET_TOO_BIG, 0, MTU_1400,
	  ECHO6(HOST6(4), REMOTE6, 0x4d58, 1, 1452), 48 },
	{ "ipv6_time_exceeded_tcp", ICMP6_TIME_EXCEEDED,
	  ICMP6_TIME_EXCEED_TRANSIT, 0,
	  TCP6(HOST6(0), REMOTE6, 40000, 443, SYN, 0), 0 },
	{ "ipv6_time_exceeded_udp_48", ICMP6_TIME_EXCEEDED,
	  ICMP6_TIME_EXCEED_TRANSIT, 0,
	  UDP6(HOST6(3), REMOTE6, 40005, 33435, 24), 48 },
	{ "ipv6_time_exceeded_echo", ICMP6_TIME_EXCEEDED,
	  ICMP6_TIME_EXCEED_TRANSIT, 0, ECHO6(HOST6(4), REMOTE6, 0x4d57, 7, 56),
	  0 },
	{ "ipv6_port_unreach_udp_44", ICMP6_DST_UNREACH,
	  ICMP6_DST_UNREACH_NOPORT, 0,
	  UDP6(HOST6(2), REMOTE6, 40004, 33434, 24), 44 },
};

/* A host's errors about a packet it got from the Internet; orig.dst is
 * the host, the test sends orig to its webpass address.
 */
static const struct icmp_case icmp_out_cases[] = {
	{ "port_unreach_udp", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0,
	  UDP(REMOTE2, HOST(2), 5353, 53, 40), 0 },
	{ "port_unreach_udp_28", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0,
	  UDP(REMOTE2, HOST(2), 5354, 53, 40), 28 },
	{ "port_unreach_udp_zero_csum", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0,
	  UDP(REMOTE2, HOST(3), 5355, 69, 40, .nocsum = 1), 0 },
	{ "admin_prohibited_tcp_28", ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, 0,
	  TCP(REMOTE2, HOST(0), 51000, 25, SYN, 0), 28 },
	{ "param_problem_tcp", ICMP_PARAMETERPROB, 0, 0x14000000,
	  TCP(REMOTE2, HOST(0), 51001, 80, ACK, 64), 0 },
	{ "host_unreach_echo", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0,
	  ECHO(REMOTE2, HOST(4), 0x99, 3, 32), 0 },
	{ "ipv6_port_unreach_udp", ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT,
	  0, UDP6(REMOTE6_2, HOST6(2), 5353, 53, 40), 0 },
	{ "ipv6_port_unreach_udp_48", ICMP6_DST_UNREACH,
	  ICMP6_DST_UNREACH_NOPORT, 0, UDP6(REMOTE6_2, HOST6(2), 5354, 53, 40),
	  48 },
	{ "ipv6_admin_prohibited_tcp", ICMP6_DST_UNREACH,
	  ICMP6_DST_UNREACH_ADMIN, 0,
	  TCP6(REMOTE6_2, HOST6(0), 51000, 25, SYN, 0), 0 },
	{ "ipv6_param_problem_tcp", ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 6,
	  TCP6(REMOTE6_2, HOST6(0), 51001, 80, ACK, 64), 0 },
	{ "ipv6_addr_unreach_echo", ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR,
	  0, ECHO6(REMOTE6_2, HOST6(4), 0x99, 3, 32), 0 },
};

/* Error `c` about `about`, back to its source: from a router on the path
 * (`by_hop`) or from the packet's destination.
 */
static struct ip46 error_about(const struct icmp_case *c,
			       const struct ip46 *about, bool by_hop)
{
	struct ip46 e =
		about->v6 ? (struct ip46)ICMP6_ERR(HOP6, about->src6, c->type,
						   c->code, c->rest) :
			    (struct ip46)ICMP_ERR(HOP, about->src, c->type,
						  c->code, c->rest);

	if (!by_hop) {
		e.src = about->dst;
		e.src6 = about->dst6;
	}
	return e;
}

/* An error about a LAN flow, from a router on the path (from a privately
 * numbered one, `private_hop`: an ISP's link in 10/8 or fc00::/7, a bogon
 * source yet about a live flow, so it is translated like any other and
 * PMTUD and traceroute keep working).
 */
static void icmp_in(void **state, bool private_hop)
{
	const struct variant *v = *state;
	const struct icmp_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->orig);
	int wan = predict(&k);
	struct pkt o = arriving(IF_LAN, &c->orig, NULL, 0);
	struct pkt sent = hop_out(snat(o, wan), wan);
	struct ip46 err = error_about(c, &sent.ip, true);
	struct pkt e;

	if (private_hop) {
		err.src = IP(10, 0, 0, 254);
		err.src6 = A6(0xfd00, 0xfe, 0, 0, 0, 0, 0, 1);
	}
	e = arriving(WAN_IF(wan), &err, &sent.ip, c->qlen);
	p->out(&o, wan);
	p->in(&e, wan);
	expect_route(&k, wan, flow_ext4(&sent.ip, SRC), MWAN_ORIGIN_LAN);
	expect_traffic(p, 1, 1, 1, { MWAN_EV_ICMP_ERR_IN, 1 });
}

static void test_icmp_in(void **state)
{
	icmp_in(state, false);
}

static void test_icmp_in_private_hop(void **state)
{
	icmp_in(state, true);
}

static void test_icmp_out(void **state)
{
	const struct variant *v = *state;
	const struct icmp_case *c = v->c;
	const struct path *p = v->path;
	struct ip46 wire = c->orig, err;
	struct mwan_flow_key k;
	struct pkt o, got, e;

	xlate(&wire, DST, WP, true);
	o = arriving(IF_WP, &wire, NULL, 0);
	got = hop_in(dnat(o, WP));
	err = error_about(c, &got.ip, false);
	e = arriving(IF_LAN, &err, &got.ip, c->qlen);
	p->in(&o, WP);
	p->out(&e, WP);
	k = key_in(&wire, WP);
	expect_route(&k, WP, flow_ext4(&wire, DST), MWAN_ORIGIN_WAN);
	expect_traffic(p, 1, 1, 1, { MWAN_EV_ICMP_ERR_OUT, 1 },
		       { MWAN_EV_FLOW_NEW_IN, 1 });
}

/* ---- a translated UDP checksum of zero ---- */

static bool udp_sums_to_zero(const struct ip46 *ip)
{
	struct ip46 t = *ip;
	__u8 buf[64];
	size_t n;

	t.nocsum = true;
	n = build_l4(&t, NULL, 0, buf);
	return !csum_final(sum16(buf, n, pseudo_sum(&t, n)));
}

/* After translation the checksum computes to zero, which RFC 768 sends as
 * 0xffff: the remote port is picked to make it so, out and in.
 */
static void test_udp_csum_ffff(void **state)
{
	const struct variant *v = *state;
	const struct path *p = v->path;
	struct ip46 o = UDP(HOST(0), REMOTE, 40000, 0, 8);
	struct ip46 i = UDP(REMOTE, ext_of(HOST(1), WP), 0, 53, 8), t;
	struct mwan_flow_key k;
	struct pkt in;
	int wan = 0;

	for (o.dport = 1; o.dport; o.dport++) {
		k = key_out(&o);
		wan = predict(&k);
		t = o;
		t.src = ext_of(o.src, wan);
		if (udp_sums_to_zero(&t))
			break;
	}
	for (i.sport = 1; i.sport; i.sport++) {
		t = i;
		t.dst = HOST(1);
		if (udp_sums_to_zero(&t))
			break;
	}
	assert_true(o.dport && i.sport);
	in = arriving(IF_LAN, &o, NULL, 0);
	p->out(&in, wan);
	in = arriving(IF_WP, &i, NULL, 0);
	p->in(&in, WP);
	expect_traffic(p, 1, 1, 2, { MWAN_EV_FLOW_NEW_IN, 1 });
}

/* ---- fragments ---- */

struct frag_case {
	const char *name;
	struct ip46 dgram; /* as a LAN host sends it */
	__u16 cut1, cut2; /* where the three fragments split its L4 bytes */
};

static const struct frag_case frag_cases[] = {
	{ "udp", UDP(HOST(0), REMOTE, 5000, 6000, 2000, .id = 0x4242), 800,
	  1600 },
	{ "tcp", TCP(HOST(1), REMOTE, 40100, 80, ACK, 1800, .id = 0x4243), 504,
	  1480 },
	{ "echo", ECHO(HOST(2), REMOTE, 0x77, 1, 3000, .id = 0x4244), 1480,
	  2960 },
};

/* Only the slow path handles IPv6 fragments. */
static const struct frag_case frag_tc_cases[] = {
	{ "ipv6_udp",
	  UDP6(HOST6(0), REMOTE6, 5000, 6000, 2000, .id = 0x42424242), 800,
	  1600 },
	{ "ipv6_tcp",
	  TCP6(HOST6(1), REMOTE6, 40100, 80, ACK, 1800, .id = 0x4243), 504,
	  1480 },
	{ "ipv6_echo", ECHO6(HOST6(2), REMOTE6, 0x77, 1, 3000, .id = 0x4244),
	  1480, 2960 },
};

static void fragment(const struct ip46 *d, __u16 cut1, __u16 cut2,
		     struct ip46 f[3])
{
	f[0] = f[1] = f[2] = *d;
	f[0].frag_len = cut1;
	f[0].mf = true;
	f[1].frag_off = cut1;
	f[1].frag_len = cut2 - cut1;
	f[1].mf = true;
	f[2].frag_off = cut2;
}

/* XDP hands IPv6 fragments (a Fragment header) to the slow path as they
 * are, opening no flow.
 */
static void xdp_leaves_ipv6_frags(int iface, const struct ip46 f[3])
{
	int i;

	if (!f[0].v6)
		return;
	for (i = 0; i < 3; i++) {
		struct pkt in = arriving(iface, &f[i], NULL, 0);

		expect(XDP, iface, &in, XDP_PASS, NULL);
	}
	expect_stats({ MWAN_EV_PASS_EXT_HDR, 3 });
	assert_int_equal(n_flows(), 0);
	zero_stats();
}

/* The WAN the later fragments of `d` follow. */
static void expect_frag_wan(const struct ip46 *d, int wan)
{
	if (d->v6) {
		struct mwan_frag6_key fk = { .id = htonl(d->id) };
		struct mwan_frag6 fr;

		memcpy(fk.src, &d->src6, sizeof(fk.src));
		memcpy(fk.dst, &d->dst6, sizeof(fk.dst));
		get(MAP(mwan_frags6), &fk, &fr);
		assert_int_equal(fr.wan, wan);
	} else {
		struct mwan_frag_key fk = { .src = htonl(d->src),
					    .dst = htonl(d->dst),
					    .id = htons(d->id),
					    .proto = d->proto };
		struct mwan_frag fr;

		get(MAP(mwan_frags), &fk, &fr);
		assert_int_equal(fr.wan, wan);
		assert_int_equal(ntohl(fr.ext4), ext_of(d->src, wan));
	}
}

/* First, middle and last fragment leave by the same WAN; only the first
 * carries the L4 checksum (fixed for IPv4, untouched for IPv6).
 */
static void test_frag_out(void **state)
{
	const struct variant *v = *state;
	const struct frag_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->dgram);
	int wan = predict(&k), i;
	struct ip46 f[3], sent = c->dgram;

	fragment(&c->dgram, c->cut1, c->cut2, f);
	xdp_leaves_ipv6_frags(IF_LAN, f);
	for (i = 0; i < 3; i++) {
		struct pkt in = arriving(IF_LAN, &f[i], NULL, 0);

		p->out(&in, wan);
	}
	expect_frag_wan(&c->dgram, wan);
	xlate(&sent, SRC, wan, true);
	expect_route(&k, wan, flow_ext4(&sent, SRC), MWAN_ORIGIN_LAN);
	expect_traffic(p, 3, 0, 1, { MWAN_EV_FRAG_OUT, 3 });
}

static void test_frag_in(void **state)
{
	const struct variant *v = *state;
	const struct frag_case *c = v->c;
	const struct path *p = v->path;
	struct ip46 d = c->dgram, f[3];
	struct mwan_flow_key k;
	int i;

	xlate(&d, SRC, WP, true);
	d = reply_of(&d);
	fragment(&d, c->cut1, c->cut2, f);
	xdp_leaves_ipv6_frags(IF_WP, f);
	for (i = 0; i < 3; i++) {
		struct pkt in = arriving(IF_WP, &f[i], NULL, 0);

		p->in(&in, WP);
	}
	k = key_in(&d, WP);
	expect_route(&k, WP, flow_ext4(&d, DST), MWAN_ORIGIN_WAN);
	expect_traffic(p, 0, 3, 1, { MWAN_EV_FRAG_IN, 3 },
		       { MWAN_EV_FLOW_NEW_IN, 1 });
}

/* ---- frames the fast path passes or drops ---- */

static void ip_fix_csum(struct frame *f)
{
	struct iphdr *h = (struct iphdr *)(f->b + ETH_HLEN);

	h->check = 0;
	h->check = htons(csum_final(sum16(f->b + ETH_HLEN, h->ihl * 4, 0)));
}

static void set_ethertype(struct frame *f, __u16 type)
{
	f->b[12] = type >> 8;
	f->b[13] = type & 0xff;
}

/* Pushes an 802.1Q/802.1ad tag in front of the current EtherType. */
static void push_tag(struct frame *f, __u16 tpid, __u16 tci)
{
	memmove(f->b + 16, f->b + 12, f->len - 12);
	f->len += 4;
	set_ethertype(f, tpid);
	f->b[14] = tci >> 8;
	f->b[15] = tci & 0xff;
}

static bool frame_v6(const struct frame *f)
{
	return f->b[12] == ETH_P_IPV6 >> 8 && f->b[13] == (ETH_P_IPV6 & 0xff);
}

static size_t ip_hdr_len(const struct frame *f)
{
	if (frame_v6(f))
		return sizeof(struct ipv6hdr);
	return ((struct iphdr *)(f->b + ETH_HLEN))->ihl * 4;
}

/* The IP header says the packet is `len` bytes (header included); the
 * frame is cut right after that.
 */
static void set_ip_len(struct frame *f, size_t len)
{
	if (frame_v6(f)) {
		struct ipv6hdr *h = (struct ipv6hdr *)(f->b + ETH_HLEN);

		h->payload_len = htons(len - sizeof(*h));
	} else {
		((struct iphdr *)(f->b + ETH_HLEN))->tot_len = htons(len);
		ip_fix_csum(f);
	}
	if ((__u32)ETH_HLEN + len < f->len)
		f->len = ETH_HLEN + len;
}

static void m_ttl1(struct frame *f)
{
	if (frame_v6(f)) {
		((struct ipv6hdr *)(f->b + ETH_HLEN))->hop_limit = 1;
		return;
	}
	((struct iphdr *)(f->b + ETH_HLEN))->ttl = 1;
	ip_fix_csum(f);
}

static void m_arp(struct frame *f)
{
	set_ethertype(f, ETH_P_ARP);
}

static void m_ipv6(struct frame *f)
{
	set_ethertype(f, ETH_P_IPV6);
}

static void m_eapol(struct frame *f)
{
	set_ethertype(f, ETH_P_PAE);
}

static void m_eapol_vlan0(struct frame *f)
{
	m_eapol(f);
	push_tag(f, ETH_P_8021Q, 0);
}

static void m_eapol_qinq(struct frame *f)
{
	m_eapol(f);
	push_tag(f, ETH_P_8021Q, 0x2007);
	push_tag(f, ETH_P_8021AD, 100);
}

static void m_control_dst(struct frame *f)
{
	static const __u8 dst[ETH_ALEN] = { 0x01, 0x80, 0xc2, 0, 0, 0x03 };

	memcpy(f->b, dst, ETH_ALEN);
}

static void m_vlan(struct frame *f)
{
	push_tag(f, ETH_P_8021Q, 5);
}

static void m_eth_only(struct frame *f)
{
	f->len = ETH_HLEN;
}

static void m_eth_only_arp(struct frame *f)
{
	m_eth_only(f);
	m_arp(f);
}

static void m_ip_cut(struct frame *f)
{
	f->len = ETH_HLEN + 12;
}

static void m_tot_len_long(struct frame *f)
{
	set_ip_len(f, f->len - ETH_HLEN + 40);
}

static void m_l4_cut(struct frame *f)
{
	set_ip_len(f, ip_hdr_len(f) + 12);
}

static void m_udp_cut(struct frame *f)
{
	set_ip_len(f, ip_hdr_len(f) + 6);
}

static void m_bad_version(struct frame *f)
{
	((struct iphdr *)(f->b + ETH_HLEN))->version = 6;
	ip_fix_csum(f);
}

static void tw_wan_mtu_1400(void)
{
	int w;

	for (w = 0; w < N_WANS; w++) {
		struct mwan_wan v = wan_get(w);

		v.mtu = 1400;
		wan_put(w, &v);
	}
}

static void tw_no_weight(void)
{
	int w;

	for (w = 0; w < N_WANS; w++) {
		struct mwan_wan v = wan_get(w);

		v.weight = 0;
		wan_put(w, &v);
	}
}

static void tw_no_neigh(void)
{
	wan_edit(ATT, 0, MWAN_WAN_NEIGH4, -1, -1);
	wan_edit(WP, 0, MWAN_WAN_NEIGH4, -1, -1);
}

/* The WANs' interfaces have generic XDP only (a VLAN device, say): a
 * redirect from native XDP into them would be dropped.
 */
static void tw_wans_no_xdp_tx(void)
{
	wan_edit(ATT, 0, MWAN_WAN_XDP_TX, -1, -1);
	wan_edit(WP, 0, MWAN_WAN_XDP_TX, -1, -1);
}

static void tw_lan_no_xdp_tx(void)
{
	struct mwan_cfg c = cfg_get();

	c.lan[0].xdp_tx = 0;
	cfg_put(&c);
}

static void tw_no_neigh6(void)
{
	wan_edit(ATT, 0, MWAN_WAN_NEIGH6, -1, -1);
	wan_edit(WP, 0, MWAN_WAN_NEIGH6, -1, -1);
}

/* lan.ipv6 not configured: no IPv6 is mwan's. */
static void tw_no_lan6(void)
{
	struct mwan_cfg c = cfg_get();

	c.lan_plen6 = 0;
	memset(c.lan_net6, 0, sizeof(c.lan_net6));
	cfg_put(&c);
}

/* 3d06:bad:b01:fe::3 is not in the kernel's neighbour table. */
static void tw_host6_no_neigh(void)
{
	bpf_map_delete_elem(MAP(mwan_neigh6), &HOST6(1));
}

static void tw_slow_path(void)
{
	struct mwan_cfg c = cfg_get();

	c.fast_path = 0;
	cfg_put(&c);
}

static void tw_not_ready(void)
{
	struct mwan_cfg c = cfg_get();

	c.ready = 0;
	cfg_put(&c);
}

static void tw_lan_mtu_1400(void)
{
	struct mwan_cfg c = cfg_get();

	c.lan[0].mtu = 1400;
	cfg_put(&c);
}

/* 10.250.250.6 loses its mapping, as after a config reload. */
static void tw_unmap_host4(void)
{
	__be32 key = htonl(HOST(4));
	int w;

	for (w = 0; w < N_WANS; w++) {
		__be32 pub = htonl(ext_of(HOST(4), w));

		bpf_map_delete_elem(MAP(mwan_pub4), &pub);
	}
	bpf_map_delete_elem(MAP(mwan_nat4), &key);
}

/* 10.250.250.5 keeps only its att address. */
static void tw_host3_att_only(void)
{
	__be32 key = htonl(HOST(3)), pub = htonl(ext_of(HOST(3), WP));
	struct mwan_nat4 v;

	get(MAP(mwan_nat4), &key, &v);
	v.ext[WP] = 0;
	put(MAP(mwan_nat4), &key, &v);
	bpf_map_delete_elem(MAP(mwan_pub4), &pub);
}

#define TUNNEL_NET IP(172, 16, 0, 0)
#define TUNNEL_PEER IP(172, 16, 1, 1)
#define TUNNEL6_PEER A6(0xfd00, 1, 0, 0, 0, 0, 0, 1)

/* 172.16.0.0/12 and fd00:1::/48 are routed into a tunnel (mwother), not
 * out of a WAN.
 */
static void tw_tunnel_route(void)
{
	struct mwan_bypass4_key k = { .prefixlen = 12,
				      .addr = htonl(TUNNEL_NET) };
	struct mwan_bypass6_key k6 = { .prefixlen = 48 };
	struct mwan_bypass4 v = { .ifindex = fx.ifindex[IF_OTHER] };

	put(MAP(mwan_bypass4), &k, &v);
	memcpy(k6.addr, &TUNNEL6_PEER, 6);
	put(MAP(mwan_bypass6), &k6, &v);
}

static void tw_host1_no_mac(void)
{
	__be32 key = htonl(HOST(1));
	struct mwan_nat4 v;

	get(MAP(mwan_nat4), &key, &v);
	v.has_mac = 0;
	memset(v.mac, 0, sizeof(v.mac));
	put(MAP(mwan_nat4), &key, &v);
}

#define U_OUT UDP(HOST(0), REMOTE, 40000, 53, 32)

struct verdict_case {
	const char *name;
	int iface;
	struct ip46 ip, q;
	__u16 qlen;
	void (*mangle)(struct frame *f);
	void (*tweak)(void);
	int stat; /* the counter it bumps; -1: none */
	bool drop; /* XDP_DROP and TC_ACT_SHOT; else XDP_PASS and TC_ACT_OK */
	bool flow; /* XDP opened the flow before passing it on */
	bool slow; /* mwan_tc_in takes it over: marks it, on a WAN DNATs */
	/* IPv6 extension headers: XDP passes it (pass_ipv6_ext_hdr) and
	 * `stat`, `drop` and `slow` describe mwan_tc_in only.
	 */
	bool xdp_ext;
};

/* Table rows; a `pkt` argument is a braced initializer, so these never
 * pass it on to another macro.
 */
#define V_PASS(n, i, pkt, st, ...)                                  \
	{                                                           \
		.name = (n), .iface = (i), .ip = pkt, .stat = (st), \
		__VA_ARGS__                                         \
	}
#define V_DROP(n, i, pkt, st, ...)                                             \
	{                                                                      \
		.name = (n), .iface = (i), .ip = pkt, .stat = (st), .drop = 1, \
		__VA_ARGS__                                                    \
	}
#define V_SLOW(n, i, pkt, st, ...)                                             \
	{                                                                      \
		.name = (n), .iface = (i), .ip = pkt, .stat = (st), .slow = 1, \
		__VA_ARGS__                                                    \
	}
#define V_EXT(n, i, pkt, st, ...)                                   \
	{                                                           \
		.name = (n), .iface = (i), .ip = pkt, .stat = (st), \
		.xdp_ext = 1, __VA_ARGS__                           \
	}
#define HOST_ERR \
	ICMP_ERR(HOST(2), REMOTE2, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0)
#define HOST_QUOTE(h) UDP(REMOTE2, HOST(h), 5353, 53, 40)
#define HOP_ERR ICMP_ERR(HOP, PUB_ATT(0), ICMP_TIME_EXCEEDED, 0, 0)
#define HOP_QUOTE(h) TCP(PUB_ATT(h), REMOTE, 40000, 443, SYN, 0)
#define U_FRAG(...) UDP(HOST(0), REMOTE, 1, 53, 2000, .id = 7, __VA_ARGS__)
#define U6_OUT UDP6(HOST6(0), REMOTE6, 40000, 53, 32)
#define U6_FRAG(...) UDP6(HOST6(0), REMOTE6, 1, 53, 2000, .id = 7, __VA_ARGS__)
#define HOST6_ERR                                         \
	ICMP6_ERR(HOST6(2), REMOTE6_2, ICMP6_DST_UNREACH, \
		  ICMP6_DST_UNREACH_NOPORT, 0)
#define HOST6_QUOTE(h) UDP6(REMOTE6_2, HOST6(h), 5353, 53, 40)
#define HOP6_ERR ICMP6_ERR(HOP6, EXT6_ATT(2), ICMP6_TIME_EXCEEDED, 0, 0)
#define HOP6_QUOTE(s) TCP6(s, REMOTE6, 40000, 443, SYN, 0)
#define ULA_OTHER A6(0xfd00, 0x77, 0, 0, 0, 0, 0, 2) /* no LAN's */
/* Link-scoped: hop limit 1 (DHCPv6, MLD) or 255 (ND, RA). */
#define PKT6_LINK(p, s, d, ...) PKT6H(p, 1, s, d, __VA_ARGS__)
#define ND6(s, d, t, len) ICMP6_LINK(255, s, d, t, len)
#define MLD2_REPORT 143
#define LOOPBACK6 A6(0, 0, 0, 0, 0, 0, 0, 1)
#define DHCP6_SERVERS A6(0xff02, 0, 0, 0, 0, 0, 1, 2)

static const struct verdict_case verdict_cases[] = {
	/* the kernel's job: TTL, options, MTU, ARP, fast path off */
	V_SLOW("ttl_1", IF_LAN, U_OUT, MWAN_EV_PASS_TTL, .mangle = m_ttl1,
	       .flow = 1),
	V_SLOW("ip_options", IF_LAN,
	       UDP(HOST(0), REMOTE, 40000, 53, 32, .optwords = 1),
	       MWAN_EV_PASS_IP_OPTIONS),
	V_SLOW("over_wan_mtu", IF_LAN, UDP(HOST(0), REMOTE, 40000, 53, 1422),
	       MWAN_EV_PASS_MTU, .tweak = tw_wan_mtu_1400, .flow = 1),
	V_SLOW("wan_generic_xdp_only", IF_LAN, U_OUT, MWAN_EV_PASS_NO_XDP_TX,
	       .tweak = tw_wans_no_xdp_tx, .flow = 1),
	V_SLOW("lan_generic_xdp_only", IF_ATT, T_IN(1), MWAN_EV_PASS_NO_XDP_TX,
	       .tweak = tw_lan_no_xdp_tx, .flow = 1),
	V_SLOW("ipv6_wan_generic_xdp_only", IF_LAN, U6_OUT,
	       MWAN_EV_PASS_NO_XDP_TX, .tweak = tw_wans_no_xdp_tx, .flow = 1),
	V_SLOW("ipv6_lan_generic_xdp_only", IF_ATT, T6_IN(3),
	       MWAN_EV_PASS_NO_XDP_TX, .tweak = tw_lan_no_xdp_tx, .flow = 1),
	V_SLOW("gateway_unresolved", IF_LAN, U_OUT, MWAN_EV_PASS_NO_NEIGH,
	       .tweak = tw_no_neigh, .flow = 1),
	V_SLOW("fast_path_off", IF_LAN, U_OUT, MWAN_EV_PASS_SLOW_PATH,
	       .tweak = tw_slow_path),
	V_SLOW("wan_ttl_1", IF_ATT, T_IN(1), MWAN_EV_PASS_TTL, .mangle = m_ttl1,
	       .flow = 1),
	V_SLOW("wan_ip_options", IF_ATT,
	       TCP(REMOTE, PUB_ATT(1), 41000, 22, SYN, 0, .optwords = 1),
	       MWAN_EV_PASS_IP_OPTIONS),
	V_SLOW("wan_host_mac_unknown", IF_ATT, T_IN(1), MWAN_EV_PASS_NO_NEIGH,
	       .tweak = tw_host1_no_mac, .flow = 1),
	V_SLOW("wan_over_lan_mtu", IF_ATT,
	       UDP(REMOTE, PUB_ATT(1), 41000, 4500, 1422), MWAN_EV_PASS_MTU,
	       .tweak = tw_lan_mtu_1400, .flow = 1),
	V_SLOW("wan_fast_path_off", IF_ATT, T_IN(1), MWAN_EV_PASS_SLOW_PATH,
	       .tweak = tw_slow_path),
	/* not ours at all */
	V_PASS("to_router_lan_addr", IF_LAN, UDP(HOST(0), ROUTER_LAN, 1, 53, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("to_router_wan_addr", IF_LAN, UDP(HOST(0), ATT_ADDR, 1, 53, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("to_lan_host", IF_LAN, UDP(HOST(0), HOST(1), 1, 53, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("to_multicast", IF_LAN,
	       UDP(HOST(0), IP(224, 0, 0, 251), 1, 5353, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("to_routed_elsewhere", IF_LAN,
	       UDP(HOST(0), TUNNEL_PEER, 40000, 51820, 32), MWAN_EV_PASS_ROUTED,
	       .tweak = tw_tunnel_route),
	V_PASS("unmapped_src", IF_LAN, UDP(UNMAPPED, REMOTE, 1, 53, 8),
	       MWAN_EV_PASS_UNMAPPED),
	V_PASS("unmapped_host", IF_LAN, UDP(HOST(4), REMOTE, 1, 53, 8),
	       MWAN_EV_PASS_UNMAPPED, .tweak = tw_unmap_host4),
	V_PASS("wan_to_router_addr", IF_ATT,
	       TCP(REMOTE, ATT_ADDR, 1, 22, SYN, 0), MWAN_EV_PASS_LOCAL),
	V_PASS("wan_to_unmapped_addr", IF_ATT,
	       TCP(REMOTE, IP(198, 51, 100, 200), 1, 22, SYN, 0),
	       MWAN_EV_PASS_UNMAPPED),
	V_PASS("arp", IF_LAN, U_OUT, MWAN_EV_PASS_NOT_IP, .mangle = m_arp),
	/* No lan.ipv6 in this config: IPv6 is not ours at all. */
	V_PASS("ipv6_unconfigured", IF_LAN, U_OUT, MWAN_EV_PASS_UNMAPPED,
	       .mangle = m_ipv6, .tweak = tw_no_lan6),
	V_PASS("eth_only_arp", IF_LAN, U_OUT, MWAN_EV_PASS_NOT_IP,
	       .mangle = m_eth_only_arp),
	V_PASS("eapol", IF_ATT, U_OUT, MWAN_EV_PASS_CONTROL, .mangle = m_eapol),
	V_PASS("eapol_vlan0", IF_ATT, U_OUT, MWAN_EV_PASS_CONTROL,
	       .mangle = m_eapol_vlan0),
	V_PASS("eapol_qinq", IF_ATT, U_OUT, MWAN_EV_PASS_CONTROL,
	       .mangle = m_eapol_qinq),
	V_PASS("bridge_group_dst_ipv4", IF_LAN, U_OUT, MWAN_EV_PASS_CONTROL,
	       .mangle = m_control_dst),
	V_PASS("vlan_tagged_ipv4", IF_LAN, U_OUT, MWAN_EV_PASS_VLAN,
	       .mangle = m_vlan),
	V_PASS("not_ready", IF_LAN, U_OUT, MWAN_EV_PASS_NOT_READY,
	       .tweak = tw_not_ready),
	V_PASS("unknown_iface", IF_OTHER, U_OUT, -1),
	/* truncated or malformed */
	V_DROP("eth_only_ipv4", IF_LAN, U_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_eth_only),
	V_DROP("ip_header_cut", IF_LAN, U_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_ip_cut),
	V_DROP("tot_len_beyond_frame", IF_LAN, U_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_tot_len_long),
	V_DROP("tcp_header_cut", IF_LAN, TCP(HOST(0), REMOTE, 1, 80, SYN, 0),
	       MWAN_DROP_TRUNCATED, .mangle = m_l4_cut),
	V_DROP("udp_header_cut", IF_LAN, U_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_udp_cut),
	V_DROP("tiny_first_fragment", IF_LAN,
	       TCP(HOST(0), REMOTE, 1, 80, ACK, 100, .mf = 1, .frag_len = 8),
	       MWAN_DROP_TRUNCATED),
	V_DROP("bad_ip_version", IF_LAN, U_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_bad_version),
	V_DROP("wan_ip_header_cut", IF_ATT, T_IN(1), MWAN_DROP_TRUNCATED,
	       .mangle = m_ip_cut),
	/* fragments whose first was never seen */
	V_DROP("frag_unmatched_middle", IF_LAN,
	       U_FRAG(.frag_off = 800, .frag_len = 800, .mf = 1),
	       MWAN_DROP_FRAG_UNMATCHED),
	V_DROP("frag_unmatched_last", IF_LAN, U_FRAG(.frag_off = 1600),
	       MWAN_DROP_FRAG_UNMATCHED),
	/* ICMP errors that cannot be translated */
	V_DROP("icmp_error_no_flow", IF_LAN, HOST_ERR, MWAN_DROP_ICMP_NO_FLOW,
	       .q = HOST_QUOTE(2)),
	V_DROP("icmp_error_quotes_other_host", IF_LAN, HOST_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOST_QUOTE(3)),
	V_DROP("icmp_error_quote_cut", IF_LAN, HOST_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOST_QUOTE(2), .qlen = 22),
	V_DROP("icmp_error_quotes_error", IF_LAN, HOST_ERR,
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = ICMP_ERR(REMOTE2, HOST(2), ICMP_TIME_EXCEEDED, 0, 0)),
	V_DROP("wan_icmp_error_quotes_other_src", IF_ATT, HOP_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOP_QUOTE(1)),
	V_DROP("wan_icmp_error_quote_cut", IF_ATT, HOP_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOP_QUOTE(0), .qlen = 23),
	/* no WAN may take new flows */
	V_DROP("no_usable_wan", IF_LAN, U_OUT, MWAN_DROP_NO_WAN,
	       .tweak = tw_no_weight),
	/* a public address that belongs to the other WAN */
	V_DROP("wan_wrong_wan", IF_WP, T_IN(1), MWAN_DROP_WRONG_WAN),
	/* the ingress filter (security model): spoofed, bogon, listed */
	V_DROP("wan_spoofed_lan_src", IF_ATT,
	       TCP(HOST(2), PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_LAN_SRC),
	V_DROP("wan_spoofed_lan_src_to_router", IF_ATT,
	       TCP(HOST(2), ATT_ADDR, 41000, 53, SYN, 0),
	       MWAN_DROP_SPOOFED_LAN_SRC),
	V_DROP("wan_internal_dst", IF_ATT,
	       TCP(REMOTE, HOST(1), 41000, 22, SYN, 0), MWAN_DROP_INTERNAL_DST),
	V_DROP("wan_router_lan_addr_dst", IF_ATT,
	       TCP(REMOTE, ROUTER_LAN, 41000, 22, SYN, 0),
	       MWAN_DROP_INTERNAL_DST),
	V_DROP("wan_spoofed_router_src", IF_ATT,
	       TCP(ATT_ADDR, PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_OWN_SRC),
	V_DROP("wan_spoofed_own_public_src", IF_ATT,
	       TCP(PUB_ATT(2), PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_OWN_SRC),
	V_DROP("wan_bogon_src_10", IF_ATT,
	       TCP(IP(10, 250, 251, 3), PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_DROP("wan_bogon_src_172_16", IF_ATT,
	       TCP(IP(172, 16, 0, 1), PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_DROP("wan_bogon_src_192_168", IF_WP,
	       TCP(IP(192, 168, 1, 1), PUB_WP(1), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_DROP("wan_bogon_src_loopback", IF_ATT,
	       TCP(IP(127, 0, 0, 1), PUB_ATT(1), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_DROP("wan_bogon_src_unmapped_dst", IF_ATT,
	       TCP(IP(10, 1, 1, 1), IP(198, 51, 100, 200), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_PASS("wan_bogon_src_to_router", IF_ATT,
	       TCP(IP(192, 168, 1, 1), ATT_ADDR, 41000, 22, SYN, 0),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("wan_bogon_src_to_broadcast", IF_ATT,
	       UDP(IP(10, 0, 0, 1), IP(255, 255, 255, 255), 67, 68, 300),
	       MWAN_EV_PASS_LOCAL),
	V_DROP("wan_filtered_src", IF_WP,
	       TCP(FILTERED4 + 5, PUB_WP(1), 41000, 22, SYN, 0),
	       MWAN_DROP_FILTERED_SRC),
	V_DROP("wan_filtered_src_to_router", IF_ATT,
	       TCP(FILTERED4 + 15, ATT_ADDR, 41000, 22, SYN, 0),
	       MWAN_DROP_FILTERED_SRC),
	V_PASS("wan_next_to_filtered_src_to_router", IF_ATT,
	       TCP(FILTERED4 + 16, ATT_ADDR, 41000, 22, SYN, 0),
	       MWAN_EV_PASS_LOCAL),
	V_DROP("wan_bogon_error_no_flow", IF_ATT,
	       ICMP_ERR(IP(10, 9, 9, 9), PUB_ATT(0), ICMP_TIME_EXCEEDED, 0, 0),
	       MWAN_DROP_ICMP_NO_FLOW, .q = HOP_QUOTE(0)),
	V_DROP("wan_error_no_flow", IF_ATT, HOP_ERR, MWAN_DROP_ICMP_NO_FLOW,
	       .q = HOP_QUOTE(0)),

	/* IPv6: the kernel's job */
	V_SLOW("ipv6_hop_limit_1", IF_LAN, U6_OUT, MWAN_EV_PASS_TTL,
	       .mangle = m_ttl1, .flow = 1),
	V_SLOW("ipv6_over_wan_mtu", IF_LAN,
	       UDP6(HOST6(0), REMOTE6, 40000, 53, 1353), MWAN_EV_PASS_MTU,
	       .tweak = tw_wan_mtu_1400, .flow = 1),
	V_SLOW("ipv6_gateway_unresolved", IF_LAN, U6_OUT, MWAN_EV_PASS_NO_NEIGH,
	       .tweak = tw_no_neigh6, .flow = 1),
	V_SLOW("ipv6_fast_path_off", IF_LAN, U6_OUT, MWAN_EV_PASS_SLOW_PATH,
	       .tweak = tw_slow_path),
	V_SLOW("wan6_hop_limit_1", IF_ATT, T6_IN(3), MWAN_EV_PASS_TTL,
	       .mangle = m_ttl1, .flow = 1),
	V_SLOW("wan6_host_unresolved", IF_ATT, T6_IN(3), MWAN_EV_PASS_NO_NEIGH,
	       .tweak = tw_host6_no_neigh, .flow = 1),
	V_SLOW("wan6_over_lan_mtu", IF_ATT,
	       UDP6(REMOTE6, EXT6_ATT(3), 41000, 4500, 1353), MWAN_EV_PASS_MTU,
	       .tweak = tw_lan_mtu_1400, .flow = 1),
	/* IPv6 extension headers: the fast path leaves them to the slow one */
	V_EXT("ipv6_dstopts", IF_LAN,
	      UDP6(HOST6(0), REMOTE6, 40000, 53, 32, .xh = X_DST), -1,
	      .slow = 1),
	V_EXT("wan6_dstopts", IF_ATT,
	      TCP6(REMOTE6, EXT6_ATT(3), 41000, 22, SYN, 0, .xh = X_DST), -1,
	      .slow = 1),
	V_EXT("ipv6_mld_report", IF_LAN,
	      ICMP6_LINK(1, LL6(2), MCAST6(0x16), MLD2_REPORT, 28, .xh = X_HBH),
	      -1),
	V_EXT("wan6_mld_query", IF_ATT,
	      ICMP6_LINK(1, LL6(1), MCAST6(1), MLD_LISTENER_QUERY, 20,
			 .xh = X_HBH),
	      -1),
	V_EXT("ipv6_frag_unmatched_middle", IF_LAN,
	      U6_FRAG(.frag_off = 800, .frag_len = 800, .mf = 1),
	      MWAN_DROP_FRAG_UNMATCHED, .drop = 1),
	V_EXT("ipv6_frag_unmatched_last", IF_LAN, U6_FRAG(.frag_off = 1600),
	      MWAN_DROP_FRAG_UNMATCHED, .drop = 1),
	/* IPv6 that is not ours: ND, RA, DHCPv6, link-local, the router */
	V_PASS("ipv6_to_router_lan_addr", IF_LAN,
	       UDP6(HOST6(0), ROUTER6, 1, 53, 8), MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_to_router_wan_addr", IF_LAN,
	       UDP6(HOST6(0), ATT_ADDR6, 1, 53, 8), MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_to_lan_host", IF_LAN, UDP6(HOST6(0), HOST6(1), 1, 53, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_to_multicast", IF_LAN,
	       UDP6(HOST6(0), MCAST6(0xfb), 5353, 5353, 8), MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_link_local", IF_LAN, UDP6(LL6(2), LL6(1), 1, 53, 8),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_nd_ns", IF_LAN,
	       ND6(HOST6(0), SOLICITED6(1), ND_NEIGHBOR_SOLICIT, 24),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_nd_na", IF_LAN,
	       ND6(LL6(2), LL6(1), ND_NEIGHBOR_ADVERT, 24), MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_dhcp6_solicit", IF_LAN,
	       UDP_(PKT6_LINK, LL6(2), DHCP6_SERVERS, 546, 547, 60),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("ipv6_src_outside_lan_prefix", IF_LAN,
	       UDP6(A6(0x3d06, 0xbad, 0xb01, 0xff, 0, 0, 0, 2), REMOTE6, 1, 53,
		    8),
	       MWAN_EV_PASS_UNMAPPED),
	V_PASS("ipv6_src_already_external", IF_LAN,
	       UDP6(EXT6_ATT(2), REMOTE6, 1, 53, 8), MWAN_EV_PASS_UNMAPPED),
	V_PASS("ipv6_to_routed_elsewhere", IF_LAN,
	       UDP6(HOST6(0), TUNNEL6_PEER, 40000, 51820, 32),
	       MWAN_EV_PASS_ROUTED, .tweak = tw_tunnel_route),
	V_PASS("ipv6_lan_prefix_off", IF_LAN, U6_OUT, MWAN_EV_PASS_UNMAPPED,
	       .tweak = tw_no_lan6),
	V_PASS("wan6_to_router_addr", IF_ATT,
	       TCP6(REMOTE6, ATT_ADDR6, 1, 22, SYN, 0), MWAN_EV_PASS_LOCAL),
	V_DROP("wan6_to_other_wan_prefix", IF_ATT,
	       TCP6(REMOTE6, EXT6_WP(3), 41000, 22, SYN, 0),
	       MWAN_DROP_WRONG_WAN),
	V_PASS("wan6_to_unmapped_addr", IF_ATT,
	       TCP6(REMOTE6, A6(0x2001, 0xdb8, 0xa0, 0x1ff, 0, 0, 0, 3), 41000,
		    22, SYN, 0),
	       MWAN_EV_PASS_UNMAPPED),
	V_DROP("wan6_to_internal_addr", IF_ATT,
	       TCP6(REMOTE6, HOST6(1), 41000, 22, SYN, 0),
	       MWAN_DROP_INTERNAL_DST),
	V_PASS("wan6_nd_ns", IF_ATT,
	       ND6(LL6(1), SOLICITED6(2), ND_NEIGHBOR_SOLICIT, 24),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("wan6_ra", IF_ATT, ND6(LL6(1), MCAST6(1), ND_ROUTER_ADVERT, 48),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("wan6_dhcp6_reply", IF_ATT,
	       UDP_(PKT6_LINK, LL6(1), LL6(0xa), 547, 546, 80),
	       MWAN_EV_PASS_LOCAL),
	/* the ingress filter (security model): spoofed, bogon, listed */
	V_DROP("wan6_spoofed_internal_src", IF_ATT,
	       TCP6(HOST6(0), EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_LAN_SRC),
	V_DROP("wan6_spoofed_router_src", IF_ATT,
	       TCP6(ATT_ADDR6, EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_OWN_SRC),
	V_DROP("wan6_spoofed_own_prefix_src", IF_ATT,
	       TCP6(EXT6_ATT(4), EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_DROP_SPOOFED_OWN_SRC),
	V_DROP("wan6_ula_src", IF_ATT,
	       TCP6(ULA_OTHER, EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_DROP_BOGON_SRC),
	V_DROP("wan6_ula_src_to_router_internal_addr", IF_ATT,
	       TCP6(ULA_OTHER, ROUTER6, 41000, 22, SYN, 0),
	       MWAN_DROP_INTERNAL_DST),
	V_PASS("wan6_ula_src_to_router", IF_ATT,
	       TCP6(ULA_OTHER, ATT_ADDR6, 41000, 22, SYN, 0),
	       MWAN_EV_PASS_LOCAL),
	V_DROP("wan6_bogon_error_no_flow", IF_ATT,
	       ICMP6_ERR(ULA_OTHER, EXT6_ATT(2), ICMP6_TIME_EXCEEDED, 0, 0),
	       MWAN_DROP_ICMP_NO_FLOW, .q = HOP6_QUOTE(EXT6_ATT(2))),
	V_DROP("wan6_error_no_flow", IF_ATT, HOP6_ERR, MWAN_DROP_ICMP_NO_FLOW,
	       .q = HOP6_QUOTE(EXT6_ATT(2))),
	/* special sources are the kernel's too, counted as pass_local */
	V_PASS("wan6_loopback_src", IF_ATT,
	       TCP6(LOOPBACK6, EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("wan6_multicast_src", IF_ATT,
	       TCP6(MCAST6(1), EXT6_ATT(3), 41000, 22, SYN, 0),
	       MWAN_EV_PASS_LOCAL),
	V_PASS("wan6_no_prefix_anywhere", IF_ATT, T6_IN(3),
	       MWAN_EV_PASS_UNMAPPED, .tweak = tw_no_prefix),
	V_PASS("wan6_lan_prefix_off", IF_ATT, T6_IN(3), MWAN_EV_PASS_UNMAPPED,
	       .tweak = tw_no_lan6),
	/* IPv6 truncated or malformed */
	V_DROP("ipv6_header_cut", IF_LAN, U6_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_ip_cut),
	V_DROP("ipv6_payload_len_beyond_frame", IF_LAN, U6_OUT,
	       MWAN_DROP_TRUNCATED, .mangle = m_tot_len_long),
	V_DROP("ipv6_tcp_header_cut", IF_LAN,
	       TCP6(HOST6(0), REMOTE6, 1, 80, SYN, 0), MWAN_DROP_TRUNCATED,
	       .mangle = m_l4_cut),
	V_DROP("ipv6_udp_header_cut", IF_LAN, U6_OUT, MWAN_DROP_TRUNCATED,
	       .mangle = m_udp_cut),
	V_DROP("ipv6_tiny_first_fragment", IF_LAN,
	       TCP6(HOST6(0), REMOTE6, 1, 80, ACK, 100, .mf = 1, .frag_len = 8),
	       MWAN_DROP_TRUNCATED),
	V_DROP("wan6_header_cut", IF_ATT, T6_IN(3), MWAN_DROP_TRUNCATED,
	       .mangle = m_ip_cut),
	V_DROP("wan6_payload_len_beyond_frame", IF_ATT, T6_IN(3),
	       MWAN_DROP_TRUNCATED, .mangle = m_tot_len_long),
	/* ICMPv6 errors that cannot be translated */
	V_DROP("ipv6_icmp_error_no_flow", IF_LAN, HOST6_ERR,
	       MWAN_DROP_ICMP_NO_FLOW, .q = HOST6_QUOTE(2)),
	V_DROP("ipv6_icmp_error_quotes_other_host", IF_LAN, HOST6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOST6_QUOTE(3)),
	V_DROP("ipv6_icmp_error_quote_cut", IF_LAN, HOST6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOST6_QUOTE(2), .qlen = 42),
	V_DROP("ipv6_icmp_error_quotes_error", IF_LAN, HOST6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = ICMP6_ERR(REMOTE6_2, HOST6(2), ICMP6_TIME_EXCEEDED, 0, 0)),
	V_DROP("wan6_icmp_error_quotes_other_prefix", IF_ATT, HOP6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOP6_QUOTE(EXT6_WP(2))),
	V_DROP("wan6_icmp_error_quotes_remote_src", IF_ATT, HOP6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOP6_QUOTE(REMOTE6_2)),
	V_DROP("wan6_icmp_error_quote_cut", IF_ATT, HOP6_ERR,
	       MWAN_DROP_ICMP_BAD_INNER, .q = HOP6_QUOTE(EXT6_ATT(2)),
	       .qlen = 43),
	/* no external prefix, no external face */
	V_DROP("ipv6_no_prefix_anywhere", IF_LAN, U6_OUT,
	       MWAN_DROP_NPT_NO_PREFIX, .tweak = tw_no_prefix),
	V_DROP("wan6_iid_all_ones", IF_ATT,
	       TCP6(REMOTE6,
		    A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0xffff, 0xffff, 0xffff,
		       0xffff),
		    41000, 22, SYN, 0),
	       MWAN_DROP_NPT_UNMAPPABLE),
};

static void build_case(const struct verdict_case *c, const struct ip46 *ip,
		       struct frame *f)
{
	struct pkt p = arriving(c->iface, ip, &c->q, c->qlen);

	build(&p, f);
	if (c->mangle)
		c->mangle(f);
}

/* What mwan_tc_in makes of a frame it takes over, and the mark it sets. */
static __u32 tc_takeover(const struct verdict_case *c, struct frame *want)
{
	struct ip46 ip = c->ip;
	int wan;

	if (c->iface == IF_LAN) {
		struct mwan_flow_key k = key_out(&ip);

		wan = predict(&k);
	} else {
		wan = c->iface - IF_ATT;
		xlate(&ip, DST, wan, false);
	}
	build_case(c, &ip, want);
	return FWMARK(wan);
}

/* Newer kernels refuse to run skb programs on a frame that claims IPv4
 * or IPv6 but is shorter than its header (6.1 runs them).
 */
static bool skb_test_run_accepts(const struct frame *f)
{
	static const __u8 ipv4[2] = { ETH_P_IP >> 8, ETH_P_IP & 0xff };
	static struct fx_result r;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = r.f.b,
		    .data_size_out = sizeof(r.f.b));
	size_t hdr = frame_v6(f) ? sizeof(struct ipv6hdr) :
				   sizeof(struct iphdr);

	if ((memcmp(f->b + 12, ipv4, 2) && !frame_v6(f)) ||
	    f->len >= ETH_HLEN + hdr)
		return true;
	return !bpf_prog_test_run_opts(fx.prog[TC_IN], &o) || errno != EINVAL;
}

static void test_verdict(void **state)
{
	const struct verdict_case *c = *state;
	static struct frame in, want;
	__u32 mark = 0;

	if (c->tweak)
		c->tweak();
	steer_sync();
	build_case(c, &c->ip, &in);
	expect_frame(XDP, c->iface, &in,
		     c->drop && !c->xdp_ext ? XDP_DROP : XDP_PASS, &in);
	expect_stats({ c->xdp_ext ? MWAN_EV_PASS_EXT_HDR : c->stat, 1 },
		     { MWAN_EV_FLOW_NEW, c->flow },
		     { c->iface == IF_LAN ? -1 : MWAN_EV_FLOW_NEW_IN,
		       c->flow });
	assert_int_equal(n_flows(), c->flow);

	if (!skb_test_run_accepts(&in)) {
		print_message("%s: TC half skipped, this kernel's test run "
			      "refuses an IP skb without an IP header\n",
			      c->name);
		return;
	}
	zero_stats();
	want = in;
	if (c->slow)
		mark = tc_takeover(c, &want);
	assert_int_equal(expect_frame(TC_IN, c->iface, &in,
				      c->drop ? TC_ACT_SHOT : TC_ACT_OK, &want),
			 mark);
	if (c->drop)
		expect_stats({ c->stat, 1 });
	else if (c->slow)
		expect_stats({ MWAN_EV_FLOW_NEW, !c->flow },
			     { c->iface == IF_LAN ? -1 : MWAN_EV_FLOW_NEW_IN,
			       !c->flow },
			     { c->iface == IF_LAN ? MWAN_EV_TC_MARK :
						    MWAN_EV_TC_DNAT,
			       1 });
	else
		expect_stats();
}

/* Traffic between a host and a network routed elsewhere is the kernel's
 * in both programs: XDP_PASS and TC_ACT_OK, untouched, no mark.
 */
static void expect_kernel_routes(const struct pkt *p, const char *what)
{
	static struct frame in;
	static struct fx_result r;

	build(p, &in);
	run(XDP, IF_LAN, &in, &r);
	if (r.action != XDP_PASS)
		fail_msg("BUG: %s: mwan_xdp action %d, want XDP_PASS (%d)",
			 what, r.action, XDP_PASS);
	assert_frame(&r.f, &in);
	run(TC_IN, IF_LAN, &in, &r);
	if (r.action != TC_ACT_OK)
		fail_msg("BUG: %s: mwan_tc_in action %d, want TC_ACT_OK (%d)",
			 what, r.action, TC_ACT_OK);
	assert_frame(&r.f, &in);
	assert_int_equal(r.mark, 0);
}

/* Only new flows consult mwan_bypass4, so what never starts a flow must
 * not be taken for lost NAT state: the later fragments of a datagram into
 * a tunnel...
 */
static void test_routed_elsewhere_frags(void **state)
{
	struct ip46 d = UDP(HOST(0), TUNNEL_PEER, 40000, 51820, 2000,
			    .id = 0x5151),
		    f[3];
	static const char *const what[3] = {
		"first fragment into the tunnel",
		"middle fragment into the tunnel",
		"last fragment into the tunnel",
	};
	int i;

	(void)state;
	tw_tunnel_route();
	fragment(&d, 800, 1600, f);
	for (i = 0; i < 3; i++) {
		struct pkt p = arriving(IF_LAN, &f[i], NULL, 0);

		expect_kernel_routes(&p, what[i]);
	}
	assert_int_equal(n_flows(), 0);
}

/* ...and a host's ICMP error about what a tunnel peer sent it. */
static void test_routed_elsewhere_icmp_error(void **state)
{
	struct ip46 peer = UDP(TUNNEL_PEER, HOST(2), 51820, 5000, 40);
	struct ip46 err = ICMP_ERR(HOST(2), TUNNEL_PEER, ICMP_DEST_UNREACH,
				   ICMP_PORT_UNREACH, 0);
	struct pkt p = arriving(IF_LAN, &err, &peer, 0);

	(void)state;
	tw_tunnel_route();
	expect_kernel_routes(&p, "port unreachable to the tunnel peer");
}

/* ---- the TC egress guard on the WANs ---- */

/* A second LAN, as `lans:` writes it: 10.250.251.0/24 on IF_OTHER. */
#define LAN2_NET IP(10, 250, 251, 0)
#define LAN2_HOST IP(10, 250, 251, 9) /* no mapping */
#define OTHER_NET4 IP(192, 168, 77, 2) /* behind the router, no LAN */
#define WAN_LINK_PRIVATE IP(192, 168, 1, 2) /* behind an ISP's modem */
#define ULA_ROUTER A6(0xfd00, 0x1, 0, 0, 0, 0, 0, 2)

static void tw_second_lan(void)
{
	struct mwan_cfg c = cfg_get();
	__u32 idx = fx.ifindex[IF_OTHER];

	put(MAP(mwan_tx), &idx, &idx); /* as sync_ifaces does */

	c.n_lans = 2;
	c.lan[1].ifindex = fx.ifindex[IF_OTHER];
	c.lan[1].net4 = htonl(LAN2_NET);
	c.lan[1].mask4 = htonl(IP(255, 255, 255, 0));
	c.lan[1].mtu = 1500;
	c.lan[1].xdp_tx = 1;
	memcpy(c.lan[1].mac, if_macs[IF_OTHER], ETH_ALEN);
	cfg_put(&c);
}

/* The router's own private addresses (a WAN link behind a modem). */
static void tw_router_private(void)
{
	struct mwan_local4 v = { .ifindex = fx.ifindex[IF_ATT] };
	__be32 a = htonl(WAN_LINK_PRIVATE);

	put(MAP(mwan_local4), &a, &v);
	local6_put(&ULA_ROUTER, IF_ATT);
}

enum guard_fix { G_KEEP, G_SNAT, G_QUOTE };

struct guard_case {
	const char *name;
	int wan;
	struct ip46 ip, q;
	__u16 qlen;
	void (*tweak)(void);
	void (*mangle)(struct frame *f);
	int action;
	int stat; /* -1: none */
	enum guard_fix fix;
};

#define GUARD(n, w, pkt, act, st, fx, ...)                           \
	{                                                            \
		.name = (n), .wan = (w), .ip = pkt, .action = (act), \
		.stat = (st), .fix = (fx), __VA_ARGS__               \
	}
#define G_SHOT(n, w, pkt, st, ...)                                         \
	{                                                                  \
		.name = (n), .wan = (w), .ip = pkt, .action = TC_ACT_SHOT, \
		.stat = (st), __VA_ARGS__                                  \
	}
#define TX_ERR(s, t, c, r) ICMP_ERR(s, REMOTE, t, c, r)
#define TX_ERR_TTL(s) TX_ERR(s, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0)
#define TX_ERR_MTU(s) TX_ERR(s, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, MTU_1400)
#define U_GUARD(src) UDP(src, REMOTE, 1, 53, 8)
#define TX6_ERR(s, t, c, r) ICMP6_ERR(s, REMOTE6, t, c, r)
#define U6_GUARD(src) UDP6(src, REMOTE6, 1, 53, 8)

static const struct guard_case guard_cases[] = {
	G_SHOT("unmapped_internal_src", ATT, U_GUARD(UNMAPPED),
	       MWAN_DROP_INTERNAL_SRC),
	G_SHOT("second_lan_unmapped_src", WP, U_GUARD(LAN2_HOST),
	       MWAN_DROP_INTERNAL_SRC, .tweak = tw_second_lan),
	/* private sources from networks no LAN names, unless the router's */
	G_SHOT("private_src_no_lan", ATT, U_GUARD(OTHER_NET4),
	       MWAN_DROP_PRIVATE_SRC),
	G_SHOT("private_src_172_16", WP, U_GUARD(IP(172, 31, 255, 254)),
	       MWAN_DROP_PRIVATE_SRC),
	G_SHOT("private_src_10_8", WP, U_GUARD(IP(10, 0, 0, 1)),
	       MWAN_DROP_PRIVATE_SRC),
	GUARD("router_own_private_src", ATT, U_GUARD(WAN_LINK_PRIVATE),
	      TC_ACT_OK, -1, G_KEEP, .tweak = tw_router_private),
	/* BCP 38: what the router did not translate, only by allow_sources */
	G_SHOT("public_untranslated_src", ATT, U_GUARD(IP(192, 0, 2, 77)),
	       MWAN_DROP_BCP38_SRC),
	G_SHOT("other_wans_public_src", ATT, U_GUARD(PUB_WP(1)),
	       MWAN_DROP_BCP38_SRC),
	GUARD("allowed_src", ATT, U_GUARD(ALLOWED4 + 63), TC_ACT_OK, -1,
	      G_KEEP),
	G_SHOT("allowed_src_other_wan", WP, U_GUARD(ALLOWED4 + 1),
	       MWAN_DROP_BCP38_SRC),
	G_SHOT("allowed_src_next_door", ATT, U_GUARD(ALLOWED4 + 64),
	       MWAN_DROP_BCP38_SRC),
	GUARD("dhcp_client_unspecified_src", WP,
	      UDP(IP(0, 0, 0, 0), IP(255, 255, 255, 255), 68, 67, 300),
	      TC_ACT_OK, -1, G_KEEP),
	G_SHOT("ipv6_public_untranslated_src", ATT, U6_GUARD(HOP6),
	       MWAN_DROP_BCP38_SRC),
	GUARD("ipv6_allowed_src", ATT,
	      U6_GUARD(A6(0x2001, 0xdb8, 0xa1, 0x77, 0, 0, 0, 1)), TC_ACT_OK,
	      -1, G_KEEP),
	G_SHOT("ipv6_allowed_src_other_wan", WP,
	       U6_GUARD(A6(0x2001, 0xdb8, 0xa1, 0x77, 0, 0, 0, 1)),
	       MWAN_DROP_BCP38_SRC),
	GUARD("ipv6_link_local_src", ATT, U6_GUARD(LL6(2)), TC_ACT_OK, -1,
	      G_KEEP),
	G_SHOT("ipv6_ula_src_no_lan", ATT, U6_GUARD(ULA_OTHER),
	       MWAN_DROP_PRIVATE_SRC),
	GUARD("ipv6_router_own_ula_src", WP, U6_GUARD(ULA_ROUTER), TC_ACT_OK,
	      -1, G_KEEP, .tweak = tw_router_private),
	G_SHOT("router_lan_src", WP, U_GUARD(ROUTER_LAN),
	       MWAN_DROP_INTERNAL_SRC),
	G_SHOT("unmapped_host", ATT, U_GUARD(HOST(4)), MWAN_DROP_INTERNAL_SRC,
	       .tweak = tw_unmap_host4),
	G_SHOT("host_without_addr_on_this_wan", WP, U_GUARD(HOST(3)),
	       MWAN_DROP_INTERNAL_SRC, .tweak = tw_host3_att_only),
	G_SHOT("truncated_internal_src", ATT, U_GUARD(HOST(0)),
	       MWAN_DROP_INTERNAL_SRC, .mangle = m_tot_len_long),
	G_SHOT("host_error_quotes_other_host", ATT,
	       TX_ERR(HOST(0), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = UDP(REMOTE, HOST(1), 53, 1000, 8)),
	G_SHOT("router_error_quotes_internal_src", ATT, TX_ERR_MTU(ATT_ADDR),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = UDP(HOST(0), REMOTE, 1000, 53, 8)),
	G_SHOT("router_error_quotes_unmapped_dst", ATT, TX_ERR_TTL(ATT_ADDR),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = UDP(REMOTE, UNMAPPED, 53, 1000, 8)),
	GUARD("router_error_quotes_inbound_tcp", ATT, TX_ERR_TTL(ATT_ADDR),
	      TC_ACT_OK, -1, G_QUOTE,
	      .q = TCP(REMOTE, HOST(1), 41000, 22, SYN, 0)),
	GUARD("router_error_quotes_inbound_udp_28", WP,
	      TX_ERR_MTU(IP(100, 64, 2, 2)), TC_ACT_OK, -1, G_QUOTE,
	      .q = UDP(REMOTE, HOST(2), 41000, 4500, 1460), .qlen = 28),
	GUARD("router_own_traffic", ATT, TCP(ATT_ADDR, REMOTE, 1, 179, SYN, 0),
	      TC_ACT_OK, -1, G_KEEP),
	GUARD("mapped_src_snat", WP, UDP(HOST(3), REMOTE, 1000, 53, 30),
	      TC_ACT_OK, MWAN_EV_TC_SNAT, G_SNAT),
	GUARD("mapped_src_snat_ip_options", ATT,
	      TCP(HOST(0), REMOTE, 1000, 80, ACK, 20, .optwords = 2), TC_ACT_OK,
	      MWAN_EV_TC_SNAT, G_SNAT),
	/* IPv6: no internal address leaves a WAN without a valid prefix */
	G_SHOT("ipv6_internal_src_no_prefix", WP, U6_GUARD(HOST6(0)),
	       MWAN_DROP_INTERNAL_SRC, .tweak = tw_wp_no_prefix),
	G_SHOT("ipv6_internal_src_prefix_expired", WP, U6_GUARD(HOST6(0)),
	       MWAN_DROP_INTERNAL_SRC, .tweak = tw_wp_expired),
	G_SHOT("ipv6_truncated_internal_src", ATT, U6_GUARD(HOST6(0)),
	       MWAN_DROP_INTERNAL_SRC, .mangle = m_tot_len_long),
	G_SHOT("ipv6_internal_src_iid_all_ones", ATT,
	       U6_GUARD(LAN6_IID(0xffff, 0xffff, 0xffff, 0xffff)),
	       MWAN_DROP_NPT_UNMAPPABLE),
	G_SHOT("ipv6_host_error_quotes_other_host", ATT,
	       TX6_ERR(HOST6(0), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT,
		       0),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = UDP6(REMOTE6, HOST6(1), 53, 1000, 8)),
	G_SHOT("ipv6_router_error_quotes_internal_src", ATT,
	       TX6_ERR(ATT_ADDR6, ICMP6_PACKET_TOO_BIG, 0, MTU_1400),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = UDP6(HOST6(0), REMOTE6, 1000, 53, 8)),
	G_SHOT("ipv6_router_error_no_prefix", WP,
	       TX6_ERR(WP_ADDR6, ICMP6_TIME_EXCEEDED, 0, 0),
	       MWAN_DROP_ICMP_BAD_INNER,
	       .q = TCP6(REMOTE6, HOST6(1), 41000, 22, SYN, 0),
	       .tweak = tw_wp_no_prefix),
	GUARD("ipv6_router_error_quotes_inbound_tcp", ATT,
	      TX6_ERR(ATT_ADDR6, ICMP6_TIME_EXCEEDED, 0, 0), TC_ACT_OK, -1,
	      G_QUOTE, .q = TCP6(REMOTE6, HOST6(1), 41000, 22, SYN, 0)),
	GUARD("ipv6_router_error_quotes_inbound_udp_48", WP,
	      TX6_ERR(WP_ADDR6, ICMP6_PACKET_TOO_BIG, 0, MTU_1400), TC_ACT_OK,
	      -1, G_QUOTE, .q = UDP6(REMOTE6, HOST6(2), 41000, 4500, 1460),
	      .qlen = 48),
	GUARD("ipv6_router_own_traffic", ATT,
	      TCP6(ATT_ADDR6, REMOTE6, 1, 179, SYN, 0), TC_ACT_OK, -1, G_KEEP),
	GUARD("ipv6_lan_prefix_off", ATT, U6_GUARD(HOST6(0)), TC_ACT_OK, -1,
	      G_KEEP, .tweak = tw_no_lan6),
	GUARD("ipv6_mapped_src_snat", WP, UDP6(HOST6(3), REMOTE6, 1000, 53, 30),
	      TC_ACT_OK, MWAN_EV_TC_SNAT, G_SNAT),
	GUARD("ipv6_mapped_src_snat_dstopts", ATT,
	      TCP6(HOST6(0), REMOTE6, 1000, 80, ACK, 20, .xh = X_DST),
	      TC_ACT_OK, MWAN_EV_TC_SNAT, G_SNAT),
	GUARD("ipv6_host_error_snat", ATT,
	      TX6_ERR(HOST6(1), ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0),
	      TC_ACT_OK, MWAN_EV_TC_SNAT, G_SNAT,
	      .q = UDP6(REMOTE6, HOST6(1), 53, 1000, 8)),
};

static void test_guard(void **state)
{
	const struct guard_case *c = *state;
	static struct frame in, want;
	struct pkt p = arriving(IF_LAN, &c->ip, &c->q, c->qlen), w;

	if (c->tweak)
		c->tweak();
	p = to_gateway(p, c->wan); /* as the kernel hands it over */
	w = p;
	if (c->fix == G_SNAT)
		w = snat(p, c->wan);
	else if (c->fix == G_QUOTE)
		xlate(&w.q, DST, c->wan, true);
	build(&p, &in);
	build(&w, &want);
	if (c->mangle) {
		c->mangle(&in);
		c->mangle(&want);
	}
	expect_frame(TC_OUT, WAN_IF(c->wan), &in, c->action, &want);
	expect_stats({ c->stat, 1 });
}

/* The guard remembers an unmapped LAN source (mwan_unmapped): where it
 * was going and by which WAN, for the loader's log and bpfctl.
 */
static void test_guard_notes_unmapped(void **state)
{
	struct ip46 ip = U_GUARD(UNMAPPED);
	struct pkt p = to_gateway(arriving(IF_LAN, &ip, NULL, 0), WP);
	struct mwan_unmapped u;
	__be32 key = htonl(UNMAPPED);

	(void)state;
	expect(TC_OUT, IF_WP, &p, TC_ACT_SHOT, NULL);
	expect(TC_OUT, IF_WP, &p, TC_ACT_SHOT, NULL);
	assert_int_equal(bpf_map_lookup_elem(MAP(mwan_unmapped), &key, &u), 0);
	assert_int_equal(u.packets, 2);
	assert_int_equal(u.wan, WP);
	assert_int_equal(u.dst, htonl(REMOTE));
	assert_true(u.last_ns > 0);
	expect_stats({ MWAN_DROP_INTERNAL_SRC, 2 });
}

/* mwan_wandrop[slot][reason], summed over the CPUs. */
static void expect_wandrop(__u32 slot, __u32 reason, __u64 n)
{
	__u32 key = slot * MWAN_DROP_MAX_ + reason;
	__u64 *v = fx.percpu, sum = 0;
	int i;

	get(MAP(mwan_wandrop), &key, v);
	for (i = 0; i < fx.ncpus; i++)
		sum += v[i];
	if (sum != n)
		fail_msg("mwan_wandrop slot %u %s: %llu, want %llu", slot,
			 fx_stat_names[reason], (unsigned long long)sum,
			 (unsigned long long)n);
}

/* A drop is counted at the interface it happened on: a WAN's slot, a
 * LAN's (MWAN_WANDROP_LAN + its index), never "other" for either.
 */
static void test_drops_by_iface(void **state)
{
	struct ip46 in = T_IN(1), out = UDP(HOST(0), REMOTE, 1, 53, 8);
	struct pkt pi = arriving(IF_WP, &in, NULL, 0);
	struct pkt po = arriving(IF_LAN, &out, NULL, 0);
	static struct frame f;
	static struct fx_result r;

	(void)state;
	build(&pi, &f); /* att's public address on webpass */
	run(XDP, IF_WP, &f, &r);
	assert_int_equal(r.action, XDP_DROP);
	build(&po, &f);
	f.len = ETH_HLEN + 10; /* the IP header cut */
	run(XDP, IF_LAN, &f, &r);
	assert_int_equal(r.action, XDP_DROP);
	expect_wandrop(WP, MWAN_DROP_WRONG_WAN, 1);
	expect_wandrop(MWAN_WANDROP_LAN + 0, MWAN_DROP_TRUNCATED, 1);
	expect_wandrop(MWAN_WANDROP_OTHER, MWAN_DROP_TRUNCATED, 0);
	expect_wandrop(MWAN_WANDROP_OTHER, MWAN_DROP_WRONG_WAN, 0);
}

/* A source that may not leave (BCP 38) is remembered for the loader's
 * log (mwan_spoofed, IPv4 as ::ffff:a.b.c.d) and counted where it came
 * in (a test run has no ingress interface: "other").
 */
static void test_guard_notes_spoofed(void **state)
{
	struct ip46 ip = U_GUARD(IP(198, 18, 0, 5)), ip6 = U6_GUARD(HOP6);
	struct pkt p = to_gateway(arriving(IF_LAN, &ip, NULL, 0), ATT);
	struct pkt p6 = to_gateway(arriving(IF_LAN, &ip6, NULL, 0), WP);
	struct in6_addr_raw key = {
		{ [10] = 0xff, [11] = 0xff, 198, 18, 0, 5 }
	};
	struct mwan_spoofed v;
	__u8 dst[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 10 };

	(void)state;
	expect(TC_OUT, IF_ATT, &p, TC_ACT_SHOT, NULL);
	expect(TC_OUT, IF_ATT, &p, TC_ACT_SHOT, NULL);
	expect(TC_OUT, IF_WP, &p6, TC_ACT_SHOT, NULL);
	assert_int_equal(bpf_map_lookup_elem(MAP(mwan_spoofed), &key, &v), 0);
	assert_int_equal(v.packets, 2);
	assert_int_equal(v.wan, ATT);
	assert_int_equal(v.reason, MWAN_DROP_BCP38_SRC);
	assert_memory_equal(v.dst, dst, 16);
	assert_true(v.last_ns > 0);
	memcpy(key.a, &ip6.src6, 16);
	assert_int_equal(bpf_map_lookup_elem(MAP(mwan_spoofed), &key, &v), 0);
	assert_int_equal(v.packets, 1);
	assert_int_equal(v.wan, WP);
	assert_memory_equal(v.dst, &ip6.dst6, 16);
	expect_stats({ MWAN_DROP_BCP38_SRC, 3 });
	expect_wandrop(MWAN_WANDROP_OTHER, MWAN_DROP_BCP38_SRC, 3);
}

/* A host on the second LAN: its packets on IF_OTHER are the LAN's
 * (translated out of a WAN), and what comes back for it leaves by
 * IF_OTHER with that LAN's MAC; that LAN's own xdp_tx and MTU count.
 */
static void test_second_lan(void **state)
{
	struct ip46 out = U_OUT, back = T_IN(0);
	struct mwan_nat4 n;
	__be32 key = htonl(HOST(0));
	struct pkt a, r, want;
	struct mwan_flow_key k;
	struct mwan_cfg c;
	int wan;

	(void)state;
	tw_second_lan();
	assert_int_equal(bpf_map_lookup_elem(MAP(mwan_nat4), &key, &n), 0);
	n.lan = 1;
	put(MAP(mwan_nat4), &key, &n);
	/* out by IF_OTHER: the fast path translates it as from any LAN */
	a = arriving(IF_OTHER, &out, NULL, 0);
	k = key_out(&out);
	wan = predict(&k);
	want = hop_out(snat(a, wan), wan);
	expect(XDP, IF_OTHER, &a, XDP_REDIRECT, &want);
	/* in: to the second LAN, with its MAC as the source */
	r = arriving(IF_ATT, &back, NULL, 0);
	want = hop_in(dnat(r, ATT));
	memcpy(want.smac, if_macs[IF_OTHER], ETH_ALEN);
	expect(XDP, IF_ATT, &r, XDP_REDIRECT, &want);
	/* an interface mwan_tx does not know yet: the translated packet
	 * goes to the kernel, not lost
	 */
	c = cfg_get();
	assert_int_equal(bpf_map_delete_elem(MAP(mwan_tx), &c.lan[1].ifindex),
			 0);
	expect(XDP, IF_ATT, &r, XDP_PASS, &want);
	tw_second_lan();
	/* that LAN takes no redirects: the kernel forwards it */
	c = cfg_get();
	c.lan[1].xdp_tx = 0;
	cfg_put(&c);
	expect(XDP, IF_ATT, &r, XDP_PASS, NULL);
	expect_stats({ MWAN_EV_FLOW_NEW, 2 }, { MWAN_EV_FLOW_NEW_IN, 1 },
		     { MWAN_EV_XDP_FWD_OUT, 1 }, { MWAN_EV_XDP_FWD_IN, 2 },
		     { MWAN_EV_PASS_NO_XDP_TX, 1 });
}

/* An unmapped host of the second LAN is the LAN's (pass_unmapped), not
 * some other network's.
 */
static void test_second_lan_unmapped(void **state)
{
	struct ip46 ip = UDP(LAN2_HOST, REMOTE, 40000, 53, 32);
	struct pkt a = arriving(IF_OTHER, &ip, NULL, 0);

	(void)state;
	tw_second_lan();
	expect(XDP, IF_OTHER, &a, XDP_PASS, NULL);
	expect_stats({ MWAN_EV_PASS_UNMAPPED, 1 });
}

/* mwan_tc_out leaves the LAN's egress alone. */
static void test_guard_ignores_lan(void **state)
{
	struct ip46 ip = UDP(REMOTE, HOST(0), 53, 1000, 8);
	struct ip46 ip6 = UDP6(REMOTE6, HOST6(0), 53, 1000, 8);
	struct pkt p = arriving(IF_LAN, &ip, NULL, 0);
	struct pkt p6 = arriving(IF_LAN, &ip6, NULL, 0);

	(void)state;
	expect(TC_OUT, IF_LAN, &p, TC_ACT_OK, NULL);
	expect(TC_OUT, IF_LAN, &p6, TC_ACT_OK, NULL);
	expect_stats();
}

/* ---- both paths translate the same way ---- */

static int wan_by_mac(const struct frame *f)
{
	int v6, w;

	for (v6 = 0; v6 < 2; v6++)
		for (w = 0; w < N_WANS; w++)
			if (!memcmp(f->b, gw_macs[v6][w], ETH_ALEN))
				return w;
	fail_msg("frame not addressed to a gateway");
	return -1;
}

/* The WAN whose public addresses hold `ip`'s destination. */
static int wan_of_ext(const struct ip46 *ip)
{
	if (ip->v6)
		return memcmp(&ip->dst6, &wan_defs[WP].ext6, 8) ? ATT : WP;
	return ip->dst >= wan_defs[WP].pub ? WP : ATT;
}

/* The kernel's part of a hop, done on the input: TTL and these MACs. */
static void kernel_hop(const struct pkt *in, const struct frame *macs,
		       struct frame *f)
{
	struct pkt p = *in;

	p.ip.ttl--;
	memcpy(p.dmac, macs->b, ETH_ALEN);
	memcpy(p.smac, macs->b + ETH_ALEN, ETH_ALEN);
	build(&p, f);
}

/* XDP's output for `in` equals TC's on the same packet after the kernel's
 * hop: outbound mwan_tc_out at the WAN, inbound mwan_tc_in before routing.
 */
static void same_translation(int iface, const struct pkt *in)
{
	static struct frame fin, hop;
	static struct fx_result x, t;
	enum prog tc = iface == IF_LAN ? TC_OUT : TC_IN;

	build(in, &fin);
	run(XDP, iface, &fin, &x);
	assert_int_equal(x.action, XDP_REDIRECT);
	kernel_hop(in, &x.f, &hop);
	run(tc, iface == IF_LAN ? WAN_IF(wan_by_mac(&x.f)) : iface, &hop, &t);
	assert_int_equal(t.action, TC_ACT_OK);
	assert_frame(&t.f, &x.f);
}

/* The host's error about an inbound packet, and a router's error about
 * the host's own packet.
 */
static void same_translation_errors(const struct ip46 *inbound,
				    const struct ip46 *own)
{
	static const struct icmp_case unreach[2] = {
		{ .type = ICMP_DEST_UNREACH, .code = ICMP_PORT_UNREACH },
		{ .type = ICMP6_DST_UNREACH, .code = ICMP6_DST_UNREACH_NOPORT },
	};
	static const struct icmp_case expired[2] = {
		{ .type = ICMP_TIME_EXCEEDED },
		{ .type = ICMP6_TIME_EXCEEDED },
	};
	int v6 = inbound->v6, iw = wan_of_ext(inbound), wan;
	struct pkt got =
		hop_in(dnat(arriving(WAN_IF(iw), inbound, NULL, 0), iw));
	struct ip46 err = error_about(&unreach[v6], &got.ip, false);
	struct pkt p = arriving(IF_LAN, &err, &got.ip, 0), sent;
	struct mwan_flow_key k = key_out(own);

	same_translation(IF_LAN, &p);
	wan = predict(&k);
	sent = hop_out(snat(arriving(IF_LAN, own, NULL, 0), wan), wan);
	err = error_about(&expired[v6], &sent.ip, true);
	p = arriving(WAN_IF(wan), &err, &sent.ip, v6 ? 48 : 28);
	same_translation(WAN_IF(wan), &p);
}

struct same_case {
	const char *name;
	const struct ip46 *out, *in; /* from LAN hosts; to public addresses */
	size_t n_out, n_in;
};

static const struct ip46 same_out4[] = {
	TCP(HOST(0), REMOTE, 40000, 443, SYN, 0),
	TCP(HOST(0), REMOTE, 40000, 443, ACK, 1000),
	UDP(HOST(1), REMOTE, 5000, 53, 33),
	UDP(HOST(1), REMOTE, 5001, 53, 33, .nocsum = 1),
	UDP(HOST(2), REMOTE, 5002, 53, 0),
	ECHO(HOST(3), REMOTE, 0x55, 1, 64),
	UDP(HOST(4), REMOTE, 5003, 53, 2000, .id = 9, .mf = 1,
	    .frag_len = 1200),
	UDP(HOST(4), REMOTE, 5003, 53, 2000, .id = 9, .frag_off = 1200),
};
static const struct ip46 same_in4[] = {
	TCP(REMOTE, PUB_WP(0), 41000, 22, SYN, 0),
	UDP(REMOTE2, PUB_ATT(1), 53, 5000, 100),
	ECHO(REMOTE2, PUB_WP(2), 0x66, 1, 64),
	UDP(REMOTE2, PUB_ATT(3), 53, 9000, 2000, .id = 3, .frag_off = 800),
};
static const struct ip46 same_out6[] = {
	TCP6(HOST6(0), REMOTE6, 40000, 443, SYN, 0),
	TCP6(HOST6(0), REMOTE6, 40000, 443, ACK, 1000),
	UDP6(HOST6(1), REMOTE6, 5000, 53, 33),
	UDP6(HOST6(2), REMOTE6, 5002, 53, 0),
	ECHO6(HOST6(3), REMOTE6, 0x55, 1, 64),
	UDP6(LAN6_IID(0xffff, 1, 2, 3), REMOTE6, 5003, 53, 20),
	UDP6(LAN6_IID(0xdba4, 0, 0, 9), REMOTE6, 5004, 53, 20),
	UDP6(LAN6_IID(0xdcb4, 0, 0, 9), REMOTE6, 5005, 53, 20),
};
static const struct ip46 same_in6[] = {
	TCP6(REMOTE6, EXT6_WP(2), 41000, 22, SYN, 0),
	UDP6(REMOTE6_2, EXT6_ATT(3), 53, 5000, 100),
	ECHO6(REMOTE6_2, EXT6_WP(4), 0x66, 1, 64),
};

#define SAME(n, o, i)                                 \
	{                                             \
		n, o, i, ARRAY_SIZE(o), ARRAY_SIZE(i) \
	}
static const struct same_case same_cases[] = {
	SAME("xdp_tc", same_out4, same_in4),
	SAME("ipv6_xdp_tc", same_out6, same_in6),
};

static void test_same_translation(void **state)
{
	const struct same_case *c = *state;
	struct pkt p;
	size_t i;

	for (i = 0; i < c->n_out; i++) {
		p = arriving(IF_LAN, &c->out[i], NULL, 0);
		same_translation(IF_LAN, &p);
	}
	for (i = 0; i < c->n_in; i++) {
		int wan = wan_of_ext(&c->in[i]);

		p = arriving(WAN_IF(wan), &c->in[i], NULL, 0);
		same_translation(WAN_IF(wan), &p);
	}
	same_translation_errors(&c->in[0], &c->out[0]);
}

/* ---- what XDP cannot parse is the kernel's, not "truncated" ---- */

struct ext6_case {
	const char *name;
	int iface;
	struct ip46 ip;
	const char *what;
};

/* parse6.h: "more than [IP6_MAX_EXT_HDRS] is left to the kernel"; the
 * issue: "extension headers the fast path does not handle go to the
 * TC/kernel path". These are well-formed (RFC 8200 §4.1 order).
 */
static const struct ext6_case ext6_cases[] = {
	{ "five_ext_hdrs_to_router", IF_ATT,
	  UDP6(REMOTE6, ATT_ADDR6, 41000, 7, 16,
	       .xh = X_HBH | X_DST | X_RT | X_FRAG | X_DST2),
	  "UDP to the router's 2001:db8:a::2 on att with 5 extension headers "
	  "(hop-by-hop, dest opts, routing, atomic fragment, dest opts)" },
	{ "big_dstopts_to_router", IF_ATT,
	  UDP6(REMOTE6, ATT_ADDR6, 41000, 7, 16, .xh = X_BIG),
	  "UDP to the router's 2001:db8:a::2 on att after a 208-byte "
	  "Destination Options header (L4 at frame byte 262)" },
	{ "big_dstopts_from_host", IF_LAN,
	  UDP6(HOST6(0), REMOTE6, 40000, 53, 16, .xh = X_BIG),
	  "UDP from 3d06:bad:b01:fe::2 after a 208-byte Destination Options "
	  "header (L4 at frame byte 262)" },
};

/* The first counter that is not zero, for a report. */
static const char *counted(void)
{
	int s;

	for (s = 0; s < MWAN_STAT_MAX; s++)
		if (fx_stat(s))
			return fx_stat_names[s];
	return "nothing";
}

/* XDP passes the packet untouched (pass_ipv6_ext_hdr); mwan_tc_in leaves
 * a packet for the router alone and steers a host's.
 */
static void test_ext6_to_kernel(void **state)
{
	const struct ext6_case *c = *state;
	static struct frame in;
	static struct fx_result r;
	struct pkt p = arriving(c->iface, &c->ip, NULL, 0);
	struct mwan_flow_key k = key_out(&c->ip);
	__u32 mark = c->iface == IF_LAN ? FWMARK(predict(&k)) : 0;
	char bug[512] = "";
	int n = 0;

	build(&p, &in);
	run(XDP, c->iface, &in, &r);
	if (r.action != XDP_PASS)
		n += snprintf(bug + n, sizeof(bug) - n,
			      " mwan_xdp: action %d counting %s, want XDP_PASS"
			      " (%d) counting pass_ipv6_ext_hdr;",
			      r.action, counted(), XDP_PASS);
	else
		assert_frame(&r.f, &in);
	zero_stats();
	run(TC_IN, c->iface, &in, &r);
	if (r.action != TC_ACT_OK)
		n += snprintf(bug + n, sizeof(bug) - n,
			      " mwan_tc_in: action %d counting %s, want "
			      "TC_ACT_OK (%d) with mark %#x;",
			      r.action, counted(), TC_ACT_OK, mark);
	if (n)
		fail_msg("BUG: %s:%s", c->what, bug);
	assert_frame(&r.f, &in);
	assert_int_equal(r.mark, mark);
}

/* ---- main ---- */

static void test_not_root(void **state)
{
	(void)state;
	print_message("skipped: needs root (BPF_PROG_TEST_RUN, netns)\n");
	skip();
}

#define MAX_TESTS 512
static struct CMUnitTest tests[MAX_TESTS];
static struct variant variants[MAX_TESTS];
static size_t n_tests, n_variants;

static void add(const char *name, CMUnitTestFunction fn, const void *st)
{
	assert_true(n_tests < MAX_TESTS);
	tests[n_tests++] =
		(struct CMUnitTest){ name, fn, setup, NULL, (void *)st };
}

static char *name2(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s_%s", a, b) < 0)
		abort();
	return s;
}

/* Which paths a table runs on; 0: the case itself is the test. */
enum { ON_XDP = 1, ON_TC = 2, ON_BOTH = 3 };

/* One test per case of `table` (elements of `size` bytes, a name first)
 * and per path in `paths`.
 */
static void add_table(const char *prefix, CMUnitTestFunction fn,
		      const void *table, size_t n, size_t size,
		      unsigned int paths)
{
	const struct path *all[] = { &xdp_path, &tc_path };
	size_t i, j;

	for (i = 0; i < n; i++) {
		const void *c = (const char *)table + i * size;
		const char *name = *(const char *const *)c;

		if (!paths) {
			add(name2(prefix, name), fn, c);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(all); j++) {
			struct variant *v = &variants[n_variants++];

			if (!(paths & (1U << j)))
				continue;
			v->c = c;
			v->path = all[j];
			add(name2(all[j]->name, name2(prefix, name)), fn, v);
		}
	}
}

#define ADD_TABLE(prefix, fn, table, paths) \
	add_table(prefix, fn, table, ARRAY_SIZE(table), sizeof(table[0]), paths)

static const struct named expiry_case[] = { { "prefix_expires_under_flow" } };

int main(void)
{
	if (geteuid() != 0) {
		const struct CMUnitTest skip_all[] = {
			cmocka_unit_test(test_not_root),
		};

		return cmocka_run_group_tests(skip_all, NULL, NULL);
	}
	ADD_TABLE("flow", test_flow, flow_cases, ON_BOTH);
	ADD_TABLE("flow", test_flow, flow_tc_cases, ON_TC);
	ADD_TABLE("steer", test_steer, steer_cases, 0);
	add("live_slot_flip", test_live_slot_flip, NULL);
	add("flow_hostmask_in_place", test_flow_hostmask_in_place, NULL);
	add("steer_admin_down_moves_flow", test_steer_admin_down_moves_flow,
	    NULL);
	ADD_TABLE("npt6", test_npt6_expiry, expiry_case, ON_BOTH);
	ADD_TABLE("inbound", test_inbound, inbound_cases, ON_BOTH);
	add("inbound_martian_src", test_inbound_martian_src, NULL);
	add("npt6_reference_vectors", test_npt6_reference, NULL);
	ADD_TABLE("npt6", test_npt6_roundtrip, npt6_cases, ON_BOTH);
	add("npt6_iid_all_ones_out", test_npt6_unmappable_out, NULL);
	ADD_TABLE("udp_csum_ffff", test_udp_csum_ffff, one_case, ON_BOTH);
	ADD_TABLE("icmp_in", test_icmp_in, icmp_in_cases, ON_BOTH);
	ADD_TABLE("icmp_in_private_hop", test_icmp_in_private_hop,
		  icmp_in_cases, ON_BOTH);
	ADD_TABLE("icmp_out", test_icmp_out, icmp_out_cases, ON_BOTH);
	ADD_TABLE("frag_out", test_frag_out, frag_cases, ON_BOTH);
	ADD_TABLE("frag_out", test_frag_out, frag_tc_cases, ON_TC);
	ADD_TABLE("frag_in", test_frag_in, frag_cases, ON_BOTH);
	ADD_TABLE("frag_in", test_frag_in, frag_tc_cases, ON_TC);
	ADD_TABLE("verdict", test_verdict, verdict_cases, 0);
	ADD_TABLE("guard", test_guard, guard_cases, 0);
	add("guard_notes_unmapped", test_guard_notes_unmapped, NULL);
	add("guard_notes_spoofed", test_guard_notes_spoofed, NULL);
	add("drops_by_iface", test_drops_by_iface, NULL);
	add("second_lan", test_second_lan, NULL);
	add("second_lan_unmapped", test_second_lan_unmapped, NULL);
	add("routed_elsewhere_later_frags", test_routed_elsewhere_frags, NULL);
	add("routed_elsewhere_icmp_error", test_routed_elsewhere_icmp_error,
	    NULL);
	add("guard_ignores_lan", test_guard_ignores_lan, NULL);
	ADD_TABLE("same_translation", test_same_translation, same_cases, 0);
	ADD_TABLE("ext6_to_kernel", test_ext6_to_kernel, ext6_cases, 0);
	return _cmocka_run_group_tests("test_dataplane", tests, n_tests,
				       group_setup, group_teardown);
}
