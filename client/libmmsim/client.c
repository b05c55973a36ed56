// SPDX-License-Identifier: MIT
/*
 * client.c - libmmsim: connect, Hello, blocking and pipelined requests.
 *
 * The socket is non-blocking and every wait is a poll() against a
 * deadline, so timeouts are exact and a flush can read responses while it
 * writes (neither side ever stalls on a full socket buffer). Sends and
 * reads are tried first and poll() is called only when they would block,
 * so a pipelined batch costs one send() and one recv().
 *
 * Responses are matched to requests by order: the server answers in
 * request order, ids ascend by one, and every response read off the wire
 * must carry the next expected id. Responses wait in a FIFO (c->q) until
 * mmsim_client_recv() or the blocking call they belong to takes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mmsim/client.h"
#include "mmsim/frame.h"
#include "mmsim/mm.h"
#include "mmsim/wire.h"

#define CLIENT_CONNECT_TIMEOUT_MS 5000
#define CLIENT_MAX_RESPONSE       (64u << 20)
/* Until HelloReply says otherwise (the server's defaults, rpc.h). */
#define CLIENT_DEFAULT_INFLIGHT 128u
/* Unsent request bytes that make send_*() send what the socket takes,
 * and the bound past which it waits for the socket to take them. */
#define CLIENT_AUTOFLUSH_BYTES (64u << 10)
#define CLIENT_OUT_MAX         (1u << 20)
#define CLIENT_RBUF            (64u << 10)

struct mmsim_client {
    int fd;         /* -1 when closed */
    char *addr;     /* NULL for connect_fd clients */
    uint8_t *token; /* copied; NULL: none */
    size_t token_len;
    char *client_name;
    int connect_timeout_ms;
    int timeout_ms;
    uint32_t max_response_bytes;

    Mmsim__V1__HelloReply *hello;
    uint32_t max_frame;    /* server's max_frame_bytes */
    uint32_t max_inflight; /* server's max_inflight */

    uint64_t next_id;      /* id of the next request */
    uint64_t next_wire_id; /* id the next response off the wire must carry */

    /* Responses read but not yet taken: a ring of q_len from q_head. */
    Mmsim__V1__Response **q;
    size_t q_cap, q_head, q_len;

    struct mmsim_buf out; /* framed requests; [out_off, len) not yet sent */
    size_t out_off;
    struct mmsim_frame_decoder dec;
    uint8_t *rbuf; /* bytes read, [rpos, rlen) not yet decoded */
    size_t rpos, rlen;

    Mmsim__V1__Status status; /* of the last ESTATUS */
    char msg[512];
};

/* ---- Errors and messages */

bool mmsim_client_err_is_transport(int err)
{
    return err == MMSIM_CLIENT_ECONNECT || err == MMSIM_CLIENT_EIO ||
           err == MMSIM_CLIENT_ETIMEDOUT || err == MMSIM_CLIENT_EPROTO ||
           err == MMSIM_CLIENT_ECLOSED;
}

const char *mmsim_client_strerror(int err)
{
    if (err >= 0)
        return "success";
    switch (err) {
#define MMSIM_CLIENT_ERR_MSG_(name, val, msg)                                  \
    case (val):                                                                \
        return msg;
        MMSIM_CLIENT_ERRNO_MAP(MMSIM_CLIENT_ERR_MSG_)
#undef MMSIM_CLIENT_ERR_MSG_
    }
    return "unknown error";
}

const char *mmsim_client_status_name(int status)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &mmsim__v1__status__descriptor, status);

    return v ? v->name : "UNKNOWN";
}

__attribute__((format(printf, 2, 3))) static void
client_set_msg(struct mmsim_client *c, const char *fmt, ...)
{
    va_list ap;

    c->status = MMSIM__V1__STATUS__OK;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
}

/* Describe a client-side failure; evaluates to @err. (A macro so that
 * static analysers, which do not follow variadic calls, see the code.) */
#define client_fail(c, err, ...) (client_set_msg((c), __VA_ARGS__), (err))

/* The server said no: remember its status and message. */
static int client_refused(struct mmsim_client *c, Mmsim__V1__Status status,
                          const char *message)
{
    c->status = status;
    snprintf(c->msg, sizeof(c->msg), "%s",
             message && *message ? message : mmsim_client_status_name(status));
    return MMSIM_CLIENT_ESTATUS;
}

/* Statuses after which the server closes the connection. */
static bool status_closes(Mmsim__V1__Status s)
{
    return s == MMSIM__V1__STATUS__UNAUTHENTICATED ||
           s == MMSIM__V1__STATUS__BAD_VERSION ||
           s == MMSIM__V1__STATUS__FRAME_TOO_LARGE ||
           s == MMSIM__V1__STATUS__MALFORMED || s == MMSIM__V1__STATUS__KILLED;
}

Mmsim__V1__Status mmsim_client_status(const struct mmsim_client *c)
{
    return c->status;
}

const char *mmsim_client_message(const struct mmsim_client *c)
{
    return c->msg;
}

/* ---- Time */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -1: no deadline. */
static int64_t deadline_in(int timeout_ms)
{
    return timeout_ms > 0 ? now_ms() + timeout_ms : -1;
}

/* poll() timeout until @deadline; 0 once it passed. */
static int poll_timeout(int64_t deadline)
{
    int64_t left;

    if (deadline < 0)
        return -1;
    left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > 1000000 ? 1000000 : (int)left;
}

/* ---- The response queue */

