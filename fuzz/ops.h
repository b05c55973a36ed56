/*
 * ops.h - the byte encodings of the operation-sequence targets, shared by
 * the targets (which decode) and fuzz/gen-corpus.c (which encodes seeds).
 *
 * DOC: encoding
 *
 * An input is a fixed header, then operations until the input ends. An
 * operation is one opcode byte (taken modulo the number of operations, so
 * every byte is some operation) followed by its arguments, whose sizes
 * the target's layout table gives: 'b' one byte, 'w' a little-endian
 * 16-bit word, 'l' a 32-bit one. Decoding and encoding both walk the same
 * table, so the two cannot drift apart. Missing bytes read as zero, so
 * every input, however cut, is a valid program.
 *
 * Arguments are mostly selectors rather than raw values: "which live
 * block", "which node, or an invalid one", "which GFP combination from
 * the table". That keeps most mutated inputs meaningful while the
 * reserved selector values still reach every invalid-argument path. The
 * helpers below turn selectors into values; gen-corpus uses the same
 * constants to say what it means.
 */
#ifndef MMSIM_FUZZ_OPS_H
#define MMSIM_FUZZ_OPS_H

#include <stdarg.h>
#include <stdint.h>

#include "fuzz.h"
#include "mmsim/memblock.h"
#include "mmsim/mm.h"

#define FZ_MAX_ARGS 12

/* One decoded operation: its opcode and arguments in layout order. */
struct fz_op {
    unsigned code;
    unsigned nargs;
    uint32_t arg[FZ_MAX_ARGS];
};

static inline void fz_dec_op(struct fz_in *in, const char *const *layout,
                             unsigned nr_ops, struct fz_op *op)
{
    memset(op, 0, sizeof(*op));
    op->code = fz_u8(in) % nr_ops;
    for (const char *f = layout[op->code]; *f; f++) {
        uint32_t v = *f == 'b'   ? fz_u8(in)
                     : *f == 'w' ? fz_u16(in)
                                 : fz_u32(in);

        op->arg[op->nargs++] = v;
    }
}

/* Encode opcode @code with its arguments, one unsigned per layout char. */
static inline void fz_enc_op(struct fz_out *o, const char *const *layout,
                             unsigned code, ...)
{
    va_list ap;

    fz_put_u8(o, code);
    va_start(ap, code);
    for (const char *f = layout[code]; *f; f++) {
        uint32_t v = va_arg(ap, unsigned);

        if (*f == 'b')
            fz_put_u8(o, v);
        else if (*f == 'w')
            fz_put_u16(o, v);
        else
            fz_put_u32(o, v);
    }
    va_end(ap);
}

/* ======================================================================
 * mm_ops: the machine (boot, buddy, pcp, views, early API, checker)
 * ====================================================================== */

#define MM_MAX_NODES    4
#define MM_MAX_RANGES   3 /* per node */
#define MM_MAX_RESERVED 7
#define MM_RANGE_PAGES  4096  /* at most 16 MiB per range */
#define MM_BUDGET_PAGES 16384 /* at most 64 MiB of RAM per machine */
/*
 * Deferred struct page init only defers a node's highest zone from the
 * section boundary after its first 128 MiB section of RAM, so machines
 * with MM_SHAPE_DEFERRED may be larger, 256 MiB per range and in all, and
 * their base counts in MiB: a node starting at 120 MiB with 140 MiB of
 * RAM defers what lies past 256 MiB.
 */
#define MM_RANGE_PAGES_DEFERRED  65536
#define MM_BUDGET_PAGES_DEFERRED 65536

/* struct mm_shape.flags: bits 0-1 are nodes - 1. */
#define MM_SHAPE_HIGHMEM  0x04u /* the 32-bit HighMem model */
#define MM_SHAPE_BOOTMEM  0x08u /* bootmem instead of memblock */
#define MM_SHAPE_DEFERRED 0x10u /* deferred struct page init */
#define MM_SHAPE_EARLY    0x20u /* stop before the hand-off */
#define MM_SHAPE_HOSTFAIL 0x40u /* fail host allocation hostfail_at */
#define MM_SHAPE_HIGH4G   0x80u /* the last node lives above 4 GiB */
/* struct mm_shape.extra */
#define MM_EXTRA_CONTENTS 0x01u /* pages have contents (desc.contents) */

/*
 * struct mm_shape.invalid: 0 (and anything past the list) boots the
 * description as built; the others break one rule of
 * mmsim_desc_validate(), and boot must fail with MMSIM_ECONFIG.
 */
