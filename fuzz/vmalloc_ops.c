/*
 * vmalloc_ops.c - fuzz the vmalloc space: vmalloc, vfree, vread, vwrite,
 * find, vmalloc_to_pfn, vfree_owner, the totals and /proc/vmallocinfo on a
 * small machine (ops.h, "vmalloc_ops", has the encoding), against a
 * model of the areas: where each one lies, its owner, its backing pages
 * and every byte written to it.
 *
 * After every operation: mmsim_check() over every page frame,
 * mmsim_vmalloc_check(), the totals against the model, and conservation
 * (managed pages = free + per-cpu + the model's vmalloc pages + plain
 * pages the target holds), so a failed vmalloc that leaks one page is
 * caught at once. Placement is predicted exactly (lowest first fit, a
 * guard page after each area); so are vfree's and every access's result,
 * and every byte read. A failed vmalloc must change nothing; ENOMEM is
 * accepted only when the failure hook fired or the request exceeds what
 * the zones hold above their high watermarks (with slack for per-cpu
 * batches). Backing pages must be distinct, allocated order-0 blocks
 * tagged with the owner, from HighMem while the node's HighMem zone is
 * above its low watermark on the 32-bit model, and counted on the right
 * node in vmallocinfo. A host allocation failure chosen by the input
 * must come back as MMSIM_EHOSTMEM from the vmalloc it hit.
 *
 * MMSIM_FUZZ_TRACE=1 prints each operation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/vmalloc.h"
#include "ops.h"

#define MAX_OPS    512
#define FREED_RING 8
#define MAX_NODES  2
#define PAGE       MMSIM_PAGE_SIZE
#define VS         MMSIM_VMALLOC_START
#define VE         MMSIM_VMALLOC_END
#define MIB        (UINT64_C(1) << 20)
/* Pages per zone that may sit out of reach: another CPU's per-cpu list,
 * or a batch stranded on ours (see totals()). */
#define PCP_SLACK 256
/* Plain pages for pressure: from where vmalloc's come from. */
#define VO_PAGES_GFP (MMSIM_GFP_KERNEL | MMSIM_GFP_HIGHMEM)

struct area {
    uint64_t start;
    uint64_t pages;
    uint64_t owner;
    uint64_t node_pages[MAX_NODES];
    uint32_t *pfns;
    uint8_t **data; /* per page; NULL: never written (zeros) */
};

struct held {
    uint64_t pfn;
    unsigned order;
};

struct totals {
    uint64_t free_pcp; /* buddy + per-cpu lists */
    uint64_t managed;
    uint64_t reachable; /* pages a vmalloc can surely get (op_vmalloc) */
    uint64_t highmem_pcp[MAX_NODES]; /* a drain may return them to buddy */
};

struct ctx {
    struct mmsim_machine *m;
    struct mmsim_desc desc;
    struct fz_hostfail hf;
    struct mmsim_allocator alloc;
    unsigned nr_nodes, nr_cpus;
    bool highmem, contents, trace;
    uint64_t max_pfn;

    struct area *areas; /* sorted by start */
    size_t nr_areas, cap_areas;
    uint64_t used_pages;
    uint64_t freed[FREED_RING];
    unsigned freed_pos;
    uint8_t *pfn_used; /* max_pfn bytes: 1 backs a live area */

    struct held *held;
    size_t nr_held, cap_held;
    uint64_t held_pages;

    struct totals last; /* as of the last check_all(): the state ops see */
    bool space_changed; /* since the last mmsim_vmalloc_check() */
    int fail_in; /* page allocations until the injected failure; 0: off */
    bool fail_hit;
    unsigned vmalloc_errors; /* "vmalloc error" log lines */
    char err[512];
};

/* ---- hooks --------------------------------------------------------------- */

static bool fail_hook(void *ctx, mmsim_gfp_t gfp, unsigned order)
{
    struct ctx *c = ctx;

    (void)gfp;
    (void)order;
    if (c->fail_in > 0 && --c->fail_in == 0) {
        c->fail_hit = true;
        return true;
    }
    return false;
}

static void log_hook(void *ctx, int level, const char *line)
{
    struct ctx *c = ctx;

    if (c->trace)
        fprintf(stderr, "  log<%d> %s\n", level, line);
    if (strstr(line, "vmalloc error: size "))
        c->vmalloc_errors++;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        fz_fail("out of host memory");
    return p;
}

/* ---- the model ----------------------------------------------------------- */

