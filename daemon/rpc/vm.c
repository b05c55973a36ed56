// SPDX-License-Identifier: MIT
/*
 * vm.c - a session's virtual memory: its address space (Mmap, Munmap,
 * MemRead, MemWrite, GetMmStat), its vmalloc areas (Vmalloc, Vfree,
 * VRead, VWrite), Reclaim, and OOM kills.
 *
 * Address space: one struct mmsim_mm per session, created by its first
 * Mmap (owner = the session id, named after Hello's client_name) and
 * destroyed at teardown. A session that never maps has none, and so is
 * never the OOM killer's victim. Once it exists, the session's blocks
 * and vmalloc pages are reported to it with mmsim_mm_account(), so the
 * OOM badness sees everything the session holds.
 *
 * vmalloc areas carry the session id as owner tag; the machine checks
 * nothing, so every Vfree, VRead and VWrite first looks the area up
 * (mmsim_vmalloc_find()) and answers NOT_OWNER unless the session owns
 * it, whether the address is in another session's area or in none:
 * nobody learns about others' areas. Only the owner can vfree an area,
 * and a session is fed by one thread at a time, so an area cannot vanish
 * between the lookup and the access.
 *
 * Quotas: vmalloc pages count against limits.max_pages with the blocks;
 * mapped (not resident) pages against limits.max_mapped_pages; regions
 * against limits.max_mappings. Read lengths are bounded by
 * max_frame_bytes, so an answer is never much larger than a request may
 * be; writes are bounded by the frame itself.
 *
 * OOM kills: the registry of live sessions (rpc->sessions under
 * sessions_lock) maps an owner tag back to its session for
 * mmsim_rpc_oom_kill(), which may run on any thread. The session itself
 * only ever reads its atomic @killed flag.
 *
 * Threads: as ops.c, plus the registry above.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mmsim/vmalloc.h"

const char vm_killed_msg[] =
    "the OOM killer killed this session: its memory is gone, and the "
    "connection closes (a new connection starts a new session)";

#define PAGE_MASK (MMSIM_PAGE_SIZE - 1)

/* ---- helpers ------------------------------------------------------------- */

/*
 * The machine said no: its status, the context, its own words. A session
 * told MMSIM_EKILLED is killed whether or not the embedder forwards the
 * machine's hook.
 */
static void vm_fail(struct rpc_req *rq, int err, const char *fmt, ...)
    RPC_PRINTF(3, 4);

static void vm_fail(struct rpc_req *rq, int err, const char *fmt, ...)
{
    char what[160];
    va_list ap;

    if (err == MMSIM_EHOSTMEM) {
        rq->hostmem = true;
        return;
    }
    if (err == MMSIM_EKILLED) {
        atomic_store(&rq->s->killed, true);
        rpc_fail(rq, MMSIM__V1__STATUS__KILLED, "%s", vm_killed_msg);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    rpc_fail(rq, rpc_status_of(err), "%s: %s", what, mmsim_strerror(err));
}

/* -1 or an existing node; else NO_SUCH_NODE. Return: true when valid. */
static bool node_ok(struct rpc_req *rq, bool has, int32_t node)
{
    if (!has || node == MMSIM_ANY_NODE ||
        (node >= 0 && (unsigned)node < rq->rpc->nr_nodes))
        return true;
    rpc_fail(rq, MMSIM__V1__STATUS__NO_SUCH_NODE,
             "node %" PRId32 " does not exist (nodes 0..%u, or -1 for any)",
             node, rq->rpc->nr_nodes - 1);
    return false;
}

/* A read length: at most max_frame_bytes. Return: true when valid. */
static bool read_len_ok(struct rpc_req *rq, uint64_t addr, uint32_t len)
{
    if (len > rq->rpc->limits.max_frame_bytes) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "length %" PRIu32 " exceeds max_frame_bytes (%" PRIu32 ")",
                 len, rq->rpc->limits.max_frame_bytes);
        return false;
    }
    if (len && addr > UINT64_MAX - (len - 1)) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "address %#" PRIx64 " + length %" PRIu32 " wraps around", addr,
                 len);
        return false;
    }
    return true;
}

