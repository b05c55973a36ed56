/*
 * test-mmsimd.c - mmsimd end to end: a real daemon on an ephemeral
 * loopback port and a Unix socket in a temporary directory, driven with
 * raw sockets and frames packed by the generated protobuf-c code, so the
 * test depends on nothing but the wire protocol.
 *
 * Usage: test-mmsimd PATH-TO-MMSIMD
 * (MMSIM_TEST_KEEP=1 keeps the daemons' logs, as a failure does.)
 *
 * One daemon serves the tests that only need a well-behaved machine; the
 * tests of limits, authentication, start-up refusals and signals start
 * their own. Every wait is bounded, so a broken daemon fails a test
 * rather than hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmsim.pb-c.h"
#include "mmsim/frame.h"

#include "daemon.h"

typedef Mmsim__V1__Request Request;
typedef Mmsim__V1__Response Response;

static const char *mmsimd_path;
static char tmpdir[] = "/tmp/test-mmsimd-XXXXXX";

/* The daemon the ordinary tests share. */
static struct daemon shared;

/* While set, start_daemon() adds one more "NAME=VALUE" to the daemon's
 * environment / uses this Unix socket path. */
static char extra_env[512];
static char unix_override[108];

/* ---- the daemon -------------------------------------------------------- */

/*
 * Start mmsimd with its stderr in a file, listening on 127.0.0.1:0 and a
 * Unix socket in the temporary directory, plus the NULL-terminated extra
 * arguments; @token (or NULL) goes into MMSIM_TOKEN.
 *
 * Return: 0 when ready; else -1 and d->pid = 0 when it exited, the wait
 * status in *status.
 */
static int start_daemon(struct daemon *d, const char *name, const char *token,
                        int *status, ...)
{
    static int serial;
    const char *argv[64];
    int argc = 0;
    va_list ap;

    memset(d, 0, sizeof(*d));
    snprintf(d->log, sizeof(d->log), "%s/%s-%d.log", tmpdir, name, serial);
    snprintf(d->sock, sizeof(d->sock), "%s/%s-%d.sock", tmpdir, name, serial++);
    if (unix_override[0])
        snprintf(d->sock, sizeof(d->sock), "%s", unix_override);
    argv[argc++] = mmsimd_path;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "--unix";
    argv[argc++] = d->sock;
    argv[argc++] = "--workers";
    argv[argc++] = "2";
    argv[argc++] = "--log-level";
    argv[argc++] = "debug";
    va_start(ap, status);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 62;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return daemon_spawn(d, argv, token, extra_env, 10000, status);
}

static long rss_kib(pid_t pid)
{
    char path[64], *text, *p;
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    text = slurp(path);
    p = strstr(text, "VmRSS:");
    if (p)
        kib = strtol(p + 6, NULL, 10);
    free(text);
    return kib;
}

/* ---- sockets and frames ------------------------------------------------ */

static int connect_tcp(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t len = strlen(path);

    assert_true(fd >= 0);
    assert_true(len < sizeof(sun.sun_path));
    memcpy(sun.sun_path, path, len + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    return fd;
}

/* True when the peer closes (EOF or reset) within @timeout_ms; data
 * before the close is discarded. */
static bool wait_closed(int fd, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    char buf[4096];

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = end - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return false;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

static Mmsim__V1__Status hello(int fd, const char *token)
{
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Status st;
    Response *resp;

    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    h.client_name = "test-mmsimd";
    if (token) {
        h.has_token = 1;
        h.token.data = (uint8_t *)token;
        h.token.len = strlen(token);
    }
    r.has_id = 1;
    r.id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    send_req(fd, &r);
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, 1);
    st = resp->status;
    mmsim__v1__response__free_unpacked(resp, NULL);
    return st;
}

/* Hello on @fd without asserting: the status, or -1 when the daemon
 * closes the connection instead of answering. */
static int try_hello(int fd)
{
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    struct mmsim_buf b;
    Response *resp;
    size_t off = 0;
    int st = -1;

    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    r.has_id = 1;
    r.id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    mmsim_buf_init(&b);
    pack_req(&b, &r);
    while (off < b.len) {
        ssize_t n = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off == b.len && (resp = recv_resp(fd, 5000))) {
        st = resp->status;
        mmsim__v1__response__free_unpacked(resp, NULL);
    }
    mmsim_buf_free(&b);
    return st;
}

static void ping_req(Request *r, Mmsim__V1__Ping *p, uint64_t id)
{
    mmsim__v1__request__init(r);
    mmsim__v1__ping__init(p);
    p->has_payload = 1;
    p->payload.data = (uint8_t *)"abc";
    p->payload.len = 3;
    r->has_id = 1;
    r->id = id;
    r->op_case = MMSIM__V1__REQUEST__OP_PING;
    r->ping = p;
}

static void assert_ping(int fd, uint64_t id)
{
    Mmsim__V1__Ping p;
    Request r;
    Response *resp;

    ping_req(&r, &p, id);
    send_req(fd, &r);
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->id, id);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    assert_int_equal(resp->result_case, MMSIM__V1__RESPONSE__RESULT_PONG);
    assert_int_equal(resp->pong->payload.len, 3);
    assert_memory_equal(resp->pong->payload.data, "abc", 3);
    mmsim__v1__response__free_unpacked(resp, NULL);
}

