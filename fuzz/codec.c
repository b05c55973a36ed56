/*
 * codec.c - fuzz the hand-made codecs of the hot messages (proto/wire.c,
 * mmsim/wire.h) against protobuf-c 1.4.1, the judge: the input's bytes
 * decoded both ways, and whatever protobuf-c makes of them encoded both
 * ways.
 *
 * DOC: input
 *
 * [mode u8][message bytes]
 *
 * - mode & 1 chooses the message: 0 a Request (mmsim_wire_request_dec(),
 *   mmsim_wire_request_enc()), 1 a Response (mmsim_wire_response_dec(),
 *   mmsim_wire_response_enc()). The other bits are ignored.
 * - the rest is the message as it would arrive in a frame, without the
 *   frame's length header.
 *
 * DOC: what is checked
 *
 * - Whenever the hand decoder takes the bytes, protobuf-c's unpack
 *   succeeds too and makes the same message: every field and has_ flag
 *   the same, defaults where absent (AllocPages.node -1), no unknown
 *   fields, and the same packed bytes. A Request's bytes fields point
 *   into the input, and an empty one has data NULL as protobuf-c's; a
 *   Response is freed with protobuf_c_message_free_unpacked(NULL
 *   allocator), so ASan sees any block it did not allocate like
 *   protobuf-c, and LeakSanitizer any it forgot. It is never "out of
 *   memory" (*oom) when it refuses. protobuf-c's Response is freed with
 *   mmsim_wire_response_free(), the other way round.
 * - Whenever protobuf-c's unpack succeeds with a hot message (a Request
 *   whose operation is Ping, AllocPages, FreePages, ReadPage or
 *   WritePage; a Response whose result is none, AllocReply, ReadReply or
 *   Pong) without unknown fields, the hand encoder takes it and writes
 *   exactly protobuf-c's packed bytes, and the hand decoder takes those
 *   bytes back (a Response unless its status is negative, which the hand
 *   decoder leaves to protobuf-c by design). Any other message the hand
 *   encoder refuses.
 * - What the hand decoder made, encoded by hand, is protobuf-c's packing
 *   of what protobuf-c made.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mmsim/wire.h"

/* The start of the input in hex, for findings. */
FZ_NOCOV static const char *hex(const uint8_t *p, size_t len)
{
    static char s[3 * 64 + 32];
    size_t k = 0;

    for (size_t i = 0; i < len && i < 64; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%02x ", p[i]);
    snprintf(s + k, sizeof(s) - k, "%s(%zu bytes)", len > 64 ? "... " : "",
             len);
    return s;
}

/* @m packed by protobuf-c, in a block of exactly its size. */
FZ_NOCOV static uint8_t *pb_pack(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);

    FZ_CHECK(b, "out of host memory");
    FZ_CHECK(protobuf_c_message_pack(m, b) == n,
             "protobuf-c packs other than its size");
    *len = n;
    return b;
}

/* The same packed bytes. */
FZ_NOCOV static bool same_packing(const ProtobufCMessage *a,
                                  const ProtobufCMessage *b)
{
    size_t na, nb;
    uint8_t *pa = pb_pack(a, &na), *pb = pb_pack(b, &nb);
    bool same = na == nb && !memcmp(pa, pb, na);

    free(pa);
    free(pb);
    return same;
}

/* A decoded bytes field, as protobuf-c makes them: empty is NULL. */
FZ_NOCOV static bool same_bytes(const ProtobufCBinaryData *a,
                                const ProtobufCBinaryData *b)
{
    if (a->len != b->len)
        return false;
    if (!a->len)
        return !a->data && !b->data;
    return a->data && b->data && !memcmp(a->data, b->data, a->len);
}

FZ_NOCOV static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

#define SAME(f) (got->f == want->f)

/* ---- requests ------------------------------------------------------------ */

