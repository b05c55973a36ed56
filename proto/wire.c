// SPDX-License-Identifier: MIT
/*
 * wire.c - hand-made codecs for the hot messages (mmsim/wire.h).
 *
 * What protobuf-c does, and so what these must do too (protobuf-c 1.4.1,
 * protobuf-c.c):
 *
 * - pack: fields in field-number order; an optional scalar or bytes field
 *   only when its has_ flag is set, a string or message only when its
 *   pointer is not NULL (a oneof message likewise, when its case is set);
 *   int32 and enum values sign-extended to ten bytes when negative; a
 *   message's unknown fields at its end (we leave those to protobuf-c);
 * - unpack: a repeated scalar field takes the last value, a repeated
 *   message field is merged, a second oneof member replaces the first,
 *   a uint32 or int32 keeps the low 32 bits of the varint, and an empty
 *   bytes field has data NULL. The decoders below refuse all of the
 *   doubtful cases (a field twice, two operations, a 32-bit field above
 *   its range) instead of imitating them: protobuf-c decides those.
 */
#include <stdlib.h>
#include <string.h>

#include "mmsim/wire.h"

/* ---- varints ---------------------------------------------------------------
 */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Return: false for a truncated or overlong varint, or one above @max. */
static bool varint_get_long(const uint8_t **pp, const uint8_t *end,
                            uint64_t max, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;

    for (unsigned i = 0; i < 10 && p < end; i++) {
        uint8_t b = *p++;

        if (i == 9 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *pp = p;
            *v = x;
            return x <= max;
        }
    }
    return false;
}

/* Most varints on the wire (tags, orders, lengths) are one byte. */
static inline bool varint_get(const uint8_t **pp, const uint8_t *end,
                              uint64_t max, uint64_t *v)
{
    const uint8_t *p = *pp;

    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return *v <= max;
    }
    return varint_get_long(pp, end, max, v);
}

/* ---- encoding --------------------------------------------------------------
 */

static void add_varint(struct mmsim_wire_field *f, unsigned *n, bool has,
                       uint32_t num, uint64_t v)
{
    if (has)
        f[(*n)++] =
            (struct mmsim_wire_field){num << 3 | MMSIM_WIRE_VARINT, v, NULL};
}

static void add_bytes(struct mmsim_wire_field *f, unsigned *n, bool has,
                      uint32_t num, const void *data, size_t len)
{
    if (has)
        f[(*n)++] =
            (struct mmsim_wire_field){num << 3 | MMSIM_WIRE_LEN, len, data};
}

/* An int32 (or enum) as protobuf-c sends it: negative ones in ten bytes. */
static uint64_t int32_wire(int32_t v)
{
    return (uint64_t)(int64_t)v;
}

static size_t fields_size(const struct mmsim_wire_field *f, unsigned n)
{
    size_t size = 0;

    for (unsigned i = 0; i < n; i++) {
        size += varint_size(f[i].tag) + varint_size(f[i].v);
        if ((f[i].tag & 7) == MMSIM_WIRE_LEN)
            size += (size_t)f[i].v;
    }
    return size;
}

static uint8_t *fields_put(uint8_t *p, const struct mmsim_wire_field *f,
                           unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p = varint_put(p, f[i].tag);
        p = varint_put(p, f[i].v);
        if ((f[i].tag & 7) == MMSIM_WIRE_LEN && f[i].v) {
            memcpy(p, f[i].data, (size_t)f[i].v);
            p += f[i].v;
        }
    }
    return p;
}

static void enc_start(struct mmsim_wire_enc *e)
{
    e->n_outer = e->n_inner = 0;
    e->nested_tag = 0;
    e->inner_size = e->size = 0;
}

/* The nested message @m, field @num, becomes e->inner. */
static bool enc_nested(struct mmsim_wire_enc *e, uint32_t num,
                       const ProtobufCMessage *m)
{
    if (m->n_unknown_fields)
        return false;
    e->nested_tag = num << 3 | MMSIM_WIRE_LEN;
    return true;
}

