/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus textfile for node-exporter, kept current by the loader. */
#ifndef MWAN_LOADER_METRICS_H
#define MWAN_LOADER_METRICS_H

#include <stddef.h>
#include <linux/types.h>

struct loader;

/* Writes metrics.textfile when it is due (at once on the first call,
 * then every metrics.interval seconds); now_ms is CLOCK_MONOTONIC. A
 * failure is logged once, and its end once. Follows a reload: a new
 * path or interval applies at once, and the file of a path no longer
 * configured is removed. Does nothing without metrics.textfile.
 */
void metrics_tick(struct loader *l, __u64 now_ms);

/* Milliseconds until metrics_tick has something to do, at most max_ms. */
int metrics_timeout_ms(const struct loader *l, __u64 now_ms, int max_ms);

/* On stop, while the maps are still loaded: one last file that says
 * mwan_loader_up 0, so what node-exporter keeps serving is not taken for
 * a running loader. Only rewrites a file this run has written.
 */
void metrics_stop(struct loader *l);

/* PATH.tmp.PID in PATH's directory, mode 0644, fsync'd, then renamed
 * over PATH: a reader sees the old file or the new one, never part of
 * one. On failure no temporary file is left and err says why.
 */
int metrics_write_file(const char *path, const char *buf, size_t len, char *err,
		       size_t errlen);

#endif
