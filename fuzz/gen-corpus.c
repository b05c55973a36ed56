/*
 * gen-corpus.c - write the seed inputs of every fuzz target.
 *
 * Usage: gen-corpus OUTDIR [SRCDIR]
 *
 * Writes OUTDIR/<target>/seed-NNN for mm_ops, memblock_ops, bootmem_ops,
 * vmalloc_ops, reclaim_ops and config. The operation targets' seeds are
 * built with the encoders of fuzz/ops.h (reclaim_ops.h for reclaim_ops),
 * the same tables the targets decode with, so a seed means what it says
 * here. config's seeds are option lines and YAML text, including every
 * machine file in SRCDIR/deploy/machines/ (SRCDIR defaults to the current
 * directory).
 *
 * The seeds aim at breadth: every operation, every selector with a fixed
 * meaning, every error a call documents, every machine shape the inputs
 * can express. corpus/<target>/ is these seeds after a libFuzzer
 * "-merge=1" into an empty directory (scripts/fuzz-corpus.sh), which keeps
 * only the ones that add coverage.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ops.h"
#include "reclaim_ops.h"

static const char *outdir;
static unsigned nr_written;

/* Write @o as the next seed of @target and empty it. */
static void save(const char *target, struct fz_out *o)
{
    static char last[64];
    static unsigned n;
    char path[4096];
    FILE *f;

    if (strcmp(last, target) != 0) {
        snprintf(last, sizeof(last), "%s", target);
        n = 0;
        snprintf(path, sizeof(path), "%s/%s", outdir, target);
        if (mkdir(path, 0755) && errno != EEXIST)
            fz_fail("mkdir %s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/%s/seed-%03u", outdir, target, n++);
    f = fopen(path, "wb");
    if (!f || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f))
        fz_fail("writing %s failed", path);
    nr_written++;
    o->len = 0;
}

/* ======================================================================
 * mm_ops
 * ====================================================================== */

#define MM(o, ...) fz_enc_op(o, mm_op_layout, __VA_ARGS__)

/* @nodes nodes of one range of @pages pages each, 1 MiB apart. */
static struct mm_shape mm_shape(unsigned nodes, unsigned flags, unsigned cpus,
                                unsigned max_order, unsigned pages)
{
    struct mm_shape s;

    memset(&s, 0, sizeof(s));
    s.flags = (uint8_t)(flags | (nodes - 1));
    s.cpus_order = (uint8_t)((cpus - 1) | max_order << 4);
    s.base = 16; /* 1 MiB */
    for (unsigned n = 0; n < nodes; n++) {
        s.nr_ranges[n] = 0; /* one range */
        s.range[n][0].gap = n ? 16 : 0;
        s.range[n][0].pages = (uint16_t)(pages - 1);
    }
    for (unsigned a = 0; a < nodes; a++)
        for (unsigned b = 0; b < nodes; b++)
            s.dist[a][b] = (uint8_t)(10 + 4 * (a > b ? a - b : b - a));
    return s;
}

/* Add reservation @i: @pages pages at page @off of global range @range. */
static void mm_reserve(struct mm_shape *s, unsigned range, unsigned off,
                       unsigned pages, unsigned skew)
{
    unsigned i = s->nr_reserved++;

    s->rsv[i].range = (uint8_t)range;
    s->rsv[i].off = (uint16_t)off;
    s->rsv[i].pages = (uint16_t)(pages - 1);
    s->rsv[i].skew = (uint8_t)skew;
}

/* Every operation once or more, every argument error, the views. */
static void mm_prog_basic(struct fz_out *o)
{
    for (unsigned order = 0; order <= 4; order++)
        MM(o, MM_OP_ALLOC, order, MM_GFP_SEL_KERNEL, order, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_NONE, MM_GFP_SEL_KERNEL, 5, 0, 0);
    MM(o, MM_OP_ALLOC_TAGGED, 0, MM_GFP_SEL_ATOMIC, 1, MM_NID_ANY, 0, 0xabcd);
    MM(o, MM_OP_ALLOC, 1, MM_GFP_SEL_DMA, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_DMA32, 2, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_HIGHUSER_MOVABLE, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_THISNODE, 0, 1, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_NOFAIL, 0, MM_NID_ANY, 1);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 1);
    MM(o, MM_OP_ALLOC, MM_CPU_NONE, MM_GFP_SEL_KERNEL, 4, MM_NID_ANY, 1);
    /* Argument errors. */
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_BAD, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, MM_ORDER_BIG, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, MM_ORDER_MAX1, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_BAD, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_NEG, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 0, MM_NID_BAD, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 0, MM_NID_NEG, 0);
    for (unsigned g = 0; g < MM_GFP_COUNT; g++)
        MM(o, MM_OP_ALLOC, g % 3, g, g % 3, g % 2 ? MM_NID_ANY : g, 0);
    for (unsigned k = 0; k < MM_NR_OWNER; k++)
        MM(o, MM_OP_PAGE_OWNER, k, k, 1);
    for (unsigned k = 0; k < MM_NR_BAD; k++)
        MM(o, MM_OP_FREE_BAD, k, 0, k, 3);
    MM(o, MM_OP_FREE, 0, 0);
    MM(o, MM_OP_FREE, MM_CPU_NONE, 1);
    MM(o, MM_OP_FREE, 1, 2);
    MM(o, MM_OP_FREE_BAD, MM_BAD_FREED, 0, 0, 0);
    MM(o, MM_OP_FREE_BAD, MM_BAD_FREED, MM_CPU_NONE, 1, 1);
    MM(o, MM_OP_PAGE_OWNER, MM_OWNER_FREED, 0, 0);
    for (unsigned v = 0; v < MM_NR_VIEWS; v++) {
        MM(o, MM_OP_VIEW, v, 0);
        MM(o, MM_OP_VIEW, v, 77);
    }
    for (unsigned q = 0; q < MM_NR_Q; q++)
        for (unsigned sel = 0; sel < 4; sel++)
            MM(o, MM_OP_QUERY, q, sel, sel * 7 + 1);
    MM(o, MM_OP_QUERY, MM_Q_ZONE_INFO, MM_NID_ANY, 2);
    MM(o, MM_OP_QUERY, MM_Q_ZONE_INFO, 0, MMSIM_NR_ZONE_TYPES);
    MM(o, MM_OP_QUERY, MM_Q_ZONELIST, MM_NID_BAD, 30);
    for (unsigned sel = 0; sel < 13; sel++)
        MM(o, MM_OP_QUERY, MM_Q_VMSTAT, sel, 0);
    MM(o, MM_OP_DRAIN_CPU, 0);
    MM(o, MM_OP_DRAIN_CPU, MM_CPU_NONE);
    MM(o, MM_OP_DRAIN_CPU, MM_CPU_BAD);
    MM(o, MM_OP_DRAIN_ALL);
    MM(o, MM_OP_LATE_INIT);
    MM(o, MM_OP_FREE_BURST, 0, 20, 0);
}

/* Run memory out in every way, then give it all back. */
static void mm_prog_exhaust(struct fz_out *o, unsigned gfp)
{
    for (unsigned i = 0; i < 10; i++)
        MM(o, MM_OP_ALLOC_BURST, i % 2, gfp, 0, 255);
    for (unsigned i = 0; i < 4; i++)
        MM(o, MM_OP_ALLOC_BURST, MM_CPU_NONE, MM_GFP_SEL_ATOMIC, 3, 255);
    MM(o, MM_OP_ALLOC_BURST, 1, MM_GFP_SEL_NOFAIL, 0, 255);
    MM(o, MM_OP_ALLOC_BURST, MM_CPU_NONE, MM_GFP_SEL_NOFAIL, 2, 255);
    MM(o, MM_OP_ALLOC, 0, 16 /* __GFP_HIGH */, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, 15 /* ATOMIC|NOMEMALLOC */, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_NOFAIL, 3, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, 0, 14 /* NOWARN|NORETRY */, 6, MM_NID_ANY, 0);
    MM(o, MM_OP_VIEW, MM_VIEW_ZONEINFO, 0);
    MM(o, MM_OP_VIEW, MM_VIEW_VMSTAT, 0);
    for (unsigned i = 0; i < 24; i++)
        MM(o, MM_OP_FREE_BURST, i % 3 == 2 ? MM_CPU_NONE : i % 2, 255, i % 5);
    MM(o, MM_OP_DRAIN_ALL);
    MM(o, MM_OP_VIEW, MM_VIEW_BUDDYINFO, 0);
}

