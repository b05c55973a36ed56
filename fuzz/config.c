/*
 * config.c - fuzz the machine-description parser: the QEMU-like options
 * (mmsim_config_option) and YAML machine files (mmsim_config_load_yaml),
 * then mmsim_config_finish(), and boot what validates.
 *
 * DOC: input and checks
 *
 * The input is text (ops.h, CFG_SEPARATOR): sections separated by lines
 * "%%", alternately option lines ("name value", "name=value" or a bare
 * "name") and YAML documents, applied in order. The "config" option
 * loads a file: its value is replaced by a path that does not exist, or
 * /dev/null. An input starting "#edges" also runs the API's edge cases
 * (NULL builders, no text, a file over the size limit).
 *
 * - Every call returns 0 or MMSIM_ECONFIG, and a failure leaves a
 *   message (a YAML one starting "<yaml>:") and the builder unchanged,
 *   byte for byte.
 * - mmsim_config_finish() does not modify the builder; a description it
 *   accepts passes mmsim_desc_validate(), and finishing twice gives the
 *   same description.
 * - A description with at most 1 GiB of RAM below 64 GiB is booted: it
 *   must boot (or fail with MMSIM_EPANIC where the kernel would panic)
 *   and pass the full checker; bigger ones are not booted, to keep each
 *   run fast.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/config.h"
#include "mmsim/mm.h"
#include "ops.h"

#define MAX_OPTIONS  128
#define MAX_SECTIONS 32
#define BOOT_MAX_RAM (UINT64_C(1) << 30)
#define BOOT_MAX_END (UINT64_C(64) << 30)

struct ctx {
    struct mmsim_config_builder b, copy;
    struct mmsim_desc d, d2;
    char err[512];
};

/*
 * The builder is byte for byte what it was: it was zeroed, copied with
 * memcpy, and a refused call must not write to it at all.
 */
static bool builder_unchanged(const struct ctx *c)
{
    /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
    return memcmp(&c->b, &c->copy, sizeof(c->b)) == 0;
}

static void check_failure(struct ctx *c, int rc, const char *what)
{
    FZ_CHECK(rc == MMSIM_ECONFIG, "%s: %s", what, fz_err(rc));
    FZ_CHECK(c->err[0] && memchr(c->err, '\0', sizeof(c->err)),
             "%s failed without a message", what);
    FZ_CHECK(builder_unchanged(c), "%s failed (%s) but changed the builder",
             what, c->err);
}

static void apply_option(struct ctx *c, char *line)
{
    char *value = NULL, *sep = line + strcspn(line, " =");
    uint64_t size;
    int rc;

    if (*sep) {
        *sep = '\0';
        value = sep + 1;
    }
    /* "config" reads a file: only ever a missing one or /dev/null. */
    if (!strcmp(line, "config") && value)
        value = strcmp(value, "/dev/null") ? "/nonexistent/mmsim-fuzz.yaml"
                                           : "/dev/null";
    if (value) {
        rc = mmsim_config_parse_size(value, &size);
        FZ_CHECK(rc == 0 || rc == MMSIM_ECONFIG, "parse_size(%s): %s", value,
                 fz_err(rc));
    }
    memcpy(&c->copy, &c->b, sizeof(c->b));
    c->err[0] = '\0';
    rc = mmsim_config_option(&c->b, line, value, c->err, sizeof(c->err));
    if (rc)
        check_failure(c, rc, "option");
}

static void apply_yaml(struct ctx *c, const char *text, size_t len)
{
    int rc;

    memcpy(&c->copy, &c->b, sizeof(c->b));
    c->err[0] = '\0';
    rc = mmsim_config_load_yaml(&c->b, text, len, c->err, sizeof(c->err));
    if (rc) {
        check_failure(c, rc, "load_yaml");
        FZ_CHECK(!strncmp(c->err, "<yaml>:", 7),
                 "YAML error without a place: %s", c->err);
    }
}

