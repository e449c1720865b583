/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config and live system state (links, neighbours, addresses) -> maps. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "../lib/steer.h"
#include "mwan.skel.h"

#define MAP_FD(l, name) bpf_map__fd((l)->skel->maps.name)

static int map_put(int fd, const void *key, const void *val, const char *what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
		int err = -errno;

		log_err("cannot update %s: %s", what, strerror(errno));
		return err;
	}
	return 0;
}

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

static const struct mwan_cfg_nat *nat_of(const struct loader *l, __u32 internal)
{
	unsigned int i;

	for (i = 0; i < l->cfg.n_nat; i++)
		if (l->cfg.nat[i].internal.s_addr == internal)
			return &l->cfg.nat[i];
	return NULL;
}

static bool keep_nat(const struct loader *l, const void *key)
{
	return nat_of(l, *(const __u32 *)key) != NULL;
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

/* A flow whose host lost its mapping, or whose public address changed,
 * must not keep translating with the old one.
 */
static void prune_flows(const struct loader *l)
{
	int fd = MAP_FD(l, mwan_flows);
	struct mwan_flow_key key, next;
	struct mwan_flow f;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		const struct mwan_cfg_nat *n;

		first = false;
		key = next;
		if (key.family != AF_INET || bpf_map_lookup_elem(fd, &key, &f))
			continue;
		n = nat_of(l, key.inner4);
		if (!n || f.wan >= l->cfg.n_wans || !n->has_ext[f.wan] ||
		    n->ext[f.wan].s_addr != f.ext4)
			bpf_map_delete_elem(fd, &key);
	}
}

static int sync_nat(struct loader *l)
{
	int nat_fd = MAP_FD(l, mwan_nat4), pub_fd = MAP_FD(l, mwan_pub4);
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
		for (w = 0; w < l->cfg.n_wans; w++) {
			struct mwan_pub4 p = { .internal = key, .wan = w };

			if (!n->has_ext[w])
				continue;
			v.ext[w] = n->ext[w].s_addr;
			err = map_put(pub_fd, &v.ext[w], &p, "mwan_pub4");
			if (err)
				return err;
		}
		err = map_put(nat_fd, &key, &v, "mwan_nat4");
		if (err)
			return err;
	}
	map_prune(nat_fd, sizeof(__u32), keep_nat, l);
	map_prune(pub_fd, sizeof(__u32), keep_pub, l);
	prune_flows(l);
	return 0;
}

static int sync_ifaces(struct loader *l)
{
	int if_fd = MAP_FD(l, mwan_ifaces), tx_fd = MAP_FD(l, mwan_tx);
	unsigned int n;
	int err;

	for (n = 0; n < l->n_ifaces; n++) {
		const struct dp_iface *i = &l->ifaces[n];
		struct mwan_iface v = {
			.role = i->wan < 0 ? MWAN_ROLE_LAN : MWAN_ROLE_WAN,
			.wan = i->wan < 0 ? 0 : i->wan,
		};
		__u32 idx = i->ifindex;

		err = map_put(if_fd, &idx, &v, "mwan_ifaces");
		if (!err)
			err = map_put(tx_fd, &idx, &idx, "mwan_tx");
		if (err)
			return err;
	}
	map_prune(if_fd, sizeof(__u32), keep_iface, l);
	map_prune(tx_fd, sizeof(__u32), keep_iface, l);
	return 0;
}

static int sync_names(struct loader *l)
{
	int fd = MAP_FD(l, mwan_names);
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

/* What never changes while this config is in force. */
int sync_static(struct loader *l)
{
	int err = sync_names(l);

	if (!err)
		err = sync_ifaces(l);
	if (!err)
		err = sync_nat(l);
	return err;
}

static void wan_from_system(struct loader *l, unsigned int w,
			    struct mwan_wan *v)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	const struct dp_iface *i = &l->ifaces[1 + w];
	struct nlw_link_info link;

	memset(v, 0, sizeof(*v));
	v->flags = MWAN_WAN_CONFIGURED;
	v->ifindex = i->ifindex;
	v->fwmark = MWAN_FWMARK_BASE + w;
	v->gw4 = c->gw4.s_addr;
	v->weight = c->weight;
	v->tier = c->tier;
	/* Until the prober exists (or without probes), health follows the
	 * link alone.
	 */
	v->health = MWAN_HEALTH_UP;
	if (!nlw_link(l, c->ifname, &link) && link.exists) {
		if (link.up)
			v->flags |= MWAN_WAN_LINK_UP;
		v->mtu = link.mtu;
		memcpy(v->if_mac, link.mac, 6);
	}
	nlw_first_addr4(l, i->ifindex, &v->addr4);
	if (!nlw_neigh4(l, i->ifindex, v->gw4, v->gw_mac))
		v->flags |= MWAN_WAN_NEIGH4;
	else if (v->flags & MWAN_WAN_LINK_UP)
		nlw_neigh4_resolve(l, i->ifindex, v->gw4);
}

