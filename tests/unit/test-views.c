/*
 * test-views.c - the kernel text views (views.c) against a real 6.18
 * kernel's files (tests/fixtures/linux-6.18) and against the machine's
 * own structured state.
 *
 * Format checks work on line "shapes": a line with every run of digits
 * replaced by '#', so the prefix, spacing and field order must match the
 * kernel's exactly while the numbers may differ. Value checks parse our
 * text back and compare it with mmsim_zone_info() and hand computations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h" /* white-box: the golden test poses a state */
#include "mmsim/mm.h"

#ifndef MMSIM_FIXTURE_DIR
#error "MMSIM_FIXTURE_DIR must name tests/fixtures/linux-6.18"
#endif

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char *read_fixture(const char *name)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", MMSIM_FIXTURE_DIR, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef int64_t (*view_fn)(struct mmsim_machine *m, char *buf, size_t len);

/*
 * The whole text of a view, sized with a first call (len 0). Other
 * threads may change the numbers (and so the length) in between: retry
 * until the text fits.
 */
static char *view_text(view_fn fn, struct mmsim_machine *m)
{
    int64_t n = fn(m, NULL, 0);

    assert_true(n >= 0);
    for (;;) {
        size_t cap = (size_t)n + 1;
        char *buf = malloc(cap);
        int64_t n2;

        assert_non_null(buf);
        n2 = fn(m, buf, cap);
        assert_true(n2 >= 0);
        if ((size_t)n2 < cap) {
            assert_int_equal(strlen(buf), (size_t)n2);
            return buf;
        }
        free(buf);
        n = n2 + 256;
    }
}

static int64_t memblock_memory_view(struct mmsim_machine *m, char *buf,
                                    size_t len)
{
    return mmsim_view_memblock(m, false, buf, len);
}

static int64_t memblock_reserved_view(struct mmsim_machine *m, char *buf,
                                      size_t len)
{
    return mmsim_view_memblock(m, true, buf, len);
}

struct lines {
    char **v;
    size_t n;
    char *mem;
};

