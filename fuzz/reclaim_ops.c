/*
 * reclaim_ops.c - fuzz anonymous memory, reclaim, swap and the OOM
 * killer: a small machine (one or two nodes of 8..16 MiB with page
 * contents, an in-memory swap device of a size the input chooses, from
 * none or one slot up to 16 MiB, and either OOM policy), two to four
 * address spaces, and a byte-coded operation sequence (reclaim_ops.h)
 * of mmap, munmap, reads, writes, page-by-page fills, reclaim steps,
 * balance_pgdat, raw page allocations for pressure, pte queries, exits
 * and injected allocation failures. No kswapd threads: everything runs
 * on the calling thread, so a run is deterministic.
 *
 * DOC: the model
 *
 * Per address space, its regions (placement predicted exactly: the
 * highest gap below MMSIM_MMAP_BASE) and, per page, whether it was ever
 * faulted in (so its pte must not be none) and the bytes written to it
 * (never-written pages are zeros). Reclaim does not touch the model:
 * whatever it does, every byte must read back. A write that fails part
 * way (MMSIM_ENOMEM) has written a prefix of its pages; the ptes tell
 * where the prefix ended, and where they cannot, the page keeps both
 * candidates until a read tells them apart. After an OOM kill the model
 * drops the address space's pages, and every access must return
 * MMSIM_EKILLED.
 *
 * DOC: what is checked
 *
 * - mmsim_check(m, true) after every operation.
 * - Every read against the model, byte for byte; every access's error
 *   code (EFAULT exactly where the model has a hole, ENOMEM only after a
 *   logged allocation failure or an injected one, EKILLED exactly for
 *   killed address spaces); mmap addresses; munmap splitting (region
 *   counts); pte states (none exactly for pages never faulted in,
 *   present pfns distinct and not freeable by pfn, swap slots in range).
 * - After every operation: per address space, rss + swapents = pages
 *   faulted in, total_vm and region counts; the LRU lists hold exactly
 *   the resident pages; swap slots used = swap entries; every zone's
 *   managed pages = free + per-cpu + resident + raw pages held; OOM
 *   kills = kill-hook calls, none under oom_policy = fail.
 * - A reclaim step frees exactly what it reports, swaps out as many,
 *   counts its scans; with no free slot it frees nothing.
 * - The OOM killer picks the address space with the largest badness
 *   (from its own report), and only when reclaim truly had nothing left:
 *   an OOM (kill or, under oom_policy = fail, a failed fault) with both
 *   RO_PREMATURE free swap slots and RO_PREMATURE LRU pages is reported.
 * - Raw pages come back zeroed: no byte passes from an address space to
 *   the next owner of its page frame.
 * - At the end everything is freed: every zone's free equals managed, no
 *   swap slot is used (LeakSanitizer checks the host side).
 *
 * MMSIM_FUZZ_TRACE=1 prints the machine and each operation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/vm.h"
#include "reclaim_ops.h"

#define PAGE       UINT64_C(4096)
#define MIB        (UINT64_C(1) << 20)
#define MAX_OPS    384
#define MAX_MMS    4
#define FREED_RING 8
/* Pages mapped at most, all address spaces together: the checker walks
 * every pte after every operation. Twice the largest RAM plus swap. */
#define MAP_CAP_PAGES 16384
/* Pending OOM kills between two looks (a burst of raw allocations). */
#define MAX_KILLS 16
/* Tasks an OOM report lists at most (address spaces alive). */
#define MAX_TASKS 8
/* Free swap slots and LRU pages that make an OOM premature. */
#define RO_PREMATURE 64
/* Pages the end-of-run verification reads at most. */
#define FINAL_VERIFY_PAGES 2048

/* One page of the model. */
struct mpage {
    uint8_t *data; /* NULL: zeros */
    uint8_t *alt;  /* @amb: the other candidate (NULL: zeros) */
    bool amb;      /* a failed write may or may not have reached it */
    bool wild;     /* two failed writes: contents unknown until rewritten */
    bool touched;  /* faulted in at least once: its pte is not none */
};

struct mregion {
    uint64_t start;
    uint64_t nr;
    struct mpage *pg;
};

struct mmod {
    struct mmsim_mm *mm;
    uint64_t owner;
    bool killed;
    struct mregion *r; /* sorted by start */
    unsigned nr, cap;
    uint64_t total_vm;
    uint64_t touched; /* pages with touched set */
    int64_t extra;    /* pages accounted with mmsim_mm_account() */
};

struct raw {
    uint64_t pfn;
    unsigned order;
    int acct;            /* address space slot it is accounted to, or -1 */
    uint64_t acct_owner; /* that slot's owner at the time */
};

struct oom_task {
    uint64_t owner, total_vm, rss, pgtables_bytes, swapents;
};

struct ctx {
    struct mmsim_desc desc;
    struct mmsim_machine *m;
    unsigned nr_nodes, nr_cpus, nr_mms;
    bool oom_fail;
    uint64_t swap_slots;
    uint64_t ram_pages;
    uint64_t max_pfn;
    bool trace;

    struct mmod mm[MAX_MMS];
    uint64_t next_owner;

    struct raw *raw;
    size_t nr_raw, cap_raw;
    uint64_t raw_pages;

    uint64_t freed[FREED_RING];
    unsigned nr_freed;

    /* Hooks. */
    uint64_t kills[MAX_KILLS]; /* owners reported, not yet applied */
    unsigned nr_kills;
    uint64_t total_kills;
    int fail_in; /* page allocations until the injected failure; 0 off */
    bool fail_hit;
    unsigned alloc_failures; /* "page allocation failure" lines */
    bool oom_fail_seen;      /* "oom_policy=fail" since the last look */
    bool premature_ok;       /* the current call may OOM legitimately */

    /* The OOM report being logged. */
    bool in_report;
    uint64_t rep_active, rep_inactive, rep_swap_free_kb;
    struct oom_task tasks[MAX_TASKS];
    unsigned nr_tasks;

    uint8_t buf[RO_LEN_MAX + 2 * 4096];
    char text[16384];
    char err[512];
};

static const uint8_t zero_page[4096];

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        fz_fail("out of host memory");
    return p;
}

static void *xmemdup(const void *src, size_t n)
{
    void *p = xcalloc(1, n);

    if (src)
        memcpy(p, src, n);
    return p;
}

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

static void kill_hook(void *ctx, uint64_t owner)
{
    struct ctx *c = ctx;

    if (c->trace)
        fprintf(stderr, "  oom_kill hook: owner %" PRIu64 "\n", owner);
    FZ_CHECK(!c->oom_fail, "OOM kill of %" PRIu64 " under oom_policy=fail",
             owner);
    FZ_CHECK(c->nr_kills < MAX_KILLS, "more than %d OOM kills in one call",
             MAX_KILLS);
    c->kills[c->nr_kills++] = owner;
    c->total_kills++;
}

static int slot_of_owner(const struct ctx *c, uint64_t owner)
{
    for (unsigned i = 0; i < c->nr_mms; i++)
        if (c->mm[i].mm && c->mm[i].owner == owner)
            return (int)i;
    return -1;
}

static bool kill_pending(const struct ctx *c, uint64_t owner)
{
    for (unsigned i = 0; i < c->nr_kills; i++)
        if (c->kills[i] == owner)
            return true;
    return false;
}

/* The report's victim must be the address space with the largest
 * badness (oom_badness(): rss + swap + page tables + accounted pages),
 * the first listed among equals; killed ones count for nothing. */
FZ_NOCOV static void check_victim(struct ctx *c, uint64_t victim)
{
    uint64_t best = 0, want = 0;

    for (unsigned i = 0; i < c->nr_tasks; i++) {
        const struct oom_task *t = &c->tasks[i];
        int s = slot_of_owner(c, t->owner);
        uint64_t b;

        FZ_CHECK(s >= 0, "OOM report lists owner %" PRIu64 ", not ours",
                 t->owner);
        if (c->mm[s].killed || kill_pending(c, t->owner))
            continue;
        FZ_CHECK(t->total_vm == c->mm[s].total_vm,
                 "OOM report: owner %" PRIu64 " total_vm %" PRIu64
                 ", model %" PRIu64,
                 t->owner, t->total_vm, c->mm[s].total_vm);
        b = t->rss + t->swapents + t->pgtables_bytes / PAGE +
            (uint64_t)(c->mm[s].extra > 0 ? c->mm[s].extra : 0);
        if (b > best) {
            best = b;
            want = t->owner;
        }
    }
    FZ_CHECK(best && victim == want,
             "OOM killed %" PRIu64 ", but %" PRIu64
             " has the largest badness (%" PRIu64 ")",
             victim, want, best);
}

