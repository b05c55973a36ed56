// SPDX-License-Identifier: MIT
/*
 * bench-alloc.c - allocation-path figures for the simulated buddy
 * allocator. Prints numbers; never asserts on them.
 *
 * Parts (each on a freshly booted machine, deferred init finished with
 * mmsim_machine_late_init() before anything is timed):
 *
 *  a  order-0 alloc+free pairs, ns per pair, through CPU 0's per-cpu
 *     lists and without them (MMSIM_NO_CPU).
 *  b  mixed-order churn at 50% occupancy, ns per operation: a table of
 *     live blocks; allocate (order drawn from a skewed distribution) while
 *     fewer than half the pages are live, else free a random live block.
 *  c  fill-all then free-all: order-0 allocations until MMSIM_ENOMEM,
 *     then free every page; ns per page for each phase.
 *  d  the churn of (b) on 1 thread and on 2 threads of a 2-node machine,
 *     each thread on its own simulated CPU allocating node-locally
 *     (MMSIM_ANY_NODE); total ops/s and the scaling ratio.
 *
 * Each figure is measured --reps times after a warm-up; the median and the
 * minimum are printed. mmsim_check() runs after each phase, outside the
 * timed region, and its verdict is printed. Every random choice comes from
 * generators seeded by --seed, which is printed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "mmsim/mm.h"

#define GFP_BENCH (MMSIM_GFP_KERNEL | MMSIM_GFP_NOWARN)

#define PART_A 0x1u
#define PART_B 0x2u
#define PART_C 0x4u
#define PART_D 0x8u

struct opts {
    uint64_t seed;
    uint64_t mem_bytes;    /* (a)-(c): one node */
    uint64_t mt_mem_bytes; /* (d): two nodes */
    unsigned reps;
    unsigned fill_reps; /* (c): each rep fills the whole machine */
    uint64_t pairs;     /* (a), per rep */
    uint64_t churn_ops; /* (b), per rep */
    uint64_t mt_ops;    /* (d), per thread per rep */
    unsigned parts;
    bool full_check;
};

/* One line of the final table. */
struct row {
    char name[48];
    double median;
    double min;
    const char *unit;
    char target[40];
};

struct summary {
    struct row rows[32];
    unsigned n;
    unsigned check_failures;
};

static void add_row(struct summary *s, const char *name, struct bench_stat st,
                    const char *unit, const char *target)
{
    struct row *r;

    if (s->n >= sizeof(s->rows) / sizeof(s->rows[0]))
        return;
    r = &s->rows[s->n++];
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->median = st.median;
    r->min = st.min;
    r->unit = unit;
    snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
}

/* Run mmsim_check() and print its verdict. Return: 0 when consistent. */
static int check(struct mmsim_machine *m, const struct opts *o,
                 struct summary *s, const char *what)
{
    return bench_check(m, o->full_check, what, &s->check_failures);
}

/* Boot a machine of @bytes over @nodes nodes and finish deferred init. */
static struct mmsim_machine *boot(uint64_t bytes, unsigned nodes, unsigned cpus)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    char err[256];
    char sz[32];
    uint64_t released, t0, t1, t2;
    int rc;

    if (bench_build_desc(&d, bytes, nodes, cpus, err, sizeof(err))) {
        fprintf(stderr, "bench-alloc: %s\n", err);
        return NULL;
    }
    t0 = bench_now_ns();
    rc = mmsim_machine_create(&d, NULL, &m, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "bench-alloc: mmsim_machine_create: %s: %s\n",
                mmsim_err_name(rc), err);
        return NULL;
    }
    t1 = bench_now_ns();
    released = mmsim_machine_late_init(m);
    t2 = bench_now_ns();
    printf("  machine: %s, %u node(s), %u cpus, max_order %u; boot %.1f ms, "
           "late_init %.1f ms (%" PRIu64 " pages)\n",
           bench_fmt_size(bytes, sz, sizeof(sz)), nodes, cpus,
           mmsim_machine_max_order(m), (double)(t1 - t0) / 1e6,
           (double)(t2 - t1) / 1e6, released);
    return m;
}

