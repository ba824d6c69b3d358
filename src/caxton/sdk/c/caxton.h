/*
 * caxton.h - the Caxton C SDK: write agents (ABI version 1) without touching raw pointers.
 *
 * An agent is a handler and one line of registration:
 *
 *     #include "caxton.h"
 *
 *     static int on_message(const caxton_message *msg) {
 *         if (caxton_message_is(msg, "request"))
 *             caxton_reply(msg, "inform", caxton_json_copy(caxton_message_content(msg)));
 *         return 0;
 *     }
 *
 *     CAXTON_AGENT(NULL, on_message)
 *
 * Build it with the SDK's .c files as a WASI reactor (caxton.mk does this for a Makefile):
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -I<sdk> -o agent.wasm agent.c
 *         <sdk>/{buffer,entry,host,json,message,protocols}.c
 *
 * Nothing beyond wasi-libc is needed. This header is the reference; README.md
 * beside it is the tour.
 *
 * Conventions, everywhere in this API:
 *   - Status codes: 0 (CAXTON_OK) is success; negative values are the host's
 *     codes (CAXTON_E_MALFORMED ... CAXTON_E_NOT_PERMITTED) or the SDK's own
 *     (CAXTON_E_NO_MEMORY, CAXTON_E_INVALID). caxton_status_text names them.
 *   - Ownership: a function taking `caxton_json *` (not const) takes the value
 *     over, even when it fails; one taking `const caxton_json *` only reads it.
 *     A returned `char *` or `caxton_json *` is the caller's to free (free,
 *     caxton_json_free); a returned `const` pointer lives as long as the value
 *     it was read from.
 *   - NULL in, failure out: every function accepts NULL where a value is
 *     expected and fails (or answers "absent"), so builders can be nested
 *     without checking each allocation: caxton_json_set(obj, "n", caxton_json_new_int(3)).
 *   - Strings are UTF-8 and NUL-terminated; a JSON string holding \u0000 has
 *     a length (caxton_json_string_length) beyond its first NUL.
 */
#ifndef CAXTON_H
#define CAXTON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAXTON_ABI_VERSION 1

/* ======================================================================== */
/* Status codes                                                              */
/* ======================================================================== */

enum {
    CAXTON_OK = 0,
    /* The host's answers (ABI v1): to send, kv_set, tool_call, register_capability. */
    CAXTON_E_MALFORMED = -1,     /* malformed JSON or an invalid message */
    CAXTON_E_TOO_LARGE = -2,     /* over the agent's size limit */
    CAXTON_E_MAILBOX_FULL = -3,  /* the receiver's mailbox is full: back-pressure */
    CAXTON_E_NOT_PERMITTED = -4, /* not granted (a tool, a quota) */
    /* The SDK's own. */
    CAXTON_E_NO_MEMORY = -16, /* malloc gave out */
    CAXTON_E_INVALID = -17,   /* an argument the call cannot use (NULL, a reply with no sender) */
};

/* "ok", "malformed", "too large", "mailbox full", "not permitted", "no memory", "invalid", "error". */
const char *caxton_status_text(int status);

/* ======================================================================== */
/* JSON values                                                               */
/* ======================================================================== */

/*
 * A parsed or built JSON value. Objects keep their members in order;
 * numbers keep their literal text, so an integer of any size, or 2.50,
 * goes back out exactly as it came in.
 */
typedef struct caxton_json caxton_json;

typedef enum caxton_json_type {
    CAXTON_JSON_NULL,
    CAXTON_JSON_BOOL,
    CAXTON_JSON_NUMBER,
    CAXTON_JSON_STRING,
    CAXTON_JSON_ARRAY,
    CAXTON_JSON_OBJECT,
} caxton_json_type;

/* Nesting deeper than this is refused by caxton_json_parse. */
#define CAXTON_JSON_MAX_DEPTH 256

/*
 * Parses RFC 8259 JSON: one value, surrounded by nothing but whitespace.
 * Escapes are decoded (\uXXXX surrogate pairs included); invalid UTF-8, lone
 * surrogates, control characters in strings and depth beyond
 * CAXTON_JSON_MAX_DEPTH are refused. NULL when malformed or out of memory.
 */
caxton_json *caxton_json_parse(const char *text, size_t len);
caxton_json *caxton_json_parse_str(const char *text); /* text up to its NUL */

/*
 * Compact JSON text (no spaces), NUL-terminated; *len (if given) its length.
 * Strings escape '"', '\' and control characters only, and bytes that are not
 * UTF-8 become U+FFFD, so the host always accepts the result. NULL on no memory.
 */
