// SPDX-License-Identifier: MIT
/*
 * swap.c - the swap device: a real file, a slot map, page I/O.
 *
 * DOC: swap device
 *
 * The one place the core does I/O. The device is a file of swap_bytes:
 * page 0 holds a mkswap-style header (version 1, last_page, the
 * "SWAPSPACE2" signature), slots are pages 1..last_page, and swap_map
 * keeps one byte per slot. Slots are handed out round-robin from
 * cluster_next, so a reclaim batch writes mostly ascending offsets.
 * A page that was never written since it was allocated is all zeros: it
 * takes a slot marked SWAP_ZERO and no I/O, as the kernel's zeromap does
 * since 6.12. On a metadata-only machine every page is such a page.
 *
 * Locking: swap->lock (a leaf spinlock) protects the map and counters;
 * pread/pwrite run unlocked, on slots owned by the caller (the holder of
 * the mm->lock of the address space whose pte names the slot).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostmem.h"
#include "vm_internal.h"

/* union swap_header's info part, at offset 1024 of page 0. */
struct swap_header_info {
    uint32_t version;
    uint32_t last_page;
    uint32_t nr_badpages;
    uint8_t uuid[16];
    char volume_name[16];
};

static int open_device(struct swap_dev *sd, const char *path, char *err,
                       size_t errlen)
{
    struct stat st;

    if (!path[0]) {
        sd->fd = memfd_create("mmsim-swap", MFD_CLOEXEC);
        snprintf(sd->path, sizeof(sd->path), "/memfd:mmsim-swap (deleted)");
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        sd->fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (sd->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
            char tmpl[sizeof(sd->path) + 32];

            snprintf(tmpl, sizeof(tmpl), "%s/mmsim-swap.XXXXXX", path);
            sd->fd = mkostemp(tmpl, O_CLOEXEC);
            if (sd->fd >= 0)
                unlink(tmpl);
        }
        snprintf(sd->path, sizeof(sd->path), "%s/mmsim-swap (deleted)", path);
    } else {
        sd->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        snprintf(sd->path, sizeof(sd->path), "%s", path);
    }
    if (sd->fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "swap_path: cannot open %s: %s",
                     path[0] ? path : "an in-memory file", strerror(errno));
        return MMSIM_EIO;
    }
    return 0;
}

static int write_header(struct swap_dev *sd)
{
    uint8_t page[MMSIM_PAGE_SIZE] = {0};
    struct swap_header_info info = {
        .version = 1,
        .last_page = (uint32_t)(sd->nr_slots - 1),
    };

    memcpy(page + 1024, &info, sizeof(info));
    memcpy(page + MMSIM_PAGE_SIZE - 10, "SWAPSPACE2", 10);
    return pwrite(sd->fd, page, sizeof(page), 0) == (ssize_t)sizeof(page)
               ? 0
               : MMSIM_EIO;
}

int mmsim_swap_init(struct mmsim_machine *m, char *err, size_t errlen)
{
    struct swap_dev *sd = &m->vm->swap;
    uint64_t bytes = m->desc.swap_bytes;
    int rc;

    mmsim_spin_init(&sd->lock);
    sd->fd = -1;
    if (!bytes)
        return 0;
    rc = open_device(sd, m->desc.swap_path, err, errlen);
    if (rc)
        return rc;
    sd->nr_slots = bytes >> MMSIM_PAGE_SHIFT;
    if (ftruncate(sd->fd, (off_t)bytes) || write_header(sd)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "swap_path: cannot size %s to %" PRIu64 " bytes: %s",
                     sd->path, bytes, strerror(errno));
        mmsim_swap_fini(m);
        return MMSIM_EIO;
    }
    sd->map_bytes = sd->nr_slots;
    sd->map = host_map_zeroed(m->alloc, sd->map_bytes);
    if (!sd->map) {
        mmsim_swap_fini(m);
        return MMSIM_EHOSTMEM;
    }
    sd->map[0] = SWAP_USED; /* the header */
    sd->next = 1;
    mmsim_log(m, 6,
              "Adding %" PRIu64 "k swap on %s.  Priority:-2 extents:1 "
              "across:%" PRIu64 "k",
              (sd->nr_slots - 1) * 4, sd->path, (sd->nr_slots - 1) * 4);
    return 0;
}

void mmsim_swap_fini(struct mmsim_machine *m)
{
    struct swap_dev *sd = &m->vm->swap;

    if (sd->fd >= 0)
        close(sd->fd);
    sd->fd = -1;
    host_unmap(m->alloc, sd->map, sd->map_bytes);
    sd->map = NULL;
    sd->nr_slots = 0;
}

