// SPDX-License-Identifier: MIT
/*
 * machine.c - boot a simulated machine in the order Linux does.
 *
 * setup_arch():   firmware map (desc ranges) -> early allocator, reserved
 *                 ranges reserved ("BIOS-e820" lines).
 * numa init:      NODE_DATA allocated node-locally.
 * sparse_init():  each node's mem_map reserved node-locally.
 * free_area_init(): zone ranges, node spans, zones spanned/present, hole
 *                 accounting ("Zone ranges:", "Early memory node ranges",
 *                 "On node N, zone Z: N pages in unavailable ranges").
 * build_all_zonelists(), memblock_free_all() / free_all_bootmem() (the
 * hand-off, with deferred struct page init), init_per_zone_wmark_min(),
 * per-cpu pagesets.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem.h"
#include "minmax.h"
#include "vm_internal.h"

/* Sections of SPARSEMEM on x86-64 (SECTION_SIZE_BITS 27): 128 MiB. */
#define PAGES_PER_SECTION (UINT64_C(1) << (27 - MMSIM_PAGE_SHIFT))
/* Beyond this, the kernel log keeps no more lines (dmesg's ring). */
#define BOOTLOG_MAX (UINT64_C(1) << 20)

/* ---- the kernel log ---------------------------------------------------- */

static void bootlog_append(struct mmsim_machine *m, const char *line, size_t n)
{
    size_t need = m->bootlog_len + n + 2;

    if (need > BOOTLOG_MAX)
        return;
    if (need > m->bootlog_cap) {
        size_t cap = m->bootlog_cap ? m->bootlog_cap : 4096;
        char *p;

        while (cap < need)
            cap *= 2;
        p = host_realloc(m->alloc, m->bootlog, cap);
        if (!p) {
            m->bootlog_oom = true; /* boot reports it as EHOSTMEM */
            return;
        }
        m->bootlog = p;
        m->bootlog_cap = cap;
    }
    memcpy(m->bootlog + m->bootlog_len, line, n);
    m->bootlog_len += n;
    m->bootlog[m->bootlog_len++] = '\n';
    m->bootlog[m->bootlog_len] = '\0';
}

/*
 * Log one line. Boot messages use the kernel's wording; everything logged
 * is kept in the kernel log (mmsim_view_bootlog) and passed to the sink.
 * Callers hold boot_lock, except the allocation-failure warning, which
 * goes to the sink only.
 */
void mmsim_log(struct mmsim_machine *m, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (level >= 0)
        bootlog_append(m, line, (size_t)n);
    if (m->log)
        m->log(m->log_ctx, level < 0 ? -level : level, line);
}

/* ---- ranges ------------------------------------------------------------ */

int mmsim_mem_range_of(const struct mmsim_machine *m, uint64_t pfn)
{
    unsigned lo = 0, hi = m->nr_mem;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (pfn < m->mem[mid].start)
            hi = mid;
        else if (pfn >= m->mem[mid].end)
            lo = mid + 1;
        else
            return (int)mid;
    }
    return -1;
}

int mmsim_pfn_to_nid(const struct mmsim_machine *m, uint64_t pfn)
{
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        const struct mmsim_pgdat *pg = m->pgdat[n];

        if (pg && pfn >= pg->start_pfn && pfn < pg->end_pfn)
            return (int)n;
    }
    return -1;
}

struct mmsim_zone *mmsim_pfn_to_zone(const struct mmsim_machine *m,
                                     uint64_t pfn)
{
    int nid = mmsim_pfn_to_nid(m, pfn);

    if (nid < 0)
        return NULL;
    for_each_zone_idx(m, i)
    {
        struct mmsim_zone *z = &m->pgdat[nid]->zones[i];

        if (zone_populated(z) && zone_span_has(z, pfn))
            return z;
    }
    return NULL;
}

static int cmp_range(const void *a, const void *b)
{
    const struct mmsim_desc_range *x = a, *y = b;

    return x->base < y->base ? -1 : x->base > y->base;
}

/* The firmware map, sorted, adjacent ranges of one node merged. */
static int setup_mem_ranges(struct mmsim_machine *m)
{
    const struct mmsim_desc *d = &m->desc;
    struct mmsim_desc_range *sorted;
    unsigned n = 0;

    sorted = host_malloc(m->alloc, sizeof(*sorted) * d->nr_ranges);
    m->mem = host_malloc(m->alloc, sizeof(*m->mem) * d->nr_ranges);
    m->mem_nid = host_malloc(m->alloc, sizeof(*m->mem_nid) * d->nr_ranges);
    if (!sorted || !m->mem || !m->mem_nid) {
        host_free(m->alloc, sorted);
        return MMSIM_EHOSTMEM;
    }
    memcpy(sorted, d->ranges, sizeof(*sorted) * d->nr_ranges);
    qsort(sorted, d->nr_ranges, sizeof(*sorted), cmp_range);
    for (unsigned i = 0; i < d->nr_ranges; i++) {
        uint64_t s = MMSIM_PFN_DOWN(sorted[i].base);
        uint64_t e = MMSIM_PFN_DOWN(sorted[i].base + sorted[i].size);

        if (n && m->mem[n - 1].end == s && m->mem_nid[n - 1] == sorted[i].nid) {
            m->mem[n - 1].end = e;
            continue;
        }
        m->mem[n] = (struct mmsim_pfn_range){s, e};
        m->mem_nid[n] = sorted[i].nid;
        n++;
    }
    m->nr_mem = n;
    m->min_pfn = m->mem[0].start;
    m->max_pfn = m->mem[n - 1].end;
    host_free(m->alloc, sorted);
    return 0;
}

/* Pages of usable RAM inside [start, end). */
static uint64_t present_in(const struct mmsim_machine *m, uint64_t start,
                           uint64_t end)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < m->nr_mem; i++) {
        uint64_t s = max_u64(m->mem[i].start, start);
        uint64_t e = min_u64(m->mem[i].end, end);

        if (s < e)
            sum += e - s;
    }
    return sum;
}

/* ---- the model: which zones, where they end --------------------------- */

