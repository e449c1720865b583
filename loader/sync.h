/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Config and live system state (links, neighbours, addresses) -> maps. */
#ifndef MWAN_LOADER_SYNC_H
#define MWAN_LOADER_SYNC_H

#include <linux/types.h>

struct loader;

/* What follows the config: mappings, names, filters, the interface
 * table; flows the new config no longer allows go (flows.c).
 */
int sync_static(struct loader *l);
/* What follows the system (links, neighbours, addresses, routes) and the
 * WANs' state (wanstate.c); then mwan_cfg. At start, on netlink changes
 * and once a second.
 */
int sync_dynamic(struct loader *l);
/* mwan_tx, after an interface changed its index. */
int sync_ifaces(struct loader *l);

#endif