/* An OOM while reclaim still had both swap room and pages to put there. */
FZ_NOCOV static void check_premature(struct ctx *c, uint64_t swap_free,
                                     uint64_t lru, const char *what)
{
    if (c->premature_ok || !c->swap_slots)
        return;
    FZ_CHECK(swap_free < RO_PREMATURE || lru < RO_PREMATURE,
             "premature OOM (%s): %" PRIu64 " free swap slots and %" PRIu64
             " pages on the LRU lists, yet reclaim freed nothing",
             what, swap_free, lru);
}

static void log_hook(void *ctx, int level, const char *line)
{
    struct ctx *c = ctx;
    uint64_t a, b, d, e, f, g;

    if (c->trace)
        fprintf(stderr, "  log<%d> %s\n", level, line);
    FZ_CHECK(level >= 0 && level <= 7, "log level %d", level);
    if (strstr(line, "page allocation failure")) {
        c->alloc_failures++;
    } else if (strstr(line, "oom_policy=fail")) {
        c->oom_fail_seen = true;
    } else if (strstr(line, "invoked oom-killer")) {
        c->in_report = true;
        c->nr_tasks = 0;
        c->rep_active = c->rep_inactive = c->rep_swap_free_kb = 0;
    } else if (!c->in_report) {
        return;
    } else if (sscanf(line,
                      "active_anon:%" SCNu64 " inactive_anon:%" SCNu64
                      " isolated_anon:%" SCNu64,
                      &a, &b, &d) == 3) {
        c->rep_active = a;
        c->rep_inactive = b;
        FZ_CHECK(d == 0, "isolated pages during a single-threaded OOM");
    } else if (strstr(line, "Free swap")) {
        const char *p = strstr(line, "Free swap  = ");

        FZ_CHECK(p && sscanf(p, "Free swap  = %" SCNu64 "kB", &a) == 1,
                 "OOM report: bad swap line");
        c->rep_swap_free_kb = a;
    } else if (line[0] == '[' && sscanf(line,
                                        "[%" SCNu64 "] %*u %" SCNu64 " %" SCNu64
                                        " %" SCNu64 " %" SCNu64 " %" SCNu64,
                                        &a, &b, &d, &e, &f, &g) == 6) {
        FZ_CHECK(c->nr_tasks < MAX_TASKS, "OOM report: too many tasks");
        c->tasks[c->nr_tasks++] = (struct oom_task){a, d, e, f, g};
    } else if (sscanf(line, "Out of memory: Killed process %" SCNu64, &a) ==
               1) {
        c->in_report = false;
        check_victim(c, a);
        check_premature(c, c->rep_swap_free_kb / 4,
                        c->rep_active + c->rep_inactive, "kill");
    }
}

/* ---- the model ----------------------------------------------------------- */

FZ_NOCOV static void page_drop(struct mpage *p)
{
    free(p->data);
    free(p->alt);
    memset(p, 0, sizeof(*p));
}

/* Index of the model region holding @addr, or -1. */
FZ_NOCOV static int region_find(const struct mmod *mm, uint64_t addr)
{
    unsigned lo = 0, hi = mm->nr;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const struct mregion *r = &mm->r[mid];

        if (addr < r->start)
            hi = mid;
        else if (addr - r->start >= r->nr * PAGE)
            lo = mid + 1;
        else
            return (int)mid;
    }
    return -1;
}

FZ_NOCOV static struct mpage *page_at(struct mmod *mm, uint64_t addr)
{
    int i = region_find(mm, addr);

    return i < 0 ? NULL : &mm->r[i].pg[(addr - mm->r[i].start) / PAGE];
}

/* get_unmapped_area() top-down, as the model sees the address space. */
FZ_NOCOV static bool model_gap(const struct mmod *mm, uint64_t bytes,
                               uint64_t *addr, unsigned *pos)
{
    uint64_t ceiling = MMSIM_MMAP_BASE;

    for (unsigned i = mm->nr + 1; i-- > 0;) {
        uint64_t floor =
            i ? mm->r[i - 1].start + mm->r[i - 1].nr * PAGE : MMSIM_MMAP_MIN;

        if (i < mm->nr && mm->r[i].start < ceiling)
            ceiling = mm->r[i].start;
        if (ceiling >= floor && ceiling - floor >= bytes) {
            *addr = ceiling - bytes;
            *pos = i;
            return true;
        }
    }
    return false;
}

FZ_NOCOV static void model_insert(struct mmod *mm, unsigned pos, uint64_t start,
                                  uint64_t nr, struct mpage *pg)
{
    if (mm->nr == mm->cap) {
        unsigned cap = mm->cap ? mm->cap * 2 : 8;
        struct mregion *r = realloc(mm->r, cap * sizeof(*r));

        if (!r)
            fz_fail("out of host memory");
        mm->r = r;
        mm->cap = cap;
    }
    memmove(&mm->r[pos + 1], &mm->r[pos], (mm->nr - pos) * sizeof(*mm->r));
    mm->r[pos] = (struct mregion){start, nr, pg};
    mm->nr++;
}

/* munmap [s, e) from the model: as unmap_region_part() splits. */
FZ_NOCOV static void model_unmap(struct mmod *mm, uint64_t s, uint64_t e)
{
    for (unsigned i = 0; i < mm->nr;) {
        struct mregion *r = &mm->r[i];
        uint64_t rend = r->start + r->nr * PAGE, from, to;
        struct mpage *tail = NULL;
        struct mregion old;

        if (rend <= s) {
            i++;
            continue;
        }
        if (r->start >= e)
            break;
        from = ((s > r->start ? s : r->start) - r->start) / PAGE;
        to = ((e < rend ? e : rend) - r->start) / PAGE;
        for (uint64_t j = from; j < to; j++) {
            mm->touched -= r->pg[j].touched;
            page_drop(&r->pg[j]);
        }
        mm->total_vm -= to - from;
        old = *r;
        if (to < old.nr)
            tail = xmemdup(old.pg + to, (old.nr - to) * sizeof(*tail));
        if (from && tail) {
            mm->r[i].nr = from;
            model_insert(mm, i + 1, old.start + to * PAGE, old.nr - to, tail);
            i += 2;
        } else if (from) {
            mm->r[i].nr = from;
            i++;
        } else if (tail) {
            free(old.pg);
            mm->r[i] =
                (struct mregion){old.start + to * PAGE, old.nr - to, tail};
            i++;
        } else {
            free(old.pg);
            memmove(&mm->r[i], &mm->r[i + 1],
                    (mm->nr - i - 1) * sizeof(*mm->r));
            mm->nr--;
        }
    }
}

/* The OOM reaper took everything: the regions stay, empty. */
FZ_NOCOV static void model_reap(struct mmod *mm)
{
    for (unsigned i = 0; i < mm->nr; i++)
        for (uint64_t j = 0; j < mm->r[i].nr; j++)
            page_drop(&mm->r[i].pg[j]);
    mm->touched = 0;
}

FZ_NOCOV static void model_free(struct mmod *mm)
{
    model_reap(mm);
    for (unsigned i = 0; i < mm->nr; i++)
        free(mm->r[i].pg);
    free(mm->r);
    mm->r = NULL;
    mm->nr = mm->cap = 0;
    mm->total_vm = 0;
    mm->extra = 0;
}

/* The seeded pattern at [addr, addr + len): depends on the address, so a
 * byte in the wrong place shows. */
FZ_NOCOV __attribute__((noinline)) static void
pattern(uint8_t *buf, uint64_t addr, size_t len, unsigned seed)
{
    uint64_t k = (seed + 1) * UINT64_C(0xbf58476d1ce4e5b9);
    size_t i = 0;

    /* Byte a is byte a % 8 of a word that depends on a / 8 and the seed;
     * whole words are stored at once (little-endian byte order). */
    for (; i < len && ((addr + i) & 7); i++) {
        uint64_t a = addr + i, x = (a >> 3) * UINT64_C(0x9e3779b97f4a7c15) + k;

        x ^= x >> 29;
        buf[i] = (uint8_t)(x >> ((a & 7) * 8));
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t x = ((addr + i) >> 3) * UINT64_C(0x9e3779b97f4a7c15) + k;

        x ^= x >> 29;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(buf + i, &x, 8);
#else
        for (unsigned j = 0; j < 8; j++)
            buf[i + j] = (uint8_t)(x >> (j * 8));
#endif
    }
    for (; i < len; i++) {
        uint64_t a = addr + i, x = (a >> 3) * UINT64_C(0x9e3779b97f4a7c15) + k;

        x ^= x >> 29;
        buf[i] = (uint8_t)(x >> ((a & 7) * 8));
    }
}

