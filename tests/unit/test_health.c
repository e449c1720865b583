/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/health.c fed with synthetic probe rounds, and its effect on lib/steer.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lib/health.h"
#include "lib/steer.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS(x) ((uint32_t)(x)*1000U)
#define T0 1000000ULL /* an arbitrary monotonic start */

/* One WAN's state machine with a clock that advances a round at a time. */
struct sim {
	struct mwan_wan_health h;
	struct mwan_health_params p;
	uint64_t now;
	unsigned int changes;
};

static void default_params(struct mwan_health_params *p)
{
	memset(p, 0, sizeof(*p));
	p->interval_ms = 250;
	p->timeout_ms = 1000;
	p->window = 20;
	p->down_after = 3;
	p->up_after = 8;
	p->quorum = 1;
	p->hold_down_s = 0;
	p->loss_raise_pct = 50;
	p->loss_clear_pct = 25;
}

static void sim_init(struct sim *s, unsigned int n_targets)
{
	memset(s, 0, sizeof(*s));
	default_params(&s->p);
	s->now = T0;
	mwan_health_init(&s->h, n_targets, s->now);
}

/* One round: target i answered when bit i of mask is set, all with rtt. */
static bool sim_round_rtt(struct sim *s, unsigned int mask, uint32_t rtt_us)
{
	bool answered[MWAN_HEALTH_TARGETS];
	uint32_t rtt[MWAN_HEALTH_TARGETS];
	unsigned int i;
	bool changed;

	for (i = 0; i < MWAN_HEALTH_TARGETS; i++) {
		answered[i] = mask & (1U << i);
		rtt[i] = answered[i] ? rtt_us : UINT32_MAX;
	}
	s->now += s->p.interval_ms;
	changed = mwan_health_round(&s->h, &s->p, answered, rtt, s->now);
	if (changed)
		s->changes++;
	return changed;
}

static bool sim_round(struct sim *s, unsigned int mask)
{
	return sim_round_rtt(s, mask, MS(10));
}

/* n rounds alike; returns the 1-based round that changed state, else 0. */
static unsigned int sim_rounds(struct sim *s, unsigned int n, unsigned int mask,
			       uint32_t rtt_us)
{
	unsigned int i;

	for (i = 1; i <= n; i++)
		if (sim_round_rtt(s, mask, rtt_us))
			return i;
	return 0;
}

/* n rounds alike, whatever happens on the way. */
static void sim_run(struct sim *s, unsigned int n, unsigned int mask,
		    uint32_t rtt_us)
{
	while (n--)
		sim_round_rtt(s, mask, rtt_us);
}

/* A steady, fully answered window. */
static void sim_settle(struct sim *s, unsigned int mask)
{
	assert_int_equal(sim_rounds(s, s->p.window, mask, MS(10)), 0);
	assert_int_equal(s->h.state, MWAN_HEALTH_UP);
}

static void assert_state(const struct sim *s, enum mwan_health state,
			 bool holding, enum mwan_health_reason reason)
{
	assert_int_equal(s->h.state, state);
	assert_int_equal(s->h.holding, holding);
	assert_string_equal(mwan_health_reason_name(s->h.reason),
			    mwan_health_reason_name(reason));
}

/* Seeded xorshift32: the same "random" loss on every run. */
static uint32_t prng(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static bool lost_pct(uint32_t *x, unsigned int pct)
{
	return prng(x) % 100 < pct;
}

/* ---- start, names ---- */

static void test_start_up(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 2);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
	assert_int_equal(s.h.since_ms, T0);
	assert_int_equal(s.h.n_targets, 2);
	assert_int_equal(s.h.bad_rounds, 0);
	assert_int_equal(s.h.good_rounds, 0);

	/* More targets than the map holds: the rest are ignored. */
	mwan_health_init(&s.h, MWAN_HEALTH_TARGETS + 3, T0);
	assert_int_equal(s.h.n_targets, MWAN_HEALTH_TARGETS);

	/* No targets: rounds are no-ops, not a division by zero. */
	sim_init(&s, 0);
	assert_int_equal(sim_rounds(&s, 10, 0, 0), 0);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
}

static void test_reason_names(void **state)
{
	static const char *const want[] = {
		"none",	   "start",	"no_probes", "lost_rounds", "loss",
		"latency", "recovered", "hold_down", "link_down",
	};
	unsigned int i;

	(void)state;
	assert_int_equal(ARRAY_SIZE(want), MWAN_HR_MAX);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(mwan_health_reason_name(i), want[i]);
	assert_string_equal(mwan_health_reason_name(MWAN_HR_MAX), "unknown");
	assert_string_equal(
		mwan_health_reason_name((enum mwan_health_reason) - 1),
		"unknown");
}

/* ---- window statistics ---- */

static void push(struct sim *s, uint32_t rtt_us)
{
	sim_round_rtt(s, rtt_us == UINT32_MAX ? 0 : 1, rtt_us);
}

