/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* mwan-loader: validate the config, load and attach mwan, keep maps current. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "command.h"
#include "ctlsock.h"
#include "loader.h"
#include "reload.h"
#include "sync.h"
#include "prefix.h"
#include "unmapped.h"
#include "pins.h"
#include "object.h"
#include "attach.h"
#include "nlcache.h"
#include "routing.h"
#include "log.h"
#include "metrics.h"
#include "probe.h"
#include "../lib/control.h"
#include "../lib/rundir.h"
#include "../lib/clock.h"

#define RESYNC_MS 1000
/* signals, netlink, the probes, the control socket and its clients */
#define POLL_FDS 24

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mwan-loader [-c FILE] [--check | --cleanup] [--bpf-object FILE] [-v]\n"
		"  -c, --config FILE      configuration (default %s)\n"
		"      --check            validate the configuration and exit\n"
		"      --cleanup          detach the programs, remove the pinned\n"
		"                         maps, rules and routes a stopped loader\n"
		"                         left in place, and exit\n"
		"      --bpf-object FILE  the BPF object to run (default: next to\n"
		"                         mwan-loader, ../lib/mwan/, else built in)\n"
		"  -v, --verbose          debug logging, including libbpf's\n"
		"SIGTERM/SIGINT stop the loader and leave the dataplane forwarding;\n"
		"a new loader takes it over without dropping a packet.\n",
		MWAN_DEFAULT_CONFIG);
}

/* libbpf and libxdp report every probe they make, and libxdp probes for
 * its dispatcher by loading programs that fail on kernels without freplace
 * support: alarming lines about a fallback that works. The loader reports
 * each real failure itself, so theirs are shown only with -v.
 */
static int libxdp_log(enum libxdp_print_level level, const char *fmt,
		      va_list ap)
{
	(void)level;
	if (!log_verbose())
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Everything that can be checked without touching the system is checked
 * before anything is touched, so a bad config changes nothing.
 */

/* The next slot of l->ifaces: the LANs first, then the WANs (dp_lan,
 * dp_wan).
 */
static void add_iface(struct loader *l, const char *ifname, int wan)
{
	struct dp_iface *i = &l->ifaces[l->n_ifaces++];
	char name[IF_NAMESIZE];

	snprintf(name, sizeof(name), "%s", ifname);
	memcpy(i->name, name, sizeof(name));
	i->ifindex = if_nametoindex(name);
	i->wan = wan;
}

static void ifaces_from_config(struct loader *l)
{
	unsigned int w;

	memset(l->ifaces, 0, sizeof(l->ifaces));
	l->n_ifaces = 0;
	for (w = 0; w < l->cfg.n_lans; w++)
		add_iface(l, l->cfg.lans[w].ifname, -1);
	for (w = 0; w < l->cfg.n_wans; w++)
		add_iface(l, l->cfg.wans[w].ifname, w);
}

/* run_dir is this loader's once it holds the pid file's lock: a second
 * loader stops here, before it touches anything.
 */
static int take_run_dir(struct loader *l)
{
	const char *dir = l->cfg.run_dir;
	pid_t pid;
	int fd;

	fd = mwan_run_make(dir);
	if (fd) {
		log_err("cannot create run_dir %s: %s", dir, strerror(-fd));
		return fd;
	}
	fd = mwan_run_lock(dir);
	if (fd == -EBUSY) {
		mwan_run_loader(dir, &pid);
		log_err("another mwan-loader (pid %d) runs with run_dir %s; stop it first",
			(int)pid, dir);
	} else if (fd < 0) {
		log_err("cannot write the pid file in %s: %s", dir,
			strerror(-fd));
	}
	if (fd < 0)
		return fd;
	l->run_lock = fd;
	return 0;
}

/* run_dir comes first: it tells whether another loader is running with
 * the same run_dir, before anything is touched.
 */
static int start(struct loader *l)
{
	int err;

	ifaces_from_config(l);
	err = reload_open(l);
	if (!err)
		err = take_run_dir(l);
	if (!err)
		err = ctlsock_open(l->cfg.run_dir, command_handle, l, &l->ctl);
	if (!err)
		err = nlc_open(&l->nl);
	if (!err)
		err = pins_prepare_dir(l->cfg.pin_dir);
	if (!err)
		err = object_load(l);
	if (!err)
		err = prefix_reconcile(l);
	/* before the first sync: mwan_wans takes its health from the prober */
	if (!err)
		err = probe_open(l);
	if (!err)
		err = sync_static(l);
	if (!err)
		err = sync_dynamic(l);
	if (!err)
		err = routing_install(l);
	if (!err)
		err = attach_all(l);
	/* again, now that it is known which interfaces take redirects */
	if (!err)
		err = sync_dynamic(l);
	if (!err)
		err = attach_write_status(l);
	return err;
}

/* Leaves the dataplane as it is: programs attached, maps pinned, policy
 * routing in place, so traffic keeps flowing (with the health state
 * frozen, which bpfctl shows) until the next loader takes it over without
 * re-steering a flow. `mwan-loader --cleanup` removes it all. A start
 * that failed leaves whatever ran before it running.
 */
static void stop(struct loader *l)
{
	reload_close(l);
	metrics_stop(l);
	probe_close(l);
	object_close(l);
	nlc_close(l->nl);
	l->nl = NULL;
	ctlsock_close(l->ctl);
	l->ctl = NULL;
	/* else run_dir is another loader's */
	if (l->run_lock >= 0)
		mwan_run_remove(l->cfg.run_dir, l->run_lock);
	l->run_lock = -1;
}

static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* A lost netlink socket must not freeze the maps: start over with a
 * fresh one and a full resync.
 */
static void reopen_netlink(struct loader *l)
{
	log_warn("netlink socket failed; reopening it");
	nlc_close(l->nl);
	l->nl = NULL;
	if (nlc_open(&l->nl)) {
		/* half-open state must not reach the poll loop */
		nlc_close(l->nl);
		l->nl = NULL;
		log_err("netlink reopen failed; will retry");
	}
}

/* Links, addresses or routes changed (or netlink was reopened): an
 * interface that came back gets our programs again, the WAN routes and
 * the probes follow at once.
 */
static void follow_system(struct loader *l)
{
	if (attach_follow_links(l)) {
		if (sync_ifaces(l) || attach_write_status(l))
			log_warn("cannot record the new interface indexes");
	}
	routing_refresh(l);
	probe_refresh(l);
}

/* Returns true when the maps need a resync. */
static bool handle_netlink(struct loader *l, const struct pollfd *p, int n)
{
	int changed = 0;

	if (l->nl) {
		if (n <= 0 || !(p->revents & (POLLIN | POLLERR)))
			return false;
		changed = nlc_process(l->nl);
		if (changed >= 0) {
			if (changed)
				follow_system(l);
			return changed > 0;
		}
	}
	/* fresh caches: whatever changed meanwhile is in them */
	reopen_netlink(l);
	if (!l->nl)
		return false;
	follow_system(l);
	return true;
}

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

static bool any_revents(const struct pollfd *pfd, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pfd[i].revents)
			return true;
	return false;
}

