// SPDX-License-Identifier: MIT
/*
 * rpc.c - the protocol engine: bytes in, framed responses out.
 *
 * One feed call runs this pipeline for every whole frame in the input:
 *
 *   frame decoder   at most max_frame_bytes buffered (proto/frame.c)
 *   unpack          the hot requests (AllocPages, FreePages, ReadPage,
 *                   WritePage, Ping) by hand, allocating nothing
 *                   (proto/wire.c); anything else, or anything doubtful,
 *                   by protobuf-c through a counting allocator: a request
 *                   that needs more than decode_budget_bytes of host
 *                   memory to decode is MALFORMED, whatever its size on
 *                   the wire (a frame of empty repeated messages expands
 *                   twenty-fold)
 *   gate            Hello first; then shutdown, unknown operations, the
 *                   in-flight limit (gate(), in this order)
 *   operation       ops.c, against the machine and the session's table
 *   encode          one Response packed straight into @out behind its
 *                   length prefix (the common shapes by hand, the rest
 *                   by protobuf-c); scratch memory freed
 *
 * Errors from the peer never assert: each becomes a status (the table is
 * rpc_status_of()) and, for protocol errors, a close. Errors of the host
 * (out of memory) become INTERNAL and a close, since a session that lost
 * track of a page could not free it at teardown.
 *
 * Threads: see internal.h. The only shared state is struct mmsim_rpc,
 * read-only but for three atomics, and the machine, which locks itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mmsim/wire.h"

#ifndef MMSIM_RPC_SERVER_VERSION
#define MMSIM_RPC_SERVER_VERSION "mmsimd"
#endif

/* ---- logging ------------------------------------------------------------- */

static void vlog(const struct mmsim_rpc *rpc, int level, const char *prefix,
                 const char *fmt, va_list ap) RPC_PRINTF(4, 0);

static void vlog(const struct mmsim_rpc *rpc, int level, const char *prefix,
                 const char *fmt, va_list ap)
{
    char line[512];
    int n;

    if (!rpc->log)
        return;
    n = snprintf(line, sizeof(line), "%s", prefix);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    rpc->log(rpc->log_ctx, level, line);
}

void rpc_log(const struct mmsim_rpc *rpc, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(rpc, level, "", fmt, ap);
    va_end(ap);
}

void session_log(const struct mmsim_session *s, int level, const char *fmt, ...)
{
    char prefix[128];
    va_list ap;

    if (!s->rpc->log)
        return;
    snprintf(prefix, sizeof(prefix),
             "session %llu (%s): ", (unsigned long long)s->id, s->peer);
    va_start(ap, fmt);
    vlog(s->rpc, level, prefix, fmt, ap);
    va_end(ap);
}

/*
 * Peer-chosen text (the peer address is ours, the client name is not)
 * goes into log lines: keep printable ASCII only, so nobody writes
 * escape sequences or fake lines into the operator's terminal.
 */
static void printable_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;

    for (; src && *src && i + 1 < cap; src++) {
        char c = *src;

        if (c < 0x20 || c >= 0x7f)
            c = '?';
        dst[i++] = c;
    }
    dst[i] = '\0';
}

/* ---- scratch memory for one response ------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define RPC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RPC_ASAN 1
#endif
#endif

#ifdef RPC_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE        16
#define arena_poison(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ARENA_REDZONE        0
#define arena_poison(p, n)   ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

static void arena_init(struct rpc_arena *a)
{
    a->head = NULL;
    a->used = 0;
    arena_poison(a->small, sizeof(a->small));
}

void *rpc_alloc(struct rpc_req *rq, size_t size)
{
    struct rpc_arena *a = &rq->arena;
    struct arena_block *b;

    if (size <= sizeof(a->small)) {
        size_t step =
            (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);

        if (step + ARENA_REDZONE <= sizeof(a->small) - a->used) {
            void *p = a->small + a->used;

            a->used += step + ARENA_REDZONE;
            arena_unpoison(p, size);
            memset(p, 0, size);
            return p;
        }
    }
    if (size > SIZE_MAX - sizeof(*b)) {
        rq->hostmem = true;
        return NULL;
    }
    b = calloc(1, sizeof(*b) + size);
    if (!b) {
        rq->hostmem = true;
        return NULL;
    }
    b->next = a->head;
    a->head = b;
    return b->data;
}

/* Before @a goes out of scope: the stack it lives on is not poisoned. */
static void arena_free(struct rpc_arena *a)
{
    struct arena_block *b = a->head;

    while (b) {
        struct arena_block *next = b->next;

        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
    arena_unpoison(a->small, sizeof(a->small));
}

char *rpc_strdupf(struct rpc_req *rq, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    p = rpc_alloc(rq, (size_t)n + 1);
    if (!p)
        return (char *)"";
    memcpy(p, tmp, (size_t)n);
    return p;
}

void rpc_fail(struct rpc_req *rq, rpc_status st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rq->msg, sizeof(rq->msg), fmt, ap);
    va_end(ap);
    rq->resp.status = st;
    rq->resp.message = rq->msg;
    /* A failed request carries no result. */
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT__NOT_SET;
}

