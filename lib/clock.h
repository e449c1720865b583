/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The clocks user space reads: monotonic (the datapath's bpf_ktime_get_ns) and wall time. */
#ifndef MWAN_LIB_CLOCK_H
#define MWAN_LIB_CLOCK_H

#include <time.h>
#include <linux/types.h>

#define MWAN_NS_PER_S 1000000000ULL
#define MWAN_NS_PER_MS 1000000ULL

static inline __u64 mwan_clock_ns(clockid_t id)
{
	struct timespec ts;

	/* cannot fail for these clocks and a valid pointer */
	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * MWAN_NS_PER_S + ts.tv_nsec;
}

/* CLOCK_MONOTONIC: what bpf_ktime_get_ns() stamps flows and records with
 * (and bpf_ktime_get_coarse_ns() coarsely), and every deadline.
 */
static inline __u64 mwan_mono_ns(void)
{
	return mwan_clock_ns(CLOCK_MONOTONIC);
}

static inline __u64 mwan_mono_ms(void)
{
	return mwan_mono_ns() / MWAN_NS_PER_MS;
}

/* CLOCK_REALTIME: only for showing people when something happened. */
static inline __u64 mwan_real_ns(void)
{
	return mwan_clock_ns(CLOCK_REALTIME);
}

#endif
