/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl's side of the loader's control socket: connect, one request, its reply, retries while busy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "bpfctl.h"
#include "lib/control.h"
#include "lib/print.h"
#include "lib/rundir.h"

#define REPLY_TIMEOUT_S 30 /* a reload walks the whole flow table */

/* An argument as messages show it: non-printable bytes as \xNN. */
const char *ctl_shown(const char *s, char *buf, size_t len)
{
	size_t off = 0;

	for (; *s && off + 5 < len; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f)
			buf[off++] = c;
		else
			off += snprintf(buf + off, len - off, "\\x%02x", c);
	}
	buf[off] = '\0';
	return buf;
}

/* How long bpfctl waits out a control socket that is busy (every
 * connection in use, or the backlog full) before it gives up; the
 * environment's MWAN_CTL_RETRY_S (0 to 3600) may say otherwise.
 */
#define BUSY_RETRY_S 10
#define BUSY_FIRST_WAIT_MS 20
#define BUSY_MAX_WAIT_MS 1000
#define BUSY_REPLY "error: too many control connections"

/* A connected socket, -1 after an error (reported), or -2 when the
 * loader is busy: its backlog is full (not reported: the caller retries).
 */
static int control_connect(const struct ctl *ctl)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	struct sockaddr_un sa;
	int fd, err;

	if (mwan_run_socket_addr(ctl->run_dir, &sa)) {
		ctl_error("run dir %s is too long for a socket path",
			  ctl->run_dir);
		return -1;
	}
	/* non-blocking for connect(): a full backlog says EAGAIN at once */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ctl_error("socket: %s", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fcntl(fd, F_SETFL, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		return fd;
	}
	err = errno;
	close(fd);
	if (err == EAGAIN)
		return -2;
	if (err == ENOENT || err == ECONNREFUSED)
		ctl_error("loader not running (no control socket at %s)",
			  sa.sun_path);
	else
		ctl_error("cannot connect to %s: %s%s", sa.sun_path,
			  strerror(err),
			  err == EACCES || err == EPERM ?
				  " (bpfctl needs root)" :
				  "");
	return -1;
}

/* One request, one reply (NUL-terminated in reply): 0, -1 after an error
 * (reported), -2 when the loader was too busy to take it.
 */
static int control_call_once(const struct ctl *ctl, const char *req,
			     char *reply, size_t len)
{
	int fd = control_connect(ctl), err;
	ssize_t n;

	if (fd < 0)
		return fd;
	/* a loader that refuses may answer and hang up before the request
	 * is sent: its answer is still there to read
	 */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		ctl_error("cannot send to the loader: %s", strerror(errno));
		close(fd);
		return -1;
	}
	n = recv(fd, reply, len - 1, 0);
	err = errno;
	close(fd);
	if (n > 0) {
		reply[n] = '\0';
		return strncmp(reply, BUSY_REPLY, strlen(BUSY_REPLY)) ? 0 : -2;
	}
	if (n == 0)
		ctl_error("the loader closed the connection without a reply");
	else if (err == EAGAIN || err == EWOULDBLOCK)
		ctl_error("no reply from the loader within %d s",
			  REPLY_TIMEOUT_S);
	else
		ctl_error("cannot read the loader's reply: %s", strerror(err));
	return -1;
}

static unsigned int retry_s(void)
{
	const char *v = getenv("MWAN_CTL_RETRY_S");
	char *end;
	unsigned long n;

	if (!v || !*v)
		return BUSY_RETRY_S;
	n = strtoul(v, &end, 10);
	return *end || n > 3600 ? BUSY_RETRY_S : (unsigned int)n;
}

/* The request, retried with backoff while the loader is busy (other
 * clients hold every connection), for up to BUSY_RETRY_MS: a DHCP hook's
 * prefix change waits its turn instead of being lost.
 */
int ctl_call(const struct ctl *ctl, const char *req, char *reply, size_t len)
{
	unsigned int wait_ms = BUSY_FIRST_WAIT_MS, waited = 0;
	unsigned int limit_s = retry_s();
	int rc;

	while ((rc = control_call_once(ctl, req, reply, len)) == -2) {
		if (waited >= limit_s * 1000)
			return ctl_error(
				"the loader's control socket stayed busy (every connection in use) for %u s; gave up: '%s' was not applied",
				limit_s, req);
		if (!waited)
			fprintf(stderr,
				"bpfctl: the loader's control socket is busy; retrying for up to %u s\n",
				limit_s);
		usleep(wait_ms * 1000);
		waited += wait_ms;
		wait_ms = wait_ms * 2 > BUSY_MAX_WAIT_MS ? BUSY_MAX_WAIT_MS :
							   wait_ms * 2;
	}
	return rc;
}

int ctl_print_reply(const char *reply)
{
	char buf[4 * MWAN_CONTROL_REPLY_MAX + 8];

	if (!strncmp(reply, "ok", 2) && (!reply[2] || reply[2] == ' ')) {
		const char *msg = reply[2] ? reply + 3 : "";

		print_open_object(NULL);
		print_bool("ok", NULL, true);
		print_str("message", "%s\n", ctl_shown(msg, buf, sizeof(buf)));
		print_close_object();
		return 0;
	}
	if (!strncmp(reply, "error: ", 7))
		return ctl_error("%s", ctl_shown(reply + 7, buf, sizeof(buf)));
	return ctl_error("unexpected reply from the loader: '%s'",
			 ctl_shown(reply, buf, sizeof(buf)));
}
