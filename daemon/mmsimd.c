// SPDX-License-Identifier: MIT
/*
 * mmsimd - the mmsim daemon: boot a simulated machine, then serve it over
 * the wire protocol (proto/PROTOCOL.md) on TCP and a Unix socket until
 * SIGTERM or SIGINT. docs/mmsimd.md documents every flag.
 *
 * This file is glue: options (the machine options are the config
 * library's, exactly as mmsim-boot takes them), the token, the log sink,
 * then machine -> rpc -> net, torn down in the reverse order.
 *
 * Threads: main runs the main loop (mmsim_net_run); the net workers feed
 * sessions; the machine runs one kswapd thread per node (started after
 * the boot, stopped before the machine is destroyed); one more thread
 * finishes the deferred struct page init after start. All of them log
 * through log_line(), which writes each line with one write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mmsim/config.h"
#include "mmsim/mm.h"
#include "mmsim/net.h"
#include "mmsim/record.h"
#include "mmsim/rpc.h"
#include "mmsim/vm.h"

#define PROG "mmsimd"
#ifndef MMSIM_VERSION
#define MMSIM_VERSION "0.0.0"
#endif

#define TOKEN_ENV       "MMSIM_TOKEN"
#define TOKEN_MAX_BYTES 4096
#define MAX_WORKERS     256u
#define MAX_FRAME_MIN   (UINT64_C(1) << 10)
#define MAX_FRAME_MAX   (UINT64_C(64) << 20)

/* Exit statuses (docs/mmsimd.md). */
enum {
    EXIT_OK = 0,    /* stopped by SIGTERM/SIGINT after draining */
    EXIT_START = 1, /* could not start: boot, listen, host memory */
    EXIT_USAGE = 2, /* bad options or a refused configuration */
};

/* ---- logging ----------------------------------------------------------- */

/* Kernel levels, as every mmsim_log_fn takes them. */
enum { LVL_ERR = 3, LVL_WARN = 4, LVL_INFO = 6, LVL_DEBUG = 7 };

static struct {
    int max_level; /* lines above it are dropped; set before any thread */
    long pid;
} logcfg = {LVL_INFO, 0};

/*
 * Warnings a peer can provoke (allocation failures, bad requests, failed
 * logins) are rate-limited, as the kernel's printk_ratelimit(): at most
 * RL_BURST lines per RL_WINDOW_MS, then one line saying how many were
 * suppressed. Protected by @lock.
 */
#define RL_BURST     20
#define RL_WINDOW_MS 1000
static struct {
    pthread_mutex_t lock;
    uint64_t window_start_ms;
    unsigned printed;
    unsigned long long suppressed;
} ratelimit = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *level_name(int level)
{
    if (level <= LVL_ERR)
        return "ERROR";
    if (level == LVL_WARN)
        return "WARN";
    if (level <= LVL_INFO)
        return "INFO";
    return "DEBUG";
}

/*
 * "2026-11-23T12:00:00.123Z mmsimd[42] INFO message\n", written with one
 * write(2) so lines from different threads never interleave. Control
 * characters become '?': messages may quote what a peer sent.
 */
