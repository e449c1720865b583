/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libnl-3: link/address/neighbour caches kept live, and policy routing. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "loader.h"
#include "log.h"

struct netlink_state {
	struct nl_sock *cmd; /* requests: rules and routes */
	struct nl_cache_mngr *mngr;
	struct nl_cache *links;
	struct nl_cache *addrs;
	struct nl_cache *neighs;
	struct nl_cache *routes;
	struct nl_cache *netconf; /* forwarding sysctls: only the news */
	bool changed;
	/* Links deleted since nlw_forget_deleted(): an interface deleted and
	 * created again between two reads may even get its old index back,
	 * without our programs.
	 */
	int deleted[16];
	unsigned int n_deleted;
	bool deleted_overflow;
};

static void cache_changed(struct nl_cache *cache, struct nl_object *obj,
			  int action, void *arg)
{
	struct netlink_state *nl = arg;

	nl->changed = true;
	/* A bridge's AF_BRIDGE messages (port state, VLANs) delete and
	 * replace objects of that family only: the device stays.
	 */
	if (action != NL_ACT_DEL || cache != nl->links ||
	    rtnl_link_get_family((struct rtnl_link *)obj) != AF_UNSPEC)
		return;
	if (nl->n_deleted < sizeof(nl->deleted) / sizeof(nl->deleted[0]))
		nl->deleted[nl->n_deleted++] =
			rtnl_link_get_ifindex((struct rtnl_link *)obj);
	else
		nl->deleted_overflow = true;
}

bool nlw_link_deleted(struct loader *l, int ifindex)
{
	unsigned int i;

	if (!l->nl)
		return false;
	if (l->nl->deleted_overflow)
		return true;
	for (i = 0; i < l->nl->n_deleted; i++)
		if (l->nl->deleted[i] == ifindex)
			return true;
	return false;
}

void nlw_forget_deleted(struct loader *l)
{
	if (!l->nl)
		return;
	l->nl->n_deleted = 0;
	l->nl->deleted_overflow = false;
}

int nlw_open(struct loader *l)
{
	struct netlink_state *nl = calloc(1, sizeof(*nl));
	int err;

	if (!nl)
		return -ENOMEM;
	l->nl = nl;
	nl->cmd = nl_socket_alloc();
	if (!nl->cmd)
		return -ENOMEM;
	err = nl_connect(nl->cmd, NETLINK_ROUTE);
	if (!err)
		err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE,
					  &nl->mngr);
	if (!err)
		err = nl_cache_mngr_add(nl->mngr, "route/link", cache_changed,
					nl, &nl->links);
	if (!err)
		err = nl_cache_mngr_add(nl->mngr, "route/addr", cache_changed,
					nl, &nl->addrs);
	if (!err)
		err = nl_cache_mngr_add(nl->mngr, "route/neigh", cache_changed,
					nl, &nl->neighs);
	if (!err)
		err = nl_cache_mngr_add(nl->mngr, "route/route", cache_changed,
					nl, &nl->routes);
	if (err) {
		log_err("netlink: %s", nl_geterror(err));
		return -EIO;
	}
	/* net.ipv4.ip_forward turned off at run time blocks every WAN
	 * (sync.c); without this cache that is seen at the next change.
	 */
	err = nl_cache_mngr_add(nl->mngr, "route/netconf", cache_changed, nl,
				&nl->netconf);
	if (err)
		log_warn("netlink: no netconf notifications (%s)",
			 nl_geterror(err));
	return 0;
}

void nlw_close(struct loader *l)
{
	struct netlink_state *nl = l->nl;

	if (!nl)
		return;
	if (nl->mngr)
		nl_cache_mngr_free(nl->mngr);
	if (nl->cmd)
		nl_socket_free(nl->cmd);
	free(nl);
	l->nl = NULL;
}

int nlw_fd(struct loader *l)
{
	return nl_cache_mngr_get_fd(l->nl->mngr);
}

/* Returns 1 when a cache changed, 0 when not, -errno when the socket is
 * gone (the caller then resyncs from a fresh one).
 */
