/*
 * caxton_internal.h - what the C SDK's own files share. Not part of the API:
 * agents include caxton.h only, and nothing here is promised to stay.
 *
 * The SDK is json.c (JSON values), buffer.c (the text buffer and fresh
 * strings), message.c (ACL messages, sending, replying), host.c (status codes,
 * logging, time, kv state, MCP tools, capabilities), protocols.c (request and
 * contract net) and entry.c (the entry points). Only wasi-libc is used. Every
 * allocation is checked: running out of memory becomes CAXTON_E_NO_MEMORY or
 * NULL, never a trap, so that the agent can answer with a handler error and
 * the host can tell the sender.
 *
 * Everything a file keeps to itself is `static`. What is shared, and so
 * linked into the agent's namespace, is named caxton__* to stay clear of the
 * agent's own names.
 */
#ifndef CAXTON_INTERNAL_H
#define CAXTON_INTERNAL_H

#include "caxton.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the host's imports (module "caxton", ABI version 1) ---- */

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

/* ---- a growable byte buffer, and fresh strings (buffer.c) ---- */

typedef struct {
    char *data;
    size_t len, cap;
    int failed; /* set once an allocation failed; later appends do nothing */
} buffer;

void caxton__buf_add(buffer *b, const void *src, size_t n);
void caxton__buf_byte(buffer *b, char c);
/* The buffer's text, NUL-terminated, handed over to the caller; NULL when it failed. */
char *caxton__buf_take(buffer *b, size_t *len);

/* vsnprintf into a fresh string; NULL on no memory. */
char *caxton__vformat(const char *format, va_list args) __attribute__((format(printf, 1, 0)));
char *caxton__format(const char *format, ...) __attribute__((format(printf, 1, 2)));
char *caxton__copy_string(const char *text);

/* ---- JSON values (json.c) ---- */

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

/* caxton_json_get without the const: the member named `key`, the last of repeated names. */
caxton_json *caxton__json_member(const caxton_json *object, const char *key);

/* ---- sending (message.c) ---- */

/* Sends `reply` with `content` (taken over) and frees both. */
int caxton__send_with_content(caxton_message *reply, caxton_json *content);

#endif /* CAXTON_INTERNAL_H */
