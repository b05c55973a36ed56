/*
 * bootmem.c - the legacy bootmem bitmap allocator (Linux mm/bootmem.c,
 * removed in 4.20), as an instance with no globals.
 *
 * DOC: bootmem implementation
 *
 * struct mmsim_bootmem embeds one struct bootmem_data per possible node,
 * indexed by nid, plus bdata_list: the nids of the nodes set up so far in
 * ascending node_min_pfn order, the order every "any node" walk uses (the
 * kernel's link_bootmem()). A node's bitmap has one bit per page, set =
 * reserved, in 64-bit words.
 *
 * Invariant: bits past the node's last page in the bitmap's last word are
 * always set. init_node sets them and nothing ever clears a bit outside
 * the node, so word scans never see a phantom free page and the free
 * count is a plain popcount.
 *
 * There are no page contents, only addresses: where the kernel returned
 * zeroed memory we return the simulated physical address. Where the
 * kernel would BUG() on bad input we return a code and change nothing.
 *
 * Called by the machine's boot sequence (memblock -> bootmem -> buddy)
 * and by tests. Single-threaded; see mmsim/bootmem.h.
 */
#include "mmsim/bootmem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hostmem.h"

#define BITS_PER_WORD 64
#define WORD_ALL      (~UINT64_C(0))

/* SMP_CACHE_BYTES on x86-64: what an alignment of 0 stands for. */
#define BOOTMEM_DEFAULT_ALIGN 64

/*
 * One past the last pfn a node may cover: every byte address inside a
 * node, and one past its end, must fit in 64 bits.
 */
#define BOOTMEM_MAX_PFN (UINT64_MAX >> MMSIM_PAGE_SHIFT)

/*
 * __alloc_bootmem_node_high() only tried above MAX_DMA32_PFN when the node
 * reached more than 128 MiB past it; below that the DMA32 zone is what
 * the node mostly is, and pushing allocations up would fragment little.
 */
#define NODE_HIGH_MIN_PAGES (UINT64_C(128) << (20 - MMSIM_PAGE_SHIFT))

struct bootmem_data {
    uint64_t node_min_pfn; /* first pfn covered */
    uint64_t node_low_pfn; /* one past the last pfn covered */
    /*
     * Bit i set: pfn node_min_pfn + i is reserved. NULL when the node
     * was never set up or is retired, which is how every path tells a
     * live node.
     */
    uint64_t *map;
    /*
     * Page index (from node_min_pfn) where the next search starts: the
     * end of the last allocation, pulled back by any free below it.
     */
    uint64_t hint_idx;
    /*
     * Byte offset (from PFN_PHYS(node_min_pfn)) one past the last
     * allocation. Not page aligned means that allocation's last page has
     * room left, which the next one may pack into.
     */
    uint64_t last_end_off;
    bool present; /* init_node succeeded */
    bool retired; /* pages handed off by free_all_node */
};

struct mmsim_bootmem {
    /*
     * A copy of the caller's hook (all NULL for the C library): the
     * struct itself is freed through it, and a copy cannot dangle.
     */
    struct mmsim_allocator alloc;
    uint64_t low_limit;        /* ARCH_LOW_ADDRESS_LIMIT, bytes, inclusive */
    uint64_t dma32_end_pfn;    /* MAX_DMA32_PFN; 0: no DMA32 zone */
    int nr_nodes;              /* entries used in list[] */
    int list[MMSIM_MAX_NODES]; /* bdata_list: nids by node_min_pfn */
    struct bootmem_data node[MMSIM_MAX_NODES];
};

/* Bitmap helpers: word at a time, so a 16M-page node scans 256K words. */

static uint64_t map_words(uint64_t nbits)
{
    return nbits / BITS_PER_WORD + (nbits % BITS_PER_WORD != 0);
}

/*
 * First index in [start, nbits) whose bit equals @set, or nbits. Both
 * find_next_zero_bit() and find_next_bit() in one: @flip turns the bits
 * we look for into ones.
 */