/* ---- the status table ---------------------------------------------------- */

/*
 * Every MMSIM_E* code the core can return, and what a client is told.
 * Codes that only a server bug can produce (a bad cpu, a corrupt
 * machine, boot-time codes) are INTERNAL; the message names the code.
 */
rpc_status rpc_status_of(int err)
{
    switch (err) {
    case 0:
        return MMSIM__V1__STATUS__OK;
    case MMSIM_ENOMEM:
        return MMSIM__V1__STATUS__NO_MEMORY;
    case MMSIM_EINVAL:
        return MMSIM__V1__STATUS__INVALID_ARGUMENT;
    case MMSIM_ERANGE:
    case MMSIM_EOVERFLOW:
        return MMSIM__V1__STATUS__OUT_OF_RANGE;
    case MMSIM_ENODEV:
        return MMSIM__V1__STATUS__NO_SUCH_NODE;
    case MMSIM_EFAULT:
        return MMSIM__V1__STATUS__BAD_ADDRESS;
    case MMSIM_EALREADY:
        return MMSIM__V1__STATUS__ALREADY_FREE;
    case MMSIM_EORDER:
        return MMSIM__V1__STATUS__WRONG_ORDER;
    case MMSIM_ENOTHEAD:
        return MMSIM__V1__STATUS__NOT_HEAD;
    case MMSIM_ERESERVED:
        return MMSIM__V1__STATUS__RESERVED;
    case MMSIM_EMAPPED:
        return MMSIM__V1__STATUS__MAPPED;
    case MMSIM_EIO:
        return MMSIM__V1__STATUS__IO_ERROR;
    case MMSIM_EKILLED:
        return MMSIM__V1__STATUS__KILLED;
    case MMSIM_ENOCONTENT: /* page contents on a metadata-only machine */
    case MMSIM_ENOENT:     /* a view or zone this machine does not have */
    case MMSIM_EPERM:      /* the machine has not finished booting */
        return MMSIM__V1__STATUS__NOT_SUPPORTED;
    case MMSIM_EBUSY:
    case MMSIM_EHOSTMEM:
    case MMSIM_ECORRUPT:
    case MMSIM_EPANIC:
    case MMSIM_ECONFIG:
    case MMSIM_ECPU:
    default:
        return MMSIM__V1__STATUS__INTERNAL;
    }
}

/* ---- the engine ---------------------------------------------------------- */

void mmsim_rpc_limits_default(struct mmsim_rpc_limits *l)
{
    memset(l, 0, sizeof(*l));
    l->max_frame_bytes = MMSIM_FRAME_MAX_DEFAULT;
    l->max_inflight = 128;
    l->max_pages = 0;
    l->max_batch = 1024;
    l->idle_timeout_ms = 300000;
    l->max_mapped_pages = 0;
    l->max_mappings = RPC_DEFAULT_MAX_MAPPINGS;
    l->decode_budget_bytes = (size_t)4 * l->max_frame_bytes + (64u << 10);
}

