/*
 * memblock_ops.c - fuzz one memblock against an interval model.
 *
 * DOC: the model
 *
 * Both arrays are modelled as sorted lists of disjoint byte intervals
 * with a node and flags, kept canonical (touching neighbours with the
 * same node and flags merged), and every operation is applied to the
 * model by its documented meaning: add fills only the holes of the range
 * with the new node and flags, remove/free cut the range out, set_node
 * and the flag operations rewrite what the range covers, sizes are capped
 * at the top of the address space. After every operation both arrays
 * must equal the model region for region, and queries (is_memory,
 * is_region_*, start/end of DRAM, the free-range iterator, the debugfs
 * text) must agree with it.
 *
 * Allocations are predicted exactly: the model computes the free pieces
 * (memory minus reserved, NOMAP and driver-managed memory skipped, per
 * memory region) and takes the highest aligned fit top-down or the lowest
 * bottom-up, within [max(start, 4 KiB), end), mirrored memory first when
 * any was marked, the node first and then any node unless exact, then
 * without the lower bound for the try/exact variants. The block must be
 * reserved with RSRV_KERN and the node it was asked for.
 *
 * Array growth after allow_resize takes simulated memory for the new
 * array (memblock_double_array()), which the model cannot place; such
 * operations are checked for what must still hold (memory exactly as
 * predicted, reserved a superset of the prediction minus the old arrays,
 * the extra bytes page-aligned, inside memory and no more than the new
 * arrays), and the model then adopts the reserved array. A host
 * allocation failure (injected by the input) must give MMSIM_EHOSTMEM and
 * leave both arrays exactly as they were; so must any other error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/memblock.h"
#include "ops.h"

#define PAGE       MMSIM_PAGE_SIZE
#define MAX_OPS    4096
#define REGION_B   24u /* simulated bytes per region in a doubled array */
#define FLAG_NAMES 7
/*
 * Adding stops once both arrays hold this many regions together: enough
 * for two doublings of one array, few enough that comparing after every
 * operation stays cheap.
 */
#define MAX_REGIONS 640

struct seg {
    uint64_t base;
    uint64_t end; /* exclusive */
    int nid;
    unsigned flags;
};

/* A sorted list; @sv is a spare array that sl_paint() builds into. */
struct seglist {
    struct seg *v;
    size_t n, cap;
    struct seg *sv;
    size_t scap;
};

static void sl_free(struct seglist *l)
{
    free(l->v);
    free(l->sv);
    memset(l, 0, sizeof(*l));
}

struct ctx {
    struct mmsim_memblock *mb;
    struct fz_hostfail hf;
    struct mmsim_allocator alloc;
    struct seglist mem, rsv;
    bool bottom_up, can_resize, mirror;
    uint64_t limit;
    /* Where each array's simulated copy lives, when known. */
    struct {
        uint64_t base, size;
        bool known;
    } arr[2];
    bool trace;                /* MMSIM_FUZZ_TRACE set: print every operation */
    struct seglist pmem, prsv; /* the prediction's lists, reused */
};

/* ---- interval lists -------------------------------------------------------
 */

FZ_NOCOV static void sl_push(struct seglist *l, struct seg s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct seg *v = realloc(l->v, cap * sizeof(*v));

        if (!v)
            fz_fail("out of host memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

FZ_NOCOV static void sl_copy(struct seglist *dst, const struct seglist *src)
{
    if (dst->cap < src->n) {
        struct seg *v = realloc(dst->v, (src->n + 16) * sizeof(*v));

        if (!v)
            fz_fail("out of host memory");
        dst->v = v;
        dst->cap = src->n + 16;
    }
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof(*src->v));
    dst->n = src->n;
}

/* Merge touching neighbours with equal node and flags; drop empties. */
FZ_NOCOV static void sl_canon(struct seglist *l)
{
    size_t k = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].base == l->v[i].end)
            continue;
        if (k && l->v[k - 1].end == l->v[i].base &&
            l->v[k - 1].nid == l->v[i].nid &&
            l->v[k - 1].flags == l->v[i].flags) {
            l->v[k - 1].end = l->v[i].end;
            continue;
        }
        l->v[k++] = l->v[i];
    }
    l->n = k;
}

enum paint { P_ADD, P_REMOVE, P_SETNID, P_SETFLAG, P_CLRFLAG };

/* memblock_cap_size() */
static uint64_t cap_end(uint64_t base, uint64_t size)
{
    return size > UINT64_MAX - base ? UINT64_MAX : base + size;
}

/*
 * Apply one operation over [base, end) to @l, which stays sorted: the
 * parts outside the range keep everything; P_ADD fills the uncovered
 * parts with @nid and @flags and leaves covered ones alone.
 */
FZ_NOCOV static void sl_paint(struct seglist *l, uint64_t base, uint64_t end,
                              enum paint how, int nid, unsigned flags)
{
    struct seglist out = {l->sv, 0, l->scap, NULL, 0};
    uint64_t cur = base;

    if (base >= end)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct seg s = l->v[i], mid;

        if (s.end <= base) {
            sl_push(&out, s);
            continue;
        }
        if (s.base >= end) {
            if (how == P_ADD && cur < end)
                sl_push(&out, (struct seg){cur, end, nid, flags});
            cur = end;
            sl_push(&out, s);
            continue;
        }
        if (s.base < base)
            sl_push(&out, (struct seg){s.base, base, s.nid, s.flags});
        mid = s;
        mid.base = s.base < base ? base : s.base;
        mid.end = s.end > end ? end : s.end;
        if (how == P_ADD && cur < mid.base)
            sl_push(&out, (struct seg){cur, mid.base, nid, flags});
        cur = mid.end;
        if (how == P_SETNID)
            mid.nid = nid;
        else if (how == P_SETFLAG)
            mid.flags |= flags;
        else if (how == P_CLRFLAG)
            mid.flags &= ~flags;
        if (how != P_REMOVE)
            sl_push(&out, mid);
        if (s.end > end)
            sl_push(&out, (struct seg){end, s.end, s.nid, s.flags});
    }
    if (how == P_ADD && cur < end)
        sl_push(&out, (struct seg){cur, end, nid, flags});
    l->sv = l->v;
    l->scap = l->cap;
    l->v = out.v;
    l->cap = out.cap;
    l->n = out.n;
    sl_canon(l);
}