static bool same_desc(const struct mmsim_desc *a, const struct mmsim_desc *b)
{
    if (a->nr_nodes != b->nr_nodes || a->nr_ranges != b->nr_ranges ||
        a->nr_reserved != b->nr_reserved || a->nr_cpus != b->nr_cpus ||
        a->max_order != b->max_order ||
        a->min_free_kbytes != b->min_free_kbytes ||
        a->watermark_scale_factor != b->watermark_scale_factor ||
        a->movablecore != b->movablecore ||
        a->highmem_start != b->highmem_start || a->early != b->early ||
        a->deferred_init != b->deferred_init ||
        a->stop_before_handoff != b->stop_before_handoff ||
        a->contents != b->contents ||
        memcmp(a->lowmem_reserve_ratio, b->lowmem_reserve_ratio,
               sizeof(a->lowmem_reserve_ratio)) != 0 ||
        memcmp(a->distance, b->distance, sizeof(a->distance)) != 0)
        return false;
    for (unsigned i = 0; i < a->nr_ranges; i++)
        if (a->ranges[i].base != b->ranges[i].base ||
            a->ranges[i].size != b->ranges[i].size ||
            a->ranges[i].nid != b->ranges[i].nid)
            return false;
    for (unsigned i = 0; i < a->nr_reserved; i++)
        if (a->reserved[i].base != b->reserved[i].base ||
            a->reserved[i].size != b->reserved[i].size ||
            strcmp(a->reserved[i].name, b->reserved[i].name) != 0)
            return false;
    return a->swap_bytes == b->swap_bytes &&
           strcmp(a->swap_path, b->swap_path) == 0 &&
           a->oom_policy == b->oom_policy;
}

static void boot(struct ctx *c)
{
    struct mmsim_machine *m = NULL;
    uint64_t end = 0;
    int rc;

    for (unsigned i = 0; i < c->d.nr_ranges; i++)
        if (c->d.ranges[i].base + c->d.ranges[i].size > end)
            end = c->d.ranges[i].base + c->d.ranges[i].size;
    if (mmsim_desc_total_ram(&c->d) > BOOT_MAX_RAM || end > BOOT_MAX_END)
        return;
    /* Never let an input name a host file to create or truncate: the
     * swap device becomes an in-memory file of bounded size. */
    c->d.swap_path[0] = '\0';
    if (c->d.swap_bytes > BOOT_MAX_RAM)
        c->d.swap_bytes = BOOT_MAX_RAM;
    rc = mmsim_machine_create(&c->d, NULL, &m, c->err, sizeof(c->err));
    if (rc) {
        FZ_CHECK(rc == MMSIM_EPANIC,
                 "a valid description failed to boot: %s (%s)", fz_err(rc),
                 c->err);
        FZ_CHECK(!m, "failed boot returned a machine");
        return;
    }
    if (!c->d.stop_before_handoff) {
        rc = mmsim_check(m, true, c->err, sizeof(c->err));
        FZ_CHECK(rc == 0, "mmsim_check after boot: %s", c->err);
    }
    mmsim_machine_destroy(m);
}

/* The --help block: lines of at most 80 columns, each ending in '\n'. */
static void check_help(void)
{
    const char *h = mmsim_config_options_help(), *nl;

    FZ_CHECK(h && *h, "options_help is empty");
    for (; *h; h = nl + 1) {
        nl = strchr(h, '\n');
        FZ_CHECK(nl && nl - h <= 80, "options_help line too long or unended");
    }
}

