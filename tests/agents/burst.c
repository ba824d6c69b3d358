/*
 * burst - a test agent that sends numbered messages as fast as it can.
 *
 * On any message whose content is {"to": <name or array>, "count": N}, it
 * sends N messages {"performative":"inform","receiver":<to>,"content":{"seq":i}}
 * for i = 1..N, then stores in its key-value state "ok", "full" and "other":
 * how many sends answered 0, -3 (mailbox full) and anything else, as decimals.
 */
#include "caxton_abi.h"

static void store_count(const char *key, int64_t value) {
    caxton_buf text = {0};
    caxton_buf_put_i64(&text, value);
    caxton_kv_set(key, (int32_t)strlen(key), text.data, (int32_t)text.len);
    caxton_buf_free(&text);
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span content, to, count_text;
    int64_t count = 0;
    if (!caxton_json_get(msg, "content", &content) || !caxton_json_get(content, "to", &to) ||
        !caxton_json_get(content, "count", &count_text) ||
        !caxton_json_int(count_text, &count))
        return 1;
    int64_t ok = 0, full = 0, other = 0;
    for (int64_t i = 1; i <= count; i++) {
        caxton_buf out = {0};
        caxton_buf_puts(&out, "{\"performative\":\"inform\",\"receiver\":");
        caxton_buf_put_span(&out, to);
        caxton_buf_puts(&out, ",\"content\":{\"seq\":");
        caxton_buf_put_i64(&out, i);
        caxton_buf_puts(&out, "}}");
        int32_t status = caxton_buf_send(&out);
        caxton_buf_free(&out);
        if (status == CAXTON_OK) ok++;
        else if (status == CAXTON_E_MAILBOX_FULL) full++;
        else other++;
    }
    store_count("ok", ok);
    store_count("full", full);
    store_count("other", other);
    return 0;
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_HANDLE(on_message)
