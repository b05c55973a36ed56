/*
 * hist.c - the log-linear latency histogram of mmsim-bench (hist.h says
 * why it exists and how its buckets are laid out).
 *
 * Bucket index of a value v, with S = HIST_SUB_BITS and H = 2^(S-1):
 *   v < 2^S:  v itself (exact);
 *   else:     e = floor(log2 v), shift = e - S + 1, the top S bits of v are
 *             m = v >> shift in [H, 2H), and the index is
 *             (e - S + 2) * H + (m - H).
 * Both rules give 2^S for v = 2^S, so the indices are contiguous. Each
 * bucket above the exact range holds 2^shift values, 1/H of its lowest.
 */
#include "hist.h"

#include <string.h>

#define HIST_HALF      (UINT64_C(1) << (HIST_SUB_BITS - 1))
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)

static unsigned hist_index(uint64_t v)
{
    unsigned e, shift;

    if (v < (UINT64_C(1) << HIST_SUB_BITS))
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    shift = e - HIST_SUB_BITS + 1;
    return (unsigned)((e - HIST_SUB_BITS + 2) * HIST_HALF +
                      ((v >> shift) - HIST_HALF));
}

/* The largest value that lands in bucket @idx. */
static uint64_t hist_highest(unsigned idx)
{
    unsigned k, shift;
    uint64_t low;

    if (idx < (1u << HIST_SUB_BITS))
        return idx;
    k = idx >> (HIST_SUB_BITS - 1);
    shift = k - 1;
    low = ((idx & (HIST_HALF - 1)) + HIST_HALF) << shift;
    return low + (UINT64_C(1) << shift) - 1;
}

void bench_hist_reset(struct bench_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void bench_hist_record(struct bench_hist *h, uint64_t v)
{
    if (v > HIST_MAX_VALUE)
        v = HIST_MAX_VALUE;
    h->counts[hist_index(v)]++;
    h->total++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
    if (!src->total)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double p)
{
    uint64_t rank, seen = 0;
    double r;

    if (!h->total)
        return 0;
    if (p >= 100.0)
        return h->max;
    if (p < 0.0)
        p = 0.0;
    /* The rank-th smallest value, 1-based; at least the first. */
    r = p / 100.0 * (double)h->total;
    rank = (uint64_t)r;
    if ((double)rank < r)
        rank++;
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_highest(i);

            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

double bench_hist_mean(const struct bench_hist *h)
{
    return h->total ? (double)h->sum / (double)h->total : 0.0;
}
