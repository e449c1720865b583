/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RFC 6296 by hand, prefix derivation, and mwan (library, XDP, TC) vs ip6tables SNPT/DNPT. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/npt.h"
#include "lib/steer.h"
#include "lib/steermap.h"
#include "mwan.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct in6_addr addr6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		fail_msg("bad address in test: %s", s);
	return a;
}

static const char *ntop(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static void assert_addr_equal(const struct in6_addr *got, const char *want)
{
	char g[INET6_ADDRSTRLEN];
	struct in6_addr w = addr6(want);

	if (memcmp(got, &w, sizeof(w)))
		fail_msg("got %s, want %s", ntop(got, g), want);
}

/* ---- an independent model: host-order words, one's complement ---- */

/* Word i of a as a number (bytes 2i, 2i+1 big-endian). */
static __u16 hword(const struct in6_addr *a, unsigned int i)
{
	return (__u16)(a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1]);
}

static void set_hword(struct in6_addr *a, unsigned int i, __u16 w)
{
	a->s6_addr[2 * i] = w >> 8;
	a->s6_addr[2 * i + 1] = w & 0xff;
}

/* a + b with the end-around carry: two 16-bit numbers carry at most once. */
static __u16 oc_add(__u16 a, __u16 b)
{
	__u32 s = (__u32)a + b;

	return (__u16)((s & 0xffff) + (s >> 16));
}

static __u16 oc_sub(__u16 a, __u16 b)
{
	return oc_add(a, (__u16)~b);
}

static __u16 model_sum(const struct in6_addr *pfx, unsigned int plen)
{
	__u16 sum = 0;
	unsigned int i, b;

	for (i = 0; i < 8; i++) {
		__u16 w = 0;

		for (b = 0; b < 16; b++)
			if (16 * i + b < plen)
				w |= hword(pfx, i) & (0x8000 >> b);
		sum = oc_add(sum, w);
	}
	return sum;
}

static __u16 model_adj(const struct in6_addr *from, const struct in6_addr *to,
		       unsigned int plen)
{
	return oc_sub(model_sum(from, plen), model_sum(to, plen));
}

/* The word RFC 6296 adjusts, or -1 where it says to drop. */
static int model_word(const struct in6_addr *a, unsigned int plen)
{
	unsigned int i;

	if (plen <= 48)
		return hword(a, 3) == 0xffff ? -1 : 3;
	for (i = 4; i < 8; i++)
		if (hword(a, i) != 0xffff)
			return (int)i;
	return -1;
}

static bool model_translate(struct in6_addr *a, const struct in6_addr *to,
			    unsigned int plen, __u16 adj)
{
	int idx = model_word(a, plen);
	unsigned int bit;
	__u16 w;

	if (idx < 0)
		return false;
	for (bit = 0; bit < plen; bit++) {
		__u8 m = 0x80 >> (bit % 8);

		a->s6_addr[bit / 8] = (a->s6_addr[bit / 8] & ~m) |
				      (to->s6_addr[bit / 8] & m);
	}
	w = oc_add(hword(a, idx), adj);
	set_hword(a, idx, w == 0xffff ? 0 : w);
	return true;
}

/* ---- (a) the RFC 6296 §3.6 example ---- */

/* Internal FD01:0203:0405::/48, external 2001:0DB8:0001::/48.
 *   sum(internal) = FD01 + 0203 + 0405 = 1_0309 -> 030A (checksum FCF5)
 *   sum(external) = 2001 + 0DB8 + 0001 = 2DBA (checksum D245)
 *   outbound adjustment = 030A - 2DBA = 030A + D245 = D54F
 *   subnet 0001 + D54F = D550
 *   inbound adjustment  = 2DBA - 030A = 2DBA + FCF5 = 1_2AAF -> 2AB0
 *   D550 + 2AB0 = 1_0000 -> 0001
 * Erratum 3033: the reply comes back to 2001:0DB8:0001:D550::1234 (the
 * RFC's text said ::0001) and maps back to FD01:0203:0405:0001::1234.
 */
static void test_rfc6296_example(void **state)
{
	struct in6_addr in = addr6("fd01:203:405::"),
			ex = addr6("2001:db8:1::");
	struct in6_addr a = addr6("fd01:203:405:1::1234");
	struct mwan_npt e;

	(void)state;
	mwan_npt_fill(&in, &ex, 48, &e);
	assert_int_equal(ntohs(e.adj_out), 0xd54f);
	assert_int_equal(ntohs(e.adj_in), 0x2ab0);

	assert_true(mwan_npt_translate(&a, &ex, 48, e.adj_out));
	assert_addr_equal(&a, "2001:db8:1:d550::1234");

	a = addr6("2001:db8:1:d550::1234");
	assert_true(mwan_npt_translate(&a, &in, 48, e.adj_in));
	assert_addr_equal(&a, "fd01:203:405:1::1234");

	/* The unerrated text's ::0001 is another host altogether. */
	a = addr6("2001:db8:1:d550::1");
	assert_true(mwan_npt_translate(&a, &in, 48, e.adj_in));
	assert_addr_equal(&a, "fd01:203:405:1::1");
}

/* ---- (b) vectors for /40, /48, /56, /60, /64 ---- */

static const struct vec_pair {
	const char *internal, *external;
	unsigned int plen;
	__u16 adj_out, adj_in; /* by hand, host order */
} vec_pairs[] = {
	/* 030A - 2DBA = D54F; 2DBA - 030A = 2AB0 (see the §3.6 example) */
	{ "fd01:203:405::", "2001:db8:1::", 48, 0xd54f, 0x2ab0 },
	/* FD12 + 3400 = 1_3112 -> 3113; 2001 + 0DB8 = 2DB9;
	 * 3113 - 2DB9 = 035A; 2DB9 - 3113 = 2DB9 + CEEC = FCA5
	 */
	{ "fd12:3400::", "2001:db8::", 40, 0x035a, 0xfca5 },
	/* FD12 + 3456 + 789A + BC00 = 2_6604 -> 6604;
	 * 2001 + 0DB8 + 00A0 + 0100 = 2F59;
	 * 6604 - 2F59 = 36AB; 2F59 - 6604 = 2F59 + 99FB = C954
	 */
	{ "fd12:3456:789a:bc00::", "2001:db8:a0:100::", 56, 0x36ab, 0xc954 },
	/* the /56 sums plus 00D0 and 00F0: 66D4 and 3049;
	 * 66D4 - 3049 = 368B; 3049 - 66D4 = 3049 + 992B = C974
	 */
	{ "fd12:3456:789a:bcd0::", "2001:db8:a0:1f0::", 60, 0x368b, 0xc974 },
	/* both plus 000E more: 66E2 - 3057 = 368B, 3057 - 66E2 = C974 */
	{ "fd12:3456:789a:bcde::", "2001:db8:a0:1fe::", 64, 0x368b, 0xc974 },
};

enum { P48, P40, P56, P60, P64 };