int mmsim_rpc_create(const struct mmsim_rpc_config *cfg, struct mmsim_rpc **out)
{
    const char *version;
    struct mmsim_rpc *rpc;
    size_t vlen;

    if (!cfg || !out || !cfg->machine)
        return MMSIM_EINVAL;
    /* A Hello frame needs a few bytes; a batch needs one entry. */
    if (cfg->limits.max_frame_bytes < 64 || cfg->limits.max_inflight == 0 ||
        cfg->limits.max_batch == 0)
        return MMSIM_EINVAL;
    if (cfg->token_len && !cfg->token)
        return MMSIM_EINVAL;
    if (cfg->recorder && (!cfg->recorder->open || !cfg->recorder->write ||
                          !cfg->recorder->close))
        return MMSIM_EINVAL;
    rpc = calloc(1, sizeof(*rpc));
    if (!rpc)
        return MMSIM_EHOSTMEM;
    rpc->machine = cfg->machine;
    rpc->limits = cfg->limits;
    if (!rpc->limits.decode_budget_bytes)
        rpc->limits.decode_budget_bytes =
            (size_t)4 * rpc->limits.max_frame_bytes + (64u << 10);
    if (!rpc->limits.max_mappings)
        rpc->limits.max_mappings = RPC_DEFAULT_MAX_MAPPINGS;
    rpc->session_killed = cfg->session_killed;
    rpc->session_killed_ctx = cfg->session_killed_ctx;
    rpc->log = cfg->log;
    rpc->log_ctx = cfg->log_ctx;
    if (cfg->recorder) {
        rpc->recorder = *cfg->recorder;
        rpc->recording = true;
    }
    if (cfg->token_len) {
        rpc->token = malloc(cfg->token_len);
        if (!rpc->token)
            goto out_free;
        memcpy(rpc->token, cfg->token, cfg->token_len);
        rpc->token_len = cfg->token_len;
    }
    version =
        cfg->server_version ? cfg->server_version : MMSIM_RPC_SERVER_VERSION;
    vlen = strlen(version);
    rpc->server_version = malloc(vlen + 1);
    if (!rpc->server_version)
        goto out_free;
    memcpy(rpc->server_version, version, vlen + 1);
    if (pthread_mutex_init(&rpc->sessions_lock, NULL))
        goto out_free;
    rpc->max_order = mmsim_machine_max_order(cfg->machine);
    rpc->nr_nodes = mmsim_machine_nr_nodes(cfg->machine);
    rpc->nr_cpus = mmsim_machine_nr_cpus(cfg->machine);
    rpc->contents = mmsim_machine_has_contents(cfg->machine);
    atomic_init(&rpc->next_session_id, 1);
    atomic_init(&rpc->live_sessions, 0);
    atomic_init(&rpc->shutting_down, false);
    *out = rpc;
    return 0;

out_free:
    free(rpc->server_version);
    free(rpc->token);
    free(rpc);
    return MMSIM_EHOSTMEM;
}

void mmsim_rpc_destroy(struct mmsim_rpc *rpc)
{
    uint_fast64_t live;

    if (!rpc)
        return;
    live = atomic_load(&rpc->live_sessions);
    /* A caller bug; the sessions would point at freed memory. Say so. */
    if (live)
        rpc_log(rpc, RPC_LOG_ERR,
                "rpc destroyed with %llu sessions still alive",
                (unsigned long long)live);
    pthread_mutex_destroy(&rpc->sessions_lock);
    free(rpc->token);
    free(rpc->server_version);
    free(rpc);
}

void mmsim_rpc_shutdown(struct mmsim_rpc *rpc)
{
    atomic_store_explicit(&rpc->shutting_down, true, memory_order_release);
}

/* ---- sessions ------------------------------------------------------------ */

int mmsim_session_create(struct mmsim_rpc *rpc, int cpu, const char *peer,
                         struct mmsim_session **out)
{
    struct mmsim_session *s;

    if (!rpc || !out)
        return MMSIM_EINVAL;
    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= rpc->nr_cpus))
        return MMSIM_EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return MMSIM_EHOSTMEM;
    s->rpc = rpc;
    s->id = (uint64_t)atomic_fetch_add(&rpc->next_session_id, 1);
    s->tag = (uint32_t)s->id;
    s->cpu = cpu;
    printable_copy(s->peer, sizeof(s->peer), peer ? peer : "?");
    mmsim_frame_decoder_init(&s->dec, rpc->limits.max_frame_bytes);
    owned_init(&s->owned);
    atomic_init(&s->killed, false);
    atomic_fetch_add(&rpc->live_sessions, 1);
    vm_register(s);
    session_log(s, RPC_LOG_DEBUG, "opened");
    if (rpc->recording)
        s->rec = rpc->recorder.open(rpc->recorder.ctx, s->id, s->peer);
    *out = s;
    return 0;
}

struct teardown {
    struct mmsim_session *s;
    uint64_t pages, blocks, failed;
};

