/*
 * test-vmalloc.c - the vmalloc space: placement with guard pages, reuse of
 * freed ranges, HighMem preference, reads and writes across pages and
 * their faults, vfree and vfree_owner, size limits, /proc/vmallocinfo,
 * the meminfo totals, out-of-memory unwinding, host allocation failures,
 * the checker, and many threads at once.
 */
#include <inttypes.h>
#include <pthread.h>
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
#include "mmsim/mm.h"
#include "mmsim/vmalloc.h"

#define MIB  (UINT64_C(1) << 20)
#define GIB  (UINT64_C(1) << 30)
#define PAGE MMSIM_PAGE_SIZE
#define VS   MMSIM_VMALLOC_START

static struct mmsim_machine *boot_opts(const struct mmsim_desc *d,
                                       const struct mmsim_machine_opts *o)
{
    struct mmsim_machine *m = NULL;
    char err[256];
    int rc = mmsim_machine_create(d, o, &m, err, sizeof(err));

    if (rc)
        fail_msg("boot failed: %s (%s)", mmsim_err_name(rc), err);
    return m;
}

static struct mmsim_machine *boot(const struct mmsim_desc *d)
{
    return boot_opts(d, NULL);
}

/* Both checkers: buddy (every page frame) and the vmalloc space. */
static void assert_consistent(struct mmsim_machine *m)
{
    char err[512];

    if (mmsim_check(m, true, err, sizeof(err)))
        fail_msg("checker: %s", err);
    if (mmsim_vmalloc_check(m, err, sizeof(err)))
        fail_msg("vmalloc checker: %s", err);
}

/* Free pages on buddy and per-cpu lists, every zone. */
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

static uint64_t zone_free(struct mmsim_machine *m, int nid,
                          enum mmsim_zone_type t)
{
    struct mmsim_zone_info zi;

    assert_int_equal(mmsim_zone_info(m, nid, t, &zi), 0);
    return zi.free + zi.pcp;
}

/* Two nodes of 64 MiB each (node 0 from 1 MiB), page contents on. */
static void small_desc(struct mmsim_desc *d)
{
    mmsim_desc_init(d);
    mmsim_desc_add_range(d, 0, 1 * MIB, 63 * MIB);
    mmsim_desc_add_range(d, 1, 64 * MIB, 64 * MIB);
    mmsim_desc_set_distance(d, 0, 1, 21);
    d->nr_cpus = 2;
    d->deferred_init = false;
    d->contents = true;
}

static uint64_t vm_alloc(struct mmsim_machine *m, uint64_t size, uint64_t owner)
{
    uint64_t addr = 0;
    int rc = mmsim_vmalloc(m, MMSIM_NO_CPU, size, MMSIM_ANY_NODE, owner, &addr);

    if (rc)
        fail_msg("vmalloc(%" PRIu64 "): %s", size, mmsim_err_name(rc));
    return addr;
}

static struct mmsim_vmalloc_info vinfo(struct mmsim_machine *m)
{
    struct mmsim_vmalloc_info vi;

    assert_int_equal(mmsim_vmalloc_info(m, &vi), 0);
    return vi;
}

/* ---- placement ------------------------------------------------------------
 */

/* Lowest first fit, one guard page after each area; find sees the pages
 * but not the guard. */
static void test_placement_and_guards(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, b, c, start, size, owner;
    struct mmsim_vmalloc_info vi;
    uint64_t free0;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    free0 = total_free(m);
    vi = vinfo(m);
    assert_int_equal(vi.total_bytes, UINT64_C(32) << 40);
    assert_int_equal(vi.largest_free, vi.total_bytes);
    assert_int_equal(vi.nr_areas, 0);

    a = vm_alloc(m, 1, 10);    /* 1 page + guard */
    b = vm_alloc(m, PAGE, 11); /* 1 page + guard */
    c = vm_alloc(m, 5000, 12); /* 2 pages + guard */
    assert_int_equal(a, VS);
    assert_int_equal(b, VS + 2 * PAGE);
    assert_int_equal(c, VS + 4 * PAGE);

    assert_int_equal(
        mmsim_vmalloc_find(m, c + 2 * PAGE - 1, &start, &size, &owner), 0);
    assert_int_equal(start, c);
    assert_int_equal(size, 2 * PAGE);
    assert_int_equal(owner, 12);
    assert_int_equal(mmsim_vmalloc_find(m, a + 100, &start, NULL, NULL), 0);
    assert_int_equal(start, a);
    /* Guard pages and what lies beyond the last area are not mapped. */
    assert_int_equal(mmsim_vmalloc_find(m, a + PAGE, &start, NULL, NULL),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_vmalloc_find(m, b + 2 * PAGE - 1, NULL, NULL, NULL),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_vmalloc_find(m, c + 2 * PAGE, NULL, NULL, NULL),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_vmalloc_find(m, VS - 1, NULL, NULL, NULL),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_vmalloc_find(m, 0, NULL, NULL, NULL), MMSIM_EFAULT);
    assert_int_equal(mmsim_vmalloc_find(m, MMSIM_VMALLOC_END, NULL, NULL, NULL),
                     MMSIM_EFAULT);

    vi = vinfo(m);
    assert_int_equal(vi.nr_areas, 3);
    assert_int_equal(vi.used_pages, 4);
    assert_int_equal(vi.largest_free, MMSIM_VMALLOC_END - (VS + 7 * PAGE));
    /* VmallocUsed is exactly what left the free lists. */
    assert_int_equal(total_free(m), free0 - vi.used_pages);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* A freed range is reused by the first request it fits, and only then. */
static void test_reuse_freed_ranges(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, b, c, x, y, z;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    a = vm_alloc(m, PAGE, 1);     /* [0, 2) */
    b = vm_alloc(m, 3 * PAGE, 1); /* [2, 6) */
    c = vm_alloc(m, PAGE, 1);     /* [6, 8) */
    assert_int_equal(b, VS + 2 * PAGE);
    assert_int_equal(c, VS + 6 * PAGE);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, b), 0);
    assert_int_equal(vinfo(m).largest_free,
                     MMSIM_VMALLOC_END - (VS + 8 * PAGE));

    x = vm_alloc(m, 2 * PAGE, 2); /* 3 of the hole's 4 pages */
    assert_int_equal(x, b);
    y = vm_alloc(m, PAGE, 2); /* needs 2, 1 is left: after c */
    assert_int_equal(y, VS + 8 * PAGE);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a), 0);
    z = vm_alloc(m, PAGE, 3); /* a's range again */
    assert_int_equal(z, a);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, x), 0);
    /* 4 pages free at [2, 6): a 4-page area does not fit (guard). */
    assert_int_equal(vm_alloc(m, 4 * PAGE, 3), VS + 10 * PAGE);
    assert_int_equal(vm_alloc(m, 3 * PAGE, 3), VS + 2 * PAGE);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- backing pages ------------------------------------------------------- */

