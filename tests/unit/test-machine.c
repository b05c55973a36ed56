/*
 * test-machine.c - boot, hand-off, buddy split/merge, watermarks,
 * zonelists, GFP handling, per-cpu lists, deferred init, bad input and
 * the checker, against whole machines created in-process.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"
#include "internal.h"
#include "mmsim/memblock.h"
#include "mmsim/mm.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static struct mmsim_machine *boot(const struct mmsim_desc *d)
{
    struct mmsim_machine *m = NULL;
    char err[256];
    int rc = mmsim_machine_create(d, NULL, &m, err, sizeof(err));

    if (rc)
        fail_msg("boot failed: %s (%s)", mmsim_err_name(rc), err);
    return m;
}

static void assert_consistent(struct mmsim_machine *m)
{
    char err[512];
    int rc = mmsim_check(m, true, err, sizeof(err));

    if (rc)
        fail_msg("checker: %s", err);
}

static uint64_t zone_free(struct mmsim_machine *m, int nid,
                          enum mmsim_zone_type t)
{
    struct mmsim_zone_info zi;

    assert_int_equal(mmsim_zone_info(m, nid, t, &zi), 0);
    return zi.free;
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

/* A small 2-node machine: node 0 [1 MiB, 64 MiB) with a hole, node 1
 * [64 MiB, 128 MiB); a reserved "kernel". */
static void small_desc(struct mmsim_desc *d)
{
    mmsim_desc_init(d);
    mmsim_desc_add_range(d, 0, 1 * MIB, 30 * MIB);
    mmsim_desc_add_range(d, 0, 40 * MIB, 24 * MIB);
    mmsim_desc_add_range(d, 1, 64 * MIB, 64 * MIB);
    mmsim_desc_add_reserved(d, 16 * MIB, 2 * MIB + 4096, "kernel");
    mmsim_desc_set_distance(d, 0, 1, 21);
    d->deferred_init = false;
}

/* ---- boot and hand-off ----------------------------------------------------
 */

static void test_default_boots(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t addr;
    char log[65536];

    (void)state;
    mmsim_desc_default(&d);
    m = boot(&d);
    assert_int_equal(mmsim_machine_phase(m), MMSIM_PHASE_RUNNING);
    assert_int_equal(mmsim_machine_nr_nodes(m), 2);
    /* After the hand-off the early allocator refuses. */
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 4096, 0, 0, &addr),
        MMSIM_EPERM);
    assert_int_equal(mmsim_free_bootmem(m, 0x100000, 4096), MMSIM_EPERM);
    assert_int_equal(mmsim_reserve_bootmem(m, 0x100000, 4096, false),
                     MMSIM_EPERM);
    assert_true(mmsim_view_bootlog(m, log, sizeof(log)) > 0);
    assert_non_null(strstr(log, "Zone ranges:\n"));
    assert_non_null(strstr(
        log, "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]\n"));
    assert_non_null(strstr(log, "Early memory node ranges\n"));
    assert_non_null(strstr(
        log, "  node   1: [mem 0x0000000140000000-0x000000023fffffff]\n"));
    assert_non_null(strstr(log, "On node 0 totalpages: "));
    assert_non_null(strstr(log, "On node 0, zone DMA: 1 pages in unavailable "
                                "ranges\n"));
    assert_non_null(strstr(log, "Fallback order for Node 1: 1 0 \n"));
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/*
 * Every present page that is not reserved ends up in buddy exactly once:
 * allocate everything (ignoring watermarks) and check that the pages are
 * distinct, never reserved, and are exactly memory minus reserved.
 */
static void handoff_exact(struct mmsim_desc *d)
{
    struct mmsim_machine *m = boot(d);
    uint64_t max_pfn = mmsim_machine_max_pfn(m);
    uint8_t *seen = calloc(max_pfn, 1);
    uint64_t pfn, got = 0, expect = 0, managed = 0;
    struct mmsim_memblock *mb = mmsim_machine_memblock(m);

    assert_non_null(seen);
    mmsim_machine_late_init(m);
    for (unsigned n = 0; n < mmsim_machine_nr_nodes(m); n++)
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)n, (enum mmsim_zone_type)t, &zi) == 0)
                managed += zi.managed;
        }
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_NOFAIL | MMSIM_GFP_NOWARN |
                                 MMSIM_GFP_HIGHMEM | MMSIM_GFP_MOVABLE,
                             0, MMSIM_ANY_NODE, &pfn) == 0 ||
           mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_NOFAIL | MMSIM_GFP_NOWARN, 0, 1,
                             &pfn) == 0) {
        assert_true(pfn < max_pfn);
        assert_int_equal(seen[pfn], 0);
        seen[pfn] = 1;
        got++;
    }
    assert_int_equal(got, managed);
    assert_int_equal(total_free(m), 0);
    if (mb) {
        /* Exactly the free ranges of memblock, in whole pages. */
        uint64_t cursor = 0, s, e;
        int nid;

        while (mmsim_memblock_next_free_range(mb, MMSIM_NUMA_NO_NODE, &cursor,
                                              &s, &e, &nid)) {
            for (uint64_t p = MMSIM_PFN_UP(s); p < MMSIM_PFN_DOWN(e); p++) {
                assert_int_equal(seen[p], 1);
                expect++;
            }
        }
        assert_int_equal(expect, got);
    }
    /* Reserved ranges stayed reserved. */
    for (unsigned i = 0; i < d->nr_reserved; i++)
        for (uint64_t p = MMSIM_PFN_DOWN(d->reserved[i].base);
             p < MMSIM_PFN_UP(d->reserved[i].base + d->reserved[i].size) &&
             p < max_pfn;
             p++)
            assert_int_equal(seen[p], 0);
    assert_consistent(m);
    /* And all of it goes back. */
    for (uint64_t p = 0; p < max_pfn; p++)
        if (seen[p])
            assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, p, 0), 0);
    assert_int_equal(total_free(m), managed);
    assert_consistent(m);
    free(seen);
    mmsim_machine_destroy(m);
}

