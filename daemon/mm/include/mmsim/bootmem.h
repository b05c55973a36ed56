/*
 * mmsim/bootmem.h - the legacy bootmem bitmap allocator, as an instance.
 *
 * DOC: bootmem overview
 *
 * The allocator Linux used before memblock took over (mm/bootmem.c, gone
 * since 4.20), without its globals. Each node gets a bootmem_data: a
 * bitmap with one bit per page over node_min_pfn..node_low_pfn, where a set
 * bit means "reserved". init_node starts with every page reserved; the
 * caller then frees the usable RAM and reserves what is in use.
 *
 * Allocation (alloc_bootmem_bdata) searches for a run of clear bits from
 * the goal (or from hint_idx, the end of the previous allocation, falling
 * back to the start once), rounded to the alignment, below the limit.
 * Small allocations are packed into the partly used last page of the
 * previous allocation (last_end_off), as the kernel did.
 *
 * Callers on the "panic" paths get MMSIM_EPANIC where the kernel would
 * have panicked; the _nopanic variants retry without the goal and return
 * MMSIM_ENOMEM.
 *
 * Thread safety: none; used during single-threaded boot, or under the
 * owning machine's boot lock.
 */
#ifndef MMSIM_BOOTMEM_H
#define MMSIM_BOOTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "mmsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mmsim_bootmem;

/* reserve_bootmem() flags. */
#define MMSIM_BOOTMEM_DEFAULT   0x0u
#define MMSIM_BOOTMEM_EXCLUSIVE 0x1u

/**
 * mmsim_bootmem_create() - an allocator with no nodes yet.
 * @alloc:         host allocator hook or NULL (borrowed).
 * @low_limit:     ARCH_LOW_ADDRESS_LIMIT for the _low variants (x86:
 *                 0xffffffff); one past the highest byte they may use is
 *                 low_limit + 1.
 * @dma32_end_pfn: MAX_DMA32_PFN for the node_high variant; 0 when the
 *                 machine has no DMA32 zone.
 * @out:           receives the allocator.
 *
 * Return: 0 or MMSIM_EHOSTMEM.
 */
int mmsim_bootmem_create(const struct mmsim_allocator *alloc,
                         uint64_t low_limit, uint64_t dma32_end_pfn,
                         struct mmsim_bootmem **out);
void mmsim_bootmem_destroy(struct mmsim_bootmem *bm);

/**
 * mmsim_bootmem_init_node() - init_bootmem_node(): cover [start_pfn,
 * end_pfn) of node @nid with a bitmap, every page reserved.
 *
 * Nodes are kept in ascending start_pfn order (bdata_list). A node may be
 * initialised once; ranges of different nodes may not overlap.
 *
 * The bitmap lives in host memory (one malloc through the hook); the
 * caller reserves the simulated pages the kernel would have used for it
 * (see mmsim_bootmem_bitmap_bytes()) if it wants them accounted.
 *
 * Return: 0, MMSIM_EINVAL (empty or overlapping range, node already set
 * up or retired, nid outside 0..MMSIM_MAX_NODES-1), MMSIM_EOVERFLOW
 * (end_pfn past the last page a 64-bit address can reach),
 * MMSIM_EHOSTMEM (nothing changed).
 */
int mmsim_bootmem_init_node(struct mmsim_bootmem *bm, int nid,
                            uint64_t start_pfn, uint64_t end_pfn);

/*
 * Bitmap size in bytes for a node of @pages pages, rounded up to whole
 * longs (bootmem_bootmap_pages() * PAGE_SIZE gives the pages the kernel
 * reserved for it).
 */
uint64_t mmsim_bootmem_bitmap_bytes(uint64_t pages);

