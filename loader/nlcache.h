/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* libnl-3: the link, address, neighbour and route caches, kept live; queries on them. */
#ifndef MWAN_LOADER_NLCACHE_H
#define MWAN_LOADER_NLCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>

struct nlcache;
struct nl_sock;
struct nl_cache;

/* A netlink socket with its caches filled; *out for nlc_close. */
int nlc_open(struct nlcache **out);
void nlc_close(struct nlcache *nc);
/* To poll; when readable, nlc_process. */
int nlc_fd(struct nlcache *nc);
/* 1 when a cache changed, 0 when not, -errno when the socket is gone
 * (then close it and open a fresh one: the caches are refilled).
 */
int nlc_process(struct nlcache *nc);

/* What sync_dynamic needs to know about one interface, from netlink. */
struct nlc_link_info {
	bool exists;
	int ifindex;
	bool up;
	unsigned int mtu;
	unsigned char mac[6];
};
int nlc_link(struct nlcache *nc, const char *name, struct nlc_link_info *out);
/* A usable neighbour's MAC; addr is 4 (AF_INET) or 16 (AF_INET6) bytes
 * in network order.
 */
int nlc_neigh(struct nlcache *nc, int ifindex, int family, const void *addr,
	      unsigned char mac[6]);
int nlc_neigh_resolve(struct nlcache *nc, int ifindex, int family,
		      const void *addr);
/* Calls fn for every usable IPv6 neighbour on ifindex. */
int nlc_for_each_neigh6(struct nlcache *nc, int ifindex,
			void (*fn)(const __u8 addr[16], const __u8 mac[6],
				   void *arg),
			void *arg);
int nlc_first_addr4(struct nlcache *nc, int ifindex, __u32 *addr_be);
/* Whether some IPv4 address of ifindex has addr_be in its subnet (or as
 * its point-to-point peer): a gateway the kernel can reach directly.
 */
bool nlc_addr4_onlink(struct nlcache *nc, int ifindex, __u32 addr_be);
/* Whether the kernel gave up resolving this neighbour (NUD_FAILED);
 * incomplete: it is trying again.
 */
bool nlc_neigh_failed(struct nlcache *nc, int ifindex, int family,
		      const void *addr, bool *incomplete);
/* A bindable global IPv6 address of ifindex (preferred over deprecated),
 * or -ENOENT.
 */
int nlc_global_addr6(struct nlcache *nc, int ifindex, struct in6_addr *out);
/* Whether the link with this index was deleted since the last
 * nlc_forget_deleted() (true when too many were to remember).
 */
bool nlc_link_deleted(struct nlcache *nc, int ifindex);
void nlc_forget_deleted(struct nlcache *nc);
/* Calls fn for every local IPv4 address in the namespace. */
int nlc_for_each_addr4(struct nlcache *nc,
		       void (*fn)(__u32 addr_be, int ifindex, void *arg),
		       void *arg);
/* Calls fn for every local IPv6 address in the namespace. */
int nlc_for_each_addr6(struct nlcache *nc,
		       void (*fn)(const __u8 addr[16], int ifindex, void *arg),
		       void *arg);

/* Calls fn for every non-default unicast IPv4 route of the main table. */
int nlc_for_each_route4(struct nlcache *nc,
			void (*fn)(__u32 dst_be, unsigned int plen, int oif,
				   void *arg),
			void *arg);
/* The same for IPv6, without link-local and multicast destinations. */
int nlc_for_each_route6(struct nlcache *nc,
			void (*fn)(const __u8 dst[16], unsigned int plen,
				   int oif, void *arg),
			void *arg);

/* An address's bytes in family AF_INET or AF_INET6. */
size_t nlc_family_len(int family);

/* For policy routing (routing.c): the socket requests go out on, and the
 * live route cache.
 */
struct nl_sock *nlc_cmd_sock(struct nlcache *nc);
struct nl_cache *nlc_routes(struct nlcache *nc);

#endif
