/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan.yaml as data: pure parsing and validation, no system access. */
#ifndef MWAN_CONFIG_H
#define MWAN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <netinet/in.h>
#include <limits.h>

#include "err.h"
#include "../maps/mwan_maps.h"

#define MWAN_DEFAULT_CONFIG "/etc/mwan/mwan.yaml"
#define MWAN_DEFAULT_PIN_DIR "/sys/fs/bpf/mwan"
#define MWAN_DEFAULT_RUN_DIR "/run/mwan"
#define MWAN_MAX_PROBE_TARGETS 8
#define MWAN_FLOWS_MIN 1024
#define MWAN_FLOWS_MAX 16777216

/* Probe defaults: one round every 250 ms; a WAN goes down after 3 rounds
 * in a row without quorum and comes back after 8 good ones in a row.
 */
#define MWAN_PROBE_INTERVAL_MS 250
#define MWAN_PROBE_TIMEOUT_MS 1000
#define MWAN_PROBE_WINDOW 20
#define MWAN_PROBE_WINDOW_MAX 64
#define MWAN_PROBE_DOWN_AFTER 3
#define MWAN_PROBE_UP_AFTER 8
#define MWAN_PROBE_QUORUM 1
#define MWAN_PROBE_HOLD_DOWN_S 0
/* Window thresholds, judged on the quorum-th best target: above the raise
 * ones a WAN goes down at once, at or below the clear ones it may come
 * back. RTT thresholds are off by default; a clear of 0 means 80 % of the
 * raise.
 */
#define MWAN_PROBE_LOSS_RAISE_PCT 50
#define MWAN_PROBE_LOSS_CLEAR_PCT 25
#define MWAN_PROBE_RTT_RAISE_MS 0
#define MWAN_PROBE_RTT_CLEAR_MS 0
#define MWAN_PROBE_RTT_MAX_MS 60000
/* Prometheus textfile (metrics.textfile): rewritten every interval. */
#define MWAN_METRICS_INTERVAL_S 15
#define MWAN_METRICS_INTERVAL_MAX_S 3600
/* Room left in PATH_MAX for the ".tmp.PID" of the atomic rewrite. */
#define MWAN_METRICS_PATH_MAX (PATH_MAX - 32)

/* At most this many prefixes in each of ingress_filter.drop_sources and
 * wans.NAME.allow_sources.
 */
#define MWAN_MAX_PREFIX_LIST 64

/* One prefix of a list, either family. */
struct mwan_cfg_prefix {
	int family; /* AF_INET or AF_INET6 */
	struct in_addr addr4; /* masked */
	struct in6_addr addr6; /* masked */
	unsigned int plen;
	unsigned int line;
};

struct mwan_cfg_probe_target {
	char text[128]; /* as written: "192.0.2.1", "2001:db8::1" */
	int family; /* AF_INET or AF_INET6 */
	struct in_addr addr4;
	struct in6_addr addr6;
	unsigned int port; /* 0: ICMP echo; else TCP connect ("tcp:A:P") */
	unsigned int line;
};

struct mwan_cfg_wan {
	char name[MWAN_NAME_LEN];
	char ifname[IF_NAMESIZE];
	struct in_addr gw4;
	bool has_gw4;
	struct in6_addr gw6;
	bool has_gw6;
	unsigned int weight; /* default 1, 1..255 */
	unsigned int tier; /* default 1, 1..255 */
	bool has_npt;
	unsigned int npt_subnet;
	bool has_npt_prefix;
	struct in6_addr npt_prefix;
	unsigned int npt_plen;
	unsigned int n_probe_targets;
	struct mwan_cfg_probe_target probe_targets[MWAN_MAX_PROBE_TARGETS];
	unsigned int probe_interval_ms; /* 10..60000 */
	unsigned int probe_timeout_ms; /* 10..60000 */
	unsigned int probe_window; /* last N probes judged, 1..64 */
	unsigned int probe_down_after; /* bad rounds in a row: down */
	unsigned int probe_up_after; /* good rounds in a row: up */
	unsigned int probe_quorum; /* targets that must answer a round */
	unsigned int probe_hold_down_s; /* recovered WAN waits, 0..3600 */
	unsigned int probe_loss_raise_pct; /* 0..100 */
	unsigned int probe_loss_clear_pct; /* 0..loss_raise_pct */
	unsigned int probe_rtt_raise_ms; /* 0 (off)..60000 */
	unsigned int probe_rtt_clear_ms; /* 1..rtt_raise_ms; 0 if raise off */
	/* Sources besides translated ones that may leave by this WAN. */
	unsigned int n_allow;
	struct mwan_cfg_prefix allow_sources[MWAN_MAX_PREFIX_LIST];
	unsigned int line; /* where the WAN's key stands */
	unsigned int iface_line; /* where `interface:` stands */
};

