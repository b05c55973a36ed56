/*
 * test-memblock.c - unit tests for daemon/mm/memblock.c.
 *
 * The cases mirror Linux's tools/testing/memblock suite (basic_api.c,
 * alloc_api.c, alloc_nid_api.c, alloc_exact_nid_api.c) in shape: the same
 * layouts and the same expected arrays, written afresh against our API and
 * with simulated addresses (the kernel's suite backs memory with a host
 * buffer; we need none). On top of that: debugfs text compared byte for
 * byte, array growth after allow_resize, and failure sweeps that fail the
 * Nth host allocation and check that nothing changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "mmsim/memblock.h"

#define SZ_2   UINT64_C(0x2)
#define SZ_16  UINT64_C(0x10)
#define SZ_64  UINT64_C(0x40)
#define SZ_128 UINT64_C(0x80)
#define SZ_256 UINT64_C(0x100)
#define SZ_512 UINT64_C(0x200)
#define SZ_1K  UINT64_C(0x400)
#define SZ_2K  UINT64_C(0x800)
#define SZ_4K  UINT64_C(0x1000)
#define SZ_8K  UINT64_C(0x2000)
#define SZ_16K UINT64_C(0x4000)
#define SZ_32K UINT64_C(0x8000)
#define SZ_64K UINT64_C(0x10000)
#define SZ_1M  UINT64_C(0x100000)
#define SZ_2M  UINT64_C(0x200000)
#define SZ_4M  UINT64_C(0x400000)
#define SZ_8M  UINT64_C(0x800000)
#define SZ_16M UINT64_C(0x1000000)
#define SZ_32M UINT64_C(0x2000000)
#define SZ_64M UINT64_C(0x4000000)
#define SZ_1G  UINT64_C(0x40000000)
#define SZ_2G  UINT64_C(0x80000000)

#define MEM        MMSIM_MEMBLOCK_MEMORY
#define RSV        MMSIM_MEMBLOCK_RESERVED
#define NO_NODE    MMSIM_NUMA_NO_NODE
#define CACHE      MMSIM_MEMBLOCK_DEFAULT_ALIGN
#define ACCESSIBLE MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE
#define ANYWHERE   MMSIM_MEMBLOCK_ALLOC_ANYWHERE
#define PHYS_MAX   UINT64_MAX

/* The kernel suite's setup_memblock(): one block of MEM_SIZE bytes. */
#define MEM_BASE SZ_1M
#define MEM_SIZE SZ_32K

/* The kernel's PAGE_ALIGN(n * sizeof(struct memblock_region)). */
#define ARRAY_BYTES(n) ((((uint64_t)(n)*24) + SZ_4K - 1) & ~(SZ_4K - 1))

/* ---- helpers ---------------------------------------------------------- */

static struct mmsim_memblock *mb_new(void)
{
    struct mmsim_memblock *mb = NULL;

    assert_int_equal(mmsim_memblock_create(NULL, &mb), 0);
    assert_non_null(mb);
    return mb;
}

static int setup(void **state)
{
    *state = mb_new();
    return 0;
}

static int teardown(void **state)
{
    mmsim_memblock_destroy(*state);
    return 0;
}

static struct mmsim_memblock_region rgn(const struct mmsim_memblock *mb,
                                        enum mmsim_memblock_type type,
                                        unsigned idx)
{
    struct mmsim_memblock_region r;

    assert_int_equal(mmsim_memblock_region(mb, type, idx, &r), 0);
    return r;
}

#define assert_rgn(mb, type, idx, b, s)                                        \
    do {                                                                       \
        struct mmsim_memblock_region r_ = rgn((mb), (type), (idx));            \
        assert_int_equal(r_.base, (b));                                        \
        assert_int_equal(r_.size, (s));                                        \
    } while (0)

#define assert_rgn_full(mb, type, idx, b, s, n, f)                             \
    do {                                                                       \
        struct mmsim_memblock_region r_ = rgn((mb), (type), (idx));            \
        assert_int_equal(r_.base, (b));                                        \
        assert_int_equal(r_.size, (s));                                        \
        assert_int_equal(r_.nid, (n));                                         \
        assert_int_equal(r_.flags, (f));                                       \
    } while (0)

#define assert_type(mb, type, cnt, total)                                      \
    do {                                                                       \
        assert_int_equal(mmsim_memblock_count((mb), (type)), (cnt));           \
        assert_int_equal(mmsim_memblock_total_size((mb), (type)), (total));    \
    } while (0)

static void setup_memblock(struct mmsim_memblock *mb)
{
    assert_int_equal(mmsim_memblock_add(mb, MEM_BASE, MEM_SIZE), 0);
}

/* memblock_alloc(): anywhere below current_limit, any node. */
static int mb_alloc(struct mmsim_memblock *mb, uint64_t size, uint64_t align,
                    uint64_t *addr)
{
    return mmsim_memblock_alloc_try_nid(mb, size, align, 0, ACCESSIBLE, NO_NODE,
                                        addr);
}

static int mb_alloc_nid(struct mmsim_memblock *mb, uint64_t size, uint64_t min,
                        uint64_t max, uint64_t *addr)
{
    return mmsim_memblock_alloc_try_nid(mb, size, CACHE, min, max, NO_NODE,
                                        addr);
}

/* A copy of both arrays, to check that a failed call changed nothing. */
struct mb_state {
    unsigned cnt[2];
    unsigned max[2];
    uint64_t total[2];
    struct mmsim_memblock_region *r[2];
};

static void state_get(const struct mmsim_memblock *mb, struct mb_state *s)
{
    int t;
    unsigned i;

    for (t = 0; t < 2; t++) {
        enum mmsim_memblock_type type = (enum mmsim_memblock_type)t;

        s->cnt[t] = mmsim_memblock_count(mb, type);
        s->max[t] = mmsim_memblock_max(mb, type);
        s->total[t] = mmsim_memblock_total_size(mb, type);
        s->r[t] = calloc(s->cnt[t] + 1, sizeof(*s->r[t]));
        assert_non_null(s->r[t]);
        for (i = 0; i < s->cnt[t]; i++)
            s->r[t][i] = rgn(mb, type, i);
    }
}

static void state_put(struct mb_state *s)
{
    free(s->r[0]);
    free(s->r[1]);
}

static void assert_state_equal(const struct mb_state *a,
                               const struct mb_state *b)
{
    int t;
    unsigned i;

    for (t = 0; t < 2; t++) {
        assert_int_equal(a->cnt[t], b->cnt[t]);
        assert_int_equal(a->max[t], b->max[t]);
        assert_int_equal(a->total[t], b->total[t]);
        for (i = 0; i < a->cnt[t]; i++) {
            assert_int_equal(a->r[t][i].base, b->r[t][i].base);
            assert_int_equal(a->r[t][i].size, b->r[t][i].size);
            assert_int_equal(a->r[t][i].nid, b->r[t][i].nid);
            assert_int_equal(a->r[t][i].flags, b->r[t][i].flags);
        }
    }
}

static void assert_unchanged_since(const struct mmsim_memblock *mb,
                                   const struct mb_state *before)
{
    struct mb_state now;

    state_get(mb, &now);
    assert_state_equal(before, &now);
    state_put(&now);
}

/* ---- initial state ---------------------------------------------------- */

static void test_initial_state(void **state)
{
    struct mmsim_memblock *mb = *state;
    struct mmsim_memblock_region r;
    char buf[8];

    assert_type(mb, MEM, 0, 0);
    assert_type(mb, RSV, 0, 0);
    assert_int_equal(mmsim_memblock_max(mb, MEM), MMSIM_MEMBLOCK_INIT_REGIONS);
    assert_int_equal(mmsim_memblock_max(mb, RSV), MMSIM_MEMBLOCK_INIT_REGIONS);
    assert_false(mmsim_memblock_bottom_up(mb));
    assert_int_equal(mmsim_memblock_get_current_limit(mb), ANYWHERE);
    assert_int_equal(mmsim_memblock_start_of_dram(mb), 0);
    assert_int_equal(mmsim_memblock_end_of_dram(mb), 0);
    assert_int_equal(mmsim_memblock_region(mb, MEM, 0, &r), MMSIM_ERANGE);
    assert_false(mmsim_memblock_is_memory(mb, SZ_1M));
    assert_int_equal(mmsim_memblock_debugfs_show(mb, MEM, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

static void test_create_bad_args(void **state)
{
    (void)state;
    assert_int_equal(mmsim_memblock_create(NULL, NULL), MMSIM_EINVAL);
    mmsim_memblock_destroy(NULL);
}

/* ---- memblock_add ----------------------------------------------------- */

static void test_add_simple(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1G, SZ_4M), 0);
    assert_rgn_full(mb, MEM, 0, SZ_1G, SZ_4M, NO_NODE, 0);
    assert_type(mb, MEM, 1, SZ_4M);
    assert_type(mb, RSV, 0, 0);
}

static void test_add_node_simple(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(
        mmsim_memblock_add_node(mb, SZ_1M, SZ_16M, 1, MMSIM_MEMBLOCK_HOTPLUG),
        0);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_16M, 1, MMSIM_MEMBLOCK_HOTPLUG);
    assert_type(mb, MEM, 1, SZ_16M);
}

static void test_add_disjoint(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1G, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_1G + SZ_16K, SZ_8K), 0);
    assert_rgn(mb, MEM, 0, SZ_1G, SZ_8K);
    assert_rgn(mb, MEM, 1, SZ_1G + SZ_16K, SZ_8K);
    assert_type(mb, MEM, 2, 2 * SZ_8K);
}

/* Added out of order: the array stays sorted. */
static void test_add_sorted(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1G + SZ_16K, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_1G, SZ_8K), 0);
    assert_rgn(mb, MEM, 0, SZ_1G, SZ_8K);
    assert_rgn(mb, MEM, 1, SZ_1G + SZ_16K, SZ_8K);
}

static void test_add_overlap_top(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t total = (SZ_512 * SZ_1M - SZ_256 * SZ_1M) + SZ_1G;

    assert_int_equal(mmsim_memblock_add(mb, SZ_512 * SZ_1M, SZ_1G), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_256 * SZ_1M, SZ_512 * SZ_1M), 0);
    assert_rgn(mb, MEM, 0, SZ_256 * SZ_1M, total);
    assert_type(mb, MEM, 1, total);
}

static void test_add_overlap_bottom(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t total = (SZ_256 * SZ_1M - SZ_128 * SZ_1M) + SZ_1G;

    assert_int_equal(mmsim_memblock_add(mb, SZ_128 * SZ_1M, SZ_512 * SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_256 * SZ_1M, SZ_1G), 0);
    assert_rgn(mb, MEM, 0, SZ_128 * SZ_1M, total);
    assert_type(mb, MEM, 1, total);
}

static void test_add_within(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_8M, SZ_32M), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_16M, SZ_1M), 0);
    assert_rgn(mb, MEM, 0, SZ_8M, SZ_32M);
    assert_type(mb, MEM, 1, SZ_32M);
}

static void test_add_twice(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_16K, SZ_2M), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_16K, SZ_2M), 0);
    assert_type(mb, MEM, 1, SZ_2M);
}

/* r3 fills the hole between r1 and r2 exactly: all three merge. */
static void test_add_between(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1G, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_1G + SZ_16K, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_1G + SZ_8K, SZ_8K), 0);
    assert_rgn(mb, MEM, 0, SZ_1G, 3 * SZ_8K);
    assert_type(mb, MEM, 1, 3 * SZ_8K);
}

