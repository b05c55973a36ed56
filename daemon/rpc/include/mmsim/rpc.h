/*
 * mmsim/rpc.h - the daemon's protocol engine, without sockets.
 *
 * DOC: rpc overview
 *
 * Bytes in, bytes out: a session decodes the frames a peer sent, checks
 * each request (Hello first, the token, versions, limits, ownership),
 * calls the machine, and appends each framed Response to an output
 * buffer, in request order. daemon/net moves the bytes; the `rpc` fuzz
 * target drives exactly this code with arbitrary input.
 *
 * Sessions own pages: a session may free, read or write only blocks it
 * allocated; destroying a session frees everything it still owns, like a
 * process exit. Several sessions may be fed from different threads at
 * once (each session from one thread at a time); they share the machine,
 * whose own locking makes that safe.
 *
 * Virtual memory: a session's first Mmap gives it an address space
 * (struct mmsim_mm, owner = the session id, named after Hello's
 * client_name); its vmalloc areas carry the session id as owner tag, and
 * another session's area is NOT_OWNER like another's block. Teardown
 * vfrees the areas and destroys the address space too.
 *
 * OOM kills: the machine's opts.oom_kill hook runs when its OOM killer
 * chose an address space; the embedder forwards it to
 * mmsim_rpc_oom_kill(), which marks the session killed (its next requests
 * get KILLED and the connection closes) and tells the transport through
 * config.session_killed, so an idle connection closes too.
 *
 * Ownership: struct mmsim_rpc borrows the machine; every session borrows
 * the rpc object, which must outlive its sessions.
 *
 * Requests in flight (proto/PROTOCOL.md): every whole request a feed call
 * decodes is answered within that call, so all requests one call decodes
 * were sent before the client could read any of their responses. A call
 * that decodes more than limits.max_inflight requests therefore proves
 * the client broke the limit: the excess requests are not run and get
 * QUOTA_EXCEEDED (the connection stays open). One feed call thus appends
 * at most max_inflight real responses. Bounding the output across calls
 * is daemon/net's back-pressure: it stops reading from a connection
 * while that connection's unsent output is large (a well-behaved client
 * never has more than max_inflight responses unsent), and resumes once
 * it drains.
 */
#ifndef MMSIM_RPC_H
#define MMSIM_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/frame.h"
#include "mmsim/mm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mmsim_rpc;
struct mmsim_session;

/* Limits announced in HelloReply and enforced per session. */
struct mmsim_rpc_limits {
    uint32_t max_frame_bytes; /* default MMSIM_FRAME_MAX_DEFAULT (1 MiB);
                                 at least 64 */
    uint32_t max_inflight;    /* default 128: unanswered requests; >= 1 */
    uint64_t max_pages;       /* pages one session may own; 0: no limit */
    uint32_t max_batch;       /* entries per batch; default 1024; >= 1 */
    uint32_t idle_timeout_ms; /* default 300000; enforced by daemon/net */
    /* Pages one session may have mapped (Mmap) at once; 0: no limit. */
    uint64_t max_mapped_pages;
    /* Regions of one session's address space (vm.max_map_count); default
     * 65530; 0 at mmsim_rpc_create() means the default. */
    uint32_t max_mappings;
    /* protobuf-c may allocate at most this much to decode one request
     * (default 4 * max_frame_bytes + 64 KiB; 0 at mmsim_rpc_create()
     * means that, computed from the max_frame_bytes given). */
    size_t decode_budget_bytes;
};

void mmsim_rpc_limits_default(struct mmsim_rpc_limits *l);

/*
 * Recording (mmsimd --record): every byte each session is fed, handed to
 * the embedder as it arrives, to be written in the format of
 * mmsim/record.h and replayed through the rpc fuzz target. daemon/rpc
 * does no I/O of its own. Each callback runs on the thread that creates,
 * feeds or destroys the session, so a handle is only ever used by one
 * thread at a time; @ctx is shared by all sessions.
 */
struct mmsim_rpc_recorder {
    /* A session was created: its handle, or NULL to leave it unrecorded. */
    void *(*open)(void *ctx, uint64_t session_id, const char *peer);
    /* @len (> 0) bytes are about to be fed to the session, as received. */
    void (*write)(void *ctx, void *handle, const uint8_t *data, size_t len);
    /* The session is being destroyed: the last call for @handle. */
    void (*close)(void *ctx, void *handle);
    void *ctx;
};