static void test_handoff_memblock(void **state)
{
    struct mmsim_desc d;

    (void)state;
    small_desc(&d);
    handoff_exact(&d);
}

static void test_handoff_bootmem(void **state)
{
    struct mmsim_desc d;

    (void)state;
    small_desc(&d);
    d.early = MMSIM_EARLY_BOOTMEM;
    handoff_exact(&d);
}

static void test_handoff_deferred(void **state)
{
    struct mmsim_desc d;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 1 * GIB);
    d.deferred_init = true;
    handoff_exact(&d);
}

/* The hand-off releases the largest aligned blocks. */
static void test_handoff_block_shapes(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi;

    (void)state;
    mmsim_desc_init(&d);
    /* 4 MiB + 12 KiB at 4 GiB + 4 KiB: order 0 at the start, then 1, 2,
     * ..., up to a max-order block, and the tail. */
    mmsim_desc_add_range(&d, 0, 4 * GIB, 16 * MIB);
    d.deferred_init = false;
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    /* 16 MiB aligned = four order-10 blocks; NODE_DATA and mem_map took
     * the top pages, leaving a descending staircase below them. */
    assert_int_equal(zi.managed, zi.free);
    assert_true(zi.nr_free[10] >= 3);
    for (unsigned o = 0; o < 10; o++)
        assert_true(zi.nr_free[o] <= 1);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- buddy split and merge ----------------------------------------------- */

static void test_split_and_merge(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info before, after;
    uint64_t a, b, c;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 64 * MIB);
    d.deferred_init = false;
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &before), 0);

    /* Take every lower-order block first, so the next order-0 request must
     * split a max-order block. */
    {
        uint64_t junk[64];
        unsigned nj = 0;

        for (unsigned o = 0; o < 10; o++)
            for (uint64_t i = 0; i < before.nr_free[o]; i++)
                assert_int_equal(
                    mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, o, 0, &junk[nj++]),
                    0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &before), 0);
        for (unsigned o = 0; o < 10; o++)
            assert_int_equal(before.nr_free[o], 0);

        assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 0, 0, &a), 0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &after), 0);
        /* expand(): one max-order block became one block of each lower
         * order, and the lowest page was returned. */
        assert_int_equal(after.nr_free[10], before.nr_free[10] - 1);
        for (unsigned o = 0; o < 10; o++)
            assert_int_equal(after.nr_free[o], 1);
        assert_int_equal(a & 1023, 0);
        /* The next order-0 page is a's buddy. */
        assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 0, 0, &b), 0);
        assert_int_equal(b, a ^ 1);
        /* An order-1 request takes the order-1 block at a + 2. */
        assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 1, 0, &c), 0);
        assert_int_equal(c, a + 2);
        assert_consistent(m);

        /* Free in an order that merges step by step back to order 10. */
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, b, 0), 0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &after), 0);
        assert_int_equal(after.nr_free[0], 1); /* b waits for a */
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, a, 0), 0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &after), 0);
        assert_int_equal(after.nr_free[0], 0);
        assert_int_equal(after.nr_free[1], 1); /* a+b waits for c */
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, c, 1), 0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &after), 0);
        assert_int_equal(after.nr_free[10], before.nr_free[10]);
        for (unsigned o = 0; o < 10; o++)
            assert_int_equal(after.nr_free[o], 0);
        assert_consistent(m);
        for (unsigned i = 0; i < nj; i++) {
            struct mmsim_page_where w;
            uint32_t tag;
            unsigned order;

            assert_int_equal(mmsim_pfn_where(m, junk[i], &w), 0);
            assert_int_equal(mmsim_page_owner(m, junk[i], &tag, &order), 0);
            assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, junk[i], order),
                             0);
        }
    }
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- watermarks ------------------------------------------------------------
 */

