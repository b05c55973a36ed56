/*
 * gen-wire-corpus.c - write the seeds of the `frame`, `rpc` and `codec`
 * targets.
 *
 * Usage: gen-wire-corpus OUTDIR
 *
 * Writes OUTDIR/rpc/seed-NNN, OUTDIR/frame/seed-NNN and
 * OUTDIR/codec/seed-NNN. The rpc seeds are
 * recordings: the real client library (libmmsim) talks over socketpairs
 * to the target's own world (fuzz/wire.h: the same machine and engines),
 * served here by one thread per connection that records every read in
 * the format of mmsim/record.h before feeding it to the session, exactly
 * as `mmsimd --record` does. So the seeds are what a client really sends
 * (its Hello, its ids, its pipelining), and the pfns in them are the ones
 * the target's machine hands out: a replay frees, reads and writes the
 * blocks it allocated. A connection's end is recorded as a restart of its
 * slot (MMSIM_REC_RESTART), so a slot used again later starts afresh, as
 * here.
 *
 * Then hostile inputs the client never sends, encoded by hand: requests
 * before Hello, bad versions and tokens, lengths over the limit,
 * undecodable payloads, too many requests in flight, a request over the
 * decode budget, unknown operations and view kinds, shutdown, restarts,
 * bytes split across records.
 *
 * The frame seeds are the byte streams of the rpc seeds, fed in the
 * pieces they were recorded in, at several frame limits, and hostile
 * streams.
 *
 * The codec seeds are the messages of the recorded sessions one by one:
 * every Request a client sent (mode 0) and every Response the engine
 * sent back (mode 1), without their frame headers.
 *
 * corpus/<target>/ is these seeds after a libFuzzer "-merge=1" into an
 * empty directory (scripts/fuzz-corpus.sh).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "mmsim.pb-c.h"
#include "mmsim/client.h"
#include "wire.h"

#define NSLOTS MMSIM_REC_SLOTS

typedef Mmsim__V1__Request Req;

static const char *outdir;
static unsigned nr_written;

/* Write @o as the next seed of @target ("frame", "rpc" or "codec"). */
static void save(const char *target, const struct fz_out *o)
{
    static unsigned n[3];
    unsigned i = !strcmp(target, "rpc") ? 1 : !strcmp(target, "codec") ? 2 : 0;
    unsigned *k = &n[i];
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) && errno != EEXIST)
        fz_fail("mkdir %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/%s/seed-%03u", outdir, target, (*k)++);
    f = fopen(path, "wb");
    if (!f || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f))
        fz_fail("writing %s failed", path);
    nr_written++;
}

/* One record: chunks of at most MMSIM_REC_MAX_BYTES joined by MORE. */
static void put_record(struct fz_out *o, unsigned sel, const void *data,
                       size_t len)
{
    const uint8_t *p = data;

    do {
        size_t n = len > MMSIM_REC_MAX_BYTES ? MMSIM_REC_MAX_BYTES : len;
        uint8_t hdr[MMSIM_REC_HEADER_BYTES];

        mmsim_rec_header(hdr, sel | (n < len ? MMSIM_REC_MORE : 0), n);
        fz_put_bytes(o, hdr, sizeof(hdr));
        if (n) {
            fz_put_bytes(o, p, n);
            p += n;
            len -= n;
        }
    } while (len);
}

/* ======================================================================
 * Recording real clients
 * ====================================================================== */

struct gen;

struct conn {
    struct gen *g;
    unsigned slot;
    int fd; /* the server's end */
    pthread_t thread;
    bool live;
};

struct gen {
    struct mmsim_desc desc;
    struct wire_env env;
    struct mmsim_session *sess[NSLOTS];
    pthread_mutex_t lock;
    struct fz_out rec;                 /* the recording */
    unsigned next_flags[WIRE_ENGINES]; /* for the next record of an engine */
    struct conn conn[NSLOTS];
};

/* Under g->lock. */
static void record(struct gen *g, unsigned slot, unsigned flags,
                   const void *data, size_t len)
{
    unsigned e = wire_slot_engine(slot);

    put_record(&g->rec, slot | flags | g->next_flags[e], data, len);
    g->next_flags[e] = 0;
}

/* Under g->lock: end the slot's session and start a new one, recorded. */
static void restart(struct gen *g, unsigned slot)
{
    record(g, slot, MMSIM_REC_RESTART, NULL, 0);
    mmsim_session_destroy(g->sess[slot]);
    if (wire_session(&g->env, slot, &g->sess[slot]))
        fz_fail("session_create failed");
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away */
        p += w;
        n -= (size_t)w;
    }
}

/*
 * The codec seeds of one connection's stream of frames: each message
 * after @mode (0 Request, 1 Response). Under g->lock (save() is not
 * thread-safe).
 */
static void codec_seeds_of(const struct fz_out *stream, unsigned mode)
{
    struct fz_out o = {0};
    size_t pos = 0;

    while (stream->len - pos >= 4) {
        const uint8_t *h = stream->buf + pos;
        size_t len =
            (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];

        if (len > stream->len - pos - 4)
            break;
        fz_put_u8(&o, mode);
        fz_put_bytes(&o, h + 4, len);
        save("codec", &o);
        o.len = 0;
        pos += 4 + len;
    }
    fz_out_free(&o);
}