struct mmsim_rpc_config {
    struct mmsim_machine *machine; /* borrowed; must outlive the rpc */
    struct mmsim_rpc_limits limits;
    /* Token Hello must carry; copied. token_len 0: no token required. */
    const uint8_t *token;
    size_t token_len;
    const char *server_version; /* copied; NULL: the project version */
    mmsim_log_fn log;           /* NULL: silent; called from any thread */
    void *log_ctx;
    /* NULL: no recording (the cost is one test per feed call). Copied;
     * all three callbacks must be set. */
    const struct mmsim_rpc_recorder *recorder;
    /*
     * A session was marked killed by mmsim_rpc_oom_kill(). Called on that
     * caller's thread (any thread) with the rpc's session lock held, so
     * the session cannot be destroyed meanwhile: it must not call into
     * the rpc or the machine, nor block. It should make the thread that
     * feeds the session call mmsim_session_feed() on it soon (with no
     * data if none came), which sends the final KILLED response and
     * returns MMSIM_FEED_CLOSE. @session_ctx is what
     * mmsim_session_set_ctx() stored (NULL: nothing was). NULL callback:
     * the session learns on its next request.
     */
    void (*session_killed)(void *ctx, void *session_ctx, uint64_t session_id);
    void *session_killed_ctx;
};

/* Return: 0, MMSIM_EINVAL (bad config), MMSIM_EHOSTMEM. */
int mmsim_rpc_create(const struct mmsim_rpc_config *cfg,
                     struct mmsim_rpc **out);
/* All sessions must have been destroyed. NULL is a no-op. */
void mmsim_rpc_destroy(struct mmsim_rpc *rpc);
/* From now on requests other than Ping get SHUTTING_DOWN. Thread-safe. */
void mmsim_rpc_shutdown(struct mmsim_rpc *rpc);

/**
 * mmsim_rpc_oom_kill() - the machine's OOM killer chose @owner's address
 * space: forward opts.oom_kill here. The machine exists before the rpc,
 * so the embedder's hook reaches the rpc through a pointer it sets once
 * the rpc exists (and clears before destroying it).
 * @rpc:   the engine.
 * @owner: the owner tag of the address space, a session id.
 *
 * Marks the session killed: every request it sends from now on gets
 * KILLED and the connection is closed (see config.session_killed). An
 * owner that is no live session (it just went away) is ignored.
 *
 * Context: any thread, no machine lock held (as the hook is called).
 */
void mmsim_rpc_oom_kill(struct mmsim_rpc *rpc, uint64_t owner);

/**
 * mmsim_session_create() - a new session (one connection).
 * @rpc:  the shared engine.
 * @cpu:  the simulated CPU whose per-cpu lists this session's allocations
 *        use (daemon/net passes its worker index modulo the CPU count),
 *        or MMSIM_NO_CPU.
 * @peer: for logs ("127.0.0.1:53412", "unix"); copied (non-printable
 *        bytes replaced, at most 63 kept); may be NULL.
 * @out:  receives the session.
 *
 * Return: 0, MMSIM_EINVAL (@cpu is neither MMSIM_NO_CPU nor a CPU of the
 * machine) or MMSIM_EHOSTMEM.
 */
int mmsim_session_create(struct mmsim_rpc *rpc, int cpu, const char *peer,
                         struct mmsim_session **out);

/*
 * Free every block the session still owns (logged with the count), then
 * the session. Whatever state the peer left it in. NULL is a no-op.
 */
void mmsim_session_destroy(struct mmsim_session *s);

enum mmsim_feed_result {
    MMSIM_FEED_CONTINUE = 0, /* keep reading */
    MMSIM_FEED_CLOSE = 1,    /* flush @out, then close the connection */
};

/**
 * mmsim_session_feed() - handle bytes received from the peer.
 * @s:    the session.
 * @data: the bytes, in any split (NULL when @len is 0).
 * @len:  their number.
 * @out:  framed responses are appended here, one per request, in order.
 *
 * Protocol errors (a frame over the limit, an undecodable frame, a request
 * before Hello, a wrong token, a bad version) append an error Response
 * where one can be sent and return MMSIM_FEED_CLOSE; so does an exhausted
 * host. After MMSIM_FEED_CLOSE further calls append nothing and return it
 * again. A session the OOM killer chose answers every request with KILLED
 * and returns MMSIM_FEED_CLOSE; fed no request (@len 0), it appends one
 * KILLED response with id 0.
 *
 * Return: enum mmsim_feed_result.
 */
int mmsim_session_feed(struct mmsim_session *s, const uint8_t *data, size_t len,
                       struct mmsim_buf *out);

uint64_t mmsim_session_id(const struct mmsim_session *s);
/* Pages (not blocks) the session owns now. */
uint64_t mmsim_session_pages(const struct mmsim_session *s);
bool mmsim_session_authenticated(const struct mmsim_session *s);
/* Whether mmsim_session_feed() has returned MMSIM_FEED_CLOSE. */
bool mmsim_session_closed(const struct mmsim_session *s);
/* Whether the OOM killer chose the session. On the thread feeding it. */
bool mmsim_session_killed(const struct mmsim_session *s);
/*
 * The transport's handle for config.session_killed (daemon/net: the
 * worker that owns the connection). If the session was killed already,
 * the callback runs at once, on this thread.
 */
void mmsim_session_set_ctx(struct mmsim_session *s, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_RPC_H */
