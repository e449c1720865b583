/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's textfile writer: complete files only, under the final name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader/metrics.h"

#define VERSIONS 300
#define BODY (128 * 1024) /* bigger than a pipe or page: many writes */

static char dir[64], path[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mwan-test-metrics.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/mwan.prom", dir);
	return 0;
}

/* Everything left in dir, one name per line. */
static void list_dir(char *buf, size_t len)
{
	struct dirent *e;
	size_t used = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	buf[0] = '\0';
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			used += snprintf(buf + used, len - used, "%s\n",
					 e->d_name);
	closedir(d);
}

static int teardown(void **state)
{
	char p[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	(void)state;
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p))
			rmdir(p);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static void read_all(const char *p, char *buf, size_t len)
{
	FILE *f = fopen(p, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Readable by node-exporter's user whatever the loader's umask. */
static void test_write(void **state)
{
	char buf[256], msg[256] = "";
	struct stat st;
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(metrics_write_file(path, "a 1\n", 4, msg, sizeof(msg)),
			 0);
	umask(old);
	assert_string_equal(msg, "");
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(metrics_write_file(path, "b 2\n", 4, msg, sizeof(msg)),
			 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "b 2\n");
	list_dir(buf, sizeof(buf));
	assert_string_equal(buf, "mwan.prom\n");
}

/* Version v: BODY bytes of one letter, then a trailer naming it. */
static size_t make_version(char *buf, unsigned int v)
{
	char c = 'a' + v % 26;

	memset(buf, c, BODY);
	return BODY + sprintf(buf + BODY, "\n# end %c %u\n", c, v);
}

/* Whether buf is exactly one whole version. */
static bool whole_version(const char *buf, size_t n)
{
	unsigned int v;
	char c;
	size_t i;

	if (n <= BODY || sscanf(buf + BODY, "\n# end %c %u\n", &c, &v) != 2)
		return false;
	for (i = 0; i < BODY; i++)
		if (buf[i] != c)
			return false;
	return c == (char)('a' + v % 26) && n == BODY + strlen(buf + BODY);
}

/* A reader in a loop while the file is rewritten: every open finds the
 * file, and every read is one whole version. Exits with the number of
 * bad reads (capped), or 100 when it saw too few versions to mean much.
 */
static void reader(void)
{
	static char buf[2 * BODY];
	unsigned int bad = 0, reads = 0;
	size_t n;
	FILE *f;

	alarm(60);
	while (access(path, F_OK))
		;
	for (;;) {
		if (getppid() == 1) /* the test is gone */
			_exit(99);
		f = fopen(path, "r");
		if (!f) {
			bad++;
			continue;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		reads++;
		if (!whole_version(buf, n))
			bad++;
		if (n > BODY && strstr(buf + BODY, " 299\n"))
			break;
	}
	_exit(bad ? (bad > 50 ? 50 : bad) : reads < 20 ? 100 : 0);
}

static void test_never_partial(void **state)
{
	static char buf[2 * BODY];
	char msg[256], names[256];
	unsigned int v;
	pid_t pid;
	int st;
	size_t n;

	(void)state;
	n = make_version(buf, 0);
	assert_true(whole_version(buf, n));
	/* the check itself can fail: a cut version is not whole */
	assert_false(whole_version(buf, n - 1));
	assert_false(whole_version(buf, BODY / 2));
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		reader();
	for (v = 0; v < VERSIONS; v++) {
		n = make_version(buf, v);
		assert_int_equal(
			metrics_write_file(path, buf, n, msg, sizeof(msg)), 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	list_dir(names, sizeof(names));
	assert_string_equal(names, "mwan.prom\n");
}

/* A failed write says why, leaves no temporary file and keeps the last
 * good file.
 */
static void test_failures(void **state)
{
	char p[PATH_MAX + 64], want[PATH_MAX + 128], msg[512], names[256];
	char buf[64];

	(void)state;
	snprintf(p, sizeof(p), "%s/nodir/mwan.prom", dir);
	assert_int_equal(metrics_write_file(p, "x 1\n", 4, msg, sizeof(msg)),
			 -1);
	snprintf(want, sizeof(want),
		 "cannot create %s.tmp.%d: No such file or directory", p,
		 (int)getpid());
	assert_string_equal(msg, want);

	/* a directory where the file should be: rename fails */
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(metrics_write_file(path, "x 1\n", 4, msg, sizeof(msg)),
			 -1);
	snprintf(want, sizeof(want), "rename %s: Is a directory", path);
	assert_string_equal(msg, want);
	list_dir(names, sizeof(names));
	assert_string_equal(names, "mwan.prom\n");
	assert_int_equal(rmdir(path), 0);

	/* the temporary name is never followed as a symlink */
	assert_int_equal(
		metrics_write_file(path, "good 1\n", 7, msg, sizeof(msg)), 0);
	snprintf(p, sizeof(p), "%s.tmp.%d", path, (int)getpid());
	assert_int_equal(symlink(path, p), 0);
	assert_int_equal(
		metrics_write_file(path, "evil 1\n", 7, msg, sizeof(msg)), -1);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "good 1\n");
	/* the link was removed with the attempt */
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(
		metrics_write_file(path, "new 1\n", 6, msg, sizeof(msg)), 0);
	read_all(path, buf, sizeof(buf));
	assert_string_equal(buf, "new 1\n");
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_partial, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
