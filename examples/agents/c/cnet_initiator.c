/*
 * cnet_initiator - the initiator's side of FIPA Contract Net (SC00029,
 * protocol `fipa-contract-net`): one call for proposals to many participants,
 * the cheapest proposal wins, the winner does the work.
 *
 * caxton_init logs (info) "cnet-initiator ready". With <self> its name and
 * <conv> = "<self>-<n>" (n counts kicks, kept in kv under "counter"):
 *
 * - `request` (the kick) with content
 *     {"participants": ["p-000", ...], "task": {...}, "deadline_ms": 200}
 *   sends one
 *     {"performative":"cfp","receiver":<participants, as given>,
 *      "protocol":"fipa-contract-net","conversation_id":"<conv>",
 *      "reply_with":"<conv>-cfp","reply_by":<now + deadline_ms, RFC 3339 UTC with ms>,
 *      "content":<task>}
 *   and logs (info) "cfp <conv> to <n> participants, reply_by <time>". Bad
 *   content (participants not a non-empty array of strings, task not an object,
 *   deadline_ms not an integer >= 1) is answered with
 *     {"performative":"not-understood","receiver":<sender>,"content":{"reason":...}}
 *   (plus conversation_id and in_reply_to) and a warning; without a sender, only the warning.
 * - `propose`, `refuse`, `failure` of <conv> from a participant that has not
 *   answered yet are counted. A `failure` from `caxton` (the platform) in reply
 *   to the cfp, e.g. for a receiver that does not exist, counts as one failed
 *   participant. A proposal whose content has no integer "cost" is answered
 *   with `not-understood` and counts as a failure. Answers from anyone else, or
 *   a second answer, are logged (warn) and ignored.
 * - The decision comes when every distinct participant has answered or when
 *   the platform's deadline notice arrives: an `inform` from `caxton` with
 *   "x-caxton-event":"deadline" and the conversation's id. The lowest cost
 *   wins; of equal costs, the first received. It sends
 *     {"performative":"accept-proposal","receiver":<winner>,"protocol":...,
 *      "conversation_id":"<conv>","in_reply_to":<the winner's reply_with>,
 *      "reply_with":"<conv>-accept","content":{"cost":<cost>}}
 *   then, if anyone else proposed, one
 *     {"performative":"reject-proposal","receiver":[<other proposers>],"protocol":...,
 *      "conversation_id":"<conv>","in_reply_to":"<conv>-cfp",
 *      "content":{"reason":"another proposal was chosen"}}
 *   and logs (info) "awarded <conv> to <winner> at cost <cost>: <p> proposals,
 *   <r> refusals, <f> failures of <n>". With no proposal at all it stores
 *   {"outcome":"no-proposals"} under "outcome" and logs (info) that JSON.
 * - A `propose` after the decision is answered with
 *     {"performative":"reject-proposal","receiver":<sender>,"protocol":...,
 *      "conversation_id":"<conv>","in_reply_to":<its reply_with>,
 *      "content":{"reason":"the contract was already awarded"}}
 *   and logged (info) "late proposal from <sender> in <conv>: rejected".
 * - The winner's `inform` stores, under "outcome", and logs (info)
 *     {"winner":"<name>","cost":<cost>,"result":<content.result>,"proposals":<p>}
 *   Its `failure` (or the platform's failure to deliver the accept-proposal)
 *   stores, and logs (warn),
 *     {"winner":"<name>","failed":true,"reason":<the failure's content>}
 * - Other messages are logged (warn) and ignored.
 *
 * What each conversation needs lives in kv, so that it survives a restart:
 * "cnet/<conv>" (the counts, the phase and the best proposal so far),
 * "cnet/<conv>/participants" and "cnet/<conv>/p/<name>" (each participant's
 * answer) until the decision, after which only "cnet/<conv>" remains, for
 * the late proposals and the winner's result.
 * Returns 0, or 1 when memory or the key-value store gives out.
 */
#include "caxton_abi.h"

#define PROTOCOL "fipa-contract-net"
#define PLATFORM "caxton"
/* kv keys embed the conversation id and a name; the host caps keys at 1024 bytes. */
#define MAX_CONVERSATION_ID 512
#define MAX_NAME 63

enum phase { PHASE_OPEN, PHASE_AWARDED, PHASE_DONE };
static const char *const phase_names[] = {"open", "awarded", "done"};