/* The early-allocation API, the hand-off, free_bootmem_late. */
static void mm_prog_early(struct fz_out *o)
{
    for (unsigned call = 0; call < 9; call++)
        MM(o, MM_OP_EARLY_ALLOC, call, call % 2 ? 0 : MM_NID_ANY, 16 + call,
           call, call * 16);
    MM(o, MM_OP_EARLY_ALLOC, 0, 0, 0, 0, 0);            /* size 0 */
    MM(o, MM_OP_EARLY_ALLOC, 4, MM_NID_BAD, 64, 0, 0);  /* ENODEV */
    MM(o, MM_OP_EARLY_ALLOC, 1, 0, 64, 14, 0);          /* bad align */
    MM(o, MM_OP_EARLY_ALLOC, 3, 0, 0xffff, 15, 0xff00); /* low, 2 MiB */
    MM(o, MM_OP_EARLY_ALLOC, 7, 1, 200, 10, 0x100);     /* node_high */
    MM(o, MM_OP_EARLY_ALLOC, 2, 0, 3, 1, 0xfff0);       /* low, goal */
    for (unsigned i = 0; i < 4; i++)
        MM(o, MM_OP_EARLY_ALLOC, 6, 0, 2 + i, 2, 0); /* packing */
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_ALLOCATION, 1, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_ALLOCATION | MM_EARLY_EXCL, 1, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_DESC_RSV | MM_EARLY_EXCL, 0, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_RAW, 0, 0x0300);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_RAW | MM_EARLY_EXCL, 0, 0x2040);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_INVALID, 1, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_INVALID, 0, 0);
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_INVALID, 1, 0);
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_INVALID, 0, 0);
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_RAW, 0, 0x0300);
    for (unsigned v = 0; v < MM_NR_VIEWS; v++)
        MM(o, MM_OP_VIEW, v, 0);
    for (unsigned q = 0; q < MM_NR_Q; q++)
        MM(o, MM_OP_QUERY, q, 0, 3);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_FREE_BAD, MM_BAD_RAW_PFN, 0, 0, 0x200);
    MM(o, MM_OP_PAGE_OWNER, MM_OWNER_RAW, 0, 0x200);
    MM(o, MM_OP_PAGE_WRITE, MM_PAGE_RAW, 0, 0x200, 0, 8, 1);
    MM(o, MM_OP_DRAIN_CPU, 0);
    MM(o, MM_OP_DRAIN_ALL);
    MM(o, MM_OP_LATE_INIT);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_FINISH_BOOT);
    MM(o, MM_OP_FINISH_BOOT);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_DESC_RSV, 0, 0);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_DESC_RSV, 0, 0);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_RAW, 1, 0x0500);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_INVALID, 0, 0);
    MM(o, MM_OP_FREE_LATE, MM_EARLY_INVALID, 1, 0);
    MM(o, MM_OP_EARLY_ALLOC, 0, 0, 16, 0, 0);
    MM(o, MM_OP_EARLY_FREE, MM_EARLY_ALLOCATION, 0, 0);
    MM(o, MM_OP_EARLY_RESERVE, MM_EARLY_RAW, 0, 0);
}

/* Page contents: written bytes read back; freed pages come back zeroed. */
static void mm_prog_contents(struct fz_out *o)
{
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 2, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_NONE, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_NONE, MM_GFP_SEL_KERNEL, 5, MM_NID_ANY, 0);
    MM(o, MM_OP_PAGE_WRITE, MM_PAGE_LIVE, 0, 1, 100, 200, 0x5a);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 0, 1, 50, 300);
    MM(o, MM_OP_PAGE_WRITE, MM_PAGE_LIVE, 1, 0, 0, 4096, 0x11);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 1, 0, 0, 4096);
    MM(o, MM_OP_PAGE_WRITE, MM_PAGE_LIVE, 0, 0x8000, 4000, 200, 1);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 0, 0x8000, 4096, 1);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 2, 0, 4096, 0);
    for (unsigned p = 0; p < 32; p += 3)
        MM(o, MM_OP_PAGE_WRITE, MM_PAGE_LIVE, 2, p, p * 16, 64, p);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_RAW, 0, 5, 0, 10);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_RAW, 0, 0x300, 0, 10);
    MM(o, MM_OP_PAGE_WRITE, MM_PAGE_RAW, 0xffff, 0xffff, 0, 10, 3);
    MM(o, MM_OP_FREE, 0, 0);
    MM(o, MM_OP_FREE, MM_CPU_NONE, 1);
    MM(o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 2, MM_NID_ANY, 0);
    MM(o, MM_OP_ALLOC, MM_CPU_NONE, 18 /* __GFP_ZERO */, 5, MM_NID_ANY, 0);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 1, 1, 0, 4096);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_LIVE, 2, 3, 0, 4096);
    MM(o, MM_OP_DRAIN_ALL);
    MM(o, MM_OP_PAGE_READ, MM_PAGE_RAW, 0, 0x120, 0, 4);
}

/* Deferred pages: grow on demand, then late_init releases the rest. */
static void mm_prog_deferred(struct fz_out *o)
{
    MM(o, MM_OP_QUERY, MM_Q_ZONE_INFO, 0, MMSIM_ZONE_DMA32);
    MM(o, MM_OP_FREE_BAD, MM_BAD_RAW_PFN, 0, 1, 0x100); /* pfn 0x10100 */
    MM(o, MM_OP_PAGE_OWNER, MM_OWNER_RAW, 1, 0x100);
    for (unsigned i = 0; i < 40; i++)
        MM(o, MM_OP_ALLOC_BURST, MM_CPU_NONE, MM_GFP_SEL_KERNEL, 4, 255);
    MM(o, MM_OP_QUERY, MM_Q_VMSTAT, 9, 0);
    MM(o, MM_OP_VIEW, MM_VIEW_ZONEINFO, 0);
    MM(o, MM_OP_LATE_INIT);
    MM(o, MM_OP_FREE_BURST, MM_CPU_NONE, 255, 0);
    MM(o, MM_OP_LATE_INIT);
}

static void gen_mm(void)
{
    struct fz_out o = {0};
    struct mm_shape s;

    /* 1: one node, memblock, two reservations (one unaligned). */
    s = mm_shape(1, 0, 2, 10, 4096);
    mm_reserve(&s, 0, 10, 4, 0);
    mm_reserve(&s, 0, 3000, 30, 0x23);
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    save("mm_ops", &o);
    mm_enc_shape(&o, &s);
    mm_prog_exhaust(&o, MM_GFP_SEL_KERNEL);
    save("mm_ops", &o);

    /* 2: two nodes, the second above 4 GiB (ZONE_NORMAL), two ranges. */
    s = mm_shape(2, MM_SHAPE_HIGH4G, 4, 10, 2048);
    s.nr_ranges[0] = s.nr_ranges[1] = 1;
    s.range[0][1].gap = 8;
    s.range[0][1].pages = 2047;
    s.range[1][1].gap = 1;
    s.range[1][1].pages = 1000;
    s.dist[0][1] = 21 - 11;
    s.dist[1][0] = 21 - 11;
    mm_reserve(&s, 2, 0, 16, 0);
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    mm_prog_exhaust(&o, MM_GFP_SEL_HIGHUSER_MOVABLE);
    save("mm_ops", &o);

    /* 3: the 32-bit HighMem model: DMA, Normal, HighMem. */
    s = mm_shape(1, MM_SHAPE_HIGHMEM, 2, 10, 4096);
    s.highmem_mib = 7; /* 24 MiB */
    s.nr_ranges[0] = 1;
    s.range[0][1].gap = 4;
    s.range[0][1].pages = 4095;
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    mm_prog_exhaust(&o, 3 /* HIGHUSER */);
    save("mm_ops", &o);

    /* 4: four nodes, bootmem, eight cpus, holes, max_order 5. */
    s = mm_shape(4, MM_SHAPE_BOOTMEM, 8, 5, 1024);
    for (unsigned n = 0; n < 4; n++) {
        s.nr_ranges[n] = 2;
        for (unsigned r = 0; r < 3; r++) {
            s.range[n][r].gap = (uint8_t)(r ? 3 : 16);
            s.range[n][r].pages = (uint16_t)(300 + 100 * r + n);
        }
    }
    mm_reserve(&s, 1, 50, 10, 0);
    mm_reserve(&s, 5, 0x2000, 3, 0x77);
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    mm_prog_exhaust(&o, MM_GFP_SEL_KERNEL);
    save("mm_ops", &o);

    /*
     * 5: deferred struct page init: a node from 120 MiB with 140 MiB of
     * RAM defers what lies past 256 MiB.
     */
    s = mm_shape(1, MM_SHAPE_DEFERRED, 2, 10, 35840);
    s.base = 120;
    mm_enc_shape(&o, &s);
    mm_prog_deferred(&o);
    save("mm_ops", &o);
    s = mm_shape(2, MM_SHAPE_DEFERRED | MM_SHAPE_HIGH4G, 2, 8, 35840);
    s.base = 120;
    s.range[1][0].pages = 20000 - 1;
    mm_enc_shape(&o, &s);
    mm_prog_deferred(&o);
    mm_prog_basic(&o);
    save("mm_ops", &o);

    /* 6: stop before the hand-off, each early allocator. */
    s = mm_shape(2, MM_SHAPE_EARLY | MM_SHAPE_BOOTMEM, 2, 10, 4096);
    mm_reserve(&s, 0, 100, 8, 0x40);
    mm_enc_shape(&o, &s);
    mm_prog_early(&o);
    mm_prog_basic(&o);
    save("mm_ops", &o);
    s = mm_shape(2, MM_SHAPE_EARLY, 2, 10, 4096);
    mm_reserve(&s, 1, 100, 8, 0x40);
    mm_enc_shape(&o, &s);
    mm_prog_early(&o);
    mm_prog_basic(&o);
    save("mm_ops", &o);
    s = mm_shape(1, MM_SHAPE_EARLY | MM_SHAPE_HIGHMEM | MM_SHAPE_HIGH4G, 1, 7,
                 3000);
    s.highmem_mib = 1;
    mm_enc_shape(&o, &s);
    mm_prog_early(&o);
    save("mm_ops", &o);

    /* 7: page contents, memblock and bootmem. */
    s = mm_shape(1, 0, 2, 10, 2048);
    s.extra = MM_EXTRA_CONTENTS;
    mm_enc_shape(&o, &s);
    mm_prog_contents(&o);
    save("mm_ops", &o);
    s = mm_shape(2, MM_SHAPE_BOOTMEM | MM_SHAPE_HIGH4G | MM_SHAPE_EARLY, 3, 6,
                 1024);
    s.extra = MM_EXTRA_CONTENTS;
    mm_enc_shape(&o, &s);
    mm_prog_contents(&o);
    MM(&o, MM_OP_FINISH_BOOT);
    mm_prog_contents(&o);
    save("mm_ops", &o);

    /* 8: knobs: movablecore, max_order 0 and 15, tight watermarks. */
    s = mm_shape(2, 0, 2, 10, 4096);
    s.knobs = 2 << 6; /* movablecore: half of RAM */
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    mm_prog_exhaust(&o, MM_GFP_SEL_HIGHUSER_MOVABLE);
    save("mm_ops", &o);
    s = mm_shape(1, 0, 1, 0, 512);
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    save("mm_ops", &o);
    s = mm_shape(1, MM_SHAPE_BOOTMEM, 3, 15, 4096);
    s.knobs = 3 | 3 << 2 | 1 << 4; /* min_free half, wsf 3000, ratios 1 */
    mm_enc_shape(&o, &s);
    mm_prog_exhaust(&o, MM_GFP_SEL_KERNEL);
    save("mm_ops", &o);
    s = mm_shape(3, 0, 3, 9, 2000);
    s.knobs = 1 | 2 << 2 | 2 << 4 | 1 << 6;
    s.dist[0][1] = 5;
    s.dist[1][0] = 9;
    s.dist[0][2] = 40;
    s.dist[2][0] = 2;
    mm_enc_shape(&o, &s);
    mm_prog_basic(&o);
    save("mm_ops", &o);

    /* 9: a machine too small for its node data: boot panics. */
    s = mm_shape(1, 0, 1, 10, 2);
    mm_enc_shape(&o, &s);
    save("mm_ops", &o);

    /* 10: every way to break the description: boot must refuse it. */
    for (unsigned k = 1; k < MM_NR_INVALID; k++) {
        s = mm_shape(2, k % 3 ? 0 : MM_SHAPE_HIGHMEM, 2, 10, 512);
        s.invalid = (uint8_t)k;
        s.hostfail_at = (uint16_t)k;
        mm_enc_shape(&o, &s);
        save("mm_ops", &o);
    }

    /* 11: host allocation failures during boot and finish_boot. */
    for (unsigned at = 0; at < 60; at += 4) {
        s = mm_shape(2,
                     MM_SHAPE_HOSTFAIL | (at % 8 ? MM_SHAPE_EARLY : 0) |
                         (at % 3 ? 0 : MM_SHAPE_BOOTMEM),
                     2, 10, 1024);
        s.hostfail_at = (uint16_t)at;
        mm_reserve(&s, 0, 20, 2, 0);
        mm_enc_shape(&o, &s);
        MM(&o, MM_OP_EARLY_ALLOC, 4, 0, 40, 3, 0);
        MM(&o, MM_OP_FINISH_BOOT);
        MM(&o, MM_OP_FINISH_BOOT);
        MM(&o, MM_OP_ALLOC, 0, MM_GFP_SEL_KERNEL, 0, MM_NID_ANY, 0);
        save("mm_ops", &o);
    }
    fz_out_free(&o);
}

