/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_cfg and mwan_live: the config the programs read, replaced whole by a slot flip (their one writer). */
#include <string.h>

#include "loader.h"
#include "log.h"
#include "mapio.h"
#include "publish.h"
#include "../lib/steermap.h"

/* What is live now: the last image published, else what a previous run
 * left (pinned maps), else nothing yet (ready 0: the programs pass).
 */
static void current(struct loader *l, struct mwan_cfg *out)
{
	__u32 slot;

	if (l->pub.have) {
		*out = l->pub.img;
		return;
	}
	if (mwan_cfg_read_live(MAP_FD(l, live), MAP_FD(l, cfg), &slot, out))
		memset(out, 0, sizeof(*out));
}

static int publish(struct loader *l, const struct mwan_cfg *next)
{
	int err;

	if (l->pub.have && !memcmp(next, &l->pub.img, sizeof(*next)))
		return 0;
	err = mwan_cfg_publish(MAP_FD(l, live), MAP_FD(l, cfg), next,
			       &l->pub.flipped_ms);
	if (err) {
		log_err("cannot update %s: %s", MWAN_MAP(cfg)->name,
			strerror(-err));
		return err;
	}
	l->pub.img = *next;
	l->pub.have = true;
	return 0;
}

int publish_cfg(struct loader *l, const struct mwan_cfg *img)
{
	struct mwan_cfg now, next = *img;

	current(l, &now);
	next.steer_half = now.steer_half & 1;
	return publish(l, &next);
}

__u32 publish_steer_half(struct loader *l)
{
	struct mwan_cfg now;

	current(l, &now);
	return now.steer_half & 1;
}

int publish_steer(struct loader *l, __u32 half)
{
	struct mwan_cfg next;

	current(l, &next);
	next.steer_half = half & 1;
	return publish(l, &next);
}

void publish_grace(const struct loader *l)
{
	mwan_slot_grace(l->pub.flipped_ms);
}
