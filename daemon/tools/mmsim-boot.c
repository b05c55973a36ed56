// SPDX-License-Identifier: MIT
/*
 * mmsim-boot - boot a simulated machine in-process and print its kernel
 * log and /proc views. Until the daemon exists this is how a machine
 * description is tried out; afterwards it stays the quickest way to see
 * what a description boots into.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmsim/config.h"
#include "mmsim/mm.h"

#define PROG "mmsim-boot"

enum {
    OPT_SHOW = 256,
    OPT_NO_LATE_INIT,
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [MACHINE OPTIONS] [--show VIEWS] "
            "[--no-late-init]\n"
            "\n"
            "Boot a simulated NUMA machine the way Linux boots (firmware "
            "map, early\n"
            "allocator, node data, zones, hand-off to the buddy "
            "allocator) and print\n"
            "the kernel log and /proc views it ends up with. Without "
            "machine options\n"
            "the built-in default machine boots.\n"
            "\n"
            "Output:\n"
            "  --show VIEWS      comma-separated, printed in this order "
            "(default:\n"
            "                    bootlog,buddyinfo,zoneinfo):\n"
            "                    bootlog    the kernel log of the boot\n"
            "                    buddyinfo  /proc/buddyinfo\n"
            "                    zoneinfo   /proc/zoneinfo\n"
            "                    vmstat     /proc/vmstat\n"
            "                    memory     /sys/kernel/debug/memblock/"
            "memory\n"
            "                    reserved   /sys/kernel/debug/memblock/"
            "reserved\n"
            "                    check      run the invariant checker\n"
            "  --no-late-init    leave deferred struct pages deferred (by "
            "default they\n"
            "                    are initialised, as page_alloc_init_late() "
            "does)\n"
            "  -h, --help        this text\n"
            "\n"
            "Machine options:\n"
            "%s"
            "Without --swap file= the swap file of " PROG " is kept in "
            "memory.\n"
            "\n"
            "Exit status: 0 booted, 1 the boot failed (the kernel would "
            "have panicked,\n"
            "or the host is out of memory), 2 bad options or machine "
            "description.\n",
            mmsim_config_options_help());
}

static char *view_text(struct mmsim_machine *m, const char *name, int64_t *len)
{
    int64_t (*fn)(struct mmsim_machine *, char *, size_t) = NULL;
    bool reserved = false;
    char *buf;
    int64_t n;

    *len = 0;
    if (!strcmp(name, "bootlog"))
        fn = mmsim_view_bootlog;
    else if (!strcmp(name, "buddyinfo"))
        fn = mmsim_view_buddyinfo;
    else if (!strcmp(name, "zoneinfo"))
        fn = mmsim_view_zoneinfo;
    else if (!strcmp(name, "vmstat"))
        fn = mmsim_view_vmstat;
    else if (!strcmp(name, "memory") || (reserved = !strcmp(name, "reserved")))
        n = mmsim_view_memblock(m, reserved, NULL, 0);
    else
        return NULL;
    if (fn)
        n = fn(m, NULL, 0);
    if (n < 0) {
        *len = n;
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        *len = MMSIM_EHOSTMEM;
        return NULL;
    }
    n = fn ? fn(m, buf, (size_t)n + 1)
           : mmsim_view_memblock(m, reserved, buf, (size_t)n + 1);
    *len = n;
    return buf;
}

static int show(struct mmsim_machine *m, const char *views)
{
    char *list = strdup(views), *save = NULL;
    int status = 0;

    if (!list)
        return 1;
    for (char *v = strtok_r(list, ",", &save); v;
         v = strtok_r(NULL, ",", &save)) {
        char err[512];
        int64_t len;
        char *text;

        if (!strcmp(v, "check")) {
            int rc = mmsim_check(m, true, err, sizeof(err));

            printf("check: %s\n", rc ? err : "ok");
            if (rc)
                status = 1;
            continue;
        }
        text = view_text(m, v, &len);
        if (!text) {
            const char *why = "unknown view (see --help)";

            if (len == MMSIM_ENOENT)
                why = "this machine boots with bootmem: it has no memblock";
            else if (len < 0)
                why = mmsim_strerror((int)len);
            fprintf(stderr, PROG ": --show %s: %s\n", v, why);
            status = 2;
            continue;
        }
        fwrite(text, 1, (size_t)len, stdout);
        free(text);
    }
    free(list);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        MMSIM_CONFIG_LONGOPTS,
        {"show", required_argument, NULL, OPT_SHOW},
        {"no-late-init", no_argument, NULL, OPT_NO_LATE_INIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct mmsim_config_builder *b = malloc(sizeof(*b));
    struct mmsim_desc *d = malloc(sizeof(*d));
    const char *views = "bootlog,buddyinfo,zoneinfo";
    bool late_init = true;
    struct mmsim_machine *m;
    char err[1024];
    int opt, idx = 0, rc, status = 2;

    if (!b || !d) {
        fprintf(stderr, PROG ": out of memory\n");
        status = 1;
        goto out;
    }
    mmsim_config_builder_init(b);
    while ((opt = getopt_long(argc, argv, "m:h", longopts, &idx)) != -1) {
        const char *name = opt == 'm'                   ? "m"
                           : opt == MMSIM_CONFIG_GETOPT ? longopts[idx].name
                                                        : NULL;

        if (name) {
            if (mmsim_config_option(b, name, optarg, err, sizeof(err))) {
                fprintf(stderr, PROG ": %s\n", err);
                goto out;
            }
            continue;
        }
        switch (opt) {
        case OPT_SHOW:
            views = optarg;
            break;
        case OPT_NO_LATE_INIT:
            late_init = false;
            break;
        case 'h':
            usage(stdout);
            status = 0;
            goto out;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                PROG ": unexpected argument '%s'\nTry '" PROG " --help'.\n",
                argv[optind]);
        goto out;
    }
    if (mmsim_config_finish(b, d, err, sizeof(err))) {
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    rc = mmsim_machine_create(d, NULL, &m, err, sizeof(err));
    if (rc) {
        fprintf(stderr, PROG ": %s\n", err);
        status = rc == MMSIM_ECONFIG ? 2 : 1;
        goto out;
    }
    if (late_init)
        mmsim_machine_late_init(m);
    status = show(m, views);
    mmsim_machine_destroy(m);
out:
    free(b);
    free(d);
    return status;
}
