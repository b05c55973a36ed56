/*
 * hist.h - a log-linear latency histogram for mmsim-bench.
 *
 * DOC: why a histogram of our own
 *
 * The issue asks for a well-kept histogram library from Debian. Debian 12
 * packages HdrHistogram only for Java and Go (libhdrhistogram-java,
 * golang-github-codahale-hdrhistogram-dev); there is no C HdrHistogram nor
 * any other C latency histogram package. So this is a small one with the
 * same bucket layout as HdrHistogram (and as redis-benchmark, which embeds
 * hdr_histogram.c): values below 2^HIST_SUB_BITS are counted exactly, and
 * each power of two above is split into 2^(HIST_SUB_BITS-1) equal buckets.
 * With HIST_SUB_BITS = 11 a value is known to within 1/1024 of itself
 * (about three significant digits) and exactly below 2048 ns, so a
 * latency in nanoseconds is recorded with better than 1 us resolution up
 * to 1 ms and 0.1% above. Values are clamped at 2^HIST_MAX_BITS ns
 * (about 18 minutes).
 *
 * Recording is one clz and one increment; a histogram is one flat array
 * (248 KiB) owned by one thread; histograms of several threads are merged
 * after the run. Nothing here is thread-safe.
 */
#ifndef MMSIM_BENCH_HIST_H
#define MMSIM_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 11
#define HIST_MAX_BITS 40
/* Exact buckets [0, 2^SUB), then 2^(SUB-1) per power of two above. */
#define HIST_BUCKETS                                                           \
    ((HIST_MAX_BITS - HIST_SUB_BITS + 2) << (HIST_SUB_BITS - 1))

struct bench_hist {
    uint64_t total; /* values recorded */
    uint64_t min;   /* exact; UINT64_MAX while empty */
    uint64_t max;   /* exact */
    uint64_t sum;   /* exact sum of the values, for the mean */
    uint64_t counts[HIST_BUCKETS];
};

/* Empty @h. */
void bench_hist_reset(struct bench_hist *h);

/* Record @v (clamped to 2^HIST_MAX_BITS - 1). */
void bench_hist_record(struct bench_hist *h, uint64_t v);

/* Add every count of @src to @dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);

/*
 * bench_hist_percentile() - the value at percentile @p (0..100): the
 * largest value of the bucket that holds the ceil(@p% of total)-th
 * smallest value (HdrHistogram's "highest equivalent value"), never above
 * the exact max. 100 gives the max; an empty histogram gives 0.
 */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);

/* The mean of the recorded values; 0 when empty. */
double bench_hist_mean(const struct bench_hist *h);

#endif /* MMSIM_BENCH_HIST_H */
