// SPDX-License-Identifier: MIT
/*
 * ops.c - the operations: one decoded, admitted request in, calls on the
 * machine, one Response (built in the request's scratch arena) out.
 *
 * Ownership is checked here, against the session's table, before the
 * machine is touched: a session may free, read or write only blocks it
 * allocated. A pfn the session does not own gets NOT_OWNER whether it is
 * free, reserved, a hole or another session's block, and the machine is
 * not even asked, so no session can learn about, or harm, another's
 * pages. (The owner tag stored with each block is for the checker and
 * for people reading dumps; the table is what decides.)
 *
 * Every failure is a status plus a message naming the values involved,
 * built from mmsim_strerror() where the machine said no.
 *
 * Threads: runs on the thread feeding the session; the session is ours,
 * the machine locks itself. A block can only be freed by its owner, so
 * reading or writing an owned block cannot race with its free.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mmsim/vmalloc.h"

static void result_set(struct rpc_result *res, rpc_status st, const char *fmt,
                       ...) RPC_PRINTF(3, 4);

static void result_set(struct rpc_result *res, rpc_status st, const char *fmt,
                       ...)
{
    va_list ap;

    res->status = st;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
    va_end(ap);
}

/* A failure of the machine: its status, the context, its own words. */
static void result_err(struct rpc_result *res, int err, const char *what)
{
    result_set(res, rpc_status_of(err), "%s: %s", what, mmsim_strerror(err));
}

/* Copy a single operation's outcome into the Response. */
static void result_to_resp(struct rpc_req *rq, const struct rpc_result *res)
{
    if (res->status != MMSIM__V1__STATUS__OK)
        rpc_fail(rq, res->status, "%s", res->msg);
}

/* ---- AllocPages, FreePages ----------------------------------------------- */

static Mmsim__V1__AllocReply *alloc_one(struct rpc_req *rq,
                                        const Mmsim__V1__AllocPages *a,
                                        struct rpc_result *res)
{
    struct mmsim_session *s = rq->s;
    struct mmsim_rpc *rpc = rq->rpc;
    unsigned order = a->has_order ? a->order : 0;
    uint32_t gfp = a->has_gfp ? a->gfp : 0;
    int node = a->has_node ? a->node : MMSIM_ANY_NODE;
    struct mmsim_page_where where;
    Mmsim__V1__AllocReply *r;
    uint64_t pfn, want;
    char what[96];
    int rc;

    res->status = MMSIM__V1__STATUS__OK;
    /* The order first: 2^order below must not overflow. */
    if (a->has_order && a->order > rpc->max_order) {
        result_set(res, MMSIM__V1__STATUS__OUT_OF_RANGE,
                   "order %" PRIu32 " is above max_order %u", a->order,
                   rpc->max_order);
        return NULL;
    }
    if (node != MMSIM_ANY_NODE &&
        (node < 0 || (unsigned)node >= rpc->nr_nodes)) {
        result_set(res, MMSIM__V1__STATUS__NO_SUCH_NODE,
                   "node %d does not exist (nodes 0..%u, or -1 for any)", node,
                   rpc->nr_nodes - 1);
        return NULL;
    }
    want = UINT64_C(1) << order;
    /* Blocks and vmalloc pages share the quota. */
    if (rpc->limits.max_pages &&
        s->pages + s->vmalloc_pages + want > rpc->limits.max_pages) {
        result_set(res, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                   "order %u needs %" PRIu64 " pages; the session owns %" PRIu64
                   " of its quota of %" PRIu64,
                   order, want, s->pages + s->vmalloc_pages,
                   rpc->limits.max_pages);
        return NULL;
    }
    /* Room in the table first, so an allocated block is never untracked. */
    r = rpc_alloc(rq, sizeof(*r));
    if (!r || owned_reserve(&s->owned, 1)) {
        rq->hostmem = true;
        return NULL;
    }
    rc = mmsim_alloc_pages_tagged(rpc->machine, s->cpu, gfp, order, node,
                                  s->tag, &pfn);
    if (rc) {
        snprintf(what, sizeof(what), "alloc order %u gfp %#" PRIx32 " node %d",
                 order, gfp, node);
        result_err(res, rc, what);
        return NULL;
    }
    owned_insert(&s->owned, pfn, order);
    s->pages += want;
    vm_account(s, (int64_t)want);
    mmsim__v1__alloc_reply__init(r);
    r->has_pfn = r->has_order = 1;
    r->pfn = pfn;
    r->order = order;
    if (mmsim_pfn_where(rpc->machine, pfn, &where) == 0) {
        r->has_node = 1;
        r->node = (uint32_t)where.nid;
        r->zone = (char *)mmsim_zone_type_name(where.zone);
    }
    return r;
}