static void test_window_stats(void **state)
{
	const struct mwan_target_window *w;
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.window = 4;
	s.p.down_after = 4;
	w = &s.h.t[0];
	assert_int_equal(mwan_target_loss_permille(w), 0);
	assert_int_equal(mwan_target_rtt_avg_us(w), 0);
	assert_int_equal(mwan_target_jitter_us(w), 0);

	push(&s, 10000);
	assert_int_equal(mwan_target_rtt_avg_us(w), 10000);
	assert_int_equal(mwan_target_jitter_us(w), 0); /* one RTT: no jitter */
	push(&s, UINT32_MAX);
	push(&s, 30000);
	push(&s, 20000);
	/* 10, lost, 30, 20: jitter |30-10| and |20-30|, the loss skipped */
	assert_int_equal(w->count, 4);
	assert_int_equal(mwan_target_loss_permille(w), 250);
	assert_int_equal(mwan_target_rtt_avg_us(w), 20000);
	assert_int_equal(mwan_target_jitter_us(w), 15000);

	push(&s, 40000); /* 10 slides out: lost, 30, 20, 40 */
	assert_int_equal(w->count, 4);
	assert_int_equal(mwan_target_loss_permille(w), 250);
	assert_int_equal(mwan_target_rtt_avg_us(w), 30000);
	assert_int_equal(mwan_target_jitter_us(w), 15000);

	push(&s, 1000); /* 30, 20, 40, 1 */
	assert_int_equal(mwan_target_loss_permille(w), 0);
	assert_int_equal(mwan_target_rtt_avg_us(w), 22750);
	assert_int_equal(mwan_target_jitter_us(w), (10000 + 20000 + 39000) / 3);
	assert_int_equal(w->sent, 6);
	assert_int_equal(w->received, 5);

	push(&s, UINT32_MAX);
	push(&s, UINT32_MAX);
	push(&s, UINT32_MAX); /* 1, lost, lost, lost */
	assert_int_equal(mwan_target_loss_permille(w), 750);
	assert_int_equal(mwan_target_rtt_avg_us(w), 1000);
	assert_int_equal(mwan_target_jitter_us(w), 0);
	push(&s, UINT32_MAX);
	assert_int_equal(mwan_target_loss_permille(w), 1000);
	assert_int_equal(mwan_target_rtt_avg_us(w), 0);
	assert_int_equal(w->sent, 10);
	assert_int_equal(w->received, 5);
}

/* 1 lost of 3 rounds down, and a window wider than the ring's wrap. */
static void test_window_rounding_and_wrap(void **state)
{
	const struct mwan_target_window *w;
	struct sim s;
	unsigned int i;

	(void)state;
	sim_init(&s, 1);
	s.p.window = 3;
	w = &s.h.t[0];
	push(&s, 1000);
	push(&s, UINT32_MAX);
	push(&s, 2000);
	assert_int_equal(mwan_target_loss_permille(w), 333);
	assert_int_equal(mwan_target_rtt_avg_us(w), 1500);
	assert_int_equal(mwan_target_jitter_us(w), 1000);

	sim_init(&s, 1);
	s.p.window = MWAN_HEALTH_WINDOW_MAX;
	s.p.down_after = MWAN_HEALTH_WINDOW_MAX;
	s.p.loss_raise_pct = 100;
	/* 150 rounds: i * 100 us, every 4th lost; the window keeps 86..149 */
	for (i = 0; i < 150; i++)
		push(&s, i % 4 == 3 ? UINT32_MAX : i * 100);
	assert_int_equal(w->count, MWAN_HEALTH_WINDOW_MAX);
	assert_int_equal(mwan_target_loss_permille(w), 16 * 1000 / 64);
	/* answered: 86..149 minus 87, 91, ..., 147: sum 7520 - 1872 */
	assert_int_equal(mwan_target_rtt_avg_us(w), (7520 - 1872) * 100 / 48);

	/* An answer claiming UINT32_MAX us is slow, not lost. */
	sim_init(&s, 1);
	sim_round_rtt(&s, 1, UINT32_MAX);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 0);
	assert_int_equal(mwan_target_rtt_avg_us(&s.h.t[0]), UINT32_MAX - 1);
}

/* A smaller window judges only the newest samples. */
static void test_window_shrinks(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.loss_raise_pct = 100;
	s.p.down_after = 20;
	push(&s, UINT32_MAX);
	push(&s, UINT32_MAX);
	push(&s, 5000);
	push(&s, 7000);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 500);
	s.p.window = 2;
	push(&s, 9000); /* judged: 7000, 9000 */
	assert_int_equal(s.h.t[0].count, 2);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 0);
	assert_int_equal(mwan_target_rtt_avg_us(&s.h.t[0]), 8000);
	assert_int_equal(mwan_target_jitter_us(&s.h.t[0]), 2000);
}

/* ---- thresholds with the defaults ---- */