void mmsim_client_pb_free(void *msg)
{
    ProtobufCMessage *m = msg;

    if (m && m->descriptor == &mmsim__v1__response__descriptor)
        mmsim_wire_response_free(msg);
    else if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

static int queue_push(struct mmsim_client *c, Mmsim__V1__Response *r)
{
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 16;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers */
        Mmsim__V1__Response **q = malloc(cap * sizeof(*q));

        if (!q)
            return -1;
        for (size_t i = 0; i < c->q_len; i++)
            q[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    c->q[(c->q_head + c->q_len) % c->q_cap] = r;
    c->q_len++;
    return 0;
}

static Mmsim__V1__Response *queue_pop_head(struct mmsim_client *c)
{
    Mmsim__V1__Response *r = NULL;

    if (!c->q_len)
        return NULL;
    r = c->q[c->q_head];
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
    return r;
}

static Mmsim__V1__Response *queue_tail(const struct mmsim_client *c)
{
    if (!c->q_len)
        return NULL;
    return c->q[(c->q_head + c->q_len - 1) % c->q_cap];
}

static void queue_clear(struct mmsim_client *c)
{
    Mmsim__V1__Response *r = NULL;

    while ((r = queue_pop_head(c)) != NULL)
        mmsim_wire_response_free(r);
}

/* ---- The connection */

/* Drop the socket and everything in flight; the client object stays. */
static void conn_reset(struct mmsim_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    queue_clear(c);
    c->out.len = 0;
    c->out_off = 0;
    mmsim_frame_decoder_fini(&c->dec);
    mmsim_frame_decoder_init(&c->dec, c->max_response_bytes);
    c->rpos = c->rlen = 0;
    mmsim_client_pb_free(c->hello);
    c->hello = NULL;
    c->max_frame = MMSIM_FRAME_MAX_DEFAULT;
    c->max_inflight = 1;
    c->next_id = 1;
    c->next_wire_id = 1;
}

/* A transport failure: the connection is unusable from now on. The
 * message was set by the caller. */
static int conn_dead(struct mmsim_client *c, int err)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    return err;
}

static int check_open(struct mmsim_client *c)
{
    if (c->fd < 0)
        return client_fail(c, MMSIM_CLIENT_ECLOSED,
                           "not connected (an earlier error closed the "
                           "connection; reconnect)");
    return 0;
}

bool mmsim_client_connected(const struct mmsim_client *c)
{
    return c->fd >= 0;
}

/*
 * Decode one response out of rbuf, if whole, and queue it.
 * Return: 1 queued one, 0 rbuf used up without a whole frame, < 0 error
 * (the connection is dead, or ESTATUS for a protocol-level refusal).
 */
static int decode_one(struct mmsim_client *c)
{
    const uint8_t *frame = NULL;
    size_t used = 0, flen = 0;
    Mmsim__V1__Response *r = NULL;
    bool oom = false;
    int rc;

    rc = mmsim_frame_decode(&c->dec, c->rbuf + c->rpos, c->rlen - c->rpos,
                            &used, &frame, &flen);
    c->rpos += used;
    if (rc == MMSIM_FRAME_NEED_MORE)
        return 0;
    if (rc == MMSIM_FRAME_TOO_LARGE)
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "response frame larger than %u bytes",
                                        (unsigned)c->max_response_bytes));
    if (rc != MMSIM_FRAME_READY)
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_ENOMEM,
                                        "out of memory reading a response"));
    r = mmsim_wire_response_dec(frame, flen, &oom);
    if (!r && oom)
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_ENOMEM,
                                        "out of memory reading a response"));
    if (!r)
        r = mmsim__v1__response__unpack(NULL, flen, frame);
    if (!r)
        return conn_dead(c,
                         client_fail(c, MMSIM_CLIENT_EPROTO,
                                     "undecodable response (%zu bytes)", flen));
    if (!r->has_id || r->id != c->next_wire_id) {
        /* A protocol error answered before any id was known (a frame it
         * could not decode, say): report it as the server's refusal. */
        if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
            rc = client_refused(c, r->status, r->message);
            mmsim_wire_response_free(r);
            return conn_dead(c, rc);
        }
        rc = client_fail(
            c, MMSIM_CLIENT_EPROTO, "response id %llu, expected %llu",
            (unsigned long long)r->id, (unsigned long long)c->next_wire_id);
        mmsim_wire_response_free(r);
        return conn_dead(c, rc);
    }
    if (queue_push(c, r)) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_ENOMEM,
                                        "out of memory queueing a response"));
    }
    c->next_wire_id++;
    return 1;
}

/* Read what the socket has into rbuf (which must be used up).
 * Return: 1 bytes were read, 0 none were there (EAGAIN), or < 0
 * (connection dead). */
static int read_socket(struct mmsim_client *c)
{
    ssize_t n;

    c->rpos = c->rlen = 0;
    do {
        n = recv(c->fd, c->rbuf, CLIENT_RBUF, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return conn_dead(
            c, client_fail(c, MMSIM_CLIENT_EIO, "recv: %s", strerror(errno)));
    }
    if (n == 0) {
        Mmsim__V1__Response *last = queue_tail(c);

        /* The server closed after refusing something: say what. */
        if (last && last->has_status && status_closes(last->status))
            return conn_dead(c, client_refused(c, last->status, last->message));
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EIO,
                                        "the server closed the connection"));
    }
    c->rlen = (size_t)n;
    return 1;
}

/* Decode everything rbuf holds. Return: frames queued, or < 0. */
static int decode_all(struct mmsim_client *c)
{
    int n = 0, rc;

    while (c->rpos < c->rlen) {
        rc = decode_one(c);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        n++;
    }
    return n;
}

static int wait_fd(struct mmsim_client *c, short events, int64_t deadline,
                   short *revents)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    int rc;

    do {
        rc = poll(&p, 1, poll_timeout(deadline));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return conn_dead(
            c, client_fail(c, MMSIM_CLIENT_EIO, "poll: %s", strerror(errno)));
    if (rc == 0)
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_ETIMEDOUT,
                                        "no answer from the server within "
                                        "the timeout"));
    *revents = p.revents;
    return 0;
}

/*
 * Read until one more response is queued. The socket is read before any
 * poll(): a pipelining caller usually finds its answers there already,
 * and a recv() that finds nothing costs no more than a poll() that finds
 * something.
 */
static int pump_one(struct mmsim_client *c, int64_t deadline)
{
    short rev = 0;
    int rc;

    for (;;) {
        rc = decode_one(c);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        rc = read_socket(c);
        if (rc < 0)
            return rc;
        if (rc > 0)
            continue;
        rc = wait_fd(c, POLLIN, deadline, &rev);
        if (rc)
            return rc;
        rc = read_socket(c);
        if (rc < 0)
            return rc;
    }
}

/*
 * Send what the socket takes now of c->out, never waiting.
 * Return: 0 all sent (c->out is empty again); 1 some is left; or a
 * transport error.
 */
static int send_some(struct mmsim_client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n;

        do {
            n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 1;
            return conn_dead(c, client_fail(c, MMSIM_CLIENT_EIO, "send: %s",
                                            strerror(errno)));
        }
        c->out_off += (size_t)n;
    }
    c->out.len = 0;
    c->out_off = 0;
    return 0;
}

/*
 * Write all of c->out, reading responses meanwhile. The socket usually
 * has room, so send() comes first and poll() only once it is full.
 */
