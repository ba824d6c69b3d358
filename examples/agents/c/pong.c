/*
 * pong - answers {"ping":N} requests with {"pong":N}.
 *
 * caxton_init logs (info) "pong ready". On a `request` whose content is
 * {"ping":N} (N an integer literal: optional '-' and digits) it sends
 *   {"performative":"inform","receiver":<sender>,"content":{"pong":N}
 *    [,"conversation_id":<conversation_id>][,"in_reply_to":<reply_with>]}
 * with N's digits copied verbatim, then logs (info) "pong N".
 * A `request` with any other content is answered with `not-understood`
 * (content: the received content, null if absent; same threading fields)
 * and a warning. A request without a sender logs a warning. Every other
 * performative is ignored. Always returns 0 (1 only when out of memory).
 */
#include "caxton_abi.h"

static int32_t on_init(const char *config, size_t len) {
    (void)config;
    (void)len;
    caxton_log_str(CAXTON_LOG_INFO, "pong ready");
    return 0;
}

static void put_threading(caxton_buf *out, caxton_span msg) {
    caxton_span field;
    if (caxton_json_get_string(msg, "conversation_id", &field)) {
        caxton_buf_puts(out, ",\"conversation_id\":");
        caxton_buf_put_span(out, field);
    }
    if (caxton_json_get_string(msg, "reply_with", &field)) {
        caxton_buf_puts(out, ",\"in_reply_to\":");
        caxton_buf_put_span(out, field);
    }
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span performative, sender, content, number;
    if (!caxton_json_get(msg, "performative", &performative) ||
        !caxton_json_string_eq(performative, "request"))
        return 0;
    if (!caxton_json_get_string(msg, "sender", &sender)) {
        caxton_log_str(CAXTON_LOG_WARN, "pong: message has no sender");
        return 0;
    }
    int has_content = caxton_json_get(msg, "content", &content);
    int has_ping = has_content && caxton_json_get(content, "ping", &number) &&
                   caxton_json_is_int(number);

    caxton_buf out = {0};
    if (has_ping) {
        caxton_buf_puts(&out, "{\"performative\":\"inform\",\"receiver\":");
        caxton_buf_put_span(&out, sender);
        caxton_buf_puts(&out, ",\"content\":{\"pong\":");
        caxton_buf_put_span(&out, number);
        caxton_buf_puts(&out, "}");
    } else {
        caxton_buf_puts(&out, "{\"performative\":\"not-understood\",\"receiver\":");
        caxton_buf_put_span(&out, sender);
        caxton_buf_puts(&out, ",\"content\":");
        if (has_content)
            caxton_buf_put_span(&out, content);
        else
            caxton_buf_puts(&out, "null");
    }
    put_threading(&out, msg);
    caxton_buf_puts(&out, "}");
    if (out.failed) {
        caxton_buf_free(&out);
        return 1;
    }
    if (caxton_buf_send(&out) < 0) caxton_log_str(CAXTON_LOG_WARN, "pong: send rejected");
    caxton_buf_free(&out);

    if (!has_ping) {
        caxton_log_str(CAXTON_LOG_WARN, "pong: expected content {\"ping\":N}");
        return 0;
    }
    caxton_buf line = {0};
    caxton_buf_puts(&line, "pong ");
    caxton_buf_put_span(&line, number);
    int failed = line.failed;
    caxton_buf_log(&line, CAXTON_LOG_INFO);
    caxton_buf_free(&line);
    return failed ? 1 : 0;
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_INIT(on_init)
CAXTON_DEFINE_HANDLE(on_message)
