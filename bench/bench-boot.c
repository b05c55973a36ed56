// SPDX-License-Identifier: MIT
/*
 * bench-boot.c - boot time and host memory per simulated page, for large
 * machines. Prints numbers; never asserts on them.
 *
 * For each size (default 64 GiB and 1 TiB, 2 nodes) and each repetition,
 * on a fresh machine:
 *
 *  - the time of mmsim_machine_create() (description to booted machine),
 *    then of the first mmsim_alloc_pages() served (order 0, cpu 0), and
 *    their sum: description to first allocation;
 *  - the time of mmsim_machine_late_init() (every deferred page to buddy);
 *  - host memory: what the machine allocated through its allocator hook
 *    (mem_map is one calloc of max_pfn struct mmsim_page; the rest is
 *    zones, per-cpu lists, memblock arrays, the boot log), and the host
 *    RSS delta from /proc/self/statm after boot and after late_init, each
 *    divided by the simulated pages. The RSS figure is what matters: the
 *    bytes of host memory actually touched per simulated page. Simulated
 *    page contents have no host memory at all.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "internal.h"
#include "mmsim/mm.h"

#define MAX_SIZES 8

/*
 * A counting host allocator: each block carries a 16-byte header with its
 * size, so live and peak bytes are exact. Large callocs still go to
 * glibc's calloc, which maps fresh zero pages without touching them.
 */
struct counter {
    uint64_t live_bytes;
    uint64_t peak_bytes;
    uint64_t largest_bytes;
    uint64_t nr_allocs;
};

#define HDR 16

static void count_add(struct counter *c, size_t n)
{
    c->live_bytes += n;
    c->nr_allocs++;
    if (c->live_bytes > c->peak_bytes)
        c->peak_bytes = c->live_bytes;
    if (n > c->largest_bytes)
        c->largest_bytes = n;
}

static void *count_wrap(struct counter *c, unsigned char *raw, size_t n)
{
    if (!raw)
        return NULL;
    memcpy(raw, &n, sizeof(n));
    count_add(c, n);
    return raw + HDR;
}

static void *count_malloc(void *ctx, size_t n)
{
    if (n > SIZE_MAX - HDR)
        return NULL;
    return count_wrap(ctx, malloc(n + HDR), n);
}

static void *count_calloc(void *ctx, size_t nmemb, size_t size)
{
    size_t n;

    if (size && nmemb > (SIZE_MAX - HDR) / size)
        return NULL;
    n = nmemb * size;
    return count_wrap(ctx, calloc(1, n + HDR), n);
}

static void count_free(void *ctx, void *p)
{
    struct counter *c = ctx;
    unsigned char *raw;
    size_t n;

    if (!p)
        return;
    raw = (unsigned char *)p - HDR;
    memcpy(&n, raw, sizeof(n));
    c->live_bytes -= n;
    free(raw);
}

static void *count_realloc(void *ctx, void *p, size_t n)
{
    struct counter *c = ctx;
    unsigned char *raw;
    size_t old;

    if (!p)
        return count_malloc(ctx, n);
    if (n > SIZE_MAX - HDR)
        return NULL;
    raw = (unsigned char *)p - HDR;
    memcpy(&old, raw, sizeof(old));
    raw = realloc(raw, n + HDR);
    if (!raw)
        return NULL;
    c->live_bytes -= old;
    c->nr_allocs--; /* count_wrap counts it again */
    return count_wrap(c, raw, n);
}

struct opts {
    uint64_t seed;
    uint64_t sizes[MAX_SIZES];
    unsigned nr_sizes;
    unsigned nodes;
    unsigned cpus;
    unsigned reps;
    bool bootlog;
};

/* The figures of one boot. */
struct sample {
    double create_ms;
    double first_alloc_us;
    double to_first_ms;
    double late_ms;
    double destroy_ms;
    uint64_t rss_boot;  /* bytes, delta from before create */
    uint64_t rss_late;  /* bytes, delta from before create */
    uint64_t host_boot; /* bytes allocated through the hook, live */
    uint64_t host_late;
    uint64_t host_peak;
    uint64_t mem_map_bytes;
    uint64_t max_pfn;
    uint64_t free_boot, deferred_boot, free_late, deferred_late;
    uint64_t late_pages;
    int check_rc;
    char check_err[256];
};

static int64_t rss_delta(uint64_t before)
{
    return (int64_t)bench_rss_bytes() - (int64_t)before;
}

