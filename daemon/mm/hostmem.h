/*
 * hostmem.h - host allocations through the optional struct mmsim_allocator
 * hook. Internal to daemon/mm; every core file allocates host memory only
 * through these, so failure injection sees every allocation.
 */
#ifndef MMSIM_HOSTMEM_H
#define MMSIM_HOSTMEM_H

#include <stdlib.h>
#include <sys/mman.h>

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

/*
 * Large zeroed arrays that must cost nothing until touched (mem_map).
 * Without a hook they are mapped directly: glibc's calloc() may serve even
 * a big request from the heap and zero it all, because its mmap threshold
 * rises after earlier big blocks are freed (seen when machines are
 * created and destroyed in a loop). With a hook, its calloc is used so
 * failure injection sees the allocation. Free with host_unmap().
 */
static inline void *host_map_zeroed(const struct mmsim_allocator *a,
                                    size_t bytes)
{
    void *p;

    if (a && a->calloc_fn)
        return a->calloc_fn(a->ctx, 1, bytes);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static inline void host_unmap(const struct mmsim_allocator *a, void *p,
                              size_t bytes)
{
    if (!p)
        return;
    if (a && a->calloc_fn)
        host_free(a, p);
    else
        munmap(p, bytes);
}

#endif /* MMSIM_HOSTMEM_H */