FZ_NOCOV static bool hot_request(const Mmsim__V1__Request *r)
{
    switch (r->op_case) {
    case MMSIM__V1__REQUEST__OP_PING:
    case MMSIM__V1__REQUEST__OP_ALLOC:
    case MMSIM__V1__REQUEST__OP_FREE:
    case MMSIM__V1__REQUEST__OP_READ:
    case MMSIM__V1__REQUEST__OP_WRITE:
        /* Every op member is a message pointer in one union. */
        return !r->base.n_unknown_fields && r->ping &&
               !((const ProtobufCMessage *)r->ping)->n_unknown_fields;
    default:
        return false;
    }
}

/* Return: NULL when @got (by hand) is @want (protobuf-c's), else what
 * differs. */
FZ_NOCOV static const char *request_diff(const Mmsim__V1__Request *got,
                                         const Mmsim__V1__Request *want)
{
    if (got->base.descriptor != &mmsim__v1__request__descriptor)
        return "descriptor";
    if (!hot_request(want) || !hot_request(got))
        return "not a hot request without unknown fields";
    if (!SAME(has_id) || !SAME(id))
        return "id";
    if (!SAME(op_case))
        return "op_case";
    switch (want->op_case) {
    case MMSIM__V1__REQUEST__OP_PING:
        if (!SAME(ping->has_payload) ||
            !same_bytes(&got->ping->payload, &want->ping->payload))
            return "Ping.payload";
        break;
    case MMSIM__V1__REQUEST__OP_ALLOC:
        if (!SAME(alloc->has_order) || !SAME(alloc->order))
            return "AllocPages.order";
        if (!SAME(alloc->has_gfp) || !SAME(alloc->gfp))
            return "AllocPages.gfp";
        if (!SAME(alloc->has_node) || !SAME(alloc->node))
            return "AllocPages.node";
        break;
    case MMSIM__V1__REQUEST__OP_FREE:
        if (!SAME(free->has_pfn) || !SAME(free->pfn))
            return "FreePages.pfn";
        if (!SAME(free->has_order) || !SAME(free->order))
            return "FreePages.order";
        break;
    case MMSIM__V1__REQUEST__OP_READ:
        if (!SAME(read->has_pfn) || !SAME(read->pfn))
            return "ReadPage.pfn";
        if (!SAME(read->has_offset) || !SAME(read->offset))
            return "ReadPage.offset";
        if (!SAME(read->has_length) || !SAME(read->length))
            return "ReadPage.length";
        break;
    default:
        if (!SAME(write->has_pfn) || !SAME(write->pfn))
            return "WritePage.pfn";
        if (!SAME(write->has_offset) || !SAME(write->offset))
            return "WritePage.offset";
        if (!SAME(write->has_data) ||
            !same_bytes(&got->write->data, &want->write->data))
            return "WritePage.data";
        break;
    }
    if (!same_packing(&got->base, &want->base))
        return "packed bytes";
    return NULL;
}

/* Borrowed bytes lie inside [p, p + len). */
FZ_NOCOV static bool inside(const ProtobufCBinaryData *b, const uint8_t *p,
                            size_t len)
{
    return !b->len ||
           (b->data >= p && b->len <= len && b->data <= p + (len - b->len));
}

/*
 * Hand-encode @req. Return: false when the encoder leaves it to
 * protobuf-c; true when it wrote exactly protobuf-c's bytes (else abort).
 */
FZ_NOCOV static bool request_enc(const Mmsim__V1__Request *req,
                                 const uint8_t *in, size_t in_len)
{
    struct mmsim_wire_enc e;
    uint8_t *want, *got;
    size_t n;

    if (!mmsim_wire_request_enc(req, &e))
        return false;
    want = pb_pack(&req->base, &n);
    FZ_CHECK(e.size == n, "Request enc: size %zu, protobuf-c packs %zu: %s",
             e.size, n, hex(in, in_len));
    got = malloc(n ? n : 1);
    FZ_CHECK(got, "out of host memory");
    FZ_CHECK(mmsim_wire_put(&e, got) == got + n,
             "Request put: wrote other than size: %s", hex(in, in_len));
    FZ_CHECK(!memcmp(got, want, n),
             "Request enc: bytes differ from protobuf-c's %s", hex(want, n));
    free(got);
    free(want);
    return true;
}

