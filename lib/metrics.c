/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus text exposition (format 0.0.4) of mwan's maps, from plain fds. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "err.h"
#include "maptable.h"
#include "metrics.h"
#include "steer.h"
#include "steermap.h"
#include "clock.h"

/* Flows read per batch syscall: the table may hold millions, and the
 * loader renders from its main loop, so one syscall per entry is too slow.
 */
#define FLOW_BATCH 4096

/* Everything read from the maps, before a byte is written: a read that
 * fails leaves no half-written exposition behind.
 */
struct snap {
	struct mwan_cfg cfg;
	struct mwan_wan wan[MWAN_MAX_WANS];
	__u32 admin[MWAN_MAX_WANS];
	char name[MWAN_MAX_WANS][MWAN_NAME_LEN + 8];
	bool carries[MWAN_MAX_WANS];
	bool failopen;
	struct mwan_wan_counters traffic[MWAN_MAX_WANS];
	__u64 stat[MWAN_STAT_MAX];
	bool has_wandrop;
	__u64 wandrop[MWAN_WANDROP_SLOTS][MWAN_DROP_MAX_];
	bool has_health;
	struct mwan_health_info health[MWAN_MAX_WANS];
	__u64 flows;
	__u64 wan_flows[MWAN_MAX_WANS];
	__u32 flows_max;
	struct mwan_table_use table[MWAN_TABLES];
	__u64 now_ns;
};

#define STAT_DROP(n, s) { MWAN_DROP_##n, s },
#define STAT_EV(n, s) { MWAN_EV_##n, s },
const struct mwan_stat_name mwan_drop_names[] = { MWAN_DROPS(STAT_DROP) };
const struct mwan_stat_name mwan_event_names[] = { MWAN_EVENTS(STAT_EV) };
#undef STAT_DROP
#undef STAT_EV
const unsigned int mwan_n_drops =
	sizeof(mwan_drop_names) / sizeof(mwan_drop_names[0]);
const unsigned int mwan_n_events =
	sizeof(mwan_event_names) / sizeof(mwan_event_names[0]);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- reading ---------------------------------------------------------- */

static int read_slot(int fd, const char *map, __u32 id, void *value, char *err,
		     size_t errlen)
{
	if (!bpf_map_lookup_elem(fd, &id, value))
		return 0;
	mwan_set_err(err, errlen, "cannot read %s[%u]: %s", map, id,
		     strerror(errno));
	return -1;
}

int mwan_percpu_sum(int fd, __u32 key, __u64 *sum, unsigned int n_u64)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	unsigned int cpu, i;
	__u64 *vals;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/* value sizes are multiples of 8, so CPUs' slots are packed */
	vals = calloc((size_t)ncpus * n_u64, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		err = -errno;
	} else {
		memset(sum, 0, n_u64 * sizeof(*sum));
		for (cpu = 0; cpu < (unsigned int)ncpus; cpu++)
			for (i = 0; i < n_u64; i++)
				sum[i] += vals[cpu * n_u64 + i];
	}
	free(vals);
	return err;
}

static int read_percpu(int fd, const char *map, __u32 id, __u64 *sum,
		       unsigned int n_u64, char *err, size_t errlen)
{
	int e = mwan_percpu_sum(fd, id, sum, n_u64);

	if (e)
		mwan_set_err(err, errlen, "cannot read %s[%u]: %s", map, id,
			     strerror(-e));
	return e ? -1 : 0;
}

static int read_wans(const struct mwan_metrics_fds *fd, struct snap *s,
		     char *err, size_t errlen)
{
	struct mwan_steer st;
	struct mwan_name n;
	__u32 id;

	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (read_slot(fd->wans, MWAN_MAP(wans)->name, id, &s->wan[id],
			      err, errlen) ||
		    read_slot(fd->admin, MWAN_MAP(admin)->name, id,
			      &s->admin[id], err, errlen) ||
		    read_slot(fd->names, MWAN_MAP(names)->name, id, &n, err,
			      errlen))
			return -1;
		/* a fixed buffer in the map, not necessarily terminated */
		memcpy(s->name[id], n.name, MWAN_NAME_LEN);
		s->name[id][MWAN_NAME_LEN] = '\0';
		if (!s->name[id][0])
			snprintf(s->name[id], sizeof(s->name[id]), "wan%u", id);
	}
	/* what bpfctl status calls state: the steering code's own choice
	 * for a host mapped on every WAN
	 */
	mwan_steer_compute(s->wan, s->admin, MWAN_STEER_MASKS - 1, &st);
	s->failopen = st.failopen;
	for (id = 0; id < MWAN_MAX_WANS; id++)
		s->carries[id] = st.members & (1U << id);
	return 0;
}