/* A write of @n bytes at @off reached the page. */
FZ_NOCOV static void page_apply(struct mpage *p, unsigned off,
                                const uint8_t *src, size_t n)
{
    if (!p->data)
        p->data = xcalloc(1, PAGE);
    memcpy(p->data + off, src, n);
    if (p->amb) {
        if (!p->alt)
            p->alt = xcalloc(1, PAGE);
        memcpy(p->alt + off, src, n);
        if (!memcmp(p->alt, p->data, PAGE)) {
            free(p->alt);
            p->alt = NULL;
            p->amb = false;
        }
    }
    if (p->wild && off == 0 && n == PAGE)
        p->wild = false;
}

/* A failed write may or may not have reached the page. */
FZ_NOCOV static void page_maybe(struct mpage *p, unsigned off,
                                const uint8_t *src, size_t n)
{
    if (p->wild)
        return;
    if (p->amb) {
        /* Four candidates now: give up on the page until rewritten. */
        free(p->alt);
        p->alt = NULL;
        p->amb = false;
        p->wild = true;
        return;
    }
    p->alt = p->data ? xmemdup(p->data, PAGE) : NULL;
    if (!p->data)
        p->data = xcalloc(1, PAGE);
    memcpy(p->data + off, src, n);
    p->amb = memcmp(p->data, p->alt ? p->alt : zero_page, PAGE) != 0;
    if (!p->amb) {
        free(p->alt);
        p->alt = NULL;
    }
}

/* Bytes @got read at @off must be the page's; a read that tells the two
 * candidates of an ambiguous page apart settles it. */
FZ_NOCOV static void page_check(struct ctx *c, struct mmod *mm, uint64_t addr,
                                struct mpage *p, unsigned off,
                                const uint8_t *got, size_t n)
{
    const uint8_t *d = p->data ? p->data : zero_page;
    bool is_d, is_a;

    if (p->wild)
        return;
    is_d = !memcmp(got, d + off, n);
    if (!p->amb) {
        if (!is_d) {
            size_t i = 0;

            while (i < n && got[i] == d[off + i])
                i++;
            fz_fail("owner %" PRIu64 " read %#" PRIx64 ": byte %#" PRIx64
                    " is %#x, expected %#x%s",
                    mm->owner, addr, addr + i, got[i], d[off + i],
                    p->data ? "" : " (never written)");
        }
        return;
    }
    is_a = !memcmp(got, (p->alt ? p->alt : zero_page) + off, n);
    FZ_CHECK(is_d || is_a,
             "owner %" PRIu64 " read %#" PRIx64
             ": neither what a failed write left nor what it found",
             mm->owner, addr);
    if (is_d && is_a)
        return;
    if (is_a) {
        free(p->data);
        p->data = p->alt;
    } else {
        free(p->alt);
    }
    p->alt = NULL;
    p->amb = false;
}

/* ---- checks -------------------------------------------------------------- */

FZ_NOCOV static uint64_t vmstat(struct ctx *c, const char *name)
{
    int64_t v = mmsim_vmstat_get(c->m, name);

    FZ_CHECK(v >= 0, "no vmstat %s", name);
    return (uint64_t)v;
}

/* Free + per-cpu pages of node @nid (all nodes: -1), and managed. */
FZ_NOCOV static uint64_t node_free(struct ctx *c, int nid, uint64_t *managed)
{
    uint64_t f = 0, mg = 0;

    for (unsigned n = 0; n < c->nr_nodes; n++) {
        if (nid >= 0 && (int)n != nid)
            continue;
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(c->m, (int)n, (enum mmsim_zone_type)t, &zi))
                continue;
            f += zi.free + zi.pcp;
            mg += zi.managed;
        }
    }
    if (managed)
        *managed = mg;
    return f;
}

FZ_NOCOV static uint64_t lru_pages(struct ctx *c, int nid)
{
    uint64_t sum = 0;

    for (unsigned n = 0; n < c->nr_nodes; n++) {
        struct mmsim_lru_info li;

        if (nid >= 0 && (int)n != nid)
            continue;
        FZ_CHECK(mmsim_lru_info(c->m, (int)n, &li) == 0, "lru_info");
        FZ_CHECK(li.isolated == 0, "node %u: %" PRIu64 " pages isolated", n,
                 li.isolated);
        sum += li.inactive + li.active;
    }
    return sum;
}

FZ_NOCOV static uint64_t swap_used(struct ctx *c)
{
    struct mmsim_swap_info si;

    FZ_CHECK(mmsim_swap_info(c->m, &si) == 0, "swap_info");
    FZ_CHECK(si.present == (c->swap_slots != 0), "swap present %d", si.present);
    FZ_CHECK(si.pages == c->swap_slots && si.used <= si.pages,
             "swap: %" PRIu64 " of %" PRIu64 " slots used, configured %" PRIu64,
             si.used, si.pages, c->swap_slots);
    return si.used;
}

/* Everything that must hold between operations. */
FZ_NOCOV static void check_all(struct ctx *c)
{
    uint64_t rss = 0, swp = 0, managed, free;
    struct mmsim_oom_info oi;
    int rc = mmsim_check(c->m, true, c->err, sizeof(c->err));

    FZ_CHECK(rc == 0, "mmsim_check: %s", c->err);
    for (unsigned i = 0; i < c->nr_mms; i++) {
        struct mmod *mm = &c->mm[i];
        struct mmsim_mm_stat st;

        FZ_CHECK(mmsim_mm_stat(mm->mm, &st) == 0, "mm_stat");
        FZ_CHECK(st.owner == mm->owner && st.total_vm == mm->total_vm &&
                     st.nr_regions == mm->nr &&
                     st.rss + st.swapents == mm->touched &&
                     st.oom_killed == mm->killed &&
                     st.extra == (uint64_t)(mm->extra > 0 ? mm->extra : 0),
                 "owner %" PRIu64 ": stat total_vm %" PRIu64 " regions %" PRIu64
                 " rss %" PRIu64 " swap %" PRIu64 " killed %d extra %" PRIu64
                 "; model %" PRIu64 " %u %" PRIu64
                 " touched, killed %d extra %" PRId64,
                 mm->owner, st.total_vm, st.nr_regions, st.rss, st.swapents,
                 st.oom_killed, st.extra, mm->total_vm, mm->nr, mm->touched,
                 mm->killed, mm->extra);
        FZ_CHECK(mmsim_mm_oom_killed(mm->mm) == mm->killed, "oom_killed");
        rss += st.rss;
        swp += st.swapents;
    }
    FZ_CHECK(lru_pages(c, -1) == rss,
             "LRU lists hold %" PRIu64 " pages, address spaces %" PRIu64
             " resident",
             lru_pages(c, -1), rss);
    FZ_CHECK(swap_used(c) == swp,
             "%" PRIu64 " swap slots used, %" PRIu64 " swap entries",
             swap_used(c), swp);
    free = node_free(c, -1, &managed);
    FZ_CHECK(managed == free + rss + c->raw_pages,
             "managed %" PRIu64 " != free %" PRIu64 " + resident %" PRIu64
             " + raw %" PRIu64,
             managed, free, rss, c->raw_pages);
    FZ_CHECK(mmsim_oom_info(c->m, &oi) == 0 && oi.kills == c->total_kills &&
                 vmstat(c, "oom_kill") == c->total_kills,
             "oom kills %" PRIu64 ", hook calls %" PRIu64, oi.kills,
             c->total_kills);
}

/* The pte of @addr against the model page @p (NULL: not mapped). */
FZ_NOCOV static void check_pte(struct ctx *c, struct mmod *mm, uint64_t addr,
                               struct mpage *p, struct mmsim_pte_info *out)
{
    struct mmsim_pte_info pi;
    int rc = mmsim_mm_pte(mm->mm, addr, &pi);

