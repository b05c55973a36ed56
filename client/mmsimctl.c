// SPDX-License-Identifier: MIT
/*
 * mmsimctl - talk to mmsimd from the shell, in the spirit of redis-cli.
 *
 * One invocation is one connection, hence one server session: pages,
 * mappings and vmalloc areas made by `mmsimctl alloc`, `mmap` or
 * `vmalloc` are freed when mmsimctl exits. `mmsimctl script FILE` and
 * `mmsimctl session` run commands, one per line, over one connection, so
 * they live across commands; addresses they return go into variables
 * ($1, $2, ... or `name = mmap 16`).
 *
 * Output is the kernel's text by default and one JSON document per
 * command with --json. Exit status: 0 ok, 1 the server said no, 2 usage,
 * 3 cannot connect (or the connection was lost).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
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
/* Longest variable name in a session. */
#define VAR_NAME_MAX 63

/* A session variable: `name = mmap 16` sets it, $name reads it. */
struct var {
    char name[VAR_NAME_MAX + 1];
    uint64_t value;
};

struct ctl {
    const char *addr;
    struct mmsim_client_opts opts;
    uint8_t *token; /* from --token-file */
    struct mmsim_client *c;
    bool json;
    bool in_session;
    bool stdin_is_script; /* "--file -" and "@-" cannot read stdin */
    unsigned lineno;      /* of the session line running, else 0 */
    char where[320];      /* "line N: " in a session, else "" */
    /* The blocks of the latest alloc, for $PFN / $PFN<i> in a session. */
    uint64_t *pfns;
    size_t n_pfns;
    /* What the command that ran returned (mmap, vmalloc, alloc). */
    bool has_result;
    uint64_t result;
    /* Every result of the session so far: $1, $2, ... */
    uint64_t *results;
    size_t n_results;
    struct var *vars;
    size_t n_vars;
    int stop_signal; /* SIGINT/SIGTERM that ended vmstat --watch, or 0 */
    char addr_buf[512];
};

/* ---- Help */

