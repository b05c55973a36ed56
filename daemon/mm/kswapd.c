// SPDX-License-Identifier: MIT
/*
 * kswapd.c - one thread per node around mmsim_balance_node().
 *
 * DOC: kswapd
 *
 * "kswapd trickles out pages so that we have _some_ free memory
 * available even if there is no other activity that frees anything up."
 * Here the thread holds no policy at all: it sleeps on its condition
 * until the allocator finds a zone of its node below the low watermark
 * (mmsim_wakeup_kswapd()), then runs balance_pgdat() until some zone is
 * above high or reclaim stops making progress, and sleeps again. The
 * reclaim itself is mmsim_reclaim_step(), which tests drive directly.
 *
 * Locking: kswapd->lock protects wake, stop and running; it is a leaf
 * taken from the allocation slow path with no other lock held.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "vm_internal.h"

static void *kswapd_main(void *arg)
{
    struct kswapd *k = arg;
    char name[16];

    /* As ps shows the kernel's: tools (bench-reclaim) find it by name. */
    snprintf(name, sizeof(name), "kswapd%d", k->nid);
    pthread_setname_np(pthread_self(), name);
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (!k->wake && !k->stop)
            pthread_cond_wait(&k->wait, &k->lock);
        if (k->stop)
            break;
        k->wake = false;
        pthread_mutex_unlock(&k->lock);
        mmsim_balance_node_until(k->m, k->nid, &k->stop, &k->lock);
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

void mmsim_wakeup_kswapd(struct mmsim_machine *m, int nid)
{
    struct kswapd *k = &m->vm->kswapd[nid];

    if (!atomic_load_explicit(&m->vm->kswapd_started, memory_order_relaxed))
        return;
    pthread_mutex_lock(&k->lock);
    if (k->running && !k->wake) {
        k->wake = true;
        vm_count(m, VE_KSWAPD_WAKEUPS, 1);
        pthread_cond_signal(&k->wait);
    }
    pthread_mutex_unlock(&k->lock);
}

int mmsim_kswapd_init(struct mmsim_machine *m)
{
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        struct kswapd *k = &m->vm->kswapd[n];

        k->m = m;
        k->nid = (int)n;
        if (pthread_mutex_init(&k->lock, NULL))
            return MMSIM_EHOSTMEM;
        if (pthread_cond_init(&k->wait, NULL)) {
            pthread_mutex_destroy(&k->lock);
            return MMSIM_EHOSTMEM;
        }
        k->inited = true;
    }
    return 0;
}

void mmsim_kswapd_fini(struct mmsim_machine *m)
{
    mmsim_kswapd_stop(m);
    for (unsigned n = 0; n < MMSIM_MAX_NODES; n++) {
        struct kswapd *k = &m->vm->kswapd[n];

        if (!k->inited)
            continue;
        pthread_cond_destroy(&k->wait);
        pthread_mutex_destroy(&k->lock);
        k->inited = false;
    }
}

int mmsim_kswapd_start(struct mmsim_machine *m)
{
    struct mmsim_vm *vm = m->vm;
    unsigned n;

    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    pthread_mutex_lock(&vm->kswapd_ctl);
    if (atomic_load(&vm->kswapd_started)) {
        pthread_mutex_unlock(&vm->kswapd_ctl);
        return MMSIM_EALREADY;
    }
    for (n = 0; n < m->nr_nodes; n++) {
        struct kswapd *k = &vm->kswapd[n];
        int rc;

        pthread_mutex_lock(&k->lock);
        k->wake = k->stop = false;
        k->running = true;
        rc = pthread_create(&k->thread, NULL, kswapd_main, k);
        if (rc)
            k->running = false;
        pthread_mutex_unlock(&k->lock);
        if (rc)
            break;
        mmsim_log(m, 6, "kswapd%u: started", n);
    }
    atomic_store(&vm->kswapd_started, true);
    pthread_mutex_unlock(&vm->kswapd_ctl);
    if (n < m->nr_nodes) {
        mmsim_kswapd_stop(m);
        return MMSIM_EHOSTMEM;
    }
    return 0;
}

void mmsim_kswapd_stop(struct mmsim_machine *m)
{
    struct mmsim_vm *vm = m->vm;

    if (!vm)
        return;
    pthread_mutex_lock(&vm->kswapd_ctl);
    for (unsigned n = 0; atomic_load(&vm->kswapd_started) && n < m->nr_nodes;
         n++) {
        struct kswapd *k = &vm->kswapd[n];
        bool running;

        pthread_mutex_lock(&k->lock);
        running = k->running;
        k->stop = true;
        pthread_cond_signal(&k->wait);
        pthread_mutex_unlock(&k->lock);
        if (!running)
            continue;
        pthread_join(k->thread, NULL);
        pthread_mutex_lock(&k->lock);
        k->running = false;
        pthread_mutex_unlock(&k->lock);
    }
    atomic_store(&vm->kswapd_started, false);
    pthread_mutex_unlock(&vm->kswapd_ctl);
}
