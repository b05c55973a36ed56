/*
 * mmsim/client.h - libmmsim, the C client of mmsimd.
 *
 * DOC: client overview
 *
 * One struct mmsim_client is one connection, hence one server session:
 * the pages it allocates belong to it, and the server frees whatever the
 * session still owns when the connection closes (like a process exit).
 * mmsim_client_connect() connects (TCP "host:port" or a Unix socket path),
 * sends Hello with the token, and keeps the HelloReply: the limits it
 * announces (max_frame_bytes, max_inflight) are obeyed from then on.
 *
 * Two ways to talk:
 *
 * - Blocking calls (mmsim_client_alloc(), _read(), _view(), ...): send one
 *   request, wait for its answer.
 * - The pipelined API: mmsim_client_send_*() queues a request and returns
 *   its id without waiting; mmsim_client_recv() returns the next response,
 *   always in request order (ids ascend by one per connection; Hello took
 *   the first, 1); mmsim_client_flush() pushes queued requests to the
 *   socket (recv flushes too). Once 64 KiB are queued, a send writes what
 *   the socket takes without waiting; it waits for the socket only past
 *   1 MiB unsent. When max_inflight requests are unanswered, a send first
 *   reads responses off the socket and keeps them for recv, so it may
 *   block.
 * - In an event loop: mmsim_client_try_flush() and mmsim_client_try_recv()
 *   never wait; poll mmsim_client_fd() for writing while try_flush says
 *   requests are left, and for reading while responses are due.
 *
 * The two mix: a blocking call made while pipelined requests are pending
 * keeps their responses for mmsim_client_recv() and returns its own.
 *
 * Errors: 0 (or a count) on success, a negative MMSIM_CLIENT_E* code on
 * failure. MMSIM_CLIENT_ESTATUS means the server answered with a non-OK
 * Status: mmsim_client_status() and mmsim_client_message() give it. The
 * transport codes (ECONNECT, EIO, ETIMEDOUT, EPROTO, ECLOSED) mean the
 * connection is dead; every later call returns MMSIM_CLIENT_ECLOSED until
 * mmsim_client_reconnect(), which starts a new session (the old session's
 * pages are gone). So do the refusals after which the server hangs up
 * (UNAUTHENTICATED, BAD_VERSION, FRAME_TOO_LARGE, MALFORMED, KILLED).
 *
 * Threads: no globals, no signals (writes use MSG_NOSIGNAL). A client must
 * be used by one thread at a time; use one client per thread. Different
 * clients are independent.
 *
 * Timeouts: opts.connect_timeout_ms bounds connect plus Hello;
 * opts.timeout_ms bounds each wait for the server (a blocking call, a
 * recv, a flush). A timeout kills the connection, since a late answer
 * would otherwise be taken for the next request's.
 */
#ifndef MMSIM_CLIENT_H
#define MMSIM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default TCP address of mmsimd. */
#define MMSIM_CLIENT_DEFAULT_TCP "127.0.0.1:7411"

/* XX(NAME, value, message) */
#define MMSIM_CLIENT_ERRNO_MAP(XX)                                             \
    XX(ESTATUS, -1, "the server refused the request")                          \
    XX(EINVAL, -2, "invalid argument")                                         \
    XX(ENOMEM, -3, "out of host memory")                                       \
    XX(ETOOBIG, -4, "request larger than the server's max_frame_bytes")        \
    XX(ECONNECT, -10, "cannot connect to the server")                          \
    XX(EIO, -11, "connection lost")                                            \
    XX(ETIMEDOUT, -12, "timed out waiting for the server")                     \
    XX(EPROTO, -13, "the server broke the protocol")                           \
    XX(ECLOSED, -14, "connection closed; reconnect first")

enum mmsim_client_errno {
#define MMSIM_CLIENT_ERR_ENUM_(name, val, msg) MMSIM_CLIENT_##name = (val),
    MMSIM_CLIENT_ERRNO_MAP(MMSIM_CLIENT_ERR_ENUM_)
#undef MMSIM_CLIENT_ERR_ENUM_
};

/* Whether @err is a transport error (the connection is dead). */
bool mmsim_client_err_is_transport(int err);
/* A static message for @err; "success" for >= 0; never NULL. */
const char *mmsim_client_strerror(int err);
/* "NOT_OWNER" for a Status value; "UNKNOWN" for values not in the enum. */
const char *mmsim_client_status_name(int status);

