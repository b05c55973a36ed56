/*
 * test-bench-hist.c - the latency histogram of mmsim-bench
 * (client/bench/hist.c): exact small values, bucket bounds within 1/1024,
 * percentiles by rank, merging, clamping, the empty histogram.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "hist.h"

static struct bench_hist *hist_new(void)
{
    struct bench_hist *h = malloc(sizeof(*h));

    assert_non_null(h);
    bench_hist_reset(h);
    return h;
}

static void test_empty(void **state)
{
    struct bench_hist *h = hist_new();

    (void)state;
    assert_int_equal(h->total, 0);
    assert_int_equal(bench_hist_percentile(h, 50), 0);
    assert_int_equal(bench_hist_percentile(h, 100), 0);
    assert_true(bench_hist_mean(h) == 0.0);
    free(h);
}

/* Below 2^HIST_SUB_BITS every value has its own bucket. */
static void test_exact_small(void **state)
{
    struct bench_hist *h = hist_new();

    (void)state;
    for (uint64_t v = 0; v < (1u << HIST_SUB_BITS); v++)
        bench_hist_record(h, v);
    assert_int_equal(h->total, 1u << HIST_SUB_BITS);
    assert_int_equal(h->min, 0);
    assert_int_equal(h->max, (1u << HIST_SUB_BITS) - 1);
    /* rank ceil(0.5 * 2048) = 1024: the value 1023. */
    assert_int_equal(bench_hist_percentile(h, 50), 1023);
    assert_int_equal(bench_hist_percentile(h, 0), 0);
    assert_int_equal(bench_hist_percentile(h, 100), 2047);
    free(h);
}

/* One value at a time: its percentile is within 1/1024 above it, never
 * below, and never above the max (which is the value itself). */
static void test_single_values(void **state)
{
    static const uint64_t vals[] = {2048,
                                    2049,
                                    4095,
                                    4096,
                                    999999,
                                    1000000,
                                    1048575,
                                    1048576,
                                    123456789,
                                    UINT64_C(1) << 39,
                                    (UINT64_C(1) << 40) - 1};

    (void)state;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct bench_hist *h = hist_new();
        uint64_t p;

        bench_hist_record(h, vals[i]);
        bench_hist_record(h, vals[i] + 1);
        p = bench_hist_percentile(h, 50);
        assert_true(p >= vals[i]);
        assert_true(p - vals[i] <= vals[i] / 1024 + 1);
        assert_int_equal(bench_hist_percentile(h, 100), h->max);
        free(h);
    }
}

/* A uniform spread: percentiles land within the bucket width. */
static void test_uniform(void **state)
{
    struct bench_hist *h = hist_new();
    const uint64_t n = 1000000;

    (void)state;
    for (uint64_t v = 1; v <= n; v++)
        bench_hist_record(h, v * 10); /* 10 ns .. 10 ms */
    assert_int_equal(h->total, n);
    assert_true(bench_hist_mean(h) == 10.0 * (double)(n + 1) / 2.0);
    for (double p = 1; p < 100; p += 7.5) {
        uint64_t want = (uint64_t)(p / 100.0 * (double)n + 0.999999) * 10;
        uint64_t got = bench_hist_percentile(h, p);

        assert_true(got >= want);
        assert_true(got - want <= want / 1024 + 10);
    }
    /* rank 999000: 9990000 ns, reported as its bucket's top. */
    assert_true(bench_hist_percentile(h, 99.9) >= 9990000);
    assert_true(bench_hist_percentile(h, 99.9) <= 9990000 + 9990000 / 1024);
    free(h);
}

static void test_merge(void **state)
{
    struct bench_hist *a = hist_new(), *b = hist_new(), *all = hist_new();

    (void)state;
    for (uint64_t v = 0; v < 50000; v++) {
        bench_hist_record(v % 2 ? a : b, v * 37);
        bench_hist_record(all, v * 37);
    }
    bench_hist_merge(a, b);
    assert_int_equal(a->total, all->total);
    assert_int_equal(a->sum, all->sum);
    assert_int_equal(a->min, all->min);
    assert_int_equal(a->max, all->max);
    for (double p = 0; p <= 100; p += 0.5)
        assert_int_equal(bench_hist_percentile(a, p),
                         bench_hist_percentile(all, p));
    free(a);
    free(b);
    free(all);
}

static void test_clamp(void **state)
{
    struct bench_hist *h = hist_new();

    (void)state;
    bench_hist_record(h, UINT64_MAX);
    assert_int_equal(h->max, (UINT64_C(1) << HIST_MAX_BITS) - 1);
    assert_int_equal(bench_hist_percentile(h, 50), h->max);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_single_values),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_clamp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