char *caxton_json_serialize(const caxton_json *value, size_t *len);

void caxton_json_free(caxton_json *value);
caxton_json *caxton_json_copy(const caxton_json *value); /* a deep copy; NULL for NULL */
int caxton_json_equal(const caxton_json *a, const caxton_json *b); /* 1 when the same JSON */

/* Reading. */
caxton_json_type caxton_json_typeof(const caxton_json *value); /* NULL reads as CAXTON_JSON_NULL */
int caxton_json_is_null(const caxton_json *value);              /* 1 for null (and for NULL) */
/* A member of an object (the last, if a name repeats), NULL when absent or not an object. */
const caxton_json *caxton_json_get(const caxton_json *object, const char *key);
const caxton_json *caxton_json_at(const caxton_json *array, size_t index); /* also objects */
size_t caxton_json_size(const caxton_json *value); /* elements or members; 0 for the rest */
/* Iteration over elements or members: for (v = first(a); v; v = next(v)). */
const caxton_json *caxton_json_first(const caxton_json *container);
const caxton_json *caxton_json_next(const caxton_json *item);
/* A member's name, inside an object (else NULL); C reads a name holding \u0000 up to it. */
const char *caxton_json_key(const caxton_json *member);
const char *caxton_json_string(const caxton_json *value); /* NULL unless a string */
size_t caxton_json_string_length(const caxton_json *value);
int caxton_json_string_is(const caxton_json *value, const char *text); /* a string equal to text */
/* 1 and *out when the value is an integer literal (no fraction, no exponent) in int64 range. */
int caxton_json_int(const caxton_json *value, int64_t *out);
int caxton_json_double(const caxton_json *value, double *out); /* any number */
const char *caxton_json_number_text(const caxton_json *value); /* the literal; NULL if no number */
int caxton_json_bool(const caxton_json *value, int *out); /* 1 and *out (0 or 1) for a boolean */

/* Shortcuts for members: the string (NULL), and 1 with *out when an integer or boolean. */
const char *caxton_json_get_string(const caxton_json *object, const char *key);
int caxton_json_get_int(const caxton_json *object, const char *key, int64_t *out);
int caxton_json_get_bool(const caxton_json *object, const char *key, int *out);

/* Building: each returns a new value, NULL on no memory (or a double that is not finite). */
caxton_json *caxton_json_new_null(void);
caxton_json *caxton_json_new_bool(int value);
caxton_json *caxton_json_new_int(int64_t value);
caxton_json *caxton_json_new_double(double value); /* the shortest text that reads back the same */
caxton_json *caxton_json_new_string(const char *text);
caxton_json *caxton_json_new_stringn(const char *text, size_t len);
caxton_json *caxton_json_new_array(void);
caxton_json *caxton_json_new_object(void);

/*
 * Sets member `key` of `object` to `value` (taken over): in place when the
 * name exists (its first occurrence; later repeats are removed), else at the end.
 * 0, or CAXTON_E_INVALID / CAXTON_E_NO_MEMORY (value NULL, object not an object).
 */
int caxton_json_set(caxton_json *object, const char *key, caxton_json *value);
int caxton_json_set_string(caxton_json *object, const char *key, const char *text);
int caxton_json_set_int(caxton_json *object, const char *key, int64_t value);
int caxton_json_set_bool(caxton_json *object, const char *key, int value);
int caxton_json_remove(caxton_json *object, const char *key); /* 1 when removed, 0 when absent */
int caxton_json_append(caxton_json *array, caxton_json *value); /* value taken over; 0 or < 0 */

/* ======================================================================== */
/* ACL messages                                                              */
/* ======================================================================== */

/*
 * A FIPA-ACL message (ABI.md "Data"): a JSON object of snake_case parameters.
 * Every parameter, x-* ones included, is kept through parse and serialize.
 */
typedef struct caxton_message caxton_message;

caxton_message *caxton_message_new(const char *performative); /* NULL on no memory */
/* NULL unless `json` is a JSON object (the host always sends one). */
caxton_message *caxton_message_parse(const char *json, size_t len);
caxton_message *caxton_message_copy(const caxton_message *message);
char *caxton_message_serialize(const caxton_message *message, size_t *len);
void caxton_message_free(caxton_message *message);
const caxton_json *caxton_message_json(const caxton_message *message); /* the whole object */