static const struct vec {
	unsigned int pair;
	bool inbound;
	const char *in, *out; /* out NULL: the RFC drops it */
} vecs[] = {
	/* /48, outbound D54F on word 3 */
	{ P48, false, "fd01:203:405:3000::5",
	  "2001:db8:1:550::5" }, /* 3000 + D54F = 1_054F -> 0550 */
	{ P48, false, "fd01:203:405::5", "2001:db8:1:d54f::5" }, /* 0 + D54F */
	{ P48, false, "fd01:203:405:2ab0::1",
	  "2001:db8:1::1" }, /* 2AB0 + D54F = FFFF -> 0000 */
	{ P48, false, "fd01:203:405:ffff::1", NULL }, /* subnet FFFF: drop */
	{ P48, false, "fd01:203:405:1:ffff:ffff:ffff:ffff",
	  "2001:db8:1:d550:ffff:ffff:ffff:ffff" }, /* all-ones IID is fine at /48 */
	/* /48, inbound 2AB0 */
	{ P48, true, "2001:db8:1::1", "fd01:203:405:2ab0::1" }, /* 0 + 2AB0 */
	{ P48, true, "2001:db8:1:d54f::7",
	  "fd01:203:405::7" }, /* D54F + 2AB0 = FFFF -> 0000 */
	{ P48, true, "2001:db8:1:ffff::1", NULL },
	/* /40: bits 40-47 are the host's (9A), 0001 + 035A = 035B */
	{ P40, false, "fd12:3456:789a:1::1", "2001:db8:9a:35b::1" },
	/* /56: bits 56-63 are the host's; adjustment 36AB goes to the IID */
	{ P56, false, "fd12:3456:789a:bc01::1", "2001:db8:a0:101:36ab::1" },
	{ P56, false, "fd12:3456:789a:bc02:ffff:1:2:3",
	  "2001:db8:a0:102:ffff:36ac:2:3" }, /* word 4 FFFF: 0001 + 36AB in word 5 */
	{ P56, false, "fd12:3456:789a:bcff:ffff:ffff:ffff:ffff", NULL },
	{ P56, false, "fd12:3456:789a:bc03:c954:5:6:7",
	  "2001:db8:a0:103:0:5:6:7" }, /* C954 + 36AB = FFFF -> 0000 */
	{ P56, false, "fd12:3456:789a:bcff:1::",
	  "2001:db8:a0:1ff:36ac::" }, /* bits 48-63 all ones is fine at /56 */
	/* /60 */
	{ P60, false, "fd12:3456:789a:bcd7:1234:5678:9abc:def0",
	  "2001:db8:a0:1f7:48bf:5678:9abc:def0" }, /* 1234 + 368B = 48BF */
	{ P60, false, "fd12:3456:789a:bcd1:ffff:ffff:c974:1",
	  "2001:db8:a0:1f1:ffff:ffff:0:1" }, /* word 6: C974 + 368B = FFFF -> 0 */
	{ P60, false, "fd12:3456:789a:bcd1:ffff:ffff:ffff:ffff", NULL },
	/* /64 */
	{ P64, false, "fd12:3456:789a:bcde::1", "2001:db8:a0:1fe:368b::1" },
	{ P64, false, "fd12:3456:789a:bcde::", "2001:db8:a0:1fe:368b::" },
	{ P64, false, "fd12:3456:789a:bcde:d000::1",
	  "2001:db8:a0:1fe:68c::1" }, /* D000 + 368B = 1_068B -> 068C */
	{ P64, false, "fd12:3456:789a:bcde:ffff::",
	  "2001:db8:a0:1fe:ffff:368b::" }, /* word 4 skipped */
	{ P64, false, "fd12:3456:789a:bcde:ffff:ffff:ffff:42",
	  "2001:db8:a0:1fe:ffff:ffff:ffff:36cd" }, /* 0042 + 368B in word 7 */
	{ P64, false, "fd12:3456:789a:bcde:c974::",
	  "2001:db8:a0:1fe::" }, /* C974 + 368B = FFFF -> 0000 */
	{ P64, false, "fd12:3456:789a:bcde:ffff:ffff:ffff:ffff", NULL },
	{ P64, true, "2001:db8:a0:1fe:368b::1", "fd12:3456:789a:bcde::1" },
	{ P64, true, "2001:db8:a0:1fe:368b::",
	  "fd12:3456:789a:bcde::" }, /* 368B + C974 = FFFF -> 0000 */
	{ P64, true, "2001:db8:a0:1fe:ffff:ffff:ffff:ffff", NULL },
};

static void test_adjustment_vectors(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(vec_pairs); i++) {
		const struct vec_pair *p = &vec_pairs[i];
		struct in6_addr in = addr6(p->internal),
				ex = addr6(p->external);

		/* The hand numbers, the model and the library all agree. */
		assert_int_equal(model_adj(&in, &ex, p->plen), p->adj_out);
		assert_int_equal(model_adj(&ex, &in, p->plen), p->adj_in);
		assert_int_equal(ntohs(mwan_npt_adjustment(&in, &ex, p->plen)),
				 p->adj_out);
		assert_int_equal(ntohs(mwan_npt_adjustment(&ex, &in, p->plen)),
				 p->adj_in);
	}
}

static void test_adjustment_ignores_host_bits(void **state)
{
	struct in6_addr in = addr6("fd12:3456:789a:bcde:1:2:3:4");
	struct in6_addr ex = addr6("2001:db8:a0:1fe:ffff::1");

	(void)state;
	assert_int_equal(ntohs(mwan_npt_adjustment(&in, &ex, 64)), 0x368b);
	/* Equal sums: "no adjustment" is 0x0000, not the other zero. */
	assert_int_equal(mwan_npt_adjustment(&in, &in, 64), 0);
	in = addr6("2001:db8::");
	ex = addr6("2001:db8::");
	assert_int_equal(mwan_npt_adjustment(&in, &ex, 0), 0);
}

static void test_translate_vectors(void **state)
{
	char got[INET6_ADDRSTRLEN];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(vecs); i++) {
		const struct vec *v = &vecs[i];
		const struct vec_pair *p = &vec_pairs[v->pair];
		struct in6_addr to =
			addr6(v->inbound ? p->internal : p->external);
		struct in6_addr a = addr6(v->in), m = a;
		__u16 adj = htons(v->inbound ? p->adj_in : p->adj_out);
		bool ok = mwan_npt_translate(&a, &to, p->plen, adj);

		if (ok != (v->out != NULL))
			fail_msg("%s /%u: %s, want %s", v->in, p->plen,
				 ok ? ntop(&a, got) : "dropped",
				 v->out ? v->out : "dropped");
		if (ok)
			assert_addr_equal(&a, v->out);
		/* The model agrees with the hand-written answer too. */
		assert_int_equal(model_translate(&m, &to, p->plen, ntohs(adj)),
				 ok);
		if (ok)
			assert_addr_equal(&m, v->out);
	}
}

static void test_translate_longer_than_64(void **state)
{
	struct in6_addr a = addr6("fd12:3456:789a:bcde:1::1");
	struct in6_addr to = addr6("2001:db8:a0:1fe::");

	(void)state;
	assert_false(mwan_npt_translate(&a, &to, 65, 0));
}

/* ---- (c) mwan_npt_derive ---- */

static void expect_derive(const char *delegated, unsigned int dlen,
			  unsigned int subnet, unsigned int plen,
			  const char *want)
{
	struct in6_addr d = addr6(delegated), ext;
	char err[256] = "";

	if (mwan_npt_derive(&d, dlen, subnet, plen, &ext, err, sizeof(err)))
		fail_msg("%s/%u subnet 0x%x /%u: %s", delegated, dlen, subnet,
			 plen, err);
	assert_addr_equal(&ext, want);
}

static void expect_reject(const char *delegated, unsigned int dlen,
			  unsigned int subnet, unsigned int plen,
			  const char *want)
{
	struct in6_addr d = addr6(delegated), ext;
	char err[256] = "";

	assert_int_not_equal(mwan_npt_derive(&d, dlen, subnet, plen, &ext, err,
					     sizeof(err)),
			     0);
	assert_string_equal(err, want);
	/* No buffer for the message is fine too. */
	assert_int_not_equal(
		mwan_npt_derive(&d, dlen, subnet, plen, &ext, NULL, 0), 0);
}

static void test_derive(void **state)
{
	(void)state;
	/* The contract's example: the 0xfe-th /64 of the /56. */
	expect_derive("2001:db8:a0:100::", 56, 0xfe, 64, "2001:db8:a0:1fe::");
	expect_derive("2001:db8:a0:100::", 56, 0, 64, "2001:db8:a0:100::");
	expect_derive("2001:db8:a0:100::", 56, 0xff, 64, "2001:db8:a0:1ff::");
	expect_derive("2001:db8:a0::", 48, 0xffff, 64, "2001:db8:a0:ffff::");
	expect_derive("2001:db8:a0:1f0::", 60, 0xe, 64, "2001:db8:a0:1fe::");
	expect_derive("2001:db8:a0:1fc::", 62, 3, 64, "2001:db8:a0:1ff::");
	/* A subnet straddling a word: bits 36-47. */
	expect_derive("2001:db8::", 36, 0xabc, 48, "2001:db8:abc::");
	/* A /56 internal prefix out of a /48. */
	expect_derive("2001:db8:a0::", 48, 0x17, 56, "2001:db8:a0:1700::");
	/* Delegated exactly as long as the internal prefix: only subnet 0. */
	expect_derive("2001:db8:a0:1fe::", 64, 0, 64, "2001:db8:a0:1fe::");
	/* Everything from /0: 32 subnet bits are all an unsigned int has. */
	expect_derive("::", 0, 0x20010db8, 32, "2001:db8::");
	expect_derive("2001:db8::", 32, 0xffffffff, 64, "2001:db8:ffff:ffff::");
}

/* A delegated prefix that is none (link-local, multicast) or holds the
 * internal prefix (3d06:bad:b01:fe::/64 here) is refused; others pass.
 */
