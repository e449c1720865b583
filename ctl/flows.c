/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl flows: the flow table, one line per flow like conntrack -L. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bpfctl.h"
#include "lib/npt.h"
#include "lib/print.h"

struct flow_entry {
	struct mwan_flow_key k;
	struct mwan_flow v;
};

struct flow_dump {
	struct ctl_vec vec;
	int wan; /* only this WAN's flows; -1: all */
};

static bool flow_family_supported(__u8 family)
{
	return family == AF_INET || family == AF_INET6;
}

static size_t flow_addr_len(const struct mwan_flow_key *k)
{
	return k->family == AF_INET6 ? 16 : 4;
}

static const char *flow_addr(const struct mwan_flow_key *k, const void *a,
			     char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(k->family == AF_INET6 ? AF_INET6 : AF_INET, a, buf,
			 INET6_ADDRSTRLEN);
}

static void flow_collect(const void *key, const void *value, void *arg)
{
	const struct mwan_flow_key *k = key;
	const struct mwan_flow *v = value;
	struct flow_dump *d = arg;
	struct flow_entry *e;

	if (!flow_family_supported(k->family) ||
	    (d->wan >= 0 && v->wan != d->wan))
		return;
	e = ctl_vec_push(&d->vec);
	if (!e)
		return;
	e->k = *k;
	e->v = *v;
}

/* Big-endian bytes compare in numeric order, so memcmp sorts addresses
 * and ports without byte swapping.
 */
static int flow_cmp(const void *pa, const void *pb)
{
	const struct mwan_flow_key *a = pa, *b = pb;
	int r;

	if (a->family != b->family)
		return a->family - b->family;
	r = memcmp(a->inner6, b->inner6, flow_addr_len(a));
	if (!r)
		r = memcmp(&a->sport, &b->sport, sizeof(a->sport));
	if (!r)
		r = memcmp(a->remote6, b->remote6, flow_addr_len(a));
	if (!r)
		r = memcmp(&a->dport, &b->dport, sizeof(a->dport));
	if (!r)
		r = a->proto - b->proto;
	return r;
}

static void print_proto(__u8 proto)
{
	const char *name = NULL;

	switch (proto) {
	case IPPROTO_TCP:
		name = "tcp";
		break;
	case IPPROTO_UDP:
		name = "udp";
		break;
	case IPPROTO_ICMP:
		name = "icmp";
		break;
	case IPPROTO_ICMPV6:
		name = "icmpv6";
		break;
	}
	if (name)
		print_str("proto", "%-6s ", name);
	else
		print_u64("proto", "%-6" PRIu64 " ", proto);
}

static void print_origin(__u8 origin)
{
	if (origin == MWAN_ORIGIN_LAN)
		print_str("origin", "origin=%s ", "lan");
	else if (origin == MWAN_ORIGIN_WAN)
		print_str("origin", "origin=%s ", "wan");
	else
		print_u64("origin", "origin=%" PRIu64 " ", origin);
}

/* Tenths of a second since t; a timestamp from the future reads as 0. */
static __u64 tenths_since(__u64 now, __u64 t)
{
	return now > t ? (now - t) / 100000000ULL : 0;
}

static void print_flow_times(const struct mwan_flow *v, __u64 now)
{
	print_tenths("age_s", "age=%ss ", tenths_since(now, v->created_ns));
	print_tenths("idle_s", "idle=%ss ", tenths_since(now, v->seen_ns));
}

static void print_flow_counters(const struct mwan_flow *v)
{
	print_u64("pkts_out", "pkts_out=%" PRIu64 " ", v->pkts_out);
	print_u64("bytes_out", "bytes_out=%" PRIu64 " ", v->bytes_out);
	print_u64("pkts_in", "pkts_in=%" PRIu64 " ", v->pkts_in);
	print_u64("bytes_in", "bytes_in=%" PRIu64 " ", v->bytes_in);
	print_u64("moves", "moves=%" PRIu64 "\n", v->moves);
}

/* An IPv6 flow's external address: its host translated with the WAN's
 * current prefix (none without one, or where RFC 6296 drops).
 */
static bool flow_ext6(const struct ctl_wans *wans, const struct ctl_npt *npt,
		      const struct flow_entry *e, char buf[INET6_ADDRSTRLEN])
{
	const struct ctl_npt *n = e->v.wan < MWAN_MAX_WANS ? &npt[e->v.wan] :
							     NULL;
	struct in6_addr a, to;

	if (!n || !n->valid)
		return false;
	memcpy(&a, e->k.inner6, sizeof(a));
	memcpy(&to, n->e.ext, sizeof(to));
	if (!mwan_npt_translate(&a, &to, wans->cfg.lan_plen6, n->e.adj_out))
		return false;
	return inet_ntop(AF_INET6, &a, buf, INET6_ADDRSTRLEN) != NULL;
}

