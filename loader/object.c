/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF object: found, checked against this build's map layout and the kernel, loaded, its maps by id. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "object.h"
#include "pins.h"
#include "../lib/maptable.h"
#include "mwan.skel.h"

/* The object next to the executable (the build tree), or where `make
 * install` puts it relative to the executable; NULL when neither exists.
 */
static const char *find_object(char *buf, size_t len)
{
	static const char *const rel[] = { "mwan.bpf.o",
					   "../lib/mwan/mwan.bpf.o" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned int i;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(buf, len, "%s/%s", dirname(exe), rel[i]);
		if (!access(buf, R_OK))
			return buf;
	}
	return NULL;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long size;

	if (!f)
		return NULL;
	errno = EINVAL; /* an empty or unseekable file */
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc(size);
		if (buf && fread(buf, 1, size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
		*len = size;
	}
	fclose(f);
	return buf;
}

/* The map layout an object was built for: its .rodata mwan_layout. */
static __u32 object_layout(const struct mwan_bpf *skel)
{
	struct btf *btf = bpf_object__btf(skel->obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const char *data;
	__u32 layout = 0;
	size_t size = 0;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) :
		   -1;
	if (id < 0 || !skel->maps.rodata)
		return 0;
	data = bpf_map__initial_value(skel->maps.rodata, &size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; data && i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off),
			    "mwan_layout") &&
		    vs->offset + sizeof(layout) <= size)
			memcpy(&layout, data + vs->offset, sizeof(layout));
	}
	return layout;
}

/* Opens the BPF object from a file (--bpf-object, else next to the
 * executable or installed) or, without one, the copy built in. An
 * upgrade is a new object file and a restart; the file must come from a
 * build with this loader's map layout.
 */
static int open_object(struct loader *l)
{
	char found[PATH_MAX];
	const char *path = l->bpf_object ? l->bpf_object :
					   find_object(found, sizeof(found));
	struct mwan_bpf *skel;
	size_t len = 0;
	int err;

	if (!path) {
		l->skel = mwan_bpf__open();
		if (!l->skel) {
			err = -errno;
			log_err("cannot open the BPF object: %s",
				strerror(-err));
			return err;
		}
		log_info("BPF object: the one built into mwan-loader");
		return 0;
	}
	l->obj_buf = read_file(path, &len);
	if (!l->obj_buf) {
		err = -errno;
		log_err("cannot read the BPF object %s: %s", path,
			strerror(errno));
		return err;
	}
	skel = calloc(1, sizeof(*skel));
	if (!skel)
		return -ENOMEM;
	err = mwan_bpf__create_skeleton(skel);
	if (!err) {
		skel->skeleton->data = l->obj_buf;
		skel->skeleton->data_sz = len;
		err = bpf_object__open_skeleton(skel->skeleton, NULL);
	}
	if (err) {
		log_err("%s: not an mwan BPF object this mwan-loader can use: %s",
			path, strerror(-err));
		mwan_bpf__destroy(skel);
		return err;
	}
	l->skel = skel;
	if (object_layout(skel) != MWAN_LAYOUT_VERSION) {
		log_err("%s: built for map layout %u, this mwan-loader uses %u; install the object of the same build",
			path, object_layout(skel), MWAN_LAYOUT_VERSION);
		return -EPROTO;
	}
	log_info("BPF object: %s", path);
	return 0;
}

/* Once per start: how much of the verifier's budget each program took
 * on this kernel (bpfctl status shows it too).
 */
static void log_verifier(struct loader *l)
{
	int err = kernel_read_verifier(&l->kernel, l->skel->obj);
	char line[256];
	size_t used = 0;
	unsigned int n;

	if (err) {
		log_warn("cannot read the verifier's instruction counts: %s",
			 strerror(-err));
		return;
	}
	line[0] = '\0';
	for (n = 0; n < l->kernel.n_prog && used < sizeof(line); n++) {
		const struct kernel_prog *p = &l->kernel.prog[n];

		used += snprintf(line + used, sizeof(line) - used,
				 "%s%s %u (%u %%)", n ? ", " : "", p->name,
				 p->verified_insns,
				 kernel_verifier_pct(p->verified_insns));
	}
	log_info("kernel %s: the verifier processed %s of %u instructions",
		 l->kernel.release, line, MWAN_VERIFIER_LIMIT);
}

/* Every map of the table, by id (MAP_FD): the other modules need the
 * descriptors, not the skeleton.
 */
static int find_maps(struct loader *l)
{
	unsigned int i;
	int fd;

	for (i = 0; i < MWAN_MAP_COUNT; i++) {
		fd = bpf_object__find_map_fd_by_name(l->skel->obj,
						     mwan_map_table[i].name);
		if (fd < 0) {
			log_err("the BPF object has no map %s",
				mwan_map_table[i].name);
			return -ENOENT;
		}
		l->map_fd[i] = fd;
	}
	return 0;
}

int object_load(struct loader *l)
{
	char msg[512];
	int err = open_object(l);

	if (err)
		return err;
	err = pins_set_paths(l);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.mwan_flows,
					       l->cfg.flows_max);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.mwan_flows_in,
					       l->cfg.flows_inbound_max);
	if (err) {
		log_err("cannot configure the BPF object: %s", strerror(-err));
		return err;
	}
	err = pins_adopt(l);
	if (err)
		return err;
	/* A kernel without what the object needs is refused in one line
	 * before the verifier is asked. Loading before anything is attached
	 * makes pinned-map incompatibilities fail while the interfaces are
	 * untouched.
	 */
	err = kernel_check(l->kernel.release, l->skel->obj,
			   l->skel->skeleton->data, l->skel->skeleton->data_sz,
			   &kernel_probes_libbpf, msg, sizeof(msg));
	if (err) {
		log_err("%s", msg);
		return err;
	}
	err = mwan_bpf__load(l->skel);
	if (err) {
		if (kernel_load_failure(msg, sizeof(msg)))
			log_err("kernel %s: %s", l->kernel.release, msg);
		else
			log_err("cannot load the BPF programs: %s (maps pinned under %s by an incompatible version? remove them with: mwan-loader --cleanup -c %s)",
				strerror(-err), l->cfg.pin_dir, l->cfg.path);
		return err;
	}
	log_verifier(l);
	err = find_maps(l);
	if (err)
		return err;
	l->hostmask_fd = bpf_program__fd(l->skel->progs.mwan_hostmask);
	l->xdp = xdp_program__from_fd(bpf_program__fd(l->skel->progs.mwan_xdp));
	err = (int)libxdp_get_error(l->xdp);
	if (err) {
		l->xdp = NULL;
		log_err("libxdp cannot use the XDP program: %s",
			strerror(-err));
		return err;
	}
	return 0;
}

void object_close(struct loader *l)
{
	if (l->xdp)
		xdp_program__close(l->xdp);
	l->xdp = NULL;
	mwan_bpf__destroy(l->skel);
	l->skel = NULL;
	free(l->obj_buf);
	l->obj_buf = NULL;
}
