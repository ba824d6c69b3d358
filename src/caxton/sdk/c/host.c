/*
 * host.c - what the host offers besides sending: status codes, logging and
 * time, key-value state, MCP tools, capabilities.
 */
#include "caxton_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* Status codes                                                             */
/* ======================================================================== */

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
    char *text = caxton__vformat(fmt, args);
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
            if (!first) caxton__buf_byte(&b, '\n');
            caxton__buf_add(&b, text->text, text->len);
            first = 0;
        }
    }
    return caxton__buf_take(&b, NULL);
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
