// SPDX-License-Identifier: MIT
/*
 * check.c - the invariant checker: every free list, per-cpu list and
 * counter, and optionally every page frame.
 *
 * Invariants, per zone:
 *  - each free_area[o] list is a well-linked chain of blocks that are in
 *    the zone, aligned to 2^o, marked PG_BUDDY with order o, and whose
 *    buddy is not also free at order o (merging is complete);
 *  - the blocks on list o number free_area[o].nr_free, and all free
 *    blocks add up to NR_FREE_PAGES;
 *  - each pcp list holds PG_PCP blocks of its order adding up to count;
 *  - managed == free + pcp + allocated + deferred;
 *  - (full) walking the span finds exactly those free and pcp blocks and
 *    allocated blocks adding up to the allocated count, and no flags on
 *    any page inside a block.
 *
 * And for anonymous memory (docs/reclaim.md): every pte against the page
 * or swap slot it names, every LRU list against its count and its pages'
 * rmap entries, and the used swap slots against the ptes; then the
 * vmalloc space's own checker.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "mmsim/vmalloc.h"
#include "vm_internal.h"

struct checker {
    char *err;
    size_t errlen;
    const struct mmsim_zone *z;
};

__attribute__((format(printf, 2, 3))) static int fail(struct checker *c,
                                                      const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "node %d zone %s: %s", c->z->nid,
                 mmsim_zone_type_name(c->z->type), msg);
    return MMSIM_ECORRUPT;
}

static int check_free_lists(struct checker *c, uint64_t *free_pages)
{
    const struct mmsim_zone *z = c->z;
    struct mmsim_machine *m = z->m;
    uint64_t limit = z->end_pfn - z->start_pfn;

    *free_pages = 0;
    for (unsigned o = 0; o <= MMSIM_MAX_ORDER_CAP; o++) {
        uint32_t prev = PFN_NONE;
        uint64_t n = 0;

        if (o > m->max_order) {
            if (z->free_area[o].head != PFN_NONE || z->free_area[o].nr_free)
                return fail(c,
                            "free_area[%u] is beyond max_order %u but "
                            "not empty",
                            o, m->max_order);
            continue;
        }
        for (uint32_t pfn = z->free_area[o].head; pfn != PFN_NONE;) {
            const struct mmsim_page *p;
            uint64_t buddy = (uint64_t)pfn ^ (UINT64_C(1) << o);

            if (++n > limit)
                return fail(c, "free_area[%u]: list does not end (cycle?)", o);
            if (!zone_span_has(z, pfn) ||
                (uint64_t)pfn + (UINT64_C(1) << o) > z->end_pfn)
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " lies outside the zone",
                            o, pfn);
            if (pfn & ((UINT32_C(1) << o) - 1))
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " is not aligned to its order",
                            o, pfn);
            p = &m->mem_map[pfn];
            if (page_flags(p) != PG_BUDDY)
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " has flags %#x, not PG_buddy",
                            o, pfn, page_flags(p));
            if (page_order(p) != o)
                return fail(
                    c, "free_area[%u]: block at pfn %#" PRIx32 " says order %u",
                    o, pfn, page_order(p));
            if (p->zid != z->zid)
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " belongs to zone id %u",
                            o, pfn, p->zid);
            if (p->prev != prev)
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " has a broken back link",
                            o, pfn);
            if (o < m->max_order && zone_span_has(z, buddy) &&
                page_flags(&m->mem_map[buddy]) == PG_BUDDY &&
                page_order(&m->mem_map[buddy]) == o)
                return fail(c,
                            "free_area[%u]: block at pfn %#" PRIx32
                            " and its buddy %#" PRIx64
                            " are both free: not merged",
                            o, pfn, buddy);
            *free_pages += UINT64_C(1) << o;
            prev = pfn;
            pfn = p->next;
        }
        if (n != z->free_area[o].nr_free)
            return fail(c,
                        "free_area[%u]: %" PRIu64
                        " blocks on the list, nr_free says %" PRIu64,
                        o, n, z->free_area[o].nr_free);
    }
    if ((int64_t)*free_pages != atomic_load(&z->free_pages))
        return fail(
            c, "free lists hold %" PRIu64 " pages, NR_FREE_PAGES says %" PRId64,
            *free_pages, atomic_load(&z->free_pages));
    return 0;
}

static int check_pcp(struct checker *c, uint64_t *pcp_pages,
                     int64_t *alloc_delta)
{
    const struct mmsim_zone *z = c->z;
    struct mmsim_machine *m = z->m;

    *pcp_pages = 0;
    *alloc_delta = 0;
    for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
        const struct mmsim_pcp *pcp = &z->pcp[cpu];
        uint64_t pages = 0;

        for (unsigned o = 0; o < NR_PCP_ORDERS; o++) {
            uint32_t prev = PFN_NONE;
            uint64_t n = 0;

            for (uint32_t pfn = pcp->lists[o]; pfn != PFN_NONE;) {
                const struct mmsim_page *p;

                if (++n > z->end_pfn - z->start_pfn)
                    return fail(c, "cpu %u pcp list %u does not end", cpu, o);
                if (!zone_span_has(z, pfn))
                    return fail(c,
                                "cpu %u pcp list %u: pfn %#" PRIx32
                                " outside the zone",
                                cpu, o, pfn);
                p = &m->mem_map[pfn];
                if (page_flags(p) != PG_PCP || page_order(p) != o ||
                    p->prev != prev)
                    return fail(c,
                                "cpu %u pcp list %u: block at pfn %#" PRIx32
                                " has flags %#x order %u",
                                cpu, o, pfn, page_flags(p), page_order(p));
                pages += UINT64_C(1) << o;
                prev = pfn;
                pfn = p->next;
            }
            if (pcp->tails[o] != prev)
                return fail(c,
                            "cpu %u pcp list %u: tail says pfn %#" PRIx32
                            ", the list ends at %#" PRIx32,
                            cpu, o, pcp->tails[o], prev);
        }
        if (pages != (uint64_t)pcp->count)
            return fail(
                c, "cpu %u pcp lists hold %" PRIu64 " pages, count says %d",
                cpu, pages, pcp->count);
        *pcp_pages += pages;
        *alloc_delta += pcp->alloc_delta;
    }
    return 0;
}

static int check_walk(struct checker *c, uint64_t free_pages,
                      uint64_t pcp_pages, uint64_t allocated)
{
    const struct mmsim_zone *z = c->z;
    struct mmsim_machine *m = z->m;
    uint64_t f = 0, q = 0, a = 0;

    for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn;) {
        const struct mmsim_page *p = &m->mem_map[pfn];
        uint8_t flags = page_flags(p);
        uint64_t size;

        if (!flags) {
            pfn++;
            continue;
        }
        /* Anonymous pages are allocated heads with LRU state bits. */
        if ((flags & PG_ANON) && (flags & ~PG_ANON_BITS) == PG_HEAD)
            flags = PG_HEAD;
        if (flags != PG_BUDDY && flags != PG_PCP && flags != PG_HEAD)
            return fail(c, "pfn %#" PRIx64 " has unknown flags %#x", pfn,
                        flags);
        size = UINT64_C(1) << page_order(p);
        if (pfn & (size - 1) || pfn + size > z->end_pfn)
            return fail(c,
                        "block at pfn %#" PRIx64 " of order %u is "
                        "misaligned or crosses the zone end",
                        pfn, page_order(p));
        for (uint64_t t = pfn + 1; t < pfn + size; t++)
            if (page_flags(&m->mem_map[t]))
                return fail(c,
                            "pfn %#" PRIx64 " inside the block at %#" PRIx64
                            " carries flags %#x",
                            t, pfn, page_flags(&m->mem_map[t]));
        if (flags == PG_BUDDY)
            f += size;
        else if (flags == PG_PCP)
            q += size;
        else
            a += size;
        pfn += size;
    }
    if (f != free_pages)
        return fail(c, "walk finds %" PRIu64 " free pages, lists hold %" PRIu64,
                    f, free_pages);
    if (q != pcp_pages)
        return fail(c, "walk finds %" PRIu64 " pcp pages, lists hold %" PRIu64,
                    q, pcp_pages);
    if (a != allocated)
        return fail(
            c, "walk finds %" PRIu64 " allocated pages, counters say %" PRIu64,
            a, allocated);
    return 0;
}

