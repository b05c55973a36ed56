/*
 * vm_internal.h - anonymous memory, LRU, swap and kswapd: the structures
 * shared by vm.c, reclaim.c, swap.c, kswapd.c, and the hooks page_alloc.c,
 * check.c and views.c call. Lock order: see mmsim/vm.h.
 */
#ifndef MMSIM_VM_INTERNAL_H
#define MMSIM_VM_INTERNAL_H

#include "internal.h"
#include "mmsim/vm.h"

/* SWAP_CLUSTER_MAX: pages one reclaim step scans. */
#define SWAP_CLUSTER_MAX 32
/* MAX_RECLAIM_RETRIES: rounds without progress before giving up. */
#define MAX_RECLAIM_RETRIES 16

/*
 * Page table entries: 0 is none; bit 0 present (pfn above), bit 1 swapped
 * (slot above).
 */
#define PTE_PRESENT 1u
#define PTE_SWAP    2u
static inline uint64_t pte_mk_present(uint64_t pfn)
{
    return pfn << 2 | PTE_PRESENT;
}
static inline uint64_t pte_mk_swap(uint64_t slot)
{
    return slot << 2 | PTE_SWAP;
}
static inline uint64_t pte_val(uint64_t pte)
{
    return pte >> 2;
}

/* One mapping (vm_area_struct): pages [start, start + nr * PAGE_SIZE). */
struct vm_region {
    uint64_t start;
    uint64_t nr;
    int nid;       /* preferred node, or MMSIM_ANY_NODE */
    uint64_t *pte; /* nr entries, owned */
};

/*
 * struct mmsim_mm - an address space.
 *
 * Locking: @lock protects the regions and their ptes, @minflt, @majflt
 * and @dead. @rss and @swapents change under @lock but are read
 * locklessly (OOM badness, stats). @refs: one for the owner plus one per
 * page a reclaimer has isolated; the struct is freed at zero.
 */
struct mmsim_mm {
    struct mmsim_machine *m;
    pthread_mutex_t lock;
    _Atomic int refs;
    uint64_t owner;
    char name[16];

    struct vm_region *regions; /* sorted by start, non-overlapping */
    unsigned nr_regions;
    unsigned cap_regions;
    _Atomic uint64_t total_vm; /* changes under @lock; read by OOM */
    _Atomic uint64_t rss;
    _Atomic uint64_t swapents;
    uint64_t minflt, majflt;
    _Atomic int64_t extra;
    _Atomic bool killed;
    _Atomic bool dying; /* mmsim_mm_destroy() is emptying it */
    bool dead;          /* mmsim_mm_destroy() has run */

    /* On vm->mm_list, under vm->mm_list_lock. */
    struct mmsim_mm *next, *prev;
};

/* The reverse map of an isolated or LRU page: who maps it, where. */
struct rmap_ent {
    struct mmsim_mm *mm; /* NULL: free slot, @vaddr is the next free */
    uint64_t vaddr;
};

enum { LRU_INACTIVE, LRU_ACTIVE, NR_LRU };

/*
 * struct mmsim_lru - one node's anonymous LRU (lruvec).
 *
 * Locking: @lock protects everything here and the links, PG_LRU and
 * PG_ACTIVE of the pages on the lists.
 */
struct mmsim_lru {
    _Alignas(MMSIM_CACHELINE) mmsim_spinlock_t lock;
    uint32_t head[NR_LRU]; /* most recently added */
    uint32_t tail[NR_LRU]; /* reclaim takes from here */
    uint64_t nr[NR_LRU];
    uint64_t nr_isolated;
    struct rmap_ent *rmap; /* indexed by page->tag */
    uint32_t rmap_cap;
    uint32_t rmap_free; /* first free slot, UINT32_MAX: none */
};

/*
 * struct swap_dev - the swap device (swap_info_struct).
 *
 * Locking: @lock protects @map, @used and @next; @fd and the sizes are
 * set at creation. I/O on distinct slots runs unlocked.
 */
struct swap_dev {
    int fd; /* -1: no swap */
    char path[256];
    uint64_t nr_slots; /* including the header page, slot 0 */
    mmsim_spinlock_t lock;
    uint8_t *map; /* swap_map: 0 free, SWAP_USED, SWAP_ZERO */
    size_t map_bytes;
    uint64_t used;
    uint64_t next;     /* cluster_next: where the next search starts */
    _Atomic bool full; /* reclaim met a full device (logged once) */
    _Atomic bool io_error_logged;
};
#define SWAP_USED 1u
#define SWAP_ZERO 2u /* never-written page: no I/O (the kernel's zeromap) */

/* One kswapd thread's state, under @lock. */
struct kswapd {
    pthread_mutex_t lock;
    pthread_cond_t wait;
    pthread_t thread;
    bool wake;
    bool stop;
    bool running;
    bool inited; /* lock and wait exist (set up with the machine) */
    struct mmsim_machine *m;
    int nid;
};

