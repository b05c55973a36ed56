/*
 * rpc.c - fuzz the protocol engine (daemon/rpc) the way daemon/net drives
 * it: bytes from several sessions fed through mmsim_session_feed() into
 * one machine, every response decoded and checked against a model, then
 * every session torn down.
 *
 * DOC: input
 *
 * Records of [sel u8][length u16 little-endian][length bytes], the
 * format of mmsim/record.h, which is also what `mmsimd --record` writes:
 * a recorded session replays with `build/fuzz/rpc FILE`. sel & 3 is the
 * session slot (fuzz/wire.h: slots 0 and 1 talk to an engine with
 * mmsimd's defaults, 2 and 3 to one with a token and tight limits); the
 * flags are
 *
 * - MMSIM_REC_RESTART (0x80): destroy the slot's session (its pages go
 *   back to the machine) and open a new one, before the bytes;
 * - MMSIM_REC_SHUTDOWN (0x40): mmsim_rpc_shutdown() of the slot's engine
 *   first (it stays shut down for the rest of the input);
 * - MMSIM_REC_MORE (0x20): the bytes are joined with the next record's
 *   and fed in one call (a read longer than 64 KiB), as long as that
 *   record is for the same slot and has neither flag above.
 *
 * A record cut short by the end of the input is what is left of it.
 *
 * DOC: what is checked
 *
 * A model of each session runs beside it: the frames it was fed (decoded
 * by a second frame decoder and unpacked again), whether Hello was
 * accepted, which blocks it owns and what their pages contain. For every
 * feed call:
 *
 * - the output is whole frames, each a valid Response with a known
 *   status; a message exactly when the status is not OK; a result only on
 *   OK (and on BAD_VERSION, which carries the HelloReply);
 * - one response per request, in order, with the request's id; undecodable
 *   frames, frames over the limit and requests over the decode budget get
 *   id 0; nothing after a response that closes the session, and
 *   MMSIM_FEED_CLOSE exactly when one did;
 * - each status is the one the model predicts: the gate (Hello first,
 *   shutdown, unknown operations, Hello twice, the in-flight limit), the
 *   token and version, quotas and batch limits, ownership (NOT_OWNER,
 *   NOT_HEAD, WRONG_ORDER), byte ranges; allocations may fail only with
 *   NO_MEMORY or INVALID_ARGUMENT;
 * - allocated blocks are aligned, on the node they say, tagged with the
 *   session, and overlap no block any session owns; reads return what was
 *   written (zeros for never-written pages); Ping echoes; Check says ok;
 * - afterwards the machine's allocated pages are exactly the model's and
 *   each session's page count is its model's;
 * - engine 0's recorder (mmsimd --record's hook) was handed exactly the
 *   bytes each session was fed while open; every log line is free of
 *   control characters.
 *
 * Operations the model does not follow (an address space, vmalloc areas,
 * reclaim: whatever the engine added since) are checked for their shape
 * only. Once one is carried out, pages can move behind the model's back
 * (faults, reclaim, the OOM killer), so the page counts and other
 * sessions' blocks are no longer compared, and a session may answer
 * KILLED (to every request of that read, or once with id 0) and close.
 * Each run also drives the engine's API directly: refused
 * configurations, bad CPUs, and the OOM-kill path mmsimd uses.
 *
 * At the end every session is destroyed; then no page may be left
 * allocated and mmsim_check(m, true) must pass. Everything is freed (the
 * leak checker runs in libFuzzer builds).
 *
 * MMSIM_FUZZ_TRACE=1 prints each record, request and response.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmsim.pb-c.h"
#include "mmsim/frame.h"
#include "wire.h"

#define PAGE        MMSIM_PAGE_SIZE
#define MAX_RECORDS 4096
#define MAX_RESP    (UINT32_C(64) << 20) /* PROTOCOL.md's bound */
#define NSLOTS      MMSIM_REC_SLOTS
#define ST(x)       MMSIM__V1__STATUS__##x
#define OP(x)       MMSIM__V1__REQUEST__OP_##x
#define RES(x)      MMSIM__V1__RESPONSE__RESULT_##x
#define NO_RESULT   MMSIM__V1__RESPONSE__RESULT__NOT_SET
#define NO_OP       MMSIM__V1__REQUEST__OP__NOT_SET

typedef Mmsim__V1__Request Req;
typedef Mmsim__V1__Response Resp;

/* A block the model says the session owns; data[i]: page i, NULL: zeros. */
struct block {
    uint64_t pfn;
    unsigned order;
    uint8_t **data;
};

struct slot {
    struct mmsim_session *s;
    unsigned engine;
    struct mmsim_frame_decoder md; /* the model's decoder */
    bool auth, closed;
    bool killed; /* a KILLED answer was seen */
    struct block *blocks;
    size_t nr, cap;
    uint64_t pages;
    /* Engine 0 records: what the session was fed while open, and what
     * the recorder was handed (struct recording). */
    struct mmsim_buf fed;
    struct recording *rec;
};

/* The recorder's handle for one session. */
struct recording {
    struct ctx *c;
    unsigned slot;
    uint64_t id;
    struct mmsim_buf bytes;
};

/* A block allocated during the current feed call. */
struct newblock {
    unsigned slot;
    uint64_t pfn;
};

/* A frame the model decoded, copied. */
struct frame {
    uint8_t *p;
    size_t len;
};

struct ctx {
    struct wire_env env;
    bool shut[WIRE_ENGINES];
    /*
     * An operation the model does not know (an address space, vmalloc,
     * reclaim) was carried out: pages may now be held, freed or killed
     * behind the model's back, so what it cannot know is not checked.
     */
    bool inexact;
    struct slot slot[NSLOTS];
    struct mmsim_buf out;
    struct mmsim_buf pending; /* MMSIM_REC_MORE bytes not fed yet */
    int pending_slot;         /* -1: none */
    struct frame *fr;
    size_t nfr, capfr;
    Resp **resp;
    size_t nresp, capresp;
    struct newblock *newb;
    size_t nnew, capnew;
    bool trace;
    unsigned long feeds;
    char err[512];
};