static void free_one(struct rpc_req *rq, const Mmsim__V1__FreePages *f,
                     struct rpc_result *res)
{
    struct mmsim_session *s = rq->s;
    uint64_t pfn = f->pfn, head;
    unsigned order = f->has_order ? f->order : 0, owned;
    char what[64];
    int rc;

    res->status = MMSIM__V1__STATUS__OK;
    if (!owned_get(&s->owned, pfn, &owned)) {
        if (owned_block_of(&s->owned, pfn, rq->rpc->max_order, &head, &owned))
            result_set(res, MMSIM__V1__STATUS__NOT_HEAD,
                       "pfn %" PRIu64 " is inside the order-%u block at pfn "
                       "%" PRIu64 "; free the block by its first page",
                       pfn, owned, head);
        else
            result_set(res, MMSIM__V1__STATUS__NOT_OWNER,
                       "pfn %" PRIu64 " is not the head of a block this "
                       "session owns",
                       pfn);
        return;
    }
    if (order != owned) {
        result_set(res, MMSIM__V1__STATUS__WRONG_ORDER,
                   "the block at pfn %" PRIu64 " has order %u, not %u", pfn,
                   owned, order);
        return;
    }
    rc = mmsim_free_pages(rq->rpc->machine, s->cpu, pfn, order);
    if (rc) {
        /* We own it and the order matches: only a core bug gets here. */
        snprintf(what, sizeof(what), "free pfn %" PRIu64 " order %u", pfn,
                 order);
        result_err(res, rc, what);
        session_log(s, RPC_LOG_ERR, "%s failed: %s", what, mmsim_err_name(rc));
        return;
    }
    owned_remove(&s->owned, pfn);
    s->pages -= UINT64_C(1) << order;
    vm_account(s, -(int64_t)(UINT64_C(1) << order));
}

