/*
 * pong - answers {"ping":N} requests with {"pong":N}, through the SDK's
 * fipa-request helper.
 *
 * Its init logs (info) "pong ready". On a `request` whose content is
 * {"ping":N} (N an integer) it replies
 *   {"performative":"inform","receiver":<sender>,"content":{"pong":N}
 *    [,"conversation_id":...][,"in_reply_to":<reply_with>][,"protocol":...]}
 * with N's digits copied verbatim, and logs (info) "pong N". A `request` with
 * any other content is answered `not-understood` (content: the received
 * content, null if absent; the same threading fields) with a warning. A
 * request without a sender logs a warning. Every other performative is
 * ignored. Returns 0 (1 only when out of memory).
 */
#include "caxton.h"

static int on_init(const caxton_json *config) {
    (void)config;
    caxton_info("pong ready");
    return 0;
}

static caxton_verdict answer(const caxton_message *request, caxton_json **content, void *user) {
    (void)user;
    const caxton_json *received = caxton_message_content(request);
    const caxton_json *number = caxton_json_get(received, "ping");
    if (!caxton_json_int(number, NULL)) {
        caxton_warn("pong: expected content {\"ping\":N}");
        *content = received != NULL ? caxton_json_copy(received) : caxton_json_new_null();
        return *content != NULL ? CAXTON_NOT_UNDERSTOOD : CAXTON_ERROR;
    }
    *content = caxton_json_new_object();
    if (caxton_json_set(*content, "pong", caxton_json_copy(number)) != CAXTON_OK)
        return CAXTON_ERROR;
    caxton_info("pong %s", caxton_json_number_text(number));
    return CAXTON_INFORM;
}

static int on_message(const caxton_message *msg) {
    if (!caxton_message_is(msg, "request")) return 0;
    if (caxton_message_sender(msg) == NULL) {
        caxton_warn("pong: message has no sender");
        return 0;
    }
    return caxton_request_serve(msg, answer, NULL) < 0;
}

CAXTON_AGENT(on_init, on_message)
