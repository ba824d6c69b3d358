/*
 * message.c - FIPA ACL messages (SC00061) as JSON objects: reading and
 * writing their parameters, sending them, and replying to them.
 */
#include "caxton_internal.h"

#include <stdlib.h>

/* ======================================================================== */
/* ACL messages                                                             */
/* ======================================================================== */

struct caxton_message {
    caxton_json *json; /* always an object */
};

static caxton_message *message_of(caxton_json *json) {
    if (json == NULL || json->type != CAXTON_JSON_OBJECT) {
        caxton_json_free(json);
        return NULL;
    }
    caxton_message *m = malloc(sizeof *m);
    if (m == NULL) {
        caxton_json_free(json);
        return NULL;
    }
    m->json = json;
    return m;
}

caxton_message *caxton_message_new(const char *performative) {
    caxton_message *m = message_of(caxton_json_new_object());
    if (m != NULL && performative != NULL &&
        caxton_json_set_string(m->json, "performative", performative) != CAXTON_OK) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

caxton_message *caxton_message_parse(const char *json, size_t len) {
    return message_of(caxton_json_parse(json, len));
}

caxton_message *caxton_message_copy(const caxton_message *message) {
    return message == NULL ? NULL : message_of(caxton_json_copy(message->json));
}

char *caxton_message_serialize(const caxton_message *message, size_t *len) {
    return message == NULL ? NULL : caxton_json_serialize(message->json, len);
}

void caxton_message_free(caxton_message *message) {
    if (message == NULL) return;
    caxton_json_free(message->json);
    free(message);
}

const caxton_json *caxton_message_json(const caxton_message *message) {
    return message == NULL ? NULL : message->json;
}

const caxton_json *caxton_message_get(const caxton_message *message, const char *key) {
    return message == NULL ? NULL : caxton_json_get(message->json, key);
}

const char *caxton_message_string(const caxton_message *message, const char *key) {
    return caxton_json_string(caxton_message_get(message, key));
}

const char *caxton_message_performative(const caxton_message *m) {
    return caxton_message_string(m, "performative");
}
const char *caxton_message_sender(const caxton_message *m) {
    return caxton_message_string(m, "sender");
}
const char *caxton_message_conversation_id(const caxton_message *m) {
    return caxton_message_string(m, "conversation_id");
}
const char *caxton_message_reply_with(const caxton_message *m) {
    return caxton_message_string(m, "reply_with");
}
const char *caxton_message_in_reply_to(const caxton_message *m) {
    return caxton_message_string(m, "in_reply_to");
}
const char *caxton_message_protocol(const caxton_message *m) {
    return caxton_message_string(m, "protocol");
}
const char *caxton_message_ontology(const caxton_message *m) {
    return caxton_message_string(m, "ontology");
}
const char *caxton_message_language(const caxton_message *m) {
    return caxton_message_string(m, "language");
}
const char *caxton_message_encoding(const caxton_message *m) {
    return caxton_message_string(m, "encoding");
}
const char *caxton_message_reply_by(const caxton_message *m) {
    return caxton_message_string(m, "reply_by");
}
const char *caxton_message_id(const caxton_message *m) {
    return caxton_message_string(m, "message_id");
}

int caxton_message_is(const caxton_message *message, const char *performative) {
    return caxton_json_string_is(caxton_message_get(message, "performative"), performative);
}

size_t caxton_message_receiver_count(const caxton_message *message) {
    const caxton_json *receiver = caxton_message_get(message, "receiver");
    if (receiver == NULL) return 0;
    if (receiver->type == CAXTON_JSON_STRING) return 1;
    return receiver->type == CAXTON_JSON_ARRAY ? receiver->count : 0;
}

const char *caxton_message_receiver(const caxton_message *message, size_t index) {
    const caxton_json *receiver = caxton_message_get(message, "receiver");
    if (receiver != NULL && receiver->type == CAXTON_JSON_STRING)
        return index == 0 ? receiver->text : NULL;
    if (receiver == NULL || receiver->type != CAXTON_JSON_ARRAY) return NULL;
    return caxton_json_string(caxton_json_at(receiver, index));
}

const caxton_json *caxton_message_content(const caxton_message *message) {
    return caxton_message_get(message, "content");
}

char *caxton_message_content_text(const caxton_message *message, size_t *len) {
    return caxton_json_serialize(caxton_message_content(message), len);
}

int caxton_message_set(caxton_message *message, const char *key, caxton_json *value) {
    if (message == NULL) {
        caxton_json_free(value);
        return CAXTON_E_INVALID;
    }
    return caxton_json_set(message->json, key, value);
}

int caxton_message_set_string(caxton_message *message, const char *key, const char *value) {
    if (value == NULL) return CAXTON_E_INVALID;
    return caxton_message_set(message, key, caxton_json_new_string(value));
}

int caxton_message_remove(caxton_message *message, const char *key) {
    return message == NULL ? 0 : caxton_json_remove(message->json, key);
}

int caxton_message_set_performative(caxton_message *m, const char *performative) {
    return caxton_message_set_string(m, "performative", performative);
}

int caxton_message_set_receiver(caxton_message *m, const char *name) {
    return caxton_message_set_string(m, "receiver", name);
}

int caxton_message_add_receiver(caxton_message *m, const char *name) {
    if (m == NULL || name == NULL) return CAXTON_E_INVALID;
    caxton_json *current = caxton__json_member(m->json, "receiver");
    if (current == NULL) return caxton_message_set_receiver(m, name);
    if (current->type == CAXTON_JSON_ARRAY)
        return caxton_json_append(current, caxton_json_new_string(name));
    caxton_json *list = caxton_json_new_array();
    caxton_json_append(list, caxton_json_copy(current));
    if (list == NULL || list->count != 1) {
        caxton_json_free(list);
        return CAXTON_E_NO_MEMORY;
    }
    int status = caxton_json_append(list, caxton_json_new_string(name));
    if (status != CAXTON_OK) {
        caxton_json_free(list);
        return status;
    }
    return caxton_message_set(m, "receiver", list);
}

int caxton_message_set_receivers(caxton_message *m, const caxton_json *names) {
    if (names == NULL || (names->type != CAXTON_JSON_ARRAY && names->type != CAXTON_JSON_STRING))
        return CAXTON_E_INVALID;
    return caxton_message_set(m, "receiver", caxton_json_copy(names));
}

int caxton_message_set_content(caxton_message *m, caxton_json *content) {
    return caxton_message_set(m, "content", content);
}

int caxton_message_set_content_text(caxton_message *m, const char *json) {
    caxton_json *content = caxton_json_parse_str(json);
    if (content == NULL) return CAXTON_E_MALFORMED;
    return caxton_message_set(m, "content", content);
}

int caxton_message_set_conversation_id(caxton_message *m, const char *id) {
    return caxton_message_set_string(m, "conversation_id", id);
}
int caxton_message_set_reply_with(caxton_message *m, const char *reply_with) {
    return caxton_message_set_string(m, "reply_with", reply_with);
}
int caxton_message_set_in_reply_to(caxton_message *m, const char *in_reply_to) {
    return caxton_message_set_string(m, "in_reply_to", in_reply_to);
}
int caxton_message_set_protocol(caxton_message *m, const char *protocol) {
    return caxton_message_set_string(m, "protocol", protocol);
}
int caxton_message_set_ontology(caxton_message *m, const char *ontology) {
    return caxton_message_set_string(m, "ontology", ontology);
}
int caxton_message_set_language(caxton_message *m, const char *language) {
    return caxton_message_set_string(m, "language", language);
}
int caxton_message_set_reply_by(caxton_message *m, const char *rfc3339) {
    return caxton_message_set_string(m, "reply_by", rfc3339);
}

int caxton_message_set_reply_by_ms(caxton_message *m, int64_t epoch_ms) {
    char stamp[CAXTON_TIMESTAMP_SIZE];
    caxton_timestamp(epoch_ms, stamp);
    return caxton_message_set_string(m, "reply_by", stamp);
}

/* ======================================================================== */
/* Sending and replying                                                      */
/* ======================================================================== */

int caxton_send(const caxton_message *message) {
    if (message == NULL) return CAXTON_E_INVALID;
    size_t len;
    char *text = caxton_message_serialize(message, &len);
    if (text == NULL) return CAXTON_E_NO_MEMORY;
    int status = len > ABI_MAX ? CAXTON_E_TOO_LARGE : caxton_host_send(text, (int32_t)len);
    free(text);
    return status;
}

caxton_message *caxton_reply_new(const caxton_message *original, const char *performative) {
    const char *sender = caxton_message_sender(original);
    if (sender == NULL || performative == NULL) return NULL;
    caxton_message *reply = caxton_message_new(performative);
    if (reply == NULL) return NULL;
    static const char *const copied[] = {"conversation_id", "protocol"};
    int status = caxton_message_set_receiver(reply, sender);
    const char *reply_with = caxton_message_reply_with(original);
    if (status == CAXTON_OK && reply_with != NULL)
        status = caxton_message_set_in_reply_to(reply, reply_with);
    for (size_t i = 0; status == CAXTON_OK && i < sizeof copied / sizeof copied[0]; i++) {
        const char *value = caxton_message_string(original, copied[i]);
        if (value != NULL) status = caxton_message_set_string(reply, copied[i], value);
    }
    if (status != CAXTON_OK) {
        caxton_message_free(reply);
        return NULL;
    }
    return reply;
}

/* Sends `reply` with `content` (taken over) and frees both. */
int caxton__send_with_content(caxton_message *reply, caxton_json *content) {
    int status = content == NULL ? CAXTON_OK : caxton_message_set_content(reply, content);
    if (status == CAXTON_OK) status = caxton_send(reply);
    caxton_message_free(reply);
    return status;
}

int caxton_reply(const caxton_message *original, const char *performative, caxton_json *content) {
    caxton_message *reply = caxton_reply_new(original, performative);
    if (reply == NULL) {
        caxton_json_free(content);
        return caxton_message_sender(original) == NULL || performative == NULL
                   ? CAXTON_E_INVALID
                   : CAXTON_E_NO_MEMORY;
    }
    return caxton__send_with_content(reply, content);
}

int caxton_reply_text(const caxton_message *original, const char *performative,
                      const char *content_json) {
    caxton_json *content = NULL;
    if (content_json != NULL && (content = caxton_json_parse_str(content_json)) == NULL)
        return CAXTON_E_MALFORMED;
    return caxton_reply(original, performative, content);
}

caxton_json *caxton_reason(const char *text) {
    caxton_json *reason = caxton_json_new_object();
    if (caxton_json_set_string(reason, "reason", text) != CAXTON_OK) {
        caxton_json_free(reason);
        return NULL;
    }
    return reason;
}
