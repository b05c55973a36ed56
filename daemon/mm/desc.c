// SPDX-License-Identifier: MIT
/*
 * desc.c - machine descriptions: defaults, builders, validation.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmsim/desc.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
/* Swap slots are 32-bit: at most 2^32 pages (the header page included). */
#define SWAP_MAX_BYTES (UINT64_C(1) << 44)

static const char *const zone_type_names[MMSIM_NR_ZONE_TYPES] = {
    [MMSIM_ZONE_DMA] = "DMA",         [MMSIM_ZONE_DMA32] = "DMA32",
    [MMSIM_ZONE_NORMAL] = "Normal",   [MMSIM_ZONE_HIGHMEM] = "HighMem",
    [MMSIM_ZONE_MOVABLE] = "Movable", [MMSIM_ZONE_DEVICE] = "Device",
};

const char *mmsim_zone_type_name(enum mmsim_zone_type t)
{
    if ((unsigned)t >= MMSIM_NR_ZONE_TYPES)
        return "?";
    return zone_type_names[t];
}

void mmsim_desc_init(struct mmsim_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->nr_cpus = 2;
    d->max_order = 10;
    d->watermark_scale_factor = 10;
    /* sysctl_lowmem_reserve_ratio's defaults. */
    d->lowmem_reserve_ratio[MMSIM_ZONE_DMA] = 256;
    d->lowmem_reserve_ratio[MMSIM_ZONE_DMA32] = 256;
    d->lowmem_reserve_ratio[MMSIM_ZONE_NORMAL] = 32;
    d->lowmem_reserve_ratio[MMSIM_ZONE_HIGHMEM] = 0;
    d->lowmem_reserve_ratio[MMSIM_ZONE_MOVABLE] = 0;
    d->early = MMSIM_EARLY_MEMBLOCK;
    d->deferred_init = true;
    /* No swap device; the OOM killer kills, as Linux's does. */
    d->swap_bytes = 0;
    d->swap_path[0] = '\0';
    d->oom_policy = MMSIM_OOM_KILL;
}

void mmsim_desc_default(struct mmsim_desc *d)
{
    mmsim_desc_init(d);
    d->nr_cpus = 4;
    /* Node 0: low memory below 640 KiB (page 0 is the BIOS's), RAM up to
     * the PCI hole just below 3 GiB, then 1 GiB above 4 GiB. */
    mmsim_desc_add_range(d, 0, 0x1000, 0x9e000);
    mmsim_desc_add_range(d, 0, 0x100000, 0xbfee0000 - 0x100000);
    mmsim_desc_add_range(d, 0, 4 * GIB, 1 * GIB);
    /* Node 1: 4 GiB above that. */
    mmsim_desc_add_range(d, 1, 5 * GIB, 4 * GIB);
    mmsim_desc_add_reserved(d, 0x9e000, 0x1000, "bios-ebda");
    mmsim_desc_add_reserved(d, 16 * MIB, 32 * MIB, "kernel");
    mmsim_desc_add_reserved(d, 880 * MIB, 16 * MIB, "initrd");
    mmsim_desc_set_distance(d, 0, 1, 21);
    /* Swap as large as RAM, in an in-memory file (swap_path ""): the
     * daemon names a directory for it instead. */
    d->swap_bytes = 8 * GIB;
}

int mmsim_desc_add_range(struct mmsim_desc *d, int nid, uint64_t base,
                         uint64_t size)
{
    if (nid < 0 || nid >= MMSIM_MAX_NODES)
        return MMSIM_EINVAL;
    if (d->nr_ranges >= MMSIM_DESC_MAX_RANGES)
        return MMSIM_ERANGE;
    d->ranges[d->nr_ranges++] =
        (struct mmsim_desc_range){.base = base, .size = size, .nid = nid};
    if ((unsigned)nid + 1 > d->nr_nodes)
        d->nr_nodes = (unsigned)nid + 1;
    return 0;
}

int mmsim_desc_add_reserved(struct mmsim_desc *d, uint64_t base, uint64_t size,
                            const char *name)
{
    struct mmsim_desc_reserved *r;

    if (d->nr_reserved >= MMSIM_DESC_MAX_RESERVED)
        return MMSIM_ERANGE;
    r = &d->reserved[d->nr_reserved++];
    r->base = base;
    r->size = size;
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "reserved");
    return 0;
}

