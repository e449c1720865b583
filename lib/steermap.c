/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps the programs read whole (mwan_cfg, mwan_steer): written into the slot not live, then flipped. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "clock.h"
#include "steer.h"
#include "steermap.h"

int mwan_cfg_read_live(int live_fd, int cfg_fd, __u32 *slot,
		       struct mwan_cfg *out)
{
	struct mwan_live live;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(live_fd, &zero, &live))
		return -errno;
	*slot = live.cfg_slot & 1;
	if (bpf_map_lookup_elem(cfg_fd, slot, out))
		return -errno;
	return 0;
}

void mwan_slot_grace(__u64 flipped_ms)
{
	__u64 now = mwan_mono_ms(), until = flipped_ms + MWAN_SLOT_GRACE_MS;

	if (!flipped_ms)
		until = now + MWAN_SLOT_GRACE_MS;
	if (now < until)
		usleep((until - now) * 1000);
}

int mwan_cfg_publish(int live_fd, int cfg_fd, const struct mwan_cfg *img,
		     __u64 *flipped_ms)
{
	struct mwan_live live;
	__u32 zero = 0, next;

	if (bpf_map_lookup_elem(live_fd, &zero, &live))
		return -errno;
	next = (live.cfg_slot & 1) ^ 1;
	mwan_slot_grace(*flipped_ms);
	if (bpf_map_update_elem(cfg_fd, &next, img, BPF_ANY))
		return -errno;
	/* one aligned word: a program reads the old index or the new one */
	live.cfg_slot = next;
	if (bpf_map_update_elem(live_fd, &zero, &live, BPF_ANY))
		return -errno;
	*flipped_ms = mwan_mono_ms();
	return 0;
}

/* Every table for the WANs as mwan_wans and mwan_admin say now. */
static int steer_compute_all(int wans_fd, int admin_fd,
			     struct mwan_steer want[MWAN_STEER_MASKS])
{
	struct mwan_wan wans[MWAN_MAX_WANS];
	__u32 admin[MWAN_MAX_WANS];
	__u32 i;

	for (i = 0; i < MWAN_MAX_WANS; i++) {
		if (bpf_map_lookup_elem(wans_fd, &i, &wans[i]) ||
		    bpf_map_lookup_elem(admin_fd, &i, &admin[i]))
			return -errno;
	}
	for (i = 0; i < MWAN_STEER_MASKS; i++)
		mwan_steer_compute(wans, admin, i, &want[i]);
	return 0;
}

static int steer_write_half(int steer_fd, __u32 half,
			    const struct mwan_steer want[MWAN_STEER_MASKS])
{
	__u32 i, key;

	for (i = 0; i < MWAN_STEER_MASKS; i++) {
		key = (half & 1) * MWAN_STEER_MASKS + i;
		if (bpf_map_update_elem(steer_fd, &key, &want[i], BPF_ANY))
			return -errno;
	}
	return 0;
}

int mwan_steer_prepare(int wans_fd, int admin_fd, int steer_fd, __u32 live_half,
		       bool *changed)
{
	static struct mwan_steer want[MWAN_STEER_MASKS];
	struct mwan_steer now;
	__u32 i, key;
	int err;

	*changed = false;
	err = steer_compute_all(wans_fd, admin_fd, want);
	for (i = 0; !err && !*changed && i < MWAN_STEER_MASKS; i++) {
		key = (live_half & 1) * MWAN_STEER_MASKS + i;
		*changed = bpf_map_lookup_elem(steer_fd, &key, &now) ||
			   memcmp(&now, &want[i], sizeof(now));
	}
	/* unchanged: the live half stays, nothing to flip to */
	if (err || !*changed)
		return err;
	return steer_write_half(steer_fd, live_half ^ 1, want);
}

int mwan_steer_fill(int wans_fd, int admin_fd, int steer_fd, __u32 half)
{
	static struct mwan_steer want[MWAN_STEER_MASKS];
	int err = steer_compute_all(wans_fd, admin_fd, want);

	return err ? err : steer_write_half(steer_fd, half, want);
}
