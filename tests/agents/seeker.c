/*
 * seeker - a test agent that asks the built-in `directory` agent for providers and
 * passes on what it answers.
 *
 * - `request` from anyone: the requester is remembered (one at a time) and the
 *   directory is sent
 *     {"performative":"query-ref","receiver":"directory","protocol":"fipa-query",
 *      "reply_with":"seek-N","content":<the request's content>}
 *   or, when the request's content has a "send" key,
 *     {"performative":<content.send>,"receiver":"directory","reply_with":"seek-N"
 *      [,"protocol":<content.protocol>][,"content":<content.content>]}
 *   (so a test can send malformed queries and other performatives); logs (info)
 *   "asked the directory".
 * - anything from `directory`: logs (info) "directory answered <performative>" and
 *   sends the requester an `inform` in the request's conversation, in reply to it,
 *   whose content is {"performative":..., "content":..., "in_reply_to":...,
 *   "conversation_id":..., "protocol":...} of the directory's answer (each
 *   present only when the answer had it).
 * - anything else is ignored. Returns 0, 1 only when out of memory.
 */
#include <stdio.h>
#include <string.h>

#include "caxton.h"

static caxton_message *pending; /* the request being served, one at a time */
static int64_t asked = 0;

static caxton_message *query(const caxton_json *content) {
    const char *send = caxton_json_get_string(content, "send");
    if (send == NULL) {
        caxton_message *out = caxton_message_new("query-ref");
        caxton_message_set_protocol(out, "fipa-query");
        if (content != NULL) caxton_message_set_content(out, caxton_json_copy(content));
        return out;
    }
    caxton_message *out = caxton_message_new(send);
    const char *protocol = caxton_json_get_string(content, "protocol");
    if (protocol != NULL) caxton_message_set_protocol(out, protocol);
    const caxton_json *inner = caxton_json_get(content, "content");
    if (inner != NULL) caxton_message_set_content(out, caxton_json_copy(inner));
    return out;
}

static int ask(const caxton_message *msg) {
    caxton_message_free(pending);
    pending = caxton_message_copy(msg);
    caxton_message *out = query(caxton_message_content(msg));
    char reply_with[32];
    snprintf(reply_with, sizeof reply_with, "seek-%lld", (long long)++asked);
    int failed = pending == NULL || out == NULL ||
                 caxton_message_set_receiver(out, "directory") != CAXTON_OK ||
                 caxton_message_set_reply_with(out, reply_with) != CAXTON_OK;
    if (!failed) {
        if (caxton_send(out) < 0) caxton_warn("seeker: send rejected");
        else caxton_info("asked the directory");
    }
    caxton_message_free(out);
    return failed;
}

static int pass_on(const caxton_message *msg) {
    caxton_info("directory answered %s", caxton_message_performative(msg));
    if (pending == NULL) return 0;
    caxton_message *out = caxton_message_new("inform");
    caxton_json *content = caxton_json_new_object();
    static const char *const kept[] = {"performative", "content", "in_reply_to",
                                       "conversation_id", "protocol"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        const caxton_json *value = caxton_message_get(msg, kept[i]);
        if (value != NULL) caxton_json_set(content, kept[i], caxton_json_copy(value));
    }
    const char *thread = caxton_message_conversation_id(pending);
    const char *reply_with = caxton_message_reply_with(pending);
    caxton_message_set_receiver(out, caxton_message_sender(pending));
    if (thread != NULL) caxton_message_set_conversation_id(out, thread);
    if (reply_with != NULL) caxton_message_set_in_reply_to(out, reply_with);
    int failed = caxton_message_set_content(out, content) != CAXTON_OK;
    if (!failed && caxton_send(out) < 0) caxton_warn("seeker: passing the answer on was rejected");
    caxton_message_free(out);
    return failed;
}

static int on_message(const caxton_message *msg) {
    const char *sender = caxton_message_sender(msg);
    if (sender != NULL && strcmp(sender, "directory") == 0) return pass_on(msg);
    if (caxton_message_is(msg, "request")) return ask(msg);
    return 0;
}

CAXTON_AGENT(NULL, on_message)
