/*
 * bootmem_ops.c - fuzz one bootmem allocator against a page-bitmap model.
 *
 * DOC: the model
 *
 * Per node: its pfn range, whether it is set up and retired, and one byte
 * per page saying reserved or free. The operations change the model as
 * mmsim/bootmem.h documents (init_node reserves everything; free_bootmem
 * frees the whole pages inside the range and fails with EALREADY if one
 * is free; reserve_bootmem reserves every page the range touches, EBUSY
 * when exclusive and one is reserved; ranges may span contiguous nodes),
 * every error must change nothing, and after every operation the free
 * counts and the pages the operation touched must match the model (all
 * pages of every node at the end and every 64 operations).
 *
 * Allocations are not predicted page for page (first fit from a hint is
 * the allocator's business) but checked for everything that must hold:
 * the alignment; the limit; a whole live node holds the block; exactly
 * the pages the block touches were newly reserved, except a first page
 * shared with the previous allocation's partly used last page (and then
 * the block starts after that allocation's end); the node's hint and
 * last_end_off afterwards. A failure (ENOMEM or EPANIC) must mean that no
 * live node has an aligned run of free pages of the size below the limit.
 *
 * free_all_node must hand every free page to the callback exactly once,
 * in ascending order, as the largest naturally aligned blocks of at most
 * 2^max_order pages, and then retire the node.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/bootmem.h"
#include "ops.h"

#define PAGE        MMSIM_PAGE_SIZE
#define MAX_OPS     2048
#define FULL_EVERY  256  /* operations between comparisons of every page */
#define RANGE_PAGES 1024 /* larger touched ranges are compared by sampling */

struct mnode {
    bool present, retired;
    uint64_t min, low; /* pfns [min, low) */
    uint8_t *rsv;      /* one byte per page: 1 reserved */
    uint64_t nr_free;  /* pages with rsv 0 */
};

struct ctx {
    struct mmsim_bootmem *bm;
    struct fz_hostfail hf;
    struct mmsim_allocator alloc;
    uint64_t low_limit, dma32;
    struct mnode node[BM_NODES];
    /* free_all callbacks */
    uint64_t *rel_pfn;
    unsigned *rel_order;
    size_t nr_rel, cap_rel;
    bool trace;
};

struct rcset {
    int v[8];
    unsigned n;
};

static void rc_add(struct rcset *s, int rc)
{
    if (s->n < 8)
        s->v[s->n++] = rc;
}

static bool rc_has(const struct rcset *s, int rc)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->v[i] == rc)
            return true;
    return false;
}

