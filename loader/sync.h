/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config and live system state (links, neighbours, addresses) -> maps. */
#ifndef MWAN_LOADER_SYNC_H
#define MWAN_LOADER_SYNC_H

#include <linux/types.h>

struct loader;

int sync_static(struct loader *l);
int sync_dynamic(struct loader *l);
/* mwan_tx, after an interface changed its index. */
int sync_ifaces(struct loader *l);
/* Drop the IPv6 flows of the WANs in wan_mask (bit i: WAN i), whose
 * external prefix changed under them.
 */
void sync_drop_flows6(struct loader *l, __u32 wan_mask);

#endif
