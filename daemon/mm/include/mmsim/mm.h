/*
 * mmsim/mm.h - a simulated NUMA machine: boot, the zoned buddy allocator,
 * per-cpu page lists, the kernel's views, and the invariant checker.
 *
 * DOC: machine overview
 *
 * mmsim_machine_create() boots a machine from a struct mmsim_desc in the
 * order Linux does: the firmware map goes into the early allocator
 * (memblock, or the legacy bootmem bitmap allocator), the reserved ranges
 * are reserved, each node's pgdat and mem_map are allocated node-locally
 * from the early allocator, zones get their spanned and present pages,
 * watermarks and zonelists are set up, and every free early page is handed
 * to the buddy allocator exactly once, in the largest aligned blocks
 * (memblock_free_all / free_all_bootmem). After that hand-off the early
 * allocator refuses allocations with MMSIM_EPERM.
 *
 * A machine is an ordinary heap object: any number can live in one
 * process, and nothing in the core touches global state or does I/O.
 *
 * DOC: locking
 *
 * All functions taking a machine are safe to call concurrently, except
 * mmsim_machine_destroy() (the caller guarantees nobody else uses the
 * machine) and the early-boot functions (single-threaded boot, like the
 * kernel's; they take the boot lock anyway so misuse is not a data race).
 * Lock order, outermost first:
 *
 *   machine->boot_lock  (mutex: early allocator, deferred init, views)
 *     pcp->lock         (spinlock per zone per simulated CPU; several are
 *                        taken only in ascending CPU order)
 *       zone->lock      (spinlock per zone: free lists, counters; at most
 *                        one zone lock is ever held)
 *
 * The allocation fast path takes one pcp lock (order <= 3 with a CPU) or
 * one zone lock; watermark checks read zone counters without locks, as the
 * kernel's zone_watermark_fast() does.
 */
#ifndef MMSIM_MM_H
#define MMSIM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/base.h"
#include "mmsim/desc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mmsim_machine;
struct mmsim_memblock;
struct mmsim_bootmem;

/*
 * GFP flags. Zone modifiers and behaviour bits as in include/linux/gfp.h
 * (the bit values are ours; the meanings are the kernel's).
 */
typedef uint32_t mmsim_gfp_t;

/*
 * Zone modifiers: at most one, except MOVABLE with HIGHMEM, DMA32 or DMA
 * (GFP_ZONE_TABLE); other combinations are MMSIM_EINVAL.
 */
#define MMSIM_GFP_DMA      0x01u
#define MMSIM_GFP_HIGHMEM  0x02u
#define MMSIM_GFP_DMA32    0x04u
#define MMSIM_GFP_MOVABLE  0x08u
#define MMSIM_GFP_ZONEMASK 0x0fu
/* Access to reserves below the min watermark (half of it, as __GFP_HIGH). */
#define MMSIM_GFP_HIGH 0x20u
/* May wake kswapd / may reclaim directly (issue of reclaim; see docs). */
#define MMSIM_GFP_KSWAPD_RECLAIM 0x40u
#define MMSIM_GFP_DIRECT_RECLAIM 0x80u
/* Zero the page contents (once contents exist; accepted now). */
#define MMSIM_GFP_ZERO 0x100u
/* Only the preferred node, no fallback (__GFP_THISNODE). */
#define MMSIM_GFP_THISNODE 0x200u
/* No "page allocation failure" warning in the log. */
#define MMSIM_GFP_NOWARN 0x400u
/* Give up early: no retries after the slow path. */
#define MMSIM_GFP_NORETRY 0x800u
/*
 * Must not fail. The kernel loops forever; the simulator tries the normal
 * path, then the min reserve, then ignores watermarks entirely, and only
 * then returns MMSIM_ENOMEM (a hang would help nobody). Order > 1 with
 * NOFAIL is logged as a warning, as the kernel WARNs.
 */
#define MMSIM_GFP_NOFAIL 0x1000u
/* No access to emergency reserves even when non-blocking. */
#define MMSIM_GFP_NOMEMALLOC 0x2000u
#define MMSIM_GFP_ALL_FLAGS  0x3fefu

