/*
 * test-rpc.c - the protocol engine driven the way daemon/net drives it:
 * hand-built frames in, framed responses out, no sockets. Hello and its
 * refusals, the page operations and their ownership rules, pipelining,
 * every split of the input, a table of hostile inputs (each followed by
 * a check that another session still works), quotas, shutdown, teardown,
 * several sessions fed from threads at once; and the virtual-memory
 * operations: address spaces and vmalloc areas, their isolation between
 * sessions, teardown, bad inputs, quotas, and OOM kills.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmsim.pb-c.h"
#include "mmsim/rpc.h"
#include "mmsim/vm.h"
#include "mmsim/vmalloc.h"

#define MIB (UINT64_C(1) << 20)

typedef Mmsim__V1__Request Req;
typedef Mmsim__V1__Response Resp;

#define ST(x) MMSIM__V1__STATUS__##x

/* ---- fixtures ------------------------------------------------------------ */

/* Every log line, for the tests that look for one. */
struct logcap {
    pthread_mutex_t lock;
    char text[1 << 16];
    size_t len;
};

static void log_sink(void *ctx, int level, const char *line)
{
    struct logcap *lc = ctx;
    char l[600];
    int n = snprintf(l, sizeof(l), "<%d>%s\n", level, line);

    pthread_mutex_lock(&lc->lock);
    if (n > 0 && lc->len + (size_t)n < sizeof(lc->text)) {
        memcpy(lc->text + lc->len, l, (size_t)n);
        lc->len += (size_t)n;
        lc->text[lc->len] = '\0';
    }
    pthread_mutex_unlock(&lc->lock);
}

static bool logged(struct logcap *lc, const char *needle)
{
    bool found;

    pthread_mutex_lock(&lc->lock);
    found = strstr(lc->text, needle) != NULL;
    pthread_mutex_unlock(&lc->lock);
    return found;
}

struct fix {
    struct mmsim_machine *m;
    struct mmsim_rpc *rpc;
    const char *token; /* the server's, which our Hellos carry */
    struct logcap log;
};

/* 64 MiB over two nodes, with page contents. */
static struct mmsim_machine *boot(bool contents)
{
    struct mmsim_machine *m = NULL;
    struct mmsim_desc d;
    char err[256];
    int rc;

    mmsim_desc_init(&d);
    assert_int_equal(mmsim_desc_add_range(&d, 0, 0, 32 * MIB), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 1, 32 * MIB, 32 * MIB), 0);
    d.deferred_init = false;
    d.contents = contents;
    rc = mmsim_machine_create(&d, NULL, &m, err, sizeof(err));
    if (rc)
        fail_msg("boot: %s (%s)", mmsim_err_name(rc), err);
    return m;
}

static struct fix *fix_new(bool contents, const struct mmsim_rpc_limits *lim,
                           const char *token)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct mmsim_rpc_config cfg;

    assert_non_null(f);
    pthread_mutex_init(&f->log.lock, NULL);
    f->m = boot(contents);
    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = f->m;
    if (lim)
        cfg.limits = *lim;
    else
        mmsim_rpc_limits_default(&cfg.limits);
    f->token = token;
    if (token) {
        cfg.token = (const uint8_t *)token;
        cfg.token_len = strlen(token);
    }
    cfg.log = log_sink;
    cfg.log_ctx = &f->log;
    assert_int_equal(mmsim_rpc_create(&cfg, &f->rpc), 0);
    return f;
}

static void assert_consistent(struct mmsim_machine *m)
{
    char err[512];

    if (mmsim_check(m, true, err, sizeof(err)))
        fail_msg("checker: %s", err);
}

static void fix_free(struct fix *f)
{
    assert_consistent(f->m);
    mmsim_rpc_destroy(f->rpc);
    mmsim_machine_destroy(f->m);
    pthread_mutex_destroy(&f->log.lock);
    free(f);
}

static uint64_t total_free(struct mmsim_machine *m)
{
    uint64_t sum = 0;

    for (unsigned n = 0; n < mmsim_machine_nr_nodes(m); n++)
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)n, (enum mmsim_zone_type)t, &zi) == 0)
                sum += zi.free + zi.pcp;
        }
    return sum;
}

/* ---- building requests --------------------------------------------------- */

static void put_req(struct mmsim_buf *b, const Req *r)
{
    size_t n = mmsim__v1__request__get_packed_size(r);

    assert_int_equal(mmsim_frame_put_header(b, (uint32_t)n), 0);
    assert_int_equal(mmsim_buf_reserve(b, n), 0);
    mmsim__v1__request__pack(r, b->data + b->len);
    b->len += n;
}

static void put_hello_v(struct mmsim_buf *b, uint64_t id, uint32_t version,
                        const char *token)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;

    h.has_protocol_version = 1;
    h.protocol_version = version;
    h.client_name = (char *)"test-rpc";
    if (token) {
        h.has_token = 1;
        h.token.data = (uint8_t *)token;
        h.token.len = strlen(token);
    }
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    put_req(b, &r);
}

static void put_hello(struct mmsim_buf *b, uint64_t id)
{
    put_hello_v(b, id, 1, NULL);
}

static void put_ping(struct mmsim_buf *b, uint64_t id, const void *payload,
                     size_t len)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Ping p = MMSIM__V1__PING__INIT;

    if (payload) {
        p.has_payload = 1;
        p.payload.data = (uint8_t *)payload;
        p.payload.len = len;
    }
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_PING;
    r.ping = &p;
    put_req(b, &r);
}

static void put_alloc(struct mmsim_buf *b, uint64_t id, uint32_t order,
                      uint32_t gfp, int32_t node)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocPages a = MMSIM__V1__ALLOC_PAGES__INIT;

    a.has_order = a.has_gfp = a.has_node = 1;
    a.order = order;
    a.gfp = gfp;
    a.node = node;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    r.alloc = &a;
    put_req(b, &r);
}

static void put_free(struct mmsim_buf *b, uint64_t id, uint64_t pfn,
                     uint32_t order)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreePages f = MMSIM__V1__FREE_PAGES__INIT;

    f.has_pfn = f.has_order = 1;
    f.pfn = pfn;
    f.order = order;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_FREE;
    r.free = &f;
    put_req(b, &r);
}

static void put_read(struct mmsim_buf *b, uint64_t id, uint64_t pfn,
                     uint32_t offset, uint32_t length)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__ReadPage rd = MMSIM__V1__READ_PAGE__INIT;

    rd.has_pfn = rd.has_offset = rd.has_length = 1;
    rd.pfn = pfn;
    rd.offset = offset;
    rd.length = length;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_READ;
    r.read = &rd;
    put_req(b, &r);
}

static void put_write(struct mmsim_buf *b, uint64_t id, uint64_t pfn,
                      uint32_t offset, const void *data, size_t len)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__WritePage w = MMSIM__V1__WRITE_PAGE__INIT;

    w.has_pfn = w.has_offset = w.has_data = 1;
    w.pfn = pfn;
    w.offset = offset;
    w.data.data = (uint8_t *)data;
    w.data.len = len;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_WRITE;
    r.write = &w;
    put_req(b, &r);
}

static void put_view(struct mmsim_buf *b, uint64_t id, int kind)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetView v = MMSIM__V1__GET_VIEW__INIT;

    v.has_kind = 1;
    v.kind = (Mmsim__V1__ViewKind)kind;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    r.view = &v;
    put_req(b, &r);
}

static void put_check(struct mmsim_buf *b, uint64_t id, bool full)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Check c = MMSIM__V1__CHECK__INIT;

    c.has_full = 1;
    c.full = full;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_CHECK;
    r.check = &c;
    put_req(b, &r);
}

static void put_machine(struct mmsim_buf *b, uint64_t id)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMachine g = MMSIM__V1__GET_MACHINE__INIT;

    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_MACHINE;
    r.machine = &g;
    put_req(b, &r);
}

/* A request with an id and no operation. */
static void put_noop(struct mmsim_buf *b, uint64_t id)
{
    Req r = MMSIM__V1__REQUEST__INIT;

    r.has_id = 1;
    r.id = id;
    put_req(b, &r);
}

static void put_alloc_batch(struct mmsim_buf *b, uint64_t id, size_t n,
                            const uint32_t *orders)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocBatch ab = MMSIM__V1__ALLOC_BATCH__INIT;
    Mmsim__V1__AllocPages *a = calloc(n ? n : 1, sizeof(*a));
    Mmsim__V1__AllocPages **pa = calloc(n ? n : 1, sizeof(*pa));

    assert_non_null(a);
    assert_non_null(pa);
    for (size_t i = 0; i < n; i++) {
        mmsim__v1__alloc_pages__init(&a[i]);
        a[i].has_order = 1;
        a[i].order = orders ? orders[i] : 0;
        pa[i] = &a[i];
    }
    ab.n_allocs = n;
    ab.allocs = pa;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_ALLOC_BATCH;
    r.alloc_batch = &ab;
    put_req(b, &r);
    free(pa);
    free(a);
}

static void put_free_batch(struct mmsim_buf *b, uint64_t id, size_t n,
                           const uint64_t *pfns, const uint32_t *orders)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__FreeBatch fb = MMSIM__V1__FREE_BATCH__INIT;
    Mmsim__V1__FreePages *f = calloc(n ? n : 1, sizeof(*f));
    Mmsim__V1__FreePages **pf = calloc(n ? n : 1, sizeof(*pf));

    assert_non_null(f);
    assert_non_null(pf);
    for (size_t i = 0; i < n; i++) {
        mmsim__v1__free_pages__init(&f[i]);
        f[i].has_pfn = f[i].has_order = 1;
        f[i].pfn = pfns[i];
        f[i].order = orders[i];
        pf[i] = &f[i];
    }
    fb.n_frees = n;
    fb.frees = pf;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_FREE_BATCH;
    r.free_batch = &fb;
    put_req(b, &r);
    free(pf);
    free(f);
}

static void put_raw(struct mmsim_buf *b, const void *bytes, size_t n)
{
    assert_int_equal(mmsim_buf_append(b, bytes, n), 0);
}

/* ---- reading responses --------------------------------------------------- */

#define MAX_RESP 4096

struct resps {
    Resp *r[MAX_RESP];
    size_t n;
};

/* Split @out into responses; every byte must belong to a whole frame. */
static void parse(const struct mmsim_buf *out, struct resps *rs)
{
    size_t off = 0;

    rs->n = 0;
    while (off < out->len) {
        uint32_t len;

        assert_true(out->len - off >= 4);
        len = (uint32_t)out->data[off] << 24 |
              (uint32_t)out->data[off + 1] << 16 |
              (uint32_t)out->data[off + 2] << 8 | out->data[off + 3];
        off += 4;
        assert_true(out->len - off >= len);
        assert_true(rs->n < MAX_RESP);
        rs->r[rs->n] = mmsim__v1__response__unpack(NULL, len, out->data + off);
        assert_non_null(rs->r[rs->n]);
        rs->n++;
        off += len;
    }
}

static void resps_free(struct resps *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        mmsim__v1__response__free_unpacked(rs->r[i], NULL);
    rs->n = 0;
}

/*
 * Feed @in to @s in one go, expect exactly one response, return it
 * (free with mmsim__v1__response__free_unpacked); *@rc gets the result.
 */
static Resp *call(struct mmsim_session *s, struct mmsim_buf *in, int *rc)
{
    struct mmsim_buf out;
    struct resps rs;
    Resp *r;
    int res;

    mmsim_buf_init(&out);
    res = mmsim_session_feed(s, in->data, in->len, &out);
    if (rc)
        *rc = res;
    else
        assert_int_equal(res, MMSIM_FEED_CONTINUE);
    parse(&out, &rs);
    if (rs.n != 1)
        fail_msg("expected one response, got %zu", rs.n);
    r = rs.r[0];
    mmsim_buf_free(&out);
    in->len = 0;
    return r;
}

static void expect_status(Resp *r, Mmsim__V1__Status st)
{
    if (r->status != st)
        fail_msg("status %d, expected %d: %s", (int)r->status, (int)st,
                 r->message ? r->message : "");
    if (st != ST(OK))
        assert_true(r->message && r->message[0]);
}