/* Index of the area whose pages hold @addr, or -1. */
FZ_NOCOV static long model_find(const struct ctx *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nr_areas;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct area *a = &c->areas[mid];

        if (addr < a->start)
            hi = mid;
        else if (addr - a->start >= a->pages * PAGE)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

FZ_NOCOV static long model_find_start(const struct ctx *c, uint64_t addr)
{
    long i = model_find(c, addr);

    return i >= 0 && c->areas[i].start == addr ? i : -1;
}

/* Where the lowest first fit puts @pages pages plus a guard; 0: nowhere. */
FZ_NOCOV static uint64_t model_place(const struct ctx *c, uint64_t pages,
                                     size_t *at)
{
    uint64_t need = (pages + 1) * PAGE, cursor = VS;
    size_t i;

    for (i = 0; i < c->nr_areas; i++) {
        if (c->areas[i].start - cursor >= need)
            break;
        cursor = c->areas[i].start + (c->areas[i].pages + 1) * PAGE;
    }
    *at = i;
    if (i == c->nr_areas && VE - cursor < need)
        return 0;
    return cursor;
}

FZ_NOCOV static uint64_t model_largest_free(const struct ctx *c)
{
    uint64_t prev = VS, best = 0;

    for (size_t i = 0; i < c->nr_areas; i++) {
        if (c->areas[i].start - prev > best)
            best = c->areas[i].start - prev;
        prev = c->areas[i].start + (c->areas[i].pages + 1) * PAGE;
    }
    return VE - prev > best ? VE - prev : best;
}

FZ_NOCOV static void model_remove(struct ctx *c, size_t i)
{
    struct area *a = &c->areas[i];

    for (uint64_t p = 0; p < a->pages; p++) {
        free(a->data[p]);
        c->pfn_used[a->pfns[p]] = 0;
    }
    free(a->data);
    free(a->pfns);
    c->used_pages -= a->pages;
    c->freed[c->freed_pos++ % FREED_RING] = a->start;
    memmove(a, a + 1, (c->nr_areas - i - 1) * sizeof(*a));
    c->nr_areas--;
}

/* ---- machine totals ------------------------------------------------------ */

static const enum mmsim_zone_type all_types[] = {
    MMSIM_ZONE_DMA,     MMSIM_ZONE_DMA32,   MMSIM_ZONE_NORMAL,
    MMSIM_ZONE_HIGHMEM, MMSIM_ZONE_MOVABLE,
};

FZ_NOCOV static struct totals totals(struct ctx *c)
{
    struct totals t;

    memset(&t, 0, sizeof(t));

    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
            struct mmsim_zone_info zi;
            uint64_t res = 0, keep;

            if (mmsim_zone_info(c->m, (int)n, all_types[i], &zi))
                continue;
            t.free_pcp += zi.free + zi.pcp;
            if (all_types[i] == MMSIM_ZONE_HIGHMEM && n < MAX_NODES)
                t.highmem_pcp[n] = zi.pcp;
            t.managed += zi.managed;
            for (int j = 0; j < MMSIM_NR_ZONE_TYPES; j++)
                if (zi.lowmem_reserve[j] > res)
                    res = zi.lowmem_reserve[j];
            keep = zi.wmark_high + res + PCP_SLACK;
            if (zi.free > keep)
                t.reachable += zi.free - keep;
        }
    return t;
}

static struct mmsim_vmalloc_info vinfo(struct ctx *c)
{
    struct mmsim_vmalloc_info vi;
    int rc = mmsim_vmalloc_info(c->m, &vi);

    FZ_CHECK(rc == 0, "vmalloc_info: %s", fz_err(rc));
    return vi;
}

FZ_NOCOV static void check_all(struct ctx *c)
{
    struct mmsim_vmalloc_info vi;
    struct totals t;
    int rc;

    rc = mmsim_check(c->m, true, c->err, sizeof(c->err));
    FZ_CHECK(rc == 0, "mmsim_check: %s", c->err);
    /* Walks every backing page: only after something may have moved. */
    if (c->space_changed) {
        rc = mmsim_vmalloc_check(c->m, c->err, sizeof(c->err));
        FZ_CHECK(rc == 0, "mmsim_vmalloc_check: %s", c->err);
        c->space_changed = false;
    }
    vi = vinfo(c);
    FZ_CHECK(vi.total_bytes == VE - VS, "VmallocTotal %" PRIu64,
             vi.total_bytes);
    FZ_CHECK(vi.nr_areas == c->nr_areas && vi.used_pages == c->used_pages,
             "vmalloc_info: %" PRIu64 " areas of %" PRIu64
             " pages, model %zu of %" PRIu64,
             vi.nr_areas, vi.used_pages, c->nr_areas, c->used_pages);
    FZ_CHECK(vi.largest_free == model_largest_free(c),
             "largest_free %#" PRIx64 ", model %#" PRIx64, vi.largest_free,
             model_largest_free(c));
    t = c->last = totals(c);
    /* So every page a failed vmalloc leaks, or a vfree does not give
     * back, shows here at once. */
    FZ_CHECK(t.managed == t.free_pcp + c->used_pages + c->held_pages,
             "managed %" PRIu64 " != free+pcp %" PRIu64 " + vmalloc %" PRIu64
             " + held %" PRIu64,
             t.managed, t.free_pcp, c->used_pages, c->held_pages);
}