struct mmsim_client_opts {
    /* Token for Hello; NULL: the environment variable MMSIM_TOKEN if set,
     * else none. Copied at connect. */
    const uint8_t *token;
    size_t token_len;
    const char *client_name; /* for the server's logs; NULL: "libmmsim" */
    int connect_timeout_ms;  /* connect + Hello; <= 0: 5000 */
    int timeout_ms;          /* each wait for the server; <= 0: forever */
    /* Largest response frame accepted; 0: 64 MiB. */
    uint32_t max_response_bytes;
};

/* Fill @o with the defaults (all zero/NULL). */
void mmsim_client_opts_init(struct mmsim_client_opts *o);

struct mmsim_client;

/**
 * mmsim_client_connect() - connect, say Hello, return a client.
 * @addr:   "host:port" ("[::1]:7411" for IPv6), a Unix socket path (any
 *          string with a '/'), or "unix:PATH".
 * @opts:   NULL for the defaults.
 * @out:    receives the client.
 * @err:    receives a one-line reason on failure (may be NULL); a refused
 *          Hello reads "UNAUTHENTICATED: <server message>".
 * @errlen: size of @err.
 *
 * Return: 0; MMSIM_CLIENT_EINVAL (bad address), MMSIM_CLIENT_ECONNECT,
 * MMSIM_CLIENT_ETIMEDOUT, MMSIM_CLIENT_EIO, MMSIM_CLIENT_EPROTO,
 * MMSIM_CLIENT_ESTATUS (Hello refused), MMSIM_CLIENT_ENOMEM.
 */
int mmsim_client_connect(const char *addr, const struct mmsim_client_opts *opts,
                         struct mmsim_client **out, char *err, size_t errlen);

/**
 * mmsim_client_connect_fd() - as mmsim_client_connect() over a connected
 * stream socket the caller made (a socketpair, an inherited descriptor).
 * The client owns @fd from now on, also on failure. Such a client cannot
 * reconnect.
 */
int mmsim_client_connect_fd(int fd, const struct mmsim_client_opts *opts,
                            struct mmsim_client **out, char *err,
                            size_t errlen);

/**
 * mmsim_client_reconnect() - drop the connection (and with it the session
 * and its pages, and every unanswered or unreceived response) and connect
 * again to the same address with the same options.
 *
 * Return: as mmsim_client_connect(); MMSIM_CLIENT_EINVAL for a client
 * made by mmsim_client_connect_fd(). On failure the client stays closed
 * and may be retried.
 */
int mmsim_client_reconnect(struct mmsim_client *c);

/* Close the connection and free everything. NULL is a no-op. */
void mmsim_client_close(struct mmsim_client *c);

/* Whether the connection is up (no transport error since connect). */
bool mmsim_client_connected(const struct mmsim_client *c);

/*
 * After MMSIM_CLIENT_ESTATUS: the server's Status and message. After any
 * other error, MMSIM__V1__STATUS__OK and a description of the failure.
 * The message stays valid until the next call on @c; never NULL.
 */
Mmsim__V1__Status mmsim_client_status(const struct mmsim_client *c);
const char *mmsim_client_message(const struct mmsim_client *c);

/* The server's HelloReply (limits, machine summary, session id); owned by
 * the client, valid until reconnect or close. */
const Mmsim__V1__HelloReply *
mmsim_client_hello_reply(const struct mmsim_client *c);
uint64_t mmsim_client_session_id(const struct mmsim_client *c);
/* Limits in force (the server's, or the defaults it did not announce). */
uint32_t mmsim_client_max_frame_bytes(const struct mmsim_client *c);
uint32_t mmsim_client_max_inflight(const struct mmsim_client *c);

/* ---- Blocking calls. Each returns 0 or a negative MMSIM_CLIENT_E*. */

/* Ping with an optional payload; fails with EPROTO if the echo differs. */
int mmsim_client_ping(struct mmsim_client *c, const void *payload, size_t len);

/* One allocated block, as the server reported it. */
struct mmsim_client_page {
    uint64_t pfn;   /* first page frame */
    uint32_t node;  /* node it came from */
    uint32_t order; /* 2^order pages */
    char zone[16];  /* "DMA", "DMA32", "Normal", "HighMem", "Movable" */
};

/* Node for "the session CPU's node". */
#define MMSIM_CLIENT_ANY_NODE (-1)