int nlw_process(struct loader *l)
{
	int err;

	l->nl->changed = false;
	err = nl_cache_mngr_data_ready(l->nl->mngr);
	if (err < 0) {
		log_warn("netlink: %s", nl_geterror(err));
		return -EIO;
	}
	return l->nl->changed;
}

struct link_find {
	const char *name;
	struct rtnl_link *link;
};

static void link_find_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_link *link = (struct rtnl_link *)obj;
	struct link_find *f = arg;
	const char *name = rtnl_link_get_name(link);

	if (f->link || rtnl_link_get_family(link) != AF_UNSPEC || !name ||
	    strcmp(name, f->name))
		return;
	nl_object_get(obj);
	f->link = link;
}

/* The device itself. The cache also keeps the per-family link objects the
 * kernel announces (AF_INET6 when IPv6 comes up on a new device), with no
 * carrier of their own; libnl 3.7's rtnl_link_get_by_name() may return
 * one of those and call a live link dead. A bridge's AF_BRIDGE messages
 * even take the device's own place in libnl's cache (same index): when
 * the cache has no AF_UNSPEC object by that name, the kernel is asked.
 */
static struct rtnl_link *link_by_name(struct loader *l, const char *name)
{
	struct link_find f = { .name = name };
	struct rtnl_link *link = NULL;

	nl_cache_foreach(l->nl->links, link_find_visit, &f);
	if (f.link)
		return f.link;
	if (rtnl_link_get_kernel(l->nl->cmd, 0, name, &link) < 0)
		return NULL;
	return link;
}

int nlw_link(struct loader *l, const char *name, struct nlw_link_info *out)
{
	struct rtnl_link *link = link_by_name(l, name);
	struct nl_addr *mac;

	memset(out, 0, sizeof(*out));
	if (!link)
		return 0;
	out->exists = true;
	out->ifindex = rtnl_link_get_ifindex(link);
	out->up = (rtnl_link_get_flags(link) & IFF_UP) &&
		  rtnl_link_get_carrier(link);
	out->mtu = rtnl_link_get_mtu(link);
	mac = rtnl_link_get_addr(link);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(mac), 6);
	rtnl_link_put(link);
	return 0;
}

static bool neigh_usable(int state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			NUD_PERMANENT | NUD_NOARP);
}

static size_t family_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* The MAC of a usable neighbour entry, or -ENOENT. */
static int neigh_mac(struct rtnl_neigh *n, unsigned char mac[6])
{
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n);

	if (!neigh_usable(rtnl_neigh_get_state(n)) || !ll ||
	    nl_addr_get_len(ll) != 6)
		return -ENOENT;
	memcpy(mac, nl_addr_get_binary_addr(ll), 6);
	return 0;
}

int nlw_neigh(struct loader *l, int ifindex, int family, const void *addr,
	      unsigned char mac[6])
{
	struct nl_addr *dst = nl_addr_build(family, addr, family_len(family));
	struct rtnl_neigh *n;
	int ret;

	if (!dst)
		return -ENOMEM;
	n = rtnl_neigh_get(l->nl->neighs, ifindex, dst);
	nl_addr_put(dst);
	if (!n)
		return -ENOENT;
	ret = neigh_mac(n, mac);
	rtnl_neigh_put(n);
	return ret;
}

bool nlw_neigh_failed(struct loader *l, int ifindex, int family,
		      const void *addr, bool *incomplete)
{
	struct nl_addr *dst = nl_addr_build(family, addr, family_len(family));
	struct rtnl_neigh *n;
	int state;

	*incomplete = false;
	if (!dst)
		return false;
	n = rtnl_neigh_get(l->nl->neighs, ifindex, dst);
	nl_addr_put(dst);
	if (!n)
		return false;
	state = rtnl_neigh_get_state(n);
	rtnl_neigh_put(n);
	*incomplete = state & NUD_INCOMPLETE;
	return state & NUD_FAILED;
}

/* Ask the kernel to resolve a neighbour now, as if a packet were waiting
 * for it (NTF_USE), so the fast path does not have to wait for the first
 * slow-path packet of some flow. Sends nothing itself.
 */
