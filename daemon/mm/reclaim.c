// SPDX-License-Identifier: MIT
/*
 * reclaim.c - shrink_node() as one synchronous step, balance_pgdat(),
 * direct reclaim, and the OOM killer. No threads here: kswapd.c wraps
 * mmsim_balance_node() in one, and the allocator calls the rest.
 *
 * DOC: one reclaim step
 *
 * shrink_active_list() runs first when the inactive list is low
 * (inactive_is_low(): inactive * sqrt(10 * GiB of the lists) < active):
 * it takes up to SWAP_CLUSTER_MAX pages off the active tail, gives
 * referenced ones a second trip round the active list (clearing the bit)
 * and moves the others to the inactive head. Then
 * shrink_inactive_list() isolates up to SWAP_CLUSTER_MAX pages off the
 * inactive tail: referenced ones go to the active list; the rest are
 * written to a swap slot, their pte becomes a swap entry, and they are
 * freed. A page whose address space is busy, or that no swap slot can
 * take, goes back (to the active list when swap is full, as the
 * kernel's activate_locked does, so the scan does not spin on it).
 *
 * Isolated pages are off every list and counted in nr_isolated; the
 * reclaimer holds a reference on their address space, so an munmap or
 * exit meanwhile only clears the pte, and the reclaimer frees the page
 * when it sees that.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vm_internal.h"

static uint64_t isqrt(uint64_t x)
{
    uint64_t r = 0;

    while ((r + 1) * (r + 1) <= x)
        r++;
    return r;
}

/* inactive_is_low() for the anonymous lists; lru->lock held. */
static bool inactive_is_low(const struct mmsim_lru *l)
{
    uint64_t inactive = l->nr[LRU_INACTIVE], active = l->nr[LRU_ACTIVE];
    uint64_t gb = (inactive + active) >> (30 - MMSIM_PAGE_SHIFT);
    uint64_t ratio = gb ? isqrt(10 * gb) : 1;

    return inactive * ratio < active;
}

/* shrink_active_list(); lru->lock held. */
static void shrink_active_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                                 struct mmsim_reclaim_result *res)
{
    for (unsigned n = 0; n < SWAP_CLUSTER_MAX; n++) {
        uint64_t pfn = l->tail[LRU_ACTIVE];

        if (pfn == PFN_NONE)
            break;
        mmsim_lru_del_locked(m, l, pfn);
        vm_count(m, VE_PGREFILL, 1);
        /*
         * As the kernel does for anonymous pages (only executable ones
         * stay active): deactivate whatever the reference says, so every
         * pass over the active list makes progress. The referenced bit
         * goes along: the inactive scan gives such a page its second
         * chance (back to active, bit cleared), and only a page left
         * untouched through both trips is reclaimed.
         */
        mmsim_lru_push_locked(m, l, LRU_INACTIVE, pfn);
        res->deactivated++;
        vm_count(m, VE_PGDEACTIVATE, 1);
    }
}

struct isolated {
    uint64_t pfn;
    struct mmsim_mm *mm;
    uint64_t vaddr;
};

/* Put an isolated page back on a list. */
static void putback(struct mmsim_machine *m, struct mmsim_lru *l, uint64_t pfn,
                    int lru)
{
    mmsim_spin_lock(&l->lock);
    l->nr_isolated--;
    mmsim_lru_push_locked(m, l, lru, pfn);
    mmsim_spin_unlock(&l->lock);
}

/* Drop an isolated page's rmap slot: it is leaving anonymous memory. */
static void unisolate_free(struct mmsim_machine *m, struct mmsim_lru *l,
                           uint64_t pfn)
{
    mmsim_spin_lock(&l->lock);
    l->nr_isolated--;
    mmsim_rmap_free_locked(l, pfn_to_page(m, pfn)->tag);
    mmsim_spin_unlock(&l->lock);
    mmsim_anon_free(m, MMSIM_NO_CPU, pfn);
}

/*
 * shrink_folio_list() for one isolated page: swap it out if it is still
 * mapped where the rmap says and idle. Return: true when freed.
 */
