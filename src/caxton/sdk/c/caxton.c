/*
 * caxton.c - the Caxton C SDK (ABI version 1); the API and its rules are in caxton.h.
 *
 * Only wasi-libc is used. Every allocation is checked: running out of memory
 * becomes CAXTON_E_NO_MEMORY or NULL, never a trap, so that the agent can
 * answer with a handler error and the host can tell the sender.
 */
#include "caxton.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* The host's imports (module "caxton"), private to the SDK                  */
/* ======================================================================== */

#define HOST_IMPORT(name) __attribute__((import_module("caxton"), import_name(name)))

HOST_IMPORT("send") int32_t caxton_host_send(const void *ptr, int32_t len);
HOST_IMPORT("log") void caxton_host_log(int32_t level, const void *ptr, int32_t len);
HOST_IMPORT("now_ms") int64_t caxton_host_now_ms(void);
HOST_IMPORT("kv_get")
int32_t caxton_host_kv_get(const void *key, int32_t key_len, void *out, int32_t cap);
HOST_IMPORT("kv_set")
int32_t caxton_host_kv_set(const void *key, int32_t key_len, const void *value, int32_t len);
HOST_IMPORT("kv_delete") int32_t caxton_host_kv_delete(const void *key, int32_t key_len);
HOST_IMPORT("tool_call") int32_t caxton_host_tool_call(const void *ptr, int32_t len);
HOST_IMPORT("register_capability")
int32_t caxton_host_register_capability(const void *ptr, int32_t len);

/* Lengths cross the ABI as i32: anything longer cannot be passed at all. */
#define ABI_MAX ((size_t)INT32_MAX)

const char *caxton_status_text(int status) {
    switch (status) {
    case CAXTON_OK: return "ok";
    case CAXTON_E_MALFORMED: return "malformed";
    case CAXTON_E_TOO_LARGE: return "too large";
    case CAXTON_E_MAILBOX_FULL: return "mailbox full";
    case CAXTON_E_NOT_PERMITTED: return "not permitted";
    case CAXTON_E_NO_MEMORY: return "no memory";
    case CAXTON_E_INVALID: return "invalid";
    default: return "error";
    }
}

/* ======================================================================== */
/* A growable byte buffer                                                    */
/* ======================================================================== */

typedef struct {
    char *data;
    size_t len, cap;
    int failed; /* set once an allocation failed; later appends do nothing */
} buffer;

static int buf_reserve(buffer *b, size_t more) {
    if (b->failed) return 0;
    if (more > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return 0;
    }
    size_t need = b->len + more + 1; /* room for a closing NUL */
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = data;
    b->cap = cap;
    return 1;
}

static void buf_add(buffer *b, const void *src, size_t n) {
    if (!buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_byte(buffer *b, char c) { buf_add(b, &c, 1); }

/* The buffer's text, NUL-terminated, handed over to the caller; NULL when it failed. */
static char *buf_take(buffer *b, size_t *len) {
    if (!b->failed && b->data == NULL) buf_reserve(b, 0);
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    b->data[b->len] = '\0';
    if (len) *len = b->len;
    return b->data;
}

/* vsnprintf into a fresh string; NULL on no memory. */
static char *vformat(const char *format, va_list args) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *format, va_list args) {
    va_list again;
    va_copy(again, args);
    char small[160];
    int n = vsnprintf(small, sizeof small, format, args);
    if (n < 0) {
        va_end(again);
        return NULL;
    }
    char *text = malloc((size_t)n + 1);
    if (text != NULL) {
        if ((size_t)n < sizeof small)
            memcpy(text, small, (size_t)n + 1);
        else
            vsnprintf(text, (size_t)n + 1, format, again);
    }
    va_end(again);
    return text;
}

static char *format(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    char *text = vformat(fmt, args);
    va_end(args);
    return text;
}

static char *copy_string(const char *text) {
    if (text == NULL) return NULL;
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy != NULL) memcpy(copy, text, n + 1);
    return copy;
}

/* ======================================================================== */
/* JSON values                                                               */
/* ======================================================================== */

struct caxton_json {
    caxton_json_type type;
    int boolean;
    char *text; /* a string, decoded and NUL-terminated; a number's literal */
    size_t len;
    char *key; /* the member's name, inside an object (NUL-terminated; may hold NULs) */
    size_t key_len;
    caxton_json *first, *last, *next;
    size_t count;
};

static caxton_json *json_node(caxton_json_type type) {
    caxton_json *v = calloc(1, sizeof *v);
    if (v != NULL) v->type = type;
    return v;
}

void caxton_json_free(caxton_json *value) {
    if (value == NULL) return;
    caxton_json *child = value->first;
    while (child != NULL) {
        caxton_json *next = child->next;
        caxton_json_free(child);
        child = next;
    }
    free(value->text);
    free(value->key);
    free(value);
}

static int key_is(const caxton_json *item, const char *key, size_t len) {
    return item->key_len == len && memcmp(item->key, key, len) == 0;
}

/* The member named key[0..len) of `object`: the last of repeated names, as the host reads them. */
static caxton_json *member_n(const caxton_json *object, const char *key, size_t len) {
    if (object == NULL || key == NULL || object->type != CAXTON_JSON_OBJECT) return NULL;
    caxton_json *found = NULL;
    for (caxton_json *item = object->first; item != NULL; item = item->next)
        if (key_is(item, key, len)) found = item;
    return found;
}

static caxton_json *member(const caxton_json *object, const char *key) {
    return key == NULL ? NULL : member_n(object, key, strlen(key));
}

/* Appends `child` (whose key, if any, is already set) to a container. */
static void json_link(caxton_json *container, caxton_json *child) {
    child->next = NULL;
    if (container->last != NULL)
        container->last->next = child;
    else
        container->first = child;
    container->last = child;
    container->count++;
}

/* ---- parsing ---- */

typedef struct {
    const unsigned char *p, *end;
    int depth;
} parser;

static void skip_ws(parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* The length of the valid UTF-8 sequence at p (RFC 3629), 0 when there is none. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    size_t n;
    unsigned char low = 0x80, high = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) low = 0xA0;  /* no overlong forms */
        if (c == 0xED) high = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) low = 0x90;
        if (c == 0xF4) high = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < low || p[1] > high) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static void put_utf8(buffer *b, uint32_t cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_add(b, out, n);
}

static int hex4(parser *ps, uint32_t *out) {
    if (ps->end - ps->p < 4) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* A string at ps->p (the opening quote), decoded into a fresh buffer; 0 when malformed. */
static int parse_string(parser *ps, char **text, size_t *len) {
    buffer b = {0};
    ps->p++;
    for (;;) {
        /* Copy the run of plain bytes at once. */
        const unsigned char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && *ps->p >= 0x20 &&
               *ps->p < 0x80)
            ps->p++;
        buf_add(&b, run, (size_t)(ps->p - run));
        if (ps->p >= ps->end) break;
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            *text = buf_take(&b, len);
            return *text != NULL;
        }
        if (c < 0x20) break; /* control characters must be escaped (RFC 8259, 7) */
        if (c >= 0x80) {
            size_t n = utf8_sequence(ps->p, ps->end);
            if (n == 0) break;
            buf_add(&b, ps->p, n);
            ps->p += n;
            continue;
        }
        /* A backslash. */
        if (++ps->p >= ps->end) break;
        c = *ps->p++;
        uint32_t cp;
        switch (c) {
        case '"': buf_byte(&b, '"'); continue;
        case '\\': buf_byte(&b, '\\'); continue;
        case '/': buf_byte(&b, '/'); continue;
        case 'b': buf_byte(&b, '\b'); continue;
        case 'f': buf_byte(&b, '\f'); continue;
        case 'n': buf_byte(&b, '\n'); continue;
        case 'r': buf_byte(&b, '\r'); continue;
        case 't': buf_byte(&b, '\t'); continue;
        case 'u':
            if (!hex4(ps, &cp)) goto malformed;
            if (cp >= 0xDC00 && cp <= 0xDFFF) goto malformed; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t low;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') goto malformed;
                ps->p += 2;
                if (!hex4(ps, &low) || low < 0xDC00 || low > 0xDFFF) goto malformed;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(&b, cp);
            continue;
        default: goto malformed;
        }
    }
malformed:
    free(b.data);
    return 0;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static caxton_json *parse_number(parser *ps) {
    const unsigned char *start = ps->p;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end) return NULL;
    if (*ps->p == '0') {
        ps->p++;
    } else if (is_digit(*ps->p)) {
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    } else {
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) return NULL;
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) return NULL;
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    caxton_json *v = json_node(CAXTON_JSON_NUMBER);
    if (v == NULL) return NULL;
    v->len = (size_t)(ps->p - start);
    v->text = malloc(v->len + 1);
    if (v->text == NULL) {
        free(v);
        return NULL;
    }
    memcpy(v->text, start, v->len);
    v->text[v->len] = '\0';
    return v;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static caxton_json *parse_value(parser *ps);