    if (!p) {
        FZ_CHECK(rc == MMSIM_EFAULT,
                 "owner %" PRIu64 " pte(%#" PRIx64 ") of a hole: %s", mm->owner,
                 addr, fz_err(rc));
        return;
    }
    FZ_CHECK(rc == 0, "owner %" PRIu64 " pte(%#" PRIx64 "): %s", mm->owner,
             addr, fz_err(rc));
    if (out)
        *out = pi;
    if (!p->touched) {
        /* Never faulted in: nothing can be there but zeros. */
        FZ_CHECK(
            pi.state == MMSIM_PTE_NONE,
            "owner %" PRIu64 " %#" PRIx64 ": never touched, but its pte is %s",
            mm->owner, addr, pi.state == MMSIM_PTE_SWAP ? "swap" : "present");
        FZ_CHECK(!p->data && !p->amb && !p->wild,
                 "model: untouched page holds data");
        return;
    }
    FZ_CHECK(!mm->killed, "model: a killed address space has pages");
    FZ_CHECK(pi.state != MMSIM_PTE_NONE,
             "owner %" PRIu64 " %#" PRIx64 ": faulted in, but its pte is none",
             mm->owner, addr);
    if (pi.state == MMSIM_PTE_PRESENT) {
        struct mmsim_page_where w;
        uint8_t b;

        FZ_CHECK(pi.pfn < c->max_pfn && mmsim_pfn_where(c->m, pi.pfn, &w) == 0,
                 "owner %" PRIu64 " %#" PRIx64 ": pfn %#" PRIx64 " is no RAM",
                 mm->owner, addr, pi.pfn);
        rc = mmsim_free_pages(c->m, MMSIM_NO_CPU, pi.pfn, 0);
        FZ_CHECK(rc == MMSIM_EMAPPED, "free_pages of a mapped page: %s",
                 fz_err(rc));
        rc = mmsim_page_read(c->m, pi.pfn, 0, &b, 1);
        FZ_CHECK(rc == MMSIM_EMAPPED, "page_read of a mapped page: %s",
                 fz_err(rc));
    } else {
        FZ_CHECK(pi.slot >= 1 && pi.slot <= c->swap_slots,
                 "owner %" PRIu64 " %#" PRIx64 ": slot %" PRIu64 " of %" PRIu64,
                 mm->owner, addr, pi.slot, c->swap_slots);
    }
}

/* ---- kills, failures, and what an allocating call may do ------------------
 */

/* Apply the OOM kills the hook reported: the model drops the victims,
 * and their owners' raw pages go (the session ends). */
FZ_NOCOV static void apply_kills(struct ctx *c)
{
    for (unsigned k = 0; k < c->nr_kills; k++) {
        int s = slot_of_owner(c, c->kills[k]);
        struct mmod *mm;

        FZ_CHECK(s >= 0, "OOM killed owner %" PRIu64 ", not ours", c->kills[k]);
        mm = &c->mm[s];
        FZ_CHECK(!mm->killed, "owner %" PRIu64 " killed twice", mm->owner);
        FZ_CHECK(mmsim_mm_oom_killed(mm->mm), "killed, but not marked");
        mm->killed = true;
        model_reap(mm);
        for (size_t i = 0; i < c->nr_raw;) {
            struct raw *r = &c->raw[i];

            if (r->acct != s || r->acct_owner != mm->owner) {
                i++;
                continue;
            }
            FZ_CHECK(mmsim_free_pages(c->m, MMSIM_NO_CPU, r->pfn, r->order) ==
                         0,
                     "free of a killed owner's raw block");
            mmsim_mm_account(mm->mm, -((int64_t)1 << r->order));
            mm->extra -= (int64_t)1 << r->order;
            c->raw_pages -= UINT64_C(1) << r->order;
            *r = c->raw[--c->nr_raw];
        }
    }
    c->nr_kills = 0;
}

/* Before a call that may allocate. */
static void call_begin(struct ctx *c, bool premature_ok)
{
    c->alloc_failures = 0;
    c->fail_hit = false;
    c->oom_fail_seen = false;
    c->premature_ok = premature_ok;
}

/*
 * After it: apply kills; an MMSIM_ENOMEM must follow a logged allocation
 * failure or the injected one; an OOM under oom_policy=fail must not be
 * premature (the state is the one the OOM saw: nothing ran since).
 */
static void call_end(struct ctx *c, int rc, bool nowarn)
{
    FZ_CHECK(!c->in_report, "an OOM report without a kill");
    apply_kills(c);
    if (rc != MMSIM_ENOMEM)
        return;
    FZ_CHECK(c->fail_hit || c->alloc_failures || nowarn,
             "MMSIM_ENOMEM without a logged allocation failure");
    if (c->oom_fail_seen) {
        struct mmsim_swap_info si;

        mmsim_swap_info(c->m, &si);
        check_premature(c, si.pages - si.used, lru_pages(c, -1), "fail");
    }
}

/* ---- addresses ------------------------------------------------------------
 */

static uint64_t ro_addr(struct ctx *c, struct mmod *mm, unsigned kind,
                        unsigned region, unsigned page, unsigned off)
{
    const struct mregion *r;

    kind %= RO_NR_ADDR;
    if ((kind == RO_ADDR_REGION || kind == RO_ADDR_END) && !mm->nr)
        kind = RO_ADDR_TOP;
    if (kind == RO_ADDR_FREED && !c->nr_freed)
        kind = RO_ADDR_TOP;
    switch (kind) {
    case RO_ADDR_REGION:
        r = &mm->r[region % mm->nr];
        return r->start + (page % r->nr) * PAGE + off % PAGE;
    case RO_ADDR_END: {
        uint64_t back = 1 + page % 8;

        r = &mm->r[region % mm->nr];
        if (back > r->nr)
            back = r->nr;
        return r->start + (r->nr - back) * PAGE + off % PAGE;
    }
    case RO_ADDR_FREED: {
        unsigned n = c->nr_freed < FREED_RING ? c->nr_freed : FREED_RING;

        return c->freed[region % n] + (page % 16) * PAGE + off % PAGE;
    }
    case RO_ADDR_TOP:
        return MMSIM_MMAP_BASE - (1 + (uint64_t)page) * PAGE + off % PAGE;
    default:
        return (uint64_t)region << 56 | (uint64_t)page << 12 | off;
    }
}

/* ---- access -------------------------------------------------------------- */

/*
 * One mmsim_mm_write() or mmsim_mm_read() of [addr, addr + len) on
 * address space @slot, checked against the model and applied to it.
 * Return: the call's result.
 */
