/*
 * frame.c - fuzz the frame decoder alone (proto/frame.c): a byte stream
 * decoded whole, a byte at a time, in pieces the input chooses and, for
 * short streams, split at every position, against a model of the format.
 *
 * DOC: input
 *
 * [limit u8][n u8][n piece lengths, u8 each][the stream]
 *
 * - limit chooses max_frame_bytes: 0..127 as it is, 128..255 from
 *   frame_limits[] below (the default 1 MiB, 2^32 - 1, values around
 *   powers of two). A stream longer than a limit below 128 bytes allows
 *   is the way to reach FRAME_TOO_LARGE cheaply.
 * - n piece lengths (a length of 0 is an empty feed, data NULL): the
 *   stream is fed in those pieces, then the rest in one. Pieces past the
 *   end of the stream are empty.
 *
 * DOC: what is checked
 *
 * The model reads the stream by the book (PROTOCOL.md section 1): a
 * 4-byte big-endian length, then that many bytes, and so on; a length
 * over the limit is an error at the end of its header, after which
 * nothing more is read. For every way of feeding the stream:
 *
 * - the decoder yields exactly the model's frames, in order, byte for
 *   byte, each the moment its last byte arrives (a call consumes at most
 *   up to the end of the frame it returns, and never more than it was
 *   given);
 * - a length over the limit is MMSIM_FRAME_TOO_LARGE at the same place,
 *   with the decoder's @want holding the length that was refused (rpc.c
 *   quotes it), and every later call returns it again consuming nothing;
 * - the decoder never returns -2 (out of host memory) and buffers no more
 *   than twice what actually arrived of the current frame (a lying length
 *   costs nothing), at most the frame limit plus one allocation step;
 * - after the stream, the decoder's state (header bytes held, payload
 *   bytes held) is the model's remainder;
 * - mmsim_frame_put_header() writes back each frame's header byte for
 *   byte.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmsim/frame.h"

#define MAX_FRAMES    8192
#define ALL_SPLITS_AT 96 /* streams up to this long: also every split */

static const uint32_t frame_limits[] = {
    MMSIM_FRAME_MAX_DEFAULT,
    UINT32_MAX,
    UINT32_MAX - 1,
    UINT32_C(1) << 31,
    (UINT32_C(1) << 31) - 1,
    (UINT32_C(1) << 24),
    255,
    256,
    257,
    1023,
    1024,
    4095,
    4096,
    65535,
    65536,
    MMSIM_FRAME_MAX_DEFAULT - 1,
};

/* The model's reading of a stream. */
struct model {
    size_t nfr;
    size_t start[MAX_FRAMES]; /* payload offset */
    uint32_t len[MAX_FRAMES];
    size_t end[MAX_FRAMES]; /* offset just past the payload */
    bool too_large;
    size_t err_at; /* offset just past the refused header */
    uint32_t err_len;
    /* What is left after the last whole frame (no error). */
    unsigned rest_header; /* header bytes of an unfinished frame */
    uint32_t rest_have;   /* payload bytes of it */
    uint32_t rest_want;
};

/*
 * Read the stream as the protocol says. Return: how much of it the model
 * covers: all of it, unless it holds more than MAX_FRAMES frames.
 */
FZ_NOCOV static size_t model_read(struct model *m, const uint8_t *s, size_t n,
                                  uint32_t limit)
{
    size_t pos = 0;

    m->nfr = 0;
    m->too_large = false;
    m->err_at = 0;
    m->err_len = 0;
    m->rest_header = 0;
    m->rest_have = m->rest_want = 0;
    for (;;) {
        uint32_t len;

        if (m->nfr == MAX_FRAMES)
            return pos;
        if (n - pos < MMSIM_FRAME_HEADER) {
            m->rest_header = (unsigned)(n - pos);
            return n;
        }
        len = (uint32_t)s[pos] << 24 | (uint32_t)s[pos + 1] << 16 |
              (uint32_t)s[pos + 2] << 8 | s[pos + 3];
        if (len > limit) {
            m->too_large = true;
            m->err_at = pos + MMSIM_FRAME_HEADER;
            m->err_len = len;
            return n;
        }
        if (n - pos - MMSIM_FRAME_HEADER < len) {
            m->rest_header = MMSIM_FRAME_HEADER;
            m->rest_have = (uint32_t)(n - pos - MMSIM_FRAME_HEADER);
            m->rest_want = len;
            return n;
        }
        m->start[m->nfr] = pos + MMSIM_FRAME_HEADER;
        m->len[m->nfr] = len;
        pos += MMSIM_FRAME_HEADER + (size_t)len;
        m->end[m->nfr++] = pos;
    }
}

