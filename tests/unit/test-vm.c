/*
 * test-vm.c - anonymous memory, the LRU, reclaim, swap, kswapd and OOM.
 *
 * Reclaim is driven step by step (mmsim_reclaim_step) where the test
 * needs to know exactly what happens; the kswapd and threaded cases only
 * assert outcomes (no byte lost, counters moved, checker clean).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "failalloc.h"
#include "mmsim/mm.h"
#include "mmsim/vm.h"

#define MIB  (UINT64_C(1) << 20)
#define PAGE 4096u

/* One node of @ram bytes from 16 MiB up (Normal only: DMA32 on x86-64
 * then, which is fine), with contents and @swap bytes of in-memory swap. */
static struct mmsim_machine *make(uint64_t ram, uint64_t swap,
                                  enum mmsim_oom_policy pol,
                                  const struct mmsim_machine_opts *opts)
{
    struct mmsim_desc d;
    struct mmsim_machine *m = NULL;
    char err[256];
    int rc;

    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 16 * MIB, ram);
    d.nr_cpus = 2;
    d.contents = true;
    d.swap_bytes = swap;
    d.oom_policy = pol;
    rc = mmsim_machine_create(&d, opts, &m, err, sizeof(err));
    if (rc)
        fail_msg("create: %s (%s)", err, mmsim_err_name(rc));
    return m;
}

static void check_ok(struct mmsim_machine *m)
{
    char err[256];
    int rc = mmsim_check(m, true, err, sizeof(err));

    if (rc)
        fail_msg("check: %s", err);
}

static uint64_t vmstat(struct mmsim_machine *m, const char *name)
{
    int64_t v = mmsim_vmstat_get(m, name);

    if (v < 0)
        fail_msg("no vmstat %s", name);
    return (uint64_t)v;
}

static uint64_t node_free(struct mmsim_machine *m)
{
    struct mmsim_zone_info zi;
    uint64_t f = 0;

    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        if (mmsim_zone_info(m, 0, (enum mmsim_zone_type)t, &zi) == 0)
            f += zi.free + zi.pcp;
    return f;
}

