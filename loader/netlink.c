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
	bool changed;
};

static void cache_changed(struct nl_cache *cache, struct nl_object *obj,
			  int action, void *arg)
{
	struct netlink_state *nl = arg;

	(void)cache;
	(void)obj;
	(void)action;
	nl->changed = true;
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

int nlw_link(struct loader *l, const char *name, struct nlw_link_info *out)
{
	struct rtnl_link *link = rtnl_link_get_by_name(l->nl->links, name);
	struct nl_addr *mac;

	memset(out, 0, sizeof(*out));
	if (!link)
		return 0;
	out->exists = true;
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

int nlw_neigh4(struct loader *l, int ifindex, __u32 addr_be,
	       unsigned char mac[6])
{
	struct nl_addr *dst = nl_addr_build(AF_INET, &addr_be, 4);
	struct rtnl_neigh *n;
	struct nl_addr *ll;
	int ret = -ENOENT;

	if (!dst)
		return -ENOMEM;
	n = rtnl_neigh_get(l->nl->neighs, ifindex, dst);
	nl_addr_put(dst);
	if (!n)
		return -ENOENT;
	ll = rtnl_neigh_get_lladdr(n);
	if (neigh_usable(rtnl_neigh_get_state(n)) && ll &&
	    nl_addr_get_len(ll) == 6) {
		memcpy(mac, nl_addr_get_binary_addr(ll), 6);
		ret = 0;
	}
	rtnl_neigh_put(n);
	return ret;
}

/* Ask the kernel to resolve a neighbour now, as if a packet were waiting
 * for it (NTF_USE), so the fast path does not have to wait for the first
 * slow-path packet of some flow. Sends nothing itself.
 */
int nlw_neigh4_resolve(struct loader *l, int ifindex, __u32 addr_be)
{
	struct nl_addr *dst = nl_addr_build(AF_INET, &addr_be, 4);
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	int err = -ENOMEM;

	if (dst && n) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_family(n, AF_INET);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_flags(n, NTF_USE);
		err = rtnl_neigh_add(l->nl->cmd, n, NLM_F_CREATE | NLM_F_REPLACE);
		if (err)
			log_debug("neighbour resolve on ifindex %d: %s", ifindex,
				  nl_geterror(err));
	}
	nl_addr_put(dst);
	rtnl_neigh_put(n);
	return err ? -EIO : 0;
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

	nl_cache_foreach(l->nl->addrs, addr_visit, &w);
	*addr_be = w.found ? w.first : 0;
	return w.found ? 0 : -ENOENT;
}

int nlw_for_each_addr4(struct loader *l, void (*fn)(__u32, int, void *),
		       void *arg)
{
	struct addr_walk w = { .fn = fn, .arg = arg };

	nl_cache_foreach(l->nl->addrs, addr_visit, &w);
	return 0;
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

/* ---- policy routing ---- */

static struct rtnl_rule *rule_new(uint32_t prio, uint32_t table)
{
	struct rtnl_rule *r = rtnl_rule_alloc();

	if (!r)
		return NULL;
	rtnl_rule_set_family(r, AF_INET);
	rtnl_rule_set_prio(r, prio);
	rtnl_rule_set_table(r, table);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	return r;
}

static int rule_lan(struct loader *l, struct rtnl_rule **out)
{
	struct nl_addr *dst = nl_addr_build(AF_INET, &l->cfg.lan_net4, 4);
	struct rtnl_rule *r = rule_new(MWAN_RULE_PRIO, RT_TABLE_MAIN);

	if (!dst || !r) {
		nl_addr_put(dst);
		rtnl_rule_put(r);
		return -ENOMEM;
	}
	nl_addr_set_prefixlen(dst, l->cfg.lan_plen4);
	rtnl_rule_set_dst(r, dst);
	nl_addr_put(dst);
	*out = r;
	return 0;
}

static struct rtnl_rule *rule_wan(unsigned int w)
{
	struct rtnl_rule *r =
		rule_new(MWAN_RULE_PRIO + 1 + w, MWAN_TABLE_BASE + w);

	if (r) {
		rtnl_rule_set_mark(r, MWAN_FWMARK_BASE + w);
		rtnl_rule_set_mask(r, 0xffffffff);
	}
	return r;
}

static struct rtnl_route *route_wan(struct loader *l, unsigned int w)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *any = nl_addr_build(AF_INET, "\0\0\0\0", 4);
	struct nl_addr *gw = nl_addr_build(AF_INET, &l->cfg.wans[w].gw4, 4);

	if (!rt || !nh || !any || !gw) {
		rtnl_route_put(rt);
		rtnl_route_nh_free(nh);
		nl_addr_put(any);
		nl_addr_put(gw);
		return NULL;
	}
	nl_addr_set_prefixlen(any, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, MWAN_TABLE_BASE + w);
	rtnl_route_set_dst(rt, any);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_nh_set_ifindex(nh, l->ifaces[1 + w].ifindex);
	rtnl_route_add_nexthop(rt, nh);
	nl_addr_put(any);
	nl_addr_put(gw);
	return rt;
}

/* Remove whatever a previous run left at our priorities and tables, so a
 * restart after a crash starts clean.
 */
void nlw_routing_remove(struct loader *l)
{
	struct rtnl_rule *r;
	unsigned int w;

	if (!l->nl || !l->nl->cmd)
		return;
	if (!rule_lan(l, &r)) {
		while (!rtnl_rule_delete(l->nl->cmd, r, 0))
			;
		rtnl_rule_put(r);
	}
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		struct rtnl_route *rt;

		r = rule_wan(w);
		if (r) {
			while (!rtnl_rule_delete(l->nl->cmd, r, 0))
				;
			rtnl_rule_put(r);
		}
		if (w >= l->cfg.n_wans)
			continue;
		rt = route_wan(l, w);
		if (rt) {
			rtnl_route_delete(l->nl->cmd, rt, 0);
			rtnl_route_put(rt);
		}
	}
	l->routing_installed = false;
}