/* String parameters: NULL when absent or not a string. */
const char *caxton_message_performative(const caxton_message *message);
const char *caxton_message_sender(const caxton_message *message);
const char *caxton_message_conversation_id(const caxton_message *message);
const char *caxton_message_reply_with(const caxton_message *message);
const char *caxton_message_in_reply_to(const caxton_message *message);
const char *caxton_message_protocol(const caxton_message *message);
const char *caxton_message_ontology(const caxton_message *message);
const char *caxton_message_language(const caxton_message *message);
const char *caxton_message_encoding(const caxton_message *message);
const char *caxton_message_reply_by(const caxton_message *message); /* RFC 3339 */
const char *caxton_message_id(const caxton_message *message);       /* message_id */
const char *caxton_message_string(const caxton_message *message, const char *key);
/* Any parameter as JSON (x-* ones, trace, ...): NULL when absent. */
const caxton_json *caxton_message_get(const caxton_message *message, const char *key);
/* 1 when the performative is `performative`. */
int caxton_message_is(const caxton_message *message, const char *performative);

/* Receivers, whether `receiver` is one string or an array of them. */
size_t caxton_message_receiver_count(const caxton_message *message);
const char *caxton_message_receiver(const caxton_message *message, size_t index);

/* The content: parsed (NULL when absent), or as JSON text (malloc'd; NULL when absent). */
const caxton_json *caxton_message_content(const caxton_message *message);
char *caxton_message_content_text(const caxton_message *message, size_t *len);

/* Setters: 0 or a negative status. */
int caxton_message_set(caxton_message *message, const char *key, caxton_json *value);
int caxton_message_set_string(caxton_message *message, const char *key, const char *value);
int caxton_message_remove(caxton_message *message, const char *key); /* 1 removed, 0 absent */
int caxton_message_set_performative(caxton_message *message, const char *performative);
int caxton_message_set_receiver(caxton_message *message, const char *name); /* replaces */
int caxton_message_add_receiver(caxton_message *message, const char *name); /* makes an array */
int caxton_message_set_receivers(caxton_message *message, const caxton_json *names); /* copied */
int caxton_message_set_content(caxton_message *message, caxton_json *content);
int caxton_message_set_content_text(caxton_message *message, const char *json); /* parsed */
int caxton_message_set_conversation_id(caxton_message *message, const char *id);
int caxton_message_set_reply_with(caxton_message *message, const char *reply_with);
int caxton_message_set_in_reply_to(caxton_message *message, const char *in_reply_to);
int caxton_message_set_protocol(caxton_message *message, const char *protocol);
int caxton_message_set_ontology(caxton_message *message, const char *ontology);
int caxton_message_set_language(caxton_message *message, const char *language);
int caxton_message_set_reply_by(caxton_message *message, const char *rfc3339);
/* reply_by at `epoch_ms` (e.g. caxton_now_ms() + 500), as RFC 3339 UTC with milliseconds. */
int caxton_message_set_reply_by_ms(caxton_message *message, int64_t epoch_ms);

/* ======================================================================== */
/* Sending and replying                                                      */
/* ======================================================================== */

/*
 * Sends `message` (the host sets `sender`, and `conversation_id` when absent).
 * 0 when accepted for routing, else a negative status; a receiver that does not
 * exist is not an error here but a `failure` message back from "caxton".
 */
int caxton_send(const caxton_message *message);

/*
 * A new message answering `original`: receiver = its sender; in_reply_to = its
 * reply_with; its conversation_id and protocol, when it has them. NULL when
 * `original` has no sender, or on no memory. Add to it, send it, free it.
 */
caxton_message *caxton_reply_new(const caxton_message *original, const char *performative);
/* caxton_reply_new with `content` (taken over; NULL for no content) sent at once. */
int caxton_reply(const caxton_message *original, const char *performative, caxton_json *content);
/* The same with the content as JSON text (CAXTON_E_MALFORMED when it is not JSON). */
int caxton_reply_text(const caxton_message *original, const char *performative,
                      const char *content_json);
/* {"reason": text}: the content of refuse, failure and not-understood in the helpers below. */
caxton_json *caxton_reason(const char *text);

/* ======================================================================== */
/* Logging, time                                                             */
/* ======================================================================== */

enum {
    CAXTON_LOG_TRACE = 0,
    CAXTON_LOG_DEBUG = 1,
    CAXTON_LOG_INFO = 2,
    CAXTON_LOG_WARN = 3,
    CAXTON_LOG_ERROR = 4,
};

