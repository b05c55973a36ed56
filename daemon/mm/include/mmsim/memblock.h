/*
 * mmsim/memblock.h - the early physical memory allocator, as an instance.
 *
 * DOC: memblock overview
 *
 * Same semantics as Linux's mm/memblock.c, without its globals: a memblock
 * holds two region arrays, "memory" (what RAM exists, tagged with a node)
 * and "reserved" (what is in use). Regions in each array are kept sorted,
 * non-overlapping, and adjacent compatible regions (same node, same flags)
 * are merged, exactly as memblock_add_range()/memblock_merge_regions() do.
 * Both arrays start with room for 128 regions (INIT_MEMBLOCK_REGIONS) and
 * double when full; as in memblock_double_array(), the new array's bytes
 * are themselves allocated from and reserved in this memblock (after
 * mmsim_memblock_allow_resize()), so the reserved array shows them.
 *
 * Allocation finds a free range (memory minus reserved) top-down by
 * default or bottom-up, honouring alignment, min/max address, the node and
 * current_limit, then reserves it. Nothing here touches page contents:
 * addresses are simulated physical addresses.
 *
 * Thread safety: none. A memblock is used during single-threaded boot, or
 * under its owner's lock (the machine's boot lock).
 */
#ifndef MMSIM_MEMBLOCK_H
#define MMSIM_MEMBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mmsim_memblock;

/* Region flags, as enum memblock_flags. */
#define MMSIM_MEMBLOCK_NONE    0x0u
#define MMSIM_MEMBLOCK_HOTPLUG 0x1u
#define MMSIM_MEMBLOCK_MIRROR  0x2u
#define MMSIM_MEMBLOCK_NOMAP   0x4u
/*
 * Memory a driver hot-added (add_memory_driver_managed()): never handed
 * out by the allocator, like NOMAP.
 */
#define MMSIM_MEMBLOCK_DRIVER_MANAGED 0x8u
/* Only named here (the debugfs view prints them); memblock ignores them. */
#define MMSIM_MEMBLOCK_RSRV_NOINIT 0x10u
#define MMSIM_MEMBLOCK_KHO_SCRATCH 0x40u
/*
 * On reserved regions: reserved for the kernel's own use, by
 * mmsim_memblock_reserve_kern() or by any allocation (Linux >= 6.16).
 * Such regions merge only with each other.
 */
#define MMSIM_MEMBLOCK_RSRV_KERN 0x20u

/* Which array. */
enum mmsim_memblock_type {
    MMSIM_MEMBLOCK_MEMORY = 0,
    MMSIM_MEMBLOCK_RESERVED = 1,
};

#define MMSIM_MEMBLOCK_INIT_REGIONS 128

/* Special max_addr values for the alloc calls, as in the kernel. */
#define MMSIM_MEMBLOCK_ALLOC_ANYWHERE   (~(uint64_t)0)
#define MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE 0
/* Also means current_limit (the kernel skips kmemleak for it). */
#define MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE 1

/* SMP_CACHE_BYTES: the default alignment when 0 is passed. */
#define MMSIM_MEMBLOCK_DEFAULT_ALIGN 64

struct mmsim_memblock_region {
    uint64_t base;
    uint64_t size;
    unsigned flags;
    int nid; /* MMSIM_NUMA_NO_NODE when not set */
};

/**
 * mmsim_memblock_create() - a new, empty memblock.
 * @alloc: host allocator hook, or NULL for the C library. Borrowed: must
 *         outlive the memblock.
 * @out:   receives the memblock.
 *
 * Starts top-down, current_limit MMSIM_MEMBLOCK_ALLOC_ANYWHERE, resizing
 * not yet allowed (arrays grow from the host heap only, and are not
 * reserved, until mmsim_memblock_allow_resize()).
 *
 * Return: 0, or MMSIM_EHOSTMEM.
 */
int mmsim_memblock_create(const struct mmsim_allocator *alloc,
                          struct mmsim_memblock **out);

/** mmsim_memblock_destroy() - free everything. NULL is a no-op. */
void mmsim_memblock_destroy(struct mmsim_memblock *mb);

/**
 * mmsim_memblock_allow_resize() - from now on, growing an array allocates
 * the new array's simulated bytes from this memblock and reserves them,
 * as memblock_allow_resize() does in the kernel.
 */
void mmsim_memblock_allow_resize(struct mmsim_memblock *mb);