static void setup_model(struct mmsim_machine *m)
{
    static const enum mmsim_zone_type z64[] = {
        MMSIM_ZONE_DMA, MMSIM_ZONE_DMA32, MMSIM_ZONE_NORMAL, MMSIM_ZONE_MOVABLE,
        MMSIM_ZONE_DEVICE};
    static const enum mmsim_zone_type z32[] = {
        MMSIM_ZONE_DMA, MMSIM_ZONE_NORMAL, MMSIM_ZONE_HIGHMEM,
        MMSIM_ZONE_MOVABLE};
    const struct mmsim_desc *d = &m->desc;
    const enum mmsim_zone_type *types = d->highmem_start ? z32 : z64;
    unsigned nr = d->highmem_start ? 4 : 5;

    m->nr_nodes = d->nr_nodes;
    m->nr_cpus = d->nr_cpus;
    m->max_order = d->max_order;
    for (unsigned c = 0; c < m->nr_cpus; c++)
        m->cpu_node[c] = (int)(c % m->nr_nodes);
    for (unsigned t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        m->type_to_idx[t] = -1;
    m->nr_zone_idx = nr;
    for (unsigned i = 0; i < nr; i++) {
        m->zone_types[i] = types[i];
        m->type_to_idx[types[i]] = (int)i;
    }
}

/*
 * arch zone limits (x86's zone_sizes_init) and the ranges free_area_init()
 * derives from them: each zone type starts where the previous one ended.
 */
static void setup_zone_limits(struct mmsim_machine *m, uint64_t *lowest,
                              uint64_t *highest)
{
    uint64_t max_zone_pfn[MMSIM_NR_ZONE_TYPES] = {0};
    uint64_t start = m->min_pfn;

    max_zone_pfn[MMSIM_ZONE_DMA] =
        min_u64(MMSIM_PFN_DOWN(MMSIM_DMA_END), m->max_pfn);
    if (m->desc.highmem_start) {
        uint64_t low =
            min_u64(MMSIM_PFN_DOWN(m->desc.highmem_start), m->max_pfn);

        max_zone_pfn[MMSIM_ZONE_NORMAL] = low;
        max_zone_pfn[MMSIM_ZONE_HIGHMEM] = m->max_pfn;
    } else {
        max_zone_pfn[MMSIM_ZONE_DMA32] =
            min_u64(MMSIM_PFN_DOWN(MMSIM_DMA32_END), m->max_pfn);
        max_zone_pfn[MMSIM_ZONE_NORMAL] = m->max_pfn;
    }
    for_each_zone_idx(m, i)
    {
        enum mmsim_zone_type t = m->zone_types[i];
        uint64_t end;

        if (t == MMSIM_ZONE_MOVABLE) {
            lowest[i] = highest[i] = 0;
            continue;
        }
        end = max_u64(max_zone_pfn[t], start);
        lowest[i] = start;
        highest[i] = end;
        start = end;
    }
}

/* The zone idx ZONE_MOVABLE takes its pages from: the highest with RAM. */
static int movable_source_idx(const struct mmsim_machine *m,
                              const uint64_t *lowest, const uint64_t *highest)
{
    for (int i = (int)m->nr_zone_idx - 1; i >= 0; i--) {
        enum mmsim_zone_type t = m->zone_types[i];

        if (t == MMSIM_ZONE_MOVABLE || t == MMSIM_ZONE_DEVICE)
            continue;
        if (present_in(m, lowest[i], highest[i]))
            return i;
    }
    return 0;
}

/*
 * find_zone_movable_pfns_for_nodes(), simplified: movablecore is split
 * evenly over the nodes and taken from the top of each; the kernel part
 * of a node is what remains below, rounded up to MAX_ORDER_NR_PAGES and
 * never below the start of the source zone. (The kernel redistributes
 * what a small node cannot give to the others; we do not.)
 */
static void setup_movable(struct mmsim_machine *m, const uint64_t *lowest,
                          const uint64_t *highest, int src)
{
    uint64_t per_node;

    if (!m->desc.movablecore)
        return;
    per_node = MMSIM_PFN_UP(m->desc.movablecore) / m->nr_nodes;
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        uint64_t node_present = 0, kernel, acc = 0, pfn = 0;

        for (unsigned i = 0; i < m->nr_mem; i++)
            if (m->mem_nid[i] == (int)n)
                node_present += m->mem[i].end - m->mem[i].start;
        if (per_node == 0 || per_node >= node_present)
            continue;
        kernel = node_present - per_node;
        for (unsigned i = 0; i < m->nr_mem && acc < kernel; i++) {
            uint64_t len;

            if (m->mem_nid[i] != (int)n)
                continue;
            len = m->mem[i].end - m->mem[i].start;
            if (acc + len >= kernel)
                pfn = m->mem[i].start + (kernel - acc);
            acc += len;
        }
        pfn = (pfn + (UINT64_C(1) << m->max_order) - 1) &
              ~((UINT64_C(1) << m->max_order) - 1);
        pfn = max_u64(pfn, lowest[src]);
        if (pfn < min_u64(highest[src], m->pgdat[n]->end_pfn))
            m->zone_movable_pfn[n] = pfn;
    }
}

/* ---- boot: early allocator -------------------------------------------- */

static int early_init_memblock(struct mmsim_machine *m)
{
    const struct mmsim_desc *d = &m->desc;
    int rc;

    rc = mmsim_memblock_create(m->alloc, &m->mb);
    if (rc)
        return rc;
    for (unsigned i = 0; i < d->nr_ranges; i++) {
        rc =
            mmsim_memblock_add_node(m->mb, d->ranges[i].base, d->ranges[i].size,
                                    d->ranges[i].nid, MMSIM_MEMBLOCK_NONE);
        if (rc)
            return rc;
    }
    for (unsigned i = 0; i < d->nr_reserved; i++) {
        rc = mmsim_memblock_reserve(m->mb, d->reserved[i].base,
                                    d->reserved[i].size);
        if (rc)
            return rc;
    }
    mmsim_memblock_allow_resize(m->mb);
    return 0;
}