static void test_watermarks_formula(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info dma, dma32, normal;
    uint64_t lowmem, min_kb, pages_min, tmp;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 1 * MIB, 3 * GIB);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 2 * GIB);
    d.deferred_init = false;
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA, &dma), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA32, &dma32), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &normal), 0);
    lowmem = dma.managed + dma32.managed + normal.managed;
    /* min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped. */
    min_kb = (uint64_t)floor(sqrt((double)(lowmem * 4 * 16)));
    assert_int_equal(mmsim_machine_min_free_kbytes(m), min_kb);
    pages_min = min_kb / 4;
    tmp = pages_min * normal.managed / lowmem;
    assert_int_equal(normal.wmark_min, tmp);
    {
        uint64_t scale = normal.managed * 10 / 10000;
        uint64_t delta = (tmp >> 2) > scale ? tmp >> 2 : scale;

        assert_int_equal(normal.wmark_low, tmp + delta);
        assert_int_equal(normal.wmark_high, tmp + 2 * delta);
        assert_int_equal(normal.wmark_promo, tmp + 3 * delta);
    }
    /* lowmem_reserve: DMA protects (DMA32 + Normal) / 256 against
     * Normal allocations, DMA32 protects Normal / 256. */
    assert_int_equal(dma.lowmem_reserve[MMSIM_ZONE_DMA32], dma32.managed / 256);
    assert_int_equal(dma.lowmem_reserve[MMSIM_ZONE_NORMAL],
                     (dma32.managed + normal.managed) / 256);
    assert_int_equal(dma32.lowmem_reserve[MMSIM_ZONE_NORMAL],
                     normal.managed / 256);
    assert_int_equal(normal.lowmem_reserve[MMSIM_ZONE_NORMAL], 0);
    mmsim_machine_destroy(m);

    /* An explicit min_free_kbytes and scale factor are used as given. */
    d.min_free_kbytes = 65536;
    d.watermark_scale_factor = 1000;
    m = boot(&d);
    assert_int_equal(mmsim_machine_min_free_kbytes(m), 65536);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &normal), 0);
    assert_int_equal(normal.wmark_low - normal.wmark_min,
                     normal.managed * 1000 / 10000);
    mmsim_machine_destroy(m);
}

/* Normal allocations stop at the low/min watermark; __GFP_HIGH and
 * GFP_ATOMIC dig into the reserve; NOFAIL takes the rest. */
static void test_watermark_reserves(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi;
    uint64_t pfn, n_kernel = 0, n_atomic = 0, n_nofail = 0;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 64 * MIB);
    d.deferred_init = false;
    d.min_free_kbytes = 4096; /* 1024 pages */
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_int_equal(zi.wmark_min, 1024);
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_KERNEL | MMSIM_GFP_NOWARN, 0, 0,
                             &pfn) == 0)
        n_kernel++;
    /* GFP_KERNEL stops once free <= min. */
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_NORMAL), 1024);
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_ATOMIC | MMSIM_GFP_NOWARN, 0, 0,
                             &pfn) == 0)
        n_atomic++;
    /* GFP_ATOMIC: min - min/2 - (min/2)/4 = 384. */
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_NORMAL), 384);
    assert_int_equal(n_atomic, 1024 - 384);
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_NOFAIL | MMSIM_GFP_NOWARN, 0, 0,
                             &pfn) == 0)
        n_nofail++;
    assert_int_equal(n_nofail, 384);
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_NORMAL), 0);
    assert_int_equal(n_kernel + n_atomic + n_nofail, zi.managed);
    /* Out of memory is reported, and counted. */
    assert_int_equal(
        mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_NOWARN, 0, 0, &pfn),
        MMSIM_ENOMEM);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- zonelists and fallback ------------------------------------------------
 */

static void four_node_desc(struct mmsim_desc *d)
{
    /* Asymmetric: d[a][b] != d[b][a] for most pairs. */
    static const unsigned dist[4][4] = {
        {10, 30, 15, 20}, {25, 10, 25, 15}, {15, 35, 10, 40}, {35, 15, 20, 10}};

    mmsim_desc_init(d);
    for (int n = 0; n < 4; n++)
        mmsim_desc_add_range(d, n, 4 * GIB + (uint64_t)n * 64 * MIB, 64 * MIB);
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            if (a != b)
                d->distance[a][b] = (uint8_t)dist[a][b];
    d->nr_cpus = 4;
    d->deferred_init = false;
}

