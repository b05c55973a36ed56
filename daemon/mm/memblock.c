/*
 * memblock.c - the early physical memory allocator, one instance per
 * machine.
 *
 * DOC: implementation
 *
 * This follows Linux 6.18 mm/memblock.c step by step (no dummy entry in
 * empty arrays, windowed memblock_merge_regions(), allocations reserved as
 * MEMBLOCK_RSRV_KERN with their node, the debugfs view with node and
 * flag), with the globals moved into struct mmsim_memblock. Each
 * array ("memory", "reserved") is a host array of @max regions kept sorted,
 * disjoint and minimal: no two neighbours that touch share nid and flags.
 *
 * Growth is where we differ in shape, not in result. Before
 * mmsim_memblock_allow_resize() an array grows on the host heap only (the
 * kernel would fail: its static arrays are all it has then). After it,
 * double_array() does what memblock_double_array() does: find simulated
 * room for the doubled array, free the old array's range from "reserved"
 * and reserve the new one. The kernel BUG()s if that bookkeeping fails; we
 * instead promise that every failed call leaves the memblock as it was.
 * double_array() is itself all-or-nothing; on top of that, the two
 * callers that grow arrays after allow_resize (memblock_add_range(), which
 * may double twice in one call, and memblock_isolate_range()) first take a
 * snapshot of both arrays and put it back on failure. Growth is rare (log2
 * of the region count), so the copy costs nothing that matters.
 *
 * Who calls this: machine.c at boot (firmware map, reservations, early
 * allocations), page_alloc.c (freeing early allocations) and views.c (the
 * debugfs text). Nothing here is thread-safe; see mmsim/memblock.h.
 */
#include "mmsim/memblock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem.h"
#include "minmax.h"

/*
 * Invariant checks that no caller input can trip: only a bug in this file
 * can. They abort in debug builds and vanish otherwise.
 */
#if defined(MMSIM_DEBUG) && MMSIM_DEBUG >= 1
#define MB_BUG_ON(cond)                                                        \
    do {                                                                       \
        if (cond)                                                              \
            abort();                                                           \
    } while (0)
#else
#define MB_BUG_ON(cond) ((void)sizeof(cond))
#endif

/*
 * sizeof(struct memblock_region) in a 64-bit NUMA kernel (base, size,
 * flags, nid). The simulated bytes of a doubled array are counted with the
 * kernel's size, not the host's, so "reserved" looks as it would in Linux.
 */
#define MB_REGION_BYTES 24u

/* Arrays never grow past this: __next_mem_range() packs indexes in u32. */
#define MB_MAX_REGIONS (1u << 30)

#define MB_PHYS_ADDR_MAX UINT64_MAX

/* MEMBLOCK_NONE: plain regions, and searches that ask for nothing. */
#define MB_FLAGS_NONE 0u

struct mb_type {
    struct mmsim_memblock_region *regions; /* host array of @max entries */
    unsigned cnt;                          /* regions in use */
    unsigned max;                          /* capacity of @regions */
    uint64_t total_size;                   /* sum of region sizes */
    /*
     * Where the simulated copy of @regions lives when double_array() took
     * it from this memblock; array_bytes == 0 when it never did (the
     * initial arrays and heap-only growth), and then there is nothing to
     * free on the next doubling, like the kernel's static arrays.
     */
    uint64_t array_base;
    uint64_t array_bytes;
};

struct mmsim_memblock {
    const struct mmsim_allocator *alloc; /* borrowed */
    struct mb_type memory;
    struct mb_type reserved;
    uint64_t current_limit;
    bool bottom_up;
    bool can_resize;      /* memblock_can_resize */
    bool has_some_mirror; /* system_has_some_mirror */
};

/* A copy of both arrays, taken before an operation that may fail late. */
struct mb_snapshot {
    struct mb_type memory;
    struct mb_type reserved;
};

/* Free-range iteration state: __next_mem_range()'s idx_a and idx_b. */
struct mb_iter {
    long a; /* index into memory */
    long b; /* gap index into reserved: gap b lies before reserved[b] */
};

static int add_range(struct mmsim_memblock *mb, struct mb_type *t,
                     uint64_t base, uint64_t size, int nid, unsigned flags);
static int remove_range(struct mmsim_memblock *mb, struct mb_type *t,
                        uint64_t base, uint64_t size);

/* ---- small helpers ---------------------------------------------------- */

