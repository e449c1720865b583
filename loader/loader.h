/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the loader's modules share: the config, the interfaces, the loaded object's maps, each module's state. */
#ifndef MWAN_LOADER_H
#define MWAN_LOADER_H

#include <stdbool.h>
#include <xdp/libxdp.h>

#include "../lib/config.h"
#include "../lib/maptable.h"
#include "kernel.h"
#include "publish.h"

struct mwan_bpf;
struct mwan_ctl_req;
struct ctlsock;
struct probe_state;
struct reload_state;
struct nlcache;

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
	struct publish_state pub; /* the live config slot, publish.c */
	struct xdp_program *xdp;
	int hostmask_fd; /* mwan_hostmask (flows.c) */
	const char *bpf_object; /* --bpf-object; NULL: search, then built in */
	void *obj_buf; /* the object file's bytes, while skel uses them */
	/* The LANs in config order, then the WANs (dp_lan, dp_wan) */
	struct dp_iface ifaces[MWAN_MAX_LANS + MWAN_MAX_WANS];
	unsigned int n_ifaces;
	bool routing_installed;
	int run_lock; /* holds run_dir's pid file (lib/rundir.h), or -1 */
	/* WAN i's IPv4 gateway route: 0 in place, else why not (routing.c) */
	int route4_err[MWAN_MAX_WANS];
	struct nlcache *nl; /* netlink caches, nlcache.c */
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

#endif
