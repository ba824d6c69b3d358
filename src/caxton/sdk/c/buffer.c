/*
 * buffer.c - the growable byte buffer the SDK writes text into, and fresh
 * strings: printf-formatted or copied. Every allocation is checked.
 */
#include "caxton_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void caxton__buf_add(buffer *b, const void *src, size_t n) {
    if (!buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void caxton__buf_byte(buffer *b, char c) { caxton__buf_add(b, &c, 1); }

/* The buffer's text, NUL-terminated, handed over to the caller; NULL when it failed. */
char *caxton__buf_take(buffer *b, size_t *len) {
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
char *caxton__vformat(const char *format, va_list args) {
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

char *caxton__format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    char *text = caxton__vformat(fmt, args);
    va_end(args);
    return text;
}

char *caxton__copy_string(const char *text) {
    if (text == NULL) return NULL;
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy != NULL) memcpy(copy, text, n + 1);
    return copy;
}
