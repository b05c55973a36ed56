/*
 * mm_ops.c - fuzz the machine: boot a small machine the input describes,
 * then run a byte-coded operation sequence against the core, checking
 * everything after every operation.
 *
 * DOC: what is checked
 *
 * - mmsim_check(m, true) after every operation (every free list, pcp
 *   list, counter and page frame).
 * - A reference model: one state per page of each node's span (hole,
 *   free, reserved, allocated by us, the bootmem bitmap). Every block
 *   the allocator returns must be aligned, lie in one zone the GFP flags
 *   allow (and on the preferred node with __GFP_THISNODE), and cover only
 *   pages the model says are free. Per zone, managed = free + pcp +
 *   deferred + what the model holds. Every bad free (wrong order, not a
 *   head, already free, reserved, a hole, out of range, bad cpu or
 *   order) must return the code the model predicts and change nothing.
 * - fail_page_alloc: allocations the input marks fail must return
 *   MMSIM_ENOMEM and change nothing (views, counters, log); the hook is
 *   consulted exactly once per valid non-NOFAIL allocation, after
 *   validation, never for NOFAIL.
 * - Host allocation failure (the input may fail the Nth host allocation):
 *   a failure during boot must be reported as MMSIM_EHOSTMEM, or as
 *   MMSIM_EPANIC when the description cannot boot anyway (a second boot
 *   without the failure must then panic too); in finish_boot as either;
 *   no leak either way (ASan's leak checker).
 * - A description the input breaks (MM_INVALID_*) is refused by both
 *   mmsim_desc_validate() and boot, with the same message.
 * - Page contents: what is written reads back, a page reads as zeros
 *   until written and again after it is freed and reallocated.
 * - The views keep snprintf's contract; the early-allocation API
 *   (stop_before_handoff) behaves as documented; free_bootmem_late gives
 *   exactly the reserved pages to buddy. In memblock machines the pages
 *   buddy manages are exactly those memblock.reserved does not touch; in
 *   bootmem machines each bitmap is where mmsim_machine_bootmem_map() and
 *   the boot log say, and its pages are free right after the hand-off.
 * - At the end everything is freed, pcp lists drained, deferred pages
 *   released, and every zone's free equals its managed.
 *
 * Machines stay small (at most 64 MiB of RAM on at most 4 nodes, 256 MiB
 * with deferred init, which only defers past a node's first 128 MiB) so
 * an exec takes well under a millisecond plus the checker's walks.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/bootmem.h"
#include "mmsim/desc.h"
#include "mmsim/memblock.h"
#include "mmsim/mm.h"
#include "ops.h"

#define PAGE       MMSIM_PAGE_SIZE
#define MAX_OPS    2048
#define MAX_EARLY  128
#define FREED_RING 32
#define PFN_4G     (UINT64_C(1) << (32 - MMSIM_PAGE_SHIFT))

/* Model page states. */
enum {
    PS_HOLE,       /* not RAM (in bootmem: a reserved bit) */
    PS_HOLE_FREED, /* not RAM, but its bootmem bit was cleared */
    PS_FREE,       /* RAM nobody holds: buddy's (or the early allocator's) */
    PS_RSV,        /* reserved: described, early-allocated or reserved */
    PS_SYS,        /* the bootmem bitmap: reserved until the hand-off */
    PS_ALLOC,      /* in a block we hold */
};

struct live {
    uint64_t pfn;
    unsigned order;
    uint32_t tag;
    struct mmsim_page_where where;
};

struct early {
    uint64_t addr;
    uint64_t size;
};

/* Model of one node's span [start, end) of pfns. */
struct nodemap {
    uint64_t start;
    uint64_t end;
    uint8_t *st;
    uint8_t **data; /* page contents written, per page; NULL: zeros */
    uint32_t *head; /* at a live block's first page: its index + 1 */
};

/* A set of acceptable return codes. */
struct rcset {
    int v[12];
    unsigned n;
};

static void rc_add(struct rcset *s, int rc)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->v[i] == rc)
            return;
    if (s->n < sizeof(s->v) / sizeof(s->v[0]))
        s->v[s->n++] = rc;
}

static bool rc_has(const struct rcset *s, int rc)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->v[i] == rc)
            return true;
    return false;
}

struct ctx {
    struct mmsim_desc desc;
    struct mmsim_machine *m;
    struct fz_hostfail hf;
    struct mmsim_allocator alloc;
    bool hostfail;

    /* fail_page_alloc */
    bool fail_next;
    unsigned fail_calls;
    mmsim_gfp_t fail_gfp;
    unsigned fail_order;
    uint64_t injected;

    unsigned long log_lines;
    bool trace; /* MMSIM_FUZZ_TRACE set: print the machine and each op */

    unsigned nr_nodes, nr_cpus, max_order;
    bool highmem, bootmem, running, contents;
    unsigned boot_attempts; /* finish_boot runs: each reserves node data */
    bool dead; /* a failed bootmem hand-off: only destroy is allowed */
    uint64_t bootmap[MM_MAX_NODES][2]; /* each node's bitmap: pfn, pages */
    uint64_t max_pfn;
    /* Zone types of the model in index order, and their index. */
    unsigned nr_types;
    enum mmsim_zone_type types[MMSIM_NR_ZONE_TYPES];
    int type_idx[MMSIM_NR_ZONE_TYPES];

    struct nodemap nm[MM_MAX_NODES];

    struct live *live;
    size_t nr_live, cap_live;
    uint64_t zone_held[MM_MAX_NODES][MMSIM_NR_ZONE_TYPES];

    uint64_t freed[FREED_RING];
    unsigned nr_freed, freed_pos;

    struct early early[MAX_EARLY];
    unsigned nr_early;
    bool early_untracked; /* a free or a full list: no overlap checks */

    char err[512];
};

/* ---- hooks ------------------------------------------------------------- */

static bool fail_hook(void *ctx, mmsim_gfp_t gfp, unsigned order)
{
    struct ctx *c = ctx;

    c->fail_calls++;
    c->fail_gfp = gfp;
    c->fail_order = order;
    if (c->fail_next)
        c->injected++;
    return c->fail_next;
}

static void log_hook(void *ctx, int level, const char *line)
{
    struct ctx *c = ctx;

    if (c->trace)
        fprintf(stderr, "  log<%d> %s\n", level, line);

    FZ_CHECK(level >= 0 && level <= 7, "log level %d", level);
    FZ_CHECK(line && strlen(line) < 512, "log line too long");
    c->log_lines++;
}

/* ---- the page model ----------------------------------------------------- */

FZ_NOCOV static uint8_t *page_slot(struct ctx *c, uint64_t pfn)
{
    for (unsigned n = 0; n < c->nr_nodes; n++)
        if (pfn >= c->nm[n].start && pfn < c->nm[n].end)
            return &c->nm[n].st[pfn - c->nm[n].start];
    return NULL;
}

FZ_NOCOV static int page_state(struct ctx *c, uint64_t pfn)
{
    uint8_t *s = page_slot(c, pfn);

    return s ? *s : PS_HOLE;
}

FZ_NOCOV static void set_state(struct ctx *c, uint64_t pfn, int st)
{
    uint8_t *s = page_slot(c, pfn);

    if (s)
        *s = (uint8_t)st;
}

/* The model's copy of a page's contents: NULL reads as zeros. */
FZ_NOCOV static uint8_t **page_data(struct ctx *c, uint64_t pfn)
{
    for (unsigned n = 0; n < c->nr_nodes; n++)
        if (pfn >= c->nm[n].start && pfn < c->nm[n].end)
            return &c->nm[n].data[pfn - c->nm[n].start];
    return NULL;
}

FZ_NOCOV static bool is_ram(int st)
{
    return st != PS_HOLE && st != PS_HOLE_FREED;
}

/* Node whose span holds @pfn, or -1. */
FZ_NOCOV static int node_of(struct ctx *c, uint64_t pfn)
{
    for (unsigned n = 0; n < c->nr_nodes; n++)
        if (pfn >= c->nm[n].start && pfn < c->nm[n].end)
            return (int)n;
    return -1;
}

FZ_NOCOV static uint64_t count_state(struct ctx *c, int st)
{
    uint64_t k = 0;

    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (uint64_t i = 0; i < c->nm[n].end - c->nm[n].start; i++)
            k += c->nm[n].st[i] == st;
    return k;
}

/* ---- building the machine ------------------------------------------------ */

struct built_range {
    uint64_t base, size;
};

static void build_desc(struct ctx *c, const struct mm_shape *s)
{
    struct mmsim_desc *d = &c->desc;
    struct built_range rs[MM_MAX_NODES * MM_MAX_RANGES];
    unsigned nr = 0, total_ranges = 0, placed = 0;
    bool big = s->flags & MM_SHAPE_DEFERRED;
    /* Deferred machines may start higher: see MM_SHAPE_DEFERRED in ops.h. */
    uint64_t pos = (uint64_t)s->base * (big ? 256 : 16);
    uint64_t budget = big ? MM_BUDGET_PAGES_DEFERRED : MM_BUDGET_PAGES;
    uint64_t range_cap = big ? MM_RANGE_PAGES_DEFERRED : MM_RANGE_PAGES;
    uint64_t total;

    mmsim_desc_init(d);
    c->nr_nodes = mm_shape_nodes(s);
    c->nr_cpus = 1 + (s->cpus_order & 7u);
    c->max_order = s->cpus_order >> 4;
    c->highmem = s->flags & MM_SHAPE_HIGHMEM;
    c->bootmem = s->flags & MM_SHAPE_BOOTMEM;
    d->nr_cpus = c->nr_cpus;
    d->max_order = c->max_order;
    d->deferred_init = s->flags & MM_SHAPE_DEFERRED;
    d->stop_before_handoff = s->flags & MM_SHAPE_EARLY;
    d->early = c->bootmem ? MMSIM_EARLY_BOOTMEM : MMSIM_EARLY_MEMBLOCK;
    c->contents = s->extra & MM_EXTRA_CONTENTS;
    d->contents = c->contents;
    if (c->highmem)
        d->highmem_start = (UINT64_C(17) + s->highmem_mib % 48) << 20;

    for (unsigned n = 0; n < c->nr_nodes; n++)
        total_ranges += mm_shape_ranges(s, n);
    for (unsigned n = 0; n < c->nr_nodes; n++) {
        if ((s->flags & MM_SHAPE_HIGH4G) && n == c->nr_nodes - 1 &&
            pos < PFN_4G)
            pos = PFN_4G;
        c->nm[n].start = UINT64_MAX;
        for (unsigned r = 0; r < mm_shape_ranges(s, n); r++) {
            uint64_t pages = 1 + s->range[n][r].pages % range_cap;
            uint64_t left = total_ranges - placed - 1;

            pos += (uint64_t)s->range[n][r].gap * 16;
            if (pages > budget - left)
                pages = budget - left;
            mmsim_desc_add_range(d, (int)n, pos << 12, pages << 12);
            rs[nr++] = (struct built_range){pos << 12, pages << 12};
            if (c->nm[n].start == UINT64_MAX)
                c->nm[n].start = pos;
            pos += pages;
            c->nm[n].end = pos;
            budget -= pages;
            placed++;
        }
    }
    c->max_pfn = pos;

    for (unsigned i = 0; i < mm_shape_reserved(s); i++) {
        const struct built_range *r = &rs[s->rsv[i].range % nr];
        uint64_t off = (uint64_t)(s->rsv[i].off % (r->size >> 12)) << 12;
        uint64_t base = r->base + off, size;
        uint64_t skew = (uint64_t)(s->rsv[i].skew & 15u) * 256;
        char name[32];

        size = ((uint64_t)(1 + s->rsv[i].pages % 512) << 12) +
               (uint64_t)(s->rsv[i].skew >> 4) * 256;
        if (base >= skew)
            base -= skew;
        snprintf(name, sizeof(name), "fuzz-%u", i);
        mmsim_desc_add_reserved(d, base, size, name);
    }

    total = mmsim_desc_total_ram(d);
    switch (s->knobs & 3u) {
    case 1:
        d->min_free_kbytes = 128;
        break;
    case 2:
        d->min_free_kbytes = 1024;
        break;
    case 3:
        d->min_free_kbytes = total / 1024 / 2;
        break;
    }
    if (d->min_free_kbytes > total / 1024 / 2)
        d->min_free_kbytes = total / 1024 / 2;
    {
        static const unsigned wsf[4] = {10, 1, 300, 3000};

        d->watermark_scale_factor = wsf[(s->knobs >> 2) & 3u];
    }
    switch ((s->knobs >> 4) & 3u) {
    case 1:
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
            d->lowmem_reserve_ratio[t] = 1;
        break;
    case 2:
        memset(d->lowmem_reserve_ratio, 0, sizeof(d->lowmem_reserve_ratio));
        break;
    case 3:
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
            d->lowmem_reserve_ratio[t] = 32;
        break;
    }
    switch (s->knobs >> 6) {
    case 1:
        d->movablecore = total / 8;
        break;
    case 2:
        d->movablecore = total / 2;
        break;
    case 3:
        d->movablecore = total > PAGE ? total - PAGE : 0;
        break;
    }
    for (unsigned a = 0; a < c->nr_nodes; a++)
        for (unsigned b = 0; b < c->nr_nodes; b++)
            if (a != b)
                d->distance[a][b] = (uint8_t)(11 + s->dist[a][b] % 244);

    /* The model's zone types, as desc.h describes the two models. */
    {
        static const enum mmsim_zone_type z64[] = {
            MMSIM_ZONE_DMA, MMSIM_ZONE_DMA32, MMSIM_ZONE_NORMAL,
            MMSIM_ZONE_MOVABLE, MMSIM_ZONE_DEVICE};
        static const enum mmsim_zone_type z32[] = {
            MMSIM_ZONE_DMA, MMSIM_ZONE_NORMAL, MMSIM_ZONE_HIGHMEM,
            MMSIM_ZONE_MOVABLE};

        c->nr_types = c->highmem ? 4 : 5;
        for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
            c->type_idx[t] = -1;
        for (unsigned i = 0; i < c->nr_types; i++) {
            c->types[i] = c->highmem ? z32[i] : z64[i];
            c->type_idx[c->types[i]] = (int)i;
        }
    }
}