/* One way of feeding the stream; checks against the model as it goes. */
struct run {
    struct mmsim_frame_decoder d;
    const uint8_t *s;
    size_t n;
    size_t pos;  /* bytes of the stream consumed so far */
    size_t next; /* the next model frame expected */
    bool failed;
    const struct model *m;
    uint32_t limit;
    uint32_t max_have; /* the most bytes of one frame that arrived */
    const char *how;
};

/* The decoder holds at most twice the most that ever arrived of a frame. */
static void check_buffer(struct run *r)
{
    if (r->d.have > r->max_have)
        r->max_have = r->d.have;
    FZ_CHECK(r->d.payload.cap <= 256 ||
                 r->d.payload.cap < 2 * (size_t)r->max_have + 2,
             "%s: %zu bytes buffered, but at most %" PRIu32 " of one frame "
             "arrived (this one claims %" PRIu32 ")",
             r->how, r->d.payload.cap, r->max_have, r->d.want);
}

/* After TOO_LARGE: every call returns it again and consumes nothing. */
static void check_sticky(struct run *r, size_t left)
{
    const uint8_t *frame = NULL;
    size_t used = 12345, flen = 0;
    int rc = mmsim_frame_decode(&r->d, left ? r->s + r->pos : NULL, left, &used,
                                &frame, &flen);

    FZ_CHECK(rc == MMSIM_FRAME_TOO_LARGE && used == 0,
             "%s: after TOO_LARGE: %d, consumed %zu", r->how, rc, used);
}

/* Feed s[pos, pos + len) in calls until all of it is consumed. */
static void run_feed(struct run *r, size_t len)
{
    const struct model *m = r->m;
    size_t left = len;

    if (r->failed) {
        check_sticky(r, left);
        return;
    }
    for (;;) {
        const uint8_t *frame = NULL;
        size_t used = 12345, flen = 0;
        int rc = mmsim_frame_decode(&r->d, left ? r->s + r->pos : NULL, left,
                                    &used, &frame, &flen);

        FZ_CHECK(rc != -2, "%s: decoder out of host memory", r->how);
        FZ_CHECK(used <= left, "%s: consumed %zu of %zu", r->how, used, left);
        r->pos += used;
        left -= used;
        check_buffer(r);
        if (rc == MMSIM_FRAME_TOO_LARGE) {
            FZ_CHECK(m->too_large && r->next == m->nfr && r->pos == m->err_at,
                     "%s: TOO_LARGE at offset %zu; the model: %s at %zu "
                     "after %zu of %zu frames",
                     r->how, r->pos, m->too_large ? "error" : "no error",
                     m->err_at, r->next, m->nfr);
            FZ_CHECK(r->d.want == m->err_len,
                     "%s: TOO_LARGE reports length %" PRIu32 ", the prefix "
                     "says %" PRIu32,
                     r->how, r->d.want, m->err_len);
            r->failed = true;
            check_sticky(r, left);
            return;
        }
        if (rc == MMSIM_FRAME_NEED_MORE) {
            FZ_CHECK(left == 0, "%s: NEED_MORE with %zu bytes unread", r->how,
                     left);
            return;
        }
        FZ_CHECK(rc == MMSIM_FRAME_READY, "%s: decode returned %d", r->how, rc);
        FZ_CHECK(r->next < m->nfr, "%s: a frame the model does not have",
                 r->how);
        FZ_CHECK(r->pos == m->end[r->next],
                 "%s: frame %zu ready at offset %zu, it ends at %zu", r->how,
                 r->next, r->pos, m->end[r->next]);
        FZ_CHECK(
            flen == m->len[r->next] &&
                (!flen ||
                 (frame && !memcmp(frame, r->s + m->start[r->next], flen))),
            "%s: frame %zu differs from the stream", r->how, r->next);
        r->next++;
        if (!left)
            return;
    }
}