FZ_NOCOV static bool sl_contains(const struct seglist *l, uint64_t addr,
                                 size_t *idx)
{
    for (size_t i = 0; i < l->n; i++)
        if (addr >= l->v[i].base && addr < l->v[i].end) {
            if (idx)
                *idx = i;
            return true;
        }
    return false;
}

FZ_NOCOV static bool sl_overlaps(const struct seglist *l, uint64_t base,
                                 uint64_t end)
{
    for (size_t i = 0; i < l->n; i++)
        if (base < l->v[i].end && l->v[i].base < end)
            return true;
    return false;
}

/* Points of @a not in @b, as a list (node/flags of @a); both sorted. */
FZ_NOCOV static void sl_minus(const struct seglist *a, const struct seglist *b,
                              struct seglist *out)
{
    size_t j = 0;

    out->n = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint64_t cur = a->v[i].base, end = a->v[i].end;

        while (j < b->n && b->v[j].end <= cur)
            j++;
        for (size_t k = j; k < b->n && b->v[k].base < end && cur < end; k++) {
            if (b->v[k].base > cur)
                sl_push(out, (struct seg){cur, b->v[k].base, a->v[i].nid,
                                          a->v[i].flags});
            if (b->v[k].end > cur)
                cur = b->v[k].end;
        }
        if (cur < end)
            sl_push(out, (struct seg){cur, end, a->v[i].nid, a->v[i].flags});
    }
}

FZ_NOCOV static uint64_t sl_bytes(const struct seglist *l)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < l->n; i++)
        sum += l->v[i].end - l->v[i].base;
    return sum;
}

/* ---- comparing with the memblock -------------------------------------------
 */

static const char *tname(enum mmsim_memblock_type t)
{
    return t == MMSIM_MEMBLOCK_MEMORY ? "memory" : "reserved";
}

FZ_NOCOV static void compare(struct ctx *c, enum mmsim_memblock_type t,
                             const struct seglist *want, const char *what)
{
    unsigned cnt = mmsim_memblock_count(c->mb, t);
    unsigned max = mmsim_memblock_max(c->mb, t);
    uint64_t total = 0;

    FZ_CHECK(cnt == want->n, "%s: %s has %u regions, the model %zu", what,
             tname(t), cnt, want->n);
    FZ_CHECK(max >= cnt && max >= MMSIM_MEMBLOCK_INIT_REGIONS &&
                 !(max & (max - 1)),
             "%s: %s max %u", what, tname(t), max);
    for (unsigned i = 0; i < cnt; i++) {
        struct mmsim_memblock_region r;
        const struct seg *s = &want->v[i];

        FZ_CHECK(!mmsim_memblock_region(c->mb, t, i, &r), "region %u", i);
        FZ_CHECK(r.base == s->base && r.size == s->end - s->base &&
                     r.nid == s->nid && r.flags == s->flags,
                 "%s: %s[%u] is [%#" PRIx64 ", +%#" PRIx64 ") nid %d flags "
                 "%#x, the model [%#" PRIx64 ", +%#" PRIx64
                 ") nid %d flags %#x",
                 what, tname(t), i, r.base, r.size, r.nid, r.flags, s->base,
                 s->end - s->base, s->nid, s->flags);
        total += r.size;
    }
    FZ_CHECK(mmsim_memblock_total_size(c->mb, t) == total,
             "%s: %s total_size %" PRIu64 ", regions add up to %" PRIu64, what,
             tname(t), mmsim_memblock_total_size(c->mb, t), total);
    FZ_CHECK(mmsim_memblock_region(c->mb, t, cnt,
                                   &(struct mmsim_memblock_region){0}) ==
                 MMSIM_ERANGE,
             "region past the end");
}

/* Read the memblock's array @t into @out. */
FZ_NOCOV static void read_type(struct ctx *c, enum mmsim_memblock_type t,
                               struct seglist *out)
{
    unsigned cnt = mmsim_memblock_count(c->mb, t);

    out->n = 0;
    for (unsigned i = 0; i < cnt; i++) {
        struct mmsim_memblock_region r;

        FZ_CHECK(!mmsim_memblock_region(c->mb, t, i, &r), "region %u", i);
        FZ_CHECK(!i || out->v[i - 1].end <= r.base,
                 "%s[%u] overlaps or is out of order", tname(t), i);
        sl_push(out, (struct seg){r.base, r.base + r.size, r.nid, r.flags});
    }
}

static void dump(struct ctx *c, const char *what, int rc)
{
    if (!c->trace)
        return;
    fprintf(stderr, "op %s -> %s\n", what, fz_err(rc));
    for (int t = 0; t < 2; t++) {
        unsigned cnt = mmsim_memblock_count(c->mb, (enum mmsim_memblock_type)t);

        for (unsigned i = 0; i < cnt; i++) {
            struct mmsim_memblock_region r;

            mmsim_memblock_region(c->mb, (enum mmsim_memblock_type)t, i, &r);
            fprintf(stderr,
                    "  %s[%u] [%#" PRIx64 ", %#" PRIx64 ") nid %d flags %#x\n",
                    tname((enum mmsim_memblock_type)t), i, r.base,
                    r.base + r.size, r.nid, r.flags);
        }
    }
}

/* ---- the allocation model -------------------------------------------------
 */

