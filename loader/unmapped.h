/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Sources refused at a WAN's egress: a rate-limited log line per source. */
#ifndef MWAN_LOADER_UNMAPPED_H
#define MWAN_LOADER_UNMAPPED_H

struct loader;

/* Once a second, a log line (rate-limited per source) for
 * each source the egress guard dropped: a LAN source without a mapping,
 * one that may not leave untranslated (BCP 38), transit between WANs.
 */
void unmapped_tick(struct loader *l);

#endif
