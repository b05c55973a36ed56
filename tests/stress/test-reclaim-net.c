/*
 * test-reclaim-net.c - reclaim and swap under load, over the network: a
 * real mmsimd on a small machine with swap and kswapd, and many sessions
 * at once (one thread and one connection each) whose address spaces add
 * up to twice the machine's managed pages. Every session writes seeded,
 * self-describing patterns to every page of its working set (pipelined
 * MemWrites of 1 to 16 pages), reads it all back and compares; then, for
 * each further round, rewrites a random third with a new seed and
 * verifies everything again. Meanwhile a monitor session alternates
 * direct Reclaim requests and Check, and samples the daemon's VmRSS.
 *
 * What must hold: not one byte differs; reclaim really ran (pswpout,
 * pswpin, pgsteal_* > 0) and the OOM killer did not (oom_kill == 0); the
 * checker passes during and after the run; once the sessions close, no
 * anonymous page and no swap slot is left and every page is free again;
 * the daemon's resident memory stays bounded; SIGTERM stops it with exit
 * status 0 (under ASan, LeakSanitizer runs at that exit).
 *
 * Usage: test-reclaim-net PATH-TO-MMSIMD
 * MMSIM_STRESS_SEED=N replays the patterns and choices of a run (the seed
 * is printed; by default it comes from the clock; the interleaving of
 * the sessions is not replayed). MMSIM_STRESS_ROUNDS=N sets the number
 * of generations written (default 16, 8 under a sanitizer). Setting
 * MMSIM_TEST_KEEP=1 keeps the daemon's log and swap file, as a failure
 * does.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmsim.pb-c.h"
#include "mmsim/client.h"

#include "../integration/daemon.h"

#define ST(x) MMSIM__V1__STATUS__##x

/* Sanitizers: clang says so with __has_feature, gcc with __SANITIZE_*__. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAN_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define SAN_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SAN_ASAN)
#define SAN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(SAN_TSAN)
#define SAN_TSAN 1
#endif

#define PAGE           4096u
#define NR_SESSIONS    8
#define WINDOW         32          /* requests in flight per session */
#define MAX_RUN        16          /* pages per MemWrite / MemRead */
#define MAX_REPORTS    20          /* mismatch lines printed, in all */
#define MAGIC          0x53534d4du /* "MMSS" */
#define RAM_MIB        64
#define DEFAULT_ROUNDS 16  /* generations written, release builds */
#define SAN_ROUNDS     8   /* under a sanitizer */
#define SAN_RSS_MIB    512 /* more daemon RSS allowed under a sanitizer */
#define SWAP_MIB       256
#define MMSIM_XSTR_(x) #x
#define MMSIM_STR_(x)  MMSIM_XSTR_(x)

static const char *mmsimd_path;
static char tmpdir[] = "/tmp/test-reclaim-net-XXXXXX";

/* ---- time, files, the daemon --------------------------------------------- */

static struct daemon dmn;
static char swap_path[256]; /* the daemon's swap file */

/* A "Name:   N kB" line of /proc/PID/status, in KiB; -1 if absent. */
static long proc_status_kib(pid_t pid, const char *name)
{
    char path[64], *text, *p;
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    text = slurp(path);
    p = strstr(text, name);
    if (p)
        kib = strtol(p + strlen(name), NULL, 10);
    free(text);
    return kib;
}

static void start_daemon(struct daemon *d, const char *ram, const char *swap)
{
    char swaparg[320];
    const char *argv[] = {mmsimd_path, "--listen",
                          "none",      "--unix",
                          d->sock,     "--workers",
                          "4",         "--log-level",
                          "debug",     "-m",
                          ram,         "--swap",
                          swaparg,     "--oom-policy",
                          "kill",      "--deferred-init",
                          "off",       NULL};
    int st = 0;

    memset(d, 0, sizeof(*d));
    d->dump_max = 65536;
    snprintf(d->log, sizeof(d->log), "%s/mmsimd.log", tmpdir);
    snprintf(d->sock, sizeof(d->sock), "%s/mmsimd.sock", tmpdir);
    snprintf(swap_path, sizeof(swap_path), "%s/swap", tmpdir);
    snprintf(swaparg, sizeof(swaparg), "%s,file=%s", swap, swap_path);
    if (daemon_spawn(d, argv, NULL, NULL, 30000, &st)) {
        dump_log(d);
        fail_msg("mmsimd exited at start, status %#x", st);
    }
}

