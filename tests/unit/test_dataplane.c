/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The real XDP and TC programs run on crafted frames, checked byte for byte. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "maps/mwan_maps.h"
#include "lib/steer.h"
#include "loader/loader.h"
#include "mwan.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the lab: addresses in host byte order ---- */

#define IP(a, b, c, d) \
	((__u32)(a) << 24 | (__u32)(b) << 16 | (__u32)(c) << 8 | (__u32)(d))
#define LAN_NET IP(10, 250, 250, 0)
#define LAN_MASK IP(255, 255, 255, 248)
#define ROUTER_LAN IP(10, 250, 250, 1)
#define HOST(i) IP(10, 250, 250, 2 + (i)) /* the five mapped hosts */
#define UNMAPPED IP(10, 250, 250, 7)
#define REMOTE IP(192, 0, 2, 10)
#define REMOTE2 IP(192, 0, 2, 20)
#define HOP IP(192, 0, 2, 254) /* a router on the path that sends errors */
#define N_HOSTS 5
#define N_FLOWS 2000

enum { ATT, WP, N_WANS };
enum { IF_LAN, IF_ATT, IF_WP, IF_OTHER, N_IF };
#define WAN_IF(w) (IF_ATT + (w))
#define FWMARK(w) (MWAN_FWMARK_BASE + (w))

static const struct {
	const char *name;
	__u32 gw, addr, pub; /* pub: the first host's public address */
	__u8 weight;
} wan_defs[N_WANS] = {
	{ "att", IP(100, 64, 1, 1), IP(100, 64, 1, 2), IP(198, 51, 100, 193),
	  3 },
	{ "webpass", IP(100, 64, 2, 1), IP(100, 64, 2, 2), IP(203, 0, 113, 241),
	  1 },
};
#define ATT_ADDR IP(100, 64, 1, 2)
#define PUB_ATT(h) (IP(198, 51, 100, 193) + (h))

static const char *const if_names[N_IF] = { "mwlan", "mwatt", "mwwp",
					    "mwother" };
static const __u8 if_macs[N_IF][ETH_ALEN] = {
	{ 2, 0, 0, 0, 0x0f, 0 },
	{ 2, 0, 0, 0, 0x0f, 1 },
	{ 2, 0, 0, 0, 0x0f, 2 },
	{ 2, 0, 0, 0, 0x0f, 3 },
};
static const __u8 gw_macs[N_WANS][ETH_ALEN] = { { 2, 0, 0, 0, 0x1f, 1 },
						{ 2, 0, 0, 0, 0x1f, 2 } };

static void host_mac(__u8 *mac, __u32 addr)
{
	const __u8 m[ETH_ALEN] = { 2, 0, 0, 0, 0x2f, addr & 0xff };

	memcpy(mac, m, ETH_ALEN);
}

static __u32 ext_of(__u32 host, int wan)
{
	return wan_defs[wan].pub + (host - HOST(0));
}

static __u32 internal_of(__u32 pub, int wan)
{
	return HOST(0) + (pub - wan_defs[wan].pub);
}

/* ---- fixture ---- */

enum prog { XDP, TC_IN, TC_OUT, N_PROGS };
static const char *const prog_names[N_PROGS] = { "mwan_xdp", "mwan_tc_in",
						 "mwan_tc_out" };

static struct {
	struct mwan_bpf *skel;
	int prog[N_PROGS];
	int ifindex[N_IF];
	int ncpus;
	void *percpu; /* one per-CPU value of the largest per-CPU map */
} fx;

#define MAP(name) bpf_map__fd(fx.skel->maps.name)

static void put(int fd, const void *key, const void *val)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		fail_msg("map update: %s", strerror(errno));
}

static void get(int fd, const void *key, void *val)
{
	if (bpf_map_lookup_elem(fd, key, val))
		fail_msg("map lookup: %s", strerror(errno));
}

static void clear_hash(int fd)
{
	unsigned char key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		bpf_map_delete_elem(fd, key);
}

static unsigned int count_hash(int fd)
{
	unsigned char key[64], next[64];
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static void zero_percpu(int fd, __u32 entries, size_t value_size)
{
	__u32 i;

	memset(fx.percpu, 0, fx.ncpus * value_size);
	for (i = 0; i < entries; i++)
		put(fd, &i, fx.percpu);
}

/* ---- maps, filled the way loader/sync.c fills them ---- */

static struct mwan_wan wan_get(int w)
{
	struct mwan_wan v;
	__u32 key = w;

	get(MAP(mwan_wans), &key, &v);
	return v;
}

static void wan_put(int w, const struct mwan_wan *v)
{
	__u32 key = w;

	put(MAP(mwan_wans), &key, v);
}

static void admin_set(int w, __u32 admin)
{
	__u32 key = w;

	put(MAP(mwan_admin), &key, &admin);
}

static void steer_sync(void)
{
	assert_int_equal(mwan_steer_sync(MAP(mwan_wans), MAP(mwan_admin),
					 MAP(mwan_steer)),
			 0);
}

static struct mwan_cfg cfg_get(void)
{
	struct mwan_cfg c;
	__u32 zero = 0;

	get(MAP(mwan_cfg), &zero, &c);
	return c;
}

static void cfg_put(const struct mwan_cfg *c)
{
	__u32 zero = 0;

	put(MAP(mwan_cfg), &zero, c);
}

static void fill_ifaces(void)
{
	int i;

	for (i = IF_LAN; i <= IF_WP; i++) {
		struct mwan_iface v = {
			.role = i == IF_LAN ? MWAN_ROLE_LAN : MWAN_ROLE_WAN,
			.wan = i == IF_LAN ? 0 : i - IF_ATT,
		};
		__u32 idx = fx.ifindex[i];

		put(MAP(mwan_ifaces), &idx, &v);
		put(MAP(mwan_tx), &idx, &idx);
	}
}

static void fill_wans(void)
{
	__u32 w;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		struct mwan_wan v = { 0 };
		struct mwan_name n = { { 0 } };

		if (w < N_WANS) {
			v.ifindex = fx.ifindex[WAN_IF(w)];
			v.fwmark = FWMARK(w);
			v.gw4 = htonl(wan_defs[w].gw);
			v.addr4 = htonl(wan_defs[w].addr);
			memcpy(v.gw_mac, gw_macs[w], ETH_ALEN);
			memcpy(v.if_mac, if_macs[WAN_IF(w)], ETH_ALEN);
			v.mtu = 1500;
			v.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP |
				  MWAN_WAN_NEIGH4;
			v.weight = wan_defs[w].weight;
			v.tier = 1;
			v.health = MWAN_HEALTH_UP;
			snprintf(n.name, sizeof(n.name), "%s",
				 wan_defs[w].name);
		}
		wan_put(w, &v);
		admin_set(w, MWAN_ADMIN_AUTO);
		put(MAP(mwan_names), &w, &n);
	}
}

