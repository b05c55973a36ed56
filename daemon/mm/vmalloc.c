// SPDX-License-Identifier: MIT
/*
 * vmalloc.c - the vmalloc space (mm/vmalloc.c): virtually contiguous
 * areas in [MMSIM_VMALLOC_START, MMSIM_VMALLOC_END), each backed by
 * order-0 pages from wherever the page allocator finds them.
 *
 * Structures: one struct vmap_area per area (the pfns of its pages, how
 * many came from each node, its owner, a reference count) and the space,
 * an array of {start, end, area} entries sorted by address, where end is
 * past the area's guard page. Lookup by address is a binary search.
 * Placement is the lowest-address first fit over the gaps between
 * entries, as alloc_vmap_area() places areas (5.2+ finds that gap in
 * O(log n) with an augmented tree); here it costs O(areas).
 *
 * Life of an area: mmsim_vmalloc() reserves its range with an entry whose
 * area is not live yet (invisible to find, vread, vwrite, vfree and the
 * views, as VM_UNINITIALIZED areas are), drops the lock, allocates the
 * pages, then takes the lock again to make it live or to drop the entry.
 * vfree unlinks a live area under the lock and frees its pages outside
 * it. vread and vwrite take a reference under the lock and copy outside
 * it; the last reference frees the pages, so even a vfree racing a vread
 * (which the contract forbids) costs the reader stale bytes, never freed
 * memory.
 *
 * Locking: m->vmap_lock protects the space and each area's @live; it is a
 * leaf, never held while pages are allocated or freed, nor while any other
 * machine lock is taken. An area's pfns and node counts are written before
 * it goes live and are read-only afterwards; @refs is atomic.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hostmem.h"
#include "internal.h"
#include "mmsim/vmalloc.h"
#include "textbuf.h"

/* GFP_KERNEL | __GFP_HIGHMEM, as vmalloc() asks for its pages. */
#define VMALLOC_GFP (MMSIM_GFP_KERNEL | MMSIM_GFP_HIGHMEM)
/* As page_alloc.c names them in its warnings. */
#define VMALLOC_GFP_NAMES                                                      \
    "__GFP_HIGHMEM|__GFP_KSWAPD_RECLAIM|__GFP_DIRECT_RECLAIM"

/*
 * struct vmap_area - one area (vmap_area and vm_struct in one).
 * @refs: one for being linked in the space, one per reader in flight.
 */
struct vmap_area {
    uint64_t start;
    uint64_t owner;
    uint32_t nr_pages;
    bool live;              /* under vmap_lock */
    _Atomic uint32_t refs;  /* the last put frees the pages */
    struct vmap_area *next; /* mmsim_vfree_owner()'s list of victims */
    uint32_t *node_pages;   /* pages per node, nr_nodes entries */
    uint32_t pfns[];        /* nr_pages entries */
};

struct vmap_entry {
    uint64_t start;
    uint64_t end; /* past the guard page */
    struct vmap_area *va;
};

/* struct mmsim_vmap_space - all areas, under m->vmap_lock. */
struct mmsim_vmap_space {
    struct vmap_entry *e; /* sorted by start, disjoint */
    size_t nr;
    size_t cap;
    uint64_t used_pages; /* pages of live areas */
    uint64_t nr_live;
};

static bool cpu_ok(const struct mmsim_machine *m, int cpu)
{
    return cpu == MMSIM_NO_CPU || (cpu >= 0 && (unsigned)cpu < m->nr_cpus);
}

static uint64_t area_bytes(const struct vmap_area *va)
{
    return (uint64_t)va->nr_pages << MMSIM_PAGE_SHIFT;
}

/* ---- the space ----------------------------------------------------------- */

/*
 * Index of the last entry starting at or below @addr; sp->nr when there
 * is none (every entry starts above @addr, or there are no entries).
 */