/* One range over several regions and holes: only the holes are added. */
static void test_add_spanning(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, 4 * SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, 8 * SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, 0, 16 * SZ_1M), 0);
    assert_rgn(mb, MEM, 0, 0, 16 * SZ_1M);
    assert_type(mb, MEM, 1, 16 * SZ_1M);
}

/* memblock_cap_size(): the size is cut so the end doesn't wrap. */
static void test_add_near_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t base = PHYS_MAX - SZ_1M;

    assert_int_equal(mmsim_memblock_add(mb, base, SZ_2M), 0);
    assert_rgn(mb, MEM, 0, base, PHYS_MAX - base);
    assert_type(mb, MEM, 1, SZ_1M);
}

static void test_add_zero_size(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, 0), 0);
    assert_type(mb, MEM, 0, 0);
    assert_int_equal(mmsim_memblock_add(mb, PHYS_MAX, SZ_4K), 0);
    assert_type(mb, MEM, 0, 0);
}

/* Neighbours merge only with the same node and the same flags. */
static void test_add_merge_rules(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, 0, 0), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, SZ_2M, SZ_1M, 1, 0), 0);
    assert_type(mb, MEM, 2, SZ_2M);
    assert_int_equal(mmsim_memblock_add_node(mb, 3 * SZ_1M, SZ_1M, 1,
                                             MMSIM_MEMBLOCK_HOTPLUG),
                     0);
    assert_type(mb, MEM, 3, 3 * SZ_1M);
    assert_int_equal(mmsim_memblock_add_node(mb, 4 * SZ_1M, SZ_1M, 1,
                                             MMSIM_MEMBLOCK_HOTPLUG),
                     0);
    assert_type(mb, MEM, 3, 4 * SZ_1M);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_1M, 0, 0);
    assert_rgn_full(mb, MEM, 1, SZ_2M, SZ_1M, 1, 0);
    assert_rgn_full(mb, MEM, 2, 3 * SZ_1M, SZ_2M, 1, MMSIM_MEMBLOCK_HOTPLUG);
}

/* Overlapped regions keep their node; only the holes take the new one. */
static void test_add_overlap_keeps_node(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add_node(mb, 0x10000, 0x10000, 1, 0), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x8000, 0x30000, 0, 0), 0);
    assert_type(mb, MEM, 3, 0x30000);
    assert_rgn_full(mb, MEM, 0, 0x8000, 0x8000, 0, 0);
    assert_rgn_full(mb, MEM, 1, 0x10000, 0x10000, 1, 0);
    assert_rgn_full(mb, MEM, 2, 0x20000, 0x18000, 0, 0);
}

static void test_add_bad_nid(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, -2, 0),
                     MMSIM_EINVAL);
    assert_int_equal(
        mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, MMSIM_MAX_NODES, 0),
        MMSIM_EINVAL);
    assert_type(mb, MEM, 0, 0);
    assert_int_equal(
        mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, MMSIM_MAX_NODES - 1, 0), 0);
}

/* Before allow_resize, arrays grow on the host heap and reserve nothing. */
static void test_add_many_before_resize(void **state)
{
    struct mmsim_memblock *mb = *state;
    unsigned i;

    for (i = 0; i < 300; i++)
        assert_int_equal(mmsim_memblock_add(mb, SZ_1M + i * SZ_8K, SZ_4K), 0);
    assert_type(mb, MEM, 300, 300 * SZ_4K);
    assert_int_equal(mmsim_memblock_max(mb, MEM), 512);
    assert_type(mb, RSV, 0, 0);
    for (i = 0; i < 300; i++)
        assert_rgn(mb, MEM, i, SZ_1M + i * SZ_8K, SZ_4K);
}

/*
 * basic_api.c memblock_add_many_check(): after allow_resize, the 129th
 * region doubles "memory", and the doubled array's pages come from the
 * memblock (the one block big enough) and show in "reserved".
 */
static void test_add_many_after_resize(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t new_size = ARRAY_BYTES(2 * MMSIM_MEMBLOCK_INIT_REGIONS);
    uint64_t base = SZ_1M, size = SZ_64, gap = SZ_64;
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, base, new_size), 0);
    base += new_size + gap;

    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++) {
        assert_int_equal(mmsim_memblock_add(mb, base, size), 0);
        base += size + gap;
        assert_type(mb, MEM, i + 2, new_size + (i + 1) * size);
    }
    assert_int_equal(mmsim_memblock_max(mb, MEM),
                     2 * MMSIM_MEMBLOCK_INIT_REGIONS);
    assert_type(mb, RSV, 1, new_size);
    assert_rgn(mb, RSV, 0, SZ_1M, new_size);

    /* Adding still works on the new array. */
    assert_int_equal(mmsim_memblock_add(mb, SZ_16K, SZ_16K), 0);
    assert_rgn(mb, MEM, 0, SZ_16K, SZ_16K);
    assert_type(mb, MEM, MMSIM_MEMBLOCK_INIT_REGIONS + 2,
                MMSIM_MEMBLOCK_INIT_REGIONS * size + new_size + SZ_16K);
    assert_int_equal(mmsim_memblock_max(mb, MEM),
                     2 * MMSIM_MEMBLOCK_INIT_REGIONS);
}

/* ---- memblock_reserve ------------------------------------------------- */

static void test_reserve_simple(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_2G, SZ_128 * SZ_1M), 0);
    assert_rgn_full(mb, RSV, 0, SZ_2G, SZ_128 * SZ_1M, NO_NODE, 0);
    assert_type(mb, RSV, 1, SZ_128 * SZ_1M);
    assert_type(mb, MEM, 0, 0);
}

static void test_reserve_disjoint(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_256 * SZ_1M, SZ_16M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_512 * SZ_1M, SZ_512 * SZ_1M),
                     0);
    assert_rgn(mb, RSV, 0, SZ_256 * SZ_1M, SZ_16M);
    assert_rgn(mb, RSV, 1, SZ_512 * SZ_1M, SZ_512 * SZ_1M);
    assert_type(mb, RSV, 2, SZ_16M + SZ_512 * SZ_1M);
}

static void test_reserve_overlap_top(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t total = (SZ_1G - SZ_128 * SZ_1M) + SZ_1G;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G, SZ_1G), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_128 * SZ_1M, SZ_1G), 0);
    assert_rgn(mb, RSV, 0, SZ_128 * SZ_1M, total);
    assert_type(mb, RSV, 1, total);
}

static void test_reserve_overlap_bottom(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t total = (SZ_128 * SZ_1K - SZ_2K) + SZ_128 * SZ_1K;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_2K, SZ_128 * SZ_1K), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_128 * SZ_1K, SZ_128 * SZ_1K),
                     0);
    assert_rgn(mb, RSV, 0, SZ_2K, total);
    assert_type(mb, RSV, 1, total);
}

static void test_reserve_within(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M, SZ_8M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_2M, SZ_64K), 0);
    assert_rgn(mb, RSV, 0, SZ_1M, SZ_8M);
    assert_type(mb, RSV, 1, SZ_8M);
}

static void test_reserve_twice(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_16K, SZ_2M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_16K, SZ_2M), 0);
    assert_type(mb, RSV, 1, SZ_2M);
}

static void test_reserve_between(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G + SZ_16K, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G + SZ_8K, SZ_8K), 0);
    assert_rgn(mb, RSV, 0, SZ_1G, 3 * SZ_8K);
    assert_type(mb, RSV, 1, 3 * SZ_8K);
}

static void test_reserve_near_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t base = PHYS_MAX - SZ_1M;

    assert_int_equal(mmsim_memblock_reserve(mb, base, SZ_2M), 0);
    assert_rgn(mb, RSV, 0, base, PHYS_MAX - base);
    assert_type(mb, RSV, 1, SZ_1M);
}

/*
 * basic_api.c memblock_reserve_many_check(): the 129th reservation
 * doubles "reserved", whose new array is taken from memory (top-down:
 * the end of the only memory block) and reserved as well.
 */
static void test_reserve_many_after_resize(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t mem_base = SZ_256 * SZ_1M, base = SZ_128 * SZ_1K;
    uint64_t new_size = ARRAY_BYTES(2 * MMSIM_MEMBLOCK_INIT_REGIONS);
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, mem_base, MEM_SIZE), 0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++) {
        assert_int_equal(mmsim_memblock_reserve(mb, base, MEM_SIZE), 0);
        assert_type(mb, RSV, i + 1, (i + 1) * MEM_SIZE);
        base += 2 * MEM_SIZE;
    }
    assert_int_equal(mmsim_memblock_max(mb, RSV), MMSIM_MEMBLOCK_INIT_REGIONS);

    assert_int_equal(mmsim_memblock_reserve(mb, base, MEM_SIZE), 0);
    assert_type(mb, RSV, MMSIM_MEMBLOCK_INIT_REGIONS + 2,
                (MMSIM_MEMBLOCK_INIT_REGIONS + 1) * MEM_SIZE + new_size);
    assert_int_equal(mmsim_memblock_max(mb, RSV),
                     2 * MMSIM_MEMBLOCK_INIT_REGIONS);
    assert_rgn(mb, RSV, MMSIM_MEMBLOCK_INIT_REGIONS + 1,
               mem_base + MEM_SIZE - new_size, new_size);
    assert_true(mmsim_memblock_is_reserved(mb, mem_base + MEM_SIZE - 1));

    /* Reserving still works on the new array. */
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_16K, SZ_16K), 0);
    assert_rgn(mb, RSV, 0, SZ_16K, SZ_16K);
    assert_type(mb, RSV, MMSIM_MEMBLOCK_INIT_REGIONS + 3,
                (MMSIM_MEMBLOCK_INIT_REGIONS + 1) * MEM_SIZE + new_size +
                    SZ_16K);
}

/*
 * The second doubling frees the first doubled array's pages and reserves
 * the new ones: "reserved" shows only the live array.
 */
static void test_reserve_second_doubling_frees_old_array(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t mem_base = SZ_256 * SZ_1M;
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, mem_base, SZ_64K), 0);
    for (i = 0; i < 2 * MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M + i * SZ_8K, SZ_4K),
                         0);
    /*
     * The 129th reservation doubled to 256 (an 8K array at the top of
     * memory). The 256th found the array full (255 + the array itself)
     * and doubled to 512: a 12K array found below the 8K one while that
     * was still reserved, after which the 8K one was freed.
     */
    assert_int_equal(mmsim_memblock_max(mb, RSV), 512);
    assert_type(mb, RSV, 257, 256 * SZ_4K + ARRAY_BYTES(512));
    assert_rgn(mb, RSV, 256, mem_base + SZ_64K - SZ_8K - ARRAY_BYTES(512),
               ARRAY_BYTES(512));
    assert_false(mmsim_memblock_is_reserved(mb, mem_base + SZ_64K - 1));
}

/* ---- memblock_remove -------------------------------------------------- */

static void test_remove_simple(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_2K, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_128 * SZ_1K, SZ_4M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_2K, SZ_4K), 0);
    assert_rgn(mb, MEM, 0, SZ_128 * SZ_1K, SZ_4M);
    assert_type(mb, MEM, 1, SZ_4M);
}

static void test_remove_absent(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_512 * SZ_1K, SZ_4M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_64M, SZ_1G), 0);
    assert_rgn(mb, MEM, 0, SZ_512 * SZ_1K, SZ_4M);
    assert_type(mb, MEM, 1, SZ_4M);
}

static void test_remove_overlap_top(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_32M, SZ_32M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_16M, SZ_32M), 0);
    assert_rgn(mb, MEM, 0, SZ_32M + SZ_16M, SZ_16M);
    assert_type(mb, MEM, 1, SZ_16M);
}