static void area_zones(struct mmsim_machine *m, uint64_t addr, uint64_t pages,
                       unsigned count[MMSIM_NR_ZONE_TYPES],
                       unsigned nodes[MMSIM_MAX_NODES])
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pfn;
        uint32_t tag;
        unsigned order;
        struct mmsim_page_where w;

        assert_int_equal(
            mmsim_vmalloc_to_pfn(m, addr + i * PAGE + i % PAGE, &pfn), 0);
        assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);
        count[w.zone]++;
        if (nodes)
            nodes[w.nid]++;
        assert_int_equal(mmsim_page_owner(m, pfn, &tag, &order), 0);
        assert_int_equal(order, 0);
    }
}

/* GFP_KERNEL | __GFP_HIGHMEM: HighMem first on the 32-bit model, then
 * lowmem once HighMem is low; Normal on the 64-bit model. */
static void test_highmem_preference(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    unsigned count[MMSIM_NR_ZONE_TYPES] = {0};
    uint64_t hi0, lo0, a, b, pfn;
    uint32_t tag;
    unsigned order;
    struct mmsim_zone_info zi;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 1 * MIB, 959 * MIB); /* 64 MiB of HighMem */
    d.highmem_start = MMSIM_HIGHMEM_START_DEFAULT;
    d.deferred_init = false;
    d.contents = true;
    m = boot(&d);
    hi0 = zone_free(m, 0, MMSIM_ZONE_HIGHMEM);
    lo0 = zone_free(m, 0, MMSIM_ZONE_NORMAL);
    a = vm_alloc(m, 100 * PAGE, 0x1234567890);
    area_zones(m, a, 100, count, NULL);
    assert_int_equal(count[MMSIM_ZONE_HIGHMEM], 100);
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_HIGHMEM), hi0 - 100);
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_NORMAL), lo0);
    /* The pages carry the owner's low 32 bits. */
    assert_int_equal(mmsim_vmalloc_to_pfn(m, a, &pfn), 0);
    assert_int_equal(mmsim_page_owner(m, pfn, &tag, &order), 0);
    assert_int_equal(tag, 0x34567890);

    /* More than HighMem holds: the rest comes from Normal. */
    b = vm_alloc(m, hi0 * PAGE, 1);
    memset(count, 0, sizeof(count));
    area_zones(m, b, hi0, count, NULL);
    assert_true(count[MMSIM_ZONE_HIGHMEM] > 0);
    assert_true(count[MMSIM_ZONE_NORMAL] > 0);
    assert_int_equal(count[MMSIM_ZONE_HIGHMEM] + count[MMSIM_ZONE_NORMAL], hi0);
    /* Lowmem was used only once HighMem fell to its low watermark. */
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_HIGHMEM, &zi), 0);
    assert_true(zi.free <= zi.wmark_low);
    assert_consistent(m);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a), 0);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, b), 0);
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_HIGHMEM), hi0);
    assert_int_equal(zone_free(m, 0, MMSIM_ZONE_NORMAL), lo0);
    assert_consistent(m);
    mmsim_machine_destroy(m);

    /* 64-bit: __GFP_HIGHMEM means Normal. */
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 1 * MIB, 63 * MIB);
    mmsim_desc_add_range(&d, 0, 4 * GIB, 64 * MIB);
    d.deferred_init = false;
    m = boot(&d);
    memset(count, 0, sizeof(count));
    a = vm_alloc(m, 64 * PAGE, 0);
    area_zones(m, a, 64, count, NULL);
    assert_int_equal(count[MMSIM_ZONE_NORMAL], 64);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* vmalloc_node(): the node asked for, the CPU's node for "any". */
