/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Steering tables: which WAN new flows take, computed from WAN state. */
#ifndef MWAN_STEER_H
#define MWAN_STEER_H

#include <stddef.h>

#include "../maps/mwan_maps.h"

/* Fill `out` for hosts with public addresses on the WANs in `mask`: the
 * usable WANs of the best tier share the slots by weight; with none
 * usable, all configured ones do (fail open).
 */
void mwan_steer_compute(const struct mwan_wan wans[MWAN_MAX_WANS],
			const __u32 admin[MWAN_MAX_WANS], __u32 mask,
			struct mwan_steer *out);

/* The name of one MWAN_WAN_BLOCK_* bit ("no address"), NULL for others. */
const char *mwan_wan_block_name(unsigned int bit);

/* Every bit of `blocked` by name, ", "-separated ("" for none). */
void mwan_wan_block_str(__u8 blocked, char *buf, size_t len);

/* The operator's override (mwan_admin) as bpfctl and the control socket
 * spell it: "up", "down", "auto".
 */
const char *mwan_admin_name(__u32 admin);
/* 0, or -1 for a word that is none of them. */
int mwan_admin_parse(const char *s, __u32 *admin);

#endif