static void test_remove_overlap_bottom(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_2M, SZ_64M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_32M, SZ_64M), 0);
    assert_rgn(mb, MEM, 0, SZ_2M, SZ_32M - SZ_2M);
    assert_type(mb, MEM, 1, SZ_32M - SZ_2M);
}

/* The removed range splits the region in two. */
static void test_remove_within(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add_node(mb, SZ_1M, SZ_32M, 3, 0), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_16M, SZ_1M), 0);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_16M - SZ_1M, 3, 0);
    assert_rgn_full(mb, MEM, 1, SZ_16M + SZ_1M, SZ_16M, 3, 0);
    assert_type(mb, MEM, 2, SZ_32M - SZ_1M);
}

static void test_remove_only_region(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_2K, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_2K, SZ_4K), 0);
    assert_type(mb, MEM, 0, 0);
    assert_int_equal(mmsim_memblock_start_of_dram(mb), 0);
    assert_int_equal(mmsim_memblock_end_of_dram(mb), 0);
    /* An emptied array takes new regions again. */
    assert_int_equal(mmsim_memblock_add(mb, SZ_8K, SZ_4K), 0);
    assert_rgn(mb, MEM, 0, SZ_8K, SZ_4K);
}

static void test_remove_near_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t base = PHYS_MAX - SZ_2M;

    assert_int_equal(mmsim_memblock_add(mb, base, SZ_2M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, PHYS_MAX - SZ_1M, SZ_2M), 0);
    assert_rgn(mb, MEM, 0, base, SZ_1M);
    assert_type(mb, MEM, 1, SZ_1M);
}

static void test_remove_overlap_two(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_16M, SZ_16M), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_64M, SZ_64M), 0);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_16M + SZ_8M, 48 * SZ_1M), 0);
    assert_rgn(mb, MEM, 0, SZ_16M, SZ_8M);
    assert_rgn(mb, MEM, 1, 72 * SZ_1M, 56 * SZ_1M);
    assert_type(mb, MEM, 2, SZ_8M + 56 * SZ_1M);
}

static void test_remove_spanning_many(void **state)
{
    struct mmsim_memblock *mb = *state;
    const uint64_t half = SZ_512 * SZ_1K;
    unsigned i;

    for (i = 0; i < 8; i++)
        assert_int_equal(mmsim_memblock_add(mb, i * SZ_2M, SZ_1M), 0);
    /* Cuts into the first and sixth regions, drops the four between. */
    assert_int_equal(mmsim_memblock_remove(mb, half, 10 * SZ_1M), 0);
    assert_type(mb, MEM, 4, 3 * SZ_1M);
    assert_rgn(mb, MEM, 0, 0, half);
    assert_rgn(mb, MEM, 1, 10 * SZ_1M + half, half);
    assert_rgn(mb, MEM, 2, 12 * SZ_1M, SZ_1M);
    assert_rgn(mb, MEM, 3, 14 * SZ_1M, SZ_1M);
}

/*
 * memblock_isolate_range() asks for two spare entries before looking,
 * even when the range touches nothing: 127 regions and any remove grows
 * the array, as in the kernel.
 */
static void test_remove_wants_two_spare_entries(void **state)
{
    struct mmsim_memblock *mb = *state;
    unsigned i;

    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS - 1; i++)
        assert_int_equal(mmsim_memblock_add(mb, SZ_1M + i * SZ_8K, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_max(mb, MEM), 128);
    assert_int_equal(mmsim_memblock_remove(mb, SZ_1G, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_max(mb, MEM), 256);
    assert_int_equal(mmsim_memblock_count(mb, MEM), 127);
}

/* ---- memblock_phys_free ----------------------------------------------- */

static void test_free_simple(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_4M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_8M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_4M, SZ_1M), 0);
    assert_rgn(mb, RSV, 0, SZ_8M, SZ_1M);
    assert_type(mb, RSV, 1, SZ_1M);
}

static void test_free_absent(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_2M, SZ_8K), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_16M, SZ_128 * SZ_1K), 0);
    assert_rgn(mb, RSV, 0, SZ_2M, SZ_8K);
    assert_type(mb, RSV, 1, SZ_8K);
}

static void test_free_overlap_top(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_8M, SZ_32M), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_1M, SZ_8M), 0);
    assert_rgn(mb, RSV, 0, SZ_8M + SZ_1M, SZ_32M - SZ_1M);
    assert_type(mb, RSV, 1, SZ_32M - SZ_1M);
}

static void test_free_overlap_bottom(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_8M, SZ_32M), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_32M, SZ_32M), 0);
    assert_rgn(mb, RSV, 0, SZ_8M, SZ_32M - SZ_8M);
    assert_type(mb, RSV, 1, SZ_32M - SZ_8M);
}

static void test_free_within(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M, SZ_8M), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_4M, SZ_1M), 0);
    assert_rgn(mb, RSV, 0, SZ_1M, 3 * SZ_1M);
    assert_rgn(mb, RSV, 1, 5 * SZ_1M, 4 * SZ_1M);
    assert_type(mb, RSV, 2, 7 * SZ_1M);
}

static void test_free_only_region(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_2K, SZ_16K), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_2K, SZ_16K), 0);
    assert_type(mb, RSV, 0, 0);
}

static void test_free_near_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t base = PHYS_MAX - SZ_2M;

    assert_int_equal(mmsim_memblock_reserve(mb, base, SZ_2M), 0);
    assert_int_equal(mmsim_memblock_free(mb, PHYS_MAX - SZ_1M, SZ_2M), 0);
    assert_rgn(mb, RSV, 0, base, SZ_1M);
    assert_type(mb, RSV, 1, SZ_1M);
}

static void test_free_overlap_two(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_reserve(mb, SZ_16M, SZ_16M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_64M, SZ_64M), 0);
    assert_int_equal(mmsim_memblock_free(mb, SZ_16M + SZ_8M, 48 * SZ_1M), 0);
    assert_rgn(mb, RSV, 0, SZ_16M, SZ_8M);
    assert_rgn(mb, RSV, 1, 72 * SZ_1M, 56 * SZ_1M);
    assert_type(mb, RSV, 2, SZ_8M + 56 * SZ_1M);
}

/* ---- allocation, top-down (alloc_api.c) ------------------------------- */

static void test_alloc_top_down_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mb_alloc(mb, SZ_2K, CACHE, &a), 0);
    assert_int_equal(a, end - SZ_2K);
    assert_rgn(mb, RSV, 0, end - SZ_2K, SZ_2K);
    assert_type(mb, RSV, 1, SZ_2K);
}

/* A 16-byte block below a reservation, cache aligned, not touching it. */
static void test_alloc_top_down_disjoint(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1;

    setup_memblock(mb);
    r1 = mmsim_memblock_end_of_dram(mb) - SZ_2K;
    assert_int_equal(mmsim_memblock_reserve(mb, r1, SZ_2K), 0);
    assert_int_equal(mb_alloc(mb, SZ_16, CACHE, &a), 0);
    assert_int_equal(a, r1 - CACHE);
    assert_rgn(mb, RSV, 0, r1 - CACHE, SZ_16);
    assert_rgn(mb, RSV, 1, r1, SZ_2K);
    assert_type(mb, RSV, 2, SZ_2K + SZ_16);
}

/* The new block lands right above r1 (at the top) and merges with it. */
static void test_alloc_top_down_before(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, end - 3 * CACHE, CACHE),
                     0);
    assert_int_equal(mb_alloc(mb, 2 * CACHE, CACHE, &a), 0);
    assert_int_equal(a, end - 2 * CACHE);
    assert_rgn(mb, RSV, 0, end - 3 * CACHE, 3 * CACHE);
    assert_type(mb, RSV, 1, 3 * CACHE);
}

/* The new block lands right below r1 and merges with it. */
static void test_alloc_top_down_after(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, end - CACHE, CACHE), 0);
    assert_int_equal(mb_alloc(mb, 2 * CACHE, CACHE, &a), 0);
    assert_int_equal(a, end - 3 * CACHE);
    assert_rgn(mb, RSV, 0, end - 3 * CACHE, 3 * CACHE);
    assert_type(mb, RSV, 1, 3 * CACHE);
}

/* The gap above r1 is too small; the next one down is used. */
static void test_alloc_top_down_second_fit(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end, r1;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    r1 = end - SZ_512 - CACHE;
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, SZ_512), 0);
    assert_int_equal(mb_alloc(mb, SZ_2K, CACHE, &a), 0);
    assert_int_equal(a, r1 - SZ_2K);
    assert_rgn(mb, RSV, 0, r1 - SZ_2K, SZ_2K + SZ_512);
    assert_type(mb, RSV, 1, SZ_2K + SZ_512);
}

/* The gap between r2 and r1 is exactly the request: all three merge. */
static void test_alloc_top_down_in_between(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end, r1, r2;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    r1 = end - SZ_512;
    r2 = r1 - CACHE - SZ_256;
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, SZ_512), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r2, SZ_256), 0);
    assert_int_equal(mb_alloc(mb, CACHE, CACHE, &a), 0);
    assert_int_equal(a, r1 - CACHE);
    assert_rgn(mb, RSV, 0, r2, SZ_512 + SZ_256 + CACHE);
    assert_type(mb, RSV, 1, SZ_512 + SZ_256 + CACHE);
}

/* Every gap is smaller than the request: nothing happens. */
static void test_alloc_small_gaps(void **state)
{
    struct mmsim_memblock *mb = *state;
    struct mb_state before;
    uint64_t a = 0, base = MEM_BASE, gap = SZ_256;
    int bottom_up;

    for (bottom_up = 0; bottom_up < 2; bottom_up++) {
        struct mmsim_memblock *m = bottom_up ? mb_new() : mb;

        mmsim_memblock_set_bottom_up(m, bottom_up);
        setup_memblock(m);
        for (base = MEM_BASE; base < MEM_BASE + MEM_SIZE; base += 2 * gap)
            assert_int_equal(mmsim_memblock_reserve(m, base + gap, gap), 0);
        state_get(m, &before);
        assert_int_equal(mb_alloc(m, gap + 1, CACHE, &a), MMSIM_ENOMEM);
        assert_unchanged_since(m, &before);
        state_put(&before);
        assert_int_equal(mb_alloc(m, gap, CACHE, &a), 0);
        assert_int_equal(a,
                         bottom_up ? MEM_BASE : MEM_BASE + MEM_SIZE - 2 * gap);
        if (bottom_up)
            mmsim_memblock_destroy(m);
    }
}

static void test_alloc_all_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, MEM_BASE, MEM_SIZE), 0);
    assert_int_equal(mb_alloc(mb, SZ_1K, CACHE, &a), MMSIM_ENOMEM);
    assert_type(mb, RSV, 1, MEM_SIZE);
}

/* Exactly the free room left: it is used and everything merges. */
static void test_alloc_limited_space(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;
    int bottom_up;

    for (bottom_up = 0; bottom_up < 2; bottom_up++) {
        struct mmsim_memblock *m = bottom_up ? mb_new() : mb;
        uint64_t rbase = bottom_up ? MEM_BASE + CACHE : MEM_BASE;

        mmsim_memblock_set_bottom_up(m, bottom_up);
        setup_memblock(m);
        assert_int_equal(
            mmsim_memblock_reserve_kern(m, rbase, MEM_SIZE - CACHE), 0);
        assert_int_equal(mb_alloc(m, CACHE, CACHE, &a), 0);
        assert_int_equal(a, bottom_up ? MEM_BASE : MEM_BASE + MEM_SIZE - CACHE);
        assert_rgn(m, RSV, 0, MEM_BASE, MEM_SIZE);
        assert_type(m, RSV, 1, MEM_SIZE);
        if (bottom_up)
            mmsim_memblock_destroy(m);
    }
}