static void usage(FILE *f)
{
    fputs(
        "Usage: " PROG " [OPTIONS] COMMAND [ARGS]\n"
        "       " PROG " [OPTIONS] script FILE|-\n"
        "       " PROG " [OPTIONS] session < SCRIPT\n"
        "\n"
        "Talk to mmsimd, the mmsim daemon: allocate and free pages of its\n"
        "simulated NUMA machine, map and touch anonymous memory, make vmalloc\n"
        "areas, drive reclaim, and read the kernel's views of it.\n"
        "\n"
        "Options:\n"
        "  -s, --socket PATH      connect to the Unix socket PATH\n"
        "  -a, --address HOST:PORT\n"
        "                         connect over TCP (IPv6: [ADDR]:PORT)\n"
        "                         Default: $MMSIM_ADDRESS (HOST:PORT or a "
        "path),\n"
        "                         else the daemon's Unix socket if it exists\n"
        "                         ($XDG_RUNTIME_DIR/mmsimd.sock, or\n"
        "                         /tmp/mmsimd-UID.sock without "
        "XDG_RUNTIME_DIR),\n"
        "                         else " MMSIM_CLIENT_DEFAULT_TCP "\n"
        "      --token-file FILE  send the token in FILE (a trailing newline "
        "is\n"
        "                         dropped); default: $MMSIM_TOKEN\n"
        "      --json             print one JSON document per command instead "
        "of\n"
        "                         the kernel's text (errors too, as\n"
        "                         "
        "{\"ok\":false,\"status\":...,\"message\":...});\n"
        "                         also accepted after COMMAND\n"
        "      --timeout SECONDS  give up on connecting, or on an answer, "
        "after\n"
        "                         SECONDS (default 5 to connect, 30 per "
        "command)\n"
        "  -h, --help             show this help\n"
        "      --version          show the version\n"
        "\n"
        "The server and its machine:\n"
        "  ping [MESSAGE]         check the server answers (prints PONG, or "
        "MESSAGE)\n"
        "  buddyinfo              /proc/buddyinfo\n"
        "  zoneinfo               /proc/zoneinfo\n"
        "  vmstat                 /proc/vmstat\n"
        "  vmstat --watch[=SECONDS] [--count N]\n"
        "  vmstat SECONDS [COUNT]\n"
        "                         as vmstat(8): a header, then one line every\n"
        "                         SECONDS (default 1; fractions too) until "
        "COUNT\n"
        "                         lines, or SIGINT or SIGTERM (exit status "
        "0).\n"
        "                         Columns: free and anonymous pages\n"
        "                         (nr_free_pages, nr_anon_pages) and, since "
        "the\n"
        "                         line before, pgfault, pgmajfault, pswpin,\n"
        "                         pswpout, pgscan_kswapd, pgscan_direct,\n"
        "                         pgsteal_kswapd, pgsteal_direct, "
        "allocstall_*\n"
        "                         (summed) and oom_kill; the first line "
        "counts\n"
        "                         since boot. With --json, one object per "
        "line:\n"
        "                         \"sample\", \"elapsed_ms\" and those "
        "counters by\n"
        "                         name, each allocstall_<zone> on its own\n"
        "  memblock [memory|reserved]\n"
        "                         /sys/kernel/debug/memblock/* (default "
        "memory)\n"
        "  bootlog                the boot messages, as dmesg shows them\n"
        "  vmallocinfo            /proc/vmallocinfo\n"
        "  swaps                  /proc/swaps\n"
        "  meminfo                /proc/meminfo\n"
        "  machine                nodes, CPUs, distances, memory ranges, "
        "zones\n"
        "  check [--full]         run the invariant checker (--full also "
        "walks\n"
        "                         every page frame); exit 1 if it finds a "
        "problem\n"
        "\n"
        "Pages:\n"
        "  alloc [--order N] [--node N] [--gfp FLAGS] [--count N]\n"
        "                         allocate COUNT blocks of 2^N pages (default\n"
        "                         order 0, the session CPU's node, "
        "GFP_KERNEL).\n"
        "                         FLAGS: names joined by '|' (GFP_KERNEL,\n"
        "                         GFP_ATOMIC, GFP_NOWAIT, GFP_USER, "
        "GFP_HIGHUSER,\n"
        "                         GFP_HIGHUSER_MOVABLE, GFP_DMA, GFP_DMA32,\n"
        "                         __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32,\n"
        "                         __GFP_MOVABLE, __GFP_HIGH, __GFP_RECLAIM,\n"
        "                         __GFP_KSWAPD_RECLAIM, __GFP_DIRECT_RECLAIM,\n"
        "                         __GFP_ZERO, __GFP_THISNODE, __GFP_NOWARN,\n"
        "                         __GFP_NORETRY, __GFP_NOFAIL, "
        "__GFP_NOMEMALLOC;\n"
        "                         any case, \"__\" optional) or a number "
        "(0x140)\n"
        "  free PFN [--order N]   free the block at PFN (default order 0)\n"
        "  read PFN [--offset N] [--length N] [--raw]\n"
        "                         read page contents (default: to the end of "
        "the\n"
        "                         page) as a hex dump, or raw bytes with "
        "--raw\n"
        "  write PFN [--offset N] (--data STRING | --hex HEX | --file FILE)\n"
        "                         write page contents (--file - reads stdin)\n"
        "\n"
        "The session's address space and vmalloc areas:\n"
        "  mmap PAGES [--node N]  map PAGES pages of anonymous memory, faulted "
        "in\n"
        "                         when first touched; prints \"addr ADDR pages "
        "N\"\n"
        "  munmap ADDR PAGES      unmap PAGES pages from ADDR, as munmap(2)\n"
        "  mread ADDR LEN [--text|--raw]\n"
        "                         read LEN bytes at ADDR: a hex dump, text (up "
        "to\n"
        "                         the first NUL byte, other bytes as C "
        "escapes) or\n"
        "                         raw bytes\n"
        "  mwrite ADDR OFFSET (TEXT | @FILE | --hex HEX)\n"
        "                         write TEXT, the bytes of FILE (@-: stdin) or "
        "HEX\n"
        "                         at ADDR+OFFSET\n"
        "  mmstat                 the session's memory in pages: total_vm, "
        "rss,\n"
        "                         swapents, nr_regions, minflt, majflt, "
        "extra,\n"
        "                         block_pages, vmalloc_pages, vmalloc_areas,\n"
        "                         oom_killed\n"
        "  vmalloc SIZE [--node N]\n"
        "                         a vmalloc area of SIZE bytes (K, M, G: KiB, "
        "MiB,\n"
        "                         GiB), rounded up to pages; prints\n"
        "                         \"addr ADDR size BYTES\"\n"
        "  vfree ADDR             free the vmalloc area that starts at ADDR\n"
        "  vread ADDR LEN [--text|--raw]\n"
        "  vwrite ADDR OFFSET (TEXT | @FILE | --hex HEX)\n"
        "                         as mread and mwrite, within one vmalloc "
        "area\n"
        "  reclaim [--node N] [--steps N] [--balance] [--kswapd]\n"
        "                         reclaim now, in the server thread of this\n"
        "                         session: STEPS shrink_node() passes per "
        "node\n"
        "                         (default 1, at most 1024; every node unless\n"
        "                         --node), or balance_pgdat(); --kswapd counts "
        "it\n"
        "                         as kswapd's\n"
        "\n"
        "Scripts:\n"
        "  script FILE|-          run the commands of FILE (-: stdin), one "
        "per\n"
        "                         line, over one connection; stops at the "
        "first\n"
        "                         failing line, with its exit status\n"
        "  session [-e]           the same from stdin, but a failing line is\n"
        "                         reported and the session goes on (-e: stops\n"
        "                         there); the exit status is that of the last\n"
        "                         failing line. A prompt when stdin is a "
        "terminal\n"
        "  help [COMMAND]         this help\n"
        "\n"
        "Numbers may be decimal or 0x-hex. COMMAND --help shows one command.\n"
        "\n"
        "Pages belong to the connection's session, and so do mappings and\n"
        "vmalloc areas: the server frees them when the connection closes. "
        "What\n"
        "`" PROG " alloc`, `mmap` or `vmalloc` makes is gone as soon as " PROG
        "\n"
        "exits, and the other commands work only on what the same session "
        "made.\n"
        "To keep them across commands, run a script:\n"
        "\n"
        "  " PROG " script - <<'END'\n"
        "  buf = mmap 16\n"
        "  mwrite $buf 100 \"hello, world\"\n"
        "  mread $buf+100 12 --text\n"
        "  munmap $buf 16\n"
        "  END\n"
        "\n"
        "In a script, words split on blanks with 'single' and \"double\" "
        "quotes,\n"
        "and a '#' that starts a word starts a comment. `NAME = COMMAND ...` "
        "keeps what alloc (its\n"
        "first pfn), mmap or vmalloc returned in $NAME; every such result is "
        "also\n"
        "numbered $1, $2, ... in order. $PFN is the first block of the latest\n"
        "alloc, and $PFN0, $PFN1, ... each of its blocks (with --count). Any\n"
        "variable may be followed by +N: $buf+4096, $PFN+3. Variables are "
        "whole\n"
        "words: quote a literal '$'. quit or EOF ends the script. Errors name "
        "the\n"
        "line: \"" PROG
        ": FILE: line 3: ...\", and {\"ok\":false,...,\"line\":3}\n"
        "with --json, where addresses are \"0x...\" strings.\n"
        "\n"
        "Exit status: 0 ok, 1 the server said no (printed as\n"
        "\"" PROG
        ": STATUS: message\"), 2 usage error, 3 cannot connect or the\n"
        "connection was lost; 128 + the signal for a script or session that\n"
        "SIGINT or SIGTERM ended during vmstat --watch.\n",
        f);
}

/* ---- Errors */

/* With --json, an error as {"ok":false,"status":...,"message":...}, and
 * in a session the line it happened on. */
static void json_error(struct ctl *ctl, const char *status, const char *msg)
{
    struct json j;

    if (!ctl->json)
        return;
    json_init(&j, stdout);
    json_obj_begin(&j);
    json_kbool(&j, "ok", false);
    json_kstr(&j, "status", status);
    json_kstr(&j, "message", msg);
    if (ctl->lineno)
        json_ku64(&j, "line", ctl->lineno);
    json_obj_end(&j);
}

__attribute__((format(printf, 2, 3))) static int
usage_error(struct ctl *ctl, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, PROG ": %s%s\n", ctl->where, msg);
    if (!ctl->in_session)
        fputs("Try '" PROG " --help'.\n", stderr);
    json_error(ctl, "USAGE", msg);
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
    json_error(ctl,
               status                 ? status
               : code == EXIT_CONNECT ? "TRANSPORT"
                                      : "CLIENT",
               mmsim_client_message(ctl->c));
    return code;
}

/* What the command returned (an address or pfn), for $N and `name = ...`
 * in a session. */
