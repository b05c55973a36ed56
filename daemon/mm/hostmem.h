/*
 * hostmem.h - host allocations through the optional struct mmsim_allocator
 * hook. Internal to daemon/mm; every core file allocates host memory only
 * through these, so failure injection sees every allocation.
 */
#ifndef MMSIM_HOSTMEM_H
#define MMSIM_HOSTMEM_H

#include <stdlib.h>

#include "mmsim/base.h"

static inline void *host_malloc(const struct mmsim_allocator *a, size_t size)
{
    if (a && a->malloc_fn)
        return a->malloc_fn(a->ctx, size);
    return malloc(size);
}

/*
 * Large zeroed arrays (mem_map) come from here too: glibc serves big
 * calloc() requests with fresh mmap()ed pages, which cost nothing until
 * touched. That is what lets a 1 TiB machine boot on a small host.
 */
static inline void *host_calloc(const struct mmsim_allocator *a, size_t nmemb,
                                size_t size)
{
    if (a && a->calloc_fn)
        return a->calloc_fn(a->ctx, nmemb, size);
    return calloc(nmemb, size);
}

static inline void *host_realloc(const struct mmsim_allocator *a, void *ptr,
                                 size_t size)
{
    if (a && a->realloc_fn)
        return a->realloc_fn(a->ctx, ptr, size);
    return realloc(ptr, size);
}

static inline void host_free(const struct mmsim_allocator *a, void *ptr)
{
    if (!ptr)
        return;
    if (a && a->free_fn)
        a->free_fn(a->ctx, ptr);
    else
        free(ptr);
}

#endif /* MMSIM_HOSTMEM_H */
