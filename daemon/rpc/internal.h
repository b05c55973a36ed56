/*
 * internal.h - what the files of daemon/rpc share and nobody else sees.
 *
 *   rpc.c    the engine: configuration, sessions, framing, the decode
 *            budget, Hello and the gate in front of every operation,
 *            encoding, logging, the MMSIM_E* -> Status table.
 *   ops.c    the operations proper: pages, batches, contents, views,
 *            Check, GetMachine.
 *   owned.c  the per-session table of owned blocks.
 *   vm.c     the session's address space and vmalloc areas, Reclaim, and
 *            OOM kills (the registry of live sessions).
 *
 * Threads: a struct mmsim_rpc is read-only after creation except for its
 * atomics and the session registry; a session and everything hanging off
 * it (its table, its decoder, its address space, the struct rpc_req of
 * the request being handled) is used by one thread at a time, the one
 * feeding it, except for @killed (atomic) and the registry links and
 * @ctx (sessions_lock). Our one lock is rpc->sessions_lock, a leaf but
 * for the session_killed callback, which runs under it (and takes the
 * transport's own locks). The machine locks itself; no machine lock is
 * held across a protobuf-c call (we never hold one at all), and
 * sessions_lock is never held across a call into the machine.
 */
#ifndef MMSIM_RPC_INTERNAL_H
#define MMSIM_RPC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "mmsim.pb-c.h"
#include "mmsim/rpc.h"
#include "mmsim/vm.h"

#if defined(__GNUC__) || defined(__clang__)
#define RPC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RPC_PRINTF(f, a)
#endif

typedef Mmsim__V1__Status rpc_status;

/* Log levels, the kernel's (mm.h). */
#define RPC_LOG_ERR   3
#define RPC_LOG_WARN  4
#define RPC_LOG_INFO  6
#define RPC_LOG_DEBUG 7

/*
 * The largest Response the server sends. Requests are bounded by
 * limits.max_frame_bytes; responses are not (a zoneinfo view of a big
 * machine is long), but a client needs some bound to size its decoder,
 * and PROTOCOL.md promises this one.
 */
#define RPC_MAX_RESPONSE_BYTES (UINT32_C(64) << 20)

/* Regions per address space by default: Linux's vm.max_map_count. */
#define RPC_DEFAULT_MAX_MAPPINGS 65530u
/* Reclaim.steps: at most this many shrink_node() passes per node. */
#define RPC_MAX_RECLAIM_STEPS 1024u

/* ---- owned.c ---------------------------------------------------------- */

/*
 * The blocks a session owns: head pfn -> order, open addressing with
 * linear probing and backward-shift deletion (no tombstones, so lookups
 * stay short however the session churns). Slots are 8 bytes; pfns fit in
 * 32 bits (desc.h: MMSIM_MAX_PHYS), key = pfn + 1 so that 0 marks empty.
 * The table holds at most one entry per owned block, so its size follows
 * the pages the session owns (bounded by limits.max_pages, and by the
 * machine), at a load of at most 3/4; it shrinks as blocks are freed.
 */
struct owned_slot {
    uint32_t key; /* pfn + 1; 0: empty */
    uint32_t order;
};

struct owned_table {
    struct owned_slot *slots; /* NULL while empty */
    size_t cap;               /* a power of two, or 0 */
    size_t used;              /* blocks */
};

void owned_init(struct owned_table *t);
void owned_fini(struct owned_table *t);
/* Make room for @n more blocks. Return: 0 or MMSIM_EHOSTMEM. */
int owned_reserve(struct owned_table *t, size_t n);
/* Record a block; room must have been reserved. */
void owned_insert(struct owned_table *t, uint64_t pfn, unsigned order);
/* Return: true and the order when @pfn is the head of an owned block. */
bool owned_get(const struct owned_table *t, uint64_t pfn, unsigned *order);
/* Forget the block headed by @pfn (which must be owned). */
void owned_remove(struct owned_table *t, uint64_t pfn);
/*
 * The owned block containing @pfn, which may be any of its pages: checks
 * the candidate heads pfn & ~(2^o - 1) for o = 0..@max_order.
 * Return: true, with *@head and *@order, when there is one.
 */