static uint64_t find_next(const uint64_t *map, uint64_t nbits, uint64_t start,
                          bool set)
{
    uint64_t flip = set ? 0 : WORD_ALL;
    uint64_t w, last, word;

    if (start >= nbits)
        return nbits;
    w = start / BITS_PER_WORD;
    last = (nbits - 1) / BITS_PER_WORD;
    word = (map[w] ^ flip) & (WORD_ALL << (start % BITS_PER_WORD));
    while (!word) {
        if (++w > last)
            return nbits;
        word = map[w] ^ flip;
    }
    start = w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(word);
    /* A match in the last word may lie past nbits (the caller's bound). */
    return start < nbits ? start : nbits;
}

static uint64_t find_next_zero(const uint64_t *map, uint64_t nbits,
                               uint64_t start)
{
    return find_next(map, nbits, start, false);
}

static uint64_t find_next_set(const uint64_t *map, uint64_t nbits,
                              uint64_t start)
{
    return find_next(map, nbits, start, true);
}

/* Set or clear bits [s, e): masked edge words, whole words between. */
static void fill_range(uint64_t *map, uint64_t s, uint64_t e, bool set)
{
    uint64_t ws, we, ms, me, w;

    if (s >= e)
        return;
    ws = s / BITS_PER_WORD;
    we = (e - 1) / BITS_PER_WORD;
    ms = WORD_ALL << (s % BITS_PER_WORD);
    me = WORD_ALL >> (BITS_PER_WORD - 1 - (e - 1) % BITS_PER_WORD);
    if (ws == we)
        ms &= me;
    if (set)
        map[ws] |= ms;
    else
        map[ws] &= ~ms;
    if (ws == we)
        return;
    for (w = ws + 1; w < we; w++)
        map[w] = set ? WORD_ALL : 0;
    if (set)
        map[we] |= me;
    else
        map[we] &= ~me;
}

/* Clear bits in a node's map; the tail invariant keeps the tail out. */
static uint64_t count_clear(const uint64_t *map, uint64_t nbits)
{
    uint64_t w, n = map_words(nbits), count = 0;

    for (w = 0; w < n; w++)
        count += (uint64_t)__builtin_popcountll(~map[w]);
    return count;
}

/* Arithmetic helpers. */

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* PFN_UP() that cannot wrap for addresses in the last page of 2^64. */
static uint64_t pfn_up(uint64_t addr)
{
    return MMSIM_PFN_DOWN(addr) + ((addr & (MMSIM_PAGE_SIZE - 1)) != 0);
}

/*
 * ALIGN(@x, @a) for a power of two @a, saturating at UINT64_MAX instead
 * of wrapping: every caller compares the result against a node bound, and
 * UINT64_MAX is past all of them.
 */
static uint64_t align_up_sat(uint64_t x, uint64_t a)
{
    if (x > UINT64_MAX - (a - 1))
        return UINT64_MAX;
    return (x + a - 1) & ~(a - 1);
}

/*
 * align_idx(): round a node-relative page index up so that the absolute
 * pfn, not the index, is a multiple of @step. UINT64_MAX when out of
 * range.
 */
static uint64_t align_idx(const struct bootmem_data *bd, uint64_t idx,
                          uint64_t step)
{
    uint64_t base = bd->node_min_pfn, v;

    if (idx > UINT64_MAX - base)
        return UINT64_MAX;
    v = align_up_sat(base + idx, step);
    return v == UINT64_MAX ? UINT64_MAX : v - base;
}

/* align_off(): align_idx() for node-relative byte offsets. */
static uint64_t align_off(const struct bootmem_data *bd, uint64_t off,
                          uint64_t align)
{
    uint64_t base = MMSIM_PFN_PHYS(bd->node_min_pfn), v;

    if (off > UINT64_MAX - base)
        return UINT64_MAX;
    v = align_up_sat(base + off, align);
    return v == UINT64_MAX ? UINT64_MAX : v - base;
}

static uint64_t node_pages(const struct bootmem_data *bd)
{
    return bd->node_low_pfn - bd->node_min_pfn;
}