/* The server side of one connection: record, feed, answer; as net.c. */
static void *serve(void *arg)
{
    struct conn *cn = arg;
    struct gen *g = cn->g;
    uint8_t *buf = malloc(64 * 1024);
    struct fz_out req = {0}, resp = {0}; /* for the codec seeds */
    struct mmsim_buf out;

    if (!buf)
        fz_fail("out of host memory");
    mmsim_buf_init(&out);
    for (;;) {
        ssize_t n = read(cn->fd, buf, 64 * 1024);
        int rc;

        if (n < 0 && errno == EINTR)
            continue;
        pthread_mutex_lock(&g->lock);
        if (n <= 0) {
            restart(g, cn->slot);
            codec_seeds_of(&req, 0);
            codec_seeds_of(&resp, 1);
            pthread_mutex_unlock(&g->lock);
            break;
        }
        record(g, cn->slot, 0, buf, (size_t)n);
        rc = mmsim_session_feed(g->sess[cn->slot], buf, (size_t)n, &out);
        pthread_mutex_unlock(&g->lock);
        fz_put_bytes(&req, buf, (size_t)n);
        fz_put_bytes(&resp, out.data, out.len);
        write_all(cn->fd, out.data, out.len);
        out.len = 0;
        if (rc == MMSIM_FEED_CLOSE) {
            /* As mmsimd: answer, then hang up. */
            shutdown(cn->fd, SHUT_WR);
        }
    }
    mmsim_buf_free(&out);
    fz_out_free(&req);
    fz_out_free(&resp);
    free(buf);
    close(cn->fd);
    return NULL;
}

static void gen_begin(struct gen *g)
{
    char err[256];

    if (wire_env_create(&g->env, &g->desc, NULL, NULL, NULL, err, sizeof(err)))
        fz_fail("boot: %s", err);
    for (unsigned i = 0; i < NSLOTS; i++)
        if (wire_session(&g->env, i, &g->sess[i]))
            fz_fail("session_create failed");
    g->rec.len = 0;
}

/* Connect a socket to @slot's session; the server thread starts. */
static int gen_socket(struct gen *g, unsigned slot)
{
    struct conn *cn = &g->conn[slot];
    int sv[2];

    if (cn->live)
        fz_fail("slot %u is in use", slot);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        fz_fail("socketpair: %s", strerror(errno));
    cn->g = g;
    cn->slot = slot;
    cn->fd = sv[1];
    cn->live = true;
    if (pthread_create(&cn->thread, NULL, serve, cn))
        fz_fail("pthread_create failed");
    return sv[0];
}

/* Wait until the server has seen the end of @slot's connection. */
static void gen_join(struct gen *g, unsigned slot)
{
    struct conn *cn = &g->conn[slot];

    if (!cn->live)
        return;
    pthread_join(cn->thread, NULL);
    cn->live = false;
}

static struct mmsim_client *gen_connect(struct gen *g, unsigned slot)
{
    struct mmsim_client_opts opts;
    struct mmsim_client *c;
    char err[256];

    mmsim_client_opts_init(&opts);
    opts.client_name = "gen-wire-corpus";
    opts.timeout_ms = 10000;
    if (wire_slot_engine(slot) == 1) {
        opts.token = (const uint8_t *)WIRE_TOKEN;
        opts.token_len = strlen(WIRE_TOKEN);
    } else {
        /* What mmsimd's clients send when it has a token; ignored. */
        opts.token = (const uint8_t *)"s3cret";
        opts.token_len = 6;
    }
    if (mmsim_client_connect_fd(gen_socket(g, slot), &opts, &c, err,
                                sizeof(err)))
        fz_fail("connect slot %u: %s", slot, err);
    return c;
}

static void gen_close(struct gen *g, struct mmsim_client *c, unsigned slot)
{
    mmsim_client_close(c);
    gen_join(g, slot);
}

/* Shut the engine of @slot down now; the next record of it says so. */
static void gen_shutdown(struct gen *g, unsigned slot)
{
    unsigned e = wire_slot_engine(slot);

    pthread_mutex_lock(&g->lock);
    mmsim_rpc_shutdown(g->env.rpc[e]);
    g->next_flags[e] |= MMSIM_REC_SHUTDOWN;
    pthread_mutex_unlock(&g->lock);
}

/* The frame seeds of one recording: slot 0's stream, in its pieces. */
static void frame_seeds_of(const struct fz_out *rec)
{
    static const uint8_t limits[] = {0x80 /* 1 MiB */, 0x80 + 9 /* 1024 */, 60};
    struct fz_out stream = {0}, pieces = {0}, o = {0};
    struct fz_in in = {rec->buf, rec->len};

    while (fz_more(&in)) {
        unsigned sel = fz_u8(&in);
        size_t len = fz_u16(&in);

        if (len > in.n)
            len = in.n;
        if ((sel & MMSIM_REC_SLOT_MASK) == 0) {
            fz_put_bytes(&stream, in.p, len);
            if (pieces.len < 64)
                fz_put_u8(&pieces, len > 255 ? 255 : len);
        }
        in.p += len;
        in.n -= len;
    }
    for (size_t k = 0; k < sizeof(limits) && stream.len; k++) {
        fz_put_u8(&o, limits[k]);
        fz_put_u8(&o, k ? 0 : pieces.len);
        if (!k)
            fz_put_bytes(&o, pieces.buf, pieces.len);
        fz_put_bytes(&o, stream.buf, stream.len);
        save("frame", &o);
        o.len = 0;
    }
    fz_out_free(&stream);
    fz_out_free(&pieces);
    fz_out_free(&o);
}

static void gen_end(struct gen *g)
{
    for (unsigned i = 0; i < NSLOTS; i++) {
        gen_join(g, i);
        mmsim_session_destroy(g->sess[i]);
        g->sess[i] = NULL;
    }
    if (wire_allocated(g->env.m))
        fz_fail("a scenario left pages allocated");
    wire_env_destroy(&g->env);
    save("rpc", &g->rec);
    frame_seeds_of(&g->rec);
    memset(g->next_flags, 0, sizeof(g->next_flags));
}

#define OK(call)                                                               \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ < 0)                                                           \
            fz_fail("%s:%d: %s: %s (%s)", __FILE__, __LINE__, #call,           \
                    mmsim_client_strerror(rc_), mmsim_client_message(c));      \
    } while (0)