/**
 * mmsim_client_alloc() - allocate 2^@order pages.
 * @gfp:  MMSIM_GFP_* bits (daemon/mm/include/mmsim/mm.h); see
 *        mmsim_client_parse_gfp().
 * @node: preferred node, or MMSIM_CLIENT_ANY_NODE.
 */
int mmsim_client_alloc(struct mmsim_client *c, unsigned order, uint32_t gfp,
                       int node, struct mmsim_client_page *out);
int mmsim_client_free(struct mmsim_client *c, uint64_t pfn, unsigned order);

struct mmsim_client_alloc_req {
    unsigned order;
    uint32_t gfp;
    int node;
};

/* One entry of a batch answer; @page is valid when status is OK. */
struct mmsim_client_result {
    Mmsim__V1__Status status;
    char message[128]; /* truncated server message; "" on success */
    struct mmsim_client_page page;
};

/**
 * mmsim_client_alloc_batch() - one AllocBatch request of @n entries.
 * @results: @n entries, filled in request order.
 *
 * Return: the number of entries that succeeded (0..@n), or a negative
 * error (ESTATUS: the whole batch was refused, e.g. BATCH_TOO_LARGE).
 */
int mmsim_client_alloc_batch(struct mmsim_client *c,
                             const struct mmsim_client_alloc_req *reqs,
                             size_t n, struct mmsim_client_result *results);

struct mmsim_client_free_req {
    uint64_t pfn;
    unsigned order;
};

/* As mmsim_client_alloc_batch(); results[i].page is unused. */
int mmsim_client_free_batch(struct mmsim_client *c,
                            const struct mmsim_client_free_req *reqs, size_t n,
                            struct mmsim_client_result *results);

/**
 * mmsim_client_read() - read @len bytes at @offset of page @pfn (any page
 * of a block this session owns) into @buf.
 * @got: receives the number of bytes the server returned (== @len on
 *       success); may be NULL.
 */
int mmsim_client_read(struct mmsim_client *c, uint64_t pfn, uint32_t offset,
                      uint32_t len, void *buf, size_t *got);
int mmsim_client_write(struct mmsim_client *c, uint64_t pfn, uint32_t offset,
                       const void *data, size_t len);

/**
 * mmsim_client_view() - one of the kernel's views.
 * @kind:  MMSIM__V1__VIEW_KIND__BUDDYINFO, ...
 * @text:  receives the text exactly as the kernel prints it, NUL-terminated,
 *         malloc()ed (free() it); may be NULL.
 * @reply: receives the whole ViewReply (zones, counters); free it with
 *         mmsim_client_pb_free(); may be NULL.
 */
int mmsim_client_view(struct mmsim_client *c, Mmsim__V1__ViewKind kind,
                      char **text, Mmsim__V1__ViewReply **reply);

/**
 * mmsim_client_check() - run the server's invariant checker.
 * @full:    also walk every page frame.
 * @ok:      receives the verdict.
 * @problem: receives the first inconsistency when not ok ("" when ok);
 *           may be NULL.
 */
int mmsim_client_check(struct mmsim_client *c, bool full, bool *ok,
                       char *problem, size_t problemlen);

/* The machine's shape; free *out with mmsim_client_pb_free(). */
int mmsim_client_machine(struct mmsim_client *c, Mmsim__V1__MachineReply **out);

/* Free a message this library returned. NULL is a no-op. */
void mmsim_client_pb_free(void *msg);

/* ---- Pipelined calls. Each returns the request id (> 0) or a negative
 * MMSIM_CLIENT_E*. The request is copied; its buffers may be reused at
 * once. */

int64_t mmsim_client_send_ping(struct mmsim_client *c, const void *payload,
                               size_t len);
int64_t mmsim_client_send_alloc(struct mmsim_client *c, unsigned order,
                                uint32_t gfp, int node);
int64_t mmsim_client_send_free(struct mmsim_client *c, uint64_t pfn,
                               unsigned order);
int64_t mmsim_client_send_alloc_batch(struct mmsim_client *c,
                                      const struct mmsim_client_alloc_req *reqs,
                                      size_t n);
int64_t mmsim_client_send_free_batch(struct mmsim_client *c,
                                     const struct mmsim_client_free_req *reqs,
                                     size_t n);
int64_t mmsim_client_send_read(struct mmsim_client *c, uint64_t pfn,
                               uint32_t offset, uint32_t len);