static void set_result(struct ctl *ctl, uint64_t v)
{
    ctl->has_result = true;
    ctl->result = v;
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
/* opt.has_arg: a flag, a value, or "--name[=VALUE]" ("" without). */
enum { OPT_FLAG = 0, OPT_VALUE = 1, OPT_OPTIONAL = 2 };

struct opt {
    const char *name;   /* without "--" */
    int has_arg;        /* OPT_FLAG, OPT_VALUE (or true), OPT_OPTIONAL */
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
        if (o->has_arg == OPT_FLAG) {
            if (eq)
                return usage_error(ctl, "%s: --%s takes no value", cmd,
                                   o->name);
            *o->value = "1";
        } else if (eq) {
            *o->value = eq + 1;
        } else if (o->has_arg == OPT_OPTIONAL) {
            *o->value = "";
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
    json_error(ctl, rc == MMSIM_CLIENT_ESTATUS ? "REFUSED" : "TRANSPORT", err);
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
    bool returns; /* an address or pfn, for `name = COMMAND` */
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

/* ---- vmstat --watch: one line per interval, like vmstat(8) */

/*
 * The columns: the gauges (free and anonymous pages) as they are, the
 * event counters as the change since the previous line (the first line:
 * since boot, as vmstat(8)'s first line). "allocstall" sums the
 * allocstall_<zone> counters.
 */
static const struct watch_col {
    const char *counter;
    const char *head;
    int width;
    bool gauge;
} watch_cols[] = {
    {"nr_free_pages", "free", 8, true},
    {"nr_anon_pages", "anon", 8, true},
    {"pgfault", "pgfault", 8, false},
    {"pgmajfault", "majflt", 6, false},
    {"pswpin", "pswpin", 7, false},
    {"pswpout", "pswpout", 7, false},
    {"pgscan_kswapd", "kswapd", 7, false},
    {"pgscan_direct", "direct", 7, false},
    {"pgsteal_kswapd", "kswapd", 7, false},
    {"pgsteal_direct", "direct", 7, false},
    {"allocstall", "stall", 5, false},
    {"oom_kill", "oom", 3, false},
};

#define NR_WATCH_COLS (sizeof(watch_cols) / sizeof(watch_cols[0]))

/* Groups of columns for the first header line. */
static const struct {
    const char *label;
    unsigned ncols;
} watch_groups[] = {
    {"memory", 2}, {"faults", 2}, {"swap", 2}, {"scanned", 2}, {"stolen", 2}};

static bool is_allocstall(const char *name)
{
    return !strncmp(name, "allocstall", 10) &&
           (name[10] == '\0' || name[10] == '_');
}

/* Whether vmstat --watch --json shows this counter. */
static bool watch_counter(const char *name)
{
    if (is_allocstall(name))
        return true;
    for (size_t i = 0; i < NR_WATCH_COLS; i++)
        if (!strcmp(watch_cols[i].counter, name))
            return true;
    return false;
}

/* The counter @name of @v (allocstall: the sum of allocstall_*); 0 if
 * @v is NULL or lacks it. */
static uint64_t counter_value(const Mmsim__V1__ViewReply *v, const char *name)
{
    bool sum = !strcmp(name, "allocstall");
    uint64_t total = 0;

    for (size_t i = 0; v && i < v->n_counters; i++) {
        const char *n = v->counters[i]->name ? v->counters[i]->name : "";

        if (sum ? is_allocstall(n) : !strcmp(n, name))
            total += v->counters[i]->value;
    }
    return total;
}

static uint64_t counter_delta(const Mmsim__V1__ViewReply *cur,
                              const Mmsim__V1__ViewReply *prev,
                              const char *name, bool gauge)
{
    uint64_t now = counter_value(cur, name), then;

    if (gauge || !prev)
        return now;
    then = counter_value(prev, name);
    return now >= then ? now - then : now; /* a restarted server */
}

static void watch_header(void)
{
    size_t col = 0;

    for (size_t g = 0; g < sizeof(watch_groups) / sizeof(watch_groups[0]);
         g++) {
        int width = -1, len = (int)strlen(watch_groups[g].label), left;

        for (unsigned k = 0; k < watch_groups[g].ncols; k++)
            width += 1 + watch_cols[col++].width;
        left = (width - len - 2) / 2;
        printf("%s", g ? " " : "");
        for (int k = 0; k < width; k++) {
            if (k == left || k == left + len + 1)
                putchar(' ');
            else if (k > left && k <= left + len)
                putchar(watch_groups[g].label[k - left - 1]);
            else
                putchar('-');
        }
    }
    putchar('\n');
    for (size_t i = 0; i < NR_WATCH_COLS; i++)
        printf("%s%*s", i ? " " : "", watch_cols[i].width, watch_cols[i].head);
    putchar('\n');
}

static void watch_line(struct ctl *ctl, const Mmsim__V1__ViewReply *cur,
                       const Mmsim__V1__ViewReply *prev, uint64_t sample,
                       int64_t elapsed_us)
{
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_ku64(&j, "sample", sample);
        json_ki64(&j, "elapsed_ms", elapsed_us / 1000);
        for (size_t i = 0; i < cur->n_counters; i++) {
            const char *n = cur->counters[i]->name;

            if (n && watch_counter(n))
                json_ku64(&j, n,
                          counter_delta(cur, prev, n, !strncmp(n, "nr_", 3)));
        }
        json_obj_end(&j);
        return;
    }
    for (size_t i = 0; i < NR_WATCH_COLS; i++)
        printf("%s%*" PRIu64, i ? " " : "", watch_cols[i].width,
               counter_delta(cur, prev, watch_cols[i].counter,
                             watch_cols[i].gauge));
    putchar('\n');
}

/*
 * Wait until @until (usec_now() time) or a signal of @sigs. Pings the
 * server meanwhile when the wait is longer than half its idle timeout.
 * Return: 0, or the exit status of a failed ping (printed).
 */
static int watch_wait(struct ctl *ctl, const sigset_t *sigs, int64_t until)
{
    const Mmsim__V1__HelloReply *h = mmsim_client_hello_reply(ctl->c);
    int64_t idle =
        h && h->limits ? (int64_t)h->limits->idle_timeout_ms * 1000 / 2 : 0;

    for (;;) {
        int64_t now = usec_now(), stop = until;
        struct timespec ts;
        int sig, rc;

        if (now >= until)
            return 0;
        if (idle > 0 && stop - now > idle)
            stop = now + idle;
        ts.tv_sec = (time_t)((stop - now) / 1000000);
        ts.tv_nsec = (long)((stop - now) % 1000000 * 1000);
        sig = sigtimedwait(sigs, NULL, &ts);
        if (sig > 0) {
            ctl->stop_signal = sig;
            return 0;
        }
        if (stop < until && usec_now() >= stop) {
            rc = mmsim_client_ping(ctl->c, NULL, 0);
            if (rc)
                return report(ctl, rc);
        }
    }
}

/* A signal of @sigs already pending? Takes it. */
static bool watch_stopped(struct ctl *ctl, const sigset_t *sigs)
{
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(sigs, NULL, &zero);

    if (sig > 0)
        ctl->stop_signal = sig;
    return ctl->stop_signal != 0;
}

static int vmstat_watch(struct ctl *ctl, int64_t interval_us, uint64_t count)
{
    Mmsim__V1__ViewReply *cur = NULL, *prev = NULL;
    sigset_t sigs, old;
    int64_t start;
    uint64_t i;
    int rc;

    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    /*
     * SIGINT and SIGTERM end the watch cleanly: they are blocked and
     * taken with sigtimedwait() between samples, never mid-request.
     */
    sigemptyset(&sigs);
    for (int k = 0; k < 2; k++) {
        int sig = k ? SIGTERM : SIGINT;
        struct sigaction sa;

        /* A signal the caller ignores (nohup, a background job) stays
         * ignored. */
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
            sigaddset(&sigs, sig);
    }
    sigprocmask(SIG_BLOCK, &sigs, &old);
    ctl->stop_signal = 0;
    if (!ctl->json) {
        watch_header();
        fflush(stdout);
    }
    start = usec_now();
    for (i = 0; !count || i < count; i++) {
        if (i) {
            rc = watch_wait(ctl, &sigs, start + (int64_t)i * interval_us);
            if (rc || ctl->stop_signal)
                break;
        }
        rc =
            mmsim_client_view(ctl->c, MMSIM__V1__VIEW_KIND__VMSTAT, NULL, &cur);
        if (rc) {
            rc = report(ctl, rc);
            break;
        }
        watch_line(ctl, cur, prev, i, usec_now() - start);
        mmsim_client_pb_free(prev);
        prev = cur;
        cur = NULL;
        if (fflush(stdout) || watch_stopped(ctl, &sigs))
            break;
    }
    mmsim_client_pb_free(prev);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Seconds (a decimal fraction, > 0, at most a day) to microseconds. */
static int parse_seconds(const char *s, int64_t *us)
{
    char *end;
    double v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !(v > 0) || v > 86400)
        return -1;
    *us = (int64_t)(v * 1e6 + 0.5);
    if (*us < 1000)
        *us = 1000;
    return 0;
}

static int cmd_vmstat(struct ctl *ctl, int argc, char **argv)
{
    const char *watch = NULL, *count_s = NULL, *pos[2];
    const struct opt opts[] = {{"watch", OPT_OPTIONAL, &watch},
                               {"count", OPT_VALUE, &count_s},
                               {NULL, OPT_FLAG, NULL}};
    const char *secs = NULL;
    int64_t interval = 1000000;
    uint64_t count = 0;
    int npos, rc;

    rc = scan_args(ctl, "vmstat", argc, argv, opts, pos, 2, &npos);
    if (rc)
        return rc;
    /* vmstat --watch=2, vmstat --watch 2, vmstat 2 [COUNT] */
    if (watch && *watch) {
        secs = watch;
        if (npos > 1)
            return usage_error(ctl, "vmstat: unexpected argument '%s'", pos[1]);
        if (npos && count_s)
            return usage_error(ctl, "vmstat: COUNT given twice");
        if (npos)
            count_s = pos[0];
    } else {
        secs = npos ? pos[0] : NULL;
        if (npos > 1 && count_s)
            return usage_error(ctl, "vmstat: COUNT given twice");
        if (npos > 1)
            count_s = pos[1];
    }
    if (!watch && !secs && !count_s)
        return show_view(ctl, MMSIM__V1__VIEW_KIND__VMSTAT, NULL);
    if (secs && parse_seconds(secs, &interval))
        return usage_error(ctl,
                           "vmstat: bad interval '%s' (seconds, more than 0, "
                           "at most 86400)",
                           secs);
    if (count_s && (parse_u64(count_s, &count) || count == 0))
        return usage_error(ctl, "vmstat: bad count '%s' (1 or more)", count_s);
    return vmstat_watch(ctl, interval, count);
}

static int cmd_bootlog(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "bootlog", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__BOOTLOG, NULL);
}

static int cmd_vmallocinfo(struct ctl *ctl, int argc, char **argv)
{
    int npos,
        rc = scan_args(ctl, "vmallocinfo", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__VMALLOCINFO, NULL);
}

static int cmd_swaps(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "swaps", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__SWAPS, NULL);
}