static void test_check_delegated(void **state)
{
	struct in6_addr in = addr6("3d06:bad:b01:fe::"), d;
	char err[256] = "";

	(void)state;
	d = addr6("3d06:bad:b01::");
	assert_int_equal(mwan_npt_check_delegated(&d, 48, &in, 64, err,
						  sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"delegated prefix 3d06:bad:b01::/48 contains the internal prefix 3d06:bad:b01:fe::/64, which cannot be its own external prefix");
	d = addr6("3d06:bad:b01:fe::");
	assert_int_equal(mwan_npt_check_delegated(&d, 64, &in, 64, err,
						  sizeof(err)),
			 -1);
	d = addr6("fe80::");
	assert_int_equal(mwan_npt_check_delegated(&d, 56, &in, 64, err,
						  sizeof(err)),
			 -1);
	assert_string_equal(
		err, "delegated prefix fe80::/56 is link-local or multicast");
	d = addr6("ff05::");
	assert_int_equal(mwan_npt_check_delegated(&d, 56, &in, 64, NULL, 0),
			 -1);
	/* next door, and a longer prefix than the LAN's: fine here */
	d = addr6("3d06:bad:b01:ff::");
	assert_int_equal(
		mwan_npt_check_delegated(&d, 64, &in, 64, err, sizeof(err)), 0);
	d = addr6("2001:db8:a0:100::");
	assert_int_equal(
		mwan_npt_check_delegated(&d, 56, &in, 64, err, sizeof(err)), 0);
}

static void test_derive_rejects(void **state)
{
	(void)state;
	expect_reject(
		"2001:db8:a0:100::", 56, 0x1ff, 64,
		"subnet 0x1ff does not fit in the 8 bits between /56 and /64");
	expect_reject(
		"2001:db8:a0:100::", 56, 0x100, 64,
		"subnet 0x100 does not fit in the 8 bits between /56 and /64");
	expect_reject(
		"2001:db8:a0:1f0::", 60, 0x10, 64,
		"subnet 0x10 does not fit in the 4 bits between /60 and /64");
	expect_reject(
		"2001:db8:a0:1fe::", 64, 1, 64,
		"subnet 0x1 does not fit in the 0 bits between /64 and /64");
	expect_reject(
		"2001:db8:a0:100::", 60, 0, 56,
		"delegated prefix /60 is longer than the internal prefix /56");
	expect_reject(
		"2001:db8:a0:101::", 56, 0xfe, 64,
		"delegated prefix 2001:db8:a0:101::/56 has host bits set");
	expect_reject(
		"2001:db8:a0:180::", 56, 0, 64,
		"delegated prefix 2001:db8:a0:180::/56 has host bits set");
	expect_reject(
		"2001:db8:a0:100::", 56, 0, 80,
		"internal prefix /80 is longer than /64, the longest RFC 6296 translates");
}

static void test_fill(void **state)
{
	struct in6_addr in = addr6("fd12:3456:789a:bcde::");
	struct in6_addr ex =
		addr6("2001:db8:a0:1fe::7"); /* host bits dropped */
	struct in6_addr want = addr6("2001:db8:a0:1fe::");
	struct mwan_npt e;

	(void)state;
	memset(&e, 0xaa, sizeof(e));
	mwan_npt_fill(&in, &ex, 64, &e);
	assert_memory_equal(e.ext, &want, sizeof(e.ext));
	assert_int_equal(ntohs(e.adj_out), 0x368b);
	assert_int_equal(ntohs(e.adj_in), 0xc974);
	assert_int_equal(e.delegated_len, 0);
	assert_int_equal(e.source, 0);
	assert_int_equal(e.subnet, 0);
	assert_int_equal(e.valid_until_ns, 0);
	assert_int_equal(e.set_ns, 0);
	assert_memory_equal(e.delegated, (__u8[16]){ 0 }, sizeof(e.delegated));
}

/* ---- (d) random cases, run through any translator ---- */

/* IPv6 + UDP + payload (magic, case id, 8 random bytes). */
#define IP6_HLEN 40
#define UDP_HLEN 8
#define PAYLOAD_LEN 16
#define PKT_LEN (IP6_HLEN + UDP_HLEN + PAYLOAD_LEN)
#define OFF_HOP 7
#define OFF_SRC 8
#define OFF_DST 24
#define OFF_UDP IP6_HLEN
#define OFF_PAYLOAD (IP6_HLEN + UDP_HLEN)
#define CASE_MAGIC 0x4e505436 /* "NPT6" */
#define SENTINEL_MAGIC 0x53454e54 /* "SENT" */
#define CASE_PORT 6296
#define HOP_LIMIT 64

#define N_PAIRS 200
#define ADDRS_PER_PAIR 50
#define N_CASES (N_PAIRS * ADDRS_PER_PAIR * 2)
#define MIN_CASES 10000 /* what each translator must at least take */

struct npt_pair {
	struct in6_addr internal, external; /* host bits zero */
	unsigned int plen;
};

/* One packet crossing the translator: outbound, its source is rewritten
 * internal -> external (SNPT); inbound, its destination external ->
 * internal (DNPT).
 */
struct npt_case {
	unsigned int id; /* also in the payload */
	unsigned int pair; /* index in pairs[] */
	struct in6_addr internal, external;
	unsigned int plen;
	bool inbound;
	__u8 pkt[PKT_LEN];
	size_t len;
};

/* Translates c->pkt into pkt_out (room for PKT_LEN bytes); false: dropped. */
typedef bool (*npt_translator)(const struct npt_case *c, __u8 pkt_out[],
			       size_t *len);

struct translator {
	const char *name;
	/* Prepares for these pairs; NULL, or why it cannot run here (skip). */
	const char *(*setup)(const struct npt_pair *pairs, size_t n);
	npt_translator translate;
	void (*teardown)(void);
	void (*report)(void); /* optional: what else it saw */
	unsigned int hop_dec; /* by how much it lowers the hop limit */
	bool rfc_drops; /* drops where RFC 6296 says to (the kernel does not) */
	/* Optional: why it cannot take case c at all (NULL: it can). */
	const char *(*cannot)(const struct npt_case *c);
	/* Also compared with what the kernel made of the same packets. */
	bool vs_kernel;
};

static struct npt_pair pairs[N_PAIRS];
static struct npt_case cases[N_CASES];

/* What ip6tables made of each case, when it ran: the translators with
 * vs_kernel are held to these bytes too, not only to lib/npt.c's.
 */
#define KERNEL_HOP_DEC 1 /* it forwards */
static struct {
	bool ran, ok;
	__u8 pkt[PKT_LEN];
} kernel_out[N_CASES];

/* xorshift64*: reproducible, seed from NPT_SEED. */
static __u64 rng_state;

static __u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void rnd_bytes(__u8 *p, size_t n)
{
	while (n--)
		*p++ = (__u8)(rnd() >> 32);
}

/* Keep in 2000::/3 so the kernel forwards everything we make. */
static void make_global(struct in6_addr *a)
{
	a->s6_addr[0] = (a->s6_addr[0] & 0x1f) | 0x20;
}

static void keep_prefix(struct in6_addr *a, unsigned int plen)
{
	unsigned int bit;

	for (bit = plen; bit < 128; bit++)
		a->s6_addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static void overlay_prefix(struct in6_addr *a, const struct in6_addr *pfx,
			   unsigned int plen)
{
	unsigned int bit;

	for (bit = 0; bit < plen; bit++) {
		__u8 m = 0x80 >> (bit % 8);

		a->s6_addr[bit / 8] = (a->s6_addr[bit / 8] & ~m) |
				      (pfx->s6_addr[bit / 8] & m);
	}
}

/* Two distinct prefixes of 2000::/3, from /4 on: a config cannot make a
 * WAN's external prefix its LAN's own, and the ingress filter drops
 * what comes in for an internal address.
 */
static void random_pair(struct npt_pair *p, unsigned int i)
{
	static const unsigned int lens[] = { 48, 56, 60, 64 };
	unsigned int bit;

	p->plen = i % 5 < 4 ? lens[i % 5] : 4 + (unsigned int)(rnd() % 61);
	rnd_bytes(p->internal.s6_addr, 16);
	rnd_bytes(p->external.s6_addr, 16);
	make_global(&p->internal);
	make_global(&p->external);
	keep_prefix(&p->internal, p->plen);
	keep_prefix(&p->external, p->plen);
	if (!memcmp(&p->internal, &p->external, sizeof(p->internal))) {
		bit = p->plen - 1;
		p->external.s6_addr[bit / 8] ^= 0x80 >> (bit % 8);
	}
}

/* An address in pfx, biased towards the RFC's corner cases. */
static void random_addr(struct in6_addr *a, const struct in6_addr *pfx,
			unsigned int plen, __u16 adj)
{
	unsigned int kind = rnd() % 10, i, n;
	int idx;

	rnd_bytes(a->s6_addr, 16);
	make_global(a);
	switch (kind) {
	case 5: /* subnet word 0xFFFF: dropped at /48 or shorter */
		set_hword(a, 3, 0xffff);
		break;
	case 6: /* one to three leading IID words 0xFFFF: skipped */
		for (i = 4, n = 5 + rnd() % 3; i < n; i++)
			set_hword(a, i, 0xffff);
		break;
	case 7: /* all-ones IID: dropped from /49 on */
		for (i = 4; i < 8; i++)
			set_hword(a, i, 0xffff);
		break;
	case 9: /* a zero adjusted word */
		set_hword(a, 3, 0);
		set_hword(a, 4, 0);
		break;
	}
	overlay_prefix(a, pfx, plen);
	idx = model_word(a, plen);
	if (kind == 8 && idx >= 0) /* the sum comes out 0xFFFF: write 0 */
		set_hword(a, idx, (__u16)(0xffff - adj));
}

/* RFC 1071: the one's complement sum of big-endian 16-bit words. */
static __u32 rfc1071_add(__u32 sum, const __u8 *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (__u32)(p[0] << 8 | p[1]);
	if (len)
		sum += (__u32)p[0] << 8;
	return sum;
}

static __u16 rfc1071_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum over the UDP pseudo-header and segment, checksum field included. */
static __u16 udp6_sum(const __u8 *pkt, size_t len)
{
	__u8 tail[8] = { 0, 0, 0, 0, 0, 0, 0, IPPROTO_UDP };
	__u32 ulen = (__u32)(len - IP6_HLEN);

	tail[2] = ulen >> 8;
	tail[3] = ulen & 0xff;
	return rfc1071_fold(
		rfc1071_add(rfc1071_add(rfc1071_add(0, pkt + OFF_SRC, 32), tail,
					sizeof(tail)),
			    pkt + OFF_UDP, ulen));
}

static bool udp6_valid(const __u8 *pkt, size_t len)
{
	return udp6_sum(pkt, len) == 0xffff;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static void build_udp6(__u8 *pkt, const struct in6_addr *src,
		       const struct in6_addr *dst, __u32 magic, __u32 id)
{
	__u16 csum;

	memset(pkt, 0, PKT_LEN);
	put32(pkt, 6U << 28 | (__u32)(rnd() & 0x0fffffff)); /* tc, flow label */
	put16(pkt + 4, UDP_HLEN + PAYLOAD_LEN);
	pkt[6] = IPPROTO_UDP;
	pkt[OFF_HOP] = HOP_LIMIT;
	memcpy(pkt + OFF_SRC, src, 16);
	memcpy(pkt + OFF_DST, dst, 16);
	put16(pkt + OFF_UDP, 1024 + (id & 0x7fff));
	put16(pkt + OFF_UDP + 2, CASE_PORT);
	put16(pkt + OFF_UDP + 4, UDP_HLEN + PAYLOAD_LEN);
	put32(pkt + OFF_PAYLOAD, magic);
	put32(pkt + OFF_PAYLOAD + 4, id);
	rnd_bytes(pkt + OFF_PAYLOAD + 8, 8);
	csum = (__u16)~udp6_sum(pkt, PKT_LEN);
	put16(pkt + OFF_UDP + 6, csum ? csum : 0xffff);
}

/* The far end of pair i: picks the ip6tables rule, never translated. It
 * must not fall inside the pair's internal or external prefix either (the
 * ingress filter drops a LAN's or the WAN's own address as a source from
 * outside). The prefixes lie in 2000::/3 (make_global), so 4000::/3 is
 * outside them, but for a /1 (0::/1), which 8000::/1 is not.
 */
static struct in6_addr peer_addr(unsigned int pair)
{
	struct in6_addr a = addr6(pairs[pair].plen == 1 ?
					  "a001:db8:ffff:ffff::" :
					  "4001:db8:ffff:ffff::");

	set_hword(&a, 7, (__u16)(pair + 1));
	return a;
}

static void make_case(struct npt_case *c, unsigned int id, unsigned int pair,
		      bool inbound)
{
	const struct npt_pair *p = &pairs[pair];
	struct in6_addr peer = peer_addr(pair), a;

	c->id = id;
	c->pair = pair;
	c->internal = p->internal;
	c->external = p->external;
	c->plen = p->plen;
	c->inbound = inbound;
	c->len = PKT_LEN;
	if (inbound) {
		random_addr(&a, &p->external, p->plen,
			    model_adj(&p->external, &p->internal, p->plen));
		build_udp6(c->pkt, &peer, &a, CASE_MAGIC, id);
	} else {
		random_addr(&a, &p->internal, p->plen,
			    model_adj(&p->internal, &p->external, p->plen));
		build_udp6(c->pkt, &a, &peer, CASE_MAGIC, id);
	}
}

static int make_cases(void **state)
{
	const char *seed = getenv("NPT_SEED");
	unsigned int i, j, n = 0;

	(void)state;
	rng_state = seed ? strtoull(seed, NULL, 0) : 0x6296;
	if (!rng_state)
		rng_state = 1;
	for (i = 0; i < N_PAIRS; i++) {
		random_pair(&pairs[i], i);
		for (j = 0; j < ADDRS_PER_PAIR; j++) {
			make_case(&cases[n], n, i, false);
			n++;
			make_case(&cases[n], n, i, true);
			n++;
		}
	}
	return 0;
}

static size_t addr_off(const struct npt_case *c)
{
	return c->inbound ? OFF_DST : OFF_SRC;
}

/* The reference: lib/npt.c, the way the datapath will use a map entry. */
static bool mwan_translate(const struct npt_case *c, __u8 pkt_out[],
			   size_t *len)
{
	struct in6_addr a, ext;
	struct mwan_npt e;
	bool ok;

	mwan_npt_fill(&c->internal, &c->external, c->plen, &e);
	memcpy(&ext, e.ext, sizeof(ext));
	memcpy(pkt_out, c->pkt, c->len);
	*len = c->len;
	memcpy(&a, pkt_out + addr_off(c), sizeof(a));
	if (c->inbound)
		ok = mwan_npt_translate(&a, &c->internal, c->plen, e.adj_in);
	else
		ok = mwan_npt_translate(&a, &ext, c->plen, e.adj_out);
	memcpy(pkt_out + addr_off(c), &a, sizeof(a));
	return ok;
}

/* Everything the random cases cover, against the independent model, and
 * each translation back again.
 */
static void test_random_against_model(void **state)
{
	unsigned int i, drops = 0, zeros = 0;

	(void)state;
	for (i = 0; i < N_CASES; i++) {
		const struct npt_case *c = &cases[i];
		const struct in6_addr *from = c->inbound ? &c->external :
							   &c->internal;
		const struct in6_addr *to = c->inbound ? &c->internal :
							 &c->external;
		struct npt_case back = *c;
		__u8 out[PKT_LEN], again[PKT_LEN];
		struct in6_addr m;
		size_t len;
		bool ok;
		int idx;

		memcpy(&m, c->pkt + addr_off(c), sizeof(m));
		idx = model_word(&m, c->plen);
		ok = model_translate(&m, to, c->plen,
				     model_adj(from, to, c->plen));
		assert_int_equal(mwan_translate(c, out, &len), ok);
		if (!ok) {
			drops++;
			continue;
		}
		assert_memory_equal(out + addr_off(c), &m, sizeof(m));
		zeros += idx >= 0 && !hword(&m, idx);
		assert_true(udp6_valid(out, len));

		back.inbound = !c->inbound;
		memcpy(back.pkt, out, len);
		if (c->inbound) /* the translated address becomes the source */
			memcpy(back.pkt + OFF_SRC, out + OFF_DST, 16);
		else
			memcpy(back.pkt + OFF_DST, out + OFF_SRC, 16);
		assert_true(mwan_translate(&back, again, &len));
		assert_memory_equal(again + addr_off(&back),
				    c->pkt + addr_off(c), 16);
	}
	print_message(
		"%u cases: %u dropped per RFC 6296, %u adjusted words 0\n",
		N_CASES, drops, zeros);
	assert_true(drops > 0 && zeros > 0);
}

/* What a translator that keeps the RFC's drop cases did with them. */
static struct {
	unsigned int subnet_fwd, subnet_as_zero, subnet_drop;
	unsigned int iid_fwd, iid_drop;
} rfc_drop_seen;

/* The RFC drops c; t does not implement that: note what it did. */
static void note_rfc_drop(const struct npt_case *c, bool forwarded,
			  const __u8 *out)
{
	struct npt_case zero = *c;
	__u8 ref[PKT_LEN];
	size_t len;

	if (c->plen > 48) {
		if (forwarded)
			rfc_drop_seen.iid_fwd++;
		else
			rfc_drop_seen.iid_drop++;
		return;
	}
	if (!forwarded) {
		rfc_drop_seen.subnet_drop++;
		return;
	}
	rfc_drop_seen.subnet_fwd++;
	/* Is it what subnet 0x0000 becomes? Then two hosts share it. */
	zero.pkt[addr_off(c) + 6] = 0;
	zero.pkt[addr_off(c) + 7] = 0;
	if (mwan_translate(&zero, ref, &len) &&
	    !memcmp(ref + addr_off(c), out + addr_off(c), 16))
		rfc_drop_seen.subnet_as_zero++;
}

static void dump_pkt(const char *who, const __u8 *p, size_t len, size_t mark)
{
	size_t i;

	print_message("  %s:", who);
	for (i = 0; i < len; i++)
		print_message("%s%s%02x", i % 16 ? "" : "\n    ",
			      i == mark ? ">" : " ", p[i]);
	print_message("\n");
}

static void dump_mismatch(const struct translator *t, const struct npt_case *c,
			  const char *ref, const __u8 *want, const __u8 *got,
			  size_t len)
{
	char in[INET6_ADDRSTRLEN], w[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	char i6[INET6_ADDRSTRLEN], e6[INET6_ADDRSTRLEN];
	size_t at = 0;

	while (at < len && want[at] == got[at])
		at++;
	print_message("case %u: %s %s/%u -> %s/%u, %s\n", c->id,
		      c->inbound ? "DNPT" : "SNPT", ntop(&c->internal, i6),
		      c->plen, ntop(&c->external, e6), c->plen,
		      ntop((const void *)(c->pkt + addr_off(c)), in));
	print_message("  %s: %s\n  %s: %s (hop limit %u, want %u)\n", ref,
		      ntop((const void *)(want + addr_off(c)), w), t->name,
		      ntop((const void *)(got + addr_off(c)), g), got[OFF_HOP],
		      want[OFF_HOP]);
	print_message("  first difference at byte %zu of the IPv6 packet\n",
		      at);
	dump_pkt("sent", c->pkt, c->len, c->len);
	dump_pkt(ref, want, len, at);
	dump_pkt(t->name, got, len, at);
}

/* got must be want, byte for byte; ref says where want came from. */
static void expect_same(const struct translator *t, const struct npt_case *c,
			const char *ref, const __u8 *want, size_t wlen,
			const __u8 *got, size_t glen)
{
	if (wlen == glen && !memcmp(want, got, wlen))
		return;
	dump_mismatch(t, c, ref, want, got, wlen < glen ? wlen : glen);
	fail_msg("BUG: %s differs from %s on case %u", t->name, ref, c->id);
}

/* What a vs_kernel translator was held to. */
static struct {
	unsigned int same; /* translated exactly as the kernel did */
	unsigned int rfc_drops; /* dropped as RFC 6296 says */
	unsigned int rfc_drops_fwd; /* of those, what the kernel forwarded */
} kernel_seen;

/* t translated c as mwan does; now against the kernel's own bytes. */
static void check_vs_kernel(const struct translator *t,
			    const struct npt_case *c, const __u8 *got,
			    size_t glen)
{
	__u8 want[PKT_LEN];

	if (!t->vs_kernel || !kernel_out[c->id].ran)
		return;
	if (!kernel_out[c->id].ok)
		fail_msg("BUG: %s: case %u translated, ip6tables dropped it",
			 t->name, c->id);
	memcpy(want, kernel_out[c->id].pkt, sizeof(want));
	want[OFF_HOP] += KERNEL_HOP_DEC - t->hop_dec;
	expect_same(t, c, "ip6tables", want, sizeof(want), got, glen);
	kernel_seen.same++;
}

/* Checksum neutrality: the field is untouched and still right. */
static void check_neutral(const struct translator *t, const struct npt_case *c,
			  const __u8 *got, size_t glen)
{
	assert_int_equal(glen, c->len);
	assert_memory_equal(got + OFF_UDP + 6, c->pkt + OFF_UDP + 6, 2);
	if (!udp6_valid(got, glen))
		fail_msg("BUG: %s: case %u: UDP checksum no longer valid",
			 t->name, c->id);
}

/* Fails the test on any difference; true if both translated. */
static bool check_case(const struct translator *t, const struct npt_case *c)
{
	__u8 want[PKT_LEN], got[PKT_LEN];
	size_t wlen, glen = 0;
	bool want_ok = mwan_translate(c, want, &wlen);
	bool got_ok = t->translate(c, got, &glen);

	if (!want_ok) {
		if (t->rfc_drops && got_ok)
			fail_msg(
				"BUG: %s: case %u: forwarded what RFC 6296 drops",
				t->name, c->id);
		if (got_ok)
			check_neutral(t, c, got, glen);
		if (!t->rfc_drops)
			note_rfc_drop(c, got_ok, got);
		if (t->vs_kernel && kernel_out[c->id].ran) {
			kernel_seen.rfc_drops++;
			kernel_seen.rfc_drops_fwd += kernel_out[c->id].ok;
		}
		return false;
	}
	if (!got_ok)
		fail_msg("BUG: %s: case %u: dropped (%s /%u)", t->name, c->id,
			 c->inbound ? "DNPT" : "SNPT", c->plen);
	want[OFF_HOP] -= t->hop_dec;
	expect_same(t, c, "mwan", want, wlen, got, glen);
	check_vs_kernel(t, c, got, glen);
	check_neutral(t, c, got, glen);
	return true;
}

static void report_vs_kernel(const struct translator *t, unsigned int same)
{
	if (!t->vs_kernel)
		return;
	if (!kernel_seen.same && !kernel_seen.rfc_drops) {
		print_message(
			"%s: ip6tables did not run, so only compared with mwan\n",
			t->name);
		return;
	}
	print_message(
		"%s: %u of %u translated cases byte for byte as ip6tables SNPT/DNPT on the same packets; %u RFC 6296 drops (ip6tables forwarded %u of them)\n",
		t->name, kernel_seen.same, same, kernel_seen.rfc_drops,
		kernel_seen.rfc_drops_fwd);
}

static void report_rfc_drops(const struct translator *t)
{
	if (t->rfc_drops)
		return;
	print_message(
		"%s on the RFC's drop cases: subnet 0xFFFF (/48 or shorter): %u forwarded (%u of them to the address subnet 0x0000 gets), %u dropped; all-ones IID (/49-/64): %u forwarded, %u dropped\n",
		t->name, rfc_drop_seen.subnet_fwd, rfc_drop_seen.subnet_as_zero,
		rfc_drop_seen.subnet_drop, rfc_drop_seen.iid_fwd,
		rfc_drop_seen.iid_drop);
}

static int translator_setup(void **state)
{
	const struct translator *t = *state;
	const char *why = t->setup ? t->setup(pairs, N_PAIRS) : NULL;

	if (why) {
		print_message("%s: skipped: %s\n", t->name, why);
		*state = NULL;
	}
	return 0;
}

static int translator_teardown(void **state)
{
	const struct translator *t = *state;

	if (t && t->teardown)
		t->teardown();
	return 0;
}

static void test_translator(void **state)
{
	const struct translator *t = *state;
	unsigned int i, same = 0, ran = 0;
	const char *why = NULL, *w;

	if (!t)
		skip();
	memset(&rfc_drop_seen, 0, sizeof(rfc_drop_seen));
	memset(&kernel_seen, 0, sizeof(kernel_seen));
	for (i = 0; i < N_CASES; i++) {
		w = t->cannot ? t->cannot(&cases[i]) : NULL;
		if (w) {
			why = w;
			continue;
		}
		same += check_case(t, &cases[i]);
		ran++;
	}
	print_message(
		"%s: %u of %u cases translated byte for byte as mwan does; the other %u are RFC 6296 drops\n",
		t->name, same, ran, ran - same);
	if (why)
		print_message("%s: %u cases not run: %s\n", t->name,
			      N_CASES - ran, why);
	assert_true(ran >= MIN_CASES);
	report_rfc_drops(t);
	report_vs_kernel(t, same);
	if (t->report)
		t->report();
}

/* ---- the kernel: ip6tables SNPT/DNPT between two tun devices ---- */

#define TUN_IN "npt-in"
#define TUN_OUT "npt-out"
#define SENTINEL_SRC "2001:db8:ffff:fffe::1"
#define SENTINEL_DST "2001:db8:ffff:fffe::2"
#define ROUTER_ADDR "2001:db8:ffff:fffc::1"

static struct {
	int tun_in, tun_out;
	cpu_set_t cpus;
	bool pinned;
	__u8 sentinel[PKT_LEN];
	unsigned int param_problems, noise;
	char restore[64];
} kern = { .tun_in = -1, .tun_out = -1 };

static char ip_tool[64]; /* iproute2's ip */
static int home_ns = -1;

static bool find_tool(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
					    "/bin" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, len, "%s/%s", dirs[i], name);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

static bool write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok;
}

static int open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A network namespace of our own: it vanishes with its last user, this
 * process, however the test ends. NULL, or why the test cannot run here.
 */
static const char *enter_netns(void)
{
	if (geteuid())
		return "needs root";
	if (!find_tool("ip", ip_tool, sizeof(ip_tool)))
		return "ip (iproute2) not installed";
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_ns < 0)
		fail_msg("/proc/self/ns/net: %s", strerror(errno));
	if (unshare(CLONE_NEWNET))
		fail_msg("unshare(CLONE_NEWNET): %s", strerror(errno));
	return NULL;
}

static void leave_netns(void)
{
	if (home_ns < 0)
		return;
	if (setns(home_ns, CLONE_NEWNET))
		print_message("setns back: %s\n", strerror(errno));
	close(home_ns);
	home_ns = -1;
}

static bool run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc) {
		print_message("failed (%d): %s\n", rc, cmd);
		return false;
	}
	return true;
}