/* ---- selectors ----------------------------------------------------------- */

static int sel_cpu(const struct ctx *c, unsigned sel)
{
    if (sel == VO_CPU_NONE)
        return MMSIM_NO_CPU;
    if (sel == VO_CPU_BAD)
        return (int)c->nr_cpus;
    return (int)(sel % c->nr_cpus);
}

static bool cpu_ok(const struct ctx *c, int cpu)
{
    return cpu == MMSIM_NO_CPU || (cpu >= 0 && (unsigned)cpu < c->nr_cpus);
}

static int sel_nid(const struct ctx *c, unsigned sel)
{
    if (sel == VO_NID_ANY)
        return MMSIM_ANY_NODE;
    if (sel == VO_NID_BAD)
        return (int)c->nr_nodes;
    return (int)(sel % c->nr_nodes);
}

static uint64_t sel_size(unsigned kind, unsigned v)
{
    switch (kind % 8) {
    case VO_S_BYTES:
        return v;
    case VO_S_BIG:
        return (1 + (uint64_t)v % 8192) * PAGE;
    case VO_S_LIMIT:
        return MMSIM_VMALLOC_MAX_PAGES * PAGE - 1 + v % 3;
    case VO_S_HUGE:
        return UINT64_MAX - v;
    default:
        return (1 + (uint64_t)v % 32) * PAGE;
    }
}

static uint64_t sel_addr(const struct ctx *c, unsigned kind, unsigned which,
                         uint32_t off)
{
    const struct area *a = c->nr_areas ? &c->areas[which % c->nr_areas] : NULL;

    switch (kind % VO_NR_ADDR) {
    case VO_ADDR_LIVE:
        return a ? a->start + off % (a->pages * PAGE) : VS + off;
    case VO_ADDR_EDGE:
        return a ? a->start + (a->pages - 1) * PAGE + off % (2 * PAGE)
                 : VS + off % (2 * PAGE);
    case VO_ADDR_FREED:
        return c->freed[which % FREED_RING] + off % PAGE;
    case VO_ADDR_RAW:
        return VS + ((uint64_t)which << MMSIM_PAGE_SHIFT) + off % PAGE;
    default:
        return (uint64_t)off << 32 | which;
    }
}

/* ---- operations ---------------------------------------------------------- */

/* A vmalloc that failed changed nothing (the model did not move either;
 * check_all() checks the pages). */
FZ_NOCOV static void check_unchanged(struct ctx *c,
                                     const struct mmsim_vmalloc_info *i0,
                                     const char *what)
{
    struct mmsim_vmalloc_info i1 = vinfo(c);

    FZ_CHECK(!memcmp(&i1, i0, sizeof(i1)), "%s: vmalloc_info changed", what);
}

