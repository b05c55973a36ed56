/*
 * internal.h - the machine's data structures, shared by the core's files.
 * Nothing outside daemon/mm (except white-box tests) includes this.
 */
#ifndef MMSIM_INTERNAL_H
#define MMSIM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmsim/bootmem.h"
#include "mmsim/memblock.h"
#include "mmsim/mm.h"

#if MMSIM_DEBUG >= 1
#include <assert.h>
#define MMSIM_ASSERT(x) assert(x)
#else
#define MMSIM_ASSERT(x) ((void)0)
#endif

#define MMSIM_CACHELINE 64

/*
 * A test-and-test-and-set spinlock on C11 atomics. Inlined: the allocation
 * fast path takes one per call, and pthread_spin_lock()'s out-of-line
 * call was a measurable part of an order-0 alloc+free pair. The acquire
 * and release orderings are what ThreadSanitizer sees, so it checks these
 * locks like any other.
 */
typedef struct {
    atomic_int locked;
} mmsim_spinlock_t;

static inline void mmsim_spin_init(mmsim_spinlock_t *l)
{
    atomic_init(&l->locked, 0);
}

static inline void mmsim_spin_lock(mmsim_spinlock_t *l)
{
    while (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

static inline void mmsim_spin_unlock(mmsim_spinlock_t *l)
{
    atomic_store_explicit(&l->locked, 0, memory_order_release);
}

/* List terminator in the 32-bit pfn links. */
#define PFN_NONE UINT32_MAX

/* struct mmsim_page flags. Only block heads ever carry flags. */
#define PG_BUDDY 0x01u /* head of a free block on a buddy free list */
#define PG_HEAD  0x02u /* head of an allocated block */
#define PG_PCP   0x04u /* head of a free block on a per-cpu list */

/*
 * struct mmsim_page - 16 bytes per simulated page frame (Linux's is 64).
 *
 * Only the first page of a block (free, on a pcp list, or allocated) is
 * ever written; the other pages of a block, holes, reserved and deferred
 * pages stay all-zero. That is what makes boot O(blocks) instead of
 * O(pages): the host pages under mem_map are only touched when a block
 * head lands on them. Which of "reserved", "hole", "deferred" or "inside
 * a block" an unmarked page is gets derived from the ranges, on error
 * paths only.
 */
struct mmsim_page {
    uint32_t next; /* free-list / pcp-list link, PFN_NONE at the end */
    uint32_t prev;
    uint32_t tag;  /* owner tag of an allocated block */
    uint16_t zid;  /* zone id (nid * MMSIM_NR_ZONE_TYPES + idx) */
    uint8_t flags; /* PG_* */
    uint8_t order; /* order of the block headed here */
};
_Static_assert(sizeof(struct mmsim_page) == 16, "struct mmsim_page grew");

/*
 * flags and order are read without locks by the free fast path (and by
 * error classification racing with the owner), so every access is an
 * atomic one; relaxed byte loads and stores cost nothing on x86.
 */
static inline uint8_t page_flags(const struct mmsim_page *p)
{
    return __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
}

static inline void page_set_flags(struct mmsim_page *p, uint8_t f)
{
    __atomic_store_n(&p->flags, f, __ATOMIC_RELAXED);
}

static inline unsigned page_order(const struct mmsim_page *p)
{
    return __atomic_load_n(&p->order, __ATOMIC_RELAXED);
}

static inline void page_set_order(struct mmsim_page *p, unsigned order)
{
    __atomic_store_n(&p->order, (uint8_t)order, __ATOMIC_RELAXED);
}

/*
 * Page flags of anonymous pages, on top of PG_HEAD (an anonymous page is
 * an allocated order-0 block). Changed only with atomic read-modify-write
 * (page_flags_or/and): PG_REFERENCED is set by accessors under mm->lock
 * while the LRU bits change under lru->lock.
 */
#define PG_ANON       0x08u /* mapped by one address space (rmap in tag) */
#define PG_LRU        0x10u /* on its node's LRU (else isolated) */
#define PG_ACTIVE     0x20u /* on the active list */
#define PG_REFERENCED 0x40u /* accessed since reclaim last looked */
#define PG_ANON_BITS  (PG_ANON | PG_LRU | PG_ACTIVE | PG_REFERENCED)

static inline uint8_t page_flags_or(struct mmsim_page *p, uint8_t f)
{
    return __atomic_fetch_or(&p->flags, f, __ATOMIC_RELAXED);
}

static inline uint8_t page_flags_and(struct mmsim_page *p, uint8_t f)
{
    return __atomic_fetch_and(&p->flags, f, __ATOMIC_RELAXED);
}

/* PAGE_ALLOC_COSTLY_ORDER: the per-cpu lists hold orders 0..3. */
#define NR_PCP_ORDERS 4

/* Per-zone event counters (the per-zone parts of vmstat). */
enum mmsim_zone_event {
    ZEV_NUMA_HIT,
    ZEV_NUMA_MISS,
    ZEV_NUMA_FOREIGN,
    ZEV_NUMA_INTERLEAVE,
    ZEV_NUMA_LOCAL,
    ZEV_NUMA_OTHER,
    ZEV_PGALLOC, /* pgalloc_<zone>: pages allocated from this zone */
    ZEV_PGFREE,  /* pages freed into this zone */
    ZEV_NR
};

/*
 * struct mmsim_pcp - one simulated CPU's page lists for one zone
 * (struct per_cpu_pages). Protected by @lock; one cache line of its own.
 */
struct mmsim_pcp {
    _Alignas(MMSIM_CACHELINE) mmsim_spinlock_t lock;
    int count; /* pages (not blocks) on all lists */
    int high;
    int batch;
    int high_min;
    int high_max;
    uint32_t lists[NR_PCP_ORDERS]; /* heads: allocation takes from here */
    uint32_t tails[NR_PCP_ORDERS]; /* tails: bulk frees take from here */
    /* Pages handed out through this pcp minus pages freed into it. */
    int64_t alloc_delta;
    uint64_t ev[ZEV_NR];
};

struct mmsim_free_area {
    uint32_t head;    /* pfn of the first free block, PFN_NONE if empty */
    uint64_t nr_free; /* blocks */
};

/* A range of page frames [start, end). */
struct mmsim_pfn_range {
    uint64_t start;
    uint64_t end;
};

enum { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

/*
 * struct mmsim_zone - one zone of one node.
 *
 * Locking: @lock protects the free areas, @alloc_pages, @ev, the deferred
 * cursor and every struct mmsim_page on the zone's free lists. @free_pages
 * is written under @lock but read locklessly by watermark checks.
 * Everything from @type to @lowmem_reserve is written once at boot.
 */
struct mmsim_zone {
    _Alignas(MMSIM_CACHELINE) mmsim_spinlock_t lock;
    _Atomic int64_t free_pages; /* NR_FREE_PAGES (buddy lists only) */
    struct mmsim_free_area free_area[MMSIM_MAX_ORDER_CAP + 1];
    int64_t alloc_pages; /* pages allocated straight from buddy */
    uint64_t ev[ZEV_NR];

    /* Deferred struct page init: ranges not yet handed to buddy. */
    struct mmsim_pfn_range *deferred;
    unsigned nr_deferred;
    unsigned deferred_pos;     /* first range not fully released */
    uint64_t deferred_pages;   /* pages still deferred */
    _Atomic bool has_deferred; /* lockless hint for the fast path */

    struct mmsim_machine *m;
    struct mmsim_pgdat *pgdat;
    enum mmsim_zone_type type;
    int idx; /* position among the machine's zone types */
    int nid;
    uint16_t zid;
    uint64_t start_pfn; /* span: [start_pfn, end_pfn) */
    uint64_t end_pfn;
    uint64_t present;
    uint64_t managed; /* pages given (or deferred) to buddy; grows only
                         by free_bootmem_late, under @lock */
    uint64_t wmark[NR_WMARK];
    uint64_t lowmem_reserve[MMSIM_NR_ZONE_TYPES]; /* by zone idx */
    struct mmsim_pcp *pcp;                        /* nr_cpus entries */
    void *pcp_mem; /* unaligned allocation behind @pcp */
};

/* struct mmsim_pgdat - one node (pglist_data). */
struct mmsim_pgdat {
    int nid;
    uint64_t start_pfn; /* span of the node */
    uint64_t end_pfn;
    uint64_t present;
    uint64_t pgdat_phys;  /* where NODE_DATA lives in simulated memory */
    uint64_t memmap_phys; /* where its mem_map lives */
    uint64_t memmap_bytes;
    struct mmsim_zone zones[MMSIM_NR_ZONE_TYPES]; /* by zone idx */
    /* Fallback order: populated zones, NULL-terminated (ZONELIST_FALLBACK
     * and ZONELIST_NOFALLBACK for __GFP_THISNODE). */
    struct mmsim_zone **zonelist;
    struct mmsim_zone **zonelist_thisnode;
    int node_order[MMSIM_MAX_NODES];
};

/*
 * struct mmsim_machine - the whole simulated machine.
 *
 * Ownership: the machine owns everything it points to, through @alloc.
 * Locking: @boot_lock serialises the early allocator, deferred init and
 * the text views; see mm.h for the full order.
 */
struct mmsim_machine {
    struct mmsim_desc desc;
    struct mmsim_allocator alloc_store;
    const struct mmsim_allocator *alloc; /* &alloc_store or NULL */
    mmsim_log_fn log;
    void *log_ctx;
    mmsim_fail_page_alloc_fn fail_page_alloc;
    void *fail_ctx;

    pthread_mutex_t boot_lock;
    _Atomic int phase; /* enum mmsim_phase */

    struct mmsim_memblock *mb; /* exactly one of these two */
    struct mmsim_bootmem *bm;
    uint64_t bootmem_maps[MMSIM_MAX_NODES][2]; /* bitmap addr, size */

    unsigned nr_nodes;
    unsigned nr_cpus;
    unsigned max_order;
    int cpu_node[MMSIM_MAX_CPUS];

    /* Zone types this model has, in zone index order. */
    unsigned nr_zone_idx;
    enum mmsim_zone_type zone_types[MMSIM_NR_ZONE_TYPES];
    int type_to_idx[MMSIM_NR_ZONE_TYPES];            /* -1: not in this model */
    uint64_t arch_zone_end_pfn[MMSIM_NR_ZONE_TYPES]; /* by idx */
    uint64_t zone_movable_pfn[MMSIM_MAX_NODES];      /* 0: none */

    /* Usable RAM, sorted by base, in pfns (pfn_valid and holes). */
    struct mmsim_pfn_range *mem;
    int *mem_nid;
    unsigned nr_mem;
    uint64_t min_pfn;
    uint64_t max_pfn;

    /* FLATMEM mem_map over [0, max_pfn): lazily zeroed host memory. */
    struct mmsim_page *mem_map;
    size_t mem_map_bytes;

    /* Page contents (desc.contents): max_pfn pages of anonymous memory,
     * and one "written since allocated" bit per page, so frees zero only
     * what was written. */
    uint8_t *contents;
    size_t contents_bytes;
    _Atomic uint64_t *dirty;
    size_t dirty_bytes;

    struct mmsim_pgdat *pgdat[MMSIM_MAX_NODES];
    struct mmsim_zone *zones_by_zid[MMSIM_MAX_NODES * MMSIM_NR_ZONE_TYPES];

    uint64_t min_free_kbytes;
    uint64_t total_pages; /* managed pages, all zones */

    /* Machine-wide events (atomic: bumped outside any zone lock). */
    _Atomic uint64_t ev_alloc_fail;
    _Atomic uint64_t ev_deferred_grow;
    _Atomic uint64_t ev_fail_injected;

    /* Boot messages ("\n"-separated), under @boot_lock. */
    char *bootlog;
    size_t bootlog_len;
    size_t bootlog_cap;
    bool bootlog_oom; /* a line was lost for want of host memory */

    /* Anonymous memory, LRU, swap, kswapd, OOM (vm.c, lru.c, swap.c,
     * kswapd.c); set up at creation, see mmsim/vm.h for the locks. */
    struct mmsim_vm *vm;

    /* The vmalloc space (vmalloc.c), created on first use under
     * @vmap_lock, which is a leaf: dropped before pages are allocated. */
    pthread_mutex_t vmap_lock;
    struct mmsim_vmap_space *vmap;
};

/* Zone id helpers. */
static inline uint16_t mmsim_zid(int nid, int idx)
{
    return (uint16_t)(nid * MMSIM_NR_ZONE_TYPES + idx);
}

static inline struct mmsim_page *pfn_to_page(struct mmsim_machine *m,
                                             uint64_t pfn)
{
    return &m->mem_map[pfn];
}

static inline bool zone_populated(const struct mmsim_zone *z)
{
    return z->present != 0;
}

static inline bool zone_span_has(const struct mmsim_zone *z, uint64_t pfn)
{
    return pfn >= z->start_pfn && pfn < z->end_pfn;
}

/* machine.c */
__attribute__((format(printf, 3, 4))) void
mmsim_log(struct mmsim_machine *m, int level, const char *fmt, ...);
/* Index into m->mem of the range holding @pfn, or -1 (a hole). */
int mmsim_mem_range_of(const struct mmsim_machine *m, uint64_t pfn);
/* Node whose span holds @pfn, or -1. */
int mmsim_pfn_to_nid(const struct mmsim_machine *m, uint64_t pfn);
struct mmsim_zone *mmsim_pfn_to_zone(const struct mmsim_machine *m,
                                     uint64_t pfn);

/* contents.c */
int mmsim_contents_init(struct mmsim_machine *m);
void mmsim_contents_fini(struct mmsim_machine *m);
/* Zero what was written in a block being freed (its owner's claim held). */
void mmsim_contents_clear(struct mmsim_machine *m, uint64_t pfn,
                          unsigned order);
/* The error classify_locked() gives for @pfn (page_alloc.c). */
int mmsim_classify_pfn(struct mmsim_machine *m, uint64_t pfn);

/* page_alloc.c */
void mmsim_release_range_locked(struct mmsim_zone *z, uint64_t start,
                                uint64_t end);
uint64_t mmsim_grow_deferred_locked(struct mmsim_zone *z, uint64_t want);
void mmsim_setup_watermarks(struct mmsim_machine *m);
void mmsim_setup_pcp(struct mmsim_machine *m);
int mmsim_build_zonelists(struct mmsim_machine *m);
bool mmsim_pfn_deferred_locked(const struct mmsim_zone *z, uint64_t pfn);
/* Sum of pages on all pcp lists of @z (caller holds every pcp lock). */
uint64_t mmsim_zone_pcp_pages(const struct mmsim_zone *z);
void mmsim_lock_zone_all(struct mmsim_zone *z);
void mmsim_unlock_zone_all(struct mmsim_zone *z);
/* Events of @z summed over zone and pcps (caller holds all its locks). */
void mmsim_zone_events(const struct mmsim_zone *z, uint64_t ev[ZEV_NR]);

/* vmalloc.c: free the vmalloc space's host memory at machine destruction
 * (the areas' simulated pages go with the buddy allocator). */
void mmsim_vmalloc_fini(struct mmsim_machine *m);

/* vm.c: set up at creation (after the model: nodes are known), and torn
 * down first at destruction (kswapd stopped, address spaces must be gone). */
int mmsim_vm_init(struct mmsim_machine *m, char *err, size_t errlen);
void mmsim_vm_fini(struct mmsim_machine *m);

/* Iterate populated and unpopulated zones of a node by index. */
#define for_each_zone_idx(m, i) for (unsigned i = 0; i < (m)->nr_zone_idx; i++)

#endif /* MMSIM_INTERNAL_H */
