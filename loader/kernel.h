/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the running kernel offers mwan: its release, the BPF features the object needs, the verifier's cost of each program. */
#ifndef MWAN_KERNEL_H
#define MWAN_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <bpf/libbpf.h>

/* The verifier gives up after this many processed instructions
 * (BPF_COMPLEXITY_LIMIT_INSNS, the same since 5.2); a program that
 * needs more than MWAN_VERIFIER_BUDGET_PCT of it leaves no room for the
 * next stage, and make check fails.
 */
#define MWAN_VERIFIER_LIMIT 1000000U
#define MWAN_VERIFIER_BUDGET_PCT 60U
#define MWAN_KERNEL_PROGS 4

struct kernel_prog {
	char name[16]; /* BPF_OBJ_NAME_LEN */
	__u32 verified_insns; /* 0: the kernel does not say (before 5.16) */
};

struct kernel_info {
	char release[65];
	struct kernel_prog prog[MWAN_KERNEL_PROGS];
	unsigned int n_prog;
};

/* How kernel_check asks the kernel: 1 supported, 0 not, < 0 unknown. */
struct kernel_probes {
	int (*prog_type)(enum bpf_prog_type type);
	int (*map_type)(enum bpf_map_type type);
	int (*helper)(enum bpf_prog_type type, enum bpf_func_id id);
};

/* libbpf's own probes (each loads a tiny program or creates a map). */
extern const struct kernel_probes kernel_probes_libbpf;

/* uname's release into k->release. */
void kernel_release(struct kernel_info *k);

/* Before obj (opened, not loaded; its ELF bytes in elf) is loaded: every
 * program type, map type and helper it uses must exist in this kernel.
 * 0, or -EOPNOTSUPP with one line in msg naming the first missing one and
 * who needs it.
 */
int kernel_check(const char *release, struct bpf_object *obj, const void *elf,
		 size_t elf_size, const struct kernel_probes *p, char *msg,
		 size_t len);

/* After obj is loaded: the instructions the verifier processed for each
 * program, into k->prog.
 */
int kernel_read_verifier(struct kernel_info *k, struct bpf_object *obj);

/* Percent of MWAN_VERIFIER_LIMIT, rounded up. */
unsigned int kernel_verifier_pct(__u32 insns);

/* libbpf's print callback: everything to stderr when verbose, and what
 * a failed program load said kept for kernel_load_failure().
 */
int kernel_libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap);

/* After a failed load: one line naming the program the verifier refused
 * and the verifier's own reason; NULL when no program was refused.
 */
const char *kernel_load_failure(char *buf, size_t len);

#endif
