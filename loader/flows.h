/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's side of the flow tables: flows whose mapping or prefix went away are removed, and counted. */
#ifndef MWAN_LOADER_FLOWS_H
#define MWAN_LOADER_FLOWS_H

#include <linux/types.h>

struct loader;

/* After a (re)load: flows of hosts that lost their mapping, or whose
 * public address or IPv6 prefix changed, are removed; a host that only
 * gained or lost other WANs keeps its flows.
 */
void flows_prune(const struct loader *l);
/* Drop the IPv6 flows of the WANs in wan_mask (bit i: WAN i), whose
 * external prefix changed under them.
 */
void flows_drop6(const struct loader *l, __u32 wan_mask);

#endif