static struct mmsim_session *new_session(struct fix *f, const char *peer)
{
    struct mmsim_session *s;

    assert_int_equal(mmsim_session_create(f->rpc, 0, peer, &s), 0);
    return s;
}

/* A session that has said Hello. */
static struct mmsim_session *hello_session(struct fix *f, const char *peer)
{
    struct mmsim_session *s = new_session(f, peer);
    struct mmsim_buf in;
    Resp *r;

    mmsim_buf_init(&in);
    put_hello_v(&in, 1, 1, f->token);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    mmsim__v1__response__free_unpacked(r, NULL);
    mmsim_buf_free(&in);
    assert_true(mmsim_session_authenticated(s));
    return s;
}

static Resp *do_alloc(struct mmsim_session *s, uint32_t order, int32_t node,
                      Mmsim__V1__Status st)
{
    struct mmsim_buf in;
    Resp *r;

    mmsim_buf_init(&in);
    put_alloc(&in, 7, order, 0, node);
    r = call(s, &in, NULL);
    mmsim_buf_free(&in);
    assert_int_equal(r->id, 7);
    expect_status(r, st);
    return r;
}

static uint64_t alloc_pfn(struct mmsim_session *s, uint32_t order)
{
    Resp *r = do_alloc(s, order, -1, ST(OK));
    uint64_t pfn;

    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_ALLOC);
    assert_int_equal(r->alloc->order, order);
    pfn = r->alloc->pfn;
    mmsim__v1__response__free_unpacked(r, NULL);
    return pfn;
}

static void simple(struct mmsim_session *s, struct mmsim_buf *in,
                   Mmsim__V1__Status st)
{
    Resp *r = call(s, in, NULL);

    expect_status(r, st);
    mmsim__v1__response__free_unpacked(r, NULL);
}

/* Ping and a one-page round trip: the session is alive and well. */
static void assert_healthy(struct fix *f)
{
    struct mmsim_session *s = hello_session(f, "healthy");
    struct mmsim_buf in;
    uint64_t pfn;
    Resp *r;

    mmsim_buf_init(&in);
    put_ping(&in, 3, "x", 1);
    simple(s, &in, ST(OK));
    pfn = alloc_pfn(s, 0);
    put_write(&in, 4, pfn, 0, "ok", 2);
    simple(s, &in, ST(OK));
    put_read(&in, 5, pfn, 0, 2);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_memory_equal(r->read->data.data, "ok", 2);
    mmsim__v1__response__free_unpacked(r, NULL);
    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
}

/* ---- Hello, Ping --------------------------------------------------------- */

static void test_hello_ping(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = new_session(f, "127.0.0.1:1");
    struct mmsim_buf in;
    uint8_t payload[300];
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    assert_false(mmsim_session_authenticated(s));
    put_hello(&in, 42);
    r = call(s, &in, NULL);
    assert_int_equal(r->id, 42);
    expect_status(r, ST(OK));
    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_HELLO);
    assert_int_equal(r->hello->protocol_version, 1);
    assert_int_equal(r->hello->session_id, mmsim_session_id(s));
    assert_non_null(r->hello->server_version);
    assert_non_null(r->hello->limits);
    assert_int_equal(r->hello->limits->max_frame_bytes,
                     MMSIM_FRAME_MAX_DEFAULT);
    assert_int_equal(r->hello->limits->max_inflight, 128);
    assert_int_equal(r->hello->limits->max_batch, 1024);
    assert_non_null(r->hello->machine);
    assert_int_equal(r->hello->machine->nodes, 2);
    assert_int_equal(r->hello->machine->cpus, 2);
    assert_int_equal(r->hello->machine->page_size, 4096);
    assert_int_equal(r->hello->machine->max_order, 10);
    assert_true(r->hello->machine->contents);
    assert_true(r->hello->machine->managed_pages > 0 &&
                r->hello->machine->managed_pages <= 64 * MIB / 4096);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_true(mmsim_session_authenticated(s));
    assert_true(logged(&f->log, "hello from \"test-rpc\""));

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 13);
    put_ping(&in, 43, payload, sizeof(payload));
    r = call(s, &in, NULL);
    assert_int_equal(r->id, 43);
    expect_status(r, ST(OK));
    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_PONG);
    assert_int_equal(r->pong->payload.len, sizeof(payload));
    assert_memory_equal(r->pong->payload.data, payload, sizeof(payload));
    mmsim__v1__response__free_unpacked(r, NULL);

    /* An empty payload and no payload at all. */
    put_ping(&in, 44, "", 0);
    simple(s, &in, ST(OK));
    put_ping(&in, 45, NULL, 0);
    simple(s, &in, ST(OK));

    /* A second Hello is refused, and the session stays open. */
    put_hello(&in, 46);
    simple(s, &in, ST(INVALID_ARGUMENT));
    put_ping(&in, 47, NULL, 0);
    simple(s, &in, ST(OK));

    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

/* ---- pages --------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "rt");
    uint64_t before = total_free(f->m), pfn;
    uint8_t pattern[1000], zero[4096] = {0};
    struct mmsim_buf in;
    uint32_t tag;
    unsigned order;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 7 + 1);

    r = do_alloc(s, 2, 1, ST(OK));
    pfn = r->alloc->pfn;
    assert_true(r->alloc->has_node);
    assert_int_equal(r->alloc->node, 1);
    assert_string_equal(r->alloc->zone, "DMA32");
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(mmsim_session_pages(s), 4);
    /* The machine's owner tag is the session id's low 32 bits. */
    assert_int_equal(mmsim_page_owner(f->m, pfn, &tag, &order), 0);
    assert_int_equal(tag, (uint32_t)mmsim_session_id(s));
    assert_int_equal(order, 2);

    /* Fresh pages read as zeros, every page of the block. */
    for (uint64_t p = pfn; p < pfn + 4; p++) {
        put_read(&in, 10, p, 0, 4096);
        r = call(s, &in, NULL);
        expect_status(r, ST(OK));
        assert_int_equal(r->read->data.len, 4096);
        assert_memory_equal(r->read->data.data, zero, 4096);
        mmsim__v1__response__free_unpacked(r, NULL);
    }

    /* Written bytes read back, on an inner page of the block. */
    put_write(&in, 11, pfn + 3, 3000, pattern, sizeof(pattern) - 904);
    simple(s, &in, ST(OK));
    put_write(&in, 12, pfn + 1, 100, pattern, sizeof(pattern));
    simple(s, &in, ST(OK));
    put_read(&in, 13, pfn + 1, 100, sizeof(pattern));
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->read->data.len, sizeof(pattern));
    assert_memory_equal(r->read->data.data, pattern, sizeof(pattern));
    mmsim__v1__response__free_unpacked(r, NULL);
    put_read(&in, 14, pfn + 1, 0, 100);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_memory_equal(r->read->data.data, zero, 100);
    mmsim__v1__response__free_unpacked(r, NULL);

    /* Empty writes and reads are fine. */
    put_write(&in, 15, pfn, 4096, NULL, 0);
    simple(s, &in, ST(OK));
    put_read(&in, 16, pfn, 4096, 0);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->read->data.len, 0);
    mmsim__v1__response__free_unpacked(r, NULL);

    /* Freeing: wrong order, not the head, then right. */
    put_free(&in, 17, pfn, 3);
    simple(s, &in, ST(WRONG_ORDER));
    put_free(&in, 18, pfn + 1, 0);
    simple(s, &in, ST(NOT_HEAD));
    put_free(&in, 19, pfn, 2);
    simple(s, &in, ST(OK));
    assert_int_equal(mmsim_session_pages(s), 0);
    /* Gone: not ours any more. */
    put_free(&in, 20, pfn, 2);
    simple(s, &in, ST(NOT_OWNER));
    put_read(&in, 21, pfn, 0, 1);
    simple(s, &in, ST(NOT_OWNER));

    /* The next owner of those pages sees zeros. */
    r = do_alloc(s, 2, 1, ST(OK));
    pfn = r->alloc->pfn;
    mmsim__v1__response__free_unpacked(r, NULL);
    for (uint64_t p = pfn; p < pfn + 4; p++) {
        put_read(&in, 22, p, 0, 4096);
        r = call(s, &in, NULL);
        expect_status(r, ST(OK));
        assert_memory_equal(r->read->data.data, zero, 4096);
        mmsim__v1__response__free_unpacked(r, NULL);
    }
    put_free(&in, 23, pfn, 2);
    simple(s, &in, ST(OK));
    assert_int_equal(total_free(f->m), before);

    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_isolation(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *a = hello_session(f, "A"), *b = hello_session(f, "B");
    struct mmsim_buf in;
    uint64_t pa, pb;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    pa = alloc_pfn(a, 1);
    pb = alloc_pfn(b, 0);
    put_write(&in, 1, pa + 1, 0, "secret", 6);
    simple(a, &in, ST(OK));

    /* B may not touch A's block, by its head or by its inner page. */
    put_free(&in, 2, pa, 1);
    simple(b, &in, ST(NOT_OWNER));
    put_free(&in, 3, pa + 1, 0);
    simple(b, &in, ST(NOT_OWNER));
    put_read(&in, 4, pa + 1, 0, 6);
    simple(b, &in, ST(NOT_OWNER));
    put_write(&in, 5, pa + 1, 0, "XXXXXX", 6);
    simple(b, &in, ST(NOT_OWNER));
    put_write(&in, 6, pa, 0, "XXXXXX", 6);
    simple(b, &in, ST(NOT_OWNER));
    /* Nor pages nobody owns. */
    put_read(&in, 7, pb + 4096, 0, 1);
    simple(b, &in, ST(NOT_OWNER));
    put_free(&in, 8, UINT64_MAX, 0);
    simple(b, &in, ST(NOT_OWNER));
    put_read(&in, 9, UINT64_MAX, 0, 1);
    simple(b, &in, ST(NOT_OWNER));

    /* A's block is intact. */
    put_read(&in, 10, pa + 1, 0, 6);
    r = call(a, &in, NULL);
    expect_status(r, ST(OK));
    assert_memory_equal(r->read->data.data, "secret", 6);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(mmsim_session_pages(a), 2);
    assert_int_equal(mmsim_session_pages(b), 1);

    /* B going away frees B's page only. */
    mmsim_session_destroy(b);
    put_read(&in, 11, pa + 1, 0, 6);
    r = call(a, &in, NULL);
    expect_status(r, ST(OK));
    assert_memory_equal(r->read->data.data, "secret", 6);
    mmsim__v1__response__free_unpacked(r, NULL);

    mmsim_buf_free(&in);
    mmsim_session_destroy(a);
    fix_free(f);
}

static void test_teardown(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    uint64_t before = total_free(f->m);
    struct mmsim_session *s = hello_session(f, "10.0.0.9:4242");
    struct mmsim_buf in;
    uint64_t pages = 0;

    (void)state;
    mmsim_buf_init(&in);
    /* A mix of orders on both nodes, some written. */
    for (unsigned i = 0; i < 60; i++) {
        unsigned order = i % 5;
        Resp *r = do_alloc(s, order, (int32_t)(i % 3) - 1, ST(OK));

        pages += UINT64_C(1) << order;
        put_write(&in, 100 + i, r->alloc->pfn, i * 8, &i, sizeof(i));
        simple(s, &in, ST(OK));
        mmsim__v1__response__free_unpacked(r, NULL);
    }
    assert_int_equal(mmsim_session_pages(s), pages);
    assert_int_equal(total_free(f->m), before - pages);
    assert_consistent(f->m);
    mmsim_buf_free(&in);

    mmsim_session_destroy(s);
    assert_int_equal(total_free(f->m), before);
    assert_consistent(f->m);
    {
        char line[128];

        snprintf(line, sizeof(line),
                 "(10.0.0.9:4242): closed, freed %llu pages in 60 blocks",
                 (unsigned long long)pages);
        assert_true(logged(&f->log, line));
    }
    fix_free(f);
}

