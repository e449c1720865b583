/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl against real pinned maps shaped like the dataplane's; print layer. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lib/maptable.h"
#include "lib/metrics.h"
#include "lib/npt.h"
#include "lib/print.h"
#include "lib/rundir.h"
#include "lib/steermap.h"

enum {
	M_LIVE,
	M_CFG,
	M_WANS,
	M_ADMIN,
	M_STEER,
	M_NAMES,
	M_NAT4,
	M_FLOWS,
	M_STATS,
	M_WANSTAT,
	M_NPT,
	M_NPT_MASK,
	M_HEALTH,
	M_WANDROP,
	M_UNMAPPED,
	M_N
};

/* The maps as maps/mwan_map_table.h describes them; the flow table is
 * smaller only to keep the test light.
 */
static const struct {
	const struct mwan_map_desc *d;
	__u32 max; /* 0: the table's */
} maps[M_N] = {
	[M_LIVE] = { MWAN_MAP(live) },
	[M_CFG] = { MWAN_MAP(cfg) },
	[M_WANS] = { MWAN_MAP(wans) },
	[M_ADMIN] = { MWAN_MAP(admin) },
	[M_STEER] = { MWAN_MAP(steer) },
	[M_NAMES] = { MWAN_MAP(names) },
	[M_NAT4] = { MWAN_MAP(nat4) },
	[M_FLOWS] = { MWAN_MAP(flows), 4096 },
	[M_STATS] = { MWAN_MAP(stats) },
	[M_WANSTAT] = { MWAN_MAP(wanstat) },
	[M_NPT] = { MWAN_MAP(npt) },
	[M_NPT_MASK] = { MWAN_MAP(npt_mask) },
	[M_HEALTH] = { MWAN_MAP(health) },
	[M_WANDROP] = { MWAN_MAP(wandrop) },
	[M_UNMAPPED] = { MWAN_MAP(unmapped) },
};

static struct {
	char dir[64]; /* everything the test creates lives below here */
	char pins[96];
	char run[96];
	char bpfctl[PATH_MAX];
	bool mounted, pinned[M_N], ready;
	int run_lock; /* this process plays the loader that holds run_dir */
	const char *skip_why;
	int fd[M_N];
	int ncpus;
	/* CLOCK_MONOTONIC when the maps were filled (setup_ns: all but
	 * mwan_health; health_ns: mwan_health) and when the last bpfctl
	 * run ended: what bpfctl prints as "N s ago" may be that much later
	 * than written, however slow the machine.
	 */
	__u64 setup_ns, health_ns, run_end_ns;
} fx;

#define OUT_MAX (256 * 1024)
static char out[OUT_MAX], err[4096];

/* ---- fixture --------------------------------------------------------- */

