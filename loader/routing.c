/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Policy routing: each WAN's fwmark rule and routing table, the LAN rule, kept current. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "loader.h"
#include "log.h"
#include "nlcache.h"
#include "routing.h"

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
	rtnl_rule_delete(nlc_cmd_sock(pr->l->nl), r, 0);
}

/* The LAN rules of LANs this config no longer has (another prefix, a
 * LAN removed).
 */
static void lan_rules_prune(struct loader *l, int family)
{
	struct lan_rule_prune pr = { l, family };
	struct nl_cache *rules;

	if (rtnl_rule_alloc_cache(nlc_cmd_sock(l->nl), family, &rules))
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
	struct table_flush f = { nlc_cmd_sock(l->nl), family,
				 MWAN_TABLE_BASE + w, n };

	nl_cache_foreach(nlc_routes(l->nl), table_flush_visit, &f);
}

/* Remove whatever a previous run left at our priorities and tables, so a
 * restart after a crash starts clean.
 */
void routing_remove(struct loader *l)
{
	struct nl_sock *sk;
	unsigned int w;

	if (!nlc_cmd_sock(l->nl))
		return;
	sk = nlc_cmd_sock(l->nl);
	rule_delete_all(sk, rule_lan(l, AF_INET, -1));
	rule_delete_all(sk, rule_lan(l, AF_INET6, -1));
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		rule_delete_all(sk, rule_wan(AF_INET, w));
		rule_delete_all(sk, rule_wan(AF_INET6, w));
	}
	nl_cache_refill(sk, nlc_routes(l->nl));
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
	err = rtnl_route_add(nlc_cmd_sock(l->nl), rt,
			     NLM_F_CREATE | NLM_F_REPLACE);
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
	err = rtnl_route_add(nlc_cmd_sock(l->nl), rt,
			     NLM_F_CREATE | NLM_F_REPLACE);
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
	       nl_addr_get_len(gw) == nlc_family_len(f->family) &&
	       !memcmp(nl_addr_get_binary_addr(gw), f->gw,
		       nlc_family_len(f->family));
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

	nl_cache_foreach(nlc_routes(l->nl), route_find_visit, &f);
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
	err = rtnl_route_add(nlc_cmd_sock(l->nl), rt,
			     NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(rt);
	if (family == AF_INET)
		route4_record(l, w, err ? -EHOSTUNREACH : 0);
	return err ? -EAGAIN : 0;
}

/* The kernel flushes routes through a device that goes admin-down or
 * loses the address its gateway was reached by; put ours back whenever
 * links or addresses change.
 */
int routing_refresh(struct loader *l)
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
	err = rtnl_rule_add(nlc_cmd_sock(l->nl), r, NLM_F_CREATE | NLM_F_EXCL);
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
 * address still tentative, say) is put back by routing_refresh.
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
	struct nl_sock *sk = nlc_cmd_sock(l->nl);
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
int routing_install(struct loader *l)
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