static void test_node_placement(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    unsigned count[MMSIM_NR_ZONE_TYPES] = {0}, nodes[MMSIM_MAX_NODES] = {0};
    uint64_t a;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_int_equal(mmsim_vmalloc(m, 0, 8 * PAGE, 1, 0, &a), 0);
    area_zones(m, a, 8, count, nodes);
    assert_int_equal(nodes[1], 8);
    memset(nodes, 0, sizeof(nodes));
    /* cpu 1 lives on node 1 (round-robin), so "any" means node 1. */
    assert_int_equal(mmsim_vmalloc(m, 1, 8 * PAGE, MMSIM_ANY_NODE, 0, &a), 0);
    area_zones(m, a, 8, count, nodes);
    assert_int_equal(nodes[1], 8);
    memset(nodes, 0, sizeof(nodes));
    assert_int_equal(mmsim_vmalloc(m, 0, 8 * PAGE, MMSIM_ANY_NODE, 0, &a), 0);
    area_zones(m, a, 8, count, nodes);
    assert_int_equal(nodes[0], 8);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- contents ------------------------------------------------------------ */

static void test_read_write_across_pages(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    static uint8_t in[3 * 4096], out[3 * 4096 + 16], zero[3 * 4096];
    uint64_t a, b;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    a = vm_alloc(m, 3 * PAGE, 1);
    b = vm_alloc(m, PAGE, 1);
    /* Fresh pages read as zeros. */
    assert_int_equal(mmsim_vread(m, a, out, sizeof(in)), 0);
    assert_memory_equal(out, zero, sizeof(in));

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    /* 10000 bytes from offset 100: three pages. */
    assert_int_equal(mmsim_vwrite(m, a + 100, in, 10000), 0);
    memset(out, 0xee, sizeof(out));
    assert_int_equal(mmsim_vread(m, a + 100, out, 10000), 0);
    assert_memory_equal(out, in, 10000);
    assert_int_equal(out[10000], 0xee);
    assert_int_equal(mmsim_vread(m, a, out, 3 * PAGE), 0);
    assert_memory_equal(out, zero, 100);
    assert_memory_equal(out + 100, in, 10000);
    assert_memory_equal(out + 10100, zero, 3 * PAGE - 10100);
    /* Byte by byte over a page boundary. */
    for (uint64_t off = PAGE - 3; off < PAGE + 3; off++) {
        uint8_t v = (uint8_t)off;

        assert_int_equal(mmsim_vwrite(m, a + off, &v, 1), 0);
        v = 0;
        assert_int_equal(mmsim_vread(m, a + off, &v, 1), 0);
        assert_int_equal(v, (uint8_t)off);
    }

    /* Into the guard page: refused, nothing written. */
    memset(out, 0x55, sizeof(out));
    assert_int_equal(mmsim_vwrite(m, a + 3 * PAGE - 10, out, 11), MMSIM_EFAULT);
    assert_int_equal(mmsim_vread(m, a + 3 * PAGE - 10, out, 10), 0);
    assert_memory_equal(out, zero, 10);
    memset(out, 0x55, sizeof(out));
    assert_int_equal(mmsim_vread(m, a + 3 * PAGE - 10, out, 11), MMSIM_EFAULT);
    assert_int_equal(out[0], 0x55);
    assert_int_equal(mmsim_vread(m, a + 3 * PAGE, out, 1), MMSIM_EFAULT);
    assert_int_equal(mmsim_vwrite(m, a + 3 * PAGE, out, 1), MMSIM_EFAULT);
    /* Never across into the next area either. */
    assert_int_equal(mmsim_vread(m, a, out, 4 * PAGE + 1), MMSIM_EFAULT);
    assert_int_equal(mmsim_vread(m, b, out, PAGE), 0);
    assert_int_equal(mmsim_vread(m, VS - 1, out, 2), MMSIM_EFAULT);
    assert_int_equal(mmsim_vread(m, a, out, SIZE_MAX), MMSIM_EFAULT);
    assert_int_equal(mmsim_vread(m, UINT64_MAX, out, 1), MMSIM_EFAULT);
    /* Zero length: fine inside, a fault outside; NULL needs len 0. */
    assert_int_equal(mmsim_vread(m, a + 5, NULL, 0), 0);
    assert_int_equal(mmsim_vwrite(m, a + 5, NULL, 0), 0);
    assert_int_equal(mmsim_vread(m, a + 3 * PAGE, NULL, 0), MMSIM_EFAULT);
    assert_int_equal(mmsim_vread(m, a, NULL, 1), MMSIM_EINVAL);
    assert_int_equal(mmsim_vwrite(m, a, NULL, 1), MMSIM_EINVAL);

    /* Freed: a fault; the range's next owner sees zeros. */
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a), 0);
    assert_int_equal(mmsim_vread(m, a, out, 1), MMSIM_EFAULT);
    assert_int_equal(mmsim_vwrite(m, a, in, 1), MMSIM_EFAULT);
    assert_int_equal(vm_alloc(m, 3 * PAGE, 2), a);
    assert_int_equal(mmsim_vread(m, a, out, 3 * PAGE), 0);
    assert_memory_equal(out, zero, 3 * PAGE);
    assert_consistent(m);
    mmsim_machine_destroy(m);

    /* Metadata only: areas exist, contents do not. */
    small_desc(&d);
    d.contents = false;
    m = boot(&d);
    a = vm_alloc(m, PAGE, 1);
    assert_int_equal(mmsim_vread(m, a, out, 1), MMSIM_ENOCONTENT);
    assert_int_equal(mmsim_vwrite(m, a, in, 1), MMSIM_ENOCONTENT);
    assert_int_equal(mmsim_vread(m, a + PAGE, out, 1), MMSIM_EFAULT);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- vfree --------------------------------------------------------------- */

