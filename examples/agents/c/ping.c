/*
 * ping - plays `rounds` rounds of ping-pong with `peer`.
 *
 * caxton_init reads {"config":{"peer":"pong","rounds":3}} (both optional, these
 * are the defaults); a peer that is not a string or rounds that are not an
 * integer >= 1 fail the start. It logs (info) "ping ready".
 *
 * - `request` (the kick, any content): the round counter goes back to 0 and
 *   {"performative":"request","receiver":<peer>,"content":{"ping":1}} is sent;
 *   logs (info) "ping 1".
 * - `inform` with content {"pong":N} (N an integer of at most 18 digits): the
 *   counter becomes N. If N < rounds it sends
 *   {"performative":"request","receiver":<peer>,"content":{"ping":N+1}
 *    [,"conversation_id":<the inform's conversation_id>]}
 *   and logs (info) "ping N+1"; otherwise it logs (info) "done after N rounds"
 *   and stores N's decimal digits under key "rounds_done" with kv_set.
 * - an `inform` with other content logs a warning; other performatives are ignored.
 * Always returns 0 (1 only when out of memory).
 */
#include "caxton_abi.h"

static char *peer;      /* the peer's name as a raw JSON string, quotes included */
static size_t peer_len;
static int64_t rounds = 3;
static int64_t counter = 0;

static int32_t on_init(const char *json, size_t len) {
    caxton_span cfg = caxton_span_of(json, len), config, value;
    static const char default_peer[] = "\"pong\"";
    caxton_span peer_value = caxton_span_of(default_peer, sizeof default_peer - 1);
    if (caxton_json_get(cfg, "config", &config)) {
        if (caxton_json_get(config, "peer", &value)) {
            if (value.ptr[0] != '"') {
                caxton_log_str(CAXTON_LOG_ERROR, "ping: config.peer must be a string");
                return 1;
            }
            peer_value = value;
        }
        if (caxton_json_get(config, "rounds", &value)) {
            int64_t n;
            if (!caxton_json_int(value, &n) || n < 1) {
                caxton_log_str(CAXTON_LOG_ERROR, "ping: config.rounds must be an integer >= 1");
                return 1;
            }
            rounds = n;
        }
    }
    free(peer);
    peer = (char *)malloc(peer_value.len);
    if (peer == NULL) return 1;
    memcpy(peer, peer_value.ptr, peer_value.len);
    peer_len = peer_value.len;
    caxton_log_str(CAXTON_LOG_INFO, "ping ready");
    return 0;
}

/* Sends {"ping":n} to the peer, copying conversation_id from `thread` if given. */
static int32_t send_ping(int64_t n, const caxton_span *thread) {
    caxton_buf out = {0};
    caxton_span conversation;
    caxton_buf_puts(&out, "{\"performative\":\"request\",\"receiver\":");
    caxton_buf_append(&out, peer, peer_len);
    caxton_buf_puts(&out, ",\"content\":{\"ping\":");
    caxton_buf_put_i64(&out, n);
    caxton_buf_puts(&out, "}");
    if (thread != NULL && caxton_json_get_string(*thread, "conversation_id", &conversation)) {
        caxton_buf_puts(&out, ",\"conversation_id\":");
        caxton_buf_put_span(&out, conversation);
    }
    caxton_buf_puts(&out, "}");
    if (out.failed) {
        caxton_buf_free(&out);
        return 1;
    }
    if (caxton_buf_send(&out) < 0) caxton_log_str(CAXTON_LOG_WARN, "ping: send rejected");
    caxton_buf_free(&out);

    caxton_buf line = {0};
    caxton_buf_puts(&line, "ping ");
    caxton_buf_put_i64(&line, n);
    int failed = line.failed;
    caxton_buf_log(&line, CAXTON_LOG_INFO);
    caxton_buf_free(&line);
    return failed ? 1 : 0;
}

static int32_t finish(int64_t n) {
    caxton_buf line = {0};
    caxton_buf_puts(&line, "done after ");
    caxton_buf_put_i64(&line, n);
    caxton_buf_puts(&line, " rounds");
    caxton_buf digits = {0};
    caxton_buf_put_i64(&digits, n);
    int failed = line.failed || digits.failed;
    if (!failed) {
        caxton_buf_log(&line, CAXTON_LOG_INFO);
        static const char key[] = "rounds_done";
        if (caxton_kv_set(key, (int32_t)(sizeof key - 1), digits.data, (int32_t)digits.len) < 0)
            caxton_log_str(CAXTON_LOG_WARN, "ping: kv_set rounds_done failed");
    }
    caxton_buf_free(&line);
    caxton_buf_free(&digits);
    return failed ? 1 : 0;
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span performative, content, number;
    if (!caxton_json_get(msg, "performative", &performative)) return 0;
    if (caxton_json_string_eq(performative, "request")) {
        counter = 0;
        return send_ping(1, NULL);
    }
    if (!caxton_json_string_eq(performative, "inform")) return 0;
    int64_t n;
    if (!caxton_json_get(msg, "content", &content) ||
        !caxton_json_get(content, "pong", &number) || !caxton_json_int(number, &n)) {
        caxton_log_str(CAXTON_LOG_WARN, "ping: ignoring inform without {\"pong\":N}");
        return 0;
    }
    counter = n;
    if (counter < rounds) return send_ping(counter + 1, &msg);
    return finish(counter);
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_INIT(on_init)
CAXTON_DEFINE_HANDLE(on_message)
