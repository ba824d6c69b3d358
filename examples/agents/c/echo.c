/*
 * echo - answers every message with an `inform` carrying the same content.
 *
 * Its init logs (info) "echo ready". For each message it replies (caxton_reply)
 *   {"performative":"inform","receiver":<sender>,"content":<content; null if absent>
 *    [,"conversation_id":...][,"in_reply_to":<reply_with>][,"protocol":...]}
 * with the optional fields only when the message has them. No sender: a
 * warning is logged and nothing is sent. Returns 0 (1 only when out of memory).
 */
#include "caxton.h"

static int on_init(const caxton_json *config) {
    (void)config;
    caxton_info("echo ready");
    return 0;
}

static int on_message(const caxton_message *msg) {
    if (caxton_message_sender(msg) == NULL) {
        caxton_warn("echo: message has no sender");
        return 0;
    }
    const caxton_json *content = caxton_message_content(msg);
    caxton_json *echoed = content != NULL ? caxton_json_copy(content) : caxton_json_new_null();
    if (echoed == NULL) return 1;
    int status = caxton_reply(msg, "inform", echoed);
    if (status == CAXTON_E_NO_MEMORY) return 1;
    if (status < 0) caxton_warn("echo: send rejected: %s", caxton_status_text(status));
    return 0;
}

CAXTON_AGENT(on_init, on_message)
