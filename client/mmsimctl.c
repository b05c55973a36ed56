// SPDX-License-Identifier: MIT
/*
 * mmsimctl - talk to mmsimd from the shell, in the spirit of redis-cli.
 *
 * One invocation is one connection, hence one server session: pages
 * allocated by `mmsimctl alloc` are freed when mmsimctl exits. `mmsimctl
 * session` reads commands from stdin, one per line, over one connection,
 * so pages live across commands.
 *
 * Output is the kernel's text by default and one JSON document per
 * command with --json. Exit status: 0 ok, 1 the server said no, 2 usage,
 * 3 cannot connect (or the connection was lost).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "mmsim/client.h"
#include "mmsim/frame.h"

#define PROG "mmsimctl"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3,
};

/* Largest --file accepted by write (pages are far smaller anyway). */
#define WRITE_FILE_MAX (16u << 20)
/* Most words on one session line. */
#define SESSION_MAX_ARGS 64

struct ctl {
    const char *addr;
    struct mmsim_client_opts opts;
    uint8_t *token; /* from --token-file */
    struct mmsim_client *c;
    bool json;
    bool in_session;
    char where[32]; /* "line N: " in a session, else "" */
    /* The blocks of the latest alloc, for $PFN / $PFN<i> in a session. */
    uint64_t *pfns;
    size_t n_pfns;
    char addr_buf[512];
};

/* ---- Help */

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: " PROG " [OPTIONS] COMMAND [ARGS]\n"
        "       " PROG " [OPTIONS] session < SCRIPT\n"
        "\n"
        "Talk to mmsimd, the mmsim daemon: allocate and free pages of its\n"
        "simulated NUMA machine, read and write their contents, and read "
        "the\n"
        "kernel's views of it.\n"
        "\n"
        "Options:\n"
        "  -s, --socket PATH      connect to the Unix socket PATH\n"
        "  -a, --address HOST:PORT\n"
        "                         connect over TCP (IPv6: [ADDR]:PORT)\n"
        "                         Default: $MMSIM_ADDRESS (HOST:PORT or a "
        "path),\n"
        "                         else the daemon's Unix socket if it "
        "exists\n"
        "                         ($XDG_RUNTIME_DIR/mmsimd.sock, or\n"
        "                         /tmp/mmsimd-UID.sock without "
        "XDG_RUNTIME_DIR),\n"
        "                         else " MMSIM_CLIENT_DEFAULT_TCP "\n"
        "      --token-file FILE  send the token in FILE (a trailing "
        "newline is\n"
        "                         dropped); default: $MMSIM_TOKEN\n"
        "      --json             print one JSON document per command "
        "instead of\n"
        "                         the kernel's text (errors too, as\n"
        "                         {\"ok\":false,\"status\":...,\"message\":"
        "...});\n"
        "                         also accepted after COMMAND\n"
        "      --timeout SECONDS  give up on connecting, or on an answer, "
        "after\n"
        "                         SECONDS (default 5 to connect, 30 per "
        "command)\n"
        "  -h, --help             show this help\n"
        "      --version          show the version\n"
        "\n"
        "Commands:\n"
        "  ping [MESSAGE]         check the server answers (prints PONG, "
        "or MESSAGE)\n"
        "  buddyinfo              /proc/buddyinfo\n"
        "  zoneinfo               /proc/zoneinfo\n"
        "  vmstat                 /proc/vmstat\n"
        "  memblock [memory|reserved]\n"
        "                         /sys/kernel/debug/memblock/* (default "
        "memory)\n"
        "  bootlog                the boot messages, as dmesg shows them\n"
        "  check [--full]         run the invariant checker (--full also "
        "walks\n"
        "                         every page frame); exit 1 if it finds a "
        "problem\n"
        "  machine                nodes, CPUs, distances, memory ranges, "
        "zones\n"
        "  alloc [--order N] [--node N] [--gfp FLAGS] [--count N]\n"
        "                         allocate COUNT blocks of 2^N pages "
        "(default\n"
        "                         order 0, the session CPU's node, "
        "GFP_KERNEL).\n"
        "                         FLAGS: names joined by '|' (GFP_KERNEL,\n"
        "                         GFP_ATOMIC, GFP_NOWAIT, GFP_USER, "
        "GFP_HIGHUSER,\n"
        "                         GFP_HIGHUSER_MOVABLE, GFP_DMA, GFP_DMA32, "
        "__GFP_DMA,\n"
        "                         __GFP_HIGHMEM, __GFP_DMA32, "
        "__GFP_MOVABLE,\n"
        "                         __GFP_HIGH, __GFP_RECLAIM, "
        "__GFP_KSWAPD_RECLAIM,\n"
        "                         __GFP_DIRECT_RECLAIM, __GFP_ZERO, "
        "__GFP_THISNODE,\n"
        "                         __GFP_NOWARN, __GFP_NORETRY, "
        "__GFP_NOFAIL,\n"
        "                         __GFP_NOMEMALLOC; any case, \"__\" "
        "optional) or a\n"
        "                         number (0x140)\n"
        "  free PFN [--order N]   free the block at PFN (default order 0)\n"
        "  read PFN [--offset N] [--length N] [--raw]\n"
        "                         read page contents (default: to the end "
        "of the\n"
        "                         page) as a hex dump, or raw bytes with "
        "--raw\n"
        "  write PFN [--offset N] (--data STRING | --hex HEX | --file FILE)\n"
        "                         write page contents (--file - reads "
        "stdin)\n"
        "  session [-e]           read commands from stdin, one per line, "
        "over one\n"
        "                         connection; see below\n"
        "  help [COMMAND]         this help\n"
        "\n"
        "Numbers may be decimal or 0x-hex. COMMAND --help shows one "
        "command.\n"
        "\n"
        "Pages belong to the connection's session: the server frees them "
        "when\n"
        "the connection closes, so pages from `" PROG
        " alloc` are freed as soon\n"
        "as " PROG " exits, and read, write and free work only on pages "
        "of the\n"
        "same session. To keep pages across commands, use a session:\n"
        "\n"
        "  printf '%%s\\n' 'alloc --order 0' 'write $PFN --data hello' \\\n"
        "      'read $PFN --length 5' 'free $PFN' | " PROG " session\n"
        "\n"
        "In a session, '#' starts a comment line, words split on blanks "
        "with\n"
        "'single' and \"double\" quotes, $PFN is the first block of the "
        "latest\n"
        "alloc, $PFN0, $PFN1, ... each of its blocks (with --count), and "
        "$PFN+N,\n"
        "$PFN1+N the page N pages further on; quit or EOF ends it.\n"
        "A failing command is reported and the session goes on (-e: stops "
        "there);\n"
        "the exit status is that of the last failing command.\n"
        "\n"
        "Exit status: 0 ok, 1 the server said no (printed as\n"
        "\"" PROG ": STATUS: message\"), 2 usage error, 3 cannot connect or "
        "the\n"
        "connection was lost.\n");
}

