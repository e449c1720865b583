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
	int cfg;
	int wans;
	int names;
	int admin;
	int stats;
	int wanstat;
	int flows;
	int health;
};

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

/* The whole exposition (text format 0.0.4) into a malloc'd buffer, or
 * nothing: on failure returns -1 with the reason in err and *buf NULL,
 * so no caller ever publishes half a scrape.
 */
int mwan_metrics_render(const struct mwan_metrics_in *in, char **buf,
			size_t *len, char *err, size_t errlen);

#endif
