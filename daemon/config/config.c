// SPDX-License-Identifier: MIT
/*
 * config.c - machine descriptions from QEMU-like options and YAML files.
 *
 * DOC: how a description is built
 *
 * Options and YAML files only record what the user said, in a struct
 * mmsim_config_builder: the knobs given (with a bit per knob, so the
 * untouched ones keep their defaults), the size of RAM, the nodes (each
 * with a mem size or, from YAML, a list of ranges), the reservations and
 * the SLIT entries. Each value is checked on its own as soon as it is
 * parsed, so the message can name the option or the YAML line; problems
 * that need the whole picture (memory that does not add up, a distance to
 * a node that does not exist) wait for mmsim_config_finish(), which names
 * the option or line through the origin labels the builder keeps.
 *
 * finish() then lays out the memory the way QEMU's pc machine does (see
 * mmsim/config.h), adds reservations, distances and knobs, and ends with
 * mmsim_desc_validate(), the one place that knows every rule of a
 * description.
 *
 * YAML goes through libyaml twice: an event pass that bounds nesting and
 * rejects aliases and extra documents before anything is built, then the
 * document API, whose tree is walked against the schema. Each mapping has
 * a fixed set of keys, so duplicates are found with a per-mapping table
 * and never by comparing keys pairwise. A file is applied to a copy of the
 * builder, so a bad file changes nothing.
 */
/* strerror_r(), the XSI one: the header promises any thread. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "mmsim/config.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#define PAGE_MASK (MMSIM_PAGE_SIZE - 1)

/*
 * QEMU's pc machine layout, in RAM offsets (see mmsim/config.h): usable
 * low memory, usable memory from 1 MiB, and the part relocated above the
 * PCI hole.
 */
#define LOW_RAM_START  UINT64_C(0x1000)  /* page 0 belongs to the BIOS */
#define LOW_RAM_END    UINT64_C(0x9f000) /* the EBDA page and up */
#define HIGH_RAM_START MIB
#define BELOW_4G_END   (3 * GIB)
#define PCI_HOLE_BYTES GIB
/* QEMU's pc numa_mem_align_shift (23): automatic node shares are 8 MiB. */
#define SHARE_ALIGN (8 * MIB)

/* builder->distance_flags[a][b] bits. */
#define DIST_GIVEN    0x1u /* distance[a][b] holds a value */
#define DIST_EXPLICIT 0x2u /* given in this direction, not mirrored */
#define DIST_YAML     0x4u /* came from a YAML file */

/* Knobs: one bit each in builder->knobs_set. */
enum knob {
    KNOB_CPUS,
    KNOB_MAX_ORDER,
    KNOB_MIN_FREE_KBYTES,
    KNOB_WSF,
    KNOB_LRR,
    KNOB_MOVABLECORE,
    KNOB_HIGHMEM,
    KNOB_EARLY,
    KNOB_DEFERRED_INIT,
    KNOB_SWAP, /* the size; a file given is swap_path[0] != 0 */
    KNOB_OOM_POLICY,
    NR_KNOBS
};

/* Option names, and bounds for the integer knobs. */
static const struct knob_info {
    const char *option;
    uint64_t min, max;
} knob_info[NR_KNOBS] = {
    [KNOB_CPUS] = {"cpus", 1, MMSIM_MAX_CPUS},
    [KNOB_MAX_ORDER] = {"max-order", 0, MMSIM_MAX_ORDER_CAP},
    [KNOB_MIN_FREE_KBYTES] = {"min-free-kbytes", 0, UINT64_MAX / 1024},
    [KNOB_WSF] = {"watermark-scale-factor", 1, 3000},
    [KNOB_LRR] = {"lowmem-reserve-ratio", 0, INT32_MAX},
    [KNOB_MOVABLECORE] = {"movablecore", 0, 0},
    [KNOB_HIGHMEM] = {"highmem", 0, 0},
    [KNOB_EARLY] = {"early", 0, 0},
    [KNOB_DEFERRED_INIT] = {"deferred-init", 0, 0},
    [KNOB_SWAP] = {"swap", 0, 0},
    [KNOB_OOM_POLICY] = {"oom-policy", 0, 0},
};

/* What each knob takes, for YAML type errors. */
static const char *const knob_want[NR_KNOBS] = {
    [KNOB_CPUS] = "a number",
    [KNOB_MAX_ORDER] = "a number",
    [KNOB_MIN_FREE_KBYTES] = "a number",
    [KNOB_WSF] = "a number",
    [KNOB_LRR] = "a mapping",
    [KNOB_MOVABLECORE] = "a size",
    [KNOB_HIGHMEM] = "true, false or a size",
    [KNOB_EARLY] = "memblock or bootmem",
    [KNOB_DEFERRED_INIT] = "true or false",
    [KNOB_SWAP] = "a size or a mapping",
    [KNOB_OOM_POLICY] = "kill or fail",
};

/* Top-level YAML keys: the knobs first, in enum knob order. */
enum top_key {
    TOP_MEMORY = NR_KNOBS,
    TOP_NODES,
    TOP_RESERVED,
    TOP_DISTANCES,
    NR_TOP_KEYS
};

static const char *const top_keys[NR_TOP_KEYS] = {
    [KNOB_CPUS] = "cpus",
    [KNOB_MAX_ORDER] = "max_order",
    [KNOB_MIN_FREE_KBYTES] = "min_free_kbytes",
    [KNOB_WSF] = "watermark_scale_factor",
    [KNOB_LRR] = "lowmem_reserve_ratio",
    [KNOB_MOVABLECORE] = "movablecore",
    [KNOB_HIGHMEM] = "highmem",
    [KNOB_EARLY] = "early_allocator",
    [KNOB_DEFERRED_INIT] = "deferred_init",
    [KNOB_SWAP] = "swap",
    [KNOB_OOM_POLICY] = "oom_policy",
    [TOP_MEMORY] = "memory",
    [TOP_NODES] = "nodes",
    [TOP_RESERVED] = "reserved",
    [TOP_DISTANCES] = "distances",
};

/* The zones lowmem_reserve_ratio takes, in option order. */
#define NR_LRR_ZONES 5
static const char *const lrr_keys[NR_LRR_ZONES] = {
    "dma", "dma32", "normal", "highmem", "movable",
};
static const enum mmsim_zone_type lrr_zones[NR_LRR_ZONES] = {
    MMSIM_ZONE_DMA,     MMSIM_ZONE_DMA32,   MMSIM_ZONE_NORMAL,
    MMSIM_ZONE_HIGHMEM, MMSIM_ZONE_MOVABLE,
};

/* Reservations a machine laid out from options gets when RAM covers them. */
static const struct {
    uint64_t base, size;
    const char *name;
} default_reserved[] = {
    {0x9e000, 4 * KIB, "bios-ebda"},
    {16 * MIB, 32 * MIB, "kernel"},
};

/* ------------------------------------------------------------------ */
/* Messages */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return MMSIM_ECONFIG;
}

/* A size for messages: "12G", "640K", or bytes when no unit divides it. */
struct sizestr {
    char s[32];
};

static const char *size_str(struct sizestr *buf, uint64_t bytes)
{
    static const char units[] = "TGMK";

    for (unsigned i = 0; bytes && i < 4; i++) {
        unsigned shift = 40 - 10 * i;

        if ((bytes & ((UINT64_C(1) << shift) - 1)) == 0) {
            snprintf(buf->s, sizeof(buf->s), "%" PRIu64 "%c", bytes >> shift,
                     units[i]);
            return buf->s;
        }
    }
    snprintf(buf->s, sizeof(buf->s), "%" PRIu64, bytes);
    return buf->s;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int streq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return 0;
    return *a == *b;
}

/* ------------------------------------------------------------------ */
/* Numbers and sizes */

enum parse_res { PARSE_OK, PARSE_EMPTY, PARSE_SIGN, PARSE_JUNK, PARSE_RANGE };

static int digit_val(char c, unsigned base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f')
        return ascii_lower(c) - 'a' + 10;
    return -1;
}

/* Digits in decimal or 0x hex at *sp; advances *sp past them. */
static enum parse_res parse_digits(const char **sp, uint64_t *out)
{
    const char *p = *sp, *start;
    unsigned base = 10;
    uint64_t v = 0;
    int d;

    if (*p == '\0')
        return PARSE_EMPTY;
    if (*p == '-' || *p == '+')
        return PARSE_SIGN;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    start = p;
    for (; (d = digit_val(*p, base)) >= 0; p++) {
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return PARSE_RANGE;
        v = v * base + (unsigned)d;
    }
    if (p == start)
        return PARSE_JUNK;
    *sp = p;
    *out = v;
    return PARSE_OK;
}

