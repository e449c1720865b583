/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-CPU counters: drop reasons, datapath events and per-WAN traffic. */
#ifndef MWAN_BPF_STATS_H
#define MWAN_BPF_STATS_H

#include "cfg.h"
#include "maps.h"

static __always_inline void stat_inc(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&mwan_stats, &stat);

	if (v)
		*v += 1;
}

/* A drop, counted by reason and by the WAN or LAN (or neither) whose
 * interface it is counted at. A global function: the verifier checks it
 * once, not at every drop of every program.
 */
__noinline int count_drop(__u32 ifindex, __u32 reason)
{
	__u32 slot = MWAN_WANDROP_OTHER, key, i;
	const struct mwan_cfg *cfg;
	__u64 *v;

	if (reason >= MWAN_DROP_MAX_)
		return 0;
	stat_inc(reason);
	cfg = get_cfg();
	if (cfg && ifindex) {
		for (i = 0; i < MWAN_MAX_WANS; i++)
			if (cfg->wan_ifindex[i] == ifindex)
				slot = i;
		for (i = 0; i < MWAN_MAX_LANS; i++)
			if (cfg->lan[i].ifindex == ifindex)
				slot = MWAN_WANDROP_LAN + i;
	}
	key = slot * MWAN_DROP_MAX_ + reason;
	v = bpf_map_lookup_elem(&mwan_wandrop, &key);
	if (v)
		*v += 1;
	return 0;
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