/* SIGTERM, then exit status 0 within @timeout_ms. */
static void stop_daemon(struct daemon *d, int timeout_ms)
{
    int ms;

    if (!d->pid)
        return;
    ms = daemon_stop(d, timeout_ms);
    printf("reclaim-net: mmsimd exited %d ms after SIGTERM, status 0\n", ms);
}

/* ---- libmmsim helpers (main thread) -------------------------------------- */

static struct mmsim_client *connect_client(const char *name)
{
    struct mmsim_client_opts o;
    struct mmsim_client *c = NULL;
    char err[256];

    mmsim_client_opts_init(&o);
    o.client_name = name;
    /* Bounds every wait: a daemon that stops answering fails the test. */
    o.timeout_ms = 120000;
    if (mmsim_client_connect(dmn.sock, &o, &c, err, sizeof(err)))
        fail_msg("connect %s: %s", dmn.sock, err);
    return c;
}

#define OK(c, call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0)                                                           \
            fail_msg("%s: %s (%s: %s)", #call, mmsim_client_strerror(rc_),     \
                     mmsim_client_status_name(mmsim_client_status(c)),         \
                     mmsim_client_message(c));                                 \
    } while (0)

struct counters {
    uint64_t nr_anon_pages, pswpin, pswpout, pgsteal_kswapd, pgsteal_direct;
    uint64_t pgscan_kswapd, pgscan_direct, pgmajfault, oom_kill, allocstall;
    uint64_t swap_total_kib, swap_free_kib, free_pages;
};

static uint64_t meminfo_kib(const char *text, const char *name)
{
    const char *p = strstr(text, name);

    if (!p)
        fail_msg("no %s in /proc/meminfo:\n%s", name, text);
    return strtoull(p + strlen(name), NULL, 10);
}

static void read_counters(struct mmsim_client *c, struct counters *k)
{
    Mmsim__V1__ViewReply *v = NULL;
    Mmsim__V1__MachineReply *m = NULL;
    char *text = NULL;
    int found = 0;

    memset(k, 0, sizeof(*k));
    OK(c, mmsim_client_view(c, MMSIM__V1__VIEW_KIND__VMSTAT, NULL, &v));
    for (size_t i = 0; i < v->n_counters; i++) {
        const char *n = v->counters[i]->name;
        uint64_t val = v->counters[i]->value;
        static const struct {
            const char *name;
            size_t off;
        } want[] = {
#define W_(f) {#f, offsetof(struct counters, f)}
            W_(nr_anon_pages),  W_(pswpin),         W_(pswpout),
            W_(pgsteal_kswapd), W_(pgsteal_direct), W_(pgscan_kswapd),
            W_(pgscan_direct),  W_(pgmajfault),     W_(oom_kill),
#undef W_
        };

        for (size_t j = 0; j < sizeof(want) / sizeof(want[0]); j++)
            if (!strcmp(n, want[j].name)) {
                *(uint64_t *)((char *)k + want[j].off) = val;
                found++;
            }
        if (!strncmp(n, "allocstall_", 11))
            k->allocstall += val;
    }
    mmsim_client_pb_free(v);
    assert_int_equal(found, 9);
    OK(c, mmsim_client_view(c, MMSIM__V1__VIEW_KIND__MEMINFO, &text, NULL));
    k->swap_total_kib = meminfo_kib(text, "SwapTotal:");
    k->swap_free_kib = meminfo_kib(text, "SwapFree:");
    free(text);
    OK(c, mmsim_client_machine(c, &m));
    for (size_t i = 0; i < m->n_zones; i++)
        k->free_pages += m->zones[i]->free + m->zones[i]->pcp;
    mmsim_client_pb_free(m);
}