/* Quiet links: no DAD, no router solicitations, no link-local
 * addresses (and with them no MLD chatter), forwarding on.
 */
static bool kernel_sysctls(void)
{
	static const char *const opts[][2] = {
		{ "all/forwarding", "1" },
		{ "default/forwarding", "1" },
		{ "default/accept_dad", "0" },
		{ "default/dad_transmits", "0" },
		{ "default/accept_ra", "0" },
		{ "default/router_solicitations", "0" },
		{ "default/addr_gen_mode", "1" },
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s",
			 opts[i][0]);
		if (!write_sysctl(path, opts[i][1]) && i < 2)
			return false;
	}
	return true;
}

/* One SNPT and one DNPT rule per pair, told apart by the peer address. */
static bool kernel_rules(const struct npt_pair *p, size_t n)
{
	char in[INET6_ADDRSTRLEN], ex[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN];
	FILE *f = popen(kern.restore, "w");
	struct in6_addr pa;
	size_t i;

	if (!f)
		return false;
	fprintf(f, "*mangle\n");
	for (i = 0; i < n; i++) {
		pa = peer_addr((unsigned int)i);
		ntop(&p[i].internal, in);
		ntop(&p[i].external, ex);
		ntop(&pa, peer);
		fprintf(f,
			"-A POSTROUTING -o %s -d %s/128 -p udp -j SNPT --src-pfx %s/%u --dst-pfx %s/%u\n",
			TUN_OUT, peer, in, p[i].plen, ex, p[i].plen);
		fprintf(f,
			"-A PREROUTING -i %s -s %s/128 -p udp -j DNPT --src-pfx %s/%u --dst-pfx %s/%u\n",
			TUN_IN, peer, ex, p[i].plen, in, p[i].plen);
	}
	fprintf(f, "COMMIT\n");
	return pclose(f) == 0;
}