static bool nid_valid(int nid)
{
    return nid >= 0 && nid < MMSIM_MAX_NODES;
}

/* Setup and teardown. */

int mmsim_bootmem_create(const struct mmsim_allocator *alloc,
                         uint64_t low_limit, uint64_t dma32_end_pfn,
                         struct mmsim_bootmem **out)
{
    struct mmsim_bootmem *bm;

    bm = host_calloc(alloc, 1, sizeof(*bm));
    if (!bm)
        return MMSIM_EHOSTMEM;
    if (alloc)
        bm->alloc = *alloc;
    bm->low_limit = low_limit;
    bm->dma32_end_pfn = dma32_end_pfn;
    *out = bm;
    return 0;
}

void mmsim_bootmem_destroy(struct mmsim_bootmem *bm)
{
    struct mmsim_allocator a;
    int nid;

    if (!bm)
        return;
    /* The hook lives inside @bm: keep a copy to free @bm itself with. */
    a = bm->alloc;
    for (nid = 0; nid < MMSIM_MAX_NODES; nid++)
        host_free(&a, bm->node[nid].map);
    host_free(&a, bm);
}

uint64_t mmsim_bootmem_bitmap_bytes(uint64_t pages)
{
    /* DIV_ROUND_UP(pages, 8) rounded to whole 8-byte longs, as x86-64. */
    return map_words(pages) * sizeof(uint64_t);
}

/* link_bootmem(): insert @nid into bdata_list, keeping start pfn order. */
static void link_bootmem(struct mmsim_bootmem *bm, int nid)
{
    uint64_t min = bm->node[nid].node_min_pfn;
    int i = bm->nr_nodes;

    while (i > 0 && bm->node[bm->list[i - 1]].node_min_pfn > min) {
        bm->list[i] = bm->list[i - 1];
        i--;
    }
    bm->list[i] = nid;
    bm->nr_nodes++;
}

int mmsim_bootmem_init_node(struct mmsim_bootmem *bm, int nid,
                            uint64_t start_pfn, uint64_t end_pfn)
{
    struct bootmem_data *bd;
    uint64_t words;
    uint64_t *map;
    int i;

    if (!nid_valid(nid) || start_pfn >= end_pfn)
        return MMSIM_EINVAL;
    if (end_pfn > BOOTMEM_MAX_PFN)
        return MMSIM_EOVERFLOW;
    bd = &bm->node[nid];
    if (bd->present)
        return MMSIM_EINVAL;
    for (i = 0; i < bm->nr_nodes; i++) {
        const struct bootmem_data *o = &bm->node[bm->list[i]];

        if (start_pfn < o->node_low_pfn && o->node_min_pfn < end_pfn)
            return MMSIM_EINVAL;
    }

    words = map_words(end_pfn - start_pfn);
    /* Only reachable on 32-bit hosts; the host cannot hold such a map. */
    if (words > SIZE_MAX / sizeof(uint64_t))
        return MMSIM_EHOSTMEM;
    map = host_malloc(&bm->alloc, (size_t)words * sizeof(uint64_t));
    if (!map)
        return MMSIM_EHOSTMEM;

    /*
     * Initially all pages are reserved: the caller frees the RAM it
     * knows about. This also sets the tail bits past the node for good.
     */
    memset(map, 0xff, (size_t)words * sizeof(uint64_t));
    bd->map = map;
    bd->node_min_pfn = start_pfn;
    bd->node_low_pfn = end_pfn;
    bd->hint_idx = 0;
    bd->last_end_off = 0;
    bd->present = true;
    bd->retired = false;
    link_bootmem(bm, nid);
    return 0;
}

/* Marking ranges: free_bootmem() and reserve_bootmem(). */

/*
 * mark_bootmem(): free or reserve pfns [start, end), which may span
 * nodes. The kernel walked the nodes marking as it went, BUG()ed on a
 * hole or on freeing a free page, and undid an exclusive reserve by
 * freeing what it had set (pulling hint_idx back as a side effect). We
 * check every node's part first and only then mark, so every error
 * leaves all bitmaps and hints exactly as they were.
 */