static void fuzz_request(const uint8_t *p, size_t len)
{
    Mmsim__V1__Request *ref = mmsim__v1__request__unpack(NULL, len, p);
    struct mmsim_wire_request w;
    bool hand = mmsim_wire_request_dec(p, len, &w);

    if (hand) {
        const char *diff;

        FZ_CHECK(ref,
                 "Request: the hand decoder takes what protobuf-c "
                 "refuses: %s",
                 hex(p, len));
        diff = request_diff(&w.req, ref);
        FZ_CHECK(!diff,
                 "Request: hand decoder differs from protobuf-c in %s: %s",
                 diff, hex(p, len));
        FZ_CHECK(w.req.op_case != MMSIM__V1__REQUEST__OP_PING ||
                     inside(&w.req.ping->payload, p, len),
                 "Request: Ping.payload outside the frame: %s", hex(p, len));
        FZ_CHECK(w.req.op_case != MMSIM__V1__REQUEST__OP_WRITE ||
                     inside(&w.req.write->data, p, len),
                 "Request: WritePage.data outside the frame: %s", hex(p, len));
        FZ_CHECK(request_enc(&w.req, p, len),
                 "Request: hand encoder refuses what the hand decoder made: "
                 "%s",
                 hex(p, len));
    }
    if (!ref)
        return;
    if (hot_request(ref)) {
        uint8_t *packed;
        size_t n;
        const char *diff;

        FZ_CHECK(request_enc(ref, p, len),
                 "Request: hand encoder refuses a hot request: %s",
                 hex(p, len));
        packed = pb_pack(&ref->base, &n);
        FZ_CHECK(mmsim_wire_request_dec(packed, n, &w),
                 "Request: hand decoder refuses protobuf-c's packing %s",
                 hex(packed, n));
        diff = request_diff(&w.req, ref);
        FZ_CHECK(!diff, "Request: hand decoder differs in %s on %s", diff,
                 hex(packed, n));
        free(packed);
    } else {
        struct mmsim_wire_enc e;

        FZ_CHECK(!mmsim_wire_request_enc(ref, &e),
                 "Request: hand encoder takes op %d or unknown fields: %s",
                 (int)ref->op_case, hex(p, len));
    }
    mmsim__v1__request__free_unpacked(ref, NULL);
}

/* ---- responses ----------------------------------------------------------- */

FZ_NOCOV static bool hot_response(const Mmsim__V1__Response *r)
{
    if (r->base.n_unknown_fields)
        return false;
    switch (r->result_case) {
    case MMSIM__V1__RESPONSE__RESULT__NOT_SET:
        return true;
    case MMSIM__V1__RESPONSE__RESULT_ALLOC:
    case MMSIM__V1__RESPONSE__RESULT_READ:
    case MMSIM__V1__RESPONSE__RESULT_PONG:
        /* Every result member is a message pointer in one union. */
        return !r->alloc ||
               !((const ProtobufCMessage *)r->alloc)->n_unknown_fields;
    default:
        return false;
    }
}

FZ_NOCOV static const char *response_diff(const Mmsim__V1__Response *got,
                                          const Mmsim__V1__Response *want)
{
    if (got->base.descriptor != &mmsim__v1__response__descriptor)
        return "descriptor";
    if (!hot_response(want) || !hot_response(got))
        return "not a hot response without unknown fields";
    if (!SAME(has_id) || !SAME(id))
        return "id";
    if (!SAME(has_status) || !SAME(status))
        return "status";
    if (!same_str(got->message, want->message))
        return "message";
    if (!SAME(result_case))
        return "result_case";
    if ((got->alloc == NULL) != (want->alloc == NULL))
        return "result pointer";
    switch (want->result_case) {
    case MMSIM__V1__RESPONSE__RESULT_ALLOC:
        if (!SAME(alloc->has_pfn) || !SAME(alloc->pfn))
            return "AllocReply.pfn";
        if (!SAME(alloc->has_node) || !SAME(alloc->node))
            return "AllocReply.node";
        if (!same_str(got->alloc->zone, want->alloc->zone))
            return "AllocReply.zone";
        if (!SAME(alloc->has_order) || !SAME(alloc->order))
            return "AllocReply.order";
        break;
    case MMSIM__V1__RESPONSE__RESULT_READ:
        if (!SAME(read->has_data) ||
            !same_bytes(&got->read->data, &want->read->data))
            return "ReadReply.data";
        break;
    case MMSIM__V1__RESPONSE__RESULT_PONG:
        if (!SAME(pong->has_payload) ||
            !same_bytes(&got->pong->payload, &want->pong->payload))
            return "Pong.payload";
        break;
    default:
        break;
    }
    if (!same_packing(&got->base, &want->base))
        return "packed bytes";
    return NULL;
}