static void test_alloc_no_space(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, MEM_BASE, MEM_SIZE - CACHE), 0);
    assert_int_equal(mb_alloc(mb, 2 * CACHE, CACHE, &a), MMSIM_ENOMEM);
    assert_type(mb, RSV, 1, MEM_SIZE - CACHE);
}

static void test_alloc_no_memory(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    assert_int_equal(mb_alloc(mb, SZ_1K, CACHE, &a), MMSIM_ENOMEM);
    assert_type(mb, RSV, 0, 0);
}

static void test_alloc_too_large(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_memblock(mb);
    assert_int_equal(mb_alloc(mb, MEM_SIZE + 1, CACHE, &a), MMSIM_ENOMEM);
    assert_int_equal(mb_alloc(mb, MEM_SIZE, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE);
}

/* A size that isn't a multiple of the alignment: the base still is. */
static void test_alloc_top_down_misaligned(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mb_alloc(mb, 100, CACHE, &a), 0);
    assert_int_equal(a, end - 2 * CACHE);
    assert_rgn(mb, RSV, 0, end - 2 * CACHE, 100);
    assert_int_equal(mb_alloc(mb, SZ_64, SZ_16K, &a), 0);
    assert_int_equal(a % SZ_16K, 0);
    assert_int_equal(a, (end - SZ_16K) & ~(SZ_16K - 1));
}

/* align 0 means SMP_CACHE_BYTES; anything not a power of two is refused. */
static void test_alloc_bad_args(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mb_alloc(mb, 0, CACHE, &a), MMSIM_EINVAL);
    assert_int_equal(mb_alloc(mb, SZ_64, 3, &a), MMSIM_EINVAL);
    assert_int_equal(mmsim_memblock_alloc_try_nid(
                         mb, SZ_64, CACHE, 0, ACCESSIBLE, MMSIM_MAX_NODES, &a),
                     MMSIM_EINVAL);
    assert_type(mb, RSV, 0, 0);
    assert_int_equal(mb_alloc(mb, 100, 0, &a), 0);
    assert_int_equal(a, end - 2 * CACHE);
}

/* The first page is never handed out: 0 is the kernel's "failed". */
static void test_alloc_skips_first_page(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    assert_int_equal(mmsim_memblock_add(mb, 0, SZ_8K), 0);
    mmsim_memblock_set_bottom_up(mb, true);
    assert_int_equal(mb_alloc(mb, SZ_64, CACHE, &a), 0);
    assert_int_equal(a, SZ_4K);
    assert_int_equal(mb_alloc(mb, SZ_4K, CACHE, &a), MMSIM_ENOMEM);
}

/*
 * Allocations are reserved as RSRV_KERN with the node asked for, or no
 * node when they fell back: plain reservations and other nodes' blocks
 * don't merge with them.
 */
static void test_alloc_region_attributes(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, end - CACHE, CACHE), 0);
    assert_int_equal(mb_alloc(mb, CACHE, CACHE, &a), 0);
    assert_int_equal(a, end - 2 * CACHE);
    assert_type(mb, RSV, 2, 2 * CACHE);
    assert_rgn_full(mb, RSV, 0, a, CACHE, NO_NODE, MMSIM_MEMBLOCK_RSRV_KERN);
    assert_rgn_full(mb, RSV, 1, end - CACHE, CACHE, NO_NODE, 0);

    /* Node 0 was asked for but has no memory: the fallback has no node. */
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, CACHE, CACHE, 0, ACCESSIBLE, 0, &a),
        0);
    assert_int_equal(a, end - 3 * CACHE);
    assert_type(mb, RSV, 2, 3 * CACHE);
    assert_rgn_full(mb, RSV, 0, a, 2 * CACHE, NO_NODE,
                    MMSIM_MEMBLOCK_RSRV_KERN);

    /* reserve_kern matches allocations; freeing ignores flags. */
    assert_int_equal(mmsim_memblock_reserve_kern(mb, a - CACHE, CACHE), 0);
    assert_type(mb, RSV, 2, 4 * CACHE);
    assert_int_equal(mmsim_memblock_free(mb, a - CACHE, 4 * CACHE), 0);
    assert_type(mb, RSV, 0, 0);
}

/* ---- allocation, bottom-up -------------------------------------------- */

static void test_alloc_bottom_up_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    mmsim_memblock_set_bottom_up(mb, true);
    assert_true(mmsim_memblock_bottom_up(mb));
    setup_memblock(mb);
    assert_int_equal(mb_alloc(mb, SZ_2K, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE);
    assert_rgn(mb, RSV, 0, MEM_BASE, SZ_2K);
    assert_type(mb, RSV, 1, SZ_2K);
}

static void test_alloc_bottom_up_disjoint(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1 = MEM_BASE + SZ_2K;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, MEM_BASE, SZ_16), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, r1, SZ_512), 0);
    assert_int_equal(mb_alloc(mb, SZ_16, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE + CACHE);
    assert_type(mb, RSV, 3, 2 * SZ_16 + SZ_512);
    assert_rgn(mb, RSV, 1, MEM_BASE + CACHE, SZ_16);
}

static void test_alloc_bottom_up_before(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, MEM_BASE + CACHE, CACHE),
                     0);
    assert_int_equal(mb_alloc(mb, CACHE, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE);
    assert_rgn(mb, RSV, 0, MEM_BASE, 2 * CACHE);
    assert_type(mb, RSV, 1, 2 * CACHE);
}

static void test_alloc_bottom_up_after(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, MEM_BASE, CACHE), 0);
    assert_int_equal(mb_alloc(mb, 2 * CACHE, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE + CACHE);
    assert_rgn(mb, RSV, 0, MEM_BASE, 3 * CACHE);
    assert_type(mb, RSV, 1, 3 * CACHE);
}

static void test_alloc_bottom_up_second_fit(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1 = MEM_BASE + CACHE;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, SZ_512), 0);
    assert_int_equal(mb_alloc(mb, SZ_2K, CACHE, &a), 0);
    assert_int_equal(a, r1 + SZ_512);
    assert_rgn(mb, RSV, 0, r1, SZ_512 + SZ_2K);
    assert_type(mb, RSV, 1, SZ_512 + SZ_2K);
}

static void test_alloc_bottom_up_in_between(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1 = MEM_BASE + SZ_1K, r2 = r1 + SZ_512 + CACHE;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, MEM_BASE, SZ_1K), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, SZ_512), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r2, SZ_256), 0);
    assert_int_equal(mb_alloc(mb, CACHE, CACHE, &a), 0);
    assert_int_equal(a, r1 + SZ_512);
    assert_rgn(mb, RSV, 0, MEM_BASE, SZ_1K + SZ_512 + CACHE + SZ_256);
    assert_type(mb, RSV, 1, SZ_1K + SZ_512 + CACHE + SZ_256);
}

/* Memory that starts off the alignment: the base is rounded up. */
static void test_alloc_bottom_up_misaligned_start(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    mmsim_memblock_set_bottom_up(mb, true);
    assert_int_equal(mmsim_memblock_add(mb, MEM_BASE + 8, MEM_SIZE), 0);
    assert_int_equal(mb_alloc(mb, SZ_128, CACHE, &a), 0);
    assert_int_equal(a, MEM_BASE + CACHE);
}

/* ---- allocation within [min_addr, max_addr) (alloc_nid_api.c) --------- */

static void test_try_nid_top_down_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    setup_memblock(mb);
    min = MEM_BASE + 2 * CACHE;
    max = min + SZ_512;
    assert_int_equal(mb_alloc_nid(mb, SZ_128, min, max, &a), 0);
    assert_int_equal(a, max - SZ_128);
    assert_rgn(mb, RSV, 0, max - SZ_128, SZ_128);
    assert_type(mb, RSV, 1, SZ_128);
}

static void test_try_nid_top_down_end_misaligned(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    setup_memblock(mb);
    min = MEM_BASE + 2 * CACHE;
    max = min + SZ_512 + SZ_2;
    assert_int_equal(mb_alloc_nid(mb, SZ_128, min, max, &a), 0);
    assert_int_equal(a, max - SZ_128 - SZ_2);
    assert_true(a + SZ_128 < max);
}

static void test_try_nid_exact_address(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;
    int bottom_up;

    for (bottom_up = 0; bottom_up < 2; bottom_up++) {
        struct mmsim_memblock *m = bottom_up ? mb_new() : mb;

        mmsim_memblock_set_bottom_up(m, bottom_up);
        setup_memblock(m);
        min = MEM_BASE + CACHE;
        max = min + SZ_1K;
        assert_int_equal(mb_alloc_nid(m, SZ_1K, min, max, &a), 0);
        assert_int_equal(a, min);
        assert_type(m, RSV, 1, SZ_1K);
        if (bottom_up)
            mmsim_memblock_destroy(m);
    }
}

/* Too narrow: memblock_alloc_internal() drops min_addr and retries. */
static void test_try_nid_top_down_narrow_range(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    setup_memblock(mb);
    min = MEM_BASE + SZ_512;
    max = min + CACHE;
    assert_int_equal(mb_alloc_nid(mb, SZ_256, min, max, &a), 0);
    assert_int_equal(a, max - SZ_256);
    assert_type(mb, RSV, 1, SZ_256);
}

static void test_try_nid_bottom_up_narrow_range(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    min = MEM_BASE + SZ_512;
    max = min + CACHE;
    assert_int_equal(mb_alloc_nid(mb, SZ_256, min, max, &a), 0);
    assert_int_equal(a, MEM_BASE);
}

/* The exact-nid variant drops min_addr too (only the node is exact). */
static void test_exact_nid_narrow_range(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    setup_memblock(mb);
    min = MEM_BASE + SZ_512;
    max = min + CACHE;
    assert_int_equal(mmsim_memblock_alloc_exact_nid(mb, SZ_256, CACHE, min, max,
                                                    NO_NODE, &a),
                     0);
    assert_int_equal(a, max - SZ_256);
}

static void test_try_nid_low_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_memblock(mb);
    assert_int_equal(mb_alloc_nid(mb, SZ_1K, MEM_BASE, MEM_BASE + CACHE, &a),
                     MMSIM_ENOMEM);
    assert_type(mb, RSV, 0, 0);
}

static void test_try_nid_min_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max, rbase;

    setup_memblock(mb);
    max = mmsim_memblock_end_of_dram(mb);
    min = max - SZ_64;
    rbase = min - SZ_128;
    assert_int_equal(mmsim_memblock_reserve_kern(mb, rbase, SZ_128), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_64, min, max, &a), 0);
    assert_int_equal(a, min);
    assert_rgn(mb, RSV, 0, rbase, SZ_128 + SZ_64);
    assert_type(mb, RSV, 1, SZ_128 + SZ_64);
}

static void test_try_nid_max_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    setup_memblock(mb);
    max = mmsim_memblock_end_of_dram(mb) - SZ_64;
    min = max - SZ_128;
    assert_int_equal(mmsim_memblock_reserve_kern(mb, max, SZ_64), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_128, min, max, &a), 0);
    assert_int_equal(a, min);
    assert_rgn(mb, RSV, 0, min, SZ_128 + SZ_64);
    assert_type(mb, RSV, 1, SZ_128 + SZ_64);
}

