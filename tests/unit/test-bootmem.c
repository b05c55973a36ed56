/*
 * test-bootmem.c - unit tests for the legacy bootmem allocator.
 *
 * Expected addresses follow the kernel's alloc_bootmem_bdata() step by
 * step (hint_idx, fallback, packing via last_end_off); the comments next
 * to the harder ones show the arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>

#include "failalloc.h"
#include "mmsim/bootmem.h"

#define PG          MMSIM_PAGE_SIZE
#define PHYS(pfn)   MMSIM_PFN_PHYS(pfn)
#define NO_NODE     MMSIM_NUMA_NO_NODE
#define LOW_LIMIT   UINT64_C(0xffffffff)
#define DMA32_PFN   UINT64_C(0x100000)
#define BIG_ADDR_4G UINT64_C(0x100000000)

static struct mmsim_bootmem *new_bm(uint64_t low_limit, uint64_t dma32_pfn)
{
    struct mmsim_bootmem *bm = NULL;

    assert_int_equal(mmsim_bootmem_create(NULL, low_limit, dma32_pfn, &bm), 0);
    assert_non_null(bm);
    return bm;
}

/* Node @nid over [start, end) with every page freed. */
static void add_free_node(struct mmsim_bootmem *bm, int nid, uint64_t start,
                          uint64_t end)
{
    assert_int_equal(mmsim_bootmem_init_node(bm, nid, start, end), 0);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(start), PHYS(end - start)), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, nid), end - start);
}

static void assert_state(const struct mmsim_bootmem *bm, int nid,
                         uint64_t hint_idx, uint64_t last_end_off)
{
    uint64_t hint = ~UINT64_C(0), leo = ~UINT64_C(0);

    assert_int_equal(mmsim_bootmem_node_state(bm, nid, NULL, NULL, &hint, &leo),
                     0);
    assert_int_equal(hint, hint_idx);
    assert_int_equal(leo, last_end_off);
}

/* Expect a successful allocation at exactly @want. */
static void alloc_at(struct mmsim_bootmem *bm, uint64_t size, uint64_t align,
                     uint64_t goal, uint64_t want)
{
    uint64_t addr = 0;

    assert_int_equal(mmsim_bootmem_alloc(bm, size, align, goal, &addr), 0);
    assert_int_equal(addr, want);
}

/* Records release callbacks in call order. */
struct rec {
    uint64_t pfn[64];
    unsigned order[64];
    int n;
};

static void record(void *ctx, uint64_t pfn, unsigned order)
{
    struct rec *r = ctx;

    assert_true(r->n < 64);
    r->pfn[r->n] = pfn;
    r->order[r->n] = order;
    r->n++;
}

static void assert_blocks(const struct rec *r, const uint64_t (*want)[2], int n)
{
    int i;

    assert_int_equal(r->n, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(r->pfn[i], want[i][0]);
        assert_int_equal(r->order[i], want[i][1]);
    }
}

static void test_create_empty(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    struct rec r = {0};
    uint64_t addr = 0;

    (void)state;
    assert_false(mmsim_bootmem_has_node(bm, 0));
    assert_false(mmsim_bootmem_has_node(bm, -1));
    assert_false(mmsim_bootmem_has_node(bm, MMSIM_MAX_NODES));
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0);
    assert_int_equal(mmsim_bootmem_alloc_nopanic(bm, PG, 0, 0, &addr),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc(bm, PG, 0, 0, &addr), MMSIM_EPANIC);
    assert_int_equal(mmsim_bootmem_free(bm, 0x1000, 0x1000), MMSIM_EFAULT);
    assert_int_equal(mmsim_bootmem_reserve(bm, 0x1000, 1, 0), MMSIM_EFAULT);
    /* No whole page in the range: nothing to look up. */
    assert_int_equal(mmsim_bootmem_free(bm, 0x1000, 0), 0);
    assert_int_equal(mmsim_bootmem_free_all(bm, 10, record, &r), 0);
    assert_int_equal(r.n, 0);
    mmsim_bootmem_destroy(bm);
    mmsim_bootmem_destroy(NULL);
}

static void test_bitmap_bytes(void **state)
{
    (void)state;
    assert_int_equal(mmsim_bootmem_bitmap_bytes(0), 0);
    assert_int_equal(mmsim_bootmem_bitmap_bytes(1), 8);
    assert_int_equal(mmsim_bootmem_bitmap_bytes(64), 8);
    assert_int_equal(mmsim_bootmem_bitmap_bytes(65), 16);
    assert_int_equal(mmsim_bootmem_bitmap_bytes(UINT64_C(1) << 24), UINT64_C(1)
                                                                        << 21);
    assert_int_equal(mmsim_bootmem_bitmap_bytes(UINT64_MAX), UINT64_C(1) << 61);
}

