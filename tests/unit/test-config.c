// SPDX-License-Identifier: MIT
/*
 * test-config.c - machine descriptions from options and YAML files.
 *
 * Sizes, the QEMU pc layout of -m and --numa node (exact ranges), SLIT
 * and reservation options, every knob (swap and the OOM policy too), the
 * shipped deploy/machines/ files, and the error messages: each names the
 * option, or the line, column and field of the YAML file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/config.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#ifndef MMSIM_SOURCE_DIR
#error "MMSIM_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)"
#endif
#define MACHINES_DIR MMSIM_SOURCE_DIR "/deploy/machines/"

struct fix {
    struct mmsim_config_builder b;
    struct mmsim_desc d;
    char err[1024];
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    mmsim_config_builder_init(&f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void assert_substr(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

static void opt_ok(struct fix *f, const char *name, const char *value)
{
    f->err[0] = '\0';
    if (mmsim_config_option(&f->b, name, value, f->err, sizeof(f->err)) != 0)
        fail_msg("option %s %s failed: %s", name, value ? value : "(null)",
                 f->err);
}

/* The option fails, the message contains @want, the builder is intact. */
static void opt_bad(struct fix *f, const char *name, const char *value,
                    const char *want)
{
    struct mmsim_config_builder before = f->b;

    f->err[0] = '\0';
    if (mmsim_config_option(&f->b, name, value, f->err, sizeof(f->err)) !=
        MMSIM_ECONFIG)
        fail_msg("option %s %s accepted", name, value ? value : "(null)");
    assert_substr(f->err, want);
    assert_memory_equal(&before, &f->b, sizeof(before));
}

static void finish_ok(struct fix *f)
{
    f->err[0] = '\0';
    if (mmsim_config_finish(&f->b, &f->d, f->err, sizeof(f->err)) != 0)
        fail_msg("finish failed: %s", f->err);
}

static void finish_bad(struct fix *f, const char *want)
{
    f->err[0] = '\0';
    assert_int_equal(mmsim_config_finish(&f->b, &f->d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_substr(f->err, want);
}

static void yaml_ok(struct fix *f, const char *text)
{
    f->err[0] = '\0';
    if (mmsim_config_load_yaml(&f->b, text, strlen(text), f->err,
                               sizeof(f->err)) != 0)
        fail_msg("YAML failed: %s\n--- text:\n%s", f->err, text);
}

static void assert_range(const struct mmsim_desc *d, unsigned i, int nid,
                         uint64_t base, uint64_t size)
{
    assert_true(i < d->nr_ranges);
    assert_int_equal(d->ranges[i].nid, nid);
    assert_int_equal(d->ranges[i].base, base);
    assert_int_equal(d->ranges[i].size, size);
}

static void assert_reserved(const struct mmsim_desc *d, unsigned i,
                            uint64_t base, uint64_t size, const char *name)
{
    assert_true(i < d->nr_reserved);
    assert_int_equal(d->reserved[i].base, base);
    assert_int_equal(d->reserved[i].size, size);
    assert_string_equal(d->reserved[i].name, name);
}

/* Field by field, so padding bytes never matter. */
static void assert_desc_equal(const struct mmsim_desc *a,
                              const struct mmsim_desc *b)
{
    assert_int_equal(a->nr_nodes, b->nr_nodes);
    assert_int_equal(a->nr_ranges, b->nr_ranges);
    for (unsigned i = 0; i < a->nr_ranges; i++)
        assert_range(b, i, a->ranges[i].nid, a->ranges[i].base,
                     a->ranges[i].size);
    assert_int_equal(a->nr_reserved, b->nr_reserved);
    for (unsigned i = 0; i < a->nr_reserved; i++)
        assert_reserved(b, i, a->reserved[i].base, a->reserved[i].size,
                        a->reserved[i].name);
    assert_memory_equal(a->distance, b->distance, sizeof(a->distance));
    assert_int_equal(a->nr_cpus, b->nr_cpus);
    assert_int_equal(a->max_order, b->max_order);
    assert_int_equal(a->min_free_kbytes, b->min_free_kbytes);
    assert_int_equal(a->watermark_scale_factor, b->watermark_scale_factor);
    assert_memory_equal(a->lowmem_reserve_ratio, b->lowmem_reserve_ratio,
                        sizeof(a->lowmem_reserve_ratio));
    assert_int_equal(a->movablecore, b->movablecore);
    assert_int_equal(a->highmem_start, b->highmem_start);
    assert_int_equal(a->early, b->early);
    assert_int_equal(a->deferred_init, b->deferred_init);
    assert_int_equal(a->stop_before_handoff, b->stop_before_handoff);
    assert_int_equal(a->swap_bytes, b->swap_bytes);
    assert_string_equal(a->swap_path, b->swap_path);
    assert_int_equal(a->oom_policy, b->oom_policy);
}

/* ------------------------------------------------------------------ */
/* Sizes */

static void test_size_good(void **state)
{
    static const struct {
        const char *s;
        uint64_t v;
    } t[] = {
        {"0", 0},
        {"1", 1},
        {"4096", 4096},
        {"007", 7},
        {"4K", 4 * KIB},
        {"4k", 4 * KIB},
        {"4KiB", 4 * KIB},
        {"8M", 8 * MIB},
        {"8m", 8 * MIB},
        {"8MiB", 8 * MIB},
        {"2G", 2 * GIB},
        {"2g", 2 * GIB},
        {"2giB", 2 * GIB},
        {"1T", TIB},
        {"1TiB", TIB},
        {"0x1000", 0x1000},
        {"0X1000", 0x1000},
        {"0xaBcD", 0xabcd},
        {"0x10M", 16 * MIB},
        {"0x0", 0},
        {"16777215T", UINT64_C(16777215) << 40},
        {"18446744073709551615", UINT64_MAX},
        {"0xffffffffffffffff", UINT64_MAX},
    };

    (void)state;
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint64_t v = 12345;

        if (mmsim_config_parse_size(t[i].s, &v) != 0)
            fail_msg("'%s' rejected", t[i].s);
        if (v != t[i].v)
            fail_msg("'%s' gave %llu, want %llu", t[i].s, (unsigned long long)v,
                     (unsigned long long)t[i].v);
    }
}

static void test_size_bad(void **state)
{
    static const char *const t[] = {
        "",
        "-1",
        "-1G",
        "+4",
        "4X",
        "4KB",
        "4Kb",
        "4Kib",
        "4KIB",
        "4 K",
        " 4",
        "4K ",
        "4KK",
        "0x",
        "0xg",
        "x10",
        "G",
        "1.5G",
        "1e9",
        "4P",
        "18446744073709551616",
        "16777216T",
        "0x10000000000000000",
        "17179869184G",
    };
    uint64_t v = 777;

    (void)state;
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (mmsim_config_parse_size(t[i], &v) != MMSIM_ECONFIG)
            fail_msg("'%s' accepted", t[i]);
    assert_int_equal(v, 777); /* never written on error */
    assert_int_equal(mmsim_config_parse_size(NULL, &v), MMSIM_ECONFIG);
    assert_int_equal(mmsim_config_parse_size("4K", NULL), MMSIM_ECONFIG);
}

/* ------------------------------------------------------------------ */
/* Options: layout */

static void test_default_machine(void **state)
{
    struct fix *f = *state;
    struct mmsim_desc want;

    finish_ok(f);
    mmsim_desc_default(&want);
    assert_desc_equal(&want, &f->d);
    /* Swap as large as its RAM, in memory; the OOM killer kills. */
    assert_int_equal(f->d.swap_bytes, 8 * GIB);
    assert_string_equal(f->d.swap_path, "");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);
    /* And finishing again gives the same: the builder is not consumed. */
    finish_ok(f);
    assert_desc_equal(&want, &f->d);
}