/* The backing pages of a new area: distinct, ours, from the right zones. */
FZ_NOCOV static void adopt_pages(struct ctx *c, struct area *a)
{
    bool low_page[MAX_NODES] = {false, false};

    for (uint64_t i = 0; i < a->pages; i++) {
        uint64_t pfn, addr = a->start + i * PAGE + (i * 37) % PAGE;
        uint32_t tag;
        unsigned order;
        struct mmsim_page_where w;
        int rc = mmsim_vmalloc_to_pfn(c->m, addr, &pfn);

        FZ_CHECK(rc == 0, "vmalloc_to_pfn(%#" PRIx64 "): %s", addr, fz_err(rc));
        FZ_CHECK(pfn < c->max_pfn && !c->pfn_used[pfn],
                 "area %#" PRIx64 " page %" PRIu64 ": pfn %#" PRIx64
                 " out of range or backing another area",
                 a->start, i, pfn);
        rc = mmsim_page_owner(c->m, pfn, &tag, &order);
        FZ_CHECK(rc == 0 && order == 0 && tag == (uint32_t)a->owner,
                 "pfn %#" PRIx64 ": %s, order %u, tag %#" PRIx32
                 ", owner %#" PRIx64,
                 pfn, fz_err(rc), order, tag, a->owner);
        rc = mmsim_pfn_where(c->m, pfn, &w);
        FZ_CHECK(rc == 0 && w.nid >= 0 && (unsigned)w.nid < c->nr_nodes,
                 "pfn_where(%#" PRIx64 "): %s", pfn, fz_err(rc));
        FZ_CHECK(w.zone != MMSIM_ZONE_MOVABLE, "vmalloc page in Movable");
        if (w.zone != MMSIM_ZONE_HIGHMEM)
            low_page[w.nid] = true;
        a->pfns[i] = (uint32_t)pfn;
        a->node_pages[w.nid]++;
        c->pfn_used[pfn] = 1;
    }
    /*
     * Lowmem only once the node's HighMem failed its low watermark. Only
     * frees raise a zone's free count during a vmalloc, and the only
     * frees then are the slow path draining the per-cpu lists.
     */
    for (unsigned n = 0; c->highmem && n < c->nr_nodes; n++) {
        struct mmsim_zone_info zi;

        if (!low_page[n] ||
            mmsim_zone_info(c->m, (int)n, MMSIM_ZONE_HIGHMEM, &zi) ||
            !zi.present)
            continue;
        FZ_CHECK(zi.free <= zi.wmark_low + c->last.highmem_pcp[n],
                 "node %u: lowmem pages while HighMem has %" PRIu64
                 " free (low %" PRIu64 ", %" PRIu64 " were on pcp lists)",
                 n, zi.free, zi.wmark_low, c->last.highmem_pcp[n]);
    }
}

FZ_NOCOV static void op_vmalloc(struct ctx *c, unsigned cpu_sel, unsigned kind,
                                unsigned v, unsigned nid_sel,
                                unsigned owner_sel)
{
    int cpu = sel_cpu(c, cpu_sel), nid = sel_nid(c, nid_sel);
    uint64_t size = sel_size(kind, v), owner = vo_owners[owner_sel % 4];
    uint64_t pages = size / PAGE + (size % PAGE != 0), addr = 0, want;
    int expect = 0, rc;
    struct totals t0 = c->last;
    struct mmsim_vmalloc_info i0 = vinfo(c);
    bool hf_before = c->hf.hit;
    unsigned errors0 = c->vmalloc_errors;
    size_t at;

    c->fail_hit = false;
    if (pages == 0 || pages > MMSIM_VMALLOC_MAX_PAGES)
        expect = MMSIM_EINVAL;
    else if (!cpu_ok(c, cpu))
        expect = MMSIM_ECPU;
    else if (nid != MMSIM_ANY_NODE && (nid < 0 || (unsigned)nid >= c->nr_nodes))
        expect = MMSIM_ENODEV;
    else if (pages > t0.managed)
        expect = MMSIM_ENOMEM; /* "exceeds total pages" */
    rc = mmsim_vmalloc(c->m, cpu, size, nid, owner, &addr);
    if (expect) {
        FZ_CHECK(rc == expect,
                 "vmalloc(size %#" PRIx64 ", cpu %d, nid %d): %s,"
                 " expected %s",
                 size, cpu, nid, fz_err(rc), fz_err(expect));
        FZ_CHECK(c->hf.hit == hf_before,
                 "refused vmalloc allocated host memory");
        FZ_CHECK(expect != MMSIM_ENOMEM || c->vmalloc_errors == errors0 + 1,
                 "no \"vmalloc error\" line for an oversized vmalloc");
        check_unchanged(c, &i0, "refused vmalloc");
        return;
    }
    FZ_CHECK((rc == MMSIM_EHOSTMEM) == (c->hf.hit && !hf_before),
             "vmalloc: %s, host failure %s", fz_err(rc),
             c->hf.hit && !hf_before ? "injected" : "not injected");
    want = model_place(c, pages, &at);
    if (rc) {
        FZ_CHECK(rc == MMSIM_ENOMEM || rc == MMSIM_EHOSTMEM,
                 "vmalloc(%" PRIu64 " pages): %s", pages, fz_err(rc));
        FZ_CHECK(addr == 0, "failed vmalloc wrote the address");
        check_unchanged(c, &i0, "failed vmalloc");
        if (rc == MMSIM_ENOMEM && want && !c->fail_hit) {
            FZ_CHECK(pages > t0.reachable,
                     "vmalloc(%" PRIu64 " pages): ENOMEM with %" PRIu64
                     " pages above the high watermarks",
                     pages, t0.reachable);
            FZ_CHECK(c->vmalloc_errors == errors0 + 1,
                     "no \"vmalloc error\" line for a failed vmalloc");
        }
        return;
    }
    FZ_CHECK(want && addr == want,
             "vmalloc(%" PRIu64 " pages) at %#" PRIx64 ", model says %#" PRIx64,
             pages, addr, want);
    if (c->nr_areas == c->cap_areas) {
        c->cap_areas = c->cap_areas ? 2 * c->cap_areas : 16;
        c->areas = realloc(c->areas, c->cap_areas * sizeof(*c->areas));
        if (!c->areas)
            fz_fail("out of host memory");
    }
    memmove(&c->areas[at + 1], &c->areas[at],
            (c->nr_areas - at) * sizeof(*c->areas));
    c->areas[at] = (struct area){
        .start = addr,
        .pages = pages,
        .owner = owner,
        .pfns = xcalloc(pages, sizeof(uint32_t)),
        .data = xcalloc(pages, sizeof(uint8_t *)),
    };
    c->nr_areas++;
    c->used_pages += pages;
    adopt_pages(c, &c->areas[at]);
}

