/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF-side declarations of the maps defined in maps/mwan_maps.h. */
#ifndef MWAN_BPF_MAPS_H
#define MWAN_BPF_MAPS_H

#include "../../maps/mwan_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mwan_cfg);
} mwan_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_MAX_WANS);
	__type(key, __u32);
	__type(value, struct mwan_wan);
} mwan_wans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_MAX_WANS);
	__type(key, __u32);
	__type(value, __u32);
} mwan_admin SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_MAX_WANS);
	__type(key, __u32);
	__type(value, struct mwan_name);
} mwan_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_STEER_MASKS);
	__type(key, __u32);
	__type(value, struct mwan_steer);
} mwan_steer SEC(".maps");

/* Not used by the programs: declared here so the loader pins it with the
 * rest and bpfctl finds it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_MAX_WANS);
	__type(key, __u32);
	__type(value, struct mwan_health_info);
} mwan_health SEC(".maps");

/* Not used by the programs either: the loader's count of the flows it
 * removed, by origin.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct mwan_flowstat);
} mwan_flowstat SEC(".maps");

/* Not used by the programs either: the loader's record of what it
 * attached, pinned so that the next run finds it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MWAN_MAX_ATTACH);
	__type(key, __u32);
	__type(value, struct mwan_attach);
} mwan_attach SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_HOSTS);
	__type(key, __be32);
	__type(value, struct mwan_nat4);
} mwan_nat4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_HOSTS *MWAN_MAX_WANS);
	__type(key, __be32);
	__type(value, struct mwan_pub4);
} mwan_pub4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_LOCAL);
	__type(key, __be32);
	__type(value, struct mwan_local4);
} mwan_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_BYPASS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass4_key);
	__type(value, struct mwan_bypass4);
} mwan_bypass4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_BYPASS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass6_key);
	__type(value, struct mwan_bypass4);
} mwan_bypass6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_FILTER);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass4_key);
	__type(value, struct mwan_ingress);
} mwan_ingress4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_FILTER);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass6_key);
	__type(value, struct mwan_ingress);
} mwan_ingress6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_FILTER);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass4_key);
	__type(value, struct mwan_egress);
} mwan_egress4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MWAN_MAX_FILTER);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mwan_bypass6_key);
	__type(value, struct mwan_egress);
} mwan_egress6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mwan_scratch);
} mwan_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_MAX_SPOOFED);
	__type(key, struct in6_addr_raw);
	__type(value, struct mwan_spoofed);
} mwan_spoofed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_WANS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct mwan_npt);
} mwan_npt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} mwan_npt_mask SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_NEIGH6);
	__type(key, struct in6_addr_raw);
	__type(value, struct mwan_neigh6);
} mwan_neigh6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MWAN_MAX_LOCAL);
	__type(key, struct in6_addr_raw);
	__type(value, struct mwan_local4);
} mwan_local6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_FRAGS_MAX);
	__type(key, struct mwan_frag6_key);
	__type(value, struct mwan_frag6);
} mwan_frags6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_FLOWS_DEFAULT); /* the loader may resize */
	__type(key, struct mwan_flow_key);
	__type(value, struct mwan_flow);
} mwan_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_FLOWS_DEFAULT / 4); /* the loader may resize */
	__type(key, struct mwan_flow_key);
	__type(value, struct mwan_flow);
} mwan_flows_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_FRAGS_MAX);
	__type(key, struct mwan_frag_key);
	__type(value, struct mwan_frag);
} mwan_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MWAN_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mwan_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MWAN_WANDROP_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} mwan_wandrop SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MWAN_MAX_UNMAPPED);
	__type(key, __be32);
	__type(value, struct mwan_unmapped);
} mwan_unmapped SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MWAN_MAX_WANS);
	__type(key, __u32);
	__type(value, struct mwan_wan_counters);
} mwan_wanstat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, MWAN_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} mwan_tx SEC(".maps");

#endif
