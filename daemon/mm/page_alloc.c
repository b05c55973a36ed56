// SPDX-License-Identifier: MIT
/*
 * page_alloc.c - the zoned buddy allocator (mm/page_alloc.c's algorithms):
 * per-order free lists, expand() on allocation, __free_one_page() merging
 * with buddy = pfn ^ (1 << order), watermarks, lowmem_reserve, zonelists
 * by node distance, per-cpu page lists, deferred struct page init.
 *
 * Locking: see mm.h. Functions named *_locked need zone->lock held (or
 * single-threaded boot, where nobody else can see the zone yet).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hostmem.h"
#include "minmax.h"
#include "vm_internal.h"

#define PAGES_PER_SECTION (UINT64_C(1) << (27 - MMSIM_PAGE_SHIFT))
#define SWAP_CLUSTER_MAX  32

/* alloc_flags, as mm/internal.h */
#define ALLOC_WMARK_MIN     WMARK_MIN
#define ALLOC_WMARK_LOW     WMARK_LOW
#define ALLOC_WMARK_MASK    0x07u
#define ALLOC_NO_WATERMARKS 0x08u
#define ALLOC_MIN_RESERVE   0x10u /* __GFP_HIGH: half of min */
#define ALLOC_NON_BLOCK     0x20u /* !__GFP_DIRECT_RECLAIM: a quarter more */

/* Relaxed load/store of a counter only ever written under one lock. */
static inline int64_t free_read(const struct mmsim_zone *z)
{
    return atomic_load_explicit(&z->free_pages, memory_order_relaxed);
}

static inline void free_add_locked(struct mmsim_zone *z, int64_t n)
{
    atomic_store_explicit(&z->free_pages, free_read(z) + n,
                          memory_order_relaxed);
}

/* ---- free lists ---------------------------------------------------------- */

/*
 * nr_free is written under the zone lock but read without it by the
 * high-order watermark check (as the kernel reads it), hence atomics.
 */
static inline void nr_free_add_locked(struct mmsim_free_area *a, int64_t n)
{
    __atomic_store_n(&a->nr_free,
                     __atomic_load_n(&a->nr_free, __ATOMIC_RELAXED) +
                         (uint64_t)n,
                     __ATOMIC_RELAXED);
}

static inline void list_push(struct mmsim_machine *m, uint32_t *head,
                             uint64_t pfn)
{
    struct mmsim_page *p = pfn_to_page(m, pfn);

    p->prev = PFN_NONE;
    p->next = *head;
    if (*head != PFN_NONE)
        pfn_to_page(m, *head)->prev = (uint32_t)pfn;
    *head = (uint32_t)pfn;
}

static inline void list_del(struct mmsim_machine *m, uint32_t *head,
                            uint64_t pfn)
{
    struct mmsim_page *p = pfn_to_page(m, pfn);

    if (p->prev != PFN_NONE)
        pfn_to_page(m, p->prev)->next = p->next;
    else
        *head = p->next;
    if (p->next != PFN_NONE)
        pfn_to_page(m, p->next)->prev = p->prev;
    p->next = p->prev = PFN_NONE;
}

/*
 * The pcp lists also keep their tails, so free_pcppages_bulk() takes the
 * coldest block in O(1), as list_last_entry() does in the kernel.
 */
static inline void pcp_push(struct mmsim_machine *m, struct mmsim_pcp *pcp,
                            unsigned o, uint64_t pfn)
{
    if (pcp->lists[o] == PFN_NONE)
        pcp->tails[o] = (uint32_t)pfn;
    list_push(m, &pcp->lists[o], pfn);
}

static inline void pcp_del(struct mmsim_machine *m, struct mmsim_pcp *pcp,
                           unsigned o, uint64_t pfn)
{
    if (pcp->tails[o] == pfn)
        pcp->tails[o] = pfn_to_page(m, pfn)->prev;
    list_del(m, &pcp->lists[o], pfn);
}

static inline void add_to_free_list(struct mmsim_zone *z, uint64_t pfn,
                                    unsigned order)
{
    struct mmsim_page *p = pfn_to_page(z->m, pfn);

    page_set_flags(p, PG_BUDDY);
    page_set_order(p, order);
    p->zid = z->zid;
    list_push(z->m, &z->free_area[order].head, pfn);
    nr_free_add_locked(&z->free_area[order], 1);
}

static inline void del_from_free_list(struct mmsim_zone *z, uint64_t pfn,
                                      unsigned order)
{
    struct mmsim_page *p = pfn_to_page(z->m, pfn);

    list_del(z->m, &z->free_area[order].head, pfn);
    page_set_flags(p, 0);
    page_set_order(p, 0);
    nr_free_add_locked(&z->free_area[order], -1);
}

/* page_is_buddy(): free in buddy at exactly @order, inside this zone. */
static inline bool page_is_buddy(const struct mmsim_zone *z, uint64_t pfn,
                                 unsigned order)
{
    const struct mmsim_page *p;

    if (!zone_span_has(z, pfn))
        return false;
    p = &z->m->mem_map[pfn];
    return page_flags(p) == PG_BUDDY && page_order(p) == order;
}

/*
 * __free_one_page(): merge with free buddies as far as they go, then put
 * the result on its free list. Does not touch free_pages.
 */
static void free_one_page_locked(struct mmsim_zone *z, uint64_t pfn,
                                 unsigned order)
{
    unsigned max = z->m->max_order;

    while (order < max) {
        uint64_t buddy = pfn ^ (UINT64_C(1) << order);

        if (!page_is_buddy(z, buddy, order))
            break;
        del_from_free_list(z, buddy, order);
        pfn &= buddy;
        order++;
    }
    add_to_free_list(z, pfn, order);
}

/*
 * expand(): the block at @pfn of order @high serves order @low; the upper
 * halves go back on the free lists, the low part is returned.
 */