/*
 * Adding and removing. Each returns 0 or a negative MMSIM_E* code
 * (MMSIM_EHOSTMEM or MMSIM_ENOMEM when an array could not grow; state is
 * then unchanged). Sizes are capped so base + size does not overflow
 * (memblock_cap_size). A zero size is a successful no-op. A @nid must be
 * MMSIM_NUMA_NO_NODE or 0..MMSIM_MAX_NODES-1, else MMSIM_EINVAL.
 */
int mmsim_memblock_add(struct mmsim_memblock *mb, uint64_t base, uint64_t size);
int mmsim_memblock_add_node(struct mmsim_memblock *mb, uint64_t base,
                            uint64_t size, int nid, unsigned flags);
int mmsim_memblock_remove(struct mmsim_memblock *mb, uint64_t base,
                          uint64_t size);
int mmsim_memblock_reserve(struct mmsim_memblock *mb, uint64_t base,
                           uint64_t size);
/*
 * memblock_reserve_kern(): as mmsim_memblock_reserve(), but the region is
 * flagged MMSIM_MEMBLOCK_RSRV_KERN like the ones allocations make, so it
 * merges with them.
 */
int mmsim_memblock_reserve_kern(struct mmsim_memblock *mb, uint64_t base,
                                uint64_t size);
/* memblock_phys_free(): remove [base, base+size) from reserved. */
int mmsim_memblock_free(struct mmsim_memblock *mb, uint64_t base,
                        uint64_t size);
/* memblock_set_node(): assign @nid to memory in the range (splitting). */
int mmsim_memblock_set_node(struct mmsim_memblock *mb, uint64_t base,
                            uint64_t size, int nid);
int mmsim_memblock_mark_nomap(struct mmsim_memblock *mb, uint64_t base,
                              uint64_t size);
int mmsim_memblock_clear_nomap(struct mmsim_memblock *mb, uint64_t base,
                               uint64_t size);
int mmsim_memblock_mark_hotplug(struct mmsim_memblock *mb, uint64_t base,
                                uint64_t size);
int mmsim_memblock_clear_hotplug(struct mmsim_memblock *mb, uint64_t base,
                                 uint64_t size);
/*
 * memblock_mark_mirror(): also switches the allocator to "mirrored memory
 * first" (system_has_some_mirror): every later find tries MIRROR regions
 * before falling back to any memory.
 */
int mmsim_memblock_mark_mirror(struct mmsim_memblock *mb, uint64_t base,
                               uint64_t size);

/* Placement policy and limits. */
void mmsim_memblock_set_bottom_up(struct mmsim_memblock *mb, bool enable);
bool mmsim_memblock_bottom_up(const struct mmsim_memblock *mb);
void mmsim_memblock_set_current_limit(struct mmsim_memblock *mb,
                                      uint64_t limit);
uint64_t mmsim_memblock_get_current_limit(const struct mmsim_memblock *mb);

/**
 * mmsim_memblock_alloc_range_nid() - memblock_alloc_range_nid().
 * @mb:        the memblock.
 * @size:      bytes (> 0).
 * @align:     power of two; 0 means MMSIM_MEMBLOCK_DEFAULT_ALIGN.
 * @start:     lowest acceptable address.
 * @end:       one past the highest; MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE (0)
 *             means current_limit, ALLOC_ANYWHERE means no limit.
 * @nid:       preferred node or MMSIM_NUMA_NO_NODE.
 * @exact_nid: when false and @nid has no room, fall back to any node.
 * @addr:      receives the base of the reserved range.
 *
 * The block is reserved with MMSIM_MEMBLOCK_RSRV_KERN and @nid (or
 * MMSIM_NUMA_NO_NODE when it came from the any-node fallback), as Linux
 * 6.16 and later do.
 *
 * A reservation that fails because "reserved" found no simulated room to
 * grow counts as "nothing fits here" and the next choice is tried, as in
 * the kernel; a host allocation failure ends the call at once.
 *
 * Return: 0; MMSIM_ENOMEM when nothing fits; MMSIM_EHOSTMEM when the host
 * could not grow an array; MMSIM_EINVAL for size 0, a non-power-of-two
 * align or a @nid that is neither MMSIM_NUMA_NO_NODE nor a valid node. On
 * error nothing changed.
 */
int mmsim_memblock_alloc_range_nid(struct mmsim_memblock *mb, uint64_t size,
                                   uint64_t align, uint64_t start, uint64_t end,
                                   int nid, bool exact_nid, uint64_t *addr);

/**
 * mmsim_memblock_alloc_try_nid() - memblock_alloc_try_nid(): clamps
 * @max_addr to current_limit, and retries without @min_addr when the
 * first try fails (memblock_alloc_internal()).
 *
 * Return: as mmsim_memblock_alloc_range_nid().
 */
