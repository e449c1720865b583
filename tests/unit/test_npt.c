/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RFC 6296 by hand, prefix derivation, and mwan vs the kernel's ip6tables SNPT/DNPT. */
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
#include <cmocka.h>

#include "lib/npt.h"

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
};

static struct npt_pair pairs[N_PAIRS];
static struct npt_case cases[N_CASES];

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

static void random_pair(struct npt_pair *p, unsigned int i)
{
	static const unsigned int lens[] = { 48, 56, 60, 64 };

	p->plen = i % 5 < 4 ? lens[i % 5] : (unsigned int)(rnd() % 65);
	rnd_bytes(p->internal.s6_addr, 16);
	rnd_bytes(p->external.s6_addr, 16);
	make_global(&p->internal);
	make_global(&p->external);
	keep_prefix(&p->internal, p->plen);
	keep_prefix(&p->external, p->plen);
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

/* The far end of pair i: picks the ip6tables rule, never translated. */
static struct in6_addr peer_addr(unsigned int pair)
{
	struct in6_addr a = addr6("2001:db8:ffff:ffff::");

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

static void dump_mismatch(const struct translator *t, const struct npt_case *c,
			  const __u8 *want, const __u8 *got)
{
	char in[INET6_ADDRSTRLEN], w[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	char i6[INET6_ADDRSTRLEN], e6[INET6_ADDRSTRLEN];

	print_message("case %u: %s %s/%u -> %s/%u, %s\n", c->id,
		      c->inbound ? "DNPT" : "SNPT", ntop(&c->internal, i6),
		      c->plen, ntop(&c->external, e6), c->plen,
		      ntop((const void *)(c->pkt + addr_off(c)), in));
	print_message("  mwan: %s\n  %s: %s (hop limit %u, want %u)\n",
		      ntop((const void *)(want + addr_off(c)), w), t->name,
		      ntop((const void *)(got + addr_off(c)), g), got[OFF_HOP],
		      want[OFF_HOP]);
}

/* Fails the test on any difference; true if both translated. */
static bool check_case(const struct translator *t, const struct npt_case *c)
{
	__u8 want[PKT_LEN], got[PKT_LEN];
	size_t wlen, glen = 0;
	bool want_ok = mwan_translate(c, want, &wlen);
	bool got_ok = t->translate(c, got, &glen);

	if (got_ok) {
		/* Checksum neutrality: the field is untouched and still right. */
		assert_int_equal(glen, c->len);
		assert_memory_equal(got + OFF_UDP + 6, c->pkt + OFF_UDP + 6, 2);
		if (!udp6_valid(got, glen))
			fail_msg("%s: case %u: UDP checksum no longer valid",
				 t->name, c->id);
	}
	if (!want_ok) {
		if (t->rfc_drops && got_ok)
			fail_msg("%s: case %u: forwarded what RFC 6296 drops",
				 t->name, c->id);
		if (!t->rfc_drops)
			note_rfc_drop(c, got_ok, got);
		return false;
	}
	if (!got_ok)
		fail_msg("%s: case %u: dropped (%s /%u)", t->name, c->id,
			 c->inbound ? "DNPT" : "SNPT", c->plen);
	want[OFF_HOP] -= t->hop_dec;
	if (wlen != glen || memcmp(want, got, wlen)) {
		dump_mismatch(t, c, want, got);
		fail_msg("%s differs from mwan on case %u", t->name, c->id);
	}
	return true;
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
	unsigned int i, same = 0;

	if (!t)
		skip();
	memset(&rfc_drop_seen, 0, sizeof(rfc_drop_seen));
	for (i = 0; i < N_CASES; i++)
		same += check_case(t, &cases[i]);
	print_message(
		"%s: %u of %u cases translated byte for byte as mwan does; the other %u are RFC 6296 drops\n",
		t->name, same, N_CASES, N_CASES - same);
	report_rfc_drops(t);
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
	int tun_in, tun_out, home_ns;
	cpu_set_t cpus;
	bool pinned;
	__u8 sentinel[PKT_LEN];
	unsigned int param_problems, noise;
	char ip[64], restore[64];
} kern = { .tun_in = -1, .tun_out = -1, .home_ns = -1 };

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

	if (geteuid())
		return "needs root";
	if (!find_tool("ip6tables-restore", kern.restore, sizeof(kern.restore)))
		return "ip6tables-restore not installed";
	if (!find_tool("ip", kern.ip, sizeof(kern.ip)))
		return "ip (iproute2) not installed";
	kern.home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (kern.home_ns < 0)
		fail_msg("/proc/self/ns/net: %s", strerror(errno));
	/* A namespace of our own: it vanishes with its last user, this
	 * process, however the test ends.
	 */
	if (unshare(CLONE_NEWNET))
		fail_msg("unshare(CLONE_NEWNET): %s", strerror(errno));
	if (!kernel_sysctls())
		fail_msg("cannot enable IPv6 forwarding");
	kern.tun_in = open_tun(TUN_IN);
	kern.tun_out = open_tun(TUN_OUT);
	if (kern.tun_in < 0 || kern.tun_out < 0)
		fail_msg("tun: %s", strerror(errno));
	if (!run("%s link set lo up && %s link set %s up && %s link set %s up",
		 kern.ip, kern.ip, TUN_IN, kern.ip, TUN_OUT) ||
	    /* A source for the ICMPv6 errors the kernel sends. */
	    !run("%s -6 addr add %s/128 dev lo", kern.ip, ROUTER_ADDR) ||
	    !run("%s -6 route add ::/0 dev %s", kern.ip, TUN_OUT))
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
	if (kern.home_ns >= 0) {
		if (setns(kern.home_ns, CLONE_NEWNET))
			print_message("setns back: %s\n", strerror(errno));
		close(kern.home_ns);
		kern.home_ns = -1;
	}
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
			return seen;
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
	.hop_dec = 1, /* it forwards */
	.rfc_drops = false,
};

/* The XDP and TC programs join here: a struct translator each, and a
 * TRANSLATOR_TEST line in main().
 */
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
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_random_against_model),
		TRANSLATOR_TEST(ip6tables),
	};

	return cmocka_run_group_tests(tests, make_cases, NULL);
}