static int early_init_bootmem(struct mmsim_machine *m)
{
    const struct mmsim_desc *d = &m->desc;
    uint64_t dma32_end = d->highmem_start ? 0 : MMSIM_PFN_DOWN(MMSIM_DMA32_END);
    int rc;

    rc =
        mmsim_bootmem_create(m->alloc, UINT64_C(0xffffffff), dma32_end, &m->bm);
    if (rc)
        return rc;
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        uint64_t lo = UINT64_MAX, hi = 0;

        for (unsigned i = 0; i < m->nr_mem; i++) {
            if (m->mem_nid[i] != (int)n)
                continue;
            lo = min_u64(lo, m->mem[i].start);
            hi = max_u64(hi, m->mem[i].end);
        }
        rc = mmsim_bootmem_init_node(m->bm, (int)n, lo, hi);
        if (rc)
            return rc;
    }
    /* The usable RAM becomes free; everything else stays reserved. */
    for (unsigned i = 0; i < m->nr_mem; i++) {
        rc =
            mmsim_bootmem_free(m->bm, MMSIM_PFN_PHYS(m->mem[i].start),
                               MMSIM_PFN_PHYS(m->mem[i].end - m->mem[i].start));
        if (rc)
            return rc;
    }
    /* Reservations may reach outside RAM; only the part in a node counts. */
    for (unsigned i = 0; i < d->nr_reserved; i++) {
        uint64_t b = d->reserved[i].base, e = b + d->reserved[i].size;

        for (unsigned r = 0; r < m->nr_mem; r++) {
            uint64_t s = max_u64(b, MMSIM_PFN_PHYS(m->mem[r].start));
            uint64_t t = min_u64(e, MMSIM_PFN_PHYS(m->mem[r].end));

            if (s < t) {
                rc = mmsim_bootmem_reserve(m->bm, s, t - s,
                                           MMSIM_BOOTMEM_DEFAULT);
                if (rc)
                    return rc;
            }
        }
    }
    /*
     * Each node's bitmap lives in that node's memory, reserved; allocated
     * after the reservations so it never lands on one (the hand-off gives
     * its pages back to buddy).
     */
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        uint64_t bytes, addr, min_pfn, low_pfn;

        rc = mmsim_bootmem_node_state(m->bm, (int)n, &min_pfn, &low_pfn, NULL,
                                      NULL);
        if (rc)
            return rc;
        bytes = mmsim_bootmem_bitmap_bytes(low_pfn - min_pfn);
        bytes = (bytes + MMSIM_PAGE_SIZE - 1) & ~(MMSIM_PAGE_SIZE - 1);
        rc = mmsim_bootmem_alloc_node(m->bm, (int)n, bytes, MMSIM_PAGE_SIZE, 0,
                                      0, true, &addr);
        if (rc)
            return rc == MMSIM_ENOMEM ? MMSIM_EPANIC : rc;
        m->bootmem_maps[n][0] = addr;
        m->bootmem_maps[n][1] = bytes;
        mmsim_log(m, 6,
                  "  bootmap [mem %#010" PRIx64 "-%#010" PRIx64
                  "] pages %" PRIx64,
                  addr, addr + bytes - 1, bytes >> MMSIM_PAGE_SHIFT);
    }
    return 0;
}

static void log_e820(struct mmsim_machine *m)
{
    mmsim_log(m, 6, "BIOS-provided physical RAM map:");
    for (unsigned i = 0; i < m->nr_mem; i++)
        mmsim_log(
            m, 6, "BIOS-e820: [mem %#018" PRIx64 "-%#018" PRIx64 "] usable",
            MMSIM_PFN_PHYS(m->mem[i].start), MMSIM_PFN_PHYS(m->mem[i].end) - 1);
    for (unsigned i = 0; i < m->desc.nr_reserved; i++) {
        const struct mmsim_desc_reserved *r = &m->desc.reserved[i];

        mmsim_log(m, 6,
                  "memblock_reserve: [mem %#018" PRIx64 "-%#018" PRIx64 "] %s",
                  r->base, r->base + r->size - 1, r->name);
    }
}

/* ---- boot: node data and mem_map ---------------------------------------- */

/* One early allocation for boot itself, through whichever backend. */
static int boot_alloc_node(struct mmsim_machine *m, int nid, uint64_t size,
                           uint64_t align, uint64_t *addr)
{
    if (m->mb)
        return mmsim_memblock_alloc_try_nid(
            m->mb, size, align, 0, MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE, nid, addr);
    return mmsim_bootmem_alloc_node(m->bm, nid, size, align, 0, 0, true, addr);
}

static int setup_node_data(struct mmsim_machine *m)
{
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        struct mmsim_pgdat *pg;
        uint64_t lo = UINT64_MAX, hi = 0, addr;
        int rc;

        for (unsigned i = 0; i < m->nr_mem; i++) {
            if (m->mem_nid[i] != (int)n)
                continue;
            lo = min_u64(lo, m->mem[i].start);
            hi = max_u64(hi, m->mem[i].end);
        }
        pg = host_calloc(m->alloc, 1, sizeof(*pg));
        if (!pg)
            return MMSIM_EHOSTMEM;
        m->pgdat[n] = pg;
        pg->nid = (int)n;
        pg->start_pfn = lo;
        pg->end_pfn = hi;
        pg->present = present_in(m, lo, hi);

        rc = boot_alloc_node(m, (int)n, sizeof(*pg), 64, &addr);
        if (rc && rc != MMSIM_ENOMEM && rc != MMSIM_EPANIC)
            return rc;
        if (rc) {
            mmsim_log(m, 0, "Cannot allocate %zu bytes for node %u data",
                      sizeof(*pg), n);
            return MMSIM_EPANIC;
        }
        pg->pgdat_phys = addr;
        mmsim_log(m, 6,
                  "NODE_DATA(%u) allocated [mem %#010" PRIx64 "-%#010" PRIx64
                  "]",
                  n, addr, addr + sizeof(*pg) - 1);
    }
    return 0;
}

/*
 * sparse_init(): every node's share of mem_map is reserved in that node's
 * own memory, as the kernel does. The host side is one lazily zeroed
 * array over [0, max_pfn) (FLATMEM), so pfn_to_page() is an index.
 */
static int setup_mem_map(struct mmsim_machine *m)
{
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        struct mmsim_pgdat *pg = m->pgdat[n];
        uint64_t bytes =
            (pg->end_pfn - pg->start_pfn) * sizeof(struct mmsim_page);
        uint64_t addr;

        bytes = (bytes + MMSIM_PAGE_SIZE - 1) & ~(MMSIM_PAGE_SIZE - 1);
        int rc = boot_alloc_node(m, (int)n, bytes, MMSIM_PAGE_SIZE, &addr);

        if (rc && rc != MMSIM_ENOMEM && rc != MMSIM_EPANIC)
            return rc;
        if (rc) {
            mmsim_log(m, 0,
                      "Failed to allocate %" PRIu64
                      " bytes for node %u memory map",
                      bytes, n);
            return MMSIM_EPANIC;
        }
        pg->memmap_phys = addr;
        pg->memmap_bytes = bytes;
    }
    m->mem_map_bytes = m->max_pfn * sizeof(struct mmsim_page);
    m->mem_map = host_map_zeroed(m->alloc, m->mem_map_bytes);
    if (!m->mem_map)
        return MMSIM_EHOSTMEM;
    return mmsim_contents_init(m);
}

/* ---- boot: zones --------------------------------------------------------- */