static void fill_nat(void)
{
	int h, w;

	for (h = 0; h < N_HOSTS; h++) {
		struct mwan_nat4 v = { .has_mac = 1 };
		__be32 key = htonl(HOST(h));

		host_mac(v.mac, HOST(h));
		for (w = 0; w < N_WANS; w++) {
			struct mwan_pub4 p = { .internal = key, .wan = w };

			v.ext[w] = htonl(ext_of(HOST(h), w));
			put(MAP(mwan_pub4), &v.ext[w], &p);
		}
		put(MAP(mwan_nat4), &key, &v);
	}
}

static void fill_local(void)
{
	const struct {
		__u32 addr;
		int iface;
	} l[] = { { ROUTER_LAN, IF_LAN },
		  { wan_defs[ATT].addr, IF_ATT },
		  { wan_defs[WP].addr, IF_WP } };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(l); i++) {
		struct mwan_local4 v = { .ifindex = fx.ifindex[l[i].iface] };
		__be32 key = htonl(l[i].addr);

		put(MAP(mwan_local4), &key, &v);
	}
}

/* The main table's routes that do not leave by a WAN: in the lab, the
 * LAN's own prefix.
 */
static void fill_bypass(void)
{
	struct mwan_bypass4_key k = { .prefixlen = 29, .addr = htonl(LAN_NET) };
	struct mwan_bypass4 v = { .ifindex = fx.ifindex[IF_LAN] };

	put(MAP(mwan_bypass4), &k, &v);
}

static void fill_cfg(void)
{
	struct mwan_cfg c = {
		.layout_version = MWAN_LAYOUT_VERSION,
		.lan_ifindex = fx.ifindex[IF_LAN],
		.lan_net4 = htonl(LAN_NET),
		.lan_mask4 = htonl(LAN_MASK),
		.lan_mtu = 1500,
		.fast_path = 1,
		.ready = 1,
	};

	memcpy(c.lan_mac, if_macs[IF_LAN], ETH_ALEN);
	cfg_put(&c);
}

/* Every test starts from the lab as the loader leaves it, with no flows,
 * no fragments and all counters at zero.
 */
static int setup(void **state)
{
	(void)state;
	clear_hash(MAP(mwan_flows));
	clear_hash(MAP(mwan_frags));
	clear_hash(MAP(mwan_nat4));
	clear_hash(MAP(mwan_pub4));
	clear_hash(MAP(mwan_local4));
	clear_hash(MAP(mwan_bypass4));
	zero_percpu(MAP(mwan_stats), MWAN_STAT_MAX, sizeof(__u64));
	zero_percpu(MAP(mwan_wanstat), MWAN_MAX_WANS,
		    sizeof(struct mwan_wan_counters));
	fill_ifaces();
	fill_wans();
	fill_nat();
	fill_local();
	fill_bypass();
	steer_sync();
	fill_cfg();
	return 0;
}

/* The programs only accept ifindexes of devices that exist, so the test
 * makes its own in a private network namespace.
 */
