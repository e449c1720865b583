/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_steer from mwan_wans and mwan_admin: the map I/O around lib/steer.c. */
#ifndef MWAN_LIB_STEERMAP_H
#define MWAN_LIB_STEERMAP_H

/* Reads mwan_wans and mwan_admin, rewrites every mwan_steer entry that
 * changed. Its callers are mwan_steer's one writer, the loader
 * (loader/wanstate.c), and bpfctl wan when no loader runs. Returns 0 or
 * -errno.
 */
int mwan_steer_sync(int wans_fd, int admin_fd, int steer_fd);

#endif