enum {
    MM_INVALID_NONE,
    MM_INVALID_NO_NODES,    /* nr_nodes 0 */
    MM_INVALID_NO_RANGES,   /* nr_ranges 0 */
    MM_INVALID_RANGE_NODE,  /* a range on a node past nr_nodes */
    MM_INVALID_RANGE_EMPTY, /* a range of size 0 */
    MM_INVALID_RANGE_ALIGN, /* a range base not page aligned */
    MM_INVALID_RANGE_LIMIT, /* a range past the model's limit */
    MM_INVALID_OVERLAP,     /* two ranges overlap */
    MM_INVALID_EMPTY_NODE,  /* a node without ranges */
    MM_INVALID_INTERLEAVE,  /* node spans interleave */
    MM_INVALID_RSV_EMPTY,   /* a reservation of size 0 */
    MM_INVALID_RSV_LIMIT,   /* a reservation past MMSIM_MAX_PHYS */
    MM_INVALID_DIST_SELF,   /* distance to self not 10 */
    MM_INVALID_DIST_REMOTE, /* a remote distance of 10 or 255 */
    MM_INVALID_CPUS,        /* 0 or more than MMSIM_MAX_CPUS */
    MM_INVALID_MAX_ORDER,   /* past MMSIM_MAX_ORDER_CAP */
    MM_INVALID_WSF,         /* watermark_scale_factor 0 or > 3000 */
    MM_INVALID_MIN_FREE,    /* min_free_kbytes over half of RAM */
    MM_INVALID_MOVABLECORE, /* movablecore not below all RAM */
    MM_INVALID_HIGHMEM,     /* highmem_start unaligned or out of range */
    MM_INVALID_EARLY,       /* an unknown early allocator */
    MM_INVALID_NR_RESERVED, /* nr_reserved past the table */
    MM_NR_INVALID
};

/*
 * The machine an mm_ops input boots. Raw bytes; mm_shape_*() say what
 * they mean. Layout in the input, in this order: flags, cpus_order,
 * knobs, highmem_mib, extra, invalid, hostfail_at (word), base, then per node
 * nr_ranges and per range (gap, pages (word)), then nr_reserved and per
 * reservation (range, off (word), pages (word), skew), then one distance
 * byte per ordered pair of different nodes.
 */
struct mm_shape {
    uint8_t flags;
    uint8_t cpus_order;  /* bits 0-2: cpus - 1; bits 4-7: max_order */
    uint8_t knobs;       /* bits 0-1 min_free_kbytes, 2-3 wsf,
                            4-5 lowmem_reserve_ratio, 6-7 movablecore */
    uint8_t highmem_mib; /* highmem_start = 17 + v % 48 MiB */
    uint8_t extra;       /* MM_EXTRA_* */
    uint8_t invalid;     /* MM_INVALID_*: break the description */
    uint16_t hostfail_at;
    uint8_t base; /* first range at base * 64 KiB (deferred: MiB) */
    uint8_t nr_ranges[MM_MAX_NODES];
    struct {
        uint8_t gap;    /* pages of hole before it: gap * 16 */
        uint16_t pages; /* 1 + pages % MM_RANGE_PAGES(_DEFERRED) */
    } range[MM_MAX_NODES][MM_MAX_RANGES];
    uint8_t nr_reserved;
    struct {
        uint8_t range;  /* global range index, modulo the count */
        uint16_t off;   /* pages into the range, modulo its size */
        uint16_t pages; /* 1 + pages % 512 */
        uint8_t skew;   /* bytes: base -= (skew & 15) * 256, size too */
    } rsv[MM_MAX_RESERVED];
    uint8_t dist[MM_MAX_NODES][MM_MAX_NODES]; /* 11 + v % 244 */
};

static inline unsigned mm_shape_nodes(const struct mm_shape *s)
{
    return 1 + (s->flags & 3u);
}

static inline unsigned mm_shape_ranges(const struct mm_shape *s, unsigned n)
{
    return 1 + s->nr_ranges[n] % MM_MAX_RANGES;
}

static inline unsigned mm_shape_reserved(const struct mm_shape *s)
{
    return s->nr_reserved % (MM_MAX_RESERVED + 1);
}

static inline void mm_dec_shape(struct fz_in *in, struct mm_shape *s)
{
    memset(s, 0, sizeof(*s));
    s->flags = fz_u8(in);
    s->cpus_order = fz_u8(in);
    s->knobs = fz_u8(in);
    s->highmem_mib = fz_u8(in);
    s->extra = fz_u8(in);
    s->invalid = fz_u8(in);
    s->hostfail_at = fz_u16(in);
    s->base = fz_u8(in);
    for (unsigned n = 0; n < mm_shape_nodes(s); n++) {
        s->nr_ranges[n] = fz_u8(in);
        for (unsigned r = 0; r < mm_shape_ranges(s, n); r++) {
            s->range[n][r].gap = fz_u8(in);
            s->range[n][r].pages = fz_u16(in);
        }
    }
    s->nr_reserved = fz_u8(in);
    for (unsigned i = 0; i < mm_shape_reserved(s); i++) {
        s->rsv[i].range = fz_u8(in);
        s->rsv[i].off = fz_u16(in);
        s->rsv[i].pages = fz_u16(in);
        s->rsv[i].skew = fz_u8(in);
    }
    for (unsigned a = 0; a < mm_shape_nodes(s); a++)
        for (unsigned b = 0; b < mm_shape_nodes(s); b++)
            if (a != b)
                s->dist[a][b] = fz_u8(in);
}