FZ_NOCOV static void op_vfree(struct ctx *c, unsigned cpu_sel, unsigned kind,
                              unsigned which, uint32_t off)
{
    int cpu = sel_cpu(c, cpu_sel), rc, expect;
    uint64_t addr =
        kind % 6 == 0 ? (c->nr_areas ? c->areas[which % c->nr_areas].start : VS)
                      : sel_addr(c, kind % 6 - 1, which, off);
    long i = model_find_start(c, addr);

    /* check_all() then sees that exactly the area's pages came back. */
    expect = !cpu_ok(c, cpu) ? MMSIM_ECPU : i < 0 ? MMSIM_EINVAL : 0;
    rc = mmsim_vfree(c->m, cpu, addr);
    FZ_CHECK(rc == expect, "vfree(%#" PRIx64 ", cpu %d): %s, expected %s", addr,
             cpu, fz_err(rc), fz_err(expect));
    if (!rc)
        model_remove(c, (size_t)i);
}

FZ_NOCOV static void op_access(struct ctx *c, bool write, unsigned kind,
                               unsigned which, uint32_t off, unsigned lenv,
                               unsigned val)
{
    static uint8_t buf[20480 + 1];
    uint64_t addr = sel_addr(c, kind, which, off);
    size_t len = lenv % 20481;
    long i = model_find(c, addr);
    int expect = 0, rc;
    const struct area *a;
    uint64_t aoff;

    if (i < 0 || len > c->areas[i].pages * PAGE - (addr - c->areas[i].start))
        expect = MMSIM_EFAULT;
    else if (!c->contents)
        expect = MMSIM_ENOCONTENT;
    memset(buf, 0xa5, len + 1);
    if (write) {
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)(val + j);
        rc = mmsim_vwrite(c->m, addr, buf, len);
    } else {
        rc = mmsim_vread(c->m, addr, buf, len);
    }
    FZ_CHECK(rc == expect, "v%s(%#" PRIx64 ", %zu): %s, expected %s",
             write ? "write" : "read", addr, len, fz_err(rc), fz_err(expect));
    if (rc) {
        if (!write)
            FZ_CHECK(buf[0] == 0xa5, "failed vread wrote the buffer");
        return;
    }
    a = &c->areas[i];
    aoff = addr - a->start;
    for (size_t j = 0; j < len; j++) {
        uint64_t p = (aoff + j) / PAGE, o = (aoff + j) % PAGE;

        if (write) {
            if (!a->data[p])
                a->data[p] = xcalloc(1, PAGE);
            a->data[p][o] = buf[j];
        } else {
            uint8_t want = a->data[p] ? a->data[p][o] : 0;

            FZ_CHECK(buf[j] == want,
                     "vread(%#" PRIx64 ") byte %zu is %#x, written %#x%s", addr,
                     j, buf[j], want, a->data[p] ? "" : " (never written)");
        }
    }
    FZ_CHECK(buf[len] == 0xa5, "v%s went past len", write ? "write" : "read");
}