static void log_line(int level, const char *msg)
{
    char buf[1024];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int k;

    if (level < LVL_ERR)
        level = LVL_ERR;
    if (level > logcfg.max_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ " PROG "[%ld] %s ",
                 ts.tv_nsec / 1000000, logcfg.pid, level_name(level));
    n += (size_t)k;
    for (const char *p = msg; *p && n < sizeof(buf) - 1; p++) {
        unsigned char ch = (unsigned char)*p;

        buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    buf[n++] = '\n';
    while (write(STDERR_FILENO, buf, n) < 0 && errno == EINTR)
        ;
}

static void logf_(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_(int level, const char *fmt, ...)
{
    char msg[900];
    va_list ap;

    if (level > logcfg.max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_line(level, msg);
}

static void log_limited(int level, const char *msg)
{
    unsigned long long dropped = 0;
    bool print;
    uint64_t now = mono_ms();

    pthread_mutex_lock(&ratelimit.lock);
    if (now - ratelimit.window_start_ms >= RL_WINDOW_MS) {
        dropped = ratelimit.suppressed;
        ratelimit.suppressed = 0;
        ratelimit.printed = 0;
        ratelimit.window_start_ms = now;
    }
    print = ratelimit.printed < RL_BURST;
    if (print)
        ratelimit.printed++;
    else
        ratelimit.suppressed++;
    pthread_mutex_unlock(&ratelimit.lock);
    if (dropped)
        logf_(LVL_WARN, "%llu warnings suppressed (rate limit)", dropped);
    if (print)
        log_line(level, msg);
}

/* The machine's sink: its boot log goes to debug, as the brief summary
 * replaces it at info; later warnings are rate-limited. */
static atomic_bool machine_booting = true;

static void machine_log(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (atomic_load_explicit(&machine_booting, memory_order_relaxed)) {
        log_line(level >= 5 ? LVL_DEBUG : level, line);
        return;
    }
    if (level <= LVL_WARN)
        log_limited(level, line);
    else
        log_line(level, line);
}

/*
 * The rpc's sink. Its info lines are per connection (hello, close with
 * the pages freed), which the daemon logs at debug; its warnings (failed
 * authentication, protocol errors) are rate-limited.
 */
static void rpc_log(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level <= LVL_WARN)
        log_limited(level, line);
    else
        log_line(level >= 5 ? LVL_DEBUG : level, line);
}

/* The transport's sink: accept errors and refusals can come in floods. */
static void net_log(void *ctx, int level, const char *line)
{
    (void)ctx;
    if (level <= LVL_WARN)
        log_limited(level, line);
    else
        log_line(level, line);
}

/*
 * The machine's OOM killer chose an address space: the rpc marks its
 * session killed and has the transport close it. The machine boots
 * before the rpc exists, so the hook finds the rpc here: set once it
 * exists, cleared before it is destroyed (every session is gone by then,
 * so nothing that could reach the OOM killer still runs).
 */
static _Atomic(struct mmsim_rpc *) oom_rpc;

static void machine_oom_kill(void *ctx, uint64_t owner)
{
    struct mmsim_rpc *rpc = atomic_load(&oom_rpc);

    (void)ctx;
    if (rpc)
        mmsim_rpc_oom_kill(rpc, owner);
}

/* ---- recording (--record) ---------------------------------------------- */

/*
 * --record DIR: each session's input as it arrives, in the format of
 * mmsim/record.h, to DIR/session-PID-ID.rpc (mode 600), so that
 * `build/fuzz/rpc FILE` replays it (fuzz/README.md). The rpc engine calls
 * these hooks on the worker that owns the session, so each file has one
 * writer; with --record absent the engine has no hooks and pays one test
 * per read. A file that cannot be created or written (a full disk, a
 * file size limit) costs only that session's recording, with a
 * rate-limited warning saying why; the session itself goes on.
 */
static const char *record_dir;

struct recording {
    int fd;
    bool failed;
    uint64_t id;
    uint64_t bytes; /* written, in whole records */
    char path[];
};

static void *record_open(void *ctx, uint64_t id, const char *peer)
{
    size_t len = strlen(record_dir) + 64;
    struct recording *r = malloc(sizeof(*r) + len);
    char msg[900];

    (void)ctx;
    if (!r) {
        snprintf(msg, sizeof(msg),
                 "--record: out of memory; session %llu (%s) is not recorded",
                 (unsigned long long)id, peer);
        log_limited(LVL_WARN, msg);
        return NULL;
    }
    snprintf(r->path, len, "%s/session-%ld-%llu.rpc", record_dir, logcfg.pid,
             (unsigned long long)id);
    r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                 0600);
    if (r->fd < 0) {
        snprintf(msg, sizeof(msg),
                 "--record: cannot create %s: %s; session %llu (%s) is not "
                 "recorded",
                 r->path, strerror(errno), (unsigned long long)id, peer);
        log_limited(LVL_WARN, msg);
        free(r);
        return NULL;
    }
    r->failed = false;
    r->id = id;
    r->bytes = 0;
    logf_(LVL_DEBUG, "session %llu (%s): recording to %s",
          (unsigned long long)id, peer, r->path);
    return r;
}

/* writev() until everything is written. Return: 0, or -1 with errno. */
static int writev_all(int fd, struct iovec *iov, int n)
{
    while (n) {
        ssize_t w = writev(fd, iov, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        for (; n && (size_t)w >= iov->iov_len; iov++, n--)
            w -= (ssize_t)iov->iov_len;
        if (n) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static void record_write(void *ctx, void *handle, const uint8_t *data,
                         size_t len)
{
    struct recording *r = handle;

    (void)ctx;
    while (len && !r->failed) {
        size_t n = len > MMSIM_REC_MAX_BYTES ? MMSIM_REC_MAX_BYTES : len;
        uint8_t hdr[MMSIM_REC_HEADER_BYTES];
        struct iovec iov[2];
        char msg[900];

        /* One read is one feed: longer ones continue in the next record. */
        mmsim_rec_header(hdr, n < len ? MMSIM_REC_MORE : 0, n);
        iov[0].iov_base = hdr;
        iov[0].iov_len = sizeof(hdr);
        iov[1].iov_base = (void *)data;
        iov[1].iov_len = n;
        if (writev_all(r->fd, iov, 2)) {
            int e = errno;

            /* Keep the file whole: drop the part of a record written. */
            bool whole = ftruncate(r->fd, (off_t)r->bytes) == 0;

            r->failed = true;
            snprintf(msg, sizeof(msg),
                     "--record: writing %s failed: %s; the rest of session "
                     "%llu is not recorded (%s)",
                     r->path, strerror(e), (unsigned long long)r->id,
                     whole ? "what was written before is kept"
                           : "the file may end in part of a record");
            log_limited(LVL_WARN, msg);
            return;
        }
        r->bytes += sizeof(hdr) + n;
        data += n;
        len -= n;
    }
}

static void record_close(void *ctx, void *handle)
{
    struct recording *r = handle;

    (void)ctx;
    if (close(r->fd))
        logf_(LVL_WARN, "--record: closing %s: %s", r->path, strerror(errno));
    else
        logf_(LVL_DEBUG, "session %llu: %llu bytes recorded in %s",
              (unsigned long long)r->id, (unsigned long long)r->bytes, r->path);
    free(r);
}

static const struct mmsim_rpc_recorder recorder = {record_open, record_write,
                                                   record_close, NULL};

/*
 * Refuse a --record directory that is missing, not a directory or not
 * writable, before anything starts. Return: 0 or -1 (said on stderr).
 */
static int record_prepare(const char *dir)
{
    struct stat st;

    if (!*dir || strlen(dir) > 3900) {
        fprintf(stderr, PROG ": --record: the directory name is %s\n",
                *dir ? "too long" : "empty");
        return -1;
    }
    if (stat(dir, &st)) {
        fprintf(stderr, PROG ": --record %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, PROG ": --record %s: not a directory\n", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK)) {
        fprintf(stderr, PROG ": --record %s: cannot create files there: %s\n",
                dir, strerror(errno));
        return -1;
    }
    /* A file size limit makes writes fail with EFBIG, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    return 0;
}

/* ---- options ----------------------------------------------------------- */

enum {
    OPT_LISTEN = 256,
    OPT_UNIX,
    OPT_UNIX_MODE,
    OPT_TOKEN_FILE,
    OPT_WORKERS,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_FRAME,
    OPT_MAX_PAGES,
    OPT_MAX_MAPPED_PAGES,
    OPT_MAX_MAPPINGS,
    OPT_MAX_INFLIGHT,
    OPT_MAX_BATCH,
    OPT_IDLE_TIMEOUT,
    OPT_METADATA_ONLY,
    OPT_NO_LATE_INIT,
    OPT_LOG_LEVEL,
    OPT_DRAIN_TIMEOUT,
    OPT_RECORD,
    OPT_VERSION,
};

struct daemon_opts {
    const char *listen; /* NULL: none */
    const char *unix_path;
    char unix_default[256];
    unsigned unix_mode;
    const char *token_file;
    unsigned workers;
    unsigned max_connections;
    uint32_t drain_ms;
    struct mmsim_rpc_limits limits;
    bool metadata_only;
    bool late_init;
    const char *record_dir; /* --record; NULL: off */
};

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

/* $XDG_RUNTIME_DIR/mmsimd.sock, else /tmp/mmsimd-<uid>.sock. */
static void default_unix_path(char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");

    if (dir && dir[0] == '/' &&
        (size_t)snprintf(buf, len, "%s/mmsimd.sock", dir) < len)
        return;
    snprintf(buf, len, "/tmp/mmsimd-%u.sock", (unsigned)getuid());
}

static void usage(FILE *f, const struct daemon_opts *d)
{
    struct mmsim_rpc_limits lim;

    mmsim_rpc_limits_default(&lim);
    fprintf(f,
            "Usage: " PROG " [OPTIONS] [MACHINE OPTIONS]\n"
            "\n"
            "Boot a simulated NUMA machine and serve it to mmsim clients "
            "over TCP and a\n"
            "Unix socket until SIGTERM or SIGINT. Without machine options "
            "the built-in\n"
            "default machine boots. Logs go to stderr. See "
            "docs/mmsimd.md.\n"
            "\n"
            "Listening:\n"
            "  --listen HOST:PORT   TCP address, IPv6 as [ADDR]:PORT, port "
            "0 picks a free\n"
            "                       one; 'none' disables TCP (default "
            "%s:%u)\n"
            "  --unix PATH          Unix socket; 'none' disables it "
            "(default\n"
            "                       $XDG_RUNTIME_DIR/mmsimd.sock, else "
            "/tmp/mmsimd-UID.sock;\n"
            "                       here %s)\n"
            "  --unix-mode OCTAL    permissions of the Unix socket "
            "(default %03o)\n"
            "  --token-file FILE    clients must send the token in this "
            "file (trailing\n"
            "                       newlines dropped) in Hello; the "
            "environment variable\n"
            "                       " TOKEN_ENV " is used when this is not "
            "given. Tokens\n"
            "                       are never taken on the command line. "
            "A TCP address\n"
            "                       that is not loopback requires one "
            "(protected mode).\n"
            "\n"
            "Limits:\n"
            "  --workers N          worker threads, each with its own event "
            "loop, 1-%u\n"
            "                       (default: online CPUs, here %u)\n"
            "  --max-connections N  open connections; more are accepted and "
            "closed at once\n"
            "                       (default %u)\n"
            "  --max-frame BYTES    largest request frame, 1K-64M, K/M "
            "suffixes allowed\n"
            "                       (default %u)\n"
            "  --max-pages N        pages one session may own at once "
            "(blocks and vmalloc\n"
            "                       areas), 0 for no limit (default %llu)\n"
            "  --max-mapped-pages N pages one session may have mmapped at "
            "once, resident\n"
            "                       or not, 0 for no limit (default %llu)\n"
            "  --max-mappings N     regions in one session's address space, "
            "1-1000000\n"
            "                       (default %u, as vm.max_map_count)\n"
            "  --max-inflight N     requests a client may have unanswered "
            "(default %u)\n"
            "  --max-batch N        entries in one batch request (default "
            "%u)\n"
            "  --idle-timeout SECS  close connections silent this long, 0 "
            "for never\n"
            "                       (default %u)\n"
            "  --drain-timeout SECS on SIGTERM/SIGINT, close connections "
            "still open after\n"
            "                       this long, 1-3600 (default %u)\n"
            "\n"
            "Machine:\n"
            "  --metadata-only      keep no page contents (ReadPage and "
            "WritePage fail\n"
            "                       with NOT_SUPPORTED); by default pages "
            "have contents,\n"
            "                       backed by host memory only once "
            "written\n"
            "  --no-late-init       leave deferred struct pages to be "
            "initialised on demand\n"
            "                       (by default a thread initialises them "
            "all after start)\n"
            "\n"
            "Other:\n"
            "  --record DIR         write every session's input to "
            "DIR/session-PID-ID.rpc,\n"
            "                       replayable with the rpc fuzz target "
            "(fuzz/README.md);\n"
            "                       the files hold what clients send, "
            "tokens included\n"
            "  --log-level LEVEL    error, warn, info or debug (default "
            "info)\n"
            "  --version            print the version and exit\n"
            "  -h, --help           this text\n"
            "\n"
            "Machine options (as mmsim-boot takes them):\n"
            "%s"
            "Without --swap file= the swap file of " PROG " is an unnamed "
            "temporary file in\n"
            "$TMPDIR, else /var/tmp.\n"
            "\n"
            "Once listening, " PROG " logs \"" PROG
            " ready: tcp ADDR, unix PATH\" at info.\n"
            "SIGTERM or SIGINT: stop accepting, answer what was read, "
            "flush, close every\n"
            "connection (at most --drain-timeout), exit 0; a second signal "
            "exits at once with\n"
            "128 + its number.\n"
            "\n"
            "Exit status: 0 stopped by a signal after draining, 1 could "
            "not start (boot\n"
            "failed, cannot listen, another daemon owns the socket, host "
            "out of memory),\n"
            "2 bad options, machine description or refused configuration "
            "(protected mode).\n",
            MMSIM_NET_DEFAULT_HOST, MMSIM_NET_DEFAULT_PORT, d->unix_default,
            MMSIM_NET_DEFAULT_UNIX_MODE, MAX_WORKERS, online_cpus(),
            MMSIM_NET_DEFAULT_MAX_CONNECTIONS, lim.max_frame_bytes,
            (unsigned long long)lim.max_pages,
            (unsigned long long)lim.max_mapped_pages, lim.max_mappings,
            lim.max_inflight, lim.max_batch, lim.idle_timeout_ms / 1000,
            MMSIM_NET_DEFAULT_DRAIN_MS / 1000, mmsim_config_options_help());
}

static const char *long_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val)
            return opts->name;
    return "?";
}

/* A decimal number in [min, max]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/*
 * Read the token: the whole file less trailing CR/LF. The token is a
 * secret: nothing here echoes it.
 */
static int read_token_file(const char *path, uint8_t *tok, size_t *len)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, PROG ": --token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        fprintf(stderr, PROG ": --token-file %s: not a regular file\n", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077)
        logf_(LVL_WARN,
              "--token-file %s is readable by other users (mode %03o); "
              "chmod 600 it",
              path, (unsigned)(st.st_mode & 0777));
    n = read(fd, tok, TOKEN_MAX_BYTES + 1);
    close(fd);
    if (n < 0) {
        fprintf(stderr, PROG ": --token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        n--;
    if (n == 0 || n > TOKEN_MAX_BYTES) {
        fprintf(stderr,
                PROG ": --token-file %s: the token must have 1 to %d bytes\n",
                path, TOKEN_MAX_BYTES);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

/* Refuse --token VALUE before getopt_long would read it as an
 * abbreviation of --token-file: command lines are visible to every user. */
static bool token_on_command_line(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--token") || !strncmp(argv[i], "--token=", 8))
            return true;
    }
    return false;
}

/* ---- machine ----------------------------------------------------------- */

static void format_bytes(uint64_t bytes, char *buf, size_t len)
{
    if (bytes >= (UINT64_C(1) << 30))
        snprintf(buf, len, "%.1f GiB", (double)bytes / (1 << 30));
    else
        snprintf(buf, len, "%.1f MiB", (double)bytes / (1 << 20));
}

/* One line at info instead of the boot log. */
static void log_machine_summary(struct mmsim_machine *m, uint64_t boot_ms)
{
    const struct mmsim_desc *d = mmsim_machine_desc(m);
    uint64_t managed = 0, free_pages = 0, deferred = 0;
    bool seen[MMSIM_NR_ZONE_TYPES] = {false};
    char zones[96] = "", ram[32];
    size_t zl = 0;

    for (unsigned nid = 0; nid < mmsim_machine_nr_nodes(m); nid++) {
        for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(m, (int)nid, (enum mmsim_zone_type)t, &zi) ||
                !zi.present)
                continue;
            seen[t] = true;
            managed += zi.managed;
            free_pages += zi.free + zi.pcp;
            deferred += zi.deferred;
        }
    }
    for (int t = 0; t < MMSIM_NR_ZONE_TYPES; t++)
        if (seen[t] && zl < sizeof(zones))
            zl += (size_t)snprintf(
                zones + zl, sizeof(zones) - zl, "%s%s", zl ? "," : "",
                mmsim_zone_type_name((enum mmsim_zone_type)t));
    format_bytes(mmsim_desc_total_ram(d), ram, sizeof(ram));
    logf_(LVL_INFO,
          "machine booted in %llu ms: %u node%s, %u cpu%s, %s RAM, zones %s, "
          "%llu pages managed (%llu free, %llu deferred), max_order %u, "
          "%s, page contents %s",
          (unsigned long long)boot_ms, mmsim_machine_nr_nodes(m),
          mmsim_machine_nr_nodes(m) == 1 ? "" : "s", mmsim_machine_nr_cpus(m),
          mmsim_machine_nr_cpus(m) == 1 ? "" : "s", ram, zl ? zones : "none",
          (unsigned long long)managed, (unsigned long long)free_pages,
          (unsigned long long)deferred, mmsim_machine_max_order(m),
          d->early == MMSIM_EARLY_BOOTMEM ? "bootmem" : "memblock",
          mmsim_machine_has_contents(m) ? "on" : "off (metadata only)");
}

/* The swap device and the OOM policy, at info. */
static void log_vm_summary(struct mmsim_machine *m)
{
    const struct mmsim_desc *d = mmsim_machine_desc(m);
    const char *policy = d->oom_policy == MMSIM_OOM_FAIL
                             ? "fail the allocation"
                             : "kill the largest session";
    struct mmsim_swap_info si;
    char size[32];
    int rc = mmsim_swap_info(m, &si);

    if (rc) {
        logf_(LVL_WARN, "swap: %s; OOM policy: %s", mmsim_strerror(rc), policy);
        return;
    }
    if (!si.present) {
        logf_(LVL_INFO, "swap: none; OOM policy: %s", policy);
        return;
    }
    format_bytes(si.pages * MMSIM_PAGE_SIZE, size, sizeof(size));
    logf_(LVL_INFO, "swap: %s, %llu pages (%s); OOM policy: %s",
          si.path[0] ? si.path : "(in memory)", (unsigned long long)si.pages,
          size, policy);
}

/*
 * page_alloc_init_late() in the background: serving starts at once. It
 * cannot be interrupted, so a stop joins it (seconds for a TiB machine).
 */
static atomic_bool late_init_done;

static void *late_init_thread(void *arg)
{
    struct mmsim_machine *m = arg;
    uint64_t t0 = mono_ms(), pages = mmsim_machine_late_init(m);

    logf_(LVL_INFO, "deferred struct page init: %llu pages in %llu ms",
          (unsigned long long)pages, (unsigned long long)(mono_ms() - t0));
    atomic_store(&late_init_done, true);
    return NULL;
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        MMSIM_CONFIG_LONGOPTS,
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"unix", required_argument, NULL, OPT_UNIX},
        {"unix-mode", required_argument, NULL, OPT_UNIX_MODE},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
        {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
        {"max-pages", required_argument, NULL, OPT_MAX_PAGES},
        {"max-mapped-pages", required_argument, NULL, OPT_MAX_MAPPED_PAGES},
        {"max-mappings", required_argument, NULL, OPT_MAX_MAPPINGS},
        {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
        {"max-batch", required_argument, NULL, OPT_MAX_BATCH},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"metadata-only", no_argument, NULL, OPT_METADATA_ONLY},
        {"no-late-init", no_argument, NULL, OPT_NO_LATE_INIT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
        {"record", required_argument, NULL, OPT_RECORD},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static uint8_t token[TOKEN_MAX_BYTES + 1];
    struct mmsim_config_builder *b = malloc(sizeof(*b));
    struct mmsim_desc *desc = malloc(sizeof(*desc));
    struct mmsim_machine_opts mopts = {.log = machine_log,
                                       .oom_kill = machine_oom_kill};
    struct mmsim_rpc_config rcfg = {0};
    struct mmsim_net_config ncfg;
    struct mmsim_machine *m = NULL;
    struct mmsim_rpc *rpc = NULL;
    struct mmsim_net *net = NULL;
    struct daemon_opts d = {0};
    pthread_t late_thread;
    bool late_started = false;
    const char *env_token;
    size_t token_len = 0;
    char err[1024];
    uint64_t v, t0;
    int opt, idx = 0, rc, status = EXIT_USAGE;

    logcfg.pid = (long)getpid();
    if (!b || !desc) {
        fprintf(stderr, PROG ": out of memory\n");
        status = EXIT_START;
        goto out;
    }
    d.listen = MMSIM_NET_DEFAULT_LISTEN;
    default_unix_path(d.unix_default, sizeof(d.unix_default));
    d.unix_path = d.unix_default;
    d.unix_mode = MMSIM_NET_DEFAULT_UNIX_MODE;
    d.workers = online_cpus();
    d.max_connections = MMSIM_NET_DEFAULT_MAX_CONNECTIONS;
    d.drain_ms = MMSIM_NET_DEFAULT_DRAIN_MS;
    mmsim_rpc_limits_default(&d.limits);
    d.late_init = true;

    if (token_on_command_line(argc, argv)) {
        fprintf(stderr, PROG ": --token: a token is never taken on the "
                             "command line (every user can read it there); use "
                             "--token-file FILE or " TOKEN_ENV "\n");
        goto out;
    }
    mmsim_config_builder_init(b);
    while ((opt = getopt_long(argc, argv, "m:h", longopts, &idx)) != -1) {
        const char *name = opt == 'm'                   ? "m"
                           : opt == MMSIM_CONFIG_GETOPT ? longopts[idx].name
                                                        : NULL;
        const char *bad = NULL;

        if (name) {
            if (mmsim_config_option(b, name, optarg, err, sizeof(err))) {
                fprintf(stderr, PROG ": %s\n", err);
                goto out;
            }
            continue;
        }
        switch (opt) {
        case OPT_LISTEN:
            d.listen = strcmp(optarg, "none") ? optarg : NULL;
            break;
        case OPT_UNIX:
            d.unix_path = strcmp(optarg, "none") ? optarg : NULL;
            break;
        case OPT_UNIX_MODE: {
            char *end;
            unsigned long mode;

            errno = 0;
            mode = strtoul(optarg, &end, 8);
            if (errno || !*optarg || *end || mode > 0777)
                bad = "an octal mode such as 600";
            else
                d.unix_mode = (unsigned)mode;
            break;
        }
        case OPT_TOKEN_FILE:
            d.token_file = optarg;
            break;
        case OPT_WORKERS:
            if (parse_u64(optarg, 1, MAX_WORKERS, &v))
                bad = "a number of threads, 1-256";
            else
                d.workers = (unsigned)v;
            break;
        case OPT_MAX_CONNECTIONS:
            if (parse_u64(optarg, 1, 1000000, &v))
                bad = "a number, 1-1000000";
            else
                d.max_connections = (unsigned)v;
            break;
        case OPT_MAX_FRAME:
            if (mmsim_config_parse_size(optarg, &v) || v < MAX_FRAME_MIN ||
                v > MAX_FRAME_MAX)
                bad = "a size, 1K-64M";
            else
                d.limits.max_frame_bytes = (uint32_t)v;
            break;
        case OPT_MAX_PAGES:
            if (parse_u64(optarg, 0, UINT64_MAX, &v))
                bad = "a number of pages, 0 for no limit";
            else
                d.limits.max_pages = v;
            break;
        case OPT_MAX_MAPPED_PAGES:
            if (parse_u64(optarg, 0, UINT64_MAX, &v))
                bad = "a number of pages, 0 for no limit";
            else
                d.limits.max_mapped_pages = v;
            break;
        case OPT_MAX_MAPPINGS:
            if (parse_u64(optarg, 1, 1000000, &v))
                bad = "a number, 1-1000000";
            else
                d.limits.max_mappings = (uint32_t)v;
            break;
        case OPT_MAX_INFLIGHT:
            if (parse_u64(optarg, 1, 1000000, &v))
                bad = "a number, 1-1000000";
            else
                d.limits.max_inflight = (uint32_t)v;
            break;
        case OPT_MAX_BATCH:
            if (parse_u64(optarg, 1, 1000000, &v))
                bad = "a number, 1-1000000";
            else
                d.limits.max_batch = (uint32_t)v;
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_u64(optarg, 0, UINT32_MAX / 1000, &v))
                bad = "seconds, 0 for never";
            else
                d.limits.idle_timeout_ms = (uint32_t)v * 1000;
            break;
        case OPT_DRAIN_TIMEOUT:
            if (parse_u64(optarg, 1, 3600, &v))
                bad = "seconds, 1-3600";
            else
                d.drain_ms = (uint32_t)v * 1000;
            break;
        case OPT_METADATA_ONLY:
            d.metadata_only = true;
            break;
        case OPT_RECORD:
            d.record_dir = optarg;
            break;
        case OPT_NO_LATE_INIT:
            d.late_init = false;
            break;
        case OPT_LOG_LEVEL:
            if (!strcmp(optarg, "error"))
                logcfg.max_level = LVL_ERR;
            else if (!strcmp(optarg, "warn"))
                logcfg.max_level = LVL_WARN;
            else if (!strcmp(optarg, "info"))
                logcfg.max_level = LVL_INFO;
            else if (!strcmp(optarg, "debug"))
                logcfg.max_level = LVL_DEBUG;
            else
                bad = "error, warn, info or debug";
            break;
        case OPT_VERSION:
            printf(PROG " " MMSIM_VERSION "\n");
            status = EXIT_OK;
            goto out;
        case 'h':
            usage(stdout, &d);
            status = EXIT_OK;
            goto out;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            goto out;
        }
        if (bad) {
            fprintf(stderr, PROG ": --%s %s: expected %s\n",
                    long_name(longopts, opt), optarg, bad);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                PROG ": unexpected argument '%s'\nTry '" PROG " --help'.\n",
                argv[optind]);
        goto out;
    }

    /* The token: a file, else the environment; never argv. */
    env_token = getenv(TOKEN_ENV);
    if (d.token_file) {
        if (read_token_file(d.token_file, token, &token_len))
            goto out;
        if (env_token && *env_token)
            logf_(LVL_INFO, "--token-file given: ignoring " TOKEN_ENV);
    } else if (env_token && *env_token) {
        token_len = strlen(env_token);
        if (token_len > TOKEN_MAX_BYTES) {
            fprintf(stderr, PROG ": " TOKEN_ENV ": at most %d bytes\n",
                    TOKEN_MAX_BYTES);
            goto out;
        }
        memcpy(token, env_token, token_len);
    }

    if (mmsim_config_finish(b, desc, err, sizeof(err))) {
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    if (desc->swap_bytes && !desc->swap_path[0] &&
        mmsim_config_default_swap_dir(desc->swap_path,
                                      sizeof(desc->swap_path))) {
        fprintf(stderr,
                PROG ": $TMPDIR is too long for the swap file's "
                     "directory (at most %d characters)\n",
                MMSIM_DESC_PATH_LEN - 1);
        goto out;
    }
    desc->contents = !d.metadata_only;
    if (d.record_dir) {
        if (record_prepare(d.record_dir))
            goto out;
        record_dir = d.record_dir;
    }

    logf_(LVL_INFO, PROG " " MMSIM_VERSION " starting");
    /* Listeners first: a refused or busy address fails before the boot,
     * and clients that connect during the boot wait in the backlog. */
    signal(SIGPIPE, SIG_IGN); /* an EPIPE, not the daemon's death */
    mmsim_net_config_default(&ncfg);
    ncfg.tcp_listen = d.listen;
    ncfg.unix_path = d.unix_path;
    ncfg.unix_mode = d.unix_mode;
    ncfg.auth_required = token_len > 0;
    ncfg.nr_workers = d.workers;
    ncfg.max_connections = d.max_connections;
    ncfg.max_frame_bytes = d.limits.max_frame_bytes;
    ncfg.idle_timeout_ms = d.limits.idle_timeout_ms;
    ncfg.drain_timeout_ms = d.drain_ms;
    ncfg.log = net_log;
    rc = mmsim_net_create(&ncfg, &net, err, sizeof(err));
    if (rc) {
        logf_(LVL_ERR, "%s", err);
        status = rc == MMSIM_EINVAL ? EXIT_USAGE : EXIT_START;
        goto out;
    }

    t0 = mono_ms();
    rc = mmsim_machine_create(desc, &mopts, &m, err, sizeof(err));
    atomic_store(&machine_booting, false);
    if (rc) {
        logf_(LVL_ERR, "boot failed: %s", err);
        status = rc == MMSIM_ECONFIG ? EXIT_USAGE : EXIT_START;
        goto out;
    }
    log_machine_summary(m, mono_ms() - t0);
    log_vm_summary(m);
    rc = mmsim_kswapd_start(m);
    if (rc) {
        logf_(LVL_ERR, "kswapd: %s", mmsim_strerror(rc));
        status = EXIT_START;
        goto out;
    }

    rcfg.machine = m;
    rcfg.limits = d.limits;
    /* The decode budget follows the frame limit, as the default does. */
    rcfg.limits.decode_budget_bytes =
        (size_t)4 * d.limits.max_frame_bytes + (64u << 10);
    rcfg.token = token_len ? token : NULL;
    rcfg.token_len = token_len;
    rcfg.log = rpc_log;
    rcfg.recorder = record_dir ? &recorder : NULL;
    if (record_dir)
        logf_(token_len ? LVL_WARN : LVL_INFO,
              "recording every session's input to %s/session-%ld-ID.rpc%s",
              record_dir, logcfg.pid,
              token_len ? " (the files hold the clients' tokens)" : "");
    rcfg.session_killed = mmsim_net_session_killed;
    rcfg.session_killed_ctx = net;
    rc = mmsim_rpc_create(&rcfg, &rpc);
    if (rc) {
        logf_(LVL_ERR, "rpc: %s", mmsim_strerror(rc));
        status = rc == MMSIM_EINVAL ? EXIT_USAGE : EXIT_START;
        goto out;
    }
    atomic_store(&oom_rpc, rpc);
    rc = mmsim_net_start(net, rpc, m, err, sizeof(err));
    if (rc) {
        logf_(LVL_ERR, "%s", err);
        status = EXIT_START;
        goto out;
    }
    logf_(LVL_INFO,
          "limits: %u workers, %u connections, frames of %u bytes, %llu "
          "pages per session%s, %llu mapped%s in at most %u regions, %u in "
          "flight, batches of %u, idle timeout %u s%s; authentication %s",
          d.workers, d.max_connections, d.limits.max_frame_bytes,
          (unsigned long long)d.limits.max_pages,
          d.limits.max_pages ? "" : " (no limit)",
          (unsigned long long)d.limits.max_mapped_pages,
          d.limits.max_mapped_pages ? "" : " (no limit)", d.limits.max_mappings,
          d.limits.max_inflight, d.limits.max_batch,
          d.limits.idle_timeout_ms / 1000,
          d.limits.idle_timeout_ms ? "" : " (none)",
          token_len
              ? (d.token_file ? "by token (file)" : "by token (" TOKEN_ENV ")")
              : "off (loopback and the Unix socket only)");
    {
        const char *tcp = mmsim_net_tcp_address(net);
        const char *unx = mmsim_net_unix_path(net);

        logf_(LVL_INFO, PROG " ready: %s%s%s%s%s", tcp ? "tcp " : "",
              tcp ? tcp : "", tcp && unx ? ", " : "", unx ? "unix " : "",
              unx ? unx : "");
    }

    if (d.late_init && desc->deferred_init) {
        if (pthread_create(&late_thread, NULL, late_init_thread, m))
            logf_(LVL_WARN, "no late-init thread: deferred pages join on "
                            "demand");
        else
            late_started = true;
    }

    status = mmsim_net_run(net) ? EXIT_START : EXIT_OK;

out:
    mmsim_net_destroy(net);
    if (late_started) {
        if (!atomic_load(&late_init_done))
            logf_(LVL_INFO, "waiting for the deferred struct page init");
        pthread_join(late_thread, NULL);
    }
    /* Every session is gone: nothing can reach the OOM killer now. */
    atomic_store(&oom_rpc, NULL);
    if (m)
        mmsim_kswapd_stop(m);
    mmsim_rpc_destroy(rpc);
    mmsim_machine_destroy(m);
    if (m && status == EXIT_OK)
        logf_(LVL_INFO, "exit 0");
    memset(token, 0, sizeof(token));
    free(b);
    free(desc);
    return status;
}