/* ======================================================================
 * memblock_ops
 * ====================================================================== */

#define MB(o, ...) fz_enc_op(o, mb_op_layout, __VA_ARGS__)

static void mb_header(struct fz_out *o, unsigned flags, unsigned fail_at)
{
    fz_put_u8(o, flags);
    fz_put_u16(o, fail_at);
}

/* A memory map with three nodes, reservations, flags. */
static void mb_prog_map(struct fz_out *o)
{
    MB(o, MB_OP_ADD, MB_A_MIB, 1, MB_S_MIB, 64);
    MB(o, MB_OP_ADD_NODE, MB_A_MIB, 128, MB_S_MIB, 32, 1, 0);
    MB(o, MB_OP_ADD_NODE, MB_A_MIB, 160, MB_S_MIB, 32, 2,
       MMSIM_MEMBLOCK_HOTPLUG);
    MB(o, MB_OP_ADD_NODE, MB_A_MIB, 192, MB_S_MIB, 8, MB_NID_BAD, 0);
    MB(o, MB_OP_ADD_NODE, MB_A_MIB, 200, MB_S_MIB, 8, MB_NID_NONE, 0x80);
    MB(o, MB_OP_ADD_NODE, MB_A_MIB, 300, MB_S_MIB, 8, 3,
       MMSIM_MEMBLOCK_DRIVER_MANAGED);
    MB(o, MB_OP_ADD, MB_A_MIB, 40, MB_S_MIB, 100); /* overlaps, fills */
    MB(o, MB_OP_SET_NODE, MB_A_MIB, 0, MB_S_MIB, 40, 0);
    MB(o, MB_OP_SET_NODE, MB_A_MIB, 0, MB_S_MIB, 40, MB_NID_BAD);
    MB(o, MB_OP_RESERVE, MB_A_PAGE, 0x100, MB_S_PAGES, 16);
    MB(o, MB_OP_RESERVE, MB_A_BYTE | 4 << 2, 0x200, MB_S_BYTES, 100);
    MB(o, MB_OP_RESERVE_KERN, MB_A_PAGE, 0x110, MB_S_PAGES, 16);
    MB(o, MB_OP_RESERVE_KERN, MB_A_PAGE, 0x120, MB_S_PAGES, 16);
    MB(o, MB_OP_RESERVE, MB_A_MIB, 16, MB_S_MIB, 32);
    MB(o, MB_OP_FREE, MB_A_MIB, 20, MB_S_MIB, 4);
    MB(o, MB_OP_REMOVE, MB_A_MIB, 60, MB_S_MIB, 2);
    MB(o, MB_OP_REMOVE, MB_A_MIB, 250, MB_S_MIB, 1);
    for (unsigned f = 0; f < MB_NR_FLAG; f++)
        MB(o, MB_OP_FLAG, MB_A_MIB, 8 + f * 8, MB_S_MIB, 4 + f, f);
    MB(o, MB_OP_FLAG, MB_A_MIB, 10, MB_S_MIB, 2, MB_FLAG_CLEAR_NOMAP);
    MB(o, MB_OP_QUERY, MB_A_MIB, 1, MB_S_MIB, 1);
    MB(o, MB_OP_QUERY, MB_A_PAGE, 0x105, MB_S_BYTES, 0);
    MB(o, MB_OP_QUERY, MB_A_MIB, 63, MB_S_MIB, 4);
    MB(o, MB_OP_QUERY, MB_A_TOP, 1, MB_S_HUGE, 0);
    for (unsigned t = 0; t < 3; t++) {
        MB(o, MB_OP_DEBUGFS, t, 0);
        MB(o, MB_OP_DEBUGFS, t, 200);
        MB(o, MB_OP_DEBUGFS, t, 0xffff);
    }
    for (unsigned n = 0; n < 6; n++)
        MB(o, MB_OP_ITER, n);
    MB(o, MB_OP_ITER, MB_NID_BAD | 0x80);
}

/* Allocations through every entry point, both directions. */
static void mb_prog_alloc(struct fz_out *o)
{
    for (unsigned dir = 0; dir < 2; dir++) {
        MB(o, MB_OP_BOTTOM_UP, dir);
        for (unsigned v = 0; v < MB_NR_ALLOC; v++) {
            MB(o, MB_OP_ALLOC, v, MB_S_PAGES, 1, 13, MB_A_PAGE, 0,
               MB_END_ACCESSIBLE, 0, v % 4, v & 1);
            MB(o, MB_OP_ALLOC, v, MB_S_MIB, 2, 22, MB_A_MIB, 100,
               MB_END_ANYWHERE, 0, 1, 1);
            MB(o, MB_OP_ALLOC, v, MB_S_BYTES, 10, 0, MB_A_MIB, 150, MB_END_ADDR,
               0x9000, 2, 0);
            MB(o, MB_OP_ALLOC, v, MB_S_MIB, 500, 0, MB_A_PAGE, 0, MB_END_NOLEAK,
               0, MB_NID_NONE, 0);
            MB(o, MB_OP_ALLOC, v, MB_S_BYTES, 0, 0, MB_A_PAGE, 0,
               MB_END_ACCESSIBLE, 0, 0, 0);
            MB(o, MB_OP_ALLOC, v, MB_S_PAGES, 1, 27, MB_A_PAGE, 0,
               MB_END_ACCESSIBLE, 0, 0, 0);
            MB(o, MB_OP_ALLOC, v, MB_S_PAGES, 1, 0, MB_A_PAGE, 0,
               MB_END_ACCESSIBLE, 0, MB_NID_BAD, 0);
            MB(o, MB_OP_ALLOC, v, MB_S_MIB, 20, 0, MB_A_MIB, 170,
               MB_END_ANYWHERE, 0, 3, 1);
        }
    }
    MB(o, MB_OP_SET_LIMIT, MB_A_MIB, 32);
    MB(o, MB_OP_ALLOC, MB_ALLOC_TRY_NID, MB_S_MIB, 1, 0, MB_A_MIB, 20,
       MB_END_ANYWHERE, 0, 1, 0);
    MB(o, MB_OP_ALLOC, MB_ALLOC_EXACT_NID, MB_S_MIB, 1, 0, MB_A_MIB, 20,
       MB_END_ACCESSIBLE, 0, 1, 0);
    MB(o, MB_OP_SET_LIMIT, MB_A_TOP, 0);
    MB(o, MB_OP_FLAG, MB_A_MIB, 128, MB_S_MIB, 4, MB_FLAG_MARK_MIRROR);
    for (unsigned i = 0; i < 6; i++)
        MB(o, MB_OP_ALLOC, i % MB_NR_ALLOC, MB_S_MIB, 1, 0, MB_A_PAGE, 0,
           MB_END_ANYWHERE, 0, i % 3, 0);
    MB(o, MB_OP_DEBUGFS, 1, 0);
    MB(o, MB_OP_ITER, MB_NID_NONE);
}