/* Machine-wide reclaim events (vm events of /proc/vmstat). */
enum vm_event {
    VE_PGFAULT,
    VE_PGMAJFAULT,
    VE_PSWPIN,
    VE_PSWPOUT,
    VE_PGACTIVATE,
    VE_PGDEACTIVATE,
    VE_PGREFILL,
    VE_PGSTEAL_KSWAPD,
    VE_PGSTEAL_DIRECT,
    VE_PGSCAN_KSWAPD,
    VE_PGSCAN_DIRECT,
    VE_PAGEOUTRUN,
    VE_OOM_KILL,
    VE_KSWAPD_WAKEUPS, /* mmsim_kswapd_wakeups */
    VE_SWAP_FULL,      /* mmsim_swap_full: pages kept for want of slots */
    VE_SWAP_IO_ERROR,  /* mmsim_swap_io_error */
    VE_ALLOCSTALL,     /* + zone type: allocstall_<zone> */
    VE_NR = VE_ALLOCSTALL + MMSIM_NR_ZONE_TYPES
};

struct mmsim_vm {
    pthread_mutex_t mm_list_lock;
    struct mmsim_mm *mm_list;
    pthread_mutex_t oom_lock; /* one OOM kill at a time (oom_lock) */
    uint64_t oom_last_owner;  /* under oom_lock */
    mmsim_oom_kill_fn oom_kill;
    void *oom_ctx;

    struct swap_dev swap;
    struct mmsim_lru lru[MMSIM_MAX_NODES];
    struct kswapd kswapd[MMSIM_MAX_NODES];
    pthread_mutex_t kswapd_ctl; /* serialises start and stop */
    _Atomic bool kswapd_started;

    _Atomic uint64_t ev[VE_NR];
};

static inline void vm_count(struct mmsim_machine *m, enum vm_event e,
                            uint64_t n)
{
    atomic_fetch_add_explicit(&m->vm->ev[e], n, memory_order_relaxed);
}

/* swap.c */
int mmsim_swap_init(struct mmsim_machine *m, char *err, size_t errlen);
void mmsim_swap_fini(struct mmsim_machine *m);
/* A slot for @pfn's page; 0 and SWAP_ZERO-or-USED in *kind. Return 0 or
 * MMSIM_ENOMEM (full or no device). */
int mmsim_swap_alloc(struct mmsim_machine *m, bool zero, uint64_t *slot);
void mmsim_swap_free(struct mmsim_machine *m, uint64_t slot);
/* Write @pfn's contents to @slot / read @slot into @pfn. MMSIM_EIO. */
int mmsim_swap_write(struct mmsim_machine *m, uint64_t slot, uint64_t pfn);
int mmsim_swap_read(struct mmsim_machine *m, uint64_t slot, uint64_t pfn);
bool mmsim_swap_slot_used(struct mmsim_machine *m, uint64_t slot);

/* kswapd.c */
int mmsim_kswapd_init(struct mmsim_machine *m);
void mmsim_kswapd_fini(struct mmsim_machine *m);
void mmsim_wakeup_kswapd(struct mmsim_machine *m, int nid);

/* reclaim.c: balance_pgdat(), ending early once *@stop (under
 * @stop_lock) is set. */
int64_t mmsim_balance_node_until(struct mmsim_machine *m, int nid,
                                 const bool *stop, pthread_mutex_t *stop_lock);
/* reclaim.c: direct reclaim for an allocation; return pages reclaimed. */
uint64_t mmsim_try_to_free_pages(struct mmsim_machine *m,
                                 struct mmsim_zone **zonelist, int highest_idx);
/* The OOM killer: true when a victim was killed (retry the allocation). */
bool mmsim_out_of_memory(struct mmsim_machine *m, mmsim_gfp_t gfp,
                         unsigned order, int nid);

/* vm.c: LRU list and rmap helpers; lru->lock held. */
void mmsim_lru_push_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                           int lru, uint64_t pfn);
void mmsim_lru_del_locked(struct mmsim_machine *m, struct mmsim_lru *l,
                          uint64_t pfn);
void mmsim_rmap_free_locked(struct mmsim_lru *l, uint32_t idx);
/* vm.c */
void mmsim_mm_get(struct mmsim_mm *mm);
void mmsim_mm_put(struct mmsim_mm *mm);
struct vm_region *mmsim_find_region(struct mmsim_mm *mm, uint64_t addr);
/* Free an anonymous page nobody maps any more (flags back to PG_HEAD). */
void mmsim_anon_free(struct mmsim_machine *m, int cpu, uint64_t pfn);
/* Unmap every pte of @mm (exit_mmap / oom_reaper). Caller holds mm->lock. */
void mmsim_mm_unmap_all_locked(struct mmsim_mm *mm);
int mmsim_vm_check(struct mmsim_machine *m, char *err, size_t errlen);

#endif /* MMSIM_VM_INTERNAL_H */