static void print_stat(const char *what, struct bench_stat st, const char *unit)
{
    printf("  %-34s median %10.1f  min %10.1f  %s\n", what, st.median, st.min,
           unit);
}

/* ---- (a) order-0 pairs --------------------------------------------------- */

/* Return: ns per pair, or a negative value on an allocator error. */
static double run_pairs(struct mmsim_machine *m, int cpu, uint64_t n)
{
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn;
        int rc = mmsim_alloc_pages(m, cpu, GFP_BENCH, 0, MMSIM_ANY_NODE, &pfn);

        if (rc == 0)
            rc = mmsim_free_pages(m, cpu, pfn, 0);
        if (rc) {
            fprintf(stderr, "bench-alloc: pair %" PRIu64 ": %s\n", i,
                    mmsim_err_name(rc));
            return -1;
        }
    }
    return (double)(bench_now_ns() - t0) / (double)n;
}

static int part_pairs(const struct opts *o, struct summary *s)
{
    static const struct {
        int cpu;
        const char *name;
        const char *row;
        const char *target;
    } modes[] = {
        {0, "per-cpu lists (cpu 0)", "(a) order-0 pair, pcp cpu 0", "<= 20 ns"},
        {MMSIM_NO_CPU, "no pcp (MMSIM_NO_CPU)", "(a) order-0 pair, no pcp", ""},
    };
    struct mmsim_machine *m;
    double *v;
    int ret = 0;

    printf("\n(a) order-0 alloc+free pairs, %" PRIu64 " pairs x %u reps\n",
           o->pairs, o->reps);
    m = boot(o->mem_bytes, 1, 2);
    v = calloc(o->reps, sizeof(*v));
    if (!m || !v) {
        free(v);
        mmsim_machine_destroy(m);
        return -1;
    }
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        struct bench_stat st;
        uint64_t warm = o->pairs / 10 > 10000 ? o->pairs / 10 : 10000;

        if (run_pairs(m, modes[k].cpu, warm) < 0) {
            ret = -1;
            break;
        }
        for (unsigned r = 0; r < o->reps; r++) {
            v[r] = run_pairs(m, modes[k].cpu, o->pairs);
            if (v[r] < 0) {
                ret = -1;
                break;
            }
        }
        if (ret)
            break;
        st = bench_stats(v, o->reps);
        print_stat(modes[k].name, st, "ns/pair");
        add_row(s, modes[k].row, st, "ns/pair", modes[k].target);
        check(m, o, s, modes[k].name);
    }
    free(v);
    mmsim_machine_destroy(m);
    return ret;
}

/* ---- churn (b) and (d) --------------------------------------------------- */

/*
 * Order distribution, per mille: mostly order 0, some 1-3 (the pcp
 * orders), a geometric tail up to 10 (THP-sized and above are rare).
 * Orders above the machine's max_order fold into max_order.
 */
static const unsigned order_weight[] = {700, 120, 80, 50, 20, 12,
                                        7,   4,   3,  2,  2};
#define ORDER_WEIGHTS (sizeof(order_weight) / sizeof(order_weight[0]))

static unsigned pick_order(struct bench_rng *r, unsigned max_order)
{
    unsigned x = bench_rng_below(r, 1000), o = 0;

    while (o + 1 < ORDER_WEIGHTS && x >= order_weight[o]) {
        x -= order_weight[o];
        o++;
    }
    return o > max_order ? max_order : o;
}

struct blk {
    uint32_t pfn;
    uint8_t order;
};

/*
 * struct churn - one churning actor: its CPU, its table of live blocks
 * and its generator. Owned by one thread at a time.
 */
struct churn {
    /* Own cache lines: two threads' actors sit side by side in an array. */
    _Alignas(64) struct mmsim_machine *m;
    int cpu;
    unsigned max_order;
    struct bench_rng rng;
    struct blk *live;
    size_t nlive;
    size_t cap;
    uint64_t live_pages;
    uint64_t target_pages;
    uint64_t allocs;
    uint64_t frees;
    uint64_t enomem;
};