static void expand_locked(struct mmsim_zone *z, uint64_t pfn, unsigned low,
                          unsigned high)
{
    while (high > low) {
        high--;
        add_to_free_list(z, pfn + (UINT64_C(1) << high), high);
    }
}

/* __rmqueue_smallest(): first free block of order >= @order. */
static bool rmqueue_smallest_locked(struct mmsim_zone *z, unsigned order,
                                    uint64_t *pfn)
{
    for (unsigned o = order; o <= z->m->max_order; o++) {
        uint32_t head = z->free_area[o].head;

        if (head == PFN_NONE)
            continue;
        del_from_free_list(z, head, o);
        expand_locked(z, head, order, o);
        free_add_locked(z, -(int64_t)(UINT64_C(1) << order));
        *pfn = head;
        return true;
    }
    return false;
}

void mmsim_release_range_locked(struct mmsim_zone *z, uint64_t start,
                                uint64_t end)
{
    unsigned max = z->m->max_order;

    /* __free_pages_memory(): the largest aligned blocks that fit. */
    while (start < end) {
        unsigned order = start ? (unsigned)__builtin_ctzll(start) : max;
        uint64_t left = end - start;

        if (order > max)
            order = max;
        while ((UINT64_C(1) << order) > left)
            order--;
        free_one_page_locked(z, start, order);
        free_add_locked(z, (int64_t)(UINT64_C(1) << order));
        /* __free_pages_ok() counts boot-time releases in pgfree too. */
        z->ev[ZEV_PGFREE] += UINT64_C(1) << order;
        start += UINT64_C(1) << order;
    }
}

/* ---- deferred struct page init ----------------------------------------- */

bool mmsim_pfn_deferred_locked(const struct mmsim_zone *z, uint64_t pfn)
{
    for (unsigned i = z->deferred_pos; i < z->nr_deferred; i++)
        if (pfn >= z->deferred[i].start && pfn < z->deferred[i].end)
            return true;
    return false;
}

/*
 * deferred_grow_zone(): release deferred pages until at least @want have
 * gone, always finishing the section the last one lies in.
 * Return: pages released.
 */
uint64_t mmsim_grow_deferred_locked(struct mmsim_zone *z, uint64_t want)
{
    uint64_t done = 0;

    while (z->deferred_pos < z->nr_deferred) {
        struct mmsim_pfn_range *r = &z->deferred[z->deferred_pos];
        uint64_t end;

        if (done >= want && r->start % PAGES_PER_SECTION == 0)
            break;
        end = (r->start / PAGES_PER_SECTION + 1) * PAGES_PER_SECTION;
        end = min_u64(end, r->end);
        mmsim_release_range_locked(z, r->start, end);
        done += end - r->start;
        r->start = end;
        if (r->start == r->end)
            z->deferred_pos++;
    }
    z->deferred_pages -= done;
    if (!z->deferred_pages)
        atomic_store_explicit(&z->has_deferred, false, memory_order_relaxed);
    if (done)
        atomic_fetch_add_explicit(&z->m->ev_deferred_grow, 1,
                                  memory_order_relaxed);
    return done;
}

/* ---- watermarks, lowmem_reserve, pcp sizes, zonelists ----------------- */

static uint64_t int_sqrt(uint64_t x)
{
    uint64_t r = 0, bit = UINT64_C(1) << 62;

    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

static bool is_lowmem_type(enum mmsim_zone_type t)
{
    return t == MMSIM_ZONE_DMA || t == MMSIM_ZONE_DMA32 ||
           t == MMSIM_ZONE_NORMAL;
}

/*
 * init_per_zone_wmark_min() + __setup_per_zone_wmarks() +
 * setup_per_zone_lowmem_reserve(), with the kernel's arithmetic.
 */
void mmsim_setup_watermarks(struct mmsim_machine *m)
{
    uint64_t lowmem_pages = 0, pages_min;

    for (unsigned n = 0; n < m->nr_nodes; n++)
        for_each_zone_idx(m, i)
        {
            const struct mmsim_zone *z = &m->pgdat[n]->zones[i];

            if (is_lowmem_type(z->type))
                lowmem_pages += z->managed;
        }
    if (m->desc.min_free_kbytes) {
        m->min_free_kbytes = m->desc.min_free_kbytes;
    } else {
        uint64_t k = int_sqrt(lowmem_pages * 4 * 16);

        m->min_free_kbytes = k < 128 ? 128 : (k > 262144 ? 262144 : k);
    }
    pages_min = m->min_free_kbytes >> (MMSIM_PAGE_SHIFT - 10);

    for (unsigned n = 0; n < m->nr_nodes; n++) {
        for_each_zone_idx(m, i)
        {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];
            uint64_t tmp =
                lowmem_pages ? pages_min * z->managed / lowmem_pages : 0;
            uint64_t scale;

            if (z->type == MMSIM_ZONE_HIGHMEM ||
                z->type == MMSIM_ZONE_MOVABLE || z->type == MMSIM_ZONE_DEVICE) {
                /* Highmem and movable: min is small, the deltas not. */
                uint64_t mp = z->managed / 1024;

                mp = mp < SWAP_CLUSTER_MAX ? SWAP_CLUSTER_MAX
                                           : (mp > 128 ? 128 : mp);
                z->wmark[WMARK_MIN] = z->type == MMSIM_ZONE_DEVICE ? 0 : mp;
            } else {
                z->wmark[WMARK_MIN] = tmp;
            }
            scale = z->managed * m->desc.watermark_scale_factor / 10000;
            tmp = (tmp >> 2) > scale ? tmp >> 2 : scale;
            if (z->type == MMSIM_ZONE_DEVICE)
                tmp = 0;
            z->wmark[WMARK_LOW] = z->wmark[WMARK_MIN] + tmp;
            z->wmark[WMARK_HIGH] = z->wmark[WMARK_LOW] + tmp;
            z->wmark[WMARK_PROMO] = z->wmark[WMARK_HIGH] + tmp;
        }
        /* setup_per_zone_lowmem_reserve() */
        for (unsigned i = 0; i + 1 < m->nr_zone_idx; i++) {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];
            unsigned ratio = m->desc.lowmem_reserve_ratio[z->type];
            bool clear = !ratio || !z->managed;
            uint64_t managed = 0;

            if (z->type == MMSIM_ZONE_DEVICE)
                clear = true;
            for (unsigned j = i + 1; j < m->nr_zone_idx; j++) {
                const struct mmsim_zone *up = &m->pgdat[n]->zones[j];

                managed += up->managed;
                z->lowmem_reserve[j] = clear ? 0 : managed / ratio;
            }
        }
    }
}

