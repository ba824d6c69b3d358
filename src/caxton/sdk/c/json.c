/*
 * json.c - JSON values (RFC 8259): parse, serialize, copy, compare, read, build.
 * The value's layout, struct caxton_json, is in caxton_internal.h.
 */
#include "caxton_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

caxton_json *caxton__json_member(const caxton_json *object, const char *key) {
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
    caxton__buf_add(b, out, n);
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
        caxton__buf_add(&b, run, (size_t)(ps->p - run));
        if (ps->p >= ps->end) break;
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            *text = caxton__buf_take(&b, len);
            return *text != NULL;
        }
        if (c < 0x20) break; /* control characters must be escaped (RFC 8259, 7) */
        if (c >= 0x80) {
            size_t n = utf8_sequence(ps->p, ps->end);
            if (n == 0) break;
            caxton__buf_add(&b, ps->p, n);
            ps->p += n;
            continue;
        }
        /* A backslash. */
        if (++ps->p >= ps->end) break;
        c = *ps->p++;
        uint32_t cp;
        switch (c) {
        case '"': caxton__buf_byte(&b, '"'); continue;
        case '\\': caxton__buf_byte(&b, '\\'); continue;
        case '/': caxton__buf_byte(&b, '/'); continue;
        case 'b': caxton__buf_byte(&b, '\b'); continue;
        case 'f': caxton__buf_byte(&b, '\f'); continue;
        case 'n': caxton__buf_byte(&b, '\n'); continue;
        case 'r': caxton__buf_byte(&b, '\r'); continue;
        case 't': caxton__buf_byte(&b, '\t'); continue;
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
    caxton__buf_byte(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        caxton__buf_add(b, run, (size_t)(p - run));
        if (p >= end) break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = utf8_sequence(p, end);
            if (n == 0) {
                caxton__buf_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD for a byte that is not UTF-8 */
                p++;
            } else {
                caxton__buf_add(b, p, n);
                p += n;
            }
            continue;
        }
        p++;
        switch (c) {
        case '"': caxton__buf_add(b, "\\\"", 2); break;
        case '\\': caxton__buf_add(b, "\\\\", 2); break;
        case '\n': caxton__buf_add(b, "\\n", 2); break;
        case '\r': caxton__buf_add(b, "\\r", 2); break;
        case '\t': caxton__buf_add(b, "\\t", 2); break;
        case '\b': caxton__buf_add(b, "\\b", 2); break;
        case '\f': caxton__buf_add(b, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            caxton__buf_add(b, esc, 6);
        }
        }
    }
    caxton__buf_byte(b, '"');
}

static void put_json(buffer *b, const caxton_json *v) {
    switch (v->type) {
    case CAXTON_JSON_NULL: caxton__buf_add(b, "null", 4); return;
    case CAXTON_JSON_BOOL:
        v->boolean ? caxton__buf_add(b, "true", 4) : caxton__buf_add(b, "false", 5);
        return;
    case CAXTON_JSON_NUMBER: caxton__buf_add(b, v->text, v->len); return;
    case CAXTON_JSON_STRING: put_json_string(b, v->text, v->len); return;
    case CAXTON_JSON_ARRAY:
    case CAXTON_JSON_OBJECT: {
        int is_object = v->type == CAXTON_JSON_OBJECT;
        caxton__buf_byte(b, is_object ? '{' : '[');
        for (const caxton_json *item = v->first; item != NULL && !b->failed; item = item->next) {
            if (item != v->first) caxton__buf_byte(b, ',');
            if (is_object) {
                put_json_string(b, item->key ? item->key : "", item->key_len);
                caxton__buf_byte(b, ':');
            }
            put_json(b, item);
        }
        caxton__buf_byte(b, is_object ? '}' : ']');
        return;
    }
    }
}

char *caxton_json_serialize(const caxton_json *value, size_t *len) {
    if (value == NULL) return NULL;
    buffer b = {0};
    put_json(&b, value);
    return caxton__buf_take(&b, len);
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
    return caxton__json_member(object, key);
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
    char *name = caxton__copy_string(key);
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
