// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* loader/kernel.c: feature checks that name what is missing, the verifier's budget per program, a refused program in one line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <cmocka.h>

#include "loader/kernel.h"
#include "mwan.skel.h"

/* ---- kernel_check against a kernel that lacks one thing ---- */

static enum bpf_func_id missing_helper;
static enum bpf_map_type missing_map = BPF_MAP_TYPE_UNSPEC;
static enum bpf_prog_type missing_prog = BPF_PROG_TYPE_UNSPEC;
static unsigned int helper_probes;

static int fake_prog_type(enum bpf_prog_type t)
{
	return t != missing_prog;
}

static int fake_map_type(enum bpf_map_type t)
{
	return t != missing_map;
}

static int fake_helper(enum bpf_prog_type t, enum bpf_func_id id)
{
	(void)t;
	helper_probes++;
	return id != missing_helper;
}

static const struct kernel_probes fake = { fake_prog_type, fake_map_type,
					   fake_helper };

static int open_skel(void **state)
{
	struct mwan_bpf *skel = mwan_bpf__open();

	assert_non_null(skel);
	*state = skel;
	missing_helper = BPF_FUNC_unspec;
	missing_map = BPF_MAP_TYPE_UNSPEC;
	missing_prog = BPF_PROG_TYPE_UNSPEC;
	helper_probes = 0;
	return 0;
}

static int close_skel(void **state)
{
	mwan_bpf__destroy(*state);
	return 0;
}

static int check(void **state, char *msg, size_t len)
{
	struct mwan_bpf *skel = *state;

	msg[0] = '\0';
	return kernel_check("6.1.0-test", skel->obj, skel->skeleton->data,
			    skel->skeleton->data_sz, &fake, msg, len);
}

static void test_check_all_present(void **state)
{
	char msg[512];

	assert_int_equal(check(state, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	/* every program calls helpers, and each was asked about */
	assert_true(helper_probes >= 6);
}

static void test_check_missing_helper(void **state)
{
	char msg[512];

	missing_helper = BPF_FUNC_redirect_map;
	assert_int_equal(check(state, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_string_equal(
		msg,
		"kernel 6.1.0-test lacks the BPF helper bpf_redirect_map in xdp programs, which mwan_xdp needs; mwan cannot run on it (README: Supported kernels)");
}

static void test_check_missing_tc_helper(void **state)
{
	char msg[512];

	missing_helper = BPF_FUNC_skb_store_bytes;
	assert_int_equal(check(state, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_non_null(strstr(
		msg,
		" the BPF helper bpf_skb_store_bytes in sched_cls programs, which mwan_tc_"));
}

static void test_check_missing_map_type(void **state)
{
	char msg[512];

	missing_map = BPF_MAP_TYPE_DEVMAP_HASH;
	assert_int_equal(check(state, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_string_equal(
		msg,
		"kernel 6.1.0-test lacks BPF maps of type devmap_hash, which mwan_tx is; mwan cannot run on it (README: Supported kernels)");
}

static void test_check_missing_prog_type(void **state)
{
	char msg[512];

	missing_prog = BPF_PROG_TYPE_SCHED_CLS;
	assert_int_equal(check(state, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_non_null(strstr(
		msg,
		"kernel 6.1.0-test lacks BPF programs of type sched_cls, which mwan_tc_"));
}

/* ---- against this kernel (root) ---- */

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("skipped: needs root (loads BPF programs)\n");
	return false;
}

/* The kernel has what the object needs: libbpf's probes say so. */
static void test_check_this_kernel(void **state)
{
	struct mwan_bpf *skel = *state;
	struct kernel_info k;
	char msg[512] = "";

	if (!need_root())
		skip();
	kernel_release(&k);
	assert_int_equal(kernel_check(k.release, skel->obj,
				      skel->skeleton->data,
				      skel->skeleton->data_sz,
				      &kernel_probes_libbpf, msg, sizeof(msg)),
			 0);
	assert_string_equal(msg, "");
}

/* make check and make matrix print these lines ("verifier: ..."); a
 * program over the budget fails.
 */
static void test_verifier_budget(void **state)
{
	struct mwan_bpf *skel = *state;
	struct kernel_info k;
	unsigned int i, over = 0;

	if (!need_root())
		skip();
	kernel_release(&k);
	assert_int_equal(mwan_bpf__load(skel), 0);
	assert_int_equal(kernel_read_verifier(&k, skel->obj), 0);
	assert_int_equal(k.n_prog, 4);
	for (i = 0; i < k.n_prog; i++) {
		unsigned int pct =
			kernel_verifier_pct(k.prog[i].verified_insns);

		print_message(
			"verifier: %s: %s %u of %u instructions (%u %%)\n",
			k.release, k.prog[i].name, k.prog[i].verified_insns,
			MWAN_VERIFIER_LIMIT, pct);
		/* 0 would mean a kernel before 5.16: not one we support */
		assert_true(k.prog[i].verified_insns > 0);
		if (pct > MWAN_VERIFIER_BUDGET_PCT) {
			print_message("verifier: %s over the %u %% budget\n",
				      k.prog[i].name, MWAN_VERIFIER_BUDGET_PCT);
			over++;
		}
	}
	assert_int_equal(over, 0);
}

/* A program the verifier refuses: mwan_xdp loaded as a socket filter,
 * whose context and helpers it may not use. One line names it, with the
 * verifier's own last word, never the log.
 */
static void test_refused_in_one_line(void **state)
{
	struct mwan_bpf *skel = *state;
	char line[512];
	const char *s;

	if (!need_root())
		skip();
	libbpf_set_print(kernel_libbpf_print);
	assert_null(kernel_load_failure(line, sizeof(line)));
	bpf_program__set_type(skel->progs.mwan_xdp,
			      BPF_PROG_TYPE_SOCKET_FILTER);
	assert_int_not_equal(mwan_bpf__load(skel), 0);
	s = kernel_load_failure(line, sizeof(line));
	assert_non_null(s);
	print_message("%s\n", s);
	assert_ptr_equal(s, line);
	assert_non_null(strstr(s, "the kernel's verifier refused mwan_xdp ("));
	assert_non_null(strstr(s, " instructions: "));
	assert_non_null(strstr(s, "; mwan-loader -v prints its log"));
	assert_null(strchr(s, '\n'));
	assert_null(strstr(s, "BEGIN PROG LOAD LOG"));
	/* the verifier's reason is there, not a blank */
	assert_true(strstr(s, " instructions: ")[strlen(" instructions: ")] !=
		    ';');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_all_present,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_check_missing_helper,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_check_missing_tc_helper,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_check_missing_map_type,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_check_missing_prog_type,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_check_this_kernel,
						open_skel, close_skel),
		cmocka_unit_test_setup_teardown(test_verifier_budget, open_skel,
						close_skel),
		cmocka_unit_test_setup_teardown(test_refused_in_one_line,
						open_skel, close_skel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