static void path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Idempotent and async-signal-safe enough for a SIGINT: only syscalls. */
static void cleanup(void)
{
	char p[256];
	int i;

	for (i = 0; i < M_N; i++) {
		if (fx.pinned[i]) {
			path_in(p, sizeof(p), fx.pins, maps[i].d->name);
			unlink(p);
			fx.pinned[i] = false;
		}
		if (fx.fd[i] >= 0) {
			close(fx.fd[i]);
			fx.fd[i] = -1;
		}
	}
	if (fx.mounted && !umount2(fx.pins, MNT_DETACH))
		fx.mounted = false;
	if (!fx.dir[0])
		return;
	path_in(p, sizeof(p), fx.run, "status");
	unlink(p);
	path_in(p, sizeof(p), fx.run, "mwan-loader.pid");
	unlink(p);
	if (fx.run_lock > 0)
		close(fx.run_lock);
	fx.run_lock = -1;
	path_in(p, sizeof(p), fx.run, "control");
	unlink(p);
	path_in(p, sizeof(p), fx.dir, "mwan.yaml");
	unlink(p);
	rmdir(fx.run);
	rmdir(fx.pins);
	rmdir(fx.dir);
	fx.dir[0] = '\0';
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int make_dirs(void)
{
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/mwan-test-bpfctl.XXXXXX");
	if (!mkdtemp(fx.dir)) {
		fx.dir[0] = '\0';
		return -1;
	}
	path_in(fx.pins, sizeof(fx.pins), fx.dir, "pins");
	path_in(fx.run, sizeof(fx.run), fx.dir, "run");
	if (mkdir(fx.pins, 0700) || mkdir(fx.run, 0700))
		return -1;
	if (is_bpffs(fx.pins))
		return 0;
	if (mount("bpf", fx.pins, "bpf", 0, "mode=0700")) {
		fx.skip_why = "cannot mount bpffs (not root?)";
		return -1;
	}
	fx.mounted = true;
	return 0;
}

static int make_maps(void)
{
	char p[256];
	int i;

	for (i = 0; i < M_N; i++) {
		LIBBPF_OPTS(bpf_map_create_opts, opts,
			    .map_flags = maps[i].d->flags);

		fx.fd[i] = bpf_map_create(
			maps[i].d->type, maps[i].d->name, maps[i].d->key_size,
			maps[i].d->value_size,
			maps[i].max ? maps[i].max : maps[i].d->max_entries,
			&opts);
		if (fx.fd[i] < 0) {
			fx.skip_why = "cannot create BPF maps (not root?)";
			return -1;
		}
		path_in(p, sizeof(p), fx.pins, maps[i].d->name);
		if (bpf_obj_pin(fx.fd[i], p))
			return -1;
		fx.pinned[i] = true;
	}
	return 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	path_in(p, sizeof(p), dir, name);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The binary under test sits next to tests/: build/tests/x -> build/bpfctl */
static void find_bpfctl(void)
{
	const char *env = getenv("MWAN_BPFCTL");
	char self[PATH_MAX - 16];
	ssize_t n;

	if (env) {
		snprintf(fx.bpfctl, sizeof(fx.bpfctl), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(fx.bpfctl, sizeof(fx.bpfctl), "%s/../bpfctl", self);
		if (!access(fx.bpfctl, X_OK))
			return;
	}
	snprintf(fx.bpfctl, sizeof(fx.bpfctl), "build/bpfctl");
}

/* ---- map contents ---------------------------------------------------- */

static __be32 ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void put(int m, const void *key, const void *value)
{
	assert_int_equal(bpf_map_update_elem(fx.fd[m], key, value, BPF_ANY), 0);
}

static void put_wan(__u32 id, const char *name, const struct mwan_wan *w)
{
	struct mwan_name n = { 0 };

	memcpy(n.name, name, strnlen(name, sizeof(n.name)));
	put(M_WANS, &id, w);
	put(M_NAMES, &id, &n);
}

static void fill_wans(void)
{
	struct mwan_cfg cfg = { .layout_version = MWAN_LAYOUT_VERSION,
				.fast_path = 1,
				.ready = 1,
				.lan_plen6 = 64 };
	struct mwan_wan att = {
		.ifindex = 1, /* lo: resolvable in any namespace */
		.fwmark = 0x100,
		.gw4 = ip4("100.64.1.1"),
		.gw_mac = { 0x02, 0, 0, 0, 0x01, 0x01 },
		.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP |
			 MWAN_WAN_NEIGH4 | MWAN_WAN_NEIGH6,
		.weight = 3,
		.tier = 1,
		.health = MWAN_HEALTH_UP,
		.gw6_mac = { 0x02, 0, 0, 0, 0x01, 0x01 },
	};
	struct mwan_wan webpass = {
		.ifindex = 999999, /* no such interface */
		.fwmark = 0x200,
		.gw4 = ip4("100.64.2.1"),
		.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP,
		.weight = 1,
		.tier = 1,
		.health = MWAN_HEALTH_DOWN,
	};
	struct mwan_wan backup = {
		.ifindex = 1,
		.fwmark = 0x300,
		.flags = MWAN_WAN_CONFIGURED | MWAN_WAN_LINK_UP,
		.weight = 1,
		.tier = 2,
		.health = MWAN_HEALTH_UP,
	};
	/* a name left in a slot that is no longer configured */
	struct mwan_wan ghost = { .ifindex = 1, .weight = 1, .tier = 1 };
	__u32 zero = 0;

	inet_pton(AF_INET6, "3d06:bad:b01:fe::", cfg.lan_net6);
	inet_pton(AF_INET6, "2001:db8:a::1", att.gw6);
	cfg.n_lans = 1;
	cfg.lan[0].ifindex = 1; /* lo, as att */
	put(M_CFG, &zero, &cfg);
	put_wan(0, "att", &att);
	put_wan(1, "webpass", &webpass);
	put_wan(2, "backup", &backup);
	put_wan(3, "ghost", &ghost);
}

static void put_nat(const char *internal, const __u8 *mac, const char *att,
		    const char *webpass)
{
	struct mwan_nat4 v = { 0 };
	__be32 k = ip4(internal);

	if (mac) {
		memcpy(v.mac, mac, 6);
		v.has_mac = 1;
	}
	v.ext[0] = att ? ip4(att) : 0;
	v.ext[1] = webpass ? ip4(webpass) : 0;
	put(M_NAT4, &k, &v);
}

static void fill_nat(void)
{
	static const __u8 mac2[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	/* inserted out of order: bpfctl sorts by address */
	put_nat("10.250.250.3", NULL, "198.51.100.194", NULL);
	put_nat("10.250.250.2", mac2, "198.51.100.193", "203.0.113.241");
}

/* mwan_npt[id]: lan.ipv6 3d06:bad:b01:fe::/64 behind subnet `subnet` of
 * delegated/dlen, as the loader writes it.
 */
static void put_npt(__u32 id, const char *delegated, unsigned int dlen,
		    unsigned int subnet, __u8 source, __u64 valid_until_ns)
{
	struct in6_addr d, lan, ext;
	struct mwan_npt v;
	char err[256];

	assert_int_equal(inet_pton(AF_INET6, delegated, &d), 1);
	assert_int_equal(inet_pton(AF_INET6, "3d06:bad:b01:fe::", &lan), 1);
	assert_int_equal(mwan_npt_derive(&d, dlen, subnet, 64, &ext, err,
					 sizeof(err)),
			 0);
	mwan_npt_fill(&lan, &ext, 64, &v);
	memcpy(v.delegated, &d, 16);
	v.delegated_len = dlen;
	v.source = source;
	v.subnet = subnet;
	v.valid_until_ns = valid_until_ns;
	v.set_ns = now_ns();
	put(M_NPT, &id, &v);
}

/* att: delegated, an hour left; webpass: delegated but expired (the
 * loader not running to delete it); backup: static.
 */
static void fill_npt(void)
{
	const __u64 s = 1000000000ULL, now = now_ns();
	__u32 zero = 0, mask = (1U << 0) | (1U << 2);

	put_npt(0, "2001:db8:a0:100::", 56, 0xfe, MWAN_NPT_PD, now + 3600 * s);
	put_npt(1, "2001:db8:b0:200::", 56, 0xfe, MWAN_NPT_PD, now - s);
	put_npt(2, "2001:db8:c0:300::", 56, 1, MWAN_NPT_STATIC, 0);
	put(M_NPT_MASK, &zero, &mask);
}

/* mwan_health[id] as the loader writes it: updated_ns now (the loader's
 * heartbeat, minus heartbeat_age_s), since a fixed time ago.
 */
static void put_health(__u32 id, __u32 reason, __u8 health, __u64 ago_s,
		       __u64 since_realtime_s, unsigned int n,
		       const struct mwan_probe_stat *t, __u64 heartbeat_age_s)
{
	const __u64 s = 1000000000ULL, now = now_ns();
	struct mwan_health_info v;

	memset(&v, 0, sizeof(v));
	fx.health_ns = now;
	v.updated_ns = now - heartbeat_age_s * s;
	v.since_ns = now - ago_s * s;
	v.since_realtime_s = since_realtime_s;
	v.reason = reason;
	v.health = health;
	v.holding = reason == MWAN_HR_HOLD_DOWN;
	v.n_targets = n;
	memcpy(v.target, t, n * sizeof(*t));
	put(M_HEALTH, &id, &v);
}

/* att: recovered 2m05s ago, one target answering, one silent; webpass:
 * down for a minute, a TCP target at 60 % loss; backup: no probes. (On
 * CLOCK_MONOTONIC, a day ahead of the machine's: enter_time_namespace.)
 */
static void fill_health(__u64 heartbeat_age_s)
{
	const struct mwan_probe_stat att[2] = {
		{ .rtt_avg_us = 412,
		  .jitter_us = 51,
		  .loss_permille = 150,
		  .answered_last = 1,
		  .sent = 20,
		  .received = 17 },
		{ .loss_permille = 1000, .sent = 20 },
	};
	const struct mwan_probe_stat webpass[1] = {
		{ .rtt_avg_us = 20480,
		  .jitter_us = 1500,
		  .loss_permille = 600,
		  .sent = 1200,
		  .received = 480 },
	};

	put_health(0, MWAN_HR_RECOVERED, MWAN_HEALTH_UP, 125, 1795300229, 2,
		   att, heartbeat_age_s);
	put_health(1, MWAN_HR_LOST_ROUNDS, MWAN_HEALTH_DOWN, 61, 1795210000, 1,
		   webpass, heartbeat_age_s);
	put_health(2, MWAN_HR_NO_PROBES, MWAN_HEALTH_UP, 7, 1795296632, 0, NULL,
		   heartbeat_age_s);
}

static void put_flow(__u8 family, __u8 proto, const char *inner, __u16 sport,
		     const char *remote, __u16 dport, const struct mwan_flow *v)
{
	struct mwan_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = family;
	k.proto = proto;
	k.sport = htons(sport);
	k.dport = htons(dport);
	if (family == AF_INET) {
		k.inner4 = ip4(inner);
		k.remote4 = ip4(remote);
	} else {
		inet_pton(AF_INET6, inner, k.inner6);
		inet_pton(AF_INET6, remote, k.remote6);
	}
	put(M_FLOWS, &k, v);
}

static void fill_flows(void)
{
	const __u64 s = 1000000000ULL, now = now_ns();
	struct mwan_flow tcp = {
		.created_ns = now - 100 * s - s / 20, /* 100.05 s ago */
		.seen_ns = now - 2 * s - s / 2,
		.pkts_out = 10,
		.bytes_out = 840,
		.pkts_in = 9,
		.bytes_in = 12000,
		.ext4 = ip4("198.51.100.193"),
		.wan = 0,
		.origin = MWAN_ORIGIN_LAN,
		.moves = 1,
	};
	struct mwan_flow udp = {
		.created_ns = now - 5 * s,
		.seen_ns = now - 5 * s,
		.pkts_out = 1,
		.bytes_out = 60,
		.pkts_in = 2,
		.bytes_in = 120,
		.ext4 = ip4("203.0.113.242"),
		.wan = 1,
		.origin = MWAN_ORIGIN_WAN,
	};
	struct mwan_flow icmp = {
		/* clock skew, far enough ahead to stay ahead while the
		 * tests run
		 */
		.created_ns = now + 3600 * s,
		.seen_ns = now + 3600 * s,
		.pkts_out = 3,
		.bytes_out = 252,
		.wan = 0,
		.origin = MWAN_ORIGIN_LAN,
	};
	struct mwan_flow gre = { .created_ns = now, .seen_ns = now, .wan = 2 };

	put_flow(AF_INET, IPPROTO_TCP, "10.250.250.2", 40000, "192.0.2.10", 443,
		 &tcp);
	put_flow(AF_INET, IPPROTO_UDP, "10.250.250.3", 5353, "192.0.2.1", 53,
		 &udp);
	put_flow(AF_INET, IPPROTO_ICMP, "10.250.250.2", 77, "192.0.2.1", 0,
		 &icmp);
	put_flow(AF_INET, IPPROTO_GRE, "10.250.250.4", 0, "192.0.2.10", 0,
		 &gre);
	/* IPv6: ext from att's prefix; webpass's has expired */
	put_flow(AF_INET6, IPPROTO_TCP, "3d06:bad:b01:fe::2", 1,
		 "2001:db8:ffff::10", 80, &tcp);
	put_flow(AF_INET6, IPPROTO_UDP, "3d06:bad:b01:fe::3", 5353,
		 "2001:db8:ffff::1", 53, &udp);
}

/* Per-CPU slots are written as one value per possible CPU. */
static void put_percpu(int m, __u32 key, const __u64 *per_cpu_slot,
		       unsigned int n_u64, bool scale_by_cpu)
{
	__u64 *vals = calloc((size_t)fx.ncpus * n_u64, sizeof(__u64));
	unsigned int cpu, i;

	assert_non_null(vals);
	for (cpu = 0; cpu < (unsigned int)fx.ncpus; cpu++)
		for (i = 0; i < n_u64; i++)
			vals[cpu * n_u64 + i] =
				per_cpu_slot[i] * (scale_by_cpu ? cpu + 1 : 1);
	put(m, &key, vals);
	free(vals);
}

static void fill_stats(void)
{
	const __u64 one = 1;
	const struct mwan_wan_counters att = { 5, 500, 7, 7000 };

	put_percpu(M_STATS, MWAN_DROP_NO_WAN, &one, 1, false);
	put_percpu(M_STATS, MWAN_EV_FLOW_NEW, &one, 1, true);
	put_percpu(M_WANSTAT, 0, (const __u64 *)&att, 4, false);
}

/* 2 internal_src_on_wan per CPU at att, 1 no_usable_wan per CPU on the
 * LAN side; h6 (no mapping) dropped at webpass 2 s before setup_ns.
 */
static void fill_drops(void)
{
	const __u64 one = 1, two = 2;
	struct mwan_unmapped u = { .packets = 3, .wan = 1 };
	__be32 h6 = ip4("10.250.250.6");

	put_percpu(M_WANDROP, 0 * MWAN_DROP_MAX_ + MWAN_DROP_INTERNAL_SRC, &two,
		   1, false);
	put_percpu(M_WANDROP,
		   MWAN_WANDROP_OTHER * MWAN_DROP_MAX_ + MWAN_DROP_NO_WAN, &one,
		   1, false);
	put_percpu(M_WANDROP,
		   MWAN_WANDROP_LAN * MWAN_DROP_MAX_ + MWAN_DROP_BCP38_SRC,
		   &two, 1, false);
	u.last_ns = now_ns() - 2000000000ULL;
	u.dst = ip4("192.0.2.10");
	put(M_UNMAPPED, &h6, &u);
}

static int group_setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < M_N; i++)
		fx.fd[i] = -1;
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	find_bpfctl();
	fx.ncpus = libbpf_num_possible_cpus();
	if (make_dirs() || make_maps()) {
		if (!fx.skip_why)
			fx.skip_why = strerror(errno);
		cleanup();
		return 0; /* each test reports the skip */
	}
	fx.setup_ns = now_ns();
	fill_wans();
	fill_nat();
	fill_npt();
	fill_flows();
	fill_stats();
	fill_drops();
	/* local times in the text output, as UTC */
	setenv("TZ", "UTC", 1);
	fx.run_lock = mwan_run_lock(fx.run);
	if (fx.run_lock < 0 ||
	    write_file(fx.run, "status",
		       "# mwan-loader attachments\n"
		       "kernel 6.1.0-57-amd64\n"
		       "prog mwan_xdp 100029 11\n"
		       "prog mwan_tc_in 52331 6\n"
		       "prog mwan_tc_out 9000000000 1\n"
		       "prog short 1\n"
		       "iface eth3 lan native single clsact\n"
		       /* a loader from before tc_mode */
		       "iface eth1 wan:att generic single\n"
		       "target att 0 192.0.2.1\n"
		       "target att 1 2001:db8:ffff::1\n"
		       "target webpass 0 tcp:192.0.2.10:443\n"
		       "target nosuch 0 192.0.2.99\n"
		       "target att 9 192.0.2.99\n"
		       "garbage\n")) {
		cleanup();
		return -1;
	}
	fx.ready = true;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	return 0;
}

/* Every test starts from the loader's view: no operator overrides, and
 * health records just written.
 */
static int reset_admin(void **state)
{
	__u32 id, v = MWAN_ADMIN_AUTO;

	(void)state;
	if (!fx.ready)
		return 0;
	fill_health(0);
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (bpf_map_update_elem(fx.fd[M_ADMIN], &id, &v, BPF_ANY))
			return -1;
	return 0;
}

static void need_maps(void)
{
	if (!fx.ready) {
		print_message("skipped: %s\n", fx.skip_why ? fx.skip_why : "?");
		skip();
	}
}

static void set_admin(__u32 id, __u32 v)
{
	put(M_ADMIN, &id, &v);
}

/* ---- running bpfctl -------------------------------------------------- */

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs bpfctl with the fixture's directories; stdout lands in out,
 * stderr in err; returns the exit status.
 */
static int run(const char *fmt, ...)
{
	char args[512], cmd[PATH_MAX + 1024], errpath[160];
	va_list ap;
	size_t n;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	path_in(errpath, sizeof(errpath), fx.dir, "stderr");
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>'%s'", fx.bpfctl, args, errpath);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	fx.run_end_ns = now_ns();
	read_file(errpath, err, sizeof(err));
	unlink(errpath);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#define RUN(...) run("-p '%s' -r '%s' " __VA_ARGS__)
#define DIRS fx.pins, fx.run

/* A run dir no loader holds: bpfctl wan writes the maps itself. */
static const char *norun_dir(void)
{
	static char p[160];

	path_in(p, sizeof(p), fx.dir, "no-such-run-dir");
	return p;
}
#define NOLOADER fx.pins, norun_dir()
#define DIRECT_NOTE                                             \
	"bpfctl: mwan-loader is not running: wrote mwan_admin " \
	"directly (the next loader keeps it)\n"

/* A second opinion on the JSON syntax when python3 is around. */
static void assert_valid_json(const char *s)
{
	FILE *p;

	if (access("/usr/bin/python3", X_OK))
		return;
	p = popen("/usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)'",
		  "w");
	assert_non_null(p);
	fputs(s, p);
	assert_int_equal(pclose(p), 0);
}

static void assert_json(const char *expect)
{
	assert_string_equal(out, expect);
	assert_valid_json(out);
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)))
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* The table the datapath would read now: in the half the live config
 * slot names.
 */
static void get_steer(__u32 mask, struct mwan_steer *st)
{
	struct mwan_cfg c;
	__u32 slot, key;

	assert_int_equal(
		mwan_cfg_read_live(fx.fd[M_LIVE], fx.fd[M_CFG], &slot, &c), 0);
	key = (c.steer_half & 1) * MWAN_STEER_MASKS + mask;
	assert_int_equal(bpf_map_lookup_elem(fx.fd[M_STEER], &key, st), 0);
}

static void snapshot_admin(__u32 *v)
{
	__u32 id;

	for (id = 0; id < MWAN_MAX_WANS; id++)
		assert_int_equal(
			bpf_map_lookup_elem(fx.fd[M_ADMIN], &id, &v[id]), 0);
}

/* ---- status ---------------------------------------------------------- */

#define ATT_TAIL                                                  \
	"\"health\":\"up\",\"link\":\"up\",\"interface\":\"lo\"," \
	"\"ifindex\":1,\"weight\":3,\"tier\":1,"                  \
	"\"gateway4\":\"100.64.1.1\","                            \
	"\"gateway_mac\":\"02:00:00:00:01:01\",\"l3\":false,"     \
	"\"fwmark\":256,"                                         \
	"\"gateway6\":\"2001:db8:a::1\","                         \
	"\"gateway6_mac\":\"02:00:00:00:01:01\","                 \
	"\"prefix\":\"2001:db8:a0:100::/56\","                    \
	"\"external\":\"2001:db8:a0:1fe::/64\","                  \
	"\"prefix_source\":\"pd\",\"prefix_valid_s\":N,"
#define WEBPASS_TAIL                                                     \
	"\"health\":\"down\",\"link\":\"up\",\"interface\":null,"        \
	"\"ifindex\":999999,\"weight\":1,\"tier\":1,"                    \
	"\"gateway4\":\"100.64.2.1\",\"gateway_mac\":null,\"l3\":false," \
	"\"fwmark\":512,\"gateway6\":null,\"gateway6_mac\":null,"        \
	"\"prefix\":null,\"external\":null,\"prefix_source\":null,"      \
	"\"prefix_valid_s\":null,"
#define BACKUP_TAIL                                                \
	"\"health\":\"up\",\"link\":\"up\",\"interface\":\"lo\","  \
	"\"ifindex\":1,\"weight\":1,\"tier\":2,\"gateway4\":null," \
	"\"gateway_mac\":null,\"l3\":false,\"fwmark\":768,"        \
	"\"gateway6\":null,\"gateway6_mac\":null,"                 \
	"\"prefix\":\"2001:db8:c0:300::/56\","                     \
	"\"external\":\"2001:db8:c0:301::/64\","                   \
	"\"prefix_source\":\"static\",\"prefix_valid_s\":null,"
#define ATT_HEALTH                                                    \
	",\"since\":{\"ago_s\":N,\"time\":\"2026-11-21T22:30:29Z\"}," \
	"\"reason\":\"recovered\",\"holding\":false,\"targets\":["    \
	"{\"address\":\"192.0.2.1\",\"rtt_avg_ms\":0.412,"            \
	"\"jitter_ms\":0.051,\"loss_pct\":15.0,\"sent\":20,"          \
	"\"received\":17},"                                           \
	"{\"address\":\"2001:db8:ffff::1\",\"rtt_avg_ms\":null,"      \
	"\"jitter_ms\":null,\"loss_pct\":100.0,\"sent\":20,\"received\":0}]"
#define WEBPASS_HEALTH                                                \
	",\"since\":{\"ago_s\":N,\"time\":\"2026-11-20T21:26:40Z\"}," \
	"\"reason\":\"lost_rounds\",\"holding\":false,\"targets\":["  \
	"{\"address\":\"tcp:192.0.2.10:443\",\"rtt_avg_ms\":20.480,"  \
	"\"jitter_ms\":1.500,\"loss_pct\":60.0,\"sent\":1200,"        \
	"\"received\":480}]"
#define BACKUP_HEALTH                                                 \
	",\"since\":{\"ago_s\":N,\"time\":\"2026-11-21T21:30:32Z\"}," \
	"\"reason\":\"no_probes\",\"holding\":false,\"targets\":[]"
/* Every reason a WAN carries no new flows of its own (bpfctl status). */
#define REASONS(list) ",\"reasons\":[" list "]"
#define IFACES                                                            \
	"\"interfaces\":[{\"name\":\"eth3\",\"role\":\"lan\","            \
	"\"xdp_mode\":\"native\",\"dispatcher\":\"single\","              \
	"\"tc_mode\":\"clsact\"},"                                        \
	"{\"name\":\"eth1\",\"role\":\"wan:att\","                        \
	"\"xdp_mode\":\"generic\",\"dispatcher\":\"single\","             \
	"\"tc_mode\":null}],"                                             \
	"\"kernel\":\"6.1.0-57-amd64\","                                  \
	"\"programs\":[{\"name\":\"mwan_xdp\",\"verified_insns\":100029," \
	"\"limit_pct\":11},"                                              \
	"{\"name\":\"mwan_tc_in\",\"verified_insns\":52331,\"limit_pct\":6}]"

static void mask_number(char *s, const char *key, const double *lo,
			const double *hi, int n);

/* Seconds from t (CLOCK_MONOTONIC) to the end of the last bpfctl run. */
static double since(__u64 t)
{
	return (double)(fx.run_end_ns - t) / 1e9;
}

/* The duration bpfctl prints after anchor ("7s", "2m05s", "1h01m") must
 * be at least nominal_s and at most the time since the value was
 * stamped (stamped_ns) later; it is replaced by nominal, padded to the
 * same column, so the rest of the line can be compared exactly.
 */
static void norm_ago(char *s, const char *anchor, const char *nominal,
		     double nominal_s, __u64 stamped_ns)
{
	char *p = strstr(s, anchor), *end, repl[32];
	unsigned long a, b;
	double v;
	int col;

	if (!p)
		fail_msg("'%s' not in:\n%s", anchor, s);
	p += strlen(anchor);
	a = strtoul(p, &end, 10);
	assert_true(end > p);
	if (*end == 'h' || *end == 'm') {
		char unit = *end;

		b = strtoul(end + 1, &end, 10);
		v = unit == 'h' ? a * 3600.0 + b * 60.0 : a * 60.0 + b;
		assert_true(*end == (unit == 'h' ? 'm' : 's'));
	} else {
		v = a;
		assert_true(*end == 's');
	}
	end++;
	if (v < nominal_s || v > nominal_s + since(stamped_ns) + 1)
		fail_msg("%s: %g s, expected %g..%g", anchor, v, nominal_s,
			 nominal_s + since(stamped_ns) + 1);
	while (*end == ' ')
		end++;
	col = (int)(end - p);
	snprintf(repl, sizeof(repl), "%-*s", col, nominal);
	memmove(p + strlen(repl), end, strlen(end) + 1);
	memcpy(p, repl, strlen(repl));
}

static void expect_status(const char *failopen, const char *wans)
{
	const double lo[] = { 3600 - since(fx.setup_ns) - 1 }, hi[] = { 3600 };
	const double ago_lo[] = { 125, 61, 7 },
		     ago_hi[] = { 125 + since(fx.health_ns) + 1,
				  61 + since(fx.health_ns) + 1,
				  7 + since(fx.health_ns) + 1 };
	unsigned int n = fx.ncpus, made = n * (n + 1) / 2;
	char expect[8192];

	assert_valid_json(out);
	/* att's remaining lifetime; the others are null */
	mask_number(out, "prefix_valid_s", lo, hi, 1);
	mask_number(out, "ago_s", ago_lo, ago_hi, 3);

	snprintf(expect, sizeof(expect),
		 "{\"loader\":{\"running\":true,\"pid\":%d},"
		 "\"fast_path\":true,\"ready\":true,\"failopen\":%s,"
		 "\"health_frozen\":false,"
		 "\"wans\":[%s],"
		 /* fill_flows' 6, all in mwan_flows (no mwan_flows_in here);
		  * fill_stats counted flow_new 1 + 2 + ... per CPU
		  */
		 "\"flow_tables\":[{\"table\":\"lan\",\"entries\":6,"
		 "\"size\":4096,\"evicted\":%u,\"near_full\":false}]," IFACES
		 "}\n",
		 (int)getpid(), failopen, wans, made > 6 ? made - 6 : 0);
	assert_string_equal(out, expect);
}

static void test_status(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("-j status", DIRS), 0);
	expect_status(
		"false",
		"{\"name\":\"att\",\"state\":\"up\",\"admin\":\"auto\"," ATT_TAIL
		"\"usable\":true,\"failopen\":false" ATT_HEALTH REASONS(
			"") "},"
			    "{\"name\":\"webpass\",\"state\":\"down\",\"admin\":\"auto\"," WEBPASS_TAIL
			    "\"usable\":false,\"failopen\":false" WEBPASS_HEALTH REASONS(
				    "\"health down\"") "},"
						       /* healthy, but tier 1 is usable: no new flows */
						       "{\"name\":\"backup\",\"state\":\"down\",\"admin\":\"auto\"," BACKUP_TAIL
						       "\"usable\":true,\"failopen\":false" BACKUP_HEALTH
							       REASONS("") "}");
	assert_string_equal(err, "");
}