static void test_zonelist_by_distance(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zoneref refs[32];
    /* Node 1 sees 0 and 2 at 25: the next node up (2) wins the tie, as
     * find_next_best_node() penalises nodes below the local one. */
    static const int expect[4][4] = {
        {0, 2, 3, 1}, {1, 3, 2, 0}, {2, 0, 1, 3}, {3, 1, 2, 0}};

    (void)state;
    four_node_desc(&d);
    m = boot(&d);
    for (int n = 0; n < 4; n++) {
        unsigned nr = mmsim_zonelist(m, n, refs, 32);

        assert_int_equal(nr, 4); /* one Normal zone per node */
        for (int i = 0; i < 4; i++) {
            assert_int_equal(refs[i].nid, expect[n][i]);
            assert_int_equal(refs[i].type, MMSIM_ZONE_NORMAL);
        }
    }
    mmsim_machine_destroy(m);
}

/* Exhaust node 0: THISNODE fails, the rest falls back to node 2 (nearest),
 * then 3, and the NUMA counters say so. */
static void test_fallback_order(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t pfn;
    struct mmsim_page_where w;
    int64_t miss0, foreign0;

    (void)state;
    four_node_desc(&d);
    m = boot(&d);
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_THISNODE | MMSIM_GFP_NOWARN, 3, 0,
                             &pfn) == 0) {
        assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
        assert_int_equal(w.nid, 0);
    }
    miss0 = mmsim_vmstat_get(m, "numa_miss");
    foreign0 = mmsim_vmstat_get(m, "numa_foreign");
    assert_int_equal(miss0, 0);
    /* Without THISNODE the next allocation comes from node 2. */
    assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 3, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.nid, 2);
    assert_int_equal(mmsim_vmstat_get(m, "numa_miss"), miss0 + 1);
    assert_int_equal(mmsim_vmstat_get(m, "numa_foreign"), foreign0 + 1);
    /* Exhaust node 2 too: then node 3. */
    while (mmsim_alloc_pages(m, MMSIM_NO_CPU,
                             MMSIM_GFP_THISNODE | MMSIM_GFP_NOWARN, 3, 2,
                             &pfn) == 0)
        ;
    assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 3, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.nid, 3);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- GFP zone modifiers
 * ------------------------------------------------------ */

static void test_gfp_zones(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t pfn;
    struct mmsim_page_where w;

    (void)state;
    mmsim_desc_default(&d);
    m = boot(&d);
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_DMA, 0, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_DMA);
    assert_true(pfn < MMSIM_PFN_DOWN(MMSIM_DMA_END));
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_DMA32, 2, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_DMA32);
    /* Plain allocations prefer Normal; HIGHMEM folds to Normal on 64-bit. */
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_HIGHUSER, 0, 0, &pfn),
                     0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_NORMAL);
    /* Node 1 has only Normal memory: GFP_DMA from node 1 falls back. */
    assert_int_equal(mmsim_alloc_pages(m, 1, MMSIM_GFP_DMA, 0, 1, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.nid, 0);
    /* ... but not with THISNODE. */
    assert_int_equal(
        mmsim_alloc_pages(m, 1,
                          MMSIM_GFP_DMA | MMSIM_GFP_THISNODE | MMSIM_GFP_NOWARN,
                          0, 1, &pfn),
        MMSIM_ENOMEM);
    /* GFP_ZONE_BAD combinations and unknown bits. */
    assert_int_equal(
        mmsim_alloc_pages(m, 0, MMSIM_GFP_DMA | MMSIM_GFP_HIGHMEM, 0, 0, &pfn),
        MMSIM_EINVAL);
    assert_int_equal(
        mmsim_alloc_pages(m, 0, MMSIM_GFP_DMA | MMSIM_GFP_DMA32, 0, 0, &pfn),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0x80000000u, 0, 0, &pfn),
                     MMSIM_EINVAL);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

static void test_highmem_model(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t pfn;
    struct mmsim_page_where w;
    struct mmsim_zone_info zi;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 1 * MIB, 2 * GIB - 1 * MIB);
    d.highmem_start = MMSIM_HIGHMEM_START_DEFAULT;
    d.deferred_init = false;
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA32, &zi),
                     MMSIM_ENOENT);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_HIGHMEM, &zi), 0);
    assert_int_equal(zi.start_pfn, MMSIM_PFN_DOWN(896 * MIB));
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_HIGHUSER, 0, 0, &pfn),
                     0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_HIGHMEM);
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_KERNEL, 0, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_NORMAL);
    /* GFP_DMA32 means Normal on a kernel without ZONE_DMA32. */
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_DMA32, 0, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_NORMAL);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

