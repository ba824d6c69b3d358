/*
 * echo - answers every message with an `inform` carrying the same content.
 *
 * caxton_init logs (info) "echo ready". For each message it sends
 *   {"performative":"inform","receiver":<sender>,"content":<content, raw; null if absent>
 *    [,"conversation_id":<conversation_id>][,"in_reply_to":<reply_with>]}
 * where the optional fields are copied only when present as strings.
 * No sender: a warning is logged and nothing is sent. Always returns 0
 * (1 only if memory for the reply cannot be allocated).
 */
#include "caxton_abi.h"

static int32_t on_init(const char *config, size_t len) {
    (void)config;
    (void)len;
    caxton_log_str(CAXTON_LOG_INFO, "echo ready");
    return 0;
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span sender, content, field;
    if (!caxton_json_get_string(msg, "sender", &sender)) {
        caxton_log_str(CAXTON_LOG_WARN, "echo: message has no sender");
        return 0;
    }
    caxton_buf out = {0};
    caxton_buf_puts(&out, "{\"performative\":\"inform\",\"receiver\":");
    caxton_buf_put_span(&out, sender);
    caxton_buf_puts(&out, ",\"content\":");
    if (caxton_json_get(msg, "content", &content))
        caxton_buf_put_span(&out, content);
    else
        caxton_buf_puts(&out, "null");
    if (caxton_json_get_string(msg, "conversation_id", &field)) {
        caxton_buf_puts(&out, ",\"conversation_id\":");
        caxton_buf_put_span(&out, field);
    }
    if (caxton_json_get_string(msg, "reply_with", &field)) {
        caxton_buf_puts(&out, ",\"in_reply_to\":");
        caxton_buf_put_span(&out, field);
    }
    caxton_buf_puts(&out, "}");
    if (out.failed) {
        caxton_buf_free(&out);
        return 1;
    }
    if (caxton_buf_send(&out) < 0) caxton_log_str(CAXTON_LOG_WARN, "echo: send rejected");
    caxton_buf_free(&out);
    return 0;
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_INIT(on_init)
CAXTON_DEFINE_HANDLE(on_message)