static caxton_json *parse_container(parser *ps, int is_object) {
    if (++ps->depth > CAXTON_JSON_MAX_DEPTH) return NULL;
    caxton_json *v = json_node(is_object ? CAXTON_JSON_OBJECT : CAXTON_JSON_ARRAY);
    if (v == NULL) return NULL;
    char close = is_object ? '}' : ']';
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len;
        if (is_object) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"' || !parse_string(ps, &key, &key_len)) break;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                break;
            }
            ps->p++;
        }
        caxton_json *item = parse_value(ps);
        if (item == NULL) {
            free(key);
            break;
        }
        item->key = key;
        item->key_len = key_len;
        json_link(v, item);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return v;
        }
        break;
    }
    caxton_json_free(v);
    return NULL;
}

static caxton_json *parse_value(parser *ps) {
    skip_ws(ps);
    if (ps->p >= ps->end) return NULL;
    switch (*ps->p) {
    case '{': return parse_container(ps, 1);
    case '[': return parse_container(ps, 0);
    case '"': {
        caxton_json *v = json_node(CAXTON_JSON_STRING);
        if (v != NULL && !parse_string(ps, &v->text, &v->len)) {
            free(v);
            return NULL;
        }
        return v;
    }
    case 't':
    case 'f': {
        int value = *ps->p == 't';
        if (!literal(ps, value ? "true" : "false")) return NULL;
        caxton_json *v = json_node(CAXTON_JSON_BOOL);
        if (v != NULL) v->boolean = value;
        return v;
    }
    case 'n': return literal(ps, "null") ? json_node(CAXTON_JSON_NULL) : NULL;
    default: return parse_number(ps);
    }
}

caxton_json *caxton_json_parse(const char *text, size_t len) {
    if (text == NULL) return NULL;
    parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
    caxton_json *v = parse_value(&ps);
    if (v == NULL) return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        caxton_json_free(v);
        return NULL;
    }
    return v;
}

caxton_json *caxton_json_parse_str(const char *text) {
    return text == NULL ? NULL : caxton_json_parse(text, strlen(text));
}

/* ---- serializing ---- */

static void put_json_string(buffer *b, const char *text, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    buf_byte(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        buf_add(b, run, (size_t)(p - run));
        if (p >= end) break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = utf8_sequence(p, end);
            if (n == 0) {
                buf_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD for a byte that is not UTF-8 */
                p++;
            } else {
                buf_add(b, p, n);
                p += n;
            }
            continue;
        }
        p++;
        switch (c) {
        case '"': buf_add(b, "\\\"", 2); break;
        case '\\': buf_add(b, "\\\\", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\r': buf_add(b, "\\r", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        case '\b': buf_add(b, "\\b", 2); break;
        case '\f': buf_add(b, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_add(b, esc, 6);
        }
        }
    }
    buf_byte(b, '"');
}

static void put_json(buffer *b, const caxton_json *v) {
    switch (v->type) {
    case CAXTON_JSON_NULL: buf_add(b, "null", 4); return;
    case CAXTON_JSON_BOOL: v->boolean ? buf_add(b, "true", 4) : buf_add(b, "false", 5); return;
    case CAXTON_JSON_NUMBER: buf_add(b, v->text, v->len); return;
    case CAXTON_JSON_STRING: put_json_string(b, v->text, v->len); return;
    case CAXTON_JSON_ARRAY:
    case CAXTON_JSON_OBJECT: {
        int is_object = v->type == CAXTON_JSON_OBJECT;
        buf_byte(b, is_object ? '{' : '[');
        for (const caxton_json *item = v->first; item != NULL && !b->failed; item = item->next) {
            if (item != v->first) buf_byte(b, ',');
            if (is_object) {
                put_json_string(b, item->key ? item->key : "", item->key_len);
                buf_byte(b, ':');
            }
            put_json(b, item);
        }
        buf_byte(b, is_object ? '}' : ']');
        return;
    }
    }
}

char *caxton_json_serialize(const caxton_json *value, size_t *len) {
    if (value == NULL) return NULL;
    buffer b = {0};
    put_json(&b, value);
    return buf_take(&b, len);
}

/* ---- copying and comparing ---- */

static char *copy_bytes(const char *text, size_t len) {
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
}

caxton_json *caxton_json_copy(const caxton_json *value) {
    if (value == NULL) return NULL;
    caxton_json *v = json_node(value->type);
    if (v == NULL) return NULL;
    v->boolean = value->boolean;
    if (value->text != NULL) {
        v->len = value->len;
        if ((v->text = copy_bytes(value->text, value->len)) == NULL) goto failed;
    }
    for (const caxton_json *item = value->first; item != NULL; item = item->next) {
        caxton_json *copy = caxton_json_copy(item);
        if (copy == NULL) goto failed;
        copy->key_len = item->key_len;
        if (item->key != NULL && (copy->key = copy_bytes(item->key, item->key_len)) == NULL) {
            caxton_json_free(copy);
            goto failed;
        }
        json_link(v, copy);
    }
    return v;
failed:
    caxton_json_free(v);
    return NULL;
}

int caxton_json_equal(const caxton_json *a, const caxton_json *b) {
    if (a == NULL || b == NULL) return a == b;
    if (a->type != b->type) return 0;
    switch (a->type) {
    case CAXTON_JSON_NULL: return 1;
    case CAXTON_JSON_BOOL: return a->boolean == b->boolean;
    case CAXTON_JSON_NUMBER: {
        int64_t x, y;
        if (caxton_json_int(a, &x) && caxton_json_int(b, &y)) return x == y;
        return strtod(a->text, NULL) == strtod(b->text, NULL);
    }
    case CAXTON_JSON_STRING: return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    case CAXTON_JSON_ARRAY: {
        if (a->count != b->count) return 0;
        const caxton_json *x = a->first, *y = b->first;
        for (; x != NULL; x = x->next, y = y->next)
            if (!caxton_json_equal(x, y)) return 0;
        return 1;
    }
    case CAXTON_JSON_OBJECT: {
        /* Members compare by name, whatever their order. */
        if (a->count != b->count) return 0;
        for (const caxton_json *x = a->first; x != NULL; x = x->next)
            if (!caxton_json_equal(x, member_n(b, x->key, x->key_len))) return 0;
        return 1;
    }
    }
    return 0;
}

/* ---- reading ---- */

caxton_json_type caxton_json_typeof(const caxton_json *value) {
    return value == NULL ? CAXTON_JSON_NULL : value->type;
}

int caxton_json_is_null(const caxton_json *value) {
    return value == NULL || value->type == CAXTON_JSON_NULL;
}


const caxton_json *caxton_json_get(const caxton_json *object, const char *key) {
    return member(object, key);
}

const caxton_json *caxton_json_at(const caxton_json *array, size_t index) {
    if (array == NULL || (array->type != CAXTON_JSON_ARRAY && array->type != CAXTON_JSON_OBJECT))
        return NULL;
    const caxton_json *item = array->first;
    while (item != NULL && index-- > 0) item = item->next;
    return item;
}

size_t caxton_json_size(const caxton_json *value) {
    return value == NULL ? 0 : value->count;
}

const caxton_json *caxton_json_first(const caxton_json *container) {
    return container == NULL ? NULL : container->first;
}

const caxton_json *caxton_json_next(const caxton_json *item) {
    return item == NULL ? NULL : item->next;
}

const char *caxton_json_key(const caxton_json *member) {
    return member == NULL ? NULL : member->key;
}

const char *caxton_json_string(const caxton_json *value) {
    return value != NULL && value->type == CAXTON_JSON_STRING ? value->text : NULL;
}

size_t caxton_json_string_length(const caxton_json *value) {
    return value != NULL && value->type == CAXTON_JSON_STRING ? value->len : 0;
}

int caxton_json_string_is(const caxton_json *value, const char *text) {
    return value != NULL && text != NULL && value->type == CAXTON_JSON_STRING &&
           value->len == strlen(text) && memcmp(value->text, text, value->len) == 0;
}

int caxton_json_int(const caxton_json *value, int64_t *out) {
    if (value == NULL || value->type != CAXTON_JSON_NUMBER) return 0;
    const char *p = value->text;
    int negative = *p == '-';
    if (negative) p++;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t n = 0;
    for (; *p; p++) {
        if (!is_digit((unsigned char)*p)) return 0; /* a fraction or an exponent */
        uint64_t digit = (uint64_t)(*p - '0');
        if (n > (limit - digit) / 10) return 0;
        n = n * 10 + digit;
    }
    if (out) *out = negative ? (int64_t)(0 - n) : (int64_t)n;
    return 1;
}

int caxton_json_double(const caxton_json *value, double *out) {
    if (value == NULL || value->type != CAXTON_JSON_NUMBER) return 0;
    if (out) *out = strtod(value->text, NULL);
    return 1;
}

const char *caxton_json_number_text(const caxton_json *value) {
    return value != NULL && value->type == CAXTON_JSON_NUMBER ? value->text : NULL;
}

int caxton_json_bool(const caxton_json *value, int *out) {
    if (value == NULL || value->type != CAXTON_JSON_BOOL) return 0;
    if (out) *out = value->boolean;
    return 1;
}

