/*
 * protocols.c - the FIPA interaction protocols: request (SC00026) and
 * contract net (SC00029), participant and initiator sides.
 */
#include "caxton_internal.h"

#include <stdlib.h>
#include <string.h>

#define PLATFORM "caxton"
#define CNET "fipa-contract-net"
/* kv keys embed the conversation id and a name; the host caps keys at 1024 bytes. */
#define MAX_CONVERSATION_ID 512
#define MAX_NAME 63

const char *caxton_verdict_performative(caxton_verdict verdict) {
    switch (verdict) {
    case CAXTON_INFORM: return "inform";
    case CAXTON_AGREE: return "agree";
    case CAXTON_REFUSE: return "refuse";
    case CAXTON_FAILURE: return "failure";
    case CAXTON_NOT_UNDERSTOOD: return "not-understood";
    case CAXTON_PROPOSE: return "propose";
    default: return NULL;
    }
}

int caxton_is_agent_name(const char *name) {
    if (name == NULL || !(name[0] >= 'a' && name[0] <= 'z')) return 0;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return n <= MAX_NAME;
}

/* Whether `value` is "<conversation><suffix>". */
static int is_suffixed(const char *value, const char *conversation, const char *suffix) {
    size_t n = strlen(conversation);
    return value != NULL && strncmp(value, conversation, n) == 0 && strcmp(value + n, suffix) == 0;
}

/*
 * Sends `message` with `content` (both taken over; message NULL means memory
 * gave out). 0, or -1 when memory gave out; a refusal by the host is only
 * logged, as the conversation goes on without that message.
 */
static int send_logged(caxton_message *message, const char *performative, caxton_json *content,
                       const char *who) {
    if (message == NULL) {
        caxton_json_free(content);
        return -1;
    }
    int status = caxton__send_with_content(message, content);
    if (status == CAXTON_E_NO_MEMORY) return -1;
    if (status < 0) caxton_warn("%s: %s not sent: %s", who, performative, caxton_status_text(status));
    return 0;
}

/* ---- fipa-request ---- */

int caxton_request_serve(const caxton_message *message, caxton_request_work work, void *user) {
    if (!caxton_message_is(message, "request")) return 0;
    caxton_json *content = NULL;
    caxton_verdict verdict = work != NULL ? work(message, &content, user) : CAXTON_NOT_UNDERSTOOD;
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    int status = caxton_reply(message, performative, content);
    if (status == CAXTON_E_NO_MEMORY) return -1;
    if (status < 0) caxton_warn("request: %s not sent: %s", performative, caxton_status_text(status));
    return 1;
}

int caxton_request_send(const char *receiver, caxton_json *content, const char *reply_with) {
    if (receiver == NULL || reply_with == NULL) {
        caxton_json_free(content);
        return CAXTON_E_INVALID;
    }
    caxton_message *request = caxton_message_new("request");
    int status = request != NULL ? CAXTON_OK : CAXTON_E_NO_MEMORY;
    if (status == CAXTON_OK) status = caxton_message_set_receiver(request, receiver);
    if (status == CAXTON_OK) status = caxton_message_set_protocol(request, "fipa-request");
    if (status == CAXTON_OK) status = caxton_message_set_reply_with(request, reply_with);
    if (status == CAXTON_OK && content != NULL) {
        status = caxton_message_set_content(request, content);
        content = NULL;
    }
    caxton_json_free(content);
    if (status == CAXTON_OK) status = caxton_send(request);
    caxton_message_free(request);
    return status;
}

caxton_verdict caxton_request_outcome(const caxton_message *message, const char *reply_with) {
    const char *in_reply_to = caxton_message_in_reply_to(message);
    if (reply_with == NULL || in_reply_to == NULL || strcmp(in_reply_to, reply_with) != 0)
        return CAXTON_SILENT;
    static const caxton_verdict answers[] = {CAXTON_AGREE, CAXTON_INFORM, CAXTON_REFUSE,
                                             CAXTON_FAILURE, CAXTON_NOT_UNDERSTOOD};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        if (caxton_message_is(message, caxton_verdict_performative(answers[i]))) return answers[i];
    return CAXTON_SILENT;
}

