/*
 * ping - plays `rounds` rounds of ping-pong with `peer`.
 *
 * Its init reads the config {"peer":"pong","rounds":3} (both optional, these
 * are the defaults); a peer that is not a string or rounds that are not an
 * integer >= 1 fail the start. It logs (info) "ping ready".
 *
 * - `request` (the kick, any content): sends
 *   {"performative":"request","receiver":<peer>,"content":{"ping":1}}
 *   and logs (info) "ping 1".
 * - `inform` with content {"pong":N} (N an integer): if N < rounds it sends
 *   {"performative":"request","receiver":<peer>,"content":{"ping":N+1}
 *    [,"conversation_id":<the inform's conversation_id>]}
 *   and logs (info) "ping N+1"; otherwise it logs (info) "done after N rounds"
 *   and stores N's decimal digits under key "rounds_done".
 * - an `inform` with other content logs a warning; other performatives are ignored.
 * Returns 0 (1 only when out of memory).
 */
#include <stdlib.h>
#include <string.h>

#include "caxton.h"

static char *peer;
static int64_t rounds = 3;

static int on_init(const caxton_json *config) {
    const char *name = "pong";
    const caxton_json *value = caxton_json_get(config, "peer");
    if (value != NULL && (name = caxton_json_string(value)) == NULL) {
        caxton_error("ping: config.peer must be a string");
        return 1;
    }
    value = caxton_json_get(config, "rounds");
    if (value != NULL && (!caxton_json_int(value, &rounds) || rounds < 1)) {
        caxton_error("ping: config.rounds must be an integer >= 1");
        return 1;
    }
    free(peer);
    if ((peer = strdup(name)) == NULL) return 1;
    caxton_info("ping ready");
    return 0;
}

/* Sends {"ping": n} to the peer, in the conversation of `thread` when there is one. */
static int send_ping(int64_t n, const caxton_message *thread) {
    const char *conversation = thread != NULL ? caxton_message_conversation_id(thread) : NULL;
    caxton_message *request = caxton_message_new("request");
    caxton_json *content = caxton_json_new_object();
    int status = caxton_json_set_int(content, "ping", n);
    if (status == CAXTON_OK) status = caxton_message_set_receiver(request, peer);
    if (status == CAXTON_OK && conversation != NULL)
        status = caxton_message_set_conversation_id(request, conversation);
    if (status == CAXTON_OK) {
        status = caxton_message_set_content(request, content);
        content = NULL;
    }
    if (status == CAXTON_OK) status = caxton_send(request);
    caxton_json_free(content);
    caxton_message_free(request);
    /* Composing fails only for want of memory; the host's refusal is its own status. */
    if (status == CAXTON_E_NO_MEMORY || status == CAXTON_E_INVALID) return 1;
    if (status < 0) caxton_warn("ping: send rejected: %s", caxton_status_text(status));
    caxton_info("ping %lld", (long long)n);
    return 0;
}

static int on_message(const caxton_message *msg) {
    if (caxton_message_is(msg, "request")) return send_ping(1, NULL);
    if (!caxton_message_is(msg, "inform")) return 0;
    int64_t n;
    if (!caxton_json_get_int(caxton_message_content(msg), "pong", &n)) {
        caxton_warn("ping: ignoring inform without {\"pong\":N}");
        return 0;
    }
    if (n < rounds) return send_ping(n + 1, msg);
    caxton_info("done after %lld rounds", (long long)n);
    if (caxton_kv_set_int("rounds_done", n) < 0) caxton_warn("ping: kv_set rounds_done failed");
    return 0;
}

CAXTON_AGENT(on_init, on_message)
