/*
 * test-stress.c - concurrent allocation, free, remote free, drain, views
 * and checks on one machine from several threads. Run under TSan in the
 * test script; every run is seeded (MMSIM_SEED, default 1) and logs it.
 *
 * What must hold: no error other than ENOMEM from a legal operation, the
 * checker passes while threads run and at the end, exactly one of two
 * racing frees of one block wins, and after everything is freed and the
 * per-cpu lists drained, every managed page is free again.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/mm.h"

#define NR_THREADS 4
#define ITERS      40000
#define MAX_LIVE   512
#define MAILBOX    256

struct block {
    uint64_t pfn;
    unsigned order;
};

struct shared {
    struct mmsim_machine *m;
    pthread_mutex_t mail_lock;
    struct block mail[MAILBOX]; /* blocks handed to another thread */
    unsigned nr_mail;
    int failures;
    int running; /* __atomic builtins */
};

struct worker {
    struct shared *sh;
    int cpu;
    uint64_t rng;
    struct block live[MAX_LIVE];
    unsigned nr_live;
    uint64_t allocs, frees, enomem, remote;
};

/* xorshift64*: small, seedable, good enough for choosing operations. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void fail(struct shared *sh, const char *what, int rc)
{
    fprintf(stderr, "FAIL: %s: %s\n", what, mmsim_err_name(rc));
    __atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
}

static unsigned pick_order(uint64_t *s)
{
    uint64_t r = rnd(s) % 100;

    if (r < 60)
        return 0;
    if (r < 85)
        return (unsigned)(1 + rnd(s) % 3);
    return (unsigned)(4 + rnd(s) % 7);
}

static void free_block(struct worker *w, struct block b)
{
    int rc = mmsim_free_pages(w->sh->m, w->cpu, b.pfn, b.order);

    if (rc)
        fail(w->sh, "free of a live block", rc);
    w->frees++;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    static const mmsim_gfp_t gfps[] = {
        MMSIM_GFP_KERNEL, MMSIM_GFP_ATOMIC, MMSIM_GFP_DMA32,
        MMSIM_GFP_HIGHUSER_MOVABLE, MMSIM_GFP_KERNEL | MMSIM_GFP_THISNODE};

    for (int i = 0; i < ITERS; i++) {
        uint64_t r = rnd(&w->rng) % 100;

        if (r < 50 && w->nr_live < MAX_LIVE) {
            struct block b;
            int nid = (int)(rnd(&w->rng) % 3) - 1; /* any, 0, 1 */
            mmsim_gfp_t gfp = gfps[rnd(&w->rng) % 5] | MMSIM_GFP_NOWARN;
            int rc;

            b.order = pick_order(&w->rng);
            rc = mmsim_alloc_pages(sh->m, w->cpu, gfp, b.order, nid, &b.pfn);
            if (rc == MMSIM_ENOMEM) {
                w->enomem++;
                continue;
            }
            if (rc) {
                fail(sh, "alloc", rc);
                continue;
            }
            w->allocs++;
            w->live[w->nr_live++] = b;
        } else if (r < 90 && w->nr_live) {
            unsigned k = (unsigned)(rnd(&w->rng) % w->nr_live);
            struct block b = w->live[k];

            w->live[k] = w->live[--w->nr_live];
            free_block(w, b);
        } else if (r < 95 && w->nr_live) {
            /* Hand a block to whichever thread looks next (remote free). */
            unsigned k = (unsigned)(rnd(&w->rng) % w->nr_live);

            pthread_mutex_lock(&sh->mail_lock);
            if (sh->nr_mail < MAILBOX) {
                sh->mail[sh->nr_mail++] = w->live[k];
                w->live[k] = w->live[--w->nr_live];
            }
            pthread_mutex_unlock(&sh->mail_lock);
        } else if (r < 98) {
            struct block b;
            bool got = false;

            pthread_mutex_lock(&sh->mail_lock);
            if (sh->nr_mail) {
                b = sh->mail[--sh->nr_mail];
                got = true;
            }
            pthread_mutex_unlock(&sh->mail_lock);
            if (got) {
                free_block(w, b);
                w->remote++;
            }
        } else {
            int rc = mmsim_drain_cpu(sh->m, w->cpu);

            if (rc)
                fail(sh, "drain", rc);
        }
    }
    while (w->nr_live)
        free_block(w, w->live[--w->nr_live]);
    return NULL;
}

static void *checker_main(void *arg)
{
    struct shared *sh = arg;
    static char buf[1 << 16];
    char err[512];

    while (__atomic_load_n(&sh->running, __ATOMIC_ACQUIRE)) {
        int rc = mmsim_check(sh->m, false, err, sizeof(err));

        if (rc) {
            fprintf(stderr, "checker: %s\n", err);
            fail(sh, "check while running", rc);
            break;
        }
        if (mmsim_view_buddyinfo(sh->m, buf, sizeof(buf)) < 0 ||
            mmsim_view_zoneinfo(sh->m, buf, sizeof(buf)) < 0)
            fail(sh, "views", MMSIM_EINVAL);
    }
    return NULL;
}