/* ---- fipa-contract-net, participant ---- */

/* A participant's answer to `original`: a reply that always names the protocol. */
static caxton_message *cnet_reply(const caxton_message *original, const char *performative) {
    caxton_message *reply = caxton_reply_new(original, performative);
    if (reply != NULL && caxton_message_set_protocol(reply, CNET) != CAXTON_OK) {
        caxton_message_free(reply);
        return NULL;
    }
    return reply;
}

static int participant_cfp(const caxton_message *cfp, const caxton_cnet_participant *p,
                           const char *task_key) {
    caxton_json *content = NULL;
    caxton_verdict verdict = p->on_cfp != NULL ? p->on_cfp(cfp, &content, p->user) : CAXTON_REFUSE;
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    caxton_message *reply = cnet_reply(cfp, performative);
    if (verdict == CAXTON_PROPOSE && reply != NULL) {
        /* An award names only the proposal, so the task waits here for it. */
        caxton_json *null_task = NULL;
        const caxton_json *task = caxton_message_content(cfp);
        if (task == NULL) task = null_task = caxton_json_new_null();
        int status = caxton_kv_set_json(task_key, task);
        caxton_json_free(null_task);
        char *reply_with = NULL;
        if (status == CAXTON_OK) {
            reply_with =
                caxton__format("%s/%s", caxton_name(), caxton_message_conversation_id(cfp));
            status = reply_with != NULL ? caxton_message_set_reply_with(reply, reply_with)
                                        : CAXTON_E_NO_MEMORY;
            free(reply_with);
        }
        if (status != CAXTON_OK) {
            caxton_error("cnet-participant: cannot keep the task: %s", caxton_status_text(status));
            caxton_message_free(reply);
            caxton_json_free(content);
            return -1;
        }
    }
    return send_logged(reply, performative, content, "cnet-participant") < 0 ? -1 : 1;
}

static int participant_accept(const caxton_message *accept, const caxton_cnet_participant *p,
                              const char *task_key) {
    char *text;
    size_t len;
    int found = caxton_kv_get(task_key, &text, &len);
    if (found < 0) return -1;
    if (found == 0) {
        int rc = send_logged(cnet_reply(accept, "failure"), "failure",
                             caxton_reason("no task in this conversation"), "cnet-participant");
        return rc < 0 ? -1 : 1;
    }
    caxton_json *task = caxton_json_parse(text, len);
    free(text);
    if (task == NULL) return -1;
    caxton_json *content = NULL;
    caxton_verdict verdict =
        p->on_accept != NULL ? p->on_accept(accept, task, &content, p->user) : CAXTON_FAILURE;
    caxton_json_free(task);
    /* Whatever the verdict, the conversation is over for this participant. */
    caxton_kv_delete(task_key);
    const char *performative = caxton_verdict_performative(verdict);
    if (performative == NULL) {
        caxton_json_free(content);
        return verdict == CAXTON_ERROR ? -1 : 1;
    }
    return send_logged(cnet_reply(accept, performative), performative, content,
                       "cnet-participant") < 0
               ? -1
               : 1;
}

int caxton_cnet_participate(const caxton_message *message, const caxton_cnet_participant *p) {
    int is_cfp = caxton_message_is(message, "cfp");
    int is_accept = caxton_message_is(message, "accept-proposal");
    int is_reject = caxton_message_is(message, "reject-proposal");
    if (p == NULL || !(is_cfp || is_accept || is_reject)) return 0;
    const char *conversation = caxton_message_conversation_id(message);
    /* The host gives every message a conversation_id: only a foreign sender lacks one. */
    if (caxton_message_sender(message) == NULL || conversation == NULL ||
        strlen(conversation) > MAX_CONVERSATION_ID) {
        caxton_warn("cnet-participant: ignoring a %s without sender or conversation_id",
                    caxton_message_performative(message));
        return 1;
    }
    char *task_key = caxton__format("task/%s", conversation);
    if (task_key == NULL) return -1;
    int rc = 1;
    if (is_cfp) {
        rc = participant_cfp(message, p, task_key);
    } else if (is_accept) {
        rc = participant_accept(message, p, task_key);
    } else {
        caxton_kv_delete(task_key);
        if (p->on_reject != NULL) p->on_reject(message, p->user);
    }
    free(task_key);
    return rc;
}