static int cmd_meminfo(struct ctl *ctl, int argc, char **argv)
{
    int npos, rc = scan_args(ctl, "meminfo", argc, argv, NULL, NULL, 0, &npos);

    return rc ? rc : show_view(ctl, MMSIM__V1__VIEW_KIND__MEMINFO, NULL);
}

static int cmd_reclaim(struct ctl *ctl, int argc, char **argv)
{
    const char *node_s = NULL, *steps_s = NULL, *balance = NULL, *kswapd = NULL;
    const struct opt opts[] = {{"node", true, &node_s},
                               {"steps", true, &steps_s},
                               {"balance", false, &balance},
                               {"kswapd", false, &kswapd},
                               {NULL, false, NULL}};
    struct mmsim_client_reclaim res;
    unsigned flags = 0;
    uint32_t steps = 1;
    int node = MMSIM_CLIENT_ANY_NODE, npos, rc;

    rc = scan_args(ctl, "reclaim", argc, argv, opts, NULL, 0, &npos);
    if (rc)
        return rc;
    if (node_s && parse_int(node_s, &node))
        return usage_error(ctl, "reclaim: bad --node '%s'", node_s);
    if (steps_s && parse_u32(steps_s, &steps))
        return usage_error(ctl, "reclaim: bad --steps '%s'", steps_s);
    if (balance)
        flags |= MMSIM_CLIENT_RECLAIM_BALANCE;
    if (kswapd)
        flags |= MMSIM_CLIENT_RECLAIM_KSWAPD;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_reclaim(ctl->c, node, steps, flags, &res);
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        if (!balance) {
            json_ku64(&j, "scanned", res.scanned);
            json_ku64(&j, "activated", res.activated);
            json_ku64(&j, "deactivated", res.deactivated);
            json_ku64(&j, "kept", res.kept);
        }
        json_ku64(&j, "reclaimed", res.reclaimed);
        json_kbool(&j, "balanced", res.balanced);
        json_obj_end(&j);
    } else if (balance) {
        printf("reclaimed %" PRIu64 " pages; %s\n", res.reclaimed,
               res.balanced ? "balanced" : "not balanced");
    } else {
        printf("scanned %" PRIu64 ", reclaimed %" PRIu64 ", activated %" PRIu64
               ", deactivated %" PRIu64 ", kept %" PRIu64 "; %s\n",
               res.scanned, res.reclaimed, res.activated, res.deactivated,
               res.kept, res.balanced ? "balanced" : "not balanced");
    }
    return EXIT_OK;
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
                     " script' to keep them across commands\n");