int nlw_neigh_resolve(struct loader *l, int ifindex, int family,
		      const void *addr)
{
	struct nl_addr *dst = nl_addr_build(family, addr, family_len(family));
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	int err = -ENOMEM;

	if (dst && n) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_family(n, family);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_flags(n, NTF_USE);
		err = rtnl_neigh_add(l->nl->cmd, n,
				     NLM_F_CREATE | NLM_F_REPLACE);
		if (err)
			log_debug("neighbour resolve on ifindex %d: %s",
				  ifindex, nl_geterror(err));
	}
	nl_addr_put(dst);
	rtnl_neigh_put(n);
	return err ? -EIO : 0;
}

struct neigh_walk {
	void (*fn)(const __u8 *, const __u8 *, void *);
	void *arg;
	int ifindex;
};

static void neigh6_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_neigh *n = (struct rtnl_neigh *)obj;
	struct neigh_walk *w = arg;
	struct nl_addr *dst = rtnl_neigh_get_dst(n);
	unsigned char mac[6];

	if (rtnl_neigh_get_family(n) != AF_INET6 ||
	    rtnl_neigh_get_ifindex(n) != w->ifindex || !dst ||
	    nl_addr_get_len(dst) != 16 || neigh_mac(n, mac))
		return;
	w->fn(nl_addr_get_binary_addr(dst), mac, w->arg);
}

int nlw_for_each_neigh6(struct loader *l, int ifindex,
			void (*fn)(const __u8 *, const __u8 *, void *),
			void *arg)
{
	struct neigh_walk w = { .fn = fn, .arg = arg, .ifindex = ifindex };

	nl_cache_foreach(l->nl->neighs, neigh6_visit, &w);
	return 0;
}

struct addr_walk {
	void (*fn)(__u32, int, void *);
	void *arg;
	int only_ifindex;
	bool found;
	__u32 first;
};

static void addr_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	__u32 v;

	if (rtnl_addr_get_family(a) != AF_INET || !local ||
	    nl_addr_get_len(local) != 4)
		return;
	memcpy(&v, nl_addr_get_binary_addr(local), 4);
	if (w->only_ifindex && rtnl_addr_get_ifindex(a) != w->only_ifindex)
		return;
	if (!w->found) {
		w->found = true;
		w->first = v;
	}
	if (w->fn)
		w->fn(v, rtnl_addr_get_ifindex(a), w->arg);
}

int nlw_first_addr4(struct loader *l, int ifindex, __u32 *addr_be)
{
	struct addr_walk w = { .only_ifindex = ifindex };

	/* only_ifindex 0 would mean any interface: a gone one has none */
	if (ifindex > 0)
		nl_cache_foreach(l->nl->addrs, addr_visit, &w);
	*addr_be = w.found ? w.first : 0;
	return w.found ? 0 : -ENOENT;
}

struct onlink_walk {
	int ifindex;
	__u32 addr; /* network order */
	bool found;
};

static void onlink_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct onlink_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	struct nl_addr *peer = rtnl_addr_get_peer(a);
	unsigned int plen = rtnl_addr_get_prefixlen(a);
	__u32 mask = plen ? htonl(~0U << (32 - plen)) : 0, v;

	if (w->found || rtnl_addr_get_family(a) != AF_INET ||
	    rtnl_addr_get_ifindex(a) != w->ifindex)
		return;
	/* a point-to-point address names its peer; else the subnet counts */
	if (peer && nl_addr_get_len(peer) == 4) {
		memcpy(&v, nl_addr_get_binary_addr(peer), 4);
		w->found = ((v ^ w->addr) & mask) == 0;
		return;
	}
	if (!local || nl_addr_get_len(local) != 4)
		return;
	memcpy(&v, nl_addr_get_binary_addr(local), 4);
	w->found = ((v ^ w->addr) & mask) == 0;
}

bool nlw_addr4_onlink(struct loader *l, int ifindex, __u32 addr_be)
{
	struct onlink_walk w = { .ifindex = ifindex, .addr = addr_be };

	if (ifindex > 0)
		nl_cache_foreach(l->nl->addrs, onlink_visit, &w);
	return w.found;
}