const char *caxton_json_get_string(const caxton_json *object, const char *key) {
    return caxton_json_string(caxton_json_get(object, key));
}

int caxton_json_get_int(const caxton_json *object, const char *key, int64_t *out) {
    return caxton_json_int(caxton_json_get(object, key), out);
}

int caxton_json_get_bool(const caxton_json *object, const char *key, int *out) {
    return caxton_json_bool(caxton_json_get(object, key), out);
}

/* ---- building ---- */

caxton_json *caxton_json_new_null(void) { return json_node(CAXTON_JSON_NULL); }

caxton_json *caxton_json_new_bool(int value) {
    caxton_json *v = json_node(CAXTON_JSON_BOOL);
    if (v != NULL) v->boolean = value != 0;
    return v;
}

static caxton_json *number_of_text(const char *text) {
    caxton_json *v = json_node(CAXTON_JSON_NUMBER);
    if (v == NULL) return NULL;
    v->len = strlen(text);
    if ((v->text = copy_bytes(text, v->len)) == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

caxton_json *caxton_json_new_int(int64_t value) {
    char digits[24];
    snprintf(digits, sizeof digits, "%lld", (long long)value);
    return number_of_text(digits);
}

caxton_json *caxton_json_new_double(double value) {
    if (!isfinite(value)) return NULL; /* JSON has no NaN or infinity */
    char text[32];
    /* The shortest %g that reads back as the same double. */
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value) break;
    }
    return number_of_text(text);
}

