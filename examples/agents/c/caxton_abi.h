/*
 * caxton_abi.h - the header C agents used before the C SDK (src/caxton/sdk/c).
 *
 * Superseded by the SDK: new agents include caxton.h instead. It stays for
 * the test agents in tests/agents written against it (burst.c, seeker.c),
 * which their tests build with this directory on the include path.
 * Its imports carry C names of their own (caxton_abi_*, behind macros with
 * the old names), so that an agent linked with the SDK's caxton.c, as every
 * test build is, never binds them to the SDK's functions of the same names.
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
 *   - iteration over the elements of a JSON array;
 *   - a growable output buffer for composing JSON messages, with RFC 3339
 *     timestamps (for `reply_by`);
 *   - caxton_kv_get_buf: kv_get into a buffer of whatever size the value needs.
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

#ifdef CAXTON_H
#error "caxton_abi.h and caxton.h (the C SDK) cannot be used together"
#endif

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

#define caxton_send caxton_abi_send
#define caxton_log caxton_abi_log
#define caxton_now_ms caxton_abi_now_ms
#define caxton_kv_get caxton_abi_kv_get
#define caxton_kv_set caxton_abi_kv_set
#define caxton_kv_delete caxton_abi_kv_delete
#define caxton_tool_call caxton_abi_tool_call
#define caxton_register_capability caxton_abi_register_capability

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

/* Whether two raw values are the same bytes (for strings without escapes: the same text). */
static inline int caxton_span_eq(caxton_span a, caxton_span b) {
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* The text between the quotes of a raw JSON string value, escapes left as they are. */
static inline caxton_span caxton_json_string_body(caxton_span v) {
    if (v.len < 2 || v.ptr[0] != '"') return caxton_span_of(v.ptr, 0);
    return caxton_span_of(v.ptr + 1, v.len - 2);
}

/* Whether the raw value is the literal `true`. */
static inline int caxton_json_is_true(caxton_span v) {
    return v.len == 4 && memcmp(v.ptr, "true", 4) == 0;
}

/* Whether the raw value is `true` or `false`. */
static inline int caxton_json_is_bool(caxton_span v) {
    return caxton_json_is_true(v) || (v.len == 5 && memcmp(v.ptr, "false", 5) == 0);
}

/*
 * Iteration over a JSON array's elements, each as raw text:
 *
 *     caxton_json_iter it;
 *     caxton_span item;
 *     if (caxton_json_array(value, &it))
 *         while (caxton_json_next(&it, &item)) ...;
 *
 * caxton_json_next answers 0 at the end and, for malformed input, sets
 * `it.failed`, so a caller can tell a short array from a broken one.
 */
typedef struct {
    const char *p;
    const char *end;
    int started; /* an element has been read, so a ',' must come before the next */
    int failed;
} caxton_json_iter;

/* Starts iterating `arr`; 0 when it is not an array. */
static inline int caxton_json_array(caxton_span arr, caxton_json_iter *it) {
    const char *end = arr.ptr + arr.len;
    const char *p = caxton_json_skip_ws(arr.ptr, end);
    if (p >= end || *p != '[') return 0;
    it->p = p + 1;
    it->end = end;
    it->started = 0;
    it->failed = 0;
    return 1;
}

static inline int caxton_json_iter_fail(caxton_json_iter *it) {
    it->p = it->end;
    it->failed = 1;
    return 0;
}

static inline int caxton_json_next(caxton_json_iter *it, caxton_span *out) {
    const char *p = caxton_json_skip_ws(it->p, it->end);
    if (p < it->end && *p == ']') {
        it->p = p;
        return 0;
    }
    if (it->started) {
        if (p >= it->end || *p != ',') return caxton_json_iter_fail(it);
        p = caxton_json_skip_ws(p + 1, it->end);
    }
    /* A ']' or ',' here (as in "[1,]" or "[,1]") is no value: skip_value answers NULL. */
    const char *value_end = caxton_json_skip_value(p, it->end);
    if (value_end == NULL) return caxton_json_iter_fail(it);
    out->ptr = p;
    out->len = (size_t)(value_end - p);
    it->p = value_end;
    it->started = 1;
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

/* Room for `n` more bytes; 0 (and `failed` set) when memory ran out. */
static inline int caxton_buf_reserve(caxton_buf *b, size_t n) {
    if (b->failed) return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n) cap *= 2;
        char *data = (char *)realloc(b->data, cap);
        if (data == NULL) {
            b->failed = 1;
            return 0;
        }
        b->data = data;
        b->cap = cap;
    }
    return 1;
}

