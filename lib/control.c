/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's control socket protocol: request parsing and validation. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "steer.h"
#include "err.h"
#include "npt.h"

#define MAX_WORDS 8
#define QUOTE_MAX 64 /* longer values are cut in messages */
#define USAGE "usage: pd WAN PREFIX/LEN VALID_SECONDS | pd WAN clear"

struct words {
	char buf[MWAN_CONTROL_MAX + 1];
	char *w[MAX_WORDS];
	unsigned int n; /* may exceed MAX_WORDS; only the first are kept */
};

/* A value as messages show it: cut at QUOTE_MAX bytes. Requests are
 * printable ASCII by then, so nothing needs escaping.
 */
struct quoted {
	char s[QUOTE_MAX + 4];
};

static const char *q(struct quoted *qv, const char *s)
{
	size_t n = strlen(s);

	if (n <= QUOTE_MAX)
		snprintf(qv->s, sizeof(qv->s), "%s", s);
	else
		snprintf(qv->s, sizeof(qv->s), "%.*s...", QUOTE_MAX, s);
	return qv->s;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mwan_vset_err(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *mwan_prefix_str(const void *addr, unsigned int plen, char *buf,
			    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(AF_INET6, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, plen);
	return buf;
}

/* Length, bytes and words; one trailing newline is allowed. */
static int split(const char *buf, size_t len, struct words *ws, char *err,
		 size_t errlen)
{
	char *save = NULL, *tok;
	size_t i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (!len)
		return fail(err, errlen, "empty request");
	if (len > MWAN_CONTROL_MAX)
		return fail(err, errlen,
			    "request too long (%zu bytes, at most %d)", len,
			    MWAN_CONTROL_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			return fail(
				err, errlen,
				"invalid byte 0x%02x at offset %zu (requests are printable ASCII)",
				(unsigned char)buf[i], i);
	memcpy(ws->buf, buf, len);
	ws->buf[len] = '\0';
	ws->n = 0;
	for (tok = strtok_r(ws->buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (ws->n < MAX_WORDS)
			ws->w[ws->n] = tok;
		ws->n++;
	}
	if (!ws->n)
		return fail(err, errlen, "empty request");
	return 0;
}

static void known_wans(const struct mwan_config *cfg, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int w;

	buf[0] = '\0';
	for (w = 0; w < cfg->n_wans && off < len; w++)
		off += snprintf(buf + off, len - off, "%s%s", w ? ", " : "",
				cfg->wans[w].name);
}

/* A WAN of the running config. */
static int find_wan(const char *s, const struct mwan_config *cfg,
		    unsigned int *wan, char *err, size_t errlen)
{
	char known[MWAN_MAX_WANS * (MWAN_NAME_LEN + 2) + 1];
	struct quoted qv;
	int i = mwan_config_wan_index(cfg, s);

	if (i < 0) {
		known_wans(cfg, known, sizeof(known));
		return fail(err, errlen, "unknown WAN '%s' (known: %s)",
			    q(&qv, s), known[0] ? known : "none");
	}
	*wan = i;
	return 0;
}

/* The WAN must exist and take delegated prefixes. */
static int parse_wan(const char *s, const struct mwan_config *cfg,
		     unsigned int *wan, char *err, size_t errlen)
{
	const struct mwan_cfg_wan *w;
	char p[64];

	if (find_wan(s, cfg, wan, err, errlen))
		return -1;
	w = &cfg->wans[*wan];
	if (!w->has_npt)
		return fail(err, errlen, "WAN '%s' has no npt configured", s);
	if (w->has_npt_prefix)
		return fail(
			err, errlen,
			"WAN '%s' has a static npt.prefix (%s); delegated prefixes are not accepted for it",
			s,
			mwan_prefix_str(&w->npt_prefix, w->npt_plen, p,
					sizeof(p)));
	return 0;
}

static bool host_bits_set(const struct in6_addr *a, unsigned int plen)
{
	unsigned int i;

	for (i = plen / 8; i < 16; i++) {
		unsigned char keep = i == plen / 8 ? 0xff << (8 - plen % 8) : 0;

		if (a->s6_addr[i] & (unsigned char)~keep)
			return true;
	}
	return false;
}

/* Unspecified, loopback, link-local and multicast space is never
 * delegated.
 */
static bool global_unicast(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
	       !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_MULTICAST(a);
}

/* "ADDRESS/LENGTH": a plain decimal length, no sign, no spaces. */
static int split_prefix(const char *s, struct in6_addr *addr,
			unsigned int *plen)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/'), *p;
	size_t alen;

	if (!slash || slash == s || !slash[1] || strlen(slash + 1) > 3)
		return -1;
	alen = slash - s;
	if (alen >= sizeof(a))
		return -1;
	memcpy(a, s, alen);
	a[alen] = '\0';
	for (p = slash + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	*plen = atoi(slash + 1);
	if (*plen > 128 || inet_pton(AF_INET6, a, addr) != 1)
		return -1;
	return 0;
}

static int parse_prefix(const char *s, const struct mwan_config *cfg,
			struct mwan_ctl_req *req, char *err, size_t errlen)
{
	const struct mwan_cfg_wan *w = &cfg->wans[req->wan];
	unsigned int bits, lan = cfg->lan_plen6;
	char derr[MWAN_ERR_LEN];
	struct quoted qv;

	if (split_prefix(s, &req->delegated, &req->dlen))
		return fail(err, errlen,
			    "invalid prefix '%s' (expected ADDRESS/LENGTH)",
			    q(&qv, s));
	if (!req->dlen)
		return fail(err, errlen,
			    "prefix length out of range in '%s' (1..%u)", s,
			    lan);
	if (req->dlen > lan)
		return fail(err, errlen,
			    "prefix '%s' is longer than lan.ipv6 /%u", s, lan);
	if (host_bits_set(&req->delegated, req->dlen))
		return fail(err, errlen, "host bits set in '%s'", s);
	if (!global_unicast(&req->delegated))
		return fail(err, errlen, "'%s' is not a global unicast prefix",
			    s);
	bits = lan - req->dlen;
	if (bits < 16 && w->npt_subnet >> bits)
		return fail(
			err, errlen,
			"npt.subnet 0x%x of WAN '%s' does not fit in '%s' (at most 0x%x)",
			w->npt_subnet, w->name, s, (1U << bits) - 1);
	if (mwan_npt_derive(&req->delegated, req->dlen, w->npt_subnet, lan,
			    &req->ext, derr, sizeof(derr)))
		return fail(err, errlen, "'%s': %s", s, derr);
	return 0;
}

/* Seconds as DHCPv6 carries them: 32 bits, all ones meaning forever. */
static int parse_valid(const char *s, const char *wan, __u32 *valid, char *err,
		       size_t errlen)
{
	unsigned long long v;
	struct quoted qv;
	const char *p;

	if (!strcmp(s, "infinite")) {
		*valid = MWAN_VALID_INFINITE;
		return 0;
	}
	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return fail(
				err, errlen,
				"invalid lifetime '%s' (seconds 1..4294967295, or 'infinite')",
				q(&qv, s));
	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno || v > MWAN_VALID_INFINITE)
		return fail(
			err, errlen,
			"lifetime '%s' out of range (1..4294967295 seconds, or 'infinite')",
			q(&qv, s));
	if (!v)
		return fail(
			err, errlen,
			"lifetime '0' would expire at once; use 'pd %s clear' to withdraw a prefix",
			wan);
	*valid = v;
	return 0;
}

static int parse_pd(const struct words *ws, const struct mwan_config *cfg,
		    struct mwan_ctl_req *req, char *err, size_t errlen)
{
	struct quoted qv;

	if (ws->n < 2)
		return fail(err, errlen, "missing WAN (" USAGE ")");
	if (parse_wan(ws->w[1], cfg, &req->wan, err, errlen))
		return -1;
	if (ws->n < 3)
		return fail(err, errlen,
			    "missing PREFIX/LEN or 'clear' after '%s' (" USAGE
			    ")",
			    ws->w[1]);
	if (!strcmp(ws->w[2], "clear")) {
		if (ws->n > 3)
			return fail(err, errlen,
				    "unexpected '%s' after 'clear'",
				    q(&qv, ws->w[3]));
		req->op = MWAN_CTL_PD_CLEAR;
		return 0;
	}
	req->op = MWAN_CTL_PD_SET;
	if (parse_prefix(ws->w[2], cfg, req, err, errlen))
		return -1;
	if (ws->n < 4)
		return fail(err, errlen,
			    "missing lifetime after '%s' (" USAGE ")",
			    ws->w[2]);
	if (parse_valid(ws->w[3], ws->w[1], &req->valid_s, err, errlen))
		return -1;
	if (ws->n > 4)
		return fail(err, errlen, "unexpected '%s' after the lifetime",
			    q(&qv, ws->w[4]));
	return 0;
}

/* wan NAME up|down|auto */
static int parse_admin(const struct words *ws, const struct mwan_config *cfg,
		       struct mwan_ctl_req *req, char *err, size_t errlen)
{
	struct quoted qv;

	req->op = MWAN_CTL_WAN_ADMIN;
	if (ws->n < 2)
		return fail(err, errlen, "missing WAN (wan WAN up|down|auto)");
	if (find_wan(ws->w[1], cfg, &req->wan, err, errlen))
		return -1;
	if (ws->n < 3)
		return fail(
			err, errlen,
			"missing up, down or auto after '%s' (wan WAN up|down|auto)",
			ws->w[1]);
	if (mwan_admin_parse(ws->w[2], &req->admin))
		return fail(
			err, errlen,
			"invalid WAN state '%s' (expected up, down or auto)",
			q(&qv, ws->w[2]));
	if (ws->n > 3)
		return fail(err, errlen, "unexpected '%s' after '%s'",
			    q(&qv, ws->w[3]), ws->w[2]);
	return 0;
}

int mwan_ctl_parse(const char *buf, size_t len, const struct mwan_config *cfg,
		   struct mwan_ctl_req *req, char *err, size_t errlen)
{
	struct words ws;
	struct quoted qv;

	memset(req, 0, sizeof(*req));
	if (split(buf, len, &ws, err, errlen))
		return -1;
	if (!strcmp(ws.w[0], "reload")) {
		req->op = MWAN_CTL_RELOAD;
		if (ws.n > 1)
			return fail(err, errlen,
				    "unexpected '%s' after 'reload'",
				    q(&qv, ws.w[1]));
		return 0;
	}
	if (!strcmp(ws.w[0], "wan"))
		return parse_admin(&ws, cfg, req, err, errlen);
	if (strcmp(ws.w[0], "pd"))
		return fail(
			err, errlen,
			"unknown command '%s' (expected 'pd', 'wan' or 'reload')",
			q(&qv, ws.w[0]));
	return parse_pd(&ws, cfg, req, err, errlen);
}
