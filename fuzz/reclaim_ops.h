/*
 * reclaim_ops.h - the byte encoding of the reclaim_ops target (address
 * spaces, reclaim, swap, the OOM killer), shared by fuzz/reclaim_ops.c,
 * which decodes, and fuzz/gen-corpus.c, which encodes the seeds.
 *
 * Kept apart from ops.h only so the two can change independently; it
 * uses ops.h's op table machinery (fz_dec_op(), fz_enc_op()) unchanged.
 *
 * DOC: input
 *
 * A 5-byte header (flags, mem, swap (word), knobs), then operations
 * until the input ends, each one opcode byte (modulo RO_NR_OPS) and the
 * arguments ro_op_layout[] lists. Missing bytes read as zero.
 */
#ifndef MMSIM_FUZZ_RECLAIM_OPS_H
#define MMSIM_FUZZ_RECLAIM_OPS_H

#include <stdint.h>

#include "ops.h"

/* Header flags. */
#define RO_HDR_TWO_NODES 0x01u /* two nodes instead of one */
#define RO_HDR_LOW_BASE  0x02u /* node 0 from 1 MiB (DMA and DMA32), else 16 */
#define RO_HDR_OOM_FAIL  0x04u /* oom_policy = fail instead of kill */
/* bits 3-4: cpus - 1; bits 5-6: address spaces, 2 + v % 3. */
static inline unsigned ro_hdr_cpus(unsigned flags)
{
    return 1 + ((flags >> 3) & 3u);
}
static inline unsigned ro_hdr_mms(unsigned flags)
{
    return 2 + ((flags >> 5) & 3u) % 3;
}

/* mem: node 0 has 8 + (mem & 15) % 9 MiB, node 1 8 + (mem >> 4) % 9. */
static inline unsigned ro_node_mib(unsigned mem, unsigned nid)
{
    return 8 + ((nid ? mem >> 4 : mem) & 15u) % 9;
}

/*
 * swap (word): 0 none; 1..64 that many slots (a device one page larger,
 * the header), so "swap full" is easy to reach; above, 64 + (v - 64) %
 * 4032 slots (at most 16 MiB). The device is in memory (swap_path "").
 */
#define RO_SWAP_MAX_SLOTS 4096u
static inline uint64_t ro_swap_slots(unsigned v)
{
    return v <= 64 ? v : 64 + (v - 64) % (RO_SWAP_MAX_SLOTS - 64);
}

/* knobs: bits 0-1 min_free_kbytes, bits 2-3 watermark_scale_factor. */
static const uint64_t ro_min_free_kb[4] = {0 /* the formula */, 128, 512, 1024};
static const unsigned ro_wsf[4] = {10, 1, 100, 1000};

enum ro_opcode {
    RO_OP_MMAP,      /* mm size_kind size nid */
    RO_OP_MUNMAP,    /* mm addr_kind region page(w) pages(w) */
    RO_OP_WRITE,     /* mm addr_kind region page(w) off(w) len(w) seed */
    RO_OP_READ,      /* mm addr_kind region page(w) off(w) len(w) */
    RO_OP_FILL,      /* mm region page(w) n seed how: one call per page */
    RO_OP_RECLAIM,   /* nid who steps */
    RO_OP_BALANCE,   /* nid */
    RO_OP_RAW_ALLOC, /* cpu gfp order nid count acct */
    RO_OP_RAW_FREE,  /* which(w) count cpu */
    RO_OP_PTE,       /* mm addr_kind region page(w) n */
    RO_OP_EXIT,      /* mm: destroy it, create a new one in its place */
    RO_OP_FAIL,      /* n: fail the n-th page allocation from now; 0 off */
    RO_OP_QUERY,     /* what arg */
    RO_OP_DRAIN,     /* - */
    RO_NR_OPS
};

static const char *const ro_op_layout[RO_NR_OPS] = {
    [RO_OP_MMAP] = "bbwb",     [RO_OP_MUNMAP] = "bbbww",
    [RO_OP_WRITE] = "bbbwwwb", [RO_OP_READ] = "bbbwww",
    [RO_OP_FILL] = "bbwbbb",   [RO_OP_RECLAIM] = "bbb",
    [RO_OP_BALANCE] = "b",     [RO_OP_RAW_ALLOC] = "bbbbbb",
    [RO_OP_RAW_FREE] = "wbb",  [RO_OP_PTE] = "bbbwb",
    [RO_OP_EXIT] = "b",        [RO_OP_FAIL] = "b",
    [RO_OP_QUERY] = "bb",      [RO_OP_DRAIN] = "",
};