/* A call the server must refuse with @st. */
#define REFUSED(st, call)                                                      \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != MMSIM_CLIENT_ESTATUS || mmsim_client_status(c) != (st))     \
            fz_fail("%s:%d: %s: %s, %s", __FILE__, __LINE__, #call,            \
                    mmsim_client_strerror(rc_),                                \
                    mmsim_client_status_name(mmsim_client_status(c)));         \
    } while (0)

#define S(x) MMSIM__V1__STATUS__##x

/* Every operation once or more, on engine @slot's: the basic session. */
static void scn_basic(struct gen *g, unsigned slot)
{
    static const uint32_t gfps[] = {
        MMSIM_GFP_KERNEL,
        MMSIM_GFP_ATOMIC,
        MMSIM_GFP_KERNEL | MMSIM_GFP_DMA,
        MMSIM_GFP_KERNEL | MMSIM_GFP_DMA32,
        MMSIM_GFP_HIGHUSER_MOVABLE,
        MMSIM_GFP_KERNEL | MMSIM_GFP_ZERO,
        MMSIM_GFP_NOWAIT,
        MMSIM_GFP_KERNEL | MMSIM_GFP_NOFAIL,
    };
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_page pg[8], p2;
    struct mmsim_client_alloc_req areq[3] = {
        {0, MMSIM_GFP_KERNEL, 0}, {2, MMSIM_GFP_KERNEL, 1}, {40, 0, -1}};
    struct mmsim_client_result res[4];
    struct mmsim_client_free_req freq[4];
    uint8_t page[4096], back[4096];
    Mmsim__V1__MachineReply *mr = NULL;
    char problem[128];
    bool ok;

    OK(mmsim_client_ping(c, NULL, 0));
    OK(mmsim_client_ping(c, "hello", 5));
    for (unsigned i = 0; i < 8; i++)
        OK(mmsim_client_alloc(c, i % 4, gfps[i], i % 3 == 2 ? 1 : -1, &pg[i]));
    REFUSED(S(NO_SUCH_NODE),
            mmsim_client_alloc(c, 0, MMSIM_GFP_KERNEL, 5, &p2));
    REFUSED(S(OUT_OF_RANGE),
            mmsim_client_alloc(c, 11, MMSIM_GFP_KERNEL, -1, &p2));
    REFUSED(S(INVALID_ARGUMENT),
            mmsim_client_alloc(c, 0, 0x40000000u, -1, &p2));
    OK(mmsim_client_alloc(c, 0, MMSIM_GFP_KERNEL | MMSIM_GFP_THISNODE, 1, &p2));

    /* Contents: a whole page, parts, the last byte, errors. */
    for (size_t k = 0; k < sizeof(page); k++)
        page[k] = (uint8_t)(k * 7 + 1);
    /* The tight engine takes frames of 1 KiB: a part of the page there. */
    OK(mmsim_client_write(c, pg[1].pfn, 0, page,
                          wire_slot_engine(slot) ? 512 : sizeof(page)));
    OK(mmsim_client_read(c, pg[1].pfn, 0, 4096, back, NULL));
    OK(mmsim_client_write(c, pg[3].pfn + 7, 4090, "abcdef", 6));
    OK(mmsim_client_read(c, pg[3].pfn + 7, 4088, 8, back, NULL));
    OK(mmsim_client_read(c, pg[3].pfn + 6, 100, 10, back, NULL));
    OK(mmsim_client_write(c, pg[2].pfn, 4096, "", 0));
    REFUSED(S(OUT_OF_RANGE), mmsim_client_write(c, pg[2].pfn, 4095, "xy", 2));
    REFUSED(S(OUT_OF_RANGE),
            mmsim_client_read(c, pg[2].pfn, 4000, 200, back, NULL));
    REFUSED(S(NOT_OWNER), mmsim_client_read(c, 0, 0, 8, back, NULL));
    REFUSED(S(NOT_OWNER), mmsim_client_write(c, 1u << 20, 0, "z", 1));

    /* Frees: wrong order, not the head, not ours, twice. */
    REFUSED(S(WRONG_ORDER), mmsim_client_free(c, pg[3].pfn, 1));
    REFUSED(S(NOT_HEAD), mmsim_client_free(c, pg[3].pfn + 1, 0));
    REFUSED(S(NOT_OWNER), mmsim_client_free(c, 12345, 0));
    OK(mmsim_client_free(c, pg[3].pfn, 3));
    REFUSED(S(NOT_OWNER), mmsim_client_free(c, pg[3].pfn, 3));
    OK(mmsim_client_free(c, pg[0].pfn, 0));

    /* Batches, with failures inside. */
    OK(mmsim_client_alloc_batch(c, areq, 3, res));
    freq[0] = (struct mmsim_client_free_req){res[0].page.pfn, 0};
    freq[1] = (struct mmsim_client_free_req){res[1].page.pfn, 1};
    freq[2] = (struct mmsim_client_free_req){res[1].page.pfn, 2};
    freq[3] = (struct mmsim_client_free_req){res[1].page.pfn, 2};
    OK(mmsim_client_free_batch(c, freq, 4, res));

    /* Views, the checker, the machine. */
    for (int v = MMSIM__V1__VIEW_KIND__BUDDYINFO;
         v <= MMSIM__V1__VIEW_KIND__BOOTLOG; v++)
        OK(mmsim_client_view(c, (Mmsim__V1__ViewKind)v, NULL, NULL));
    OK(mmsim_client_check(c, false, &ok, problem, sizeof(problem)));
    OK(mmsim_client_check(c, true, &ok, problem, sizeof(problem)));
    OK(mmsim_client_machine(c, &mr));
    mmsim_client_pb_free(mr);
    /* The rest goes back at teardown. */
    gen_close(g, c, slot);
}