caxton_json *caxton_json_new_stringn(const char *text, size_t len) {
    if (text == NULL) return NULL;
    caxton_json *v = json_node(CAXTON_JSON_STRING);
    if (v == NULL) return NULL;
    v->len = len;
    if ((v->text = copy_bytes(text, len)) == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

caxton_json *caxton_json_new_string(const char *text) {
    return text == NULL ? NULL : caxton_json_new_stringn(text, strlen(text));
}

caxton_json *caxton_json_new_array(void) { return json_node(CAXTON_JSON_ARRAY); }

caxton_json *caxton_json_new_object(void) { return json_node(CAXTON_JSON_OBJECT); }

/* Unlinks and frees the first member named `key` after `from` (from the start when NULL). */
static int remove_member(caxton_json *object, caxton_json *from, const char *key) {
    caxton_json *prev = from, *item = from != NULL ? from->next : object->first;
    size_t len = strlen(key);
    while (item != NULL && !key_is(item, key, len)) {
        prev = item;
        item = item->next;
    }
    if (item == NULL) return 0;
    if (prev != NULL)
        prev->next = item->next;
    else
        object->first = item->next;
    if (object->last == item) object->last = prev;
    object->count--;
    caxton_json_free(item);
    return 1;
}

int caxton_json_set(caxton_json *object, const char *key, caxton_json *value) {
    if (object == NULL || key == NULL || value == NULL || object->type != CAXTON_JSON_OBJECT) {
        caxton_json_free(value);
        return value == NULL ? CAXTON_E_NO_MEMORY : CAXTON_E_INVALID;
    }
    char *name = copy_string(key);
    if (name == NULL) {
        caxton_json_free(value);
        return CAXTON_E_NO_MEMORY;
    }
    free(value->key);
    value->key = name;
    value->key_len = strlen(name);
    caxton_json *prev = NULL, *item = object->first;
    while (item != NULL && !key_is(item, name, value->key_len)) {
        prev = item;
        item = item->next;
    }
    if (item == NULL) {
        json_link(object, value);
        return CAXTON_OK;
    }
    /* Take the old member's place, then drop any later members of the same name. */
    value->next = item->next;
    if (prev != NULL)
        prev->next = value;
    else
        object->first = value;
    if (object->last == item) object->last = value;
    caxton_json_free(item);
    while (remove_member(object, value, key)) {
    }
    return CAXTON_OK;
}

int caxton_json_set_string(caxton_json *object, const char *key, const char *text) {
    return caxton_json_set(object, key, caxton_json_new_string(text));
}

int caxton_json_set_int(caxton_json *object, const char *key, int64_t value) {
    return caxton_json_set(object, key, caxton_json_new_int(value));
}

int caxton_json_set_bool(caxton_json *object, const char *key, int value) {
    return caxton_json_set(object, key, caxton_json_new_bool(value));
}

int caxton_json_remove(caxton_json *object, const char *key) {
    if (object == NULL || key == NULL || object->type != CAXTON_JSON_OBJECT) return 0;
    int removed = 0;
    while (remove_member(object, NULL, key)) removed = 1;
    return removed;
}

int caxton_json_append(caxton_json *array, caxton_json *value) {
    if (array == NULL || value == NULL || array->type != CAXTON_JSON_ARRAY) {
        caxton_json_free(value);
        return value == NULL ? CAXTON_E_NO_MEMORY : CAXTON_E_INVALID;
    }
    free(value->key);
    value->key = NULL;
    value->key_len = 0;
    json_link(array, value);
    return CAXTON_OK;
}

/* ======================================================================== */
/* ACL messages                                                              */
/* ======================================================================== */

struct caxton_message {
    caxton_json *json; /* always an object */
};

static caxton_message *message_of(caxton_json *json) {
    if (json == NULL || json->type != CAXTON_JSON_OBJECT) {
        caxton_json_free(json);
        return NULL;
    }
    caxton_message *m = malloc(sizeof *m);
    if (m == NULL) {
        caxton_json_free(json);
        return NULL;
    }
    m->json = json;
    return m;
}

caxton_message *caxton_message_new(const char *performative) {
    caxton_message *m = message_of(caxton_json_new_object());
    if (m != NULL && performative != NULL &&
        caxton_json_set_string(m->json, "performative", performative) != CAXTON_OK) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

caxton_message *caxton_message_parse(const char *json, size_t len) {
    return message_of(caxton_json_parse(json, len));
}

caxton_message *caxton_message_copy(const caxton_message *message) {
    return message == NULL ? NULL : message_of(caxton_json_copy(message->json));
}

char *caxton_message_serialize(const caxton_message *message, size_t *len) {
    return message == NULL ? NULL : caxton_json_serialize(message->json, len);
}

void caxton_message_free(caxton_message *message) {
    if (message == NULL) return;
    caxton_json_free(message->json);
    free(message);
}

const caxton_json *caxton_message_json(const caxton_message *message) {
    return message == NULL ? NULL : message->json;
}

const caxton_json *caxton_message_get(const caxton_message *message, const char *key) {
    return message == NULL ? NULL : caxton_json_get(message->json, key);
}

const char *caxton_message_string(const caxton_message *message, const char *key) {
    return caxton_json_string(caxton_message_get(message, key));
}

const char *caxton_message_performative(const caxton_message *m) {
    return caxton_message_string(m, "performative");
}
const char *caxton_message_sender(const caxton_message *m) {
    return caxton_message_string(m, "sender");
}
const char *caxton_message_conversation_id(const caxton_message *m) {
    return caxton_message_string(m, "conversation_id");
}
const char *caxton_message_reply_with(const caxton_message *m) {
    return caxton_message_string(m, "reply_with");
}
const char *caxton_message_in_reply_to(const caxton_message *m) {
    return caxton_message_string(m, "in_reply_to");
}
const char *caxton_message_protocol(const caxton_message *m) {
    return caxton_message_string(m, "protocol");
}
const char *caxton_message_ontology(const caxton_message *m) {
    return caxton_message_string(m, "ontology");
}
const char *caxton_message_language(const caxton_message *m) {
    return caxton_message_string(m, "language");
}
const char *caxton_message_encoding(const caxton_message *m) {
    return caxton_message_string(m, "encoding");
}
const char *caxton_message_reply_by(const caxton_message *m) {
    return caxton_message_string(m, "reply_by");
}
const char *caxton_message_id(const caxton_message *m) {
    return caxton_message_string(m, "message_id");
}

int caxton_message_is(const caxton_message *message, const char *performative) {
    return caxton_json_string_is(caxton_message_get(message, "performative"), performative);
}

size_t caxton_message_receiver_count(const caxton_message *message) {
    const caxton_json *receiver = caxton_message_get(message, "receiver");
    if (receiver == NULL) return 0;
    if (receiver->type == CAXTON_JSON_STRING) return 1;
    return receiver->type == CAXTON_JSON_ARRAY ? receiver->count : 0;
}

const char *caxton_message_receiver(const caxton_message *message, size_t index) {
    const caxton_json *receiver = caxton_message_get(message, "receiver");
    if (receiver != NULL && receiver->type == CAXTON_JSON_STRING)
        return index == 0 ? receiver->text : NULL;
    if (receiver == NULL || receiver->type != CAXTON_JSON_ARRAY) return NULL;
    return caxton_json_string(caxton_json_at(receiver, index));
}

const caxton_json *caxton_message_content(const caxton_message *message) {
    return caxton_message_get(message, "content");
}

char *caxton_message_content_text(const caxton_message *message, size_t *len) {
    return caxton_json_serialize(caxton_message_content(message), len);
}

int caxton_message_set(caxton_message *message, const char *key, caxton_json *value) {
    if (message == NULL) {
        caxton_json_free(value);
        return CAXTON_E_INVALID;
    }
    return caxton_json_set(message->json, key, value);
}

int caxton_message_set_string(caxton_message *message, const char *key, const char *value) {
    if (value == NULL) return CAXTON_E_INVALID;
    return caxton_message_set(message, key, caxton_json_new_string(value));
}

int caxton_message_remove(caxton_message *message, const char *key) {
    return message == NULL ? 0 : caxton_json_remove(message->json, key);
}

int caxton_message_set_performative(caxton_message *m, const char *performative) {
    return caxton_message_set_string(m, "performative", performative);
}

int caxton_message_set_receiver(caxton_message *m, const char *name) {
    return caxton_message_set_string(m, "receiver", name);
}

int caxton_message_add_receiver(caxton_message *m, const char *name) {
    if (m == NULL || name == NULL) return CAXTON_E_INVALID;
    caxton_json *current = member(m->json, "receiver");
    if (current == NULL) return caxton_message_set_receiver(m, name);
    if (current->type == CAXTON_JSON_ARRAY)
        return caxton_json_append(current, caxton_json_new_string(name));
    caxton_json *list = caxton_json_new_array();
    caxton_json_append(list, caxton_json_copy(current));
    if (list == NULL || list->count != 1) {
        caxton_json_free(list);
        return CAXTON_E_NO_MEMORY;
    }
    int status = caxton_json_append(list, caxton_json_new_string(name));
    if (status != CAXTON_OK) {
        caxton_json_free(list);
        return status;
    }
    return caxton_message_set(m, "receiver", list);
}

int caxton_message_set_receivers(caxton_message *m, const caxton_json *names) {
    if (names == NULL || (names->type != CAXTON_JSON_ARRAY && names->type != CAXTON_JSON_STRING))
        return CAXTON_E_INVALID;
    return caxton_message_set(m, "receiver", caxton_json_copy(names));
}

int caxton_message_set_content(caxton_message *m, caxton_json *content) {
    return caxton_message_set(m, "content", content);
}

int caxton_message_set_content_text(caxton_message *m, const char *json) {
    caxton_json *content = caxton_json_parse_str(json);
    if (content == NULL) return CAXTON_E_MALFORMED;
    return caxton_message_set(m, "content", content);
}

int caxton_message_set_conversation_id(caxton_message *m, const char *id) {
    return caxton_message_set_string(m, "conversation_id", id);
}
int caxton_message_set_reply_with(caxton_message *m, const char *reply_with) {
    return caxton_message_set_string(m, "reply_with", reply_with);
}
int caxton_message_set_in_reply_to(caxton_message *m, const char *in_reply_to) {
    return caxton_message_set_string(m, "in_reply_to", in_reply_to);
}
int caxton_message_set_protocol(caxton_message *m, const char *protocol) {
    return caxton_message_set_string(m, "protocol", protocol);
}
int caxton_message_set_ontology(caxton_message *m, const char *ontology) {
    return caxton_message_set_string(m, "ontology", ontology);
}
int caxton_message_set_language(caxton_message *m, const char *language) {
    return caxton_message_set_string(m, "language", language);
}
int caxton_message_set_reply_by(caxton_message *m, const char *rfc3339) {
    return caxton_message_set_string(m, "reply_by", rfc3339);
}

int caxton_message_set_reply_by_ms(caxton_message *m, int64_t epoch_ms) {
    char stamp[CAXTON_TIMESTAMP_SIZE];
    caxton_timestamp(epoch_ms, stamp);
    return caxton_message_set_string(m, "reply_by", stamp);
}

/* ======================================================================== */
/* Sending and replying                                                      */
/* ======================================================================== */

int caxton_send(const caxton_message *message) {
    if (message == NULL) return CAXTON_E_INVALID;
    size_t len;
    char *text = caxton_message_serialize(message, &len);
    if (text == NULL) return CAXTON_E_NO_MEMORY;
    int status = len > ABI_MAX ? CAXTON_E_TOO_LARGE : caxton_host_send(text, (int32_t)len);
    free(text);
    return status;
}

caxton_message *caxton_reply_new(const caxton_message *original, const char *performative) {
    const char *sender = caxton_message_sender(original);
    if (sender == NULL || performative == NULL) return NULL;
    caxton_message *reply = caxton_message_new(performative);
    if (reply == NULL) return NULL;
    static const char *const copied[] = {"conversation_id", "protocol"};
    int status = caxton_message_set_receiver(reply, sender);
    const char *reply_with = caxton_message_reply_with(original);
    if (status == CAXTON_OK && reply_with != NULL)
        status = caxton_message_set_in_reply_to(reply, reply_with);
    for (size_t i = 0; status == CAXTON_OK && i < sizeof copied / sizeof copied[0]; i++) {
        const char *value = caxton_message_string(original, copied[i]);
        if (value != NULL) status = caxton_message_set_string(reply, copied[i], value);
    }
    if (status != CAXTON_OK) {
        caxton_message_free(reply);
        return NULL;
    }
    return reply;
}

/* Sends `reply` with `content` (taken over) and frees both. */
static int send_with_content(caxton_message *reply, caxton_json *content) {
    int status = content == NULL ? CAXTON_OK : caxton_message_set_content(reply, content);
    if (status == CAXTON_OK) status = caxton_send(reply);
    caxton_message_free(reply);
    return status;
}

int caxton_reply(const caxton_message *original, const char *performative, caxton_json *content) {
    caxton_message *reply = caxton_reply_new(original, performative);
    if (reply == NULL) {
        caxton_json_free(content);
        return caxton_message_sender(original) == NULL || performative == NULL
                   ? CAXTON_E_INVALID
                   : CAXTON_E_NO_MEMORY;
    }
    return send_with_content(reply, content);
}

int caxton_reply_text(const caxton_message *original, const char *performative,
                      const char *content_json) {
    caxton_json *content = NULL;
    if (content_json != NULL && (content = caxton_json_parse_str(content_json)) == NULL)
        return CAXTON_E_MALFORMED;
    return caxton_reply(original, performative, content);
}

caxton_json *caxton_reason(const char *text) {
    caxton_json *reason = caxton_json_new_object();
    if (caxton_json_set_string(reason, "reason", text) != CAXTON_OK) {
        caxton_json_free(reason);
        return NULL;
    }
    return reason;
}

/* ======================================================================== */
/* Logging, time                                                             */
/* ======================================================================== */

static void log_bytes(int level, const char *text, size_t len) {
    caxton_host_log(level, text, (int32_t)(len > ABI_MAX ? ABI_MAX : len));
}

void caxton_log(int level, const char *text) {
    if (text != NULL) log_bytes(level, text, strlen(text));
}

static void vlog(int level, const char *fmt, va_list args) __attribute__((format(printf, 2, 0)));
static void vlog(int level, const char *fmt, va_list args) {
    char *text = vformat(fmt, args);
    /* Out of memory, the format itself still says what was meant. */
    caxton_log(level, text != NULL ? text : fmt);
    free(text);
}

void caxton_logf(int level, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vlog(level, fmt, args);
    va_end(args);
}

#define LEVEL_FUNCTION(name, level)                                                            \
    void name(const char *fmt, ...) {                                                          \
        va_list args;                                                                          \
        va_start(args, fmt);                                                                   \
        vlog(level, fmt, args);                                                                \
        va_end(args);                                                                          \
    }
LEVEL_FUNCTION(caxton_debug, CAXTON_LOG_DEBUG)
LEVEL_FUNCTION(caxton_info, CAXTON_LOG_INFO)
LEVEL_FUNCTION(caxton_warn, CAXTON_LOG_WARN)
LEVEL_FUNCTION(caxton_error, CAXTON_LOG_ERROR)

int64_t caxton_now_ms(void) { return caxton_host_now_ms(); }

void caxton_timestamp(int64_t ms, char out[CAXTON_TIMESTAMP_SIZE]) {
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
    snprintf(out, CAXTON_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)year,
             (int)month, (int)day, (int)(in_day / 3600000), (int)(in_day / 60000 % 60),
             (int)(in_day / 1000 % 60), (int)(in_day % 1000));
}

/* ======================================================================== */
/* Key-value state                                                           */
/* ======================================================================== */

int caxton_kv_get(const char *key, char **value, size_t *len) {
    if (key == NULL || value == NULL) return CAXTON_E_INVALID;
    size_t key_len = strlen(key);
    if (key_len > ABI_MAX) return CAXTON_E_TOO_LARGE;
    size_t cap = 256;
    char *data = NULL;
    /* kv_get writes nothing when the value does not fit: then ask again with room. */
    for (;;) {
        char *bigger = realloc(data, cap + 1);
        if (bigger == NULL) {
            free(data);
            return CAXTON_E_NO_MEMORY;
        }
        data = bigger;
        int32_t n = caxton_host_kv_get(key, (int32_t)key_len, data, (int32_t)cap);
        if (n < 0) {
            free(data);
            return n == -1 ? 0 : n;
        }
        if ((size_t)n <= cap) {
            data[n] = '\0';
            *value = data;
            if (len) *len = (size_t)n;
            return 1;
        }
        cap = (size_t)n;
    }
}

int caxton_kv_set(const char *key, const void *value, size_t len) {
    if (key == NULL || (value == NULL && len > 0)) return CAXTON_E_INVALID;
    size_t key_len = strlen(key);
    if (key_len > ABI_MAX || len > ABI_MAX) return CAXTON_E_TOO_LARGE;
    return caxton_host_kv_set(key, (int32_t)key_len, value != NULL ? value : "", (int32_t)len);
}

int caxton_kv_set_string(const char *key, const char *value) {
    return value == NULL ? CAXTON_E_INVALID : caxton_kv_set(key, value, strlen(value));
}

int caxton_kv_delete(const char *key) {
    if (key == NULL) return CAXTON_E_INVALID;
    size_t key_len = strlen(key);
    return key_len > ABI_MAX ? CAXTON_E_TOO_LARGE : caxton_host_kv_delete(key, (int32_t)key_len);
}

caxton_json *caxton_kv_get_json(const char *key) {
    char *text;
    size_t len;
    if (caxton_kv_get(key, &text, &len) != 1) return NULL;
    caxton_json *value = caxton_json_parse(text, len);
    free(text);
    return value;
}

int caxton_kv_set_json(const char *key, const caxton_json *value) {
    if (value == NULL) return CAXTON_E_INVALID;
    size_t len;
    char *text = caxton_json_serialize(value, &len);
    if (text == NULL) return CAXTON_E_NO_MEMORY;
    int status = caxton_kv_set(key, text, len);
    free(text);
    return status;
}

int caxton_kv_get_int(const char *key, int64_t *out) {
    char *text;
    size_t len;
    if (caxton_kv_get(key, &text, &len) != 1) return 0;
    /* The digits must make a JSON integer literal; a number node reads them. */
    caxton_json *number = caxton_json_parse(text, len);
    int found = caxton_json_int(number, out);
    caxton_json_free(number);
    free(text);
    return found;
}

int caxton_kv_set_int(const char *key, int64_t value) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)value);
    return caxton_kv_set(key, digits, (size_t)n);
}