/* mmap size kinds (% 4). */
enum {
    RO_SIZE_SMALL, /* 1 + v % 64 pages */
    RO_SIZE_MID,   /* 1 + v % 1024 pages */
    RO_SIZE_RAM,   /* the machine's RAM * (1 + v % 8) / 2: up to 4x RAM */
    RO_SIZE_BAD,   /* v odd: 0 pages; even: MMSIM_MMAP_MAX_PAGES + 1 + v */
    RO_NR_SIZE
};

/*
 * Address kinds (% 5), for munmap, read, write and pte. @region picks a
 * region of the model (modulo their number), @page a page in it.
 */
enum {
    RO_ADDR_REGION, /* region's page (page % its size), + off % 4 KiB */
    RO_ADDR_END,    /* region's end - (1 + page % 8) pages + off: crosses it */
    RO_ADDR_FREED,  /* a recently unmapped start + page % 16 pages + off */
    RO_ADDR_TOP,    /* MMSIM_MMAP_BASE - (1 + page) pages + off */
    RO_ADDR_WILD,   /* region << 56 | page << 12 | off: mostly unmapped,
                       unaligned for munmap when off != 0 */
    RO_NR_ADDR
};

/* munmap pages: 0xffff the rest of the region from the address; 0xfffe
 * more pages than the address space holds (EINVAL); else v % 1024 (0 is
 * EINVAL). */
#define RO_UNMAP_REST 0xffffu
#define RO_UNMAP_HUGE 0xfffeu

/* Write and read lengths: len % (3 pages + 1): up to three boundaries. */
#define RO_LEN_MAX (3u * 4096u)

/* RO_OP_FILL how (% 4): pages [page, page + n + 1) of the region, one
 * call each, stopping at the first error. */
enum {
    RO_FILL_WRITE,   /* whole pages of the seeded pattern */
    RO_FILL_TOUCH,   /* read one byte: faults zero pages in */
    RO_FILL_PARTIAL, /* the first 64 bytes of each page */
    RO_FILL_VERIFY,  /* read whole pages and compare */
    RO_NR_FILL
};

/* RO_OP_RECLAIM who (% 2): MMSIM_RECLAIM_KSWAPD, MMSIM_RECLAIM_DIRECT;
 * steps: 1 + v % 16. */

/* Raw page allocations (pressure the address spaces cannot reclaim). */
static const mmsim_gfp_t ro_gfp_table[] = {
    MMSIM_GFP_KERNEL,
    MMSIM_GFP_KERNEL | MMSIM_GFP_NORETRY,
    MMSIM_GFP_ATOMIC,
    MMSIM_GFP_NOWAIT,
    MMSIM_GFP_HIGHUSER_MOVABLE,
    MMSIM_GFP_KERNEL | MMSIM_GFP_NOWARN,
    MMSIM_GFP_KERNEL | MMSIM_GFP_THISNODE,
    MMSIM_GFP_KERNEL | MMSIM_GFP_NOFAIL,
    MMSIM_GFP_KERNEL | MMSIM_GFP_DMA,
    0, /* no reclaim at all */
};
#define RO_GFP_COUNT (sizeof(ro_gfp_table) / sizeof(ro_gfp_table[0]))
/* Raw allocation: order % 4, 1 + count % 64 blocks, stopping at the
 * first failure; acct < 0x80 accounts the pages to address space
 * acct % nr (mmsim_mm_account), as the RPC layer does. */
#define RO_ACCT_NONE 0x80u

/* Selectors with a fixed meaning; others are taken modulo. */
#define RO_CPU_NONE 0xffu /* MMSIM_NO_CPU */
#define RO_NID_ANY  0xffu /* MMSIM_ANY_NODE */
#define RO_NID_BAD  0xfeu /* nr_nodes: MMSIM_ENODEV */

/* RO_OP_QUERY what (% 7). */
enum {
    RO_Q_LRU,      /* mmsim_lru_info(arg node, incl. RO_NID_BAD) */
    RO_Q_SWAP,     /* mmsim_swap_info() and /proc/swaps */
    RO_Q_MEMINFO,  /* /proc/meminfo: SwapTotal, SwapFree, the LRU lines */
    RO_Q_VMSTAT,   /* /proc/vmstat and mmsim_vmstat_get() agree */
    RO_Q_OOM,      /* mmsim_oom_info() */
    RO_Q_BALANCED, /* mmsim_node_balanced(arg node) */
    RO_Q_VIEW_LEN, /* the views into a buffer of arg bytes (snprintf) */
    RO_NR_Q
};

#endif /* MMSIM_FUZZ_RECLAIM_OPS_H */