static int read_counters(const struct mwan_metrics_fds *fd, struct snap *s,
			 char *err, size_t errlen)
{
	const unsigned int n = sizeof(s->traffic[0]) / sizeof(__u64);
	__u32 i;

	for (i = 0; i < MWAN_STAT_MAX; i++)
		if (read_percpu(fd->stats, MWAN_MAP(stats)->name, i,
				&s->stat[i], 1, err, errlen))
			return -1;
	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (read_percpu(fd->wanstat, MWAN_MAP(wanstat)->name, i,
				(__u64 *)&s->traffic[i], n, err, errlen))
			return -1;
	if (fd->wandrop < 0)
		return 0;
	s->has_wandrop = true;
	for (i = 0; i < MWAN_WANDROP_ENTRIES; i++)
		if (read_percpu(
			    fd->wandrop, MWAN_MAP(wandrop)->name, i,
			    &s->wandrop[i / MWAN_DROP_MAX_][i % MWAN_DROP_MAX_],
			    1, err, errlen))
			return -1;
	return 0;
}

static void read_health(const struct mwan_metrics_fds *fd, struct snap *s)
{
	__u32 id;

	if (fd->health < 0)
		return;
	s->has_health = true;
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (bpf_map_lookup_elem(fd->health, &id, &s->health[id]))
			memset(&s->health[id], 0, sizeof(s->health[id]));
}

static void tally_flows(struct snap *s, const struct mwan_flow *v, __u32 n)
{
	__u32 i;

	s->flows += n;
	for (i = 0; i < n; i++)
		if (v[i].wan < MWAN_MAX_WANS)
			s->wan_flows[v[i].wan]++;
}

/* A snapshot of a table the datapath keeps changing: entries added or
 * evicted meanwhile may be missed or counted twice, as with any walk.
 */
static int count_flows(int fd, const char *name, struct snap *s, __u64 *entries,
		       __u32 *size, char *err, size_t errlen)
{
	struct mwan_flow_key *keys = calloc(FLOW_BATCH, sizeof(*keys));
	struct mwan_flow *vals = calloc(FLOW_BATCH, sizeof(*vals));
	struct bpf_map_info info = { 0 };
	/* opaque batch position; a hash map keeps a bucket index in it */
	__u64 in = 0, out = 0;
	__u32 len = sizeof(info), n;
	bool first = true;
	int ret = -1, r;

	if (!keys || !vals) {
		mwan_set_err(err, errlen, "out of memory");
		goto out;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		mwan_set_err(err, errlen, "cannot inspect %s: %s", name,
			     strerror(errno));
		goto out;
	}
	*size = info.max_entries;
	for (;;) {
		n = FLOW_BATCH;
		r = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					 vals, &n, NULL);
		if (r && errno != ENOENT) {
			mwan_set_err(err, errlen, "cannot read %s: %s", name,
				     strerror(errno));
			goto out;
		}
		tally_flows(s, vals, n);
		*entries += n;
		if (r) /* ENOENT: that was the last batch */
			break;
		in = out;
		first = false;
	}
	ret = 0;
out:
	free(keys);
	free(vals);
	return ret;
}

static int flowstat_removed(int fd, __u32 table, __u64 *removed)
{
	struct mwan_flowstat v;

	*removed = 0;
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &table, &v))
		return -1;
	*removed = v.removed;
	return 0;
}

/* Counters first, then the walk: a flow created meanwhile can only make
 * the estimate of evictions lower, never invent one.
 */