/* ======================================================================== */
/* MCP tools                                                                 */
/* ======================================================================== */

int caxton_tool_call(const char *tool, const caxton_json *arguments, const char *reply_with) {
    if (tool == NULL || reply_with == NULL) return CAXTON_E_INVALID;
    if (arguments != NULL && arguments->type != CAXTON_JSON_OBJECT) return CAXTON_E_INVALID;
    caxton_json *call = caxton_json_new_object();
    int status = caxton_json_set_string(call, "tool", tool);
    if (status == CAXTON_OK)
        status = caxton_json_set(call, "arguments", arguments != NULL ? caxton_json_copy(arguments)
                                                                      : caxton_json_new_object());
    if (status == CAXTON_OK) status = caxton_json_set_string(call, "reply_with", reply_with);
    size_t len = 0;
    char *text = status == CAXTON_OK ? caxton_json_serialize(call, &len) : NULL;
    caxton_json_free(call);
    if (text == NULL) return status != CAXTON_OK ? status : CAXTON_E_NO_MEMORY;
    status = len > ABI_MAX ? CAXTON_E_TOO_LARGE : caxton_host_tool_call(text, (int32_t)len);
    free(text);
    return status;
}

int caxton_tool_call_text(const char *tool, const char *arguments_json, const char *reply_with) {
    caxton_json *arguments = NULL;
    if (arguments_json != NULL && (arguments = caxton_json_parse_str(arguments_json)) == NULL)
        return CAXTON_E_MALFORMED;
    int status = caxton_tool_call(tool, arguments, reply_with);
    caxton_json_free(arguments);
    return status;
}

int caxton_tool_result_of(const caxton_message *message, const char *reply_with,
                          caxton_tool_result *out) {
    /* The platform answers tool calls in its own name and names the tool in x-caxton-tool. */
    const char *tool = caxton_message_string(message, "x-caxton-tool");
    if (tool == NULL || !caxton_json_string_is(caxton_message_get(message, "sender"), "caxton"))
        return 0;
    int ok = caxton_message_is(message, "inform");
    if (!ok && !caxton_message_is(message, "failure")) return 0;
    const char *in_reply_to = caxton_message_in_reply_to(message);
    if (reply_with != NULL && (in_reply_to == NULL || strcmp(in_reply_to, reply_with) != 0))
        return 0;
    const caxton_json *content = caxton_message_content(message);
    caxton_tool_result result = {0};
    result.ok = ok;
    result.tool = tool;
    result.content = caxton_json_get(content, "content");
    if (ok) {
        result.structured = caxton_json_get(content, "structured");
    } else {
        result.error = caxton_json_get_string(content, "error");
        result.reason = caxton_json_get_string(content, "reason");
    }
    if (out) *out = result;
    return 1;
}

char *caxton_tool_text(const caxton_tool_result *result) {
    buffer b = {0};
    int first = 1;
    if (result != NULL) {
        for (const caxton_json *block = caxton_json_first(result->content); block != NULL;
             block = block->next) {
            const caxton_json *text = caxton_json_get(block, "text");
            if (!caxton_json_string_is(caxton_json_get(block, "type"), "text") ||
                text == NULL || text->type != CAXTON_JSON_STRING)
                continue;
            if (!first) buf_byte(&b, '\n');
            buf_add(&b, text->text, text->len);
            first = 0;
        }
    }
    return buf_take(&b, NULL);
}

/* ======================================================================== */
/* Capabilities                                                              */
/* ======================================================================== */

int caxton_register_capability(const char *name, const char *version, const char *description,
                               const char *input_schema_json) {
    if (name == NULL) return CAXTON_E_INVALID;
    caxton_json *schema = NULL;
    if (input_schema_json != NULL) {
        schema = caxton_json_parse_str(input_schema_json);
        if (schema == NULL) return CAXTON_E_MALFORMED;
    }
    caxton_json *capability = caxton_json_new_object();
    int status = caxton_json_set_string(capability, "name", name);
    if (status == CAXTON_OK && version != NULL)
        status = caxton_json_set_string(capability, "version", version);
    if (status == CAXTON_OK && description != NULL)
        status = caxton_json_set_string(capability, "description", description);
    if (status == CAXTON_OK && schema != NULL) {
        status = caxton_json_set(capability, "input_schema", schema);
        schema = NULL;
    }
    caxton_json_free(schema);
    size_t len = 0;
    char *text = status == CAXTON_OK ? caxton_json_serialize(capability, &len) : NULL;
    caxton_json_free(capability);
    if (text == NULL) return status != CAXTON_OK ? status : CAXTON_E_NO_MEMORY;
    status = caxton_host_register_capability(text, (int32_t)len);
    free(text);
    return status;
}

/* ======================================================================== */
/* Protocols                                                                 */
/* ======================================================================== */

#define PLATFORM "caxton"
#define CNET "fipa-contract-net"
/* kv keys embed the conversation id and a name; the host caps keys at 1024 bytes. */
#define MAX_CONVERSATION_ID 512
#define MAX_NAME 63

const char *caxton_verdict_performative(caxton_verdict verdict) {
    switch (verdict) {
    case CAXTON_INFORM: return "inform";
    case CAXTON_AGREE: return "agree";
    case CAXTON_REFUSE: return "refuse";
    case CAXTON_FAILURE: return "failure";
    case CAXTON_NOT_UNDERSTOOD: return "not-understood";
    case CAXTON_PROPOSE: return "propose";
    default: return NULL;
    }
}

int caxton_is_agent_name(const char *name) {
    if (name == NULL || !(name[0] >= 'a' && name[0] <= 'z')) return 0;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return n <= MAX_NAME;
}

/* Whether `value` is "<conversation><suffix>". */
static int is_suffixed(const char *value, const char *conversation, const char *suffix) {
    size_t n = strlen(conversation);
    return value != NULL && strncmp(value, conversation, n) == 0 && strcmp(value + n, suffix) == 0;
}

/*
 * Sends `message` with `content` (both taken over; message NULL means memory
 * gave out). 0, or -1 when memory gave out; a refusal by the host is only
 * logged, as the conversation goes on without that message.
 */
static int send_logged(caxton_message *message, const char *performative, caxton_json *content,
                       const char *who) {
    if (message == NULL) {
        caxton_json_free(content);
        return -1;
    }
    int status = send_with_content(message, content);
    if (status == CAXTON_E_NO_MEMORY) return -1;
    if (status < 0) caxton_warn("%s: %s not sent: %s", who, performative, caxton_status_text(status));
    return 0;
}

/* ---- fipa-request ---- */

int caxton_request_serve(const caxton_message *message, caxton_request_work work, void *user) {
    if (!caxton_message_is(message, "request")) return 0;
    caxton_json *content = NULL;
    caxton_verdict verdict = work != NULL ? work(message, &content, user) : CAXTON_NOT_UNDERSTOOD;
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    int status = caxton_reply(message, performative, content);
    if (status == CAXTON_E_NO_MEMORY) return -1;
    if (status < 0) caxton_warn("request: %s not sent: %s", performative, caxton_status_text(status));
    return 1;
}

