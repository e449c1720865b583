/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared state and helpers of bpfctl's subcommands. */
#ifndef MWAN_BPFCTL_H
#define MWAN_BPFCTL_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "lib/clock.h"
#include "lib/maptable.h"

/* Exit statuses: 1 for a runtime failure, 2 for a usage error. */
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

struct ctl {
	const char *pin_dir;
	const char *run_dir;
	const char *config; /* -c FILE, or NULL */
};

struct ctl_cmd {
	const char *name;
	int (*run)(const struct ctl *ctl, int argc, char **argv);
	const char *args;
	const char *help;
};

/* One WAN slot with what the datapath would decide about it. */
struct ctl_wan {
	struct mwan_wan w;
	__u32 admin;
	char name[MWAN_NAME_LEN + 1]; /* "wanN" if the slot has no name */
	bool named; /* mwan_names holds a name for this slot */
	bool usable; /* mwan_wan_usable(): admin, link and health allow it */
	bool carries; /* new flows go here (lib/steer.c's choice) */
};

/* What every command needs to know about the datapath. */
struct ctl_wans {
	struct mwan_cfg cfg;
	struct ctl_wan wan[MWAN_MAX_WANS];
	bool failopen; /* no WAN is usable, so the best tier takes flows */
};

/* One WAN's external IPv6 prefix (mwan_npt), as the datapath sees it. */
struct ctl_npt {
	struct mwan_npt e;
	bool valid; /* present and not expired */
};

/* What the loader's probes say (mwan_health), with each target's address
 * as the loader's RUN_DIR/status (or the config given with -c) names it.
 */
#define CTL_HEALTH_STALE_S 3 /* the loader rewrites records every second */

struct ctl_health {
	struct mwan_health_info h[MWAN_MAX_WANS]; /* zero: no record */
	char target[MWAN_MAX_WANS][MWAN_HEALTH_TARGETS][128]; /* "": unknown */
	bool frozen; /* the loader is not running, or stopped writing */
	char frozen_why[96];
};

int ctl_health_load(const struct ctl *ctl, const struct ctl_wans *wans,
		    bool loader_running, struct ctl_health *out);
/* Top-level health_frozen, and the text warning when frozen. */
void ctl_health_print_frozen(const struct ctl_health *h);
/* JSON members since, reason, holding, targets of WAN id's object. */
void ctl_health_print_wan(const struct ctl_health *h, unsigned int id);
/* Text: one table line per WAN and target. */
void ctl_health_print_table(const struct ctl_wans *wans,
			    const struct ctl_health *h);

/* Opens a pinned map, read-only unless writable; on failure prints why
 * and returns -1.
 */
int ctl_map_open(const struct ctl *ctl, const struct mwan_map_desc *m,
		 bool writable);
__u32 ctl_map_max_entries(int fd);
/* Sum over CPUs of one per-CPU array slot made of n_u64 counters. */
int ctl_percpu_sum(int fd, __u32 key, __u64 *sum, unsigned int n_u64);

/* A growable array of fixed-size records, for sorting map dumps. */
struct ctl_vec {
	void *data;
	size_t n, cap, size;
	bool oom;
};

/* Room for one more record, or NULL (and oom set) */
void *ctl_vec_push(struct ctl_vec *v);

typedef void (*ctl_entry_fn)(const void *key, const void *value, void *arg);
/* Calls fn for every entry of a hash map. Entries the datapath adds or
 * evicts meanwhile may be missed or seen twice; the walk always ends.
 */
int ctl_map_walk(int fd, const struct mwan_map_desc *m, ctl_entry_fn fn,
		 void *arg);

/* Reads the WAN table and global config; prints why and returns -1 on
 * failure.
 */
int ctl_wans_load(const struct ctl *ctl, struct ctl_wans *wans);
/* Reads mwan_npt; an expired entry is not valid. Prints why and returns
 * -1 on failure.
 */
int ctl_npt_load(const struct ctl *ctl, struct ctl_npt npt[MWAN_MAX_WANS]);
/* Recomputes usable, carries and failopen after admin changes. */
void ctl_wans_decide(struct ctl_wans *wans);
/* Id of the configured WAN that mwan_names calls name, or -1; a stale
 * name in an unconfigured slot does not count.
 */
int ctl_wan_find(const struct ctl_wans *wans, const char *name);
/* Reports a WAN name that is not in mwan_names; returns CTL_EXIT_USAGE. */
int ctl_unknown_wan(const struct ctl_wans *wans, const char *name);
/* The WAN's name for a flow or NAT slot id, whatever id holds. */
const char *ctl_wan_name(const struct ctl_wans *wans, unsigned int id,
			 char buf[MWAN_NAME_LEN + 8]);

const char *ctl_ipv4_str(__be32 addr, char buf[INET_ADDRSTRLEN]);
const char *ctl_ipv6_str(const __u8 addr[16], char buf[INET6_ADDRSTRLEN]);
const char *ctl_mac_str(const __u8 mac[6], char buf[18]);

/* Prints "bpfctl: <message>" and a usage hint to stderr; returns
 * CTL_EXIT_USAGE.
 */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A map a loader from before it did not pin: nothing to show, no error.
 * Returns the fd, -1 on error (reported), -2 when absent.
 */
int ctl_map_open_optional(const struct ctl *ctl, const struct mwan_map_desc *m);

/* ctlclient.c: one request to the loader and its reply (NUL-terminated),
 * retried while the loader is busy; 0, or -1 after an error (reported).
 */
int ctl_call(const struct ctl *ctl, const char *req, char *reply, size_t len);
/* The loader's reply for people (text) or scripts (-j); CTL_EXIT_FAIL
 * for an error reply.
 */
int ctl_print_reply(const char *reply);
/* s as messages show it: non-printable bytes as \xNN. */
const char *ctl_shown(const char *s, char *buf, size_t len);

int cmd_status(const struct ctl *ctl, int argc, char **argv);
int cmd_nat(const struct ctl *ctl, int argc, char **argv);
int cmd_flows(const struct ctl *ctl, int argc, char **argv);
int cmd_stats(const struct ctl *ctl, int argc, char **argv);
int cmd_wan(const struct ctl *ctl, int argc, char **argv);
int cmd_pd(const struct ctl *ctl, int argc, char **argv);
int cmd_reload(const struct ctl *ctl, int argc, char **argv);
int cmd_wan_of(const struct ctl *ctl, int argc, char **argv);

#endif