static int tables_read(int flows, int flows_in, int flowstat, const __u64 *stat,
		       struct snap *s, struct mwan_table_use use[MWAN_TABLES],
		       char *err, size_t errlen)
{
	__u64 created[MWAN_TABLES], removed;
	int fd[MWAN_TABLES] = { flows, flows_in };
	const char *name[MWAN_TABLES] = { MWAN_MAP(flows)->name,
					  MWAN_MAP(flows_in)->name };
	unsigned int t;

	created[MWAN_TABLE_INBOUND] = stat[MWAN_EV_FLOW_NEW_IN];
	created[MWAN_TABLE_LAN] =
		stat[MWAN_EV_FLOW_NEW] > stat[MWAN_EV_FLOW_NEW_IN] ?
			stat[MWAN_EV_FLOW_NEW] - stat[MWAN_EV_FLOW_NEW_IN] :
			0;
	memset(use, 0, sizeof(*use) * MWAN_TABLES);
	for (t = 0; t < MWAN_TABLES; t++) {
		if (fd[t] < 0)
			continue;
		use[t].present = true;
		if (count_flows(fd[t], name[t], s, &use[t].entries,
				&use[t].size, err, errlen))
			return -1;
		if (flowstat_removed(flowstat, t, &removed)) {
			mwan_set_err(err, errlen, "cannot read %s: %s",
				     MWAN_MAP(flowstat)->name, strerror(errno));
			return -1;
		}
		if (created[t] > use[t].entries + removed)
			use[t].evicted = created[t] - use[t].entries - removed;
	}
	return 0;
}

