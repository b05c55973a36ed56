/*
 * mmsim-bench.c - a load generator for mmsimd, in redis-benchmark's
 * manner: N connections, a pipeline depth, a set of tests, a request
 * count or a duration; it prints requests per second and latency
 * percentiles for each test.
 *
 * DOC: how the load is driven
 *
 * Each test opens its own connections (-c), spread round-robin over
 * worker threads (--threads), and closes them at the end; connecting and
 * the setup of page pools are not timed. A worker is an event loop
 * (epoll) over its connections, as redis-benchmark is: each connection
 * writes -P requests in one write (the rest on EPOLLOUT, never waiting
 * on one connection's full socket), its answers are taken as soon as its
 * socket is readable, and when all P are answered it writes the next P:
 * redis-benchmark's pipeline, which also writes P requests and reads
 * their P replies. The latency of a request runs from its
 * mmsim_client_send_*() call to the moment its own response is taken,
 * which is when the bytes that complete it were read. redis-benchmark
 * times every reply of a batch to the first read event of that batch,
 * which is shorter for all but the first reply; --csv and the full
 * report also give p50 and p99 that way, to compare like with like.
 *
 * Tests:
 * - alloc-free: one AllocPages (order --order, no GFP flags, any node) or
 *   one FreePages per request. A connection frees the blocks its earlier
 *   answers gave it, and allocates when it holds none, so allocations and
 *   frees alternate in batches of P and pair up.
 * - write4k / read4k: each connection first allocates its own pool of
 *   --pool order-0 pages (one AllocBatch). Writes put a whole page: the
 *   connection's pattern from a seeded table, with the page frame and a
 *   per-connection write sequence number in its first 16 bytes, so a
 *   misplaced or stale page never compares equal (and only those 16 bytes
 *   change from one write to the next: no page is copied to build one). read4k
 * first writes every page of the pool, then reads random pages and compares
 * each answer with the last write of that page; write4k reads the whole pool
 * back after the timed part. Every difference counts as a mismatch.
 * - ping: an empty Ping.
 *
 * Any status other than OK is an error; errors, mismatches and lost
 * connections make the exit status 1. --seed fixes the pattern table and
 * every random choice (which page to write or read).
 *
 * Threads: the main thread parses, starts the workers, prints the
 * progress line and the results; each worker owns its connections, its
 * histogram and its counters outright, and publishes two counters for the
 * progress line through relaxed atomics. There are no mutable globals.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "mmsim/client.h"

#define PROG "mmsim-bench"

#define PAGE_BYTES  4096u
#define NR_PATTERNS 16u
/* Header of a written page: the pfn, then the write sequence number. */
#define PAGE_HDR_BYTES 16u

#define EXIT_FAILED  1 /* an error status, a mismatch, a lost connection */
#define EXIT_USAGE   2
#define EXIT_CONNECT 3

enum bench_test {
    TEST_ALLOC_FREE,
    TEST_WRITE4K,
    TEST_READ4K,
    TEST_PING,
    NR_TESTS,
};

static const struct {
    const char *name;  /* for -t */
    const char *label; /* in the output */
} test_names[NR_TESTS] = {
    [TEST_ALLOC_FREE] = {"alloc-free", "ALLOC_FREE"},
    [TEST_WRITE4K] = {"write4k", "WRITE4K"},
    [TEST_READ4K] = {"read4k", "READ4K"},
    [TEST_PING] = {"ping", "PING"},
};

/* What a request in flight was, to check its answer. */
enum req_kind {
    REQ_ALLOC,
    REQ_FREE,
    REQ_WRITE,
    REQ_READ,
    REQ_PING,
};

struct config {
    const char *addr;
    uint8_t *token; /* from --token-file; NULL: $MMSIM_TOKEN or none */
    size_t token_len;
    unsigned conns;
    unsigned pipeline;
    unsigned threads;
    unsigned order;      /* alloc-free block order */
    unsigned pool_pages; /* write4k/read4k pages per connection */
    uint64_t requests;   /* total per test, when seconds == 0 */
    double seconds;      /* > 0: run each test this long */
    uint64_t seed;
    int timeout_ms;
    bool csv;
    bool quiet;
    bool progress;
    enum bench_test tests[NR_TESTS];
    unsigned nr_tests;
};

struct inflight {
    uint64_t t_ns;      /* when send_*() was called */
    enum req_kind kind; /* what was sent */
    uint32_t slot;      /* pool slot, for reads and writes */
    uint64_t seq;       /* write sequence the page must hold, for reads */
};

struct conn {
    struct mmsim_client *c;
    unsigned idx;   /* 0 .. conns-1 */
    uint64_t quota; /* requests still to send; UINT64_MAX: until time */
    bool done;
    bool want_out; /* part of the batch is unsent: EPOLLOUT is on */
    uint64_t rng;

    /* The requests sent and not yet answered, oldest at @head; a ring of
     * @pipeline entries. */
    struct inflight *ring;
    unsigned head, len;
    uint64_t batch_first_ns; /* first answer of the batch taken; 0: none */

    /* alloc-free: blocks allocated whose free is not sent yet. */
    uint64_t *held;
    unsigned nr_held;

    /* write4k/read4k: the pool, and the last write sent to each page. */
    uint64_t *pool_pfn;
    uint64_t *pool_seq; /* 0: never written (reads as zeros) */
    uint64_t next_seq;
    const uint8_t *body; /* this connection's pattern, in the table */
    uint8_t *page;       /* the body, under the header of the next write */
};