static inline void mm_enc_shape(struct fz_out *o, const struct mm_shape *s)
{
    fz_put_u8(o, s->flags);
    fz_put_u8(o, s->cpus_order);
    fz_put_u8(o, s->knobs);
    fz_put_u8(o, s->highmem_mib);
    fz_put_u8(o, s->extra);
    fz_put_u8(o, s->invalid);
    fz_put_u16(o, s->hostfail_at);
    fz_put_u8(o, s->base);
    for (unsigned n = 0; n < mm_shape_nodes(s); n++) {
        fz_put_u8(o, s->nr_ranges[n]);
        for (unsigned r = 0; r < mm_shape_ranges(s, n); r++) {
            fz_put_u8(o, s->range[n][r].gap);
            fz_put_u16(o, s->range[n][r].pages);
        }
    }
    fz_put_u8(o, s->nr_reserved);
    for (unsigned i = 0; i < mm_shape_reserved(s); i++) {
        fz_put_u8(o, s->rsv[i].range);
        fz_put_u16(o, s->rsv[i].off);
        fz_put_u16(o, s->rsv[i].pages);
        fz_put_u8(o, s->rsv[i].skew);
    }
    for (unsigned a = 0; a < mm_shape_nodes(s); a++)
        for (unsigned b = 0; b < mm_shape_nodes(s); b++)
            if (a != b)
                fz_put_u8(o, s->dist[a][b]);
}

enum mm_opcode {
    MM_OP_ALLOC,         /* cpu gfp order nid fail */
    MM_OP_ALLOC_TAGGED,  /* cpu gfp order nid fail tag */
    MM_OP_FREE,          /* cpu which: free live block @which */
    MM_OP_FREE_BAD,      /* kind(MM_BAD_*) cpu which arg */
    MM_OP_DRAIN_CPU,     /* cpu */
    MM_OP_DRAIN_ALL,     /* - */
    MM_OP_LATE_INIT,     /* - */
    MM_OP_PAGE_OWNER,    /* kind(MM_OWNER_*) which arg */
    MM_OP_VIEW,          /* which(MM_VIEW_*) len: 0 for the full text */
    MM_OP_QUERY,         /* which(MM_Q_*) sel arg */
    MM_OP_EARLY_ALLOC,   /* call nid size(64 B units) align goal(64 KiB) */
    MM_OP_EARLY_FREE,    /* kind(MM_EARLY_*) which arg */
    MM_OP_EARLY_RESERVE, /* kind(MM_EARLY_*, +MM_EARLY_EXCL) which arg */
    MM_OP_FINISH_BOOT,   /* - */
    MM_OP_FREE_LATE,     /* kind(MM_LATE_*) which arg */
    MM_OP_ALLOC_BURST,   /* cpu gfp order count: up to count+1 allocs */
    MM_OP_FREE_BURST,    /* cpu count stride */
    MM_OP_PAGE_WRITE,    /* kind(MM_PAGE_*) which page offset len byte */
    MM_OP_PAGE_READ,     /* kind(MM_PAGE_*) which page offset len */
    MM_NR_OPS
};

static const char *const mm_op_layout[MM_NR_OPS] = {
    [MM_OP_ALLOC] = "bbbbb",       [MM_OP_ALLOC_TAGGED] = "bbbbbl",
    [MM_OP_FREE] = "bw",           [MM_OP_FREE_BAD] = "bbww",
    [MM_OP_DRAIN_CPU] = "b",       [MM_OP_DRAIN_ALL] = "",
    [MM_OP_LATE_INIT] = "",        [MM_OP_PAGE_OWNER] = "bww",
    [MM_OP_VIEW] = "bw",           [MM_OP_QUERY] = "bbw",
    [MM_OP_EARLY_ALLOC] = "bbwbw", [MM_OP_EARLY_FREE] = "bww",
    [MM_OP_EARLY_RESERVE] = "bww", [MM_OP_FINISH_BOOT] = "",
    [MM_OP_FREE_LATE] = "bww",     [MM_OP_ALLOC_BURST] = "bbbb",
    [MM_OP_FREE_BURST] = "bbb",    [MM_OP_PAGE_WRITE] = "bwwwwb",
    [MM_OP_PAGE_READ] = "bwwww",
};