static int mark_bootmem(struct mmsim_bootmem *bm, uint64_t start, uint64_t end,
                        bool reserve, unsigned flags)
{
    struct bootmem_data *bd;
    uint64_t pos, sidx, eidx;
    int first, i, pass;

    for (first = 0; first < bm->nr_nodes; first++) {
        bd = &bm->node[bm->list[first]];
        if (start >= bd->node_min_pfn && start < bd->node_low_pfn)
            break;
    }
    if (first == bm->nr_nodes)
        return MMSIM_EFAULT;

    /* Pass 0 checks, pass 1 marks; pass 1 cannot fail. */
    for (pass = 0; pass < 2; pass++) {
        for (i = first, pos = start; pos < end; i++) {
            if (i == bm->nr_nodes)
                return MMSIM_EFAULT;
            bd = &bm->node[bm->list[i]];
            /* Sorted and disjoint: the next node must start at @pos. */
            if (pos < bd->node_min_pfn || pos >= bd->node_low_pfn)
                return MMSIM_EFAULT;
            if (bd->retired)
                return MMSIM_EPERM;
            sidx = pos - bd->node_min_pfn;
            eidx = (end < bd->node_low_pfn ? end : bd->node_low_pfn) -
                   bd->node_min_pfn;
            pos = bd->node_min_pfn + eidx;

            if (pass == 0) {
                if (!reserve && find_next_zero(bd->map, eidx, sidx) < eidx)
                    return MMSIM_EALREADY;
                if (reserve && (flags & MMSIM_BOOTMEM_EXCLUSIVE) &&
                    find_next_set(bd->map, eidx, sidx) < eidx)
                    return MMSIM_EBUSY;
                continue;
            }
            fill_range(bd->map, sidx, eidx, reserve);
            /* __free(): let the next search see the pages just freed. */
            if (!reserve && bd->hint_idx > sidx)
                bd->hint_idx = sidx;
        }
    }
    return 0;
}

int mmsim_bootmem_free(struct mmsim_bootmem *bm, uint64_t addr, uint64_t size)
{
    uint64_t start, end;

    if (size > UINT64_MAX - addr)
        return MMSIM_EOVERFLOW;
    /* Only whole pages: a partial page may still hold someone's data. */
    start = pfn_up(addr);
    end = MMSIM_PFN_DOWN(addr + size);
    if (start >= end)
        return 0;
    return mark_bootmem(bm, start, end, false, 0);
}

int mmsim_bootmem_reserve(struct mmsim_bootmem *bm, uint64_t addr,
                          uint64_t size, unsigned flags)
{
    uint64_t start, end;

    if (flags & ~MMSIM_BOOTMEM_EXCLUSIVE)
        return MMSIM_EINVAL;
    if (size > UINT64_MAX - addr)
        return MMSIM_EOVERFLOW;
    if (size == 0)
        return 0;
    /* Every page the range touches: a partial page is in use too. */
    start = MMSIM_PFN_DOWN(addr);
    end = pfn_up(addr + size);
    return mark_bootmem(bm, start, end, true, flags);
}

/* Allocation. */

/*
 * alloc_bootmem_bdata(): first fit in one node.
 *
 * The search starts at the goal (if inside the node) or the node start,
 * aligned; but if hint_idx lies beyond that, it starts at the hint and
 * falls back to the original start once. So a goal below the end of the
 * previous allocation is ignored on the first pass, as in the kernel.
 *
 * A candidate run of PFN_UP(size) clear pages at an aligned index is
 * taken; if the previous allocation ended partway into the page just
 * before it, the new one starts right there (aligned by bytes) and only
 * the pages beyond that shared page are reserved. A small allocation may
 * thus fit entirely in the shared page and reserve nothing, although a
 * whole free run was needed to get there.
 *
 * Return: 0 with *@addr set, MMSIM_ENOMEM (nothing fits, node not live),
 * MMSIM_ECORRUPT (the run vanished under us: the kernel's BUG()).
 */