FZ_NOCOV static bool skip_region(const struct seg *m, int nid, unsigned flags)
{
    if (nid != MMSIM_NUMA_NO_NODE && nid != m->nid)
        return true;
    if ((flags & MMSIM_MEMBLOCK_MIRROR) && !(m->flags & MMSIM_MEMBLOCK_MIRROR))
        return true;
    if (m->flags & (MMSIM_MEMBLOCK_NOMAP | MMSIM_MEMBLOCK_DRIVER_MANAGED))
        return true;
    return false;
}

/*
 * The free pieces: each memory region intersected with each gap between
 * reserved regions, ascending. Two reserved regions that touch (say one
 * RSRV_KERN, one not) leave an empty gap, whose intersection with a
 * memory region strictly around it is an empty piece: the kernel's
 * for_each_free_mem_range() yields those too, so @empties keeps them.
 */
FZ_NOCOV static void free_pieces(const struct ctx *c, int nid, unsigned flags,
                                 bool empties, struct seglist *out)
{
    out->n = 0;
    for (size_t i = 0; i < c->mem.n; i++) {
        const struct seg *m = &c->mem.v[i];

        if (skip_region(m, nid, flags))
            continue;
        for (size_t b = 0; b <= c->rsv.n; b++) {
            uint64_t gs = b ? c->rsv.v[b - 1].end : 0;
            uint64_t ge = b < c->rsv.n ? c->rsv.v[b].base : UINT64_MAX;
            uint64_t s = m->base > gs ? m->base : gs;
            uint64_t e = m->end < ge ? m->end : ge;

            if (gs >= m->end)
                break;
            if (m->base < ge && (s < e || empties))
                sl_push(out, (struct seg){s, e, m->nid, m->flags});
        }
    }
}

/* memblock_find_in_range_node() by its definition: 0 when nothing fits. */
FZ_NOCOV static uint64_t model_find(const struct ctx *c, uint64_t size,
                                    uint64_t align, uint64_t start,
                                    uint64_t end, int nid, unsigned flags)
{
    struct seglist p = {0};
    uint64_t found = 0;

    if (end == MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE ||
        end == MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE)
        end = c->limit;
    if (start < PAGE)
        start = PAGE;
    if (end < start)
        end = start;
    free_pieces(c, nid, flags, false, &p);
    for (size_t k = 0; k < p.n; k++) {
        size_t i = c->bottom_up ? k : p.n - 1 - k;
        uint64_t s = p.v[i].base, e = p.v[i].end, cand;

        s = s < start ? start : s > end ? end : s;
        e = e < start ? start : e > end ? end : e;
        if (c->bottom_up) {
            if (s > UINT64_MAX - (align - 1))
                continue;
            cand = (s + align - 1) & ~(align - 1);
            if (cand < e && e - cand >= size) {
                found = cand;
                break;
            }
        } else {
            if (e < size)
                continue;
            cand = (e - size) & ~(align - 1);
            if (cand >= s) {
                found = cand;
                break;
            }
        }
    }
    sl_free(&p);
    return found;
}

static bool nid_ok(int nid)
{
    return nid == MMSIM_NUMA_NO_NODE || (nid >= 0 && nid < MMSIM_MAX_NODES);
}

/*
 * memblock_alloc_range_nid() on the model: the address, with the node
 * the reservation gets in *@rnid; 0 for ENOMEM; the error code in *@rc.
 */
FZ_NOCOV static uint64_t model_alloc_range(const struct ctx *c, uint64_t size,
                                           uint64_t align, uint64_t start,
                                           uint64_t end, int nid, bool exact,
                                           int *rnid, int *rc)
{
    unsigned flags = c->mirror ? MMSIM_MEMBLOCK_MIRROR : 0;

    *rc = 0;
    if (!size || !nid_ok(nid)) {
        *rc = MMSIM_EINVAL;
        return 0;
    }
    if (!align)
        align = MMSIM_MEMBLOCK_DEFAULT_ALIGN;
    if (align & (align - 1)) {
        *rc = MMSIM_EINVAL;
        return 0;
    }
    for (;;) {
        uint64_t f = model_find(c, size, align, start, end, nid, flags);

        if (f) {
            *rnid = nid;
            return f;
        }
        if (nid != MMSIM_NUMA_NO_NODE && !exact) {
            f = model_find(c, size, align, start, end, MMSIM_NUMA_NO_NODE,
                           flags);
            if (f) {
                *rnid = MMSIM_NUMA_NO_NODE;
                return f;
            }
        }
        if (!(flags & MMSIM_MEMBLOCK_MIRROR)) {
            *rc = MMSIM_ENOMEM;
            return 0;
        }
        flags = 0;
    }
}

/* ---- the debugfs text ------------------------------------------------------
 */

static const char *flag_name(unsigned flags)
{
    static const char *const names[FLAG_NAMES] = {
        "HOTPLUG", "MIRROR",   "NOMAP",      "DRV_MNG",
        "RSV_NIT", "RSV_KERN", "KHO_SCRATCH"};

    if (!flags)
        return "NONE";
    for (unsigned j = 0; j < FLAG_NAMES; j++)
        if (flags & (1u << j))
            return names[j];
    return "UNKNOWN";
}

FZ_NOCOV static size_t model_text(const struct seglist *l, char **out)
{
    size_t cap = 64 + l->n * 64, pos = 0;
    char *buf = malloc(cap);

    if (!buf)
        fz_fail("out of host memory");
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        const struct seg *s = &l->v[i];

        if (s->nid >= 0 && s->nid < MMSIM_MAX_NODES)
            pos += (size_t)snprintf(
                buf + pos, cap - pos,
                "%4d: 0x%016" PRIx64 "..0x%016" PRIx64 " %4d %s\n", (int)i,
                s->base, s->end - 1, s->nid, flag_name(s->flags));
        else
            pos += (size_t)snprintf(
                buf + pos, cap - pos,
                "%4d: 0x%016" PRIx64 "..0x%016" PRIx64 " %4c %s\n", (int)i,
                s->base, s->end - 1, 'x', flag_name(s->flags));
    }
    *out = buf;
    return pos;
}