static void test_batches(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "batch");
    uint32_t orders[5] = {0, 1, 99, 3, 0};
    uint64_t pfns[6];
    uint32_t forders[6];
    struct mmsim_buf in;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    put_alloc_batch(&in, 1, 5, orders);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_ALLOC_BATCH);
    assert_int_equal(r->alloc_batch->n_results, 5);
    for (size_t i = 0; i < 5; i++) {
        Mmsim__V1__AllocResult *ar = r->alloc_batch->results[i];

        if (i == 2) {
            assert_int_equal(ar->status, ST(OUT_OF_RANGE));
            assert_non_null(ar->message);
            assert_null(ar->page);
            continue;
        }
        assert_int_equal(ar->status, ST(OK));
        assert_non_null(ar->page);
        assert_int_equal(ar->page->order, orders[i]);
        pfns[i < 2 ? i : i - 1] = ar->page->pfn;
        forders[i < 2 ? i : i - 1] = orders[i];
    }
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(mmsim_session_pages(s), 1 + 2 + 8 + 1);

    /* Free them all, one twice and one with a wrong order. */
    pfns[4] = pfns[0];
    forders[4] = 0;
    pfns[5] = pfns[2];
    forders[5] = 2;
    put_free_batch(&in, 2, 6, pfns, forders);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->free_batch->n_results, 6);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(r->free_batch->results[i]->status, ST(OK));
    assert_int_equal(r->free_batch->results[4]->status, ST(NOT_OWNER));
    assert_int_equal(r->free_batch->results[5]->status, ST(NOT_OWNER));
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(mmsim_session_pages(s), 0);

    /* Empty batches are fine. */
    put_alloc_batch(&in, 3, 0, NULL);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->alloc_batch->n_results, 0);
    mmsim__v1__response__free_unpacked(r, NULL);

    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_quota(void **state)
{
    struct mmsim_rpc_limits lim;
    struct fix *f;
    struct mmsim_session *s;
    struct mmsim_buf in;
    uint32_t orders[3] = {2, 2, 0};
    uint64_t pfn;
    Resp *r;

    (void)state;
    mmsim_rpc_limits_default(&lim);
    lim.max_pages = 8;
    f = fix_new(true, &lim, NULL);
    s = hello_session(f, "quota");
    mmsim_buf_init(&in);

    pfn = alloc_pfn(s, 3);
    r = do_alloc(s, 0, -1, ST(QUOTA_EXCEEDED));
    mmsim__v1__response__free_unpacked(r, NULL);
    /* Above max_order is OUT_OF_RANGE, not a quota matter. */
    r = do_alloc(s, 99, -1, ST(OUT_OF_RANGE));
    mmsim__v1__response__free_unpacked(r, NULL);
    put_free(&in, 1, pfn, 3);
    simple(s, &in, ST(OK));

    /* Per entry in a batch: 4 + 4 fit, the last page does not. */
    put_alloc_batch(&in, 2, 3, orders);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->alloc_batch->results[0]->status, ST(OK));
    assert_int_equal(r->alloc_batch->results[1]->status, ST(OK));
    assert_int_equal(r->alloc_batch->results[2]->status, ST(QUOTA_EXCEEDED));
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(mmsim_session_pages(s), 8);

    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

/*
 * Thousands of blocks in and out of the session's table, in a scrambled
 * order: it grows, shrinks and deletes from the middle of probe runs, and
 * must still know every block, by its head and by its inner pages.
 */
static void test_table_churn(void **state)
{
    enum { N = 3000, BATCH = 1000 };
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "churn");
    uint64_t before = total_free(f->m);
    uint64_t *pfns = calloc(N, sizeof(*pfns));
    uint32_t *orders = calloc(N, sizeof(*orders));
    size_t *perm = calloc(N, sizeof(*perm));
    uint64_t pages = 0;
    unsigned seed = 12345;
    struct mmsim_buf in;
    Resp *r;

    (void)state;
    assert_non_null(pfns);
    assert_non_null(orders);
    assert_non_null(perm);
    mmsim_buf_init(&in);
    for (size_t i = 0; i < N; i++)
        orders[i] = i % 7 == 0 ? 2 : 0;
    for (size_t done = 0; done < N; done += BATCH) {
        put_alloc_batch(&in, done, BATCH, orders + done);
        r = call(s, &in, NULL);
        expect_status(r, ST(OK));
        assert_int_equal(r->alloc_batch->n_results, BATCH);
        for (size_t i = 0; i < BATCH; i++) {
            assert_int_equal(r->alloc_batch->results[i]->status, ST(OK));
            pfns[done + i] = r->alloc_batch->results[i]->page->pfn;
            pages += UINT64_C(1) << orders[done + i];
        }
        mmsim__v1__response__free_unpacked(r, NULL);
    }
    assert_int_equal(mmsim_session_pages(s), pages);

    /* A scrambled order (Fisher-Yates with a fixed seed). */
    for (size_t i = 0; i < N; i++)
        perm[i] = i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j, t;

        seed = seed * 1103515245u + 12345u;
        j = (seed >> 8) % (i + 1);
        t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t k = 0; k < N; k++) {
        size_t i = perm[k];
        uint64_t last = pfns[i] + (UINT64_C(1) << orders[i]) - 1;

        /* Still ours, by its last page; then gone. */
        put_read(&in, 1, last, 0, 1);
        simple(s, &in, ST(OK));
        put_free(&in, 2, pfns[i], orders[i]);
        simple(s, &in, ST(OK));
        put_read(&in, 3, last, 0, 1);
        simple(s, &in, ST(NOT_OWNER));
        /* Every 100th step, check that a sample of the rest is known. */
        if (k % 100 == 0)
            for (size_t m = k + 1; m < N; m += 37) {
                put_read(&in, 4, pfns[perm[m]], 0, 1);
                simple(s, &in, ST(OK));
            }
    }
    assert_int_equal(mmsim_session_pages(s), 0);
    assert_int_equal(total_free(f->m), before);

    free(pfns);
    free(orders);
    free(perm);
    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

/* ---- views, machine, check, metadata-only -------------------------------- */

static void test_views(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "views");
    struct mmsim_buf in;
    bool seen = false;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    for (int k = MMSIM__V1__VIEW_KIND__BUDDYINFO;
         k <= MMSIM__V1__VIEW_KIND__BOOTLOG; k++) {
        put_view(&in, (uint64_t)k, k);
        r = call(s, &in, NULL);
        expect_status(r, ST(OK));
        assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_VIEW);
        assert_non_null(r->view->text);
        assert_true(strlen(r->view->text) > 0);
        mmsim__v1__response__free_unpacked(r, NULL);
    }

    put_view(&in, 1, MMSIM__V1__VIEW_KIND__BUDDYINFO);
    r = call(s, &in, NULL);
    assert_true(strncmp(r->view->text, "Node 0, zone", 12) == 0);
    assert_true(r->view->n_zones >= 2);
    assert_int_equal(r->view->zones[0]->n_nr_free, 11);
    mmsim__v1__response__free_unpacked(r, NULL);

    put_view(&in, 2, MMSIM__V1__VIEW_KIND__ZONEINFO);
    r = call(s, &in, NULL);
    assert_true(r->view->n_zones >= 2);
    for (size_t i = 0; i < r->view->n_zones; i++) {
        Mmsim__V1__Zone *z = r->view->zones[i];
        struct mmsim_zone_info zi;
        enum mmsim_zone_type t = MMSIM_NR_ZONE_TYPES;

        for (int j = 0; j < MMSIM_NR_ZONE_TYPES; j++)
            if (!strcmp(mmsim_zone_type_name((enum mmsim_zone_type)j), z->name))
                t = (enum mmsim_zone_type)j;
        assert_true(t < MMSIM_NR_ZONE_TYPES);
        assert_int_equal(mmsim_zone_info(f->m, (int)z->node, t, &zi), 0);
        assert_int_equal(z->start_pfn, zi.start_pfn);
        assert_int_equal(z->managed, zi.managed);
        assert_int_equal(z->wmark_high, zi.wmark_high);
        assert_true(z->n_protection >= 3);
    }
    mmsim__v1__response__free_unpacked(r, NULL);

    put_view(&in, 3, MMSIM__V1__VIEW_KIND__VMSTAT);
    r = call(s, &in, NULL);
    assert_true(r->view->n_counters > 10);
    for (size_t i = 0; i < r->view->n_counters; i++) {
        Mmsim__V1__Counter *c = r->view->counters[i];

        assert_int_equal((int64_t)c->value, mmsim_vmstat_get(f->m, c->name));
        seen |= !strcmp(c->name, "nr_free_pages");
    }
    assert_true(seen);
    mmsim__v1__response__free_unpacked(r, NULL);

    put_view(&in, 4, 77);
    simple(s, &in, ST(INVALID_ARGUMENT));

    put_machine(&in, 5);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_int_equal(r->machine->summary->nodes, 2);
    assert_int_equal(r->machine->n_nodes, 2);
    assert_int_equal(r->machine->nodes[0]->n_range_start_pfn, 1);
    assert_int_equal(r->machine->nodes[0]->range_start_pfn[0], 0);
    assert_int_equal(r->machine->nodes[0]->range_end_pfn[0], 32 * MIB / 4096);
    assert_int_equal(r->machine->nodes[1]->range_start_pfn[0], 32 * MIB / 4096);
    assert_int_equal(r->machine->nodes[1]->n_distance, 2);
    assert_int_equal(r->machine->nodes[1]->distance[0], 20);
    assert_int_equal(r->machine->nodes[1]->distance[1], 10);
    assert_int_equal(
        r->machine->nodes[0]->n_cpus + r->machine->nodes[1]->n_cpus, 2);
    assert_true(r->machine->n_zones >= 2);
    mmsim__v1__response__free_unpacked(r, NULL);

    put_check(&in, 6, true);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_true(r->check->ok);
    assert_null(r->check->problem);
    mmsim__v1__response__free_unpacked(r, NULL);
    put_check(&in, 7, false);
    r = call(s, &in, NULL);
    assert_true(r->check->ok);
    mmsim__v1__response__free_unpacked(r, NULL);

    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_metadata_only(void **state)
{
    struct fix *f = fix_new(false, NULL, NULL);
    struct mmsim_session *s = new_session(f, "meta");
    struct mmsim_buf in;
    uint64_t pfn;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    put_hello(&in, 1);
    r = call(s, &in, NULL);
    assert_false(r->hello->machine->contents);
    mmsim__v1__response__free_unpacked(r, NULL);
    pfn = alloc_pfn(s, 0);
    put_read(&in, 2, pfn, 0, 8);
    simple(s, &in, ST(NOT_SUPPORTED));
    put_write(&in, 3, pfn, 0, "x", 1);
    simple(s, &in, ST(NOT_SUPPORTED));
    put_free(&in, 4, pfn, 0);
    simple(s, &in, ST(OK));
    mmsim_buf_free(&in);
    mmsim_session_destroy(s);
    fix_free(f);
}

/* ---- pipelining and splits ----------------------------------------------- */

static void test_pipelining(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = new_session(f, "pipe");
    struct mmsim_buf in, out;
    struct resps *rs = calloc(1, sizeof(*rs));
    uint64_t id = 1000;

    (void)state;
    assert_non_null(rs);
    mmsim_buf_init(&in);
    mmsim_buf_init(&out);
    /* Hello and 127 more: exactly max_inflight in one feed. */
    put_hello(&in, id++);
    for (int i = 0; i < 127; i++) {
        if (i % 3 == 0)
            put_ping(&in, id++, &i, sizeof(i));
        else if (i % 3 == 1)
            put_alloc(&in, id++, 0, 0, -1);
        else
            put_view(&in, id++, MMSIM__V1__VIEW_KIND__BUDDYINFO);
    }
    assert_int_equal(mmsim_session_feed(s, in.data, in.len, &out),
                     MMSIM_FEED_CONTINUE);
    parse(&out, rs);
    assert_int_equal(rs->n, 128);
    for (size_t i = 0; i < rs->n; i++) {
        assert_int_equal(rs->r[i]->id, 1000 + i);
        expect_status(rs->r[i], ST(OK));
    }
    resps_free(rs);
    assert_int_equal(mmsim_session_pages(s), 42);

    mmsim_buf_free(&in);
    mmsim_buf_free(&out);
    free(rs);
    mmsim_session_destroy(s);
    fix_free(f);
}