static void test_init_node(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    uint64_t min = 0, low = 0;

    (void)state;
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 0x100, 0x300), 0);
    assert_true(mmsim_bootmem_has_node(bm, 0));
    assert_false(mmsim_bootmem_node_retired(bm, 0));
    /* init_bootmem_core(): every page starts reserved. */
    assert_true(mmsim_bootmem_page_reserved(bm, 0x100));
    assert_true(mmsim_bootmem_page_reserved(bm, 0x2ff));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x300));
    assert_false(mmsim_bootmem_page_reserved(bm, 0xff));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0);
    assert_int_equal(mmsim_bootmem_node_state(bm, 0, &min, &low, NULL, NULL),
                     0);
    assert_int_equal(min, 0x100);
    assert_int_equal(low, 0x300);
    assert_state(bm, 0, 0, 0);

    assert_int_equal(mmsim_bootmem_init_node(bm, -1, 0x400, 0x500),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, MMSIM_MAX_NODES, 0x400, 0x500),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 5, 5), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 6, 5), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 0x400, 0x500),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x2ff, 0x400),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x80, 0x101), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0, 0x1000), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x1000, UINT64_C(1) << 52),
                     MMSIM_EOVERFLOW);
    assert_false(mmsim_bootmem_has_node(bm, 1));
    assert_int_equal(mmsim_bootmem_node_state(bm, 2, NULL, NULL, NULL, NULL),
                     MMSIM_ENODEV);
    assert_int_equal(
        mmsim_bootmem_node_state(bm, MMSIM_MAX_NODES, NULL, NULL, NULL, NULL),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 2), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, MMSIM_MAX_NODES), 0);

    /*
     * bdata_list is sorted by start pfn, not nid: node 1 below node 0 is
     * tried first by the "any node" walk.
     */
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x100), PHYS(0x200)), 0);
    add_free_node(bm, 1, 0x10, 0x20);
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0x210);
    alloc_at(bm, PG, PG, 0, PHYS(0x10));
    mmsim_bootmem_destroy(bm);
}

static void test_free_rounds_inward(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 0x100, 0x200), 0);
    /* [0x100800, 0x102800) holds one whole page, 0x101. */
    assert_int_equal(mmsim_bootmem_free(bm, 0x100800, 0x2000), 0);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x100));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x101));
    assert_true(mmsim_bootmem_page_reserved(bm, 0x102));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 1);

    /* Inside one page: nothing freed. */
    assert_int_equal(mmsim_bootmem_free(bm, 0x110010, 100), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 1);
    assert_int_equal(mmsim_bootmem_free(bm, 0x110000, PG), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 2);

    /* The kernel BUG()s on a double free; we refuse the whole range. */
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x101), 2 * PG),
                     MMSIM_EALREADY);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x102));
    /* Partly outside the node: nothing freed either. */
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x1ff), 2 * PG), MMSIM_EFAULT);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x1ff));
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0xff), PG), MMSIM_EFAULT);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 2);
    mmsim_bootmem_destroy(bm);
}

static void test_reserve_rounds_outward(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    /* [0x100800, 0x101800) touches pages 0x100 and 0x101. */
    assert_int_equal(mmsim_bootmem_reserve(bm, 0x100800, PG, 0), 0);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x100));
    assert_true(mmsim_bootmem_page_reserved(bm, 0x101));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x102));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);
    /* Without EXCLUSIVE a double reserve is silently accepted. */
    assert_int_equal(
        mmsim_bootmem_reserve(bm, 0x100800, PG, MMSIM_BOOTMEM_DEFAULT), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);
    /* Size 0 reserves nothing; one byte reserves its page. */
    assert_int_equal(mmsim_bootmem_reserve(bm, 0x150800, 0, 0), 0);
    assert_false(mmsim_bootmem_page_reserved(bm, 0x150));
    assert_int_equal(mmsim_bootmem_reserve(bm, 0x150fff, 1, 0), 0);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x150));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 253);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x160), PG, 0x2),
                     MMSIM_EINVAL);
    /* Straddling the node end: nothing reserved. */
    assert_int_equal(mmsim_bootmem_reserve(bm, 0x1ff800, PG, 0), MMSIM_EFAULT);
    assert_false(mmsim_bootmem_page_reserved(bm, 0x1ff));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 253);
    mmsim_bootmem_destroy(bm);
}

