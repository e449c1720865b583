/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The WAN filter lists a config asks for, as the entries of their maps. */
#ifndef MWAN_FILTER_H
#define MWAN_FILTER_H

#include <stddef.h>

#include "config.h"

/* One LPM entry of mwan_ingress4/6 (value: enum mwan_ingress_kind) or
 * mwan_egress4/6 (value: WAN bit mask).
 */
struct mwan_filter_rule {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* masked; IPv4 in the first 4 bytes */
	unsigned int plen;
	unsigned int value;
};

/* Room for every entry one config can ask for. */
#define MWAN_FILTER_RULES_MAX \
	(MWAN_MAX_PREFIX_LIST * MWAN_MAX_WANS + MWAN_MAX_PREFIX_LIST + 16)

/* mwan_ingress4/6: the RFC 6890 bogons (unless `bogons: none`) and
 * ingress_filter.drop_sources. A lookup returns only the longest match,
 * so an entry inside a configured prefix is configured too.
 */
size_t mwan_ingress_rules(const struct mwan_config *cfg,
			  struct mwan_filter_rule *out);

/* mwan_egress4/6: every WAN's allow_sources, one entry per prefix with
 * the bits of every WAN whose list covers it (the longest match must
 * answer for all of them).
 */
size_t mwan_egress_rules(const struct mwan_config *cfg,
			 struct mwan_filter_rule *out);

#endif