#define MMSIM_GFP_RECLAIM          (MMSIM_GFP_KSWAPD_RECLAIM | MMSIM_GFP_DIRECT_RECLAIM)
#define MMSIM_GFP_KERNEL           MMSIM_GFP_RECLAIM
#define MMSIM_GFP_NOWAIT           MMSIM_GFP_KSWAPD_RECLAIM
#define MMSIM_GFP_ATOMIC           (MMSIM_GFP_HIGH | MMSIM_GFP_KSWAPD_RECLAIM)
#define MMSIM_GFP_USER             MMSIM_GFP_RECLAIM
#define MMSIM_GFP_HIGHUSER         (MMSIM_GFP_USER | MMSIM_GFP_HIGHMEM)
#define MMSIM_GFP_HIGHUSER_MOVABLE (MMSIM_GFP_HIGHUSER | MMSIM_GFP_MOVABLE)

/* "Any node" for mmsim_alloc_pages(): the calling CPU's node. */
#define MMSIM_ANY_NODE MMSIM_NUMA_NO_NODE
/* "No CPU" for the cpu arguments: bypass the per-cpu lists. */
#define MMSIM_NO_CPU (-1)

/*
 * Log sink. The core never prints; boot messages (the kernel's wording)
 * and warnings go here, and boot messages are also kept for
 * mmsim_view_bootlog(). Levels follow the kernel's: 3 err, 4 warning,
 * 6 info, 7 debug. May be called with internal locks held: the sink must
 * not call back into the machine.
 */
typedef void (*mmsim_log_fn)(void *ctx, int level, const char *line);

/*
 * Fault injection, as the kernel's fail_page_alloc: consulted at the start
 * of every mmsim_alloc_pages() except __GFP_NOFAIL ones
 * (should_fail_alloc_page() skips those too). Returning true fails the
 * allocation with MMSIM_ENOMEM, no warning, and counts it
 * (mmsim_vmstat_get("mmsim_fail_page_alloc")). Called without locks held,
 * possibly from several threads at once.
 */
typedef bool (*mmsim_fail_page_alloc_fn)(void *ctx, mmsim_gfp_t gfp,
                                         unsigned order);

/*
 * The OOM killer chose the address space of @owner (mmsim/vm.h) and
 * reaped its memory. Called from the allocating thread with no machine
 * lock held; the owner should end its session. Must not block for long.
 */
typedef void (*mmsim_oom_kill_fn)(void *ctx, uint64_t owner);

struct mmsim_machine_opts {
    const struct mmsim_allocator *alloc; /* NULL: the C library */
    mmsim_log_fn log;                    /* NULL: keep the boot log only */
    void *log_ctx;
    mmsim_fail_page_alloc_fn fail_page_alloc; /* NULL: never */
    void *fail_ctx;
    mmsim_oom_kill_fn oom_kill; /* NULL: nobody to tell */
    void *oom_ctx;
};

/**
 * mmsim_machine_create() - describe, boot and return a machine.
 * @desc:   the description (copied). Validated first.
 * @opts:   allocator and log hooks; NULL for defaults.
 * @out:    receives the machine.
 * @err:    receives a message on failure (may be NULL).
 * @errlen: size of @err.
 *
 * Boots through the hand-off unless @desc->stop_before_handoff is set.
 *
 * Return: 0; MMSIM_ECONFIG for a bad description; MMSIM_EPANIC where the
 * kernel would panic during boot (e.g. no memory for a node's mem_map);
 * MMSIM_EHOSTMEM when the host is out of memory. Nothing leaks on failure.
 */
int mmsim_machine_create(const struct mmsim_desc *desc,
                         const struct mmsim_machine_opts *opts,
                         struct mmsim_machine **out, char *err, size_t errlen);

/** mmsim_machine_destroy() - free everything. NULL is a no-op. */
void mmsim_machine_destroy(struct mmsim_machine *m);

/* The description the machine was built from. */
const struct mmsim_desc *mmsim_machine_desc(const struct mmsim_machine *m);

enum mmsim_phase {
    MMSIM_PHASE_EARLY,   /* early allocator owns memory */
    MMSIM_PHASE_RUNNING, /* buddy allocator owns memory */
};
enum mmsim_phase mmsim_machine_phase(const struct mmsim_machine *m);