/* ---- Errors */

__attribute__((format(printf, 2, 3))) static int
usage_error(struct ctl *ctl, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": %s", ctl->where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (!ctl->in_session)
        fputs("Try '" PROG " --help'.\n", stderr);
    return EXIT_USAGE;
}

/* Report a failed call; Return: the exit status. */
static int report(struct ctl *ctl, int rc)
{
    const char *status = NULL;
    int code;

    if (rc == MMSIM_CLIENT_ESTATUS) {
        status = mmsim_client_status_name(mmsim_client_status(ctl->c));
        fprintf(stderr, PROG ": %s%s: %s\n", ctl->where, status,
                mmsim_client_message(ctl->c));
        code = EXIT_REFUSED;
    } else {
        fprintf(stderr, PROG ": %s%s\n", ctl->where,
                *mmsim_client_message(ctl->c) ? mmsim_client_message(ctl->c)
                                              : mmsim_client_strerror(rc));
        code = mmsim_client_err_is_transport(rc) ? EXIT_CONNECT : EXIT_REFUSED;
    }
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", false);
        json_kstr(&j, "status",
                  status                 ? status
                  : code == EXIT_CONNECT ? "TRANSPORT"
                                         : "CLIENT");
        json_kstr(&j, "message", mmsim_client_message(ctl->c));
        json_obj_end(&j);
    }
    return code;
}

/* ---- Argument parsing for commands */

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno || *end ? -1 : 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
    uint64_t x;

    if (parse_u64(s, &x) || x > UINT32_MAX)
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static int parse_int(const char *s, int *v)
{
    char *end;
    long x;

    if (!s || !*s)
        return -1;
    errno = 0;
    x = strtol(s, &end, 0);
    if (errno || *end || x < -1 || x > 1 << 20)
        return -1;
    *v = (int)x;
    return 0;
}

/*
 * A tiny option scanner for command arguments: "--name VALUE",
 * "--name=VALUE", flags, and positional words, in any order.
 */
struct opt {
    const char *name; /* without "--" */
    bool has_arg;
    const char **value; /* where the value goes (or "1" for a flag) */
};

/* Return: 0, or EXIT_USAGE (printed). *npos receives the positionals. */
static int scan_args(struct ctl *ctl, const char *cmd, int argc, char **argv,
                     const struct opt *opts, const char **pos, int maxpos,
                     int *npos)
{
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *o;
        const char *eq;
        size_t n;

        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9'))
                return usage_error(ctl, "%s: unknown option '%s'", cmd, a);
            if (*npos == maxpos)
                return usage_error(ctl, "%s: unexpected argument '%s'", cmd, a);
            pos[(*npos)++] = a;
            continue;
        }
        a += 2;
        /* The global --json is also taken after the command. */
        if (!strcmp(a, "json")) {
            ctl->json = true;
            continue;
        }
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        for (o = opts; o && o->name; o++)
            if (strlen(o->name) == n && !strncmp(o->name, a, n))
                break;
        if (!o || !o->name)
            return usage_error(ctl, "%s: unknown option '--%.*s'", cmd, (int)n,
                               a);
        if (!o->has_arg) {
            if (eq)
                return usage_error(ctl, "%s: --%s takes no value", cmd,
                                   o->name);
            *o->value = "1";
        } else if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            return usage_error(ctl, "%s: --%s needs a value", cmd, o->name);
        }
    }
    return 0;
}

/* ---- Connecting */

static void default_unix_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    /* As mmsimd picks it. */
    if (xdg && xdg[0] == '/' &&
        (size_t)snprintf(buf, len, "%s/mmsimd.sock", xdg) < len)
        return;
    snprintf(buf, len, "/tmp/mmsimd-%u.sock", (unsigned)getuid());
}

static const char *pick_address(struct ctl *ctl)
{
    const char *env = getenv("MMSIM_ADDRESS");
    struct stat st;

    if (ctl->addr)
        return ctl->addr;
    if (env && *env)
        return env;
    default_unix_path(ctl->addr_buf, sizeof(ctl->addr_buf));
    if (stat(ctl->addr_buf, &st) == 0 && S_ISSOCK(st.st_mode))
        return ctl->addr_buf;
    return MMSIM_CLIENT_DEFAULT_TCP;
}

