// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the running kernel offers mwan: its release, the BPF features the object needs, the verifier's cost of each program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kernel.h"
#include "log.h"
#include "../lib/objcalls.h"

/* Helper names by id, from the UAPI header's own list (whatever its
 * form, __BPF_FUNC_MAPPER applies FN to each name in id order).
 */
#define HELPER_NAME(x) "bpf_" #x
static const char *const helper_names[] = { __BPF_FUNC_MAPPER(HELPER_NAME) };

static const char *helper_name(unsigned int id, char *buf, size_t len)
{
	if (id < sizeof(helper_names) / sizeof(helper_names[0]))
		return helper_names[id];
	snprintf(buf, len, "helper #%u", id);
	return buf;
}

static int probe_prog_type(enum bpf_prog_type type)
{
	return libbpf_probe_bpf_prog_type(type, NULL);
}

static int probe_map_type(enum bpf_map_type type)
{
	return libbpf_probe_bpf_map_type(type, NULL);
}

static int probe_helper(enum bpf_prog_type type, enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(type, id, NULL);
}

const struct kernel_probes kernel_probes_libbpf = {
	.prog_type = probe_prog_type,
	.map_type = probe_map_type,
	.helper = probe_helper,
};

void kernel_release(struct kernel_info *k)
{
	struct utsname u;

	if (uname(&u))
		snprintf(k->release, sizeof(k->release), "unknown");
	else
		snprintf(k->release, sizeof(k->release), "%s", u.release);
}

/* A type name from libbpf, or its number. */
static const char *type_str(const char *s, unsigned int n, char *buf,
			    size_t len)
{
	if (s)
		return s;
	snprintf(buf, len, "#%u", n);
	return buf;
}

/* The one line for a missing feature: what is missing, and who needs it
 * ("mwan_xdp needs", "mwan_tx is").
 */
static int lacks(char *msg, size_t len, const char *release, const char *what,
		 const char *name, const char *verb)
{
	snprintf(
		msg, len,
		"kernel %s lacks %s, which %s %s; mwan cannot run on it (README: Supported kernels)",
		release, what, name, verb);
	return -EOPNOTSUPP;
}

/* The helpers a program calls, itself or through the subprograms it
 * reaches (lib/objcalls.c reads them from the object file: libbpf links
 * subprograms in only at load).
 */
static int check_helpers(const char *release, const struct bpf_program *prog,
			 const void *elf, size_t elf_size,
			 const struct kernel_probes *p, char *msg, size_t len)
{
	enum bpf_prog_type type = bpf_program__type(prog);
	char tb[16], hb[24], what[96];
	bool used[MWAN_HELPERS_MAX];
	unsigned int id;
	int err;

	err = mwan_obj_helpers(elf, elf_size, bpf_program__name(prog), used);
	if (err) {
		snprintf(msg, len, "cannot read the helpers %s calls: %s",
			 bpf_program__name(prog), strerror(-err));
		return err;
	}
	for (id = 0; id < MWAN_HELPERS_MAX; id++) {
		if (!used[id] || p->helper(type, id) != 0)
			continue; /* supported, or the probe cannot tell */
		snprintf(what, sizeof(what), "the BPF helper %s in %s programs",
			 helper_name(id, hb, sizeof(hb)),
			 type_str(libbpf_bpf_prog_type_str(type), type, tb,
				  sizeof(tb)));
		return lacks(msg, len, release, what, bpf_program__name(prog),
			     "needs");
	}
	return 0;
}

