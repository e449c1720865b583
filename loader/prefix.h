/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_npt: each WAN's external IPv6 prefix (static or delegated) and its expiry. */
#ifndef MWAN_LOADER_PREFIX_H
#define MWAN_LOADER_PREFIX_H

#include <stddef.h>

struct loader;
struct mwan_ctl_req;

/* Start and reload: static prefixes from the config, delegated ones read
 * back from the (pinned) map and kept while valid, everything else gone.
 */
int prefix_reconcile(struct loader *l);
/* A validated `pd` request; msg gets the reply text (without "ok "). */
int prefix_apply(struct loader *l, const struct mwan_ctl_req *req, char *msg,
		 size_t len);
/* Delete expired entries and keep mwan_npt_mask current. */
void prefix_expire(struct loader *l);
/* Milliseconds until the next entry expires, at most max_ms. */
int prefix_timeout_ms(struct loader *l, int max_ms);

#endif
