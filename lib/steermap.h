/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps the programs read whole (mwan_cfg, mwan_steer): written into the slot not live, then flipped. */
#ifndef MWAN_LIB_STEERMAP_H
#define MWAN_LIB_STEERMAP_H

#include <linux/types.h>

#include "../maps/mwan_maps.h"

/* Their one writer is the loader (loader/publish.c, loader/wanstate.c);
 * bpfctl wan uses them only when no loader runs. Every function returns 0
 * or -errno.
 */

/* The live mwan_cfg slot: its index and contents. */
int mwan_cfg_read_live(int live_fd, int cfg_fd, __u32 *slot,
		       struct mwan_cfg *out);

/* Before a slot or half that was live is written again: waits until
 * MWAN_SLOT_GRACE_MS have passed since *flipped_ms (CLOCK_MONOTONIC ms;
 * 0: unknown, the whole grace).
 */
void mwan_slot_grace(__u64 flipped_ms);

/* img into the slot not live, then that slot made live; *flipped_ms is
 * the last flip's time, in and out.
 */
int mwan_cfg_publish(int live_fd, int cfg_fd, const struct mwan_cfg *img,
		     __u64 *flipped_ms);

/* Every steering table from mwan_wans and mwan_admin, computed into the
 * half that is not live (the caller has waited out mwan_slot_grace).
 * *changed: whether it differs from the live half, so that making it
 * live (mwan_cfg.steer_half = 1 - live_half) is worth a flip.
 */
int mwan_steer_prepare(int wans_fd, int admin_fd, int steer_fd, __u32 live_half,
		       bool *changed);

/* Half `half` filled whatever is live: for tests, which run no packet
 * while they write.
 */
int mwan_steer_fill(int wans_fd, int admin_fd, int steer_fd, __u32 half);

#endif