static int flush_until(struct mmsim_client *c, int64_t deadline)
{
    int rc;

    while ((rc = send_some(c)) > 0) {
        short rev = 0;

        /* The socket is full: wait for room, taking in responses so
         * that neither side stalls on a full buffer. */
        rc = wait_fd(c, POLLOUT | POLLIN, deadline, &rev);
        if (rc)
            return rc;
        if (rev & (POLLIN | POLLHUP | POLLERR)) {
            /* Anything left in rbuf was decoded already, so it is free;
             * reading also surfaces a reset as an error. */
            if (c->rpos == c->rlen) {
                rc = read_socket(c);
                if (rc < 0)
                    return rc;
            }
            rc = decode_all(c);
            if (rc < 0)
                return rc;
        }
    }
    return rc;
}

int mmsim_client_flush(struct mmsim_client *c)
{
    int rc = check_open(c);

    return rc ? rc : flush_until(c, deadline_in(c->timeout_ms));
}

int mmsim_client_try_flush(struct mmsim_client *c)
{
    int rc = check_open(c);

    return rc ? rc : send_some(c);
}

/*
 * Frame and queue @req under the next id. Waits (reading responses into
 * the queue) while max_inflight requests are unanswered.
 * Return: the id, or < 0.
 */
static int64_t enqueue(struct mmsim_client *c, Mmsim__V1__Request *req,
                       int64_t deadline)
{
    struct mmsim_wire_enc enc;
    size_t size;
    bool by_hand;
    int rc;

    rc = check_open(c);
    if (rc)
        return rc;
    req->has_id = 1;
    req->id = c->next_id;
    /* The requests sent by the million are encoded by hand (wire.h). */
    by_hand = mmsim_wire_request_enc(req, &enc);
    size = by_hand ? enc.size : mmsim__v1__request__get_packed_size(req);
    if (size > c->max_frame)
        return client_fail(c, MMSIM_CLIENT_ETOOBIG,
                           "request of %zu bytes exceeds the server's "
                           "max_frame_bytes %u",
                           size, (unsigned)c->max_frame);
    while (c->next_id - c->next_wire_id >= c->max_inflight) {
        rc = flush_until(c, deadline);
        if (!rc)
            rc = pump_one(c, deadline);
        if (rc)
            return rc;
    }
    if (c->out_off >= CLIENT_AUTOFLUSH_BYTES) {
        /* Partly sent by send_some(): drop the sent part before growing. */
        mmsim_buf_consume(&c->out, c->out_off);
        c->out_off = 0;
    }
    if (mmsim_buf_reserve(&c->out, MMSIM_FRAME_HEADER + size))
        return client_fail(c, MMSIM_CLIENT_ENOMEM,
                           "out of memory queueing a request");
    mmsim_frame_put_header(&c->out, (uint32_t)size);
    if (by_hand)
        mmsim_wire_put(&enc, c->out.data + c->out.len);
    else
        mmsim__v1__request__pack(req, c->out.data + c->out.len);
    c->out.len += size;
    return (int64_t)c->next_id++;
}

/*
 * Send @req and wait for its response (leaving earlier ones queued).
 * Return: 0 with *resp set (any status), or < 0.
 */
static int call_raw(struct mmsim_client *c, Mmsim__V1__Request *req,
                    int64_t deadline, Mmsim__V1__Response **resp)
{
    int64_t id = enqueue(c, req, deadline);
    Mmsim__V1__Response *tail;
    int rc;

    if (id < 0)
        return (int)id;
    rc = flush_until(c, deadline);
    while (!rc && c->next_wire_id <= (uint64_t)id)
        rc = pump_one(c, deadline);
    if (rc)
        return rc;
    /* Ours is the newest response: take it off the tail. */
    tail = queue_tail(c);
    c->q_len--;
    *resp = tail;
    return 0;
}

/*
 * A blocking call: the response must be OK and carry @want.
 * Return: 0 with *resp set, or < 0 (*resp freed).
 */
static int call(struct mmsim_client *c, Mmsim__V1__Request *req,
                Mmsim__V1__Response__ResultCase want,
                Mmsim__V1__Response **resp)
{
    Mmsim__V1__Response *r = NULL;
    int rc = call_raw(c, req, deadline_in(c->timeout_ms), &r);

    if (rc)
        return rc;
    if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
        rc = client_refused(c, r->status, r->message);
        if (status_closes(r->status))
            conn_dead(c, rc);
        mmsim_wire_response_free(r);
        return rc;
    }
    /* NOT_SET: the operation has no result (Free, Write); ignore any. */
    if (want != MMSIM__V1__RESPONSE__RESULT__NOT_SET &&
        r->result_case != want) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "response carries result %d, "
                                        "expected %d",
                                        (int)r->result_case, (int)want));
    }
    *resp = r;
    c->status = MMSIM__V1__STATUS__OK;
    c->msg[0] = '\0';
    return 0;
}

/* ---- Connecting */

/* Split "host:port" / "[v6]:port" into @host and @port. */
static int split_hostport(const char *addr, char *host, size_t hostlen,
                          const char **port)
{
    const char *colon;
    size_t n;

    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');

        if (!end || end[1] != ':')
            return -1;
        n = (size_t)(end - addr - 1);
        if (n == 0 || n >= hostlen)
            return -1;
        memcpy(host, addr + 1, n);
        host[n] = '\0';
        *port = end + 2;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || colon == addr)
            return -1;
        n = (size_t)(colon - addr);
        if (n >= hostlen)
            return -1;
        memcpy(host, addr, n);
        host[n] = '\0';
        *port = colon + 1;
    }
    return **port ? 0 : -1;
}

/* Wait for a non-blocking connect() on @fd. Return: 0 or an errno. */
static int connect_wait(int fd, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    socklen_t len = sizeof(int);
    int rc, soerr = 0;

    do {
        rc = poll(&p, 1, poll_timeout(deadline));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return errno;
    if (rc == 0)
        return ETIMEDOUT;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
        return errno;
    return soerr;
}

static int connect_unix(struct mmsim_client *c, const char *path,
                        int64_t deadline)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd, e;

    if (strlen(path) >= sizeof(sun.sun_path))
        return client_fail(c, MMSIM_CLIENT_EINVAL,
                           "unix socket path too long: %s", path);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return client_fail(c, MMSIM_CLIENT_ECONNECT, "socket: %s",
                           strerror(errno));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
        e = 0;
    else if (errno == EINPROGRESS || errno == EAGAIN)
        e = connect_wait(fd, deadline);
    else
        e = errno;
    if (e) {
        close(fd);
        return client_fail(
            c, e == ETIMEDOUT ? MMSIM_CLIENT_ETIMEDOUT : MMSIM_CLIENT_ECONNECT,
            "connect %s: %s", path, strerror(e));
    }
    c->fd = fd;
    return 0;
}