static size_t lookup_locked(const struct mmsim_vmap_space *sp, uint64_t addr)
{
    size_t lo = 0, hi = sp->nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sp->e[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : sp->nr;
}

/* The live area whose pages (not its guard page) hold @addr, or NULL. */
static struct vmap_area *find_live_locked(const struct mmsim_vmap_space *sp,
                                          uint64_t addr)
{
    size_t i;
    struct vmap_area *va;

    if (!sp)
        return NULL;
    i = lookup_locked(sp, addr);
    if (i == sp->nr)
        return NULL;
    va = sp->e[i].va;
    if (!va->live || addr - va->start >= area_bytes(va))
        return NULL;
    return va;
}

static int space_get_locked(struct mmsim_machine *m)
{
    if (!m->vmap) {
        m->vmap = host_calloc(m->alloc, 1, sizeof(*m->vmap));
        if (!m->vmap)
            return MMSIM_EHOSTMEM;
    }
    return 0;
}

/*
 * Reserve the lowest range that holds @va and a guard page, and link it
 * (not live yet). Return: 0; MMSIM_ENOMEM (no gap is big enough);
 * MMSIM_EHOSTMEM (the array could not grow). Nothing changes on failure.
 */
static int reserve_locked(struct mmsim_machine *m, struct vmap_area *va)
{
    struct mmsim_vmap_space *sp = m->vmap;
    uint64_t need = ((uint64_t)va->nr_pages + 1) << MMSIM_PAGE_SHIFT;
    uint64_t cursor = MMSIM_VMALLOC_START;
    size_t i;

    for (i = 0; i < sp->nr; i++) {
        if (sp->e[i].start - cursor >= need)
            break;
        cursor = sp->e[i].end;
    }
    if (i == sp->nr && MMSIM_VMALLOC_END - cursor < need)
        return MMSIM_ENOMEM;
    if (sp->nr == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 16;
        struct vmap_entry *e = host_realloc(m->alloc, sp->e, cap * sizeof(*e));

        if (!e)
            return MMSIM_EHOSTMEM;
        sp->e = e;
        sp->cap = cap;
    }
    memmove(&sp->e[i + 1], &sp->e[i], (sp->nr - i) * sizeof(sp->e[0]));
    sp->e[i] = (struct vmap_entry){cursor, cursor + need, va};
    sp->nr++;
    va->start = cursor;
    return 0;
}

static void unlink_locked(struct mmsim_vmap_space *sp, size_t i)
{
    memmove(&sp->e[i], &sp->e[i + 1], (sp->nr - i - 1) * sizeof(sp->e[0]));
    sp->nr--;
}

/* Take a live area out of the space; the space's reference goes to the
 * caller, who puts it after dropping the lock. */
static void retire_locked(struct mmsim_vmap_space *sp, size_t i)
{
    struct vmap_area *va = sp->e[i].va;

    va->live = false;
    sp->used_pages -= va->nr_pages;
    sp->nr_live--;
    unlink_locked(sp, i);
}

/* ---- areas --------------------------------------------------------------- */

static struct vmap_area *area_new(struct mmsim_machine *m, uint32_t nr_pages,
                                  uint64_t owner)
{
    size_t bytes = sizeof(struct vmap_area) +
                   ((size_t)nr_pages + m->nr_nodes) * sizeof(uint32_t);
    struct vmap_area *va = host_malloc(m->alloc, bytes);

    if (!va)
        return NULL;
    va->start = 0;
    va->owner = owner;
    va->nr_pages = nr_pages;
    va->live = false;
    atomic_init(&va->refs, 1);
    va->next = NULL;
    va->node_pages = &va->pfns[nr_pages];
    memset(va->node_pages, 0, m->nr_nodes * sizeof(uint32_t));
    return va;
}

static void free_backing(struct mmsim_machine *m, int cpu,
                         const struct vmap_area *va, uint32_t nr)
{
    for (uint32_t i = 0; i < nr; i++) {
        int rc = mmsim_free_pages(m, cpu, va->pfns[i], 0);

        (void)rc;
        MMSIM_ASSERT(rc == 0);
    }
}

/* Drop a reference; the last one frees the pages and the area. */
static void area_put(struct mmsim_machine *m, int cpu, struct vmap_area *va)
{
    if (atomic_fetch_sub_explicit(&va->refs, 1, memory_order_acq_rel) != 1)
        return;
    free_backing(m, cpu, va, va->nr_pages);
    host_free(m->alloc, va);
}

/*
 * __vmalloc_area_node(): one order-0 page per virtual page. On failure
 * every page taken so far goes back. Called without vmap_lock: the
 * allocation may reclaim.
 */
static int populate(struct mmsim_machine *m, int cpu, int nid,
                    struct vmap_area *va)
{
    uint32_t i;
    int rc = 0;

    for (i = 0; i < va->nr_pages; i++) {
        uint64_t pfn;
        int pnid;

        rc = mmsim_alloc_pages_tagged(m, cpu, VMALLOC_GFP | MMSIM_GFP_NOWARN, 0,
                                      nid, (uint32_t)va->owner, &pfn);
        if (rc)
            break;
        va->pfns[i] = (uint32_t)pfn;
        /* Written by this thread's allocation: no race. */
        pnid = pfn_to_page(m, pfn)->zid / MMSIM_NR_ZONE_TYPES;
        MMSIM_ASSERT(pnid < (int)m->nr_nodes);
        va->node_pages[pnid]++;
    }
    if (!rc)
        return 0;
    /* The kernel's warn_alloc() line; size is what was obtained. */
    mmsim_log(m, -4,
              "mmsim: vmalloc error: size %" PRIu64
              ", failed to allocate pages, mode:%#x(%s), nodemask=(null)",
              (uint64_t)i << MMSIM_PAGE_SHIFT, (unsigned)VMALLOC_GFP,
              VMALLOC_GFP_NAMES);
    free_backing(m, cpu, va, i);
    return rc;
}

/* ---- the API ------------------------------------------------------------- */

int mmsim_vmalloc(struct mmsim_machine *m, int cpu, uint64_t size, int nid,
                  uint64_t owner, uint64_t *addr)
{
    uint64_t pages;
    struct vmap_area *va;
    int rc;

    if (!addr)
        return MMSIM_EINVAL;
    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    pages = size / MMSIM_PAGE_SIZE + (size % MMSIM_PAGE_SIZE != 0);
    if (pages == 0 || pages > MMSIM_VMALLOC_MAX_PAGES)
        return MMSIM_EINVAL;
    if (!cpu_ok(m, cpu))
        return MMSIM_ECPU;
    if (nid != MMSIM_ANY_NODE && (nid < 0 || (unsigned)nid >= m->nr_nodes))
        return MMSIM_ENODEV;
    /* __vmalloc_node_range(): more than the machine has is hopeless. */
    if (pages > m->total_pages) {
        mmsim_log(m, -4,
                  "mmsim: vmalloc error: size %" PRIu64
                  ", exceeds total pages, mode:%#x(%s), nodemask=(null)",
                  pages << MMSIM_PAGE_SHIFT, (unsigned)VMALLOC_GFP,
                  VMALLOC_GFP_NAMES);
        return MMSIM_ENOMEM;
    }

    va = area_new(m, (uint32_t)pages, owner);
    if (!va)
        return MMSIM_EHOSTMEM;
    pthread_mutex_lock(&m->vmap_lock);
    rc = space_get_locked(m);
    if (!rc)
        rc = reserve_locked(m, va);
    pthread_mutex_unlock(&m->vmap_lock);
    if (rc) {
        if (rc == MMSIM_ENOMEM)
            mmsim_log(m, -4,
                      "mmsim: vmap allocation for size %" PRIu64
                      " failed: use vmalloc=<size> to increase size",
                      (pages + 1) << MMSIM_PAGE_SHIFT);
        host_free(m->alloc, va);
        return rc;
    }

    rc = populate(m, cpu, nid, va);

    pthread_mutex_lock(&m->vmap_lock);
    if (rc) {
        /* Nobody else removes an entry that is not live. */
        size_t i = lookup_locked(m->vmap, va->start);

        MMSIM_ASSERT(i < m->vmap->nr && m->vmap->e[i].va == va);
        unlink_locked(m->vmap, i);
    } else {
        va->live = true;
        m->vmap->used_pages += va->nr_pages;
        m->vmap->nr_live++;
        *addr = va->start;
    }
    pthread_mutex_unlock(&m->vmap_lock);
    if (rc)
        host_free(m->alloc, va);
    return rc;
}

int mmsim_vfree(struct mmsim_machine *m, int cpu, uint64_t addr)
{
    struct mmsim_vmap_space *sp;
    struct vmap_area *va = NULL;

    if (!cpu_ok(m, cpu))
        return MMSIM_ECPU;
    pthread_mutex_lock(&m->vmap_lock);
    sp = m->vmap;
    if (sp) {
        size_t i = lookup_locked(sp, addr);

        if (i < sp->nr && sp->e[i].start == addr && sp->e[i].va->live) {
            va = sp->e[i].va;
            retire_locked(sp, i);
        }
    }
    pthread_mutex_unlock(&m->vmap_lock);
    if (!va)
        return MMSIM_EINVAL;
    area_put(m, cpu, va);
    return 0;
}

uint64_t mmsim_vfree_owner(struct mmsim_machine *m, int cpu, uint64_t owner)
{
    struct mmsim_vmap_space *sp;
    struct vmap_area *victims = NULL;
    uint64_t n = 0;

    if (!cpu_ok(m, cpu))
        cpu = MMSIM_NO_CPU;
    pthread_mutex_lock(&m->vmap_lock);
    sp = m->vmap;
    if (sp) {
        size_t out = 0;

        for (size_t i = 0; i < sp->nr; i++) {
            struct vmap_area *va = sp->e[i].va;

            if (va->live && va->owner == owner) {
                va->live = false;
                sp->used_pages -= va->nr_pages;
                sp->nr_live--;
                va->next = victims;
                victims = va;
                n++;
            } else {
                sp->e[out++] = sp->e[i];
            }
        }
        sp->nr = out;
    }
    pthread_mutex_unlock(&m->vmap_lock);
    while (victims) {
        struct vmap_area *va = victims;

        victims = va->next;
        area_put(m, cpu, va);
    }
    return n;
}

int mmsim_vmalloc_find(struct mmsim_machine *m, uint64_t addr, uint64_t *start,
                       uint64_t *size, uint64_t *owner)
{
    struct vmap_area *va;

    pthread_mutex_lock(&m->vmap_lock);
    va = find_live_locked(m->vmap, addr);
    if (va) {
        if (start)
            *start = va->start;
        if (size)
            *size = area_bytes(va);
        if (owner)
            *owner = va->owner;
    }
    pthread_mutex_unlock(&m->vmap_lock);
    return va ? 0 : MMSIM_EFAULT;
}

int mmsim_vmalloc_to_pfn(struct mmsim_machine *m, uint64_t addr, uint64_t *pfn)
{
    struct vmap_area *va;

    if (!pfn)
        return MMSIM_EINVAL;
    pthread_mutex_lock(&m->vmap_lock);
    va = find_live_locked(m->vmap, addr);
    if (va)
        *pfn = va->pfns[(addr - va->start) >> MMSIM_PAGE_SHIFT];
    pthread_mutex_unlock(&m->vmap_lock);
    return va ? 0 : MMSIM_EFAULT;
}

/*
 * vread()/vwrite(): the whole range must lie in one live area's pages,
 * checked before a byte moves. The copy runs outside the lock, holding a
 * reference, through the page contents API one page at a time.
 */
static int vaccess(struct mmsim_machine *m, uint64_t addr, void *rbuf,
                   const void *wbuf, size_t len)
{
    bool write = wbuf != NULL;
    struct vmap_area *va;
    uint64_t off;
    int rc = 0;

    if (len && !rbuf && !wbuf)
        return MMSIM_EINVAL;
    pthread_mutex_lock(&m->vmap_lock);
    va = find_live_locked(m->vmap, addr);
    if (va && len > area_bytes(va) - (addr - va->start))
        va = NULL;
    if (va)
        atomic_fetch_add_explicit(&va->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&m->vmap_lock);
    if (!va)
        return MMSIM_EFAULT;
    if (!m->contents) {
        area_put(m, MMSIM_NO_CPU, va);
        return MMSIM_ENOCONTENT;
    }

    off = addr - va->start;
    for (size_t done = 0; done < len && !rc;) {
        uint32_t in = (uint32_t)(off % MMSIM_PAGE_SIZE);
        uint32_t chunk = (uint32_t)MMSIM_PAGE_SIZE - in;
        uint64_t pfn = va->pfns[off >> MMSIM_PAGE_SHIFT];

        if (chunk > len - done)
            chunk = (uint32_t)(len - done);
        rc = write ? mmsim_page_write(m, pfn, in, (const uint8_t *)wbuf + done,
                                      chunk)
                   : mmsim_page_read(m, pfn, in, (uint8_t *)rbuf + done, chunk);
        MMSIM_ASSERT(rc == 0);
        done += chunk;
        off += chunk;
    }
    area_put(m, MMSIM_NO_CPU, va);
    return rc;
}

int mmsim_vread(struct mmsim_machine *m, uint64_t addr, void *buf, size_t len)
{
    if (len && !buf)
        return MMSIM_EINVAL;
    return vaccess(m, addr, buf, NULL, len);
}

int mmsim_vwrite(struct mmsim_machine *m, uint64_t addr, const void *buf,
                 size_t len)
{
    if (len && !buf)
        return MMSIM_EINVAL;
    return vaccess(m, addr, NULL, buf, len);
}

int mmsim_vmalloc_info(struct mmsim_machine *m, struct mmsim_vmalloc_info *vi)
{
    const struct mmsim_vmap_space *sp;
    uint64_t prev = MMSIM_VMALLOC_START;

    if (!vi)
        return MMSIM_EINVAL;
    memset(vi, 0, sizeof(*vi));
    vi->total_bytes = MMSIM_VMALLOC_END - MMSIM_VMALLOC_START;
    pthread_mutex_lock(&m->vmap_lock);
    sp = m->vmap;
    if (sp) {
        vi->used_pages = sp->used_pages;
        vi->nr_areas = sp->nr_live;
        /* get_vmalloc_info() of 2.6-4.x: the largest hole, guards in. */
        for (size_t i = 0; i < sp->nr; i++) {
            if (sp->e[i].start - prev > vi->largest_free)
                vi->largest_free = sp->e[i].start - prev;
            prev = sp->e[i].end;
        }
    }
    pthread_mutex_unlock(&m->vmap_lock);
    if (MMSIM_VMALLOC_END - prev > vi->largest_free)
        vi->largest_free = MMSIM_VMALLOC_END - prev;
    return 0;
}

/* ---- /proc/vmallocinfo ----------------------------------------------------
 */

/*
 * One s_show() line: "0x%pK-0x%pK %7ld", the caller, " pages=%d",
 * " vmalloc", then show_numa_info()'s " N%u=%u" for each node with pages.
 * The size column includes the guard page, which vm_struct->size counts.
 */
static void show_area(struct textbuf *tb, const struct mmsim_machine *m,
                      const struct vmap_entry *e, bool owners)
{
    const struct vmap_area *va = e->va;

    tb_printf(tb, "0x%016" PRIx64 "-0x%016" PRIx64 " %7" PRIu64, e->start,
              e->end, e->end - e->start);
    if (owners)
        tb_printf(tb, " session-%" PRIu64, va->owner);
    else
        tb_printf(tb, " mmsim_vmalloc+0x0/0x0");
    tb_printf(tb, " pages=%" PRIu32 " vmalloc", va->nr_pages);
    for (unsigned n = 0; n < m->nr_nodes; n++)
        if (va->node_pages[n])
            tb_printf(tb, " N%u=%" PRIu32, n, va->node_pages[n]);
    tb_printf(tb, "\n");
}

int64_t mmsim_view_vmallocinfo(struct mmsim_machine *m, bool owners, char *buf,
                               size_t len)
{
    struct textbuf tb;

    if (!buf && len)
        return MMSIM_EINVAL;
    tb_init(&tb, buf, len);
    pthread_mutex_lock(&m->vmap_lock);
    for (size_t i = 0; m->vmap && i < m->vmap->nr; i++)
        if (m->vmap->e[i].va->live)
            show_area(&tb, m, &m->vmap->e[i], owners);
    pthread_mutex_unlock(&m->vmap_lock);
    return tb_finish(&tb);
}

/* ---- the checker ----------------------------------------------------------
 */

__attribute__((format(printf, 3, 4))) static int vfail(char *err, size_t errlen,
                                                       const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        int n = snprintf(err, errlen, "vmalloc: ");

        va_start(ap, fmt);
        if (n > 0 && (size_t)n < errlen)
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return MMSIM_ECORRUPT;
}

static int check_area_locked(struct mmsim_machine *m,
                             const struct vmap_area *va, char *err,
                             size_t errlen)
{
    uint64_t by_node[MMSIM_MAX_NODES] = {0};

    for (uint32_t i = 0; i < va->nr_pages; i++) {
        uint64_t pfn = va->pfns[i];
        const struct mmsim_page *p;
        uint8_t f;
        int nid;

        if (pfn >= m->max_pfn)
            return vfail(err, errlen,
                         "area 0x%" PRIx64 " page %" PRIu32 " is pfn %#" PRIx64
                         ", past the end of memory",
                         va->start, i, pfn);
        p = pfn_to_page(m, pfn);
        f = page_flags(p);
        if (!(f & PG_HEAD) || (f & (PG_BUDDY | PG_PCP)) || page_order(p))
            return vfail(err, errlen,
                         "area 0x%" PRIx64 " page %" PRIu32 " (pfn %#" PRIx64
                         ") is not an allocated order-0 block (flags %#x "
                         "order %u)",
                         va->start, i, pfn, f, page_order(p));
        if (p->tag != (uint32_t)va->owner)
            return vfail(err, errlen,
                         "area 0x%" PRIx64 " page %" PRIu32 " (pfn %#" PRIx64
                         ") has tag %#" PRIx32 ", owner is %#" PRIx64,
                         va->start, i, pfn, p->tag, va->owner);
        /* The node of the zone it came from (the buddy checker vouches
         * for zone ids), which must span it. */
        nid = p->zid / MMSIM_NR_ZONE_TYPES;
        if ((unsigned)nid >= m->nr_nodes || pfn < m->pgdat[nid]->start_pfn ||
            pfn >= m->pgdat[nid]->end_pfn)
            return vfail(err, errlen,
                         "area 0x%" PRIx64 " page %" PRIu32 " (pfn %#" PRIx64
                         ") is outside its zone's node %d",
                         va->start, i, pfn, nid);
        by_node[nid]++;
    }
    for (unsigned n = 0; n < m->nr_nodes; n++)
        if (by_node[n] != va->node_pages[n])
            return vfail(err, errlen,
                         "area 0x%" PRIx64 " counts %" PRIu32
                         " pages on node %u, has %" PRIu64,
                         va->start, va->node_pages[n], n, by_node[n]);
    return 0;
}

int mmsim_vmalloc_check(struct mmsim_machine *m, char *err, size_t errlen)
{
    const struct mmsim_vmap_space *sp;
    uint64_t prev_end = MMSIM_VMALLOC_START, used = 0, live = 0;
    int rc = 0;

    if (err && errlen)
        err[0] = '\0';
    pthread_mutex_lock(&m->vmap_lock);
    sp = m->vmap;
    for (size_t i = 0; sp && i < sp->nr && !rc; i++) {
        const struct vmap_entry *e = &sp->e[i];
        const struct vmap_area *va = e->va;

        if (e->start < prev_end || e->start % MMSIM_PAGE_SIZE ||
            e->end > MMSIM_VMALLOC_END || va->start != e->start ||
            va->nr_pages == 0 ||
            e->end - e->start != area_bytes(va) + MMSIM_PAGE_SIZE)
            rc = vfail(err, errlen,
                       "entry %zu [0x%" PRIx64 ", 0x%" PRIx64
                       ") for area 0x%" PRIx64 " of %" PRIu32
                       " pages is misplaced (previous ends at 0x%" PRIx64 ")",
                       i, e->start, e->end, va->start, va->nr_pages, prev_end);
        else if (va->live)
            rc = check_area_locked(m, va, err, errlen);
        prev_end = e->end;
        if (va->live) {
            used += va->nr_pages;
            live++;
        }
    }
    if (!rc && sp && (used != sp->used_pages || live != sp->nr_live))
        rc = vfail(err, errlen,
                   "counters say %" PRIu64 " areas of %" PRIu64
                   " pages, found %" PRIu64 " of %" PRIu64,
                   sp->nr_live, sp->used_pages, live, used);
    pthread_mutex_unlock(&m->vmap_lock);
    return rc;
}

/* ---- teardown -------------------------------------------------------------
 */

/*
 * Machine destruction: the areas' host memory goes; their simulated pages
 * are not handed back to buddy one by one, since buddy is about to go too.
 * Nobody else uses the machine now, so no reader holds a reference.
 */
void mmsim_vmalloc_fini(struct mmsim_machine *m)
{
    struct mmsim_vmap_space *sp = m->vmap;

    if (!sp)
        return;
    for (size_t i = 0; i < sp->nr; i++)
        host_free(m->alloc, sp->e[i].va);
    host_free(m->alloc, sp->e);
    host_free(m->alloc, sp);
    m->vmap = NULL;
}
