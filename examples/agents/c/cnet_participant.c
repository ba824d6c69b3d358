/*
 * cnet_participant - the participant's side of FIPA Contract Net (SC00029,
 * protocol `fipa-contract-net`): it bids a fixed cost for any task and, when
 * awarded, sums the task's numbers.
 *
 * caxton_init reads {"name": ..., "config": {...}} with config
 *   "cost": integer         the price it proposes; required unless "refuse" is true
 *   "refuse": bool          answer every cfp with `refuse`
 *   "late_ms": integer >= 0 busy-wait that long (on now_ms) before proposing, so
 *                           that the proposal misses a short deadline
 *   "fail": bool            trap on every cfp (the host answers `failure` in its name)
 *   "fail_work": bool       propose, but trap when awarded the work
 * A config that breaks these rules fails the start. It logs (info)
 * "cnet-participant ready".
 *
 * Every answer carries "protocol":"fipa-contract-net", the conversation_id of
 * the message it answers and, when that message had a reply_with, the same
 * value as in_reply_to. With <name> this agent's name and <conv> the
 * conversation_id:
 *
 * - `cfp` with content {"numbers": [integers...], ...} (the task):
 *     refuse configured:  {"performative":"refuse","receiver":<sender>,
 *                          "content":{"reason":"not taking work"},...}
 *     task malformed:     the same `refuse` with
 *                         "content":{"reason":"task needs numbers: an array of integers"}
 *     otherwise the task is kept in kv under "task/<conv>" and it sends
 *                         {"performative":"propose","receiver":<sender>,
 *                          "reply_with":"<name>/<conv>","content":{"cost":<cost>},...}
 *                         logging (info) "proposed <cost> in <conv>".
 * - `accept-proposal`: sums the kept task's numbers and sends
 *     {"performative":"inform","receiver":<sender>,"content":{"result":<sum>},...}
 *   logging (info) "did the work in <conv>: <sum>", then forgets the task. Without
 *   a kept task (or when the sum overflows 64 bits) it sends `failure` with
 *   "content":{"reason":...} instead.
 * - `reject-proposal`: forgets the task and logs (info) "rejected in <conv>".
 * - anything else is logged (warn) and ignored.
 * Returns 0, or 1 when memory or the key-value store gives out, so that the
 * host tells the initiator with a `failure`.
 */
#include "caxton_abi.h"

#define PROTOCOL "fipa-contract-net"
/* kv keys embed the conversation id; the host caps keys at 1024 bytes. */
#define MAX_CONVERSATION_ID 512

static char self_name[64];
static size_t self_len;
static int64_t cost;
static int refuse;
static int fail_on_cfp;
static int fail_on_work;
static int64_t late_ms;

static int32_t config_error(const char *text) {
    caxton_log_str(CAXTON_LOG_ERROR, text);
    return 1;
}

/* Reads an optional boolean; 0 when present but not a boolean. */
static int read_flag(caxton_span config, const char *key, int *out) {
    caxton_span value;
    if (!caxton_json_get(config, key, &value)) return 1;
    if (!caxton_json_is_bool(value)) return 0;
    *out = caxton_json_is_true(value);
    return 1;
}

static int32_t on_init(const char *json, size_t len) {
    caxton_span init = caxton_span_of(json, len), config, value;
    if (!caxton_json_get_string(init, "name", &value))
        return config_error("cnet-participant: caxton_init has no name");
    caxton_span name = caxton_json_string_body(value);
    if (name.len >= sizeof self_name) return config_error("cnet-participant: name too long");
    memcpy(self_name, name.ptr, name.len);
    self_len = name.len;

    if (!caxton_json_get(init, "config", &config)) config = caxton_span_of("{}", 2);
    if (!read_flag(config, "refuse", &refuse) || !read_flag(config, "fail", &fail_on_cfp) ||
        !read_flag(config, "fail_work", &fail_on_work))
        return config_error("cnet-participant: refuse, fail and fail_work must be booleans");
    if (caxton_json_get(config, "cost", &value)) {
        if (!caxton_json_int(value, &cost))
            return config_error("cnet-participant: config.cost must be an integer");
    } else if (!refuse) {
        return config_error("cnet-participant: config.cost is required");
    }
    if (caxton_json_get(config, "late_ms", &value) &&
        (!caxton_json_int(value, &late_ms) || late_ms < 0))
        return config_error("cnet-participant: config.late_ms must be an integer >= 0");
    caxton_log_str(CAXTON_LOG_INFO, "cnet-participant ready");
    return 0;
}

