/*
 * mmsim/vm.h - anonymous memory, the LRU, reclaim, swap and the OOM killer.
 *
 * DOC: address spaces
 *
 * A struct mmsim_mm is one address space, as a process's mm_struct: the
 * RPC layer gives each session one. mmsim_mmap() reserves a range of
 * virtual pages (anonymous, private, MAP_NORESERVE-like: nothing is
 * allocated yet); the first read or write of a page faults it in (a
 * zero-filled order-0 page from the buddy allocator, GFP_HIGHUSER_MOVABLE
 * on the region's preferred node) and puts it on its node's LRU. Under
 * pressure reclaim writes idle pages to the swap device and frees them;
 * the next access faults them back in (a major fault) byte for byte.
 *
 * DOC: reclaim
 *
 * Each node has an inactive and an active anonymous LRU list. Accessing a
 * page sets its referenced bit (the young bit the kernel reads from the
 * pte). mmsim_reclaim_step() is shrink_node() for one node, once:
 * shrink_active_list() moves active pages to the inactive list (with
 * their referenced bit), then shrink_inactive_list() scans
 * SWAP_CLUSTER_MAX pages from the inactive tail, gives referenced ones a
 * second chance on the active list (bit cleared) and swaps out the rest. It is
 * synchronous and deterministic: tests and fuzzers call it directly. The
 * kswapd threads (mmsim_kswapd_start()) only sleep on a condition and run
 * balance_pgdat(), a loop of steps until a zone of the node is above its
 * high watermark. The allocator wakes kswapd when a zone falls below the
 * low watermark, and reclaims directly (allocstall) below min when the
 * GFP flags allow it; when neither frees anything, the OOM policy runs.
 *
 * DOC: locking
 *
 * Lock order, outermost first (extends mm.h's):
 *
 *   machine->mm_list_lock (mutex: the list of address spaces; OOM victim
 *                          selection and the checker)
 *     mm->lock            (mutex: an address space's regions and page
 *                          table; held across swap I/O of its pages)
 *       lru->lock         (spinlock per node: LRU lists, rmap table,
 *                          PG_LRU/PG_ACTIVE; at most one held)
 *         swap->lock      (spinlock: slot map)
 *         pcp->lock, zone->lock
 *
 * No simulated page is ever allocated with an mm->lock held (faults drop
 * it around the allocation and look again), so direct reclaim, which
 * takes other address spaces' locks, never waits on its own caller.
 */
#ifndef MMSIM_VM_H
#define MMSIM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/mm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mmsim_mm;

/* Where mmsim_mmap() places regions: top-down below this, as the x86-64
 * mmap_base sits below the stack. */
#define MMSIM_MMAP_BASE UINT64_C(0x7f0000000000)
/* The lowest address a region may use (mmap_min_addr). */
#define MMSIM_MMAP_MIN UINT64_C(0x10000)
/* Largest single mapping, in pages (64 GiB). */
#define MMSIM_MMAP_MAX_PAGES (UINT64_C(1) << 24)

/**
 * mmsim_mm_create() - a new, empty address space.
 * @m:     the machine (running).
 * @owner: a tag for the owner (the RPC layer's session id), reported by
 *         the OOM killer and mmsim_mm_stat().
 * @name:  short name for OOM reports ("mmsimctl"); copied, may be NULL.
 * @out:   receives it.
 *
 * Return: 0; MMSIM_EPERM before the hand-off; MMSIM_EHOSTMEM.
 */
int mmsim_mm_create(struct mmsim_machine *m, uint64_t owner, const char *name,
                    struct mmsim_mm **out);

/**
 * mmsim_mm_destroy() - exit_mmap(): unmap everything, freeing resident
 * pages and swap slots. NULL is a no-op.
 *
 * Context: the caller guarantees no other call on @mm is in progress or
 * will start; reclaim running concurrently is fine.
 */
void mmsim_mm_destroy(struct mmsim_mm *mm);

/**
 * mmsim_mmap() - map @nr_pages of anonymous memory.
 * @mm:       the address space.
 * @nr_pages: 1..MMSIM_MMAP_MAX_PAGES.
 * @nid:      preferred node for its pages, or MMSIM_ANY_NODE (the
 *            faulting CPU's node).
 * @addr:     receives the start address (page aligned).
 *
 * Return: 0; MMSIM_EINVAL (size); MMSIM_ENODEV (node); MMSIM_ENOMEM (no
 * room in the address space); MMSIM_EHOSTMEM; MMSIM_EKILLED after the
 * OOM killer chose @mm.
 */