static void test_thresholds_steady(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	sim_settle(&s, 1);
	assert_int_equal(s.changes, 0);
	/* Two lost rounds are not enough; the third is. */
	assert_int_equal(sim_rounds(&s, 3, 0, 0), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	assert_int_equal(s.h.since_ms, s.now);
	assert_int_equal(s.h.bad_rounds, 3);
	/* 3 lost of 20 is 15 %: clear, so the 8th good round brings it up */
	assert_int_equal(sim_rounds(&s, 20, 1, MS(10)), 8);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_int_equal(s.h.since_ms, s.now);
	assert_int_equal(s.changes, 2);
}

/* From a fresh start the window is short: after 3 lost and 8 answered
 * probes the loss is still 27 % > 25 %, so the 9th good round (25 %) is
 * the one.
 */
static void test_thresholds_fresh(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	assert_int_equal(sim_rounds(&s, 3, 0, 0), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	assert_int_equal(sim_rounds(&s, 20, 1, MS(10)), 9);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 250);
}

/* Raise thresholds wait for window/2 samples: 1 lost probe of 1 is not
 * 100 % loss.
 */
static void test_raise_needs_half_window(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.down_after = 20;
	assert_int_equal(sim_rounds(&s, 20, 0, 0), 10);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOSS);

	/* window 1: half of it rounds up to one sample */
	sim_init(&s, 1);
	s.p.window = 1;
	s.p.down_after = 5;
	assert_int_equal(sim_rounds(&s, 5, 0, 0), 1);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOSS);
}

static void test_dead_wan(void **state)
{
	uint64_t last_answer, deadline;
	unsigned int n;
	struct sim s;

	(void)state;
	for (n = 1; n <= 3; n++) {
		sim_init(&s, n);
		sim_settle(&s, (1U << n) - 1);
		last_answer = s.now;
		deadline = mwan_health_deadline_ms(&s.h, &s.p);
		assert_int_equal(deadline, 250);
		assert_int_equal(sim_rounds(&s, 10, 0, 0), 3);
		assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
		/* the third lost round is judged a deadline after it left */
		assert_int_equal(s.now - last_answer, 750);
		assert_true(s.now - last_answer + deadline <= 1500);
		/* and stays down */
		assert_int_equal(sim_rounds(&s, 200, 0, 0), 0);
		assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	}
}

/* ---- quorum ---- */

static void test_quorum(void **state)
{
	struct sim s;

	(void)state;
	/* target 1 dead, target 0 answers: quorum 1 keeps it up */
	sim_init(&s, 2);
	assert_int_equal(sim_rounds(&s, 240, 1, MS(10)), 0);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);

	/* quorum 2: three rounds with one answer are three bad rounds */
	sim_init(&s, 2);
	s.p.quorum = 2;
	sim_settle(&s, 3);
	assert_int_equal(sim_rounds(&s, 10, 1, MS(10)), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	assert_int_equal(sim_rounds(&s, 20, 3, MS(10)), 8);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);

	/* quorum above the number of targets counts as all of them */
	sim_init(&s, 2);
	s.p.quorum = 7;
	sim_settle(&s, 3);
	assert_int_equal(sim_rounds(&s, 10, 2, MS(10)), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* quorum 0 counts as 1 */
	sim_init(&s, 2);
	s.p.quorum = 0;
	assert_int_equal(sim_rounds(&s, 100, 2, MS(10)), 0);
	assert_int_equal(sim_rounds(&s, 10, 0, 0), 3);
}

/* Loss is judged on the quorum-th best target. */
static void test_quorum_loss_target(void **state)
{
	/* 60 % loss, never three in a row: lost, lost, ok, lost, ok */
	static const unsigned int pattern[] = { 0, 0, 1, 0, 1 };
	unsigned int i, mask, q, down_at;
	struct sim s;

	(void)state;
	for (q = 1; q <= 2; q++) {
		sim_init(&s, 2);
		s.p.quorum = q;
		s.p.down_after = 20;
		down_at = 0;
		for (i = 0; i < 240 && !down_at; i++) {
			mask = 1U | pattern[i % 5] << 1; /* target 1 lossy */
			if (sim_round(&s, mask))
				down_at = i + 1;
		}
		if (q == 1) {
			assert_int_equal(down_at, 0);
			assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
		} else {
			assert_int_equal(down_at, 10);
			assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOSS);
		}
	}
}

/* ---- hysteresis and loss ---- */

static void test_hysteresis_alternating(void **state)
{
	unsigned int i;
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	for (i = 0; i < 1000; i++)
		assert_false(sim_round(&s, i % 2 ? 0 : 1));
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 500);

	/* two bad, one good: never three in a row, but 67 % loss */
	sim_init(&s, 1);
	sim_settle(&s, 1);
	for (i = 0; i < 60 && !s.changes; i++)
		sim_round(&s, i % 3 == 2);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOSS);

	/* down, alternating never brings it back */
	sim_init(&s, 1);
	sim_settle(&s, 1);
	assert_int_equal(sim_rounds(&s, 3, 0, 0), 3);
	for (i = 0; i < 1000; i++)
		assert_false(sim_round(&s, i % 2 ? 0 : 1));
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* up_after - 1 good rounds and a bad one, again and again */
	for (i = 0; i < 1000; i++)
		assert_false(sim_round(&s, i % 8 == 7 ? 0 : 1));
	assert_int_equal(s.h.state, MWAN_HEALTH_DOWN);

	/* down_after - 1 bad rounds and a good one, loss raise out of reach */
	sim_init(&s, 1);
	sim_settle(&s, 1);
	s.p.loss_raise_pct = 70;
	for (i = 0; i < 1000; i++)
		assert_false(sim_round(&s, i % 3 == 2));
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
}