static int boot_once(const struct opts *o, uint64_t bytes, struct sample *s,
                     bool print_log)
{
    struct counter cnt = {0, 0, 0, 0};
    struct mmsim_allocator a = {
        .malloc_fn = count_malloc,
        .calloc_fn = count_calloc,
        .realloc_fn = count_realloc,
        .free_fn = count_free,
        .ctx = &cnt,
    };
    struct mmsim_machine_opts mo = {.alloc = &a};
    struct mmsim_desc d;
    struct mmsim_machine *m;
    char err[256];
    uint64_t rss0, t0, t1, t2, t3, t4, t5, pfn, pcp;
    int64_t delta;
    int rc;

    memset(s, 0, sizeof(*s));
    if (bench_build_desc(&d, bytes, o->nodes, o->cpus, err, sizeof(err))) {
        fprintf(stderr, "bench-boot: %s\n", err);
        return -1;
    }
    rss0 = bench_rss_bytes();
    t0 = bench_now_ns();
    rc = mmsim_machine_create(&d, &mo, &m, err, sizeof(err));
    t1 = bench_now_ns();
    if (rc) {
        fprintf(stderr, "bench-boot: mmsim_machine_create: %s: %s\n",
                mmsim_err_name(rc), err);
        return -1;
    }
    rc = mmsim_alloc_pages(m, 0, MMSIM_GFP_KERNEL, 0, MMSIM_ANY_NODE, &pfn);
    t2 = bench_now_ns();
    if (rc) {
        fprintf(stderr, "bench-boot: first allocation: %s\n",
                mmsim_err_name(rc));
        mmsim_machine_destroy(m);
        return -1;
    }
    delta = rss_delta(rss0);
    s->rss_boot = delta > 0 ? (uint64_t)delta : 0;
    s->host_boot = cnt.live_bytes;
    s->max_pfn = mmsim_machine_max_pfn(m);
    s->mem_map_bytes = s->max_pfn * sizeof(struct mmsim_page);
    bench_machine_free(m, &s->free_boot, &pcp, &s->deferred_boot);
    rc = mmsim_free_pages(m, 0, pfn, 0);
    if (rc)
        fprintf(stderr, "bench-boot: freeing the first page: %s\n",
                mmsim_err_name(rc));

    t3 = bench_now_ns();
    s->late_pages = mmsim_machine_late_init(m);
    t4 = bench_now_ns();
    delta = rss_delta(rss0);
    s->rss_late = delta > 0 ? (uint64_t)delta : 0;
    s->host_late = cnt.live_bytes;
    bench_machine_free(m, &s->free_late, &pcp, &s->deferred_late);

    /* Free lists and counters only: the page-frame walk would touch all
     * of mem_map. After the RSS readings. */
    s->check_rc = mmsim_check(m, false, s->check_err, sizeof(s->check_err));
    if (print_log) {
        int64_t len = mmsim_view_bootlog(m, NULL, 0);
        char *buf = len > 0 ? malloc((size_t)len + 1) : NULL;

        if (buf && mmsim_view_bootlog(m, buf, (size_t)len + 1) >= 0)
            printf("---- boot log ----\n%s---- end ----\n", buf);
        free(buf);
    }
    t5 = bench_now_ns();
    mmsim_machine_destroy(m);
    s->destroy_ms = (double)(bench_now_ns() - t5) / 1e6;
    s->host_peak = cnt.peak_bytes;
    if (cnt.live_bytes)
        fprintf(stderr, "bench-boot: %" PRIu64 " host bytes leaked\n",
                cnt.live_bytes);

    s->create_ms = (double)(t1 - t0) / 1e6;
    s->first_alloc_us = (double)(t2 - t1) / 1e3;
    s->to_first_ms = (double)(t2 - t0) / 1e6;
    s->late_ms = (double)(t4 - t3) / 1e6;
    return 0;
}

struct result {
    uint64_t bytes;
    uint64_t pages; /* simulated RAM pages (the description's) */
    struct bench_stat create_ms, first_us, to_first_ms, late_ms;
    struct sample last;
    double rss_boot_pp, rss_late_pp; /* medians, bytes per page */
    unsigned check_failures;
};