/* Values of "cnet/<conv>/p/<name>". */
#define ANSWER_NONE "-"
#define ANSWER_PROPOSE "propose"
#define ANSWER_REFUSE "refuse"
#define ANSWER_FAILURE "failure"

typedef struct {
    caxton_buf text; /* the stored JSON that the spans below may point into */
    enum phase phase;
    int64_t expected, proposals, refusals, failures;
    int has_best;
    caxton_span best;            /* raw JSON string: the best proposer's name */
    caxton_span best_reply_with; /* raw JSON string, or empty when the proposal had none */
    int64_t best_cost;
} conversation;

static char self_name[MAX_NAME + 1];
static size_t self_len;

static int32_t on_init(const char *json, size_t len) {
    caxton_span name;
    if (!caxton_json_get_string(caxton_span_of(json, len), "name", &name) ||
        name.len - 2 > MAX_NAME) {
        caxton_log_str(CAXTON_LOG_ERROR, "cnet-initiator: caxton_init has no usable name");
        return 1;
    }
    self_len = name.len - 2;
    memcpy(self_name, name.ptr + 1, self_len);
    caxton_log_str(CAXTON_LOG_INFO, "cnet-initiator ready");
    return 0;
}

/* ---- small helpers ---- */

static caxton_span body(caxton_span raw_string) { return caxton_json_string_body(raw_string); }

static int64_t answered(const conversation *c) { return c->proposals + c->refusals + c->failures; }

static void conversation_key(caxton_buf *key, caxton_span conv, const char *suffix) {
    caxton_buf_puts(key, "cnet/");
    caxton_buf_put_span(key, conv);
    caxton_buf_puts(key, suffix);
}

static void participant_key(caxton_buf *key, caxton_span conv, caxton_span name) {
    conversation_key(key, conv, "/p/");
    caxton_buf_put_span(key, name);
}

/* kv_set of `key` (a composed buffer); 0 when stored. */
static int kv_put(const caxton_buf *key, const void *value, size_t len) {
    if (key->failed) return -1;
    return caxton_kv_set(key->data, (int32_t)key->len, value, (int32_t)len) < 0 ? -1 : 0;
}

static void kv_remove(const caxton_buf *key) {
    if (!key->failed) caxton_kv_delete(key->data, (int32_t)key->len);
}

/* Logs `line` at `level` and frees it; 1 when composing it ran out of memory. */
static int32_t emit_log(caxton_buf *line, int32_t level) {
    int failed = line->failed;
    caxton_buf_log(line, level);
    caxton_buf_free(line);
    return failed ? 1 : 0;
}

/* Closes, sends and frees `out`; 1 when composing it ran out of memory. */
static int32_t finish_send(caxton_buf *out) {
    caxton_buf_puts(out, "}");
    int failed = out->failed;
    int32_t status = failed ? 0 : caxton_buf_send(out);
    if (status < 0) {
        caxton_buf line = {0};
        caxton_buf_puts(&line, "cnet-initiator: send rejected with status ");
        caxton_buf_put_i64(&line, status);
        emit_log(&line, CAXTON_LOG_WARN);
    }
    caxton_buf_free(out);
    return failed ? 1 : 0;
}

/* The start of a message of the conversation: performative, receiver (raw), protocol, id. */
static void begin_message(caxton_buf *out, const char *performative, caxton_span receiver,
                          caxton_span conv) {
    caxton_buf_puts(out, "{\"performative\":\"");
    caxton_buf_puts(out, performative);
    caxton_buf_puts(out, "\",\"receiver\":");
    caxton_buf_put_span(out, receiver);
    caxton_buf_puts(out, ",\"protocol\":\"" PROTOCOL "\",\"conversation_id\":\"");
    caxton_buf_put_span(out, conv);
    caxton_buf_puts(out, "\"");
}

/* Stores `outcome` under "outcome" and logs it at `level`; 1 when that failed. */
static int32_t store_outcome(caxton_buf *outcome, int32_t level) {
    static const char key[] = "outcome";
    int failed = outcome->failed ||
                 caxton_kv_set(key, (int32_t)(sizeof key - 1), outcome->data,
                               (int32_t)outcome->len) < 0;
    if (failed) caxton_log_str(CAXTON_LOG_ERROR, "cnet-initiator: cannot store the outcome");
    return (emit_log(outcome, level) != 0 || failed) ? 1 : 0;
}