static bool shrink_one(struct mmsim_machine *m, struct mmsim_lru *l,
                       const struct isolated *iso,
                       struct mmsim_reclaim_result *res)
{
    struct mmsim_mm *mm = iso->mm;
    struct mmsim_page *p = pfn_to_page(m, iso->pfn);
    struct vm_region *r;
    uint64_t *ptep, slot;
    bool zero, freed = false;

    pthread_mutex_lock(&mm->lock);
    r = mmsim_find_region(mm, iso->vaddr);
    ptep = r ? &r->pte[(iso->vaddr - r->start) >> MMSIM_PAGE_SHIFT] : NULL;
    if (!ptep || *ptep != pte_mk_present(iso->pfn)) {
        /* Unmapped while isolated: ours to free. */
        unisolate_free(m, l, iso->pfn);
        freed = true;
        goto out;
    }
    if (page_flags_and(p, (uint8_t)~PG_REFERENCED) & PG_REFERENCED) {
        /* Touched since it was isolated: PAGEREF_ACTIVATE. */
        putback(m, l, iso->pfn, LRU_ACTIVE);
        res->activated++;
        vm_count(m, VE_PGACTIVATE, 1);
        goto out;
    }
    zero = !m->contents || !(atomic_load_explicit(&m->dirty[iso->pfn / 64],
                                                  memory_order_relaxed) &
                             (UINT64_C(1) << (iso->pfn % 64)));
    if (mmsim_swap_alloc(m, zero, &slot)) {
        /* add_to_swap() failed: activate_locked, keep it. */
        putback(m, l, iso->pfn, LRU_ACTIVE);
        res->kept++;
        vm_count(m, VE_SWAP_FULL, 1);
        goto out;
    }
    if (!zero && mmsim_swap_write(m, slot, iso->pfn)) {
        mmsim_swap_free(m, slot);
        putback(m, l, iso->pfn, LRU_ACTIVE);
        res->kept++;
        vm_count(m, VE_SWAP_IO_ERROR, 1);
        goto out;
    }
    *ptep = pte_mk_swap(slot);
    atomic_fetch_sub_explicit(&mm->rss, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mm->swapents, 1, memory_order_relaxed);
    unisolate_free(m, l, iso->pfn);
    vm_count(m, VE_PSWPOUT, 1);
    freed = true;
out:
    pthread_mutex_unlock(&mm->lock);
    mmsim_mm_put(mm);
    return freed;
}

int mmsim_reclaim_step(struct mmsim_machine *m, int nid,
                       enum mmsim_reclaim_who who,
                       struct mmsim_reclaim_result *resp)
{
    struct mmsim_reclaim_result res = {0};
    struct isolated iso[SWAP_CLUSTER_MAX];
    struct mmsim_lru *l;
    unsigned nr = 0;
    bool kswapd = who == MMSIM_RECLAIM_KSWAPD;

    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (nid < 0 || (unsigned)nid >= m->nr_nodes)
        return MMSIM_ENODEV;
    l = &m->vm->lru[nid];

    mmsim_spin_lock(&l->lock);
    if (inactive_is_low(l))
        shrink_active_locked(m, l, &res);
    /* isolate_lru_folios() */
    while (res.scanned < SWAP_CLUSTER_MAX) {
        uint64_t pfn = l->tail[LRU_INACTIVE];
        struct mmsim_page *p;
        struct rmap_ent *e;

        if (pfn == PFN_NONE)
            break;
        p = pfn_to_page(m, pfn);
        res.scanned++;
        mmsim_lru_del_locked(m, l, pfn);
        if (page_flags_and(p, (uint8_t)~PG_REFERENCED) & PG_REFERENCED) {
            mmsim_lru_push_locked(m, l, LRU_ACTIVE, pfn);
            res.activated++;
            vm_count(m, VE_PGACTIVATE, 1);
            continue;
        }
        e = &l->rmap[p->tag];
        mmsim_mm_get(e->mm);
        iso[nr++] = (struct isolated){pfn, e->mm, e->vaddr};
        l->nr_isolated++;
    }
    mmsim_spin_unlock(&l->lock);
    vm_count(m, kswapd ? VE_PGSCAN_KSWAPD : VE_PGSCAN_DIRECT, res.scanned);