void caxton_log(int level, const char *text);
void caxton_logf(int level, const char *format, ...) __attribute__((format(printf, 2, 3)));
void caxton_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));
void caxton_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void caxton_warn(const char *format, ...) __attribute__((format(printf, 1, 2)));
void caxton_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

int64_t caxton_now_ms(void); /* wall-clock milliseconds since the Unix epoch */
/* "2026-11-25T10:15:00.123Z" (RFC 3339 UTC, milliseconds; years clamped to 0000..9999). */
#define CAXTON_TIMESTAMP_SIZE 25
void caxton_timestamp(int64_t epoch_ms, char out[CAXTON_TIMESTAMP_SIZE]);

/* ======================================================================== */
/* Key-value state (the agent's own, durable)                                */
/* ======================================================================== */

/*
 * The value of `key`: 1 with *value (malloc'd, NUL-terminated, the caller
 * frees it) and *len; 0 when absent; CAXTON_E_NO_MEMORY.
 */
int caxton_kv_get(const char *key, char **value, size_t *len);
int caxton_kv_set(const char *key, const void *value, size_t len); /* 0 or negative */
int caxton_kv_set_string(const char *key, const char *value);
int caxton_kv_delete(const char *key); /* 0 when deleted or absent */
/* A JSON value: the parsed value, NULL when absent (or not JSON); stored compact. */
caxton_json *caxton_kv_get_json(const char *key);
int caxton_kv_set_json(const char *key, const caxton_json *value);
/* An integer stored as decimal digits ("42"): 1 with *out, 0 when absent or not an integer. */
int caxton_kv_get_int(const char *key, int64_t *out);
int caxton_kv_set_int(const char *key, int64_t value);

/* ======================================================================== */
/* MCP tools                                                                 */
/* ======================================================================== */

/*
 * Calls tool "<server>/<tool>" with `arguments` (an object; NULL for {}).
 * 0 when accepted: the answer arrives later as a message whose in_reply_to is
 * `reply_with` (read it with caxton_tool_result_of). The agent never blocks.
 */
int caxton_tool_call(const char *tool, const caxton_json *arguments, const char *reply_with);
int caxton_tool_call_text(const char *tool, const char *arguments_json, const char *reply_with);

/* A tool's answer: an `inform` (ok) or a `failure` from "caxton". */
typedef struct caxton_tool_result {
    int ok;                        /* 1 for a result, 0 for a failure */
    const char *tool;              /* "server/tool", when the answer names it */
    const caxton_json *content;    /* ok: the MCP content blocks (an array), or NULL */
    const caxton_json *structured; /* ok: the structured result, or NULL */
    const char *error;             /* failure: its kind ("tool-error", "timeout", ...) */
    const char *reason;            /* failure: what went wrong */
} caxton_tool_result;

/*
 * 1 and *out when `message` is the platform's answer to the tool call made
 * with `reply_with` (any tool call when reply_with is NULL): an `inform` or
 * `failure` from "caxton" that names the tool in "x-caxton-tool". Else 0.
 * *out points into `message`.
 */
int caxton_tool_result_of(const caxton_message *message, const char *reply_with,
                          caxton_tool_result *out);
/* The text of the result's "text" content blocks, joined by newlines (malloc'd; "" if none). */
char *caxton_tool_text(const caxton_tool_result *result);

/* ======================================================================== */
/* Capabilities                                                              */
/* ======================================================================== */

/*
 * Declares a capability, usually in the init function. version, description
 * and input_schema_json (a JSON Schema object as text) may be NULL.
 */
int caxton_register_capability(const char *name, const char *version, const char *description,
                               const char *input_schema_json);

/* ======================================================================== */
/* Protocols: FIPA request (SC00026) and contract net (SC00029)              */
/* ======================================================================== */

/* What a protocol callback decides; also how an answer is classified. */
typedef enum caxton_verdict {
    CAXTON_ERROR = -1, /* the handler fails: the host answers `failure` in the agent's name */
    CAXTON_SILENT = 0, /* send nothing (or: not an answer) */
    CAXTON_INFORM,
    CAXTON_AGREE,
    CAXTON_REFUSE,
    CAXTON_FAILURE,
    CAXTON_NOT_UNDERSTOOD,
    CAXTON_PROPOSE,
} caxton_verdict;

/* The performative of a verdict ("inform", ...); NULL for ERROR and SILENT. */
const char *caxton_verdict_performative(caxton_verdict verdict);

/* ---- fipa-request, participant ---- */