static void teardown_one(void *ctx, uint64_t pfn, unsigned order)
{
    struct teardown *td = ctx;
    struct mmsim_session *s = td->s;
    int rc = mmsim_free_pages(s->rpc->machine, s->cpu, pfn, order);

    if (rc) {
        /* Only a core bug gets here: we allocated it, nobody else freed. */
        td->failed++;
        session_log(s, RPC_LOG_ERR,
                    "teardown: freeing pfn %llu order %u failed: %s (%s)",
                    (unsigned long long)pfn, order, mmsim_err_name(rc),
                    mmsim_strerror(rc));
        return;
    }
    td->pages += UINT64_C(1) << order;
    td->blocks++;
}

void mmsim_session_destroy(struct mmsim_session *s)
{
    struct teardown td = {.s = s};
    char vm[192];

    if (!s)
        return;
    /* Out of the OOM killer's reach first: nobody may signal it now. */
    vm_unregister(s);
    /* Like a process exit: everything the session owned goes back. */
    vm_teardown(s, vm, sizeof(vm));
    owned_for_each(&s->owned, teardown_one, &td);
    session_log(s, RPC_LOG_INFO, "closed, freed %llu pages in %llu blocks%s%s",
                (unsigned long long)td.pages, (unsigned long long)td.blocks, vm,
                td.failed ? " (some frees failed, see above)" : "");
    owned_fini(&s->owned);
    mmsim_frame_decoder_fini(&s->dec);
    if (s->rec)
        s->rpc->recorder.close(s->rpc->recorder.ctx, s->rec);
    atomic_fetch_sub(&s->rpc->live_sessions, 1);
    free(s);
}

uint64_t mmsim_session_id(const struct mmsim_session *s)
{
    return s->id;
}

uint64_t mmsim_session_pages(const struct mmsim_session *s)
{
    return s->pages;
}

bool mmsim_session_authenticated(const struct mmsim_session *s)
{
    return s->authenticated;
}

bool mmsim_session_closed(const struct mmsim_session *s)
{
    return s->closed;
}

/* ---- Hello --------------------------------------------------------------- */

/*
 * Compare in time that depends on the configured token's length only,
 * never on where the first wrong byte is. (The length of the configured
 * token is not a secret worth protecting: tokens should be long and
 * random.)
 */
static bool token_ok(const struct mmsim_rpc *rpc, const uint8_t *tok,
                     size_t len)
{
    volatile uint8_t diff = len != rpc->token_len;

    for (size_t i = 0; i < rpc->token_len; i++)
        diff |= rpc->token[i] ^ (i < len ? tok[i] : 0);
    return diff == 0;
}

static Mmsim__V1__Limits *limits_msg(struct rpc_req *rq)
{
    Mmsim__V1__Limits *l = rpc_alloc(rq, sizeof(*l));
    const struct mmsim_rpc_limits *lim = &rq->rpc->limits;

    if (!l)
        return NULL;
    mmsim__v1__limits__init(l);
    l->has_max_frame_bytes = l->has_max_inflight = l->has_max_pages = 1;
    l->has_max_batch = l->has_idle_timeout_ms = 1;
    l->has_max_mapped_pages = l->has_max_mappings = 1;
    l->max_frame_bytes = lim->max_frame_bytes;
    l->max_inflight = lim->max_inflight;
    l->max_pages = lim->max_pages;
    l->max_batch = lim->max_batch;
    l->idle_timeout_ms = lim->idle_timeout_ms;
    l->max_mapped_pages = lim->max_mapped_pages;
    l->max_mappings = lim->max_mappings;
    return l;
}