/* Pipelining: many requests in one write, answers read afterwards. */
static void scn_pipeline(struct gen *g, unsigned slot, unsigned n)
{
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_page pg;
    Mmsim__V1__Response *r;
    uint8_t data[64];

    OK(mmsim_client_alloc(c, 2, MMSIM_GFP_KERNEL, -1, &pg));
    for (unsigned i = 0; i < n; i++) {
        memset(data, (int)i, sizeof(data));
        switch (i % 8) {
        case 0:
            OK(mmsim_client_send_ping(c, data, i % 17));
            break;
        case 1:
            OK(mmsim_client_send_alloc(c, i % 3, MMSIM_GFP_KERNEL, -1));
            break;
        case 2:
            OK(mmsim_client_send_write(c, pg.pfn + i % 4, i % 64, data, 32));
            break;
        case 3:
            OK(mmsim_client_send_read(c, pg.pfn + i % 4, i % 64, 48));
            break;
        case 4:
            OK(mmsim_client_send_view(c, (Mmsim__V1__ViewKind)(i % 6)));
            break;
        case 5:
            OK(mmsim_client_send_free(c, pg.pfn + 1, 0));
            break;
        case 6:
            OK(mmsim_client_send_check(c, i % 2));
            break;
        default:
            OK(mmsim_client_send_machine(c));
            break;
        }
    }
    OK(mmsim_client_flush(c));
    while (mmsim_client_pending(c)) {
        OK(mmsim_client_recv(c, &r));
        mmsim_client_pb_free(r);
    }
    OK(mmsim_client_free(c, pg.pfn, 2));
    gen_close(g, c, slot);
}

/* Two sessions: one owns, the other may not touch; then one goes away. */
static void scn_sessions(struct gen *g)
{
    struct mmsim_client *c0 = gen_connect(g, 0), *c1 = gen_connect(g, 1);
    struct mmsim_client_page a, b;
    struct mmsim_client *c = c0;
    uint8_t buf[16];

    OK(mmsim_client_alloc(c0, 3, MMSIM_GFP_KERNEL, 0, &a));
    OK(mmsim_client_write(c0, a.pfn + 2, 8, "mine", 4));
    c = c1;
    OK(mmsim_client_alloc(c1, 1, MMSIM_GFP_KERNEL, 1, &b));
    REFUSED(S(NOT_OWNER), mmsim_client_free(c1, a.pfn, 3));
    REFUSED(S(NOT_OWNER), mmsim_client_read(c1, a.pfn + 2, 8, 4, buf, NULL));
    REFUSED(S(NOT_OWNER), mmsim_client_write(c1, a.pfn, 0, "theirs", 6));
    /* Session 0 ends with its block: the pages come back. */
    gen_close(g, c0, 0);
    OK(mmsim_client_alloc(c1, 3, MMSIM_GFP_KERNEL, 0, &a));
    OK(mmsim_client_read(c1, a.pfn + 2, 8, 4, buf, NULL)); /* zeros */
    c0 = gen_connect(g, 0);
    c = c0;
    REFUSED(S(NOT_OWNER), mmsim_client_free(c0, a.pfn, 3));
    OK(mmsim_client_alloc(c0, 0, MMSIM_GFP_ATOMIC, -1, &b));
    gen_close(g, c0, 0);
    gen_close(g, c1, 1);
}

/* The tight engine: quota, batch limit, a frame the client will not send. */
static void scn_tight(struct gen *g, unsigned slot)
{
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_alloc_req areq[9];
    struct mmsim_client_result res[9];
    struct mmsim_client_page p[4];
    uint8_t big[2048] = {0};

    OK(mmsim_client_alloc(c, 5, MMSIM_GFP_KERNEL, -1, &p[0]));
    OK(mmsim_client_alloc(c, 4, MMSIM_GFP_KERNEL, -1, &p[1]));
    REFUSED(S(QUOTA_EXCEEDED),
            mmsim_client_alloc(c, 5, MMSIM_GFP_KERNEL, -1, &p[2]));
    for (unsigned i = 0; i < 9; i++)
        areq[i] = (struct mmsim_client_alloc_req){i % 4, MMSIM_GFP_KERNEL, -1};
    REFUSED(S(BATCH_TOO_LARGE), mmsim_client_alloc_batch(c, areq, 9, res));
    OK(mmsim_client_alloc_batch(c, areq, 8, res)); /* some over quota */
    OK(mmsim_client_free(c, p[0].pfn, 5));
    OK(mmsim_client_alloc(c, 3, MMSIM_GFP_KERNEL, -1, &p[3]));
    /* Too big for this engine: the client refuses before sending. */
    if (mmsim_client_ping(c, big, sizeof(big)) != MMSIM_CLIENT_ETOOBIG)
        fz_fail("a ping over max_frame_bytes was sent");
    OK(mmsim_client_ping(c, big, 900));
    gen_close(g, c, slot);
}

/*
 * Run the machine out of memory with one batch (NO_MEMORY), give it back
 * with another: the session's block table grows and shrinks.
 */
static void scn_exhaust(struct gen *g, unsigned slot)
{
    static struct mmsim_client_alloc_req areq[1024];
    static struct mmsim_client_result res[1024];
    static struct mmsim_client_free_req freq[1024];
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_page p;
    size_t n = 0;

    for (unsigned i = 0; i < 1024; i++)
        areq[i] = (struct mmsim_client_alloc_req){3, MMSIM_GFP_KERNEL, -1};
    OK(mmsim_client_alloc_batch(c, areq, 1024, res));
    REFUSED(S(NO_MEMORY), mmsim_client_alloc(c, 10, MMSIM_GFP_ATOMIC, -1, &p));
    for (unsigned i = 0; i < 1024; i++)
        if (res[i].status == S(OK))
            freq[n++] = (struct mmsim_client_free_req){res[i].page.pfn, 3};
    OK(mmsim_client_free_batch(c, freq, n, res));
    OK(mmsim_client_alloc(c, 0, MMSIM_GFP_ATOMIC, -1, &p));
    gen_close(g, c, slot);
}

/* A call whose answer may be a refusal: the seed is what was sent. */
#define TRY(call) (void)(call)

