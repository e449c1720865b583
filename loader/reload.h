/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reload: the new config parsed off the main loop, then applied on it. */
#ifndef MWAN_LOADER_RELOAD_H
#define MWAN_LOADER_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

struct loader;
struct mwan_config;

/* SIGHUP and the control socket's "reload". The config is
 * parsed by a worker thread; the loop polls reload_fd and calls
 * reload_finish, which applies it (or not) and gives the outcome in msg
 * (the FILE:LINE message of a refused config) and *rc (0: applied).
 */
int reload_open(struct loader *l);
void reload_close(struct loader *l);
int reload_fd(const struct loader *l);
/* Starts a parse; one asked for while another runs follows it. */
int reload_start(struct loader *l);
/* After reload_fd was readable: true when a verdict is in msg and *rc. */
bool reload_finish(struct loader *l, char *msg, size_t len, int *rc);
/* Whether another parse is queued or running. */
bool reload_busy(const struct loader *l);
/* Start-up: the config file parsed and checked against the system. */
int reload_load_config(const char *path, struct mwan_config *cfg, char *err,
		       size_t errlen);

#endif
