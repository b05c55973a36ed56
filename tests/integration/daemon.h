/*
 * daemon.h - a real mmsimd for the C tests that drive one
 * (integration/test-mmsimd.c, integration/test-mmsimd-vm.c,
 * stress/test-reclaim-net.c): start it with its output in a log file and
 * wait for its ready line, read and search that log, stop it with
 * SIGTERM and insist on exit status 0; and the small helpers around
 * them (a monotonic clock, sleeping, whole files, reads with a timeout,
 * raw framed requests and responses for tests that bypass libmmsim).
 *
 * Header-only, like fuzz/fuzz.h: include it after <cmocka.h> (failures
 * are cmocka's fail_msg()).
 */
#ifndef MMSIM_TESTS_DAEMON_H
#define MMSIM_TESTS_DAEMON_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmsim.pb-c.h"
#include "mmsim/frame.h"

struct daemon {
    pid_t pid; /* 0: not running */
    int port;  /* from the ready line's "tcp 127.0.0.1:N"; 0: none */
    char log[256];
    char sock[108];  /* its Unix socket, when it has one */
    size_t dump_max; /* dump_log() shows the last this many bytes; 0: all */
};

static inline int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* The whole file (read to EOF: /proc files have no size); "" if absent. */
static inline char *slurp(const char *path)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (!buf)
        abort();
    while (fd >= 0 && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap *= 2);

            if (!bigger)
                abort();
            buf = bigger;
        }
    }
    if (fd >= 0)
        close(fd);
    buf[len] = '\0';
    return buf;
}

/* Wait up to @timeout_ms for @pid. Return: its wait status, or -1. */
static inline int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    int st;

    do {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid)
            return st;
        if (r < 0)
            return -1;
        sleep_ms(10);
    } while (now_ms() < end);
    return -1;
}

/* Read exactly @len bytes within @timeout_ms. Return: 0, or -1 (EOF,
 * error or timeout). */
static inline int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
    uint8_t *p = buf;
    int64_t end = now_ms() + timeout_ms;

    while (len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = end - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return -1;
        n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static inline bool log_has(const struct daemon *d, const char *needle)
{
    char *text = slurp(d->log);
    bool found = strstr(text, needle) != NULL;

    free(text);
    return found;
}

/* Poll the log for @needle for up to @timeout_ms. */
static inline bool log_wait(const struct daemon *d, const char *needle,
                            int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;

    do {
        if (log_has(d, needle))
            return true;
        sleep_ms(10);
    } while (now_ms() < end);
    return false;
}

/* The log on stderr: all of it, or its last d->dump_max bytes. */
static inline void dump_log(const struct daemon *d)
{
    char *text = slurp(d->log);
    size_t len = strlen(text);
    const char *from =
        d->dump_max && len > d->dump_max ? text + len - d->dump_max : text;

    if (from != text)
        fprintf(stderr, "---- %s (last %zu bytes) ----\n", d->log,
                strlen(from));
    else
        fprintf(stderr, "---- %s ----\n", d->log);
    fprintf(stderr, "%s---- end ----\n", from);
    free(text);
}

/*
 * Run @argv (argv[0]: the mmsimd binary) with stdout and stderr in d->log
 * (set by the caller, as d->sock), MMSIM_TOKEN set to @token or unset,
 * and @env ("NAME=VALUE", or NULL) added to its environment; then wait up
 * to @ready_ms for its ready line, taking the TCP port from it.
 * Return: 0 when ready; -1 when it exited first (d->pid 0, its wait
 * status in *@status if not NULL). Not ready in time fails the test.
 */
static inline int daemon_spawn(struct daemon *d, const char *const argv[],
                               const char *token, char *env, int ready_ms,
                               int *status)
{
    int64_t end;

    d->pid = fork();
    if (d->pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (d->pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fd < 0)
            _exit(126);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        close(fd);
        if (token)
            setenv("MMSIM_TOKEN", token, 1);
        else
            unsetenv("MMSIM_TOKEN");
        if (env && env[0])
            putenv(env);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (end = now_ms() + ready_ms; now_ms() < end; sleep_ms(10)) {
        char *text, *p;
        int st;

        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            if (status)
                *status = st;
            return -1;
        }
        text = slurp(d->log);
        p = strstr(text, "mmsimd ready: ");
        if (p && strchr(p, '\n')) {
            char *tcp = strstr(p, "tcp 127.0.0.1:");

            d->port = tcp ? atoi(tcp + strlen("tcp 127.0.0.1:")) : 0;
            free(text);
            return 0;
        }
        free(text);
    }
    dump_log(d);
    fail_msg("mmsimd did not get ready in %d ms", ready_ms);
    return -1;
}

/*
 * SIGTERM, then insist on exit status 0 within @timeout_ms (the log is
 * dumped when not). Return: the milliseconds it took to exit.
 */
static inline int daemon_stop(struct daemon *d, int timeout_ms)
{
    int64_t t0 = now_ms();
    int st;

    if (!d->pid)
        return 0;
    kill(d->pid, SIGTERM);
    st = wait_exit(d->pid, timeout_ms);
    if (st == -1) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
        dump_log(d);
        fail_msg("mmsimd did not exit within %d ms of SIGTERM", timeout_ms);
    }
    d->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        dump_log(d);
        fail_msg("mmsimd exited with status %#x (a sanitizer report or a "
                 "leak would be in its log, above)",
                 st);
    }
    return (int)(now_ms() - t0);
}

/* Send all of @buf, whatever the socket takes per call. */
static inline void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Append one framed Request to @b. */
static inline void pack_req(struct mmsim_buf *b, const Mmsim__V1__Request *r)
{
    size_t n = mmsim__v1__request__get_packed_size(r);

    assert_int_equal(mmsim_frame_put_header(b, (uint32_t)n), 0);
    assert_int_equal(mmsim_buf_reserve(b, n), 0);
    mmsim__v1__request__pack(r, b->data + b->len);
    b->len += n;
}

static inline void send_req(int fd, const Mmsim__V1__Request *r)
{
    struct mmsim_buf b;

    mmsim_buf_init(&b);
    pack_req(&b, r);
    write_all(fd, b.data, b.len);
    mmsim_buf_free(&b);
}

/* The next Response, or NULL on EOF, error or timeout. */
static inline Mmsim__V1__Response *recv_resp(int fd, int timeout_ms)
{
    uint8_t hdr[4], *body;
    uint32_t len;
    Mmsim__V1__Response *r;

    if (read_full(fd, hdr, 4, timeout_ms))
        return NULL;
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
          (uint32_t)hdr[2] << 8 | hdr[3];
    body = malloc(len ? len : 1);
    assert_non_null(body);
    if (read_full(fd, body, len, timeout_ms)) {
        free(body);
        return NULL;
    }
    r = mmsim__v1__response__unpack(NULL, len, body);
    free(body);
    assert_non_null(r);
    return r;
}

#endif /* MMSIM_TESTS_DAEMON_H */