/*
 * Virtual memory: an address space (mmap, faults, split unmaps), vmalloc
 * areas, reclaim, the views that show them; their refusals. The model
 * of the rpc target does not follow these, so only their shape is checked
 * there; the seed is for the coverage of daemon/rpc and daemon/mm.
 */
static void scn_vm(struct gen *g, unsigned slot)
{
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_mm_stat st;
    struct mmsim_client_reclaim rcl;
    struct mmsim_client_page p;
    uint64_t a, b, v, rounded;
    uint8_t buf[8192];

    TRY(mmsim_client_mm_stat(c, &st));
    TRY(mmsim_client_mem_read(c, 0x1000, 8, buf, NULL));
    TRY(mmsim_client_mem_write(c, 0x1000, "x", 1));
    TRY(mmsim_client_munmap(c, 0x1000, 1));
    OK(mmsim_client_alloc(c, 2, MMSIM_GFP_KERNEL, -1, &p));
    OK(mmsim_client_mmap(c, 64, MMSIM_CLIENT_ANY_NODE, &a));
    OK(mmsim_client_mmap(c, 16, 1, &b));
    TRY(mmsim_client_mmap(c, 0, -1, &v));
    TRY(mmsim_client_mmap(c, 1, 7, &v));
    TRY(mmsim_client_mmap(c, UINT64_C(1) << 30, -1, &v));
    OK(mmsim_client_mem_write(c, a + 100, "hello", 5));
    OK(mmsim_client_mem_write(c, a + 4090, "0123456789", 10));
    OK(mmsim_client_mem_read(c, a + 100, 5, buf, NULL));
    /* (The tight engine's reads are at most its 1 KiB frame limit.) */
    OK(mmsim_client_mem_read(c, a, wire_slot_engine(slot) ? 1024 : sizeof(buf),
                             buf, NULL));
    OK(mmsim_client_mem_read(c, b, 0, buf, NULL));
    OK(mmsim_client_mem_write(c, b + 3 * 4096, "", 0));
    OK(mmsim_client_mem_read(c, b + 16 * 4096 - 4, 4, buf, NULL));
    TRY(mmsim_client_mem_read(c, b + 16 * 4096 - 4, 8, buf, NULL));
    TRY(mmsim_client_mem_read(c, UINT64_MAX - 10, 100, buf, NULL));
    TRY(mmsim_client_mem_write(c, UINT64_MAX - 1, "ab", 2));
    TRY(mmsim_client_mem_write(c, UINT64_MAX, "ab", 2));
    {
        /* A read longer than a frame: the client would send it. */
        Req req = MMSIM__V1__REQUEST__INIT;
        Mmsim__V1__MemRead rd = MMSIM__V1__MEM_READ__INIT;
        Mmsim__V1__Response *r;

        req.op_case = MMSIM__V1__REQUEST__OP_MEM_READ;
        req.mem_read = &rd;
        rd.has_addr = rd.has_length = 1;
        rd.addr = a;
        rd.length = mmsim_client_max_frame_bytes(c) + 1;
        OK(mmsim_client_send(c, &req));
        OK(mmsim_client_recv(c, &r));
        mmsim_client_pb_free(r);
    }
    /* Unmap the middle (a split), a hole, bad ranges. */
    OK(mmsim_client_munmap(c, a + 16 * 4096, 8));
    TRY(mmsim_client_mem_read(c, a + 20 * 4096, 8, buf, NULL));
    OK(mmsim_client_munmap(c, a + 16 * 4096, 4));
    TRY(mmsim_client_munmap(c, a + 1, 1));
    TRY(mmsim_client_munmap(c, a, 0));
    TRY(mmsim_client_munmap(c, UINT64_MAX & ~UINT64_C(4095), 2));
    OK(mmsim_client_mm_stat(c, &st));
    /* vmalloc areas. */
    OK(mmsim_client_vmalloc(c, 10000, MMSIM_CLIENT_ANY_NODE, &v, &rounded));
    OK(mmsim_client_vwrite(c, v + 4000, buf, 200));
    OK(mmsim_client_vread(c, v + 4000, 200, buf, NULL));
    TRY(mmsim_client_vread(c, v + rounded - 10, 20, buf, NULL));
    TRY(mmsim_client_vwrite(c, v + rounded, "z", 1));
    TRY(mmsim_client_vread(c, 0x1000, 4, buf, NULL));
    TRY(mmsim_client_vmalloc(c, 0, -1, &b, NULL));
    TRY(mmsim_client_vmalloc(c, 4096, 9, &b, NULL));
    TRY(mmsim_client_vmalloc(c, UINT64_C(1) << 40, -1, &b, NULL));
    /* More than the machine holds cannot be a vmalloc area. */
    TRY(mmsim_client_vmalloc(c, UINT64_C(64) << 20, -1, &b, NULL));
    TRY(mmsim_client_vfree(c, v + 1));
    OK(mmsim_client_vmalloc(c, 1, 1, &b, NULL));
    OK(mmsim_client_vfree(c, v));
    TRY(mmsim_client_vfree(c, v));
    /* Reclaim, every way. */
    OK(mmsim_client_reclaim(c, -1, 1, 0, &rcl));
    OK(mmsim_client_reclaim(c, 0, 4, MMSIM_CLIENT_RECLAIM_KSWAPD, &rcl));
    OK(mmsim_client_reclaim(c, 1, 1, MMSIM_CLIENT_RECLAIM_BALANCE, &rcl));
    TRY(mmsim_client_reclaim(c, 5, 1, 0, &rcl));
    TRY(mmsim_client_reclaim(c, 0, 0, 0, &rcl));
    TRY(mmsim_client_reclaim(c, 0, 5000, 0, &rcl));
    for (int k = MMSIM__V1__VIEW_KIND__BOOTLOG + 1; k <= 8; k++)
        TRY(mmsim_client_view(c, (Mmsim__V1__ViewKind)k, NULL, NULL));
    OK(mmsim_client_mm_stat(c, &st));
    OK(mmsim_client_free(c, p.pfn, 2));
    gen_close(g, c, slot);
}