/* A page's worth of bytes that depend on (seed, page). */
static void pattern(uint8_t *buf, uint64_t seed, uint64_t page)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15u + page + 1;

    for (unsigned i = 0; i < PAGE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

static void write_pages(struct mmsim_mm *mm, uint64_t addr, uint64_t n,
                        uint64_t seed)
{
    uint8_t buf[PAGE];

    for (uint64_t i = 0; i < n; i++) {
        pattern(buf, seed, i);
        assert_int_equal(
            mmsim_mm_write(mm, 0, addr + i * PAGE, buf, sizeof(buf)), 0);
    }
}

static uint64_t verify_pages(struct mmsim_mm *mm, uint64_t addr, uint64_t n,
                             uint64_t seed)
{
    uint8_t want[PAGE], got[PAGE];
    uint64_t bad = 0;

    for (uint64_t i = 0; i < n; i++) {
        pattern(want, seed, i);
        assert_int_equal(
            mmsim_mm_read(mm, 1, addr + i * PAGE, got, sizeof(got)), 0);
        bad += memcmp(want, got, PAGE) != 0;
    }
    return bad;
}

static enum mmsim_pte_state pte_state(struct mmsim_mm *mm, uint64_t addr)
{
    struct mmsim_pte_info pi;

    assert_int_equal(mmsim_mm_pte(mm, addr, &pi), 0);
    return pi.state;
}

static void test_mmap_rw(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 0, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    struct mmsim_mm_stat st;
    uint64_t a, b, free0;
    uint8_t buf[3 * PAGE], out[3 * PAGE];

    (void)state;
    free0 = node_free(m);
    assert_int_equal(mmsim_mm_create(m, 7, "t", &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 16, MMSIM_ANY_NODE, &a), 0);
    assert_int_equal(mmsim_mmap(mm, 4, 0, &b), 0);
    assert_int_equal(a % PAGE, 0);
    /* Top-down: the second region sits below the first. */
    assert_true(b + 4 * PAGE <= a);
    assert_true(a + 16 * PAGE <= MMSIM_MMAP_BASE);
    /* Nothing resident until touched; untouched pages read as zeros. */
    assert_int_equal(pte_state(mm, a), MMSIM_PTE_NONE);
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(mmsim_mm_read(mm, 0, a + 100, out, 10), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(out[i], 0);
    /* Across two page boundaries at an odd offset. */
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(mmsim_mm_write(mm, 1, a + PAGE - 5, buf, 2 * PAGE + 9), 0);
    memset(out, 0, sizeof(out));
    assert_int_equal(mmsim_mm_read(mm, 0, a + PAGE - 5, out, 2 * PAGE + 9), 0);
    assert_memory_equal(buf, out, 2 * PAGE + 9);
    assert_int_equal(pte_state(mm, a + PAGE), MMSIM_PTE_PRESENT);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.owner, 7);
    assert_int_equal(st.total_vm, 20);
    assert_int_equal(st.rss, 4); /* pages 0..3 of @a */
    assert_int_equal(st.minflt, 4);
    assert_int_equal(st.nr_regions, 2);
    assert_int_equal(vmstat(m, "nr_anon_pages"), 4);
    assert_int_equal(vmstat(m, "pgfault"), 4);
    /* Outside any region, and a range running off the end. */
    assert_int_equal(mmsim_mm_read(mm, 0, b - PAGE, out, 1), MMSIM_EFAULT);
    assert_int_equal(mmsim_mm_write(mm, 0, a + 15 * PAGE, buf, PAGE + 1),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_mm_read(mm, 0, UINT64_MAX - 2, out, 10),
                     MMSIM_EFAULT);
    assert_int_equal(mmsim_mm_read(mm, 9, a, out, 1), MMSIM_ECPU);
    /* Bad arguments. */
    assert_int_equal(mmsim_mmap(mm, 0, 0, &a), MMSIM_EINVAL);
    assert_int_equal(mmsim_mmap(mm, MMSIM_MMAP_MAX_PAGES + 1, 0, &a),
                     MMSIM_EINVAL);
    assert_int_equal(mmsim_mmap(mm, 1, 3, &a), MMSIM_ENODEV);
    check_ok(m);
    mmsim_mm_destroy(mm);
    check_ok(m);
    assert_int_equal(node_free(m), free0);
    mmsim_machine_destroy(m);
}

static void test_anon_pages_refuse_other_apis(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 0, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    struct mmsim_pte_info pi;
    uint64_t a;
    uint32_t tag;
    unsigned order;
    char c = 'x';

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 1, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 1, 0, &a), 0);
    assert_int_equal(mmsim_mm_write(mm, 0, a, &c, 1), 0);
    assert_int_equal(mmsim_mm_pte(mm, a, &pi), 0);
    /* Nobody frees, reads or writes a mapped page by pfn. */
    assert_int_equal(mmsim_free_pages(m, 0, pi.pfn, 0), MMSIM_EMAPPED);
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pi.pfn, 0),
                     MMSIM_EMAPPED);
    assert_int_equal(mmsim_page_read(m, pi.pfn, 0, &c, 1), MMSIM_EMAPPED);
    assert_int_equal(mmsim_page_owner(m, pi.pfn, &tag, &order), MMSIM_EMAPPED);
    check_ok(m);
    mmsim_mm_destroy(mm);
    mmsim_machine_destroy(m);
}

