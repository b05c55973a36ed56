// SPDX-License-Identifier: MIT
/*
 * vm.c - address spaces: regions, page tables, faults, and the LRU lists
 * the faulted pages join.
 *
 * DOC: anonymous faults
 *
 * An access to a page without a present pte faults (handle_mm_fault ->
 * do_anonymous_page or do_swap_page): mm->lock is dropped, an order-0
 * page is allocated (which may wake kswapd, reclaim directly, or run the
 * OOM killer, all of which may take other address spaces' locks), the
 * lock is taken again and the pte looked at once more: if it changed
 * meanwhile (another thread faulted it, munmap, the OOM reaper) the new
 * page goes back and the access retries. A swapped pte is read back
 * from its slot (a major fault) and the slot freed. The page joins its
 * node's inactive list with its referenced bit set, which is what the
 * kernel's young pte bit amounts to: the next scan activates it.
 *
 * DOC: reverse map
 *
 * Every anonymous page is mapped by exactly one address space (there is
 * no fork), so its rmap is one (mm, address) pair. The pair lives in a
 * per-node table indexed by page->tag, allocated when the page joins the
 * LRU and freed when it leaves for good, all under the node's LRU lock.
 * That keeps struct mmsim_page at 16 bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hostmem.h"
#include "vm_internal.h"

/* ---- the LRU lists (lru->lock held) -------------------------------------- */

static inline struct mmsim_lru *pfn_lru(struct mmsim_machine *m, uint64_t pfn)
{
    return &m->vm->lru[m->zones_by_zid[pfn_to_page(m, pfn)->zid]->nid];
}

void mmsim_lru_push_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                           int lru, uint64_t pfn)
{
    struct mmsim_page *p = pfn_to_page(m, pfn);

    p->prev = PFN_NONE;
    p->next = l->head[lru];
    if (l->head[lru] != PFN_NONE)
        pfn_to_page(m, l->head[lru])->prev = (uint32_t)pfn;
    else
        l->tail[lru] = (uint32_t)pfn;
    l->head[lru] = (uint32_t)pfn;
    l->nr[lru]++;
    if (lru == LRU_ACTIVE)
        page_flags_or(p, PG_LRU | PG_ACTIVE);
    else {
        page_flags_and(p, (uint8_t)~PG_ACTIVE);
        page_flags_or(p, PG_LRU);
    }
}

void mmsim_lru_del_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                          uint64_t pfn)
{
    struct mmsim_page *p = pfn_to_page(m, pfn);
    int lru = (page_flags(p) & PG_ACTIVE) ? LRU_ACTIVE : LRU_INACTIVE;

    if (p->prev != PFN_NONE)
        pfn_to_page(m, p->prev)->next = p->next;
    else
        l->head[lru] = p->next;
    if (p->next != PFN_NONE)
        pfn_to_page(m, p->next)->prev = p->prev;
    else
        l->tail[lru] = p->prev;
    p->next = p->prev = 0;
    l->nr[lru]--;
    page_flags_and(p, (uint8_t) ~(PG_LRU | PG_ACTIVE));
}

static int rmap_alloc_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                             struct mmsim_mm *mm, uint64_t vaddr, uint32_t *idx)
{
    if (l->rmap_free == UINT32_MAX) {
        uint32_t cap = l->rmap_cap ? l->rmap_cap * 2 : 256;
        struct rmap_ent *n;

        if (l->rmap_cap >= UINT32_MAX / 2)
            return MMSIM_EHOSTMEM;
        n = host_realloc(m->alloc, l->rmap, cap * sizeof(*n));
        if (!n)
            return MMSIM_EHOSTMEM;
        /* Thread the new slots onto the free list, lowest first. */
        for (uint32_t i = l->rmap_cap; i < cap; i++) {
            n[i].mm = NULL;
            n[i].vaddr = i + 1 < cap ? i + 1 : UINT32_MAX;
        }
        l->rmap_free = l->rmap_cap;
        l->rmap = n;
        l->rmap_cap = cap;
    }
    *idx = l->rmap_free;
    l->rmap_free = (uint32_t)l->rmap[*idx].vaddr;
    l->rmap[*idx].mm = mm;
    l->rmap[*idx].vaddr = vaddr;
    return 0;
}

