// SPDX-License-Identifier: MIT
/*
 * bench-reclaim.c - reclaim and swap figures: how fast anonymous pages go
 * to the swap file and come back, against plain file I/O on the same
 * file system, and what memory pressure does to allocation latency.
 * Prints numbers; never asserts on them.
 *
 * Parts:
 *
 *  a  plain file I/O: N sequential 4 KiB pwrite()s to an unnamed file in
 *     --dir, then N pread()s of them: pages/s and MiB/s. The yardstick.
 *     One file serves every rep, as one swap device serves every rep of
 *     (b): the first rep of each allocates the file's blocks.
 *  b  swap: a one-node machine of --mem with page contents and a swap
 *     file in --dir (an unnamed temporary file: swap_path names the
 *     directory). An address space writes N patterned pages (N below the
 *     RAM), then mmsim_reclaim_step() runs until every one is on swap:
 *     swap-out pages/s (pswpout). Then every page is read back, a major
 *     fault each, and compared: swap-in pages/s. Both as ratios to (a).
 *  c  order-0 mmsim_alloc_pages(GFP_KERNEL) latency, p50/p99/p99.9/max:
 *     on an idle machine, then --rounds times with memory full of
 *     anonymous pages, swap room for them, kswapd running
 *     (mmsim_kswapd_start()) and the allocated pages held, so reclaim has
 *     to make room for every one of them.
 *  d  during the pressure rounds of (c): CPU time of the threads named
 *     kswapd* (/proc/self/task/TID/comm; schedstat, else stat ticks) over
 *     the wall time of the timed allocations.
 *
 * --no-dma starts the RAM at 16 MiB, so the machines have no ZONE_DMA.
 *
 * mmsim_check() runs after each phase, outside the timed regions, and its
 * verdict is printed. --seed (printed) seeds the page patterns and the
 * order in which (c) frees; everything else is deterministic.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-util.h"
#include "mmsim/mm.h"
#include "mmsim/vm.h"

#define PAGE UINT64_C(4096)

#define PART_A 0x1u
#define PART_B 0x2u
#define PART_C 0x4u
#define PART_D 0x8u

struct opts {
    uint64_t seed;
    const char *dir;
    uint64_t mem_bytes;
    uint64_t pages;       /* (a), (b): N */
    uint64_t alloc_pages; /* (c): allocations per phase */
    unsigned reps;
    unsigned rounds; /* (c): pressure phases */
    unsigned parts;
    bool full_check;
    bool no_dma; /* RAM from 16 MiB: no ZONE_DMA */
};

/* Medians of (a) and (b), for the ratios. */
struct figures {
    double file_write, file_read; /* pages/s */
    double swap_out, swap_in;
    unsigned check_failures;
    bool failed;
};

/* ---- helpers --------------------------------------------------------------
 */

/* Page @page of the pattern for @seed: 512 words of a xorshift stream. */
static void pattern(uint8_t *buf, uint64_t seed, uint64_t page)
{
    uint64_t x = seed * UINT64_C(0x9e3779b97f4a7c15) + page + 1;

    for (unsigned i = 0; i < PAGE / 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i * 8, &x, 8);
    }
}

static int check(struct mmsim_machine *m, const struct opts *o,
                 struct figures *f, const char *what)
{
    return bench_check(m, o->full_check, what, &f->check_failures);
}

static uint64_t vmstat(struct mmsim_machine *m, const char *name)
{
    int64_t v = mmsim_vmstat_get(m, name);

    return v < 0 ? 0 : (uint64_t)v;
}

