/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RUN_DIR/control: the transport (root-only SOCK_SEQPACKET, one reply a request), served from the main loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctlsock.h"
#include "log.h"
#include "../lib/rundir.h"
#include "../lib/control.h"
#include "../lib/clock.h"

#define CTL_CLIENTS 16
#define CTL_IDLE_MS 5000 /* a silent client is dropped after this */
#define CTL_WAIT_MS 60000 /* one waiting for a later reply, after this */
#define CTL_BACKLOG 16

struct ctl_client {
	int fd; /* -1: free */
	__u64 since_ms; /* accepted then */
	__u64 deadline_ms;
	bool waiting; /* its reply comes later: ctlsock_answer_waiting */
	char refusal[96]; /* non-empty: the only reply this client gets */
};

struct ctlsock {
	ctlsock_handler handle;
	void *arg;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client c[CTL_CLIENTS];
	int slot[CTL_CLIENTS]; /* pollfd i + 1 serves client slot[i] */
	unsigned int polled;
};

static int control_path(const char *run_dir, struct sockaddr_un *sa)
{
	int err = mwan_run_socket_addr(run_dir, sa);

	if (err)
		log_err("run_dir %s is too long for a unix socket path",
			run_dir);
	return err;
}

/* The caller holds run_dir (lib/rundir.h), so a socket there was left
 * by a loader that died: it is replaced.
 */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; not replacing it",
			sa->sun_path);
		return -EEXIST;
	}
	return unlink(sa->sun_path) ? -errno : 0;
}

static int bind_root_only(int fd, const struct sockaddr_un *sa)
{
	mode_t old = umask(0177);
	int err = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));

	umask(old);
	if (err)
		return -errno;
	if (chown(sa->sun_path, 0, 0) || chmod(sa->sun_path, 0600))
		return -errno;
	return listen(fd, CTL_BACKLOG) ? -errno : 0;
}

int ctlsock_open(const char *run_dir, ctlsock_handler handle, void *arg,
		 struct ctlsock **out)
{
	struct ctlsock *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;
	unsigned int i;
	int err;

	if (!c)
		return -ENOMEM;
	c->handle = handle;
	c->arg = arg;
	c->fd = -1;
	for (i = 0; i < CTL_CLIENTS; i++)
		c->c[i].fd = -1;
	err = control_path(run_dir, &sa);
	if (!err)
		err = clear_stale(&sa);
	if (err) {
		free(c);
		return err;
	}
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	err = c->fd < 0 ? -errno : bind_root_only(c->fd, &sa);
	if (err) {
		log_err("cannot serve control socket %s: %s", sa.sun_path,
			strerror(-err));
		if (c->fd >= 0) {
			close(c->fd);
			unlink(sa.sun_path);
		}
		free(c);
		return err;
	}
	snprintf(c->path, sizeof(c->path), "%s", sa.sun_path);
	*out = c;
	log_info("control socket %s", c->path);
	return 0;
}

static void client_close(struct ctl_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	cl->waiting = false;
	cl->refusal[0] = '\0';
}

void ctlsock_close(struct ctlsock *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < CTL_CLIENTS; i++)
		client_close(&c->c[i]);
	close(c->fd);
	unlink(c->path);
	free(c);
}

unsigned int ctlsock_pollfds(struct ctlsock *c, struct pollfd *pfd,
			     unsigned int max)
{
	unsigned int i, n = 0;

	if (!c || !max)
		return 0;
	pfd[n].fd = c->fd;
	pfd[n++].events = POLLIN;
	c->polled = 0;
	for (i = 0; i < CTL_CLIENTS && n < max; i++) {
		if (c->c[i].fd < 0)
			continue;
		pfd[n].fd = c->c[i].fd;
		pfd[n++].events = POLLIN;
		c->slot[c->polled++] = i;
	}
	return n;
}

/* Best effort and never blocking: a client that does not read its reply
 * loses it.
 */
