/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* State shared by the loader's parts: config, BPF object, attachments. */
#ifndef MWAN_LOADER_H
#define MWAN_LOADER_H

#include <poll.h>
#include <stdbool.h>
#include <xdp/libxdp.h>

#include "../lib/config.h"
#include "../lib/maptable.h"
#include "kernel.h"

/* Policy routing: WAN i uses fwmark MWAN_FWMARK_BASE + i, routing table
 * MWAN_TABLE_BASE + i and a rule at MWAN_RULE_PRIO + 1 + i; the rule at
 * MWAN_RULE_PRIO keeps traffic to the LAN in the main table whatever its
 * mark. IPv6 has the same rules, tables and marks (for WANs with a
 * gateway6; the LAN rule with lan.ipv6).
 */
#define MWAN_FWMARK_BASE 0x6d770100U
#define MWAN_TABLE_BASE 27900U
#define MWAN_RULE_PRIO 9000U
/* Each WAN table ends with `unreachable default` at this metric. */
#define MWAN_ROUTE_LAST_METRIC 0xffffffffU

/* How TC programs are attached, on every kernel (dataplane.c). */
#define MWAN_TC_MODE "clsact"

struct mwan_bpf;
struct mwan_ctl_req;
struct ctlsock;
struct probe_state;
struct reload_state;

struct dp_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int wan; /* -1 for the LAN */
	enum xdp_attach_mode xdp_mode;
	bool xdp_attached;
	bool legacy; /* single-program mode (no libxdp dispatcher) */
	bool tc_in;
	bool tc_out;
	bool l3; /* no Ethernet header (a tunnel, PPP): TC only, no XDP */
};

struct loader {
	struct mwan_config cfg;
	struct kernel_info kernel;
	struct mwan_bpf *skel;
	int map_fd[MWAN_MAP_COUNT]; /* by enum mwan_map_id: MAP_FD() */
	struct xdp_program *xdp;
	const char *bpf_object; /* --bpf-object; NULL: search, then built in */
	void *obj_buf; /* the object file's bytes, while skel uses them */
	/* The LANs in config order, then the WANs (dp_lan, dp_wan) */
	struct dp_iface ifaces[MWAN_MAX_LANS + MWAN_MAX_WANS];
	unsigned int n_ifaces;
	bool routing_installed;
	int run_lock; /* holds run_dir's pid file (lib/rundir.h), or -1 */
	/* WAN i's IPv4 gateway route: 0 in place, else why not (netlink.c) */
	int route4_err[MWAN_MAX_WANS];
	struct netlink_state *nl;
	struct ctlsock *ctl; /* the control socket, ctlsock.c */
	struct probe_state *probe; /* WAN health probes, probe.c */
	struct reload_state *reload; /* a reload being parsed, reload.c */
};

/* LAN k's and WAN w's interfaces in loader.ifaces. */
static inline struct dp_iface *dp_lan(struct loader *l, unsigned int k)
{
	return &l->ifaces[k];
}

static inline struct dp_iface *dp_wan(struct loader *l, unsigned int w)
{
	return &l->ifaces[l->cfg.n_lans + w];
}

/* reload.c: SIGHUP and the control socket's "reload". The config is
 * parsed by a worker thread; the loop polls reload_fd and calls
 * reload_finish, which applies it (or not) and gives the outcome in msg
 * (the FILE:LINE message of a refused config) and *rc (0: applied).
 */
int reload_open(struct loader *l);
void reload_close(struct loader *l);
int reload_fd(const struct loader *l);
/* Starts a parse; one asked for while another runs follows it. */
int reload_start(struct loader *l);
/* After reload_fd was readable: true when a verdict is in msg and *rc. */
bool reload_finish(struct loader *l, char *msg, size_t len, int *rc);
/* Whether another parse is queued or running. */
bool reload_busy(const struct loader *l);
/* Start-up: the config file parsed and checked against the system. */
int reload_load_config(const char *path, struct mwan_config *cfg, char *err,
		       size_t errlen);

/* dataplane.c */
int dp_prepare_pin_dir(const char *pin_dir);
int dp_load(struct loader *l);
int dp_attach(struct loader *l);
/* Whether the fast path may redirect into i (MWAN_WAN_XDP_TX): mwan_xdp
 * runs there in native mode.
 */
bool dp_xdp_tx(const struct dp_iface *i);
/* Whether every WAN has its egress guard attached (after dp_attach). */
bool dp_guarded(const struct loader *l);
/* Follows interfaces deleted and created again (new ifindex): attaches
 * to the new one. Returns true when an ifindex changed.
 */