static void op_hello(struct rpc_req *rq, const Mmsim__V1__Hello *h)
{
    struct mmsim_session *s = rq->s;
    struct mmsim_rpc *rpc = rq->rpc;
    Mmsim__V1__HelloReply *hr = rpc_alloc(rq, sizeof(*hr));
    uint32_t version = h->has_protocol_version ? h->protocol_version : 0;
    char client[sizeof(s->client)];

    if (!hr)
        return;
    mmsim__v1__hello_reply__init(hr);
    hr->has_protocol_version = 1;
    hr->protocol_version = MMSIM_PROTOCOL_VERSION;
    printable_copy(client, sizeof(client), h->client_name);
    /*
     * The version first: a client speaking another version may encode
     * everything else differently. The reply names our version (and
     * nothing more: the peer is not authenticated).
     */
    if (version != MMSIM_PROTOCOL_VERSION) {
        session_log(s, RPC_LOG_WARN,
                    "client \"%s\" asked for protocol version %u, this "
                    "server speaks %u; closing",
                    client, version, MMSIM_PROTOCOL_VERSION);
        rpc_fail(rq, MMSIM__V1__STATUS__BAD_VERSION,
                 "protocol version %u is not supported; this server speaks "
                 "version %u",
                 version, MMSIM_PROTOCOL_VERSION);
        rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_HELLO;
        rq->resp.hello = hr;
        rq->close = true;
        return;
    }
    if (rpc->token_len &&
        (!h->has_token || !token_ok(rpc, h->token.data, h->token.len))) {
        session_log(s, RPC_LOG_WARN,
                    "authentication failed (%s token), client \"%s\"; "
                    "closing",
                    h->has_token ? "wrong" : "no", client);
        rpc_fail(rq, MMSIM__V1__STATUS__UNAUTHENTICATED,
                 "authentication failed: %s token",
                 h->has_token ? "wrong" : "missing");
        rq->close = true;
        return;
    }
    s->authenticated = true;
    memcpy(s->client, client, sizeof(client));
    session_log(s, RPC_LOG_INFO, "hello from \"%s\", protocol %u", client,
                version);
    hr->server_version = rpc->server_version;
    hr->limits = limits_msg(rq);
    hr->machine = op_summary(rq);
    hr->has_session_id = 1;
    hr->session_id = s->id;
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_HELLO;
    rq->resp.hello = hr;
}

static void op_ping(struct rpc_req *rq, const Mmsim__V1__Ping *p)
{
    static uint8_t empty[1];
    Mmsim__V1__Pong *pong = rpc_alloc(rq, sizeof(*pong));

    if (!pong)
        return;
    mmsim__v1__pong__init(pong);
    if (p->has_payload) {
        /* Borrowed from the request, which outlives the packing. An
         * empty bytes field comes as data == NULL: never hand that on. */
        pong->has_payload = 1;
        pong->payload.len = p->payload.len;
        pong->payload.data = p->payload.len ? p->payload.data : empty;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_PONG;
    rq->resp.pong = pong;
}

/* ---- the gate and the dispatch ------------------------------------------- */

static const char *op_name(Mmsim__V1__Request__OpCase op)
{
    switch (op) {
    case MMSIM__V1__REQUEST__OP_HELLO:
        return "Hello";
    case MMSIM__V1__REQUEST__OP_PING:
        return "Ping";
    case MMSIM__V1__REQUEST__OP_ALLOC:
        return "AllocPages";
    case MMSIM__V1__REQUEST__OP_FREE:
        return "FreePages";
    case MMSIM__V1__REQUEST__OP_ALLOC_BATCH:
        return "AllocBatch";
    case MMSIM__V1__REQUEST__OP_FREE_BATCH:
        return "FreeBatch";
    case MMSIM__V1__REQUEST__OP_READ:
        return "ReadPage";
    case MMSIM__V1__REQUEST__OP_WRITE:
        return "WritePage";
    case MMSIM__V1__REQUEST__OP_VIEW:
        return "GetView";
    case MMSIM__V1__REQUEST__OP_CHECK:
        return "Check";
    case MMSIM__V1__REQUEST__OP_MACHINE:
        return "GetMachine";
    case MMSIM__V1__REQUEST__OP_MMAP:
        return "Mmap";
    case MMSIM__V1__REQUEST__OP_MUNMAP:
        return "Munmap";
    case MMSIM__V1__REQUEST__OP_MEM_READ:
        return "MemRead";
    case MMSIM__V1__REQUEST__OP_MEM_WRITE:
        return "MemWrite";
    case MMSIM__V1__REQUEST__OP_MM_STAT:
        return "GetMmStat";
    case MMSIM__V1__REQUEST__OP_VMALLOC:
        return "Vmalloc";
    case MMSIM__V1__REQUEST__OP_VFREE:
        return "Vfree";
    case MMSIM__V1__REQUEST__OP_VREAD:
        return "VRead";
    case MMSIM__V1__REQUEST__OP_VWRITE:
        return "VWrite";
    case MMSIM__V1__REQUEST__OP_RECLAIM:
        return "Reclaim";
    default:
        return "no operation";
    }
}

/*
 * Decide whether the request may run. Return: true to run it; false when
 * the Response (and maybe the close) is already decided.
 */
static bool gate(struct rpc_req *rq, const Mmsim__V1__Request *req)
{
    struct mmsim_session *s = rq->s;
    Mmsim__V1__Request__OpCase op = req->op_case;
    bool shutting_down =
        atomic_load_explicit(&rq->rpc->shutting_down, memory_order_acquire);

    if (!s->authenticated && op != MMSIM__V1__REQUEST__OP_HELLO) {
        session_log(s, RPC_LOG_WARN, "%s before Hello; closing", op_name(op));
        rpc_fail(rq, MMSIM__V1__STATUS__UNAUTHENTICATED,
                 "%s before Hello: the first request must be Hello",
                 op_name(op));
        rq->close = true;
        return false;
    }
    /* Killed: every request, then the close at the end of the feed. */
    if (vm_killed(s)) {
        rpc_fail(rq, MMSIM__V1__STATUS__KILLED, "%s", vm_killed_msg);
        return false;
    }
    if (shutting_down && op != MMSIM__V1__REQUEST__OP_PING) {
        rpc_fail(rq, MMSIM__V1__STATUS__SHUTTING_DOWN,
                 "the server is shutting down");
        /* Nothing is left for an unauthenticated peer to do. */
        rq->close = !s->authenticated;
        return false;
    }
    if (op == MMSIM__V1__REQUEST__OP__NOT_SET) {
        rpc_fail(rq, MMSIM__V1__STATUS__UNKNOWN_OPERATION,
                 "the request carries no operation this server knows");
        return false;
    }
    if (op == MMSIM__V1__REQUEST__OP_HELLO && s->authenticated) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "Hello was already accepted on this connection");
        return false;
    }
    /*
     * In flight (PROTOCOL.md): every request read is answered before the
     * next read, so all requests decoded by one feed call were sent
     * before the client could see any of their responses. More than
     * max_inflight of them means the client broke the limit.
     */
    if (s->feed_seq > rq->rpc->limits.max_inflight) {
        rpc_fail(rq, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                 "more than max_inflight (%u) requests in flight",
                 rq->rpc->limits.max_inflight);
        return false;
    }
    return true;
}

