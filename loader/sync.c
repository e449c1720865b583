/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config and live system state (links, neighbours, addresses) -> maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flows.h"
#include "loader.h"
#include "sync.h"
#include "attach.h"
#include "nlcache.h"
#include "log.h"
#include "mapio.h"
#include "publish.h"
#include "wanstate.h"
#include "../lib/filter.h"
#include "../lib/maptable.h"
#include "../lib/steer.h"
#include "../lib/syscheck.h"
#include "probe.h"

/* Delete every key of a hash map that `keep` says is no longer wanted:
 * entries from a previous run's config must not survive this one.
 */
static void map_prune(int fd, __u32 key_size,
		      bool (*keep)(const struct loader *, const void *),
		      const struct loader *l)
{
	unsigned char key[64], next[64];
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, key_size);
		if (!keep(l, key))
			bpf_map_delete_elem(fd, key);
	}
}

static bool keep_nat(const struct loader *l, const void *key)
{
	return mwan_config_nat_of(&l->cfg, *(const __u32 *)key) != NULL;
}

static bool keep_pub(const struct loader *l, const void *key)
{
	__u32 pub = *(const __u32 *)key;
	unsigned int i, w;

	for (i = 0; i < l->cfg.n_nat; i++)
		for (w = 0; w < l->cfg.n_wans; w++)
			if (l->cfg.nat[i].has_ext[w] &&
			    l->cfg.nat[i].ext[w].s_addr == pub)
				return true;
	return false;
}

static bool keep_iface(const struct loader *l, const void *key)
{
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].ifindex == *(const int *)key)
			return true;
	return false;
}

/* The order keeps every intermediate state safe for the packets in
 * flight: a new public address is reachable before its host translates
 * to it; a removed host stops translating (mwan_nat4, then its flows)
 * before its public addresses stop answering (mwan_pub4).
 */
static int sync_nat(struct loader *l)
{
	int nat_fd = MAP_FD(l, nat4), pub_fd = MAP_FD(l, pub4);
	unsigned int i, w;
	int err;

	for (i = 0; i < l->cfg.n_nat; i++) {
		const struct mwan_cfg_nat *n = &l->cfg.nat[i];
		struct mwan_nat4 v = { 0 };
		__u32 key = n->internal.s_addr;

		/* Keep the MAC we already resolved; sync_dynamic refreshes
		 * it.
		 */
		bpf_map_lookup_elem(nat_fd, &key, &v);
		memset(v.ext, 0, sizeof(v.ext));
		if (v.lan != n->lan) { /* another LAN: another MAC */
			v.lan = n->lan;
			v.has_mac = 0;
			memset(v.mac, 0, sizeof(v.mac));
		}
		for (w = 0; w < l->cfg.n_wans; w++) {
			struct mwan_pub4 p = { .internal = key, .wan = w };

			if (!n->has_ext[w])
				continue;
			v.ext[w] = n->ext[w].s_addr;
			err = map_put_new(pub_fd, &v.ext[w], &p, sizeof(p),
					  "mwan_pub4");
			if (err)
				return err;
		}
		err = map_put_new(nat_fd, &key, &v, sizeof(v), "mwan_nat4");
		if (err)
			return err;
	}
	map_prune(nat_fd, sizeof(__u32), keep_nat, l);
	flows_prune(l);
	map_prune(pub_fd, sizeof(__u32), keep_pub, l);
	return 0;
}

/* mwan_tx follows each interface's current index; a gone interface has
 * none and its old entry is pruned. (mwan_cfg.wan_ifindex follows in the
 * resync that every interface change triggers.)
 */
int sync_ifaces(struct loader *l)
{
	int tx_fd = MAP_FD(l, tx);
	unsigned int n;
	int err;

	for (n = 0; n < l->n_ifaces; n++) {
		__u32 idx = l->ifaces[n].ifindex;

		if (l->ifaces[n].ifindex <= 0)
			continue;
		err = map_put(tx_fd, &idx, &idx, "mwan_tx");
		if (err)
			return err;
	}
	map_prune(tx_fd, sizeof(__u32), keep_iface, l);
	return 0;
}

static int sync_names(struct loader *l)
{
	int fd = MAP_FD(l, names);
	__u32 w;
	int err;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		struct mwan_name v = { { 0 } };

		if (w < l->cfg.n_wans)
			snprintf(v.name, sizeof(v.name), "%s",
				 l->cfg.wans[w].name);
		err = map_put(fd, &w, &v, "mwan_names");
		if (err)
			return err;
	}
	return 0;
}