int caxton_request_send(const char *receiver, caxton_json *content, const char *reply_with) {
    if (receiver == NULL || reply_with == NULL) {
        caxton_json_free(content);
        return CAXTON_E_INVALID;
    }
    caxton_message *request = caxton_message_new("request");
    int status = request != NULL ? CAXTON_OK : CAXTON_E_NO_MEMORY;
    if (status == CAXTON_OK) status = caxton_message_set_receiver(request, receiver);
    if (status == CAXTON_OK) status = caxton_message_set_protocol(request, "fipa-request");
    if (status == CAXTON_OK) status = caxton_message_set_reply_with(request, reply_with);
    if (status == CAXTON_OK && content != NULL) {
        status = caxton_message_set_content(request, content);
        content = NULL;
    }
    caxton_json_free(content);
    if (status == CAXTON_OK) status = caxton_send(request);
    caxton_message_free(request);
    return status;
}

caxton_verdict caxton_request_outcome(const caxton_message *message, const char *reply_with) {
    const char *in_reply_to = caxton_message_in_reply_to(message);
    if (reply_with == NULL || in_reply_to == NULL || strcmp(in_reply_to, reply_with) != 0)
        return CAXTON_SILENT;
    static const caxton_verdict answers[] = {CAXTON_AGREE, CAXTON_INFORM, CAXTON_REFUSE,
                                             CAXTON_FAILURE, CAXTON_NOT_UNDERSTOOD};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        if (caxton_message_is(message, caxton_verdict_performative(answers[i]))) return answers[i];
    return CAXTON_SILENT;
}

/* ---- fipa-contract-net, participant ---- */

/* A participant's answer to `original`: a reply that always names the protocol. */
static caxton_message *cnet_reply(const caxton_message *original, const char *performative) {
    caxton_message *reply = caxton_reply_new(original, performative);
    if (reply != NULL && caxton_message_set_protocol(reply, CNET) != CAXTON_OK) {
        caxton_message_free(reply);
        return NULL;
    }
    return reply;
}

static int participant_cfp(const caxton_message *cfp, const caxton_cnet_participant *p,
                           const char *task_key) {
    caxton_json *content = NULL;
    caxton_verdict verdict = p->on_cfp != NULL ? p->on_cfp(cfp, &content, p->user) : CAXTON_REFUSE;
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    caxton_message *reply = cnet_reply(cfp, performative);
    if (verdict == CAXTON_PROPOSE && reply != NULL) {
        /* An award names only the proposal, so the task waits here for it. */
        caxton_json *null_task = NULL;
        const caxton_json *task = caxton_message_content(cfp);
        if (task == NULL) task = null_task = caxton_json_new_null();
        int status = caxton_kv_set_json(task_key, task);
        caxton_json_free(null_task);
        char *reply_with = NULL;
        if (status == CAXTON_OK) {
            reply_with = format("%s/%s", caxton_name(), caxton_message_conversation_id(cfp));
            status = reply_with != NULL ? caxton_message_set_reply_with(reply, reply_with)
                                        : CAXTON_E_NO_MEMORY;
            free(reply_with);
        }
        if (status != CAXTON_OK) {
            caxton_error("cnet-participant: cannot keep the task: %s", caxton_status_text(status));
            caxton_message_free(reply);
            caxton_json_free(content);
            return -1;
        }
    }
    return send_logged(reply, performative, content, "cnet-participant") < 0 ? -1 : 1;
}

static int participant_accept(const caxton_message *accept, const caxton_cnet_participant *p,
                              const char *task_key) {
    char *text;
    size_t len;
    int found = caxton_kv_get(task_key, &text, &len);
    if (found < 0) return -1;
    if (found == 0) {
        int rc = send_logged(cnet_reply(accept, "failure"), "failure",
                             caxton_reason("no task in this conversation"), "cnet-participant");
        return rc < 0 ? -1 : 1;
    }
    caxton_json *task = caxton_json_parse(text, len);
    free(text);
    if (task == NULL) return -1;
    caxton_json *content = NULL;
    caxton_verdict verdict =
        p->on_accept != NULL ? p->on_accept(accept, task, &content, p->user) : CAXTON_FAILURE;
    caxton_json_free(task);
    /* Whatever the verdict, the conversation is over for this participant. */
    caxton_kv_delete(task_key);
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    return send_logged(cnet_reply(accept, performative), performative, content,
                       "cnet-participant") < 0
               ? -1
               : 1;
}

int caxton_cnet_participate(const caxton_message *message, const caxton_cnet_participant *p) {
    int is_cfp = caxton_message_is(message, "cfp");
    int is_accept = caxton_message_is(message, "accept-proposal");
    int is_reject = caxton_message_is(message, "reject-proposal");
    if (p == NULL || !(is_cfp || is_accept || is_reject)) return 0;
    const char *conversation = caxton_message_conversation_id(message);
    /* The host gives every message a conversation_id: only a foreign sender lacks one. */
    if (caxton_message_sender(message) == NULL || conversation == NULL ||
        strlen(conversation) > MAX_CONVERSATION_ID) {
        caxton_warn("cnet-participant: ignoring a %s without sender or conversation_id",
                    caxton_message_performative(message));
        return 1;
    }
    char *task_key = format("task/%s", conversation);
    if (task_key == NULL) return -1;
    int rc = 1;
    if (is_cfp) {
        rc = participant_cfp(message, p, task_key);
    } else if (is_accept) {
        rc = participant_accept(message, p, task_key);
    } else {
        caxton_kv_delete(task_key);
        if (p->on_reject != NULL) p->on_reject(message, p->user);
    }
    free(task_key);
    return rc;
}

/* ---- fipa-contract-net, initiator ---- */

typedef enum { PHASE_OPEN, PHASE_AWARDED, PHASE_DONE } cnet_phase;
static const char *const phase_names[] = {"open", "awarded", "done"};

/* "cnet/<id>": what a conversation needs to go on, even after a restart. */
typedef struct {
    cnet_phase phase;
    int64_t expected, proposals, refusals, failures;
    char *best; /* the cheapest proposer so far, NULL before any proposal */
    int64_t cost;
    char *best_reply_with; /* its proposal's reply_with, NULL when it had none */
} cnet_record;

/* Values of "cnet/<id>/p/<name>": how each participant answered. */
#define ANSWER_NONE "-"
#define ANSWER_PROPOSE "propose"
#define ANSWER_REFUSE "refuse"
#define ANSWER_FAILURE "failure"

typedef enum { KIND_PROPOSE, KIND_REFUSE, KIND_FAILURE, KIND_INFORM } answer_kind;

static int64_t answered(const cnet_record *r) { return r->proposals + r->refusals + r->failures; }

static void record_clear(cnet_record *r) {
    free(r->best);
    free(r->best_reply_with);
    memset(r, 0, sizeof *r);
}

/* 1 when found, 0 when absent, -1 when it cannot be read. */
static int record_load(const char *conversation, cnet_record *r) {
    memset(r, 0, sizeof *r);
    char *key = format("cnet/%s", conversation);
    if (key == NULL) return -1;
    char *text;
    size_t len;
    int found = caxton_kv_get(key, &text, &len);
    free(key);
    if (found <= 0) return found == 0 ? 0 : -1;
    caxton_json *json = caxton_json_parse(text, len);
    free(text);
    const char *phase = caxton_json_get_string(json, "phase");
    int ok = phase != NULL && caxton_json_get_int(json, "expected", &r->expected) &&
             caxton_json_get_int(json, "proposals", &r->proposals) &&
             caxton_json_get_int(json, "refusals", &r->refusals) &&
             caxton_json_get_int(json, "failures", &r->failures);
    if (ok) {
        r->phase = strcmp(phase, "done") == 0      ? PHASE_DONE
                   : strcmp(phase, "awarded") == 0 ? PHASE_AWARDED
                                                   : PHASE_OPEN;
        const char *best = caxton_json_get_string(json, "best");
        const char *best_reply_with = caxton_json_get_string(json, "best_reply_with");
        if (best != NULL)
            ok = caxton_json_get_int(json, "cost", &r->cost) &&
                 (r->best = copy_string(best)) != NULL;
        if (ok && best != NULL && best_reply_with != NULL)
            ok = (r->best_reply_with = copy_string(best_reply_with)) != NULL;
    }
    caxton_json_free(json);
    if (!ok) {
        record_clear(r);
        return -1;
    }
    return 1;
}

