/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loader log lines: plain for a terminal, syslog-prefixed under journald. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int journal;
static int verbose;

void log_init(void)
{
	/* systemd sets JOURNAL_STREAM when stderr is the journal; "<N>"
	 * prefixes then become the entry's priority.
	 */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_verbose(int v)
{
	verbose = v;
}

int log_verbose(void)
{
	return verbose;
}

static const char *prio_word(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && !verbose)
		return;
	if (journal)
		fprintf(stderr, "<%d>", prio);
	else
		fprintf(stderr, "mwan-loader: %s", prio_word(prio));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
