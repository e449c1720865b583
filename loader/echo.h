/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ICMP and ICMPv6 echo messages of the WAN probes: build and recognise. */
#ifndef MWAN_ECHO_H
#define MWAN_ECHO_H

#include <stddef.h>
#include <stdint.h>

/* An 8-byte ICMP header and an 8-byte payload: "mwan", the WAN id and
 * three zero bytes, so a reply to someone else's ping with the same
 * identifier is not taken for ours.
 */
#define MWAN_ECHO_LEN 16

struct mwan_echo {
	uint16_t id; /* host order */
	uint16_t seq;
	uint8_t wan;
};

/* An echo request for family (AF_INET: with its checksum; AF_INET6: the
 * kernel fills it in). Returns its length, or 0 when buf is too short.
 */
size_t mwan_echo_build(int family, const struct mwan_echo *e, uint8_t *buf,
		       size_t len);

/* Recognises one of our echo replies in what a raw socket read: for
 * AF_INET the IPv4 header comes first, for AF_INET6 the ICMPv6 message
 * alone. Returns 0 and fills out, or -1 for anything else (short,
 * truncated, another type, a bad checksum, someone else's payload).
 */
int mwan_echo_parse(int family, const uint8_t *buf, size_t len,
		    struct mwan_echo *out);

/* RFC 1071 Internet checksum over len bytes. */
uint16_t mwan_inet_csum(const void *buf, size_t len);

#endif