static void assert_check(struct mmsim_client *c, bool full)
{
    char problem[512];
    bool ok = false;

    OK(c, mmsim_client_check(c, full, &ok, problem, sizeof(problem)));
    if (!ok) {
        dump_log(&dmn);
        fail_msg("check%s: %s", full ? " (full)" : "", problem);
    }
}

/* ---- patterns ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Page header: who the bytes were meant for, so that a mismatch can say
 * whose data it found instead. */
struct page_hdr {
    uint32_t magic;
    uint16_t session;
    uint16_t gen;
    uint64_t page;
};

/* Page @page of session @sess, generation @gen (1 or 2): a header, then
 * bytes from a generator seeded by all of it. */
static void fill_page(uint8_t *p, uint64_t seed, unsigned sess, uint64_t page,
                      unsigned gen)
{
    struct page_hdr h = {MAGIC, (uint16_t)sess, (uint16_t)gen, page};
    uint64_t s = seed ^ ((uint64_t)gen << 56) ^ ((uint64_t)sess << 40) ^ page;

    splitmix(&s);
    memcpy(p, &h, sizeof(h));
    for (size_t off = sizeof(h); off < PAGE; off += 8) {
        uint64_t v = splitmix(&s);

        memcpy(p + off, &v, 8);
    }
}

/* ---- sessions ------------------------------------------------------------ */

struct shared {
    uint64_t seed;
    unsigned rounds; /* generations: 1 writes all, the others a third */
    pthread_barrier_t phase;
    pthread_mutex_t report_lock;
    int reports; /* mismatch lines printed so far, under report_lock */
};

enum op_kind { OP_WRITE, OP_READ };

/* One request in flight: responses come back in request order. */
struct op {
    int64_t id;
    enum op_kind kind;
    uint64_t page;  /* first page */
    unsigned pages; /* count */
};

struct session {
    struct shared *sh;
    unsigned idx;
    struct mmsim_client *c;
    uint64_t addr, npages;
    uint64_t rng;
    uint8_t *gen;  /* per page: the generation it must hold (0: none yet) */
    uint8_t *buf;  /* MAX_RUN pages: patterns to write */
    uint8_t *want; /* a page: the pattern a read must find */
    struct op ops[WINDOW];
    unsigned op_head, op_count;
    /* results */
    uint64_t pages_written, pages_read, requests;
    uint64_t bad_bytes, bad_pages;
    struct mmsim_client_mm_stat stat;
    char error[512]; /* first error that is not a mismatch */
};

__attribute__((format(printf, 2, 3))) static void
sess_error(struct session *s, const char *fmt, ...)
{
    va_list ap;

    if (s->error[0])
        return;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
}

/* The client's error, in @s->error. */
static void sess_client_error(struct session *s, const char *what, int rc)
{
    sess_error(s, "session %u: %s: %s (%s: %s)", s->idx, what,
               mmsim_client_strerror(rc),
               mmsim_client_status_name(mmsim_client_status(s->c)),
               mmsim_client_message(s->c));
}

__attribute__((format(printf, 2, 3))) static void report(struct session *s,
                                                         const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&s->sh->report_lock);
    if (s->sh->reports++ < MAX_REPORTS) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s->sh->report_lock);
}

/* Compare one page read back with what it must hold. */
static void verify_page(struct session *s, uint64_t page, const uint8_t *got)
{
    uint8_t *want = s->want;
    size_t bad = 0, first = PAGE;
    struct page_hdr h;
    bool zero = true;
    char whose[96];

    fill_page(want, s->sh->seed, s->idx, page, s->gen[page]);
    for (size_t i = 0; i < PAGE; i++) {
        if (got[i] != want[i]) {
            if (!bad)
                first = i;
            bad++;
        }
        zero = zero && got[i] == 0;
    }
    s->pages_read++;
    if (!bad)
        return;
    s->bad_bytes += bad;
    s->bad_pages++;
    memcpy(&h, got, sizeof(h));
    if (zero)
        snprintf(whose, sizeof(whose), "zeros");
    else if (h.magic == MAGIC)
        snprintf(whose, sizeof(whose),
                 "the header of session %u page %" PRIu64 " gen %u", h.session,
                 h.page, h.gen);
    else
        snprintf(whose, sizeof(whose), "no known header");
    report(s,
           "MISMATCH: session %u page %" PRIu64 " (addr %#" PRIx64
           ", gen %u): %zu bytes differ, first at offset %zu "
           "(want %#04x, got %#04x); the page holds %s\n",
           s->idx, page, s->addr + page * PAGE, s->gen[page], bad, first,
           want[first], got[first], whose);
}

