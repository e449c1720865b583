/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the stages hand each other: a verdict, the decision, rewrite results. */
#ifndef MWAN_BPF_VERDICT_H
#define MWAN_BPF_VERDICT_H

#include "steer.h"
#include "parse.h"

/* What a stage says about the packet: go on to the next stage (V_FWD),
 * or stop and leave it to the kernel (V_PASS) or drop it (V_DROP), with
 * the stat of decision.reason.
 */
enum verdict {
	V_PASS, /* not ours: the kernel handles it untouched */
	V_FWD, /* translate and forward */
	V_DROP,
};

/* What the decide stage found, for either family: the family's parts
 * (which table maps the host, the internal address) are fields, read by
 * the stages after it as the pipeline's `v6` says.
 */
struct decision {
	__u32 reason; /* stat to count for PASS and DROP */
	struct steer s; /* the WAN; IPv4: with the host's address on it */
	union {
		const struct mwan_nat4 *nat; /* IPv4 outbound: the host's NAT */
		const struct mwan_npt *npt; /* IPv6: the WAN's external prefix */
	};
	union addr46 internal; /* inbound: the internal host */
};

/* Rewrites (translate stage, and the forward stage's L2 and TTL) return
 * 0 or the drop reason to count. A store into the packet that fails has
 * a reason of its own, rewrite_failed: the checks before it said the
 * packet was long enough, so this is not a truncated packet but a
 * helper that refused (a clone it could not unshare, memory).
 */
#define XLATE_STORE_FAILED MWAN_DROP_STORE_FAILED

/* A ctx.h result (0 or negative) as a rewrite's. */
static __always_inline __u32 stored(int err)
{
	return err ? XLATE_STORE_FAILED : 0;
}

#endif