void mmsim_rmap_free_locked(struct mmsim_lru *l, uint32_t idx)
{
    l->rmap[idx].mm = NULL;
    l->rmap[idx].vaddr = l->rmap_free;
    l->rmap_free = idx;
}

void mmsim_anon_free(struct mmsim_machine *m, int cpu, uint64_t pfn)
{
    struct mmsim_page *p = pfn_to_page(m, pfn);
    int rc;

    /* Nobody else can reach the page now: back to a plain block. */
    p->tag = 0;
    page_set_flags(p, PG_HEAD);
    rc = mmsim_free_pages(m, cpu, pfn, 0);
    MMSIM_ASSERT(rc == 0);
    (void)rc;
}

/* ---- address spaces ------------------------------------------------------ */

void mmsim_mm_get(struct mmsim_mm *mm)
{
    atomic_fetch_add_explicit(&mm->refs, 1, memory_order_relaxed);
}

void mmsim_mm_put(struct mmsim_mm *mm)
{
    struct mmsim_machine *m = mm->m;

    if (atomic_fetch_sub_explicit(&mm->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&mm->lock);
    host_free(m->alloc, mm->regions);
    host_free(m->alloc, mm);
}

int mmsim_mm_create(struct mmsim_machine *m, uint64_t owner, const char *name,
                    struct mmsim_mm **out)
{
    struct mmsim_vm *vm = m->vm;
    struct mmsim_mm *mm;

    *out = NULL;
    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    mm = host_calloc(m->alloc, 1, sizeof(*mm));
    if (!mm)
        return MMSIM_EHOSTMEM;
    if (pthread_mutex_init(&mm->lock, NULL)) {
        host_free(m->alloc, mm);
        return MMSIM_EHOSTMEM;
    }
    mm->m = m;
    atomic_init(&mm->refs, 1);
    mm->owner = owner;
    snprintf(mm->name, sizeof(mm->name), "%s", name ? name : "mmsim");
    pthread_mutex_lock(&vm->mm_list_lock);
    mm->next = vm->mm_list;
    if (vm->mm_list)
        vm->mm_list->prev = mm;
    vm->mm_list = mm;
    pthread_mutex_unlock(&vm->mm_list_lock);
    *out = mm;
    return 0;
}

/* Drop the pte at @idx of @r: free its page or swap slot. */
static void zap_pte_locked(struct mmsim_mm *mm, struct vm_region *r,
                           uint64_t idx)
{
    struct mmsim_machine *m = mm->m;
    uint64_t pte = r->pte[idx];

    r->pte[idx] = 0;
    if (pte & PTE_PRESENT) {
        uint64_t pfn = pte_val(pte);
        struct mmsim_page *p = pfn_to_page(m, pfn);
        struct mmsim_lru *l = pfn_lru(m, pfn);
        bool ours;

        mmsim_spin_lock(&l->lock);
        ours = page_flags(p) & PG_LRU;
        if (ours) {
            mmsim_lru_del_locked(m, l, pfn);
            mmsim_rmap_free_locked(l, p->tag);
        }
        mmsim_spin_unlock(&l->lock);
        /* Isolated: the reclaimer holding it sees the pte gone and frees
         * it (it holds a reference on @mm, so the rmap stays valid). */
        if (ours)
            mmsim_anon_free(m, MMSIM_NO_CPU, pfn);
        atomic_fetch_sub_explicit(&mm->rss, 1, memory_order_relaxed);
    } else if (pte & PTE_SWAP) {
        mmsim_swap_free(m, pte_val(pte));
        atomic_fetch_sub_explicit(&mm->swapents, 1, memory_order_relaxed);
    }
}

void mmsim_mm_unmap_all_locked(struct mmsim_mm *mm)
{
    for (unsigned i = 0; i < mm->nr_regions; i++) {
        struct vm_region *r = &mm->regions[i];

        for (uint64_t j = 0; j < r->nr; j++)
            if (r->pte[j])
                zap_pte_locked(mm, r, j);
    }
}

static void free_regions_locked(struct mmsim_mm *mm)
{
    for (unsigned i = 0; i < mm->nr_regions; i++)
        host_unmap(mm->m->alloc, mm->regions[i].pte,
                   mm->regions[i].nr * sizeof(uint64_t));
    mm->nr_regions = 0;
    mm->total_vm = 0;
}

void mmsim_mm_destroy(struct mmsim_mm *mm)
{
    struct mmsim_vm *vm;

    if (!mm)
        return;
    vm = mm->m->vm;
    /*
     * Empty it while it is still listed, so the checker never meets an
     * LRU page or swap slot of an address space it cannot see; @dying
     * keeps the OOM killer off it meanwhile.
     */
    pthread_mutex_lock(&mm->lock);
    atomic_store(&mm->dying, true);
    mmsim_mm_unmap_all_locked(mm);
    free_regions_locked(mm);
    mm->dead = true;
    pthread_mutex_unlock(&mm->lock);

    pthread_mutex_lock(&vm->mm_list_lock);
    if (mm->prev)
        mm->prev->next = mm->next;
    else
        vm->mm_list = mm->next;
    if (mm->next)
        mm->next->prev = mm->prev;
    mm->next = mm->prev = NULL;
    pthread_mutex_unlock(&vm->mm_list_lock);
    mmsim_mm_put(mm);
}

struct vm_region *mmsim_find_region(struct mmsim_mm *mm, uint64_t addr)
{
    unsigned lo = 0, hi = mm->nr_regions;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        struct vm_region *r = &mm->regions[mid];

        if (addr < r->start)
            hi = mid;
        else if (addr >= r->start + r->nr * MMSIM_PAGE_SIZE)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

static int regions_reserve(struct mmsim_mm *mm, unsigned extra)
{
    struct vm_region *n;
    unsigned cap;

    if (mm->nr_regions + extra <= mm->cap_regions)
        return 0;
    cap = mm->cap_regions ? mm->cap_regions * 2 : 8;
    while (cap < mm->nr_regions + extra)
        cap *= 2;
    n = host_realloc(mm->m->alloc, mm->regions, cap * sizeof(*n));
    if (!n)
        return MMSIM_EHOSTMEM;
    mm->regions = n;
    mm->cap_regions = cap;
    return 0;
}

/* get_unmapped_area(), top-down: the highest gap below MMSIM_MMAP_BASE. */
static bool find_gap(struct mmsim_mm *mm, uint64_t bytes, uint64_t *addr,
                     unsigned *pos)
{
    uint64_t ceiling = MMSIM_MMAP_BASE;

    for (unsigned i = mm->nr_regions + 1; i-- > 0;) {
        uint64_t floor = i ? mm->regions[i - 1].start +
                                 mm->regions[i - 1].nr * MMSIM_PAGE_SIZE
                           : MMSIM_MMAP_MIN;

        if (i < mm->nr_regions && mm->regions[i].start < ceiling)
            ceiling = mm->regions[i].start;
        if (ceiling >= floor && ceiling - floor >= bytes) {
            *addr = ceiling - bytes;
            *pos = i;
            return true;
        }
    }
    return false;
}

int mmsim_mmap(struct mmsim_mm *mm, uint64_t nr_pages, int nid, uint64_t *addr)
{
    struct mmsim_machine *m = mm->m;
    struct vm_region r = {0};
    unsigned pos;
    int rc;

    if (!nr_pages || nr_pages > MMSIM_MMAP_MAX_PAGES)
        return MMSIM_EINVAL;
    if (nid != MMSIM_ANY_NODE && (nid < 0 || (unsigned)nid >= m->nr_nodes))
        return MMSIM_ENODEV;
    pthread_mutex_lock(&mm->lock);
    if (atomic_load(&mm->killed)) {
        rc = MMSIM_EKILLED;
        goto out;
    }
    rc = regions_reserve(mm, 1);
    if (rc)
        goto out;
    if (!find_gap(mm, nr_pages * MMSIM_PAGE_SIZE, &r.start, &pos)) {
        rc = MMSIM_ENOMEM;
        goto out;
    }
    /* The page table costs host memory only where it is written. */
    r.pte = host_map_zeroed(m->alloc, nr_pages * sizeof(uint64_t));
    if (!r.pte) {
        rc = MMSIM_EHOSTMEM;
        goto out;
    }
    r.nr = nr_pages;
    r.nid = nid;
    memmove(&mm->regions[pos + 1], &mm->regions[pos],
            (mm->nr_regions - pos) * sizeof(r));
    mm->regions[pos] = r;
    mm->nr_regions++;
    mm->total_vm += nr_pages;
    *addr = r.start;
out:
    pthread_mutex_unlock(&mm->lock);
    return rc;
}

/* A copy of ptes [from, from + n) of @r in a new table. */
static uint64_t *pte_copy(struct mmsim_machine *m, const struct vm_region *r,
                          uint64_t from, uint64_t n)
{
    uint64_t *t = host_map_zeroed(m->alloc, n * sizeof(uint64_t));

    if (t)
        memcpy(t, r->pte + from, n * sizeof(uint64_t));
    return t;
}

/*
 * Cut [s, e) out of region @i (which it overlaps): zap its ptes, then
 * shrink, split or drop the region. New tables are made before anything
 * is zapped, so a host allocation failure changes nothing.
 */
static int unmap_region_part(struct mmsim_mm *mm, unsigned i, uint64_t s,
                             uint64_t e)
{
    struct mmsim_machine *m = mm->m;
    struct vm_region *r = &mm->regions[i];
    uint64_t rend = r->start + r->nr * MMSIM_PAGE_SIZE;
    uint64_t from =
        ((s > r->start ? s : r->start) - r->start) >> MMSIM_PAGE_SHIFT;
    uint64_t to = ((e < rend ? e : rend) - r->start) >> MMSIM_PAGE_SHIFT;
    uint64_t *head = NULL, *tail = NULL;
    struct vm_region old;

    if (from > 0 && (head = pte_copy(m, r, 0, from)) == NULL)
        return MMSIM_EHOSTMEM;
    if (to < r->nr && (tail = pte_copy(m, r, to, r->nr - to)) == NULL) {
        host_unmap(m->alloc, head, from * sizeof(uint64_t));
        return MMSIM_EHOSTMEM;
    }
    if (head && tail && regions_reserve(mm, 1)) {
        host_unmap(m->alloc, head, from * sizeof(uint64_t));
        host_unmap(m->alloc, tail, (r->nr - to) * sizeof(uint64_t));
        return MMSIM_EHOSTMEM;
    }
    r = &mm->regions[i]; /* regions_reserve() may have moved it */
    for (uint64_t j = from; j < to; j++)
        if (r->pte[j])
            zap_pte_locked(mm, r, j);
    old = *r;
    host_unmap(m->alloc, old.pte, old.nr * sizeof(uint64_t));
    mm->total_vm -= to - from;
    if (head && tail) {
        memmove(&mm->regions[i + 2], &mm->regions[i + 1],
                (mm->nr_regions - i - 1) * sizeof(old));
        mm->nr_regions++;
        mm->regions[i] = (struct vm_region){old.start, from, old.nid, head};
        mm->regions[i + 1] = (struct vm_region){
            old.start + to * MMSIM_PAGE_SIZE, old.nr - to, old.nid, tail};
    } else if (head) {
        mm->regions[i] = (struct vm_region){old.start, from, old.nid, head};
    } else if (tail) {
        mm->regions[i] = (struct vm_region){old.start + to * MMSIM_PAGE_SIZE,
                                            old.nr - to, old.nid, tail};
    } else {
        memmove(&mm->regions[i], &mm->regions[i + 1],
                (mm->nr_regions - i - 1) * sizeof(old));
        mm->nr_regions--;
    }
    return 0;
}

int mmsim_munmap(struct mmsim_mm *mm, uint64_t addr, uint64_t nr_pages)
{
    uint64_t end;
    int rc = 0;

    if (!nr_pages || addr & (MMSIM_PAGE_SIZE - 1) ||
        nr_pages > (UINT64_MAX - addr) >> MMSIM_PAGE_SHIFT)
        return MMSIM_EINVAL;
    end = addr + nr_pages * MMSIM_PAGE_SIZE;
    pthread_mutex_lock(&mm->lock);
    for (unsigned i = 0; i < mm->nr_regions && !rc;) {
        struct vm_region *r = &mm->regions[i];
        uint64_t rend = r->start + r->nr * MMSIM_PAGE_SIZE;
        unsigned before = mm->nr_regions;

        if (rend <= addr) {
            i++;
            continue;
        }
        if (r->start >= end)
            break;
        rc = unmap_region_part(mm, i, addr, end);
        /* Kept parts (one, or two after a split) come before @end's side. */
        if (!rc)
            i += mm->nr_regions >= before ? 1 + (mm->nr_regions > before) : 0;
    }
    pthread_mutex_unlock(&mm->lock);
    return rc;
}

/* ---- faults and access ----------------------------------------------------
 */

/* Put the freshly mapped @pfn on its node's inactive list. */
static int lru_add_new(struct mmsim_mm *mm, uint64_t vaddr, uint64_t pfn)
{
    struct mmsim_machine *m = mm->m;
    struct mmsim_lru *l = pfn_lru(m, pfn);
    struct mmsim_page *p = pfn_to_page(m, pfn);
    uint32_t idx;
    int rc;

    mmsim_spin_lock(&l->lock);
    rc = rmap_alloc_locked(m, l, mm, vaddr, &idx);
    if (!rc) {
        p->tag = idx;
        page_flags_or(p, PG_ANON | PG_REFERENCED);
        mmsim_lru_push_locked(m, l, LRU_INACTIVE, pfn);
    }
    mmsim_spin_unlock(&l->lock);
    return rc;
}

/*
 * Fault in the page at @vaddr (not present). Called and returns with
 * mm->lock held, dropping it around the allocation. Return: 0 (the caller
 * looks the pte up again), or an error.
 */
static int fault_in(struct mmsim_mm *mm, int cpu, uint64_t vaddr)
{
    struct mmsim_machine *m = mm->m;
    struct vm_region *r = mmsim_find_region(mm, vaddr);
    uint64_t idx = (vaddr - r->start) >> MMSIM_PAGE_SHIFT;
    uint64_t pte = r->pte[idx], pfn;
    int nid = r->nid, rc;

    pthread_mutex_unlock(&mm->lock);
    rc = mmsim_alloc_pages(m, cpu, MMSIM_GFP_HIGHUSER_MOVABLE, 0, nid, &pfn);
    pthread_mutex_lock(&mm->lock);
    if (rc) /* the OOM killer may have chosen us while we waited */
        return atomic_load(&mm->killed) ? MMSIM_EKILLED : rc;
    if (atomic_load(&mm->killed)) {
        mmsim_free_pages(m, cpu, pfn, 0);
        return MMSIM_EKILLED;
    }
    r = mmsim_find_region(mm, vaddr);
    if (!r || r->pte[(vaddr - r->start) >> MMSIM_PAGE_SHIFT] != pte) {
        /* Somebody changed it meanwhile: look again. */
        mmsim_free_pages(m, cpu, pfn, 0);
        return 0;
    }
    idx = (vaddr - r->start) >> MMSIM_PAGE_SHIFT;
    if (pte & PTE_SWAP) {
        rc = mmsim_swap_read(m, pte_val(pte), pfn);
        if (rc) {
            mmsim_free_pages(m, cpu, pfn, 0);
            return rc;
        }
    }
    rc = lru_add_new(mm, vaddr, pfn);
    if (rc) {
        mmsim_free_pages(m, cpu, pfn, 0);
        return rc;
    }
    if (pte & PTE_SWAP) {
        mmsim_swap_free(m, pte_val(pte));
        atomic_fetch_sub_explicit(&mm->swapents, 1, memory_order_relaxed);
        mm->majflt++;
        vm_count(m, VE_PGMAJFAULT, 1);
        vm_count(m, VE_PSWPIN, 1);
    } else {
        mm->minflt++;
    }
    vm_count(m, VE_PGFAULT, 1);
    r->pte[idx] = pte_mk_present(pfn);
    atomic_fetch_add_explicit(&mm->rss, 1, memory_order_relaxed);
    return 0;
}

static int mm_access(struct mmsim_mm *mm, int cpu, uint64_t addr, void *rbuf,
                     const void *wbuf, size_t len)
{
    struct mmsim_machine *m = mm->m;
    int rc = 0;

    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= m->nr_cpus))
        return MMSIM_ECPU;
    if (len > UINT64_MAX - addr)
        return MMSIM_EFAULT;
    pthread_mutex_lock(&mm->lock);
    while (len) {
        struct vm_region *r;
        uint64_t off = addr & (MMSIM_PAGE_SIZE - 1), pte, pfn;
        size_t n = MMSIM_PAGE_SIZE - off < len ? MMSIM_PAGE_SIZE - off : len;
        uint8_t *data;

        if (atomic_load_explicit(&mm->killed, memory_order_relaxed)) {
            rc = MMSIM_EKILLED;
            break;
        }
        r = mmsim_find_region(mm, addr);
        if (!r) {
            rc = MMSIM_EFAULT;
            break;
        }
        pte = r->pte[(addr - r->start) >> MMSIM_PAGE_SHIFT];
        if (!(pte & PTE_PRESENT)) {
            rc = fault_in(mm, cpu, addr & ~(uint64_t)(MMSIM_PAGE_SIZE - 1));
            if (rc)
                break;
            continue;
        }
        pfn = pte_val(pte);
        if (!(page_flags(pfn_to_page(m, pfn)) & PG_REFERENCED))
            page_flags_or(pfn_to_page(m, pfn), PG_REFERENCED);
        if (m->contents) {
            data = m->contents + pfn * MMSIM_PAGE_SIZE + off;
            if (rbuf) {
                memcpy(rbuf, data, n);
            } else {
                atomic_fetch_or_explicit(&m->dirty[pfn / 64],
                                         UINT64_C(1) << (pfn % 64),
                                         memory_order_relaxed);
                memcpy(data, wbuf, n);
            }
        } else if (rbuf) {
            memset(rbuf, 0, n);
        }
        if (rbuf)
            rbuf = (uint8_t *)rbuf + n;
        else
            wbuf = (const uint8_t *)wbuf + n;
        addr += n;
        len -= n;
    }
    pthread_mutex_unlock(&mm->lock);
    return rc;
}