/* Every packet the kernel does with a case is done by the time write()
 * returns (tun hands it to the stack synchronously); pinning to one CPU
 * keeps the order even if that ever changes, so the sentinel that follows
 * a case proves the case has been dealt with.
 */
static void pin_cpu(void)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(kern.cpus), &kern.cpus))
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	kern.pinned = !sched_setaffinity(0, sizeof(one), &one);
}

static const char *kernel_setup(const struct npt_pair *p, size_t n)
{
	struct in6_addr s = addr6(SENTINEL_SRC), d = addr6(SENTINEL_DST);
	const char *why;

	if (!find_tool("ip6tables-restore", kern.restore, sizeof(kern.restore)))
		return "ip6tables-restore not installed";
	why = enter_netns();
	if (why)
		return why;
	if (!kernel_sysctls())
		fail_msg("cannot enable IPv6 forwarding");
	kern.tun_in = open_tun(TUN_IN);
	kern.tun_out = open_tun(TUN_OUT);
	if (kern.tun_in < 0 || kern.tun_out < 0)
		fail_msg("tun: %s", strerror(errno));
	if (!run("%s link set lo up && %s link set %s up && %s link set %s up",
		 ip_tool, ip_tool, TUN_IN, ip_tool, TUN_OUT) ||
	    /* A source for the ICMPv6 errors the kernel sends. */
	    !run("%s -6 addr add %s/128 dev lo", ip_tool, ROUTER_ADDR) ||
	    !run("%s -6 route add ::/0 dev %s", ip_tool, TUN_OUT))
		fail_msg("cannot set up the links");
	if (!kernel_rules(p, n))
		fail_msg("ip6tables-restore failed");
	pin_cpu();
	build_udp6(kern.sentinel, &s, &d, SENTINEL_MAGIC, 0);
	kern.param_problems = kern.noise = 0;
	return NULL;
}

