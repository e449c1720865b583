/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's control socket protocol: request parsing and validation. */
#ifndef MWAN_CONTROL_H
#define MWAN_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>

#include "config.h"

/*
 * RUN_DIR/control is a unix SOCK_SEQPACKET socket (owner root, mode 0600).
 * One request per datagram, one reply per request, both printable ASCII
 * words separated by single or repeated spaces (a trailing newline is
 * allowed):
 *
 *   pd WAN PREFIX/LEN VALID     hand WAN a delegated prefix for VALID
 *                               seconds (1..4294967295; 4294967295 or
 *                               "infinite": no expiry, as in DHCPv6)
 *   pd WAN clear                withdraw WAN's delegated prefix
 *   wan WAN up|down|auto        the operator's override of WAN (what
 *                               `bpfctl wan` asks for)
 *   reload                      reload the config file, as SIGHUP does; the
 *                               reply carries the outcome (a refused
 *                               config's FILE:LINE message)
 *
 * Replies: "ok MESSAGE" or "error: MESSAGE". A rejected request changes
 * nothing.
 */
#define MWAN_CONTROL_MAX 256 /* longest request, bytes */
#define MWAN_CONTROL_REPLY_MAX 1024 /* longest reply, bytes */
#define MWAN_VALID_INFINITE 0xffffffffU

enum mwan_ctl_op {
	MWAN_CTL_PD_SET = 1,
	MWAN_CTL_PD_CLEAR = 2,
	MWAN_CTL_RELOAD = 3,
	MWAN_CTL_WAN_ADMIN = 4,
};

struct mwan_ctl_req {
	enum mwan_ctl_op op;
	unsigned int wan; /* index into mwan_config.wans */
	struct in6_addr delegated; /* PD_SET: the prefix, host bits 0 */
	unsigned int dlen;
	struct in6_addr ext; /* PD_SET: the external prefix derived from it */
	__u32 valid_s; /* PD_SET: MWAN_VALID_INFINITE: no expiry */
	__u32 admin; /* WAN_ADMIN: MWAN_ADMIN_* */
};

/* Parse and validate one request against the running config. On failure
 * returns -1 with a message quoting the offending value in err (no
 * "error: " prefix); req is then unspecified.
 */
int mwan_ctl_parse(const char *buf, size_t len, const struct mwan_config *cfg,
		   struct mwan_ctl_req *req, char *err, size_t errlen);

/* "2001:db8::/56" */
const char *mwan_prefix_str(const void *addr, unsigned int plen, char *buf,
			    size_t len);

#endif
