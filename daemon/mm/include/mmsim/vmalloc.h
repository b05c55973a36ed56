/*
 * mmsim/vmalloc.h - the vmalloc space: virtually contiguous areas backed
 * by order-0 pages from anywhere.
 *
 * DOC: vmalloc
 *
 * [MMSIM_VMALLOC_START, MMSIM_VMALLOC_END) is the x86-64 (4-level) vmalloc
 * range. mmsim_vmalloc() finds the lowest free range that fits the area
 * plus one guard page (alloc_vmap_area(), as 2.x-5.x kernels counted the
 * guard in vm_struct->size), and backs each page with an order-0 page
 * allocated GFP_KERNEL | __GFP_HIGHMEM: on a machine with HighMem the
 * pages come from there first, as 2.x kernels' vmalloc did. The pages
 * need not be contiguous; the allocation may reclaim. Reads and writes
 * go by virtual address; touching the guard page or outside any area is
 * MMSIM_EFAULT. mmsim_view_vmallocinfo() prints /proc/vmallocinfo.
 *
 * Each area carries an owner tag (the RPC layer's session id): vfree and
 * access check nothing about it; the RPC layer does. Its low 32 bits are
 * also the page owner tag of the backing pages (mmsim_page_owner()).
 *
 * Locking: the space's own mutex (a leaf below everything in mm.h and
 * vm.h except that it is dropped before pages are allocated or freed).
 */
#ifndef MMSIM_VMALLOC_H
#define MMSIM_VMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/mm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MMSIM_VMALLOC_START UINT64_C(0xffffc90000000000)
#define MMSIM_VMALLOC_END   UINT64_C(0xffffe90000000000)
/* Largest single area, in pages (the rest of the space is for others). */
#define MMSIM_VMALLOC_MAX_PAGES (UINT64_C(1) << 22) /* 16 GiB */

/**
 * mmsim_vmalloc() - vmalloc(@size) on behalf of @owner.
 * @m:     the machine (running).
 * @cpu:   calling simulated CPU, or MMSIM_NO_CPU.
 * @size:  bytes, > 0; rounded up to pages.
 * @nid:   node for the pages (vmalloc_node), or MMSIM_ANY_NODE.
 * @owner: tag stored with the area.
 * @addr:  receives the area's start address.
 *
 * More pages than the machine manages fail at once (ENOMEM, as the
 * kernel's "exceeds total pages"). Otherwise the range is reserved first
 * (lowest fit, under the space's lock), then the pages are allocated with
 * no lock held; until that finishes the area is invisible to every other
 * call here.
 *
 * Return: 0; MMSIM_EINVAL (size 0 or above MMSIM_VMALLOC_MAX_PAGES
 * pages, or @addr NULL); MMSIM_ECPU; MMSIM_ENODEV; MMSIM_ENOMEM (no
 * pages, or no room in the range); MMSIM_EHOSTMEM; MMSIM_EPERM before
 * hand-off. On any error nothing stays allocated or reserved.
 */
int mmsim_vmalloc(struct mmsim_machine *m, int cpu, uint64_t size, int nid,
                  uint64_t owner, uint64_t *addr);

/**
 * mmsim_vfree() - free the area starting at @addr and its pages.
 * @cpu: whose per-cpu lists get the pages, or MMSIM_NO_CPU.
 *
 * Return: 0; MMSIM_EINVAL (@addr is not the start of an area);
 * MMSIM_ECPU. On error nothing changes.
 */
int mmsim_vfree(struct mmsim_machine *m, int cpu, uint64_t addr);

/* The area holding @addr: its start, size in bytes (without the guard
 * page) and owner; each out-parameter may be NULL. Return: 0 or
 * MMSIM_EFAULT (the guard page, or no area). */
int mmsim_vmalloc_find(struct mmsim_machine *m, uint64_t addr, uint64_t *start,
                       uint64_t *size, uint64_t *owner);

/* vmalloc_to_pfn(): the page frame behind @addr. Return: 0, MMSIM_EFAULT
 * as for find, or MMSIM_EINVAL (@pfn NULL). */
int mmsim_vmalloc_to_pfn(struct mmsim_machine *m, uint64_t addr, uint64_t *pfn);

/*
 * Read/write @len bytes at @addr, which may cross pages but not leave
 * the area's pages (MMSIM_EFAULT, checked first; nothing is copied).
 * MMSIM_ENOCONTENT on a metadata-only machine; MMSIM_EINVAL for a NULL
 * @buf with @len > 0. The caller must not vfree the area meanwhile (if
 * it does, the copy still only touches pages the area holds: the last
 * of the two to finish frees them).
 */
int mmsim_vread(struct mmsim_machine *m, uint64_t addr, void *buf, size_t len);
int mmsim_vwrite(struct mmsim_machine *m, uint64_t addr, const void *buf,
                 size_t len);

/* vfree every area of @owner (session teardown); a bad @cpu means
 * MMSIM_NO_CPU. Areas still being allocated are not seen. Return: areas
 * freed. */
uint64_t mmsim_vfree_owner(struct mmsim_machine *m, int cpu, uint64_t owner);

/* Totals for meminfo: VmallocUsed (pages) and the number of areas. */
struct mmsim_vmalloc_info {
    uint64_t total_bytes; /* VmallocTotal */
    uint64_t used_pages;  /* backing pages of all areas */
    uint64_t nr_areas;
    uint64_t largest_free; /* bytes, VmallocChunk-like */
};
/* Return: 0, or MMSIM_EINVAL (@vi NULL). */
int mmsim_vmalloc_info(struct mmsim_machine *m, struct mmsim_vmalloc_info *vi);

/*
 * /proc/vmallocinfo: one line per area, ascending, as s_show() prints
 * it: "0x<start>-0x<end> <size> <caller> pages=<n> vmalloc N<nid>=<n>...".
 * <size> counts the guard page. The caller column is
 * "mmsim_vmalloc+0x0/0x0" (no symbols here), or the owner as
 * "session-<id>" when @owners is true. snprintf-style; MMSIM_EINVAL for a
 * NULL @buf with @len > 0.
 */
int64_t mmsim_view_vmallocinfo(struct mmsim_machine *m, bool owners, char *buf,
                               size_t len);

/**
 * mmsim_vmalloc_check() - verify the vmalloc space.
 *
 * Entries sorted, page aligned, inside the range, disjoint with a guard
 * page after each area; every page of every area an allocated order-0
 * block tagged with the owner's low 32 bits, on the node it is counted
 * on; the totals of mmsim_vmalloc_info() add up. Takes only the space's
 * lock (reads page flags the owner alone may change).
 *
 * Return: 0, or MMSIM_ECORRUPT with a message in @err.
 */
int mmsim_vmalloc_check(struct mmsim_machine *m, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_VMALLOC_H */