/*
 * The work of a request. Set *content (taken over; may stay NULL) and return:
 * CAXTON_INFORM (the result), CAXTON_REFUSE / CAXTON_FAILURE /
 * CAXTON_NOT_UNDERSTOOD (content: usually caxton_reason(...)), CAXTON_AGREE
 * (the agent answers later itself, with caxton_reply on a caxton_message_copy
 * it kept), CAXTON_SILENT, or CAXTON_ERROR.
 */
typedef caxton_verdict (*caxton_request_work)(const caxton_message *request,
                                              caxton_json **content, void *user);

/*
 * When `message` is a `request`: calls `work` and answers as it decided
 * (caxton_reply: threading and protocol copied). Returns 1 when it was a
 * request, 0 when not (handle it yourself), -1 when `work` returned
 * CAXTON_ERROR or memory gave out (return non-zero from the handler then).
 * A send the host refuses is logged as a warning.
 */
int caxton_request_serve(const caxton_message *message, caxton_request_work work, void *user);

/* ---- fipa-request, initiator ---- */

/*
 * Sends a `request` to `receiver` with `content` (taken over), protocol
 * fipa-request and `reply_with`, starting a conversation. 0 or negative.
 */
int caxton_request_send(const char *receiver, caxton_json *content, const char *reply_with);
/*
 * Whether `message` answers the request sent with `reply_with`: CAXTON_SILENT
 * when it does not; else CAXTON_AGREE (the result is still to come),
 * CAXTON_INFORM, CAXTON_REFUSE, CAXTON_FAILURE or CAXTON_NOT_UNDERSTOOD.
 */
caxton_verdict caxton_request_outcome(const caxton_message *message, const char *reply_with);

/* ---- fipa-contract-net, participant ---- */

/*
 * on_cfp: return CAXTON_PROPOSE with *content the proposal (e.g. {"cost": 5}),
 *   CAXTON_REFUSE with a reason, CAXTON_SILENT, or CAXTON_ERROR.
 * on_accept: do the work for the `task` (the cfp's content, kept since the
 *   proposal) and return CAXTON_INFORM with *content the result, or
 *   CAXTON_FAILURE with a reason, or CAXTON_ERROR.
 * on_reject: may be NULL.
 */
typedef struct caxton_cnet_participant {
    caxton_verdict (*on_cfp)(const caxton_message *cfp, caxton_json **content, void *user);
    caxton_verdict (*on_accept)(const caxton_message *accept, const caxton_json *task,
                                caxton_json **content, void *user);
    void (*on_reject)(const caxton_message *reject, void *user);
    void *user;
} caxton_cnet_participant;

/*
 * Plays the participant for cfp, accept-proposal and reject-proposal; returns
 * 1 for those, 0 for any other message, -1 on CAXTON_ERROR or no memory.
 * Answers carry protocol fipa-contract-net, the conversation_id and
 * in_reply_to = the answered reply_with; a proposal carries
 * reply_with "<agent name>/<conversation_id>". Between proposal and award
 * the cfp's content is kept in kv under "task/<conversation_id>"; an award
 * without it is answered `failure` {"reason":"no task in this conversation"}.
 * The task is forgotten after the work or a rejection. A message without
 * sender or conversation_id (or an id over 512 bytes) is logged and ignored.
 */
int caxton_cnet_participate(const caxton_message *message, const caxton_cnet_participant *p);

/* ---- fipa-contract-net, initiator ---- */

/* How a conversation ended, for caxton_cnet_initiator.on_outcome. */
typedef struct caxton_cnet_outcome {
    const char *conversation_id;
    const char *winner; /* NULL when nobody proposed */
    int64_t cost;       /* the winner's */
    int64_t expected, proposals, refusals, failures; /* participants, and their answers */
    int done;           /* 1 when the winner informed: result is its inform */
    /* The winner's inform or failure (or the platform's failure to deliver the
     * award); NULL when nobody proposed. */
    const caxton_message *result;
} caxton_cnet_outcome;

typedef struct caxton_cnet_initiator {
    /* A proposal's cost, lower wins: 1 with *cost, or 0 when the proposal is
     * not understood. NULL reads an integer "cost" from its content. */
    int (*cost)(const caxton_message *proposal, int64_t *cost, void *user);
    /* The end of a conversation; non-zero fails the handler. May be NULL. */
    int (*on_outcome)(const caxton_cnet_outcome *outcome, void *user);
    void *user;
} caxton_cnet_initiator;