/* Split @text at '\n' (a final newline ends the last line). */
static void split_lines(const char *text, struct lines *l)
{
    size_t cap = 16;

    l->mem = strdup(text);
    assert_non_null(l->mem);
    l->v = malloc(cap * sizeof(*l->v));
    assert_non_null(l->v);
    l->n = 0;
    for (char *p = l->mem; *p;) {
        char *nl = strchr(p, '\n');

        if (l->n == cap) {
            cap *= 2;
            l->v = realloc(l->v, cap * sizeof(*l->v));
            assert_non_null(l->v);
        }
        l->v[l->n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
}

static void free_lines(struct lines *l)
{
    free(l->v);
    free(l->mem);
}

/* Every run of digits becomes one '#'. */
static void shape_of(const char *line, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *p = line; *p && o + 1 < outlen;) {
        if (*p >= '0' && *p <= '9') {
            out[o++] = '#';
            while (*p >= '0' && *p <= '9')
                p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static bool shape_in(const char *shape, const struct lines *ref)
{
    char s[256];

    for (size_t i = 0; i < ref->n; i++) {
        shape_of(ref->v[i], s, sizeof(s));
        if (strcmp(s, shape) == 0)
            return true;
    }
    return false;
}

static struct mmsim_machine *boot(const struct mmsim_desc *d)
{
    struct mmsim_machine *m = NULL;
    char err[256] = "";
    int rc = mmsim_machine_create(d, NULL, &m, err, sizeof(err));

    if (rc != 0)
        fail_msg("mmsim_machine_create: %s (%s)", mmsim_err_name(rc), err);
    assert_non_null(m);
    return m;
}

static struct mmsim_machine *boot_default(unsigned nr_cpus)
{
    struct mmsim_desc d;

    mmsim_desc_default(&d);
    if (nr_cpus)
        d.nr_cpus = nr_cpus;
    return boot(&d);
}

/* Zone type from the name zoneinfo/buddyinfo print; -1 if unknown. */
static int type_of_name(const char *name)
{
    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        if (strcmp(mmsim_zone_type_name((enum mmsim_zone_type)t), name) == 0)
            return t;
    }
    return -1;
}

static bool is_header(const char *line)
{
    return strncmp(line, "Node ", 5) == 0;
}

/* ------------------------------------------------------------------ */
/* zoneinfo: format                                                    */

enum section_kind { SEC_NODESTATS, SEC_POPULATED, SEC_EMPTY, SEC_NR };

static enum section_kind section_kind(const struct lines *l, size_t start,
                                      size_t end)
{
    bool pagesets = false;

    for (size_t i = start; i < end; i++) {
        if (strcmp(l->v[i], "  per-node stats") == 0)
            return SEC_NODESTATS;
        if (strcmp(l->v[i], "  pagesets") == 0)
            pagesets = true;
    }
    return pagesets ? SEC_POPULATED : SEC_EMPTY;
}

static size_t section_end(const struct lines *l, size_t start)
{
    size_t i = start + 1;

    while (i < l->n && !is_header(l->v[i]))
        i++;
    return i;
}

/*
 * Every section of @ours must have, after its header, exactly the line
 * shapes of the fixture's first section of the same kind.
 */
static void compare_sections(const struct lines *ours, const struct lines *fx)
{
    size_t ref_start[SEC_NR], ref_end[SEC_NR];
    bool have[SEC_NR] = {false};
    unsigned seen[SEC_NR] = {0};
    char a[256], b[256];

    for (size_t i = 0; i < fx->n; i = section_end(fx, i)) {
        size_t e = section_end(fx, i);
        enum section_kind k;

        assert_true(is_header(fx->v[i]));
        k = section_kind(fx, i, e);
        if (!have[k]) {
            have[k] = true;
            ref_start[k] = i;
            ref_end[k] = e;
        }
    }
    for (int k = 0; k < SEC_NR; k++)
        assert_true(have[k]);

    assert_true(ours->n > 0);
    for (size_t i = 0; i < ours->n; i = section_end(ours, i)) {
        size_t e = section_end(ours, i);
        enum section_kind k;

        assert_true(is_header(ours->v[i]));
        k = section_kind(ours, i, e);
        seen[k]++;
        if (e - i != ref_end[k] - ref_start[k])
            fail_msg("section \"%s\" (kind %d): %zu lines, fixture %zu",
                     ours->v[i], (int)k, e - i, ref_end[k] - ref_start[k]);
        for (size_t j = 1; j < e - i; j++) {
            shape_of(ours->v[i + j], a, sizeof(a));
            shape_of(fx->v[ref_start[k] + j], b, sizeof(b));
            if (strcmp(a, b) != 0)
                fail_msg("section \"%s\" line %zu: \"%s\", fixture \"%s\"",
                         ours->v[i], j, ours->v[i + j],
                         fx->v[ref_start[k] + j]);
        }
    }
    for (int k = 0; k < SEC_NR; k++)
        assert_true(seen[k] > 0);
}

static void test_zoneinfo_shape_matches_fixture(void **state)
{
    char *fxtext = read_fixture("zoneinfo");
    struct lines fx, ours;
    char s[256];

    (void)state;
    split_lines(fxtext, &fx);

    /* Same CPU count as the fixture's host: section by section. */
    {
        struct mmsim_machine *m = boot_default(2);
        char *text = view_text(mmsim_view_zoneinfo, m);

        assert_true(text[strlen(text) - 1] == '\n');
        split_lines(text, &ours);
        compare_sections(&ours, &fx);
        free_lines(&ours);
        free(text);
        mmsim_machine_destroy(m);
    }

    /* The default 4-CPU machine: every line shape is a kernel one. */
    {
        struct mmsim_machine *m = boot_default(0);
        char *text = view_text(mmsim_view_zoneinfo, m);

        split_lines(text, &ours);
        for (size_t i = 0; i < ours.n; i++) {
            shape_of(ours.v[i], s, sizeof(s));
            if (!shape_in(s, &fx))
                fail_msg("line %zu \"%s\" has no kernel counterpart", i,
                         ours.v[i]);
        }
        free_lines(&ours);
        free(text);
        mmsim_machine_destroy(m);
    }
    free_lines(&fx);
    free(fxtext);
}

/*
 * One header per node and model zone, in order; per-node stats exactly
 * once per node, right after the header of its first populated zone.
 */
static void test_zoneinfo_layout(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    char *text = view_text(mmsim_view_zoneinfo, m);
    unsigned nr_nodes = mmsim_machine_nr_nodes(m);
    unsigned headers = 0, nodestats = 0;
    int want_types[MMSIM_NR_ZONE_TYPES], nr_types = 0;
    struct mmsim_zone_info zi;
    struct lines l;

    (void)state;
    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        if (mmsim_zone_info(m, 0, (enum mmsim_zone_type)t, &zi) == 0)
            want_types[nr_types++] = t;
    }
    assert_true(nr_types >= 3);

    split_lines(text, &l);
    for (size_t i = 0; i < l.n; i++) {
        int nid, t;
        char name[16];

        if (!is_header(l.v[i]))
            continue;
        assert_int_equal(sscanf(l.v[i], "Node %d, zone %15s", &nid, name), 2);
        t = type_of_name(name);
        assert_int_equal(nid, (int)(headers / (unsigned)nr_types));
        assert_int_equal(t, want_types[headers % (unsigned)nr_types]);
        headers++;

        if (i + 1 < l.n && strcmp(l.v[i + 1], "  per-node stats") == 0) {
            /* The lowest populated zone of this node. */
            for (int k = 0; k < nr_types; k++) {
                assert_int_equal(
                    mmsim_zone_info(m, nid, (enum mmsim_zone_type)want_types[k],
                                    &zi),
                    0);
                if (zi.present) {
                    assert_int_equal(want_types[k], t);
                    break;
                }
            }
            nodestats++;
        }
    }
    assert_int_equal(headers, nr_nodes * (unsigned)nr_types);
    assert_int_equal(nodestats, nr_nodes);
    free_lines(&l);
    free(text);
    mmsim_machine_destroy(m);
}

/* fls() and calculate_normal_threshold(), written out independently. */
static int fls64(uint64_t x)
{
    return x ? 64 - __builtin_clzll(x) : 0;
}

static int expected_threshold(uint64_t managed, unsigned cpus)
{
    int t = 2 * fls64(cpus) * (1 + fls64(managed >> 15));

    return t > 125 ? 125 : t;
}

/* The numbers in zoneinfo are the machine's. */
static void test_zoneinfo_values(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    char *text = view_text(mmsim_view_zoneinfo, m);
    unsigned cpus = mmsim_machine_nr_cpus(m);
    struct mmsim_zone_info zi;
    bool have_zone = false;
    unsigned checked = 0;
    struct lines l;

    (void)state;
    split_lines(text, &l);
    for (size_t i = 0; i < l.n; i++) {
        const char *s = l.v[i];
        uint64_t v;
        int nid, t, iv;
        char name[16];

        if (is_header(s)) {
            assert_int_equal(sscanf(s, "Node %d, zone %15s", &nid, name), 2);
            t = type_of_name(name);
            assert_true(t >= 0);
            assert_int_equal(
                mmsim_zone_info(m, nid, (enum mmsim_zone_type)t, &zi), 0);
            have_zone = true;
            continue;
        }
        assert_true(have_zone);
        if (sscanf(s, "  pages free     %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.free);
            checked++;
        } else if (sscanf(s, "        min      %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.wmark_min);
        } else if (sscanf(s, "        low      %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.wmark_low);
        } else if (sscanf(s, "        high     %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.wmark_high);
        } else if (sscanf(s, "        promo    %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.wmark_promo);
        } else if (sscanf(s, "        spanned  %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.spanned);
        } else if (sscanf(s, "        present  %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.present);
        } else if (sscanf(s, "        managed  %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.managed);
        } else if (sscanf(s, "      nr_free_pages_blocks %" SCNu64, &v) == 1) {
            uint64_t blocks = 0;
            unsigned max = mmsim_machine_max_order(m);

            for (unsigned o = max < 9 ? max : 9; o <= max; o++)
                blocks += zi.nr_free[o] << o;
            assert_int_equal(v, blocks);
        } else if (sscanf(s, "      nr_free_pages %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.free);
        } else if (sscanf(s, "  vm stats threshold: %d", &iv) == 1) {
            assert_int_equal(iv, expected_threshold(zi.managed, cpus));
        } else if (sscanf(s, "  start_pfn:           %" SCNu64, &v) == 1) {
            assert_int_equal(v, zi.start_pfn);
            assert_true(zi.present > 0);
        }
    }
    /* Every zone printed its free pages. */
    assert_int_equal(checked, l.n ? checked : 1);
    assert_true(checked > 0);
    free_lines(&l);
    free(text);
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* zoneinfo: protection                                                */

/*
 * setup_per_zone_lowmem_reserve(), by hand: zone i reserves, against an
 * allocation that may use zone j > i, the managed pages of zones i+1..j
 * divided by zone i's ratio; nothing when the ratio is 0 or zone i has
 * no managed pages.
 */
static void test_protection_by_hand(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi[MMSIM_NR_ZONE_TYPES];
    int types[MMSIM_NR_ZONE_TYPES], n = 0;
    uint64_t expect[MMSIM_NR_ZONE_TYPES][MMSIM_NR_ZONE_TYPES] = {{0}};
    char *text;
    struct lines l;
    int cur = -1;
    unsigned lines_checked = 0;

    (void)state;
    /* One node: DMA, DMA32 up to 3 GiB, 2 GiB of Normal. */
    mmsim_desc_init(&d);
    d.nr_cpus = 2;
    assert_int_equal(mmsim_desc_add_range(&d, 0, 0x1000, 0x9e000), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 0, MIB, 3 * GIB - MIB), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 0, 4 * GIB, 2 * GIB), 0);
    m = boot(&d);

    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
        int rc = mmsim_zone_info(m, 0, (enum mmsim_zone_type)t, &zi[n]);

        if (rc == MMSIM_ENOENT)
            continue;
        assert_int_equal(rc, 0);
        types[n++] = t;
    }
    assert_int_equal(n, 5); /* DMA DMA32 Normal Movable Device */
    assert_true(zi[0].managed > 0 && zi[1].managed > 0 && zi[2].managed > 0);

    for (int i = 0; i < n; i++) {
        unsigned ratio = d.lowmem_reserve_ratio[types[i]];
        uint64_t sum = 0;

        for (int j = i + 1; j < n; j++) {
            sum += zi[j].managed;
            expect[i][j] = (!ratio || !zi[i].managed) ? 0 : sum / ratio;
        }
    }
    /* Spot-check the formula itself on the DMA zone. */
    assert_int_equal(expect[0][2], (zi[1].managed + zi[2].managed) / 256);
    assert_int_equal(expect[1][2], zi[2].managed / 256);

    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            assert_int_equal(zi[i].lowmem_reserve[types[j]], expect[i][j]);
    }

    text = view_text(mmsim_view_zoneinfo, m);
    split_lines(text, &l);
    for (size_t k = 0; k < l.n; k++) {
        char name[16], tail[256];
        int nid;

        if (is_header(l.v[k])) {
            assert_int_equal(sscanf(l.v[k], "Node %d, zone %15s", &nid, name),
                             2);
            cur = -1;
            for (int i = 0; i < n; i++) {
                if (type_of_name(name) == types[i])
                    cur = i;
            }
            assert_true(cur >= 0);
            continue;
        }
        if (strncmp(l.v[k], "        protection: (", 20) != 0)
            continue;
        /* Rebuild the expected tuple with the kernel's format. */
        {
            size_t o = (size_t)snprintf(tail, sizeof(tail),
                                        "        protection: (%" PRIu64,
                                        expect[cur][0]);
            for (int j = 1; j < n; j++)
                o += (size_t)snprintf(tail + o, sizeof(tail) - o, ", %" PRIu64,
                                      expect[cur][j]);
            snprintf(tail + o, sizeof(tail) - o, ")");
        }
        assert_string_equal(l.v[k], tail);
        lines_checked++;
    }
    assert_int_equal(lines_checked, (unsigned)n);
    free_lines(&l);
    free(text);
    mmsim_machine_destroy(m);

    /* A ratio of 0 clears that zone's reserves. */
    d.lowmem_reserve_ratio[MMSIM_ZONE_DMA32] = 0;
    m = boot(&d);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA32, &zi[1]), 0);
    for (int j = 0; j < MMSIM_NR_ZONE_TYPES; j++)
        assert_int_equal(zi[1].lowmem_reserve[j], 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_DMA, &zi[0]), 0);
    assert_true(zi[0].lowmem_reserve[MMSIM_ZONE_NORMAL] > 0);
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* buddyinfo                                                           */

struct buddy_line {
    int nid;
    int type;
    uint64_t nr_free[MMSIM_MAX_ORDER_CAP + 1];
};

/*
 * Parse buddyinfo text with @orders columns, checking each line is
 * byte-for-byte what frag_show_print() would print for the parsed
 * values. Return: number of lines (at most @max).
 */
static size_t parse_buddyinfo(const char *text, unsigned orders,
                              struct buddy_line *out, size_t max)
{
    struct lines l;
    size_t n = 0;

    split_lines(text, &l);
    for (size_t i = 0; i < l.n; i++) {
        char name[16], rebuilt[512];
        const char *p = l.v[i];
        int used = 0;
        size_t o;

        assert_true(n < max);
        assert_int_equal(
            sscanf(p, "Node %d, zone %15s%n", &out[n].nid, name, &used), 2);
        out[n].type = type_of_name(name);
        assert_true(out[n].type >= 0);
        p += used;
        o = (size_t)snprintf(rebuilt, sizeof(rebuilt), "Node %d, zone %8s ",
                             out[n].nid, name);
        for (unsigned k = 0; k < orders; k++) {
            char *end;

            out[n].nr_free[k] = strtoull(p, &end, 10);
            assert_true(end != p);
            p = end;
            o += (size_t)snprintf(rebuilt + o, sizeof(rebuilt) - o,
                                  "%6" PRIu64 " ", out[n].nr_free[k]);
        }
        assert_string_equal(l.v[i], rebuilt);
        n++;
    }
    free_lines(&l);
    return n;
}

/* Our parser and format agree with the real kernel's file. */
static void test_buddyinfo_fixture_roundtrip(void **state)
{
    char *fx = read_fixture("buddyinfo");
    struct buddy_line bl[8];

    (void)state;
    assert_int_equal(parse_buddyinfo(fx, 11, bl, 8), 3);
    assert_int_equal(bl[2].type, MMSIM_ZONE_NORMAL);
    assert_int_equal(bl[2].nr_free[10], 149);
    free(fx);
}

static void test_buddyinfo_matches_zone_info(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    char *text = view_text(mmsim_view_buddyinfo, m);
    unsigned orders = mmsim_machine_max_order(m) + 1;
    struct buddy_line bl[MMSIM_MAX_NODES * MMSIM_NR_ZONE_TYPES];
    size_t n = parse_buddyinfo(text, orders, bl, sizeof(bl) / sizeof(*bl));
    size_t k = 0;

    (void)state;
    /* Populated zones only, nodes ascending, zones by index. */
    for (unsigned nid = 0; nid < mmsim_machine_nr_nodes(m); nid++) {
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)nid, (enum mmsim_zone_type)t, &zi))
                continue;
            if (!zi.present)
                continue;
            assert_true(k < n);
            assert_int_equal(bl[k].nid, (int)nid);
            assert_int_equal(bl[k].type, t);
            for (unsigned o = 0; o < orders; o++)
                assert_int_equal(bl[k].nr_free[o], zi.nr_free[o]);
            k++;
        }
    }
    assert_int_equal(k, n);
    free(text);
    mmsim_machine_destroy(m);
}

/* An order-3 allocation splits the smallest free block >= order 3. */
static void test_buddyinfo_order3_split(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct buddy_line before[16], after[16];
    struct mmsim_page_where w;
    size_t nb, na, zl = SIZE_MAX;
    unsigned orders, k;
    uint64_t pfn;
    char *text;

    (void)state;
    mmsim_desc_init(&d);
    d.nr_cpus = 2;
    assert_int_equal(mmsim_desc_add_range(&d, 0, MIB, 512 * MIB), 0);
    m = boot(&d);
    orders = mmsim_machine_max_order(m) + 1;

    text = view_text(mmsim_view_buddyinfo, m);
    nb = parse_buddyinfo(text, orders, before, 16);
    free(text);

    assert_int_equal(
        mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_KERNEL, 3, 0, &pfn), 0);
    assert_int_equal(pfn % 8, 0);
    assert_int_equal(mmsim_pfn_where(m, pfn, &w), 0);

    text = view_text(mmsim_view_buddyinfo, m);
    na = parse_buddyinfo(text, orders, after, 16);
    free(text);
    assert_int_equal(na, nb);

    for (size_t i = 0; i < nb; i++) {
        if (before[i].nid == w.nid && before[i].type == (int)w.zone)
            zl = i;
    }
    assert_true(zl != SIZE_MAX);
    for (k = 3; k < orders && before[zl].nr_free[k] == 0; k++)
        ;
    assert_true(k < orders);
    for (size_t i = 0; i < nb; i++) {
        for (unsigned o = 0; o < orders; o++) {
            uint64_t want = before[i].nr_free[o];

            if (i == zl && o == k)
                want--;
            else if (i == zl && o >= 3 && o < k)
                want++;
            assert_int_equal(after[i].nr_free[o], want);
        }
    }

    /* Freeing merges it back. */
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn, 3), 0);
    text = view_text(mmsim_view_buddyinfo, m);
    na = parse_buddyinfo(text, orders, after, 16);
    free(text);
    for (size_t i = 0; i < nb; i++) {
        for (unsigned o = 0; o < orders; o++)
            assert_int_equal(after[i].nr_free[o], before[i].nr_free[o]);
    }
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* vmstat                                                              */