static int run_size(const struct opts *o, uint64_t bytes, struct result *res)
{
    double create[16], first[16], to_first[16], late[16], rb[16], rl[16];
    unsigned reps = o->reps;
    char sz[32];
    struct bench_stat st;

    memset(res, 0, sizeof(*res));
    res->bytes = bytes;
    res->pages = bytes / MMSIM_PAGE_SIZE;
    printf("\n== %s, %u nodes, %u cpus: %u boots ==\n",
           bench_fmt_size(bytes, sz, sizeof(sz)), o->nodes, o->cpus, reps);
    for (unsigned r = 0; r < reps; r++) {
        struct sample s;

        if (boot_once(o, bytes, &s, o->bootlog && r == 0))
            return -1;
        create[r] = s.create_ms;
        first[r] = s.first_alloc_us;
        to_first[r] = s.to_first_ms;
        late[r] = s.late_ms;
        rb[r] = (double)s.rss_boot / (double)res->pages;
        rl[r] = (double)s.rss_late / (double)res->pages;
        printf("  boot %u: create %.2f ms, first alloc %.1f us, "
               "to first alloc %.2f ms, late_init %.2f ms (%" PRIu64
               " pages), destroy %.2f ms; RSS +%.1f MiB boot, +%.1f MiB "
               "late; check %s%s%s\n",
               r, s.create_ms, s.first_alloc_us, s.to_first_ms, s.late_ms,
               s.late_pages, s.destroy_ms, (double)s.rss_boot / (double)MIB,
               (double)s.rss_late / (double)MIB,
               s.check_rc ? mmsim_err_name(s.check_rc) : "OK",
               s.check_rc ? ": " : "", s.check_rc ? s.check_err : "");
        if (s.check_rc)
            res->check_failures++;
        res->last = s;
    }
    res->create_ms = bench_stats(create, reps);
    res->first_us = bench_stats(first, reps);
    res->to_first_ms = bench_stats(to_first, reps);
    res->late_ms = bench_stats(late, reps);
    st = bench_stats(rb, reps);
    res->rss_boot_pp = st.median;
    st = bench_stats(rl, reps);
    res->rss_late_pp = st.median;

    {
        const struct sample *s = &res->last;
        double pages = (double)res->pages;

        printf("  time   create (desc -> booted)   median %9.2f ms  min "
               "%9.2f ms\n",
               res->create_ms.median, res->create_ms.min);
        printf("  time   first alloc served        median %9.1f us  min "
               "%9.1f us\n",
               res->first_us.median, res->first_us.min);
        printf("  time   desc -> first alloc       median %9.2f ms  min "
               "%9.2f ms  (target <= 1000 ms at 1 TiB)\n",
               res->to_first_ms.median, res->to_first_ms.min);
        printf("  time   late_init                 median %9.2f ms  min "
               "%9.2f ms\n",
               res->late_ms.median, res->late_ms.min);
        printf("  pages  simulated RAM %" PRIu64 ", max_pfn %" PRIu64
               "; after boot free %" PRIu64 " deferred %" PRIu64
               "; after late_init free %" PRIu64 " deferred %" PRIu64 "\n",
               res->pages, s->max_pfn, s->free_boot, s->deferred_boot,
               s->free_late, s->deferred_late);
        printf("  host   sizeof(struct mmsim_page) %zu; mem_map calloc %.1f "
               "MiB = %.2f B/page (virtual, max_pfn entries)\n",
               sizeof(struct mmsim_page), (double)s->mem_map_bytes / MIB,
               (double)s->mem_map_bytes / pages);
        printf("  host   allocated via hook: after boot %.1f MiB (other "
               "than mem_map %.1f KiB), after late_init %.1f MiB, peak "
               "%.1f MiB = %.2f B/page (virtual)\n",
               (double)s->host_boot / MIB,
               (double)(s->host_boot - s->mem_map_bytes) / KIB,
               (double)s->host_late / MIB, (double)s->host_peak / MIB,
               (double)s->host_peak / pages);
        printf("  host   RSS touched: after boot %.3f B/page, after "
               "late_init %.3f B/page (medians; target <= 16)\n",
               res->rss_boot_pp, res->rss_late_pp);
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench-boot [options]\n"
               "\n"
               "Boot time (description to first allocation served, then\n"
               "late_init) and host memory per simulated page.\n"
               "\n"
               "options:\n"
               "  --sizes LIST    machine sizes, comma-separated "
               "(default 64G,1T)\n"
               "  --nodes N       NUMA nodes (default 2)\n"
               "  --cpus N        simulated CPUs (default 2)\n"
               "  --reps N        boots per size, 1..16 (default 3)\n"
               "  --long          9 boots per size\n"
               "  --seed N        printed; bench-boot makes no random choices\n"
               "  --bootlog       print the first boot's kernel log per size\n"
               "  --help          this text\n"
               "\n"
               "Targets: a 1 TiB machine boots, description to first\n"
               "allocation served, in <= 1 s; <= 16 bytes of host memory per\n"
               "simulated page.\n");
}

