/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a config asks of the running system: interfaces, addresses, sysctls, paths. */
#ifndef MWAN_SYSCHECK_H
#define MWAN_SYSCHECK_H

#include <stdbool.h>
#include <stddef.h>

struct mwan_config;

/* The only checks that look at the system: every named interface exists
 * and is of a kind its role allows (LANs Ethernet, WANs Ethernet or L3),
 * no mapping names an address the router itself owns, the kernel
 * forwards the families mwan translates, no WAN filters by reverse path
 * strictly, and metrics.textfile is not a directory. Same message format
 * as the parser.
 */
int mwan_config_check_interfaces(const struct mwan_config *cfg, char *err,
				 size_t errlen);

/* The interface's ARPHRD_* link type, or -errno. */
int mwan_link_type(const char *ifname);

/* Whether a link type has no link-layer header: packets start at the IP
 * header (WireGuard, GRE, IP-in-IP, tun, PPP). Such a device may be a
 * WAN, never a LAN.
 */
bool mwan_link_l3(int type);

/* A sysctl's value (path under /proc/sys) as an integer, or -1 when it
 * cannot be read.
 */
int mwan_sysctl_int(const char *path);

/* The reverse-path filter the kernel applies on ifname: the larger of
 * net.ipv4.conf.all.rp_filter (*all) and the interface's own (*dev).
 * 1 is strict, which mwan refuses on a WAN.
 */
int mwan_rp_filter(const char *ifname, int *all, int *dev);

#endif