int mwan_flow_tables(int flows, int flows_in, int flowstat, int stats,
		     struct mwan_table_use use[MWAN_TABLES], char *err,
		     size_t errlen)
{
	__u64 stat[MWAN_STAT_MAX] = { 0 };
	struct snap *s = calloc(1, sizeof(*s));
	int ret = -1;
	__u32 i;

	if (!s) {
		mwan_set_err(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < MWAN_STAT_MAX; i++)
		if (read_percpu(stats, MWAN_MAP(stats)->name, i, &stat[i], 1,
				err, errlen))
			goto out;
	ret = tables_read(flows, flows_in, flowstat, stat, s, use, err, errlen);
out:
	free(s);
	return ret;
}

/* The fds come from callers; a map of another shape would be read past
 * the end of the buffers here, so it is refused instead. The maps older
 * loaders did not pin may be missing (fd < 0): their figures are left
 * out.
 */
static int check_maps(const struct mwan_metrics_fds *fd, char *err,
		      size_t errlen)
{
	const struct {
		int fd;
		const struct mwan_map_desc *d;
		bool optional;
	} maps[] = {
		{ fd->live, MWAN_MAP(live), false },
		{ fd->cfg, MWAN_MAP(cfg), false },
		{ fd->wans, MWAN_MAP(wans), false },
		{ fd->names, MWAN_MAP(names), false },
		{ fd->admin, MWAN_MAP(admin), false },
		{ fd->stats, MWAN_MAP(stats), false },
		{ fd->wanstat, MWAN_MAP(wanstat), false },
		{ fd->flows, MWAN_MAP(flows), false },
		{ fd->health, MWAN_MAP(health), true },
		{ fd->wandrop, MWAN_MAP(wandrop), true },
		{ fd->flows_in, MWAN_MAP(flows_in), true },
		{ fd->flowstat, MWAN_MAP(flowstat), true },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		if (maps[i].fd < 0 && maps[i].optional)
			continue;
		if (mwan_map_check(maps[i].fd, maps[i].d->name, maps[i].d, err,
				   errlen))
			return -1;
	}
	return 0;
}

static int read_live_cfg(const struct mwan_metrics_fds *fd,
			 struct mwan_cfg *cfg, char *err, size_t errlen)
{
	__u32 slot;
	int rc = mwan_cfg_read_live(fd->live, fd->cfg, &slot, cfg);

	if (rc)
		mwan_set_err(err, errlen, "cannot read %s: %s",
			     MWAN_MAP(cfg)->name, strerror(-rc));
	return rc;
}

static int read_all(const struct mwan_metrics_fds *fd, struct snap *s,
		    char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (check_maps(fd, err, errlen) ||
	    read_live_cfg(fd, &s->cfg, err, errlen) ||
	    read_wans(fd, s, err, errlen) ||
	    read_counters(fd, s, err, errlen) ||
	    tables_read(fd->flows, fd->flows_in, fd->flowstat, s->stat, s,
			s->table, err, errlen))
		return -1;
	s->flows_max = s->table[MWAN_TABLE_LAN].size +
		       s->table[MWAN_TABLE_INBOUND].size;
	read_health(fd, s);
	s->now_ns = mwan_mono_ns();
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* One metric family; HELP and TYPE go out with its first sample, so a
 * family without samples (no probes configured) leaves no trace.
 */
struct fam {
	const char *name;
	const char *type;
	const char *help;
	bool started;
};

#define FAM(n, t, h)                            \
	{                                       \
		.name = n, .type = t, .help = h \
	}

/* A sample value: integers exactly, fractions in fixed point, so the
 * numbers are the maps' and no float rounding creeps in.
 */
struct val {
	char s[32];
};

static const char *v_u64(struct val *v, __u64 x)
{
	snprintf(v->s, sizeof(v->s), "%" PRIu64, (uint64_t)x);
	return v->s;
}

/* x / 10^digits: v_fixed(412, 6) is "0.000412" */
static const char *v_fixed(struct val *v, __u64 x, unsigned int digits)
{
	__u64 div = 1;
	unsigned int i;

	for (i = 0; i < digits; i++)
		div *= 10;
	snprintf(v->s, sizeof(v->s), "%" PRIu64 ".%0*" PRIu64,
		 (uint64_t)(x / div), (int)digits, (uint64_t)(x % div));
	return v->s;
}

static const char *v_bool(bool b)
{
	return b ? "1" : "0";
}

/* A label value escaped as the text format wants it (backslash, double
 * quote, newline); other control and non-ASCII bytes become '?', so the
 * output is always valid UTF-8, which node-exporter insists on.
 */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '"')
			fputs("\\\"", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c >= 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

/* sample(f, fam, value, "label", "value", ..., NULL) */
static void __attribute__((sentinel))
sample(FILE *f, struct fam *m, const char *value, ...)
{
	const char *key;
	bool any = false;
	va_list ap;

	if (!m->started) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
			m->name, m->type);
		m->started = true;
	}
	fputs(m->name, f);
	va_start(ap, value);
	while ((key = va_arg(ap, const char *))) {
		fprintf(f, "%c%s=\"", any ? ',' : '{', key);
		label_value(f, va_arg(ap, const char *));
		fputc('"', f);
		any = true;
	}
	va_end(ap);
	fprintf(f, "%s %s\n", any ? "}" : "", value);
}

static bool configured(const struct snap *s, unsigned int id)
{
	return mwan_wan_configured(&s->wan[id]);
}

static void write_global(FILE *f, const struct mwan_metrics_in *in,
			 const struct snap *s)
{
	struct fam info = FAM("mwan_info", "gauge",
			      "Always 1; layout is the map layout version "
			      "(MWAN_LAYOUT_VERSION) of the mwan that wrote "
			      "this.");
	struct fam up =
		FAM("mwan_loader_up", "gauge",
		    "1 when mwan-loader runs and keeps its health records "
		    "current (bpfctl status: health data not frozen), "
		    "else 0.");
	struct fam age =
		FAM("mwan_loader_heartbeat_age_seconds", "gauge",
		    "Seconds since mwan-loader last wrote a WAN health "
		    "record (it does at least once a second).");
	struct fam ready = FAM("mwan_ready", "gauge",
			       "1 once the loader has filled the maps.");
	struct fam fast = FAM("mwan_fast_path", "gauge",
			      "1 when XDP forwards (fast_path: true), 0 when "
			      "every packet takes the TC and kernel path.");
	struct fam failopen = FAM("mwan_failopen", "gauge",
				  "1 when no WAN is usable and the best tier "
				  "takes new flows anyway.");
	__u64 newest = 0;
	struct val v;
	unsigned int id;

	sample(f, &info, "1", "layout", v_u64(&v, MWAN_LAYOUT_VERSION), NULL);
	sample(f, &up, v_bool(in->loader_up), NULL);
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (configured(s, id) && s->health[id].updated_ns > newest)
			newest = s->health[id].updated_ns;
	/* no record at all: no age to speak of */
	if (newest)
		sample(f, &age,
		       v_fixed(&v,
			       s->now_ns > newest ?
				       (s->now_ns - newest) / 1000000 :
				       0,
			       3),
		       NULL);
	sample(f, &ready, v_bool(s->cfg.ready), NULL);
	sample(f, &fast, v_bool(s->cfg.fast_path), NULL);
	sample(f, &failopen, v_bool(s->failopen), NULL);
}

