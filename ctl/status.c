/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl status: loader, per-WAN decision inputs and XDP attachments. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfctl.h"
#include "lib/control.h"
#include "lib/metrics.h"
#include "lib/print.h"
#include "lib/rundir.h"
#include "lib/steer.h"

/* A loader that has just taken run_dir may not have written its pid. */
static void print_loader(bool running, pid_t pid)
{
	print_open_object("loader");
	print_bool("running",
		   running ? "loader: running" : "loader: not running",
		   running);
	if (running && pid)
		print_u64("pid", " (pid %" PRIu64 ")\n", pid);
	else
		print_null("pid", "\n");
	print_close_object();
}

static void print_ipv4_or_null(const char *key, const char *fmt, __be32 a)
{
	char buf[INET_ADDRSTRLEN];

	if (a) {
		print_str(key, fmt, ctl_ipv4_str(a, buf));
	} else {
		print_null(key, NULL);
		print_text(fmt, "-");
	}
}

static void print_wan_iface(__u32 ifindex)
{
	char name[IF_NAMESIZE], alt[IF_NAMESIZE + 8];

	if (if_indextoname(ifindex, name)) {
		print_str("interface", "%-15s ", name);
	} else {
		/* gone or in another namespace: the index is all there is */
		print_null("interface", NULL);
		snprintf(alt, sizeof(alt), "#%u", ifindex);
		print_text("%-15s ", alt);
	}
	print_u64("ifindex", NULL, ifindex);
}

static bool has_gw6(const struct mwan_wan *w)
{
	static const __u8 none[16];

	return memcmp(w->gw6, none, sizeof(none)) != 0;
}

/* Whole seconds until an entry expires. */
static __u64 seconds_left(const struct mwan_npt *e)
{
	__u64 now = mwan_mono_ns();

	return e->valid_until_ns > now ?
		       (e->valid_until_ns - now) / 1000000000ULL :
		       0;
}

/* IPv6 fields, JSON only: text shows them in a table of their own. */
static void print_wan6(const struct ctl_wans *wans, const struct ctl_wan *c,
		       const struct ctl_npt *n)
{
	char addr[INET6_ADDRSTRLEN], p[64], mac[18];

	if (has_gw6(&c->w))
		print_str("gateway6", NULL, ctl_ipv6_str(c->w.gw6, addr));
	else
		print_null("gateway6", NULL);
	if (c->w.flags & MWAN_WAN_NEIGH6)
		print_str("gateway6_mac", NULL, ctl_mac_str(c->w.gw6_mac, mac));
	else
		print_null("gateway6_mac", NULL);
	if (!n->valid) {
		print_null("prefix", NULL);
		print_null("external", NULL);
		print_null("prefix_source", NULL);
		print_null("prefix_valid_s", NULL);
		return;
	}
	print_str("prefix", NULL,
		  mwan_prefix_str(n->e.delegated, n->e.delegated_len, p,
				  sizeof(p)));
	print_str("external", NULL,
		  mwan_prefix_str(n->e.ext, wans->cfg.lan_plen6, p, sizeof(p)));
	print_str("prefix_source", NULL,
		  n->e.source == MWAN_NPT_STATIC ? "static" : "pd");
	if (n->e.valid_until_ns)
		print_u64("prefix_valid_s", NULL, seconds_left(&n->e));
	else
		print_null("prefix_valid_s", NULL);
}

/* Every reason the WAN carries no new flows of its own (empty when it
 * may): the operator, the link, the system's routing, the probes. Text
 * gets the system's part, which no other column shows.
 */
static void print_reasons(const struct ctl_wan *c)
{
	char why[128];
	unsigned int bit;

	print_open_array("reasons");
	if (c->admin == MWAN_ADMIN_DOWN)
		print_str(NULL, NULL, "admin down");
	if (c->admin == MWAN_ADMIN_AUTO) {
		if (!(c->w.flags & MWAN_WAN_LINK_UP))
			print_str(NULL, NULL, "link down");
		for (bit = 1; bit <= MWAN_WAN_BLOCK_ALL; bit <<= 1)
			if ((c->w.blocked & bit) && mwan_wan_block_name(bit))
				print_str(NULL, NULL, mwan_wan_block_name(bit));
		if (c->w.health != MWAN_HEALTH_UP)
			print_str(NULL, NULL, "health down");
	}
	print_close_array();
	mwan_wan_block_str(c->w.blocked, why, sizeof(why));
	if (c->w.blocked)
		print_text("  blocked: %s%s", why,
			   c->admin == MWAN_ADMIN_UP ? " (forced up)" : "");
}