/* An unnamed file in @dir (O_TMPFILE, else a file unlinked at once). */
static int tmpfile_in(const char *dir)
{
    char path[4096];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd >= 0)
        return fd;
    snprintf(path, sizeof(path), "%s/bench-reclaim.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* A one-node machine of @mem bytes, contents on, @swap_bytes of swap in
 * a temporary file in @dir. */
static struct mmsim_machine *boot(const struct opts *o, uint64_t mem,
                                  uint64_t swap_bytes)
{
    struct mmsim_desc d;
    struct mmsim_machine *m = NULL;
    struct mmsim_swap_info si;
    char err[512], sz[32], ssz[32];
    int rc;

    if (o->no_dma) {
        mmsim_desc_init(&d);
        d.nr_cpus = 2;
        mmsim_desc_add_range(&d, 0, 16 * MIB, mem);
    } else if (bench_build_desc(&d, mem, 1, 2, err, sizeof(err))) {
        fprintf(stderr, "bench-reclaim: %s\n", err);
        return NULL;
    }
    d.contents = true;
    d.swap_bytes = swap_bytes;
    snprintf(d.swap_path, sizeof(d.swap_path), "%s", o->dir);
    rc = mmsim_machine_create(&d, NULL, &m, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "bench-reclaim: mmsim_machine_create: %s: %s\n",
                mmsim_err_name(rc), err);
        return NULL;
    }
    mmsim_machine_late_init(m);
    mmsim_swap_info(m, &si);
    printf("  machine: %s from %s, 1 node, 2 cpus, contents; swap %s on %s\n",
           bench_fmt_size(mem, sz, sizeof(sz)),
           o->no_dma ? "16 MiB (no DMA zone)" : "1 MiB (DMA, DMA32)",
           bench_fmt_size(swap_bytes, ssz, sizeof(ssz)), si.path);
    return m;
}

static void print_rate(const char *what, double *v, unsigned n, double *median)
{
    struct bench_stat st = bench_stats(v, n);

    printf("  %-24s median %10.0f pages/s (%7.1f MiB/s)  min %10.0f  max "
           "%10.0f\n",
           what, st.median, st.median * 4096 / (double)MIB, st.min, st.max);
    if (median)
        *median = st.median;
}

/* ---- (a) plain file I/O ------------------------------------------------- */

static int part_file(const struct opts *o, struct figures *f)
{
    double *wr = calloc(o->reps, sizeof(double));
    double *rd = calloc(o->reps, sizeof(double));
    uint8_t *buf = aligned_alloc(4096, 2 * PAGE);
    int ret = 0, fd = -1;

    printf("\n(a) plain file: %" PRIu64
           " sequential 4 KiB pwrite()s, then pread()s, in %s, x %u reps\n",
           o->pages, o->dir, o->reps);
    if (!wr || !rd || !buf) {
        ret = -1;
        goto out;
    }
    /* One file for every rep, sized first, as the swap device is. */
    fd = tmpfile_in(o->dir);
    if (fd < 0 || ftruncate(fd, (off_t)(o->pages * PAGE))) {
        perror("bench-reclaim: a file in --dir");
        ret = -1;
        goto out;
    }
    for (unsigned r = 0; r < o->reps && !ret; r++) {
        uint64_t tw = 0, tr = 0, bad = 0;

        for (uint64_t i = 0; i < o->pages; i++) {
            uint64_t t0;
            ssize_t n;

            pattern(buf, o->seed + r, i);
            t0 = bench_now_ns();
            n = pwrite(fd, buf, PAGE, (off_t)(i * PAGE));
            tw += bench_now_ns() - t0;
            if (n != (ssize_t)PAGE) {
                perror("bench-reclaim: pwrite");
                ret = -1;
                break;
            }
        }
        for (uint64_t i = 0; i < o->pages && !ret; i++) {
            uint64_t t0 = bench_now_ns();
            ssize_t n = pread(fd, buf, PAGE, (off_t)(i * PAGE));

            tr += bench_now_ns() - t0;
            if (n != (ssize_t)PAGE) {
                perror("bench-reclaim: pread");
                ret = -1;
                break;
            }
            pattern(buf + PAGE, o->seed + r, i);
            bad += memcmp(buf, buf + PAGE, PAGE) != 0;
        }
        if (bad) {
            fprintf(stderr,
                    "bench-reclaim: %" PRIu64 " pages read back wrong\n", bad);
            ret = -1;
        }
        wr[r] = (double)o->pages / ((double)tw / 1e9);
        rd[r] = (double)o->pages / ((double)tr / 1e9);
    }
    if (!ret) {
        print_rate("pwrite 4 KiB", wr, o->reps, &f->file_write);
        print_rate("pread 4 KiB", rd, o->reps, &f->file_read);
    }
out:
    if (fd >= 0)
        close(fd);
    free(wr);
    free(rd);
    free(buf);
    return ret;
}