static void dispatch(struct rpc_req *rq, const Mmsim__V1__Request *req)
{
    if (!gate(rq, req))
        return;
    switch (req->op_case) {
    case MMSIM__V1__REQUEST__OP_HELLO:
        op_hello(rq, req->hello);
        break;
    case MMSIM__V1__REQUEST__OP_PING:
        op_ping(rq, req->ping);
        break;
    case MMSIM__V1__REQUEST__OP_ALLOC:
        op_alloc(rq, req->alloc);
        break;
    case MMSIM__V1__REQUEST__OP_FREE:
        op_free(rq, req->free);
        break;
    case MMSIM__V1__REQUEST__OP_ALLOC_BATCH:
        op_alloc_batch(rq, req->alloc_batch);
        break;
    case MMSIM__V1__REQUEST__OP_FREE_BATCH:
        op_free_batch(rq, req->free_batch);
        break;
    case MMSIM__V1__REQUEST__OP_READ:
        op_read(rq, req->read);
        break;
    case MMSIM__V1__REQUEST__OP_WRITE:
        op_write(rq, req->write);
        break;
    case MMSIM__V1__REQUEST__OP_VIEW:
        op_view(rq, req->view);
        break;
    case MMSIM__V1__REQUEST__OP_CHECK:
        op_check(rq, req->check);
        break;
    case MMSIM__V1__REQUEST__OP_MACHINE:
        op_machine(rq);
        break;
    case MMSIM__V1__REQUEST__OP_MMAP:
        op_mmap(rq, req->mmap);
        break;
    case MMSIM__V1__REQUEST__OP_MUNMAP:
        op_munmap(rq, req->munmap);
        break;
    case MMSIM__V1__REQUEST__OP_MEM_READ:
        op_mem_read(rq, req->mem_read);
        break;
    case MMSIM__V1__REQUEST__OP_MEM_WRITE:
        op_mem_write(rq, req->mem_write);
        break;
    case MMSIM__V1__REQUEST__OP_MM_STAT:
        op_mm_stat(rq);
        break;
    case MMSIM__V1__REQUEST__OP_VMALLOC:
        op_vmalloc(rq, req->vmalloc);
        break;
    case MMSIM__V1__REQUEST__OP_VFREE:
        op_vfree(rq, req->vfree);
        break;
    case MMSIM__V1__REQUEST__OP_VREAD:
        op_vread(rq, req->vread);
        break;
    case MMSIM__V1__REQUEST__OP_VWRITE:
        op_vwrite(rq, req->vwrite);
        break;
    case MMSIM__V1__REQUEST__OP_RECLAIM:
        op_reclaim(rq, req->reclaim);
        break;
    default: /* gate() answered NOT_SET; protobuf-c knows no other case */
        rpc_fail(rq, MMSIM__V1__STATUS__UNKNOWN_OPERATION,
                 "unknown operation %d", (int)req->op_case);
        break;
    }
}

