/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF programs loaded in a private netns with maps filled like the loader's, and frame builders. */
#ifndef MWAN_TEST_FIXTURE_H
#define MWAN_TEST_FIXTURE_H

/* Shared by tests/unit/test_dataplane.c, tests/fuzz/fuzz_packets.c and
 * bench/micro.c. The includer defines FX_FAIL(fmt, ...), which must not
 * return (cmocka's fail_msg, or print and exit).
 */
#ifndef FX_FAIL
#error "define FX_FAIL(fmt, ...) before including fixture.h"
#endif
#include "lib/filter.h"

#define FX_CHECK(cond)                                                   \
	do {                                                             \
		if (!(cond))                                             \
			FX_FAIL("%s:%d: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/icmp.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps/mwan_maps.h"
#include "lib/npt.h"
#include "lib/steer.h"
#include "lib/steermap.h"
#include "loader/routing.h"
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

/* IPv6, written as eight 16-bit words. */
#define W6(x) (__u8)((x) >> 8), (__u8)(x)
#define A6(a, b, c, d, e, f, g, h)                                        \
	((struct in6_addr){ { { W6(a), W6(b), W6(c), W6(d), W6(e), W6(f), \
				W6(g), W6(h) } } })
/* lan.ipv6 is 3d06:bad:b01:fe::/64; its hosts are ::2 to ::6. */
#define LAN_PLEN6 64
#define LAN6_IID(e, f, g, h) A6(0x3d06, 0xbad, 0xb01, 0xfe, e, f, g, h)
#define LAN6(i) LAN6_IID(0, 0, 0, (i))
#define HOST6(i) LAN6(2 + (i))
#define ROUTER6 LAN6(1)
#define REMOTE6 A6(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x10)
#define REMOTE6_2 A6(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 0x20)
#define HOP6 A6(0x2001, 0xdb8, 0xfffe, 0, 0, 0, 0, 1)
#define LL6(i) A6(0xfe80, 0, 0, 0, 0, 0, 0, (i))
#define MCAST6(g) A6(0xff02, 0, 0, 0, 0, 0, 0, (g))
#define SOLICITED6(i) A6(0xff02, 0, 0, 0, 0, 1, 0xff00, (i))
/* WAN w's gateway and the router's address on that link */
#define GW6(w) A6(0x2001, 0xdb8, 0xa + (w), 0, 0, 0, 0, 1)
#define WAN_ADDR6(w) A6(0x2001, 0xdb8, 0xa + (w), 0, 0, 0, 0, 2)
#define ATT_ADDR6 WAN_ADDR6(0)
#define WP_ADDR6 WAN_ADDR6(1)
/* lan6 ::i as att and webpass show it, worked by hand (RFC 6296 §3.1,
 * §3.5): the internal prefix's words sum to 0x54b2, att's 2001:db8:a0:1fe
 * to 0x3057 and webpass's 2001:db8:b0:2fe to 0x3167, so word 4 gains
 * 0x54b2 - 0x3057 = 0x245b on att and 0x234b on webpass.
 */
#define EXT6_ATT(i) A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0x245b, 0, 0, (i))
#define EXT6_WP(i) A6(0x2001, 0xdb8, 0xb0, 0x2fe, 0x234b, 0, 0, (i))
#define PD_LEN 56
#define PD_SUBNET 0xfe

enum { ATT, WP, N_WANS };
enum { IF_LAN, IF_ATT, IF_WP, IF_OTHER, N_IF };
#define WAN_IF(w) (IF_ATT + (w))
#define FWMARK(w) (MWAN_FWMARK_BASE + (w))

static const struct {
	const char *name;
	__u32 gw, addr, pub; /* pub: the first host's public address */
	__u8 weight;
	struct in6_addr gw6, addr6;
	struct in6_addr pd; /* the delegated /56 */
	struct in6_addr ext6; /* its subnet 0xfe: the external /64 */
} wan_defs[N_WANS] = {
	{ "att", IP(100, 64, 1, 1), IP(100, 64, 1, 2), IP(198, 51, 100, 193), 3,
	  GW6(0), ATT_ADDR6, A6(0x2001, 0xdb8, 0xa0, 0x100, 0, 0, 0, 0),
	  A6(0x2001, 0xdb8, 0xa0, 0x1fe, 0, 0, 0, 0) },
	{ "webpass", IP(100, 64, 2, 1), IP(100, 64, 2, 2), IP(203, 0, 113, 241),
	  1, GW6(1), WP_ADDR6, A6(0x2001, 0xdb8, 0xb0, 0x200, 0, 0, 0, 0),
	  A6(0x2001, 0xdb8, 0xb0, 0x2fe, 0, 0, 0, 0) },
};
#define ATT_ADDR IP(100, 64, 1, 2)
#define PUB_ATT(h) (IP(198, 51, 100, 193) + (h))
#define PUB_WP(h) (IP(203, 0, 113, 241) + (h))

static const struct in6_addr lan_net6 = LAN6(0);

static const char *const if_names[N_IF] = { "mwlan", "mwatt", "mwwp",
					    "mwother" };
static const __u8 if_macs[N_IF][ETH_ALEN] = {
	{ 2, 0, 0, 0, 0x0f, 0 },
	{ 2, 0, 0, 0, 0x0f, 1 },
	{ 2, 0, 0, 0, 0x0f, 2 },
	{ 2, 0, 0, 0, 0x0f, 3 },
};
/* [family][wan]: the IPv6 next hop has a MAC of its own, so a frame sent
 * to the IPv4 gateway's MAC is caught.
 */
static const __u8 gw_macs[2][N_WANS][ETH_ALEN] = {
	{ { 2, 0, 0, 0, 0x1f, 1 }, { 2, 0, 0, 0, 0x1f, 2 } },
	{ { 2, 0, 0, 0, 0x3f, 1 }, { 2, 0, 0, 0, 0x3f, 2 } },
};

/* A LAN host's MAC; its IPv6 neighbour entry differs from its IPv4 one
 * (the datapath must take it from mwan_neigh6).
 */
static inline void host_mac(__u8 *mac, bool v6, __u8 id)
{
	const __u8 m[ETH_ALEN] = { 2, 0, 0, 0, v6 ? 0x6f : 0x2f, id };

	memcpy(mac, m, ETH_ALEN);
}

static inline __u32 ext_of(__u32 host, int wan)
{
	return wan_defs[wan].pub + (host - HOST(0));
}

static inline __u32 internal_of(__u32 pub, int wan)
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

static inline void put(int fd, const void *key, const void *val)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		FX_FAIL("map update: %s", strerror(errno));
}

static inline void get(int fd, const void *key, void *val)
{
	if (bpf_map_lookup_elem(fd, key, val))
		FX_FAIL("map lookup: %s", strerror(errno));
}

static inline void clear_hash(int fd)
{
	unsigned char key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		bpf_map_delete_elem(fd, key);
}

static inline unsigned int count_hash(int fd)
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

static inline void zero_percpu(int fd, __u32 entries, size_t value_size)
{
	__u32 i;

	memset(fx.percpu, 0, fx.ncpus * value_size);
	for (i = 0; i < entries; i++)
		put(fd, &i, fx.percpu);
}

/* bpf_ktime_get_ns()'s clock. */
static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- maps, filled the way loader/sync.c fills them ---- */

static inline struct mwan_wan wan_get(int w)
{
	struct mwan_wan v;
	__u32 key = w;

	get(MAP(mwan_wans), &key, &v);
	return v;
}

static inline void wan_put(int w, const struct mwan_wan *v)
{
	__u32 key = w;

	put(MAP(mwan_wans), &key, v);
}

static inline void admin_set(int w, __u32 admin)
{
	__u32 key = w;

	put(MAP(mwan_admin), &key, &admin);
}

static inline void steer_sync(void)
{
	/* mwan_live and mwan_cfg.steer_half stay 0 here: half 0 is live */
	FX_CHECK(mwan_steer_fill(MAP(mwan_wans), MAP(mwan_admin),
				 MAP(mwan_steer), 0) == 0);
}

static inline struct mwan_cfg cfg_get(void)
{
	struct mwan_cfg c;
	__u32 zero = 0;

	get(MAP(mwan_cfg), &zero, &c);
	return c;
}

/* Slot 0 is the live one in the tests (mwan_live 0): they run no packet
 * while they write, so they need no flip.
 */
static inline void cfg_put(const struct mwan_cfg *c)
{
	struct mwan_live live = { 0 };
	__u32 zero = 0;

	put(MAP(mwan_cfg), &zero, c);
	put(MAP(mwan_live), &zero, &live);
}

static inline void fill_ifaces(void)
{
	int i;

	for (i = IF_LAN; i <= IF_WP; i++) {
		__u32 idx = fx.ifindex[i];

		put(MAP(mwan_tx), &idx, &idx);
	}
	/* IF_OTHER is no interface of ours until a test makes it one */
	i = fx.ifindex[IF_OTHER];
	bpf_map_delete_elem(MAP(mwan_tx), &i);
}

static inline void fill_wans(void)
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
			memcpy(v.gw_mac, gw_macs[0][w], ETH_ALEN);
			memcpy(v.if_mac, if_macs[WAN_IF(w)], ETH_ALEN);
			memcpy(v.gw6, &wan_defs[w].gw6, sizeof(v.gw6));
			memcpy(v.gw6_mac, gw_macs[1][w], ETH_ALEN);
			v.mtu = 1500;
			v.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP |
				  MWAN_WAN_NEIGH4 | MWAN_WAN_NEIGH6 |
				  MWAN_WAN_XDP_TX;
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

static inline void fill_nat(void)
{
	int h, w;

	for (h = 0; h < N_HOSTS; h++) {
		struct mwan_nat4 v = { .has_mac = 1 };
		__be32 key = htonl(HOST(h));

		host_mac(v.mac, false, HOST(h) & 0xff);
		for (w = 0; w < N_WANS; w++) {
			struct mwan_pub4 p = { .internal = key, .wan = w };

			v.ext[w] = htonl(ext_of(HOST(h), w));
			put(MAP(mwan_pub4), &v.ext[w], &p);
		}
		put(MAP(mwan_nat4), &key, &v);
	}
}

static inline void fill_local(void)
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

static inline void local6_put(const struct in6_addr *a, int iface)
{
	struct mwan_local4 v = { .ifindex = fx.ifindex[iface] };

	put(MAP(mwan_local6), a, &v);
}

static inline void neigh6_put(const struct in6_addr *a)
{
	struct mwan_neigh6 v;

	memset(&v, 0, sizeof(v));
	host_mac(v.mac, true, a->s6_addr[15]);
	put(MAP(mwan_neigh6), a, &v);
}

/* The router's IPv6 addresses and the LAN hosts' neighbour entries. */
static inline void fill_local6(void)
{
	int i;

	local6_put(&ROUTER6, IF_LAN);
	for (i = 0; i < N_WANS; i++)
		local6_put(&wan_defs[i].addr6, WAN_IF(i));
	for (i = 0; i < N_HOSTS; i++)
		neigh6_put(&HOST6(i));
}

/* The main table's routes that do not leave by a WAN: in the lab, the
 * LAN's own prefixes.
 */
static inline void fill_bypass(void)
{
	struct mwan_bypass4_key k = { .prefixlen = 29, .addr = htonl(LAN_NET) };
	struct mwan_bypass6_key k6 = { .prefixlen = LAN_PLEN6 };
	struct mwan_bypass4 v = { .ifindex = fx.ifindex[IF_LAN] };

	put(MAP(mwan_bypass4), &k, &v);
	memcpy(k6.addr, &lan_net6, sizeof(k6.addr));
	put(MAP(mwan_bypass6), &k6, &v);
}

/* The lab's filter lists: the default bogons, FILTERED4 dropped on
 * every WAN, ALLOWED4 (a routed public block) allowed to leave by att
 * untranslated; into the maps as lib/filter.c computes them for the
 * loader.
 */
#define FILTERED4 IP(203, 0, 113, 0) /* /28 */
#define ALLOWED4 IP(198, 51, 100, 0) /* /26 */
#define ALLOWED6 A6(0x2001, 0xdb8, 0xa1, 0, 0, 0, 0, 0) /* /48 */

static inline void filter_put(int fd4, int fd6,
			      const struct mwan_filter_rule *r, size_t n,
			      bool ingress)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct mwan_bypass6_key k = { .prefixlen = r[i].plen };
		struct mwan_ingress in = { .kind = r[i].value };
		struct mwan_egress eg = { .wans = r[i].value };

		memcpy(k.addr, r[i].addr, r[i].family == AF_INET ? 4 : 16);
		put(r[i].family == AF_INET ? fd4 : fd6, &k,
		    ingress ? (void *)&in : (void *)&eg);
	}
}