static void enc_finish(struct mmsim_wire_enc *e)
{
    e->size = fields_size(e->outer, e->n_outer);
    if (e->nested_tag) {
        e->inner_size = fields_size(e->inner, e->n_inner);
        e->size += varint_size(e->nested_tag) + varint_size(e->inner_size) +
                   e->inner_size;
    }
}

bool mmsim_wire_request_enc(const Mmsim__V1__Request *req,
                            struct mmsim_wire_enc *e)
{
    struct mmsim_wire_field *in = e->inner;
    unsigned *n = &e->n_inner;

    enc_start(e);
    if (req->base.n_unknown_fields)
        return false;
    add_varint(e->outer, &e->n_outer, req->has_id, 1, req->id);
    switch (req->op_case) {
    case MMSIM__V1__REQUEST__OP_PING: {
        const Mmsim__V1__Ping *p = req->ping;

        if (!p || !enc_nested(e, MMSIM__V1__REQUEST__OP_PING, &p->base))
            return false;
        add_bytes(in, n, p->has_payload, 1, p->payload.data, p->payload.len);
        break;
    }
    case MMSIM__V1__REQUEST__OP_ALLOC: {
        const Mmsim__V1__AllocPages *a = req->alloc;

        if (!a || !enc_nested(e, MMSIM__V1__REQUEST__OP_ALLOC, &a->base))
            return false;
        add_varint(in, n, a->has_order, 1, a->order);
        add_varint(in, n, a->has_gfp, 2, a->gfp);
        add_varint(in, n, a->has_node, 3, int32_wire(a->node));
        break;
    }
    case MMSIM__V1__REQUEST__OP_FREE: {
        const Mmsim__V1__FreePages *f = req->free;

        if (!f || !enc_nested(e, MMSIM__V1__REQUEST__OP_FREE, &f->base))
            return false;
        add_varint(in, n, f->has_pfn, 1, f->pfn);
        add_varint(in, n, f->has_order, 2, f->order);
        break;
    }
    case MMSIM__V1__REQUEST__OP_READ: {
        const Mmsim__V1__ReadPage *r = req->read;

        if (!r || !enc_nested(e, MMSIM__V1__REQUEST__OP_READ, &r->base))
            return false;
        add_varint(in, n, r->has_pfn, 1, r->pfn);
        add_varint(in, n, r->has_offset, 2, r->offset);
        add_varint(in, n, r->has_length, 3, r->length);
        break;
    }
    case MMSIM__V1__REQUEST__OP_WRITE: {
        const Mmsim__V1__WritePage *w = req->write;

        if (!w || !enc_nested(e, MMSIM__V1__REQUEST__OP_WRITE, &w->base))
            return false;
        add_varint(in, n, w->has_pfn, 1, w->pfn);
        add_varint(in, n, w->has_offset, 2, w->offset);
        add_bytes(in, n, w->has_data, 3, w->data.data, w->data.len);
        break;
    }
    default:
        return false;
    }
    enc_finish(e);
    return true;
}

bool mmsim_wire_response_enc(const Mmsim__V1__Response *r,
                             struct mmsim_wire_enc *e)
{
    struct mmsim_wire_field *in = e->inner;
    unsigned *n = &e->n_inner;