static int zone_batchsize(const struct mmsim_zone *z)
{
    uint64_t b = min_u64(z->managed >> 10, (1024 * 1024) / MMSIM_PAGE_SIZE);
    int batch = (int)(b / 4);

    if (batch < 1)
        batch = 1;
    /* rounddown_pow_of_two(batch + batch / 2) - 1 */
    b = (uint64_t)(batch + batch / 2);
    batch = (int)((UINT64_C(1) << (63 - __builtin_clzll(b))) - 1);
    return batch < 1 ? 1 : batch;
}

static int zone_highsize(const struct mmsim_machine *m,
                         const struct mmsim_zone *z, int batch,
                         unsigned fraction)
{
    uint64_t total = fraction ? z->managed / fraction : z->wmark[WMARK_LOW];
    unsigned cpus = 0;
    int high;

    for (unsigned c = 0; c < m->nr_cpus; c++)
        if (m->cpu_node[c] == z->nid)
            cpus++;
    if (!cpus)
        cpus = m->nr_cpus;
    high = (int)(total / cpus);
    return high > batch * 4 ? high : batch * 4;
}

/*
 * zone_set_pageset_high_and_batch(). pcp->high starts at high_min and is
 * not auto-tuned between high_min and high_max as 6.7+ kernels do.
 */
void mmsim_setup_pcp(struct mmsim_machine *m)
{
    for (unsigned n = 0; n < m->nr_nodes; n++) {
        for_each_zone_idx(m, i)
        {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];
            int batch = zone_batchsize(z);
            int high_min = zone_highsize(m, z, batch, 0);
            int high_max = zone_highsize(m, z, batch, 8);

            if (!z->pcp)
                continue;
            for (unsigned c = 0; c < m->nr_cpus; c++) {
                z->pcp[c].batch = batch;
                z->pcp[c].high_min = high_min;
                z->pcp[c].high_max = high_max;
                z->pcp[c].high = high_min;
            }
        }
    }
}

/*
 * build_zonelists(): nodes by find_next_best_node() (distance, then the
 * next node up, then nodes without CPUs, then round-robin load), each
 * node's populated zones from the highest down.
 */
int mmsim_build_zonelists(struct mmsim_machine *m)
{
    int node_load[MMSIM_MAX_NODES] = {0};

    for (unsigned local = 0; local < m->nr_nodes; local++) {
        struct mmsim_pgdat *pg = m->pgdat[local];
        bool used[MMSIM_MAX_NODES] = {false};
        unsigned nr = 0, k = 0, t = 0;
        int prev = (int)local;
        char line[64 + 4 * MMSIM_MAX_NODES];
        int off;

        for (;;) {
            int best = -1;
            unsigned min_val = UINT32_MAX;

            if (!used[local]) {
                best = (int)local;
            } else {
                for (unsigned n = 0; n < m->nr_nodes; n++) {
                    unsigned val;
                    bool has_cpus = false;

                    if (used[n])
                        continue;
                    val = mmsim_desc_distance(&m->desc, (int)local, (int)n);
                    val += n < local;
                    for (unsigned c = 0; c < m->nr_cpus; c++)
                        has_cpus |= m->cpu_node[c] == (int)n;
                    if (has_cpus)
                        val += 1; /* PENALTY_FOR_NODE_WITH_CPUS */
                    val *= MMSIM_MAX_NODES;
                    val += (unsigned)node_load[n];
                    if (val < min_val) {
                        min_val = val;
                        best = (int)n;
                    }
                }
            }
            if (best < 0)
                break;
            used[best] = true;
            if (mmsim_desc_distance(&m->desc, (int)local, best) !=
                mmsim_desc_distance(&m->desc, (int)local, prev))
                node_load[best] += 1;
            pg->node_order[nr++] = best;
            prev = best;
        }

        pg->zonelist = host_calloc(m->alloc, m->nr_nodes * m->nr_zone_idx + 1,
                                   sizeof(*pg->zonelist));
        pg->zonelist_thisnode = host_calloc(m->alloc, m->nr_zone_idx + 1,
                                            sizeof(*pg->zonelist_thisnode));
        if (!pg->zonelist || !pg->zonelist_thisnode)
            return MMSIM_EHOSTMEM;
        off =
            snprintf(line, sizeof(line), "Fallback order for Node %u: ", local);
        for (unsigned i = 0; i < nr; i++) {
            struct mmsim_pgdat *o = m->pgdat[pg->node_order[i]];

            off += snprintf(line + off, sizeof(line) - (size_t)off, "%d ",
                            pg->node_order[i]);
            for (int zi = (int)m->nr_zone_idx - 1; zi >= 0; zi--) {
                struct mmsim_zone *z = &o->zones[zi];

                if (!zone_populated(z))
                    continue;
                pg->zonelist[k++] = z;
                if (o == pg)
                    pg->zonelist_thisnode[t++] = z;
            }
        }
        mmsim_log(m, 6, "%s", line);
    }
    {
        uint64_t total = 0;
        const char *policy = "Normal";

        for (unsigned n = 0; n < m->nr_nodes; n++)
            total += m->pgdat[n]->present;
        if (m->desc.highmem_start)
            policy = "HighMem";
        mmsim_log(m, 6,
                  "Built %u zonelists, mobility grouping on.  Total pages: "
                  "%" PRIu64,
                  m->nr_nodes, total);
        mmsim_log(m, 6, "Policy zone: %s", policy);
    }
    return 0;
}