static int ensure_connected(struct ctl *ctl)
{
    const char *addr;
    char err[512];
    int rc;

    if (ctl->c)
        return mmsim_client_connected(ctl->c) ? 0 : EXIT_CONNECT;
    addr = pick_address(ctl);
    rc = mmsim_client_connect(addr, &ctl->opts, &ctl->c, err, sizeof(err));
    if (rc == 0)
        return 0;
    fprintf(stderr, PROG ": %s\n", err);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", false);
        json_kstr(&j, "status",
                  rc == MMSIM_CLIENT_ESTATUS ? "REFUSED" : "TRANSPORT");
        json_kstr(&j, "message", err);
        json_obj_end(&j);
    }
    /* A refused Hello (a wrong token) is the server saying no. */
    return rc == MMSIM_CLIENT_ESTATUS ? EXIT_REFUSED : EXIT_CONNECT;
}

static uint32_t page_size(struct ctl *ctl)
{
    const Mmsim__V1__HelloReply *h = mmsim_client_hello_reply(ctl->c);

    if (h && h->machine && h->machine->has_page_size && h->machine->page_size)
        return h->machine->page_size;
    return 4096;
}

/* ---- Commands */

struct cmd {
    const char *name;
    int (*fn)(struct ctl *ctl, int argc, char **argv);
    const char *usage;
};

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int64_t usec_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmd_ping(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc;
    int64_t t0, us;
    size_t len;

    rc = scan_args(ctl, "ping", argc, argv, NULL, pos, 1, &npos);
    if (rc)
        return rc;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    len = npos ? strlen(pos[0]) : 0;
    t0 = usec_now();
    rc = mmsim_client_ping(ctl->c, npos ? pos[0] : NULL, len);
    us = usec_now() - t0;
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        if (npos)
            json_kstr(&j, "payload", pos[0]);
        json_ki64(&j, "rtt_us", us);
        json_obj_end(&j);
    } else {
        printf("%s\n", npos ? pos[0] : "PONG");
    }
    return EXIT_OK;
}

static void json_zone(struct json *j, const Mmsim__V1__Zone *z, bool full)
{
    json_obj_begin(j);
    json_ku64(j, "node", z->node);
    json_kstr(j, "zone", z->name ? z->name : "");
    if (full) {
        json_ku64(j, "start_pfn", z->start_pfn);
        json_ku64(j, "spanned", z->spanned);
        json_ku64(j, "present", z->present);
        json_ku64(j, "managed", z->managed);
        json_ku64(j, "free", z->free);
        json_ku64(j, "pcp", z->pcp);
        json_ku64(j, "deferred", z->deferred);
        json_ku64(j, "min", z->wmark_min);
        json_ku64(j, "low", z->wmark_low);
        json_ku64(j, "high", z->wmark_high);
        json_ku64(j, "promo", z->wmark_promo);
    }
    json_key(j, "nr_free");
    json_arr_begin(j);
    for (size_t i = 0; i < z->n_nr_free; i++)
        json_u64(j, z->nr_free[i]);
    json_arr_end(j);
    if (full) {
        json_key(j, "protection");
        json_arr_begin(j);
        for (size_t i = 0; i < z->n_protection; i++)
            json_u64(j, z->protection[i]);
        json_arr_end(j);
    }
    json_obj_end(j);
}

/* Text as an array of its lines. */
static void json_lines(struct json *j, const char *text)
{
    json_arr_begin(j);
    while (text && *text) {
        size_t n = strcspn(text, "\n");

        json_strn(j, text, n);
        text += n;
        if (*text == '\n')
            text++;
    }
    json_arr_end(j);
}

static int show_view(struct ctl *ctl, Mmsim__V1__ViewKind kind,
                     const char *memblock_kind)
{
    Mmsim__V1__ViewReply *v = NULL;
    struct json j;
    int rc;

    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_view(ctl->c, kind, NULL, &v);
    if (rc)
        return report(ctl, rc);
    if (!ctl->json) {
        const char *t = v->text ? v->text : "";
        size_t n = strlen(t);

        fputs(t, stdout);
        if (n && t[n - 1] != '\n')
            fputc('\n', stdout);
        mmsim_client_pb_free(v);
        return EXIT_OK;
    }
    json_init(&j, stdout);
    json_obj_begin(&j);
    switch (kind) {
    case MMSIM__V1__VIEW_KIND__BUDDYINFO:
    case MMSIM__V1__VIEW_KIND__ZONEINFO:
        json_key(&j, "zones");
        json_arr_begin(&j);
        for (size_t i = 0; i < v->n_zones; i++)
            json_zone(&j, v->zones[i], kind == MMSIM__V1__VIEW_KIND__ZONEINFO);
        json_arr_end(&j);
        break;
    case MMSIM__V1__VIEW_KIND__VMSTAT:
        for (size_t i = 0; i < v->n_counters; i++)
            json_ku64(&j, v->counters[i]->name ? v->counters[i]->name : "",
                      v->counters[i]->value);
        break;
    case MMSIM__V1__VIEW_KIND__MEMBLOCK_MEMORY:
    case MMSIM__V1__VIEW_KIND__MEMBLOCK_RESERVED:
        json_kstr(&j, "memblock", memblock_kind);
        json_key(&j, "lines");
        json_lines(&j, v->text);
        break;
    default:
        json_key(&j, "lines");
        json_lines(&j, v->text);
        break;
    }
    json_obj_end(&j);
    mmsim_client_pb_free(v);
    return EXIT_OK;
}