static inline void fill_filters(void)
{
	static struct mwan_config c;
	static struct mwan_filter_rule r[MWAN_FILTER_RULES_MAX];
	size_t n;

	memset(&c, 0, sizeof(c));
	c.bogons = true;
	c.n_drop = 1;
	c.drop_sources[0] = (struct mwan_cfg_prefix){
		.family = AF_INET, .addr4 = { htonl(FILTERED4) }, .plen = 28
	};
	c.n_wans = N_WANS;
	c.wans[0].n_allow = 2;
	c.wans[0].allow_sources[0] = (struct mwan_cfg_prefix){
		.family = AF_INET, .addr4 = { htonl(ALLOWED4) }, .plen = 26
	};
	c.wans[0].allow_sources[1] = (struct mwan_cfg_prefix){
		.family = AF_INET6, .addr6 = ALLOWED6, .plen = 48
	};
	n = mwan_ingress_rules(&c, r);
	filter_put(MAP(mwan_ingress4), MAP(mwan_ingress6), r, n, true);
	n = mwan_egress_rules(&c, r);
	filter_put(MAP(mwan_egress4), MAP(mwan_egress6), r, n, false);
}

/* mwan_npt[w] as the loader writes it for a delegated prefix: subnet 0xfe
 * of the WAN's /56, the adjustments from lib/npt.c. `valid_until_ns` 0:
 * no expiry.
 */
