/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_wans, mwan_admin and mwan_steer: each WAN's state, the operator's override, the steering tables (their one writer). */
#ifndef MWAN_LOADER_WANSTATE_H
#define MWAN_LOADER_WANSTATE_H

#include <linux/types.h>

struct loader;

/* Each WAN's entry from the config, the system (link, address, gateway,
 * what blocks it) and the prober's verdict; then the steering tables.
 */
int wanstate_sync(struct loader *l);
/* The prober's new verdict for WAN w (enum mwan_health). */
int wanstate_set_health(struct loader *l, unsigned int w, __u32 health);
/* The operator's override of WAN w (MWAN_ADMIN_*), from the control
 * socket's "wan" request.
 */
int wanstate_set_admin(struct loader *l, unsigned int w, __u32 admin);

#endif