static int cmd_buddyinfo(struct ctl *ctl, int argc, char **argv)
{
    int npos,
        rc = scan_args(ctl, "buddyinfo", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__BUDDYINFO, NULL);
}

static int cmd_zoneinfo(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "zoneinfo", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__ZONEINFO, NULL);
}

static int cmd_vmstat(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "vmstat", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__VMSTAT, NULL);
}

static int cmd_bootlog(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "bootlog", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__BOOTLOG, NULL);
}

static int cmd_memblock(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    int npos, rc;

    rc = scan_args(ctl, "memblock", argc, argv, NULL, pos, 1, &npos);
    if (rc)
        return rc;
    if (!npos || !strcmp(pos[0], "memory"))
        return show_view(ctl, MMSIM__V1__VIEW_KIND__MEMBLOCK_MEMORY, "memory");
    if (!strcmp(pos[0], "reserved"))
        return show_view(ctl, MMSIM__V1__VIEW_KIND__MEMBLOCK_RESERVED,
                         "reserved");
    return usage_error(ctl, "memblock: want 'memory' or 'reserved', not '%s'",
                       pos[0]);
}

static int cmd_check(struct ctl *ctl, int argc, char **argv)
{
    const char *full = NULL;
    const struct opt opts[] = {{"full", false, &full}, {NULL, false, NULL}};
    char problem[1024];
    bool ok = false;
    int npos, rc;

    rc = scan_args(ctl, "check", argc, argv, opts, NULL, 0, &npos);
    if (rc)
        return rc;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc =
        mmsim_client_check(ctl->c, full != NULL, &ok, problem, sizeof(problem));
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", ok);
        json_kbool(&j, "full", full != NULL);
        if (!ok)
            json_kstr(&j, "problem", problem);
        json_obj_end(&j);
    } else if (ok) {
        printf("OK\n");
    }
    if (!ok) {
        fprintf(stderr, PROG ": %scheck failed: %s\n", ctl->where, problem);
        return EXIT_REFUSED;
    }
    return EXIT_OK;
}

static void machine_text(const Mmsim__V1__MachineReply *m, uint64_t session)
{
    const Mmsim__V1__MachineSummary *s = m->summary;

    if (s) {
        printf("nodes:          %u\n", (unsigned)s->nodes);
        printf("cpus:           %u\n", (unsigned)s->cpus);
        printf("max_order:      %u\n", (unsigned)s->max_order);
        printf("page_size:      %u\n", (unsigned)s->page_size);
        printf("managed_pages:  %" PRIu64 "\n", s->managed_pages);
        printf("contents:       %s\n", s->contents ? "yes" : "no");
    }
    printf("session:        %" PRIu64 "\n", session);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Mmsim__V1__Node *n = m->nodes[i];
        size_t nr = n->n_range_start_pfn < n->n_range_end_pfn
                        ? n->n_range_start_pfn
                        : n->n_range_end_pfn;

        printf("node %u:\n  cpus:      ", (unsigned)n->id);
        for (size_t k = 0; k < n->n_cpus; k++)
            printf("%s%u", k ? " " : "", (unsigned)n->cpus[k]);
        printf("\n  distances: ");
        for (size_t k = 0; k < n->n_distance; k++)
            printf("%s%u", k ? " " : "", (unsigned)n->distance[k]);
        printf("\n  memory:   ");
        for (size_t k = 0; k < nr; k++)
            printf(" [pfn %#" PRIx64 "-%#" PRIx64 "]", n->range_start_pfn[k],
                   n->range_end_pfn[k]);
        printf("\n");
    }
    for (size_t i = 0; i < m->n_zones; i++) {
        const Mmsim__V1__Zone *z = m->zones[i];

        if (!z->spanned) {
            printf("zone node %u %-8s (empty)\n", (unsigned)z->node,
                   z->name ? z->name : "?");
            continue;
        }
        printf("zone node %u %-8s start_pfn %#" PRIx64 " spanned %" PRIu64
               " present %" PRIu64 " managed %" PRIu64 " free %" PRIu64 "\n",
               (unsigned)z->node, z->name ? z->name : "?", z->start_pfn,
               z->spanned, z->present, z->managed, z->free);
    }
}

static void machine_json(const Mmsim__V1__MachineReply *m, uint64_t session)
{
    const Mmsim__V1__MachineSummary *s = m->summary;
    struct json j;

    json_init(&j, stdout);
    json_obj_begin(&j);
    if (s) {
        json_ku64(&j, "nodes", s->nodes);
        json_ku64(&j, "cpus", s->cpus);
        json_ku64(&j, "max_order", s->max_order);
        json_ku64(&j, "page_size", s->page_size);
        json_ku64(&j, "managed_pages", s->managed_pages);
        json_kbool(&j, "contents", s->contents);
    }
    json_ku64(&j, "session", session);
    json_key(&j, "node_list");
    json_arr_begin(&j);
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Mmsim__V1__Node *n = m->nodes[i];

        json_obj_begin(&j);
        json_ku64(&j, "id", n->id);
        json_key(&j, "cpus");
        json_arr_begin(&j);
        for (size_t k = 0; k < n->n_cpus; k++)
            json_u64(&j, n->cpus[k]);
        json_arr_end(&j);
        json_key(&j, "distance");
        json_arr_begin(&j);
        for (size_t k = 0; k < n->n_distance; k++)
            json_u64(&j, n->distance[k]);
        json_arr_end(&j);
        json_key(&j, "ranges");
        json_arr_begin(&j);
        for (size_t k = 0; k < n->n_range_start_pfn && k < n->n_range_end_pfn;
             k++) {
            json_obj_begin(&j);
            json_ku64(&j, "start_pfn", n->range_start_pfn[k]);
            json_ku64(&j, "end_pfn", n->range_end_pfn[k]);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "zones");
    json_arr_begin(&j);
    for (size_t i = 0; i < m->n_zones; i++)
        json_zone(&j, m->zones[i], true);
    json_arr_end(&j);
    json_obj_end(&j);
}

