// SPDX-License-Identifier: MIT
/*
 * net.c - the libuv transport of mmsimd.
 *
 * DOC: thread model
 *
 * (1) The main thread runs the main loop: the TCP and Unix listeners, the
 *     SIGINT/SIGTERM handlers, and the "workers done" async. It accepts
 *     each connection, takes its fd out of libuv (dup, then close the
 *     main loop's handle) and queues it on the next worker, round-robin.
 * (2) Each worker thread runs its own loop and owns every connection on
 *     it: the stream, the timer, the buffers and the rpc session. Nothing
 *     of a connection is touched from another thread.
 * (3) Off a loop's own thread the only libuv call made is uv_async_send().
 *     It coalesces, so the worker drains its whole queue per wakeup.
 * (4) Shared state: worker->queue and worker->stop (worker->lock), the
 *     live connection count, the done count and worker->kill_pending
 *     (atomics). No mmsim lock is held across a libuv call: sessions are
 *     fed outside any lock here. The one exception to (2):
 *     mmsim_net_session_killed() runs on whatever thread the OOM killer
 *     ran on, under the rpc's session lock; it only sets kill_pending and
 *     calls uv_async_send() on the session's worker, which is alive as
 *     long as the session is.
 *
 * DOC: one connection
 *
 * Each read (at most READ_BYTES) is fed to the session in one call, and
 * its responses collect in @out. One call per read is what the rpc's
 * in-flight limit counts: every request of one read was sent before the
 * peer could see any answer to them, so past max_inflight they get
 * QUOTA_EXCEEDED.
 *
 * Writing: after each read the answers to all of it go out in one
 * uv_try_write(), straight from @out, which on a socket with room (the
 * usual case) sends everything with no request, callback or epoll_ctl.
 * Only what the kernel did not take is handed to uv_write (@out and
 * @wbuf swap, so nothing is copied). One uv_write is outstanding at a
 * time; whatever the session produces meanwhile is coalesced into the
 * next write.
 *
 * Back-pressure: while more than max_unsent bytes wait to be sent, the
 * socket is not read; reading resumes once the writes drain below it.
 * So a peer that pipelines without reading costs at most max_unsent plus
 * the answers to one read (max_inflight full responses, short errors for
 * the rest), whatever it sends; the kernel's socket buffers and then the
 * peer's own writes block the rest.
 *
 * Closing: when the session says MMSIM_FEED_CLOSE (a protocol error), or
 * on drain, the connection stops reading, flushes, shuts down its write
 * side and then discards input for up to LINGER_MS before closing, so the
 * error response is not destroyed by a reset caused by unread input (the
 * "lingering close" of HTTP servers). A peer that closed first (EOF) gets
 * its remaining answers and a plain close. Read or write errors and the
 * idle timeout close at once. The session is destroyed, freeing every
 * page it owns, when the last handle's close callback runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "mmsim/net.h"

/* Kernel log levels, as mmsim_log_fn takes them. */
enum { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

#define READ_BYTES   (128u << 10) /* one read; a worker's shared buffer */
#define LINGER_MS    1000u        /* discard input this long after an error */
#define LISTEN_QUEUE 511          /* Redis's default backlog */
#define PEER_LEN     64
#define SAFETY_MS    5000u /* past the drain timeout: give up on workers */
#define KEEPALIVE_S  60u   /* TCP keepalive probes after this much silence */
/* Buffers bigger than this are freed once empty, not kept per connection. */
#define KEEP_BUF_BYTES (256u * 1024)

struct handoff {
    struct handoff *next;
    int fd;
    bool is_unix;
    char peer[PEER_LEN];
};

struct worker;

struct conn {
    /* First, so the stream, the connection and the handle share a cast. */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } io;
    uv_timer_t timer; /* idle timeout, then the linger deadline */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    struct worker *w;
    struct conn *prev, *next; /* worker->conns */
    struct mmsim_session *session;
    struct mmsim_buf out;    /* responses not yet written or queued */
    struct mmsim_buf wbuf;   /* the outstanding write: [wbuf_off, len) */
    size_t wbuf_off;         /* bytes of @wbuf that uv_try_write sent */
    uint64_t last_active_ms; /* uv_now() of the last read or write done */
    unsigned open_handles;   /* io and timer, until their close callbacks */
    bool reading;            /* uv_read_start is in effect */
    bool writing;            /* @wreq is outstanding */
    bool eof;                /* the peer shut down its side */
    bool rpc_closed;         /* the session said MMSIM_FEED_CLOSE */
    bool draining;           /* the daemon is stopping */
    bool lingering;          /* shut down; discarding input until closed */
    bool closing;            /* uv_close called */
    char peer[PEER_LEN];
};