unsigned mmsim_zonelist(const struct mmsim_machine *m, int nid,
                        struct mmsim_zoneref *refs, unsigned max)
{
    unsigned n = 0;

    if (nid < 0 || (unsigned)nid >= m->nr_nodes || !m->pgdat[nid] ||
        !m->pgdat[nid]->zonelist)
        return 0;
    for (struct mmsim_zone **zp = m->pgdat[nid]->zonelist; *zp && n < max;
         zp++, n++) {
        refs[n].nid = (*zp)->nid;
        refs[n].type = (*zp)->type;
    }
    return n;
}

/* ---- the allocation path ------------------------------------------------ */

/*
 * gfp_zone(): the highest zone type @gfp may use, per GFP_ZONE_TABLE.
 * Returns -1 for GFP_ZONE_BAD combinations.
 */
static int gfp_zone_type(mmsim_gfp_t gfp)
{
    switch (gfp & MMSIM_GFP_ZONEMASK) {
    case 0:
        return MMSIM_ZONE_NORMAL;
    case MMSIM_GFP_DMA:
        return MMSIM_ZONE_DMA;
    case MMSIM_GFP_HIGHMEM:
        return MMSIM_ZONE_HIGHMEM;
    case MMSIM_GFP_DMA32:
        return MMSIM_ZONE_DMA32;
    case MMSIM_GFP_MOVABLE:
        return MMSIM_ZONE_NORMAL;
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_HIGHMEM:
        return MMSIM_ZONE_MOVABLE;
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA32:
        return MMSIM_ZONE_DMA32;
    case MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA:
        return MMSIM_ZONE_DMA;
    default:
        return -1;
    }
}

/* The highest zone index of this model that @gfp may use. */
static int gfp_highest_idx(const struct mmsim_machine *m, mmsim_gfp_t gfp)
{
    int t = gfp_zone_type(gfp);

    if (t < 0)
        return -1;
    /* Types a model lacks fold down (OPT_ZONE_DMA32, OPT_ZONE_HIGHMEM). */
    while (m->type_to_idx[t] < 0)
        t = t == MMSIM_ZONE_DMA32 ? MMSIM_ZONE_NORMAL : t - 1;
    return m->type_to_idx[t];
}

/* __zone_watermark_ok() */
static bool zone_watermark_ok(const struct mmsim_zone *z, unsigned order,
                              uint64_t mark, int highest_idx,
                              unsigned alloc_flags)
{
    int64_t min = (int64_t)mark;
    int64_t free_pages = free_read(z) - ((int64_t)(UINT64_C(1) << order) - 1);

    if (alloc_flags & ALLOC_MIN_RESERVE) {
        min -= min / 2;
        if (alloc_flags & ALLOC_NON_BLOCK)
            min -= min / 4;
    }
    if (free_pages <= min + (int64_t)z->lowmem_reserve[highest_idx])
        return false;
    if (!order)
        return true;
    for (unsigned o = order; o <= z->m->max_order; o++)
        if (__atomic_load_n(&z->free_area[o].nr_free, __ATOMIC_RELAXED))
            return true;
    return false;
}

/* zone_statistics(): NUMA hit/miss/local/other (foreign is counted on
 * the preferred zone by the caller). */
static void zone_statistics(uint64_t *ev, int zone_nid, int pref_nid,
                            int local_nid)
{
    ev[zone_nid == pref_nid ? ZEV_NUMA_HIT : ZEV_NUMA_MISS]++;
    ev[zone_nid == local_nid ? ZEV_NUMA_LOCAL : ZEV_NUMA_OTHER]++;
}

static void mark_allocated(struct mmsim_zone *z, uint64_t pfn, unsigned order,
                           uint32_t tag)
{
    struct mmsim_page *p = pfn_to_page(z->m, pfn);

    page_set_flags(p, PG_HEAD);
    page_set_order(p, order);
    p->zid = z->zid;
    p->tag = tag; /* links were cleared when it left its list */
}

/*
 * rmqueue_bulk(): refill a pcp list under the zone lock. Each block is
 * pushed in turn, so the last one taken from buddy is served first.
 */
static __attribute__((noinline)) int rmqueue_bulk(struct mmsim_zone *z,
                                                  struct mmsim_pcp *pcp,
                                                  unsigned order, int count)
{
    int got = 0;

    mmsim_spin_lock(&z->lock);
    for (; got < count; got++) {
        uint64_t pfn;
        struct mmsim_page *p;

        if (!rmqueue_smallest_locked(z, order, &pfn))
            break;
        p = pfn_to_page(z->m, pfn);
        page_set_flags(p, PG_PCP);
        page_set_order(p, order);
        p->zid = z->zid;
        pcp_push(z->m, pcp, order, pfn);
    }
    mmsim_spin_unlock(&z->lock);
    pcp->count += got << order;
    return got;
}

/*
 * rmqueue(): one block from one zone, through this CPU's pcp list for
 * small orders, else straight from buddy. @pref is the preferred zone
 * (the zonelist's first eligible one) for the NUMA counters.
 */