static inline void npt_put(int w, __u64 valid_until_ns)
{
	struct in6_addr ext;
	struct mwan_npt e;
	char err[128];
	__u32 key = w;

	if (mwan_npt_derive(&wan_defs[w].pd, PD_LEN, PD_SUBNET, LAN_PLEN6, &ext,
			    err, sizeof(err)))
		FX_FAIL("mwan_npt_derive: %s", err);
	mwan_npt_fill(&lan_net6, &ext, LAN_PLEN6, &e);
	memcpy(e.delegated, &wan_defs[w].pd, sizeof(e.delegated));
	e.delegated_len = PD_LEN;
	e.source = MWAN_NPT_PD;
	e.subnet = PD_SUBNET;
	e.valid_until_ns = valid_until_ns;
	e.set_ns = mono_ns();
	put(MAP(mwan_npt), &key, &e);
}

static inline __u32 npt_mask_get(void)
{
	__u32 zero = 0, mask;

	get(MAP(mwan_npt_mask), &zero, &mask);
	return mask;
}

static inline void npt_mask_set(__u32 mask)
{
	__u32 zero = 0;

	put(MAP(mwan_npt_mask), &zero, &mask);
}

static inline void fill_npt(void)
{
	int w;

	for (w = 0; w < N_WANS; w++)
		npt_put(w, 0);
	npt_mask_set((1U << N_WANS) - 1);
}