/* Answer with @len bytes at @buf (arena memory, or NULL for none). */
static void read_reply(struct rpc_req *rq, uint8_t *buf, size_t len)
{
    static uint8_t empty[1];
    Mmsim__V1__ReadReply *rr = rpc_alloc(rq, sizeof(*rr));

    if (!rr)
        return;
    mmsim__v1__read_reply__init(rr);
    rr->has_data = 1;
    rr->data.len = len;
    rr->data.data = buf ? buf : empty; /* never NULL, even for 0 bytes */
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_READ;
    rq->resp.read = rr;
}

/* The session's address space, created on first use. Return: 0 or an
 * MMSIM_E* code. */
static int session_mm(struct mmsim_session *s, struct mmsim_mm **out)
{
    uint64_t extra;
    int rc;

    if (!s->mm) {
        rc = mmsim_mm_create(s->rpc->machine, s->id,
                             s->client[0] ? s->client : NULL, &s->mm);
        if (rc) {
            s->mm = NULL;
            return rc;
        }
        /* What the session already holds counts towards its badness. */
        extra = s->pages + s->vmalloc_pages;
        if (extra)
            mmsim_mm_account(s->mm, (int64_t)extra);
    }
    *out = s->mm;
    return 0;
}

void vm_account(struct mmsim_session *s, int64_t delta)
{
    if (s->mm && delta)
        mmsim_mm_account(s->mm, delta);
}

bool vm_killed(const struct mmsim_session *s)
{
    /* The flag, or the machine's word for embedders that do not forward
     * opts.oom_kill (fuzz targets, tests). */
    return atomic_load_explicit(&s->killed, memory_order_acquire) ||
           (s->mm && mmsim_mm_oom_killed(s->mm));
}

/* ---- Mmap, Munmap -------------------------------------------------------- */

void op_mmap(struct rpc_req *rq, const Mmsim__V1__Mmap *mp)
{
    struct mmsim_session *s = rq->s;
    const struct mmsim_rpc_limits *lim = &rq->rpc->limits;
    uint64_t nr = mp->has_nr_pages ? mp->nr_pages : 0, addr;
    int node = mp->has_node ? mp->node : MMSIM_ANY_NODE;
    struct mmsim_mm_stat st;
    Mmsim__V1__MmapReply *r;
    struct mmsim_mm *mm;
    int rc;

    if (nr == 0 || nr > MMSIM_MMAP_MAX_PAGES) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "nr_pages %" PRIu64 ": a mapping has 1 to %" PRIu64 " pages",
                 nr, (uint64_t)MMSIM_MMAP_MAX_PAGES);
        return;
    }
    if (!node_ok(rq, mp->has_node, mp->node))
        return;
    rc = session_mm(s, &mm);
    if (rc) {
        vm_fail(rq, rc, "mmap");
        return;
    }
    rc = mmsim_mm_stat(mm, &st);
    if (rc) {
        vm_fail(rq, rc, "mmap");
        return;
    }
    if (lim->max_mapped_pages && st.total_vm + nr > lim->max_mapped_pages) {
        rpc_fail(rq, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                 "mapping %" PRIu64 " pages: the session has %" PRIu64
                 " mapped of its quota of %" PRIu64,
                 nr, st.total_vm, lim->max_mapped_pages);
        return;
    }
    if (st.nr_regions >= lim->max_mappings) {
        rpc_fail(rq, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                 "the address space has %" PRIu64
                 " regions; max_mappings is %" PRIu32,
                 st.nr_regions, lim->max_mappings);
        return;
    }
    r = rpc_alloc(rq, sizeof(*r));
    if (!r)
        return;
    rc = mmsim_mmap(mm, nr, node, &addr);
    if (rc) {
        vm_fail(rq, rc, "mmap %" PRIu64 " pages node %d", nr, node);
        return;
    }
    mmsim__v1__mmap_reply__init(r);
    r->has_addr = r->has_nr_pages = 1;
    r->addr = addr;
    r->nr_pages = nr;
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_MMAP;
    rq->resp.mmap = r;
}

