/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Micro-benchmark harness: restore the frame, vary the flow, tail-call an mwan program. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* BPF_PROG_TEST_RUN runs a program `repeat` times on one buffer, and a
 * translating program leaves it translated: the second run would see a
 * public source address and take another path. So each run first writes
 * the original frame back, then (for "new flow" cases) a fresh port pair,
 * then tail-calls the program under test. micro.c measures the same
 * harness tail-calling an empty program and reports the difference.
 */
#define TMPL_MAX 256

__u8 tmpl[TMPL_MAX];
__u32 tmpl_len;
__u32 vary_off; /* 0: none; else offset of the 32-bit port pair to vary */
__u32 vary_next; /* next port pair (host order), incremented per run */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdp_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tc_target SEC(".maps");

static __always_inline __u32 next_ports(void)
{
	return bpf_htonl(vary_next++);
}

SEC("xdp")
int bench_xdp(struct xdp_md *ctx)
{
	__u32 len = tmpl_len, zero = 0, ports;

	if (len < 1 || len > TMPL_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, tmpl, len))
		return XDP_ABORTED;
	if (vary_off) {
		ports = next_ports();
		if (bpf_xdp_store_bytes(ctx, vary_off & 0xff, &ports, 4))
			return XDP_ABORTED;
	}
	bpf_tail_call(ctx, &xdp_target, zero);
	return XDP_ABORTED;
}

SEC("tc")
int bench_tc(struct __sk_buff *skb)
{
	__u32 len = tmpl_len, zero = 0, ports;

	if (len < 1 || len > TMPL_MAX)
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, tmpl, len, 0))
		return TC_ACT_SHOT;
	skb->mark = 0;
	if (vary_off) {
		ports = next_ports();
		if (bpf_skb_store_bytes(skb, vary_off & 0xff, &ports, 4, 0))
			return TC_ACT_SHOT;
	}
	bpf_tail_call(skb, &tc_target, zero);
	return TC_ACT_SHOT;
}

/* The empty targets: what the harness costs on its own. */
SEC("xdp")
int noop_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int noop_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

/* Building blocks of the datapath, each alone in a program that
 * micro.c runs directly and compares with noop_xdp: a clock read (coarse
 * and not), a lookup that hits in a hash map with a 4-byte key (mwan_nat4,
 * mwan_local4, mwan_ifaces) and in an LRU hash with mwan_flows' 40-byte
 * key, a per-CPU counter, bpf_redirect_map on a devmap hash, and the two
 * atomic adds of flow_account.
 */
struct flow_key40 {
	__u8 b[40];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8[40]);
} probe_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key40);
	__type(value, __u8[56]);
} probe_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} probe_percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} probe_tx SEC(".maps");

__u64 shared_counter[2];
__u32 probe_ifindex; /* an entry of probe_tx */

SEC("xdp")
int probe_ktime(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_ktime_get_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_ktime_coarse(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_hash_lookup(struct xdp_md *ctx)
{
	__u32 key = 1;

	(void)ctx;
	return bpf_map_lookup_elem(&probe_hash, &key) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_lru_lookup(struct xdp_md *ctx)
{
	struct flow_key40 key = { { 2, 17 } };

	(void)ctx;
	return bpf_map_lookup_elem(&probe_lru, &key) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int probe_percpu_inc(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&probe_percpu, &key);

	(void)ctx;
	if (!v)
		return XDP_DROP;
	*v += 1;
	return XDP_PASS;
}

/* The redirect itself happens after the program: this is the lookup. */
SEC("xdp")
int probe_redirect_map(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect_map(&probe_tx, probe_ifindex, 0) == XDP_REDIRECT ?
		       XDP_PASS :
		       XDP_DROP;
}

SEC("xdp")
int probe_atomics(struct xdp_md *ctx)
{
	(void)ctx;
	__sync_fetch_and_add(&shared_counter[0], 1);
	__sync_fetch_and_add(&shared_counter[1], 64);
	return XDP_PASS;
}