static void kernel_teardown(void)
{
	if (kern.tun_in >= 0)
		close(kern.tun_in);
	if (kern.tun_out >= 0)
		close(kern.tun_out);
	kern.tun_in = kern.tun_out = -1;
	leave_netns();
	if (kern.pinned)
		sched_setaffinity(0, sizeof(kern.cpus), &kern.cpus);
	kern.pinned = false;
}

static bool is_udp_with(const __u8 *p, ssize_t n, __u32 magic, __u32 id)
{
	return n == PKT_LEN && p[6] == IPPROTO_UDP &&
	       get32(p + OFF_PAYLOAD) == magic &&
	       get32(p + OFF_PAYLOAD + 4) == id;
}

/* ICMPv6 Parameter Problem, erroneous header field (type 4 code 0),
 * pointing at the address c's rule could not map, quoting c.
 */
static bool is_param_problem(const __u8 *p, ssize_t n, const struct npt_case *c)
{
	const __u8 *icmp = p + IP6_HLEN;

	return n >= IP6_HLEN + 8 + PKT_LEN && p[6] == IPPROTO_ICMPV6 &&
	       icmp[0] == 4 && icmp[1] == 0 && get32(icmp + 4) == addr_off(c) &&
	       is_udp_with(icmp + 8, PKT_LEN, CASE_MAGIC, c->id);
}

static ssize_t tun_read(int fd, __u8 *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		fail_msg("nothing came out of %s in 2 s", TUN_OUT);
	n = read(fd, buf, len);
	if (n < 0)
		fail_msg("read %s: %s", TUN_OUT, strerror(errno));
	return n;
}

static bool kernel_translate(const struct npt_case *c, __u8 pkt_out[],
			     size_t *len)
{
	bool seen = false;
	__u8 buf[2048];
	ssize_t n;

	if (write(kern.tun_in, c->pkt, c->len) != (ssize_t)c->len ||
	    write(kern.tun_in, kern.sentinel, PKT_LEN) != PKT_LEN)
		fail_msg("write %s: %s", TUN_IN, strerror(errno));
	for (;;) {
		n = tun_read(kern.tun_out, buf, sizeof(buf));
		if (is_udp_with(buf, n, SENTINEL_MAGIC, 0))
			break;
		if (is_udp_with(buf, n, CASE_MAGIC, c->id)) {
			memcpy(pkt_out, buf, (size_t)n);
			*len = (size_t)n;
			seen = true;
		} else if (is_param_problem(buf, n, c)) {
			kern.param_problems++;
		} else {
			kern.noise++;
		}
	}
	kernel_out[c->id].ran = true;
	kernel_out[c->id].ok = seen;
	if (seen)
		memcpy(kernel_out[c->id].pkt, pkt_out, PKT_LEN);
	return seen;
}

static void kernel_report(void)
{
	print_message(
		"ip6tables: %u ICMPv6 Parameter Problems for dropped cases, %u other packets on %s\n",
		kern.param_problems, kern.noise, TUN_OUT);
}

static const struct translator ip6tables = {
	.name = "ip6tables",
	.setup = kernel_setup,
	.translate = kernel_translate,
	.teardown = kernel_teardown,
	.report = kernel_report,
	.hop_dec = KERNEL_HOP_DEC,
	.rfc_drops = false,
};

/* ---- the real programs: mwan_xdp, mwan_tc_in, mwan_tc_out ---- */

/* A LAN and two WANs: veth devices in a namespace of the test's own (the
 * programs only take ifindexes of devices that exist). Pair i's external
 * prefix belongs to WAN i % N_WANS and the other WAN has none, so
 * steering must send the pair's flows to that one.
 */