/*
 * Break one rule of mmsim_desc_validate() (ops.h, MM_INVALID_*). The
 * builders' own argument checks are exercised on the way. Returns false
 * when the machine's shape leaves nothing to break that way.
 */
static bool break_desc(struct ctx *c, unsigned how, unsigned v)
{
    struct mmsim_desc *d = &c->desc;
    struct mmsim_desc_range *last = &d->ranges[d->nr_ranges - 1];

    FZ_CHECK(mmsim_desc_add_range(d, -1, 0, PAGE) == MMSIM_EINVAL &&
                 mmsim_desc_add_range(d, MMSIM_MAX_NODES, 0, PAGE) ==
                     MMSIM_EINVAL &&
                 mmsim_desc_set_distance(d, 0, MMSIM_MAX_NODES, 20) ==
                     MMSIM_EINVAL &&
                 mmsim_desc_set_distance(d, -1, 0, 20) == MMSIM_EINVAL &&
                 mmsim_desc_set_distance(d, 0, 1, 256) == MMSIM_EINVAL,
             "desc builders accepted bad arguments");
    switch (how) {
    case MM_INVALID_NO_NODES:
        d->nr_nodes = 0;
        break;
    case MM_INVALID_NO_RANGES:
        d->nr_ranges = (v & 1) ? 0 : MMSIM_DESC_MAX_RANGES + 1;
        break;
    case MM_INVALID_RANGE_NODE:
        last->nid = (v & 1) ? -1 : (int)d->nr_nodes;
        break;
    case MM_INVALID_RANGE_EMPTY:
        last->size = 0;
        break;
    case MM_INVALID_RANGE_ALIGN:
        if (v & 1)
            last->base += 1 + v % (PAGE - 1);
        else
            last->size += 1 + v % (PAGE - 1);
        break;
    case MM_INVALID_RANGE_LIMIT:
        last->base = (c->highmem ? MMSIM_PAE_LIMIT : MMSIM_MAX_PHYS) -
                     ((v & 1) ? 0 : PAGE);
        last->size = 2 * PAGE;
        break;
    case MM_INVALID_OVERLAP:
        FZ_CHECK(mmsim_desc_add_range(d, last->nid,
                                      last->base + last->size - PAGE,
                                      2 * PAGE) == 0,
                 "add_range");
        break;
    case MM_INVALID_EMPTY_NODE:
        d->nr_nodes++;
        break;
    case MM_INVALID_INTERLEAVE:
        if (d->nr_nodes < 2)
            return false;
        FZ_CHECK(mmsim_desc_add_range(d, 0, last->base + last->size + PAGE,
                                      PAGE) == 0,
                 "add_range");
        break;
    case MM_INVALID_RSV_EMPTY:
        mmsim_desc_add_reserved(d, d->ranges[0].base, 0, NULL);
        break;
    case MM_INVALID_RSV_LIMIT:
        mmsim_desc_add_reserved(d, MMSIM_MAX_PHYS - ((v & 1) ? 0 : PAGE),
                                2 * PAGE, "far");
        break;
    case MM_INVALID_DIST_SELF:
        d->distance[v % d->nr_nodes][v % d->nr_nodes] = (uint8_t)(11 + v % 200);
        break;
    case MM_INVALID_DIST_REMOTE:
        if (d->nr_nodes < 2)
            return false;
        d->distance[0][1] = (v & 1) ? 10 : 255;
        break;
    case MM_INVALID_CPUS:
        d->nr_cpus = (v & 1) ? 0 : MMSIM_MAX_CPUS + 1 + v;
        break;
    case MM_INVALID_MAX_ORDER:
        d->max_order = MMSIM_MAX_ORDER_CAP + 1 + v;
        break;
    case MM_INVALID_WSF:
        d->watermark_scale_factor = (v & 1) ? 0 : 3001 + v;
        break;
    case MM_INVALID_MIN_FREE:
        d->min_free_kbytes = mmsim_desc_total_ram(d) / 2048 + 1 + v;
        break;
    case MM_INVALID_MOVABLECORE:
        d->movablecore = mmsim_desc_total_ram(d) + ((v & 1) ? 0 : v);
        break;
    case MM_INVALID_HIGHMEM:
        d->highmem_start = (v % 3 == 0)   ? MMSIM_DMA_END
                           : (v % 3 == 1) ? MMSIM_DMA32_END + PAGE
                                          : (UINT64_C(32) << 20) + 1;
        break;
    case MM_INVALID_EARLY:
        d->early = (enum mmsim_early_kind)(2 + v % 5);
        break;
    case MM_INVALID_NR_RESERVED:
        while (d->nr_reserved < MMSIM_DESC_MAX_RESERVED)
            mmsim_desc_add_reserved(d, d->ranges[0].base, PAGE, NULL);
        FZ_CHECK(mmsim_desc_add_reserved(d, 0, PAGE, NULL) == MMSIM_ERANGE,
                 "add_reserved past the table");
        d->nr_reserved = MMSIM_DESC_MAX_RESERVED + 1;
        break;
    default:
        return false;
    }
    return true;
}

/* A broken description: validate and boot agree it is, and say why. */
static void check_invalid(struct ctx *c)
{
    struct mmsim_machine *m = NULL;
    char why[512];
    int rc = mmsim_desc_validate(&c->desc, why, sizeof(why));

    FZ_CHECK(rc == MMSIM_ECONFIG && why[0],
             "desc_validate accepted a broken description: %s", fz_err(rc));
    rc = mmsim_machine_create(&c->desc, NULL, &m, c->err, sizeof(c->err));
    FZ_CHECK(rc == MMSIM_ECONFIG && !m && !strcmp(c->err, why),
             "boot of a broken description: %s (%s)", fz_err(rc), c->err);
    FZ_CHECK(mmsim_desc_validate(&c->desc, NULL, 0) == MMSIM_ECONFIG,
             "validate without a buffer");
}

/* Page model at boot: RAM free, pages touching described ranges reserved. */
static void build_model(struct ctx *c)
{
    const struct mmsim_desc *d = &c->desc;

    for (unsigned n = 0; n < c->nr_nodes; n++) {
        uint64_t span = c->nm[n].end - c->nm[n].start;

        c->nm[n].st = calloc(span, 1);
        c->nm[n].data = calloc(span, sizeof(*c->nm[n].data));
        c->nm[n].head = calloc(span, sizeof(*c->nm[n].head));
        if (!c->nm[n].st || !c->nm[n].data || !c->nm[n].head)
            fz_fail("out of host memory");
    }
    for (unsigned i = 0; i < d->nr_ranges; i++)
        for (uint64_t p = d->ranges[i].base >> 12;
             p < (d->ranges[i].base + d->ranges[i].size) >> 12; p++)
            set_state(c, p, PS_FREE);
    for (unsigned i = 0; i < d->nr_reserved; i++) {
        uint64_t s = d->reserved[i].base >> 12;
        uint64_t e = MMSIM_PFN_UP(d->reserved[i].base + d->reserved[i].size);

        for (uint64_t p = s; p < e; p++)
            if (is_ram(page_state(c, p)))
                set_state(c, p, PS_RSV);
    }
}

/*
 * The bootmem bitmaps are reserved in the nodes until the hand-off.
 * mmsim_machine_bootmem_map() says where; the boot log must say the same
 * ("  bootmap [mem A-B] pages N", one line per node in node order).
 */
static void mark_bootmaps(struct ctx *c)
{
    char *log, *p;
    int64_t n = mmsim_view_bootlog(c->m, NULL, 0);
    uint64_t a, b, addr, size;

    FZ_CHECK(n >= 0, "bootlog: %s", fz_err((int)n));
    log = malloc((size_t)n + 1);
    if (!log)
        fz_fail("out of host memory");
    FZ_CHECK(mmsim_view_bootlog(c->m, log, (size_t)n + 1) == n,
             "bootlog length changed");
    p = log;
    for (unsigned nid = 0; nid < c->nr_nodes; nid++) {
        int rc = mmsim_machine_bootmem_map(c->m, (int)nid, &addr, &size);

        FZ_CHECK(rc == 0 && size && !(addr & (PAGE - 1)) &&
                     !(size & (PAGE - 1)),
                 "bootmem_map(%u): %s", nid, fz_err(rc));
        p = strstr(p, "bootmap [mem ");
        FZ_CHECK(p && sscanf(p, "bootmap [mem %" SCNx64 "-%" SCNx64 "]", &a,
                             &b) == 2,
                 "no bootmap line for node %u", nid);
        FZ_CHECK(a == addr && b == addr + size - 1,
                 "node %u: bootmem_map [%#" PRIx64 ", +%#" PRIx64
                 ") but the log says [%#" PRIx64 "-%#" PRIx64 "]",
                 nid, addr, size, a, b);
        c->bootmap[nid][0] = addr >> 12;
        c->bootmap[nid][1] = size >> 12;
        for (uint64_t pfn = a >> 12; pfn <= b >> 12; pfn++) {
            FZ_CHECK(page_state(c, pfn) == PS_FREE,
                     "bootmap page %#" PRIx64 " was not free RAM", pfn);
            set_state(c, pfn, PS_SYS);
        }
        p++;
    }
    FZ_CHECK(!strstr(p, "bootmap [mem "), "more bootmap lines than nodes");
    FZ_CHECK(mmsim_machine_bootmem_map(c->m, (int)c->nr_nodes, &addr, &size) ==
                     MMSIM_ENOENT &&
                 mmsim_machine_bootmem_map(c->m, -1, &addr, &size) ==
                     MMSIM_ENOENT,
             "bootmem_map of a node that does not exist");
    free(log);
}