struct run;

struct worker {
    pthread_t tid;
    struct run *run;
    struct conn *conns;
    unsigned nr_conns;
    struct bench_hist *hist;       /* send to own answer */
    struct bench_hist *hist_first; /* send to the batch's first answer */

    /* For the progress line: written by the worker, read by main. */
    _Atomic uint64_t done_pub;
    _Atomic uint64_t lat_sum_pub;
    _Atomic bool finished;

    uint64_t done;    /* requests answered */
    uint64_t lat_sum; /* ns, over the requests answered */
    uint64_t errors, mismatches;
    uint64_t start_ns, end_ns; /* the timed part */
    bool failed;               /* a connection was lost or not made */
    bool connect_failed;
    char first_error[256];
};

/* One test: shared read-only by the workers once they start. */
struct run {
    const struct config *cfg;
    enum bench_test test;
    const uint8_t *patterns; /* NR_PATTERNS pages */
    struct mmsim_client_opts opts;
    pthread_barrier_t ready; /* workers set up, and main */
    pthread_barrier_t timed; /* workers done with the timed part */
    _Atomic bool setup_failed;
    struct worker *workers;
    unsigned nr_workers;
};

/* ---- Small helpers */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: seeds and the pattern table. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* xorshift64*: the per-connection choices. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

__attribute__((format(printf, 2, 3))) static void
worker_error(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    if (w->first_error[0])
        return;
    va_start(ap, fmt);
    vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
    va_end(ap);
}

/* ---- Page contents */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Make @cn->page the page that write @seq of @pfn puts (its body is
 * there already). */
static void page_fill(struct conn *cn, uint64_t pfn, uint64_t seq)
{
    put_u64(cn->page, pfn);
    put_u64(cn->page + 8, seq);
}

/* Whether @data (@len bytes) is what write @seq of @pfn on @cn put; seq 0
 * is a page never written, all zeros. */
static bool page_matches(const struct conn *cn, uint64_t pfn, uint64_t seq,
                         const uint8_t *data, size_t len)
{
    uint8_t hdr[PAGE_HDR_BYTES];

    if (len != PAGE_BYTES)
        return false;
    if (seq == 0) {
        for (size_t i = 0; i < len; i++)
            if (data[i])
                return false;
        return true;
    }
    put_u64(hdr, pfn);
    put_u64(hdr + 8, seq);
    return !memcmp(data, hdr, PAGE_HDR_BYTES) &&
           !memcmp(data + PAGE_HDR_BYTES, cn->body + PAGE_HDR_BYTES,
                   PAGE_BYTES - PAGE_HDR_BYTES);
}

/* ---- One connection */

static void conn_free(struct conn *cn)
{
    mmsim_client_close(cn->c);
    free(cn->ring);
    free(cn->held);
    free(cn->pool_pfn);
    free(cn->pool_seq);
    free(cn->page);
    memset(cn, 0, sizeof(*cn));
}

/* Report a call that failed on @cn; marks the worker failed for a lost
 * connection. Return: -1 for a transport error (stop), 0 otherwise. */
static int conn_failed(struct worker *w, struct conn *cn, const char *what,
                       int rc)
{
    if (rc == MMSIM_CLIENT_ESTATUS) {
        w->errors++;
        worker_error(w, "%s: %s: %s", what,
                     mmsim_client_status_name(mmsim_client_status(cn->c)),
                     mmsim_client_message(cn->c));
        return 0;
    }
    w->failed = true;
    worker_error(w, "connection %u: %s: %s (%s)", cn->idx, what,
                 mmsim_client_strerror(rc), mmsim_client_message(cn->c));
    return -1;
}

/* The pool of write4k/read4k: one AllocBatch of order-0 pages. */
static int conn_alloc_pool(struct worker *w, struct conn *cn)
{
    unsigned n = w->run->cfg->pool_pages;
    struct mmsim_client_alloc_req *reqs = calloc(n, sizeof(*reqs));
    struct mmsim_client_result *res = calloc(n, sizeof(*res));
    int rc = -1;

    if (!reqs || !res) {
        worker_error(w, "out of memory");
        w->failed = true;
        goto out;
    }
    for (unsigned i = 0; i < n; i++)
        reqs[i] = (struct mmsim_client_alloc_req){
            .order = 0, .gfp = 0, .node = MMSIM_CLIENT_ANY_NODE};
    rc = mmsim_client_alloc_batch(cn->c, reqs, n, res);
    if (rc < 0) {
        conn_failed(w, cn, "AllocBatch of the page pool", rc);
        w->failed = true;
        rc = -1;
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        if (res[i].status != MMSIM__V1__STATUS__OK) {
            w->errors++;
            w->failed = true;
            worker_error(w, "AllocBatch of the page pool: %s: %s",
                         mmsim_client_status_name((int)res[i].status),
                         res[i].message);
            rc = -1;
            goto out;
        }
        cn->pool_pfn[i] = res[i].page.pfn;
    }
    rc = 0;
out:
    free(reqs);
    free(res);
    return rc;
}