/* ---- (b) swap-out and swap-in ------------------------------------------- */

/* Write pages [0, n) of @mm at @addr; return seconds or < 0. */
static double fill(struct mmsim_mm *mm, uint64_t addr, uint64_t n,
                   uint64_t seed)
{
    uint8_t buf[4096];
    uint64_t t0 = bench_now_ns();

    for (uint64_t i = 0; i < n; i++) {
        int rc;

        pattern(buf, seed, i);
        rc = mmsim_mm_write(mm, 0, addr + i * PAGE, buf, PAGE);
        if (rc) {
            fprintf(stderr, "bench-reclaim: write page %" PRIu64 ": %s\n", i,
                    mmsim_err_name(rc));
            return -1;
        }
    }
    return (double)(bench_now_ns() - t0) / 1e9;
}

static int part_swap(const struct opts *o, struct figures *f)
{
    /* Swap for every page plus slack; whole pages. */
    uint64_t swap_bytes = (o->pages + 1024) * PAGE;
    struct mmsim_machine *m;
    double *out = calloc(o->reps, sizeof(double));
    double *in = calloc(o->reps, sizeof(double));
    double *faultin = calloc(o->reps, sizeof(double));
    uint64_t steps_total = 0;
    int ret = 0;

    printf("\n(b) swap: %" PRIu64 " patterned pages written, reclaimed to "
           "swap, read back, x %u reps\n",
           o->pages, o->reps);
    m = boot(o, o->mem_bytes, swap_bytes);
    if (!m || !out || !in || !faultin) {
        ret = -1;
        goto out;
    }
    if (o->pages >= bench_node_managed(m, 0)) {
        fprintf(stderr,
                "bench-reclaim: --pages %" PRIu64
                " must be below the machine's %" PRIu64 " managed pages\n",
                o->pages, bench_node_managed(m, 0));
        ret = -1;
        goto out;
    }
    for (unsigned r = 0; r < o->reps && !ret; r++) {
        struct mmsim_mm *mm = NULL;
        struct mmsim_mm_stat st;
        uint64_t addr, seed = o->seed * 1000 + r, out0, in0, t0, steps = 0;
        uint64_t tin = 0, bad = 0, idle = 0;
        uint8_t want[4096], got[4096];
        double secs;

        if (mmsim_mm_create(m, 1, "bench", &mm) ||
            mmsim_mmap(mm, o->pages, 0, &addr)) {
            fprintf(stderr, "bench-reclaim: mm_create/mmap failed\n");
            mmsim_mm_destroy(mm);
            ret = -1;
            break;
        }
        secs = fill(mm, addr, o->pages, seed);
        if (secs < 0) {
            mmsim_mm_destroy(mm);
            ret = -1;
            break;
        }
        faultin[r] = (double)o->pages / secs;

        /* Swap-out: steps until every page is on swap. */
        out0 = vmstat(m, "pswpout");
        t0 = bench_now_ns();
        for (;;) {
            struct mmsim_reclaim_result res;

            mmsim_reclaim_step(m, 0, MMSIM_RECLAIM_KSWAPD, &res);
            steps++;
            if (vmstat(m, "pswpout") - out0 >= o->pages)
                break;
            idle = res.scanned || res.deactivated ? 0 : idle + 1;
            if (idle > 64)
                break;
        }
        secs = (double)(bench_now_ns() - t0) / 1e9;
        steps_total += steps;
        mmsim_mm_stat(mm, &st);
        if (st.swapents != o->pages) {
            fprintf(stderr,
                    "bench-reclaim: only %" PRIu64 " of %" PRIu64
                    " pages went to swap\n",
                    st.swapents, o->pages);
            ret = -1;
        }
        out[r] = (double)(vmstat(m, "pswpout") - out0) / secs;
        if (r == 0 && check(m, o, f, "swap-out"))
            ret = -1;

        /* Swap-in: every page, a major fault each. */
        in0 = vmstat(m, "pswpin");
        for (uint64_t i = 0; i < o->pages && !ret; i++) {
            uint64_t t = bench_now_ns();
            int rc = mmsim_mm_read(mm, 0, addr + i * PAGE, got, PAGE);

            tin += bench_now_ns() - t;
            if (rc) {
                fprintf(stderr, "bench-reclaim: read page %" PRIu64 ": %s\n", i,
                        mmsim_err_name(rc));
                ret = -1;
                break;
            }
            pattern(want, seed, i);
            bad += memcmp(want, got, PAGE) != 0;
        }
        if (bad) {
            fprintf(stderr,
                    "bench-reclaim: %" PRIu64 " pages came back wrong\n", bad);
            ret = -1;
        }
        if (!ret && vmstat(m, "pswpin") - in0 != o->pages) {
            fprintf(stderr,
                    "bench-reclaim: %" PRIu64 " major faults, not %" PRIu64
                    "\n",
                    vmstat(m, "pswpin") - in0, o->pages);
            ret = -1;
        }
        in[r] = (double)o->pages / ((double)tin / 1e9);
        if (r == 0 && !ret && check(m, o, f, "swap-in"))
            ret = -1;
        mmsim_mm_destroy(mm);
    }
    if (!ret) {
        print_rate("first touch (write)", faultin, o->reps, NULL);
        print_rate("swap-out (pswpout)", out, o->reps, &f->swap_out);
        printf("  %-24s %.1f reclaim steps per rep (%.2f per page)\n", "",
               (double)steps_total / o->reps,
               (double)steps_total / o->reps / (double)o->pages);
        print_rate("swap-in (major faults)", in, o->reps, &f->swap_in);
        if (check(m, o, f, "the swap runs"))
            ret = -1;
    }
out:
    mmsim_machine_destroy(m);
    free(out);
    free(in);
    free(faultin);
    return ret;
}