/* Receive the oldest response and settle its op. Return: false when the
 * session cannot go on (s->error says why). */
static bool recv_one(struct session *s)
{
    struct op *op = &s->ops[s->op_head];
    Mmsim__V1__Response *r = NULL;
    int rc = mmsim_client_recv(s->c, &r);

    if (rc) {
        sess_client_error(s, "recv", rc);
        return false;
    }
    s->op_head = (s->op_head + 1) % WINDOW;
    s->op_count--;
    if (r->id != (uint64_t)op->id) {
        sess_error(s, "session %u: response id %" PRIu64 ", expected %" PRId64,
                   s->idx, r->id, op->id);
        mmsim_client_pb_free(r);
        return false;
    }
    if (r->status != ST(OK)) {
        sess_error(
            s,
            "session %u: %s of pages %" PRIu64 "..%" PRIu64 " (addr %#" PRIx64
            "): %s: %s",
            s->idx, op->kind == OP_WRITE ? "MemWrite" : "MemRead", op->page,
            op->page + op->pages - 1, s->addr + op->page * PAGE,
            mmsim_client_status_name(r->status), r->message ? r->message : "");
        mmsim_client_pb_free(r);
        return false;
    }
    if (op->kind == OP_READ) {
        if (r->result_case != MMSIM__V1__RESPONSE__RESULT_READ ||
            r->read->data.len != (size_t)op->pages * PAGE) {
            sess_error(s, "session %u: MemRead of %u pages answered %zu bytes",
                       s->idx, op->pages,
                       r->result_case == MMSIM__V1__RESPONSE__RESULT_READ
                           ? r->read->data.len
                           : 0);
            mmsim_client_pb_free(r);
            return false;
        }
        for (unsigned i = 0; i < op->pages; i++)
            verify_page(s, op->page + i, r->read->data.data + i * PAGE);
    }
    mmsim_client_pb_free(r);
    return true;
}

/* Queue one request (waiting for the oldest answer when the window is
 * full). */
static bool issue(struct session *s, enum op_kind kind, uint64_t page,
                  unsigned pages)
{
    struct op *op;
    int64_t id;

    while (s->op_count == WINDOW)
        if (!recv_one(s))
            return false;
    if (kind == OP_WRITE) {
        for (unsigned i = 0; i < pages; i++)
            fill_page(s->buf + i * PAGE, s->sh->seed, s->idx, page + i,
                      s->gen[page + i]);
        id = mmsim_client_send_mem_write(s->c, s->addr + page * PAGE, s->buf,
                                         (size_t)pages * PAGE);
        s->pages_written += pages;
    } else {
        id = mmsim_client_send_mem_read(s->c, s->addr + page * PAGE,
                                        pages * PAGE);
    }
    if (id < 0) {
        sess_client_error(
            s, kind == OP_WRITE ? "send MemWrite" : "send MemRead", (int)id);
        return false;
    }
    op = &s->ops[(s->op_head + s->op_count) % WINDOW];
    op->id = id;
    op->kind = kind;
    op->page = page;
    op->pages = pages;
    s->op_count++;
    s->requests++;
    return true;
}

static bool drain(struct session *s)
{
    while (s->op_count)
        if (!recv_one(s))
            return false;
    return true;
}

static unsigned run_len(struct session *s, uint64_t page)
{
    unsigned n = 1 + (unsigned)(splitmix(&s->rng) % MAX_RUN);

    return page + n > s->npages ? (unsigned)(s->npages - page) : n;
}

/* Write generation @gen to every page (@all), or to random runs covering
 * about a third of them; the runs vary in length, 1..MAX_RUN pages. */