static int check_zone(struct checker *c, bool full)
{
    const struct mmsim_zone *z = c->z;
    uint64_t free_pages, pcp_pages, deferred = 0;
    int64_t delta, allocated;
    int rc;

    rc = check_free_lists(c, &free_pages);
    if (rc)
        return rc;
    rc = check_pcp(c, &pcp_pages, &delta);
    if (rc)
        return rc;
    for (unsigned i = z->deferred_pos; i < z->nr_deferred; i++)
        deferred += z->deferred[i].end - z->deferred[i].start;
    if (deferred != z->deferred_pages)
        return fail(c,
                    "deferred ranges hold %" PRIu64 " pages, counter %" PRIu64,
                    deferred, z->deferred_pages);
    allocated = z->alloc_pages + delta;
    if (allocated < 0)
        return fail(c, "more pages freed than allocated (%" PRId64 ")",
                    allocated);
    if (z->managed != free_pages + pcp_pages + (uint64_t)allocated + deferred)
        return fail(c,
                    "managed %" PRIu64 " != free %" PRIu64 " + pcp %" PRIu64
                    " + allocated %" PRId64 " + deferred %" PRIu64,
                    z->managed, free_pages, pcp_pages, allocated, deferred);
    if (full)
        return check_walk(c, free_pages, pcp_pages, (uint64_t)allocated);
    return 0;
}