static void write_wan_states(FILE *f, const struct snap *s)
{
	static const __u32 admins[] = { MWAN_ADMIN_AUTO, MWAN_ADMIN_UP,
					MWAN_ADMIN_DOWN };
	static const char *const admin_names[] = { "auto", "up", "down" };
	struct fam state = FAM("mwan_wan_state", "gauge",
			       "1 when the WAN takes new flows (bpfctl status "
			       "state up), else 0.");
	struct fam health = FAM("mwan_wan_health", "gauge",
				"1 when the WAN's probes (without probes: its "
				"link) say up, else 0.");
	struct fam link = FAM("mwan_wan_link", "gauge",
			      "1 when the WAN's interface is up, else 0.");
	struct fam admin = FAM("mwan_wan_admin", "gauge",
			       "The operator's override (bpfctl wan NAME "
			       "up|down|auto): 1 for the one in force.");
	unsigned int id, a;
	__u32 cur;

	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (configured(s, id))
			sample(f, &state, v_bool(s->carries[id]), "wan",
			       s->name[id], NULL);
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (configured(s, id))
			sample(f, &health,
			       v_bool(s->wan[id].health == MWAN_HEALTH_UP),
			       "wan", s->name[id], NULL);
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (configured(s, id))
			sample(f, &link,
			       v_bool(s->wan[id].flags & MWAN_WAN_LINK_UP),
			       "wan", s->name[id], NULL);
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (!configured(s, id))
			continue;
		/* the datapath treats any unknown value as auto */
		cur = s->admin[id] == MWAN_ADMIN_UP ||
				      s->admin[id] == MWAN_ADMIN_DOWN ?
			      s->admin[id] :
			      MWAN_ADMIN_AUTO;
		for (a = 0; a < ARRAY_SIZE(admins); a++)
			sample(f, &admin, v_bool(cur == admins[a]), "wan",
			       s->name[id], "admin", admin_names[a], NULL);
	}
}

static void write_traffic(FILE *f, const struct snap *s)
{
	struct fam pkts = FAM("mwan_wan_packets_total", "counter",
			      "Packets mwan translated on the WAN; direction "
			      "out: LAN to WAN, in: WAN to LAN.");
	struct fam bytes = FAM("mwan_wan_bytes_total", "counter",
			       "Bytes mwan translated on the WAN; direction "
			       "out: LAN to WAN, in: WAN to LAN.");
	struct fam flows = FAM("mwan_wan_flows", "gauge",
			       "Tracked flows that use the WAN.");
	struct val v;
	unsigned int id;

	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (!configured(s, id))
			continue;
		sample(f, &pkts, v_u64(&v, s->traffic[id].pkts_out), "wan",
		       s->name[id], "direction", "out", NULL);
		sample(f, &pkts, v_u64(&v, s->traffic[id].pkts_in), "wan",
		       s->name[id], "direction", "in", NULL);
	}
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (!configured(s, id))
			continue;
		sample(f, &bytes, v_u64(&v, s->traffic[id].bytes_out), "wan",
		       s->name[id], "direction", "out", NULL);
		sample(f, &bytes, v_u64(&v, s->traffic[id].bytes_in), "wan",
		       s->name[id], "direction", "in", NULL);
	}
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (configured(s, id))
			sample(f, &flows, v_u64(&v, s->wan_flows[id]), "wan",
			       s->name[id], NULL);
}