/* Enough regions that the arrays grow (past 128 entries). */
static void mb_prog_many(struct fz_out *o)
{
    for (unsigned i = 0; i < 4; i++)
        MB(o, MB_OP_MANY, MB_MANY_ADD, 63, MB_A_MIB, 1 + i * 64, 1, 0x20);
    for (unsigned i = 0; i < 4; i++)
        MB(o, MB_OP_MANY, i % 2 ? MB_MANY_RESERVE : MB_MANY_RESERVE_KERN, 63,
           MB_A_MIB, 2 + i * 64, 1, 0x10);
    MB(o, MB_OP_ALLOC, MB_ALLOC_RANGE_NID, MB_S_PAGES, 3, 13, MB_A_PAGE, 0,
       MB_END_ANYWHERE, 0, MB_NID_NONE, 0);
    MB(o, MB_OP_FREE, MB_A_MIB, 2, MB_S_MIB, 10);
    MB(o, MB_OP_REMOVE, MB_A_MIB, 1, MB_S_BYTES, 100);
    MB(o, MB_OP_FLAG, MB_A_MIB, 3, MB_S_MIB, 1, MB_FLAG_MARK_HOTPLUG);
    MB(o, MB_OP_DEBUGFS, 0, 1000);
    MB(o, MB_OP_DEBUGFS, 1, 0);
    MB(o, MB_OP_ITER, MB_NID_NONE);
}

static void gen_mb(void)
{
    struct fz_out o = {0};

    mb_header(&o, 0, 0);
    mb_prog_map(&o);
    save("memblock_ops", &o);
    mb_header(&o, 0, 0);
    mb_prog_map(&o);
    mb_prog_alloc(&o);
    save("memblock_ops", &o);
    mb_header(&o, MB_HDR_BOTTOM_UP | MB_HDR_RESIZE, 0);
    mb_prog_map(&o);
    mb_prog_alloc(&o);
    save("memblock_ops", &o);

    /* Growth on the host, then in simulated memory. */
    mb_header(&o, 0, 0);
    mb_prog_many(&o);
    MB(&o, MB_OP_ALLOW_RESIZE);
    mb_prog_many(&o);
    save("memblock_ops", &o);
    mb_header(&o, MB_HDR_RESIZE, 0);
    MB(&o, MB_OP_ADD, MB_A_PAGE, 0, MB_S_MIB, 1000);
    mb_prog_many(&o);
    mb_prog_alloc(&o);
    save("memblock_ops", &o);
    mb_header(&o, MB_HDR_RESIZE | MB_HDR_BOTTOM_UP, 0);
    MB(&o, MB_OP_ADD, MB_A_PAGE, 0, MB_S_MIB, 2);
    MB(&o, MB_OP_SET_LIMIT, MB_A_MIB, 1);
    mb_prog_many(&o);
    save("memblock_ops", &o);

    /* The top of the address space: capped sizes. */
    mb_header(&o, 0, 0);
    MB(&o, MB_OP_ADD, MB_A_TOP, 0x100, MB_S_HUGE, 0);
    MB(&o, MB_OP_ADD, MB_A_TOP | 4, 0, MB_S_HUGE, 5);
    MB(&o, MB_OP_RESERVE, MB_A_TOP, 0x80, MB_S_PAGES, 0x10);
    MB(&o, MB_OP_FREE, MB_A_TOP, 0x7f, MB_S_HUGE, 1);
    MB(&o, MB_OP_ALLOC, MB_ALLOC_PHYS_RANGE, MB_S_PAGES, 4, 13, MB_A_PAGE, 0,
       MB_END_ANYWHERE, 0, 0, 0);
    MB(&o, MB_OP_QUERY, MB_A_TOP, 0x80, MB_S_HUGE, 0);
    MB(&o, MB_OP_ITER, MB_NID_NONE);
    MB(&o, MB_OP_DEBUGFS, 0, 0);
    save("memblock_ops", &o);

    /* Host allocation failures, at create and while growing. */
    for (unsigned at = 0; at < 12; at++) {
        mb_header(&o, MB_HDR_HOSTFAIL | (at > 6 ? MB_HDR_RESIZE : 0), at);
        MB(&o, MB_OP_ADD, MB_A_PAGE, 0, MB_S_MIB, 1000);
        mb_prog_many(&o);
        save("memblock_ops", &o);
    }
    fz_out_free(&o);
}

/* ======================================================================
 * bootmem_ops
 * ====================================================================== */

#define BMO(o, ...) fz_enc_op(o, bm_op_layout, __VA_ARGS__)

static void bm_header(struct fz_out *o, unsigned flags, unsigned fail_at,
                      unsigned low, unsigned dma32)
{
    fz_put_u8(o, flags);
    fz_put_u16(o, fail_at);
    fz_put_u8(o, low);
    fz_put_u8(o, dma32);
}

/* Every allocation variant with and without goal and limit. */
static void bm_allocs(struct fz_out *o, unsigned node)
{
    for (unsigned v = 0; v < BM_NR_ALLOC; v++) {
        BMO(o, BM_OP_ALLOC, v, BM_S_PAGES, 2, 13, BM_A_NODE, node, 0, BM_L_NONE,
            0, node);
        BMO(o, BM_OP_ALLOC, v, BM_S_SMALL, 3, 4, BM_A_NODE, node, 100,
            BM_L_NODE, 0x400, node + 1);
        BMO(o, BM_OP_ALLOC, v, BM_S_BYTES, 100, 0, BM_A_ABS, 0, 0x100, BM_L_4G,
            0, BM_NID_NONE);
        BMO(o, BM_OP_ALLOC, v, BM_S_PAGES, 0x4000, 0, BM_A_NODE, node, 0,
            BM_L_NONE, 0, node); /* too big */
        BMO(o, BM_OP_ALLOC, v, BM_S_BYTES, 0, 0, BM_A_NODE, node, 0, BM_L_NONE,
            0, node); /* size 0 */
        BMO(o, BM_OP_ALLOC, v, BM_S_PAGES, 1, 22, BM_A_NODE, node, 0, BM_L_NONE,
            0, BM_NID_BAD); /* bad align */
        BMO(o, BM_OP_ALLOC, v, BM_S_HUGE, 10, 0, BM_A_TOP, 0, 5, BM_L_NONE, 0,
            node); /* overflow */
        BMO(o, BM_OP_ALLOC, v, BM_S_PAGES, 2, 0, BM_A_END, node, 0x40,
            BM_L_PAGE, 0x10, node); /* goal > limit */
    }
}

static void gen_bm(void)
{
    struct fz_out o = {0};

    /* Two nodes below 4 GiB: the whole API, then the hand-off. */
    bm_header(&o, 0, 0, 0, 0);
    BMO(&o, BM_OP_INIT_NODE, 0, BM_INIT_LOW, 256, 4095);
    BMO(&o, BM_OP_INIT_NODE, 1, BM_INIT_LOW, 512, 4095);
    BMO(&o, BM_OP_INIT_NODE, 2, BM_INIT_LOW, 300, 10);  /* overlaps */
    BMO(&o, BM_OP_INIT_NODE, 0, BM_INIT_LOW, 2000, 10); /* twice */
    BMO(&o, BM_OP_INIT_NODE, 3, BM_INIT_EMPTY, 3000, 0);
    BMO(&o, BM_OP_INIT_NODE, 3, BM_INIT_EMPTY, 3000, 1);
    BMO(&o, BM_OP_INIT_NODE, 4, BM_INIT_TOP, 4, 10);
    BMO(&o, BM_OP_INIT_NODE, BM_NID_BAD, BM_INIT_LOW, 4000, 10);
    BMO(&o, BM_OP_INIT_NODE, BM_NID_NONE, BM_INIT_LOW, 4000, 10);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 0, BM_S_PAGES, 4096);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 1, 16, BM_S_PAGES, 2000);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 0, BM_S_PAGES, 2);  /* EALREADY */
    BMO(&o, BM_OP_FREE, BM_A_ABS, 0, 0, BM_S_PAGES, 1);   /* EFAULT */
    BMO(&o, BM_OP_FREE, BM_A_END, 0, 16, BM_S_PAGES, 64); /* spans a gap */
    BMO(&o, BM_OP_FREE, BM_A_TOP, 0, 10, BM_S_PAGES, 1);  /* overflow */
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 3, BM_S_SMALL, 5);  /* no whole page */
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 40, BM_S_SMALL, 33, 0);
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 40, BM_S_SMALL, 33, 1); /* EBUSY */
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 400, BM_S_PAGES, 4, 1);
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 400, BM_S_PAGES, 4, 2); /* flags */
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 400, BM_S_BYTES, 0, 0);
    BMO(&o, BM_OP_RESERVE, BM_A_ABS, 0, 1, BM_S_PAGES, 1, 0);
    BMO(&o, BM_OP_RESERVE, BM_A_TOP, 0, 1, BM_S_PAGES, 1, 0);
    bm_allocs(&o, 0);
    for (unsigned q = 0; q < BM_NR_Q; q++)
        BMO(&o, BM_OP_QUERY, q, q, 17);
    BMO(&o, BM_OP_QUERY, BM_Q_STATE, BM_NID_BAD, 0);
    BMO(&o, BM_OP_QUERY, BM_Q_STATE, 5, 0);
    BMO(&o, BM_OP_FREE_ALL_NODE, 0, 10, 0);
    BMO(&o, BM_OP_FREE_ALL_NODE, 0, 10, 0); /* EPERM */
    BMO(&o, BM_OP_FREE_ALL_NODE, 5, 10, 0); /* ENODEV */
    BMO(&o, BM_OP_FREE_ALL_NODE, BM_NID_BAD, 10, 0);
    BMO(&o, BM_OP_FREE_ALL_NODE, 1, 16, 0);
    BMO(&o, BM_OP_FREE_ALL_NODE, 1, 3, 3);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 0, BM_S_PAGES, 1); /* retired */
    BMO(&o, BM_OP_RESERVE, BM_A_NODE, 0, 0, BM_S_PAGES, 1, 0);
    bm_allocs(&o, 1);
    BMO(&o, BM_OP_FREE_ALL, 17, 0);
    BMO(&o, BM_OP_FREE_ALL, 0, 3);
    BMO(&o, BM_OP_FREE_ALL, 4, 0);
    bm_allocs(&o, 1);
    save("bootmem_ops", &o);

    /* Around 4 GiB: the low variants and node_high. */
    for (unsigned dma = 0; dma < 4; dma++) {
        bm_header(&o, 0, 0, dma, dma);
        BMO(&o, BM_OP_INIT_NODE, 2, BM_INIT_4G, 16, 40000);
        BMO(&o, BM_OP_INIT_NODE, 0, BM_INIT_LOW, 16, 2000);
        BMO(&o, BM_OP_FREE, BM_A_NODE, 2, 0, BM_S_PAGES, 40001);
        BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 0, BM_S_PAGES, 2001);
        bm_allocs(&o, 2);
        BMO(&o, BM_OP_ALLOC, BM_ALLOC_NODE_HIGH, BM_S_PAGES, 1, 0, BM_A_ABS, 0,
            0, BM_L_NONE, 0, 2);
        BMO(&o, BM_OP_FREE_ALL, 10, 0);
        save("bootmem_ops", &o);
    }

    /* Small allocations pack into the last page of the previous one. */
    bm_header(&o, 0, 0, 1, 1);
    BMO(&o, BM_OP_INIT_NODE, 0, BM_INIT_LOW, 1, 64);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 0, BM_S_PAGES, 65);
    for (unsigned i = 0; i < 12; i++)
        BMO(&o, BM_OP_ALLOC, i % 2 ? BM_ALLOC_NOPANIC : BM_ALLOC_NODE,
            BM_S_BYTES, 700 + i, 4, BM_A_NODE, 0, 0, BM_L_NONE, 0, 0);
    BMO(&o, BM_OP_FREE, BM_A_NODE, 0, 4, BM_S_SMALL, 40);
    BMO(&o, BM_OP_ALLOC, BM_ALLOC, BM_S_BYTES, 100, 0, BM_A_NODE, 0, 0,
        BM_L_NONE, 0, 0);
    BMO(&o, BM_OP_FREE_ALL_NODE, 0, 2, 0);
    save("bootmem_ops", &o);

    /* Host allocation failures. */
    for (unsigned at = 0; at < 3; at++) {
        bm_header(&o, BM_HDR_HOSTFAIL, at, 0, 0);
        BMO(&o, BM_OP_INIT_NODE, 0, BM_INIT_LOW, 1, 64);
        BMO(&o, BM_OP_INIT_NODE, 1, BM_INIT_LOW, 100, 64);
        BMO(&o, BM_OP_QUERY, BM_Q_COUNTS, 0, 0);
        save("bootmem_ops", &o);
    }
    fz_out_free(&o);
}