/* Every single round flips nothing: only runs (or the window) do. */
static void test_single_round_never_flips(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	sim_settle(&s, 1);
	assert_false(sim_round(&s, 0));
	assert_false(sim_round(&s, 1));
	assert_false(sim_round(&s, 0));
	assert_false(sim_round(&s, 0));
	assert_int_equal(s.h.bad_rounds, 2);
	/* 1 probe lost of the 17 before the streak (6 %): 3 in a row by
	 * chance every 4 900 rounds, 5 every 1.4 million: the 5th is the one
	 */
	assert_int_equal(sim_rounds(&s, 5, 0, 0), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	assert_false(sim_round(&s, 1));
	assert_int_equal(s.h.good_rounds, 1);
	assert_int_equal(s.h.state, MWAN_HEALTH_DOWN);
}

static void test_loss_raise_random(void **state)
{
	unsigned int i, down_at = 0;
	uint32_t x = 0x1234567;
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.down_after = 20; /* only the loss threshold can take it down */
	sim_settle(&s, 1);
	for (i = 1; i <= 240 && !down_at; i++)
		if (sim_round(&s, !lost_pct(&x, 60)))
			down_at = i;
	assert_true(down_at > 0);
	assert_true(down_at <= 40);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOSS);
	assert_true(mwan_target_loss_permille(&s.h.t[0]) > 500);

	/* it comes back only after 8 good rounds in a row at <= 25 % loss */
	for (i = 0; i < 40 && s.h.state == MWAN_HEALTH_DOWN; i++)
		sim_round(&s, 1);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_true(s.h.good_rounds >= 8);
	assert_true(mwan_target_loss_permille(&s.h.t[0]) <= 250);
}

/* The flap test: 60 s of 20 % loss on one of two targets. */
static void test_20pct_loss_one_of_two(void **state)
{
	static const uint32_t seeds[] = { 1, 42, 0xdeadbeef, 2024, 7777777 };
	unsigned int i, k, lost;
	uint32_t x;
	struct sim s;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(seeds); k++) {
		x = seeds[k];
		lost = 0;
		sim_init(&s, 2);
		for (i = 0; i < 240; i++) {
			bool l = lost_pct(&x, 20);

			lost += l;
			assert_false(sim_round(&s, 2U | !l));
		}
		assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
		assert_true(lost > 24 && lost < 72); /* the loss did happen */
		assert_int_equal(s.h.t[0].sent, 240);
		assert_int_equal(s.h.t[0].received, 240 - lost);
	}
}

/* The lab's soak: 20 % loss on every probe to both targets. A round
 * misses quorum when both are lost (4 %), three in a row once in 16 000
 * rounds: about hourly at 250 ms, and in these seeds' 60 s.
 */
static void test_20pct_loss_both_targets(void **state)
{
	static const uint32_t seeds[] = { 39, 95, 110, 195, 225 };
	unsigned int i, k, mask, lost[2];
	bool l[2], streak;
	uint32_t x;
	struct sim s;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(seeds); k++) {
		x = seeds[k];
		lost[0] = lost[1] = 0;
		streak = false;
		sim_init(&s, 2);
		sim_settle(&s, 3);
		for (i = 0; i < 240; i++) {
			l[0] = lost_pct(&x, 20);
			l[1] = lost_pct(&x, 20);
			lost[0] += l[0];
			lost[1] += l[1];
			mask = (l[0] ? 0 : 1U) | (l[1] ? 0 : 2U);
			assert_false(sim_round(&s, mask));
			streak |= s.h.bad_rounds >= 3;
		}
		assert_true(streak); /* what took the old detector down */
		assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
		assert_true(lost[0] > 24 && lost[0] < 72);
		assert_true(lost[1] > 24 && lost[1] < 72);
	}
}

/* Exactly 1 probe in 5 lost on each target, never both in a round:
 * three rounds losing both change nothing, and a dead path on this
 * line is down on its 4th or 5th lost round (0.04^4: once in 390 000
 * rounds, 27 h at 250 ms), not its 3rd.
 */
static void run_20pct_pattern(struct sim *s, unsigned int from, unsigned int n)
{
	unsigned int i;

	for (i = from; i < from + n; i++)
		assert_false(sim_round(s, (i % 5 != 0) | (i % 5 != 2) << 1));
}