static int cmd_machine(struct ctl *ctl, int argc, char **argv)
{
    Mmsim__V1__MachineReply *m = NULL;
    int npos, rc;

    rc = scan_args(ctl, "machine", argc, argv, NULL, NULL, 0, &npos);
    if (rc)
        return rc;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_machine(ctl->c, &m);
    if (rc)
        return report(ctl, rc);
    if (ctl->json)
        machine_json(m, mmsim_client_session_id(ctl->c));
    else
        machine_text(m, mmsim_client_session_id(ctl->c));
    mmsim_client_pb_free(m);
    return EXIT_OK;
}

static void print_page(struct ctl *ctl, struct json *j,
                       const struct mmsim_client_page *p)
{
    if (ctl->json) {
        json_obj_begin(j);
        json_ku64(j, "pfn", p->pfn);
        json_ku64(j, "order", p->order);
        json_ku64(j, "node", p->node);
        json_kstr(j, "zone", p->zone);
        json_obj_end(j);
    } else {
        printf("pfn %#" PRIx64 " order %u node %u zone %s\n", p->pfn,
               (unsigned)p->order, (unsigned)p->node, p->zone);
    }
}

static int cmd_alloc(struct ctl *ctl, int argc, char **argv)
{
    const char *order_s = NULL, *node_s = NULL, *gfp_s = NULL, *count_s = NULL;
    const struct opt opts[] = {{"order", true, &order_s},
                               {"node", true, &node_s},
                               {"gfp", true, &gfp_s},
                               {"count", true, &count_s},
                               {NULL, false, NULL}};
    struct mmsim_client_alloc_req *reqs = NULL;
    struct mmsim_client_result *res = NULL;
    struct mmsim_client_page *pages = NULL;
    const Mmsim__V1__HelloReply *h;
    uint32_t order = 0, gfp, count = 1, chunk;
    int node = MMSIM_CLIENT_ANY_NODE;
    int npos, rc, status = EXIT_OK;
    size_t done = 0, got = 0;

    mmsim_client_parse_gfp("GFP_KERNEL", &gfp);
    rc = scan_args(ctl, "alloc", argc, argv, opts, NULL, 0, &npos);
    if (rc)
        return rc;
    if (order_s && parse_u32(order_s, &order))
        return usage_error(ctl, "alloc: bad --order '%s'", order_s);
    if (node_s && parse_int(node_s, &node))
        return usage_error(ctl, "alloc: bad --node '%s'", node_s);
    if (gfp_s && mmsim_client_parse_gfp(gfp_s, &gfp))
        return usage_error(ctl, "alloc: bad --gfp '%s' (see --help)", gfp_s);
    if (count_s && (parse_u32(count_s, &count) || count == 0))
        return usage_error(ctl, "alloc: bad --count '%s'", count_s);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;

    /* Batches of at most the server's max_batch. */
    h = mmsim_client_hello_reply(ctl->c);
    chunk =
        h && h->limits && h->limits->max_batch ? h->limits->max_batch : 1024;
    if (chunk > count)
        chunk = count;
    reqs = calloc(chunk, sizeof(*reqs));
    res = calloc(chunk, sizeof(*res));
    pages = calloc(count, sizeof(*pages));
    free(ctl->pfns);
    ctl->n_pfns = 0;
    ctl->pfns = calloc(count, sizeof(*ctl->pfns));
    if (!reqs || !res || !pages || !ctl->pfns) {
        fprintf(stderr, PROG ": out of memory\n");
        status = EXIT_REFUSED;
        goto out;
    }
    for (size_t i = 0; i < chunk; i++) {
        reqs[i].order = order;
        reqs[i].gfp = gfp;
        reqs[i].node = node;
    }
    while (done < count) {
        size_t n = count - done < chunk ? count - done : chunk;

        if (count == 1) {
            rc = mmsim_client_alloc(ctl->c, order, gfp, node, &res[0].page);
            res[0].status = MMSIM__V1__STATUS__OK;
        } else {
            rc = mmsim_client_alloc_batch(ctl->c, reqs, n, res);
        }
        if (rc < 0) {
            status = report(ctl, rc);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (res[i].status != MMSIM__V1__STATUS__OK) {
                fprintf(stderr, PROG ": %s%s: %s\n", ctl->where,
                        mmsim_client_status_name(res[i].status),
                        res[i].message);
                status = EXIT_REFUSED;
                continue;
            }
            pages[got] = res[i].page;
            ctl->pfns[got++] = res[i].page.pfn;
        }
        done += n;
        /* Out of memory now stays out of memory: stop asking. */
        if (status != EXIT_OK)
            break;
    }
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", status == EXIT_OK);
        json_ku64(&j, "session", mmsim_client_session_id(ctl->c));
        json_key(&j, "pages");
        json_arr_begin(&j);
        for (size_t i = 0; i < got; i++)
            print_page(ctl, &j, &pages[i]);
        json_arr_end(&j);
        json_obj_end(&j);
    } else {
        for (size_t i = 0; i < got; i++)
            print_page(ctl, NULL, &pages[i]);
    }
    if (got && !ctl->in_session)
        fprintf(stderr,
                PROG ": note: these pages belong to this connection's "
                     "session and are freed when " PROG " exits; use '" PROG
                     " session' to keep them across commands\n");