static void test_try_nid_top_down_reserved_with_space(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1, r2, min, max;

    setup_memblock(mb);
    r1 = mmsim_memblock_end_of_dram(mb) - 2 * CACHE;
    r2 = r1 - (SZ_64 + CACHE + SZ_128);
    min = r2 + SZ_128;
    max = r1;
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, CACHE), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r2, SZ_128), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_64, min, max, &a), 0);
    assert_int_equal(a, max - SZ_64);
    assert_rgn(mb, RSV, 1, max - SZ_64, CACHE + SZ_64);
    assert_rgn(mb, RSV, 0, r2, SZ_128);
    assert_type(mb, RSV, 2, CACHE + SZ_128 + SZ_64);
}

static void test_try_nid_reserved_full_merge(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1, r2;

    setup_memblock(mb);
    r1 = mmsim_memblock_end_of_dram(mb) - 2 * CACHE;
    r2 = r1 - (SZ_64 + SZ_128);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, CACHE), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r2, SZ_128), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_64, r2 + SZ_128, r1, &a), 0);
    assert_rgn(mb, RSV, 0, r2, CACHE + SZ_128 + SZ_64);
    assert_type(mb, RSV, 1, CACHE + SZ_128 + SZ_64);
}

/* No room in range: min_addr dropped, it goes just below r2. */
static void test_try_nid_top_down_reserved_no_space(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1, r2;

    setup_memblock(mb);
    r1 = mmsim_memblock_end_of_dram(mb) - 2 * CACHE;
    r2 = r1 - (SZ_128 + CACHE);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r1, CACHE), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, r2, SZ_128), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_256, r2 + SZ_128, r1, &a), 0);
    assert_int_equal(a, r2 - SZ_256);
    assert_rgn(mb, RSV, 1, r1, CACHE);
    assert_rgn(mb, RSV, 0, r2 - SZ_256, SZ_128 + SZ_256);
    assert_type(mb, RSV, 2, CACHE + SZ_128 + SZ_256);
}

static void test_try_nid_reserved_all(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, r1, r2_size;

    setup_memblock(mb);
    r1 = mmsim_memblock_end_of_dram(mb) - CACHE;
    r2_size = MEM_SIZE - (CACHE + CACHE);
    assert_int_equal(mmsim_memblock_reserve(mb, r1, CACHE), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, MEM_BASE, r2_size), 0);
    assert_int_equal(mb_alloc_nid(mb, SZ_256, MEM_BASE + r2_size, r1, &a),
                     MMSIM_ENOMEM);
    assert_type(mb, RSV, 2, CACHE + r2_size);
}

static void test_try_nid_cap_max(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;
    int bottom_up;

    for (bottom_up = 0; bottom_up < 2; bottom_up++) {
        struct mmsim_memblock *m = bottom_up ? mb_new() : mb;

        mmsim_memblock_set_bottom_up(m, bottom_up);
        setup_memblock(m);
        end = mmsim_memblock_end_of_dram(m);
        assert_int_equal(mb_alloc_nid(m, SZ_256, end - SZ_1K, end + SZ_256, &a),
                         0);
        assert_int_equal(a, bottom_up ? end - SZ_1K : end - SZ_256);
        if (bottom_up)
            mmsim_memblock_destroy(m);
    }
}

static void test_try_nid_cap_min(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, end;
    int bottom_up;

    for (bottom_up = 0; bottom_up < 2; bottom_up++) {
        struct mmsim_memblock *m = bottom_up ? mb_new() : mb;

        mmsim_memblock_set_bottom_up(m, bottom_up);
        setup_memblock(m);
        end = mmsim_memblock_end_of_dram(m);
        assert_int_equal(mb_alloc_nid(m, SZ_1K, MEM_BASE - SZ_256, end, &a), 0);
        assert_int_equal(a, bottom_up ? MEM_BASE : end - SZ_1K);
        if (bottom_up)
            mmsim_memblock_destroy(m);
    }
}

static void test_try_nid_bottom_up_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    min = MEM_BASE + 2 * CACHE;
    max = min + SZ_512;
    assert_int_equal(mb_alloc_nid(mb, SZ_128, min, max, &a), 0);
    assert_int_equal(a, min);
    assert_rgn(mb, RSV, 0, min, SZ_128);
}

static void test_try_nid_bottom_up_start_misaligned(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min, max;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_memblock(mb);
    min = MEM_BASE + CACHE + 1;
    max = min + SZ_512;
    assert_int_equal(mb_alloc_nid(mb, SZ_128, min, max, &a), 0);
    assert_int_equal(a, MEM_BASE + 2 * CACHE);
}

/* ---- current_limit ---------------------------------------------------- */

static void test_current_limit(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, limit = MEM_BASE + SZ_4K, end;

    setup_memblock(mb);
    end = mmsim_memblock_end_of_dram(mb);
    mmsim_memblock_set_current_limit(mb, limit);
    assert_int_equal(mmsim_memblock_get_current_limit(mb), limit);

    /* ACCESSIBLE means current_limit. */
    assert_int_equal(mb_alloc(mb, SZ_256, CACHE, &a), 0);
    assert_int_equal(a, limit - SZ_256);
    /* alloc_try_nid clamps an explicit max_addr to it. */
    assert_int_equal(mb_alloc_nid(mb, SZ_256, 0, ANYWHERE, &a), 0);
    assert_int_equal(a, limit - 2 * SZ_256);
    /* phys_alloc_range honours it only through ACCESSIBLE... */
    assert_int_equal(
        mmsim_memblock_phys_alloc_range(mb, SZ_256, CACHE, 0, ACCESSIBLE, &a),
        0);
    assert_int_equal(a, limit - 3 * SZ_256);
    assert_int_equal(
        mmsim_memblock_phys_alloc_range(mb, SZ_256, CACHE, 0,
                                        MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE, &a),
        0);
    assert_int_equal(a, limit - 4 * SZ_256);
    /* ...and ignores it for an explicit end. */
    assert_int_equal(
        mmsim_memblock_phys_alloc_range(mb, SZ_256, CACHE, 0, ANYWHERE, &a), 0);
    assert_int_equal(a, end - SZ_256);

    /* A limit below all memory: nothing fits. */
    mmsim_memblock_set_current_limit(mb, MEM_BASE);
    assert_int_equal(mb_alloc(mb, SZ_256, CACHE, &a), MMSIM_ENOMEM);
}

/* ---- NUMA placement (alloc_nid_api.c numa, alloc_exact_nid_api.c) ----- */

/* Four nodes side by side; touching, but never merged (nids differ). */
static const uint64_t numa_base[4] = {0x100000, 0x140000, 0x150000, 0x1d0000};
static const uint64_t numa_size[4] = {0x40000, 0x10000, 0x80000, 0x20000};

static uint64_t numa_end(int nid)
{
    return numa_base[nid] + numa_size[nid];
}

static void setup_numa(struct mmsim_memblock *mb)
{
    int nid;

    for (nid = 0; nid < 4; nid++)
        assert_int_equal(
            mmsim_memblock_add_node(mb, numa_base[nid], numa_size[nid], nid, 0),
            0);
    assert_int_equal(mmsim_memblock_count(mb, MEM), 4);
}

static void test_numa_top_down_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;
    int nid;

    setup_numa(mb);
    for (nid = 0; nid < 4; nid++) {
        assert_int_equal(mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, 0,
                                                      ACCESSIBLE, nid, &a),
                         0);
        assert_int_equal(a, numa_end(nid) - SZ_4K);
    }
    assert_type(mb, RSV, 4, 4 * SZ_4K);
}

static void test_numa_bottom_up_simple(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    mmsim_memblock_set_bottom_up(mb, true);
    setup_numa(mb);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 2, &a),
        0);
    assert_int_equal(a, numa_base[2]);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 3, &a),
        0);
    assert_int_equal(a, numa_base[3]);
}

/* Too big for node 1: try_nid falls back (top-down: the highest fit). */
static void test_numa_small_node(void **state)
{
    struct mmsim_memblock *mb = *state;
    struct mb_state before;
    uint64_t a = 0, size = 2 * numa_size[1];

    setup_numa(mb);
    state_get(mb, &before);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, size, CACHE, 0, ACCESSIBLE, 1, &a),
        MMSIM_ENOMEM);
    assert_unchanged_since(mb, &before);
    state_put(&before);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, size, CACHE, 0, ACCESSIBLE, 1, &a), 0);
    assert_int_equal(a, numa_end(3) - size);
}

static void test_numa_node_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_numa(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, numa_base[1], numa_size[1]), 0);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 1, &a),
        MMSIM_ENOMEM);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 1, &a),
        0);
    assert_int_equal(a, numa_end(3) - SZ_4K);
}

/* Upper half of node 1 taken: the block goes just below and merges. */
static void test_numa_part_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, half = numa_size[1] / 2;

    setup_numa(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, numa_base[1] + half, half), 0);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 1, &a),
        0);
    assert_int_equal(a, numa_base[1] + half - SZ_4K);
    /* Touching, but node and RSRV_KERN differ: no merge. */
    assert_type(mb, RSV, 2, half + SZ_4K);
    assert_rgn_full(mb, RSV, 0, a, SZ_4K, 1, MMSIM_MEMBLOCK_RSRV_KERN);
    assert_rgn_full(mb, RSV, 1, numa_base[1] + half, half, NO_NODE, 0);
    /* The next one on node 1 merges with the first. */
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 1, &a),
        0);
    assert_type(mb, RSV, 2, half + 2 * SZ_4K);
    assert_rgn_full(mb, RSV, 0, a, 2 * SZ_4K, 1, MMSIM_MEMBLOCK_RSRV_KERN);
}

/* The range spans nodes 1 and 2; asked for node 1, it stays in node 1. */
static void test_numa_split_range(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min = numa_end(1) - SZ_8K, max = numa_base[2] + SZ_64K;

    setup_numa(mb);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, min, max, 1, &a), 0);
    assert_int_equal(a, numa_end(1) - SZ_4K);
    mmsim_memblock_set_bottom_up(mb, true);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, min, max, 2, &a), 0);
    assert_int_equal(a, numa_base[2]);
}

/*
 * The range lies inside node 2 and node 1 is asked for: try_nid keeps the
 * range and gives up the node; exact_nid keeps the node and gives up
 * min_addr (memblock_alloc_internal()'s retry).
 */
static void test_numa_no_overlap(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, min = numa_base[2] + SZ_64K, max = min + SZ_64K;

    setup_numa(mb);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, min, max, 1, &a), 0);
    assert_int_equal(a, max - SZ_4K);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, min, max, 1, &a), 0);
    assert_int_equal(a, numa_end(1) - SZ_4K);
}

/* A node without memory: exact fails, try_nid goes anywhere. */
static void test_numa_memoryless_node(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_numa(mb);
    assert_int_equal(
        mmsim_memblock_alloc_exact_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 5, &a),
        MMSIM_ENOMEM);
    assert_type(mb, RSV, 0, 0);
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, CACHE, 0, ACCESSIBLE, 5, &a),
        0);
    assert_int_equal(a, numa_end(3) - SZ_4K);
}

/* memblock_alloc_range_nid() with and without the fallback, directly. */
static void test_alloc_range_nid_exact_flag(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    setup_numa(mb);
    assert_int_equal(mmsim_memblock_reserve(mb, numa_base[0], numa_size[0]), 0);
    assert_int_equal(mmsim_memblock_alloc_range_nid(mb, SZ_4K, CACHE, 0,
                                                    ANYWHERE, 0, true, &a),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_memblock_alloc_range_nid(mb, SZ_4K, CACHE, 0,
                                                    ANYWHERE, 0, false, &a),
                     0);
    assert_int_equal(a, numa_end(3) - SZ_4K);
}

