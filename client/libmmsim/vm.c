// SPDX-License-Identifier: MIT
/*
 * vm.c - libmmsim's virtual-memory calls: Mmap, Munmap, MemRead,
 * MemWrite, GetMmStat, Vmalloc, Vfree, VRead, VWrite, Reclaim.
 *
 * Each operation has a build_*() that fills a Request from caller
 * storage, shared by the blocking call (client_call()) and the pipelined
 * one (mmsim_client_send()). Fields equal to their declared default are
 * left out, as client.c does.
 */
#include <string.h>

#include "internal.h"
#include "mmsim/client.h"

/* ---- Requests */

static void build_mmap(Mmsim__V1__Request *req, Mmsim__V1__Mmap *mp,
                       uint64_t nr_pages, int node)
{
    mp->has_nr_pages = 1;
    mp->nr_pages = nr_pages;
    mp->has_node = node != MMSIM_CLIENT_ANY_NODE;
    mp->node = node;
    req->op_case = MMSIM__V1__REQUEST__OP_MMAP;
    req->mmap = mp;
}

static void build_munmap(Mmsim__V1__Request *req, Mmsim__V1__Munmap *mu,
                         uint64_t addr, uint64_t nr_pages)
{
    mu->has_addr = mu->has_nr_pages = 1;
    mu->addr = addr;
    mu->nr_pages = nr_pages;
    req->op_case = MMSIM__V1__REQUEST__OP_MUNMAP;
    req->munmap = mu;
}

static void build_mem_read(Mmsim__V1__Request *req, Mmsim__V1__MemRead *rd,
                           uint64_t addr, uint32_t len)
{
    rd->has_addr = rd->has_length = 1;
    rd->addr = addr;
    rd->length = len;
    req->op_case = MMSIM__V1__REQUEST__OP_MEM_READ;
    req->mem_read = rd;
}

static void build_mem_write(Mmsim__V1__Request *req, Mmsim__V1__MemWrite *wr,
                            uint64_t addr, const void *data, size_t len)
{
    wr->has_addr = wr->has_data = 1;
    wr->addr = addr;
    wr->data.data = (uint8_t *)data;
    wr->data.len = len;
    req->op_case = MMSIM__V1__REQUEST__OP_MEM_WRITE;
    req->mem_write = wr;
}

static void build_vmalloc(Mmsim__V1__Request *req, Mmsim__V1__Vmalloc *v,
                          uint64_t size, int node)
{
    v->has_size = 1;
    v->size = size;
    v->has_node = node != MMSIM_CLIENT_ANY_NODE;
    v->node = node;
    req->op_case = MMSIM__V1__REQUEST__OP_VMALLOC;
    req->vmalloc = v;
}

static void build_vfree(Mmsim__V1__Request *req, Mmsim__V1__Vfree *v,
                        uint64_t addr)
{
    v->has_addr = 1;
    v->addr = addr;
    req->op_case = MMSIM__V1__REQUEST__OP_VFREE;
    req->vfree = v;
}

static void build_vread(Mmsim__V1__Request *req, Mmsim__V1__VRead *rd,
                        uint64_t addr, uint32_t len)
{
    rd->has_addr = rd->has_length = 1;
    rd->addr = addr;
    rd->length = len;
    req->op_case = MMSIM__V1__REQUEST__OP_VREAD;
    req->vread = rd;
}

static void build_vwrite(Mmsim__V1__Request *req, Mmsim__V1__VWrite *wr,
                         uint64_t addr, const void *data, size_t len)
{
    wr->has_addr = wr->has_data = 1;
    wr->addr = addr;
    wr->data.data = (uint8_t *)data;
    wr->data.len = len;
    req->op_case = MMSIM__V1__REQUEST__OP_VWRITE;
    req->vwrite = wr;
}

static void build_reclaim(Mmsim__V1__Request *req, Mmsim__V1__Reclaim *r,
                          int node, unsigned steps, unsigned flags)
{
    r->has_node = node != MMSIM_CLIENT_ANY_NODE;
    r->node = node;
    r->has_steps = steps != 1;
    r->steps = steps;
    r->has_balance = (flags & MMSIM_CLIENT_RECLAIM_BALANCE) != 0;
    r->balance = r->has_balance;
    r->has_as_kswapd = (flags & MMSIM_CLIENT_RECLAIM_KSWAPD) != 0;
    r->as_kswapd = r->has_as_kswapd;
    req->op_case = MMSIM__V1__REQUEST__OP_RECLAIM;
    req->reclaim = r;
}