int nlw_for_each_addr4(struct loader *l, void (*fn)(__u32, int, void *),
		       void *arg)
{
	struct addr_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(l->nl->addrs, addr_visit, &w);
	return 0;
}

struct addr6_walk {
	void (*fn)(const __u8 *, int, void *);
	void *arg;
};

static void addr6_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr6_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);

	if (rtnl_addr_get_family(a) != AF_INET6 || !local ||
	    nl_addr_get_len(local) != 16)
		return;
	w->fn(nl_addr_get_binary_addr(local), rtnl_addr_get_ifindex(a), w->arg);
}

int nlw_for_each_addr6(struct loader *l, void (*fn)(const __u8 *, int, void *),
		       void *arg)
{
	struct addr6_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(l->nl->addrs, addr6_visit, &w);
	return 0;
}

struct addr6_pick {
	int ifindex;
	bool found, preferred;
	struct in6_addr addr;
};

/* Tentative or failed addresses cannot be bound; deprecated ones only if
 * nothing better exists.
 */
static void addr6_pick_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr6_pick *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	unsigned int flags = rtnl_addr_get_flags(a);
	bool preferred = !(flags & IFA_F_DEPRECATED);

	if (rtnl_addr_get_family(a) != AF_INET6 ||
	    rtnl_addr_get_ifindex(a) != w->ifindex || !local ||
	    nl_addr_get_len(local) != 16 ||
	    rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
	    (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ||
	    (w->found && (w->preferred || !preferred)))
		return;
	memcpy(&w->addr, nl_addr_get_binary_addr(local), 16);
	w->found = true;
	w->preferred = preferred;
}

int nlw_global_addr6(struct loader *l, int ifindex, struct in6_addr *out)
{
	struct addr6_pick w = { .ifindex = ifindex };

	if (ifindex > 0)
		nl_cache_foreach(l->nl->addrs, addr6_pick_visit, &w);
	*out = w.addr;
	return w.found ? 0 : -ENOENT;
}

struct route_walk {
	void (*fn)(__u32, unsigned int, int, void *);
	void *arg;
};

static void route_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct route_walk *w = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;
	__u32 v;

	if (rtnl_route_get_family(r) != AF_INET ||
	    rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST || !dst ||
	    nl_addr_get_len(dst) != 4 || !nl_addr_get_prefixlen(dst) ||
	    rtnl_route_get_nnexthops(r) < 1)
		return;
	nh = rtnl_route_nexthop_n(r, 0);
	memcpy(&v, nl_addr_get_binary_addr(dst), 4);
	w->fn(v, nl_addr_get_prefixlen(dst), rtnl_route_nh_get_ifindex(nh),
	      w->arg);
}

int nlw_for_each_route4(struct loader *l,
			void (*fn)(__u32, unsigned int, int, void *), void *arg)
{
	struct route_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(l->nl->routes, route_visit, &w);
	return 0;
}

struct route6_walk {
	void (*fn)(const __u8 *, unsigned int, int, void *);
	void *arg;
};

/* fe80::/10 and ff00::/8 are never routed through a WAN anyway. */
static bool link_local_or_multicast6(const __u8 *a)
{
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

static void route6_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct route6_walk *w = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;
	const __u8 *a;

	if (rtnl_route_get_family(r) != AF_INET6 ||
	    rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST || !dst ||
	    nl_addr_get_len(dst) != 16 || !nl_addr_get_prefixlen(dst) ||
	    rtnl_route_get_nnexthops(r) < 1)
		return;
	a = nl_addr_get_binary_addr(dst);
	if (link_local_or_multicast6(a))
		return;
	nh = rtnl_route_nexthop_n(r, 0);
	w->fn(a, nl_addr_get_prefixlen(dst), rtnl_route_nh_get_ifindex(nh),
	      w->arg);
}

int nlw_for_each_route6(struct loader *l,
			void (*fn)(const __u8 *, unsigned int, int, void *),
			void *arg)
{
	struct route6_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(l->nl->routes, route6_visit, &w);
	return 0;
}

/* ---- policy routing ---- */