static void test_movablecore(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi;
    uint64_t pfn;
    struct mmsim_page_where w;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 1 * GIB);
    mmsim_desc_add_range(&d, 1, 5 * GIB, 1 * GIB);
    d.movablecore = 512 * MIB;
    d.deferred_init = false;
    m = boot(&d);
    for (int n = 0; n < 2; n++) {
        assert_int_equal(mmsim_zone_info(m, n, MMSIM_ZONE_MOVABLE, &zi), 0);
        assert_int_equal(zi.present, 256 * MIB / 4096);
    }
    assert_int_equal(
        mmsim_alloc_pages(m, 0, MMSIM_GFP_HIGHUSER_MOVABLE, 0, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_MOVABLE);
    assert_int_equal(mmsim_alloc_pages(m, 0, MMSIM_GFP_KERNEL, 0, 0, &pfn), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
    assert_int_equal(w.zone, MMSIM_ZONE_NORMAL);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- per-cpu lists
 * ----------------------------------------------------------- */

static void test_pcp_lists(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi, zi2;
    uint64_t pfn[1024];

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 1 * GIB);
    d.deferred_init = false;
    d.nr_cpus = 2;
    m = boot(&d);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 0, 0, &pfn[0]), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    /* rmqueue_bulk() took a batch (63 here) and handed out one. */
    assert_int_equal(zi.pcp, 62);
    assert_int_equal(zi.free + zi.pcp + 1, zi.managed);
    /* Freed pages go to the freeing cpu's list... */
    assert_int_equal(mmsim_free_pages(m, 1, pfn[0], 0), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi2), 0);
    assert_int_equal(zi2.pcp, 63);
    assert_consistent(m);
    /* ... and beyond pcp->high a batch goes back to buddy. */
    for (int i = 0; i < 1024; i++)
        assert_int_equal(mmsim_alloc_pages(m, 1, 0, 0, 0, &pfn[i]), 0);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(mmsim_free_pages(m, 1, pfn[i], 0), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi2), 0);
    /* cpu 0 keeps its 62; cpu 1 is back under its high mark. */
    assert_true(zi2.pcp < 62 + 1024);
    assert_true(zi2.pcp <= 62 + (uint64_t)m->pgdat[0]->zones[2].pcp[1].high);
    assert_consistent(m);
    mmsim_drain_all(m);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi2), 0);
    assert_int_equal(zi2.pcp, 0);
    assert_int_equal(zi2.free, zi2.managed);
    assert_int_equal(mmsim_drain_cpu(m, 7), MMSIM_ECPU);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- deferred init
 * ------------------------------------------------------------- */

static void test_deferred_grow(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi;
    uint64_t pfn, n = 0;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 2 * GIB);
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_true(zi.deferred > 0);
    assert_true(zi.free < zi.managed);
    assert_int_equal(zi.free + zi.deferred, zi.managed);
    /* Allocating past what was initialised grows the zone on demand. */
    while (n < zi.free + 1000 &&
           mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 0, 0, &pfn) == 0)
        n++;
    assert_int_equal(n, zi.free + 1000);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_true(zi.deferred > 0);
    assert_consistent(m);
    assert_true(mmsim_machine_late_init(m) > 0);
    assert_int_equal(mmsim_machine_late_init(m), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_int_equal(zi.deferred, 0);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- bad input
 * ------------------------------------------------------------------ */

static void test_bad_inputs(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, b, before;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 3, 0, &a), 0);
    assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 5, 1, &b), 0);
    before = total_free(m);

    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 11, 0, &a), MMSIM_ERANGE);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 0, 2, &a), MMSIM_ENODEV);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 0, -7, &a), MMSIM_ENODEV);
    assert_int_equal(mmsim_alloc_pages(m, 5, 0, 0, 0, &a), MMSIM_ECPU);
    assert_int_equal(mmsim_free_pages(m, 5, a, 3), MMSIM_ECPU);
    assert_int_equal(mmsim_free_pages(m, 0, a, 11), MMSIM_ERANGE);
    /* Wrong order, not the head, misaligned. */
    assert_int_equal(mmsim_free_pages(m, 0, a, 2), MMSIM_EORDER);
    assert_int_equal(mmsim_free_pages(m, 0, a, 4), MMSIM_EORDER);
    assert_int_equal(mmsim_free_pages(m, 0, a + 1, 0), MMSIM_ENOTHEAD);
    assert_int_equal(mmsim_free_pages(m, 0, a + 4, 2), MMSIM_ENOTHEAD);
    assert_int_equal(mmsim_free_pages(m, 0, b + 31, 0), MMSIM_ENOTHEAD);
    /* Reserved (the kernel image), a hole, beyond the end. */
    assert_int_equal(mmsim_free_pages(m, 0, MMSIM_PFN_DOWN(17 * MIB), 0),
                     MMSIM_ERESERVED);
    assert_int_equal(mmsim_free_pages(m, 0, MMSIM_PFN_DOWN(35 * MIB), 0),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_free_pages(m, 0, UINT64_C(1) << 40, 0),
                     MMSIM_EFAULT);
    assert_int_equal(total_free(m), before);
    assert_consistent(m);

    /* Free, then free again: already free, whether on a pcp list or in
     * buddy, and inside a free block. */
    assert_int_equal(mmsim_free_pages(m, 0, a, 3), 0);
    assert_int_equal(mmsim_free_pages(m, 0, a, 3), MMSIM_EALREADY);
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, b, 5), 0);
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, b, 5), MMSIM_EALREADY);
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, b + 3, 0),
                     MMSIM_EALREADY);
    mmsim_drain_all(m);
    assert_int_equal(mmsim_free_pages(m, 0, a, 3), MMSIM_EALREADY);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

