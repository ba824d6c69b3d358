/*
 * caxton_abi.h - a tiny header for writing Caxton agents (ABI version 1) in C.
 *
 * Build an agent as a WASI reactor:
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -o agent.wasm agent.c
 *
 * What it gives you, with no dependency beyond wasi-libc:
 *   - the host imports of module "caxton" (caxton_send, caxton_log, ...);
 *   - CAXTON_DEFINE_ALLOC(), CAXTON_DEFINE_INIT(fn), CAXTON_DEFINE_HANDLE(fn):
 *     the exports the host calls; INIT and HANDLE free the buffer the host
 *     wrote (the agent owns it) after `fn` returns;
 *   - a minimal JSON reader that finds a top-level key of an object and hands
 *     back the raw text of its value (enough for routing and copying values);
 *   - a growable output buffer for composing JSON messages.
 *
 * The JSON reader assumes well-formed input, as the host produces; it does not
 * decode string escapes (keys are compared byte for byte, values are returned
 * as raw JSON text, quotes included, so they can be copied into a reply as is).
 *
 * Every function here is `static`, so the header may be included by several
 * translation units of one agent; the DEFINE macros must be used exactly once.
 */
#ifndef CAXTON_ABI_H
#define CAXTON_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CAXTON_ABI_VERSION 1

#define CAXTON_IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))
#define CAXTON_EXPORT(name) __attribute__((export_name(name)))

/* Levels of caxton_log. */
enum {
    CAXTON_LOG_TRACE = 0,
    CAXTON_LOG_DEBUG = 1,
    CAXTON_LOG_INFO = 2,
    CAXTON_LOG_WARN = 3,
    CAXTON_LOG_ERROR = 4,
};

/* What send, kv_set, tool_call and register_capability answer. */
enum {
    CAXTON_OK = 0,
    CAXTON_E_MALFORMED = -1,
    CAXTON_E_TOO_LARGE = -2,
    CAXTON_E_MAILBOX_FULL = -3,
    CAXTON_E_NOT_PERMITTED = -4,
};

/* ---- imports (module "caxton"); only the ones an agent calls end up imported ---- */

CAXTON_IMPORT("send") int32_t caxton_send(const void *ptr, int32_t len);
CAXTON_IMPORT("log") void caxton_log(int32_t level, const void *ptr, int32_t len);
CAXTON_IMPORT("now_ms") int64_t caxton_now_ms(void);
CAXTON_IMPORT("kv_get") int32_t caxton_kv_get(const void *key, int32_t key_len, void *out,
                                              int32_t cap);
CAXTON_IMPORT("kv_set") int32_t caxton_kv_set(const void *key, int32_t key_len, const void *value,
                                              int32_t value_len);
CAXTON_IMPORT("kv_delete") int32_t caxton_kv_delete(const void *key, int32_t key_len);
CAXTON_IMPORT("tool_call") int32_t caxton_tool_call(const void *ptr, int32_t len);
CAXTON_IMPORT("register_capability") int32_t caxton_register_capability(const void *ptr,
                                                                         int32_t len);

/* ---- exports ---- */

/* caxton_alloc(len): `len` fresh bytes from malloc, or 0 when it cannot. */
#define CAXTON_DEFINE_ALLOC()                                                                  \
    CAXTON_EXPORT("caxton_alloc") void *caxton_alloc(int32_t len) {                            \
        return len < 0 ? NULL : malloc(len > 0 ? (size_t)len : 1);                             \
    }

/* caxton_init(ptr, len): calls `int32_t fn(const char *json, size_t len)`, then frees. */
#define CAXTON_DEFINE_INIT(fn)                                                                 \
    CAXTON_EXPORT("caxton_init") int32_t caxton_init(char *ptr, int32_t len) {                 \
        int32_t caxton_rc_ = (fn)(ptr, (size_t)len);                                           \
        free(ptr);                                                                             \
        return caxton_rc_;                                                                     \
    }

/* caxton_handle(ptr, len): calls `int32_t fn(const char *json, size_t len)`, then frees. */
#define CAXTON_DEFINE_HANDLE(fn)                                                               \
    CAXTON_EXPORT("caxton_handle") int32_t caxton_handle(char *ptr, int32_t len) {             \
        int32_t caxton_rc_ = (fn)(ptr, (size_t)len);                                           \
        free(ptr);                                                                             \
        return caxton_rc_;                                                                     \
    }

/* ---- logging ---- */

static inline void caxton_log_str(int32_t level, const char *text) {
    caxton_log(level, text, (int32_t)strlen(text));
}

/* ---- JSON reading ---- */

/* A slice of JSON text: the raw bytes of one value. */
typedef struct {
    const char *ptr;
    size_t len;
} caxton_span;

static inline caxton_span caxton_span_of(const char *ptr, size_t len) {
    caxton_span s = {ptr, len};
    return s;
}

static inline int caxton_json_is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline const char *caxton_json_skip_ws(const char *p, const char *end) {
    while (p < end && caxton_json_is_ws(*p)) p++;
    return p;
}