static int alloc_bdata(struct bootmem_data *bd, uint64_t size, uint64_t align,
                       uint64_t goal, uint64_t limit, uint64_t *addr)
{
    uint64_t min, max, start, sidx, midx, eidx, step, pages, i;
    uint64_t fallback = 0, start_off, end_off, rs, re;
    bool merge;

    if (!bd->map)
        return MMSIM_ENOMEM;

    min = bd->node_min_pfn;
    max = bd->node_low_pfn;
    goal >>= MMSIM_PAGE_SHIFT;
    limit >>= MMSIM_PAGE_SHIFT;
    if (limit && max > limit)
        max = limit;
    if (max <= min)
        return MMSIM_ENOMEM;

    step = align >> MMSIM_PAGE_SHIFT;
    if (!step)
        step = 1;
    if (goal && min < goal && goal < max)
        start = align_up_sat(goal, step);
    else
        start = align_up_sat(min, step);
    /* Nothing aligned fits below @max, hint or not. */
    if (start >= max)
        return MMSIM_ENOMEM;

    sidx = start - min;
    midx = max - min;
    pages = pfn_up(size);

    if (bd->hint_idx > sidx) {
        /* +1 so that a start of index 0 still reads as "fall back". */
        fallback = sidx + 1;
        sidx = align_idx(bd, bd->hint_idx, step);
    }

    for (;;) {
        sidx = find_next_zero(bd->map, midx, sidx);
        sidx = align_idx(bd, sidx, step);
        if (sidx >= midx || midx - sidx < pages) {
            if (!fallback)
                return MMSIM_ENOMEM;
            sidx = align_idx(bd, fallback - 1, step);
            fallback = 0;
            continue;
        }
        eidx = sidx + pages;
        i = find_next_set(bd->map, eidx, sidx);
        if (i < eidx) {
            /* Resume past the reserved page, at the next aligned index. */
            sidx = align_idx(bd, i, step);
            if (sidx == i)
                sidx += step;
            continue;
        }
        break;
    }

    if ((bd->last_end_off & (MMSIM_PAGE_SIZE - 1)) &&
        MMSIM_PFN_DOWN(bd->last_end_off) + 1 == sidx)
        start_off = align_off(bd, bd->last_end_off, align);
    else
        start_off = MMSIM_PFN_PHYS(sidx);

    /*
     * With align >= PAGE_SIZE the aligned offset is PFN_PHYS(sidx) itself
     * (sidx is aligned), so only sub-page alignments merge.
     */
    merge = MMSIM_PFN_DOWN(start_off) < sidx;
    end_off = start_off + size;
    rs = MMSIM_PFN_DOWN(start_off) + merge;
    re = pfn_up(end_off);
    if (start_off > MMSIM_PFN_PHYS(sidx) || re > eidx ||
        find_next_set(bd->map, re, rs) < re)
        return MMSIM_ECORRUPT;

    bd->last_end_off = end_off;
    bd->hint_idx = re;
    fill_range(bd->map, rs, re, true);
    *addr = MMSIM_PFN_PHYS(min) + start_off;
    return 0;
}

/* alloc_bootmem_core(): first node in start order that can satisfy it. */
static int alloc_core(struct mmsim_bootmem *bm, uint64_t size, uint64_t align,
                      uint64_t goal, uint64_t limit, uint64_t *addr)
{
    int i, err;

    for (i = 0; i < bm->nr_nodes; i++) {
        struct bootmem_data *bd = &bm->node[bm->list[i]];

        if (goal && bd->node_low_pfn <= MMSIM_PFN_DOWN(goal))
            continue;
        /* Sorted by start: no later node is below the limit either. */
        if (limit && bd->node_min_pfn >= MMSIM_PFN_DOWN(limit))
            break;
        err = alloc_bdata(bd, size, align, goal, limit, addr);
        if (err != MMSIM_ENOMEM)
            return err;
    }
    return MMSIM_ENOMEM;
}