/* A ReadReply's bytes into @buf; more than @len is the server's bug. */
static int take_read(struct mmsim_client *c, Mmsim__V1__Response *r,
                     uint32_t len, void *buf, size_t *got)
{
    size_t n = r->read->data.len;

    if (n > len) {
        mmsim_client_pb_free(r);
        return client_broken(c, "the server returned more bytes than asked");
    }
    if (n)
        memcpy(buf, r->read->data.data, n);
    if (got)
        *got = n;
    mmsim_client_pb_free(r);
    return 0;
}

/* ---- Blocking calls */

int mmsim_client_mmap(struct mmsim_client *c, uint64_t nr_pages, int node,
                      uint64_t *addr)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Mmap mp = MMSIM__V1__MMAP__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_mmap(&req, &mp, nr_pages, node);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_MMAP, &r);
    if (rc)
        return rc;
    if (addr)
        *addr = r->mmap->addr;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_munmap(struct mmsim_client *c, uint64_t addr,
                        uint64_t nr_pages)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Munmap mu = MMSIM__V1__MUNMAP__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_munmap(&req, &mu, addr, nr_pages);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_mem_read(struct mmsim_client *c, uint64_t addr, uint32_t len,
                          void *buf, size_t *got)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemRead rd = MMSIM__V1__MEM_READ__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (got)
        *got = 0;
    if (len && !buf)
        return client_invalid(c, "buffer is NULL");
    build_mem_read(&req, &rd, addr, len);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_READ, &r);
    if (rc)
        return rc;
    return take_read(c, r, len, buf, got);
}

int mmsim_client_mem_write(struct mmsim_client *c, uint64_t addr,
                           const void *data, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemWrite wr = MMSIM__V1__MEM_WRITE__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (len && !data)
        return client_invalid(c, "data is NULL");
    build_mem_write(&req, &wr, addr, data, len);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_mm_stat(struct mmsim_client *c,
                         struct mmsim_client_mm_stat *out)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMmStat gs = MMSIM__V1__GET_MM_STAT__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__MmStatReply *st;
    int rc;

    req.op_case = MMSIM__V1__REQUEST__OP_MM_STAT;
    req.mm_stat = &gs;
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_MM_STAT, &r);
    if (rc)
        return rc;
    st = r->mm_stat;
    if (out) {
        memset(out, 0, sizeof(*out));
        out->owner = st->owner;
        out->total_vm = st->total_vm;
        out->rss = st->rss;
        out->swapents = st->swapents;
        out->nr_regions = st->nr_regions;
        out->minflt = st->minflt;
        out->majflt = st->majflt;
        out->extra = st->extra;
        out->oom_killed = st->oom_killed;
        out->block_pages = st->block_pages;
        out->vmalloc_pages = st->vmalloc_pages;
        out->vmalloc_areas = st->vmalloc_areas;
    }
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_vmalloc(struct mmsim_client *c, uint64_t size, int node,
                         uint64_t *addr, uint64_t *rounded)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vmalloc v = MMSIM__V1__VMALLOC__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_vmalloc(&req, &v, size, node);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_VMALLOC, &r);
    if (rc)
        return rc;
    if (addr)
        *addr = r->vmalloc->addr;
    if (rounded)
        *rounded = r->vmalloc->size;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_vfree(struct mmsim_client *c, uint64_t addr)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vfree v = MMSIM__V1__VFREE__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    build_vfree(&req, &v, addr);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_vread(struct mmsim_client *c, uint64_t addr, uint32_t len,
                       void *buf, size_t *got)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__VRead rd = MMSIM__V1__VREAD__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (got)
        *got = 0;
    if (len && !buf)
        return client_invalid(c, "buffer is NULL");
    build_vread(&req, &rd, addr, len);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_READ, &r);
    if (rc)
        return rc;
    return take_read(c, r, len, buf, got);
}