/* The tight engine's address-space limits, and vmalloc's. */
static void scn_vm_limits(struct gen *g, unsigned slot)
{
    struct mmsim_client *c = gen_connect(g, slot);
    uint64_t a[WIRE_TIGHT_MAPPINGS + 1], v;
    uint8_t buf[16];

    for (unsigned k = 0; k < WIRE_TIGHT_MAPPINGS; k++)
        OK(mmsim_client_mmap(c, 32, -1, &a[k]));
    TRY(mmsim_client_mmap(c, 1, -1, &a[WIRE_TIGHT_MAPPINGS]));
    OK(mmsim_client_mem_read(c, a[0], 16, buf, NULL));
    OK(mmsim_client_mem_write(c, a[0] + 31 * 4096, "end", 3));
    /* A split at the limit; trimming an end is fine. */
    TRY(mmsim_client_munmap(c, a[0] + 4 * 4096, 2));
    TRY(mmsim_client_munmap(c, a[1], 1));
    TRY(mmsim_client_munmap(c, a[2], 32));
    TRY(mmsim_client_mmap(c, WIRE_TIGHT_MAPPED, -1, &v));
    TRY(mmsim_client_mmap(c, 64, 1, &v));
    /* vmalloc past the page quota. */
    TRY(mmsim_client_vmalloc(c, (WIRE_TIGHT_PAGES + 1) * 4096, -1, &v, NULL));
    OK(mmsim_client_vmalloc(c, 8 * 4096, 0, &v, NULL));
    gen_close(g, c, slot);
}

/* Shutdown while sessions are open: Ping still works, the rest does not. */
static void scn_shutdown(struct gen *g, unsigned slot)
{
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_page p;

    OK(mmsim_client_alloc(c, 1, MMSIM_GFP_KERNEL, -1, &p));
    gen_shutdown(g, slot);
    OK(mmsim_client_ping(c, "still", 5));
    REFUSED(S(SHUTTING_DOWN), mmsim_client_free(c, p.pfn, 1));
    gen_close(g, c, slot);
}

/* Requests built by hand, sent through the client (ids and framing). */
static void scn_odd_requests(struct gen *g, unsigned slot)
{
    struct mmsim_client *c = gen_connect(g, slot);
    struct mmsim_client_page p;
    Mmsim__V1__Response *r;
    Req req = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__GetView v = MMSIM__V1__GET_VIEW__INIT;
    Mmsim__V1__FreePages f = MMSIM__V1__FREE_PAGES__INIT;
    Mmsim__V1__ReadPage rd = MMSIM__V1__READ_PAGE__INIT;
    Mmsim__V1__AllocPages a = MMSIM__V1__ALLOC_PAGES__INIT;

    OK(mmsim_client_alloc(c, 2, MMSIM_GFP_KERNEL, -1, &p));
    /* No operation at all. */
    OK(mmsim_client_send(c, &req));
    /* View kinds past the known ones, and negative. */
    req.op_case = MMSIM__V1__REQUEST__OP_VIEW;
    req.view = &v;
    v.has_kind = 1;
    for (int k = 6; k <= 9; k++) {
        v.kind = (Mmsim__V1__ViewKind)k;
        OK(mmsim_client_send(c, &req));
    }
    v.kind = (Mmsim__V1__ViewKind)-1;
    OK(mmsim_client_send(c, &req));
    v.has_kind = 0;
    OK(mmsim_client_send(c, &req));
    /* A pfn whose low 32 bits name our block. */
    req.op_case = MMSIM__V1__REQUEST__OP_FREE;
    req.free = &f;
    f.has_pfn = f.has_order = 1;
    f.pfn = p.pfn + (UINT64_C(1) << 32);
    f.order = 2;
    OK(mmsim_client_send(c, &req));
    f.pfn = p.pfn + (UINT64_C(1) << 32) - 1;
    OK(mmsim_client_send(c, &req));
    f.has_pfn = f.has_order = 0;
    OK(mmsim_client_send(c, &req));
    /* Reads without length, without offset, past the page. */
    req.op_case = MMSIM__V1__REQUEST__OP_READ;
    req.read = &rd;
    rd.has_pfn = 1;
    rd.pfn = p.pfn + 3;
    OK(mmsim_client_send(c, &req));
    rd.has_offset = 1;
    rd.offset = 4000;
    OK(mmsim_client_send(c, &req));
    rd.offset = 5000;
    OK(mmsim_client_send(c, &req));
    rd.offset = 0xffffffffu;
    rd.has_length = 1;
    rd.length = 0xffffffffu;
    OK(mmsim_client_send(c, &req));
    /* Allocations with absent fields and odd ones. */
    req.op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    req.alloc = &a;
    OK(mmsim_client_send(c, &req));
    a.has_node = 1;
    a.node = -7;
    OK(mmsim_client_send(c, &req));
    a.has_order = 1;
    a.order = 0xffffffffu;
    OK(mmsim_client_send(c, &req));
    while (mmsim_client_pending(c)) {
        OK(mmsim_client_recv(c, &r));
        mmsim_client_pb_free(r);
    }
    gen_close(g, c, slot);
}

/* ======================================================================
 * Hostile inputs, by hand
 * ====================================================================== */

/* Pack @r as a frame into @o. */
static void put_req(struct fz_out *o, const Req *r)
{
    size_t n = mmsim__v1__request__get_packed_size(r);
    uint8_t *b = malloc(n ? n : 1);

    if (!b)
        fz_fail("out of host memory");
    mmsim__v1__request__pack(r, b);
    fz_put_u8(o, (n >> 24) & 0xff);
    fz_put_u8(o, (n >> 16) & 0xff);
    fz_put_u8(o, (n >> 8) & 0xff);
    fz_put_u8(o, n & 0xff);
    fz_put_bytes(o, b, n);
    free(b);
}