static bool write_pass(struct session *s, unsigned gen, bool all)
{
    for (uint64_t p = 0; p < s->npages;) {
        unsigned n = run_len(s, p);

        if (all || splitmix(&s->rng) % 3 == 0) {
            memset(s->gen + p, (int)gen, n);
            if (!issue(s, OP_WRITE, p, n))
                return false;
        }
        p += n;
    }
    return drain(s);
}

static bool verify_pass(struct session *s)
{
    for (uint64_t p = 0; p < s->npages;) {
        unsigned n = run_len(s, p);

        if (!issue(s, OP_READ, p, n))
            return false;
        p += n;
    }
    return drain(s);
}

/*
 * The phases, in step with the other sessions (a barrier after each, so
 * that all working sets are written before any is read back, and the
 * reads must swap in): map, write generation 1 everywhere, verify; then
 * for each further generation (a new seed), rewrite a random third and
 * verify everything; GetMmStat. A session that failed still meets the
 * barriers.
 */
static void *session_main(void *arg)
{
    struct session *s = arg;
    bool ok = true;
    int rc;

    rc = mmsim_client_mmap(s->c, s->npages, MMSIM_CLIENT_ANY_NODE, &s->addr);
    if (rc) {
        sess_client_error(s, "Mmap", rc);
        ok = false;
    }
    for (unsigned gen = 1; gen <= s->sh->rounds; gen++) {
        pthread_barrier_wait(&s->sh->phase);
        ok = ok && write_pass(s, gen, gen == 1);
        pthread_barrier_wait(&s->sh->phase);
        ok = ok && verify_pass(s);
    }
    if (ok && (rc = mmsim_client_mm_stat(s->c, &s->stat)) != 0)
        sess_client_error(s, "GetMmStat", rc);
    return NULL;
}

/* ---- the monitor --------------------------------------------------------- */

/*
 * While the sessions run: the daemon's VmRSS, direct reclaim from one more
 * server thread, and the checker. It stops before any session closes: a
 * Check that races a session's teardown can fail spuriously today
 * (mmsim_mm_destroy() unlinks the address space before it frees its pages).
 */
struct monitor {
    pid_t pid;
    struct mmsim_client *c;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    long rss_max_kib;
    unsigned samples, checks, reclaims;
    uint64_t reclaimed; /* by the monitor's Reclaim requests */
    char error[512];
};

static void *monitor_main(void *arg)
{
    struct monitor *mo = arg;

    pthread_mutex_lock(&mo->lock);
    while (!mo->stop) {
        struct timespec until;
        long kib;
        char problem[256];
        bool ok = true;
        int rc;

        pthread_mutex_unlock(&mo->lock);
        kib = proc_status_kib(mo->pid, "VmRSS:");
        if (kib > mo->rss_max_kib)
            mo->rss_max_kib = kib;
        mo->samples++;
        /* Between samples, in turn: direct reclaim from one more
         * server thread, racing kswapd and the faults; the checker. */
        if (mo->samples % 2 == 1 && !mo->error[0]) {
            struct mmsim_client_reclaim rr = {0};

            rc = mmsim_client_reclaim(mo->c, MMSIM_CLIENT_ANY_NODE, 4, 0, &rr);
            if (rc)
                snprintf(mo->error, sizeof(mo->error), "Reclaim: %s (%s: %s)",
                         mmsim_client_strerror(rc),
                         mmsim_client_status_name(mmsim_client_status(mo->c)),
                         mmsim_client_message(mo->c));
            mo->reclaimed += rr.reclaimed;
            mo->reclaims++;
        }
        if (mo->samples % 2 == 0 && !mo->error[0]) {
            rc =
                mmsim_client_check(mo->c, false, &ok, problem, sizeof(problem));
            if (rc)
                snprintf(mo->error, sizeof(mo->error), "Check: %s (%s: %s)",
                         mmsim_client_strerror(rc),
                         mmsim_client_status_name(mmsim_client_status(mo->c)),
                         mmsim_client_message(mo->c));
            else if (!ok)
                snprintf(mo->error, sizeof(mo->error),
                         "Check during the run: %s", problem);
            mo->checks++;
        }
        /* The sampling period, cut short by the end of the run. */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&mo->lock);
        if (!mo->stop)
            pthread_cond_timedwait(&mo->cond, &mo->lock, &until);
    }
    pthread_mutex_unlock(&mo->lock);
    return NULL;
}