/* One more request than max_inflight in one feed: the excess is refused. */
static void test_inflight(void **state)
{
    struct mmsim_rpc_limits lim;
    struct fix *f;
    struct mmsim_session *s;
    struct mmsim_buf in, out;
    struct resps rs;

    (void)state;
    mmsim_rpc_limits_default(&lim);
    lim.max_inflight = 4;
    f = fix_new(true, &lim, NULL);
    s = hello_session(f, "inflight");
    mmsim_buf_init(&in);
    mmsim_buf_init(&out);
    for (uint64_t i = 0; i < 6; i++)
        put_alloc(&in, 10 + i, 0, 0, -1);
    assert_int_equal(mmsim_session_feed(s, in.data, in.len, &out),
                     MMSIM_FEED_CONTINUE);
    parse(&out, &rs);
    assert_int_equal(rs.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(rs.r[i]->id, 10 + i);
        expect_status(rs.r[i], i < 4 ? ST(OK) : ST(QUOTA_EXCEEDED));
    }
    resps_free(&rs);
    assert_int_equal(mmsim_session_pages(s), 4);

    /* The same, one feed per request: all fine. */
    out.len = 0;
    for (size_t off = 0; off < in.len;) {
        size_t n = 4 + ((size_t)in.data[off + 2] << 8 | in.data[off + 3]);

        assert_int_equal(mmsim_session_feed(s, in.data + off, n, &out),
                         MMSIM_FEED_CONTINUE);
        off += n;
    }
    parse(&out, &rs);
    assert_int_equal(rs.n, 6);
    for (size_t i = 0; i < 6; i++)
        expect_status(rs.r[i], ST(OK));
    resps_free(&rs);

    mmsim_buf_free(&in);
    mmsim_buf_free(&out);
    mmsim_session_destroy(s);
    fix_free(f);
}

/* A conversation whose responses depend only on the machine's state. */
static void build_conversation(struct mmsim_buf *in)
{
    static const uint8_t hello_world[] = "hello, world";

    put_hello(in, 1);
    put_ping(in, 2, "abc", 3);
    put_alloc(in, 3, 1, 0, 0);
    put_alloc(in, 4, 0, 0, 1);
    /* A pfn the session does not own, for the errors. */
    put_read(in, 5, 99999, 0, 4);
    put_write(in, 6, 99999, 0, hello_world, sizeof(hello_world));
    put_noop(in, 7);
    put_view(in, 8, MMSIM__V1__VIEW_KIND__BUDDYINFO);
    put_check(in, 9, false);
    put_free(in, 10, 99999, 0);
}

/* Feed @in to a fresh engine in two pieces split at @split (or byte by
 * byte when @split is SIZE_MAX); return everything it wrote. */
static void run_split(const struct mmsim_buf *in, size_t split,
                      struct mmsim_buf *out)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = new_session(f, "split");

    if (split == SIZE_MAX) {
        for (size_t i = 0; i < in->len; i++)
            assert_int_equal(mmsim_session_feed(s, in->data + i, 1, out),
                             MMSIM_FEED_CONTINUE);
    } else {
        assert_int_equal(mmsim_session_feed(s, in->data, split, out),
                         MMSIM_FEED_CONTINUE);
        assert_int_equal(
            mmsim_session_feed(s, in->data + split, in->len - split, out),
            MMSIM_FEED_CONTINUE);
    }
    /* A feed of nothing is harmless. */
    assert_int_equal(mmsim_session_feed(s, NULL, 0, out), MMSIM_FEED_CONTINUE);
    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_every_split(void **state)
{
    struct mmsim_buf in, ref, out;
    struct resps rs;

    (void)state;
    mmsim_buf_init(&in);
    mmsim_buf_init(&ref);
    mmsim_buf_init(&out);
    build_conversation(&in);
    run_split(&in, in.len, &ref);
    parse(&ref, &rs);
    assert_int_equal(rs.n, 10);
    for (size_t i = 0; i < rs.n; i++)
        assert_int_equal(rs.r[i]->id, i + 1);
    expect_status(rs.r[4], ST(NOT_OWNER));
    expect_status(rs.r[6], ST(UNKNOWN_OPERATION));
    resps_free(&rs);

    for (size_t split = 0; split < in.len; split++) {
        out.len = 0;
        run_split(&in, split, &out);
        assert_int_equal(out.len, ref.len);
        assert_memory_equal(out.data, ref.data, ref.len);
    }
    out.len = 0;
    run_split(&in, SIZE_MAX, &out);
    assert_int_equal(out.len, ref.len);
    assert_memory_equal(out.data, ref.data, ref.len);

    mmsim_buf_free(&in);
    mmsim_buf_free(&ref);
    mmsim_buf_free(&out);
}

/* ---- hostile input ------------------------------------------------------- */

struct hostile {
    const char *name;
    bool hello;        /* say Hello first */
    const char *token; /* the server's token, if any */
    void (*build)(struct mmsim_buf *in, uint64_t owned_pfn);
    int responses; /* expected; 0 for none */
    Mmsim__V1__Status status;
    uint64_t id;      /* of the response */
    int feed;         /* MMSIM_FEED_* */
    const char *says; /* in the message, when not NULL */
};

static void h_garbage(struct mmsim_buf *in, uint64_t pfn)
{
    /* A frame of bytes that are no protobuf: field 0, bad wire type. */
    static const uint8_t g[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0x07, 0};

    (void)pfn;
    put_raw(in, g, sizeof(g));
}

static void h_http(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_raw(in, "GET / HTTP/1.1\r\n\r\n", 18);
}

static void h_truncated(struct mmsim_buf *in, uint64_t pfn)
{
    /* The header promises 100 bytes; 10 come, then the peer vanishes. */
    static const uint8_t t[] = {0, 0, 0, 100, 8, 1, 0x1a, 0, 0, 0, 0, 0, 0, 0};

    (void)pfn;
    put_raw(in, t, sizeof(t));
}

static void h_huge(struct mmsim_buf *in, uint64_t pfn)
{
    static const uint8_t h[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};

    (void)pfn;
    put_raw(in, h, sizeof(h));
}

static void h_truncated_varint(struct mmsim_buf *in, uint64_t pfn)
{
    /* id = a varint that never ends inside the frame. */
    static const uint8_t v[] = {0, 0, 0, 3, 0x08, 0x80, 0x80};

    (void)pfn;
    put_raw(in, v, sizeof(v));
}

static void h_submsg_overrun(struct mmsim_buf *in, uint64_t pfn)
{
    /* alloc (field 4) claims 50 bytes; 2 follow. */
    static const uint8_t v[] = {0, 0, 0, 4, 0x22, 50, 0x08, 0x01};

    (void)pfn;
    put_raw(in, v, sizeof(v));
}

static void h_unknown_op(struct mmsim_buf *in, uint64_t pfn)
{
    /* id 5 and an unknown field 99 (varint): no operation this server
     * knows. */
    static const uint8_t u[] = {0, 0, 0, 5, 0x08, 5, 0x98, 0x06, 1};

    (void)pfn;
    put_raw(in, u, sizeof(u));
}

static void h_noop(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_noop(in, 5);
}

static void h_empty_frame(struct mmsim_buf *in, uint64_t pfn)
{
    static const uint8_t e[] = {0, 0, 0, 0};

    (void)pfn;
    put_raw(in, e, sizeof(e));
}

static void h_ping(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_ping(in, 5, "x", 1);
}

static void h_alloc(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 0, 0, -1);
}

static void h_hello_wrong_token(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello_v(in, 5, 1, "letmeinX");
}

static void h_hello_short_token(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello_v(in, 5, 1, "letme");
}

static void h_hello_no_token(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello_v(in, 5, 1, NULL);
}

static void h_hello_right_token(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello_v(in, 5, 1, "letmein!");
}

static void h_hello_v2(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello_v(in, 5, 2, NULL);
}

static void h_hello_v0(struct mmsim_buf *in, uint64_t pfn)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;

    (void)pfn;
    r.has_id = 1;
    r.id = 5;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    put_req(in, &r);
}

static void h_order99(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 99, 0, -1);
}

static void h_order_huge(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, UINT32_MAX, 0, -1);
}

static void h_node99(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 0, 0, 99);
}

static void h_node_negative(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 0, 0, INT32_MIN);
}

static void h_gfp_bad(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 0, 0x80000000u, -1);
}

static void h_gfp_zones(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc(in, 5, 0, 0x01u | 0x04u, -1); /* DMA | DMA32 */
}

static void h_batch_large(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_alloc_batch(in, 5, 1025, NULL);
}

static void h_free_batch_large(struct mmsim_buf *in, uint64_t pfn)
{
    uint64_t pfns[1025] = {0};
    uint32_t orders[1025] = {0};

    pfns[0] = pfn;
    put_free_batch(in, 5, 1025, pfns, orders);
}

static void h_offset_past(struct mmsim_buf *in, uint64_t pfn)
{
    put_read(in, 5, pfn, 4096, 1);
}

static void h_length_past(struct mmsim_buf *in, uint64_t pfn)
{
    put_read(in, 5, pfn, 1, 4096);
}

static void h_length_huge(struct mmsim_buf *in, uint64_t pfn)
{
    put_read(in, 5, pfn, UINT32_MAX, UINT32_MAX);
}

static void h_write_past(struct mmsim_buf *in, uint64_t pfn)
{
    static uint8_t big[4097];

    put_write(in, 5, pfn, 0, big, sizeof(big));
}

static void h_second_hello(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_hello(in, 5);
}

static void h_view_kind(struct mmsim_buf *in, uint64_t pfn)
{
    (void)pfn;
    put_view(in, 5, -3);
}

static void h_free_not_mine(struct mmsim_buf *in, uint64_t pfn)
{
    put_free(in, 5, pfn + 1, 0); /* the block is order 0 */
}

/*
 * Twenty-fold expansion: a batch of 30000 empty AllocPages is 60 KB on
 * the wire, within the 64 KiB frame limit, and far more than the
 * 320 KiB budget once decoded.
 */
