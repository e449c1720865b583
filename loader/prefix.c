/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan_npt: each WAN's external IPv6 prefix (static or delegated) and its expiry. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flows.h"
#include "loader.h"
#include "prefix.h"
#include "log.h"
#include "mapio.h"
#include "../lib/control.h"
#include "../lib/npt.h"
#include "../lib/clock.h"

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL

#define NPT_FD(l) MAP_FD(l, npt)

static bool entry_valid(const struct mwan_npt *e, __u64 now)
{
	return !e->valid_until_ns || now < e->valid_until_ns;
}

static bool entry_get(const struct loader *l, __u32 w, struct mwan_npt *e)
{
	return !bpf_map_lookup_elem(NPT_FD(l), &w, e);
}

/* Everything but when it was written. */
static bool entry_same(const struct mwan_npt *a, const struct mwan_npt *b)
{
	return !memcmp(a->ext, b->ext, sizeof(a->ext)) &&
	       !memcmp(a->delegated, b->delegated, sizeof(a->delegated)) &&
	       a->delegated_len == b->delegated_len && a->source == b->source &&
	       a->adj_out == b->adj_out && a->adj_in == b->adj_in &&
	       a->subnet == b->subnet && a->valid_until_ns == b->valid_until_ns;
}

/* Seconds left, rounded up; 0 once expired. */
static __u64 seconds_left(const struct mwan_npt *e, __u64 now)
{
	if (now >= e->valid_until_ns)
		return 0;
	return (e->valid_until_ns - now + NS_PER_S - 1) / NS_PER_S;
}

static const char *delegated_str(const struct mwan_npt *e, char *buf,
				 size_t len)
{
	if (!e)
		return "none";
	return mwan_prefix_str(e->delegated, e->delegated_len, buf, len);
}

/* ", external 2001:db8:a0:1fe::/64, pd, valid 86400 s" */
static const char *details_str(const struct loader *l, const struct mwan_npt *e,
			       __u64 now, char *buf, size_t len)
{
	char ext[64], life[48];

	if (!e) {
		buf[0] = '\0';
		return buf;
	}
	if (e->valid_until_ns)
		snprintf(life, sizeof(life), "valid %" PRIu64 " s",
			 (uint64_t)seconds_left(e, now));
	else
		snprintf(life, sizeof(life), "no expiry");
	snprintf(buf, len, ", external %s, %s, %s",
		 mwan_prefix_str(e->ext, l->cfg.lan_plen6, ext, sizeof(ext)),
		 e->source == MWAN_NPT_STATIC ? "static" : "pd", life);
	return buf;
}

/* "wan att: prefix OLD -> NEW (why), external ..., pd, valid N s" */
static void log_change(const struct loader *l, const char *wan,
		       const struct mwan_npt *old, const struct mwan_npt *e,
		       const char *why)
{
	char o[64], n[64], d[160];
	__u64 now = mwan_mono_ns();

	log_info("wan %s: prefix %s -> %s%s%s%s%s", wan,
		 delegated_str(old, o, sizeof(o)),
		 delegated_str(e, n, sizeof(n)), why ? " (" : "",
		 why ? why : "", why ? ")" : "",
		 details_str(l, e, now, d, sizeof(d)));
}

/* mwan_npt_mask[0]: bit i when WAN i has a valid external prefix. */
static void mask_sync(struct loader *l)
{
	int fd = MAP_FD(l, npt_mask);
	__u32 w, mask = 0, old = 0, zero = 0;
	__u64 now = mwan_mono_ns();
	struct mwan_npt e;

	for (w = 0; w < MWAN_MAX_WANS; w++)
		if (entry_get(l, w, &e) && entry_valid(&e, now))
			mask |= 1U << w;
	if (!bpf_map_lookup_elem(fd, &zero, &old) && old == mask)
		return;
	if (bpf_map_update_elem(fd, &zero, &mask, BPF_ANY))
		log_err("cannot update mwan_npt_mask: %s", strerror(errno));
	else
		log_debug("mwan_npt_mask 0x%x -> 0x%x", old, mask);
}

/* The entry translating lan.ipv6 to subnet npt.subnet of delegated. */
static int entry_build(const struct loader *l, unsigned int w,
		       const struct in6_addr *delegated, unsigned int dlen,
		       __u8 source, __u64 valid_until_ns, struct mwan_npt *e,
		       char *err, size_t errlen)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	struct in6_addr ext;

	if (mwan_npt_check_delegated(delegated, dlen, &l->cfg.lan_net6,
				     l->cfg.lan_plen6, err, errlen) ||
	    mwan_npt_derive(delegated, dlen, c->npt_subnet, l->cfg.lan_plen6,
			    &ext, err, errlen))
		return -1;
	mwan_npt_fill(&l->cfg.lan_net6, &ext, l->cfg.lan_plen6, e);
	memcpy(e->delegated, delegated, sizeof(e->delegated));
	e->delegated_len = dlen;
	e->source = source;
	e->subnet = c->npt_subnet;
	e->valid_until_ns = valid_until_ns;
	e->set_ns = mwan_mono_ns();
	return 0;
}

