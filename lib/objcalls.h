/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF helpers a program of an object file reaches, through its subprograms: read from the ELF. */
#ifndef MWAN_OBJCALLS_H
#define MWAN_OBJCALLS_H

#include <stdbool.h>
#include <stddef.h>

#define MWAN_HELPERS_MAX 256

/* used[id] for every helper program `prog` (its function's name) calls,
 * itself or in any subprogram it reaches, in the BPF object `elf`; before
 * libbpf links the subprograms in, which happens only at load. 0 or
 * -errno (not an object, no such function, a call with no target).
 */
int mwan_obj_helpers(const void *elf, size_t size, const char *prog,
		     bool used[MWAN_HELPERS_MAX]);

#endif
