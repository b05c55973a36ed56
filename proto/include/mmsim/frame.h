/*
 * mmsim/frame.h - framing of the wire protocol, shared by the daemon and
 * every C client: a 4-byte big-endian length, then that many bytes of one
 * serialized mmsim.v1.Request or mmsim.v1.Response (proto/PROTOCOL.md).
 *
 * The decoder is incremental: feed it whatever the socket gave, in any
 * split, and it yields whole frames. It never buffers more than one frame
 * of at most max_frame_bytes, so a peer cannot make it grow without bound.
 * No I/O, no globals, no threads: one decoder per connection.
 */
#ifndef MMSIM_FRAME_H
#define MMSIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MMSIM_FRAME_HEADER     4
#define MMSIM_PROTOCOL_VERSION 1
/* Default limit on one frame's payload. */
#define MMSIM_FRAME_MAX_DEFAULT (1u << 20)

/* A growable byte buffer (output queues, encoded frames). */
struct mmsim_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void mmsim_buf_init(struct mmsim_buf *b);
void mmsim_buf_free(struct mmsim_buf *b);
/* Make room for @n more bytes. Return: 0 or -1 (out of host memory). */
int mmsim_buf_reserve(struct mmsim_buf *b, size_t n);
int mmsim_buf_append(struct mmsim_buf *b, const void *data, size_t n);
/* Drop the first @n bytes (they were sent). */
void mmsim_buf_consume(struct mmsim_buf *b, size_t n);

enum mmsim_frame_result {
    MMSIM_FRAME_NEED_MORE = 0, /* all input consumed, no whole frame yet */
    MMSIM_FRAME_READY = 1,     /* *frame holds one whole payload */
    MMSIM_FRAME_TOO_LARGE = -1 /* the length prefix exceeds the limit */
};

struct mmsim_frame_decoder {
    uint32_t max_frame_bytes;
    uint8_t header[MMSIM_FRAME_HEADER];
    unsigned header_have;
    uint32_t want; /* payload length of the frame being read */
    uint32_t have;
    struct mmsim_buf payload;
    int failed; /* sticky MMSIM_FRAME_TOO_LARGE */
};

void mmsim_frame_decoder_init(struct mmsim_frame_decoder *d,
                              uint32_t max_frame_bytes);
void mmsim_frame_decoder_fini(struct mmsim_frame_decoder *d);

/**
 * mmsim_frame_decode() - consume input until one frame is whole.
 * @d:        the decoder.
 * @data:     input bytes (may be NULL when @len is 0).
 * @len:      their number.
 * @consumed: receives how many bytes were used; the caller feeds the rest
 *            again after handling the frame.
 * @frame:    receives the payload on MMSIM_FRAME_READY; valid until the
 *            next call. It points into @data when the whole frame was
 *            there (no copy), else into the decoder's buffer; either way
 *            the caller keeps @data unchanged until it has handled the
 *            frame, as it must to feed the rest again.
 * @frame_len: its length (0 is a valid, empty payload).
 *
 * Return: enum mmsim_frame_result; -2 when the host is out of memory.
 * After MMSIM_FRAME_TOO_LARGE every call returns it again.
 */
int mmsim_frame_decode(struct mmsim_frame_decoder *d, const uint8_t *data,
                       size_t len, size_t *consumed, const uint8_t **frame,
                       size_t *frame_len);

/* Append a 4-byte big-endian length header for @len. */
int mmsim_frame_put_header(struct mmsim_buf *out, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_FRAME_H */