static inline void fill_cfg(void)
{
	struct mwan_cfg c = {
		.layout_version = MWAN_LAYOUT_VERSION,
		.fast_path = 1,
		.ready = 1,
		.n_lans = 1,
		.lan_plen6 = LAN_PLEN6,
	};

	int i;

	for (i = 0; i < MWAN_MAX_LANS; i++)
		c.lan[i].net4 = 0xffffffff; /* a free slot, as the loader's */
	c.lan[0].ifindex = fx.ifindex[IF_LAN];
	c.lan[0].net4 = htonl(LAN_NET);
	c.lan[0].mask4 = htonl(LAN_MASK);
	c.lan[0].mtu = 1500;
	c.lan[0].xdp_tx = 1;
	memcpy(c.lan[0].mac, if_macs[IF_LAN], ETH_ALEN);
	for (i = IF_ATT; i <= IF_WP; i++)
		c.wan_ifindex[i - IF_ATT] = fx.ifindex[i];
	memcpy(c.lan_net6, &lan_net6, sizeof(c.lan_net6));
	cfg_put(&c);
}

/* Every test starts from the lab as the loader leaves it, with no flows,
 * no fragments and all counters at zero.
 */
static inline void fx_reset(void)
{
	clear_hash(MAP(mwan_flows));
	clear_hash(MAP(mwan_flows_in));
	clear_hash(MAP(mwan_frags));
	clear_hash(MAP(mwan_frags6));
	clear_hash(MAP(mwan_nat4));
	clear_hash(MAP(mwan_pub4));
	clear_hash(MAP(mwan_local4));
	clear_hash(MAP(mwan_local6));
	clear_hash(MAP(mwan_neigh6));
	clear_hash(MAP(mwan_npt));
	clear_hash(MAP(mwan_bypass4));
	clear_hash(MAP(mwan_bypass6));
	clear_hash(MAP(mwan_ingress4));
	clear_hash(MAP(mwan_ingress6));
	clear_hash(MAP(mwan_egress4));
	clear_hash(MAP(mwan_egress6));
	clear_hash(MAP(mwan_spoofed));
	zero_percpu(MAP(mwan_stats), MWAN_STAT_MAX, sizeof(__u64));
	zero_percpu(MAP(mwan_wanstat), MWAN_MAX_WANS,
		    sizeof(struct mwan_wan_counters));
	zero_percpu(MAP(mwan_wandrop), MWAN_WANDROP_ENTRIES, sizeof(__u64));
	clear_hash(MAP(mwan_unmapped));
	fill_ifaces();
	fill_wans();
	fill_nat();
	fill_local();
	fill_local6();
	fill_bypass();
	fill_filters();
	fill_npt();
	steer_sync();
	fill_cfg();
}

