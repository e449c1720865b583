/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The live config: the mwan_cfg slot mwan_live names (the loader rewrites only the other). */
#ifndef MWAN_BPF_CFG_H
#define MWAN_BPF_CFG_H

#include <bpf/bpf_helpers.h>

#include "maps.h"

static __always_inline const struct mwan_cfg *get_cfg(void)
{
	const struct mwan_live *live;
	__u32 zero = 0, slot;

	live = bpf_map_lookup_elem(&mwan_live, &zero);
	if (!live)
		return NULL;
	slot = live->cfg_slot & 1;
	return bpf_map_lookup_elem(&mwan_cfg, &slot);
}

#endif
