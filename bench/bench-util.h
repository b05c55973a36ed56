/*
 * bench-util.h - helpers shared by the benchmark programs: a monotonic
 * clock, a seeded PRNG, size parsing, sample statistics, host RSS, and the
 * machine description the benchmarks boot.
 *
 * Everything is static inline so each program includes what it uses
 * without a library of its own. No globals.
 */
#ifndef MMSIM_BENCH_UTIL_H
#define MMSIM_BENCH_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmsim/desc.h"
#include "mmsim/mm.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/*
 * xoshiro256** seeded through splitmix64: fast, good enough for choosing
 * orders and victims, and reproducible from one 64-bit seed.
 */
struct bench_rng {
    uint64_t s[4];
};

static inline uint64_t bench_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Seed @r from @seed; @stream separates independent generators. */
static inline void bench_rng_seed(struct bench_rng *r, uint64_t seed,
                                  uint64_t stream)
{
    uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));

    for (int i = 0; i < 4; i++)
        r->s[i] = bench_splitmix64(&x);
}

static inline uint64_t bench_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = bench_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bench_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is 2^-32). */
static inline uint32_t bench_rng_below(struct bench_rng *r, uint32_t n)
{
    return (uint32_t)(((bench_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Parse "4G", "64GiB", "1T", "512M", "4096" (bytes). 0 on error. */
static inline uint64_t bench_parse_size(const char *s)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return 0;
    switch (*end) {
    case 'k':
    case 'K':
        mul = KIB;
        end++;
        break;
    case 'm':
    case 'M':
        mul = MIB;
        end++;
        break;
    case 'g':
    case 'G':
        mul = GIB;
        end++;
        break;
    case 't':
    case 'T':
        mul = TIB;
        end++;
        break;
    default:
        break;
    }
    if (mul != 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
        end += strlen(end);
    if (*end || v > UINT64_MAX / mul)
        return 0;
    return (uint64_t)v * mul;
}

/* Parse a non-negative integer option; exits with a message on error. */
static inline uint64_t bench_parse_u64(const char *opt, const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "%s: bad number '%s'\n", opt, s);
        exit(2);
    }
    return (uint64_t)v;
}

/* "4 GiB", "1 TiB", "640 MiB" for whole multiples, else bytes. */
static inline const char *bench_fmt_size(uint64_t bytes, char *buf, size_t len)
{
    if (bytes && bytes % TIB == 0)
        snprintf(buf, len, "%" PRIu64 " TiB", bytes / TIB);
    else if (bytes && bytes % GIB == 0)
        snprintf(buf, len, "%" PRIu64 " GiB", bytes / GIB);
    else if (bytes && bytes % MIB == 0)
        snprintf(buf, len, "%" PRIu64 " MiB", bytes / MIB);
    else
        snprintf(buf, len, "%" PRIu64 " B", bytes);
    return buf;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median and minimum of @n samples (sorts @v in place). */
struct bench_stat {
    double median;
    double min;
    double max;
};

static inline struct bench_stat bench_stats(double *v, size_t n)
{
    struct bench_stat st = {0, 0, 0};

    if (!n)
        return st;
    qsort(v, n, sizeof(*v), bench_cmp_double);
    st.min = v[0];
    st.max = v[n - 1];
    st.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return st;
}

/* Resident set size of this process in bytes (/proc/self/statm), or 0. */
static inline uint64_t bench_rss_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    long page = sysconf(_SC_PAGESIZE);

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

/*
 * The benchmark machine: @total bytes of RAM split evenly over @nr_nodes
 * nodes (SLIT 10/21), with a PC-like shape: node 0 starts at 1 MiB with
 * up to 1 GiB of low memory (ZONE_DMA and ZONE_DMA32), skips the hole
 * below 4 GiB, and continues at 4 GiB (ZONE_NORMAL); every further node
 * follows contiguously. @total must be a multiple of @nr_nodes * 2 MiB.
 *
 * Return: 0, or -1 with a message in @err.
 */
static inline int bench_build_desc(struct mmsim_desc *d, uint64_t total,
                                   unsigned nr_nodes, unsigned nr_cpus,
                                   char *err, size_t errlen)
{
    uint64_t share, next = 4 * GIB;

    mmsim_desc_init(d);
    if (nr_nodes == 0 || nr_nodes > MMSIM_MAX_NODES || total == 0 ||
        total % (nr_nodes * 2 * MIB)) {
        snprintf(err, errlen,
                 "memory size must be a non-zero multiple of %u x 2 MiB",
                 nr_nodes ? nr_nodes : 1);
        return -1;
    }
    share = total / nr_nodes;
    d->nr_cpus = nr_cpus;
    for (unsigned n = 0; n < nr_nodes; n++) {
        uint64_t size = share;

        if (n == 0) {
            uint64_t low = size < GIB ? size : GIB;

            /* Page 0..1 MiB stays the BIOS's, as on a PC. */
            mmsim_desc_add_range(d, 0, MIB, low - MIB);
            size -= low;
        }
        if (size) {
            mmsim_desc_add_range(d, (int)n, next, size);
            next += size;
        }
        for (unsigned o = 0; o < n; o++)
            mmsim_desc_set_distance(d, (int)o, (int)n, 21);
    }
    if (mmsim_desc_validate(d, err, errlen))
        return -1;
    return 0;
}

/* Managed pages of node @nid, summed over its zones. */
static inline uint64_t bench_node_managed(struct mmsim_machine *m, int nid)
{
    uint64_t sum = 0;

    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        struct mmsim_zone_info zi;

        if (mmsim_zone_info(m, nid, (enum mmsim_zone_type)t, &zi) == 0)
            sum += zi.managed;
    }
    return sum;
}

/* Free pages (buddy + pcp) and deferred pages of the whole machine. */
static inline void bench_machine_free(struct mmsim_machine *m, uint64_t *free,
                                      uint64_t *pcp, uint64_t *deferred)
{
    *free = *pcp = *deferred = 0;
    for (unsigned n = 0; n < mmsim_machine_nr_nodes(m); n++) {
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)n, (enum mmsim_zone_type)t, &zi))
                continue;
            *free += zi.free;
            *pcp += zi.pcp;
            *deferred += zi.deferred;
        }
    }
}

/*
 * Run mmsim_check() (@full: with the page-frame walk), print its verdict
 * and time after @what, and count a failure in *@failures.
 * Return: 0 when consistent.
 */
static inline int bench_check(struct mmsim_machine *m, bool full,
                              const char *what, unsigned *failures)
{
    char err[512];
    uint64_t t0 = bench_now_ns();
    int rc = mmsim_check(m, full, err, sizeof(err));
    double ms = (double)(bench_now_ns() - t0) / 1e6;

    if (rc == 0) {
        printf("  mmsim_check(%s) after %s: OK (%.1f ms)\n",
               full ? "full" : "fast", what, ms);
        return 0;
    }
    printf("  mmsim_check(%s) after %s: FAILED %s: %s\n",
           full ? "full" : "fast", what, mmsim_err_name(rc), err);
    (*failures)++;
    return -1;
}

#endif /* MMSIM_BENCH_UTIL_H */