/* A size; @default_shift applies when there is no unit (20: MiB). */
static enum parse_res size_parse(const char *s, unsigned default_shift,
                                 uint64_t *out)
{
    unsigned shift = default_shift;
    enum parse_res r;
    uint64_t v;

    if (s == NULL)
        return PARSE_EMPTY;
    r = parse_digits(&s, &v);
    if (r != PARSE_OK)
        return r;
    if (*s != '\0') {
        switch (ascii_lower(*s)) {
        case 'k':
            shift = 10;
            break;
        case 'm':
            shift = 20;
            break;
        case 'g':
            shift = 30;
            break;
        case 't':
            shift = 40;
            break;
        default:
            return PARSE_JUNK;
        }
        s++;
        if (s[0] == 'i' && s[1] == 'B')
            s += 2;
        if (*s != '\0')
            return PARSE_JUNK;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return PARSE_RANGE;
    *out = v << shift;
    return PARSE_OK;
}

int mmsim_config_parse_size(const char *s, uint64_t *out)
{
    uint64_t v;

    if (out == NULL || size_parse(s, 0, &v) != PARSE_OK)
        return MMSIM_ECONFIG;
    *out = v;
    return 0;
}

/* size_parse() with a reason in @why on failure; returns 0 or -1. */
static int size_text(const char *s, unsigned default_shift, uint64_t *out,
                     char *why, size_t whylen)
{
    switch (size_parse(s, default_shift, out)) {
    case PARSE_OK:
        return 0;
    case PARSE_EMPTY:
        snprintf(why, whylen, "empty size");
        break;
    case PARSE_SIGN:
        snprintf(why, whylen, "'%.40s' has a sign; sizes have none", s);
        break;
    case PARSE_JUNK:
        snprintf(why, whylen, "'%.40s' is not a size", s);
        break;
    case PARSE_RANGE:
        snprintf(why, whylen, "'%.40s' does not fit in 64 bits", s);
        break;
    }
    return -1;
}

/* A whole number in [min, max], decimal or 0x hex; 0 or -1 with @why. */
static int uint_text(const char *s, uint64_t min, uint64_t max, uint64_t *out,
                     char *why, size_t whylen)
{
    const char *p = s;
    enum parse_res r;
    uint64_t v = 0;

    r = p ? parse_digits(&p, &v) : PARSE_EMPTY;
    if (r == PARSE_OK && *p != '\0')
        r = PARSE_JUNK;
    if (r == PARSE_OK && (v < min || v > max))
        r = PARSE_RANGE;
    switch (r) {
    case PARSE_OK:
        *out = v;
        return 0;
    case PARSE_EMPTY:
        snprintf(why, whylen, "empty value; expected a number");
        break;
    case PARSE_SIGN:
    case PARSE_JUNK:
        snprintf(why, whylen, "'%.40s' is not a whole number %s", s,
                 min ? "above 0" : "(0 or more)");
        break;
    case PARSE_RANGE:
        snprintf(why, whylen,
                 "'%.40s' is out of range (%" PRIu64 "..%" PRIu64 ")", s, min,
                 max);
        break;
    }
    return -1;
}

static int bool_parse(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes"};
    static const char *const no[] = {"off", "false", "no"};

    for (unsigned i = 0; i < 3; i++) {
        if (streq_nocase(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (streq_nocase(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Splits @buf in place at @sep; returns the count (max + 1: too many). */
static unsigned split(char *buf, char sep, char **fields, unsigned max)
{
    unsigned n = 0;
    char *p = buf;

    for (;;) {
        char *next = strchr(p, sep);

        if (n == max)
            return max + 1;
        fields[n++] = p;
        if (next == NULL)
            return n;
        *next = '\0';
        p = next + 1;
    }
}

/* ------------------------------------------------------------------ */
/* Checks and setters shared by options and YAML */

/* RAM (-m, memory) and node (mem=) sizes. */
static int ram_size_check(uint64_t bytes, bool node, char *why, size_t whylen)
{
    struct sizestr s;

    if (bytes == 0) {
        snprintf(why, whylen, "%s",
                 node ? "0: memoryless nodes are not supported"
                      : "0: the machine needs some RAM");
        return -1;
    }
    if (bytes & PAGE_MASK) {
        snprintf(why, whylen, "%s is not a multiple of the 4 KiB page",
                 size_str(&s, bytes));
        return -1;
    }
    if (bytes > MMSIM_MAX_PHYS) {
        struct sizestr lim;

        snprintf(why, whylen,
                 "%s is more than %s, the most the simulator can address",
                 size_str(&s, bytes), size_str(&lim, MMSIM_MAX_PHYS));
        return -1;
    }
    return 0;
}

/* Swap sizes: 0 (no swap), else whole pages, 2 pages .. 16 TiB. */
static int swap_size_check(uint64_t bytes, char *why, size_t whylen)
{
    struct sizestr s, lim;

    if (bytes == 0)
        return 0;
    if (bytes & PAGE_MASK) {
        snprintf(why, whylen, "%s is not a multiple of the 4 KiB page",
                 size_str(&s, bytes));
        return -1;
    }
    if (bytes < 2 * MMSIM_PAGE_SIZE) {
        snprintf(why, whylen,
                 "%s is less than 2 pages (the header page and one slot); "
                 "0 means no swap",
                 size_str(&s, bytes));
        return -1;
    }
    if (bytes > MMSIM_CONFIG_SWAP_MAX_BYTES) {
        snprintf(why, whylen,
                 "%s is more than %s, the most 32-bit swap slots can "
                 "address",
                 size_str(&s, bytes),
                 size_str(&lim, MMSIM_CONFIG_SWAP_MAX_BYTES));
        return -1;
    }
    return 0;
}

/* A swap file (or directory) name: 1..MMSIM_DESC_PATH_LEN - 1 bytes. */
static int swap_path_check(const char *path, char *why, size_t whylen)
{
    size_t n = strlen(path);

    if (n == 0) {
        snprintf(why, whylen, "the swap file name is empty");
        return -1;
    }
    if (n >= MMSIM_DESC_PATH_LEN) {
        snprintf(why, whylen,
                 "the swap file name has %zu characters; at most %d", n,
                 MMSIM_DESC_PATH_LEN - 1);
        return -1;
    }
    return 0;
}

/*
 * --swap SIZE[,file=PATH]: SIZE may also be written size=SIZE, and either
 * part may be left out. file= comes last and takes the rest, commas and
 * all (as --reserve's NAME). Sets what it names and keeps the other part.
 */
static int swap_option(struct mmsim_config_builder *b, const char *text,
                       char *why, size_t whylen)
{
    const char *p = text, *path = NULL;
    bool has_size = false;
    uint64_t size = 0;
    char field[96];

    for (bool first = true;; first = false) {
        const char *comma, *eq, *v;
        size_t n;

        if (strncmp(p, "file=", 5) == 0) {
            path = p + 5;
            if (swap_path_check(path, why, whylen))
                return -1;
            break;
        }
        comma = strchr(p, ',');
        n = comma ? (size_t)(comma - p) : strlen(p);
        eq = memchr(p, '=', n);
        if (eq && (eq - p != 4 || strncmp(p, "size", 4) != 0)) {
            snprintf(why, whylen,
                     "unknown parameter '%.*s' (swap takes SIZE or size=, "
                     "then file=)",
                     (int)((size_t)(eq - p) < 40 ? (size_t)(eq - p) : 40), p);
            return -1;
        }
        if (eq == NULL && !first) {
            snprintf(why, whylen, "'%.*s' is not key=value",
                     (int)(n < 40 ? n : 40), p);
            return -1;
        }
        if (has_size) {
            snprintf(why, whylen, "the size is given twice");
            return -1;
        }
        v = eq ? eq + 1 : p;
        n -= (size_t)(v - p);
        if (n >= sizeof(field)) {
            snprintf(why, whylen, "'%.40s...' is not a size", v);
            return -1;
        }
        memcpy(field, v, n);
        field[n] = '\0';
        if (size_text(field, 0, &size, why, whylen) ||
            swap_size_check(size, why, whylen))
            return -1;
        has_size = true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (path && has_size && size == 0) {
        snprintf(why, whylen, "a swap file with size 0; 0 means no swap");
        return -1;
    }
    if (has_size) {
        b->swap_bytes = size;
        b->knobs_set |= 1u << KNOB_SWAP;
    }
    if (path)
        snprintf(b->swap_path, sizeof(b->swap_path), "%s", path);
    return 0;
}

static int knob_set(struct mmsim_config_builder *b, enum knob k,
                    const char *text, char *why, size_t whylen)
{
    uint64_t v = 0;
    bool on;

    switch (k) {
    case KNOB_CPUS:
    case KNOB_MAX_ORDER:
    case KNOB_MIN_FREE_KBYTES:
    case KNOB_WSF:
        if (uint_text(text, knob_info[k].min, knob_info[k].max, &v, why,
                      whylen))
            return -1;
        if (k == KNOB_CPUS)
            b->nr_cpus = (unsigned)v;
        else if (k == KNOB_MAX_ORDER)
            b->max_order = (unsigned)v;
        else if (k == KNOB_MIN_FREE_KBYTES)
            b->min_free_kbytes = v;
        else
            b->watermark_scale_factor = (unsigned)v;
        break;
    case KNOB_LRR: {
        char buf[128], *fields[NR_LRR_ZONES];
        unsigned vals[NR_LRR_ZONES];
        unsigned n;

        if (text == NULL || strlen(text) >= sizeof(buf)) {
            snprintf(why, whylen,
                     "expected five ratios: "
                     "DMA,DMA32,NORMAL,HIGHMEM,MOVABLE");
            return -1;
        }
        memcpy(buf, text, strlen(text) + 1);
        n = split(buf, ',', fields, NR_LRR_ZONES);
        if (n != NR_LRR_ZONES) {
            snprintf(why, whylen,
                     "%s ratios; expected five: "
                     "DMA,DMA32,NORMAL,HIGHMEM,MOVABLE",
                     n > NR_LRR_ZONES ? "more than five"
                     : n == 1         ? "one"
                                      : "too few");
            return -1;
        }
        for (unsigned i = 0; i < NR_LRR_ZONES; i++) {
            if (uint_text(fields[i], 0, knob_info[k].max, &v, why, whylen))
                return -1;
            vals[i] = (unsigned)v;
        }
        for (unsigned i = 0; i < NR_LRR_ZONES; i++) {
            b->lowmem_reserve_ratio[lrr_zones[i]] = vals[i];
            b->lowmem_reserve_ratio_set |= 1u << lrr_zones[i];
        }
        break;
    }
    case KNOB_MOVABLECORE:
        if (size_text(text, 0, &v, why, whylen))
            return -1;
        b->movablecore_bytes = v;
        break;
    case KNOB_HIGHMEM:
        if (text == NULL || *text == '\0')
            v = MMSIM_HIGHMEM_START_DEFAULT;
        else if (bool_parse(text, &on) == 0)
            v = on ? MMSIM_HIGHMEM_START_DEFAULT : 0;
        else if (size_text(text, 0, &v, why, whylen))
            return -1;
        if (v &&
            ((v & PAGE_MASK) || v <= MMSIM_DMA_END || v > MMSIM_DMA32_END)) {
            snprintf(why, whylen,
                     "the HighMem boundary '%.40s' must be page aligned and "
                     "in (16M, 4G]",
                     text);
            return -1;
        }
        b->highmem_start = v;
        break;
    case KNOB_EARLY:
        if (text && strcmp(text, "memblock") == 0) {
            b->early = MMSIM_EARLY_MEMBLOCK;
        } else if (text && strcmp(text, "bootmem") == 0) {
            b->early = MMSIM_EARLY_BOOTMEM;
        } else {
            snprintf(why, whylen,
                     "'%.40s' is not an early allocator (memblock or "
                     "bootmem)",
                     text ? text : "");
            return -1;
        }
        break;
    case KNOB_DEFERRED_INIT:
        if (text == NULL || bool_parse(text, &on)) {
            snprintf(why, whylen, "'%.40s' is not on or off", text ? text : "");
            return -1;
        }
        b->deferred_init = on;
        break;
    case KNOB_SWAP:
        return swap_option(b, text ? text : "", why, whylen);
    case KNOB_OOM_POLICY:
        if (text && strcmp(text, "kill") == 0) {
            b->oom_policy = MMSIM_OOM_KILL;
        } else if (text && strcmp(text, "fail") == 0) {
            b->oom_policy = MMSIM_OOM_FAIL;
        } else {
            snprintf(why, whylen, "'%.40s' is not an OOM policy (kill or fail)",
                     text ? text : "");
            return -1;
        }
        break;
    case NR_KNOBS:
        return -1;
    }
    b->knobs_set |= 1u << k;
    return 0;
}

static int dist_check(uint64_t src, uint64_t dst, uint64_t val, char *why,
                      size_t whylen)
{
    if (src == dst && val != 10) {
        snprintf(why, whylen,
                 "node %" PRIu64
                 "'s distance to itself must be 10, not %" PRIu64,
                 src, val);
        return -1;
    }
    if (src != dst && (val < 11 || val > 254)) {
        snprintf(why, whylen,
                 "distance %" PRIu64 " from node %" PRIu64 " to node %" PRIu64
                 " must be 11..254",
                 val, src, dst);
        return -1;
    }
    return 0;
}

/* Sets [a][c]; also [c][a] unless that was given explicitly (QEMU). */
static void dist_set(struct mmsim_config_builder *b, unsigned a, unsigned c,
                     unsigned val, bool yaml)
{
    uint8_t from = yaml ? DIST_YAML : 0;

    b->distance[a][c] = (uint8_t)val;
    b->distance_flags[a][c] = (uint8_t)(DIST_GIVEN | DIST_EXPLICIT | from);
    if (a != c && !(b->distance_flags[c][a] & DIST_EXPLICIT)) {
        b->distance[c][a] = (uint8_t)val;
        b->distance_flags[c][a] = (uint8_t)(DIST_GIVEN | from);
    }
}

static int reserve_add(struct mmsim_config_builder *b, uint64_t base,
                       uint64_t size, const char *name, char *why,
                       size_t whylen)
{
    struct mmsim_desc_reserved *r;

    if (size == 0) {
        snprintf(why, whylen, "size is 0");
        return -1;
    }
    if (base >= MMSIM_MAX_PHYS || size > MMSIM_MAX_PHYS - base) {
        struct sizestr lim;

        snprintf(why, whylen,
                 "[0x%" PRIx64 ", +0x%" PRIx64 ") ends beyond %s, the most "
                 "the simulator can address",
                 base, size, size_str(&lim, MMSIM_MAX_PHYS));
        return -1;
    }
    if (name && (*name == '\0' || strlen(name) >= MMSIM_DESC_NAME_LEN)) {
        snprintf(why, whylen, "name '%.40s' must have 1..%d characters", name,
                 MMSIM_DESC_NAME_LEN - 1);
        return -1;
    }
    if (b->nr_reserved >= MMSIM_DESC_MAX_RESERVED) {
        snprintf(why, whylen, "too many reserved ranges (at most %d)",
                 MMSIM_DESC_MAX_RESERVED);
        return -1;
    }
    r = &b->reserved[b->nr_reserved++];
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->size = size;
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "reserved");
    return 0;
}

static bool any_node_has_ranges(const struct mmsim_config_builder *b)
{
    for (unsigned i = 0; i < b->nr_nodes; i++)
        if (b->nodes[i].defined && b->nodes[i].has_ranges)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Options */

void mmsim_config_builder_init(struct mmsim_config_builder *b)
{
    /* Knobs not given keep the base description's values at finish. */
    memset(b, 0, sizeof(*b));
}

/* "-m 8G", "--numa node,mem=4G", "--highmem". */
static void option_label(char *buf, size_t len, const char *name,
                         const char *value)
{
    snprintf(buf, len, "%s%.24s%s%.64s", strlen(name) == 1 ? "-" : "--", name,
             value && *value ? " " : "", value ? value : "");
}

static int opt_memory(struct mmsim_config_builder *b, const char *value,
                      const char *label, char *err, size_t errlen)
{
    char why[192];
    uint64_t v;

    if (strncmp(value, "size=", 5) == 0)
        value += 5;
    if (size_text(value, 20, &v, why, sizeof(why)) ||
        ram_size_check(v, false, why, sizeof(why)))
        return fail(err, errlen, "%s: %s", label, why);
    b->has_memory = true;
    b->memory_bytes = v;
    snprintf(b->memory_origin, sizeof(b->memory_origin), "-m");
    return 0;
}

static int opt_numa_node(struct mmsim_config_builder *b, char **fields,
                         unsigned n, const char *label, char *err,
                         size_t errlen)
{
    bool has_mem = false, has_id = false;
    uint64_t mem = 0, id = 0;
    char why[192];

    for (unsigned i = 1; i < n; i++) {
        char *eq = strchr(fields[i], '=');

        if (eq == NULL)
            return fail(err, errlen, "%s: '%.40s' is not key=value", label,
                        fields[i]);
        *eq = '\0';
        if (strcmp(fields[i], "mem") == 0) {
            if (has_mem)
                return fail(err, errlen, "%s: mem= given twice", label);
            if (size_text(eq + 1, 20, &mem, why, sizeof(why)) ||
                ram_size_check(mem, true, why, sizeof(why)))
                return fail(err, errlen, "%s: mem=%s: %s", label, eq + 1, why);
            has_mem = true;
        } else if (strcmp(fields[i], "nodeid") == 0) {
            if (has_id)
                return fail(err, errlen, "%s: nodeid= given twice", label);
            if (uint_text(eq + 1, 0, MMSIM_MAX_NODES - 1, &id, why,
                          sizeof(why)))
                return fail(err, errlen, "%s: nodeid=%s: %s", label, eq + 1,
                            why);
            has_id = true;
        } else {
            return fail(err, errlen,
                        "%s: unknown parameter '%.40s' (node takes mem= and "
                        "nodeid=)",
                        label, fields[i]);
        }
    }
    if (!has_id) {
        /* QEMU: the next id is the number of nodes defined so far. */
        for (unsigned i = 0; i < b->nr_nodes; i++)
            id += b->nodes[i].defined;
        if (id >= MMSIM_MAX_NODES)
            return fail(err, errlen, "%s: too many nodes (at most %d)", label,
                        MMSIM_MAX_NODES);
    }
    if (b->nodes[id].defined)
        return fail(err, errlen,
                    "%s: node %" PRIu64 " is already defined by %s", label, id,
                    b->nodes[id].origin);
    if (any_node_has_ranges(b))
        return fail(err, errlen,
                    "%s: cannot add a node by size: the nodes from the "
                    "config file give ranges",
                    label);
    b->nodes[id].defined = true;
    b->nodes[id].has_mem = has_mem;
    b->nodes[id].has_ranges = false;
    b->nodes[id].mem_bytes = mem;
    memcpy(b->nodes[id].origin, label, sizeof(b->nodes[id].origin));
    if (id + 1 > b->nr_nodes)
        b->nr_nodes = (unsigned)id + 1;
    return 0;
}

static int opt_numa_dist(struct mmsim_config_builder *b, char **fields,
                         unsigned n, const char *label, char *err,
                         size_t errlen)
{
    static const char *const keys[3] = {"src", "dst", "val"};
    static const uint64_t max[3] = {MMSIM_MAX_NODES - 1, MMSIM_MAX_NODES - 1,
                                    255};
    uint64_t v[3] = {0, 0, 0};
    bool seen[3] = {false, false, false};
    char why[192];

    for (unsigned i = 1; i < n; i++) {
        char *eq = strchr(fields[i], '=');
        unsigned k;

        if (eq == NULL)
            return fail(err, errlen, "%s: '%.40s' is not key=value", label,
                        fields[i]);
        *eq = '\0';
        for (k = 0; k < 3 && strcmp(fields[i], keys[k]) != 0; k++)
            ;
        if (k == 3)
            return fail(err, errlen,
                        "%s: unknown parameter '%.40s' (dist takes src=, "
                        "dst= and val=)",
                        label, fields[i]);
        if (seen[k])
            return fail(err, errlen, "%s: %s= given twice", label, keys[k]);
        if (uint_text(eq + 1, 0, max[k], &v[k], why, sizeof(why)))
            return fail(err, errlen, "%s: %s=%s: %s", label, keys[k], eq + 1,
                        why);
        seen[k] = true;
    }
    for (unsigned k = 0; k < 3; k++)
        if (!seen[k])
            return fail(err, errlen, "%s: missing %s=", label, keys[k]);
    if (dist_check(v[0], v[1], v[2], why, sizeof(why)))
        return fail(err, errlen, "%s: %s", label, why);
    dist_set(b, (unsigned)v[0], (unsigned)v[1], (unsigned)v[2], false);
    return 0;
}

static int opt_numa(struct mmsim_config_builder *b, const char *value,
                    const char *label, char *err, size_t errlen)
{
    char buf[256], *fields[8];
    unsigned n;

    if (strlen(value) >= sizeof(buf))
        return fail(err, errlen, "%s: too long", label);
    memcpy(buf, value, strlen(value) + 1);
    n = split(buf, ',', fields, 7);
    if (n > 7)
        return fail(err, errlen, "%s: too many parameters", label);
    if (strcmp(fields[0], "node") == 0)
        return opt_numa_node(b, fields, n, label, err, errlen);
    if (strcmp(fields[0], "dist") == 0)
        return opt_numa_dist(b, fields, n, label, err, errlen);
    return fail(err, errlen, "%s: unknown type '%.40s' (use node or dist)",
                label, fields[0]);
}

static int opt_reserve(struct mmsim_config_builder *b, const char *value,
                       const char *label, char *err, size_t errlen)
{
    char buf[256], why[192], *fields[3];
    uint64_t base, size;
    unsigned n;

    if (strlen(value) >= sizeof(buf))
        return fail(err, errlen, "%s: too long", label);
    memcpy(buf, value, strlen(value) + 1);
    /* The name is the rest after the second comma, commas and all. */
    n = split(buf, ',', fields, 2);
    if (n == 3)
        fields[2] = fields[1] + strlen(fields[1]) + 1;
    if (n < 2)
        return fail(err, errlen, "%s: expected BASE,SIZE[,NAME]", label);
    if (size_text(fields[0], 0, &base, why, sizeof(why)))
        return fail(err, errlen, "%s: base: %s", label, why);
    if (size_text(fields[1], 0, &size, why, sizeof(why)))
        return fail(err, errlen, "%s: size: %s", label, why);
    if (reserve_add(b, base, size, n == 3 ? fields[2] : NULL, why, sizeof(why)))
        return fail(err, errlen, "%s: %s", label, why);
    return 0;
}

int mmsim_config_option(struct mmsim_config_builder *b, const char *name,
                        const char *value, char *err, size_t errlen)
{
    char label[MMSIM_CONFIG_ORIGIN_LEN], why[192];

    if (b == NULL || name == NULL)
        return fail(err, errlen, "no builder or no option name");
    option_label(label, sizeof(label), name, value);
    for (unsigned k = 0; k < NR_KNOBS; k++) {
        if (strcmp(name, knob_info[k].option) != 0)
            continue;
        if (k != KNOB_HIGHMEM && (value == NULL || *value == '\0'))
            return fail(err, errlen, "%s: needs a value", label);
        if (knob_set(b, (enum knob)k, value, why, sizeof(why)))
            return fail(err, errlen, "%s: %s", label, why);
        return 0;
    }
    if (strcmp(name, "m") != 0 && strcmp(name, "numa") != 0 &&
        strcmp(name, "reserve") != 0 && strcmp(name, "config") != 0)
        return fail(err, errlen, "unknown machine option '%s'", label);
    if (value == NULL || *value == '\0')
        return fail(err, errlen, "%s: needs a value", label);
    if (strcmp(name, "m") == 0)
        return opt_memory(b, value, label, err, errlen);
    if (strcmp(name, "numa") == 0)
        return opt_numa(b, value, label, err, errlen);
    if (strcmp(name, "reserve") == 0)
        return opt_reserve(b, value, label, err, errlen);
    return mmsim_config_load_file(b, value, err, errlen);
}

const char *mmsim_config_options_help(void)
{
    return "  -m SIZE              RAM size as QEMU counts it (the first "
           "MiB counts whole);\n"
           "                       a number without a unit is MiB\n"
           "  --numa node[,mem=SIZE][,nodeid=N]\n"
           "                       add node N (default: the next one); "
           "mem= is MiB\n"
           "                       without a unit and must add up to -m; "
           "nodes without\n"
           "                       mem= share what is left equally\n"
           "  --numa dist,src=A,dst=B,val=D\n"
           "                       SLIT distance from A to B (10 for A=B, "
           "else 11..254);\n"
           "                       also B to A unless that is given "
           "explicitly\n"
           "  --reserve BASE,SIZE[,NAME]\n"
           "                       reserve a physical range at boot\n"
           "  --cpus N             simulated CPUs, 1..256\n"
           "  --max-order N        largest buddy order, 0..15 (default "
           "10)\n"
           "  --min-free-kbytes N  vm.min_free_kbytes (default: the "
           "kernel's formula)\n"
           "  --watermark-scale-factor N\n"
           "                       vm.watermark_scale_factor, 1..3000 "
           "(default 10)\n"
           "  --lowmem-reserve-ratio DMA,DMA32,NORMAL,HIGHMEM,MOVABLE\n"
           "                       vm.lowmem_reserve_ratio (default "
           "256,256,32,0,0)\n"
           "  --movablecore SIZE   bytes of ZONE_MOVABLE\n"
           "  --highmem[=SIZE]     32-bit HighMem model with lowmem up to "
           "SIZE\n"
           "                       (default 896M)\n"
           "  --early memblock|bootmem\n"
           "                       early allocator (default memblock)\n"
           "  --deferred-init on|off\n"
           "                       defer struct page init (default on)\n"
           "  --swap SIZE[,file=PATH]\n"
           "                       swap device of SIZE bytes, 0 for none "
           "(default: the RAM\n"
           "                       size, at most 64G); file= is a file, or "
           "a directory to\n"
           "                       hold an unnamed one (default: the "
           "tool's, see above);\n"
           "                       size=SIZE or file=PATH alone keeps the "
           "other part\n"
           "  --oom-policy kill|fail\n"
           "                       when reclaim frees nothing: kill the "
           "largest address\n"
           "                       space (default) or fail the "
           "allocation\n"
           "  --config FILE        load a YAML machine file (see "
           "docs/machine.md)\n"
           "Sizes: decimal or 0x hex, then optionally K, M, G or T (any "
           "case, powers of\n"
           "1024; KiB..TiB too); without a unit, bytes except for -m and "
           "mem=.\n"
           "RAM is laid out as on QEMU's pc machine: [4K, 636K), [1M, 3G), "
           "then above 4G;\n"
           "nodes take consecutive slices. Given neither -m, --numa node nor "
           "a file's\n"
           "memory or nodes, the machine is the built-in one: 2 nodes, about "
           "8G, SLIT\n"
           "10/21, 8G of swap. Options apply in order; later ones override "
           "earlier ones,\n"
           "including what a --config file set.\n";
}

/* ------------------------------------------------------------------ */
/* Finish: layout, reservations, distances, knobs */

static int check_nodes_defined(const struct mmsim_config_builder *b, char *err,
                               size_t errlen)
{
    for (unsigned i = 0; i < b->nr_nodes; i++)
        if (!b->nodes[i].defined)
            return fail(err, errlen,
                        "%s: node %u is not defined; node ids must run from 0 "
                        "without gaps",
                        b->nodes[b->nr_nodes - 1].origin, i);
    return 0;
}

/* Bytes of RAM offsets per node, and in all (see mmsim/config.h). */
static int node_sizes(const struct mmsim_config_builder *b, uint64_t *sizes,
                      uint64_t *total_out, char *err, size_t errlen)
{
    unsigned n = b->nr_nodes, k = 0, first_free = n, last_free = n, over = n;
    uint64_t sum = 0, total, left, share;
    struct sizestr s1, s2;

    if (n == 0) {
        sizes[0] = b->memory_bytes;
        *total_out = b->memory_bytes;
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        if (b->nodes[i].has_mem) {
            sum += b->nodes[i].mem_bytes; /* each < 16T: no overflow */
            if (b->has_memory && sum > b->memory_bytes && over == n)
                over = i;
        } else {
            k++;
            if (first_free == n)
                first_free = i;
            last_free = i;
        }
    }
    if (b->has_memory)
        total = b->memory_bytes;
    else if (k == 0)
        total = sum;
    else if (k == n)
        total = MMSIM_CONFIG_DEFAULT_MEMORY_BYTES;
    else
        return fail(err, errlen,
                    "%s: node %u has no mem= and -m is not given, so no "
                    "memory is left for it",
                    b->nodes[first_free].origin, first_free);
    if (over < n || (k == 0 && sum != total))
        return fail(err, errlen, "%s: node memory adds up to %s but %s is %s",
                    b->nodes[over < n ? over : n - 1].origin,
                    size_str(&s1, sum), b->memory_origin, size_str(&s2, total));
    if (total > MMSIM_MAX_PHYS)
        return fail(err, errlen,
                    "%s: node memory adds up to %s, more than %s, the most "
                    "the simulator can address",
                    b->nodes[n - 1].origin, size_str(&s1, total),
                    size_str(&s2, MMSIM_MAX_PHYS));
    for (unsigned i = 0; i < n; i++)
        sizes[i] = b->nodes[i].mem_bytes;
    if (k == 0) {
        *total_out = total;
        return 0;
    }
    left = total - sum;
    share = (left / k) & ~(SHARE_ALIGN - 1);
    if (share == 0)
        share = (left / k) & ~PAGE_MASK;
    if (share == 0)
        return fail(err, errlen,
                    "%s: node %u has no mem= and the %s left of %s %s is too "
                    "little to share among %u nodes",
                    b->nodes[first_free].origin, first_free,
                    size_str(&s1, left),
                    b->has_memory ? b->memory_origin : "the default",
                    size_str(&s2, total), k);
    for (unsigned i = 0; i < n; i++)
        if (!b->nodes[i].has_mem)
            sizes[i] = i == last_free ? left - share * (k - 1) : share;
    *total_out = total;
    return 0;
}

/* Lays out -m and the nodes' sizes; @ram receives the RAM size (-m). */
static int layout_sizes(const struct mmsim_config_builder *b,
                        struct mmsim_desc *out, uint64_t *ram, char *err,
                        size_t errlen)
{
    /* RAM offsets -> physical addresses; see mmsim/config.h. */
    static const struct {
        uint64_t start, end, phys_shift;
    } pieces[] = {
        {LOW_RAM_START, LOW_RAM_END, 0},
        {HIGH_RAM_START, BELOW_4G_END, 0},
        {BELOW_4G_END, UINT64_MAX, PCI_HOLE_BYTES},
    };
    bool highmem = (b->knobs_set & (1u << KNOB_HIGHMEM)) && b->highmem_start;
    uint64_t limit = highmem ? MMSIM_PAE_LIMIT : MMSIM_MAX_PHYS;
    uint64_t sizes[MMSIM_MAX_NODES], total = 0, end_phys, off = 0;
    unsigned nr = b->nr_nodes ? b->nr_nodes : 1;
    struct sizestr s1, s2;
    int rc;

    rc = node_sizes(b, sizes, &total, err, errlen);
    if (rc)
        return rc;
    *ram = total;
    end_phys = total > BELOW_4G_END ? total + PCI_HOLE_BYTES : total;
    if (end_phys > limit)
        return fail(err, errlen,
                    "%s: RAM of %s would end at 0x%" PRIx64
                    ", beyond the %s limit of the %s model",
                    b->has_memory ? b->memory_origin : b->nodes[nr - 1].origin,
                    size_str(&s1, total), end_phys, size_str(&s2, limit),
                    highmem ? "32-bit (PAE)" : "64-bit");
    for (unsigned i = 0; i < nr; i++) {
        uint64_t s = off, e = off + sizes[i];
        unsigned before = out->nr_ranges;

        for (unsigned p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
            uint64_t lo = s > pieces[p].start ? s : pieces[p].start;
            uint64_t hi = e < pieces[p].end ? e : pieces[p].end;

            if (lo < hi &&
                mmsim_desc_add_range(out, (int)i, lo + pieces[p].phys_shift,
                                     hi - lo) < 0)
                return fail(err, errlen, "ranges: too many (at most %d)",
                            MMSIM_DESC_MAX_RANGES);
        }
        if (out->nr_ranges == before)
            return fail(err, errlen,
                        "%s: node %u gets no usable RAM: its slice [0x%" PRIx64
                        ", 0x%" PRIx64 ") of RAM lies in the holes of the "
                        "first MiB",
                        b->nr_nodes ? b->nodes[i].origin : b->memory_origin, i,
                        s, e);
        off = e;
    }
    return 0;
}

/* Copies the nodes' ranges; @ram receives their total. */
static int layout_ranges(const struct mmsim_config_builder *b,
                         struct mmsim_desc *out, uint64_t *ram, char *err,
                         size_t errlen)
{
    struct sizestr s1, s2;
    uint64_t sum = 0;

    for (unsigned i = 0; i < b->nr_nodes; i++)
        if (!b->nodes[i].has_ranges)
            return fail(err, errlen,
                        "%s: node %u gives no ranges but other nodes do; "
                        "give all nodes by size or all by ranges",
                        b->nodes[i].origin, i);
    for (unsigned i = 0; i < b->nr_ranges; i++) {
        const struct mmsim_desc_range *r = &b->ranges[i];

        if (mmsim_desc_add_range(out, r->nid, r->base, r->size) < 0)
            return fail(err, errlen, "ranges: too many (at most %d)",
                        MMSIM_DESC_MAX_RANGES);
        sum += r->size; /* each < 16T, at most 256: no overflow */
    }
    if (b->has_memory && sum != b->memory_bytes)
        return fail(err, errlen, "%s is %s but the nodes' ranges add up to %s",
                    b->memory_origin, size_str(&s1, b->memory_bytes),
                    size_str(&s2, sum));
    *ram = sum;
    return 0;
}

/* The swap of a machine laid out from sizes or ranges (mmsim/config.h). */
static uint64_t default_swap_bytes(uint64_t ram)
{
    if (ram > MMSIM_CONFIG_DEFAULT_SWAP_MAX_BYTES)
        ram = MMSIM_CONFIG_DEFAULT_SWAP_MAX_BYTES;
    ram &= ~PAGE_MASK;
    return ram < 2 * MMSIM_PAGE_SIZE ? 0 : ram;
}

static bool ram_covers(const struct mmsim_desc *d, uint64_t base, uint64_t size)
{
    uint64_t pos = base, end = base + size;

    while (pos < end) {
        unsigned i;

        for (i = 0; i < d->nr_ranges; i++)
            if (d->ranges[i].base <= pos &&
                pos < d->ranges[i].base + d->ranges[i].size)
                break;
        if (i == d->nr_ranges)
            return false;
        pos = d->ranges[i].base + d->ranges[i].size;
    }
    return true;
}

static int apply_distances(const struct mmsim_config_builder *b,
                           struct mmsim_desc *out, char *err, size_t errlen)
{
    for (unsigned a = 0; a < MMSIM_MAX_NODES; a++) {
        for (unsigned c = 0; c < MMSIM_MAX_NODES; c++) {
            unsigned flags = b->distance_flags[a][c], src = a, dst = c;

            if (!(flags & DIST_GIVEN))
                continue;
            if (a < out->nr_nodes && c < out->nr_nodes) {
                out->distance[a][c] = b->distance[a][c];
                continue;
            }
            if (!(flags & DIST_EXPLICIT)) {
                src = c; /* name the entry the user wrote */
                dst = a;
            }
            if (flags & DIST_YAML)
                return fail(err, errlen,
                            "distances: the entry from node %u to node %u "
                            "names a node the machine does not have (it has "
                            "%u)",
                            src, dst, out->nr_nodes);
            return fail(err, errlen,
                        "--numa dist,src=%u,dst=%u,val=%u: node %u does not "
                        "exist (the machine has %u nodes)",
                        src, dst, (unsigned)b->distance[src][dst],
                        src >= out->nr_nodes ? src : dst, out->nr_nodes);
        }
    }
    return 0;
}

static void apply_knobs(const struct mmsim_config_builder *b,
                        struct mmsim_desc *out)
{
#define KNOB_IS_SET(k) (b->knobs_set & (1u << (k)))
    if (KNOB_IS_SET(KNOB_CPUS))
        out->nr_cpus = b->nr_cpus;
    if (KNOB_IS_SET(KNOB_MAX_ORDER))
        out->max_order = b->max_order;
    if (KNOB_IS_SET(KNOB_MIN_FREE_KBYTES))
        out->min_free_kbytes = b->min_free_kbytes;
    if (KNOB_IS_SET(KNOB_WSF))
        out->watermark_scale_factor = b->watermark_scale_factor;
    for (unsigned z = 0; z < MMSIM_NR_ZONE_TYPES; z++)
        if (b->lowmem_reserve_ratio_set & (1u << z))
            out->lowmem_reserve_ratio[z] = b->lowmem_reserve_ratio[z];
    if (KNOB_IS_SET(KNOB_MOVABLECORE))
        out->movablecore = b->movablecore_bytes;
    if (KNOB_IS_SET(KNOB_HIGHMEM))
        out->highmem_start = b->highmem_start;
    if (KNOB_IS_SET(KNOB_EARLY))
        out->early = b->early;
    if (KNOB_IS_SET(KNOB_DEFERRED_INIT))
        out->deferred_init = b->deferred_init;
    if (KNOB_IS_SET(KNOB_SWAP))
        out->swap_bytes = b->swap_bytes;
    if (b->swap_path[0])
        memcpy(out->swap_path, b->swap_path, sizeof(out->swap_path));
    if (out->swap_bytes == 0) /* no device: no file either */
        memset(out->swap_path, 0, sizeof(out->swap_path));
    if (KNOB_IS_SET(KNOB_OOM_POLICY))
        out->oom_policy = b->oom_policy;
#undef KNOB_IS_SET
}

int mmsim_config_finish(const struct mmsim_config_builder *b,
                        struct mmsim_desc *out, char *err, size_t errlen)
{
    uint64_t ram = 0;
    int rc;

    if (b == NULL || out == NULL)
        return fail(err, errlen, "no builder or no description");
    if (!b->has_memory && b->nr_nodes == 0) {
        /* No shape given: the built-in machine, with what was given. */
        mmsim_desc_default(out);
        if (b->reserved_replace) {
            out->nr_reserved = 0;
            memset(out->reserved, 0, sizeof(out->reserved));
        }
    } else {
        mmsim_desc_init(out);
        rc = check_nodes_defined(b, err, errlen);
        if (rc)
            return rc;
        if (any_node_has_ranges(b))
            rc = layout_ranges(b, out, &ram, err, errlen);
        else
            rc = layout_sizes(b, out, &ram, err, errlen);
        if (rc)
            return rc;
        out->swap_bytes = default_swap_bytes(ram);
        for (unsigned i = 0;
             !b->reserved_replace &&
             i < sizeof(default_reserved) / sizeof(default_reserved[0]);
             i++)
            if (ram_covers(out, default_reserved[i].base,
                           default_reserved[i].size))
                mmsim_desc_add_reserved(out, default_reserved[i].base,
                                        default_reserved[i].size,
                                        default_reserved[i].name);
    }
    for (unsigned i = 0; i < b->nr_reserved; i++)
        if (mmsim_desc_add_reserved(out, b->reserved[i].base,
                                    b->reserved[i].size,
                                    b->reserved[i].name) < 0)
            return fail(err, errlen,
                        "reserved: '%s' makes too many reserved ranges with "
                        "the default ones (at most %d)",
                        b->reserved[i].name, MMSIM_DESC_MAX_RESERVED);
    rc = apply_distances(b, out, err, errlen);
    if (rc)
        return rc;
    apply_knobs(b, out);
    return mmsim_desc_validate(out, err, errlen);
}

/* ------------------------------------------------------------------ */
/* YAML */

struct yctx {
    const char *name; /* file name for messages */
    yaml_document_t *doc;
    struct mmsim_config_builder *b; /* the copy being filled */
    char *err;
    size_t errlen;
    /* Cross-checks done when the whole document has been walked. */
    bool has_nodes;
    const yaml_node_t *dist_node;     /* the distances sequence */
    unsigned dist_matrix_n;           /* rows of the matrix form, else 0 */
    const yaml_node_t *dist_max_item; /* list entry naming the top node */
    unsigned dist_max_index, dist_max_nid;
    /* Where each builder range came from, for the overlap check. */
    const yaml_node_t *range_item[MMSIM_DESC_MAX_RANGES];
    unsigned range_index[MMSIM_DESC_MAX_RANGES]; /* j in ranges[j] */
};

__attribute__((format(printf, 4, 0))) static int
vyfail(const struct yctx *c, const yaml_mark_t *m, const char *path,
       const char *fmt, va_list ap)
{
    char msg[320];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (path && *path)
        return fail(c->err, c->errlen, "%s:%zu:%zu: %s: %s", c->name,
                    m->line + 1, m->column + 1, path, msg);
    return fail(c->err, c->errlen, "%s:%zu:%zu: %s", c->name, m->line + 1,
                m->column + 1, msg);
}

/* An error at @n: "file:line:col: path: message". */
__attribute__((format(printf, 4, 5))) static int yfail(const struct yctx *c,
                                                       const yaml_node_t *n,
                                                       const char *path,
                                                       const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vyfail(c, &n->start_mark, path, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 4, 5))) static int
yfail_mark(const struct yctx *c, const yaml_mark_t *m, const char *path,
           const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vyfail(c, m, path, fmt, ap);
    va_end(ap);
    return rc;
}

static int yparse_error(const struct yctx *c, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "syntax error";

    if (p->error == YAML_MEMORY_ERROR)
        return fail(c->err, c->errlen, "%s: out of memory while parsing",
                    c->name);
    if (p->error == YAML_READER_ERROR)
        return fail(c->err, c->errlen, "%s: byte %zu: %s", c->name,
                    p->problem_offset, problem);
    if (p->context)
        return fail(c->err, c->errlen, "%s:%zu:%zu: %s (%s at line %zu)",
                    c->name, p->problem_mark.line + 1,
                    p->problem_mark.column + 1, problem, p->context,
                    p->context_mark.line + 1);
    return fail(c->err, c->errlen, "%s:%zu:%zu: %s", c->name,
                p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

/*
 * First pass, on events: bound the nesting, refuse aliases (a file never
 * needs them, and they are how small YAML files grow huge) and extra
 * documents, before libyaml builds a tree.
 */
static int yaml_prescan(const struct yctx *c, const char *text, size_t len)
{
    unsigned depth = 0, docs = 0;
    yaml_parser_t p;
    yaml_event_t ev;
    bool done = false;
    int rc = 0;

    if (!yaml_parser_initialize(&p))
        return fail(c->err, c->errlen, "%s: out of memory", c->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done && rc == 0) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = yparse_error(c, &p);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = yfail_mark(c, &ev.start_mark, NULL,
                                "a second YAML document; a machine file "
                                "holds one");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > MMSIM_CONFIG_MAX_DEPTH)
                rc = yfail_mark(c, &ev.start_mark, NULL,
                                "nested deeper than %d levels",
                                MMSIM_CONFIG_MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_ALIAS_EVENT:
            rc = yfail_mark(c, &ev.start_mark, NULL,
                            "aliases (*%.40s) are not supported",
                            (const char *)ev.data.alias.anchor);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

static const char *ystr(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain empty, ~ or null scalar: YAML's null. */
static bool ynull(const yaml_node_t *n)
{
    const char *s;

    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    s = ystr(n);
    return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *ykind(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    return ynull(n) ? "nothing" : "a scalar";
}

static const yaml_node_t *yget(const struct yctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static unsigned ycount(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE)
        return (unsigned)(n->data.sequence.items.top -
                          n->data.sequence.items.start);
    return (unsigned)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static const yaml_node_t *yitem(const struct yctx *c, const yaml_node_t *seq,
                                unsigned i)
{
    return yget(c, seq->data.sequence.items.start[i]);
}

static int ytype(const struct yctx *c, const yaml_node_t *n, const char *path,
                 yaml_node_type_t type)
{
    if (n->type == type)
        return 0;
    return yfail(c, n, path, "expected %s, got %s",
                 type == YAML_MAPPING_NODE ? "a mapping" : "a sequence",
                 ykind(n));
}

/* The text of a non-null scalar, else an error saying @want was due. */
static int yscalar(const struct yctx *c, const yaml_node_t *n, const char *path,
                   const char *want, const char **out)
{
    if (n->type != YAML_SCALAR_NODE || ynull(n))
        return yfail(c, n, path, "expected %s, got %s", want, ykind(n));
    if (strlen(ystr(n)) != n->data.scalar.length)
        return yfail(c, n, path, "contains a NUL character");
    *out = ystr(n);
    return 0;
}

static int ysize(const struct yctx *c, const yaml_node_t *n, const char *path,
                 uint64_t *out)
{
    const char *s = NULL; /* set by yscalar(); gcc -O3 cannot see it */
    char why[192];

    if (yscalar(c, n, path, "a size", &s))
        return MMSIM_ECONFIG;
    if (size_text(s, 0, out, why, sizeof(why)))
        return yfail(c, n, path, "%s", why);
    return 0;
}

static int yuint(const struct yctx *c, const yaml_node_t *n, const char *path,
                 uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s;
    char why[192];

    if (yscalar(c, n, path, "a number", &s))
        return MMSIM_ECONFIG;
    if (uint_text(s, min, max, out, why, sizeof(why)))
        return yfail(c, n, path, "%s", why);
    return 0;
}

/*
 * The key of @pair in a mapping at @path whose keys are @keys[0..nr):
 * returns its index, or -1 after an error (not a string, unknown,
 * duplicate). @seen[i] holds the line of key i's first occurrence.
 */
static int ykey(const struct yctx *c, const yaml_node_pair_t *pair,
                const char *path, const char *const *keys, unsigned nr,
                size_t *seen, const yaml_node_t **key_out,
                const yaml_node_t **val_out)
{
    const yaml_node_t *key = yget(c, pair->key);
    char known[256] = "";
    size_t used = 0;

    *key_out = key;
    *val_out = yget(c, pair->value);
    if (key->type != YAML_SCALAR_NODE || ynull(key)) {
        yfail(c, key, path, "keys must be strings, got %s", ykind(key));
        return -1;
    }
    for (unsigned i = 0; i < nr; i++) {
        if (strlen(ystr(key)) != key->data.scalar.length ||
            strcmp(ystr(key), keys[i]) != 0)
            continue;
        if (seen[i]) {
            yfail(c, key, path, "duplicate key '%s' (first given on line %zu)",
                  keys[i], seen[i]);
            return -1;
        }
        seen[i] = key->start_mark.line + 1;
        return (int)i;
    }
    for (unsigned i = 0; i < nr && used < sizeof(known); i++) {
        int w = snprintf(known + used, sizeof(known) - used, "%s%s",
                         i ? ", " : "", keys[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
    yfail(c, key, path, "unknown key '%.40s' (known keys: %s)", ystr(key),
          known);
    return -1;
}

static int ylrr(const struct yctx *c, const yaml_node_t *map)
{
    size_t seen[NR_LRR_ZONES] = {0};
    const char *path = top_keys[KNOB_LRR];
    char field[64];

    if (ytype(c, map, path, YAML_MAPPING_NODE))
        return MMSIM_ECONFIG;
    for (unsigned i = 0; i < ycount(map); i++) {
        const yaml_node_t *key, *val;
        uint64_t v;
        int k;

        k = ykey(c, &map->data.mapping.pairs.start[i], path, lrr_keys,
                 NR_LRR_ZONES, seen, &key, &val);
        if (k < 0)
            return MMSIM_ECONFIG;
        snprintf(field, sizeof(field), "%s.%s", path, lrr_keys[k]);
        if (yuint(c, val, field, 0, knob_info[KNOB_LRR].max, &v))
            return MMSIM_ECONFIG;
        c->b->lowmem_reserve_ratio[lrr_zones[k]] = (unsigned)v;
        c->b->lowmem_reserve_ratio_set |= 1u << lrr_zones[k];
    }
    c->b->knobs_set |= 1u << KNOB_LRR;
    return 0;
}

/* swap: a size, or a mapping {size, file} of which either may be left out. */
static int yswap(const struct yctx *c, const yaml_node_t *val)
{
    static const char *const keys[2] = {"size", "file"};
    const yaml_node_t *size_node = NULL, *file_node = NULL;
    struct mmsim_config_builder *b = c->b;
    const char *path = NULL;
    size_t seen[2] = {0};
    uint64_t size = 0;
    char why[192];

    if (val->type == YAML_SCALAR_NODE && !ynull(val)) {
        size_node = val;
        if (ysize(c, val, "swap", &size))
            return MMSIM_ECONFIG;
        if (swap_size_check(size, why, sizeof(why)))
            return yfail(c, val, "swap", "%s", why);
    } else if (val->type != YAML_MAPPING_NODE) {
        return yfail(c, val, "swap", "expected %s, got %s",
                     knob_want[KNOB_SWAP], ykind(val));
    }
    for (unsigned i = 0; val->type == YAML_MAPPING_NODE && i < ycount(val);
         i++) {
        const yaml_node_t *key, *v;
        int k = ykey(c, &val->data.mapping.pairs.start[i], "swap", keys, 2,
                     seen, &key, &v);

        if (k < 0)
            return MMSIM_ECONFIG;
        if (k == 0) {
            if (ysize(c, v, "swap.size", &size))
                return MMSIM_ECONFIG;
            if (swap_size_check(size, why, sizeof(why)))
                return yfail(c, v, "swap.size", "%s", why);
            size_node = v;
        } else {
            if (yscalar(c, v, "swap.file", "a path", &path))
                return MMSIM_ECONFIG;
            if (swap_path_check(path, why, sizeof(why)))
                return yfail(c, v, "swap.file", "%s", why);
            file_node = v;
        }
    }
    if (file_node && size_node && size == 0)
        return yfail(c, file_node, "swap.file",
                     "a swap file with size 0; 0 means no swap");
    if (size_node) {
        b->swap_bytes = size;
        b->knobs_set |= 1u << KNOB_SWAP;
    }
    if (file_node)
        snprintf(b->swap_path, sizeof(b->swap_path), "%s", path);
    return 0;
}

/* nodes[nid].ranges: appends to the builder's ranges. */
static int yranges(struct yctx *c, const yaml_node_t *seq, unsigned nid,
                   const char *nodepath)
{
    static const char *const keys[3] = {"base", "size", "end"};
    struct mmsim_config_builder *b = c->b;
    char path[64], field[80];

    snprintf(path, sizeof(path), "%s.ranges", nodepath);
    if (ytype(c, seq, path, YAML_SEQUENCE_NODE))
        return MMSIM_ECONFIG;
    if (ycount(seq) == 0)
        return yfail(c, seq, path, "needs at least one range");
    for (unsigned j = 0; j < ycount(seq); j++) {
        const yaml_node_t *item = yitem(c, seq, j), *vals[3] = {0};
        uint64_t v[3] = {0, 0, 0}, base, size;
        size_t seen[3] = {0};

        snprintf(path, sizeof(path), "%s.ranges[%u]", nodepath, j);
        if (ytype(c, item, path, YAML_MAPPING_NODE))
            return MMSIM_ECONFIG;
        for (unsigned i = 0; i < ycount(item); i++) {
            const yaml_node_t *key, *val;
            int k = ykey(c, &item->data.mapping.pairs.start[i], path, keys, 3,
                         seen, &key, &val);

            if (k < 0)
                return MMSIM_ECONFIG;
            if ((k == 1 && vals[2]) || (k == 2 && vals[1]))
                return yfail(c, key, path, "give size or end, not both");
            snprintf(field, sizeof(field), "%s.%s", path, keys[k]);
            if (ysize(c, val, field, &v[k]))
                return MMSIM_ECONFIG;
            vals[k] = val;
        }
        if (vals[0] == NULL)
            return yfail(c, item, path, "missing key 'base'");
        if (vals[1] == NULL && vals[2] == NULL)
            return yfail(c, item, path, "needs size or end");
        base = v[0];
        if (base & PAGE_MASK)
            return yfail(
                c, vals[0], path,
                "base 0x%" PRIx64 " is not a multiple of the 4 KiB page", base);
        if (vals[2] && v[2] <= base)
            return yfail(c, vals[2], path,
                         "end 0x%" PRIx64 " is not above base 0x%" PRIx64, v[2],
                         base);
        size = vals[2] ? v[2] - base : v[1];
        if (size == 0)
            return yfail(c, vals[1], path, "size is 0");
        if (size & PAGE_MASK)
            return yfail(
                c, vals[2] ? vals[2] : vals[1], path,
                "size 0x%" PRIx64 " is not a multiple of the 4 KiB page", size);
        if (base >= MMSIM_MAX_PHYS || size > MMSIM_MAX_PHYS - base) {
            struct sizestr lim;

            return yfail(c, item, path,
                         "ends beyond %s, the most the simulator can address",
                         size_str(&lim, MMSIM_MAX_PHYS));
        }
        if (b->nr_ranges >= MMSIM_DESC_MAX_RANGES)
            return yfail(c, item, path, "too many ranges (at most %d in all)",
                         MMSIM_DESC_MAX_RANGES);
        c->range_item[b->nr_ranges] = item;
        c->range_index[b->nr_ranges] = j;
        b->ranges[b->nr_ranges++] = (struct mmsim_desc_range){
            .base = base, .size = size, .nid = (int)nid};
    }
    return 0;
}

static int ynodes(struct yctx *c, const yaml_node_t *seq)
{
    static const char *const keys[3] = {"id", "mem", "ranges"};
    struct mmsim_config_builder *b = c->b;
    unsigned n, first_ranges = MMSIM_MAX_NODES, first_other = MMSIM_MAX_NODES;
    char path[32], field[48], why[192];

    if (ytype(c, seq, "nodes", YAML_SEQUENCE_NODE))
        return MMSIM_ECONFIG;
    n = ycount(seq);
    if (n == 0 || n > MMSIM_MAX_NODES)
        return yfail(c, seq, "nodes", "%u nodes; need 1..%d", n,
                     MMSIM_MAX_NODES);
    memset(b->nodes, 0, sizeof(b->nodes));
    b->nr_nodes = 0;
    b->nr_ranges = 0;
    for (unsigned i = 0; i < n; i++) {
        const yaml_node_t *item = yitem(c, seq, i), *style_key = NULL;
        struct mmsim_config_node *node = &b->nodes[i];
        size_t seen[3] = {0};

        snprintf(path, sizeof(path), "nodes[%u]", i);
        if (ytype(c, item, path, YAML_MAPPING_NODE))
            return MMSIM_ECONFIG;
        node->defined = true;
        snprintf(node->origin, sizeof(node->origin), "%s:%zu:%zu: %s", c->name,
                 item->start_mark.line + 1, item->start_mark.column + 1, path);
        for (unsigned k = 0; k < ycount(item); k++) {
            const yaml_node_t *key, *val;
            uint64_t v;
            int idx = ykey(c, &item->data.mapping.pairs.start[k], path, keys, 3,
                           seen, &key, &val);

            if (idx < 0)
                return MMSIM_ECONFIG;
            snprintf(field, sizeof(field), "%s.%s", path, keys[idx]);
            if (idx == 0) {
                if (yuint(c, val, field, 0, MMSIM_MAX_NODES - 1, &v))
                    return MMSIM_ECONFIG;
                if (v != i)
                    return yfail(c, val, field,
                                 "%" PRIu64 " must equal the node's position "
                                 "in the list, %u",
                                 v, i);
                continue;
            }
            if (style_key)
                return yfail(c, key, path, "give mem or ranges, not both");
            style_key = key;
            if (idx == 1) {
                if (ysize(c, val, field, &v))
                    return MMSIM_ECONFIG;
                if (ram_size_check(v, true, why, sizeof(why)))
                    return yfail(c, val, field, "%s", why);
                node->has_mem = true;
                node->mem_bytes = v;
                snprintf(node->origin, sizeof(node->origin), "%s:%zu:%zu: %s",
                         c->name, val->start_mark.line + 1,
                         val->start_mark.column + 1, field);
            } else {
                if (yranges(c, val, i, path))
                    return MMSIM_ECONFIG;
                node->has_ranges = true;
            }
        }
        /* All nodes by ranges, or none: sizes are laid out around ranges
         * no better than ranges around sizes. */
        if (node->has_ranges && first_ranges == MMSIM_MAX_NODES)
            first_ranges = i;
        if (!node->has_ranges && first_other == MMSIM_MAX_NODES)
            first_other = i;
        if (first_ranges < MMSIM_MAX_NODES && first_other < MMSIM_MAX_NODES)
            return yfail(c, style_key ? style_key : item, path,
                         "nodes[%u] gives %s and nodes[%u] %s; give all "
                         "nodes by ranges or none",
                         first_ranges, "ranges", first_other,
                         b->nodes[first_other].has_mem ? "gives mem"
                                                       : "gives neither");
    }
    /* Overlaps: here, where the message can point at the line. */
    for (unsigned j = 1; j < b->nr_ranges; j++) {
        const struct mmsim_desc_range *r = &b->ranges[j];

        for (unsigned i = 0; i < j; i++) {
            const struct mmsim_desc_range *o = &b->ranges[i];

            if (r->base >= o->base + o->size || o->base >= r->base + r->size)
                continue;
            snprintf(path, sizeof(path), "nodes[%d].ranges[%u]", r->nid,
                     c->range_index[j]);
            return yfail(c, c->range_item[j], path,
                         "[0x%" PRIx64 ", 0x%" PRIx64
                         ") overlaps nodes[%d].ranges[%u] (line %zu)",
                         r->base, r->base + r->size, o->nid, c->range_index[i],
                         c->range_item[i]->start_mark.line + 1);
        }
    }
    b->nr_nodes = n;
    c->has_nodes = true;
    return 0;
}

static int yreserved(const struct yctx *c, const yaml_node_t *seq)
{
    static const char *const keys[3] = {"base", "size", "name"};
    struct mmsim_config_builder *b = c->b;
    char path[32], field[48], why[192];

    if (ytype(c, seq, "reserved", YAML_SEQUENCE_NODE))
        return MMSIM_ECONFIG;
    if (ycount(seq) > MMSIM_DESC_MAX_RESERVED)
        return yfail(c, seq, "reserved", "%u entries; at most %d", ycount(seq),
                     MMSIM_DESC_MAX_RESERVED);
    b->nr_reserved = 0;
    b->reserved_replace = true;
    for (unsigned j = 0; j < ycount(seq); j++) {
        const yaml_node_t *item = yitem(c, seq, j), *vals[3] = {0};
        uint64_t v[2] = {0, 0};
        const char *name = NULL;
        size_t seen[3] = {0};

        snprintf(path, sizeof(path), "reserved[%u]", j);
        if (ytype(c, item, path, YAML_MAPPING_NODE))
            return MMSIM_ECONFIG;
        for (unsigned i = 0; i < ycount(item); i++) {
            const yaml_node_t *key, *val;
            int k = ykey(c, &item->data.mapping.pairs.start[i], path, keys, 3,
                         seen, &key, &val);

            if (k < 0)
                return MMSIM_ECONFIG;
            snprintf(field, sizeof(field), "%s.%s", path, keys[k]);
            if (k == 2 ? yscalar(c, val, field, "a name", &name)
                       : ysize(c, val, field, &v[k]))
                return MMSIM_ECONFIG;
            vals[k] = val;
        }
        for (unsigned k = 0; k < 2; k++)
            if (vals[k] == NULL)
                return yfail(c, item, path, "missing key '%s'", keys[k]);
        if (reserve_add(b, v[0], v[1], name, why, sizeof(why)))
            return yfail(c, item, path, "%s", why);
    }
    return 0;
}

static int ydist_matrix(struct yctx *c, const yaml_node_t *seq)
{
    unsigned n = ycount(seq);
    char path[40], why[192];

    if (n > MMSIM_MAX_NODES)
        return yfail(c, seq, "distances", "%u rows; at most %d", n,
                     MMSIM_MAX_NODES);
    for (unsigned i = 0; i < n; i++) {
        const yaml_node_t *row = yitem(c, seq, i);

        snprintf(path, sizeof(path), "distances[%u]", i);
        if (ytype(c, row, path, YAML_SEQUENCE_NODE))
            return MMSIM_ECONFIG;
        if (ycount(row) != n)
            return yfail(c, row, path,
                         "a row of %u entries in a matrix of %u rows; the "
                         "matrix must be square",
                         ycount(row), n);
        for (unsigned j = 0; j < n; j++) {
            const yaml_node_t *cell = yitem(c, row, j);
            uint64_t v;

            snprintf(path, sizeof(path), "distances[%u][%u]", i, j);
            if (yuint(c, cell, path, 0, 255, &v))
                return MMSIM_ECONFIG;
            if (dist_check(i, j, v, why, sizeof(why)))
                return yfail(c, cell, path, "%s", why);
            dist_set(c->b, i, j, (unsigned)v, true);
        }
    }
    c->dist_matrix_n = n;
    return 0;
}

static int ydist_list(struct yctx *c, const yaml_node_t *seq)
{
    static const char *const keys[3] = {"src", "dst", "val"};
    static const uint64_t max[3] = {MMSIM_MAX_NODES - 1, MMSIM_MAX_NODES - 1,
                                    255};
    char path[32], field[48], why[192];

    for (unsigned j = 0; j < ycount(seq); j++) {
        const yaml_node_t *item = yitem(c, seq, j), *vals[3] = {0};
        uint64_t v[3] = {0, 0, 0};
        size_t seen[3] = {0};

        snprintf(path, sizeof(path), "distances[%u]", j);
        if (ytype(c, item, path, YAML_MAPPING_NODE))
            return MMSIM_ECONFIG;
        for (unsigned i = 0; i < ycount(item); i++) {
            const yaml_node_t *key, *val;
            int k = ykey(c, &item->data.mapping.pairs.start[i], path, keys, 3,
                         seen, &key, &val);

            if (k < 0)
                return MMSIM_ECONFIG;
            snprintf(field, sizeof(field), "%s.%s", path, keys[k]);
            if (yuint(c, val, field, 0, max[k], &v[k]))
                return MMSIM_ECONFIG;
            vals[k] = val;
        }
        for (unsigned k = 0; k < 3; k++)
            if (vals[k] == NULL)
                return yfail(c, item, path, "missing key '%s'", keys[k]);
        if (dist_check(v[0], v[1], v[2], why, sizeof(why)))
            return yfail(c, item, path, "%s", why);
        dist_set(c->b, (unsigned)v[0], (unsigned)v[1], (unsigned)v[2], true);
        for (unsigned k = 0; k < 2; k++) {
            if (c->dist_max_item == NULL || v[k] > c->dist_max_nid) {
                c->dist_max_item = item;
                c->dist_max_index = j;
                c->dist_max_nid = (unsigned)v[k];
            }
        }
    }
    return 0;
}

static int ydistances(struct yctx *c, const yaml_node_t *seq)
{
    const yaml_node_t *first;

    if (ytype(c, seq, "distances", YAML_SEQUENCE_NODE))
        return MMSIM_ECONFIG;
    memset(c->b->distance, 0, sizeof(c->b->distance));
    memset(c->b->distance_flags, 0, sizeof(c->b->distance_flags));
    c->dist_node = seq;
    c->dist_matrix_n = 0;
    c->dist_max_item = NULL;
    if (ycount(seq) == 0)
        return 0;
    first = yitem(c, seq, 0);
    if (first->type == YAML_SEQUENCE_NODE)
        return ydist_matrix(c, seq);
    if (first->type == YAML_MAPPING_NODE)
        return ydist_list(c, seq);
    return yfail(c, first, "distances[0]",
                 "expected a matrix row (a sequence) or a {src, dst, val} "
                 "mapping, got %s",
                 ykind(first));
}

static int ytop(struct yctx *c, const yaml_node_t *map)
{
    struct mmsim_config_builder *b = c->b;
    size_t seen[NR_TOP_KEYS] = {0};
    char why[192];
    int rc = 0;

    for (unsigned i = 0; i < ycount(map) && rc == 0; i++) {
        const yaml_node_t *key, *val;
        const char *text;
        uint64_t v;
        int k = ykey(c, &map->data.mapping.pairs.start[i], NULL, top_keys,
                     NR_TOP_KEYS, seen, &key, &val);

        if (k < 0)
            return MMSIM_ECONFIG;
        switch (k) {
        case TOP_MEMORY:
            if (ysize(c, val, "memory", &v))
                return MMSIM_ECONFIG;
            if (ram_size_check(v, false, why, sizeof(why)))
                return yfail(c, val, "memory", "%s", why);
            b->has_memory = true;
            b->memory_bytes = v;
            snprintf(b->memory_origin, sizeof(b->memory_origin),
                     "memory (%s:%zu:%zu)", c->name, val->start_mark.line + 1,
                     val->start_mark.column + 1);
            break;
        case TOP_NODES:
            rc = ynodes(c, val);
            break;
        case TOP_RESERVED:
            rc = yreserved(c, val);
            break;
        case TOP_DISTANCES:
            rc = ydistances(c, val);
            break;
        case KNOB_LRR:
            rc = ylrr(c, val);
            break;
        case KNOB_SWAP:
            rc = yswap(c, val);
            break;
        default:
            if (yscalar(c, val, top_keys[k], knob_want[k], &text))
                return MMSIM_ECONFIG;
            if (knob_set(b, (enum knob)k, text, why, sizeof(why)))
                return yfail(c, val, top_keys[k], "%s", why);
            break;
        }
    }
    if (rc || c->dist_node == NULL || !c->has_nodes)
        return rc;
    if (c->dist_matrix_n && c->dist_matrix_n != b->nr_nodes)
        return yfail(c, c->dist_node, "distances",
                     "a %ux%u matrix for %u nodes", c->dist_matrix_n,
                     c->dist_matrix_n, b->nr_nodes);
    if (c->dist_max_item && c->dist_max_nid >= b->nr_nodes)
        return yfail(c, c->dist_max_item, "distances",
                     "entry %u names node %u, but nodes has %u entries",
                     c->dist_max_index, c->dist_max_nid, b->nr_nodes);
    return 0;
}

static int load_yaml_named(struct mmsim_config_builder *b, const char *name,
                           const char *text, size_t len, char *err,
                           size_t errlen)
{
    struct yctx c = {.name = name, .err = err, .errlen = errlen};
    struct mmsim_config_builder *tmp;
    const yaml_node_t *root;
    yaml_document_t doc;
    yaml_parser_t p;
    int rc;

    if (b == NULL)
        return fail(err, errlen, "%s: no builder", name);
    if (len > MMSIM_CONFIG_MAX_FILE_BYTES)
        return fail(err, errlen, "%s: %zu bytes, more than the 1 MiB limit",
                    name, len);
    if (text == NULL && len)
        return fail(err, errlen, "%s: no text", name);
    if (len == 0)
        text = "";
    rc = yaml_prescan(&c, text, len);
    if (rc)
        return rc;
    tmp = malloc(sizeof(*tmp));
    if (tmp == NULL)
        return fail(err, errlen, "%s: out of memory", name);
    *tmp = *b;
    c.b = tmp;
    if (!yaml_parser_initialize(&p)) {
        free(tmp);
        return fail(err, errlen, "%s: out of memory", name);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        rc = yparse_error(&c, &p);
        goto out_parser;
    }
    c.doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL || ynull(root))
        rc = fail(err, errlen,
                  "%s: the file is empty; expected a mapping of machine keys "
                  "(see docs/machine.md)",
                  name);
    else if (root->type != YAML_MAPPING_NODE)
        rc = yfail(&c, root, NULL,
                   "expected a mapping of machine keys at the top level, got "
                   "%s",
                   ykind(root));
    else
        rc = ytop(&c, root);
    if (rc == 0)
        *b = *tmp;
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&p);
    free(tmp);
    return rc;
}

int mmsim_config_load_yaml(struct mmsim_config_builder *b, const char *text,
                           size_t len, char *err, size_t errlen)
{
    return load_yaml_named(b, "<yaml>", text, len, err, errlen);
}

static const char *errno_text(int e, char *buf, size_t len)
{
    if (strerror_r(e, buf, len) != 0)
        snprintf(buf, len, "error %d", e);
    return buf;
}

int mmsim_config_load_file(struct mmsim_config_builder *b, const char *path,
                           char *err, size_t errlen)
{
    char ebuf[128];
    size_t len;
    char *buf;
    FILE *f;
    int rc;

    if (path == NULL || *path == '\0')
        return fail(err, errlen, "no config file name");
    f = fopen(path, "rb");
    if (f == NULL)
        return fail(err, errlen, "%s: cannot open: %s", path,
                    errno_text(errno, ebuf, sizeof(ebuf)));
    /* One byte more than the limit tells "too big" from "just fits". */
    buf = malloc(MMSIM_CONFIG_MAX_FILE_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        return fail(err, errlen, "%s: out of memory", path);
    }
    len = fread(buf, 1, MMSIM_CONFIG_MAX_FILE_BYTES + 1, f);
    if (ferror(f))
        rc = fail(err, errlen, "%s: cannot read: %s", path,
                  errno_text(errno, ebuf, sizeof(ebuf)));
    else if (len > MMSIM_CONFIG_MAX_FILE_BYTES)
        rc = fail(err, errlen, "%s: larger than the 1 MiB limit", path);
    else
        rc = load_yaml_named(b, path, buf, len, err, errlen);
    free(buf);
    fclose(f);
    return rc;
}

int mmsim_config_default_swap_dir(char *buf, size_t len)
{
    const char *dir = getenv("TMPDIR");

    if (dir == NULL || *dir == '\0')
        dir = MMSIM_CONFIG_SWAP_DIR_FALLBACK;
    if (buf == NULL || strlen(dir) >= len) {
        if (buf && len)
            buf[0] = '\0';
        return MMSIM_ERANGE;
    }
    memcpy(buf, dir, strlen(dir) + 1);
    return 0;
}