out:
    ctl->n_pfns = got;
    if (status == EXIT_OK && got)
        set_result(ctl, ctl->pfns[0]);
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

/* A file that cannot be read: printed (and as JSON). */
static void file_error(struct ctl *ctl, const char *path, const char *why)
{
    char msg[1024];

    snprintf(msg, sizeof(msg), "%s: %s", path, why);
    fprintf(stderr, PROG ": %s%s\n", ctl->where, msg);
    json_error(ctl, "USAGE", msg);
}

/* Read all of @path ("-": stdin) into *data. Return: 0 or -1 (printed). */
static int slurp(struct ctl *ctl, const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    uint8_t *buf;
    size_t n = 0;

    if (!f) {
        file_error(ctl, path, strerror(errno));
        return -1;
    }
    buf = malloc(WRITE_FILE_MAX + 1);
    if (buf)
        n = fread(buf, 1, WRITE_FILE_MAX + 1, f);
    if (!buf || ferror(f) || n > WRITE_FILE_MAX) {
        file_error(ctl, path,
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
    if (file_s && !strcmp(file_s, "-") && ctl->stdin_is_script)
        return usage_error(ctl, "write: --file - cannot read stdin here "
                                "(stdin is the script)");
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
        if (slurp(ctl, file_s, &buf, &len))
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

/* ---- The session's address space and vmalloc areas */

/* Addresses go into JSON as "0x..." strings: they exceed 2^53. */
static void json_kaddr(struct json *j, const char *key, uint64_t addr)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%#" PRIx64, addr);
    json_kstr(j, key, buf);
}

/* A one-shot mapping or area dies with mmsimctl: say so. */
static void note_transient(struct ctl *ctl, const char *what)
{
    if (!ctl->in_session)
        fprintf(stderr,
                PROG ": note: this %s belongs to this connection's session "
                     "and is freed when " PROG " exits; use '" PROG
                     " script' to keep it across commands\n",
                what);
}

/* Bytes, with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *v)
{
    unsigned shift = 0;
    char *end;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    *v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || *v > UINT64_MAX >> shift)
        return -1;
    *v <<= shift;
    return 0;
}

static void print_ok(struct ctl *ctl, const char *key, uint64_t addr)
{
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_kaddr(&j, key, addr);
        json_obj_end(&j);
    } else {
        printf("OK\n");
    }
}

/*
 * The answer of mmap and vmalloc: the start address (also the command's
 * result, for $N in a session) and its size as @key; outside a session,
 * the note that @what dies with this connection.
 */
static void print_region(struct ctl *ctl, uint64_t addr, const char *key,
                         uint64_t n, const char *what)
{
    set_result(ctl, addr);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_kaddr(&j, "addr", addr);
        json_ku64(&j, key, n);
        json_obj_end(&j);
    } else {
        printf("addr %#" PRIx64 " %s %" PRIu64 "\n", addr, key, n);
    }
    note_transient(ctl, what);
}

static int cmd_mmap(struct ctl *ctl, int argc, char **argv)
{
    const char *node_s = NULL, *pos[1];
    const struct opt opts[] = {{"node", OPT_VALUE, &node_s},
                               {NULL, OPT_FLAG, NULL}};
    int node = MMSIM_CLIENT_ANY_NODE, npos, rc;
    uint64_t pages, addr;

    rc = scan_args(ctl, "mmap", argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_u64(pos[0], &pages))
        return usage_error(ctl, "mmap: want PAGES (a number)");
    if (node_s && parse_int(node_s, &node))
        return usage_error(ctl, "mmap: bad --node '%s'", node_s);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_mmap(ctl->c, pages, node, &addr);
    if (rc)
        return report(ctl, rc);
    print_region(ctl, addr, "pages", pages, "mapping");
    return EXIT_OK;
}

static int cmd_munmap(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[2];
    uint64_t addr, pages;
    int npos, rc;

    rc = scan_args(ctl, "munmap", argc, argv, NULL, pos, 2, &npos);
    if (rc)
        return rc;
    if (npos != 2 || parse_u64(pos[0], &addr) || parse_u64(pos[1], &pages))
        return usage_error(ctl, "munmap: want ADDR PAGES (numbers)");
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_munmap(ctl->c, addr, pages);
    if (rc)
        return report(ctl, rc);
    print_ok(ctl, "addr", addr);
    return EXIT_OK;
}

static int cmd_vmalloc(struct ctl *ctl, int argc, char **argv)
{
    const char *node_s = NULL, *pos[1];
    const struct opt opts[] = {{"node", OPT_VALUE, &node_s},
                               {NULL, OPT_FLAG, NULL}};
    int node = MMSIM_CLIENT_ANY_NODE, npos, rc;
    uint64_t size, addr, rounded;

    rc = scan_args(ctl, "vmalloc", argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_size(pos[0], &size))
        return usage_error(ctl, "vmalloc: want SIZE (bytes, or with a K, M "
                                "or G suffix)");
    if (node_s && parse_int(node_s, &node))
        return usage_error(ctl, "vmalloc: bad --node '%s'", node_s);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_vmalloc(ctl->c, size, node, &addr, &rounded);
    if (rc)
        return report(ctl, rc);
    print_region(ctl, addr, "size", rounded, "vmalloc area");
    return EXIT_OK;
}

static int cmd_vfree(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    uint64_t addr;
    int npos, rc;

    rc = scan_args(ctl, "vfree", argc, argv, NULL, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || parse_u64(pos[0], &addr))
        return usage_error(ctl, "vfree: want ADDR (a number)");
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_vfree(ctl->c, addr);
    if (rc)
        return report(ctl, rc);
    print_ok(ctl, "addr", addr);
    return EXIT_OK;
}

/* Bytes as text, up to the first NUL, C escapes for the rest. */
static void print_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && p[i]; i++) {
        if (p[i] == '\\')
            fputs("\\\\", stdout);
        else if (p[i] == '\n')
            fputs("\\n", stdout);
        else if (p[i] == '\t')
            fputs("\\t", stdout);
        else if (p[i] < 0x20 || p[i] >= 0x7f)
            printf("\\x%02x", p[i]);
        else
            putchar(p[i]);
    }
    putchar('\n');
}