static int sync_wans(struct loader *l)
{
	int fd = MAP_FD(l, mwan_wans);
	__u32 w;
	int err;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		struct mwan_wan v = { 0 }, old;

		if (w < l->cfg.n_wans)
			wan_from_system(l, w, &v);
		if (!bpf_map_lookup_elem(fd, &w, &old) &&
		    !memcmp(&old, &v, sizeof(v)))
			continue;
		if (w < l->cfg.n_wans)
			log_info("wan %s: link %s, gateway %s",
				 l->cfg.wans[w].name,
				 v.flags & MWAN_WAN_LINK_UP ? "up" : "down",
				 v.flags & MWAN_WAN_NEIGH4 ? "resolved" :
							     "unresolved");
		err = map_put(fd, &w, &v, "mwan_wans");
		if (err)
			return err;
	}
	return 0;
}

static int sync_host_macs(struct loader *l)
{
	int fd = MAP_FD(l, mwan_nat4);
	int lan = l->ifaces[0].ifindex;
	unsigned int i;

	for (i = 0; i < l->cfg.n_nat; i++) {
		__u32 key = l->cfg.nat[i].internal.s_addr;
		struct mwan_nat4 v, old;

		if (bpf_map_lookup_elem(fd, &key, &old))
			continue;
		v = old;
		v.has_mac = !nlw_neigh4(l, lan, key, v.mac);
		if (!v.has_mac) {
			memset(v.mac, 0, sizeof(v.mac));
			nlw_neigh4_resolve(l, lan, key);
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
	struct local_walk lw = { .fd = MAP_FD(l, mwan_local4) };
	__u32 key, next;
	bool first = true;
	unsigned int i;

	nlw_for_each_addr4(l, add_local, &lw);
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

	for (n = 1; n < l->n_ifaces; n++)
		if (l->ifaces[n].ifindex == ifindex)
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
	bw.fd = MAP_FD(l, mwan_bypass4);
	bw.n = 0;
	nlw_for_each_route4(l, add_bypass, &bw);
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

static int sync_cfg(struct loader *l)
{
	struct mwan_cfg v = { 0 };
	struct nlw_link_info link;
	__u32 zero = 0;

	v.layout_version = MWAN_LAYOUT_VERSION;
	v.lan_ifindex = l->ifaces[0].ifindex;
	v.lan_net4 = l->cfg.lan_net4.s_addr;
	v.lan_mask4 = l->cfg.lan_plen4 ? htonl(~0U << (32 - l->cfg.lan_plen4)) :
					 0;
	v.fast_path = l->cfg.fast_path;
	if (!nlw_link(l, l->cfg.lan_ifname, &link) && link.exists) {
		v.lan_mtu = link.mtu;
		memcpy(v.lan_mac, link.mac, 6);
	}
	if (l->cfg.has_lan6) {
		memcpy(v.lan_net6, &l->cfg.lan_net6, 16);
		v.lan_plen6 = l->cfg.lan_plen6;
	}
	v.ready = 1;
	return map_put(MAP_FD(l, mwan_cfg), &zero, &v, "mwan_cfg");
}

/* What follows the system: links, neighbours, addresses; then the
 * steering tables that depend on them. Run at start and on every netlink
 * change.
 */
int sync_dynamic(struct loader *l)
{
	int err = sync_wans(l);

	if (!err)
		err = sync_host_macs(l);
	if (!err)
		err = sync_local(l);
	if (!err)
		err = sync_bypass(l);
	if (!err)
		err = mwan_steer_sync(MAP_FD(l, mwan_wans),
				      MAP_FD(l, mwan_admin),
				      MAP_FD(l, mwan_steer));
	if (!err)
		err = sync_cfg(l);
	return err;
}