static void test_munmap(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 0, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    struct mmsim_mm_stat st;
    uint64_t a, b, free0;
    uint8_t buf[PAGE];

    (void)state;
    free0 = node_free(m);
    assert_int_equal(mmsim_mm_create(m, 1, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 10, 0, &a), 0);
    write_pages(mm, a, 10, 1);
    /* A hole in the middle splits the region; both sides keep data. */
    assert_int_equal(mmsim_munmap(mm, a + 3 * PAGE, 2), 0);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.nr_regions, 2);
    assert_int_equal(st.total_vm, 8);
    assert_int_equal(st.rss, 8);
    assert_int_equal(mmsim_mm_read(mm, 0, a + 3 * PAGE, buf, 1), MMSIM_EFAULT);
    assert_int_equal(verify_pages(mm, a, 3, 1), 0);
    {
        uint8_t want[PAGE];

        for (uint64_t i = 5; i < 10; i++) {
            pattern(want, 1, i);
            assert_int_equal(mmsim_mm_read(mm, 0, a + i * PAGE, buf, PAGE), 0);
            assert_memory_equal(want, buf, PAGE);
        }
    }
    /* Head and tail trims, and a range over a hole and two regions. */
    assert_int_equal(mmsim_munmap(mm, a, 1), 0);
    assert_int_equal(mmsim_munmap(mm, a + 9 * PAGE, 1), 0);
    assert_int_equal(mmsim_mmap(mm, 4, 0, &b), 0);
    assert_int_equal(mmsim_munmap(mm, a + 2 * PAGE, 6), 0);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.total_vm, 1 + 1 + 4); /* a+1, a+8, and @b */
    /* Unmapping nothing mapped is fine, as munmap(2). */
    assert_int_equal(mmsim_munmap(mm, a + 2 * PAGE, 1), 0);
    /* Bad ranges. */
    assert_int_equal(mmsim_munmap(mm, a + 1, 1), MMSIM_EINVAL);
    assert_int_equal(mmsim_munmap(mm, a, 0), MMSIM_EINVAL);
    assert_int_equal(mmsim_munmap(mm, UINT64_MAX & ~(uint64_t)(PAGE - 1), 2),
                     MMSIM_EINVAL);
    check_ok(m);
    /* Top-down, the highest hole that fits is reused: the one left
     * between a + 2 and a + 8 pages. */
    assert_int_equal(mmsim_munmap(mm, b, 4), 0);
    assert_int_equal(mmsim_mmap(mm, 4, 0, &b), 0);
    assert_int_equal(b, a + 4 * PAGE);
    mmsim_mm_destroy(mm);
    check_ok(m);
    assert_int_equal(node_free(m), free0);
    mmsim_machine_destroy(m);
}

/* Run steps until @pred or @max steps; return steps run. */
static int steps(struct mmsim_machine *m, int max)
{
    int i;

    for (i = 0; i < max; i++)
        assert_true(mmsim_reclaim_step(m, 0, MMSIM_RECLAIM_KSWAPD, NULL) >= 0);
    return i;
}