static void test_status_admin_override(void **state)
{
	(void)state;
	need_maps();
	set_admin(0, MWAN_ADMIN_DOWN); /* healthy, forced down */
	set_admin(1, MWAN_ADMIN_UP); /* unhealthy, forced up */
	assert_int_equal(RUN("-j status", DIRS), 0);
	expect_status(
		"false",
		"{\"name\":\"att\",\"state\":\"down\",\"admin\":\"down\"," ATT_TAIL
		"\"usable\":false,\"failopen\":false" ATT_HEALTH REASONS(
			"\"admin down\"") "},"
					  /* forced up: no reason counts */
					  "{\"name\":\"webpass\",\"state\":\"up\",\"admin\":\"up\"," WEBPASS_TAIL
					  "\"usable\":true,\"failopen\":false" WEBPASS_HEALTH REASONS(
						  "") "},"
						      "{\"name\":\"backup\",\"state\":\"down\",\"admin\":\"auto\"," BACKUP_TAIL
						      "\"usable\":true,\"failopen\":false" BACKUP_HEALTH
							      REASONS("") "}");
}

/* With tier 1 gone the failover WAN takes new flows. */
static void test_status_failover_tier(void **state)
{
	(void)state;
	need_maps();
	set_admin(0, MWAN_ADMIN_DOWN); /* webpass is unhealthy already */
	assert_int_equal(RUN("-j status", DIRS), 0);
	expect_status(
		"false",
		"{\"name\":\"att\",\"state\":\"down\",\"admin\":\"down\"," ATT_TAIL
		"\"usable\":false,\"failopen\":false" ATT_HEALTH REASONS(
			"\"admin down\"") "},"
					  "{\"name\":\"webpass\",\"state\":\"down\",\"admin\":\"auto\"," WEBPASS_TAIL
					  "\"usable\":false,\"failopen\":false" WEBPASS_HEALTH REASONS(
						  "\"health down\"") "},"
								     "{\"name\":\"backup\",\"state\":\"up\",\"admin\":\"auto\"," BACKUP_TAIL
								     "\"usable\":true,\"failopen\":false" BACKUP_HEALTH
									     REASONS("") "}");
}

static void test_status_failopen(void **state)
{
	(void)state;
	need_maps();
	set_admin(0, MWAN_ADMIN_DOWN);
	set_admin(2, MWAN_ADMIN_DOWN); /* webpass is unhealthy already */
	assert_int_equal(RUN("-j status", DIRS), 0);
	expect_status(
		"true",
		"{\"name\":\"att\",\"state\":\"up\",\"admin\":\"down\"," ATT_TAIL
		"\"usable\":false,\"failopen\":true" ATT_HEALTH REASONS(
			"\"admin down\"") "},"
					  "{\"name\":\"webpass\",\"state\":\"up\",\"admin\":\"auto\"," WEBPASS_TAIL
					  "\"usable\":false,\"failopen\":true" WEBPASS_HEALTH REASONS(
						  "\"health down\"") "},"
								     /* fail-open, like steering, stays within the best tier */
								     "{\"name\":\"backup\",\"state\":\"down\",\"admin\":\"down\"," BACKUP_TAIL
								     "\"usable\":false,\"failopen\":false" BACKUP_HEALTH
									     REASONS("\"admin down\"") "}");
}

/* A WAN the kernel cannot route: every reason by name, in JSON and in
 * the text table; unusable even though link and probes are up, and no
 * fail-open candidate.
 */
static void test_status_blocked(void **state)
{
	__u32 id = 0;
	struct mwan_wan w;

	(void)state;
	need_maps();
	assert_int_equal(bpf_map_lookup_elem(fx.fd[M_WANS], &id, &w), 0);
	w.blocked = MWAN_WAN_BLOCK_GW_OFFLINK | MWAN_WAN_BLOCK_NO_ROUTE;
	put(M_WANS, &id, &w);
	assert_int_equal(RUN("-j status", DIRS), 0);
	assert_valid_json(out);
	assert_non_null(strstr(
		out,
		"{\"name\":\"att\",\"state\":\"down\",\"admin\":\"auto\",\"health\":\"up\",\"link\":\"up\","));
	assert_non_null(strstr(
		out,
		"\"reasons\":[\"gateway not on-link\",\"no route\"]},{\"name\":\"webpass\""));
	/* webpass is down by health: backup (tier 2) takes the flows */
	assert_non_null(strstr(out, "{\"name\":\"backup\",\"state\":\"up\","));
	assert_int_equal(RUN("status", DIRS), 0);
	assert_non_null(
		strstr(out, " 0x100  blocked: gateway not on-link, no route"));
	w.blocked = 0;
	put(M_WANS, &id, &w);
}

static void test_status_no_loader(void **state)
{
	char norun[160];

	(void)state;
	need_maps();
	path_in(norun, sizeof(norun), fx.dir, "no-such-run-dir");
	assert_int_equal(run("-j -p '%s' -r '%s' status", fx.pins, norun), 0);
	assert_non_null(
		strstr(out, "{\"loader\":{\"running\":false,\"pid\":null},"));
	assert_non_null(strstr(
		out, ",\"interfaces\":[],\"kernel\":null,\"programs\":[]}\n"));
	assert_non_null(strstr(out, ",\"health_frozen\":true,"));
	/* no RUN_DIR/status and no -c: the targets have no address */
	assert_non_null(strstr(
		out, "\"targets\":[{\"address\":null,\"rtt_avg_ms\":0.412,"));
	assert_valid_json(out);
	assert_int_equal(run("-p '%s' -r '%s' status", fx.pins, norun), 0);
	assert_non_null(strstr(
		out, "\nhealth data frozen: mwan-loader is not running\n\n"));
	assert_non_null(strstr(out, " recovered    #0    "));
}

/* A stopped loader took its status file along; -c names the targets. */
static void test_status_targets_from_config(void **state)
{
	char norun[160], cfg[160];

	(void)state;
	need_maps();
	assert_int_equal(
		write_file(
			fx.dir, "mwan.yaml",
			"lan:\n"
			"  interface: eth3\n"
			"  ipv4: 10.250.250.0/29\n"
			"wans:\n"
			"  att:\n"
			"    interface: eth1\n"
			"    gateway4: 100.64.1.1\n"
			"    probe: { targets: [192.0.2.7, 'tcp:[2001:db8::7]:80'] }\n"
			"  webpass:\n"
			"    interface: eth2\n"
			"    gateway4: 100.64.2.1\n"),
		0);
	path_in(cfg, sizeof(cfg), fx.dir, "mwan.yaml");
	path_in(norun, sizeof(norun), fx.dir, "no-such-run-dir");
	assert_int_equal(run("-j -c '%s' -p '%s' -r '%s' status", cfg, fx.pins,
			     norun),
			 0);
	assert_valid_json(out);
	assert_non_null(
		strstr(out, "\"targets\":[{\"address\":\"192.0.2.7\","));
	assert_non_null(strstr(out, "{\"address\":\"tcp:[2001:db8::7]:80\","));
	/* webpass probes nothing in that config */
	assert_non_null(strstr(
		out, "\"targets\":[{\"address\":null,\"rtt_avg_ms\":20.480,"));
}

