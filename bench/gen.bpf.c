/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Traffic generator programs: stamp a flow into the template frame and XDP_TX it (live frames), or just stamp it (frames to inject). */
#include "stamp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int gen_v4(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + BENCH_FRAME4_LEN > end)
		return XDP_ABORTED;
	stamp4(data);
	return XDP_TX;
}

SEC("xdp")
int gen_v6(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + BENCH_FRAME6_LEN > end)
		return XDP_ABORTED;
	stamp6(data);
	return XDP_TX;
}

/* Does this kernel allow live frames? gen.c runs this once, as one. */
SEC("xdp")
int probe(struct xdp_md *ctx)
{
	return XDP_DROP;
}