/* One family's entries of a filter list into its LPM map; entries of
 * an earlier config go.
 */
static void prune_unseen(int fd, void *seen, size_t n, size_t size);

static int put_filter(int fd, const char *what, int family, bool ingress,
		      const struct mwan_filter_rule *r, size_t n)
{
	struct mwan_bypass6_key seen[MWAN_FILTER_RULES_MAX];
	size_t alen = family == AF_INET ? 4 : 16;
	size_t ksize = sizeof(__u32) + alen, i, ns = 0;
	int err;

	for (i = 0; i < n; i++) {
		struct mwan_bypass6_key k = { .prefixlen = r[i].plen };
		struct mwan_ingress in = { .kind = r[i].value };
		struct mwan_egress eg = { .wans = r[i].value };

		if (r[i].family != family)
			continue;
		memcpy(k.addr, r[i].addr, alen);
		err = map_put(fd, &k, ingress ? (void *)&in : (void *)&eg,
			      what);
		if (err)
			return err;
		memcpy((unsigned char *)seen + ns++ * ksize, &k, ksize);
	}
	prune_unseen(fd, seen, ns, ksize);
	return 0;
}

/* ingress_filter and allow_sources (lib/filter.c says which entries). */
static int sync_filters(struct loader *l)
{
	static struct mwan_filter_rule r[MWAN_FILTER_RULES_MAX];
	size_t n = mwan_ingress_rules(&l->cfg, r);
	int err;

	err = put_filter(MAP_FD(l, ingress4), MWAN_MAP(ingress4)->name, AF_INET,
			 true, r, n);
	if (!err)
		err = put_filter(MAP_FD(l, ingress6), MWAN_MAP(ingress6)->name,
				 AF_INET6, true, r, n);
	n = mwan_egress_rules(&l->cfg, r);
	if (!err)
		err = put_filter(MAP_FD(l, egress4), MWAN_MAP(egress4)->name,
				 AF_INET, false, r, n);
	if (!err)
		err = put_filter(MAP_FD(l, egress6), MWAN_MAP(egress6)->name,
				 AF_INET6, false, r, n);
	return err;
}

/* What never changes while this config is in force. */
int sync_static(struct loader *l)
{
	int err = sync_names(l);

	if (!err)
		err = sync_filters(l);

	if (!err)
		err = sync_ifaces(l);
	if (!err)
		err = sync_nat(l);
	return err;
}

static int sync_host_macs(struct loader *l)
{
	int fd = MAP_FD(l, nat4);
	unsigned int i;

	for (i = 0; i < l->cfg.n_nat; i++) {
		__u32 key = l->cfg.nat[i].internal.s_addr;
		int lan = dp_lan(l, l->cfg.nat[i].lan)->ifindex;
		struct mwan_nat4 v, old;

		if (bpf_map_lookup_elem(fd, &key, &old))
			continue;
		v = old;
		v.has_mac = !nlc_neigh(l->nl, lan, AF_INET, &key, v.mac);
		if (!v.has_mac) {
			memset(v.mac, 0, sizeof(v.mac));
			nlc_neigh_resolve(l->nl, lan, AF_INET, &key);
		}
		if (!memcmp(&v, &old, sizeof(v)))
			continue;
		if (map_put(fd, &key, &v, "mwan_nat4"))
			return -1;
	}
	return 0;
}

struct local_walk {
	int fd;
	__u32 seen[MWAN_MAX_LOCAL];
	unsigned int n;
};

static void add_local(__u32 addr, int ifindex, void *arg)
{
	struct local_walk *lw = arg;
	struct mwan_local4 v = { .ifindex = ifindex };

	if (lw->n >= MWAN_MAX_LOCAL)
		return;
	lw->seen[lw->n++] = addr;
	bpf_map_update_elem(lw->fd, &addr, &v, BPF_ANY);
}

static int sync_local(struct loader *l)
{
	struct local_walk lw = { .fd = MAP_FD(l, local4) };
	__u32 key, next;
	bool first = true;
	unsigned int i;

	nlc_for_each_addr4(l->nl, add_local, &lw);
	while (!bpf_map_get_next_key(lw.fd, first ? NULL : &key, &next)) {
		bool found = false;

		first = false;
		key = next;
		for (i = 0; i < lw.n; i++)
			found |= lw.seen[i] == key;
		if (!found)
			bpf_map_delete_elem(lw.fd, &key);
	}
	return 0;
}

