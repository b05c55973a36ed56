// SPDX-License-Identifier: MIT
/*
 * frame.c - the 4-byte big-endian length prefix framing, incremental.
 *
 * A frame that arrives whole is handed out in place (a pointer into the
 * caller's input); only a frame split across inputs is copied, into the
 * decoder's own buffer, as its bytes come.
 */
#include <stdlib.h>
#include <string.h>

#include "mmsim/frame.h"

void mmsim_buf_init(struct mmsim_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mmsim_buf_free(struct mmsim_buf *b)
{
    free(b->data);
    mmsim_buf_init(b);
}

int mmsim_buf_reserve(struct mmsim_buf *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return -1;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int mmsim_buf_append(struct mmsim_buf *b, const void *data, size_t n)
{
    if (mmsim_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return 0;
}

void mmsim_buf_consume(struct mmsim_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void mmsim_frame_decoder_init(struct mmsim_frame_decoder *d,
                              uint32_t max_frame_bytes)
{
    memset(d, 0, sizeof(*d));
    d->max_frame_bytes = max_frame_bytes;
    mmsim_buf_init(&d->payload);
}

void mmsim_frame_decoder_fini(struct mmsim_frame_decoder *d)
{
    mmsim_buf_free(&d->payload);
}

int mmsim_frame_decode(struct mmsim_frame_decoder *d, const uint8_t *data,
                       size_t len, size_t *consumed, const uint8_t **frame,
                       size_t *frame_len)
{
    size_t used = 0;

    *consumed = 0;
    if (d->failed)
        return MMSIM_FRAME_TOO_LARGE;
    /* A frame was handed out last time: start the next one. */
    if (d->header_have == MMSIM_FRAME_HEADER && d->have == d->want) {
        d->header_have = 0;
        d->want = d->have = 0;
        d->payload.len = 0;
    }
    /* Zero copy: no frame begun and a whole one in the input, so hand out
     * the payload where it lies (the usual case for a server reading
     * pipelined requests). The state is left as after a copied frame. */
    if (d->header_have == 0 && len >= MMSIM_FRAME_HEADER) {
        uint32_t want = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                        (uint32_t)data[2] << 8 | data[3];

        if (want <= d->max_frame_bytes && want <= len - MMSIM_FRAME_HEADER) {
            memcpy(d->header, data, MMSIM_FRAME_HEADER);
            d->header_have = MMSIM_FRAME_HEADER;
            d->want = d->have = want;
            *consumed = MMSIM_FRAME_HEADER + (size_t)want;
            *frame = data + MMSIM_FRAME_HEADER;
            *frame_len = want;
            return MMSIM_FRAME_READY;
        }
    }
    while (d->header_have < MMSIM_FRAME_HEADER) {
        if (used == len) {
            *consumed = used;
            return MMSIM_FRAME_NEED_MORE;
        }
        d->header[d->header_have++] = data[used++];
        if (d->header_have == MMSIM_FRAME_HEADER) {
            d->want = (uint32_t)d->header[0] << 24 |
                      (uint32_t)d->header[1] << 16 |
                      (uint32_t)d->header[2] << 8 | d->header[3];
            if (d->want > d->max_frame_bytes) {
                d->failed = 1;
                *consumed = used;
                return MMSIM_FRAME_TOO_LARGE;
            }
            d->have = 0;
            d->payload.len = 0;
        }
    }
    if (d->have < d->want) {
        size_t take = d->want - d->have;

        if (take > len - used)
            take = len - used;
        /* Copy only what arrived: a lying length costs nothing until the
         * bytes actually come. (None may have: data is NULL when len is 0,
         * and NULL + 0 is undefined.) */
        if (take && mmsim_buf_append(&d->payload, data + used, take)) {
            *consumed = used;
            return -2;
        }
        used += take;
        d->have += (uint32_t)take;
    }
    *consumed = used;
    if (d->have < d->want)
        return MMSIM_FRAME_NEED_MORE;
    *frame = d->payload.data;
    *frame_len = d->want;
    return MMSIM_FRAME_READY;
}

int mmsim_frame_put_header(struct mmsim_buf *out, uint32_t len)
{
    uint8_t h[MMSIM_FRAME_HEADER] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                     (uint8_t)(len >> 8), (uint8_t)len};

    return mmsim_buf_append(out, h, sizeof(h));
}