int mmsim_memblock_alloc_try_nid(struct mmsim_memblock *mb, uint64_t size,
                                 uint64_t align, uint64_t min_addr,
                                 uint64_t max_addr, int nid, uint64_t *addr);

/* memblock_alloc_exact_nid_raw(): as above but never leaves @nid. */
int mmsim_memblock_alloc_exact_nid(struct mmsim_memblock *mb, uint64_t size,
                                   uint64_t align, uint64_t min_addr,
                                   uint64_t max_addr, int nid, uint64_t *addr);

/* memblock_phys_alloc_range(): [start, end), any node, no retry. */
int mmsim_memblock_phys_alloc_range(struct mmsim_memblock *mb, uint64_t size,
                                    uint64_t align, uint64_t start,
                                    uint64_t end, uint64_t *addr);

/*
 * Queries. Region indexes are 0..count-1 in address order; a region's
 * fields are copied into @r. Return 0, MMSIM_ERANGE for a bad index or
 * MMSIM_EINVAL for a bad type. An empty array has count 0: as in Linux
 * 6.11 and later, there is no dummy entry.
 */
unsigned mmsim_memblock_count(const struct mmsim_memblock *mb,
                              enum mmsim_memblock_type type);
unsigned mmsim_memblock_max(const struct mmsim_memblock *mb,
                            enum mmsim_memblock_type type);
int mmsim_memblock_region(const struct mmsim_memblock *mb,
                          enum mmsim_memblock_type type, unsigned idx,
                          struct mmsim_memblock_region *r);
/* Sum of region sizes in the array (type.total_size). */
uint64_t mmsim_memblock_total_size(const struct mmsim_memblock *mb,
                                   enum mmsim_memblock_type type);
/* memblock_start_of_DRAM()/end_of_DRAM(); 0 when empty. */
uint64_t mmsim_memblock_start_of_dram(const struct mmsim_memblock *mb);
uint64_t mmsim_memblock_end_of_dram(const struct mmsim_memblock *mb);
bool mmsim_memblock_is_memory(const struct mmsim_memblock *mb, uint64_t addr);
bool mmsim_memblock_is_reserved(const struct mmsim_memblock *mb, uint64_t addr);
/* memblock_is_region_memory(): the whole range lies within one region. */
bool mmsim_memblock_is_region_memory(const struct mmsim_memblock *mb,
                                     uint64_t base, uint64_t size);
/* memblock_is_region_reserved(): the range intersects reserved. */
bool mmsim_memblock_is_region_reserved(const struct mmsim_memblock *mb,
                                       uint64_t base, uint64_t size);

/*
 * Free-range iteration: for_each_free_mem_range(), i.e. memory minus
 * reserved, NOMAP memory skipped, in ascending address order. Start with
 * *cursor = 0; each call yields the next range and returns true, or
 * returns false when done. @nid filters by node (MMSIM_NUMA_NO_NODE: all).
 */
bool mmsim_memblock_next_free_range(const struct mmsim_memblock *mb, int nid,
                                    uint64_t *cursor, uint64_t *start,
                                    uint64_t *end, int *range_nid);

/**
 * mmsim_memblock_debugfs_show() - the text of /sys/kernel/debug/memblock/
 * memory or .../reserved for this memblock, as memblock_debug_show()
 * prints it.
 * @mb:   the memblock.
 * @type: which array.
 * @buf:  receives the text; may be NULL when @len is 0.
 * @len:  size of @buf in bytes.
 *
 * One line per region: "%4d: " with the index, "0x%016llx..0x%016llx "
 * with the first and last byte (%pa on 64-bit phys_addr_t), then "%4d "
 * with the node or "%4c " with 'x' when the region has none, then the name
 * of the lowest flag bit set (HOTPLUG, MIRROR, NOMAP, DRV_MNG, RSV_NIT,
 * RSV_KERN, KHO_SCRATCH; UNKNOWN for any other bit) or NONE, and a
 * newline, as Linux 6.18 prints them. An empty array prints nothing (Linux
 * >= 6.11 keeps no dummy entry).
 *
 * snprintf() semantics: at most @len bytes are written, the text is always
 * NUL-terminated when @len > 0, and the return value is the length of the
 * whole text (excluding the NUL), so a return >= @len means it was cut.
 *
 * Context: reads @mb only; the caller serialises against writers.
 * Return: the full text length, or MMSIM_EINVAL for a bad @type or a NULL
 * @buf with @len > 0.
 */
int mmsim_memblock_debugfs_show(const struct mmsim_memblock *mb,
                                enum mmsim_memblock_type type, char *buf,
                                size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_MEMBLOCK_H */