/* 0, or the negative status of the failure (logged). */
static int record_save(const char *conversation, const cnet_record *r) {
    caxton_json *json = caxton_json_new_object();
    int status = caxton_json_set_string(json, "phase", phase_names[r->phase]);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "expected", r->expected);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "proposals", r->proposals);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "refusals", r->refusals);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "failures", r->failures);
    if (status == CAXTON_OK && r->best != NULL) {
        status = caxton_json_set_string(json, "best", r->best);
        if (status == CAXTON_OK) status = caxton_json_set_int(json, "cost", r->cost);
        if (status == CAXTON_OK && r->best_reply_with != NULL)
            status = caxton_json_set_string(json, "best_reply_with", r->best_reply_with);
    }
    char *key = format("cnet/%s", conversation);
    if (status == CAXTON_OK)
        status = key != NULL ? caxton_kv_set_json(key, json) : CAXTON_E_NO_MEMORY;
    free(key);
    caxton_json_free(json);
    if (status != CAXTON_OK) {
        caxton_error("cnet-initiator: cannot store conversation %s: %s", conversation,
                     caxton_status_text(status));
    }
    return status;
}

/*
 * Forgets the participants of a conversation (their answer keys and the list).
 * With `rejects`, the proposers other than `winner` are appended to it, in the
 * order the cfp named them. 0, or -1 when memory gave out.
 */
static int forget_participants(const char *conversation, const char *winner, caxton_json *rejects) {
    char *list_key = format("cnet/%s/participants", conversation);
    if (list_key == NULL) return -1;
    caxton_json *list = caxton_kv_get_json(list_key);
    int failed = 0;
    for (const caxton_json *item = caxton_json_first(list); item != NULL; item = item->next) {
        const char *name = caxton_json_string(item);
        char *key = name != NULL ? format("cnet/%s/p/%s", conversation, name) : NULL;
        char *answer;
        size_t len;
        /* A name the cfp listed twice finds its key already gone the second time. */
        if (key != NULL && caxton_kv_get(key, &answer, &len) == 1) {
            if (rejects != NULL && strcmp(answer, ANSWER_PROPOSE) == 0 &&
                (winner == NULL || strcmp(name, winner) != 0))
                failed |= caxton_json_append(rejects, caxton_json_new_string(name)) != CAXTON_OK;
            free(answer);
            caxton_kv_delete(key);
        }
        failed |= name != NULL && key == NULL;
        free(key);
    }
    caxton_json_free(list);
    caxton_kv_delete(list_key);
    free(list_key);
    return failed ? -1 : 0;
}

