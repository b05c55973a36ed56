/*
 * minmax.h - the kernel's min()/max()/clamp() for the u64 the core counts
 * in. Internal to daemon/mm.
 */
#ifndef MMSIM_MINMAX_H
#define MMSIM_MINMAX_H

#include <stdint.h>

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static inline uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#endif /* MMSIM_MINMAX_H */