static bool rmqueue(struct mmsim_zone *z, int cpu, unsigned order, uint32_t tag,
                    uint64_t *pfn, struct mmsim_zone *pref, int local_nid)
{
    if (cpu >= 0 && order < NR_PCP_ORDERS) {
        struct mmsim_pcp *pcp = &z->pcp[cpu];

        mmsim_spin_lock(&pcp->lock);
        if (pcp->lists[order] == PFN_NONE) {
            int batch = pcp->batch;

            /* nr_pcp_alloc(): fewer blocks for higher orders. */
            if (order)
                batch = (batch >> order) > 2 ? batch >> order : 2;
            rmqueue_bulk(z, pcp, order, batch);
        }
        if (pcp->lists[order] == PFN_NONE) {
            mmsim_spin_unlock(&pcp->lock);
            return false;
        }
        *pfn = pcp->lists[order];
        pcp_del(z->m, pcp, order, *pfn);
        pcp->count -= 1 << order;
        pcp->alloc_delta += 1 << order;
        mark_allocated(z, *pfn, order, tag);
        zone_statistics(pcp->ev, z->nid, pref->nid, local_nid);
        pcp->ev[ZEV_PGALLOC] += UINT64_C(1) << order;
        mmsim_spin_unlock(&pcp->lock);
    } else {
        mmsim_spin_lock(&z->lock);
        if (!rmqueue_smallest_locked(z, order, pfn)) {
            mmsim_spin_unlock(&z->lock);
            return false;
        }
        z->alloc_pages += 1 << order;
        mark_allocated(z, *pfn, order, tag);
        zone_statistics(z->ev, z->nid, pref->nid, local_nid);
        z->ev[ZEV_PGALLOC] += UINT64_C(1) << order;
        mmsim_spin_unlock(&z->lock);
    }
    if (z->nid != pref->nid) {
        /* numa_foreign: the preferred zone's, under its own lock. */
        mmsim_spin_lock(&pref->lock);
        pref->ev[ZEV_NUMA_FOREIGN]++;
        mmsim_spin_unlock(&pref->lock);
    }
    return true;
}

struct alloc_ctx {
    struct mmsim_zone **zonelist;
    int highest_idx;
    int local_nid;
    int cpu;
    unsigned order;
    uint32_t tag;
};

/* get_page_from_freelist(); inlined into the fast path only. */
static inline __attribute__((always_inline)) bool
gpff_inline(struct alloc_ctx *ac, unsigned alloc_flags, uint64_t *pfn)
{
    struct mmsim_zone *pref = NULL;

    for (struct mmsim_zone **zp = ac->zonelist; *zp; zp++) {
        struct mmsim_zone *z = *zp;

        if (z->idx > ac->highest_idx)
            continue;
        if (!pref)
            pref = z; /* ac->preferred_zoneref */
        if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
            uint64_t mark = z->wmark[alloc_flags & ALLOC_WMARK_MASK];

            if (!zone_watermark_ok(z, ac->order, mark, ac->highest_idx,
                                   alloc_flags)) {
                uint64_t grew = 0;

                if (atomic_load_explicit(&z->has_deferred,
                                         memory_order_relaxed)) {
                    mmsim_spin_lock(&z->lock);
                    grew =
                        mmsim_grow_deferred_locked(z, UINT64_C(1) << ac->order);
                    mmsim_spin_unlock(&z->lock);
                }
                if (!grew)
                    continue;
                /* _deferred_grow_zone() succeeded: try_this_zone. */
            }
        }
        if (rmqueue(z, ac->cpu, ac->order, ac->tag, pfn, pref, ac->local_nid))
            return true;
    }
    return false;
}

static __attribute__((noinline)) bool
get_page_from_freelist(struct alloc_ctx *ac, unsigned alloc_flags,
                       uint64_t *pfn)
{
    return gpff_inline(ac, alloc_flags, pfn);
}

static const char *gfp_names(mmsim_gfp_t gfp, char *buf, size_t len)
{
    static const struct {
        mmsim_gfp_t bit;
        const char *name;
    } names[] = {
        {MMSIM_GFP_DMA, "GFP_DMA"},
        {MMSIM_GFP_HIGHMEM, "__GFP_HIGHMEM"},
        {MMSIM_GFP_DMA32, "GFP_DMA32"},
        {MMSIM_GFP_MOVABLE, "__GFP_MOVABLE"},
        {MMSIM_GFP_HIGH, "__GFP_HIGH"},
        {MMSIM_GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"},
        {MMSIM_GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"},
        {MMSIM_GFP_ZERO, "__GFP_ZERO"},
        {MMSIM_GFP_THISNODE, "__GFP_THISNODE"},
        {MMSIM_GFP_NOWARN, "__GFP_NOWARN"},
        {MMSIM_GFP_NORETRY, "__GFP_NORETRY"},
        {MMSIM_GFP_NOFAIL, "__GFP_NOFAIL"},
        {MMSIM_GFP_NOMEMALLOC, "__GFP_NOMEMALLOC"},
    };
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(gfp & names[i].bit))
            continue;
        off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
                                names[i].name);
        if (off >= len)
            break;
    }
    return buf;
}

/* wake_all_kswapds(): each node with a zone below low in the zonelist. */
static void wake_all_kswapds(struct mmsim_machine *m,
                             const struct alloc_ctx *ac)
{
    bool woken[MMSIM_MAX_NODES] = {false};

    for (struct mmsim_zone **zp = ac->zonelist; *zp; zp++) {
        struct mmsim_zone *z = *zp;

        if (z->idx > ac->highest_idx || woken[z->nid])
            continue;
        if (free_read(z) < (int64_t)z->wmark[WMARK_LOW]) {
            woken[z->nid] = true;
            mmsim_wakeup_kswapd(m, z->nid);
        }
    }
}

/*
 * __alloc_pages_slowpath(): wake kswapd, try min, then (when @gfp may
 * block) reclaim directly and retry while that makes progress, drain the
 * per-cpu lists, and finally the OOM killer for small orders. Out of
 * line and cold, so the fast path stays small.
 */
