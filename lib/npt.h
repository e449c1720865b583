/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RFC 6296 NPTv6 arithmetic and prefix derivation: pure functions. */
#ifndef MWAN_NPT_H
#define MWAN_NPT_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>

#include "../maps/mwan_maps.h"

/* The checksum-neutral adjustment for rewriting prefix `from` (length
 * plen, host bits ignored) into prefix `to` (RFC 6296 §3.1): the one's
 * complement sum of `from`'s 16-bit words minus that of `to`'s, folded to
 * 16 bits. Words are taken exactly as they lie in memory (no byte swap),
 * and the result is in that same order, so the datapath can add it to a
 * word it loaded from the packet as is.
 */
__u16 mwan_npt_adjustment(const struct in6_addr *from,
			  const struct in6_addr *to, unsigned int plen);

/* Rewrite addr's first plen bits to prefix `to` and fix the adjustment
 * word (RFC 6296 §3.4 for plen <= 48, §3.5 otherwise; a result of 0xFFFF
 * is written as 0x0000, erratum 3033). Returns false, leaving addr
 * unspecified, where the RFC says to drop: plen <= 48 and subnet word
 * 0xFFFF; plen > 48 and every word of the interface identifier 0xFFFF.
 */
bool mwan_npt_translate(struct in6_addr *addr, const struct in6_addr *to,
			unsigned int plen, __u16 adj);

/* Whether a delegated prefix can serve as one at all: neither
 * link-local nor multicast, and not containing the internal prefix
 * (inside/plen), which would then be its own external prefix. Fails with
 * a message quoting the prefix.
 */
int mwan_npt_check_delegated(const struct in6_addr *delegated,
			     unsigned int dlen, const struct in6_addr *inside,
			     unsigned int plen, char *err, size_t errlen);

/* The external prefix of length plen for a WAN: `subnet` numbers the
 * plen-sized subnets of the delegated prefix (delegated/dlen). Fails with
 * a message (quoting the bad value) when dlen > plen, the delegated prefix
 * has host bits set, or subnet does not fit in plen - dlen bits.
 */
int mwan_npt_derive(const struct in6_addr *delegated, unsigned int dlen,
		    unsigned int subnet, unsigned int plen,
		    struct in6_addr *ext, char *err, size_t errlen);

/* Fill a map entry translating internal/plen <-> ext/plen. */
void mwan_npt_fill(const struct in6_addr *internal, const struct in6_addr *ext,
		   unsigned int plen, struct mwan_npt *out);

#endif