int mmsim_mmap(struct mmsim_mm *mm, uint64_t nr_pages, int nid, uint64_t *addr);

/**
 * mmsim_munmap() - unmap [@addr, @addr + @nr_pages pages): resident pages
 * are freed, swapped ones release their slots. The range may cover parts
 * of several regions and holes (as munmap(2)); regions are split.
 *
 * Return: 0; MMSIM_EINVAL (unaligned, empty or overflowing range);
 * MMSIM_EHOSTMEM (a split needed memory; nothing changed).
 */
int mmsim_munmap(struct mmsim_mm *mm, uint64_t addr, uint64_t nr_pages);

/**
 * mmsim_mm_read() / mmsim_mm_write() - copy bytes from/to the address
 * space at any offset, faulting pages in (and swapping them in) as
 * needed, and marking each touched page referenced.
 * @mm:  the address space.
 * @cpu: the calling simulated CPU (per-cpu lists), or MMSIM_NO_CPU.
 *
 * Pages never written read as zeros. On a metadata-only machine the
 * faults and reclaim still happen but reads return zeros and writes keep
 * nothing (MMSIM_ENOCONTENT is not returned, so load generators work on
 * either kind).
 *
 * Return: 0; MMSIM_EFAULT (part of the range is not mapped; pages before
 * it were copied); MMSIM_ENOMEM (no page could be had, after reclaim and
 * the OOM policy); MMSIM_EIO (the swap file failed); MMSIM_EKILLED.
 */
int mmsim_mm_read(struct mmsim_mm *mm, int cpu, uint64_t addr, void *buf,
                  size_t len);
int mmsim_mm_write(struct mmsim_mm *mm, int cpu, uint64_t addr, const void *buf,
                   size_t len);

struct mmsim_mm_stat {
    uint64_t owner;
    uint64_t total_vm; /* pages mapped */
    uint64_t rss;      /* pages resident */
    uint64_t swapents; /* pages on the swap device */
    uint64_t nr_regions;
    uint64_t minflt; /* faults that found no page */
    uint64_t majflt; /* faults that read from swap */
    uint64_t extra;  /* pages accounted by mmsim_mm_account() */
    bool oom_killed;
};
int mmsim_mm_stat(struct mmsim_mm *mm, struct mmsim_mm_stat *st);

/*
 * Pages the owner holds outside this address space (the RPC layer's
 * AllocPages blocks): they count towards the OOM badness of @mm.
 */
void mmsim_mm_account(struct mmsim_mm *mm, int64_t pages);

/* Whether the OOM killer chose @mm (its memory is gone). */
bool mmsim_mm_oom_killed(const struct mmsim_mm *mm);

/* Where a virtual page is now, for tests and tools. */
enum mmsim_pte_state {
    MMSIM_PTE_NONE,    /* mapped, never touched (or not mapped: EFAULT) */
    MMSIM_PTE_PRESENT, /* resident in @pfn */
    MMSIM_PTE_SWAP,    /* on the swap device at @slot */
};
struct mmsim_pte_info {
    enum mmsim_pte_state state;
    uint64_t pfn;
    uint64_t slot;
    bool active;     /* on the active list */
    bool referenced; /* accessed since last scanned */
};
/* Return: 0, or MMSIM_EFAULT when @addr is not mapped. */
int mmsim_mm_pte(struct mmsim_mm *mm, uint64_t addr, struct mmsim_pte_info *pi);

/* ---- reclaim ------------------------------------------------------------ */

/* Who reclaims: the counters differ (pgscan_kswapd vs pgscan_direct). */
enum mmsim_reclaim_who {
    MMSIM_RECLAIM_KSWAPD,
    MMSIM_RECLAIM_DIRECT,
};

struct mmsim_reclaim_result {
    uint64_t scanned;     /* inactive pages looked at */
    uint64_t reclaimed;   /* pages freed */
    uint64_t activated;   /* referenced: moved to the active list */
    uint64_t deactivated; /* aged from active to inactive */
    uint64_t kept;        /* kept: swap full, I/O error, busy */
};