static int connect_tcp(struct mmsim_client *c, const char *addr,
                       int64_t deadline)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_family = AF_UNSPEC};
    struct addrinfo *res, *ai;
    char host[256];
    const char *port;
    int rc, e = 0, one = 1;

    if (split_hostport(addr, host, sizeof(host), &port))
        return client_fail(c, MMSIM_CLIENT_EINVAL,
                           "bad address '%s': want HOST:PORT or a unix "
                           "socket path",
                           addr);
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc)
        return client_fail(c, MMSIM_CLIENT_ECONNECT, "resolve %s: %s", addr,
                           gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);

        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            e = 0;
        else if (errno == EINPROGRESS)
            e = connect_wait(fd, deadline);
        else
            e = errno;
        if (!e) {
            /* Small requests, answered one by one: no Nagle delay. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            c->fd = fd;
            break;
        }
        close(fd);
        if (e == ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return client_fail(
            c, e == ETIMEDOUT ? MMSIM_CLIENT_ETIMEDOUT : MMSIM_CLIENT_ECONNECT,
            "connect %s: %s", addr, strerror(e ? e : ECONNREFUSED));
    return 0;
}

static int say_hello(struct mmsim_client *c, int64_t deadline)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Hello hello = MMSIM__V1__HELLO__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__Limits *lim;
    int rc;

    hello.has_protocol_version = 1;
    hello.protocol_version = MMSIM_PROTOCOL_VERSION;
    hello.client_name = c->client_name;
    if (c->token) {
        hello.has_token = 1;
        hello.token.data = c->token;
        hello.token.len = c->token_len;
    }
    req.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    req.hello = &hello;
    rc = call_raw(c, &req, deadline, &r);
    if (rc)
        return rc;
    if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
        rc = client_refused(c, r->status, r->message);
        mmsim_wire_response_free(r);
        return conn_dead(c, rc);
    }
    if (r->result_case != MMSIM__V1__RESPONSE__RESULT_HELLO) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "Hello answered without HelloReply"));
    }
    c->hello = r->hello;
    r->hello = NULL;
    r->result_case = MMSIM__V1__RESPONSE__RESULT__NOT_SET;
    mmsim_wire_response_free(r);

    lim = c->hello->limits;
    c->max_frame = lim && lim->has_max_frame_bytes && lim->max_frame_bytes
                       ? lim->max_frame_bytes
                       : MMSIM_FRAME_MAX_DEFAULT;
    c->max_inflight = lim && lim->has_max_inflight && lim->max_inflight
                          ? lim->max_inflight
                          : CLIENT_DEFAULT_INFLIGHT;
    c->status = MMSIM__V1__STATUS__OK;
    c->msg[0] = '\0';
    return 0;
}

/* Connect (unless @fd >= 0 is given) and say Hello. */
static int client_open(struct mmsim_client *c, int fd)
{
    int64_t deadline = deadline_in(c->connect_timeout_ms);
    int rc;

    conn_reset(c);
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFL);

        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            rc = client_fail(c, MMSIM_CLIENT_ECONNECT, "fcntl: %s",
                             strerror(errno));
            close(fd);
            return rc;
        }
        c->fd = fd;
    } else if (!strncmp(c->addr, "unix:", 5)) {
        rc = connect_unix(c, c->addr + 5, deadline);
        if (rc)
            return rc;
    } else if (strchr(c->addr, '/')) {
        rc = connect_unix(c, c->addr, deadline);
        if (rc)
            return rc;
    } else {
        rc = connect_tcp(c, c->addr, deadline);
        if (rc)
            return rc;
    }
    return say_hello(c, deadline);
}