static void test_lost_rounds_on_lossy_line(void **state)
{
	unsigned int i;
	struct sim s;

	(void)state;
	sim_init(&s, 2);
	sim_settle(&s, 3);
	run_20pct_pattern(&s, 0, 60);
	assert_int_equal(sim_rounds(&s, 3, 0, 0), 0);
	assert_int_equal(s.h.bad_rounds, 3);
	run_20pct_pattern(&s, 63, 240);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
	assert_int_equal(s.changes, 0);
	assert_int_equal(mwan_target_loss_permille(&s.h.t[0]), 200);

	/* the path dies: down on the 4th or 5th round (as the window ends
	 * up showing 20 or 25 % loss; here 25 % on target 1), within
	 * 1.25 s + a deadline
	 */
	assert_int_equal(sim_rounds(&s, 20, 0, 0), 5);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* one target, 1 probe in 10 lost: 3 in a row every 1 000 rounds */
	sim_init(&s, 1);
	sim_settle(&s, 1);
	for (i = 0; i < 60; i++)
		assert_false(sim_round(&s, i % 10 != 0));
	assert_int_equal(sim_rounds(&s, 20, 0, 0), 6); /* 0.1^6: 1 in 10^6 */
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
}

/* Clean lines keep down_after: a target that never answers (att's
 * 192.0.2.99 in the lab) is no background loss, and neither is an
 * outage that has already begun.
 */
static void test_lost_rounds_clean_line(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 3);
	sim_settle(&s, 5); /* target 1 never answers */
	assert_int_equal(sim_rounds(&s, 10, 0, 0), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* quorum 2 of 3 with target 1 dead: a round without 0 or 2 is bad */
	sim_init(&s, 3);
	s.p.quorum = 2;
	sim_settle(&s, 5);
	assert_int_equal(sim_rounds(&s, 10, 1, MS(10)), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* a 6 s outage 10 s ago is no background loss (the lab's tier-2
	 * check blackholes att again soon after it recovered)
	 */
	sim_init(&s, 3);
	sim_settle(&s, 5);
	assert_int_equal(sim_rounds(&s, 24, 0, 0), 3);
	sim_run(&s, 21, 0, 0);
	/* up once the window is down to 25 % loss */
	assert_int_equal(sim_rounds(&s, 40, 5, MS(10)), 15);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	sim_run(&s, 25, 5, MS(10));
	assert_int_equal(sim_rounds(&s, 10, 0, 0), 3);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);

	/* a longer down_after, clean: exactly down_after */
	sim_init(&s, 2);
	s.p.down_after = 6;
	sim_settle(&s, 3);
	assert_int_equal(sim_rounds(&s, 10, 0, 0), 6);
}

/* ---- latency ---- */

/* 20 rounds at 50 ms, then 200 ms: the average passes 100 ms on the 7th
 * (13 x 50 + 7 x 200 = 2050 / 20); back at 50 ms it needs at most four
 * 200 ms samples left (80 ms), on the 16th round.
 */
static void run_latency(struct sim *s)
{
	assert_int_equal(sim_rounds(s, 20, 1, MS(50)), 0);
	assert_int_equal(sim_rounds(s, 20, 1, MS(200)), 7);
	assert_state(s, MWAN_HEALTH_DOWN, false, MWAN_HR_LATENCY);
	assert_int_equal(mwan_target_rtt_avg_us(&s->h.t[0]), 102500);
	assert_int_equal(sim_rounds(s, 40, 1, MS(50)), 16);
	assert_state(s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_int_equal(mwan_target_rtt_avg_us(&s->h.t[0]), MS(80));
}

static void test_latency_raise_clear(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.rtt_raise_ms = 100;
	s.p.rtt_clear_ms = 80;
	run_latency(&s);

	/* clear 0: 80 % of the raise */
	sim_init(&s, 1);
	s.p.rtt_raise_ms = 100;
	run_latency(&s);

	/* off: 200 ms is fine */
	sim_init(&s, 1);
	assert_int_equal(sim_rounds(&s, 100, 1, MS(2000)), 0);
}

/* Between clear and raise nothing changes, either way. */
static void test_latency_band(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.rtt_raise_ms = 100;
	s.p.rtt_clear_ms = 80;
	assert_int_equal(sim_rounds(&s, 200, 1, MS(90)), 0);
	assert_int_equal(sim_rounds(&s, 200, 1, MS(100)), 0);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_START);
	assert_int_equal(sim_rounds(&s, 20, 1, MS(101)), 1);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LATENCY);
	assert_int_equal(sim_rounds(&s, 200, 1, MS(90)), 0);
	assert_int_equal(sim_rounds(&s, 200, 1, MS(81)), 0);
	assert_int_equal(s.h.state, MWAN_HEALTH_DOWN);
	assert_int_equal(sim_rounds(&s, 20, 1, MS(80)), 20);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);

	/* a fresh start waits for half a window before judging RTT too */
	sim_init(&s, 1);
	s.p.rtt_raise_ms = 100;
	assert_int_equal(sim_rounds(&s, 20, 1, MS(500)), 10);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LATENCY);
}