static void test_vfree_errors(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, free0;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, VS), MMSIM_EINVAL);
    free0 = total_free(m);
    a = vm_alloc(m, 2 * PAGE, 1);
    assert_int_equal(total_free(m), free0 - 2);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a + PAGE), MMSIM_EINVAL);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a + 1), MMSIM_EINVAL);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a + 2 * PAGE), MMSIM_EINVAL);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, a - PAGE), MMSIM_EINVAL);
    assert_int_equal(mmsim_vfree(m, MMSIM_NO_CPU, 0), MMSIM_EINVAL);
    assert_int_equal(mmsim_vfree(m, 2, a), MMSIM_ECPU);
    assert_int_equal(mmsim_vfree(m, -5, a), MMSIM_ECPU);
    /* None of that touched the area. */
    assert_int_equal(vinfo(m).nr_areas, 1);
    assert_int_equal(mmsim_vmalloc_find(m, a, NULL, NULL, NULL), 0);
    assert_int_equal(total_free(m), free0 - 2);
    assert_int_equal(mmsim_vfree(m, 1, a), 0);
    assert_int_equal(mmsim_vfree(m, 1, a), MMSIM_EINVAL);
    assert_int_equal(total_free(m), free0);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

static void test_vfree_owner(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a[6], owner, free0;
    const uint64_t owners[6] = {1, 2, 1, 3, 1, UINT64_MAX};
    char text[1024];

    (void)state;
    small_desc(&d);
    m = boot(&d);
    free0 = total_free(m);
    for (int i = 0; i < 6; i++)
        a[i] = vm_alloc(m, (uint64_t)(i + 1) * PAGE, owners[i]);
    assert_int_equal(mmsim_vfree_owner(m, 0, 1), 3);
    assert_int_equal(mmsim_vfree_owner(m, 0, 1), 0);
    assert_int_equal(mmsim_vfree_owner(m, 0, 42), 0);
    for (int i = 0; i < 6; i++) {
        int rc = mmsim_vmalloc_find(m, a[i], NULL, NULL, &owner);

        if (owners[i] == 1) {
            assert_int_equal(rc, MMSIM_EFAULT);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(owner, owners[i]);
        }
    }
    assert_int_equal(vinfo(m).nr_areas, 3);
    assert_int_equal(vinfo(m).used_pages, 2 + 4 + 6);
    assert_true(mmsim_view_vmallocinfo(m, true, text, sizeof(text)) > 0);
    assert_null(strstr(text, "session-1 "));
    assert_non_null(strstr(text, " session-2 "));
    assert_non_null(strstr(text, " session-3 "));
    assert_non_null(strstr(text, " session-18446744073709551615 "));
    /* A bad cpu frees through no per-cpu list. */
    assert_int_equal(mmsim_vfree_owner(m, 99, 2), 1);
    assert_int_equal(mmsim_vfree_owner(m, MMSIM_NO_CPU, 3), 1);
    assert_int_equal(mmsim_vfree_owner(m, 1, UINT64_MAX), 1);
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_int_equal(vinfo(m).used_pages, 0);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- argument checks ------------------------------------------------------
 */

static void test_size_and_argument_limits(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a = 0x1234, free0;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    free0 = total_free(m);
    assert_int_equal(mmsim_vmalloc(m, 0, 0, MMSIM_ANY_NODE, 0, &a),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_vmalloc(m, 0, MMSIM_VMALLOC_MAX_PAGES * PAGE + 1,
                                   MMSIM_ANY_NODE, 0, &a),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_vmalloc(m, 0, UINT64_MAX, MMSIM_ANY_NODE, 0, &a),
                     MMSIM_EINVAL);
    assert_int_equal(
        mmsim_vmalloc(m, 0, UINT64_MAX - PAGE + 2, MMSIM_ANY_NODE, 0, &a),
        MMSIM_EINVAL);
    assert_int_equal(mmsim_vmalloc(m, 0, PAGE, 2, 0, &a), MMSIM_ENODEV);
    assert_int_equal(mmsim_vmalloc(m, 0, PAGE, -2, 0, &a), MMSIM_ENODEV);
    assert_int_equal(mmsim_vmalloc(m, 2, PAGE, 0, 0, &a), MMSIM_ECPU);
    assert_int_equal(mmsim_vmalloc(m, -3, PAGE, 0, 0, &a), MMSIM_ECPU);
    assert_int_equal(mmsim_vmalloc(m, 0, PAGE, 0, 0, NULL), MMSIM_EINVAL);
    assert_int_equal(a, 0x1234);
    /* The largest legal size is refused only for want of pages. */
    assert_int_equal(mmsim_vmalloc(m, 0, MMSIM_VMALLOC_MAX_PAGES * PAGE,
                                   MMSIM_ANY_NODE, 0, &a),
                     MMSIM_ENOMEM);
    assert_int_equal(a, 0x1234);
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_int_equal(mmsim_vmalloc_info(m, NULL), MMSIM_EINVAL);
    assert_int_equal(mmsim_vmalloc_to_pfn(m, VS, NULL), MMSIM_EINVAL);
    assert_int_equal(mmsim_view_vmallocinfo(m, false, NULL, 5), MMSIM_EINVAL);
    assert_int_equal(vinfo(m).nr_areas, 0);
    /* Sizes round up to pages. */
    a = vm_alloc(m, PAGE + 1, 0);
    assert_int_equal(vinfo(m).used_pages, 2);
    assert_consistent(m);
    mmsim_machine_destroy(m);

    /* Before the hand-off there is no page allocator to back areas. */
    small_desc(&d);
    d.stop_before_handoff = true;
    m = boot(&d);
    assert_int_equal(mmsim_vmalloc(m, 0, PAGE, MMSIM_ANY_NODE, 0, &a),
                     MMSIM_EPERM);
    assert_int_equal(mmsim_vfree(m, 0, VS), MMSIM_EINVAL);
    assert_int_equal(mmsim_vmalloc_find(m, VS, NULL, NULL, NULL), MMSIM_EFAULT);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_int_equal(mmsim_view_vmallocinfo(m, false, NULL, 0), 0);
    assert_int_equal(mmsim_machine_finish_boot(m), 0);
    a = vm_alloc(m, PAGE, 0);
    assert_int_equal(a, VS);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- views ----------------------------------------------------------------
 */

static uint64_t node_free(struct mmsim_machine *m, int nid)
{
    uint64_t sum = 0;

    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        struct mmsim_zone_info zi;

        if (mmsim_zone_info(m, nid, (enum mmsim_zone_type)t, &zi) == 0)
            sum += zi.free + zi.pcp;
    }
    return sum;
}

static void test_vmallocinfo_golden(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    char text[4096], small[16], line[256];
    uint64_t a, n0, n1;
    int64_t n;
    const char *want =
        "0xffffc90000000000-0xffffc90000002000    8192 mmsim_vmalloc+0x0/0x0 "
        "pages=1 vmalloc N0=1\n"
        "0xffffc90000002000-0xffffc90000005000   12288 mmsim_vmalloc+0x0/0x0 "
        "pages=2 vmalloc N1=2\n"
        "0xffffc90000005000-0xffffc90000106000 1052672 mmsim_vmalloc+0x0/0x0 "
        "pages=256 vmalloc N0=256\n";

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_int_equal(mmsim_view_vmallocinfo(m, false, text, sizeof(text)), 0);
    assert_string_equal(text, "");
    assert_int_equal(mmsim_vmalloc(m, 0, PAGE, 0, 5, &a), 0);
    assert_int_equal(mmsim_vmalloc(m, 0, 2 * PAGE, 1, 6, &a), 0);
    assert_int_equal(mmsim_vmalloc(m, 0, MIB, MMSIM_ANY_NODE, 7, &a), 0);
    n = mmsim_view_vmallocinfo(m, false, text, sizeof(text));
    assert_string_equal(text, want);
    assert_int_equal(n, (int64_t)strlen(want));

    /* 80 MiB wanted on node 1: node 1 until its low watermark, then 0. */
    n0 = node_free(m, 0);
    n1 = node_free(m, 1);
    assert_int_equal(
        mmsim_vmalloc(m, MMSIM_NO_CPU, 80 * MIB, 1, UINT64_MAX, &a), 0);
    assert_int_equal(a, UINT64_C(0xffffc90000106000));
    n0 -= node_free(m, 0);
    n1 -= node_free(m, 1);
    assert_int_equal(n0 + n1, 20480);
    assert_true(n1 > 15000 && n0 > 4000);
    snprintf(line, sizeof(line),
             "0xffffc90000106000-0xffffc90005107000 83890176 "
             "mmsim_vmalloc+0x0/0x0 pages=20480 vmalloc N0=%" PRIu64
             " N1=%" PRIu64 "\n",
             n0, n1);
    n = mmsim_view_vmallocinfo(m, false, text, sizeof(text));
    assert_int_equal(n, (int64_t)(strlen(want) + strlen(line)));
    assert_memory_equal(text, want, strlen(want));
    assert_string_equal(text + strlen(want), line);

    /* snprintf semantics: the full length, a NUL-terminated prefix. */
    assert_int_equal(mmsim_view_vmallocinfo(m, false, small, sizeof(small)), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, text, sizeof(small) - 1);
    assert_int_equal(mmsim_view_vmallocinfo(m, false, NULL, 0), n);
    small[0] = 'x';
    assert_int_equal(mmsim_view_vmallocinfo(m, false, small, 1), n);
    assert_int_equal(small[0], '\0');

    /* Owners instead of the caller. */
    n = mmsim_view_vmallocinfo(m, true, text, sizeof(text));
    assert_int_equal(n, (int64_t)strlen(text));
    assert_non_null(strstr(text, "-0xffffc90000002000    8192 session-5 "
                                 "pages=1 vmalloc N0=1\n"));
    assert_non_null(strstr(text, " 83890176 session-18446744073709551615 "
                                 "pages=20480 vmalloc N0="));
    /* Freed areas leave the list; the rest stays in address order. */
    assert_int_equal(mmsim_vfree(m, 0, UINT64_C(0xffffc90000002000)), 0);
    n = mmsim_view_vmallocinfo(m, false, text, sizeof(text));
    assert_int_equal(strncmp(text, want, (size_t)(strchr(want, '\n') - want)),
                     0);
    assert_non_null(strstr(text, "\n0xffffc90000005000-0xffffc90000106000 "));
    assert_null(strstr(text, "0xffffc90000002000-"));
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- out of memory --------------------------------------------------------
 */

static bool fail_nth(void *ctx, mmsim_gfp_t gfp, unsigned order)
{
    int *left = ctx;

    (void)gfp;
    (void)order;
    return *left > 0 && --*left == 0;
}

/* Every failed vmalloc gives back every page and its range. */
static void test_enomem_leaves_nothing(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    int left = 0;
    struct mmsim_machine_opts o = {.fail_page_alloc = fail_nth,
                                   .fail_ctx = &left};
    uint64_t free0, a, got = 0, areas[64];
    unsigned n = 0;

    (void)state;
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 1 * MIB, 15 * MIB);
    d.deferred_init = false;
    d.contents = true;
    d.nr_cpus = 2;
    m = boot_opts(&d, &o);
    free0 = total_free(m);

    /* More than the machine has, with and without per-cpu lists. */
    for (int cpu = -1; cpu < 2; cpu++) {
        a = 0;
        assert_int_equal(mmsim_vmalloc(m, cpu, 16 * MIB, MMSIM_ANY_NODE, 1, &a),
                         MMSIM_ENOMEM);
        assert_int_equal(a, 0);
        assert_int_equal(total_free(m), free0);
        assert_int_equal(vinfo(m).nr_areas, 0);
        assert_int_equal(vinfo(m).largest_free, vinfo(m).total_bytes);
        assert_consistent(m);
    }
    /* An injected failure at the 5th page. */
    left = 5;
    assert_int_equal(mmsim_vmalloc(m, 0, 8 * PAGE, MMSIM_ANY_NODE, 1, &a),
                     MMSIM_ENOMEM);
    assert_int_equal(left, 0);
    assert_int_equal(total_free(m), free0);
    assert_consistent(m);
    /* Its range was given back too. */
    assert_int_equal(vm_alloc(m, PAGE, 1), VS);
    assert_int_equal(mmsim_vfree(m, 0, VS), 0);

    /* Exhaust it 1 MiB at a time; then everything goes back. */
    while (n < 64 &&
           mmsim_vmalloc(m, 1, MIB, MMSIM_ANY_NODE, 2, &areas[n]) == 0) {
        got += MIB / PAGE;
        n++;
    }
    assert_true(n > 8 && n < 16);
    assert_int_equal(vinfo(m).used_pages, got);
    assert_consistent(m);
    /* Smaller requests still fit until the min watermark. */
    while (mmsim_vmalloc(m, 0, PAGE, MMSIM_ANY_NODE, 2, &a) == 0)
        got++;
    assert_int_equal(vinfo(m).used_pages, got);
    assert_consistent(m);
    n = (unsigned)vinfo(m).nr_areas;
    assert_int_equal(mmsim_vfree_owner(m, 0, 2), n);
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* ---- host allocation failures ----------------------------------------------
 */

/*
 * A scenario that makes every host allocation vmalloc.c does: the space,
 * the area records, the entry array growing 16 -> 32 -> 64. Each call
 * either works or fails with EHOSTMEM and changes nothing.
 */
static void host_scenario(struct mmsim_machine *m, uint64_t free0)
{
    uint64_t a[40], n = 0, pages = 0;
    struct mmsim_vmalloc_info before, after;

    for (int i = 0; i < 40; i++) {
        int rc;

        before = vinfo(m);
        rc = mmsim_vmalloc(m, i % 3 - 1, (uint64_t)(i % 4 + 1) * PAGE,
                           MMSIM_ANY_NODE, (uint64_t)i % 2, &a[n]);
        after = vinfo(m);
        if (rc) {
            assert_int_equal(rc, MMSIM_EHOSTMEM);
            assert_memory_equal(&before, &after, sizeof(before));
            continue;
        }
        pages += (uint64_t)(i % 4 + 1);
        n++;
        assert_int_equal(after.nr_areas, n);
    }
    assert_int_equal(vinfo(m).used_pages, pages);
    for (uint64_t i = 0; i < n; i += 3)
        assert_int_equal(mmsim_vfree(m, 0, a[i]), 0);
    assert_consistent(m);
    mmsim_vfree_owner(m, 1, 0);
    mmsim_vfree_owner(m, 1, 1);
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_consistent(m);
}

static void test_host_failure_sweep(void **state)
{
    struct mmsim_desc d;
    long n;

    (void)state;
    small_desc(&d);
    for (n = 1;; n++) {
        struct failalloc f;
        struct mmsim_allocator a = failalloc_arm(&f, 0);
        struct mmsim_machine_opts o = {.alloc = &a};
        struct mmsim_machine *m = boot_opts(&d, &o);
        uint64_t free0 = total_free(m);

        /* Boot is test-machine's business: fail the n-th one after it. */
        f.fail_at = f.count + n;
        host_scenario(m, free0);
        mmsim_machine_destroy(m);
        if (!f.failed)
            break;
        assert_true(n < 1000);
    }
    /* The space, three array sizes and 40 areas at least. */
    assert_true(n > 40);
}

/* ---- the checker ------------------------------------------------------------
 */

static void test_checker_catches_corruption(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    uint64_t a, pfn;
    char err[256];
    struct mmsim_page *p;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    assert_int_equal(mmsim_vmalloc_check(m, err, sizeof(err)), 0);
    a = vm_alloc(m, 4 * PAGE, 0x77);
    assert_int_equal(mmsim_vmalloc_to_pfn(m, a + 2 * PAGE, &pfn), 0);
    p = pfn_to_page(m, pfn);
    p->tag ^= 1;
    assert_int_equal(mmsim_vmalloc_check(m, err, sizeof(err)), MMSIM_ECORRUPT);
    assert_non_null(strstr(err, "page 2"));
    assert_non_null(strstr(err, "tag 0x76"));
    p->tag ^= 1;
    assert_int_equal(mmsim_vmalloc_check(m, err, sizeof(err)), 0);
    /* A backing page freed behind the area's back. */
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn, 0), 0);
    assert_int_equal(mmsim_vmalloc_check(m, err, sizeof(err)), MMSIM_ECORRUPT);
    assert_non_null(strstr(err, "not an allocated order-0 block"));
    mmsim_machine_destroy(m);
}

