/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The forwarding ceiling: rewrite the MAC addresses and redirect every frame to the egress interface. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u8 macs[12]; /* destination, then source */

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

SEC("xdp")
int redirect(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u32 i;

	if (data + 14 > end)
		return XDP_PASS;
	for (i = 0; i < 12; i++)
		data[i] = macs[i];
	return bpf_redirect_map(&tx_port, 0, 0);
}