static void test_reserve_exclusive(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    alloc_at(bm, PG, PG, PHYS(0x180), PHYS(0x180));
    assert_state(bm, 0, 0x81, PHYS(0x81));
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x150), PG, 0), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);

    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x140), 0x20 * PG,
                                           MMSIM_BOOTMEM_EXCLUSIVE),
                     MMSIM_EBUSY);
    /* No change at all: not the pages before the conflict, not the hint. */
    assert_false(mmsim_bootmem_page_reserved(bm, 0x140));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x14f));
    assert_true(mmsim_bootmem_page_reserved(bm, 0x150));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x151));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);
    assert_state(bm, 0, 0x81, PHYS(0x81));

    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x140), 0x10 * PG,
                                           MMSIM_BOOTMEM_EXCLUSIVE),
                     0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 238);
    mmsim_bootmem_destroy(bm);
}

static void test_ranges_span_nodes(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 0x100, 0x200), 0);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x200, 0x300), 0);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x180), PHYS(0x100)), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0x80);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 1), 0x80);
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0x100);

    /* Conflict in node 1 only: node 0's part is left alone too. */
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x1c0), PHYS(0xd0),
                                           MMSIM_BOOTMEM_EXCLUSIVE),
                     MMSIM_EBUSY);
    assert_false(mmsim_bootmem_page_reserved(bm, 0x1c0));
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0x100);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x1f0), PHYS(0x20), 0), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0x70);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 1), 0x70);
    mmsim_bootmem_destroy(bm);

    /* A hole between nodes: the kernel BUG()s, we change nothing. */
    bm = new_bm(LOW_LIMIT, 0);
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 0x100, 0x200), 0);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x300, 0x400), 0);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x180), PHYS(0x100)),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x280), PHYS(0x100)),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0);
    mmsim_bootmem_destroy(bm);
}

static void test_alloc_goal_align_limit(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    alloc_at(bm, PG, PG, 0, PHYS(0x100));
    assert_state(bm, 0, 1, PG);
    /* 64 KiB alignment: from the hint (1) up to index 0x10. */
    alloc_at(bm, PG, 0x10 * PG, 0, PHYS(0x110));
    assert_state(bm, 0, 0x11, PHYS(0x11));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);
    /* A goal above the hint is where the search starts. */
    alloc_at(bm, PG, PG, PHYS(0x180), PHYS(0x180));
    assert_state(bm, 0, 0x81, PHYS(0x81));

    /*
     * Limit 0x120000: the hint (0x81) is past it, so the first pass finds
     * nothing and the fallback pass from the start takes index 1.
     */
    assert_int_equal(
        mmsim_bootmem_alloc_limit(bm, PG, PG, 0, PHYS(0x120), true, &addr), 0);
    assert_int_equal(addr, PHYS(0x101));
    assert_state(bm, 0, 2, PHYS(2));
    /* 0x20 pages below the limit no longer exist. */
    assert_int_equal(mmsim_bootmem_alloc_limit(bm, 0x20 * PG, PG, 0,
                                               PHYS(0x120), true, &addr),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc_limit(bm, 0x20 * PG, PG, 0,
                                               PHYS(0x120), false, &addr),
                     MMSIM_EPANIC);
    /* goal + size above limit: the kernel's BUG_ON. */
    assert_int_equal(mmsim_bootmem_alloc_limit(bm, PG, PG, PHYS(0x120),
                                               PHYS(0x120), true, &addr),
                     MMSIM_EINVAL);
    assert_state(bm, 0, 2, PHYS(2));
    mmsim_bootmem_destroy(bm);

    /* Alignment is of the absolute pfn, not of the index in the node. */
    bm = new_bm(LOW_LIMIT, 0);
    add_free_node(bm, 0, 0x103, 0x200);
    alloc_at(bm, PG, 4 * PG, 0, PHYS(0x104));
    alloc_at(bm, 100, 8, 0, PHYS(0x105));
    mmsim_bootmem_destroy(bm);
}