static void print_wan(const struct ctl_wans *wans, unsigned int id,
		      const struct ctl_npt *npt, const struct ctl_health *h)
{
	const struct ctl_wan *c = &wans->wan[id];
	char mac[18];

	print_open_object(NULL);
	print_str("name", "%-15s ", c->name);
	print_str("state", "%-5s ", c->carries ? "up" : "down");
	print_str("admin", "%-5s ", mwan_admin_name(c->admin));
	print_str("health", "%-6s ",
		  c->w.health == MWAN_HEALTH_UP ? "up" : "down");
	print_str("link", "%-4s ",
		  c->w.flags & MWAN_WAN_LINK_UP ? "up" : "down");
	print_wan_iface(c->w.ifindex);
	print_u64("weight", "%-6" PRIu64 " ", c->w.weight);
	print_u64("tier", "%-4" PRIu64 " ", c->w.tier);
	print_ipv4_or_null("gateway4", "%-15s ", c->w.gw4);
	if (c->w.flags & MWAN_WAN_NEIGH4)
		print_str("gateway_mac", "%-17s ",
			  ctl_mac_str(c->w.gw_mac, mac));
	else if (c->w.flags & MWAN_WAN_L3)
		print_null("gateway_mac", "none (L3)         ");
	else
		print_null("gateway_mac", "unresolved        ");
	/* no Ethernet header (a tunnel, PPP): the kernel's path only */
	print_bool("l3", NULL, c->w.flags & MWAN_WAN_L3);
	print_u64("fwmark", "0x%" PRIx64, c->w.fwmark);
	print_wan6(wans, c, npt);
	print_bool("usable", NULL, c->usable);
	print_bool("failopen", NULL, wans->failopen && c->carries);
	ctl_health_print_wan(h, id);
	print_reasons(c);
	if (c->usable && !c->carries)
		print_text("  standby");
	else if (wans->failopen && c->carries)
		print_text("  fail-open");
	print_text("\n");
	print_close_object();
}

/* One line of the text-only IPv6 table. */
static void print_wan6_line(const struct ctl_wans *wans,
			    const struct ctl_wan *c, const struct ctl_npt *n)
{
	char gw[INET6_ADDRSTRLEN] = "-", mac[18] = "-", p[64] = "-",
	     x[64] = "-", valid[32] = "-";

	if (has_gw6(&c->w))
		ctl_ipv6_str(c->w.gw6, gw);
	if (c->w.flags & MWAN_WAN_NEIGH6)
		ctl_mac_str(c->w.gw6_mac, mac);
	else if (has_gw6(&c->w))
		snprintf(mac, sizeof(mac), "unresolved");
	if (n->valid) {
		mwan_prefix_str(n->e.delegated, n->e.delegated_len, p,
				sizeof(p));
		mwan_prefix_str(n->e.ext, wans->cfg.lan_plen6, x, sizeof(x));
		if (n->e.valid_until_ns)
			snprintf(valid, sizeof(valid), "%llus",
				 (unsigned long long)seconds_left(&n->e));
		else
			snprintf(valid, sizeof(valid), "forever");
	}
	print_text("%-15s %-25s %-17s %-25s %-25s %-6s %s\n", c->name, gw, mac,
		   p, x,
		   !n->valid			  ? "-" :
		   n->e.source == MWAN_NPT_STATIC ? "static" :
						    "pd",
		   valid);
}

/* Text only, and only where some WAN has IPv6 at all. */
static void print_prefixes(const struct ctl_wans *wans,
			   const struct ctl_npt *npt)
{
	bool any = false;
	unsigned int id;

	for (id = 0; id < MWAN_MAX_WANS; id++)
		any |= mwan_wan_configured(&wans->wan[id].w) &&
		       (has_gw6(&wans->wan[id].w) || npt[id].valid);
	if (!any)
		return;
	print_text("\n%-15s %-25s %-17s %-25s %-25s %-6s %s\n", "WAN",
		   "GATEWAY6", "GATEWAY6_MAC", "PREFIX", "EXTERNAL", "SOURCE",
		   "VALID");
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (mwan_wan_configured(&wans->wan[id].w))
			print_wan6_line(wans, &wans->wan[id], &npt[id]);
}

static void print_wans(const struct ctl_wans *wans, const struct ctl_npt *npt,
		       const struct ctl_health *h)
{
	unsigned int id;

	print_text(
		"\n%-15s %-5s %-5s %-6s %-4s %-15s %-6s %-4s %-15s %-17s %s\n",
		"WAN", "STATE", "ADMIN", "HEALTH", "LINK", "INTERFACE",
		"WEIGHT", "TIER", "GATEWAY4", "GATEWAY_MAC", "FWMARK");
	print_open_array("wans");
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (mwan_wan_configured(&wans->wan[id].w))
			print_wan(wans, id, &npt[id], h);
	print_close_array();
	ctl_health_print_table(wans, h);
	print_prefixes(wans, npt);
}

static void print_interfaces(const struct mwan_status *st)
{
	unsigned int i;

	print_text("\n%-15s %-20s %-8s %-10s %s\n", "INTERFACE", "ROLE", "XDP",
		   "DISPATCHER", "TC");
	print_open_array("interfaces");
	for (i = 0; i < st->n_iface; i++) {
		const struct mwan_status_iface *n = &st->iface[i];

		print_open_object(NULL);
		print_str("name", "%-15s ", n->name);
		print_str("role", "%-20s ", n->role);
		print_str("xdp_mode", "%-8s ", n->xdp_mode);
		print_str("dispatcher", "%-10s ", n->dispatcher);
		if (n->tc_mode[0])
			print_str("tc_mode", "%s\n", n->tc_mode);
		else
			print_null("tc_mode", "-\n");
		print_close_object();
	}
	print_close_array();
}