FZ_NOCOV static void op_find(struct ctx *c, bool to_pfn, unsigned kind,
                             unsigned which, uint32_t off)
{
    uint64_t addr = sel_addr(c, kind, which, off);
    uint64_t start = 1, size = 2, owner = 3, pfn = 4;
    long i = model_find(c, addr);
    int rc = to_pfn ? mmsim_vmalloc_to_pfn(c->m, addr, &pfn)
                    : mmsim_vmalloc_find(c->m, addr, &start, &size, &owner);
    const struct area *a;

    FZ_CHECK(rc == (i < 0 ? MMSIM_EFAULT : 0), "%s(%#" PRIx64 "): %s",
             to_pfn ? "vmalloc_to_pfn" : "vmalloc_find", addr, fz_err(rc));
    if (rc) {
        FZ_CHECK(start == 1 && size == 2 && owner == 3 && pfn == 4,
                 "a failed lookup wrote its results");
        return;
    }
    a = &c->areas[i];
    if (to_pfn)
        FZ_CHECK(pfn == a->pfns[(addr - a->start) / PAGE],
                 "vmalloc_to_pfn(%#" PRIx64 ") = %#" PRIx64 ", was %#" PRIx32,
                 addr, pfn, a->pfns[(addr - a->start) / PAGE]);
    else
        FZ_CHECK(start == a->start && size == a->pages * PAGE &&
                     owner == a->owner,
                 "vmalloc_find(%#" PRIx64 ") = %#" PRIx64 " +%#" PRIx64
                 " owner %#" PRIx64,
                 addr, start, size, owner);
}

FZ_NOCOV static void op_vfree_owner(struct ctx *c, unsigned cpu_sel,
                                    unsigned owner_sel)
{
    uint64_t owner = vo_owners[owner_sel % 4], n = 0, got;

    for (size_t i = 0; i < c->nr_areas; i++)
        n += c->areas[i].owner == owner;
    got = mmsim_vfree_owner(c->m, sel_cpu(c, cpu_sel), owner);
    FZ_CHECK(got == n,
             "vfree_owner(%#" PRIx64 ") freed %" PRIu64 " areas of %" PRIu64,
             owner, got, n);
    for (size_t i = c->nr_areas; i-- > 0;)
        if (c->areas[i].owner == owner)
            model_remove(c, i);
}

/* What /proc/vmallocinfo must say, from the model. */
FZ_NOCOV static char *expected_view(const struct ctx *c, bool owners, size_t *n)
{
    size_t cap = 256 * (c->nr_areas + 1), len = 0;
    char *s = xcalloc(cap, 1);

    for (size_t i = 0; i < c->nr_areas; i++) {
        const struct area *a = &c->areas[i];
        uint64_t end = a->start + (a->pages + 1) * PAGE;
        char who[64];

        if (owners)
            snprintf(who, sizeof(who), "session-%" PRIu64, a->owner);
        else
            snprintf(who, sizeof(who), "mmsim_vmalloc+0x0/0x0");
        len += (size_t)snprintf(s + len, cap - len,
                                "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64
                                " %s pages=%" PRIu64 " vmalloc",
                                a->start, end, end - a->start, who, a->pages);
        for (unsigned nd = 0; nd < c->nr_nodes; nd++)
            if (a->node_pages[nd])
                len += (size_t)snprintf(s + len, cap - len, " N%u=%" PRIu64, nd,
                                        a->node_pages[nd]);
        len += (size_t)snprintf(s + len, cap - len, "\n");
    }
    *n = len;
    return s;
}

FZ_NOCOV static void op_view(struct ctx *c, unsigned owners, unsigned lenv)
{
    size_t want_len, len = lenv % 1024;
    char *want = expected_view(c, owners & 1, &want_len);
    char *buf = xcalloc(want_len + 2, 1);
    int64_t n;

    if (lenv == 0 || len > want_len + 1)
        len = want_len + 1;
    memset(buf, 0x7f, want_len + 2);
    n = mmsim_view_vmallocinfo(c->m, owners & 1, len ? buf : NULL, len);
    FZ_CHECK(n == (int64_t)want_len,
             "vmallocinfo: length %" PRId64 ", expected %zu", n, want_len);
    if (len) {
        size_t got = len - 1 < want_len ? len - 1 : want_len;

        FZ_CHECK(!memcmp(buf, want, got) && buf[got] == '\0' &&
                     buf[got + 1] == 0x7f,
                 "vmallocinfo (len %zu) reads\n%.*s\nexpected\n%s", len,
                 (int)got, buf, want);
    }
    free(buf);
    free(want);
}