static int init_zone(struct mmsim_machine *m, struct mmsim_pgdat *pg,
                     unsigned idx, uint64_t start, uint64_t end)
{
    struct mmsim_zone *z = &pg->zones[idx];
    size_t bytes;

    z->m = m;
    z->pgdat = pg;
    z->type = m->zone_types[idx];
    z->idx = (int)idx;
    z->nid = pg->nid;
    z->zid = mmsim_zid(pg->nid, (int)idx);
    z->present = start < end ? present_in(m, start, end) : 0;
    /* The kernel keeps start_pfn 0 for zones without pages. */
    z->start_pfn = start < end ? start : 0;
    z->end_pfn = start < end ? end : 0;
    for (unsigned o = 0; o <= MMSIM_MAX_ORDER_CAP; o++)
        z->free_area[o].head = PFN_NONE;
    mmsim_spin_init(&z->lock);
    m->zones_by_zid[z->zid] = z;

    bytes = sizeof(struct mmsim_pcp) * m->nr_cpus + MMSIM_CACHELINE;
    z->pcp_mem = host_calloc(m->alloc, 1, bytes);
    if (!z->pcp_mem)
        return MMSIM_EHOSTMEM;
    z->pcp =
        (struct mmsim_pcp *)(((uintptr_t)z->pcp_mem + MMSIM_CACHELINE - 1) &
                             ~(uintptr_t)(MMSIM_CACHELINE - 1));
    for (unsigned c = 0; c < m->nr_cpus; c++) {
        struct mmsim_pcp *p = &z->pcp[c];

        for (unsigned o = 0; o < NR_PCP_ORDERS; o++)
            p->lists[o] = p->tails[o] = PFN_NONE;
        mmsim_spin_init(&p->lock);
    }
    return 0;
}

/*
 * memmap_init()'s hole accounting: holes before each populated zone's
 * part of a memory range are reported against that zone; pages in
 * SPARSEMEM sections without any memory are not counted (pfn_valid()
 * is false there).
 */
static bool section_has_memory(const struct mmsim_machine *m, uint64_t sec)
{
    uint64_t s = sec * PAGES_PER_SECTION, e = s + PAGES_PER_SECTION;

    return present_in(m, s, e) != 0;
}

static void report_unavailable(struct mmsim_machine *m, uint64_t spfn,
                               uint64_t epfn, const struct mmsim_zone *z)
{
    uint64_t cnt = 0;

    for (uint64_t sec = spfn / PAGES_PER_SECTION;
         sec * PAGES_PER_SECTION < epfn; sec++) {
        uint64_t s = max_u64(spfn, sec * PAGES_PER_SECTION);
        uint64_t e = min_u64(epfn, (sec + 1) * PAGES_PER_SECTION);

        if (section_has_memory(m, sec))
            cnt += e - s - present_in(m, s, e);
    }
    if (cnt)
        mmsim_log(m, 6,
                  "On node %d, zone %s: %" PRIu64
                  " pages in unavailable ranges",
                  z->nid, mmsim_zone_type_name(z->type), cnt);
}

static void report_holes(struct mmsim_machine *m)
{
    uint64_t hole_pfn = 0, end_pfn = 0;
    const struct mmsim_zone *last = NULL;

    for (unsigned r = 0; r < m->nr_mem; r++) {
        struct mmsim_pgdat *pg = m->pgdat[m->mem_nid[r]];

        for_each_zone_idx(m, i)
        {
            const struct mmsim_zone *z = &pg->zones[i];
            uint64_t s, e;

            if (!zone_populated(z))
                continue;
            s = clamp_u64(m->mem[r].start, z->start_pfn, z->end_pfn);
            e = clamp_u64(m->mem[r].end, z->start_pfn, z->end_pfn);
            if (s >= e)
                continue;
            if (hole_pfn < s)
                report_unavailable(m, hole_pfn, s, z);
            hole_pfn = e;
            last = z;
        }
        end_pfn = m->mem[r].end;
    }
    end_pfn = (end_pfn + PAGES_PER_SECTION - 1) & ~(PAGES_PER_SECTION - 1);
    if (last && hole_pfn < end_pfn)
        report_unavailable(m, hole_pfn, end_pfn, last);
}

static int setup_zones(struct mmsim_machine *m)
{
    uint64_t lowest[MMSIM_NR_ZONE_TYPES], highest[MMSIM_NR_ZONE_TYPES];
    int src, mov = m->type_to_idx[MMSIM_ZONE_MOVABLE];
    int rc;

    setup_zone_limits(m, lowest, highest);
    src = movable_source_idx(m, lowest, highest);
    setup_movable(m, lowest, highest, src);

    mmsim_log(m, 6, "Zone ranges:");
    for_each_zone_idx(m, i)
    {
        if ((int)i == mov)
            continue;
        if (lowest[i] == highest[i])
            mmsim_log(m, 6, "  %-8s empty",
                      mmsim_zone_type_name(m->zone_types[i]));
        else
            mmsim_log(m, 6, "  %-8s [mem %#018" PRIx64 "-%#018" PRIx64 "]",
                      mmsim_zone_type_name(m->zone_types[i]),
                      MMSIM_PFN_PHYS(lowest[i]),
                      MMSIM_PFN_PHYS(highest[i]) - 1);
    }
    mmsim_log(m, 6, "Movable zone start for each node");
    for (unsigned n = 0; n < m->nr_nodes; n++)
        if (m->zone_movable_pfn[n])
            mmsim_log(m, 6, "  Node %u: %#018" PRIx64, n,
                      MMSIM_PFN_PHYS(m->zone_movable_pfn[n]));
    mmsim_log(m, 6, "Early memory node ranges");
    for (unsigned r = 0; r < m->nr_mem; r++)
        mmsim_log(m, 6, "  node %3d: [mem %#018" PRIx64 "-%#018" PRIx64 "]",
                  m->mem_nid[r], MMSIM_PFN_PHYS(m->mem[r].start),
                  MMSIM_PFN_PHYS(m->mem[r].end) - 1);

    for (unsigned n = 0; n < m->nr_nodes; n++) {
        struct mmsim_pgdat *pg = m->pgdat[n];
        uint64_t mpfn = m->zone_movable_pfn[n];
        uint64_t total = 0;

        mmsim_log(
            m, 6, "Initmem setup node %u [mem %#018" PRIx64 "-%#018" PRIx64 "]",
            n, MMSIM_PFN_PHYS(pg->start_pfn), MMSIM_PFN_PHYS(pg->end_pfn) - 1);
        for_each_zone_idx(m, i)
        {
            uint64_t s, e;

            if ((int)i == mov) {
                s = mpfn;
                e = mpfn ? min_u64(pg->end_pfn, highest[src]) : 0;
            } else {
                s = clamp_u64(pg->start_pfn, lowest[i], highest[i]);
                e = clamp_u64(pg->end_pfn, lowest[i], highest[i]);
                /* adjust_zone_range_for_zone_movable() */
                if (mpfn && s < mpfn && e > mpfn)
                    e = mpfn;
                else if (mpfn && s >= mpfn)
                    s = e;
            }
            rc = init_zone(m, pg, i, s, e);
            if (rc)
                return rc;
            total += pg->zones[i].present;
        }
        mmsim_log(m, 7, "On node %u totalpages: %" PRIu64, n, total);
    }
    report_holes(m);
    return 0;
}

