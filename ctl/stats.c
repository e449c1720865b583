/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl stats: per-WAN traffic and every drop reason and event counter. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfctl.h"
#include "lib/metrics.h"
#include "lib/print.h"
#include "lib/rundir.h"

struct stats {
	__u64 global[MWAN_STAT_MAX];
	struct mwan_wan_counters wan[MWAN_MAX_WANS];
	__u64 drop[MWAN_WANDROP_SLOTS][MWAN_DROP_MAX_];
	bool have_drop; /* a loader from before mwan_wandrop has none */
};

static int read_drops(const struct ctl *ctl, struct stats *s)
{
	int fd = ctl_map_open_optional(ctl, MWAN_MAP(wandrop));
	__u32 slot, r;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	for (slot = 0; slot < MWAN_WANDROP_SLOTS; slot++)
		for (r = 0; r < MWAN_DROP_MAX_; r++)
			if (ctl_percpu_sum(fd, slot * MWAN_DROP_MAX_ + r,
					   &s->drop[slot][r], 1)) {
				close(fd);
				return ctl_error("cannot read %s",
						 MWAN_MAP(wandrop)->name);
			}
	close(fd);
	s->have_drop = true;
	return 0;
}

/* Every drop by where it is counted: each WAN's interface (in or out),
 * each LAN's (what it sent that may not leave, by its interface name)
 * and "other". JSON has every reason; text only what counted.
 */
static void print_drops_by_wan(const struct ctl_wans *wans,
			       const struct stats *s)
{
	char ifname[IF_NAMESIZE];
	unsigned int slot;
	const char *name, *kind;
	size_t i;

	if (!s->have_drop)
		return;
	print_text("\n%-15s %-24s %12s\n", "DROPS_AT", "REASON", "PACKETS");
	print_open_array("drops_by_wan");
	for (slot = 0; slot < MWAN_WANDROP_SLOTS; slot++) {
		if (slot == MWAN_WANDROP_OTHER) {
			name = "other";
			kind = "other";
		} else if (slot >= MWAN_WANDROP_LAN) {
			__u32 ifindex =
				wans->cfg.lan[slot - MWAN_WANDROP_LAN].ifindex;

			if (!ifindex)
				continue;
			if (!if_indextoname(ifindex, ifname))
				snprintf(ifname, sizeof(ifname), "if%u",
					 ifindex);
			name = ifname;
			kind = "lan";
		} else {
			if (!mwan_wan_configured(&wans->wan[slot].w))
				continue;
			name = wans->wan[slot].name;
			kind = "wan";
		}
		print_open_object(NULL);
		print_str("name", NULL, name);
		print_str("kind", NULL, kind);
		print_open_object("drops");
		for (i = 0; i < mwan_n_drops; i++) {
			__u64 v = s->drop[slot][mwan_drop_names[i].id];

			print_u64(mwan_drop_names[i].name, NULL, v);
			if (v)
				print_text("%-15s %-24s %12" PRIu64 "\n", name,
					   mwan_drop_names[i].name,
					   (uint64_t)v);
		}
		print_close_object();
		print_close_object();
	}
	print_close_array();
}

struct unmapped_walk {
	const struct ctl_wans *wans;
	__u64 now;
};

static void print_unmapped_one(const void *key, const void *value, void *arg)
{
	const struct mwan_unmapped *u = value;
	const struct unmapped_walk *w = arg;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	__u64 ago = w->now > u->last_ns ? (w->now - u->last_ns) / 1000000 : 0;

	print_open_object(NULL);
	print_str("src", "%-15s ", ctl_ipv4_str(*(const __be32 *)key, src));
	print_str("dst", "%-15s ", ctl_ipv4_str(u->dst, dst));
	if (u->wan < MWAN_MAX_WANS)
		print_str("wan", "%-15s ", w->wans->wan[u->wan].name);
	else
		print_null("wan", "-               ");
	print_u64("packets", "%10" PRIu64 " ", u->packets);
	print_milli("ago_s", "%s s ago\n", ago);
	print_close_object();
}

/* LAN sources that no mapping covers on the WAN their traffic took: it
 * was dropped at that WAN (mwan_unmapped, the most recent 256).
 */