/* The latency of the quorum-th best target by loss counts. */
static void test_latency_quorum(void **state)
{
	bool answered[2] = { true, true };
	uint32_t rtt[2] = { MS(10), MS(300) };
	unsigned int i;
	struct sim s;

	(void)state;
	sim_init(&s, 2);
	s.p.rtt_raise_ms = 100;
	for (i = 0; i < 100; i++)
		assert_false(mwan_health_round(&s.h, &s.p, answered, rtt,
					       s.now += 250));
	s.p.quorum = 2;
	assert_true(mwan_health_round(&s.h, &s.p, answered, rtt, s.now += 250));
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LATENCY);
}

/* ---- hold-down ---- */

static void go_holding(struct sim *s)
{
	sim_settle(s, 1);
	assert_int_equal(sim_rounds(s, 3, 0, 0), 3);
	assert_int_equal(sim_rounds(s, 20, 1, MS(10)), 8);
	assert_state(s, MWAN_HEALTH_DOWN, true, MWAN_HR_HOLD_DOWN);
	assert_int_equal(s->h.since_ms, s->now);
	assert_int_equal(s->h.hold_until_ms, s->now + 10000);
}

static void test_hold_down(void **state)
{
	uint64_t until;
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.hold_down_s = 10;
	go_holding(&s);
	until = s.h.hold_until_ms;
	/* 39 more good rounds leave it 250 ms short */
	assert_int_equal(sim_rounds(&s, 39, 1, MS(10)), 0);
	assert_state(&s, MWAN_HEALTH_DOWN, true, MWAN_HR_HOLD_DOWN);
	assert_int_equal(s.now, until - 250);
	assert_false(mwan_health_tick(&s.h, &s.p, until - 1));
	assert_true(mwan_health_tick(&s.h, &s.p, until));
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_int_equal(s.h.since_ms, until);
	assert_false(mwan_health_tick(&s.h, &s.p, until + 100000));

	/* a round at the deadline does it too */
	sim_init(&s, 1);
	s.p.hold_down_s = 10;
	go_holding(&s);
	assert_int_equal(sim_rounds(&s, 100, 1, MS(10)), 40);
	assert_state(&s, MWAN_HEALTH_UP, false, MWAN_HR_RECOVERED);
	assert_int_equal(s.h.since_ms, s.h.hold_until_ms);
}

static void test_hold_down_cancelled(void **state)
{
	uint64_t until;
	struct sim s;

	(void)state;
	sim_init(&s, 1);
	s.p.hold_down_s = 10;
	go_holding(&s);
	until = s.h.hold_until_ms;
	assert_int_equal(sim_rounds(&s, 20, 1, MS(10)), 0);
	assert_true(sim_round(&s, 0));
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LOST_ROUNDS);
	assert_int_equal(s.h.since_ms, s.now);
	assert_int_equal(s.h.good_rounds, 0);
	assert_false(mwan_health_tick(&s.h, &s.p, until + 1));
	assert_int_equal(s.h.state, MWAN_HEALTH_DOWN);
	/* recovery starts over: 8 good rounds, then a new hold */
	assert_int_equal(sim_rounds(&s, 20, 1, MS(10)), 8);
	assert_state(&s, MWAN_HEALTH_DOWN, true, MWAN_HR_HOLD_DOWN);
	assert_int_equal(s.h.hold_until_ms, s.now + 10000);

	/* latency above the raise threshold cancels it as well: 19 answers
	 * of 10 ms in the window, the second 1 s one makes 2170 / 19 ms
	 */
	s.p.rtt_raise_ms = 100;
	assert_int_equal(sim_rounds(&s, 20, 1, MS(1000)), 2);
	assert_state(&s, MWAN_HEALTH_DOWN, false, MWAN_HR_LATENCY);
}

/* ---- probe deadline ---- */

static void test_deadline(void **state)
{
	bool answered[2] = { true, true };
	uint32_t rtt[2];
	unsigned int i;
	struct sim s;

	(void)state;
	sim_init(&s, 2);
	/* nothing known yet: the full timeout */
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 1000);
	/* 10 ms, no jitter: the interval */
	sim_run(&s, 5, 3, MS(10));
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 250);
	/* 0 ms RTT is still an answer */
	sim_init(&s, 1);
	sim_run(&s, 5, 1, 0);
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 250);

	/* 200 ms avg, 10 ms jitter: 800 + 40 + 20 */
	sim_init(&s, 1);
	for (i = 0; i < 20; i++)
		sim_round_rtt(&s, 1, i % 2 ? MS(205) : MS(195));
	assert_int_equal(mwan_target_rtt_avg_us(&s.h.t[0]), MS(200));
	assert_int_equal(mwan_target_jitter_us(&s.h.t[0]), MS(10));
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 860);
	/* microseconds round up */
	sim_init(&s, 1);
	sim_run(&s, 3, 1, 100001);
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 421);

	/* the slowest answering target sets it: 4 x 150 + 20 */
	sim_init(&s, 2);
	rtt[0] = MS(5);
	rtt[1] = MS(150);
	for (i = 0; i < 5; i++)
		mwan_health_round(&s.h, &s.p, answered, rtt, s.now += 250);
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 620);
	/* capped by timeout_ms */
	s.p.timeout_ms = 500;
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 500);
	/* a timeout below the interval wins too */
	sim_init(&s, 1);
	s.p.timeout_ms = 100;
	sim_run(&s, 5, 1, MS(1));
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 100);

	/* a window with no answer left: the full timeout again */
	sim_init(&s, 1);
	sim_run(&s, 5, 1, MS(10));
	sim_run(&s, 19, 0, 0);
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 250);
	sim_run(&s, 1, 0, 0);
	assert_int_equal(mwan_health_deadline_ms(&s.h, &s.p), 1000);
}