static struct rtnl_rule *rule_new(int family, uint32_t prio, uint32_t table)
{
	struct rtnl_rule *r = rtnl_rule_alloc();

	if (!r)
		return NULL;
	rtnl_rule_set_family(r, family);
	rtnl_rule_set_prio(r, prio);
	rtnl_rule_set_table(r, table);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	return r;
}

/* `to LAN lookup main` for LAN k (IPv6: the LAN with ipv6); with k < 0
 * it matches the rule at our priority whatever LAN a previous run had,
 * which is what removal wants.
 */
static struct rtnl_rule *rule_lan(struct loader *l, int family, int k)
{
	struct rtnl_rule *r = rule_new(family, MWAN_RULE_PRIO, RT_TABLE_MAIN);
	struct nl_addr *dst;

	if (!r || k < 0)
		return r;
	if (family == AF_INET) {
		dst = nl_addr_build(AF_INET, &l->cfg.lans[k].net4, 4);
		if (dst)
			nl_addr_set_prefixlen(dst, l->cfg.lans[k].plen4);
	} else {
		dst = nl_addr_build(AF_INET6, &l->cfg.lan_net6, 16);
		if (dst)
			nl_addr_set_prefixlen(dst, l->cfg.lan_plen6);
	}
	if (!dst) {
		rtnl_rule_put(r);
		return NULL;
	}
	rtnl_rule_set_dst(r, dst);
	nl_addr_put(dst);
	return r;
}

struct lan_rule_prune {
	struct loader *l;
	int family;
};

/* Whether rule r is the `to LAN lookup main` of a LAN of this config. */
static bool lan_rule_current(struct loader *l, int family, struct rtnl_rule *r)
{
	struct nl_addr *dst = rtnl_rule_get_dst(r);
	unsigned int k;

	if (!dst)
		return false;
	for (k = 0; k < l->cfg.n_lans; k++) {
		struct rtnl_rule *want = rule_lan(l, family, k);
		bool same = want && !nl_addr_cmp(rtnl_rule_get_dst(want), dst);

		rtnl_rule_put(want);
		if (same)
			return true;
		if (family == AF_INET6)
			break; /* one IPv6 LAN rule */
	}
	return false;
}

static void lan_rule_prune_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_rule *r = (struct rtnl_rule *)obj;
	struct lan_rule_prune *pr = arg;

	if (rtnl_rule_get_family(r) != pr->family ||
	    rtnl_rule_get_prio(r) != MWAN_RULE_PRIO ||
	    rtnl_rule_get_table(r) != RT_TABLE_MAIN ||
	    lan_rule_current(pr->l, pr->family, r))
		return;
	rtnl_rule_delete(pr->l->nl->cmd, r, 0);
}

/* The LAN rules of LANs this config no longer has (another prefix, a
 * LAN removed).
 */
static void lan_rules_prune(struct loader *l, int family)
{
	struct lan_rule_prune pr = { l, family };
	struct nl_cache *rules;

	if (rtnl_rule_alloc_cache(l->nl->cmd, family, &rules))
		return;
	nl_cache_foreach(rules, lan_rule_prune_visit, &pr);
	nl_cache_free(rules);
}

static struct rtnl_rule *rule_wan(int family, unsigned int w)
{
	struct rtnl_rule *r =
		rule_new(family, MWAN_RULE_PRIO + 1 + w, MWAN_TABLE_BASE + w);

	if (r) {
		rtnl_rule_set_mark(r, MWAN_FWMARK_BASE + w);
		rtnl_rule_set_mask(r, 0xffffffff);
	}
	return r;
}