static int print_unmapped(const struct ctl *ctl, const struct ctl_wans *wans)
{
	struct unmapped_walk w = { wans, mwan_mono_ns() };
	int fd = ctl_map_open_optional(ctl, MWAN_MAP(unmapped)), err;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	print_text(
		"\nunmapped LAN sources (dropped):\n%-15s %-15s %-15s %10s %s\n",
		"SOURCE", "LAST_DST", "WAN", "PACKETS", "LAST");
	print_open_array("unmapped");
	err = ctl_map_walk(fd, MWAN_MAP(unmapped), print_unmapped_one, &w);
	print_close_array();
	close(fd);
	return err;
}

static int read_global(const struct ctl *ctl, struct stats *s)
{
	int fd = ctl_map_open(ctl, MWAN_MAP(stats), false);
	__u32 i;

	if (fd < 0)
		return -1;
	for (i = 0; i < MWAN_STAT_MAX; i++) {
		if (ctl_percpu_sum(fd, i, &s->global[i], 1)) {
			close(fd);
			return ctl_error("cannot read %s[%u]",
					 MWAN_MAP(stats)->name, i);
		}
	}
	close(fd);
	return 0;
}

static int read_wans(const struct ctl *ctl, struct stats *s)
{
	int fd = ctl_map_open(ctl, MWAN_MAP(wanstat), false);
	const unsigned int n = sizeof(s->wan[0]) / sizeof(__u64);
	__u32 i;

	if (fd < 0)
		return -1;
	for (i = 0; i < MWAN_MAX_WANS; i++) {
		if (ctl_percpu_sum(fd, i, (__u64 *)&s->wan[i], n)) {
			close(fd);
			return ctl_error("cannot read %s[%u]",
					 MWAN_MAP(wanstat)->name, i);
		}
	}
	close(fd);
	return 0;
}

static void print_wan_counters(const char *name,
			       const struct mwan_wan_counters *c)
{
	print_open_object(NULL);
	print_str("name", "%-15s ", name);
	print_u64("pkts_out", "%12" PRIu64 " ", c->pkts_out);
	print_u64("bytes_out", "%15" PRIu64 " ", c->bytes_out);
	print_u64("pkts_in", "%12" PRIu64 " ", c->pkts_in);
	print_u64("bytes_in", "%15" PRIu64 "\n", c->bytes_in);
	print_close_object();
}

static void print_wan_table(const struct ctl_wans *wans, const struct stats *s)
{
	unsigned int id;

	print_text("%-15s %12s %15s %12s %15s\n", "WAN", "PKTS_OUT",
		   "BYTES_OUT", "PKTS_IN", "BYTES_IN");
	print_open_array("wans");
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (mwan_wan_configured(&wans->wan[id].w))
			print_wan_counters(wans->wan[id].name, &s->wan[id]);
	print_close_array();
}

static void print_counters(const char *key, const struct mwan_stat_name *names,
			   size_t n, const struct stats *s)
{
	size_t i;

	print_text("\n%s:\n", key);
	print_open_object(key);
	for (i = 0; i < n; i++) {
		print_text("  %-24s", names[i].name);
		print_u64(names[i].name, "%12" PRIu64 "\n",
			  s->global[names[i].id]);
	}
	print_close_object();
}

/* A loader from before mwan_health has none: no probe metrics, no error. */
static int open_health(const struct ctl *ctl, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ctl->pin_dir,
		 MWAN_MAP(health)->name);
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	*fd = ctl_map_open(ctl, MWAN_MAP(health), false);
	return *fd < 0 ? -1 : 0;
}

/* A map an older loader did not pin: -1 in *fd, no error. */
static int open_optional_fd(const struct ctl *ctl,
			    const struct mwan_map_desc *m, int *fd)
{
	*fd = ctl_map_open_optional(ctl, m);
	if (*fd == -1)
		return -1;
	if (*fd < 0)
		*fd = -1;
	return 0;
}