/**
 * mmsim_reclaim_step() - shrink_node() once for node @nid: age the
 * active list if the inactive one is low, then scan up to
 * SWAP_CLUSTER_MAX (32) inactive pages.
 * @res: receives what happened; may be NULL.
 *
 * Return: pages reclaimed (>= 0); MMSIM_ENODEV; MMSIM_EPERM before the
 * hand-off.
 */
int mmsim_reclaim_step(struct mmsim_machine *m, int nid,
                       enum mmsim_reclaim_who who,
                       struct mmsim_reclaim_result *res);

/**
 * mmsim_balance_node() - balance_pgdat(): reclaim steps on @nid until a
 * zone of it has free pages above its high watermark, or a pass makes
 * no progress. Counts pageoutrun.
 *
 * Return: pages reclaimed; MMSIM_ENODEV; MMSIM_EPERM.
 */
int64_t mmsim_balance_node(struct mmsim_machine *m, int nid);

/* Whether some zone of @nid is above its high watermark (pgdat_balanced). */
bool mmsim_node_balanced(struct mmsim_machine *m, int nid);

/**
 * mmsim_kswapd_start() - one thread per node, sleeping until the allocator
 * wakes it below a low watermark, then running mmsim_balance_node().
 * Without it (tests, fuzzers) nothing reclaims in the background and
 * wake-ups are only counted.
 *
 * Return: 0; MMSIM_EALREADY when running; MMSIM_EHOSTMEM when a thread
 * could not be created (none is left running).
 */
int mmsim_kswapd_start(struct mmsim_machine *m);
/* Stop and join the threads; a no-op when not running. Also done by
 * mmsim_machine_destroy(). */
void mmsim_kswapd_stop(struct mmsim_machine *m);

/* LRU sizes of a node, in pages. */
struct mmsim_lru_info {
    uint64_t inactive, active, isolated;
};
int mmsim_lru_info(struct mmsim_machine *m, int nid, struct mmsim_lru_info *li);

/* ---- swap ----------------------------------------------------------------
 *
 * The device is described in struct mmsim_desc (swap_bytes, swap_path) and
 * opened at machine creation: a file (created, or reused and truncated to
 * size; kept afterwards), a directory (an unnamed temporary file in it,
 * gone when the machine is), or "" (an in-memory file: tests, fuzzers).
 * Page 0 holds a mkswap-style header, so slots are 1..nr_pages-1.
 */
struct mmsim_swap_info {
    bool present;
    char path[256]; /* as /proc/swaps prints it */
    uint64_t pages; /* slots, header excluded */
    uint64_t used;
    bool full_events; /* reclaim has met a full device */
};
int mmsim_swap_info(struct mmsim_machine *m, struct mmsim_swap_info *si);

/* /proc/swaps. snprintf-style like the other views. */
int64_t mmsim_view_swaps(struct mmsim_machine *m, char *buf, size_t len);
/* /proc/meminfo's lines this machine has (MemTotal, MemFree, Active(anon),
 * Inactive(anon), SwapTotal, SwapFree, AnonPages, Vmalloc*). */
int64_t mmsim_view_meminfo(struct mmsim_machine *m, char *buf, size_t len);

/* ---- OOM ----------------------------------------------------------------
 *
 * desc.oom_policy says what happens when reclaim cannot free anything for
 * an allocation that may reclaim (order <= 3, not NORETRY):
 *   MMSIM_OOM_FAIL: the allocation fails with MMSIM_ENOMEM, logged.
 *   MMSIM_OOM_KILL: the address space with the largest badness (rss +
 *     swap entries + page-table pages + accounted extra pages, as
 *     oom_badness()) is chosen; a report shaped like the kernel's is
 *     logged; its memory is reaped at once (the oom_reaper) and the
 *     opts.oom_kill hook tells its owner; then the allocation retries.
 */

/* OOM kills so far (vmstat oom_kill) and the owner of the last victim. */
struct mmsim_oom_info {
    uint64_t kills;
    uint64_t last_owner;
};
int mmsim_oom_info(struct mmsim_machine *m, struct mmsim_oom_info *oi);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_VM_H */
