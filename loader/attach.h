/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* XDP and TC on the LANs and WANs: attach, follow re-created interfaces, detach what is stale, record it. */
#ifndef MWAN_LOADER_ATTACH_H
#define MWAN_LOADER_ATTACH_H

#include <stdbool.h>

struct loader;
struct dp_iface;

/* How TC programs are attached, on every kernel. */
#define MWAN_TC_MODE "clsact"

/* Every interface of the config: mwan_xdp (native, else generic; none on
 * an L3 device), mwan_tc_in and, on the WANs, the egress guard
 * mwan_tc_out; recorded in mwan_attach for the next run.
 */
int attach_all(struct loader *l);
/* Whether the fast path may redirect into i (MWAN_WAN_XDP_TX): mwan_xdp
 * runs there in native mode.
 */
bool attach_xdp_tx(const struct dp_iface *i);
/* Whether every WAN has its egress guard attached (after attach_all). */
bool attach_guarded(const struct loader *l);
/* Follows interfaces deleted and created again (new ifindex): attaches
 * to the new one. Returns true when an ifindex changed.
 */
bool attach_follow_links(struct loader *l);
/* RUN_DIR/status (lib/rundir.h): attachments, verifier figures, probe
 * targets.
 */
int attach_write_status(const struct loader *l);
/* --cleanup: detach what this config's interfaces and the recorded
 * attachments say is ours.
 */
int attach_cleanup(struct loader *l);

#endif