/* ---- fipa-contract-net, initiator ---- */

typedef enum { PHASE_OPEN, PHASE_AWARDED, PHASE_DONE } cnet_phase;
static const char *const phase_names[] = {"open", "awarded", "done"};

/* "cnet/<id>": what a conversation needs to go on, even after a restart. */
typedef struct {
    cnet_phase phase;
    int64_t expected, proposals, refusals, failures;
    char *best; /* the cheapest proposer so far, NULL before any proposal */
    int64_t cost;
    char *best_reply_with; /* its proposal's reply_with, NULL when it had none */
} cnet_record;

/* Values of "cnet/<id>/p/<name>": how each participant answered. */
#define ANSWER_NONE "-"
#define ANSWER_PROPOSE "propose"
#define ANSWER_REFUSE "refuse"
#define ANSWER_FAILURE "failure"

typedef enum { KIND_PROPOSE, KIND_REFUSE, KIND_FAILURE, KIND_INFORM } answer_kind;

static int64_t answered(const cnet_record *r) { return r->proposals + r->refusals + r->failures; }

static void record_clear(cnet_record *r) {
    free(r->best);
    free(r->best_reply_with);
    memset(r, 0, sizeof *r);
}

/* 1 when found, 0 when absent, -1 when it cannot be read. */
static int record_load(const char *conversation, cnet_record *r) {
    memset(r, 0, sizeof *r);
    char *key = caxton__format("cnet/%s", conversation);
    if (key == NULL) return -1;
    char *text;
    size_t len;
    int found = caxton_kv_get(key, &text, &len);
    free(key);
    if (found <= 0) return found == 0 ? 0 : -1;
    caxton_json *json = caxton_json_parse(text, len);
    free(text);
    const char *phase = caxton_json_get_string(json, "phase");
    int ok = phase != NULL && caxton_json_get_int(json, "expected", &r->expected) &&
             caxton_json_get_int(json, "proposals", &r->proposals) &&
             caxton_json_get_int(json, "refusals", &r->refusals) &&
             caxton_json_get_int(json, "failures", &r->failures);
    if (ok) {
        r->phase = strcmp(phase, "done") == 0      ? PHASE_DONE
                   : strcmp(phase, "awarded") == 0 ? PHASE_AWARDED
                                                   : PHASE_OPEN;
        const char *best = caxton_json_get_string(json, "best");
        const char *best_reply_with = caxton_json_get_string(json, "best_reply_with");
        if (best != NULL)
            ok = caxton_json_get_int(json, "cost", &r->cost) &&
                 (r->best = caxton__copy_string(best)) != NULL;
        if (ok && best != NULL && best_reply_with != NULL)
            ok = (r->best_reply_with = caxton__copy_string(best_reply_with)) != NULL;
    }
    caxton_json_free(json);
    if (!ok) {
        record_clear(r);
        return -1;
    }
    return 1;
}

/* 0, or the negative status of the failure (logged). */
static int record_save(const char *conversation, const cnet_record *r) {
    caxton_json *json = caxton_json_new_object();
    int status = caxton_json_set_string(json, "phase", phase_names[r->phase]);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "expected", r->expected);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "proposals", r->proposals);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "refusals", r->refusals);
    if (status == CAXTON_OK) status = caxton_json_set_int(json, "failures", r->failures);
    if (status == CAXTON_OK && r->best != NULL) {
        status = caxton_json_set_string(json, "best", r->best);
        if (status == CAXTON_OK) status = caxton_json_set_int(json, "cost", r->cost);
        if (status == CAXTON_OK && r->best_reply_with != NULL)
            status = caxton_json_set_string(json, "best_reply_with", r->best_reply_with);
    }
    char *key = caxton__format("cnet/%s", conversation);
    if (status == CAXTON_OK)
        status = key != NULL ? caxton_kv_set_json(key, json) : CAXTON_E_NO_MEMORY;
    free(key);
    caxton_json_free(json);
    if (status != CAXTON_OK) {
        caxton_error("cnet-initiator: cannot store conversation %s: %s", conversation,
                     caxton_status_text(status));
    }
    return status;
}

