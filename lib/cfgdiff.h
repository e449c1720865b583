/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a reload changes: two parsed configs compared, no I/O. */
#ifndef MWAN_CFGDIFF_H
#define MWAN_CFGDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Whether b keeps a's interfaces, LAN and WAN names (in order), pin_dir,
 * run_dir and flow table sizes: what a reload cannot change (a restart
 * can).
 */
bool mwan_config_same_interfaces(const struct mwan_config *a,
				 const struct mwan_config *b);

/* What changed, for the log and `bpfctl reload`: "2 mapping(s) added, 1
 * removed, 0 changed; wan att changed; fast_path off".
 */
void mwan_config_describe_diff(const struct mwan_config *old,
			       const struct mwan_config *new, char *buf,
			       size_t len);

#endif
