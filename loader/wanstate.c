/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_wans, mwan_admin and mwan_steer: each WAN's state, the operator's override, the steering tables (their one writer). */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "loader.h"
#include "attach.h"
#include "nlcache.h"
#include "routing.h"
#include "log.h"
#include "mapio.h"
#include "probe.h"
#include "publish.h"
#include "wanstate.h"
#include "../lib/steer.h"
#include "../lib/steermap.h"
#include "../lib/syscheck.h"

/* Every change below ends here: the datapath reads only mwan_steer for a
 * new flow, so a WAN that went down takes no new flow from now on, and
 * its flows move on their next packet.
 */
static int resteer(struct loader *l, const char *why)
{
	__u32 live = publish_steer_half(l);
	bool changed;
	int err;

	/* the other half may still be read by a packet of the last flip */
	publish_grace(l);
	err = mwan_steer_prepare(MAP_FD(l, wans), MAP_FD(l, admin),
				 MAP_FD(l, steer), live, &changed);
	if (!err && changed)
		err = publish_steer(l, live ^ 1);
	if (err)
		log_err("%s: cannot update the steering tables: %s", why,
			strerror(-err));
	return err;
}

/* Why the kernel cannot route WAN w's IPv4 traffic now (v: the rest of
 * its entry, filled from the system; was: the bits of the last sync). A
 * gateway whose ARP failed stays blocked while the kernel asks again,
 * until it answers.
 */
static __u8 wan_blocked(struct loader *l, unsigned int w,
			const struct mwan_wan *v, __u8 was)
{
	int ifindex = dp_wan(l, w)->ifindex, all, dev;
	bool incomplete;
	__u8 b = 0;

	/* both refused at start (lib/syscheck.c); turned on since */
	if (mwan_sysctl_int("/proc/sys/net/ipv4/ip_forward") == 0)
		b |= MWAN_WAN_BLOCK_NO_FORWARDING;
	if (mwan_rp_filter(l->cfg.wans[w].ifname, &all, &dev) == 1)
		b |= MWAN_WAN_BLOCK_RP_STRICT;
	if (!v->addr4)
		b |= MWAN_WAN_BLOCK_NO_ADDR;
	else if (!nlc_addr4_onlink(l->nl, ifindex, v->gw4))
		b |= MWAN_WAN_BLOCK_GW_OFFLINK;
	if (l->route4_err[w])
		b |= MWAN_WAN_BLOCK_NO_ROUTE;
	if (!(v->flags & (MWAN_WAN_NEIGH4 | MWAN_WAN_L3)) &&
	    (nlc_neigh_failed(l->nl, ifindex, AF_INET, &v->gw4, &incomplete) ||
	     (incomplete && (was & MWAN_WAN_BLOCK_GW_FAILED))))
		b |= MWAN_WAN_BLOCK_GW_FAILED;
	return b;
}