static const char *pgalloc_name(int t)
{
    static const char *const names[MMSIM_NR_ZONE_TYPES] = {
        "pgalloc_dma",  "pgalloc_dma32",   "pgalloc_normal",
        "pgalloc_high", "pgalloc_movable", "pgalloc_device",
    };
    return names[t];
}

/* Our names appear in the kernel's order, and text == vmstat_get. */
static void test_vmstat_names_and_order(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    char *fxtext = read_fixture("vmstat");
    char *text = view_text(mmsim_view_vmstat, m);
    struct lines fx, ours;
    size_t j = 0;

    (void)state;
    split_lines(fxtext, &fx);
    split_lines(text, &ours);
    assert_true(ours.n >= 9);
    for (size_t i = 0; i < ours.n; i++) {
        char name[64], rebuilt[128];
        uint64_t v;
        size_t nl;

        assert_int_equal(sscanf(ours.v[i], "%63s %" SCNu64, name, &v), 2);
        snprintf(rebuilt, sizeof(rebuilt), "%s %" PRIu64, name, v);
        assert_string_equal(ours.v[i], rebuilt);
        assert_int_equal(mmsim_vmstat_get(m, name), (int64_t)v);
        /* A subsequence of the fixture's names. */
        nl = strlen(name);
        while (j < fx.n &&
               !(strncmp(fx.v[j], name, nl) == 0 && fx.v[j][nl] == ' '))
            j++;
        if (j == fx.n)
            fail_msg("\"%s\" is not a 6.18 vmstat name in kernel order", name);
        j++;
    }
    assert_int_equal(strncmp(ours.v[0], "nr_free_pages ", 14), 0);
    assert_int_equal(mmsim_vmstat_get(m, "no_such_counter"), -1);
    assert_int_equal(mmsim_vmstat_get(m, "pgalloc_high"), -1); /* 64-bit */
    assert_true(mmsim_vmstat_get(m, "pgalloc_device") >= 0);
    free_lines(&fx);
    free_lines(&ours);
    free(fxtext);
    free(text);
    mmsim_machine_destroy(m);
}