/* ======================================================================
 * vmalloc_ops
 * ====================================================================== */

#define VO(o, ...) fz_enc_op(o, vo_op_layout, __VA_ARGS__)

static void vo_header(struct fz_out *o, unsigned flags, unsigned mem,
                      unsigned knobs, unsigned hostfail_at)
{
    fz_put_u8(o, flags);
    fz_put_u8(o, mem);
    fz_put_u8(o, knobs);
    fz_put_u16(o, hostfail_at);
}

/* Every operation, every selector with a meaning, every error. */
static void vo_prog_basic(struct fz_out *o)
{
    for (unsigned i = 0; i < 6; i++)
        VO(o, VO_OP_VMALLOC, i % 3 == 2 ? VO_CPU_NONE : i, VO_S_PAGES, i * 5,
           i % 2 ? VO_NID_ANY : i, i);
    VO(o, VO_OP_VMALLOC, 0, VO_S_BYTES, 1, VO_NID_ANY, 0);
    VO(o, VO_OP_VMALLOC, 0, VO_S_BYTES, 4097, 1, 1);
    VO(o, VO_OP_VMALLOC, 0, VO_S_BIG, 200, VO_NID_ANY, 2);
    /* Refused: size 0, too big, overflowing, bad cpu, bad node. */
    VO(o, VO_OP_VMALLOC, 0, VO_S_BYTES, 0, VO_NID_ANY, 0);
    for (unsigned v = 0; v < 3; v++)
        VO(o, VO_OP_VMALLOC, 0, VO_S_LIMIT, v, VO_NID_ANY, 0);
    VO(o, VO_OP_VMALLOC, 0, VO_S_HUGE, 0, VO_NID_ANY, 0);
    VO(o, VO_OP_VMALLOC, 0, VO_S_HUGE, 4094, VO_NID_ANY, 0);
    VO(o, VO_OP_VMALLOC, VO_CPU_BAD, VO_S_PAGES, 0, VO_NID_ANY, 0);
    VO(o, VO_OP_VMALLOC, 0, VO_S_PAGES, 0, VO_NID_BAD, 0);
    /* Contents: across pages, into the guard, outside. */
    VO(o, VO_OP_VWRITE, VO_ADDR_LIVE, 2, 100, 9000, 0x31);
    VO(o, VO_OP_VREAD, VO_ADDR_LIVE, 2, 0, 12000);
    VO(o, VO_OP_VREAD, VO_ADDR_LIVE, 2, 4000, 200);
    for (unsigned k = 0; k < VO_NR_ADDR; k++) {
        VO(o, VO_OP_VWRITE, k, 3, 4090, 20, k);
        VO(o, VO_OP_VREAD, k, 3, 4090, 20);
        VO(o, VO_OP_VREAD, k, 1, 8191, 0);
        VO(o, VO_OP_FIND, k, k, 4095);
        VO(o, VO_OP_TO_PFN, k, k, 8192);
    }
    VO(o, VO_OP_VWRITE, VO_ADDR_EDGE, 4, 4096, 1, 0x77);
    VO(o, VO_OP_VREAD, VO_ADDR_EDGE, 4, 4000, 200);
    VO(o, VO_OP_INFO);
    VO(o, VO_OP_VIEW, 0, 0);
    VO(o, VO_OP_VIEW, 1, 0);
    VO(o, VO_OP_VIEW, 0, 50);
    VO(o, VO_OP_VIEW, 1, 1);
    VO(o, VO_OP_VIEW, 0, 1024);
    /* vfree: a start, inside, a guard, freed, raw, far, bad cpu. */
    VO(o, VO_OP_VFREE, 0, 0, 1, 0);
    for (unsigned k = 1; k < 6; k++)
        VO(o, VO_OP_VFREE, 1, k, 2, 4096 * k + 1);
    VO(o, VO_OP_VFREE, VO_CPU_BAD, 0, 2, 0);
    VO(o, VO_OP_VFREE, VO_CPU_NONE, 0, 2, 0);
    VO(o, VO_OP_VFREE, 0, 1 + VO_ADDR_FREED, 0, 0);
    VO(o, VO_OP_VREAD, VO_ADDR_FREED, 0, 0, 1);
    /* The freed range comes back. */
    VO(o, VO_OP_VMALLOC, 0, VO_S_PAGES, 0, VO_NID_ANY, 3);
    VO(o, VO_OP_VREAD, VO_ADDR_LIVE, 0, 0, 4096);
    for (unsigned w = 0; w < 4; w++)
        VO(o, VO_OP_VFREE_OWNER, w % 2 ? VO_CPU_NONE : VO_CPU_BAD, w);
    VO(o, VO_OP_VFREE_OWNER, 0, 0);
    VO(o, VO_OP_DRAIN);
    VO(o, VO_OP_INFO);
}

/* Fragment the space and fill the holes again. */
static void vo_prog_reuse(struct fz_out *o)
{
    for (unsigned i = 0; i < 24; i++)
        VO(o, VO_OP_VMALLOC, i % 2, VO_S_PAGES, i % 7, VO_NID_ANY, i % 4);
    for (unsigned i = 0; i < 24; i += 3)
        VO(o, VO_OP_VFREE, 0, 0, i, 0);
    for (unsigned i = 0; i < 12; i++) {
        VO(o, VO_OP_VMALLOC, 1, VO_S_PAGES, 6 - i % 7, VO_NID_ANY, 0);
        VO(o, VO_OP_VWRITE, VO_ADDR_LIVE, i, i * 999, 5000, i);
    }
    for (unsigned i = 0; i < 12; i++)
        VO(o, VO_OP_VREAD, VO_ADDR_LIVE, i * 5, i * 777, 6000);
    VO(o, VO_OP_VIEW, 1, 0);
    VO(o, VO_OP_VFREE_OWNER, 0, 1);
    VO(o, VO_OP_VMALLOC, 0, VO_S_PAGES, 31, VO_NID_ANY, 1);
    VO(o, VO_OP_INFO);
}

/* Run memory out: big areas, plain pages, injected failures. */
static void vo_prog_exhaust(struct fz_out *o)
{
    VO(o, VO_OP_PAGES, VO_PAGES_ALLOC, 3, 15);
    VO(o, VO_OP_PAGES, VO_PAGES_ALLOC, 0x80, 0x8f);
    for (unsigned i = 0; i < 8; i++)
        VO(o, VO_OP_VMALLOC, i % 2 ? 0 : VO_CPU_NONE, VO_S_BIG, 1023,
           i % 2 ? VO_NID_ANY : 1, i % 4);
    VO(o, VO_OP_VMALLOC, 0, VO_S_BIG, 0xffff, VO_NID_ANY, 0);
    VO(o, VO_OP_FAIL_PAGE, 4);
    VO(o, VO_OP_VMALLOC, 0, VO_S_PAGES, 9, VO_NID_ANY, 0);
    VO(o, VO_OP_FAIL_PAGE, 0);
    VO(o, VO_OP_PAGES, VO_PAGES_ALLOC, 2, 15);
    VO(o, VO_OP_VMALLOC, VO_CPU_NONE, VO_S_PAGES, 3, 0, 0);
    VO(o, VO_OP_VIEW, 0, 0);
    VO(o, VO_OP_PAGES, VO_PAGES_FREE, 0, 0x8f);
    VO(o, VO_OP_VFREE, 0, 0, 0, 0);
    VO(o, VO_OP_VFREE, 0, 0, 1, 0);
    VO(o, VO_OP_DRAIN);
    VO(o, VO_OP_VMALLOC, 0, VO_S_BIG, 300, VO_NID_ANY, 3);
    VO(o, VO_OP_VWRITE, VO_ADDR_EDGE, 9, 0, 8192, 9);
    VO(o, VO_OP_VREAD, VO_ADDR_LIVE, 9, 300 * 4096 - 100, 100);
}