static void test_m_only(void **state)
{
    struct fix *f = *state;
    struct mmsim_desc base;

    opt_ok(f, "m", "8G");
    finish_ok(f);
    assert_int_equal(f->d.nr_nodes, 1);
    assert_int_equal(f->d.nr_ranges, 3);
    assert_range(&f->d, 0, 0, 0x1000, 0x9e000);
    assert_range(&f->d, 1, 0, MIB, 3 * GIB - MIB);
    assert_range(&f->d, 2, 0, 4 * GIB, 5 * GIB);
    /* -m counts the first MiB whole, as QEMU does. */
    assert_int_equal(mmsim_desc_total_ram(&f->d), 8 * GIB - 392 * KIB);
    assert_int_equal(f->d.nr_reserved, 2);
    assert_reserved(&f->d, 0, 0x9e000, 4 * KIB, "bios-ebda");
    assert_reserved(&f->d, 1, 16 * MIB, 32 * MIB, "kernel");
    /* Knobs not given are mmsim_desc_init()'s. */
    mmsim_desc_init(&base);
    assert_int_equal(f->d.nr_cpus, base.nr_cpus);
    assert_int_equal(f->d.max_order, base.max_order);
    assert_int_equal(f->d.deferred_init, base.deferred_init);
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);
    /* Swap defaults to the RAM size as -m gives it. */
    assert_int_equal(f->d.swap_bytes, 8 * GIB);
    assert_string_equal(f->d.swap_path, "");

    /* A bare number is MiB (QEMU); size= is accepted too. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "size=2048");
    finish_ok(f);
    assert_int_equal(f->d.nr_ranges, 2);
    assert_range(&f->d, 1, 0, MIB, 2 * GIB - MIB);
}

static void test_m_two_nodes(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "m", "8G");
    opt_ok(f, "numa", "node,mem=4G");
    opt_ok(f, "numa", "node,mem=4G");
    finish_ok(f);
    assert_int_equal(f->d.nr_nodes, 2);
    assert_int_equal(f->d.nr_ranges, 4);
    assert_range(&f->d, 0, 0, 0x1000, 0x9e000);
    assert_range(&f->d, 1, 0, 0x100000, 0xbff00000);
    assert_range(&f->d, 2, 0, 0x100000000, 0x40000000);
    assert_range(&f->d, 3, 1, 0x140000000, 0x100000000);
    assert_int_equal(f->d.nr_reserved, 2);
    assert_reserved(&f->d, 0, 0x9e000, 0x1000, "bios-ebda");
    assert_reserved(&f->d, 1, 0x1000000, 0x2000000, "kernel");
    assert_int_equal(mmsim_desc_distance(&f->d, 0, 1), 20);
}

static void test_numa_share(void **state)
{
    struct fix *f = *state;

    /* 8G / 3 rounded down to 8M is 2728M; the last node takes the rest. */
    opt_ok(f, "m", "8G");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node");
    finish_ok(f);
    assert_int_equal(f->d.nr_nodes, 3);
    assert_int_equal(f->d.nr_ranges, 5);
    assert_range(&f->d, 0, 0, 0x1000, 0x9e000);
    assert_range(&f->d, 1, 0, MIB, 2728 * MIB - MIB);
    assert_range(&f->d, 2, 1, 2728 * MIB, 3 * GIB - 2728 * MIB);
    assert_range(&f->d, 3, 1, 4 * GIB, (5456 - 3072) * MIB);
    assert_range(&f->d, 4, 2, (5456 + 1024) * MIB, 2736 * MIB);

    /* Nodes without mem= share what the others left: 3G each here. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "8G");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node,mem=2G");
    opt_ok(f, "numa", "node");
    finish_ok(f);
    assert_int_equal(f->d.nr_ranges, 4);
    assert_range(&f->d, 1, 0, MIB, 3 * GIB - MIB);
    assert_range(&f->d, 2, 1, 4 * GIB, 2 * GIB);
    assert_range(&f->d, 3, 2, 6 * GIB, 3 * GIB);
}

static void test_numa_no_m(void **state)
{
    struct fix *f = *state;

    /* Without -m, -m is the sum of mem=; nodeid= picks the slot. */
    opt_ok(f, "numa", "node,nodeid=1,mem=1024");
    opt_ok(f, "numa", "node,mem=2G,nodeid=0");
    finish_ok(f);
    assert_int_equal(f->d.nr_nodes, 2);
    assert_int_equal(f->d.nr_ranges, 3);
    assert_range(&f->d, 0, 0, 0x1000, 0x9e000);
    assert_range(&f->d, 1, 0, MIB, 2 * GIB - MIB);
    assert_range(&f->d, 2, 1, 2 * GIB, GIB);

    /* No -m and no mem= at all: they share the default 8G. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node");
    finish_ok(f);
    assert_range(&f->d, f->d.nr_ranges - 1, 1, 5 * GIB, 4 * GIB);
}

static void test_numa_errors(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "m", "8G");
    opt_ok(f, "numa", "node,mem=4G");
    opt_ok(f, "numa", "node,mem=4G");
    opt_ok(f, "numa", "node,mem=4G");
    finish_bad(f, "--numa node,mem=4G: node memory adds up to 12G but -m is "
                  "8G");

    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "8G");
    opt_ok(f, "numa", "node,mem=2G");
    opt_ok(f, "numa", "node,mem=3G");
    finish_bad(f, "--numa node,mem=3G: node memory adds up to 5G but -m is "
                  "8G");

    mmsim_config_builder_init(&f->b);
    opt_ok(f, "numa", "node,mem=1G");
    opt_ok(f, "numa", "node");
    finish_bad(f, "--numa node: node 1 has no mem= and -m is not given");

    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "2G");
    opt_ok(f, "numa", "node,mem=2G");
    opt_ok(f, "numa", "node");
    finish_bad(f, "--numa node: node 1 has no mem= and the 0 left of -m 2G");

    mmsim_config_builder_init(&f->b);
    opt_ok(f, "numa", "node,nodeid=1,mem=1G");
    finish_bad(f, "--numa node,nodeid=1,mem=1G: node 0 is not defined");

    mmsim_config_builder_init(&f->b);
    opt_bad(f, "numa", "node,mem=4X",
            "--numa node,mem=4X: mem=4X: '4X' is not "
            "a size");
    opt_bad(f, "numa", "node,mem=0", "memoryless nodes are not supported");
    opt_bad(f, "numa", "node,mem=6K", "6K is not a multiple of the 4 KiB page");
    opt_bad(f, "numa", "node,mem=1G,mem=2G", "mem= given twice");
    opt_bad(f, "numa", "node,cpus=0-3", "unknown parameter 'cpus'");
    opt_bad(f, "numa", "node,nodeid=64", "nodeid=64: '64' is out of range");
    opt_bad(f, "numa", "node,mem", "'mem' is not key=value");
    opt_bad(f, "numa", "cpu,node-id=0", "unknown type 'cpu'");
    opt_bad(f, "numa", "", "--numa: needs a value");
    opt_ok(f, "numa", "node,nodeid=1");
    opt_bad(f, "numa", "node,nodeid=1",
            "node 1 is already defined by --numa node,nodeid=1");
    /* QEMU: the default id is the number of nodes defined so far. */
    opt_bad(f, "numa", "node", "--numa node: node 1 is already defined");

    mmsim_config_builder_init(&f->b);
    /* The top: 16T less 1G (MMSIM_MAX_PHYS), and -m adds the PCI hole. */
    opt_ok(f, "m", "16383G");
    finish_bad(f, "-m: RAM of 16383G would end at 0x100000000000, beyond the "
                  "16383G limit of the 64-bit model");
    opt_ok(f, "m", "16382G");
    finish_ok(f);
    assert_int_equal(f->d.ranges[f->d.nr_ranges - 1].base +
                         f->d.ranges[f->d.nr_ranges - 1].size,
                     MMSIM_MAX_PHYS);
    opt_bad(f, "m", "16T",
            "-m 16T: 16T is more than 16383G, the most the simulator can "
            "address");
    opt_bad(f, "m", "0", "-m 0: 0: the machine needs some RAM");
    opt_bad(f, "m", "1000000000000T", "does not fit in 64 bits");
    opt_bad(f, "m", "4097K",
            "-m 4097K: 4097K is not a multiple of the 4 KiB "
            "page");
}