/* "task/<conv>": where the task of one conversation waits for the award. */
static void task_key(caxton_buf *key, caxton_span conversation) {
    caxton_buf_puts(key, "task/");
    caxton_buf_put_span(key, caxton_json_string_body(conversation));
}

/* The start of an answer to `msg`, up to and excluding content and the closing brace. */
static void begin_answer(caxton_buf *out, const char *performative, caxton_span sender,
                         caxton_span conversation, caxton_span msg) {
    caxton_span reply_with;
    caxton_buf_puts(out, "{\"performative\":\"");
    caxton_buf_puts(out, performative);
    caxton_buf_puts(out, "\",\"receiver\":");
    caxton_buf_put_span(out, sender);
    caxton_buf_puts(out, ",\"protocol\":\"" PROTOCOL "\",\"conversation_id\":");
    caxton_buf_put_span(out, conversation);
    if (caxton_json_get_string(msg, "reply_with", &reply_with)) {
        caxton_buf_puts(out, ",\"in_reply_to\":");
        caxton_buf_put_span(out, reply_with);
    }
}

/* Sends `out` (closing it first) and frees it; 1 when composing it ran out of memory. */
static int32_t finish_send(caxton_buf *out) {
    caxton_buf_puts(out, "}");
    int failed = out->failed;
    if (!failed && caxton_buf_send(out) < 0)
        caxton_log_str(CAXTON_LOG_WARN, "cnet-participant: send rejected");
    caxton_buf_free(out);
    return failed ? 1 : 0;
}

static int32_t send_with_reason(const char *performative, caxton_span sender,
                                caxton_span conversation, caxton_span msg, const char *reason) {
    caxton_buf out = {0};
    begin_answer(&out, performative, sender, conversation, msg);
    caxton_buf_puts(&out, ",\"content\":{\"reason\":\"");
    caxton_buf_puts(&out, reason);
    caxton_buf_puts(&out, "\"}");
    return finish_send(&out);
}

/* "<text><conv>" at `level`; 1 when out of memory. */
static int32_t log_about(int32_t level, const char *text, caxton_span conversation) {
    caxton_buf line = {0};
    caxton_buf_puts(&line, text);
    caxton_buf_put_span(&line, caxton_json_string_body(conversation));
    int failed = line.failed;
    caxton_buf_log(&line, level);
    caxton_buf_free(&line);
    return failed ? 1 : 0;
}

/* The sum of `task`'s numbers into *sum; 0 when they are not all integers or it overflows. */
static int sum_numbers(caxton_span task, int64_t *sum) {
    caxton_span numbers, item;
    caxton_json_iter it;
    if (!caxton_json_get(task, "numbers", &numbers) || !caxton_json_array(numbers, &it)) return 0;
    int64_t total = 0, n;
    while (caxton_json_next(&it, &item)) {
        if (!caxton_json_int(item, &n) || __builtin_add_overflow(total, n, &total)) return 0;
    }
    if (it.failed) return 0;
    *sum = total;
    return 1;
}

static int32_t on_cfp(caxton_span msg, caxton_span sender, caxton_span conversation) {
    if (fail_on_cfp) {
        caxton_log_str(CAXTON_LOG_WARN, "cnet-participant: failing on cfp as configured");
        __builtin_trap();
    }
    if (refuse) return send_with_reason("refuse", sender, conversation, msg, "not taking work");

    caxton_span task;
    int64_t sum;
    /* Checked now rather than at the award: a task it cannot do must not win. */
    if (!caxton_json_get(msg, "content", &task) || !sum_numbers(task, &sum))
        return send_with_reason("refuse", sender, conversation, msg,
                                "task needs numbers: an array of integers");

    caxton_buf key = {0};
    task_key(&key, conversation);
    int32_t stored = key.failed ? CAXTON_E_TOO_LARGE
                                : caxton_kv_set(key.data, (int32_t)key.len, task.ptr,
                                                (int32_t)task.len);
    caxton_buf_free(&key);
    if (stored < 0) {
        caxton_log_str(CAXTON_LOG_ERROR, "cnet-participant: cannot keep the task");
        return 1;
    }

    if (late_ms > 0) {
        int64_t until = caxton_now_ms() + late_ms;
        while (caxton_now_ms() < until) {
        }
    }

    caxton_buf out = {0};
    begin_answer(&out, "propose", sender, conversation, msg);
    caxton_buf_puts(&out, ",\"reply_with\":\"");
    caxton_buf_append(&out, self_name, self_len);
    caxton_buf_puts(&out, "/");
    caxton_buf_put_span(&out, caxton_json_string_body(conversation));
    caxton_buf_puts(&out, "\",\"content\":{\"cost\":");
    caxton_buf_put_i64(&out, cost);
    caxton_buf_puts(&out, "}");
    if (finish_send(&out) != 0) return 1;

    caxton_buf line = {0};
    caxton_buf_puts(&line, "proposed ");
    caxton_buf_put_i64(&line, cost);
    caxton_buf_puts(&line, " in ");
    caxton_buf_put_span(&line, caxton_json_string_body(conversation));
    int failed = line.failed;
    caxton_buf_log(&line, CAXTON_LOG_INFO);
    caxton_buf_free(&line);
    return failed ? 1 : 0;
}