static const char *op_name(int op)
{
    static const char *const names[] = {
        [OP(HELLO)] = "Hello",
        [OP(PING)] = "Ping",
        [OP(ALLOC)] = "Alloc",
        [OP(FREE)] = "Free",
        [OP(ALLOC_BATCH)] = "AllocBatch",
        [OP(FREE_BATCH)] = "FreeBatch",
        [OP(READ)] = "Read",
        [OP(WRITE)] = "Write",
        [OP(VIEW)] = "View",
        [OP(CHECK)] = "Check",
        [OP(MACHINE)] = "Machine",
    };
    const ProtobufCFieldDescriptor *f;

    if (op > 0 && (size_t)op < sizeof(names) / sizeof(*names) && names[op])
        return names[op];
    /* An operation added since: its field name. */
    f = op > 0 ? protobuf_c_message_descriptor_get_field(
                     &mmsim__v1__request__descriptor, (unsigned)op)
               : NULL;
    return f ? f->name : "no-op";
}

static const char *st_name(int st)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &mmsim__v1__status__descriptor, st);

    return v ? v->name : "?";
}

/*
 * KILLED (the OOM killer chose the session), where the protocol has it;
 * -1 where it does not. Looked up by name so the target builds either way.
 */
static int killed_status(void)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
        &mmsim__v1__status__descriptor, "KILLED");

    return v ? v->value : -1;
}

/* ---- the ownership and contents model ----------------------------------- */

/*
 * A block of slot @j overlapping [pfn, pfn + 2^order), or NULL. (Only the
 * slot's own when inexact: a killed session's blocks may be gone.)
 */
FZ_NOCOV static struct block *overlap(struct ctx *c, unsigned i, uint64_t pfn,
                                      unsigned order, unsigned *j)
{
    uint64_t end = pfn + (UINT64_C(1) << order);

    for (*j = 0; *j < NSLOTS; (*j)++) {
        struct slot *sl = &c->slot[*j];

        if (c->inexact && *j != i)
            continue;
        for (size_t k = 0; k < sl->nr; k++) {
            struct block *b = &sl->blocks[k];

            if (pfn < b->pfn + (UINT64_C(1) << b->order) && b->pfn < end)
                return b;
        }
    }
    return NULL;
}

/* The block of @sl containing @pfn, or NULL. */
FZ_NOCOV static struct block *own_block(struct slot *sl, uint64_t pfn)
{
    for (size_t k = 0; k < sl->nr; k++) {
        struct block *b = &sl->blocks[k];

        if (pfn >= b->pfn && pfn - b->pfn < (UINT64_C(1) << b->order))
            return b;
    }
    return NULL;
}

static void block_free(struct block *b)
{
    if (b->data)
        for (size_t i = 0; i < (size_t)1 << b->order; i++)
            free(b->data[i]);
    free(b->data);
}

static void model_add(struct ctx *c, unsigned i, uint64_t pfn, unsigned order)
{
    struct slot *sl = &c->slot[i];
    const struct block *b;
    unsigned other;

    FZ_CHECK(!(pfn & ((UINT64_C(1) << order) - 1)),
             "slot %u: block at pfn %" PRIu64 " is not aligned to order %u", i,
             pfn, order);
    b = overlap(c, i, pfn, order, &other);
    FZ_CHECK(!b,
             "slot %u: new block pfn %" PRIu64 " order %u overlaps the block "
             "of slot %u at pfn %" PRIu64 " order %u",
             i, pfn, order, other, b ? b->pfn : 0, b ? b->order : 0);
    if (sl->nr == sl->cap) {
        size_t cap = sl->cap ? sl->cap * 2 : 16;
        struct block *nb = realloc(sl->blocks, cap * sizeof(*nb));

        FZ_CHECK(nb, "out of host memory");
        sl->blocks = nb;
        sl->cap = cap;
    }
    sl->blocks[sl->nr++] = (struct block){pfn, order, NULL};
    sl->pages += UINT64_C(1) << order;
}

static void model_remove(struct slot *sl, struct block *b)
{
    sl->pages -= UINT64_C(1) << b->order;
    block_free(b);
    *b = sl->blocks[--sl->nr];
}

static void model_drop_all(struct slot *sl)
{
    for (size_t k = 0; k < sl->nr; k++)
        block_free(&sl->blocks[k]);
    sl->nr = 0;
    sl->pages = 0;
}

/* The model's bytes of page @pfn in @b, or NULL for zeros. */
static uint8_t **page_of(struct block *b, uint64_t pfn)
{
    if (!b->data) {
        b->data = calloc((size_t)1 << b->order, sizeof(*b->data));
        FZ_CHECK(b->data, "out of host memory");
    }
    return &b->data[pfn - b->pfn];
}

/* ---- expected outcomes ----------------------------------------------------
 */

/* One expected outcome: a status, plus whether it closes the session. */
struct expect {
    int st;
    bool close;
};

static void check_status(const char *what, unsigned i, uint64_t id, int got,
                         int want, const char *msg)
{
    FZ_CHECK(got == want,
             "slot %u request id %" PRIu64 " (%s): status %s (%s), the model "
             "expects %s",
             i, id, what, st_name(got), msg ? msg : "", st_name(want));
}

/* Single allocation: the status before the machine is asked, or -1. */
static int alloc_gate(struct ctx *c, struct slot *sl,
                      const Mmsim__V1__AllocPages *a, uint64_t pages_so_far)
{
    const struct mmsim_rpc_limits *lim = &c->env.limits[sl->engine];
    unsigned max_order = mmsim_machine_max_order(c->env.m);
    unsigned nodes = mmsim_machine_nr_nodes(c->env.m);
    unsigned order = a->has_order ? a->order : 0;
    int node = a->has_node ? a->node : MMSIM_ANY_NODE;

    if (a->has_order && a->order > max_order)
        return ST(OUT_OF_RANGE);
    if (node != MMSIM_ANY_NODE && (node < 0 || (unsigned)node >= nodes))
        return ST(NO_SUCH_NODE);
    if (lim->max_pages &&
        pages_so_far + (UINT64_C(1) << order) > lim->max_pages)
        return ST(QUOTA_EXCEEDED);
    return -1;
}