int mmsim_desc_set_distance(struct mmsim_desc *d, int a, int b, unsigned val)
{
    if (a < 0 || b < 0 || a >= MMSIM_MAX_NODES || b >= MMSIM_MAX_NODES ||
        val > 255)
        return MMSIM_EINVAL;
    d->distance[a][b] = (uint8_t)val;
    d->distance[b][a] = (uint8_t)val;
    return 0;
}

unsigned mmsim_desc_distance(const struct mmsim_desc *d, int a, int b)
{
    unsigned v = d->distance[a][b];

    if (v)
        return v;
    return a == b ? 10 : 20; /* LOCAL_DISTANCE, REMOTE_DISTANCE */
}

uint64_t mmsim_desc_total_ram(const struct mmsim_desc *d)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < d->nr_ranges && i < MMSIM_DESC_MAX_RANGES; i++)
        sum += d->ranges[i].size;
    return sum;
}

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen,
                                                     const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return MMSIM_ECONFIG;
}

static int validate_ranges(const struct mmsim_desc *d, char *err, size_t errlen)
{
    uint64_t lo[MMSIM_MAX_NODES], hi[MMSIM_MAX_NODES];
    uint64_t limit = d->highmem_start ? MMSIM_PAE_LIMIT : MMSIM_MAX_PHYS;

    if (d->nr_nodes == 0 || d->nr_nodes > MMSIM_MAX_NODES)
        return bad(err, errlen, "nodes: %u nodes, need 1..%d", d->nr_nodes,
                   MMSIM_MAX_NODES);
    if (d->nr_ranges == 0 || d->nr_ranges > MMSIM_DESC_MAX_RANGES)
        return bad(err, errlen, "ranges: %u ranges, need 1..%d", d->nr_ranges,
                   MMSIM_DESC_MAX_RANGES);
    for (unsigned n = 0; n < d->nr_nodes; n++) {
        lo[n] = UINT64_MAX;
        hi[n] = 0;
    }
    for (unsigned i = 0; i < d->nr_ranges; i++) {
        const struct mmsim_desc_range *r = &d->ranges[i];

        if (r->nid < 0 || (unsigned)r->nid >= d->nr_nodes)
            return bad(err, errlen, "ranges[%u]: node %d does not exist", i,
                       r->nid);
        if (r->size == 0)
            return bad(err, errlen, "ranges[%u]: size is 0", i);
        if ((r->base | r->size) & (MMSIM_PAGE_SIZE - 1))
            return bad(err, errlen,
                       "ranges[%u]: base 0x%" PRIx64 " or size 0x%" PRIx64
                       " is not a multiple of the 4 KiB page",
                       i, r->base, r->size);
        if (r->base >= limit || r->size > limit - r->base)
            return bad(err, errlen,
                       "ranges[%u]: [0x%" PRIx64 ", +0x%" PRIx64
                       ") ends beyond the model's limit 0x%" PRIx64,
                       i, r->base, r->size, limit);
        for (unsigned j = 0; j < i; j++) {
            const struct mmsim_desc_range *o = &d->ranges[j];

            if (r->base < o->base + o->size && o->base < r->base + r->size)
                return bad(err, errlen,
                           "ranges[%u]: [0x%" PRIx64 "-0x%" PRIx64
                           "] overlaps ranges[%u]",
                           i, r->base, r->base + r->size - 1, j);
        }
        if (r->base < lo[r->nid])
            lo[r->nid] = r->base;
        if (r->base + r->size > hi[r->nid])
            hi[r->nid] = r->base + r->size;
    }
    for (unsigned n = 0; n < d->nr_nodes; n++) {
        if (hi[n] == 0)
            return bad(err, errlen, "node %u: has no memory ranges", n);
        for (unsigned m = 0; m < n; m++)
            if (lo[n] < hi[m] && lo[m] < hi[n])
                return bad(err, errlen,
                           "node %u: span [0x%" PRIx64 "-0x%" PRIx64
                           "] interleaves with node %u's; node spans must "
                           "be disjoint",
                           n, lo[n], hi[n] - 1, m);
    }
    return 0;
}