#define N_WANS 2
enum { IF_LAN, IF_WAN0, N_IFS = IF_WAN0 + N_WANS };
#define WAN_IF(w) (IF_WAN0 + (w))
#define FWMARK(w) (0x100 + (w))

static const char *const if_names[N_IFS] = { "npt-lan", "npt-wan0",
					     "npt-wan1" };

/* 02:00:00:00:kind:i */
enum { MAC_IF = 0x0e, MAC_GW = 0x1e, MAC_HOST = 0x2e };

static void mac(__u8 *m, __u8 kind, unsigned int i)
{
	const __u8 v[ETH_ALEN] = { 2, 0, 0, 0, kind, (__u8)i };

	memcpy(m, v, ETH_ALEN);
}

enum prog { XDP, TC_IN, TC_OUT };
static const char *const prog_names[] = { "mwan_xdp", "mwan_tc_in",
					  "mwan_tc_out" };

struct frame {
	__u8 b[ETH_HLEN + PKT_LEN];
	__u32 len;
};

static struct {
	struct mwan_bpf *skel;
	int ifindex[N_IFS];
	int ncpus;
	__u64 *percpu; /* one per-CPU counter */
	int pair; /* the pair the maps translate; -1: none yet */
	__u64 unmappable; /* npt_unmappable_addr seen so far for that pair */
} bpf = { .pair = -1 };

#define MAP(name) bpf_map__fd(bpf.skel->maps.name)

#define STAT_NAME(n, s) s,
static const char *const stat_names[MWAN_STAT_MAX] = { MWAN_DROPS(
	STAT_NAME) MWAN_EVENTS(STAT_NAME) };
#undef STAT_NAME

static void put(int fd, const void *key, const void *val)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		fail_msg("map update: %s", strerror(errno));
}

static __u64 stat_get(__u32 s)
{
	__u64 sum = 0;
	int i;

	if (bpf_map_lookup_elem(MAP(mwan_stats), &s, bpf.percpu))
		fail_msg("mwan_stats: %s", strerror(errno));
	for (i = 0; i < bpf.ncpus; i++)
		sum += bpf.percpu[i];
	return sum;
}

static void stats_zero(void)
{
	__u32 s;

	memset(bpf.percpu, 0, bpf.ncpus * sizeof(*bpf.percpu));
	for (s = 0; s < MWAN_STAT_MAX; s++)
		put(MAP(mwan_stats), &s, bpf.percpu);
}

static void dump_stats(void)
{
	__u32 s;
	__u64 v;

	for (s = 0; s < MWAN_STAT_MAX; s++) {
		v = stat_get(s);
		if (v)
			print_message("  %s %llu\n", stat_names[s],
				      (unsigned long long)v);
	}
}

/* What stays the same for every pair, as the loader sets it. */
static void bpf_fill(void)
{
	struct mwan_cfg cfg = {
		.layout_version = MWAN_LAYOUT_VERSION,
		.fast_path = 1,
		.ready = 1,
		/* a LAN is required; mwan_tc_out does nothing without one */
		.n_lans = 1,
	};
	__u32 zero = 0, i;

	for (i = 0; i < MWAN_MAX_LANS; i++)
		cfg.lan[i].net4 = 0xffffffff; /* a free slot */
	cfg.lan[0].ifindex = (__u32)bpf.ifindex[IF_LAN];
	cfg.lan[0].net4 = htonl(0x0afafa00);
	cfg.lan[0].mask4 = htonl(0xffffff00);
	cfg.lan[0].mtu = 1500;
	cfg.lan[0].xdp_tx = 1;
	for (i = 0; i < N_WANS; i++)
		cfg.wan_ifindex[i] = (__u32)bpf.ifindex[IF_WAN0 + i];
	mac(cfg.lan[0].mac, MAC_IF, IF_LAN);
	put(MAP(mwan_cfg), &zero, &cfg);
	for (i = 0; i < N_IFS; i++) {
		__u32 idx = (__u32)bpf.ifindex[i];

		put(MAP(mwan_tx), &idx, &idx);
	}
	for (i = 0; i < N_WANS; i++) {
		struct mwan_wan w = {
			.ifindex = (__u32)bpf.ifindex[WAN_IF(i)],
			.fwmark = FWMARK(i),
			.mtu = 1500,
			.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP |
				 MWAN_WAN_NEIGH6 | MWAN_WAN_XDP_TX,
			.weight = 1,
			.tier = 1,
			.health = MWAN_HEALTH_UP,
			.gw6 = { 0xfe, 0x80, [15] = 1 },
		};

		mac(w.if_mac, MAC_IF, WAN_IF(i));
		mac(w.gw6_mac, MAC_GW, i);
		put(MAP(mwan_wans), &i, &w);
	}
	assert_int_equal(mwan_steer_fill(MAP(mwan_wans), MAP(mwan_admin),
					 MAP(mwan_steer), 0),
			 0);
}

static const char *bpf_setup(const struct npt_pair *p, size_t n)
{
	const char *why = enter_netns();
	__u8 m[ETH_ALEN];
	int i;

	(void)p;
	(void)n;
	if (why)
		return why;
	for (i = 0; i < N_IFS; i++) {
		mac(m, MAC_IF, i);
		if (!run("%s link add %s address %02x:%02x:%02x:%02x:%02x:%02x type veth peer name %s-p",
			 ip_tool, if_names[i], m[0], m[1], m[2], m[3], m[4],
			 m[5], if_names[i]))
			fail_msg("cannot make the links");
		bpf.ifindex[i] = (int)if_nametoindex(if_names[i]);
	}
	bpf.skel = mwan_bpf__open_and_load();
	if (!bpf.skel)
		fail_msg("mwan_bpf__open_and_load: %s", strerror(errno));
	bpf.ncpus = libbpf_num_possible_cpus();
	bpf.percpu = calloc(bpf.ncpus > 0 ? bpf.ncpus : 1, sizeof(*bpf.percpu));
	if (bpf.ncpus <= 0 || !bpf.percpu)
		fail_msg("cannot size the per-CPU counters");
	bpf_fill();
	bpf.pair = -1;
	return NULL;
}

static void bpf_teardown(void)
{
	mwan_bpf__destroy(bpf.skel);
	bpf.skel = NULL;
	free(bpf.percpu);
	bpf.percpu = NULL;
	leave_netns();
}

/* lan_plen6 0 means "no IPv6 translation" to the datapath: a /0 pair has
 * nothing to map to (and no router translates all of IPv6).
 */
static const char *bpf_cannot(const struct npt_case *c)
{
	return c->plen ? NULL : "a /0 prefix, which lan_plen6 0 cannot express";
}

/* Pair i into the maps as the loader puts a prefix there: lan.ipv6, the
 * WAN's external prefix and the mask of WANs that hold one. mwan_flows
 * stays: every case is a flow of its own (its own port), so each verdict
 * is that of a new flow. Returns the WAN.
 */
static __u32 bpf_use_pair(unsigned int i)
{
	const struct npt_pair *p = &pairs[i];
	__u32 zero = 0, wan = i % N_WANS, mask = 1U << wan, w;
	struct mwan_cfg cfg;
	struct mwan_npt e;

	if (bpf.pair == (int)i)
		return wan;
	if (bpf_map_lookup_elem(MAP(mwan_cfg), &zero, &cfg))
		fail_msg("mwan_cfg: %s", strerror(errno));
	memcpy(cfg.lan_net6, &p->internal, sizeof(cfg.lan_net6));
	cfg.lan_plen6 = (__u8)p->plen;
	put(MAP(mwan_cfg), &zero, &cfg);
	mwan_npt_fill(&p->internal, &p->external, p->plen, &e);
	memcpy(e.delegated, e.ext, sizeof(e.delegated));
	e.delegated_len = (__u8)p->plen;
	e.source = MWAN_NPT_STATIC;
	for (w = 0; w < N_WANS; w++)
		if (w != wan)
			bpf_map_delete_elem(MAP(mwan_npt), &w);
	put(MAP(mwan_npt), &wan, &e);
	put(MAP(mwan_npt_mask), &zero, &mask);
	stats_zero();
	bpf.unmappable = 0;
	bpf.pair = (int)i;
	return wan;
}

static void set_macs(struct frame *f, const __u8 *dst, const __u8 *src)
{
	memcpy(f->b, dst, ETH_ALEN);
	memcpy(f->b + ETH_ALEN, src, ETH_ALEN);
}

/* c as it arrives: outbound from the LAN host, inbound from the WAN's
 * gateway. *macs: what the router puts on it once forwarded.
 */