/* ---- set_node and flags ----------------------------------------------- */

static void test_set_node_split(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_set_node(mb, 0x140000, 0x40000, 1), 0);
    assert_type(mb, MEM, 3, SZ_1M);
    assert_rgn_full(mb, MEM, 0, 0x100000, 0x40000, NO_NODE, 0);
    assert_rgn_full(mb, MEM, 1, 0x140000, 0x40000, 1, 0);
    assert_rgn_full(mb, MEM, 2, 0x180000, 0x80000, NO_NODE, 0);

    /* One node over the whole range: everything merges back. */
    assert_int_equal(mmsim_memblock_set_node(mb, 0, SZ_1G, 0), 0);
    assert_type(mb, MEM, 1, SZ_1M);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_1M, 0, 0);
}

/* Setting the node a region already has leaves it whole. */
static void test_set_node_same_node(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, 2, 0), 0);
    assert_int_equal(mmsim_memblock_set_node(mb, 0x140000, 0x40000, 2), 0);
    assert_type(mb, MEM, 1, SZ_1M);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_1M, 2, 0);
}

/* set_node across two regions and the hole between them. */
static void test_set_node_across_regions(void **state)
{
    struct mmsim_memblock *mb = *state;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, 4 * SZ_1M, SZ_1M), 0);
    assert_int_equal(
        mmsim_memblock_set_node(mb, SZ_1M + SZ_512 * SZ_1K, 3 * SZ_1M, 1), 0);
    assert_type(mb, MEM, 4, SZ_2M);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_512 * SZ_1K, NO_NODE, 0);
    assert_rgn_full(mb, MEM, 1, SZ_1M + SZ_512 * SZ_1K, SZ_512 * SZ_1K, 1, 0);
    assert_rgn_full(mb, MEM, 2, 4 * SZ_1M, SZ_512 * SZ_1K, 1, 0);
    assert_rgn_full(mb, MEM, 3, 4 * SZ_1M + SZ_512 * SZ_1K, SZ_512 * SZ_1K,
                    NO_NODE, 0);
    assert_int_equal(mmsim_memblock_set_node(mb, 0, SZ_1M, -2), MMSIM_EINVAL);
}

static void test_mark_nomap(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_64K), 0);
    assert_int_equal(mmsim_memblock_mark_nomap(mb, SZ_1M + SZ_32K, SZ_32K), 0);
    assert_type(mb, MEM, 2, SZ_64K);
    assert_rgn_full(mb, MEM, 1, SZ_1M + SZ_32K, SZ_32K, NO_NODE,
                    MMSIM_MEMBLOCK_NOMAP);
    /* NOMAP memory is never allocated from. */
    assert_int_equal(mb_alloc(mb, SZ_4K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_32K - SZ_4K);
    assert_true(mmsim_memblock_is_memory(mb, SZ_1M + SZ_32K));

    assert_int_equal(mmsim_memblock_clear_nomap(mb, SZ_1M, SZ_64K), 0);
    assert_type(mb, MEM, 1, SZ_64K);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_64K, NO_NODE, 0);
}

static void test_mark_hotplug(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_64K), 0);
    assert_int_equal(mmsim_memblock_mark_hotplug(mb, SZ_1M + SZ_16K, SZ_16K),
                     0);
    assert_type(mb, MEM, 3, SZ_64K);
    assert_rgn_full(mb, MEM, 1, SZ_1M + SZ_16K, SZ_16K, NO_NODE,
                    MMSIM_MEMBLOCK_HOTPLUG);
    /*
     * No movable_node: hotpluggable memory is allocated from as usual.
     * A block never straddles two regions, so 32K can't use the first
     * two 16K ones.
     */
    mmsim_memblock_set_bottom_up(mb, true);
    assert_int_equal(mb_alloc(mb, SZ_32K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_32K);
    assert_int_equal(mb_alloc(mb, SZ_16K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M);
    assert_int_equal(mb_alloc(mb, SZ_16K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_16K);
    assert_int_equal(mmsim_memblock_clear_hotplug(mb, 0, PHYS_MAX), 0);
    assert_type(mb, MEM, 1, SZ_64K);
}

/* mark_mirror makes every later search try mirrored memory first. */
static void test_mark_mirror(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_64K), 0);
    assert_int_equal(mmsim_memblock_mark_mirror(mb, SZ_1M, SZ_16K), 0);
    assert_rgn_full(mb, MEM, 0, SZ_1M, SZ_16K, NO_NODE, MMSIM_MEMBLOCK_MIRROR);
    assert_int_equal(mb_alloc(mb, SZ_8K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_8K);
    assert_int_equal(mb_alloc(mb, SZ_8K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M);
    /* Mirrored memory is gone: any memory will do. */
    assert_int_equal(mb_alloc(mb, SZ_8K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_64K - SZ_8K);
}

/* DRIVER_MANAGED memory (given at add time) is skipped like NOMAP. */
static void test_driver_managed_skipped(void **state)
{
    struct mmsim_memblock *mb = *state;
    uint64_t a = 0, s = 0, e = 0, cursor = 0;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_64K), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, SZ_2M, SZ_64K, 0,
                                             MMSIM_MEMBLOCK_DRIVER_MANAGED),
                     0);
    assert_int_equal(mb_alloc(mb, SZ_4K, CACHE, &a), 0);
    assert_int_equal(a, SZ_1M + SZ_64K - SZ_4K);
    assert_true(
        mmsim_memblock_next_free_range(mb, NO_NODE, &cursor, &s, &e, NULL));
    assert_int_equal(s, SZ_1M);
    assert_false(
        mmsim_memblock_next_free_range(mb, NO_NODE, &cursor, &s, &e, NULL));
}

/* ---- queries and iteration -------------------------------------------- */

static void test_queries(void **state)
{
    struct mmsim_memblock *mb = *state;
    struct mmsim_memblock_region r;

    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_add(mb, SZ_4M, SZ_1M), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M + SZ_4K, SZ_4K), 0);

    assert_int_equal(mmsim_memblock_start_of_dram(mb), SZ_1M);
    assert_int_equal(mmsim_memblock_end_of_dram(mb), 5 * SZ_1M);
    assert_true(mmsim_memblock_is_memory(mb, SZ_1M));
    assert_true(mmsim_memblock_is_memory(mb, SZ_2M - 1));
    assert_false(mmsim_memblock_is_memory(mb, SZ_2M));
    assert_true(mmsim_memblock_is_memory(mb, SZ_4M + 1));
    assert_false(mmsim_memblock_is_memory(mb, 5 * SZ_1M));
    assert_false(mmsim_memblock_is_reserved(mb, SZ_1M));
    assert_true(mmsim_memblock_is_reserved(mb, SZ_1M + SZ_4K));
    assert_false(mmsim_memblock_is_reserved(mb, SZ_1M + SZ_8K));

    assert_true(mmsim_memblock_is_region_memory(mb, SZ_1M, SZ_1M));
    assert_false(mmsim_memblock_is_region_memory(mb, SZ_1M, SZ_1M + 1));
    assert_false(mmsim_memblock_is_region_memory(mb, SZ_2M, SZ_4K));
    assert_false(mmsim_memblock_is_region_memory(mb, SZ_4M, PHYS_MAX));

    assert_true(mmsim_memblock_is_region_reserved(mb, SZ_1M, SZ_4K + 1));
    assert_false(mmsim_memblock_is_region_reserved(mb, SZ_1M, SZ_4K));
    assert_false(mmsim_memblock_is_region_reserved(mb, SZ_1M + SZ_8K, SZ_4K));
    assert_true(mmsim_memblock_is_region_reserved(mb, 0, PHYS_MAX));

    assert_int_equal(mmsim_memblock_region(mb, MEM, 2, &r), MMSIM_ERANGE);
    assert_int_equal(
        mmsim_memblock_region(mb, (enum mmsim_memblock_type)7, 0, &r),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_memblock_count(mb, (enum mmsim_memblock_type)7), 0);
    assert_int_equal(mmsim_memblock_max(mb, (enum mmsim_memblock_type)7), 0);
}

static void test_free_range_iteration(void **state)
{
    struct mmsim_memblock *mb = *state;
    const uint64_t half = SZ_512 * SZ_1K;
    const uint64_t want[4][2] = {
        {SZ_1M, SZ_1M + half},
        {SZ_2M + half, 3 * SZ_1M},
        {4 * SZ_1M + half, 4 * SZ_1M + 3 * half / 2},
        {4 * SZ_1M + 3 * half / 2 + SZ_64K, 5 * SZ_1M},
    };
    const int want_nid[4] = {0, 1, 1, 1};
    uint64_t cursor = 0, s = 0, e = 0;
    int n = -5;
    unsigned i;

    assert_int_equal(mmsim_memblock_add_node(mb, SZ_1M, SZ_1M, 0, 0), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, SZ_2M, SZ_1M, 1, 0), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, 4 * SZ_1M, SZ_1M, 1, 0), 0);
    assert_int_equal(mmsim_memblock_mark_nomap(mb, 4 * SZ_1M, half), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M + half, SZ_1M), 0);
    assert_int_equal(
        mmsim_memblock_reserve(mb, 4 * SZ_1M + 3 * half / 2, SZ_64K), 0);

    for (i = 0; i < 4; i++) {
        assert_true(
            mmsim_memblock_next_free_range(mb, NO_NODE, &cursor, &s, &e, &n));
        assert_int_equal(s, want[i][0]);
        assert_int_equal(e, want[i][1]);
        assert_int_equal(n, want_nid[i]);
    }
    assert_false(
        mmsim_memblock_next_free_range(mb, NO_NODE, &cursor, &s, &e, &n));
    /* Finished stays finished. */
    assert_false(
        mmsim_memblock_next_free_range(mb, NO_NODE, &cursor, &s, &e, &n));

    /* Node filter. */
    cursor = 0;
    for (i = 1; i < 4; i++) {
        assert_true(mmsim_memblock_next_free_range(mb, 1, &cursor, &s, &e, &n));
        assert_int_equal(s, want[i][0]);
        assert_int_equal(e, want[i][1]);
    }
    assert_false(mmsim_memblock_next_free_range(mb, 1, &cursor, &s, &e, &n));
    cursor = 0;
    assert_false(
        mmsim_memblock_next_free_range(mb, 3, &cursor, NULL, NULL, NULL));
}

/* ---- debugfs ---------------------------------------------------------- */

static const char debugfs_memory[] =
    "   0: 0x0000000000001000..0x000000000009ffff    0 NONE\n"
    "   1: 0x0000000000100000..0x00000000001fffff    0 NONE\n"
    "   2: 0x0000000000200000..0x00000000002fffff    0 NOMAP\n"
    "   3: 0x0000000000300000..0x000000003fffffff    0 NONE\n"
    "   4: 0x0000000100000000..0x000000013fffffff    1 HOTPLUG\n"
    "   5: 0x0000000200000000..0x0000000200000fff    x NONE\n"
    "   6: 0x0000000300000000..0x0000000300000fff    2 MIRROR\n"
    "   7: 0x0000000400000000..0x0000000400000fff    3 DRV_MNG\n"
    "   8: 0x0000000500000000..0x0000000500000fff   63 RSV_NIT\n"
    "   9: 0x0000000600000000..0x0000000600000fff    0 UNKNOWN\n"
    "  10: 0x0000000700000000..0x0000000700000fff    1 KHO_SCRATCH\n"
    "  11: 0x0000000800000000..0x0000000800000fff    x RSV_KERN\n";