/* ---- boot: hand-off ----------------------------------------------------- */

/* deferred_init: where each node's highest zone stops being initialised. */
static uint64_t first_deferred_pfn(const struct mmsim_machine *m,
                                   const struct mmsim_pgdat *pg,
                                   const struct mmsim_zone **dz)
{
    const struct mmsim_zone *z = NULL;
    uint64_t pfn;

    *dz = NULL;
    if (!m->desc.deferred_init || !m->mb)
        return UINT64_MAX;
    for_each_zone_idx(m, i)
    {
        if (zone_populated(&pg->zones[i]) &&
            pg->zones[i].end_pfn == pg->end_pfn)
            z = &pg->zones[i];
    }
    if (!z)
        return UINT64_MAX;
    /* One section of initialised pages, then the next section boundary. */
    pfn = z->start_pfn;
    while (pfn < z->end_pfn &&
           present_in(m, z->start_pfn, pfn) <= PAGES_PER_SECTION)
        pfn = (pfn / PAGES_PER_SECTION + 1) * PAGES_PER_SECTION;
    if (pfn >= z->end_pfn)
        return UINT64_MAX;
    *dz = z;
    return pfn;
}

static int defer_range(struct mmsim_machine *m, struct mmsim_zone *z,
                       uint64_t s, uint64_t e)
{
    struct mmsim_pfn_range *r;

    if (z->nr_deferred && z->deferred[z->nr_deferred - 1].end == s) {
        z->deferred[z->nr_deferred - 1].end = e;
    } else {
        r = host_realloc(m->alloc, z->deferred,
                         sizeof(*r) * (z->nr_deferred + 1));
        if (!r)
            return MMSIM_EHOSTMEM;
        z->deferred = r;
        z->deferred[z->nr_deferred++] = (struct mmsim_pfn_range){s, e};
    }
    z->deferred_pages += e - s;
    atomic_store_explicit(&z->has_deferred, true, memory_order_relaxed);
    return 0;
}

/*
 * Hand [start, end) of node @nid to its zones: released now, or recorded
 * as deferred past the node's first_deferred_pfn. Pages count as managed
 * either way.
 */
static int handoff_range(struct mmsim_machine *m, int nid, uint64_t start,
                         uint64_t end, uint64_t defer_from)
{
    struct mmsim_pgdat *pg = m->pgdat[nid];
    int rc;

    for_each_zone_idx(m, i)
    {
        struct mmsim_zone *z = &pg->zones[i];
        uint64_t s, e;

        if (!zone_populated(z))
            continue;
        s = max_u64(start, z->start_pfn);
        e = min_u64(end, z->end_pfn);
        if (s >= e)
            continue;
        z->managed += e - s;
        if (e > defer_from) {
            uint64_t d = max_u64(s, defer_from);

            rc = defer_range(m, z, d, e);
            if (rc)
                return rc;
            e = d;
        }
        if (s < e)
            mmsim_release_range_locked(z, s, e);
    }
    return 0;
}

struct bootmem_release_ctx {
    struct mmsim_machine *m;
    int nid;
    int rc;
};

static void bootmem_release(void *ctx, uint64_t pfn, unsigned order)
{
    struct bootmem_release_ctx *c = ctx;

    if (!c->rc)
        c->rc = handoff_range(c->m, c->nid, pfn, pfn + (UINT64_C(1) << order),
                              UINT64_MAX);
}

/*
 * The bitmap's own pages, released after its node's hand-off as
 * free_all_bootmem_core() did. alloc_bootmem_node() may have put it on
 * another node when its own was full, so each page goes to the zone of
 * the node that really holds it.
 */
static int release_bitmap(struct mmsim_machine *m, unsigned n)
{
    uint64_t pfn = MMSIM_PFN_DOWN(m->bootmem_maps[n][0]);
    uint64_t end =
        MMSIM_PFN_DOWN(m->bootmem_maps[n][0] + m->bootmem_maps[n][1]);

    while (pfn < end) {
        int r = mmsim_mem_range_of(m, pfn);
        uint64_t stop;
        int rc;

        if (r < 0)
            return MMSIM_ECORRUPT; /* the bitmap was allocated from RAM */
        stop = min_u64(end, m->mem[r].end);
        rc = handoff_range(m, m->mem_nid[r], pfn, stop, UINT64_MAX);
        if (rc)
            return rc;
        pfn = stop;
    }
    return 0;
}