bool dp_follow_links(struct loader *l);
void dp_close(struct loader *l);
int dp_write_status(const struct loader *l);
/* mwan-loader --cleanup: detach whatever a previous run left attached and
 * remove its pinned maps.
 */
int dp_cleanup(struct loader *l);

/* sync.c: config and system state -> maps */
int sync_static(struct loader *l);
int sync_dynamic(struct loader *l);
/* mwan_tx, after an interface changed its index. */
int sync_ifaces(struct loader *l);
/* Drop the IPv6 flows of the WANs in wan_mask (bit i: WAN i), whose
 * external prefix changed under them.
 */
void sync_drop_flows6(struct loader *l, __u32 wan_mask);

/* prefix.c: mwan_npt, the external IPv6 prefix of each WAN */
/* Start and reload: static prefixes from the config, delegated ones read
 * back from the (pinned) map and kept while valid, everything else gone.
 */
int prefix_reconcile(struct loader *l);
/* A validated `pd` request; msg gets the reply text (without "ok "). */
int prefix_apply(struct loader *l, const struct mwan_ctl_req *req, char *msg,
		 size_t len);
/* Delete expired entries and keep mwan_npt_mask current. */
void prefix_expire(struct loader *l);
/* Milliseconds until the next entry expires, at most max_ms. */
int prefix_timeout_ms(struct loader *l, int max_ms);

/* unmapped.c: once a second, a log line (rate-limited per source) for
 * each source the egress guard dropped: a LAN source without a mapping,
 * one that may not leave untranslated (BCP 38), transit between WANs.
 */
void unmapped_tick(struct loader *l);

/* netlink.c */
int nlw_open(struct loader *l);
void nlw_close(struct loader *l);
int nlw_fd(struct loader *l);
int nlw_process(struct loader *l);
int nlw_routing_install(struct loader *l);
void nlw_routing_remove(struct loader *l);
int nlw_routing_refresh(struct loader *l);

/* What sync_dynamic needs to know about one interface, from netlink. */
struct nlw_link_info {
	bool exists;
	int ifindex;
	bool up;
	unsigned int mtu;
	unsigned char mac[6];
};
int nlw_link(struct loader *l, const char *name, struct nlw_link_info *out);
/* A usable neighbour's MAC; addr is 4 (AF_INET) or 16 (AF_INET6) bytes
 * in network order.
 */
int nlw_neigh(struct loader *l, int ifindex, int family, const void *addr,
	      unsigned char mac[6]);
int nlw_neigh_resolve(struct loader *l, int ifindex, int family,
		      const void *addr);
/* Calls fn for every usable IPv6 neighbour on ifindex. */
int nlw_for_each_neigh6(struct loader *l, int ifindex,
			void (*fn)(const __u8 addr[16], const __u8 mac[6],
				   void *arg),
			void *arg);
int nlw_first_addr4(struct loader *l, int ifindex, __u32 *addr_be);
/* Whether some IPv4 address of ifindex has addr_be in its subnet (or as
 * its point-to-point peer): a gateway the kernel can reach directly.
 */
bool nlw_addr4_onlink(struct loader *l, int ifindex, __u32 addr_be);
/* Whether the kernel gave up resolving this neighbour (NUD_FAILED);
 * incomplete: it is trying again.
 */
bool nlw_neigh_failed(struct loader *l, int ifindex, int family,
		      const void *addr, bool *incomplete);
/* A bindable global IPv6 address of ifindex (preferred over deprecated),
 * or -ENOENT.
 */
int nlw_global_addr6(struct loader *l, int ifindex, struct in6_addr *out);
/* Whether the link with this index was deleted since the last
 * nlw_forget_deleted() (true when too many were to remember).
 */
bool nlw_link_deleted(struct loader *l, int ifindex);
void nlw_forget_deleted(struct loader *l);
/* Calls fn for every local IPv4 address in the namespace. */
int nlw_for_each_addr4(struct loader *l,
		       void (*fn)(__u32 addr_be, int ifindex, void *arg),
		       void *arg);
/* Calls fn for every local IPv6 address in the namespace. */
int nlw_for_each_addr6(struct loader *l,
		       void (*fn)(const __u8 addr[16], int ifindex, void *arg),
		       void *arg);

/* Calls fn for every non-default unicast IPv4 route of the main table. */
int nlw_for_each_route4(struct loader *l,
			void (*fn)(__u32 dst_be, unsigned int plen, int oif,
				   void *arg),
			void *arg);
/* The same for IPv6, without link-local and multicast destinations. */
int nlw_for_each_route6(struct loader *l,
			void (*fn)(const __u8 dst[16], unsigned int plen,
				   int oif, void *arg),
			void *arg);

#endif