static unsigned int n_targets(const struct snap *s, unsigned int id)
{
	unsigned int n = s->health[id].n_targets;

	if (!configured(s, id))
		return 0;
	return n < MWAN_HEALTH_TARGETS ? n : MWAN_HEALTH_TARGETS;
}

static const char *target_label(const struct mwan_metrics_in *in,
				unsigned int id, unsigned int t, char buf[8])
{
	const char *name = in->target[id][t];

	if (name && name[0])
		return name;
	snprintf(buf, 8, "#%u", t);
	return buf;
}

/* RTT and jitter only mean something when the window had answers. */
static bool has_rtt(const struct mwan_probe_stat *p)
{
	return p->received && p->loss_permille < 1000;
}

enum probe_field { P_RTT, P_JITTER, P_LOSS, P_SENT, P_RECEIVED, P_N };

static void write_probes(FILE *f, const struct mwan_metrics_in *in,
			 const struct snap *s)
{
	struct fam fams[P_N] = {
		[P_RTT] =
			FAM("mwan_probe_rtt_seconds", "gauge",
			    "Average round-trip time of the probes answered in "
			    "the window."),
		[P_JITTER] =
			FAM("mwan_probe_jitter_seconds", "gauge",
			    "Mean absolute difference of consecutive probe "
			    "round-trip times in the window."),
		[P_LOSS] =
			FAM("mwan_probe_loss_ratio", "gauge",
			    "Share of the window's probes that got no answer "
			    "(0 to 1)."),
		[P_SENT] = FAM("mwan_probe_sent_total", "counter",
			       "Probes sent since the prober (re)started."),
		[P_RECEIVED] = FAM("mwan_probe_received_total", "counter",
				   "Probes answered since the prober "
				   "(re)started."),
	};
	const struct mwan_probe_stat *p;
	unsigned int field, id, t;
	char alt[8];
	struct val v;

	if (!s->has_health)
		return;
	/* family by family: the format wants each one's samples together */
	for (field = 0; field < P_N; field++) {
		for (id = 0; id < MWAN_MAX_WANS; id++) {
			for (t = 0; t < n_targets(s, id); t++) {
				p = &s->health[id].target[t];
				if ((field == P_RTT || field == P_JITTER) &&
				    !has_rtt(p))
					continue;
				if (field == P_RTT)
					v_fixed(&v, p->rtt_avg_us, 6);
				else if (field == P_JITTER)
					v_fixed(&v, p->jitter_us, 6);
				else if (field == P_LOSS)
					v_fixed(&v, p->loss_permille, 3);
				else if (field == P_SENT)
					v_u64(&v, p->sent);
				else
					v_u64(&v, p->received);
				sample(f, &fams[field], v.s, "wan", s->name[id],
				       "target", target_label(in, id, t, alt),
				       NULL);
			}
		}
	}
}

static void write_table(FILE *f, const struct snap *s)
{
	static const char *const names[MWAN_TABLES] = { "lan", "inbound" };
	struct fam flows =
		FAM("mwan_flows", "gauge", "Tracked flows, both tables.");
	struct fam max = FAM("mwan_flows_max", "gauge",
			     "Capacity of both flow tables (flows_max + "
			     "flows_inbound_max).");
	struct fam entries = FAM("mwan_flow_table_entries", "gauge",
				 "Flows in each table: opened from a LAN, "
				 "opened from outside.");
	struct fam size = FAM("mwan_flow_table_size", "gauge",
			      "Capacity of each flow table; beyond it the "
			      "least recently used flows of that table go.");
	struct fam evicted = FAM("mwan_flow_table_evicted", "gauge",
				 "Flows each table pushed out so far (an "
				 "estimate: created - present - removed).");
	struct val v;
	unsigned int t;

	sample(f, &flows, v_u64(&v, s->flows), NULL);
	sample(f, &max, v_u64(&v, s->flows_max), NULL);
	for (t = 0; t < MWAN_TABLES; t++)
		if (s->table[t].present)
			sample(f, &entries, v_u64(&v, s->table[t].entries),
			       "table", names[t], NULL);
	for (t = 0; t < MWAN_TABLES; t++)
		if (s->table[t].present)
			sample(f, &size, v_u64(&v, s->table[t].size), "table",
			       names[t], NULL);
	for (t = 0; t < MWAN_TABLES; t++)
		if (s->table[t].present)
			sample(f, &evicted, v_u64(&v, s->table[t].evicted),
			       "table", names[t], NULL);
}