int mmsim_client_vwrite(struct mmsim_client *c, uint64_t addr, const void *data,
                        size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__VWrite wr = MMSIM__V1__VWRITE__INIT;
    Mmsim__V1__Response *r = NULL;
    int rc;

    if (len && !data)
        return client_invalid(c, "data is NULL");
    build_vwrite(&req, &wr, addr, data, len);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT__NOT_SET, &r);
    if (rc)
        return rc;
    mmsim_client_pb_free(r);
    return 0;
}

int mmsim_client_reclaim(struct mmsim_client *c, int node, unsigned steps,
                         unsigned flags, struct mmsim_client_reclaim *out)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Reclaim rc_msg = MMSIM__V1__RECLAIM__INIT;
    Mmsim__V1__Response *r = NULL;
    const Mmsim__V1__ReclaimReply *rr;
    int rc;

    if (flags & ~(MMSIM_CLIENT_RECLAIM_BALANCE | MMSIM_CLIENT_RECLAIM_KSWAPD))
        return client_invalid(c, "unknown reclaim flags");
    build_reclaim(&req, &rc_msg, node, steps, flags);
    rc = client_call(c, &req, MMSIM__V1__RESPONSE__RESULT_RECLAIM, &r);
    if (rc)
        return rc;
    rr = r->reclaim;
    if (out) {
        memset(out, 0, sizeof(*out));
        out->scanned = rr->scanned;
        out->reclaimed = rr->reclaimed;
        out->activated = rr->activated;
        out->deactivated = rr->deactivated;
        out->kept = rr->kept;
        out->balanced = rr->balanced;
    }
    mmsim_client_pb_free(r);
    return 0;
}

/* ---- Pipelined calls */

int64_t mmsim_client_send_mmap(struct mmsim_client *c, uint64_t nr_pages,
                               int node)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Mmap mp = MMSIM__V1__MMAP__INIT;

    build_mmap(&req, &mp, nr_pages, node);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_munmap(struct mmsim_client *c, uint64_t addr,
                                 uint64_t nr_pages)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Munmap mu = MMSIM__V1__MUNMAP__INIT;

    build_munmap(&req, &mu, addr, nr_pages);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_mem_read(struct mmsim_client *c, uint64_t addr,
                                   uint32_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemRead rd = MMSIM__V1__MEM_READ__INIT;

    build_mem_read(&req, &rd, addr, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_mem_write(struct mmsim_client *c, uint64_t addr,
                                    const void *data, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__MemWrite wr = MMSIM__V1__MEM_WRITE__INIT;

    if (len && !data)
        return client_invalid(c, "data is NULL");
    build_mem_write(&req, &wr, addr, data, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_mm_stat(struct mmsim_client *c)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetMmStat gs = MMSIM__V1__GET_MM_STAT__INIT;

    req.op_case = MMSIM__V1__REQUEST__OP_MM_STAT;
    req.mm_stat = &gs;
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_vmalloc(struct mmsim_client *c, uint64_t size,
                                  int node)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vmalloc v = MMSIM__V1__VMALLOC__INIT;

    build_vmalloc(&req, &v, size, node);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_vfree(struct mmsim_client *c, uint64_t addr)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Vfree v = MMSIM__V1__VFREE__INIT;

    build_vfree(&req, &v, addr);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_vread(struct mmsim_client *c, uint64_t addr,
                                uint32_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__VRead rd = MMSIM__V1__VREAD__INIT;

    build_vread(&req, &rd, addr, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_vwrite(struct mmsim_client *c, uint64_t addr,
                                 const void *data, size_t len)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__VWrite wr = MMSIM__V1__VWRITE__INIT;

    if (len && !data)
        return client_invalid(c, "data is NULL");
    build_vwrite(&req, &wr, addr, data, len);
    return mmsim_client_send(c, &req);
}

int64_t mmsim_client_send_reclaim(struct mmsim_client *c, int node,
                                  unsigned steps, unsigned flags)
{
    Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Reclaim r = MMSIM__V1__RECLAIM__INIT;

    if (flags & ~(MMSIM_CLIENT_RECLAIM_BALANCE | MMSIM_CLIENT_RECLAIM_KSWAPD))
        return client_invalid(c, "unknown reclaim flags");
    build_reclaim(&req, &r, node, steps, flags);
    return mmsim_client_send(c, &req);
}