/* mread and vread: ADDR LEN [--text|--raw]. */
static int mem_read(struct ctl *ctl, int argc, char **argv, bool varea)
{
    const char *cmd = varea ? "vread" : "mread";
    const char *text = NULL, *raw = NULL, *pos[2];
    const struct opt opts[] = {{"text", OPT_FLAG, &text},
                               {"raw", OPT_FLAG, &raw},
                               {NULL, OPT_FLAG, NULL}};
    uint64_t addr;
    uint32_t len;
    uint8_t *buf;
    size_t got = 0;
    int npos, rc;

    rc = scan_args(ctl, cmd, argc, argv, opts, pos, 2, &npos);
    if (rc)
        return rc;
    if (npos != 2 || parse_u64(pos[0], &addr) || parse_u32(pos[1], &len))
        return usage_error(ctl, "%s: want ADDR LEN (numbers)", cmd);
    if (text && raw)
        return usage_error(ctl, "%s: --text or --raw, not both", cmd);
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    if (len > mmsim_client_max_frame_bytes(ctl->c))
        return usage_error(ctl,
                           "%s: LEN %" PRIu32 " is above the server's "
                           "max_frame_bytes (%" PRIu32 ")",
                           cmd, len, mmsim_client_max_frame_bytes(ctl->c));
    buf = malloc(len ? len : 1);
    if (!buf)
        return usage_error(ctl, "out of memory");
    rc = varea ? mmsim_client_vread(ctl->c, addr, len, buf, &got)
               : mmsim_client_mem_read(ctl->c, addr, len, buf, &got);
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
            return usage_error(ctl, "out of memory");
        }
        for (size_t i = 0; i < got; i++)
            snprintf(hex + 2 * i, 3, "%02x", buf[i]);
        hex[2 * got] = '\0';
        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_kaddr(&j, "addr", addr);
        json_ku64(&j, "length", got);
        json_kstr(&j, "hex", hex);
        if (text) {
            json_key(&j, "text");
            json_strn(&j, (const char *)buf, strnlen((char *)buf, got));
        }
        json_obj_end(&j);
        free(hex);
    } else if (text) {
        print_text(buf, got);
    } else {
        hexdump(buf, got, addr);
    }
    free(buf);
    return EXIT_OK;
}

static int cmd_mread(struct ctl *ctl, int argc, char **argv)
{
    return mem_read(ctl, argc, argv, false);
}

static int cmd_vread(struct ctl *ctl, int argc, char **argv)
{
    return mem_read(ctl, argc, argv, true);
}

/* mwrite and vwrite: ADDR OFFSET (TEXT | @FILE | --hex HEX). */
static int mem_write(struct ctl *ctl, int argc, char **argv, bool varea)
{
    const char *cmd = varea ? "vwrite" : "mwrite";
    const char *hex_s = NULL, *pos[3];
    const struct opt opts[] = {{"hex", OPT_VALUE, &hex_s},
                               {NULL, OPT_FLAG, NULL}};
    uint64_t addr, offset;
    uint8_t *buf = NULL;
    const void *data;
    size_t len;
    int npos, rc;

    rc = scan_args(ctl, cmd, argc, argv, opts, pos, 3, &npos);
    if (rc)
        return rc;
    if (npos < 2 || parse_u64(pos[0], &addr) || parse_u64(pos[1], &offset) ||
        addr + offset < addr)
        return usage_error(ctl, "%s: want ADDR OFFSET (numbers), then DATA",
                           cmd);
    if ((npos == 3) == (hex_s != NULL))
        return usage_error(ctl, "%s: want DATA (TEXT or @FILE) or --hex HEX",
                           cmd);
    if (hex_s) {
        long n;

        buf = malloc(strlen(hex_s) / 2 + 1);
        if (!buf)
            return usage_error(ctl, "out of memory");
        n = parse_hex(hex_s, buf);
        if (n < 0) {
            free(buf);
            return usage_error(ctl, "%s: bad --hex '%s'", cmd, hex_s);
        }
        len = (size_t)n;
        data = buf;
    } else if (pos[2][0] == '@') {
        if (!strcmp(pos[2], "@-") && ctl->stdin_is_script)
            return usage_error(ctl,
                               "%s: @- cannot read stdin here (stdin is "
                               "the script)",
                               cmd);
        if (slurp(ctl, pos[2] + 1, &buf, &len))
            return EXIT_USAGE;
        data = buf;
    } else {
        data = pos[2];
        len = strlen(pos[2]);
    }
    rc = ensure_connected(ctl);
    if (rc == EXIT_OK)
        rc = varea ? mmsim_client_vwrite(ctl->c, addr + offset, data, len)
                   : mmsim_client_mem_write(ctl->c, addr + offset, data, len);
    free(buf);
    if (rc > 0)
        return rc;
    if (rc)
        return report(ctl, rc);
    if (ctl->json) {
        struct json j;

        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kbool(&j, "ok", true);
        json_kaddr(&j, "addr", addr + offset);
        json_ku64(&j, "bytes", len);
        json_obj_end(&j);
    } else {
        printf("OK, wrote %zu bytes\n", len);
    }
    return EXIT_OK;
}

static int cmd_mwrite(struct ctl *ctl, int argc, char **argv)
{
    return mem_write(ctl, argc, argv, false);
}

static int cmd_vwrite(struct ctl *ctl, int argc, char **argv)
{
    return mem_write(ctl, argc, argv, true);
}