static int handoff(struct mmsim_machine *m)
{
    uint64_t defer_from[MMSIM_MAX_NODES];
    int rc;

    if (m->bm) {
        /* free_all_bootmem(): each node, then its bitmap's own pages. */
        for (unsigned n = 0; n < m->nr_nodes; n++) {
            struct bootmem_release_ctx c = {m, (int)n, 0};
            int64_t got = mmsim_bootmem_free_all_node(
                m->bm, (int)n, m->max_order, bootmem_release, &c);

            if (got < 0)
                return (int)got;
            if (c.rc)
                return c.rc;
            rc = release_bitmap(m, n);
            if (rc)
                return rc;
        }
        return 0;
    }

    for (unsigned n = 0; n < m->nr_nodes; n++) {
        const struct mmsim_zone *dz;

        defer_from[n] = first_deferred_pfn(m, m->pgdat[n], &dz);
    }
    /* memblock_free_all(): every free range, in whole pages. */
    {
        uint64_t cursor = 0, start, end;
        int nid;

        while (mmsim_memblock_next_free_range(m->mb, MMSIM_NUMA_NO_NODE,
                                              &cursor, &start, &end, &nid)) {
            uint64_t s = MMSIM_PFN_UP(start), e = MMSIM_PFN_DOWN(end);

            if (s >= e || nid < 0 || (unsigned)nid >= m->nr_nodes)
                continue;
            rc = handoff_range(m, nid, s, e, defer_from[nid]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void log_memory_summary(struct mmsim_machine *m)
{
    uint64_t physpages = 0, free = 0, deferred = 0, managed = 0;

    for (unsigned n = 0; n < m->nr_nodes; n++) {
        physpages += m->pgdat[n]->present;
        for_each_zone_idx(m, i)
        {
            const struct mmsim_zone *z = &m->pgdat[n]->zones[i];

            free += (uint64_t)atomic_load(&z->free_pages);
            deferred += z->deferred_pages;
            managed += z->managed;
        }
    }
    m->total_pages = managed;
    mmsim_log(m, 6,
              "Memory: %" PRIu64 "K/%" PRIu64
              "K available (0K kernel code, 0K rwdata, 0K rodata, 0K init, "
              "0K bss, %" PRIu64 "K reserved, 0K cma-reserved)",
              free << 2, physpages << 2, (physpages - managed) << 2);
    if (deferred)
        mmsim_log(m, 6,
                  "deferred_init=lazy: %" PRIu64
                  " pages left to deferred_grow_zone()",
                  deferred);
}

static int finish_boot_locked(struct mmsim_machine *m)
{
    int rc;

    rc = setup_node_data(m);
    if (rc)
        return rc;
    rc = setup_mem_map(m);
    if (rc)
        return rc;
    rc = setup_zones(m);
    if (rc)
        return rc;
    rc = mmsim_build_zonelists(m);
    if (rc)
        return rc;
    rc = handoff(m);
    if (rc)
        return rc;
    log_memory_summary(m);
    mmsim_setup_watermarks(m);
    mmsim_setup_pcp(m);
    if (m->bootlog_oom)
        return MMSIM_EHOSTMEM;
    atomic_store(&m->phase, MMSIM_PHASE_RUNNING);
    return 0;
}

/* ---- public ------------------------------------------------------------- */

static void destroy_nodes(struct mmsim_machine *m)
{
    for (unsigned n = 0; n < MMSIM_MAX_NODES; n++) {
        struct mmsim_pgdat *pg = m->pgdat[n];

        if (!pg)
            continue;
        for (unsigned i = 0; i < MMSIM_NR_ZONE_TYPES; i++) {
            struct mmsim_zone *z = &pg->zones[i];

            host_free(m->alloc, z->pcp_mem);
            host_free(m->alloc, z->deferred);
        }
        host_free(m->alloc, pg->zonelist);
        host_free(m->alloc, pg->zonelist_thisnode);
        host_free(m->alloc, pg);
        m->pgdat[n] = NULL;
    }
}

void mmsim_machine_destroy(struct mmsim_machine *m)
{
    if (!m)
        return;
    mmsim_vm_fini(m); /* stops kswapd first: it uses everything below */
    mmsim_vmalloc_fini(m);
    pthread_mutex_destroy(&m->vmap_lock);
    destroy_nodes(m);
    mmsim_memblock_destroy(m->mb);
    mmsim_bootmem_destroy(m->bm);
    host_unmap(m->alloc, m->mem_map, m->mem_map_bytes);
    mmsim_contents_fini(m);
    host_free(m->alloc, m->mem);
    host_free(m->alloc, m->mem_nid);
    host_free(m->alloc, m->bootlog);
    pthread_mutex_destroy(&m->boot_lock);
    {
        struct mmsim_allocator a = m->alloc_store;
        bool hooked = m->alloc != NULL;

        host_free(hooked ? &a : NULL, m);
    }
}

int mmsim_machine_create(const struct mmsim_desc *desc,
                         const struct mmsim_machine_opts *opts,
                         struct mmsim_machine **out, char *err, size_t errlen)
{
    const struct mmsim_allocator *a = opts ? opts->alloc : NULL;
    struct mmsim_machine *m;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    rc = mmsim_desc_validate(desc, err, errlen);
    if (rc)
        return rc;
    m = host_calloc(a, 1, sizeof(*m));
    if (!m) {
        if (err && errlen)
            snprintf(err, errlen, "%s", mmsim_strerror(MMSIM_EHOSTMEM));
        return MMSIM_EHOSTMEM;
    }
    m->desc = *desc;
    if (a) {
        m->alloc_store = *a;
        m->alloc = &m->alloc_store;
    }
    if (opts) {
        m->log = opts->log;
        m->log_ctx = opts->log_ctx;
        m->fail_page_alloc = opts->fail_page_alloc;
        m->fail_ctx = opts->fail_ctx;
    }
    if (pthread_mutex_init(&m->boot_lock, NULL)) {
        host_free(a, m);
        return MMSIM_EHOSTMEM;
    }
    if (pthread_mutex_init(&m->vmap_lock, NULL)) {
        pthread_mutex_destroy(&m->boot_lock);
        host_free(a, m);
        return MMSIM_EHOSTMEM;
    }
    atomic_store(&m->phase, MMSIM_PHASE_EARLY);
    setup_model(m);
    rc = mmsim_vm_init(m, err, errlen);
    if (rc) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "%s", mmsim_strerror(rc));
        mmsim_machine_destroy(m);
        return rc;
    }
    if (opts) {
        m->vm->oom_kill = opts->oom_kill;
        m->vm->oom_ctx = opts->oom_ctx;
    }

    pthread_mutex_lock(&m->boot_lock);
    rc = setup_mem_ranges(m);
    if (!rc) {
        log_e820(m);
        rc = m->desc.early == MMSIM_EARLY_BOOTMEM ? early_init_bootmem(m)
                                                  : early_init_memblock(m);
        if (rc == MMSIM_ENOMEM)
            rc = MMSIM_EPANIC;
    }
    if (!rc && !m->desc.stop_before_handoff)
        rc = finish_boot_locked(m);
    if (!rc && m->bootlog_oom)
        rc = MMSIM_EHOSTMEM;
    pthread_mutex_unlock(&m->boot_lock);
    if (rc) {
        if (err && errlen) {
            /* The last kernel log line says why, where there is one. */
            const char *why = mmsim_strerror(rc);
            char last[256] = "";

            if (rc == MMSIM_EPANIC && m->bootlog_len) {
                const char *p = m->bootlog + m->bootlog_len - 1;

                while (p > m->bootlog && p[-1] != '\n')
                    p--;
                snprintf(last, sizeof(last), ": %.*s",
                         (int)(m->bootlog + m->bootlog_len - 1 - p), p);
            }
            snprintf(err, errlen, "boot failed: %s%s", why, last);
        }
        mmsim_machine_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}

int mmsim_machine_finish_boot(struct mmsim_machine *m)
{
    int rc;

    pthread_mutex_lock(&m->boot_lock);
    if (atomic_load(&m->phase) != MMSIM_PHASE_EARLY) {
        pthread_mutex_unlock(&m->boot_lock);
        return MMSIM_EPERM;
    }
    rc = finish_boot_locked(m);
    if (rc) {
        /* Leave the machine in the early phase, as it was. */
        destroy_nodes(m);
        host_unmap(m->alloc, m->mem_map, m->mem_map_bytes);
        m->mem_map = NULL;
        mmsim_contents_fini(m);
        memset(m->zones_by_zid, 0, sizeof(m->zones_by_zid));
        memset(m->zone_movable_pfn, 0, sizeof(m->zone_movable_pfn));
    }
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}

const struct mmsim_desc *mmsim_machine_desc(const struct mmsim_machine *m)
{
    return &m->desc;
}

enum mmsim_phase mmsim_machine_phase(const struct mmsim_machine *m)
{
    return (enum mmsim_phase)atomic_load(&m->phase);
}

uint64_t mmsim_machine_late_init(struct mmsim_machine *m)
{
    uint64_t total = 0;

    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return 0;
    pthread_mutex_lock(&m->boot_lock);
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        for_each_zone_idx(m, i)
        {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];

            if (!atomic_load_explicit(&z->has_deferred, memory_order_relaxed))
                continue;
            /* Section by section, so allocators are not starved of the
             * zone lock for the whole of a large node. */
            for (;;) {
                uint64_t got;

                mmsim_spin_lock(&z->lock);
                got = mmsim_grow_deferred_locked(z, PAGES_PER_SECTION);
                mmsim_spin_unlock(&z->lock);
                if (!got)
                    break;
                total += got;
            }
        }
    }
    pthread_mutex_unlock(&m->boot_lock);
    return total;
}

struct mmsim_memblock *mmsim_machine_memblock(struct mmsim_machine *m)
{
    return m->mb;
}

struct mmsim_bootmem *mmsim_machine_bootmem(struct mmsim_machine *m)
{
    return m->bm;
}

int mmsim_machine_bootmem_map(const struct mmsim_machine *m, int nid,
                              uint64_t *addr, uint64_t *size)
{
    if (!m->bm || nid < 0 || (unsigned)nid >= m->nr_nodes ||
        !m->bootmem_maps[nid][1])
        return MMSIM_ENOENT;
    *addr = m->bootmem_maps[nid][0];
    *size = m->bootmem_maps[nid][1];
    return 0;
}

unsigned mmsim_machine_nr_nodes(const struct mmsim_machine *m)
{
    return m->nr_nodes;
}

unsigned mmsim_machine_nr_cpus(const struct mmsim_machine *m)
{
    return m->nr_cpus;
}

int mmsim_cpu_to_node(const struct mmsim_machine *m, int cpu)
{
    if (cpu < 0 || (unsigned)cpu >= m->nr_cpus)
        return MMSIM_ECPU;
    return m->cpu_node[cpu];
}

unsigned mmsim_machine_max_order(const struct mmsim_machine *m)
{
    return m->max_order;
}

uint64_t mmsim_machine_max_pfn(const struct mmsim_machine *m)
{
    return m->max_pfn;
}

uint64_t mmsim_machine_min_free_kbytes(const struct mmsim_machine *m)
{
    return m->min_free_kbytes;
}

int mmsim_pfn_where(const struct mmsim_machine *m, uint64_t pfn,
                    struct mmsim_page_where *w)
{
    struct mmsim_zone *z;

    if (mmsim_mem_range_of(m, pfn) < 0)
        return MMSIM_EFAULT;
    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING) {
        w->nid = m->mem_nid[mmsim_mem_range_of(m, pfn)];
        w->zone = MMSIM_ZONE_NORMAL;
        return MMSIM_EPERM;
    }
    z = mmsim_pfn_to_zone(m, pfn);
    if (!z)
        return MMSIM_EFAULT;
    w->nid = z->nid;
    w->zone = z->type;
    return 0;
}