/* Records older than 3 s: the loader runs but no longer writes them. */
static void test_status_frozen_stale(void **state)
{
	unsigned long age;
	char *p;

	(void)state;
	need_maps();
	fill_health(10);
	assert_int_equal(RUN("-j status", DIRS), 0);
	assert_valid_json(out);
	assert_non_null(
		strstr(out, ",\"failopen\":false,\"health_frozen\":true,"));
	assert_int_equal(RUN("status", DIRS), 0);
	assert_non_null(strstr(
		out,
		"\nhealth data frozen: mwan-loader has not updated it for "));
	p = strstr(out, "has not updated it for ") +
	    strlen("has not updated it for ");
	age = strtoul(p, &p, 10);
	assert_in_range(age, 10, (unsigned long)(10 + since(fx.health_ns)) + 1);
	assert_memory_equal(p, " s\n", 3);
	/* a fresh record: frozen only after 3 s, and a slow machine may
	 * take a second or two to run bpfctl
	 */
	fill_health(0);
	assert_int_equal(RUN("status", DIRS), 0);
	assert_null(strstr(out, "frozen"));
}

/* Recovered, waiting out the hold-down: still down for new flows. */
static void test_status_holding(void **state)
{
	const struct mwan_probe_stat t = { .rtt_avg_us = 1000,
					   .loss_permille = 0,
					   .sent = 40,
					   .received = 40 };

	(void)state;
	need_maps();
	put_health(1, MWAN_HR_HOLD_DOWN, MWAN_HEALTH_DOWN, 3, 1795300229, 1, &t,
		   0);
	put_health(0, MWAN_HR_LINK_DOWN, MWAN_HEALTH_DOWN, 59, 1795300229, 2,
		   (const struct mwan_probe_stat[2]){ { 0 } }, 0);
	assert_int_equal(RUN("-j status", DIRS), 0);
	assert_valid_json(out);
	assert_non_null(strstr(
		out,
		"\"reason\":\"hold_down\",\"holding\":true,\"targets\":[{\"address\":\"tcp:192.0.2.10:443\",\"rtt_avg_ms\":1.000,\"jitter_ms\":0.000,\"loss_pct\":0.0,\"sent\":40,\"received\":40}]"));
	assert_non_null(
		strstr(out, "\"reason\":\"link_down\",\"holding\":false,"));
	assert_int_equal(RUN("status", DIRS), 0);
	norm_ago(out, "\nwebpass         holding 2026-11-21 22:30:29 ", "3s", 3,
		 fx.health_ns);
	norm_ago(out, "\natt             down    2026-11-21 22:30:29 ", "59s",
		 59, fx.health_ns);
	assert_non_null(strstr(
		out,
		"\nwebpass         holding 2026-11-21 22:30:29 3s     hold_down    tcp:192.0.2.10:443       1.000    0.000       0.0% 40       40\n"));
	assert_non_null(strstr(
		out,
		"\natt             down    2026-11-21 22:30:29 59s    link_down    192.0.2.1                -        -           0.0% 0        0\n"));
}

/* A loader from before mwan_health: no health data, not an error. */
static void test_status_no_health_map(void **state)
{
	char p[256];

	(void)state;
	need_maps();
	path_in(p, sizeof(p), fx.pins, MWAN_MAP(health)->name);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(RUN("-j status", DIRS), 0);
	assert_valid_json(out);
	assert_string_equal(err, "");
	assert_non_null(strstr(out, ",\"health_frozen\":true,"));
	assert_non_null(strstr(
		out,
		"\"failopen\":false,\"since\":null,\"reason\":null,\"holding\":null,\"targets\":[],\"reasons\":["));
	assert_int_equal(RUN("status", DIRS), 0);
	assert_int_equal(bpf_obj_pin(fx.fd[M_HEALTH], p), 0);
	assert_non_null(strstr(
		out, "health data frozen: mwan-loader has not written any\n"));
	assert_non_null(strstr(
		out,
		"\natt             -       -                   -      -            -\n"));
}

static void test_status_text(void **state)
{
	static const char att6[] =
		"\nWAN             GATEWAY6                  GATEWAY6_MAC      PREFIX                    EXTERNAL                  SOURCE VALID\n"
		"att             2001:db8:a::1             02:00:00:00:01:01 2001:db8:a0:100::/56      2001:db8:a0:1fe::/64      pd     ";
	unsigned long valid;
	char line[64], *p;

	(void)state;
	need_maps();
	assert_int_equal(RUN("status", DIRS), 0);
	snprintf(line, sizeof(line), "loader: running (pid %d)\n",
		 (int)getpid());
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(
		out,
		"\natt             up    auto  up     up   lo              3      1    100.64.1.1      02:00:00:00:01:01 0x100\n"));
	assert_non_null(strstr(
		out,
		"\nwebpass         down  auto  down   up   #999999         1      1    100.64.2.1      unresolved        0x200\n"));
	assert_non_null(strstr(out, "standby"));
	assert_non_null(strstr(
		out,
		"\nINTERFACE       ROLE                 XDP      DISPATCHER TC\n"
		"eth3            lan                  native   single     clsact\n"
		"eth1            wan:att              generic  single     -\n"
		"\nkernel: 6.1.0-57-amd64\n"
		"PROGRAM         VERIFIED_INSNS OF_LIMIT\n"
		"mwan_xdp        100029         11 %\n"
		"mwan_tc_in      52331          6 %\n"));
	assert_null(strstr(out, "ghost"));
	assert_null(strstr(out, "frozen"));
	/* the probes' view, local time (TZ=UTC here) */
	norm_ago(out, "\natt             up      2026-11-21 22:30:29 ", "2m05s",
		 125, fx.health_ns);
	norm_ago(out, "\nwebpass         down    2026-11-20 21:26:40 ", "1m01s",
		 61, fx.health_ns);
	norm_ago(out, "\nbackup          up      2026-11-21 21:30:32 ", "7s", 7,
		 fx.health_ns);
	assert_non_null(strstr(
		out,
		"\nWAN             HEALTH  SINCE               AGO    REASON       TARGET                   RTT_MS   JITTER_MS LOSS   SENT     RECEIVED\n"
		"att             up      2026-11-21 22:30:29 2m05s  recovered    192.0.2.1                0.412    0.051      15.0% 20       17\n"
		"                                                                2001:db8:ffff::1         -        -         100.0% 20       0\n"
		"webpass         down    2026-11-20 21:26:40 1m01s  lost_rounds  tcp:192.0.2.10:443       20.480   1.500      60.0% 1200     480\n"
		"backup          up      2026-11-21 21:30:32 7s     no_probes    -\n"));
	/* IPv6: att's lifetime counts down from an hour */
	p = strstr(out, att6);
	assert_non_null(p);
	valid = strtoul(p + strlen(att6), &p, 10);
	assert_in_range(valid, (unsigned long)(3600 - since(fx.setup_ns) - 1),
			3600);
	assert_non_null(strstr(
		p,
		"s\nwebpass         -                         -                 -                         -                         -      -\n"
		"backup          -                         -                 2001:db8:c0:300::/56      2001:db8:c0:301::/64      static forever\n"));
}

/* ---- nat, flows, stats ----------------------------------------------- */

static void test_nat(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("-j nat", DIRS), 0);
	assert_json(
		"[{\"internal\":\"10.250.250.2\",\"mac\":\"02:00:00:00:00:02\","
		"\"external\":{\"att\":\"198.51.100.193\",\"webpass\":\"203.0.113.241\"}},"
		"{\"internal\":\"10.250.250.3\",\"mac\":null,"
		"\"external\":{\"att\":\"198.51.100.194\"}}]\n");
	assert_int_equal(RUN("nat", DIRS), 0);
	assert_non_null(strstr(
		out, "10.250.250.3    unresolved        att=198.51.100.194\n"));
}

/* Replaces the number after each "key": with N after checking it lies in
 * [lo, hi], so timing-dependent values can be compared exactly; there
 * must be exactly n numbers (null values are left alone).
 */
static void mask_number(char *s, const char *key, const double *lo,
			const double *hi, int n)
{
	char pat[32], *p = s, *end;
	double v;
	int i = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	while ((p = strstr(p, pat))) {
		p += strlen(pat);
		if (!strncmp(p, "null", 4))
			continue;
		v = strtod(p, &end);
		assert_true(end > p);
		if (i >= n)
			fail_msg("%s: more than %d numbers", key, n);
		if (v < lo[i] || v > hi[i])
			fail_msg("%s #%d = %g, expected %g..%g", key, i, v,
				 lo[i], hi[i]);
		*p = 'N';
		memmove(p + 1, end, strlen(end) + 1);
		i++;
	}
	assert_int_equal(i, n);
}

static void test_flows(void **state)
{
	/* icmp (future stamps), tcp, udp, gre, then IPv6 tcp and udp; in
	 * bpfctl's sort order
	 */
	static const double age_lo[] = { 0, 100, 4.9, 0, 100, 4.9 },
			    idle_lo[] = { 0, 2.4, 4.9, 0, 2.4, 4.9 };
	double age_hi[6], idle_hi[6], late;

	(void)state;
	need_maps();
	assert_int_equal(RUN("-j flows", DIRS), 0);
	assert_valid_json(out);
	/* as written, plus however long ago that was */
	late = since(fx.setup_ns) + 0.1;
	age_hi[0] = idle_hi[0] = 0; /* stamps in the future count as now */
	age_hi[1] = 100.05 + late;
	idle_hi[1] = 2.5 + late;
	age_hi[2] = idle_hi[2] = 5 + late;
	age_hi[3] = idle_hi[3] = late;
	age_hi[4] = age_hi[1];
	idle_hi[4] = idle_hi[1];
	age_hi[5] = idle_hi[5] = age_hi[2];
	mask_number(out, "age_s", age_lo, age_hi, 6);
	mask_number(out, "idle_s", idle_lo, idle_hi, 6);
	assert_string_equal(
		out,
		"[{\"proto\":\"icmp\",\"family\":\"ipv4\",\"src\":\"10.250.250.2\",\"sport\":77,"
		"\"dst\":\"192.0.2.1\",\"dport\":0,\"wan\":\"att\",\"origin\":\"lan\",\"ext\":null,"
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":3,\"bytes_out\":252,\"pkts_in\":0,\"bytes_in\":0,\"moves\":0},"
		"{\"proto\":\"tcp\",\"family\":\"ipv4\",\"src\":\"10.250.250.2\",\"sport\":40000,"
		"\"dst\":\"192.0.2.10\",\"dport\":443,\"wan\":\"att\",\"origin\":\"lan\",\"ext\":\"198.51.100.193\","
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":10,\"bytes_out\":840,\"pkts_in\":9,\"bytes_in\":12000,\"moves\":1},"
		"{\"proto\":\"udp\",\"family\":\"ipv4\",\"src\":\"10.250.250.3\",\"sport\":5353,"
		"\"dst\":\"192.0.2.1\",\"dport\":53,\"wan\":\"webpass\",\"origin\":\"wan\",\"ext\":\"203.0.113.242\","
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":1,\"bytes_out\":60,\"pkts_in\":2,\"bytes_in\":120,\"moves\":0},"
		"{\"proto\":47,\"family\":\"ipv4\",\"src\":\"10.250.250.4\",\"sport\":0,"
		"\"dst\":\"192.0.2.10\",\"dport\":0,\"wan\":\"backup\",\"origin\":\"lan\",\"ext\":null,"
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":0,\"bytes_out\":0,\"pkts_in\":0,\"bytes_in\":0,\"moves\":0},"
		"{\"proto\":\"tcp\",\"family\":\"ipv6\",\"src\":\"3d06:bad:b01:fe::2\",\"sport\":1,"
		"\"dst\":\"2001:db8:ffff::10\",\"dport\":80,\"wan\":\"att\",\"origin\":\"lan\","
		"\"ext\":\"2001:db8:a0:1fe:245b::2\","
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":10,\"bytes_out\":840,\"pkts_in\":9,\"bytes_in\":12000,\"moves\":1},"
		/* webpass's prefix has expired: no external address */
		"{\"proto\":\"udp\",\"family\":\"ipv6\",\"src\":\"3d06:bad:b01:fe::3\",\"sport\":5353,"
		"\"dst\":\"2001:db8:ffff::1\",\"dport\":53,\"wan\":\"webpass\",\"origin\":\"wan\",\"ext\":null,"
		"\"age_s\":N,\"idle_s\":N,\"pkts_out\":1,\"bytes_out\":60,\"pkts_in\":2,\"bytes_in\":120,\"moves\":0}]\n");
}

