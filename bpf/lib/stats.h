/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-CPU counters: drop reasons, datapath events and per-WAN traffic. */
#ifndef MWAN_BPF_STATS_H
#define MWAN_BPF_STATS_H

#include "maps.h"

static __always_inline void stat_inc(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&mwan_stats, &stat);

	if (v)
		*v += 1;
}

static __always_inline void wanstat_out(__u32 wan, __u32 bytes)
{
	struct mwan_wan_counters *c = bpf_map_lookup_elem(&mwan_wanstat, &wan);

	if (c) {
		c->pkts_out++;
		c->bytes_out += bytes;
	}
}

static __always_inline void wanstat_in(__u32 wan, __u32 bytes)
{
	struct mwan_wan_counters *c = bpf_map_lookup_elem(&mwan_wanstat, &wan);

	if (c) {
		c->pkts_in++;
		c->bytes_in += bytes;
	}
}

#endif