static void run_start(struct run *r, const struct model *m, const uint8_t *s,
                      size_t n, uint32_t limit, const char *how)
{
    memset(r, 0, sizeof(*r));
    mmsim_frame_decoder_init(&r->d, limit);
    r->s = s;
    r->n = n;
    r->m = m;
    r->limit = limit;
    r->how = how;
}

/* The end of the stream: the decoder holds what the model left over. */
static void run_end(struct run *r)
{
    const struct model *m = r->m;

    if (m->too_large) {
        FZ_CHECK(r->failed,
                 "%s: no TOO_LARGE for length %" PRIu32 " over limit %" PRIu32,
                 r->how, m->err_len, r->limit);
    } else {
        FZ_CHECK(r->next == m->nfr && r->pos == r->n,
                 "%s: %zu of %zu frames, %zu of %zu bytes", r->how, r->next,
                 m->nfr, r->pos, r->n);
        /* A frame handed out last is reset by the next call, not before. */
        if (m->rest_header || m->rest_have)
            FZ_CHECK(
                r->d.header_have == m->rest_header &&
                    (m->rest_header < MMSIM_FRAME_HEADER ||
                     (r->d.have == m->rest_have && r->d.want == m->rest_want)),
                "%s: decoder holds %u header and %" PRIu32
                " payload bytes; the model %u and %" PRIu32,
                r->how, r->d.header_have, r->d.have, m->rest_header,
                m->rest_have);
    }
    mmsim_frame_decoder_fini(&r->d);
}

static void check_headers(const struct model *m, const uint8_t *s)
{
    struct mmsim_buf b;

    mmsim_buf_init(&b);
    for (size_t k = 0; k < m->nfr; k++) {
        FZ_CHECK(mmsim_frame_put_header(&b, m->len[k]) == 0,
                 "put_header: out of host memory");
        FZ_CHECK(b.len == MMSIM_FRAME_HEADER &&
                     !memcmp(b.data, s + m->start[k] - MMSIM_FRAME_HEADER,
                             MMSIM_FRAME_HEADER),
                 "put_header(%" PRIu32 ") differs from the stream", m->len[k]);
        mmsim_buf_consume(&b, MMSIM_FRAME_HEADER);
        FZ_CHECK(b.len == 0, "buf_consume left %zu bytes", b.len);
    }
    mmsim_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    unsigned sel = fz_u8(&in), npieces = fz_u8(&in);
    const uint8_t *pieces = in.p;
    uint32_t limit;
    struct model *m = malloc(sizeof(*m));
    struct run r;
    const uint8_t *s;
    size_t n;

    if (!m)
        return 0;
    if (npieces > in.n)
        npieces = (unsigned)in.n;
    in.p += npieces;
    in.n -= npieces;
    s = in.p;
    n = in.n;
    limit = sel < 128 ? sel
                      : frame_limits[(sel - 128) % (sizeof(frame_limits) /
                                                    sizeof(*frame_limits))];
    n = model_read(m, s, n, limit);
    check_headers(m, s);

    /* In one piece. */
    run_start(&r, m, s, n, limit, "whole");
    run_feed(&r, n);
    run_end(&r);

    /* A byte at a time: a split at every byte boundary at once. */
    run_start(&r, m, s, n, limit, "bytewise");
    for (size_t k = 0; k < n && !r.failed; k++)
        run_feed(&r, 1);
    run_feed(&r, 0); /* and an empty call at the end */
    run_end(&r);

    /* The input's pieces, then the rest. */
    run_start(&r, m, s, n, limit, "pieces");
    for (unsigned k = 0; k < npieces && !r.failed; k++) {
        size_t len = pieces[k];

        if (len > n - r.pos)
            len = n - r.pos;
        run_feed(&r, len);
    }
    if (!r.failed)
        run_feed(&r, n - r.pos);
    run_end(&r);

    /* Short streams: every single split point. */
    if (n <= ALL_SPLITS_AT) {
        for (size_t cut = 1; cut < n; cut++) {
            run_start(&r, m, s, n, limit, "split");
            run_feed(&r, cut);
            if (!r.failed)
                run_feed(&r, n - r.pos);
            run_end(&r);
        }
    }
    free(m);
    return 0;
}