/* ---- the conversation record "cnet/<conv>" ---- */

/* 1 when found, 0 when absent, -1 when it cannot be read. */
static int load_conversation(caxton_span conv, conversation *c) {
    memset(c, 0, sizeof *c);
    caxton_buf key = {0};
    conversation_key(&key, conv, "");
    int32_t found = key.failed ? CAXTON_E_TOO_LARGE : caxton_kv_get_buf(key.data, key.len, &c->text);
    caxton_buf_free(&key);
    if (found == -1) return 0;
    if (found < 0) return -1;
    caxton_span record = caxton_span_of(c->text.data, c->text.len), phase, value;
    if (!caxton_json_get(record, "phase", &phase)) return -1;
    c->phase = caxton_json_string_eq(phase, "done")      ? PHASE_DONE
               : caxton_json_string_eq(phase, "awarded") ? PHASE_AWARDED
                                                         : PHASE_OPEN;
    if (!caxton_json_get(record, "expected", &value) || !caxton_json_int(value, &c->expected) ||
        !caxton_json_get(record, "proposals", &value) || !caxton_json_int(value, &c->proposals) ||
        !caxton_json_get(record, "refusals", &value) || !caxton_json_int(value, &c->refusals) ||
        !caxton_json_get(record, "failures", &value) || !caxton_json_int(value, &c->failures))
        return -1;
    if (caxton_json_get_string(record, "best", &c->best)) {
        c->has_best = caxton_json_get(record, "cost", &value) &&
                      caxton_json_int(value, &c->best_cost);
        if (!caxton_json_get_string(record, "best_reply_with", &c->best_reply_with))
            c->best_reply_with = caxton_span_of(NULL, 0);
    }
    return 1;
}

/* Writes `c` back; 1 when that failed. */
static int32_t save_conversation(caxton_span conv, const conversation *c) {
    caxton_buf text = {0}, key = {0};
    caxton_buf_puts(&text, "{\"phase\":\"");
    caxton_buf_puts(&text, phase_names[c->phase]);
    caxton_buf_puts(&text, "\",\"expected\":");
    caxton_buf_put_i64(&text, c->expected);
    caxton_buf_puts(&text, ",\"proposals\":");
    caxton_buf_put_i64(&text, c->proposals);
    caxton_buf_puts(&text, ",\"refusals\":");
    caxton_buf_put_i64(&text, c->refusals);
    caxton_buf_puts(&text, ",\"failures\":");
    caxton_buf_put_i64(&text, c->failures);
    if (c->has_best) {
        caxton_buf_puts(&text, ",\"best\":");
        caxton_buf_put_span(&text, c->best);
        caxton_buf_puts(&text, ",\"cost\":");
        caxton_buf_put_i64(&text, c->best_cost);
        if (c->best_reply_with.len > 0) {
            caxton_buf_puts(&text, ",\"best_reply_with\":");
            caxton_buf_put_span(&text, c->best_reply_with);
        }
    }
    caxton_buf_puts(&text, "}");
    conversation_key(&key, conv, "");
    int failed = text.failed || kv_put(&key, text.data, text.len) != 0;
    if (failed) caxton_log_str(CAXTON_LOG_ERROR, "cnet-initiator: cannot store the conversation");
    caxton_buf_free(&text);
    caxton_buf_free(&key);
    return failed ? 1 : 0;
}

/* ---- the kick: one cfp to every participant ---- */

static int32_t refuse_kick(caxton_span msg, const char *reason) {
    caxton_buf line = {0};
    caxton_buf_puts(&line, "cnet-initiator: bad request: ");
    caxton_buf_puts(&line, reason);
    if (emit_log(&line, CAXTON_LOG_WARN) != 0) return 1;
    caxton_span sender, field;
    if (!caxton_json_get_string(msg, "sender", &sender)) return 0;
    caxton_buf out = {0};
    caxton_buf_puts(&out, "{\"performative\":\"not-understood\",\"receiver\":");
    caxton_buf_put_span(&out, sender);
    if (caxton_json_get_string(msg, "conversation_id", &field)) {
        caxton_buf_puts(&out, ",\"conversation_id\":");
        caxton_buf_put_span(&out, field);
    }
    if (caxton_json_get_string(msg, "reply_with", &field)) {
        caxton_buf_puts(&out, ",\"in_reply_to\":");
        caxton_buf_put_span(&out, field);
    }
    caxton_buf_puts(&out, ",\"content\":{\"reason\":\"");
    caxton_buf_puts(&out, reason);
    caxton_buf_puts(&out, "\"}");
    return finish_send(&out);
}