static void print_flow_ext(const struct ctl_wans *wans,
			   const struct ctl_npt *npt,
			   const struct flow_entry *e)
{
	char addr[INET6_ADDRSTRLEN];

	if (e->k.family == AF_INET6 && flow_ext6(wans, npt, e, addr))
		print_str("ext", "ext=%s ", addr);
	else if (e->k.family == AF_INET && e->v.ext4)
		print_str("ext", "ext=%s ", ctl_ipv4_str(e->v.ext4, addr));
	else
		print_null("ext", "ext=- ");
}

static void print_flow(const struct ctl_wans *wans, const struct ctl_npt *npt,
		       const struct flow_entry *e, __u64 now)
{
	char addr[INET6_ADDRSTRLEN], name[MWAN_NAME_LEN + 8];
	const struct mwan_flow_key *k = &e->k;

	print_open_object(NULL);
	print_proto(k->proto);
	print_str("family", NULL, k->family == AF_INET6 ? "ipv6" : "ipv4");
	print_str("src", "src=%s ", flow_addr(k, k->inner6, addr));
	print_u64("sport", "sport=%" PRIu64 " ", ntohs(k->sport));
	print_str("dst", "dst=%s ", flow_addr(k, k->remote6, addr));
	print_u64("dport", "dport=%" PRIu64 " ", ntohs(k->dport));
	print_str("wan", "wan=%s ", ctl_wan_name(wans, e->v.wan, name));
	print_origin(e->v.origin);
	print_flow_ext(wans, npt, e);
	print_flow_times(&e->v, now);
	print_flow_counters(&e->v);
	print_close_object();
}

static int flows_parse_args(int argc, char **argv, const char **wan)
{
	*wan = NULL;
	if (argc == 1)
		return 0;
	if (argc == 3 && !strcmp(argv[1], "wan")) {
		*wan = argv[2];
		return 0;
	}
	if (strcmp(argv[1], "wan"))
		return ctl_usage_error("unknown flows filter '%s'", argv[1]);
	if (argc == 2)
		return ctl_usage_error("flows wan: missing WAN name");
	return ctl_usage_error("unexpected argument '%s'", argv[3]);
}

static int table_read(const struct ctl *ctl, const struct mwan_map_desc *m,
		      struct flow_dump *d)
{
	bool optional = m == MWAN_MAP(flows_in); /* new in a later loader */
	int fd = optional ? ctl_map_open_optional(ctl, m) :
			    ctl_map_open(ctl, m, false);
	int ret;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	ret = ctl_map_walk(fd, m, flow_collect, d);
	close(fd);
	if (ret || d->vec.oom) {
		ctl_error("cannot read %s", m->name);
		return -1;
	}
	return 0;
}

/* Both flow tables: opened from a LAN, and from outside. */
static int flows_read(const struct ctl *ctl, struct flow_dump *d)
{
	if (table_read(ctl, MWAN_MAP(flows), d))
		return -1;
	return table_read(ctl, MWAN_MAP(flows_in), d);
}

static void print_flows(const struct ctl_wans *wans, const struct ctl_npt *npt,
			struct flow_entry *e, size_t n)
{
	__u64 now;
	size_t i;

	now = mwan_mono_ns();
	if (n)
		qsort(e, n, sizeof(*e), flow_cmp);
	print_open_array(NULL);
	for (i = 0; i < n; i++)
		/* a key seen twice while the LRU evicted under the walk */
		if (!i || memcmp(&e[i].k, &e[i - 1].k, sizeof(e[i].k)))
			print_flow(wans, npt, &e[i], now);
	print_close_array();
}

int cmd_flows(const struct ctl *ctl, int argc, char **argv)
{
	struct flow_dump d = { .vec.size = sizeof(struct flow_entry),
			       .wan = -1 };
	struct ctl_npt npt[MWAN_MAX_WANS];
	struct ctl_wans wans;
	const char *wan;
	int ret;

	ret = flows_parse_args(argc, argv, &wan);
	if (ret)
		return ret;
	if (ctl_wans_load(ctl, &wans) || ctl_npt_load(ctl, npt))
		return CTL_EXIT_FAIL;
	if (wan) {
		d.wan = ctl_wan_find(&wans, wan);
		if (d.wan < 0)
			return ctl_unknown_wan(&wans, wan);
	}
	if (flows_read(ctl, &d)) {
		free(d.vec.data);
		return CTL_EXIT_FAIL;
	}
	print_flows(&wans, npt, d.vec.data, d.vec.n);
	free(d.vec.data);
	return 0;
}