/* Replaces (e) or deletes (NULL) slot w's entry in one map operation:
 * the hash map has no preallocation, so the datapath sees the old entry
 * or the new one, never a mix. IPv6 flows through a prefix that changed
 * are dropped.
 */
static int entry_store(struct loader *l, __u32 w, const struct mwan_npt *old,
		       const struct mwan_npt *e)
{
	int err;

	if (e && bpf_map_update_elem(NPT_FD(l), &w, e, BPF_ANY)) {
		err = -errno;
		log_err("cannot update mwan_npt[%u]: %s", w, strerror(-err));
		return err;
	}
	if (!e && old && bpf_map_delete_elem(NPT_FD(l), &w) &&
	    errno != ENOENT) {
		err = -errno;
		log_err("cannot delete mwan_npt[%u]: %s", w, strerror(-err));
		return err;
	}
	if (old && (!e || memcmp(old->ext, e->ext, sizeof(e->ext)) ||
		    old->adj_out != e->adj_out))
		flows_drop6(l, 1U << w);
	mask_sync(l);
	return 0;
}

static int apply_set(struct loader *l, const struct mwan_ctl_req *req,
		     char *msg, size_t len)
{
	const char *wan = l->cfg.wans[req->wan].name;
	struct mwan_npt old, e;
	char err[MWAN_ERR_LEN], d[64], x[64];
	bool had = entry_get(l, req->wan, &old);
	__u64 until = 0;
	bool renew;

	if (req->valid_s != MWAN_VALID_INFINITE)
		until = mwan_mono_ns() + (__u64)req->valid_s * NS_PER_S;
	if (entry_build(l, req->wan, &req->delegated, req->dlen, MWAN_NPT_PD,
			until, &e, err, sizeof(err))) {
		snprintf(msg, len, "%s", err);
		return -1;
	}
	if (entry_store(l, req->wan, had ? &old : NULL, &e)) {
		snprintf(msg, len, "cannot update the map");
		return -1;
	}
	renew = had && !memcmp(old.delegated, e.delegated, 16) &&
		old.delegated_len == e.delegated_len;
	log_change(l, wan, had ? &old : NULL, &e, renew ? "renewed" : NULL);
	mwan_prefix_str(e.ext, l->cfg.lan_plen6, x, sizeof(x));
	mwan_prefix_str(e.delegated, e.delegated_len, d, sizeof(d));
	if (until)
		snprintf(msg, len, "%s: prefix %s, external %s, valid %u s",
			 wan, d, x, req->valid_s);
	else
		snprintf(msg, len, "%s: prefix %s, external %s, no expiry", wan,
			 d, x);
	return 0;
}

static int apply_clear(struct loader *l, const struct mwan_ctl_req *req,
		       char *msg, size_t len)
{
	const char *wan = l->cfg.wans[req->wan].name;
	struct mwan_npt old;
	char d[64];

	if (!entry_get(l, req->wan, &old)) {
		snprintf(msg, len, "%s: no prefix to clear", wan);
		return 0;
	}
	if (entry_store(l, req->wan, &old, NULL)) {
		snprintf(msg, len, "cannot update the map");
		return -1;
	}
	log_change(l, wan, &old, NULL, "cleared");
	snprintf(msg, len, "%s: cleared prefix %s", wan,
		 delegated_str(&old, d, sizeof(d)));
	return 0;
}

int prefix_apply(struct loader *l, const struct mwan_ctl_req *req, char *msg,
		 size_t len)
{
	if (req->op == MWAN_CTL_PD_SET)
		return apply_set(l, req, msg, len);
	if (req->op == MWAN_CTL_PD_CLEAR)
		return apply_clear(l, req, msg, len);
	snprintf(msg, len, "unknown operation %d", req->op);
	return -1;
}

void prefix_expire(struct loader *l)
{
	__u64 now = mwan_mono_ns();
	struct mwan_npt e;
	__u32 w;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		if (!entry_get(l, w, &e) || entry_valid(&e, now))
			continue;
		entry_store(l, w, &e, NULL);
		log_change(l,
			   w < l->cfg.n_wans ? l->cfg.wans[w].name : "(unused)",
			   &e, NULL, "expired");
	}
	mask_sync(l);
}

int prefix_timeout_ms(struct loader *l, int max_ms)
{
	__u64 now = mwan_mono_ns(), best = (__u64)max_ms;
	struct mwan_npt e;
	__u32 w;

	for (w = 0; w < MWAN_MAX_WANS; w++) {
		__u64 ms;

		if (!entry_get(l, w, &e) || !e.valid_until_ns)
			continue;
		ms = e.valid_until_ns > now ?
			     (e.valid_until_ns - now) / NS_PER_MS + 1 :
			     0;
		if (ms < best)
			best = ms;
	}
	return (int)best;
}