static const char debugfs_reserved[] =
    "   0: 0x0000000000001000..0x0000000000001fff    x NONE\n"
    "   1: 0x0000000001000000..0x00000000011fffff    x NONE\n"
    "   2: 0x0000000002000000..0x0000000002000fff    x RSV_KERN\n"
    "   3: 0x000000003ffff000..0x000000003fffffff    0 RSV_KERN\n"
    "   4: 0x0000000700000000..0x0000000700000fff    1 RSV_KERN\n";

static void setup_debugfs_layout(struct mmsim_memblock *mb)
{
    uint64_t a = 0;

    assert_int_equal(mmsim_memblock_add_node(mb, 0x1000, 0x9f000, 0, 0), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x100000, 0x3ff00000, 0, 0),
                     0);
    assert_int_equal(mmsim_memblock_mark_nomap(mb, 0x200000, 0x100000), 0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x100000000, SZ_1G, 1,
                                             MMSIM_MEMBLOCK_HOTPLUG),
                     0);
    assert_int_equal(mmsim_memblock_add(mb, 0x200000000, SZ_4K), 0);
    assert_int_equal(
        mmsim_memblock_add_node(mb, 0x300000000, SZ_4K, 2,
                                MMSIM_MEMBLOCK_MIRROR | MMSIM_MEMBLOCK_NOMAP),
        0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x400000000, SZ_4K, 3,
                                             MMSIM_MEMBLOCK_DRIVER_MANAGED),
                     0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x500000000, SZ_4K, 63,
                                             MMSIM_MEMBLOCK_RSRV_NOINIT),
                     0);
    /* 0x80 has no name (Linux 6.18's RSRV_HUGETLB has none either). */
    assert_int_equal(mmsim_memblock_add_node(mb, 0x600000000, SZ_4K, 0, 0x80u),
                     0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x700000000, SZ_4K, 1,
                                             MMSIM_MEMBLOCK_KHO_SCRATCH),
                     0);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x800000000, SZ_4K, NO_NODE,
                                             MMSIM_MEMBLOCK_RSRV_KERN),
                     0);
    assert_int_equal(mmsim_memblock_reserve(mb, 0x1000, 0x1000), 0);
    assert_int_equal(mmsim_memblock_reserve(mb, 0x1000000, SZ_2M), 0);
    assert_int_equal(mmsim_memblock_reserve_kern(mb, 0x2000000, SZ_4K), 0);
    /* Node 0 below 1G: the top of the big region (0x80 is above). */
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, SZ_4K, 0, SZ_1G, 0, &a), 0);
    assert_int_equal(a, 0x3ffff000);
    /* Node 1 below 32G: its scratch region is the highest fit. */
    assert_int_equal(
        mmsim_memblock_alloc_try_nid(mb, SZ_4K, SZ_4K, 0, 0x800000000, 1, &a),
        0);
    assert_int_equal(a, 0x700000000);
}

static void test_debugfs_show(void **state)
{
    struct mmsim_memblock *mb = *state;
    char buf[2048];
    int n;

    setup_debugfs_layout(mb);
    n = mmsim_memblock_debugfs_show(mb, MEM, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen(debugfs_memory));
    assert_string_equal(buf, debugfs_memory);

    n = mmsim_memblock_debugfs_show(mb, RSV, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen(debugfs_reserved));
    assert_string_equal(buf, debugfs_reserved);
}

/* snprintf() semantics: full length back, cut text, always terminated. */
static void test_debugfs_truncation(void **state)
{
    struct mmsim_memblock *mb = *state;
    const int full = (int)strlen(debugfs_memory);
    char buf[2048];
    size_t len;

    setup_debugfs_layout(mb);
    assert_int_equal(mmsim_memblock_debugfs_show(mb, MEM, NULL, 0), full);

    for (len = 1; len <= (size_t)full + 1; len += 7) {
        memset(buf, 'Z', sizeof(buf));
        assert_int_equal(mmsim_memblock_debugfs_show(mb, MEM, buf, len), full);
        assert_int_equal(strlen(buf), len - 1);
        assert_memory_equal(buf, debugfs_memory, len - 1);
        /* Nothing written past len. */
        assert_int_equal(buf[len], 'Z');
    }
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(
        mmsim_memblock_debugfs_show(mb, MEM, buf, (size_t)full + 1), full);
    assert_string_equal(buf, debugfs_memory);
    /* One byte short: the last newline is cut. */
    assert_int_equal(mmsim_memblock_debugfs_show(mb, MEM, buf, (size_t)full),
                     full);
    assert_int_equal(strlen(buf), (size_t)full - 1);

    assert_int_equal(mmsim_memblock_debugfs_show(mb, MEM, NULL, 5),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_memblock_debugfs_show(
                         mb, (enum mmsim_memblock_type)9, buf, sizeof(buf)),
                     MMSIM_EINVAL);
}

/* The doubled array shows up in the reserved view, as on a real boot. */
static void test_debugfs_shows_array(void **state)
{
    struct mmsim_memblock *mb = *state;
    const char *want =
        "   0: 0x000000001000e000..0x000000001000ffff    x RSV_KERN\n";
    char buf[256];
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add_node(mb, 0x10000000, SZ_64K, 0, 0), 0);
    for (i = 0; i <= MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        assert_int_equal(
            mmsim_memblock_add_node(mb, SZ_1M + i * SZ_8K, SZ_4K, 0, 0), 0);
    assert_int_equal(mmsim_memblock_debugfs_show(mb, RSV, buf, sizeof(buf)),
                     (int)strlen(want));
    assert_string_equal(buf, want);
}

/* ---- array growth and failures ---------------------------------------- */

/*
 * One range over 128 separate reservations needs 129 new entries: two
 * doublings in one memblock_add_range(). The first array (8K) is taken
 * from the top of memory, the second (12K) below it while the first is
 * still reserved, and then the first is freed.
 */
static void test_reserve_double_doubling(void **state)
{
    struct mmsim_memblock *mb = *state;
    const uint64_t B = SZ_1M, S = SZ_4K, mem = SZ_256 * SZ_1M;
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, mem, SZ_64K), 0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        assert_int_equal(mmsim_memblock_reserve(mb, B + 2 * i * S, S), 0);
    assert_int_equal(mmsim_memblock_count(mb, RSV), 128);
    assert_int_equal(mmsim_memblock_max(mb, RSV), 128);

    assert_int_equal(mmsim_memblock_reserve(mb, B - S, 257 * S), 0);
    assert_int_equal(mmsim_memblock_max(mb, RSV), 512);
    assert_type(mb, RSV, 2, 257 * S + ARRAY_BYTES(512));
    assert_rgn(mb, RSV, 0, B - S, 257 * S);
    assert_rgn(mb, RSV, 1, mem + SZ_64K - SZ_8K - ARRAY_BYTES(512),
               ARRAY_BYTES(512));
}

/*
 * "memory" doubles while "reserved" is full: "reserved" is doubled first,
 * avoiding the pages picked for the memory array, and the two arrays end
 * up side by side (merged) at the top of memory.
 */
static void test_memory_doubling_grows_reserved(void **state)
{
    struct mmsim_memblock *mb = *state;
    const uint64_t big = SZ_256 * SZ_1M, big_size = SZ_1M;
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, big, big_size), 0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        assert_int_equal(mmsim_memblock_reserve(mb, SZ_1M + i * SZ_8K, SZ_4K),
                         0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS - 1; i++)
        assert_int_equal(mmsim_memblock_add(mb, SZ_64M + i * SZ_8K, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_count(mb, RSV), 128);
    assert_int_equal(mmsim_memblock_count(mb, MEM), 128);

    assert_int_equal(mmsim_memblock_add(mb, SZ_1G, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_max(mb, MEM), 256);
    assert_int_equal(mmsim_memblock_max(mb, RSV), 256);
    assert_type(mb, RSV, 129, 128 * SZ_4K + 2 * SZ_8K);
    assert_rgn(mb, RSV, 128, big + big_size - 2 * SZ_8K, 2 * SZ_8K);
}

/*
 * After allow_resize, no simulated room for the doubled array: the call
 * fails with ENOMEM and nothing changes.
 */
static void test_double_array_no_room(void **state)
{
    struct mmsim_memblock *mb = *state;
    struct mb_state before;
    uint64_t a = 0;
    unsigned i;

    mmsim_memblock_allow_resize(mb);
    assert_int_equal(mmsim_memblock_add(mb, SZ_1M, SZ_4K), 0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        assert_int_equal(mmsim_memblock_reserve(mb, SZ_16M + i * SZ_8K, SZ_4K),
                         0);
    state_get(mb, &before);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G, SZ_4K), MMSIM_ENOMEM);
    assert_unchanged_since(mb, &before);
    /* An allocation that would need the doubling fails the same way. */
    assert_int_equal(mb_alloc(mb, SZ_64, CACHE, &a), MMSIM_ENOMEM);
    assert_unchanged_since(mb, &before);
    state_put(&before);

    /* With room (but none above current_limit) it still fails. */
    assert_int_equal(mmsim_memblock_add(mb, SZ_2G, SZ_64K), 0);
    mmsim_memblock_set_current_limit(mb, SZ_2G);
    state_get(mb, &before);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G, SZ_4K), MMSIM_ENOMEM);
    assert_unchanged_since(mb, &before);
    state_put(&before);
    mmsim_memblock_set_current_limit(mb, ANYWHERE);
    assert_int_equal(mmsim_memblock_reserve(mb, SZ_1G, SZ_4K), 0);
    assert_int_equal(mmsim_memblock_max(mb, RSV), 256);
}

/* Operations for the failure sweeps. */
enum op_kind {
    OP_ADD_NODE,
    OP_RESERVE,
    OP_REMOVE,
    OP_FREE,
    OP_SET_NODE,
    OP_MARK_NOMAP,
    OP_ALLOW_RESIZE,
    OP_BOTTOM_UP,
    OP_ALLOC_NID,
    OP_PHYS_ALLOC,
};

struct op {
    enum op_kind kind;
    uint64_t base;
    uint64_t size;
    int nid;
};

struct script {
    struct op *ops;
    size_t n;
    size_t cap;
};

static void script_push(struct script *s, enum op_kind kind, uint64_t base,
                        uint64_t size, int nid)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->ops = realloc(s->ops, s->cap * sizeof(*s->ops));
        assert_non_null(s->ops);
    }
    s->ops[s->n].kind = kind;
    s->ops[s->n].base = base;
    s->ops[s->n].size = size;
    s->ops[s->n].nid = nid;
    s->n++;
}

static int run_op(struct mmsim_memblock *mb, const struct op *op)
{
    uint64_t a = 0;

    switch (op->kind) {
    case OP_ADD_NODE:
        return mmsim_memblock_add_node(mb, op->base, op->size, op->nid, 0);
    case OP_RESERVE:
        return mmsim_memblock_reserve(mb, op->base, op->size);
    case OP_REMOVE:
        return mmsim_memblock_remove(mb, op->base, op->size);
    case OP_FREE:
        return mmsim_memblock_free(mb, op->base, op->size);
    case OP_SET_NODE:
        return mmsim_memblock_set_node(mb, op->base, op->size, op->nid);
    case OP_MARK_NOMAP:
        return mmsim_memblock_mark_nomap(mb, op->base, op->size);
    case OP_ALLOW_RESIZE:
        mmsim_memblock_allow_resize(mb);
        return 0;
    case OP_BOTTOM_UP:
        mmsim_memblock_set_bottom_up(mb, op->nid != 0);
        return 0;
    case OP_ALLOC_NID:
        return mmsim_memblock_alloc_try_nid(mb, op->size, 0, op->base,
                                            ACCESSIBLE, op->nid, &a);
    case OP_PHYS_ALLOC:
        return mmsim_memblock_phys_alloc_range(mb, op->size, SZ_4K, op->base,
                                               op->base + SZ_128 * SZ_1K, &a);
    }
    return MMSIM_EINVAL;
}