/* Connect @cn (its idx and quota set) and make its pool. */
static int conn_open(struct worker *w, struct conn *cn)
{
    const struct run *run = w->run;
    const struct config *cfg = run->cfg;
    char err[512];
    uint64_t s;
    int rc;

    s = cfg->seed ^ ((uint64_t)cn->idx << 32) ^ (uint64_t)run->test;
    cn->rng = splitmix64(&s) | 1;
    cn->ring = calloc(cfg->pipeline, sizeof(*cn->ring));
    cn->held = calloc(cfg->pipeline, sizeof(*cn->held));
    cn->pool_pfn = calloc(cfg->pool_pages, sizeof(*cn->pool_pfn));
    cn->pool_seq = calloc(cfg->pool_pages, sizeof(*cn->pool_seq));
    cn->page = malloc(PAGE_BYTES);
    if (!cn->ring || !cn->held || !cn->pool_pfn || !cn->pool_seq || !cn->page) {
        worker_error(w, "out of memory");
        w->failed = true;
        return -1;
    }
    cn->body = run->patterns + (cn->idx % NR_PATTERNS) * PAGE_BYTES;
    memcpy(cn->page, cn->body, PAGE_BYTES);
    rc = mmsim_client_connect(cfg->addr, &run->opts, &cn->c, err, sizeof(err));
    if (rc) {
        worker_error(w, "%s: %s", cfg->addr, err);
        w->failed = true;
        w->connect_failed = rc != MMSIM_CLIENT_ESTATUS;
        return -1;
    }
    if (run->test == TEST_WRITE4K || run->test == TEST_READ4K)
        return conn_alloc_pool(w, cn);
    return 0;
}

static void ring_push(struct conn *cn, unsigned cap, struct inflight e)
{
    cn->ring[(cn->head + cn->len) % cap] = e;
    cn->len++;
}

static struct inflight ring_pop(struct conn *cn, unsigned cap)
{
    struct inflight e = cn->ring[cn->head];

    cn->head = (cn->head + 1) % cap;
    cn->len--;
    return e;
}

/* Queue one request of the test on @cn, stamped @t_ns. Return: 0, or -1
 * (connection lost). */
static int conn_send(struct worker *w, struct conn *cn, uint64_t t_ns)
{
    const struct run *run = w->run;
    const struct config *cfg = run->cfg;
    struct inflight e = {.t_ns = t_ns};
    int64_t id;

    switch (run->test) {
    case TEST_ALLOC_FREE:
        if (cn->nr_held) {
            e.kind = REQ_FREE;
            id = mmsim_client_send_free(cn->c, cn->held[--cn->nr_held],
                                        cfg->order);
        } else {
            e.kind = REQ_ALLOC;
            id = mmsim_client_send_alloc(cn->c, cfg->order, 0,
                                         MMSIM_CLIENT_ANY_NODE);
        }
        break;
    case TEST_WRITE4K:
        e.kind = REQ_WRITE;
        e.slot = (uint32_t)(rng_next(&cn->rng) % cfg->pool_pages);
        e.seq = ++cn->next_seq;
        page_fill(cn, cn->pool_pfn[e.slot], e.seq);
        cn->pool_seq[e.slot] = e.seq;
        id = mmsim_client_send_write(cn->c, cn->pool_pfn[e.slot], 0, cn->page,
                                     PAGE_BYTES);
        break;
    case TEST_READ4K:
        e.kind = REQ_READ;
        e.slot = (uint32_t)(rng_next(&cn->rng) % cfg->pool_pages);
        e.seq = cn->pool_seq[e.slot];
        id = mmsim_client_send_read(cn->c, cn->pool_pfn[e.slot], 0, PAGE_BYTES);
        break;
    case TEST_PING:
    default:
        e.kind = REQ_PING;
        id = mmsim_client_send_ping(cn->c, NULL, 0);
        break;
    }
    if (id < 0)
        return conn_failed(w, cn, "send", (int)id) < 0 ? -1 : 0;
    ring_push(cn, cfg->pipeline, e);
    return 0;
}

/* Check one answer against what was sent. */
static void conn_check(struct worker *w, struct conn *cn,
                       const struct inflight *e, const Mmsim__V1__Response *r)
{
    if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
        static const char *const what[] = {"AllocPages", "FreePages",
                                           "WritePage", "ReadPage", "Ping"};

        w->errors++;
        worker_error(w, "%s: %s: %s", what[e->kind],
                     mmsim_client_status_name((int)r->status),
                     r->message ? r->message : "");
        return;
    }
    switch (e->kind) {
    case REQ_ALLOC:
        if (r->result_case != MMSIM__V1__RESPONSE__RESULT_ALLOC ||
            !r->alloc->has_pfn) {
            w->errors++;
            worker_error(w, "AllocPages: an OK answer without a page");
            return;
        }
        cn->held[cn->nr_held++] = r->alloc->pfn;
        break;
    case REQ_READ:
        if (r->result_case != MMSIM__V1__RESPONSE__RESULT_READ ||
            !page_matches(cn, cn->pool_pfn[e->slot], e->seq, r->read->data.data,
                          r->read->data.len)) {
            w->mismatches++;
            worker_error(w,
                         "ReadPage of pfn %" PRIu64
                         " (connection %u) differs from write %" PRIu64,
                         cn->pool_pfn[e->slot], cn->idx, e->seq);
        }
        break;
    default:
        break;
    }
}