/* Check one allocation's outcome and record a success in the model. */
static void check_alloc(struct ctx *c, unsigned i,
                        const Mmsim__V1__AllocPages *a, int st, const char *msg,
                        const Mmsim__V1__AllocReply *r, uint64_t id)
{
    struct slot *sl = &c->slot[i];
    int want = alloc_gate(c, sl, a, sl->pages);
    unsigned order = a->has_order ? a->order : 0;
    uint32_t gfp = a->has_gfp ? a->gfp : 0;
    struct mmsim_page_where where;

    if (want >= 0) {
        check_status("alloc", i, id, st, want, msg);
        FZ_CHECK(!r, "slot %u: failed alloc with a page", i);
        return;
    }
    if (st != ST(OK)) {
        FZ_CHECK(st == ST(NO_MEMORY) || st == ST(INVALID_ARGUMENT),
                 "slot %u id %" PRIu64 ": alloc order %u gfp %#x failed with "
                 "%s (%s)",
                 i, id, order, gfp, st_name(st), msg ? msg : "");
        FZ_CHECK(!(gfp & ~(uint32_t)MMSIM_GFP_ALL_FLAGS) ||
                     st == ST(INVALID_ARGUMENT),
                 "slot %u: alloc with unknown gfp bits %#x: %s", i, gfp,
                 st_name(st));
        FZ_CHECK(!r, "slot %u: failed alloc with a page", i);
        return;
    }
    FZ_CHECK(r && r->has_pfn && r->has_order && r->order == order,
             "slot %u id %" PRIu64 ": alloc OK without pfn or with order %u", i,
             id, r ? r->order : 0);
    FZ_CHECK(r->pfn + (UINT64_C(1) << order) <= mmsim_machine_max_pfn(c->env.m),
             "slot %u: alloc pfn %" PRIu64 " past the end", i, r->pfn);
    FZ_CHECK(mmsim_pfn_where(c->env.m, r->pfn, &where) == 0 && r->has_node &&
                 r->node == (uint32_t)where.nid && r->zone &&
                 !strcmp(r->zone, mmsim_zone_type_name(where.zone)),
             "slot %u: alloc pfn %" PRIu64 " says node %u zone %s", i, r->pfn,
             r->node, r->zone ? r->zone : "(none)");
    if (a->has_node && a->node >= 0 && (gfp & MMSIM_GFP_THISNODE))
        FZ_CHECK(r->node == (uint32_t)a->node,
                 "slot %u: __GFP_THISNODE alloc on node %u, asked %d", i,
                 r->node, a->node);
    model_add(c, i, r->pfn, order);
    /* Its owner tag, once the feed is over (a later request may free it). */
    if (c->nnew == c->capnew) {
        size_t cap = c->capnew ? c->capnew * 2 : 64;
        struct newblock *nb = realloc(c->newb, cap * sizeof(*nb));

        FZ_CHECK(nb, "out of host memory");
        c->newb = nb;
        c->capnew = cap;
    }
    c->newb[c->nnew++] = (struct newblock){i, r->pfn};
}

/* The status a free of (pfn, order) must get, applied to the model. */
static void check_free(struct ctx *c, unsigned i, const Mmsim__V1__FreePages *f,
                       int st, const char *msg, uint64_t id)
{
    struct slot *sl = &c->slot[i];
    uint64_t pfn = f->has_pfn ? f->pfn : 0;
    unsigned order = f->has_order ? f->order : 0;
    struct block *b = own_block(sl, pfn);
    int want;

    if (b && b->pfn == pfn)
        want = b->order == order ? ST(OK) : ST(WRONG_ORDER);
    else if (b)
        want = ST(NOT_HEAD);
    else
        want = ST(NOT_OWNER);
    check_status("free", i, id, st, want, msg);
    if (want == ST(OK))
        model_remove(sl, b);
}

static void check_read(struct ctx *c, unsigned i, const Mmsim__V1__ReadPage *r,
                       const Resp *resp)
{
    struct slot *sl = &c->slot[i];
    uint32_t offset = r->has_offset ? r->offset : 0;
    uint64_t len = r->has_length   ? r->length
                   : offset < PAGE ? PAGE - offset
                                   : 0;
    struct block *b = own_block(sl, r->pfn);
    int want = !b                              ? ST(NOT_OWNER)
               : (uint64_t)offset + len > PAGE ? ST(OUT_OF_RANGE)
                                               : ST(OK);
    uint8_t **page;

    check_status("read", i, resp->id, resp->status, want, resp->message);
    if (want != ST(OK))
        return;
    FZ_CHECK(resp->result_case == RES(READ) && resp->read->has_data &&
                 resp->read->data.len == len,
             "slot %u: read of %" PRIu64 " bytes returned %zu", i, len,
             resp->result_case == RES(READ) ? resp->read->data.len : 0);
    page = page_of(b, r->pfn);
    for (uint64_t k = 0; k < len; k++) {
        uint8_t want_b = *page ? (*page)[offset + k] : 0;

        FZ_CHECK(resp->read->data.data[k] == want_b,
                 "slot %u: pfn %" PRIu64 " byte %" PRIu64
                 " reads %#x, the model says %#x",
                 i, r->pfn, offset + k, resp->read->data.data[k], want_b);
    }
}

static void check_write(struct ctx *c, unsigned i,
                        const Mmsim__V1__WritePage *w, const Resp *resp)
{
    struct slot *sl = &c->slot[i];
    uint32_t offset = w->has_offset ? w->offset : 0;
    size_t len = w->has_data ? w->data.len : 0;
    struct block *b = own_block(sl, w->pfn);
    int want = !b                              ? ST(NOT_OWNER)
               : (uint64_t)offset + len > PAGE ? ST(OUT_OF_RANGE)
                                               : ST(OK);
    uint8_t **page;

    check_status("write", i, resp->id, resp->status, want, resp->message);
    if (want != ST(OK) || !len)
        return;
    page = page_of(b, w->pfn);
    if (!*page) {
        *page = calloc(1, PAGE);
        FZ_CHECK(*page, "out of host memory");
    }
    memcpy(*page + offset, w->data.data, len);
}

/*
 * The gate (rpc.c): Return the status it decides, or -1 to run the
 * operation; *@close when the session ends with it.
 */
static int gate(struct ctx *c, struct slot *sl, const Req *req, unsigned seq,
                bool *close)
{
    int op = req->op_case;

    *close = false;
    if (!sl->auth && op != OP(HELLO)) {
        *close = true;
        return ST(UNAUTHENTICATED);
    }
    if (c->shut[sl->engine] && op != OP(PING)) {
        *close = !sl->auth;
        return ST(SHUTTING_DOWN);
    }
    if (op == NO_OP)
        return ST(UNKNOWN_OPERATION);
    if (op == OP(HELLO) && sl->auth)
        return ST(INVALID_ARGUMENT);
    if (seq > c->env.limits[sl->engine].max_inflight)
        return ST(QUOTA_EXCEEDED);
    return -1;
}

/*
 * Check the response to an admitted request and update the model.
 * Return: whether the session closes with it.
 */