FZ_NOCOV static void op_pages(struct ctx *c, unsigned what, unsigned order_sel,
                              unsigned count)
{
    unsigned order = order_sel % 4, n = 1 + count % 16;
    int cpu = count & 0x80 ? 0 : MMSIM_NO_CPU;

    if (what % 2 == VO_PAGES_ALLOC) {
        for (unsigned i = 0; i < n; i++) {
            uint64_t pfn;
            int rc = mmsim_alloc_pages(
                c->m, cpu, order_sel & 0x80 ? MMSIM_GFP_KERNEL : VO_PAGES_GFP,
                order, MMSIM_ANY_NODE, &pfn);

            if (rc) {
                FZ_CHECK(rc == MMSIM_ENOMEM, "alloc_pages: %s", fz_err(rc));
                break;
            }
            if (c->nr_held == c->cap_held) {
                c->cap_held = c->cap_held ? 2 * c->cap_held : 64;
                c->held = realloc(c->held, c->cap_held * sizeof(*c->held));
                if (!c->held)
                    fz_fail("out of host memory");
            }
            c->held[c->nr_held++] = (struct held){pfn, order};
            c->held_pages += UINT64_C(1) << order;
        }
        return;
    }
    for (unsigned i = 0; i < n && c->nr_held; i++) {
        struct held h = c->held[--c->nr_held];
        int rc = mmsim_free_pages(c->m, cpu, h.pfn, h.order);

        FZ_CHECK(rc == 0, "free_pages(%#" PRIx64 "): %s", h.pfn, fz_err(rc));
        c->held_pages -= UINT64_C(1) << h.order;
    }
}

static void run_op(struct ctx *c, const struct fz_op *op)
{
    const uint32_t *a = op->arg;

    if (c->trace) {
        fprintf(stderr, "op %u(", op->code);
        for (unsigned i = 0; i < op->nargs; i++)
            fprintf(stderr, "%s%#x", i ? ", " : "", op->arg[i]);
        fprintf(stderr, ") areas %zu\n", c->nr_areas);
    }
    c->space_changed |= op->code == VO_OP_VMALLOC || op->code == VO_OP_VFREE ||
                        op->code == VO_OP_VFREE_OWNER;
    switch (op->code) {
    case VO_OP_VMALLOC:
        op_vmalloc(c, a[0], a[1], a[2], a[3], a[4]);
        break;
    case VO_OP_VFREE:
        op_vfree(c, a[0], a[1], a[2], a[3]);
        break;
    case VO_OP_VREAD:
        op_access(c, false, a[0], a[1], a[2], a[3], 0);
        break;
    case VO_OP_VWRITE:
        op_access(c, true, a[0], a[1], a[2], a[3], a[4]);
        break;
    case VO_OP_FIND:
    case VO_OP_TO_PFN:
        op_find(c, op->code == VO_OP_TO_PFN, a[0], a[1], a[2]);
        break;
    case VO_OP_VFREE_OWNER:
        op_vfree_owner(c, a[0], a[1]);
        break;
    case VO_OP_INFO:
        vinfo(c); /* check_all() compares it */
        break;
    case VO_OP_VIEW:
        op_view(c, a[0], a[1]);
        break;
    case VO_OP_PAGES:
        op_pages(c, a[0], a[1], a[2]);
        break;
    case VO_OP_FAIL_PAGE:
        c->fail_in = (int)(a[0] % 64) + 1;
        break;
    case VO_OP_DRAIN:
        mmsim_drain_all(c->m);
        break;
    }
}

/* ---- the run ------------------------------------------------------------- */

static void build_desc(struct ctx *c, unsigned flags, unsigned mem,
                       unsigned knobs)
{
    struct mmsim_desc *d = &c->desc;
    uint64_t size0 = vo_node_mib(mem), size1 = vo_node_mib(mem / 3 + knobs);

    mmsim_desc_init(d);
    c->nr_nodes = flags & VO_HDR_TWO_NODES ? 2 : 1;
    c->nr_cpus = 1 + ((flags >> 4) & 3u);
    c->highmem = flags & VO_HDR_HIGHMEM;
    c->contents = !(flags & VO_HDR_METADATA);
    if (c->highmem) {
        d->highmem_start = 17 * MIB;
        if (size0 < 20)
            size0 = 20;
    }
    mmsim_desc_add_range(d, 0, MIB, size0 * MIB);
    if (c->nr_nodes == 2) {
        mmsim_desc_add_range(d, 1, (1 + size0) * MIB, size1 * MIB);
        mmsim_desc_set_distance(d, 0, 1, 20);
    }
    d->nr_cpus = c->nr_cpus;
    d->deferred_init = false;
    d->contents = c->contents;
    switch (knobs % 3) {
    case 1:
        d->min_free_kbytes = 128;
        break;
    case 2:
        d->min_free_kbytes = 1024;
        break;
    }
}