static void h_budget(struct mmsim_buf *in, uint64_t pfn)
{
    size_t n = 30000, body = 2 * n;
    uint8_t hdr[16];
    size_t h = 0;

    (void)pfn;
    /* Request { alloc_batch (field 6) = { allocs (field 1) x n } } */
    hdr[h++] = 0x32;
    for (size_t v = body;; v >>= 7) {
        hdr[h++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    assert_int_equal(mmsim_frame_put_header(in, (uint32_t)(h + body)), 0);
    put_raw(in, hdr, h);
    for (size_t i = 0; i < n; i++)
        put_raw(in, "\x0a\x00", 2);
}

static const struct hostile hostile_table[] = {
    {"garbage", true, NULL, h_garbage, 1, ST(MALFORMED), 0, MMSIM_FEED_CLOSE,
     "not a valid"},
    {"garbage before hello", false, NULL, h_garbage, 1, ST(MALFORMED), 0,
     MMSIM_FEED_CLOSE, NULL},
    {"http", false, NULL, h_http, 1, ST(FRAME_TOO_LARGE), 0, MMSIM_FEED_CLOSE,
     NULL},
    {"truncated frame", true, NULL, h_truncated, 0, ST(OK), 0,
     MMSIM_FEED_CONTINUE, NULL},
    {"huge length", true, NULL, h_huge, 1, ST(FRAME_TOO_LARGE), 0,
     MMSIM_FEED_CLOSE, "4294967295 bytes exceeds max_frame_bytes (65536)"},
    {"truncated varint", true, NULL, h_truncated_varint, 1, ST(MALFORMED), 0,
     MMSIM_FEED_CLOSE, NULL},
    {"submessage overrun", true, NULL, h_submsg_overrun, 1, ST(MALFORMED), 0,
     MMSIM_FEED_CLOSE, NULL},
    {"decode budget", true, NULL, h_budget, 1, ST(MALFORMED), 0,
     MMSIM_FEED_CLOSE, "decode_budget_bytes"},
    {"unknown op", true, NULL, h_unknown_op, 1, ST(UNKNOWN_OPERATION), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"no op", true, NULL, h_noop, 1, ST(UNKNOWN_OPERATION), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"empty frame", true, NULL, h_empty_frame, 1, ST(UNKNOWN_OPERATION), 0,
     MMSIM_FEED_CONTINUE, NULL},
    {"no op before hello", false, NULL, h_noop, 1, ST(UNAUTHENTICATED), 5,
     MMSIM_FEED_CLOSE, NULL},
    {"ping before hello", false, NULL, h_ping, 1, ST(UNAUTHENTICATED), 5,
     MMSIM_FEED_CLOSE, "Ping before Hello"},
    {"alloc before hello", false, NULL, h_alloc, 1, ST(UNAUTHENTICATED), 5,
     MMSIM_FEED_CLOSE, NULL},
    {"wrong token", false, "letmein!", h_hello_wrong_token, 1,
     ST(UNAUTHENTICATED), 5, MMSIM_FEED_CLOSE, "wrong token"},
    {"short token", false, "letmein!", h_hello_short_token, 1,
     ST(UNAUTHENTICATED), 5, MMSIM_FEED_CLOSE, NULL},
    {"missing token", false, "letmein!", h_hello_no_token, 1,
     ST(UNAUTHENTICATED), 5, MMSIM_FEED_CLOSE, "missing token"},
    {"right token", false, "letmein!", h_hello_right_token, 1, ST(OK), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"bad version", false, NULL, h_hello_v2, 1, ST(BAD_VERSION), 5,
     MMSIM_FEED_CLOSE, "version 2"},
    {"no version", false, NULL, h_hello_v0, 1, ST(BAD_VERSION), 5,
     MMSIM_FEED_CLOSE, NULL},
    {"second hello", true, NULL, h_second_hello, 1, ST(INVALID_ARGUMENT), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"order 99", true, NULL, h_order99, 1, ST(OUT_OF_RANGE), 5,
     MMSIM_FEED_CONTINUE, "max_order 10"},
    {"order 2^32-1", true, NULL, h_order_huge, 1, ST(OUT_OF_RANGE), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"node 99", true, NULL, h_node99, 1, ST(NO_SUCH_NODE), 5,
     MMSIM_FEED_CONTINUE, "node 99 does not exist"},
    {"node INT32_MIN", true, NULL, h_node_negative, 1, ST(NO_SUCH_NODE), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"unknown gfp bit", true, NULL, h_gfp_bad, 1, ST(INVALID_ARGUMENT), 5,
     MMSIM_FEED_CONTINUE, "invalid argument"},
    {"two zone modifiers", true, NULL, h_gfp_zones, 1, ST(INVALID_ARGUMENT), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"batch too large", true, NULL, h_batch_large, 1, ST(BATCH_TOO_LARGE), 5,
     MMSIM_FEED_CONTINUE, "1025 entries"},
    {"free batch too large", true, NULL, h_free_batch_large, 1,
     ST(BATCH_TOO_LARGE), 5, MMSIM_FEED_CONTINUE, NULL},
    {"offset past page", true, NULL, h_offset_past, 1, ST(OUT_OF_RANGE), 5,
     MMSIM_FEED_CONTINUE, "offset 4096"},
    {"length past page", true, NULL, h_length_past, 1, ST(OUT_OF_RANGE), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"offset and length 2^32-1", true, NULL, h_length_huge, 1, ST(OUT_OF_RANGE),
     5, MMSIM_FEED_CONTINUE, NULL},
    {"write past page", true, NULL, h_write_past, 1, ST(OUT_OF_RANGE), 5,
     MMSIM_FEED_CONTINUE, NULL},
    {"view kind -3", true, NULL, h_view_kind, 1, ST(INVALID_ARGUMENT), 5,
     MMSIM_FEED_CONTINUE, "view kind -3"},
    {"free a page nobody owns", true, NULL, h_free_not_mine, 1, ST(NOT_OWNER),
     5, MMSIM_FEED_CONTINUE, NULL},
};

static void test_hostile(void **state)
{
    struct mmsim_rpc_limits lim;

    (void)state;
    mmsim_rpc_limits_default(&lim);
    lim.max_frame_bytes = 64 << 10;
    lim.decode_budget_bytes = 0; /* derived: 4 * 64 KiB + 64 KiB */
    for (size_t i = 0; i < sizeof(hostile_table) / sizeof(hostile_table[0]);
         i++) {
        const struct hostile *h = &hostile_table[i];
        struct fix *f = fix_new(true, &lim, h->token);
        /* A bystander with a written page, to show no harm is done. */
        struct mmsim_session *by = hello_session(f, "bystander");
        uint64_t by_pfn = alloc_pfn(by, 0);
        struct mmsim_session *s;
        struct mmsim_buf in, out;
        struct resps rs;
        uint64_t pfn = 0;
        int rc;
        Resp *r;

        print_message("hostile: %s\n", h->name);
        mmsim_buf_init(&in);
        mmsim_buf_init(&out);
        put_write(&in, 1, by_pfn, 0, "mine", 4);
        simple(by, &in, ST(OK));

        s = h->hello ? hello_session(f, "hostile") : new_session(f, "hostile");
        if (h->hello)
            pfn = alloc_pfn(s, 0);
        h->build(&in, pfn);
        rc = mmsim_session_feed(s, in.data, in.len, &out);
        if (rc != h->feed)
            fail_msg("%s: feed returned %d", h->name, rc);
        parse(&out, &rs);
        if (rs.n != (size_t)h->responses)
            fail_msg("%s: %zu responses", h->name, rs.n);
        if (rs.n) {
            if (rs.r[0]->status != h->status)
                fail_msg("%s: status %d (%s)", h->name, (int)rs.r[0]->status,
                         rs.r[0]->message ? rs.r[0]->message : "");
            assert_int_equal(rs.r[0]->id, h->id);
            if (h->status != ST(OK))
                assert_true(rs.r[0]->message && rs.r[0]->message[0]);
            if (h->says && !strstr(rs.r[0]->message, h->says))
                fail_msg("%s: message \"%s\" lacks \"%s\"", h->name,
                         rs.r[0]->message, h->says);
        }
        if (h->status == ST(BAD_VERSION)) {
            assert_int_equal(rs.r[0]->result_case,
                             MMSIM__V1__RESPONSE__RESULT_HELLO);
            assert_int_equal(rs.r[0]->hello->protocol_version, 1);
        }
        resps_free(&rs);
        if (rc == MMSIM_FEED_CLOSE) {
            /* Closed stays closed and says nothing more. */
            out.len = 0;
            in.len = 0;
            put_ping(&in, 9, NULL, 0);
            assert_int_equal(mmsim_session_feed(s, in.data, in.len, &out),
                             MMSIM_FEED_CLOSE);
            assert_int_equal(out.len, 0);
        }
        mmsim_session_destroy(s);

        /* The bystander's page is intact; new sessions work. */
        in.len = 0;
        put_read(&in, 2, by_pfn, 0, 4);
        r = call(by, &in, NULL);
        expect_status(r, ST(OK));
        assert_memory_equal(r->read->data.data, "mine", 4);
        mmsim__v1__response__free_unpacked(r, NULL);
        assert_healthy(f);
        mmsim_session_destroy(by);
        mmsim_buf_free(&in);
        mmsim_buf_free(&out);
        fix_free(f);
    }
}

static void test_auth_logged(void **state)
{
    struct fix *f = fix_new(true, NULL, "s3cret");
    struct mmsim_session *s = new_session(f, "192.0.2.7:999");
    struct mmsim_buf in;
    int rc;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    put_hello_v(&in, 1, 1, "guess");
    r = call(s, &in, &rc);
    assert_int_equal(rc, MMSIM_FEED_CLOSE);
    expect_status(r, ST(UNAUTHENTICATED));
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_true(logged(&f->log, "<4>session 1 (192.0.2.7:999): "
                                "authentication failed (wrong token)"));
    mmsim_session_destroy(s);
    mmsim_buf_free(&in);
    fix_free(f);
}

/* ---- shutdown ------------------------------------------------------------ */

static void test_shutdown(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "old"), *n;
    struct mmsim_buf in;
    int rc;
    Resp *r;

    (void)state;
    mmsim_buf_init(&in);
    alloc_pfn(s, 0);
    mmsim_rpc_shutdown(f->rpc);
    put_ping(&in, 1, NULL, 0);
    simple(s, &in, ST(OK));
    put_alloc(&in, 2, 0, 0, -1);
    simple(s, &in, ST(SHUTTING_DOWN));
    put_view(&in, 3, 0);
    simple(s, &in, ST(SHUTTING_DOWN));
    /* New connections cannot start. */
    n = new_session(f, "new");
    put_hello(&in, 4);
    r = call(n, &in, &rc);
    expect_status(r, ST(SHUTTING_DOWN));
    assert_int_equal(rc, MMSIM_FEED_CLOSE);
    mmsim__v1__response__free_unpacked(r, NULL);
    mmsim_session_destroy(n);
    /* Teardown still frees. */
    mmsim_session_destroy(s);
    mmsim_buf_free(&in);
    fix_free(f);
}

/* ---- threads ------------------------------------------------------------- */

#define NTHREADS 4
#define NITER    2000

struct worker {
    struct fix *f;
    int idx;
    int failures;
};

static bool w_feed(struct mmsim_session *s, struct mmsim_buf *in,
                   struct mmsim_buf *out, Resp **r)
{
    size_t len;
    uint32_t n;

    out->len = 0;
    if (mmsim_session_feed(s, in->data, in->len, out) != MMSIM_FEED_CONTINUE)
        return false;
    in->len = 0;
    if (out->len < 4)
        return false;
    n = (uint32_t)out->data[0] << 24 | (uint32_t)out->data[1] << 16 |
        (uint32_t)out->data[2] << 8 | out->data[3];
    len = out->len - 4;
    if (len != n)
        return false;
    *r = mmsim__v1__response__unpack(NULL, n, out->data + 4);
    return *r != NULL;
}

/* No cmocka asserts off the main thread: count failures instead. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mmsim_session *s;
    struct mmsim_buf in, out;
    uint64_t pfns[8] = {0};
    uint32_t orders[8] = {0};
    uint32_t stamp[8] = {0};
    unsigned seed = (unsigned)w->idx * 7919u + 1;
    Resp *r;

    if (mmsim_session_create(w->f->rpc, w->idx % 2, "thread", &s)) {
        w->failures++;
        return NULL;
    }
    mmsim_buf_init(&in);
    mmsim_buf_init(&out);
    put_hello(&in, 1);
    if (!w_feed(s, &in, &out, &r) || r->status != ST(OK))
        w->failures++;
    else
        mmsim__v1__response__free_unpacked(r, NULL);
    for (int it = 0; it < NITER && !w->failures; it++) {
        unsigned slot;
        uint32_t v;

        seed = seed * 1103515245u + 12345u;
        slot = (seed >> 16) % 8;
        if (!pfns[slot]) {
            bool ok;
            uint64_t pfn;

            orders[slot] = (seed >> 8) % 4;
            put_alloc(&in, 2, orders[slot], 0, -1);
            if (!w_feed(s, &in, &out, &r)) {
                w->failures++;
                break;
            }
            ok = r->status == ST(OK);
            pfn = ok ? r->alloc->pfn : 0;
            mmsim__v1__response__free_unpacked(r, NULL);
            if (!ok) {
                w->failures++;
                break;
            }
            pfns[slot] = pfn;
            stamp[slot] = (uint32_t)(w->idx << 24 | it);
            put_write(&in, 3, pfn + (1u << orders[slot]) - 1, 8, &stamp[slot],
                      4);
            if (!w_feed(s, &in, &out, &r)) {
                w->failures++;
                break;
            }
            if (r->status != ST(OK))
                w->failures++;
            mmsim__v1__response__free_unpacked(r, NULL);
            continue;
        }
        /* Our stamp is still there, then free. */
        put_read(&in, 4, pfns[slot] + (1u << orders[slot]) - 1, 8, 4);
        if (!w_feed(s, &in, &out, &r) || r->status != ST(OK)) {
            w->failures++;
            break;
        }
        memcpy(&v, r->read->data.data, 4);
        if (v != stamp[slot])
            w->failures++;
        mmsim__v1__response__free_unpacked(r, NULL);
        put_free(&in, 5, pfns[slot], orders[slot]);
        if (!w_feed(s, &in, &out, &r) || r->status != ST(OK))
            w->failures++;
        else
            mmsim__v1__response__free_unpacked(r, NULL);
        pfns[slot] = 0;
        if (it % 50 == 0) {
            put_view(&in, 6, it % 3);
            if (!w_feed(s, &in, &out, &r) || r->status != ST(OK))
                w->failures++;
            else
                mmsim__v1__response__free_unpacked(r, NULL);
        }
    }
    mmsim_buf_free(&in);
    mmsim_buf_free(&out);
    /* Whatever is left goes with the session. */
    mmsim_session_destroy(s);
    return NULL;
}

