/*
 * json.h - a minimal streaming JSON writer for mmsimctl --json.
 *
 * Calls nest like the document: json_obj_begin(), json_key() before each
 * member, values, json_obj_end(). Commas, string escaping and the final
 * newline are handled here. Output is compact, one document per line.
 * No allocation; nesting is limited to JSON_MAX_DEPTH.
 */
#ifndef MMSIM_CLIENT_JSON_H
#define MMSIM_CLIENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
    FILE *f;
    int depth;
    bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
    bool after_key;             /* a key was written; its value is next */
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
/* Ends the document with a newline when it closes the outermost value. */
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
/* A string of @len bytes; bytes that are not UTF-8 text are escaped. */
void json_strn(struct json *j, const char *s, size_t len);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Shorthands: key and value. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_ki64(struct json *j, const char *key, int64_t v);
void json_kbool(struct json *j, const char *key, bool v);

#endif /* MMSIM_CLIENT_JSON_H */
