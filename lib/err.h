/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Error messages into a caller's buffer, shared by the pure parsers. */
#ifndef MWAN_ERR_H
#define MWAN_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* The size of err buffers callers hand to the parsers and checks. */
#define MWAN_ERR_LEN 512

/* Format into err (when there is room at all); never fails. */
void mwan_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mwan_vset_err(char *err, size_t errlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