struct bypass_walk {
	struct loader *l;
	int fd;
	struct mwan_bypass4_key seen[MWAN_MAX_BYPASS];
	unsigned int n;
};

static bool is_wan_ifindex(const struct loader *l, int ifindex)
{
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].wan >= 0 && l->ifaces[n].ifindex == ifindex)
			return true;
	return false;
}

static void add_bypass(__u32 dst, unsigned int plen, int oif, void *arg)
{
	struct bypass_walk *bw = arg;
	struct mwan_bypass4_key k = { .prefixlen = plen, .addr = dst };
	struct mwan_bypass4 v = { .ifindex = oif };

	if (is_wan_ifindex(bw->l, oif) || bw->n >= MWAN_MAX_BYPASS)
		return;
	bw->seen[bw->n++] = k;
	bpf_map_update_elem(bw->fd, &k, &v, BPF_ANY);
}

/* Destinations the main table sends somewhere other than a WAN stay the
 * kernel's: a tunnel or another internal network must not be NATed out of
 * a WAN.
 */
static int sync_bypass(struct loader *l)
{
	static struct bypass_walk bw;
	struct mwan_bypass4_key key, next;
	bool first = true;
	unsigned int i;

	bw.l = l;
	bw.fd = MAP_FD(l, bypass4);
	bw.n = 0;
	nlc_for_each_route4(l->nl, add_bypass, &bw);
	while (!bpf_map_get_next_key(bw.fd, first ? NULL : &key, &next)) {
		bool found = false;

		first = false;
		key = next;
		for (i = 0; i < bw.n && !found; i++)
			found = !memcmp(&bw.seen[i], &key, sizeof(key));
		if (!found)
			bpf_map_delete_elem(bw.fd, &key);
	}
	return 0;
}

/* ---- IPv6: LAN neighbours, local addresses, bypass routes ---- */

static int key_cmp(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(const size_t *)size);
}

