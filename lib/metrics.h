/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan's maps as Prometheus text: one formatter for bpfctl and the loader. */
#ifndef MWAN_METRICS_H
#define MWAN_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "../maps/mwan_maps.h"

/* Map descriptors the exposition reads: bpfctl opens them by pin path,
 * the loader takes them from its skeleton. health may be -1 (a loader
 * from before mwan_health): no probe metrics then.
 */
struct mwan_metrics_fds {
	int live; /* which cfg slot is live */
	int cfg;
	int wans;
	int names;
	int admin;
	int stats;
	int wanstat;
	int flows;
	int health; /* -1: a loader from before mwan_health */
	int wandrop; /* -1: a loader from before mwan_wandrop */
	int flows_in; /* -1: a loader from before mwan_flows_in */
	int flowstat; /* -1: likewise mwan_flowstat */
};

/* One flow table's use (mwan_flows: MWAN_TABLE_LAN, mwan_flows_in:
 * MWAN_TABLE_INBOUND).
 */
enum { MWAN_TABLE_LAN, MWAN_TABLE_INBOUND, MWAN_TABLES };

struct mwan_table_use {
	bool present;
	__u64 entries; /* counted by a walk */
	__u32 size; /* max_entries */
	/* created (flow_new counters) - entries - removed by the loader: the
	 * flows the LRU pushed out. An estimate: flows created during the
	 * walk are not in it.
	 */
	__u64 evicted;
};

/* Near full: bpfctl status warns from this share of a table on. */
#define MWAN_TABLE_WARN_PCT 90

/* Both flow tables' use, from their fds (flows_in, flowstat may be -1)
 * and the global counters (stats); -1 with err on a read error.
 */
int mwan_flow_tables(int flows, int flows_in, int flowstat, int stats,
		     struct mwan_table_use use[MWAN_TABLES], char *err,
		     size_t errlen);

struct mwan_metrics_in {
	struct mwan_metrics_fds fd;
	/* mwan_loader_up: decided by the caller, who knows whether a loader
	 * runs (bpfctl: the health data is not frozen; the loader: itself).
	 */
	bool loader_up;
	/* What probe slot t of WAN id probes, as the config writes it;
	 * NULL or "": unknown, labelled "#t".
	 */
	const char *target[MWAN_MAX_WANS][MWAN_HEALTH_TARGETS];
};

/* mwan_stats' counter names, as bpfctl and the metrics show them. */
struct mwan_stat_name {
	enum mwan_stat id;
	const char *name;
};
extern const struct mwan_stat_name mwan_drop_names[];
extern const struct mwan_stat_name mwan_event_names[];
extern const unsigned int mwan_n_drops, mwan_n_events;

/* Sum over CPUs of one per-CPU array slot of n_u64 counters; -errno. */
int mwan_percpu_sum(int fd, __u32 key, __u64 *sum, unsigned int n_u64);

/* The whole exposition (text format 0.0.4) into a malloc'd buffer, or
 * nothing: on failure returns -1 with the reason in err and *buf NULL,
 * so no caller ever publishes half a scrape.
 */
int mwan_metrics_render(const struct mwan_metrics_in *in, char **buf,
			size_t *len, char *err, size_t errlen);

#endif