static __attribute__((noinline, cold)) int
alloc_slowpath(struct mmsim_machine *m, struct alloc_ctx *acp, mmsim_gfp_t gfp,
               int nid, uint64_t *pfn)
{
    struct alloc_ctx ac = *acp;
    unsigned order = ac.order;
    int cpu = ac.cpu;
    unsigned alloc_flags;

    /* gfp_to_alloc_flags() */
    alloc_flags = ALLOC_WMARK_MIN;
    if (gfp & MMSIM_GFP_HIGH)
        alloc_flags |= ALLOC_MIN_RESERVE;
    if (!(gfp & MMSIM_GFP_DIRECT_RECLAIM) && !(gfp & MMSIM_GFP_NOMEMALLOC))
        alloc_flags |= ALLOC_NON_BLOCK;
    if (gfp & MMSIM_GFP_KSWAPD_RECLAIM)
        wake_all_kswapds(m, &ac);
    if (get_page_from_freelist(&ac, alloc_flags, pfn))
        return 0;

    if (gfp & MMSIM_GFP_DIRECT_RECLAIM) {
        bool drained = false;

        for (unsigned tries = 0; tries < MAX_RECLAIM_RETRIES; tries++) {
            uint64_t got =
                mmsim_try_to_free_pages(m, ac.zonelist, ac.highest_idx);

            if (get_page_from_freelist(&ac, alloc_flags, pfn))
                return 0;
            if (!drained) {
                /* Pages on other CPUs' lists count for nothing here. */
                mmsim_drain_all(m);
                drained = true;
                if (get_page_from_freelist(&ac, alloc_flags, pfn))
                    return 0;
            }
            if (gfp & MMSIM_GFP_NORETRY)
                break;
            if (got)
                continue;
            /*
             * No progress: __alloc_pages_may_oom(), for small orders,
             * not for one node (killing frees memory anywhere) and not
             * for lowmem requests (killing rarely frees lowmem).
             */
            if (order > NR_PCP_ORDERS - 1 || (gfp & MMSIM_GFP_THISNODE) ||
                m->zone_types[ac.highest_idx] < MMSIM_ZONE_NORMAL ||
                !mmsim_out_of_memory(m, gfp, order, nid))
                break;
            if (get_page_from_freelist(&ac, alloc_flags, pfn))
                return 0;
            tries = 0;
        }
    }

    if (gfp & MMSIM_GFP_NOFAIL) {
        if (order > 1)
            mmsim_log(m, -4, "WARNING: __GFP_NOFAIL with order %u > 1", order);
        /* __alloc_pages_cpuset_fallback(ALLOC_MIN_RESERVE), then no
         * watermarks: everything short of looping forever. */
        if (get_page_from_freelist(&ac, ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE,
                                   pfn) ||
            get_page_from_freelist(&ac, ALLOC_NO_WATERMARKS, pfn))
            return 0;
    }

    atomic_fetch_add_explicit(&m->ev_alloc_fail, 1, memory_order_relaxed);
    if (!(gfp & MMSIM_GFP_NOWARN)) {
        char names[256];

        mmsim_log(m, -4,
                  "mmsim: page allocation failure: order:%u, mode:%#x(%s), "
                  "nodemask=(null),cpus=%d,node=%d",
                  order, gfp, gfp_names(gfp, names, sizeof(names)), cpu, nid);
    }
    return MMSIM_ENOMEM;
}

static int alloc_pages_common(struct mmsim_machine *m, int cpu, mmsim_gfp_t gfp,
                              unsigned order, int nid, uint32_t tag,
                              uint64_t *pfn)
{
    struct alloc_ctx ac;

    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (gfp & ~(mmsim_gfp_t)MMSIM_GFP_ALL_FLAGS)
        return MMSIM_EINVAL;
    if (order > m->max_order)
        return MMSIM_ERANGE;
    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= m->nr_cpus))
        return MMSIM_ECPU;
    ac.local_nid = cpu >= 0 ? m->cpu_node[cpu] : 0;
    if (nid == MMSIM_ANY_NODE)
        nid = ac.local_nid;
    if (nid < 0 || (unsigned)nid >= m->nr_nodes)
        return MMSIM_ENODEV;
    ac.highest_idx = gfp_highest_idx(m, gfp);
    if (ac.highest_idx < 0)
        return MMSIM_EINVAL;
    /* should_fail_alloc_page(): after validation, never for NOFAIL. */
    if (m->fail_page_alloc && !(gfp & MMSIM_GFP_NOFAIL) &&
        m->fail_page_alloc(m->fail_ctx, gfp, order)) {
        atomic_fetch_add_explicit(&m->ev_fail_injected, 1,
                                  memory_order_relaxed);
        return MMSIM_ENOMEM;
    }
    ac.zonelist = (gfp & MMSIM_GFP_THISNODE) ? m->pgdat[nid]->zonelist_thisnode
                                             : m->pgdat[nid]->zonelist;
    ac.cpu = cpu;
    ac.order = order;
    ac.tag = tag;

    /* Fast path: the low watermark. */
    if (gpff_inline(&ac, ALLOC_WMARK_LOW, pfn))
        return 0;

    return alloc_slowpath(m, &ac, gfp, nid, pfn);
}

int mmsim_alloc_pages(struct mmsim_machine *m, int cpu, mmsim_gfp_t gfp,
                      unsigned order, int nid, uint64_t *pfn)
{
    return alloc_pages_common(m, cpu, gfp, order, nid, 0, pfn);
}

int mmsim_alloc_pages_tagged(struct mmsim_machine *m, int cpu, mmsim_gfp_t gfp,
                             unsigned order, int nid, uint32_t tag,
                             uint64_t *pfn)
{
    return alloc_pages_common(m, cpu, gfp, order, nid, tag, pfn);
}

