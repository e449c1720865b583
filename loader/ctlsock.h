/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RUN_DIR/control: the transport (root-only SOCK_SEQPACKET, one reply a request), served from the main loop. */
#ifndef MWAN_LOADER_CTLSOCK_H
#define MWAN_LOADER_CTLSOCK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

struct ctlsock;

/* What a request gets: true with the reply in out, or false when the
 * reply comes later (ctlsock_answer_waiting). The transport knows no
 * request; loader/command.c does.
 */
typedef bool (*ctlsock_handler)(void *arg, const char *req, size_t len,
				char *out, size_t outlen);

/* Serves run_dir's socket (the caller holds run_dir: a socket left there
 * is stale and replaced).
 */
int ctlsock_open(const char *run_dir, ctlsock_handler handle, void *arg,
		 struct ctlsock **out);
void ctlsock_close(struct ctlsock *c);
/* Adds the socket's descriptors to pfd (at most max); returns how many. */
unsigned int ctlsock_pollfds(struct ctlsock *c, struct pollfd *pfd,
			     unsigned int max);
/* Serves whatever poll() reported on the descriptors ctlsock_pollfds
 * added.
 */
void ctlsock_process(struct ctlsock *c, const struct pollfd *pfd,
		     unsigned int n);
/* The later reply, to every client still waiting for one. */
void ctlsock_answer_waiting(struct ctlsock *c, const char *reply);

#endif