/* ---- steering: health, admin overrides, tiers, all down ---- */

struct lab {
	struct mwan_wan wans[MWAN_MAX_WANS];
	__u32 admin[MWAN_MAX_WANS];
	struct mwan_steer st;
};

static void lab_wan(struct lab *l, unsigned int i, unsigned int weight,
		    unsigned int tier)
{
	l->wans[i].flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP;
	l->wans[i].weight = weight;
	l->wans[i].tier = tier;
	l->wans[i].health = MWAN_HEALTH_UP;
}

/* Two tier-1 WANs (3:1) and a tier-2 failover WAN. */
static void lab_init(struct lab *l)
{
	memset(l, 0, sizeof(*l));
	lab_wan(l, 0, 3, 1);
	lab_wan(l, 1, 1, 1);
	lab_wan(l, 2, 1, 2);
}

/* Steering for a host on every WAN; checks the slots use only members. */
static __u32 lab_members(struct lab *l, __u32 mask, bool *failopen)
{
	unsigned int i;

	mwan_steer_compute(l->wans, l->admin, mask, &l->st);
	/* no member: the datapath drops (no_wan) before it reads a slot */
	for (i = 0; l->st.members && i < MWAN_STEER_SLOTS; i++) {
		assert_true(l->st.slot[i] < MWAN_MAX_WANS);
		assert_true(l->st.members & (1U << l->st.slot[i]));
	}
	if (failopen)
		*failopen = l->st.failopen;
	return l->st.members;
}

static __u32 members(struct lab *l)
{
	bool failopen;
	__u32 m = lab_members(l, 0xff, &failopen);

	assert_false(failopen);
	return m;
}

static void test_steer_health_down(void **state)
{
	struct lab l;
	struct sim s;

	(void)state;
	lab_init(&l);
	assert_int_equal(members(&l), 0x3);

	/* WAN 0's probes die: it leaves once its health says so */
	sim_init(&s, 2);
	sim_settle(&s, 3);
	sim_run(&s, 2, 0, 0);
	l.wans[0].health = s.h.state;
	assert_int_equal(members(&l), 0x3);
	sim_run(&s, 1, 0, 0);
	l.wans[0].health = s.h.state;
	assert_int_equal(members(&l), 0x2);

	/* recovered but holding: still out */
	s.p.hold_down_s = 5;
	sim_run(&s, 8, 3, MS(10));
	assert_true(s.h.holding);
	l.wans[0].health = s.h.state;
	assert_int_equal(members(&l), 0x2);
	assert_true(mwan_health_tick(&s.h, &s.p, s.h.hold_until_ms));
	l.wans[0].health = s.h.state;
	assert_int_equal(members(&l), 0x3);

	/* link down counts like health down */
	l.wans[1].flags &= ~MWAN_WAN_LINK_UP;
	assert_int_equal(members(&l), 0x1);
}

static void test_steer_admin(void **state)
{
	struct lab l;

	(void)state;
	lab_init(&l);
	l.wans[0].health = MWAN_HEALTH_DOWN;
	assert_int_equal(members(&l), 0x2);
	l.admin[0] = MWAN_ADMIN_UP; /* wins over health DOWN */
	assert_int_equal(members(&l), 0x3);
	l.wans[0].flags &= ~MWAN_WAN_LINK_UP; /* and over the link */
	assert_int_equal(members(&l), 0x3);

	lab_init(&l);
	l.admin[1] = MWAN_ADMIN_DOWN; /* wins over health UP */
	assert_int_equal(members(&l), 0x1);
	l.admin[1] = MWAN_ADMIN_AUTO;
	assert_int_equal(members(&l), 0x3);
}

static void test_steer_tiers(void **state)
{
	struct lab l;

	(void)state;
	lab_init(&l);
	l.wans[0].health = MWAN_HEALTH_DOWN;
	assert_int_equal(members(&l), 0x2); /* tier 2 waits */
	l.admin[1] = MWAN_ADMIN_DOWN;
	assert_int_equal(members(&l), 0x4); /* no tier-1 WAN left */
	l.admin[0] = MWAN_ADMIN_UP;
	assert_int_equal(members(&l), 0x1);

	/* a host without an address on WAN 1 */
	lab_init(&l);
	l.wans[0].health = MWAN_HEALTH_DOWN;
	assert_int_equal(lab_members(&l, 0x5, NULL), 0x4);
	assert_int_equal(lab_members(&l, 0x3, NULL), 0x2);
}

