/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RFC 6296 NPTv6 arithmetic and prefix derivation: pure functions. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "npt.h"
#include "err.h"

/* RFC 6296 only defines translation for prefixes up to /64 (§3.5 ends
 * there): longer ones would put the adjustment inside the prefix.
 */
#define NPT_MAX_PLEN 64
#define NPT_WORDS 8

/* Where the RFC's rules and errata come from, for the reader:
 *
 * - §3.1: the adjustment is sum(internal prefix) - sum(external
 *   prefix) in one's complement arithmetic, added to one 16-bit word.
 *   One's complement sums do not care about byte order (RFC 1071 §2(B)),
 *   so everything here works on words exactly as they lie in memory.
 * - §3.4 (/48 or shorter): the word is bits 48-63; an address with
 *   0xFFFF there is dropped.
 * - §3.5 (/49 to /64): the word is the first of the interface identifier
 *   words (4..7) that is not 0xFFFF; an all-ones IID is dropped (§3.7).
 * - 0xFFFF and 0x0000 are the same one's complement number; a translated
 *   word of 0xFFFF is written as 0x0000 (as the kernel's ip6t_NPT does).
 *   That is what keeps the mapping one to one: 0xFFFF never appears as an
 *   adjusted word, so the reverse direction never skips or drops a word
 *   this direction produced. (This rule is sometimes credited to erratum
 *   3033; that erratum is about the example, below.)
 * - Erratum 3033 (verified) corrects the §3.6 example: the reply comes
 *   back to 2001:0DB8:0001:D550::1234 (not ::0001) and maps back to
 *   FD01:0203:0405:0001::1234. Nothing to implement beyond getting the
 *   example right, which tests/unit/test_npt.c checks.
 * - Erratum 8757 (reported 2026, not yet verified) fixes §3.7, which
 *   says all-ones IIDs are reserved but then says to drop an IID of
 *   "all-zeros": it is the all-ones IID that is dropped (with an ICMPv6
 *   Parameter Problem, which the datapath's caller may send). An all-zero
 *   IID (the subnet-router anycast address) is translated normally.
 */

static __u16 word_at(const struct in6_addr *a, unsigned int i)
{
	__u16 w;

	memcpy(&w, &a->s6_addr[2 * i], sizeof(w));
	return w;
}

static void set_word(struct in6_addr *a, unsigned int i, __u16 w)
{
	memcpy(&a->s6_addr[2 * i], &w, sizeof(w));
}

/* Fold a 32-bit sum of 16-bit words with end-around carries. */
static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Mask of the prefix bits that fall in byte i of a /plen. */
static __u8 prefix_byte_mask(unsigned int plen, unsigned int i)
{
	if (plen >= 8 * (i + 1))
		return 0xff;
	if (plen <= 8 * i)
		return 0;
	return (__u8)(0xff << (8 - (plen - 8 * i)));
}

/* One's complement sum of the words of a's first plen bits. */
static __u16 prefix_sum(const struct in6_addr *a, unsigned int plen)
{
	struct in6_addr p;
	__u32 sum = 0;
	unsigned int i;

	for (i = 0; i < sizeof(p.s6_addr); i++)
		p.s6_addr[i] = a->s6_addr[i] & prefix_byte_mask(plen, i);
	for (i = 0; i < NPT_WORDS; i++)
		sum += word_at(&p, i);
	return fold(sum);
}

__u16 mwan_npt_adjustment(const struct in6_addr *from,
			  const struct in6_addr *to, unsigned int plen)
{
	__u16 adj = fold((__u32)prefix_sum(from, plen) +
			 (__u16)~prefix_sum(to, plen));

	/* Equal sums give 0xFFFF ("negative zero"); return the other zero
	 * so that "no adjustment" reads as 0. Adding either one yields the
	 * same word once 0xFFFF results are written as 0x0000.
	 */
	return adj == 0xffff ? 0 : adj;
}

/* The word RFC 6296 adjusts in addr for a /plen, or -1 to drop. */
static int adjusted_word(const struct in6_addr *addr, unsigned int plen)
{
	unsigned int i;

	if (plen <= 48)
		return word_at(addr, 3) == 0xffff ? -1 : 3;
	for (i = 4; i < NPT_WORDS; i++)
		if (word_at(addr, i) != 0xffff)
			return (int)i;
	return -1;
}