/* The kernel the loader runs on and how much of the verifier's limit
 * each program took there.
 */
static void print_kernel(const struct mwan_status *st)
{
	unsigned int i;

	if (st->kernel[0])
		print_str("kernel", "\nkernel: %s\n", st->kernel);
	else
		print_null("kernel", "\nkernel: unknown\n");
	print_text("%-15s %-14s %s\n", "PROGRAM", "VERIFIED_INSNS", "OF_LIMIT");
	print_open_array("programs");
	for (i = 0; i < st->n_prog; i++) {
		print_open_object(NULL);
		print_str("name", "%-15s ", st->prog[i].name);
		print_u64("verified_insns", "%-14" PRIu64 " ",
			  st->prog[i].verified_insns);
		print_u64("limit_pct", "%" PRIu64 " %%\n",
			  st->prog[i].limit_pct);
		print_close_object();
	}
	print_close_array();
}

static void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Each flow table's use; a table near full gets a warning line (its
 * least recently used flows are being pushed out, or soon will be).
 */
static int print_flow_tables(const struct ctl *ctl)
{
	static const char *const names[MWAN_TABLES] = { "lan", "inbound" };
	static const char *const what[MWAN_TABLES] = {
		"flows opened from a LAN (flows_max)",
		"flows opened from outside (flows_inbound_max)"
	};
	struct mwan_table_use use[MWAN_TABLES];
	int flows = ctl_map_open(ctl, MWAN_MAP(flows), false);
	int in = ctl_map_open_optional(ctl, MWAN_MAP(flows_in));
	int stat = ctl_map_open_optional(ctl, MWAN_MAP(flowstat));
	int stats = ctl_map_open(ctl, MWAN_MAP(stats), false);
	char err[256];
	unsigned int t;
	int ret = -1;

	if (flows < 0 || in == -1 || stat == -1 || stats < 0)
		goto out;
	if (mwan_flow_tables(flows, in, stat, stats, use, err, sizeof(err))) {
		ctl_error("%s", err);
		goto out;
	}
	print_open_array("flow_tables");
	print_text("flows:");
	for (t = 0; t < MWAN_TABLES; t++) {
		bool near = use[t].size &&
			    use[t].entries * 100 >=
				    (__u64)use[t].size * MWAN_TABLE_WARN_PCT;

		if (!use[t].present)
			continue;
		print_open_object(NULL);
		print_str("table", " %s", names[t]);
		print_u64("entries", " %" PRIu64, use[t].entries);
		print_u64("size", "/%" PRIu64, use[t].size);
		print_u64("evicted", " (%" PRIu64 " evicted)", use[t].evicted);
		print_bool("near_full", near ? " NEAR FULL" : NULL, near);
		print_close_object();
	}
	print_text("\n");
	print_close_array();
	/* the kernel's LRU starts evicting before it is full (per-CPU free
	 * lists): flows pushed out say more than the fill level
	 */
	for (t = 0; t < MWAN_TABLES; t++)
		if (use[t].present && use[t].size &&
		    (use[t].evicted ||
		     use[t].entries * 100 >=
			     (__u64)use[t].size * MWAN_TABLE_WARN_PCT))
			print_text(
				"warning: the table of %s holds %" PRIu64
				" of %u and has pushed out %" PRIu64
				" (least recently used first); raise its size if they were alive\n",
				what[t], (uint64_t)use[t].entries, use[t].size,
				(uint64_t)use[t].evicted);
	ret = 0;
out:
	close_if_open(flows);
	close_if_open(in);
	close_if_open(stat);
	close_if_open(stats);
	return ret;
}

int cmd_status(const struct ctl *ctl, int argc, char **argv)
{
	static struct mwan_status st;
	static struct ctl_health health;
	struct ctl_npt npt[MWAN_MAX_WANS];
	struct ctl_wans wans;
	bool running;
	pid_t pid;

	if (argc > 1)
		return ctl_usage_error("unexpected argument '%s'", argv[1]);
	running = mwan_run_loader(ctl->run_dir, &pid);
	if (ctl_wans_load(ctl, &wans) || ctl_npt_load(ctl, npt) ||
	    ctl_health_load(ctl, &wans, running, &health))
		return CTL_EXIT_FAIL;

	print_open_object(NULL);
	print_loader(running, pid);
	print_bool("fast_path", "fast_path: %s\n", wans.cfg.fast_path);
	print_bool("ready", "ready: %s\n", wans.cfg.ready);
	print_bool("failopen", NULL, wans.failopen);
	if (wans.failopen)
		print_text(
			"fail-open: no WAN is usable, so the best tier carries new flows anyway\n");
	ctl_health_print_frozen(&health);
	print_wans(&wans, npt, &health);
	if (print_flow_tables(ctl)) {
		print_close_object();
		return CTL_EXIT_FAIL;
	}
	mwan_status_read(ctl->run_dir, &st);
	print_interfaces(&st);
	print_kernel(&st);
	print_close_object();
	return 0;
}