static void check_debugfs(struct ctx *c, unsigned typesel, unsigned len)
{
    enum mmsim_memblock_type t = (enum mmsim_memblock_type)(typesel % 3);
    char *want, *got;
    size_t n, l;
    int rc;

    if (t == 2) {
        rc = mmsim_memblock_debugfs_show(c->mb, t, NULL, 0);
        FZ_CHECK(rc == MMSIM_EINVAL, "debugfs(bad type): %s", fz_err(rc));
        rc = mmsim_memblock_debugfs_show(c->mb, MMSIM_MEMBLOCK_MEMORY, NULL, 5);
        FZ_CHECK(rc == MMSIM_EINVAL, "debugfs(NULL, 5): %s", fz_err(rc));
        return;
    }
    n = model_text(t == MMSIM_MEMBLOCK_MEMORY ? &c->mem : &c->rsv, &want);
    rc = mmsim_memblock_debugfs_show(c->mb, t, NULL, 0);
    FZ_CHECK(rc == (int)n, "debugfs %s: %d bytes, the model %zu", tname(t), rc,
             n);
    l = len % (n + 2);
    got = malloc(l + 1);
    if (!got)
        fz_fail("out of host memory");
    memset(got, 'X', l + 1);
    rc = mmsim_memblock_debugfs_show(c->mb, t, got, l);
    FZ_CHECK(rc == (int)n, "debugfs %s cut to %zu: %d", tname(t), l, rc);
    if (l) {
        size_t k = n < l - 1 ? n : l - 1;

        FZ_CHECK(
            !memcmp(got, want, k) && got[k] == '\0',
            "debugfs %s text differs from the model:\n%s\n--- got ---\n%.*s",
            tname(t), want, (int)k, got);
    }
    FZ_CHECK(got[l] == 'X', "debugfs wrote past %zu bytes", l);
    free(got);
    free(want);
}

/* ---- queries ----------------------------------------------------------------
 */

static void check_queries(struct ctx *c, uint64_t addr, uint64_t size)
{
    uint64_t end = cap_end(addr, size);
    size_t i;
    bool want;

    FZ_CHECK(mmsim_memblock_is_memory(c->mb, addr) ==
                 sl_contains(&c->mem, addr, NULL),
             "is_memory(%#" PRIx64 ")", addr);
    FZ_CHECK(mmsim_memblock_is_reserved(c->mb, addr) ==
                 sl_contains(&c->rsv, addr, NULL),
             "is_reserved(%#" PRIx64 ")", addr);
    want = sl_contains(&c->mem, addr, &i) && c->mem.v[i].end >= end;
    FZ_CHECK(mmsim_memblock_is_region_memory(c->mb, addr, size) == want,
             "is_region_memory(%#" PRIx64 ", %#" PRIx64 ")", addr, size);
    FZ_CHECK(mmsim_memblock_is_region_reserved(c->mb, addr, size) ==
                 sl_overlaps(&c->rsv, addr, end),
             "is_region_reserved(%#" PRIx64 ", %#" PRIx64 ")", addr, size);
    FZ_CHECK(mmsim_memblock_start_of_dram(c->mb) ==
                 (c->mem.n ? c->mem.v[0].base : 0),
             "start_of_dram");
    FZ_CHECK(mmsim_memblock_end_of_dram(c->mb) ==
                 (c->mem.n ? c->mem.v[c->mem.n - 1].end : 0),
             "end_of_dram");
    FZ_CHECK(mmsim_memblock_bottom_up(c->mb) == c->bottom_up, "bottom_up");
    FZ_CHECK(mmsim_memblock_get_current_limit(c->mb) == c->limit,
             "current_limit");
    FZ_CHECK(
        mmsim_memblock_count(c->mb, (enum mmsim_memblock_type)7) == 0 &&
            mmsim_memblock_max(c->mb, (enum mmsim_memblock_type)7) == 0 &&
            mmsim_memblock_total_size(c->mb, (enum mmsim_memblock_type)7) == 0,
        "queries of a bad type");
}

static void check_iter(struct ctx *c, unsigned nidsel)
{
    int nid = mb_sel_nid(nidsel);
    struct seglist want = {0};
    uint64_t cursor = 0, s, e;
    size_t k = 0;
    int rnid;

    if (!nid_ok(nid)) {
        FZ_CHECK(
            !mmsim_memblock_next_free_range(c->mb, nid, &cursor, &s, &e, &rnid),
            "free-range iteration with a bad node");
        return;
    }
    free_pieces(c, nid, 0, true, &want);
    while (mmsim_memblock_next_free_range(c->mb, nid, &cursor, &s, &e, &rnid)) {
        FZ_CHECK(k < want.n, "free range iteration yields too many ranges");
        FZ_CHECK(s == want.v[k].base && e == want.v[k].end &&
                     rnid == want.v[k].nid,
                 "free range %zu: [%#" PRIx64 ", %#" PRIx64 ") nid %d, the "
                 "model [%#" PRIx64 ", %#" PRIx64 ") nid %d",
                 k, s, e, rnid, want.v[k].base, want.v[k].end, want.v[k].nid);
        k++;
    }
    FZ_CHECK(k == want.n, "free range iteration: %zu ranges, the model %zu", k,
             want.n);
    FZ_CHECK(cursor == UINT64_MAX, "cursor after the end");
    FZ_CHECK(
        !mmsim_memblock_next_free_range(c->mb, nid, &cursor, &s, &e, &rnid),
        "iteration restarted");
    sl_free(&want);
}

