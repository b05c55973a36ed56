/*
 * mmsim/base.h - error codes and the host allocator hook shared by every
 * part of the mmsim core.
 *
 * Error convention (libuv, Linux): functions return int; >= 0 is success
 * (0 or a count), < 0 is one MMSIM_E* code. Where an errno fits, the code
 * is that errno negated; codes without an errno twin live at -4000 and
 * below so they never collide. One X-macro generates the enum,
 * mmsim_strerror() and mmsim_err_name().
 */
#ifndef MMSIM_BASE_H
#define MMSIM_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, value, message) */
#define MMSIM_ERRNO_MAP(XX)                                                    \
    XX(EPERM, -1, "operation not permitted in this boot phase")                \
    XX(ENOENT, -2, "no such object")                                           \
    XX(ENOMEM, -12, "out of memory on the simulated machine")                  \
    XX(EFAULT, -14, "address or pfn is not backed by simulated memory")        \
    XX(EBUSY, -16, "range is already reserved")                                \
    XX(ENODEV, -19, "no such node")                                            \
    XX(EINVAL, -22, "invalid argument")                                        \
    XX(ERANGE, -34, "value out of range")                                      \
    XX(EOVERFLOW, -75, "address range overflows")                              \
    XX(EALREADY, -114, "page is already free")                                 \
    XX(EHOSTMEM, -4000, "host memory allocation failed")                       \
    XX(EORDER, -4001, "freed with an order other than it was allocated with")  \
    XX(ENOTHEAD, -4002, "pfn is not the first page of an allocated block")     \
    XX(ERESERVED, -4003, "page is reserved, not allocated")                    \
    XX(ECORRUPT, -4004, "invariant violated: machine state is corrupt")        \
    XX(EPANIC, -4005, "fatal boot error: the kernel would panic here")         \
    XX(ECONFIG, -4006, "bad machine description")                              \
    XX(ECPU, -4007, "no such simulated cpu")                                   \
    XX(ENOCONTENT, -4008,                                                      \
       "this machine keeps no page contents (metadata only)")                  \
    XX(EMAPPED, -4009, "page belongs to an address space; munmap it instead")  \
    XX(EKILLED, -4010, "address space was killed by the OOM killer")           \
    XX(EIO, -5, "swap file I/O failed")

enum mmsim_errno {
#define MMSIM_ERR_ENUM_(name, val, msg) MMSIM_##name = (val),
    MMSIM_ERRNO_MAP(MMSIM_ERR_ENUM_)
#undef MMSIM_ERR_ENUM_
};

/**
 * mmsim_strerror() - a human-readable message for an error code.
 * @err: an MMSIM_E* code (negative), or any other int.
 *
 * Return: a static string; "unknown error" for codes not in the map,
 * "success" for values >= 0. Never NULL.
 */
const char *mmsim_strerror(int err);

/**
 * mmsim_err_name() - the symbolic name of an error code ("MMSIM_ENOMEM").
 * @err: an MMSIM_E* code.
 *
 * Return: a static string, "MMSIM_UNKNOWN" for codes not in the map.
 */
const char *mmsim_err_name(int err);

/*
 * Host allocator hook. Every host allocation the core makes goes through
 * one of these, so tests can fail the Nth allocation and check that each
 * failure unwinds cleanly (libxml2's failure injection, made
 * deterministic). A NULL hook, or NULL members, means the C library.
 *
 * Ownership: the core never frees memory it did not allocate through the
 * same hook. @ctx is passed back untouched.
 */
struct mmsim_allocator {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*calloc_fn)(void *ctx, size_t nmemb, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
};

/* Page geometry of the simulated machine (x86-64's). */
#define MMSIM_PAGE_SHIFT 12
#define MMSIM_PAGE_SIZE  (UINT64_C(1) << MMSIM_PAGE_SHIFT)

#define MMSIM_PFN_DOWN(x) ((uint64_t)(x) >> MMSIM_PAGE_SHIFT)
#define MMSIM_PFN_UP(x)                                                        \
    (((uint64_t)(x) + MMSIM_PAGE_SIZE - 1) >> MMSIM_PAGE_SHIFT)
#define MMSIM_PFN_PHYS(pfn) ((uint64_t)(pfn) << MMSIM_PAGE_SHIFT)

/* "Any node" / "no node", the kernel's NUMA_NO_NODE. */
#define MMSIM_NUMA_NO_NODE (-1)

/* Upper bounds on machine shape; the description parser enforces them. */
#define MMSIM_MAX_NODES     64
#define MMSIM_MAX_ORDER_CAP 15

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_BASE_H */