int mmsim_desc_validate(const struct mmsim_desc *d, char *err, size_t errlen)
{
    uint64_t total;
    int rc;

    rc = validate_ranges(d, err, errlen);
    if (rc)
        return rc;
    total = mmsim_desc_total_ram(d);
    if (d->nr_reserved > MMSIM_DESC_MAX_RESERVED)
        return bad(err, errlen, "reserved: %u entries, at most %d",
                   d->nr_reserved, MMSIM_DESC_MAX_RESERVED);
    for (unsigned i = 0; i < d->nr_reserved; i++) {
        const struct mmsim_desc_reserved *r = &d->reserved[i];

        if (r->size == 0)
            return bad(err, errlen, "reserved[%u] (%s): size is 0", i, r->name);
        if (r->base >= MMSIM_MAX_PHYS || r->size > MMSIM_MAX_PHYS - r->base)
            return bad(err, errlen, "reserved[%u] (%s): ends beyond 0x%" PRIx64,
                       i, r->name, MMSIM_MAX_PHYS);
    }
    for (unsigned a = 0; a < d->nr_nodes; a++) {
        for (unsigned b = 0; b < d->nr_nodes; b++) {
            unsigned v = mmsim_desc_distance(d, (int)a, (int)b);

            if (a == b && v != 10)
                return bad(err, errlen,
                           "distance[%u][%u]: %u, a node's distance to "
                           "itself must be 10",
                           a, b, v);
            if (a != b && (v <= 10 || v == 255))
                return bad(err, errlen,
                           "distance[%u][%u]: %u, remote distances must be "
                           "11..254",
                           a, b, v);
        }
    }
    if (d->nr_cpus == 0 || d->nr_cpus > MMSIM_MAX_CPUS)
        return bad(err, errlen, "cpus: %u, need 1..%d", d->nr_cpus,
                   MMSIM_MAX_CPUS);
    if (d->max_order > MMSIM_MAX_ORDER_CAP)
        return bad(err, errlen, "max_order: %u, need 0..%d", d->max_order,
                   MMSIM_MAX_ORDER_CAP);
    if (d->watermark_scale_factor < 1 || d->watermark_scale_factor > 3000)
        return bad(err, errlen,
                   "watermark_scale_factor: %u, need 1..3000 (as the sysctl)",
                   d->watermark_scale_factor);
    if (d->min_free_kbytes > total / 1024 / 2)
        return bad(err, errlen,
                   "min_free_kbytes: %" PRIu64
                   " is more than half of the machine's %" PRIu64 " KiB",
                   d->min_free_kbytes, total / 1024);
    if (d->movablecore >= total)
        return bad(err, errlen,
                   "movablecore: 0x%" PRIx64
                   " bytes is not less than all RAM (0x%" PRIx64 ")",
                   d->movablecore, total);
    if (d->highmem_start) {
        if (d->highmem_start & (MMSIM_PAGE_SIZE - 1) ||
            d->highmem_start <= MMSIM_DMA_END ||
            d->highmem_start > MMSIM_DMA32_END)
            return bad(err, errlen,
                       "highmem_start: 0x%" PRIx64
                       " must be page aligned and in (16 MiB, 4 GiB]",
                       d->highmem_start);
    }
    if (d->early != MMSIM_EARLY_MEMBLOCK && d->early != MMSIM_EARLY_BOOTMEM)
        return bad(err, errlen, "early_allocator: unknown kind %d",
                   (int)d->early);
    if (d->swap_bytes) {
        if (d->swap_bytes & (MMSIM_PAGE_SIZE - 1))
            return bad(err, errlen,
                       "swap_bytes: 0x%" PRIx64
                       " is not a multiple of the 4 KiB page",
                       d->swap_bytes);
        if (d->swap_bytes < 2 * MMSIM_PAGE_SIZE)
            return bad(err, errlen,
                       "swap_bytes: 0x%" PRIx64
                       " is less than 2 pages (the header page and one "
                       "slot); 0 means no swap",
                       d->swap_bytes);
        if (d->swap_bytes > SWAP_MAX_BYTES)
            return bad(err, errlen,
                       "swap_bytes: 0x%" PRIx64
                       " is more than 16 TiB (swap slots are 32-bit)",
                       d->swap_bytes);
    }
    if (memchr(d->swap_path, '\0', sizeof(d->swap_path)) == NULL)
        return bad(err, errlen,
                   "swap_path: not NUL-terminated within its %zu bytes",
                   sizeof(d->swap_path));
    if (d->oom_policy != MMSIM_OOM_KILL && d->oom_policy != MMSIM_OOM_FAIL)
        return bad(err, errlen, "oom_policy: unknown policy %d",
                   (int)d->oom_policy);
    return 0;
}