static void test_bad_descriptions(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m = (void *)&d;
    char err[256];

    (void)state;
    mmsim_desc_init(&d);
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_ECONFIG);
    assert_null(m);
    assert_non_null(strstr(err, "nodes"));

    small_desc(&d);
    d.ranges[1].base = 2 * MIB; /* overlaps ranges[0] */
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_ECONFIG);
    assert_non_null(strstr(err, "ranges[1]"));
    assert_non_null(strstr(err, "overlaps"));

    small_desc(&d);
    d.max_order = 16;
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_ECONFIG);
    assert_non_null(strstr(err, "max_order"));

    small_desc(&d);
    d.distance[0][1] = 5;
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_ECONFIG);
    assert_non_null(strstr(err, "distance[0][1]"));

    small_desc(&d);
    d.ranges[2].size = 12345;
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_ECONFIG);
    assert_non_null(strstr(err, "ranges[2]"));

    /* Memory the early allocator cannot fit its own data into panics. */
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 4096);
    d.deferred_init = false;
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_EPANIC);
    assert_non_null(strstr(err, "node 0"));
}

/* ---- the checker
 * --------------------------------------------------------------- */

static void test_checker_catches_corruption(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone *z;
    struct mmsim_page *p;
    uint32_t head;
    char err[512];

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_consistent(m);
    z = &m->pgdat[1]->zones[m->type_to_idx[MMSIM_ZONE_DMA32]];
    head = z->free_area[10].head;
    assert_true(head != PFN_NONE);
    p = &m->mem_map[head];

    /* A block on the order-10 list claiming order 9. */
    p->order = 9;
    assert_int_equal(mmsim_check(m, false, err, sizeof(err)), MMSIM_ECORRUPT);
    assert_non_null(strstr(err, "free_area[10]"));
    assert_non_null(strstr(err, "says order 9"));
    p->order = 10;
    assert_consistent(m);

    /* A miscounted list. */
    z->free_area[10].nr_free++;
    assert_int_equal(mmsim_check(m, false, err, sizeof(err)), MMSIM_ECORRUPT);
    assert_non_null(strstr(err, "nr_free"));
    z->free_area[10].nr_free--;

    /* A stray flag inside a free block: only the full walk sees it. */
    m->mem_map[head + 5].flags = PG_HEAD;
    assert_int_equal(mmsim_check(m, false, err, sizeof(err)), 0);
    assert_int_equal(mmsim_check(m, true, err, sizeof(err)), MMSIM_ECORRUPT);
    assert_non_null(strstr(err, "inside the block"));
    m->mem_map[head + 5].flags = 0;

    /* A cycle. */
    if (p->next != PFN_NONE) {
        uint32_t saved = p->next;

        p->next = head;
        assert_int_equal(mmsim_check(m, false, err, sizeof(err)),
                         MMSIM_ECORRUPT);
        p->next = saved;
    }
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- the early-allocation API
 * ---------------------------------------------------- */

static void early_api(enum mmsim_early_kind kind)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, b, c, big;
    struct mmsim_zone_info before, after;

    small_desc(&d);
    d.early = kind;
    d.stop_before_handoff = true;
    m = boot(&d);
    assert_int_equal(mmsim_machine_phase(m), MMSIM_PHASE_EARLY);
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 0, 0, &a), MMSIM_EPERM);
    assert_int_equal(mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM_NODE, 1,
                                         64 * 1024, 4096, 0, &a),
                     0);
    assert_true(a >= 64 * MIB && a < 128 * MIB);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM_LOW, 0, 8192, 4096, 0, &b),
        0);
    assert_true(b < 4 * GIB);
    assert_int_equal(mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM_NOPANIC, 0,
                                         1 * GIB, 0, 0, &big),
                     MMSIM_ENOMEM);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 1 * GIB, 0, 0, &big),
        MMSIM_EPANIC);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM_NODE, 9, 4096, 0, 0, &big),
        MMSIM_ENODEV);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 0, 0, 0, &big),
        MMSIM_EINVAL);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 4096, 3, 0, &big),
        MMSIM_EINVAL);
    /* A freed allocation is free again for the hand-off. */
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 8192, 4096, 0, &c), 0);
    assert_int_equal(mmsim_free_bootmem(m, c, 8192), 0);
    assert_int_equal(mmsim_reserve_bootmem(m, 16 * MIB, 4096, true),
                     MMSIM_EBUSY);
    if (kind == MMSIM_EARLY_BOOTMEM) {
        uint64_t map, len;

        /* The bitmap is off limits, and so are the node's holes. */
        assert_int_equal(mmsim_machine_bootmem_map(m, 0, &map, &len), 0);
        assert_true(len > 0);
        assert_int_equal(mmsim_free_bootmem(m, map, len), MMSIM_EBUSY);
        assert_int_equal(mmsim_reserve_bootmem(m, map, 1, false), MMSIM_EBUSY);
        assert_int_equal(mmsim_free_bootmem(m, 30 * MIB, 4 * MIB),
                         MMSIM_EFAULT);
    } else {
        uint64_t map, len;

        assert_int_equal(mmsim_machine_bootmem_map(m, 0, &map, &len),
                         MMSIM_ENOENT);
    }

    assert_int_equal(mmsim_machine_finish_boot(m), 0);
    assert_int_equal(mmsim_machine_finish_boot(m), MMSIM_EPERM);
    assert_int_equal(
        mmsim_alloc_bootmem(m, MMSIM_ALLOC_BOOTMEM, 0, 4096, 0, 0, &c),
        MMSIM_EPERM);
    assert_consistent(m);
    /* The early allocation is reserved; free_bootmem_late gives it to
     * buddy, once. */
    assert_int_equal(mmsim_free_pages(m, 0, MMSIM_PFN_DOWN(a), 0),
                     MMSIM_ERESERVED);
    assert_int_equal(mmsim_zone_info(m, 1, MMSIM_ZONE_DMA32, &before), 0);
    assert_int_equal(mmsim_free_bootmem_late(m, a, 64 * 1024), 0);
    assert_int_equal(mmsim_zone_info(m, 1, MMSIM_ZONE_DMA32, &after), 0);
    assert_int_equal(after.managed, before.managed + 16);
    assert_int_equal(after.free, before.free + 16);
    assert_int_equal(mmsim_free_bootmem_late(m, a, 64 * 1024), MMSIM_EINVAL);
    assert_int_equal(mmsim_free_bootmem_late(m, 35 * MIB, 4096), MMSIM_EFAULT);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