FZ_NOCOV static int do_access(struct ctx *c, unsigned slot, int cpu,
                              uint64_t addr, size_t len, bool write,
                              unsigned seed)
{
    struct mmod *mm = &c->mm[slot];
    bool overflow = len > UINT64_MAX - addr;
    uint64_t first = addr & ~(PAGE - 1), npages = 0, u;
    struct mmsim_pte_info before[4];
    int rc;

    if (!overflow && len)
        npages = ((addr + len - 1) >> 12) - (addr >> 12) + 1;
    FZ_CHECK(npages <= 4, "an access of %zu bytes", len);
    /* The mapped prefix: pages [0, u) of the range. */
    for (u = 0; u < npages && !mm->killed; u++) {
        struct mpage *p = page_at(mm, first + u * PAGE);

        if (!p)
            break;
        check_pte(c, mm, first + u * PAGE, p, &before[u]);
    }
    if (write)
        pattern(c->buf, addr, len, seed);
    else
        memset(c->buf, 0xa5, len + 1);
    if (c->trace)
        fprintf(stderr,
                "  %s owner %" PRIu64 " cpu %d [%#" PRIx64 ", +%zu): %" PRIu64
                " of %" PRIu64 " pages mapped\n",
                write ? "write" : "read", mm->owner, cpu, addr, len, u, npages);

    call_begin(c, false);
    rc = write ? mmsim_mm_write(mm->mm, cpu, addr, c->buf, len)
               : mmsim_mm_read(mm->mm, cpu, addr, c->buf, len);
    call_end(c, rc, false);

    if (overflow) {
        FZ_CHECK(rc == MMSIM_EFAULT, "access past the end: %s", fz_err(rc));
        return rc;
    }
    if (!len) {
        FZ_CHECK(rc == 0, "empty access: %s", fz_err(rc));
        return rc;
    }
    if (mm->killed) {
        FZ_CHECK(rc == MMSIM_EKILLED,
                 "owner %" PRIu64 " was OOM killed, but its %s returned %s",
                 mm->owner, write ? "write" : "read", fz_err(rc));
        return rc;
    }
    if (!write)
        FZ_CHECK(c->buf[len] == 0xa5, "read wrote past its length");

    {
        /* Pages [0, lo) were done, [hi, u) were not, in between unknown. */
        uint64_t lo = 0, hi = u;

        if (rc == 0) {
            FZ_CHECK(u == npages,
                     "owner %" PRIu64 " %s [%#" PRIx64 ", +%zu) succeeded, "
                     "but page %" PRIu64 " is not mapped",
                     mm->owner, write ? "write" : "read", addr, len, u);
            lo = u;
        } else if (rc == MMSIM_EFAULT) {
            FZ_CHECK(u < npages,
                     "owner %" PRIu64 " %s [%#" PRIx64 ", +%zu): EFAULT, "
                     "all mapped",
                     mm->owner, write ? "write" : "read", addr, len);
            lo = u;
        } else if (rc == MMSIM_ENOMEM) {
            FZ_CHECK(u > 0, "ENOMEM before the first page");
            hi = u - 1; /* the failing page was mapped and not done */
            for (uint64_t i = 0; i < u; i++) {
                struct mmsim_pte_info pi;
                bool done, notdone;

                FZ_CHECK(mmsim_mm_pte(mm->mm, first + i * PAGE, &pi) == 0,
                         "pte");
                done = (before[i].state == MMSIM_PTE_NONE &&
                        pi.state != MMSIM_PTE_NONE) ||
                       (before[i].state == MMSIM_PTE_SWAP &&
                        (pi.state == MMSIM_PTE_PRESENT ||
                         pi.slot != before[i].slot));
                notdone = before[i].state == MMSIM_PTE_NONE &&
                          pi.state == MMSIM_PTE_NONE;
                if (done && i + 1 > lo)
                    lo = i + 1;
                if (notdone && i < hi)
                    hi = i;
            }
            FZ_CHECK(
                lo <= hi,
                "owner %" PRIu64 " failed %s [%#" PRIx64 ", +%zu): "
                "page %" PRIu64 " was faulted in after page %" PRIu64 " failed",
                mm->owner, write ? "write" : "read", addr, len, lo - 1, hi);
        } else {
            fz_fail("owner %" PRIu64 " %s [%#" PRIx64 ", +%zu): %s", mm->owner,
                    write ? "write" : "read", addr, len, fz_err(rc));
        }

        for (uint64_t i = 0; i < u; i++) {
            uint64_t pa = first + i * PAGE;
            uint64_t s = addr > pa ? addr : pa;
            uint64_t e = addr + len < pa + PAGE ? addr + len : pa + PAGE;
            struct mpage *p = page_at(mm, pa);

            if (i < lo) {
                if (!p->touched) {
                    p->touched = true;
                    mm->touched++;
                }
                if (write)
                    page_apply(p, (unsigned)(s - pa), c->buf + (s - addr),
                               e - s);
                else
                    page_check(c, mm, s, p, (unsigned)(s - pa),
                               c->buf + (s - addr), e - s);
            } else if (i < hi && write) {
                page_maybe(p, (unsigned)(s - pa), c->buf + (s - addr), e - s);
            }
            if (i >= lo) {
                struct mmsim_pte_info pi;

                /* Faulted in (read) or not: the pte says. */
                FZ_CHECK(mmsim_mm_pte(mm->mm, pa, &pi) == 0, "pte");
                if (!p->touched && pi.state != MMSIM_PTE_NONE) {
                    FZ_CHECK(!write || i < hi,
                             "a page past a failed write was faulted in");
                    p->touched = true;
                    mm->touched++;
                }
            }
            check_pte(c, mm, pa, p, NULL);
        }
    }
    return rc;
}

/* A cpu from a selector byte: one of them or MMSIM_NO_CPU. */
static int sel_cpu(const struct ctx *c, unsigned sel)
{
    unsigned v = sel % (c->nr_cpus + 1);

    return v == c->nr_cpus ? MMSIM_NO_CPU : (int)v;
}

static int sel_nid(const struct ctx *c, unsigned sel)
{
    if (sel == RO_NID_ANY)
        return MMSIM_ANY_NODE;
    if (sel == RO_NID_BAD)
        return (int)c->nr_nodes;
    return (int)(sel % c->nr_nodes);
}

/* ---- operations -----------------------------------------------------------
 */

static void op_mmap(struct ctx *c, unsigned slot, unsigned kind, unsigned v,
                    unsigned nidsel)
{
    struct mmod *mm = &c->mm[slot];
    uint64_t nr, addr = 0, want = 0;
    unsigned pos = 0;
    int nid = sel_nid(c, nidsel), rc, exp;
    bool valid;

    switch (kind % RO_NR_SIZE) {
    case RO_SIZE_SMALL:
        nr = 1 + v % 64;
        break;
    case RO_SIZE_MID:
        nr = 1 + v % 1024;
        break;
    case RO_SIZE_RAM:
        nr = c->ram_pages * (1 + v % 8) / 2;
        break;
    default:
        nr = v & 1 ? 0 : MMSIM_MMAP_MAX_PAGES + 1 + v;
        break;
    }
    valid = nr >= 1 && nr <= MMSIM_MMAP_MAX_PAGES;
    if (valid) {
        uint64_t mapped = 0;

        for (unsigned i = 0; i < c->nr_mms; i++)
            mapped += c->mm[i].total_vm;
        if (mapped + nr > MAP_CAP_PAGES)
            nr = MAP_CAP_PAGES - mapped;
        if (!nr)
            return;
    }
    if (!valid)
        exp = MMSIM_EINVAL;
    else if (nid != MMSIM_ANY_NODE && (unsigned)nid >= c->nr_nodes)
        exp = MMSIM_ENODEV;
    else if (mm->killed)
        exp = MMSIM_EKILLED;
    else if (!model_gap(mm, nr * PAGE, &want, &pos))
        exp = MMSIM_ENOMEM;
    else
        exp = 0;
    rc = mmsim_mmap(mm->mm, nr, nid, &addr);
    FZ_CHECK(rc == exp,
             "owner %" PRIu64 " mmap(%" PRIu64 " pages, node %d): %s, "
             "expected %s",
             mm->owner, nr, nid, fz_err(rc), fz_err(exp));
    if (rc)
        return;
    FZ_CHECK(addr == want,
             "owner %" PRIu64 " mmap(%" PRIu64 ") at %#" PRIx64
             ", expected %#" PRIx64,
             mm->owner, nr, addr, want);
    model_insert(mm, pos, addr, nr, xcalloc(nr, sizeof(struct mpage)));
    mm->total_vm += nr;
}

static void op_munmap(struct ctx *c, unsigned slot, unsigned kind,
                      unsigned region, unsigned page, unsigned pages)
{
    struct mmod *mm = &c->mm[slot];
    uint64_t addr, nr;
    int rc, exp;

    if (kind % RO_NR_ADDR == RO_ADDR_WILD)
        addr = (uint64_t)region << 56 | (uint64_t)page << 12 |
               (region & 1 ? 0x10 : 0);
    else
        addr = ro_addr(c, mm, kind, region, page, 0);
    if (pages == RO_UNMAP_REST) {
        int i = region_find(mm, addr);

        nr = i < 0 ? 1
                   : (mm->r[i].start + mm->r[i].nr * PAGE - addr + PAGE - 1) /
                         PAGE;
    } else if (pages == RO_UNMAP_HUGE) {
        nr = UINT64_C(1) << 52;
    } else {
        nr = pages % 1024;
    }
    if (!nr || addr % PAGE || nr > (UINT64_MAX - addr) / PAGE)
        exp = MMSIM_EINVAL;
    else
        exp = 0;
    rc = mmsim_munmap(mm->mm, addr, nr);
    FZ_CHECK(rc == exp,
             "owner %" PRIu64 " munmap(%#" PRIx64 ", %" PRIu64 "): %s, "
             "expected %s",
             mm->owner, addr, nr, fz_err(rc), fz_err(exp));
    if (rc)
        return;
    model_unmap(mm, addr, addr + nr * PAGE);
    c->freed[c->nr_freed++ % FREED_RING] = addr;
    /* Both edges are holes or other regions now. */
    check_pte(c, mm, addr, page_at(mm, addr), NULL);
    check_pte(c, mm, addr + (nr - 1) * PAGE,
              page_at(mm, addr + (nr - 1) * PAGE), NULL);
}

