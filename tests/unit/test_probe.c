/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The probes' echo messages: what is sent, and which replies count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "loader/echo.h"

static const struct mwan_echo ours = { .id = 0x52a5, .seq = 0x013b, .wan = 2 };

/* The request turned into what the target sends back. */
static size_t reply_of(int family, uint8_t *m)
{
	size_t n = mwan_echo_build(family, &ours, m, MWAN_ECHO_LEN);
	uint16_t c;

	m[0] = family == AF_INET6 ? 129 : 0;
	m[2] = m[3] = 0;
	if (family == AF_INET) {
		c = mwan_inet_csum(m, n);
		memcpy(m + 2, &c, 2);
	}
	return n;
}

/* An IPv4 packet from 192.0.2.1 with hlen bytes of header around m. */
static size_t ipv4_wrap(uint8_t *pkt, size_t hlen, const uint8_t *m, size_t n)
{
	memset(pkt, 0, hlen);
	pkt[0] = 0x40 | (uint8_t)(hlen / 4);
	pkt[2] = (uint8_t)((hlen + n) >> 8);
	pkt[3] = (uint8_t)(hlen + n);
	pkt[8] = 63;
	pkt[9] = IPPROTO_ICMP;
	memcpy(pkt + hlen, m, n);
	return hlen + n;
}

static void test_csum_rfc1071(void **state)
{
	/* RFC 1071 section 3: the words sum to 0xddf2 */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(ntohs(mwan_inet_csum(b, sizeof(b))), 0x220d);
	/* an odd length pads with a zero byte */
	assert_int_equal(ntohs(mwan_inet_csum(b, 1)), 0xffff);
}

static void test_build(void **state)
{
	uint8_t m[64];

	(void)state;
	assert_int_equal(mwan_echo_build(AF_INET, &ours, m, 15), 0);
	assert_int_equal(mwan_echo_build(AF_INET, &ours, m, sizeof(m)),
			 MWAN_ECHO_LEN);
	assert_int_equal(m[0], 8);
	assert_int_equal(m[1], 0);
	assert_int_equal(mwan_inet_csum(m, MWAN_ECHO_LEN), 0);
	assert_memory_equal(m + 4,
			    "\x52\xa5\x01\x3b"
			    "mwan"
			    "\x02\0\0\0",
			    12);
	assert_int_equal(mwan_echo_build(AF_INET6, &ours, m, sizeof(m)),
			 MWAN_ECHO_LEN);
	assert_int_equal(m[0], 128);
	/* the kernel fills in the ICMPv6 checksum */
	assert_int_equal(m[2] | m[3], 0);
}

static void test_parse_replies(void **state)
{
	uint8_t m[MWAN_ECHO_LEN], pkt[128];
	struct mwan_echo e;
	size_t n;

	(void)state;
	n = ipv4_wrap(pkt, 20, m, reply_of(AF_INET, m));
	memset(&e, 0, sizeof(e));
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, n, &e), 0);
	assert_int_equal(e.id, ours.id);
	assert_int_equal(e.seq, ours.seq);
	assert_int_equal(e.wan, ours.wan);
	/* IP options in front of the message */
	n = ipv4_wrap(pkt, 24, m, MWAN_ECHO_LEN);
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, n, &e), 0);
	/* trailing bytes past the IP total length (Ethernet padding) */
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, n + 6, &e), 0);
	memset(&e, 0, sizeof(e));
	n = reply_of(AF_INET6, m);
	assert_int_equal(mwan_echo_parse(AF_INET6, m, n, &e), 0);
	assert_int_equal(e.seq, ours.seq);
}

/* Whatever else a raw socket may read is not a reply of ours. */
static void test_parse_rejects(void **state)
{
	uint8_t m[MWAN_ECHO_LEN], pkt[128], bad[128];
	struct mwan_echo e;
	size_t n;

	(void)state;
	n = ipv4_wrap(pkt, 20, m, reply_of(AF_INET, m));
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, 0, &e), -1);
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, 19, &e), -1);
	assert_int_equal(mwan_echo_parse(AF_INET, pkt, n - 1, &e), -1);
#define MUTATE(off, val)                                                    \
	do {                                                                \
		memcpy(bad, pkt, n);                                        \
		bad[off] = (val);                                           \
		assert_int_equal(mwan_echo_parse(AF_INET, bad, n, &e), -1); \
	} while (0)
	MUTATE(0, 0x44); /* IHL 4 */
	MUTATE(0, 0x4f); /* IHL past the packet */
	MUTATE(0, 0x65); /* IPv6 version */
	MUTATE(9, IPPROTO_UDP);
	MUTATE(3, 20); /* total length: no message */
	MUTATE(20, 8); /* an echo request (our own, looped back) */
	MUTATE(20, 3); /* an error */
	MUTATE(21, 1); /* code */
	MUTATE(22, 0); /* checksum */
	MUTATE(28, 'M'); /* someone else's payload */
	MUTATE(35, 1);
#undef MUTATE
	/* the right length only: ours carry exactly 8 payload bytes */
	memcpy(bad, pkt, n);
	bad[3] = (uint8_t)(n + 2);
	assert_int_equal(mwan_echo_parse(AF_INET, bad, n + 2, &e), -1);
	/* IPv6: the message alone */
	n = reply_of(AF_INET6, m);
	assert_int_equal(mwan_echo_parse(AF_INET6, m, n - 1, &e), -1);
	m[0] = 128;
	assert_int_equal(mwan_echo_parse(AF_INET6, m, n, &e), -1);
	m[0] = 0; /* an ICMPv4 reply on the ICMPv6 socket */
	assert_int_equal(mwan_echo_parse(AF_INET6, m, n, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_parse_replies),
		cmocka_unit_test(test_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