/* NULL arguments and limits: refused with a message, nothing read. */
static void check_edges(struct ctx *c)
{
    static const char big_name[] = "more than the limit";
    char *big = malloc(MMSIM_CONFIG_MAX_FILE_BYTES + 1);
    uint64_t v = 7;

    FZ_CHECK(big, "out of host memory");
    memset(big, '#', MMSIM_CONFIG_MAX_FILE_BYTES + 1);
    memcpy(&c->copy, &c->b, sizeof(c->b));
    FZ_CHECK(mmsim_config_load_yaml(&c->b, big, MMSIM_CONFIG_MAX_FILE_BYTES + 1,
                                    c->err, sizeof(c->err)) == MMSIM_ECONFIG,
             "YAML over the limit (%s)", big_name);
    free(big);
    FZ_CHECK(mmsim_config_load_yaml(&c->b, NULL, 0, c->err, sizeof(c->err)) ==
                 MMSIM_ECONFIG,
             "no YAML text");
    FZ_CHECK(mmsim_config_load_yaml(NULL, "cpus: 2", 7, NULL, 0) ==
                 MMSIM_ECONFIG,
             "YAML into no builder");
    FZ_CHECK(mmsim_config_option(NULL, "cpus", "2", c->err, sizeof(c->err)) ==
                     MMSIM_ECONFIG &&
                 mmsim_config_option(&c->b, NULL, "2", NULL, 0) ==
                     MMSIM_ECONFIG,
             "option without builder or name");
    FZ_CHECK(mmsim_config_finish(NULL, &c->d, c->err, sizeof(c->err)) ==
                     MMSIM_ECONFIG &&
                 mmsim_config_finish(&c->b, NULL, NULL, 0) == MMSIM_ECONFIG,
             "finish without builder or description");
    FZ_CHECK(mmsim_config_load_file(&c->b, NULL, c->err, sizeof(c->err)) ==
                     MMSIM_ECONFIG &&
                 mmsim_config_load_file(&c->b, "/", c->err, sizeof(c->err)) ==
                     MMSIM_ECONFIG,
             "load_file of nothing or a directory");
    FZ_CHECK(mmsim_config_parse_size(NULL, &v) == MMSIM_ECONFIG &&
                 mmsim_config_parse_size("", &v) == MMSIM_ECONFIG && v == 7,
             "parse_size of nothing");
    FZ_CHECK(builder_unchanged(c), "refused calls changed the builder");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Zeroed, and copies made with memcpy: compared byte for byte. */
    struct ctx *c = calloc(1, sizeof(*c));
    char *text = malloc(size + 1), *p;
    unsigned nopts = 0, nsections = 0;
    int rc;

    if (!c || !text) {
        free(c);
        free(text);
        return 0;
    }
    check_help();
    memcpy(text, data, size);
    text[size] = '\0';
    mmsim_config_builder_init(&c->b);
    if (size >= 6 && !memcmp(text, "#edges", 6))
        check_edges(c);

    /*
     * Sections between "%%" lines alternate: option lines, YAML, option
     * lines, ... so later options can override a file and vice versa.
     */
    for (p = text; p <= text + size && nsections < MAX_SECTIONS; nsections++) {
        char *end = text + size, *q;

        /* The section ends at the next line that is exactly "%%". */
        for (q = p; q < text + size;) {
            char *nl = memchr(q, '\n', (size_t)(text + size - q));
            size_t n = (size_t)((nl ? nl : text + size) - q);

            if (n == 2 && !memcmp(q, CFG_SEPARATOR, 2)) {
                end = q;
                break;
            }
            q = nl ? nl + 1 : text + size;
        }
        if (nsections % 2) {
            apply_yaml(c, p, (size_t)(end - p));
        } else {
            for (char *line = p; line < end;) {
                char *nl = memchr(line, '\n', (size_t)(end - line));
                char *next = nl ? nl + 1 : end;

                if (nl)
                    *nl = '\0';
                else if (end < text + size)
                    *end = '\0';
                /* A line with a NUL inside is no option. */
                if (strlen(line) == (size_t)((nl ? nl : end) - line) &&
                    nopts++ < MAX_OPTIONS)
                    apply_option(c, line);
                line = next;
            }
        }
        if (end == text + size)
            break;
        p = end + 3; /* past "%%\n" (or the final NUL) */
        if (p > text + size)
            break;
    }

    memcpy(&c->copy, &c->b, sizeof(c->b));
    c->err[0] = '\0';
    rc = mmsim_config_finish(&c->b, &c->d, c->err, sizeof(c->err));
    FZ_CHECK(builder_unchanged(c), "config_finish changed the builder");
    if (rc) {
        FZ_CHECK(rc == MMSIM_ECONFIG && c->err[0], "config_finish: %s",
                 fz_err(rc));
    } else {
        rc = mmsim_desc_validate(&c->d, c->err, sizeof(c->err));
        FZ_CHECK(rc == 0, "config_finish accepted what validate refuses: %s",
                 c->err);
        rc = mmsim_config_finish(&c->b, &c->d2, NULL, 0);
        FZ_CHECK(rc == 0 && same_desc(&c->d, &c->d2),
                 "config_finish twice gives different machines");
        boot(c);
    }
    free(text);
    free(c);
    return 0;
}
