// SPDX-License-Identifier: MIT
/*
 * owned.c - the blocks one session owns, for the ownership checks on
 * every FreePages, ReadPage and WritePage and for the teardown.
 *
 * Open addressing with linear probing: one multiplicative hash, a probe
 * walks right from it to the first empty slot. Deletion shifts later
 * entries of the same run back (Knuth's algorithm R), so there are no
 * tombstones and a table that saw a million allocations and frees probes
 * as if it were fresh. The load stays at most 3/4; the table doubles when
 * it would pass that and halves when it falls under 1/8, so its memory
 * follows what the session owns now, not what it once owned.
 *
 * Keys are pfn + 1 in 32 bits: simulated pfns are below 2^32 (desc.h,
 * MMSIM_MAX_PHYS), and lookups of larger pfns, which a peer may send,
 * simply find nothing.
 *
 * Not thread-safe: a session's table is touched only by the thread
 * feeding the session.
 */
#include <stdlib.h>

#include "internal.h"

#define OWNED_MIN_CAP 16u

void owned_init(struct owned_table *t)
{
    t->slots = NULL;
    t->cap = 0;
    t->used = 0;
}

void owned_fini(struct owned_table *t)
{
    free(t->slots);
    owned_init(t);
}

static size_t slot_of(const struct owned_table *t, uint32_t key)
{
    /* Fibonacci hashing: consecutive pfns spread over the table. */
    return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (t->cap - 1);
}

/* Insert without growing; the caller guarantees a free slot. */
static void put(struct owned_table *t, uint32_t key, uint32_t order)
{
    size_t i = slot_of(t, key);

    while (t->slots[i].key)
        i = (i + 1) & (t->cap - 1);
    t->slots[i].key = key;
    t->slots[i].order = order;
    t->used++;
}

/* Rehash into @cap slots. Return: 0 or MMSIM_EHOSTMEM (table unchanged). */
static int resize(struct owned_table *t, size_t cap)
{
    struct owned_slot *old = t->slots;
    size_t old_cap = t->cap;
    struct owned_slot *slots = calloc(cap, sizeof(*slots));

    if (!slots)
        return MMSIM_EHOSTMEM;
    t->slots = slots;
    t->cap = cap;
    t->used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            put(t, old[i].key, old[i].order);
    free(old);
    return 0;
}

int owned_reserve(struct owned_table *t, size_t n)
{
    size_t cap = t->cap ? t->cap : OWNED_MIN_CAP;

    if (n > SIZE_MAX / 8 - t->used)
        return MMSIM_EHOSTMEM;
    while ((t->used + n) * 4 > cap * 3) {
        if (cap > SIZE_MAX / 2 / sizeof(struct owned_slot))
            return MMSIM_EHOSTMEM;
        cap *= 2;
    }
    return cap == t->cap ? 0 : resize(t, cap);
}

void owned_insert(struct owned_table *t, uint64_t pfn, unsigned order)
{
    /* owned_reserve() made room; the machine hands out pfns < 2^32. */
    put(t, (uint32_t)(pfn + 1), order);
}

/* Return: the slot holding @pfn, or -1. */
static ptrdiff_t find(const struct owned_table *t, uint64_t pfn)
{
    uint32_t key;
    size_t i;

    if (!t->used || pfn >= UINT32_MAX)
        return -1;
    key = (uint32_t)(pfn + 1);
    for (i = slot_of(t, key); t->slots[i].key; i = (i + 1) & (t->cap - 1))
        if (t->slots[i].key == key)
            return (ptrdiff_t)i;
    return -1;
}

bool owned_get(const struct owned_table *t, uint64_t pfn, unsigned *order)
{
    ptrdiff_t i = find(t, pfn);

    if (i < 0)
        return false;
    *order = t->slots[i].order;
    return true;
}

void owned_remove(struct owned_table *t, uint64_t pfn)
{
    ptrdiff_t found = find(t, pfn);
    size_t hole, j, mask = t->cap - 1;

    if (found < 0)
        return;
    hole = (size_t)found;
    t->slots[hole].key = 0;
    t->used--;
    /*
     * Backward shift: an entry later in the run may move into the hole
     * unless its home slot lies cyclically in (hole, j], where it
     * would become unreachable from its home.
     */
    for (j = (hole + 1) & mask; t->slots[j].key; j = (j + 1) & mask) {
        size_t home = slot_of(t, t->slots[j].key);
        bool stays =
            hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);

        if (stays)
            continue;
        t->slots[hole] = t->slots[j];
        t->slots[j].key = 0;
        hole = j;
    }
    /* Give memory back; a failed shrink just keeps the bigger table. */
    if (t->cap > OWNED_MIN_CAP && t->used * 8 < t->cap)
        (void)resize(t, t->cap / 2);
}

bool owned_block_of(const struct owned_table *t, uint64_t pfn,
                    unsigned max_order, uint64_t *head, unsigned *order)
{
    if (!t->used)
        return false;
    for (unsigned o = 0; o <= max_order && o < 64; o++) {
        uint64_t h = pfn & ~((UINT64_C(1) << o) - 1);
        unsigned ord;

        /* Blocks never overlap, so the first head that covers pfn is it. */
        if (owned_get(t, h, &ord) && ord < 64 &&
            pfn - h < (UINT64_C(1) << ord)) {
            *head = h;
            *order = ord;
            return true;
        }
    }
    return false;
}

void owned_for_each(const struct owned_table *t,
                    void (*fn)(void *ctx, uint64_t pfn, unsigned order),
                    void *ctx)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            fn(ctx, (uint64_t)t->slots[i].key - 1, t->slots[i].order);
}