struct racer {
    struct mmsim_machine *m;
    int cpu;
    uint64_t pfn;
    int rc;
    pthread_barrier_t *bar;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;

    pthread_barrier_wait(r->bar);
    r->rc = mmsim_free_pages(r->m, r->cpu, r->pfn, 0);
    return NULL;
}

/* Two threads free the same block at once: exactly one wins. */
static void double_free_race(struct shared *sh)
{
    for (int i = 0; i < 500; i++) {
        pthread_barrier_t bar;
        struct racer a = {sh->m, 0, 0, 0, &bar}, b = {sh->m, 1, 0, 0, &bar};
        pthread_t ta, tb;
        int rc = mmsim_alloc_pages(sh->m, 0, 0, 0, MMSIM_ANY_NODE, &a.pfn);

        if (rc) {
            fail(sh, "race alloc", rc);
            return;
        }
        b.pfn = a.pfn;
        pthread_barrier_init(&bar, NULL, 2);
        pthread_create(&ta, NULL, racer_main, &a);
        pthread_create(&tb, NULL, racer_main, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&bar);
        if (!((a.rc == 0) ^ (b.rc == 0))) {
            fprintf(stderr, "race %d: rc %d and %d\n", i, a.rc, b.rc);
            fail(sh, "double free race", MMSIM_ECORRUPT);
            return;
        }
    }
}

int main(void)
{
    struct shared sh;
    struct worker w[NR_THREADS];
    pthread_t t[NR_THREADS], checker;
    struct mmsim_desc d;
    char err[512];
    uint64_t seed = 1, managed = 0, free_pages = 0;
    const char *env = getenv("MMSIM_SEED");
    int rc;

    if (env)
        seed = strtoull(env, NULL, 0);
    printf("test-stress: seed %" PRIu64 " (set MMSIM_SEED to replay)\n", seed);
    memset(&sh, 0, sizeof(sh));
    pthread_mutex_init(&sh.mail_lock, NULL);

    /* Small, so ENOMEM, fallback and deferred growth all happen. */
    mmsim_desc_init(&d);
    mmsim_desc_add_range(&d, 0, UINT64_C(1) << 20, UINT64_C(63) << 20);
    mmsim_desc_add_range(&d, 0, UINT64_C(4) << 30, UINT64_C(192) << 20);
    mmsim_desc_add_range(&d, 1, UINT64_C(5) << 30, UINT64_C(256) << 20);
    mmsim_desc_set_distance(&d, 0, 1, 21);
    d.nr_cpus = NR_THREADS;
    d.movablecore = UINT64_C(64) << 20;
    rc = mmsim_machine_create(&d, NULL, &sh.m, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "boot: %s\n", err);
        return 1;
    }
    sh.running = 1;
    pthread_create(&checker, NULL, checker_main, &sh);
    for (int i = 0; i < NR_THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].sh = &sh;
        w[i].cpu = i;
        w[i].rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i + 1;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    /* Deferred pages join while the workers run. */
    mmsim_machine_late_init(sh.m);
    for (int i = 0; i < NR_THREADS; i++)
        pthread_join(t[i], NULL);
    __atomic_store_n(&sh.running, 0, __ATOMIC_RELEASE);
    pthread_join(checker, NULL);
    for (unsigned i = 0; i < sh.nr_mail; i++)
        if ((rc = mmsim_free_pages(sh.m, 0, sh.mail[i].pfn,
                                   sh.mail[i].order)) != 0)
            fail(&sh, "mailbox free", rc);
    double_free_race(&sh);
    mmsim_drain_all(sh.m);

    rc = mmsim_check(sh.m, true, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "final check: %s\n", err);
        sh.failures++;
    }
    for (unsigned n = 0; n < 2; n++)
        for (int z = 0; z < MMSIM_NR_ZONE_TYPES; z++) {
            struct mmsim_zone_info zi;

            if (mmsim_zone_info(sh.m, (int)n, (enum mmsim_zone_type)z, &zi))
                continue;
            managed += zi.managed;
            free_pages += zi.free;
        }
    if (managed != free_pages) {
        fprintf(stderr, "leak: managed %" PRIu64 " free %" PRIu64 "\n", managed,
                free_pages);
        sh.failures++;
    }
    for (int i = 0; i < NR_THREADS; i++)
        printf("thread %d: %" PRIu64 " allocs, %" PRIu64 " frees (%" PRIu64
               " remote), %" PRIu64 " ENOMEM\n",
               i, w[i].allocs, w[i].frees, w[i].remote, w[i].enomem);
    mmsim_machine_destroy(sh.m);
    pthread_mutex_destroy(&sh.mail_lock);
    printf("test-stress: %s\n", sh.failures ? "FAILED" : "ok");
    return sh.failures ? 1 : 0;
}
