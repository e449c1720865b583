/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ICMP and ICMPv6 echo messages of the WAN probes: build and recognise. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "echo.h"

#define ICMP4_ECHO_REQUEST 8
#define ICMP4_ECHO_REPLY 0
#define ICMP6_ECHO_REQ 128
#define ICMP6_ECHO_REP 129

static const uint8_t magic[4] = { 'm', 'w', 'a', 'n' };

uint16_t mwan_inet_csum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

size_t mwan_echo_build(int family, const struct mwan_echo *e, uint8_t *buf,
		       size_t len)
{
	uint16_t v;

	if (len < MWAN_ECHO_LEN)
		return 0;
	memset(buf, 0, MWAN_ECHO_LEN);
	buf[0] = family == AF_INET6 ? ICMP6_ECHO_REQ : ICMP4_ECHO_REQUEST;
	v = htons(e->id);
	memcpy(buf + 4, &v, 2);
	v = htons(e->seq);
	memcpy(buf + 6, &v, 2);
	memcpy(buf + 8, magic, sizeof(magic));
	buf[12] = e->wan;
	if (family != AF_INET6) {
		v = mwan_inet_csum(buf, MWAN_ECHO_LEN);
		memcpy(buf + 2, &v, 2);
	}
	return MWAN_ECHO_LEN;
}

/* The ICMP message inside an IPv4 packet, or NULL. */
static const uint8_t *ipv4_payload(const uint8_t *buf, size_t len,
				   size_t *icmp_len)
{
	size_t ihl, total;

	if (len < 20 || (buf[0] >> 4) != 4 || buf[9] != IPPROTO_ICMP)
		return NULL;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	total = (size_t)buf[2] << 8 | buf[3];
	if (ihl < 20 || total < ihl || total > len)
		return NULL;
	*icmp_len = total - ihl;
	return buf + ihl;
}

int mwan_echo_parse(int family, const uint8_t *buf, size_t len,
		    struct mwan_echo *out)
{
	const uint8_t *m = buf;
	size_t mlen = len;

	if (family == AF_INET) {
		m = ipv4_payload(buf, len, &mlen);
		if (!m)
			return -1;
	}
	/* our replies echo exactly what we sent */
	if (mlen != MWAN_ECHO_LEN || m[1] != 0 ||
	    m[0] != (family == AF_INET6 ? ICMP6_ECHO_REP : ICMP4_ECHO_REPLY) ||
	    memcmp(m + 8, magic, sizeof(magic)) || m[13] || m[14] || m[15])
		return -1;
	/* the kernel checks ICMPv6 checksums itself, not ICMP ones */
	if (family == AF_INET && mwan_inet_csum(m, mlen))
		return -1;
	out->id = (uint16_t)(m[4] << 8 | m[5]);
	out->seq = (uint16_t)(m[6] << 8 | m[7]);
	out->wan = m[12];
	return 0;
}