/* ---- the checker ----------------------------------------------------------
 */

__attribute__((format(printf, 3, 4))) static int vfail(char *err, size_t errlen,
                                                       const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return MMSIM_ECORRUPT;
}

/* One node's lists: links, flags, counts, and rmap entries that name a
 * live address space mapping the page there. All mm locks are held. */
static int check_lru(struct mmsim_machine *m, int nid, char *err, size_t errlen)
{
    struct mmsim_lru *l = &m->vm->lru[nid];

    for (int lru = 0; lru < NR_LRU; lru++) {
        uint64_t n = 0;
        uint32_t prev = PFN_NONE;

        for (uint32_t pfn = l->head[lru]; pfn != PFN_NONE;
             pfn = pfn_to_page(m, pfn)->next) {
            struct mmsim_page *p = pfn_to_page(m, pfn);
            uint8_t f = page_flags(p);
            struct rmap_ent *e;
            struct vm_region *r;
            bool found = false;

            if (++n > l->nr[lru] || pfn >= m->max_pfn)
                return vfail(err, errlen,
                             "node %d %s LRU: longer than its count %" PRIu64,
                             nid, lru ? "active" : "inactive", l->nr[lru]);
            if (p->prev != prev)
                return vfail(err, errlen,
                             "node %d LRU: pfn %#x has a bad prev link", nid,
                             pfn);
            if ((f & ~PG_REFERENCED) !=
                (PG_HEAD | PG_ANON | PG_LRU | (lru ? PG_ACTIVE : 0)))
                return vfail(err, errlen,
                             "node %d %s LRU: pfn %#x has flags %#x", nid,
                             lru ? "active" : "inactive", pfn, f);
            if (m->zones_by_zid[p->zid]->nid != nid)
                return vfail(err, errlen,
                             "node %d LRU: pfn %#x belongs to node %d", nid,
                             pfn, m->zones_by_zid[p->zid]->nid);
            if (p->tag >= l->rmap_cap || !l->rmap[p->tag].mm)
                return vfail(err, errlen,
                             "node %d LRU: pfn %#x has no rmap entry", nid,
                             pfn);
            e = &l->rmap[p->tag];
            for (struct mmsim_mm *mm = m->vm->mm_list; mm; mm = mm->next)
                found |= mm == e->mm;
            r = found ? mmsim_find_region(e->mm, e->vaddr) : NULL;
            if (!r || r->pte[(e->vaddr - r->start) >> MMSIM_PAGE_SHIFT] !=
                          pte_mk_present(pfn))
                return vfail(err, errlen,
                             "node %d LRU: pfn %#x: rmap says %#" PRIx64
                             " of owner %" PRIu64 ", which does not map it",
                             nid, pfn, e->vaddr, found ? e->mm->owner : 0);
            prev = pfn;
        }
        if (n != l->nr[lru] || l->tail[lru] != prev)
            return vfail(err, errlen,
                         "node %d %s LRU: %" PRIu64 " pages, count %" PRIu64,
                         nid, lru ? "active" : "inactive", n, l->nr[lru]);
    }
    return 0;
}