static uint64_t page_align(uint64_t x)
{
    return (x + MMSIM_PAGE_SIZE - 1) & ~(MMSIM_PAGE_SIZE - 1);
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* numa_valid_node(): a real node, as opposed to "none". */
static bool numa_valid_node(int nid)
{
    return nid >= 0 && nid < MMSIM_MAX_NODES;
}

/* What callers may pass as a node: a real one or NUMA_NO_NODE. */
static bool nid_acceptable(int nid)
{
    return nid == MMSIM_NUMA_NO_NODE || numa_valid_node(nid);
}

static uint64_t region_end(const struct mmsim_memblock_region *r)
{
    return r->base + r->size;
}

/* memblock_cap_size(): adjust *@size so that @base + *@size can't wrap. */
static uint64_t cap_size(uint64_t base, uint64_t *size)
{
    *size = min_u64(*size, MB_PHYS_ADDR_MAX - base);
    return *size;
}

static struct mb_type *type_of(struct mmsim_memblock *mb,
                               enum mmsim_memblock_type type)
{
    switch (type) {
    case MMSIM_MEMBLOCK_MEMORY:
        return &mb->memory;
    case MMSIM_MEMBLOCK_RESERVED:
        return &mb->reserved;
    }
    return NULL;
}

static const struct mb_type *ctype_of(const struct mmsim_memblock *mb,
                                      enum mmsim_memblock_type type)
{
    return type_of((struct mmsim_memblock *)mb, type);
}

/* ---- snapshots: undo for operations that can fail after a change ------ */

static int type_copy(const struct mmsim_allocator *a, struct mb_type *dst,
                     const struct mb_type *src)
{
    *dst = *src;
    dst->regions = host_malloc(a, (size_t)src->max * sizeof(*src->regions));
    if (!dst->regions)
        return MMSIM_EHOSTMEM;
    memcpy(dst->regions, src->regions, src->cnt * sizeof(*src->regions));
    return 0;
}

static int snapshot_take(struct mmsim_memblock *mb, struct mb_snapshot *s)
{
    if (type_copy(mb->alloc, &s->memory, &mb->memory))
        return MMSIM_EHOSTMEM;
    if (type_copy(mb->alloc, &s->reserved, &mb->reserved)) {
        host_free(mb->alloc, s->memory.regions);
        return MMSIM_EHOSTMEM;
    }
    return 0;
}

/* Put the arrays back as they were; the snapshot is consumed. */
static void snapshot_restore(struct mmsim_memblock *mb, struct mb_snapshot *s)
{
    host_free(mb->alloc, mb->memory.regions);
    host_free(mb->alloc, mb->reserved.regions);
    mb->memory = s->memory;
    mb->reserved = s->reserved;
}

static void snapshot_drop(struct mmsim_memblock *mb, struct mb_snapshot *s)
{
    host_free(mb->alloc, s->memory.regions);
    host_free(mb->alloc, s->reserved.regions);
}

/* ---- free-range iteration --------------------------------------------- */

/*
 * should_skip_region() for the memory array (the only one we iterate as
 * type_a). Hotpluggable memory is never skipped: the simulator has no
 * movable_node, so movable_node_is_enabled() is false.
 */
static bool should_skip_region(const struct mmsim_memblock_region *m, int nid,
                               unsigned flags)
{
    if (nid != MMSIM_NUMA_NO_NODE && nid != m->nid)
        return true;
    if ((flags & MMSIM_MEMBLOCK_MIRROR) && !(m->flags & MMSIM_MEMBLOCK_MIRROR))
        return true;
    if (!(flags & MMSIM_MEMBLOCK_NOMAP) && (m->flags & MMSIM_MEMBLOCK_NOMAP))
        return true;
    if (!(flags & MMSIM_MEMBLOCK_DRIVER_MANAGED) &&
        (m->flags & MMSIM_MEMBLOCK_DRIVER_MANAGED))
        return true;
    return false;
}

/* Gap @b of "reserved": [end of reserved[b-1], base of reserved[b]). */
static void reserved_gap(const struct mb_type *rsv, long b, uint64_t *start,
                         uint64_t *end)
{
    *start = b ? region_end(&rsv->regions[b - 1]) : 0;
    *end =
        (unsigned long)b < rsv->cnt ? rsv->regions[b].base : MB_PHYS_ADDR_MAX;
}

/*
 * __next_mem_range(memory, reserved): the next piece of memory not covered
 * by reserved, ascending. Both arrays are sorted, so the two indexes walk
 * in lockstep and each step yields one intersection of a memory region
 * with a gap between reservations; whichever of the two ends first is
 * advanced. Returns false when there is none left.
 */
static bool next_free(const struct mmsim_memblock *mb, struct mb_iter *it,
                      int nid, unsigned flags, uint64_t *out_start,
                      uint64_t *out_end, int *out_nid)
{
    const struct mb_type *mem = &mb->memory;
    const struct mb_type *rsv = &mb->reserved;

    for (; it->a < (long)mem->cnt; it->a++) {
        const struct mmsim_memblock_region *m = &mem->regions[it->a];
        uint64_t m_start = m->base;
        uint64_t m_end = region_end(m);

        if (should_skip_region(m, nid, flags))
            continue;

        for (; it->b < (long)rsv->cnt + 1; it->b++) {
            uint64_t r_start, r_end;

            reserved_gap(rsv, it->b, &r_start, &r_end);
            /* The gap is past this memory region: next region. */
            if (r_start >= m_end)
                break;
            if (m_start < r_end) {
                *out_start = max_u64(m_start, r_start);
                *out_end = min_u64(m_end, r_end);
                *out_nid = m->nid;
                if (m_end <= r_end)
                    it->a++;
                else
                    it->b++;
                return true;
            }
        }
    }
    return false;
}

static void next_free_rev_init(const struct mmsim_memblock *mb,
                               struct mb_iter *it)
{
    it->a = (long)mb->memory.cnt - 1;
    it->b = (long)mb->reserved.cnt;
}

/* __next_mem_range_rev(): the same walk, descending. */
static bool next_free_rev(const struct mmsim_memblock *mb, struct mb_iter *it,
                          int nid, unsigned flags, uint64_t *out_start,
                          uint64_t *out_end, int *out_nid)
{
    const struct mb_type *mem = &mb->memory;
    const struct mb_type *rsv = &mb->reserved;

    for (; it->a >= 0; it->a--) {
        const struct mmsim_memblock_region *m = &mem->regions[it->a];
        uint64_t m_start = m->base;
        uint64_t m_end = region_end(m);

        if (should_skip_region(m, nid, flags))
            continue;

        for (; it->b >= 0; it->b--) {
            uint64_t r_start, r_end;

            reserved_gap(rsv, it->b, &r_start, &r_end);
            /* The gap is below this memory region: previous region. */
            if (r_end <= m_start)
                break;
            if (m_end > r_start) {
                *out_start = max_u64(m_start, r_start);
                *out_end = min_u64(m_end, r_end);
                *out_nid = m->nid;
                if (m_start >= r_start)
                    it->a--;
                else
                    it->b--;
                return true;
            }
        }
    }
    return false;
}

/* ---- finding free ranges ---------------------------------------------- */

/*
 * __memblock_find_range_bottom_up(): the lowest aligned fit in
 * [start, end). 0 means none: no search can return 0, since
 * find_in_range_node() never starts below PAGE_SIZE.
 */
static uint64_t find_range_bottom_up(const struct mmsim_memblock *mb,
                                     uint64_t start, uint64_t end,
                                     uint64_t size, uint64_t align, int nid,
                                     unsigned flags)
{
    struct mb_iter it = {0, 0};
    uint64_t this_start, this_end, cand;
    int rnid;

    while (next_free(mb, &it, nid, flags, &this_start, &this_end, &rnid)) {
        this_start = clamp_u64(this_start, start, end);
        this_end = clamp_u64(this_end, start, end);

        /* round_up() would wrap at the very top: nothing fits there. */
        if (this_start > MB_PHYS_ADDR_MAX - (align - 1))
            continue;
        cand = (this_start + align - 1) & ~(align - 1);
        if (cand < this_end && this_end - cand >= size)
            return cand;
    }
    return 0;
}

/* __memblock_find_range_top_down(): the highest aligned fit. */
static uint64_t find_range_top_down(const struct mmsim_memblock *mb,
                                    uint64_t start, uint64_t end, uint64_t size,
                                    uint64_t align, int nid, unsigned flags)
{
    struct mb_iter it;
    uint64_t this_start, this_end, cand;
    int rnid;

    next_free_rev_init(mb, &it);
    while (next_free_rev(mb, &it, nid, flags, &this_start, &this_end, &rnid)) {
        this_start = clamp_u64(this_start, start, end);
        this_end = clamp_u64(this_end, start, end);

        if (this_end < size)
            continue;
        cand = (this_end - size) & ~(align - 1);
        if (cand >= this_start)
            return cand;
    }
    return 0;
}

/* memblock_find_in_range_node(). */
static uint64_t find_in_range_node(const struct mmsim_memblock *mb,
                                   uint64_t size, uint64_t align,
                                   uint64_t start, uint64_t end, int nid,
                                   unsigned flags)
{
    if (end == MMSIM_MEMBLOCK_ALLOC_ACCESSIBLE ||
        end == MMSIM_MEMBLOCK_ALLOC_NOLEAKTRACE)
        end = mb->current_limit;

    /* Never hand out the first page: 0 is the "not found" value. */
    start = max_u64(start, MMSIM_PAGE_SIZE);
    end = max_u64(start, end);

    if (mb->bottom_up)
        return find_range_bottom_up(mb, start, end, size, align, nid, flags);
    return find_range_top_down(mb, start, end, size, align, nid, flags);
}

static unsigned choose_flags(const struct mmsim_memblock *mb)
{
    return mb->has_some_mirror ? MMSIM_MEMBLOCK_MIRROR : MB_FLAGS_NONE;
}

/* memblock_find_in_range(): any node, mirrored memory first if any. */
static uint64_t find_in_range(const struct mmsim_memblock *mb, uint64_t start,
                              uint64_t end, uint64_t size, uint64_t align)
{
    unsigned flags = choose_flags(mb);
    uint64_t ret;

    ret = find_in_range_node(mb, size, align, start, end, MMSIM_NUMA_NO_NODE,
                             flags);
    if (!ret && (flags & MMSIM_MEMBLOCK_MIRROR))
        ret =
            find_in_range_node(mb, size, align, start, end, MMSIM_NUMA_NO_NODE,
                               flags & ~MMSIM_MEMBLOCK_MIRROR);
    return ret;
}

/* ---- array growth ----------------------------------------------------- */

/*
 * Before allow_resize: grow on the host heap straight to the first
 * doubling that holds @needed entries. One allocation, so it either
 * happens or not; the result (max doubled k times) is what k doublings
 * would give.
 */
static int grow_on_host(struct mmsim_memblock *mb, struct mb_type *t,
                        unsigned long needed)
{
    struct mmsim_memblock_region *n;
    unsigned new_max = t->max;

    while (new_max < needed) {
        if (new_max >= MB_MAX_REGIONS)
            return MMSIM_ENOMEM;
        new_max *= 2;
    }
    n = host_malloc(mb->alloc, (size_t)new_max * sizeof(*n));
    if (!n)
        return MMSIM_EHOSTMEM;
    memcpy(n, t->regions, t->cnt * sizeof(*n));
    host_free(mb->alloc, t->regions);
    t->regions = n;
    t->max = new_max;
    return 0;
}

/*
 * memblock_double_array(), after allow_resize. The doubled array's
 * simulated bytes come from this memblock (page-aligned, so they can be
 * freed whole later); when doubling "reserved" on behalf of a range that
 * is about to be added (@area_start, @area_size), that range is avoided.
 *
 * All-or-nothing: everything that can fail (the search, the host array,
 * room in "reserved" for the bookkeeping) happens before the first change.
 * When doubling "memory", the kernel frees the old array and reserves the
 * new one, growing "reserved" on the way if needed; at that point the new
 * memory array is not yet reserved and a doubled reserved array could be
 * placed on top of it. We grow "reserved" first, avoiding the new memory
 * array, which gives the kernel's layout whenever the kernel's is sound.
 */
static int double_array(struct mmsim_memblock *mb, struct mb_type *t,
                        uint64_t area_start, uint64_t area_size)
{
    struct mmsim_memblock_region *n;
    uint64_t new_alloc, addr, old_base, old_bytes;
    unsigned new_max;
    int ret;

    if (t->max >= MB_MAX_REGIONS)
        return MMSIM_ENOMEM;
    new_max = t->max * 2;
    new_alloc = page_align((uint64_t)new_max * MB_REGION_BYTES);

    /* Only a range waiting to be reserved needs avoiding. */
    if (t != &mb->reserved)
        area_start = area_size = 0;

    addr = find_in_range(mb, area_start + area_size, mb->current_limit,
                         new_alloc, MMSIM_PAGE_SIZE);
    if (!addr && area_size)
        addr = find_in_range(mb, 0, min_u64(area_start, mb->current_limit),
                             new_alloc, MMSIM_PAGE_SIZE);
    if (!addr)
        return MMSIM_ENOMEM;

    n = host_malloc(mb->alloc, (size_t)new_max * sizeof(*n));
    if (!n)
        return MMSIM_EHOSTMEM;

    if (t == &mb->memory) {
        /* Freeing the old array may split a region; reserving adds one. */
        unsigned room = mb->memory.array_bytes ? 2 : 1;

        if (mb->reserved.cnt + room > mb->reserved.max) {
            ret = double_array(mb, &mb->reserved, addr, new_alloc);
            if (ret) {
                host_free(mb->alloc, n);
                return ret;
            }
        }
    }

    /*
     * Move the entries over before touching "reserved": it may be the
     * array that is full.
     */
    memcpy(n, t->regions, t->cnt * sizeof(*n));
    host_free(mb->alloc, t->regions);
    t->regions = n;
    t->max = new_max;
    old_base = t->array_base;
    old_bytes = t->array_bytes;
    t->array_base = addr;
    t->array_bytes = new_alloc;

    /*
     * With the room made above neither call can need to grow, so neither
     * can fail; should that ever break, the caller's snapshot undoes us.
     */
    if (old_bytes) {
        ret = remove_range(mb, &mb->reserved, old_base, old_bytes);
        if (ret)
            return ret;
    }
    return add_range(mb, &mb->reserved, addr, new_alloc, MMSIM_NUMA_NO_NODE,
                     MMSIM_MEMBLOCK_RSRV_KERN);
}

/*
 * Make @t hold at least @needed entries: one doubling after allow_resize
 * (the caller re-checks and loops, as the kernel does), or a host-only
 * grow before it.
 */
static int grow(struct mmsim_memblock *mb, struct mb_type *t,
                unsigned long needed, uint64_t area_start, uint64_t area_size)
{
    if (!mb->can_resize)
        return grow_on_host(mb, t, needed);
    return double_array(mb, t, area_start, area_size);
}

/* ---- region array primitives ------------------------------------------ */

/* memblock_insert_region(): the caller made room. */
static void insert_region(struct mb_type *t, unsigned idx, uint64_t base,
                          uint64_t size, int nid, unsigned flags)
{
    struct mmsim_memblock_region *r = &t->regions[idx];

    MB_BUG_ON(t->cnt >= t->max);
    memmove(r + 1, r, (t->cnt - idx) * sizeof(*r));
    r->base = base;
    r->size = size;
    r->flags = flags;
    r->nid = nid;
    t->cnt++;
    t->total_size += size;
}

/* memblock_remove_region(). */
static void remove_region(struct mb_type *t, unsigned idx)
{
    t->total_size -= t->regions[idx].size;
    memmove(&t->regions[idx], &t->regions[idx + 1],
            (t->cnt - (idx + 1)) * sizeof(*t->regions));
    t->cnt--;
    if (t->cnt == 0)
        MB_BUG_ON(t->total_size != 0);
}

/*
 * memblock_merge_regions(): merge neighbours that touch and share nid and
 * flags, looking only at [start_rgn - 1, end_rgn]: the rest of the array
 * was already minimal before the change that touched this window.
 */
static void merge_regions(struct mb_type *t, unsigned start_rgn,
                          unsigned end_rgn)
{
    unsigned i = start_rgn ? start_rgn - 1 : 0;

    if (t->cnt == 0)
        return;
    if (end_rgn > t->cnt - 1)
        end_rgn = t->cnt - 1;

    while (i < end_rgn) {
        struct mmsim_memblock_region *this = &t->regions[i];
        struct mmsim_memblock_region *next = &t->regions[i + 1];

        if (region_end(this) != next->base || this->nid != next->nid ||
            this->flags != next->flags) {
            MB_BUG_ON(region_end(this) > next->base);
            i++;
            continue;
        }
        this->size += next->size;
        memmove(next, next + 1, (t->cnt - (i + 2)) * sizeof(*next));
        t->cnt--;
        end_rgn--;
    }
}

/*
 * One pass of memblock_add_range() over [base, end): the pieces not yet
 * covered are counted, and inserted when @insert. Existing regions keep
 * their nid and flags; only the holes take the new ones. Returns the
 * number of pieces; *first and *last bound the inserted indexes.
 */
static unsigned add_pass(struct mb_type *t, uint64_t base, uint64_t end,
                         int nid, unsigned flags, bool insert, unsigned *first,
                         unsigned *last)
{
    unsigned idx, nr_new = 0;
    bool any = false;

    for (idx = 0; idx < t->cnt; idx++) {
        uint64_t rbase = t->regions[idx].base;
        uint64_t rend = region_end(&t->regions[idx]);

        if (rbase >= end)
            break;
        if (rend <= base)
            continue;
        /* The region cuts off the lower part of the new range: fill it. */
        if (rbase > base) {
            nr_new++;
            if (insert) {
                if (!any)
                    *first = idx;
                any = true;
                *last = idx + 1;
                insert_region(t, idx++, base, rbase - base, nid, flags);
            }
        }
        /* Everything below rend is dealt with. */
        base = min_u64(rend, end);
    }
    if (base < end) {
        nr_new++;
        if (insert) {
            if (!any)
                *first = idx;
            *last = idx + 1;
            insert_region(t, idx, base, end - base, nid, flags);
        }
    }
    return nr_new;
}

/*
 * memblock_add_range(): add [base, base + size) to @t. Overlaps with
 * existing regions are allowed and leave those regions as they are. The
 * first pass counts how many entries the range needs and grows the array
 * until they fit, so the second pass cannot run out of room.
 */
static int add_range(struct mmsim_memblock *mb, struct mb_type *t,
                     uint64_t base, uint64_t size, int nid, unsigned flags)
{
    uint64_t end = base + cap_size(base, &size);
    struct mb_snapshot snap;
    bool have_snap = false;
    unsigned nr_new, first = 0, last = 0;
    int ret;

    if (!size)
        return 0;

    /* Empty array: the new range is the whole array. */
    if (t->cnt == 0) {
        MB_BUG_ON(t->total_size != 0 || t->max == 0);
        t->regions[0].base = base;
        t->regions[0].size = size;
        t->regions[0].flags = flags;
        t->regions[0].nid = nid;
        t->cnt = 1;
        t->total_size = size;
        return 0;
    }

    for (;;) {
        nr_new = add_pass(t, base, end, nid, flags, false, NULL, NULL);
        if (!nr_new)
            return 0;
        if ((unsigned long)t->cnt + nr_new <= t->max)
            break;
        /*
         * Doubling after allow_resize changes "reserved", and a second
         * doubling may still fail: keep a copy to go back to.
         */
        if (mb->can_resize && !have_snap) {
            ret = snapshot_take(mb, &snap);
            if (ret)
                return ret;
            have_snap = true;
        }
        ret = grow(mb, t, (unsigned long)t->cnt + nr_new, base, size);
        if (ret) {
            if (have_snap)
                snapshot_restore(mb, &snap);
            return ret;
        }
    }
    if (have_snap)
        snapshot_drop(mb, &snap);

    nr_new = add_pass(t, base, end, nid, flags, true, &first, &last);
    MB_BUG_ON(nr_new == 0);
    merge_regions(t, first, last);
    return 0;
}

/*
 * memblock_isolate_range(): split the regions that cross base or
 * base + size so the range is covered by whole regions, which are then
 * t->regions[*start_rgn .. *end_rgn - 1] (an empty span when none).
 * Splitting makes at most two more regions; the kernel asks for room for
 * two even when none is needed, and so do we, since it shows in max.
 */
static int isolate_range(struct mmsim_memblock *mb, struct mb_type *t,
                         uint64_t base, uint64_t size, unsigned *start_rgn,
                         unsigned *end_rgn)
{
    uint64_t end = base + cap_size(base, &size);
    struct mb_snapshot snap;
    bool have_snap = false;
    unsigned idx;
    int ret;

    *start_rgn = *end_rgn = 0;
    if (!size)
        return 0;

    /* One doubling always makes room, but undo it if that ever changes. */
    while ((unsigned long)t->cnt + 2 > t->max) {
        if (mb->can_resize && !have_snap) {
            ret = snapshot_take(mb, &snap);
            if (ret)
                return ret;
            have_snap = true;
        }
        ret = grow(mb, t, (unsigned long)t->cnt + 2, base, size);
        if (ret) {
            if (have_snap)
                snapshot_restore(mb, &snap);
            return ret;
        }
    }
    if (have_snap)
        snapshot_drop(mb, &snap);

    idx = 0;
    while (idx < t->cnt) {
        struct mmsim_memblock_region r = t->regions[idx];
        uint64_t rend = region_end(&r);

        if (r.base >= end)
            break;
        if (rend <= base) {
            idx++;
            continue;
        }
        if (r.base < base) {
            /* Crosses base: split off the part below; the top is next. */
            t->regions[idx].base = base;
            t->regions[idx].size -= base - r.base;
            t->total_size -= base - r.base;
            insert_region(t, idx, r.base, base - r.base, r.nid, r.flags);
            idx++;
        } else if (rend > end) {
            /*
             * Crosses end: split off the part below end and look at the
             * same index again; that part now lies inside the range.
             */
            t->regions[idx].base = end;
            t->regions[idx].size -= end - r.base;
            t->total_size -= end - r.base;
            insert_region(t, idx, r.base, end - r.base, r.nid, r.flags);
        } else {
            if (!*end_rgn)
                *start_rgn = idx;
            *end_rgn = idx + 1;
            idx++;
        }
    }
    return 0;
}

/* memblock_remove_range(). */
static int remove_range(struct mmsim_memblock *mb, struct mb_type *t,
                        uint64_t base, uint64_t size)
{
    unsigned start_rgn, end_rgn, i;
    int ret;

    ret = isolate_range(mb, t, base, size, &start_rgn, &end_rgn);
    if (ret)
        return ret;
    for (i = end_rgn; i > start_rgn; i--)
        remove_region(t, i - 1);
    return 0;
}

/* memblock_setclr_flag() on "memory". */
static int setclr_flag(struct mmsim_memblock *mb, uint64_t base, uint64_t size,
                       bool set, unsigned flag)
{
    struct mb_type *t = &mb->memory;
    unsigned start_rgn, end_rgn, i;
    int ret;

    ret = isolate_range(mb, t, base, size, &start_rgn, &end_rgn);
    if (ret)
        return ret;
    for (i = start_rgn; i < end_rgn; i++) {
        if (set)
            t->regions[i].flags |= flag;
        else
            t->regions[i].flags &= ~flag;
    }
    merge_regions(t, start_rgn, end_rgn);
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

static int type_init(const struct mmsim_allocator *a, struct mb_type *t)
{
    memset(t, 0, sizeof(*t));
    t->regions =
        host_calloc(a, MMSIM_MEMBLOCK_INIT_REGIONS, sizeof(*t->regions));
    if (!t->regions)
        return MMSIM_EHOSTMEM;
    t->max = MMSIM_MEMBLOCK_INIT_REGIONS;
    return 0;
}

int mmsim_memblock_create(const struct mmsim_allocator *alloc,
                          struct mmsim_memblock **out)
{
    struct mmsim_memblock *mb;

    if (!out)
        return MMSIM_EINVAL;
    *out = NULL;
    mb = host_calloc(alloc, 1, sizeof(*mb));
    if (!mb)
        return MMSIM_EHOSTMEM;
    mb->alloc = alloc;
    if (type_init(alloc, &mb->memory))
        goto out_free_mb;
    if (type_init(alloc, &mb->reserved))
        goto out_free_memory;
    mb->current_limit = MMSIM_MEMBLOCK_ALLOC_ANYWHERE;
    mb->bottom_up = false;
    *out = mb;
    return 0;

out_free_memory:
    host_free(alloc, mb->memory.regions);
out_free_mb:
    host_free(alloc, mb);
    return MMSIM_EHOSTMEM;
}

void mmsim_memblock_destroy(struct mmsim_memblock *mb)
{
    const struct mmsim_allocator *a;

    if (!mb)
        return;
    a = mb->alloc;
    host_free(a, mb->memory.regions);
    host_free(a, mb->reserved.regions);
    host_free(a, mb);
}

void mmsim_memblock_allow_resize(struct mmsim_memblock *mb)
{
    mb->can_resize = true;
}

/* ---- adding and removing ---------------------------------------------- */

int mmsim_memblock_add(struct mmsim_memblock *mb, uint64_t base, uint64_t size)
{
    return add_range(mb, &mb->memory, base, size, MMSIM_NUMA_NO_NODE,
                     MB_FLAGS_NONE);
}

int mmsim_memblock_add_node(struct mmsim_memblock *mb, uint64_t base,
                            uint64_t size, int nid, unsigned flags)
{
    if (!nid_acceptable(nid))
        return MMSIM_EINVAL;
    return add_range(mb, &mb->memory, base, size, nid, flags);
}

int mmsim_memblock_remove(struct mmsim_memblock *mb, uint64_t base,
                          uint64_t size)
{
    return remove_range(mb, &mb->memory, base, size);
}

int mmsim_memblock_reserve(struct mmsim_memblock *mb, uint64_t base,
                           uint64_t size)
{
    return add_range(mb, &mb->reserved, base, size, MMSIM_NUMA_NO_NODE,
                     MB_FLAGS_NONE);
}

int mmsim_memblock_reserve_kern(struct mmsim_memblock *mb, uint64_t base,
                                uint64_t size)
{
    return add_range(mb, &mb->reserved, base, size, MMSIM_NUMA_NO_NODE,
                     MMSIM_MEMBLOCK_RSRV_KERN);
}

int mmsim_memblock_free(struct mmsim_memblock *mb, uint64_t base, uint64_t size)
{
    return remove_range(mb, &mb->reserved, base, size);
}

int mmsim_memblock_set_node(struct mmsim_memblock *mb, uint64_t base,
                            uint64_t size, int nid)
{
    struct mb_type *t = &mb->memory;
    unsigned start_rgn, end_rgn, i;
    int ret;

    if (!nid_acceptable(nid))
        return MMSIM_EINVAL;
    ret = isolate_range(mb, t, base, size, &start_rgn, &end_rgn);
    if (ret)
        return ret;
    for (i = start_rgn; i < end_rgn; i++)
        t->regions[i].nid = nid;
    merge_regions(t, start_rgn, end_rgn);
    return 0;
}

int mmsim_memblock_mark_nomap(struct mmsim_memblock *mb, uint64_t base,
                              uint64_t size)
{
    return setclr_flag(mb, base, size, true, MMSIM_MEMBLOCK_NOMAP);
}

int mmsim_memblock_clear_nomap(struct mmsim_memblock *mb, uint64_t base,
                               uint64_t size)
{
    return setclr_flag(mb, base, size, false, MMSIM_MEMBLOCK_NOMAP);
}

int mmsim_memblock_mark_hotplug(struct mmsim_memblock *mb, uint64_t base,
                                uint64_t size)
{
    return setclr_flag(mb, base, size, true, MMSIM_MEMBLOCK_HOTPLUG);
}

int mmsim_memblock_clear_hotplug(struct mmsim_memblock *mb, uint64_t base,
                                 uint64_t size)
{
    return setclr_flag(mb, base, size, false, MMSIM_MEMBLOCK_HOTPLUG);
}

int mmsim_memblock_mark_mirror(struct mmsim_memblock *mb, uint64_t base,
                               uint64_t size)
{
    int ret = setclr_flag(mb, base, size, true, MMSIM_MEMBLOCK_MIRROR);

    /*
     * The kernel sets system_has_some_mirror before trying; we set it only
     * on success so that a failed call changes nothing.
     */
    if (!ret)
        mb->has_some_mirror = true;
    return ret;
}

/* ---- policy and limits ------------------------------------------------ */

void mmsim_memblock_set_bottom_up(struct mmsim_memblock *mb, bool enable)
{
    mb->bottom_up = enable;
}

bool mmsim_memblock_bottom_up(const struct mmsim_memblock *mb)
{
    return mb->bottom_up;
}

void mmsim_memblock_set_current_limit(struct mmsim_memblock *mb, uint64_t limit)
{
    mb->current_limit = limit;
}

uint64_t mmsim_memblock_get_current_limit(const struct mmsim_memblock *mb)
{
    return mb->current_limit;
}

/* ---- allocation ------------------------------------------------------- */

/*
 * Find and reserve, as __memblock_reserve(found, size, nid, RSRV_KERN):
 * the reserved region remembers the node it was asked for (NUMA_NO_NODE
 * on the any-node fallback) and that the kernel owns it, so it merges only
 * with allocations like it.
 *
 * A reservation that fails for lack of simulated room for a bigger array
 * lets the caller go on to its next choice, as in the kernel; a host
 * allocation failure is no property of the simulated machine and ends the
 * whole call.
 */
static int try_find_reserve(struct mmsim_memblock *mb, uint64_t size,
                            uint64_t align, uint64_t start, uint64_t end,
                            int nid, unsigned flags, uint64_t *addr)
{
    uint64_t found;
    int ret;

    found = find_in_range_node(mb, size, align, start, end, nid, flags);
    if (!found)
        return MMSIM_ENOMEM;
    ret = add_range(mb, &mb->reserved, found, size, nid,
                    MMSIM_MEMBLOCK_RSRV_KERN);
    if (ret)
        return ret;
    *addr = found;
    return 0;
}

int mmsim_memblock_alloc_range_nid(struct mmsim_memblock *mb, uint64_t size,
                                   uint64_t align, uint64_t start, uint64_t end,
                                   int nid, bool exact_nid, uint64_t *addr)
{
    unsigned flags = choose_flags(mb);
    int ret;

    if (!size || !addr || !nid_acceptable(nid))
        return MMSIM_EINVAL;
    if (!align)
        align = MMSIM_MEMBLOCK_DEFAULT_ALIGN;
    if (!is_pow2(align))
        return MMSIM_EINVAL;

    for (;;) {
        ret = try_find_reserve(mb, size, align, start, end, nid, flags, addr);
        if (ret != MMSIM_ENOMEM)
            return ret;

        if (numa_valid_node(nid) && !exact_nid) {
            ret = try_find_reserve(mb, size, align, start, end,
                                   MMSIM_NUMA_NO_NODE, flags, addr);
            if (ret != MMSIM_ENOMEM)
                return ret;
        }

        /* No mirrored room: any memory will do. */
        if (!(flags & MMSIM_MEMBLOCK_MIRROR))
            return MMSIM_ENOMEM;
        flags &= ~MMSIM_MEMBLOCK_MIRROR;
    }
}

/*
 * memblock_alloc_internal(): clamp to current_limit, and if nothing fits
 * above @min_addr, drop that bound and try again below it.
 */
static int alloc_internal(struct mmsim_memblock *mb, uint64_t size,
                          uint64_t align, uint64_t min_addr, uint64_t max_addr,
                          int nid, bool exact_nid, uint64_t *addr)
{
    int ret;

    if (max_addr > mb->current_limit)
        max_addr = mb->current_limit;

    ret = mmsim_memblock_alloc_range_nid(mb, size, align, min_addr, max_addr,
                                         nid, exact_nid, addr);
    if (ret == MMSIM_ENOMEM && min_addr)
        ret = mmsim_memblock_alloc_range_nid(mb, size, align, 0, max_addr, nid,
                                             exact_nid, addr);
    return ret;
}

int mmsim_memblock_alloc_try_nid(struct mmsim_memblock *mb, uint64_t size,
                                 uint64_t align, uint64_t min_addr,
                                 uint64_t max_addr, int nid, uint64_t *addr)
{
    return alloc_internal(mb, size, align, min_addr, max_addr, nid, false,
                          addr);
}

int mmsim_memblock_alloc_exact_nid(struct mmsim_memblock *mb, uint64_t size,
                                   uint64_t align, uint64_t min_addr,
                                   uint64_t max_addr, int nid, uint64_t *addr)
{
    return alloc_internal(mb, size, align, min_addr, max_addr, nid, true, addr);
}

int mmsim_memblock_phys_alloc_range(struct mmsim_memblock *mb, uint64_t size,
                                    uint64_t align, uint64_t start,
                                    uint64_t end, uint64_t *addr)
{
    return mmsim_memblock_alloc_range_nid(mb, size, align, start, end,
                                          MMSIM_NUMA_NO_NODE, false, addr);
}

/* ---- queries ---------------------------------------------------------- */

unsigned mmsim_memblock_count(const struct mmsim_memblock *mb,
                              enum mmsim_memblock_type type)
{
    const struct mb_type *t = ctype_of(mb, type);

    return t ? t->cnt : 0;
}

unsigned mmsim_memblock_max(const struct mmsim_memblock *mb,
                            enum mmsim_memblock_type type)
{
    const struct mb_type *t = ctype_of(mb, type);

    return t ? t->max : 0;
}

int mmsim_memblock_region(const struct mmsim_memblock *mb,
                          enum mmsim_memblock_type type, unsigned idx,
                          struct mmsim_memblock_region *r)
{
    const struct mb_type *t = ctype_of(mb, type);

    if (!t || !r)
        return MMSIM_EINVAL;
    if (idx >= t->cnt)
        return MMSIM_ERANGE;
    *r = t->regions[idx];
    return 0;
}

uint64_t mmsim_memblock_total_size(const struct mmsim_memblock *mb,
                                   enum mmsim_memblock_type type)
{
    const struct mb_type *t = ctype_of(mb, type);

    return t ? t->total_size : 0;
}

uint64_t mmsim_memblock_start_of_dram(const struct mmsim_memblock *mb)
{
    return mb->memory.cnt ? mb->memory.regions[0].base : 0;
}

uint64_t mmsim_memblock_end_of_dram(const struct mmsim_memblock *mb)
{
    const struct mb_type *t = &mb->memory;

    return t->cnt ? region_end(&t->regions[t->cnt - 1]) : 0;
}

/* memblock_search(): binary search; the index of the region or -1. */
static long search(const struct mb_type *t, uint64_t addr)
{
    unsigned left = 0, right = t->cnt;

    while (left < right) {
        unsigned mid = left + (right - left) / 2;

        if (addr < t->regions[mid].base)
            right = mid;
        else if (addr >= region_end(&t->regions[mid]))
            left = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

bool mmsim_memblock_is_memory(const struct mmsim_memblock *mb, uint64_t addr)
{
    return search(&mb->memory, addr) != -1;
}

bool mmsim_memblock_is_reserved(const struct mmsim_memblock *mb, uint64_t addr)
{
    return search(&mb->reserved, addr) != -1;
}

bool mmsim_memblock_is_region_memory(const struct mmsim_memblock *mb,
                                     uint64_t base, uint64_t size)
{
    long idx = search(&mb->memory, base);
    uint64_t end = base + cap_size(base, &size);

    if (idx == -1)
        return false;
    return region_end(&mb->memory.regions[idx]) >= end;
}

bool mmsim_memblock_is_region_reserved(const struct mmsim_memblock *mb,
                                       uint64_t base, uint64_t size)
{
    const struct mb_type *t = &mb->reserved;
    unsigned i;

    /* memblock_overlaps_region(). */
    cap_size(base, &size);
    for (i = 0; i < t->cnt; i++) {
        if (base < region_end(&t->regions[i]) &&
            t->regions[i].base < base + size)
            return true;
    }
    return false;
}

/* ---- free-range iteration, public ------------------------------------- */

/*
 * The cursor packs the two indexes as the kernel's u64 idx does (memory
 * in the low half, reserved gap in the high half); UINT64_MAX means done.
 */
bool mmsim_memblock_next_free_range(const struct mmsim_memblock *mb, int nid,
                                    uint64_t *cursor, uint64_t *start,
                                    uint64_t *end, int *range_nid)
{
    struct mb_iter it;
    uint64_t s, e;
    int n;

    if (*cursor == UINT64_MAX || !nid_acceptable(nid))
        return false;
    it.a = (long)(*cursor & 0xffffffffu);
    it.b = (long)(*cursor >> 32);
    if (!next_free(mb, &it, nid, MB_FLAGS_NONE, &s, &e, &n)) {
        *cursor = UINT64_MAX;
        return false;
    }
    *cursor = (uint64_t)it.a | (uint64_t)it.b << 32;
    if (start)
        *start = s;
    if (end)
        *end = e;
    if (range_nid)
        *range_nid = n;
    return true;
}

/* ---- debugfs view ----------------------------------------------------- */

/* flagname[] of memblock_debug_show(), indexed by bit number. */
static const char *const mb_flag_names[] = {
    "HOTPLUG",     /* MEMBLOCK_HOTPLUG */
    "MIRROR",      /* MEMBLOCK_MIRROR */
    "NOMAP",       /* MEMBLOCK_NOMAP */
    "DRV_MNG",     /* MEMBLOCK_DRIVER_MANAGED */
    "RSV_NIT",     /* MEMBLOCK_RSRV_NOINIT */
    "RSV_KERN",    /* MEMBLOCK_RSRV_KERN */
    "KHO_SCRATCH", /* MEMBLOCK_KHO_SCRATCH */
};

static const char *flag_name(unsigned flags)
{
    size_t j;

    if (!flags)
        return "NONE";
    /* The lowest named bit wins; bits without a name print UNKNOWN. */
    for (j = 0; j < sizeof(mb_flag_names) / sizeof(mb_flag_names[0]); j++) {
        if (flags & (1u << j))
            return mb_flag_names[j];
    }
    return "UNKNOWN";
}

int mmsim_memblock_debugfs_show(const struct mmsim_memblock *mb,
                                enum mmsim_memblock_type type, char *buf,
                                size_t len)
{
    const struct mb_type *t = ctype_of(mb, type);
    size_t pos = 0;
    unsigned i;

    if (!t || (!buf && len))
        return MMSIM_EINVAL;

    for (i = 0; i < t->cnt; i++) {
        const struct mmsim_memblock_region *r = &t->regions[i];
        /* Longest line: 11 + 2 + 38 + 12 + 11 + 1 bytes; room to spare. */
        char line[128];
        int n;

        if (numa_valid_node(r->nid))
            n = snprintf(line, sizeof(line),
                         "%4d: 0x%016llx..0x%016llx %4d %s\n", (int)i,
                         (unsigned long long)r->base,
                         (unsigned long long)(region_end(r) - 1), r->nid,
                         flag_name(r->flags));
        else
            n = snprintf(line, sizeof(line),
                         "%4d: 0x%016llx..0x%016llx %4c %s\n", (int)i,
                         (unsigned long long)r->base,
                         (unsigned long long)(region_end(r) - 1), 'x',
                         flag_name(r->flags));
        MB_BUG_ON(n < 0 || (size_t)n >= sizeof(line));

        if (pos < len) {
            size_t room = len - pos;
            size_t copy = (size_t)n < room ? (size_t)n : room;

            memcpy(buf + pos, line, copy);
        }
        pos += (size_t)n;
        /* An int return cannot describe more; no machine gets near it. */
        if (pos > (size_t)INT32_MAX)
            return MMSIM_EOVERFLOW;
    }

    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return (int)pos;
}