static void op_fill(struct ctx *c, unsigned slot, unsigned region,
                    unsigned page, unsigned n, unsigned seed, unsigned how)
{
    struct mmod *mm = &c->mm[slot];
    const struct mregion *r;
    uint64_t start, nr;
    int cpu = sel_cpu(c, seed);

    if (!mm->nr)
        return;
    r = &mm->r[region % mm->nr];
    start = r->start + (page % r->nr) * PAGE;
    nr = r->nr - page % r->nr;
    if (nr > (uint64_t)n + 1)
        nr = (uint64_t)n + 1;
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t a = start + i * PAGE;
        int rc;

        switch (how % RO_NR_FILL) {
        case RO_FILL_WRITE:
            rc = do_access(c, slot, cpu, a, PAGE, true, seed + (unsigned)i);
            break;
        case RO_FILL_TOUCH:
            rc = do_access(c, slot, cpu, a + (seed * 61u + i) % PAGE, 1, false,
                           0);
            break;
        case RO_FILL_PARTIAL:
            rc = do_access(c, slot, cpu, a + (seed % 64) * 64, 64, true,
                           seed + (unsigned)i);
            break;
        default:
            rc = do_access(c, slot, cpu, a, PAGE, false, 0);
            break;
        }
        if (rc)
            break;
    }
}

FZ_NOCOV static void op_reclaim(struct ctx *c, unsigned nidsel, unsigned who,
                                unsigned steps)
{
    int nid = sel_nid(c, nidsel == RO_NID_ANY ? 0 : nidsel);
    enum mmsim_reclaim_who w =
        who % 2 ? MMSIM_RECLAIM_DIRECT : MMSIM_RECLAIM_KSWAPD;
    const char *scan =
        w == MMSIM_RECLAIM_DIRECT ? "pgscan_direct" : "pgscan_kswapd";
    const char *steal =
        w == MMSIM_RECLAIM_DIRECT ? "pgsteal_direct" : "pgsteal_kswapd";

    for (unsigned s = 0; s < 1 + steps % 16; s++) {
        struct mmsim_reclaim_result res;
        uint64_t free0 = 0, lru0 = 0, out0, scan0, steal0, used0;
        int rc;

        if ((unsigned)nid < c->nr_nodes) {
            free0 = node_free(c, nid, NULL);
            lru0 = lru_pages(c, nid);
        }
        out0 = vmstat(c, "pswpout");
        scan0 = vmstat(c, scan);
        steal0 = vmstat(c, steal);
        used0 = swap_used(c);
        memset(&res, 0xff, sizeof(res));
        rc = mmsim_reclaim_step(c->m, nid, w, &res);
        if ((unsigned)nid >= c->nr_nodes) {
            FZ_CHECK(rc == MMSIM_ENODEV, "reclaim_step(node %d): %s", nid,
                     fz_err(rc));
            return;
        }
        FZ_CHECK(rc >= 0 && (uint64_t)rc == res.reclaimed,
                 "reclaim_step: %s, reclaimed %" PRIu64, fz_err(rc),
                 res.reclaimed);
        FZ_CHECK(res.scanned <= 32 && res.deactivated <= 32 &&
                     res.reclaimed + res.activated + res.kept <= res.scanned,
                 "reclaim_step: scanned %" PRIu64 " reclaimed %" PRIu64
                 " activated %" PRIu64 " kept %" PRIu64 " deactivated %" PRIu64,
                 res.scanned, res.reclaimed, res.activated, res.kept,
                 res.deactivated);
        FZ_CHECK(res.reclaimed <= c->swap_slots - used0,
                 "reclaimed %" PRIu64 " pages with %" PRIu64 " free slots",
                 res.reclaimed, c->swap_slots - used0);
        FZ_CHECK(vmstat(c, "pswpout") - out0 == res.reclaimed &&
                     swap_used(c) - used0 == res.reclaimed &&
                     node_free(c, nid, NULL) - free0 == res.reclaimed &&
                     lru0 - lru_pages(c, nid) == res.reclaimed,
                 "reclaim_step reclaimed %" PRIu64 ": pswpout +%" PRIu64
                 ", slots +%" PRIu64 ", free +%" PRIu64 ", LRU -%" PRIu64,
                 res.reclaimed, vmstat(c, "pswpout") - out0,
                 swap_used(c) - used0, node_free(c, nid, NULL) - free0,
                 lru0 - lru_pages(c, nid));
        FZ_CHECK(vmstat(c, scan) - scan0 == res.scanned &&
                     vmstat(c, steal) - steal0 == res.reclaimed,
                 "%s/%s do not count the step", scan, steal);
        if (!res.scanned && !res.deactivated)
            break;
    }
}

FZ_NOCOV static void op_balance(struct ctx *c, unsigned nidsel)
{
    int nid = sel_nid(c, nidsel == RO_NID_ANY ? 0 : nidsel);
    uint64_t free0 = 0, out0 = vmstat(c, "pswpout");
    uint64_t runs0 = vmstat(c, "pageoutrun");
    int64_t got;

    if ((unsigned)nid < c->nr_nodes)
        free0 = node_free(c, nid, NULL);
    got = mmsim_balance_node(c->m, nid);
    if ((unsigned)nid >= c->nr_nodes) {
        FZ_CHECK(got == MMSIM_ENODEV, "balance_node(%d): %" PRId64, nid, got);
        return;
    }
    FZ_CHECK(got >= 0, "balance_node: %" PRId64, got);
    FZ_CHECK(vmstat(c, "pswpout") - out0 == (uint64_t)got &&
                 node_free(c, nid, NULL) - free0 == (uint64_t)got &&
                 vmstat(c, "pageoutrun") - runs0 == 1,
             "balance_node returned %" PRId64 ": pswpout +%" PRIu64
             ", free +%" PRIu64,
             got, vmstat(c, "pswpout") - out0, node_free(c, nid, NULL) - free0);
    if (c->trace)
        fprintf(stderr, "  balance_node(%d): %" PRId64 ", balanced %d\n", nid,
                got, mmsim_node_balanced(c->m, nid));
}

static void op_raw_alloc(struct ctx *c, unsigned cpusel, unsigned gfpsel,
                         unsigned order, unsigned nidsel, unsigned count,
                         unsigned acct)
{
    mmsim_gfp_t gfp = ro_gfp_table[gfpsel % RO_GFP_COUNT];
    int cpu = cpusel == RO_CPU_NONE ? MMSIM_NO_CPU : (int)(cpusel % c->nr_cpus);
    int nid = sel_nid(c, nidsel), slot = -1;
    /*
     * __alloc_pages_may_oom() gives up for __GFP_THISNODE and lowmem
     * allocations; here they reach the OOM killer, whose report sums
     * every node (reclaim for them sees only some): do not call those
     * premature.
     */
    bool limited = gfp & (MMSIM_GFP_THISNODE | MMSIM_GFP_DMA);

    order %= 4;
    if (acct < RO_ACCT_NONE) {
        slot = (int)(acct % c->nr_mms);
        if (c->mm[slot].killed)
            slot = -1;
    }
    for (unsigned i = 0; i <= count % 64; i++) {
        uint64_t pfn;
        uint8_t marker[64];
        int rc;

        call_begin(c, limited);
        rc = mmsim_alloc_pages(c->m, cpu, gfp, order, nid, &pfn);
        call_end(c, rc, (gfp & MMSIM_GFP_NOWARN) != 0);
        if ((unsigned)nid < c->nr_nodes || nid == MMSIM_ANY_NODE) {
            FZ_CHECK(rc == 0 || rc == MMSIM_ENOMEM,
                     "alloc_pages(order %u, gfp %#x): %s", order, gfp,
                     fz_err(rc));
        } else {
            FZ_CHECK(rc == MMSIM_ENODEV, "alloc_pages(node %d): %s", nid,
                     fz_err(rc));
        }
        if (rc)
            return;
        /* What an address space left in these frames must be gone. */
        for (unsigned p = 0; p < 1u << order; p++) {
            rc = mmsim_page_read(c->m, pfn + p, 0, c->buf, (uint32_t)PAGE);
            FZ_CHECK(rc == 0 && !memcmp(c->buf, zero_page, PAGE),
                     "raw page %#" PRIx64 " not zeroed (%s)", pfn + p,
                     fz_err(rc));
            memset(marker, 0x5a + (int)p, sizeof(marker));
            FZ_CHECK(
                mmsim_page_write(c->m, pfn + p, 0, marker, sizeof(marker)) == 0,
                "page_write");
        }
        if (c->nr_raw == c->cap_raw) {
            size_t cap = c->cap_raw ? c->cap_raw * 2 : 64;
            struct raw *r = realloc(c->raw, cap * sizeof(*r));

            if (!r)
                fz_fail("out of host memory");
            c->raw = r;
            c->cap_raw = cap;
        }
        if (slot >= 0 && c->mm[slot].killed)
            slot = -1; /* killed by this very burst */
        c->raw[c->nr_raw++] =
            (struct raw){pfn, order, slot, slot >= 0 ? c->mm[slot].owner : 0};
        c->raw_pages += UINT64_C(1) << order;
        if (slot >= 0) {
            mmsim_mm_account(c->mm[slot].mm, (int64_t)1 << order);
            c->mm[slot].extra += (int64_t)1 << order;
        }
    }
}