static void test_reclaim_swap_roundtrip(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 64 * MIB, MMSIM_OOM_KILL, NULL);
    struct mmsim_reclaim_result res;
    struct mmsim_lru_info li;
    struct mmsim_swap_info si;
    struct mmsim_mm *mm;
    struct mmsim_mm_stat st;
    uint64_t a, n = 64;
    int got;

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, "rt", &mm), 0);
    assert_int_equal(mmsim_mmap(mm, n, 0, &a), 0);
    write_pages(mm, a, n, 42);
    assert_int_equal(mmsim_lru_info(m, 0, &li), 0);
    assert_int_equal(li.inactive, n);
    assert_int_equal(li.active, 0);

    /* Fresh pages are referenced: the first scan activates them all. */
    got = mmsim_reclaim_step(m, 0, MMSIM_RECLAIM_KSWAPD, &res);
    assert_int_equal(got, 0);
    assert_int_equal(res.scanned, 32);
    assert_int_equal(res.activated, 32);
    /* The next: inactive (32) is not low against active (32); the
     * other 32 are activated. */
    got = mmsim_reclaim_step(m, 0, MMSIM_RECLAIM_KSWAPD, &res);
    assert_int_equal(res.activated, 32);
    assert_int_equal(mmsim_lru_info(m, 0, &li), 0);
    assert_int_equal(li.active, n);
    /* Now the active list ages (nothing touched) and the inactive
     * pages go to swap. */
    got = mmsim_reclaim_step(m, 0, MMSIM_RECLAIM_KSWAPD, &res);
    assert_int_equal(res.deactivated, 32);
    assert_int_equal(got, 32);
    assert_int_equal(res.reclaimed, 32);
    assert_int_equal(vmstat(m, "pswpout"), 32);
    assert_int_equal(vmstat(m, "pgsteal_kswapd"), 32);
    assert_int_equal(vmstat(m, "pgscan_kswapd"), 96);
    steps(m, 4);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.rss, 0);
    assert_int_equal(st.swapents, n);
    assert_int_equal(pte_state(mm, a), MMSIM_PTE_SWAP);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_true(si.present);
    assert_int_equal(si.used, n);
    assert_int_equal(si.pages, 64 * MIB / PAGE - 1);
    check_ok(m);

    /* Every byte comes back, by major faults, and the slots are freed. */
    assert_int_equal(verify_pages(mm, a, n, 42), 0);
    assert_int_equal(vmstat(m, "pswpin"), n);
    assert_int_equal(vmstat(m, "pgmajfault"), n);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.majflt, n);
    assert_int_equal(st.swapents, 0);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_int_equal(si.used, 0);
    check_ok(m);
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_second_chance(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 64 * MIB, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    uint64_t a, n = 64;
    uint8_t c;

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, n, 0, &a), 0);
    write_pages(mm, a, n, 5);
    /* Page 7 is touched before every step: it must never leave. */
    for (int i = 0; i < 12; i++) {
        assert_int_equal(mmsim_mm_read(mm, 0, a + 7 * PAGE, &c, 1), 0);
        steps(m, 1);
    }
    assert_int_equal(pte_state(mm, a + 7 * PAGE), MMSIM_PTE_PRESENT);
    for (uint64_t i = 0; i < n; i++)
        if (i != 7)
            assert_int_equal(pte_state(mm, a + i * PAGE), MMSIM_PTE_SWAP);
    assert_int_equal(verify_pages(mm, a, n, 5), 0);
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_zero_pages_take_no_io(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 64 * MIB, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    uint64_t a;
    uint8_t buf[PAGE];

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 32, 0, &a), 0);
    /* Read-faulted pages stay zero. */
    for (int i = 0; i < 32; i++)
        assert_int_equal(mmsim_mm_read(mm, 0, a + (uint64_t)i * PAGE, buf, 1),
                         0);
    steps(m, 6);
    assert_int_equal(pte_state(mm, a), MMSIM_PTE_SWAP);
    for (int i = 0; i < 32; i++) {
        memset(buf, 1, sizeof(buf));
        assert_int_equal(
            mmsim_mm_read(mm, 0, a + (uint64_t)i * PAGE, buf, PAGE), 0);
        for (unsigned j = 0; j < PAGE; j++)
            assert_int_equal(buf[j], 0);
    }
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_swap_full(void **state)
{
    /* Header page + 8 slots. */
    struct mmsim_machine *m = make(64 * MIB, 9 * PAGE, MMSIM_OOM_KILL, NULL);
    struct mmsim_swap_info si;
    struct mmsim_mm *mm;
    struct mmsim_mm_stat st;
    uint64_t a;
    char text[512];

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 32, 0, &a), 0);
    write_pages(mm, a, 32, 9);
    steps(m, 8);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_int_equal(si.pages, 8);
    assert_int_equal(si.used, 8);
    assert_true(si.full_events);
    assert_true(vmstat(m, "mmsim_swap_full") > 0);
    assert_int_equal(vmstat(m, "pswpout"), 8);
    assert_int_equal(mmsim_mm_stat(mm, &st), 0);
    assert_int_equal(st.swapents, 8);
    assert_int_equal(st.rss, 24);
    assert_int_equal(verify_pages(mm, a, 32, 9), 0);
    assert_true(mmsim_view_swaps(m, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "Filename\t\t\t\tType\t\tSize\t\tUsed"));
    assert_non_null(strstr(text, "file\t\t32\t\t0\t\t-2\n"));
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_no_swap_keeps_pages(void **state)
{
    struct mmsim_machine *m = make(64 * MIB, 0, MMSIM_OOM_KILL, NULL);
    struct mmsim_swap_info si;
    struct mmsim_mm *mm;
    uint64_t a;
    char text[256];

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, 8, 0, &a), 0);
    write_pages(mm, a, 8, 2);
    steps(m, 5);
    assert_int_equal(vmstat(m, "pswpout"), 0);
    assert_int_equal(pte_state(mm, a), MMSIM_PTE_PRESENT);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_false(si.present);
    assert_int_equal(mmsim_view_swaps(m, text, sizeof(text)),
                     (int64_t)strlen("Filename\t\t\t\tType\t\tSize\t\tUsed\t\t"
                                     "Priority\n"));
    assert_int_equal(verify_pages(mm, a, 8, 2), 0);
    mmsim_mm_destroy(mm);
    mmsim_machine_destroy(m);
}