/* The programs only accept ifindexes of devices that exist, so the test
 * makes its own in a private network namespace.
 */
static inline int make_links(void)
{
	char cmd[256];
	int i;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
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

static inline int fx_open(void)
{
	if (make_links())
		return -1;
	fx.skel = mwan_bpf__open_and_load();
	if (!fx.skel) {
		fprintf(stderr, "mwan_bpf__open_and_load: %s\n",
			strerror(errno));
		return -1;
	}
	fx.prog[XDP] = bpf_program__fd(fx.skel->progs.mwan_xdp);
	fx.prog[TC_IN] = bpf_program__fd(fx.skel->progs.mwan_tc_in);
	fx.prog[TC_OUT] = bpf_program__fd(fx.skel->progs.mwan_tc_out);
	fx.ncpus = libbpf_num_possible_cpus();
	fx.percpu = calloc(fx.ncpus, sizeof(struct mwan_wan_counters));
	return fx.ncpus > 0 && fx.percpu ? 0 : -1;
}

static inline void fx_close(void)
{
	mwan_bpf__destroy(fx.skel);
	free(fx.percpu);
}

/* ---- packets: described, then built with checksums from scratch ---- */

#define SYN 0x02
#define ACK 0x10
#define F_MF 0x2000

/* IPv6 extension headers before the L4 header, in RFC 8200 §4.1 order. A
 * Fragment header comes after X_RT whenever the packet is a fragment (or
 * with X_FRAG, an atomic one); X_DST2 and X_BIG follow it, so they are
 * only for unfragmented packets.
 */
#define X_HBH 0x01 /* hop-by-hop: router alert (MLD) */
#define X_DST 0x02 /* destination options: padding */
#define X_RT 0x04 /* routing, experimental type 253, no segments left */
#define X_FRAG 0x08 /* an atomic fragment (offset 0, no more fragments) */
#define X_DST2 0x10 /* destination options for the final destination */
#define X_BIG 0x20 /* 208 bytes of destination options */
#define X_BIG_LEN 208

/* An IPv4 or IPv6 packet, described. */
struct ip46 {
	bool v6;
	__u32 src, dst; /* IPv4 */
	struct in6_addr src6, dst6; /* IPv6 */
	__u8 proto, ttl; /* IPv6: the L4 protocol, the hop limit */
	__u8 type, code; /* ICMP, ICMPv6 */
	__u16 sport, dport; /* TCP/UDP ports; ICMP echo: id, sequence */
	__u32 id;
	__u16 paylen; /* L4 payload (an ICMP error's payload is its quote) */
	__u16 frag_off, frag_len; /* the slice of the L4 datagram; 0: rest */
	__u32 rest; /* ICMP error: the word after the checksum */
	__u8 flags; /* TCP */
	__u8 optwords; /* IP options: this many 4-byte words of NOPs */
	__u8 xh; /* IPv6 extension headers: X_* */
	bool mf, nocsum; /* nocsum: UDP without a checksum */
};

#define PKT(p, s, d, ...)                                                    \
	{                                                                    \
		.src = (s), .dst = (d), .proto = (p), .ttl = 64, __VA_ARGS__ \
	}
#define PKT6H(p, hop, s, d, ...)                                           \
	{                                                                  \
		.v6 = 1, .src6 = s, .dst6 = d, .proto = (p), .ttl = (hop), \
		__VA_ARGS__                                                \
	}
#define PKT6(p, s, d, ...) PKT6H(p, 64, s, d, __VA_ARGS__)
#define TCP_(P, s, d, sp, dp, fl, len, ...)                               \
	P(IPPROTO_TCP, s, d, .sport = (sp), .dport = (dp), .flags = (fl), \
	  .paylen = (len), __VA_ARGS__)
#define UDP_(P, s, d, sp, dp, len, ...)                                     \
	P(IPPROTO_UDP, s, d, .sport = (sp), .dport = (dp), .paylen = (len), \
	  __VA_ARGS__)
#define TCP(...) TCP_(PKT, __VA_ARGS__)
#define UDP(...) UDP_(PKT, __VA_ARGS__)
#define TCP6(...) TCP_(PKT6, __VA_ARGS__)
#define UDP6(...) UDP_(PKT6, __VA_ARGS__)
#define ECHO(s, d, ident, seq, len, ...)                             \
	PKT(IPPROTO_ICMP, s, d, .type = ICMP_ECHO, .sport = (ident), \
	    .dport = (seq), .paylen = (len), __VA_ARGS__)
#define ECHO6(s, d, ident, seq, len, ...)                      \
	PKT6(IPPROTO_ICMPV6, s, d, .type = ICMP6_ECHO_REQUEST, \
	     .sport = (ident), .dport = (seq), .paylen = (len), __VA_ARGS__)
#define ICMP_ERR(s, d, t, c, r) \
	PKT(IPPROTO_ICMP, s, d, .type = (t), .code = (c), .rest = (r))
#define ICMP6_ERR(s, d, t, c, r) \
	PKT6(IPPROTO_ICMPV6, s, d, .type = (t), .code = (c), .rest = (r))
/* ND, RA, MLD: link-scoped ICMPv6 with `len` bytes of body. */
#define ICMP6_LINK(hop, s, d, t, len, ...)                             \
	PKT6H(IPPROTO_ICMPV6, hop, s, d, .type = (t), .paylen = (len), \
	      __VA_ARGS__)
#define T_IN(h) TCP(REMOTE, PUB_ATT(h), 41000, 22, SYN, 0)
#define T6_IN(i) TCP6(REMOTE6, EXT6_ATT(i), 41000, 22, SYN, 0)

struct pkt {
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	struct ip46 ip;
	struct ip46 q; /* what an ICMP error quotes */
	__u16 qlen; /* bytes of it quoted; 0: all */
};

#define FRAME_MAX 4096
struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
	/* Where the L4 checksums are: the packet's and its quote's (when
	 * the quote holds it); 0: not in this frame.
	 */
	__u32 csum_at[2];
};