/*
 * Run @s with the Nth host allocation failing, for N = 1, 2, ... until a
 * run meets no failure. The call that meets it must return EHOSTMEM and
 * leave both arrays exactly as they were (contents and capacity); it is
 * then retried, so every run must end in the state of a clean run.
 * Returns how many runs had a failure injected.
 */
static long sweep(const struct script *s)
{
    struct mmsim_memblock *mb = NULL;
    struct mb_state ref, now;
    long fail_at, injected = 0;
    size_t i;

    assert_int_equal(mmsim_memblock_create(NULL, &mb), 0);
    for (i = 0; i < s->n; i++)
        assert_int_equal(run_op(mb, &s->ops[i]), 0);
    state_get(mb, &ref);
    mmsim_memblock_destroy(mb);

    for (fail_at = 1;; fail_at++) {
        struct failalloc f;
        struct mmsim_allocator a = failalloc_arm(&f, fail_at);
        bool op_failed = false;
        int ret;

        mb = NULL;
        ret = mmsim_memblock_create(&a, &mb);
        if (ret) {
            assert_int_equal(ret, MMSIM_EHOSTMEM);
            assert_null(mb);
            assert_true(f.failed);
            injected++;
            continue;
        }
        for (i = 0; i < s->n; i++) {
            struct mb_state before;

            state_get(mb, &before);
            ret = run_op(mb, &s->ops[i]);
            if (ret) {
                assert_int_equal(ret, MMSIM_EHOSTMEM);
                assert_true(f.failed);
                assert_false(op_failed);
                op_failed = true;
                assert_unchanged_since(mb, &before);
                assert_int_equal(run_op(mb, &s->ops[i]), 0);
            }
            state_put(&before);
        }
        state_get(mb, &now);
        assert_state_equal(&ref, &now);
        state_put(&now);
        mmsim_memblock_destroy(mb);

        /* Every injected failure must have been reported. */
        assert_int_equal(f.failed, op_failed);
        if (!f.failed)
            break;
        injected++;
    }
    state_put(&ref);
    return injected;
}

/*
 * A boot-like sequence that grows both arrays before and after
 * allow_resize, splits regions, frees array pages and allocates.
 */
static void test_failure_sweep_boot(void **state)
{
    struct script s = {NULL, 0, 0};
    uint64_t k;
    long injected;

    (void)state;
#define KBASE(k) (SZ_16M + (k)*SZ_256 * SZ_1K)
    for (k = 0; k < 160; k++)
        script_push(&s, OP_ADD_NODE, KBASE(k), SZ_128 * SZ_1K, (int)(k % 4));
    for (k = 0; k < 140; k++)
        script_push(&s, OP_RESERVE, KBASE(k) + SZ_4K, SZ_4K, 0);
    for (k = 0; k < 140; k += 5)
        script_push(&s, OP_FREE, KBASE(k) + SZ_4K, SZ_4K, 0);
    for (k = 0; k < 20; k++)
        script_push(&s, OP_REMOVE, KBASE(k) + SZ_64K, SZ_4K, 0);
    script_push(&s, OP_ALLOW_RESIZE, 0, 0, 0);
    for (k = 160; k < 300; k++)
        script_push(&s, OP_ADD_NODE, KBASE(k), SZ_128 * SZ_1K, (int)(k % 4));
    for (k = 140; k < 300; k++)
        script_push(&s, OP_RESERVE, KBASE(k) + SZ_4K, SZ_4K, 0);
    for (k = 0; k < 50; k++)
        script_push(&s, OP_SET_NODE, KBASE(k), SZ_256 * SZ_1K, (int)(k % 3));
    for (k = 50; k < 160; k++)
        script_push(&s, OP_MARK_NOMAP, KBASE(k) + SZ_8K, SZ_4K, 0);
    for (k = 0; k < 150; k++)
        script_push(&s, OP_PHYS_ALLOC, KBASE(k), SZ_2K, 0);
    script_push(&s, OP_BOTTOM_UP, 0, 0, 1);
    for (k = 150; k < 300; k++)
        script_push(&s, OP_PHYS_ALLOC, KBASE(k), SZ_2K, 0);
    script_push(&s, OP_BOTTOM_UP, 0, 0, 0);
    for (k = 0; k < 40; k++)
        script_push(&s, OP_ALLOC_NID, KBASE(k), SZ_4K, (int)(k % 5));
    for (k = 0; k < 300; k += 3)
        script_push(&s, OP_FREE, KBASE(k), SZ_8K, 0);
#undef KBASE

    injected = sweep(&s);
    print_message("boot sweep: %ld runs with an injected failure\n", injected);
    /*
     * create (3), heap-only growth of memory and reserved (1 + 1), then
     * four doublings after allow_resize (memory 512 and 1024, reserved 512
     * and 1024), each a snapshot (2) and the new array (1).
     */
    assert_int_equal(injected, 3 + 2 + 4 * 3);
    free(s.ops);
}

/* The two-doubling reservation, where only the snapshot can undo. */
static void test_failure_sweep_double_doubling(void **state)
{
    struct script s = {NULL, 0, 0};
    unsigned i;

    (void)state;
    script_push(&s, OP_ALLOW_RESIZE, 0, 0, 0);
    script_push(&s, OP_ADD_NODE, SZ_256 * SZ_1M, SZ_64K, NO_NODE);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        script_push(&s, OP_RESERVE, SZ_1M + 2 * i * SZ_4K, SZ_4K, 0);
    script_push(&s, OP_RESERVE, SZ_1M - SZ_4K, 257 * SZ_4K, 0);
    /* create (3) + snapshot (2) + two arrays (2). */
    assert_int_equal(sweep(&s), 7);
    free(s.ops);
}

/* The memory doubling that grows "reserved" on the way. */
static void test_failure_sweep_memory_grows_reserved(void **state)
{
    struct script s = {NULL, 0, 0};
    unsigned i;

    (void)state;
    script_push(&s, OP_ALLOW_RESIZE, 0, 0, 0);
    script_push(&s, OP_ADD_NODE, SZ_256 * SZ_1M, SZ_1M, NO_NODE);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        script_push(&s, OP_RESERVE, SZ_1M + i * SZ_8K, SZ_4K, 0);
    for (i = 0; i < MMSIM_MEMBLOCK_INIT_REGIONS; i++)
        script_push(&s, OP_ADD_NODE, SZ_64M + i * SZ_8K, SZ_4K, NO_NODE);
    /* create (3) + snapshot (2) + memory array + reserved array. */
    assert_int_equal(sweep(&s), 7);
    free(s.ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_initial_state),
        T(test_create_bad_args),
        T(test_add_simple),
        T(test_add_node_simple),
        T(test_add_disjoint),
        T(test_add_sorted),
        T(test_add_overlap_top),
        T(test_add_overlap_bottom),
        T(test_add_within),
        T(test_add_twice),
        T(test_add_between),
        T(test_add_spanning),
        T(test_add_near_max),
        T(test_add_zero_size),
        T(test_add_merge_rules),
        T(test_add_overlap_keeps_node),
        T(test_add_bad_nid),
        T(test_add_many_before_resize),
        T(test_add_many_after_resize),
        T(test_reserve_simple),
        T(test_reserve_disjoint),
        T(test_reserve_overlap_top),
        T(test_reserve_overlap_bottom),
        T(test_reserve_within),
        T(test_reserve_twice),
        T(test_reserve_between),
        T(test_reserve_near_max),
        T(test_reserve_many_after_resize),
        T(test_reserve_second_doubling_frees_old_array),
        T(test_remove_simple),
        T(test_remove_absent),
        T(test_remove_overlap_top),
        T(test_remove_overlap_bottom),
        T(test_remove_within),
        T(test_remove_only_region),
        T(test_remove_near_max),
        T(test_remove_overlap_two),
        T(test_remove_spanning_many),
        T(test_remove_wants_two_spare_entries),
        T(test_free_simple),
        T(test_free_absent),
        T(test_free_overlap_top),
        T(test_free_overlap_bottom),
        T(test_free_within),
        T(test_free_only_region),
        T(test_free_near_max),
        T(test_free_overlap_two),
        T(test_alloc_top_down_simple),
        T(test_alloc_top_down_disjoint),
        T(test_alloc_top_down_before),
        T(test_alloc_top_down_after),
        T(test_alloc_top_down_second_fit),
        T(test_alloc_top_down_in_between),
        T(test_alloc_small_gaps),
        T(test_alloc_all_reserved),
        T(test_alloc_limited_space),
        T(test_alloc_no_space),
        T(test_alloc_no_memory),
        T(test_alloc_too_large),
        T(test_alloc_top_down_misaligned),
        T(test_alloc_bad_args),
        T(test_alloc_skips_first_page),
        T(test_alloc_region_attributes),
        T(test_alloc_bottom_up_simple),
        T(test_alloc_bottom_up_disjoint),
        T(test_alloc_bottom_up_before),
        T(test_alloc_bottom_up_after),
        T(test_alloc_bottom_up_second_fit),
        T(test_alloc_bottom_up_in_between),
        T(test_alloc_bottom_up_misaligned_start),
        T(test_try_nid_top_down_simple),
        T(test_try_nid_top_down_end_misaligned),
        T(test_try_nid_exact_address),
        T(test_try_nid_top_down_narrow_range),
        T(test_try_nid_bottom_up_narrow_range),
        T(test_exact_nid_narrow_range),
        T(test_try_nid_low_max),
        T(test_try_nid_min_reserved),
        T(test_try_nid_max_reserved),
        T(test_try_nid_top_down_reserved_with_space),
        T(test_try_nid_reserved_full_merge),
        T(test_try_nid_top_down_reserved_no_space),
        T(test_try_nid_reserved_all),
        T(test_try_nid_cap_max),
        T(test_try_nid_cap_min),
        T(test_try_nid_bottom_up_simple),
        T(test_try_nid_bottom_up_start_misaligned),
        T(test_current_limit),
        T(test_numa_top_down_simple),
        T(test_numa_bottom_up_simple),
        T(test_numa_small_node),
        T(test_numa_node_reserved),
        T(test_numa_part_reserved),
        T(test_numa_split_range),
        T(test_numa_no_overlap),
        T(test_numa_memoryless_node),
        T(test_alloc_range_nid_exact_flag),
        T(test_set_node_split),
        T(test_set_node_same_node),
        T(test_set_node_across_regions),
        T(test_mark_nomap),
        T(test_mark_hotplug),
        T(test_mark_mirror),
        T(test_driver_managed_skipped),
        T(test_queries),
        T(test_free_range_iteration),
        T(test_debugfs_show),
        T(test_debugfs_truncation),
        T(test_debugfs_shows_array),
        T(test_reserve_double_doubling),
        T(test_memory_doubling_grows_reserved),
        T(test_double_array_no_room),
        T(test_failure_sweep_boot),
        T(test_failure_sweep_double_doubling),
        T(test_failure_sweep_memory_grows_reserved),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
