/*
 * mmsim/desc.h - the description of a simulated machine.
 *
 * DOC: machine description
 *
 * A plain value (fixed-size arrays, no pointers) saying what the firmware
 * of the simulated machine reports: usable RAM ranges per node (as e820 +
 * SRAT would), reserved ranges (firmware areas, the kernel image, an
 * initrd), the node distance table (SLIT), and the knobs the kernel takes
 * from its command line and sysctls (MAX_ORDER, min_free_kbytes,
 * watermark_scale_factor, lowmem_reserve_ratio, movablecore, the early
 * allocator, the 32-bit HighMem boundary).
 *
 * Three ways to fill one: mmsim_desc_default() (the built-in machine),
 * the QEMU-like options and the YAML file parsed by daemon/config, or by
 * hand with mmsim_desc_init() and the add helpers. mmsim_desc_validate()
 * names the first bad field.
 *
 * Being a value, a description can be copied, stored and compared freely;
 * the machine copies it at creation.
 */
#ifndef MMSIM_DESC_H
#define MMSIM_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Zone types, as enum zone_type. Which of them a machine has depends on
 * its model: the 64-bit model (x86-64) has DMA, DMA32, Normal, Movable and
 * Device; the 32-bit HighMem model (highmem_start set) has DMA, Normal,
 * HighMem, Movable. Device is always empty (no ZONE_DEVICE memory is
 * simulated) but exists so the views list the zones a 6.x kernel lists.
 */
enum mmsim_zone_type {
    MMSIM_ZONE_DMA,
    MMSIM_ZONE_DMA32,
    MMSIM_ZONE_NORMAL,
    MMSIM_ZONE_HIGHMEM,
    MMSIM_ZONE_MOVABLE,
    MMSIM_ZONE_DEVICE,
    MMSIM_NR_ZONE_TYPES
};

/* Which early allocator boots the machine. */
enum mmsim_early_kind {
    MMSIM_EARLY_MEMBLOCK = 0, /* the default, as every kernel since 4.20 */
    MMSIM_EARLY_BOOTMEM = 1,  /* the legacy bitmap allocator */
};

#define MMSIM_DESC_MAX_RANGES   256
#define MMSIM_DESC_MAX_RESERVED 64
#define MMSIM_DESC_NAME_LEN     32
#define MMSIM_MAX_CPUS          256
#define MMSIM_DESC_PATH_LEN     256

/* What happens when reclaim cannot free memory (see mmsim/vm.h). */
enum mmsim_oom_policy {
    MMSIM_OOM_KILL = 0, /* kill the largest address space, as Linux */
    MMSIM_OOM_FAIL = 1, /* fail the allocation with MMSIM_ENOMEM */
};

/* Fixed zone boundaries of the models (physical addresses). */
#define MMSIM_DMA_END   (UINT64_C(16) << 20) /* MAX_DMA_PFN */
#define MMSIM_DMA32_END (UINT64_C(4) << 30)  /* MAX_DMA32_PFN */
/* The classic 32-bit boundary: 896 MiB of lowmem. */
#define MMSIM_HIGHMEM_START_DEFAULT (UINT64_C(896) << 20)
/*
 * Largest simulated physical address (exclusive): page frame numbers are
 * 32-bit in struct mmsim_page, which is what keeps it at 16 bytes, and
 * the all-ones pfn is the list terminator. So: 16 TiB minus 1 GiB.
 */
#define MMSIM_MAX_PHYS ((UINT64_C(1) << 44) - (UINT64_C(1) << 30))

/* The 32-bit model's physical limit (PAE: 36 address bits). */
#define MMSIM_PAE_LIMIT (UINT64_C(64) << 30)

/* One range of usable RAM, as an e820 "usable" entry tagged with a node. */
struct mmsim_desc_range {
    uint64_t base;
    uint64_t size;
    int nid;
};

/* One reserved range (memblock_reserve at boot), with a name for logs. */
struct mmsim_desc_reserved {
    uint64_t base;
    uint64_t size;
    char name[MMSIM_DESC_NAME_LEN];
};

