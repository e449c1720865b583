/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_cfg and mwan_live: the config the programs read, replaced whole by a slot flip (their one writer). */
#ifndef MWAN_LOADER_PUBLISH_H
#define MWAN_LOADER_PUBLISH_H

#include <stdbool.h>
#include <linux/types.h>

#include "../maps/mwan_maps.h"

struct loader;

struct publish_state {
	struct mwan_cfg img; /* what is live, when have */
	bool have;
	__u64 flipped_ms; /* the last flip (CLOCK_MONOTONIC); 0: unknown */
};

/* The config from sync.c (its steer_half is ignored: the live half
 * stays); nothing is written when it is what is live.
 */
int publish_cfg(struct loader *l, const struct mwan_cfg *img);
/* The steering tables' live half, and a new one made live (wanstate.c,
 * after it filled that half).
 */
__u32 publish_steer_half(struct loader *l);
int publish_steer(struct loader *l, __u32 half);
/* Before writing the half or slot that is not live. */
void publish_grace(const struct loader *l);

#endif
