/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl status: what the loader's probes say about each WAN (mwan_health). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpfctl.h"
#include "lib/config.h"
#include "lib/health.h"
#include "lib/print.h"
#include "lib/rundir.h"

#define NS_PER_S 1000000000ULL

/* A loader from before mwan_health has no such map: no health data, which
 * is not an error.
 */
static int read_records(const struct ctl *ctl, struct ctl_health *out)
{
	char path[PATH_MAX];
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctl->pin_dir,
		 MWAN_MAP(health)->name);
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	fd = ctl_map_open(ctl, MWAN_MAP(health), false);
	if (fd < 0)
		return -1;
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (bpf_map_lookup_elem(fd, &id, &out->h[id]))
			memset(&out->h[id], 0, sizeof(out->h[id]));
	close(fd);
	return 0;
}

static void set_target(struct ctl_health *out, int id, unsigned int t,
		       const char *text)
{
	if (id < 0 || id >= MWAN_MAX_WANS || t >= MWAN_HEALTH_TARGETS ||
	    out->target[id][t][0])
		return;
	snprintf(out->target[id][t], sizeof(out->target[id][t]), "%s", text);
}

/* The map holds numbers only; RUN_DIR/status says what each target
 * slot probes.
 */
static void targets_from_run_dir(const struct ctl *ctl,
				 const struct ctl_wans *wans,
				 struct ctl_health *out)
{
	static struct mwan_status st;
	unsigned int i;

	mwan_status_read(ctl->run_dir, &st);
	for (i = 0; i < st.n_target; i++)
		set_target(out, ctl_wan_find(wans, st.target[i].wan),
			   st.target[i].index, st.target[i].text);
}

/* A stopped loader took RUN_DIR/status with it; -c names the config. */
static void targets_from_config(const struct ctl *ctl,
				const struct ctl_wans *wans,
				struct ctl_health *out)
{
	static struct mwan_config cfg;
	char err[MWAN_ERR_LEN];
	unsigned int w, t;

	if (!ctl->config ||
	    mwan_config_load(ctl->config, &cfg, err, sizeof(err)))
		return;
	for (w = 0; w < cfg.n_wans; w++)
		for (t = 0; t < cfg.wans[w].n_probe_targets; t++)
			set_target(out, ctl_wan_find(wans, cfg.wans[w].name), t,
				   cfg.wans[w].probe_targets[t].text);
	mwan_config_free(&cfg);
}

/* The loader rewrites every record at least once a second; older than
 * CTL_HEALTH_STALE_S, they no longer follow the WANs.
 */
static void judge_frozen(const struct ctl_wans *wans, bool loader_running,
			 struct ctl_health *out)
{
	__u64 newest = 0, now = mwan_mono_ns();
	unsigned int id;

	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (mwan_wan_configured(&wans->wan[id].w) &&
		    out->h[id].updated_ns > newest)
			newest = out->h[id].updated_ns;
	out->frozen = true;
	if (!loader_running)
		snprintf(out->frozen_why, sizeof(out->frozen_why),
			 "mwan-loader is not running");
	else if (!newest)
		snprintf(out->frozen_why, sizeof(out->frozen_why),
			 "mwan-loader has not written any");
	else if (now > newest && now - newest > CTL_HEALTH_STALE_S * NS_PER_S)
		snprintf(out->frozen_why, sizeof(out->frozen_why),
			 "mwan-loader has not updated it for %llu s",
			 (unsigned long long)((now - newest) / NS_PER_S));
	else
		out->frozen = false;
}

int ctl_health_load(const struct ctl *ctl, const struct ctl_wans *wans,
		    bool loader_running, struct ctl_health *out)
{
	memset(out, 0, sizeof(*out));
	if (read_records(ctl, out))
		return -1;
	targets_from_run_dir(ctl, wans, out);
	targets_from_config(ctl, wans, out);
	judge_frozen(wans, loader_running, out);
	return 0;
}

void ctl_health_print_frozen(const struct ctl_health *h)
{
	print_bool("health_frozen", NULL, h->frozen);
	if (h->frozen)
		print_text("health data frozen: %s\n", h->frozen_why);
}

static __u64 ago_s(const struct mwan_health_info *i)
{
	__u64 now = mwan_mono_ns();

	return now > i->since_ns ? (now - i->since_ns) / NS_PER_S : 0;
}

