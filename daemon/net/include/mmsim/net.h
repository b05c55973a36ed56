/*
 * mmsim/net.h - the daemon's transport: listeners, worker loops,
 * back-pressure, limits and signals, on libuv. The only code in mmsim
 * that touches sockets.
 *
 * DOC: net overview
 *
 * mmsim_net_create() binds the listeners (one TCP address and one Unix
 * socket, either optional), so a bad address, a refused configuration or
 * a socket in use is reported before the machine boots; connections that
 * arrive meanwhile wait in the kernel's queue. mmsim_net_start() starts
 * the worker threads, each with its own uv_loop, and mmsim_net_run() runs
 * the main loop, which accepts connections and hands each to a worker
 * round-robin, until SIGINT or SIGTERM has drained everything. Every
 * connection is one rpc session (struct mmsim_session): bytes read are
 * fed to it, the responses it appends are written back in order.
 *
 * Threads and ownership: the main thread owns the listeners and the
 * signal handlers; each worker thread owns its loop and every connection
 * on it, including the connection's session. The only cross-thread paths
 * are the hand-off queue of each worker (mutex + uv_async_send), the
 * count of live connections (atomic), and the "workers done" count.
 * struct mmsim_net borrows the rpc engine and the machine it is started
 * with: both must outlive it.
 *
 * The process must ignore SIGPIPE (libuv does not): a peer that vanishes
 * mid-write must cost an EPIPE, not the daemon.
 */
#ifndef MMSIM_NET_H
#define MMSIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim/mm.h"
#include "mmsim/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The documented TCP port (docs/mmsimd.md). */
#define MMSIM_NET_DEFAULT_PORT            7411u
#define MMSIM_NET_DEFAULT_HOST            "127.0.0.1"
#define MMSIM_NET_DEFAULT_LISTEN          "127.0.0.1:7411"
#define MMSIM_NET_DEFAULT_UNIX_MODE       0600u
#define MMSIM_NET_DEFAULT_MAX_CONNECTIONS 1024u
#define MMSIM_NET_DEFAULT_DRAIN_MS        5000u
/* Floor of the back-pressure bound (see max_unsent_bytes). */
#define MMSIM_NET_MIN_UNSENT_BYTES (UINT64_C(4) << 20)

struct mmsim_net;

struct mmsim_net_config {
    /* "HOST:PORT" ("[::1]:7411" for IPv6; port 0 picks one); NULL: none. */
    const char *tcp_listen;
    /* Path of the Unix socket; NULL: none. Created with @unix_mode. */
    const char *unix_path;
    unsigned unix_mode;

    /*
     * Whether the rpc engine checks a token in Hello. Without one, a
     * non-loopback TCP address is refused (protected mode).
     */
    bool auth_required;

    unsigned nr_workers;      /* >= 1 worker threads */
    unsigned max_connections; /* live connections; more are closed */
    uint32_t max_frame_bytes; /* the rpc's limit (sizes the default bound) */
    uint32_t idle_timeout_ms; /* no traffic for this long closes; 0: never */
    /*
     * Back-pressure: while more than this many response bytes wait to be
     * sent on a connection, nothing more is read from it. 0: the default,
     * max(MMSIM_NET_MIN_UNSENT_BYTES, 4 * max_frame_bytes).
     */
    uint64_t max_unsent_bytes;
    uint32_t drain_timeout_ms; /* on SIGTERM/SIGINT; 0: the default 5 s */

    mmsim_log_fn log; /* kernel levels (3, 4, 6, 7); any thread; NULL: none */
    void *log_ctx;
};

/* Defaults for everything but the listeners and the log hook. */
void mmsim_net_config_default(struct mmsim_net_config *cfg);

/**
 * mmsim_net_create() - validate the configuration and bind the listeners.
 * @cfg:    the configuration (copied; strings too).
 * @out:    receives the transport.
 * @err:    receives a message saying what was refused and why, e.g.
 *          "--listen 0.0.0.0:7411: refusing a non-loopback address without
 *          a token (protected mode): ..."; may be NULL.
 * @errlen: size of @err.
 *
 * A Unix socket path that exists is replaced only when it is a socket no
 * daemon answers on; a live daemon there (-EADDRINUSE) or a file that is
 * not a socket (-EEXIST) is an error. Installs the SIGINT and SIGTERM
 * handlers of the main loop (they act once mmsim_net_run() runs).
 *
 * Context: the main thread; blocking (name resolution).
 * Return: 0; MMSIM_EINVAL (a refused configuration: a bad address, a
 * non-loopback address without a token, nothing to listen on);
 * MMSIM_EHOSTMEM; or a negated errno from the system (-EADDRINUSE,
 * -EACCES...). Nothing is left behind on failure.
 */
int mmsim_net_create(const struct mmsim_net_config *cfg, struct mmsim_net **out,
                     char *err, size_t errlen);

/**
 * mmsim_net_start() - start the worker threads.
 * @net:     the transport, not started yet.
 * @rpc:     borrowed, one session per connection; must outlive @net.
 * @machine: borrowed, for the simulated CPU count (the sessions of worker
 *           i use CPU i modulo it); must outlive @net.
 * @err:     receives a message on failure; may be NULL.
 * @errlen:  size of @err.
 *
 * Context: the thread that called mmsim_net_create().
 * Return: 0; MMSIM_EINVAL (already started, NULL arguments);
 * MMSIM_EHOSTMEM; or a negated errno. Workers started before a failure
 * are stopped by mmsim_net_destroy().
 */
int mmsim_net_start(struct mmsim_net *net, struct mmsim_rpc *rpc,
                    struct mmsim_machine *machine, char *err, size_t errlen);

/**
 * mmsim_net_run() - serve until SIGINT or SIGTERM, then drain.
 * @net: the transport, started.
 *
 * On the first signal: the listeners close (the Unix socket is removed),
 * mmsim_rpc_shutdown() makes new requests fail with SHUTTING_DOWN, every
 * connection stops reading, answers what it already read, flushes and
 * closes; connections still open after the drain timeout are closed
 * anyway. A second signal exits the process at once with status
 * 128 + the signal number.
 *
 * Context: the thread that called mmsim_net_create(); blocks.
 * Return: 0 after a complete drain (every session destroyed, every worker
 * thread joined); MMSIM_EINVAL when not started.
 */
int mmsim_net_run(struct mmsim_net *net);

/* The bound TCP address ("127.0.0.1:7411", the real port), or NULL. */
const char *mmsim_net_tcp_address(const struct mmsim_net *net);
/* The Unix socket path, or NULL. */
const char *mmsim_net_unix_path(const struct mmsim_net *net);

/**
 * mmsim_net_session_killed() - the rpc's config.session_killed for this
 * transport (@net is its ctx): the OOM killer chose the session, so wake
 * its worker, which answers KILLED and closes the connection even when
 * the client is idle.
 *
 * Context: any thread; the rpc's session lock is held. Only sets a flag
 * and calls uv_async_send().
 */
void mmsim_net_session_killed(void *net, void *session_ctx,
                              uint64_t session_id);

/*
 * Stop the workers if mmsim_net_run() did not, remove the Unix socket if
 * it is still ours, free everything. NULL is a no-op.
 * Context: the thread that called mmsim_net_create().
 */
void mmsim_net_destroy(struct mmsim_net *net);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_NET_H */