struct worker {
    struct mmsim_net *net;
    unsigned index;
    int cpu; /* simulated CPU of this worker's sessions */
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wakeup;
    uv_timer_t drain_timer;

    atomic_bool kill_pending; /* a session here was OOM-killed */
    uv_mutex_t lock;          /* protects the three fields below */
    struct handoff *queue;
    struct handoff **queue_tail;
    bool stop;

    /* Worker thread only. */
    bool draining, finished;
    struct conn *conns;
    unsigned nr_conns;
    uint8_t *readbuf; /* READ_BYTES; each read callback consumes it all */
};

struct mmsim_net {
    struct mmsim_net_config cfg; /* strings point into the copies below */
    char *tcp_listen, *unix_path;
    uint64_t max_unsent;
    /* Set by mmsim_net_start(), read-only afterwards. */
    struct mmsim_rpc *rpc;
    struct mmsim_machine *machine;

    /* Main thread only. */
    uv_loop_t loop;
    bool loop_ready;
    uv_tcp_t tcp;
    bool has_tcp;
    uv_pipe_t pipe;
    bool has_unix;
    bool unix_owned; /* the socket file at unix_path is ours to remove */
    dev_t unix_dev;
    ino_t unix_ino;
    uv_signal_t sigint, sigterm;
    bool has_signals;
    uv_async_t done_async;
    bool has_done_async;
    uv_timer_t safety_timer;
    bool has_safety_timer;
    bool stopping, joined;
    unsigned next_worker;
    uint64_t refused_unlogged, last_refusal_log_ms;
    char tcp_name[INET6_ADDRSTRLEN + 16];

    struct worker *workers;
    unsigned nr_workers; /* workers[0..nr_workers-1] were started */
    atomic_uint live;    /* connections accepted and not yet closed */
    atomic_uint done;    /* worker threads whose loop has ended */
};

