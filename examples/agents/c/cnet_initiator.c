/*
 * cnet_initiator - the initiator's side of FIPA Contract Net (SC00029,
 * protocol `fipa-contract-net`), on the SDK's caxton_cnet_start and
 * caxton_cnet_initiate: one call for proposals to many participants, the
 * cheapest proposal wins, the winner does the work.
 *
 * Its init logs (info) "cnet-initiator ready". With <self> its name and
 * <conv> = "<self>-<n>" (n counts kicks, kept in kv under "counter"):
 *
 * - `request` (the kick) with content
 *     {"participants": ["p-000", ...], "task": {...}, "deadline_ms": 200}
 *   starts a contract net: the SDK sends one cfp to all participants
 *   (conversation_id <conv>, reply_with "<conv>-cfp", reply_by now + deadline_ms,
 *   content the task) and logs (info) "cfp <conv> to <n> participants, reply_by <time>".
 *   Bad content (participants not a non-empty array of agent names, task not
 *   an object, deadline_ms not an integer >= 1) is answered with
 *     {"performative":"not-understood","receiver":<sender>,"content":{"reason":...}}
 *   (plus conversation_id and in_reply_to) and a warning; without a sender, only the warning.
 * - Answers of its conversations go to the SDK, which counts them, awards the
 *   contract to the cheapest proposal once everyone answered or the platform's
 *   deadline notice came, rejects the others and late proposals, and logs
 *   "awarded <conv> to <winner> at cost <cost>: <p> proposals, <r> refusals,
 *   <f> failures of <n>" (see caxton_cnet_initiate in caxton.h).
 * - The outcome is stored under "outcome" and logged:
 *     {"winner":"<name>","cost":<cost>,"result":<content.result>,"proposals":<p>}   (info)
 *     {"winner":"<name>","failed":true,"reason":<the failure's content>}          (warn)
 *     {"outcome":"no-proposals"}                                                  (info)
 * - Messages of conversations it does not know, and other performatives, are
 *   logged (warn; a deadline notice: debug) and ignored.
 * Returns 0, or 1 when memory or the key-value store gives out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caxton.h"

static int on_init(const caxton_json *config) {
    (void)config;
    if (caxton_name()[0] == '\0') {
        caxton_error("cnet-initiator: caxton_init has no usable name");
        return 1;
    }
    caxton_info("cnet-initiator ready");
    return 0;
}

static int not_understood(const caxton_message *msg, const char *reason) {
    caxton_warn("cnet-initiator: bad request: %s", reason);
    if (caxton_message_sender(msg) == NULL) return 0;
    int status = caxton_reply(msg, "not-understood", caxton_reason(reason));
    return status == CAXTON_E_NO_MEMORY;
}

static int on_kick(const caxton_message *msg) {
    const caxton_json *content = caxton_message_content(msg);
    const caxton_json *participants = caxton_json_get(content, "participants");
    int names = caxton_json_typeof(participants) == CAXTON_JSON_ARRAY &&
                caxton_json_size(participants) > 0;
    for (const caxton_json *item = caxton_json_first(participants); item && names;
         item = caxton_json_next(item))
        names = caxton_is_agent_name(caxton_json_string(item));
    if (!names) return not_understood(msg, "participants must be a non-empty array of agent names");
    const caxton_json *task = caxton_json_get(content, "task");
    if (caxton_json_typeof(task) != CAXTON_JSON_OBJECT)
        return not_understood(msg, "task must be an object");
    int64_t deadline_ms;
    if (!caxton_json_get_int(content, "deadline_ms", &deadline_ms) || deadline_ms < 1)
        return not_understood(msg, "deadline_ms must be an integer >= 1");

    int64_t number = 0;
    caxton_kv_get_int("counter", &number); /* absent before the first kick */
    if (caxton_kv_set_int("counter", ++number) != CAXTON_OK) {
        caxton_error("cnet-initiator: cannot count conversations");
        return 1;
    }
    char conversation[96];
    snprintf(conversation, sizeof conversation, "%s-%lld", caxton_name(), (long long)number);
    /* caxton_cnet_start logs why it failed; only a lack of memory fails the handler. */
    return caxton_cnet_start(conversation, participants, task, deadline_ms) == CAXTON_E_NO_MEMORY;
}

/* Stores the outcome under "outcome" and logs it. */
static int on_outcome(const caxton_cnet_outcome *o, void *user) {
    (void)user;
    caxton_json *outcome = caxton_json_new_object();
    int level = CAXTON_LOG_INFO, status;
    if (o->winner == NULL) {
        status = caxton_json_set_string(outcome, "outcome", "no-proposals");
    } else {
        const caxton_json *content = caxton_message_content(o->result);
        status = caxton_json_set_string(outcome, "winner", o->winner);
        if (o->done) {
            const caxton_json *result = caxton_json_get(content, "result");
            if (status == CAXTON_OK) status = caxton_json_set_int(outcome, "cost", o->cost);
            if (status == CAXTON_OK)
                status = caxton_json_set(outcome, "result",
                                         result ? caxton_json_copy(result) : caxton_json_new_null());
            if (status == CAXTON_OK)
                status = caxton_json_set_int(outcome, "proposals", o->proposals);
        } else {
            level = CAXTON_LOG_WARN;
            if (status == CAXTON_OK) status = caxton_json_set_bool(outcome, "failed", 1);
            if (status == CAXTON_OK)
                status = caxton_json_set(outcome, "reason",
                                         content ? caxton_json_copy(content) : caxton_json_new_null());
        }
    }
    char *text = status == CAXTON_OK ? caxton_json_serialize(outcome, NULL) : NULL;
    caxton_json_free(outcome);
    if (text == NULL) return 1;
    status = caxton_kv_set_string("outcome", text);
    if (status != CAXTON_OK) caxton_error("cnet-initiator: cannot store the outcome");
    caxton_log(level, text);
    free(text);
    return status != CAXTON_OK;
}

static const caxton_cnet_initiator initiator = {NULL, on_outcome, NULL};

static int on_message(const caxton_message *msg) {
    if (caxton_message_is(msg, "request")) return on_kick(msg);
    int handled = caxton_cnet_initiate(msg, &initiator);
    if (handled != 0) return handled < 0;

    const char *performative = caxton_message_performative(msg);
    const char *sender = caxton_message_sender(msg);
    const char *conversation = caxton_message_conversation_id(msg);
    if (!caxton_message_is(msg, "propose") && !caxton_message_is(msg, "refuse") &&
        !caxton_message_is(msg, "failure") && !caxton_message_is(msg, "inform"))
        caxton_warn("cnet-initiator: ignoring %s", performative ? performative : "a message");
    else if (sender == NULL || conversation == NULL)
        caxton_warn("cnet-initiator: ignoring an answer without sender or conversation_id");
    else if (caxton_json_string_is(caxton_message_get(msg, "x-caxton-event"), "deadline"))
        caxton_debug("cnet-initiator: deadline of %s, an unknown conversation", conversation);
    else
        caxton_warn("cnet-initiator: ignoring a message of an unknown conversation from %s in %s",
                    sender, conversation);
    return 0;
}

CAXTON_AGENT(on_init, on_message)