/* ---- threads --------------------------------------------------------------
 */

#define NR_THREADS 4
#define ITERS      3000

struct worker {
    struct mmsim_machine *m;
    int id;
    int cpu;
    uint64_t rng;
    int failures;
    uint64_t ok, enomem;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

#define WFAIL(w, ...)                                                          \
    do {                                                                       \
        fprintf(stderr, "thread %d: ", (w)->id);                               \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        (w)->failures++;                                                       \
    } while (0)

/* vmalloc, fill, read back, check find and the size, vfree. Each thread
 * keeps a few areas alive so the array stays busy. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t keep[8] = {0};
    uint8_t buf[5 * 4096], back[5 * 4096];

    for (int it = 0; it < ITERS; it++) {
        uint64_t pages = 1 + rnd(&w->rng) % 5, addr, start, size, owner;
        uint64_t off = rnd(&w->rng) % (pages * PAGE);
        size_t len = (size_t)(pages * PAGE - off);
        uint8_t v = (uint8_t)(w->id * 16 + it);
        int slot = (int)(rnd(&w->rng) % 8);
        int rc = mmsim_vmalloc(w->m, w->cpu, pages * PAGE, MMSIM_ANY_NODE,
                               (uint64_t)w->id, &addr);

        if (rc == MMSIM_ENOMEM) {
            w->enomem++;
            continue;
        }
        if (rc) {
            WFAIL(w, "vmalloc: %s", mmsim_err_name(rc));
            break;
        }
        w->ok++;
        memset(buf, v, len);
        if ((rc = mmsim_vwrite(w->m, addr + off, buf, len)) ||
            (rc = mmsim_vread(w->m, addr + off, back, len)))
            WFAIL(w, "vwrite/vread: %s", mmsim_err_name(rc));
        else if (memcmp(buf, back, len))
            WFAIL(w, "read back other bytes than written at %#" PRIx64, addr);
        if (mmsim_vmalloc_find(w->m, addr + off, &start, &size, &owner) ||
            start != addr || size != pages * PAGE || owner != (uint64_t)w->id)
            WFAIL(w, "find(%#" PRIx64 ")", addr + off);
        if (mmsim_vread(w->m, addr + pages * PAGE, back, 1) != MMSIM_EFAULT)
            WFAIL(w, "guard page of %#" PRIx64 " readable", addr);
        if (keep[slot] && (rc = mmsim_vfree(w->m, w->cpu, keep[slot])))
            WFAIL(w, "vfree: %s", mmsim_err_name(rc));
        keep[slot] = addr;
    }
    for (int i = 0; i < 4; i++)
        if (keep[i] && mmsim_vfree(w->m, w->cpu, keep[i]))
            WFAIL(w, "final vfree");
    /* The other half goes with the owner. */
    mmsim_vfree_owner(w->m, w->cpu, (uint64_t)w->id);
    return NULL;
}