/* `p` at an opening quote: the position after the closing quote, NULL if unterminated. */
static inline const char *caxton_json_skip_string(const char *p, const char *end) {
    p++;
    while (p < end) {
        char c = *p++;
        if (c == '"') return p;
        if (c == '\\') p++; /* the escaped byte; \uXXXX needs nothing special */
    }
    return NULL;
}

/* The position after the value that starts at `p`, NULL if there is none. */
static inline const char *caxton_json_skip_value(const char *p, const char *end) {
    if (p >= end) return NULL;
    if (*p == '"') return caxton_json_skip_string(p, end);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < end) {
            char c = *p;
            if (c == '"') {
                p = caxton_json_skip_string(p, end);
                if (p == NULL) return NULL;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    /* number, true, false, null: up to the next delimiter */
    const char *start = p;
    while (p < end && !caxton_json_is_ws(*p) && *p != ',' && *p != '}' && *p != ']' && *p != ':')
        p++;
    return p == start ? NULL : p;
}

/*
 * The value of top-level key `key` in the JSON object `obj` (first occurrence).
 * Returns 1 and sets *out when found; 0 when absent or when `obj` is not an object.
 */
static inline int caxton_json_get(caxton_span obj, const char *key, caxton_span *out) {
    const char *end = obj.ptr + obj.len;
    size_t key_len = strlen(key);
    const char *p = caxton_json_skip_ws(obj.ptr, end);
    if (p >= end || *p != '{') return 0;
    p++;
    for (;;) {
        p = caxton_json_skip_ws(p, end);
        if (p >= end || *p != '"') return 0; /* '}' (end of object) or not JSON */
        const char *k = p + 1;
        const char *q = caxton_json_skip_string(p, end);
        if (q == NULL) return 0;
        p = caxton_json_skip_ws(q, end);
        if (p >= end || *p != ':') return 0;
        const char *v = caxton_json_skip_ws(p + 1, end);
        p = caxton_json_skip_value(v, end);
        if (p == NULL) return 0;
        if ((size_t)(q - 1 - k) == key_len && memcmp(k, key, key_len) == 0) {
            out->ptr = v;
            out->len = (size_t)(p - v);
            return 1;
        }
        p = caxton_json_skip_ws(p, end);
        if (p >= end || *p != ',') return 0;
        p++;
    }
}

/* Like caxton_json_get, but only a string value counts as present. */
static inline int caxton_json_get_string(caxton_span obj, const char *key, caxton_span *out) {
    caxton_span v;
    if (!caxton_json_get(obj, key, &v) || v.len == 0 || v.ptr[0] != '"') return 0;
    *out = v;
    return 1;
}

/* Whether the raw value is the JSON string `text` (no escapes), e.g. "request". */
static inline int caxton_json_string_eq(caxton_span v, const char *text) {
    size_t n = strlen(text);
    return v.len == n + 2 && v.ptr[0] == '"' && v.ptr[n + 1] == '"' &&
           memcmp(v.ptr + 1, text, n) == 0;
}

/* Whether the raw value is an integer literal: an optional '-' and one or more digits. */
static inline int caxton_json_is_int(caxton_span v) {
    size_t i = (v.len > 0 && v.ptr[0] == '-') ? 1 : 0;
    if (i == v.len) return 0;
    for (; i < v.len; i++)
        if (v.ptr[i] < '0' || v.ptr[i] > '9') return 0;
    return 1;
}

/* An integer literal of at most 18 digits into *out; returns 1 on success. */
static inline int caxton_json_int(caxton_span v, int64_t *out) {
    if (!caxton_json_is_int(v)) return 0;
    int negative = v.ptr[0] == '-';
    size_t digits = v.len - (size_t)negative;
    if (digits > 18) return 0;
    int64_t n = 0;
    for (size_t i = (size_t)negative; i < v.len; i++) n = n * 10 + (v.ptr[i] - '0');
    *out = negative ? -n : n;
    return 1;
}

/* ---- composing output ---- */

/* A growable byte buffer; start with `caxton_buf b = {0};`, end with caxton_buf_free. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set when an allocation failed; the content is then incomplete */
} caxton_buf;

static inline void caxton_buf_append(caxton_buf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n) cap *= 2;
        char *data = (char *)realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static inline void caxton_buf_puts(caxton_buf *b, const char *text) {
    caxton_buf_append(b, text, strlen(text));
}

static inline void caxton_buf_put_span(caxton_buf *b, caxton_span s) {
    caxton_buf_append(b, s.ptr, s.len);
}

static inline void caxton_buf_put_i64(caxton_buf *b, int64_t value) {
    char digits[24];
    char *p = digits + sizeof digits;
    uint64_t u = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (value < 0) *--p = '-';
    caxton_buf_append(b, p, (size_t)(digits + sizeof digits - p));
}

static inline void caxton_buf_free(caxton_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* caxton_send of the buffer; -2 (too large) if composing it ran out of memory. */
static inline int32_t caxton_buf_send(const caxton_buf *b) {
    if (b->failed) return CAXTON_E_TOO_LARGE;
    return caxton_send(b->data, (int32_t)b->len);
}

static inline void caxton_buf_log(const caxton_buf *b, int32_t level) {
    if (!b->failed) caxton_log(level, b->data, (int32_t)b->len);
}

#endif /* CAXTON_ABI_H */