static uint64_t pfn_up(uint64_t addr)
{
    return (addr >> 12) + ((addr & (PAGE - 1)) != 0);
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* ---- the model -------------------------------------------------------- */

/* The live (set up, not retired) node holding @pfn, or NULL. */
FZ_NOCOV static struct mnode *node_at(struct ctx *c, uint64_t pfn, int *nid)
{
    for (int n = 0; n < BM_NODES; n++) {
        struct mnode *m = &c->node[n];

        if (m->present && pfn >= m->min && pfn < m->low) {
            if (nid)
                *nid = n;
            return m;
        }
    }
    return NULL;
}

static uint64_t model_free(const struct mnode *m)
{
    return m->present && !m->retired ? m->nr_free : 0;
}

/* Set page @p of @m reserved or free, keeping the free count. */
static void set_rsv(struct mnode *m, uint64_t p, bool reserve)
{
    uint8_t *b = &m->rsv[p - m->min];

    if (*b != reserve)
        m->nr_free += reserve ? (uint64_t)-1 : 1;
    *b = reserve;
}

/* Compare pages [s, e) of every node with the allocator. */
FZ_NOCOV static void compare_pages_step(struct ctx *c, uint64_t s, uint64_t e,
                                        uint64_t step, const char *what)
{
    for (int n = 0; n < BM_NODES; n++) {
        const struct mnode *m = &c->node[n];
        uint64_t a = s > m->min ? s : m->min, b = e < m->low ? e : m->low;

        if (!m->present)
            continue;
        for (uint64_t p = a; p < b; p += step) {
            bool want = !m->retired && m->rsv[p - m->min];

            FZ_CHECK(mmsim_bootmem_page_reserved(c->bm, p) == want,
                     "%s: page %#" PRIx64 " of node %d is %s, the model says "
                     "%s",
                     what, p, n,
                     mmsim_bootmem_page_reserved(c->bm, p) ? "reserved"
                                                           : "free",
                     want ? "reserved" : "free");
        }
    }
}

/* Every page of a small range; 1024 spread pages and both ends of a big one. */
static void compare_pages(struct ctx *c, uint64_t s, uint64_t e,
                          const char *what)
{
    if (e - s <= RANGE_PAGES) {
        compare_pages_step(c, s, e, 1, what);
        return;
    }
    compare_pages_step(c, s, s + 16, 1, what);
    compare_pages_step(c, e - 16, e, 1, what);
    compare_pages_step(c, s, e, (e - s) / RANGE_PAGES + 1, what);
}

static void compare_counts(struct ctx *c, const char *what)
{
    uint64_t total = 0;

    for (int n = 0; n < BM_NODES; n++) {
        uint64_t want = model_free(&c->node[n]);

        FZ_CHECK(mmsim_bootmem_free_pages(c->bm, n) == want,
                 "%s: node %d has %" PRIu64 " free pages, the model %" PRIu64,
                 what, n, mmsim_bootmem_free_pages(c->bm, n), want);
        FZ_CHECK(mmsim_bootmem_has_node(c->bm, n) == c->node[n].present &&
                     mmsim_bootmem_node_retired(c->bm, n) == c->node[n].retired,
                 "%s: node %d present/retired", what, n);
        total += want;
    }
    FZ_CHECK(mmsim_bootmem_free_pages(c->bm, MMSIM_NUMA_NO_NODE) == total,
             "%s: %" PRIu64 " free pages in all, the model %" PRIu64, what,
             mmsim_bootmem_free_pages(c->bm, MMSIM_NUMA_NO_NODE), total);
}

/*
 * Every page of nodes up to 8192 pages; every 7th page and the ends of
 * bigger ones (the free counts cover the rest).
 */
static void compare_all(struct ctx *c, const char *what)
{
    compare_counts(c, what);
    for (int n = 0; n < BM_NODES; n++) {
        const struct mnode *m = &c->node[n];
        uint64_t pages = m->low - m->min;

        if (!m->present)
            continue;
        if (pages <= 8192) {
            compare_pages_step(c, m->min, m->low, 1, what);
            continue;
        }
        compare_pages_step(c, m->min, m->min + 64, 1, what);
        compare_pages_step(c, m->low - 64, m->low, 1, what);
        compare_pages_step(c, m->min, m->low, 7, what);
    }
}

/* ---- init_node ---------------------------------------------------------- */

static void op_init_node(struct ctx *c, unsigned nidsel, unsigned kind,
                         unsigned a, unsigned b)
{
    int nid = bm_sel_nid(nidsel);
    uint64_t s, e;
    struct rcset want = {.n = 0};
    bool hit_before = c->hf.hit;
    int rc;

    switch (kind % 4) {
    case BM_INIT_LOW:
        s = (uint64_t)a * 16;
        e = s + 1 + b % 16384;
        break;
    case BM_INIT_4G:
        s = BM_PFN_4G - a;
        e = s + 1 + b % 65536;
        break;
    case BM_INIT_EMPTY:
        s = (uint64_t)a * 16;
        e = s - b % 2;
        break;
    default:
        s = (UINT64_MAX >> 12) - a;
        e = s + b;
        if (e < s)
            e = UINT64_MAX;
        break;
    }
    if (nid < 0 || nid >= MMSIM_MAX_NODES || s >= e)
        rc_add(&want, MMSIM_EINVAL);
    if (e > UINT64_MAX >> 12)
        rc_add(&want, MMSIM_EOVERFLOW);
    if (nid >= 0 && nid < BM_NODES && c->node[nid].present)
        rc_add(&want, MMSIM_EINVAL);
    for (int n = 0; n < BM_NODES; n++)
        if (c->node[n].present && s < c->node[n].low && c->node[n].min < e)
            rc_add(&want, MMSIM_EINVAL);
    rc = mmsim_bootmem_init_node(c->bm, nid, s, e);
    if (c->trace)
        fprintf(stderr, "init_node(%d, %#" PRIx64 ", %#" PRIx64 ") -> %s\n",
                nid, s, e, fz_err(rc));
    if (!hit_before && c->hf.hit) {
        FZ_CHECK(rc == MMSIM_EHOSTMEM || rc_has(&want, rc),
                 "host failure in init_node reported as %s", fz_err(rc));
        if (rc == MMSIM_EHOSTMEM)
            FZ_CHECK(!mmsim_bootmem_has_node(c->bm, nid),
                     "failed init_node set the node up");
        return;
    }
    if (want.n) {
        FZ_CHECK(rc_has(&want, rc),
                 "init_node(%d, %#" PRIx64 ", %#" PRIx64 "): %s, expected %s",
                 nid, s, e, fz_err(rc), fz_err(want.v[0]));
        return;
    }
    FZ_CHECK(rc == 0, "init_node(%d, %#" PRIx64 ", %#" PRIx64 "): %s", nid, s,
             e, fz_err(rc));
    c->node[nid].present = true;
    c->node[nid].min = s;
    c->node[nid].low = e;
    c->node[nid].rsv = malloc(e - s);
    if (!c->node[nid].rsv)
        fz_fail("out of host memory");
    memset(c->node[nid].rsv, 1, e - s);
    c->node[nid].nr_free = 0;
    {
        uint64_t mn, lo, hint, leo;

        FZ_CHECK(!mmsim_bootmem_node_state(c->bm, nid, &mn, &lo, &hint, &leo) &&
                     mn == s && lo == e && hint == 0 && leo == 0,
                 "node_state after init_node");
    }
}

/* ---- free and reserve -----------------------------------------------------
 */

/* An address: relative to a node (kind 0, 1), absolute, or near 2^64. */
static uint64_t pick_addr(struct ctx *c, unsigned kind, unsigned nsel,
                          unsigned v)
{
    const struct mnode *m = &c->node[nsel % BM_NODES];

    switch (kind % 4) {
    case BM_A_NODE:
        return (m->present ? m->min << 12 : 0) + (uint64_t)v * 256;
    case BM_A_END:
        return m->present ? (m->low << 12) - (uint64_t)v * 256
                          : (uint64_t)v * 256;
    case BM_A_ABS:
        return (uint64_t)v << 16;
    default:
        return UINT64_MAX - v;
    }
}

/*
 * mark_bootmem() semantics over the model: the codes a call may return
 * (a range with several problems may name any of them), 0 when none.
 */
FZ_NOCOV static void expect_mark(struct ctx *c, uint64_t s, uint64_t e,
                                 bool reserve, bool exclusive,
                                 struct rcset *want)
{
    uint64_t pos = s;

    if (!node_at(c, s, NULL)) {
        rc_add(want, MMSIM_EFAULT);
        return;
    }
    while (pos < e) {
        struct mnode *m = node_at(c, pos, NULL);
        uint64_t end;

        if (!m) {
            rc_add(want, MMSIM_EFAULT);
            return;
        }
        if (m->retired) {
            rc_add(want, MMSIM_EPERM);
            return;
        }
        end = e < m->low ? e : m->low;
        for (uint64_t p = pos; p < end; p++) {
            if (!reserve && !m->rsv[p - m->min]) {
                rc_add(want, MMSIM_EALREADY);
                break;
            }
            if (reserve && exclusive && m->rsv[p - m->min]) {
                rc_add(want, MMSIM_EBUSY);
                break;
            }
        }
        pos = end;
    }
}

FZ_NOCOV static void apply_mark(struct ctx *c, uint64_t s, uint64_t e,
                                bool reserve)
{
    for (uint64_t p = s; p < e;) {
        struct mnode *m = node_at(c, p, NULL);
        uint64_t end = e < m->low ? e : m->low;

        for (; p < end; p++)
            set_rsv(m, p, reserve);
    }
}

static void op_mark(struct ctx *c, bool reserve, uint64_t addr, uint64_t size,
                    unsigned flags)
{
    struct rcset want = {.n = 0};
    uint64_t s = 0, e = 0, hints[BM_NODES];
    int rc;

    for (int n = 0; n < BM_NODES; n++)
        if (c->node[n].present)
            mmsim_bootmem_node_state(c->bm, n, NULL, NULL, &hints[n], NULL);
    if (reserve && (flags & ~MMSIM_BOOTMEM_EXCLUSIVE))
        rc_add(&want, MMSIM_EINVAL);
    if (size > UINT64_MAX - addr) {
        rc_add(&want, MMSIM_EOVERFLOW);
    } else if (reserve) {
        s = addr >> 12;
        e = pfn_up(addr + size);
        if (size)
            expect_mark(c, s, e, true, flags & MMSIM_BOOTMEM_EXCLUSIVE, &want);
    } else {
        s = pfn_up(addr);
        e = (addr + size) >> 12;
        if (s < e)
            expect_mark(c, s, e, false, false, &want);
    }
    rc = reserve ? mmsim_bootmem_reserve(c->bm, addr, size, flags)
                 : mmsim_bootmem_free(c->bm, addr, size);
    if (c->trace)
        fprintf(stderr, "%s(%#" PRIx64 ", %#" PRIx64 ", %u) -> %s\n",
                reserve ? "reserve" : "free", addr, size, flags, fz_err(rc));
    if (want.n) {
        FZ_CHECK(rc_has(&want, rc),
                 "%s([%#" PRIx64 ", +%#" PRIx64 ") flags %u): %s, expected %s",
                 reserve ? "reserve" : "free", addr, size, flags, fz_err(rc),
                 fz_err(want.v[0]));
    } else {
        FZ_CHECK(rc == 0, "%s([%#" PRIx64 ", +%#" PRIx64 ")): %s",
                 reserve ? "reserve" : "free", addr, size, fz_err(rc));
        if (s < e && (!reserve || size))
            apply_mark(c, s, e, reserve);
    }
    /* Hints: unchanged by errors and reserves; frees pull them back. */
    for (int n = 0; n < BM_NODES; n++) {
        struct mnode *m = &c->node[n];
        uint64_t hint, want_hint = hints[n];

        if (!m->present)
            continue;
        if (!rc && !reserve && s < e && s < m->low && e > m->min) {
            uint64_t sidx = (s > m->min ? s : m->min) - m->min;

            if (want_hint > sidx)
                want_hint = sidx;
        }
        mmsim_bootmem_node_state(c->bm, n, NULL, NULL, &hint, NULL);
        FZ_CHECK(hint == want_hint,
                 "%s: node %d hint_idx %" PRIu64 ", expected %" PRIu64,
                 reserve ? "reserve" : "free", n, hint, want_hint);
    }
    compare_counts(c, reserve ? "reserve" : "free");
    if (s < e)
        compare_pages(c, s, e, reserve ? "reserve" : "free");
}

/* ---- allocation --------------------------------------------------------- */

/* Is there an aligned run of @pages free pages below @limit_pfn? */
FZ_NOCOV static bool run_exists(const struct ctx *c, uint64_t pages,
                                uint64_t step, uint64_t limit_pfn)
{
    for (int n = 0; n < BM_NODES; n++) {
        const struct mnode *m = &c->node[n];
        uint64_t max, run = 0;

        if (!m->present || m->retired)
            continue;
        max = limit_pfn && limit_pfn < m->low ? limit_pfn : m->low;
        for (uint64_t p = m->min; p < max; p++) {
            if (m->rsv[p - m->min]) {
                run = 0;
                continue;
            }
            /* Count runs starting at aligned pfns only. */
            if (!run && p % step)
                continue;
            if (++run >= pages)
                return true;
        }
    }
    return false;
}

static void op_alloc(struct ctx *c, const uint32_t *a)
{
    unsigned variant = a[0] % BM_NR_ALLOC;
    uint64_t size = bm_size(a[1], a[2]);
    uint64_t align = bm_sel_align(a[3]);
    uint64_t goal = pick_addr(c, a[4], a[5], a[6]);
    uint64_t limit = 0, eff_limit, ealign, addr = 0xdead;
    int nid = bm_sel_nid(a[9]);
    bool nopanic, node_variant, all_retired = true, any = false;
    struct rcset want = {.n = 0};
    uint64_t state[BM_NODES][2];
    int rc, anid = -1;
    struct mnode *m;

    switch (a[7] % 4) {
    case BM_L_PAGE:
        limit = (uint64_t)a[8] << 12;
        break;
    case BM_L_4G:
        limit = (BM_PFN_4G - a[8]) << 12;
        break;
    case BM_L_NODE:
        limit = (uint64_t)a[8] << 16;
        break;
    }
    nopanic =
        variant == BM_ALLOC_NOPANIC || variant == BM_ALLOC_LIMIT_NOPANIC ||
        variant == BM_ALLOC_LOW_NOPANIC || variant == BM_ALLOC_NODE_NOPANIC;
    node_variant = variant >= BM_ALLOC_NODE;
    if (variant == BM_ALLOC || variant == BM_ALLOC_NOPANIC ||
        variant == BM_ALLOC_NODE_HIGH)
        limit = 0;
    if (variant == BM_ALLOC_LOW || variant == BM_ALLOC_LOW_NOPANIC)
        limit = c->low_limit + 1;
    if (variant == BM_ALLOC_NODE || variant == BM_ALLOC_NODE_NOPANIC)
        limit = 0;

    /* Argument errors, as documented for the whole family. */
    if (!size || (align && !is_pow2(align)))
        rc_add(&want, MMSIM_EINVAL);
    if (size > UINT64_MAX - (PAGE - 1) || goal > UINT64_MAX - size)
        rc_add(&want, MMSIM_EOVERFLOW);
    if (!node_variant && limit && size <= UINT64_MAX - goal &&
        goal + size > limit)
        rc_add(&want, MMSIM_EINVAL);
    if (node_variant && nid != MMSIM_NUMA_NO_NODE &&
        (nid < 0 || nid >= MMSIM_MAX_NODES))
        rc_add(&want, MMSIM_EINVAL);
    for (int n = 0; n < BM_NODES; n++) {
        if (c->node[n].present) {
            any = true;
            all_retired &= c->node[n].retired;
        }
    }
    if (any && all_retired)
        rc_add(&want, MMSIM_EPERM);
    if (node_variant && nid >= 0 && nid < BM_NODES && c->node[nid].retired)
        rc_add(&want, MMSIM_EPERM);

    for (int n = 0; n < BM_NODES; n++) {
        if (!c->node[n].present)
            continue;
        mmsim_bootmem_node_state(c->bm, n, NULL, NULL, &state[n][0],
                                 &state[n][1]);
    }

    switch (variant) {
    case BM_ALLOC:
        rc = mmsim_bootmem_alloc(c->bm, size, align, goal, &addr);
        break;
    case BM_ALLOC_NOPANIC:
        rc = mmsim_bootmem_alloc_nopanic(c->bm, size, align, goal, &addr);
        break;
    case BM_ALLOC_LIMIT:
    case BM_ALLOC_LIMIT_NOPANIC:
        rc = mmsim_bootmem_alloc_limit(c->bm, size, align, goal, limit, nopanic,
                                       &addr);
        break;
    case BM_ALLOC_LOW:
    case BM_ALLOC_LOW_NOPANIC:
        rc = mmsim_bootmem_alloc_low(c->bm, size, align, goal, nopanic, &addr);
        break;
    case BM_ALLOC_NODE:
    case BM_ALLOC_NODE_NOPANIC:
    case BM_ALLOC_NODE_LIMIT:
        rc = mmsim_bootmem_alloc_node(c->bm, nid, size, align, goal, limit,
                                      nopanic, &addr);
        break;
    default:
        rc =
            mmsim_bootmem_alloc_node_high(c->bm, nid, size, align, goal, &addr);
        break;
    }
    if (c->trace)
        fprintf(stderr,
                "alloc variant %u size %#" PRIx64 " align %#" PRIx64
                " goal %#" PRIx64 " limit %#" PRIx64 " nid %d -> %s %#" PRIx64
                "\n",
                variant, size, align, goal, limit, nid, fz_err(rc), addr);

    if (want.n) {
        FZ_CHECK(rc_has(&want, rc), "alloc variant %u: %s, expected %s",
                 variant, fz_err(rc), fz_err(want.v[0]));
        goto out;
    }
    ealign = align ? align : 64;
    /* A goal the limit cannot honour drops the limit (node variants). */
    eff_limit = limit;
    if (node_variant && limit && goal + size > limit)
        eff_limit = 0;
    if (rc) {
        uint64_t step = ealign >> 12 ? ealign >> 12 : 1;

        FZ_CHECK(rc == (nopanic ? MMSIM_ENOMEM : MMSIM_EPANIC),
                 "alloc variant %u: %s", variant, fz_err(rc));
        FZ_CHECK(!run_exists(c, pfn_up(size), step, eff_limit >> 12),
                 "alloc variant %u (size %#" PRIx64 " align %#" PRIx64
                 " limit %#" PRIx64 ") failed with a free run available",
                 variant, size, ealign, eff_limit);
        FZ_CHECK(addr == 0xdead, "failed alloc wrote *addr");
        goto out;
    }

    /* Success: where it went and what it reserved. */
    FZ_CHECK(!(addr & (ealign - 1)),
             "alloc: %#" PRIx64 " not aligned to %#" PRIx64, addr, ealign);
    if (eff_limit)
        FZ_CHECK(addr + size <= eff_limit,
                 "alloc: %#" PRIx64 "+%#" PRIx64 " past the limit %#" PRIx64,
                 addr, size, eff_limit);
    m = node_at(c, addr >> 12, &anid);
    FZ_CHECK(m && !m->retired && ((addr + size - 1) >> 12) < m->low,
             "alloc: [%#" PRIx64 ", +%#" PRIx64 ") not inside one live node",
             addr, size);
    {
        uint64_t ps = addr >> 12, pe = pfn_up(addr + size);
        uint64_t leo = state[anid][1], base = m->min << 12, hint, leo_after;
        /*
         * Packing: a block starting in the partly used last page of the
         * previous allocation shares that page and reserves only the
         * pages after it (whatever that page's bit says meanwhile).
         */
        bool shared = (leo & (PAGE - 1)) && m->min + (leo >> 12) == ps &&
                      addr >= base + leo;

        /* The model still holds the state from before the call. */
        for (uint64_t p = ps; p < pe; p++)
            FZ_CHECK(!m->rsv[p - m->min] || (p == ps && shared),
                     "alloc: [%#" PRIx64 ", +%#" PRIx64 ") took reserved page "
                     "%#" PRIx64,
                     addr, size, p);
        for (uint64_t p = ps + shared; p < pe; p++)
            set_rsv(m, p, true);
        compare_pages(c, ps, pe, "alloc");
        mmsim_bootmem_node_state(c->bm, anid, NULL, NULL, &hint, &leo_after);
        FZ_CHECK(leo_after == addr + size - base && hint == pfn_up(leo_after),
                 "alloc: node %d last_end_off %#" PRIx64 " hint %" PRIu64
                 " after [%#" PRIx64 ", +%#" PRIx64 ")",
                 anid, leo_after, hint, addr, size);
    }

out:
    /* Nothing else changed: counts of every node, pages of this one. */
    compare_counts(c, "alloc");
    for (int n = 0; n < BM_NODES; n++) {
        uint64_t hint, leo;

        if (!c->node[n].present || n == anid)
            continue;
        mmsim_bootmem_node_state(c->bm, n, NULL, NULL, &hint, &leo);
        FZ_CHECK(hint == state[n][0] && leo == state[n][1],
                 "alloc changed node %d's hint", n);
    }
}

/* ---- the hand-off ---------------------------------------------------------
 */

static void release_cb(void *ctx, uint64_t pfn, unsigned order)
{
    struct ctx *c = ctx;

    if (c->nr_rel == c->cap_rel) {
        size_t cap = c->cap_rel ? c->cap_rel * 2 : 256;
        uint64_t *p = realloc(c->rel_pfn, cap * sizeof(*p));
        unsigned *o;

        if (!p)
            fz_fail("out of host memory");
        c->rel_pfn = p;
        o = realloc(c->rel_order, cap * sizeof(*o));
        if (!o)
            fz_fail("out of host memory");
        c->rel_order = o;
        c->cap_rel = cap;
    }
    c->rel_pfn[c->nr_rel] = pfn;
    c->rel_order[c->nr_rel++] = order;
    /* The node reads as retired from the first callback on. */
    if (c->nr_rel == 1)
        FZ_CHECK(!mmsim_bootmem_page_reserved(c->bm, pfn),
                 "a released page reads as reserved");
}

/* The callbacks must be the greedy block split of the model's free runs. */
FZ_NOCOV static void check_release(struct ctx *c, const struct mnode *m,
                                   unsigned max_order, size_t *k)
{
    uint64_t n = m->low - m->min;

    for (uint64_t i = 0; i < n;) {
        uint64_t j, pfn;

        if (m->rsv[i]) {
            i++;
            continue;
        }
        for (j = i; j < n && !m->rsv[j]; j++)
            ;
        for (pfn = m->min + i; pfn < m->min + j;) {
            unsigned order = max_order;

            while (order && (pfn & ((UINT64_C(1) << order) - 1)))
                order--;
            while (order && (UINT64_C(1) << order) > m->min + j - pfn)
                order--;
            FZ_CHECK(*k < c->nr_rel && c->rel_pfn[*k] == pfn &&
                         c->rel_order[*k] == order,
                     "free_all: block %zu is %#" PRIx64 " order %u, the model "
                     "%#" PRIx64 " order %u",
                     *k, *k < c->nr_rel ? c->rel_pfn[*k] : 0,
                     *k < c->nr_rel ? c->rel_order[*k] : 0, pfn, order);
            (*k)++;
            pfn += UINT64_C(1) << order;
        }
        i = j;
    }
}

static void op_free_all(struct ctx *c, bool one, unsigned nidsel,
                        unsigned order_sel, unsigned bad)
{
    int nid = bm_sel_nid(nidsel);
    unsigned max_order = order_sel % (MMSIM_MAX_ORDER_CAP + 3);
    bool null_cb = (bad & 3) == 3;
    int order_nodes[BM_NODES] = {0}, nr = 0;
    uint64_t want_pages = 0;
    int64_t got;
    size_t k = 0;
    struct rcset want = {.n = 0};

    c->nr_rel = 0;
    if (null_cb || max_order > MMSIM_MAX_ORDER_CAP)
        rc_add(&want, MMSIM_EINVAL);
    if (one) {
        if (nid < 0 || nid >= MMSIM_MAX_NODES)
            rc_add(&want, MMSIM_EINVAL);
        else if (nid >= BM_NODES || !c->node[nid].present)
            rc_add(&want, MMSIM_ENODEV);
        else if (c->node[nid].retired)
            rc_add(&want, MMSIM_EPERM);
    }
    /* The nodes it walks, in ascending start order. */
    for (int n = 0; n < BM_NODES; n++) {
        const struct mnode *m = &c->node[n];
        int i = nr;

        if (!m->present || m->retired || (one && n != nid))
            continue;
        while (i > 0 && c->node[order_nodes[i - 1]].min > m->min) {
            order_nodes[i] = order_nodes[i - 1];
            i--;
        }
        order_nodes[i] = n;
        nr++;
        want_pages += model_free(m);
    }
    got = one ? mmsim_bootmem_free_all_node(c->bm, nid, max_order,
                                            null_cb ? NULL : release_cb, c)
              : mmsim_bootmem_free_all(c->bm, max_order,
                                       null_cb ? NULL : release_cb, c);
    if (c->trace)
        fprintf(stderr, "free_all%s(%d, %u) -> %" PRId64 "\n",
                one ? "_node" : "", nid, max_order, got);
    if (want.n) {
        FZ_CHECK(got < 0 && rc_has(&want, (int)got),
                 "free_all: %" PRId64 ", expected %s", got, fz_err(want.v[0]));
        FZ_CHECK(c->nr_rel == 0, "a failed free_all called back");
        return;
    }
    FZ_CHECK(got >= 0 && (uint64_t)got == want_pages,
             "free_all released %" PRId64 " pages, the model %" PRIu64, got,
             want_pages);
    for (int i = 0; i < nr; i++) {
        struct mnode *m = &c->node[order_nodes[i]];

        check_release(c, m, max_order, &k);
        m->retired = true;
    }
    FZ_CHECK(k == c->nr_rel, "free_all: %zu callbacks, the model %zu",
             c->nr_rel, k);
}

/* ---- queries --------------------------------------------------------------
 */

static void op_query(struct ctx *c, unsigned which, unsigned sel, unsigned arg)
{
    switch (which % BM_NR_Q) {
    case BM_Q_PAGE: {
        const struct mnode *m = &c->node[sel % BM_NODES];
        uint64_t pfn = m->present ? m->min + arg % (m->low - m->min + 4)
                                  : (uint64_t)arg << 4;

        compare_pages(c, pfn, pfn + 1, "page_reserved");
        break;
    }
    case BM_Q_COUNTS:
        compare_counts(c, "query");
        FZ_CHECK(!mmsim_bootmem_has_node(c->bm, -1) &&
                     !mmsim_bootmem_has_node(c->bm, MMSIM_MAX_NODES) &&
                     !mmsim_bootmem_node_retired(c->bm, 1000) &&
                     mmsim_bootmem_free_pages(c->bm, MMSIM_MAX_NODES + 3) == 0,
                 "queries with bad nodes");
        break;
    case BM_Q_STATE: {
        int nid = bm_sel_nid(sel);
        uint64_t mn = 1, lo = 2;
        int rc = mmsim_bootmem_node_state(c->bm, nid, &mn, &lo, NULL, NULL);

        if (nid < 0 || nid >= MMSIM_MAX_NODES)
            FZ_CHECK(rc == MMSIM_EINVAL, "node_state(%d): %s", nid, fz_err(rc));
        else if (nid >= BM_NODES || !c->node[nid].present)
            FZ_CHECK(rc == MMSIM_ENODEV, "node_state(%d): %s", nid, fz_err(rc));
        else
            FZ_CHECK(rc == 0 && mn == c->node[nid].min &&
                         lo == c->node[nid].low,
                     "node_state(%d)", nid);
        break;
    }
    default: {
        uint64_t pages = (uint64_t)sel << 16 | arg;

        FZ_CHECK(mmsim_bootmem_bitmap_bytes(pages) == (pages + 63) / 64 * 8,
                 "bitmap_bytes(%" PRIu64 ")", pages);
        break;
    }
    }
}

/* ---- the run ----------------------------------------------------------------
 */

static void ctx_free(struct ctx *c)
{
    mmsim_bootmem_destroy(c->bm);
    for (int n = 0; n < BM_NODES; n++)
        free(c->node[n].rsv);
    free(c->rel_pfn);
    free(c->rel_order);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct ctx *c = calloc(1, sizeof(*c));
    unsigned flags, nops = 0;
    uint16_t fail_at;
    int rc;

    if (!c)
        return 0;
    flags = fz_u8(&in);
    fail_at = fz_u16(&in);
    c->low_limit = bm_low_limits[fz_u8(&in) % 4];
    c->dma32 = bm_dma32_pfns[fz_u8(&in) % 4];
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    c->hf.fail_at = (flags & BM_HDR_HOSTFAIL) ? 1 + fail_at % 16u : 0;
    c->alloc = fz_hostfail_allocator(&c->hf);
    rc = mmsim_bootmem_create(c->hf.fail_at ? &c->alloc : NULL, c->low_limit,
                              c->dma32, &c->bm);
    if (c->hf.hit) {
        FZ_CHECK(rc == MMSIM_EHOSTMEM, "host failure in create reported as %s",
                 fz_err(rc));
        c->bm = NULL;
        ctx_free(c);
        return 0;
    }
    FZ_CHECK(rc == 0, "bootmem_create: %s", fz_err(rc));
    compare_all(c, "create");

    while (fz_more(&in) && nops++ < MAX_OPS) {
        struct fz_op op;
        const uint32_t *a = op.arg;

        fz_dec_op(&in, bm_op_layout, BM_NR_OPS, &op);
        switch (op.code) {
        case BM_OP_INIT_NODE:
            op_init_node(c, a[0], a[1], a[2], a[3]);
            compare_counts(c, "init_node");
            break;
        case BM_OP_FREE:
            op_mark(c, false, pick_addr(c, a[0], a[1], a[2]),
                    bm_size(a[3], a[4]), 0);
            break;
        case BM_OP_RESERVE:
            op_mark(c, true, pick_addr(c, a[0], a[1], a[2]),
                    bm_size(a[3], a[4]), a[5] % 3);
            break;
        case BM_OP_ALLOC:
            op_alloc(c, a);
            break;
        case BM_OP_FREE_ALL_NODE:
            op_free_all(c, true, a[0], a[1], a[2]);
            compare_counts(c, "free_all_node");
            break;
        case BM_OP_FREE_ALL:
            op_free_all(c, false, 0, a[0], a[1]);
            compare_counts(c, "free_all");
            break;
        default:
            op_query(c, a[0], a[1], a[2]);
            break;
        }
        if (nops % FULL_EVERY == 0)
            compare_all(c, "periodic");
    }
    compare_all(c, "end");
    ctx_free(c);
    return 0;
}