struct watcher {
    struct mmsim_machine *m;
    int stop; /* __atomic */
    int failures;
    uint64_t rounds;
};

/* Views, totals and both checkers while the workers run. */
static void *watcher_main(void *arg)
{
    struct watcher *wt = arg;
    static char text[1 << 16];
    char err[256];

    while (!__atomic_load_n(&wt->stop, __ATOMIC_ACQUIRE)) {
        struct mmsim_vmalloc_info vi;

        mmsim_view_vmallocinfo(wt->m, wt->rounds & 1, text, sizeof(text));
        /* Each worker keeps 8 areas, and briefly a ninth. */
        if (mmsim_vmalloc_info(wt->m, &vi) || vi.nr_areas > NR_THREADS * 9)
            wt->failures++;
        if (mmsim_vmalloc_check(wt->m, err, sizeof(err)) ||
            mmsim_check(wt->m, false, err, sizeof(err))) {
            fprintf(stderr, "watcher: %s\n", err);
            wt->failures++;
        }
        wt->rounds++;
    }
    return NULL;
}

struct racer {
    struct mmsim_machine *m;
    uint64_t addr;
    int failures;
    uint64_t reads, faults;
};

/* Reads an area another thread frees (outside the contract): each read
 * is whole or a fault, and never touches freed memory. */