/* Selector values with a fixed meaning; others are taken modulo. */
#define MM_CPU_NONE   0xffu /* MMSIM_NO_CPU */
#define MM_CPU_BAD    0xfeu /* nr_cpus: one past the last */
#define MM_CPU_NEG    0xfdu /* -2 */
#define MM_NID_ANY    0xffu /* MMSIM_ANY_NODE */
#define MM_NID_BAD    0xfeu /* nr_nodes */
#define MM_NID_NEG    0xfdu /* -7 */
#define MM_ORDER_BIG  0xffu /* 31 */
#define MM_ORDER_MAX1 0xfeu /* max_order + 1 */

static inline int mm_sel_cpu(unsigned sel, unsigned nr_cpus)
{
    if (sel == MM_CPU_NONE)
        return MMSIM_NO_CPU;
    if (sel == MM_CPU_BAD)
        return (int)nr_cpus;
    if (sel == MM_CPU_NEG)
        return -2;
    return (int)(sel % nr_cpus);
}

static inline int mm_sel_nid(unsigned sel, unsigned nr_nodes)
{
    if (sel == MM_NID_ANY)
        return MMSIM_ANY_NODE;
    if (sel == MM_NID_BAD)
        return (int)nr_nodes;
    if (sel == MM_NID_NEG)
        return -7;
    return (int)(sel % nr_nodes);
}

static inline unsigned mm_sel_order(unsigned sel, unsigned max_order)
{
    if (sel == MM_ORDER_BIG)
        return 31;
    if (sel == MM_ORDER_MAX1)
        return max_order + 1;
    return sel % (max_order + 1);
}

/* GFP combinations: index = selector % count. Invalid ones at the end. */
static const mmsim_gfp_t mm_gfp_table[] = {
    MMSIM_GFP_KERNEL,
    MMSIM_GFP_ATOMIC,
    MMSIM_GFP_NOWAIT,
    MMSIM_GFP_HIGHUSER,
    MMSIM_GFP_HIGHUSER_MOVABLE,
    MMSIM_GFP_KERNEL | MMSIM_GFP_DMA,
    MMSIM_GFP_KERNEL | MMSIM_GFP_DMA32,
    MMSIM_GFP_KERNEL | MMSIM_GFP_MOVABLE,
    MMSIM_GFP_KERNEL | MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA32,
    MMSIM_GFP_KERNEL | MMSIM_GFP_MOVABLE | MMSIM_GFP_DMA,
    MMSIM_GFP_KERNEL | MMSIM_GFP_THISNODE,
    MMSIM_GFP_HIGHUSER_MOVABLE | MMSIM_GFP_THISNODE | MMSIM_GFP_NOWARN,
    MMSIM_GFP_KERNEL | MMSIM_GFP_NOFAIL,
    MMSIM_GFP_ATOMIC | MMSIM_GFP_NOFAIL | MMSIM_GFP_DMA,
    MMSIM_GFP_KERNEL | MMSIM_GFP_NOWARN | MMSIM_GFP_NORETRY,
    MMSIM_GFP_ATOMIC | MMSIM_GFP_NOMEMALLOC,
    MMSIM_GFP_HIGH,
    0,
    MMSIM_GFP_ZERO | MMSIM_GFP_KERNEL,
    MMSIM_GFP_NOWAIT | MMSIM_GFP_NOWARN | MMSIM_GFP_HIGHMEM,
    MMSIM_GFP_NOFAIL | MMSIM_GFP_THISNODE | MMSIM_GFP_HIGHUSER,
    MMSIM_GFP_ATOMIC | MMSIM_GFP_THISNODE | MMSIM_GFP_DMA32,
    /* Invalid: impossible zone modifiers, unknown bits. */
    MMSIM_GFP_DMA | MMSIM_GFP_HIGHMEM,
    MMSIM_GFP_DMA | MMSIM_GFP_DMA32 | MMSIM_GFP_KERNEL,
    MMSIM_GFP_HIGHMEM | MMSIM_GFP_DMA32,
    MMSIM_GFP_ZONEMASK,
    MMSIM_GFP_KERNEL | 0x10u,
    MMSIM_GFP_KERNEL | 0x4000u,
    0x80000000u,
};
#define MM_GFP_COUNT                (sizeof(mm_gfp_table) / sizeof(mm_gfp_table[0]))
#define MM_GFP_SEL_KERNEL           0
#define MM_GFP_SEL_ATOMIC           1
#define MM_GFP_SEL_HIGHUSER_MOVABLE 4
#define MM_GFP_SEL_DMA              5
#define MM_GFP_SEL_DMA32            6
#define MM_GFP_SEL_THISNODE         10
#define MM_GFP_SEL_NOFAIL           12
#define MM_GFP_SEL_BAD              22