/*
 * Sends one `cfp` to `participants` (a non-empty array of agent names) with
 * `task` as content, conversation_id `conversation_id` (unique to this agent,
 * at most 512 bytes), reply_with "<conversation_id>-cfp" and
 * reply_by = now + deadline_ms, and records the conversation in kv. Logs
 * (info) "cfp <id> to <n> participants, reply_by <time>". 0, or a negative
 * status (CAXTON_E_INVALID for bad arguments) after which nothing is left waiting.
 */
int caxton_cnet_start(const char *conversation_id, const caxton_json *participants,
                      const caxton_json *task, int64_t deadline_ms);

/*
 * Plays the initiator for conversations started with caxton_cnet_start:
 * counts propose/refuse/failure from each participant once (a `failure` from
 * "caxton" answering the cfp counts for an unreachable participant; a
 * proposal without a cost is answered `not-understood` and counts as a
 * failure) and decides when everyone has answered or the platform's deadline
 * notice arrives (an `inform` from "caxton" with "x-caxton-event":"deadline").
 * The lowest cost wins (of equal costs, the first received): it gets
 * `accept-proposal` {"cost": N} (reply_with "<id>-accept"), the other
 * proposers one `reject-proposal` {"reason":"another proposal was chosen"};
 * a proposal after the decision is rejected with "the contract was already
 * awarded". on_outcome is called with the winner's inform or failure, or at
 * once when nobody proposed.
 *
 * Returns 1 when the message belonged to one of its conversations (warnings
 * are logged for strangers and second answers), 0 when it did not (handle or
 * ignore it yourself), -1 when on_outcome failed or kv or memory gave out.
 *
 * State lives in kv, so it survives a restart: "cnet/<id>" (phase, counts,
 * best proposal), plus "cnet/<id>/participants" and "cnet/<id>/p/<name>"
 * until the decision. It logs its steps at info ("awarded <id> to <winner> at
 * cost <cost>: <p> proposals, <r> refusals, <f> failures of <n>", "deadline of
 * <id>: <n> silent", "late proposal from <name> in <id>: rejected") and what
 * it ignores as warnings prefixed "cnet-initiator: ".
 */
int caxton_cnet_initiate(const caxton_message *message, const caxton_cnet_initiator *initiator);

/* 1 when `name` is an agent name: 1 to 63 of a-z 0-9 '-', starting with a letter. */
int caxton_is_agent_name(const char *name);

/* ======================================================================== */
/* The agent's entry points                                                  */
/* ======================================================================== */

/*
 * init: called once from caxton_init with the deployment's config object
 * ({} when none); non-zero fails the start. handle: called for each message;
 * non-zero is a handler error (the host answers the sender `failure`). The
 * message is freed after handle returns: caxton_message_copy what must last.
 */
typedef int (*caxton_init_fn)(const caxton_json *config);
typedef int (*caxton_handle_fn)(const caxton_message *message);

/* This agent's name and id, from caxton_init ("" before it ran). */
const char *caxton_name(void);
const char *caxton_id(void);

/* The exports CAXTON_AGENT defines, and the SDK's side of them, which they call. */
void *caxton_alloc(int32_t len);
int32_t caxton_init(char *ptr, int32_t len);
int32_t caxton_handle(char *ptr, int32_t len);
void *caxton_sdk_alloc(int32_t len);
int32_t caxton_sdk_init(char *ptr, int32_t len, caxton_init_fn init);
int32_t caxton_sdk_handle(char *ptr, int32_t len, caxton_handle_fn handle);

/*
 * Defines the exports the host calls (caxton_alloc, caxton_init,
 * caxton_handle; clang exports `memory` itself). Use it once, at file scope:
 *     CAXTON_AGENT(on_init, on_message)   or   CAXTON_AGENT(NULL, on_message)
 * caxton_handle_batch is not exported: the host then delivers one message a
 * call, so a failure is always answered for the message that caused it.
 */
#define CAXTON_AGENT(init_fn, handle_fn)                                                       \
    __attribute__((export_name("caxton_alloc"))) void *caxton_alloc(int32_t len) {             \
        return caxton_sdk_alloc(len);                                                          \
    }                                                                                          \
    __attribute__((export_name("caxton_init"))) int32_t caxton_init(char *ptr, int32_t len) {   \
        return caxton_sdk_init(ptr, len, (init_fn));                                           \
    }                                                                                          \
    __attribute__((export_name("caxton_handle"))) int32_t caxton_handle(char *ptr,             \
                                                                        int32_t len) {         \
        return caxton_sdk_handle(ptr, len, (handle_fn));                                       \
    }

#ifdef __cplusplus
}
#endif

#endif /* CAXTON_H */