static void *racer_main(void *arg)
{
    struct racer *r = arg;
    uint8_t buf[2 * 4096];

    for (;;) {
        int rc = mmsim_vread(r->m, r->addr, buf, sizeof(buf));

        if (rc == MMSIM_EFAULT) {
            r->faults++;
            break;
        }
        if (rc || buf[0] != 0x5a || buf[sizeof(buf) - 1] != 0x5a)
            r->failures++;
        r->reads++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct worker w[NR_THREADS];
    struct watcher wt = {0};
    pthread_t th[NR_THREADS], wth;
    uint64_t free0;

    (void)state;
    small_desc(&d);
    d.nr_cpus = NR_THREADS;
    m = boot(&d);
    free0 = total_free(m);
    wt.m = m;
    assert_int_equal(pthread_create(&wth, NULL, watcher_main, &wt), 0);
    for (int i = 0; i < NR_THREADS; i++) {
        w[i] = (struct worker){.m = m,
                               .id = i + 1,
                               .cpu = i % 2 ? i : MMSIM_NO_CPU,
                               .rng = UINT64_C(0x9e3779b97f4a7c15) * (i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NR_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_true(w[i].ok > 0);
    }
    __atomic_store_n(&wt.stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(wth, NULL), 0);
    assert_int_equal(wt.failures, 0);
    assert_true(wt.rounds > 0);
    assert_int_equal(vinfo(m).nr_areas, 0);
    assert_int_equal(vinfo(m).used_pages, 0);
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_consistent(m);

    /* A vfree racing readers of the same area. */
    for (int round = 0; round < 50; round++) {
        struct racer r[2];
        pthread_t rth[2];
        uint8_t fill[2 * 4096];
        uint64_t addr = vm_alloc(m, 2 * PAGE, 9);

        memset(fill, 0x5a, sizeof(fill));
        assert_int_equal(mmsim_vwrite(m, addr, fill, sizeof(fill)), 0);
        for (int i = 0; i < 2; i++) {
            r[i] = (struct racer){.m = m, .addr = addr};
            assert_int_equal(pthread_create(&rth[i], NULL, racer_main, &r[i]),
                             0);
        }
        assert_int_equal(mmsim_vfree(m, 0, addr), 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_join(rth[i], NULL), 0);
            assert_int_equal(r[i].failures, 0);
            assert_int_equal(r[i].faults, 1);
        }
    }
    mmsim_drain_all(m);
    assert_int_equal(total_free(m), free0);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

/* Areas still alive at destroy go with the machine (ASan: no leak). */
static void test_destroy_with_areas(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;

    (void)state;
    small_desc(&d);
    m = boot(&d);
    for (int i = 0; i < 100; i++)
        vm_alloc(m, (uint64_t)(i % 7 + 1) * PAGE, (uint64_t)i);
    assert_consistent(m);
    mmsim_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_and_guards),
        cmocka_unit_test(test_reuse_freed_ranges),
        cmocka_unit_test(test_highmem_preference),
        cmocka_unit_test(test_node_placement),
        cmocka_unit_test(test_read_write_across_pages),
        cmocka_unit_test(test_vfree_errors),
        cmocka_unit_test(test_vfree_owner),
        cmocka_unit_test(test_size_and_argument_limits),
        cmocka_unit_test(test_vmallocinfo_golden),
        cmocka_unit_test(test_enomem_leaves_nothing),
        cmocka_unit_test(test_host_failure_sweep),
        cmocka_unit_test(test_checker_catches_corruption),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_destroy_with_areas),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