/* ------------------------------------------------------------------ */
/* Options: distances, reservations, knobs */

static void test_dist_options(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "m", "3G");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "node");
    opt_ok(f, "numa", "dist,src=0,dst=1,val=21");
    finish_ok(f);
    assert_int_equal(f->d.distance[0][1], 21);
    assert_int_equal(f->d.distance[1][0], 21); /* mirrored, as QEMU */
    assert_int_equal(mmsim_desc_distance(&f->d, 0, 2), 20);

    /* An explicit reverse wins over the mirror, and stays. */
    opt_ok(f, "numa", "dist,src=1,dst=0,val=31");
    opt_ok(f, "numa", "dist,val=25,dst=1,src=0");
    opt_ok(f, "numa", "dist,src=2,dst=0,val=40");
    opt_ok(f, "numa", "dist,src=1,dst=1,val=10");
    finish_ok(f);
    assert_int_equal(f->d.distance[0][1], 25);
    assert_int_equal(f->d.distance[1][0], 31);
    assert_int_equal(f->d.distance[2][0], 40);
    assert_int_equal(f->d.distance[0][2], 40);
    assert_int_equal(f->d.distance[1][1], 10);

    opt_bad(f, "numa", "dist,src=0,dst=0,val=20",
            "--numa dist,src=0,dst=0,val=20: node 0's distance to itself "
            "must be 10, not 20");
    opt_bad(f, "numa", "dist,src=0,dst=1,val=10",
            "distance 10 from node 0 to node 1 must be 11..254");
    opt_bad(f, "numa", "dist,src=0,dst=1,val=300",
            "val=300: '300' is out of "
            "range (0..255)");
    opt_bad(f, "numa", "dist,src=0,dst=1", "missing val=");
    opt_bad(f, "numa", "dist,src=0,src=1,val=20", "src= given twice");
    opt_bad(f, "numa", "dist,src=64,dst=1,val=20", "src=64");
    opt_bad(f, "numa", "dist,from=0,dst=1,val=20", "unknown parameter 'from'");

    opt_ok(f, "numa", "dist,src=0,dst=5,val=20");
    finish_bad(f, "--numa dist,src=0,dst=5,val=20: node 5 does not exist (the "
                  "machine has 3 nodes)");

    /* On the built-in machine (2 nodes). */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "numa", "dist,src=1,dst=0,val=30");
    finish_ok(f);
    assert_int_equal(f->d.distance[0][1], 30);
    assert_int_equal(f->d.distance[1][0], 30);
}

static void test_reserve_option(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "m", "1G");
    opt_ok(f, "reserve", "0x200000,64K,acpi,tables");
    opt_ok(f, "reserve", "1G,4K");
    finish_ok(f);
    assert_int_equal(f->d.nr_reserved, 4);
    assert_reserved(&f->d, 0, 0x9e000, 4 * KIB, "bios-ebda");
    assert_reserved(&f->d, 1, 16 * MIB, 32 * MIB, "kernel");
    assert_reserved(&f->d, 2, 0x200000, 64 * KIB, "acpi,tables");
    assert_reserved(&f->d, 3, GIB, 4 * KIB, "reserved");

    /* The kernel reservation only when RAM covers it. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "32M");
    finish_ok(f);
    assert_int_equal(f->d.nr_reserved, 1);
    assert_reserved(&f->d, 0, 0x9e000, 4 * KIB, "bios-ebda");

    /* On the built-in machine, --reserve adds to its reservations. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "reserve", "0x300000,8K,fw");
    finish_ok(f);
    assert_int_equal(f->d.nr_reserved, 4);
    assert_reserved(&f->d, 3, 0x300000, 8 * KIB, "fw");

    opt_bad(f, "reserve", "0x1000",
            "--reserve 0x1000: expected "
            "BASE,SIZE[,NAME]");
    opt_bad(f, "reserve", "0x1000,0", "--reserve 0x1000,0: size is 0");
    opt_bad(f, "reserve", "x,4K", "--reserve x,4K: base: 'x' is not a size");
    opt_bad(f, "reserve", "0,-4K", "size: '-4K' has a sign");
    opt_bad(f, "reserve", "0x1000,4K,", "name '' must have 1..31 characters");
    opt_bad(f, "reserve", "0x1000,4K,a-name-that-is-longer-than-31-chars",
            "must have 1..31 characters");
    opt_bad(f, "reserve", "16T,4K", "ends beyond 16383G, the most");
}

static void test_knob_options(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "m", "4G");
    opt_ok(f, "cpus", "8");
    opt_ok(f, "max-order", "11");
    opt_ok(f, "min-free-kbytes", "4096");
    opt_ok(f, "watermark-scale-factor", "0x64");
    opt_ok(f, "lowmem-reserve-ratio", "128,64,16,8,4");
    opt_ok(f, "movablecore", "1G");
    opt_ok(f, "early", "bootmem");
    opt_ok(f, "deferred-init", "off");
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 8);
    assert_int_equal(f->d.max_order, 11);
    assert_int_equal(f->d.min_free_kbytes, 4096);
    assert_int_equal(f->d.watermark_scale_factor, 100);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_DMA], 128);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_DMA32], 64);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_NORMAL], 16);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_HIGHMEM], 8);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_MOVABLE], 4);
    assert_int_equal(f->d.movablecore, GIB);
    assert_int_equal(f->d.highmem_start, 0);
    assert_int_equal(f->d.early, MMSIM_EARLY_BOOTMEM);
    assert_false(f->d.deferred_init);

    opt_ok(f, "highmem", NULL);
    opt_ok(f, "deferred-init", "on");
    finish_ok(f);
    assert_int_equal(f->d.highmem_start, 896 * MIB);
    assert_true(f->d.deferred_init);
    opt_ok(f, "highmem", "1G");
    finish_ok(f);
    assert_int_equal(f->d.highmem_start, GIB);
    opt_ok(f, "highmem", "");
    finish_ok(f);
    assert_int_equal(f->d.highmem_start, 896 * MIB);
    opt_ok(f, "highmem", "off");
    finish_ok(f);
    assert_int_equal(f->d.highmem_start, 0);

    /* Knobs alone apply on top of the built-in machine. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "cpus", "16");
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 16);
    assert_int_equal(f->d.nr_nodes, 2);

    opt_bad(f, "cpus", "0", "--cpus 0: '0' is out of range (1..256)");
    opt_bad(f, "cpus", "257", "out of range (1..256)");
    opt_bad(f, "cpus", "four", "--cpus four: 'four' is not a whole number");
    opt_bad(f, "cpus", "-1", "--cpus -1: '-1' is not a whole number");
    opt_bad(f, "cpus", NULL, "--cpus: needs a value");
    opt_bad(f, "max-order", "16",
            "--max-order 16: '16' is out of range "
            "(0..15)");
    opt_bad(f, "watermark-scale-factor", "0", "out of range (1..3000)");
    opt_bad(f, "watermark-scale-factor", "3001", "out of range (1..3000)");
    opt_bad(f, "lowmem-reserve-ratio", "256,256",
            "--lowmem-reserve-ratio 256,256: too few ratios; expected five");
    opt_bad(f, "lowmem-reserve-ratio", "1,2,3,4,5,6", "more than five ratios");
    opt_bad(f, "lowmem-reserve-ratio", "1,2,x,4,5",
            "'x' is not a whole number");
    opt_bad(f, "movablecore", "1Q", "--movablecore 1Q: '1Q' is not a size");
    opt_bad(f, "highmem", "8M",
            "--highmem 8M: the HighMem boundary '8M' must "
            "be page aligned and in (16M, 4G]");
    opt_bad(f, "highmem", "5G", "in (16M, 4G]");
    opt_bad(f, "early", "slab",
            "--early slab: 'slab' is not an early "
            "allocator (memblock or bootmem)");
    opt_bad(f, "deferred-init", "maybe", "'maybe' is not on or off");
    opt_bad(f, "smp", "4", "unknown machine option '--smp 4'");
    opt_bad(f, "m", NULL, "-m: needs a value");
    opt_bad(f, "config", NULL, "--config: needs a value");

    /* A knob mmsim_desc_validate() refuses is still caught at finish. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "64M");
    opt_ok(f, "movablecore", "64M");
    finish_bad(f, "movablecore");
    /* HighMem machines stop at PAE's 64G. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "64G");
    opt_ok(f, "highmem", NULL);
    finish_bad(f, "-m: RAM of 64G would end at 0x1040000000, beyond the 64G "
                  "limit of the 32-bit (PAE) model");
}

/* ------------------------------------------------------------------ */
/* Swap and the OOM policy */