/* RFC 1071, the plain way: the reference every checksum is held to. */
static inline __u32 sum16(const __u8 *d, size_t n, __u32 sum)
{
	for (; n > 1; n -= 2, d += 2)
		sum += (__u32)d[0] << 8 | d[1];
	if (n)
		sum += (__u32)d[0] << 8;
	return sum;
}

static inline __u16 csum_final(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* IPv4 (RFC 793/768) or IPv6 (RFC 8200 §8.1) pseudo header. */
static inline __u32 pseudo_sum(const struct ip46 *ip, size_t len)
{
	if (ip->v6)
		return sum16(ip->src6.s6_addr, 16,
			     sum16(ip->dst6.s6_addr, 16, 0)) +
		       ip->proto + len;
	return (ip->src >> 16) + (ip->src & 0xffff) + (ip->dst >> 16) +
	       (ip->dst & 0xffff) + ip->proto + len;
}

static inline bool is_icmp(const struct ip46 *ip)
{
	return ip->proto == (ip->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
}

static inline bool icmp_is_error(const struct ip46 *ip)
{
	if (!is_icmp(ip))
		return false;
	if (ip->v6)
		return ip->type < 128;
	return ip->type == ICMP_DEST_UNREACH ||
	       ip->type == ICMP_TIME_EXCEEDED || ip->type == ICMP_PARAMETERPROB;
}

static inline size_t l4_hdr_len(const struct ip46 *ip)
{
	return ip->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : 8;
}

static inline size_t l4_csum_off(const struct ip46 *ip)
{
	if (ip->proto == IPPROTO_TCP)
		return offsetof(struct tcphdr, check);
	return ip->proto == IPPROTO_UDP ? offsetof(struct udphdr, check) :
					  offsetof(struct icmphdr, checksum);
}

static inline void put_tcp(const struct ip46 *ip, __u8 *buf, size_t n)
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

static inline void put_udp(const struct ip46 *ip, __u8 *buf, size_t n)
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

/* ICMPv6 sums a pseudo header too (RFC 4443 §2.3), ICMP does not. */
static inline void put_icmp(const struct ip46 *ip, __u8 *buf, size_t n)
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
	c->checksum = htons(
		csum_final(sum16(buf, n, ip->v6 ? pseudo_sum(ip, n) : 0)));
}

/* The whole L4 datagram with its checksum; returns its length. */
static inline size_t build_l4(const struct ip46 *ip, const __u8 *quote,
			      size_t qlen, __u8 *buf)
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

/* IPv4 header for `len` bytes of L4 data; returns its length. */
static inline size_t build_ip4_hdr(const struct ip46 *ip, size_t len, __u8 *buf)
{
	size_t hl = sizeof(struct iphdr) + 4 * ip->optwords;
	struct iphdr *h = (struct iphdr *)buf;

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
	h->check = htons(csum_final(sum16(buf, hl, 0)));
	return hl;
}

/* Appends an extension header of `len` bytes, linked from *nh: `opts`
 * fills its first 6 bytes after the length, else PadN covers them all.
 */
static inline __u8 *put_ext6(__u8 **nh, __u8 type, __u8 *x, size_t len,
			     const __u8 *opts)
{
	**nh = type;
	*nh = x;
	memset(x, 0, len);
	x[1] = len / 8 - 1;
	if (opts) {
		memcpy(x + 2, opts, 6);
	} else {
		x[2] = 1; /* PadN */
		x[3] = len - 4;
	}
	return x + len;
}

/* IPv6 header and extension headers for `len` bytes of L4 data. */
static inline size_t build_ip6_hdr(const struct ip46 *ip, size_t len, __u8 *buf)
{
	static const __u8 router_alert[6] = { 5, 2, 0, 0, 1, 0 };
	static const __u8 rt253[6] = { 253, 0 };
	struct ipv6hdr *h = (struct ipv6hdr *)buf;
	__u8 *nh = &h->nexthdr, *x = buf + sizeof(*h);

	memset(h, 0, sizeof(*h));
	h->version = 6;
	h->hop_limit = ip->ttl;
	h->saddr = ip->src6;
	h->daddr = ip->dst6;
	if (ip->xh & X_HBH)
		x = put_ext6(&nh, IPPROTO_HOPOPTS, x, 8, router_alert);
	if (ip->xh & X_DST)
		x = put_ext6(&nh, IPPROTO_DSTOPTS, x, 8, NULL);
	if (ip->xh & X_RT)
		x = put_ext6(&nh, IPPROTO_ROUTING, x, 8, rt253);
	if ((ip->xh & X_FRAG) || ip->mf || ip->frag_off) {
		__be16 off = htons(ip->frag_off | ip->mf);
		__be32 id = htonl(ip->id);

		x = put_ext6(&nh, IPPROTO_FRAGMENT, x, 8, NULL);
		memset(x - 7, 0, 7);
		memcpy(x - 6, &off, 2);
		memcpy(x - 4, &id, 4);
	}
	if (ip->xh & X_DST2)
		x = put_ext6(&nh, IPPROTO_DSTOPTS, x, 8, NULL);
	if (ip->xh & X_BIG)
		x = put_ext6(&nh, IPPROTO_DSTOPTS, x, X_BIG_LEN, NULL);
	*nh = ip->proto;
	h->payload_len = htons(x - buf - sizeof(*h) + len);
	return x - buf;
}

/* IP header plus this fragment's slice of the datagram. `l4_at`: where
 * the L4 header starts, 0 for a fragment without it.
 */
static inline size_t build_ip(const struct ip46 *ip, const __u8 *quote,
			      size_t qlen, __u8 *buf, size_t *l4_at)
{
	__u8 l4[FRAME_MAX];
	size_t n = build_l4(ip, quote, qlen, l4);
	size_t len = ip->frag_len ? ip->frag_len : n - ip->frag_off;
	size_t hl = ip->v6 ? build_ip6_hdr(ip, len, buf) :
			     build_ip4_hdr(ip, len, buf);

	FX_CHECK(ip->frag_off + len <= n);
	memcpy(buf + hl, l4 + ip->frag_off, len);
	*l4_at = ip->frag_off ? 0 : hl;
	return hl + len;
}

/* An Ethernet frame, padded to the 60-byte minimum as on the wire. */
static inline void build(const struct pkt *p, struct frame *f)
{
	struct ethhdr *eth = (struct ethhdr *)f->b;
	__u8 quote[FRAME_MAX];
	size_t qlen = 0, q4 = 0, l4, at;

	if (icmp_is_error(&p->ip)) {
		qlen = build_ip(&p->q, NULL, 0, quote, &q4);
		if (p->qlen) {
			FX_CHECK(p->qlen <= qlen);
			qlen = p->qlen;
		}
	}
	memcpy(eth->h_dest, p->dmac, ETH_ALEN);
	memcpy(eth->h_source, p->smac, ETH_ALEN);
	eth->h_proto = htons(p->ip.v6 ? ETH_P_IPV6 : ETH_P_IP);
	f->len = sizeof(*eth) +
		 build_ip(&p->ip, quote, qlen, f->b + sizeof(*eth), &l4);
	at = ETH_HLEN + l4 + l4_csum_off(&p->ip);
	f->csum_at[0] = l4 && at + 2 <= f->len ? at : 0;
	at = ETH_HLEN + l4 + 8 + q4 + l4_csum_off(&p->q);
	f->csum_at[1] = l4 && q4 && at + 2 <= ETH_HLEN + l4 + 8 + qlen ? at : 0;
	if (f->len < ETH_ZLEN) {
		memset(f->b + f->len, 0, ETH_ZLEN - f->len);
		f->len = ETH_ZLEN;
	}
}

static inline size_t frame_len(const struct pkt *p)
{
	struct frame f;

	build(p, &f);
	return f.len;
}

enum { SRC, DST };

static inline __u8 host_id(const struct ip46 *ip, int which)
{
	if (ip->v6)
		return (which == SRC ? &ip->src6 : &ip->dst6)->s6_addr[15];
	return (which == SRC ? ip->src : ip->dst) & 0xff;
}

/* A frame as it arrives on `iface`: from a LAN host or a WAN's gateway. */
static inline struct pkt arriving(int iface, const struct ip46 *ip,
				  const struct ip46 *q, __u16 qlen)
{
	struct pkt p = { .ip = *ip, .qlen = qlen };

	if (q)
		p.q = *q;
	memcpy(p.dmac, if_macs[iface], ETH_ALEN);
	if (iface == IF_ATT || iface == IF_WP)
		memcpy(p.smac, gw_macs[ip->v6][iface - IF_ATT], ETH_ALEN);
	else
		host_mac(p.smac, ip->v6, host_id(ip, SRC));
	return p;
}

/* What a program made of a frame. */
struct fx_result {
	int action;
	__u32 mark; /* TC: skb->mark afterwards */
	struct frame f;
};

/* One BPF_PROG_TEST_RUN of prog on a frame arriving on `iface` (XDP, TC
 * ingress) or leaving by it (TC egress); 0, or -errno from the kernel.
 */
static inline int fx_run(enum prog prog, int iface, const struct frame *in,
			 struct fx_result *r)
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
		return -errno;
	r->action = o.retval;
	r->f.len = o.data_size_out;
	r->mark = prog == XDP ? 0 : sctx.mark;
	return 0;
}

/* Counter names, indexed like mwan_stats. */
#define FX_STAT_NAME(n, s) s,
static const char *const fx_stat_names[MWAN_STAT_MAX] = { MWAN_DROPS(
	FX_STAT_NAME) MWAN_EVENTS(FX_STAT_NAME) };
#undef FX_STAT_NAME

/* One mwan_stats counter, summed over the CPUs. */
static inline __u64 fx_stat(int s)
{
	__u64 *v = fx.percpu, sum = 0;
	__u32 key = s;
	int i;

	get(MAP(mwan_stats), &key, v);
	for (i = 0; i < fx.ncpus; i++)
		sum += v[i];
	return sum;
}

#endif