/* One's complement sum of an address's 16-bit words. */
static __u16 csum16(const char *addr)
{
	struct in6_addr a;
	__u32 sum = 0;
	int i;

	assert_int_equal(inet_pton(AF_INET6, addr, &a), 1);
	for (i = 0; i < 16; i += 2)
		sum += (a.s6_addr[i] << 8) | a.s6_addr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The external address test_flows expects is RFC 6296's: the /64 of the
 * delegated /56 numbered 0xfe, checksum-neutral to the internal one.
 */
static void test_flows_ext6(void **state)
{
	(void)state;
	assert_int_equal(csum16("3d06:bad:b01:fe::2"),
			 csum16("2001:db8:a0:1fe:245b::2"));
}

static void test_flows_filter(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("-j flows wan webpass", DIRS), 0);
	assert_valid_json(out);
	assert_non_null(strstr(out, "\"sport\":5353"));
	assert_null(strstr(out, "\"wan\":\"att\""));
	assert_int_equal(RUN("-j flows wan nope", DIRS), 2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "bpfctl: unknown WAN 'nope'\n"));
	assert_int_equal(RUN("flows", DIRS), 0);
	assert_non_null(strstr(
		out,
		"tcp    src=10.250.250.2 sport=40000 dst=192.0.2.10 dport=443 wan=att origin=lan ext=198.51.100.193 age=1"));
	assert_non_null(strstr(
		out,
		"s pkts_out=10 bytes_out=840 pkts_in=9 bytes_in=12000 moves=1\n"));
	assert_non_null(strstr(
		out,
		"tcp    src=3d06:bad:b01:fe::2 sport=1 dst=2001:db8:ffff::10 dport=80 wan=att origin=lan ext=2001:db8:a0:1fe:245b::2 age=1"));
	assert_non_null(strstr(
		out,
		"udp    src=3d06:bad:b01:fe::3 sport=5353 dst=2001:db8:ffff::1 dport=53 wan=webpass origin=wan ext=- age="));
}

static void test_stats(void **state)
{
	char expect[256];
	unsigned int n = fx.ncpus;

	(void)state;
	need_maps();
	assert_int_equal(RUN("-j stats", DIRS), 0);
	assert_valid_json(out);
	snprintf(
		expect, sizeof(expect),
		"{\"wans\":[{\"name\":\"att\",\"pkts_out\":%u,\"bytes_out\":%u,"
		"\"pkts_in\":%u,\"bytes_in\":%u},",
		5 * n, 500 * n, 7 * n, 7000 * n);
	assert_prefix(out, expect);
	assert_non_null(strstr(
		out,
		"{\"name\":\"webpass\",\"pkts_out\":0,\"bytes_out\":0,\"pkts_in\":0,\"bytes_in\":0}"));
	assert_non_null(strstr(out, "],\"drops\":{\"truncated\":0,"));
	snprintf(expect, sizeof(expect), "\"no_usable_wan\":%u,", n);
	assert_non_null(strstr(out, expect));
	snprintf(expect, sizeof(expect), "\"flow_new\":%u,", n * (n + 1) / 2);
	assert_non_null(strstr(out, expect));
	assert_non_null(strstr(out, "},\"events\":{\"xdp_forward_out\":0,"));
	assert_non_null(strstr(
		out,
		"\"pass_not_ready\":0,\"pass_no_xdp_tx\":0},\"drops_by_wan\":["));
}

/* Drops by where they happened: every configured WAN and "other", all
 * reasons in JSON, the non-zero ones in text; and the unmapped sources.
 */
static void test_stats_drops_by_wan(void **state)
{
	char expect[256], *p, *end;
	unsigned int n = fx.ncpus;
	double ago;

	(void)state;
	need_maps();
	assert_int_equal(RUN("-j stats", DIRS), 0);
	assert_valid_json(out);
	snprintf(
		expect, sizeof(expect),
		",\"drops_by_wan\":[{\"name\":\"att\",\"kind\":\"wan\",\"drops\":{\"truncated\":0,\"internal_src_on_wan\":%u,\"private_src_on_wan\":0,",
		2 * n);
	assert_non_null(strstr(out, expect));
	assert_non_null(strstr(
		out,
		"{\"name\":\"webpass\",\"kind\":\"wan\",\"drops\":{\"truncated\":0,\"internal_src_on_wan\":0,"));
	assert_non_null(strstr(
		out, "{\"name\":\"backup\",\"kind\":\"wan\",\"drops\":{"));
	/* what a LAN sent that may not leave, at the LAN's interface */
	snprintf(expect, sizeof(expect), "\"bcp38_src\":%u,", 2 * n);
	p = strstr(
		out,
		"{\"name\":\"lo\",\"kind\":\"lan\",\"drops\":{\"truncated\":0,");
	assert_non_null(p);
	assert_non_null(strstr(p, expect));
	snprintf(expect, sizeof(expect), "\"no_usable_wan\":%u,", n);
	p = strstr(
		out,
		"{\"name\":\"other\",\"kind\":\"other\",\"drops\":{\"truncated\":0,");
	assert_non_null(p);
	assert_non_null(strstr(p, expect));
	p = strstr(
		out,
		"],\"unmapped\":[{\"src\":\"10.250.250.6\",\"dst\":\"192.0.2.10\",\"wan\":\"webpass\",\"packets\":3,\"ago_s\":");
	assert_non_null(p);
	ago = strtod(
		strchr(p, ':') +
			strlen(":[{\"src\":\"10.250.250.6\",\"dst\":\"192.0.2.10\",\"wan\":\"webpass\",\"packets\":3,\"ago_s\":"),
		&end);
	assert_true(ago >= 2.0 && ago <= 2.0 + since(fx.setup_ns) + 0.001);
	assert_string_equal(end, "}]}\n");

	assert_int_equal(RUN("stats", DIRS), 0);
	snprintf(expect, sizeof(expect),
		 "\nDROPS_AT        REASON                        PACKETS\n"
		 "att             internal_src_on_wan      %12u\n"
		 "lo              bcp38_src                %12u\n"
		 "other           no_usable_wan            %12u\n",
		 2 * n, 2 * n, n);
	assert_non_null(strstr(out, expect));
	p = strstr(
		out,
		"\nunmapped LAN sources (dropped):\nSOURCE          LAST_DST        WAN                PACKETS LAST\n"
		"10.250.250.6    192.0.2.10      webpass                  3 ");
	assert_non_null(p);
	ago = strtod(strstr(p, "webpass                  3 ") + 27, &end);
	assert_true(ago >= 2.0 && ago <= 2.0 + since(fx.setup_ns) + 0.001);
	assert_prefix(end, " s ago\n");
}

/* Every reason in the X-macros appears, zero or not, exactly once in
 * the totals (drops_by_wan repeats them per WAN).
 */
static void test_stats_all_names(void **state)
{
#define NAME(n, s) s,
	static const char *const names[] = { MWAN_DROPS(NAME)
						     MWAN_EVENTS(NAME) };
#undef NAME
	char key[64];
	unsigned int i;
	char *p;

	(void)state;
	need_maps();
	assert_int_equal(RUN("-j stats", DIRS), 0);
	p = strstr(out, ",\"drops_by_wan\":");
	assert_non_null(p);
	*p = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(key, sizeof(key), "\"%s\":", names[i]);
		p = strstr(out, key);
		assert_non_null(p);
		assert_null(strstr(p + 1, key));
	}
	assert_int_equal(RUN("stats", DIRS), 0);
	assert_non_null(strstr(
		out, "\ndrops:\n  truncated                          0\n"));
}

/* ---- stats --prometheus ---------------------------------------------- */

/* tests/unit/prom_check.py, from the source tree or from build/tests/. */
static const char *prom_check_path(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX - 64];
	ssize_t n;

	if (getenv("MWAN_SRCDIR")) {
		snprintf(path, sizeof(path), "%s/tests/unit/prom_check.py",
			 getenv("MWAN_SRCDIR"));
		return path;
	}
	if (!access("tests/unit/prom_check.py", R_OK))
		return "tests/unit/prom_check.py";
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(path, sizeof(path), "%s/../../tests/unit/prom_check.py", self);
	return path;
}

static char parsed[OUT_MAX];

/* Runs prom_check.py [flags] on text: Python's prometheus_client parser
 * and the format's line rules. Its sample lines land in parsed, after a
 * newline; returns its exit status.
 */