/* A parsed reload is applied; the clients that asked for it hear the
 * outcome once no newer one is queued behind it. True when applied.
 */
static bool reloaded(struct loader *l)
{
	char msg[MWAN_ERR_LEN + 256], out[MWAN_CONTROL_REPLY_MAX];
	int rc;

	if (!reload_finish(l, msg, sizeof(msg), &rc))
		return false;
	command_reload_reply(msg, rc, out, sizeof(out));
	if (!reload_busy(l))
		ctlsock_answer_waiting(l->ctl, out);
	return rc == 0;
}

/* Under systemd with WatchdogSec=, ping at half the interval; the loop
 * wakes at least once per RESYNC_MS, far more often.
 */
static void watchdog_tick(__u64 now)
{
	static __u64 every_ms, next;
	static int enabled = -1;
	uint64_t usec;

	if (enabled < 0) {
		enabled = sd_watchdog_enabled(0, &usec) > 0;
		every_ms = enabled ? usec / 2000 : 0;
	}
	if (!enabled || now < next)
		return;
	sd_notify(0, "WATCHDOG=1");
	next = now + every_ms;
}

/* The probes wake the loop every few hundred milliseconds; the full map
 * resync runs only when netlink or a client changed something, and once
 * a second (bpfctl may have changed an admin state).
 */
