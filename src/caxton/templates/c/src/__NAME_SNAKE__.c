/*
 * __NAME__ - a Caxton agent in C (ABI v1), on the SDK in caxton-sdk/ (caxton.h
 * is its reference).
 *
 * It greets: a `request` with content {"name": "Ada"} is answered `inform`
 * {"greeting": "Hello, Ada!"}, one without a name `not-understood`
 * {"reason": "content needs a name"}. Its init registers the capability
 * "greet"; it counts its greetings in its key-value state, under "greetings".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caxton.h"

static int on_init(const caxton_json *config) {
    (void)config; /* the deployment's config object: {} when none was given */
    int status = caxton_register_capability(
        "greet", "0.1.0", "Greets whoever the request names",
        "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},"
        "\"required\":[\"name\"]}");
    if (status != CAXTON_OK) caxton_warn("greet not registered: %s", caxton_status_text(status));
    caxton_info("__NAME__ ready");
    return 0;
}

/* The work of one request: what to answer, with *content. */
static caxton_verdict greet(const caxton_message *request, caxton_json **content, void *user) {
    (void)user;
    const char *name = caxton_json_get_string(caxton_message_content(request), "name");
    if (name == NULL) {
        *content = caxton_reason("content needs a name");
        return CAXTON_NOT_UNDERSTOOD;
    }
    size_t size = strlen(name) + sizeof "Hello, !";
    char *greeting = malloc(size);
    if (greeting == NULL) return CAXTON_ERROR;
    snprintf(greeting, size, "Hello, %s!", name);
    *content = caxton_json_new_object();
    int status = caxton_json_set_string(*content, "greeting", greeting);
    free(greeting);
    if (status != CAXTON_OK) return CAXTON_ERROR; /* the host answers `failure` for us */

    int64_t greetings = 0;
    caxton_kv_get_int("greetings", &greetings); /* absent: none yet */
    caxton_kv_set_int("greetings", greetings + 1);
    caxton_info("greeting %s", name);
    return CAXTON_INFORM;
}

static int on_message(const caxton_message *msg) {
    int served = caxton_request_serve(msg, greet, NULL);
    if (served == 0) caxton_debug("ignoring %s", caxton_message_performative(msg));
    return served < 0; /* non-zero: a handler error */
}

CAXTON_AGENT(on_init, on_message)