/* A message of the conversation: its protocol and id set. */
static caxton_message *cnet_message(const char *performative, const char *conversation) {
    caxton_message *m = caxton_message_new(performative);
    if (m != NULL && (caxton_message_set_protocol(m, CNET) != CAXTON_OK ||
                      caxton_message_set_conversation_id(m, conversation) != CAXTON_OK)) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

/* A message to one agent, answering `in_reply_to` (when not NULL). */
static caxton_message *cnet_message_to(const char *performative, const char *conversation,
                                       const char *receiver, const char *in_reply_to) {
    caxton_message *m = cnet_message(performative, conversation);
    if (m != NULL && (caxton_message_set_receiver(m, receiver) != CAXTON_OK ||
                      (in_reply_to != NULL &&
                       caxton_message_set_in_reply_to(m, in_reply_to) != CAXTON_OK))) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

int caxton_cnet_start(const char *conversation, const caxton_json *participants,
                      const caxton_json *task, int64_t deadline_ms) {
    if (conversation == NULL || *conversation == '\0' ||
        strlen(conversation) > MAX_CONVERSATION_ID || deadline_ms < 1 ||
        caxton_json_typeof(participants) != CAXTON_JSON_ARRAY || participants->count == 0)
        return CAXTON_E_INVALID;
    for (const caxton_json *item = participants->first; item != NULL; item = item->next)
        if (!caxton_is_agent_name(caxton_json_string(item))) return CAXTON_E_INVALID;

    /* Distinct names only: a participant named twice answers once. */
    cnet_record r = {0};
    int status = CAXTON_OK;
    for (const caxton_json *item = participants->first; item != NULL && status == CAXTON_OK;
         item = item->next) {
        char *key = format("cnet/%s/p/%s", conversation, item->text);
        char *answer;
        size_t len;
        int found = key != NULL ? caxton_kv_get(key, &answer, &len) : CAXTON_E_NO_MEMORY;
        if (found == 0) {
            status = caxton_kv_set_string(key, ANSWER_NONE);
            r.expected++;
        } else if (found == 1) {
            free(answer);
        } else {
            status = found;
        }
        free(key);
    }
    char *list_key = format("cnet/%s/participants", conversation);
    if (status == CAXTON_OK)
        status = list_key != NULL ? caxton_kv_set_json(list_key, participants) : CAXTON_E_NO_MEMORY;
    free(list_key);
    if (status == CAXTON_OK) status = record_save(conversation, &r);

    int64_t now = caxton_now_ms();
    char reply_by[CAXTON_TIMESTAMP_SIZE];
    caxton_timestamp(now > INT64_MAX - deadline_ms ? INT64_MAX : now + deadline_ms, reply_by);
    char *reply_with = format("%s-cfp", conversation);
    caxton_message *cfp = cnet_message("cfp", conversation);
    if (status == CAXTON_OK && (cfp == NULL || reply_with == NULL)) status = CAXTON_E_NO_MEMORY;
    if (status == CAXTON_OK) status = caxton_message_set_receivers(cfp, participants);
    if (status == CAXTON_OK) status = caxton_message_set_reply_with(cfp, reply_with);
    if (status == CAXTON_OK) status = caxton_message_set_reply_by(cfp, reply_by);
    if (status == CAXTON_OK && task != NULL)
        status = caxton_message_set_content(cfp, caxton_json_copy(task));
    if (status == CAXTON_OK) status = caxton_send(cfp);
    caxton_message_free(cfp);
    free(reply_with);

    if (status != CAXTON_OK) {
        /* Nobody was asked, so nobody will answer: leave nothing waiting. */
        forget_participants(conversation, NULL, NULL);
        char *key = format("cnet/%s", conversation);
        caxton_kv_delete(key);
        free(key);
        caxton_error("cnet-initiator: cfp %s not sent: %s", conversation,
                     caxton_status_text(status));
        return status;
    }
    caxton_info("cfp %s to %lld participants, reply_by %s", conversation, (long long)r.expected,
                reply_by);
    return CAXTON_OK;
}

static int notify(const caxton_cnet_initiator *initiator, const caxton_cnet_outcome *outcome) {
    if (initiator->on_outcome == NULL) return 0;
    return initiator->on_outcome(outcome, initiator->user) != 0 ? -1 : 0;
}

static caxton_cnet_outcome outcome_of(const char *conversation, const cnet_record *r) {
    caxton_cnet_outcome outcome = {0};
    outcome.conversation_id = conversation;
    outcome.winner = r->best;
    outcome.cost = r->cost;
    outcome.expected = r->expected;
    outcome.proposals = r->proposals;
    outcome.refusals = r->refusals;
    outcome.failures = r->failures;
    return outcome;
}

static int decide(const char *conversation, cnet_record *r,
                  const caxton_cnet_initiator *initiator) {
    caxton_json *rejects = caxton_json_new_array();
    if (rejects == NULL) return -1;
    int failed = forget_participants(conversation, r->best, rejects) != 0;
    if (r->best == NULL) {
        caxton_json_free(rejects);
        r->phase = PHASE_DONE;
        failed |= record_save(conversation, r) != 0;
        caxton_cnet_outcome outcome = outcome_of(conversation, r);
        failed |= notify(initiator, &outcome) != 0;
        return failed ? -1 : 0;
    }
    r->phase = PHASE_AWARDED;
    failed |= record_save(conversation, r) != 0;

    char *accept_with = format("%s-accept", conversation);
    caxton_message *accept =
        cnet_message_to("accept-proposal", conversation, r->best, r->best_reply_with);
    caxton_json *terms = caxton_json_new_object();
    if (accept != NULL &&
        (accept_with == NULL || caxton_message_set_reply_with(accept, accept_with) != CAXTON_OK ||
         caxton_json_set_int(terms, "cost", r->cost) != CAXTON_OK)) {
        caxton_message_free(accept);
        accept = NULL;
    }
    free(accept_with);
    failed |= send_logged(accept, "accept-proposal", terms, "cnet-initiator") != 0;

    if (caxton_json_size(rejects) > 0) {
        char *cfp_with = format("%s-cfp", conversation);
        caxton_message *reject = cnet_message("reject-proposal", conversation);
        int status = reject != NULL && cfp_with != NULL ? CAXTON_OK : CAXTON_E_NO_MEMORY;
        if (status == CAXTON_OK)
            status = caxton_message_set(reject, "receiver", rejects);
        else
            caxton_json_free(rejects);
        rejects = NULL;
        if (status == CAXTON_OK) status = caxton_message_set_in_reply_to(reject, cfp_with);
        free(cfp_with);
        if (status != CAXTON_OK) {
            caxton_message_free(reject);
            reject = NULL;
        }
        failed |= send_logged(reject, "reject-proposal",
                              caxton_reason("another proposal was chosen"), "cnet-initiator") != 0;
    }
    caxton_json_free(rejects);
    caxton_info("awarded %s to %s at cost %lld: %lld proposals, %lld refusals, %lld failures of "
                "%lld",
                conversation, r->best, (long long)r->cost, (long long)r->proposals,
                (long long)r->refusals, (long long)r->failures, (long long)r->expected);
    return failed ? -1 : 0;
}

static int warn_about(const char *text, const char *sender, const char *conversation) {
    caxton_warn("cnet-initiator: %s from %s in %s", text, sender, conversation);
    return 0;
}

static int decide_or_save(const char *conversation, cnet_record *r,
                          const caxton_cnet_initiator *initiator) {
    if (answered(r) >= r->expected) return decide(conversation, r, initiator);
    return record_save(conversation, r) != 0 ? -1 : 0;
}

/* An answer from a participant while the conversation is open. */
static int on_answer(const caxton_message *m, answer_kind kind, const char *sender,
                     const char *conversation, cnet_record *r,
                     const caxton_cnet_initiator *initiator) {
    char *key = NULL, *previous = NULL;
    size_t len;
    int found = 0;
    if (strlen(sender) <= MAX_NAME) {
        key = format("cnet/%s/p/%s", conversation, sender);
        found = key != NULL ? caxton_kv_get(key, &previous, &len) : CAXTON_E_NO_MEMORY;
    }
    int rc = 0;
    if (found < 0) {
        rc = -1;
    } else if (found == 0) {
        rc = warn_about("ignoring an answer from a non-participant", sender, conversation);
    } else if (strcmp(previous, ANSWER_NONE) != 0) {
        rc = warn_about("ignoring a second answer", sender, conversation);
    } else {
        const char *record = ANSWER_FAILURE;
        int64_t cost = 0;
        if (kind == KIND_REFUSE) {
            record = ANSWER_REFUSE;
            r->refusals++;
        } else if (kind == KIND_FAILURE) {
            r->failures++;
        } else if (initiator->cost != NULL
                       ? initiator->cost(m, &cost, initiator->user)
                       : caxton_json_get_int(caxton_message_content(m), "cost", &cost)) {
            record = ANSWER_PROPOSE;
            r->proposals++;
            /* Strictly lower: of equal costs the first received keeps the lead. */
            if (r->best == NULL || cost < r->cost) {
                const char *reply_with = caxton_message_reply_with(m);
                free(r->best);
                free(r->best_reply_with);
                r->best = copy_string(sender);
                r->best_reply_with = copy_string(reply_with);
                r->cost = cost;
                if (r->best == NULL || (reply_with != NULL && r->best_reply_with == NULL)) rc = -1;
            }
        } else {
            r->failures++;
            rc |= send_logged(cnet_message_to("not-understood", conversation, sender,
                                              caxton_message_reply_with(m)),
                              "not-understood", caxton_reason("a proposal needs an integer cost"),
                              "cnet-initiator");
        }
        if (caxton_kv_set_string(key, record) != CAXTON_OK) rc = -1;
        if (rc == 0) rc = decide_or_save(conversation, r, initiator);
    }
    free(previous);
    free(key);
    return rc;
}

/* Anything after the decision: late proposals, and the winner's result. */
static int after_decision(const caxton_message *m, answer_kind kind, const char *sender,
                          const char *conversation, cnet_record *r,
                          const caxton_cnet_initiator *initiator) {
    if (kind == KIND_PROPOSE) {
        int rc = send_logged(cnet_message_to("reject-proposal", conversation, sender,
                                             caxton_message_reply_with(m)),
                             "reject-proposal", caxton_reason("the contract was already awarded"),
                             "cnet-initiator");
        caxton_info("late proposal from %s in %s: rejected", sender, conversation);
        return rc;
    }
    int from_winner = r->best != NULL && strcmp(sender, r->best) == 0;
    /* The router answers an accept-proposal it could not deliver in its own name. */
    int undeliverable = kind == KIND_FAILURE && strcmp(sender, PLATFORM) == 0 &&
                        is_suffixed(caxton_message_in_reply_to(m), conversation, "-accept");
    if (r->phase == PHASE_AWARDED && (kind == KIND_INFORM || kind == KIND_FAILURE) &&
        (from_winner || undeliverable)) {
        r->phase = PHASE_DONE;
        int failed = record_save(conversation, r) != 0;
        caxton_cnet_outcome outcome = outcome_of(conversation, r);
        outcome.done = kind == KIND_INFORM;
        outcome.result = m;
        failed |= notify(initiator, &outcome) != 0;
        return failed ? -1 : 0;
    }
    return warn_about("ignoring an answer after the decision", sender, conversation);
}

int caxton_cnet_initiate(const caxton_message *message, const caxton_cnet_initiator *initiator) {
    answer_kind kind;
    if (caxton_message_is(message, "propose"))
        kind = KIND_PROPOSE;
    else if (caxton_message_is(message, "refuse"))
        kind = KIND_REFUSE;
    else if (caxton_message_is(message, "failure"))
        kind = KIND_FAILURE;
    else if (caxton_message_is(message, "inform"))
        kind = KIND_INFORM;
    else
        return 0;
    const char *sender = caxton_message_sender(message);
    const char *conversation = caxton_message_conversation_id(message);
    if (initiator == NULL || sender == NULL || conversation == NULL ||
        strlen(conversation) > MAX_CONVERSATION_ID)
        return 0;
    cnet_record r;
    int found = record_load(conversation, &r);
    if (found < 0) {
        caxton_error("cnet-initiator: cannot read conversation %s", conversation);
        return -1;
    }
    if (found == 0) return 0;

    /* Only the platform can send in the name "caxton": agents cannot forge these. */
    int from_platform = strcmp(sender, PLATFORM) == 0;
    int rc;
    if (kind == KIND_INFORM && from_platform &&
        caxton_json_string_is(caxton_message_get(message, "x-caxton-event"), "deadline")) {
        if (r.phase == PHASE_OPEN) {
            caxton_info("deadline of %s: %lld silent", conversation,
                        (long long)(r.expected - answered(&r)));
            rc = decide(conversation, &r, initiator);
        } else {
            /* Decided already (everyone answered in time): nothing is owed. */
            caxton_debug("cnet-initiator: deadline of %s after the decision", conversation);
            rc = 0;
        }
    } else if (r.phase != PHASE_OPEN) {
        rc = after_decision(message, kind, sender, conversation, &r, initiator);
    } else if (kind == KIND_INFORM) {
        rc = warn_about("ignoring an inform before the decision", sender, conversation);
    } else if (kind == KIND_FAILURE && from_platform) {
        /* A participant that cannot be reached: the platform answers for it. */
        if (is_suffixed(caxton_message_in_reply_to(message), conversation, "-cfp")) {
            r.failures++;
            rc = decide_or_save(conversation, &r, initiator);
        } else {
            rc = warn_about("ignoring a failure", sender, conversation);
        }
    } else {
        rc = on_answer(message, kind, sender, conversation, &r, initiator);
    }
    record_clear(&r);
    return rc != 0 ? -1 : 1;
}

/* ======================================================================== */
/* The agent's entry points                                                  */
/* ======================================================================== */

static char *self_name;
static char *self_id;

const char *caxton_name(void) { return self_name != NULL ? self_name : ""; }

const char *caxton_id(void) { return self_id != NULL ? self_id : ""; }

void *caxton_sdk_alloc(int32_t len) {
    if (len < 0) return NULL;
    return malloc(len > 0 ? (size_t)len : 1);
}

int32_t caxton_sdk_init(char *ptr, int32_t len, caxton_init_fn init) {
    /* The host wrote the payload into memory from caxton_alloc: the agent owns it. */
    caxton_json *payload = caxton_json_parse(ptr, len > 0 ? (size_t)len : 0);
    free(ptr);
    if (payload == NULL || payload->type != CAXTON_JSON_OBJECT) {
        caxton_json_free(payload);
        caxton_error("caxton_init: the payload is not a JSON object (or memory gave out)");
        return 1;
    }
    const char *name = caxton_json_get_string(payload, "name");
    const char *id = caxton_json_get_string(payload, "id");
    free(self_name);
    free(self_id);
    self_name = copy_string(name != NULL ? name : "");
    self_id = copy_string(id != NULL ? id : "");
    const caxton_json *config = caxton_json_get(payload, "config");
    caxton_json *empty = NULL;
    if (config == NULL || config->type != CAXTON_JSON_OBJECT) config = empty = caxton_json_new_object();
    int32_t rc = 1;
    if (self_name == NULL || self_id == NULL || config == NULL)
        caxton_error("caxton_init: out of memory");
    else
        rc = init != NULL ? init(config) : 0;
    caxton_json_free(empty);
    caxton_json_free(payload);
    return rc;
}

int32_t caxton_sdk_handle(char *ptr, int32_t len, caxton_handle_fn handle) {
    caxton_message *message = caxton_message_parse(ptr, len > 0 ? (size_t)len : 0);
    free(ptr);
    if (message == NULL) {
        caxton_error("caxton_handle: the message is not a JSON object (or memory gave out)");
        return 1;
    }
    int32_t rc = handle != NULL ? handle(message) : 0;
    caxton_message_free(message);
    return rc;
}