int mmsim_mm_read(struct mmsim_mm *mm, int cpu, uint64_t addr, void *buf,
                  size_t len)
{
    return mm_access(mm, cpu, addr, buf, NULL, len);
}

int mmsim_mm_write(struct mmsim_mm *mm, int cpu, uint64_t addr, const void *buf,
                   size_t len)
{
    return mm_access(mm, cpu, addr, NULL, buf, len);
}

int mmsim_mm_stat(struct mmsim_mm *mm, struct mmsim_mm_stat *st)
{
    pthread_mutex_lock(&mm->lock);
    st->owner = mm->owner;
    st->total_vm = mm->total_vm;
    st->rss = atomic_load(&mm->rss);
    st->swapents = atomic_load(&mm->swapents);
    st->nr_regions = mm->nr_regions;
    st->minflt = mm->minflt;
    st->majflt = mm->majflt;
    st->extra =
        (uint64_t)(atomic_load(&mm->extra) > 0 ? atomic_load(&mm->extra) : 0);
    st->oom_killed = atomic_load(&mm->killed);
    pthread_mutex_unlock(&mm->lock);
    return 0;
}

void mmsim_mm_account(struct mmsim_mm *mm, int64_t pages)
{
    atomic_fetch_add_explicit(&mm->extra, pages, memory_order_relaxed);
}