/* read4k: write every page of the pool once before the timed part. */
static int conn_prefill(struct worker *w, struct conn *cn)
{
    const struct config *cfg = w->run->cfg;
    unsigned sent = 0, got = 0;

    while (got < cfg->pool_pages) {
        while (sent < cfg->pool_pages && sent - got < cfg->pipeline) {
            uint64_t seq = ++cn->next_seq;
            int64_t id;

            page_fill(cn, cn->pool_pfn[sent], seq);
            cn->pool_seq[sent] = seq;
            id = mmsim_client_send_write(cn->c, cn->pool_pfn[sent], 0, cn->page,
                                         PAGE_BYTES);
            if (id < 0)
                return conn_failed(w, cn, "prefill write", (int)id), -1;
            sent++;
        }
        do {
            Mmsim__V1__Response *r = NULL;
            int rc = mmsim_client_recv(cn->c, &r);

            if (rc < 0)
                return conn_failed(w, cn, "prefill write", rc), -1;
            if (r->has_status && r->status != MMSIM__V1__STATUS__OK) {
                w->errors++;
                worker_error(w, "prefill WritePage: %s: %s",
                             mmsim_client_status_name((int)r->status),
                             r->message ? r->message : "");
            }
            mmsim_client_pb_free(r);
            got++;
        } while (got < sent);
    }
    return 0;
}

/* write4k: read the whole pool back after the timed part. */
static void conn_verify_pool(struct worker *w, struct conn *cn)
{
    const struct config *cfg = w->run->cfg;
    uint8_t *buf = malloc(PAGE_BYTES);

    if (!buf) {
        w->failed = true;
        worker_error(w, "out of memory");
        return;
    }
    for (unsigned i = 0; i < cfg->pool_pages; i++) {
        size_t got = 0;
        int rc =
            mmsim_client_read(cn->c, cn->pool_pfn[i], 0, PAGE_BYTES, buf, &got);

        if (rc < 0) {
            if (conn_failed(w, cn, "verify read", rc) < 0)
                break;
            continue;
        }
        if (!page_matches(cn, cn->pool_pfn[i], cn->pool_seq[i], buf, got)) {
            w->mismatches++;
            worker_error(w,
                         "pfn %" PRIu64 " (connection %u) differs from "
                         "its last write %" PRIu64 " after the run",
                         cn->pool_pfn[i], cn->idx, cn->pool_seq[i]);
        }
    }
    free(buf);
}

/*
 * Take the answers @cn has now, without waiting, and time each from its
 * send to this moment. Return: 0, or -1 (connection lost).
 */
static int conn_take(struct worker *w, struct conn *cn)
{
    while (cn->len) {
        Mmsim__V1__Response *r = NULL;
        struct inflight e;
        uint64_t lat, now;
        int rc = mmsim_client_try_recv(cn->c, &r);

        if (rc < 0)
            return conn_failed(w, cn, "recv", rc) < 0 ? -1 : 0;
        if (!r)
            return 0;
        e = ring_pop(cn, w->run->cfg->pipeline);
        now = now_ns();
        lat = now - e.t_ns;
        bench_hist_record(w->hist, lat);
        /* redis-benchmark's latency, for comparing like with like: a
         * batch's every answer timed to its first (one stamp per batch). */
        if (!cn->batch_first_ns)
            cn->batch_first_ns = now;
        bench_hist_record(w->hist_first, cn->batch_first_ns - e.t_ns);
        w->done++;
        w->lat_sum += lat;
        conn_check(w, cn, &e, r);
        mmsim_client_pb_free(r);
    }
    return 0;
}

/* ---- A worker */

static void worker_publish(struct worker *w)
{
    atomic_store_explicit(&w->done_pub, w->done, memory_order_relaxed);
    atomic_store_explicit(&w->lat_sum_pub, w->lat_sum, memory_order_relaxed);
}

/*
 * Write what the socket takes of @cn's batch, never waiting (a wait here
 * would hold up every other connection of the worker, as redis-benchmark's
 * event loop never does); watch for room while some is left.
 * Return: 0, or -1 (connection lost).
 */
static int conn_flush(struct worker *w, struct conn *cn, int ep)
{
    int rc = mmsim_client_try_flush(cn->c);
    bool want_out = rc == 1;

    if (rc < 0)
        return conn_failed(w, cn, "flush", rc) < 0 ? -1 : 0;
    if (want_out != cn->want_out) {
        struct epoll_event ev = {
            .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
            .data.ptr = cn,
        };

        if (epoll_ctl(ep, EPOLL_CTL_MOD, mmsim_client_fd(cn->c), &ev) < 0) {
            w->failed = true;
            worker_error(w, "epoll_ctl: %s", strerror(errno));
            return -1;
        }
        cn->want_out = want_out;
    }
    return 0;
}

/*
 * Send @cn's next batch: -P requests (fewer at the end of its quota), one
 * stamp and one flush for all, as redis-benchmark writes its pipeline.
 * At the end (quota used up, or the duration over) mark it done and take
 * it out of the worker's epoll set. Return: 0, or -1 (connection lost).
 */
static int conn_next_batch(struct worker *w, struct conn *cn, int ep,
                           uint64_t deadline, unsigned *active)
{
    const struct config *cfg = w->run->cfg;
    unsigned n = cfg->pipeline;
    uint64_t t;

    if (deadline && now_ns() >= deadline)
        n = 0;
    else if (cn->quota < n)
        n = (unsigned)cn->quota;
    if (!n) {
        cn->done = true;
        (*active)--;
        epoll_ctl(ep, EPOLL_CTL_DEL, mmsim_client_fd(cn->c), NULL);
        return 0;
    }
    t = now_ns();
    cn->batch_first_ns = 0;
    for (unsigned k = 0; k < n; k++)
        if (conn_send(w, cn, t))
            return -1;
    if (cn->quota != UINT64_MAX)
        cn->quota -= n;
    return conn_flush(w, cn, ep);
}