static void test_swap_defaults(void **state)
{
    struct fix *f = *state;
    struct mmsim_desc d;

    /* mmsim_desc_init(): no swap, the OOM killer kills. */
    mmsim_desc_init(&d);
    assert_int_equal(d.swap_bytes, 0);
    assert_string_equal(d.swap_path, "");
    assert_int_equal(d.oom_policy, MMSIM_OOM_KILL);

    /* From sizes: the RAM size as -m counts it (not the usable RAM). */
    opt_ok(f, "m", "2G");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 2 * GIB);
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "numa", "node,mem=1G");
    opt_ok(f, "numa", "node,mem=512M");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 1536 * MIB);
    /* ... capped at 64G. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "100G");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, MMSIM_CONFIG_DEFAULT_SWAP_MAX_BYTES);
    assert_int_equal(f->d.swap_bytes, 64 * GIB);
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "m", "64G");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 64 * GIB);
    /* From ranges: what they add up to; none under two pages. */
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "nodes:\n"
               "  - ranges: [{base: 1M, size: 12M}, {base: 32M, size: 4M}]\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 16 * MIB);
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "nodes:\n  - ranges: [{base: 1M, size: 4K}]\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 0);
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "nodes:\n  - ranges: [{base: 1M, size: 8K}]\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * KIB);
    /* The built-in machine keeps its 8G when other knobs are given. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "cpus", "3");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * GIB);
}

static void test_swap_option(void **state)
{
    struct fix *f = *state;
    char path[300];

    opt_ok(f, "m", "1G");
    opt_ok(f, "swap", "2G");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 2 * GIB);
    assert_string_equal(f->d.swap_path, "");

    /* A file; a bare number is bytes; size= works too. */
    opt_ok(f, "swap", "0x100000,file=/var/tmp/mmsim.swap");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, MIB);
    assert_string_equal(f->d.swap_path, "/var/tmp/mmsim.swap");
    opt_ok(f, "swap", "size=8192");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * KIB);
    assert_string_equal(f->d.swap_path, "/var/tmp/mmsim.swap"); /* kept */
    /* file= alone keeps the size; it takes the rest, commas and all. */
    opt_ok(f, "swap", "file=/tmp/a,b=c");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * KIB);
    assert_string_equal(f->d.swap_path, "/tmp/a,b=c");
    opt_ok(f, "swap", "size=16T,file=rel/dir");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 16 * TIB);
    assert_string_equal(f->d.swap_path, "rel/dir");
    /* 0: no swap, and so no file. */
    opt_ok(f, "swap", "0");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 0);
    assert_string_equal(f->d.swap_path, "");
    /* file= alone on the built-in machine: its 8G there. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "swap", "file=/srv/swap");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * GIB);
    assert_string_equal(f->d.swap_path, "/srv/swap");
    /* The longest name that fits. */
    memset(path, 'p', sizeof(path));
    memcpy(path, "file=", 5);
    path[5 + MMSIM_DESC_PATH_LEN - 1] = '\0';
    opt_ok(f, "swap", path);
    finish_ok(f);
    assert_int_equal(strlen(f->d.swap_path), MMSIM_DESC_PATH_LEN - 1);

    /* Errors name the option and leave the builder alone. */
    opt_bad(f, "swap", "4X", "--swap 4X: '4X' is not a size");
    opt_bad(f, "swap", "size=-1G", "--swap size=-1G: '-1G' has a sign");
    opt_bad(f, "swap", "6K",
            "--swap 6K: 6K is not a multiple of the 4 KiB "
            "page");
    opt_bad(f, "swap", "4K",
            "--swap 4K: 4K is less than 2 pages (the header page and one "
            "slot); 0 means no swap");
    opt_bad(f, "swap", "16385G",
            "--swap 16385G: 16385G is more than 16T, the most 32-bit swap "
            "slots can address");
    opt_bad(f, "swap", "0x100000001000", "is more than 16T");
    opt_bad(f, "swap", "1G,size=2G",
            "--swap 1G,size=2G: the size is given "
            "twice");
    opt_bad(f, "swap", "1G,prio=5",
            "--swap 1G,prio=5: unknown parameter 'prio' (swap takes SIZE or "
            "size=, then file=)");
    opt_bad(f, "swap", "1G,/tmp/x",
            "--swap 1G,/tmp/x: '/tmp/x' is not "
            "key=value");
    opt_bad(f, "swap", "1G,", "--swap 1G,: '' is not key=value");
    opt_bad(f, "swap", ",file=/x", "--swap ,file=/x: empty size");
    opt_bad(f, "swap", "1G,file=",
            "--swap 1G,file=: the swap file name is "
            "empty");
    opt_bad(f, "swap", "0,file=/tmp/x",
            "--swap 0,file=/tmp/x: a swap file with size 0; 0 means no swap");
    path[5 + MMSIM_DESC_PATH_LEN - 1] = 'p';
    path[5 + MMSIM_DESC_PATH_LEN] = '\0';
    opt_bad(f, "swap", path,
            "the swap file name has 256 characters; at most "
            "255");
    opt_bad(f, "swap", NULL, "--swap: needs a value");
    opt_bad(f, "swap", "", "--swap: needs a value");
}

static void test_oom_option(void **state)
{
    struct fix *f = *state;

    opt_ok(f, "oom-policy", "fail");
    finish_ok(f);
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_FAIL);
    assert_int_equal(f->d.nr_nodes, 2); /* the built-in machine */
    opt_ok(f, "m", "1G");
    finish_ok(f);
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_FAIL);
    opt_ok(f, "oom-policy", "kill");
    finish_ok(f);
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);

    opt_bad(f, "oom-policy", "panic",
            "--oom-policy panic: 'panic' is not an OOM policy (kill or "
            "fail)");
    opt_bad(f, "oom-policy", "KILL", "'KILL' is not an OOM policy");
    opt_bad(f, "oom-policy", NULL, "--oom-policy: needs a value");
}