static void test_vmstat_counters_move(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    struct mmsim_page_where w;
    int64_t hit0, local0, free0, pgfree0, alloc0, hit1, local1;
    int64_t pgalloc1[MMSIM_NR_ZONE_TYPES];
    uint64_t pfn_a, pfn_b;
    const char *zname;

    (void)state;
    hit0 = mmsim_vmstat_get(m, "numa_hit");
    local0 = mmsim_vmstat_get(m, "numa_local");
    free0 = mmsim_vmstat_get(m, "nr_free_pages");
    pgfree0 = mmsim_vmstat_get(m, "pgfree");
    assert_true(hit0 >= 0 && local0 >= 0 && free0 > 0 && pgfree0 >= 0);

    /* Straight from buddy: free pages move by exactly the block size. */
    assert_int_equal(
        mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_KERNEL, 3, 0, &pfn_a), 0);
    assert_int_equal(mmsim_pfn_where(m, pfn_a, &w), 0);
    assert_int_equal(w.nid, 0);
    assert_int_equal(w.zone, MMSIM_ZONE_NORMAL); /* node 0 has Normal */
    zname = pgalloc_name(w.zone);
    assert_int_equal(mmsim_vmstat_get(m, "nr_free_pages"), free0 - 8);
    /* numa_hit/numa_local count allocations (zone_statistics(.., 1)). */
    assert_int_equal(mmsim_vmstat_get(m, "numa_hit"), hit0 + 1);
    assert_int_equal(mmsim_vmstat_get(m, "numa_miss"), 0);
    alloc0 = mmsim_vmstat_get(m, zname);
    assert_true(alloc0 >= 8);

    assert_int_equal(
        mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_KERNEL, 0, 0, &pfn_b), 0);
    assert_int_equal(mmsim_vmstat_get(m, zname), alloc0 + 1);
    assert_int_equal(mmsim_vmstat_get(m, "numa_hit"), hit0 + 2);
    assert_int_equal(mmsim_vmstat_get(m, "nr_free_pages"), free0 - 9);

    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn_a, 3), 0);
    assert_int_equal(mmsim_free_pages(m, MMSIM_NO_CPU, pfn_b, 0), 0);
    assert_int_equal(mmsim_vmstat_get(m, "pgfree"), pgfree0 + 9);
    assert_int_equal(mmsim_vmstat_get(m, "nr_free_pages"), free0);

    /* Through CPU 0's lists (node 0): pgalloc counts pages. */
    hit1 = mmsim_vmstat_get(m, "numa_hit");
    local1 = mmsim_vmstat_get(m, "numa_local");
    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        pgalloc1[t] = mmsim_vmstat_get(m, pgalloc_name(t));
    assert_int_equal(
        mmsim_alloc_pages(m, 0, MMSIM_GFP_KERNEL, 2, MMSIM_ANY_NODE, &pfn_a),
        0);
    assert_int_equal(mmsim_pfn_where(m, pfn_a, &w), 0);
    assert_int_equal(w.nid, 0);
    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        assert_int_equal(mmsim_vmstat_get(m, pgalloc_name(t)),
                         pgalloc1[t] + (t == (int)w.zone ? 4 : 0));
    assert_int_equal(mmsim_vmstat_get(m, "numa_hit"), hit1 + 1);
    assert_int_equal(mmsim_vmstat_get(m, "numa_local"), local1 + 1);
    pgfree0 = mmsim_vmstat_get(m, "pgfree");
    assert_int_equal(mmsim_free_pages(m, 0, pfn_a, 2), 0);
    assert_int_equal(mmsim_vmstat_get(m, "pgfree"), pgfree0 + 4);
    mmsim_machine_destroy(m);
}