static void gen_vo(void)
{
    struct fz_out o = {0};
    /* flags: nodes, HighMem, metadata; bits 4-5 cpus - 1. */
    static const unsigned shapes[][3] = {
        {0x10, 8, 0},
        {VO_HDR_TWO_NODES | 0x30, 0, 1},
        {VO_HDR_HIGHMEM, 0, 2},
        {VO_HDR_HIGHMEM | VO_HDR_TWO_NODES | 0x10, 24, 0},
        {VO_HDR_METADATA | VO_HDR_TWO_NODES, 3, 0},
    };

    for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        vo_header(&o, shapes[i][0], shapes[i][1], shapes[i][2], 0);
        vo_prog_basic(&o);
        save("vmalloc_ops", &o);
        vo_header(&o, shapes[i][0], shapes[i][1], shapes[i][2], 0);
        vo_prog_reuse(&o);
        save("vmalloc_ops", &o);
        vo_header(&o, shapes[i][0], shapes[i][1], shapes[i][2], 0);
        vo_prog_exhaust(&o);
        save("vmalloc_ops", &o);
    }
    /* Host allocation failures: the space, an area, the array growing. */
    for (unsigned at = 0; at < 40; at += 3) {
        vo_header(&o, VO_HDR_HOSTFAIL | VO_HDR_TWO_NODES, 5, 0, at);
        vo_prog_reuse(&o);
        save("vmalloc_ops", &o);
    }
    fz_out_free(&o);
}

/* ======================================================================
 * config
 * ====================================================================== */

static void put_str(struct fz_out *o, const char *s)
{
    fz_put_bytes(o, s, strlen(s));
}

static void cfg_text(const char *text)
{
    struct fz_out o = {0};

    put_str(&o, text);
    save("config", &o);
    fz_out_free(&o);
}

/*
 * One description per seed: most validate (and are small enough to
 * boot), the last ones are refused by mmsim_config_finish().
 */
static const char *const cfg_valid[] = {
    "m 64M\n",
    "m=64M\ncpus 3\n",
    "m 256M\ncpus 4\nmax-order 8\nmin-free-kbytes 256\n"
    "watermark-scale-factor 100\n",
    "m 512M\nnuma node,mem=256M\nnuma node,mem=256M\n"
    "numa dist,src=0,dst=1,val=21\nreserve 0x2000000,1M,fw\n",
    "m 96M\nhighmem 48M\nearly bootmem\ndeferred-init off\n",
    "m 128M\nhighmem\n",
    "highmem=on\nm 64\nhighmem off\n",
    "numa node\nnuma node,nodeid=1\nnuma node\nm 300M\n",
    "m 1G\nmovablecore 128M\nlowmem-reserve-ratio 256,256,32,0,0\n"
    "early memblock\ndeferred-init on\n",
    "numa node,mem=32M\nnuma node,mem=48M\nnuma dist,src=1,dst=0,val=30\n",
    "cpus 8\nreserve 16M,4K\n",
    "m 0x4000000\nreserve 0x100000,0x1000,a,name,with,commas\n",
    "%%\nmemory: 256M\ncpus: 2\nnodes:\n  - {id: 0, mem: 128M}\n"
    "  - {id: 1, mem: 128M}\ndistances:\n  - [10, 21]\n  - [21, 10]\n",
    "%%\ncpus: 3\nmax_order: 9\nnodes:\n  - id: 0\n    ranges:\n"
    "      - {base: 0x100000, size: 64M}\n  - id: 1\n    ranges:\n"
    "      - {base: 128M, end: 192M}\nreserved:\n"
    "  - {base: 0x200000, size: 1M, name: fw}\ndistances:\n"
    "  - {src: 0, dst: 1, val: 30}\nhighmem: 96M\n"
    "lowmem_reserve_ratio: {dma: 128, normal: 16}\n"
    "early_allocator: bootmem\ndeferred_init: false\nmovablecore: 16M\n"
    "min_free_kbytes: 512\nwatermark_scale_factor: 50\n",
    "%%\nmemory: 64M\nhighmem: true\ndeferred_init: no\n",
    "%%\nnodes:\n  - {}\n  - {}\n  - {mem: 16M}\nmemory: 80M\n",
    "%%\nnodes:\n  - ranges: [{base: 1M, size: 8M}, {base: 16M, size: 8M}]\n"
    "reserved: []\n",
    "m 128M\ncpus 2\n%%\ncpus: 4\nmax_order: 7\n%%\ncpus 6\n",
    "numa node,mem=32M\n%%\nnodes:\n  - {mem: 64M}\n%%\n"
    "numa node,mem=32M\nreserve 2M,4K\n",
    /* Swap and OOM policy; files only on machines too big to boot. */
    "m 64M\nswap 32M\noom-policy fail\n",
    "swap size=8K\nm 32M\nswap 0\noom-policy kill\n",
    "%%\nmemory: 64M\nswap: {size: 16M}\noom_policy: fail\n",
    "%%\nnodes:\n  - ranges: [{base: 1M, size: 8K}]\nswap: 0\n",
    "m 2G\nswap 1G,file=/nonexistent/mmsim-fuzz.swap\n%%\n"
    "swap: {file: /nonexistent/dir}\n%%\nswap file=/nonexistent/a,b\n",
    /* Descriptions that finish() refuses, one per seed. */
    "numa node,mem=4G\nm 2G\n",
    "numa dist,src=0,dst=5,val=30\nm 64M\n",
    "#edges\ncpus 2\n",
    "config /nonexistent\nconfig /dev/null\nconfig\nm 64M\n",
    "m 20T\n",
    "numa node,nodeid=1\nm 64M\n",
    "numa node,nodeid=63\nnuma node\n",
    "numa node,mem=32M\nnuma node,mem=32M\nnuma dist,src=0,dst=1,val=20\n"
    "numa dist,src=1,dst=0,val=40\nnuma dist,src=0,dst=2,val=30\n",
    "highmem 1M\nhighmem 5G\nhighmem 17000001\nhighmem 32MiB\nm 64M\n",
    "m 1G\nnuma node,mem=512M\nnuma node,mem=256M\n",
    "m 100M\nnuma node,mem=50M\nnuma node\nnuma node\n",
    "m 10M\nnuma node\nnuma node\nnuma node\n",
    "numa node\nnuma node\nnuma node\n",
    "m 64M\nmin-free-kbytes 99999\n",
    "m 64M\nmovablecore 64M\n",
    "m 16T\nnuma node\nnuma node\n",
    "m 5G\nhighmem\nnuma node,mem=1G\nnuma node\n",
    "m 4G\nhighmem 3G\nearly bootmem\n",
};

/*
 * Option lines that fail, each with its own message. A failing option
 * changes nothing and the next line still applies, so several share a
 * seed.
 */
static const char *const cfg_option_errors[] = {
    "m 4X\n",
    "bogus 1\n",
    "highmem 10M\n",
    "early slab\n",
    "cpus 0\ncpus 257\nmax-order 16\nwatermark-scale-factor 0\n",
    "reserve 1,2,3,4,5\nreserve 0x1000\nreserve 1,0\n",
    "lowmem-reserve-ratio 1,2\nmovablecore -1\nmin-free-kbytes 0x\n",
    "numa node,mem=1M,mem=2M\nnuma foo\nnuma node,nodeid=70\nnuma\n",
    "m\nm size=16M\nm 99999999999999999999\ndeferred-init maybe\n",
    "m 0\n",
    "m 4097K\n",
    "m 64 G\n",
    "numa node,mem=0\n",
    "numa node,bogus\nnuma node,foo=1\nnuma node,nodeid=1,nodeid=2\n",
    "numa node,nodeid=0\nnuma node,nodeid=0\n",
    "numa dist,src=0,dst=0,val=20\nnuma dist,src=0,dst=1,val=5\n"
    "numa dist,src=0\nnuma dist,src=0,src=1,dst=1,val=20\n"
    "numa dist,foo\nnuma dist,zz=1\nnuma dist,src=x,dst=1,val=20\n"
    "numa dist,src=0,dst=1,val=20,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8\n",
    "reserve 0,0\nreserve 0x1000,4K,abcdefghijklmnopqrstuvwxyz0123456789\n"
    "reserve 16T,1M\nreserve x,1M\nreserve 1M,x\nreserve 1M,4K,\n",
    "lowmem-reserve-ratio 1,2,3,4\nlowmem-reserve-ratio 1,2,3,4,x\n"
    "lowmem-reserve-ratio 1,2,3,4,5,6\nlowmem-reserve-ratio 9,9,9,9,9\n",
    "cpus x\nmax-order -1\nmin-free-kbytes 99999999999999999999999\n"
    "watermark-scale-factor 0x\nmovablecore 1Q\nmax-order 0x0a\n",
    "swap 4X\nswap 4K\nswap 6K\nswap 17T\nswap -1G\nswap\n",
    "swap 1G,size=2G\nswap 1G,prio=5\nswap 1G,/x\nswap ,file=/x\n"
    "swap 1G,file=\nswap 0,file=/x\n",
    "oom-policy panic\noom-policy\noom-policy KILL\n",
};

