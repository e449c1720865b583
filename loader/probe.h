/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* WAN health probes: ICMP/ICMPv6 echo and TCP connect through each WAN. */
#ifndef MWAN_PROBE_H
#define MWAN_PROBE_H

#include "../lib/health.h"

struct loader;

/* Start: one prober per WAN, seeded from the pinned mwan_health (see
 * probe.c), sockets opened for the WANs whose link is up. Needs netlink
 * and the loaded maps.
 */
int probe_open(struct loader *l);
void probe_close(struct loader *l);

/* One descriptor (an epoll set of every probe socket) for the main poll. */
int probe_fd(const struct loader *l);
/* Milliseconds until the prober next has something to do, at most max_ms. */
int probe_timeout_ms(const struct loader *l, int max_ms);
/* Reads replies, judges rounds that are due, sends rounds that are due,
 * and writes verdicts to mwan_wans (re-steering at once) and
 * mwan_health. Call on every wake-up of the main loop.
 */
void probe_process(struct loader *l);
/* Links, indexes or addresses may have changed: follow them (link down:
 * the WAN is down at once; sockets rebound).
 */
void probe_refresh(struct loader *l);
/* The config was reloaded: WANs whose probe settings changed start over
 * (a WAN that was down stays down until its probes say otherwise).
 */
void probe_reload(struct loader *l);

/* What mwan_wans[w].health must say. */
enum mwan_health probe_health(const struct loader *l, unsigned int w);

#endif