/**
 * mmsim_bootmem_free() - free_bootmem(): mark [addr, addr+size) free.
 * Only whole pages inside the range are freed (start rounded up, end
 * rounded down), as in the kernel. The range may span nodes, which must
 * then be contiguous. A range with no whole page in it is a no-op. Pages
 * below a node's hint_idx pull the hint back, so the next search sees
 * them.
 *
 * Errors change nothing (the kernel BUG()ed on all but overflow).
 *
 * Return: 0, MMSIM_EFAULT (a page outside every node), MMSIM_EALREADY (a
 * page in the range is already free), MMSIM_EPERM (a node in the range
 * is retired), MMSIM_EOVERFLOW (addr + size wraps).
 */
int mmsim_bootmem_free(struct mmsim_bootmem *bm, uint64_t addr, uint64_t size);

/**
 * mmsim_bootmem_reserve() - reserve_bootmem(): mark the pages touching
 * [addr, addr+size) reserved (start rounded down, end rounded up).
 * @flags: MMSIM_BOOTMEM_EXCLUSIVE fails with MMSIM_EBUSY, changing
 *         nothing, when any page in the range is already reserved.
 *         Without it, reserving a reserved page is silently accepted.
 *
 * Size 0 reserves nothing (the kernel would reserve the page holding an
 * unaligned @addr). Errors change nothing, hint_idx included.
 *
 * Return: 0, MMSIM_EBUSY, MMSIM_EFAULT (outside every node), MMSIM_EPERM
 * (a node in the range is retired), MMSIM_EINVAL (unknown flag),
 * MMSIM_EOVERFLOW (addr + size wraps).
 */
int mmsim_bootmem_reserve(struct mmsim_bootmem *bm, uint64_t addr,
                          uint64_t size, unsigned flags);

/*
 * The alloc_bootmem family. All put the simulated physical address in
 * *addr. @align is a power of two (0 means SMP_CACHE_BYTES, 64); @goal is
 * a preferred lowest address (0: none); @limit an exclusive upper bound
 * (0: none). Size 0 is MMSIM_EINVAL.
 *
 * Panic variants return MMSIM_EPANIC where the kernel would panic("Out of
 * memory"); _nopanic variants return MMSIM_ENOMEM. Both retry without
 * the goal before failing.
 *
 * Argument errors, for every variant: MMSIM_EINVAL (size 0, @align not a
 * power of two, or goal + size > limit on the variants that take a limit
 * from the caller without the node fallback, where the kernel BUG()ed),
 * MMSIM_EOVERFLOW (size or goal + size past 2^64). MMSIM_EPERM when the
 * node asked for, or every node, is retired. Retired nodes are skipped by
 * the "any node" walks. Nothing changes on any error.
 */
int mmsim_bootmem_alloc(struct mmsim_bootmem *bm, uint64_t size, uint64_t align,
                        uint64_t goal, uint64_t *addr);
int mmsim_bootmem_alloc_nopanic(struct mmsim_bootmem *bm, uint64_t size,
                                uint64_t align, uint64_t goal, uint64_t *addr);
/* ___alloc_bootmem{,_nopanic} with an explicit limit. */
int mmsim_bootmem_alloc_limit(struct mmsim_bootmem *bm, uint64_t size,
                              uint64_t align, uint64_t goal, uint64_t limit,
                              bool nopanic, uint64_t *addr);
/* __alloc_bootmem_low{,_nopanic}: below low_limit. */
int mmsim_bootmem_alloc_low(struct mmsim_bootmem *bm, uint64_t size,
                            uint64_t align, uint64_t goal, bool nopanic,
                            uint64_t *addr);
/*
 * __alloc_bootmem_node{,_nopanic}: try @nid first, then any node, then
 * without the goal. @limit 0 means none (the _low_node variant passes
 * low_limit + 1); as in the kernel, a limit below goal + size is dropped
 * rather than rejected. The panic variant keeps the limit too (the
 * kernel's ___alloc_bootmem_node() passed 0, so __alloc_bootmem_low_node
 * was not really low). @nid may be MMSIM_NUMA_NO_NODE (any node from the
 * start) or a node never set up (like a memoryless node: straight to the
 * any-node fallback); any other nid outside 0..MMSIM_MAX_NODES-1 is
 * MMSIM_EINVAL.
 */