void mmsim_client_opts_init(struct mmsim_client_opts *o)
{
    memset(o, 0, sizeof(*o));
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

static struct mmsim_client *client_new(const char *addr,
                                       const struct mmsim_client_opts *opts)
{
    struct mmsim_client_opts def;
    struct mmsim_client *c = calloc(1, sizeof(*c));
    const char *env = NULL;

    if (!c)
        return NULL;
    if (!opts) {
        mmsim_client_opts_init(&def);
        opts = &def;
    }
    c->fd = -1;
    c->connect_timeout_ms = opts->connect_timeout_ms > 0
                                ? opts->connect_timeout_ms
                                : CLIENT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
    c->max_response_bytes = opts->max_response_bytes ? opts->max_response_bytes
                                                     : CLIENT_MAX_RESPONSE;
    mmsim_buf_init(&c->out);
    mmsim_frame_decoder_init(&c->dec, c->max_response_bytes);
    c->rbuf = malloc(CLIENT_RBUF);
    c->client_name =
        dup_str(opts->client_name ? opts->client_name : "libmmsim");
    c->addr = addr ? dup_str(addr) : NULL;
    if (!c->rbuf || !c->client_name || (addr && !c->addr))
        goto out_free;
    if (opts->token) {
        c->token = malloc(opts->token_len ? opts->token_len : 1);
        if (!c->token)
            goto out_free;
        if (opts->token_len)
            memcpy(c->token, opts->token, opts->token_len);
        c->token_len = opts->token_len;
    } else if ((env = getenv("MMSIM_TOKEN")) != NULL && *env) {
        c->token = (uint8_t *)dup_str(env);
        if (!c->token)
            goto out_free;
        c->token_len = strlen(env);
    }
    return c;

out_free:
    mmsim_client_close(c);
    return NULL;
}

static int connect_common(const char *addr, int fd,
                          const struct mmsim_client_opts *opts,
                          struct mmsim_client **out, char *err, size_t errlen)
{
    struct mmsim_client *c = client_new(addr, opts);
    int rc;

    *out = NULL;
    if (!c) {
        if (fd >= 0)
            close(fd);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return MMSIM_CLIENT_ENOMEM;
    }
    rc = client_open(c, fd);
    if (rc) {
        if (err && errlen) {
            if (rc == MMSIM_CLIENT_ESTATUS)
                snprintf(err, errlen, "%s: %s",
                         mmsim_client_status_name(c->status), c->msg);
            else
                snprintf(err, errlen, "%s", c->msg);
        }
        mmsim_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int mmsim_client_connect(const char *addr, const struct mmsim_client_opts *opts,
                         struct mmsim_client **out, char *err, size_t errlen)
{
    if (!addr || !*addr || !out) {
        if (out)
            *out = NULL;
        if (err && errlen)
            snprintf(err, errlen, "no address");
        return MMSIM_CLIENT_EINVAL;
    }
    return connect_common(addr, -1, opts, out, err, errlen);
}

int mmsim_client_connect_fd(int fd, const struct mmsim_client_opts *opts,
                            struct mmsim_client **out, char *err, size_t errlen)
{
    if (fd < 0 || !out) {
        if (out)
            *out = NULL;
        if (err && errlen)
            snprintf(err, errlen, "bad descriptor");
        return MMSIM_CLIENT_EINVAL;
    }
    return connect_common(NULL, fd, opts, out, err, errlen);
}

int mmsim_client_reconnect(struct mmsim_client *c)
{
    if (!c->addr)
        return client_fail(c, MMSIM_CLIENT_EINVAL,
                           "this client was made from a descriptor and "
                           "cannot reconnect");
    return client_open(c, -1);
}

void mmsim_client_close(struct mmsim_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    queue_clear(c);
    free(c->q);
    mmsim_buf_free(&c->out);
    mmsim_frame_decoder_fini(&c->dec);
    mmsim_client_pb_free(c->hello);
    free(c->rbuf);
    free(c->token);
    free(c->client_name);
    free(c->addr);
    free(c);
}

const Mmsim__V1__HelloReply *
mmsim_client_hello_reply(const struct mmsim_client *c)
{
    return c->hello;
}

uint64_t mmsim_client_session_id(const struct mmsim_client *c)
{
    return c->hello && c->hello->has_session_id ? c->hello->session_id : 0;
}

uint32_t mmsim_client_max_frame_bytes(const struct mmsim_client *c)
{
    return c->max_frame;
}

uint32_t mmsim_client_max_inflight(const struct mmsim_client *c)
{
    return c->max_inflight;
}

/* ---- Requests. Each build_*() fills a Request from caller storage. */

static void build_ping(Mmsim__V1__Request *req, Mmsim__V1__Ping *ping,
                       const void *payload, size_t len)
{
    if (len) {
        ping->has_payload = 1;
        ping->payload.data = (uint8_t *)payload;
        ping->payload.len = len;
    }
    req->op_case = MMSIM__V1__REQUEST__OP_PING;
    req->ping = ping;
}

/*
 * Fields equal to their declared default are left out: PROTOCOL.md gives
 * absent fields their defaults, and a node of -1 alone is a 10-byte
 * varint.
 */
static void build_alloc_pages(Mmsim__V1__AllocPages *a, unsigned order,
                              uint32_t gfp, int node)
{
    a->has_order = order != 0;
    a->order = order;
    a->has_gfp = gfp != 0;
    a->gfp = gfp;
    a->has_node = node != MMSIM_CLIENT_ANY_NODE;
    a->node = node;
}

static void build_free_pages(Mmsim__V1__FreePages *f, uint64_t pfn,
                             unsigned order)
{
    f->has_pfn = 1;
    f->pfn = pfn;
    f->has_order = order != 0;
    f->order = order;
}

static void build_read(Mmsim__V1__Request *req, Mmsim__V1__ReadPage *rd,
                       uint64_t pfn, uint32_t offset, uint32_t len)
{
    rd->has_pfn = 1;
    rd->pfn = pfn;
    rd->has_offset = offset != 0;
    rd->offset = offset;
    rd->has_length = 1;
    rd->length = len;
    req->op_case = MMSIM__V1__REQUEST__OP_READ;
    req->read = rd;
}

static void build_write(Mmsim__V1__Request *req, Mmsim__V1__WritePage *wr,
                        uint64_t pfn, uint32_t offset, const void *data,
                        size_t len)
{
    wr->has_pfn = 1;
    wr->pfn = pfn;
    wr->has_offset = offset != 0;
    wr->offset = offset;
    wr->has_data = 1;
    wr->data.data = (uint8_t *)data;
    wr->data.len = len;
    req->op_case = MMSIM__V1__REQUEST__OP_WRITE;
    req->write = wr;
}

/* A heap-built batch: n messages and the pointer array to them. */
struct batch {
    void *msgs;
    void **ptrs;
};

static void batch_free(struct batch *b)
{
    free(b->msgs);
    free(b->ptrs);
    b->msgs = NULL;
    b->ptrs = NULL;
}

static int build_alloc_batch(struct mmsim_client *c, Mmsim__V1__Request *req,
                             Mmsim__V1__AllocBatch *ab,
                             const struct mmsim_client_alloc_req *reqs,
                             size_t n, struct batch *b)
{
    Mmsim__V1__AllocPages *a;

    b->msgs = calloc(n ? n : 1, sizeof(*a));
    b->ptrs = calloc(n ? n : 1, sizeof(void *));
    if (!b->msgs || !b->ptrs) {
        batch_free(b);
        return client_fail(c, MMSIM_CLIENT_ENOMEM, "out of memory");
    }
    a = b->msgs;
    for (size_t i = 0; i < n; i++) {
        mmsim__v1__alloc_pages__init(&a[i]);
        build_alloc_pages(&a[i], reqs[i].order, reqs[i].gfp, reqs[i].node);
        b->ptrs[i] = &a[i];
    }
    ab->n_allocs = n;
    ab->allocs = (Mmsim__V1__AllocPages **)b->ptrs;
    req->op_case = MMSIM__V1__REQUEST__OP_ALLOC_BATCH;
    req->alloc_batch = ab;
    return 0;
}

static int build_free_batch(struct mmsim_client *c, Mmsim__V1__Request *req,
                            Mmsim__V1__FreeBatch *fb,
                            const struct mmsim_client_free_req *reqs, size_t n,
                            struct batch *b)
{
    Mmsim__V1__FreePages *f;

    b->msgs = calloc(n ? n : 1, sizeof(*f));
    b->ptrs = calloc(n ? n : 1, sizeof(void *));
    if (!b->msgs || !b->ptrs) {
        batch_free(b);
        return client_fail(c, MMSIM_CLIENT_ENOMEM, "out of memory");
    }
    f = b->msgs;
    for (size_t i = 0; i < n; i++) {
        mmsim__v1__free_pages__init(&f[i]);
        build_free_pages(&f[i], reqs[i].pfn, reqs[i].order);
        b->ptrs[i] = &f[i];
    }
    fb->n_frees = n;
    fb->frees = (Mmsim__V1__FreePages **)b->ptrs;
    req->op_case = MMSIM__V1__REQUEST__OP_FREE_BATCH;
    req->free_batch = fb;
    return 0;
}

static void page_from_reply(struct mmsim_client_page *p,
                            const Mmsim__V1__AllocReply *a)
{
    memset(p, 0, sizeof(*p));
    if (!a)
        return;
    p->pfn = a->pfn;
    p->node = a->node;
    p->order = a->order;
    if (a->zone)
        snprintf(p->zone, sizeof(p->zone), "%s", a->zone);
}

static void result_set(struct mmsim_client_result *res, bool has_status,
                       Mmsim__V1__Status status, const char *message)
{
    memset(res, 0, sizeof(*res));
    res->status = has_status ? status : MMSIM__V1__STATUS__OK;
    if (message)
        snprintf(res->message, sizeof(res->message), "%s", message);
}

/* ---- Blocking calls */

int mmsim_client_ping(struct mmsim_client *c, const void *payload, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Ping ping = MMSIM__V1__PING__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__Pong *pong;
    bool same;
    int rc;

    if (len && !payload)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "payload is NULL");
    build_ping(&req, &ping, payload, len);
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_PONG, &r);
    if (rc)
        return rc;
    pong = r->pong;
    same = pong->payload.len == len &&
           (len == 0 || memcmp(pong->payload.data, payload, len) == 0);
    mmsim_wire_response_free(r);
    if (!same)
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "Pong payload differs from Ping's"));
    return 0;
}

