/*
 * test-frame.c - the length-prefix framing: whole frames out of any split
 * of the input, the size limit, and the byte buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmsim/frame.h"

/* Three frames: "hello", "" and 300 bytes of a pattern. */
static size_t build_stream(uint8_t *s)
{
    struct mmsim_buf b;
    uint8_t big[300];
    size_t n;

    for (int i = 0; i < 300; i++)
        big[i] = (uint8_t)(i * 7);
    mmsim_buf_init(&b);
    assert_int_equal(mmsim_frame_put_header(&b, 5), 0);
    assert_int_equal(mmsim_buf_append(&b, "hello", 5), 0);
    assert_int_equal(mmsim_frame_put_header(&b, 0), 0);
    assert_int_equal(mmsim_frame_put_header(&b, 300), 0);
    assert_int_equal(mmsim_buf_append(&b, big, 300), 0);
    n = b.len;
    memcpy(s, b.data, n);
    mmsim_buf_free(&b);
    return n;
}

/* Feed @s in chunks of @chunk bytes; collect the frame lengths. */
static int decode_all(const uint8_t *s, size_t n, size_t chunk, size_t *lens,
                      uint8_t *last)
{
    struct mmsim_frame_decoder d;
    int frames = 0;

    mmsim_frame_decoder_init(&d, 1024);
    for (size_t off = 0; off < n;) {
        size_t len = n - off < chunk ? n - off : chunk;

        while (len) {
            const uint8_t *f;
            size_t flen, used;
            int rc = mmsim_frame_decode(&d, s + off, len, &used, &f, &flen);

            assert_true(rc >= 0);
            off += used;
            len -= used;
            if (rc == MMSIM_FRAME_READY) {
                lens[frames++] = flen;
                if (flen)
                    memcpy(last, f, flen);
            }
        }
    }
    mmsim_frame_decoder_fini(&d);
    return frames;
}

static void test_every_split(void **state)
{
    uint8_t s[512], last[300];
    size_t n = build_stream(s);

    (void)state;
    assert_int_equal(n, 4 + 5 + 4 + 4 + 300);
    for (size_t chunk = 1; chunk <= n; chunk++) {
        size_t lens[8];

        memset(last, 0, sizeof(last));
        assert_int_equal(decode_all(s, n, chunk, lens, last), 3);
        assert_int_equal(lens[0], 5);
        assert_int_equal(lens[1], 0);
        assert_int_equal(lens[2], 300);
        for (int i = 0; i < 300; i++)
            assert_int_equal(last[i], (uint8_t)(i * 7));
    }
}

static void test_too_large_is_sticky(void **state)
{
    struct mmsim_frame_decoder d;
    const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'x'};
    const uint8_t ok[] = {0, 0, 0, 1, 'y'};
    const uint8_t *f;
    size_t flen, used;

    (void)state;
    mmsim_frame_decoder_init(&d, 1024);
    /* 4 GiB announced: refused at the header, nothing allocated. */
    assert_int_equal(
        mmsim_frame_decode(&d, huge, sizeof(huge), &used, &f, &flen),
        MMSIM_FRAME_TOO_LARGE);
    assert_int_equal(used, 4);
    assert_int_equal(d.payload.cap, 0);
    assert_int_equal(mmsim_frame_decode(&d, ok, sizeof(ok), &used, &f, &flen),
                     MMSIM_FRAME_TOO_LARGE);
    mmsim_frame_decoder_fini(&d);

    /* Exactly the limit is fine; one more is not. */
    mmsim_frame_decoder_init(&d, 1);
    assert_int_equal(mmsim_frame_decode(&d, ok, sizeof(ok), &used, &f, &flen),
                     MMSIM_FRAME_READY);
    assert_int_equal(flen, 1);
    assert_int_equal(f[0], 'y');
    mmsim_frame_decoder_fini(&d);
}

/* A lying length costs only the bytes that actually arrive. */
static void test_partial_frame_memory(void **state)
{
    struct mmsim_frame_decoder d;
    const uint8_t hdr[] = {0, 0x0f, 0xff, 0xff, 'a', 'b'};
    const uint8_t *f;
    size_t flen, used;

    (void)state;
    mmsim_frame_decoder_init(&d, 1 << 20);
    assert_int_equal(mmsim_frame_decode(&d, hdr, sizeof(hdr), &used, &f, &flen),
                     MMSIM_FRAME_NEED_MORE);
    assert_int_equal(used, sizeof(hdr));
    assert_true(d.payload.cap < 4096);
    mmsim_frame_decoder_fini(&d);
}

static void test_buf(void **state)
{
    struct mmsim_buf b;

    (void)state;
    mmsim_buf_init(&b);
    assert_int_equal(mmsim_buf_append(&b, "abcdef", 6), 0);
    mmsim_buf_consume(&b, 2);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "cdef", 4);
    mmsim_buf_consume(&b, 10);
    assert_int_equal(b.len, 0);
    assert_int_equal(mmsim_buf_append(&b, NULL, 0), 0);
    assert_int_equal(mmsim_buf_reserve(&b, SIZE_MAX), -1);
    mmsim_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_too_large_is_sticky),
        cmocka_unit_test(test_partial_frame_memory),
        cmocka_unit_test(test_buf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