static void alloc_req(Request *r, Mmsim__V1__AllocPages *a, uint64_t id,
                      unsigned order)
{
    mmsim__v1__request__init(r);
    mmsim__v1__alloc_pages__init(a);
    a->has_order = 1;
    a->order = order;
    r->has_id = 1;
    r->id = id;
    r->op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    r->alloc = a;
}

/* One request, its response (or NULL on EOF/timeout). */
static Response *call(int fd, const Request *r)
{
    send_req(fd, r);
    return recv_resp(fd, 5000);
}

/* Allocate one page; Return: its pfn. */
static uint64_t alloc_page(int fd, uint64_t id)
{
    Mmsim__V1__AllocPages a;
    Request r;
    Response *resp;
    uint64_t pfn;

    alloc_req(&r, &a, id, 0);
    resp = call(fd, &r);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    pfn = resp->alloc->pfn;
    mmsim__v1__response__free_unpacked(resp, NULL);
    return pfn;
}

/* ReadPage of a whole page; Return: the response (caller frees). */
static Response *read_page(int fd, uint64_t id, uint64_t pfn)
{
    Mmsim__V1__ReadPage rd = MMSIM__V1__READ_PAGE__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    Response *resp;

    rd.has_pfn = rd.has_offset = rd.has_length = 1;
    rd.pfn = pfn;
    rd.length = 4096;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_READ;
    r.read = &rd;
    resp = call(fd, &r);
    assert_non_null(resp);
    return resp;
}

/* Free pages of the whole machine (buddy + per-cpu lists): GetMachine. */
static uint64_t machine_free_pages(int fd, uint64_t id)
{
    Mmsim__V1__GetMachine gm = MMSIM__V1__GET_MACHINE__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    Response *resp;
    uint64_t sum = 0;

    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_MACHINE;
    r.machine = &gm;
    send_req(fd, &r);
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    assert_int_equal(resp->result_case, MMSIM__V1__RESPONSE__RESULT_MACHINE);
    for (size_t i = 0; i < resp->machine->n_zones; i++)
        sum += resp->machine->zones[i]->free + resp->machine->zones[i]->pcp;
    mmsim__v1__response__free_unpacked(resp, NULL);
    return sum;
}