static int cmd_mmstat(struct ctl *ctl, int argc, char **argv)
{
    struct mmsim_client_mm_stat st;
    int npos, rc;

    rc = scan_args(ctl, "mmstat", argc, argv, NULL, NULL, 0, &npos);
    if (rc)
        return rc;
    rc = ensure_connected(ctl);
    if (rc)
        return rc;
    rc = mmsim_client_mm_stat(ctl->c, &st);
    if (rc)
        return report(ctl, rc);
    {
        const struct {
            const char *name;
            uint64_t value;
        } f[] = {
            {"owner", st.owner},
            {"total_vm", st.total_vm},
            {"rss", st.rss},
            {"swapents", st.swapents},
            {"nr_regions", st.nr_regions},
            {"minflt", st.minflt},
            {"majflt", st.majflt},
            {"extra", st.extra},
            {"block_pages", st.block_pages},
            {"vmalloc_pages", st.vmalloc_pages},
            {"vmalloc_areas", st.vmalloc_areas},
            {"oom_killed", st.oom_killed},
        };
        struct json j;

        json_init(&j, stdout);
        if (ctl->json) {
            json_obj_begin(&j);
            json_kbool(&j, "ok", true);
        }
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
            if (!ctl->json)
                printf("%-14s %" PRIu64 "\n", f[i].name, f[i].value);
            else if (!strcmp(f[i].name, "oom_killed"))
                json_kbool(&j, f[i].name, f[i].value != 0);
            else
                json_ku64(&j, f[i].name, f[i].value);
        }
        if (ctl->json)
            json_obj_end(&j);
    }
    return EXIT_OK;
}

static int cmd_script(struct ctl *ctl, int argc, char **argv);
static int cmd_session(struct ctl *ctl, int argc, char **argv);
static int cmd_help(struct ctl *ctl, int argc, char **argv);