/* ---- the free path ---------------------------------------------------------
 */

/*
 * Why @pfn cannot be freed with @order: the enclosing block decides.
 * Caller holds the locks of the zone holding @pfn (all pcps, then zone).
 */
static int classify_locked(struct mmsim_machine *m, struct mmsim_zone *z,
                           uint64_t pfn, unsigned order)
{
    for (unsigned o = 0; o <= m->max_order; o++) {
        uint64_t head = pfn & ~((UINT64_C(1) << o) - 1);
        const struct mmsim_page *p;

        if (!zone_span_has(z, head))
            break;
        p = pfn_to_page(m, head);
        if (!page_flags(p) || page_order(p) < o)
            continue;
        if (page_flags(p) & (PG_BUDDY | PG_PCP))
            return MMSIM_EALREADY;
        if (page_flags(p) & PG_ANON)
            return MMSIM_EMAPPED;
        if (head == pfn)
            return page_order(p) == order ? 0 : MMSIM_EORDER;
        return MMSIM_ENOTHEAD;
    }
    if (mmsim_pfn_deferred_locked(z, pfn))
        return MMSIM_EALREADY;
    return MMSIM_ERESERVED;
}

/*
 * Claim the allocated block at @pfn for freeing: flip its head from
 * PG_HEAD to 0 atomically, so two racing frees of one block cannot both
 * win. Only the owner of an allocated block writes its struct page, so
 * the plain reads of order and zid are safe once the claim succeeds.
 * On failure say why, from the enclosing block, changing nothing.
 */
/* Why the block at @pfn could not be claimed; 0: it can be now. */
static __attribute__((noinline, cold)) int
claim_failed(struct mmsim_machine *m, uint64_t pfn, unsigned order)
{
    struct mmsim_zone *z = mmsim_pfn_to_zone(m, pfn);
    int rc;

    if (!z || mmsim_mem_range_of(m, pfn) < 0)
        return MMSIM_EFAULT;
    mmsim_lock_zone_all(z);
    rc = classify_locked(m, z, pfn, order);
    mmsim_unlock_zone_all(z);
    if (rc == 0 && (pfn & ((UINT64_C(1) << order) - 1)))
        rc = MMSIM_ENOTHEAD;
    return rc;
}

int mmsim_classify_pfn(struct mmsim_machine *m, uint64_t pfn)
{
    struct mmsim_zone *z = mmsim_pfn_to_zone(m, pfn);
    int rc;

    if (!z || mmsim_mem_range_of(m, pfn) < 0)
        return MMSIM_EFAULT;
    mmsim_lock_zone_all(z);
    rc = classify_locked(m, z, pfn, 0);
    mmsim_unlock_zone_all(z);
    return rc;
}