/* One address space: every pte against the page or slot it names. */
static int check_mm(struct mmsim_machine *m, struct mmsim_mm *mm,
                    uint64_t *swapped, char *err, size_t errlen)
{
    uint64_t rss = 0, swp = 0, vm = 0;

    for (unsigned i = 0; i < mm->nr_regions; i++) {
        struct vm_region *r = &mm->regions[i];

        if (i && r->start < mm->regions[i - 1].start +
                                mm->regions[i - 1].nr * MMSIM_PAGE_SIZE)
            return vfail(err, errlen, "owner %" PRIu64 ": regions overlap",
                         mm->owner);
        vm += r->nr;
        for (uint64_t j = 0; j < r->nr; j++) {
            uint64_t pte = r->pte[j];

            if (pte & PTE_PRESENT) {
                uint64_t pfn = pte_val(pte);
                uint8_t f =
                    pfn < m->max_pfn ? page_flags(pfn_to_page(m, pfn)) : 0;

                if (!(f & PG_ANON) || !(f & PG_HEAD))
                    return vfail(
                        err, errlen,
                        "owner %" PRIu64 ": %#" PRIx64 " maps pfn %#" PRIx64
                        ", which is not anonymous (flags %#x)",
                        mm->owner, r->start + j * MMSIM_PAGE_SIZE, pfn, f);
                rss++;
            } else if (pte & PTE_SWAP) {
                if (!mmsim_swap_slot_used(m, pte_val(pte)))
                    return vfail(err, errlen,
                                 "owner %" PRIu64 ": %#" PRIx64
                                 " names free swap slot %" PRIu64,
                                 mm->owner, r->start + j * MMSIM_PAGE_SIZE,
                                 pte_val(pte));
                swp++;
            } else if (pte) {
                return vfail(err, errlen,
                             "owner %" PRIu64 ": bad pte %#" PRIx64, mm->owner,
                             pte);
            }
        }
    }
    if (rss != atomic_load(&mm->rss) || swp != atomic_load(&mm->swapents) ||
        vm != atomic_load(&mm->total_vm))
        return vfail(err, errlen,
                     "owner %" PRIu64 ": ptes give rss %" PRIu64
                     " swap %" PRIu64 " vm %" PRIu64 ", counters %" PRIu64
                     "/%" PRIu64 "/%" PRIu64,
                     mm->owner, rss, swp, vm, atomic_load(&mm->rss),
                     atomic_load(&mm->swapents), atomic_load(&mm->total_vm));
    *swapped += swp;
    return 0;
}

int mmsim_vm_check(struct mmsim_machine *m, char *err, size_t errlen)
{
    struct mmsim_vm *vm = m->vm;
    uint64_t swapped = 0, used;
    int rc = 0;

    pthread_mutex_lock(&vm->mm_list_lock);
    for (struct mmsim_mm *mm = vm->mm_list; mm; mm = mm->next)
        pthread_mutex_lock(&mm->lock);
    for (struct mmsim_mm *mm = vm->mm_list; mm && !rc; mm = mm->next)
        rc = check_mm(m, mm, &swapped, err, errlen);
    for (unsigned n = 0; n < m->nr_nodes && !rc; n++) {
        mmsim_spin_lock(&vm->lru[n].lock);
        rc = check_lru(m, (int)n, err, errlen);
        mmsim_spin_unlock(&vm->lru[n].lock);
    }
    if (!rc && vm->swap.fd >= 0) {
        mmsim_spin_lock(&vm->swap.lock);
        used = vm->swap.used;
        mmsim_spin_unlock(&vm->swap.lock);
        /* Every used slot is named by exactly one pte (none is in flight:
         * slots change hands only under the owning mm->lock). */
        if (used != swapped)
            rc = vfail(err, errlen,
                       "swap: %" PRIu64 " slots used, ptes name %" PRIu64, used,
                       swapped);
    }
    for (struct mmsim_mm *mm = vm->mm_list; mm; mm = mm->next)
        pthread_mutex_unlock(&mm->lock);
    pthread_mutex_unlock(&vm->mm_list_lock);
    return rc;
}

int mmsim_check(struct mmsim_machine *m, bool full, char *err, size_t errlen)
{
    int rc = 0;

    if (err && errlen)
        err[0] = '\0';
    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return 0;
    pthread_mutex_lock(&m->boot_lock);
    rc = mmsim_vm_check(m, err, errlen);
    if (!rc)
        rc = mmsim_vmalloc_check(m, err, errlen);
    for (unsigned n = 0; n < m->nr_nodes && !rc; n++) {
        for_each_zone_idx(m, i)
        {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];
            struct checker c = {err, errlen, z};

            if (!zone_populated(z))
                continue;
            mmsim_lock_zone_all(z);
            rc = check_zone(&c, full);
            mmsim_unlock_zone_all(z);
            if (rc)
                break;
        }
    }
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}