/* ---- one operation ----------------------------------------------------------
 */

/* What an operation may do to the model, before it is compared. */
struct pred {
    struct seglist *mem, *rsv; /* the model after the operation */
    bool could_grow; /* an array may need to grow (after allow_resize) */
    int rc;          /* predicted return code */
    uint64_t alloc;  /* predicted address (alloc ops) */
    uint64_t size;   /* alloc size; 0 for other operations */
    int rnid;        /* the node the model's block is reserved with */
    uint64_t align;  /* effective alignment */
    uint64_t lo, hi; /* alloc bounds a lenient check allows */
};

static uint64_t page_align(uint64_t x)
{
    return (x + PAGE - 1) & ~(PAGE - 1);
}

/*
 * Array growth happened (or may have): check what must hold and adopt the
 * memblock's reserved array.
 */
FZ_NOCOV static void lenient(struct ctx *c, struct pred *p,
                             const struct seglist *pre_rsv, int rc,
                             uint64_t addr, const unsigned max_before[2],
                             const char *what)
{
    struct seglist core = {0}, plus = {0}, minus = {0};
    unsigned max_after[2];
    uint64_t bound = 0;

    compare(c, MMSIM_MEMBLOCK_MEMORY, rc == 0 ? p->mem : &c->mem, what);
    read_type(c, MMSIM_MEMBLOCK_RESERVED, &core);
    for (int t = 0; t < 2; t++) {
        max_after[t] = mmsim_memblock_max(c->mb, (enum mmsim_memblock_type)t);
        for (unsigned m = max_before[t] * 2; m <= max_after[t]; m *= 2)
            if (max_after[t] != max_before[t])
                bound += page_align((uint64_t)m * REGION_B);
    }
    if (rc == 0 && p->size) {
        /* An allocation: its bytes must be new reservations in bounds. */
        FZ_CHECK(!(addr & (p->align - 1)) && addr >= p->lo &&
                     addr - p->lo <= p->hi - p->lo && p->size <= p->hi - addr,
                 "%s: %#" PRIx64 "+%#" PRIx64 " misaligned or out of bounds",
                 what, addr, p->size);
        FZ_CHECK(!sl_overlaps(pre_rsv, addr, addr + p->size),
                 "%s: allocated over a reservation", what);
        sl_paint(p->rsv, addr, addr + p->size, P_ADD, MMSIM_NUMA_NO_NODE,
                 MMSIM_MEMBLOCK_RSRV_KERN);
    }
    sl_minus(&core, rc == 0 ? p->rsv : &c->rsv, &plus);
    sl_minus(rc == 0 ? p->rsv : &c->rsv, &core, &minus);
    FZ_CHECK(sl_bytes(&plus) <= bound,
             "%s: %" PRIu64 " bytes newly reserved by array growth, at most "
             "%" PRIu64,
             what, sl_bytes(&plus), bound);
    for (size_t i = 0; i < plus.n; i++) {
        size_t j;

        FZ_CHECK(!(plus.v[i].base & (PAGE - 1)) &&
                     !(plus.v[i].end & (PAGE - 1)),
                 "%s: array growth reserved unaligned bytes", what);
        FZ_CHECK(sl_contains(&c->mem, plus.v[i].base, &j) &&
                     c->mem.v[j].end >= plus.v[i].end,
                 "%s: a grown array lies outside memory", what);
    }
    /* What left "reserved" must be old arrays (together, if adjacent). */
    if (c->arr[0].known && c->arr[1].known) {
        struct seglist olds = {0}, rest = {0};

        for (int t = 0; t < 2; t++)
            if (c->arr[t].size)
                sl_paint(&olds, c->arr[t].base, c->arr[t].base + c->arr[t].size,
                         P_ADD, 0, 0);
        sl_minus(&minus, &olds, &rest);
        FZ_CHECK(rest.n == 0,
                 "%s: [%#" PRIx64 ", %#" PRIx64 ") vanished from reserved",
                 what, rest.v[0].base, rest.v[0].end);
        sl_free(&olds);
        sl_free(&rest);
    }
    /* Where the new arrays went, when that is unambiguous. */
    for (int t = 0; t < 2; t++) {
        if (max_after[t] == max_before[t])
            continue;
        if (max_after[t] == max_before[t] * 2 && plus.n == 1 &&
            (max_after[!t] == max_before[!t]) &&
            sl_bytes(&plus) == page_align((uint64_t)max_after[t] * REGION_B)) {
            c->arr[t].base = plus.v[0].base;
            c->arr[t].size = sl_bytes(&plus);
            c->arr[t].known = true;
        } else {
            c->arr[t].known = false;
        }
    }
    if (rc == 0)
        sl_copy(&c->mem, p->mem);
    sl_copy(&c->rsv, &core);
    sl_free(&core);
    sl_free(&plus);
    sl_free(&minus);
}

/*
 * Run one mutation. @apply calls the memblock; the prediction in @p is
 * compared exactly unless the arrays grew in simulated memory.
 */