static void test_hint_forward_and_wrap(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    add_free_node(bm, 0, 0x40, 0x80);
    alloc_at(bm, PG, PG, PHYS(0x7c), PHYS(0x7c));
    assert_state(bm, 0, 0x3d, PHYS(0x3d));
    /*
     * A goal below the hint is ignored on the first pass: the search
     * starts at the hint (the kernel's behaviour, not a wish granted).
     */
    alloc_at(bm, PG, PG, PHYS(0x50), PHYS(0x7d));
    assert_state(bm, 0, 0x3e, PHYS(0x3e));
    /* Three pages do not fit after the hint: wrap to the node start. */
    alloc_at(bm, 3 * PG, PG, 0, PHYS(0x40));
    assert_state(bm, 0, 3, PHYS(3));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x7e));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x50));

    /* A free above the hint leaves it; one below pulls it back. */
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x7d), PG), 0);
    assert_state(bm, 0, 3, PHYS(3));
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x41), PG), 0);
    assert_state(bm, 0, 1, PHYS(3));
    alloc_at(bm, PG, PG, 0, PHYS(0x41));
    assert_state(bm, 0, 2, PHYS(2));
    /* Moving forward over a reserved page. */
    alloc_at(bm, PG, PG, 0, PHYS(0x43));
    assert_state(bm, 0, 4, PHYS(4));
    mmsim_bootmem_destroy(bm);
}

static void test_pack_small_allocs(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    alloc_at(bm, 100, 8, 0, 0x100000);
    assert_state(bm, 0, 1, 100);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 255);
    /*
     * Index 1 is free and follows the partly used page 0: start at
     * ALIGN(100, 8) = 104 inside page 0; reserve pages from 1 up to
     * PFN_UP(204) = 1, i.e. none.
     */
    alloc_at(bm, 100, 8, 0, 0x100068);
    assert_state(bm, 0, 1, 204);
    assert_false(mmsim_bootmem_page_reserved(bm, 0x101));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 255);
    /* 208 + 4000 = 4208 spills into page 1, which gets reserved. */
    alloc_at(bm, 4000, 8, 0, 0x1000d0);
    assert_state(bm, 0, 2, 4208);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x101));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 254);
    /* Page alignment rounds the packed start to the next page. */
    alloc_at(bm, PG, PG, 0, 0x102000);
    assert_state(bm, 0, 3, 0x3000);
    /* A page-aligned last_end_off leaves nothing to pack into. */
    alloc_at(bm, 10, 0, 0, 0x103000);
    assert_state(bm, 0, 4, 0x300a);
    /* Align 0 is SMP_CACHE_BYTES: ALIGN(0x300a, 64) = 0x3040. */
    alloc_at(bm, 10, 0, 0, 0x103040);
    assert_state(bm, 0, 4, 0x304a);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 252);

    /* The found run is not right after the partly used page: no packing. */
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0x104), PG, 0), 0);
    alloc_at(bm, 10, 8, 0, 0x105000);
    assert_state(bm, 0, 6, 0x500a);
    /* A whole page packed at 0x5010 takes page 6 only. */
    alloc_at(bm, PG, 8, 0, 0x105010);
    assert_state(bm, 0, 7, 0x6010);
    assert_true(mmsim_bootmem_page_reserved(bm, 0x106));
    assert_false(mmsim_bootmem_page_reserved(bm, 0x107));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 249);
    mmsim_bootmem_destroy(bm);
}

static void test_node_variants(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    add_free_node(bm, 1, 0x200, 0x300);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 1, PG, PG, 0, 0, false, &addr), 0);
    assert_int_equal(addr, PHYS(0x200));
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, 0, 0, false, &addr), 0);
    assert_int_equal(addr, PHYS(0x100));
    /* Any node: lowest start first; a goal skips nodes below it. */
    alloc_at(bm, PG, PG, 0, PHYS(0x101));
    alloc_at(bm, PG, PG, PHYS(0x280), PHYS(0x280));
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, NO_NODE, PG, PG, 0, 0, true, &addr), 0);
    assert_int_equal(addr, PHYS(0x102));
    /* A goal outside the requested node is ignored inside it. */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, PHYS(0x250), 0, true, &addr),
        0);
    assert_int_equal(addr, PHYS(0x103));
    /* The limit holds: node 1 lies above it, node 0 serves. */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 1, PG, PG, 0, PHYS(0x180), true, &addr),
        0);
    assert_int_equal(addr, PHYS(0x104));
    /* A limit below goal + size is dropped, not an error. */
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 0, PG, PG, PHYS(0x1f0),
                                              PHYS(0x150), true, &addr),
                     0);
    assert_int_equal(addr, PHYS(0x1f0));
    assert_int_equal(mmsim_bootmem_alloc_node(bm, MMSIM_MAX_NODES, PG, PG, 0, 0,
                                              true, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, -2, PG, PG, 0, 0, true, &addr),
        MMSIM_EINVAL);
    mmsim_bootmem_destroy(bm);
}

