/*
 * test-wire.c - the hand-made codecs of proto/wire.c held to protobuf-c
 * 1.4.1, byte for byte, with no socket in between:
 *
 * - the encoders give exactly protobuf-c's packing of seeded random hot
 *   Requests and Responses (values at the edges of every varint length,
 *   negative nodes and statuses, empty and 4 KiB bytes fields), and
 *   refuse the other operations and results and unknown fields;
 * - the decoders give what protobuf-c's unpack gives whenever they take
 *   a message at all (borrowed bytes inside the frame, empty ones NULL;
 *   responses freeable by protobuf_c_message_free_unpacked()), refuse
 *   the doubtful shapes listed in mmsim/wire.h, and stay equivalent over
 *   every truncation and many mutations of valid frames.
 *
 * Two messages are compared field by field and by their protobuf-c
 * packing, which is canonical. Random choices come from MMSIM_TEST_SEED
 * (default DEFAULT_SEED), printed once so a failure can be replayed:
 * MMSIM_TEST_SEED=N ./test-wire.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmsim/wire.h"

#define DEFAULT_SEED UINT64_C(20240611)
#define NR_RANDOM    4000 /* random messages per direction */
#define NR_MUTANTS   64   /* random valid frames mutated per direction */
#define MUTATE_BYTES 48   /* positions mutated per frame, from the start */

static uint64_t seed = DEFAULT_SEED;
static uint64_t rng;

/* Each test draws from its own stream, so one test alone replays too. */
static void rng_start(unsigned salt)
{
    rng = seed ^ (UINT64_C(0x9e3779b97f4a7c15) * (salt + 1));
}