    enc_start(e);
    if (r->base.n_unknown_fields)
        return false;
    add_varint(e->outer, &e->n_outer, r->has_id, 1, r->id);
    add_varint(e->outer, &e->n_outer, r->has_status, 2,
               int32_wire((int32_t)r->status));
    add_bytes(e->outer, &e->n_outer, r->message != NULL, 3, r->message,
              r->message ? strlen(r->message) : 0);
    switch (r->result_case) {
    case MMSIM__V1__RESPONSE__RESULT__NOT_SET:
        break;
    case MMSIM__V1__RESPONSE__RESULT_ALLOC: {
        const Mmsim__V1__AllocReply *a = r->alloc;

        if (!a) /* protobuf-c sends nothing for it */
            break;
        if (!enc_nested(e, MMSIM__V1__RESPONSE__RESULT_ALLOC, &a->base))
            return false;
        add_varint(in, n, a->has_pfn, 1, a->pfn);
        add_varint(in, n, a->has_node, 2, a->node);
        add_bytes(in, n, a->zone != NULL, 3, a->zone,
                  a->zone ? strlen(a->zone) : 0);
        add_varint(in, n, a->has_order, 4, a->order);
        break;
    }
    case MMSIM__V1__RESPONSE__RESULT_READ: {
        const Mmsim__V1__ReadReply *rr = r->read;

        if (!rr)
            break;
        if (!enc_nested(e, MMSIM__V1__RESPONSE__RESULT_READ, &rr->base))
            return false;
        add_bytes(in, n, rr->has_data, 1, rr->data.data, rr->data.len);
        break;
    }
    case MMSIM__V1__RESPONSE__RESULT_PONG: {
        const Mmsim__V1__Pong *p = r->pong;

        if (!p)
            break;
        if (!enc_nested(e, MMSIM__V1__RESPONSE__RESULT_PONG, &p->base))
            return false;
        add_bytes(in, n, p->has_payload, 1, p->payload.data, p->payload.len);
        break;
    }
    default:
        return false;
    }
    enc_finish(e);
    return true;
}

uint8_t *mmsim_wire_put(const struct mmsim_wire_enc *e, uint8_t *out)
{
    out = fields_put(out, e->outer, e->n_outer);
    if (e->nested_tag) {
        out = varint_put(out, e->nested_tag);
        out = varint_put(out, e->inner_size);
        out = fields_put(out, e->inner, e->n_inner);
    }
    return out;
}

/* ---- decoding --------------------------------------------------------------
 */

struct span {
    const uint8_t *p;
    size_t len;
    bool has;
};

/*
 * protobuf-c reads a tag, and a length prefix, in at most 5 bytes
 * (parse_tag_and_wiretype(), scan_length_prefixed_data()) and refuses the
 * message when one is longer, however small its value.
 */
#define MAX_HEADER_VARINT 5

/*
 * Walk the fields of one message: a varint, or a length-delimited span.
 * Return: 1 a field, 0 the end, -1 not for the hand decoder.
 */
static inline int next_field(const uint8_t **pp, const uint8_t *end,
                             uint32_t *num, uint64_t *v, struct span *sp)
{
    const uint8_t *start = *pp;
    uint64_t tag;

    if (*pp == end)
        return 0;
    if (!varint_get(pp, end, UINT32_MAX, &tag) || (tag >> 3) == 0 ||
        *pp - start > MAX_HEADER_VARINT)
        return -1;
    *num = (uint32_t)(tag >> 3);
    switch (tag & 7) {
    case MMSIM_WIRE_VARINT:
        sp->has = false;
        return varint_get(pp, end, UINT64_MAX, v) ? 1 : -1;
    case MMSIM_WIRE_LEN:
        start = *pp;
        if (!varint_get(pp, end, UINT64_MAX, v) ||
            *pp - start > MAX_HEADER_VARINT || *v > (uint64_t)(end - *pp))
            return -1;
        sp->p = *pp;
        sp->len = (size_t)*v;
        sp->has = true;
        *pp += sp->len;
        return 1;
    default:
        return -1;
    }
}

/* The field kinds of the hot requests' operations. */
enum kind { K_NONE, K_U64, K_U32, K_I32, K_BYTES };

/*
 * Fields 1..3 of a small message in @sp, of the kinds @kinds[1..3]
 * (K_NONE: no such field). On success v[i] holds field i's value (an
 * int32 as its low 32 bits), b[i] its bytes, and bit i of *@seen says it
 * was there. Return: false when not by hand.
 */
