/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Error messages into a caller's buffer, shared by the pure parsers. */
#include <stdio.h>

#include "err.h"

void mwan_vset_err(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

void mwan_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mwan_vset_err(err, errlen, fmt, ap);
	va_end(ap);
}