    for (unsigned i = 0; i < nr; i++)
        if (shrink_one(m, l, &iso[i], &res))
            res.reclaimed++;
    vm_count(m, kswapd ? VE_PGSTEAL_KSWAPD : VE_PGSTEAL_DIRECT, res.reclaimed);
    if (resp)
        *resp = res;
    return (int)res.reclaimed;
}

bool mmsim_node_balanced(struct mmsim_machine *m, int nid)
{
    int top = -1;

    if (nid < 0 || (unsigned)nid >= m->nr_nodes ||
        atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return true;
    for_each_zone_idx(m, i) if (zone_populated(&m->pgdat[nid]->zones[i])) top =
        (int)i;
    /*
     * pgdat_balanced(): some zone is above high plus what it keeps back
     * from allocations that could use the node's highest zone (a full
     * ZONE_DMA above its own high mark must not end the work).
     */
    for_each_zone_idx(m, i)
    {
        const struct mmsim_zone *z = &m->pgdat[nid]->zones[i];

        if (zone_populated(z) &&
            atomic_load_explicit(&z->free_pages, memory_order_relaxed) >
                (int64_t)(z->wmark[WMARK_HIGH] + z->lowmem_reserve[top]))
            return true;
    }
    return top < 0;
}

/* DEF_PRIORITY: scan 1/4096 of the LRU first, all of it at priority 0. */
#define DEF_PRIORITY 12

/*
 * shrink_node() at @prio: steps until (lru size >> @prio) pages are
 * scanned (at least one step), @want pages are reclaimed, or the lists
 * run dry. Return: pages reclaimed.
 */
static uint64_t shrink_node_prio(struct mmsim_machine *m, int nid,
                                 enum mmsim_reclaim_who who, int prio,
                                 uint64_t want)
{
    struct mmsim_lru_info li;
    uint64_t target, scanned = 0, got = 0;

    mmsim_lru_info(m, nid, &li);
    target = (li.inactive + li.active) >> prio;
    do {
        struct mmsim_reclaim_result res;

        if (mmsim_reclaim_step(m, nid, who, &res) < 0)
            break;
        got += res.reclaimed;
        /* Pages moved between the lists count as scanned: aging them
         * is what lets a later pass reclaim. */
        scanned += res.scanned + res.deactivated;
        if (!res.scanned && !res.deactivated)
            break;
    } while (scanned < target && got < want);
    return got;
}

/* balance_pgdat(); @stop (may be NULL) ends it early (kswapd stopping). */
int64_t mmsim_balance_node_until(struct mmsim_machine *m, int nid,
                                 const bool *stop, pthread_mutex_t *stop_lock)
{
    int64_t total = 0;
    int prio = DEF_PRIORITY;

    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (nid < 0 || (unsigned)nid >= m->nr_nodes)
        return MMSIM_ENODEV;
    vm_count(m, VE_PAGEOUTRUN, 1);
    while (prio >= 0 && !mmsim_node_balanced(m, nid)) {
        uint64_t got =
            shrink_node_prio(m, nid, MMSIM_RECLAIM_KSWAPD, prio, UINT64_MAX);

        total += (int64_t)got;
        /* Raise the priority (scan more) only while nothing comes back. */
        if (!got)
            prio--;
        if (stop) {
            bool s;

            pthread_mutex_lock(stop_lock);
            s = *stop;
            pthread_mutex_unlock(stop_lock);
            if (s)
                break;
        }
    }
    return total;
}

int64_t mmsim_balance_node(struct mmsim_machine *m, int nid)
{
    return mmsim_balance_node_until(m, nid, NULL, NULL);
}

/*
 * try_to_free_pages(): direct reclaim over the nodes of the zonelist, in
 * its order, with rising priority, until SWAP_CLUSTER_MAX pages are back
 * or even a full scan (priority 0) of every node finds nothing.
 */
uint64_t mmsim_try_to_free_pages(struct mmsim_machine *m,
                                 struct mmsim_zone **zonelist, int highest_idx)
{
    bool seen[MMSIM_MAX_NODES] = {false};
    int nodes[MMSIM_MAX_NODES];
    unsigned nr_nodes = 0;
    uint64_t total = 0;

    for (struct mmsim_zone **zp = zonelist; *zp; zp++) {
        if ((*zp)->idx > highest_idx || seen[(*zp)->nid])
            continue;
        /* allocstall_<zone> counts against the preferred zone. */
        if (!nr_nodes)
            vm_count(m, VE_ALLOCSTALL + (*zp)->type, 1);
        seen[(*zp)->nid] = true;
        nodes[nr_nodes++] = (*zp)->nid;
    }
    for (int prio = DEF_PRIORITY; prio >= 0; prio--) {
        for (unsigned i = 0; i < nr_nodes; i++) {
            total += shrink_node_prio(m, nodes[i], MMSIM_RECLAIM_DIRECT, prio,
                                      SWAP_CLUSTER_MAX - total);
            if (total >= SWAP_CLUSTER_MAX)
                return total;
        }
    }
    return total;
}

/* ---- the OOM killer ------------------------------------------------------ */

/* oom_badness(): pages the victim would give back. */
static uint64_t badness(struct mmsim_mm *mm)
{
    int64_t extra = atomic_load_explicit(&mm->extra, memory_order_relaxed);
    uint64_t rss = atomic_load_explicit(&mm->rss, memory_order_relaxed);
    uint64_t swp = atomic_load_explicit(&mm->swapents, memory_order_relaxed);

    if (atomic_load_explicit(&mm->killed, memory_order_relaxed) ||
        atomic_load_explicit(&mm->dying, memory_order_relaxed))
        return 0;
    /* Killing it would give nothing back. */
    if (!rss && !swp && extra <= 0)
        return 0;
    /* mm_pgtables_bytes() / PAGE_SIZE: a page of ptes per 512 pages. */
    return rss + swp + (mm->total_vm + 511) / 512 + (extra > 0 ? extra : 0);
}

static void oom_report(struct mmsim_machine *m, struct mmsim_mm *victim,
                       mmsim_gfp_t gfp, unsigned order, int nid)
{
    struct mmsim_vm *vm = m->vm;
    uint64_t act = 0, inact = 0, iso = 0, free = 0;

    mmsim_log(m, 4,
              "mmsim invoked oom-killer: gfp_mask=%#x, order=%u, "
              "oom_score_adj=0",
              gfp, order);
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        struct mmsim_lru_info li;

        mmsim_lru_info(m, (int)n, &li);
        act += li.active;
        inact += li.inactive;
        iso += li.isolated;
        for_each_zone_idx(m, i)
        {
            int64_t f = atomic_load(&m->pgdat[n]->zones[i].free_pages);

            free += f > 0 ? (uint64_t)f : 0;
        }
    }
    mmsim_log(m, 4, "Mem-Info:");
    mmsim_log(m, 4,
              "active_anon:%" PRIu64 " inactive_anon:%" PRIu64
              " isolated_anon:%" PRIu64 " free:%" PRIu64,
              act, inact, iso, free);
    mmsim_log(m, 4,
              "%" PRIu64 " pages in swap cache\nFree swap  = %" PRIu64
              "kB\nTotal swap = %" PRIu64 "kB",
              (uint64_t)0,
              vm->swap.nr_slots ? (vm->swap.nr_slots - 1 - vm->swap.used) * 4
                                : 0,
              vm->swap.nr_slots ? (vm->swap.nr_slots - 1) * 4 : 0);
    mmsim_log(m, 6, "Tasks state (memory values in pages):");
    mmsim_log(m, 6,
              "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes "
              "swapents oom_score_adj name");
    pthread_mutex_lock(&vm->mm_list_lock);
    for (struct mmsim_mm *mm = vm->mm_list; mm; mm = mm->next)
        mmsim_log(m, 6,
                  "[%7" PRIu64 "]     0 %5" PRIu64 " %8" PRIu64 " %8" PRIu64
                  " %14" PRIu64 " %8" PRIu64 "             0 %s",
                  mm->owner, mm->owner, mm->total_vm, atomic_load(&mm->rss),
                  (mm->total_vm + 511) / 512 * MMSIM_PAGE_SIZE,
                  atomic_load(&mm->swapents), mm->name);
    pthread_mutex_unlock(&vm->mm_list_lock);
    mmsim_log(m, 6,
              "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
              "cpuset=/,mems_allowed=0-%u,global_oom,task_memcg=/,"
              "task=%s,pid=%" PRIu64 ",uid=0",
              m->nr_nodes - 1, victim->name, victim->owner);
    mmsim_log(m, 3,
              "Out of memory: Killed process %" PRIu64 " (%s) total-vm:%" PRIu64
              "kB, anon-rss:%" PRIu64 "kB, file-rss:0kB, shmem-rss:0kB, "
              "UID:0 pgtables:%" PRIu64 "kB oom_score_adj:0",
              victim->owner, victim->name, victim->total_vm * 4,
              atomic_load(&victim->rss) * 4,
              (victim->total_vm + 511) / 512 * 4);
    (void)nid;
}