static void test_early_api_memblock(void **state)
{
    (void)state;
    early_api(MMSIM_EARLY_MEMBLOCK);
}

static void test_early_api_bootmem(void **state)
{
    (void)state;
    early_api(MMSIM_EARLY_BOOTMEM);
}

/* ---- host allocation failures
 * --------------------------------------------------- */

static void test_host_failure_sweep(void **state)
{
    struct mmsim_desc d;

    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        small_desc(&d);
        d.early = kind ? MMSIM_EARLY_BOOTMEM : MMSIM_EARLY_MEMBLOCK;
        for (long n = 1;; n++) {
            struct failalloc f;
            struct mmsim_allocator a = failalloc_arm(&f, n);
            struct mmsim_machine_opts o = {.alloc = &a};
            struct mmsim_machine *m = NULL;
            int rc = mmsim_machine_create(&d, &o, &m, NULL, 0);

            if (!f.failed) {
                assert_int_equal(rc, 0);
                assert_consistent(m);
                mmsim_machine_destroy(m);
                break;
            }
            /* Every injected failure is reported, nothing leaks (ASan). */
            assert_int_equal(rc, MMSIM_EHOSTMEM);
            assert_null(m);
            assert_true(n < 10000);
        }
    }
}

/* fail_page_alloc: injected failures are clean ENOMEMs, NOFAIL exempt. */
static bool fail_every_other(void *ctx, mmsim_gfp_t gfp, unsigned order)
{
    unsigned *calls = ctx;

    (void)gfp;
    (void)order;
    return (*calls)++ % 2 == 1;
}

static void test_fail_page_alloc(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    unsigned calls = 0;
    struct mmsim_machine_opts o = {.fail_page_alloc = fail_every_other,
                                   .fail_ctx = &calls};
    uint64_t pfn, free0;
    int ok = 0, failed = 0;

    (void)state;
    small_desc(&d);
    assert_int_equal(mmsim_machine_create(&d, &o, &m, NULL, 0), 0);
    free0 = total_free(m);
    for (int i = 0; i < 10; i++) {
        int rc = mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, 2, 0, &pfn);

        if (rc == 0) {
            ok++;
            assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn, 2), 0);
        } else {
            assert_int_equal(rc, MMSIM_ENOMEM);
            failed++;
        }
        assert_int_equal(total_free(m), free0);
    }
    assert_int_equal(ok, 5);
    assert_int_equal(failed, 5);
    /* Invalid requests are refused before the hook is asked. */
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 12, 0, &pfn), MMSIM_ERANGE);
    assert_int_equal(calls, 10);
    /* NOFAIL is never failed by injection. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(
            mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_NOFAIL, 0, 0, &pfn),
            0);
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn, 0), 0);
    }
    assert_int_equal(calls, 10);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* Page contents: written bytes read back; freed pages come back zeroed;
 * only allocated pages can be read or written. */