static void write_stats(FILE *f, const struct snap *s)
{
	struct fam drops = FAM("mwan_drops_total", "counter",
			       "Packets mwan dropped, by reason (bpfctl stats "
			       "drops).");
	struct fam events = FAM("mwan_events_total", "counter",
				"Datapath events, by name (bpfctl stats "
				"events).");
	struct val v;
	size_t i;

	/* every reason, zero included: a series that appears only on the
	 * first drop makes rate() miss it
	 */
	for (i = 0; i < mwan_n_drops; i++)
		sample(f, &drops, v_u64(&v, s->stat[mwan_drop_names[i].id]),
		       "reason", mwan_drop_names[i].name, NULL);
	for (i = 0; i < mwan_n_events; i++)
		sample(f, &events, v_u64(&v, s->stat[mwan_event_names[i].id]),
		       "event", mwan_event_names[i].name, NULL);
}

/* The drops that happened on a WAN's interface, in or out. */
static void write_wan_drops(FILE *f, const struct snap *s)
{
	struct fam drops = FAM("mwan_wan_drops_total", "counter",
			       "Packets mwan dropped on the WAN's interface, "
			       "by reason (bpfctl stats DROPS_AT).");
	struct val v;
	unsigned int id;
	size_t i;

	if (!s->has_wandrop)
		return;
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (!configured(s, id))
			continue;
		for (i = 0; i < mwan_n_drops; i++)
			sample(f, &drops,
			       v_u64(&v, s->wandrop[id][mwan_drop_names[i].id]),
			       "wan", s->name[id], "reason",
			       mwan_drop_names[i].name, NULL);
	}
}

/* What a LAN sent that may not leave (BCP 38), by its interface. */
static void write_lan_drops(FILE *f, const struct snap *s)
{
	struct fam drops = FAM("mwan_lan_drops_total", "counter",
			       "Packets from the LAN's interface mwan dropped, "
			       "by reason (bpfctl stats DROPS_AT).");
	char ifname[IF_NAMESIZE];
	struct val v;
	unsigned int k;
	size_t i;

	if (!s->has_wandrop)
		return;
	for (k = 0; k < MWAN_MAX_LANS; k++) {
		__u32 ifindex = s->cfg.lan[k].ifindex;

		if (!ifindex)
			continue;
		if (!if_indextoname(ifindex, ifname))
			snprintf(ifname, sizeof(ifname), "if%u", ifindex);
		for (i = 0; i < mwan_n_drops; i++)
			sample(f, &drops,
			       v_u64(&v, s->wandrop[MWAN_WANDROP_LAN + k]
						   [mwan_drop_names[i].id]),
			       "lan", ifname, "reason", mwan_drop_names[i].name,
			       NULL);
	}
}

int mwan_metrics_render(const struct mwan_metrics_in *in, char **buf,
			size_t *len, char *err, size_t errlen)
{
	struct snap *s = malloc(sizeof(*s));
	FILE *f = NULL;
	int ret = -1;
	bool bad;

	*buf = NULL;
	*len = 0;
	if (!s) {
		mwan_set_err(err, errlen, "out of memory");
		return -1;
	}
	if (read_all(&in->fd, s, err, errlen))
		goto out;
	f = open_memstream(buf, len);
	if (!f) {
		mwan_set_err(err, errlen, "out of memory");
		goto out;
	}
	write_global(f, in, s);
	write_wan_states(f, s);
	write_traffic(f, s);
	write_probes(f, in, s);
	write_table(f, s);
	write_stats(f, s);
	write_wan_drops(f, s);
	write_lan_drops(f, s);
	bad = ferror(f);
	if (fclose(f) || bad) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		mwan_set_err(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(s);
	return ret;
}