static int churn_init(struct churn *c, struct mmsim_machine *m, int cpu,
                      uint64_t target_pages, uint64_t seed, uint64_t stream)
{
    memset(c, 0, sizeof(*c));
    c->m = m;
    c->cpu = cpu;
    c->max_order = mmsim_machine_max_order(m);
    c->target_pages = target_pages;
    /* Live pages stay below target + one block; blocks <= pages. */
    c->cap = (size_t)target_pages + 2;
    c->live = malloc(c->cap * sizeof(*c->live));
    bench_rng_seed(&c->rng, seed, stream);
    return c->live ? 0 : -1;
}

static int churn_free_one(struct churn *c)
{
    size_t i = bench_rng_below(&c->rng, (uint32_t)c->nlive);
    struct blk b = c->live[i];
    int rc;

    c->live[i] = c->live[--c->nlive];
    rc = mmsim_free_pages(c->m, c->cpu, b.pfn, b.order);
    if (rc) {
        fprintf(stderr, "bench-alloc: free pfn %#" PRIx32 " order %u: %s\n",
                b.pfn, b.order, mmsim_err_name(rc));
        return rc;
    }
    c->live_pages -= UINT64_C(1) << b.order;
    c->frees++;
    return 0;
}

/* @n operations. Return: 0, or the allocator error that stopped it. */
static int churn_run(struct churn *c, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn;
        unsigned order;
        int rc;

        if (c->live_pages >= c->target_pages) {
            rc = churn_free_one(c);
            if (rc)
                return rc;
            continue;
        }
        order = pick_order(&c->rng, c->max_order);
        rc = mmsim_alloc_pages(c->m, c->cpu, GFP_BENCH, order, MMSIM_ANY_NODE,
                               &pfn);
        if (rc == MMSIM_ENOMEM) {
            /* Fragmented at this order: count it, free something. */
            c->enomem++;
            if (c->nlive) {
                rc = churn_free_one(c);
                if (rc)
                    return rc;
            }
            continue;
        }
        if (rc) {
            fprintf(stderr, "bench-alloc: alloc order %u: %s\n", order,
                    mmsim_err_name(rc));
            return rc;
        }
        if (c->nlive == c->cap) {
            /* Cannot happen (cap > target); keep the table honest. */
            mmsim_free_pages(c->m, c->cpu, pfn, order);
            continue;
        }
        c->live[c->nlive++] = (struct blk){(uint32_t)pfn, (uint8_t)order};
        c->live_pages += UINT64_C(1) << order;
        c->allocs++;
    }
    return 0;
}

/* Fill to the target, then @n more operations: the warm-up. */
static int churn_warm(struct churn *c, uint64_t n)
{
    uint64_t budget = 4 * c->target_pages + 1000;

    while (c->live_pages < c->target_pages) {
        int rc;

        if (!budget--) {
            fprintf(stderr,
                    "bench-alloc: cannot reach %" PRIu64
                    " live pages (ENOMEM %" PRIu64 ")\n",
                    c->target_pages, c->enomem);
            return MMSIM_ENOMEM;
        }
        rc = churn_run(c, 1);
        if (rc)
            return rc;
    }
    return churn_run(c, n);
}

static int churn_release(struct churn *c)
{
    int rc = 0;

    while (c->nlive && !rc)
        rc = churn_free_one(c);
    free(c->live);
    c->live = NULL;
    return rc;
}