int mmsim_bootmem_alloc_node(struct mmsim_bootmem *bm, int nid, uint64_t size,
                             uint64_t align, uint64_t goal, uint64_t limit,
                             bool nopanic, uint64_t *addr);
/*
 * __alloc_bootmem_node_high: when the node reaches more than 128 MiB past
 * dma32_end_pfn and @goal is below it, first try @nid alone with the goal
 * at dma32_end_pfn, then behave as alloc_node (panic variant, no limit).
 */
int mmsim_bootmem_alloc_node_high(struct mmsim_bootmem *bm, int nid,
                                  uint64_t size, uint64_t align, uint64_t goal,
                                  uint64_t *addr);

/*
 * Hand-off. free_all_bootmem_core(): for node @nid, calls @release for
 * every free run of pages split into maximal aligned blocks (each call
 * covers 2^order pages starting at pfn, order <= @max_order, pfn aligned
 * to 2^order), in ascending pfn order. The bitmap's own simulated pages,
 * which the caller reserved, are the caller's to release afterwards (the
 * kernel freed them at the end of free_all_bootmem_core()).
 * Afterwards the node is retired: allocation returns MMSIM_EPERM.
 *
 * Free runs are walked a bitmap word at a time, so long free or reserved
 * stretches cost one step per 64 pages plus one call per block. @release
 * must not call back into @bm (the node already reads as retired).
 *
 * Return: pages released, MMSIM_EINVAL (nid out of range, @release NULL,
 * @max_order above MMSIM_MAX_ORDER_CAP), MMSIM_ENODEV (node never set up),
 * MMSIM_EPERM (already retired).
 */
typedef void (*mmsim_bootmem_release_fn)(void *ctx, uint64_t pfn,
                                         unsigned order);
int64_t mmsim_bootmem_free_all_node(struct mmsim_bootmem *bm, int nid,
                                    unsigned max_order,
                                    mmsim_bootmem_release_fn release,
                                    void *ctx);
/*
 * free_all_bootmem(): mmsim_bootmem_free_all_node() on every node not yet
 * retired, in ascending start pfn order. Return: total pages released, or
 * MMSIM_EINVAL for a bad @release/@max_order (then nothing is retired).
 */
int64_t mmsim_bootmem_free_all(struct mmsim_bootmem *bm, unsigned max_order,
                               mmsim_bootmem_release_fn release, void *ctx);

/* Queries (for tests, views and the hand-off). */
/* True once init_node succeeded for @nid, retired or not. */
bool mmsim_bootmem_has_node(const struct mmsim_bootmem *bm, int nid);
/* True once free_all_node has handed @nid's pages off. */
bool mmsim_bootmem_node_retired(const struct mmsim_bootmem *bm, int nid);
/*
 * True when the page is reserved (bit set). False outside every node and
 * on retired nodes (their bitmap is gone).
 */
bool mmsim_bootmem_page_reserved(const struct mmsim_bootmem *bm, uint64_t pfn);
/*
 * Count of free (clear) pages in node @nid, or in all nodes for
 * MMSIM_NUMA_NO_NODE. 0 for a node that is unknown, never set up or
 * retired.
 */
uint64_t mmsim_bootmem_free_pages(const struct mmsim_bootmem *bm, int nid);
/*
 * The node's bdata fields, for tests: node_min_pfn, node_low_pfn,
 * hint_idx (page index relative to min_pfn) and last_end_off (byte
 * offset relative to PFN_PHYS(min_pfn)). Any out pointer may be NULL.
 * Retired nodes still report their last values.
 *
 * Return: 0, MMSIM_EINVAL (nid out of range), MMSIM_ENODEV (never set up).
 */
int mmsim_bootmem_node_state(const struct mmsim_bootmem *bm, int nid,
                             uint64_t *min_pfn, uint64_t *low_pfn,
                             uint64_t *hint_idx, uint64_t *last_end_off);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_BOOTMEM_H */