static void test_node_fallback(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    assert_int_equal(mmsim_bootmem_init_node(bm, 1, 0x200, 0x300), 0);
    /*
     * Node 1 is all reserved. Its goal also excludes node 0 from the
     * "any node" pass, so only the goal-less retry reaches node 0.
     */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 1, PG, PG, PHYS(0x250), 0, false, &addr),
        0);
    assert_int_equal(addr, PHYS(0x100));
    /* A node never set up is a memoryless node: straight to fallback. */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 5, PG, PG, 0, 0, false, &addr), 0);
    assert_int_equal(addr, PHYS(0x101));
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 1, 0x101 * PG, PG, 0, 0, true, &addr),
        MMSIM_ENOMEM);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 1, 0x101 * PG, PG, 0, 0, false, &addr),
        MMSIM_EPANIC);
    /* The goal's last page, then a goal nothing satisfies: retry at 0. */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, PHYS(0x1ff), 0, true, &addr),
        0);
    assert_int_equal(addr, PHYS(0x1ff));
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, PHYS(0x1ff), 0, true, &addr),
        0);
    assert_int_equal(addr, PHYS(0x102));
    mmsim_bootmem_destroy(bm);
}

static void test_alloc_low(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0xff000, 0x101000);
    /* Only the last page below 4 GiB stays free. */
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(0xff000), PHYS(0xfff), 0),
                     0);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, PG, PG, 0, false, &addr), 0);
    assert_int_equal(addr, BIG_ADDR_4G - PG);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, PG, PG, 0, true, &addr),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, PG, PG, 0, false, &addr),
                     MMSIM_EPANIC);
    assert_int_equal(
        mmsim_bootmem_alloc_low(bm, PG, PG, BIG_ADDR_4G, true, &addr),
        MMSIM_EINVAL);
    /* The _low_node variant's limit holds on both paths. */
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, 0, LOW_LIMIT + 1, true, &addr),
        MMSIM_ENOMEM);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, PG, PG, 0, LOW_LIMIT + 1, false, &addr),
        MMSIM_EPANIC);
    /* Unlimited allocation goes above 4 GiB. */
    alloc_at(bm, PG, PG, 0, BIG_ADDR_4G);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0x2000 - 0xfff - 2);
    mmsim_bootmem_destroy(bm);
}

static void test_node_high(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    uint64_t addr = 0;

    (void)state;
    /* 256 MiB above DMA32: more than the 128 MiB the kernel asked for. */
    add_free_node(bm, 0, 0xf0000, 0x110000);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr), 0);
    assert_int_equal(addr, BIG_ADDR_4G);
    /* A goal above DMA32 already: plain alloc_node with that goal. */
    assert_int_equal(
        mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, PHYS(0x100800), &addr), 0);
    assert_int_equal(addr, PHYS(0x100800));
    /* Nothing left above DMA32: fall back to the low part. */
    assert_int_equal(mmsim_bootmem_reserve(bm, BIG_ADDR_4G, PHYS(0x10000), 0),
                     0);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr), 0);
    assert_int_equal(addr, PHYS(0xf0000));
    mmsim_bootmem_destroy(bm);

    /* Exactly 128 MiB above DMA32 is not enough; one page more is. */
    bm = new_bm(LOW_LIMIT, DMA32_PFN);
    add_free_node(bm, 0, 0xf0000, 0x108000);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr), 0);
    assert_int_equal(addr, PHYS(0xf0000));
    mmsim_bootmem_destroy(bm);
    bm = new_bm(LOW_LIMIT, DMA32_PFN);
    add_free_node(bm, 0, 0xf0000, 0x108001);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr), 0);
    assert_int_equal(addr, BIG_ADDR_4G);
    mmsim_bootmem_destroy(bm);

    /* No DMA32 zone: nothing to keep free. */
    bm = new_bm(LOW_LIMIT, 0);
    add_free_node(bm, 0, 0xf0000, 0x110000);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr), 0);
    assert_int_equal(addr, PHYS(0xf0000));
    mmsim_bootmem_destroy(bm);
}