/* The next conversation number, counted in kv; 0 when the store fails. */
static int64_t next_conversation_number(void) {
    static const char key[] = "counter";
    char digits[24];
    int64_t n = 0;
    int32_t len = caxton_kv_get(key, (int32_t)(sizeof key - 1), digits, (int32_t)sizeof digits);
    if (len > 0 && len <= (int32_t)sizeof digits &&
        !caxton_json_int(caxton_span_of(digits, (size_t)len), &n))
        n = 0;
    n++;
    caxton_buf text = {0};
    caxton_buf_put_i64(&text, n);
    int failed = text.failed ||
                 caxton_kv_set(key, (int32_t)(sizeof key - 1), text.data, (int32_t)text.len) < 0;
    caxton_buf_free(&text);
    return failed ? 0 : n;
}

/*
 * Forgets the participants of `conv` (their answer keys and the list). When
 * `rejects` is given, the proposers other than `winner` are appended to it as
 * comma-separated raw strings, in the order the cfp named them. Returns how
 * many were appended.
 */
static int64_t forget_participants(caxton_span conv, caxton_buf *rejects, caxton_span winner) {
    caxton_buf list_key = {0}, list = {0};
    conversation_key(&list_key, conv, "/participants");
    int64_t count = 0;
    if (!list_key.failed && caxton_kv_get_buf(list_key.data, list_key.len, &list) >= 0) {
        caxton_json_iter it;
        caxton_span name;
        if (caxton_json_array(caxton_span_of(list.data, list.len), &it)) {
            while (caxton_json_next(&it, &name)) {
                caxton_buf key = {0};
                participant_key(&key, conv, body(name));
                char answer[16];
                int32_t len = key.failed ? -1
                                         : caxton_kv_get(key.data, (int32_t)key.len, answer,
                                                         (int32_t)sizeof answer);
                /* A name the cfp listed twice finds its key already gone the second time. */
                if (rejects != NULL && len == (int32_t)strlen(ANSWER_PROPOSE) &&
                    memcmp(answer, ANSWER_PROPOSE, (size_t)len) == 0 &&
                    !caxton_span_eq(name, winner)) {
                    if (count > 0) caxton_buf_puts(rejects, ",");
                    caxton_buf_put_span(rejects, name);
                    count++;
                }
                kv_remove(&key);
                caxton_buf_free(&key);
            }
        }
    }
    kv_remove(&list_key);
    caxton_buf_free(&list_key);
    caxton_buf_free(&list);
    return count;
}