FZ_NOCOV static bool response_enc(const Mmsim__V1__Response *r,
                                  const uint8_t *in, size_t in_len)
{
    struct mmsim_wire_enc e;
    uint8_t *want, *got;
    size_t n;

    if (!mmsim_wire_response_enc(r, &e))
        return false;
    want = pb_pack(&r->base, &n);
    FZ_CHECK(e.size == n, "Response enc: size %zu, protobuf-c packs %zu: %s",
             e.size, n, hex(in, in_len));
    got = malloc(n ? n : 1);
    FZ_CHECK(got, "out of host memory");
    FZ_CHECK(mmsim_wire_put(&e, got) == got + n,
             "Response put: wrote other than size: %s", hex(in, in_len));
    FZ_CHECK(!memcmp(got, want, n),
             "Response enc: bytes differ from protobuf-c's %s", hex(want, n));
    free(got);
    free(want);
    return true;
}

static void fuzz_response(const uint8_t *p, size_t len)
{
    Mmsim__V1__Response *ref = mmsim__v1__response__unpack(NULL, len, p);
    bool oom = true;
    Mmsim__V1__Response *got = mmsim_wire_response_dec(p, len, &oom);

    if (got) {
        const char *diff;

        FZ_CHECK(ref,
                 "Response: the hand decoder takes what protobuf-c "
                 "refuses: %s",
                 hex(p, len));
        diff = response_diff(got, ref);
        FZ_CHECK(!diff,
                 "Response: hand decoder differs from protobuf-c in %s: %s",
                 diff, hex(p, len));
        FZ_CHECK(response_enc(got, p, len),
                 "Response: hand encoder refuses what the hand decoder made: "
                 "%s",
                 hex(p, len));
        protobuf_c_message_free_unpacked(&got->base, NULL);
    } else {
        FZ_CHECK(!oom, "Response: hand decoder out of memory: %s", hex(p, len));
    }
    if (!ref)
        return;
    if (hot_response(ref)) {
        uint8_t *packed;
        size_t n;

        FZ_CHECK(response_enc(ref, p, len),
                 "Response: hand encoder refuses a hot response: %s",
                 hex(p, len));
        packed = pb_pack(&ref->base, &n);
        got = mmsim_wire_response_dec(packed, n, &oom);
        if (!ref->has_status || (int32_t)ref->status >= 0)
            FZ_CHECK(got,
                     "Response: hand decoder refuses protobuf-c's "
                     "packing %s",
                     hex(packed, n));
        if (got) {
            const char *diff = response_diff(got, ref);

            FZ_CHECK(!diff, "Response: hand decoder differs in %s on %s", diff,
                     hex(packed, n));
            protobuf_c_message_free_unpacked(&got->base, NULL);
        }
        free(packed);
    } else {
        struct mmsim_wire_enc e;

        FZ_CHECK(!mmsim_wire_response_enc(ref, &e),
                 "Response: hand encoder takes result %d or unknown fields: "
                 "%s",
                 (int)ref->result_case, hex(p, len));
    }
    /* The client's fast free, on what protobuf-c allocated. */
    mmsim_wire_response_free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    unsigned mode = fz_u8(&in);

    if (mode & 1)
        fuzz_response(in.p, in.n);
    else
        fuzz_request(in.p, in.n);
    return 0;
}
