/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* State shared by the loader's parts: config, BPF object, attachments. */
#ifndef MWAN_LOADER_H
#define MWAN_LOADER_H

#include <stdbool.h>
#include <xdp/libxdp.h>

#include "../lib/config.h"

/* Policy routing: WAN i uses fwmark MWAN_FWMARK_BASE + i, routing table
 * MWAN_TABLE_BASE + i and a rule at MWAN_RULE_PRIO + 1 + i; the rule at
 * MWAN_RULE_PRIO keeps traffic to the LAN in the main table whatever its
 * mark.
 */
#define MWAN_FWMARK_BASE 0x6d770100U
#define MWAN_TABLE_BASE 27900U
#define MWAN_RULE_PRIO 9000U

struct mwan_bpf;

struct dp_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int wan; /* -1 for the LAN */
	enum xdp_attach_mode xdp_mode;
	bool xdp_attached;
	bool legacy; /* single-program mode (no libxdp dispatcher) */
	bool tc_in;
	bool tc_out;
};

struct loader {
	struct mwan_config cfg;
	struct mwan_bpf *skel;
	struct xdp_program *xdp;
	bool xdp_by_fd; /* program loaded by libbpf, handed to libxdp by fd */
	struct dp_iface ifaces[1 + MWAN_MAX_WANS]; /* [0]: LAN */
	unsigned int n_ifaces;
	bool routing_installed;
	struct netlink_state *nl;
};

/* dataplane.c */
int dp_prepare_pin_dir(const char *pin_dir);
int dp_load(struct loader *l);
int dp_attach(struct loader *l);
void dp_detach(struct loader *l);
void dp_unpin(struct loader *l);
void dp_close(struct loader *l);
int dp_write_status(const struct loader *l);

/* sync.c: config and system state -> maps */
int sync_static(struct loader *l);
int sync_dynamic(struct loader *l);

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
	bool up;
	unsigned int mtu;
	unsigned char mac[6];
};
int nlw_link(struct loader *l, const char *name, struct nlw_link_info *out);
int nlw_neigh4(struct loader *l, int ifindex, __u32 addr_be,
	       unsigned char mac[6]);
int nlw_neigh4_resolve(struct loader *l, int ifindex, __u32 addr_be);
int nlw_first_addr4(struct loader *l, int ifindex, __u32 *addr_be);
/* Calls fn for every local IPv4 address in the namespace. */
int nlw_for_each_addr4(struct loader *l,
		       void (*fn)(__u32 addr_be, int ifindex, void *arg),
		       void *arg);

/* Calls fn for every non-default unicast IPv4 route of the main table. */
int nlw_for_each_route4(struct loader *l,
			void (*fn)(__u32 dst_be, unsigned int plen, int oif,
				   void *arg),
			void *arg);

#endif