static int make_links(void)
{
	char cmd[256];
	int i;

	if (unshare(CLONE_NEWNET)) {
		print_error("unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < N_IF; i++) {
		const __u8 *m = if_macs[i];

		snprintf(cmd, sizeof(cmd),
			 "ip link add %s address %02x:%02x:%02x:%02x:%02x:%02x"
			 " type veth peer name %s-p",
			 if_names[i], m[0], m[1], m[2], m[3], m[4], m[5],
			 if_names[i]);
		if (system(cmd))
			return -1;
		fx.ifindex[i] = if_nametoindex(if_names[i]);
		if (!fx.ifindex[i])
			return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (make_links())
		return -1;
	fx.skel = mwan_bpf__open_and_load();
	if (!fx.skel) {
		print_error("mwan_bpf__open_and_load: %s\n", strerror(errno));
		return -1;
	}
	fx.prog[XDP] = bpf_program__fd(fx.skel->progs.mwan_xdp);
	fx.prog[TC_IN] = bpf_program__fd(fx.skel->progs.mwan_tc_in);
	fx.prog[TC_OUT] = bpf_program__fd(fx.skel->progs.mwan_tc_out);
	fx.ncpus = libbpf_num_possible_cpus();
	fx.percpu = calloc(fx.ncpus, sizeof(struct mwan_wan_counters));
	return fx.ncpus > 0 && fx.percpu ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	mwan_bpf__destroy(fx.skel);
	free(fx.percpu);
	return 0;
}

/* ---- packets: described, then built with checksums from scratch ---- */

#define SYN 0x02
#define ACK 0x10
#define F_MF 0x2000

struct ip4 {
	__u32 src, dst;
	__u8 proto, ttl;
	__u8 type, code; /* ICMP */
	__u16 sport, dport; /* TCP/UDP ports; ICMP echo: id, sequence */
	__u16 id;
	__u16 paylen; /* L4 payload (an ICMP error's payload is its quote) */
	__u16 frag_off, frag_len; /* the slice of the L4 datagram; 0: rest */
	__u32 rest; /* ICMP error: the word after the checksum */
	__u8 flags; /* TCP */
	__u8 optwords; /* IP options: this many 4-byte words of NOPs */
	bool mf, nocsum; /* nocsum: UDP without a checksum */
};

#define PKT(p, s, d, ...)                                                    \
	{                                                                    \
		.src = (s), .dst = (d), .proto = (p), .ttl = 64, __VA_ARGS__ \
	}
#define TCP(s, d, sp, dp, fl, len, ...)                                     \
	PKT(IPPROTO_TCP, s, d, .sport = (sp), .dport = (dp), .flags = (fl), \
	    .paylen = (len), __VA_ARGS__)
#define UDP(s, d, sp, dp, len, ...)                                           \
	PKT(IPPROTO_UDP, s, d, .sport = (sp), .dport = (dp), .paylen = (len), \
	    __VA_ARGS__)
#define ECHO(s, d, ident, seq, len, ...)                             \
	PKT(IPPROTO_ICMP, s, d, .type = ICMP_ECHO, .sport = (ident), \
	    .dport = (seq), .paylen = (len), __VA_ARGS__)
#define ICMP_ERR(s, d, t, c, r) \
	PKT(IPPROTO_ICMP, s, d, .type = (t), .code = (c), .rest = (r))
#define T_IN(h) TCP(REMOTE, PUB_ATT(h), 41000, 22, SYN, 0)

struct pkt {
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	struct ip4 ip;
	struct ip4 q; /* what an ICMP error quotes */
	__u16 qlen; /* bytes of it quoted; 0: all */
};

#define FRAME_MAX 4096
struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
};

/* RFC 1071, the plain way: the reference every checksum is held to. */
static __u32 sum16(const __u8 *d, size_t n, __u32 sum)
{
	for (; n > 1; n -= 2, d += 2)
		sum += (__u32)d[0] << 8 | d[1];
	if (n)
		sum += (__u32)d[0] << 8;
	return sum;
}

static __u16 csum_final(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u32 pseudo_sum(const struct ip4 *ip, size_t len)
{
	return (ip->src >> 16) + (ip->src & 0xffff) + (ip->dst >> 16) +
	       (ip->dst & 0xffff) + ip->proto + len;
}

static bool icmp_is_error(const struct ip4 *ip)
{
	return ip->proto == IPPROTO_ICMP && (ip->type == ICMP_DEST_UNREACH ||
					     ip->type == ICMP_TIME_EXCEEDED ||
					     ip->type == ICMP_PARAMETERPROB);
}

static size_t l4_hdr_len(const struct ip4 *ip)
{
	return ip->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : 8;
}

static void put_tcp(const struct ip4 *ip, __u8 *buf, size_t n)
{
	struct tcphdr *t = (struct tcphdr *)buf;

	t->source = htons(ip->sport);
	t->dest = htons(ip->dport);
	t->seq = htonl(0x10203040);
	t->ack_seq = htonl(ip->flags & ACK ? 0x50607080 : 0);
	t->doff = sizeof(*t) / 4;
	buf[13] = ip->flags;
	t->window = htons(64240);
	t->check = htons(csum_final(sum16(buf, n, pseudo_sum(ip, n))));
}

static void put_udp(const struct ip4 *ip, __u8 *buf, size_t n)
{
	struct udphdr *u = (struct udphdr *)buf;
	__u16 sum;

	u->source = htons(ip->sport);
	u->dest = htons(ip->dport);
	u->len = htons(n);
	if (ip->nocsum)
		return;
	sum = csum_final(sum16(buf, n, pseudo_sum(ip, n)));
	u->check = htons(sum ? sum : 0xffff);
}

static void put_icmp(const struct ip4 *ip, __u8 *buf, size_t n)
{
	struct icmphdr *c = (struct icmphdr *)buf;

	c->type = ip->type;
	c->code = ip->code;
	if (icmp_is_error(ip)) {
		c->un.gateway = htonl(ip->rest);
	} else {
		c->un.echo.id = htons(ip->sport);
		c->un.echo.sequence = htons(ip->dport);
	}
	c->checksum = htons(csum_final(sum16(buf, n, 0)));
}

/* The whole L4 datagram with its checksum; returns its length. */
static size_t build_l4(const struct ip4 *ip, const __u8 *quote, size_t qlen,
		       __u8 *buf)
{
	size_t hl = l4_hdr_len(ip), n, i;

	memset(buf, 0, hl);
	if (icmp_is_error(ip)) {
		if (qlen)
			memcpy(buf + hl, quote, qlen);
		n = hl + qlen;
	} else {
		for (i = 0; i < ip->paylen; i++)
			buf[hl + i] = (__u8)(i * 7 + 3);
		n = hl + ip->paylen;
	}
	if (ip->proto == IPPROTO_TCP)
		put_tcp(ip, buf, n);
	else if (ip->proto == IPPROTO_UDP)
		put_udp(ip, buf, n);
	else
		put_icmp(ip, buf, n);
	return n;
}

/* IPv4 header plus this fragment's slice of the datagram. */
static size_t build_ip(const struct ip4 *ip, const __u8 *quote, size_t qlen,
		       __u8 *buf)
{
	__u8 l4[FRAME_MAX];
	size_t n = build_l4(ip, quote, qlen, l4);
	size_t hl = sizeof(struct iphdr) + 4 * ip->optwords;
	size_t len = ip->frag_len ? ip->frag_len : n - ip->frag_off;
	struct iphdr *h = (struct iphdr *)buf;

	assert_true(ip->frag_off + len <= n);
	memset(buf, 0, sizeof(*h));
	memset(buf + sizeof(*h), 1 /* NOP */, hl - sizeof(*h));
	h->version = 4;
	h->ihl = hl / 4;
	h->tot_len = htons(hl + len);
	h->id = htons(ip->id);
	h->frag_off = htons((ip->mf ? F_MF : 0) | ip->frag_off / 8);
	h->ttl = ip->ttl;
	h->protocol = ip->proto;
	h->saddr = htonl(ip->src);
	h->daddr = htonl(ip->dst);
	memcpy(buf + hl, l4 + ip->frag_off, len);
	h->check = htons(csum_final(sum16(buf, hl, 0)));
	return hl + len;
}

/* An Ethernet frame, padded to the 60-byte minimum as on the wire. */
static void build(const struct pkt *p, struct frame *f)
{
	struct ethhdr *eth = (struct ethhdr *)f->b;
	__u8 quote[FRAME_MAX];
	size_t qlen = 0;

	if (icmp_is_error(&p->ip)) {
		qlen = build_ip(&p->q, NULL, 0, quote);
		if (p->qlen) {
			assert_true(p->qlen <= qlen);
			qlen = p->qlen;
		}
	}
	memcpy(eth->h_dest, p->dmac, ETH_ALEN);
	memcpy(eth->h_source, p->smac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	f->len = sizeof(*eth) +
		 build_ip(&p->ip, quote, qlen, f->b + sizeof(*eth));
	if (f->len < ETH_ZLEN) {
		memset(f->b + f->len, 0, ETH_ZLEN - f->len);
		f->len = ETH_ZLEN;
	}
}

static size_t frame_len(const struct pkt *p)
{
	struct frame f;

	build(p, &f);
	return f.len;
}

/* ---- what the router does to a packet ---- */

/* A frame as it arrives on `iface`: from a LAN host or a WAN's gateway. */
static struct pkt arriving(int iface, const struct ip4 *ip, const struct ip4 *q,
			   __u16 qlen)
{
	struct pkt p = { .ip = *ip, .qlen = qlen };

	if (q)
		p.q = *q;
	memcpy(p.dmac, if_macs[iface], ETH_ALEN);
	if (iface == IF_ATT || iface == IF_WP)
		memcpy(p.smac, gw_macs[iface - IF_ATT], ETH_ALEN);
	else
		host_mac(p.smac, ip->src);
	return p;
}

/* Addressed from `wan`'s interface to its gateway. */
static struct pkt to_gateway(struct pkt p, int wan)
{
	memcpy(p.dmac, gw_macs[wan], ETH_ALEN);
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
	host_mac(p.dmac, p.ip.dst);
	memcpy(p.smac, if_macs[IF_LAN], ETH_ALEN);
	return p;
}

static struct pkt snat(struct pkt p, __u32 ext)
{
	p.ip.src = ext;
	if (icmp_is_error(&p.ip))
		p.q.dst = ext;
	return p;
}

static struct pkt dnat(struct pkt p, __u32 internal)
{
	p.ip.dst = internal;
	if (icmp_is_error(&p.ip))
		p.q.src = internal;
	return p;
}

/* The answer to `ip`, sent from `src` to `dst`. */
static struct ip4 reply_of(const struct ip4 *ip, __u32 src, __u32 dst)
{
	struct ip4 r = *ip;

	r.src = src;
	r.dst = dst;
	r.ttl = 60;
	if (ip->proto == IPPROTO_ICMP) {
		r.type = ICMP_ECHOREPLY;
	} else {
		r.sport = ip->dport;
		r.dport = ip->sport;
		r.flags |= ACK;
	}
	return r;
}

/* ---- flows and steering ---- */

static struct mwan_flow_key fkey(__u8 proto, __u32 inner, __u16 iport,
				 __u32 remote, __u16 rport)
{
	struct mwan_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.proto = proto;
	k.sport = htons(iport);
	k.dport = htons(rport);
	k.inner4 = htonl(inner);
	k.remote4 = htonl(remote);
	return k;
}

/* The flow of a packet from a LAN host. */
static struct mwan_flow_key key_out(const struct ip4 *ip)
{
	bool icmp = ip->proto == IPPROTO_ICMP;

	return fkey(ip->proto, ip->src, ip->sport, ip->dst,
		    icmp ? 0 : ip->dport);
}

/* The flow of a packet from outside to the host `internal`. */
static struct mwan_flow_key key_in(const struct ip4 *ip, __u32 internal)
{
	if (ip->proto == IPPROTO_ICMP)
		return fkey(ip->proto, internal, ip->sport, ip->src, 0);
	return fkey(ip->proto, internal, ip->dport, ip->src, ip->sport);
}

/* The WAN the datapath must give a new flow of a host on both WANs. */
static int predict(const struct mwan_flow_key *k)
{
	__u32 mask = (1U << N_WANS) - 1;
	struct mwan_steer st;

	get(MAP(mwan_steer), &mask, &st);
	return st.slot[mwan_flow_hash(k) & (MWAN_STEER_SLOTS - 1)];
}

/* The first source port from 40000 that steers `ip` (sent by a LAN host,
 * or from outside to `internal`) to `wan`.
 */
static __u16 sport_to(int wan, struct ip4 ip, bool inbound, __u32 internal)
{
	struct mwan_flow_key k;

	for (ip.sport = 40000; ip.sport < 41000; ip.sport++) {
		k = inbound ? key_in(&ip, internal) : key_out(&ip);
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

/* The flow exists and takes `wan` with `ext`; returns it. */
static struct mwan_flow expect_route(const struct mwan_flow_key *k, int wan,
				     __u32 ext, int origin)
{
	struct mwan_flow f;

	if (bpf_map_lookup_elem(MAP(mwan_flows), k, &f))
		fail_msg("flow not in mwan_flows");
	assert_int_equal(f.wan, wan);
	assert_int_equal(ntohl(f.ext4), ext);
	assert_int_equal(f.origin, origin);
	assert_true(f.created_ns && f.seen_ns >= f.created_ns);
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

#define STAT_NAME(n, s) s,
static const char *const stat_names[MWAN_STAT_MAX] = { MWAN_DROPS(
	STAT_NAME) MWAN_EVENTS(STAT_NAME) };
#undef STAT_NAME

struct stat_want {
	int stat; /* -1: none */
	__u64 n;
};

static __u64 stat_get(int s)
{
	__u64 *v = fx.percpu, sum = 0;
	__u32 key = s;
	int i;

	get(MAP(mwan_stats), &key, v);
	for (i = 0; i < fx.ncpus; i++)
		sum += v[i];
	return sum;
}

/* Every counter must hold what `w` says, and every other one zero. */
static void expect_stats_(const struct stat_want *w, size_t n)
{
	int s;
	size_t i;

	for (s = 0; s < MWAN_STAT_MAX; s++) {
		__u64 want = 0, got = stat_get(s);

		for (i = 0; i < n; i++)
			if (w[i].stat == s)
				want = w[i].n;
		if (got != want)
			fail_msg("counter %s: %llu, want %llu", stat_names[s],
				 (unsigned long long)got,
				 (unsigned long long)want);
	}
}

#define expect_stats(...)                                                 \
	do {                                                              \
		const struct stat_want w_[] = { { -1, 0 }, __VA_ARGS__ }; \
		expect_stats_(w_, ARRAY_SIZE(w_));                        \
	} while (0)

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

struct result {
	int action;
	__u32 mark;
	struct frame f;
};

static void run(enum prog prog, int iface, const struct frame *in,
		struct result *r)
{
	struct xdp_md xctx = { .data_end = in->len,
			       .ingress_ifindex = fx.ifindex[iface] };
	struct __sk_buff sctx = { .ifindex = fx.ifindex[iface] };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = in->len, .data_out = r->f.b,
		    .data_size_out = sizeof(r->f.b), .repeat = 1);

	if (prog == XDP) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		o.ctx_in = &sctx;
		o.ctx_out = &sctx;
		o.ctx_size_in = sizeof(sctx);
		o.ctx_size_out = sizeof(sctx);
	}
	if (bpf_prog_test_run_opts(fx.prog[prog], &o))
		fail_msg("%s test run: %s", prog_names[prog], strerror(errno));
	r->action = o.retval;
	r->f.len = o.data_size_out;
	r->mark = prog == XDP ? 0 : sctx.mark;
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

static bool is_drop(enum prog prog, int action)
{
	return prog == XDP ? action == XDP_DROP : action == TC_ACT_SHOT;
}

/* Runs `in` and checks the verdict and the output bytes (not for drops).
 * Returns the skb mark the program left.
 */
static __u32 expect_frame(enum prog prog, int iface, const struct frame *in,
			  int action, const struct frame *want)
{
	static struct result r;

	run(prog, iface, in, &r);
	if (r.action != action)
		fail_msg("%s on %s: action %d, want %d", prog_names[prog],
			 if_names[iface], r.action, action);
	if (!is_drop(prog, action))
		assert_frame(&r.f, want);
	return r.mark;
}

/* As expect_frame; `want` NULL: the bytes must come out untouched. */
static __u32 expect(enum prog prog, int iface, const struct pkt *in, int action,
		    const struct pkt *want)
{
	static struct frame fin, fwant;

	build(in, &fin);
	if (want)
		build(want, &fwant);
	else
		fwant = fin;
	return expect_frame(prog, iface, &fin, action, &fwant);
}

/* ---- the two paths a translated packet can take ---- */

/* XDP translates and redirects out of `wan` as `ext`. */
static size_t xdp_out(const struct pkt *in, int wan, __u32 ext)
{
	struct pkt want = hop_out(snat(*in, ext), wan);

	expect(XDP, IF_LAN, in, XDP_REDIRECT, &want);
	return frame_len(in);
}

static size_t xdp_in(const struct pkt *in, int wan, __u32 internal)
{
	struct pkt want = hop_in(dnat(*in, internal));

	expect(XDP, WAN_IF(wan), in, XDP_REDIRECT, &want);
	return frame_len(in);
}

/* The slow path: mwan_tc_in marks the packet at LAN ingress without
 * touching it, the kernel routes it by the mark, mwan_tc_out SNATs it.
 */
static size_t tc_out(const struct pkt *in, int wan, __u32 ext)
{
	struct pkt eg = hop_out(*in, wan), want = snat(eg, ext);

	assert_int_equal(expect(TC_IN, IF_LAN, in, TC_ACT_OK, NULL),
			 FWMARK(wan));
	expect(TC_OUT, WAN_IF(wan), &eg, TC_ACT_OK, &want);
	return frame_len(in);
}

/* mwan_tc_in DNATs at WAN ingress and marks with the WAN it came by. */
static size_t tc_in(const struct pkt *in, int wan, __u32 internal)
{
	struct pkt want = dnat(*in, internal);

	assert_int_equal(expect(TC_IN, WAN_IF(wan), in, TC_ACT_OK, &want),
			 FWMARK(wan));
	return frame_len(in);
}

struct path {
	const char *name;
	size_t (*out)(const struct pkt *in, int wan, __u32 ext);
	size_t (*in)(const struct pkt *in, int wan, __u32 internal);
	int ev_out, ev_mark, ev_in; /* counted per packet out / in */
};

static const struct path xdp_path = {
	.name = "xdp",
	.out = xdp_out,
	.in = xdp_in,
	.ev_out = MWAN_EV_XDP_FWD_OUT,
	.ev_mark = -1,
	.ev_in = MWAN_EV_XDP_FWD_IN,
};
static const struct path tc_path = {
	.name = "tc",
	.out = tc_out,
	.in = tc_in,
	.ev_out = MWAN_EV_TC_SNAT,
	.ev_mark = MWAN_EV_TC_MARK,
	.ev_in = MWAN_EV_TC_DNAT,
};

static void expect_traffic(const struct path *p, __u64 out, __u64 in,
			   __u64 flows, struct stat_want extra)
{
	expect_stats({ MWAN_EV_FLOW_NEW, flows }, { p->ev_out, out },
		     { p->ev_mark, out }, { p->ev_in, in }, extra);
}

/* A table case run on one path. */
struct variant {
	const void *c;
	const struct path *path;
};

/* ---- flows: LAN -> WAN, a second packet, the reply ---- */

struct flow_case {
	const char *name;
	struct ip4 first, next; /* two packets of one flow */
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
};

static void test_flow(void **state)
{
	const struct variant *v = *state;
	const struct flow_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->first);
	int wan = predict(&k);
	__u32 ext = ext_of(c->first.src, wan);
	struct ip4 back = reply_of(&c->first, REMOTE, ext);
	struct pkt a = arriving(IF_LAN, &c->first, NULL, 0);
	struct pkt b = arriving(IF_LAN, &c->next, NULL, 0);
	struct pkt r = arriving(WAN_IF(wan), &back, NULL, 0);
	size_t la = p->out(&a, wan, ext), lb = p->out(&b, wan, ext);
	size_t lr = p->in(&r, wan, c->first.src);

	expect_flow(&k, &(struct flow_want){ .wan = wan,
					     .ext = ext,
					     .origin = MWAN_ORIGIN_LAN,
					     .pkts_out = 2,
					     .bytes_out = la + lb,
					     .pkts_in = 1,
					     .bytes_in = lr });
	expect_traffic(p, 2, 1, 1, (struct stat_want){ -1, 0 });
	expect_wanstat(wan, 2, la + lb, 1, lr);
	expect_wanstat(!wan, 0, 0, 0, 0);
	assert_int_equal(count_hash(MAP(mwan_flows)), 1);
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

struct steer_case {
	const char *name;
	void (*tweak)(void);
	int att_pct; /* share of new flows on att */
	bool failopen;
};

static const struct steer_case steer_cases[] = {
	{ "split_3_1", NULL, 75, false },
	{ "att_admin_down", tw_att_admin_down, 0, false },
	{ "att_health_down", tw_att_health_down, 0, false },
	{ "att_link_down", tw_att_link_down, 0, false },
	{ "all_down_fail_open", tw_all_health_down, 75, true },
	{ "all_links_down_fail_open", tw_all_links_down, 75, true },
	{ "tier2_idle_while_tier1_up", tw_wp_tier2, 100, false },
	{ "tier2_takes_over", tw_wp_tier2_att_down, 0, false },
	{ "admin_up_beats_health", tw_att_down_admin_up, 75, false },
};

/* Sends `n` new UDP flows through XDP, each checked against the steering
 * table byte for byte; returns how many left by att.
 */
static unsigned int send_new_flows(unsigned int n, __u16 base)
{
	unsigned int i, att = 0;

	for (i = 0; i < n; i++) {
		struct ip4 ip =
			UDP(HOST(i % N_HOSTS), REMOTE, base + i, 53, 16);
		struct mwan_flow_key k = key_out(&ip);
		struct pkt in = arriving(IF_LAN, &ip, NULL, 0);
		int wan = predict(&k);

		xdp_out(&in, wan, ext_of(ip.src, wan));
		att += wan == ATT;
	}
	return att;
}

static void test_steer(void **state)
{
	const struct steer_case *c = *state;
	__u32 mask = (1U << N_WANS) - 1;
	struct mwan_steer st;
	unsigned int att;
	int pct;

	if (c->tweak)
		c->tweak();
	steer_sync();
	get(MAP(mwan_steer), &mask, &st);
	assert_int_equal(st.failopen, c->failopen);
	att = send_new_flows(N_FLOWS, 10000);
	pct = att * 100 / N_FLOWS;
	print_message("%s: %u of %u flows on att\n", c->name, att, N_FLOWS);
	if (c->att_pct == 0 || c->att_pct == 100)
		assert_int_equal(att * 100, c->att_pct * N_FLOWS);
	else
		assert_in_range(pct, c->att_pct - 5, c->att_pct + 5);
	expect_stats({ MWAN_EV_FLOW_NEW, N_FLOWS },
		     { MWAN_EV_XDP_FWD_OUT, N_FLOWS });
	assert_int_equal(count_hash(MAP(mwan_flows)), N_FLOWS);
}

/* `bpfctl wan att down`: new flows avoid att, the flows on it move on
 * their next packet, and stay put when att comes back.
 */
static void test_steer_admin_down_moves_flow(void **state)
{
	struct ip4 ip = UDP(HOST(1), REMOTE, 0, 4500, 64);
	struct mwan_flow_key k;
	struct pkt in;
	size_t len;

	(void)state;
	ip.sport = sport_to(ATT, ip, false, 0);
	k = key_out(&ip);
	in = arriving(IF_LAN, &ip, NULL, 0);
	len = xdp_out(&in, ATT, ext_of(ip.src, ATT));
	admin_set(ATT, MWAN_ADMIN_DOWN);
	steer_sync();
	xdp_out(&in, WP, ext_of(ip.src, WP));
	expect_flow(&k, &(struct flow_want){ .wan = WP,
					     .ext = ext_of(ip.src, WP),
					     .origin = MWAN_ORIGIN_LAN,
					     .moves = 1,
					     .pkts_out = 2,
					     .bytes_out = 2 * len });
	expect_stats({ MWAN_EV_FLOW_NEW, 1 }, { MWAN_EV_XDP_FWD_OUT, 2 },
		     { MWAN_EV_FLOW_MOVED, 1 });
	assert_int_equal(send_new_flows(200, 30000), 0);
	admin_set(ATT, MWAN_ADMIN_AUTO);
	steer_sync();
	xdp_out(&in, WP, ext_of(ip.src, WP));
	expect_stats({ MWAN_EV_FLOW_NEW, 201 }, { MWAN_EV_XDP_FWD_OUT, 203 },
		     { MWAN_EV_FLOW_MOVED, 1 });
}

/* ---- WAN -> LAN ---- */

/* For tests that are one case, run on both paths. */
struct named {
	const char *name;
};

static const struct named inbound_cases[] = { { "tcp_dnat_reply" } };
static const struct named one_case[] = { { "out_and_in" } };

/* Inbound TCP to a public address on att is DNATed and recorded; the
 * host's replies leave by att with that address, even where steering
 * would pick webpass and even with att administratively down.
 */
static void test_inbound(void **state)
{
	const struct variant *v = *state;
	const struct path *p = v->path;
	__u32 host = HOST(1), pub = ext_of(host, ATT);
	struct ip4 syn = TCP(REMOTE, pub, 0, 22, SYN, 0), rep;
	struct mwan_flow_key k;
	struct pkt in, out;
	size_t li, lo;

	syn.sport = sport_to(WP, syn, true, host);
	k = key_in(&syn, host);
	rep = reply_of(&syn, host, REMOTE);
	in = arriving(IF_ATT, &syn, NULL, 0);
	out = arriving(IF_LAN, &rep, NULL, 0);
	li = p->in(&in, ATT, host);
	lo = p->out(&out, ATT, pub);
	admin_set(ATT, MWAN_ADMIN_DOWN);
	steer_sync();
	p->out(&out, ATT, pub);
	expect_flow(&k, &(struct flow_want){ .wan = ATT,
					     .ext = pub,
					     .origin = MWAN_ORIGIN_WAN,
					     .pkts_out = 2,
					     .bytes_out = 2 * lo,
					     .pkts_in = 1,
					     .bytes_in = li });
	expect_traffic(p, 2, 1, 1, (struct stat_want){ -1, 0 });
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
	static struct result r;
	char bad[256] = "";
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(srcs); i++) {
		struct ip4 ip = T_IN(1);
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

/* ---- ICMP errors ---- */

struct icmp_case {
	const char *name;
	__u8 type, code;
	__u32 rest;
	struct ip4 orig; /* the packet the error is about, as first sent */
	__u16 qlen; /* bytes of it the error quotes; 0: all */
};

#define MTU_1400 1400

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
};

static void test_icmp_in(void **state)
{
	const struct variant *v = *state;
	const struct icmp_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->orig);
	int wan = predict(&k);
	__u32 host = c->orig.src, ext = ext_of(host, wan);
	struct pkt o = arriving(IF_LAN, &c->orig, NULL, 0);
	struct pkt sent = hop_out(snat(o, ext), wan);
	struct ip4 err = ICMP_ERR(HOP, ext, c->type, c->code, c->rest);
	struct pkt e = arriving(WAN_IF(wan), &err, &sent.ip, c->qlen);

	p->out(&o, wan, ext);
	p->in(&e, wan, host);
	expect_route(&k, wan, ext, MWAN_ORIGIN_LAN);
	expect_traffic(p, 1, 1, 1,
		       (struct stat_want){ MWAN_EV_ICMP_ERR_IN, 1 });
}

static void test_icmp_out(void **state)
{
	const struct variant *v = *state;
	const struct icmp_case *c = v->c;
	const struct path *p = v->path;
	__u32 host = c->orig.dst, pub = ext_of(host, WP);
	struct ip4 wire = c->orig, err;
	struct mwan_flow_key k;
	struct pkt o, got, e;

	wire.dst = pub;
	o = arriving(IF_WP, &wire, NULL, 0);
	got = hop_in(dnat(o, host));
	err = (struct ip4)ICMP_ERR(host, REMOTE2, c->type, c->code, c->rest);
	e = arriving(IF_LAN, &err, &got.ip, c->qlen);
	p->in(&o, WP, host);
	p->out(&e, WP, pub);
	k = key_in(&wire, host);
	expect_route(&k, WP, pub, MWAN_ORIGIN_WAN);
	expect_traffic(p, 1, 1, 1,
		       (struct stat_want){ MWAN_EV_ICMP_ERR_OUT, 1 });
}

/* ---- a translated UDP checksum of zero ---- */

static bool udp_sums_to_zero(const struct ip4 *ip)
{
	struct ip4 t = *ip;
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
	struct ip4 o = UDP(HOST(0), REMOTE, 40000, 0, 8);
	struct ip4 i = UDP(REMOTE, ext_of(HOST(1), WP), 0, 53, 8), t;
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
	p->out(&in, wan, ext_of(o.src, wan));
	in = arriving(IF_WP, &i, NULL, 0);
	p->in(&in, WP, HOST(1));
	expect_traffic(p, 1, 1, 2, (struct stat_want){ -1, 0 });
}

/* ---- fragments ---- */

struct frag_case {
	const char *name;
	struct ip4 dgram; /* as a LAN host sends it */
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

static void fragment(const struct ip4 *d, __u16 cut1, __u16 cut2,
		     struct ip4 f[3])
{
	f[0] = f[1] = f[2] = *d;
	f[0].frag_len = cut1;
	f[0].mf = true;
	f[1].frag_off = cut1;
	f[1].frag_len = cut2 - cut1;
	f[1].mf = true;
	f[2].frag_off = cut2;
}

/* First, middle and last fragment leave by the same WAN; only the first
 * carries (and gets fixed) the L4 checksum.
 */
static void test_frag_out(void **state)
{
	const struct variant *v = *state;
	const struct frag_case *c = v->c;
	const struct path *p = v->path;
	struct mwan_flow_key k = key_out(&c->dgram);
	int wan = predict(&k), i;
	__u32 ext = ext_of(c->dgram.src, wan);
	struct mwan_frag_key fk = { .src = htonl(c->dgram.src),
				    .dst = htonl(c->dgram.dst),
				    .id = htons(c->dgram.id),
				    .proto = c->dgram.proto };
	struct mwan_frag fr;
	struct ip4 f[3];

	fragment(&c->dgram, c->cut1, c->cut2, f);
	for (i = 0; i < 3; i++) {
		struct pkt in = arriving(IF_LAN, &f[i], NULL, 0);

		p->out(&in, wan, ext);
	}
	get(MAP(mwan_frags), &fk, &fr);
	assert_int_equal(fr.wan, wan);
	assert_int_equal(ntohl(fr.ext4), ext);
	expect_route(&k, wan, ext, MWAN_ORIGIN_LAN);
	expect_traffic(p, 3, 0, 1, (struct stat_want){ MWAN_EV_FRAG_OUT, 3 });
}

static void test_frag_in(void **state)
{
	const struct variant *v = *state;
	const struct frag_case *c = v->c;
	const struct path *p = v->path;
	__u32 host = c->dgram.src;
	struct ip4 d = reply_of(&c->dgram, REMOTE, ext_of(host, WP)), f[3];
	struct mwan_flow_key k;
	int i;

	fragment(&d, c->cut1, c->cut2, f);
	for (i = 0; i < 3; i++) {
		struct pkt in = arriving(IF_WP, &f[i], NULL, 0);

		p->in(&in, WP, host);
	}
	k = key_in(&d, host);
	expect_route(&k, WP, d.dst, MWAN_ORIGIN_WAN);
	expect_traffic(p, 0, 3, 1, (struct stat_want){ MWAN_EV_FRAG_IN, 3 });
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

/* IPv4 total length `tot`, the frame cut right after it. */
static void set_tot_len(struct frame *f, __u16 tot)
{
	struct iphdr *h = (struct iphdr *)(f->b + ETH_HLEN);

	h->tot_len = htons(tot);
	ip_fix_csum(f);
	if ((__u32)ETH_HLEN + tot < f->len)
		f->len = ETH_HLEN + tot;
}

static void m_ttl1(struct frame *f)
{
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
	set_tot_len(f, f->len - ETH_HLEN + 40);
}

static void m_l4_cut(struct frame *f)
{
	set_tot_len(f, sizeof(struct iphdr) + 12);
}

static void m_udp_cut(struct frame *f)
{
	set_tot_len(f, sizeof(struct iphdr) + 6);
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

	c.lan_mtu = 1400;
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

/* 172.16.0.0/12 is routed into a tunnel (mwother), not out of a WAN. */
static void tw_tunnel_route(void)
{
	struct mwan_bypass4_key k = { .prefixlen = 12,
				      .addr = htonl(TUNNEL_NET) };
	struct mwan_bypass4 v = { .ifindex = fx.ifindex[IF_OTHER] };

	put(MAP(mwan_bypass4), &k, &v);
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
	struct ip4 ip, q;
	__u16 qlen;
	void (*mangle)(struct frame *f);
	void (*tweak)(void);
	int stat; /* the counter it bumps; -1: none */
	bool drop; /* XDP_DROP and TC_ACT_SHOT; else XDP_PASS and TC_ACT_OK */
	bool flow; /* XDP opened the flow before passing it on */
	bool slow; /* mwan_tc_in takes it over: marks it, on a WAN DNATs */
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
#define HOST_ERR \
	ICMP_ERR(HOST(2), REMOTE2, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0)
#define HOST_QUOTE(h) UDP(REMOTE2, HOST(h), 5353, 53, 40)
#define HOP_ERR ICMP_ERR(HOP, PUB_ATT(0), ICMP_TIME_EXCEEDED, 0, 0)
#define HOP_QUOTE(h) TCP(PUB_ATT(h), REMOTE, 40000, 443, SYN, 0)
#define U_FRAG(...) UDP(HOST(0), REMOTE, 1, 53, 2000, .id = 7, __VA_ARGS__)

static const struct verdict_case verdict_cases[] = {
	/* the kernel's job: TTL, options, MTU, ARP, fast path off */
	V_SLOW("ttl_1", IF_LAN, U_OUT, MWAN_EV_PASS_TTL, .mangle = m_ttl1,
	       .flow = 1),
	V_SLOW("ip_options", IF_LAN,
	       UDP(HOST(0), REMOTE, 40000, 53, 32, .optwords = 1),
	       MWAN_EV_PASS_IP_OPTIONS),
	V_SLOW("over_wan_mtu", IF_LAN, UDP(HOST(0), REMOTE, 40000, 53, 1422),
	       MWAN_EV_PASS_MTU, .tweak = tw_wan_mtu_1400, .flow = 1),
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
	       .mangle = m_ipv6),
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
};

static void build_case(const struct verdict_case *c, const struct ip4 *ip,
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
	struct ip4 ip = c->ip;
	int wan;

	if (c->iface == IF_LAN) {
		struct mwan_flow_key k = key_out(&ip);

		wan = predict(&k);
	} else {
		wan = c->iface - IF_ATT;
		ip.dst = internal_of(ip.dst, wan);
	}
	build_case(c, &ip, want);
	return FWMARK(wan);
}

/* Newer kernels refuse to run skb programs on a frame that claims IPv4
 * but is shorter than an IPv4 header (6.1 runs them).
 */
static bool skb_test_run_accepts(const struct frame *f)
{
	static const __u8 ipv4[2] = { ETH_P_IP >> 8, ETH_P_IP & 0xff };
	static struct result r;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = r.f.b,
		    .data_size_out = sizeof(r.f.b));

	if (memcmp(f->b + 12, ipv4, 2) ||
	    f->len >= ETH_HLEN + sizeof(struct iphdr))
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
	expect_frame(XDP, c->iface, &in, c->drop ? XDP_DROP : XDP_PASS, &in);
	expect_stats({ c->stat, 1 }, { MWAN_EV_FLOW_NEW, c->flow });
	assert_int_equal(count_hash(MAP(mwan_flows)), c->flow);

	if (!skb_test_run_accepts(&in)) {
		print_message("%s: TC half skipped, this kernel's test run "
			      "refuses an IPv4 skb without an IPv4 header\n",
			      c->name);
		return;
	}
	zero_percpu(MAP(mwan_stats), MWAN_STAT_MAX, sizeof(__u64));
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
	static struct result r;

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
	struct ip4 d = UDP(HOST(0), TUNNEL_PEER, 40000, 51820, 2000,
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
	assert_int_equal(count_hash(MAP(mwan_flows)), 0);
}

/* ...and a host's ICMP error about what a tunnel peer sent it. */
static void test_routed_elsewhere_icmp_error(void **state)
{
	struct ip4 peer = UDP(TUNNEL_PEER, HOST(2), 51820, 5000, 40);
	struct ip4 err = ICMP_ERR(HOST(2), TUNNEL_PEER, ICMP_DEST_UNREACH,
				  ICMP_PORT_UNREACH, 0);
	struct pkt p = arriving(IF_LAN, &err, &peer, 0);

	(void)state;
	tw_tunnel_route();
	expect_kernel_routes(&p, "port unreachable to the tunnel peer");
}

/* ---- the TC egress guard on the WANs ---- */

enum guard_fix { G_KEEP, G_SNAT, G_QUOTE };

struct guard_case {
	const char *name;
	int wan;
	struct ip4 ip, q;
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

static const struct guard_case guard_cases[] = {
	G_SHOT("unmapped_internal_src", ATT, U_GUARD(UNMAPPED),
	       MWAN_DROP_INTERNAL_SRC),
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
		w = snat(p, ext_of(p.ip.src, c->wan));
	else if (c->fix == G_QUOTE)
		w.q.dst = ext_of(p.q.dst, c->wan);
	build(&p, &in);
	build(&w, &want);
	if (c->mangle) {
		c->mangle(&in);
		c->mangle(&want);
	}
	expect_frame(TC_OUT, WAN_IF(c->wan), &in, c->action, &want);
	expect_stats({ c->stat, 1 });
}

/* mwan_tc_out leaves the LAN's egress alone. */
static void test_guard_ignores_lan(void **state)
{
	struct ip4 ip = UDP(REMOTE, HOST(0), 53, 1000, 8);
	struct pkt p = arriving(IF_LAN, &ip, NULL, 0);

	(void)state;
	expect(TC_OUT, IF_LAN, &p, TC_ACT_OK, NULL);
	expect_stats();
}

/* ---- both paths translate the same way ---- */

static int wan_by_mac(const struct frame *f)
{
	int w;

	for (w = 0; w < N_WANS; w++)
		if (!memcmp(f->b, gw_macs[w], ETH_ALEN))
			return w;
	fail_msg("frame not addressed to a gateway");
	return -1;
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
	static struct result x, t;
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
static void same_translation_errors(const struct ip4 *inbound,
				    const struct ip4 *own)
{
	struct ip4 err = ICMP_ERR(HOST(0), REMOTE, ICMP_DEST_UNREACH,
				  ICMP_PORT_UNREACH, 0);
	struct pkt p = arriving(IF_LAN, &err, inbound, 0), sent;
	struct mwan_flow_key k = key_out(own);
	int wan = predict(&k);

	p.q.dst = internal_of(inbound->dst, WP);
	p.q.ttl--;
	same_translation(IF_LAN, &p);
	p = arriving(IF_LAN, own, NULL, 0);
	sent = hop_out(snat(p, ext_of(own->src, wan)), wan);
	err = (struct ip4)ICMP_ERR(HOP, sent.ip.src, ICMP_TIME_EXCEEDED, 0, 0);
	p = arriving(WAN_IF(wan), &err, &sent.ip, 28);
	same_translation(WAN_IF(wan), &p);
}

static void test_same_translation(void **state)
{
	const struct ip4 out[] = {
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
	const struct ip4 in[] = {
		TCP(REMOTE, ext_of(HOST(0), WP), 41000, 22, SYN, 0),
		UDP(REMOTE2, ext_of(HOST(1), ATT), 53, 5000, 100),
		ECHO(REMOTE2, ext_of(HOST(2), WP), 0x66, 1, 64),
		UDP(REMOTE2, ext_of(HOST(3), ATT), 53, 9000, 2000, .id = 3,
		    .frag_off = 800),
	};
	struct pkt p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(out); i++) {
		p = arriving(IF_LAN, &out[i], NULL, 0);
		same_translation(IF_LAN, &p);
	}
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		int wan = in[i].dst >= wan_defs[WP].pub ? WP : ATT;

		p = arriving(WAN_IF(wan), &in[i], NULL, 0);
		same_translation(WAN_IF(wan), &p);
	}
	same_translation_errors(&in[0], &out[0]);
}

/* ---- main ---- */

static void test_not_root(void **state)
{
	(void)state;
	print_message("skipped: needs root (BPF_PROG_TEST_RUN, netns)\n");
	skip();
}

#define MAX_TESTS 160
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

/* One test per case of `table` (elements of `size` bytes, a name first)
 * and, with `both`, per path.
 */
static void add_table(const char *prefix, CMUnitTestFunction fn,
		      const void *table, size_t n, size_t size, bool both)
{
	const struct path *paths[] = { &xdp_path, &tc_path };
	size_t i, j;

	for (i = 0; i < n; i++) {
		const void *c = (const char *)table + i * size;
		const char *name = *(const char *const *)c;

		if (!both) {
			add(name2(prefix, name), fn, c);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(paths); j++) {
			struct variant *v = &variants[n_variants++];

			v->c = c;
			v->path = paths[j];
			add(name2(paths[j]->name, name2(prefix, name)), fn, v);
		}
	}
}

#define ADD_TABLE(prefix, fn, table, both) \
	add_table(prefix, fn, table, ARRAY_SIZE(table), sizeof(table[0]), both)

int main(void)
{
	if (geteuid() != 0) {
		const struct CMUnitTest skip_all[] = {
			cmocka_unit_test(test_not_root),
		};

		return cmocka_run_group_tests(skip_all, NULL, NULL);
	}
	ADD_TABLE("flow", test_flow, flow_cases, true);
	ADD_TABLE("steer", test_steer, steer_cases, false);
	add("steer_admin_down_moves_flow", test_steer_admin_down_moves_flow,
	    NULL);
	ADD_TABLE("inbound", test_inbound, inbound_cases, true);
	add("inbound_martian_src", test_inbound_martian_src, NULL);
	ADD_TABLE("udp_csum_ffff", test_udp_csum_ffff, one_case, true);
	ADD_TABLE("icmp_in", test_icmp_in, icmp_in_cases, true);
	ADD_TABLE("icmp_out", test_icmp_out, icmp_out_cases, true);
	ADD_TABLE("frag_out", test_frag_out, frag_cases, true);
	ADD_TABLE("frag_in", test_frag_in, frag_cases, true);
	ADD_TABLE("verdict", test_verdict, verdict_cases, false);
	ADD_TABLE("guard", test_guard, guard_cases, false);
	add("routed_elsewhere_later_frags", test_routed_elsewhere_frags, NULL);
	add("routed_elsewhere_icmp_error", test_routed_elsewhere_icmp_error,
	    NULL);
	add("guard_ignores_lan", test_guard_ignores_lan, NULL);
	add("same_translation_xdp_tc", test_same_translation, NULL);
	return _cmocka_run_group_tests("test_dataplane", tests, n_tests,
				       group_setup, group_teardown);
}