int mmsim_swap_alloc(struct mmsim_machine *m, bool zero, uint64_t *slot)
{
    struct swap_dev *sd = &m->vm->swap;
    uint64_t s;

    if (sd->fd < 0)
        return MMSIM_ENOMEM;
    mmsim_spin_lock(&sd->lock);
    if (sd->used + 1 >= sd->nr_slots) {
        bool first = !atomic_exchange(&sd->full, true);

        mmsim_spin_unlock(&sd->lock);
        if (first)
            mmsim_log(m, 4,
                      "swap: device %s full (%" PRIu64
                      " slots): anonymous pages stay in memory",
                      sd->path, sd->nr_slots - 1);
        return MMSIM_ENOMEM;
    }
    for (s = sd->next; sd->map[s]; s = s + 1 < sd->nr_slots ? s + 1 : 1)
        ;
    sd->map[s] = zero ? SWAP_ZERO : SWAP_USED;
    sd->used++;
    sd->next = s + 1 < sd->nr_slots ? s + 1 : 1;
    mmsim_spin_unlock(&sd->lock);
    *slot = s;
    return 0;
}

void mmsim_swap_free(struct mmsim_machine *m, uint64_t slot)
{
    struct swap_dev *sd = &m->vm->swap;

    mmsim_spin_lock(&sd->lock);
    MMSIM_ASSERT(slot && slot < sd->nr_slots && sd->map[slot]);
    sd->map[slot] = 0;
    sd->used--;
    mmsim_spin_unlock(&sd->lock);
    /* Room again: the next full device gets logged again. */
    if (atomic_load_explicit(&sd->full, memory_order_relaxed))
        atomic_store(&sd->full, false);
}

bool mmsim_swap_slot_used(struct mmsim_machine *m, uint64_t slot)
{
    struct swap_dev *sd = &m->vm->swap;

    return slot && slot < sd->nr_slots && sd->map[slot];
}

static void io_error(struct mmsim_machine *m, const char *what, uint64_t slot,
                     int e)
{
    struct swap_dev *sd = &m->vm->swap;

    if (!atomic_exchange(&sd->io_error_logged, true))
        mmsim_log(m, 3, "swap: %s of slot %" PRIu64 " on %s failed: %s", what,
                  slot, sd->path, e ? strerror(e) : "short transfer");
}

/*
 * One page between @buf and @slot of the device, retrying EINTR and short
 * transfers. Return: 0, or MMSIM_EIO (logged).
 */
static int swap_xfer(struct mmsim_machine *m, uint64_t slot, uint8_t *buf,
                     bool write)
{
    struct swap_dev *sd = &m->vm->swap;
    off_t off = (off_t)(slot << MMSIM_PAGE_SHIFT);
    size_t done = 0;

    while (done < MMSIM_PAGE_SIZE) {
        size_t left = MMSIM_PAGE_SIZE - done;
        ssize_t n = write ? pwrite(sd->fd, buf + done, left, off + (off_t)done)
                          : pread(sd->fd, buf + done, left, off + (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            io_error(m, write ? "write" : "read", slot, n < 0 ? errno : 0);
            return MMSIM_EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

int mmsim_swap_write(struct mmsim_machine *m, uint64_t slot, uint64_t pfn)
{
    /* pwrite() only reads the page. */
    return swap_xfer(m, slot, m->contents + pfn * MMSIM_PAGE_SIZE, true);
}

int mmsim_swap_read(struct mmsim_machine *m, uint64_t slot, uint64_t pfn)
{
    struct swap_dev *sd = &m->vm->swap;
    uint8_t *dst;
    uint8_t kind;

    mmsim_spin_lock(&sd->lock);
    kind = sd->map[slot];
    mmsim_spin_unlock(&sd->lock);
    /* A zero slot: the fresh page is zero already. */
    if (kind == SWAP_ZERO || !m->contents)
        return 0;
    dst = m->contents + pfn * MMSIM_PAGE_SIZE;
    if (swap_xfer(m, slot, dst, false)) {
        /* Leave the page as it was found: zero. */
        memset(dst, 0, MMSIM_PAGE_SIZE);
        return MMSIM_EIO;
    }
    atomic_fetch_or_explicit(&m->dirty[pfn / 64], UINT64_C(1) << (pfn % 64),
                             memory_order_relaxed);
    return 0;
}

int mmsim_swap_info(struct mmsim_machine *m, struct mmsim_swap_info *si)
{
    struct swap_dev *sd = &m->vm->swap;

    memset(si, 0, sizeof(*si));
    if (sd->fd < 0)
        return 0;
    si->present = true;
    snprintf(si->path, sizeof(si->path), "%s", sd->path);
    si->pages = sd->nr_slots - 1;
    mmsim_spin_lock(&sd->lock);
    si->used = sd->used;
    mmsim_spin_unlock(&sd->lock);
    si->full_events = atomic_load(&m->vm->ev[VE_SWAP_FULL]) != 0;
    return 0;
}