/* MM_OP_FREE_BAD kinds. */
enum {
    MM_BAD_WRONG_ORDER,  /* a live head, another valid order: EORDER */
    MM_BAD_NOT_HEAD,     /* inside a live block: ENOTHEAD */
    MM_BAD_FREED,        /* a block freed earlier: EALREADY (or live) */
    MM_BAD_RESERVED,     /* a page of a described reserved range */
    MM_BAD_RAW_PFN,      /* pfn (which & 0xff) << 16 | arg: anything */
    MM_BAD_OUT_OF_RANGE, /* max_pfn + arg, or far beyond */
    MM_BAD_CPU,          /* a live head with a bad cpu: ECPU */
    MM_BAD_ORDER,        /* order past max_order: ERANGE */
    MM_NR_BAD
};

/* MM_OP_PAGE_OWNER kinds. */
enum {
    MM_OWNER_HEAD,
    MM_OWNER_INSIDE,
    MM_OWNER_FREED,
    MM_OWNER_RAW,
    MM_NR_OWNER
};

/* MM_OP_PAGE_* kinds: a page of live block @which, or pfn = page. */
enum { MM_PAGE_LIVE, MM_PAGE_RAW, MM_NR_PAGE };

/* MM_OP_VIEW which. */
enum {
    MM_VIEW_BUDDYINFO,
    MM_VIEW_ZONEINFO,
    MM_VIEW_VMSTAT,
    MM_VIEW_MEMBLOCK,
    MM_VIEW_RESERVED,
    MM_VIEW_BOOTLOG,
    MM_NR_VIEWS
};

/* MM_OP_QUERY which. */
enum {
    MM_Q_ZONE_INFO,
    MM_Q_ZONELIST,
    MM_Q_PFN_WHERE,
    MM_Q_VMSTAT,
    MM_Q_SHAPE,
    MM_Q_ERRNAMES,
    MM_NR_Q
};

/* MM_OP_EARLY_* and MM_OP_FREE_LATE kinds. */
#define MM_EARLY_EXCL 0x80u /* MM_OP_EARLY_RESERVE: exclusive */
enum {
    MM_EARLY_ALLOCATION, /* a live early allocation (which) */
    MM_EARLY_DESC_RSV,   /* a described reserved range (which) */
    MM_EARLY_RAW,        /* [which pages, +arg bytes) */
    MM_EARLY_INVALID,    /* size 0 or an address range that wraps */
    MM_NR_EARLY
};

/* ======================================================================
 * memblock_ops: one memblock against an interval model
 * ====================================================================== */

enum mb_opcode {
    MB_OP_ADD,          /* addr size */
    MB_OP_ADD_NODE,     /* addr size nid flags */
    MB_OP_REMOVE,       /* addr size */
    MB_OP_RESERVE,      /* addr size */
    MB_OP_RESERVE_KERN, /* addr size */
    MB_OP_FREE,         /* addr size */
    MB_OP_SET_NODE,     /* addr size nid */
    MB_OP_FLAG,         /* addr size which(MB_FLAG_*) */
    MB_OP_BOTTOM_UP,    /* on */
    MB_OP_SET_LIMIT,    /* addr */
    MB_OP_ALLOC,        /* variant size align start end nid exact */
    MB_OP_ALLOW_RESIZE, /* - */
    MB_OP_QUERY,        /* addr size */
    MB_OP_DEBUGFS,      /* type len */
    MB_OP_ITER,         /* nid */
    MB_OP_MANY,         /* what count addr stride(pages) size(bytes) */
    MB_NR_OPS
};

/* An address or size is (kind, value): see mb_addr() and mb_size(). */
static const char *const mb_op_layout[MB_NR_OPS] = {
    [MB_OP_ADD] = "bwbw",
    [MB_OP_ADD_NODE] = "bwbwbb",
    [MB_OP_REMOVE] = "bwbw",
    [MB_OP_RESERVE] = "bwbw",
    [MB_OP_RESERVE_KERN] = "bwbw",
    [MB_OP_FREE] = "bwbw",
    [MB_OP_SET_NODE] = "bwbwb",
    [MB_OP_FLAG] = "bwbwb",
    [MB_OP_BOTTOM_UP] = "b",
    [MB_OP_SET_LIMIT] = "bw",
    [MB_OP_ALLOC] = "bbwbbwbwbb",
    [MB_OP_ALLOW_RESIZE] = "",
    [MB_OP_QUERY] = "bwbw",
    [MB_OP_DEBUGFS] = "bw",
    [MB_OP_ITER] = "b",
    [MB_OP_MANY] = "bbbwbw",
};

/* Address kinds (kind % 4): */
#define MB_A_PAGE 0 /* v pages */
#define MB_A_BYTE 1 /* v pages + (kind >> 2) * 64 bytes */
#define MB_A_TOP  2 /* UINT64_MAX - v * 4 KiB (+1 if kind & 4) */
#define MB_A_MIB  3 /* v MiB */