/* YAML documents that fail; several share a seed, as separate sections. */
static const char *const cfg_yaml_errors[] = {
    "%%\nmemroy: 1G\n",
    "%%\ncpus: 2\ncpus: 3\n",
    "%%\na: &x 1\nb: *x\n",
    "%%\ncpus: 2\n---\ncpus: 3\n",
    "%%\nnodes: [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\n",
    "%%\ncpus: [1, 2]\n",
    "%%\nmemory: 4X\n",
    "%%\nnodes:\n  - {id: 0, mem: 1G, ranges: []}\n",
    "%%\nnodes:\n  - {id: 1, mem: 1G}\n",
    "%%\n# only a comment\n",
    "%%\n- 1\n- 2\n",
    "%%\njust a scalar\n",
    "%%\ncpus: 2\n\tmax_order: 3\n",
    "%%\ndistances:\n  - [10, 300]\n  - [300, 10]\n",
    "%%\nhighmem: 5G\nearly_allocator: slab\n",
    "%%\nnodes:\n  - ranges: []\n",
    "%%\nnodes:\n  - ranges: [{base: 0, size: 4K, end: 8K}]\n",
    "%%\nnodes:\n  - ranges: [{size: 4K}]\n",
    "%%\nnodes:\n  - ranges: [{base: 0}]\n",
    "%%\nnodes:\n  - ranges: [{base: 8K, end: 4K}]\n",
    "%%\nnodes:\n  - ranges: [{base: 100, size: 4K}]\n",
    "%%\nnodes:\n  - ranges: [{base: 0, size: 0}]\n",
    "%%\nnodes:\n  - ranges: [{base: 0x10000000000000, size: 4K}]\n",
    /* Two nodes whose ranges overlap (one literal, split). */
    /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
    "%%\nnodes:\n- ranges: [{base: 1M, size: 8M}]\n- ranges: [{base: 4M, size: "
    "8M}]\n",
    "%%\nnodes:\n  - ranges: [{base: 1M, size: 8M}]\n  - {mem: 8M}\n",
    "%%\nnodes:\n  - {mem: 8M}\n  - ranges: [{base: 1M, size: 8M}]\n",
    "%%\nnodes: []\n",
    "%%\nnodes:\n  - {id: 0, mem: 8M, bogus: 1}\n",
    "%%\nreserved:\n  - {size: 4K}\n  - {base: 1M, size: x}\n",
    "%%\nreserved:\n  - {base: 1M, size: 4K, name: \"\"}\n",
    "%%\ndistances: 5\n",
    "%%\ndistances:\n  - [10, 20, 30]\n",
    "%%\ndistances:\n  - [10, x]\n  - [20, 10]\n",
    "%%\ndistances:\n  - {src: 0, dst: 1}\n  - {src: 0, dst: 1, val: x}\n",
    "%%\ndistances:\n  - scalar\n",
    "%%\nnodes:\n  - {mem: 8M}\ndistances:\n  - [10, 20]\n  - [20, 10]\n",
    "%%\nnodes:\n  - {mem: 8M}\ndistances:\n  - {src: 0, dst: 3, val: 20}\n",
    "%%\n? [a]\n: 1\n",
    "%%\ncpus: \"1\\0\"\n",
    "%%\ncpus: [1, 2\n",
    "%%\ncpus: \xff\xfe\n",
    "%%\nlowmem_reserve_ratio: [1, 2]\n",
    "%%\nlowmem_reserve_ratio: {dma: x, bogus: 1}\n",
    "%%\nmemory: 0\nmax_order: 99\n",
    "%%\n!!binary cpus: 2\n",
    "%%\ncpus: 2\n...\n",
    "%%\n{cpus: 2, nodes: [{mem: 16M}, {mem: 16M}], memory: 64M}\n",
    "%%\nmemory: 32M\nhighmem: 24M\ndeferred_init: on\nearly_allocator: "
    "memblock\n",
    "%%\nswap: [1G]\n",
    "%%\nswap: {size: 6K, file: ~}\n",
    "%%\nswap: {file: /x, size: 0}\n",
    "%%\nswap: {prio: 1}\n",
    "%%\nswap: {file: \"\"}\n",
    "%%\nswap:\n",
    "%%\noom_policy: panic\n",
    "%%\noom_policy: {a: 1}\n",
};

/* Every machine file shipped in deploy/machines/, as a YAML section. */
static void cfg_machine_files(const char *srcdir)
{
    char dir[4096];
    DIR *d;
    struct dirent *e;

    snprintf(dir, sizeof(dir), "%s/deploy/machines", srcdir);
    d = opendir(dir);
    if (!d)
        fz_fail("%s: %s", dir, strerror(errno));
    while ((e = readdir(d))) {
        char path[8192], buf[65536];
        size_t n, len = strlen(e->d_name);
        struct fz_out o = {0};
        FILE *f;

        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (!f)
            fz_fail("%s: %s", path, strerror(errno));
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        put_str(&o, CFG_SEPARATOR "\n");
        fz_put_bytes(&o, buf, n);
        save("config", &o);
        /* And the same file with options before and after it. */
        put_str(&o, "cpus 3\n" CFG_SEPARATOR "\n");
        fz_put_bytes(&o, buf, n);
        put_str(&o, CFG_SEPARATOR "\nm 256M\nnuma node,mem=256M\n");
        save("config", &o);
        fz_out_free(&o);
    }
    closedir(d);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void gen_cfg(const char *srcdir)
{
    struct fz_out o = {0};

    cfg_machine_files(srcdir);
    for (size_t i = 0; i < COUNT(cfg_valid); i++)
        cfg_text(cfg_valid[i]);
    /* Six option errors per seed. */
    for (size_t i = 0; i < COUNT(cfg_option_errors); i++) {
        put_str(&o, cfg_option_errors[i]);
        if (i % 6 == 5 || i + 1 == COUNT(cfg_option_errors))
            save("config", &o);
    }
    /* Eight YAML errors per seed: "%%", the document, "%%" (no options). */
    for (size_t i = 0; i < COUNT(cfg_yaml_errors); i++) {
        const char *y = cfg_yaml_errors[i];

        if (i % 8)
            put_str(&o, CFG_SEPARATOR "\n");
        put_str(&o, y);
        if (i % 8 == 7 || i + 1 == COUNT(cfg_yaml_errors))
            save("config", &o);
    }
    fz_out_free(&o);
}

/* ======================================================================
 * reclaim_ops
 * ====================================================================== */

#define RO(o, ...) fz_enc_op(o, ro_op_layout, __VA_ARGS__)

static void ro_header(struct fz_out *o, unsigned flags, unsigned mem,
                      unsigned swap, unsigned knobs)
{
    fz_put_u8(o, flags);
    fz_put_u8(o, mem);
    fz_put_u16(o, swap);
    fz_put_u8(o, knobs);
}

/* Header flags for @cpus cpus and @mms address spaces. */
static unsigned ro_flags(unsigned flags, unsigned cpus, unsigned mms)
{
    return flags | (cpus - 1) << 3 | (mms - 2) << 5;
}

/* Every operation, every selector with a meaning, every error. */
static void ro_prog_basic(struct fz_out *o)
{
    RO(o, RO_OP_MMAP, 0, RO_SIZE_SMALL, 15, RO_NID_ANY);
    RO(o, RO_OP_MMAP, 0, RO_SIZE_SMALL, 7, 0);
    RO(o, RO_OP_MMAP, 1, RO_SIZE_MID, 300, 1);
    RO(o, RO_OP_MMAP, 1, RO_SIZE_RAM, 1, RO_NID_ANY);
    RO(o, RO_OP_MMAP, 2, RO_SIZE_SMALL, 3, RO_NID_ANY);
    /* Refused: 0 pages, too many, a bad node. */
    RO(o, RO_OP_MMAP, 0, RO_SIZE_BAD, 1, 0);
    RO(o, RO_OP_MMAP, 0, RO_SIZE_BAD, 2, 0);
    RO(o, RO_OP_MMAP, 0, RO_SIZE_SMALL, 1, RO_NID_BAD);
    /* Reads of untouched pages, writes across boundaries, both regions. */
    RO(o, RO_OP_READ, 0, RO_ADDR_REGION, 0, 0, 100, 64);
    RO(o, RO_OP_WRITE, 0, RO_ADDR_REGION, 0, 2, 4000, 9000, 1);
    RO(o, RO_OP_READ, 0, RO_ADDR_REGION, 0, 2, 3000, 12288);
    RO(o, RO_OP_WRITE, 0, RO_ADDR_END, 1, 1, 10, 8192, 2);
    RO(o, RO_OP_READ, 0, RO_ADDR_END, 1, 2, 0, 12288);
    for (unsigned k = 0; k < RO_NR_ADDR; k++) {
        RO(o, RO_OP_WRITE, k % 3, k, 1, 3, 4090, 20, k);
        RO(o, RO_OP_READ, k % 3, k, 1, 3, 4090, 20);
        RO(o, RO_OP_PTE, k % 3, k, 0, 0, 8);
    }
    RO(o, RO_OP_WRITE, 0, RO_ADDR_WILD, 0xff, 0xffff, 0xfff0, 100, 3);
    RO(o, RO_OP_READ, 0, RO_ADDR_REGION, 0, 0, 0, 0);
    for (unsigned h = 0; h < RO_NR_FILL; h++)
        RO(o, RO_OP_FILL, 1, 1, 10 * h, 40, 7 + h, h);
    /* Reclaim by hand: activation, aging, swap-out, then major faults. */
    for (unsigned i = 0; i < 4; i++)
        RO(o, RO_OP_RECLAIM, 0, i, 3);
    RO(o, RO_OP_RECLAIM, 1, 1, 15);
    RO(o, RO_OP_RECLAIM, RO_NID_BAD, 0, 0);
    RO(o, RO_OP_PTE, 1, RO_ADDR_REGION, 1, 0, 63);
    RO(o, RO_OP_FILL, 1, 1, 0, 80, 7, RO_FILL_VERIFY);
    RO(o, RO_OP_BALANCE, 0);
    RO(o, RO_OP_BALANCE, RO_NID_BAD);
    /* munmap: a hole in the middle, a crossing range, the rest, errors. */
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_REGION, 1, 5, 3);
    RO(o, RO_OP_MUNMAP, 0, RO_ADDR_END, 0, 2, 40);
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_REGION, 0, 20, RO_UNMAP_REST);
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_REGION, 0, 0, 0);
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_REGION, 0, 0, RO_UNMAP_HUGE);
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_WILD, 1, 5, 1);
    RO(o, RO_OP_MUNMAP, 1, RO_ADDR_FREED, 0, 0, 4);
    RO(o, RO_OP_READ, 1, RO_ADDR_FREED, 0, 0, 0, 4096);
    RO(o, RO_OP_PTE, 1, RO_ADDR_FREED, 1, 0, 20);
    RO(o, RO_OP_READ, 1, RO_ADDR_REGION, 0, 4, 0, 12288);
    RO(o, RO_OP_MMAP, 1, RO_SIZE_SMALL, 2, 0);
    /* Raw pages, accounted and not; injected failures. */
    RO(o, RO_OP_RAW_ALLOC, 0, 0, 0, RO_NID_ANY, 10, 1);
    RO(o, RO_OP_RAW_ALLOC, RO_CPU_NONE, 2, 3, 0, 3, RO_ACCT_NONE);
    RO(o, RO_OP_RAW_ALLOC, 1, 0, 0, RO_NID_BAD, 0, RO_ACCT_NONE);
    RO(o, RO_OP_FAIL, 2);
    RO(o, RO_OP_FILL, 2, 0, 0, 5, 9, RO_FILL_WRITE);
    RO(o, RO_OP_FAIL, 1);
    RO(o, RO_OP_WRITE, 0, RO_ADDR_REGION, 0, 0, 0, 3 * 4096, 11);
    RO(o, RO_OP_READ, 0, RO_ADDR_REGION, 0, 0, 0, 3 * 4096);
    RO(o, RO_OP_RAW_FREE, 0, 5, 0);
    RO(o, RO_OP_DRAIN);
    for (unsigned q = 0; q < RO_NR_Q; q++) {
        RO(o, RO_OP_QUERY, q, 0);
        RO(o, RO_OP_QUERY, q, RO_NID_BAD);
        RO(o, RO_OP_QUERY, q, 77);
    }
    RO(o, RO_OP_EXIT, 1);
    RO(o, RO_OP_READ, 1, RO_ADDR_TOP, 0, 0, 0, 1);
    RO(o, RO_OP_RAW_FREE, 0, 63, RO_CPU_NONE);
}