out:
    ctl->n_pfns = got;
    free(reqs);
    free(res);
    free(pages);
    return status;
}

static int cmd_free(struct ctl *ctl, int argc, char **argv)
{
    const char *order_s = NULL, *pos[1];
    const struct opt opts[] = {{"order", true, &order_s}, {NULL, false, NULL}};
    uint32_t order = 0;
    uint64_t pfn;
    int npos, rc;

    rc = scan_args(ctl, "free", argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_u64(pos[0], &pfn))
        return usage_error(ctl, "free: want PFN (a number)");
    if (order_s && parse_u32(order_s, &order))
        return usage_error(ctl, "free: bad --order '%s'", order_s);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_free(ctl->c, pfn, order);
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_ku64(&j, "pfn", pfn);
        json_ku64(&j, "order", order);
        json_obj_end(&j);
    } else {
        printf("OK\n");
    }
    return EXIT_OK;
}

/* hexdump -C, with offsets from the start of the page. */
static void hexdump(const uint8_t *p, size_t n, uint64_t base)
{
    bool starred = false;

    for (size_t i = 0; i < n; i += 16) {
        size_t m = n - i < 16 ? n - i : 16;

        /* Collapse repeats of the previous full line, as hexdump does. */
        if (i && m == 16 && !memcmp(p + i, p + i - 16, 16)) {
            if (!starred)
                printf("*\n");
            starred = true;
            continue;
        }
        starred = false;
        printf("%08" PRIx64 " ", base + i);
        for (size_t k = 0; k < 16; k++) {
            if (k == 8)
                putchar(' ');
            if (k < m)
                printf(" %02x", p[i + k]);
            else
                printf("   ");
        }
        printf("  |");
        for (size_t k = 0; k < m; k++)
            putchar(p[i + k] >= 0x20 && p[i + k] < 0x7f ? p[i + k] : '.');
        printf("|\n");
    }
    printf("%08" PRIx64 "\n", base + n);
}

static int cmd_read(struct ctl *ctl, int argc, char **argv)
{
    const char *off_s = NULL, *len_s = NULL, *raw = NULL, *pos[1];
    const struct opt opts[] = {{"offset", true, &off_s},
                               {"length", true, &len_s},
                               {"raw", false, &raw},
                               {NULL, false, NULL}};
    uint32_t offset = 0, len = 0;
    uint64_t pfn;
    uint8_t *buf;
    size_t got = 0;
    int npos, rc;

    rc = scan_args(ctl, "read", argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_u64(pos[0], &pfn))
        return usage_error(ctl, "read: want PFN (a number)");
    if (off_s && parse_u32(off_s, &offset))
        return usage_error(ctl, "read: bad --offset '%s'", off_s);
    if (len_s && parse_u32(len_s, &len))
        return usage_error(ctl, "read: bad --length '%s'", len_s);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    if (!len_s)
        len = offset < page_size(ctl) ? page_size(ctl) - offset : 0;
    buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_REFUSED;
    }
    rc = mmsim_client_read(ctl->c, pfn, offset, len, buf, &got);
    if (rc) {
        free(buf);
        return report(ctl, rc);
    }
    if (raw) {
        fwrite(buf, 1, got, stdout);
    } else if (ctl->json) {
        struct json j;
        char *hex = malloc(got * 2 + 1);

        if (!hex) {
            free(buf);
            fprintf(stderr, PROG ": out of memory\n");
            return EXIT_REFUSED;
        }
        for (size_t i = 0; i < got; i++)
            snprintf(hex + 2 * i, 3, "%02x", buf[i]);
        hex[2 * got] = '\0';
        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_ku64(&j, "pfn", pfn);
        json_ku64(&j, "offset", offset);
        json_ku64(&j, "length", got);
        json_kstr(&j, "hex", hex);
        json_obj_end(&j);
        free(hex);
    } else {
        hexdump(buf, got, offset);
    }
    free(buf);
    return EXIT_OK;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* "deadbeef", "0xdead beef", "de:ad:be:ef" to bytes. Return: count or -1. */
static long parse_hex(const char *s, uint8_t *out)
{
    long n = 0;
    int hi = -1;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++) {
        int v;

        if (*s == ' ' || *s == ':' || *s == '\t') {
            if (hi >= 0)
                return -1;
            continue;
        }
        v = hexval((unsigned char)*s);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi >= 0 ? -1 : n;
}

/* Read all of @path ("-": stdin) into *data. Return: 0 or -1 (printed). */
static int slurp(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    uint8_t *buf;
    size_t n = 0;

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(WRITE_FILE_MAX + 1);
    if (buf)
        n = fread(buf, 1, WRITE_FILE_MAX + 1, f);
    if (!buf || ferror(f) || n > WRITE_FILE_MAX) {
        fprintf(stderr, PROG ": %s: %s\n", path,
                !buf                 ? "out of memory"
                : n > WRITE_FILE_MAX ? "too large"
                                     : strerror(errno));
        free(buf);
        if (f != stdin)
            fclose(f);
        return -1;
    }
    if (f != stdin)
        fclose(f);
    *data = buf;
    *len = n;
    return 0;
}