static inline uint64_t mb_addr(unsigned kind, unsigned v)
{
    switch (kind % 4) {
    case MB_A_PAGE:
        return (uint64_t)v << 12;
    case MB_A_BYTE:
        return ((uint64_t)v << 12) + (kind >> 2) * 64;
    case MB_A_TOP:
        return UINT64_MAX - ((uint64_t)v << 12) + ((kind & 4) ? 1 : 0);
    default:
        return (uint64_t)v << 20;
    }
}

/* Size kinds (kind % 4): */
#define MB_S_PAGES 0 /* v pages */
#define MB_S_BYTES 1 /* v * 8 bytes */
#define MB_S_HUGE  2 /* UINT64_MAX - v: capped at the top of the space */
#define MB_S_MIB   3 /* v MiB */

static inline uint64_t mb_size(unsigned kind, unsigned v)
{
    switch (kind % 4) {
    case MB_S_PAGES:
        return (uint64_t)v << 12;
    case MB_S_BYTES:
        return (uint64_t)v * 8;
    case MB_S_HUGE:
        return UINT64_MAX - v;
    default:
        return (uint64_t)v << 20;
    }
}

/* Node selectors: % 6: 0..3 nodes, 4 NUMA_NO_NODE, 5 invalid. */
#define MB_NID_NONE 4
#define MB_NID_BAD  5

static inline int mb_sel_nid(unsigned sel)
{
    unsigned v = sel % 6;

    if (v == MB_NID_NONE)
        return MMSIM_NUMA_NO_NODE;
    if (v == MB_NID_BAD)
        return (sel & 0x80) ? MMSIM_MAX_NODES : -2;
    return (int)v;
}

/* Alignment selector (% 32): 0 default; 1..24 1 << (v - 1); else bad. */
static inline uint64_t mb_sel_align(unsigned sel)
{
    static const uint64_t bad[] = {3, 6, 12, 0x1800, 100, 4095, UINT64_MAX};
    unsigned v = sel % 32;

    if (v == 0)
        return 0;
    if (v <= 24)
        return UINT64_C(1) << (v - 1);
    return bad[v - 25];
}

/* MB_OP_FLAG which (% 6). */
enum {
    MB_FLAG_MARK_NOMAP,
    MB_FLAG_CLEAR_NOMAP,
    MB_FLAG_MARK_HOTPLUG,
    MB_FLAG_CLEAR_HOTPLUG,
    MB_FLAG_MARK_MIRROR,
    MB_FLAG_NOP_HOTPLUG,
    MB_NR_FLAG
};

/* MB_OP_ALLOC variant (% 4). */
enum {
    MB_ALLOC_RANGE_NID,
    MB_ALLOC_TRY_NID,
    MB_ALLOC_EXACT_NID,
    MB_ALLOC_PHYS_RANGE,
    MB_NR_ALLOC
};

/* End-address kinds for MB_OP_ALLOC (% 4): 0 and 1 are the specials. */
#define MB_END_ACCESSIBLE 0 /* MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE */
#define MB_END_NOLEAK     1 /* MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE */
#define MB_END_ANYWHERE   2 /* MMSIM_MEMBLOCK_ALLOC_ANYWHERE */
#define MB_END_ADDR       3 /* v pages */

static inline uint64_t mb_alloc_end(unsigned kind, unsigned v)
{
    switch (kind % 4) {
    case MB_END_ACCESSIBLE:
        return MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE;
    case MB_END_NOLEAK:
        return MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE;
    case MB_END_ANYWHERE:
        return MMSIM_MEMBLOCK_ALLOC_ANYWHERE;
    default:
        return (uint64_t)v << 12;
    }
}

/* MB_OP_MANY what (% 3). */
enum { MB_MANY_ADD, MB_MANY_RESERVE, MB_MANY_RESERVE_KERN, MB_NR_MANY };

/* Input header: flags byte, then hostfail_at word. */
#define MB_HDR_HOSTFAIL  0x01u /* fail host allocation hostfail_at */
#define MB_HDR_BOTTOM_UP 0x02u
#define MB_HDR_RESIZE    0x04u /* allow_resize from the start */

/* ======================================================================
 * bootmem_ops: one bootmem allocator against a page-bitmap model
 * ====================================================================== */

enum bm_opcode {
    BM_OP_INIT_NODE,     /* nid kind a b */
    BM_OP_FREE,          /* addr size */
    BM_OP_RESERVE,       /* addr size flags */
    BM_OP_ALLOC,         /* variant size align goal limit nid */
    BM_OP_FREE_ALL_NODE, /* nid max_order bad */
    BM_OP_FREE_ALL,      /* max_order bad */
    BM_OP_QUERY,         /* which sel arg */
    BM_NR_OPS
};

