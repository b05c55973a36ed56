/*
 * textbuf.h - snprintf semantics over many appends, for the text views
 * (views.c, vmalloc.c): write what fits, count what the whole text needs.
 */
#ifndef MMSIM_TEXTBUF_H
#define MMSIM_TEXTBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * struct textbuf - snprintf semantics over many appends. At most
 * @len - 1 bytes of text land in @buf (then a NUL); @need counts every
 * byte the full text needs, whether it fitted or not.
 */
struct textbuf {
    char *buf;
    size_t len;
    size_t need;
};

static inline void tb_init(struct textbuf *tb, char *buf, size_t len)
{
    tb->buf = buf;
    tb->len = len;
    tb->need = 0;
}

static inline void tb_write(struct textbuf *tb, const char *s, size_t n)
{
    if (tb->len > 0 && tb->need < tb->len - 1) {
        size_t room = tb->len - 1 - tb->need;

        memcpy(tb->buf + tb->need, s, n < room ? n : room);
    }
    tb->need += n;
}

static inline void tb_puts(struct textbuf *tb, const char *s)
{
    tb_write(tb, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline void
tb_printf(struct textbuf *tb, const char *fmt, ...)
{
    char *dst = NULL;
    size_t room = 0;
    va_list ap;
    int n;

    if (tb->need < tb->len) {
        dst = tb->buf + tb->need;
        room = tb->len - tb->need;
    }
    va_start(ap, fmt);
    n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        tb->need += (size_t)n;
}

/* NUL-terminate and return the full length, as snprintf does. */
static inline int64_t tb_finish(struct textbuf *tb)
{
    if (tb->len > 0)
        tb->buf[tb->need < tb->len ? tb->need : tb->len - 1] = '\0';
    return (int64_t)tb->need;
}

#endif /* MMSIM_TEXTBUF_H */