/* What mmsim_desc_validate() says about descriptions built by hand. */
static void test_swap_validate(void **state)
{
    struct fix *f = *state;
    struct mmsim_desc d;

    mmsim_desc_default(&d);
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);
    d.swap_bytes = 0;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);
    d.swap_bytes = 2 * MMSIM_PAGE_SIZE;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);
    d.swap_bytes = 16 * TIB;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);

    d.swap_bytes = MMSIM_PAGE_SIZE;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err, "swap_bytes: 0x1000 is less than 2 pages (the "
                                "header page and one slot); 0 means no swap");
    d.swap_bytes = GIB + 512;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err, "swap_bytes: 0x40000200 is not a multiple "
                                "of the 4 KiB page");
    d.swap_bytes = 16 * TIB + MMSIM_PAGE_SIZE;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err, "swap_bytes: 0x100000001000 is more than 16 "
                                "TiB (swap slots are 32-bit)");

    d.swap_bytes = GIB;
    memset(d.swap_path, 'x', sizeof(d.swap_path));
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err,
                        "swap_path: not NUL-terminated within its 256 bytes");
    d.swap_path[sizeof(d.swap_path) - 1] = '\0';
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);

    d.oom_policy = (enum mmsim_oom_policy)2;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err, "oom_policy: unknown policy 2");
    d.oom_policy = MMSIM_OOM_FAIL;
    assert_int_equal(mmsim_desc_validate(&d, f->err, sizeof(f->err)), 0);
}

static void test_swap_yaml(void **state)
{
    struct fix *f = *state;

    yaml_ok(f, "memory: 1G\nswap: 256M\noom_policy: fail\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 256 * MIB);
    assert_string_equal(f->d.swap_path, "");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_FAIL);

    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "memory: 1G\n"
               "swap:\n"
               "  size: 0x20000000\n"
               "  file: \"/var/tmp/my swap\"\n"
               "oom_policy: kill\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 512 * MIB);
    assert_string_equal(f->d.swap_path, "/var/tmp/my swap");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);
    /* A later file or option sets only what it names. */
    yaml_ok(f, "swap: {file: /srv}\n");
    opt_ok(f, "swap", "128M");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 128 * MIB);
    assert_string_equal(f->d.swap_path, "/srv");
    yaml_ok(f, "swap: {}\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 128 * MIB);
    yaml_ok(f, "swap: {size: 0}\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 0);
    assert_string_equal(f->d.swap_path, "");
    yaml_ok(f, "swap: 0\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 0);

    /* A name of 256 characters is one too many. */
    {
        char text[320];
        struct mmsim_config_builder before = f->b;
        int n = snprintf(text, sizeof(text), "swap: {file: ");

        memset(text + n, 'p', MMSIM_DESC_PATH_LEN);
        snprintf(text + n + MMSIM_DESC_PATH_LEN,
                 sizeof(text) - (size_t)n - MMSIM_DESC_PATH_LEN, "}\n");
        assert_int_equal(mmsim_config_load_yaml(&f->b, text, strlen(text),
                                                f->err, sizeof(f->err)),
                         MMSIM_ECONFIG);
        assert_string_equal(f->err, "<yaml>:1:14: swap.file: the swap file "
                                    "name has 256 characters; at most 255");
        assert_memory_equal(&before, &f->b, sizeof(before));
    }

    /* The built-in machine with a file given. */
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "swap: {file: swapfile}\n");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 8 * GIB);
    assert_string_equal(f->d.swap_path, "swapfile");
}

static void test_default_swap_dir(void **state)
{
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL, buf[MMSIM_DESC_PATH_LEN];
    char longdir[MMSIM_DESC_PATH_LEN + 1];

    (void)state;
    assert_int_equal(unsetenv("TMPDIR"), 0);
    assert_int_equal(mmsim_config_default_swap_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/var/tmp");
    assert_int_equal(setenv("TMPDIR", "", 1), 0);
    assert_int_equal(mmsim_config_default_swap_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, MMSIM_CONFIG_SWAP_DIR_FALLBACK);
    assert_int_equal(setenv("TMPDIR", "/scratch/tmp", 1), 0);
    assert_int_equal(mmsim_config_default_swap_dir(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/scratch/tmp");
    /* Exactly fits, then one byte short. */
    assert_int_equal(mmsim_config_default_swap_dir(buf, 13), 0);
    assert_string_equal(buf, "/scratch/tmp");
    assert_int_equal(mmsim_config_default_swap_dir(buf, 12), MMSIM_ERANGE);
    assert_string_equal(buf, "");
    assert_int_equal(mmsim_config_default_swap_dir(NULL, 0), MMSIM_ERANGE);
    memset(longdir, 'd', sizeof(longdir));
    longdir[0] = '/';
    longdir[MMSIM_DESC_PATH_LEN] = '\0';
    assert_int_equal(setenv("TMPDIR", longdir, 1), 0);
    assert_int_equal(mmsim_config_default_swap_dir(buf, sizeof(buf)),
                     MMSIM_ERANGE);
    assert_string_equal(buf, "");
    if (saved)
        assert_int_equal(setenv("TMPDIR", saved, 1), 0);
    else
        assert_int_equal(unsetenv("TMPDIR"), 0);
    free(saved);
}

static void test_help(void **state)
{
    static const char *const names[] = {
        "-m SIZE",
        "--numa node",
        "--numa dist",
        "--reserve",
        "--cpus",
        "--max-order",
        "--min-free-kbytes",
        "--watermark-scale-factor",
        "--lowmem-reserve-ratio",
        "--movablecore",
        "--highmem",
        "--early memblock|bootmem",
        "--deferred-init on|off",
        "--swap SIZE[,file=PATH]",
        "--oom-policy kill|fail",
        "--config FILE",
    };
    const char *h = mmsim_config_options_help(), *line = h;

    (void)state;
    assert_non_null(h);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_substr(h, names[i]);
    assert_int_equal(h[strlen(h) - 1], '\n');
    while (*line) {
        const char *nl = strchr(line, '\n');

        assert_non_null(nl);
        if (nl - line > 80)
            fail_msg("help line over 80 columns: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
}

/* ------------------------------------------------------------------ */
/* YAML */

static void load_machine(struct fix *f, const char *file)
{
    char path[512];

    snprintf(path, sizeof(path), "%s%s", MACHINES_DIR, file);
    if (mmsim_config_load_file(&f->b, path, f->err, sizeof(f->err)) != 0)
        fail_msg("%s: %s", path, f->err);
    finish_ok(f);
    assert_int_equal(mmsim_desc_validate(&f->d, f->err, sizeof(f->err)), 0);
}

static void test_shipped_default(void **state)
{
    struct fix *f = *state;
    struct mmsim_desc want;

    load_machine(f, "default.yaml");
    mmsim_desc_default(&want);
    assert_desc_equal(&want, &f->d);
}

static void test_shipped_4node_asym(void **state)
{
    struct fix *f = *state;

    load_machine(f, "4node-asym.yaml");
    assert_int_equal(f->d.nr_nodes, 4);
    assert_int_equal(f->d.nr_cpus, 8);
    assert_int_equal(f->d.nr_ranges, 6);
    assert_range(&f->d, 3, 1, 5 * GIB, 4 * GIB);
    assert_range(&f->d, 5, 3, 13 * GIB, 4 * GIB);
    for (int a = 0; a < 4; a++)
        assert_int_equal(mmsim_desc_distance(&f->d, a, a), 10);
    assert_int_equal(mmsim_desc_distance(&f->d, 0, 1), 16);
    assert_int_equal(mmsim_desc_distance(&f->d, 1, 0), 18);
    assert_int_equal(mmsim_desc_distance(&f->d, 0, 3), 28);
    assert_int_equal(mmsim_desc_distance(&f->d, 3, 0), 30);
    assert_reserved(&f->d, 1, 16 * MIB, 32 * MIB, "kernel");
    /* No swap key: as large as memory; the OOM killer kills. */
    assert_int_equal(f->d.swap_bytes, 16 * GIB);
    assert_string_equal(f->d.swap_path, "");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);
}

static void test_shipped_highmem32(void **state)
{
    struct fix *f = *state;

    load_machine(f, "highmem32.yaml");
    assert_int_equal(f->d.nr_nodes, 1);
    assert_int_equal(f->d.highmem_start, 896 * MIB);
    assert_false(f->d.deferred_init);
    assert_int_equal(f->d.nr_ranges, 2);
    assert_range(&f->d, 1, 0, MIB, 2 * GIB - MIB);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_NORMAL], 32);
    assert_int_equal(f->d.swap_bytes, 512 * MIB);
    assert_string_equal(f->d.swap_path, "");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_FAIL);
}

static void test_config_option_order(void **state)
{
    struct fix *f = *state;

    /* The file overrides what came before it; later options override it. */
    opt_ok(f, "cpus", "2");
    opt_ok(f, "config", MACHINES_DIR "4node-asym.yaml");
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 8);
    opt_ok(f, "cpus", "16");
    opt_ok(f, "numa", "dist,src=0,dst=1,val=17");
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 16);
    assert_int_equal(f->d.distance[0][1], 17);
    assert_int_equal(f->d.distance[1][0], 18); /* explicit in the file */
    /* Swap and OOM policy: a later option overrides the file. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "swap", "1G");
    opt_ok(f, "config", MACHINES_DIR "highmem32.yaml");
    finish_ok(f);
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_FAIL);
    opt_ok(f, "swap", "file=/var/tmp");
    opt_ok(f, "oom-policy", "kill");
    finish_ok(f);
    assert_int_equal(f->d.swap_bytes, 512 * MIB); /* the file's */
    assert_string_equal(f->d.swap_path, "/var/tmp");
    assert_int_equal(f->d.oom_policy, MMSIM_OOM_KILL);

    /* A node by size cannot join nodes given by ranges. */
    mmsim_config_builder_init(&f->b);
    opt_ok(f, "config", MACHINES_DIR "default.yaml");
    opt_bad(f, "numa", "node,mem=1G", "cannot add a node by size");

    opt_bad(f, "config", "/nonexistent/machine.yaml",
            "/nonexistent/machine.yaml: cannot open: ");
    opt_bad(f, "config", MACHINES_DIR, "cannot read");
}