/* ---- machine-wide checks ------------------------------------------------- */

static uint64_t total_managed(struct ctx *c)
{
    uint64_t sum = 0;

    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (unsigned i = 0; i < c->nr_types; i++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(c->m, (int)n, c->types[i], &zi) == 0)
                sum += zi.managed;
        }
    return sum;
}

/*
 * The hand-off happened: in memblock machines the reserved array is the
 * truth about what buddy did not get, so the model is rebuilt from it
 * and the pages buddy manages must be exactly the model's free pages.
 */
static void model_handoff(struct ctx *c)
{
    uint64_t managed = total_managed(c);

    if (!c->bootmem) {
        struct mmsim_memblock *mb = mmsim_machine_memblock(c->m);
        unsigned cnt;

        FZ_CHECK(mb, "memblock machine without memblock");
        for (unsigned n = 0; n < c->nr_nodes; n++)
            for (uint64_t i = 0; i < c->nm[n].end - c->nm[n].start; i++)
                if (is_ram(c->nm[n].st[i]))
                    c->nm[n].st[i] = PS_FREE;
        cnt = mmsim_memblock_count(mb, MMSIM_MEMBLOCK_RESERVED);
        for (unsigned i = 0; i < cnt; i++) {
            struct mmsim_memblock_region r;
            uint64_t e;

            FZ_CHECK(
                mmsim_memblock_region(mb, MMSIM_MEMBLOCK_RESERVED, i, &r) == 0,
                "memblock region %u", i);
            e = MMSIM_PFN_UP(r.base + r.size);
            for (uint64_t p = r.base >> 12; p < e && p < c->max_pfn; p++)
                if (is_ram(page_state(c, p)))
                    set_state(c, p, PS_RSV);
        }
        FZ_CHECK(managed == count_state(c, PS_FREE),
                 "managed %" PRIu64 " != %" PRIu64
                 " RAM pages not memblock-reserved",
                 managed, count_state(c, PS_FREE));
    } else {
        uint64_t maxsys = 0, freeish;

        FZ_CHECK(!mmsim_machine_memblock(c->m), "bootmem machine has memblock");
        for (unsigned n = 0; n < c->nr_nodes; n++) {
            uint64_t span = c->nm[n].end - c->nm[n].start;

            /*
             * NODE_DATA and the node's mem_map: reserved, not modelled;
             * a failed finish_boot leaves its copies reserved too.
             */
            maxsys += (2 + (span * 16 + PAGE - 1) / PAGE) * c->boot_attempts;
            for (uint64_t i = 0; i < span; i++)
                if (c->nm[n].st[i] == PS_SYS)
                    c->nm[n].st[i] = PS_FREE;
        }
        /* The bitmaps' own pages went to buddy: free now, whatever node. */
        for (unsigned n = 0; n < c->nr_nodes; n++)
            for (uint64_t p = c->bootmap[n][0];
                 p < c->bootmap[n][0] + c->bootmap[n][1]; p++) {
                uint32_t tag;
                unsigned order;
                int rc = mmsim_page_owner(c->m, p, &tag, &order);

                FZ_CHECK(rc == MMSIM_EALREADY,
                         "node %u's bootmem bitmap page %#" PRIx64
                         " (in node %d) was not handed to buddy: %s",
                         n, p, node_of(c, p), fz_err(rc));
            }
        freeish = count_state(c, PS_FREE) + count_state(c, PS_HOLE_FREED);
        FZ_CHECK(managed <= freeish && managed + maxsys >= freeish,
                 "managed %" PRIu64 " vs %" PRIu64 " free pages in the model",
                 managed, freeish);
    }
}

static void check_all(struct ctx *c)
{
    if (mmsim_check(c->m, true, c->err, sizeof(c->err)))
        fz_fail("mmsim_check: %s", c->err);
    if (!c->running)
        return;
    for (unsigned n = 0; n < c->nr_nodes; n++) {
        for (unsigned i = 0; i < c->nr_types; i++) {
            struct mmsim_zone_info zi;
            uint64_t blocks = 0;
            int rc = mmsim_zone_info(c->m, (int)n, c->types[i], &zi);

            FZ_CHECK(rc == 0, "zone_info(%u, %s): %s", n,
                     mmsim_zone_type_name(c->types[i]), fz_err(rc));
            for (unsigned o = 0; o <= MMSIM_MAX_ORDER_CAP; o++) {
                FZ_CHECK(o <= c->max_order || !zi.nr_free[o],
                         "nr_free beyond max_order");
                blocks += zi.nr_free[o] << o;
            }
            FZ_CHECK(blocks == zi.free,
                     "node %u %s: nr_free adds up to %" PRIu64
                     " pages, free says %" PRIu64,
                     n, mmsim_zone_type_name(c->types[i]), blocks, zi.free);
            FZ_CHECK(zi.managed == zi.free + zi.pcp + zi.deferred +
                                       c->zone_held[n][c->types[i]],
                     "node %u %s: managed %" PRIu64 " != free %" PRIu64
                     " + pcp %" PRIu64 " + deferred %" PRIu64
                     " + held by the model %" PRIu64,
                     n, mmsim_zone_type_name(c->types[i]), zi.managed, zi.free,
                     zi.pcp, zi.deferred, c->zone_held[n][c->types[i]]);
            FZ_CHECK(zi.managed <= zi.present && zi.present <= zi.spanned,
                     "node %u %s: managed/present/spanned %" PRIu64 "/%" PRIu64
                     "/%" PRIu64,
                     n, mmsim_zone_type_name(c->types[i]), zi.managed,
                     zi.present, zi.spanned);
            FZ_CHECK(zi.wmark_min <= zi.wmark_low &&
                         zi.wmark_low <= zi.wmark_high &&
                         zi.wmark_high <= zi.wmark_promo,
                     "watermarks out of order");
        }
    }
}

/* ---- GFP semantics, from docs/mm.md ----------------------------------------
 */

/* Highest zone index @gfp allows in this model, or -1 (impossible). */
static int gfp_highest(const struct ctx *c, mmsim_gfp_t gfp)
{
    int t;

    switch (gfp & MMSIM_GFP_ZONEMASK) {
    case 0:
    case MMSIM_GFP_MOVABLE:
        t = MMSIM_ZONE_NORMAL;
        break;
    case MMSIM_GFP_DMA:
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA:
        t = MMSIM_ZONE_DMA;
        break;
    case MMSIM_GFP_HIGHMEM:
        t = MMSIM_ZONE_HIGHMEM;
        break;
    case MMSIM_GFP_DMA32:
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA32:
        t = MMSIM_ZONE_DMA32;
        break;
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_HIGHMEM:
        t = MMSIM_ZONE_MOVABLE;
        break;
    default:
        return -1;
    }
    /* Zone types a model lacks fold down. */
    if (c->type_idx[t] < 0)
        t = MMSIM_ZONE_NORMAL;
    return c->type_idx[t];
}

/* ---- the live list --------------------------------------------------------
 */

/* The live-index slot of @pfn (index + 1 at a block's head; 0 else). */
FZ_NOCOV static uint32_t *head_slot(struct ctx *c, uint64_t pfn)
{
    for (unsigned n = 0; n < c->nr_nodes; n++)
        if (pfn >= c->nm[n].start && pfn < c->nm[n].end)
            return &c->nm[n].head[pfn - c->nm[n].start];
    return NULL;
}

static void live_add(struct ctx *c, const struct live *l)
{
    if (c->nr_live == c->cap_live) {
        size_t cap = c->cap_live ? c->cap_live * 2 : 64;
        struct live *p = realloc(c->live, cap * sizeof(*p));

        if (!p)
            fz_fail("out of host memory");
        c->live = p;
        c->cap_live = cap;
    }
    c->live[c->nr_live++] = *l;
    *head_slot(c, l->pfn) = (uint32_t)c->nr_live;
    for (uint64_t p = l->pfn; p < l->pfn + (UINT64_C(1) << l->order); p++)
        set_state(c, p, PS_ALLOC);
    c->zone_held[l->where.nid][l->where.zone] += UINT64_C(1) << l->order;
}

static void live_del(struct ctx *c, size_t i)
{
    struct live l = c->live[i];

    for (uint64_t p = l.pfn; p < l.pfn + (UINT64_C(1) << l.order); p++) {
        uint8_t **d = page_data(c, p);

        set_state(c, p, PS_FREE);
        free(*d);
        *d = NULL;
    }
    c->zone_held[l.where.nid][l.where.zone] -= UINT64_C(1) << l.order;
    *head_slot(c, l.pfn) = 0;
    c->live[i] = c->live[--c->nr_live];
    if (i < c->nr_live)
        *head_slot(c, c->live[i].pfn) = (uint32_t)i + 1;
    c->freed[c->freed_pos] = l.pfn;
    c->freed_pos = (c->freed_pos + 1) % FREED_RING;
    if (c->nr_freed < FREED_RING)
        c->nr_freed++;
}

/*
 * Index of the live block holding @pfn, or -1: the head is @pfn rounded
 * down to some order, and blocks never overlap.
 */
FZ_NOCOV static long live_find(struct ctx *c, uint64_t pfn)
{
    for (unsigned o = 0; o <= c->max_order; o++) {
        uint64_t head = pfn & ~((UINT64_C(1) << o) - 1);
        uint32_t *slot = head_slot(c, head);

        if (slot && *slot && c->live[*slot - 1].order >= o)
            return (long)*slot - 1;
    }
    return -1;
}

/* ---- allocation ------------------------------------------------------------
 */

struct zone_snap {
    uint64_t free, pcp, deferred, managed;
};

struct state_snap {
    char *vmstat;
    int64_t bootlog_len;
    unsigned long log_lines;
    bool trace; /* MMSIM_FUZZ_TRACE set: print the machine and each op */
    int64_t alloc_fail;
    struct zone_snap z[MM_MAX_NODES][MMSIM_NR_ZONE_TYPES];
};

static char *view_text(struct mmsim_machine *m,
                       int64_t (*view)(struct mmsim_machine *, char *, size_t))
{
    int64_t n = view(m, NULL, 0);
    char *buf;

    FZ_CHECK(n >= 0, "view: %s", fz_err((int)n));
    buf = malloc((size_t)n + 1);
    if (!buf)
        fz_fail("out of host memory");
    FZ_CHECK(view(m, buf, (size_t)n + 1) == n, "view length changed");
    return buf;
}

static void snap_take(struct ctx *c, struct state_snap *s)
{
    memset(s, 0, sizeof(*s));
    s->vmstat = view_text(c->m, mmsim_view_vmstat);
    s->bootlog_len = mmsim_view_bootlog(c->m, NULL, 0);
    s->log_lines = c->log_lines;
    s->alloc_fail = mmsim_vmstat_get(c->m, "mmsim_alloc_fail");
    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (unsigned i = 0; i < c->nr_types; i++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(c->m, (int)n, c->types[i], &zi) == 0)
                s->z[n][i] = (struct zone_snap){zi.free, zi.pcp, zi.deferred,
                                                zi.managed};
        }
}