/* ---- the early-allocation API ------------------------------------------- */

/*
 * Over memblock, as mm/nobootmem.c did: ___alloc_bootmem_nopanic() and
 * friends with memblock_find_in_range_node() + memblock_reserve(), limit
 * clamped to current_limit, the goal dropped on retry.
 */
static int nobootmem_alloc(struct mmsim_machine *m, int nid, uint64_t size,
                           uint64_t align, uint64_t goal, uint64_t limit,
                           bool exact, uint64_t *addr)
{
    uint64_t cur = mmsim_memblock_get_current_limit(m->mb);
    int rc;

    if (limit == 0 || limit > cur)
        limit = cur;
    for (;;) {
        rc = mmsim_memblock_alloc_range_nid(m->mb, size, align, goal, limit,
                                            nid, exact, addr);
        if (rc != MMSIM_ENOMEM || goal == 0)
            return rc;
        goal = 0;
    }
}

static int alloc_bootmem_memblock(struct mmsim_machine *m,
                                  enum mmsim_bootmem_call call, int nid,
                                  uint64_t size, uint64_t align, uint64_t goal,
                                  uint64_t *addr)
{
    const uint64_t low_limit = UINT64_C(0x100000000); /* ARCH_LOW + 1 */
    bool panic = true;
    int rc;

    switch (call) {
    case MMSIM_ALLOC_BOOTMEM_NOPANIC:
        panic = false;
        __attribute__((fallthrough));
    case MMSIM_ALLOC_BOOTMEM:
        rc = nobootmem_alloc(m, MMSIM_NUMA_NO_NODE, size, align, goal, 0, false,
                             addr);
        break;
    case MMSIM_ALLOC_BOOTMEM_LOW_NOPANIC:
        panic = false;
        __attribute__((fallthrough));
    case MMSIM_ALLOC_BOOTMEM_LOW:
        rc = nobootmem_alloc(m, MMSIM_NUMA_NO_NODE, size, align, goal,
                             low_limit, false, addr);
        break;
    case MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC:
        panic = false;
        __attribute__((fallthrough));
    case MMSIM_ALLOC_BOOTMEM_NODE:
    case MMSIM_ALLOC_BOOTMEM_NODE_HIGH:
        /* ___alloc_bootmem_node_nopanic: the node, then anywhere. */
        rc = nobootmem_alloc(m, nid, size, align, goal, 0, true, addr);
        if (rc == MMSIM_ENOMEM)
            rc = nobootmem_alloc(m, MMSIM_NUMA_NO_NODE, size, align, goal, 0,
                                 false, addr);
        break;
    case MMSIM_ALLOC_BOOTMEM_LOW_NODE:
        rc = nobootmem_alloc(m, nid, size, align, goal, low_limit, true, addr);
        if (rc == MMSIM_ENOMEM)
            rc = nobootmem_alloc(m, MMSIM_NUMA_NO_NODE, size, align, goal,
                                 low_limit, false, addr);
        break;
    default:
        return MMSIM_EINVAL;
    }
    if (rc == MMSIM_ENOMEM && panic) {
        mmsim_log(m, 0,
                  "Out of memory: failed to allocate %" PRIu64
                  " bytes align=0x%" PRIx64 " nid=%d",
                  size, align, nid);
        rc = MMSIM_EPANIC;
    }
    return rc;
}