static void finish_op(struct ctx *c, struct pred *p, int rc, uint64_t addr,
                      const unsigned max_before[2], bool hit_before,
                      const char *what)
{
    bool grew = false, could_grow = c->can_resize && p->could_grow;

    dump(c, what, rc);

    for (int t = 0; t < 2; t++)
        grew |= mmsim_memblock_max(c->mb, (enum mmsim_memblock_type)t) !=
                max_before[t];
    FZ_CHECK(!grew || !c->can_resize || could_grow,
             "%s: an array grew that had room", what);
    if (!hit_before && c->hf.hit) {
        FZ_CHECK(rc == MMSIM_EHOSTMEM,
                 "%s: a host allocation failed, reported as %s", what,
                 fz_err(rc));
    }
    if (rc == MMSIM_EHOSTMEM) {
        FZ_CHECK(!hit_before && c->hf.hit, "%s: EHOSTMEM without a failure",
                 what);
        compare(c, MMSIM_MEMBLOCK_MEMORY, &c->mem, what);
        compare(c, MMSIM_MEMBLOCK_RESERVED, &c->rsv, what);
        return;
    }
    if (c->can_resize && (grew || could_grow)) {
        if (rc && rc != p->rc) {
            /* No simulated room to grow: must have changed nothing. */
            FZ_CHECK(rc == MMSIM_ENOMEM && could_grow, "%s: %s, the model %s",
                     what, fz_err(rc), fz_err(p->rc));
            compare(c, MMSIM_MEMBLOCK_MEMORY, &c->mem, what);
            compare(c, MMSIM_MEMBLOCK_RESERVED, &c->rsv, what);
            return;
        }
        if (p->size && rc == 0 && p->rc == MMSIM_ENOMEM)
            fz_fail("%s: allocated %#" PRIx64 " where the model finds no room",
                    what, addr);
        lenient(c, p, &c->rsv, rc, addr, max_before, what);
        return;
    }
    FZ_CHECK(rc == p->rc, "%s: %s, the model says %s", what, fz_err(rc),
             fz_err(p->rc));
    if (p->size && rc == 0) {
        FZ_CHECK(addr == p->alloc,
                 "%s: allocated %#" PRIx64 ", the model %#" PRIx64, what, addr,
                 p->alloc);
        sl_paint(p->rsv, addr, addr + p->size, P_ADD, p->rnid,
                 MMSIM_MEMBLOCK_RSRV_KERN);
    }
    if (rc == 0) {
        sl_copy(&c->mem, p->mem);
        sl_copy(&c->rsv, p->rsv);
    }
    compare(c, MMSIM_MEMBLOCK_MEMORY, &c->mem, what);
    compare(c, MMSIM_MEMBLOCK_RESERVED, &c->rsv, what);
}

static struct seglist *model_of(struct ctx *c, enum mmsim_memblock_type t)
{
    return t == MMSIM_MEMBLOCK_MEMORY ? &c->mem : &c->rsv;
}

/* Pieces of [base, end) no region of @l covers: add_range's nr_new. */
FZ_NOCOV static size_t holes_in(const struct seglist *l, uint64_t base,
                                uint64_t end)
{
    size_t n = 0;
    uint64_t cur = base;

    for (size_t i = 0; i < l->n && cur < end; i++) {
        if (l->v[i].end <= cur)
            continue;
        if (l->v[i].base >= end)
            break;
        if (l->v[i].base > cur)
            n++;
        cur = l->v[i].end;
    }
    return n + (cur < end);
}

/* The mutating calls, and what each does to the model. */
enum call {
    C_ADD,          /* memory: add holes, no node, no flags */
    C_ADD_NODE,     /* memory: add holes with nid and flags */
    C_REMOVE,       /* memory: cut */
    C_RESERVE,      /* reserved: add holes, no node, no flags */
    C_RESERVE_KERN, /* reserved: add holes, RSRV_KERN */
    C_FREE,         /* reserved: cut */
    C_SET_NODE,     /* memory: set nid */
    C_MARK_NOMAP,
    C_CLEAR_NOMAP,
    C_MARK_HOTPLUG,
    C_CLEAR_HOTPLUG,
    C_MARK_MIRROR,
};

static const char *const call_names[] = {
    "add",          "add_node",     "remove",        "reserve",
    "reserve_kern", "free",         "set_node",      "mark_nomap",
    "clear_nomap",  "mark_hotplug", "clear_hotplug", "mark_mirror",
};

static int do_call(struct ctx *c, enum call call, uint64_t base, uint64_t size,
                   int nid, unsigned flags)
{
    switch (call) {
    case C_ADD:
        return mmsim_memblock_add(c->mb, base, size);
    case C_ADD_NODE:
        return mmsim_memblock_add_node(c->mb, base, size, nid, flags);
    case C_REMOVE:
        return mmsim_memblock_remove(c->mb, base, size);
    case C_RESERVE:
        return mmsim_memblock_reserve(c->mb, base, size);
    case C_RESERVE_KERN:
        return mmsim_memblock_reserve_kern(c->mb, base, size);
    case C_FREE:
        return mmsim_memblock_free(c->mb, base, size);
    case C_SET_NODE:
        return mmsim_memblock_set_node(c->mb, base, size, nid);
    case C_MARK_NOMAP:
        return mmsim_memblock_mark_nomap(c->mb, base, size);
    case C_CLEAR_NOMAP:
        return mmsim_memblock_clear_nomap(c->mb, base, size);
    case C_MARK_HOTPLUG:
        return mmsim_memblock_mark_hotplug(c->mb, base, size);
    case C_CLEAR_HOTPLUG:
        return mmsim_memblock_clear_hotplug(c->mb, base, size);
    case C_MARK_MIRROR:
        return mmsim_memblock_mark_mirror(c->mb, base, size);
    }
    return MMSIM_EINVAL;
}

