/*
 * fuzz.h - what every fuzz target shares: the entry point's prototype, a
 * byte reader that never fails (it reads zeros past the end, so every
 * input is a complete program), the writer the seed generator uses, a
 * host allocator that fails the Nth allocation, and fz_fail(), which
 * aborts with a message so every engine records a crash.
 *
 * Header-only: each target and tool is one translation unit plus this.
 * Nothing here keeps global state, so targets stay clean across the
 * thousands of runs of one AFL++ persistent-mode or libFuzzer process.
 */
#ifndef MMSIM_FUZZ_H
#define MMSIM_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmsim/base.h"

/*
 * FZ_NOCOV: no coverage instrumentation for a function of the target's
 * own model. The engine should chase new behaviour of the code under
 * test, not of the checks, and the model's loops would otherwise spend
 * much of each run in comparison tracing.
 */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FZ_NOCOV
#endif

/* The engine's entry point, defined once per target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A finding: print it and abort(). abort() rather than exit() so
 * libFuzzer, AFL++ and the reproducer all see a crash with a stack.
 */
__attribute__((noreturn, format(printf, 1, 2))) static inline void
fz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("mmsim-fuzz: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__VA_ARGS__);                                              \
    } while (0)

/* ---- reading inputs ---------------------------------------------------- */

/* struct fz_in - the unread rest of an input. Little-endian fields. */
struct fz_in {
    const uint8_t *p;
    size_t n;
};

static inline bool fz_more(const struct fz_in *in)
{
    return in->n > 0;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
    uint16_t lo = fz_u8(in);

    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
    uint32_t lo = fz_u16(in);

    return lo | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_u64(struct fz_in *in)
{
    uint64_t lo = fz_u32(in);

    return lo | (uint64_t)fz_u32(in) << 32;
}

/* ---- writing inputs (the seed generator) ------------------------------- */

/* struct fz_out - a growing byte buffer; aborts when the host is out. */
struct fz_out {
    uint8_t *buf;
    size_t len;
    size_t cap;
};

/*
 * Out of line: the rare path, and where gcc -O3 cannot follow the
 * realloc() into the callers and warn of overflows that cannot happen.
 */
__attribute__((noinline, unused)) static void fz_grow(struct fz_out *o)
{
    size_t cap = o->cap ? o->cap * 2 : 256;
    uint8_t *b;

    if (cap <= o->cap)
        fz_fail("output too large");
    b = realloc(o->buf, cap);
    if (!b)
        fz_fail("out of host memory");
    o->buf = b;
    o->cap = cap;
}

static inline void fz_put_u8(struct fz_out *o, unsigned v)
{
    if (o->len == o->cap)
        fz_grow(o);
    o->buf[o->len++] = (uint8_t)v;
}

static inline void fz_put_u16(struct fz_out *o, unsigned v)
{
    fz_put_u8(o, v & 0xff);
    fz_put_u8(o, (v >> 8) & 0xff);
}

static inline void fz_put_u32(struct fz_out *o, uint32_t v)
{
    fz_put_u16(o, v & 0xffff);
    fz_put_u16(o, v >> 16);
}

static inline void fz_put_u64(struct fz_out *o, uint64_t v)
{
    fz_put_u32(o, (uint32_t)v);
    fz_put_u32(o, (uint32_t)(v >> 32));
}

static inline void fz_put_bytes(struct fz_out *o, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fz_put_u8(o, ((const uint8_t *)p)[i]);
}

static inline void fz_out_free(struct fz_out *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}

/* ---- host allocation failure injection --------------------------------- */

/*
 * struct fz_hostfail - a struct mmsim_allocator context that fails host
 * allocation number @fail_at (1-based; 0 never). @hit records that the
 * failure happened, so a target can demand that it was reported
 * (libxml2's xmlFuzzCheckFailureReport()).
 */
struct fz_hostfail {
    unsigned long fail_at;
    unsigned long count;
    bool hit;
};

static inline bool fz_hostfail_now(struct fz_hostfail *f)
{
    if (++f->count == f->fail_at) {
        f->hit = true;
        return true;
    }
    return false;
}

static inline void *fz_hf_malloc(void *ctx, size_t size)
{
    return fz_hostfail_now(ctx) ? NULL : malloc(size);
}

static inline void *fz_hf_calloc(void *ctx, size_t n, size_t size)
{
    return fz_hostfail_now(ctx) ? NULL : calloc(n, size);
}

static inline void *fz_hf_realloc(void *ctx, void *p, size_t size)
{
    return fz_hostfail_now(ctx) ? NULL : realloc(p, size);
}

static inline void fz_hf_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static inline struct mmsim_allocator
fz_hostfail_allocator(struct fz_hostfail *f)
{
    struct mmsim_allocator a = {fz_hf_malloc, fz_hf_calloc, fz_hf_realloc,
                                fz_hf_free, f};
    return a;
}

/* Return: @rc's symbolic name, for messages. */
static inline const char *fz_err(int rc)
{
    return rc >= 0 ? "0" : mmsim_err_name(rc);
}

#endif /* MMSIM_FUZZ_H */