/* ---- start and reload ---- */

/* What a previous run (or the config before a reload) left: each slot's
 * entry and the name of the WAN that slot belonged to, so entries follow
 * their WAN even if the config reorders the WANs.
 */
struct npt_before {
	struct mwan_npt e[MWAN_MAX_WANS];
	bool has[MWAN_MAX_WANS];
	char name[MWAN_MAX_WANS][MWAN_NAME_LEN + 1];
};

static void read_before(const struct loader *l, struct npt_before *b)
{
	int names = MAP_FD(l, names);
	struct mwan_name n;
	__u32 w;

	memset(b, 0, sizeof(*b));
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		b->has[w] = entry_get(l, w, &b->e[w]);
		if (!bpf_map_lookup_elem(names, &w, &n))
			memcpy(b->name[w], n.name, MWAN_NAME_LEN);
	}
}

/* WAN w's entry from before, found by name (an unnamed slot counts as
 * itself).
 */
static const struct mwan_npt *
before_of(const struct loader *l, const struct npt_before *b, unsigned int w)
{
	unsigned int s;

	for (s = 0; s < MWAN_MAX_WANS; s++)
		if (b->has[s] && !strcmp(b->name[s], l->cfg.wans[w].name))
			return &b->e[s];
	if (b->has[w] && !b->name[w][0])
		return &b->e[w];
	return NULL;
}

/* A delegated prefix that is still valid survives, re-derived with the
 * current lan.ipv6 and npt.subnet.
 */
static bool keep_pd(const struct loader *l, unsigned int w,
		    const struct mwan_npt *prev, struct mwan_npt *e)
{
	const char *wan = l->cfg.wans[w].name;
	char err[MWAN_ERR_LEN], d[64];
	struct in6_addr delegated;

	if (!prev || prev->source != MWAN_NPT_PD)
		return false;
	if (!entry_valid(prev, mwan_mono_ns())) {
		log_info("wan %s: delegated prefix %s from before has expired",
			 wan, delegated_str(prev, d, sizeof(d)));
		return false;
	}
	memcpy(&delegated, prev->delegated, sizeof(delegated));
	if (entry_build(l, w, &delegated, prev->delegated_len, MWAN_NPT_PD,
			prev->valid_until_ns, e, err, sizeof(err))) {
		log_warn("wan %s: cannot keep delegated prefix %s: %s", wan,
			 delegated_str(prev, d, sizeof(d)), err);
		return false;
	}
	if (entry_same(prev, e))
		e->set_ns = prev->set_ns;
	return true;
}

/* What WAN w's entry should be under the current config. */
static int wanted(const struct loader *l, unsigned int w,
		  const struct mwan_npt *prev, struct mwan_npt *e, bool *has)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	char err[MWAN_ERR_LEN];

	*has = false;
	if (!c->has_npt || !l->cfg.has_lan6)
		return 0;
	if (!c->has_npt_prefix) {
		*has = keep_pd(l, w, prev, e);
		return 0;
	}
	if (entry_build(l, w, &c->npt_prefix, c->npt_plen, MWAN_NPT_STATIC, 0,
			e, err, sizeof(err))) {
		log_err("wan %s: npt.prefix: %s", c->name, err);
		return -EINVAL;
	}
	if (prev && entry_same(prev, e))
		e->set_ns = prev->set_ns;
	*has = true;
	return 0;
}

/* Start and reload log each WAN's prefix, changed or not. */
static void log_reconciled(const struct loader *l, unsigned int w,
			   const struct mwan_npt *prev,
			   const struct mwan_npt *e, bool changed)
{
	const char *why = NULL;

	if (!e && !(changed && prev))
		return;
	if (e && e->source == MWAN_NPT_PD)
		why = "kept from before";
	else if (e && !changed)
		why = "unchanged";
	log_change(l, l->cfg.wans[w].name, prev, e, why);
}

int prefix_reconcile(struct loader *l)
{
	static struct npt_before b;
	struct mwan_npt e;
	unsigned int w;
	bool has, changed;
	int err;

	read_before(l, &b);
	for (w = 0; w < MWAN_MAX_WANS; w++) {
		const struct mwan_npt *prev =
			w < l->cfg.n_wans ? before_of(l, &b, w) : NULL;
		const struct mwan_npt *cur = b.has[w] ? &b.e[w] : NULL;

		has = false;
		if (w < l->cfg.n_wans) {
			err = wanted(l, w, prev, &e, &has);
			if (err)
				return err;
		}
		changed = has ? !cur || !entry_same(cur, &e) : cur != NULL;
		if (changed) {
			err = entry_store(l, w, cur, has ? &e : NULL);
			if (err)
				return err;
		}
		if (w < l->cfg.n_wans)
			log_reconciled(l, w, prev, has ? &e : NULL, changed);
	}
	mask_sync(l);
	return 0;
}