static void test_yaml_schema(void **state)
{
    struct fix *f = *state;

    yaml_ok(f,
            "# everything at once\n"
            "cpus: 6\n"
            "max_order: 0xb\n"
            "min_free_kbytes: 2048\n"
            "watermark_scale_factor: 50\n"
            "lowmem_reserve_ratio:\n"
            "  normal: 64\n"
            "movablecore: 256M\n"
            "highmem: 512MiB\n"
            "early_allocator: bootmem\n"
            "deferred_init: no\n"
            "nodes:\n"
            "  - ranges:\n"
            "      - base: 0x100000\n"
            "        end: 1G\n"
            "  - id: 1\n"
            "    ranges: [{base: 2G, size: 1G}, {base: 3G, end: 0xd0000000}]\n"
            "reserved:\n"
            "  - {base: 2M, size: 1M, name: kernel}\n"
            "  - {base: 4M, size: 4K}\n"
            "distances:\n"
            "  - [10, 33]\n"
            "  - [44, 10]\n");
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 6);
    assert_int_equal(f->d.max_order, 11);
    assert_int_equal(f->d.min_free_kbytes, 2048);
    assert_int_equal(f->d.watermark_scale_factor, 50);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_DMA], 256);
    assert_int_equal(f->d.lowmem_reserve_ratio[MMSIM_ZONE_NORMAL], 64);
    assert_int_equal(f->d.movablecore, 256 * MIB);
    assert_int_equal(f->d.highmem_start, 512 * MIB);
    assert_int_equal(f->d.early, MMSIM_EARLY_BOOTMEM);
    assert_false(f->d.deferred_init);
    assert_int_equal(f->d.nr_nodes, 2);
    assert_int_equal(f->d.nr_ranges, 3);
    assert_range(&f->d, 0, 0, MIB, GIB - MIB);
    assert_range(&f->d, 1, 1, 2 * GIB, GIB);
    assert_range(&f->d, 2, 1, 3 * GIB, 256 * MIB);
    /* A reserved list is the whole list: no default reservations. */
    assert_int_equal(f->d.nr_reserved, 2);
    assert_reserved(&f->d, 0, 2 * MIB, MIB, "kernel");
    assert_reserved(&f->d, 1, 4 * MIB, 4 * KIB, "reserved");
    assert_int_equal(f->d.distance[0][1], 33);
    assert_int_equal(f->d.distance[1][0], 44);

    /* memory with nodes by size; the file's "memory" names itself. */
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "memory: 2G\n"
               "nodes:\n"
               "  - mem: 1G\n"
               "  - mem: 2G\n");
    finish_bad(f, "<yaml>:4:10: nodes[1].mem: node memory adds up to 3G but "
                  "memory (<yaml>:1:9) is 2G");
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "memory: 2G\n"
               "nodes:\n"
               "  - ranges: [{base: 1M, size: 1G}]\n");
    finish_bad(f, "memory (<yaml>:1:9) is 2G but the nodes' ranges add up to "
                  "1G");
    /* Distances naming a node the options never made. */
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "distances: [{src: 0, dst: 3, val: 20}]\n");
    finish_bad(f, "distances: the entry from node 0 to node 3 names a node "
                  "the machine does not have (it has 2)");
    /* What only mmsim_desc_validate() checks comes out of finish(). */
    mmsim_config_builder_init(&f->b);
    yaml_ok(f, "nodes:\n"
               "  - ranges: [{base: 1M, size: 1M}, {base: 8M, size: 1M}]\n"
               "  - ranges: [{base: 4M, size: 1M}]\n");
    finish_bad(f, "node 1: span [0x400000-0x4fffff] interleaves with node 0's");
}

struct yaml_bad_case {
    const char *text;
    const char *want;
};