static int prom_check(const char *flags, const char *text)
{
	char file[160], errpath[160], cmd[PATH_MAX + 512];
	size_t n;
	FILE *p;
	int st;

	path_in(file, sizeof(file), fx.dir, "metrics.prom");
	path_in(errpath, sizeof(errpath), fx.dir, "prom_check.err");
	p = fopen(file, "w");
	assert_non_null(p);
	fputs(text, p);
	assert_int_equal(fclose(p), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' %s '%s' 2>'%s'",
		 prom_check_path(), flags, file, errpath);
	p = popen(cmd, "r");
	assert_non_null(p);
	/* a leading newline: every line can be matched as "\nLINE\n" */
	parsed[0] = '\n';
	n = fread(parsed + 1, 1, sizeof(parsed) - 2, p);
	parsed[n + 1] = '\0';
	st = pclose(p);
	fx.run_end_ns = now_ns();
	read_file(errpath, err, sizeof(err));
	unlink(errpath);
	unlink(file);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The heartbeat age changes from run to run: returns it and masks it as
 * "N" in text.
 */
static double take_age(char *text)
{
	static const char key[] = "\nmwan_loader_heartbeat_age_seconds ";
	char *p = strstr(text, key), *end;
	double age;

	assert_non_null(p);
	p += strlen(key);
	age = strtod(p, &end);
	assert_true(end > p && *end == '\n');
	*p = 'N';
	memmove(p + 1, end, strlen(end) + 1);
	return age;
}

/* Only the sample lines of an exposition, in their order. */
static void samples_of(const char *text, char *buf, size_t len)
{
	const char *line, *nl;
	size_t used = 0;

	buf[0] = '\0';
	for (line = text; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (*line == '#')
			continue;
		assert_true(used + (nl - line) + 2 < len);
		memcpy(buf + used, line, nl - line + 1);
		used += nl - line + 1;
		buf[used] = '\0';
	}
}

/* Per-CPU counters that differ per CPU, one of them only on the last, so
 * only a sum over every CPU gets them right.
 */
static void fill_prom_counters(void)
{
	const struct mwan_wan_counters webpass = { 1, 100, 2, 200 };
	__u64 *vals = calloc((size_t)fx.ncpus * 4, sizeof(__u64));
	__u32 key = 2;

	assert_non_null(vals);
	put_percpu(M_WANSTAT, 1, (const __u64 *)&webpass, 4, true);
	vals[(fx.ncpus - 1) * 4 + 0] = 3;
	vals[(fx.ncpus - 1) * 4 + 1] = 300;
	vals[(fx.ncpus - 1) * 4 + 2] = 4;
	vals[(fx.ncpus - 1) * 4 + 3] = 400;
	put(M_WANSTAT, &key, vals);
	memset(vals, 0, (size_t)fx.ncpus * 4 * sizeof(__u64));
	vals[fx.ncpus - 1] = 7;
	key = MWAN_DROP_FLOW_INSERT;
	put(M_STATS, &key, vals);
	free(vals);
}

/* Back to fill_stats()'s counters, for the tests that follow. */
static int clear_prom_counters(void **state)
{
	const __u64 zero[4] = { 0 };

	(void)state;
	if (!fx.ready)
		return 0;
	put_percpu(M_WANSTAT, 1, zero, 4, false);
	put_percpu(M_WANSTAT, 2, zero, 4, false);
	put_percpu(M_STATS, MWAN_DROP_FLOW_INSERT, zero, 1, false);
	return 0;
}

/* Every drop reason and event, in mwan_reasons.h's order, with the
 * values fill_stats() and fill_prom_counters() wrote.
 */
/* mwan_wan_drops_total: every reason for each configured WAN, in enum
 * order; fill_drops() put 2 internal_src_on_wan per CPU at att.
 */
static void expect_wan_drop_lines(char *buf, size_t len)
{
#define DROP_NAME(n, s) s,
	static const char *const names[] = { MWAN_DROPS(DROP_NAME) };
#undef DROP_NAME
	static const char *const wans[] = { "att", "webpass", "backup" };
	unsigned int w, i;
	size_t used = 0;

	for (w = 0; w < 3; w++)
		for (i = 0; i < MWAN_DROP_MAX_; i++)
			used += snprintf(
				buf + used, len - used,
				"mwan_wan_drops_total{wan=\"%s\",reason=\"%s\"} %u\n",
				wans[w], names[i],
				w == 0 && i == MWAN_DROP_INTERNAL_SRC ?
					2 * fx.ncpus :
					0);
	for (i = 0; i < MWAN_DROP_MAX_; i++)
		used += snprintf(
			buf + used, len - used,
			"mwan_lan_drops_total{lan=\"lo\",reason=\"%s\"} %u\n",
			names[i], i == MWAN_DROP_BCP38_SRC ? 2 * fx.ncpus : 0);
}

static void expect_stat_lines(char *buf, size_t len)
{
#define DROP_LINE(n, s) "mwan_drops_total{reason=\"" s "\"} %s\n"
#define EVENT_LINE(n, s) "mwan_events_total{event=\"" s "\"} %s\n"
	static const char fmt[] = MWAN_DROPS(DROP_LINE) MWAN_EVENTS(EVENT_LINE);
#undef DROP_LINE
#undef EVENT_LINE
	unsigned int n = fx.ncpus, i;
	char num[MWAN_STAT_MAX][24];
	const char *p = fmt;
	size_t used = 0;

	for (i = 0; i < MWAN_STAT_MAX; i++)
		snprintf(num[i], sizeof(num[i]), "0");
	snprintf(num[MWAN_DROP_NO_WAN], 24, "%u", n);
	snprintf(num[MWAN_DROP_FLOW_INSERT], 24, "7");
	snprintf(num[MWAN_EV_FLOW_NEW], 24, "%u", n * (n + 1) / 2);
	/* one %s per line, in enum order */
	for (i = 0; i < MWAN_STAT_MAX; i++) {
		const char *nl = strchr(p, '\n'), *pct = strstr(p, "%s");

		used += snprintf(buf + used, len - used, "%.*s%s\n",
				 (int)(pct - p), p, num[i]);
		p = nl + 1;
	}
	expect_wan_drop_lines(buf + used, len - used);
}

/* att healthy but forced down, webpass unhealthy: the tier 2 WAN takes
 * new flows (as in test_status_failover_tier).
 */
static void test_prometheus(void **state)
{
	unsigned int n = fx.ncpus, t = n * (n + 1) / 2;
	static char got[OUT_MAX], expect[16384];
	size_t used;

	(void)state;
	need_maps();
	fill_prom_counters();
	set_admin(0, MWAN_ADMIN_DOWN);
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	assert_string_equal(err, "");
	/* just written by the fixture */
	assert_true(take_age(out) <= since(fx.health_ns) + 1);
	samples_of(out, got, sizeof(got));
	used = snprintf(
		expect, sizeof(expect),
		"mwan_info{layout=\"%d\"} 1\n"
		"mwan_loader_up 1\n"
		"mwan_loader_heartbeat_age_seconds N\n"
		"mwan_ready 1\n"
		"mwan_fast_path 1\n"
		"mwan_failopen 0\n"
		"mwan_wan_state{wan=\"att\"} 0\n"
		"mwan_wan_state{wan=\"webpass\"} 0\n"
		"mwan_wan_state{wan=\"backup\"} 1\n"
		"mwan_wan_health{wan=\"att\"} 1\n"
		"mwan_wan_health{wan=\"webpass\"} 0\n"
		"mwan_wan_health{wan=\"backup\"} 1\n"
		"mwan_wan_link{wan=\"att\"} 1\n"
		"mwan_wan_link{wan=\"webpass\"} 1\n"
		"mwan_wan_link{wan=\"backup\"} 1\n"
		"mwan_wan_admin{wan=\"att\",admin=\"auto\"} 0\n"
		"mwan_wan_admin{wan=\"att\",admin=\"up\"} 0\n"
		"mwan_wan_admin{wan=\"att\",admin=\"down\"} 1\n"
		"mwan_wan_admin{wan=\"webpass\",admin=\"auto\"} 1\n"
		"mwan_wan_admin{wan=\"webpass\",admin=\"up\"} 0\n"
		"mwan_wan_admin{wan=\"webpass\",admin=\"down\"} 0\n"
		"mwan_wan_admin{wan=\"backup\",admin=\"auto\"} 1\n"
		"mwan_wan_admin{wan=\"backup\",admin=\"up\"} 0\n"
		"mwan_wan_admin{wan=\"backup\",admin=\"down\"} 0\n"
		"mwan_wan_packets_total{wan=\"att\",direction=\"out\"} %u\n"
		"mwan_wan_packets_total{wan=\"att\",direction=\"in\"} %u\n"
		"mwan_wan_packets_total{wan=\"webpass\",direction=\"out\"} %u\n"
		"mwan_wan_packets_total{wan=\"webpass\",direction=\"in\"} %u\n"
		"mwan_wan_packets_total{wan=\"backup\",direction=\"out\"} 3\n"
		"mwan_wan_packets_total{wan=\"backup\",direction=\"in\"} 4\n"
		"mwan_wan_bytes_total{wan=\"att\",direction=\"out\"} %u\n"
		"mwan_wan_bytes_total{wan=\"att\",direction=\"in\"} %u\n"
		"mwan_wan_bytes_total{wan=\"webpass\",direction=\"out\"} %u\n"
		"mwan_wan_bytes_total{wan=\"webpass\",direction=\"in\"} %u\n"
		"mwan_wan_bytes_total{wan=\"backup\",direction=\"out\"} 300\n"
		"mwan_wan_bytes_total{wan=\"backup\",direction=\"in\"} 400\n"
		/* fill_flows(): tcp, icmp and tcp6 on att; udp and udp6 on
		 * webpass; gre on backup
		 */
		"mwan_wan_flows{wan=\"att\"} 3\n"
		"mwan_wan_flows{wan=\"webpass\"} 2\n"
		"mwan_wan_flows{wan=\"backup\"} 1\n"
		/* att's second target answered nothing: no RTT, no jitter */
		"mwan_probe_rtt_seconds{wan=\"att\",target=\"192.0.2.1\"} 0.000412\n"
		"mwan_probe_rtt_seconds{wan=\"webpass\",target=\"tcp:192.0.2.10:443\"} 0.020480\n"
		"mwan_probe_jitter_seconds{wan=\"att\",target=\"192.0.2.1\"} 0.000051\n"
		"mwan_probe_jitter_seconds{wan=\"webpass\",target=\"tcp:192.0.2.10:443\"} 0.001500\n"
		"mwan_probe_loss_ratio{wan=\"att\",target=\"192.0.2.1\"} 0.150\n"
		"mwan_probe_loss_ratio{wan=\"att\",target=\"2001:db8:ffff::1\"} 1.000\n"
		"mwan_probe_loss_ratio{wan=\"webpass\",target=\"tcp:192.0.2.10:443\"} 0.600\n"
		"mwan_probe_sent_total{wan=\"att\",target=\"192.0.2.1\"} 20\n"
		"mwan_probe_sent_total{wan=\"att\",target=\"2001:db8:ffff::1\"} 20\n"
		"mwan_probe_sent_total{wan=\"webpass\",target=\"tcp:192.0.2.10:443\"} 1200\n"
		"mwan_probe_received_total{wan=\"att\",target=\"192.0.2.1\"} 17\n"
		"mwan_probe_received_total{wan=\"att\",target=\"2001:db8:ffff::1\"} 0\n"
		"mwan_probe_received_total{wan=\"webpass\",target=\"tcp:192.0.2.10:443\"} 480\n"
		"mwan_flows 6\n"
		"mwan_flows_max 4096\n"
		"mwan_flow_table_entries{table=\"lan\"} 6\n"
		"mwan_flow_table_size{table=\"lan\"} 4096\n"
		"mwan_flow_table_evicted{table=\"lan\"} %u\n",
		MWAN_LAYOUT_VERSION, 5 * n, 7 * n, t, 2 * t, 500 * n, 7000 * n,
		100 * t, 200 * t, t > 6 ? t - 6 : 0);
	expect_stat_lines(expect + used, sizeof(expect) - used);
	assert_string_equal(got, expect);
	/* HELP and TYPE once per family, before its samples */
	assert_non_null(strstr(
		out, "\n# TYPE mwan_wan_packets_total counter\nmwan_wan_"));
	assert_non_null(strstr(out, "\n# TYPE mwan_drops_total counter\n"));
	assert_non_null(strstr(out, "\n# TYPE mwan_wan_state gauge\n"));
	assert_prefix(out, "# HELP mwan_info ");
}

/* The reference parser reads the same numbers back. */
static void test_prometheus_parses(void **state)
{
	unsigned int n = fx.ncpus;
	char line[160];

	(void)state;
	need_maps();
	fill_prom_counters();
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	assert_int_equal(prom_check("", out), 0);
	assert_string_equal(err, "");
	snprintf(line, sizeof(line),
		 "\nmwan_wan_packets_total{direction=\"in\",wan=\"att\"} %u\n",
		 7 * n);
	assert_non_null(strstr(parsed, line));
	snprintf(
		line, sizeof(line),
		"\nmwan_wan_bytes_total{direction=\"out\",wan=\"webpass\"} %u\n",
		100 * n * (n + 1) / 2);
	assert_non_null(strstr(parsed, line));
	assert_non_null(strstr(
		parsed,
		"\nmwan_drops_total{reason=\"flow_insert_failed\"} 7\n"));
	assert_non_null(strstr(
		parsed,
		"\nmwan_drops_total{reason=\"npt_unmappable_addr\"} 0\n"));
	assert_non_null(strstr(
		parsed,
		"\nmwan_probe_rtt_seconds{target=\"tcp:192.0.2.10:443\",wan=\"webpass\"} 0.02048\n"));
	assert_non_null(strstr(
		parsed,
		"\nmwan_probe_loss_ratio{target=\"192.0.2.1\",wan=\"att\"} 0.15\n"));
	assert_non_null(strstr(parsed, "\nmwan_flows_max 4096\n"));
	assert_non_null(strstr(parsed, "\nmwan_loader_up 1\n"));
	assert_non_null(strstr(
		parsed, "\nmwan_wan_admin{admin=\"auto\",wan=\"att\"} 1\n"));
	assert_null(strstr(parsed, "ghost"));
}

/* The check above cannot pass on anything: broken text is refused, by
 * prometheus_client itself and by the line rules it does not enforce.
 */
static void test_prometheus_rejects_broken(void **state)
{
	static const char *const client_refuses[] = {
		"# HELP m M.\n# TYPE m gauge\nm{wan=\"att} 1\n",
		"# HELP m M.\n# TYPE m gauge\nm{wan=\"att\"} one\n",
		"# HELP m M.\n# TYPE m gauge\nm{wan=att} 1\n",
		"# HELP m M.\n# TYPE m gauge\n1m 1\n",
	};
	static const char *const rules_refuse[] = {
		"m 1\n", /* no HELP, no TYPE */
		"# HELP m M.\n# TYPE m gauge\nm 1", /* no final newline */
		"# HELP m M.\n# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"1\"} 2\n",
		"# HELP m M.\n# TYPE m gauge\nm 1\n# TYPE m gauge\n",
		"# HELP m M.\n# TYPE m gauge\n# HELP n N.\n# TYPE n gauge\n"
		"m{a=\"1\"} 1\nn 1\nm{a=\"2\"} 1\n",
		"# HELP m M.\n# TYPE m counter\nm 1\n",
		"# HELP m M.\n# TYPE m gauge\nm{a=\"1\",a=\"2\"} 1\n",
		"# HELP m M.\n# TYPE m gauge\nm{a=\"\\q\"} 1\n",
	};
	char *p;
	size_t i;

	(void)state;
	need_maps();
	for (i = 0; i < sizeof(client_refuses) / sizeof(client_refuses[0]);
	     i++) {
		if (prom_check("--client-only", client_refuses[i]) != 1)
			fail_msg("prometheus_client accepted %s",
				 client_refuses[i]);
		assert_int_equal(prom_check("", client_refuses[i]), 1);
	}
	for (i = 0; i < sizeof(rules_refuse) / sizeof(rules_refuse[0]); i++)
		if (prom_check("", rules_refuse[i]) != 1)
			fail_msg("accepted %s", rules_refuse[i]);
	/* and the real output, with one quote gone */
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	assert_int_equal(prom_check("--client-only", out), 0);
	p = strstr(out, "reason=\"truncated\"");
	assert_non_null(p);
	memmove(p + 7, p + 8, strlen(p + 8) + 1);
	assert_int_equal(prom_check("--client-only", out), 1);
}

/* Stale health records: the loader counts as down, as status says. */
static void test_prometheus_frozen(void **state)
{
	(void)state;
	need_maps();
	fill_health(10);
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	assert_non_null(strstr(out, "\nmwan_loader_up 0\n"));
	assert_in_range((long)(take_age(out) * 1000), 10000,
			(long)((10 + since(fx.health_ns)) * 1000) + 1);
}

/* A loader from before mwan_health: no probe metrics, not an error. */
static void test_prometheus_no_health_map(void **state)
{
	char p[256];

	(void)state;
	need_maps();
	path_in(p, sizeof(p), fx.pins, MWAN_MAP(health)->name);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	assert_int_equal(bpf_obj_pin(fx.fd[M_HEALTH], p), 0);
	assert_string_equal(err, "");
	assert_null(strstr(out, "mwan_probe_"));
	assert_null(strstr(out, "heartbeat_age"));
	assert_non_null(strstr(out, "\nmwan_loader_up 0\n"));
	assert_non_null(strstr(out, "\nmwan_wan_state{wan=\"att\"} 1\n"));
	assert_int_equal(prom_check("", out), 0);
}

static void test_prometheus_usage(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("-j stats --prometheus", DIRS), 2);
	assert_prefix(err, "bpfctl: -j and --prometheus exclude each other\n");
	assert_string_equal(out, "");
	assert_int_equal(RUN("stats --prometheus --prometheus", DIRS), 2);
	assert_int_equal(RUN("stats --prometheus extra", DIRS), 2);
	assert_non_null(strstr(err, "'extra'"));
	assert_int_equal(RUN("stats --json", DIRS), 2);
	assert_int_equal(RUN("help", DIRS), 0);
	assert_non_null(strstr(out, "  stats  [--prometheus] "));
}

