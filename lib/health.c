/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* WAN health state machine: probe windows, thresholds, hysteresis, hold-down. */
#include <string.h>

#include "health.h"

#define RTT_LOST UINT32_MAX

/* What the thresholds are compared with: the quorum-th best target. */
struct verdict {
	unsigned int loss_permille;
	uint32_t rtt_avg_us;
	bool enough; /* at least window/2 samples: raise thresholds apply */
};

static unsigned int at_least_1(unsigned int v)
{
	return v ? v : 1;
}

static unsigned int eff_window(const struct mwan_health_params *p)
{
	unsigned int w = at_least_1(p->window);

	return w > MWAN_HEALTH_WINDOW_MAX ? MWAN_HEALTH_WINDOW_MAX : w;
}

static unsigned int eff_quorum(const struct mwan_wan_health *h,
			       const struct mwan_health_params *p)
{
	unsigned int q = at_least_1(p->quorum);

	return q > h->n_targets ? h->n_targets : q;
}

static unsigned int rtt_clear_ms(const struct mwan_health_params *p)
{
	unsigned int clear;

	if (p->rtt_clear_ms)
		return p->rtt_clear_ms;
	clear = p->rtt_raise_ms * 8 / 10;
	return at_least_1(clear);
}

/* ---- one target's window ---- */

/* The ring always spans MWAN_HEALTH_WINDOW_MAX slots, so the statistics
 * need nothing but the window itself; count stops at the judged size.
 */
static void window_push(struct mwan_target_window *w, bool answered,
			uint32_t rtt_us, unsigned int size)
{
	if (answered && rtt_us == RTT_LOST)
		rtt_us = RTT_LOST - 1;
	w->rtt_us[w->head] = answered ? rtt_us : RTT_LOST;
	w->head = (w->head + 1) % MWAN_HEALTH_WINDOW_MAX;
	if (w->count > size)
		w->count = size;
	else if (w->count < size)
		w->count++;
	w->sent++;
	if (answered)
		w->received++;
}

/* The i-th oldest sample of the window, i < count. */
static uint32_t window_at(const struct mwan_target_window *w, unsigned int i)
{
	unsigned int n = MWAN_HEALTH_WINDOW_MAX;

	return w->rtt_us[(w->head + n - w->count + i) % n];
}

unsigned int mwan_target_loss_permille(const struct mwan_target_window *w)
{
	unsigned int i, lost = 0;

	if (!w->count)
		return 0;
	for (i = 0; i < w->count; i++)
		if (window_at(w, i) == RTT_LOST)
			lost++;
	return lost * 1000 / w->count;
}

uint32_t mwan_target_rtt_avg_us(const struct mwan_target_window *w)
{
	unsigned int i, n = 0;
	uint64_t sum = 0;
	uint32_t rtt;

	for (i = 0; i < w->count; i++) {
		rtt = window_at(w, i);
		if (rtt == RTT_LOST)
			continue;
		sum += rtt;
		n++;
	}
	return n ? sum / n : 0;
}

/* Consecutive among the answered probes: a lost one in between is
 * skipped, not counted as a jump.
 */
uint32_t mwan_target_jitter_us(const struct mwan_target_window *w)
{
	uint32_t rtt, prev = RTT_LOST;
	unsigned int i, n = 0;
	uint64_t sum = 0;

	for (i = 0; i < w->count; i++) {
		rtt = window_at(w, i);
		if (rtt == RTT_LOST)
			continue;
		if (prev != RTT_LOST) {
			sum += rtt > prev ? rtt - prev : prev - rtt;
			n++;
		}
		prev = rtt;
	}
	return n ? sum / n : 0;
}

static unsigned int window_answered(const struct mwan_target_window *w)
{
	unsigned int i, n = 0;

	for (i = 0; i < w->count; i++)
		if (window_at(w, i) != RTT_LOST)
			n++;
	return n;
}

/* ---- lost rounds against the background loss ---- */

/* down_after rounds in a row without quorum say "the path is dead" on a
 * clean line. On a lossy one they also come by chance: two targets at
 * 20 % loss each miss quorum together in 4 % of rounds, so three in a
 * row come about once in 16 000 rounds, every hour at 250 ms. An up WAN
 * goes down for lost rounds only after a streak that the loss it had
 * before the streak would make by chance less than once in this long,
 * on average (seconds).
 */
