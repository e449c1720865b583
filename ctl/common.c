/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl helpers: opening pinned maps, reading the WAN table, formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfctl.h"
#include "lib/metrics.h"
#include "lib/steer.h"
#include "lib/steermap.h"

static int vreport(const char *fmt, va_list ap)
{
	fputs("bpfctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return CTL_EXIT_FAIL;
}

int ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return CTL_EXIT_FAIL;
}

int ctl_map_open_optional(const struct ctl *ctl, const struct mwan_map_desc *m)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ctl->pin_dir, m->name);
	if (access(path, F_OK) && errno == ENOENT)
		return -2;
	return ctl_map_open(ctl, m, false);
}

int ctl_map_open(const struct ctl *ctl, const struct mwan_map_desc *m,
		 bool writable)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts,
		    .file_flags = writable ? 0 : BPF_F_RDONLY);
	char path[PATH_MAX], err_msg[PATH_MAX + 128];
	const char *hint = "";
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", ctl->pin_dir, m->name);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			hint = " (is mwan-loader running?)";
		else if (err == EPERM || err == EACCES)
			hint = " (bpfctl needs root)";
		ctl_error("cannot open %s: %s%s", path, strerror(err), hint);
		return -1;
	}
	if (mwan_map_check(fd, path, m, err_msg, sizeof(err_msg))) {
		ctl_error("%s", err_msg);
		close(fd);
		return -1;
	}
	return fd;
}

__u32 ctl_map_max_entries(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

int ctl_percpu_sum(int fd, __u32 key, __u64 *sum, unsigned int n_u64)
{
	return mwan_percpu_sum(fd, key, sum, n_u64) ? -1 : 0;
}

void *ctl_vec_push(struct ctl_vec *v)
{
	void *data;

	if (v->n == v->cap) {
		data = reallocarray(v->data, v->cap ? 2 * v->cap : 64, v->size);
		if (!data) {
			v->oom = true;
			return NULL;
		}
		v->data = data;
		v->cap = v->cap ? 2 * v->cap : 64;
	}
	return (char *)v->data + v->n++ * v->size;
}

int ctl_map_walk(int fd, const struct mwan_map_desc *m, ctl_entry_fn fn,
		 void *arg)
{
	void *key = calloc(1, m->key_size), *next = calloc(1, m->key_size);
	void *value = calloc(1, m->value_size);
	/* A key evicted under us restarts the walk from the first key;
	 * bounding the steps keeps a busy LRU from looping forever.
	 */
	unsigned long steps = 2UL * ctl_map_max_entries(fd) + 16;
	void *prev = NULL, *tmp;
	int ret = 0;

	if (!key || !next || !value) {
		ret = -1;
		goto out;
	}
	while (steps--) {
		if (bpf_map_get_next_key(fd, prev, next)) {
			if (errno != ENOENT)
				ret = -1;
			break;
		}
		/* gone since get_next_key: evicted, nothing to show */
		if (!bpf_map_lookup_elem(fd, next, value))
			fn(next, value, arg);
		tmp = key;
		key = next;
		next = tmp;
		prev = key;
	}
out:
	free(key);
	free(next);
	free(value);
	return ret;
}

static int read_array(int fd, __u32 id, void *value, const char *name)
{
	if (bpf_map_lookup_elem(fd, &id, value)) {
		ctl_error("cannot read %s[%u]: %s", name, id, strerror(errno));
		return -1;
	}
	return 0;
}

static int read_wan_slots(int wans_fd, int names_fd, int admin_fd,
			  struct ctl_wans *wans)
{
	struct mwan_name name;
	struct ctl_wan *c;
	__u32 id;

	for (id = 0; id < MWAN_MAX_WANS; id++) {
		c = &wans->wan[id];
		if (read_array(wans_fd, id, &c->w, MWAN_MAP(wans)->name) ||
		    read_array(names_fd, id, &name, MWAN_MAP(names)->name) ||
		    read_array(admin_fd, id, &c->admin, MWAN_MAP(admin)->name))
			return -1;
		/* the map holds a fixed buffer that need not be terminated */
		memcpy(c->name, name.name, MWAN_NAME_LEN);
		c->name[MWAN_NAME_LEN] = '\0';
		c->named = c->name[0] != '\0';
		if (!c->named)
			snprintf(c->name, sizeof(c->name), "wan%u", id);
	}
	return 0;
}

static int read_cfg(const struct ctl *ctl, struct mwan_cfg *cfg)
{
	int live = ctl_map_open(ctl, MWAN_MAP(live), false);
	int fd = live < 0 ? -1 : ctl_map_open(ctl, MWAN_MAP(cfg), false);
	__u32 slot;
	int ret;

	if (fd < 0) {
		if (live >= 0)
			close(live);
		return -1;
	}
	ret = mwan_cfg_read_live(live, fd, &slot, cfg);
	close(fd);
	close(live);
	if (ret) {
		ctl_error("cannot read %s: %s", MWAN_MAP(cfg)->name,
			  strerror(-ret));
		return -1;
	}
	/* 0: the loader has not filled the maps yet, which is not a mismatch */
	if (cfg->layout_version && cfg->layout_version != MWAN_LAYOUT_VERSION) {
		ctl_error(
			"maps have layout version %u, this bpfctl reads version %u",
			cfg->layout_version, MWAN_LAYOUT_VERSION);
		return -1;
	}
	return 0;
}

int ctl_wans_load(const struct ctl *ctl, struct ctl_wans *wans)
{
	int wans_fd, names_fd = -1, admin_fd = -1, ret = -1;

	memset(wans, 0, sizeof(*wans));
	wans_fd = ctl_map_open(ctl, MWAN_MAP(wans), false);
	if (wans_fd < 0)
		return -1;
	names_fd = ctl_map_open(ctl, MWAN_MAP(names), false);
	if (names_fd < 0)
		goto out;
	admin_fd = ctl_map_open(ctl, MWAN_MAP(admin), false);
	if (admin_fd < 0)
		goto out;
	if (read_wan_slots(wans_fd, names_fd, admin_fd, wans) ||
	    read_cfg(ctl, &wans->cfg))
		goto out;
	ctl_wans_decide(wans);
	ret = 0;
out:
	if (admin_fd >= 0)
		close(admin_fd);
	if (names_fd >= 0)
		close(names_fd);
	close(wans_fd);
	return ret;
}

/* The datapath only sees the steering table, so ask the code that
 * computes it; a host mapped on every WAN sees exactly this choice.
 */
void ctl_wans_decide(struct ctl_wans *wans)
{
	struct mwan_wan w[MWAN_MAX_WANS];
	__u32 admin[MWAN_MAX_WANS];
	struct mwan_steer st;
	struct ctl_wan *c;
	unsigned int id;

	for (id = 0; id < MWAN_MAX_WANS; id++) {
		w[id] = wans->wan[id].w;
		admin[id] = wans->wan[id].admin;
	}
	mwan_steer_compute(w, admin, MWAN_STEER_MASKS - 1, &st);
	wans->failopen = st.failopen;
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		c = &wans->wan[id];
		c->usable = mwan_wan_usable(&c->w, c->admin);
		c->carries = st.members & (1U << id);
	}
}