/* The loader's way in: lib/metrics.c on plain map fds gives what bpfctl
 * prints, and escapes what needs escaping.
 */
static void test_metrics_lib(void **state)
{
	static struct mwan_metrics_in in;
	static char first[OUT_MAX];
	char msg[256], *buf = NULL, *p;
	size_t len = 0;

	(void)state;
	need_maps();
	memset(&in, 0, sizeof(in));
	in.fd = (struct mwan_metrics_fds){ .live = fx.fd[M_LIVE],
					   .cfg = fx.fd[M_CFG],
					   .wans = fx.fd[M_WANS],
					   .names = fx.fd[M_NAMES],
					   .admin = fx.fd[M_ADMIN],
					   .stats = fx.fd[M_STATS],
					   .wanstat = fx.fd[M_WANSTAT],
					   .flows = fx.fd[M_FLOWS],
					   .health = fx.fd[M_HEALTH],
					   .wandrop = fx.fd[M_WANDROP],
					   .flows_in = -1,
					   .flowstat = -1 };
	in.loader_up = true;
	in.target[0][0] = "192.0.2.1";
	in.target[0][1] = "2001:db8:ffff::1";
	in.target[1][0] = "tcp:192.0.2.10:443";
	assert_int_equal(mwan_metrics_render(&in, &buf, &len, msg, sizeof(msg)),
			 0);
	assert_int_equal(strlen(buf), len);
	snprintf(first, sizeof(first), "%s", buf);
	free(buf);
	assert_int_equal(RUN("stats --prometheus", DIRS), 0);
	take_age(out);
	take_age(first);
	assert_string_equal(first, out);

	/* a slot without a name, and names that need escaping */
	in.target[0][0] = "a\"b\\c\nd\x01\xc3\xa9";
	in.target[0][1] = NULL;
	assert_int_equal(mwan_metrics_render(&in, &buf, &len, msg, sizeof(msg)),
			 0);
	assert_non_null(strstr(
		buf,
		"\nmwan_probe_sent_total{wan=\"att\",target=\"a\\\"b\\\\c\\nd???\"} 20\n"
		"mwan_probe_sent_total{wan=\"att\",target=\"#1\"} 20\n"));
	assert_int_equal(prom_check("", buf), 0);
	free(buf);
	assert_non_null(strstr(
		parsed,
		"\nmwan_probe_sent_total{target=\"a\\\"b\\\\c\\nd???\",wan=\"att\"} 20\n"));

	/* a map of another shape is refused, not read past its end */
	in.fd.wanstat = fx.fd[M_CFG];
	buf = (char *)1;
	assert_int_equal(mwan_metrics_render(&in, &buf, &len, msg, sizeof(msg)),
			 -1);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_prefix(msg, "mwan_wanstat: map type 2 key 4 value ");

	/* a slot that cannot be read: nothing at all, and why */
	in.fd.wanstat = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "short", 4,
				       sizeof(struct mwan_wan_counters), 1,
				       NULL);
	assert_true(in.fd.wanstat >= 0);
	assert_int_equal(mwan_metrics_render(&in, &buf, &len, msg, sizeof(msg)),
			 -1);
	close(in.fd.wanstat);
	assert_null(buf);
	p = strstr(msg, "cannot read mwan_wanstat[1]: ");
	assert_non_null(p);
}

/* ---- wan ------------------------------------------------------------- */

static void test_wan_unknown(void **state)
{
	__u32 before[MWAN_MAX_WANS], after[MWAN_MAX_WANS];
	struct mwan_steer st_before, st_after;

	(void)state;
	need_maps();
	snapshot_admin(before);
	get_steer(MWAN_STEER_MASKS - 1, &st_before);
	assert_int_equal(RUN("wan foo down", DIRS), 2);
	assert_string_equal(out, "");
	assert_prefix(err, "bpfctl: unknown WAN 'foo'\n");
	/* a stale name in an unconfigured slot is not a WAN either */
	assert_int_equal(RUN("wan ghost down", DIRS), 2);
	assert_int_equal(RUN("wan webpass sideways", DIRS), 2);
	assert_non_null(strstr(err, "'sideways'"));
	assert_int_equal(RUN("wan webpass", DIRS), 2);
	assert_int_equal(RUN("wan webpass down now", DIRS), 2);
	snapshot_admin(after);
	assert_memory_equal(before, after, sizeof(before));
	get_steer(MWAN_STEER_MASKS - 1, &st_after);
	assert_memory_equal(&st_before, &st_after, sizeof(st_before));
}

/* The datapath follows mwan_steer only, so the override must reach it;
 * without a loader to ask, bpfctl recomputes it itself.
 */
static void test_wan_resteers(void **state)
{
	const __u32 all = (1U << 0) | (1U << 1) | (1U << 2);
	struct mwan_steer st;
	unsigned int i;

	(void)state;
	need_maps();
	assert_int_equal(RUN("wan att down", NOLOADER), 0);
	assert_string_equal(out, "att: admin down, state down\n");
	assert_string_equal(err, DIRECT_NOTE);
	get_steer(all, &st);
	assert_int_equal(st.members, 1U << 2); /* only the failover WAN */
	assert_int_equal(st.failopen, 0);
	for (i = 0; i < MWAN_STEER_SLOTS; i++)
		assert_int_equal(st.slot[i], 2);
	get_steer(1U << 0, &st); /* a host with an address on att only */
	assert_int_equal(st.members, 1U << 0);
	assert_int_equal(st.failopen, 1);

	assert_int_equal(RUN("wan att auto", NOLOADER), 0);
	get_steer(all, &st);
	assert_int_equal(st.members, 1U << 0);
	assert_int_equal(st.failopen, 0);
}

static void test_wan_set(void **state)
{
	__u32 v[MWAN_MAX_WANS];

	(void)state;
	need_maps();
	assert_int_equal(RUN("-j wan webpass down", NOLOADER), 0);
	assert_json(
		"{\"name\":\"webpass\",\"admin\":\"down\",\"state\":\"down\",\"failopen\":false}\n");
	snapshot_admin(v);
	assert_int_equal(v[1], MWAN_ADMIN_DOWN);
	assert_int_equal(v[0], MWAN_ADMIN_AUTO);

	assert_int_equal(RUN("wan webpass up", NOLOADER), 0);
	assert_string_equal(out, "webpass: admin up, state up\n");
	snapshot_admin(v);
	assert_int_equal(v[1], MWAN_ADMIN_UP);

	assert_int_equal(RUN("-j wan webpass auto", NOLOADER), 0);
	snapshot_admin(v);
	assert_int_equal(v[1], MWAN_ADMIN_AUTO);
	/* unhealthy without the override */
	assert_json(
		"{\"name\":\"webpass\",\"admin\":\"auto\",\"state\":\"down\",\"failopen\":false}\n");
}

/* ---- errors ---------------------------------------------------------- */

static void test_missing_pins(void **state)
{
	char missing[160], expect[256];

	(void)state;
	need_maps();
	path_in(missing, sizeof(missing), fx.dir, "nothing-here");
	assert_int_equal(run("-j -p '%s' status", missing), 1);
	assert_string_equal(out, "");
	snprintf(
		expect, sizeof(expect),
		"bpfctl: cannot open %s/mwan_wans: No such file or directory (is mwan-loader running?)\n",
		missing);
	assert_string_equal(err, expect);
}

static void test_bad_usage(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("frobnicate", DIRS), 2);
	assert_prefix(err, "bpfctl: unknown command 'frobnicate'\nUsage:");
	assert_int_equal(RUN("status extra", DIRS), 2);
	assert_non_null(strstr(err, "'extra'"));
	assert_int_equal(RUN("-x status", DIRS), 2);
	assert_int_equal(RUN("help", DIRS), 0);
	assert_non_null(strstr(out, "Usage: bpfctl"));
}

/* A pinned map of another shape is reported, not misread. */
static void test_layout_mismatch(void **state)
{
	char dir[160], p[256];
	int fd;

	(void)state;
	need_maps();
	path_in(dir, sizeof(dir), fx.pins, "odd");
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, MWAN_MAP(wans)->name, 4,
			    sizeof(struct mwan_wan) + 4, MWAN_MAX_WANS, NULL);
	assert_true(fd >= 0);
	path_in(p, sizeof(p), dir, MWAN_MAP(wans)->name);
	assert_int_equal(bpf_obj_pin(fd, p), 0);
	close(fd);
	assert_int_equal(run("-p '%s' status", dir), 1);
	unlink(p);
	rmdir(dir);
	assert_non_null(strstr(err, "different builds"));
}

/* ---- pd and wan-of ---------------------------------------------------- */

/* A stand-in for the loader's control socket: takes one connection,
 * passes the request on through a pipe and answers `reply` (NULL: hangs
 * up without answering).
 */
struct fake {
	pid_t pid;
	int req_fd;
};

static void fake_serve(int fd, int out, const char *reply)
{
	char buf[1024];
	ssize_t n = 0;
	int c;

	alarm(10);
	c = accept(fd, NULL, NULL);
	if (c >= 0)
		n = recv(c, buf, sizeof(buf), 0);
	if (n > 0 && write(out, buf, n) != n)
		_exit(1);
	if (c >= 0 && reply && send(c, reply, strlen(reply), 0) < 0)
		_exit(1);
	_exit(0);
}

static void fake_start(struct fake *f, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, p[2];

	path_in(sa.sun_path, sizeof(sa.sun_path), fx.run, "control");
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(pipe(p), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (!f->pid) {
		close(p[0]);
		fake_serve(fd, p[1], reply);
	}
	close(p[1]);
	close(fd);
	f->req_fd = p[0];
}

/* What the fake received. */
static void fake_end(struct fake *f, char *req, size_t len)
{
	char path[160];
	ssize_t n = read(f->req_fd, req, len - 1);

	req[n > 0 ? n : 0] = '\0';
	close(f->req_fd);
	waitpid(f->pid, NULL, 0);
	path_in(path, sizeof(path), fx.run, "control");
	unlink(path);
}

/* ---- wan: through the loader, or directly without one ---------------- */

/* With a loader running, bpfctl only asks: the request goes over the
 * control socket and the maps are left to the loader (here a fake that
 * writes nothing, so mwan_admin must still say auto).
 */
static void test_wan_through_loader(void **state)
{
	__u32 id = 0, admin = 0xff;
	char req[256];
	struct fake f;

	(void)state;
	need_maps();
	fake_start(&f, "ok wan att: admin down");
	assert_int_equal(RUN("wan att down", DIRS), 0);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "wan att down");
	assert_int_equal(bpf_map_lookup_elem(fx.fd[M_ADMIN], &id, &admin), 0);
	assert_int_equal(admin, MWAN_ADMIN_AUTO);
	assert_prefix(out, "att: admin auto, state up");
	assert_string_equal(err, "");
}