static int open_fds(const struct ctl *ctl, struct mwan_metrics_fds *fd)
{
	struct {
		int *fd;
		const struct mwan_map_desc *m;
	} want[] = {
		{ &fd->live, MWAN_MAP(live) },
		{ &fd->cfg, MWAN_MAP(cfg) },
		{ &fd->wans, MWAN_MAP(wans) },
		{ &fd->names, MWAN_MAP(names) },
		{ &fd->admin, MWAN_MAP(admin) },
		{ &fd->stats, MWAN_MAP(stats) },
		{ &fd->wanstat, MWAN_MAP(wanstat) },
		{ &fd->flows, MWAN_MAP(flows) },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		*want[i].fd = ctl_map_open(ctl, want[i].m, false);
		if (*want[i].fd < 0)
			return -1;
	}
	if (open_optional_fd(ctl, MWAN_MAP(wandrop), &fd->wandrop) ||
	    open_optional_fd(ctl, MWAN_MAP(flows_in), &fd->flows_in) ||
	    open_optional_fd(ctl, MWAN_MAP(flowstat), &fd->flowstat))
		return -1;
	return open_health(ctl, &fd->health);
}

static void close_fds(struct mwan_metrics_fds *fd)
{
	int *all[] = { &fd->live,   &fd->cfg,	  &fd->wans,	 &fd->names,
		       &fd->admin,  &fd->stats,	  &fd->wanstat,	 &fd->flows,
		       &fd->health, &fd->wandrop, &fd->flows_in, &fd->flowstat };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] >= 0)
			close(*all[i]);
}

/* The loader's textfile and this are the same formatter (lib/metrics.c):
 * the two cannot drift apart.
 */
static int print_prometheus(const struct ctl *ctl, const struct ctl_wans *wans)
{
	static struct mwan_metrics_in in;
	static struct ctl_health health;
	char err[256], *buf = NULL;
	unsigned int id, t;
	size_t len = 0;
	int ret = CTL_EXIT_FAIL;
	pid_t pid;

	memset(&in, 0, sizeof(in));
	in.fd = (struct mwan_metrics_fds){ .live = -1,
					   .cfg = -1,
					   .wans = -1,
					   .names = -1,
					   .admin = -1,
					   .stats = -1,
					   .wanstat = -1,
					   .flows = -1,
					   .health = -1,
					   .wandrop = -1,
					   .flows_in = -1,
					   .flowstat = -1 };
	/* mwan_loader_up is status's "health data not frozen", judged by
	 * health.c. Its pid-file half is status.c's own (true: skipped); a
	 * stopped loader's records go stale within CTL_HEALTH_STALE_S anyway.
	 */
	if (ctl_health_load(ctl, wans, mwan_run_loader(ctl->run_dir, &pid),
			    &health) ||
	    open_fds(ctl, &in.fd))
		goto out;
	in.loader_up = !health.frozen;
	for (id = 0; id < MWAN_MAX_WANS; id++)
		for (t = 0; t < MWAN_HEALTH_TARGETS; t++)
			in.target[id][t] = health.target[id][t];
	if (mwan_metrics_render(&in, &buf, &len, err, sizeof(err))) {
		ctl_error("%s", err);
		goto out;
	}
	if (fwrite(buf, 1, len, stdout) == len)
		ret = 0;
	else
		ctl_error("writing output failed");
out:
	free(buf);
	close_fds(&in.fd);
	return ret;
}

int cmd_stats(const struct ctl *ctl, int argc, char **argv)
{
	struct ctl_wans wans;
	bool prometheus = false;
	struct stats s;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--prometheus") && !prometheus)
			prometheus = true;
		else
			return ctl_usage_error("unexpected argument '%s'",
					       argv[i]);
	}
	/* a third format: JSON of it would be neither */
	if (prometheus && print_is_json())
		return ctl_usage_error(
			"-j and --prometheus exclude each other");
	if (prometheus)
		return ctl_wans_load(ctl, &wans) ? CTL_EXIT_FAIL :
						   print_prometheus(ctl, &wans);
	memset(&s, 0, sizeof(s));
	if (ctl_wans_load(ctl, &wans) || read_global(ctl, &s) ||
	    read_wans(ctl, &s) || read_drops(ctl, &s))
		return CTL_EXIT_FAIL;

	print_open_object(NULL);
	print_wan_table(&wans, &s);
	print_counters("drops", mwan_drop_names, mwan_n_drops, &s);
	print_counters("events", mwan_event_names, mwan_n_events, &s);
	print_drops_by_wan(&wans, &s);
	if (print_unmapped(ctl, &wans)) {
		print_close_object();
		return CTL_EXIT_FAIL;
	}
	print_close_object();
	return 0;
}