static bool small_msg(const struct span *sp, const uint8_t kinds[4],
                      uint64_t v[4], struct span b[4], unsigned *seen)
{
    const uint8_t *p = sp->p, *end = sp->p + sp->len;
    struct span f;
    uint64_t x;
    uint32_t num;
    int rc;

    *seen = 0;
    while ((rc = next_field(&p, end, &num, &x, &f)) > 0) {
        if (num > 3 || kinds[num] == K_NONE || (*seen & 1u << num) ||
            f.has != (kinds[num] == K_BYTES))
            return false;
        switch (kinds[num]) {
        case K_U32:
            if (x > UINT32_MAX)
                return false;
            break;
        case K_I32: /* 0..INT32_MAX, or a negative int32 sign-extended */
            if (x > INT32_MAX && x < (uint64_t)(int64_t)INT32_MIN)
                return false;
            x &= UINT32_MAX;
            break;
        case K_BYTES:
            b[num] = f;
            break;
        default:
            break;
        }
        *seen |= 1u << num;
        v[num] = x;
    }
    return rc == 0;
}

/* An empty bytes field has data NULL, as protobuf-c makes it. */
static void borrow_bytes(const struct span *sp, ProtobufCBinaryData *b)
{
    b->len = sp->len;
    b->data = sp->len ? (uint8_t *)sp->p : NULL;
}

#define HAS(i) ((seen & 1u << (i)) != 0)

bool mmsim_wire_request_dec(const uint8_t *frame, size_t len,
                            struct mmsim_wire_request *w)
{
    static const uint8_t ping_k[4] = {K_NONE, K_BYTES};
    static const uint8_t alloc_k[4] = {K_NONE, K_U32, K_U32, K_I32};
    static const uint8_t free_k[4] = {K_NONE, K_U64, K_U32};
    static const uint8_t read_k[4] = {K_NONE, K_U64, K_U32, K_U32};
    static const uint8_t write_k[4] = {K_NONE, K_U64, K_U32, K_BYTES};
    /* An empty frame may come as NULL: no arithmetic on it. */
    const uint8_t *p = frame, *end = len ? frame + len : frame;
    struct span f, op = {0}, b[4];
    uint64_t x, id = 0, v[4] = {0};
    uint32_t num, which = 0;
    unsigned seen = 0;
    bool has_id = false;
    int rc;

    if (!len)
        return false;
    while ((rc = next_field(&p, end, &num, &x, &f)) > 0) {
        switch (num) {
        case 1: /* id */
            if (f.has || has_id)
                return false;
            has_id = true;
            id = x;
            break;
        case MMSIM__V1__REQUEST__OP_PING:
        case MMSIM__V1__REQUEST__OP_ALLOC:
        case MMSIM__V1__REQUEST__OP_FREE:
        case MMSIM__V1__REQUEST__OP_READ:
        case MMSIM__V1__REQUEST__OP_WRITE:
            if (!f.has || which)
                return false;
            which = num;
            op = f;
            break;
        default:
            return false;
        }
    }
    if (rc < 0 || !which)
        return false;

    mmsim__v1__request__init(&w->req);
    w->req.has_id = has_id;
    w->req.id = id;
    w->req.op_case = (Mmsim__V1__Request__OpCase)which;
    switch (which) {
    case MMSIM__V1__REQUEST__OP_PING: {
        Mmsim__V1__Ping *m = &w->op.ping;

        if (!small_msg(&op, ping_k, v, b, &seen))
            return false;
        mmsim__v1__ping__init(m);
        m->has_payload = HAS(1);
        if (HAS(1))
            borrow_bytes(&b[1], &m->payload);
        w->req.ping = m;
        break;
    }
    case MMSIM__V1__REQUEST__OP_ALLOC: {
        Mmsim__V1__AllocPages *m = &w->op.alloc;

        if (!small_msg(&op, alloc_k, v, b, &seen))
            return false;
        mmsim__v1__alloc_pages__init(m); /* node's default, -1 */
        m->has_order = HAS(1);
        m->order = (uint32_t)v[1];
        m->has_gfp = HAS(2);
        m->gfp = (uint32_t)v[2];
        if (HAS(3)) {
            m->has_node = 1;
            m->node = (int32_t)(uint32_t)v[3];
        }
        w->req.alloc = m;
        break;
    }
    case MMSIM__V1__REQUEST__OP_FREE: {
        Mmsim__V1__FreePages *m = &w->op.free;

        if (!small_msg(&op, free_k, v, b, &seen))
            return false;
        mmsim__v1__free_pages__init(m);
        m->has_pfn = HAS(1);
        m->pfn = v[1];
        m->has_order = HAS(2);
        m->order = (uint32_t)v[2];
        w->req.free = m;
        break;
    }
    case MMSIM__V1__REQUEST__OP_READ: {
        Mmsim__V1__ReadPage *m = &w->op.read;

        if (!small_msg(&op, read_k, v, b, &seen))
            return false;
        mmsim__v1__read_page__init(m);
        m->has_pfn = HAS(1);
        m->pfn = v[1];
        m->has_offset = HAS(2);
        m->offset = (uint32_t)v[2];
        m->has_length = HAS(3);
        m->length = (uint32_t)v[3];
        w->req.read = m;
        break;
    }
    default: { /* MMSIM__V1__REQUEST__OP_WRITE */
        Mmsim__V1__WritePage *m = &w->op.write;

        if (!small_msg(&op, write_k, v, b, &seen))
            return false;
        mmsim__v1__write_page__init(m);
        m->has_pfn = HAS(1);
        m->pfn = v[1];
        m->has_offset = HAS(2);
        m->offset = (uint32_t)v[2];
        m->has_data = HAS(3);
        if (HAS(3))
            borrow_bytes(&b[3], &m->data);
        w->req.write = m;
        break;
    }
    }
    return true;
}