void op_alloc(struct rpc_req *rq, const Mmsim__V1__AllocPages *a)
{
    struct rpc_result res;
    Mmsim__V1__AllocReply *r = alloc_one(rq, a, &res);

    if (!r) {
        result_to_resp(rq, &res);
        return;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_ALLOC;
    rq->resp.alloc = r;
}

void op_free(struct rpc_req *rq, const Mmsim__V1__FreePages *f)
{
    struct rpc_result res;

    free_one(rq, f, &res);
    result_to_resp(rq, &res);
}

/* ---- batches ------------------------------------------------------------- */

static bool batch_ok(struct rpc_req *rq, size_t n, const char *what)
{
    if (n <= rq->rpc->limits.max_batch)
        return true;
    rpc_fail(rq, MMSIM__V1__STATUS__BATCH_TOO_LARGE,
             "%s of %zu entries; max_batch is %" PRIu32, what, n,
             rq->rpc->limits.max_batch);
    return false;
}

void op_alloc_batch(struct rpc_req *rq, const Mmsim__V1__AllocBatch *b)
{
    Mmsim__V1__AllocBatchReply *br;
    Mmsim__V1__AllocResult *res;

    if (!batch_ok(rq, b->n_allocs, "AllocBatch"))
        return;
    br = rpc_alloc(rq, sizeof(*br));
    res = rpc_alloc(rq, sizeof(*res) * (b->n_allocs ? b->n_allocs : 1));
    if (!br || !res)
        return;
    mmsim__v1__alloc_batch_reply__init(br);
    br->results = rpc_alloc(rq, sizeof(Mmsim__V1__AllocResult *) *
                                    (b->n_allocs ? b->n_allocs : 1));
    if (!br->results)
        return;
    /* Each entry on its own: an earlier failure does not stop later ones. */
    for (size_t i = 0; i < b->n_allocs && !rq->hostmem; i++) {
        struct rpc_result r;

        mmsim__v1__alloc_result__init(&res[i]);
        res[i].page = alloc_one(rq, b->allocs[i], &r);
        res[i].has_status = 1;
        res[i].status = r.status;
        if (r.status != MMSIM__V1__STATUS__OK)
            res[i].message = rpc_strdupf(rq, "%s", r.msg);
        br->results[i] = &res[i];
        br->n_results++;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_ALLOC_BATCH;
    rq->resp.alloc_batch = br;
}

void op_free_batch(struct rpc_req *rq, const Mmsim__V1__FreeBatch *b)
{
    Mmsim__V1__FreeBatchReply *br;
    Mmsim__V1__FreeResult *res;

    if (!batch_ok(rq, b->n_frees, "FreeBatch"))
        return;
    br = rpc_alloc(rq, sizeof(*br));
    res = rpc_alloc(rq, sizeof(*res) * (b->n_frees ? b->n_frees : 1));
    if (!br || !res)
        return;
    mmsim__v1__free_batch_reply__init(br);
    br->results = rpc_alloc(rq, sizeof(Mmsim__V1__FreeResult *) *
                                    (b->n_frees ? b->n_frees : 1));
    if (!br->results)
        return;
    for (size_t i = 0; i < b->n_frees && !rq->hostmem; i++) {
        struct rpc_result r;

        mmsim__v1__free_result__init(&res[i]);
        free_one(rq, b->frees[i], &r);
        res[i].has_status = 1;
        res[i].status = r.status;
        if (r.status != MMSIM__V1__STATUS__OK)
            res[i].message = rpc_strdupf(rq, "%s", r.msg);
        br->results[i] = &res[i];
        br->n_results++;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_FREE_BATCH;
    rq->resp.free_batch = br;
}

/* ---- ReadPage, WritePage ------------------------------------------------- */

/*
 * The checks both share, in this order: contents exist, the page is in a
 * block the session owns, the byte range lies inside the page.
 * Return: true when the access may go ahead.
 */
static bool access_ok(struct rpc_req *rq, uint64_t pfn, uint32_t offset,
                      uint64_t len)
{
    uint64_t head;
    unsigned order;

    if (!rq->rpc->contents) {
        rpc_fail(rq, MMSIM__V1__STATUS__NOT_SUPPORTED, "%s",
                 mmsim_strerror(MMSIM_ENOCONTENT));
        return false;
    }
    if (!owned_block_of(&rq->s->owned, pfn, rq->rpc->max_order, &head,
                        &order)) {
        rpc_fail(rq, MMSIM__V1__STATUS__NOT_OWNER,
                 "pfn %" PRIu64 " is not in a block this session owns", pfn);
        return false;
    }
    if ((uint64_t)offset + len > MMSIM_PAGE_SIZE) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "offset %" PRIu32 " + length %" PRIu64
                 " is past the end of the %u-byte page",
                 offset, len, (unsigned)MMSIM_PAGE_SIZE);
        return false;
    }
    return true;
}

void op_read(struct rpc_req *rq, const Mmsim__V1__ReadPage *r)
{
    uint32_t offset = r->has_offset ? r->offset : 0;
    Mmsim__V1__ReadReply *rr;
    uint64_t len;
    uint8_t *buf;
    char what[64];
    int rc;

    /* No length: the rest of the page. */
    if (r->has_length)
        len = r->length;
    else
        len = offset < MMSIM_PAGE_SIZE ? MMSIM_PAGE_SIZE - offset : 0;
    if (!access_ok(rq, r->pfn, offset, len))
        return;
    rr = rpc_alloc(rq, sizeof(*rr));
    buf = rpc_alloc(rq, len ? len : 1);
    if (!rr || !buf)
        return;
    rc = mmsim_page_read(rq->rpc->machine, r->pfn, offset, buf, (uint32_t)len);
    if (rc) {
        struct rpc_result res;

        snprintf(what, sizeof(what), "read pfn %" PRIu64, r->pfn);
        result_err(&res, rc, what);
        result_to_resp(rq, &res);
        return;
    }
    mmsim__v1__read_reply__init(rr);
    rr->has_data = 1;
    rr->data.len = len;
    rr->data.data = buf; /* never NULL, even for 0 bytes */
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_READ;
    rq->resp.read = rr;
}

void op_write(struct rpc_req *rq, const Mmsim__V1__WritePage *w)
{
    uint32_t offset = w->has_offset ? w->offset : 0;
    /* protobuf-c gives data == NULL for empty bytes. */
    size_t len = w->has_data ? w->data.len : 0;
    char what[64];
    int rc;

    if (!access_ok(rq, w->pfn, offset, len))
        return;
    if (!len)
        return;
    rc = mmsim_page_write(rq->rpc->machine, w->pfn, offset, w->data.data,
                          (uint32_t)len);
    if (rc) {
        struct rpc_result res;

        snprintf(what, sizeof(what), "write pfn %" PRIu64, w->pfn);
        result_err(&res, rc, what);
        result_to_resp(rq, &res);
    }
}

/* ---- zones, the summary, GetMachine -------------------------------------- */

static Mmsim__V1__Zone *zone_msg(struct rpc_req *rq,
                                 const struct mmsim_zone_info *zi,
                                 const bool *model)
{
    unsigned max_order = rq->rpc->max_order, nprot = 0;
    Mmsim__V1__Zone *z = rpc_alloc(rq, sizeof(*z));

    if (!z)
        return NULL;
    mmsim__v1__zone__init(z);
    z->nr_free = rpc_alloc(rq, sizeof(uint64_t) * (max_order + 1));
    z->protection = rpc_alloc(rq, sizeof(uint64_t) * MMSIM_NR_ZONE_TYPES);
    if (!z->nr_free || !z->protection)
        return NULL;
    z->has_node = 1;
    z->node = (uint32_t)zi->nid;
    z->name = (char *)mmsim_zone_type_name(zi->type);
    z->has_start_pfn = z->has_spanned = z->has_present = z->has_managed = 1;
    z->has_free = z->has_pcp = z->has_deferred = 1;
    z->has_wmark_min = z->has_wmark_low = z->has_wmark_high = 1;
    z->has_wmark_promo = 1;
    z->start_pfn = zi->start_pfn;
    z->spanned = zi->spanned;
    z->present = zi->present;
    z->managed = zi->managed;
    z->free = zi->free;
    z->pcp = zi->pcp;
    z->deferred = zi->deferred;
    z->wmark_min = zi->wmark_min;
    z->wmark_low = zi->wmark_low;
    z->wmark_high = zi->wmark_high;
    z->wmark_promo = zi->wmark_promo;
    for (unsigned o = 0; o <= max_order && o <= MMSIM_MAX_ORDER_CAP; o++)
        z->nr_free[z->n_nr_free++] = zi->nr_free[o];
    /* As zoneinfo's "protection:" line: one entry per zone of the model. */
    for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        if (model[t])
            z->protection[nprot++] = zi->lowmem_reserve[t];
    z->n_protection = nprot;
    return z;
}

/*
 * Every zone of the model on every node, in node then zone-type order
 * (the order of /proc/zoneinfo); only populated ones when @populated.
 * Return: 0, or a machine error (the request fails with it).
 */
static int zones_msg(struct rpc_req *rq, bool populated, Mmsim__V1__Zone ***out,
                     size_t *n)
{
    struct mmsim_machine *m = rq->rpc->machine;
    unsigned nodes = rq->rpc->nr_nodes;
    bool model[MMSIM_NR_ZONE_TYPES] = {false};
    struct mmsim_zone_info zi;
    Mmsim__V1__Zone **zones;

    *out = NULL;
    *n = 0;
    /* Which zone types the model has: node 0 answers for all nodes. */
    for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        int rc = mmsim_zone_info(m, 0, (enum mmsim_zone_type)t, &zi);

        if (rc == 0)
            model[t] = true;
        else if (rc != MMSIM_ENOENT)
            return rc;
    }
    zones =
        rpc_alloc(rq, sizeof(Mmsim__V1__Zone *) * nodes * MMSIM_NR_ZONE_TYPES);
    if (!zones)
        return 0;
    for (unsigned nid = 0; nid < nodes; nid++) {
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            int rc;

            if (!model[t])
                continue;
            rc = mmsim_zone_info(m, (int)nid, (enum mmsim_zone_type)t, &zi);
            if (rc == MMSIM_ENOENT)
                continue;
            if (rc)
                return rc;
            if (populated && !zi.present)
                continue;
            zones[*n] = zone_msg(rq, &zi, model);
            if (!zones[*n])
                return 0; /* rq->hostmem says why */
            (*n)++;
        }
    }
    *out = zones;
    return 0;
}

