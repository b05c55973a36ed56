/*
 * test-mmsimd-vm.c - virtual memory over a real mmsimd: address spaces
 * and vmalloc areas through libmmsim (every new call, blocking and
 * pipelined), their isolation between connections and their teardown;
 * and a session killed by the OOM killer, seen on the wire (raw frames):
 * the idle victim is told KILLED and its connection closes.
 *
 * Usage: test-mmsimd-vm PATH-TO-MMSIMD
 * (MMSIM_TEST_KEEP=1 keeps the daemons' logs, as a failure does.)
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmsim.pb-c.h"
#include "mmsim/client.h"
#include "mmsim/frame.h"

#include "daemon.h"

#define ST(x) MMSIM__V1__STATUS__##x

static const char *mmsimd_path;
static char tmpdir[] = "/tmp/test-mmsimd-vm-XXXXXX";
static bool failed_once;

static struct daemon shared;
/* A test's own daemon, killed at exit if a failure left it running. */
static struct daemon oomd;

/* ---- processes ----------------------------------------------------------- */

/* mmsimd on a Unix socket only, with the NULL-terminated extra args. */
static void start_daemon(struct daemon *d, const char *name, ...)
{
    const char *argv[48];
    int argc = 0, st = 0;
    va_list ap;

    memset(d, 0, sizeof(*d));
    snprintf(d->log, sizeof(d->log), "%s/%s.log", tmpdir, name);
    snprintf(d->sock, sizeof(d->sock), "%s/%s.sock", tmpdir, name);
    argv[argc++] = mmsimd_path;
    argv[argc++] = "--listen";
    argv[argc++] = "none";
    argv[argc++] = "--unix";
    argv[argc++] = d->sock;
    argv[argc++] = "--workers";
    argv[argc++] = "2";
    argv[argc++] = "--log-level";
    argv[argc++] = "debug";
    va_start(ap, name);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 46;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    if (daemon_spawn(d, argv, NULL, NULL, 10000, &st)) {
        dump_log(d);
        fail_msg("mmsimd exited at start, status %#x", st);
    }
}

/* ---- libmmsim ------------------------------------------------------------ */

static struct mmsim_client *connect_client(const struct daemon *d,
                                           const char *name)
{
    struct mmsim_client_opts o;
    struct mmsim_client *c = NULL;
    char err[256];

    mmsim_client_opts_init(&o);
    o.client_name = name;
    o.timeout_ms = 30000;
    if (mmsim_client_connect(d->sock, &o, &c, err, sizeof(err)))
        fail_msg("connect %s: %s", d->sock, err);
    return c;
}

/* A call that must succeed. */
#define OK(c, call)                                                            \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0)                                                           \
            fail_msg("%s: %s (%s: %s)", #call, mmsim_client_strerror(rc_),     \
                     mmsim_client_status_name(mmsim_client_status(c)),         \
                     mmsim_client_message(c));                                 \
    } while (0)

/* A call the server must refuse with @st. */
static void refused(struct mmsim_client *c, int rc, Mmsim__V1__Status st)
{
    if (rc != MMSIM_CLIENT_ESTATUS || mmsim_client_status(c) != st)
        fail_msg("expected %s, got %d (%s: %s)", mmsim_client_status_name(st),
                 rc, mmsim_client_status_name(mmsim_client_status(c)),
                 mmsim_client_message(c));
    assert_true(mmsim_client_connected(c));
}

static uint64_t free_pages(struct mmsim_client *c)
{
    Mmsim__V1__MachineReply *m = NULL;
    uint64_t sum = 0;

    OK(c, mmsim_client_machine(c, &m));
    for (size_t i = 0; i < m->n_zones; i++)
        sum += m->zones[i]->free + m->zones[i]->pcp;
    mmsim_client_pb_free(m);
    return sum;
}

static void assert_check(struct mmsim_client *c)
{
    char problem[256];
    bool ok = false;

    OK(c, mmsim_client_check(c, true, &ok, problem, sizeof(problem)));
    if (!ok)
        fail_msg("check: %s", problem);
}

/* ---- address spaces and vmalloc areas ------------------------------------ */