/*
 * An address is (kind, node, v): see bm_addr(); a size (kind, v): see
 * bm_size(). Alloc: variant, size(kind, v), align, goal(kind, node, v),
 * limit(kind, v), nid.
 */
static const char *const bm_op_layout[BM_NR_OPS] = {
    [BM_OP_INIT_NODE] = "bbww",    [BM_OP_FREE] = "bbwbw",
    [BM_OP_RESERVE] = "bbwbwb",    [BM_OP_ALLOC] = "bbwbbbwbwb",
    [BM_OP_FREE_ALL_NODE] = "bbb", [BM_OP_FREE_ALL] = "bb",
    [BM_OP_QUERY] = "bbw",
};

/* Node selectors (% 10): 0..7 nodes, 8 NUMA_NO_NODE, 9 invalid. */
#define BM_NODES    8
#define BM_NID_NONE 8
#define BM_NID_BAD  9

static inline int bm_sel_nid(unsigned sel)
{
    unsigned v = sel % 10;

    if (v == BM_NID_NONE)
        return MMSIM_NUMA_NO_NODE;
    if (v == BM_NID_BAD)
        return (sel & 0x80) ? MMSIM_MAX_NODES : -3;
    return (int)v;
}

/* BM_OP_INIT_NODE kinds (% 4): node page ranges. */
#define BM_INIT_LOW   0 /* [a * 16, +1 + b % 16384) */
#define BM_INIT_4G    1 /* [0x100000 - a, +1 + b % 65536): around 4 GiB */
#define BM_INIT_EMPTY 2 /* [a * 16, a * 16 - b % 2): empty or backwards */
#define BM_INIT_TOP   3 /* [(2^64 >> 12) - a, +b): past the last page */

#define BM_PFN_4G UINT64_C(0x100000)

/* Address kinds (kind % 4), relative to node @node's range. */
#define BM_A_NODE 0 /* node start + v * 256 */
#define BM_A_END  1 /* node end - v * 256 */
#define BM_A_ABS  2 /* v * 64 KiB */
#define BM_A_TOP  3 /* UINT64_MAX - v */

/* Size kinds (kind % 4). */
#define BM_S_SMALL 0 /* v * 256 bytes */
#define BM_S_PAGES 1 /* v pages */
#define BM_S_HUGE  2 /* UINT64_MAX - v */
#define BM_S_BYTES 3 /* v bytes */

static inline uint64_t bm_size(unsigned kind, unsigned v)
{
    switch (kind % 4) {
    case BM_S_SMALL:
        return (uint64_t)v * 256;
    case BM_S_PAGES:
        return (uint64_t)v << 12;
    case BM_S_HUGE:
        return UINT64_MAX - v;
    default:
        return v;
    }
}

/* Alignment selector (% 24): 0 default, 1..20 1 << (v - 1), else bad. */
static inline uint64_t bm_sel_align(unsigned sel)
{
    static const uint64_t bad[] = {3, 0x3000, 100};
    unsigned v = sel % 24;

    if (v == 0)
        return 0;
    if (v <= 20)
        return UINT64_C(1) << (v - 1);
    return bad[v - 21];
}

/* BM_OP_ALLOC variants (% 10). */
enum {
    BM_ALLOC,
    BM_ALLOC_NOPANIC,
    BM_ALLOC_LIMIT,
    BM_ALLOC_LIMIT_NOPANIC,
    BM_ALLOC_LOW,
    BM_ALLOC_LOW_NOPANIC,
    BM_ALLOC_NODE,
    BM_ALLOC_NODE_NOPANIC,
    BM_ALLOC_NODE_LIMIT,
    BM_ALLOC_NODE_HIGH,
    BM_NR_ALLOC
};

/* Limit kinds (% 4). */
#define BM_L_NONE 0 /* 0: none */
#define BM_L_PAGE 1 /* v pages */
#define BM_L_4G   2 /* 4 GiB - v pages */
#define BM_L_NODE 3 /* v * 64 KiB */

/* BM_OP_QUERY which (% 4). */
enum { BM_Q_PAGE, BM_Q_COUNTS, BM_Q_STATE, BM_Q_BITMAP_BYTES, BM_NR_Q };

/* Input header: flags, hostfail_at word, low limit sel, dma32 sel. */
#define BM_HDR_HOSTFAIL 0x01u

static const uint64_t bm_low_limits[4] = {UINT64_C(0xffffffff),
                                          (UINT64_C(32) << 20) - 1, UINT64_MAX,
                                          (UINT64_C(8) << 20) - 1};
static const uint64_t bm_dma32_pfns[4] = {BM_PFN_4G, 0, 0x2000, 0x100};