/* The default route of WAN w's table via gw on ifindex. */
static struct rtnl_route *route_default(int family, unsigned int w,
					const void *gw, int ifindex)
{
	static const __u8 zero[16];
	size_t alen = family == AF_INET6 ? 16 : 4;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *any = nl_addr_build(family, zero, alen);
	struct rtnl_nexthop *nh = gw ? rtnl_route_nh_alloc() : NULL;
	struct nl_addr *gwa = gw ? nl_addr_build(family, gw, alen) : NULL;

	if (!rt || !any || (gw && (!nh || !gwa))) {
		rtnl_route_put(rt);
		rtnl_route_nh_free(nh);
		nl_addr_put(any);
		nl_addr_put(gwa);
		return NULL;
	}
	nl_addr_set_prefixlen(any, 0);
	rtnl_route_set_family(rt, family);
	rtnl_route_set_table(rt, MWAN_TABLE_BASE + w);
	rtnl_route_set_dst(rt, any);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	if (nh) {
		rtnl_route_nh_set_gateway(nh, gwa);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_add_nexthop(rt, nh);
	}
	nl_addr_put(any);
	nl_addr_put(gwa);
	return rt;
}

/* The last resort of WAN w's table: `unreachable default metric MAX`.
 * Without it a table whose gateway route is gone (a DHCP lease moved the
 * WAN to another subnet, the link went admin down) is skipped and the
 * packets it should carry fall through to the main table and leave by
 * another WAN, even one that is admin down.
 */
static struct rtnl_route *route_unreachable(int family, unsigned int w)
{
	struct rtnl_route *rt = route_default(family, w, NULL, 0);

	if (rt) {
		rtnl_route_set_type(rt, RTN_UNREACHABLE);
		rtnl_route_set_priority(rt, MWAN_ROUTE_LAST_METRIC);
	}
	return rt;
}

static struct rtnl_route *route_wan(struct loader *l, int family,
				    unsigned int w)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];

	return route_default(family, w,
			     family == AF_INET6 ? (const void *)&c->gw6 :
						  (const void *)&c->gw4,
			     dp_wan(l, w)->ifindex);
}

/* Deletes every copy of a rule (a crashed run may have left several). */
static void rule_delete_all(struct nl_sock *sk, struct rtnl_rule *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < 64 && !rtnl_rule_delete(sk, r, 0); i++)
		;
	rtnl_rule_put(r);
}

struct table_flush {
	struct nl_sock *sk;
	int family; /* AF_UNSPEC: both */
	__u32 table;
	__u32 n_tables;
};

static void table_flush_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct table_flush *f = arg;
	__u32 t = rtnl_route_get_table(r);

	if (t < f->table || t >= f->table + f->n_tables ||
	    (f->family != AF_UNSPEC && rtnl_route_get_family(r) != f->family))
		return;
	rtnl_route_delete(f->sk, r, 0);
}

/* Every route of a family in WAN tables [w, w + n), whatever put it
 * there: a previous run's gateway, an older config's WAN.
 */
static void tables_flush(struct loader *l, int family, unsigned int w,
			 unsigned int n)
{
	struct table_flush f = { l->nl->cmd, family, MWAN_TABLE_BASE + w, n };

	nl_cache_foreach(l->nl->routes, table_flush_visit, &f);
}

/* Remove whatever a previous run left at our priorities and tables, so a
 * restart after a crash starts clean.
 */
void nlw_routing_remove(struct loader *l)
{
	struct nl_sock *sk;
	unsigned int w;

	if (!l->nl || !l->nl->cmd)
		return;
	sk = l->nl->cmd;
	rule_delete_all(sk, rule_lan(l, AF_INET, -1));
	rule_delete_all(sk, rule_lan(l, AF_INET6, -1));
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		rule_delete_all(sk, rule_wan(AF_INET, w));
		rule_delete_all(sk, rule_wan(AF_INET6, w));
	}
	nl_cache_refill(sk, l->nl->routes);
	tables_flush(l, AF_UNSPEC, 0, MWAN_MAX_WANS);
	l->routing_installed = false;
}

/* The state of WAN w's IPv4 route for sync.c: 0 when in place. */
static void route4_record(struct loader *l, unsigned int w, int err)
{
	if (w < MWAN_MAX_WANS)
		l->route4_err[w] = err;
}