/* Working set of twice the RAM through direct reclaim alone. */
static void test_direct_reclaim(void **state)
{
    struct mmsim_machine *m = make(32 * MIB, 96 * MIB, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    uint64_t a, n = 2 * 32 * MIB / PAGE;
    char text[4096];

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 3, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, n, 0, &a), 0);
    write_pages(mm, a, n, 77);
    assert_true(vmstat(m, "pgsteal_direct") > 0);
    assert_true(vmstat(m, "allocstall_dma32") > 0);
    assert_int_equal(vmstat(m, "oom_kill"), 0);
    assert_int_equal(verify_pages(mm, a, n, 77), 0);
    check_ok(m);
    assert_true(mmsim_view_meminfo(m, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "SwapTotal:         98300 kB\n"));
    assert_non_null(strstr(text, "MemTotal:    "));
    assert_true(mmsim_view_vmstat(m, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "\npswpout "));
    assert_non_null(strstr(text, "\npgmajfault "));
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

struct kills {
    pthread_mutex_t lock;
    uint64_t owners[8];
    int n;
};

static void on_kill(void *ctx, uint64_t owner)
{
    struct kills *k = ctx;

    pthread_mutex_lock(&k->lock);
    if (k->n < 8)
        k->owners[k->n++] = owner;
    pthread_mutex_unlock(&k->lock);
}

static void test_oom_kill(void **state)
{
    struct kills k = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    struct mmsim_machine_opts o = {.oom_kill = on_kill, .oom_ctx = &k};
    struct mmsim_machine *m = make(32 * MIB, 0, MMSIM_OOM_KILL, &o);
    struct mmsim_mm *big, *small;
    struct mmsim_mm_stat st;
    struct mmsim_oom_info oi;
    uint64_t a, b, n = 32 * MIB / PAGE;
    uint8_t buf[PAGE] = {1};
    char log[64];
    int rc = 0;
    uint64_t i;

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 100, "big", &big), 0);
    assert_int_equal(mmsim_mm_create(m, 200, "small", &small), 0);
    assert_int_equal(mmsim_mmap(big, n, 0, &a), 0);
    assert_int_equal(mmsim_mmap(small, 64, 0, &b), 0);
    write_pages(small, b, 16, 1);
    /* @big fills memory; with no swap, the OOM killer must pick it. */
    for (i = 0; i < n && rc == 0; i++)
        rc = mmsim_mm_write(big, 0, a + i * PAGE, buf, PAGE);
    assert_int_equal(rc, MMSIM_EKILLED);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.owners[0], 100);
    assert_int_equal(mmsim_oom_info(m, &oi), 0);
    assert_int_equal(oi.kills, 1);
    assert_int_equal(oi.last_owner, 100);
    assert_int_equal(vmstat(m, "oom_kill"), 1);
    assert_true(mmsim_mm_oom_killed(big));
    assert_int_equal(mmsim_mm_stat(big, &st), 0);
    assert_int_equal(st.rss, 0);
    assert_true(st.oom_killed);
    assert_int_equal(mmsim_mm_read(big, 0, a, buf, 1), MMSIM_EKILLED);
    assert_int_equal(mmsim_mmap(big, 1, 0, &a), MMSIM_EKILLED);
    /* The other address space is untouched and can grow. */
    assert_int_equal(verify_pages(small, b, 16, 1), 0);
    write_pages(small, b, 64, 1);
    (void)log;
    check_ok(m);
    mmsim_mm_destroy(big);
    mmsim_mm_destroy(small);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_oom_fail_policy(void **state)
{
    struct kills k = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    struct mmsim_machine_opts o = {.oom_kill = on_kill, .oom_ctx = &k};
    struct mmsim_machine *m = make(32 * MIB, 0, MMSIM_OOM_FAIL, &o);
    struct mmsim_mm *mm;
    uint64_t a, i, n = 32 * MIB / PAGE;
    uint8_t buf[PAGE] = {1};
    int rc = 0;

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 100, "big", &mm), 0);
    assert_int_equal(mmsim_mmap(mm, n, 0, &a), 0);
    for (i = 0; i < n && rc == 0; i++)
        rc = mmsim_mm_write(mm, 0, a + i * PAGE, buf, PAGE);
    assert_int_equal(rc, MMSIM_ENOMEM);
    assert_int_equal(k.n, 0);
    assert_int_equal(vmstat(m, "oom_kill"), 0);
    assert_false(mmsim_mm_oom_killed(mm));
    /* What was written before stays. */
    assert_int_equal(mmsim_mm_read(mm, 0, a, buf, PAGE), 0);
    assert_int_equal(buf[0], 1);
    check_ok(m);
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