static int route_add(struct loader *l, unsigned int w)
{
	struct rtnl_route *rt = route_wan(l, w);
	int err;

	if (!rt)
		return -ENOMEM;
	err = rtnl_route_add(l->nl->cmd, rt, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	if (err)
		log_err("wan %s: cannot add default route via its gateway in table %u: %s",
			l->cfg.wans[w].name, MWAN_TABLE_BASE + w,
			nl_geterror(err));
	return err ? -EIO : 0;
}

/* The kernel flushes routes through a device that goes admin-down; put
 * ours back whenever links change.
 */
int nlw_routing_refresh(struct loader *l)
{
	unsigned int w;
	int err = 0;

	if (!l->routing_installed)
		return 0;
	for (w = 0; w < l->cfg.n_wans; w++) {
		struct rtnl_route *rt = route_wan(l, w);

		if (!rt)
			return -ENOMEM;
		/* Failure is normal while the link is down. */
		if (rtnl_route_add(l->nl->cmd, rt,
				   NLM_F_CREATE | NLM_F_REPLACE))
			err = -EAGAIN;
		rtnl_route_put(rt);
	}
	return err;
}

int nlw_routing_install(struct loader *l)
{
	struct rtnl_rule *r;
	unsigned int w;
	int err;

	nlw_routing_remove(l);
	err = rule_lan(l, &r);
	if (err)
		return err;
	err = rtnl_rule_add(l->nl->cmd, r, NLM_F_CREATE);
	rtnl_rule_put(r);
	for (w = 0; !err && w < l->cfg.n_wans; w++) {
		err = route_add(l, w);
		if (err)
			return err;
		r = rule_wan(w);
		if (!r)
			return -ENOMEM;
		err = rtnl_rule_add(l->nl->cmd, r, NLM_F_CREATE);
		rtnl_rule_put(r);
	}
	if (err) {
		log_err("cannot add policy routing rule: %s", nl_geterror(err));
		return -EIO;
	}
	l->routing_installed = true;
	log_info("policy routing: fwmark 0x%x.. -> tables %u..",
		 MWAN_FWMARK_BASE, MWAN_TABLE_BASE);
	return 0;
}
