/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RUN_DIR: the loader's pid file, control socket and status file, for bpfctl and the next loader. */
#ifndef MWAN_LIB_RUNDIR_H
#define MWAN_LIB_RUNDIR_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>
#include <linux/types.h>

#include "../maps/mwan_maps.h"

/* What a running mwan-loader keeps in its run_dir (default /run/mwan):
 *
 *   mwan-loader.pid  "PID\n". The loader holds an flock on it for as long
 *                    as it runs: a live loader is a locked pid file, so a
 *                    stale file or a recycled pid never looks alive.
 *   control          the control socket (lib/control.h's protocol).
 *   status           what the loader found at start, one record a line,
 *                    fields separated by one space, written whole
 *                    (status.tmp, then rename):
 *
 *     kernel RELEASE
 *     prog NAME VERIFIED_INSNS LIMIT_PCT
 *     iface IFNAME ROLE XDP_MODE DISPATCHER TC_MODE
 *           ROLE: lan | lan:NAME | wan:NAME; XDP_MODE: native | skb |
 *           none; DISPATCHER: multiprog | single; TC_MODE: clsact | none
 *           (a loader before TC_MODE wrote four fields)
 *     target WAN INDEX TEXT
 *           what probe target INDEX of WAN probes, as in the config
 *
 *   Readers skip lines of other kinds, so a later loader may add some.
 */
enum mwan_run_file {
	MWAN_RUN_PID,
	MWAN_RUN_CONTROL,
	MWAN_RUN_STATUS,
};

/* RUN_DIR/file into buf; -ENAMETOOLONG when it does not fit. */
int mwan_run_path(const char *run_dir, enum mwan_run_file file, char *buf,
		  size_t len);
/* The control socket's address; -ENAMETOOLONG when run_dir is too long
 * for a unix socket path.
 */
int mwan_run_socket_addr(const char *run_dir, struct sockaddr_un *sa);

/* Creates run_dir (0755) when missing. */
int mwan_run_make(const char *run_dir);
/* Writes this process's pid and keeps the file locked until
 * mwan_run_unlock. Returns the descriptor that holds the lock, -EBUSY when
 * another live process holds it, or another -errno.
 */
int mwan_run_lock(const char *run_dir);
/* Removes the pid and status files and the socket, then drops the lock. */
void mwan_run_remove(const char *run_dir, int lock_fd);

/* Whether a live loader holds run_dir (the pid file's lock is taken);
 * its pid in *pid, 0 if it has not written it yet.
 */
bool mwan_run_loader(const char *run_dir, pid_t *pid);

#define MWAN_STATUS_PROGS 8
#define MWAN_STATUS_IFACES (MWAN_MAX_LANS + MWAN_MAX_WANS)
#define MWAN_STATUS_TARGETS (MWAN_MAX_WANS * MWAN_HEALTH_TARGETS)

struct mwan_status_prog {
	char name[16];
	__u32 verified_insns;
	unsigned int limit_pct;
};

struct mwan_status_iface {
	char name[IF_NAMESIZE];
	char role[MWAN_NAME_LEN + 8];
	char xdp_mode[16];
	char dispatcher[16];
	char tc_mode[16]; /* "": not reported */
};

struct mwan_status_target {
	char wan[MWAN_NAME_LEN];
	unsigned int index;
	char text[128];
};

struct mwan_status {
	char kernel[65]; /* "": not reported */
	unsigned int n_prog, n_iface, n_target;
	struct mwan_status_prog prog[MWAN_STATUS_PROGS];
	struct mwan_status_iface iface[MWAN_STATUS_IFACES];
	struct mwan_status_target target[MWAN_STATUS_TARGETS];
};

/* Writes s as RUN_DIR/status, replacing the old one whole. */
int mwan_status_write(const char *run_dir, const struct mwan_status *s);
/* Parses RUN_DIR/status into s (all empty when there is none). */
int mwan_status_read(const char *run_dir, struct mwan_status *s);
/* The grammar above, from and to a stream: the parts the unit tests
 * drive.
 */
void mwan_status_format(FILE *f, const struct mwan_status *s);
void mwan_status_parse(FILE *f, struct mwan_status *s);

#endif
