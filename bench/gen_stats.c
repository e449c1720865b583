/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a generator run measures besides the sink: CPU time, mwan's counters, and each BPF program's run time per packet. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "lib/maptable.h"

/* ---- CPU use from /proc/stat ---- */

static int ksoftirqd_pid[BENCH_MAX_CPUS];

/* The pids of ksoftirqd/0..cpus-1, from /proc/PID/comm. */
void stats_init(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300];
	unsigned int cpu;
	FILE *f;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = atoi(e->d_name) > 0 ? fopen(path, "r") : NULL;
		if (!f)
			continue;
		if (fscanf(f, "ksoftirqd/%u", &cpu) == 1 && cpu < opt.cpus)
			ksoftirqd_pid[cpu] = atoi(e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
}

struct cpu_times cpu_read(void)
{
	struct cpu_times t = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &t.user, &t.nice, &t.sys, &t.idle, &t.iowait, &t.irq,
			 &t.softirq, &t.steal) != 8)
		die("/proc/stat: cannot parse");
	fclose(f);
	return t;
}

unsigned long long cpu_total(const struct cpu_times *t)
{
	return t->user + t->nice + t->sys + t->idle + t->iowait + t->irq +
	       t->softirq + t->steal;
}

/* A task's user + system time in clock ticks (0 if it is gone). */
static unsigned long long task_ticks(const char *stat_path)
{
	unsigned long long ut, st;
	char buf[1024], *p;
	FILE *f = fopen(stat_path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* After the command: state and 10 more fields, then utime, stime. */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		die("%s: cannot parse", stat_path);
	return ut + st;
}

/* The CPU time of the packets' work: this process (generator threads,
 * and the router and the sink in their softirq context) and the
 * ksoftirqd threads of its CPUs (softirq work the kernel deferred).
 */
unsigned long long bench_ticks(void)
{
	unsigned long long t = task_ticks("/proc/self/stat");
	char path[64], comm[32];
	unsigned int cpu;
	FILE *f;
	int pid;

	for (cpu = 0; cpu < opt.cpus; cpu++) {
		pid = ksoftirqd_pid[cpu];
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = pid ? fopen(path, "r") : NULL;
		if (!f)
			continue;
		if (fscanf(f, "%31s", comm) == 1 &&
		    !strncmp(comm, "ksoftirqd/", 10)) {
			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			t += task_ticks(path);
		}
		fclose(f);
	}
	return t;
}

/* ---- mwan's counters (--mwan-pin), to show which path carried it ---- */

#define STAT_NAME(n, s) s,
const char *const mwan_stat_names[MWAN_STAT_MAX] = { MWAN_DROPS(
	STAT_NAME) MWAN_EVENTS(STAT_NAME) };
#undef STAT_NAME

static int mwan_stats_fd = -1;

void mwan_open(void)
{
	char path[512];

	if (!opt.mwan_pin)
		return;
	snprintf(path, sizeof(path), "%s/%s", opt.mwan_pin,
		 MWAN_MAP(stats)->name);
	mwan_stats_fd = bpf_obj_get(path);
	if (mwan_stats_fd < 0)
		die("%s: %s", path, strerror(errno));
}

void mwan_read(__u64 *sum)
{
	int n = libbpf_num_possible_cpus(), i;
	__u64 v[BENCH_MAX_CPUS * 4];
	__u32 s;

	memset(sum, 0, MWAN_STAT_MAX * sizeof(*sum));
	if (mwan_stats_fd < 0)
		return;
	for (s = 0; s < MWAN_STAT_MAX; s++) {
		if (bpf_map_lookup_elem(mwan_stats_fd, &s, v))
			die("reading %s: %s", MWAN_MAP(stats)->name,
			    strerror(errno));
		for (i = 0; i < n; i++)
			sum[s] += v[i];
	}
}

/* ---- per-program run time ---- */

/* The kernel times every BPF program while a BPF_ENABLE_STATS file
 * descriptor is open (the same switch as kernel.bpf_stats_enabled=1,
 * but it turns itself off when the process ends, however it ends).
 * Timing costs two clock reads per run, so the rate is measured before
 * this is switched on.
 */
int progstats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		die("BPF_ENABLE_STATS: %s", strerror(errno));
	return fd;
}

/* Every XDP and TC program on the machine, with its counters. */
void progstats_read(struct prog_sample *x)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd;

	x->n = 0;
	while (x->n < PROGS_MAX && !bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue; /* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (info.type == BPF_PROG_TYPE_XDP ||
		     info.type == BPF_PROG_TYPE_SCHED_CLS ||
		     info.type == BPF_PROG_TYPE_EXT)) {
			x->p[x->n].id = id;
			x->p[x->n].type = info.type;
			memcpy(x->p[x->n].name, info.name, sizeof(info.name));
			x->p[x->n].run_cnt = info.run_cnt;
			x->p[x->n].run_time_ns = info.run_time_ns;
			x->n++;
		}
		close(fd);
	}
}

static const char *prog_type(__u32 type)
{
	return type == BPF_PROG_TYPE_XDP       ? "xdp" :
	       type == BPF_PROG_TYPE_SCHED_CLS ? "tc" :
						 "ext";
}

/* The programs that ran between a and b: runs and ns per run. */
void progstats_print(const struct prog_sample *a, const struct prog_sample *b)
{
	const char *sep = "";
	__u64 runs, ns;
	unsigned int i, j;

	printf(", \"progs\": [");
	for (i = 0; i < b->n; i++) {
		for (j = 0; j < a->n && a->p[j].id != b->p[i].id; j++)
			;
		if (j == a->n)
			continue; /* loaded during the window */
		runs = b->p[i].run_cnt - a->p[j].run_cnt;
		ns = b->p[i].run_time_ns - a->p[j].run_time_ns;
		if (!runs)
			continue;
		printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"runs\": %llu, "
		       "\"ns_per_run\": %.1f}",
		       sep, b->p[i].name, prog_type(b->p[i].type),
		       (unsigned long long)runs, (double)ns / runs);
		sep = ", ";
	}
	printf("]");
}