static int part_churn(const struct opts *o, struct summary *s)
{
    static const struct {
        int cpu;
        const char *name;
        const char *row;
    } modes[] = {
        {0, "per-cpu lists (cpu 0)", "(b) mixed churn 50%, pcp cpu 0"},
        {MMSIM_NO_CPU, "no pcp (MMSIM_NO_CPU)", "(b) mixed churn 50%, no pcp"},
    };
    double *v = calloc(o->reps, sizeof(*v));
    int ret = 0;

    printf("\n(b) mixed-order churn at 50%% occupancy, %" PRIu64
           " ops x %u reps\n",
           o->churn_ops, o->reps);
    printf("  order weights (per mille, 0..10):");
    for (size_t i = 0; i < ORDER_WEIGHTS; i++)
        printf(" %u", order_weight[i]);
    printf("\n");
    if (!v)
        return -1;
    for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]) && !ret; k++) {
        struct mmsim_machine *m = boot(o->mem_bytes, 1, 2);
        struct churn c;
        struct bench_stat st;
        uint64_t managed;

        if (!m) {
            ret = -1;
            break;
        }
        managed = bench_node_managed(m, 0);
        if (churn_init(&c, m, modes[k].cpu, managed / 2, o->seed, 1 + k)) {
            mmsim_machine_destroy(m);
            ret = -1;
            break;
        }
        ret = churn_warm(&c, o->churn_ops / 4);
        for (unsigned r = 0; r < o->reps && !ret; r++) {
            uint64_t t0 = bench_now_ns();

            ret = churn_run(&c, o->churn_ops);
            v[r] = (double)(bench_now_ns() - t0) / (double)o->churn_ops;
        }
        if (!ret) {
            st = bench_stats(v, o->reps);
            print_stat(modes[k].name, st, "ns/op");
            printf("    target %" PRIu64 " of %" PRIu64
                   " managed pages; live %zu blocks, %" PRIu64
                   " pages; allocs %" PRIu64 " frees %" PRIu64
                   " ENOMEM %" PRIu64 "\n",
                   c.target_pages, managed, c.nlive, c.live_pages, c.allocs,
                   c.frees, c.enomem);
            add_row(s, modes[k].row, st, "ns/op", "");
            check(m, o, s, modes[k].name);
        }
        if (churn_release(&c))
            ret = -1;
        mmsim_machine_destroy(m);
    }
    free(v);
    return ret;
}

/* ---- (c) fill-all, free-all ---------------------------------------------- */

static int part_fill(const struct opts *o, struct summary *s)
{
    struct mmsim_machine *m = boot(o->mem_bytes, 1, 2);
    unsigned reps = o->fill_reps;
    double *fill = calloc(reps, sizeof(*fill));
    double *drain = calloc(reps, sizeof(*drain));
    double *filled = calloc(reps, sizeof(*filled));
    uint64_t cap, free0, pcp0, def0;
    uint32_t *pfns = NULL;
    int ret = 0;

    printf("\n(c) fill-all (order 0, cpu 0, until MMSIM_ENOMEM) then "
           "free-all, %u reps + 1 warm-up\n",
           reps);
    if (!m || !fill || !drain || !filled)
        goto out_err;
    cap = bench_node_managed(m, 0) + 1;
    pfns = malloc(cap * sizeof(*pfns));
    if (!pfns)
        goto out_err;
    bench_machine_free(m, &free0, &pcp0, &def0);

    for (unsigned r = 0; r <= reps && !ret; r++) {
        uint64_t n = 0, t0, t1, t2, fr, pc, de;
        int rc;

        t0 = bench_now_ns();
        for (;;) {
            uint64_t pfn;

            rc = mmsim_alloc_pages(m, 0, GFP_BENCH, 0, MMSIM_ANY_NODE, &pfn);
            if (rc || n == cap)
                break;
            pfns[n++] = (uint32_t)pfn;
        }
        t1 = bench_now_ns();
        if (rc != MMSIM_ENOMEM) {
            fprintf(stderr, "bench-alloc: fill stopped with %s\n",
                    rc ? mmsim_err_name(rc) : "a full table");
            ret = -1;
        }
        for (uint64_t i = 0; i < n && !ret; i++) {
            rc = mmsim_free_pages(m, 0, pfns[i], 0);
            if (rc) {
                fprintf(stderr, "bench-alloc: free %#" PRIx32 ": %s\n", pfns[i],
                        mmsim_err_name(rc));
                ret = -1;
            }
        }
        t2 = bench_now_ns();
        if (ret)
            break;
        bench_machine_free(m, &fr, &pc, &de);
        if (r == 0) {
            printf("  warm-up: %" PRIu64
                   " pages filled; free+pcp before %" PRIu64 ", after %" PRIu64
                   "\n",
                   n, free0 + pcp0, fr + pc);
            continue;
        }
        fill[r - 1] = (double)(t1 - t0) / (double)n;
        drain[r - 1] = (double)(t2 - t1) / (double)n;
        filled[r - 1] = (double)n;
        if (fr + pc != free0 + pcp0)
            printf("  rep %u: free+pcp %" PRIu64 " != %" PRIu64
                   " before the fill\n",
                   r, fr + pc, free0 + pcp0);
    }
    if (!ret) {
        struct bench_stat sf = bench_stats(fill, reps);
        struct bench_stat sd = bench_stats(drain, reps);
        struct bench_stat sn = bench_stats(filled, reps);

        print_stat("fill (alloc order 0 until ENOMEM)", sf, "ns/page");
        print_stat("free-all", sd, "ns/page");
        print_stat("pages filled", sn, "pages");
        printf("    managed %" PRIu64 " pages; free %" PRIu64 " + pcp %" PRIu64
               " before each fill\n",
               cap - 1, free0, pcp0);
        add_row(s, "(c) fill-all, cpu 0", sf, "ns/page", "");
        add_row(s, "(c) free-all, cpu 0", sd, "ns/page", "");
        add_row(s, "(c) pages filled", sn, "pages", "");
        check(m, o, s, "fill-all/free-all");
        mmsim_drain_all(m);
        check(m, o, s, "mmsim_drain_all");
    }
    goto out;
out_err:
    ret = -1;
out:
    free(pfns);
    free(fill);
    free(drain);
    free(filled);
    mmsim_machine_destroy(m);
    return ret;
}