struct mmsim_desc {
    /* Nodes are 0..nr_nodes-1; each must own at least one range. */
    unsigned nr_nodes;
    unsigned nr_ranges;
    struct mmsim_desc_range ranges[MMSIM_DESC_MAX_RANGES];
    unsigned nr_reserved;
    struct mmsim_desc_reserved reserved[MMSIM_DESC_MAX_RESERVED];
    /*
     * SLIT: distance[a][b]. 0 means "not given": 10 on the diagonal, 20
     * elsewhere, as the kernel assumes without a SLIT.
     */
    uint8_t distance[MMSIM_MAX_NODES][MMSIM_MAX_NODES];
    /* Simulated CPUs (per-cpu page lists), spread over nodes round-robin. */
    unsigned nr_cpus;
    /* Largest buddy order (Linux 6.x MAX_PAGE_ORDER); default 10. */
    unsigned max_order;
    /* 0: the kernel's formula, sqrt(lowmem_kbytes * 16) in [128, 262144]. */
    uint64_t min_free_kbytes;
    /* vm.watermark_scale_factor, in 1/10000 of managed pages; default 10. */
    unsigned watermark_scale_factor;
    /* vm.lowmem_reserve_ratio per zone type; 0 disables that zone's. */
    unsigned lowmem_reserve_ratio[MMSIM_NR_ZONE_TYPES];
    /* movablecore=: bytes of ZONE_MOVABLE, taken from the top of nodes. */
    uint64_t movablecore;
    /* 0: the 64-bit model; else the HighMem boundary of the 32-bit one. */
    uint64_t highmem_start;
    enum mmsim_early_kind early;
    /*
     * Defer struct page initialisation (CONFIG_DEFERRED_STRUCT_PAGE_INIT
     * with deferred_init=lazy): at boot only the lower zones and the
     * first 128 MiB of each node's highest zone are handed to the buddy
     * allocator; the rest joins on demand or at mmsim_machine_late_init().
     */
    bool deferred_init;
    /*
     * Stop after the firmware map is in the early allocator, so the
     * caller can use the early-allocation API before
     * mmsim_machine_finish_boot().
     */
    bool stop_before_handoff;
    /*
     * Back the simulated RAM with host memory so pages have contents
     * (mmsim_page_read/mmsim_page_write). The backing is one anonymous
     * mapping that costs nothing until written, so a 1 TiB machine starts
     * on a small host; freed pages are zeroed (and large blocks given back
     * to the host). Off: metadata only.
     */
    bool contents;
    /*
     * Swap device (see mmsim/vm.h): swap_bytes 0 means none; otherwise a
     * whole number of pages, at least 2 (the header page and one slot).
     * swap_path: a file (created or reused, truncated to size, kept), a
     * directory (an unnamed temporary file in it), or "" (an in-memory
     * file).
     */
    uint64_t swap_bytes;
    char swap_path[MMSIM_DESC_PATH_LEN];
    /* What the OOM killer does (mmsim/vm.h). */
    enum mmsim_oom_policy oom_policy;
};

/* Zero everything and set the knobs to their defaults; no nodes. */
void mmsim_desc_init(struct mmsim_desc *d);

/*
 * The built-in machine: 2 nodes, 8 GiB, a PC-like map (low 640 KiB, a
 * PCI hole below 4 GiB), DMA, DMA32 and Normal zones, a kernel image, an
 * initrd and a firmware table reserved, SLIT 10/21.
 */
void mmsim_desc_default(struct mmsim_desc *d);

/*
 * Builders. Each returns 0, MMSIM_ERANGE when the table is full, or
 * MMSIM_EINVAL. Nodes are created implicitly (nr_nodes grows to nid+1).
 */
int mmsim_desc_add_range(struct mmsim_desc *d, int nid, uint64_t base,
                         uint64_t size);
int mmsim_desc_add_reserved(struct mmsim_desc *d, uint64_t base, uint64_t size,
                            const char *name);
/* Symmetric: sets [a][b] and [b][a]. */
int mmsim_desc_set_distance(struct mmsim_desc *d, int a, int b, unsigned val);
/* distance[a][b] with the defaults applied. */
unsigned mmsim_desc_distance(const struct mmsim_desc *d, int a, int b);

/**
 * mmsim_desc_validate() - check a description before booting it.
 * @d:      the description.
 * @err:    receives a message naming the first bad field, e.g.
 *          "ranges[3]: overlaps ranges[1] (0x...-0x...)"; may be NULL.
 * @errlen: size of @err.
 *
 * Return: 0 or MMSIM_ECONFIG.
 */
int mmsim_desc_validate(const struct mmsim_desc *d, char *err, size_t errlen);

/* Total bytes of usable RAM in the description. */
uint64_t mmsim_desc_total_ram(const struct mmsim_desc *d);

/* "DMA", "DMA32", "Normal", "HighMem", "Movable", "Device". */
const char *mmsim_zone_type_name(enum mmsim_zone_type t);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_DESC_H */