/* ___alloc_bootmem_nopanic(): a goal is a wish, retry without it. */
static int alloc_nopanic(struct mmsim_bootmem *bm, uint64_t size,
                         uint64_t align, uint64_t goal, uint64_t limit,
                         uint64_t *addr)
{
    int err;

    for (;;) {
        err = alloc_core(bm, size, align, goal, limit, addr);
        if (err != MMSIM_ENOMEM || !goal)
            return err;
        goal = 0;
    }
}

/*
 * Checks shared by the whole family; also resolves align 0. The kernel
 * BUG()ed on size 0 and on a bad alignment; the overflow checks keep
 * PFN_UP(size) and goal + size meaningful.
 */
static int check_alloc_args(uint64_t size, uint64_t *align, uint64_t goal)
{
    if (!size)
        return MMSIM_EINVAL;
    if (!*align)
        *align = BOOTMEM_DEFAULT_ALIGN;
    else if (!is_pow2(*align))
        return MMSIM_EINVAL;
    if (size > UINT64_MAX - (MMSIM_PAGE_SIZE - 1) || goal > UINT64_MAX - size)
        return MMSIM_EOVERFLOW;
    return 0;
}

/*
 * Bootmem as a whole is over once every node is retired: calls then are
 * in the wrong boot phase rather than out of memory (the kernel sent them
 * to the slab allocator).
 */
static bool all_retired(const struct mmsim_bootmem *bm)
{
    int i;

    for (i = 0; i < bm->nr_nodes; i++)
        if (!bm->node[bm->list[i]].retired)
            return false;
    return bm->nr_nodes > 0;
}

static int panic_if(int err, bool nopanic)
{
    return err == MMSIM_ENOMEM && !nopanic ? MMSIM_EPANIC : err;
}

int mmsim_bootmem_alloc_limit(struct mmsim_bootmem *bm, uint64_t size,
                              uint64_t align, uint64_t goal, uint64_t limit,
                              bool nopanic, uint64_t *addr)
{
    int err;

    err = check_alloc_args(size, &align, goal);
    if (err)
        return err;
    /* alloc_bootmem_bdata() BUG_ON(limit && goal + size > limit). */
    if (limit && goal + size > limit)
        return MMSIM_EINVAL;
    if (all_retired(bm))
        return MMSIM_EPERM;
    err = alloc_nopanic(bm, size, align, goal, limit, addr);
    return panic_if(err, nopanic);
}

int mmsim_bootmem_alloc(struct mmsim_bootmem *bm, uint64_t size, uint64_t align,
                        uint64_t goal, uint64_t *addr)
{
    return mmsim_bootmem_alloc_limit(bm, size, align, goal, 0, false, addr);
}

int mmsim_bootmem_alloc_nopanic(struct mmsim_bootmem *bm, uint64_t size,
                                uint64_t align, uint64_t goal, uint64_t *addr)
{
    return mmsim_bootmem_alloc_limit(bm, size, align, goal, 0, true, addr);
}

int mmsim_bootmem_alloc_low(struct mmsim_bootmem *bm, uint64_t size,
                            uint64_t align, uint64_t goal, bool nopanic,
                            uint64_t *addr)
{
    /*
     * low_limit is the last usable byte; +1 makes it the exclusive bound
     * the allocator wants (and UINT64_MAX wraps to 0, "no limit").
     */
    return mmsim_bootmem_alloc_limit(bm, size, align, goal, bm->low_limit + 1,
                                     nopanic, addr);
}

/*
 * ___alloc_bootmem_node_nopanic(): the node, then any node, then both
 * again without the goal. A limit the goal already violates is dropped
 * (once, for good) rather than tripping alloc_bootmem_bdata()'s BUG_ON.
 */