static void test_yaml_errors(void **state)
{
    static const struct yaml_bad_case t[] = {
        /* unknown key */
        {"memory: 4G\nmemroy: 8G\n",
         "<yaml>:2:1: unknown key 'memroy' (known keys: cpus, max_order,"},
        {"nodes:\n  - id: 0\n    size: 1G\n",
         "<yaml>:3:5: nodes[0]: unknown key 'size' (known keys: id, mem, "
         "ranges)"},
        /* bad size */
        {"memory: 8G\n"
         "nodes:\n"
         "  - mem: 4G\n"
         "  - ranges:\n"
         "      - base: 5G\n"
         "        size: 4X\n",
         "<yaml>:6:15: nodes[1].ranges[0].size: '4X' is not a size"},
        {"memory: -8G\n", "<yaml>:1:9: memory: '-8G' has a sign"},
        {"memory: 6K\n", "<yaml>:1:9: memory: 6K is not a multiple of the"},
        {"movablecore: lots\n",
         "<yaml>:1:14: movablecore: 'lots' is not a size"},
        /* wrong types */
        {"cpus: [1, 2]\n",
         "<yaml>:1:7: cpus: expected a number, got a sequence"},
        {"cpus: 4.5\n", "<yaml>:1:7: cpus: '4.5' is not a whole number"},
        {"cpus:\n", "<yaml>:1:6: cpus: expected a number, got nothing"},
        {"nodes: {id: 0}\n",
         "<yaml>:1:8: nodes: expected a sequence, got a mapping"},
        {"nodes:\n  - 4G\n",
         "<yaml>:2:5: nodes[0]: expected a mapping, got a scalar"},
        {"lowmem_reserve_ratio: [256, 32]\n",
         "<yaml>:1:23: lowmem_reserve_ratio: expected a mapping, got a "
         "sequence"},
        {"highmem: {a: 1}\n",
         "<yaml>:1:10: highmem: expected true, false or a size, got a "
         "mapping"},
        {"deferred_init: perhaps\n",
         "<yaml>:1:16: deferred_init: 'perhaps' is not on or off"},
        {"early_allocator: slab\n",
         "<yaml>:1:18: early_allocator: 'slab' is not an early allocator"},
        {"[1]: 2\n", "<yaml>:1:1: keys must be strings, got a sequence"},
        /* duplicate keys */
        {"cpus: 2\nmemory: 1G\ncpus: 4\n",
         "<yaml>:3:1: duplicate key 'cpus' (first given on line 1)"},
        {"nodes:\n  - mem: 1G\n    id: 0\n    mem: 2G\n",
         "<yaml>:4:5: nodes[0]: duplicate key 'mem' (first given on line 2)"},
        /* node ids */
        {"nodes:\n  - id: 0\n    mem: 1G\n  - id: 2\n    mem: 1G\n",
         "<yaml>:4:9: nodes[1].id: 2 must equal the node's position in the "
         "list, 1"},
        {"nodes:\n  - id: -1\n",
         "<yaml>:2:9: nodes[0].id: '-1' is not a whole number"},
        {"nodes: []\n", "<yaml>:1:8: nodes: 0 nodes; need 1..64"},
        /* mem and ranges */
        {"nodes:\n"
         "  - mem: 1G\n"
         "    ranges:\n"
         "      - {base: 1G, size: 1G}\n",
         "<yaml>:3:5: nodes[0]: give mem or ranges, not both"},
        {"nodes:\n"
         "  - ranges: [{base: 1M, size: 1G}]\n"
         "  - mem: 1G\n",
         "<yaml>:3:5: nodes[1]: nodes[0] gives ranges and nodes[1] gives mem; "
         "give all nodes by ranges or none"},
        {"nodes:\n"
         "  - id: 0\n"
         "  - ranges: [{base: 1M, size: 1G}]\n",
         "<yaml>:3:5: nodes[1]: nodes[1] gives ranges and nodes[0] gives "
         "neither"},
        {"nodes:\n  - mem: 0\n",
         "<yaml>:2:10: nodes[0].mem: 0: memoryless nodes are not supported"},
        /* ranges */
        {"nodes:\n  - ranges: [{base: 1M, size: 1G, end: 2G}]\n",
         "<yaml>:2:35: nodes[0].ranges[0]: give size or end, not both"},
        {"nodes:\n  - ranges: [{size: 1G}]\n",
         "<yaml>:2:14: nodes[0].ranges[0]: missing key 'base'"},
        {"nodes:\n  - ranges: [{base: 1G}]\n",
         "<yaml>:2:14: nodes[0].ranges[0]: needs size or end"},
        {"nodes:\n  - ranges: [{base: 2G, end: 1G}]\n",
         "<yaml>:2:30: nodes[0].ranges[0]: end 0x40000000 is not above base "
         "0x80000000"},
        {"nodes:\n  - ranges: [{base: 0x1800, size: 1G}]\n",
         "<yaml>:2:21: nodes[0].ranges[0]: base 0x1800 is not a multiple of "
         "the 4 KiB page"},
        {"nodes:\n  - ranges: [{base: 1M, size: 0}]\n",
         "nodes[0].ranges[0]: size is 0"},
        {"nodes:\n  - ranges: []\n",
         "<yaml>:2:13: nodes[0].ranges: needs at least one range"},
        {"nodes:\n"
         "  - ranges: [{base: 1M, size: 1G}]\n"
         "  - ranges:\n"
         "      - {base: 2G, size: 1G}\n"
         "      - {base: 512M, size: 1G}\n",
         "<yaml>:5:9: nodes[1].ranges[1]: [0x20000000, 0x60000000) overlaps "
         "nodes[0].ranges[0] (line 2)"},
        {"nodes:\n  - ranges: [{base: 15T, size: 2T}]\n",
         "nodes[0].ranges[0]: ends beyond 16383G"},
        /* reserved */
        {"reserved:\n  - {base: 1M}\n",
         "<yaml>:2:5: reserved[0]: missing key 'size'"},
        {"reserved:\n  - {base: 1M, size: 4K, name: "
         "a-name-that-is-longer-than-31-chars}\n",
         "<yaml>:2:5: reserved[0]: name 'a-name-that-is-longer-than-31-chars' "
         "must have 1..31 characters"},
        {"reserved: [{base: 1M, size: 4K, name: [x]}]\n",
         "<yaml>:1:39: reserved[0].name: expected a name, got a sequence"},
        /* distances */
        {"distances:\n  - [10, 20]\n  - [20]\n",
         "<yaml>:3:5: distances[1]: a row of 1 entries in a matrix of 2 "
         "rows; the matrix must be square"},
        {"distances:\n  - [10, 20]\n  - [20, 11]\n",
         "<yaml>:3:10: distances[1][1]: node 1's distance to itself must be "
         "10, not 11"},
        {"distances:\n  - {src: 0, dst: 1}\n",
         "<yaml>:2:5: distances[0]: missing key 'val'"},
        {"distances:\n  - {src: 0, dst: 1, val: 300}\n",
         "<yaml>:2:27: distances[0].val: '300' is out of range (0..255)"},
        {"distances:\n  - {src: 0, dst: 1, val: 5}\n",
         "<yaml>:2:5: distances[0]: distance 5 from node 0 to node 1 must be "
         "11..254"},
        {"distances: [7]\n",
         "<yaml>:1:13: distances[0]: expected a matrix row (a sequence) or"},
        {"nodes: [{mem: 1G}, {mem: 1G}]\n"
         "distances: [[10, 20, 20], [20, 10, 20], [20, 20, 10]]\n",
         "<yaml>:2:12: distances: a 3x3 matrix for 2 nodes"},
        {"distances: [{src: 0, dst: 1, val: 20}, {src: 2, dst: 0, val: 20}]\n"
         "nodes: [{mem: 1G}, {mem: 1G}]\n",
         "<yaml>:1:40: distances: entry 1 names node 2, but nodes has 2 "
         "entries"},
        /* lowmem_reserve_ratio */
        {"lowmem_reserve_ratio: {dma: 1, device: 2}\n",
         "<yaml>:1:32: lowmem_reserve_ratio: unknown key 'device' (known "
         "keys: dma, dma32, normal, highmem, movable)"},
        {"lowmem_reserve_ratio: {normal: x}\n",
         "<yaml>:1:32: lowmem_reserve_ratio.normal: 'x' is not a whole "
         "number"},
        /* swap and oom_policy */
        {"swap: [1G]\n",
         "<yaml>:1:7: swap: expected a size or a mapping, got a sequence"},
        {"swap:\n", "<yaml>:1:6: swap: expected a size or a mapping, got "
                    "nothing"},
        {"swap: 4X\n", "<yaml>:1:7: swap: '4X' is not a size"},
        {"swap: 4K\n", "<yaml>:1:7: swap: 4K is less than 2 pages (the "
                       "header page and one slot); 0 means no swap"},
        {"swap: {size: 6K}\n",
         "<yaml>:1:14: swap.size: 6K is not a multiple of the 4 KiB page"},
        {"swap: {size: 17T}\n",
         "<yaml>:1:14: swap.size: 17T is more than 16T, the most 32-bit "
         "swap slots can address"},
        {"swap: {size: [1]}\n",
         "<yaml>:1:14: swap.size: expected a size, got a sequence"},
        {"swap: {size: 1G, prio: 5}\n",
         "<yaml>:1:18: swap: unknown key 'prio' (known keys: size, file)"},
        {"swap:\n  size: 1G\n  size: 2G\n",
         "<yaml>:3:3: swap: duplicate key 'size' (first given on line 2)"},
        {"swap: {file: \"\"}\n",
         "<yaml>:1:14: swap.file: the swap file name is empty"},
        {"swap: {file: ~}\n",
         "<yaml>:1:14: swap.file: expected a path, got nothing"},
        {"swap: {file: {a: b}}\n",
         "<yaml>:1:14: swap.file: expected a path, got a mapping"},
        {"swap: {file: /tmp/x, size: 0}\n",
         "<yaml>:1:14: swap.file: a swap file with size 0; 0 means no swap"},
        {"oom_policy: panic\n",
         "<yaml>:1:13: oom_policy: 'panic' is not an OOM policy (kill or "
         "fail)"},
        {"oom_policy: [kill]\n",
         "<yaml>:1:13: oom_policy: expected kill or fail, got a sequence"},
        /* the whole file */
        {"", "<yaml>: the file is empty; expected a mapping"},
        {"# just a comment\n\n", "<yaml>: the file is empty"},
        {"---\n...\n", "<yaml>: the file is empty"},
        {"- memory: 1G\n",
         "<yaml>:1:1: expected a mapping of machine keys at the top level, "
         "got a sequence"},
        {"hello\n", "<yaml>:1:1: expected a mapping of machine keys at the "
                    "top level, got a scalar"},
        {"cpus: 2\n---\ncpus: 3\n",
         "<yaml>:2:1: a second YAML document; a machine file holds one"},
        {"cpus: &n 2\nmax_order: *n\n",
         "<yaml>:2:12: aliases (*n) are not supported"},
        {"memory: [1G\ncpus: 2\n", "<yaml>:"},
        {"memory: 1G\n  cpus: 2\n", "<yaml>:2:7: mapping values are not "
                                    "allowed in this context"},
        {"cpus: \"2\\0\"\n", "<yaml>:1:7: cpus: contains a NUL character"},
    };
    struct fix *f = *state;

    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mmsim_config_builder before;

        mmsim_config_builder_init(&f->b);
        before = f->b;
        f->err[0] = '\0';
        if (mmsim_config_load_yaml(&f->b, t[i].text, strlen(t[i].text), f->err,
                                   sizeof(f->err)) != MMSIM_ECONFIG)
            fail_msg("case %u accepted:\n%s", i, t[i].text);
        if (strstr(f->err, t[i].want) == NULL)
            fail_msg("case %u: expected \"%s\" in \"%s\"", i, t[i].want,
                     f->err);
        assert_memory_equal(&before, &f->b, sizeof(before));
    }
}