static void snap_same(struct ctx *c, struct state_snap *s, const char *what)
{
    struct state_snap t;

    snap_take(c, &t);
    FZ_CHECK(strcmp(s->vmstat, t.vmstat) == 0, "%s changed vmstat", what);
    FZ_CHECK(s->bootlog_len == t.bootlog_len, "%s changed the boot log", what);
    FZ_CHECK(s->log_lines == t.log_lines, "%s logged", what);
    FZ_CHECK(s->alloc_fail == t.alloc_fail, "%s counted an alloc failure",
             what);
    FZ_CHECK(memcmp(s->z, t.z, sizeof(s->z)) == 0, "%s changed a zone", what);
    free(s->vmstat);
    free(t.vmstat);
}

/* With NOFAIL, ENOMEM means no eligible zone has any buddy block. */
static void check_nofail_enomem(struct ctx *c, mmsim_gfp_t gfp, unsigned order,
                                int nid, int highest)
{
    for (unsigned n = 0; n < c->nr_nodes; n++) {
        if ((gfp & MMSIM_GFP_THISNODE) && (int)n != nid)
            continue;
        for (int i = 0; i <= highest; i++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(c->m, (int)n, c->types[i], &zi))
                continue;
            for (unsigned o = order; o <= c->max_order; o++)
                FZ_CHECK(!zi.nr_free[o],
                         "NOFAIL order %u failed with a free order-%u block "
                         "in node %u %s",
                         order, o, n, mmsim_zone_type_name(c->types[i]));
        }
    }
}

/* The block at @pfn the allocator just returned: all the model demands. */
static void check_new_block(struct ctx *c, uint64_t pfn, unsigned order,
                            mmsim_gfp_t gfp, int nid, int highest,
                            struct mmsim_page_where *w)
{
    uint64_t n = UINT64_C(1) << order;
    struct mmsim_page_where last;
    int rc;

    FZ_CHECK(!(pfn & (n - 1)), "block %#" PRIx64 " not aligned to order %u",
             pfn, order);
    FZ_CHECK(pfn + n <= c->max_pfn, "block %#" PRIx64 " beyond max_pfn", pfn);
    for (uint64_t p = pfn; p < pfn + n; p++) {
        int st = page_state(c, p);

        FZ_CHECK(st == PS_FREE,
                 "allocated block %#" PRIx64 " order %u: page %#" PRIx64
                 " is %s in the model",
                 pfn, order, p,
                 st == PS_ALLOC        ? "already allocated"
                 : st == PS_RSV        ? "reserved"
                 : st == PS_SYS        ? "the bootmem bitmap"
                 : st == PS_HOLE_FREED ? "a hole (freed through bootmem)"
                                       : "a hole");
    }
    if (!c->bootmem)
        FZ_CHECK(!mmsim_memblock_is_region_reserved(
                     mmsim_machine_memblock(c->m), pfn << 12, n << 12),
                 "block %#" PRIx64 " overlaps memblock.reserved", pfn);
    rc = mmsim_pfn_where(c->m, pfn, w);
    FZ_CHECK(rc == 0, "pfn_where(new block): %s", fz_err(rc));
    rc = mmsim_pfn_where(c->m, pfn + n - 1, &last);
    FZ_CHECK(rc == 0 && last.nid == w->nid && last.zone == w->zone,
             "block %#" PRIx64 " order %u crosses a zone", pfn, order);
    FZ_CHECK(w->nid == node_of(c, pfn), "pfn_where node %d, model %d", w->nid,
             node_of(c, pfn));
    FZ_CHECK(c->type_idx[w->zone] >= 0 && c->type_idx[w->zone] <= highest,
             "gfp %#x allowed zone idx <= %d, got %s", gfp, highest,
             mmsim_zone_type_name(w->zone));
    if (gfp & MMSIM_GFP_THISNODE)
        FZ_CHECK(w->nid == nid, "__GFP_THISNODE for node %d got node %d", nid,
                 w->nid);
}

/*
 * One allocation, every check. Returns the return code. @fail asks the
 * fail_page_alloc hook to fail this one.
 */
static int do_alloc(struct ctx *c, int cpu, mmsim_gfp_t gfp, unsigned order,
                    int nid_arg, bool fail, bool tagged, uint32_t tag)
{
    struct rcset bad = {.n = 0};
    struct state_snap snap;
    bool nofail = gfp & MMSIM_GFP_NOFAIL;
    int highest = gfp_highest(c, gfp), nid = nid_arg, rc;
    uint64_t pfn = UINT64_MAX;
    int64_t injected_before = 0;

    if (!c->running)
        rc_add(&bad, MMSIM_EPERM);
    if (gfp & ~(mmsim_gfp_t)MMSIM_GFP_ALL_FLAGS)
        rc_add(&bad, MMSIM_EINVAL);
    if (order > c->max_order)
        rc_add(&bad, MMSIM_ERANGE);
    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= c->nr_cpus))
        rc_add(&bad, MMSIM_ECPU);
    if (nid == MMSIM_ANY_NODE)
        nid = cpu >= 0 && (unsigned)cpu < c->nr_cpus
                  ? (int)((unsigned)cpu % c->nr_nodes)
                  : 0;
    if (nid < 0 || (unsigned)nid >= c->nr_nodes)
        rc_add(&bad, MMSIM_ENODEV);
    if (highest < 0)
        rc_add(&bad, MMSIM_EINVAL);

    c->fail_next = fail;
    c->fail_calls = 0;
    if (fail && !bad.n && !nofail) {
        snap_take(c, &snap);
        injected_before = mmsim_vmstat_get(c->m, "mmsim_fail_page_alloc");
    }
    rc = tagged ? mmsim_alloc_pages_tagged(c->m, cpu, gfp, order, nid_arg, tag,
                                           &pfn)
                : mmsim_alloc_pages(c->m, cpu, gfp, order, nid_arg, &pfn);
    c->fail_next = false;

    if (bad.n) {
        FZ_CHECK(rc_has(&bad, rc),
                 "alloc(cpu %d gfp %#x order %u nid %d): %s, expected an "
                 "argument error such as %s",
                 cpu, gfp, order, nid_arg, fz_err(rc), fz_err(bad.v[0]));
        FZ_CHECK(c->fail_calls == 0, "fail_page_alloc consulted for bad args");
        return rc;
    }
    if (nofail) {
        FZ_CHECK(c->fail_calls == 0, "fail_page_alloc consulted for NOFAIL");
    } else {
        FZ_CHECK(c->fail_calls == 1,
                 "fail_page_alloc consulted %u times for one allocation",
                 c->fail_calls);
        FZ_CHECK(c->fail_gfp == gfp && c->fail_order == order,
                 "fail_page_alloc got gfp %#x order %u, asked %#x %u",
                 c->fail_gfp, c->fail_order, gfp, order);
    }
    if (fail && !nofail) {
        FZ_CHECK(rc == MMSIM_ENOMEM, "injected failure returned %s",
                 fz_err(rc));
        snap_same(c, &snap, "an injected allocation failure");
        FZ_CHECK(mmsim_vmstat_get(c->m, "mmsim_fail_page_alloc") ==
                     injected_before + 1,
                 "mmsim_fail_page_alloc did not count the failure");
        return rc;
    }
    FZ_CHECK(rc == 0 || rc == MMSIM_ENOMEM,
             "alloc(cpu %d gfp %#x order %u nid %d): %s", cpu, gfp, order,
             nid_arg, fz_err(rc));
    if (rc == MMSIM_ENOMEM) {
        if (nofail)
            check_nofail_enomem(c, gfp, order, nid, highest);
        return rc;
    }
    {
        struct live l = {.pfn = pfn, .order = order, .tag = tagged ? tag : 0};

        check_new_block(c, pfn, order, gfp, nid, highest, &l.where);
        live_add(c, &l);
    }
    return 0;
}

/* ---- frees -------------------------------------------------------------- */

/*
 * What freeing (@pfn, @order) from a valid cpu must return, by the
 * model. *@ok_live is set to the live block's index when it would be a
 * correct free.
 */
static void expect_free(struct ctx *c, uint64_t pfn, unsigned order,
                        struct rcset *s, long *ok_live)
{
    int st;

    *ok_live = -1;
    s->n = 0;
    if (!c->running) {
        rc_add(s, MMSIM_EPERM);
        return;
    }
    if (order > c->max_order) {
        rc_add(s, MMSIM_ERANGE);
        return;
    }
    st = pfn < c->max_pfn ? page_state(c, pfn) : PS_HOLE;
    switch (st) {
    case PS_HOLE:
    case PS_HOLE_FREED:
        rc_add(s, MMSIM_EFAULT);
        return;
    case PS_RSV:
    case PS_SYS:
        rc_add(s, MMSIM_ERESERVED);
        return;
    case PS_FREE:
        rc_add(s, MMSIM_EALREADY);
        /* NODE_DATA and mem_map are reserved but not in a bootmem model. */
        if (c->bootmem)
            rc_add(s, MMSIM_ERESERVED);
        return;
    default: {
        long i = live_find(c, pfn);

        FZ_CHECK(i >= 0, "model: allocated page without a block");
        if (c->live[i].pfn != pfn)
            rc_add(s, MMSIM_ENOTHEAD);
        else if (c->live[i].order != order)
            rc_add(s, MMSIM_EORDER);
        else
            *ok_live = i;
    }
    }
}

static void do_free_checked(struct ctx *c, int cpu, uint64_t pfn,
                            unsigned order, const char *what)
{
    struct rcset s;
    long ok;
    int rc;

    expect_free(c, pfn, order, &s, &ok);
    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= c->nr_cpus)) {
        s.n = 0;
        rc_add(&s, MMSIM_ECPU);
        ok = -1;
    }
    rc = mmsim_free_pages(c->m, cpu, pfn, order);
    if (ok >= 0) {
        FZ_CHECK(rc == 0, "%s: free(pfn %#" PRIx64 " order %u cpu %d): %s",
                 what, pfn, order, cpu, fz_err(rc));
        live_del(c, (size_t)ok);
        return;
    }
    FZ_CHECK(rc_has(&s, rc),
             "%s: free(pfn %#" PRIx64 " order %u cpu %d): %s, expected %s",
             what, pfn, order, cpu, fz_err(rc), fz_err(s.v[0]));
}

static void op_free_bad(struct ctx *c, unsigned kind, int cpu, unsigned which,
                        unsigned arg)
{
    const struct live *l = c->nr_live ? &c->live[which % c->nr_live] : NULL;
    uint64_t pfn;
    unsigned order = 0;

    switch (kind % MM_NR_BAD) {
    case MM_BAD_WRONG_ORDER:
        if (!l || !c->max_order)
            return;
        order = (l->order + 1 + arg % c->max_order) % (c->max_order + 1);
        do_free_checked(c, cpu, l->pfn, order, "wrong order");
        return;
    case MM_BAD_NOT_HEAD:
        if (!l || !l->order)
            return;
        pfn = l->pfn + 1 + arg % ((UINT64_C(1) << l->order) - 1);
        do_free_checked(c, cpu, pfn, l->order, "not a head");
        return;
    case MM_BAD_FREED:
        if (!c->nr_freed)
            return;
        do_free_checked(c, cpu, c->freed[which % c->nr_freed], arg % 4,
                        "freed before");
        return;
    case MM_BAD_RESERVED: {
        const struct mmsim_desc_reserved *r;

        if (!c->desc.nr_reserved)
            return;
        r = &c->desc.reserved[which % c->desc.nr_reserved];
        pfn = (r->base >> 12) + arg % MMSIM_PFN_UP(r->size);
        do_free_checked(c, cpu, pfn, 0, "reserved");
        return;
    }
    case MM_BAD_RAW_PFN:
        do_free_checked(c, cpu, (uint64_t)(which & 0xff) << 16 | arg,
                        (which >> 8) % 3, "raw pfn");
        return;
    case MM_BAD_OUT_OF_RANGE:
        pfn = (which & 1)   ? c->max_pfn + arg
              : (which & 2) ? UINT64_MAX - arg
                            : (UINT64_C(1) << 40) + arg;
        do_free_checked(c, cpu, pfn, 0, "out of range");
        return;
    case MM_BAD_CPU:
        if (!l)
            return;
        do_free_checked(
            c, (arg & 1) ? -2 - (int)(arg % 5) : (int)(c->nr_cpus + arg % 4),
            l->pfn, l->order, "bad cpu");
        return;
    default:
        if (!l)
            return;
        do_free_checked(c, cpu, l->pfn, c->max_order + 1 + arg % 40,
                        "bad order");
        return;
    }
}

