/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* From ingress_filter and allow_sources to LPM entries: pure, no I/O. */
#include <arpa/inet.h>
#include <string.h>

#include "filter.h"

/* RFC 6890 space that never sources Internet traffic (CONTRACT.md):
 * not 100.64/10 (ISPs number links with it), not the documentation
 * ranges.
 */
static const struct {
	int family;
	const char *addr;
	unsigned int plen;
} bogons[] = {
	{ AF_INET, "0.0.0.0", 8 },     { AF_INET, "10.0.0.0", 8 },
	{ AF_INET, "127.0.0.0", 8 },   { AF_INET, "169.254.0.0", 16 },
	{ AF_INET, "172.16.0.0", 12 }, { AF_INET, "192.168.0.0", 16 },
	{ AF_INET, "224.0.0.0", 3 },   { AF_INET6, "::", 128 },
	{ AF_INET6, "::1", 128 },      { AF_INET6, "fc00::", 7 },
	{ AF_INET6, "ff00::", 8 },
};

static void rule_of(const struct mwan_cfg_prefix *p, unsigned int value,
		    struct mwan_filter_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->family = p->family;
	if (p->family == AF_INET)
		memcpy(r->addr, &p->addr4, 4);
	else
		memcpy(r->addr, &p->addr6, 16);
	r->plen = p->plen;
	r->value = value;
}

/* Whether rule a's prefix holds rule b's (same family, a no longer). */
static bool covers(const struct mwan_filter_rule *a,
		   const struct mwan_filter_rule *b)
{
	struct mwan_cfg_prefix p = { .family = a->family, .plen = a->plen };

	if (a->family != b->family || a->plen > b->plen)
		return false;
	if (a->family == AF_INET)
		memcpy(&p.addr4, a->addr, 4);
	else
		memcpy(&p.addr6, a->addr, 16);
	return mwan_prefix_has(&p, b->addr);
}

static bool same(const struct mwan_filter_rule *a,
		 const struct mwan_filter_rule *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Adds r, or merges it into the entry for the same prefix with `merge`. */
static size_t add(struct mwan_filter_rule *out, size_t n,
		  const struct mwan_filter_rule *r,
		  unsigned int (*merge)(unsigned int, unsigned int))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same(&out[i], r)) {
			out[i].value = merge(out[i].value, r->value);
			return n;
		}
	out[n] = *r;
	return n + 1;
}

/* Every entry takes in what the entries holding it say. */
static void inherit(struct mwan_filter_rule *out, size_t n,
		    unsigned int (*merge)(unsigned int, unsigned int))
{
	unsigned int was[MWAN_FILTER_RULES_MAX];
	size_t i, j;

	for (i = 0; i < n; i++)
		was[i] = out[i].value;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j && covers(&out[j], &out[i]))
				out[i].value = merge(out[i].value, was[j]);
}

static unsigned int stricter(unsigned int a, unsigned int b)
{
	return a > b ? a : b; /* MWAN_INGRESS_CONFIGURED > _BOGON */
}

static unsigned int either(unsigned int a, unsigned int b)
{
	return a | b;
}

size_t mwan_ingress_rules(const struct mwan_config *cfg,
			  struct mwan_filter_rule *out)
{
	struct mwan_filter_rule r;
	size_t n = 0, i;

	for (i = 0; cfg->bogons && i < sizeof(bogons) / sizeof(bogons[0]);
	     i++) {
		memset(&r, 0, sizeof(r));
		r.family = bogons[i].family;
		inet_pton(r.family, bogons[i].addr, r.addr);
		r.plen = bogons[i].plen;
		r.value = MWAN_INGRESS_BOGON;
		n = add(out, n, &r, stricter);
	}
	for (i = 0; i < cfg->n_drop; i++) {
		rule_of(&cfg->drop_sources[i], MWAN_INGRESS_CONFIGURED, &r);
		n = add(out, n, &r, stricter);
	}
	inherit(out, n, stricter);
	return n;
}

size_t mwan_egress_rules(const struct mwan_config *cfg,
			 struct mwan_filter_rule *out)
{
	struct mwan_filter_rule r;
	unsigned int w, i;
	size_t n = 0;

	for (w = 0; w < cfg->n_wans; w++)
		for (i = 0; i < cfg->wans[w].n_allow; i++) {
			rule_of(&cfg->wans[w].allow_sources[i], 1U << w, &r);
			n = add(out, n, &r, either);
		}
	inherit(out, n, either);
	return n;
}