static void test_nopanic_vs_panic(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    uint64_t addr = 0, big = 17 * PG;

    (void)state;
    add_free_node(bm, 0, 0x10, 0x20);
    assert_int_equal(mmsim_bootmem_alloc_nopanic(bm, big, PG, 0, &addr),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc(bm, big, PG, 0, &addr), MMSIM_EPANIC);
    assert_int_equal(
        mmsim_bootmem_alloc_nopanic(bm, big, PG, PHYS(0x18), &addr),
        MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, big, PG, 0, true, &addr),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, big, PG, 0, false, &addr),
                     MMSIM_EPANIC);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, big, PG, 0, 0, true, &addr),
        MMSIM_ENOMEM);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, big, PG, 0, 0, false, &addr),
        MMSIM_EPANIC);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, big, PG, 0, &addr),
                     MMSIM_EPANIC);
    /* Failures leave no trace. */
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 16);
    assert_state(bm, 0, 0, 0);
    alloc_at(bm, 16 * PG, PG, 0, PHYS(0x10));
    assert_int_equal(mmsim_bootmem_alloc(bm, 1, 0, 0, &addr), MMSIM_EPANIC);
    mmsim_bootmem_destroy(bm);
}

static void test_free_all_blocks(void **state)
{
    static const uint64_t want[][2] = {
        {8, 3},  {16, 2}, {21, 0}, {22, 1}, {24, 3},
        {32, 3}, {44, 2}, {48, 3}, {56, 3}, {64, 3},
    };
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    struct rec r = {0};
    uint64_t addr = 0, min = 0, low = 0;

    (void)state;
    add_free_node(bm, 0, 8, 72);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(20), PG, 0), 0);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(40), 4 * PG, 0), 0);
    /* Free runs [8,20) [21,40) [44,72) as aligned blocks, at most 2^3. */
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 3, record, &r), 59);
    assert_blocks(&r, want, 10);

    assert_true(mmsim_bootmem_has_node(bm, 0));
    assert_true(mmsim_bootmem_node_retired(bm, 0));
    assert_int_equal(mmsim_bootmem_node_state(bm, 0, &min, &low, NULL, NULL),
                     0);
    assert_int_equal(min, 8);
    assert_int_equal(low, 72);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0);
    assert_false(mmsim_bootmem_page_reserved(bm, 20));

    /* Retired: bootmem is over for this node. */
    assert_int_equal(mmsim_bootmem_alloc_nopanic(bm, PG, PG, 0, &addr),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_alloc(bm, PG, PG, 0, &addr), MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 0, PG, PG, 0, 0, true, &addr),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, PG, PG, 0, &addr),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(30), PG, 0), MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(20), PG), MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 3, record, &r),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, 8, 72), MMSIM_EINVAL);
    assert_int_equal(r.n, 10);

    assert_int_equal(mmsim_bootmem_free_all_node(bm, 1, 3, record, &r),
                     MMSIM_ENODEV);
    assert_int_equal(
        mmsim_bootmem_free_all_node(bm, MMSIM_MAX_NODES, 3, record, &r),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, -1, 3, record, &r),
                     MMSIM_EINVAL);
    mmsim_bootmem_destroy(bm);
}

static void test_free_all_orders(void **state)
{
    static const uint64_t want0[][2] = {{3, 0}, {4, 0}, {5, 0}, {6, 0}};
    static const uint64_t want_pfn0[][2] = {{0, 6}};
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    struct rec r = {0};

    (void)state;
    add_free_node(bm, 0, 3, 7);
    assert_int_equal(
        mmsim_bootmem_free_all_node(bm, 0, MMSIM_MAX_ORDER_CAP + 1, record, &r),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 3, NULL, &r),
                     MMSIM_EINVAL);
    assert_false(mmsim_bootmem_node_retired(bm, 0));
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 0, record, &r), 4);
    assert_blocks(&r, want0, 4);
    mmsim_bootmem_destroy(bm);

    /* pfn 0 is aligned to every order; the run length caps it here. */
    bm = new_bm(LOW_LIMIT, 0);
    r.n = 0;
    add_free_node(bm, 0, 0, 64);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 10, record, &r), 64);
    assert_blocks(&r, want_pfn0, 1);
    mmsim_bootmem_destroy(bm);
}

