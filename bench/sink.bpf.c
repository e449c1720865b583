/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Sink: count the generator's frames per CPU, check their source addresses (and sampled checksums), then drop them or turn each into the next flow's frame and send it round again. */
#include <stdbool.h>
#include <linux/if_ether.h>
#include <linux/in.h>

#include "stamp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define V4_SADDR 26
#define V6_SADDR 22
#define PL_MAGIC 8 /* from the UDP header */

/* Set by gen.c: the source address host 0 must arrive with (host i: the
 * last 16-bit word plus i), and for NPTv6 how many leading bytes to check
 * (the prefix; the word RFC 6296 adjusts is covered by the checksum).
 */
const volatile __u8 want4[4];
const volatile __u8 want6[16];
const volatile __u32 want6_prefix = 14; /* leading bytes compared */
/* The closed loop: every frame of ours becomes the next flow's frame
 * (stamp.h) and goes out of tx_port[0], the generator's interface, to
 * the router again. Otherwise the sink drops what it counts.
 */
const volatile bool loop;
/* Set by gen.c at the end of a run: the loop stops, and each frame still
 * going round is counted once more (drained) and dropped, which tells how
 * many of those injected were still in flight.
 */
bool loop_stop;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_sink_counters);
} counters SEC(".maps");

static __always_inline __u32 sum16(const __u8 *p, __u32 words)
{
	__u32 s = 0, i;

	for (i = 0; i < words; i++)
		s += (p[2 * i] << 8) | p[2 * i + 1];
	return s;
}

static __always_inline bool csum_ok(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

#define UDP_LEN (8 + sizeof(struct bench_payload))

/* Full IPv4 header and UDP checksums of a 60-byte frame. */
static __always_inline bool csums4_ok(const __u8 *ip)
{
	const __u8 *udp = ip + 20;
	__u32 s = sum16(ip + 12, 4) + IPPROTO_UDP + UDP_LEN;

	if (!csum_ok(sum16(ip, 10)))
		return false;
	return (!udp[6] && !udp[7]) || csum_ok(s + sum16(udp, UDP_LEN / 2));
}

static __always_inline bool csums6_ok(const __u8 *ip6)
{
	const __u8 *udp = ip6 + 40;
	__u32 s = sum16(ip6 + 8, 16) + IPPROTO_UDP + UDP_LEN;

	return csum_ok(s + sum16(udp, UDP_LEN / 2));
}

static __always_inline bool addr_ok(const __u8 *got, const volatile __u8 *want,
				    __u32 len, __u32 check, __u8 host)
{
	__u16 lo = ((want[len - 2] << 8) | want[len - 1]) + host;
	__u32 i;

	for (i = 0; i < len - 2; i++)
		if (i < check && got[i] != want[i])
			return false;
	return got[len - 2] == (lo >> 8) && got[len - 1] == (lo & 0xff);
}

/* Count the frame, then drop it or send it round the loop again. */
static __always_inline int count(__u8 *data, struct bench_sink_counters *c,
				 bool v6, bool ok, bool check, bool csums)
{
	if (loop && loop_stop) {
		c->drained++;
		return XDP_DROP;
	}
	c->pkts++;
	if (!ok)
		c->wrong++;
	else if (v6)
		c->v6_ok++;
	else
		c->v4_ok++;
	if (check) {
		c->csum_checked++;
		c->csum_bad += !csums;
	}
	if (!loop)
		return XDP_DROP;
	if (v6)
		stamp6(data);
	else
		stamp4(data);
	return bpf_redirect_map(&tx_port, 0, XDP_DROP);
}

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	struct bench_sink_counters *c;
	__u32 zero = 0, l4;
	__u16 proto;
	__u8 *udp;
	bool v6, check;

	c = bpf_map_lookup_elem(&counters, &zero);
	if (!c || data + V4_UDP + UDP_LEN > end)
		goto other;
	proto = (data[12] << 8) | data[13];
	v6 = proto == ETH_P_IPV6;
	if (!v6 && proto != ETH_P_IP)
		goto other;
	if (v6 && data + V6_UDP + UDP_LEN > end)
		goto other;
	l4 = v6 ? V6_UDP : V4_UDP;
	udp = data + l4;
	if (data[v6 ? 20 : 23] != IPPROTO_UDP ||
	    *(__be32 *)(udp + PL_MAGIC) != bpf_htonl(BENCH_MAGIC) ||
	    udp[PL_HOST] >= hosts)
		goto other;
	check = (c->pkts % BENCH_CSUM_SAMPLE) == 0;
	if (v6)
		return count(data, c, true,
			     addr_ok(data + V6_SADDR, want6, 16, want6_prefix,
				     udp[PL_HOST]),
			     check, check && csums6_ok(data + 14));
	return count(data, c, false,
		     addr_ok(data + V4_SADDR, want4, 4, 4, udp[PL_HOST]), check,
		     check && csums4_ok(data + 14));
other:
	if (c)
		c->other++;
	return XDP_PASS;
}