bool owned_block_of(const struct owned_table *t, uint64_t pfn,
                    unsigned max_order, uint64_t *head, unsigned *order);
/* Visit every block (teardown). @fn must not change the table. */
void owned_for_each(const struct owned_table *t,
                    void (*fn)(void *ctx, uint64_t pfn, unsigned order),
                    void *ctx);

/* ---- rpc.c ------------------------------------------------------------ */

struct mmsim_rpc {
    /* Read-only after mmsim_rpc_create(). */
    struct mmsim_machine *machine; /* borrowed */
    struct mmsim_rpc_limits limits;
    uint8_t *token; /* NULL: none required */
    size_t token_len;
    char *server_version;
    mmsim_log_fn log;
    void *log_ctx;
    struct mmsim_rpc_recorder recorder;
    bool recording;                        /* recorder set */
    unsigned max_order, nr_nodes, nr_cpus; /* the machine's, cached */
    bool contents;

    atomic_uint_fast64_t next_session_id; /* ids are never reused */
    atomic_uint_fast64_t live_sessions;   /* for mmsim_rpc_destroy()'s check */
    atomic_bool shutting_down;

    /* OOM kills (vm.c): every live session, to find one by id. */
    void (*session_killed)(void *ctx, void *session_ctx, uint64_t id);
    void *session_killed_ctx;
    pthread_mutex_t sessions_lock; /* protects @sessions and the links */
    struct mmsim_session *sessions;
};

struct mmsim_session {
    struct mmsim_rpc *rpc; /* borrowed */
    uint64_t id;
    uint32_t tag; /* low 32 bits of id: the machine's owner tag */
    int cpu;
    char peer[64];   /* printable, for logs */
    char client[64]; /* Hello.client_name, printable, for logs */
    bool authenticated;
    bool closed; /* sticky: MMSIM_FEED_CLOSE from now on */
    struct mmsim_frame_decoder dec;
    struct owned_table owned;
    uint64_t pages;    /* == sum of 2^order over owned */
    uint32_t feed_seq; /* requests decoded in the current feed call */
    void *rec;         /* the recorder's handle; NULL: not recorded */

    /* Virtual memory (vm.c). */
    struct mmsim_mm *mm;    /* created by the first Mmap; NULL before */
    uint64_t vmalloc_pages; /* pages of the vmalloc areas owned */
    uint64_t vmalloc_areas; /* areas owned (owner tag = @id) */
    atomic_bool killed;     /* chosen by the OOM killer; sticky */
    /* Protected by rpc->sessions_lock. */
    struct mmsim_session *reg_prev, *reg_next;
    void *ctx; /* mmsim_session_set_ctx() */
};

/*
 * Scratch memory for building one Response: freed in one go after it is
 * packed. The first pieces come from @small, inside the request on the
 * stack (the reply of a hot operation fits, so those cost no malloc);
 * the rest are heap blocks of their own. Under ASan every piece of
 * @small has a poisoned redzone behind it and the unused part stays
 * poisoned, so overruns are caught either way (rpc.c).
 */
#define RPC_ARENA_SMALL 256

struct rpc_arena {
    void *head;  /* list of heap blocks, newest first */
    size_t used; /* bytes of @small handed out, redzones included */
    _Alignas(max_align_t) unsigned char small[RPC_ARENA_SMALL];
};

/* One request being handled. */
struct rpc_req {
    struct mmsim_session *s;
    struct mmsim_rpc *rpc;
    struct rpc_arena arena;
    Mmsim__V1__Response resp;
    char msg[256]; /* resp.message, when set by rpc_fail() */
    bool close;    /* close the connection after this response */
    bool hostmem;  /* the host ran out of memory: INTERNAL, close */
};