bool mmsim_mm_oom_killed(const struct mmsim_mm *mm)
{
    return atomic_load(&mm->killed);
}

int mmsim_mm_pte(struct mmsim_mm *mm, uint64_t addr, struct mmsim_pte_info *pi)
{
    struct vm_region *r;
    int rc = 0;

    memset(pi, 0, sizeof(*pi));
    pthread_mutex_lock(&mm->lock);
    r = mmsim_find_region(mm, addr);
    if (!r) {
        rc = MMSIM_EFAULT;
    } else {
        uint64_t pte = r->pte[(addr - r->start) >> MMSIM_PAGE_SHIFT];

        if (pte & PTE_PRESENT) {
            uint8_t f = page_flags(pfn_to_page(mm->m, pte_val(pte)));

            pi->state = MMSIM_PTE_PRESENT;
            pi->pfn = pte_val(pte);
            pi->active = f & PG_ACTIVE;
            pi->referenced = f & PG_REFERENCED;
        } else if (pte & PTE_SWAP) {
            pi->state = MMSIM_PTE_SWAP;
            pi->slot = pte_val(pte);
        }
    }
    pthread_mutex_unlock(&mm->lock);
    return rc;
}

int mmsim_lru_info(struct mmsim_machine *m, int nid, struct mmsim_lru_info *li)
{
    struct mmsim_lru *l;

    if (nid < 0 || (unsigned)nid >= m->nr_nodes)
        return MMSIM_ENODEV;
    l = &m->vm->lru[nid];
    mmsim_spin_lock(&l->lock);
    li->inactive = l->nr[LRU_INACTIVE];
    li->active = l->nr[LRU_ACTIVE];
    li->isolated = l->nr_isolated;
    mmsim_spin_unlock(&l->lock);
    return 0;
}