static void test_vm_calls(void **state)
{
    static uint8_t pattern[256 * 1024], back[256 * 1024];
    struct mmsim_client *c, *other;
    struct mmsim_client_mm_stat st;
    struct mmsim_client_reclaim rr;
    uint64_t before, addr, area, rounded, oaddr;
    Mmsim__V1__Response *resp;
    int64_t ids[4];
    char *text = NULL;
    size_t got = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 13 + i / 4096);
    c = connect_client(&shared, "vm-calls");
    before = free_pages(c);

    /* Anonymous memory: mapped, written across 64 pages, read back. */
    OK(c, mmsim_client_mmap(c, 256, MMSIM_CLIENT_ANY_NODE, &addr));
    assert_int_equal(addr % 4096, 0);
    OK(c, mmsim_client_mem_write(c, addr + 1000, pattern, sizeof(pattern)));
    OK(c, mmsim_client_mem_read(c, addr + 1000, sizeof(pattern), back, &got));
    assert_int_equal(got, sizeof(pattern));
    assert_memory_equal(back, pattern, sizeof(pattern));
    OK(c, mmsim_client_mm_stat(c, &st));
    assert_int_equal(st.owner, mmsim_client_session_id(c));
    assert_int_equal(st.total_vm, 256);
    assert_int_equal(st.rss, 65);
    assert_int_equal(st.nr_regions, 1);

    /* A vmalloc area. */
    OK(c, mmsim_client_vmalloc(c, 3 * 4096 - 5, MMSIM_CLIENT_ANY_NODE, &area,
                               &rounded));
    assert_int_equal(rounded, 3 * 4096);
    OK(c, mmsim_client_vwrite(c, area + 4000, pattern, 5000));
    OK(c, mmsim_client_vread(c, area + 4000, 5000, back, &got));
    assert_int_equal(got, 5000);
    assert_memory_equal(back, pattern, 5000);
    OK(c, mmsim_client_view(c, MMSIM__V1__VIEW_KIND__VMALLOCINFO, &text, NULL));
    assert_non_null(strstr(text, "pages=3 vmalloc"));
    free(text);
    OK(c, mmsim_client_view(c, MMSIM__V1__VIEW_KIND__MEMINFO, &text, NULL));
    assert_non_null(strstr(text, "SwapTotal:"));
    free(text);

    /* Pipelined: four requests on the wire, answers in order. */
    ids[0] = mmsim_client_send_mem_write(c, addr, "pipelined", 9);
    ids[1] = mmsim_client_send_mem_read(c, addr, 9);
    ids[2] = mmsim_client_send_vread(c, area + 4000, 4);
    ids[3] = mmsim_client_send_mm_stat(c);
    for (int i = 0; i < 4; i++) {
        assert_true(ids[i] > 0);
        OK(c, mmsim_client_recv(c, &resp));
        assert_int_equal(resp->id, (uint64_t)ids[i]);
        assert_int_equal(resp->status, ST(OK));
        if (i == 1)
            assert_memory_equal(resp->read->data.data, "pipelined", 9);
        if (i == 2)
            assert_memory_equal(resp->read->data.data, pattern, 4);
        if (i == 3)
            assert_int_equal(resp->mm_stat->vmalloc_pages, 3);
        mmsim_client_pb_free(resp);
    }

    /* Reclaim in our worker: counts come back, data survives. */
    OK(c, mmsim_client_reclaim(c, MMSIM_CLIENT_ANY_NODE, 8, 0, &rr));
    OK(c, mmsim_client_reclaim(c, 0, 1, MMSIM_CLIENT_RECLAIM_BALANCE, &rr));
    assert_true(rr.balanced);
    OK(c, mmsim_client_mem_read(c, addr + 1000, sizeof(pattern), back, &got));
    assert_memory_equal(back, pattern, sizeof(pattern));

    /* Another connection owns none of it. */
    other = connect_client(&shared, "other");
    refused(other, mmsim_client_vread(other, area, 1, back, NULL),
            ST(NOT_OWNER));
    refused(other, mmsim_client_vwrite(other, area, "x", 1), ST(NOT_OWNER));
    refused(other, mmsim_client_vfree(other, area), ST(NOT_OWNER));
    OK(other, mmsim_client_mmap(other, 1, MMSIM_CLIENT_ANY_NODE, &oaddr));
    if (oaddr == addr) {
        /* Same address, another address space: zeros. */
        OK(other, mmsim_client_mem_read(other, addr, 9, back, NULL));
        assert_memory_equal(back, "\0\0\0\0\0\0\0\0\0", 9);
    }
    mmsim_client_close(other);

    /* Bad inputs get statuses and leave the connection up. */
    refused(c, mmsim_client_munmap(c, addr + 1, 1), ST(INVALID_ARGUMENT));
    refused(c, mmsim_client_mmap(c, 0, MMSIM_CLIENT_ANY_NODE, &oaddr),
            ST(INVALID_ARGUMENT));
    refused(c, mmsim_client_mmap(c, 1, 9, &oaddr), ST(NO_SUCH_NODE));
    refused(c, mmsim_client_mem_read(c, 0x10000, 1, back, NULL),
            ST(BAD_ADDRESS));
    refused(c, mmsim_client_vread(c, area + 3 * 4096 - 1, 2, back, NULL),
            ST(OUT_OF_RANGE));
    refused(c, mmsim_client_reclaim(c, -1, 0, 0, NULL), ST(OUT_OF_RANGE));
    assert_int_equal(mmsim_client_reclaim(c, -1, 1, 0x80, NULL),
                     MMSIM_CLIENT_EINVAL);

    /* Undo it all by hand, then the rest by disconnecting. */
    OK(c, mmsim_client_munmap(c, addr, 128));
    refused(c, mmsim_client_mem_read(c, addr, 1, back, NULL), ST(BAD_ADDRESS));
    OK(c, mmsim_client_vfree(c, area));
    refused(c, mmsim_client_vfree(c, area), ST(NOT_OWNER));
    OK(c, mmsim_client_vmalloc(c, 8192, 0, &area, NULL));
    assert_check(c);
    mmsim_client_close(c);

    c = connect_client(&shared, "after");
    for (int64_t end = now_ms() + 5000;
         free_pages(c) != before && now_ms() < end;)
        sleep_ms(20);
    assert_int_equal(free_pages(c), before);
    OK(c, mmsim_client_view(c, MMSIM__V1__VIEW_KIND__VMALLOCINFO, &text, NULL));
    assert_null(strstr(text, "vmalloc N"));
    free(text);
    assert_check(c);
    mmsim_client_close(c);
}