static void reply(int fd, const char *text)
{
	if (send(fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: reply lost: %s", strerror(errno));
}

/* Unread requests make close() reset the connection, and the client
 * would see that instead of the reply: read them all first.
 */
static void drain(int fd)
{
	char buf[64];
	int i;

	for (i = 0; i < 8; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			return;
}

/* One datagram, one reply; returns false when the client is done. */
static bool serve(struct ctlsock *c, struct ctl_client *cl)
{
	char buf[MWAN_CONTROL_MAX + 2], out[MWAN_CONTROL_REPLY_MAX];
	struct iovec iov = { buf, MWAN_CONTROL_MAX + 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(cl->fd, &m, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (cl->refusal[0]) {
		drain(cl->fd);
		reply(cl->fd, cl->refusal);
		return false;
	}
	if (m.msg_flags & MSG_TRUNC) {
		log_warn("control: request refused: longer than %d bytes",
			 MWAN_CONTROL_MAX);
		snprintf(out, sizeof(out),
			 "error: request too long (more than %d bytes)",
			 MWAN_CONTROL_MAX);
	} else if (!c->handle(c->arg, buf, n, out, sizeof(out))) {
		cl->waiting = true;
		cl->deadline_ms = mwan_mono_ms() + CTL_WAIT_MS;
		return true;
	}
	reply(cl->fd, out);
	cl->deadline_ms = mwan_mono_ms() + CTL_IDLE_MS;
	return true;
}

void ctlsock_answer_waiting(struct ctlsock *c, const char *out)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < CTL_CLIENTS; i++) {
		struct ctl_client *cl = &c->c[i];

		if (cl->fd < 0 || !cl->waiting)
			continue;
		reply(cl->fd, out);
		cl->waiting = false;
		cl->deadline_ms = mwan_mono_ms() + CTL_IDLE_MS;
	}
}

static bool peer_is_root(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return false;
	return cred->uid == 0;
}

/* A slot for a new client. When all are taken, the client that has held
 * one longest makes room (it had its turn): a newcomer is never refused,
 * so no set of clients, however busy, keeps the others out.
 */
static struct ctl_client *free_slot(struct ctlsock *c)
{
	struct ctl_client *oldest = &c->c[0];
	unsigned int i;

	for (i = 0; i < CTL_CLIENTS; i++) {
		if (c->c[i].fd < 0)
			return &c->c[i];
		if (c->c[i].since_ms < oldest->since_ms)
			oldest = &c->c[i];
	}
	log_warn(
		"control: all %d connections in use; closing the oldest for a new one",
		CTL_CLIENTS);
	drain(oldest->fd);
	reply(oldest->fd,
	      "error: too many control connections; this one was closed for a newer one, try again");
	client_close(oldest);
	return oldest;
}

/* Clients that are not root get a refusal as the answer to their request
 * (answering before it arrives would leave them with a broken pipe). A
 * request already waiting is served at once: a client is not at the
 * mercy of the next poll round, in which newer ones may push it out.
 */
static void accept_one(struct ctlsock *c, int fd)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
	struct ctl_client *cl = free_slot(c);

	cl->fd = fd;
	cl->since_ms = mwan_mono_ms();
	cl->deadline_ms = cl->since_ms + CTL_IDLE_MS;
	cl->waiting = false;
	cl->refusal[0] = '\0';
	if (!peer_is_root(fd, &cred)) {
		log_warn(
			"control: refused a client: uid %d (pid %d) is not root",
			(int)cred.uid, (int)cred.pid);
		snprintf(cl->refusal, sizeof(cl->refusal),
			 "error: permission denied (uid %d is not root)",
			 (int)cred.uid);
	}
	if (!serve(c, cl))
		client_close(cl);
}

static void accept_all(struct ctlsock *c)
{
	int i, fd;

	/* bounded, so a flood of connects cannot starve the loop */
	for (i = 0; i < CTL_BACKLOG; i++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		accept_one(c, fd);
	}
}

void ctlsock_process(struct ctlsock *c, const struct pollfd *pfd,
		     unsigned int n)
{
	__u64 now = mwan_mono_ms();
	unsigned int i;

	if (!c || !n)
		return;
	for (i = 0; i + 1 < n && i < c->polled; i++) {
		struct ctl_client *cl = &c->c[c->slot[i]];
		short ev = pfd[i + 1].revents;

		if (cl->fd != pfd[i + 1].fd)
			continue;
		if ((ev & POLLIN) && serve(c, cl))
			continue;
		if (ev & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			client_close(cl);
	}
	for (i = 0; i < CTL_CLIENTS; i++)
		if (c->c[i].fd >= 0 && now > c->c[i].deadline_ms)
			client_close(&c->c[i]);
	if (pfd[0].revents & POLLIN)
		accept_all(c);
}