/* A copy of @sp as protobuf-c makes one: NUL-terminated. */
static char *dup_string(const struct span *sp)
{
    char *str = malloc(sp->len + 1);

    if (str) {
        if (sp->len)
            memcpy(str, sp->p, sp->len);
        str[sp->len] = '\0';
    }
    return str;
}

/* ... and bytes: NULL when empty. Return: false out of memory. */
static bool dup_bytes(const struct span *sp, ProtobufCBinaryData *b)
{
    b->len = sp->len;
    b->data = NULL;
    if (!sp->len)
        return true;
    b->data = malloc(sp->len);
    if (!b->data)
        return false;
    memcpy(b->data, sp->p, sp->len);
    return true;
}

/* AllocReply {pfn, node, zone, order}. Return: 1, 0 (not by hand), -1. */
static int dec_alloc_reply(const struct span *sp, Mmsim__V1__Response *r)
{
    const uint8_t *p = sp->p, *end = sp->p + sp->len;
    struct span f, zone = {0};
    uint64_t v[5] = {0};
    unsigned seen = 0;
    uint32_t num;
    int rc;

    while ((rc = next_field(&p, end, &num, &v[0], &f)) > 0) {
        if (num > 4 || (seen & 1u << num) || f.has != (num == 3) ||
            (num != 1 && !f.has && v[0] > UINT32_MAX))
            return 0;
        seen |= 1u << num;
        if (num == 3)
            zone = f;
        else
            v[num] = v[0];
    }
    if (rc < 0)
        return 0;
    r->alloc = malloc(sizeof(*r->alloc));
    if (!r->alloc)
        return -1;
    mmsim__v1__alloc_reply__init(r->alloc);
    r->result_case = MMSIM__V1__RESPONSE__RESULT_ALLOC;
    r->alloc->has_pfn = HAS(1);
    r->alloc->pfn = v[1];
    r->alloc->has_node = HAS(2);
    r->alloc->node = (uint32_t)v[2];
    r->alloc->has_order = HAS(4);
    r->alloc->order = (uint32_t)v[4];
    if (zone.has && !(r->alloc->zone = dup_string(&zone)))
        return -1;
    return 1;
}