/*
 * The timed part, an event loop as redis-benchmark's: every connection
 * sends its first batch; then whichever connection the server answered
 * has its answers taken the moment they are readable, and once a batch
 * is all answered, the next one goes out. A request's latency thus runs
 * from its send to the arrival of its answer, with no time spent waiting
 * for the worker to come round to its connection.
 */
static void worker_loop(struct worker *w)
{
    const struct config *cfg = w->run->cfg;
    struct epoll_event evs[64];
    uint64_t deadline = 0;
    unsigned active = w->nr_conns;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0) {
        w->failed = true;
        worker_error(w, "epoll_create1: %s", strerror(errno));
        return;
    }
    if (cfg->seconds > 0)
        deadline = w->start_ns + (uint64_t)(cfg->seconds * 1e9);
    for (unsigned i = 0; i < w->nr_conns; i++) {
        struct conn *cn = &w->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cn};

        if (epoll_ctl(ep, EPOLL_CTL_ADD, mmsim_client_fd(cn->c), &ev) < 0) {
            w->failed = true;
            worker_error(w, "epoll_ctl: %s", strerror(errno));
            goto out;
        }
        if (conn_next_batch(w, cn, ep, deadline, &active))
            goto out;
    }
    while (active) {
        int n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w->failed = true;
            worker_error(w, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < n; k++) {
            struct conn *cn = evs[k].data.ptr;

            if (cn->done)
                continue;
            if (cn->want_out && conn_flush(w, cn, ep))
                goto out;
            if (conn_take(w, cn))
                goto out;
            if (!cn->len && conn_next_batch(w, cn, ep, deadline, &active))
                goto out;
        }
        worker_publish(w);
    }
out:
    close(ep);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    bool ok = true;

    for (unsigned i = 0; i < w->nr_conns && ok; i++)
        ok = conn_open(w, &w->conns[i]) == 0;
    if (ok && run->test == TEST_READ4K)
        for (unsigned i = 0; i < w->nr_conns && ok; i++)
            ok = conn_prefill(w, &w->conns[i]) == 0;
    if (!ok) {
        w->failed = true;
        atomic_store(&run->setup_failed, true);
    }
    /* No worker starts unless every one is set up. */
    pthread_barrier_wait(&run->ready);
    ok = !atomic_load(&run->setup_failed);

    w->start_ns = now_ns();
    if (ok)
        worker_loop(w);
    w->end_ns = now_ns();
    worker_publish(w);
    atomic_store_explicit(&w->finished, true, memory_order_release);
    /* Verify only once every worker stopped timing. */
    pthread_barrier_wait(&run->timed);

    if (ok && !w->failed && run->test == TEST_WRITE4K)
        for (unsigned i = 0; i < w->nr_conns; i++)
            conn_verify_pool(w, &w->conns[i]);
    for (unsigned i = 0; i < w->nr_conns; i++)
        conn_free(&w->conns[i]);
    return NULL;
}

/* ---- Results */

struct result {
    const char *label;
    uint64_t requests, errors, mismatches;
    double seconds, rps;
    double avg_ms, min_ms, p50_ms, p95_ms, p99_ms, p999_ms, max_ms;
    double p50_first_ms, p99_first_ms; /* redis-benchmark's definition */
    bool failed;
};

static double ns_to_ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void result_print(const struct config *cfg, const struct result *r)
{
    if (cfg->csv) {
        printf("\"%s\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\","
               "\"%.3f\",\"%.3f\",\"%" PRIu64 "\",\"%" PRIu64 "\",\"%" PRIu64
               "\",\"%.3f\",\"%.3f\"\n",
               r->label, r->rps, r->avg_ms, r->min_ms, r->p50_ms, r->p95_ms,
               r->p99_ms, r->max_ms, r->p999_ms, r->requests, r->errors,
               r->mismatches, r->p50_first_ms, r->p99_first_ms);
    } else if (cfg->quiet) {
        printf("%s: %.2f requests per second, p50=%.3f msec p99=%.3f msec "
               "p99.9=%.3f msec max=%.3f msec\n",
               r->label, r->rps, r->p50_ms, r->p99_ms, r->p999_ms, r->max_ms);
    } else {
        printf("====== %s ======\n", r->label);
        printf("  %" PRIu64 " requests completed in %.2f seconds\n",
               r->requests, r->seconds);
        printf("  %u parallel clients on %u threads, pipeline %u\n", cfg->conns,
               cfg->threads, cfg->pipeline);
        printf("  seed %" PRIu64 "\n", cfg->seed);
        printf("  errors %" PRIu64 ", mismatches %" PRIu64 "%s\n", r->errors,
               r->mismatches, r->failed ? ", connections lost" : "");
        printf("\nSummary:\n");
        printf("  throughput summary: %.2f requests per second\n", r->rps);
        printf("  latency summary (msec):\n");
        printf("  %9s %9s %9s %9s %9s %9s %9s\n", "avg", "min", "p50", "p95",
               "p99", "p99.9", "max");
        printf("  %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", r->avg_ms,
               r->min_ms, r->p50_ms, r->p95_ms, r->p99_ms, r->p999_ms,
               r->max_ms);
        printf("  to the batch's first answer, as redis-benchmark times: "
               "p50 %.3f, p99 %.3f\n\n",
               r->p50_first_ms, r->p99_first_ms);
    }
    fflush(stdout);
}

