/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reload: the new config parsed off the main loop, then applied on it. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>

#include "loader.h"
#include "reload.h"
#include "sync.h"
#include "prefix.h"
#include "attach.h"
#include "routing.h"
#include "log.h"
#include "probe.h"
#include "../lib/cfgdiff.h"
#include "../lib/syscheck.h"

/* Parsing is the part that depends on the input (a megabyte of YAML,
 * thousands of mappings checked against each other): a worker thread
 * does it, the loop keeps serving probes, netlink, the control socket
 * and the watchdog, and applies the result when the thread says so.
 */
struct reload_state {
	int efd; /* eventfd: the worker is done */
	pthread_t worker;
	bool running;
	bool again; /* asked for again while parsing: parse once more */
	char path[PATH_MAX];
	/* the worker's result, read after pthread_join */
	struct mwan_config next;
	int rc;
	char err[MWAN_ERR_LEN];
};

int reload_load_config(const char *path, struct mwan_config *cfg, char *err,
		       size_t errlen)
{
	if (mwan_config_load(path, cfg, err, errlen) ||
	    mwan_config_check_interfaces(cfg, err, errlen)) {
		mwan_config_free(cfg);
		return -1;
	}
	return 0;
}

int reload_open(struct loader *l)
{
	struct reload_state *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		int err = -errno;

		free(r);
		return err;
	}
	l->reload = r;
	return 0;
}

void reload_close(struct loader *l)
{
	struct reload_state *r = l->reload;

	if (!r)
		return;
	if (r->running) {
		pthread_join(r->worker, NULL);
		mwan_config_free(&r->next);
	}
	close(r->efd);
	free(r);
	l->reload = NULL;
}

int reload_fd(const struct loader *l)
{
	return l->reload ? l->reload->efd : -1;
}

static void *parse_worker(void *arg)
{
	struct reload_state *r = arg;
	uint64_t one = 1;

	memset(&r->next, 0, sizeof(r->next));
	r->rc = reload_load_config(r->path, &r->next, r->err, sizeof(r->err));
	if (write(r->efd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail */
	return NULL;
}

int reload_start(struct loader *l)
{
	struct reload_state *r = l->reload;
	int err;

	if (r->running) {
		r->again = true;
		return 0;
	}
	sd_notify(0, "RELOADING=1");
	log_info("reloading %s", l->cfg.path);
	snprintf(r->path, sizeof(r->path), "%s", l->cfg.path);
	err = pthread_create(&r->worker, NULL, parse_worker, r);
	if (err) {
		log_err("reload: cannot start the parser thread: %s; the running dataplane is unchanged",
			strerror(err));
		sd_notify(0, "READY=1");
		return -err;
	}
	r->running = true;
	return 0;
}

/* SIGHUP and `bpfctl reload`: the new config is validated whole first; a
 * bad one changes nothing. Only what differs is written to the maps
 * (mappings, weights, tiers, gateways, probes, fast_path), in an order
 * that keeps every intermediate state consistent; flows of removed or
 * changed mappings go. A different set of interfaces or WANs needs a
 * restart. msg gets the outcome; returns 0 when applied.
 */
static int apply(struct loader *l, struct mwan_config *parsed, int rc,
		 const char *err, char *msg, size_t len)
{
	struct mwan_config next = *parsed, old;
	char diff[256];

	if (rc) {
		snprintf(
			msg, len,
			"%s; reload refused, the running dataplane is unchanged",
			err);
		goto refused;
	}
	if (!mwan_config_same_interfaces(&l->cfg, &next)) {
		snprintf(
			msg, len,
			"%s: interfaces, LAN or WAN names, pin_dir, run_dir, flows_max or flows_inbound_max changed; reload refused (restart mwan-loader to apply them), the running dataplane is unchanged",
			next.path);
		mwan_config_free(&next);
		goto refused;
	}
	mwan_config_describe_diff(&l->cfg, &next, diff, sizeof(diff));
	old = l->cfg;
	l->cfg = next;
	probe_reload(l);
	if (prefix_reconcile(l) || sync_static(l) || sync_dynamic(l) ||
	    routing_install(l) || attach_write_status(l)) {
		snprintf(msg, len, "reload: applying %s failed part-way: %s",
			 l->cfg.path, diff);
		log_err("%s", msg);
		mwan_config_free(&old);
		return -1;
	}
	snprintf(msg, len, "reload: applied: %s", diff);
	log_info("%s", msg);
	mwan_config_free(&old);
	return 0;
refused:
	log_err("%s", msg);
	return -1;
}

bool reload_busy(const struct loader *l)
{
	return l->reload && l->reload->running;
}

bool reload_finish(struct loader *l, char *msg, size_t len, int *rc)
{
	struct reload_state *r = l->reload;
	uint64_t n;

	if (!r->running || read(r->efd, &n, sizeof(n)) != sizeof(n))
		return false;
	pthread_join(r->worker, NULL);
	r->running = false;
	*rc = apply(l, &r->next, r->rc, r->err, msg, len);
	sd_notify(0, "READY=1");
	if (r->again) {
		r->again = false;
		reload_start(l);
	}
	return true;
}