static inline void caxton_buf_append(caxton_buf *b, const void *src, size_t n) {
    if (!caxton_buf_reserve(b, n)) return;
    if (n > 0) memcpy(b->data + b->len, src, n);
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

/* `value` as exactly `width` decimal digits (0 <= value < 10^width). */
static inline void caxton_buf_put_digits(caxton_buf *b, int64_t value, int width) {
    char digits[20];
    for (int i = width - 1; i >= 0; i--) {
        digits[i] = (char)('0' + value % 10);
        value /= 10;
    }
    caxton_buf_append(b, digits, (size_t)width);
}

/*
 * Milliseconds since the Unix epoch (caxton_now_ms) as RFC 3339 UTC with
 * milliseconds, unquoted: 2026-11-25T10:15:00.123Z. RFC 3339 has only
 * four-digit years, so instants outside 0000-01-01..9999-12-31 are clamped.
 */
static inline void caxton_buf_put_timestamp(caxton_buf *b, int64_t ms) {
    const int64_t first = -62167219200000LL; /* 0000-01-01T00:00:00.000Z */
    const int64_t last = 253402300799999LL;  /* 9999-12-31T23:59:59.999Z */
    const int64_t day_ms = 86400000;
    if (ms < first) ms = first;
    if (ms > last) ms = last;
    int64_t days = ms / day_ms, in_day = ms % day_ms;
    if (in_day < 0) {
        in_day += day_ms;
        days--;
    }
    /* Civil date from a day count (H. Hinnant, "chrono-compatible low-level date
     * algorithms"): eras of 400 years starting on March 1st, so the leap day is
     * the last day of a shifted year and every month length is a closed form. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    int64_t month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    caxton_buf_put_digits(b, year, 4);
    caxton_buf_puts(b, "-");
    caxton_buf_put_digits(b, month, 2);
    caxton_buf_puts(b, "-");
    caxton_buf_put_digits(b, day, 2);
    caxton_buf_puts(b, "T");
    caxton_buf_put_digits(b, in_day / 3600000, 2);
    caxton_buf_puts(b, ":");
    caxton_buf_put_digits(b, in_day / 60000 % 60, 2);
    caxton_buf_puts(b, ":");
    caxton_buf_put_digits(b, in_day / 1000 % 60, 2);
    caxton_buf_puts(b, ".");
    caxton_buf_put_digits(b, in_day % 1000, 3);
    caxton_buf_puts(b, "Z");
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

/* ---- key-value store ---- */

/*
 * The value of `key` into `out` (replacing its content): the value's length,
 * -1 when absent, CAXTON_E_TOO_LARGE when memory for it ran out. kv_get
 * writes nothing when the value does not fit, so a larger value is read twice.
 */
static inline int32_t caxton_kv_get_buf(const void *key, size_t key_len, caxton_buf *out) {
    out->len = 0;
    for (;;) {
        int32_t n = caxton_kv_get(key, (int32_t)key_len, out->data, (int32_t)out->cap);
        if (n < 0) return n;
        if ((size_t)n <= out->cap) {
            out->len = (size_t)n;
            return n;
        }
        if (!caxton_buf_reserve(out, (size_t)n)) return CAXTON_E_TOO_LARGE;
    }
}

#endif /* CAXTON_ABI_H */