static void raw_free_at(struct ctx *c, size_t i, int cpu)
{
    struct raw *r = &c->raw[i];
    int rc = mmsim_free_pages(c->m, cpu, r->pfn, r->order);

    FZ_CHECK(rc == 0, "free raw %#" PRIx64 "/%u: %s", r->pfn, r->order,
             fz_err(rc));
    if (r->acct >= 0 && c->mm[r->acct].owner == r->acct_owner) {
        mmsim_mm_account(c->mm[r->acct].mm, -((int64_t)1 << r->order));
        c->mm[r->acct].extra -= (int64_t)1 << r->order;
    }
    c->raw_pages -= UINT64_C(1) << r->order;
    *r = c->raw[--c->nr_raw];
}

static void op_raw_free(struct ctx *c, unsigned which, unsigned count,
                        unsigned cpusel)
{
    int cpu = cpusel == RO_CPU_NONE ? MMSIM_NO_CPU : (int)(cpusel % c->nr_cpus);

    for (unsigned i = 0; i <= count % 64 && c->nr_raw; i++)
        raw_free_at(c, (which + (size_t)i * 7) % c->nr_raw, cpu);
}

FZ_NOCOV static void op_pte(struct ctx *c, unsigned slot, unsigned kind,
                            unsigned region, unsigned page, unsigned n)
{
    struct mmod *mm = &c->mm[slot];
    uint64_t addr = ro_addr(c, mm, kind, region, page, 0) & ~(PAGE - 1);
    uint64_t pfns[64], slots[64];
    unsigned np = 0, ns = 0;

    for (unsigned i = 0; i <= n % 64; i++) {
        uint64_t a = addr + i * PAGE;
        struct mmsim_pte_info pi = {0};
        struct mpage *p;

        if (a < addr)
            break;
        p = page_at(mm, a);
        check_pte(c, mm, a, p, &pi);
        if (!p || !p->touched)
            continue;
        if (pi.state == MMSIM_PTE_PRESENT) {
            for (unsigned j = 0; j < np; j++)
                FZ_CHECK(pfns[j] != pi.pfn, "pfn %#" PRIx64 " mapped twice",
                         pi.pfn);
            pfns[np++] = pi.pfn;
        } else {
            for (unsigned j = 0; j < ns; j++)
                FZ_CHECK(slots[j] != pi.slot, "slot %" PRIu64 " used twice",
                         pi.slot);
            slots[ns++] = pi.slot;
        }
    }
}

static void mm_new(struct ctx *c, unsigned slot)
{
    struct mmod *mm = &c->mm[slot];
    char name[16];
    int rc;

    memset(mm, 0, sizeof(*mm));
    mm->owner = c->next_owner++;
    snprintf(name, sizeof(name), "fz%" PRIu64, mm->owner);
    rc = mmsim_mm_create(c->m, mm->owner, name, &mm->mm);
    FZ_CHECK(rc == 0 && mm->mm, "mm_create: %s", fz_err(rc));
}

static void op_exit(struct ctx *c, unsigned slot)
{
    struct mmod *mm = &c->mm[slot];

    mmsim_mm_destroy(mm->mm);
    for (size_t i = 0; i < c->nr_raw; i++)
        if (c->raw[i].acct == (int)slot)
            c->raw[i].acct = -1;
    model_free(mm);
    mm_new(c, slot);
}

/* Find "label value kB" in @text. */
FZ_NOCOV static uint64_t text_kb(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    uint64_t v;

    FZ_CHECK(p && sscanf(p + strlen(label), " %" SCNu64, &v) == 1,
             "no %s in the view", label);
    return v;
}

FZ_NOCOV static void
check_view(struct ctx *c,
           int64_t (*view)(struct mmsim_machine *, char *, size_t), size_t len)
{
    char small[256];
    size_t n = len % sizeof(small);
    int64_t full, got;

    full = view(c->m, NULL, 0);
    FZ_CHECK(full > 0, "view length %" PRId64, full);
    memset(small, 0x7e, sizeof(small));
    got = view(c->m, small, n);
    FZ_CHECK(got == full, "view: %" PRId64 " then %" PRId64, full, got);
    if (n)
        FZ_CHECK(strlen(small) == ((size_t)full < n ? (size_t)full : n - 1),
                 "view into %zu bytes not NUL-terminated at the right place",
                 n);
    if (n + 1 < sizeof(small))
        FZ_CHECK((unsigned char)small[n] == 0x7e || n == 0,
                 "view wrote past its buffer");
}

FZ_NOCOV static void op_query(struct ctx *c, unsigned what, unsigned arg)
{
    char *text = c->text;

    switch (what % RO_NR_Q) {
    case RO_Q_LRU: {
        struct mmsim_lru_info li;
        int nid = sel_nid(c, arg == RO_NID_ANY ? 0 : arg);
        int rc = mmsim_lru_info(c->m, nid, &li);

        FZ_CHECK(rc == ((unsigned)nid < c->nr_nodes ? 0 : MMSIM_ENODEV),
                 "lru_info(%d): %s", nid, fz_err(rc));
        break;
    }
    case RO_Q_SWAP: {
        int64_t n = mmsim_view_swaps(c->m, text, sizeof(c->text));

        FZ_CHECK(n > 0 && (size_t)n < sizeof(c->text), "view_swaps");
        FZ_CHECK(strncmp(text, "Filename", 8) == 0, "/proc/swaps header");
        if (c->swap_slots) {
            char want[64];

            snprintf(want, sizeof(want), "file\t\t%" PRIu64 "\t\t%" PRIu64,
                     c->swap_slots * 4, swap_used(c) * 4);
            FZ_CHECK(strstr(text, want), "/proc/swaps lacks '%s':\n%s", want,
                     text);
        } else {
            FZ_CHECK(!strchr(text, '\n') || !strchr(text, '\n')[1],
                     "/proc/swaps lists a device without swap");
        }
        break;
    }
    case RO_Q_MEMINFO: {
        int64_t n = mmsim_view_meminfo(c->m, text, sizeof(c->text));
        uint64_t used = swap_used(c), act = 0, inact = 0;

        FZ_CHECK(n > 0 && (size_t)n < sizeof(c->text), "view_meminfo");
        FZ_CHECK(text_kb(text, "SwapTotal:") == c->swap_slots * 4 &&
                     text_kb(text, "SwapFree:") == (c->swap_slots - used) * 4,
                 "meminfo swap lines");
        for (unsigned nid = 0; nid < c->nr_nodes; nid++) {
            struct mmsim_lru_info li;

            mmsim_lru_info(c->m, (int)nid, &li);
            act += li.active;
            inact += li.inactive;
        }
        FZ_CHECK(text_kb(text, "Active(anon):") == act * 4 &&
                     text_kb(text, "Inactive(anon):") == inact * 4,
                 "meminfo LRU lines");
        break;
    }
    case RO_Q_VMSTAT: {
        static const char *const names[] = {
            "pswpin",         "pswpout",       "pgmajfault",
            "pgscan_kswapd",  "pgscan_direct", "pgsteal_kswapd",
            "pgsteal_direct", "pageoutrun",    "oom_kill",
            "pgactivate",     "pgdeactivate",  "pgfault",
        };
        int64_t n = mmsim_view_vmstat(c->m, text, sizeof(c->text));

        FZ_CHECK(n > 0 && (size_t)n < sizeof(c->text), "view_vmstat");
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            char key[64];
            const char *p;
            uint64_t v;

            snprintf(key, sizeof(key), "\n%s ", names[i]);
            p = strstr(text, key);
            FZ_CHECK(p && sscanf(p + strlen(key), "%" SCNu64, &v) == 1 &&
                         v == vmstat(c, names[i]),
                     "vmstat %s: view and vmstat_get disagree", names[i]);
        }
        FZ_CHECK(vmstat(c, "pgmajfault") == vmstat(c, "pswpin"),
                 "pgmajfault != pswpin");
        break;
    }
    case RO_Q_OOM: {
        struct mmsim_oom_info oi;

        FZ_CHECK(mmsim_oom_info(c->m, &oi) == 0 && oi.kills == c->total_kills,
                 "oom_info");
        break;
    }
    case RO_Q_BALANCED:
        (void)mmsim_node_balanced(c->m, sel_nid(c, arg));
        break;
    default:
        check_view(c, mmsim_view_swaps, arg);
        check_view(c, mmsim_view_meminfo, arg * 3);
        break;
    }
}