/* splitmix64 */
static uint64_t rnd(void)
{
    uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

static bool coin(void)
{
    return rnd() & 1;
}

#define PICK(table) ((table)[rnd_below(sizeof(table) / sizeof((table)[0]))])

/* Values around every varint length, and the extremes. */
static uint64_t rnd_u64(void)
{
    static const uint64_t edges[] = {
        0,
        1,
        127,
        128,
        16383,
        16384,
        UINT32_MAX,
        UINT64_C(1) << 32,
        INT64_MAX,
        UINT64_C(1) << 63,
        UINT64_MAX - 1,
        UINT64_MAX,
    };

    switch (rnd_below(4)) {
    case 0:
    case 1:
        return PICK(edges);
    case 2:
        return rnd() >> rnd_below(64);
    default:
        return rnd();
    }
}

static uint32_t rnd_u32(void)
{
    static const uint32_t edges[] = {
        0,          1,     127,       128,      16383,
        16384,      65535, INT32_MAX, 1u << 31, UINT32_MAX - 1,
        UINT32_MAX,
    };

    return coin() ? PICK(edges) : (uint32_t)(rnd() >> rnd_below(64));
}

static int32_t rnd_i32(void)
{
    static const int32_t edges[] = {
        0,
        1,
        -1,
        -2,
        127,
        128,
        -128,
        INT32_MAX,
        INT32_MIN,
        INT32_MIN + 1,
        INT32_MAX - 1,
    };

    return coin() ? PICK(edges) : (int32_t)(uint32_t)rnd();
}

/* Bytes for bytes fields and strings: a pattern, never NUL. */
static uint8_t pattern[4096 + 512];

static ProtobufCBinaryData rnd_bytes(void)
{
    static const size_t lens[] = {0, 1, 2, 127, 128, 4096};
    ProtobufCBinaryData b;

    b.len = coin() ? PICK(lens) : (size_t)rnd_below(300);
    b.data = pattern + rnd_below(sizeof(pattern) - b.len + 1);
    if (!b.len && coin())
        b.data = NULL;
    return b;
}

/* ---- helpers ---------------------------------------------------------- */

/* A copy of @len bytes in a block of exactly that size (ASan sees past). */
static uint8_t *dup_frame(const void *p, size_t len)
{
    uint8_t *f = malloc(len ? len : 1);

    assert_non_null(f);
    if (len)
        memcpy(f, p, len);
    return f;
}

/* The first bytes of @p in hex, for messages. */
static const char *hex(const uint8_t *p, size_t len)
{
    static char s[3 * 96 + 8];
    size_t k = 0;

    for (size_t i = 0; i < len && i < 96; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%02x ", p[i]);
    snprintf(s + k, sizeof(s) - k, "%s(%zu bytes)", len > 96 ? "... " : "",
             len);
    return s;
}

/* @m packed by protobuf-c, in a block of exactly its size. */
static uint8_t *pb_pack(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);

    assert_non_null(b);
    assert_int_equal(protobuf_c_message_pack(m, b), n);
    *len = n;
    return b;
}

/* Equal as protobuf-c sees it: the same packed bytes. */
static void assert_same_packing(const ProtobufCMessage *got,
                                const ProtobufCMessage *want)
{
    size_t ng, nw;
    uint8_t *g = pb_pack(got, &ng), *w = pb_pack(want, &nw);

    assert_int_equal(ng, nw);
    assert_memory_equal(g, w, nw);
    free(g);
    free(w);
}

/* A decoded bytes field: empty ones have data NULL, as protobuf-c's. */
static void assert_bytes_equal(const ProtobufCBinaryData *got,
                               const ProtobufCBinaryData *want)
{
    assert_int_equal(got->len, want->len);
    if (!want->len) {
        assert_null(want->data);
        assert_null(got->data);
    } else {
        assert_non_null(got->data);
        assert_memory_equal(got->data, want->data, want->len);
    }
}

/* Borrowed bytes lie inside the frame. */
static void assert_inside(const ProtobufCBinaryData *b, const uint8_t *frame,
                          size_t len)
{
    if (!b->len)
        return;
    assert_true(b->data >= frame);
    assert_true(b->len <= len && b->data <= frame + (len - b->len));
}

static void assert_str_equal(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

/* ---- requests ---------------------------------------------------------- */

/* A Request and room for its operation. */
struct req_buf {
    Mmsim__V1__Request req;
    Mmsim__V1__Ping ping;
    Mmsim__V1__AllocPages alloc;
    Mmsim__V1__FreePages free;
    Mmsim__V1__ReadPage read;
    Mmsim__V1__WritePage write;
};

/*
 * A random hot Request. Fields whose has_ flag is clear hold random
 * values too: the encoders must leave them out.
 */
static void random_request(struct req_buf *rb)
{
    Mmsim__V1__Request *req = &rb->req;

    mmsim__v1__request__init(req);
    req->has_id = coin();
    req->id = rnd_u64();
    switch (rnd_below(5)) {
    case 0:
        mmsim__v1__ping__init(&rb->ping);
        rb->ping.has_payload = coin();
        rb->ping.payload = rnd_bytes();
        req->op_case = MMSIM__V1__REQUEST__OP_PING;
        req->ping = &rb->ping;
        break;
    case 1:
        mmsim__v1__alloc_pages__init(&rb->alloc);
        rb->alloc.has_order = coin();
        rb->alloc.order = rnd_u32();
        rb->alloc.has_gfp = coin();
        rb->alloc.gfp = rnd_u32();
        rb->alloc.has_node = coin();
        rb->alloc.node = rnd_i32();
        req->op_case = MMSIM__V1__REQUEST__OP_ALLOC;
        req->alloc = &rb->alloc;
        break;
    case 2:
        mmsim__v1__free_pages__init(&rb->free);
        rb->free.has_pfn = coin();
        rb->free.pfn = rnd_u64();
        rb->free.has_order = coin();
        rb->free.order = rnd_u32();
        req->op_case = MMSIM__V1__REQUEST__OP_FREE;
        req->free = &rb->free;
        break;
    case 3:
        mmsim__v1__read_page__init(&rb->read);
        rb->read.has_pfn = coin();
        rb->read.pfn = rnd_u64();
        rb->read.has_offset = coin();
        rb->read.offset = rnd_u32();
        rb->read.has_length = coin();
        rb->read.length = rnd_u32();
        req->op_case = MMSIM__V1__REQUEST__OP_READ;
        req->read = &rb->read;
        break;
    default:
        mmsim__v1__write_page__init(&rb->write);
        rb->write.has_pfn = coin();
        rb->write.pfn = rnd_u64();
        rb->write.has_offset = coin();
        rb->write.offset = rnd_u32();
        rb->write.has_data = coin();
        rb->write.data = rnd_bytes();
        req->op_case = MMSIM__V1__REQUEST__OP_WRITE;
        req->write = &rb->write;
        break;
    }
}

/* @got, decoded by hand, is @want, what protobuf-c's unpack made. */
static void assert_request_equal(const Mmsim__V1__Request *got,
                                 const Mmsim__V1__Request *want)
{
    assert_ptr_equal(got->base.descriptor, &mmsim__v1__request__descriptor);
    assert_int_equal(got->base.n_unknown_fields, 0);
    assert_int_equal(want->base.n_unknown_fields, 0);
    assert_int_equal(got->has_id, want->has_id);
    assert_int_equal(got->id, want->id);
    assert_int_equal(got->op_case, want->op_case);
    switch (want->op_case) {
    case MMSIM__V1__REQUEST__OP_PING:
        assert_int_equal(got->ping->base.n_unknown_fields, 0);
        assert_int_equal(got->ping->has_payload, want->ping->has_payload);
        assert_bytes_equal(&got->ping->payload, &want->ping->payload);
        break;
    case MMSIM__V1__REQUEST__OP_ALLOC:
        assert_int_equal(got->alloc->base.n_unknown_fields, 0);
        assert_int_equal(got->alloc->has_order, want->alloc->has_order);
        assert_int_equal(got->alloc->order, want->alloc->order);
        assert_int_equal(got->alloc->has_gfp, want->alloc->has_gfp);
        assert_int_equal(got->alloc->gfp, want->alloc->gfp);
        assert_int_equal(got->alloc->has_node, want->alloc->has_node);
        assert_int_equal(got->alloc->node, want->alloc->node); /* -1 absent */
        break;
    case MMSIM__V1__REQUEST__OP_FREE:
        assert_int_equal(got->free->base.n_unknown_fields, 0);
        assert_int_equal(got->free->has_pfn, want->free->has_pfn);
        assert_int_equal(got->free->pfn, want->free->pfn);
        assert_int_equal(got->free->has_order, want->free->has_order);
        assert_int_equal(got->free->order, want->free->order);
        break;
    case MMSIM__V1__REQUEST__OP_READ:
        assert_int_equal(got->read->base.n_unknown_fields, 0);
        assert_int_equal(got->read->has_pfn, want->read->has_pfn);
        assert_int_equal(got->read->pfn, want->read->pfn);
        assert_int_equal(got->read->has_offset, want->read->has_offset);
        assert_int_equal(got->read->offset, want->read->offset);
        assert_int_equal(got->read->has_length, want->read->has_length);
        assert_int_equal(got->read->length, want->read->length);
        break;
    case MMSIM__V1__REQUEST__OP_WRITE:
        assert_int_equal(got->write->base.n_unknown_fields, 0);
        assert_int_equal(got->write->has_pfn, want->write->has_pfn);
        assert_int_equal(got->write->pfn, want->write->pfn);
        assert_int_equal(got->write->has_offset, want->write->has_offset);
        assert_int_equal(got->write->offset, want->write->offset);
        assert_int_equal(got->write->has_data, want->write->has_data);
        assert_bytes_equal(&got->write->data, &want->write->data);
        break;
    default:
        fail_msg("hand decoder made a Request with op_case %d",
                 (int)want->op_case);
    }
    assert_same_packing(&got->base, &want->base);
}

/*
 * Hand-encode @req. Return: false when the encoder leaves it to
 * protobuf-c; when it takes it, its bytes must be protobuf-c's.
 */
static bool check_request_enc(const Mmsim__V1__Request *req)
{
    struct mmsim_wire_enc e;
    uint8_t *want, *got;
    size_t n;

    memset(&e, 0xa5, sizeof(e)); /* nothing stale may count */
    if (!mmsim_wire_request_enc(req, &e))
        return false;
    want = pb_pack(&req->base, &n);
    assert_int_equal(e.size, n);
    got = malloc(n ? n : 1);
    assert_non_null(got);
    assert_ptr_equal(mmsim_wire_put(&e, got), got + n);
    if (memcmp(got, want, n) != 0)
        fail_msg("hand encoding differs from protobuf-c's %s", hex(want, n));
    free(got);
    free(want);
    return true;
}

/*
 * Decode @len bytes at @bytes both ways. Whenever the hand decoder takes
 * them, protobuf-c must too, and make the same message; its bytes
 * fields point into the frame; encoding it by hand gives protobuf-c's
 * packing back. Return: whether the hand decoder took them.
 */
static bool check_request(const void *bytes, size_t len)
{
    uint8_t *frame = dup_frame(bytes, len);
    Mmsim__V1__Request *ref = mmsim__v1__request__unpack(NULL, len, frame);
    struct mmsim_wire_request w;
    bool hand;

    memset(&w, 0x5a, sizeof(w));
    hand = mmsim_wire_request_dec(frame, len, &w);
    if (hand) {
        if (!ref) {
            fail_msg("hand decoder takes a Request protobuf-c refuses: %s",
                     hex(frame, len));
            free(frame); /* not reached */
            return true;
        }
        assert_request_equal(&w.req, ref);
        if (w.req.op_case == MMSIM__V1__REQUEST__OP_PING)
            assert_inside(&w.req.ping->payload, frame, len);
        if (w.req.op_case == MMSIM__V1__REQUEST__OP_WRITE)
            assert_inside(&w.req.write->data, frame, len);
        assert_true(check_request_enc(&w.req));
    }
    if (ref)
        mmsim__v1__request__free_unpacked(ref, NULL);
    free(frame);
    return hand;
}

/*
 * Seeded random hot Requests: the hand encoding is protobuf-c's, and the
 * hand decoder takes protobuf-c's bytes back to the same message.
 */
static void test_request_random(void **state)
{
    (void)state;
    rng_start(1);
    for (int i = 0; i < NR_RANDOM; i++) {
        struct req_buf rb;
        uint8_t *bytes;
        size_t n;

        random_request(&rb);
        assert_true(check_request_enc(&rb.req));
        bytes = pb_pack(&rb.req.base, &n);
        if (!check_request(bytes, n))
            fail_msg("hand decoder refuses protobuf-c's packing %s",
                     hex(bytes, n));
        free(bytes);
    }
}

/* Requests protobuf-c alone packs: other operations, unknown fields. */
static void test_request_enc_refusals(void **state)
{
    static uint8_t token[] = {1, 2, 3};
    static uint8_t five = 5;
    ProtobufCMessageUnknownField unknown = {.tag = 50,
                                            .wire_type =
                                                PROTOBUF_C_WIRE_TYPE_VARINT,
                                            .len = 1,
                                            .data = &five};
    Mmsim__V1__Request req;
    Mmsim__V1__Hello hello;
    Mmsim__V1__GetView view;
    Mmsim__V1__AllocPages allocs[2], *allocp[2] = {&allocs[0], &allocs[1]};
    Mmsim__V1__AllocBatch batch;
    Mmsim__V1__Check check;
    Mmsim__V1__Mmap mmap_;
    Mmsim__V1__GetMachine machine;
    struct req_buf rb;

    (void)state;
    rng_start(2);
    mmsim__v1__hello__init(&hello);
    hello.has_protocol_version = 1;
    hello.protocol_version = 1;
    hello.client_name = "test-wire";
    hello.has_token = 1;
    hello.token.data = token;
    hello.token.len = sizeof(token);
    mmsim__v1__get_view__init(&view);
    view.has_kind = 1;
    view.kind = MMSIM__V1__VIEW_KIND__ZONEINFO;
    for (int i = 0; i < 2; i++) {
        mmsim__v1__alloc_pages__init(&allocs[i]);
        allocs[i].has_order = 1;
        allocs[i].order = (uint32_t)i;
    }
    mmsim__v1__alloc_batch__init(&batch);
    batch.n_allocs = 2;
    batch.allocs = allocp;
    mmsim__v1__check__init(&check);
    check.has_full = 1;
    check.full = 1;
    mmsim__v1__mmap__init(&mmap_);
    mmap_.has_nr_pages = 1;
    mmap_.nr_pages = 16;
    mmap_.has_node = 1;
    mmap_.node = -1;
    mmsim__v1__get_machine__init(&machine);

    mmsim__v1__request__init(&req);
    req.has_id = 1;
    req.id = 7;
    for (int op = 0; op < 6; op++) {
        uint8_t *bytes;
        size_t n;

        switch (op) {
        case 0:
            req.op_case = MMSIM__V1__REQUEST__OP_HELLO;
            req.hello = &hello;
            break;
        case 1:
            req.op_case = MMSIM__V1__REQUEST__OP_VIEW;
            req.view = &view;
            break;
        case 2:
            req.op_case = MMSIM__V1__REQUEST__OP_ALLOC_BATCH;
            req.alloc_batch = &batch;
            break;
        case 3:
            req.op_case = MMSIM__V1__REQUEST__OP_CHECK;
            req.check = &check;
            break;
        case 4:
            req.op_case = MMSIM__V1__REQUEST__OP_MMAP;
            req.mmap = &mmap_;
            break;
        default:
            req.op_case = MMSIM__V1__REQUEST__OP_MACHINE;
            req.machine = &machine;
            break;
        }
        assert_false(check_request_enc(&req));
        bytes = pb_pack(&req.base, &n);
        assert_false(check_request(bytes, n));
        free(bytes);
    }

    /* Unknown fields, on the Request or on its operation. */
    for (int i = 0; i < 200; i++) {
        ProtobufCMessage *m;
        uint8_t *bytes;
        size_t n;

        random_request(&rb);
        m = coin() ? &rb.req.base : (ProtobufCMessage *)rb.req.ping;
        m->n_unknown_fields = 1;
        m->unknown_fields = &unknown;
        assert_false(check_request_enc(&rb.req));
        bytes = pb_pack(&rb.req.base, &n);
        assert_false(check_request(bytes, n));
        free(bytes);
    }

    /* No operation, or a case without its message: protobuf-c's bytes or
     * none. */
    mmsim__v1__request__init(&req);
    req.has_id = 1;
    check_request_enc(&req);
    for (unsigned c = MMSIM__V1__REQUEST__OP_HELLO;
         c <= MMSIM__V1__REQUEST__OP_RECLAIM; c++) {
        req.op_case = (Mmsim__V1__Request__OpCase)c;
        check_request_enc(&req);
    }
}

struct bytes {
    const char *what;
    const char *p;
    size_t len;
};

#define B(what, s)                                                             \
    {                                                                          \
        what, s, sizeof(s) - 1                                                 \
    }

/* Requests the hand decoder must leave to protobuf-c. */
static const struct bytes refused_requests[] = {
    B("empty frame", ""),
    B("id only", "\x08\x01"),
    B("unknown field", "\x08\x01\x1a\x00\xf8\x01\x05"),
    B("unknown field first", "\x98\x03\x01\x1a\x00"),
    B("unknown field in Ping", "\x1a\x02\x10\x01"),
    B("unknown field in AllocPages", "\x22\x04\x08\x01\x20\x01"),
    B("unknown field in FreePages", "\x2a\x02\x18\x01"),
    B("unknown field in ReadPage", "\x42\x02\x20\x01"),
    B("unknown field in WritePage", "\x4a\x02\x20\x01"),
    B("id twice", "\x08\x01\x08\x02\x1a\x00"),
    B("id twice, same value", "\x08\x01\x1a\x00\x08\x01"),
    B("AllocPages.order twice", "\x22\x04\x08\x01\x08\x02"),
    B("FreePages.pfn twice", "\x2a\x04\x08\x01\x08\x01"),
    B("ReadPage.length twice", "\x42\x04\x18\x01\x18\x02"),
    B("Ping.payload twice", "\x1a\x06\x0a\x01\x61\x0a\x01\x62"),
    B("WritePage.data twice", "\x4a\x04\x1a\x00\x1a\x00"),
    B("two operations", "\x1a\x00\x22\x00"),
    B("one operation twice", "\x2a\x02\x08\x01\x2a\x02\x10\x01"),
    B("hot and other operation", "\x22\x00\x5a\x00"),
    B("id as bytes", "\x0a\x01\x00\x1a\x00"),
    B("operation as varint", "\x08\x01\x18\x00"),
    B("AllocPages.order as bytes", "\x22\x03\x0a\x01\x00"),
    B("Ping.payload as varint", "\x1a\x02\x08\x00"),
    B("WritePage.data as varint", "\x4a\x02\x18\x00"),
    B("id as fixed64", "\x09\x01\x00\x00\x00\x00\x00\x00\x00\x1a\x00"),
    B("id as fixed32", "\x0d\x01\x00\x00\x00\x1a\x00"),
    B("FreePages.pfn as fixed64", "\x2a\x09\x09\x01\x00\x00\x00\x00\x00\x00"
                                  "\x00"),
    B("start group", "\x0b\x0c\x1a\x00"),
    B("end group", "\x1a\x00\x0c"),
    B("wire type 6", "\x0e\x00\x1a\x00"),
    B("wire type 7", "\x1a\x00\x0f\x00"),
    B("field number 0", "\x00\x00\x1a\x00"),
    B("field number 0, bytes", "\x02\x00\x1a\x00"),
    B("field number 0, two-byte tag", "\x80\x00\x1a\x00"),
    B("field number 0 in ReadPage", "\x42\x02\x00\x00"),
    B("11-byte id", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x1a"
                    "\x00"),
    B("11-byte pfn", "\x2a\x0c\x08\x81\x80\x80\x80\x80\x80\x80\x80\x80\x80"
                     "\x00"),
    B("11-byte tag", "\x88\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x01\x1a"
                     "\x00"),
    B("11-byte length", "\x1a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
    B("10-byte id, last byte 2", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80"
                                 "\x02\x1a\x00"),
    B("10-byte id, last byte 0x7f", "\x08\xff\xff\xff\xff\xff\xff\xff\xff"
                                    "\xff\x7f\x1a\x00"),
    B("10-byte pfn, last byte 2", "\x2a\x0b\x08\xff\xff\xff\xff\xff\xff\xff"
                                  "\xff\xff\x02"),
    B("unterminated varint", "\x1a\x00\x08\x80"),
    B("AllocPages.order 2^32", "\x22\x06\x08\x80\x80\x80\x80\x10"),
    B("AllocPages.gfp 2^64-1", "\x22\x0b\x10\xff\xff\xff\xff\xff\xff\xff"
                               "\xff\xff\x01"),
    B("FreePages.order 2^32", "\x2a\x06\x10\x80\x80\x80\x80\x10"),
    B("ReadPage.offset 2^35", "\x42\x07\x10\x80\x80\x80\x80\x80\x01"),
    B("ReadPage.length 2^32+1", "\x42\x06\x18\x81\x80\x80\x80\x10"),
    B("WritePage.offset 2^32", "\x4a\x06\x10\x80\x80\x80\x80\x10"),
    B("AllocPages.node 2^31", "\x22\x06\x18\x80\x80\x80\x80\x08"),
    B("AllocPages.node 2^32-1", "\x22\x06\x18\xff\xff\xff\xff\x0f"),
    B("AllocPages.node 2^32", "\x22\x06\x18\x80\x80\x80\x80\x10"),
    B("AllocPages.node 2^63", "\x22\x0b\x18\x80\x80\x80\x80\x80\x80\x80\x80"
                              "\x80\x01"),
    B("AllocPages.node INT32_MIN-1", "\x22\x0b\x18\xff\xff\xff\xff\xf7\xff"
                                     "\xff\xff\xff\x01"),
    B("operation past the end", "\x1a\x05\x0a\x01"),
    B("bytes past the end of the operation",
      "\x4a\x04\x1a\x05\x61\x62\x08\x01"),
    B("varint past the end of the operation", "\x2a\x02\x08\x80\x01"),
    B("length prefix 2^31", "\x1a\x80\x80\x80\x80\x08"),
    B("length prefix 2^64-1", "\x1a\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                              "\x01"),
};

/* Requests the hand decoder may take or leave; if it takes them, it must
 * agree with protobuf-c. */
static const struct bytes edge_requests[] = {
    B("fields out of order", "\x22\x04\x10\x05\x08\x03"),
    B("operation before id", "\x1a\x00\x08\x05"),
    B("node INT32_MIN", "\x22\x0b\x18\x80\x80\x80\x80\xf8\xff\xff\xff\xff"
                        "\x01"),
    B("node -1", "\x22\x0b\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    B("node INT32_MAX", "\x22\x06\x18\xff\xff\xff\xff\x07"),
    B("node 0", "\x22\x02\x18\x00"),
    B("pfn 2^64-1", "\x2a\x0b\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    B("order 2^32-1", "\x2a\x06\x10\xff\xff\xff\xff\x0f"),
    B("two-byte id, overlong", "\x08\x81\x00\x1a\x00"),
    B("10-byte id 1, overlong", "\x08\x81\x80\x80\x80\x80\x80\x80\x80\x80"
                                "\x00\x1a\x00"),
    B("two-byte tag, overlong", "\x88\x00\x01\x1a\x00"),
    B("two-byte length, overlong", "\x1a\x80\x00"),
    B("empty Ping payload", "\x1a\x02\x0a\x00"),
    B("empty WritePage data", "\x4a\x02\x1a\x00"),
    B("empty operations", "\x22\x00"),
};

/* Byte values for mutants: varint edges, and tags of the message's fields. */
#define VALS 14
static const uint8_t request_vals[VALS] = {0x00, 0x01, 0x02, 0x07, 0x08,
                                           0x0a, 0x10, 0x12, 0x1a, 0x22,
                                           0x7f, 0x80, 0x81, 0xff};
static const uint8_t response_vals[VALS] = {0x00, 0x01, 0x02, 0x07, 0x08,
                                            0x0a, 0x10, 0x12, 0x2a, 0x32,
                                            0x4a, 0x7f, 0x80, 0xff};

/*
 * Every truncation of @bytes, and mutants of it (each of the first
 * MUTATE_BYTES bytes set to each of @vals, flipped at random, left out,
 * one put in before it; a few bytes changed at once) through @check,
 * counting which the hand decoder took and which it left to protobuf-c.
 */
static void mutate(const uint8_t *bytes, size_t n,
                   bool (*check)(const void *, size_t),
                   const uint8_t vals[VALS], unsigned long *taken,
                   unsigned long *left)
{
    uint8_t *mut = malloc(n + 2);

    assert_non_null(mut);
#define CHECK(p, len) (++*(check(p, len) ? taken : left))
    for (size_t k = 0; k <= n; k++)
        CHECK(bytes, k);
    for (size_t k = 0; k < n && k < MUTATE_BYTES; k++) {
        for (size_t v = 0; v < VALS; v++) {
            memcpy(mut, bytes, n);
            mut[k] = vals[v];
            CHECK(mut, n);
        }
        memcpy(mut, bytes, n);
        mut[k] ^= (uint8_t)(1 + rnd_below(255));
        CHECK(mut, n);
        memcpy(mut, bytes, k);
        memcpy(mut + k, bytes + k + 1, n - k - 1);
        CHECK(mut, n - 1);
        memcpy(mut, bytes, k);
        mut[k] = (uint8_t)rnd();
        memcpy(mut + k + 1, bytes + k, n - k);
        CHECK(mut, n + 1);
    }
    for (int j = 0; j < 64 && n; j++) {
        memcpy(mut, bytes, n);
        for (int m = 0; m < 3; m++)
            mut[rnd_below(n)] = (uint8_t)rnd();
        CHECK(mut, n);
    }
#undef CHECK
    free(mut);
}

/*
 * Hand-made Requests: every doubtful shape is refused, the rest agree
 * with protobuf-c; then every truncation and many mutations of valid
 * frames agree with protobuf-c whenever the hand decoder takes them.
 */
static void test_request_dec(void **state)
{
    unsigned long taken = 0, left = 0;

    (void)state;
    rng_start(3);
    for (size_t i = 0; i < sizeof(refused_requests) / sizeof(*refused_requests);
         i++) {
        const struct bytes *b = &refused_requests[i];

        if (check_request(b->p, b->len))
            fail_msg("hand decoder takes a Request with %s: %s", b->what,
                     hex((const uint8_t *)b->p, b->len));
    }
    for (size_t i = 0; i < sizeof(edge_requests) / sizeof(*edge_requests); i++)
        check_request(edge_requests[i].p, edge_requests[i].len);

    for (size_t i = 0;
         i < NR_MUTANTS + sizeof(edge_requests) / sizeof(*edge_requests); i++) {
        struct req_buf rb;
        uint8_t *bytes;
        size_t n;

        if (i < NR_MUTANTS) {
            random_request(&rb);
            if (rb.req.op_case == MMSIM__V1__REQUEST__OP_PING &&
                rb.ping.payload.len > 200)
                rb.ping.payload.len = 200;
            if (rb.req.op_case == MMSIM__V1__REQUEST__OP_WRITE &&
                rb.write.data.len > 200)
                rb.write.data.len = 200;
            bytes = pb_pack(&rb.req.base, &n);
        } else {
            const struct bytes *b = &edge_requests[i - NR_MUTANTS];

            bytes = dup_frame(b->p, b->len);
            n = b->len;
        }
        mutate(bytes, n, check_request, request_vals, &taken, &left);
        free(bytes);
    }
    /* Not vacuous: both outcomes happened, many times. */
    printf("test-wire: Request frames: %lu taken by hand, %lu left to "
           "protobuf-c\n",
           taken, left);
    assert_true(taken > 100);
    assert_true(left > 100);
}

/* ---- responses ----------------------------------------------------------
 */

struct resp_buf {
    Mmsim__V1__Response r;
    Mmsim__V1__AllocReply alloc;
    Mmsim__V1__ReadReply read;
    Mmsim__V1__Pong pong;
    char text[320];
    char zone[192];
};

/* A string of @len pattern bytes (never NUL) in @buf, or one of a few. */
static char *rnd_string(char *buf, size_t size)
{
    static const char *const fixed[] = {
        NULL,
        "",
        "DMA",
        "DMA32",
        "Normal",
        "HighMem",
        "Movable",
        "no such page",
        "\xc3\xa9t\xc3\xa9 \x01\x7f\xff\x80", /* any bytes but NUL */
    };
    size_t len;

    if (coin())
        return (char *)PICK(fixed);
    len = (size_t)rnd_below(size);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(1 + (rnd() % 255));
    buf[len] = '\0';
    return buf;
}

static Mmsim__V1__Status rnd_status(void)
{
    static const int32_t odd[] = {99, 1000, INT32_MAX, -1, INT32_MIN, -30};

    if (rnd_below(8) == 0)
        return (Mmsim__V1__Status)PICK(odd);
    return (Mmsim__V1__Status)rnd_below(32); /* every value, and holes */
}

/* A random Response with a hot result (or none, or a NULL one). */
static void random_response(struct resp_buf *rb)
{
    Mmsim__V1__Response *r = &rb->r;

    mmsim__v1__response__init(r);
    r->has_id = coin();
    r->id = rnd_u64();
    r->has_status = coin();
    r->status = rnd_status();
    r->message = rnd_string(rb->text, 300);
    switch (rnd_below(8)) {
    case 0:
        break;
    case 1:
    case 2:
        mmsim__v1__alloc_reply__init(&rb->alloc);
        rb->alloc.has_pfn = coin();
        rb->alloc.pfn = rnd_u64();
        rb->alloc.has_node = coin();
        rb->alloc.node = rnd_u32();
        rb->alloc.has_order = coin();
        rb->alloc.order = rnd_u32();
        rb->alloc.zone = rnd_string(rb->zone, 160);
        r->result_case = MMSIM__V1__RESPONSE__RESULT_ALLOC;
        r->alloc = &rb->alloc;
        break;
    case 3:
    case 4:
        mmsim__v1__read_reply__init(&rb->read);
        rb->read.has_data = coin();
        rb->read.data = rnd_bytes();
        r->result_case = MMSIM__V1__RESPONSE__RESULT_READ;
        r->read = &rb->read;
        break;
    case 5:
    case 6:
        mmsim__v1__pong__init(&rb->pong);
        rb->pong.has_payload = coin();
        rb->pong.payload = rnd_bytes();
        r->result_case = MMSIM__V1__RESPONSE__RESULT_PONG;
        r->pong = &rb->pong;
        break;
    default: { /* a case without its message: protobuf-c sends nothing */
        static const Mmsim__V1__Response__ResultCase c[] = {
            MMSIM__V1__RESPONSE__RESULT_ALLOC,
            MMSIM__V1__RESPONSE__RESULT_READ,
            MMSIM__V1__RESPONSE__RESULT_PONG,
        };

        r->result_case = PICK(c);
        break;
    }
    }
}

static void assert_response_equal(const Mmsim__V1__Response *got,
                                  const Mmsim__V1__Response *want)
{
    assert_ptr_equal(got->base.descriptor, &mmsim__v1__response__descriptor);
    assert_int_equal(got->base.n_unknown_fields, 0);
    assert_int_equal(want->base.n_unknown_fields, 0);
    assert_int_equal(got->has_id, want->has_id);
    assert_int_equal(got->id, want->id);
    assert_int_equal(got->has_status, want->has_status);
    assert_int_equal(got->status, want->status);
    assert_str_equal(got->message, want->message);
    assert_int_equal(got->result_case, want->result_case);
    switch (want->result_case) {
    case MMSIM__V1__RESPONSE__RESULT__NOT_SET:
        break;
    case MMSIM__V1__RESPONSE__RESULT_ALLOC:
        assert_non_null(got->alloc);
        assert_int_equal(got->alloc->base.n_unknown_fields, 0);
        assert_int_equal(got->alloc->has_pfn, want->alloc->has_pfn);
        assert_int_equal(got->alloc->pfn, want->alloc->pfn);
        assert_int_equal(got->alloc->has_node, want->alloc->has_node);
        assert_int_equal(got->alloc->node, want->alloc->node);
        assert_int_equal(got->alloc->has_order, want->alloc->has_order);
        assert_int_equal(got->alloc->order, want->alloc->order);
        assert_str_equal(got->alloc->zone, want->alloc->zone);
        break;
    case MMSIM__V1__RESPONSE__RESULT_READ:
        assert_non_null(got->read);
        assert_int_equal(got->read->base.n_unknown_fields, 0);
        assert_int_equal(got->read->has_data, want->read->has_data);
        assert_bytes_equal(&got->read->data, &want->read->data);
        break;
    case MMSIM__V1__RESPONSE__RESULT_PONG:
        assert_non_null(got->pong);
        assert_int_equal(got->pong->base.n_unknown_fields, 0);
        assert_int_equal(got->pong->has_payload, want->pong->has_payload);
        assert_bytes_equal(&got->pong->payload, &want->pong->payload);
        break;
    default:
        fail_msg("hand decoder made a Response with result_case %d",
                 (int)want->result_case);
    }
    assert_same_packing(&got->base, &want->base);
}

/* As check_request_enc(), for a Response. */
static bool check_response_enc(const Mmsim__V1__Response *r)
{
    struct mmsim_wire_enc e;
    uint8_t *want, *got;
    size_t n;

    memset(&e, 0xa5, sizeof(e));
    if (!mmsim_wire_response_enc(r, &e))
        return false;
    want = pb_pack(&r->base, &n);
    assert_int_equal(e.size, n);
    got = malloc(n ? n : 1);
    assert_non_null(got);
    assert_ptr_equal(mmsim_wire_put(&e, got), got + n);
    if (memcmp(got, want, n) != 0)
        fail_msg("hand encoding differs from protobuf-c's %s", hex(want, n));
    free(got);
    free(want);
    return true;
}

/*
 * As check_request(), for a Response: whenever the hand decoder returns
 * one, protobuf-c's unpack succeeds with the same message, and
 * protobuf_c_message_free_unpacked(NULL allocator) frees it (ASan and
 * LeakSanitizer watch); when it returns NULL, it is not out of memory.
 */
static bool check_response(const void *bytes, size_t len)
{
    uint8_t *frame = dup_frame(bytes, len);
    Mmsim__V1__Response *ref = mmsim__v1__response__unpack(NULL, len, frame);
    Mmsim__V1__Response *got;
    bool oom = true;

    got = mmsim_wire_response_dec(frame, len, &oom);
    if (got) {
        if (!ref) {
            fail_msg("hand decoder takes a Response protobuf-c refuses: %s",
                     hex(frame, len));
            free(frame); /* not reached */
            return true;
        }
        assert_response_equal(got, ref);
        assert_true(check_response_enc(got));
        /* Nothing of it points into the frame. */
        memset(frame, 0xee, len);
        assert_response_equal(got, ref);
        protobuf_c_message_free_unpacked(&got->base, NULL);
    } else {
        assert_false(oom);
    }
    /* The client's fast free, on what protobuf-c allocated (ASan and
     * LeakSanitizer watch that too; unknown fields take its slow way). */
    mmsim_wire_response_free(ref);
    free(frame);
    return got != NULL;
}

/* The hand decoder takes every response a server sends: status >= 0. */
static bool hand_takes(const Mmsim__V1__Response *r)
{
    return !r->has_status || (int32_t)r->status >= 0;
}

/*
 * Seeded random hot Responses: the hand encoding is protobuf-c's, and
 * the hand decoder takes protobuf-c's bytes back to the same message.
 */
static void test_response_random(void **state)
{
    (void)state;
    rng_start(4);
    for (int i = 0; i < NR_RANDOM; i++) {
        struct resp_buf rb;
        uint8_t *bytes;
        size_t n;

        random_response(&rb);
        assert_true(check_response_enc(&rb.r));
        bytes = pb_pack(&rb.r.base, &n);
        if (check_response(bytes, n) != hand_takes(&rb.r))
            fail_msg("hand decoder %s protobuf-c's packing %s",
                     hand_takes(&rb.r) ? "refuses" : "takes", hex(bytes, n));
        free(bytes);
    }
}

/* Responses protobuf-c alone packs: other results, unknown fields. */
static void test_response_enc_refusals(void **state)
{
    static uint8_t five = 5;
    ProtobufCMessageUnknownField unknown = {.tag = 50,
                                            .wire_type =
                                                PROTOBUF_C_WIRE_TYPE_VARINT,
                                            .len = 1,
                                            .data = &five};
    Mmsim__V1__Response r;
    Mmsim__V1__HelloReply hello;
    Mmsim__V1__Limits limits;
    Mmsim__V1__ViewReply view;
    Mmsim__V1__Zone zone, *zones[1] = {&zone};
    Mmsim__V1__CheckReply check;
    Mmsim__V1__MmapReply mmap_;
    Mmsim__V1__ReclaimReply reclaim;
    struct resp_buf rb;

    (void)state;
    rng_start(5);
    mmsim__v1__limits__init(&limits);
    limits.has_max_batch = 1;
    limits.max_batch = 64;
    mmsim__v1__hello_reply__init(&hello);
    hello.has_protocol_version = 1;
    hello.protocol_version = 1;
    hello.server_version = "0.1.0";
    hello.limits = &limits;
    mmsim__v1__zone__init(&zone);
    zone.name = "Normal";
    zone.has_free = 1;
    zone.free = 1234;
    mmsim__v1__view_reply__init(&view);
    view.text = "Node 0, zone   Normal\n";
    view.n_zones = 1;
    view.zones = zones;
    mmsim__v1__check_reply__init(&check);
    check.has_ok = 1;
    check.ok = 1;
    mmsim__v1__mmap_reply__init(&mmap_);
    mmap_.has_addr = 1;
    mmap_.addr = 4096;
    mmsim__v1__reclaim_reply__init(&reclaim);

    mmsim__v1__response__init(&r);
    r.has_id = 1;
    r.id = 3;
    r.has_status = 1;
    for (int i = 0; i < 5; i++) {
        uint8_t *bytes;
        size_t n;

        switch (i) {
        case 0:
            r.result_case = MMSIM__V1__RESPONSE__RESULT_HELLO;
            r.hello = &hello;
            break;
        case 1:
            r.result_case = MMSIM__V1__RESPONSE__RESULT_VIEW;
            r.view = &view;
            break;
        case 2:
            r.result_case = MMSIM__V1__RESPONSE__RESULT_CHECK;
            r.check = &check;
            break;
        case 3:
            r.result_case = MMSIM__V1__RESPONSE__RESULT_MMAP;
            r.mmap = &mmap_;
            break;
        default:
            r.result_case = MMSIM__V1__RESPONSE__RESULT_RECLAIM;
            r.reclaim = &reclaim;
            break;
        }
        assert_false(check_response_enc(&r));
        bytes = pb_pack(&r.base, &n);
        assert_false(check_response(bytes, n));
        free(bytes);
    }

    /* Unknown fields, on the Response or on its result. */
    for (int i = 0; i < 200; i++) {
        ProtobufCMessage *m = NULL;
        uint8_t *bytes;
        size_t n;

        random_response(&rb);
        if (coin())
            switch (rb.r.result_case) {
            case MMSIM__V1__RESPONSE__RESULT_ALLOC:
                m = rb.r.alloc ? &rb.r.alloc->base : NULL;
                break;
            case MMSIM__V1__RESPONSE__RESULT_READ:
                m = rb.r.read ? &rb.r.read->base : NULL;
                break;
            case MMSIM__V1__RESPONSE__RESULT_PONG:
                m = rb.r.pong ? &rb.r.pong->base : NULL;
                break;
            default:
                break;
            }
        if (!m)
            m = &rb.r.base;
        m->n_unknown_fields = 1;
        m->unknown_fields = &unknown;
        assert_false(check_response_enc(&rb.r));
        bytes = pb_pack(&rb.r.base, &n);
        assert_false(check_response(bytes, n));
        free(bytes);
    }
}

/* Responses the hand decoder must leave to protobuf-c. */
static const struct bytes refused_responses[] = {
    B("unknown field", "\x08\x01\xf8\x01\x05"),
    B("unknown field 31", "\xf8\x01\x00"),
    B("unknown field in AllocReply", "\x32\x02\x28\x01"),
    B("unknown field in ReadReply", "\x4a\x02\x10\x01"),
    B("unknown field in Pong", "\x2a\x02\x10\x01"),
    B("id twice", "\x08\x01\x08\x01"),
    B("status twice", "\x10\x00\x10\x01"),
    B("message twice", "\x1a\x01\x61\x1a\x01\x62"),
    B("AllocReply.pfn twice", "\x32\x04\x08\x01\x08\x02"),
    B("AllocReply.zone twice", "\x32\x06\x1a\x01\x61\x1a\x01\x62"),
    B("ReadReply.data twice", "\x4a\x04\x0a\x00\x0a\x00"),
    B("Pong.payload twice", "\x2a\x05\x0a\x01\x61\x0a\x00"),
    B("two results", "\x2a\x00\x32\x00"),
    B("one result twice", "\x4a\x00\x4a\x00"),
    B("HelloReply", "\x10\x00\x22\x02\x08\x01"),
    B("CheckReply", "\x5a\x02\x08\x01"),
    B("ViewReply", "\x52\x00"),
    B("AllocBatchReply", "\x3a\x00"),
    B("hot and other result", "\x32\x00\x5a\x00"),
    B("status -1", "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    B("status INT32_MIN", "\x10\x80\x80\x80\x80\xf8\xff\xff\xff\xff\x01"),
    B("status 2^31", "\x10\x80\x80\x80\x80\x08"),
    B("status 2^32", "\x10\x80\x80\x80\x80\x10"),
    B("id as bytes", "\x0a\x00"),
    B("status as bytes", "\x12\x00"),
    B("message as varint", "\x18\x00"),
    B("result as varint", "\x30\x00"),
    B("AllocReply.pfn as bytes", "\x32\x02\x0a\x00"),
    B("AllocReply.zone as varint", "\x32\x02\x18\x00"),
    B("ReadReply.data as varint", "\x4a\x02\x08\x00"),
    B("Pong.payload as fixed32", "\x2a\x05\x0d\x00\x00\x00\x00"),
    B("id as fixed64", "\x09\x00\x00\x00\x00\x00\x00\x00\x00"),
    B("start group", "\x0b\x0c"),
    B("wire type 7", "\x0f\x00"),
    B("field number 0", "\x00\x00"),
    B("field number 0 in AllocReply", "\x32\x02\x00\x00"),
    B("field number 0, two-byte tag", "\x80\x00\x00"),
    B("11-byte id", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
    B("11-byte tag", "\x88\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x01"),
    B("11-byte length", "\x1a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
    B("10-byte id, last byte 2", "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80"
                                 "\x02"),
    B("10-byte pfn, last byte 0x7f", "\x32\x0b\x08\xff\xff\xff\xff\xff\xff"
                                     "\xff\xff\xff\x7f"),
    B("AllocReply.node 2^32", "\x32\x06\x10\x80\x80\x80\x80\x10"),
    B("AllocReply.order 2^64-1", "\x32\x0b\x20\xff\xff\xff\xff\xff\xff\xff"
                                 "\xff\xff\x01"),
    B("message past the end", "\x1a\x05\x61"),
    B("result past the end", "\x32\x05\x08\x01"),
    B("zone past the end of AllocReply", "\x32\x03\x1a\x05\x61"),
    B("unterminated varint", "\x08\x80"),
};

static const struct bytes edge_responses[] = {
    B("empty", ""),
    B("status only", "\x10\x00"),
    B("fields out of order", "\x10\x01\x08\x02"),
    B("result before id", "\x2a\x00\x08\x05"),
    B("status 99", "\x10\x63"),
    B("status INT32_MAX", "\x10\xff\xff\xff\xff\x07"),
    B("message with NUL", "\x1a\x05\x61\x00\x62\x00\x63"),
    B("zone with NUL", "\x32\x04\x1a\x02\x00\x61"),
    B("empty message", "\x1a\x00"),
    B("empty AllocReply", "\x32\x00"),
    B("AllocReply fields reversed", "\x32\x0c\x20\x03\x1a\x03\x44\x4d\x41"
                                    "\x10\x01\x08\x80\x01"),
    B("AllocReply pfn 2^64-1", "\x32\x0b\x08\xff\xff\xff\xff\xff\xff\xff"
                               "\xff\xff\x01"),
    B("AllocReply node 2^32-1", "\x32\x06\x10\xff\xff\xff\xff\x0f"),
    B("empty ReadReply data", "\x4a\x02\x0a\x00"),
    B("empty Pong payload", "\x2a\x02\x0a\x00"),
    B("ReadReply data", "\x10\x00\x4a\x06\x0a\x04\x00\x01\x02\x03"),
    B("overlong id", "\x08\x81\x80\x00"),
    B("overlong tag", "\x88\x80\x00\x01"),
    B("overlong length", "\x1a\x81\x00\x61"),
};

/*
 * Responses: protobuf-c's packings of hot results come back by hand,
 * freeable like protobuf-c's; the doubtful shapes are refused; every
 * truncation and many mutations agree with protobuf-c.
 */
static void test_response_dec(void **state)
{
    unsigned long taken = 0, left = 0;

    (void)state;
    rng_start(6);
    for (size_t i = 0;
         i < sizeof(refused_responses) / sizeof(*refused_responses); i++) {
        const struct bytes *b = &refused_responses[i];

        if (check_response(b->p, b->len))
            fail_msg("hand decoder takes a Response with %s: %s", b->what,
                     hex((const uint8_t *)b->p, b->len));
    }
    for (size_t i = 0; i < sizeof(edge_responses) / sizeof(*edge_responses);
         i++)
        check_response(edge_responses[i].p, edge_responses[i].len);

    for (size_t i = 0;
         i < NR_MUTANTS + sizeof(edge_responses) / sizeof(*edge_responses);
         i++) {
        struct resp_buf rb;
        uint8_t *bytes;
        size_t n;

        if (i < NR_MUTANTS) {
            random_response(&rb);
            if (rb.r.result_case == MMSIM__V1__RESPONSE__RESULT_READ &&
                rb.r.read && rb.read.data.len > 200)
                rb.read.data.len = 200;
            if (rb.r.result_case == MMSIM__V1__RESPONSE__RESULT_PONG &&
                rb.r.pong && rb.pong.payload.len > 200)
                rb.pong.payload.len = 200;
            bytes = pb_pack(&rb.r.base, &n);
        } else {
            const struct bytes *b = &edge_responses[i - NR_MUTANTS];

            bytes = dup_frame(b->p, b->len);
            n = b->len;
        }
        mutate(bytes, n, check_response, response_vals, &taken, &left);
        free(bytes);
    }
    printf("test-wire: Response frames: %lu taken by hand, %lu left to "
           "protobuf-c\n",
           taken, left);
    assert_true(taken > 100);
    assert_true(left > 100);
}

/* ---- long tags and length prefixes -------------------------------------- */

/*
 * protobuf-c 1.4.1 reads a tag, and the length prefix of a bytes or
 * message field, in at most five bytes (parse_tag_and_wiretype(),
 * scan_length_prefixed_data()): a longer one, even an overlong encoding
 * of a small number, fails the whole unpack. Values take up to ten.
 * Each field's tag, each length prefix and each value of a few frames,
 * stretched to 2..11 bytes with 0x80 continuation bytes: whatever the
 * hand decoders take, protobuf-c must take too. Every disagreement is
 * printed before the test fails.
 */

/*
 * @p with the varint at @at stretched to @width bytes, the same value
 * (at least one byte longer than it was); the one-byte length prefix at
 * @outer (or none, -1) of the message around it grows to match.
 * Return: the new length.
 */
static size_t stretch(const uint8_t *p, size_t len, size_t at, int outer,
                      size_t width, uint8_t *out)
{
    size_t end = at, k;

    while (p[end] & 0x80)
        end++;
    end++;
    memcpy(out, p, at);
    k = at;
    for (size_t i = at; i < end - 1; i++)
        out[k++] = p[i];
    /* The last byte gets the continuation bit, then zeros follow. */
    out[k++] = (uint8_t)(p[end - 1] | 0x80);
    while (k < at + width - 1)
        out[k++] = 0x80;
    out[k++] = 0x00;
    if (outer >= 0)
        out[outer] = (uint8_t)(out[outer] + (k - end));
    memcpy(out + k, p + end, len - end);
    return k + len - end;
}

struct varint_at {
    const char *what;
    size_t at;
    int outer; /* the enclosing message's length prefix, or -1 */
};

static unsigned long long_headers(bool response, const struct bytes *frame,
                                  const struct varint_at *at, size_t nat)
{
    unsigned long bad = 0;
    uint8_t out[96];

    for (size_t i = 0; i < nat; i++) {
        for (size_t width = 2; width <= 11; width++) {
            size_t n = stretch((const uint8_t *)frame->p, frame->len, at[i].at,
                               at[i].outer, width, out);
            uint8_t *f = dup_frame(out, n);
            bool hand, pbc;

            if (response) {
                bool oom;
                Mmsim__V1__Response *h = mmsim_wire_response_dec(f, n, &oom);
                Mmsim__V1__Response *r =
                    mmsim__v1__response__unpack(NULL, n, f);

                hand = h != NULL;
                pbc = r != NULL;
                if (h)
                    protobuf_c_message_free_unpacked(&h->base, NULL);
                if (r)
                    mmsim__v1__response__free_unpacked(r, NULL);
            } else {
                struct mmsim_wire_request w;
                Mmsim__V1__Request *r = mmsim__v1__request__unpack(NULL, n, f);

                hand = mmsim_wire_request_dec(f, n, &w);
                pbc = r != NULL;
                if (r)
                    mmsim__v1__request__free_unpacked(r, NULL);
            }
            /* Up to five bytes, protobuf-c takes every one of these. */
            if (width <= 5 && !pbc)
                fail_msg("protobuf-c refuses %s: %s", at[i].what, hex(f, n));
            if (hand && !pbc) {
                printf("test-wire: %s %s, %s in %zu bytes: hand decoder "
                       "takes it, protobuf-c refuses: %s\n",
                       response ? "Response" : "Request", frame->what,
                       at[i].what, width, hex(f, n));
                bad++;
            } else if (hand) {
                /* Equal too. */
                if (response)
                    check_response(f, n);
                else
                    check_request(f, n);
            }
            free(f);
        }
    }
    return bad;
}

/*
 * An empty frame: the frame decoder hands it out as NULL, length 0. The
 * Request is left to protobuf-c; the Response is protobuf-c's empty one.
 * (UBSan checks that no arithmetic is done on the NULL.)
 */
static void test_empty_frames(void **state)
{
    Mmsim__V1__Response *ref = mmsim__v1__response__unpack(NULL, 0, NULL);
    struct mmsim_wire_request w;
    Mmsim__V1__Response *got;
    bool oom = true;

    (void)state;
    assert_false(mmsim_wire_request_dec(NULL, 0, &w));
    got = mmsim_wire_response_dec(NULL, 0, &oom);
    assert_non_null(ref);
    assert_non_null(got);
    assert_response_equal(got, ref);
    mmsim_wire_response_free(got);
    mmsim_wire_response_free(ref);
}

static void test_long_headers(void **state)
{
    /* id 1, WritePage {pfn 2, data "ab"} */
    static const struct bytes req =
        B("WritePage", "\x08\x01\x4a\x06\x08\x02\x1a\x02\x61"
                       "\x62");
    static const struct varint_at req_at[] = {
        {"id tag", 0, -1},        {"id", 1, -1},
        {"operation tag", 2, -1}, {"operation length", 3, -1},
        {"pfn tag", 4, 3},        {"pfn", 5, 3},
        {"data tag", 6, 3},       {"data length", 7, 3},
    };
    /* id 1, status 0, message "x", Pong {payload "ab"} */
    static const struct bytes resp =
        B("Pong", "\x08\x01\x10\x00\x1a\x01\x78\x2a\x04"
                  "\x0a\x02\x61\x62");
    static const struct varint_at resp_at[] = {
        {"id tag", 0, -1},         {"status tag", 2, -1},
        {"status", 3, -1},         {"message tag", 4, -1},
        {"message length", 5, -1}, {"result tag", 7, -1},
        {"result length", 8, -1},  {"payload tag", 9, 8},
        {"payload length", 10, 8},
    };
    unsigned long bad;

    (void)state;
    bad = long_headers(false, &req, req_at, sizeof(req_at) / sizeof(*req_at));
    bad +=
        long_headers(true, &resp, resp_at, sizeof(resp_at) / sizeof(*resp_at));
    fflush(stdout);
    if (bad)
        fail_msg("%lu frames with tags or length prefixes of 6 to 10 bytes "
                 "taken by hand, refused by protobuf-c (listed above)",
                 bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_random),
        cmocka_unit_test(test_request_enc_refusals),
        cmocka_unit_test(test_request_dec),
        cmocka_unit_test(test_response_random),
        cmocka_unit_test(test_response_enc_refusals),
        cmocka_unit_test(test_response_dec),
        cmocka_unit_test(test_long_headers),
        cmocka_unit_test(test_empty_frames),
    };
    const char *env = getenv("MMSIM_TEST_SEED");

    if (env && *env)
        seed = strtoull(env, NULL, 0);
    printf("test-wire: seed %" PRIu64 " (MMSIM_TEST_SEED)\n", seed);
    fflush(stdout);
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(1 + (i * 131 + (i >> 8)) % 255);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