static bool page_mapped(struct mmsim_mm *mm, uint64_t addr)
{
    struct mmsim_pte_info pi;

    return mmsim_mm_pte(mm, addr, &pi) == 0;
}

void op_munmap(struct rpc_req *rq, const Mmsim__V1__Munmap *mu)
{
    struct mmsim_session *s = rq->s;
    uint64_t addr = mu->has_addr ? mu->addr : 0;
    uint64_t nr = mu->has_nr_pages ? mu->nr_pages : 0;
    struct mmsim_mm_stat st;
    int rc;

    if (addr & PAGE_MASK) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "address %#" PRIx64 " is not page aligned", addr);
        return;
    }
    if (nr == 0 || nr > (UINT64_MAX - addr) >> MMSIM_PAGE_SHIFT) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "nr_pages %" PRIu64 " at %#" PRIx64
                 ": the range is empty or wraps around",
                 nr, addr);
        return;
    }
    /* Nothing mapped yet: nothing to unmap, as munmap(2) of a hole. */
    if (!s->mm)
        return;
    /*
     * Unmapping the middle of a region splits it in two: at the limit,
     * refuse a range with mapped pages on both sides, as the kernel
     * refuses a split past vm.max_map_count (it may be two regions
     * trimmed, which would be fine; we do not look closer).
     */
    rc = mmsim_mm_stat(s->mm, &st);
    if (!rc && st.nr_regions >= rq->rpc->limits.max_mappings &&
        addr >= MMSIM_PAGE_SIZE && page_mapped(s->mm, addr - MMSIM_PAGE_SIZE) &&
        page_mapped(s->mm, addr + (nr << MMSIM_PAGE_SHIFT))) {
        rpc_fail(rq, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                 "the address space has %" PRIu64
                 " regions; max_mappings is %" PRIu32
                 " and unmapping may split one",
                 st.nr_regions, rq->rpc->limits.max_mappings);
        return;
    }
    if (!rc)
        rc = mmsim_munmap(s->mm, addr, nr);
    if (rc)
        vm_fail(rq, rc, "munmap %#" PRIx64 " %" PRIu64 " pages", addr, nr);
}

/* ---- MemRead, MemWrite, GetMmStat ---------------------------------------- */

void op_mem_read(struct rpc_req *rq, const Mmsim__V1__MemRead *r)
{
    struct mmsim_session *s = rq->s;
    uint64_t addr = r->has_addr ? r->addr : 0;
    uint32_t len = r->has_length ? r->length : 0;
    uint8_t *buf;
    int rc;

    if (!read_len_ok(rq, addr, len))
        return;
    if (!len) {
        read_reply(rq, NULL, 0);
        return;
    }
    if (!s->mm) {
        vm_fail(rq, MMSIM_EFAULT, "read %#" PRIx64 " (nothing is mapped)",
                addr);
        return;
    }
    buf = rpc_alloc(rq, len);
    if (!buf)
        return;
    rc = mmsim_mm_read(s->mm, s->cpu, addr, buf, len);
    if (rc) {
        vm_fail(rq, rc, "read %" PRIu32 " bytes at %#" PRIx64, len, addr);
        return;
    }
    read_reply(rq, buf, len);
}

