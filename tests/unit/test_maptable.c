/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* maps/mwan_map_table.h against the compiled object: every row is a map there, with its type, sizes and flags, and every map has a row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/maptable.h"
#include "mwan.skel.h"

/* The object as the loader embeds it (mwan.skel.h), opened, not loaded:
 * no privileges needed, and these are the sizes the kernel would get.
 */
static int open_object(void **state)
{
	struct mwan_bpf *skel = mwan_bpf__open();

	if (!skel)
		return -1;
	*state = skel;
	return 0;
}

static int close_object(void **state)
{
	mwan_bpf__destroy(*state);
	return 0;
}

static void every_row_is_in_the_object(void **state)
{
	struct mwan_bpf *skel = *state;
	unsigned int i;

	for (i = 0; i < MWAN_MAP_COUNT; i++) {
		const struct mwan_map_desc *d = &mwan_map_table[i];
		const struct bpf_map *m =
			bpf_object__find_map_by_name(skel->obj, d->name);

		print_message("%-16s %-14s key %3u value %5u max %7u %s\n",
			      d->name, libbpf_bpf_map_type_str(d->type),
			      d->key_size, d->value_size, d->max_entries,
			      d->writer);
		assert_non_null(m);
		assert_int_equal(bpf_map__type(m), d->type);
		assert_int_equal(bpf_map__key_size(m), d->key_size);
		assert_int_equal(bpf_map__value_size(m), d->value_size);
		assert_int_equal(bpf_map__max_entries(m), d->max_entries);
		assert_int_equal(bpf_map__map_flags(m), d->flags);
		assert_ptr_equal(mwan_map_find(d->name), d);
		assert_non_null(d->writer);
		assert_true(d->writer[0] != '\0');
	}
}

/* A map added to the object without a row would be invisible to bpfctl
 * and the layout checks. The object's own internal maps (.rodata, .bss)
 * are libbpf's, not ours.
 */
static void every_map_has_a_row(void **state)
{
	struct mwan_bpf *skel = *state;
	const struct bpf_map *m;
	unsigned int n = 0;

	bpf_object__for_each_map(m, skel->obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		if (!mwan_map_find(bpf_map__name(m)))
			print_message("no row for %s\n", bpf_map__name(m));
		assert_non_null(mwan_map_find(bpf_map__name(m)));
		n++;
	}
	assert_int_equal(n, MWAN_MAP_COUNT);
}

static void lookup_by_id_and_name(void **state)
{
	(void)state;
	assert_string_equal(MWAN_MAP(cfg)->name, "mwan_cfg");
	assert_string_equal(MWAN_MAP(flows_in)->name, "mwan_flows_in");
	assert_int_equal(MWAN_MAP(tx)->type, BPF_MAP_TYPE_DEVMAP_HASH);
	assert_null(mwan_map_find("mwan_nosuch"));
	assert_null(mwan_map_find("cfg"));
}

/* ARCHITECTURE.md's map table ("| `mwan_a`, `mwan_b` | writer | readers |")
 * stays true: every map has a row whose writer is the table's.
 */
static const char *arch_row(char rows[][512], unsigned int n, const char *name)
{
	char want[64];
	unsigned int i;

	snprintf(want, sizeof(want), "`%s`", name);
	for (i = 0; i < n; i++) {
		char *end = strchr(rows[i] + 1, '|');

		if (end && strstr(rows[i], want) && strstr(rows[i], want) < end)
			return end + 1;
	}
	return NULL;
}

static void architecture_names_each_writer(void **state)
{
	static char rows[128][512];
	unsigned int n = 0, i;
	FILE *f = fopen("ARCHITECTURE.md", "r");

	(void)state;
	if (!f) {
		print_message("ARCHITECTURE.md not in the working directory\n");
		fail();
	}
	while (n < 128 && fgets(rows[n], sizeof(rows[n]), f))
		if (!strncmp(rows[n], "| `mwan_", 8))
			n++;
	fclose(f);
	for (i = 0; i < MWAN_MAP_COUNT; i++) {
		const struct mwan_map_desc *d = &mwan_map_table[i];
		const char *cell = arch_row(rows, n, d->name);
		char want[160];

		snprintf(want, sizeof(want), " %s |", d->writer);
		if (!cell || strncmp(cell, want, strlen(want)))
			print_message("ARCHITECTURE.md: %s wants writer '%s'\n",
				      d->name, d->writer);
		assert_non_null(cell);
		assert_int_equal(strncmp(cell, want, strlen(want)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_is_in_the_object),
		cmocka_unit_test(every_map_has_a_row),
		cmocka_unit_test(lookup_by_id_and_name),
		cmocka_unit_test(architecture_names_each_writer),
	};

	return cmocka_run_group_tests(tests, open_object, close_object);
}