static void net_log(const struct mmsim_net *net, int level, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

static void net_log(const struct mmsim_net *net, int level, const char *fmt,
                    ...)
{
    char line[512];
    va_list ap;

    if (!net->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    net->cfg.log(net->cfg.log_ctx, level, line);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- one connection (worker thread) ------------------------------------ */

static void conn_update(struct conn *c);

static uint64_t conn_unsent(const struct conn *c)
{
    return (uint64_t)c->out.len + (c->wbuf.len - c->wbuf_off);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct worker *w = c->w;

    if (--c->open_handles)
        return;
    mmsim_session_destroy(c->session);
    mmsim_buf_free(&c->out);
    mmsim_buf_free(&c->wbuf);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nr_conns--;
    atomic_fetch_sub_explicit(&w->net->live, 1, memory_order_relaxed);
    free(c);
    if (w->draining && !w->nr_conns && !w->finished) {
        /* Let the loop end: unref (not close) the wakeup, which the main
         * thread may still be signalling; it closes it after the join. */
        w->finished = true;
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_unref((uv_handle_t *)&w->wakeup);
    }
}

static void conn_close(struct conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    net_log(c->w->net, LOG_DEBUG, "session %llu (%s): disconnected: %s",
            (unsigned long long)(c->session ? mmsim_session_id(c->session) : 0),
            c->peer, why);
    uv_close(&c->io.handle, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void conn_feed(struct conn *c, const uint8_t *data, size_t len)
{
    if (mmsim_session_feed(c->session, data, len, &c->out) == MMSIM_FEED_CLOSE)
        c->rpc_closed = true;
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    c->writing = false;
    if (c->closing)
        return; /* UV_ECANCELED from uv_close */
    if (status < 0) {
        conn_close(c, uv_strerror(status));
        return;
    }
    c->wbuf.len = 0;
    c->wbuf_off = 0;
    if (c->wbuf.cap > KEEP_BUF_BYTES)
        mmsim_buf_free(&c->wbuf);
    c->last_active_ms = uv_now(&c->w->loop);
    conn_update(c);
}

/*
 * Send everything in @out unless a write is outstanding: as much as the
 * socket takes now with uv_try_write(), the rest with uv_write().
 */
static void conn_flush(struct conn *c)
{
    struct mmsim_buf tmp;
    uv_buf_t buf;
    size_t sent = 0;
    int rc;

    if (c->writing || c->closing || !c->out.len)
        return;
    if (c->out.len > UINT_MAX) { /* uv_buf_t counts in unsigned int */
        conn_close(c, "response too large to send");
        return;
    }
    buf = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
    rc = uv_try_write(&c->io.stream, &buf, 1);
    if (rc >= 0) {
        sent = (size_t)rc;
        c->last_active_ms = uv_now(&c->w->loop);
        if (sent == c->out.len) {
            c->out.len = 0;
            return;
        }
    } else if (rc != UV_EAGAIN) {
        conn_close(c, uv_strerror(rc));
        return;
    }
    tmp = c->wbuf; /* empty: no write is outstanding */
    c->wbuf = c->out;
    c->wbuf_off = sent;
    c->out = tmp;
    buf = uv_buf_init((char *)c->wbuf.data + sent,
                      (unsigned)(c->wbuf.len - sent));
    rc = uv_write(&c->wreq, &c->io.stream, &buf, 1, on_write);
    if (rc < 0) {
        conn_close(c, uv_strerror(rc));
        return;
    }
    c->writing = true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;

    (void)suggested;
    *buf = uv_buf_init((char *)c->w->readbuf, READ_BYTES);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;

    if (nread == 0)
        return; /* EAGAIN */
    if (nread < 0) {
        c->reading = false; /* libuv stopped reading */
        if (nread != UV_EOF) {
            conn_close(c, uv_strerror((int)nread));
        } else if (c->lingering) {
            conn_close(c, "done");
        } else {
            c->eof = true;
            conn_update(c);
        }
        return;
    }
    c->last_active_ms = uv_now(&c->w->loop);
    if (c->lingering)
        return; /* discarded, see "Closing" above */
    conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
    conn_update(c);
}

static void conn_read(struct conn *c, bool on)
{
    int rc;

    if (on && !c->reading) {
        rc = uv_read_start(&c->io.stream, on_alloc, on_read);
        if (rc < 0) {
            conn_close(c, uv_strerror(rc));
            return;
        }
        c->reading = true;
    } else if (!on && c->reading) {
        uv_read_stop(&c->io.stream);
        c->reading = false;
    }
}

static void on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    uint32_t idle_ms = c->w->net->cfg.idle_timeout_ms;
    uint64_t quiet_ms;

    if (c->closing)
        return;
    if (c->lingering) {
        conn_close(c, "done");
        return;
    }
    quiet_ms = uv_now(&c->w->loop) - c->last_active_ms;
    if (quiet_ms >= idle_ms) {
        conn_close(c, "idle timeout");
        return;
    }
    /* Cheaper than re-arming the timer on every read: check when due. */
    uv_timer_start(&c->timer, on_timer, idle_ms - quiet_ms, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;

    if (c->closing)
        return;
    if (status < 0 || c->eof) {
        conn_close(c, status < 0 ? uv_strerror(status) : "done");
        return;
    }
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    conn_read(c, true);
}

/* Everything is sent: half-close, then discard input for a while. */
static void conn_linger(struct conn *c)
{
    int rc;

    c->lingering = true;
    conn_read(c, false);
    uv_timer_stop(&c->timer);
    rc = uv_shutdown(&c->sreq, &c->io.stream, on_shutdown);
    if (rc < 0)
        conn_close(c, uv_strerror(rc));
}

/*
 * The one place that decides what a connection does next: flush, start or
 * stop reading, close. Called after every event.
 */
static void conn_update(struct conn *c)
{
    if (c->closing || c->lingering)
        return;
    conn_flush(c);
    if (c->closing)
        return;
    if (c->out.cap > KEEP_BUF_BYTES && !c->out.len)
        mmsim_buf_free(&c->out);
    if (c->rpc_closed || c->eof || c->draining) {
        conn_read(c, false);
        if (!c->closing && !conn_unsent(c)) {
            if (c->eof)
                conn_close(c, "peer closed");
            else
                conn_linger(c);
        }
        return;
    }
    /* Output above the bound means a write is outstanding, and its
     * completion calls us again: nothing stalls. */
    conn_read(c, conn_unsent(c) < c->w->net->max_unsent);
}

static void conn_open(struct worker *w, struct handoff *h)
{
    struct mmsim_net *net = w->net;
    struct conn *c = calloc(1, sizeof(*c));
    int rc;

    if (!c) {
        net_log(net, LOG_ERR, "connection from %s: host out of memory",
                h->peer);
        close(h->fd);
        atomic_fetch_sub_explicit(&net->live, 1, memory_order_relaxed);
        return;
    }
    c->w = w;
    memcpy(c->peer, h->peer, sizeof(c->peer));
    mmsim_buf_init(&c->out);
    mmsim_buf_init(&c->wbuf);
    if (h->is_unix) {
        uv_pipe_init(&w->loop, &c->io.pipe, 0);
        rc = uv_pipe_open(&c->io.pipe, h->fd);
    } else {
        uv_tcp_init(&w->loop, &c->io.tcp);
        rc = uv_tcp_open(&c->io.tcp, h->fd);
        if (!rc) {
            /* Small requests and replies: no Nagle delay. Keepalive finds
             * peers that vanished without a FIN even with no idle
             * timeout. */
            uv_tcp_nodelay(&c->io.tcp, 1);
            uv_tcp_keepalive(&c->io.tcp, 1, KEEPALIVE_S);
        }
    }
    if (rc < 0)
        close(h->fd); /* not the handle's yet */
    c->io.handle.data = c;
    uv_timer_init(&w->loop, &c->timer);
    c->timer.data = c;
    c->wreq.data = c;
    c->sreq.data = c;
    c->open_handles = 2;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nr_conns++;
    if (rc < 0) {
        conn_close(c, uv_strerror(rc));
        return;
    }
    rc = mmsim_session_create(net->rpc, w->cpu, c->peer, &c->session);
    if (rc < 0) {
        net_log(net, LOG_ERR, "connection from %s: no session: %s", c->peer,
                mmsim_strerror(rc));
        conn_close(c, "no session");
        return;
    }
    mmsim_session_set_ctx(c->session, w); /* for OOM kills */
    net_log(net, LOG_DEBUG, "session %llu (%s): served by worker %u",
            (unsigned long long)mmsim_session_id(c->session), c->peer,
            w->index);
    c->last_active_ms = uv_now(&w->loop);
    if (net->cfg.idle_timeout_ms)
        uv_timer_start(&c->timer, on_timer, net->cfg.idle_timeout_ms, 0);
    if (w->draining)
        c->draining = true;
    conn_update(c);
}

/* ---- workers ----------------------------------------------------------- */

static void on_drain_timeout(uv_timer_t *t)
{
    struct worker *w = t->data;

    for (struct conn *c = w->conns; c; c = c->next)
        conn_close(c, "drain timeout");
}

static void worker_drain(struct worker *w)
{
    w->draining = true;
    /* conn_close() only unlinks from the close callback, so the list
     * stays intact while it is walked. */
    for (struct conn *c = w->conns; c; c = c->next) {
        c->draining = true;
        conn_update(c);
    }
    if (!w->nr_conns) {
        w->finished = true;
        uv_close((uv_handle_t *)&w->drain_timer, NULL);
        uv_unref((uv_handle_t *)&w->wakeup);
        return;
    }
    uv_timer_start(&w->drain_timer, on_drain_timeout,
                   w->net->cfg.drain_timeout_ms, 0);
}

/*
 * OOM kills: give each killed session on this worker a feed with no data,
 * which answers KILLED and closes (conn_update() does the rest). The
 * connections are few and kills rare, so a walk is fine.
 */
static void worker_close_killed(struct worker *w)
{
    /* conn_close() only unlinks from the close callback. */
    for (struct conn *c = w->conns; c; c = c->next) {
        if (c->closing || c->lingering || c->rpc_closed || !c->session ||
            !mmsim_session_killed(c->session))
            continue;
        conn_feed(c, NULL, 0);
        conn_update(c);
    }
}

void mmsim_net_session_killed(void *net, void *session_ctx, uint64_t session_id)
{
    struct worker *w = session_ctx;

    (void)net;
    (void)session_id;
    atomic_store(&w->kill_pending, true);
    uv_async_send(&w->wakeup);
}

static void on_wakeup(uv_async_t *a)
{
    struct worker *w = a->data;
    struct handoff *h, *next;
    bool stop;

    uv_mutex_lock(&w->lock);
    h = w->queue;
    w->queue = NULL;
    w->queue_tail = &w->queue;
    stop = w->stop;
    uv_mutex_unlock(&w->lock);

    if (atomic_exchange(&w->kill_pending, false))
        worker_close_killed(w);

    for (; h; h = next) {
        next = h->next;
        if (w->draining) {
            close(h->fd);
            atomic_fetch_sub_explicit(&w->net->live, 1, memory_order_relaxed);
        } else {
            conn_open(w, h);
        }
        free(h);
    }
    if (stop && !w->draining)
        worker_drain(w);
}

static void worker_main(void *arg)
{
    struct worker *w = arg;
    struct mmsim_net *net = w->net;

    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Joined before done_async is closed, so this send is safe. */
    atomic_fetch_add_explicit(&net->done, 1, memory_order_release);
    uv_async_send(&net->done_async);
}

static int worker_start(struct mmsim_net *net, struct worker *w, unsigned index)
{
    unsigned nr_cpus = mmsim_machine_nr_cpus(net->machine);
    int rc;

    w->net = net;
    w->index = index;
    w->cpu = nr_cpus ? (int)(index % nr_cpus) : MMSIM_NO_CPU;
    w->queue = NULL;
    w->queue_tail = &w->queue;
    w->readbuf = malloc(READ_BYTES);
    if (!w->readbuf)
        return MMSIM_EHOSTMEM;
    rc = uv_loop_init(&w->loop);
    if (rc < 0)
        goto out_buf;
    rc = uv_mutex_init(&w->lock);
    if (rc < 0)
        goto out_loop;
    uv_async_init(&w->loop, &w->wakeup, on_wakeup);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    rc = uv_thread_create(&w->thread, worker_main, w);
    if (rc < 0)
        goto out_handles;
    return 0;

out_handles:
    uv_close((uv_handle_t *)&w->wakeup, NULL);
    uv_close((uv_handle_t *)&w->drain_timer, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_mutex_destroy(&w->lock);
out_loop:
    uv_loop_close(&w->loop);
out_buf:
    free(w->readbuf);
    w->readbuf = NULL;
    return rc;
}

static void workers_signal_stop(struct mmsim_net *net)
{
    for (unsigned i = 0; i < net->nr_workers; i++) {
        struct worker *w = &net->workers[i];

        uv_mutex_lock(&w->lock);
        w->stop = true;
        uv_mutex_unlock(&w->lock);
        uv_async_send(&w->wakeup);
    }
}

/* Join every worker and free its loop. Main thread. */
static void workers_join(struct mmsim_net *net)
{
    if (net->joined)
        return;
    for (unsigned i = 0; i < net->nr_workers; i++) {
        struct worker *w = &net->workers[i];

        uv_thread_join(&w->thread);
        /* The thread is gone: its loop is ours now. */
        uv_close((uv_handle_t *)&w->wakeup, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        uv_mutex_destroy(&w->lock);
        for (struct handoff *h = w->queue, *next; h; h = next) {
            next = h->next;
            close(h->fd);
            free(h);
        }
        free(w->readbuf);
    }
    net->joined = true;
}

/* ---- listeners and signals (main thread) ------------------------------- */

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        uv_ip4_name(in, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        uv_ip6_name(in6, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "unix");
    }
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                              0, 0, 0, 0, 0xff, 0xff};

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return !memcmp(a->s6_addr, mapped_prefix, 12) && a->s6_addr[12] == 127;
    }
    return false;
}

static void on_handle_free(uv_handle_t *h)
{
    free(h);
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct mmsim_net *net = server->data;
    bool is_unix = server == (uv_stream_t *)&net->pipe;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char peer[PEER_LEN] = "unix";
    struct handoff *h;
    struct worker *w;
    uv_os_fd_t fd;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } * client;
    unsigned live;
    int fd2, rc;

    if (status < 0) {
        /* EMFILE and friends: libuv already dropped the connection. */
        net_log(net, LOG_WARN, "accept: %s", uv_strerror(status));
        return;
    }
    client = malloc(sizeof(*client));
    if (!client) {
        net_log(net, LOG_ERR, "accept: host out of memory");
        return;
    }
    if (is_unix)
        uv_pipe_init(&net->loop, &client->pipe, 0);
    else
        uv_tcp_init(&net->loop, &client->tcp);
    rc = uv_accept(server, &client->stream);
    fd2 = -1;
    if (!rc)
        rc = uv_fileno(&client->handle, &fd);
    if (!rc) {
        if (!is_unix && !getpeername(fd, (struct sockaddr *)&ss, &sslen))
            format_addr((struct sockaddr *)&ss, peer, sizeof(peer));
        /* The worker's loop will own the connection: give it its own fd
         * and let this loop's handle close the original. */
        fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd2 < 0)
            rc = -errno;
    }
    uv_close(&client->handle, on_handle_free);
    if (rc < 0) {
        net_log(net, LOG_WARN, "accept: %s", uv_strerror(rc));
        return;
    }

    live = atomic_load_explicit(&net->live, memory_order_relaxed);
    if (live >= net->cfg.max_connections) {
        uint64_t now = uv_now(&net->loop);

        close(fd2);
        net->refused_unlogged++;
        /* One line a second at most: a flood must not flood the log. */
        if (now - net->last_refusal_log_ms >= 1000 ||
            !net->last_refusal_log_ms) {
            net_log(net, LOG_WARN,
                    "refused connection from %s: %u connections open "
                    "(--max-connections %u); %llu refused since the last "
                    "report",
                    peer, live, net->cfg.max_connections,
                    (unsigned long long)net->refused_unlogged);
            net->refused_unlogged = 0;
            net->last_refusal_log_ms = now ? now : 1;
        }
        return;
    }
    h = malloc(sizeof(*h));
    if (!h) {
        close(fd2);
        net_log(net, LOG_ERR, "accept: host out of memory");
        return;
    }
    h->next = NULL;
    h->fd = fd2;
    h->is_unix = is_unix;
    memcpy(h->peer, peer, sizeof(peer));
    atomic_fetch_add_explicit(&net->live, 1, memory_order_relaxed);
    w = &net->workers[net->next_worker++ % net->nr_workers];
    uv_mutex_lock(&w->lock);
    *w->queue_tail = h;
    w->queue_tail = &h->next;
    uv_mutex_unlock(&w->lock);
    uv_async_send(&w->wakeup);
}

static void unix_unlink_if_ours(struct mmsim_net *net)
{
    struct stat st;

    if (!net->unix_owned)
        return;
    net->unix_owned = false;
    /* Someone may have replaced it meanwhile: remove only our inode. */
    if (!lstat(net->unix_path, &st) && st.st_dev == net->unix_dev &&
        st.st_ino == net->unix_ino)
        unlink(net->unix_path);
}

static void on_safety_timeout(uv_timer_t *t)
{
    struct mmsim_net *net = t->data;

    net_log(net, LOG_ERR, "workers did not stop in time; exiting");
    _exit(1);
}

static void on_workers_done(uv_async_t *a)
{
    struct mmsim_net *net = a->data;

    if (atomic_load_explicit(&net->done, memory_order_acquire) <
        net->nr_workers)
        return;
    workers_join(net);
    close_if_open((uv_handle_t *)&net->done_async);
    close_if_open((uv_handle_t *)&net->sigint);
    close_if_open((uv_handle_t *)&net->sigterm);
    if (net->has_safety_timer)
        close_if_open((uv_handle_t *)&net->safety_timer);
    net_log(net, LOG_INFO, "stopped: every connection closed");
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct mmsim_net *net = sig->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";

    if (net->stopping) {
        net_log(net, LOG_WARN, "second %s: exiting without draining", name);
        _exit(128 + signum);
    }
    net->stopping = true;
    net_log(net, LOG_INFO,
            "%s: stopping; draining %u connections (at most %u ms)", name,
            atomic_load_explicit(&net->live, memory_order_relaxed),
            net->cfg.drain_timeout_ms);
    if (net->has_tcp)
        close_if_open((uv_handle_t *)&net->tcp);
    if (net->has_unix)
        close_if_open((uv_handle_t *)&net->pipe);
    unix_unlink_if_ours(net);
    mmsim_rpc_shutdown(net->rpc);
    workers_signal_stop(net);
    uv_timer_init(&net->loop, &net->safety_timer);
    net->safety_timer.data = net;
    net->has_safety_timer = true;
    uv_timer_start(&net->safety_timer, on_safety_timeout,
                   (uint64_t)net->cfg.drain_timeout_ms + SAFETY_MS, 0);
}

/* Split "HOST:PORT" / "[V6]:PORT". */
static int parse_hostport(const char *spec, char *host, size_t hostlen,
                          char *port, size_t portlen)
{
    const char *colon, *h = spec;
    size_t hl;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (!close || close[1] != ':')
            return -1;
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
            return -1; /* none, or an IPv6 address without brackets */
        hl = (size_t)(colon - spec);
    }
    if (!hl || hl >= hostlen || !colon[1] || strlen(colon + 1) >= portlen)
        return -1;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    if (strtoul(colon + 1, NULL, 10) > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, strlen(colon + 1) + 1); /* length checked */
    return 0;
}

static int listen_tcp(struct mmsim_net *net, char *err, size_t errlen)
{
    const char *spec = net->cfg.tcp_listen;
    struct addrinfo hints = {0}, *ai = NULL;
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char host[256], port[8];
    int rc;

    if (parse_hostport(spec, host, sizeof(host), port, sizeof(port))) {
        set_err(err, errlen,
                "--listen %s: expected HOST:PORT (IPv6 as [ADDR]:PORT, "
                "port 0-65535) or none",
                spec);
        return MMSIM_EINVAL;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        set_err(err, errlen, "--listen %s: %s", spec, gai_strerror(rc));
        return MMSIM_EINVAL;
    }
    /* Protected mode (Redis): the network at large must authenticate. */
    if (!addr_is_loopback(ai->ai_addr) && !net->cfg.auth_required) {
        set_err(err, errlen,
                "--listen %s: refusing a non-loopback address without a "
                "token (protected mode): give one with --token-file FILE or "
                "the MMSIM_TOKEN environment variable",
                spec);
        freeaddrinfo(ai);
        return MMSIM_EINVAL;
    }
    uv_tcp_init_ex(&net->loop, &net->tcp, ai->ai_family);
    net->tcp.data = net;
    net->has_tcp = true;
    rc = uv_tcp_bind(&net->tcp, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (!rc) /* libuv may report a bind error only here */
        rc = uv_listen((uv_stream_t *)&net->tcp, LISTEN_QUEUE, on_connection);
    if (!rc)
        rc = uv_tcp_getsockname(&net->tcp, (struct sockaddr *)&ss, &sslen);
    if (rc < 0) {
        set_err(err, errlen, "--listen %s: %s", spec, uv_strerror(rc));
        return rc;
    }
    format_addr((struct sockaddr *)&ss, net->tcp_name, sizeof(net->tcp_name));
    return 0;
}

/*
 * Return: 0 when @path is free (a stale socket is removed), else an error
 * with @err set: a daemon answers there, or it is not a socket.
 */
static int unix_claim_path(struct mmsim_net *net, const char *path, char *err,
                           size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (lstat(path, &st)) {
        if (errno == ENOENT)
            return 0;
        set_err(err, errlen, "--unix %s: %s", path, strerror(errno));
        return -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        set_err(err, errlen,
                "--unix %s: exists and is not a socket; not replacing it",
                path);
        return -EEXIST;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errlen, "socket: %s", strerror(errno));
        return -errno;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    close(fd);
    if (!rc) {
        set_err(err, errlen,
                "--unix %s: another daemon is answering there; stop it or "
                "choose another path",
                path);
        return -EADDRINUSE;
    }
    if (errno != ECONNREFUSED) {
        set_err(err, errlen, "--unix %s: %s", path, strerror(errno));
        return -errno;
    }
    if (unlink(path) && errno != ENOENT) {
        set_err(err, errlen, "--unix %s: cannot remove the stale socket: %s",
                path, strerror(errno));
        return -errno;
    }
    net_log(net, LOG_INFO, "removed stale socket %s", path);
    return 0;
}

static int listen_unix(struct mmsim_net *net, char *err, size_t errlen)
{
    const char *path = net->unix_path;
    struct sockaddr_un sun;
    struct stat st;
    mode_t old;
    int rc;

    if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
        set_err(err, errlen, "--unix %s: the path must have 1 to %zu bytes",
                path, sizeof(sun.sun_path) - 1);
        return MMSIM_EINVAL;
    }
    if (net->cfg.unix_mode > 0777) {
        set_err(err, errlen, "--unix-mode %o: not a permission mode",
                net->cfg.unix_mode);
        return MMSIM_EINVAL;
    }
    rc = unix_claim_path(net, path, err, errlen);
    if (rc)
        return rc;
    uv_pipe_init(&net->loop, &net->pipe, 0);
    net->pipe.data = net;
    net->has_unix = true;
    /* The umask makes the socket born with the mode, so no client can
     * connect in a window before the chmod (which makes it exact). The
     * process is single-threaded here but for the machine's threads,
     * which create no files. */
    old = umask(0777 & ~(mode_t)net->cfg.unix_mode);
    rc = uv_pipe_bind(&net->pipe, path);
    umask(old);
    if (rc < 0) {
        set_err(err, errlen, "--unix %s: %s", path, uv_strerror(rc));
        return rc;
    }
    if (lstat(path, &st) || chmod(path, (mode_t)net->cfg.unix_mode)) {
        rc = -errno;
        set_err(err, errlen, "--unix %s: %s", path, strerror(errno));
        unlink(path);
        return rc;
    }
    net->unix_owned = true;
    net->unix_dev = st.st_dev;
    net->unix_ino = st.st_ino;
    rc = uv_listen((uv_stream_t *)&net->pipe, LISTEN_QUEUE, on_connection);
    if (rc < 0) {
        set_err(err, errlen, "--unix %s: %s", path, uv_strerror(rc));
        return rc;
    }
    return 0;
}

/* ---- the API ----------------------------------------------------------- */

void mmsim_net_config_default(struct mmsim_net_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->unix_mode = MMSIM_NET_DEFAULT_UNIX_MODE;
    cfg->nr_workers = 1;
    cfg->max_connections = MMSIM_NET_DEFAULT_MAX_CONNECTIONS;
    cfg->max_frame_bytes = MMSIM_FRAME_MAX_DEFAULT;
    cfg->idle_timeout_ms = 300000;
    cfg->drain_timeout_ms = MMSIM_NET_DEFAULT_DRAIN_MS;
}

int mmsim_net_create(const struct mmsim_net_config *cfg, struct mmsim_net **out,
                     char *err, size_t errlen)
{
    struct mmsim_net *net;
    int rc;

    set_err(err, errlen, "invalid configuration");
    if (!cfg->nr_workers || !cfg->max_connections || !cfg->max_frame_bytes)
        return MMSIM_EINVAL;
    if (!cfg->tcp_listen && !cfg->unix_path) {
        set_err(err, errlen,
                "nothing to listen on: --listen and --unix are both none");
        return MMSIM_EINVAL;
    }
    net = calloc(1, sizeof(*net));
    if (!net) {
        set_err(err, errlen, "host out of memory");
        return MMSIM_EHOSTMEM;
    }
    net->cfg = *cfg;
    if (!net->cfg.drain_timeout_ms)
        net->cfg.drain_timeout_ms = MMSIM_NET_DEFAULT_DRAIN_MS;
    net->max_unsent = cfg->max_unsent_bytes;
    if (!net->max_unsent) {
        net->max_unsent = (uint64_t)cfg->max_frame_bytes * 4;
        if (net->max_unsent < MMSIM_NET_MIN_UNSENT_BYTES)
            net->max_unsent = MMSIM_NET_MIN_UNSENT_BYTES;
    }
    net->tcp_listen = cfg->tcp_listen ? strdup(cfg->tcp_listen) : NULL;
    net->unix_path = cfg->unix_path ? strdup(cfg->unix_path) : NULL;
    net->cfg.tcp_listen = net->tcp_listen;
    net->cfg.unix_path = net->unix_path;
    net->workers = calloc(cfg->nr_workers, sizeof(*net->workers));
    if ((cfg->tcp_listen && !net->tcp_listen) ||
        (cfg->unix_path && !net->unix_path) || !net->workers) {
        set_err(err, errlen, "host out of memory");
        rc = MMSIM_EHOSTMEM;
        goto fail;
    }
    atomic_init(&net->live, 0);
    atomic_init(&net->done, 0);
    rc = uv_loop_init(&net->loop);
    if (rc < 0) {
        set_err(err, errlen, "uv_loop_init: %s", uv_strerror(rc));
        goto fail;
    }
    net->loop_ready = true;

    if (net->tcp_listen && (rc = listen_tcp(net, err, errlen)))
        goto fail;
    if (net->unix_path && (rc = listen_unix(net, err, errlen)))
        goto fail;

    uv_signal_init(&net->loop, &net->sigint);
    uv_signal_init(&net->loop, &net->sigterm);
    net->sigint.data = net->sigterm.data = net;
    net->has_signals = true;
    uv_signal_start(&net->sigint, on_signal, SIGINT);
    uv_signal_start(&net->sigterm, on_signal, SIGTERM);
    uv_async_init(&net->loop, &net->done_async, on_workers_done);
    net->done_async.data = net;
    net->has_done_async = true;

    *out = net;
    return 0;

fail:
    mmsim_net_destroy(net);
    return rc;
}

int mmsim_net_start(struct mmsim_net *net, struct mmsim_rpc *rpc,
                    struct mmsim_machine *machine, char *err, size_t errlen)
{
    int rc;

    if (!rpc || !machine || net->rpc) {
        set_err(err, errlen, "invalid arguments");
        return MMSIM_EINVAL;
    }
    net->rpc = rpc;
    net->machine = machine;
    for (unsigned i = 0; i < net->cfg.nr_workers; i++) {
        rc = worker_start(net, &net->workers[i], i);
        if (rc < 0) {
            set_err(err, errlen, "worker %u: %s", i,
                    rc == MMSIM_EHOSTMEM ? "host out of memory"
                                         : uv_strerror(rc));
            return rc;
        }
        net->nr_workers++;
    }
    return 0;
}

int mmsim_net_run(struct mmsim_net *net)
{
    if (!net->rpc)
        return MMSIM_EINVAL;
    uv_run(&net->loop, UV_RUN_DEFAULT);
    return 0;
}

const char *mmsim_net_tcp_address(const struct mmsim_net *net)
{
    return net->has_tcp ? net->tcp_name : NULL;
}

const char *mmsim_net_unix_path(const struct mmsim_net *net)
{
    return net->has_unix ? net->unix_path : NULL;
}

void mmsim_net_destroy(struct mmsim_net *net)
{
    if (!net)
        return;
    if (!net->joined && net->nr_workers) {
        mmsim_rpc_shutdown(net->rpc);
        workers_signal_stop(net);
    }
    workers_join(net);
    if (net->loop_ready) {
        if (net->has_tcp)
            close_if_open((uv_handle_t *)&net->tcp);
        if (net->has_unix)
            close_if_open((uv_handle_t *)&net->pipe);
        if (net->has_signals) {
            close_if_open((uv_handle_t *)&net->sigint);
            close_if_open((uv_handle_t *)&net->sigterm);
        }
        if (net->has_done_async)
            close_if_open((uv_handle_t *)&net->done_async);
        if (net->has_safety_timer)
            close_if_open((uv_handle_t *)&net->safety_timer);
        uv_run(&net->loop, UV_RUN_DEFAULT);
        uv_loop_close(&net->loop);
    }
    unix_unlink_if_ours(net);
    free(net->workers);
    free(net->tcp_listen);
    free(net->unix_path);
    free(net);
}