void op_mem_write(struct rpc_req *rq, const Mmsim__V1__MemWrite *w)
{
    struct mmsim_session *s = rq->s;
    uint64_t addr = w->has_addr ? w->addr : 0;
    /* protobuf-c gives data == NULL for empty bytes. */
    size_t len = w->has_data ? w->data.len : 0;
    int rc;

    if (!len)
        return;
    if (addr > UINT64_MAX - (len - 1)) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "address %#" PRIx64 " + %zu bytes wraps around", addr, len);
        return;
    }
    if (!s->mm) {
        vm_fail(rq, MMSIM_EFAULT, "write %#" PRIx64 " (nothing is mapped)",
                addr);
        return;
    }
    rc = mmsim_mm_write(s->mm, s->cpu, addr, w->data.data, len);
    if (rc)
        vm_fail(rq, rc, "write %zu bytes at %#" PRIx64, len, addr);
}

void op_mm_stat(struct rpc_req *rq)
{
    struct mmsim_session *s = rq->s;
    Mmsim__V1__MmStatReply *r = rpc_alloc(rq, sizeof(*r));
    struct mmsim_mm_stat st;
    int rc;

    if (!r)
        return;
    memset(&st, 0, sizeof(st));
    st.owner = s->id;
    if (s->mm) {
        rc = mmsim_mm_stat(s->mm, &st);
        if (rc) {
            vm_fail(rq, rc, "mm stat");
            return;
        }
    }
    mmsim__v1__mm_stat_reply__init(r);
    r->has_owner = r->has_total_vm = r->has_rss = r->has_swapents = 1;
    r->has_nr_regions = r->has_minflt = r->has_majflt = r->has_extra = 1;
    r->has_oom_killed = r->has_block_pages = r->has_vmalloc_pages = 1;
    r->has_vmalloc_areas = 1;
    r->owner = st.owner;
    r->total_vm = st.total_vm;
    r->rss = st.rss;
    r->swapents = st.swapents;
    r->nr_regions = st.nr_regions;
    r->minflt = st.minflt;
    r->majflt = st.majflt;
    r->extra = st.extra;
    r->oom_killed = st.oom_killed;
    r->block_pages = s->pages;
    r->vmalloc_pages = s->vmalloc_pages;
    r->vmalloc_areas = s->vmalloc_areas;
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_MM_STAT;
    rq->resp.mm_stat = r;
}

/* ---- Vmalloc, Vfree, VRead, VWrite --------------------------------------- */

/* totalram_pages(): every zone's managed pages. */
static uint64_t total_ram_pages(struct mmsim_rpc *rpc)
{
    struct mmsim_zone_info zi;
    uint64_t sum = 0;

    for (unsigned nid = 0; nid < rpc->nr_nodes; nid++)
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
            if (mmsim_zone_info(rpc->machine, (int)nid, (enum mmsim_zone_type)t,
                                &zi) == 0)
                sum += zi.managed;
    return sum;
}

/*
 * The area holding @addr, if the session owns it; else NOT_OWNER.
 * Return: true with *@start and *@size (bytes, no guard page).
 */
static bool owned_area(struct rpc_req *rq, uint64_t addr, uint64_t *start,
                       uint64_t *size)
{
    uint64_t owner = 0;

    if (mmsim_vmalloc_find(rq->rpc->machine, addr, start, size, &owner) ||
        owner != rq->s->id) {
        rpc_fail(rq, MMSIM__V1__STATUS__NOT_OWNER,
                 "address %#" PRIx64
                 " is not in a vmalloc area this session owns",
                 addr);
        return false;
    }
    return true;
}