static void test_swap_devices(void **state)
{
    char dir[] = "/tmp/test-vm-XXXXXX", path[256], err[256];
    struct mmsim_machine *m = NULL;
    struct mmsim_swap_info si;
    struct mmsim_desc d;
    struct stat stbuf;
    char head[PAGE];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, 16 * MIB, 64 * MIB);
    d.swap_bytes = 16 * MIB;

    /* A file path: created at the size, with a mkswap header, kept. */
    snprintf(path, sizeof(path), "%s/swapfile", dir);
    snprintf(d.swap_path, sizeof(d.swap_path), "%s", path);
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)), 0);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_string_equal(si.path, path);
    mmsim_machine_destroy(m);
    assert_int_equal(stat(path, &stbuf), 0);
    assert_int_equal(stbuf.st_size, 16 * MIB);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, PAGE, f), PAGE);
    fclose(f);
    assert_memory_equal(head + PAGE - 10, "SWAPSPACE2", 10);
    unlink(path);

    /* A directory: an unnamed file, nothing left behind. */
    snprintf(d.swap_path, sizeof(d.swap_path), "%s", dir);
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)), 0);
    assert_int_equal(mmsim_swap_info(m, &si), 0);
    assert_non_null(strstr(si.path, "(deleted)"));
    mmsim_machine_destroy(m);
    assert_int_equal(rmdir(dir), 0); /* empty */

    /* An impossible path: a clear error naming it. */
    snprintf(d.swap_path, sizeof(d.swap_path), "%s/no/such/dir/f", dir);
    assert_int_equal(mmsim_machine_create(&d, NULL, &m, err, sizeof(err)),
                     MMSIM_EIO);
    assert_null(m);
    assert_non_null(strstr(err, "swap_path"));
    assert_non_null(strstr(err, "/no/such/dir/f"));
}

/* Host allocation failures in mmap, faults and munmap splits. */
static void test_hostmem_failures(void **state)
{
    (void)state;
    for (long at = 1;; at++) {
        struct failalloc fa;
        struct mmsim_allocator al = failalloc_arm(&fa, 0);
        struct mmsim_machine_opts o = {.alloc = &al};
        struct mmsim_machine *m = make(64 * MIB, 16 * MIB, MMSIM_OOM_KILL, &o);
        struct mmsim_mm *mm = NULL;
        uint64_t a = 0;
        int rc;

        fa.fail_at = fa.count + at;
        rc = mmsim_mm_create(m, 1, NULL, &mm);
        if (!rc)
            rc = mmsim_mmap(mm, 600, 0, &a);
        if (!rc) {
            uint8_t buf[PAGE] = {3};

            for (int i = 0; i < 600 && !rc; i++)
                rc = mmsim_mm_write(mm, 0, a + (uint64_t)i * PAGE, buf, 1);
        }
        if (!rc)
            rc = mmsim_munmap(mm, a + 10 * PAGE, 5);
        if (fa.failed)
            assert_int_equal(rc, MMSIM_EHOSTMEM);
        else
            assert_int_equal(rc, 0);
        check_ok(m);
        mmsim_mm_destroy(mm);
        check_ok(m);
        mmsim_machine_destroy(m);
        if (!fa.failed)
            break;
    }
}

/* ---- threads: kswapd and concurrent address spaces ----------------------- */

struct worker {
    struct mmsim_machine *m;
    int cpu;
    uint64_t seed;
    uint64_t pages;
    uint64_t bad;
    int rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mmsim_mm *mm;
    uint8_t want[PAGE], got[PAGE];
    uint64_t a;