static void test_wan_loader_refuses(void **state)
{
	char req[256];
	struct fake f;

	(void)state;
	need_maps();
	fake_start(&f, "error: cannot set wan att down: Permission denied");
	assert_int_equal(RUN("wan att down", DIRS), 1);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "wan att down");
	assert_string_equal(out, "");
	assert_string_equal(
		err, "bpfctl: cannot set wan att down: Permission denied\n");
}

static void test_pd_no_loader(void **state)
{
	char expect[256];

	(void)state;
	need_maps();
	assert_int_equal(RUN("pd att clear", DIRS), 1);
	assert_string_equal(out, "");
	snprintf(
		expect, sizeof(expect),
		"bpfctl: loader not running (no control socket at %s/control)\n",
		fx.run);
	assert_string_equal(err, expect);
}

static void test_pd_usage(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("pd", DIRS), 2);
	assert_prefix(err,
		      "bpfctl: pd: expected WAN PREFIX/LEN or WAN clear\n");
	assert_int_equal(RUN("pd att", DIRS), 2);
	assert_prefix(
		err,
		"bpfctl: pd: expected PREFIX/LEN or 'clear' after 'att'\n");
	assert_int_equal(RUN("pd att clear --valid 5", DIRS), 2);
	assert_prefix(err, "bpfctl: pd: 'clear' takes no --valid\n");
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 --valid", DIRS), 2);
	assert_prefix(err, "bpfctl: pd: --valid needs SECONDS\n");
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 --valid 1 --valid=2",
			     DIRS),
			 2);
	assert_prefix(err, "bpfctl: pd: --valid given twice\n");
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 --bogus", DIRS), 2);
	assert_prefix(err, "bpfctl: pd: unknown option '--bogus'\n");
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 60", DIRS), 2);
	assert_prefix(err, "bpfctl: unexpected argument '60'\n");
	assert_string_equal(out, "");
}

/* Nothing that would split into more words reaches the loader. */
static void test_pd_bad_words(void **state)
{
	(void)state;
	need_maps();
	assert_int_equal(RUN("pd 'att x' clear", DIRS), 1);
	assert_string_equal(
		err,
		"bpfctl: invalid WAN name 'att x' (no spaces or control characters, at most 64 bytes)\n");
	assert_int_equal(RUN("pd att \"$(printf 'a\\nb')\" --valid 5", DIRS),
			 1);
	assert_string_equal(
		err,
		"bpfctl: invalid prefix 'a\\x0ab' (no spaces or control characters, at most 64 bytes)\n");
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 --valid ''", DIRS),
			 1);
	assert_string_equal(
		err,
		"bpfctl: invalid lifetime '' (no spaces or control characters, at most 64 bytes)\n");
	assert_string_equal(out, "");
}

#define OK_MSG                                                              \
	"att: prefix 2001:db8:a0:100::/56, external 2001:db8:a0:1fe::/64, " \
	"valid 86400 s"
#define OK_REPLY "ok " OK_MSG

static void test_pd_ok(void **state)
{
	struct fake f;
	char req[512];

	(void)state;
	need_maps();
	fake_start(&f, OK_REPLY);
	assert_int_equal(RUN("pd att 2001:db8:a0:100::/56 --valid 86400", DIRS),
			 0);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "pd att 2001:db8:a0:100::/56 86400");
	assert_string_equal(out, OK_MSG "\n");
	assert_string_equal(err, "");

	/* no --valid: no expiry */
	fake_start(&f, OK_REPLY);
	assert_int_equal(RUN("-j pd att 2001:db8:a0:100::/56", DIRS), 0);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "pd att 2001:db8:a0:100::/56 infinite");
	assert_json("{\"ok\":true,\"message\":\"" OK_MSG "\"}\n");

	fake_start(&f, OK_REPLY);
	assert_int_equal(RUN("pd --valid=60 att 2001:db8:a0:100::/56", DIRS),
			 0);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "pd att 2001:db8:a0:100::/56 60");

	fake_start(&f, "ok att: cleared prefix 2001:db8:a0:100::/56");
	assert_int_equal(RUN("pd att clear", DIRS), 0);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "pd att clear");
	assert_string_equal(out, "att: cleared prefix 2001:db8:a0:100::/56\n");
}

static void test_pd_refused(void **state)
{
	struct fake f;
	char req[512];

	(void)state;
	need_maps();
	fake_start(&f, "error: host bits set in '2001:db8:a0:101::/56'");
	assert_int_equal(RUN("-j pd att 2001:db8:a0:101::/56 --valid 5", DIRS),
			 1);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(req, "pd att 2001:db8:a0:101::/56 5");
	assert_string_equal(out, "");
	assert_string_equal(
		err, "bpfctl: host bits set in '2001:db8:a0:101::/56'\n");

	fake_start(&f, "\x1b[2Jhello");
	assert_int_equal(RUN("pd att clear", DIRS), 1);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(
		err,
		"bpfctl: unexpected reply from the loader: '\\x1b[2Jhello'\n");

	fake_start(&f, NULL);
	assert_int_equal(RUN("pd att clear", DIRS), 1);
	fake_end(&f, req, sizeof(req));
	assert_string_equal(
		err,
		"bpfctl: the loader closed the connection without a reply\n");
}

static void test_wan_of(void **state)
{
	char cfg[160], expect[256];

	(void)state;
	need_maps();
	assert_int_equal(
		write_file(fx.dir, "mwan.yaml",
			   "lan:\n"
			   "  interface: eth3\n"
			   "  ipv4: 10.250.250.0/29\n"
			   "  ipv6: 3d06:bad:b01:fe::/64\n"
			   "wans:\n"
			   "  att:\n"
			   "    interface: eth1\n"
			   "    gateway4: 100.64.1.1\n"
			   "    npt: { prefix: '2001:db8:a0:100::/56' }\n"
			   "  webpass:\n"
			   "    interface: eth2\n"
			   "    gateway4: 100.64.2.1\n"
			   "    npt: { subnet: 0xfe }\n"
			   "  backup:\n"
			   "    interface: eth4\n"
			   "    gateway4: 100.64.3.1\n"),
		0);
	path_in(cfg, sizeof(cfg), fx.dir, "mwan.yaml");
	assert_int_equal(run("-c '%s' wan-of eth2", cfg), 0);
	assert_string_equal(out, "webpass\n");
	assert_int_equal(run("-j -c '%s' wan-of eth2", cfg), 0);
	assert_json(
		"{\"name\":\"webpass\",\"interface\":\"eth2\",\"npt\":\"pd\"}\n");
	assert_int_equal(run("-j -c '%s' wan-of eth1", cfg), 0);
	assert_json(
		"{\"name\":\"att\",\"interface\":\"eth1\",\"npt\":\"static\"}\n");
	assert_int_equal(run("-j -c '%s' wan-of eth4", cfg), 0);
	assert_json(
		"{\"name\":\"backup\",\"interface\":\"eth4\",\"npt\":null}\n");
	assert_int_equal(run("-c '%s' wan-of eth3", cfg), 1);
	snprintf(expect, sizeof(expect),
		 "bpfctl: no WAN uses interface 'eth3' in %s\n", cfg);
	assert_string_equal(err, expect);
	assert_string_equal(out, "");
	assert_int_equal(run("-c '%s' wan-of", cfg), 2);
	assert_int_equal(run("-c '%s' wan-of eth1 eth2", cfg), 2);
	assert_prefix(err, "bpfctl: unexpected argument 'eth2'\n");
}

/* ---- print layer (in process) ---------------------------------------- */

static void emit_sample(void)
{
	print_open_object(NULL);
	print_str("k\"", "<%s>",
		  "a\"b\\c\n\t\x01\x7f \xc3\xa9 \xff\xc0\x80 ok");
	print_open_array("l");
	print_u64(NULL, "[%" PRIu64, 1);
	print_u64(NULL, ",%" PRIu64 "]", 2);
	print_close_array();
	print_open_object("o");
	print_close_object();
	print_bool("b", " b=%s", true);
	print_null("n", " n=-");
	print_tenths("t", " t=%s", 123);
	print_u64("json_only", NULL, 7);
	print_text("|text only|");
	print_close_object();
}

static char *capture(bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	print_start(f, json);
	emit_sample();
	assert_int_equal(print_end(), 0);
	fclose(f);
	return buf;
}

static void test_print_json(void **state)
{
	char *s = capture(true);

	(void)state;
	assert_string_equal(
		s, "{\"k\\\"\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f \xc3\xa9 "
		   "\\ufffd\\ufffd\\ufffd ok\",\"l\":[1,2],\"o\":{},"
		   "\"b\":true,\"n\":null,\"t\":12.3,\"json_only\":7}\n");
	assert_valid_json(s);
	free(s);
}

static void test_print_text(void **state)
{
	char *s = capture(false);

	(void)state;
	assert_string_equal(
		s,
		"<a\"b\\c\n\t\x01\x7f \xc3\xa9 \xff\xc0\x80 ok>[1,2] b=true n=- t=12.3|text only|");
	free(s);
}

static void test_print_unbalanced(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	print_start(f, true);
	print_open_array(NULL);
	assert_int_equal(print_end(), -1);
	print_start(f, true);
	print_close_object();
	assert_int_equal(print_end(), -1);
	fclose(f);
	free(buf);
}

/* The fixture writes times up to a few minutes back on CLOCK_MONOTONIC
 * (a WAN up since 2m05s): on a machine booted less than that ago they
 * would fall before boot. So the tests run in a time namespace whose
 * monotonic clock is a day ahead, bpfctl with them (unshare(1) does it:
 * a time namespace takes effect in the children of whoever made it).
 */
#define TIMENS_ENV "MWAN_TEST_TIMENS"

static void enter_time_namespace(void)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv(TIMENS_ENV))
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "/proc/self/exe: %s\n", strerror(errno));
		exit(1);
	}
	self[n] = '\0';
	setenv(TIMENS_ENV, "1", 1);
	execlp("unshare", "unshare", "--time", "--monotonic", "86400", "--",
	       self, (char *)NULL);
	fprintf(stderr, "unshare --time: %s\n", strerror(errno));
	exit(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_status, reset_admin),
		cmocka_unit_test_setup(test_status_admin_override, reset_admin),
		cmocka_unit_test_setup(test_status_blocked, reset_admin),
		cmocka_unit_test_setup(test_status_failover_tier, reset_admin),
		cmocka_unit_test_setup(test_status_failopen, reset_admin),
		cmocka_unit_test_setup(test_status_no_loader, reset_admin),
		cmocka_unit_test_setup(test_wan_through_loader, reset_admin),
		cmocka_unit_test_setup(test_wan_loader_refuses, reset_admin),
		cmocka_unit_test_setup(test_status_text, reset_admin),
		cmocka_unit_test_setup(test_status_targets_from_config,
				       reset_admin),
		cmocka_unit_test_setup(test_status_frozen_stale, reset_admin),
		cmocka_unit_test_setup(test_status_holding, reset_admin),
		cmocka_unit_test_setup(test_status_no_health_map, reset_admin),
		cmocka_unit_test_setup(test_nat, reset_admin),
		cmocka_unit_test_setup(test_flows, reset_admin),
		cmocka_unit_test_setup(test_flows_filter, reset_admin),
		cmocka_unit_test(test_flows_ext6),
		cmocka_unit_test_setup(test_stats, reset_admin),
		cmocka_unit_test_setup(test_stats_drops_by_wan, reset_admin),
		cmocka_unit_test_setup(test_stats_all_names, reset_admin),
		cmocka_unit_test_setup_teardown(test_prometheus, reset_admin,
						clear_prom_counters),
		cmocka_unit_test_setup_teardown(test_prometheus_parses,
						reset_admin,
						clear_prom_counters),
		cmocka_unit_test_setup(test_prometheus_rejects_broken,
				       reset_admin),
		cmocka_unit_test_setup(test_prometheus_frozen, reset_admin),
		cmocka_unit_test_setup(test_prometheus_no_health_map,
				       reset_admin),
		cmocka_unit_test(test_prometheus_usage),
		cmocka_unit_test_setup(test_metrics_lib, reset_admin),
		cmocka_unit_test_setup(test_wan_unknown, reset_admin),
		cmocka_unit_test_setup(test_wan_set, reset_admin),
		cmocka_unit_test_setup(test_wan_resteers, reset_admin),
		cmocka_unit_test(test_pd_no_loader),
		cmocka_unit_test(test_pd_usage),
		cmocka_unit_test(test_pd_bad_words),
		cmocka_unit_test(test_pd_ok),
		cmocka_unit_test(test_pd_refused),
		cmocka_unit_test(test_wan_of),
		cmocka_unit_test(test_missing_pins),
		cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_layout_mismatch),
		cmocka_unit_test(test_print_json),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_print_unbalanced),
	};

	enter_time_namespace();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