static void put_hello(struct fz_out *o, uint64_t id, unsigned version,
                      const char *token)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Hello h = MMSIM__V1__HELLO__INIT;

    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_HELLO;
    r.hello = &h;
    h.has_protocol_version = version != 0;
    h.protocol_version = version;
    h.client_name = (char *)"hostile\x1b[31m";
    if (token) {
        h.has_token = 1;
        h.token.data = (uint8_t *)token;
        h.token.len = strlen(token);
    }
    put_req(o, &r);
}

static void put_ping(struct fz_out *o, uint64_t id)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__Ping p = MMSIM__V1__PING__INIT;

    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_PING;
    r.ping = &p;
    put_req(o, &r);
}

static void put_alloc(struct fz_out *o, uint64_t id, unsigned order)
{
    Req r = MMSIM__V1__REQUEST__INIT;
    Mmsim__V1__AllocPages a = MMSIM__V1__ALLOC_PAGES__INIT;

    r.has_id = 1;
    r.id = id;
    r.op_case = MMSIM__V1__REQUEST__OP_ALLOC;
    r.alloc = &a;
    a.has_order = 1;
    a.order = order;
    put_req(o, &r);
}

static void put_u32be(struct fz_out *o, uint32_t v)
{
    fz_put_u8(o, v >> 24);
    fz_put_u8(o, (v >> 16) & 0xff);
    fz_put_u8(o, (v >> 8) & 0xff);
    fz_put_u8(o, v & 0xff);
}

/* A stream as records of @slot | @flags. */
static void rec_stream(struct fz_out *rec, unsigned sel, const struct fz_out *s)
{
    put_record(rec, sel, s->buf, s->len);
}