static void test_threads(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    uint64_t before = total_free(f->m);
    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];

    (void)state;
    for (int i = 0; i < NTHREADS; i++) {
        w[i].f = f;
        w[i].idx = i;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    /* Everything went back (some of it to per-cpu lists). */
    assert_int_equal(total_free(f->m), before);
    fix_free(f);
}

/* ---- virtual memory: address spaces, vmalloc areas, reclaim, OOM -------- */

/* One request of any kind, with id @id, answered with exactly one
 * response. */
static Resp *vm_call(struct mmsim_session *s, Req *r, uint64_t id)
{
    struct mmsim_buf in;
    Resp *resp;

    mmsim_buf_init(&in);
    r->has_id = 1;
    r->id = id;
    put_req(&in, r);
    resp = call(s, &in, NULL);
    mmsim_buf_free(&in);
    assert_int_equal(resp->id, id);
    return resp;
}

static Resp *do_mmap(struct mmsim_session *s, uint64_t nr_pages, int32_t node,
                     Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Mmap mp = MMSIM__V1__MMAP__INIT;
    Resp *resp;

    mp.has_nr_pages = mp.has_node = 1;
    mp.nr_pages = nr_pages;
    mp.node = node;
    r.op_case = MMSIM__V1__REQUEST__OP_MMAP;
    r.mmap = &mp;
    resp = vm_call(s, &r, 30);
    expect_status(resp, st);
    return resp;
}

static uint64_t mmap_addr(struct mmsim_session *s, uint64_t nr_pages)
{
    Resp *r = do_mmap(s, nr_pages, -1, ST(OK));
    uint64_t addr;

    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_MMAP);
    assert_int_equal(r->mmap->nr_pages, nr_pages);
    addr = r->mmap->addr;
    assert_int_equal(addr % 4096, 0);
    mmsim__v1__response__free_unpacked(r, NULL);
    return addr;
}

static void do_munmap(struct mmsim_session *s, uint64_t addr, uint64_t nr,
                      Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Munmap mu = MMSIM__V1__MUNMAP__INIT;
    Resp *resp;

    mu.has_addr = mu.has_nr_pages = 1;
    mu.addr = addr;
    mu.nr_pages = nr;
    r.op_case = MMSIM__V1__REQUEST__OP_MUNMAP;
    r.munmap = &mu;
    resp = vm_call(s, &r, 31);
    expect_status(resp, st);
    mmsim__v1__response__free_unpacked(resp, NULL);
}

/* MemRead (@virt false) or VRead; the response, status checked. */
static Resp *do_read(struct mmsim_session *s, bool virt, uint64_t addr,
                     uint32_t len, Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemRead mr = MMSIM__V1__MEM_READ__INIT;
    Mmsim__V1__VRead vr = MMSIM__V1__VREAD__INIT;
    Resp *resp;

    if (virt) {
        vr.has_addr = vr.has_length = 1;
        vr.addr = addr;
        vr.length = len;
        r.op_case = MMSIM__V1__REQUEST__OP_VREAD;
        r.vread = &vr;
    } else {
        mr.has_addr = mr.has_length = 1;
        mr.addr = addr;
        mr.length = len;
        r.op_case = MMSIM__V1__REQUEST__OP_MEM_READ;
        r.mem_read = &mr;
    }
    resp = vm_call(s, &r, 32);
    expect_status(resp, st);
    if (st == ST(OK)) {
        assert_int_equal(resp->result_case, MMSIM__V1__RESPONSE__RESULT_READ);
        assert_int_equal(resp->read->data.len, len);
    }
    return resp;
}

/* Read and compare with @want. */
static void read_expect(struct mmsim_session *s, bool virt, uint64_t addr,
                        const void *want, uint32_t len)
{
    Resp *r = do_read(s, virt, addr, len, ST(OK));

    assert_memory_equal(r->read->data.data, want, len);
    mmsim__v1__response__free_unpacked(r, NULL);
}

static void read_status(struct mmsim_session *s, bool virt, uint64_t addr,
                        uint32_t len, Mmsim__V1__Status st)
{
    mmsim__v1__response__free_unpacked(do_read(s, virt, addr, len, st), NULL);
}

/* MemWrite or VWrite. */
static void do_write(struct mmsim_session *s, bool virt, uint64_t addr,
                     const void *data, size_t len, Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemWrite mw = MMSIM__V1__MEM_WRITE__INIT;
    Mmsim__V1__VWrite vw = MMSIM__V1__VWRITE__INIT;
    Resp *resp;

    if (virt) {
        vw.has_addr = vw.has_data = 1;
        vw.addr = addr;
        vw.data.data = (uint8_t *)data;
        vw.data.len = len;
        r.op_case = MMSIM__V1__REQUEST__OP_VWRITE;
        r.vwrite = &vw;
    } else {
        mw.has_addr = mw.has_data = 1;
        mw.addr = addr;
        mw.data.data = (uint8_t *)data;
        mw.data.len = len;
        r.op_case = MMSIM__V1__REQUEST__OP_MEM_WRITE;
        r.mem_write = &mw;
    }
    resp = vm_call(s, &r, 33);
    expect_status(resp, st);
    mmsim__v1__response__free_unpacked(resp, NULL);
}

static Resp *do_vmalloc(struct mmsim_session *s, uint64_t size, int32_t node,
                        Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vmalloc v = MMSIM__V1__VMALLOC__INIT;
    Resp *resp;

    v.has_size = v.has_node = 1;
    v.size = size;
    v.node = node;
    r.op_case = MMSIM__V1__REQUEST__OP_VMALLOC;
    r.vmalloc = &v;
    resp = vm_call(s, &r, 34);
    expect_status(resp, st);
    return resp;
}

static uint64_t vmalloc_addr(struct mmsim_session *s, uint64_t size)
{
    Resp *r = do_vmalloc(s, size, -1, ST(OK));
    uint64_t addr;

    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_VMALLOC);
    assert_int_equal(r->vmalloc->size, (size + 4095) / 4096 * 4096);
    addr = r->vmalloc->addr;
    assert_true(addr >= MMSIM_VMALLOC_START && addr < MMSIM_VMALLOC_END);
    mmsim__v1__response__free_unpacked(r, NULL);
    return addr;
}

static void do_vfree(struct mmsim_session *s, uint64_t addr,
                     Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vfree v = MMSIM__V1__VFREE__INIT;
    Resp *resp;

    v.has_addr = 1;
    v.addr = addr;
    r.op_case = MMSIM__V1__REQUEST__OP_VFREE;
    r.vfree = &v;
    resp = vm_call(s, &r, 35);
    expect_status(resp, st);
    mmsim__v1__response__free_unpacked(resp, NULL);
}

/* GetMmStat; free with mmsim__v1__response__free_unpacked(). */
static Resp *mm_stat(struct mmsim_session *s)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMmStat g = MMSIM__V1__GET_MM_STAT__INIT;
    Resp *resp;

    r.op_case = MMSIM__V1__REQUEST__OP_MM_STAT;
    r.mm_stat = &g;
    resp = vm_call(s, &r, 36);
    expect_status(resp, ST(OK));
    assert_int_equal(resp->result_case, MMSIM__V1__RESPONSE__RESULT_MM_STAT);
    assert_int_equal(resp->mm_stat->owner, mmsim_session_id(s));
    return resp;
}

static Resp *do_reclaim(struct mmsim_session *s, int32_t node, bool has_steps,
                        uint32_t steps, bool balance, Mmsim__V1__Status st)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Reclaim rc = MMSIM__V1__RECLAIM__INIT;
    Resp *resp;

    rc.has_node = 1;
    rc.node = node;
    rc.has_steps = has_steps;
    rc.steps = steps;
    rc.has_balance = 1;
    rc.balance = balance;
    r.op_case = MMSIM__V1__REQUEST__OP_RECLAIM;
    r.reclaim = &rc;
    resp = vm_call(s, &r, 37);
    expect_status(resp, st);
    return resp;
}

static void view_has(struct mmsim_session *s, int kind, const char *needle,
                     bool present)
{
    struct mmsim_buf in;
    Resp *r;

    mmsim_buf_init(&in);
    put_view(&in, 38, kind);
    r = call(s, &in, NULL);
    expect_status(r, ST(OK));
    assert_non_null(r->view->text);
    if (!!strstr(r->view->text, needle) != present)
        fail_msg("view %d %s \"%s\":\n%s", kind, present ? "lacks" : "has",
                 needle, r->view->text);
    mmsim__v1__response__free_unpacked(r, NULL);
    mmsim_buf_free(&in);
}