static void test_free_all_mixed_retired(void **state)
{
    static const uint64_t want0[][2] = {{0x100, 8}};
    static const uint64_t want1[][2] = {
        {0x202, 1}, {0x204, 2}, {0x208, 3}, {0x210, 4},
        {0x220, 5}, {0x240, 6}, {0x280, 7},
    };
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, 0);
    struct rec r = {0};
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    add_free_node(bm, 1, 0x200, 0x300);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 8, record, &r), 0x100);
    assert_blocks(&r, want0, 1);
    /* The "any node" walks skip the retired node. */
    alloc_at(bm, PG, PG, 0, PHYS(0x200));
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 0, PG, PG, 0, 0, true, &addr),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 1, PG, PG, 0, 0, true, &addr),
                     0);
    assert_int_equal(addr, PHYS(0x201));
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x1ff), 2 * PG), MMSIM_EPERM);
    assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 254);

    r.n = 0;
    assert_int_equal(mmsim_bootmem_free_all(bm, 8, record, &r), 254);
    assert_blocks(&r, want1, 7);
    assert_int_equal(mmsim_bootmem_free_all(bm, 8, record, &r), 0);
    assert_int_equal(mmsim_bootmem_free_all(bm, 8, NULL, &r), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_nopanic(bm, PG, PG, 0, &addr),
                     MMSIM_EPERM);
    mmsim_bootmem_destroy(bm);
}

/* Checks every block of a large hand-off as it arrives. */
struct big_check {
    uint64_t next; /* lowest pfn the next block may start at */
    uint64_t pages;
    uint64_t calls;
    uint64_t hole1, hole2; /* reserved pfns no block may cover */
    unsigned max_order;
};

static void check_block(void *ctx, uint64_t pfn, unsigned order)
{
    struct big_check *c = ctx;
    uint64_t n = UINT64_C(1) << order;

    assert_true(order <= c->max_order);
    assert_true(pfn >= c->next);
    assert_int_equal(pfn & (n - 1), 0);
    assert_false(c->hole1 >= pfn && c->hole1 < pfn + n);
    assert_false(c->hole2 >= pfn && c->hole2 < pfn + n);
    c->next = pfn + n;
    c->pages += n;
    c->calls++;
}

static void test_large_node(void **state)
{
    const uint64_t base = 0x100000, pages = UINT64_C(1) << 24; /* 64 GiB */
    struct big_check c = {0};
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);

    (void)state;
    /* Everything reserved but the last page: the scan must get there. */
    assert_int_equal(mmsim_bootmem_init_node(bm, 0, base, base + pages), 0);
    assert_int_equal(mmsim_bootmem_free(bm, PHYS(base + pages - 1), PG), 0);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 1);
    alloc_at(bm, PG, PG, 0, PHYS(base + pages - 1));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 0);
    mmsim_bootmem_destroy(bm);

    bm = new_bm(LOW_LIMIT, DMA32_PFN);
    add_free_node(bm, 0, base, base + pages);
    c.hole1 = base + 1;
    c.hole2 = base + pages / 2 + 3;
    c.max_order = 10;
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(c.hole1), PG, 0), 0);
    assert_int_equal(mmsim_bootmem_reserve(bm, PHYS(c.hole2), PG, 0), 0);
    assert_int_equal(mmsim_bootmem_free_all_node(bm, 0, 10, check_block, &c),
                     pages - 2);
    assert_int_equal(c.pages, pages - 2);
    assert_int_equal(c.next, base + pages);
    /*
     * A hole at offset h of an order-10 block leaves popcount(h) blocks
     * before it and popcount(1023 - h) after: 1 + 9 for h = 1, 2 + 8 for
     * h = 3. Every other block is a whole order-10 one.
     */
    assert_int_equal(c.calls, (pages >> 10) - 2 + 10 + 10);
    mmsim_bootmem_destroy(bm);
}