    w->rc = mmsim_mm_create(w->m, w->seed, "worker", &mm);
    if (w->rc)
        return NULL;
    w->rc = mmsim_mmap(mm, w->pages, MMSIM_ANY_NODE, &a);
    for (int pass = 0; pass < 2 && !w->rc; pass++) {
        for (uint64_t i = 0; i < w->pages && !w->rc; i++) {
            pattern(want, w->seed + (uint64_t)pass, i);
            w->rc = mmsim_mm_write(mm, w->cpu, a + i * PAGE, want, PAGE);
        }
        for (uint64_t i = 0; i < w->pages && !w->rc; i++) {
            pattern(want, w->seed + (uint64_t)pass, i);
            w->rc = mmsim_mm_read(mm, w->cpu, a + i * PAGE, got, PAGE);
            w->bad += memcmp(want, got, PAGE) != 0;
        }
    }
    mmsim_mm_destroy(mm);
    return NULL;
}

static void test_threads_with_kswapd(void **state)
{
    struct mmsim_machine *m = make(32 * MIB, 128 * MIB, MMSIM_OOM_KILL, NULL);
    struct worker w[4];
    pthread_t t[4];
    uint64_t free0;

    (void)state;
    free0 = node_free(m);
    assert_int_equal(mmsim_kswapd_start(m), 0);
    assert_int_equal(mmsim_kswapd_start(m), MMSIM_EALREADY);
    /* Four working sets of half the RAM each: twice the RAM in all. */
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){
            m, i % 2, 1000 + (uint64_t)i * 10, 16 * MIB / PAGE, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, 0);
        assert_int_equal(w[i].bad, 0);
    }
    assert_true(vmstat(m, "pswpout") > 0);
    assert_true(vmstat(m, "pswpin") > 0);
    assert_true(vmstat(m, "mmsim_kswapd_wakeups") > 0);
    assert_true(vmstat(m, "pageoutrun") > 0);
    assert_int_equal(vmstat(m, "oom_kill"), 0);
    mmsim_kswapd_stop(m);
    mmsim_kswapd_stop(m); /* idempotent */
    check_ok(m);
    mmsim_drain_all(m);
    assert_int_equal(node_free(m), free0);
    mmsim_machine_destroy(m);
}

static void test_kswapd_balances(void **state)
{
    struct mmsim_machine *m = make(32 * MIB, 64 * MIB, MMSIM_OOM_KILL, NULL);
    struct mmsim_mm *mm;
    struct mmsim_zone_info zi;
    uint64_t a, n = 32 * MIB / PAGE;
    uint8_t buf[PAGE] = {5};
    uint64_t i;

    (void)state;
    assert_int_equal(mmsim_mm_create(m, 1, NULL, &mm), 0);
    assert_int_equal(mmsim_mmap(mm, n, 0, &a), 0);
    /* Fill until the zone dips below low, without kswapd. */
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA32, &zi), 0);
    for (i = 0; zi.free > zi.wmark_low; i++) {
        assert_int_equal(mmsim_mm_write(mm, 0, a + i * PAGE, buf, 1), 0);
        assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA32, &zi), 0);
    }
    assert_false(mmsim_node_balanced(m, 0));
    assert_int_equal(vmstat(m, "mmsim_kswapd_wakeups"), 0);
    /* balance_pgdat() by hand: reclaims until above high. */
    assert_true(mmsim_balance_node(m, 0) > 0);
    assert_true(mmsim_node_balanced(m, 0));
    assert_int_equal(vmstat(m, "pageoutrun"), 1);
    mmsim_mm_destroy(mm);
    check_ok(m);
    mmsim_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmap_rw),
        cmocka_unit_test(test_anon_pages_refuse_other_apis),
        cmocka_unit_test(test_munmap),
        cmocka_unit_test(test_reclaim_swap_roundtrip),
        cmocka_unit_test(test_second_chance),
        cmocka_unit_test(test_zero_pages_take_no_io),
        cmocka_unit_test(test_swap_full),
        cmocka_unit_test(test_no_swap_keeps_pages),
        cmocka_unit_test(test_direct_reclaim),
        cmocka_unit_test(test_oom_kill),
        cmocka_unit_test(test_oom_fail_policy),
        cmocka_unit_test(test_swap_devices),
        cmocka_unit_test(test_hostmem_failures),
        cmocka_unit_test(test_kswapd_balances),
        cmocka_unit_test(test_threads_with_kswapd),
    };

    return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