static void mutate(struct ctx *c, enum call call, uint64_t base, uint64_t size,
                   int nid, unsigned flags)
{
    enum mmsim_memblock_type t = call >= C_RESERVE && call <= C_FREE
                                     ? MMSIM_MEMBLOCK_RESERVED
                                     : MMSIM_MEMBLOCK_MEMORY;
    const struct seglist *cur = model_of(c, t);
    struct pred p = {0};
    struct seglist *l;
    unsigned max_before[2];
    uint64_t end = cap_end(base, size);
    bool hit_before = c->hf.hit;
    bool adds = call == C_ADD || call == C_ADD_NODE || call == C_RESERVE ||
                call == C_RESERVE_KERN;
    char what[96];
    int rc;

    if (adds && c->mem.n + c->rsv.n >= MAX_REGIONS)
        return;
    snprintf(what, sizeof(what), "%s(%#" PRIx64 ", %#" PRIx64 ")",
             call_names[call], base, size);
    for (int k = 0; k < 2; k++)
        max_before[k] = mmsim_memblock_max(c->mb, (enum mmsim_memblock_type)k);
    p.mem = &c->pmem;
    p.rsv = &c->prsv;
    sl_copy(p.mem, &c->mem);
    sl_copy(p.rsv, &c->rsv);
    l = t == MMSIM_MEMBLOCK_MEMORY ? p.mem : p.rsv;
    /* What the calls without node and flags arguments give new regions. */
    if (call == C_ADD || call == C_RESERVE || call == C_RESERVE_KERN) {
        nid = MMSIM_NUMA_NO_NODE;
        flags = call == C_RESERVE_KERN ? MMSIM_MEMBLOCK_RSRV_KERN : 0;
    }

    if ((call == C_ADD_NODE || call == C_SET_NODE) && !nid_ok(nid)) {
        p.rc = MMSIM_EINVAL;
    } else if (adds) {
        p.could_grow = cur->n && base < end &&
                       cur->n + holes_in(cur, base, end) > max_before[t];
        sl_paint(l, base, end, P_ADD, nid, flags);
    } else {
        static const enum paint how[] = {
            [C_REMOVE] = P_REMOVE,         [C_FREE] = P_REMOVE,
            [C_SET_NODE] = P_SETNID,       [C_MARK_NOMAP] = P_SETFLAG,
            [C_CLEAR_NOMAP] = P_CLRFLAG,   [C_MARK_HOTPLUG] = P_SETFLAG,
            [C_CLEAR_HOTPLUG] = P_CLRFLAG, [C_MARK_MIRROR] = P_SETFLAG,
        };
        static const unsigned flag[] = {
            [C_MARK_NOMAP] = MMSIM_MEMBLOCK_NOMAP,
            [C_CLEAR_NOMAP] = MMSIM_MEMBLOCK_NOMAP,
            [C_MARK_HOTPLUG] = MMSIM_MEMBLOCK_HOTPLUG,
            [C_CLEAR_HOTPLUG] = MMSIM_MEMBLOCK_HOTPLUG,
            [C_MARK_MIRROR] = MMSIM_MEMBLOCK_MIRROR,
        };

        p.could_grow = base < end && cur->n + 2 > max_before[t];
        sl_paint(l, base, end, how[call], nid,
                 call < C_MARK_NOMAP ? 0 : flag[call]);
    }
    rc = do_call(c, call, base, size, nid, flags);
    finish_op(c, &p, rc, 0, max_before, hit_before, what);
    if (call == C_MARK_MIRROR && rc == 0)
        c->mirror = true;
}

/* An allocation through one of the four entry points. */
static void op_alloc(struct ctx *c, unsigned variant, uint64_t size,
                     uint64_t align, uint64_t start, uint64_t end, int nid,
                     bool exact)
{
    struct pred p = {0};
    unsigned max_before[2];
    bool hit_before = c->hf.hit;
    uint64_t addr = 0xdead, a = align ? align : MMSIM_MEMBLOCK_DEFAULT_ALIGN;
    int rnid = MMSIM_NUMA_NO_NODE, rc;
    char what[128];

    variant %= MB_NR_ALLOC;
    snprintf(what, sizeof(what),
             "alloc variant %u (size %#" PRIx64 " align %#" PRIx64 " [%#" PRIx64
             ", %#" PRIx64 ") nid %d%s)",
             variant, size, align, start, end, nid, exact ? " exact" : "");
    for (int k = 0; k < 2; k++)
        max_before[k] = mmsim_memblock_max(c->mb, (enum mmsim_memblock_type)k);
    p.mem = &c->pmem;
    p.rsv = &c->prsv;
    sl_copy(p.mem, &c->mem);
    sl_copy(p.rsv, &c->rsv);
    if (variant == MB_ALLOC_PHYS_RANGE) {
        nid = MMSIM_NUMA_NO_NODE;
        exact = false;
    } else if (variant == MB_ALLOC_TRY_NID) {
        exact = false;
    } else if (variant == MB_ALLOC_EXACT_NID) {
        exact = true;
    }
    if (variant == MB_ALLOC_TRY_NID || variant == MB_ALLOC_EXACT_NID) {
        /* memblock_alloc_internal(): clamp, then retry without start. */
        if (end > c->limit)
            end = c->limit;
        p.alloc = model_alloc_range(c, size, align, start, end, nid, exact,
                                    &rnid, &p.rc);
        if (p.rc == MMSIM_ENOMEM && start) {
            p.alloc = model_alloc_range(c, size, align, 0, end, nid, exact,
                                        &rnid, &p.rc);
            p.lo = PAGE;
        }
    } else {
        p.alloc = model_alloc_range(c, size, align, start, end, nid, exact,
                                    &rnid, &p.rc);
    }
    if (!p.lo)
        p.lo = start < PAGE ? PAGE : start;
    p.hi = end == MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE ||
                   end == MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE
               ? c->limit
               : end;
    if (p.hi < p.lo)
        p.hi = p.lo;
    p.size = size;
    p.align = a;
    p.rnid = rnid;
    /* Reserving the block may need room; so may a failed search's. */
    p.could_grow = c->rsv.n + 1 > max_before[1];
    switch (variant) {
    case MB_ALLOC_RANGE_NID:
        rc = mmsim_memblock_alloc_range_nid(c->mb, size, align, start, end, nid,
                                            exact, &addr);
        break;
    case MB_ALLOC_TRY_NID:
        rc = mmsim_memblock_alloc_try_nid(c->mb, size, align, start, end, nid,
                                          &addr);
        break;
    case MB_ALLOC_EXACT_NID:
        rc = mmsim_memblock_alloc_exact_nid(c->mb, size, align, start, end, nid,
                                            &addr);
        break;
    default:
        rc = mmsim_memblock_phys_alloc_range(c->mb, size, align, start, end,
                                             &addr);
        break;
    }
    if (p.rc == MMSIM_EINVAL)
        p.size = 0;
    if (rc && rc != MMSIM_EHOSTMEM)
        FZ_CHECK(addr == 0xdead, "%s: failed but wrote *addr", what);
    finish_op(c, &p, rc, addr, max_before, hit_before, what);
}