static int route_add(struct loader *l, int family, unsigned int w)
{
	struct rtnl_route *rt = route_wan(l, family, w);
	int err;

	if (!rt)
		return -ENOMEM;
	err = rtnl_route_add(l->nl->cmd, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	if (family == AF_INET)
		route4_record(l, w, err ? -EHOSTUNREACH : 0);
	if (err)
		log_warn(
			"wan %s: cannot add %s default route via its gateway in table %u: %s (%s)",
			l->cfg.wans[w].name,
			family == AF_INET ? "IPv4" : "IPv6",
			MWAN_TABLE_BASE + w, nl_geterror(err),
			family == AF_INET ?
				"the WAN carries no new flows until it can" :
				"retried on link changes");
	return err ? -EIO : 0;
}

static int route_add_last(struct loader *l, int family, unsigned int w)
{
	struct rtnl_route *rt = route_unreachable(family, w);
	int err;

	if (!rt)
		return -ENOMEM;
	err = rtnl_route_add(l->nl->cmd, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	if (err)
		log_err("wan %s: cannot add the unreachable route that ends table %u: %s",
			l->cfg.wans[w].name, MWAN_TABLE_BASE + w,
			nl_geterror(err));
	return err ? -EIO : 0;
}

struct route_find {
	int family;
	__u32 table;
	const void *gw; /* NULL: the unreachable route */
	int ifindex;
	bool found;
};

static bool route_find_match(const struct route_find *f, struct rtnl_route *r)
{
	struct rtnl_nexthop *nh;
	struct nl_addr *gw;

	if (!f->gw)
		return rtnl_route_get_type(r) == RTN_UNREACHABLE &&
		       rtnl_route_get_priority(r) == MWAN_ROUTE_LAST_METRIC;
	if (rtnl_route_get_type(r) != RTN_UNICAST ||
	    rtnl_route_get_nnexthops(r) != 1)
		return false;
	nh = rtnl_route_nexthop_n(r, 0);
	gw = rtnl_route_nh_get_gateway(nh);
	return rtnl_route_nh_get_ifindex(nh) == f->ifindex && gw &&
	       nl_addr_get_len(gw) == family_len(f->family) &&
	       !memcmp(nl_addr_get_binary_addr(gw), f->gw,
		       family_len(f->family));
}

static void route_find_visit(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct route_find *f = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);

	if (f->found || rtnl_route_get_family(r) != f->family ||
	    rtnl_route_get_table(r) != f->table || !dst ||
	    nl_addr_get_prefixlen(dst))
		return;
	f->found = route_find_match(f, r);
}

/* Whether WAN w's table already has exactly the default route we want
 * (last: the unreachable one that ends it).
 */
static bool route_present(struct loader *l, int family, unsigned int w,
			  bool last)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	struct route_find f = {
		.family = family,
		.table = MWAN_TABLE_BASE + w,
		.gw = last		 ? NULL :
		      family == AF_INET6 ? (const void *)&c->gw6 :
					   (const void *)&c->gw4,
		.ifindex = dp_wan(l, w)->ifindex,
	};

	nl_cache_foreach(l->nl->routes, route_find_visit, &f);
	return f.found;
}

/* Failure is normal while the link is down. An IPv6 route already there
 * is left alone: replacing one notifies even when nothing changes, and
 * every notification would bring us back here. IPv4 routes are always
 * replaced: the kernel flushes them with the link without a word, so the
 * cache cannot tell, and replacing an identical one is silent.
 */