/* ---- (c) allocation latency and (d) kswapd CPU --------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void print_latency(const char *what, uint64_t *ns, uint64_t n)
{
    if (!n) {
        printf("  %-22s no samples\n", what);
        return;
    }
    qsort(ns, n, sizeof(*ns), cmp_u64);
    printf("  %-22s p50 %8.2f us  p99 %8.2f us  p99.9 %9.2f us  max %9.2f "
           "us  (%" PRIu64 " allocations)\n",
           what, (double)ns[n / 2] / 1e3, (double)ns[n * 99 / 100] / 1e3,
           (double)ns[n * 999 / 1000] / 1e3, (double)ns[n - 1] / 1e3, n);
}

/* CPU time (ns) of this process's threads named kswapd*; @src says from
 * where: schedstat (ns) or stat (clock ticks). -1: none found. */
static int64_t kswapd_cpu_ns(const char **src)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int64_t sum = -1;
    long hz = sysconf(_SC_CLK_TCK);

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], comm[32] = "", line[1024];
        unsigned long long v = 0, ut = 0, stt = 0;
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof(comm), f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "kswapd", 6) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
        f = fopen(path, "r");
        if (f && fscanf(f, "%llu", &v) == 1) {
            fclose(f);
            sum = (sum < 0 ? 0 : sum) + (int64_t)v;
            *src = "schedstat";
            continue;
        }
        if (f)
            fclose(f);
        /* utime and stime: fields 14 and 15, after the ")" of comm. */
        snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(line, sizeof(line), f)) {
            const char *p = strrchr(line, ')');

            if (p && sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                            "%*u %llu %llu",
                            &ut, &stt) == 2) {
                sum = (sum < 0 ? 0 : sum) +
                      (int64_t)((ut + stt) * 1000000000ull /
                                (unsigned long long)(hz > 0 ? hz : 100));
                *src = "stat ticks";
            }
        }
        fclose(f);
    }
    closedir(d);
    return sum;
}