/**
 * mmsim_machine_finish_boot() - from the early phase: pgdat and mem_map,
 * zones, watermarks, zonelists, hand-off.
 *
 * Return: 0; MMSIM_EPERM when already running; MMSIM_EPANIC or
 * MMSIM_EHOSTMEM. On failure the machine stays in the early phase with
 * its node data discarded; early allocations made for it stay reserved,
 * and after a failure in the bootmem hand-off (host memory only) the
 * retired bootmem nodes refuse further allocations: destroy the machine.
 */
int mmsim_machine_finish_boot(struct mmsim_machine *m);

/**
 * mmsim_machine_late_init() - page_alloc_init_late(): hand every deferred
 * page to the buddy allocator now. Idempotent.
 *
 * Return: number of pages released by this call.
 */
uint64_t mmsim_machine_late_init(struct mmsim_machine *m);

/*
 * The early-allocation API: the alloc_bootmem* family, served by whichever
 * early allocator the machine boots with (as mm/nobootmem.c served it over
 * memblock). Valid only in MMSIM_PHASE_EARLY; afterwards MMSIM_EPERM.
 */
enum mmsim_bootmem_call {
    MMSIM_ALLOC_BOOTMEM,              /* __alloc_bootmem */
    MMSIM_ALLOC_BOOTMEM_NOPANIC,      /* __alloc_bootmem_nopanic */
    MMSIM_ALLOC_BOOTMEM_LOW,          /* __alloc_bootmem_low */
    MMSIM_ALLOC_BOOTMEM_LOW_NOPANIC,  /* __alloc_bootmem_low_nopanic */
    MMSIM_ALLOC_BOOTMEM_NODE,         /* __alloc_bootmem_node */
    MMSIM_ALLOC_BOOTMEM_NODE_NOPANIC, /* __alloc_bootmem_node_nopanic */
    MMSIM_ALLOC_BOOTMEM_LOW_NODE,     /* __alloc_bootmem_low_node */
    MMSIM_ALLOC_BOOTMEM_NODE_HIGH,    /* __alloc_bootmem_node_high */
};

/**
 * mmsim_alloc_bootmem() - one call of the alloc_bootmem family.
 * @m:     the machine, in the early phase.
 * @call:  which variant.
 * @nid:   node for the _node variants (ignored otherwise).
 * @size:  bytes (> 0).
 * @align: power of two, 0 for the cache line (64).
 * @goal:  preferred lowest address, 0 for none.
 * @addr:  receives the simulated physical address.
 *
 * Return: 0; MMSIM_EPANIC from the panic variants where the kernel would
 * panic; MMSIM_ENOMEM from the _nopanic ones; MMSIM_EPERM after the
 * hand-off; MMSIM_EINVAL; MMSIM_ENODEV for a bad node.
 */
int mmsim_alloc_bootmem(struct mmsim_machine *m, enum mmsim_bootmem_call call,
                        int nid, uint64_t size, uint64_t align, uint64_t goal,
                        uint64_t *addr);
/*
 * free_bootmem() / reserve_bootmem(): early phase only. With the bootmem
 * backend a free must cover only RAM (MMSIM_EFAULT: the bitmap spans the
 * node's holes too, and a freed hole would reach buddy), and neither call
 * may touch a node's bitmap (MMSIM_EBUSY).
 */
int mmsim_free_bootmem(struct mmsim_machine *m, uint64_t addr, uint64_t size);
int mmsim_reserve_bootmem(struct mmsim_machine *m, uint64_t addr, uint64_t size,
                          bool exclusive);
/*
 * free_bootmem_late(): after the hand-off, give the whole pages of an
 * early allocation to the buddy allocator. Pages that are not reserved
 * early memory are refused (MMSIM_EINVAL) and nothing changes.
 */
int mmsim_free_bootmem_late(struct mmsim_machine *m, uint64_t addr,
                            uint64_t size);

/*
 * The early allocators themselves, for inspection (memblock debugfs) and
 * for tests. NULL for the backend the machine does not use. Owned by the
 * machine; no locking beyond the boot lock the caller must not need
 * (use them only when no other thread touches the machine).
 */