/* ---- Running one test */

/* Sleep until the workers finish, printing a progress line every second
 * on runs of over 2 s (from the first second when -d says it will be). */
static void run_watch(struct run *run, uint64_t start_ns)
{
    const struct config *cfg = run->cfg;
    const char *label = test_names[run->test].label;
    uint64_t last_done = 0, last_lat = 0, last_ns = start_ns;
    uint64_t next_tick = start_ns + 1000000000u;
    bool shown = false;

    for (;;) {
        struct timespec ts = {0, 20000000L}; /* 20 ms */
        uint64_t now, done = 0, lat = 0;
        bool all = true;

        for (unsigned i = 0; i < run->nr_workers && all; i++)
            all = atomic_load_explicit(&run->workers[i].finished,
                                       memory_order_acquire);
        if (all)
            break;
        nanosleep(&ts, NULL);
        now = now_ns();
        if (!cfg->progress || now < next_tick)
            continue;
        next_tick += 1000000000u;
        for (unsigned i = 0; i < run->nr_workers; i++) {
            done += atomic_load_explicit(&run->workers[i].done_pub,
                                         memory_order_relaxed);
            lat += atomic_load_explicit(&run->workers[i].lat_sum_pub,
                                        memory_order_relaxed);
        }
        if (now - start_ns >= 2000000000u || cfg->seconds > 2.0) {
            double secs = (double)(now - last_ns) / 1e9;

            fprintf(stderr,
                    "\r%s: rps=%.1f (overall: %.1f) avg_msec=%.3f "
                    "(overall: %.3f)   ",
                    label, (double)(done - last_done) / secs,
                    (double)done / ((double)(now - start_ns) / 1e9),
                    done > last_done ? (double)(lat - last_lat) / 1e6 /
                                           (double)(done - last_done)
                                     : 0.0,
                    done ? (double)lat / 1e6 / (double)done : 0.0);
            shown = true;
        }
        last_done = done;
        last_lat = lat;
        last_ns = now;
    }
    if (shown)
        fprintf(stderr, "\r%78s\r", "");
}

/* Run @test; fill @res. Return: 0, EXIT_FAILED or EXIT_CONNECT. */
static int run_test(const struct config *cfg, const uint8_t *patterns,
                    enum bench_test test, struct result *res)
{
    struct run run = {.cfg = cfg, .test = test, .patterns = patterns};
    struct bench_hist *total = NULL, *total_first = NULL;
    uint64_t start = UINT64_MAX, end = 0;
    unsigned started = 0;
    int status = 0;

    memset(res, 0, sizeof(*res));
    res->label = test_names[test].label;
    mmsim_client_opts_init(&run.opts);
    run.opts.token = cfg->token;
    run.opts.token_len = cfg->token_len;
    run.opts.client_name = PROG;
    run.opts.timeout_ms = cfg->timeout_ms;
    run.opts.connect_timeout_ms = cfg->timeout_ms;
    run.nr_workers = cfg->threads;
    run.workers = calloc(run.nr_workers, sizeof(*run.workers));
    total = malloc(sizeof(*total));
    total_first = malloc(sizeof(*total_first));
    if (!run.workers || !total || !total_first)
        goto oom;
    bench_hist_reset(total);
    bench_hist_reset(total_first);
    for (unsigned t = 0; t < run.nr_workers; t++) {
        struct worker *w = &run.workers[t];

        w->run = &run;
        w->nr_conns =
            cfg->conns / cfg->threads + (t < cfg->conns % cfg->threads);
        /* threads <= conns, so every worker has a connection. */
        w->conns = calloc(w->nr_conns ? w->nr_conns : 1, sizeof(*w->conns));
        w->hist = malloc(sizeof(*w->hist));
        w->hist_first = malloc(sizeof(*w->hist_first));
        if (!w->conns || !w->hist || !w->hist_first)
            goto oom;
        bench_hist_reset(w->hist);
        bench_hist_reset(w->hist_first);
        /* Connection i goes to thread i % threads; requests are shared
         * out evenly, the remainder to the first connections. */
        for (unsigned k = 0; k < w->nr_conns; k++) {
            unsigned idx = t + k * cfg->threads;

            w->conns[k].idx = idx;
            w->conns[k].quota = cfg->seconds > 0
                                    ? UINT64_MAX
                                    : cfg->requests / cfg->conns +
                                          (idx < cfg->requests % cfg->conns);
        }
    }
    if (pthread_barrier_init(&run.ready, NULL, run.nr_workers + 1) ||
        pthread_barrier_init(&run.timed, NULL, run.nr_workers))
        goto oom;
    for (; started < run.nr_workers; started++)
        if (pthread_create(&run.workers[started].tid, NULL, worker_main,
                           &run.workers[started]))
            break;
    if (started < run.nr_workers) {
        /* Cannot happen short of resource exhaustion; the barrier would
         * never open. */
        fprintf(stderr, PROG ": cannot start worker threads\n");
        exit(EXIT_FAILED);
    }
    pthread_barrier_wait(&run.ready);
    run_watch(&run, now_ns());
    for (unsigned t = 0; t < run.nr_workers; t++)
        pthread_join(run.workers[t].tid, NULL);
    pthread_barrier_destroy(&run.ready);
    pthread_barrier_destroy(&run.timed);