static void test_vm_round_trip(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    uint64_t before = total_free(f->m);
    struct mmsim_session *s = hello_session(f, "vm");
    uint8_t pattern[3 * 4096], zero[4096] = {0};
    uint64_t addr, area;
    Resp *r;

    (void)state;
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 31 + 7);

    /* No address space yet: stat says nothing is mapped. */
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->total_vm, 0);
    assert_int_equal(r->mm_stat->nr_regions, 0);
    mmsim__v1__response__free_unpacked(r, NULL);

    addr = mmap_addr(s, 16);
    /* Never touched: zeros, and no page yet. */
    read_expect(s, false, addr + 5 * 4096, zero, 4096);
    /* Written across three pages and read back at an odd offset. */
    do_write(s, false, addr + 100, pattern, sizeof(pattern), ST(OK));
    read_expect(s, false, addr + 100, pattern, sizeof(pattern));
    read_expect(s, false, addr + 100 + 4000, pattern + 4000, 300);
    /* Empty reads and writes are fine. */
    read_status(s, false, addr, 0, ST(OK));
    do_write(s, false, addr, NULL, 0, ST(OK));

    r = mm_stat(s);
    assert_int_equal(r->mm_stat->total_vm, 16);
    assert_int_equal(r->mm_stat->nr_regions, 1);
    /* Pages 0..3 written, page 5 read: five resident, five faults. */
    assert_int_equal(r->mm_stat->rss, 5);
    assert_int_equal(r->mm_stat->minflt, 5);
    assert_false(r->mm_stat->oom_killed);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(total_free(f->m), before - 5);

    /* A vmalloc area next to it; vread/vwrite inside the area. */
    area = vmalloc_addr(s, 2 * 4096 + 1);
    read_expect(s, true, area, zero, 4096);
    do_write(s, true, area + 4000, pattern, 5000, ST(OK));
    read_expect(s, true, area + 4000, pattern, 5000);
    view_has(s, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "pages=3 vmalloc", true);
    /* The views never name the owner. */
    view_has(s, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "session", false);
    view_has(s, MMSIM__V1__VIEW_KIND__MEMINFO, "MemFree:", true);
    view_has(s, MMSIM__V1__VIEW_KIND__SWAPS, "Filename", true);
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->vmalloc_areas, 1);
    assert_int_equal(r->mm_stat->vmalloc_pages, 3);
    /* The OOM badness sees the vmalloc pages too. */
    assert_int_equal(r->mm_stat->extra, 3);
    mmsim__v1__response__free_unpacked(r, NULL);

    /* Reclaim on this machine without swap: runs, keeps everything. */
    r = do_reclaim(s, -1, true, 3, false, ST(OK));
    assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_RECLAIM);
    assert_true(r->reclaim->has_scanned);
    assert_int_equal(r->reclaim->reclaimed, 0);
    mmsim__v1__response__free_unpacked(r, NULL);
    r = do_reclaim(s, 0, false, 0, true, ST(OK));
    assert_false(r->reclaim->has_scanned);
    assert_true(r->reclaim->has_balanced);
    mmsim__v1__response__free_unpacked(r, NULL);
    read_expect(s, false, addr + 100, pattern, sizeof(pattern));

    /* Unmapping the middle splits the region; the rest stays readable. */
    do_munmap(s, addr + 4096, 1, ST(OK));
    read_status(s, false, addr + 4096, 1, ST(BAD_ADDRESS));
    read_expect(s, false, addr + 2 * 4096, pattern + 2 * 4096 - 100, 100);
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->total_vm, 15);
    assert_int_equal(r->mm_stat->nr_regions, 2);
    mmsim__v1__response__free_unpacked(r, NULL);
    /* Unmapping everything, holes included, is fine; twice too. */
    do_munmap(s, addr, 16, ST(OK));
    do_munmap(s, addr, 16, ST(OK));
    read_status(s, false, addr + 100, 1, ST(BAD_ADDRESS));

    do_vfree(s, area, ST(OK));
    do_vfree(s, area, ST(NOT_OWNER));
    read_status(s, true, area, 1, ST(NOT_OWNER));
    view_has(s, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "pages=3", false);
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->total_vm, 0);
    assert_int_equal(r->mm_stat->rss, 0);
    assert_int_equal(r->mm_stat->vmalloc_areas, 0);
    assert_int_equal(r->mm_stat->extra, 0);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(total_free(f->m), before);
    assert_consistent(f->m);

    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_vm_isolation(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *a = hello_session(f, "A"), *b = hello_session(f, "B");
    uint8_t zero[64] = {0};
    uint64_t aa, ab, va, vb;

    (void)state;
    /* Address spaces: the same address in two sessions is two pages. */
    aa = mmap_addr(a, 4);
    ab = mmap_addr(b, 4);
    do_write(a, false, aa, "secret of A", 11, ST(OK));
    if (ab == aa)
        read_expect(b, false, ab, zero, 11);
    else
        read_status(b, false, aa, 11, ST(BAD_ADDRESS));
    do_write(b, false, ab, "B was here", 10, ST(OK));
    read_expect(a, false, aa, "secret of A", 11);
    /* B's munmap of A's range touches B's address space only. */
    do_munmap(b, aa, 4, ST(OK));
    read_expect(a, false, aa, "secret of A", 11);

    /* vmalloc areas: another session's area is NOT_OWNER, whatever the
     * operation and wherever in the area; so is an address in none. */
    va = vmalloc_addr(a, 8192);
    vb = vmalloc_addr(b, 4096);
    do_write(a, true, va + 4096, "area of A", 9, ST(OK));
    read_status(b, true, va + 4096, 9, ST(NOT_OWNER));
    read_status(b, true, va, 0, ST(NOT_OWNER));
    do_write(b, true, va + 4096, "XXXXXXXXX", 9, ST(NOT_OWNER));
    do_vfree(b, va, ST(NOT_OWNER));
    do_vfree(b, va + 4096, ST(NOT_OWNER));
    read_status(b, true, MMSIM_VMALLOC_START - 4096, 1, ST(NOT_OWNER));
    read_status(b, true, UINT64_MAX, 1, ST(NOT_OWNER));
    read_status(a, true, vb, 1, ST(NOT_OWNER));
    read_expect(a, true, va + 4096, "area of A", 9);

    /* B going away takes B's area and address space, nothing of A's. */
    mmsim_session_destroy(b);
    read_expect(a, true, va + 4096, "area of A", 9);
    read_expect(a, false, aa, "secret of A", 11);
    view_has(a, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "pages=1 ", false);
    view_has(a, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "pages=2 ", true);
    assert_consistent(f->m);
    mmsim_session_destroy(a);
    fix_free(f);
}

static void test_vm_teardown(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    uint64_t before = total_free(f->m);
    struct mmsim_session *s = hello_session(f, "10.0.0.7:77");
    uint8_t page[4096];
    uint64_t addr;
    Resp *r;

    (void)state;
    memset(page, 0x5a, sizeof(page));
    /* Blocks, two mappings with touched pages, three vmalloc areas. */
    (void)alloc_pfn(s, 3);
    addr = mmap_addr(s, 100);
    for (unsigned i = 0; i < 40; i++)
        do_write(s, false, addr + i * 4096, page, sizeof(page), ST(OK));
    (void)mmap_addr(s, 1);
    for (unsigned i = 0; i < 3; i++)
        (void)vmalloc_addr(s, 4096 * (i + 1));
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->rss, 40);
    assert_int_equal(r->mm_stat->block_pages, 8);
    assert_int_equal(r->mm_stat->vmalloc_pages, 6);
    /* Blocks held before the first Mmap were counted at its creation. */
    assert_int_equal(r->mm_stat->extra, 8 + 6);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_int_equal(total_free(f->m), before - 40 - 8 - 6);
    assert_consistent(f->m);

    mmsim_session_destroy(s);
    assert_int_equal(total_free(f->m), before);
    assert_consistent(f->m);
    assert_true(logged(&f->log, "(10.0.0.7:77): closed, freed 8 pages in 1 "
                                "blocks, 3 vmalloc areas (6 pages), an "
                                "address space of 101 pages (40 resident"));
    /* Nothing of it is left in the views either. */
    s = hello_session(f, "after");
    view_has(s, MMSIM__V1__VIEW_KIND__VMALLOCINFO, "vmalloc", false);
    mmsim_session_destroy(s);
    fix_free(f);
}

static void test_vm_bad_inputs(void **state)
{
    struct fix *f = fix_new(true, NULL, NULL);
    struct mmsim_session *s = hello_session(f, "bad");
    uint8_t big[1 << 12];
    uint64_t addr, area;
    Resp *r;

    (void)state;
    memset(big, 1, sizeof(big));
    /* Before any Mmap: reads and writes fault, munmap does nothing. */
    read_status(s, false, 0x10000, 8, ST(BAD_ADDRESS));
    do_write(s, false, 0x10000, "x", 1, ST(BAD_ADDRESS));
    do_munmap(s, 0x10000, 1, ST(OK));

    /* Mmap: sizes and nodes. */
    mmsim__v1__response__free_unpacked(do_mmap(s, 0, -1, ST(INVALID_ARGUMENT)),
                                       NULL);
    mmsim__v1__response__free_unpacked(
        do_mmap(s, MMSIM_MMAP_MAX_PAGES + 1, -1, ST(INVALID_ARGUMENT)), NULL);
    mmsim__v1__response__free_unpacked(
        do_mmap(s, UINT64_MAX, -1, ST(INVALID_ARGUMENT)), NULL);
    mmsim__v1__response__free_unpacked(do_mmap(s, 1, 2, ST(NO_SUCH_NODE)),
                                       NULL);
    mmsim__v1__response__free_unpacked(
        do_mmap(s, 1, INT32_MIN, ST(NO_SUCH_NODE)), NULL);
    addr = mmap_addr(s, 4);

    /* Munmap: unaligned, empty, wrapping. */
    do_munmap(s, addr + 1, 1, ST(INVALID_ARGUMENT));
    do_munmap(s, addr + 2048, 4, ST(INVALID_ARGUMENT));
    do_munmap(s, addr, 0, ST(INVALID_ARGUMENT));
    do_munmap(s, addr, UINT64_MAX, ST(INVALID_ARGUMENT));
    do_munmap(s, UINT64_MAX & ~UINT64_C(4095), 2, ST(INVALID_ARGUMENT));

    /* Reads: huge lengths, wrap-around, past the mapping, unmapped. */
    read_status(s, false, addr, MMSIM_FRAME_MAX_DEFAULT + 1, ST(OUT_OF_RANGE));
    read_status(s, false, addr, UINT32_MAX, ST(OUT_OF_RANGE));
    read_status(s, false, UINT64_MAX - 10, 100, ST(OUT_OF_RANGE));
    read_status(s, false, addr + 4 * 4096 - 1, 2, ST(BAD_ADDRESS));
    read_status(s, false, 0, 1, ST(BAD_ADDRESS));
    do_write(s, false, addr + 4 * 4096 - 100, big, sizeof(big),
             ST(BAD_ADDRESS));
    do_write(s, false, UINT64_MAX - 10, big, 100, ST(OUT_OF_RANGE));
    /* The maximum read length is fine. */
    r = do_read(s, false, addr, 4 * 4096, ST(OK));
    mmsim__v1__response__free_unpacked(r, NULL);

    /* Vmalloc: sizes and nodes. */
    mmsim__v1__response__free_unpacked(
        do_vmalloc(s, 0, -1, ST(INVALID_ARGUMENT)), NULL);
    mmsim__v1__response__free_unpacked(
        do_vmalloc(s, UINT64_MAX, -1, ST(INVALID_ARGUMENT)), NULL);
    mmsim__v1__response__free_unpacked(
        do_vmalloc(s, (MMSIM_VMALLOC_MAX_PAGES << 12) + 1, -1,
                   ST(INVALID_ARGUMENT)),
        NULL);
    mmsim__v1__response__free_unpacked(do_vmalloc(s, 4096, 7, ST(NO_SUCH_NODE)),
                                       NULL);
    /* More than the machine has: NO_MEMORY, and nothing stays. */
    mmsim__v1__response__free_unpacked(
        do_vmalloc(s, UINT64_C(1) << 30, -1, ST(NO_MEMORY)), NULL);
    area = vmalloc_addr(s, 4096);
    /* VRead/VWrite: past the area (into the guard page), huge lengths. */
    read_status(s, true, area + 4000, 97, ST(OUT_OF_RANGE));
    read_status(s, true, area, MMSIM_FRAME_MAX_DEFAULT + 1, ST(OUT_OF_RANGE));
    do_write(s, true, area + 1, big, sizeof(big), ST(OUT_OF_RANGE));
    read_status(s, true, area + 4095, 1, ST(OK));
    /* Vfree by an inner address. */
    do_vfree(s, area + 4096 - 1, ST(INVALID_ARGUMENT));
    do_vfree(s, 0, ST(NOT_OWNER));

    /* Reclaim: steps and nodes. */
    mmsim__v1__response__free_unpacked(
        do_reclaim(s, -1, true, 0, false, ST(OUT_OF_RANGE)), NULL);
    mmsim__v1__response__free_unpacked(
        do_reclaim(s, -1, true, 1025, false, ST(OUT_OF_RANGE)), NULL);
    mmsim__v1__response__free_unpacked(
        do_reclaim(s, 2, true, 1, false, ST(NO_SUCH_NODE)), NULL);
    mmsim__v1__response__free_unpacked(
        do_reclaim(s, -1, false, 0, false, ST(OK)), NULL);

    /* The session is fine afterwards, and so is the machine. */
    do_write(s, false, addr, "ok", 2, ST(OK));
    read_expect(s, false, addr, "ok", 2);
    do_vfree(s, area, ST(OK));
    assert_consistent(f->m);
    mmsim_session_destroy(s);
    assert_healthy(f);
    fix_free(f);
}