/* ---- the test ------------------------------------------------------------ */

static uint64_t base_seed(void)
{
    const char *env = getenv("MMSIM_STRESS_SEED");
    struct timespec ts;

    if (env && *env)
        return strtoull(env, NULL, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
           ((uint64_t)getpid() << 32);
}

/*
 * Generations each session writes: 1 and at least one more. Each round
 * after the first rewrites a third and reads everything back.
 * MMSIM_STRESS_ROUNDS overrides (2..255).
 */
static unsigned rounds(const char *san)
{
    const char *env = getenv("MMSIM_STRESS_ROUNDS");
    unsigned n = DEFAULT_ROUNDS;

    if (env && *env) {
        n = (unsigned)strtoul(env, NULL, 0);
        n = n < 2 ? 2 : n > 255 ? 255 : n;
        printf("reclaim-net: %u rounds (MMSIM_STRESS_ROUNDS)\n", n);
    } else if (san) {
        n = SAN_ROUNDS;
        printf("reclaim-net: %u rounds instead of %u under %s\n", n,
               DEFAULT_ROUNDS, san);
    } else {
        printf("reclaim-net: %u rounds\n", n);
    }
    return n;
}

static void test_reclaim_net(void **state)
{
    static struct session sess[NR_SESSIONS];
    static struct shared sh;
    static struct monitor mo;
    pthread_t th[NR_SESSIONS], mth;
    struct mmsim_client *admin;
    struct counters k0, k1, k2;
    uint64_t managed, ram_pages, per, total_written = 0, total_read = 0;
    uint64_t bad_bytes = 0, bad_pages = 0, requests = 0;
    long rss_bound_kib, hwm_kib, rss_after_kib;
    const char *ram = MMSIM_STR_(RAM_MIB) "M", *swap = MMSIM_STR_(SWAP_MIB) "M";
    const char *san = NULL;
    int64_t t0, t_run;
    int64_t stop_timeout = 30000;
    unsigned failures = 0;

    (void)state;
#if defined(SAN_TSAN)
    san = "ThreadSanitizer";
#elif defined(SAN_ASAN)
    san = "AddressSanitizer";
#endif
    sh.seed = base_seed();
    printf("reclaim-net: seed %" PRIu64
           " (set MMSIM_STRESS_SEED to replay the patterns)\n",
           sh.seed);
    sh.rounds = rounds(san);
    t0 = now_ms();
    start_daemon(&dmn, ram, swap);
    admin = connect_client("admin");
    managed = mmsim_client_hello_reply(admin)->machine->managed_pages;
    ram_pages = (uint64_t)RAM_MIB * 1024 * 1024 / PAGE;
    per = 2 * managed / NR_SESSIONS;
    read_counters(admin, &k0);
    printf("reclaim-net: mmsimd -m %s --swap %s: %" PRIu64
           " managed pages, %" PRIu64 " KiB swap; %d sessions of %" PRIu64
           " pages (%" PRIu64 " pages, %.1fx managed)%s%s\n",
           ram, swap, managed, k0.swap_total_kib, NR_SESSIONS, per,
           per * NR_SESSIONS, (double)(per * NR_SESSIONS) / (double)managed,
           san ? "; built with " : "", san ? san : "");
    assert_true(per * NR_SESSIONS * PAGE / 1024 < k0.swap_total_kib);
    assert_int_equal(k0.nr_anon_pages, 0);
    assert_int_equal(k0.oom_kill, 0);

    assert_int_equal(pthread_barrier_init(&sh.phase, NULL, NR_SESSIONS), 0);
    pthread_mutex_init(&sh.report_lock, NULL);
    for (unsigned i = 0; i < NR_SESSIONS; i++) {
        char name[32];
        uint64_t s = sh.seed ^ (0xA5A5ull << 48) ^ i;

        snprintf(name, sizeof(name), "reclaim-net-%u", i);
        sess[i].sh = &sh;
        sess[i].idx = i;
        sess[i].c = connect_client(name);
        sess[i].npages = per;
        sess[i].rng = splitmix(&s);
        sess[i].gen = calloc(per, 1);
        sess[i].buf = malloc((size_t)MAX_RUN * PAGE);
        sess[i].want = malloc(PAGE);
        assert_non_null(sess[i].gen);
        assert_non_null(sess[i].buf);
        assert_non_null(sess[i].want);
    }
    mo.pid = dmn.pid;
    mo.c = connect_client("monitor");
    pthread_mutex_init(&mo.lock, NULL);
    pthread_cond_init(&mo.cond, NULL);
    assert_int_equal(pthread_create(&mth, NULL, monitor_main, &mo), 0);

    t_run = now_ms();
    for (unsigned i = 0; i < NR_SESSIONS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, session_main, &sess[i]),
                         0);
    for (unsigned i = 0; i < NR_SESSIONS; i++)
        pthread_join(th[i], NULL);
    t_run = now_ms() - t_run;
    read_counters(admin, &k1);

    pthread_mutex_lock(&mo.lock);
    mo.stop = true;
    pthread_cond_signal(&mo.cond);
    pthread_mutex_unlock(&mo.lock);
    pthread_join(mth, NULL);

    for (unsigned i = 0; i < NR_SESSIONS; i++) {
        struct session *s = &sess[i];

        total_written += s->pages_written;
        total_read += s->pages_read;
        bad_bytes += s->bad_bytes;
        bad_pages += s->bad_pages;
        requests += s->requests;
        if (s->error[0]) {
            fprintf(stderr, "FAIL: %s\n", s->error);
            failures++;
        } else if (s->stat.total_vm != per ||
                   s->stat.rss + s->stat.swapents != per) {
            fprintf(stderr,
                    "FAIL: session %u: GetMmStat total_vm %" PRIu64
                    " rss %" PRIu64 " swapents %" PRIu64 ", expected %" PRIu64
                    " pages, each resident or swapped\n",
                    i, s->stat.total_vm, s->stat.rss, s->stat.swapents, per);
            failures++;
        }
    }
    printf("reclaim-net: %" PRIu64 " pages written, %" PRIu64
           " pages read back and compared in %" PRIu64 " requests, %" PRId64
           " ms; %" PRIu64 " bytes in %" PRIu64 " pages mismatched\n",
           total_written, total_read, requests, t_run, bad_bytes, bad_pages);
    printf("reclaim-net: vmstat pswpout %" PRIu64 " pswpin %" PRIu64
           " pgmajfault %" PRIu64 " pgscan_kswapd %" PRIu64
           " pgsteal_kswapd %" PRIu64 " pgscan_direct %" PRIu64
           " pgsteal_direct %" PRIu64 " allocstall %" PRIu64
           " oom_kill %" PRIu64 "; swap used %" PRIu64 " KiB\n",
           k1.pswpout, k1.pswpin, k1.pgmajfault, k1.pgscan_kswapd,
           k1.pgsteal_kswapd, k1.pgscan_direct, k1.pgsteal_direct,
           k1.allocstall, k1.oom_kill, k1.swap_total_kib - k1.swap_free_kib);
    if (failures || bad_bytes || mo.error[0] || k1.oom_kill) {
        if (mo.error[0])
            fprintf(stderr, "FAIL: monitor: %s\n", mo.error);
        dump_log(&dmn);
    }
    if (bad_bytes)
        fail_msg("%" PRIu64 " bytes in %" PRIu64
                 " pages read back differently from what was written "
                 "(seed %" PRIu64 ")",
                 bad_bytes, bad_pages, sh.seed);
    if (failures)
        fail_msg("%u of %d sessions failed (seed %" PRIu64 ")", failures,
                 NR_SESSIONS, sh.seed);
    if (mo.error[0])
        fail_msg("monitor: %s", mo.error);
    assert_int_equal(total_read, (uint64_t)sh.rounds * per * NR_SESSIONS);
    assert_true(total_written > per * NR_SESSIONS);

    /* Reclaim happened, and the OOM killer stayed away. */
    assert_int_equal(k1.oom_kill, 0);
    assert_true(k1.pswpout > 0);
    assert_true(k1.pswpin > 0);
    assert_true(k1.pgsteal_kswapd + k1.pgsteal_direct > 0);
    assert_true(k1.pgmajfault > 0);

    /* The checker, everything included, with all sessions still open. */
    assert_check(admin, true);
    for (unsigned i = 0; i < NR_SESSIONS; i++) {
        mmsim_client_close(sess[i].c);
        free(sess[i].gen);
        free(sess[i].buf);
        free(sess[i].want);
    }
    mmsim_client_close(mo.c);
    mmsim_client_close(admin);

    /* A fresh session sees everything given back. Teardown runs in the
     * daemon after each close and answers nobody: poll for it, bounded. */
    admin = connect_client("after");
    for (int64_t end = now_ms() + 30000;; sleep_ms(20)) {
        read_counters(admin, &k2);
        if ((k2.nr_anon_pages == 0 && k2.swap_free_kib == k2.swap_total_kib &&
             k2.free_pages == k0.free_pages) ||
            now_ms() > end)
            break;
    }
    printf("reclaim-net: after close: nr_anon_pages %" PRIu64
           ", swap used %" PRIu64 " KiB, free pages %" PRIu64 " of %" PRIu64
           "\n",
           k2.nr_anon_pages, k2.swap_total_kib - k2.swap_free_kib,
           k2.free_pages, k0.free_pages);
    assert_int_equal(k2.nr_anon_pages, 0);
    assert_int_equal(k2.swap_free_kib, k2.swap_total_kib);
    assert_int_equal(k2.free_pages, k0.free_pages);
    assert_check(admin, true);
    mmsim_client_close(admin);

    /* The daemon's memory: the simulated RAM it touched, plus a margin
     * for buffers, threads and the swap I/O. Sanitizers add their shadow
     * memory and ASan its quarantine of freed blocks (256 MiB by default),
     * so under them the bound only catches unbounded growth. */
    rss_after_kib = proc_status_kib(dmn.pid, "VmRSS:");
    hwm_kib = proc_status_kib(dmn.pid, "VmHWM:");
    rss_bound_kib = (long)(ram_pages * PAGE / 1024) + 64 * 1024;
    if (san) {
        rss_bound_kib += SAN_RSS_MIB * 1024;
        printf("reclaim-net: RSS bound relaxed by %d MiB: %s's shadow "
               "memory and allocator dominate the daemon's RSS\n",
               SAN_RSS_MIB, san);
    }
    printf("reclaim-net: mmsimd VmRSS max %ld KiB over %u samples (%u checks "
           "and %u Reclaims of %" PRIu64
           " pages meanwhile), %ld KiB after the run, VmHWM %ld KiB; bound "
           "%ld KiB\n",
           mo.rss_max_kib, mo.samples, mo.checks, mo.reclaims, mo.reclaimed,
           rss_after_kib, hwm_kib, rss_bound_kib);
    assert_true(mo.samples > 0 && mo.rss_max_kib > 0 && hwm_kib > 0);
    assert_true(mo.rss_max_kib < rss_bound_kib);
    assert_true(rss_after_kib < rss_bound_kib);
    assert_true(hwm_kib < rss_bound_kib);

#if defined(SAN_TSAN) || defined(SAN_ASAN)
    stop_timeout = 120000;
#endif
    stop_daemon(&dmn, (int)stop_timeout);
    printf("reclaim-net: total %" PRId64 " ms\n", now_ms() - t0);
    pthread_barrier_destroy(&sh.phase);
    pthread_mutex_destroy(&sh.report_lock);
    pthread_mutex_destroy(&mo.lock);
    pthread_cond_destroy(&mo.cond);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reclaim_net),
    };
    int failed;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-MMSIMD\n", argv[0]);
        return 2;
    }
    mmsimd_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (dmn.pid) {
        kill(dmn.pid, SIGKILL);
        waitpid(dmn.pid, NULL, 0);
    }
    if (!failed && !getenv("MMSIM_TEST_KEEP")) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "log and swap file kept in %s\n", tmpdir);
    }
    return failed;
}