static bool fail_first(void *ctx, mmsim_gfp_t gfp, unsigned order)
{
    atomic_int *left = ctx;

    (void)gfp;
    (void)order;
    return atomic_fetch_sub(left, 1) > 0;
}

/* Simulator-only counters: by name, never in the kernel's text. */
static void test_vmstat_sim_counters(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m = NULL;
    atomic_int left = 1;
    struct mmsim_machine_opts opts = {.fail_page_alloc = fail_first,
                                      .fail_ctx = &left};
    char *text;
    uint64_t pfn;

    (void)state;
    mmsim_desc_default(&d);
    assert_int_equal(mmsim_machine_create(&d, &opts, &m, NULL, 0), 0);
    assert_int_equal(mmsim_vmstat_get(m, "mmsim_fail_page_alloc"), 0);
    assert_int_equal(mmsim_alloc_pages(m, MMSIM_NO_CPU, MMSIM_GFP_KERNEL, 0,
                                       MMSIM_ANY_NODE, &pfn),
                     MMSIM_ENOMEM);
    assert_int_equal(mmsim_vmstat_get(m, "mmsim_fail_page_alloc"), 1);
    assert_int_equal(mmsim_vmstat_get(m, "mmsim_alloc_fail"), 0);
    assert_true(mmsim_vmstat_get(m, "mmsim_deferred_grow") >= 0);
    assert_int_equal(mmsim_vmstat_get(m, "mmsim_no_such"), -1);
    text = view_text(mmsim_view_vmstat, m);
    assert_null(strstr(text, "mmsim_"));
    free(text);
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* snprintf semantics, memblock, bootlog, errors                       */

static void check_snprintf(view_fn fn, struct mmsim_machine *m)
{
    char *full = view_text(fn, m);
    size_t n = strlen(full);
    char *buf = malloc(n + 16);

    assert_non_null(buf);
    assert_true(n > 2);

    /* len 0: nothing written, length returned. */
    memset(buf, 'X', n + 16);
    assert_int_equal(fn(m, buf, 0), (int64_t)n);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(fn(m, NULL, 0), (int64_t)n);

    /* len 1: just the NUL. */
    memset(buf, 'X', n + 16);
    assert_int_equal(fn(m, buf, 1), (int64_t)n);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'X');

    /* Short buffer: a NUL-terminated prefix, nothing past len. */
    memset(buf, 'X', n + 16);
    assert_int_equal(fn(m, buf, n / 2), (int64_t)n);
    assert_int_equal(strlen(buf), n / 2 - 1);
    assert_memory_equal(buf, full, n / 2 - 1);
    assert_int_equal(buf[n / 2], 'X');

    /* One byte short: the last character gives way to the NUL. */
    memset(buf, 'X', n + 16);
    assert_int_equal(fn(m, buf, n), (int64_t)n);
    assert_int_equal(strlen(buf), n - 1);
    assert_memory_equal(buf, full, n - 1);
    assert_int_equal(buf[n], 'X');

    /* Exact: everything plus the NUL. */
    memset(buf, 'X', n + 16);
    assert_int_equal(fn(m, buf, n + 1), (int64_t)n);
    assert_string_equal(buf, full);
    assert_int_equal(buf[n + 1], 'X');

    /* NULL with a length is refused. */
    assert_true(fn(m, NULL, 8) < 0);
    free(buf);
    free(full);
}