static int alloc_node_nopanic(struct mmsim_bootmem *bm, int nid, uint64_t size,
                              uint64_t align, uint64_t goal, uint64_t limit,
                              uint64_t *addr)
{
    int err;

    for (;;) {
        if (limit && goal + size > limit)
            limit = 0;
        if (nid != MMSIM_NUMA_NO_NODE) {
            err = alloc_bdata(&bm->node[nid], size, align, goal, limit, addr);
            if (err != MMSIM_ENOMEM)
                return err;
        }
        err = alloc_core(bm, size, align, goal, limit, addr);
        if (err != MMSIM_ENOMEM || !goal)
            return err;
        goal = 0;
    }
}

/* Argument checks for the node variants; also resolves align 0. */
static int check_node_args(const struct mmsim_bootmem *bm, int nid,
                           uint64_t size, uint64_t *align, uint64_t goal)
{
    int err;

    err = check_alloc_args(size, align, goal);
    if (err)
        return err;
    if (nid != MMSIM_NUMA_NO_NODE && !nid_valid(nid))
        return MMSIM_EINVAL;
    if (nid != MMSIM_NUMA_NO_NODE && bm->node[nid].retired)
        return MMSIM_EPERM;
    if (all_retired(bm))
        return MMSIM_EPERM;
    return 0;
}

int mmsim_bootmem_alloc_node(struct mmsim_bootmem *bm, int nid, uint64_t size,
                             uint64_t align, uint64_t goal, uint64_t limit,
                             bool nopanic, uint64_t *addr)
{
    int err;

    err = check_node_args(bm, nid, size, &align, goal);
    if (err)
        return err;
    err = alloc_node_nopanic(bm, nid, size, align, goal, limit, addr);
    return panic_if(err, nopanic);
}

int mmsim_bootmem_alloc_node_high(struct mmsim_bootmem *bm, int nid,
                                  uint64_t size, uint64_t align, uint64_t goal,
                                  uint64_t *addr)
{
    const struct bootmem_data *bd;
    uint64_t dma32 = bm->dma32_end_pfn;
    int err;

    err = check_node_args(bm, nid, size, &align, goal);
    if (err)
        return err;
    if (nid == MMSIM_NUMA_NO_NODE)
        goto fallback;

    /*
     * Keep DMA32 for the devices that need it when the node has plenty
     * above it; subtraction, not dma32 + 128 MiB, so no bound can wrap.
     */
    bd = &bm->node[nid];
    if (bd->map && dma32 && bd->node_low_pfn > dma32 &&
        bd->node_low_pfn - dma32 > NODE_HIGH_MIN_PAGES &&
        MMSIM_PFN_DOWN(goal) < dma32) {
        err = alloc_bdata(&bm->node[nid], size, align, MMSIM_PFN_PHYS(dma32), 0,
                          addr);
        if (err != MMSIM_ENOMEM)
            return err;
    }
fallback:
    err = alloc_node_nopanic(bm, nid, size, align, goal, 0, addr);
    return panic_if(err, false);
}

/* Hand-off: free_all_bootmem_core(). */

/*
 * Release free pfns [pfn, end) as the largest blocks the buddy allocator
 * can take: each naturally aligned, no larger than 2^max_order, and no
 * longer than what is left of the run.
 */
static uint64_t release_run(uint64_t pfn, uint64_t end, unsigned max_order,
                            mmsim_bootmem_release_fn release, void *ctx)
{
    uint64_t count = 0;

    while (pfn < end) {
        unsigned order = max_order;
        uint64_t left = end - pfn;
        unsigned fit = 63 - (unsigned)__builtin_clzll(left);

        if (pfn) {
            unsigned tz = (unsigned)__builtin_ctzll(pfn);

            if (tz < order)
                order = tz;
        }
        if (fit < order)
            order = fit;
        release(ctx, pfn, order);
        pfn += UINT64_C(1) << order;
        count += UINT64_C(1) << order;
    }
    return count;
}

