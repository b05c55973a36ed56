/*
 * mmsim/wire.h - hand-made codecs for the messages that cross the wire by
 * the million: the requests AllocPages, FreePages, ReadPage, WritePage
 * and Ping, and their responses (a status and a message, an AllocReply,
 * a ReadReply, a Pong).
 *
 * protobuf-c packs by walking descriptors twice (once for the size, once
 * for the bytes) and unpacks by scanning, then parsing, allocating every
 * message; at a million requests a second that is most of the server's
 * time in user space. These read and write the same bytes directly:
 *
 * - the encoders produce exactly the bytes protobuf-c's pack produces
 *   (present fields in field-number order, defaults left out);
 * - the decoders accept only messages whose meaning is beyond doubt
 *   (each known field at most once with its own wire type, exactly one
 *   hot operation or result, no unknown field, no overlong varint, no
 *   tag or length prefix longer than protobuf-c reads) and
 *   build what protobuf-c's unpack builds from them. Everything else is
 *   "not by hand": the caller hands the bytes to protobuf-c, which stays
 *   the judge of what is valid at all.
 *
 * Field numbers are those of proto/mmsim.proto, which never change.
 * tests/unit/test-wire.c and the `codec` fuzz target hold both directions
 * to protobuf-c, byte for byte. No I/O, no globals, no threads.
 */
#ifndef MMSIM_WIRE_H
#define MMSIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmsim.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MMSIM_WIRE_VARINT = 0, MMSIM_WIRE_LEN = 2 };

/* One field to encode: a varint, or @v bytes at @data. */
struct mmsim_wire_field {
    uint32_t tag; /* field number << 3 | wire type */
    uint64_t v;
    const void *data;
};

/*
 * A message ready to be written: the top-level scalar fields (Request.id;
 * Response.id, status, message), then at most one nested message (the
 * operation, or the result) with its own fields. The top-level numbers
 * are all below the nested one's, so this is field-number order.
 */
struct mmsim_wire_enc {
    struct mmsim_wire_field outer[3];
    struct mmsim_wire_field inner[4];
    unsigned n_outer, n_inner;
    uint32_t nested_tag; /* 0: no nested message */
    size_t inner_size;
    size_t size; /* of the whole message, without a frame header */
};

/*
 * Prepare @req (a Request) or @r (a Response) for mmsim_wire_put().
 * Return: true, with @e->size set; false when protobuf-c must pack it
 * (another operation or result, unknown fields).
 */
bool mmsim_wire_request_enc(const Mmsim__V1__Request *req,
                            struct mmsim_wire_enc *e);
bool mmsim_wire_response_enc(const Mmsim__V1__Response *r,
                             struct mmsim_wire_enc *e);
/* Write the @e->size bytes of the message to @out. Return: their end. */
uint8_t *mmsim_wire_put(const struct mmsim_wire_enc *e, uint8_t *out);

/*
 * A Request decoded by hand, on the caller's stack: @req, and the one
 * operation it points to. @req points into this very struct, so it may
 * not be copied.
 */
struct mmsim_wire_request {
    Mmsim__V1__Request req;
    union {
        Mmsim__V1__Ping ping;
        Mmsim__V1__AllocPages alloc;
        Mmsim__V1__FreePages free;
        Mmsim__V1__ReadPage read;
        Mmsim__V1__WritePage write;
    } op;
};

/*
 * Decode the Request in @frame by hand. Bytes fields (WritePage.data,
 * Ping.payload) point into @frame, which must outlive @w; like protobuf-c,
 * an empty one has data NULL. Nothing is allocated.
 * Return: true when decoded; false when protobuf-c must decide.
 */
bool mmsim_wire_request_dec(const uint8_t *frame, size_t len,
                            struct mmsim_wire_request *w);

/*
 * Decode the Response in @frame by hand, into messages allocated the way
 * protobuf-c's unpack allocates them with the default allocator (malloc;
 * one block per message, per string and per non-empty bytes field), so
 * protobuf_c_message_free_unpacked(..., NULL) frees either kind alike.
 * Return: the response; NULL with *@oom false when protobuf-c must decode
 * it, with *@oom true when out of memory.
 */
Mmsim__V1__Response *mmsim_wire_response_dec(const uint8_t *frame, size_t len,
                                             bool *oom);

/*
 * Free a Response unpacked with the default allocator, by hand or by
 * protobuf-c (the two allocate alike): the hot shapes directly, the rest
 * (and anything with unknown fields) through
 * protobuf_c_message_free_unpacked(), which walks the descriptors.
 */
void mmsim_wire_response_free(Mmsim__V1__Response *r);

#ifdef __cplusplus
}
#endif

#endif /* MMSIM_WIRE_H */