int64_t mmsim_client_send_write(struct mmsim_client *c, uint64_t pfn,
                                uint32_t offset, const void *data, size_t len);
int64_t mmsim_client_send_view(struct mmsim_client *c,
                               Mmsim__V1__ViewKind kind);
int64_t mmsim_client_send_check(struct mmsim_client *c, bool full);
int64_t mmsim_client_send_machine(struct mmsim_client *c);
/*
 * Any request: @req's id is overwritten with the next id. A Hello is
 * refused (EINVAL): the client has said Hello already.
 */
int64_t mmsim_client_send(struct mmsim_client *c, Mmsim__V1__Request *req);

/**
 * mmsim_client_recv() - the response to the oldest request not yet
 * received, waiting for it if needed (flushes first).
 * @resp: receives it; free it with mmsim_client_pb_free(). Its status may
 *        be anything: a non-OK status is not an error of recv (it is also
 *        recorded for mmsim_client_status()/_message()).
 *
 * Return: 0; MMSIM_CLIENT_EINVAL when nothing is pending; a transport
 * error.
 */
int mmsim_client_recv(struct mmsim_client *c, Mmsim__V1__Response **resp);

/**
 * mmsim_client_try_recv() - as mmsim_client_recv(), but never waits: the
 * response when one is queued, decodable from what was read, or readable
 * from the socket with one non-blocking recv(). For event loops: call it
 * when mmsim_client_fd() is readable, until it gives no response.
 * @resp: receives the response, or NULL when none is there yet.
 *
 * Return: 0 (with or without a response); MMSIM_CLIENT_EINVAL when
 * nothing is pending; a transport error.
 */
int mmsim_client_try_recv(struct mmsim_client *c, Mmsim__V1__Response **resp);

/* The connection's socket, for poll()/epoll (never read or write it
 * directly); -1 while not connected. */
int mmsim_client_fd(const struct mmsim_client *c);

/* Write every queued request to the socket (reading responses meanwhile,
 * so neither side can stall on a full socket). Return: 0 or an error. */
int mmsim_client_flush(struct mmsim_client *c);

/**
 * mmsim_client_try_flush() - as mmsim_client_flush(), but never waits:
 * writes what the socket takes now. For event loops: while it returns 1,
 * wait for mmsim_client_fd() to be writable (reading responses with
 * mmsim_client_try_recv() meanwhile) and call it again.
 *
 * Return: 0 everything is written; 1 some is left; a transport error.
 */
int mmsim_client_try_flush(struct mmsim_client *c);

/* Requests sent with send_*() whose response recv() has not returned. */
size_t mmsim_client_pending(const struct mmsim_client *c);

/* ---- Virtual memory (vm.c): the session's address space, its vmalloc
 * areas, reclaim. Blocking calls return 0 or a negative MMSIM_CLIENT_E*;
 * the send_*() variants return the request id as above. An address space
 * is made by the first mmap; vmalloc areas belong to the session like
 * its pages. After the OOM killer chose the session, every call fails
 * with ESTATUS, status KILLED, and the connection is closed. */

/**
 * mmsim_client_mmap() - map @nr_pages (1 .. 2^24) of anonymous memory;
 * nothing is allocated until a page is first touched.
 * @node: preferred node of its pages, or MMSIM_CLIENT_ANY_NODE.
 * @addr: receives the page-aligned start address.
 */
int mmsim_client_mmap(struct mmsim_client *c, uint64_t nr_pages, int node,
                      uint64_t *addr);
/* Unmap [@addr, @addr + @nr_pages pages); @addr page aligned. Holes and
 * parts of mappings are fine, as munmap(2). */
int mmsim_client_munmap(struct mmsim_client *c, uint64_t addr,
                        uint64_t nr_pages);
/**
 * mmsim_client_mem_read() - read @len bytes (at most the server's
 * max_frame_bytes) at any address of the address space; pages fault in.
 * @got: receives the number of bytes returned (@len); may be NULL.
 */
int mmsim_client_mem_read(struct mmsim_client *c, uint64_t addr, uint32_t len,
                          void *buf, size_t *got);
int mmsim_client_mem_write(struct mmsim_client *c, uint64_t addr,
                           const void *data, size_t len);