/* One LAN: lan: (the one-LAN spelling, named "lan") or lans[i]. */
struct mwan_cfg_lan {
	char name[MWAN_NAME_LEN];
	char field[16]; /* "lan" or "lans[i]", for messages */
	char ifname[IF_NAMESIZE];
	struct in_addr net4; /* masked */
	unsigned int plen4;
	unsigned int line;
	unsigned int iface_line; /* where `interface:` stands */
	unsigned int ipv4_line;
};

struct mwan_cfg_nat {
	unsigned int lan; /* the mwan_config.lans[] internal is in */
	struct in_addr internal;
	unsigned int internal_line;
	struct in_addr ext[MWAN_MAX_WANS]; /* indexed like mwan_config.wans */
	bool has_ext[MWAN_MAX_WANS];
	unsigned int ext_line[MWAN_MAX_WANS];
	unsigned int line;
};

struct mwan_config {
	char path[PATH_MAX];
	char pin_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	bool fast_path;
	unsigned int flows_max; /* mwan_flows: flows opened from a LAN */
	/* mwan_flows_in, those opened from outside; default flows_max / 4 */
	unsigned int flows_inbound_max;

	unsigned int n_lans;
	struct mwan_cfg_lan lans[MWAN_MAX_LANS];
	bool lans_list; /* spelled `lans:` */
	/* The LAN with ipv6 (at most one: NPTv6 maps one internal prefix
	 * per WAN) and its prefix.
	 */
	unsigned int lan6;
	unsigned int lan_ipv6_line;
	bool has_lan6;
	struct in6_addr lan_net6;
	unsigned int lan_plen6;

	unsigned int n_wans;
	struct mwan_cfg_wan wans[MWAN_MAX_WANS];

	unsigned int n_nat;
	struct mwan_cfg_nat *nat;

	/* ingress_filter: the RFC 6890 bogon list (bogons: default) and
	 * more sources to drop on every WAN.
	 */
	bool bogons;
	unsigned int n_drop;
	struct mwan_cfg_prefix drop_sources[MWAN_MAX_PREFIX_LIST];

	char metrics_textfile[PATH_MAX]; /* absolute; "": no textfile */
	unsigned int metrics_textfile_line;
	unsigned int metrics_interval_s; /* 1..3600 */
};

/* Parse and validate a whole file. On failure returns -1 and writes
 * "FILE:LINE: field: message" into err; cfg then holds nothing to free.
 */
int mwan_config_load(const char *path, struct mwan_config *cfg, char *err,
		     size_t errlen);

/* The same from a buffer; name is used in messages in place of a path. */
int mwan_config_parse(const char *buf, size_t len, const char *name,
		      struct mwan_config *cfg, char *err, size_t errlen);

struct mwan_health_params;

/* The health state machine's parameters for one WAN (lib/health.h). */
void mwan_config_health_params(const struct mwan_cfg_wan *w,
			       struct mwan_health_params *p);

int mwan_config_wan_index(const struct mwan_config *cfg, const char *name);

/* Whether prefix pfx holds address a (of pfx->family, network order). */
bool mwan_prefix_has(const struct mwan_cfg_prefix *pfx, const void *a);

/* Whether two prefixes of the same family share an address. */
bool mwan_prefix_overlaps(const struct mwan_cfg_prefix *a,
			  const struct mwan_cfg_prefix *b);

/* The LAN whose ipv4 holds a (network order), or -1. */
int mwan_config_lan_of(const struct mwan_config *cfg, struct in_addr a);
/* The 1:1 mapping of an internal address (network order), or NULL. */
const struct mwan_cfg_nat *mwan_config_nat_of(const struct mwan_config *cfg,
					      __be32 internal);
/* Whether addr (16 bytes) is inside lan.ipv6; false without one. */
bool mwan_config_in_lan6(const struct mwan_config *cfg, const void *addr);

void mwan_config_free(struct mwan_config *cfg);

#endif