static void wan_from_system(struct loader *l, unsigned int w,
			    struct mwan_wan *v, __u8 was_blocked)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	const struct dp_iface *i = dp_wan(l, w);
	struct nlc_link_info link;

	memset(v, 0, sizeof(*v));
	v->flags = MWAN_WAN_CONFIGURED;
	if (attach_xdp_tx(i))
		v->flags |= MWAN_WAN_XDP_TX;
	if (i->l3)
		v->flags |= MWAN_WAN_L3;
	v->ifindex = i->ifindex;
	v->fwmark = MWAN_FWMARK_BASE + w;
	v->gw4 = c->gw4.s_addr;
	v->weight = c->weight;
	v->tier = c->tier;
	/* The prober's verdict; without probe targets it follows the link */
	v->health = probe_health(l, w);
	if (c->has_gw6)
		memcpy(v->gw6, &c->gw6, sizeof(v->gw6));
	if (i->ifindex <= 0) {
		/* gone: no link, address or neighbours to look at */
		v->blocked = MWAN_WAN_BLOCK_NO_ADDR | MWAN_WAN_BLOCK_NO_ROUTE;
		return;
	}
	if (!nlc_link(l->nl, c->ifname, &link) && link.exists) {
		if (link.up)
			v->flags |= MWAN_WAN_LINK_UP;
		v->mtu = link.mtu;
		memcpy(v->if_mac, link.mac, 6);
	}
	nlc_first_addr4(l->nl, i->ifindex, &v->addr4);
	if (i->l3) { /* no neighbours: the route is all it takes */
		v->blocked = wan_blocked(l, w, v, was_blocked);
		return;
	}
	if (!nlc_neigh(l->nl, i->ifindex, AF_INET, &v->gw4, v->gw_mac))
		v->flags |= MWAN_WAN_NEIGH4;
	else if (v->flags & MWAN_WAN_LINK_UP)
		nlc_neigh_resolve(l->nl, i->ifindex, AF_INET, &v->gw4);
	v->blocked = wan_blocked(l, w, v, was_blocked);
	if (!c->has_gw6)
		return;
	if (!nlc_neigh(l->nl, i->ifindex, AF_INET6, v->gw6, v->gw6_mac))
		v->flags |= MWAN_WAN_NEIGH6;
	else if (v->flags & MWAN_WAN_LINK_UP)
		nlc_neigh_resolve(l->nl, i->ifindex, AF_INET6, v->gw6);
}

static const char *gw6_state(const struct mwan_wan *v)
{
	static const __u8 none[16];

	if (!memcmp(v->gw6, none, sizeof(none)))
		return "none";
	return v->flags & MWAN_WAN_NEIGH6 ? "resolved" : "unresolved";
}

static int write_wans(struct loader *l)
{
	int fd = MAP_FD(l, wans);
	__u32 w;
	int err;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		struct mwan_wan v = { 0 }, old = { 0 };
		bool have = !bpf_map_lookup_elem(fd, &w, &old);
		char why[128];

		if (w < l->cfg.n_wans)
			wan_from_system(l, w, &v, old.blocked);
		if (have && !memcmp(&old, &v, sizeof(v)))
			continue;
		if (w < l->cfg.n_wans) {
			mwan_wan_block_str(v.blocked, why, sizeof(why));
			log_info("wan %s: link %s, gateway %s, gateway6 %s%s%s",
				 l->cfg.wans[w].name,
				 v.flags & MWAN_WAN_LINK_UP ? "up" : "down",
				 v.flags & MWAN_WAN_NEIGH4 ? "resolved" :
				 v.flags & MWAN_WAN_L3	   ? "point-to-point" :
							     "unresolved",
				 gw6_state(&v), v.blocked ? "; blocked: " : "",
				 why);
		}
		err = map_put(fd, &w, &v, "mwan_wans");
		if (err)
			return err;
	}
	return 0;
}

int wanstate_sync(struct loader *l)
{
	int err = write_wans(l);

	return err ? err : resteer(l, "resync");
}

int wanstate_set_health(struct loader *l, unsigned int w, __u32 health)
{
	int fd = MAP_FD(l, wans), err;
	__u32 key = w;
	struct mwan_wan v;

	/* not written yet at start: write_wans takes probe_health() then */
	if (bpf_map_lookup_elem(fd, &key, &v) || !mwan_wan_configured(&v) ||
	    v.health == health)
		return 0;
	v.health = health;
	err = map_put(fd, &key, &v, MWAN_MAP(wans)->name);
	return err ? err : resteer(l, l->cfg.wans[w].name);
}

int wanstate_set_admin(struct loader *l, unsigned int w, __u32 admin)
{
	__u32 key = w, old = MWAN_ADMIN_AUTO;
	int fd = MAP_FD(l, admin), err;

	if (w >= l->cfg.n_wans)
		return -EINVAL;
	bpf_map_lookup_elem(fd, &key, &old);
	err = map_put(fd, &key, &admin, MWAN_MAP(admin)->name);
	if (err)
		return err;
	if (old != admin)
		log_info("wan %s: admin %s (was %s)", l->cfg.wans[w].name,
			 mwan_admin_name(admin), mwan_admin_name(old));
	return resteer(l, l->cfg.wans[w].name);
}