static void test_steer_all_down(void **state)
{
	bool failopen;
	struct lab l;
	unsigned int i, n0 = 0;

	(void)state;
	lab_init(&l);
	for (i = 0; i < 3; i++)
		l.wans[i].health = MWAN_HEALTH_DOWN;
	/* fail open over the configured WANs of the best tier, by weight */
	assert_int_equal(lab_members(&l, 0xff, &failopen), 0x3);
	assert_true(failopen);
	for (i = 0; i < MWAN_STEER_SLOTS; i++)
		n0 += l.st.slot[i] == 0;
	assert_int_equal(n0, 192);

	/* admin DOWN on all of them: still fail open */
	for (i = 0; i < 3; i++) {
		l.wans[i].health = MWAN_HEALTH_UP;
		l.admin[i] = MWAN_ADMIN_DOWN;
	}
	assert_int_equal(lab_members(&l, 0xff, &failopen), 0x3);
	assert_true(failopen);

	/* one usable tier-2 WAN is not fail-open */
	l.admin[2] = MWAN_ADMIN_AUTO;
	assert_int_equal(lab_members(&l, 0xff, &failopen), 0x4);
	assert_false(failopen);

	/* a host only on the tier-2 WAN, which is down: fail open there */
	l.admin[2] = MWAN_ADMIN_DOWN;
	assert_int_equal(lab_members(&l, 0x4, &failopen), 0x4);
	assert_true(failopen);
}

/* A WAN the kernel cannot route (no address, gateway off-link, no route,
 * ARP failed, forwarding off) is unusable whatever the probes say, and
 * no fail-open candidate either; forced up, the operator's word wins.
 */
static void test_steer_blocked(void **state)
{
	bool failopen;
	struct lab l;
	char why[128];
	unsigned int i;

	(void)state;
	lab_init(&l);
	l.wans[0].blocked = MWAN_WAN_BLOCK_GW_OFFLINK | MWAN_WAN_BLOCK_NO_ROUTE;
	assert_false(mwan_wan_usable(&l.wans[0], MWAN_ADMIN_AUTO));
	assert_true(mwan_wan_usable(&l.wans[0], MWAN_ADMIN_UP));
	assert_int_equal(members(&l), 0x2);

	for (i = 0; i < 3; i++)
		l.wans[i].health = MWAN_HEALTH_DOWN;
	assert_int_equal(lab_members(&l, 0xff, &failopen), 0x2);
	assert_true(failopen);
	/* a host only on the blocked WAN has nowhere to go */
	assert_int_equal(lab_members(&l, 0x1, &failopen), 0);
	assert_false(failopen);

	l.admin[0] = MWAN_ADMIN_UP;
	assert_int_equal(lab_members(&l, 0xff, &failopen), 0x1);
	assert_false(failopen);

	mwan_wan_block_str(l.wans[0].blocked, why, sizeof(why));
	assert_string_equal(why, "gateway not on-link, no route");
	mwan_wan_block_str(MWAN_WAN_BLOCK_ALL, why, sizeof(why));
	assert_string_equal(
		why,
		"no address, gateway not on-link, no route, gateway unreachable, forwarding off, strict rp_filter");
	mwan_wan_block_str(0, why, sizeof(why));
	assert_string_equal(why, "");
	mwan_wan_block_str(MWAN_WAN_BLOCK_ALL, why, 8);
	assert_string_equal(why, "no addr");
	assert_null(mwan_wan_block_name(1U << 7));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_up),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_window_stats),
		cmocka_unit_test(test_window_rounding_and_wrap),
		cmocka_unit_test(test_window_shrinks),
		cmocka_unit_test(test_thresholds_steady),
		cmocka_unit_test(test_thresholds_fresh),
		cmocka_unit_test(test_raise_needs_half_window),
		cmocka_unit_test(test_dead_wan),
		cmocka_unit_test(test_quorum),
		cmocka_unit_test(test_quorum_loss_target),
		cmocka_unit_test(test_hysteresis_alternating),
		cmocka_unit_test(test_single_round_never_flips),
		cmocka_unit_test(test_loss_raise_random),
		cmocka_unit_test(test_20pct_loss_one_of_two),
		cmocka_unit_test(test_20pct_loss_both_targets),
		cmocka_unit_test(test_lost_rounds_on_lossy_line),
		cmocka_unit_test(test_lost_rounds_clean_line),
		cmocka_unit_test(test_latency_raise_clear),
		cmocka_unit_test(test_latency_band),
		cmocka_unit_test(test_latency_quorum),
		cmocka_unit_test(test_hold_down),
		cmocka_unit_test(test_hold_down_cancelled),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_steer_health_down),
		cmocka_unit_test(test_steer_admin),
		cmocka_unit_test(test_steer_tiers),
		cmocka_unit_test(test_steer_all_down),
		cmocka_unit_test(test_steer_blocked),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
