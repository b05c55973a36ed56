// SPDX-License-Identifier: MIT
/*
 * json.c - the streaming JSON writer behind mmsimctl --json.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

/* Before any value: the comma between siblings. */
static void json_sep(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth - 1])
            fputc(',', j->f);
        j->first[j->depth - 1] = false;
    }
}

static void json_open(struct json *j, int ch)
{
    json_sep(j);
    fputc(ch, j->f);
    if (j->depth < JSON_MAX_DEPTH)
        j->first[j->depth] = true;
    j->depth++;
}

static void json_close(struct json *j, int ch)
{
    fputc(ch, j->f);
    j->depth--;
    if (j->depth == 0)
        fputc('\n', j->f);
}

void json_obj_begin(struct json *j)
{
    json_open(j, '{');
}

void json_obj_end(struct json *j)
{
    json_close(j, '}');
}

void json_arr_begin(struct json *j)
{
    json_open(j, '[');
}

void json_arr_end(struct json *j)
{
    json_close(j, ']');
}

/* Length of the valid UTF-8 sequence at @s (at most @left bytes), 0 if
 * invalid. Overlongs and surrogates count as invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void json_strn(struct json *j, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;

    json_sep(j);
    fputc('"', j->f);
    for (size_t i = 0; i < len;) {
        unsigned char ch = s[i];
        size_t n;

        switch (ch) {
        case '"':
            fputs("\\\"", j->f);
            break;
        case '\\':
            fputs("\\\\", j->f);
            break;
        case '\n':
            fputs("\\n", j->f);
            break;
        case '\r':
            fputs("\\r", j->f);
            break;
        case '\t':
            fputs("\\t", j->f);
            break;
        default:
            if (ch < 0x20 || ch == 0x7f) {
                fprintf(j->f, "\\u%04x", ch);
                break;
            }
            n = utf8_len(s + i, len - i);
            if (n == 0) {
                /* Not UTF-8: escaped as the Latin-1 code point of the byte,
                 * so the document stays valid JSON. */
                fprintf(j->f, "\\u%04x", ch);
                break;
            }
            fwrite(s + i, 1, n, j->f);
            i += n;
            continue;
        }
        i++;
    }
    fputc('"', j->f);
}

void json_str(struct json *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_strn(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
    json_str(j, key);
    fputc(':', j->f);
    j->after_key = true;
}

void json_u64(struct json *j, uint64_t v)
{
    json_sep(j);
    fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
    json_sep(j);
    fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
    json_sep(j);
    fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
    json_sep(j);
    fputs("null", j->f);
}

void json_kstr(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_u64(j, v);
}

void json_ki64(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_i64(j, v);
}

void json_kbool(struct json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}