/*
 * Forgets the participants of a conversation (their answer keys and the list).
 * With `rejects`, the proposers other than `winner` are appended to it, in the
 * order the cfp named them. 0, or -1 when memory gave out.
 */
static int forget_participants(const char *conversation, const char *winner, caxton_json *rejects) {
    char *list_key = caxton__format("cnet/%s/participants", conversation);
    if (list_key == NULL) return -1;
    caxton_json *list = caxton_kv_get_json(list_key);
    int failed = 0;
    for (const caxton_json *item = caxton_json_first(list); item != NULL; item = item->next) {
        const char *name = caxton_json_string(item);
        char *key = name != NULL ? caxton__format("cnet/%s/p/%s", conversation, name) : NULL;
        char *answer;
        size_t len;
        /* A name the cfp listed twice finds its key already gone the second time. */
        if (key != NULL && caxton_kv_get(key, &answer, &len) == 1) {
            if (rejects != NULL && strcmp(answer, ANSWER_PROPOSE) == 0 &&
                (winner == NULL || strcmp(name, winner) != 0))
                failed |= caxton_json_append(rejects, caxton_json_new_string(name)) != CAXTON_OK;
            free(answer);
            caxton_kv_delete(key);
        }
        failed |= name != NULL && key == NULL;
        free(key);
    }
    caxton_json_free(list);
    caxton_kv_delete(list_key);
    free(list_key);
    return failed ? -1 : 0;
}