static void run_op(struct ctx *c, const struct fz_op *op)
{
    const uint32_t *a = op->arg;
    unsigned slot = a[0] % c->nr_mms;

    if (c->trace) {
        fprintf(stderr, "op %u(", op->code);
        for (unsigned i = 0; i < op->nargs; i++)
            fprintf(stderr, "%s%#x", i ? ", " : "", op->arg[i]);
        fprintf(stderr, ")\n");
    }
    switch (op->code) {
    case RO_OP_MMAP:
        op_mmap(c, slot, a[1], a[2], a[3]);
        break;
    case RO_OP_MUNMAP:
        op_munmap(c, slot, a[1], a[2], a[3], a[4]);
        break;
    case RO_OP_WRITE:
        do_access(c, slot, sel_cpu(c, a[6]),
                  ro_addr(c, &c->mm[slot], a[1], a[2], a[3], a[4]),
                  a[5] % (RO_LEN_MAX + 1), true, a[6]);
        break;
    case RO_OP_READ:
        do_access(c, slot, sel_cpu(c, a[4] >> 12),
                  ro_addr(c, &c->mm[slot], a[1], a[2], a[3], a[4]),
                  a[5] % (RO_LEN_MAX + 1), false, 0);
        break;
    case RO_OP_FILL:
        op_fill(c, slot, a[1], a[2], a[3], a[4], a[5]);
        break;
    case RO_OP_RECLAIM:
        op_reclaim(c, a[0], a[1], a[2]);
        break;
    case RO_OP_BALANCE:
        op_balance(c, a[0]);
        break;
    case RO_OP_RAW_ALLOC:
        op_raw_alloc(c, a[0], a[1], a[2], a[3], a[4], a[5]);
        break;
    case RO_OP_RAW_FREE:
        op_raw_free(c, a[0], a[1], a[2]);
        break;
    case RO_OP_PTE:
        op_pte(c, slot, a[1], a[2], a[3], a[4]);
        break;
    case RO_OP_EXIT:
        op_exit(c, slot);
        break;
    case RO_OP_FAIL:
        c->fail_in = a[0] ? (int)(a[0] % 64) + 1 : 0;
        break;
    case RO_OP_QUERY:
        op_query(c, a[0], a[1]);
        break;
    case RO_OP_DRAIN:
        mmsim_drain_all(c->m);
        break;
    }
}

/* ---- the run --------------------------------------------------------------
 */

static void build_desc(struct ctx *c, unsigned flags, unsigned mem,
                       unsigned swap, unsigned knobs)
{
    struct mmsim_desc *d = &c->desc;
    uint64_t base = flags & RO_HDR_LOW_BASE ? MIB : 16 * MIB;

    mmsim_desc_init(d);
    c->nr_nodes = flags & RO_HDR_TWO_NODES ? 2 : 1;
    c->nr_cpus = ro_hdr_cpus(flags);
    c->nr_mms = ro_hdr_mms(flags);
    c->oom_fail = flags & RO_HDR_OOM_FAIL;
    for (unsigned n = 0; n < c->nr_nodes; n++) {
        uint64_t size = (uint64_t)ro_node_mib(mem, n) * MIB;

        mmsim_desc_add_range(d, (int)n, base, size);
        base += size;
        c->ram_pages += size / PAGE;
    }
    c->max_pfn = base / PAGE;
    d->nr_cpus = c->nr_cpus;
    d->contents = true;
    c->swap_slots = ro_swap_slots(swap);
    d->swap_bytes = c->swap_slots ? (c->swap_slots + 1) * PAGE : 0;
    d->swap_path[0] = '\0';
    d->oom_policy = c->oom_fail ? MMSIM_OOM_FAIL : MMSIM_OOM_KILL;
    d->min_free_kbytes = ro_min_free_kb[knobs & 3u];
    d->watermark_scale_factor = ro_wsf[(knobs >> 2) & 3u];
}

/* Every present page reads back as the model says (no allocation). */
FZ_NOCOV static void final_verify(struct ctx *c)
{
    unsigned budget = FINAL_VERIFY_PAGES;

    for (unsigned s = 0; s < c->nr_mms; s++) {
        struct mmod *mm = &c->mm[s];

        for (unsigned i = 0; i < mm->nr && budget; i++)
            for (uint64_t j = 0; j < mm->r[i].nr && budget; j++) {
                struct mpage *p = &mm->r[i].pg[j];
                uint64_t a = mm->r[i].start + j * PAGE;
                struct mmsim_pte_info pi;

                check_pte(c, mm, a, p, &pi);
                if (!p->touched || pi.state != MMSIM_PTE_PRESENT)
                    continue;
                budget--;
                FZ_CHECK(do_access(c, s, MMSIM_NO_CPU, a, PAGE, false, 0) == 0,
                         "reading a present page failed");
            }
    }
}

FZ_NOCOV static void teardown(struct ctx *c)
{
    uint64_t managed, free;

    while (c->nr_raw)
        raw_free_at(c, c->nr_raw - 1, MMSIM_NO_CPU);
    for (unsigned s = 0; s < c->nr_mms; s++) {
        mmsim_mm_destroy(c->mm[s].mm);
        c->mm[s].mm = NULL;
        model_free(&c->mm[s]);
    }
    c->nr_mms = 0;
    FZ_CHECK(swap_used(c) == 0, "swap slots left after every exit");
    FZ_CHECK(lru_pages(c, -1) == 0, "LRU pages left after every exit");
    mmsim_drain_all(c->m);
    FZ_CHECK(mmsim_check(c->m, true, c->err, sizeof(c->err)) == 0,
             "mmsim_check at the end: %s", c->err);
    free = node_free(c, -1, &managed);
    FZ_CHECK(free == managed,
             "at the end: free %" PRIu64 " of %" PRIu64 " managed", free,
             managed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct mmsim_machine_opts opts;
    struct ctx *c = calloc(1, sizeof(*c));
    unsigned flags, mem, swap, knobs, nops = 0;
    int rc;

    if (!c)
        return 0;
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    flags = fz_u8(&in);
    mem = fz_u8(&in);
    swap = fz_u16(&in);
    knobs = fz_u8(&in);
    build_desc(c, flags, mem, swap, knobs);
    if (c->trace)
        fprintf(stderr,
                "machine: %u node(s) of %u/%u MiB from %s, %u cpus, %u "
                "address spaces, %" PRIu64 " swap slots, oom_policy %s, "
                "min_free_kbytes %" PRIu64 ", wsf %u\n",
                c->nr_nodes, ro_node_mib(mem, 0), ro_node_mib(mem, 1),
                flags & RO_HDR_LOW_BASE ? "1 MiB" : "16 MiB", c->nr_cpus,
                c->nr_mms, c->swap_slots, c->oom_fail ? "fail" : "kill",
                c->desc.min_free_kbytes, c->desc.watermark_scale_factor);
    opts = (struct mmsim_machine_opts){
        .log = log_hook,
        .log_ctx = c,
        .fail_page_alloc = fail_hook,
        .fail_ctx = c,
        .oom_kill = kill_hook,
        .oom_ctx = c,
    };
    rc = mmsim_machine_create(&c->desc, &opts, &c->m, c->err, sizeof(c->err));
    FZ_CHECK(rc == 0, "boot: %s (%s)", fz_err(rc), c->err);
    c->next_owner = 1;
    for (unsigned s = 0; s < c->nr_mms; s++)
        mm_new(c, s);
    check_all(c);

    while (fz_more(&in) && nops++ < MAX_OPS) {
        struct fz_op op;

        fz_dec_op(&in, ro_op_layout, RO_NR_OPS, &op);
        run_op(c, &op);
        check_all(c);
    }
    c->fail_in = 0;
    final_verify(c);
    check_all(c);
    teardown(c);
    mmsim_machine_destroy(c->m);
    free(c->raw);
    free(c);
    return 0;
}