static bool check_op(struct ctx *c, unsigned i, const Req *req,
                     const Resp *resp)
{
    struct slot *sl = &c->slot[i];
    const struct mmsim_rpc_limits *lim = &c->env.limits[sl->engine];
    int st = resp->status;

    switch (req->op_case) {
    case OP(HELLO): {
        const Mmsim__V1__Hello *h = req->hello;
        uint32_t v = h->has_protocol_version ? h->protocol_version : 0;
        bool token_ok = true;

        if (sl->engine == 1)
            token_ok = h->has_token && h->token.len == strlen(WIRE_TOKEN) &&
                       !memcmp(h->token.data, WIRE_TOKEN, h->token.len);
        if (v != MMSIM_PROTOCOL_VERSION) {
            check_status("hello", i, resp->id, st, ST(BAD_VERSION),
                         resp->message);
            FZ_CHECK(
                resp->result_case == RES(HELLO) &&
                    resp->hello->protocol_version == MMSIM_PROTOCOL_VERSION &&
                    !resp->hello->has_session_id,
                "slot %u: BAD_VERSION without our version, or with more", i);
            return true;
        }
        if (!token_ok) {
            check_status("hello", i, resp->id, st, ST(UNAUTHENTICATED),
                         resp->message);
            return true;
        }
        check_status("hello", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(
            resp->result_case == RES(HELLO) && resp->hello->has_session_id &&
                resp->hello->session_id == mmsim_session_id(sl->s) &&
                resp->hello->limits &&
                resp->hello->limits->max_frame_bytes == lim->max_frame_bytes &&
                resp->hello->limits->max_inflight == lim->max_inflight &&
                resp->hello->limits->max_pages == lim->max_pages &&
                resp->hello->limits->max_batch == lim->max_batch &&
                resp->hello->machine &&
                resp->hello->machine->nodes ==
                    mmsim_machine_nr_nodes(c->env.m) &&
                resp->hello->server_version,
            "slot %u: HelloReply does not describe the session", i);
        FZ_CHECK(mmsim_session_authenticated(sl->s),
                 "slot %u: Hello OK but not authenticated", i);
        sl->auth = true;
        return false;
    }
    case OP(PING): {
        const Mmsim__V1__Ping *p = req->ping;

        check_status("ping", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(resp->result_case == RES(PONG) &&
                     resp->pong->has_payload == p->has_payload &&
                     (!p->has_payload ||
                      (resp->pong->payload.len == p->payload.len &&
                       (!p->payload.len ||
                        !memcmp(resp->pong->payload.data, p->payload.data,
                                p->payload.len)))),
                 "slot %u: Pong does not echo the payload", i);
        return false;
    }
    case OP(ALLOC):
        check_alloc(c, i, req->alloc, st, resp->message,
                    st == ST(OK) && resp->result_case == RES(ALLOC)
                        ? resp->alloc
                        : NULL,
                    resp->id);
        FZ_CHECK(st != ST(OK) || resp->result_case == RES(ALLOC),
                 "slot %u: alloc OK without an AllocReply", i);
        return false;
    case OP(FREE):
        check_free(c, i, req->free, st, resp->message, resp->id);
        return false;
    case OP(ALLOC_BATCH): {
        const Mmsim__V1__AllocBatch *b = req->alloc_batch;

        if (b->n_allocs > lim->max_batch) {
            check_status("alloc batch", i, resp->id, st, ST(BATCH_TOO_LARGE),
                         resp->message);
            return false;
        }
        check_status("alloc batch", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(resp->result_case == RES(ALLOC_BATCH) &&
                     resp->alloc_batch->n_results == b->n_allocs,
                 "slot %u: AllocBatch of %zu got %zu results", i, b->n_allocs,
                 resp->result_case == RES(ALLOC_BATCH)
                     ? resp->alloc_batch->n_results
                     : 0);
        for (size_t k = 0; k < b->n_allocs; k++) {
            const Mmsim__V1__AllocResult *r = resp->alloc_batch->results[k];

            FZ_CHECK(r->has_status && (r->status == ST(OK)) == !r->message,
                     "slot %u: AllocBatch entry %zu: status and message", i, k);
            check_alloc(c, i, b->allocs[k], r->status, r->message,
                        r->status == ST(OK) ? r->page : NULL, resp->id);
            FZ_CHECK(r->status != ST(OK) || r->page,
                     "slot %u: batch alloc OK without a page", i);
        }
        return false;
    }
    case OP(FREE_BATCH): {
        const Mmsim__V1__FreeBatch *b = req->free_batch;

        if (b->n_frees > lim->max_batch) {
            check_status("free batch", i, resp->id, st, ST(BATCH_TOO_LARGE),
                         resp->message);
            return false;
        }
        check_status("free batch", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(resp->result_case == RES(FREE_BATCH) &&
                     resp->free_batch->n_results == b->n_frees,
                 "slot %u: FreeBatch of %zu: wrong result count", i,
                 b->n_frees);
        for (size_t k = 0; k < b->n_frees; k++) {
            const Mmsim__V1__FreeResult *r = resp->free_batch->results[k];

            FZ_CHECK(r->has_status && (r->status == ST(OK)) == !r->message,
                     "slot %u: FreeBatch entry %zu: status and message", i, k);
            check_free(c, i, b->frees[k], r->status, r->message, resp->id);
        }
        return false;
    }
    case OP(READ):
        check_read(c, i, req->read, resp);
        return false;
    case OP(WRITE):
        check_write(c, i, req->write, resp);
        return false;
    case OP(VIEW): {
        int kind = req->view->has_kind ? (int)req->view->kind : 0;

        if (!protobuf_c_enum_descriptor_get_value(
                &mmsim__v1__view_kind__descriptor, kind)) {
            check_status("view", i, resp->id, st, ST(INVALID_ARGUMENT),
                         resp->message);
            return false;
        }
        if (kind > MMSIM__V1__VIEW_KIND__BOOTLOG) {
            /* The views that came later: this engine may lack them. */
            FZ_CHECK(st == ST(OK) || st == ST(INVALID_ARGUMENT) ||
                         st == ST(NOT_SUPPORTED),
                     "slot %u: view %d: %s", i, kind, st_name(st));
            if (st != ST(OK))
                return false;
        } else {
            check_status("view", i, resp->id, st, ST(OK), resp->message);
        }
        /* (Only the first six are never empty.) */
        FZ_CHECK(
            resp->result_case == RES(VIEW) && resp->view->text &&
                (resp->view->text[0] || kind > MMSIM__V1__VIEW_KIND__BOOTLOG),
            "slot %u: view %d without text", i, kind);
        if (kind == MMSIM__V1__VIEW_KIND__BUDDYINFO ||
            kind == MMSIM__V1__VIEW_KIND__ZONEINFO)
            FZ_CHECK(resp->view->n_zones > 0, "slot %u: view %d: no zones", i,
                     kind);
        if (kind == MMSIM__V1__VIEW_KIND__VMSTAT)
            FZ_CHECK(resp->view->n_counters > 0, "slot %u: vmstat: no counters",
                     i);
        return false;
    }
    case OP(CHECK):
        check_status("check", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(resp->result_case == RES(CHECK) && resp->check->has_ok &&
                     resp->check->ok,
                 "slot %u: Check says the machine is broken: %s", i,
                 resp->result_case == RES(CHECK) && resp->check->problem
                     ? resp->check->problem
                     : "(no reply)");
        return false;
    case OP(MACHINE):
        check_status("machine", i, resp->id, st, ST(OK), resp->message);
        FZ_CHECK(resp->result_case == RES(MACHINE) && resp->machine->summary &&
                     resp->machine->n_nodes ==
                         mmsim_machine_nr_nodes(c->env.m) &&
                     resp->machine->n_zones > 0,
                 "slot %u: MachineReply does not describe the machine", i);
        return false;
    default:
        /* Not the model's: only whether it was carried out. */
        if (st != ST(UNKNOWN_OPERATION))
            c->inexact = true;
        return false;
    }
}

/* Statuses after which the server hangs up (PROTOCOL.md). */
static bool closing_status(int st)
{
    return st == ST(UNAUTHENTICATED) || st == ST(BAD_VERSION) ||
           st == ST(FRAME_TOO_LARGE) || st == ST(MALFORMED);
}

/* What every response must be, whatever the request. */
static void check_shape(unsigned i, const Resp *r)
{
    FZ_CHECK(r->has_id && r->has_status, "slot %u: response without id/status",
             i);
    FZ_CHECK(protobuf_c_enum_descriptor_get_value(
                 &mmsim__v1__status__descriptor, r->status),
             "slot %u: unknown status %d", i, (int)r->status);
    if (r->status == ST(OK)) {
        FZ_CHECK(!r->message || !r->message[0],
                 "slot %u: OK with a message: %s", i, r->message);
    } else {
        FZ_CHECK(r->message && r->message[0], "slot %u: %s without a message",
                 i, st_name(r->status));
        FZ_CHECK(r->result_case == NO_RESULT || (r->status == ST(BAD_VERSION) &&
                                                 r->result_case == RES(HELLO)),
                 "slot %u: %s with a result", i, st_name(r->status));
    }
}

/* ---- the engines' hooks ---------------------------------------------------
 */

/*
 * The log: kernel levels, and lines a terminal can show as they are (the
 * engine promises to keep what peers send, client names included, from
 * writing escape sequences or fake lines into the operator's log).
 */
static void log_sink(void *ctx, int level, const char *line)
{
    (void)ctx;
    FZ_CHECK(level == 3 || level == 4 || level == 6 || level == 7,
             "log level %d", level);
    for (const char *p = line; *p; p++)
        FZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f,
                 "log line with control character %#x: %s", (unsigned char)*p,
                 line);
    FZ_CHECK(strlen(line) < 512, "log line too long");
}

/*
 * The recorder of engine 0 (mmsimd --record's hook): each session's bytes
 * must be exactly what it was fed while open, handed over once.
 */
static void *rec_open(void *ctx, uint64_t id, const char *peer)
{
    struct ctx *c = ctx;
    struct recording *r = calloc(1, sizeof(*r));
    unsigned slot;

    FZ_CHECK(r, "out of host memory");
    FZ_CHECK(sscanf(peer, "slot %u", &slot) == 1 && slot < NSLOTS &&
                 wire_slot_engine(slot) == 0 && !c->slot[slot].rec,
             "recorder: open for peer \"%s\"", peer);
    r->c = c;
    r->slot = slot;
    r->id = id;
    mmsim_buf_init(&r->bytes);
    c->slot[slot].rec = r;
    return r;
}

static void rec_write(void *ctx, void *handle, const uint8_t *data, size_t len)
{
    struct recording *r = handle;

    FZ_CHECK(ctx == r->c && len && data, "recorder: write of %zu bytes", len);
    FZ_CHECK(mmsim_buf_append(&r->bytes, data, len) == 0, "out of host memory");
}

static void rec_close(void *ctx, void *handle)
{
    struct recording *r = handle;
    struct slot *sl = &r->c->slot[r->slot];

    FZ_CHECK(ctx == r->c && sl->rec == r, "recorder: close of a stranger");
    FZ_CHECK(r->bytes.len == sl->fed.len &&
                 (!r->bytes.len ||
                  !memcmp(r->bytes.data, sl->fed.data, r->bytes.len)),
             "recorder: slot %u session %" PRIu64 " recorded %zu bytes, was "
             "fed %zu",
             r->slot, r->id, r->bytes.len, sl->fed.len);
    mmsim_buf_free(&r->bytes);
    sl->fed.len = 0;
    sl->rec = NULL;
    free(r);
}

/* session_killed: which session, with which transport context. */
struct kill_log {
    unsigned calls;
    void *session_ctx;
    uint64_t id;
};

static void on_killed(void *ctx, void *session_ctx, uint64_t id)
{
    struct kill_log *k = ctx;

    k->calls++;
    k->session_ctx = session_ctx;
    k->id = id;
}

/*
 * The OOM-kill path as mmsimd drives it (the machine's hook forwarded to
 * mmsim_rpc_oom_kill()), on an engine without a log: a kill of nobody
 * changes nothing; a kill marks the session, tells the transport with the
 * context it set (at once if it sets it afterwards), and the next feed,
 * even of nothing, answers KILLED with id 0 and closes.
 */
static void check_oom_kill_api(struct ctx *c)
{
    struct mmsim_rpc_config cfg;
    struct kill_log k = {0};
    struct mmsim_rpc *r = NULL;
    struct mmsim_session *s = NULL, *s2 = NULL;
    struct mmsim_buf out;
    int marker, rc;
    Resp *resp;

    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = c->env.m;
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.session_killed = on_killed;
    cfg.session_killed_ctx = &k;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == 0, "rpc_create");
    FZ_CHECK(mmsim_session_create(r, MMSIM_NO_CPU, NULL, &s) == 0 &&
                 mmsim_session_create(r, 0, "x", &s2) == 0,
             "session_create");
    mmsim_session_set_ctx(s, &marker);
    mmsim_rpc_oom_kill(r, mmsim_session_id(s2) + 1000);
    FZ_CHECK(!k.calls && !mmsim_session_killed(s) && !mmsim_session_killed(s2),
             "OOM kill of no session killed one");
    mmsim_rpc_oom_kill(r, mmsim_session_id(s));
    FZ_CHECK(k.calls == 1 && k.session_ctx == &marker &&
                 k.id == mmsim_session_id(s) && mmsim_session_killed(s) &&
                 !mmsim_session_killed(s2),
             "OOM kill: %u calls", k.calls);
    mmsim_rpc_oom_kill(r, mmsim_session_id(s)); /* once is enough */
    mmsim_rpc_oom_kill(r, mmsim_session_id(s2));
    FZ_CHECK(k.calls == 1, "OOM kill of a session without context: told");
    mmsim_session_set_ctx(s2, &k);
    FZ_CHECK(k.calls == 2 && k.session_ctx == &k,
             "set_ctx after the kill did not tell");
    mmsim_buf_init(&out);
    /* A Hello from a killed session: KILLED with its id, and the close. */
    {
        static const uint8_t hello[] = {0,    0,    0, 6,    0x08,
                                        0x2a, 0x12, 2, 0x08, 1};

        rc = mmsim_session_feed(s2, hello, sizeof(hello), &out);
        resp = out.len > MMSIM_FRAME_HEADER
                   ? mmsim__v1__response__unpack(NULL,
                                                 out.len - MMSIM_FRAME_HEADER,
                                                 out.data + MMSIM_FRAME_HEADER)
                   : NULL;
        FZ_CHECK(rc == MMSIM_FEED_CLOSE && resp && resp->id == 42 &&
                     (int)resp->status == killed_status(),
                 "a killed session's Hello");
        mmsim__v1__response__free_unpacked(resp, NULL);
        out.len = 0;
    }
    rc = mmsim_session_feed(s, NULL, 0, &out);
    FZ_CHECK(rc == MMSIM_FEED_CLOSE && out.len > MMSIM_FRAME_HEADER,
             "a killed session fed nothing: %d, %zu bytes", rc, out.len);
    resp = mmsim__v1__response__unpack(NULL, out.len - MMSIM_FRAME_HEADER,
                                       out.data + MMSIM_FRAME_HEADER);
    FZ_CHECK(resp && resp->id == 0 && (int)resp->status == killed_status(),
             "a killed session's last word");
    mmsim__v1__response__free_unpacked(resp, NULL);
    mmsim_buf_free(&out);
    mmsim_session_destroy(s);
    mmsim_session_destroy(s2);
    mmsim_rpc_destroy(r);
}

/* The refusals of the engine's API: bad configurations, bad CPUs. */
static void check_api_edges(struct ctx *c)
{
    struct mmsim_rpc_recorder half = {rec_open, NULL, rec_close, c};
    struct mmsim_rpc_config cfg;
    struct mmsim_rpc *r = NULL;
    struct mmsim_session *s = NULL;

    memset(&cfg, 0, sizeof(cfg));
    FZ_CHECK(mmsim_rpc_create(NULL, &r) == MMSIM_EINVAL &&
                 mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL,
             "rpc_create without a configuration or machine");
    cfg.machine = c->env.m;
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.limits.max_frame_bytes = 63;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL, "max_frame_bytes 63");
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.limits.max_inflight = 0;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL, "max_inflight 0");
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.limits.max_batch = 0;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL, "max_batch 0");
    mmsim_rpc_limits_default(&cfg.limits);
    cfg.token_len = 4;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL, "token_len, no token");
    cfg.token_len = 0;
    cfg.recorder = &half;
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == MMSIM_EINVAL,
             "recorder without write");
    FZ_CHECK(!r, "a refused rpc_create returned an engine");
    /* decode_budget_bytes 0: the default for the frame limit. */
    cfg.recorder = NULL;
    cfg.limits.decode_budget_bytes = 0;
    cfg.server_version = "fuzz";
    FZ_CHECK(mmsim_rpc_create(&cfg, &r) == 0, "rpc_create with defaults");
    FZ_CHECK(mmsim_session_create(r, 2, "x", &s) == MMSIM_EINVAL &&
                 mmsim_session_create(r, -2, "x", &s) == MMSIM_EINVAL &&
                 mmsim_session_create(NULL, 0, "x", &s) == MMSIM_EINVAL &&
                 mmsim_session_create(r, 0, NULL, NULL) == MMSIM_EINVAL && !s,
             "session_create with a bad CPU or no engine");
    mmsim_session_destroy(NULL);
    mmsim_rpc_destroy(r);
    mmsim_rpc_destroy(NULL);
    check_oom_kill_api(c);
}

