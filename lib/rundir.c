/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RUN_DIR's files: their paths, the locked pid file, the status file's grammar (lib/rundir.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

static const char *const run_files[] = {
	[MWAN_RUN_PID] = "mwan-loader.pid",
	[MWAN_RUN_CONTROL] = "control",
	[MWAN_RUN_STATUS] = "status",
};

int mwan_run_path(const char *run_dir, enum mwan_run_file file, char *buf,
		  size_t len)
{
	int n = snprintf(buf, len, "%s/%s", run_dir, run_files[file]);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int mwan_run_socket_addr(const char *run_dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return mwan_run_path(run_dir, MWAN_RUN_CONTROL, sa->sun_path,
			     sizeof(sa->sun_path));
}

int mwan_run_make(const char *run_dir)
{
	if (mkdir(run_dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int mwan_run_lock(const char *run_dir)
{
	char path[PATH_MAX], buf[24];
	int fd, err, n;

	err = mwan_run_path(run_dir, MWAN_RUN_PID, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void mwan_run_remove(const char *run_dir, int lock_fd)
{
	static const enum mwan_run_file gone[] = { MWAN_RUN_STATUS,
						   MWAN_RUN_CONTROL,
						   MWAN_RUN_PID };
	char path[PATH_MAX];
	unsigned int i;

	/* the pid file last: until it is gone, the lock says who owns it */
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (!mwan_run_path(run_dir, gone[i], path, sizeof(path)))
			unlink(path);
	if (lock_fd >= 0)
		close(lock_fd);
}

static pid_t read_pid(int fd)
{
	char buf[24], *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || pid <= 0 ||
	    pid > INT_MAX)
		return 0;
	return pid;
}

bool mwan_run_loader(const char *run_dir, pid_t *pid)
{
	char path[PATH_MAX];
	bool alive;
	int fd;

	*pid = 0;
	if (mwan_run_path(run_dir, MWAN_RUN_PID, path, sizeof(path)))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	alive = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	if (alive)
		*pid = read_pid(fd);
	close(fd);
	return alive;
}

/* ---- RUN_DIR/status ---- */

void mwan_status_format(FILE *f, const struct mwan_status *s)
{
	unsigned int i;

	if (s->kernel[0])
		fprintf(f, "kernel %s\n", s->kernel);
	for (i = 0; i < s->n_prog; i++)
		fprintf(f, "prog %s %u %u\n", s->prog[i].name,
			s->prog[i].verified_insns, s->prog[i].limit_pct);
	for (i = 0; i < s->n_iface; i++) {
		const struct mwan_status_iface *n = &s->iface[i];

		fprintf(f, "iface %s %s %s %s %s\n", n->name, n->role,
			n->xdp_mode, n->dispatcher,
			n->tc_mode[0] ? n->tc_mode : "none");
	}
	for (i = 0; i < s->n_target; i++)
		fprintf(f, "target %s %u %s\n", s->target[i].wan,
			s->target[i].index, s->target[i].text);
}

int mwan_status_write(const char *run_dir, const struct mwan_status *s)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int err;

	err = mwan_run_path(run_dir, MWAN_RUN_STATUS, path, sizeof(path));
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	mwan_status_format(f, s);
	if (fclose(f)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return rename(tmp, path) ? -errno : 0;
}

#define STATUS_TOKENS 6

/* Copies a token into a fixed field; false when it does not fit. */
static bool field(char *to, size_t len, const char *tok)
{
	size_t n = strlen(tok);

	if (n >= len)
		return false;
	memcpy(to, tok, n + 1);
	return true;
}

static bool parse_u32(const char *s, __u32 *v)
{
	unsigned long x;
	char *end;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || end == s || *end || x > UINT32_MAX)
		return false;
	*v = x;
	return true;
}

static void parse_line(char **tok, int n, struct mwan_status *s)
{
	if (n == 2 && !strcmp(tok[0], "kernel")) {
		field(s->kernel, sizeof(s->kernel), tok[1]);
	} else if (n == 4 && !strcmp(tok[0], "prog") &&
		   s->n_prog < MWAN_STATUS_PROGS) {
		struct mwan_status_prog *p = &s->prog[s->n_prog];
		__u32 pct;

		if (field(p->name, sizeof(p->name), tok[1]) &&
		    parse_u32(tok[2], &p->verified_insns) &&
		    parse_u32(tok[3], &pct)) {
			p->limit_pct = pct;
			s->n_prog++;
		}
	} else if ((n == 5 || n == 6) && !strcmp(tok[0], "iface") &&
		   s->n_iface < MWAN_STATUS_IFACES) {
		struct mwan_status_iface *i = &s->iface[s->n_iface];

		memset(i, 0, sizeof(*i));
		if (field(i->name, sizeof(i->name), tok[1]) &&
		    field(i->role, sizeof(i->role), tok[2]) &&
		    field(i->xdp_mode, sizeof(i->xdp_mode), tok[3]) &&
		    field(i->dispatcher, sizeof(i->dispatcher), tok[4]) &&
		    (n == 5 || field(i->tc_mode, sizeof(i->tc_mode), tok[5])))
			s->n_iface++;
	} else if (n == 4 && !strcmp(tok[0], "target") &&
		   s->n_target < MWAN_STATUS_TARGETS) {
		struct mwan_status_target *t = &s->target[s->n_target];

		if (field(t->wan, sizeof(t->wan), tok[1]) &&
		    parse_u32(tok[2], &t->index) &&
		    field(t->text, sizeof(t->text), tok[3]))
			s->n_target++;
	}
}

void mwan_status_parse(FILE *f, struct mwan_status *s)
{
	char line[512], *tok[STATUS_TOKENS + 1], *p, *save;
	int n;

	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		save = NULL;
		p = line;
		for (n = 0; n <= STATUS_TOKENS; n++, p = NULL) {
			tok[n] = strtok_r(p, " \t\n", &save);
			if (!tok[n])
				break;
		}
		if (n && n <= STATUS_TOKENS)
			parse_line(tok, n, s);
	}
}

int mwan_status_read(const char *run_dir, struct mwan_status *s)
{
	char path[PATH_MAX];
	FILE *f;
	int err;

	memset(s, 0, sizeof(*s));
	err = mwan_run_path(run_dir, MWAN_RUN_STATUS, path, sizeof(path));
	if (err)
		return err;
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	mwan_status_parse(f, s);
	fclose(f);
	return 0;
}
