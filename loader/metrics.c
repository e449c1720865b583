/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics.textfile: lib/metrics.c's exposition, rewritten atomically for node-exporter. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "mapio.h"
#include "metrics.h"
#include "../lib/err.h"
#include "../lib/metrics.h"

#define MS_PER_S 1000ULL

/* One loader per process, and struct loader is not ours to extend. */
static struct {
	char sched_path[PATH_MAX]; /* the config next_ms was computed for */
	unsigned int interval_s;
	__u64 next_ms;
	char path[PATH_MAX]; /* the file this run wrote last; "": none */
	bool failing; /* the last attempt failed and was logged */
} mt;

int metrics_write_file(const char *path, const char *buf, size_t len, char *err,
		       size_t errlen)
{
	char tmp[PATH_MAX];
	const char *what = "write";
	size_t done = 0;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path,
			     (int)getpid()) >= sizeof(tmp)) {
		mwan_set_err(err, errlen, "path too long");
		return -1;
	}
	/* not O_EXCL: a crashed loader with our pid may have left one */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		mwan_set_err(err, errlen, "cannot create %s: %s", tmp,
			     strerror(errno));
		/* a symlink planted there (O_NOFOLLOW) would block every
		 * later attempt
		 */
		unlink(tmp);
		return -1;
	}
	/* node-exporter runs as another user: readable whatever the umask */
	if (fchmod(fd, 0644)) {
		what = "chmod";
		goto fail;
	}
	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += n;
	}
	/* before the rename: after a crash the name holds old or new data,
	 * never an empty file
	 */
	if (fsync(fd)) {
		what = "fsync";
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		what = "close";
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path)) {
		what = "rename";
		goto fail;
	}
	return 0;
fail:
	mwan_set_err(err, errlen, "%s %s: %s", what,
		     strcmp(what, "rename") ? tmp : path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* The config's targets: the same names RUN_DIR/status gives bpfctl. */
static void fill_input(const struct loader *l, bool up,
		       struct mwan_metrics_in *in)
{
	unsigned int w, t;

	memset(in, 0, sizeof(*in));
	in->fd.live = MAP_FD(l, live);
	in->fd.cfg = MAP_FD(l, cfg);
	in->fd.wans = MAP_FD(l, wans);
	in->fd.names = MAP_FD(l, names);
	in->fd.admin = MAP_FD(l, admin);
	in->fd.stats = MAP_FD(l, stats);
	in->fd.wanstat = MAP_FD(l, wanstat);
	in->fd.flows = MAP_FD(l, flows);
	in->fd.health = MAP_FD(l, health);
	in->fd.wandrop = MAP_FD(l, wandrop);
	in->fd.flows_in = MAP_FD(l, flows_in);
	in->fd.flowstat = MAP_FD(l, flowstat);
	in->loader_up = up;
	for (w = 0; w < l->cfg.n_wans && w < MWAN_MAX_WANS; w++)
		for (t = 0; t < l->cfg.wans[w].n_probe_targets &&
			    t < MWAN_HEALTH_TARGETS;
		     t++)
			in->target[w][t] = l->cfg.wans[w].probe_targets[t].text;
}

static int write_metrics(const struct loader *l, bool up, char *err,
			 size_t errlen)
{
	static struct mwan_metrics_in in;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	fill_input(l, up, &in);
	if (mwan_metrics_render(&in, &buf, &len, err, errlen))
		return -1;
	ret = metrics_write_file(l->cfg.metrics_textfile, buf, len, err,
				 errlen);
	free(buf);
	return ret;
}

/* A path the config no longer names would otherwise serve its last
 * numbers, "loader up" included, for ever.
 */
static void forget_old_path(const struct loader *l)
{
	if (!mt.path[0] || !strcmp(mt.path, l->cfg.metrics_textfile))
		return;
	if (unlink(mt.path) && errno != ENOENT)
		log_warn("metrics: cannot remove %s: %s", mt.path,
			 strerror(errno));
	else
		log_info("metrics: removed %s (no longer configured)", mt.path);
	mt.path[0] = '\0';
}

/* A reload changed path or interval: write at once, then on the new
 * schedule.
 */
static bool config_changed(const struct loader *l)
{
	return mt.interval_s != l->cfg.metrics_interval_s ||
	       strcmp(mt.sched_path, l->cfg.metrics_textfile);
}

void metrics_tick(struct loader *l, __u64 now_ms)
{
	const char *path = l->cfg.metrics_textfile;
	char err[MWAN_ERR_LEN];

	forget_old_path(l);
	if (!path[0] || !l->skel)
		return;
	if (config_changed(l)) {
		snprintf(mt.sched_path, sizeof(mt.sched_path), "%s", path);
		mt.interval_s = l->cfg.metrics_interval_s;
		mt.next_ms = 0;
		mt.failing = false;
	}
	if (now_ms < mt.next_ms)
		return;
	mt.next_ms = now_ms + mt.interval_s * MS_PER_S;
	if (write_metrics(l, true, err, sizeof(err))) {
		/* every interval would flood the log with the same line */
		if (!mt.failing)
			log_warn(
				"metrics: cannot write %s: %s (retrying every %u s, logged once)",
				path, err, mt.interval_s);
		mt.failing = true;
		return;
	}
	if (mt.failing)
		log_info("metrics: writing %s again", path);
	else if (strcmp(mt.path, path))
		log_info("metrics: writing %s every %u s", path, mt.interval_s);
	mt.failing = false;
	snprintf(mt.path, sizeof(mt.path), "%s", path);
}

int metrics_timeout_ms(const struct loader *l, __u64 now_ms, int max_ms)
{
	__u64 left;

	if (!l->cfg.metrics_textfile[0] || !l->skel)
		return max_ms;
	if (config_changed(l) || now_ms >= mt.next_ms)
		return 0;
	left = mt.next_ms - now_ms;
	return left < (__u64)max_ms ? (int)left : max_ms;
}

void metrics_stop(struct loader *l)
{
	char err[MWAN_ERR_LEN];

	if (!mt.path[0] || !l->skel || strcmp(mt.path, l->cfg.metrics_textfile))
		return;
	if (write_metrics(l, false, err, sizeof(err)))
		log_warn("metrics: cannot write the final %s: %s", mt.path,
			 err);
	mt.path[0] = '\0';
}