/* ---- (d) churn on 1 and 2 threads ---------------------------------------- */

struct worker {
    _Alignas(64) pthread_t tid;
    struct churn *c;
    uint64_t ops;
    atomic_int *ready;
    atomic_int *go;
    uint64_t end_ns;
    int rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    atomic_fetch_add_explicit(w->ready, 1, memory_order_release);
    while (!atomic_load_explicit(w->go, memory_order_acquire))
        sched_yield();
    w->rc = churn_run(w->c, w->ops);
    w->end_ns = bench_now_ns();
    return NULL;
}

/*
 * Run churn on @n actors at once, one thread each, @ops operations per
 * thread. Return: total ops/s (wall clock from the start signal to the
 * last thread's end), or a negative value on error.
 */
static double run_threads(struct churn *cs, unsigned n, uint64_t ops)
{
    struct worker w[2];
    atomic_int ready = 0, go = 0;
    uint64_t t0, end = 0;
    unsigned started = 0;
    int err = 0;

    for (unsigned i = 0; i < n; i++) {
        w[i] = (struct worker){
            .c = &cs[i], .ops = ops, .ready = &ready, .go = &go};
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
            err = 1;
            break;
        }
        started++;
    }
    while (atomic_load_explicit(&ready, memory_order_acquire) < (int)started)
        sched_yield();
    t0 = bench_now_ns();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(w[i].tid, NULL);
        if (w[i].rc)
            err = 1;
        if (w[i].end_ns > end)
            end = w[i].end_ns;
    }
    if (err)
        return -1;
    return (double)ops * n / ((double)(end - t0) / 1e9);
}