static int route_refresh(struct loader *l, int family, unsigned int w)
{
	struct rtnl_route *rt;
	int err;

	if (!route_present(l, family, w, true))
		route_add_last(l, family, w);
	if (dp_wan(l, w)->ifindex <= 0) {
		if (family == AF_INET)
			route4_record(l, w, -ENODEV);
		return -EAGAIN; /* the interface is gone */
	}
	if (family == AF_INET6 && route_present(l, family, w, false))
		return 0;
	rt = route_wan(l, family, w);
	if (!rt)
		return -ENOMEM;
	err = rtnl_route_add(l->nl->cmd, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	if (family == AF_INET)
		route4_record(l, w, err ? -EHOSTUNREACH : 0);
	return err ? -EAGAIN : 0;
}

/* The kernel flushes routes through a device that goes admin-down or
 * loses the address its gateway was reached by; put ours back whenever
 * links or addresses change.
 */
int nlw_routing_refresh(struct loader *l)
{
	unsigned int w;
	int err = 0;

	if (!l->routing_installed)
		return 0;
	for (w = 0; w < l->cfg.n_wans; w++) {
		if (route_refresh(l, AF_INET, w))
			err = -EAGAIN;
		if (l->cfg.wans[w].has_gw6 && route_refresh(l, AF_INET6, w))
			err = -EAGAIN;
	}
	return err;
}

static int rule_add(struct loader *l, struct rtnl_rule *r)
{
	int err;

	if (!r)
		return -ENOMEM;
	/* EXCL: an identical rule from a previous run is kept as it is */
	err = rtnl_rule_add(l->nl->cmd, r, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_rule_put(r);
	if (err && err != -NLE_EXIST) {
		log_err("cannot add policy routing rule: %s", nl_geterror(err));
		return -EIO;
	}
	return 0;
}

static int routing_install4(struct loader *l)
{
	unsigned int w;
	int err = 0;

	for (w = 0; !err && w < l->cfg.n_lans; w++)
		err = rule_add(l, rule_lan(l, AF_INET, w));

	/* The table is complete (ended by its unreachable route) before its
	 * rule sends anything there; a gateway route that cannot be added
	 * leaves the WAN blocked (sync.c), not the loader stopped.
	 */
	for (w = 0; !err && w < l->cfg.n_wans; w++) {
		err = route_add_last(l, AF_INET, w);
		if (!err) {
			route_add(l, AF_INET, w);
			err = rule_add(l, rule_wan(AF_INET, w));
		}
	}
	return err;
}

/* Only WANs with a gateway6 carry IPv6; a missing route (the WAN's
 * address still tentative, say) is put back by nlw_routing_refresh.
 */
static int routing_install6(struct loader *l, char *names, size_t len)
{
	size_t off = 0;
	unsigned int w;
	int err = 0;

	names[0] = '\0';
	if (!l->cfg.has_lan6)
		return 0;
	err = rule_add(l, rule_lan(l, AF_INET6, l->cfg.lan6));
	for (w = 0; !err && w < l->cfg.n_wans; w++) {
		if (!l->cfg.wans[w].has_gw6)
			continue;
		err = route_add_last(l, AF_INET6, w);
		if (err)
			break;
		route_add(l, AF_INET6, w);
		err = rule_add(l, rule_wan(AF_INET6, w));
		if (off < len)
			off += snprintf(names + off, len - off, " %s",
					l->cfg.wans[w].name);
	}
	return err;
}

/* What a previous run (or config) had and this one does not. */
static void routing_remove_stale(struct loader *l)
{
	struct nl_sock *sk = l->nl->cmd;
	unsigned int w;

	lan_rules_prune(l, AF_INET);
	if (!l->cfg.has_lan6)
		rule_delete_all(sk, rule_lan(l, AF_INET6, -1));
	else
		lan_rules_prune(l, AF_INET6);
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		if (w >= l->cfg.n_wans || !l->cfg.wans[w].has_gw6 ||
		    !l->cfg.has_lan6) {
			rule_delete_all(sk, rule_wan(AF_INET6, w));
			tables_flush(l, AF_INET6, w, 1);
		}
		if (w >= l->cfg.n_wans) {
			rule_delete_all(sk, rule_wan(AF_INET, w));
			tables_flush(l, AF_INET, w, 1);
		}
	}
}

/* Rules and routes already in place (a restart, a reload) are kept and
 * routes replaced in one step, never removed first: packets the kernel
 * routes by fwmark in the meantime must always find their table.
 */
int nlw_routing_install(struct loader *l)
{
	char names[MWAN_MAX_WANS * (MWAN_NAME_LEN + 1) + 1];
	int err;

	err = routing_install4(l);
	if (!err)
		err = routing_install6(l, names, sizeof(names));
	if (err)
		return err;
	routing_remove_stale(l);
	l->routing_installed = true;
	log_info("policy routing: fwmark 0x%x.. -> tables %u.. (IPv6:%s)",
		 MWAN_FWMARK_BASE, MWAN_TABLE_BASE, names[0] ? names : " none");
	return 0;
}