static void arriving(const struct npt_case *c, __u32 wan, struct frame *f,
		     __u8 macs[2 * ETH_ALEN])
{
	__u8 dst[ETH_ALEN], src[ETH_ALEN];

	if (c->inbound) {
		mac(dst, MAC_IF, WAN_IF(wan));
		mac(src, MAC_GW, wan);
		mac(macs, MAC_HOST, 1);
		mac(macs + ETH_ALEN, MAC_IF, IF_LAN);
	} else {
		mac(dst, MAC_IF, IF_LAN);
		mac(src, MAC_HOST, 1);
		mac(macs, MAC_GW, wan);
		mac(macs + ETH_ALEN, MAC_IF, WAN_IF(wan));
	}
	set_macs(f, dst, src);
	f->b[12] = ETH_P_IPV6 >> 8;
	f->b[13] = ETH_P_IPV6 & 0xff;
	memcpy(f->b + ETH_HLEN, c->pkt, c->len);
	f->len = ETH_HLEN + c->len;
}

/* One BPF_PROG_TEST_RUN of prog on `in` at interface iface (XDP, TC_IN:
 * arriving; TC_OUT: leaving). Returns the action; *mark: the skb's mark.
 */
static int prog_run(enum prog prog, int iface, const struct frame *in,
		    struct frame *out, __u32 *mark)
{
	struct bpf_program *progs[] = { bpf.skel->progs.mwan_xdp,
					bpf.skel->progs.mwan_tc_in,
					bpf.skel->progs.mwan_tc_out };
	struct xdp_md x = { .data_end = in->len,
			    .ingress_ifindex = (__u32)bpf.ifindex[iface] };
	struct __sk_buff sk = { .ifindex = (__u32)bpf.ifindex[iface] };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);

	if (prog == XDP) {
		o.ctx_in = &x;
		o.ctx_size_in = sizeof(x);
	} else {
		o.ctx_in = &sk;
		o.ctx_out = &sk;
		o.ctx_size_in = sizeof(sk);
		o.ctx_size_out = sizeof(sk);
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(progs[prog]), &o))
		fail_msg("%s test run: %s", prog_names[prog], strerror(errno));
	out->len = o.data_size_out;
	*mark = sk.mark;
	return (int)o.retval;
}

/* prog's verdict on c: forwarded (fwd) with the MACs `macs` in front of
 * the IPv6 packet it hands back in pkt_out, or dropped (drop) and counted
 * as npt_unmappable_addr, RFC 6296's drop. Anything else fails the test.
 */
static bool bpf_verdict(const struct npt_case *c, enum prog prog, int action,
			int fwd, int drop, const struct frame *out,
			const __u8 *macs, __u8 pkt_out[], size_t *len)
{
	__u64 n = stat_get(MWAN_DROP_NPT_UNMAPPABLE);

	if (action == drop && n == bpf.unmappable + 1) {
		bpf.unmappable = n;
		return false;
	}
	if (action != fwd || n != bpf.unmappable || out->len < ETH_HLEN ||
	    memcmp(out->b, macs, 2 * ETH_ALEN)) {
		print_message(
			"case %u: %s: action %d (forward: %d, drop: %d), npt_unmappable_addr %llu (was %llu); counters for pair %u:\n",
			c->id, prog_names[prog], action, fwd, drop,
			(unsigned long long)n,
			(unsigned long long)bpf.unmappable, c->pair);
		dump_stats();
		dump_pkt("frame out", out->b, out->len, out->len);
		fail_msg(
			"BUG: %s: case %u (%s /%u): wrong verdict, counter or MACs",
			prog_names[prog], c->id, c->inbound ? "DNPT" : "SNPT",
			c->plen);
	}
	*len = out->len - ETH_HLEN;
	memcpy(pkt_out, out->b + ETH_HLEN, *len);
	return true;
}

/* The fast path: mwan_xdp on the LAN (SNPT) or the WAN (DNPT) redirects
 * the packet translated, hop limit lowered, MACs rewritten.
 */
static bool xdp_translate(const struct npt_case *c, __u8 pkt_out[], size_t *len)
{
	static struct frame in, out;
	__u32 wan = bpf_use_pair(c->pair), mark;
	struct mwan_neigh6 nb;
	struct in6_addr_raw key;
	__u8 macs[2 * ETH_ALEN], internal[PKT_LEN];
	size_t ilen;
	bool nb_set;
	int action;

	arriving(c, wan, &in, macs);
	/* Inbound, XDP finishes only what it has the LAN host's MAC for:
	 * the loader copies the kernel's neighbours of lan.ipv6 into
	 * mwan_neigh6; here, the one address the packet maps to.
	 */
	nb_set = c->inbound && mwan_translate(c, internal, &ilen);
	if (nb_set) {
		memcpy(key.a, internal + OFF_DST, sizeof(key.a));
		memset(&nb, 0, sizeof(nb));
		mac(nb.mac, MAC_HOST, 1);
		put(MAP(mwan_neigh6), &key, &nb);
	}
	action = prog_run(XDP, c->inbound ? WAN_IF(wan) : IF_LAN, &in, &out,
			  &mark);
	if (nb_set)
		bpf_map_delete_elem(MAP(mwan_neigh6), &key);
	return bpf_verdict(c, XDP, action, XDP_REDIRECT, XDP_DROP, &out, macs,
			   pkt_out, len);
}

/* The slow path. SNPT: mwan_tc_in at LAN ingress only marks the packet
 * with its WAN's fwmark, the kernel routes it by the mark (one hop, the
 * gateway's MACs), mwan_tc_out at WAN egress translates the source. DNPT:
 * mwan_tc_in at WAN ingress translates the destination, then the kernel
 * forwards it (one hop; its MACs are the kernel's business).
 */
static bool tc_translate(const struct npt_case *c, __u8 pkt_out[], size_t *len)
{
	static struct frame in, out;
	__u32 wan = bpf_use_pair(c->pair), mark = 0;
	__u8 macs[2 * ETH_ALEN];
	int action;
	bool ok;

	arriving(c, wan, &in, macs);
	if (!c->inbound) {
		action = prog_run(TC_IN, IF_LAN, &in, &out, &mark);
		if (action != TC_ACT_OK || mark != FWMARK(wan) ||
		    out.len != in.len || memcmp(out.b, in.b, in.len))
			fail_msg(
				"BUG: mwan_tc_in: case %u: action %d, mark %#x; want %d, %#x and the frame untouched",
				c->id, action, mark, TC_ACT_OK, FWMARK(wan));
		in.b[ETH_HLEN + OFF_HOP]--;
		set_macs(&in, macs, macs + ETH_ALEN);
	}
	action = prog_run(c->inbound ? TC_IN : TC_OUT, WAN_IF(wan), &in, &out,
			  &mark);
	ok = bpf_verdict(c, c->inbound ? TC_IN : TC_OUT, action, TC_ACT_OK,
			 TC_ACT_SHOT, &out, in.b, pkt_out, len);
	if (ok && c->inbound) {
		if (mark != FWMARK(wan))
			fail_msg("BUG: mwan_tc_in: case %u: mark %#x, want %#x",
				 c->id, mark, FWMARK(wan));
		pkt_out[OFF_HOP]--;
	}
	return ok;
}

static const struct translator xdp = {
	.name = "xdp",
	.setup = bpf_setup,
	.translate = xdp_translate,
	.teardown = bpf_teardown,
	.hop_dec = 1,
	.rfc_drops = true,
	.cannot = bpf_cannot,
	.vs_kernel = true,
};

static const struct translator tc = {
	.name = "tc",
	.setup = bpf_setup,
	.translate = tc_translate,
	.teardown = bpf_teardown,
	.hop_dec = 1, /* the kernel's, between or after the programs */
	.rfc_drops = true,
	.cannot = bpf_cannot,
	.vs_kernel = true,
};

/* Each translator: a struct translator, and a TRANSLATOR_TEST line in main(). */
#define TRANSLATOR_TEST(t)                                        \
	{                                                         \
		"mwan_vs_" #t, test_translator, translator_setup, \
			translator_teardown, (void *)&(t)         \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6296_example),
		cmocka_unit_test(test_adjustment_vectors),
		cmocka_unit_test(test_adjustment_ignores_host_bits),
		cmocka_unit_test(test_translate_vectors),
		cmocka_unit_test(test_translate_longer_than_64),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_derive_rejects),
		cmocka_unit_test(test_check_delegated),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_random_against_model),
		TRANSLATOR_TEST(
			ip6tables), /* first: the others compare with it */
		TRANSLATOR_TEST(xdp),
		TRANSLATOR_TEST(tc),
	};

	return cmocka_run_group_tests(tests, make_cases, NULL);
}
