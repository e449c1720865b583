/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_steer from mwan_wans and mwan_admin: the map I/O around lib/steer.c. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "steer.h"
#include "steermap.h"

int mwan_steer_sync(int wans_fd, int admin_fd, int steer_fd)
{
	struct mwan_wan wans[MWAN_MAX_WANS];
	__u32 admin[MWAN_MAX_WANS];
	struct mwan_steer now, want;
	__u32 i;

	for (i = 0; i < MWAN_MAX_WANS; i++) {
		if (bpf_map_lookup_elem(wans_fd, &i, &wans[i]) ||
		    bpf_map_lookup_elem(admin_fd, &i, &admin[i]))
			return -errno;
	}
	for (i = 0; i < MWAN_STEER_MASKS; i++) {
		mwan_steer_compute(wans, admin, i, &want);
		if (!bpf_map_lookup_elem(steer_fd, &i, &now) &&
		    !memcmp(&now, &want, sizeof(want)))
			continue;
		if (bpf_map_update_elem(steer_fd, &i, &want, BPF_ANY))
			return -errno;
	}
	return 0;
}