Mmsim__V1__MachineSummary *op_summary(struct rpc_req *rq)
{
    struct mmsim_rpc *rpc = rq->rpc;
    Mmsim__V1__MachineSummary *ms = rpc_alloc(rq, sizeof(*ms));
    struct mmsim_zone_info zi;

    if (!ms)
        return NULL;
    mmsim__v1__machine_summary__init(ms);
    ms->has_nodes = ms->has_cpus = ms->has_max_order = 1;
    ms->has_managed_pages = ms->has_page_size = ms->has_contents = 1;
    ms->nodes = rpc->nr_nodes;
    ms->cpus = rpc->nr_cpus;
    ms->max_order = rpc->max_order;
    ms->page_size = (uint32_t)MMSIM_PAGE_SIZE;
    ms->contents = rpc->contents;
    for (unsigned nid = 0; nid < rpc->nr_nodes; nid++)
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
            if (mmsim_zone_info(rpc->machine, (int)nid, (enum mmsim_zone_type)t,
                                &zi) == 0)
                ms->managed_pages += zi.managed;
    return ms;
}

static Mmsim__V1__Node *node_msg(struct rpc_req *rq, const struct mmsim_desc *d,
                                 unsigned nid)
{
    struct mmsim_rpc *rpc = rq->rpc;
    Mmsim__V1__Node *n = rpc_alloc(rq, sizeof(*n));
    unsigned nranges = 0;

    if (!n)
        return NULL;
    mmsim__v1__node__init(n);
    n->has_id = 1;
    n->id = nid;
    for (unsigned i = 0; i < d->nr_ranges; i++)
        nranges += d->ranges[i].nid == (int)nid;
    n->range_start_pfn = rpc_alloc(rq, sizeof(uint64_t) * (nranges + 1));
    n->range_end_pfn = rpc_alloc(rq, sizeof(uint64_t) * (nranges + 1));
    n->distance = rpc_alloc(rq, sizeof(uint32_t) * rpc->nr_nodes);
    n->cpus = rpc_alloc(rq, sizeof(uint32_t) * (rpc->nr_cpus + 1));
    if (!n->range_start_pfn || !n->range_end_pfn || !n->distance || !n->cpus)
        return NULL;
    /* Whole pages only, as the kernel counts usable RAM. */
    for (unsigned i = 0; i < d->nr_ranges; i++) {
        const struct mmsim_desc_range *r = &d->ranges[i];

        if (r->nid != (int)nid)
            continue;
        n->range_start_pfn[n->n_range_start_pfn++] = MMSIM_PFN_UP(r->base);
        n->range_end_pfn[n->n_range_end_pfn++] =
            MMSIM_PFN_DOWN(r->base + r->size);
    }
    for (unsigned j = 0; j < rpc->nr_nodes; j++)
        n->distance[n->n_distance++] = mmsim_desc_distance(d, (int)nid, (int)j);
    for (unsigned c = 0; c < rpc->nr_cpus; c++)
        if (mmsim_cpu_to_node(rpc->machine, (int)c) == (int)nid)
            n->cpus[n->n_cpus++] = c;
    return n;
}