/* Allocate @n order-0 pages, holding them in @pfns, timing each. */
static int alloc_run(struct mmsim_machine *m, uint64_t n, uint64_t *pfns,
                     uint64_t *ns, uint64_t *got)
{
    *got = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns();
        int rc = mmsim_alloc_pages(m, 0, MMSIM_GFP_KERNEL, 0, MMSIM_ANY_NODE,
                                   &pfns[i]);

        ns[i] = bench_now_ns() - t0;
        if (rc) {
            fprintf(stderr, "bench-reclaim: allocation %" PRIu64 ": %s\n", i,
                    mmsim_err_name(rc));
            return -1;
        }
        (*got)++;
    }
    return 0;
}

static void free_all(struct mmsim_machine *m, uint64_t *pfns, uint64_t n,
                     uint64_t seed)
{
    struct bench_rng rng;

    /* A shuffled order, so the next phase does not see tidy lists. */
    bench_rng_seed(&rng, seed, 3);
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = bench_rng_below(&rng, (uint32_t)i), t = pfns[i - 1];

        pfns[i - 1] = pfns[j];
        pfns[j] = t;
    }
    for (uint64_t i = 0; i < n; i++)
        mmsim_free_pages(m, 0, pfns[i], 0);
}

static int part_pressure(const struct opts *o, struct figures *f)
{
    uint64_t mem_pages = o->mem_bytes / PAGE, k = o->alloc_pages, got = 0;
    unsigned rounds = o->rounds;
    /* Swap for all of RAM and the allocations: nothing has to be killed. */
    uint64_t swap_bytes = (mem_pages + k + 1024) * PAGE;
    uint64_t *pfns = calloc(k ? k : 1, sizeof(uint64_t));
    uint64_t *ns = calloc(k ? k * rounds : 1, sizeof(uint64_t));
    struct mmsim_machine *m;
    struct mmsim_mm *mm = NULL;
    uint64_t managed, addr = 0, fill_pages, wall = 0, samples = 0;
    uint64_t ev[6] = {0};
    static const char *const evn[6] = {
        "pswpout",          "pgsteal_kswapd", "pgsteal_direct",
        "allocstall_dma32", "pageoutrun",     "mmsim_kswapd_wakeups"};
    int64_t cpu = 0;
    bool cpu_ok = true;
    const char *src = "?";
    int ret = 0;

    printf("\n(c) order-0 GFP_KERNEL allocation latency, %" PRIu64
           " allocations held per phase\n",
           k);
    m = boot(o, o->mem_bytes, swap_bytes);
    if (!m || !pfns || !ns) {
        ret = -1;
        goto out;
    }
    managed = bench_node_managed(m, 0);

    /* Idle: plenty of free memory. */
    if (k > managed / 4 * 3) {
        fprintf(stderr,
                "bench-reclaim: --alloc-pages %" PRIu64
                " must be at most 3/4 of the %" PRIu64 " managed pages\n",
                k, managed);
        ret = -1;
        goto out;
    }
    if (alloc_run(m, k, pfns, ns, &got) == 0)
        print_latency("idle machine", ns, k);
    else
        ret = -1;
    free_all(m, pfns, got, o->seed);
    mmsim_drain_all(m);
    if (check(m, o, f, "the idle phase"))
        ret = -1;
    if (ret)
        goto out;

    /*
     * Each round: fill memory with anonymous pages (writing every page of
     * a RAM-sized mapping; from the second round on, most come back from
     * swap), start kswapd, allocate while holding, stop kswapd, free.
     */
    fill_pages = managed;
    if (mmsim_mm_create(m, 1, "filler", &mm) ||
        mmsim_mmap(mm, fill_pages, 0, &addr)) {
        fprintf(stderr, "bench-reclaim: mm_create/mmap failed\n");
        ret = -1;
        goto out;
    }
    for (unsigned r = 0; r < rounds && !ret; r++) {
        struct mmsim_mm_stat st;
        uint64_t free_, pcp, def, ev0[6], t0;
        int64_t cpu0 = -1, cpu1 = -1;

        if (fill(mm, addr, fill_pages, o->seed + r) < 0) {
            ret = -1;
            break;
        }
        mmsim_mm_stat(mm, &st);
        bench_machine_free(m, &free_, &pcp, &def);
        printf("  round %u: memory full: %" PRIu64 " anonymous pages "
               "resident, %" PRIu64 " on swap, %" PRIu64 " free\n",
               r + 1, st.rss, st.swapents, free_ + pcp);
        if (mmsim_kswapd_start(m)) {
            fprintf(stderr, "bench-reclaim: mmsim_kswapd_start failed\n");
            ret = -1;
            break;
        }
        /* The threads name themselves when they first run. */
        for (int i = 0; i < 1000 && (cpu0 = kswapd_cpu_ns(&src)) < 0; i++)
            usleep(1000);
        for (int i = 0; i < 6; i++)
            ev0[i] = vmstat(m, evn[i]);
        t0 = bench_now_ns();
        if (alloc_run(m, k, pfns, ns + samples, &got))
            ret = -1;
        wall += bench_now_ns() - t0;
        cpu1 = kswapd_cpu_ns(&src);
        for (int i = 0; i < 6; i++)
            ev[i] += vmstat(m, evn[i]) - ev0[i];
        mmsim_kswapd_stop(m);
        samples += got;
        if (cpu0 < 0 || cpu1 < 0)
            cpu_ok = false;
        else
            cpu += cpu1 - cpu0;
        free_all(m, pfns, got, o->seed + 1 + r);
        if (check(m, o, f, "the pressure round"))
            ret = -1;
    }
    if (!ret)
        print_latency("under pressure", ns, samples);
    printf("  during the timed allocations:");
    for (int i = 0; i < 6; i++)
        printf(" %s +%" PRIu64, evn[i], ev[i]);
    printf("\n");

    if (o->parts & PART_D) {
        printf("\n(d) kswapd CPU during the pressure phases (%u x %" PRIu64
               " allocations, %.2f s wall)\n",
               rounds, k, (double)wall / 1e9);
        if (!cpu_ok)
            printf("  no kswapd thread found in /proc/self/task\n");
        else
            printf("  kswapd0 CPU %.3f s of %.3f s wall: %.1f%% (from %s; "
                   "%ld host cpus)\n",
                   (double)cpu / 1e9, (double)wall / 1e9,
                   100.0 * (double)cpu / (double)wall, src,
                   sysconf(_SC_NPROCESSORS_ONLN));
    }
    if (!ret) {
        /* Every anonymous page survived the pressure. */
        uint8_t want[4096], buf[4096];
        uint64_t bad = 0;

        for (uint64_t i = 0; i < fill_pages && !ret; i += 7) {
            if (mmsim_mm_read(mm, 0, addr + i * PAGE, buf, PAGE)) {
                ret = -1;
                break;
            }
            pattern(want, o->seed + rounds - 1, i);
            bad += memcmp(want, buf, PAGE) != 0;
        }
        if (bad) {
            fprintf(stderr, "bench-reclaim: %" PRIu64 " pages lost\n", bad);
            ret = -1;
        }
    }
out:
    mmsim_mm_destroy(mm);
    mmsim_machine_destroy(m);
    free(pfns);
    free(ns);
    return ret;
}