/* Check (full); Return: whether the machine is consistent. */
static bool machine_check(int fd, uint64_t id)
{
    Mmsim__V1__Check c = MMSIM__V1__CHECK__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    Response *resp;
    bool ok;

    c.has_full = 1;
    c.full = 1;
    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_CHECK;
    r.check = &c;
    send_req(fd, &r);
    resp = recv_resp(fd, 10000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    assert_int_equal(resp->result_case, MMSIM__V1__RESPONSE__RESULT_CHECK);
    ok = resp->check->ok;
    if (!ok)
        fprintf(stderr, "check: %s\n", resp->check->problem);
    mmsim__v1__response__free_unpacked(resp, NULL);
    return ok;
}

/* ---- the shared daemon ------------------------------------------------- */

static int shared_setup(void **state)
{
    (void)state;
    /* No deferred pages joining in the background: free-page counts stay
     * put between the teardown test's two readings. */
    return start_daemon(&shared, "shared", NULL, NULL, "--deferred-init", "off",
                        (const char *)NULL);
}

static int shared_teardown(void **state)
{
    (void)state;
    daemon_stop(&shared, 10000);
    return 0;
}

/* Hello and Ping over TCP and over the Unix socket, which is mode 0600. */
static void test_hello_ping(void **state)
{
    struct stat st;
    int fd;

    (void)state;
    fd = connect_tcp(shared.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    assert_ping(fd, 2);
    assert_ping(fd, 3);
    close(fd);

    assert_int_equal(lstat(shared.sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    fd = connect_unix(shared.sock);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    assert_ping(fd, 2);
    close(fd);
}

/* Page contents over the wire: a full page written, read back. */
static void test_page_contents(void **state)
{
    Mmsim__V1__WritePage wr = MMSIM__V1__WRITE_PAGE__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    static uint8_t page[4096];
    Response *resp;
    uint64_t pfn;
    int fd;

    (void)state;
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 31 + 7);
    fd = connect_tcp(shared.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    pfn = alloc_page(fd, 2);
    wr.has_pfn = wr.has_offset = wr.has_data = 1;
    wr.pfn = pfn;
    wr.data.data = page;
    wr.data.len = sizeof(page);
    r.has_id = 1;
    r.id = 3;
    r.op_case = MMSIM__V1__REQUEST__OP_WRITE;
    r.write = &wr;
    resp = call(fd, &r);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    mmsim__v1__response__free_unpacked(resp, NULL);
    resp = read_page(fd, 4, pfn);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    assert_int_equal(resp->read->data.len, sizeof(page));
    assert_memory_equal(resp->read->data.data, page, sizeof(page));
    mmsim__v1__response__free_unpacked(resp, NULL);
    close(fd);
}

/* Pipelined requests are answered in order, in one burst. */
static void test_pipelined_in_order(void **state)
{
    struct mmsim_buf b;
    int fd;

    (void)state;
    fd = connect_tcp(shared.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    mmsim_buf_init(&b);
    for (uint64_t id = 10; id < 110; id++) {
        Mmsim__V1__Ping p;
        Request r;

        ping_req(&r, &p, id);
        pack_req(&b, &r);
    }
    write_all(fd, b.data, b.len);
    mmsim_buf_free(&b);
    for (uint64_t id = 10; id < 110; id++) {
        Response *resp = recv_resp(fd, 5000);

        assert_non_null(resp);
        assert_int_equal(resp->id, id);
        assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
        mmsim__v1__response__free_unpacked(resp, NULL);
    }
    close(fd);
}

/* A length prefix over the limit: FRAME_TOO_LARGE, then the close; a
 * client alongside does not notice. */
static void test_frame_too_large(void **state)
{
    static const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xf0};
    Response *resp;
    int good, bad;

    (void)state;
    good = connect_tcp(shared.port);
    assert_int_equal(hello(good, NULL), MMSIM__V1__STATUS__OK);
    bad = connect_tcp(shared.port);
    assert_int_equal(hello(bad, NULL), MMSIM__V1__STATUS__OK);
    write_all(bad, huge, sizeof(huge));
    resp = recv_resp(bad, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__FRAME_TOO_LARGE);
    mmsim__v1__response__free_unpacked(resp, NULL);
    assert_true(wait_closed(bad, 5000));
    close(bad);
    assert_ping(good, 7);
    close(good);
}

/* Garbage: an HTTP request (its "GET " is a huge length), and a small
 * frame that is no Request. Each gets its error, then the close. */
static void test_garbage(void **state)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: mmsim\r\n\r\n";
    static const uint8_t junk[] = {0,    0,    0,    6, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 9, 9,    9};
    Response *resp;
    int fd, good;

    (void)state;
    good = connect_unix(shared.sock);
    assert_int_equal(hello(good, NULL), MMSIM__V1__STATUS__OK);

    fd = connect_tcp(shared.port);
    write_all(fd, http, sizeof(http) - 1);
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__FRAME_TOO_LARGE);
    mmsim__v1__response__free_unpacked(resp, NULL);
    assert_true(wait_closed(fd, 5000));
    close(fd);

    fd = connect_tcp(shared.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    write_all(fd, junk, sizeof(junk));
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__MALFORMED);
    mmsim__v1__response__free_unpacked(resp, NULL);
    assert_true(wait_closed(fd, 5000));
    close(fd);

    assert_ping(good, 8);
    close(good);
}

/*
 * Back-pressure: a client pipelines views without ever reading. Once the
 * socket buffers and the daemon's bound are full, the daemon stops
 * reading and the client's writes stop going through; the daemon's RSS
 * grows by a few MiB at most, although what the client sent asks for far
 * more. Another client is served meanwhile.
 */
static void test_backpressure(void **state)
{
    Mmsim__V1__GetView gv = MMSIM__V1__GET_VIEW__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    struct mmsim_buf b;
    long rss0, rss1;
    size_t sent = 0, nreq = 0, off = 0;
    int64_t last_progress, end;
    int fd, good, flags, bufsz = 64 * 1024;

    (void)state;
    good = connect_tcp(shared.port);
    assert_int_equal(hello(good, NULL), MMSIM__V1__STATUS__OK);
    fd = connect_tcp(shared.port);
    /* Small kernel buffers on the client side: the daemon's bound, not
     * the kernel's, is what this test measures. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    rss0 = rss_kib(shared.pid);

    /* 64 KiB of pipelined ZONEINFO requests, sent over and over. */
    gv.has_kind = 1;
    gv.kind = MMSIM__V1__VIEW_KIND__ZONEINFO;
    r.has_id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    r.view = &gv;
    mmsim_buf_init(&b);
    while (b.len < 64 * 1024) {
        r.id = 1000 + nreq++;
        pack_req(&b, &r);
    }
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    last_progress = now_ms();
    end = now_ms() + 8000;
    /* Until nothing more goes through for 1 s: the daemon stopped
     * reading. */
    while (now_ms() - last_progress < 1000 && now_ms() < end) {
        ssize_t n = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);

        if (n > 0) {
            sent += (size_t)n;
            off = (off + (size_t)n) % b.len;
            last_progress = now_ms();
        } else {
            assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
            sleep_ms(5);
        }
    }
    assert_true(now_ms() - last_progress >= 1000); /* it did stop */
    rss1 = rss_kib(shared.pid);
    fprintf(stderr,
            "backpressure: sent %zu KiB of requests (%zu views); daemon "
            "RSS %ld -> %ld KiB\n",
            sent / 1024, sent / (b.len / nreq), rss0, rss1);
    /* Every request asks for a zoneinfo text of several KiB: unbounded
     * buffering would take hundreds of MiB. */
    assert_true(sent > 1024 * 1024);
    assert_true(rss1 - rss0 < 64 * 1024); /* sanitizers take their share */
    assert_ping(good, 9);
    mmsim_buf_free(&b);
    close(fd);
    close(good);
}

/* Append a framed AllocPages of @order to @b. */
static void pack_alloc(struct mmsim_buf *b, uint64_t id, unsigned order)
{
    Mmsim__V1__AllocPages a;
    Request r;

    alloc_req(&r, &a, id, order);
    pack_req(b, &r);
}

/*
 * Teardown: a client allocates, pipelines more allocations and is killed
 * (SIGKILL) without reading the answers. Its session's pages all come
 * back, and Check passes.
 */
static void test_teardown_after_kill(void **state)
{
    /* 64 allocations of orders 0-3, then 100 of orders 0-2. */
    const uint64_t want_first = 16 * (1 + 2 + 4 + 8);
    const uint64_t want = want_first + 34 * 1 + 33 * 2 + 33 * 4;
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    struct mmsim_buf first, second;
    uint64_t before, after = 0;
    int64_t end;
    int fd, c, st, go[2];
    pid_t child;

    (void)state;
    fd = connect_tcp(shared.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    before = machine_free_pages(fd, 2);

    /* Everything the child sends, packed here: the child makes only
     * plain system calls (no cmocka asserts in a forked copy). */
    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    r.has_id = 1;
    r.id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    mmsim_buf_init(&first);
    mmsim_buf_init(&second);
    pack_req(&first, &r);
    for (unsigned i = 0; i < 64; i++)
        pack_alloc(&first, 10 + i, i % 4);
    for (unsigned i = 0; i < 100; i++)
        pack_alloc(&second, 100 + i, i % 3);
    c = connect_tcp(shared.port);
    assert_int_equal(pipe(go), 0);

    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char b;

        /* Two bursts, each under max_inflight; nothing is ever read. The
         * second waits for the parent to see the first one served, so
         * the daemon never holds both at once however slow it runs. */
        close(go[1]);
        if (send(c, first.data, first.len, MSG_NOSIGNAL) != (ssize_t)first.len)
            _exit(1);
        if (read(go[0], &b, 1) != 1)
            _exit(1);
        if (send(c, second.data, second.len, MSG_NOSIGNAL) !=
            (ssize_t)second.len)
            _exit(1);
        for (;;)
            pause();
    }
    close(go[0]);
    close(c); /* the child's copy is the connection now */
    mmsim_buf_free(&first);
    mmsim_buf_free(&second);
    end = now_ms() + 10000;
    do {
        after = machine_free_pages(fd, 3);
        if (before - after >= want_first)
            break;
        sleep_ms(10);
    } while (now_ms() < end);
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    /* Wait until every allocation was made, then kill the client. */
    end = now_ms() + 10000;
    do {
        after = machine_free_pages(fd, 3);
        if (before - after >= want)
            break;
        sleep_ms(10);
    } while (now_ms() < end);
    kill(child, SIGKILL);
    assert_int_not_equal(waitpid(child, &st, 0), -1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(before - after, want);

    end = now_ms() + 5000;
    do {
        after = machine_free_pages(fd, 4);
        if (after == before)
            break;
        sleep_ms(10);
    } while (now_ms() < end);
    assert_int_equal(after, before);
    assert_true(machine_check(fd, 5));
    assert_true(log_has(&shared, "freed 472 pages"));
    close(fd);
}

/*
 * Many sessions at once, spread over both workers: each pipelines
 * allocations, then frees what it got. Every page comes back and Check
 * passes.
 */
static void test_many_clients(void **state)
{
    enum { NCONN = 16, NALLOC = 24 };
    static uint64_t pfn[NCONN][NALLOC];
    static unsigned order[NCONN][NALLOC];
    uint64_t before;
    int fd[NCONN], probe;

    (void)state;
    probe = connect_unix(shared.sock);
    assert_int_equal(hello(probe, NULL), MMSIM__V1__STATUS__OK);
    before = machine_free_pages(probe, 2);
    for (int i = 0; i < NCONN; i++) {
        fd[i] = i % 2 ? connect_unix(shared.sock) : connect_tcp(shared.port);
        assert_int_equal(hello(fd[i], NULL), MMSIM__V1__STATUS__OK);
    }
    for (int i = 0; i < NCONN; i++) {
        struct mmsim_buf b;

        mmsim_buf_init(&b);
        for (int k = 0; k < NALLOC; k++)
            pack_alloc(&b, 100 + (uint64_t)k, (unsigned)(k % 3));
        write_all(fd[i], b.data, b.len);
        mmsim_buf_free(&b);
    }
    for (int i = 0; i < NCONN; i++) {
        for (int k = 0; k < NALLOC; k++) {
            Response *resp = recv_resp(fd[i], 5000);

            assert_non_null(resp);
            assert_int_equal(resp->id, 100 + (uint64_t)k);
            assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
            assert_int_equal(resp->result_case,
                             MMSIM__V1__RESPONSE__RESULT_ALLOC);
            pfn[i][k] = resp->alloc->pfn;
            order[i][k] = resp->alloc->order;
            mmsim__v1__response__free_unpacked(resp, NULL);
        }
    }
    for (int i = 0; i < NCONN; i++) {
        struct mmsim_buf b;

        mmsim_buf_init(&b);
        for (int k = 0; k < NALLOC; k++) {
            Mmsim__V1__FreePages f = MMSIM__V1__FREE_PAGES__INIT;
            Request r = MMSIM__V1__REQUEST__INIT;

            f.has_pfn = f.has_order = 1;
            f.pfn = pfn[i][k];
            f.order = order[i][k];
            r.has_id = 1;
            r.id = 200 + (uint64_t)k;
            r.op_case = MMSIM__V1__REQUEST__OP_FREE;
            r.free = &f;
            pack_req(&b, &r);
        }
        write_all(fd[i], b.data, b.len);
        mmsim_buf_free(&b);
    }
    for (int i = 0; i < NCONN; i++) {
        for (int k = 0; k < NALLOC; k++) {
            Response *resp = recv_resp(fd[i], 5000);

            assert_non_null(resp);
            assert_int_equal(resp->id, 200 + (uint64_t)k);
            assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
            mmsim__v1__response__free_unpacked(resp, NULL);
        }
        close(fd[i]);
    }
    assert_int_equal(machine_free_pages(probe, 3), before);
    assert_true(machine_check(probe, 4));
    close(probe);
}

/* A second daemon on the same Unix socket refuses to start. */
static void test_socket_in_use(void **state)
{
    struct daemon d2;
    char *text;
    int st = 0;

    (void)state;
    memset(&d2, 0, sizeof(d2));
    snprintf(d2.log, sizeof(d2.log), "%s/second.log", tmpdir);
    d2.pid = fork();
    assert_true(d2.pid >= 0);
    if (d2.pid == 0) {
        int fd = open(d2.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, STDERR_FILENO);
        execl(mmsimd_path, mmsimd_path, "--listen", "none", "--unix",
              shared.sock, (char *)NULL);
        _exit(127);
    }
    st = wait_exit(d2.pid, 5000);
    assert_int_not_equal(st, -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    text = slurp(d2.log);
    assert_non_null(strstr(text, "another daemon"));
    free(text);
    /* And the first one's socket is still there and served. */
    st = connect_unix(shared.sock);
    assert_int_equal(hello(st, NULL), MMSIM__V1__STATUS__OK);
    close(st);
}

/* ---- daemons of their own ---------------------------------------------- */

/* A socket file nobody answers on is replaced; a file that is not a
 * socket is left alone and the daemon refuses to start. */
static void test_stale_socket(void **state)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct daemon d;
    char *text;
    int fd, st = 0;

    (void)state;
    snprintf(unix_override, sizeof(unix_override), "%s/stale.sock", tmpdir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", unix_override);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd); /* the file stays, nobody listens: stale */
    assert_int_equal(start_daemon(&d, "stale", NULL, NULL, (const char *)NULL),
                     0);
    assert_true(log_has(&d, "removed stale socket"));
    fd = connect_unix(d.sock);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    close(fd);
    daemon_stop(&d, 5000);

    snprintf(unix_override, sizeof(unix_override), "%s/file.sock", tmpdir);
    fd = open(unix_override, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(start_daemon(&d, "file", NULL, &st, (const char *)NULL),
                     -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(log_has(&d, "is not a socket"));
    text = slurp(d.sock);
    assert_string_equal(text, "keep");
    free(text);
    unix_override[0] = '\0';
}

static void test_max_connections(void **state)
{
    struct daemon d;
    int a, b, c;

    (void)state;
    assert_int_equal(start_daemon(&d, "maxconn", NULL, NULL,
                                  "--max-connections", "2", (const char *)NULL),
                     0);
    a = connect_tcp(d.port);
    assert_int_equal(hello(a, NULL), MMSIM__V1__STATUS__OK);
    b = connect_unix(d.sock);
    assert_int_equal(hello(b, NULL), MMSIM__V1__STATUS__OK);
    c = connect_tcp(d.port);
    assert_true(wait_closed(c, 5000));
    close(c);
    assert_true(log_wait(&d, "refused connection", 2000));
    /* A slot frees when a connection closes. The daemon may see the
     * close after our next connect (slowly so under TSan), so retry
     * until a new connection is answered rather than refused. */
    close(a);
    for (int64_t end = now_ms() + 10000;; sleep_ms(20)) {
        c = connect_tcp(d.port);
        if (try_hello(c) == MMSIM__V1__STATUS__OK)
            break;
        close(c);
        assert_true(now_ms() < end);
    }
    close(c);
    close(b);
    daemon_stop(&d, 5000);
}

static void test_idle_timeout(void **state)
{
    struct daemon d;
    int64_t t0;
    int fd, busy;

    (void)state;
    assert_int_equal(start_daemon(&d, "idle", NULL, NULL, "--idle-timeout", "1",
                                  (const char *)NULL),
                     0);
    fd = connect_tcp(d.port);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    busy = connect_tcp(d.port);
    assert_int_equal(hello(busy, NULL), MMSIM__V1__STATUS__OK);
    t0 = now_ms();
    /* @busy keeps talking, @fd says nothing. */
    for (int i = 0; i < 6; i++) {
        sleep_ms(250);
        assert_ping(busy, 20 + (uint64_t)i);
    }
    assert_true(wait_closed(fd, 3000));
    assert_true(now_ms() - t0 >= 900);
    assert_ping(busy, 30);
    assert_true(log_wait(&d, "idle timeout", 2000));
    close(fd);
    close(busy);
    daemon_stop(&d, 5000);
}

static void test_token(void **state)
{
    struct daemon d;
    Mmsim__V1__Ping p;
    Request r;
    Response *resp;
    int fd;

    (void)state;
    assert_int_equal(
        start_daemon(&d, "token", "s3cret-t0ken", NULL, (const char *)NULL), 0);
    /* A wrong token: refused, logged, closed. */
    fd = connect_tcp(d.port);
    assert_int_equal(hello(fd, "wrong"), MMSIM__V1__STATUS__UNAUTHENTICATED);
    assert_true(wait_closed(fd, 5000));
    close(fd);
    assert_true(log_wait(&d, "authentication failed", 2000));
    assert_false(log_has(&d, "s3cret-t0ken"));
    /* No token at all. */
    fd = connect_unix(d.sock);
    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__UNAUTHENTICATED);
    assert_true(wait_closed(fd, 5000));
    close(fd);
    /* Anything before Hello. */
    fd = connect_tcp(d.port);
    ping_req(&r, &p, 5);
    send_req(fd, &r);
    resp = recv_resp(fd, 5000);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__UNAUTHENTICATED);
    mmsim__v1__response__free_unpacked(resp, NULL);
    assert_true(wait_closed(fd, 5000));
    close(fd);
    /* The right one. */
    fd = connect_tcp(d.port);
    assert_int_equal(hello(fd, "s3cret-t0ken"), MMSIM__V1__STATUS__OK);
    assert_ping(fd, 6);
    close(fd);
    daemon_stop(&d, 5000);
}

/* --metadata-only: the machine says so in Hello, and contents are
 * NOT_SUPPORTED while allocation works. */
static void test_metadata_only(void **state)
{
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    struct daemon d;
    Response *resp;
    uint64_t pfn;
    int fd;

    (void)state;
    /* A 1 TiB machine starts at once (the deferred struct pages left to
     * join on demand, so the test need not wait for them at exit). */
    assert_int_equal(start_daemon(&d, "meta", NULL, NULL, "--metadata-only",
                                  "-m", "1T", "--no-late-init",
                                  (const char *)NULL),
                     0);
    fd = connect_unix(d.sock);
    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    r.has_id = 1;
    r.id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    resp = call(fd, &r);
    assert_non_null(resp);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__OK);
    assert_non_null(resp->hello->machine);
    assert_true(resp->hello->machine->has_contents);
    assert_false(resp->hello->machine->contents);
    mmsim__v1__response__free_unpacked(resp, NULL);
    pfn = alloc_page(fd, 2);
    resp = read_page(fd, 3, pfn);
    assert_int_equal(resp->status, MMSIM__V1__STATUS__NOT_SUPPORTED);
    mmsim__v1__response__free_unpacked(resp, NULL);
    close(fd);
    daemon_stop(&d, 8000);
}

/* Protected mode: a non-loopback address needs a token. */
static void test_protected_mode(void **state)
{
    struct daemon d;
    char tokfile[300];
    int st = 0, fd;

    (void)state;
    assert_int_equal(start_daemon(&d, "open", NULL, &st, "--listen",
                                  "0.0.0.0:0", (const char *)NULL),
                     -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    assert_true(log_has(&d, "protected mode"));

    /* With a token file it starts (the later --listen wins). */
    snprintf(tokfile, sizeof(tokfile), "%s/token", tmpdir);
    fd = open(tokfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "tok-from-file\n", 14), 14);
    close(fd);
    assert_int_equal(start_daemon(&d, "open-token", NULL, &st, "--listen",
                                  "0.0.0.0:0", "--token-file", tokfile,
                                  (const char *)NULL),
                     0);
    fd = connect_unix(d.sock);
    assert_int_equal(hello(fd, "tok-from-file"), MMSIM__V1__STATUS__OK);
    close(fd);
    daemon_stop(&d, 5000);

    /* A token on the command line is refused outright. */
    assert_int_equal(start_daemon(&d, "argv-token", NULL, &st, "--token", "x",
                                  (const char *)NULL),
                     -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
}

/* SIGTERM with clients connected, one of them mid-pipeline and not
 * reading: exit status 0 within a few seconds. */
static void test_sigterm_drains(void **state)
{
    struct daemon d;
    struct mmsim_buf b;
    int idle, busy, fresh, st;
    int64_t t0;

    (void)state;
    assert_int_equal(
        start_daemon(&d, "sigterm", NULL, NULL, (const char *)NULL), 0);
    idle = connect_tcp(d.port);
    assert_int_equal(hello(idle, NULL), MMSIM__V1__STATUS__OK);
    fresh = connect_unix(d.sock); /* never says Hello */
    busy = connect_tcp(d.port);
    assert_int_equal(hello(busy, NULL), MMSIM__V1__STATUS__OK);
    mmsim_buf_init(&b);
    for (uint64_t id = 100; id < 200; id++) {
        Mmsim__V1__Ping p;
        Request r;

        ping_req(&r, &p, id);
        pack_req(&b, &r);
    }
    write_all(busy, b.data, b.len);
    mmsim_buf_free(&b);
    sleep_ms(100);

    t0 = now_ms();
    kill(d.pid, SIGTERM);
    st = wait_exit(d.pid, 8000);
    if (st == -1) {
        dump_log(&d);
        kill(d.pid, SIGKILL);
        waitpid(d.pid, NULL, 0);
        fail_msg("no exit within 8 s of SIGTERM");
    }
    fprintf(stderr, "sigterm: exited in %lld ms\n", (long long)(now_ms() - t0));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(now_ms() - t0 < 6000);
    /* The pipelined requests were all answered before the close. */
    for (uint64_t id = 100; id < 200; id++) {
        Response *resp = recv_resp(busy, 1000);

        assert_non_null(resp);
        assert_int_equal(resp->id, id);
        mmsim__v1__response__free_unpacked(resp, NULL);
    }
    assert_true(wait_closed(idle, 1000));
    assert_true(wait_closed(fresh, 1000));
    /* The socket file is gone. */
    assert_int_equal(access(d.sock, F_OK), -1);
    close(idle);
    close(busy);
    close(fresh);
}

/* A client that pipelines views and never reads: its answers cannot be
 * flushed, so it holds the drain up. Return: the connection. */
static int stuck_client(const struct daemon *d)
{
    Mmsim__V1__GetView gv = MMSIM__V1__GET_VIEW__INIT;
    Request r = MMSIM__V1__REQUEST__INIT;
    struct mmsim_buf b;
    int fd = connect_tcp(d->port), flags;

    assert_int_equal(hello(fd, NULL), MMSIM__V1__STATUS__OK);
    gv.has_kind = 1;
    gv.kind = MMSIM__V1__VIEW_KIND__ZONEINFO;
    r.has_id = 1;
    r.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    r.view = &gv;
    mmsim_buf_init(&b);
    /* Under max_inflight per burst, so every one is answered in full. */
    for (r.id = 1; r.id <= 100; r.id++)
        pack_req(&b, &r);
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    for (int burst = 0; burst < 200; burst++) {
        if (send(fd, b.data, b.len, MSG_NOSIGNAL) < 0)
            break;
        sleep_ms(2);
    }
    mmsim_buf_free(&b);
    return fd;
}

/* The drain gives up on connections it cannot flush after
 * --drain-timeout, and still exits 0. */
static void test_drain_timeout(void **state)
{
    struct daemon d;
    int64_t t0, took;
    int fd, st;

    (void)state;
    assert_int_equal(start_daemon(&d, "drain", NULL, NULL, "--drain-timeout",
                                  "1", (const char *)NULL),
                     0);
    fd = stuck_client(&d);
    t0 = now_ms();
    kill(d.pid, SIGTERM);
    st = wait_exit(d.pid, 5000);
    took = now_ms() - t0;
    if (st == -1) {
        kill(d.pid, SIGKILL);
        waitpid(d.pid, NULL, 0);
        dump_log(&d);
        fail_msg("no exit within 5 s of SIGTERM");
    }
    fprintf(stderr, "drain timeout: exited in %lld ms\n", (long long)took);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(took >= 900);
    assert_true(log_has(&d, "drain timeout"));
    close(fd);
}

/* A second signal during the drain exits at once, with 128 + signal. */
static void test_second_signal(void **state)
{
    struct daemon d;
    int64_t t0;
    int fd, st;

    (void)state;
    /* Exiting at once leaves the worker threads unjoined, by design: a
     * ThreadSanitizer build must not report that as a leak. */
    snprintf(extra_env, sizeof(extra_env),
             "TSAN_OPTIONS=%s:report_thread_leaks=0",
             getenv("TSAN_OPTIONS") ? getenv("TSAN_OPTIONS") : "");
    assert_int_equal(start_daemon(&d, "twice", NULL, NULL, (const char *)NULL),
                     0);
    extra_env[0] = '\0';
    fd = stuck_client(&d);
    kill(d.pid, SIGINT);
    assert_true(log_wait(&d, "SIGINT: stopping", 2000));
    t0 = now_ms();
    kill(d.pid, SIGTERM);
    st = wait_exit(d.pid, 2000);
    if (st == -1) {
        kill(d.pid, SIGKILL);
        waitpid(d.pid, NULL, 0);
        fail_msg("no exit within 2 s of the second signal");
    }
    assert_true(now_ms() - t0 < 1500);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
    assert_true(log_has(&d, "second SIGTERM"));
    close(fd);
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const struct CMUnitTest shared_tests[] = {
        cmocka_unit_test(test_hello_ping),
        cmocka_unit_test(test_page_contents),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_frame_too_large),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_teardown_after_kill),
        cmocka_unit_test(test_many_clients),
        cmocka_unit_test(test_socket_in_use),
    };
    const struct CMUnitTest own_tests[] = {
        cmocka_unit_test(test_stale_socket),
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_protected_mode),
        cmocka_unit_test(test_metadata_only),
        cmocka_unit_test(test_sigterm_drains),
        cmocka_unit_test(test_drain_timeout),
        cmocka_unit_test(test_second_signal),
    };
    int failed;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-MMSIMD\n", argv[0]);
        return 2;
    }
    mmsimd_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    failed = cmocka_run_group_tests_name("mmsimd", shared_tests, shared_setup,
                                         shared_teardown);
    failed += cmocka_run_group_tests_name("mmsimd-own", own_tests, NULL, NULL);
    /* Keep the daemons' logs of a failed run, or when asked to. */
    if (!failed && !getenv("MMSIM_TEST_KEEP")) {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd))
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "logs kept in %s\n", tmpdir);
    }
    return failed ? 1 : 0;
}
