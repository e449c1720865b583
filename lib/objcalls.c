/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF helpers a program of an object file reaches, through its subprograms: read from the ELF. */
#include <errno.h>
#include <gelf.h>
#include <string.h>
#include <linux/bpf.h>

#include "objcalls.h"

#define MAX_FUNCS 256
#define INSN_SZ sizeof(struct bpf_insn)

/* One function of the object: a symbol of type FUNC. */
struct func {
	size_t sec; /* its section's index */
	size_t start, cnt; /* in instructions */
	const char *name;
};

struct obj {
	Elf *elf;
	Elf_Data *symtab;
	size_t strtab; /* symbol names' section */
	struct func f[MAX_FUNCS];
	unsigned int n;
};

static int collect_funcs(struct obj *o)
{
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Scn *scn = NULL;
	int i;

	while ((scn = elf_nextscn(o->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		o->symtab = elf_getdata(scn, NULL);
		o->strtab = sh.sh_link;
		break;
	}
	if (!o->symtab)
		return -ENOENT;
	for (i = 0; gelf_getsym(o->symtab, i, &sym); i++) {
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		if (o->n == MAX_FUNCS)
			return -E2BIG;
		o->f[o->n].sec = sym.st_shndx;
		o->f[o->n].start = sym.st_value / INSN_SZ;
		o->f[o->n].cnt = sym.st_size / INSN_SZ;
		o->f[o->n].name = elf_strptr(o->elf, o->strtab, sym.st_name);
		o->n++;
	}
	return 0;
}

static int func_at(const struct obj *o, size_t sec, size_t insn)
{
	unsigned int i;

	for (i = 0; i < o->n; i++)
		if (o->f[i].sec == sec && o->f[i].start == insn)
			return (int)i;
	return -1;
}

/* The symbol a relocation of section `sec` names at byte `off`, if any:
 * a call into another section goes through one.
 */
static bool reloc_sym(const struct obj *o, size_t sec, size_t off,
		      GElf_Sym *sym)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Rel rel;
	Elf_Data *d;
	int i;

	while ((scn = elf_nextscn(o->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_REL ||
		    sh.sh_info != sec || !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; gelf_getrel(d, i, &rel); i++)
			if (rel.r_offset == off)
				return gelf_getsym(o->symtab,
						   GELF_R_SYM(rel.r_info),
						   sym) != NULL;
	}
	return false;
}

/* Marks function i's helpers and, recursively, those of what it calls
 * (as libbpf resolves a call: the target is the symbol's instruction
 * plus imm + 1, or, without a relocation, this one's plus imm + 1).
 */
static int walk(const struct obj *o, unsigned int i, bool *seen_fn,
		bool used[MWAN_HELPERS_MAX])
{
	const struct func *f = &o->f[i];
	Elf_Scn *scn = elf_getscn(o->elf, f->sec);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const struct bpf_insn *insn;
	size_t k;
	int err;

	if (seen_fn[i])
		return 0;
	seen_fn[i] = true;
	if (!d || (f->start + f->cnt) * INSN_SZ > d->d_size)
		return -EINVAL;
	insn = (const struct bpf_insn *)d->d_buf;
	for (k = f->start; k < f->start + f->cnt; k++) {
		size_t sec = f->sec, target;
		GElf_Sym sym;
		int j;

		if (insn[k].code != (BPF_JMP | BPF_CALL))
			continue;
		if (insn[k].src_reg == 0) {
			if ((unsigned int)insn[k].imm < MWAN_HELPERS_MAX)
				used[insn[k].imm] = true;
			continue;
		}
		if (insn[k].src_reg != BPF_PSEUDO_CALL)
			continue;
		target = k + insn[k].imm + 1;
		if (reloc_sym(o, f->sec, k * INSN_SZ, &sym)) {
			sec = sym.st_shndx;
			target = sym.st_value / INSN_SZ + insn[k].imm + 1;
		}
		j = func_at(o, sec, target);
		if (j < 0)
			return -ENOENT;
		err = walk(o, (unsigned int)j, seen_fn, used);
		if (err)
			return err;
	}
	return 0;
}

int mwan_obj_helpers(const void *elf, size_t size, const char *prog,
		     bool used[MWAN_HELPERS_MAX])
{
	bool seen_fn[MAX_FUNCS] = { false };
	struct obj o = { 0 };
	unsigned int i;
	int err = -ENOENT;

	memset(used, 0, MWAN_HELPERS_MAX * sizeof(*used));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	o.elf = elf_memory((char *)elf, size);
	if (!o.elf)
		return -EINVAL;
	err = collect_funcs(&o);
	for (i = 0; !err && i < o.n; i++)
		if (o.f[i].name && !strcmp(o.f[i].name, prog))
			break;
	if (!err)
		err = i < o.n ? walk(&o, i, seen_fn, used) : -ENOENT;
	elf_end(o.elf);
	return err;
}