/* ---- page_owner ------------------------------------------------------------
 */

static void check_owner(struct ctx *c, uint64_t pfn)
{
    uint32_t tag = 0xdeadbeef;
    unsigned order = 99;
    int rc = mmsim_page_owner(c->m, pfn, &tag, &order);
    int st = pfn < c->max_pfn ? page_state(c, pfn) : PS_HOLE;
    struct rcset s = {.n = 0};

    if (!c->running) {
        rc_add(&s, MMSIM_EPERM);
    } else if (st == PS_ALLOC) {
        long i = live_find(c, pfn);

        if (c->live[i].pfn == pfn) {
            FZ_CHECK(rc == 0, "page_owner(head %#" PRIx64 "): %s", pfn,
                     fz_err(rc));
            FZ_CHECK(tag == c->live[i].tag && order == c->live[i].order,
                     "page_owner(%#" PRIx64 "): tag %#x order %u, expected "
                     "%#x %u",
                     pfn, tag, order, c->live[i].tag, c->live[i].order);
            return;
        }
        rc_add(&s, MMSIM_ENOTHEAD);
    } else if (!is_ram(st)) {
        rc_add(&s, MMSIM_EFAULT);
    } else if (st == PS_FREE) {
        rc_add(&s, MMSIM_EALREADY);
        if (c->bootmem)
            rc_add(&s, MMSIM_ERESERVED);
    } else {
        rc_add(&s, MMSIM_ERESERVED);
    }
    FZ_CHECK(rc_has(&s, rc), "page_owner(%#" PRIx64 "): %s, expected %s", pfn,
             fz_err(rc), fz_err(s.v[0]));
}

static void op_page_owner(struct ctx *c, unsigned kind, unsigned which,
                          unsigned arg)
{
    const struct live *l = c->nr_live ? &c->live[which % c->nr_live] : NULL;

    switch (kind % MM_NR_OWNER) {
    case MM_OWNER_HEAD:
        if (l)
            check_owner(c, l->pfn);
        return;
    case MM_OWNER_INSIDE:
        if (l && l->order)
            check_owner(c, l->pfn + 1 + arg % ((UINT64_C(1) << l->order) - 1));
        return;
    case MM_OWNER_FREED:
        if (c->nr_freed)
            check_owner(c, c->freed[which % c->nr_freed]);
        return;
    default:
        check_owner(c, (uint64_t)which << 16 | arg);
        return;
    }
}

/* ---- views and queries ----------------------------------------------------
 */

static void check_view(struct ctx *c, unsigned which, unsigned len)
{
    int64_t n, again;
    char *full, *part;
    bool reserved = which == MM_VIEW_RESERVED;

#define VIEW(buf, l)                                                           \
    (which == MM_VIEW_BUDDYINFO  ? mmsim_view_buddyinfo(c->m, buf, l)          \
     : which == MM_VIEW_ZONEINFO ? mmsim_view_zoneinfo(c->m, buf, l)           \
     : which == MM_VIEW_VMSTAT   ? mmsim_view_vmstat(c->m, buf, l)             \
     : which == MM_VIEW_BOOTLOG  ? mmsim_view_bootlog(c->m, buf, l)            \
                                 : mmsim_view_memblock(c->m, reserved, buf, l))
    n = VIEW(NULL, 0);
    if (which == MM_VIEW_MEMBLOCK || which == MM_VIEW_RESERVED) {
        if (c->bootmem) {
            FZ_CHECK(n == MMSIM_ENOENT, "memblock view on bootmem: %" PRId64,
                     n);
            return;
        }
    }
    FZ_CHECK(n >= 0, "view %u: %s", which, fz_err((int)n));
    full = malloc((size_t)n + 1);
    if (!full)
        fz_fail("out of host memory");
    again = VIEW(full, (size_t)n + 1);
    FZ_CHECK(again == n && strlen(full) == (size_t)n,
             "view %u: %" PRId64 " then %" PRId64 " bytes, strlen %zu", which,
             n, again, strlen(full));
    if (len) {
        size_t l = len % ((size_t)n + 2);

        part = malloc(l + 1);
        if (!part)
            fz_fail("out of host memory");
        memset(part, 'X', l + 1);
        again = VIEW(part, l);
        FZ_CHECK(again == n, "view %u: cut to %zu says %" PRId64, which, l,
                 again);
        if (l) {
            size_t want = (size_t)n < l - 1 ? (size_t)n : l - 1;

            FZ_CHECK(strlen(part) == want && !memcmp(part, full, want),
                     "view %u cut to %zu: not a NUL-terminated prefix", which,
                     l);
        }
        FZ_CHECK(part[l] == 'X', "view %u wrote past %zu bytes", which, l);
        free(part);
    }
#undef VIEW
    free(full);
}

static void op_query(struct ctx *c, unsigned which, unsigned sel, unsigned arg)
{
    switch (which % MM_NR_Q) {
    case MM_Q_ZONE_INFO: {
        int nid = mm_sel_nid(sel, c->nr_nodes);
        int type = (int)(arg % (MMSIM_NR_ZONE_TYPES + 1));
        struct mmsim_zone_info zi;
        struct rcset s = {.n = 0};
        int rc = mmsim_zone_info(c->m, nid, (enum mmsim_zone_type)type, &zi);

        if (nid < 0 || (unsigned)nid >= c->nr_nodes)
            rc_add(&s, MMSIM_ENODEV);
        if (type >= MMSIM_NR_ZONE_TYPES || c->type_idx[type] < 0)
            rc_add(&s, MMSIM_ENOENT);
        if (!c->running)
            rc_add(&s, MMSIM_EPERM);
        if (s.n) {
            FZ_CHECK(rc_has(&s, rc), "zone_info(%d, %d): %s", nid, type,
                     fz_err(rc));
            return;
        }
        FZ_CHECK(rc == 0, "zone_info(%d, %d): %s", nid, type, fz_err(rc));
        FZ_CHECK(zi.nid == nid && (int)zi.type == type,
                 "zone_info names another zone");
        if (zi.present)
            FZ_CHECK(node_of(c, zi.start_pfn) == nid,
                     "zone starts outside its node");
        return;
    }
    case MM_Q_ZONELIST: {
        struct mmsim_zoneref refs[MM_MAX_NODES * MMSIM_NR_ZONE_TYPES + 1];
        int nid = mm_sel_nid(sel, c->nr_nodes);
        unsigned max = arg % (sizeof(refs) / sizeof(refs[0]) + 1);
        unsigned n = mmsim_zonelist(c->m, nid, refs, max), populated = 0;

        FZ_CHECK(n <= max, "zonelist wrote %u of %u", n, max);
        if (nid < 0 || (unsigned)nid >= c->nr_nodes || !c->running) {
            FZ_CHECK(n == 0, "zonelist of node %d: %u entries", nid, n);
            return;
        }
        for (unsigned k = 0; k < c->nr_nodes; k++)
            for (unsigned i = 0; i < c->nr_types; i++) {
                struct mmsim_zone_info zi;

                if (!mmsim_zone_info(c->m, (int)k, c->types[i], &zi) &&
                    zi.present)
                    populated++;
            }
        FZ_CHECK(n == (max < populated ? max : populated),
                 "zonelist has %u entries, %u zones are populated", n,
                 populated);
        for (unsigned i = 0; i < n; i++) {
            struct mmsim_zone_info zi;

            FZ_CHECK(!mmsim_zone_info(c->m, refs[i].nid, refs[i].type, &zi) &&
                         zi.present,
                     "zonelist entry %u is not a populated zone", i);
            for (unsigned j = 0; j < i; j++)
                FZ_CHECK(refs[j].nid != refs[i].nid ||
                             refs[j].type != refs[i].type,
                         "zonelist lists a zone twice");
            if (i && refs[i].nid == refs[i - 1].nid)
                FZ_CHECK(c->type_idx[refs[i].type] <
                             c->type_idx[refs[i - 1].type],
                         "zonelist: a node's zones not highest first");
        }
        if (n)
            FZ_CHECK(refs[0].nid == nid, "zonelist of %d starts at node %d",
                     nid, refs[0].nid);
        return;
    }
    case MM_Q_PFN_WHERE: {
        unsigned node = sel % c->nr_nodes;
        uint64_t pfn =
            c->nm[node].start + arg % (c->nm[node].end - c->nm[node].start + 8);
        struct mmsim_page_where w;
        int rc = mmsim_pfn_where(c->m, pfn, &w);
        int st = page_state(c, pfn);

        if (!is_ram(st)) {
            FZ_CHECK(rc == MMSIM_EFAULT, "pfn_where(hole %#" PRIx64 "): %s",
                     pfn, fz_err(rc));
            return;
        }
        FZ_CHECK(rc == (c->running ? 0 : MMSIM_EPERM),
                 "pfn_where(%#" PRIx64 "): %s", pfn, fz_err(rc));
        FZ_CHECK(w.nid == node_of(c, pfn), "pfn_where: node %d, model %d",
                 w.nid, node_of(c, pfn));
        if (rc == 0)
            FZ_CHECK(c->type_idx[w.zone] >= 0, "pfn_where: zone %d", w.zone);
        if (rc == 0 && st == PS_ALLOC) {
            const struct live *l = &c->live[live_find(c, pfn)];

            FZ_CHECK(l->where.zone == w.zone, "pfn_where: zone moved");
        }
        return;
    }
    case MM_Q_VMSTAT: {
        static const char *const names[] = {
            "nr_free_pages",
            "pgfree",
            "pgalloc_normal",
            "pgalloc_dma",
            "numa_hit",
            "numa_foreign",
            "nr_zone_inactive_anon",
            "mmsim_fail_page_alloc",
            "mmsim_alloc_fail",
            "mmsim_deferred_grow",
            "no_such_counter",
            "mmsim_no_such_counter",
            "",
        };
        const char *name = names[sel % (sizeof(names) / sizeof(names[0]))];
        int64_t v = mmsim_vmstat_get(c->m, name);

        FZ_CHECK(v >= -1, "vmstat_get(%s) = %" PRId64, name, v);
        if (!strcmp(name, "mmsim_fail_page_alloc"))
            FZ_CHECK(v == (int64_t)c->injected,
                     "mmsim_fail_page_alloc %" PRId64 ", injected %" PRIu64, v,
                     c->injected);
        if (!strcmp(name, "no_such_counter") ||
            !strcmp(name, "mmsim_no_such_counter") || !*name)
            FZ_CHECK(v == -1, "vmstat_get(%s) = %" PRId64, name, v);
        return;
    }
    case MM_Q_SHAPE: {
        int cpu = (int)arg % (int)(c->nr_cpus + 3) - 1;
        int rc = mmsim_cpu_to_node(c->m, cpu);
        const struct mmsim_desc *d = mmsim_machine_desc(c->m);

        FZ_CHECK(mmsim_machine_nr_nodes(c->m) == c->nr_nodes, "nr_nodes");
        FZ_CHECK(mmsim_machine_nr_cpus(c->m) == c->nr_cpus, "nr_cpus");
        FZ_CHECK(mmsim_machine_max_order(c->m) == c->max_order, "max_order");
        FZ_CHECK(mmsim_machine_phase(c->m) ==
                     (c->running ? MMSIM_PHASE_RUNNING : MMSIM_PHASE_EARLY),
                 "phase");
        if (c->running) {
            FZ_CHECK(mmsim_machine_max_pfn(c->m) == c->max_pfn,
                     "max_pfn %" PRIu64 ", model %" PRIu64,
                     mmsim_machine_max_pfn(c->m), c->max_pfn);
            if (c->desc.min_free_kbytes)
                FZ_CHECK(mmsim_machine_min_free_kbytes(c->m) ==
                             c->desc.min_free_kbytes,
                         "min_free_kbytes");
        }
        if (cpu < 0 || (unsigned)cpu >= c->nr_cpus)
            FZ_CHECK(rc == MMSIM_ECPU, "cpu_to_node(%d): %d", cpu, rc);
        else
            FZ_CHECK(rc == (int)((unsigned)cpu % c->nr_nodes),
                     "cpu_to_node(%d): %d", cpu, rc);
        FZ_CHECK(d->nr_ranges == c->desc.nr_ranges &&
                     d->nr_reserved == c->desc.nr_reserved &&
                     !memcmp(d->ranges, c->desc.ranges,
                             d->nr_ranges * sizeof(d->ranges[0])),
                 "machine_desc differs");
        if (!c->bootmem) {
            uint64_t a, sz;

            FZ_CHECK(mmsim_machine_bootmem_map(c->m, 0, &a, &sz) ==
                         MMSIM_ENOENT,
                     "bootmem_map on a memblock machine");
        }
        FZ_CHECK(mmsim_machine_has_contents(c->m) ==
                     (c->contents && c->running),
                 "has_contents");
        FZ_CHECK((mmsim_machine_memblock(c->m) != NULL) == !c->bootmem &&
                     (mmsim_machine_bootmem(c->m) != NULL) == c->bootmem,
                 "early allocator accessors");
        return;
    }
    default: {
        int v = -(int)(arg % 4200) + (int)sel;
        const char *s = mmsim_strerror(v), *name = mmsim_err_name(v);

        FZ_CHECK(s && *s && name && *name, "strerror/err_name(%d)", v);
        if (strcmp(name, "MMSIM_UNKNOWN") != 0)
            FZ_CHECK(strncmp(name, "MMSIM_E", 7) == 0, "err_name(%d) = %s", v,
                     name);
        return;
    }
    }
}