int ctl_wan_find(const struct ctl_wans *wans, const char *name)
{
	unsigned int id;

	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (wans->wan[id].named &&
		    mwan_wan_configured(&wans->wan[id].w) &&
		    !strcmp(wans->wan[id].name, name))
			return id;
	return -1;
}

int ctl_unknown_wan(const struct ctl_wans *wans, const char *name)
{
	unsigned int id;

	fprintf(stderr, "bpfctl: unknown WAN '%s'\n", name);
	fputs("bpfctl: known WANs:", stderr);
	for (id = 0; id < MWAN_MAX_WANS; id++)
		if (wans->wan[id].named &&
		    mwan_wan_configured(&wans->wan[id].w))
			fprintf(stderr, " %s", wans->wan[id].name);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

const char *ctl_wan_name(const struct ctl_wans *wans, unsigned int id,
			 char buf[MWAN_NAME_LEN + 8])
{
	if (id < MWAN_MAX_WANS)
		return wans->wan[id].name;
	snprintf(buf, MWAN_NAME_LEN + 8, "wan%u", id);
	return buf;
}

const char *ctl_ipv4_str(__be32 addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

const char *ctl_ipv6_str(const __u8 addr[16], char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, addr, buf, INET6_ADDRSTRLEN);
}

int ctl_npt_load(const struct ctl *ctl, struct ctl_npt npt[MWAN_MAX_WANS])
{
	int fd = ctl_map_open(ctl, MWAN_MAP(npt), false);
	__u64 now = mwan_mono_ns();
	__u32 id;

	memset(npt, 0, MWAN_MAX_WANS * sizeof(*npt));
	if (fd < 0)
		return -1;
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (bpf_map_lookup_elem(fd, &id, &npt[id].e))
			continue;
		npt[id].valid = !npt[id].e.valid_until_ns ||
				now < npt[id].e.valid_until_ns;
	}
	close(fd);
	return 0;
}

const char *ctl_mac_str(const __u8 mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