/* The session's memory, as GetMmStat reports it (pages). */
struct mmsim_client_mm_stat {
    uint64_t owner;    /* the session id */
    uint64_t total_vm; /* mapped */
    uint64_t rss;      /* resident */
    uint64_t swapents; /* on the swap device */
    uint64_t nr_regions;
    uint64_t minflt, majflt;
    uint64_t extra; /* blocks and vmalloc pages, for the OOM badness */
    bool oom_killed;
    uint64_t block_pages;   /* of AllocPages blocks */
    uint64_t vmalloc_pages; /* of vmalloc areas */
    uint64_t vmalloc_areas;
};
int mmsim_client_mm_stat(struct mmsim_client *c,
                         struct mmsim_client_mm_stat *out);

/**
 * mmsim_client_vmalloc() - a vmalloc area of @size bytes (rounded up to
 * pages), owned by the session.
 * @node:    node for its pages, or MMSIM_CLIENT_ANY_NODE.
 * @addr:    receives its start address.
 * @rounded: receives its size in bytes, whole pages; may be NULL.
 */
int mmsim_client_vmalloc(struct mmsim_client *c, uint64_t size, int node,
                         uint64_t *addr, uint64_t *rounded);
/* Free the area starting at @addr. */
int mmsim_client_vfree(struct mmsim_client *c, uint64_t addr);
/* Read/write inside one owned area (@len at most max_frame_bytes). */
int mmsim_client_vread(struct mmsim_client *c, uint64_t addr, uint32_t len,
                       void *buf, size_t *got);
int mmsim_client_vwrite(struct mmsim_client *c, uint64_t addr, const void *data,
                        size_t len);

/* Flags of mmsim_client_reclaim(). */
#define MMSIM_CLIENT_RECLAIM_BALANCE 0x1u /* balance_pgdat(), not steps */
#define MMSIM_CLIENT_RECLAIM_KSWAPD  0x2u /* count as kswapd, not direct */

struct mmsim_client_reclaim {
    uint64_t scanned, reclaimed, activated, deactivated, kept;
    bool balanced; /* every node asked is above a high watermark now */
};

/**
 * mmsim_client_reclaim() - reclaim now, synchronously, in the server
 * worker that serves this session (deterministic experiments).
 * @node:  a node, or MMSIM_CLIENT_ANY_NODE for every node in turn.
 * @steps: shrink_node() passes per node, 1..1024 (ignored with BALANCE).
 * @flags: MMSIM_CLIENT_RECLAIM_*.
 * @out:   receives the counts (with BALANCE only reclaimed and balanced);
 *         may be NULL.
 */
int mmsim_client_reclaim(struct mmsim_client *c, int node, unsigned steps,
                         unsigned flags, struct mmsim_client_reclaim *out);

int64_t mmsim_client_send_mmap(struct mmsim_client *c, uint64_t nr_pages,
                               int node);
int64_t mmsim_client_send_munmap(struct mmsim_client *c, uint64_t addr,
                                 uint64_t nr_pages);
int64_t mmsim_client_send_mem_read(struct mmsim_client *c, uint64_t addr,
                                   uint32_t len);
int64_t mmsim_client_send_mem_write(struct mmsim_client *c, uint64_t addr,
                                    const void *data, size_t len);
int64_t mmsim_client_send_mm_stat(struct mmsim_client *c);
int64_t mmsim_client_send_vmalloc(struct mmsim_client *c, uint64_t size,
                                  int node);
int64_t mmsim_client_send_vfree(struct mmsim_client *c, uint64_t addr);
int64_t mmsim_client_send_vread(struct mmsim_client *c, uint64_t addr,
                                uint32_t len);
int64_t mmsim_client_send_vwrite(struct mmsim_client *c, uint64_t addr,
                                 const void *data, size_t len);
int64_t mmsim_client_send_reclaim(struct mmsim_client *c, int node,
                                  unsigned steps, unsigned flags);

/* ---- GFP flags by name. */

/**
 * mmsim_client_parse_gfp() - "GFP_KERNEL|__GFP_ZERO", "gfp_atomic",
 * "0x140" or "320" to bits. Names are case-insensitive, the leading "__"
 * optional, and '|', ',' or '+' separate them. Numbers must be within
 * the known flags.
 *
 * Return: 0, or MMSIM_CLIENT_EINVAL for an unknown name or a bad number.
 */
int mmsim_client_parse_gfp(const char *s, uint32_t *gfp);

/* "GFP_KERNEL|__GFP_ZERO" for bits (composite names first), "0" for 0;
 * snprintf-style return. */
int mmsim_client_format_gfp(uint32_t gfp, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_CLIENT_H */