static int parse_sizes(struct opts *o, const char *arg)
{
    char buf[256];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", arg);
    o->nr_sizes = 0;
    for (char *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        uint64_t v = bench_parse_size(t);

        if (!v || o->nr_sizes == MAX_SIZES) {
            fprintf(stderr, "bench-boot: bad size '%s' (at most %d)\n", t,
                    MAX_SIZES);
            return -1;
        }
        o->sizes[o->nr_sizes++] = v;
    }
    return o->nr_sizes ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"seed", required_argument, NULL, 's'},
        {"sizes", required_argument, NULL, 'z'},
        {"nodes", required_argument, NULL, 'n'},
        {"cpus", required_argument, NULL, 'c'},
        {"reps", required_argument, NULL, 'r'},
        {"long", no_argument, NULL, 'l'},
        {"bootlog", no_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {
        .seed = 1,
        .sizes = {64 * GIB, TIB},
        .nr_sizes = 2,
        .nodes = 2,
        .cpus = 2,
        .reps = 3,
    };
    struct result res[MAX_SIZES];
    unsigned failures = 0;
    int c;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 's':
            o.seed = bench_parse_u64("--seed", optarg);
            break;
        case 'z':
            if (parse_sizes(&o, optarg))
                return 2;
            break;
        case 'n':
            o.nodes = (unsigned)bench_parse_u64("--nodes", optarg);
            break;
        case 'c':
            o.cpus = (unsigned)bench_parse_u64("--cpus", optarg);
            break;
        case 'r':
            o.reps = (unsigned)bench_parse_u64("--reps", optarg);
            break;
        case 'l':
            o.reps = 9;
            break;
        case 'b':
            o.bootlog = true;
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
    if (o.reps < 1 || o.reps > 16) {
        fprintf(stderr, "bench-boot: --reps must be 1..16\n");
        return 2;
    }
    printf("bench-boot: seed %" PRIu64 " (no random choices are made), "
           "assertions %s\n",
           o.seed,
#ifdef NDEBUG
           "off"
#else
           "on"
#endif
    );
    printf("struct sizes: mmsim_page %zu, mmsim_zone %zu, mmsim_pcp %zu, "
           "mmsim_pgdat %zu, mmsim_machine %zu\n",
           sizeof(struct mmsim_page), sizeof(struct mmsim_zone),
           sizeof(struct mmsim_pcp), sizeof(struct mmsim_pgdat),
           sizeof(struct mmsim_machine));
    for (unsigned i = 0; i < o.nr_sizes; i++) {
        if (run_size(&o, o.sizes[i], &res[i]))
            return 1;
        failures += res[i].check_failures;
    }

    printf("\n== summary (medians; min in brackets) ==\n");
    printf("%-8s %12s %12s %16s %14s %10s %10s %10s\n", "size", "create ms",
           "1st alloc us", "desc->alloc ms", "late_init ms", "mem_map B/p",
           "RSS B/p", "RSS B/p");
    printf("%-8s %12s %12s %16s %14s %10s %10s %10s\n", "", "", "", "<= 1000",
           "", "virtual", "boot", "late <=16");
    for (unsigned i = 0; i < o.nr_sizes; i++) {
        const struct result *r = &res[i];
        char sz[32], a[32], b[32], d[32], e[32];

        snprintf(a, sizeof(a), "%.1f (%.1f)", r->create_ms.median,
                 r->create_ms.min);
        snprintf(b, sizeof(b), "%.0f (%.0f)", r->first_us.median,
                 r->first_us.min);
        snprintf(d, sizeof(d), "%.1f (%.1f)", r->to_first_ms.median,
                 r->to_first_ms.min);
        snprintf(e, sizeof(e), "%.1f (%.1f)", r->late_ms.median,
                 r->late_ms.min);
        printf("%-8s %12s %12s %16s %14s %10.2f %10.3f %10.3f\n",
               bench_fmt_size(r->bytes, sz, sizeof(sz)), a, b, d, e,
               (double)r->last.mem_map_bytes / (double)r->pages, r->rss_boot_pp,
               r->rss_late_pp);
    }
    printf("mmsim_check failures: %u\n", failures);
    return failures ? 1 : 0;
}