/* ---- feeding --------------------------------------------------------------
 */

static void frames_clear(struct ctx *c)
{
    for (size_t k = 0; k < c->nfr; k++)
        free(c->fr[k].p);
    c->nfr = 0;
    for (size_t k = 0; k < c->nresp; k++)
        mmsim__v1__response__free_unpacked(c->resp[k], NULL);
    c->nresp = 0;
}

/* Decode what the model's decoder sees in @data. Return: too large. */
static bool model_frames(struct ctx *c, struct slot *sl, const uint8_t *data,
                         size_t len)
{
    for (;;) {
        const uint8_t *f = NULL;
        size_t used = 0, flen = 0;
        int rc = mmsim_frame_decode(&sl->md, data, len, &used, &f, &flen);

        if (used) {
            data += used;
            len -= used;
        }
        if (rc == MMSIM_FRAME_NEED_MORE)
            return false;
        if (rc == MMSIM_FRAME_TOO_LARGE)
            return true;
        FZ_CHECK(rc == MMSIM_FRAME_READY, "model decoder: %d", rc);
        if (c->nfr == c->capfr) {
            size_t cap = c->capfr ? c->capfr * 2 : 64;
            struct frame *nf = realloc(c->fr, cap * sizeof(*nf));

            FZ_CHECK(nf, "out of host memory");
            c->fr = nf;
            c->capfr = cap;
        }
        c->fr[c->nfr].p = malloc(flen ? flen : 1);
        FZ_CHECK(c->fr[c->nfr].p, "out of host memory");
        if (flen)
            memcpy(c->fr[c->nfr].p, f, flen);
        c->fr[c->nfr++].len = flen;
    }
}