/* ---- decoding with a budget ---------------------------------------------- */

/*
 * protobuf-c's allocator hooks, counting: the total handed out for one
 * request may not pass the budget. Frees do not give budget back, which
 * is stricter and keeps the count trivially correct.
 */
struct budget {
    size_t used, limit;
    bool exceeded; /* the budget said no */
    bool hostmem;  /* the host said no */
};

static void *budget_alloc(void *data, size_t size)
{
    struct budget *b = data;
    void *p;

    if (size > b->limit - b->used) {
        b->exceeded = true;
        return NULL;
    }
    b->used += size;
    p = malloc(size ? size : 1);
    if (!p)
        b->hostmem = true;
    return p;
}

static void budget_free(void *data, void *p)
{
    (void)data;
    free(p);
}

/* ---- encoding ------------------------------------------------------------ */

/*
 * Pack @r behind its length prefix at the end of @out: by hand for the
 * common shapes (mmsim/wire.h), else by protobuf-c. Return: 0 or -1.
 */
static int emit_response(const Mmsim__V1__Response *r, struct mmsim_buf *out)
{
    struct mmsim_wire_enc enc;
    bool by_hand = mmsim_wire_response_enc(r, &enc);
    size_t n = by_hand ? enc.size : mmsim__v1__response__get_packed_size(r);

    if (n > RPC_MAX_RESPONSE_BYTES ||
        mmsim_buf_reserve(out, MMSIM_FRAME_HEADER + n))
        return -1;
    mmsim_frame_put_header(out, (uint32_t)n); /* room was reserved */
    if (by_hand)
        mmsim_wire_put(&enc, out->data + out->len);
    else
        mmsim__v1__response__pack(r, out->data + out->len);
    out->len += n;
    return 0;
}

/* A response with a status and a message only. */
static int emit_status(struct mmsim_buf *out, uint64_t id, rpc_status st,
                       const char *msg)
{
    Mmsim__V1__Response r = MMSIM__V1__RESPONSE__INIT;

    r.has_id = 1;
    r.id = id;
    r.has_status = 1;
    r.status = st;
    r.message = (char *)msg;
    return emit_response(&r, out);
}

/*
 * Send rq's Response, or the best substitute: a response that grew past
 * the bound becomes INTERNAL; a host out of memory gets INTERNAL and a
 * close (or only the close, if not even that fits).
 */
static void finish(struct rpc_req *rq, struct mmsim_buf *out)
{
    struct mmsim_session *s = rq->s;

    if (rq->hostmem) {
        session_log(s, RPC_LOG_ERR, "host out of memory; closing");
        rq->close = true;
        (void)emit_status(out, rq->resp.id, MMSIM__V1__STATUS__INTERNAL,
                          "the server is out of host memory");
        return;
    }
    if (emit_response(&rq->resp, out) == 0)
        return;
    if (mmsim__v1__response__get_packed_size(&rq->resp) >
        RPC_MAX_RESPONSE_BYTES) {
        session_log(s, RPC_LOG_ERR, "response to request %llu too large",
                    (unsigned long long)rq->resp.id);
        if (emit_status(out, rq->resp.id, MMSIM__V1__STATUS__INTERNAL,
                        "the response would exceed the 64 MiB bound") == 0)
            return;
    }
    session_log(s, RPC_LOG_ERR, "host out of memory; closing");
    rq->close = true;
    (void)emit_status(out, rq->resp.id, MMSIM__V1__STATUS__INTERNAL,
                      "the server is out of host memory");
}

/* ---- feeding ------------------------------------------------------------- */

