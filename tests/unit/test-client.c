/*
 * test-client.c - libmmsim against the real protocol engine, in process.
 *
 * A small machine and an mmsim_rpc engine run here; "server" threads read
 * a socket (one end of a socketpair, or a connection accepted on a Unix or
 * TCP listener), feed the bytes to an mmsim_session and write back what
 * it appends, as daemon/net does. The client under test talks to that
 * over a real socket, so framing, ordering, limits, errors and reconnects
 * are all exercised end to end without the daemon.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmsim/client.h"
#include "mmsim/frame.h"
#include "mmsim/mm.h"
#include "mmsim/rpc.h"

#define MAX_CONNS 32

struct server {
    struct mmsim_machine *m;
    struct mmsim_rpc *rpc;
    int lfd; /* listener, or -1 */
    char addr[128];
    char dir[64];
    pthread_t acceptor;
    atomic_bool stop;
    pthread_mutex_t lock; /* protects the two fields below */
    pthread_t conns[MAX_CONNS];
    int nconns;
};

struct conn {
    struct mmsim_rpc *rpc;
    int fd;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One connection: what daemon/net does, minus libuv. */
static void *serve_conn(void *arg)
{
    struct conn *cn = arg;
    struct mmsim_session *s;
    struct mmsim_buf out;
    uint8_t buf[4096];

    mmsim_buf_init(&out);
    if (mmsim_session_create(cn->rpc, 0, "test", &s) == 0) {
        for (;;) {
            ssize_t n = recv(cn->fd, buf, sizeof(buf), 0);
            int rc;

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            rc = mmsim_session_feed(s, buf, (size_t)n, &out);
            if (write_all(cn->fd, out.data, out.len))
                break;
            out.len = 0;
            if (rc == MMSIM_FEED_CLOSE)
                break;
        }
        mmsim_session_destroy(s);
    }
    mmsim_buf_free(&out);
    close(cn->fd);
    free(cn);
    return NULL;
}

static void spawn_conn(struct server *sv, int fd)
{
    struct conn *cn = malloc(sizeof(*cn));

    assert_non_null(cn);
    cn->rpc = sv->rpc;
    cn->fd = fd;
    pthread_mutex_lock(&sv->lock);
    assert_true(sv->nconns < MAX_CONNS);
    assert_int_equal(
        pthread_create(&sv->conns[sv->nconns], NULL, serve_conn, cn), 0);
    sv->nconns++;
    pthread_mutex_unlock(&sv->lock);
}

static void *accept_loop(void *arg)
{
    struct server *sv = arg;

    while (!atomic_load(&sv->stop)) {
        struct pollfd p = {.fd = sv->lfd, .events = POLLIN};
        int fd;

        if (poll(&p, 1, 20) <= 0)
            continue;
        fd = accept(sv->lfd, NULL, NULL);
        if (fd >= 0)
            spawn_conn(sv, fd);
    }
    return NULL;
}

struct server_opts {
    uint32_t max_inflight;
    uint32_t max_frame_bytes;
    uint32_t max_batch;
    const char *token;
    int listen; /* 0 none, 1 unix, 2 tcp */
};

/* 2 nodes of 64 MiB with page contents, 2 CPUs. */
static struct server *server_start(const struct server_opts *o)
{
    struct server *sv = calloc(1, sizeof(*sv));
    struct mmsim_rpc_config cfg;
    struct mmsim_desc *d = malloc(sizeof(*d));
    char err[256];

    assert_non_null(sv);
    assert_non_null(d);
    mmsim_desc_init(d);
    assert_int_equal(mmsim_desc_add_range(d, 0, 1u << 20, 63u << 20), 0);
    assert_int_equal(mmsim_desc_add_range(d, 1, 64u << 20, 64u << 20), 0);
    d->nr_cpus = 2;
    d->contents = true;
    assert_int_equal(mmsim_machine_create(d, NULL, &sv->m, err, sizeof(err)),
                     0);
    free(d);

    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = sv->m;
    mmsim_rpc_limits_default(&cfg.limits);
    if (o && o->max_inflight)
        cfg.limits.max_inflight = o->max_inflight;
    if (o && o->max_frame_bytes)
        cfg.limits.max_frame_bytes = o->max_frame_bytes;
    if (o && o->max_batch)
        cfg.limits.max_batch = o->max_batch;
    if (o && o->token) {
        cfg.token = (const uint8_t *)o->token;
        cfg.token_len = strlen(o->token);
    }
    assert_int_equal(mmsim_rpc_create(&cfg, &sv->rpc), 0);
    pthread_mutex_init(&sv->lock, NULL);
    atomic_init(&sv->stop, false);
    sv->lfd = -1;

    if (o && o->listen == 1) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        snprintf(sv->dir, sizeof(sv->dir), "/tmp/test-client-XXXXXX");
        assert_non_null(mkdtemp(sv->dir));
        snprintf(sv->addr, sizeof(sv->addr), "%s/mmsimd.sock", sv->dir);
        assert_true(strlen(sv->addr) < sizeof(sun.sun_path));
        memcpy(sun.sun_path, sv->addr, strlen(sv->addr) + 1);
        sv->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(sv->lfd >= 0);
        assert_int_equal(bind(sv->lfd, (struct sockaddr *)&sun, sizeof(sun)),
                         0);
    } else if (o && o->listen == 2) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        socklen_t len = sizeof(sin);

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sv->lfd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(sv->lfd >= 0);
        assert_int_equal(bind(sv->lfd, (struct sockaddr *)&sin, sizeof(sin)),
                         0);
        assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&sin, &len),
                         0);
        snprintf(sv->addr, sizeof(sv->addr), "127.0.0.1:%u",
                 (unsigned)ntohs(sin.sin_port));
    }
    if (sv->lfd >= 0) {
        assert_int_equal(listen(sv->lfd, 16), 0);
        assert_int_equal(pthread_create(&sv->acceptor, NULL, accept_loop, sv),
                         0);
    }
    return sv;
}

/* Every client must be closed: connection threads end on EOF. */
static void server_stop(struct server *sv)
{
    char problem[256];

    if (sv->lfd >= 0) {
        atomic_store(&sv->stop, true);
        pthread_join(sv->acceptor, NULL);
        close(sv->lfd);
        if (sv->dir[0]) {
            unlink(sv->addr);
            rmdir(sv->dir);
        }
    }
    for (int i = 0; i < sv->nconns; i++)
        pthread_join(sv->conns[i], NULL);
    /* Every session freed its pages: the machine is whole again. */
    assert_int_equal(mmsim_check(sv->m, true, problem, sizeof(problem)), 0);
    mmsim_rpc_destroy(sv->rpc);
    mmsim_machine_destroy(sv->m);
    pthread_mutex_destroy(&sv->lock);
    free(sv);
}