/* ---- the early-allocation API ----------------------------------------------
 */

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/* Pages touching [addr, addr + size). */
static void touching(uint64_t addr, uint64_t size, uint64_t *s, uint64_t *e)
{
    *s = addr >> 12;
    *e = MMSIM_PFN_UP(addr + size);
}

static void op_early_alloc(struct ctx *c, unsigned callsel, unsigned nidsel,
                           unsigned sizesel, unsigned alignsel,
                           unsigned goalsel)
{
    unsigned callv = callsel % 9;
    enum mmsim_bootmem_call call = callv == 8 ? (enum mmsim_bootmem_call)100
                                              : (enum mmsim_bootmem_call)callv;
    int nid = mm_sel_nid(nidsel, c->nr_nodes);
    uint64_t size = (uint64_t)sizesel * 64, goal = (uint64_t)goalsel << 16;
    unsigned av = alignsel % 16;
    uint64_t align = av == 0    ? 0
                     : av <= 13 ? UINT64_C(1) << (av + 2)
                     : av == 14 ? 3
                                : UINT64_C(1) << 21;
    bool node_call = call == MMSIM_ALLOC_BOOTMEM_NODE ||
                     call == MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC ||
                     call == MMSIM_ALLOC_BOOTMEM_LOW_NODE ||
                     call == MMSIM_ALLOC_BOOTMEM_NODE_HIGH;
    bool nopanic = call == MMSIM_ALLOC_BOOTMEM_NOPANIC ||
                   call == MMSIM_ALLOC_BOOTMEM_LOW_NOPANIC ||
                   call == MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC;
    bool low = call == MMSIM_ALLOC_BOOTMEM_LOW ||
               call == MMSIM_ALLOC_BOOTMEM_LOW_NOPANIC ||
               call == MMSIM_ALLOC_BOOTMEM_LOW_NODE;
    struct rcset s = {.n = 0};
    uint64_t addr = 0, eff_align, ps, pe;
    bool hit_before = c->hf.hit;
    int rc;

    if (callv == 8)
        rc_add(&s, MMSIM_EINVAL);
    if (node_call && (nid < 0 || (unsigned)nid >= c->nr_nodes))
        rc_add(&s, MMSIM_ENODEV);
    if (!size || (align & (align - 1)))
        rc_add(&s, MMSIM_EINVAL);
    if (c->running)
        rc_add(&s, MMSIM_EPERM);
    rc = mmsim_alloc_bootmem(c->m, call, nid, size, align, goal, &addr);
    if (s.n) {
        FZ_CHECK(rc_has(&s, rc), "alloc_bootmem(call %u): %s, expected %s",
                 callv, fz_err(rc), fz_err(s.v[0]));
        return;
    }
    if (rc) {
        bool ok = rc == (nopanic ? MMSIM_ENOMEM : MMSIM_EPANIC) ||
                  (rc == MMSIM_EHOSTMEM && !hit_before && c->hf.hit) ||
                  /* bootmem's low variants BUG()ed on goal + size > limit */
                  (rc == MMSIM_EINVAL && c->bootmem && low && !node_call &&
                   goal + size > PFN_4G << 12);

        FZ_CHECK(ok, "alloc_bootmem(call %u size %" PRIu64 "): %s", callv, size,
                 fz_err(rc));
        if (!hit_before && c->hf.hit)
            FZ_CHECK(rc == MMSIM_EHOSTMEM,
                     "host failure in alloc_bootmem reported as %s",
                     fz_err(rc));
        return;
    }
    FZ_CHECK(hit_before || !c->hf.hit,
             "host failure in alloc_bootmem not reported");
    eff_align = align ? align : 64;
    FZ_CHECK(!(addr & (eff_align - 1)),
             "alloc_bootmem: %#" PRIx64 " not aligned to %#" PRIx64, addr,
             eff_align);
    if (low && (!node_call || goal + size <= PFN_4G << 12))
        FZ_CHECK(addr + size <= PFN_4G << 12,
                 "alloc_bootmem low: %#" PRIx64 "+%#" PRIx64 " above 4 GiB",
                 addr, size);
    touching(addr, size, &ps, &pe);
    for (uint64_t p = ps; p < pe; p++) {
        int st = page_state(c, p);

        FZ_CHECK(is_ram(st),
                 "alloc_bootmem: [%#" PRIx64 ", +%#" PRIx64 ") not in RAM",
                 addr, size);
        if (c->bootmem)
            FZ_CHECK(st == PS_FREE || (p == ps && st == PS_RSV),
                     "alloc_bootmem: page %#" PRIx64 " was not free", p);
    }
    if (!c->early_untracked) {
        for (unsigned i = 0; i < c->nr_early; i++)
            FZ_CHECK(!overlaps(addr, size, c->early[i].addr, c->early[i].size),
                     "alloc_bootmem: [%#" PRIx64 ", +%#" PRIx64
                     ") overlaps an earlier allocation",
                     addr, size);
        for (unsigned i = 0; i < c->desc.nr_reserved; i++)
            FZ_CHECK(!overlaps(addr, size, c->desc.reserved[i].base,
                               c->desc.reserved[i].size),
                     "alloc_bootmem: [%#" PRIx64 ", +%#" PRIx64
                     ") overlaps reserved %s",
                     addr, size, c->desc.reserved[i].name);
    }
    for (uint64_t p = ps; p < pe; p++)
        set_state(c, p, PS_RSV);
    if (c->nr_early < MAX_EARLY)
        c->early[c->nr_early++] = (struct early){addr, size};
    else
        c->early_untracked = true;
}

/* An (addr, size) pair for the early and late free/reserve operations. */
static bool pick_range(struct ctx *c, unsigned kind, unsigned which,
                       unsigned arg, uint64_t *addr, uint64_t *size,
                       long *early_idx)
{
    *early_idx = -1;
    switch (kind) {
    case MM_EARLY_ALLOCATION:
        if (!c->nr_early)
            return false;
        *early_idx = (long)(which % c->nr_early);
        *addr = c->early[*early_idx].addr;
        *size = c->early[*early_idx].size;
        return true;
    case MM_EARLY_DESC_RSV:
        if (!c->desc.nr_reserved)
            return false;
        *addr = c->desc.reserved[which % c->desc.nr_reserved].base;
        *size = c->desc.reserved[which % c->desc.nr_reserved].size;
        return true;
    case MM_EARLY_RAW: {
        const struct mmsim_desc_range *r =
            &c->desc.ranges[which % c->desc.nr_ranges];

        *addr =
            r->base + (uint64_t)(arg & 0xff) * 256 - (which & 0x100 ? 512 : 0);
        *size = (uint64_t)(1 + (arg >> 8)) * 2048;
        return true;
    }
    default:
        *addr = (which & 1) ? UINT64_MAX - 100 : c->desc.ranges[0].base;
        *size = (which & 1) ? 1000 : 0;
        return true;
    }
}

/* PFN_UP() that cannot wrap in the last page of the address space. */
static uint64_t pfn_up(uint64_t addr)
{
    return (addr >> 12) + ((addr & (PAGE - 1)) != 0);
}

/* Bootmem's free_bootmem/reserve_bootmem rules over the page model. */
static int bootmem_expect_mark(struct ctx *c, uint64_t addr, uint64_t size,
                               bool reserve, bool exclusive)
{
    uint64_t s, e;

    if (size > UINT64_MAX - addr)
        return MMSIM_EOVERFLOW;
    /* The machine's own guards come first (mm.h): frees cover only RAM,
     * and nothing touches a node's bitmap. */
    if (!reserve && size) {
        for (uint64_t p = pfn_up(addr); p < (addr + size) >> 12; p++)
            if (node_of(c, p) < 0 || !is_ram(page_state(c, p)))
                return MMSIM_EFAULT;
    }
    for (int n = 0; size && n < MMSIM_MAX_NODES; n++) {
        uint64_t b, len;

        if (mmsim_machine_bootmem_map(c->m, n, &b, &len) == 0 &&
            addr < b + len && b < addr + size)
            return MMSIM_EBUSY;
    }
    if (reserve) {
        if (!size)
            return 0;
        s = addr >> 12;
        e = pfn_up(addr + size);
    } else {
        s = pfn_up(addr);
        e = (addr + size) >> 12;
        if (s >= e)
            return 0;
    }
    for (uint64_t p = s; p < e; p++) {
        int st;

        if (node_of(c, p) < 0)
            return MMSIM_EFAULT;
        st = page_state(c, p);
        if (!reserve && (st == PS_FREE || st == PS_HOLE_FREED))
            return MMSIM_EALREADY;
        if (reserve && exclusive && st != PS_FREE && st != PS_HOLE_FREED)
            return MMSIM_EBUSY;
    }
    return 0;
}