static void handle_frame(struct mmsim_session *s, const uint8_t *frame,
                         size_t len, struct mmsim_buf *out)
{
    static const uint8_t empty[1];
    struct budget b = {.limit = s->rpc->limits.decode_budget_bytes};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &b};
    struct mmsim_wire_request hand;
    Mmsim__V1__Request *req;
    struct rpc_req rq;

    /* Not memset: rq.msg and the arena's bytes are written before use. */
    rq.s = s;
    rq.rpc = s->rpc;
    rq.close = rq.hostmem = false;
    arena_init(&rq.arena);
    mmsim__v1__response__init(&rq.resp);
    rq.resp.has_id = 1;
    rq.resp.has_status = 1;
    rq.resp.status = MMSIM__V1__STATUS__OK;
    s->feed_seq++;

    /*
     * The hot requests by hand, borrowing from @frame and allocating
     * nothing; whatever the hand decoder leaves, protobuf-c decides.
     */
    if (mmsim_wire_request_dec(frame, len, &hand)) {
        rq.resp.id = hand.req.id;
        dispatch(&rq, &hand.req);
        finish(&rq, out);
        goto out;
    }
    req = mmsim__v1__request__unpack(&alloc, len, len ? frame : empty);
    if (!req) {
        if (b.hostmem) {
            rq.hostmem = true;
        } else if (b.exceeded) {
            session_log(s, RPC_LOG_WARN,
                        "request exceeds the decode budget; closing");
            rpc_fail(&rq, MMSIM__V1__STATUS__MALFORMED,
                     "the request needs more than decode_budget_bytes "
                     "(%zu) of memory to decode",
                     b.limit);
        } else {
            session_log(s, RPC_LOG_WARN,
                        "undecodable frame of %zu bytes; closing", len);
            rpc_fail(&rq, MMSIM__V1__STATUS__MALFORMED,
                     "the frame is not a valid mmsim.v1.Request");
        }
        rq.close = true;
        finish(&rq, out);
    } else {
        rq.resp.id = req->id;
        dispatch(&rq, req);
        /* Before the request is freed: the response may borrow from it. */
        finish(&rq, out);
        protobuf_c_message_free_unpacked(&req->base, &alloc);
    }
out:
    arena_free(&rq.arena);
    if (rq.close)
        s->closed = true;
}

int mmsim_session_feed(struct mmsim_session *s, const uint8_t *data, size_t len,
                       struct mmsim_buf *out)
{
    if (s->closed)
        return MMSIM_FEED_CLOSE;
    if (s->rec && len)
        s->rpc->recorder.write(s->rpc->recorder.ctx, s->rec, data, len);
    s->feed_seq = 0;
    while (!s->closed) {
        const uint8_t *frame = NULL;
        size_t used = 0, flen = 0;
        int rc = mmsim_frame_decode(&s->dec, data, len, &used, &frame, &flen);

        if (used) {
            data += used;
            len -= used;
        }
        if (rc == MMSIM_FRAME_NEED_MORE)
            break;
        if (rc == MMSIM_FRAME_TOO_LARGE) {
            char msg[128];

            session_log(s, RPC_LOG_WARN,
                        "frame of %lu bytes exceeds max_frame_bytes %lu; "
                        "closing",
                        (unsigned long)s->dec.want,
                        (unsigned long)s->dec.max_frame_bytes);
            snprintf(msg, sizeof(msg),
                     "frame of %lu bytes exceeds max_frame_bytes (%lu)",
                     (unsigned long)s->dec.want,
                     (unsigned long)s->dec.max_frame_bytes);
            (void)emit_status(out, 0, MMSIM__V1__STATUS__FRAME_TOO_LARGE, msg);
            s->closed = true;
            break;
        }
        if (rc != MMSIM_FRAME_READY) {
            session_log(s, RPC_LOG_ERR, "host out of memory; closing");
            (void)emit_status(out, 0, MMSIM__V1__STATUS__INTERNAL,
                              "the server is out of host memory");
            s->closed = true;
            break;
        }
        handle_frame(s, frame, flen, out);
    }
    /*
     * Killed by the OOM killer: what was read got KILLED answers; with
     * nothing read (the transport's nudge), one KILLED with id 0 says
     * why the connection closes.
     */
    if (!s->closed && vm_killed(s)) {
        if (!s->feed_seq)
            (void)emit_status(out, 0, MMSIM__V1__STATUS__KILLED, vm_killed_msg);
        session_log(s, RPC_LOG_INFO, "killed by the OOM killer; closing");
        s->closed = true;
    }
    return s->closed ? MMSIM_FEED_CLOSE : MMSIM_FEED_CONTINUE;
}