/* Split the output into Responses; all of it must be whole frames. */
static void parse_output(struct ctx *c, unsigned i)
{
    size_t pos = 0;

    while (pos < c->out.len) {
        const uint8_t *p = c->out.data + pos;
        uint32_t n;
        Resp *r;

        FZ_CHECK(c->out.len - pos >= MMSIM_FRAME_HEADER,
                 "slot %u: output ends in a partial header", i);
        n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
            p[3];
        FZ_CHECK(n <= MAX_RESP && c->out.len - pos - MMSIM_FRAME_HEADER >= n,
                 "slot %u: output frame of %" PRIu32 " bytes is cut short", i,
                 n);
        r = mmsim__v1__response__unpack(NULL, n, p + MMSIM_FRAME_HEADER);
        FZ_CHECK(r, "slot %u: output frame is not a Response", i);
        if (c->nresp == c->capresp) {
            size_t cap = c->capresp ? c->capresp * 2 : 64;
            Resp **nr = realloc(c->resp, cap * sizeof(*nr));

            FZ_CHECK(nr, "out of host memory");
            c->resp = nr;
            c->capresp = cap;
        }
        c->resp[c->nresp++] = r;
        check_shape(i, r);
        pos += MMSIM_FRAME_HEADER + n;
    }
    c->out.len = 0;
}