/* A working set of @times halves of RAM, filled and verified page by
 * page, so direct reclaim, swap full and the OOM policy all happen. */
static void ro_prog_pressure(struct fz_out *o, unsigned times, unsigned mms)
{
    for (unsigned s = 0; s < mms; s++)
        RO(o, RO_OP_MMAP, s, RO_SIZE_RAM, times - 1, RO_NID_ANY);
    for (unsigned round = 0; round < 16; round++)
        for (unsigned s = 0; s < mms; s++)
            RO(o, RO_OP_FILL, s, 0, round * 256, 255, 3 * round + s,
               RO_FILL_WRITE);
    for (unsigned s = 0; s < mms; s++)
        RO(o, RO_OP_FILL, s, 0, 0, 255, 0, RO_FILL_VERIFY);
    RO(o, RO_OP_QUERY, RO_Q_MEMINFO, 0);
    RO(o, RO_OP_QUERY, RO_Q_VMSTAT, 0);
    RO(o, RO_OP_QUERY, RO_Q_SWAP, 0);
}

/* Touch-only (zero) pages, reclaimed without I/O, then partial writes. */
static void ro_prog_zero(struct fz_out *o)
{
    RO(o, RO_OP_MMAP, 0, RO_SIZE_MID, 511, 0);
    RO(o, RO_OP_FILL, 0, 0, 0, 255, 1, RO_FILL_TOUCH);
    for (unsigned i = 0; i < 12; i++)
        RO(o, RO_OP_RECLAIM, 0, i & 1, 15);
    RO(o, RO_OP_PTE, 0, RO_ADDR_REGION, 0, 0, 63);
    RO(o, RO_OP_FILL, 0, 0, 0, 255, 2, RO_FILL_PARTIAL);
    RO(o, RO_OP_FILL, 0, 0, 0, 255, 0, RO_FILL_VERIFY);
    RO(o, RO_OP_MUNMAP, 0, RO_ADDR_REGION, 0, 100, 50);
    RO(o, RO_OP_FILL, 0, 1, 0, 255, 0, RO_FILL_VERIFY);
}

/* Raw pages take memory the address spaces cannot get back. */
static void ro_prog_raw(struct fz_out *o)
{
    RO(o, RO_OP_MMAP, 0, RO_SIZE_RAM, 1, RO_NID_ANY);
    RO(o, RO_OP_MMAP, 1, RO_SIZE_RAM, 0, RO_NID_ANY);
    RO(o, RO_OP_FILL, 0, 0, 0, 255, 1, RO_FILL_WRITE);
    RO(o, RO_OP_FILL, 1, 0, 0, 200, 2, RO_FILL_WRITE);
    for (unsigned i = 0; i < 12; i++)
        RO(o, RO_OP_RAW_ALLOC, i % 3, i % 10, i % 4, RO_NID_ANY, 63,
           i % 2 ? RO_ACCT_NONE : i / 2);
    RO(o, RO_OP_FILL, 0, 0, 0, 255, 1, RO_FILL_VERIFY);
    RO(o, RO_OP_FILL, 1, 0, 0, 200, 2, RO_FILL_VERIFY);
    RO(o, RO_OP_RAW_FREE, 3, 63, 0);
    RO(o, RO_OP_MMAP, 0, RO_SIZE_SMALL, 10, RO_NID_ANY);
    RO(o, RO_OP_QUERY, RO_Q_OOM, 0);
    RO(o, RO_OP_EXIT, 0);
    RO(o, RO_OP_FILL, 0, 0, 0, 10, 1, RO_FILL_WRITE);
}

/* Failures injected into multi-page writes: the prefix rule. */
static void ro_prog_partial(struct fz_out *o)
{
    RO(o, RO_OP_MMAP, 0, RO_SIZE_SMALL, 40, 0);
    RO(o, RO_OP_FILL, 0, 0, 0, 20, 5, RO_FILL_WRITE);
    for (unsigned i = 0; i < 6; i++)
        RO(o, RO_OP_RECLAIM, 0, 0, 15);
    for (unsigned f = 1; f <= 4; f++) {
        RO(o, RO_OP_FAIL, f);
        RO(o, RO_OP_WRITE, 0, RO_ADDR_REGION, 0, 4 * f, 100 * f, 3 * 4096,
           20 + f);
        RO(o, RO_OP_READ, 0, RO_ADDR_REGION, 0, 4 * f, 0, 12288);
    }
    RO(o, RO_OP_FAIL, 0);
    RO(o, RO_OP_FILL, 0, 0, 0, 40, 0, RO_FILL_VERIFY);
}

static void gen_ro(void)
{
    struct fz_out o = {0};

    /* 1: one node of 16 MiB, 1024 slots, three address spaces. */
    ro_header(&o, ro_flags(0, 2, 3), 8, 1024, 0);
    ro_prog_basic(&o);
    save("reclaim_ops", &o);
    /* 2: two nodes from 1 MiB (DMA and DMA32), 4 cpus. */
    ro_header(&o, ro_flags(RO_HDR_TWO_NODES | RO_HDR_LOW_BASE, 4, 4), 0x40, 300,
              5);
    ro_prog_basic(&o);
    save("reclaim_ops", &o);
    /* 3: twice the RAM with room in swap: direct reclaim, no OOM. */
    ro_header(&o, ro_flags(0, 2, 2), 0, 4000, 0);
    ro_prog_pressure(&o, 4, 1);
    save("reclaim_ops", &o);
    /* 4-5: swap of 8 slots: swap full, then the OOM killer or ENOMEM. */
    ro_header(&o, ro_flags(0, 1, 2), 0, 8, 0);
    ro_prog_pressure(&o, 3, 2);
    save("reclaim_ops", &o);
    ro_header(&o, ro_flags(RO_HDR_OOM_FAIL, 1, 2), 0, 8, 0);
    ro_prog_pressure(&o, 3, 2);
    save("reclaim_ops", &o);
    /* 6-7: no swap at all; one slot. */
    ro_header(&o, ro_flags(RO_HDR_TWO_NODES, 2, 3), 0x11, 0, 0);
    ro_prog_pressure(&o, 2, 3);
    save("reclaim_ops", &o);
    ro_header(&o, ro_flags(RO_HDR_OOM_FAIL, 1, 2), 0, 1, 0);
    ro_prog_basic(&o);
    save("reclaim_ops", &o);
    /* 8: zero pages. */
    ro_header(&o, ro_flags(0, 2, 2), 0, 2000, 0);
    ro_prog_zero(&o);
    save("reclaim_ops", &o);
    /* 9-10: raw pressure, both policies, high watermarks. */
    ro_header(&o, ro_flags(RO_HDR_TWO_NODES, 3, 2), 0x00, 600, 0xf);
    ro_prog_raw(&o);
    save("reclaim_ops", &o);
    ro_header(&o, ro_flags(RO_HDR_OOM_FAIL | RO_HDR_LOW_BASE, 2, 2), 0x00, 600,
              0x6);
    ro_prog_raw(&o);
    save("reclaim_ops", &o);
    /* 11: failures part way through writes. */
    ro_header(&o, ro_flags(0, 2, 2), 0, 100, 0);
    ro_prog_partial(&o);
    save("reclaim_ops", &o);
    fz_out_free(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUTDIR [SRCDIR]\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) && errno != EEXIST)
        fz_fail("mkdir %s: %s", outdir, strerror(errno));
    gen_mm();
    gen_mb();
    gen_bm();
    gen_vo();
    gen_ro();
    gen_cfg(argc == 3 ? argv[2] : ".");
    printf("gen-corpus: %u seeds in %s\n", nr_written, outdir);
    return 0;
}