static void test_snprintf_semantics(void **state)
{
    struct mmsim_machine *m = boot_default(0);

    (void)state;
    check_snprintf(mmsim_view_buddyinfo, m);
    check_snprintf(mmsim_view_zoneinfo, m);
    check_snprintf(mmsim_view_vmstat, m);
    check_snprintf(mmsim_view_bootlog, m);
    check_snprintf(memblock_memory_view, m);
    check_snprintf(memblock_reserved_view, m);
    mmsim_machine_destroy(m);
}

static void test_memblock_view(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    struct mmsim_desc d;
    char *mem, *res;
    char buf[64];

    (void)state;
    mem = view_text(memblock_memory_view, m);
    res = view_text(memblock_reserved_view, m);
    assert_int_equal(strncmp(mem, "   0: 0x", 8), 0);
    assert_int_equal(strncmp(res, "   0: 0x", 8), 0);
    /* The default machine's first usable range: 0x1000..0x9efff, node 0. */
    {
        const char *first =
            "   0: 0x0000000000001000..0x000000000009efff    0 NONE\n";

        assert_int_equal(strncmp(mem, first, strlen(first)), 0);
    }
    free(mem);
    free(res);
    mmsim_machine_destroy(m);

    mmsim_desc_default(&d);
    d.early = MMSIM_EARLY_BOOTMEM;
    m = boot(&d);
    assert_int_equal(mmsim_view_memblock(m, false, buf, sizeof(buf)),
                     MMSIM_ENOENT);
    assert_int_equal(mmsim_view_memblock(m, true, NULL, 0), MMSIM_ENOENT);
    /* The other views do not care which early allocator booted it. */
    assert_true(mmsim_view_buddyinfo(m, NULL, 0) > 0);
    mmsim_machine_destroy(m);
}

static void test_bootlog_view(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    char *text = view_text(mmsim_view_bootlog, m);
    size_t n = strlen(text);

    (void)state;
    assert_true(n > 0);
    assert_int_equal(text[n - 1], '\n');
    /* The kernel's wording, as in the fixture (minus timestamps). */
    assert_non_null(strstr(text, "Zone ranges:\n"));
    assert_non_null(strstr(text, "Early memory node ranges\n"));
    free(text);
    mmsim_machine_destroy(m);
}

static void test_zone_info_errors(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    struct mmsim_zone_info zi;

    (void)state;
    assert_int_equal(mmsim_zone_info(m, -1, MMSIM_ZONE_NORMAL, &zi),
                     MMSIM_ENODEV);
    assert_int_equal(mmsim_zone_info(m, (int)mmsim_machine_nr_nodes(m),
                                     MMSIM_ZONE_NORMAL, &zi),
                     MMSIM_ENODEV);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_HIGHMEM, &zi),
                     MMSIM_ENOENT);
    assert_int_equal(
        mmsim_zone_info(m, 0, (enum mmsim_zone_type)MMSIM_NR_ZONE_TYPES, &zi),
        MMSIM_ENOENT);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_int_equal(zi.nid, 0);
    assert_int_equal(zi.type, MMSIM_ZONE_NORMAL);
    assert_true(zi.present > 0 && zi.managed > 0 && zi.free > 0);
    assert_true(zi.spanned >= zi.present && zi.present >= zi.managed);
    assert_true(zi.wmark_min <= zi.wmark_low && zi.wmark_low <= zi.wmark_high);
    mmsim_machine_destroy(m);
}

