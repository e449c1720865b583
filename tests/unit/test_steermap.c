/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/steermap.c: the live config slot and steering half are never written; a flip is one word, after the grace. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "lib/clock.h"
#include "lib/maptable.h"
#include "lib/steermap.h"

static int fd_live = -1, fd_cfg = -1, fd_steer = -1, fd_wans = -1,
	   fd_admin = -1;

static int make(const struct mwan_map_desc *d)
{
	return bpf_map_create(d->type, d->name, d->key_size, d->value_size,
			      d->max_entries, NULL);
}

static int setup(void **state)
{
	(void)state;
	fd_live = make(MWAN_MAP(live));
	fd_cfg = make(MWAN_MAP(cfg));
	fd_steer = make(MWAN_MAP(steer));
	fd_wans = make(MWAN_MAP(wans));
	fd_admin = make(MWAN_MAP(admin));
	return 0;
}

static int teardown(void **state)
{
	int *all[] = { &fd_live, &fd_cfg, &fd_steer, &fd_wans, &fd_admin };
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++)
		if (*all[i] >= 0)
			close(*all[i]);
	return 0;
}

static void need_maps(void)
{
	if (fd_live < 0 || fd_cfg < 0 || fd_steer < 0 || fd_wans < 0 ||
	    fd_admin < 0) {
		print_message("skipped: cannot create BPF maps (not root?)\n");
		skip();
	}
}

static struct mwan_cfg slot(__u32 i)
{
	struct mwan_cfg c;

	assert_int_equal(bpf_map_lookup_elem(fd_cfg, &i, &c), 0);
	return c;
}

static __u32 live_slot(void)
{
	struct mwan_live l;
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fd_live, &zero, &l), 0);
	return l.cfg_slot;
}

/* Each publish goes to the slot that is not live and then flips; the slot
 * that was live keeps its bytes for the packets still reading it.
 */
static void publish_writes_the_other_slot(void **state)
{
	struct mwan_cfg a = { .layout_version = 4, .ready = 1, .n_lans = 1 };
	struct mwan_cfg b = a, got;
	__u64 flipped = mwan_mono_ms() - 1000;
	__u32 s;

	(void)state;
	need_maps();
	b.n_lans = 2;
	assert_int_equal(live_slot(), 0);
	assert_int_equal(mwan_cfg_publish(fd_live, fd_cfg, &a, &flipped), 0);
	assert_int_equal(live_slot(), 1);
	got = slot(1);
	assert_memory_equal(&got, &a, sizeof(a));
	got = slot(0);
	assert_int_equal(got.ready, 0); /* never written */
	assert_int_equal(mwan_cfg_publish(fd_live, fd_cfg, &b, &flipped), 0);
	assert_int_equal(live_slot(), 0);
	got = slot(1);
	assert_memory_equal(&got, &a, sizeof(a));
	assert_int_equal(mwan_cfg_read_live(fd_live, fd_cfg, &s, &got), 0);
	assert_int_equal(s, 0);
	assert_memory_equal(&got, &b, sizeof(b));
}

/* A publish right after a flip waits out the grace before it writes the
 * slot that was live a moment ago.
 */
static void publish_waits_the_grace(void **state)
{
	struct mwan_cfg a = { .layout_version = 4, .ready = 1 };
	__u64 flipped = mwan_mono_ms(), start;

	(void)state;
	need_maps();
	start = mwan_mono_ms();
	assert_int_equal(mwan_cfg_publish(fd_live, fd_cfg, &a, &flipped), 0);
	assert_true(mwan_mono_ms() - start >= MWAN_SLOT_GRACE_MS - 1);
	assert_true(flipped >= start);
}

static void set_wan(__u32 id, __u32 weight)
{
	struct mwan_wan w = { .flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP,
			      .weight = weight,
			      .tier = 1,
			      .health = MWAN_HEALTH_UP };

	assert_int_equal(bpf_map_update_elem(fd_wans, &id, &w, BPF_ANY), 0);
}

static void get_steer(__u32 half, __u32 mask, struct mwan_steer *st)
{
	__u32 key = half * MWAN_STEER_MASKS + mask;

	assert_int_equal(bpf_map_lookup_elem(fd_steer, &key, st), 0);
}

/* The new tables go to the half that is not live; the live half is not
 * touched; when nothing changed, nothing is written and no flip is
 * asked for.
 */
static void prepare_fills_the_other_half(void **state)
{
	struct mwan_steer live0, st;
	bool changed;

	(void)state;
	need_maps();
	set_wan(0, 1);
	set_wan(1, 1);
	get_steer(0, 3, &live0);
	assert_int_equal(mwan_steer_prepare(fd_wans, fd_admin, fd_steer, 0,
					    &changed),
			 0);
	assert_true(changed);
	get_steer(0, 3, &st);
	assert_memory_equal(&st, &live0, sizeof(st)); /* live: untouched */
	get_steer(1, 3, &st);
	assert_int_equal(st.members, 3);
	/* half 1 live now and already right: no change, half 0 kept */
	assert_int_equal(mwan_steer_prepare(fd_wans, fd_admin, fd_steer, 1,
					    &changed),
			 0);
	assert_false(changed);
	get_steer(0, 3, &st);
	assert_memory_equal(&st, &live0, sizeof(st));
	/* WAN 1 down: half 0 gets the new tables, half 1 keeps the old */
	set_wan(1, 0);
	assert_int_equal(mwan_steer_prepare(fd_wans, fd_admin, fd_steer, 1,
					    &changed),
			 0);
	assert_true(changed);
	get_steer(1, 3, &st);
	assert_int_equal(st.members, 3);
	get_steer(0, 3, &st);
	assert_int_equal(st.members, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(publish_writes_the_other_slot),
		cmocka_unit_test(publish_waits_the_grace),
		cmocka_unit_test(prepare_fills_the_other_half),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