/* "12s", "3m05s", "2h03m", "4d02h": the two largest units. */
static const char *ago_str(__u64 s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60,
			 (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)s / 3600,
			 (unsigned long long)s % 3600 / 60);
	else
		snprintf(buf, len, "%llud%02lluh",
			 (unsigned long long)s / 86400,
			 (unsigned long long)s % 86400 / 3600);
	return buf;
}

/* JSON in UTC; text in local time, as date(1) shows it. */
static const char *wall_str(__u64 s, bool utc, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S",
		 &tm);
	return buf;
}

static bool has_record(const struct mwan_health_info *i)
{
	return i->updated_ns != 0;
}

static const char *health_word(const struct mwan_health_info *i)
{
	if (!has_record(i))
		return "-";
	if (i->holding)
		return "holding";
	return i->health == MWAN_HEALTH_UP ? "up" : "down";
}

/* One target; text: the columns after REASON. */
static void print_target(const struct ctl_health *h, unsigned int id,
			 unsigned int t)
{
	const struct mwan_probe_stat *s = &h->h[id].target[t];
	char alt[16];

	print_open_object(NULL);
	if (h->target[id][t][0]) {
		print_str("address", "%-24s ", h->target[id][t]);
	} else {
		/* neither the loader's status file nor -c names it */
		snprintf(alt, sizeof(alt), "#%u", t);
		print_null("address", NULL);
		print_text("%-24s ", alt);
	}
	if (s->received) {
		print_milli("rtt_avg_ms", "%-8s ", s->rtt_avg_us);
		print_milli("jitter_ms", "%-9s ", s->jitter_us);
	} else {
		/* nothing answered: no RTT to speak of */
		print_null("rtt_avg_ms", "-        ");
		print_null("jitter_ms", "-         ");
	}
	print_tenths("loss_pct", "%5s%% ", s->loss_permille);
	print_u64("sent", "%-8" PRIu64 " ", s->sent);
	print_u64("received", "%" PRIu64 "\n", s->received);
	print_close_object();
}

/* JSON only: since, reason, holding and targets of one WAN object. */
void ctl_health_print_wan(const struct ctl_health *h, unsigned int id)
{
	const struct mwan_health_info *i = &h->h[id];
	char buf[32];
	unsigned int t;

	if (!print_is_json())
		return;
	if (has_record(i)) {
		print_open_object("since");
		print_u64("ago_s", NULL, ago_s(i));
		print_str("time", NULL,
			  wall_str(i->since_realtime_s, true, buf,
				   sizeof(buf)));
		print_close_object();
		print_str("reason", NULL, mwan_health_reason_name(i->reason));
		print_bool("holding", NULL, i->holding);
	} else {
		print_null("since", NULL);
		print_null("reason", NULL);
		print_null("holding", NULL);
	}
	print_open_array("targets");
	for (t = 0; t < i->n_targets && t < MWAN_HEALTH_TARGETS; t++)
		print_target(h, id, t);
	print_close_array();
}

static void print_health_line(const struct ctl_wan *c,
			      const struct ctl_health *h, unsigned int id)
{
	const struct mwan_health_info *i = &h->h[id];
	char wall[32] = "-", ago[16] = "-";
	unsigned int t;

	if (has_record(i)) {
		wall_str(i->since_realtime_s, false, wall, sizeof(wall));
		ago_str(ago_s(i), ago, sizeof(ago));
	}
	print_text("%-15s %-7s %-19s %-6s %-12s ", c->name, health_word(i),
		   wall, ago,
		   has_record(i) ? mwan_health_reason_name(i->reason) : "-");
	if (!i->n_targets)
		print_text("-\n");
	for (t = 0; t < i->n_targets && t < MWAN_HEALTH_TARGETS; t++) {
		if (t)
			print_text("%64s", "");
		print_target(h, id, t);
	}
}

/* Text only: the probes' view of each WAN, one line per target. */
void ctl_health_print_table(const struct ctl_wans *wans,
			    const struct ctl_health *h)
{
	unsigned int id;

	if (print_is_json())
		return;
	print_text(
		"\n%-15s %-7s %-19s %-6s %-12s %-24s %-8s %-9s %-6s %-8s %s\n",
		"WAN", "HEALTH", "SINCE", "AGO", "REASON", "TARGET", "RTT_MS",
		"JITTER_MS", "LOSS", "SENT", "RECEIVED");
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (mwan_wan_configured(&wans->wan[id].w))
			print_health_line(&wans->wan[id], h, id);
}