void rpc_log(const struct mmsim_rpc *rpc, int level, const char *fmt, ...)
    RPC_PRINTF(3, 4);
/* Log with the "session N (peer): " prefix. */
void session_log(const struct mmsim_session *s, int level, const char *fmt, ...)
    RPC_PRINTF(3, 4);

/* Zeroed scratch memory; NULL (and rq->hostmem set) when the host is out. */
void *rpc_alloc(struct rpc_req *rq, size_t size);
/* A copy of a formatted string in the arena; "" when the host is out. */
char *rpc_strdupf(struct rpc_req *rq, const char *fmt, ...) RPC_PRINTF(2, 3);

/* Set the Response's status and message. */
void rpc_fail(struct rpc_req *rq, rpc_status st, const char *fmt, ...)
    RPC_PRINTF(3, 4);

/* The one table from MMSIM_E* codes to wire statuses. */
rpc_status rpc_status_of(int err);

/* ---- ops.c ------------------------------------------------------------ */

/*
 * A per-entry outcome: single operations copy it into the Response,
 * batches into their result entries.
 */
struct rpc_result {
    rpc_status status;
    char msg[200];
};

void op_alloc(struct rpc_req *rq, const Mmsim__V1__AllocPages *a);
void op_free(struct rpc_req *rq, const Mmsim__V1__FreePages *f);
void op_alloc_batch(struct rpc_req *rq, const Mmsim__V1__AllocBatch *b);
void op_free_batch(struct rpc_req *rq, const Mmsim__V1__FreeBatch *b);
void op_read(struct rpc_req *rq, const Mmsim__V1__ReadPage *r);
void op_write(struct rpc_req *rq, const Mmsim__V1__WritePage *w);
void op_view(struct rpc_req *rq, const Mmsim__V1__GetView *v);
void op_check(struct rpc_req *rq, const Mmsim__V1__Check *c);
void op_machine(struct rpc_req *rq);
/* The summary HelloReply and MachineReply carry; NULL if the host is out. */
Mmsim__V1__MachineSummary *op_summary(struct rpc_req *rq);

/* ---- vm.c ------------------------------------------------------------- */

void op_mmap(struct rpc_req *rq, const Mmsim__V1__Mmap *mp);
void op_munmap(struct rpc_req *rq, const Mmsim__V1__Munmap *mu);
void op_mem_read(struct rpc_req *rq, const Mmsim__V1__MemRead *r);
void op_mem_write(struct rpc_req *rq, const Mmsim__V1__MemWrite *w);
void op_mm_stat(struct rpc_req *rq);
void op_vmalloc(struct rpc_req *rq, const Mmsim__V1__Vmalloc *v);
void op_vfree(struct rpc_req *rq, const Mmsim__V1__Vfree *v);
void op_vread(struct rpc_req *rq, const Mmsim__V1__VRead *r);
void op_vwrite(struct rpc_req *rq, const Mmsim__V1__VWrite *w);
void op_reclaim(struct rpc_req *rq, const Mmsim__V1__Reclaim *r);

/*
 * The session's pages outside its address space (blocks, vmalloc areas)
 * changed by @delta: tell the OOM badness, if it has an address space.
 */
void vm_account(struct mmsim_session *s, int64_t delta);
/* Whether the OOM killer chose the session. Any thread. */
bool vm_killed(const struct mmsim_session *s);
/* The message of every KILLED status. */
extern const char vm_killed_msg[];
/* Session lifecycle: add to / remove from the registry. */
void vm_register(struct mmsim_session *s);
void vm_unregister(struct mmsim_session *s);
/*
 * Teardown (after vm_unregister()): vfree every area, destroy the address
 * space; a summary for the "closed" log line goes to @buf ("" if none).
 */
void vm_teardown(struct mmsim_session *s, char *buf, size_t len);

#endif /* MMSIM_RPC_INTERNAL_H */
