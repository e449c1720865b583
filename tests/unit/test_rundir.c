/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/rundir.c: the pid file's lock as the one liveness check, the status file's grammar both ways, paths that do not fit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/rundir.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rundir-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static bool exists(const char *name)
{
	char p[128];

	path_of(p, sizeof(p), name);
	return access(p, F_OK) == 0;
}

static int remove_dir(void **state)
{
	char p[128];

	(void)state;
	path_of(p, sizeof(p), "mwan-loader.pid");
	unlink(p);
	path_of(p, sizeof(p), "status");
	unlink(p);
	return rmdir(dir);
}

/* A second holder is refused while the first lives; the lock, not the
 * file, says who runs.
 */
static void lock_is_the_liveness_check(void **state)
{
	pid_t pid = 1, child;
	int fd, status;

	(void)state;
	assert_false(mwan_run_loader(dir, &pid));
	assert_int_equal(pid, 0);
	fd = mwan_run_lock(dir);
	assert_true(fd >= 0);
	assert_true(exists("mwan-loader.pid"));
	assert_true(mwan_run_loader(dir, &pid));
	assert_int_equal(pid, getpid());
	/* another process cannot take it (flock is per open file, so the
	 * second try must come from a fresh open, here in a child)
	 */
	child = fork();
	assert_true(child >= 0);
	if (!child)
		_exit(mwan_run_lock(dir) == -EBUSY ? 0 : 1);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	mwan_run_remove(dir, fd);
	assert_false(exists("mwan-loader.pid"));
	assert_false(mwan_run_loader(dir, &pid));
}

/* A pid file left by a crash names a pid that may now be anyone's: no
 * lock, no loader.
 */
static void stale_pid_file_is_not_a_loader(void **state)
{
	char p[128], buf[32];
	pid_t pid;
	FILE *f;

	(void)state;
	path_of(p, sizeof(p), "mwan-loader.pid");
	f = fopen(p, "w");
	assert_non_null(f);
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	fputs(buf, f);
	fclose(f);
	assert_false(mwan_run_loader(dir, &pid));
	assert_int_equal(pid, 0);
	/* and a new loader takes it over */
	pid = mwan_run_lock(dir);
	assert_true(pid >= 0);
	mwan_run_remove(dir, pid);
}

static void paths_that_do_not_fit(void **state)
{
	char longdir[200], buf[64];
	struct sockaddr_un sa;

	(void)state;
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(mwan_run_socket_addr(longdir, &sa), -ENAMETOOLONG);
	assert_int_equal(mwan_run_path("/run/mwan", MWAN_RUN_STATUS, buf, 16),
			 -ENAMETOOLONG);
	assert_int_equal(mwan_run_path("/run/mwan", MWAN_RUN_STATUS, buf,
				       sizeof(buf)),
			 0);
	assert_string_equal(buf, "/run/mwan/status");
	assert_int_equal(mwan_run_socket_addr("/run/mwan", &sa), 0);
	assert_string_equal(sa.sun_path, "/run/mwan/control");
}

static void status_round_trip(void **state)
{
	static struct mwan_status a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.kernel, sizeof(a.kernel), "6.1.0-57-amd64");
	a.n_prog = 2;
	snprintf(a.prog[0].name, sizeof(a.prog[0].name), "mwan_xdp");
	a.prog[0].verified_insns = 201703;
	a.prog[0].limit_pct = 21;
	snprintf(a.prog[1].name, sizeof(a.prog[1].name), "mwan_tc_out");
	a.prog[1].verified_insns = 62965;
	a.prog[1].limit_pct = 7;
	a.n_iface = 2;
	snprintf(a.iface[0].name, IF_NAMESIZE, "eth3");
	snprintf(a.iface[0].role, sizeof(a.iface[0].role), "lan:office");
	snprintf(a.iface[0].xdp_mode, 16, "native");
	snprintf(a.iface[0].dispatcher, 16, "multiprog");
	snprintf(a.iface[0].tc_mode, 16, "clsact");
	snprintf(a.iface[1].name, IF_NAMESIZE, "wg0");
	snprintf(a.iface[1].role, sizeof(a.iface[1].role), "wan:mb");
	snprintf(a.iface[1].xdp_mode, 16, "none");
	snprintf(a.iface[1].dispatcher, 16, "single");
	snprintf(a.iface[1].tc_mode, 16, "clsact");
	a.n_target = 1;
	snprintf(a.target[0].wan, MWAN_NAME_LEN, "att");
	a.target[0].index = 1;
	snprintf(a.target[0].text, 128, "tcp:192.0.2.10:443");
	assert_int_equal(mwan_status_write(dir, &a), 0);
	assert_true(exists("status"));
	assert_false(exists("status.tmp"));
	memset(&b, 0xff, sizeof(b));
	assert_int_equal(mwan_status_read(dir, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* Lines a reader must survive: other kinds, too many or too few
 * fields, numbers out of range, fields longer than their slot, a loader
 * from before TC_MODE.
 */
static void status_hostile_lines(void **state)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"kernel 6.12.118+deb12-amd64\n"
		"prog mwan_xdp 95157 10\n"
		"prog mwan_tc_in 9000000000 1\n"
		"prog short 1\n"
		"prog a_name_far_too_long_for_its_slot 1 1\n"
		"prog mwan_tc_out 12x 3\n"
		"iface eth1 wan:att generic single\n"
		"iface eth2 wan:wp native multiprog clsact extra\n"
		"iface averyveryverylongname lan native single clsact\n"
		"target att 0 192.0.2.1\n"
		"target att x 192.0.2.1\n"
		"future line of a later loader\n";
	static struct mwan_status s;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(f);
	mwan_status_parse(f, &s);
	fclose(f);
	assert_string_equal(s.kernel, "6.12.118+deb12-amd64");
	assert_int_equal(s.n_prog, 1);
	assert_string_equal(s.prog[0].name, "mwan_xdp");
	assert_int_equal(s.prog[0].verified_insns, 95157);
	assert_int_equal(s.prog[0].limit_pct, 10);
	assert_int_equal(s.n_iface, 1);
	assert_string_equal(s.iface[0].name, "eth1");
	assert_string_equal(s.iface[0].xdp_mode, "generic");
	assert_string_equal(s.iface[0].tc_mode, "");
	assert_int_equal(s.n_target, 1);
	assert_string_equal(s.target[0].text, "192.0.2.1");
}

static void status_missing_is_empty(void **state)
{
	static struct mwan_status s;

	(void)state;
	memset(&s, 0xff, sizeof(s));
	assert_int_equal(mwan_status_read("/nonexistent/mwan", &s), 0);
	assert_int_equal(s.n_prog + s.n_iface + s.n_target, 0);
	assert_string_equal(s.kernel, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_is_the_liveness_check),
		cmocka_unit_test(stale_pid_file_is_not_a_loader),
		cmocka_unit_test(paths_that_do_not_fit),
		cmocka_unit_test(status_round_trip),
		cmocka_unit_test(status_hostile_lines),
		cmocka_unit_test(status_missing_is_empty),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