static int part_threads(const struct opts *o, struct summary *s)
{
    struct mmsim_machine *m;
    struct churn cs[2];
    double *one = calloc(o->reps, sizeof(*one));
    double *two = calloc(o->reps, sizeof(*two));
    double *ratio = calloc(o->reps, sizeof(*ratio));
    unsigned inited = 0;
    long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int ret = 0;

    printf("\n(d) churn at 50%% of each thread's local node, 1 thread vs 2 "
           "threads, %" PRIu64 " ops per thread x %u reps (host cpus: %ld)\n",
           o->mt_ops, o->reps, host_cpus);
    m = boot(o->mt_mem_bytes, 2, 2);
    if (!m || !one || !two || !ratio)
        goto out_err;
    for (int i = 0; i < 2; i++) {
        int nid = mmsim_cpu_to_node(m, i);
        uint64_t managed = bench_node_managed(m, nid);

        printf("  thread %d: cpu %d on node %d, target %" PRIu64 " of %" PRIu64
               " pages\n",
               i, i, nid, managed / 2, managed);
        if (churn_init(&cs[i], m, i, managed / 2, o->seed, 10 + (uint64_t)i))
            goto out_err;
        inited++;
        if (churn_warm(&cs[i], o->mt_ops / 4))
            goto out_err;
    }
    check(m, o, s, "warm-up");
    for (unsigned r = 0; r < o->reps; r++) {
        /* Alternate which goes first, so drift does not favour one. */
        for (int k = 0; k < 2; k++) {
            bool single = (k == 0) == (r % 2 == 0);
            double x = run_threads(cs, single ? 1 : 2, o->mt_ops);

            if (x < 0)
                goto out_err;
            (single ? one : two)[r] = x;
        }
        ratio[r] = two[r] / one[r];
        if (check(m, o, s, "a 1-thread and a 2-thread run"))
            goto out_err;
    }
    {
        struct bench_stat s1, s2, sr;

        s1 = bench_stats(one, o->reps);
        s2 = bench_stats(two, o->reps);
        sr = bench_stats(ratio, o->reps);
        /* For throughput the best run is the maximum, the counterpart of
         * the minimum time; the summary's "min" column shows it. */
        printf("  %-34s median %10.0f  best %10.0f  ops/s\n", "1 thread",
               s1.median, s1.max);
        printf("  %-34s median %10.0f  best %10.0f  ops/s\n", "2 threads",
               s2.median, s2.max);
        printf("  %-34s median %10.2f  (per-rep range %.2f..%.2f); "
               "ratio of medians %.2f\n",
               "scaling (2T/1T, same rep)", sr.median, sr.min, sr.max,
               s2.median / s1.median);
        for (int i = 0; i < 2; i++)
            printf("    thread %d: allocs %" PRIu64 " frees %" PRIu64
                   " ENOMEM %" PRIu64 "\n",
                   i, cs[i].allocs, cs[i].frees, cs[i].enomem);
        s1.min = s1.max;
        s2.min = s2.max;
        add_row(s, "(d) churn 1 thread (best=max)", s1, "ops/s", "");
        add_row(s, "(d) churn 2 threads (best=max)", s2, "ops/s", "");
        add_row(s, "(d) scaling 2T/1T (min=worst)", sr, "x", ">= 1.8x");
    }
    goto out;
out_err:
    ret = -1;
out:
    for (unsigned i = 0; i < inited; i++)
        if (churn_release(&cs[i]))
            ret = -1;
    if (m && inited)
        check(m, o, s, "releasing every block");
    mmsim_machine_destroy(m);
    free(one);
    free(two);
    free(ratio);
    return ret;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench-alloc [options]\n"
            "\n"
            "Allocation-path figures for the mmsim buddy allocator.\n"
            "  a  order-0 alloc+free pairs with and without per-cpu lists\n"
            "  b  mixed-order churn at 50%% occupancy\n"
            "  c  fill-all (order 0 until ENOMEM), then free-all\n"
            "  d  the churn of (b) on 1 vs 2 threads of a 2-node machine\n"
            "\n"
            "options:\n"
            "  --seed N        seed for every random choice (default 1)\n"
            "  --mem SIZE      machine for a-c, one node (default 4G)\n"
            "  --mt-mem SIZE   machine for d, two nodes (default 8G)\n"
            "  --reps N        timed repetitions per figure (default 5)\n"
            "  --fill-reps N   (c) fill/free repetitions (default 3)\n"
            "  --pairs N       (a) pairs per repetition (default 2000000)\n"
            "  --ops N         (b) operations per repetition (default "
            "1000000)\n"
            "  --mt-ops N      (d) operations per thread per repetition "
            "(default 1000000)\n"
            "  --long          10x the operation counts, 9 repetitions\n"
            "  --only PARTS    run only these parts, e.g. --only ad\n"
            "  --fast-check    mmsim_check() without the page-frame walk\n"
            "  --help          this text\n"
            "\n"
            "Figures are printed, never asserted. Targets: order-0 pair with\n"
            "pcp <= 20 ns; 2-thread churn >= 1.8x one thread.\n");
}