bool mwan_npt_translate(struct in6_addr *addr, const struct in6_addr *to,
			unsigned int plen, __u16 adj)
{
	unsigned int i;
	__u16 w;
	int idx;

	if (plen > NPT_MAX_PLEN)
		return false;
	/* The adjusted word lies outside the prefix, so it can be chosen
	 * (and the drop cases recognised) before the prefix is rewritten.
	 */
	idx = adjusted_word(addr, plen);
	if (idx < 0)
		return false;
	for (i = 0; i < sizeof(addr->s6_addr); i++) {
		__u8 m = prefix_byte_mask(plen, i);

		addr->s6_addr[i] = (addr->s6_addr[i] & ~m) |
				   (to->s6_addr[i] & m);
	}
	w = fold((__u32)word_at(addr, idx) + adj);
	set_word(addr, idx, w == 0xffff ? 0 : w);
	return true;
}

static bool has_host_bits(const struct in6_addr *a, unsigned int plen)
{
	unsigned int i;

	for (i = 0; i < sizeof(a->s6_addr); i++)
		if (a->s6_addr[i] & ~prefix_byte_mask(plen, i))
			return true;
	return false;
}

/* Set bit `bit` (0: the address's most significant) of a. */
static void set_bit(struct in6_addr *a, unsigned int bit)
{
	a->s6_addr[bit / 8] |= (__u8)(0x80 >> (bit % 8));
}

int mwan_npt_check_delegated(const struct in6_addr *delegated,
			     unsigned int dlen, const struct in6_addr *inside,
			     unsigned int plen, char *err, size_t errlen)
{
	char d[INET6_ADDRSTRLEN], in[INET6_ADDRSTRLEN];
	unsigned int i;
	bool contains = dlen <= plen;

	inet_ntop(AF_INET6, delegated, d, sizeof(d));
	if (IN6_IS_ADDR_LINKLOCAL(delegated) ||
	    IN6_IS_ADDR_MULTICAST(delegated)) {
		mwan_set_err(
			err, errlen,
			"delegated prefix %s/%u is link-local or multicast", d,
			dlen);
		return -1;
	}
	for (i = 0; contains && i < sizeof(delegated->s6_addr); i++)
		contains = !((delegated->s6_addr[i] ^ inside->s6_addr[i]) &
			     prefix_byte_mask(dlen, i));
	if (!contains)
		return 0;
	inet_ntop(AF_INET6, inside, in, sizeof(in));
	mwan_set_err(
		err, errlen,
		"delegated prefix %s/%u contains the internal prefix %s/%u, which cannot be its own external prefix",
		d, dlen, in, plen);
	return -1;
}

int mwan_npt_derive(const struct in6_addr *delegated, unsigned int dlen,
		    unsigned int subnet, unsigned int plen,
		    struct in6_addr *ext, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN];
	unsigned int bits, i;

	if (plen > NPT_MAX_PLEN) {
		mwan_set_err(
			err, errlen,
			"internal prefix /%u is longer than /%u, the longest RFC 6296 translates",
			plen, NPT_MAX_PLEN);
		return -1;
	}
	if (dlen > plen) {
		mwan_set_err(
			err, errlen,
			"delegated prefix /%u is longer than the internal prefix /%u",
			dlen, plen);
		return -1;
	}
	if (has_host_bits(delegated, dlen)) {
		inet_ntop(AF_INET6, delegated, text, sizeof(text));
		mwan_set_err(err, errlen,
			     "delegated prefix %s/%u has host bits set", text,
			     dlen);
		return -1;
	}
	bits = plen - dlen;
	if (bits < 32 && subnet >> bits) {
		mwan_set_err(
			err, errlen,
			"subnet 0x%x does not fit in the %u bits between /%u and /%u",
			subnet, bits, dlen, plen);
		return -1;
	}
	*ext = *delegated;
	/* subnet's least significant bit lands on bit plen - 1. */
	for (i = 0; i < bits && i < 32; i++)
		if (subnet & (1U << i))
			set_bit(ext, plen - 1 - i);
	return 0;
}

void mwan_npt_fill(const struct in6_addr *internal, const struct in6_addr *ext,
		   unsigned int plen, struct mwan_npt *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	/* Host bits cleared: the map entry documents ext as a bare prefix. */
	for (i = 0; i < sizeof(out->ext); i++)
		out->ext[i] = ext->s6_addr[i] & prefix_byte_mask(plen, i);
	out->adj_out = mwan_npt_adjustment(internal, ext, plen);
	out->adj_in = mwan_npt_adjustment(ext, internal, plen);
}