void op_vmalloc(struct rpc_req *rq, const Mmsim__V1__Vmalloc *v)
{
    struct mmsim_session *s = rq->s;
    uint64_t size = v->has_size ? v->size : 0, pages, addr;
    int node = v->has_node ? v->node : MMSIM_ANY_NODE;
    uint64_t max_pages = rq->rpc->limits.max_pages;
    Mmsim__V1__VmallocReply *r;
    int rc;

    if (size == 0 || size > (MMSIM_VMALLOC_MAX_PAGES << MMSIM_PAGE_SHIFT)) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "size %" PRIu64 ": an area has 1 to %" PRIu64 " bytes", size,
                 (uint64_t)(MMSIM_VMALLOC_MAX_PAGES << MMSIM_PAGE_SHIFT));
        return;
    }
    if (!node_ok(rq, v->has_node, v->node))
        return;
    pages = MMSIM_PFN_UP(size);
    if (max_pages && s->pages + s->vmalloc_pages + pages > max_pages) {
        rpc_fail(rq, MMSIM__V1__STATUS__QUOTA_EXCEEDED,
                 "vmalloc of %" PRIu64 " pages: the session owns %" PRIu64
                 " of its quota of %" PRIu64,
                 pages, s->pages + s->vmalloc_pages, max_pages);
        return;
    }
    /*
     * __vmalloc_node_range() refuses more than totalram_pages() at once:
     * such a request could only end in the OOM killer, most likely
     * killing the caller.
     */
    if (pages > total_ram_pages(rq->rpc)) {
        rpc_fail(rq, MMSIM__V1__STATUS__NO_MEMORY,
                 "vmalloc of %" PRIu64 " pages: the machine has %" PRIu64
                 " pages in all",
                 pages, total_ram_pages(rq->rpc));
        return;
    }
    r = rpc_alloc(rq, sizeof(*r));
    if (!r)
        return;
    rc = mmsim_vmalloc(rq->rpc->machine, s->cpu, size, node, s->id, &addr);
    if (rc) {
        vm_fail(rq, rc, "vmalloc %" PRIu64 " bytes node %d", size, node);
        return;
    }
    s->vmalloc_pages += pages;
    s->vmalloc_areas++;
    vm_account(s, (int64_t)pages);
    mmsim__v1__vmalloc_reply__init(r);
    r->has_addr = r->has_size = 1;
    r->addr = addr;
    r->size = pages << MMSIM_PAGE_SHIFT;
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_VMALLOC;
    rq->resp.vmalloc = r;
}

void op_vfree(struct rpc_req *rq, const Mmsim__V1__Vfree *v)
{
    struct mmsim_session *s = rq->s;
    uint64_t addr = v->has_addr ? v->addr : 0, start, size, pages;
    int rc;

    if (!owned_area(rq, addr, &start, &size))
        return;
    if (start != addr) {
        rpc_fail(rq, MMSIM__V1__STATUS__INVALID_ARGUMENT,
                 "address %#" PRIx64 " is inside the area at %#" PRIx64
                 "; vfree an area by its start",
                 addr, start);
        return;
    }
    rc = mmsim_vfree(rq->rpc->machine, s->cpu, addr);
    if (rc) {
        /* Ours and its start: only a core bug gets here. */
        session_log(s, RPC_LOG_ERR, "vfree %#" PRIx64 " failed: %s", addr,
                    mmsim_err_name(rc));
        vm_fail(rq, rc, "vfree %#" PRIx64, addr);
        return;
    }
    pages = MMSIM_PFN_UP(size);
    s->vmalloc_pages -= pages <= s->vmalloc_pages ? pages : s->vmalloc_pages;
    s->vmalloc_areas--;
    vm_account(s, -(int64_t)pages);
}

/*
 * The checks VRead and VWrite share, in this order: contents exist, the
 * address is in an owned area, the bytes stay inside it.
 */
static bool varea_ok(struct rpc_req *rq, uint64_t addr, uint64_t len)
{
    uint64_t start, size;

    if (!rq->rpc->contents) {
        rpc_fail(rq, MMSIM__V1__STATUS__NOT_SUPPORTED, "%s",
                 mmsim_strerror(MMSIM_ENOCONTENT));
        return false;
    }
    if (!owned_area(rq, addr, &start, &size))
        return false;
    if (addr - start > size || len > size - (addr - start)) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "%" PRIu64 " bytes at %#" PRIx64
                 " pass the end of the %" PRIu64 "-byte area at %#" PRIx64,
                 len, addr, size, start);
        return false;
    }
    return true;
}