static void trace_resp(unsigned i, const Req *req, const Resp *r)
{
    fprintf(stderr, "  slot %u: %s id %" PRIu64 " -> %s", i,
            req ? op_name(req->op_case) : "(undecodable)", r->id,
            st_name(r->status));
    if (r->result_case == RES(ALLOC))
        fprintf(stderr, " pfn %#" PRIx64 " order %u", r->alloc->pfn,
                r->alloc->order);
    if (r->message)
        fprintf(stderr, " (%s)", r->message);
    fputc('\n', stderr);
}

/* The blocks allocated by the last feed that are still owned: tagged. */
static void check_new_blocks(struct ctx *c)
{
    for (size_t k = 0; k < c->nnew && !c->inexact; k++) {
        struct slot *sl = &c->slot[c->newb[k].slot];
        uint64_t pfn = c->newb[k].pfn;
        struct block *b = own_block(sl, pfn);
        uint32_t tag = 0;
        unsigned order = 0;

        if (!b || b->pfn != pfn)
            continue;
        FZ_CHECK(mmsim_page_owner(c->env.m, pfn, &tag, &order) == 0 &&
                     tag == (uint32_t)mmsim_session_id(sl->s) &&
                     order == b->order,
                 "slot %u: block at pfn %" PRIu64 " has tag %u order %u, "
                 "session %" PRIu64 " order %u",
                 c->newb[k].slot, pfn, tag, order, mmsim_session_id(sl->s),
                 b->order);
    }
    c->nnew = 0;
}

static void feed(struct ctx *c, unsigned i, const uint8_t *data, size_t len)
{
    struct slot *sl = &c->slot[i];
    bool too_large, closed = false;
    size_t k = 0, j = 0;
    int rc, killed = killed_status();

    c->feeds++;
    if (sl->rec && !sl->closed && len)
        FZ_CHECK(mmsim_buf_append(&sl->fed, data, len) == 0,
                 "out of host memory");
    if (sl->closed) {
        rc = mmsim_session_feed(sl->s, data, len, &c->out);
        FZ_CHECK(rc == MMSIM_FEED_CLOSE && c->out.len == 0,
                 "slot %u: a closed session answered", i);
        return;
    }
    too_large = model_frames(c, sl, data, len);
    rc = mmsim_session_feed(sl->s, data, len, &c->out);
    FZ_CHECK(rc == MMSIM_FEED_CLOSE || rc == MMSIM_FEED_CONTINUE,
             "slot %u: feed returned %d", i, rc);
    FZ_CHECK((rc == MMSIM_FEED_CLOSE) == mmsim_session_closed(sl->s),
             "slot %u: feed result and mmsim_session_closed() disagree", i);
    parse_output(c, i);

    /* One response per frame, in order, until one closes the session. */
    for (; k < c->nfr && j < c->nresp && !closed; k++, j++) {
        const Resp *r = c->resp[j];
        Req *req = mmsim__v1__request__unpack(
            NULL, c->fr[k].len,
            c->fr[k].len ? c->fr[k].p : (const uint8_t *)"");

        if (c->trace)
            trace_resp(i, req, r);
        if (!req) {
            check_status("undecodable frame", i, r->id, r->status,
                         ST(MALFORMED), r->message);
            FZ_CHECK(r->id == 0, "slot %u: MALFORMED with id %" PRIu64, i,
                     r->id);
            closed = true;
            continue;
        }
        if (r->status == ST(MALFORMED) && r->id == 0 && r->message &&
            strstr(r->message, "decode_budget_bytes")) {
            /* Decodable, but over the engine's decode budget. */
            closed = true;
        } else if (killed >= 0 && (int)r->status == killed && sl->auth) {
            /* Killed, now or by another session's fault: so is the rest. */
            FZ_CHECK(c->inexact,
                     "slot %u: KILLED, but no session has virtual memory", i);
            FZ_CHECK(r->id == req->id, "slot %u: KILLED with the wrong id", i);
            sl->killed = true;
        } else {
            bool close;
            int want = gate(c, sl, req, (unsigned)k + 1, &close);

            FZ_CHECK(!sl->killed,
                     "slot %u: %s answered after KILLED in the same read", i,
                     st_name(r->status));
            FZ_CHECK(r->id == req->id,
                     "slot %u: response id %" PRIu64 " to request id %" PRIu64,
                     i, r->id, req->id);
            if (want >= 0) {
                check_status(op_name(req->op_case), i, r->id, r->status, want,
                             r->message);
                closed = close;
            } else {
                closed = check_op(c, i, req, r);
            }
            FZ_CHECK(closed == closing_status(r->status) ||
                         r->status == ST(SHUTTING_DOWN),
                     "slot %u: %s %s the session", i, st_name(r->status),
                     closed ? "closed" : "did not close");
        }
        mmsim__v1__request__free_unpacked(req, NULL);
    }
    if (!closed && too_large && j < c->nresp) {
        const Resp *r = c->resp[j++];

        if (c->trace)
            trace_resp(i, NULL, r);
        check_status("frame over the limit", i, r->id, r->status,
                     ST(FRAME_TOO_LARGE), r->message);
        FZ_CHECK(r->id == 0, "slot %u: FRAME_TOO_LARGE with an id", i);
        closed = true;
    }
    /* Killed between reads, and this read held no whole request. */
    if (!closed && !c->nfr && j < c->nresp && killed >= 0 &&
        (int)c->resp[j]->status == killed) {
        FZ_CHECK(c->inexact && c->resp[j]->id == 0,
                 "slot %u: KILLED (id %" PRIu64 ") without a request", i,
                 c->resp[j]->id);
        if (c->trace)
            trace_resp(i, NULL, c->resp[j]);
        j++;
        sl->killed = true;
    }
    if (sl->killed)
        closed = true; /* at the end of the feed */
    FZ_CHECK(j == c->nresp, "slot %u: %zu responses to %zu requests", i,
             c->nresp, c->nfr);
    FZ_CHECK(closed || k == c->nfr,
             "slot %u: %zu requests, %zu responses, session open", i, c->nfr,
             c->nresp);
    FZ_CHECK(closed || !too_large, "slot %u: frame over the limit not answered",
             i);
    FZ_CHECK(closed == (rc == MMSIM_FEED_CLOSE),
             "slot %u: session %s, the model says %s", i,
             rc == MMSIM_FEED_CLOSE ? "closed" : "open",
             closed ? "closed" : "open");
    sl->closed = closed;
    frames_clear(c);
    check_new_blocks(c);

    FZ_CHECK(c->inexact || mmsim_session_pages(sl->s) == sl->pages,
             "slot %u: session owns %" PRIu64 " pages, the model %" PRIu64, i,
             mmsim_session_pages(sl->s), sl->pages);
}