/* ---- set-up -------------------------------------------------------------- */

int mmsim_vm_init(struct mmsim_machine *m, char *err, size_t errlen)
{
    struct mmsim_vm *vm = host_calloc(m->alloc, 1, sizeof(*vm));
    int rc;

    if (!vm)
        return MMSIM_EHOSTMEM;
    if (pthread_mutex_init(&vm->mm_list_lock, NULL)) {
        host_free(m->alloc, vm);
        return MMSIM_EHOSTMEM;
    }
    if (pthread_mutex_init(&vm->oom_lock, NULL)) {
        pthread_mutex_destroy(&vm->mm_list_lock);
        host_free(m->alloc, vm);
        return MMSIM_EHOSTMEM;
    }
    if (pthread_mutex_init(&vm->kswapd_ctl, NULL)) {
        pthread_mutex_destroy(&vm->oom_lock);
        pthread_mutex_destroy(&vm->mm_list_lock);
        host_free(m->alloc, vm);
        return MMSIM_EHOSTMEM;
    }
    for (unsigned n = 0; n < MMSIM_MAX_NODES; n++) {
        struct mmsim_lru *l = &vm->lru[n];

        mmsim_spin_init(&l->lock);
        for (int i = 0; i < NR_LRU; i++)
            l->head[i] = l->tail[i] = PFN_NONE;
        l->rmap_free = UINT32_MAX;
    }
    vm->swap.fd = -1;
    m->vm = vm;
    rc = mmsim_kswapd_init(m);
    if (!rc)
        rc = mmsim_swap_init(m, err, errlen);
    if (rc) {
        mmsim_vm_fini(m);
        return rc;
    }
    return 0;
}

void mmsim_vm_fini(struct mmsim_machine *m)
{
    struct mmsim_vm *vm = m->vm;

    if (!vm)
        return;
    mmsim_kswapd_fini(m);
    /* Address spaces the owner forgot: reclaim their memory so nothing
     * leaks; their handles are dangling from here on. */
    while (vm->mm_list)
        mmsim_mm_destroy(vm->mm_list);
    for (unsigned n = 0; n < MMSIM_MAX_NODES; n++)
        host_free(m->alloc, vm->lru[n].rmap);
    mmsim_swap_fini(m);
    pthread_mutex_destroy(&vm->kswapd_ctl);
    pthread_mutex_destroy(&vm->oom_lock);
    pthread_mutex_destroy(&vm->mm_list_lock);
    host_free(m->alloc, vm);
    m->vm = NULL;
}