static int run(struct loader *l, int sfd)
{
	struct pollfd pfd[POLL_FDS];
	__u64 next_sync = mwan_mono_ms() + RESYNC_MS;

	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	for (;;) {
		struct signalfd_siginfo si;
		unsigned int nctl;
		bool resync;
		int err;
		__u64 now = mwan_mono_ms();
		int n, wait_ms;

		watchdog_tick(now);
		pfd[1].fd = l->nl ? nlc_fd(l->nl) : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = probe_fd(l);
		pfd[2].events = POLLIN;
		pfd[3].fd = reload_fd(l);
		pfd[3].events = POLLIN;
		nctl = l->ctl ? ctlsock_pollfds(l->ctl, pfd + 4, POLL_FDS - 4) :
				0;
		/* wakes in time for the next probe, deadline or expiry */
		wait_ms = next_sync > now ? (int)(next_sync - now) : 0;
		wait_ms = min_int(prefix_timeout_ms(l, wait_ms),
				  probe_timeout_ms(l, wait_ms));
		wait_ms = metrics_timeout_ms(l, now, wait_ms);
		n = poll(pfd, 4 + nctl, wait_ms);
		if (n < 0 && errno != EINTR) {
			/* exit non-zero: systemd's Restart= brings a new
			 * loader, which takes the dataplane over
			 */
			err = -errno;
			log_err("poll: %s; stopping", strerror(-err));
			return err;
		}
		if (n > 0 && (pfd[0].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload_start(l);
				continue;
			}
			log_info(
				"signal %d: stopping; the dataplane stays attached and forwarding",
				si.ssi_signo);
			sd_notify(0, "STOPPING=1");
			break;
		}
		resync = handle_netlink(l, &pfd[1], n);
		probe_process(l);
		if (n > 0 && (pfd[3].revents & POLLIN))
			resync |= reloaded(l);
		if (n > 0 && any_revents(pfd + 4, nctl)) {
			ctlsock_process(l->ctl, pfd + 4, nctl);
			resync = true;
		}
		prefix_expire(l);
		metrics_tick(l, mwan_mono_ms());
		if (!resync && mwan_mono_ms() < next_sync)
			continue;
		next_sync = mwan_mono_ms() + RESYNC_MS;
		if (l->nl && sync_dynamic(l))
			log_warn("map resync failed");
		unmapped_tick(l);
	}
	return 0;
}

/* --cleanup: what a stopped (or crashed) loader left behind. */
static int cleanup(struct loader *l)
{
	pid_t pid;
	int err;

	if (mwan_run_loader(l->cfg.run_dir, &pid)) {
		log_err("mwan-loader is running (pid %d); stop it first",
			(int)pid);
		return 1;
	}
	ifaces_from_config(l);
	if (!nlc_open(&l->nl))
		routing_remove(l);
	nlc_close(l->nl);
	l->nl = NULL;
	attach_cleanup(l);
	err = pins_cleanup(l);
	mwan_run_remove(l->cfg.run_dir, -1);
	log_info("cleanup %s", err ? "incomplete" : "done");
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ "bpf-object", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = MWAN_DEFAULT_CONFIG;
	struct loader l = { .run_lock = -1 };
	bool check = false, clean = false;
	char msg[MWAN_ERR_LEN];
	int c, err, sfd;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'C':
			clean = true;
			break;
		case 'O':
			l.bpf_object = optarg;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mwan-loader: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check && clean) {
		fprintf(stderr,
			"mwan-loader: --check and --cleanup exclude each other\n");
		usage(stderr);
		return 2;
	}
	log_init();
	libbpf_set_print(kernel_libbpf_print);
	kernel_release(&l.kernel);
	libxdp_set_print(libxdp_log);
	if (clean) {
		/* the interfaces may be gone: only the file must be good */
		if (mwan_config_load(path, &l.cfg, msg, sizeof(msg))) {
			fprintf(stderr, "%s\n", msg);
			return 1;
		}
		err = cleanup(&l);
		mwan_config_free(&l.cfg);
		return err;
	}
	if (reload_load_config(path, &l.cfg, msg, sizeof(msg))) {
		/* --check's answer is the bare FILE:LINE: message */
		if (check)
			fprintf(stderr, "%s\n", msg);
		else
			log_err("%s", msg);
		return 1;
	}
	if (check) {
		printf("%s: OK\n", path);
		mwan_config_free(&l.cfg);
		return 0;
	}
	/* Blocked from here on: a SIGTERM while starting is acted on once
	 * the start is complete, so it never leaves half an attachment.
	 */
	sfd = signals_fd();
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		mwan_config_free(&l.cfg);
		return 1;
	}
	err = start(&l);
	if (err) {
		if (attach_guarded(&l))
			log_err("start failed; every WAN keeps mwan's egress guard, so no internal address leaves a WAN (fail closed); mwan-loader --cleanup removes what was attached");
		else
			log_err("start failed; whatever ran before is left running (mwan-loader --cleanup removes it)");
		stop(&l);
		close(sfd);
		mwan_config_free(&l.cfg);
		return 1;
	}
	log_info("dataplane ready: LAN %s%s, %u WAN(s), %u mapping(s), %s path",
		 l.cfg.lans[0].ifname, l.cfg.n_lans > 1 ? " and more" : "",
		 l.cfg.n_wans, l.cfg.n_nat,
		 l.cfg.fast_path ? "fast (XDP)" : "slow (TC + kernel)");
	sd_notify(0, "READY=1");
	err = run(&l, sfd);
	close(sfd);
	stop(&l);
	mwan_config_free(&l.cfg);
	log_info("stopped");
	return err ? 1 : 0;
}