/* The machine holds exactly the pages the sessions own. */
static void check_machine(struct ctx *c)
{
    uint64_t want = 0, got = wire_allocated(c->env.m);

    if (c->inexact)
        return;
    for (unsigned i = 0; i < NSLOTS; i++)
        want += c->slot[i].pages;
    FZ_CHECK(got == want,
             "%" PRIu64 " pages allocated on the machine, the sessions own "
             "%" PRIu64,
             got, want);
}

static void slot_open(struct ctx *c, unsigned i)
{
    struct slot *sl = &c->slot[i];
    int rc = wire_session(&c->env, i, &sl->s);

    FZ_CHECK(rc == 0, "session_create: %s", fz_err(rc));
    FZ_CHECK(!!sl->rec == (wire_slot_engine(i) == 0),
             "slot %u: the recorder was %s", i,
             sl->rec ? "opened on engine 1" : "not opened");
    sl->engine = wire_slot_engine(i);
    sl->auth = sl->closed = sl->killed = false;
    mmsim_frame_decoder_init(&sl->md,
                             c->env.limits[sl->engine].max_frame_bytes);
}

static void slot_close(struct ctx *c, unsigned i)
{
    struct slot *sl = &c->slot[i];

    mmsim_session_destroy(sl->s);
    sl->s = NULL;
    FZ_CHECK(!sl->rec, "slot %u: the recorder was not closed", i);
    mmsim_frame_decoder_fini(&sl->md);
    model_drop_all(sl);
    check_machine(c);
}

static void flush_pending(struct ctx *c)
{
    if (c->pending_slot < 0)
        return;
    /* Nothing to feed is fed as NULL, which the API allows. */
    feed(c, (unsigned)c->pending_slot, c->pending.len ? c->pending.data : NULL,
         c->pending.len);
    c->pending.len = 0;
    c->pending_slot = -1;
    check_machine(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mmsim_desc desc;
    static bool have_desc;
    struct fz_in in = {data, size};
    struct mmsim_rpc_recorder rec_hooks = {rec_open, rec_write, rec_close,
                                           NULL};
    struct ctx *c;
    unsigned nrec = 0;

    if (!have_desc) {
        char err[256];

        FZ_CHECK(wire_desc(&desc, err, sizeof(err)) == 0, "machine: %s", err);
        have_desc = true;
    }
    c = calloc(1, sizeof(*c));
    if (!c)
        return 0;
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    c->pending_slot = -1;
    rec_hooks.ctx = c;
    FZ_CHECK(wire_env_create(&c->env, &desc, log_sink, NULL, &rec_hooks, c->err,
                             sizeof(c->err)) == 0,
             "boot: %s", c->err);
    check_api_edges(c);
    for (unsigned i = 0; i < NSLOTS; i++)
        slot_open(c, i);

    while (fz_more(&in) && nrec++ < MAX_RECORDS) {
        unsigned sel = fz_u8(&in), i = sel & MMSIM_REC_SLOT_MASK;
        size_t len = fz_u16(&in);
        const uint8_t *p = in.p;

        if (len > in.n)
            len = in.n;
        in.p += len;
        in.n -= len;
        if (c->trace)
            fprintf(stderr, "record %u: slot %u%s%s%s, %zu bytes\n", nrec, i,
                    sel & MMSIM_REC_RESTART ? " restart" : "",
                    sel & MMSIM_REC_SHUTDOWN ? " shutdown" : "",
                    sel & MMSIM_REC_MORE ? " more" : "", len);
        if (c->pending_slot >= 0 &&
            (c->pending_slot != (int)i ||
             (sel & (MMSIM_REC_RESTART | MMSIM_REC_SHUTDOWN))))
            flush_pending(c);
        if (sel & MMSIM_REC_SHUTDOWN) {
            mmsim_rpc_shutdown(c->env.rpc[wire_slot_engine(i)]);
            c->shut[wire_slot_engine(i)] = true;
        }
        if (sel & MMSIM_REC_RESTART) {
            slot_close(c, i);
            slot_open(c, i);
        }
        FZ_CHECK(mmsim_buf_append(&c->pending, p, len) == 0,
                 "out of host memory");
        c->pending_slot = (int)i;
        if (!(sel & MMSIM_REC_MORE))
            flush_pending(c);
    }
    flush_pending(c);

    /* Teardown: every session's pages go back. */
    for (unsigned i = 0; i < NSLOTS; i++)
        slot_close(c, i);
    FZ_CHECK(wire_allocated(c->env.m) == 0,
             "%" PRIu64 " pages still allocated after every session ended",
             wire_allocated(c->env.m));
    FZ_CHECK(mmsim_check(c->env.m, true, c->err, sizeof(c->err)) == 0,
             "mmsim_check after teardown: %s", c->err);
    if (c->trace)
        fprintf(stderr, "%u records, %lu feeds; teardown OK\n", nrec, c->feeds);
    wire_env_destroy(&c->env);
    mmsim_buf_free(&c->out);
    mmsim_buf_free(&c->pending);
    for (unsigned i = 0; i < NSLOTS; i++) {
        free(c->slot[i].blocks);
        mmsim_buf_free(&c->slot[i].fed);
    }
    free(c->fr);
    free(c->resp);
    free(c->newb);
    free(c);
    return 0;
}