/* ---- the run ----------------------------------------------------------------
 */

static void run_op(struct ctx *c, const struct fz_op *op)
{
    const uint32_t *a = op->arg;
    uint64_t addr = mb_addr(a[0], a[1]);
    uint64_t size = mb_size(a[2], a[3]);

    switch (op->code) {
    case MB_OP_ADD:
        mutate(c, C_ADD, addr, size, 0, 0);
        break;
    case MB_OP_ADD_NODE:
        mutate(c, C_ADD_NODE, addr, size, mb_sel_nid(a[4]), a[5]);
        break;
    case MB_OP_REMOVE:
        mutate(c, C_REMOVE, addr, size, 0, 0);
        break;
    case MB_OP_RESERVE:
        mutate(c, C_RESERVE, addr, size, 0, 0);
        break;
    case MB_OP_RESERVE_KERN:
        mutate(c, C_RESERVE_KERN, addr, size, 0, 0);
        break;
    case MB_OP_FREE:
        mutate(c, C_FREE, addr, size, 0, 0);
        break;
    case MB_OP_SET_NODE:
        mutate(c, C_SET_NODE, addr, size, mb_sel_nid(a[4]), 0);
        break;
    case MB_OP_FLAG: {
        static const enum call calls[MB_NR_FLAG] = {
            C_MARK_NOMAP,    C_CLEAR_NOMAP, C_MARK_HOTPLUG,
            C_CLEAR_HOTPLUG, C_MARK_MIRROR, C_CLEAR_HOTPLUG};

        mutate(c, calls[a[4] % MB_NR_FLAG], addr, size, 0, 0);
        break;
    }
    case MB_OP_BOTTOM_UP:
        c->bottom_up = a[0] & 1;
        mmsim_memblock_set_bottom_up(c->mb, c->bottom_up);
        break;
    case MB_OP_SET_LIMIT:
        c->limit = addr;
        mmsim_memblock_set_current_limit(c->mb, addr);
        break;
    case MB_OP_ALLOC:
        op_alloc(c, a[0], mb_size(a[1], a[2]), mb_sel_align(a[3]),
                 mb_addr(a[4], a[5]), mb_alloc_end(a[6], a[7]),
                 mb_sel_nid(a[8]), a[9] & 1);
        break;
    case MB_OP_ALLOW_RESIZE:
        mmsim_memblock_allow_resize(c->mb);
        c->can_resize = true;
        break;
    case MB_OP_QUERY:
        check_queries(c, addr, size);
        break;
    case MB_OP_DEBUGFS:
        check_debugfs(c, a[0], a[1]);
        break;
    case MB_OP_ITER:
        check_iter(c, a[0]);
        break;
    case MB_OP_MANY: {
        /* what count addr(kind, v) stride size(bytes): many small ranges. */
        static const enum call calls[MB_NR_MANY] = {C_ADD, C_RESERVE,
                                                    C_RESERVE_KERN};
        enum call call = calls[a[0] % MB_NR_MANY];
        uint64_t base = mb_addr(a[2], a[3]);
        uint64_t stride = ((uint64_t)(a[4] & 0xff) + 1) << 12;
        uint64_t len = (uint64_t)a[5] * 16 + 1;

        for (unsigned i = 0; i <= a[1] % 64; i++)
            mutate(c, call, base + i * stride, len, 0, 0);
        break;
    }
    }
}

static void ctx_free(struct ctx *c)
{
    mmsim_memblock_destroy(c->mb);
    sl_free(&c->mem);
    sl_free(&c->rsv);
    sl_free(&c->pmem);
    sl_free(&c->prsv);
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
    c->hf.fail_at = (flags & MB_HDR_HOSTFAIL) ? 1 + fail_at % 64u : 0;
    c->alloc = fz_hostfail_allocator(&c->hf);
    rc = mmsim_memblock_create(c->hf.fail_at ? &c->alloc : NULL, &c->mb);
    if (c->hf.hit) {
        FZ_CHECK(rc == MMSIM_EHOSTMEM && !c->mb,
                 "host failure in create reported as %s", fz_err(rc));
        ctx_free(c);
        return 0;
    }
    FZ_CHECK(rc == 0, "memblock_create: %s", fz_err(rc));
    c->limit = MMSIM_MEMBLOCK_ALLOC_ANYWHERE;
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    c->arr[0].known = c->arr[1].known = true;
    FZ_CHECK(mmsim_memblock_get_current_limit(c->mb) == c->limit &&
                 !mmsim_memblock_bottom_up(c->mb),
             "a new memblock's defaults");
    compare(c, MMSIM_MEMBLOCK_MEMORY, &c->mem, "create");
    compare(c, MMSIM_MEMBLOCK_RESERVED, &c->rsv, "create");
    if (flags & MB_HDR_BOTTOM_UP) {
        c->bottom_up = true;
        mmsim_memblock_set_bottom_up(c->mb, true);
    }
    if (flags & MB_HDR_RESIZE) {
        c->can_resize = true;
        mmsim_memblock_allow_resize(c->mb);
    }
    while (fz_more(&in) && nops++ < MAX_OPS) {
        struct fz_op op;

        fz_dec_op(&in, mb_op_layout, MB_NR_OPS, &op);
        run_op(c, &op);
    }
    ctx_free(c);
    return 0;
}
