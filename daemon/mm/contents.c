// SPDX-License-Identifier: MIT
/*
 * contents.c - what the simulated pages hold.
 *
 * One anonymous mapping covers [0, max_pfn) pages; the host kernel backs
 * it only where it is written, so a 1 TiB machine costs nothing until a
 * client writes to it. A bitmap records which pages were written since
 * they were allocated; freeing zeroes exactly those (or, for blocks of 16
 * pages and more, hands the whole block back to the host with
 * MADV_DONTNEED, which also zeroes it). So every allocation starts zeroed
 * and no byte passes from one owner to the next.
 *
 * Locking: none of its own. A block's contents belong to whoever owns the
 * block; the dirty bits of neighbouring pages share words, so they are
 * set and cleared with atomic operations.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hostmem.h"
#include "internal.h"

#define MADVISE_MIN_ORDER 4

int mmsim_contents_init(struct mmsim_machine *m)
{
    void *p;

    if (!m->desc.contents)
        return 0;
    m->contents_bytes = m->max_pfn * MMSIM_PAGE_SIZE;
    p = mmap(NULL, m->contents_bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        m->contents_bytes = 0;
        return MMSIM_EHOSTMEM;
    }
    m->contents = p;
    m->dirty_bytes = ((m->max_pfn + 63) / 64) * sizeof(uint64_t);
    m->dirty = host_map_zeroed(m->alloc, m->dirty_bytes);
    if (!m->dirty) {
        mmsim_contents_fini(m);
        return MMSIM_EHOSTMEM;
    }
    return 0;
}

void mmsim_contents_fini(struct mmsim_machine *m)
{
    if (m->contents)
        munmap(m->contents, m->contents_bytes);
    host_unmap(m->alloc, (void *)m->dirty, m->dirty_bytes);
    m->contents = NULL;
    m->dirty = NULL;
}

bool mmsim_machine_has_contents(const struct mmsim_machine *m)
{
    return m->contents != NULL;
}

static bool test_and_clear_dirty(struct mmsim_machine *m, uint64_t pfn)
{
    uint64_t bit = UINT64_C(1) << (pfn % 64);
    _Atomic uint64_t *w = &m->dirty[pfn / 64];

    if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
        return false;
    return atomic_fetch_and_explicit(w, ~bit, memory_order_relaxed) & bit;
}

void mmsim_contents_clear(struct mmsim_machine *m, uint64_t pfn, unsigned order)
{
    uint64_t n = UINT64_C(1) << order;
    bool any = false;

    if (!m->contents)
        return;
    if (order >= MADVISE_MIN_ORDER) {
        for (uint64_t p = pfn; p < pfn + n; p++)
            any |= test_and_clear_dirty(m, p);
        /* Zero-fill on next touch, and the host gets the memory back. */
        if (any && madvise(m->contents + pfn * MMSIM_PAGE_SIZE,
                           n * MMSIM_PAGE_SIZE, MADV_DONTNEED) == 0)
            return;
        if (!any)
            return;
        memset(m->contents + pfn * MMSIM_PAGE_SIZE, 0, n * MMSIM_PAGE_SIZE);
        return;
    }
    for (uint64_t p = pfn; p < pfn + n; p++)
        if (test_and_clear_dirty(m, p))
            memset(m->contents + p * MMSIM_PAGE_SIZE, 0, MMSIM_PAGE_SIZE);
}

/*
 * Is @pfn inside an allocated block? Lockless: the enclosing block's head
 * is the only page of it with flags, and only its owner changes them.
 */
static int check_allocated(struct mmsim_machine *m, uint64_t pfn)
{
    int rc;

    if (atomic_load_explicit(&m->phase, memory_order_acquire) !=
        MMSIM_PHASE_RUNNING)
        return MMSIM_EPERM;
    if (!m->contents)
        return MMSIM_ENOCONTENT;
    if (pfn >= m->max_pfn)
        return MMSIM_EFAULT;
    for (unsigned o = 0; o <= m->max_order; o++) {
        const struct mmsim_page *p =
            pfn_to_page(m, pfn & ~((UINT64_C(1) << o) - 1));
        uint8_t f = page_flags(p);

        if (f && page_order(p) >= o)
            return f == PG_HEAD  ? 0
                   : f & PG_ANON ? MMSIM_EMAPPED
                                 : MMSIM_EALREADY;
    }
    /* Unmarked: reserved, deferred or a hole. Ask the slow path. */
    rc = mmsim_classify_pfn(m, pfn);
    return rc == 0 || rc == MMSIM_ENOTHEAD || rc == MMSIM_EORDER ? 0 : rc;
}

int mmsim_page_read(struct mmsim_machine *m, uint64_t pfn, uint32_t offset,
                    void *buf, uint32_t len)
{
    int rc;

    if ((uint64_t)offset + len > MMSIM_PAGE_SIZE)
        return MMSIM_ERANGE;
    rc = check_allocated(m, pfn);
    if (rc)
        return rc;
    if (len)
        memcpy(buf, m->contents + pfn * MMSIM_PAGE_SIZE + offset, len);
    return 0;
}

int mmsim_page_write(struct mmsim_machine *m, uint64_t pfn, uint32_t offset,
                     const void *buf, uint32_t len)
{
    int rc;

    if ((uint64_t)offset + len > MMSIM_PAGE_SIZE)
        return MMSIM_ERANGE;
    rc = check_allocated(m, pfn);
    if (rc)
        return rc;
    if (!len)
        return 0;
    atomic_fetch_or_explicit(&m->dirty[pfn / 64], UINT64_C(1) << (pfn % 64),
                             memory_order_relaxed);
    memcpy(m->contents + pfn * MMSIM_PAGE_SIZE + offset, buf, len);
    return 0;
}