/* ======================================================================
 * vmalloc_ops: the vmalloc space against an area model
 * ====================================================================== */

/*
 * Input header: flags, mem, knobs, hostfail_at (word). The machine is
 * one or two nodes of 4..16 MiB from 1 MiB up; the HighMem model puts
 * highmem_start at 17 MiB (node 0 then has at least 20 MiB, and Normal
 * is 1 MiB).
 */
#define VO_HDR_TWO_NODES 0x01u
#define VO_HDR_HIGHMEM   0x02u
#define VO_HDR_METADATA  0x04u /* no page contents: vread is ENOCONTENT */
/* Fail host allocation 1 + hostfail_at % 256, counted from the end of boot. */
#define VO_HDR_HOSTFAIL 0x08u
/* flags bits 4-5: cpus - 1. */

static inline unsigned vo_node_mib(unsigned mem)
{
    return 4 + mem % 13;
}

enum vo_opcode {
    VO_OP_VMALLOC,     /* cpu size_kind size nid owner */
    VO_OP_VFREE,       /* cpu kind which off: kind 0 a live start, else an
                          address (VO_ADDR_*, kind - 1) */
    VO_OP_VREAD,       /* kind which off len */
    VO_OP_VWRITE,      /* kind which off len byte */
    VO_OP_FIND,        /* kind which off */
    VO_OP_TO_PFN,      /* kind which off */
    VO_OP_VFREE_OWNER, /* cpu owner */
    VO_OP_INFO,        /* - */
    VO_OP_VIEW,        /* owners len: 0 for the full text */
    VO_OP_PAGES,       /* what order count: plain pages, for pressure */
    VO_OP_FAIL_PAGE,   /* n: fail the (n % 64 + 1)-th page allocation */
    VO_OP_DRAIN,       /* - */
    VO_NR_OPS
};

static const char *const vo_op_layout[VO_NR_OPS] = {
    [VO_OP_VMALLOC] = "bbwbb",  [VO_OP_VFREE] = "bbwl",  [VO_OP_VREAD] = "bwlw",
    [VO_OP_VWRITE] = "bwlwb",   [VO_OP_FIND] = "bwl",    [VO_OP_TO_PFN] = "bwl",
    [VO_OP_VFREE_OWNER] = "bb", [VO_OP_INFO] = "",       [VO_OP_VIEW] = "bw",
    [VO_OP_PAGES] = "bbb",      [VO_OP_FAIL_PAGE] = "b", [VO_OP_DRAIN] = "",
};

/* Size kinds (% 8; 5..7 are VO_S_PAGES too, the common case). */
#define VO_S_PAGES 0 /* 1 + v % 32 pages */
#define VO_S_BYTES 1 /* v bytes (0: EINVAL) */
#define VO_S_BIG   2 /* 1 + v % 8192 pages: up to 32 MiB */
#define VO_S_LIMIT 3 /* MMSIM_VMALLOC_MAX_PAGES pages - 1 + v % 3 bytes */
#define VO_S_HUGE  4 /* UINT64_MAX - v */

/* Owners (% 4): two small ids, one only a high bit apart from the
 * first (the page tag keeps the low 32 bits), and the largest. */
static const uint64_t vo_owners[4] = {1, 2, (UINT64_C(1) << 32) | 1,
                                      UINT64_MAX};

/* Address kinds (% 5), for access, find and vfree. */
enum {
    VO_ADDR_LIVE,  /* live area @which, start + off % its size */
    VO_ADDR_EDGE,  /* live area @which, its last page or its guard */
    VO_ADDR_FREED, /* a recently freed area's start + off % 4 KiB */
    VO_ADDR_RAW,   /* VMALLOC_START + which pages + off % 4 KiB */
    VO_ADDR_FAR,   /* (off << 32 | which): mostly outside the space */
    VO_NR_ADDR
};

/* VO_OP_PAGES what (% 2). */
enum { VO_PAGES_ALLOC, VO_PAGES_FREE };

/* Selectors with a fixed meaning; others are taken modulo. */
#define VO_CPU_NONE 0xffu /* MMSIM_NO_CPU */
#define VO_CPU_BAD  0xfeu /* nr_cpus */
#define VO_NID_ANY  0xffu /* MMSIM_ANY_NODE */
#define VO_NID_BAD  0xfeu /* nr_nodes */

/* ======================================================================
 * config: options and YAML
 * ====================================================================== */

/*
 * A config input is text in sections separated by lines that are exactly
 * "%%": option lines ("name value", "name=value", or a bare "name" for no
 * value), then YAML, then option lines again, and so on, applied in
 * order. Option names go to mmsim_config_option() as they are, except
 * "config" (it reads files), which is skipped.
 */
#define CFG_SEPARATOR "%%"

#endif /* MMSIM_FUZZ_OPS_H */
