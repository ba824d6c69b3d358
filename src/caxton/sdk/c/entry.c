/*
 * entry.c - the agent's entry points (what CAXTON_AGENT's exports call) and
 * its name and id from the init payload.
 */
#include "caxton_internal.h"

#include <stdlib.h>

static char *self_name;
static char *self_id;

const char *caxton_name(void) { return self_name != NULL ? self_name : ""; }

const char *caxton_id(void) { return self_id != NULL ? self_id : ""; }

void *caxton_sdk_alloc(int32_t len) {
    if (len < 0) return NULL;
    return malloc(len > 0 ? (size_t)len : 1);
}

int32_t caxton_sdk_init(char *ptr, int32_t len, caxton_init_fn init) {
    /* The host wrote the payload into memory from caxton_alloc: the agent owns it. */
    caxton_json *payload = caxton_json_parse(ptr, len > 0 ? (size_t)len : 0);
    free(ptr);
    if (payload == NULL || payload->type != CAXTON_JSON_OBJECT) {
        caxton_json_free(payload);
        caxton_error("caxton_init: the payload is not a JSON object (or memory gave out)");
        return 1;
    }
    const char *name = caxton_json_get_string(payload, "name");
    const char *id = caxton_json_get_string(payload, "id");
    free(self_name);
    free(self_id);
    self_name = caxton__copy_string(name != NULL ? name : "");
    self_id = caxton__copy_string(id != NULL ? id : "");
    const caxton_json *config = caxton_json_get(payload, "config");
    caxton_json *empty = NULL;
    if (config == NULL || config->type != CAXTON_JSON_OBJECT) config = empty = caxton_json_new_object();
    int32_t rc = 1;
    if (self_name == NULL || self_id == NULL || config == NULL)
        caxton_error("caxton_init: out of memory");
    else
        rc = init != NULL ? init(config) : 0;
    caxton_json_free(empty);
    caxton_json_free(payload);
    return rc;
}

int32_t caxton_sdk_handle(char *ptr, int32_t len, caxton_handle_fn handle) {
    caxton_message *message = caxton_message_parse(ptr, len > 0 ? (size_t)len : 0);
    free(ptr);
    if (message == NULL) {
        caxton_error("caxton_handle: the message is not a JSON object (or memory gave out)");
        return 1;
    }
    int32_t rc = handle != NULL ? handle(message) : 0;
    caxton_message_free(message);
    return rc;
}