static int32_t on_kick(caxton_span msg) {
    caxton_span content, participants, task, deadline, name;
    int64_t deadline_ms;
    caxton_json_iter it;
    if (!caxton_json_get(msg, "content", &content) ||
        !caxton_json_get(content, "participants", &participants) ||
        !caxton_json_array(participants, &it))
        return refuse_kick(msg, "participants must be a non-empty array of agent names");
    size_t listed = 0;
    while (caxton_json_next(&it, &name)) {
        if (name.ptr[0] != '"' || name.len - 2 > MAX_NAME || name.len < 3)
            return refuse_kick(msg, "participants must be a non-empty array of agent names");
        listed++;
    }
    if (it.failed || listed == 0)
        return refuse_kick(msg, "participants must be a non-empty array of agent names");
    if (!caxton_json_get(content, "task", &task) || task.ptr[0] != '{')
        return refuse_kick(msg, "task must be an object");
    if (!caxton_json_get(content, "deadline_ms", &deadline) ||
        !caxton_json_int(deadline, &deadline_ms) || deadline_ms < 1)
        return refuse_kick(msg, "deadline_ms must be an integer >= 1");

    int64_t number = next_conversation_number();
    if (number == 0) {
        caxton_log_str(CAXTON_LOG_ERROR, "cnet-initiator: cannot count conversations");
        return 1;
    }
    caxton_buf conv_text = {0};
    caxton_buf_append(&conv_text, self_name, self_len);
    caxton_buf_puts(&conv_text, "-");
    caxton_buf_put_i64(&conv_text, number);
    if (conv_text.failed) return 1;
    caxton_span conv = caxton_span_of(conv_text.data, conv_text.len);

    /* Distinct names only: a participant named twice answers once. */
    conversation c;
    memset(&c, 0, sizeof c);
    int failed = 0;
    caxton_json_array(participants, &it);
    while (!failed && caxton_json_next(&it, &name)) {
        caxton_buf key = {0};
        participant_key(&key, conv, body(name));
        char answer[16];
        if (key.failed) {
            failed = 1;
        } else if (caxton_kv_get(key.data, (int32_t)key.len, answer, (int32_t)sizeof answer) < 0) {
            failed = kv_put(&key, ANSWER_NONE, strlen(ANSWER_NONE)) != 0;
            c.expected++;
        }
        caxton_buf_free(&key);
    }
    caxton_buf list_key = {0};
    conversation_key(&list_key, conv, "/participants");
    failed = failed || kv_put(&list_key, participants.ptr, participants.len) != 0;
    caxton_buf_free(&list_key);
    c.phase = PHASE_OPEN;
    failed = failed || save_conversation(conv, &c) != 0;

    caxton_buf reply_by = {0};
    caxton_buf_put_timestamp(&reply_by, caxton_now_ms() + deadline_ms);
    caxton_buf out = {0};
    begin_message(&out, "cfp", participants, conv);
    caxton_buf_puts(&out, ",\"reply_with\":\"");
    caxton_buf_put_span(&out, conv);
    caxton_buf_puts(&out, "-cfp\",\"reply_by\":\"");
    caxton_buf_put_span(&out, caxton_span_of(reply_by.data, reply_by.len));
    caxton_buf_puts(&out, "\",\"content\":");
    caxton_buf_put_span(&out, task);
    caxton_buf_puts(&out, "}");
    failed = failed || out.failed || reply_by.failed;
    int32_t status = failed ? CAXTON_OK : caxton_buf_send(&out);
    caxton_buf_free(&out);

    caxton_buf line = {0};
    if (failed || status < 0) {
        /* Nobody was asked, so nobody will answer: leave nothing waiting. */
        forget_participants(conv, NULL, caxton_span_of(NULL, 0));
        caxton_buf key = {0};
        conversation_key(&key, conv, "");
        kv_remove(&key);
        caxton_buf_free(&key);
        caxton_buf_puts(&line, "cnet-initiator: cfp ");
        caxton_buf_put_span(&line, conv);
        caxton_buf_puts(&line, " not sent, status ");
        caxton_buf_put_i64(&line, failed ? CAXTON_E_TOO_LARGE : status);
        emit_log(&line, CAXTON_LOG_ERROR);
    } else {
        caxton_buf_puts(&line, "cfp ");
        caxton_buf_put_span(&line, conv);
        caxton_buf_puts(&line, " to ");
        caxton_buf_put_i64(&line, c.expected);
        caxton_buf_puts(&line, " participants, reply_by ");
        caxton_buf_put_span(&line, caxton_span_of(reply_by.data, reply_by.len));
        failed = emit_log(&line, CAXTON_LOG_INFO) != 0;
    }
    caxton_buf_free(&reply_by);
    caxton_buf_free(&conv_text);
    return failed ? 1 : 0;
}

/* ---- the decision ---- */