/* ---- main -----------------------------------------------------------------
 */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench-reclaim [options]\n"
            "  --seed N          page patterns and free order (default 1)\n"
            "  --dir DIR         where the files go (default $TMPDIR, else "
            "/var/tmp)\n"
            "  --mem SIZE        RAM of the machines (default 512M)\n"
            "  --pages N         pages for (a) and (b) (default 65536; below "
            "RAM)\n"
            "  --alloc-pages N   allocations per phase of (c) (default 65536)\n"
            "  --reps N          repetitions of (a) and (b) (default 7)\n"
            "  --rounds N        pressure phases of (c) and (d) (default 5)\n"
            "  --only PARTS      a subset of abcd (d needs c)\n"
            "  --fast-check      mmsim_check() without the page-frame walk\n"
            "  --no-dma          RAM from 16 MiB: no ZONE_DMA (default: from 1 "
            "MiB)\n"
            "  --help\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"dir", required_argument, NULL, 'D'},
        {"mem", required_argument, NULL, 'm'},
        {"pages", required_argument, NULL, 'p'},
        {"alloc-pages", required_argument, NULL, 'k'},
        {"reps", required_argument, NULL, 'r'},
        {"rounds", required_argument, NULL, 'R'},
        {"only", required_argument, NULL, 'o'},
        {"fast-check", no_argument, NULL, 'f'},
        {"no-dma", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {
        .seed = 1,
        .mem_bytes = 512 * MIB,
        .pages = 65536,
        .alloc_pages = 65536,
        .reps = 7,
        .rounds = 5,
        .parts = PART_A | PART_B | PART_C | PART_D,
        .full_check = true,
    };
    struct figures f = {0};
    const char *tmp = getenv("TMPDIR");
    char sz[32];
    int c;

    setvbuf(stdout, NULL, _IOLBF, 0);
    o.dir = tmp && *tmp ? tmp : "/var/tmp";
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.seed = bench_parse_u64("--seed", optarg);
            break;
        case 'D':
            o.dir = optarg;
            break;
        case 'm':
            o.mem_bytes = bench_parse_size(optarg);
            if (!o.mem_bytes || o.mem_bytes % (2 * MIB)) {
                fprintf(stderr, "--mem: a multiple of 2 MiB\n");
                return 2;
            }
            break;
        case 'p':
            o.pages = bench_parse_u64("--pages", optarg);
            break;
        case 'k':
            o.alloc_pages = bench_parse_u64("--alloc-pages", optarg);
            break;
        case 'r':
            o.reps = (unsigned)bench_parse_u64("--reps", optarg);
            break;
        case 'R':
            o.rounds = (unsigned)bench_parse_u64("--rounds", optarg);
            break;
        case 'o':
            o.parts = 0;
            for (const char *p = optarg; *p; p++) {
                if (*p < 'a' || *p > 'd') {
                    fprintf(stderr, "--only: letters a to d\n");
                    return 2;
                }
                o.parts |= 1u << (*p - 'a');
            }
            break;
        case 'f':
            o.full_check = false;
            break;
        case 'n':
            o.no_dma = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !o.pages || !o.reps || o.reps > 1000 || !o.rounds ||
        o.rounds > 1000) {
        usage(stderr);
        return 2;
    }
    if ((o.parts & PART_D) && !(o.parts & PART_C))
        o.parts |= PART_C;

    printf("bench-reclaim: seed %" PRIu64 ", dir %s, mem %s, pages %" PRIu64
           ", alloc-pages %" PRIu64 ", reps %u, rounds %u, %ld host cpus\n",
           o.seed, o.dir, bench_fmt_size(o.mem_bytes, sz, sizeof(sz)), o.pages,
           o.alloc_pages, o.reps, o.rounds, sysconf(_SC_NPROCESSORS_ONLN));
    if ((o.parts & PART_A) && part_file(&o, &f))
        f.failed = true;
    if ((o.parts & PART_B) && !f.failed && part_swap(&o, &f))
        f.failed = true;
    if ((o.parts & PART_C) && !f.failed && part_pressure(&o, &f))
        f.failed = true;

    if (f.file_write > 0 && f.swap_out > 0)
        printf("\nratios (target >= 0.5x):\n"
               "  swap-out / file pwrite  %5.2fx\n"
               "  swap-in  / file pread   %5.2fx\n",
               f.swap_out / f.file_write, f.swap_in / f.file_read);
    if (f.check_failures)
        printf("mmsim_check failed %u time(s)\n", f.check_failures);
    return f.failed || f.check_failures ? 1 : 0;
}