int mmsim_client_alloc(struct mmsim_client *c, unsigned order, uint32_t gfp,
                       int node, struct mmsim_client_page *out)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocPages a = MMSIM__V1__ALLOC_PAGES__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_alloc_pages(&a, order, gfp, node);
    req.op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    req.alloc = &a;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_ALLOC, &r);
    if (rc)
        return rc;
    if (out)
        page_from_reply(out, r->alloc);
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_free(struct mmsim_client *c, uint64_t pfn, unsigned order)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreePages f = MMSIM__V1__FREE_PAGES__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_free_pages(&f, pfn, order);
    req.op_case = MMSIM__V1__REQUEST__OP_FREE;
    req.free = &f;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_alloc_batch(struct mmsim_client *c,
                             const struct mmsim_client_alloc_req *reqs,
                             size_t n, struct mmsim_client_result *results)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocBatch ab = MMSIM__V1__ALLOC_BATCH__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__AllocBatchReply *br;
    struct batch b;
    int rc, ok = 0;

    if ((n && (!reqs || !results)) || n > INT32_MAX)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "bad batch arguments");
    rc = build_alloc_batch(c, &req, &ab, reqs, n, &b);
    if (rc)
        return rc;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_ALLOC_BATCH, &r);
    batch_free(&b);
    if (rc)
        return rc;
    br = r->alloc_batch;
    if (br->n_results != n) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "AllocBatch of %zu answered with "
                                        "%zu results",
                                        n, br->n_results));
    }
    for (size_t i = 0; i < n; i++) {
        const Mmsim__V1__AllocResult *ar = br->results[i];

        result_set(&results[i], ar->has_status, ar->status, ar->message);
        if (results[i].status == MMSIM__V1__STATUS__OK) {
            page_from_reply(&results[i].page, ar->page);
            ok++;
        }
    }
    mmsim_wire_response_free(r);
    return ok;
}

int mmsim_client_free_batch(struct mmsim_client *c,
                            const struct mmsim_client_free_req *reqs, size_t n,
                            struct mmsim_client_result *results)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreeBatch fb = MMSIM__V1__FREE_BATCH__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__FreeBatchReply *br;
    struct batch b;
    int rc, ok = 0;

    if ((n && (!reqs || !results)) || n > INT32_MAX)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "bad batch arguments");
    rc = build_free_batch(c, &req, &fb, reqs, n, &b);
    if (rc)
        return rc;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_FREE_BATCH, &r);
    batch_free(&b);
    if (rc)
        return rc;
    br = r->free_batch;
    if (br->n_results != n) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "FreeBatch of %zu answered with "
                                        "%zu results",
                                        n, br->n_results));
    }
    for (size_t i = 0; i < n; i++) {
        const Mmsim__V1__FreeResult *fr = br->results[i];

        result_set(&results[i], fr->has_status, fr->status, fr->message);
        if (results[i].status == MMSIM__V1__STATUS__OK)
            ok++;
    }
    mmsim_wire_response_free(r);
    return ok;
}

int mmsim_client_read(struct mmsim_client *c, uint64_t pfn, uint32_t offset,
                      uint32_t len, void *buf, size_t *got)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__ReadPage rd = MMSIM__V1__READ_PAGE__INIT;
    Mmsim__V1__Response *r = NULL;
    size_t n;
    int rc;

    if (got)
        *got = 0;
    if (len && !buf)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "buffer is NULL");
    build_read(&req, &rd, pfn, offset, len);
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_READ, &r);
    if (rc)
        return rc;
    n = r->read->data.len;
    if (n > len) {
        mmsim_wire_response_free(r);
        return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO,
                                        "asked for %u bytes, got %zu",
                                        (unsigned)len, n));
    }
    if (n)
        memcpy(buf, r->read->data.data, n);
    if (got)
        *got = n;
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_write(struct mmsim_client *c, uint64_t pfn, uint32_t offset,
                       const void *data, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__WritePage wr = MMSIM__V1__WRITE_PAGE__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (len && !data)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "data is NULL");
    build_write(&req, &wr, pfn, offset, data, len);
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_view(struct mmsim_client *c, Mmsim__V1__ViewKind kind,
                      char **text, Mmsim__V1__ViewReply **reply)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetView gv = MMSIM__V1__GET_VIEW__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (text)
        *text = NULL;
    if (reply)
        *reply = NULL;
    gv.has_kind = 1;
    gv.kind = kind;
    req.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    req.view = &gv;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_VIEW, &r);
    if (rc)
        return rc;
    if (text) {
        *text = dup_str(r->view->text ? r->view->text : "");
        if (!*text) {
            mmsim_wire_response_free(r);
            return client_fail(c, MMSIM_CLIENT_ENOMEM, "out of memory");
        }
    }
    if (reply) {
        *reply = r->view;
        r->view = NULL;
        r->result_case = MMSIM__V1__RESPONSE__RESULT__NOT_SET;
    }
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_check(struct mmsim_client *c, bool full, bool *ok,
                       char *problem, size_t problemlen)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Check ck = MMSIM__V1__CHECK__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    ck.has_full = 1;
    ck.full = full;
    req.op_case = MMSIM__V1__REQUEST__OP_CHECK;
    req.check = &ck;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_CHECK, &r);
    if (rc)
        return rc;
    if (ok)
        *ok = r->check->has_ok && r->check->ok;
    if (problem && problemlen)
        snprintf(problem, problemlen, "%s",
                 r->check->problem ? r->check->problem : "");
    mmsim_wire_response_free(r);
    return 0;
}