    for (unsigned t = 0; t < run.nr_workers; t++) {
        struct worker *w = &run.workers[t];

        bench_hist_merge(total, w->hist);
        bench_hist_merge(total_first, w->hist_first);
        res->requests += w->done;
        res->errors += w->errors;
        res->mismatches += w->mismatches;
        if (w->start_ns < start)
            start = w->start_ns;
        if (w->end_ns > end)
            end = w->end_ns;
        if (w->failed)
            res->failed = true;
        if (w->connect_failed)
            status = EXIT_CONNECT;
        if (w->first_error[0])
            fprintf(stderr, PROG ": %s: %s\n", res->label, w->first_error);
    }
    res->seconds = end > start ? (double)(end - start) / 1e9 : 0.0;
    res->rps = res->seconds > 0 ? (double)res->requests / res->seconds : 0.0;
    res->avg_ms = bench_hist_mean(total) / 1e6;
    res->min_ms = total->total ? ns_to_ms(total->min) : 0.0;
    res->p50_ms = ns_to_ms(bench_hist_percentile(total, 50.0));
    res->p95_ms = ns_to_ms(bench_hist_percentile(total, 95.0));
    res->p99_ms = ns_to_ms(bench_hist_percentile(total, 99.0));
    res->p999_ms = ns_to_ms(bench_hist_percentile(total, 99.9));
    res->max_ms = ns_to_ms(total->max);
    res->p50_first_ms = ns_to_ms(bench_hist_percentile(total_first, 50.0));
    res->p99_first_ms = ns_to_ms(bench_hist_percentile(total_first, 99.0));
    if (!status && (res->failed || res->errors || res->mismatches))
        status = EXIT_FAILED;

    for (unsigned t = 0; t < run.nr_workers; t++) {
        free(run.workers[t].conns);
        free(run.workers[t].hist);
        free(run.workers[t].hist_first);
    }
    free(run.workers);
    free(total);
    free(total_first);
    return status;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    exit(EXIT_FAILED);
}

/* ---- Options */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [OPTIONS]\n"
            "Load generator for mmsimd, in the manner of redis-benchmark.\n"
            "\n"
            " -a HOST:PORT       server TCP address (default $MMSIM_ADDRESS, "
            "else\n"
            "                    " MMSIM_CLIENT_DEFAULT_TCP ")\n"
            " -s SOCKET          server Unix socket (overrides -a)\n"
            " -c N               parallel connections (default 50)\n"
            " -P N               pipeline depth: requests in flight per "
            "connection\n"
            "                    (default 1)\n"
            " -n N               total requests per test (default 100000)\n"
            " -d SECONDS         run each test this long instead of -n\n"
            " -t LIST            tests, comma-separated, run in this order:\n"
            "                    alloc-free, write4k, read4k, ping (default\n"
            "                    alloc-free,write4k)\n"
            "     --threads N    worker threads; connections are spread over "
            "them\n"
            "                    (default: online CPUs, at most -c)\n"
            "     --seed N       seed of the page patterns and random choices\n"
            "                    (default 1; always printed)\n"
            "     --order N      block order of alloc-free (default 0)\n"
            "     --pool N       pages per connection for write4k/read4k\n"
            "                    (default 64, at most 1024)\n"
            "     --timeout SECS give up on a silent server after this long\n"
            "                    (default: never, as redis-benchmark)\n"
            "     --token-file FILE  send the token in FILE (trailing CR/LF\n"
            "                    removed); default $MMSIM_TOKEN\n"
            "     --csv          CSV output (redis-benchmark's columns, then\n"
            "                    p99.9, requests, errors, mismatches, and\n"
            "                    p50 and p99 timed to each batch's first\n"
            "                    answer, as redis-benchmark times)\n"
            " -q                 quiet: one line per test\n"
            "     --no-progress  no progress line (it is shown on a terminal\n"
            "                    for runs over 2 s, never with --csv)\n"
            " -h, --help         this help\n"
            "     --version      print the version\n"
            "\n"
            "Exit status: 0 all requests OK; 1 an error status, a data "
            "mismatch or a\n"
            "lost connection; 2 usage; 3 cannot connect.\n");
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (parse_u64(s, min, max, &v))
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_tests(const char *s, struct config *cfg)
{
    cfg->nr_tests = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        unsigned t;

        for (t = 0; t < NR_TESTS; t++)
            if (strlen(test_names[t].name) == n &&
                !strncmp(test_names[t].name, s, n))
                break;
        if (t == NR_TESTS || cfg->nr_tests == NR_TESTS)
            return -1;
        cfg->tests[cfg->nr_tests++] = (enum bench_test)t;
        s += n;
        if (*s == ',')
            s++;
    }
    return cfg->nr_tests ? 0 : -1;
}

static int read_token_file(const char *path, struct config *cfg)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t len;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(4097);
    if (!buf) {
        fclose(f);
        return -1;
    }
    len = fread(buf, 1, 4097, f);
    fclose(f);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len == 0 || len > 4096) {
        fprintf(stderr, PROG ": %s: a token is 1 to 4096 bytes\n", path);
        free(buf);
        return -1;
    }
    free(cfg->token);
    cfg->token = buf;
    cfg->token_len = len;
    return 0;
}

enum {
    OPT_THREADS = 256,
    OPT_SEED,
    OPT_ORDER,
    OPT_POOL,
    OPT_TIMEOUT,
    OPT_TOKEN_FILE,
    OPT_CSV,
    OPT_NO_PROGRESS,
    OPT_VERSION,
};