void op_vread(struct rpc_req *rq, const Mmsim__V1__VRead *r)
{
    uint64_t addr = r->has_addr ? r->addr : 0;
    uint32_t len = r->has_length ? r->length : 0;
    uint8_t *buf = NULL;
    int rc;

    if (!read_len_ok(rq, addr, len) || !varea_ok(rq, addr, len))
        return;
    if (len) {
        buf = rpc_alloc(rq, len);
        if (!buf)
            return;
        rc = mmsim_vread(rq->rpc->machine, addr, buf, len);
        if (rc) {
            vm_fail(rq, rc, "vread %" PRIu32 " bytes at %#" PRIx64, len, addr);
            return;
        }
    }
    read_reply(rq, buf, len);
}

void op_vwrite(struct rpc_req *rq, const Mmsim__V1__VWrite *w)
{
    uint64_t addr = w->has_addr ? w->addr : 0;
    size_t len = w->has_data ? w->data.len : 0;
    int rc;

    if (!varea_ok(rq, addr, len) || !len)
        return;
    rc = mmsim_vwrite(rq->rpc->machine, addr, w->data.data, len);
    if (rc)
        vm_fail(rq, rc, "vwrite %zu bytes at %#" PRIx64, len, addr);
}

/* ---- Reclaim ------------------------------------------------------------- */

/*
 * Synchronous reclaim in the caller's worker, for deterministic
 * experiments: exactly @steps shrink_node() passes per node, or
 * balance_pgdat() per node. Other sessions on the same worker wait
 * meanwhile; RPC_MAX_RECLAIM_STEPS bounds how long.
 */
void op_reclaim(struct rpc_req *rq, const Mmsim__V1__Reclaim *r)
{
    struct mmsim_machine *m = rq->rpc->machine;
    int node = r->has_node ? r->node : MMSIM_ANY_NODE;
    uint32_t steps = r->has_steps ? r->steps : 1;
    bool balance = r->has_balance && r->balance;
    enum mmsim_reclaim_who who = r->has_as_kswapd && r->as_kswapd
                                     ? MMSIM_RECLAIM_KSWAPD
                                     : MMSIM_RECLAIM_DIRECT;
    unsigned first = 0, last = rq->rpc->nr_nodes - 1;
    Mmsim__V1__ReclaimReply *rr;
    bool balanced = true;

    if (!node_ok(rq, r->has_node, r->node))
        return;
    if (!balance && (steps == 0 || steps > RPC_MAX_RECLAIM_STEPS)) {
        rpc_fail(rq, MMSIM__V1__STATUS__OUT_OF_RANGE,
                 "steps %" PRIu32 ": 1 to %u per node", steps,
                 RPC_MAX_RECLAIM_STEPS);
        return;
    }
    if (node != MMSIM_ANY_NODE)
        first = last = (unsigned)node;
    rr = rpc_alloc(rq, sizeof(*rr));
    if (!rr)
        return;
    mmsim__v1__reclaim_reply__init(rr);
    for (unsigned nid = first; nid <= last; nid++) {
        if (balance) {
            int64_t got = mmsim_balance_node(m, (int)nid);

            if (got < 0) {
                vm_fail(rq, (int)got, "balance node %u", nid);
                return;
            }
            rr->reclaimed += (uint64_t)got;
        } else {
            for (uint32_t i = 0; i < steps; i++) {
                struct mmsim_reclaim_result res;
                int rc = mmsim_reclaim_step(m, (int)nid, who, &res);

                if (rc < 0) {
                    vm_fail(rq, rc, "reclaim node %u", nid);
                    return;
                }
                rr->scanned += res.scanned;
                rr->reclaimed += res.reclaimed;
                rr->activated += res.activated;
                rr->deactivated += res.deactivated;
                rr->kept += res.kept;
            }
        }
        balanced = balanced && mmsim_node_balanced(m, (int)nid);
    }
    rr->has_reclaimed = rr->has_balanced = 1;
    rr->has_scanned = rr->has_activated = rr->has_deactivated = !balance;
    rr->has_kept = !balance;
    rr->balanced = balanced;
    rq->resp.result_case = MMSIM__V1__RESPONSE__RESULT_RECLAIM;
    rq->resp.reclaim = rr;
}