int kernel_check(const char *release, struct bpf_object *obj, const void *elf,
		 size_t elf_size, const struct kernel_probes *p, char *msg,
		 size_t len)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char tb[16], what[64];
	int err;

	bpf_object__for_each_program(prog, obj)
	{
		enum bpf_prog_type type = bpf_program__type(prog);

		if (!bpf_program__autoload(prog))
			continue;
		if (!p->prog_type(type)) {
			snprintf(what, sizeof(what), "BPF programs of type %s",
				 type_str(libbpf_bpf_prog_type_str(type), type,
					  tb, sizeof(tb)));
			return lacks(msg, len, release, what,
				     bpf_program__name(prog), "is");
		}
		err = check_helpers(release, prog, elf, elf_size, p, msg, len);
		if (err)
			return err;
	}
	bpf_object__for_each_map(map, obj)
	{
		enum bpf_map_type type = bpf_map__type(map);

		/* .rodata, .bss: plain arrays, probed with the programs */
		if (bpf_map__is_internal(map) || p->map_type(type))
			continue;
		snprintf(what, sizeof(what), "BPF maps of type %s",
			 type_str(libbpf_bpf_map_type_str(type), type, tb,
				  sizeof(tb)));
		return lacks(msg, len, release, what, bpf_map__name(map), "is");
	}
	return 0;
}

int kernel_read_verifier(struct kernel_info *k, struct bpf_object *obj)
{
	struct bpf_program *prog;

	k->n_prog = 0;
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info;
		__u32 ilen = sizeof(info);
		struct kernel_prog *kp;
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;
		if (k->n_prog == MWAN_KERNEL_PROGS)
			return -E2BIG;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
			return -errno;
		kp = &k->prog[k->n_prog++];
		snprintf(kp->name, sizeof(kp->name), "%s",
			 bpf_program__name(prog));
		kp->verified_insns = info.verified_insns;
	}
	return 0;
}

unsigned int kernel_verifier_pct(__u32 insns)
{
	return (unsigned int)(((__u64)insns * 100 + MWAN_VERIFIER_LIMIT - 1) /
			      MWAN_VERIFIER_LIMIT);
}

/* ---- a refused program in one line ---- */

static struct {
	char prog[32]; /* the first program refused */
	char why[128]; /* libbpf's errno text */
	char reason[256]; /* the verifier's last word */
	unsigned long insns; /* processed before it gave up */
} refused;

static void keep_line(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The verifier's log ends "<reason>\nprocessed N insns (limit ...) ...",
 * perhaps followed by more statistics.
 */
static void take_log(const char *log)
{
	const char *p = strstr(log, "\nprocessed "), *start;

	if (!p)
		return;
	refused.insns = strtoul(p + strlen("\nprocessed "), NULL, 10);
	for (start = p; start > log && start[-1] != '\n'; start--)
		;
	keep_line(refused.reason, sizeof(refused.reason), start,
		  (size_t)(p - start));
}

static void take(const char *s)
{
	static const char failed[] = "': BPF program load failed: ",
			  log[] = "': -- BEGIN PROG LOAD LOG --\n";
	const char *name = strstr(s, "prog '"), *end;

	if (!name)
		return;
	name += strlen("prog '");
	end = strchr(name, '\'');
	if (!end)
		return;
	if (!strncmp(end, failed, strlen(failed)) && !refused.prog[0]) {
		keep_line(refused.prog, sizeof(refused.prog), name,
			  (size_t)(end - name));
		end += strlen(failed);
		keep_line(refused.why, sizeof(refused.why), end,
			  strcspn(end, "\n"));
	} else if (!strncmp(end, log, strlen(log)) &&
		   !strncmp(name, refused.prog, (size_t)(end - name))) {
		take_log(end + strlen(log) - 1);
	}
}

int kernel_libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	va_list copy;
	char *s = NULL;
	int n;

	if (log_verbose()) {
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level != LIBBPF_WARN)
		return 0;
	n = vasprintf(&s, fmt, ap);
	if (n < 0)
		return 0;
	take(s);
	free(s);
	return n;
}

const char *kernel_load_failure(char *buf, size_t len)
{
	char insns[48] = "";

	if (!refused.prog[0])
		return NULL;
	if (refused.insns)
		snprintf(insns, sizeof(insns), " after %lu instructions",
			 refused.insns);
	snprintf(
		buf, len,
		"the kernel's verifier refused %s (%s)%s%s%s; mwan-loader -v prints its log",
		refused.prog, refused.why, insns, refused.reason[0] ? ": " : "",
		refused.reason);
	return buf;
}