static int32_t on_accept(caxton_span msg, caxton_span sender, caxton_span conversation) {
    if (fail_on_work) {
        caxton_log_str(CAXTON_LOG_WARN, "cnet-participant: failing on the work as configured");
        __builtin_trap();
    }
    caxton_buf key = {0}, task = {0};
    task_key(&key, conversation);
    if (key.failed) {
        caxton_buf_free(&key);
        return 1;
    }
    int32_t found = caxton_kv_get_buf(key.data, key.len, &task);
    int64_t sum = 0;
    int32_t rc;
    if (found == CAXTON_E_TOO_LARGE) {
        rc = 1;
    } else if (found < 0) {
        rc = send_with_reason("failure", sender, conversation, msg, "no task in this conversation");
    } else if (!sum_numbers(caxton_span_of(task.data, task.len), &sum)) {
        rc = send_with_reason("failure", sender, conversation, msg, "the sum overflows");
    } else {
        caxton_buf out = {0};
        begin_answer(&out, "inform", sender, conversation, msg);
        caxton_buf_puts(&out, ",\"content\":{\"result\":");
        caxton_buf_put_i64(&out, sum);
        caxton_buf_puts(&out, "}");
        rc = finish_send(&out);
        if (rc == 0) {
            caxton_kv_delete(key.data, (int32_t)key.len);
            caxton_buf line = {0};
            caxton_buf_puts(&line, "did the work in ");
            caxton_buf_put_span(&line, caxton_json_string_body(conversation));
            caxton_buf_puts(&line, ": ");
            caxton_buf_put_i64(&line, sum);
            rc = line.failed ? 1 : 0;
            caxton_buf_log(&line, CAXTON_LOG_INFO);
            caxton_buf_free(&line);
        }
    }
    caxton_buf_free(&key);
    caxton_buf_free(&task);
    return rc;
}

static int32_t on_reject(caxton_span conversation) {
    caxton_buf key = {0};
    task_key(&key, conversation);
    if (!key.failed) caxton_kv_delete(key.data, (int32_t)key.len);
    int failed = key.failed;
    caxton_buf_free(&key);
    return (log_about(CAXTON_LOG_INFO, "rejected in ", conversation) || failed) ? 1 : 0;
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span performative, sender, conversation;
    if (!caxton_json_get_string(msg, "performative", &performative)) return 0;
    int is_cfp = caxton_json_string_eq(performative, "cfp");
    int is_accept = caxton_json_string_eq(performative, "accept-proposal");
    int is_reject = caxton_json_string_eq(performative, "reject-proposal");
    if (!is_cfp && !is_accept && !is_reject) {
        caxton_buf line = {0};
        caxton_buf_puts(&line, "cnet-participant: ignoring ");
        caxton_buf_put_span(&line, caxton_json_string_body(performative));
        caxton_buf_log(&line, CAXTON_LOG_WARN);
        caxton_buf_free(&line);
        return 0;
    }
    /* The host assigns a conversation_id to every message, so only a foreign sender lacks one. */
    if (!caxton_json_get_string(msg, "sender", &sender) ||
        !caxton_json_get_string(msg, "conversation_id", &conversation) ||
        conversation.len > MAX_CONVERSATION_ID) {
        caxton_log_str(CAXTON_LOG_WARN,
                       "cnet-participant: ignoring a message without sender or conversation_id");
        return 0;
    }
    if (is_cfp) return on_cfp(msg, sender, conversation);
    if (is_accept) return on_accept(msg, sender, conversation);
    return on_reject(conversation);
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_INIT(on_init)
CAXTON_DEFINE_HANDLE(on_message)