int mmsim_client_machine(struct mmsim_client *c, Mmsim__V1__MachineReply **out)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMachine gm = MMSIM__V1__GET_MACHINE__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    *out = NULL;
    req.op_case = MMSIM__V1__REQUEST__OP_MACHINE;
    req.machine = &gm;
    rc = call(c, &req, MMSIM__V1__RESPONSE__RESULT_MACHINE, &r);
    if (rc)
        return rc;
    *out = r->machine;
    r->machine = NULL;
    r->result_case = MMSIM__V1__RESPONSE__RESULT__NOT_SET;
    mmsim_wire_response_free(r);
    return 0;
}

/* ---- Pipelined calls */

int64_t mmsim_client_send(struct mmsim_client *c, Mmsim__V1__Request *req)
{
    int64_t deadline = deadline_in(c->timeout_ms);
    int64_t id;
    int rc;

    if (!req || req->op_case == MMSIM__V1__REQUEST__OP_HELLO)
        return client_fail(c, MMSIM_CLIENT_EINVAL,
                           "no request, or a second Hello");
    id = enqueue(c, req, deadline);
    if (id > 0 && c->out.len - c->out_off >= CLIENT_AUTOFLUSH_BYTES) {
        /* Send what the socket takes; wait only past CLIENT_OUT_MAX, so
         * an event loop's batch is never held up here. */
        rc = c->out.len - c->out_off >= CLIENT_OUT_MAX
                 ? flush_until(c, deadline)
                 : send_some(c);
        if (rc < 0)
            return rc;
    }
    return id;
}

int64_t mmsim_client_send_ping(struct mmsim_client *c, const void *payload,
                               size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Ping ping = MMSIM__V1__PING__INIT;

    if (len && !payload)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "payload is NULL");
    build_ping(&req, &ping, payload, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_alloc(struct mmsim_client *c, unsigned order,
                                uint32_t gfp, int node)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocPages a = MMSIM__V1__ALLOC_PAGES__INIT;

    build_alloc_pages(&a, order, gfp, node);
    req.op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    req.alloc = &a;
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_free(struct mmsim_client *c, uint64_t pfn,
                               unsigned order)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreePages f = MMSIM__V1__FREE_PAGES__INIT;

    build_free_pages(&f, pfn, order);
    req.op_case = MMSIM__V1__REQUEST__OP_FREE;
    req.free = &f;
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_alloc_batch(struct mmsim_client *c,
                                      const struct mmsim_client_alloc_req *reqs,
                                      size_t n)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocBatch ab = MMSIM__V1__ALLOC_BATCH__INIT;
    struct batch b;
    int64_t id;
    int rc;

    if (n && !reqs)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "bad batch arguments");
    rc = build_alloc_batch(c, &req, &ab, reqs, n, &b);
    if (rc)
        return rc;
    id = mmsim_client_send(c, &req);
    batch_free(&b);
    return id;
}

int64_t mmsim_client_send_free_batch(struct mmsim_client *c,
                                     const struct mmsim_client_free_req *reqs,
                                     size_t n)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreeBatch fb = MMSIM__V1__FREE_BATCH__INIT;
    struct batch b;
    int64_t id;
    int rc;

    if (n && !reqs)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "bad batch arguments");
    rc = build_free_batch(c, &req, &fb, reqs, n, &b);
    if (rc)
        return rc;
    id = mmsim_client_send(c, &req);
    batch_free(&b);
    return id;
}