/* A client on one end of a socketpair, the server thread on the other. */
static struct mmsim_client *pair_client(struct server *sv,
                                        const struct mmsim_client_opts *o)
{
    struct mmsim_client *c = NULL;
    char err[256];
    int sp[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    spawn_conn(sv, sp[1]);
    assert_int_equal(mmsim_client_connect_fd(sp[0], o, &c, err, sizeof(err)),
                     0);
    assert_non_null(c);
    return c;
}

static void assert_refused(struct mmsim_client *c, int rc,
                           Mmsim__V1__Status want)
{
    assert_int_equal(rc, MMSIM_CLIENT_ESTATUS);
    assert_int_equal(mmsim_client_status(c), want);
    assert_true(strlen(mmsim_client_message(c)) > 0);
}

static void test_hello_ping(void **state)
{
    struct server_opts so = {.max_inflight = 16, .max_batch = 32};
    struct server *sv = server_start(&so);
    struct mmsim_client *c = pair_client(sv, NULL);
    const Mmsim__V1__HelloReply *h = mmsim_client_hello_reply(c);

    (void)state;
    assert_non_null(h);
    assert_true(mmsim_client_session_id(c) > 0);
    assert_int_equal(mmsim_client_max_inflight(c), 16);
    assert_int_equal(mmsim_client_max_frame_bytes(c), MMSIM_FRAME_MAX_DEFAULT);
    assert_non_null(h->machine);
    assert_int_equal(h->machine->nodes, 2);
    assert_true(h->machine->contents);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    assert_int_equal(mmsim_client_ping(c, "payload", 7), 0);
    assert_true(mmsim_client_connected(c));
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_blocking_calls(void **state)
{
    struct server *sv = server_start(NULL);
    struct mmsim_client *c = pair_client(sv, NULL);
    struct mmsim_client_page p, p2;
    Mmsim__V1__ViewReply *v = NULL;
    Mmsim__V1__MachineReply *m = NULL;
    char *text = NULL, problem[256];
    uint8_t buf[4096];
    size_t got;
    bool ok;

    (void)state;
    assert_int_equal(mmsim_client_alloc(c, 0, MMSIM_GFP_KERNEL, 1, &p), 0);
    assert_int_equal(p.node, 1);
    assert_int_equal(p.order, 0);
    assert_string_equal(p.zone, "DMA32");
    assert_int_equal(mmsim_client_alloc(c, 3, MMSIM_GFP_KERNEL | MMSIM_GFP_ZERO,
                                        MMSIM_CLIENT_ANY_NODE, &p2),
                     0);
    assert_int_equal(p2.order, 3);
    assert_int_equal(p2.pfn % 8, 0);

    /* Contents: write, read back, zeros around, any page of the block. */
    assert_int_equal(mmsim_client_write(c, p.pfn, 100, "hello", 5), 0);
    assert_int_equal(mmsim_client_read(c, p.pfn, 98, 9, buf, &got), 0);
    assert_int_equal(got, 9);
    assert_memory_equal(buf, "\0\0hello\0\0", 9);
    assert_int_equal(mmsim_client_write(c, p2.pfn + 7, 4090, "tail!!", 6), 0);
    assert_int_equal(mmsim_client_read(c, p2.pfn + 7, 0, 4096, buf, &got), 0);
    assert_int_equal(got, 4096);
    assert_memory_equal(buf + 4090, "tail!!", 6);
    assert_int_equal(buf[0], 0);

    /* Views: the kernel's text and the structured form. */
    assert_int_equal(
        mmsim_client_view(c, MMSIM__V1__VIEW_KIND__BUDDYINFO, &text, &v), 0);
    assert_non_null(strstr(text, "Node 0, zone"));
    assert_non_null(strstr(text, "Node 1, zone"));
    assert_true(v->n_zones >= 2);
    assert_string_equal(v->text, text);
    free(text);
    mmsim_client_pb_free(v);
    assert_int_equal(
        mmsim_client_view(c, MMSIM__V1__VIEW_KIND__VMSTAT, NULL, &v), 0);
    assert_true(v->n_counters > 0);
    mmsim_client_pb_free(v);
    assert_int_equal(
        mmsim_client_view(c, MMSIM__V1__VIEW_KIND__ZONEINFO, &text, NULL), 0);
    assert_non_null(strstr(text, "pages free"));
    free(text);
    for (int k = MMSIM__V1__VIEW_KIND__MEMBLOCK_MEMORY;
         k <= MMSIM__V1__VIEW_KIND__BOOTLOG; k++) {
        assert_int_equal(mmsim_client_view(c, k, &text, NULL), 0);
        assert_true(strlen(text) > 0);
        free(text);
    }

    assert_int_equal(mmsim_client_check(c, true, &ok, problem, sizeof(problem)),
                     0);
    assert_true(ok);
    assert_string_equal(problem, "");

    assert_int_equal(mmsim_client_machine(c, &m), 0);
    assert_non_null(m->summary);
    assert_int_equal(m->summary->nodes, 2);
    assert_int_equal(m->n_nodes, 2);
    assert_true(m->n_zones >= 2);
    mmsim_client_pb_free(m);

    assert_int_equal(mmsim_client_free(c, p.pfn, 0), 0);
    assert_int_equal(mmsim_client_free(c, p2.pfn, 3), 0);
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_batches(void **state)
{
    struct server_opts so = {.max_batch = 16};
    struct server *sv = server_start(&so);
    struct mmsim_client *c = pair_client(sv, NULL);
    struct mmsim_client_alloc_req ar[17];
    struct mmsim_client_free_req fr[17];
    struct mmsim_client_result res[17];

    (void)state;
    for (int i = 0; i < 17; i++) {
        ar[i].order = (unsigned)(i % 3);
        ar[i].gfp = MMSIM_GFP_KERNEL;
        ar[i].node = i % 2;
    }
    /* Entry 5 asks for a node that does not exist: only it fails. */
    ar[5].node = 7;
    assert_int_equal(mmsim_client_alloc_batch(c, ar, 16, res), 15);
    for (int i = 0; i < 16; i++) {
        if (i == 5) {
            assert_int_equal(res[i].status, MMSIM__V1__STATUS__NO_SUCH_NODE);
            assert_true(strlen(res[i].message) > 0);
            continue;
        }
        assert_int_equal(res[i].status, MMSIM__V1__STATUS__OK);
        assert_int_equal(res[i].page.order, ar[i].order);
        assert_int_equal(res[i].page.node, (uint32_t)ar[i].node);
    }
    for (int i = 0; i < 16; i++) {
        fr[i].pfn = res[i].page.pfn;
        fr[i].order = res[i].page.order;
    }
    fr[5] = fr[4]; /* freed twice: the second is not ours any more */
    assert_int_equal(mmsim_client_free_batch(c, fr, 16, res), 15);
    assert_int_equal(res[5].status, MMSIM__V1__STATUS__NOT_OWNER);

    /* Over max_batch: the whole batch is refused; the connection lives. */
    assert_refused(c, mmsim_client_alloc_batch(c, ar, 17, res),
                   MMSIM__V1__STATUS__BATCH_TOO_LARGE);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_errors(void **state)
{
    struct server_opts so = {.max_frame_bytes = 8192};
    struct server *sv = server_start(&so);
    struct mmsim_client *c = pair_client(sv, NULL);
    struct mmsim_client *other = pair_client(sv, NULL);
    struct mmsim_client_page p, q;
    static uint8_t big[10000];
    uint8_t buf[16];

    (void)state;
    assert_int_equal(mmsim_client_alloc(c, 2, MMSIM_GFP_KERNEL, 0, &p), 0);
    assert_int_equal(mmsim_client_alloc(other, 0, MMSIM_GFP_KERNEL, 0, &q), 0);

    assert_refused(c, mmsim_client_free(c, p.pfn, 1),
                   MMSIM__V1__STATUS__WRONG_ORDER);
    assert_refused(c, mmsim_client_free(c, p.pfn + 1, 2),
                   MMSIM__V1__STATUS__NOT_HEAD);
    /* Another session's page, for free, read and write alike. */
    assert_refused(c, mmsim_client_free(c, q.pfn, 0),
                   MMSIM__V1__STATUS__NOT_OWNER);
    assert_refused(c, mmsim_client_read(c, q.pfn, 0, 4, buf, NULL),
                   MMSIM__V1__STATUS__NOT_OWNER);
    assert_refused(c, mmsim_client_write(c, q.pfn, 0, "x", 1),
                   MMSIM__V1__STATUS__NOT_OWNER);
    assert_refused(c, mmsim_client_read(c, p.pfn, 4090, 16, buf, NULL),
                   MMSIM__V1__STATUS__OUT_OF_RANGE);
    assert_refused(c, mmsim_client_alloc(c, 30, MMSIM_GFP_KERNEL, 0, &q),
                   MMSIM__V1__STATUS__OUT_OF_RANGE);
    assert_refused(c, mmsim_client_alloc(c, 0, 0x80000000u, 0, &q),
                   MMSIM__V1__STATUS__INVALID_ARGUMENT);

    /* Larger than the server's max_frame_bytes: refused here, unsent. */
    assert_int_equal(mmsim_client_write(c, p.pfn, 0, big, sizeof(big)),
                     MMSIM_CLIENT_ETOOBIG);
    assert_int_equal(mmsim_client_send_write(c, p.pfn, 0, big, sizeof(big)),
                     MMSIM_CLIENT_ETOOBIG);
    assert_int_equal(mmsim_client_pending(c), 0);

    /* None of that hurt the connection or the block. */
    assert_true(mmsim_client_connected(c));
    assert_int_equal(mmsim_client_free(c, p.pfn, 2), 0);
    assert_refused(c, mmsim_client_free(c, p.pfn, 2),
                   MMSIM__V1__STATUS__NOT_OWNER);

    /* Misuse of the API. */
    assert_int_equal(mmsim_client_write(c, p.pfn, 0, NULL, 3),
                     MMSIM_CLIENT_EINVAL);
    {
        Mmsim__V1__Response *r;
        Mmsim__V1__Request req = MMSIM__V1__REQUEST__INIT;
        Mmsim__V1__Hello hello = MMSIM__V1__HELLO__INIT;

        assert_int_equal(mmsim_client_recv(c, &r), MMSIM_CLIENT_EINVAL);
        req.op_case = MMSIM__V1__REQUEST__OP_HELLO;
        req.hello = &hello;
        assert_int_equal(mmsim_client_send(c, &req), MMSIM_CLIENT_EINVAL);
    }
    assert_int_equal(mmsim_client_reconnect(c), MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    mmsim_client_close(c);
    mmsim_client_close(other);
    server_stop(sv);
}

static void test_pipeline(void **state)
{
    /* 100 requests through a window of 16: send_* must read responses
     * into its queue (else the server answers QUOTA_EXCEEDED). */
    struct server_opts so = {.max_inflight = 16};
    struct server *sv = server_start(&so);
    struct mmsim_client *c = pair_client(sv, NULL);
    Mmsim__V1__Response *r;
    struct mmsim_client_page p;
    uint64_t pfns[100];
    int64_t ids[100], id;

    (void)state;
    for (int i = 0; i < 100; i++) {
        ids[i] = mmsim_client_send_alloc(c, 0, MMSIM_GFP_KERNEL, i % 2);
        assert_true(ids[i] > 0);
        if (i)
            assert_int_equal(ids[i], ids[i - 1] + 1);
    }
    assert_int_equal(mmsim_client_pending(c), 100);
    assert_int_equal(mmsim_client_flush(c), 0);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(mmsim_client_recv(c, &r), 0);
        assert_int_equal(r->id, (uint64_t)ids[i]);
        assert_int_equal(r->status, MMSIM__V1__STATUS__OK);
        assert_int_equal(r->result_case, MMSIM__V1__RESPONSE__RESULT_ALLOC);
        assert_int_equal(r->alloc->node, (uint32_t)(i % 2));
        pfns[i] = r->alloc->pfn;
        for (int k = 0; k < i; k++)
            assert_true(pfns[k] != pfns[i]);
        mmsim_client_pb_free(r);
    }
    assert_int_equal(mmsim_client_pending(c), 0);

    /* Errors arrive in order too, as statuses, not recv failures. */
    id = mmsim_client_send_free(c, pfns[0], 0);
    assert_true(id > 0);
    assert_true(mmsim_client_send_free(c, pfns[0], 0) == id + 1);
    assert_int_equal(mmsim_client_recv(c, &r), 0);
    assert_int_equal(r->status, MMSIM__V1__STATUS__OK);
    mmsim_client_pb_free(r);
    assert_int_equal(mmsim_client_recv(c, &r), 0);
    assert_int_equal(r->id, (uint64_t)id + 1);
    assert_int_equal(r->status, MMSIM__V1__STATUS__NOT_OWNER);
    assert_int_equal(mmsim_client_status(c), MMSIM__V1__STATUS__NOT_OWNER);
    mmsim_client_pb_free(r);

    /* A blocking call amid pipelined ones keeps theirs for recv. */
    id = mmsim_client_send_ping(c, "a", 1);
    assert_true(mmsim_client_send_read(c, pfns[1], 0, 8) == id + 1);
    assert_true(mmsim_client_send_view(c, MMSIM__V1__VIEW_KIND__BUDDYINFO) ==
                id + 2);
    assert_int_equal(mmsim_client_alloc(c, 1, MMSIM_GFP_KERNEL, 0, &p), 0);
    assert_int_equal(mmsim_client_pending(c), 3);
    assert_true(mmsim_client_send_check(c, false) == id + 4);
    assert_true(mmsim_client_send_machine(c) == id + 5);
    for (int k = 0; k < 5; k++) {
        static const Mmsim__V1__Response__ResultCase want[] = {
            MMSIM__V1__RESPONSE__RESULT_PONG,
            MMSIM__V1__RESPONSE__RESULT_READ,
            MMSIM__V1__RESPONSE__RESULT_VIEW,
            MMSIM__V1__RESPONSE__RESULT_CHECK,
            MMSIM__V1__RESPONSE__RESULT_MACHINE,
        };

        assert_int_equal(mmsim_client_recv(c, &r), 0);
        assert_int_equal(r->id, (uint64_t)(id + k + (k >= 3)));
        assert_int_equal(r->result_case, want[k]);
        mmsim_client_pb_free(r);
    }

    /* Pipelined frees of all the rest, as a batch and singly. */
    {
        struct mmsim_client_free_req fr[49];

        for (int i = 0; i < 49; i++) {
            fr[i].pfn = pfns[1 + i];
            fr[i].order = 0;
        }
        id = mmsim_client_send_free_batch(c, fr, 49);
        assert_true(id > 0);
        for (int i = 50; i < 100; i++)
            assert_true(mmsim_client_send_free(c, pfns[i], 0) > 0);
        assert_int_equal(mmsim_client_pending(c), 51);
        assert_int_equal(mmsim_client_recv(c, &r), 0);
        assert_int_equal(r->result_case,
                         MMSIM__V1__RESPONSE__RESULT_FREE_BATCH);
        assert_int_equal(r->free_batch->n_results, 49);
        for (int i = 0; i < 49; i++)
            assert_int_equal(r->free_batch->results[i]->status,
                             MMSIM__V1__STATUS__OK);
        mmsim_client_pb_free(r);
        for (int i = 50; i < 100; i++) {
            assert_int_equal(mmsim_client_recv(c, &r), 0);
            assert_int_equal(r->status, MMSIM__V1__STATUS__OK);
            mmsim_client_pb_free(r);
        }
    }
    {
        struct mmsim_client_alloc_req ar = {0, MMSIM_GFP_KERNEL, 0};

        id = mmsim_client_send_alloc_batch(c, &ar, 1);
        assert_true(id > 0);
        assert_true(mmsim_client_send_write(c, p.pfn, 0, "zz", 2) == id + 1);
        assert_int_equal(mmsim_client_recv(c, &r), 0);
        assert_int_equal(r->alloc_batch->n_results, 1);
        mmsim_client_pb_free(r);
        assert_int_equal(mmsim_client_recv(c, &r), 0);
        assert_int_equal(r->status, MMSIM__V1__STATUS__OK);
        mmsim_client_pb_free(r);
    }
    /* Close with unreceived responses in flight: nothing leaks. */
    assert_true(mmsim_client_send_ping(c, NULL, 0) > 0);
    assert_true(mmsim_client_send_ping(c, NULL, 0) > 0);
    assert_int_equal(mmsim_client_flush(c), 0);
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_reconnect_unix(void **state)
{
    struct server_opts so = {.listen = 1};
    struct server *sv = server_start(&so);
    struct mmsim_client *c = NULL;
    struct mmsim_client_page p;
    uint64_t sid;
    char err[256], addr[160];

    (void)state;
    assert_int_equal(mmsim_client_connect(sv->addr, NULL, &c, err, sizeof(err)),
                     0);
    sid = mmsim_client_session_id(c);
    assert_int_equal(mmsim_client_alloc(c, 1, MMSIM_GFP_KERNEL, 0, &p), 0);
    assert_true(mmsim_client_send_ping(c, NULL, 0) > 0);

    /* A new session: the old one's pages and pending answers are gone. */
    assert_int_equal(mmsim_client_reconnect(c), 0);
    assert_true(mmsim_client_session_id(c) != sid);
    assert_int_equal(mmsim_client_pending(c), 0);
    assert_refused(c, mmsim_client_free(c, p.pfn, 1),
                   MMSIM__V1__STATUS__NOT_OWNER);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    mmsim_client_close(c);

    /* "unix:PATH" spelling. */
    snprintf(addr, sizeof(addr), "unix:%s", sv->addr);
    assert_int_equal(mmsim_client_connect(addr, NULL, &c, err, sizeof(err)), 0);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_tcp(void **state)
{
    struct server_opts so = {.listen = 2};
    struct server *sv = server_start(&so);
    struct mmsim_client_opts o;
    struct mmsim_client *c = NULL;
    struct mmsim_client_page p;
    char err[256];

    (void)state;
    mmsim_client_opts_init(&o);
    o.client_name = "test-client";
    o.timeout_ms = 10000;
    assert_int_equal(mmsim_client_connect(sv->addr, &o, &c, err, sizeof(err)),
                     0);
    assert_int_equal(mmsim_client_alloc(c, 0, MMSIM_GFP_KERNEL, 0, &p), 0);
    assert_int_equal(mmsim_client_reconnect(c), 0);
    assert_refused(c, mmsim_client_free(c, p.pfn, 0),
                   MMSIM__V1__STATUS__NOT_OWNER);
    mmsim_client_close(c);
    server_stop(sv);
}

static void test_token(void **state)
{
    struct server_opts so = {.listen = 1, .token = "s3cret"};
    struct server *sv = server_start(&so);
    struct mmsim_client_opts o;
    struct mmsim_client *c = NULL;
    char err[256];
    int rc;

    (void)state;
    unsetenv("MMSIM_TOKEN");
    rc = mmsim_client_connect(sv->addr, NULL, &c, err, sizeof(err));
    assert_int_equal(rc, MMSIM_CLIENT_ESTATUS);
    assert_null(c);
    assert_true(strncmp(err, "UNAUTHENTICATED: ", 17) == 0);

    mmsim_client_opts_init(&o);
    o.token = (const uint8_t *)"wrong";
    o.token_len = 5;
    rc = mmsim_client_connect(sv->addr, &o, &c, err, sizeof(err));
    assert_int_equal(rc, MMSIM_CLIENT_ESTATUS);

    o.token = (const uint8_t *)"s3cret";
    o.token_len = 6;
    assert_int_equal(mmsim_client_connect(sv->addr, &o, &c, err, sizeof(err)),
                     0);
    /* Reconnect says Hello with the same token. */
    assert_int_equal(mmsim_client_reconnect(c), 0);
    mmsim_client_close(c);

    setenv("MMSIM_TOKEN", "s3cret", 1);
    assert_int_equal(mmsim_client_connect(sv->addr, NULL, &c, err, sizeof(err)),
                     0);
    mmsim_client_close(c);
    unsetenv("MMSIM_TOKEN");
    server_stop(sv);
}

/* A fake server that reads one frame, then does @what. */
struct fake {
    int fd;
    int what; /* 0 close, 1 stay silent until the peer closes, 2 garbage */
};

static void *fake_server(void *arg)
{
    struct fake *f = arg;
    uint8_t buf[512];

    (void)!recv(f->fd, buf, sizeof(buf), 0);
    if (f->what == 1) {
        while (recv(f->fd, buf, sizeof(buf), 0) > 0)
            ;
    } else if (f->what == 2) {
        static const uint8_t junk[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};

        (void)!send(f->fd, junk, sizeof(junk), MSG_NOSIGNAL);
    }
    close(f->fd);
    return NULL;
}

static int fake_connect(int what, int timeout_ms, char *err, size_t errlen)
{
    struct mmsim_client_opts o;
    struct mmsim_client *c = NULL;
    struct fake f = {.what = what};
    pthread_t t;
    int sp[2], rc;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    f.fd = sp[1];
    assert_int_equal(pthread_create(&t, NULL, fake_server, &f), 0);
    mmsim_client_opts_init(&o);
    o.connect_timeout_ms = timeout_ms;
    rc = mmsim_client_connect_fd(sp[0], &o, &c, err, errlen);
    assert_null(c);
    pthread_join(t, NULL);
    return rc;
}

static void test_transport_errors(void **state)
{
    struct mmsim_client *c = NULL;
    char err[256];

    (void)state;
    assert_int_equal(fake_connect(0, 2000, err, sizeof(err)), MMSIM_CLIENT_EIO);
    assert_int_equal(fake_connect(1, 100, err, sizeof(err)),
                     MMSIM_CLIENT_ETIMEDOUT);
    assert_int_equal(fake_connect(2, 2000, err, sizeof(err)),
                     MMSIM_CLIENT_EPROTO);
    assert_true(mmsim_client_err_is_transport(MMSIM_CLIENT_EPROTO));
    assert_false(mmsim_client_err_is_transport(MMSIM_CLIENT_ESTATUS));

    assert_int_equal(mmsim_client_connect("/nonexistent/mmsimd.sock", NULL, &c,
                                          err, sizeof(err)),
                     MMSIM_CLIENT_ECONNECT);
    assert_non_null(strstr(err, "/nonexistent/mmsimd.sock"));
    assert_int_equal(
        mmsim_client_connect("no-port", NULL, &c, err, sizeof(err)),
        MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_connect("", NULL, &c, err, sizeof(err)),
                     MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_connect_fd(-1, NULL, &c, err, sizeof(err)),
                     MMSIM_CLIENT_EINVAL);
    assert_null(c);
    assert_string_equal(mmsim_client_strerror(MMSIM_CLIENT_ETIMEDOUT),
                        "timed out waiting for the server");
    assert_string_equal(mmsim_client_status_name(10), "NOT_OWNER");
    assert_string_equal(mmsim_client_status_name(999), "UNKNOWN");
}

/* The connection dies under a live client: EIO, then ECLOSED. */
static void test_server_gone(void **state)
{
    struct server *sv = server_start(NULL);
    struct mmsim_client *c = NULL;
    char err[256];
    int sp[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    spawn_conn(sv, sp[1]);
    assert_int_equal(mmsim_client_connect_fd(sp[0], NULL, &c, err, sizeof(err)),
                     0);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), 0);
    /* Behind the client's back: the server sees EOF and hangs up. */
    shutdown(sp[0], SHUT_WR);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), MMSIM_CLIENT_EIO);
    assert_false(mmsim_client_connected(c));
    assert_true(strlen(mmsim_client_message(c)) > 0);
    assert_int_equal(mmsim_client_ping(c, NULL, 0), MMSIM_CLIENT_ECLOSED);
    assert_true(mmsim_client_send_ping(c, NULL, 0) == MMSIM_CLIENT_ECLOSED);
    mmsim_client_close(c);
    server_stop(sv);
}

/* ---- The hand-made encoding and decoding of client.c, byte for byte */

/* Frame @r with protobuf-c and write it to @fd. */
static void write_response(int fd, const Mmsim__V1__Response *r)
{
    size_t n = mmsim__v1__response__get_packed_size(r);
    uint8_t *b = malloc(MMSIM_FRAME_HEADER + n);

    assert_non_null(b);
    b[0] = (uint8_t)(n >> 24);
    b[1] = (uint8_t)(n >> 16);
    b[2] = (uint8_t)(n >> 8);
    b[3] = (uint8_t)n;
    mmsim__v1__response__pack(r, b + MMSIM_FRAME_HEADER);
    assert_int_equal(write_all(fd, b, MMSIM_FRAME_HEADER + n), 0);
    free(b);
}

/*
 * A client whose server is the test itself, on the other end (*@srv) of
 * a socketpair: the HelloReply (announcing @max_inflight) is written
 * before the client asks for it.
 */
static struct mmsim_client *raw_client_opts(int *srv, uint32_t max_inflight,
                                            const struct mmsim_client_opts *o)
{
    Mmsim__V1__Response r = MMSIM__V1__RESPONSE__INIT;
    Mmsim__V1__HelloReply h = MMSIM__V1__HELLO_REPLY__INIT;
    Mmsim__V1__Limits l = MMSIM__V1__LIMITS__INIT;
    struct mmsim_client *c = NULL;
    char err[256];
    int sp[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    l.has_max_inflight = 1;
    l.max_inflight = max_inflight;
    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    h.limits = &l;
    r.has_id = r.has_status = 1;
    r.id = 1;
    r.result_case = MMSIM__V1__RESPONSE__RESULT_HELLO;
    r.hello = &h;
    write_response(sp[1], &r);
    assert_int_equal(mmsim_client_connect_fd(sp[0], o, &c, err, sizeof(err)),
                     0);
    *srv = sp[1];
    return c;
}

static struct mmsim_client *raw_client(int *srv, uint32_t max_inflight)
{
    return raw_client_opts(srv, max_inflight, NULL);
}

/* Read the next frame off @fd into @b (reset first). */
static void read_frame(int fd, struct mmsim_buf *b)
{
    uint8_t h[MMSIM_FRAME_HEADER];
    size_t n, got = 0;

    for (; got < sizeof(h); got++)
        assert_int_equal(recv(fd, h + got, 1, 0), 1);
    n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    b->len = 0;
    assert_int_equal(mmsim_buf_reserve(b, n ? n : 1), 0);
    for (got = 0; got < n;) {
        ssize_t k = recv(fd, b->data + got, n - got, 0);

        assert_true(k > 0);
        got += (size_t)k;
    }
    b->len = n;
}

/*
 * Requests: the hand-made encodings are exactly protobuf-c's, for
 * defaults left out, negative nodes, ids of several bytes, empty and
 * 4 KiB bytes fields; a request protobuf-c packs is unchanged.
 */
static void test_wire_requests(void **state)
{
    static uint8_t page[4096];
    struct mmsim_client *c;
    struct mmsim_buf b;
    int srv, n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 13 + 1);
    c = raw_client(&srv, 1000);
    mmsim_buf_init(&b);
    read_frame(srv, &b); /* Hello */

    assert_true(mmsim_client_send_alloc(c, 0, 0, MMSIM_CLIENT_ANY_NODE) > 0);
    assert_true(mmsim_client_send_alloc(c, 3, MMSIM_GFP_KERNEL, 1) > 0);
    assert_true(mmsim_client_send_alloc(c, 10, UINT32_MAX, -5) > 0);
    assert_true(mmsim_client_send_alloc(c, 0, 0, INT32_MIN) > 0);
    assert_true(mmsim_client_send_free(c, 0, 0) > 0);
    assert_true(mmsim_client_send_free(c, UINT64_MAX, 7) > 0);
    assert_true(mmsim_client_send_read(c, 5, 0, 4096) > 0);
    assert_true(mmsim_client_send_read(c, UINT64_C(1) << 40, 100, 0) > 0);
    assert_true(mmsim_client_send_write(c, 7, 0, page, sizeof(page)) > 0);
    assert_true(mmsim_client_send_write(c, 7, 4095, page, 1) > 0);
    assert_true(mmsim_client_send_write(c, 7, 12, NULL, 0) > 0);
    assert_true(mmsim_client_send_ping(c, NULL, 0) > 0);
    assert_true(mmsim_client_send_ping(c, "x", 1) > 0);
    assert_true(mmsim_client_send_view(c, MMSIM__V1__VIEW_KIND__ZONEINFO) > 0);
    n = 14;
    /* Ids of two bytes and more. */
    for (; n < 300; n++)
        assert_true(mmsim_client_send_free(c, (uint64_t)n << 20, n % 11) > 0);
    assert_int_equal(mmsim_client_flush(c), 0);

    for (int i = 0; i < n; i++) {
        Mmsim__V1__Request *req;
        uint8_t *again;

        read_frame(srv, &b);
        req = mmsim__v1__request__unpack(NULL, b.len, b.data);
        assert_non_null(req);
        assert_true(req->has_id);
        assert_int_equal(req->id, (uint64_t)i + 2);
        assert_int_equal(mmsim__v1__request__get_packed_size(req), b.len);
        again = malloc(b.len ? b.len : 1);
        assert_non_null(again);
        mmsim__v1__request__pack(req, again);
        assert_memory_equal(again, b.data, b.len);
        free(again);
        switch (i) {
        case 0: /* every field at its default: none sent */
            assert_int_equal(req->op_case, MMSIM__V1__REQUEST__OP_ALLOC);
            assert_false(req->alloc->has_order || req->alloc->has_gfp ||
                         req->alloc->has_node);
            break;
        case 2:
            assert_true(req->alloc->has_node);
            assert_int_equal(req->alloc->node, -5);
            assert_int_equal(req->alloc->gfp, UINT32_MAX);
            break;
        case 8:
            assert_int_equal(req->op_case, MMSIM__V1__REQUEST__OP_WRITE);
            assert_int_equal(req->write->data.len, sizeof(page));
            assert_memory_equal(req->write->data.data, page, sizeof(page));
            break;
        case 10:
            assert_true(req->write->has_data);
            assert_int_equal(req->write->data.len, 0);
            assert_int_equal(req->write->offset, 12);
            break;
        case 11:
            assert_int_equal(req->op_case, MMSIM__V1__REQUEST__OP_PING);
            assert_false(req->ping->has_payload);
            break;
        default:
            break;
        }
        mmsim__v1__request__free_unpacked(req, NULL);
    }
    mmsim_buf_free(&b);
    mmsim_client_close(c);
    close(srv);
}

/* Append field @num with a varint @v, or with @len bytes of @p. */
static void put_field(struct mmsim_buf *b, uint32_t num, uint64_t v,
                      const void *p, size_t len)
{
    uint8_t t[20];
    size_t k = 0;
    uint64_t x = (uint64_t)num << 3 | (p ? 2 : 0);

    for (int pass = 0; pass < 2; pass++) {
        for (; x >= 0x80; x >>= 7)
            t[k++] = (uint8_t)(x | 0x80);
        t[k++] = (uint8_t)x;
        x = p ? len : v;
    }
    assert_int_equal(mmsim_buf_append(b, t, k), 0);
    if (p)
        assert_int_equal(mmsim_buf_append(b, p, len), 0);
}

/*
 * One response body @body (id 2 prepended unless @raw) through a fresh
 * client: what recv makes of it must be what protobuf-c makes of it (the
 * same message, or both refusing).
 */
static void check_response(const uint8_t *body, size_t len, bool raw)
{
    Mmsim__V1__Response *ref, *got = NULL;
    struct mmsim_client *c;
    struct mmsim_buf f;
    uint8_t hdr[MMSIM_FRAME_HEADER];
    int srv, rc;

    mmsim_buf_init(&f);
    if (!raw)
        put_field(&f, 1, 2, NULL, 0);
    assert_int_equal(mmsim_buf_append(&f, body, len), 0);
    c = raw_client(&srv, 16);
    hdr[0] = (uint8_t)(f.len >> 24);
    hdr[1] = (uint8_t)(f.len >> 16);
    hdr[2] = (uint8_t)(f.len >> 8);
    hdr[3] = (uint8_t)f.len;
    assert_int_equal(write_all(srv, hdr, sizeof(hdr)), 0);
    assert_int_equal(write_all(srv, f.data ? f.data : hdr, f.len), 0);
    assert_true(mmsim_client_send_ping(c, NULL, 0) == 2);
    rc = mmsim_client_recv(c, &got);
    ref = mmsim__v1__response__unpack(NULL, f.len, f.data ? f.data : hdr);
    if (!ref || !ref->has_id || ref->id != 2) {
        assert_true(rc < 0);
        assert_null(got);
    } else {
        size_t n = mmsim__v1__response__get_packed_size(ref);
        uint8_t *a = malloc(n + 1), *b2 = malloc(n + 1);

        assert_int_equal(rc, 0);
        assert_non_null(got);
        assert_int_equal(mmsim__v1__response__get_packed_size(got), n);
        mmsim__v1__response__pack(ref, a);
        mmsim__v1__response__pack(got, b2);
        assert_memory_equal(a, b2, n);
        free(a);
        free(b2);
        mmsim_client_pb_free(got);
    }
    if (ref)
        mmsim__v1__response__free_unpacked(ref, NULL);
    mmsim_client_close(c);
    close(srv);
    mmsim_buf_free(&f);
}

#define NR_BODIES 13

/*
 * Responses: every shape the hand decoder takes, and many it must leave
 * to protobuf-c (repeated, unknown or mistyped fields, other results,
 * bad varints), byte-mutated, give what protobuf-c gives.
 */
static void test_wire_responses(void **state)
{
    static const char zone[] = "Normal", msg[] = "no \0such page";
    struct mmsim_buf bodies[NR_BODIES], m;
    uint8_t data[300];
    unsigned nb = 0;
    uint64_t rng = 1;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    for (unsigned i = 0; i < NR_BODIES; i++)
        mmsim_buf_init(&bodies[i]);
    mmsim_buf_init(&m);
    /* Status only; with a message; nothing at all. */
    put_field(&bodies[nb++], 2, 0, NULL, 0);
    put_field(&bodies[nb], 2, MMSIM__V1__STATUS__NOT_OWNER, NULL, 0);
    put_field(&bodies[nb++], 3, 0, msg, sizeof(msg) - 1);
    nb++;
    /* AllocReply, whole and partial; empty. */
    put_field(&m, 1, UINT64_C(1) << 33, NULL, 0);
    put_field(&m, 2, 1, NULL, 0);
    put_field(&m, 3, 0, zone, sizeof(zone) - 1);
    put_field(&m, 4, 10, NULL, 0);
    put_field(&bodies[nb], 2, 0, NULL, 0);
    put_field(&bodies[nb++], 6, 0, m.data, m.len);
    m.len = 0;
    put_field(&m, 4, 3, NULL, 0);
    put_field(&m, 1, 77, NULL, 0);
    put_field(&bodies[nb++], 6, 0, m.data, m.len);
    put_field(&bodies[nb++], 6, 0, "", 0);
    /* ReadReply with data, empty data, no data; Pong with a payload. */
    m.len = 0;
    put_field(&m, 1, 0, data, sizeof(data));
    put_field(&bodies[nb], 2, 0, NULL, 0);
    put_field(&bodies[nb++], 9, 0, m.data, m.len);
    put_field(&bodies[nb++], 9, 0, "\x0a\x00", 2);
    put_field(&bodies[nb++], 9, 0, "", 0);
    put_field(&bodies[nb++], 5, 0, "\x0a\x03\x61\x62\x63", 5); /* "abc" */
    /* For protobuf-c: an unknown field, a repeated one, another result. */
    put_field(&bodies[nb], 2, 0, NULL, 0);
    put_field(&bodies[nb++], 50, 9, NULL, 0);
    put_field(&bodies[nb], 2, 0, NULL, 0);
    put_field(&bodies[nb++], 2, 6, NULL, 0);
    put_field(&bodies[nb++], 11, 0, "\x08\x01", 2); /* CheckReply */
    assert_int_equal(nb, NR_BODIES);

    for (unsigned i = 0; i < NR_BODIES; i++) {
        struct mmsim_buf *bd = &bodies[i];
        uint8_t *mut = malloc(bd->len + 16);

        assert_non_null(mut);
        check_response(bd->data, bd->len, false);
        /* Every truncation, and each byte changed a few ways. */
        for (size_t k = 0; k < bd->len; k++)
            check_response(bd->data, k, false);
        for (size_t k = 0; k < bd->len && k < 48; k++) {
            static const uint8_t vals[] = {0x00, 0x01, 0x08, 0x0a,
                                           0x12, 0x7f, 0x80, 0xff};

            for (size_t v = 0; v < sizeof(vals); v++) {
                memcpy(mut, bd->data, bd->len);
                mut[k] = vals[v];
                check_response(mut, bd->len, false);
            }
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            memcpy(mut, bd->data, bd->len);
            mut[k] ^= (uint8_t)(rng >> 56);
            check_response(mut, bd->len, false);
        }
        free(mut);
    }
    /* Ids: absent, another, repeated, of ten bytes, mistyped. */
    check_response((const uint8_t *)"\x10\x00", 2, true);
    check_response((const uint8_t *)"\x08\x03\x10\x00", 4, true);
    check_response((const uint8_t *)"\x08\x02\x08\x02", 4, true);
    check_response((const uint8_t *)"\x08\x82\x80\x80\x80\x80\x80\x80\x80\x80"
                                    "\x00",
                   11, true);
    check_response((const uint8_t *)"\x0a\x01\x02", 3, true);
    /* A status of ten bytes (negative), and one past int32. */
    check_response((const uint8_t *)"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                                    "\x01",
                   11, false);
    check_response((const uint8_t *)"\x10\x80\x80\x80\x80\x10", 6, false);
    for (unsigned i = 0; i < NR_BODIES; i++)
        mmsim_buf_free(&bodies[i]);
    mmsim_buf_free(&m);
}

/* Frame @r with protobuf-c into @b (reset first). */
static void frame_response(struct mmsim_buf *b, const Mmsim__V1__Response *r)
{
    size_t n = mmsim__v1__response__get_packed_size(r);

    b->len = 0;
    assert_int_equal(mmsim_buf_reserve(b, MMSIM_FRAME_HEADER + n), 0);
    assert_int_equal(mmsim_frame_put_header(b, (uint32_t)n), 0);
    mmsim__v1__response__pack(r, b->data + b->len);
    b->len += n;
}

/*
 * try_recv never waits: nothing pending is EINVAL; an answer not yet
 * written, or written in part, is "none yet"; once whole it comes, in
 * order, and the fd polls readable exactly when there is something.
 */
static void test_try_recv(void **state)
{
    Mmsim__V1__Response r = MMSIM__V1__RESPONSE__INIT;
    Mmsim__V1__Response *got = NULL;
    struct pollfd pfd = {.events = POLLIN};
    struct mmsim_client *c;
    struct mmsim_buf f, req;
    int srv;

    (void)state;
    mmsim_buf_init(&f);
    mmsim_buf_init(&req);
    c = raw_client(&srv, 16);
    read_frame(srv, &req); /* Hello */
    pfd.fd = mmsim_client_fd(c);
    assert_true(pfd.fd >= 0);
    assert_int_equal(mmsim_client_try_recv(c, &got), MMSIM_CLIENT_EINVAL);
    assert_null(got);

    assert_int_equal(mmsim_client_send_ping(c, NULL, 0), 2);
    assert_int_equal(mmsim_client_send_ping(c, "x", 1), 3);
    assert_int_equal(mmsim_client_try_recv(c, &got), 0); /* flushes */
    assert_null(got);
    read_frame(srv, &req);
    read_frame(srv, &req);
    assert_int_equal(poll(&pfd, 1, 0), 0);

    /* The first answer, in two pieces. */
    r.has_id = r.has_status = 1;
    r.id = 2;
    frame_response(&f, &r);
    assert_int_equal(write_all(srv, f.data, 3), 0);
    assert_int_equal(poll(&pfd, 1, 1000), 1);
    assert_int_equal(mmsim_client_try_recv(c, &got), 0);
    assert_null(got);
    assert_int_equal(write_all(srv, f.data + 3, f.len - 3), 0);
    assert_int_equal(poll(&pfd, 1, 1000), 1);
    assert_int_equal(mmsim_client_try_recv(c, &got), 0);
    assert_non_null(got);
    assert_int_equal(got->id, 2);
    mmsim_client_pb_free(got);
    assert_int_equal(mmsim_client_pending(c), 1);

    /* The second, refused: its status is recorded, as recv does. */
    r.id = 3;
    r.status = MMSIM__V1__STATUS__NOT_OWNER;
    r.message = (char *)"not yours";
    frame_response(&f, &r);
    assert_int_equal(write_all(srv, f.data, f.len), 0);
    assert_int_equal(poll(&pfd, 1, 1000), 1);
    assert_int_equal(mmsim_client_try_recv(c, &got), 0);
    assert_non_null(got);
    assert_int_equal(got->id, 3);
    assert_int_equal(mmsim_client_status(c), MMSIM__V1__STATUS__NOT_OWNER);
    assert_string_equal(mmsim_client_message(c), "not yours");
    mmsim_client_pb_free(got);
    assert_int_equal(mmsim_client_pending(c), 0);

    /* A server gone is an error, not "none yet". */
    assert_int_equal(mmsim_client_send_ping(c, NULL, 0), 4);
    close(srv);
    assert_true(mmsim_client_try_recv(c, &got) < 0);
    assert_null(got);
    mmsim_client_close(c);
    mmsim_buf_free(&f);
    mmsim_buf_free(&req);
}

/* The WritePage of test_try_flush's request @k: pfn k, bytes k + j. */
static void flush_page(uint8_t *page, size_t len, unsigned k)
{
    for (size_t j = 0; j < len; j++)
        page[j] = (uint8_t)(k + j);
}

/*
 * The test's server side: take what the client sent, up to @max bytes,
 * without waiting, and check each whole frame: request @seen, in order.
 */
static void flush_take(int srv, struct mmsim_buf *acc, size_t max,
                       unsigned *seen)
{
    uint8_t page[4096];
    size_t off = 0;
    ssize_t n;

    assert_int_equal(mmsim_buf_reserve(acc, max), 0);
    n = recv(srv, acc->data + acc->len, max, MSG_DONTWAIT);
    if (n < 0)
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    else
        acc->len += (size_t)n;
    while (acc->len - off >= MMSIM_FRAME_HEADER) {
        const uint8_t *h = acc->data + off;
        size_t len =
            (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        Mmsim__V1__Request *q;

        if (acc->len - off - MMSIM_FRAME_HEADER < len)
            break;
        q = mmsim__v1__request__unpack(NULL, len, h + MMSIM_FRAME_HEADER);
        assert_non_null(q);
        assert_int_equal(q->id, 2 + *seen);
        assert_int_equal(q->op_case, MMSIM__V1__REQUEST__OP_WRITE);
        assert_int_equal(q->write->pfn, *seen);
        flush_page(page, sizeof(page), *seen);
        assert_int_equal(q->write->data.len, sizeof(page));
        assert_memory_equal(q->write->data.data, page, sizeof(page));
        mmsim__v1__request__free_unpacked(q, NULL);
        (*seen)++;
        off += MMSIM_FRAME_HEADER + len;
    }
    mmsim_buf_consume(acc, off);
}

/*
 * try_flush and try_recv never wait, even with the socket full (a wait
 * there would stall an event loop's every other connection); send_*()
 * past 64 KiB queued sends what fits and goes on. Whatever is left goes
 * out on later calls, whole and in order, while more is queued behind it.
 * A short timeout turns any wait for the silent server into ETIMEDOUT.
 */
static void test_try_flush(void **state)
{
    enum { TOTAL = 600, FIRST = 200 }; /* 4 KiB writes: 800 KiB, then more */
    struct mmsim_client_opts o;
    Mmsim__V1__Response *got = NULL;
    struct mmsim_client *c;
    struct mmsim_buf acc;
    uint8_t page[4096];
    unsigned queued = 0, seen = 0, left_over = 0;
    int srv, small = 64 << 10, rc = 1;

    (void)state;
    mmsim_buf_init(&acc);
    mmsim_client_opts_init(&o);
    o.timeout_ms = 200;
    c = raw_client_opts(&srv, TOTAL + 1, &o);
    read_frame(srv, &acc); /* Hello */
    acc.len = 0;
    /* Small socket buffers, so the writes below fill them for sure. */
    assert_int_equal(setsockopt(mmsim_client_fd(c), SOL_SOCKET, SO_SNDBUF,
                                &small, sizeof(small)),
                     0);
    assert_int_equal(mmsim_client_try_flush(c), 0); /* nothing queued */

    for (; queued < FIRST; queued++) {
        flush_page(page, sizeof(page), queued);
        assert_int_equal(
            mmsim_client_send_write(c, queued, 0, page, sizeof(page)),
            2 + queued);
    }
    assert_int_equal(mmsim_client_try_flush(c), 1); /* full: some left */
    assert_int_equal(mmsim_client_try_recv(c, &got), 0);
    assert_null(got);
    assert_int_equal(mmsim_client_pending(c), FIRST);

    /* The server takes 12 KiB at a time while 8 KiB more are queued. */
    while (rc || queued < TOTAL) {
        flush_take(srv, &acc, 12 << 10, &seen);
        for (unsigned i = 0; i < 2 && queued < TOTAL; i++, queued++) {
            flush_page(page, sizeof(page), queued);
            assert_int_equal(
                mmsim_client_send_write(c, queued, 0, page, sizeof(page)),
                2 + queued);
        }
        rc = mmsim_client_try_flush(c);
        assert_true(rc == 0 || rc == 1);
        left_over += rc;
    }
    while (seen < TOTAL) /* all sent: what is left is in the socket */
        flush_take(srv, &acc, 64 << 10, &seen);
    assert_true(left_over > 1); /* the socket was full again and again */
    assert_int_equal(acc.len, 0);
    assert_int_equal(mmsim_client_pending(c), TOTAL);

    /* A dead socket is an error from try_flush too. */
    assert_true(mmsim_client_send_write(c, 0, 0, page, sizeof(page)) > 0);
    close(srv);
    assert_true(mmsim_client_try_flush(c) < 0);
    assert_int_equal(mmsim_client_try_flush(c), MMSIM_CLIENT_ECLOSED);
    mmsim_client_close(c);
    mmsim_buf_free(&acc);
}

static void test_gfp_names(void **state)
{
    uint32_t g;
    char buf[256];

    (void)state;
    assert_int_equal(mmsim_client_parse_gfp("GFP_KERNEL", &g), 0);
    assert_int_equal(g, MMSIM_GFP_KERNEL);
    assert_int_equal(mmsim_client_parse_gfp("GFP_KERNEL|__GFP_ZERO", &g), 0);
    assert_int_equal(g, MMSIM_GFP_KERNEL | MMSIM_GFP_ZERO);
    assert_int_equal(mmsim_client_parse_gfp("gfp_atomic, gfp_nowarn", &g), 0);
    assert_int_equal(g, MMSIM_GFP_ATOMIC | MMSIM_GFP_NOWARN);
    assert_int_equal(mmsim_client_parse_gfp("0x140", &g), 0);
    assert_int_equal(g, 0x140);
    assert_int_equal(mmsim_client_parse_gfp("GFP_DMA32+__GFP_MOVABLE", &g), 0);
    assert_int_equal(g, MMSIM_GFP_DMA32 | MMSIM_GFP_MOVABLE);
    assert_int_equal(mmsim_client_parse_gfp("0", &g), 0);
    assert_int_equal(g, 0);
    assert_int_equal(mmsim_client_parse_gfp("GFP_BOGUS", &g),
                     MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_parse_gfp("0x10000", &g),
                     MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_parse_gfp("GFP_KERNEL|", &g),
                     MMSIM_CLIENT_EINVAL);
    assert_int_equal(mmsim_client_parse_gfp("", &g), MMSIM_CLIENT_EINVAL);

    assert_int_equal(mmsim_client_format_gfp(MMSIM_GFP_KERNEL | MMSIM_GFP_ZERO,
                                             buf, sizeof(buf)),
                     (int)strlen("GFP_KERNEL|__GFP_ZERO"));
    assert_string_equal(buf, "GFP_KERNEL|__GFP_ZERO");
    mmsim_client_format_gfp(MMSIM_GFP_HIGHUSER_MOVABLE, buf, sizeof(buf));
    assert_string_equal(buf, "GFP_HIGHUSER_MOVABLE");
    mmsim_client_format_gfp(0, buf, sizeof(buf));
    assert_string_equal(buf, "0");
    mmsim_client_format_gfp(0x10000 | MMSIM_GFP_HIGH, buf, sizeof(buf));
    assert_string_equal(buf, "__GFP_HIGH|0x10000");
    /* Truncation still reports the full length. */
    assert_int_equal(mmsim_client_format_gfp(MMSIM_GFP_KERNEL, buf, 4), 10);
    assert_string_equal(buf, "GFP");
    /* Every formatted value parses back. */
    for (uint32_t v = 0; v <= MMSIM_GFP_ALL_FLAGS; v += 0x21) {
        uint32_t w = v & MMSIM_GFP_ALL_FLAGS;

        mmsim_client_format_gfp(w, buf, sizeof(buf));
        assert_int_equal(mmsim_client_parse_gfp(buf, &g), 0);
        assert_int_equal(g, w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_ping),
        cmocka_unit_test(test_blocking_calls),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_reconnect_unix),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_transport_errors),
        cmocka_unit_test(test_server_gone),
        cmocka_unit_test(test_gfp_names),
        cmocka_unit_test(test_wire_requests),
        cmocka_unit_test(test_wire_responses),
        cmocka_unit_test(test_try_recv),
        cmocka_unit_test(test_try_flush),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