void op_machine(struct rpc_req *rq)
{
    struct mmsim_rpc *rpc = rq->rpc;
    const struct mmsim_desc *d = mmsim_machine_desc(rpc->machine);
    Mmsim__V1__MachineReply *mr = rpc_alloc(rq, sizeof(*mr));
    int rc;

    if (!mr)
        return;
    mmsim__v1__machine_reply__init(mr);
    mr->summary = op_summary(rq);
    mr->nodes = rpc_alloc(rq, sizeof(Mmsim__V1__Node *) * rpc->nr_nodes);
    if (!mr->summary || !mr->nodes)
        return;
    for (unsigned nid = 0; nid < rpc->nr_nodes; nid++) {
        mr->nodes[nid] = node_msg(rq, d, nid);
        if (!mr->nodes[nid])
            return;
        mr->n_nodes++;
    }
    rc = zones_msg(rq, false, &mr->zones, &mr->n_zones);
    if (rc) {
        struct rpc_result res;

        result_err(&res, rc, "zones");
        result_to_resp(rq, &res);
        return;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_MACHINE;
    rq->resp.machine = mr;
}

/* ---- GetView ------------------------------------------------------------- */

typedef int64_t (*view_fn)(struct mmsim_machine *m, char *buf, size_t len);

static int64_t view_memblock_memory(struct mmsim_machine *m, char *buf,
                                    size_t len)
{
    return mmsim_view_memblock(m, false, buf, len);
}

static int64_t view_memblock_reserved(struct mmsim_machine *m, char *buf,
                                      size_t len)
{
    return mmsim_view_memblock(m, true, buf, len);
}

/* Without owners: views never say which session owns what. */
static int64_t view_vmallocinfo(struct mmsim_machine *m, char *buf, size_t len)
{
    return mmsim_view_vmallocinfo(m, false, buf, len);
}

/*
 * The text of a view. The machine keeps changing under other sessions,
 * so the length measured first may be short by the time the text is
 * written: retry with the new length a few times.
 * Return: 0 with *@text set, or a machine error.
 */
static int view_text(struct rpc_req *rq, view_fn fn, char **text)
{
    struct mmsim_machine *m = rq->rpc->machine;
    int64_t need = fn(m, NULL, 0);

    for (int tries = 0; tries < 8; tries++) {
        size_t cap;
        char *buf;
        int64_t got;

        if (need < 0)
            return (int)need;
        if ((uint64_t)need >= RPC_MAX_RESPONSE_BYTES)
            return MMSIM_EHOSTMEM;
        /* Some slack, so a counter gaining a digit needs no retry. */
        cap = (size_t)need + 1 + 256;
        buf = rpc_alloc(rq, cap);
        if (!buf)
            return 0;
        got = fn(m, buf, cap);
        if (got >= 0 && (uint64_t)got < cap) {
            *text = buf;
            return 0;
        }
        need = got;
    }
    return MMSIM_EBUSY;
}

/*
 * /proc/vmstat as fields: every "name value" line of the text.
 * Return: false when the host ran out (rq->hostmem is set).
 */
static bool counters_msg(struct rpc_req *rq, const char *text,
                         Mmsim__V1__ViewReply *vr)
{
    size_t lines = 0;

    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    vr->counters = rpc_alloc(rq, sizeof(Mmsim__V1__Counter *) * (lines + 1));
    if (!vr->counters)
        return false;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n'), *sp;
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        Mmsim__V1__Counter *c;

        sp = memchr(p, ' ', len);
        if (sp && sp > p) {
            c = rpc_alloc(rq, sizeof(*c));
            if (!c)
                return false;
            mmsim__v1__counter__init(c);
            c->name = rpc_strdupf(rq, "%.*s", (int)(sp - p), p);
            c->has_value = 1;
            c->value = strtoull(sp + 1, NULL, 10);
            vr->counters[vr->n_counters++] = c;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return !rq->hostmem;
}

void op_view(struct rpc_req *rq, const Mmsim__V1__GetView *v)
{
    Mmsim__V1__ViewKind kind =
        v->has_kind ? v->kind : MMSIM__V1__VIEW_KIND__BUDDYINFO;
    Mmsim__V1__ViewReply *vr;
    view_fn fn;
    int rc;

    switch (kind) {
    case MMSIM__V1__VIEW_KIND__BUDDYINFO:
        fn = mmsim_view_buddyinfo;
        break;
    case MMSIM__V1__VIEW_KIND__ZONEINFO:
        fn = mmsim_view_zoneinfo;
        break;
    case MMSIM__V1__VIEW_KIND__VMSTAT:
        fn = mmsim_view_vmstat;
        break;
    case MMSIM__V1__VIEW_KIND__MEMBLOCK_MEMORY:
        fn = view_memblock_memory;
        break;
    case MMSIM__V1__VIEW_KIND__MEMBLOCK_RESERVED:
        fn = view_memblock_reserved;
        break;
    case MMSIM__V1__VIEW_KIND__BOOTLOG:
        fn = mmsim_view_bootlog;
        break;
    case MMSIM__V1__VIEW_KIND__VMALLOCINFO:
        fn = view_vmallocinfo;
        break;
    case MMSIM__V1__VIEW_KIND__SWAPS:
        fn = mmsim_view_swaps;
        break;
    case MMSIM__V1__VIEW_KIND__MEMINFO:
        fn = mmsim_view_meminfo;
        break;
    default:
        /* protobuf-c stores unknown enum values as they came. */
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "unknown view kind %d", (int)kind);
        return;
    }
    vr = rpc_alloc(rq, sizeof(*vr));
    if (!vr)
        return;
    mmsim__v1__view_reply__init(vr);
    rc = view_text(rq, fn, &vr->text);
    if (!rc && !rq->hostmem && kind == MMSIM__V1__VIEW_KIND__BUDDYINFO)
        rc = zones_msg(rq, true, &vr->zones, &vr->n_zones);
    if (!rc && !rq->hostmem && kind == MMSIM__V1__VIEW_KIND__ZONEINFO)
        rc = zones_msg(rq, false, &vr->zones, &vr->n_zones);
    if (!rc && !rq->hostmem && kind == MMSIM__V1__VIEW_KIND__VMSTAT)
        counters_msg(rq, vr->text, vr);
    if (rq->hostmem)
        return;
    if (rc) {
        struct rpc_result res;

        result_err(&res, rc, "view");
        result_to_resp(rq, &res);
        return;
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_VIEW;
    rq->resp.view = vr;
}

/* ---- Check --------------------------------------------------------------- */

void op_check(struct rpc_req *rq, const Mmsim__V1__Check *c)
{
    Mmsim__V1__CheckReply *cr = rpc_alloc(rq, sizeof(*cr));
    bool full = c->has_full && c->full;
    char problem[256] = "";
    int rc;

    if (!cr)
        return;
    mmsim__v1__check_reply__init(cr);
    rc = mmsim_check(rq->rpc->machine, full, problem, sizeof(problem));
    cr->has_ok = 1;
    cr->ok = rc == 0;
    if (rc) {
        session_log(rq->s, RPC_LOG_ERR, "check%s failed: %s",
                    full ? " (full)" : "",
                    problem[0] ? problem : mmsim_strerror(rc));
        cr->problem =
            rpc_strdupf(rq, "%s", problem[0] ? problem : mmsim_strerror(rc));
    }
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_CHECK;
    rq->resp.check = cr;
}