static inline int claim_block(struct mmsim_machine *m, uint64_t pfn,
                              unsigned order, struct mmsim_zone **zp)
{
    struct mmsim_page *p;
    int rc;

    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (order > m->max_order)
        return MMSIM_ERANGE;
    /* Only pages of memory ever become block heads, so the bounds check
     * is all the fast path needs; holes are told apart in claim_failed(). */
    if (pfn >= m->max_pfn)
        return MMSIM_EFAULT;
    p = pfn_to_page(m, pfn);
    for (;;) {
        uint8_t expect = PG_HEAD;

        if (__atomic_load_n(&p->flags, __ATOMIC_ACQUIRE) == PG_HEAD &&
            page_order(p) == order &&
            __atomic_compare_exchange_n(&p->flags, &expect, 0, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            *zp = m->zones_by_zid[p->zid];
            return 0;
        }
        rc = claim_failed(m, pfn, order);
        if (rc)
            return rc;
        /* It became claimable meanwhile (the owner's own race): retry. */
    }
}

/* free_pcppages_bulk(): @count pages from the pcp's tails back to buddy. */
static void free_pcppages_bulk(struct mmsim_zone *z, struct mmsim_pcp *pcp,
                               int count)
{
    unsigned o = 0;

    mmsim_spin_lock(&z->lock);
    while (count > 0 && pcp->count > 0) {
        uint32_t pfn;

        /* Round-robin over the lists, as the kernel's pindex walk. */
        for (unsigned tries = 0; tries < NR_PCP_ORDERS; tries++) {
            if (pcp->lists[o] != PFN_NONE)
                break;
            o = (o + 1) % NR_PCP_ORDERS;
        }
        pfn = pcp->tails[o];
        if (pfn == PFN_NONE)
            break;
        pcp_del(z->m, pcp, o, pfn);
        page_set_flags(pfn_to_page(z->m, pfn), 0);
        pcp->count -= 1 << o;
        count -= 1 << o;
        free_one_page_locked(z, pfn, o);
        free_add_locked(z, (int64_t)(UINT64_C(1) << o));
        o = (o + 1) % NR_PCP_ORDERS;
    }
    mmsim_spin_unlock(&z->lock);
}

int mmsim_free_pages(struct mmsim_machine *m, int cpu, uint64_t pfn,
                     unsigned order)
{
    struct mmsim_zone *z = NULL;
    struct mmsim_page *p;
    int rc;

    if (cpu != MMSIM_NO_CPU && (cpu < 0 || (unsigned)cpu >= m->nr_cpus))
        return MMSIM_ECPU;
    rc = claim_block(m, pfn, order, &z);
    if (rc)
        return rc;
    p = pfn_to_page(m, pfn);
    if (m->contents)
        mmsim_contents_clear(m, pfn, order);

    if (cpu >= 0 && order < NR_PCP_ORDERS) {
        struct mmsim_pcp *pcp = &z->pcp[cpu];

        mmsim_spin_lock(&pcp->lock);
        page_set_flags(p, PG_PCP);
        pcp_push(m, pcp, order, pfn);
        pcp->count += 1 << order;
        pcp->alloc_delta -= 1 << order;
        pcp->ev[ZEV_PGFREE] += UINT64_C(1) << order;
        if (pcp->count >= pcp->high)
            free_pcppages_bulk(z, pcp, pcp->count - (pcp->high - pcp->batch));
        mmsim_spin_unlock(&pcp->lock);
        return 0;
    }
    mmsim_spin_lock(&z->lock);
    z->alloc_pages -= 1 << order;
    z->ev[ZEV_PGFREE] += UINT64_C(1) << order;
    free_one_page_locked(z, pfn, order);
    free_add_locked(z, (int64_t)(UINT64_C(1) << order));
    mmsim_spin_unlock(&z->lock);
    return 0;
}

int mmsim_page_owner(struct mmsim_machine *m, uint64_t pfn, uint32_t *tag,
                     unsigned *order)
{
    struct mmsim_zone *z;
    struct mmsim_page *p;
    int rc;

    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (pfn >= m->max_pfn || mmsim_mem_range_of(m, pfn) < 0)
        return MMSIM_EFAULT;
    z = mmsim_pfn_to_zone(m, pfn);
    if (!z)
        return MMSIM_EFAULT;
    mmsim_lock_zone_all(z);
    p = pfn_to_page(m, pfn);
    if (page_flags(p) == PG_HEAD) {
        *tag = p->tag;
        *order = page_order(p);
        rc = 0;
    } else {
        rc = classify_locked(m, z, pfn, 0);
        if (rc == 0)
            rc = MMSIM_ENOTHEAD;
    }
    mmsim_unlock_zone_all(z);
    return rc;
}

/* ---- draining and locking helpers ---------------------------------------- */

static void drain_pcp(struct mmsim_zone *z, struct mmsim_pcp *pcp)
{
    mmsim_spin_lock(&pcp->lock);
    if (pcp->count)
        free_pcppages_bulk(z, pcp, pcp->count);
    mmsim_spin_unlock(&pcp->lock);
}

int mmsim_drain_cpu(struct mmsim_machine *m, int cpu)
{
    if (cpu < 0 || (unsigned)cpu >= m->nr_cpus)
        return MMSIM_ECPU;
    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    for (unsigned n = 0; n < m->nr_nodes; n++)
        for_each_zone_idx(m, i)
        {
            struct mmsim_zone *z = &m->pgdat[n]->zones[i];

            if (zone_populated(z))
                drain_pcp(z, &z->pcp[cpu]);
        }
    return 0;
}

void mmsim_drain_all(struct mmsim_machine *m)
{
    for (unsigned c = 0; c < m->nr_cpus; c++)
        mmsim_drain_cpu(m, (int)c);
}

void mmsim_lock_zone_all(struct mmsim_zone *z)
{
    for (unsigned c = 0; c < z->m->nr_cpus; c++)
        mmsim_spin_lock(&z->pcp[c].lock);
    mmsim_spin_lock(&z->lock);
}

void mmsim_unlock_zone_all(struct mmsim_zone *z)
{
    mmsim_spin_unlock(&z->lock);
    for (unsigned c = z->m->nr_cpus; c-- > 0;)
        mmsim_spin_unlock(&z->pcp[c].lock);
}

uint64_t mmsim_zone_pcp_pages(const struct mmsim_zone *z)
{
    uint64_t sum = 0;

    for (unsigned c = 0; c < z->m->nr_cpus; c++)
        sum += (uint64_t)z->pcp[c].count;
    return sum;
}

void mmsim_zone_events(const struct mmsim_zone *z, uint64_t ev[ZEV_NR])
{
    for (int e = 0; e < ZEV_NR; e++) {
        ev[e] = z->ev[e];
        for (unsigned c = 0; c < z->m->nr_cpus; c++)
            ev[e] += z->pcp[c].ev[e];
    }
}

/* ---- free_bootmem_late --------------------------------------------------- */

int mmsim_free_bootmem_late(struct mmsim_machine *m, uint64_t addr,
                            uint64_t size)
{
    uint64_t s = MMSIM_PFN_UP(addr), e;
    int rc = 0;

    if (size == 0 || addr + size < addr)
        return MMSIM_EINVAL;
    e = MMSIM_PFN_DOWN(addr + size);
    pthread_mutex_lock(&m->boot_lock);
    if (atomic_load(&m->phase) != MMSIM_PHASE_RUNNING) {
        rc = MMSIM_EPERM;
        goto out;
    }
    /* Every whole page must be reserved memory of one populated zone. */
    for (uint64_t pfn = s; pfn < e; pfn++) {
        struct mmsim_zone *z = mmsim_pfn_to_zone(m, pfn);

        if (!z || mmsim_mem_range_of(m, pfn) < 0) {
            rc = MMSIM_EFAULT;
            goto out;
        }
        mmsim_lock_zone_all(z);
        rc = classify_locked(m, z, pfn, 0);
        mmsim_unlock_zone_all(z);
        if (rc != MMSIM_ERESERVED) {
            rc = MMSIM_EINVAL;
            goto out;
        }
        rc = 0;
    }
    /* memblock_free_late(): the range leaves memblock.reserved first; if
     * that fails (host memory), buddy must not get the pages either. */
    if (m->mb) {
        rc = mmsim_memblock_free(m->mb, addr, size);
        if (rc)
            goto out;
    }
    for (uint64_t pfn = s; pfn < e;) {
        struct mmsim_zone *z = mmsim_pfn_to_zone(m, pfn);
        uint64_t end = min_u64(e, z->end_pfn);

        mmsim_spin_lock(&z->lock);
        z->managed += end - pfn;
        mmsim_release_range_locked(z, pfn, end);
        mmsim_spin_unlock(&z->lock);
        pfn = end;
    }
out:
    pthread_mutex_unlock(&m->boot_lock);
    return rc;
}