static bool sorted_has(const unsigned char *set, size_t n, size_t size,
		       const void *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(set + mid * size, key, size);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Deletes the keys of a hash or LPM map that are not among the n keys
 * of seen (sorted here). Keys are collected first: deleting during the
 * walk would restart it.
 */
static void prune_unseen(int fd, void *seen, size_t n, size_t size)
{
	unsigned char key[64], next[64], *del = NULL, *tmp;
	size_t nd = 0, cap = 0, i;
	bool first = true;

	qsort_r(seen, n, size, key_cmp, &size);
	while (!bpf_map_get_next_key(fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, size);
		if (sorted_has(seen, n, size, key))
			continue;
		if (nd == cap) {
			cap = cap ? 2 * cap : 64;
			tmp = reallocarray(del, cap, size);
			if (!tmp)
				break;
			del = tmp;
		}
		memcpy(del + nd++ * size, key, size);
	}
	for (i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, del + i * size);
	free(del);
}

struct neigh6_walk {
	const struct loader *l;
	int fd;
	struct in6_addr_raw seen[MWAN_MAX_NEIGH6];
	unsigned int n;
};

static void add_neigh6(const __u8 *addr, const __u8 *mac, void *arg)
{
	struct neigh6_walk *nw = arg;
	struct mwan_neigh6 v;
	struct in6_addr_raw k;

	memset(&v, 0, sizeof(v));
	if (nw->n >= MWAN_MAX_NEIGH6 || !mwan_config_in_lan6(&nw->l->cfg, addr))
		return;
	memcpy(k.a, addr, sizeof(k.a));
	memcpy(v.mac, mac, sizeof(v.mac));
	nw->seen[nw->n++] = k;
	(void)map_put_new(nw->fd, &k, &v, sizeof(v), "mwan_neigh6");
}

/* LAN hosts' MACs for the IPv6 fast path: every usable neighbour on the
 * LAN interface inside lan.ipv6, as the kernel learns them.
 */
static int sync_neigh6(struct loader *l)
{
	static struct neigh6_walk nw;

	nw.l = l;
	nw.fd = MAP_FD(l, neigh6);
	nw.n = 0;
	if (l->cfg.has_lan6)
		nlc_for_each_neigh6(l->nl, dp_lan(l, l->cfg.lan6)->ifindex,
				    add_neigh6, &nw);
	prune_unseen(nw.fd, nw.seen, nw.n, sizeof(nw.seen[0]));
	return 0;
}

struct local6_walk {
	int fd;
	struct in6_addr_raw seen[MWAN_MAX_LOCAL];
	unsigned int n;
};

static void add_local6(const __u8 *addr, int ifindex, void *arg)
{
	struct local6_walk *lw = arg;
	struct mwan_local4 v = { .ifindex = ifindex };
	struct in6_addr_raw k;

	if (lw->n >= MWAN_MAX_LOCAL)
		return;
	memcpy(k.a, addr, sizeof(k.a));
	lw->seen[lw->n++] = k;
	(void)map_put_new(lw->fd, &k, &v, sizeof(v), "mwan_local6");
}

static int sync_local6(struct loader *l)
{
	static struct local6_walk lw;

	lw.fd = MAP_FD(l, local6);
	lw.n = 0;
	nlc_for_each_addr6(l->nl, add_local6, &lw);
	prune_unseen(lw.fd, lw.seen, lw.n, sizeof(lw.seen[0]));
	return 0;
}

struct bypass6_walk {
	const struct loader *l;
	int fd;
	struct mwan_bypass6_key seen[MWAN_MAX_BYPASS];
	unsigned int n;
};

static void add_bypass6(const __u8 *dst, unsigned int plen, int oif, void *arg)
{
	struct bypass6_walk *bw = arg;
	struct mwan_bypass6_key k = { .prefixlen = plen };
	struct mwan_bypass4 v = { .ifindex = oif };

	if (is_wan_ifindex(bw->l, oif) || bw->n >= MWAN_MAX_BYPASS)
		return;
	memcpy(k.addr, dst, sizeof(k.addr));
	bw->seen[bw->n++] = k;
	(void)map_put_new(bw->fd, &k, &v, sizeof(v), "mwan_bypass6");
}

/* As sync_bypass, for IPv6: what the main table routes elsewhere than a
 * WAN (the default route, link-local and multicast are left out).
 */
static int sync_bypass6(struct loader *l)
{
	static struct bypass6_walk bw;

	bw.l = l;
	bw.fd = MAP_FD(l, bypass6);
	bw.n = 0;
	nlc_for_each_route6(l->nl, add_bypass6, &bw);
	prune_unseen(bw.fd, bw.seen, bw.n, sizeof(bw.seen[0]));
	return 0;
}

static void cfg_lan(struct loader *l, unsigned int k, struct mwan_lan *v)
{
	const struct mwan_cfg_lan *c = &l->cfg.lans[k];
	struct nlc_link_info link;

	v->ifindex = dp_lan(l, k)->ifindex > 0 ? dp_lan(l, k)->ifindex : 0;
	v->net4 = c->net4.s_addr;
	v->mask4 = c->plen4 ? htonl(~0U << (32 - c->plen4)) : 0;
	v->xdp_tx = attach_xdp_tx(dp_lan(l, k));
	if (!nlc_link(l->nl, c->ifname, &link) && link.exists) {
		v->mtu = link.mtu;
		memcpy(v->mac, link.mac, 6);
	}
}

static int sync_cfg(struct loader *l)
{
	struct mwan_cfg v = { 0 };
	unsigned int n;

	v.layout_version = MWAN_LAYOUT_VERSION;
	v.fast_path = l->cfg.fast_path;
	v.n_lans = l->cfg.n_lans;
	/* free slots match no address (see in_lan4) */
	for (n = 0; n < MWAN_MAX_LANS; n++)
		v.lan[n].net4 = 0xffffffff;
	for (n = 0; n < l->cfg.n_lans; n++)
		cfg_lan(l, n, &v.lan[n]);
	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].wan >= 0 && l->ifaces[n].ifindex > 0)
			v.wan_ifindex[l->ifaces[n].wan] = l->ifaces[n].ifindex;
	if (l->cfg.has_lan6) {
		memcpy(v.lan_net6, &l->cfg.lan_net6, 16);
		v.lan_plen6 = l->cfg.lan_plen6;
		v.lan6 = l->cfg.lan6;
	}
	v.ready = 1;
	return publish_cfg(l, &v);
}

/* What follows the system: links, neighbours, addresses (the WANs and
 * their steering tables in wanstate.c). Run at start, on every netlink
 * change and once a second.
 */
int sync_dynamic(struct loader *l)
{
	int err = wanstate_sync(l);

	if (!err)
		err = sync_host_macs(l);
	if (!err)
		err = sync_local(l);
	if (!err)
		err = sync_bypass(l);
	if (!err)
		err = sync_neigh6(l);
	if (!err)
		err = sync_local6(l);
	if (!err)
		err = sync_bypass6(l);
	if (!err)
		err = sync_cfg(l);
	return err;
}