#define LOST_STREAK_EVERY_S 86400

/* Sample j of a target's ring, 0 the newest. */
static uint32_t ring_at(const struct mwan_target_window *w, unsigned int j)
{
	unsigned int m = MWAN_HEALTH_WINDOW_MAX;

	return w->rtt_us[(w->head + m - 1 - j) % m];
}

/* Whether round j (0 the newest) reached quorum: every round pushed one
 * sample into each target's ring.
 */
static bool ring_round_good(const struct mwan_wan_health *h,
			    unsigned int quorum, unsigned int j)
{
	unsigned int i, n = 0;

	for (i = 0; i < h->n_targets; i++)
		if (ring_at(&h->t[i], j) != RTT_LOST)
			n++;
	return n >= quorum;
}

/* The chance that a round misses quorum by chance alone: every target
 * lost independently at its background rate (a target that never
 * answers is lost every time, a clean one never). A target's background
 * loss is taken from the rounds before the current streak (the streak
 * must not set its own bar) that were not part of an outage (a run of
 * down_after bad rounds or more, such as the last one): the higher of
 * the judged window's, which sees loss begin, and the whole ring's
 * (MWAN_HEALTH_WINDOW_MAX rounds), which a few lucky rounds do not talk
 * down.
 */
static double round_bad_chance(const struct mwan_wan_health *h,
			       const struct mwan_health_params *p)
{
	unsigned int m = MWAN_HEALTH_WINDOW_MAX, quorum = eff_quorum(h, p);
	unsigned int window = eff_window(p), skip = h->bad_rounds;
	unsigned int held = h->t[0].sent < m ? h->t[0].sent : m;
	unsigned int lost_w[MWAN_HEALTH_TARGETS] = { 0 };
	unsigned int lost_r[MWAN_HEALTH_TARGETS] = { 0 };
	unsigned int i, j, k, run = 0, n_w = 0, n_r = 0;
	double d[MWAN_HEALTH_TARGETS + 1] = { 1.0 }, l, lw, bad = 0;
	bool use[MWAN_HEALTH_WINDOW_MAX];

	for (j = skip; j <= held; j++) {
		if (j < held && !ring_round_good(h, quorum, j)) {
			run++;
			continue;
		}
		for (k = j - run; k < j; k++)
			use[k] = run < at_least_1(p->down_after);
		if (j < held)
			use[j] = true;
		run = 0;
	}
	for (j = skip; j < held; j++) {
		if (!use[j])
			continue;
		n_r++;
		n_w += j < window;
		for (i = 0; i < h->n_targets; i++) {
			if (ring_at(&h->t[i], j) != RTT_LOST)
				continue;
			lost_r[i]++;
			lost_w[i] += j < window;
		}
	}
	/* d[k]: the chance that k of the first i targets answer */
	for (i = 0; i < h->n_targets; i++) {
		l = n_r ? (double)lost_r[i] / n_r : 0;
		lw = n_w ? (double)lost_w[i] / n_w : 0;
		if (lw > l)
			l = lw;
		for (k = i + 1; k > 0; k--)
			d[k] = d[k] * l + d[k - 1] * (1 - l);
		d[0] *= l;
	}
	for (k = 0; k < quorum; k++)
		bad += d[k];
	return bad;
}

/* Bad rounds in a row that take an up WAN down: down_after, or more
 * while the background loss would make down_after of them by chance
 * more often than once in LOST_STREAK_EVERY_S; at most the window (the
 * loss threshold takes a dead path down before that).
 */
static unsigned int lost_rounds_needed(const struct mwan_wan_health *h,
				       const struct mwan_health_params *p)
{
	unsigned int n = at_least_1(p->down_after), max = eff_window(p), i;
	double q = round_bad_chance(h, p);
	double odds = 1,
	       want = LOST_STREAK_EVERY_S * 1000.0 / at_least_1(p->interval_ms);

	if (q <= 0)
		return n;
	for (i = 0; i < n; i++)
		odds /= q;
	while (odds < want && n < max) {
		odds /= q;
		n++;
	}
	return n;
}

/* ---- judging the WAN ---- */