int64_t mmsim_client_send_read(struct mmsim_client *c, uint64_t pfn,
                               uint32_t offset, uint32_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__ReadPage rd = MMSIM__V1__READ_PAGE__INIT;

    build_read(&req, &rd, pfn, offset, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_write(struct mmsim_client *c, uint64_t pfn,
                                uint32_t offset, const void *data, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__WritePage wr = MMSIM__V1__WRITE_PAGE__INIT;

    if (len && !data)
        return client_fail(c, MMSIM_CLIENT_EINVAL, "data is NULL");
    build_write(&req, &wr, pfn, offset, data, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_view(struct mmsim_client *c, Mmsim__V1__ViewKind kind)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetView gv = MMSIM__V1__GET_VIEW__INIT;

    gv.has_kind = 1;
    gv.kind = kind;
    req.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    req.view = &gv;
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_check(struct mmsim_client *c, bool full)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Check ck = MMSIM__V1__CHECK__INIT;

    ck.has_full = 1;
    ck.full = full;
    req.op_case = MMSIM__V1__REQUEST__OP_CHECK;
    req.check = &ck;
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_machine(struct mmsim_client *c)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMachine gm = MMSIM__V1__GET_MACHINE__INIT;

    req.op_case = MMSIM__V1__REQUEST__OP_MACHINE;
    req.machine = &gm;
    return mmsim_client_send(c, &req);
}

/* The oldest queued response, its status recorded for _status(). */
static Mmsim__V1__Response *take_head(struct mmsim_client *c)
{
    Mmsim__V1__Response *r = queue_pop_head(c);

    if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
        client_refused(c, r->status, r->message);
        if (status_closes(r->status))
            conn_dead(c, MMSIM_CLIENT_ESTATUS);
    } else {
        c->status = MMSIM__V1__STATUS__OK;
        c->msg[0] = '\0';
    }
    return r;
}

/*
 * recv and try_recv: the oldest response, reading for it when none is
 * queued; with @wait until one comes, else with one recv() at most.
 */
static int recv_head(struct mmsim_client *c, Mmsim__V1__Response **resp,
                     bool wait)
{
    int rc;

    *resp = NULL;
    if (!c->q_len) {
        /* The clock only when we may wait: most calls find one queued. */
        int64_t deadline = wait ? deadline_in(c->timeout_ms) : -1;

        if (c->next_wire_id == c->next_id)
            return client_fail(c, MMSIM_CLIENT_EINVAL,
                               "recv with no request pending");
        rc = check_open(c);
        if (!rc)
            rc = wait ? flush_until(c, deadline) : send_some(c);
        if (rc < 0)
            return rc;
        if (wait) {
            rc = pump_one(c, deadline);
        } else {
            /* What rbuf holds, else one recv(): never a wait. */
            rc = decode_one(c);
            if (rc == 0) {
                rc = read_socket(c);
                if (rc > 0)
                    rc = decode_one(c);
            }
        }
        if (rc < 0)
            return rc;
        if (!c->q_len)
            return 0;
    }
    *resp = take_head(c);
    return 0;
}

int mmsim_client_recv(struct mmsim_client *c, Mmsim__V1__Response **resp)
{
    return recv_head(c, resp, true);
}

int mmsim_client_try_recv(struct mmsim_client *c, Mmsim__V1__Response **resp)
{
    return recv_head(c, resp, false);
}

int mmsim_client_fd(const struct mmsim_client *c)
{
    return c->fd;
}

size_t mmsim_client_pending(const struct mmsim_client *c)
{
    return (size_t)(c->next_id - c->next_wire_id) + c->q_len;
}

/* ---- GFP names (values from mmsim/mm.h) */

struct gfp_name {
    const char *name; /* without the leading "__" */
    uint32_t bits;
    bool composite; /* GFP_KERNEL and friends: printed without "__" */
};

/* Composites first, largest first, for mmsim_client_format_gfp(). */
static const struct gfp_name gfp_names[] = {
    {"GFP_HIGHUSER_MOVABLE", MMSIM_GFP_HIGHUSER_MOVABLE, true},
    {"GFP_HIGHUSER", MMSIM_GFP_HIGHUSER, true},
    {"GFP_KERNEL", MMSIM_GFP_KERNEL, true},
    {"GFP_USER", MMSIM_GFP_USER, true},
    {"GFP_ATOMIC", MMSIM_GFP_ATOMIC, true},
    {"GFP_NOWAIT", MMSIM_GFP_NOWAIT, true},
    {"GFP_DMA", MMSIM_GFP_DMA, true},
    {"GFP_DMA32", MMSIM_GFP_DMA32, true},
    {"GFP_RECLAIM", MMSIM_GFP_RECLAIM, false},
    {"GFP_DMA", MMSIM_GFP_DMA, false},
    {"GFP_HIGHMEM", MMSIM_GFP_HIGHMEM, false},
    {"GFP_DMA32", MMSIM_GFP_DMA32, false},
    {"GFP_MOVABLE", MMSIM_GFP_MOVABLE, false},
    {"GFP_HIGH", MMSIM_GFP_HIGH, false},
    {"GFP_KSWAPD_RECLAIM", MMSIM_GFP_KSWAPD_RECLAIM, false},
    {"GFP_DIRECT_RECLAIM", MMSIM_GFP_DIRECT_RECLAIM, false},
    {"GFP_ZERO", MMSIM_GFP_ZERO, false},
    {"GFP_THISNODE", MMSIM_GFP_THISNODE, false},
    {"GFP_NOWARN", MMSIM_GFP_NOWARN, false},
    {"GFP_NORETRY", MMSIM_GFP_NORETRY, false},
    {"GFP_NOFAIL", MMSIM_GFP_NOFAIL, false},
    {"GFP_NOMEMALLOC", MMSIM_GFP_NOMEMALLOC, false},
    {"GFP_NOIO", MMSIM_GFP_RECLAIM, true},
    {"GFP_NOFS", MMSIM_GFP_RECLAIM, true},
};

#define GFP_NAMES_N (sizeof(gfp_names) / sizeof(gfp_names[0]))

static int gfp_lookup(const char *tok, size_t n, uint32_t *bits)
{
    char *end;
    unsigned long long v;
    char num[32];

    if (n && (tok[0] >= '0' && tok[0] <= '9')) {
        if (n >= sizeof(num))
            return -1;
        memcpy(num, tok, n);
        num[n] = '\0';
        errno = 0;
        v = strtoull(num, &end, 0);
        if (errno || *end || (v & ~(unsigned long long)MMSIM_GFP_ALL_FLAGS))
            return -1;
        *bits = (uint32_t)v;
        return 0;
    }
    if (n >= 2 && tok[0] == '_' && tok[1] == '_') {
        tok += 2;
        n -= 2;
    }
    for (size_t i = 0; i < GFP_NAMES_N; i++) {
        if (strlen(gfp_names[i].name) == n &&
            !strncasecmp(gfp_names[i].name, tok, n)) {
            *bits = gfp_names[i].bits;
            return 0;
        }
    }
    return -1;
}

int mmsim_client_parse_gfp(const char *s, uint32_t *gfp)
{
    uint32_t acc = 0;

    if (!s)
        return MMSIM_CLIENT_EINVAL;
    for (;;) {
        size_t n;
        uint32_t bits;

        while (*s == ' ' || *s == '\t')
            s++;
        n = strcspn(s, "|,+ \t");
        if (n == 0 || gfp_lookup(s, n, &bits))
            return MMSIM_CLIENT_EINVAL;
        acc |= bits;
        s += n;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (*s != '|' && *s != ',' && *s != '+')
            return MMSIM_CLIENT_EINVAL;
        s++;
    }
    *gfp = acc;
    return 0;
}

int mmsim_client_format_gfp(uint32_t gfp, char *buf, size_t len)
{
    size_t need = 0;
    uint32_t left = gfp;
    int n;

    if (len)
        buf[0] = '\0';
    if (!gfp)
        return snprintf(buf, len, "0");
    for (size_t i = 0; i < GFP_NAMES_N && left; i++) {
        const struct gfp_name *g = &gfp_names[i];

        /* Composites only as a whole subset of what is left; a single
         * bit under its "__" name. */
        if ((g->bits & left) != g->bits ||
            (!g->composite && (g->bits & (g->bits - 1))))
            continue;
        n = snprintf(need < len ? buf + need : NULL,
                     need < len ? len - need : 0, "%s%s%s", need ? "|" : "",
                     g->composite ? "" : "__", g->name);
        need += (size_t)n;
        left &= ~g->bits;
    }
    if (left) {
        n = snprintf(need < len ? buf + need : NULL,
                     need < len ? len - need : 0, "%s%#x", need ? "|" : "",
                     (unsigned)left);
        need += (size_t)n;
    }
    return (int)need;
}

/* ---- For the library's other files (internal.h) */

int client_call(struct mmsim_client *c, Mmsim__V1__Request *req,
                Mmsim__V1__Response__ResultCase want,
                Mmsim__V1__Response **resp)
{
    return call(c, req, want, resp);
}

int client_invalid(struct mmsim_client *c, const char *what)
{
    return client_fail(c, MMSIM_CLIENT_EINVAL, "%s", what);
}

int client_broken(struct mmsim_client *c, const char *what)
{
    return conn_dead(c, client_fail(c, MMSIM_CLIENT_EPROTO, "%s", what));
}
