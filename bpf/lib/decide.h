/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Decide stage: is a packet ours, by which WAN, to which internal host. */
#ifndef MWAN_BPF_DECIDE_H
#define MWAN_BPF_DECIDE_H

#include "steer.h"
#include "filter.h"

enum verdict {
	V_PASS, /* not ours: the kernel handles it untouched */
	V_FWD, /* translate and forward */
	V_DROP,
};

struct decision {
	__u32 reason; /* stat to count for PASS and DROP */
	struct steer s;
	const struct mwan_nat4 *nat;
	__be32 internal; /* inbound: the internal host */
};

struct decision6 {
	__u32 reason;
	struct steer s;
	const struct mwan_npt *npt;
	struct addr6 internal; /* inbound: the internal address */
};

#endif