static int32_t decide(caxton_span conv, conversation *c) {
    int32_t rc = 0;
    caxton_buf rejects = {0};
    int64_t rejected = forget_participants(conv, &rejects, c->has_best ? c->best : caxton_span_of(NULL, 0));
    if (!c->has_best) {
        c->phase = PHASE_DONE;
        caxton_buf outcome = {0};
        caxton_buf_puts(&outcome, "{\"outcome\":\"no-proposals\"}");
        rc |= store_outcome(&outcome, CAXTON_LOG_INFO);
        rc |= save_conversation(conv, c);
        caxton_buf_free(&rejects);
        return rc;
    }
    c->phase = PHASE_AWARDED;
    rc |= save_conversation(conv, c);

    caxton_buf out = {0};
    begin_message(&out, "accept-proposal", c->best, conv);
    if (c->best_reply_with.len > 0) {
        caxton_buf_puts(&out, ",\"in_reply_to\":");
        caxton_buf_put_span(&out, c->best_reply_with);
    }
    caxton_buf_puts(&out, ",\"reply_with\":\"");
    caxton_buf_put_span(&out, conv);
    caxton_buf_puts(&out, "-accept\",\"content\":{\"cost\":");
    caxton_buf_put_i64(&out, c->best_cost);
    caxton_buf_puts(&out, "}");
    rc |= finish_send(&out);

    if (rejected > 0) {
        caxton_buf receivers = {0};
        caxton_buf_puts(&receivers, "[");
        caxton_buf_put_span(&receivers, caxton_span_of(rejects.data, rejects.len));
        caxton_buf_puts(&receivers, "]");
        caxton_buf reject = {0};
        begin_message(&reject, "reject-proposal", caxton_span_of(receivers.data, receivers.len),
                      conv);
        caxton_buf_puts(&reject, ",\"in_reply_to\":\"");
        caxton_buf_put_span(&reject, conv);
        caxton_buf_puts(&reject, "-cfp\",\"content\":{\"reason\":\"another proposal was chosen\"}");
        rc |= receivers.failed | rejects.failed;
        rc |= finish_send(&reject);
        caxton_buf_free(&receivers);
    }
    caxton_buf_free(&rejects);

    caxton_buf line = {0};
    caxton_buf_puts(&line, "awarded ");
    caxton_buf_put_span(&line, conv);
    caxton_buf_puts(&line, " to ");
    caxton_buf_put_span(&line, body(c->best));
    caxton_buf_puts(&line, " at cost ");
    caxton_buf_put_i64(&line, c->best_cost);
    caxton_buf_puts(&line, ": ");
    caxton_buf_put_i64(&line, c->proposals);
    caxton_buf_puts(&line, " proposals, ");
    caxton_buf_put_i64(&line, c->refusals);
    caxton_buf_puts(&line, " refusals, ");
    caxton_buf_put_i64(&line, c->failures);
    caxton_buf_puts(&line, " failures of ");
    caxton_buf_put_i64(&line, c->expected);
    rc |= emit_log(&line, CAXTON_LOG_INFO);
    return rc;
}

/* ---- answers ---- */

enum answer { ANSWERED_PROPOSE, ANSWERED_REFUSE, ANSWERED_FAILURE, ANSWERED_INFORM };

static int32_t warn_about(const char *text, caxton_span sender, caxton_span conv) {
    caxton_buf line = {0};
    caxton_buf_puts(&line, "cnet-initiator: ");
    caxton_buf_puts(&line, text);
    caxton_buf_puts(&line, " from ");
    caxton_buf_put_span(&line, body(sender));
    caxton_buf_puts(&line, " in ");
    caxton_buf_put_span(&line, conv);
    return emit_log(&line, CAXTON_LOG_WARN);
}

static int32_t reject_late(caxton_span msg, caxton_span sender, caxton_span conv) {
    caxton_span reply_with;
    caxton_buf out = {0};
    begin_message(&out, "reject-proposal", sender, conv);
    if (caxton_json_get_string(msg, "reply_with", &reply_with)) {
        caxton_buf_puts(&out, ",\"in_reply_to\":");
        caxton_buf_put_span(&out, reply_with);
    }
    caxton_buf_puts(&out, ",\"content\":{\"reason\":\"the contract was already awarded\"}");
    if (finish_send(&out) != 0) return 1;
    caxton_buf line = {0};
    caxton_buf_puts(&line, "late proposal from ");
    caxton_buf_put_span(&line, body(sender));
    caxton_buf_puts(&line, " in ");
    caxton_buf_put_span(&line, conv);
    caxton_buf_puts(&line, ": rejected");
    return emit_log(&line, CAXTON_LOG_INFO);
}

/* Whether the raw string `v` is "<conv><suffix>". */
static int is_conversation_string(caxton_span v, caxton_span conv, const char *suffix) {
    size_t n = strlen(suffix);
    caxton_span text = body(v);
    return v.len >= 2 && v.ptr[0] == '"' && text.len == conv.len + n &&
           memcmp(text.ptr, conv.ptr, conv.len) == 0 && memcmp(text.ptr + conv.len, suffix, n) == 0;
}