static void bootmem_apply_mark(struct ctx *c, uint64_t addr, uint64_t size,
                               bool reserve)
{
    uint64_t s, e;

    if (reserve) {
        if (!size)
            return;
        s = addr >> 12;
        e = pfn_up(addr + size);
    } else {
        s = pfn_up(addr);
        e = (addr + size) >> 12;
    }
    for (uint64_t p = s; p < e; p++) {
        int st = page_state(c, p);

        if (reserve)
            set_state(c, p,
                      st == PS_HOLE_FREED ? PS_HOLE
                      : st == PS_FREE     ? PS_RSV
                                          : st);
        else
            set_state(c, p,
                      st == PS_HOLE ? PS_HOLE_FREED
                      : is_ram(st)  ? PS_FREE
                                    : st);
    }
}

static void op_early_mark(struct ctx *c, bool reserve, unsigned kindsel,
                          unsigned which, unsigned arg)
{
    bool exclusive = reserve && (kindsel & MM_EARLY_EXCL);
    unsigned kind = (kindsel & 0x7f) % MM_NR_EARLY;
    uint64_t addr, size;
    long ei;
    bool hit_before = c->hf.hit, memblock_busy = false;
    int rc, want = 0;

    if (!pick_range(c, kind, which, arg, &addr, &size, &ei))
        return;
    if (c->running) {
        rc = reserve ? mmsim_reserve_bootmem(c->m, addr, size, exclusive)
                     : mmsim_free_bootmem(c->m, addr, size);
        FZ_CHECK(rc == MMSIM_EPERM, "early %s after the hand-off: %s",
                 reserve ? "reserve" : "free", fz_err(rc));
        return;
    }
    if (c->bootmem)
        want = bootmem_expect_mark(c, addr, size, reserve, exclusive);
    else if (exclusive)
        memblock_busy = mmsim_memblock_is_region_reserved(
            mmsim_machine_memblock(c->m), addr, size);
    rc = reserve ? mmsim_reserve_bootmem(c->m, addr, size, exclusive)
                 : mmsim_free_bootmem(c->m, addr, size);
    if (c->bootmem) {
        FZ_CHECK(rc == want,
                 "bootmem %s([%#" PRIx64 ", +%#" PRIx64 ")%s): %s, model %s",
                 reserve ? "reserve" : "free", addr, size,
                 exclusive ? " exclusive" : "", fz_err(rc), fz_err(want));
        if (!rc)
            bootmem_apply_mark(c, addr, size, reserve);
    } else {
        bool host = !hit_before && c->hf.hit;

        if (host)
            FZ_CHECK(rc == MMSIM_EHOSTMEM, "host failure reported as %s",
                     fz_err(rc));
        else if (memblock_busy)
            FZ_CHECK(rc == MMSIM_EBUSY, "exclusive reserve over reserved: %s",
                     fz_err(rc));
        else
            FZ_CHECK(rc == 0 || rc == MMSIM_ENOMEM,
                     "memblock %s([%#" PRIx64 ", +%#" PRIx64 ")): %s",
                     reserve ? "reserve" : "free", addr, size, fz_err(rc));
    }
    if (!reserve && !rc) {
        if (ei >= 0)
            c->early[ei] = c->early[--c->nr_early];
        else if (size)
            c->early_untracked = true;
    }
}

/*
 * A failed finish_boot keeps what it took from the early allocator
 * reserved (mm.h). In bootmem machines the model learns those pages from
 * the bitmap; a failure inside the hand-off retires nodes, after which the
 * machine may only be destroyed.
 */
static void after_failed_boot(struct ctx *c)
{
    struct mmsim_bootmem *bm = mmsim_machine_bootmem(c->m);

    if (!c->bootmem)
        return;
    for (unsigned n = 0; n < c->nr_nodes; n++)
        if (mmsim_bootmem_node_retired(bm, (int)n)) {
            c->dead = true;
            return;
        }
    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (uint64_t p = c->nm[n].start; p < c->nm[n].end; p++) {
            int st = page_state(c, p);
            bool bit = mmsim_bootmem_page_reserved(bm, p);

            if (st == PS_FREE && bit)
                set_state(c, p, PS_RSV);
            else
                FZ_CHECK(bit == (st != PS_FREE && st != PS_HOLE_FREED),
                         "failed finish_boot changed page %#" PRIx64, p);
        }
}

static void op_finish_boot(struct ctx *c)
{
    bool hit_before = c->hf.hit;
    int rc = mmsim_machine_finish_boot(c->m);

    c->boot_attempts += !c->running;
    if (c->running) {
        FZ_CHECK(rc == MMSIM_EPERM, "finish_boot when running: %s", fz_err(rc));
        return;
    }
    /* A host failure must fail it (EPANIC when it would have anyway). */
    if (!hit_before && c->hf.hit)
        FZ_CHECK(rc == MMSIM_EHOSTMEM || rc == MMSIM_EPANIC,
                 "host failure in finish_boot reported as %s", fz_err(rc));
    else
        FZ_CHECK(rc == 0 || rc == MMSIM_EPANIC || rc == MMSIM_EHOSTMEM,
                 "finish_boot: %s", fz_err(rc));
    if (rc) {
        FZ_CHECK(mmsim_machine_phase(c->m) == MMSIM_PHASE_EARLY,
                 "failed finish_boot left the early phase");
        after_failed_boot(c);
        return;
    }
    c->running = true;
    model_handoff(c);
}

/* free_bootmem_late: which outcomes the model allows, then apply. */
static void op_free_late(struct ctx *c, unsigned kindsel, unsigned which,
                         unsigned arg)
{
    unsigned kind = kindsel % MM_NR_EARLY;
    struct rcset s = {.n = 0};
    uint64_t addr, size, ps, pe;
    long ei;
    int rc;

    if (!pick_range(c, kind, which, arg, &addr, &size, &ei))
        return;
    rc = mmsim_free_bootmem_late(c->m, addr, size);
    if (size == 0 || addr + size < addr) {
        FZ_CHECK(rc == MMSIM_EINVAL, "free_bootmem_late(bad range): %s",
                 fz_err(rc));
        return;
    }
    if (!c->running) {
        FZ_CHECK(rc == MMSIM_EPERM, "free_bootmem_late early: %s", fz_err(rc));
        return;
    }
    ps = MMSIM_PFN_UP(addr);
    pe = (addr + size) >> 12;
    {
        bool stop = false;

        for (uint64_t p = ps; p < pe && !stop; p++) {
            int st = page_state(c, p);

            if (!is_ram(st)) {
                rc_add(&s, MMSIM_EFAULT);
                stop = true;
            } else if (st == PS_ALLOC) {
                rc_add(&s, MMSIM_EINVAL);
                stop = true;
            } else if (st == PS_FREE) {
                /* NODE_DATA/mem_map of bootmem machines: not modelled. */
                rc_add(&s, MMSIM_EINVAL);
                stop = !c->bootmem;
            }
        }
        if (!stop)
            rc_add(&s, 0);
    }
    FZ_CHECK(rc_has(&s, rc),
             "free_bootmem_late([%#" PRIx64 ", +%#" PRIx64
             ")): %s, expected %s",
             addr, size, fz_err(rc), fz_err(s.v[0]));
    if (rc)
        return;
    for (uint64_t p = ps; p < pe; p++)
        set_state(c, p, PS_FREE);
    if (ei >= 0)
        c->early[ei] = c->early[--c->nr_early];
    if (!c->bootmem)
        FZ_CHECK(total_managed(c) ==
                     count_state(c, PS_FREE) + count_state(c, PS_ALLOC),
                 "managed after free_bootmem_late");
}

/* ---- page contents ----------------------------------------------------------
 */

static void op_page_rw(struct ctx *c, bool write, unsigned kind, unsigned which,
                       unsigned page, unsigned offset, unsigned len,
                       unsigned val)
{
    struct rcset s = {.n = 0};
    uint64_t pfn;
    uint8_t buf[4096 + 128], **d;
    int st, rc;

    if (kind % MM_NR_PAGE == MM_PAGE_LIVE) {
        const struct live *l;

        if (!c->nr_live)
            return;
        l = &c->live[which % c->nr_live];
        pfn = l->pfn + page % (UINT64_C(1) << l->order);
    } else {
        pfn = (uint64_t)which << 16 | page;
    }
    /* Mostly in the page; sometimes past its end. */
    offset %= 4097 + 64;
    len %= 4097 + 64;
    if ((page & 0x8000) == 0 && offset + len > 4096)
        len = offset > 4096 ? 0 : 4096 - offset;
    if (offset + len > 4096)
        rc_add(&s, MMSIM_ERANGE);
    if (!c->running)
        rc_add(&s, MMSIM_EPERM);
    if (!c->contents)
        rc_add(&s, MMSIM_ENOCONTENT);
    st = pfn < c->max_pfn ? page_state(c, pfn) : PS_HOLE;
    if (!is_ram(st)) {
        rc_add(&s, MMSIM_EFAULT);
    } else if (st == PS_RSV || st == PS_SYS) {
        rc_add(&s, MMSIM_ERESERVED);
    } else if (st == PS_FREE) {
        rc_add(&s, MMSIM_EALREADY);
        if (c->bootmem)
            rc_add(&s, MMSIM_ERESERVED);
    }
    memset(buf, 0xa5, sizeof(buf));
    if (write) {
        memset(buf, (int)val, len);
        rc = mmsim_page_write(c->m, pfn, offset, buf, len);
    } else {
        rc = mmsim_page_read(c->m, pfn, offset, buf, len);
    }
    if (s.n) {
        FZ_CHECK(rc_has(&s, rc),
                 "page_%s(%#" PRIx64 ", %u, %u): %s, expected %s",
                 write ? "write" : "read", pfn, offset, len, fz_err(rc),
                 fz_err(s.v[0]));
        if (!write)
            FZ_CHECK(buf[0] == 0xa5, "failed page_read wrote the buffer");
        return;
    }
    FZ_CHECK(rc == 0, "page_%s(%#" PRIx64 ", %u, %u): %s",
             write ? "write" : "read", pfn, offset, len, fz_err(rc));
    d = page_data(c, pfn);
    if (write) {
        if (!len)
            return;
        if (!*d) {
            *d = calloc(1, 4096);
            if (!*d)
                fz_fail("out of host memory");
        }
        memcpy(*d + offset, buf, len);
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        uint8_t want = *d ? (*d)[offset + i] : 0;

        FZ_CHECK(buf[i] == want,
                 "page_read(%#" PRIx64 ") byte %u is %#x, written %#x%s", pfn,
                 offset + i, buf[i], want,
                 *d ? "" : " (never written since it was allocated)");
    }
    FZ_CHECK(buf[len] == 0xa5, "page_read wrote past len");
}

/* ---- the run ------------------------------------------------------------- */

/* A cpu selector that is always valid: a cpu, or MM_CPU_NONE. */
static int good_cpu(const struct ctx *c, unsigned sel)
{
    return sel == MM_CPU_NONE ? MMSIM_NO_CPU : (int)(sel % c->nr_cpus);
}

