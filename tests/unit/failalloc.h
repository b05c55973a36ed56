/*
 * failalloc.h - a struct mmsim_allocator that fails the Nth allocation,
 * for failure sweeps: run an operation with fail_at = 1, 2, 3, ... until
 * it succeeds without hitting the failure, and assert that every failed
 * run reported MMSIM_EHOSTMEM (or the documented code) and left no leak
 * (ASan's leak checker) and no damage (the invariant checker).
 */
#ifndef MMSIM_TESTS_FAILALLOC_H
#define MMSIM_TESTS_FAILALLOC_H

#include <stdbool.h>
#include <stdlib.h>

#include "mmsim/base.h"

struct failalloc {
    long fail_at; /* 1-based index of the allocation to fail; 0: never */
    long count;   /* allocations attempted so far */
    bool failed;  /* the injected failure happened */
};

static inline bool failalloc_should_fail(struct failalloc *f)
{
    f->count++;
    if (f->fail_at > 0 && f->count == f->fail_at) {
        f->failed = true;
        return true;
    }
    return false;
}

static inline void *failalloc_malloc(void *ctx, size_t size)
{
    return failalloc_should_fail(ctx) ? NULL : malloc(size);
}

static inline void *failalloc_calloc(void *ctx, size_t n, size_t size)
{
    return failalloc_should_fail(ctx) ? NULL : calloc(n, size);
}

static inline void *failalloc_realloc(void *ctx, void *p, size_t size)
{
    return failalloc_should_fail(ctx) ? NULL : realloc(p, size);
}

static inline void failalloc_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* Arm @f to fail allocation number @fail_at and return a hook using it. */
static inline struct mmsim_allocator failalloc_arm(struct failalloc *f,
                                                   long fail_at)
{
    struct mmsim_allocator a = {failalloc_malloc, failalloc_calloc,
                                failalloc_realloc, failalloc_free, f};
    f->fail_at = fail_at;
    f->count = 0;
    f->failed = false;
    return a;
}

#endif /* MMSIM_TESTS_FAILALLOC_H */