struct mmsim_memblock *mmsim_machine_memblock(struct mmsim_machine *m);
struct mmsim_bootmem *mmsim_machine_bootmem(struct mmsim_machine *m);
/*
 * Where the bootmem backend put node @nid's bitmap (reserved in the node
 * itself; mmsim_free_bootmem and mmsim_reserve_bootmem refuse to touch it
 * with MMSIM_EBUSY). Return: 0, or MMSIM_ENOENT (memblock machine, or no
 * bitmap yet).
 */
int mmsim_machine_bootmem_map(const struct mmsim_machine *m, int nid,
                              uint64_t *addr, uint64_t *size);

/**
 * mmsim_alloc_pages() - allocate 2^@order contiguous pages.
 * @m:     the machine.
 * @cpu:   the simulated CPU the caller runs on (0..nr_cpus-1), whose
 *         per-cpu lists serve order <= 3; MMSIM_NO_CPU bypasses them.
 * @gfp:   MMSIM_GFP_* flags.
 * @order: 0..max_order.
 * @nid:   preferred node, or MMSIM_ANY_NODE for the CPU's node (node 0
 *         without a CPU).
 * @pfn:   receives the first page frame number.
 *
 * Walks the preferred node's zonelist (nodes by distance, zones from the
 * highest @gfp allows down), first against the low watermark, then in the
 * slow path against min (with the reserves @gfp grants).
 *
 * Return: 0; MMSIM_ENOMEM when nothing can satisfy it (logged as the
 * kernel's "page allocation failure" unless NOWARN); MMSIM_ERANGE for a
 * bad order; MMSIM_ENODEV for a bad node; MMSIM_EINVAL for unknown flags
 * or an impossible zone-modifier combination; MMSIM_ECPU for a bad cpu;
 * MMSIM_EPERM before the hand-off.
 */
int mmsim_alloc_pages(struct mmsim_machine *m, int cpu, mmsim_gfp_t gfp,
                      unsigned order, int nid, uint64_t *pfn);

/**
 * mmsim_free_pages() - free a block from mmsim_alloc_pages().
 * @m:     the machine.
 * @cpu:   as for allocation.
 * @pfn:   the first page of the block.
 * @order: the order it was allocated with.
 *
 * Return: 0; MMSIM_EFAULT (no memory at @pfn); MMSIM_EALREADY (free);
 * MMSIM_ENOTHEAD (inside an allocated block, not its first page, or
 * misaligned for @order); MMSIM_EORDER (the head of a block of another
 * order); MMSIM_ERESERVED (reserved memory); MMSIM_ERANGE (bad order);
 * MMSIM_ECPU. On error nothing changes.
 */
int mmsim_free_pages(struct mmsim_machine *m, int cpu, uint64_t pfn,
                     unsigned order);

/*
 * Owner tags: a 32-bit value stored with each allocated block (the RPC
 * layer keeps session ids there). Set at allocation by
 * mmsim_alloc_pages_tagged(); mmsim_page_owner() reads it back.
 */
int mmsim_alloc_pages_tagged(struct mmsim_machine *m, int cpu, mmsim_gfp_t gfp,
                             unsigned order, int nid, uint32_t tag,
                             uint64_t *pfn);
/* Return: 0, filling tag and order, for an allocated head; else as free. */
int mmsim_page_owner(struct mmsim_machine *m, uint64_t pfn, uint32_t *tag,
                     unsigned *order);

/*
 * Page contents (machines described with contents = true). @pfn may be any
 * page of an allocated block; offset + len must not pass the page.
 * Never-written pages read as zeros, and a freed page reads as zeros when
 * it is allocated again: no byte passes from one owner to the next.
 * The caller must not free a block while reading or writing it.
 *
 * Return: 0; MMSIM_ENOCONTENT (metadata-only machine); MMSIM_ERANGE (past
 * the page); MMSIM_EFAULT, MMSIM_EALREADY, MMSIM_ERESERVED (the page is
 * not allocated); MMSIM_EPERM before the hand-off.
 */
int mmsim_page_read(struct mmsim_machine *m, uint64_t pfn, uint32_t offset,
                    void *buf, uint32_t len);
int mmsim_page_write(struct mmsim_machine *m, uint64_t pfn, uint32_t offset,
                     const void *buf, uint32_t len);
/* Whether the machine keeps page contents. */
bool mmsim_machine_has_contents(const struct mmsim_machine *m);