/* ReadReply or Pong: one optional bytes field, number 1. */
static int dec_bytes_reply(const struct span *sp, Mmsim__V1__Response *r,
                           uint32_t which)
{
    const uint8_t *p = sp->p, *end = sp->p + sp->len;
    struct span f, data = {0};
    ProtobufCBinaryData *b;
    protobuf_c_boolean *has;
    uint64_t v;
    uint32_t num;
    int rc;

    while ((rc = next_field(&p, end, &num, &v, &f)) > 0) {
        if (num != 1 || !f.has || data.has)
            return 0;
        data = f;
    }
    if (rc < 0)
        return 0;
    if (which == MMSIM__V1__RESPONSE__RESULT_READ) {
        r->read = malloc(sizeof(*r->read));
        if (!r->read)
            return -1;
        mmsim__v1__read_reply__init(r->read);
        b = &r->read->data;
        has = &r->read->has_data;
    } else {
        r->pong = malloc(sizeof(*r->pong));
        if (!r->pong)
            return -1;
        mmsim__v1__pong__init(r->pong);
        b = &r->pong->payload;
        has = &r->pong->has_payload;
    }
    r->result_case = (Mmsim__V1__Response__ResultCase)which;
    *has = data.has;
    if (data.has && !dup_bytes(&data, b))
        return -1;
    return 1;
}

Mmsim__V1__Response *mmsim_wire_response_dec(const uint8_t *frame, size_t len,
                                             bool *oom)
{
    const uint8_t *p = frame, *end = len ? frame + len : frame;
    struct span f, msg = {0}, result = {0};
    uint64_t v, id = 0, status = 0;
    uint32_t num, which = 0;
    unsigned seen = 0;
    Mmsim__V1__Response *r;
    int rc;

    *oom = false;
    while ((rc = next_field(&p, end, &num, &v, &f)) > 0) {
        if (num >= 32 || (seen & 1u << num))
            return NULL;
        seen |= 1u << num;
        switch (num) {
        case 1: /* id */
            if (f.has)
                return NULL;
            id = v;
            break;
        case 2: /* status, an int32 enum: never negative from a server */
            if (f.has || v > INT32_MAX)
                return NULL;
            status = v;
            break;
        case 3: /* message */
            if (!f.has)
                return NULL;
            msg = f;
            break;
        case MMSIM__V1__RESPONSE__RESULT_PONG:
        case MMSIM__V1__RESPONSE__RESULT_ALLOC:
        case MMSIM__V1__RESPONSE__RESULT_READ:
            if (!f.has || which)
                return NULL;
            which = num;
            result = f;
            break;
        default:
            return NULL;
        }
    }
    if (rc < 0)
        return NULL;
    r = malloc(sizeof(*r));
    if (!r)
        goto out_oom;
    mmsim__v1__response__init(r);
    r->has_id = HAS(1);
    r->id = id;
    r->has_status = HAS(2);
    r->status = (Mmsim__V1__Status)status;
    if (msg.has && !(r->message = dup_string(&msg)))
        goto out_free;
    rc = 1;
    if (which == MMSIM__V1__RESPONSE__RESULT_ALLOC)
        rc = dec_alloc_reply(&result, r);
    else if (which)
        rc = dec_bytes_reply(&result, r, which);
    if (rc > 0)
        return r;
    /* What was built so far. */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (rc == 0)
        return NULL;
    goto out_oom;
out_free:
    protobuf_c_message_free_unpacked(&r->base, NULL);
out_oom:
    *oom = true;
    return NULL;
}

void mmsim_wire_response_free(Mmsim__V1__Response *r)
{
    if (!r)
        return;
    if (r->base.n_unknown_fields)
        goto generic;
    switch (r->result_case) {
    case MMSIM__V1__RESPONSE__RESULT__NOT_SET:
        break;
    case MMSIM__V1__RESPONSE__RESULT_ALLOC:
        if (r->alloc) {
            if (r->alloc->base.n_unknown_fields)
                goto generic;
            free(r->alloc->zone);
            free(r->alloc);
        }
        break;
    case MMSIM__V1__RESPONSE__RESULT_READ:
        if (r->read) {
            if (r->read->base.n_unknown_fields)
                goto generic;
            free(r->read->data.data);
            free(r->read);
        }
        break;
    case MMSIM__V1__RESPONSE__RESULT_PONG:
        if (r->pong) {
            if (r->pong->base.n_unknown_fields)
                goto generic;
            free(r->pong->payload.data);
            free(r->pong);
        }
        break;
    default:
        goto generic;
    }
    free(r->message);
    free(r);
    return;
generic:
    protobuf_c_message_free_unpacked(&r->base, NULL);
}