int64_t mmsim_bootmem_free_all_node(struct mmsim_bootmem *bm, int nid,
                                    unsigned max_order,
                                    mmsim_bootmem_release_fn release, void *ctx)
{
    struct bootmem_data *bd;
    uint64_t *map;
    uint64_t n, idx, s, e, count = 0;

    if (!nid_valid(nid) || !release || max_order > MMSIM_MAX_ORDER_CAP)
        return MMSIM_EINVAL;
    bd = &bm->node[nid];
    if (!bd->present)
        return MMSIM_ENODEV;
    if (bd->retired)
        return MMSIM_EPERM;

    /*
     * Retire before the first callback: from the buddy allocator's point
     * of view the pages are its own from now on, and a stray call back
     * into bootmem must get EPERM rather than a half-released node.
     */
    map = bd->map;
    n = node_pages(bd);
    bd->map = NULL;
    bd->retired = true;

    /* Run by run: both ends are found a word at a time. */
    for (idx = 0;; idx = e) {
        s = find_next_zero(map, n, idx);
        if (s >= n)
            break;
        e = find_next_set(map, n, s);
        count += release_run(bd->node_min_pfn + s, bd->node_min_pfn + e,
                             max_order, release, ctx);
    }
    host_free(&bm->alloc, map);
    return (int64_t)count;
}

int64_t mmsim_bootmem_free_all(struct mmsim_bootmem *bm, unsigned max_order,
                               mmsim_bootmem_release_fn release, void *ctx)
{
    int64_t total = 0, n;
    int i;

    if (!release || max_order > MMSIM_MAX_ORDER_CAP)
        return MMSIM_EINVAL;
    for (i = 0; i < bm->nr_nodes; i++) {
        int nid = bm->list[i];

        if (bm->node[nid].retired)
            continue;
        n = mmsim_bootmem_free_all_node(bm, nid, max_order, release, ctx);
        if (n < 0)
            return n;
        total += n;
    }
    return total;
}

/* Queries. */

bool mmsim_bootmem_has_node(const struct mmsim_bootmem *bm, int nid)
{
    return nid_valid(nid) && bm->node[nid].present;
}

bool mmsim_bootmem_node_retired(const struct mmsim_bootmem *bm, int nid)
{
    return nid_valid(nid) && bm->node[nid].retired;
}

bool mmsim_bootmem_page_reserved(const struct mmsim_bootmem *bm, uint64_t pfn)
{
    int i;

    for (i = 0; i < bm->nr_nodes; i++) {
        const struct bootmem_data *bd = &bm->node[bm->list[i]];
        uint64_t idx;

        if (pfn < bd->node_min_pfn || pfn >= bd->node_low_pfn)
            continue;
        if (!bd->map)
            return false;
        idx = pfn - bd->node_min_pfn;
        return (bd->map[idx / BITS_PER_WORD] >> (idx % BITS_PER_WORD)) & 1;
    }
    return false;
}

uint64_t mmsim_bootmem_free_pages(const struct mmsim_bootmem *bm, int nid)
{
    uint64_t count = 0;
    int i;

    if (nid != MMSIM_NUMA_NO_NODE) {
        if (!nid_valid(nid) || !bm->node[nid].map)
            return 0;
        return count_clear(bm->node[nid].map, node_pages(&bm->node[nid]));
    }
    for (i = 0; i < bm->nr_nodes; i++) {
        const struct bootmem_data *bd = &bm->node[bm->list[i]];

        if (bd->map)
            count += count_clear(bd->map, node_pages(bd));
    }
    return count;
}

int mmsim_bootmem_node_state(const struct mmsim_bootmem *bm, int nid,
                             uint64_t *min_pfn, uint64_t *low_pfn,
                             uint64_t *hint_idx, uint64_t *last_end_off)
{
    const struct bootmem_data *bd;

    if (!nid_valid(nid))
        return MMSIM_EINVAL;
    bd = &bm->node[nid];
    if (!bd->present)
        return MMSIM_ENODEV;
    if (min_pfn)
        *min_pfn = bd->node_min_pfn;
    if (low_pfn)
        *low_pfn = bd->node_low_pfn;
    if (hint_idx)
        *hint_idx = bd->hint_idx;
    if (last_end_off)
        *last_end_off = bd->last_end_off;
    return 0;
}