static void trace_desc(const struct ctx *c)
{
    const struct mmsim_desc *d = &c->desc;

    fprintf(stderr,
            "machine: %u nodes %u cpus max_order %u %s %s%s%s highmem_start "
            "%#" PRIx64 " min_free_kbytes %" PRIu64 " movablecore %#" PRIx64
            " hostfail_at %lu\n",
            d->nr_nodes, d->nr_cpus, d->max_order,
            c->bootmem ? "bootmem" : "memblock",
            d->deferred_init ? "deferred " : "",
            d->stop_before_handoff ? "early " : "",
            c->hostfail ? "hostfail" : "", d->highmem_start, d->min_free_kbytes,
            d->movablecore, c->hf.fail_at);
    for (unsigned i = 0; i < d->nr_ranges; i++)
        fprintf(stderr, "  range node %d [%#" PRIx64 ", %#" PRIx64 ")\n",
                d->ranges[i].nid, d->ranges[i].base,
                d->ranges[i].base + d->ranges[i].size);
    for (unsigned i = 0; i < d->nr_reserved; i++)
        fprintf(stderr, "  reserved [%#" PRIx64 ", %#" PRIx64 ") %s\n",
                d->reserved[i].base, d->reserved[i].base + d->reserved[i].size,
                d->reserved[i].name);
}

static void run_op(struct ctx *c, const struct fz_op *op)
{
    const uint32_t *a = op->arg;

    if (c->trace) {
        fprintf(stderr, "op %u(", op->code);
        for (unsigned i = 0; i < op->nargs; i++)
            fprintf(stderr, "%s%#x", i ? ", " : "", op->arg[i]);
        fprintf(stderr, ") live %zu\n", c->nr_live);
    }

    switch (op->code) {
    case MM_OP_ALLOC:
    case MM_OP_ALLOC_TAGGED:
        do_alloc(
            c, mm_sel_cpu(a[0], c->nr_cpus), mm_gfp_table[a[1] % MM_GFP_COUNT],
            mm_sel_order(a[2], c->max_order), mm_sel_nid(a[3], c->nr_nodes),
            a[4] & 1, op->code == MM_OP_ALLOC_TAGGED,
            op->code == MM_OP_ALLOC_TAGGED ? a[5] : 0);
        break;
    case MM_OP_FREE:
        if (c->nr_live) {
            const struct live *l = &c->live[a[1] % c->nr_live];

            do_free_checked(c, good_cpu(c, a[0]), l->pfn, l->order, "free");
        }
        break;
    case MM_OP_FREE_BAD:
        op_free_bad(c, a[0], good_cpu(c, a[1]), a[2], a[3]);
        break;
    case MM_OP_DRAIN_CPU: {
        int cpu = mm_sel_cpu(a[0], c->nr_cpus);
        int rc = mmsim_drain_cpu(c->m, cpu);
        struct rcset s = {.n = 0};

        if (cpu < 0 || (unsigned)cpu >= c->nr_cpus)
            rc_add(&s, MMSIM_ECPU);
        if (!c->running)
            rc_add(&s, MMSIM_EPERM);
        if (!s.n)
            rc_add(&s, 0);
        FZ_CHECK(rc_has(&s, rc), "drain_cpu(%d): %s", cpu, fz_err(rc));
        break;
    }
    case MM_OP_DRAIN_ALL:
        mmsim_drain_all(c->m);
        for (unsigned n = 0; c->running && n < c->nr_nodes; n++)
            for (unsigned i = 0; i < c->nr_types; i++) {
                struct mmsim_zone_info zi;

                if (!mmsim_zone_info(c->m, (int)n, c->types[i], &zi))
                    FZ_CHECK(zi.pcp == 0, "pcp pages after drain_all");
            }
        break;
    case MM_OP_LATE_INIT: {
        uint64_t deferred = 0, got;

        for (unsigned n = 0; c->running && n < c->nr_nodes; n++)
            for (unsigned i = 0; i < c->nr_types; i++) {
                struct mmsim_zone_info zi;

                if (!mmsim_zone_info(c->m, (int)n, c->types[i], &zi))
                    deferred += zi.deferred;
            }
        got = mmsim_machine_late_init(c->m);
        FZ_CHECK(got == deferred,
                 "late_init released %" PRIu64 " of %" PRIu64 " deferred pages",
                 got, deferred);
        FZ_CHECK(mmsim_machine_late_init(c->m) == 0, "late_init twice");
        break;
    }
    case MM_OP_PAGE_OWNER:
        op_page_owner(c, a[0], a[1], a[2]);
        break;
    case MM_OP_VIEW:
        check_view(c, a[0] % MM_NR_VIEWS, a[1]);
        break;
    case MM_OP_QUERY:
        op_query(c, a[0], a[1], a[2]);
        break;
    case MM_OP_EARLY_ALLOC:
        op_early_alloc(c, a[0], a[1], a[2], a[3], a[4]);
        break;
    case MM_OP_EARLY_FREE:
        op_early_mark(c, false, a[0], a[1], a[2]);
        break;
    case MM_OP_EARLY_RESERVE:
        op_early_mark(c, true, a[0], a[1], a[2]);
        break;
    case MM_OP_FINISH_BOOT:
        op_finish_boot(c);
        break;
    case MM_OP_FREE_LATE:
        op_free_late(c, a[0], a[1], a[2]);
        break;
    case MM_OP_ALLOC_BURST:
        for (unsigned i = 0; i <= a[3]; i++)
            if (do_alloc(c, mm_sel_cpu(a[0], c->nr_cpus),
                         mm_gfp_table[a[1] % MM_GFP_COUNT],
                         mm_sel_order(a[2], c->max_order), MMSIM_ANY_NODE,
                         false, false, 0))
                break;
        break;
    case MM_OP_PAGE_WRITE:
        op_page_rw(c, true, a[0], a[1], a[2], a[3], a[4], a[5]);
        break;
    case MM_OP_PAGE_READ:
        op_page_rw(c, false, a[0], a[1], a[2], a[3], a[4], 0);
        break;
    case MM_OP_FREE_BURST:
        for (unsigned i = 0; i <= a[1] && c->nr_live; i++) {
            const struct live *l =
                &c->live[((size_t)i * (a[2] + 1)) % c->nr_live];

            do_free_checked(c, good_cpu(c, a[0]), l->pfn, l->order,
                            "free burst");
        }
        break;
    }
}

/* Free everything, drain, release deferred pages: all must be free. */
static void teardown_check(struct ctx *c)
{
    uint64_t free = 0, managed = 0;

    while (c->nr_live) {
        const struct live *l = &c->live[c->nr_live - 1];

        do_free_checked(c, (int)(l->pfn % (c->nr_cpus + 1)) - 1, l->pfn,
                        l->order, "teardown");
    }
    mmsim_drain_all(c->m);
    mmsim_machine_late_init(c->m);
    check_all(c);
    for (unsigned n = 0; n < c->nr_nodes; n++)
        for (unsigned i = 0; i < c->nr_types; i++) {
            struct mmsim_zone_info zi;

            FZ_CHECK(!mmsim_zone_info(c->m, (int)n, c->types[i], &zi),
                     "zone_info");
            FZ_CHECK(zi.pcp == 0 && zi.deferred == 0 && zi.free == zi.managed,
                     "node %u %s at the end: free %" PRIu64 " pcp %" PRIu64
                     " deferred %" PRIu64 " managed %" PRIu64,
                     n, mmsim_zone_type_name(c->types[i]), zi.free, zi.pcp,
                     zi.deferred, zi.managed);
            free += zi.free;
            managed += zi.managed;
        }
    FZ_CHECK(free == managed, "total free != total managed");
    if (!c->bootmem)
        FZ_CHECK(managed == count_state(c, PS_FREE),
                 "managed %" PRIu64 " != model's free pages %" PRIu64, managed,
                 count_state(c, PS_FREE));
}

static void ctx_free(struct ctx *c)
{
    mmsim_machine_destroy(c->m);
    for (unsigned n = 0; n < MM_MAX_NODES; n++) {
        for (uint64_t i = 0; c->nm[n].data && i < c->nm[n].end - c->nm[n].start;
             i++)
            free(c->nm[n].data[i]);
        free(c->nm[n].data);
        free(c->nm[n].head);
        free(c->nm[n].st);
    }
    free(c->live);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct mm_shape shape;
    struct mmsim_machine_opts opts;
    struct ctx *c = calloc(1, sizeof(*c));
    unsigned nops = 0;
    int rc;

    if (!c)
        return 0;
    c->trace = getenv("MMSIM_FUZZ_TRACE") != NULL;
    mm_dec_shape(&in, &shape);
    build_desc(c, &shape);
    FZ_CHECK(mmsim_desc_validate(&c->desc, c->err, sizeof(c->err)) == 0,
             "the target built an invalid description: %s", c->err);
    if (break_desc(c, shape.invalid, shape.hostfail_at)) {
        check_invalid(c);
        ctx_free(c);
        return 0;
    }
    build_model(c);

    c->hostfail = shape.flags & MM_SHAPE_HOSTFAIL;
    c->hf.fail_at = c->hostfail ? 1 + shape.hostfail_at % 400u : 0;
    if (c->trace)
        trace_desc(c);
    c->alloc = fz_hostfail_allocator(&c->hf);
    opts = (struct mmsim_machine_opts){
        .alloc = c->hostfail ? &c->alloc : NULL,
        .log = log_hook,
        .log_ctx = c,
        .fail_page_alloc = fail_hook,
        .fail_ctx = c,
    };
    rc = mmsim_machine_create(&c->desc, &opts, &c->m, c->err, sizeof(c->err));
    if (c->hf.hit) {
        FZ_CHECK(rc && !c->m && *c->err,
                 "host allocation %lu failed at boot: %s, machine %p",
                 c->hf.fail_at, fz_err(rc), (void *)c->m);
        if (rc != MMSIM_EHOSTMEM) {
            /* Only right if the description cannot boot anyway. */
            struct mmsim_machine *again = NULL;
            int rc2;

            opts.alloc = NULL;
            rc2 = mmsim_machine_create(&c->desc, &opts, &again, NULL, 0);
            mmsim_machine_destroy(again);
            FZ_CHECK(rc2 == rc,
                     "host allocation %lu failed at boot, reported as %s (%s), "
                     "but without the failure boot gives %s",
                     c->hf.fail_at, fz_err(rc), c->err, fz_err(rc2));
        }
        ctx_free(c);
        return 0;
    }
    if (rc) {
        /* Tiny machines may have no room for a node's mem_map. */
        FZ_CHECK(rc == MMSIM_EPANIC, "boot: %s (%s)", fz_err(rc), c->err);
        FZ_CHECK(!c->m && *c->err, "failed boot left a machine or no message");
        ctx_free(c);
        return 0;
    }
    if (c->bootmem)
        mark_bootmaps(c);
    c->running = !c->desc.stop_before_handoff;
    c->boot_attempts = c->running;
    FZ_CHECK(mmsim_machine_phase(c->m) ==
                 (c->running ? MMSIM_PHASE_RUNNING : MMSIM_PHASE_EARLY),
             "phase after boot");
    if (c->running)
        model_handoff(c);
    check_all(c);

    while (fz_more(&in) && nops++ < MAX_OPS && !c->dead) {
        struct fz_op op;

        fz_dec_op(&in, mm_op_layout, MM_NR_OPS, &op);
        run_op(c, &op);
        check_all(c);
    }
    if (c->dead) {
        ctx_free(c);
        return 0;
    }

    if (!c->running) {
        bool hit_before = c->hf.hit;

        rc = mmsim_machine_finish_boot(c->m);
        c->boot_attempts++;
        if (!hit_before && c->hf.hit)
            FZ_CHECK(rc == MMSIM_EHOSTMEM || rc == MMSIM_EPANIC,
                     "host failure in finish_boot reported as %s", fz_err(rc));
        if (rc) {
            FZ_CHECK(rc == MMSIM_EPANIC || rc == MMSIM_EHOSTMEM,
                     "finish_boot at the end: %s", fz_err(rc));
            ctx_free(c);
            return 0;
        }
        c->running = true;
        model_handoff(c);
    }
    teardown_check(c);
    ctx_free(c);
    return 0;
}
