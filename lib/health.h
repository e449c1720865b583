/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* WAN health state machine fed with probe rounds: pure, no I/O, no clock. */
#ifndef MWAN_HEALTH_H
#define MWAN_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "../maps/mwan_maps.h"

#define MWAN_HEALTH_WINDOW_MAX 64

struct mwan_health_params {
	unsigned int interval_ms;
	unsigned int timeout_ms;
	unsigned int window; /* probes per target judged for loss/RTT */
	unsigned int down_after; /* bad rounds in a row -> down (at least) */
	unsigned int up_after; /* good rounds in a row -> up (or hold) */
	unsigned int quorum; /* targets that must answer for a good round */
	unsigned int hold_down_s; /* recovered WAN waits this long */
	unsigned int
		loss_raise_pct; /* quorum-th best target's loss above: down */
	unsigned int loss_clear_pct; /* ... at or below: may come up */
	unsigned int rtt_raise_ms; /* quorum-th best RTT avg above: down; 0 off */
	unsigned int rtt_clear_ms; /* ... at or below: may come up */
};

struct mwan_target_window {
	uint32_t rtt_us[MWAN_HEALTH_WINDOW_MAX]; /* UINT32_MAX: lost */
	unsigned int head; /* next slot to write */
	unsigned int count;
	uint32_t sent;
	uint32_t received;
};

/* One WAN's probe state (not "struct mwan_health": C gives structs and
 * enums one tag namespace, and enum mwan_health is the verdict).
 */
struct mwan_wan_health {
	enum mwan_health state; /* what the dataplane is told */
	bool holding; /* recovered, waiting for hold_until_ms */
	enum mwan_health_reason reason; /* of the last change */
	uint64_t since_ms;
	uint64_t hold_until_ms;
	unsigned int bad_rounds; /* in a row */
	unsigned int good_rounds; /* in a row */
	unsigned int n_targets;
	struct mwan_target_window t[MWAN_HEALTH_TARGETS];
};

/* Start UP (reason MWAN_HR_START): a WAN is innocent until its probes
 * say otherwise, so a restart moves no flow.
 */
void mwan_health_init(struct mwan_wan_health *h, unsigned int n_targets,
		      uint64_t now_ms);

/* One judged round: answered[i] and rtt_us[i] for each target. Returns
 * true when h->state or h->holding changed.
 */
bool mwan_health_round(struct mwan_wan_health *h,
		       const struct mwan_health_params *p, const bool *answered,
		       const uint32_t *rtt_us, uint64_t now_ms);

/* Time passing without a round (hold-down expiry). Returns true on a
 * change.
 */
bool mwan_health_tick(struct mwan_wan_health *h,
		      const struct mwan_health_params *p, uint64_t now_ms);

/* Window statistics of one target. */
unsigned int mwan_target_loss_permille(const struct mwan_target_window *w);
uint32_t mwan_target_rtt_avg_us(const struct mwan_target_window *w);
uint32_t mwan_target_jitter_us(const struct mwan_target_window *w);

/* How long a probe may stay unanswered before its round counts as lost:
 * timeout_ms, but no longer than needed to meet a 1.5 s detection with
 * the defaults: max(interval, 4 x RTT avg + 4 x jitter + 20 ms), capped
 * by timeout_ms. RTT and jitter are those of the slowest target with an
 * answer in its window; with none, timeout_ms.
 */
unsigned int mwan_health_deadline_ms(const struct mwan_wan_health *h,
				     const struct mwan_health_params *p);

const char *mwan_health_reason_name(enum mwan_health_reason r);

#endif
