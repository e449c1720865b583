/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libnl-3: the link, address, neighbour and route caches, kept live; queries on them. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <net/if.h>
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

#include "log.h"
#include "nlcache.h"

struct nlcache {
	struct nl_sock *cmd; /* requests: rules and routes */
	struct nl_cache_mngr *mngr;
	struct nl_cache *links;
	struct nl_cache *addrs;
	struct nl_cache *neighs;
	struct nl_cache *routes;
	struct nl_cache *netconf; /* forwarding sysctls: only the news */
	bool changed;
	/* Links deleted since nlc_forget_deleted(): an interface deleted and
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
	struct nlcache *nl = arg;

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

bool nlc_link_deleted(struct nlcache *nc, int ifindex)
{
	unsigned int i;

	if (!nc)
		return false;
	if (nc->deleted_overflow)
		return true;
	for (i = 0; i < nc->n_deleted; i++)
		if (nc->deleted[i] == ifindex)
			return true;
	return false;
}

void nlc_forget_deleted(struct nlcache *nc)
{
	if (!nc)
		return;
	nc->n_deleted = 0;
	nc->deleted_overflow = false;
}

int nlc_open(struct nlcache **out)
{
	struct nlcache *nl = calloc(1, sizeof(*nl));
	int err;

	if (!nl)
		return -ENOMEM;
	*out = nl;
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

void nlc_close(struct nlcache *nl)
{
	if (!nl)
		return;
	if (nl->mngr)
		nl_cache_mngr_free(nl->mngr);
	if (nl->cmd)
		nl_socket_free(nl->cmd);
	free(nl);
}

struct nl_sock *nlc_cmd_sock(struct nlcache *nc)
{
	return nc ? nc->cmd : NULL;
}

struct nl_cache *nlc_routes(struct nlcache *nc)
{
	return nc->routes;
}

int nlc_fd(struct nlcache *nc)
{
	return nl_cache_mngr_get_fd(nc->mngr);
}

/* Returns 1 when a cache changed, 0 when not, -errno when the socket is
 * gone (the caller then resyncs from a fresh one).
 */
int nlc_process(struct nlcache *nc)
{
	int err;

	nc->changed = false;
	err = nl_cache_mngr_data_ready(nc->mngr);
	if (err < 0) {
		log_warn("netlink: %s", nl_geterror(err));
		return -EIO;
	}
	return nc->changed;
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
static struct rtnl_link *link_by_name(struct nlcache *nc, const char *name)
{
	struct link_find f = { .name = name };
	struct rtnl_link *link = NULL;

	nl_cache_foreach(nc->links, link_find_visit, &f);
	if (f.link)
		return f.link;
	if (rtnl_link_get_kernel(nc->cmd, 0, name, &link) < 0)
		return NULL;
	return link;
}

int nlc_link(struct nlcache *nc, const char *name, struct nlc_link_info *out)
{
	struct rtnl_link *link = link_by_name(nc, name);
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

size_t nlc_family_len(int family)
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

int nlc_neigh(struct nlcache *nc, int ifindex, int family, const void *addr,
	      unsigned char mac[6])
{
	struct nl_addr *dst =
		nl_addr_build(family, addr, nlc_family_len(family));
	struct rtnl_neigh *n;
	int ret;

	if (!dst)
		return -ENOMEM;
	n = rtnl_neigh_get(nc->neighs, ifindex, dst);
	nl_addr_put(dst);
	if (!n)
		return -ENOENT;
	ret = neigh_mac(n, mac);
	rtnl_neigh_put(n);
	return ret;
}

bool nlc_neigh_failed(struct nlcache *nc, int ifindex, int family,
		      const void *addr, bool *incomplete)
{
	struct nl_addr *dst =
		nl_addr_build(family, addr, nlc_family_len(family));
	struct rtnl_neigh *n;
	int state;

	*incomplete = false;
	if (!dst)
		return false;
	n = rtnl_neigh_get(nc->neighs, ifindex, dst);
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
int nlc_neigh_resolve(struct nlcache *nc, int ifindex, int family,
		      const void *addr)
{
	struct nl_addr *dst =
		nl_addr_build(family, addr, nlc_family_len(family));
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	int err = -ENOMEM;

	if (dst && n) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_family(n, family);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_flags(n, NTF_USE);
		err = rtnl_neigh_add(nc->cmd, n, NLM_F_CREATE | NLM_F_REPLACE);
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

int nlc_for_each_neigh6(struct nlcache *nc, int ifindex,
			void (*fn)(const __u8 *, const __u8 *, void *),
			void *arg)
{
	struct neigh_walk w = { .fn = fn, .arg = arg, .ifindex = ifindex };

	nl_cache_foreach(nc->neighs, neigh6_visit, &w);
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

int nlc_first_addr4(struct nlcache *nc, int ifindex, __u32 *addr_be)
{
	struct addr_walk w = { .only_ifindex = ifindex };

	/* only_ifindex 0 would mean any interface: a gone one has none */
	if (ifindex > 0)
		nl_cache_foreach(nc->addrs, addr_visit, &w);
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

bool nlc_addr4_onlink(struct nlcache *nc, int ifindex, __u32 addr_be)
{
	struct onlink_walk w = { .ifindex = ifindex, .addr = addr_be };

	if (ifindex > 0)
		nl_cache_foreach(nc->addrs, onlink_visit, &w);
	return w.found;
}

int nlc_for_each_addr4(struct nlcache *nc, void (*fn)(__u32, int, void *),
		       void *arg)
{
	struct addr_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(nc->addrs, addr_visit, &w);
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

int nlc_for_each_addr6(struct nlcache *nc,
		       void (*fn)(const __u8 *, int, void *), void *arg)
{
	struct addr6_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(nc->addrs, addr6_visit, &w);
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

int nlc_global_addr6(struct nlcache *nc, int ifindex, struct in6_addr *out)
{
	struct addr6_pick w = { .ifindex = ifindex };

	if (ifindex > 0)
		nl_cache_foreach(nc->addrs, addr6_pick_visit, &w);
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

int nlc_for_each_route4(struct nlcache *nc,
			void (*fn)(__u32, unsigned int, int, void *), void *arg)
{
	struct route_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(nc->routes, route_visit, &w);
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

int nlc_for_each_route6(struct nlcache *nc,
			void (*fn)(const __u8 *, unsigned int, int, void *),
			void *arg)
{
	struct route6_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(nc->routes, route6_visit, &w);
	return 0;
}