/* Return: -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct config *cfg)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, OPT_THREADS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"order", required_argument, NULL, OPT_ORDER},
        {"pool", required_argument, NULL, OPT_POOL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"csv", no_argument, NULL, OPT_CSV},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *env = getenv("MMSIM_ADDRESS");
    const char *tcp = NULL, *unix_path = NULL;
    bool threads_set = false;
    long cpus;
    int opt;

    cfg->conns = 50;
    cfg->pipeline = 1;
    cfg->requests = 100000;
    cfg->seed = 1;
    cfg->pool_pages = 64;
    cfg->timeout_ms = 0; /* none: saves the library two clock reads a call */
    cfg->progress = isatty(STDERR_FILENO);
    parse_tests("alloc-free,write4k", cfg);

    while ((opt = getopt_long(argc, argv, "a:s:c:P:n:d:t:qh", longopts,
                              NULL)) != -1) {
        char *end;
        uint64_t v;

        switch (opt) {
        case 'a':
            tcp = optarg;
            break;
        case 's':
            unix_path = optarg;
            break;
        case 'c':
            if (parse_uint(optarg, 1, 100000, &cfg->conns))
                goto bad;
            break;
        case 'P':
            if (parse_uint(optarg, 1, 1000000, &cfg->pipeline))
                goto bad;
            break;
        case 'n':
            if (parse_u64(optarg, 1, UINT64_MAX / 2, &cfg->requests))
                goto bad;
            cfg->seconds = 0;
            break;
        case 'd':
            errno = 0;
            cfg->seconds = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(cfg->seconds > 0) ||
                cfg->seconds > 1e6)
                goto bad;
            break;
        case 't':
            if (parse_tests(optarg, cfg))
                goto bad;
            break;
        case 'q':
            cfg->quiet = true;
            break;
        case OPT_THREADS:
            if (parse_uint(optarg, 1, 1024, &cfg->threads))
                goto bad;
            threads_set = true;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, 0, UINT64_MAX, &v))
                goto bad;
            cfg->seed = v;
            break;
        case OPT_ORDER:
            if (parse_uint(optarg, 0, 63, &cfg->order))
                goto bad;
            break;
        case OPT_POOL:
            if (parse_uint(optarg, 1, 1024, &cfg->pool_pages))
                goto bad;
            break;
        case OPT_TIMEOUT:
            errno = 0;
            {
                double s = strtod(optarg, &end);

                if (errno || *end || end == optarg || !(s > 0) || s > 86400)
                    goto bad;
                cfg->timeout_ms = (int)(s * 1000);
                if (cfg->timeout_ms < 1)
                    cfg->timeout_ms = 1;
            }
            break;
        case OPT_TOKEN_FILE:
            if (read_token_file(optarg, cfg))
                return EXIT_USAGE;
            break;
        case OPT_CSV:
            cfg->csv = true;
            break;
        case OPT_NO_PROGRESS:
            cfg->progress = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf(PROG " %s\n", MMSIM_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
        continue;
    bad:
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == opt)
                fprintf(stderr, PROG ": bad value '%s' for --%s\n", optarg,
                        o->name);
        if (opt < OPT_THREADS)
            fprintf(stderr, PROG ": bad value '%s' for -%c\n", optarg, opt);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    cfg->addr = unix_path     ? unix_path
                : tcp         ? tcp
                : env && *env ? env
                              : MMSIM_CLIENT_DEFAULT_TCP;
    if (!threads_set) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (cfg->threads > cfg->conns)
        cfg->threads = cfg->conns;
    if (cfg->csv)
        cfg->progress = false;
    return -1;
}

int main(int argc, char **argv)
{
    struct config cfg = {0};
    struct result res;
    uint8_t *patterns;
    uint64_t s, requests = 0, errors = 0, mismatches = 0;
    int rc, status = 0;

    rc = parse_args(argc, argv, &cfg);
    if (rc >= 0) {
        free(cfg.token);
        return rc;
    }
    patterns = malloc((size_t)NR_PATTERNS * PAGE_BYTES);
    if (!patterns) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_FAILED;
    }
    s = cfg.seed;
    for (size_t i = 0; i < NR_PATTERNS * PAGE_BYTES / 8; i++)
        put_u64(patterns + i * 8, splitmix64(&s));

    if (cfg.csv || cfg.quiet)
        fprintf(stderr,
                PROG ": %s, %u connections on %u threads, pipeline %u, "
                     "seed %" PRIu64 "\n",
                cfg.addr, cfg.conns, cfg.threads, cfg.pipeline, cfg.seed);
    if (cfg.csv)
        printf("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\","
               "\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\","
               "\"max_latency_ms\",\"p99.9_latency_ms\",\"requests\","
               "\"errors\",\"mismatches\",\"p50_first_reply_ms\","
               "\"p99_first_reply_ms\"\n");
    for (unsigned i = 0; i < cfg.nr_tests; i++) {
        rc = run_test(&cfg, patterns, cfg.tests[i], &res);
        result_print(&cfg, &res);
        requests += res.requests;
        errors += res.errors;
        mismatches += res.mismatches;
        if (rc && !status)
            status = rc;
        if (rc == EXIT_CONNECT)
            break;
    }
    if (!cfg.csv)
        printf("%s%" PRIu64 " requests in %u tests, %" PRIu64
               " errors, %" PRIu64 " mismatches\n",
               cfg.quiet ? "" : "Totals: ", requests, cfg.nr_tests, errors,
               mismatches);
    free(patterns);
    free(cfg.token);
    return status;
}