static void test_page_contents(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint8_t buf[4096], zero[4096] = {0};
    uint64_t a, b, again;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_false(mmsim_machine_has_contents(m));
    assert_int_equal(mmsim_alloc_pages(m, 0, 0, 0, 0, &a), 0);
    assert_int_equal(mmsim_page_write(m, a, 0, "x", 1), MMSIM_ENOCONTENT);
    mmsim_machine_destroy(m);

    small_desc(&d);
    d.contents = true;
    m = boot(&d);
    assert_true(mmsim_machine_has_contents(m));
    /* Order 5 (madvise path) and order 0 (memset path). */
    for (unsigned order = 0; order <= 5; order += 5) {
        assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, order, 1, &a),
                         0);
        for (uint64_t p = a; p < a + (UINT64_C(1) << order); p++) {
            assert_int_equal(mmsim_page_read(m, p, 0, buf, 4096), 0);
            assert_memory_equal(buf, zero, 4096);
        }
        b = a + (UINT64_C(1) << order) - 1; /* the block's last page */
        memset(buf, 0x11, sizeof(buf));
        assert_int_equal(mmsim_page_write(m, a, 0, buf, 4096), 0);
        memset(buf, 0xa5, sizeof(buf));
        assert_int_equal(mmsim_page_write(m, b, 100, buf, 200), 0);
        memset(buf, 0, sizeof(buf));
        assert_int_equal(mmsim_page_read(m, b, 90, buf, 220), 0);
        for (int i = 0; i < 220; i++)
            assert_int_equal(buf[i], i >= 10 && i < 210 ? 0xa5
                                     : a == b           ? 0x11
                                                        : 0);
        assert_int_equal(mmsim_page_read(m, b, 4000, buf, 97), MMSIM_ERANGE);
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, a, order), 0);
        /* Freed: no more access; reallocated: zeroes again. */
        assert_int_equal(mmsim_page_read(m, a, 0, buf, 1), MMSIM_EALREADY);
        assert_int_equal(mmsim_page_write(m, b, 0, buf, 1), MMSIM_EALREADY);
        assert_int_equal(
            mmsim_alloc_pages(m, MMSIM_NO_CPU, 0, order, 1, &again), 0);
        assert_int_equal(again, a);
        for (uint64_t p = a; p < a + (UINT64_C(1) << order); p++) {
            assert_int_equal(mmsim_page_read(m, p, 0, buf, 4096), 0);
            assert_memory_equal(buf, zero, 4096);
        }
        assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, a, order), 0);
    }
    /* Reserved memory and holes are not readable. */
    assert_int_equal(mmsim_page_read(m, MMSIM_PFN_DOWN(17 * MIB), 0, buf, 1),
                     MMSIM_ERESERVED);
    assert_int_equal(mmsim_page_read(m, MMSIM_PFN_DOWN(35 * MIB), 0, buf, 1),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_page_read(m, UINT64_C(1) << 40, 0, buf, 1),
                     MMSIM_EFAULT);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* Many machines live side by side. */
static void test_many_machines(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m[8];
    uint64_t pfn[8];

    (void)state;
    small_desc(&d);
    for (int i = 0; i < 8; i++) {
        m[i] = boot(&d);
        assert_int_equal(mmsim_alloc_pages(m[i], 0, 0, (unsigned)i, 0, &pfn[i]),
                         0);
    }
    for (int i = 0; i < 8; i++) {
        /* Machines do not share state: each has its own page i. */
        assert_int_equal(mmsim_free_pages(m[i], 0, pfn[i], (unsigned)i), 0);
        assert_consistent(m[i]);
        mmsim_machine_destroy(m[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_boots),
        cmocka_unit_test(test_handoff_memblock),
        cmocka_unit_test(test_handoff_bootmem),
        cmocka_unit_test(test_handoff_deferred),
        cmocka_unit_test(test_handoff_block_shapes),
        cmocka_unit_test(test_split_and_merge),
        cmocka_unit_test(test_watermarks_formula),
        cmocka_unit_test(test_watermark_reserves),
        cmocka_unit_test(test_zonelist_by_distance),
        cmocka_unit_test(test_fallback_order),
        cmocka_unit_test(test_gfp_zones),
        cmocka_unit_test(test_highmem_model),
        cmocka_unit_test(test_movablecore),
        cmocka_unit_test(test_pcp_lists),
        cmocka_unit_test(test_deferred_grow),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_bad_descriptions),
        cmocka_unit_test(test_checker_catches_corruption),
        cmocka_unit_test(test_early_api_memblock),
        cmocka_unit_test(test_early_api_bootmem),
        cmocka_unit_test(test_host_failure_sweep),
        cmocka_unit_test(test_fail_page_alloc),
        cmocka_unit_test(test_page_contents),
        cmocka_unit_test(test_many_machines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