/* A message of the conversation: its protocol and id set. */
static caxton_message *cnet_message(const char *performative, const char *conversation) {
    caxton_message *m = caxton_message_new(performative);
    if (m != NULL && (caxton_message_set_protocol(m, CNET) != CAXTON_OK ||
                      caxton_message_set_conversation_id(m, conversation) != CAXTON_OK)) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

/* A message to one agent, answering `in_reply_to` (when not NULL). */
static caxton_message *cnet_message_to(const char *performative, const char *conversation,
                                       const char *receiver, const char *in_reply_to) {
    caxton_message *m = cnet_message(performative, conversation);
    if (m != NULL && (caxton_message_set_receiver(m, receiver) != CAXTON_OK ||
                      (in_reply_to != NULL &&
                       caxton_message_set_in_reply_to(m, in_reply_to) != CAXTON_OK))) {
        caxton_message_free(m);
        return NULL;
    }
    return m;
}

int caxton_cnet_start(const char *conversation, const caxton_json *participants,
                      const caxton_json *task, int64_t deadline_ms) {
    if (conversation == NULL || *conversation == '\0' ||
        strlen(conversation) > MAX_CONVERSATION_ID || deadline_ms < 1 ||
        caxton_json_typeof(participants) != CAXTON_JSON_ARRAY || participants->count == 0)
        return CAXTON_E_INVALID;
    for (const caxton_json *item = participants->first; item != NULL; item = item->next)
        if (!caxton_is_agent_name(caxton_json_string(item))) return CAXTON_E_INVALID;

    /* Distinct names only: a participant named twice answers once. */
    cnet_record r = {0};
    int status = CAXTON_OK;
    for (const caxton_json *item = participants->first; item != NULL && status == CAXTON_OK;
         item = item->next) {
        char *key = caxton__format("cnet/%s/p/%s", conversation, item->text);
        char *answer;
        size_t len;
        int found = key != NULL ? caxton_kv_get(key, &answer, &len) : CAXTON_E_NO_MEMORY;
        if (found == 0) {
            status = caxton_kv_set_string(key, ANSWER_NONE);
            r.expected++;
        } else if (found == 1) {
            free(answer);
        } else {
            status = found;
        }
        free(key);
    }
    char *list_key = caxton__format("cnet/%s/participants", conversation);
    if (status == CAXTON_OK)
        status = list_key != NULL ? caxton_kv_set_json(list_key, participants) : CAXTON_E_NO_MEMORY;
    free(list_key);
    if (status == CAXTON_OK) status = record_save(conversation, &r);

    int64_t now = caxton_now_ms();
    char reply_by[CAXTON_TIMESTAMP_SIZE];
    caxton_timestamp(now > INT64_MAX - deadline_ms ? INT64_MAX : now + deadline_ms, reply_by);
    char *reply_with = caxton__format("%s-cfp", conversation);
    caxton_message *cfp = cnet_message("cfp", conversation);
    if (status == CAXTON_OK && (cfp == NULL || reply_with == NULL)) status = CAXTON_E_NO_MEMORY;
    if (status == CAXTON_OK) status = caxton_message_set_receivers(cfp, participants);
    if (status == CAXTON_OK) status = caxton_message_set_reply_with(cfp, reply_with);
    if (status == CAXTON_OK) status = caxton_message_set_reply_by(cfp, reply_by);
    if (status == CAXTON_OK && task != NULL)
        status = caxton_message_set_content(cfp, caxton_json_copy(task));
    if (status == CAXTON_OK) status = caxton_send(cfp);
    caxton_message_free(cfp);
    free(reply_with);

    if (status != CAXTON_OK) {
        /* Nobody was asked, so nobody will answer: leave nothing waiting. */
        forget_participants(conversation, NULL, NULL);
        char *key = caxton__format("cnet/%s", conversation);
        caxton_kv_delete(key);
        free(key);
        caxton_error("cnet-initiator: cfp %s not sent: %s", conversation,
                     caxton_status_text(status));
        return status;
    }
    caxton_info("cfp %s to %lld participants, reply_by %s", conversation, (long long)r.expected,
                reply_by);
    return CAXTON_OK;
}

static int notify(const caxton_cnet_initiator *initiator, const caxton_cnet_outcome *outcome) {
    if (initiator->on_outcome == NULL) return 0;
    return initiator->on_outcome(outcome, initiator->user) != 0 ? -1 : 0;
}

static caxton_cnet_outcome outcome_of(const char *conversation, const cnet_record *r) {
    caxton_cnet_outcome outcome = {0};
    outcome.conversation_id = conversation;
    outcome.winner = r->best;
    outcome.cost = r->cost;
    outcome.expected = r->expected;
    outcome.proposals = r->proposals;
    outcome.refusals = r->refusals;
    outcome.failures = r->failures;
    return outcome;
}

static int decide(const char *conversation, cnet_record *r,
                  const caxton_cnet_initiator *initiator) {
    caxton_json *rejects = caxton_json_new_array();
    if (rejects == NULL) return -1;
    int failed = forget_participants(conversation, r->best, rejects) != 0;
    if (r->best == NULL) {
        caxton_json_free(rejects);
        r->phase = PHASE_DONE;
        failed |= record_save(conversation, r) != 0;
        caxton_cnet_outcome outcome = outcome_of(conversation, r);
        failed |= notify(initiator, &outcome) != 0;
        return failed ? -1 : 0;
    }
    r->phase = PHASE_AWARDED;
    failed |= record_save(conversation, r) != 0;

    char *accept_with = caxton__format("%s-accept", conversation);
    caxton_message *accept =
        cnet_message_to("accept-proposal", conversation, r->best, r->best_reply_with);
    caxton_json *terms = caxton_json_new_object();
    if (accept != NULL &&
        (accept_with == NULL || caxton_message_set_reply_with(accept, accept_with) != CAXTON_OK ||
         caxton_json_set_int(terms, "cost", r->cost) != CAXTON_OK)) {
        caxton_message_free(accept);
        accept = NULL;
    }
    free(accept_with);
    failed |= send_logged(accept, "accept-proposal", terms, "cnet-initiator") != 0;

    if (caxton_json_size(rejects) > 0) {
        char *cfp_with = caxton__format("%s-cfp", conversation);
        caxton_message *reject = cnet_message("reject-proposal", conversation);
        int status = reject != NULL && cfp_with != NULL ? CAXTON_OK : CAXTON_E_NO_MEMORY;
        if (status == CAXTON_OK)
            status = caxton_message_set(reject, "receiver", rejects);
        else
            caxton_json_free(rejects);
        rejects = NULL;
        if (status == CAXTON_OK) status = caxton_message_set_in_reply_to(reject, cfp_with);
        free(cfp_with);
        if (status != CAXTON_OK) {
            caxton_message_free(reject);
            reject = NULL;
        }
        failed |= send_logged(reject, "reject-proposal",
                              caxton_reason("another proposal was chosen"), "cnet-initiator") != 0;
    }
    caxton_json_free(rejects);
    caxton_info("awarded %s to %s at cost %lld: %lld proposals, %lld refusals, %lld failures of "
                "%lld",
                conversation, r->best, (long long)r->cost, (long long)r->proposals,
                (long long)r->refusals, (long long)r->failures, (long long)r->expected);
    return failed ? -1 : 0;
}

static int warn_about(const char *text, const char *sender, const char *conversation) {
    caxton_warn("cnet-initiator: %s from %s in %s", text, sender, conversation);
    return 0;
}

static int decide_or_save(const char *conversation, cnet_record *r,
                          const caxton_cnet_initiator *initiator) {
    if (answered(r) >= r->expected) return decide(conversation, r, initiator);
    return record_save(conversation, r) != 0 ? -1 : 0;
}

/* An answer from a participant while the conversation is open. */
static int on_answer(const caxton_message *m, answer_kind kind, const char *sender,
                     const char *conversation, cnet_record *r,
                     const caxton_cnet_initiator *initiator) {
    char *key = NULL, *previous = NULL;
    size_t len;
    int found = 0;
    if (strlen(sender) <= MAX_NAME) {
        key = caxton__format("cnet/%s/p/%s", conversation, sender);
        found = key != NULL ? caxton_kv_get(key, &previous, &len) : CAXTON_E_NO_MEMORY;
    }
    int rc = 0;
    if (found < 0) {
        rc = -1;
    } else if (found == 0) {
        rc = warn_about("ignoring an answer from a non-participant", sender, conversation);
    } else if (strcmp(previous, ANSWER_NONE) != 0) {
        rc = warn_about("ignoring a second answer", sender, conversation);
    } else {
        const char *record = ANSWER_FAILURE;
        int64_t cost = 0;
        if (kind == KIND_REFUSE) {
            record = ANSWER_REFUSE;
            r->refusals++;
        } else if (kind == KIND_FAILURE) {
            r->failures++;
        } else if (initiator->cost != NULL
                       ? initiator->cost(m, &cost, initiator->user)
                       : caxton_json_get_int(caxton_message_content(m), "cost", &cost)) {
            record = ANSWER_PROPOSE;
            r->proposals++;
            /* Strictly lower: of equal costs the first received keeps the lead. */
            if (r->best == NULL || cost < r->cost) {
                const char *reply_with = caxton_message_reply_with(m);
                free(r->best);
                free(r->best_reply_with);
                r->best = caxton__copy_string(sender);
                r->best_reply_with = caxton__copy_string(reply_with);
                r->cost = cost;
                if (r->best == NULL || (reply_with != NULL && r->best_reply_with == NULL)) rc = -1;
            }
        } else {
            r->failures++;
            rc |= send_logged(cnet_message_to("not-understood", conversation, sender,
                                              caxton_message_reply_with(m)),
                              "not-understood", caxton_reason("a proposal needs an integer cost"),
                              "cnet-initiator");
        }
        if (caxton_kv_set_string(key, record) != CAXTON_OK) rc = -1;
        if (rc == 0) rc = decide_or_save(conversation, r, initiator);
    }
    free(previous);
    free(key);
    return rc;
}

/* Anything after the decision: late proposals, and the winner's result. */
static int after_decision(const caxton_message *m, answer_kind kind, const char *sender,
                          const char *conversation, cnet_record *r,
                          const caxton_cnet_initiator *initiator) {
    if (kind == KIND_PROPOSE) {
        int rc = send_logged(cnet_message_to("reject-proposal", conversation, sender,
                                             caxton_message_reply_with(m)),
                             "reject-proposal", caxton_reason("the contract was already awarded"),
                             "cnet-initiator");
        caxton_info("late proposal from %s in %s: rejected", sender, conversation);
        return rc;
    }
    int from_winner = r->best != NULL && strcmp(sender, r->best) == 0;
    /* The router answers an accept-proposal it could not deliver in its own name. */
    int undeliverable = kind == KIND_FAILURE && strcmp(sender, PLATFORM) == 0 &&
                        is_suffixed(caxton_message_in_reply_to(m), conversation, "-accept");
    if (r->phase == PHASE_AWARDED && (kind == KIND_INFORM || kind == KIND_FAILURE) &&
        (from_winner || undeliverable)) {
        r->phase = PHASE_DONE;
        int failed = record_save(conversation, r) != 0;
        caxton_cnet_outcome outcome = outcome_of(conversation, r);
        outcome.done = kind == KIND_INFORM;
        outcome.result = m;
        failed |= notify(initiator, &outcome) != 0;
        return failed ? -1 : 0;
    }
    return warn_about("ignoring an answer after the decision", sender, conversation);
}

int caxton_cnet_initiate(const caxton_message *message, const caxton_cnet_initiator *initiator) {
    answer_kind kind;
    if (caxton_message_is(message, "propose"))
        kind = KIND_PROPOSE;
    else if (caxton_message_is(message, "refuse"))
        kind = KIND_REFUSE;
    else if (caxton_message_is(message, "failure"))
        kind = KIND_FAILURE;
    else if (caxton_message_is(message, "inform"))
        kind = KIND_INFORM;
    else
        return 0;
    const char *sender = caxton_message_sender(message);
    const char *conversation = caxton_message_conversation_id(message);
    if (initiator == NULL || sender == NULL || conversation == NULL ||
        strlen(conversation) > MAX_CONVERSATION_ID)
        return 0;
    cnet_record r;
    int found = record_load(conversation, &r);
    if (found < 0) {
        caxton_error("cnet-initiator: cannot read conversation %s", conversation);
        return -1;
    }
    if (found == 0) return 0;

    /* Only the platform can send in the name "caxton": agents cannot forge these. */
    int from_platform = strcmp(sender, PLATFORM) == 0;
    int rc;
    if (kind == KIND_INFORM && from_platform &&
        caxton_json_string_is(caxton_message_get(message, "x-caxton-event"), "deadline")) {
        if (r.phase == PHASE_OPEN) {
            caxton_info("deadline of %s: %lld silent", conversation,
                        (long long)(r.expected - answered(&r)));
            rc = decide(conversation, &r, initiator);
        } else {
            /* Decided already (everyone answered in time): nothing is owed. */
            caxton_debug("cnet-initiator: deadline of %s after the decision", conversation);
            rc = 0;
        }
    } else if (r.phase != PHASE_OPEN) {
        rc = after_decision(message, kind, sender, conversation, &r, initiator);
    } else if (kind == KIND_INFORM) {
        rc = warn_about("ignoring an inform before the decision", sender, conversation);
    } else if (kind == KIND_FAILURE && from_platform) {
        /* A participant that cannot be reached: the platform answers for it. */
        if (is_suffixed(caxton_message_in_reply_to(message), conversation, "-cfp")) {
            r.failures++;
            rc = decide_or_save(conversation, &r, initiator);
        } else {
            rc = warn_about("ignoring a failure", sender, conversation);
        }
    } else {
        rc = on_answer(message, kind, sender, conversation, &r, initiator);
    }
    record_clear(&r);
    return rc != 0 ? -1 : 1;
}