/* drain_local_pages() / drain_all_pages(): per-cpu lists back to buddy. */
int mmsim_drain_cpu(struct mmsim_machine *m, int cpu);
void mmsim_drain_all(struct mmsim_machine *m);

/* Where a page lives. */
struct mmsim_page_where {
    int nid;
    enum mmsim_zone_type zone;
};
int mmsim_pfn_where(const struct mmsim_machine *m, uint64_t pfn,
                    struct mmsim_page_where *w);

/* Shape and counters, for tools and the RPC layer. */
struct mmsim_zone_info {
    int nid;
    enum mmsim_zone_type type;
    uint64_t start_pfn, spanned, present, managed;
    uint64_t free;     /* NR_FREE_PAGES: buddy free lists only */
    uint64_t pcp;      /* pages on per-cpu lists */
    uint64_t deferred; /* managed pages not yet initialised */
    uint64_t wmark_min, wmark_low, wmark_high, wmark_promo;
    uint64_t lowmem_reserve[MMSIM_NR_ZONE_TYPES]; /* by zone type */
    uint64_t nr_free[MMSIM_MAX_ORDER_CAP + 1];    /* per order */
};
unsigned mmsim_machine_nr_nodes(const struct mmsim_machine *m);
unsigned mmsim_machine_nr_cpus(const struct mmsim_machine *m);
int mmsim_cpu_to_node(const struct mmsim_machine *m, int cpu);
unsigned mmsim_machine_max_order(const struct mmsim_machine *m);
uint64_t mmsim_machine_max_pfn(const struct mmsim_machine *m);
uint64_t mmsim_machine_min_free_kbytes(const struct mmsim_machine *m);
/*
 * Return: 0; MMSIM_ENODEV (bad node); MMSIM_ENOENT (zone type not in this
 * model); MMSIM_EPERM (before the hand-off).
 */
int mmsim_zone_info(struct mmsim_machine *m, int nid, enum mmsim_zone_type type,
                    struct mmsim_zone_info *zi);
/*
 * The zonelist of @nid as zone types and nodes, in fallback order
 * (all zones, highest first per node). Return: entries written.
 */
struct mmsim_zoneref {
    int nid;
    enum mmsim_zone_type type;
};
unsigned mmsim_zonelist(const struct mmsim_machine *m, int nid,
                        struct mmsim_zoneref *refs, unsigned max);

/*
 * Machine-wide event counters, named as in /proc/vmstat (those that
 * exist so far). mmsim_vmstat_get() returns -1 for an unknown name.
 */
int64_t mmsim_vmstat_get(struct mmsim_machine *m, const char *name);

/*
 * The kernel's views. Each writes the text a Linux 6.x kernel prints for
 * the same state, snprintf-style: returns the length the full text needs
 * (excluding the NUL), writes at most @len bytes, NUL-terminated when
 * @len > 0. Negative MMSIM_E* on error.
 */
int64_t mmsim_view_buddyinfo(struct mmsim_machine *m, char *buf, size_t len);
int64_t mmsim_view_zoneinfo(struct mmsim_machine *m, char *buf, size_t len);
int64_t mmsim_view_vmstat(struct mmsim_machine *m, char *buf, size_t len);
/* /sys/kernel/debug/memblock/{memory,reserved}; MMSIM_ENOENT w/ bootmem */
int64_t mmsim_view_memblock(struct mmsim_machine *m, bool reserved, char *buf,
                            size_t len);
/* The boot messages, one per line, as dmesg shows them (no timestamps). */
int64_t mmsim_view_bootlog(struct mmsim_machine *m, char *buf, size_t len);

/**
 * mmsim_check() - verify every free list, per-cpu list and counter.
 * @m:      the machine.
 * @full:   also walk every initialised page frame (O(pages)), checking
 *          that no stray page is marked and that allocated blocks add up.
 * @err:    receives the first inconsistency found, naming zone, order and
 *          pfn; may be NULL.
 * @errlen: size of @err.
 *
 * Takes every lock in the documented order, so it sees a consistent state
 * even while other threads allocate.
 *
 * Return: 0 when consistent, MMSIM_ECORRUPT otherwise.
 */
int mmsim_check(struct mmsim_machine *m, bool full, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_MM_H */