static const struct cmd commands[] = {
    {"ping", cmd_ping, "ping [MESSAGE]", false},
    {"buddyinfo", cmd_buddyinfo, "buddyinfo", false},
    {"zoneinfo", cmd_zoneinfo, "zoneinfo", false},
    {"vmstat", cmd_vmstat,
     "vmstat [--watch[=SECONDS]] [SECONDS [COUNT]] [--count N]", false},
    {"memblock", cmd_memblock, "memblock [memory|reserved]", false},
    {"bootlog", cmd_bootlog, "bootlog", false},
    {"vmallocinfo", cmd_vmallocinfo, "vmallocinfo", false},
    {"swaps", cmd_swaps, "swaps", false},
    {"meminfo", cmd_meminfo, "meminfo", false},
    {"reclaim", cmd_reclaim,
     "reclaim [--node N] [--steps N] [--balance] [--kswapd]", false},
    {"check", cmd_check, "check [--full]", false},
    {"machine", cmd_machine, "machine", false},
    {"alloc", cmd_alloc,
     "alloc [--order N] [--node N] [--gfp FLAGS] [--count N]", true},
    {"free", cmd_free, "free PFN [--order N]", false},
    {"read", cmd_read, "read PFN [--offset N] [--length N] [--raw]", false},
    {"write", cmd_write,
     "write PFN [--offset N] (--data STRING | --hex HEX | --file FILE)", false},
    {"mmap", cmd_mmap, "mmap PAGES [--node N]", true},
    {"munmap", cmd_munmap, "munmap ADDR PAGES", false},
    {"mread", cmd_mread, "mread ADDR LEN [--text|--raw]", false},
    {"mwrite", cmd_mwrite, "mwrite ADDR OFFSET (TEXT | @FILE | --hex HEX)",
     false},
    {"mmstat", cmd_mmstat, "mmstat", false},
    {"vmalloc", cmd_vmalloc, "vmalloc SIZE [--node N]", true},
    {"vfree", cmd_vfree, "vfree ADDR", false},
    {"vread", cmd_vread, "vread ADDR LEN [--text|--raw]", false},
    {"vwrite", cmd_vwrite, "vwrite ADDR OFFSET (TEXT | @FILE | --hex HEX)",
     false},
    {"script", cmd_script, "script FILE|-", false},
    {"session", cmd_session, "session [-e|--exit-on-error]", false},
    {"help", cmd_help, "help [COMMAND]", false},
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
 * escapes the next character, and a '#' that starts a word starts a
 * comment, as in sh. Return: word count, or -1 (bad quoting or too many
 * words). *@quoted[i] says whether word i had any quoting (such words are
 * never $-expanded).
 */
static int split_line(char *line, char **argv, bool *quoted, int max)
{
    char *r = line, *w = line;
    int argc = 0;

    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
            r++;
        if (!*r || *r == '#')
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

static bool is_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* A variable name: a letter or '_', then letters, digits and '_'. */
static bool var_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > VAR_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static struct var *find_var(struct ctl *ctl, const char *name)
{
    for (size_t i = 0; i < ctl->n_vars; i++)
        if (!strcmp(ctl->vars[i].name, name))
            return &ctl->vars[i];
    return NULL;
}

/* Return: 0, or -1 (out of memory). */
static int set_var(struct ctl *ctl, const char *name, uint64_t value)
{
    struct var *v = find_var(ctl, name);

    if (!v) {
        v = realloc(ctl->vars, (ctl->n_vars + 1) * sizeof(*v));
        if (!v)
            return -1;
        ctl->vars = v;
        v = &ctl->vars[ctl->n_vars++];
        snprintf(v->name, sizeof(v->name), "%s", name);
    }
    v->value = value;
    return 0;
}

/*
 * Expand an unquoted word that starts with '$': $PFN, $PFN<i>, $<n> (the
 * n-th result of the session), $name, each optionally followed by +N.
 * Other words stay as they are. Return: 0, or EXIT_USAGE (printed).
 */
static int expand_word(struct ctl *ctl, char **word, char *store,
                       size_t storelen)
{
    const char *w = *word, *plus;
    char name[VAR_NAME_MAX + 1];
    uint64_t idx = 0, base, add = 0;
    size_t n;

    if (w[0] != '$')
        return 0;
    plus = strchr(w, '+');
    n = plus ? (size_t)(plus - w - 1) : strlen(w + 1);
    if (n == 0 || n > VAR_NAME_MAX || (plus && parse_u64(plus + 1, &add)))
        goto bad;
    memcpy(name, w + 1, n);
    name[n] = '\0';
    if (!strncmp(name, "PFN", 3)) {
        if (name[3] && (!is_digits(name + 3) || parse_u64(name + 3, &idx)))
            goto bad;
        if (idx >= ctl->n_pfns)
            return usage_error(ctl, "%s: the latest alloc gave %zu block(s)", w,
                               ctl->n_pfns);
        base = ctl->pfns[idx];
    } else if (is_digits(name)) {
        if (parse_u64(name, &idx) || idx == 0 || idx > ctl->n_results)
            return usage_error(ctl,
                               "%s: the session has returned %zu address(es) "
                               "so far",
                               w, ctl->n_results);
        base = ctl->results[idx - 1];
    } else if (var_name_ok(name)) {
        const struct var *v = find_var(ctl, name);

        if (!v)
            return usage_error(ctl, "unknown variable '$%s'", name);
        base = v->value;
    } else {
        goto bad;
    }
    if (base + add < base)
        goto bad;
    snprintf(store, storelen, "%#" PRIx64, base + add);
    *word = store;
    return 0;

bad:
    return usage_error(ctl,
                       "bad variable '%s' (want $NAME, $N, $PFN or $PFN<i>, "
                       "optionally +NUMBER; quote a literal '$')",
                       w);
}

/*
 * Run one session line: a comment, "quit", "COMMAND ARGS" or
 * "NAME = COMMAND ARGS". Return: the exit status; *@quit on quit/exit.
 */
static int run_line(struct ctl *ctl, char *line, bool *quit)
{
    char *words[SESSION_MAX_ARGS];
    bool quoted[SESSION_MAX_ARGS];
    char store[SESSION_MAX_ARGS][24];
    const char *assign = NULL;
    const struct cmd *cmd;
    int n, first = 0, rc;

    n = split_line(line, words, quoted, SESSION_MAX_ARGS);
    if (n < 0)
        return usage_error(ctl, "unbalanced quotes, or more than %d words",
                           SESSION_MAX_ARGS);
    if (n == 0)
        return EXIT_OK;
    if (!quoted[0] &&
        (!strcmp(words[0], "quit") || !strcmp(words[0], "exit"))) {
        *quit = true;
        return EXIT_OK;
    }
    if (n >= 2 && !quoted[1] && !strcmp(words[1], "=")) {
        if (quoted[0] || !var_name_ok(words[0]) || !strncmp(words[0], "PFN", 3))
            return usage_error(ctl,
                               "'%s' cannot be a variable (letters, digits "
                               "and '_', at most %d, not starting with a "
                               "digit or PFN)",
                               words[0], VAR_NAME_MAX);
        if (n == 2)
            return usage_error(ctl, "%s = what? (want NAME = COMMAND ...)",
                               words[0]);
        assign = words[0];
        first = 2;
    }
    for (int i = first; i < n; i++)
        if (!quoted[i] &&
            expand_word(ctl, &words[i], store[i], sizeof(store[i])))
            return EXIT_USAGE;
    cmd = find_cmd(words[first]);
    if (assign && cmd && !cmd->returns)
        return usage_error(ctl,
                           "%s returns nothing to put in %s (alloc, mmap "
                           "and vmalloc do)",
                           cmd->name, assign);
    ctl->has_result = false;
    rc = run_command(ctl, n - first, words + first);
    if (rc != EXIT_OK || !ctl->has_result)
        return rc;
    if (assign && set_var(ctl, assign, ctl->result))
        return usage_error(ctl, "out of memory");
    {
        uint64_t *r = realloc(ctl->results, (ctl->n_results + 1) * sizeof(*r));

        if (!r)
            return usage_error(ctl, "out of memory");
        ctl->results = r;
        r[ctl->n_results++] = ctl->result;
    }
    return EXIT_OK;
}

/*
 * Run the lines of @in in this connection's session. @name: the script's
 * file name for errors ("FILE: line N: "), or NULL ("line N: ").
 * @stop_on_error: stop at the first failing line.
 * Return: 0, the status of the last failing line, or 128 + the signal
 * that ended a vmstat --watch.
 */
static int run_lines(struct ctl *ctl, FILE *in, const char *name,
                     bool stop_on_error, bool prompt)
{
    bool json = ctl->json, quit = false;
    int rc, status = EXIT_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    ctl->in_session = true;
    ctl->lineno = 0;
    for (;;) {
        if (prompt) {
            printf("mmsim> ");
            fflush(stdout);
        }
        len = getline(&line, &cap, in);
        if (len < 0)
            break;
        ctl->lineno++;
        if (name)
            snprintf(ctl->where, sizeof(ctl->where), "%s: line %u: ", name,
                     ctl->lineno);
        else
            snprintf(ctl->where, sizeof(ctl->where), "line %u: ", ctl->lineno);
        if (strlen(line) != (size_t)len)
            rc = usage_error(ctl, "a NUL byte in the line");
        else
            rc = run_line(ctl, line, &quit);
        ctl->json = json; /* a --json on one line is for that line */
        fflush(stdout);
        if (ctl->stop_signal) {
            status = 128 + ctl->stop_signal;
            break;
        }
        if (rc != EXIT_OK) {
            status = rc;
            /* A dead connection ends the session: its pages are gone. */
            if (rc == EXIT_CONNECT || stop_on_error)
                break;
        }
        if (quit)
            break;
    }
    if (len < 0 && ferror(in)) {
        fprintf(stderr, PROG ": %s: %s\n", name ? name : "stdin",
                strerror(errno));
        status = EXIT_USAGE;
    }
    free(line);
    ctl->in_session = false;
    ctl->lineno = 0;
    ctl->where[0] = '\0';
    return status;
}

static int cmd_session(struct ctl *ctl, int argc, char **argv)
{
    const char *exit_on_error = NULL;
    const struct opt opts[] = {{"exit-on-error", OPT_FLAG, &exit_on_error},
                               {NULL, OPT_FLAG, NULL}};
    bool tty = isatty(STDIN_FILENO);
    int npos, rc;

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
    if (tty)
        printf("connected, session %" PRIu64 "; commands as for " PROG
               ", 'quit' ends\n",
               mmsim_client_session_id(ctl->c));
    ctl->stdin_is_script = true;
    rc = run_lines(ctl, stdin, NULL, exit_on_error != NULL, tty);
    ctl->stdin_is_script = false;
    return rc;
}

static int cmd_script(struct ctl *ctl, int argc, char **argv)
{
    const char *pos[1];
    FILE *in;
    int npos, rc;

    if (ctl->in_session)
        return usage_error(ctl, "script: already in a session");
    rc = scan_args(ctl, "script", argc, argv, NULL, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1)
        return usage_error(ctl, "script: want FILE, or - for stdin");
    in = strcmp(pos[0], "-") ? fopen(pos[0], "r") : stdin;
    if (!in) {
        file_error(ctl, pos[0], strerror(errno));
        return EXIT_USAGE;
    }
    rc = ensure_connected(ctl);
    if (rc == EXIT_OK) {
        ctl->stdin_is_script = in == stdin;
        rc = run_lines(ctl, in, in == stdin ? NULL : pos[0], true, false);
        ctl->stdin_is_script = false;
    }
    if (in != stdin)
        fclose(in);
    return rc;
}

/* ---- main */

static int read_token_file(struct ctl *ctl, const char *path)
{
    uint8_t *data;
    size_t len;

    if (slurp(ctl, path, &data, &len))
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
    free(ctl.results);
    free(ctl.vars);
    free(ctl.token);
    return rc;
}