bool mmsim_out_of_memory(struct mmsim_machine *m, mmsim_gfp_t gfp,
                         unsigned order, int nid)
{
    struct mmsim_vm *vm = m->vm;
    struct mmsim_mm *victim = NULL;
    uint64_t best = 0, owner, pending = 0;
    bool has_pending = false;

    if (m->desc.oom_policy == MMSIM_OOM_FAIL) {
        mmsim_log(m, 3,
                  "Out of memory: oom_policy=fail, failing the order-%u "
                  "allocation on node %d",
                  order, nid);
        return false;
    }
    pthread_mutex_lock(&vm->oom_lock);
    pthread_mutex_lock(&vm->mm_list_lock);
    for (struct mmsim_mm *mm = vm->mm_list; mm; mm = mm->next) {
        uint64_t b = badness(mm);

        /*
         * oom_evaluate_task(): a victim whose owner still holds pages
         * outside its address space (the reaper cannot free those; its
         * owner does when the session ends) means memory is on its way
         * back. Kill nobody else meanwhile; this allocation fails.
         */
        if (atomic_load(&mm->killed) && !atomic_load(&mm->dying) &&
            atomic_load(&mm->extra) > 0) {
            pending = mm->owner;
            has_pending = true;
            victim = NULL;
            break;
        }
        if (b > best) {
            best = b;
            victim = mm;
        }
    }
    if (victim)
        mmsim_mm_get(victim);
    pthread_mutex_unlock(&vm->mm_list_lock);
    if (!victim) {
        pthread_mutex_unlock(&vm->oom_lock);
        if (has_pending)
            mmsim_log(m, 4,
                      "oom: victim %" PRIu64 " has not exited yet; failing "
                      "the order-%u allocation instead of killing again",
                      pending, order);
        else
            mmsim_log(m, 3, "Out of memory and no killable processes...");
        return false;
    }
    oom_report(m, victim, gfp, order, nid);
    /* __oom_kill_process() + the oom_reaper, at once. */
    pthread_mutex_lock(&victim->lock);
    atomic_store(&victim->killed, true);
    mmsim_mm_unmap_all_locked(victim);
    pthread_mutex_unlock(&victim->lock);
    owner = victim->owner;
    vm->oom_last_owner = owner;
    vm_count(m, VE_OOM_KILL, 1);
    mmsim_log(m, 6,
              "oom_reaper: reaped process %" PRIu64
              " (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
              owner, victim->name);
    mmsim_mm_put(victim);
    pthread_mutex_unlock(&vm->oom_lock);
    if (vm->oom_kill)
        vm->oom_kill(vm->oom_ctx, owner);
    return true;
}

int mmsim_oom_info(struct mmsim_machine *m, struct mmsim_oom_info *oi)
{
    oi->kills = atomic_load(&m->vm->ev[VE_OOM_KILL]);
    pthread_mutex_lock(&m->vm->oom_lock);
    oi->last_owner = m->vm->oom_last_owner;
    pthread_mutex_unlock(&m->vm->oom_lock);
    return 0;
}
