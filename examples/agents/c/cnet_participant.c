/*
 * cnet_participant - the participant's side of FIPA Contract Net (SC00029,
 * protocol `fipa-contract-net`), on the SDK's caxton_cnet_participate: it
 * bids a fixed cost for any task and, when awarded, sums the task's numbers.
 *
 * Its init reads the config
 *   "cost": integer         the price it proposes; required unless "refuse" is true
 *   "refuse": bool          answer every cfp with `refuse`
 *   "late_ms": integer >= 0 busy-wait that long (on now_ms) before proposing, so
 *                           that the proposal misses a short deadline
 *   "fail": bool            trap on every cfp (the host answers `failure` in its name)
 *   "fail_work": bool       propose, but trap when awarded the work
 * A config that breaks these rules fails the start. It logs (info)
 * "cnet-participant ready".
 *
 * The SDK sends the answers (protocol, conversation_id and in_reply_to set;
 * a proposal's reply_with is "<name>/<conv>") and keeps the task under
 * "task/<conv>" from the proposal to the award. With <conv> the conversation_id:
 *
 * - `cfp` with content {"numbers": [integers...], ...} (the task):
 *     refuse configured:  `refuse` {"reason":"not taking work"}
 *     task malformed:     `refuse` {"reason":"task needs numbers: an array of integers"}
 *     otherwise           `propose` {"cost":<cost>}, logging (info) "proposed <cost> in <conv>".
 * - `accept-proposal`: `inform` {"result":<the sum>}, logging (info)
 *   "did the work in <conv>: <sum>"; `failure` {"reason":...} when the sum
 *   overflows 64 bits (or, from the SDK, when no task was kept).
 * - `reject-proposal`: logs (info) "rejected in <conv>".
 * - anything else is logged (warn) and ignored.
 * Returns 0, or 1 when memory or the key-value store gives out, so that the
 * host tells the initiator with a `failure`.
 */
#include "caxton.h"

static int64_t cost;
static int refuse;
static int fail_on_cfp;
static int fail_on_work;
static int64_t late_ms;

static int config_error(const char *text) {
    caxton_error("cnet-participant: %s", text);
    return 1;
}

/* Reads an optional boolean; 0 when present but not a boolean. */
static int read_flag(const caxton_json *config, const char *key, int *out) {
    const caxton_json *value = caxton_json_get(config, key);
    return value == NULL || caxton_json_bool(value, out);
}

static int on_init(const caxton_json *config) {
    if (!read_flag(config, "refuse", &refuse) || !read_flag(config, "fail", &fail_on_cfp) ||
        !read_flag(config, "fail_work", &fail_on_work))
        return config_error("refuse, fail and fail_work must be booleans");
    const caxton_json *value = caxton_json_get(config, "cost");
    if (value != NULL ? !caxton_json_int(value, &cost) : !refuse)
        return config_error(value != NULL ? "config.cost must be an integer"
                                          : "config.cost is required");
    value = caxton_json_get(config, "late_ms");
    if (value != NULL && (!caxton_json_int(value, &late_ms) || late_ms < 0))
        return config_error("config.late_ms must be an integer >= 0");
    caxton_info("cnet-participant ready");
    return 0;
}

/* The sum of the task's numbers into *sum; 0 when they are not all integers or it overflows. */
static int sum_numbers(const caxton_json *task, int64_t *sum) {
    const caxton_json *numbers = caxton_json_get(task, "numbers");
    if (caxton_json_typeof(numbers) != CAXTON_JSON_ARRAY) return 0;
    int64_t total = 0, n;
    for (const caxton_json *item = caxton_json_first(numbers); item; item = caxton_json_next(item))
        if (!caxton_json_int(item, &n) || __builtin_add_overflow(total, n, &total)) return 0;
    *sum = total;
    return 1;
}

/* `verdict` with a reason as content, or CAXTON_ERROR when memory gave out. */
static caxton_verdict with_reason(caxton_verdict verdict, const char *reason,
                                  caxton_json **content) {
    *content = caxton_reason(reason);
    return *content != NULL ? verdict : CAXTON_ERROR;
}

static caxton_verdict on_cfp(const caxton_message *cfp, caxton_json **content, void *user) {
    (void)user;
    if (fail_on_cfp) {
        caxton_warn("cnet-participant: failing on cfp as configured");
        __builtin_trap();
    }
    if (refuse) return with_reason(CAXTON_REFUSE, "not taking work", content);
    int64_t sum;
    /* Checked now rather than at the award: a task it cannot do must not win. */
    if (!sum_numbers(caxton_message_content(cfp), &sum))
        return with_reason(CAXTON_REFUSE, "task needs numbers: an array of integers", content);
    if (late_ms > 0) {
        int64_t until = caxton_now_ms() + late_ms;
        while (caxton_now_ms() < until) {
        }
    }
    *content = caxton_json_new_object();
    if (caxton_json_set_int(*content, "cost", cost) != CAXTON_OK) return CAXTON_ERROR;
    caxton_info("proposed %lld in %s", (long long)cost, caxton_message_conversation_id(cfp));
    return CAXTON_PROPOSE;
}

static caxton_verdict on_accept(const caxton_message *accept, const caxton_json *task,
                                caxton_json **content, void *user) {
    (void)user;
    if (fail_on_work) {
        caxton_warn("cnet-participant: failing on the work as configured");
        __builtin_trap();
    }
    int64_t sum;
    if (!sum_numbers(task, &sum)) return with_reason(CAXTON_FAILURE, "the sum overflows", content);
    *content = caxton_json_new_object();
    if (caxton_json_set_int(*content, "result", sum) != CAXTON_OK) return CAXTON_ERROR;
    caxton_info("did the work in %s: %lld", caxton_message_conversation_id(accept),
                (long long)sum);
    return CAXTON_INFORM;
}

static void on_reject(const caxton_message *reject, void *user) {
    (void)user;
    caxton_info("rejected in %s", caxton_message_conversation_id(reject));
}

static const caxton_cnet_participant participant = {on_cfp, on_accept, on_reject, NULL};

static int on_message(const caxton_message *msg) {
    int handled = caxton_cnet_participate(msg, &participant);
    if (handled == 0) {
        const char *performative = caxton_message_performative(msg);
        caxton_warn("cnet-participant: ignoring %s", performative ? performative : "a message");
    }
    return handled < 0;
}

CAXTON_AGENT(on_init, on_message)