struct target_rank {
	unsigned int loss_permille;
	uint32_t rtt_avg_us;
};

/* Lower loss first; equal loss: lower RTT. */
static bool rank_before(const struct target_rank *a,
			const struct target_rank *b)
{
	if (a->loss_permille != b->loss_permille)
		return a->loss_permille < b->loss_permille;
	return a->rtt_avg_us < b->rtt_avg_us;
}

static void rank_sort(struct target_rank *r, unsigned int n)
{
	struct target_rank cur;
	unsigned int i, j;

	for (i = 1; i < n; i++) {
		cur = r[i];
		for (j = i; j > 0 && rank_before(&cur, &r[j - 1]); j--)
			r[j] = r[j - 1];
		r[j] = cur;
	}
}

/* The WAN is as good as its quorum-th best target (by loss). */
static void judge(const struct mwan_wan_health *h,
		  const struct mwan_health_params *p, struct verdict *v)
{
	struct target_rank r[MWAN_HEALTH_TARGETS];
	unsigned int i, min_count = MWAN_HEALTH_WINDOW_MAX;

	for (i = 0; i < h->n_targets; i++) {
		r[i].loss_permille = mwan_target_loss_permille(&h->t[i]);
		r[i].rtt_avg_us = mwan_target_rtt_avg_us(&h->t[i]);
		if (h->t[i].count < min_count)
			min_count = h->t[i].count;
	}
	rank_sort(r, h->n_targets);
	i = eff_quorum(h, p) - 1;
	v->loss_permille = r[i].loss_permille;
	v->rtt_avg_us = r[i].rtt_avg_us;
	v->enough = min_count >= at_least_1(eff_window(p) / 2);
}

/* MWAN_HR_NONE when no raise threshold is crossed. */
static enum mwan_health_reason raised(const struct mwan_health_params *p,
				      const struct verdict *v)
{
	if (!v->enough)
		return MWAN_HR_NONE;
	if (v->loss_permille > p->loss_raise_pct * 10U)
		return MWAN_HR_LOSS;
	if (p->rtt_raise_ms && v->rtt_avg_us > p->rtt_raise_ms * 1000ULL)
		return MWAN_HR_LATENCY;
	return MWAN_HR_NONE;
}

static bool cleared(const struct mwan_health_params *p, const struct verdict *v)
{
	if (v->loss_permille > p->loss_clear_pct * 10U)
		return false;
	return !p->rtt_raise_ms || v->rtt_avg_us <= rtt_clear_ms(p) * 1000ULL;
}

static bool change(struct mwan_wan_health *h, enum mwan_health state,
		   bool holding, enum mwan_health_reason reason,
		   uint64_t now_ms)
{
	h->state = state;
	h->holding = holding;
	h->reason = reason;
	h->since_ms = now_ms;
	if (state == MWAN_HEALTH_DOWN && !holding)
		h->good_rounds = 0;
	return true;
}

static bool judge_up(struct mwan_wan_health *h,
		     const struct mwan_health_params *p,
		     const struct verdict *v, bool good, uint64_t now_ms)
{
	enum mwan_health_reason r;

	if (!good && h->bad_rounds >= at_least_1(p->down_after) &&
	    h->bad_rounds >= lost_rounds_needed(h, p))
		return change(h, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS,
			      now_ms);
	r = raised(p, v);
	if (r != MWAN_HR_NONE)
		return change(h, MWAN_HEALTH_DOWN, false, r, now_ms);
	return false;
}

static bool judge_down(struct mwan_wan_health *h,
		       const struct mwan_health_params *p,
		       const struct verdict *v, bool good, uint64_t now_ms)
{
	if (!good || h->good_rounds < at_least_1(p->up_after) || !cleared(p, v))
		return false;
	if (!p->hold_down_s)
		return change(h, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED,
			      now_ms);
	h->hold_until_ms = now_ms + p->hold_down_s * 1000ULL;
	return change(h, MWAN_HEALTH_DOWN, true, MWAN_HR_HOLD_DOWN, now_ms);
}

/* Recovered and waiting: a bad round (or a raise threshold) starts the
 * recovery over; surviving until hold_until_ms brings the WAN up.
 */