/* Everything still live is read back and freed; every page comes home. */
FZ_NOCOV static void teardown_check(struct ctx *c)
{
    static uint8_t page[4096];

    for (size_t i = 0; c->contents && i < c->nr_areas; i++) {
        const struct area *a = &c->areas[i];

        for (uint64_t p = 0; p < a->pages; p++) {
            int rc;

            if (!a->data[p] && p != 0 && p != a->pages - 1)
                continue;
            rc = mmsim_vread(c->m, a->start + p * PAGE, page, PAGE);
            FZ_CHECK(rc == 0, "teardown vread: %s", fz_err(rc));
            for (unsigned o = 0; o < PAGE; o++)
                FZ_CHECK(page[o] == (a->data[p] ? a->data[p][o] : 0),
                         "area %#" PRIx64 " page %" PRIu64
                         " byte %u changed behind the model's back",
                         a->start, p, o);
        }
    }
    while (c->nr_areas) {
        const struct area *a = &c->areas[c->nr_areas - 1];

        c->space_changed = true;
        if (c->nr_areas % 2)
            op_vfree(c, (unsigned)c->nr_areas % 4, 0, (unsigned)c->nr_areas - 1,
                     0);
        else
            op_vfree_owner(c, VO_CPU_NONE,
                           a->owner == vo_owners[0]   ? 0
                           : a->owner == vo_owners[1] ? 1
                           : a->owner == vo_owners[2] ? 2
                                                      : 3);
        check_all(c);
    }
    op_pages(c, VO_PAGES_FREE, 0, 15);
    while (c->nr_held)
        op_pages(c, VO_PAGES_FREE, 0, 15);
    mmsim_drain_all(c->m);
    check_all(c);
    {
        struct totals t = totals(c);

        FZ_CHECK(t.free_pcp == t.managed,
                 "at the end: free %" PRIu64 " of %" PRIu64 " managed",
                 t.free_pcp, t.managed);
    }
}

static void ctx_free(struct ctx *c)
{
    mmsim_machine_destroy(c->m);
    for (size_t i = 0; i < c->nr_areas; i++) {
        for (uint64_t p = 0; p < c->areas[i].pages; p++)
            free(c->areas[i].data[p]);
        free(c->areas[i].data);
        free(c->areas[i].pfns);
    }
    free(c->areas);
    free(c->held);
    free(c->pfn_used);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct ctx *c = calloc(1, sizeof(*c));
    struct mmsim_machine_opts opts;
    unsigned flags, mem, knobs, hostfail_at, nops = 0;
    int rc;

    if (!c)
        return 0;
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    flags = fz_u8(&in);
    mem = fz_u8(&in);
    knobs = fz_u8(&in);
    hostfail_at = fz_u16(&in);
    build_desc(c, flags, mem, knobs);
    c->alloc = fz_hostfail_allocator(&c->hf);
    opts = (struct mmsim_machine_opts){
        .alloc = flags & VO_HDR_HOSTFAIL ? &c->alloc : NULL,
        .log = log_hook,
        .log_ctx = c,
        .fail_page_alloc = fail_hook,
        .fail_ctx = c,
    };
    rc = mmsim_machine_create(&c->desc, &opts, &c->m, c->err, sizeof(c->err));
    FZ_CHECK(rc == 0, "boot: %s (%s)", fz_err(rc), c->err);
    /* Count host allocations from here: boot is mm_ops' business. */
    if (flags & VO_HDR_HOSTFAIL)
        c->hf.fail_at = c->hf.count + 1 + hostfail_at % 256;
    c->max_pfn = mmsim_machine_max_pfn(c->m);
    c->space_changed = true;
    c->pfn_used = xcalloc(c->max_pfn, 1);
    if (c->trace)
        fprintf(stderr, "machine: %u nodes %u cpus%s%s, hostfail at %lu\n",
                c->nr_nodes, c->nr_cpus, c->highmem ? " highmem" : "",
                c->contents ? "" : " metadata-only", c->hf.fail_at);
    check_all(c);

    while (fz_more(&in) && nops++ < MAX_OPS) {
        struct fz_op op;

        fz_dec_op(&in, vo_op_layout, VO_NR_OPS, &op);
        run_op(c, &op);
        check_all(c);
    }
    c->fail_in = 0;
    teardown_check(c);
    ctx_free(c);
    return 0;
}