static int cmd_write(struct ctl *ctl, int argc, char **argv)
{
    const char *off_s = NULL, *data_s = NULL, *hex_s = NULL, *file_s = NULL;
    const char *pos[1];
    const struct opt opts[] = {{"offset", true, &off_s},
                               {"data", true, &data_s},
                               {"hex", true, &hex_s},
                               {"file", true, &file_s},
                               {NULL, false, NULL}};
    uint32_t offset = 0;
    uint64_t pfn;
    uint8_t *buf = NULL;
    const void *data;
    size_t len = 0;
    int npos, rc;

    rc = scan_args(ctl, "write", argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_u64(pos[0], &pfn))
        return usage_error(ctl, "write: want PFN (a number)");
    if (off_s && parse_u32(off_s, &offset))
        return usage_error(ctl, "write: bad --offset '%s'", off_s);
    if (!!data_s + !!hex_s + !!file_s != 1)
        return usage_error(ctl,
                           "write: want exactly one of --data, --hex, --file");
    if (file_s && !strcmp(file_s, "-") && ctl->in_session)
        return usage_error(ctl, "write: --file - cannot read stdin in a "
                                "session (stdin is the script)");
    if (hex_s) {
        long n;

        buf = malloc(strlen(hex_s) / 2 + 1);
        if (!buf)
            return usage_error(ctl, "out of memory");
        n = parse_hex(hex_s, buf);
        if (n < 0) {
            free(buf);
            return usage_error(ctl, "write: bad --hex '%s'", hex_s);
        }
        len = (size_t)n;
        data = buf;
    } else if (file_s) {
        if (slurp(file_s, &buf, &len))
            return EXIT_USAGE;
        data = buf;
    } else {
        data = data_s;
        len = strlen(data_s);
    }
    rc = ensure_connected(ctl);
    if (rc) {
        free(buf);
        return rc;
    }
    rc = mmsim_client_write(ctl->c, pfn, offset, data, len);
    free(buf);
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_ku64(&j, "pfn", pfn);
        json_ku64(&j, "offset", offset);
        json_ku64(&j, "bytes", len);
        json_obj_end(&j);
    } else {
        printf("OK, wrote %zu bytes\n", len);
    }
    return EXIT_OK;
}

static int cmd_session(struct ctl *ctl, int argc, char **argv);
static int cmd_help(struct ctl *ctl, int argc, char **argv);

static const struct cmd commands[] = {
    {"ping", cmd_ping, "ping [MESSAGE]"},
    {"buddyinfo", cmd_buddyinfo, "buddyinfo"},
    {"zoneinfo", cmd_zoneinfo, "zoneinfo"},
    {"vmstat", cmd_vmstat, "vmstat"},
    {"memblock", cmd_memblock, "memblock [memory|reserved]"},
    {"bootlog", cmd_bootlog, "bootlog"},
    {"check", cmd_check, "check [--full]"},
    {"machine", cmd_machine, "machine"},
    {"alloc", cmd_alloc,
     "alloc [--order N] [--node N] [--gfp FLAGS] [--count N]"},
    {"free", cmd_free, "free PFN [--order N]"},
    {"read", cmd_read, "read PFN [--offset N] [--length N] [--raw]"},
    {"write", cmd_write,
     "write PFN [--offset N] (--data STRING | --hex HEX | --file FILE)"},
    {"session", cmd_session, "session [-e|--exit-on-error]"},
    {"help", cmd_help, "help [COMMAND]"},
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NR_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
    const struct cmd *cmd;

    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    cmd = find_cmd(argv[1]);
    if (!cmd)
        return usage_error(ctl, "unknown command '%s'", argv[1]);
    printf("Usage: " PROG " [OPTIONS] %s\n(see " PROG " --help)\n", cmd->usage);
    return EXIT_OK;
}

static int run_command(struct ctl *ctl, int argc, char **argv)
{
    const struct cmd *cmd = find_cmd(argv[0]);

    if (!cmd)
        return usage_error(ctl, "unknown command '%s'", argv[0]);
    if (wants_help(argc, argv)) {
        printf("Usage: " PROG " [OPTIONS] %s\n(see " PROG " --help)\n",
               cmd->usage);
        return EXIT_OK;
    }
    return cmd->fn(ctl, argc, argv);
}

/* ---- session */

/*
 * Split @line in place into words: blanks separate, 'single' quotes are
 * literal, "double" quotes honour \" and \\, a backslash outside quotes
 * escapes the next character. Return: word count, or -1 (bad quoting or
 * too many words). *@quoted[i] says whether word i had any quoting (such
 * words are never $-expanded).
 */
static int split_line(char *line, char **argv, bool *quoted, int max)
{
    char *r = line, *w = line;
    int argc = 0;

    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
            r++;
        if (!*r)
            break;
        if (argc == max)
            return -1;
        argv[argc] = w;
        quoted[argc] = false;
        while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') {
            if (*r == '\'') {
                quoted[argc] = true;
                for (r++; *r && *r != '\''; r++)
                    *w++ = *r;
                if (!*r)
                    return -1;
                r++;
            } else if (*r == '"') {
                quoted[argc] = true;
                for (r++; *r && *r != '"'; r++) {
                    if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
                        r++;
                    *w++ = *r;
                }
                if (!*r)
                    return -1;
                r++;
            } else if (*r == '\\' && r[1]) {
                quoted[argc] = true;
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
        argc++;
    }
    return argc;
}

/* $PFN, $PFN<i>, optionally "+N", as whole words. Return: 0, or -1
 * (printed). */