static void gen_hostile(void)
{
    struct fz_out s = {0}, rec = {0};

    /* A request before Hello; on the tight engine too. */
    put_ping(&s, 1);
    rec_stream(&rec, 0, &s);
    rec_stream(&rec, 2, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Versions: none, 2; then tokens: none, wrong, right. */
    put_hello(&s, 1, 0, NULL);
    rec_stream(&rec, 0, &s);
    s.len = 0;
    put_hello(&s, 1, 2, NULL);
    rec_stream(&rec, 1, &s);
    s.len = 0;
    put_hello(&s, 1, 1, NULL);
    rec_stream(&rec, 2, &s);
    s.len = 0;
    put_hello(&s, 1, 1, "fuzz-tokeN");
    rec_stream(&rec, 3, &s);
    s.len = 0;
    put_hello(&s, 7, 1, WIRE_TOKEN);
    put_hello(&s, 8, 1, WIRE_TOKEN); /* twice */
    put_ping(&s, 9);
    rec_stream(&rec, 2 | MMSIM_REC_RESTART, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Lengths over the limit: each engine's, and the largest. */
    put_hello(&s, 1, 1, NULL);
    put_u32be(&s, 0xffffffffu);
    rec_stream(&rec, 0, &s);
    s.len = 0;
    put_hello(&s, 1, 1, WIRE_TOKEN);
    put_u32be(&s, WIRE_TIGHT_FRAME + 1);
    rec_stream(&rec, 2, &s);
    s.len = 0;
    put_hello(&s, 1, 1, WIRE_TOKEN);
    put_u32be(&s, WIRE_TIGHT_FRAME);
    for (unsigned k = 0; k < WIRE_TIGHT_FRAME; k++)
        fz_put_u8(&s, 0);
    rec_stream(&rec, 3, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Undecodable payloads: a bad tag, a cut varint, a wrong wire type. */
    {
        static const uint8_t bad[][4] = {{0xff, 0xff, 0xff, 0xff},
                                         {0x08, 0xff, 0x00, 0x00},
                                         {0x12, 0x05, 0x00, 0x00},
                                         {0x0d, 0x00, 0x00, 0x00}};

        for (unsigned k = 0; k < 4; k++) {
            put_hello(&s, 1, 1, k >= 2 ? WIRE_TOKEN : NULL);
            put_u32be(&s, 4);
            fz_put_bytes(&s, bad[k], 4);
            rec_stream(&rec, k, &s);
            s.len = 0;
        }
        /* After the close, nothing more is read. */
        put_ping(&s, 2);
        rec_stream(&rec, 0, &s);
        s.len = 0;
        save("rpc", &rec);
        s.len = rec.len = 0;
    }

    /* Too many in flight in one read (the tight engine: 4). */
    put_hello(&s, 1, 1, WIRE_TOKEN);
    for (unsigned k = 2; k < 10; k++)
        put_ping(&s, k);
    rec_stream(&rec, 2, &s);
    /* The same requests one read each: all fine. */
    s.len = 0;
    put_hello(&s, 1, 1, WIRE_TOKEN);
    rec_stream(&rec, 3, &s);
    for (unsigned k = 2; k < 10; k++) {
        s.len = 0;
        put_ping(&s, k);
        rec_stream(&rec, 3, &s);
    }
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Over the decode budget: a batch of many empty entries. */
    put_hello(&s, 1, 1, WIRE_TOKEN);
    put_u32be(&s, 3 + 2 * 400);
    fz_put_u8(&s, 0x32); /* field 6 (alloc_batch), length-delimited */
    fz_put_u8(&s, 0x80 | ((2 * 400) & 0x7f));
    fz_put_u8(&s, (2 * 400) >> 7);
    for (unsigned k = 0; k < 400; k++) {
        fz_put_u8(&s, 0x0a); /* allocs, empty */
        fz_put_u8(&s, 0x00);
    }
    rec_stream(&rec, 2, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Unknown operations: fields this engine may not implement. */
    put_hello(&s, 1, 1, NULL);
    for (unsigned field = 13; field <= 24; field++) {
        unsigned tag = field << 3 | 2; /* length-delimited */
        bool two = tag >= 0x80;

        put_u32be(&s, two ? 5 : 4);
        fz_put_u8(&s, 0x08); /* id = field */
        fz_put_u8(&s, field);
        fz_put_u8(&s, two ? (tag & 0x7f) | 0x80 : tag);
        if (two)
            fz_put_u8(&s, tag >> 7);
        fz_put_u8(&s, 0x00); /* an empty message */
    }
    put_u32be(&s, 3);
    fz_put_bytes(&s, "\xa8\x06\x01", 3); /* field 101, varint */
    rec_stream(&rec, 0, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Bytes split across records, a byte at a time and with MORE. */
    put_hello(&s, 1, 1, NULL);
    put_alloc(&s, 2, 1);
    put_ping(&s, 3);
    for (size_t k = 0; k < s.len; k++)
        put_record(&rec, k % 3 ? MMSIM_REC_MORE : 0, s.buf + k, 1);
    put_record(&rec, 1, s.buf, s.len);
    put_record(&rec, 1 | MMSIM_REC_MORE, NULL, 0);
    put_record(&rec, 0, NULL, 0);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* Restart with pages owned, shutdown with an unauthenticated peer. */
    put_hello(&s, 1, 1, NULL);
    put_alloc(&s, 2, 3);
    put_alloc(&s, 3, 0);
    rec_stream(&rec, 0, &s);
    rec_stream(&rec, 0 | MMSIM_REC_RESTART, &s);
    s.len = 0;
    put_hello(&s, 4, 1, NULL); /* unauthenticated: refused and closed */
    rec_stream(&rec, 1 | MMSIM_REC_SHUTDOWN, &s);
    s.len = 0;
    put_ping(&s, 5);
    put_alloc(&s, 6, 0);
    rec_stream(&rec, 0, &s);
    save("rpc", &rec);
    s.len = rec.len = 0;

    /* A record longer than the input. */
    put_hello(&s, 1, 1, NULL);
    fz_put_u8(&rec, 0);
    fz_put_u16(&rec, 0xffff);
    fz_put_bytes(&rec, s.buf, s.len);
    save("rpc", &rec);

    fz_out_free(&s);
    fz_out_free(&rec);
}

/* Hostile frame streams. */
static void gen_frame_hostile(void)
{
    static const uint8_t limits[] = {0, 4, 0x80, 0x81, 0x86, 0x8a};
    struct fz_out o = {0};

    for (size_t k = 0; k < sizeof(limits); k++) {
        uint8_t lim = limits[k];

        /* Empty frames, a short one, a huge length. */
        fz_put_u8(&o, lim);
        fz_put_u8(&o, 3);
        fz_put_bytes(&o, "\x01\x05\x00", 3);
        put_u32be(&o, 0);
        put_u32be(&o, 0);
        put_u32be(&o, 3);
        fz_put_bytes(&o, "abc", 3);
        put_u32be(&o, 0xffffffffu);
        fz_put_bytes(&o, "tail", 4);
        save("frame", &o);
        o.len = 0;
    }
    /* Exactly the limit (255), one over, a cut header at the end. */
    fz_put_u8(&o, 0x80 + 6);
    fz_put_u8(&o, 0);
    put_u32be(&o, 255);
    for (unsigned k = 0; k < 255; k++)
        fz_put_u8(&o, k);
    put_u32be(&o, 256);
    save("frame", &o);
    o.len = 0;
    fz_put_u8(&o, 0x80 + 6);
    fz_put_u8(&o, 2);
    fz_put_bytes(&o, "\x02\x00", 2);
    put_u32be(&o, 255);
    for (unsigned k = 0; k < 255; k++)
        fz_put_u8(&o, k);
    fz_put_bytes(&o, "\x00\x00", 2);
    save("frame", &o);
    o.len = 0;
    /* A frame whose payload never comes; empty pieces. */
    fz_put_u8(&o, 0x80);
    fz_put_u8(&o, 6);
    fz_put_bytes(&o, "\x00\x00\x04\x00\x01\x00", 6);
    put_u32be(&o, 1000);
    fz_put_bytes(&o, "partial", 7);
    save("frame", &o);
    fz_out_free(&o);
}

int main(int argc, char **argv)
{
    struct gen *g;
    char err[256];

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) && errno != EEXIST)
        fz_fail("mkdir %s: %s", outdir, strerror(errno));
    g = calloc(1, sizeof(*g));
    if (!g)
        fz_fail("out of host memory");
    pthread_mutex_init(&g->lock, NULL);
    if (wire_desc(&g->desc, err, sizeof(err)))
        fz_fail("machine: %s", err);

    gen_begin(g);
    scn_basic(g, 0);
    gen_end(g);
    gen_begin(g);
    scn_basic(g, 3);
    gen_end(g);
    gen_begin(g);
    scn_pipeline(g, 1, 120);
    gen_end(g);
    gen_begin(g);
    scn_pipeline(g, 0, 300);
    gen_end(g);
    gen_begin(g);
    scn_sessions(g);
    gen_end(g);
    gen_begin(g);
    scn_tight(g, 2);
    gen_end(g);
    gen_begin(g);
    scn_exhaust(g, 1);
    gen_end(g);
    gen_begin(g);
    scn_vm(g, 0);
    gen_end(g);
    gen_begin(g);
    scn_vm(g, 3);
    gen_end(g);
    gen_begin(g);
    scn_vm_limits(g, 2);
    gen_end(g);

    gen_begin(g);
    scn_shutdown(g, 0);
    gen_end(g);
    gen_begin(g);
    scn_shutdown(g, 3);
    gen_end(g);
    gen_begin(g);
    scn_odd_requests(g, 1);
    gen_end(g);

    gen_hostile();
    gen_frame_hostile();
    fz_out_free(&g->rec);
    pthread_mutex_destroy(&g->lock);
    free(g);
    printf("gen-wire-corpus: %u seeds in %s\n", nr_written, outdir);
    return 0;
}