/* ---- the OOM killer, on the wire ----------------------------------------- */

static Mmsim__V1__Response *raw_ok(int fd, Mmsim__V1__Request *r, uint64_t id)
{
    Mmsim__V1__Response *resp;

    r->has_id = 1;
    r->id = id;
    send_req(fd, r);
    resp = recv_resp(fd, 30000);
    assert_non_null(resp);
    assert_int_equal(resp->id, id);
    if (resp->status != ST(OK))
        fail_msg("request %llu: status %d: %s", (unsigned long long)id,
                 (int)resp->status, resp->message ? resp->message : "");
    return resp;
}

static void test_oom_kill(void **state)
{
    static uint8_t chunk[64 * 4096];
    Mmsim__V1__Request r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;
    Mmsim__V1__Mmap mp = MMSIM__V1__MMAP__INIT;
    Mmsim__V1__MemWrite mw = MMSIM__V1__MEM_WRITE__INIT;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct mmsim_client *b, *watch;
    struct mmsim_client_mm_stat st;
    struct daemon *dp = &oomd;
    Mmsim__V1__Response *resp;
    uint64_t before, victim, addr, baddr, managed, vpages, gpages, id = 1;
    char line[128], buf[16];
    int fd;

    (void)state;
    memset(chunk, 0x42, sizeof(chunk));
    start_daemon(dp, "oom", "-m", "64", "--swap", "0", "--oom-policy", "kill",
                 "--deferred-init", "off", (const char *)NULL);
    assert_true(log_wait(dp, "swap: none; OOM policy: kill", 1000));
    watch = connect_client(dp, "watch");
    before = free_pages(watch);
    /* The victim holds 55% of memory, the grower wants 75%. */
    managed = mmsim_client_hello_reply(watch)->machine->managed_pages;
    vpages = managed * 55 / 100;
    gpages = managed * 75 / 100;

    /* The victim, on raw frames: maps its pages and touches them all. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memcpy(sun.sun_path, dp->sock, strlen(dp->sock) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    h.has_protocol_version = 1;
    h.protocol_version = MMSIM_PROTOCOL_VERSION;
    h.client_name = "victim";
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    resp = raw_ok(fd, &r, id++);
    victim = resp->hello->session_id;
    mmsim__v1__response__free_unpacked(resp, NULL);
    mp.has_nr_pages = 1;
    mp.nr_pages = vpages;
    r.op_case = MMSIM__V1__REQUEST__OP_MMAP;
    r.mmap = &mp;
    resp = raw_ok(fd, &r, id++);
    addr = resp->mmap->addr;
    mmsim__v1__response__free_unpacked(resp, NULL);
    for (uint64_t p = 0; p < vpages; p += 64) {
        mw.has_addr = mw.has_data = 1;
        mw.addr = addr + p * 4096;
        mw.data.data = chunk;
        mw.data.len = (vpages - p < 64 ? vpages - p : 64) * 4096;
        r.op_case = MMSIM__V1__REQUEST__OP_MEM_WRITE;
        r.mem_write = &mw;
        mmsim__v1__response__free_unpacked(raw_ok(fd, &r, id++), NULL);
    }

    /* The grower, through libmmsim: more than is left. The OOM killer
     * takes the victim, the largest, and the grower's writes go on. */
    b = connect_client(dp, "grower");
    OK(b, mmsim_client_mmap(b, gpages, MMSIM_CLIENT_ANY_NODE, &baddr));
    for (uint64_t p = 0; p < gpages; p += 64)
        OK(b,
           mmsim_client_mem_write(b, baddr + p * 4096, chunk,
                                  (gpages - p < 64 ? gpages - p : 64) * 4096));
    OK(b, mmsim_client_mm_stat(b, &st));
    assert_int_equal(st.rss, gpages);
    assert_false(st.oom_killed);
    snprintf(line, sizeof(line), "Out of memory: Killed process %llu (victim)",
             (unsigned long long)victim);
    if (!log_wait(dp, line, 5000)) {
        dump_log(dp);
        fail_msg("no \"%s\" in the log", line);
    }

    /* The victim sent nothing since, yet hears why, and is closed. */
    resp = recv_resp(fd, 5000);
    if (!resp) {
        dump_log(dp);
        fail_msg("the killed session was not told");
    }
    assert_int_equal(resp->id, 0);
    assert_int_equal(resp->status, ST(KILLED));
    assert_non_null(strstr(resp->message, "OOM killer"));
    mmsim__v1__response__free_unpacked(resp, NULL);
    for (int64_t end = now_ms() + 5000;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;

        assert_true(now_ms() < end);
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            break;
    }
    close(fd);

    /* The grower's memory is intact; everything goes back at the end. */
    OK(b, mmsim_client_mem_read(b, baddr + (gpages - 1) * 4096, 16,
                                (uint8_t *)buf, NULL));
    assert_memory_equal(buf, chunk, 16);
    assert_check(b);
    mmsim_client_close(b);
    for (int64_t end = now_ms() + 5000;
         free_pages(watch) != before && now_ms() < end;)
        sleep_ms(20);
    assert_int_equal(free_pages(watch), before);
    assert_check(watch);
    mmsim_client_close(watch);
    daemon_stop(dp, 10000);
    if (getenv("MMSIM_TEST_KEEP"))
        fprintf(stderr, "kept %s\n", dp->log);
}

/* ---- main ---------------------------------------------------------------- */

static int shared_setup(void **state)
{
    (void)state;
    start_daemon(&shared, "shared", "--deferred-init", "off",
                 (const char *)NULL);
    return 0;
}

static int shared_teardown(void **state)
{
    (void)state;
    daemon_stop(&shared, 10000);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_calls),
        cmocka_unit_test(test_oom_kill),
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
    failed = cmocka_run_group_tests(tests, shared_setup, shared_teardown);
    failed_once = failed != 0;
    if (oomd.pid) {
        kill(oomd.pid, SIGKILL);
        waitpid(oomd.pid, NULL, 0);
    }
    if (!failed_once && !getenv("MMSIM_TEST_KEEP")) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "logs kept in %s\n", tmpdir);
    }
    return failed;
}
