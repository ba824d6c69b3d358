/*
 * burst - a test agent that sends numbered messages as fast as it can.
 *
 * On any message whose content is {"to": <name or array>, "count": N}, it
 * sends N messages {"performative":"inform","receiver":<to>,"content":{"seq":i}}
 * for i = 1..N, then stores in its key-value state "ok", "full" and "other":
 * how many sends answered 0, -3 (mailbox full) and anything else, as decimals.
 */
#include "caxton.h"

static int on_message(const caxton_message *msg) {
    const caxton_json *content = caxton_message_content(msg);
    const caxton_json *to = caxton_json_get(content, "to");
    int64_t count = 0;
    if (to == NULL || !caxton_json_int(caxton_json_get(content, "count"), &count))
        return 1;
    int64_t ok = 0, full = 0, other = 0;
    for (int64_t i = 1; i <= count; i++) {
        caxton_message *out = caxton_message_new("inform");
        caxton_json *seq = caxton_json_new_object();
        caxton_json_set_int(seq, "seq", i);
        caxton_message_set(out, "receiver", caxton_json_copy(to));
        caxton_message_set_content(out, seq);
        int status = caxton_send(out);
        caxton_message_free(out);
        if (status == CAXTON_OK) ok++;
        else if (status == CAXTON_E_MAILBOX_FULL) full++;
        else other++;
    }
    caxton_kv_set_int("ok", ok);
    caxton_kv_set_int("full", full);
    caxton_kv_set_int("other", other);
    return 0;
}

CAXTON_AGENT(NULL, on_message)