static bool judge_holding(struct mwan_wan_health *h,
			  const struct mwan_health_params *p,
			  const struct verdict *v, bool good, uint64_t now_ms)
{
	enum mwan_health_reason r = raised(p, v);

	if (!good)
		return change(h, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS,
			      now_ms);
	if (r != MWAN_HR_NONE)
		return change(h, MWAN_HEALTH_DOWN, false, r, now_ms);
	return mwan_health_tick(h, p, now_ms);
}

void mwan_health_init(struct mwan_wan_health *h, unsigned int n_targets,
		      uint64_t now_ms)
{
	memset(h, 0, sizeof(*h));
	h->state = MWAN_HEALTH_UP;
	h->reason = MWAN_HR_START;
	h->since_ms = now_ms;
	h->n_targets = n_targets > MWAN_HEALTH_TARGETS ? MWAN_HEALTH_TARGETS :
							 n_targets;
}

/* Pushes the round into the windows; true when it reached quorum. */
static bool record_round(struct mwan_wan_health *h,
			 const struct mwan_health_params *p,
			 const bool *answered, const uint32_t *rtt_us)
{
	unsigned int i, n = 0;

	for (i = 0; i < h->n_targets; i++) {
		window_push(&h->t[i], answered[i], rtt_us[i], eff_window(p));
		if (answered[i])
			n++;
	}
	return n >= eff_quorum(h, p);
}

bool mwan_health_round(struct mwan_wan_health *h,
		       const struct mwan_health_params *p, const bool *answered,
		       const uint32_t *rtt_us, uint64_t now_ms)
{
	struct verdict v;
	bool good;

	if (!h->n_targets)
		return false;
	good = record_round(h, p, answered, rtt_us);
	if (good) {
		h->good_rounds++;
		h->bad_rounds = 0;
	} else {
		h->bad_rounds++;
		h->good_rounds = 0;
	}
	judge(h, p, &v);
	if (h->state == MWAN_HEALTH_UP)
		return judge_up(h, p, &v, good, now_ms);
	if (h->holding)
		return judge_holding(h, p, &v, good, now_ms);
	return judge_down(h, p, &v, good, now_ms);
}

bool mwan_health_tick(struct mwan_wan_health *h,
		      const struct mwan_health_params *p, uint64_t now_ms)
{
	(void)p;
	if (!h->holding || now_ms < h->hold_until_ms)
		return false;
	return change(h, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED, now_ms);
}

/* 4 x RTT avg + 4 x jitter + 20 ms for the slowest answering target,
 * rounded up to whole ms; 0 when no target answered in its window.
 */
static uint64_t rtt_deadline_ms(const struct mwan_wan_health *h)
{
	uint64_t us, worst = 0;
	bool any = false;
	unsigned int i;

	for (i = 0; i < h->n_targets; i++) {
		if (!window_answered(&h->t[i]))
			continue;
		us = 4ULL * mwan_target_rtt_avg_us(&h->t[i]) +
		     4ULL * mwan_target_jitter_us(&h->t[i]);
		if (us > worst)
			worst = us;
		any = true;
	}
	return any ? (worst + 999) / 1000 + 20 : 0;
}

unsigned int mwan_health_deadline_ms(const struct mwan_wan_health *h,
				     const struct mwan_health_params *p)
{
	uint64_t d = rtt_deadline_ms(h);

	if (!d)
		return p->timeout_ms;
	if (d < p->interval_ms)
		d = p->interval_ms;
	return d < p->timeout_ms ? d : p->timeout_ms;
}

const char *mwan_health_reason_name(enum mwan_health_reason r)
{
	static const char *const names[MWAN_HR_MAX] = {
		[MWAN_HR_NONE] = "none",
		[MWAN_HR_START] = "start",
		[MWAN_HR_NO_PROBES] = "no_probes",
		[MWAN_HR_LOST_ROUNDS] = "lost_rounds",
		[MWAN_HR_LOSS] = "loss",
		[MWAN_HR_LATENCY] = "latency",
		[MWAN_HR_RECOVERED] = "recovered",
		[MWAN_HR_HOLD_DOWN] = "hold_down",
		[MWAN_HR_LINK_DOWN] = "link_down",
	};

	if ((unsigned int)r >= MWAN_HR_MAX || !names[r])
		return "unknown";
	return names[r];
}