/* The winner's inform or failure, once awarded. */
static int32_t on_result(caxton_span msg, enum answer kind, conversation *c, caxton_span conv) {
    caxton_span content;
    int has_content = caxton_json_get(msg, "content", &content);
    caxton_buf outcome = {0};
    caxton_buf_puts(&outcome, "{\"winner\":");
    caxton_buf_put_span(&outcome, c->best);
    int32_t level = CAXTON_LOG_INFO;
    if (kind == ANSWERED_INFORM) {
        caxton_span result;
        caxton_buf_puts(&outcome, ",\"cost\":");
        caxton_buf_put_i64(&outcome, c->best_cost);
        caxton_buf_puts(&outcome, ",\"result\":");
        if (has_content && caxton_json_get(content, "result", &result))
            caxton_buf_put_span(&outcome, result);
        else
            caxton_buf_puts(&outcome, "null");
        caxton_buf_puts(&outcome, ",\"proposals\":");
        caxton_buf_put_i64(&outcome, c->proposals);
    } else {
        caxton_buf_puts(&outcome, ",\"failed\":true,\"reason\":");
        if (has_content)
            caxton_buf_put_span(&outcome, content);
        else
            caxton_buf_puts(&outcome, "null");
        level = CAXTON_LOG_WARN;
    }
    caxton_buf_puts(&outcome, "}");
    c->phase = PHASE_DONE;
    int32_t rc = save_conversation(conv, c);
    return store_outcome(&outcome, level) | rc;
}

static int32_t after_decision(caxton_span msg, enum answer kind, caxton_span sender,
                              conversation *c, caxton_span conv) {
    if (kind == ANSWERED_PROPOSE) return reject_late(msg, sender, conv);
    caxton_span in_reply_to;
    int from_winner = c->has_best && caxton_span_eq(sender, c->best);
    /* The router answers an accept-proposal it could not deliver in its own name. */
    int undeliverable = kind == ANSWERED_FAILURE && caxton_json_string_eq(sender, PLATFORM) &&
                        caxton_json_get_string(msg, "in_reply_to", &in_reply_to) &&
                        is_conversation_string(in_reply_to, conv, "-accept");
    if (c->phase == PHASE_AWARDED && (kind == ANSWERED_INFORM || kind == ANSWERED_FAILURE) &&
        (from_winner || undeliverable))
        return on_result(msg, kind, c, conv);
    return warn_about("ignoring an answer after the decision", sender, conv);
}

static int32_t on_answer(caxton_span msg, enum answer kind, caxton_span sender, caxton_span conv) {
    conversation c;
    int found = load_conversation(conv, &c);
    int32_t rc = 0;
    if (found < 0) {
        caxton_log_str(CAXTON_LOG_ERROR, "cnet-initiator: cannot read the conversation");
        rc = 1;
    } else if (found == 0) {
        rc = warn_about("ignoring a message of an unknown conversation", sender, conv);
    } else if (c.phase != PHASE_OPEN) {
        rc = after_decision(msg, kind, sender, &c, conv);
    } else if (kind == ANSWERED_INFORM) {
        rc = warn_about("ignoring an inform before the decision", sender, conv);
    } else if (kind == ANSWERED_FAILURE && caxton_json_string_eq(sender, PLATFORM)) {
        /* A participant that cannot be reached: the platform answers for it, by reason only. */
        caxton_span in_reply_to;
        if (caxton_json_get_string(msg, "in_reply_to", &in_reply_to) &&
            is_conversation_string(in_reply_to, conv, "-cfp")) {
            c.failures++;
            rc = answered(&c) >= c.expected ? decide(conv, &c) : save_conversation(conv, &c);
        } else {
            rc = warn_about("ignoring a failure", sender, conv);
        }
    } else {
        caxton_buf key = {0};
        char previous[16];
        int32_t len = -1;
        if (body(sender).len <= MAX_NAME) {
            participant_key(&key, conv, body(sender));
            if (!key.failed)
                len = caxton_kv_get(key.data, (int32_t)key.len, previous, (int32_t)sizeof previous);
        }
        int64_t cost = 0;
        caxton_span content, value;
        if (len < 0) {
            rc = warn_about("ignoring an answer from a non-participant", sender, conv);
        } else if (len != (int32_t)strlen(ANSWER_NONE) ||
                   memcmp(previous, ANSWER_NONE, (size_t)len) != 0) {
            rc = warn_about("ignoring a second answer", sender, conv);
        } else {
            const char *record = ANSWER_FAILURE;
            if (kind == ANSWERED_REFUSE) {
                record = ANSWER_REFUSE;
                c.refusals++;
            } else if (kind == ANSWERED_FAILURE) {
                c.failures++;
            } else if (caxton_json_get(msg, "content", &content) &&
                       caxton_json_get(content, "cost", &value) &&
                       caxton_json_int(value, &cost)) {
                record = ANSWER_PROPOSE;
                c.proposals++;
                /* Strictly lower: of equal costs the first received keeps the lead. */
                if (!c.has_best || cost < c.best_cost) {
                    c.has_best = 1;
                    c.best = sender;
                    c.best_cost = cost;
                    if (!caxton_json_get_string(msg, "reply_with", &c.best_reply_with))
                        c.best_reply_with = caxton_span_of(NULL, 0);
                }
            } else {
                c.failures++;
                caxton_buf out = {0};
                begin_message(&out, "not-understood", sender, conv);
                if (caxton_json_get_string(msg, "reply_with", &value)) {
                    caxton_buf_puts(&out, ",\"in_reply_to\":");
                    caxton_buf_put_span(&out, value);
                }
                caxton_buf_puts(&out, ",\"content\":{\"reason\":\"a proposal needs an integer cost\"}");
                rc |= finish_send(&out);
            }
            rc |= kv_put(&key, record, strlen(record)) != 0;
            rc |= answered(&c) >= c.expected ? decide(conv, &c) : save_conversation(conv, &c);
        }
        caxton_buf_free(&key);
    }
    caxton_buf_free(&c.text);
    return rc;
}

