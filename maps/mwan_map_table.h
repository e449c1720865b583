/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every map once: name, type, key, value, size, flags, its one writer and its readers. */
#ifndef MWAN_MAP_TABLE_H
#define MWAN_MAP_TABLE_H

#include "mwan_maps.h"

/* X(id, type, key, value, max_entries, map_flags, writer, readers)
 *
 * id: the map is mwan_<id>, in the BPF object and pinned under pin_dir.
 * type: the BPF_MAP_TYPE_ suffix. The BPF side declares each map from its
 * row (bpf/lib/maps.h), user space describes it from the same row
 * (lib/maptable.c: bpfctl checks what it opens against it), and
 * tests/unit/test_maptable.c compares every row with the compiled object.
 *
 * writer: the one module that changes the map's contents. "programs" are
 * the BPF programs (per packet); loader/ modules change the live
 * dataplane for everyone else: bpfctl asks the loader over the control
 * socket, and writes mwan_admin itself only when no loader runs (the
 * documented fallback, bpfctl(8)). The flow tables have two: the
 * programs create flows and count their packets, the loader removes the
 * flows whose mapping went away.
 */
#define MWAN_MAPS(X)                                                           \
	X(live, ARRAY, __u32, struct mwan_live, 1, 0, "loader/publish.c",      \
	  "programs, bpfctl, loader/metrics.c")                                \
	X(cfg, ARRAY, __u32, struct mwan_cfg, MWAN_CFG_SLOTS, 0,               \
	  "loader/publish.c", "programs, bpfctl, loader/metrics.c")            \
	X(wans, ARRAY, __u32, struct mwan_wan, MWAN_MAX_WANS, 0,               \
	  "loader/wanstate.c", "programs, bpfctl, loader/metrics.c")           \
	X(admin, ARRAY, __u32, __u32, MWAN_MAX_WANS, 0, "loader/wanstate.c",   \
	  "bpfctl, loader/metrics.c")                                          \
	X(names, ARRAY, __u32, struct mwan_name, MWAN_MAX_WANS, 0,             \
	  "loader/sync.c", "bpfctl, loader/metrics.c")                         \
	X(steer, ARRAY, __u32, struct mwan_steer, MWAN_STEER_ENTRIES, 0,       \
	  "loader/wanstate.c", "programs, bpfctl")                             \
	X(health, ARRAY, __u32, struct mwan_health_info, MWAN_MAX_WANS, 0,     \
	  "loader/probe.c", "bpfctl, loader/metrics.c")                        \
	X(flowstat, ARRAY, __u32, struct mwan_flowstat, 2, 0,                  \
	  "loader/flows.c", "bpfctl, loader/metrics.c")                        \
	X(attach, ARRAY, __u32, struct mwan_attach, MWAN_MAX_ATTACH, 0,        \
	  "loader/attach.c", "loader/attach.c (the next run)")                 \
	X(nat4, HASH, __be32, struct mwan_nat4, MWAN_MAX_HOSTS, 0,             \
	  "loader/sync.c", "programs, bpfctl")                                 \
	X(pub4, HASH, __be32, struct mwan_pub4, MWAN_MAX_HOSTS *MWAN_MAX_WANS, \
	  0, "loader/sync.c", "programs")                                      \
	X(local4, HASH, __be32, struct mwan_local4, MWAN_MAX_LOCAL, 0,         \
	  "loader/sync.c", "programs")                                         \
	X(bypass4, LPM_TRIE, struct mwan_bypass4_key, struct mwan_bypass4,     \
	  MWAN_MAX_BYPASS, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(bypass6, LPM_TRIE, struct mwan_bypass6_key, struct mwan_bypass4,     \
	  MWAN_MAX_BYPASS, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(ingress4, LPM_TRIE, struct mwan_bypass4_key, struct mwan_ingress,    \
	  MWAN_MAX_FILTER, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(ingress6, LPM_TRIE, struct mwan_bypass6_key, struct mwan_ingress,    \
	  MWAN_MAX_FILTER, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(egress4, LPM_TRIE, struct mwan_bypass4_key, struct mwan_egress,      \
	  MWAN_MAX_FILTER, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(egress6, LPM_TRIE, struct mwan_bypass6_key, struct mwan_egress,      \
	  MWAN_MAX_FILTER, BPF_F_NO_PREALLOC, "loader/sync.c", "programs")     \
	X(scratch, PERCPU_ARRAY, __u32, struct mwan_scratch, 1, 0, "programs", \
	  "programs")                                                          \
	X(spoofed, LRU_HASH, struct in6_addr_raw, struct mwan_spoofed,         \
	  MWAN_MAX_SPOOFED, 0, "programs", "loader/unmapped.c")                \
	X(npt, HASH, __u32, struct mwan_npt, MWAN_MAX_WANS, BPF_F_NO_PREALLOC, \
	  "loader/prefix.c", "programs, bpfctl")                               \
	X(npt_mask, ARRAY, __u32, __u32, 1, 0, "loader/prefix.c", "programs")  \
	X(neigh6, HASH, struct in6_addr_raw, struct mwan_neigh6,               \
	  MWAN_MAX_NEIGH6, 0, "loader/sync.c", "programs")                     \
	X(local6, HASH, struct in6_addr_raw, struct mwan_local4,               \
	  MWAN_MAX_LOCAL, 0, "loader/sync.c", "programs")                      \
	X(frags6, LRU_HASH, struct mwan_frag6_key, struct mwan_frag6,          \
	  MWAN_FRAGS_MAX, 0, "programs", "programs")                           \
	X(flows, LRU_HASH, struct mwan_flow_key, struct mwan_flow,             \
	  MWAN_FLOWS_DEFAULT, 0,                                               \
	  "programs; loader/flows.c removes, sets hostmask in place",          \
	  "programs, bpfctl, loader/metrics.c")                                \
	X(flows_in, LRU_HASH, struct mwan_flow_key, struct mwan_flow,          \
	  MWAN_FLOWS_DEFAULT / 4, 0,                                           \
	  "programs; loader/flows.c removes, sets hostmask in place",          \
	  "programs, bpfctl, loader/metrics.c")                                \
	X(frags, LRU_HASH, struct mwan_frag_key, struct mwan_frag,             \
	  MWAN_FRAGS_MAX, 0, "programs", "programs")                           \
	X(stats, PERCPU_ARRAY, __u32, __u64, MWAN_STAT_MAX, 0, "programs",     \
	  "bpfctl, loader/metrics.c")                                          \
	X(wandrop, PERCPU_ARRAY, __u32, __u64, MWAN_WANDROP_ENTRIES, 0,        \
	  "programs", "bpfctl, loader/metrics.c")                              \
	X(unmapped, LRU_HASH, __be32, struct mwan_unmapped, MWAN_MAX_UNMAPPED, \
	  0, "programs", "bpfctl, loader/unmapped.c")                          \
	X(wanstat, PERCPU_ARRAY, __u32, struct mwan_wan_counters,              \
	  MWAN_MAX_WANS, 0, "programs", "bpfctl, loader/metrics.c")            \
	X(tx, DEVMAP_HASH, __u32, __u32, MWAN_MAX_IFACES, 0, "loader/sync.c",  \
	  "programs")

#endif