/* ---- sessions: registry, teardown, OOM kills ----------------------------- */

void vm_register(struct mmsim_session *s)
{
    struct mmsim_rpc *rpc = s->rpc;

    pthread_mutex_lock(&rpc->sessions_lock);
    s->reg_prev = NULL;
    s->reg_next = rpc->sessions;
    if (rpc->sessions)
        rpc->sessions->reg_prev = s;
    rpc->sessions = s;
    pthread_mutex_unlock(&rpc->sessions_lock);
}

void vm_unregister(struct mmsim_session *s)
{
    struct mmsim_rpc *rpc = s->rpc;

    pthread_mutex_lock(&rpc->sessions_lock);
    if (s->reg_prev)
        s->reg_prev->reg_next = s->reg_next;
    else
        rpc->sessions = s->reg_next;
    if (s->reg_next)
        s->reg_next->reg_prev = s->reg_prev;
    s->reg_prev = s->reg_next = NULL;
    pthread_mutex_unlock(&rpc->sessions_lock);
}

void vm_teardown(struct mmsim_session *s, char *buf, size_t len)
{
    struct mmsim_mm_stat st;
    uint64_t areas = 0;
    size_t n = 0;

    buf[0] = '\0';
    if (s->vmalloc_areas) {
        areas = mmsim_vfree_owner(s->rpc->machine, s->cpu, s->id);
        n += (size_t)snprintf(buf, len,
                              ", %" PRIu64 " vmalloc areas (%" PRIu64 " pages)",
                              areas, s->vmalloc_pages);
        if (areas != s->vmalloc_areas)
            session_log(s, RPC_LOG_ERR,
                        "teardown: %" PRIu64 " vmalloc areas freed, %" PRIu64
                        " expected",
                        areas, s->vmalloc_areas);
    }
    if (s->mm) {
        if (mmsim_mm_stat(s->mm, &st) == 0 && n < len)
            snprintf(buf + n, len - n,
                     ", an address space of %" PRIu64 " pages (%" PRIu64
                     " resident, %" PRIu64 " swapped)%s",
                     st.total_vm, st.rss, st.swapents,
                     st.oom_killed ? " killed by the OOM killer" : "");
        mmsim_mm_destroy(s->mm);
        s->mm = NULL;
    }
    s->vmalloc_pages = s->vmalloc_areas = 0;
}

void mmsim_rpc_oom_kill(struct mmsim_rpc *rpc, uint64_t owner)
{
    struct mmsim_session *s;

    if (!rpc)
        return;
    pthread_mutex_lock(&rpc->sessions_lock);
    for (s = rpc->sessions; s; s = s->reg_next)
        if (s->id == owner)
            break;
    if (s && !atomic_exchange(&s->killed, true)) {
        session_log(s, RPC_LOG_WARN, "chosen by the OOM killer");
        if (rpc->session_killed && s->ctx)
            rpc->session_killed(rpc->session_killed_ctx, s->ctx, s->id);
    }
    pthread_mutex_unlock(&rpc->sessions_lock);
}

void mmsim_session_set_ctx(struct mmsim_session *s, void *ctx)
{
    struct mmsim_rpc *rpc = s->rpc;

    pthread_mutex_lock(&rpc->sessions_lock);
    s->ctx = ctx;
    if (ctx && rpc->session_killed && atomic_load(&s->killed))
        rpc->session_killed(rpc->session_killed_ctx, ctx, s->id);
    pthread_mutex_unlock(&rpc->sessions_lock);
}

bool mmsim_session_killed(const struct mmsim_session *s)
{
    return vm_killed(s);
}