/* Before the hand-off there are no zones to show (and no /proc). */
static void test_views_early_phase(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone_info zi;
    char buf[16] = "XXXXXXXXXXXXXXX";
    char *text;

    (void)state;
    mmsim_desc_default(&d);
    d.stop_before_handoff = true;
    m = boot(&d);
    assert_int_equal(mmsim_view_buddyinfo(m, buf, sizeof(buf)), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(mmsim_view_zoneinfo(m, NULL, 0), 0);
    assert_int_equal(mmsim_vmstat_get(m, "nr_free_pages"), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi),
                     MMSIM_EPERM);
    /* memblock is live and already shows the firmware map. */
    text = view_text(memblock_memory_view, m);
    assert_int_equal(strncmp(text, "   0: 0x", 8), 0);
    free(text);

    assert_int_equal(mmsim_machine_finish_boot(m), 0);
    assert_int_equal(mmsim_zone_info(m, 0, MMSIM_ZONE_NORMAL, &zi), 0);
    assert_true(mmsim_view_buddyinfo(m, NULL, 0) > 0);
    assert_true(mmsim_vmstat_get(m, "nr_free_pages") > 0);
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* Consistency while other threads allocate                            */

struct churn {
    struct mmsim_machine *m;
    int cpu;
    atomic_bool *stop;
};

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    uint64_t held[64];
    unsigned orders[64];
    unsigned n = 0, seed = (unsigned)c->cpu * 7919u + 1;

    while (!atomic_load(c->stop)) {
        seed = seed * 1103515245u + 12345u;
        if (n < 64 && (seed >> 16) % 3) {
            unsigned order = (seed >> 20) % 5;

            if (mmsim_alloc_pages(c->m, c->cpu, MMSIM_GFP_KERNEL, order,
                                  MMSIM_ANY_NODE, &held[n]) == 0)
                orders[n++] = order;
        } else if (n) {
            n--;
            if (mmsim_free_pages(c->m, c->cpu, held[n], orders[n]) != 0)
                abort();
        }
    }
    while (n) {
        n--;
        if (mmsim_free_pages(c->m, c->cpu, held[n], orders[n]) != 0)
            abort();
    }
    return NULL;
}