static void print_summary(const struct summary *s)
{
    printf("\n== summary ==\n");
    printf("%-36s %12s %12s  %-8s %s\n", "measurement", "median", "min", "unit",
           "target");
    for (unsigned i = 0; i < s->n; i++) {
        const struct row *r = &s->rows[i];
        int prec = r->median >= 1000 ? 0 : 2;

        printf("%-36s %12.*f %12.*f  %-8s %s\n", r->name, prec, r->median, prec,
               r->min, r->unit, r->target);
    }
    printf("mmsim_check failures: %u\n", s->check_failures);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"seed", required_argument, NULL, 's'},
        {"mem", required_argument, NULL, 'm'},
        {"mt-mem", required_argument, NULL, 'M'},
        {"reps", required_argument, NULL, 'r'},
        {"fill-reps", required_argument, NULL, 'F'},
        {"pairs", required_argument, NULL, 'p'},
        {"ops", required_argument, NULL, 'o'},
        {"mt-ops", required_argument, NULL, 'O'},
        {"long", no_argument, NULL, 'l'},
        {"only", required_argument, NULL, 'y'},
        {"fast-check", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {
        .seed = 1,
        .mem_bytes = 4 * GIB,
        .mt_mem_bytes = 8 * GIB,
        .reps = 5,
        .fill_reps = 3,
        .pairs = 2000000,
        .churn_ops = 1000000,
        .mt_ops = 1000000,
        .parts = PART_A | PART_B | PART_C | PART_D,
        .full_check = true,
    };
    struct summary *s;
    bool is_long = false;
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 's':
            o.seed = bench_parse_u64("--seed", optarg);
            break;
        case 'm':
        case 'M': {
            uint64_t v = bench_parse_size(optarg);

            if (!v) {
                fprintf(stderr, "bench-alloc: bad size '%s'\n", optarg);
                return 2;
            }
            *(c == 'm' ? &o.mem_bytes : &o.mt_mem_bytes) = v;
            break;
        }
        case 'r':
            o.reps = (unsigned)bench_parse_u64("--reps", optarg);
            break;
        case 'F':
            o.fill_reps = (unsigned)bench_parse_u64("--fill-reps", optarg);
            break;
        case 'p':
            o.pairs = bench_parse_u64("--pairs", optarg);
            break;
        case 'o':
            o.churn_ops = bench_parse_u64("--ops", optarg);
            break;
        case 'O':
            o.mt_ops = bench_parse_u64("--mt-ops", optarg);
            break;
        case 'l':
            is_long = true;
            break;
        case 'y':
            o.parts = 0;
            for (const char *p = optarg; *p; p++) {
                if (*p < 'a' || *p > 'd') {
                    fprintf(stderr, "bench-alloc: --only takes a-d\n");
                    return 2;
                }
                o.parts |= 1u << (*p - 'a');
            }
            break;
        case 'f':
            o.full_check = false;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (is_long) {
        o.pairs *= 10;
        o.churn_ops *= 10;
        o.mt_ops *= 10;
        o.reps = o.reps < 9 ? 9 : o.reps;
        o.fill_reps = o.fill_reps < 9 ? 9 : o.fill_reps;
    }
    if (!o.reps || !o.fill_reps || !o.pairs || !o.churn_ops || !o.mt_ops) {
        fprintf(stderr, "bench-alloc: counts must be positive\n");
        return 2;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return 1;

    printf("bench-alloc: seed %" PRIu64 ", reps %u, assertions %s\n", o.seed,
           o.reps,
#ifdef NDEBUG
           "off"
#else
           "on"
#endif
    );
    if ((o.parts & PART_A) && part_pairs(&o, s))
        rc = 1;
    if ((o.parts & PART_B) && part_churn(&o, s))
        rc = 1;
    if ((o.parts & PART_C) && part_fill(&o, s))
        rc = 1;
    if ((o.parts & PART_D) && part_threads(&o, s))
        rc = 1;
    print_summary(s);
    if (s->check_failures)
        rc = 1;
    free(s);
    return rc;
}