static void test_vm_quota(void **state)
{
    struct mmsim_rpc_limits lim;
    struct fix *f;
    struct mmsim_session *s;
    uint64_t r1, r2, r3, r4, area;
    Resp *r;

    (void)state;
    mmsim_rpc_limits_default(&lim);
    lim.max_pages = 10;
    lim.max_mapped_pages = 100;
    lim.max_mappings = 3;
    f = fix_new(true, &lim, NULL);
    s = hello_session(f, "quota");

    /* HelloReply announces the new limits. */
    {
        struct mmsim_session *t = new_session(f, "hello");
        struct mmsim_buf in;

        mmsim_buf_init(&in);
        put_hello(&in, 1);
        r = call(t, &in, NULL);
        assert_true(r->hello->limits->has_max_mapped_pages);
        assert_int_equal(r->hello->limits->max_mapped_pages, 100);
        assert_int_equal(r->hello->limits->max_mappings, 3);
        mmsim__v1__response__free_unpacked(r, NULL);
        mmsim_buf_free(&in);
        mmsim_session_destroy(t);
    }

    /* Blocks and vmalloc pages share max_pages. */
    (void)alloc_pfn(s, 2); /* 4 */
    area = vmalloc_addr(s, 5 * 4096);
    mmsim__v1__response__free_unpacked(
        do_vmalloc(s, 2 * 4096, -1, ST(QUOTA_EXCEEDED)), NULL);
    mmsim__v1__response__free_unpacked(do_alloc(s, 1, -1, ST(QUOTA_EXCEEDED)),
                                       NULL);
    (void)alloc_pfn(s, 0); /* 10: full */
    do_vfree(s, area, ST(OK));
    (void)vmalloc_addr(s, 5 * 4096);

    /* Mapped pages: max_mapped_pages, resident or not. */
    r1 = mmap_addr(s, 60);
    mmsim__v1__response__free_unpacked(do_mmap(s, 41, -1, ST(QUOTA_EXCEEDED)),
                                       NULL);
    r2 = mmap_addr(s, 40);
    mmsim__v1__response__free_unpacked(do_mmap(s, 1, -1, ST(QUOTA_EXCEEDED)),
                                       NULL);
    /* Trimming a region frees quota and adds no region. */
    do_munmap(s, r1, 30, ST(OK));
    r3 = mmap_addr(s, 10);
    r = mm_stat(s);
    assert_int_equal(r->mm_stat->nr_regions, 3);
    assert_int_equal(r->mm_stat->total_vm, 80);
    mmsim__v1__response__free_unpacked(r, NULL);
    /* Regions: three at most, and a split needs room for one more. */
    mmsim__v1__response__free_unpacked(do_mmap(s, 1, -1, ST(QUOTA_EXCEEDED)),
                                       NULL);
    do_munmap(s, r2 + 10 * 4096, 1, ST(QUOTA_EXCEEDED));
    /* A whole region may go; then there is room again. */
    do_munmap(s, r2, 40, ST(OK));
    r4 = mmap_addr(s, 1);
    /* At the limit again, r3 now has mapped neighbours (r4 right below
     * it): refused, as it might be a split. */
    do_munmap(s, r3, 10, ST(QUOTA_EXCEEDED));
    do_munmap(s, r4, 1, ST(OK));
    do_munmap(s, r3, 10, ST(OK));
    do_munmap(s, r2 + 10 * 4096, 1, ST(OK));

    mmsim_session_destroy(s);
    fix_free(f);
}

/* ---- OOM kills ----------------------------------------------------------- */

struct oom_fix {
    struct fix f;
    _Atomic(struct mmsim_rpc *) rpc; /* for the machine's hook */
    pthread_mutex_t lock;
    uint64_t killed_ids[8];
    void *killed_ctx[8];
    unsigned nr_killed;
};

static void oom_hook(void *ctx, uint64_t owner)
{
    struct oom_fix *of = ctx;
    struct mmsim_rpc *rpc = atomic_load(&of->rpc);

    if (rpc)
        mmsim_rpc_oom_kill(rpc, owner);
}

static void session_killed_cb(void *ctx, void *session_ctx, uint64_t id)
{
    struct oom_fix *of = ctx;

    pthread_mutex_lock(&of->lock);
    if (of->nr_killed < 8) {
        of->killed_ids[of->nr_killed] = id;
        of->killed_ctx[of->nr_killed] = session_ctx;
    }
    of->nr_killed++;
    pthread_mutex_unlock(&of->lock);
}

/* 64 MiB on two nodes, contents, no swap, the OOM killer kills. */
static struct oom_fix *oom_fix_new(void)
{
    struct oom_fix *of = calloc(1, sizeof(*of));
    struct mmsim_machine_opts o;
    struct mmsim_rpc_config cfg;
    struct mmsim_desc d;
    char err[256];
    int rc;

    assert_non_null(of);
    pthread_mutex_init(&of->lock, NULL);
    pthread_mutex_init(&of->f.log.lock, NULL);
    mmsim_desc_init(&d);
    assert_int_equal(mmsim_desc_add_range(&d, 0, 0, 32 * MIB), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 1, 32 * MIB, 32 * MIB), 0);
    d.deferred_init = false;
    d.contents = true;
    d.swap_bytes = 0;
    d.oom_policy = MMSIM_OOM_KILL;
    memset(&o, 0, sizeof(o));
    o.oom_kill = oom_hook;
    o.oom_ctx = of;
    rc = mmsim_machine_create(&d, &o, &of->f.m, err, sizeof(err));
    if (rc)
        fail_msg("boot: %s (%s)", mmsim_err_name(rc), err);
    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = of->f.m;
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.log = log_sink;
    cfg.log_ctx = &of->f.log;
    cfg.session_killed = session_killed_cb;
    cfg.session_killed_ctx = of;
    assert_int_equal(mmsim_rpc_create(&cfg, &of->f.rpc), 0);
    atomic_store(&of->rpc, of->f.rpc);
    return of;
}

static void oom_fix_free(struct oom_fix *of)
{
    atomic_store(&of->rpc, NULL);
    assert_consistent(of->f.m);
    mmsim_rpc_destroy(of->f.rpc);
    mmsim_machine_destroy(of->f.m);
    pthread_mutex_destroy(&of->f.log.lock);
    pthread_mutex_destroy(&of->lock);
    free(of);
}

/* Touch @pages pages from @addr, 64 pages a request. Return: the status
 * of the first write that failed, or OK. */
static Mmsim__V1__Status touch(struct mmsim_session *s, uint64_t addr,
                               uint64_t pages)
{
    static uint8_t chunk[64 * 4096];

    memset(chunk, 0x77, sizeof(chunk));
    for (uint64_t p = 0; p < pages; p += 64) {
        Req r = MMSIM__V1__REQUEST__INIT;
        Mmsim__V1__MemWrite mw = MMSIM__V1__MEM_WRITE__INIT;
        uint64_t n = pages - p < 64 ? pages - p : 64;
        Mmsim__V1__Status st;
        Resp *resp;

        mw.has_addr = mw.has_data = 1;
        mw.addr = addr + p * 4096;
        mw.data.data = chunk;
        mw.data.len = n * 4096;
        r.op_case = MMSIM__V1__REQUEST__OP_MEM_WRITE;
        r.mem_write = &mw;
        resp = vm_call(s, &r, 40);
        st = resp->status;
        mmsim__v1__response__free_unpacked(resp, NULL);
        if (st != ST(OK))
            return st;
    }
    return ST(OK);
}

static void test_oom_kill(void **state)
{
    struct oom_fix *of = oom_fix_new();
    struct fix *f = &of->f;
    uint64_t before = total_free(f->m);
    struct mmsim_session *a = hello_session(f, "big"),
                         *b = hello_session(f, "grower");
    struct mmsim_oom_info oi;
    struct mmsim_buf in, out;
    struct resps rs;
    uint64_t aa, ab, pa;
    int ctx_a, ctx_b;
    Resp *r;

    (void)state;
    mmsim_session_set_ctx(a, &ctx_a);
    mmsim_session_set_ctx(b, &ctx_b);
    /* A holds a block too: it counts towards A's badness. */
    pa = alloc_pfn(a, 4);
    /* A: more than half of memory, resident. */
    aa = mmap_addr(a, 9000);
    assert_int_equal(touch(a, aa, 9000), ST(OK));
    assert_int_equal(of->nr_killed, 0);
    /* B grows past what is left: the OOM killer picks A, the larger, and
     * B's writes go on in A's memory. */
    ab = mmap_addr(b, 12000);
    assert_int_equal(touch(b, ab, 12000), ST(OK));
    assert_int_equal(of->nr_killed, 1);
    assert_int_equal(of->killed_ids[0], mmsim_session_id(a));
    assert_ptr_equal(of->killed_ctx[0], &ctx_a);
    assert_int_equal(mmsim_oom_info(f->m, &oi), 0);
    assert_true(oi.kills >= 1);
    assert_int_equal(oi.last_owner, mmsim_session_id(a));
    assert_true(mmsim_session_killed(a));
    assert_false(mmsim_session_killed(b));
    assert_true(logged(&f->log, "chosen by the OOM killer"));

    /* A's next requests: KILLED, every one of them, then the close. */
    mmsim_buf_init(&in);
    mmsim_buf_init(&out);
    put_ping(&in, 50, NULL, 0);
    put_read(&in, 51, pa, 0, 1);
    assert_int_equal(mmsim_session_feed(a, in.data, in.len, &out),
                     MMSIM_FEED_CLOSE);
    parse(&out, &rs);
    assert_int_equal(rs.n, 2);
    for (size_t i = 0; i < rs.n; i++) {
        assert_int_equal(rs.r[i]->id, 50 + i);
        expect_status(rs.r[i], ST(KILLED));
        assert_non_null(strstr(rs.r[i]->message, "OOM killer"));
    }
    resps_free(&rs);
    out.len = 0;
    assert_int_equal(mmsim_session_feed(a, NULL, 0, &out), MMSIM_FEED_CLOSE);
    assert_int_equal(out.len, 0);

    /* B is unharmed; its memory reads back. */
    r = do_read(b, false, ab + 11999 * 4096, 16, ST(OK));
    assert_int_equal(r->read->data.data[0], 0x77);
    mmsim__v1__response__free_unpacked(r, NULL);
    r = mm_stat(b);
    assert_false(r->mm_stat->oom_killed);
    assert_int_equal(r->mm_stat->rss, 12000);
    mmsim__v1__response__free_unpacked(r, NULL);
    assert_consistent(f->m);

    /* Teardown of a killed session frees its block and what is left. */
    mmsim_session_destroy(a);
    mmsim_session_destroy(b);
    assert_int_equal(total_free(f->m), before);

    /* mmsim_rpc_oom_kill() by hand: an idle session is nudged (the
     * callback), then a feed with no data answers once with id 0. */
    a = hello_session(f, "idle");
    mmsim_rpc_oom_kill(f->rpc, mmsim_session_id(a));
    assert_int_equal(of->nr_killed, 1); /* no ctx yet: no callback */
    mmsim_session_set_ctx(a, &ctx_a);   /* ... which comes now */
    assert_int_equal(of->nr_killed, 2);
    assert_int_equal(of->killed_ids[1], mmsim_session_id(a));
    mmsim_rpc_oom_kill(f->rpc, mmsim_session_id(a)); /* once is enough */
    mmsim_rpc_oom_kill(f->rpc, 999999);              /* nobody */
    assert_int_equal(of->nr_killed, 2);
    out.len = 0;
    assert_int_equal(mmsim_session_feed(a, NULL, 0, &out), MMSIM_FEED_CLOSE);
    parse(&out, &rs);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.r[0]->id, 0);
    expect_status(rs.r[0], ST(KILLED));
    resps_free(&rs);
    mmsim_session_destroy(a);

    mmsim_buf_free(&in);
    mmsim_buf_free(&out);
    oom_fix_free(of);
}

/* ---- config -------------------------------------------------------------- */

static void test_config(void **state)
{
    struct mmsim_machine *m = boot(false);
    struct mmsim_rpc_config cfg;
    struct mmsim_rpc *rpc;
    struct mmsim_session *s;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    mmsim_rpc_limits_default(&cfg.limits);
    assert_int_equal(mmsim_rpc_create(&cfg, &rpc), MMSIM_EINVAL);
    cfg.machine = m;
    cfg.token_len = 4;
    assert_int_equal(mmsim_rpc_create(&cfg, &rpc), MMSIM_EINVAL);
    cfg.token_len = 0;
    cfg.limits.max_frame_bytes = 0;
    assert_int_equal(mmsim_rpc_create(&cfg, &rpc), MMSIM_EINVAL);
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.server_version = "custom 1.2";
    assert_int_equal(mmsim_rpc_create(&cfg, &rpc), 0);
    assert_int_equal(mmsim_session_create(rpc, 2, NULL, &s), MMSIM_EINVAL);
    assert_int_equal(mmsim_session_create(rpc, -2, NULL, &s), MMSIM_EINVAL);
    assert_int_equal(mmsim_session_create(rpc, MMSIM_NO_CPU, NULL, &s), 0);
    assert_int_equal(mmsim_session_id(s), 1);
    mmsim_session_destroy(s);
    mmsim_session_destroy(NULL);
    mmsim_rpc_destroy(rpc);
    mmsim_rpc_destroy(NULL);
    mmsim_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_hello_ping),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_teardown),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_table_churn),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_metadata_only),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_inflight),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_auth_logged),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_vm_round_trip),
        cmocka_unit_test(test_vm_isolation),
        cmocka_unit_test(test_vm_teardown),
        cmocka_unit_test(test_vm_bad_inputs),
        cmocka_unit_test(test_vm_quota),
        cmocka_unit_test(test_oom_kill),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