static int32_t on_deadline(caxton_span conv) {
    conversation c;
    int found = load_conversation(conv, &c);
    int32_t rc = 0;
    if (found < 0) {
        rc = 1;
    } else if (found == 1 && c.phase == PHASE_OPEN) {
        caxton_buf line = {0};
        caxton_buf_puts(&line, "deadline of ");
        caxton_buf_put_span(&line, conv);
        caxton_buf_puts(&line, ": ");
        caxton_buf_put_i64(&line, c.expected - answered(&c));
        caxton_buf_puts(&line, " silent");
        rc = emit_log(&line, CAXTON_LOG_INFO);
        rc |= decide(conv, &c);
    } else {
        /* Decided already (everyone answered in time), or not ours: nothing is owed. */
        caxton_buf line = {0};
        caxton_buf_puts(&line, "cnet-initiator: deadline of ");
        caxton_buf_put_span(&line, conv);
        caxton_buf_puts(&line, found ? " after the decision" : ", an unknown conversation");
        rc = emit_log(&line, CAXTON_LOG_DEBUG);
    }
    caxton_buf_free(&c.text);
    return rc;
}

static int32_t on_message(const char *json, size_t len) {
    caxton_span msg = caxton_span_of(json, len);
    caxton_span performative, sender, conversation_id, event;
    if (!caxton_json_get_string(msg, "performative", &performative)) return 0;
    if (caxton_json_string_eq(performative, "request")) return on_kick(msg);

    enum answer kind;
    if (caxton_json_string_eq(performative, "propose"))
        kind = ANSWERED_PROPOSE;
    else if (caxton_json_string_eq(performative, "refuse"))
        kind = ANSWERED_REFUSE;
    else if (caxton_json_string_eq(performative, "failure"))
        kind = ANSWERED_FAILURE;
    else if (caxton_json_string_eq(performative, "inform"))
        kind = ANSWERED_INFORM;
    else {
        caxton_buf line = {0};
        caxton_buf_puts(&line, "cnet-initiator: ignoring ");
        caxton_buf_put_span(&line, body(performative));
        return emit_log(&line, CAXTON_LOG_WARN);
    }
    if (!caxton_json_get_string(msg, "sender", &sender) ||
        !caxton_json_get_string(msg, "conversation_id", &conversation_id) ||
        conversation_id.len > MAX_CONVERSATION_ID) {
        caxton_log_str(CAXTON_LOG_WARN,
                       "cnet-initiator: ignoring an answer without sender or conversation_id");
        return 0;
    }
    caxton_span conv = body(conversation_id);
    /* Only the platform can send in the name `caxton`: agents cannot forge a deadline. */
    if (kind == ANSWERED_INFORM && caxton_json_string_eq(sender, PLATFORM) &&
        caxton_json_get(msg, "x-caxton-event", &event) &&
        caxton_json_string_eq(event, "deadline"))
        return on_deadline(conv);
    return on_answer(msg, kind, sender, conv);
}

CAXTON_DEFINE_ALLOC()
CAXTON_DEFINE_INIT(on_init)
CAXTON_DEFINE_HANDLE(on_message)