static void test_yaml_bounds(void **state)
{
    struct fix *f = *state;
    char deep[128], *big;
    size_t n = 0;

    /* 16 levels (the top mapping and 15 sequences) load; 17 do not. */
    n += (size_t)snprintf(deep, sizeof(deep), "distances: ");
    for (unsigned i = 0; i < 15; i++)
        deep[n++] = '[';
    for (unsigned i = 0; i < 15; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_int_equal(
        mmsim_config_load_yaml(&f->b, deep, n, f->err, sizeof(f->err)),
        MMSIM_ECONFIG);
    assert_substr(f->err,
                  "<yaml>:1:14: distances[0][0]: expected a number, got "
                  "a sequence");
    n = (size_t)snprintf(deep, sizeof(deep), "distances: ");
    for (unsigned i = 0; i < 16; i++)
        deep[n++] = '[';
    for (unsigned i = 0; i < 16; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_int_equal(
        mmsim_config_load_yaml(&f->b, deep, n, f->err, sizeof(f->err)),
        MMSIM_ECONFIG);
    assert_substr(f->err, "<yaml>:1:27: nested deeper than 16 levels");

    /* 1 MiB loads (a comment and one key); one byte more does not. */
    big = malloc(MMSIM_CONFIG_MAX_FILE_BYTES + 1);
    assert_non_null(big);
    memset(big, ' ', MMSIM_CONFIG_MAX_FILE_BYTES + 1);
    big[0] = '#';
    memcpy(big + MMSIM_CONFIG_MAX_FILE_BYTES - 8, "\ncpus: 3", 8);
    assert_int_equal(mmsim_config_load_yaml(&f->b, big,
                                            MMSIM_CONFIG_MAX_FILE_BYTES, f->err,
                                            sizeof(f->err)),
                     0);
    big[MMSIM_CONFIG_MAX_FILE_BYTES] = '\n';
    assert_int_equal(mmsim_config_load_yaml(&f->b, big,
                                            MMSIM_CONFIG_MAX_FILE_BYTES + 1,
                                            f->err, sizeof(f->err)),
                     MMSIM_ECONFIG);
    assert_substr(f->err, "<yaml>: 1048577 bytes, more than the 1 MiB limit");

    /* The same through a file. */
    {
        const char *path = "test-config-big.yaml";
        FILE *fp = fopen(path, "wb");

        assert_non_null(fp);
        assert_int_equal(fwrite(big, 1, MMSIM_CONFIG_MAX_FILE_BYTES + 1, fp),
                         MMSIM_CONFIG_MAX_FILE_BYTES + 1);
        assert_int_equal(fclose(fp), 0);
        assert_int_equal(
            mmsim_config_load_file(&f->b, path, f->err, sizeof(f->err)),
            MMSIM_ECONFIG);
        assert_substr(f->err, "test-config-big.yaml: larger than the 1 MiB "
                              "limit");
        remove(path);
    }
    free(big);
    finish_ok(f);
    assert_int_equal(f->d.nr_cpus, 3);

    /* NULL text is only fine with no bytes; both are errors. */
    assert_int_equal(
        mmsim_config_load_yaml(&f->b, NULL, 0, f->err, sizeof(f->err)),
        MMSIM_ECONFIG);
    assert_substr(f->err, "the file is empty");
    /* Messages fit any buffer, and a NULL one is fine. */
    assert_int_equal(mmsim_config_load_yaml(&f->b, "x: 1", 4, f->err, 8),
                     MMSIM_ECONFIG);
    assert_string_equal(f->err, "<yaml>:");
    assert_int_equal(mmsim_config_load_yaml(&f->b, "x: 1", 4, NULL, 0),
                     MMSIM_ECONFIG);
}

static void test_yaml_file_error_names_file(void **state)
{
    struct fix *f = *state;
    const char *path = "test-config-machine.yaml";
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs("memory: 8G\n"
          "nodes:\n"
          "  - id: 0\n"
          "    mem: 4G\n"
          "  - id: 1\n"
          "    ranges:\n"
          "      - {base: 5G, size: 4X}\n",
          fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(
        mmsim_config_option(&f->b, "config", path, f->err, sizeof(f->err)),
        MMSIM_ECONFIG);
    assert_string_equal(f->err, "test-config-machine.yaml:7:26: "
                                "nodes[1].ranges[0].size: '4X' is not a size");
    remove(path);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_size_good),         T(test_size_bad),
        T(test_default_machine),   T(test_m_only),
        T(test_m_two_nodes),       T(test_numa_share),
        T(test_numa_no_m),         T(test_numa_errors),
        T(test_dist_options),      T(test_reserve_option),
        T(test_knob_options),      T(test_swap_defaults),
        T(test_swap_option),       T(test_oom_option),
        T(test_swap_validate),     T(test_swap_yaml),
        T(test_default_swap_dir),  T(test_help),
        T(test_shipped_default),   T(test_shipped_4node_asym),
        T(test_shipped_highmem32), T(test_config_option_order),
        T(test_yaml_schema),       T(test_yaml_errors),
        T(test_yaml_bounds),       T(test_yaml_file_error_names_file),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