static void test_views_consistent_under_churn(void **state)
{
    struct mmsim_machine *m = boot_default(0);
    int cpus[3] = {0, 1, MMSIM_NO_CPU};
    struct churn c[3];
    pthread_t th[3];
    atomic_bool stop = false;
    struct timespec t0, t;
    unsigned rounds = 0;

    (void)state;
    for (int i = 0; i < 3; i++) {
        c[i] = (struct churn){.m = m, .cpu = cpus[i], .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, churn_main, &c[i]), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int t2 = 0; t2 < MMSIM_NR_ZONE_TYPES; t2++) {
            struct mmsim_zone_info zi;
            uint64_t sum = 0;

            if (mmsim_zone_info(m, 0, (enum mmsim_zone_type)t2, &zi))
                continue;
            for (unsigned o = 0; o <= MMSIM_MAX_ORDER_CAP; o++)
                sum += zi.nr_free[o] << o;
            /* One snapshot: the counter and the lists agree. */
            assert_int_equal(sum, zi.free);
        }
        free(view_text(mmsim_view_zoneinfo, m));
        free(view_text(mmsim_view_buddyinfo, m));
        assert_true(mmsim_vmstat_get(m, "numa_hit") >= 0);
        rounds++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
             300000000L);
    atomic_store(&stop, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_true(rounds > 0);
    mmsim_drain_all(m);
    assert_int_equal(mmsim_check(m, true, NULL, 0), 0);
    mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ */
/* Golden: the fixture host's exact state gives the fixture's exact text */

/*
 * The state of the fixture host (one node, two CPUs, DMA DMA32 Normal
 * Movable Device), read off tests/fixtures/linux-6.18/{zoneinfo,buddyinfo}.
 */
static const struct golden_zone {
    uint64_t free, wmark[4], start, spanned, present, managed;
    uint64_t lowmem_reserve[5];
    uint64_t nr_free[11];
    int pcp[2][5]; /* count high batch high_min high_max */
    uint64_t numa[6];
} golden[5] = {
    {3840,
     {62, 77, 92, 107},
     1,
     4095,
     3998,
     3840,
     {0, 3019, 4043, 4043, 4043},
     {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3},
     {{0, 0, 1, 38, 240}, {0, 0, 1, 38, 240}},
     {0}},
    {772918,
     {12570, 15712, 18854, 21996},
     4096,
     1044480,
     782336,
     772918,
     {0, 0, 1024, 1024, 1024},
     {2, 2, 4, 2, 5, 4, 3, 3, 4, 2, 752},
     {{0, 7856, 63, 7856, 48307}, {0, 7856, 63, 7856, 48307}},
     {0}},
    {235966,
     {4263, 5328, 6393, 7458},
     1048576,
     5505024,
     5505024,
     262144,
     {0},
     {1404, 1223, 921, 802, 522, 333, 186, 99, 45, 28, 149},
     {{1470, 2727, 63, 2664, 16384}, {2181, 2727, 63, 2664, 16384}},
     {630386, 0, 0, 1112, 630386, 0}},
    {0, {32, 32, 32, 32}, 0, 0, 0, 0, {0}, {0}, {{0}}, {0}},
    {0, {0}, 0, 0, 0, 0, {0}, {0}, {{0}}, {0}},
};

/*
 * The fixture with the counters the simulation does not have (node
 * stats, LRU/mlock/zspages/cma zone stats) set to 0, their true value
 * here.
 */
static char *zero_unsimulated(const char *fx)
{
    struct lines l;
    char *out = malloc(strlen(fx) + 1);
    size_t o = 0;
    bool nodestats = false;

    assert_non_null(out);
    split_lines(fx, &l);
    for (size_t i = 0; i < l.n; i++) {
        const char *line = l.v[i];
        size_t n = strlen(line);
        bool zero = false;

        if (strcmp(line, "  per-node stats") == 0)
            nodestats = true;
        else if (strncmp(line, "  pages free", 12) == 0)
            nodestats = false;
        else if (nodestats)
            zero = true;
        else if (strncmp(line, "      nr_", 9) == 0 &&
                 strncmp(line, "      nr_free_pages", 19) != 0)
            zero = true;
        if (zero) {
            while (n && line[n - 1] >= '0' && line[n - 1] <= '9')
                n--;
            memcpy(out + o, line, n);
            o += n;
            out[o++] = '0';
        } else {
            memcpy(out + o, line, n);
            o += n;
        }
        out[o++] = '\n';
    }
    out[o] = '\0';
    free_lines(&l);
    return out;
}

static void test_golden_fixture_state(void **state)
{
    struct mmsim_desc d;
    struct mmsim_machine *m;
    struct mmsim_zone saved[5];
    struct mmsim_pcp saved_pcp[5][2];
    char *fx, *want, *text;

    (void)state;
    mmsim_desc_init(&d);
    d.nr_cpus = 2;
    assert_int_equal(mmsim_desc_add_range(&d, 0, 0x1000, 0x9e000), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 0, MIB, 3 * GIB - MIB), 0);
    assert_int_equal(mmsim_desc_add_range(&d, 0, 4 * GIB, GIB), 0);
    m = boot(&d);
    assert_int_equal(m->nr_zone_idx, 5);
    assert_int_equal(m->max_order, 10);

    /* Pose the fixture host's state (views only read these fields). */
    for (unsigned i = 0; i < 5; i++) {
        struct mmsim_zone *z = &m->pgdat[0]->zones[i];
        const struct golden_zone *g = &golden[i];

        saved[i] = *z;
        memcpy(saved_pcp[i], z->pcp, sizeof(saved_pcp[i]));
        atomic_store(&z->free_pages, (int64_t)g->free);
        memcpy(z->wmark, g->wmark, sizeof(g->wmark));
        z->start_pfn = g->start;
        z->end_pfn = g->start + g->spanned;
        z->present = g->present;
        z->managed = g->managed;
        memset(z->lowmem_reserve, 0, sizeof(z->lowmem_reserve));
        memcpy(z->lowmem_reserve, g->lowmem_reserve, sizeof(g->lowmem_reserve));
        for (unsigned o = 0; o <= 10; o++)
            z->free_area[o].nr_free = g->nr_free[o];
        memset(z->ev, 0, sizeof(z->ev));
        memcpy(z->ev, g->numa, sizeof(g->numa));
        for (unsigned c = 0; c < 2; c++) {
            struct mmsim_pcp *p = &z->pcp[c];

            p->count = g->pcp[c][0];
            p->high = g->pcp[c][1];
            p->batch = g->pcp[c][2];
            p->high_min = g->pcp[c][3];
            p->high_max = g->pcp[c][4];
            memset(p->ev, 0, sizeof(p->ev));
        }
    }

    fx = read_fixture("zoneinfo");
    want = zero_unsimulated(fx);
    text = view_text(mmsim_view_zoneinfo, m);
    assert_string_equal(text, want);
    free(text);
    free(want);
    free(fx);

    fx = read_fixture("buddyinfo");
    text = view_text(mmsim_view_buddyinfo, m);
    assert_string_equal(text, fx);
    free(text);
    free(fx);

    /* The fixture's vmstat was read together with its zoneinfo. */
    fx = read_fixture("vmstat");
    text = view_text(mmsim_view_vmstat, m);
    assert_int_equal(strncmp(text, fx,
                             strlen("nr_free_pages 1012724\n"
                                    "nr_free_pages_blocks 941568\n")),
                     0);
    free(text);
    free(fx);

    for (unsigned i = 0; i < 5; i++) {
        struct mmsim_zone *z = &m->pgdat[0]->zones[i];

        memcpy(z->pcp, saved_pcp[i], sizeof(saved_pcp[i]));
        *z = saved[i];
    }
    assert_int_equal(mmsim_check(m, true, NULL, 0), 0);
    mmsim_machine_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_fixture_state),
        cmocka_unit_test(test_zoneinfo_shape_matches_fixture),
        cmocka_unit_test(test_zoneinfo_layout),
        cmocka_unit_test(test_zoneinfo_values),
        cmocka_unit_test(test_protection_by_hand),
        cmocka_unit_test(test_buddyinfo_fixture_roundtrip),
        cmocka_unit_test(test_buddyinfo_matches_zone_info),
        cmocka_unit_test(test_buddyinfo_order3_split),
        cmocka_unit_test(test_vmstat_names_and_order),
        cmocka_unit_test(test_vmstat_counters_move),
        cmocka_unit_test(test_vmstat_sim_counters),
        cmocka_unit_test(test_snprintf_semantics),
        cmocka_unit_test(test_memblock_view),
        cmocka_unit_test(test_bootlog_view),
        cmocka_unit_test(test_zone_info_errors),
        cmocka_unit_test(test_views_early_phase),
        cmocka_unit_test(test_views_consistent_under_churn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