static int alloc_bootmem_bitmap(struct mmsim_machine *m,
                                enum mmsim_bootmem_call call, int nid,
                                uint64_t size, uint64_t align, uint64_t goal,
                                uint64_t *addr)
{
    switch (call) {
    case MMSIM_ALLOC_BOOTMEM:
        return mmsim_bootmem_alloc(m->bm, size, align, goal, addr);
    case MMSIM_ALLOC_BOOTMEM_NOPANIC:
        return mmsim_bootmem_alloc_nopanic(m->bm, size, align, goal, addr);
    case MMSIM_ALLOC_BOOTMEM_LOW:
        return mmsim_bootmem_alloc_low(m->bm, size, align, goal, false, addr);
    case MMSIM_ALLOC_BOOTMEM_LOW_NOPANIC:
        return mmsim_bootmem_alloc_low(m->bm, size, align, goal, true, addr);
    case MMSIM_ALLOC_BOOTMEM_NODE:
        return mmsim_bootmem_alloc_node(m->bm, nid, size, align, goal, 0, false,
                                        addr);
    case MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC:
        return mmsim_bootmem_alloc_node(m->bm, nid, size, align, goal, 0, true,
                                        addr);
    case MMSIM_ALLOC_BOOTMEM_LOW_NODE:
        return mmsim_bootmem_alloc_node(m->bm, nid, size, align, goal,
                                        UINT64_C(0x100000000), false, addr);
    case MMSIM_ALLOC_BOOTMEM_NODE_HIGH:
        return mmsim_bootmem_alloc_node_high(m->bm, nid, size, align, goal,
                                             addr);
    }
    return MMSIM_EINVAL;
}

int mmsim_alloc_bootmem(struct mmsim_machine *m, enum mmsim_bootmem_call call,
                        int nid, uint64_t size, uint64_t align, uint64_t goal,
                        uint64_t *addr)
{
    bool node_call = call == MMSIM_ALLOC_BOOTMEM_NODE ||
                     call == MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC ||
                     call == MMSIM_ALLOC_BOOTMEM_LOW_NODE ||
                     call == MMSIM_ALLOC_BOOTMEM_NODE_HIGH;
    int rc;

    if ((unsigned)call > MMSIM_ALLOC_BOOTMEM_NODE_HIGH)
        return MMSIM_EINVAL;
    if (node_call && (nid < 0 || (unsigned)nid >= m->nr_nodes))
        return MMSIM_ENODEV;
    if (size == 0 || (align & (align - 1)))
        return MMSIM_EINVAL;
    pthread_mutex_lock(&m->boot_lock);
    if (atomic_load(&m->phase) != MMSIM_PHASE_EARLY)
        rc = MMSIM_EPERM;
    else if (m->mb)
        rc = alloc_bootmem_memblock(m, call, nid, size, align, goal, addr);
    else
        rc = alloc_bootmem_bitmap(m, call, nid, size, align, goal, addr);
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}

/*
 * The bootmem backend's guards: the bitmap covers each node's whole span,
 * holes included, and its own pages are handed to buddy at the end; so a
 * free must stay within RAM, and neither a free nor a reservation may
 * touch a bitmap (the kernel would have corrupted itself; we refuse).
 */
static bool overlaps_bitmap(const struct mmsim_machine *m, uint64_t addr,
                            uint64_t size)
{
    if (size > UINT64_MAX - addr)
        return false; /* bootmem itself reports MMSIM_EOVERFLOW */
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        uint64_t b = m->bootmem_maps[n][0], len = m->bootmem_maps[n][1];

        if (len && addr < b + len && b < addr + size)
            return true;
    }
    return false;
}

static bool pages_are_ram(const struct mmsim_machine *m, uint64_t addr,
                          uint64_t size)
{
    uint64_t pfn, end;

    if (size > UINT64_MAX - addr)
        return true; /* bootmem itself reports MMSIM_EOVERFLOW */
    pfn = MMSIM_PFN_UP(addr);
    end = MMSIM_PFN_DOWN(addr + size);
    while (pfn < end) {
        int r = mmsim_mem_range_of(m, pfn);

        if (r < 0)
            return false;
        pfn = m->mem[r].end;
    }
    return true;
}

int mmsim_free_bootmem(struct mmsim_machine *m, uint64_t addr, uint64_t size)
{
    int rc;

    pthread_mutex_lock(&m->boot_lock);
    if (atomic_load(&m->phase) != MMSIM_PHASE_EARLY)
        rc = MMSIM_EPERM;
    else if (m->bm && size && !pages_are_ram(m, addr, size))
        rc = MMSIM_EFAULT;
    else if (m->bm && size && overlaps_bitmap(m, addr, size))
        rc = MMSIM_EBUSY;
    else if (m->mb)
        rc = mmsim_memblock_free(m->mb, addr, size);
    else
        rc = mmsim_bootmem_free(m->bm, addr, size);
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}

int mmsim_reserve_bootmem(struct mmsim_machine *m, uint64_t addr, uint64_t size,
                          bool exclusive)
{
    int rc;

    pthread_mutex_lock(&m->boot_lock);
    if (atomic_load(&m->phase) != MMSIM_PHASE_EARLY) {
        rc = MMSIM_EPERM;
    } else if (m->bm && size && overlaps_bitmap(m, addr, size)) {
        rc = MMSIM_EBUSY;
    } else if (m->mb) {
        /* memblock has no exclusive flag; emulate BOOTMEM_EXCLUSIVE. */
        if (exclusive && mmsim_memblock_is_region_reserved(m->mb, addr, size))
            rc = MMSIM_EBUSY;
        else
            rc = mmsim_memblock_reserve(m->mb, addr, size);
    } else {
        rc = mmsim_bootmem_reserve(m->bm, addr, size,
                                   exclusive ? MMSIM_BOOTMEM_EXCLUSIVE
                                             : MMSIM_BOOTMEM_DEFAULT);
    }
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}