static int expand_word(struct ctl *ctl, char **word, char *store,
                       size_t storelen)
{
    const char *w = *word;
    uint64_t idx = 0, add = 0;
    char num[24];
    size_t n;

    if (strncmp(w, "$PFN", 4) != 0)
        return 0;
    n = strcspn(w + 4, "+");
    if (n >= sizeof(num))
        goto bad;
    memcpy(num, w + 4, n);
    num[n] = '\0';
    if ((n && parse_u64(num, &idx)) || (w[4 + n] && parse_u64(w + 5 + n, &add)))
        goto bad;
    if (idx >= ctl->n_pfns) {
        fprintf(stderr, PROG ": %s%s: the latest alloc gave %zu block(s)\n",
                ctl->where, w, ctl->n_pfns);
        return -1;
    }
    snprintf(store, storelen, "%#" PRIx64, ctl->pfns[idx] + add);
    *word = store;
    return 0;

bad:
    fprintf(stderr,
            PROG ": %sunknown variable '%s' (want $PFN, $PFN<i>, "
                 "optionally +N)\n",
            ctl->where, w);
    return -1;
}

static int cmd_session(struct ctl *ctl, int argc, char **argv)
{
    const char *exit_on_error = NULL;
    const struct opt opts[] = {{"exit-on-error", false, &exit_on_error},
                               {NULL, false, NULL}};
    char *line = NULL;
    size_t cap = 0;
    int npos, rc, last_fail = EXIT_OK;
    bool tty = isatty(STDIN_FILENO), json = ctl->json;
    unsigned lineno = 0;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-e"))
            argv[i] = "--exit-on-error";
    if (ctl->in_session)
        return usage_error(ctl, "session: already in a session");
    rc = scan_args(ctl, "session", argc, argv, opts, NULL, 0, &npos);
    if (rc)
        return rc;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    ctl->in_session = true;
    if (tty)
        printf("connected, session %" PRIu64 "; commands as for " PROG
               ", 'quit' ends\n",
               mmsim_client_session_id(ctl->c));
    for (;;) {
        char *words[SESSION_MAX_ARGS];
        bool quoted[SESSION_MAX_ARGS];
        char store[SESSION_MAX_ARGS][24];
        int n;

        if (tty) {
            printf("mmsim> ");
            fflush(stdout);
        }
        if (getline(&line, &cap, stdin) < 0)
            break;
        lineno++;
        snprintf(ctl->where, sizeof(ctl->where), "line %u: ", lineno);
        n = split_line(line, words, quoted, SESSION_MAX_ARGS);
        if (n < 0) {
            rc = usage_error(ctl, "unbalanced quotes or too many words");
        } else if (n == 0 || words[0][0] == '#') {
            continue;
        } else if (!strcmp(words[0], "quit") || !strcmp(words[0], "exit")) {
            break;
        } else {
            rc = EXIT_OK;
            for (int i = 0; i < n && rc == EXIT_OK; i++)
                if (!quoted[i] &&
                    expand_word(ctl, &words[i], store[i], sizeof(store[i])))
                    rc = EXIT_USAGE;
            if (rc == EXIT_OK)
                rc = run_command(ctl, n, words);
            ctl->json = json; /* a --json on one line is for that line */
        }
        fflush(stdout);
        if (rc != EXIT_OK) {
            last_fail = rc;
            /* A dead connection ends the session: its pages are gone. */
            if (rc == EXIT_CONNECT || exit_on_error)
                break;
        }
    }
    free(line);
    ctl->in_session = false;
    ctl->where[0] = '\0';
    return last_fail;
}

/* ---- main */

static int read_token_file(struct ctl *ctl, const char *path)
{
    uint8_t *data;
    size_t len;

    if (slurp(path, &data, &len))
        return -1;
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    ctl->token = data;
    ctl->opts.token = data;
    ctl->opts.token_len = len;
    return 0;
}

static int parse_timeout(const char *s, int *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !(v > 0) || v > 86400)
        return -1;
    *ms = (int)(v * 1000 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_TOKEN_FILE = 256, OPT_JSON, OPT_TIMEOUT, OPT_VERSION };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"address", required_argument, NULL, 'a'},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    struct ctl ctl;
    int opt, rc, ms;

    memset(&ctl, 0, sizeof(ctl));
    mmsim_client_opts_init(&ctl.opts);
    ctl.opts.client_name = PROG;
    ctl.opts.connect_timeout_ms = 5000;
    ctl.opts.timeout_ms = 30000;
    while ((opt = getopt_long(argc, argv, "+s:a:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (!strchr(optarg, '/')) {
                snprintf(ctl.addr_buf, sizeof(ctl.addr_buf), "unix:%s", optarg);
                ctl.addr = ctl.addr_buf;
            } else {
                ctl.addr = optarg;
            }
            break;
        case 'a':
            if (strchr(optarg, '/'))
                return usage_error(&ctl, "--address wants HOST:PORT; use "
                                         "--socket for a path");
            ctl.addr = optarg;
            break;
        case OPT_TOKEN_FILE:
            free(ctl.token);
            if (read_token_file(&ctl, optarg))
                return EXIT_USAGE;
            break;
        case OPT_JSON:
            ctl.json = true;
            break;
        case OPT_TIMEOUT:
            if (parse_timeout(optarg, &ms))
                return usage_error(&ctl, "bad --timeout '%s' (seconds)",
                                   optarg);
            ctl.opts.connect_timeout_ms = ms;
            ctl.opts.timeout_ms = ms;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case OPT_VERSION:
            printf(PROG " %s (protocol %d)\n", MMSIM_VERSION,
                   MMSIM_PROTOCOL_VERSION);
            return EXIT_OK;
        default:
            fputs("Try '" PROG " --help'.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    rc = run_command(&ctl, argc - optind, argv + optind);
    if (fflush(stdout) && rc == EXIT_OK) {
        fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
        rc = EXIT_REFUSED;
    }
    mmsim_client_close(ctl.c);
    free(ctl.pfns);
    free(ctl.token);
    return rc;
}