static void test_invalid_inputs(void **state)
{
    struct mmsim_bootmem *bm = new_bm(LOW_LIMIT, DMA32_PFN);
    uint64_t addr = 0;

    (void)state;
    add_free_node(bm, 0, 0x100, 0x200);
    assert_int_equal(mmsim_bootmem_alloc(bm, 0, PG, 0, &addr), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_nopanic(bm, 0, PG, 0, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_low(bm, 0, PG, 0, true, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 0, 0, PG, 0, 0, true, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_node_high(bm, 0, 0, PG, 0, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc(bm, PG, 3, 0, &addr), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc(bm, PG, 48, 0, &addr), MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc_node(bm, 0, PG, 48, 0, 0, true, &addr),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_bootmem_alloc(bm, UINT64_MAX, PG, 0, &addr),
                     MMSIM_EOVERFLOW);
    assert_int_equal(mmsim_bootmem_alloc(bm, UINT64_MAX - 4094, PG, 0, &addr),
                     MMSIM_EOVERFLOW);
    assert_int_equal(
        mmsim_bootmem_alloc_nopanic(bm, UINT64_MAX - 4095, PG, 0, &addr),
        MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_alloc(bm, 10, PG, UINT64_MAX - 5, &addr),
                     MMSIM_EOVERFLOW);
    assert_int_equal(
        mmsim_bootmem_alloc_node(bm, 0, 10, PG, UINT64_MAX - 5, 0, true, &addr),
        MMSIM_EOVERFLOW);
    assert_int_equal(
        mmsim_bootmem_alloc_limit(bm, 2 * PG, PG, 0, PG, true, &addr),
        MMSIM_EINVAL);
    /* Huge alignments saturate instead of wrapping. */
    assert_int_equal(
        mmsim_bootmem_alloc_nopanic(bm, PG, UINT64_C(1) << 63, 0, &addr),
        MMSIM_ENOMEM);
    alloc_at(bm, PG, UINT64_C(1) << 20, 0, PHYS(0x100));
    assert_int_equal(
        mmsim_bootmem_alloc_nopanic(bm, PG, UINT64_C(1) << 20, 0, &addr),
        MMSIM_ENOMEM);
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 255);

    assert_int_equal(mmsim_bootmem_free(bm, UINT64_MAX - 10, 100),
                     MMSIM_EOVERFLOW);
    assert_int_equal(mmsim_bootmem_reserve(bm, UINT64_MAX - 10, 100, 0),
                     MMSIM_EOVERFLOW);
    assert_int_equal(mmsim_bootmem_free(bm, UINT64_MAX - 4095, PG),
                     MMSIM_EOVERFLOW);
    assert_int_equal(mmsim_bootmem_reserve(bm, UINT64_MAX - 4095, 4095, 0),
                     MMSIM_EFAULT);
    assert_false(mmsim_bootmem_page_reserved(bm, UINT64_MAX));
    assert_int_equal(mmsim_bootmem_free_pages(bm, 0), 255);
    assert_state(bm, 0, 1, PG);
    mmsim_bootmem_destroy(bm);
}

/*
 * Fail each host allocation of create + two init_node calls in turn:
 * every failure is MMSIM_EHOSTMEM, leaves no half-made node behind (a
 * retry succeeds), and leaks nothing (ASan's leak checker).
 */
static void test_failalloc_sweep(void **state)
{
    long n;

    (void)state;
    for (n = 1;; n++) {
        struct failalloc f;
        struct mmsim_allocator a = failalloc_arm(&f, n);
        struct mmsim_bootmem *bm = NULL;
        int nid, err;

        err = mmsim_bootmem_create(&a, LOW_LIMIT, DMA32_PFN, &bm);
        if (err) {
            assert_int_equal(err, MMSIM_EHOSTMEM);
            assert_true(f.failed);
            assert_null(bm);
            continue;
        }
        for (nid = 0; nid < 2; nid++) {
            uint64_t start = 0x100 + 0x100 * (uint64_t)nid;

            err = mmsim_bootmem_init_node(bm, nid, start, start + 0x100);
            if (err) {
                assert_int_equal(err, MMSIM_EHOSTMEM);
                assert_true(f.failed);
                assert_false(mmsim_bootmem_has_node(bm, nid));
                assert_int_equal(
                    mmsim_bootmem_init_node(bm, nid, start, start + 0x100), 0);
            }
            assert_true(mmsim_bootmem_page_reserved(bm, start));
        }
        assert_int_equal(mmsim_bootmem_free(bm, PHYS(0x100), PHYS(0x200)), 0);
        assert_int_equal(mmsim_bootmem_free_pages(bm, NO_NODE), 0x200);
        mmsim_bootmem_destroy(bm);
        if (!f.failed)
            break;
    }
    /* One allocation in create, one per node. */
    assert_int_equal(n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_empty),
        cmocka_unit_test(test_bitmap_bytes),
        cmocka_unit_test(test_init_node),
        cmocka_unit_test(test_free_rounds_inward),
        cmocka_unit_test(test_reserve_rounds_outward),
        cmocka_unit_test(test_reserve_exclusive),
        cmocka_unit_test(test_ranges_span_nodes),
        cmocka_unit_test(test_alloc_goal_align_limit),
        cmocka_unit_test(test_hint_forward_and_wrap),
        cmocka_unit_test(test_pack_small_allocs),
        cmocka_unit_test(test_node_variants),
        cmocka_unit_test(test_node_fallback),
        cmocka_unit_test(test_alloc_low),
        cmocka_unit_test(test_node_high),
        cmocka_unit_test(test_nopanic_vs_panic),
        cmocka_unit_test(test_free_all_blocks),
        cmocka_unit_test(test_free_all_orders),
        cmocka_unit_test(test_free_all_mixed_retired),
        cmocka_unit_test(test_large_node),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_failalloc_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
