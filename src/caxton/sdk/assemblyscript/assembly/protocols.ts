// Helpers for two FIPA interaction protocols, both sides of each:
//   FIPA Request (SC00026, "fipa-request") and
//   FIPA Contract Net (SC00029, "fipa-contract-net").
//
// What a conversation must remember between messages (a request answered later,
// a task until its award, an initiator's proposals) lives in the agent's key-value
// store, so it survives a restart of the instance.

import { Agent } from "./agent";
import { kv, log, nowMs } from "./host";
import { JSON, JSONArray, JSONKind, JSONObject, JSONValue } from "./json";
import { Message, PLATFORM, Performative, send } from "./message";
import { ToolResult } from "./tools";

export const FIPA_REQUEST = "fipa-request";
export const FIPA_CONTRACT_NET = "fipa-contract-net";

function reasonContent(reason: string): JSONValue {
  return JSON.object().setString("reason", reason);
}

// ---------------------------------------------------------------- outcomes

export enum OutcomeKind {
  Done = 0,
  Failed = 1,
  Refused = 2,
  NotUnderstood = 3,
  Later = 4,
}

/** How a participant answers: with a result, a failure, a refusal, or later. */
export class Outcome {
  constructor(
    public kind: OutcomeKind,
    public content: JSONValue,
    public key: string = "",
  ) {}

  /** `inform` with `result` as content. */
  static done(result: JSONValue): Outcome {
    return new Outcome(OutcomeKind.Done, result);
  }
  /** `failure` with {"reason": reason}. */
  static failed(reason: string): Outcome {
    return new Outcome(OutcomeKind.Failed, reasonContent(reason));
  }
  /** `refuse` with {"reason": reason}. */
  static refused(reason: string): Outcome {
    return new Outcome(OutcomeKind.Refused, reasonContent(reason));
  }
  /** `not-understood` with {"reason": reason}. */
  static notUnderstood(reason: string): Outcome {
    return new Outcome(OutcomeKind.NotUnderstood, reasonContent(reason));
  }
  /**
   * `agree` now, the result later: the request is kept under `key` until
   * `RequestParticipant.complete(key, outcome)` answers it.
   */
  static later(key: string): Outcome {
    return new Outcome(OutcomeKind.Later, JSON.nul(), key);
  }

  get performative(): string {
    switch (this.kind) {
      case OutcomeKind.Done:
        return Performative.INFORM;
      case OutcomeKind.Failed:
        return Performative.FAILURE;
      case OutcomeKind.Refused:
        return Performative.REFUSE;
      case OutcomeKind.NotUnderstood:
        return Performative.NOT_UNDERSTOOD;
      default:
        return Performative.AGREE;
    }
  }
}

// ---------------------------------------------------------------- FIPA Request

/** The initiator's side of FIPA Request, and the participant's answers as functions. */
export namespace FipaRequest {
  /** Sends a `request` (protocol fipa-request) to `receiver`; the host's status. */
  export function request(receiver: string, content: JSONValue, replyWith: string): i32 {
    return send(
      new Message(Performative.REQUEST)
        .to(receiver)
        .withProtocol(FIPA_REQUEST)
        .withReplyWith(replyWith)
        .withContent(content),
    );
  }

  /** Answers `request` as `outcome` says (an `agree` for Outcome.later, without keeping it). */
  export function answer(request: Message, outcome: Outcome): i32 {
    const reply = request.makeReply(outcome.performative);
    if (outcome.kind != OutcomeKind.Later) reply.withContent(outcome.content);
    return send(reply);
  }

  export function agree(request: Message): i32 {
    return send(request.makeReply(Performative.AGREE));
  }
  export function inform(request: Message, result: JSONValue): i32 {
    return answer(request, Outcome.done(result));
  }
  export function failure(request: Message, reason: string): i32 {
    return answer(request, Outcome.failed(reason));
  }
  export function refuse(request: Message, reason: string): i32 {
    return answer(request, Outcome.refused(reason));
  }
  export function notUnderstood(request: Message, reason: string): i32 {
    return answer(request, Outcome.notUnderstood(reason));
  }
}

const PENDING_PREFIX = "fipa-request/";

/**
 * An agent that answers `request`s: override `perform`. Return Outcome.done(result)
 * to inform at once, Outcome.later(key) to agree now and answer when a tool result
 * (see `toolResult`) or another message arrives, with `complete(key, ...)`.
 */
export class RequestParticipant extends Agent {
  /** What to do with one request; by default it is not understood. */
  perform(request: Message): Outcome {
    return Outcome.notUnderstood("this agent performs no requests");
  }

  /** A tool's answer arrived (see callTool). */
  toolResult(result: ToolResult): void {}

  /** Any other message; logged and ignored by default. */
  other(message: Message): void {
    log.warn(this.name + ": ignoring " + message.performative);
  }

  handle(message: Message): void {
    if (message.is(Performative.REQUEST)) {
      const outcome = this.perform(message);
      if (outcome.kind == OutcomeKind.Later) {
        if (kv.setJSON(PENDING_PREFIX + outcome.key, message.fields) < 0) {
          throw new Error("cannot keep the request " + outcome.key);
        }
      }
      FipaRequest.answer(message, outcome);
      return;
    }
    const result = ToolResult.from(message);
    if (result !== null) {
      this.toolResult(result);
      return;
    }
    this.other(message);
  }

  /** Answers the request kept under `key` by Outcome.later; false when there is none. */
  complete(key: string, outcome: Outcome): bool {
    const kept = kv.getJSON(PENDING_PREFIX + key);
    if (kept === null || !kept.isObject) return false;
    kv.remove(PENDING_PREFIX + key);
    FipaRequest.answer(Message.fromObject(kept.asObject()), outcome);
    return true;
  }

  /** The request kept under `key`, or null. */
  pending(key: string): Message | null {
    const kept = kv.getJSON(PENDING_PREFIX + key);
    return kept !== null && kept.isObject ? Message.fromObject(kept.asObject()) : null;
  }
}

// ---------------------------------------------------------------- Contract Net: participant

/** A participant's answer to a cfp. */
export class Bid {
  constructor(
    public proposing: bool,
    public content: JSONValue,
  ) {}

  /** `propose` with `content` (e.g. {"cost": 12}). */
  static propose(content: JSONValue): Bid {
    return new Bid(true, content);
  }
  /** `refuse` with {"reason": reason}. */
  static refuse(reason: string): Bid {
    return new Bid(false, reasonContent(reason));
  }
}

const TASK_PREFIX = "fipa-contract-net/task/";

/**
 * The participant's side of Contract Net: override `bid` (cfp: propose or refuse)
 * and `perform` (accept-proposal: do the work, Outcome.done or Outcome.failed).
 * The cfp's content (the task) is kept from the proposal to the award.
 */
export class ContractNetParticipant extends Agent {
  bid(cfp: Message): Bid {
    return Bid.refuse("not taking work");
  }

  perform(accept: Message, task: JSONValue): Outcome {
    return Outcome.failed("this agent does no work");
  }

  /** The proposal was rejected (the task is forgotten already). */
  rejected(reject: Message, task: JSONValue | null): void {}

  /** Any message outside the protocol; logged and ignored by default. */
  other(message: Message): void {
    log.warn(this.name + ": ignoring " + message.performative);
  }

  handle(message: Message): void {
    const cfp = message.is(Performative.CFP);
    const accept = message.is(Performative.ACCEPT_PROPOSAL);
    const reject = message.is(Performative.REJECT_PROPOSAL);
    if (!cfp && !accept && !reject) {
      this.other(message);
      return;
    }
    const conversation = message.conversationId;
    if (conversation === null || message.sender === null) {
      log.warn(this.name + ": ignoring a " + message.performative +
               " without sender or conversation_id");
      return;
    }
    const key = TASK_PREFIX + conversation;
    if (cfp) {
      const bid = this.bid(message);
      const answer = answerIn(message, bid.proposing ? Performative.PROPOSE : Performative.REFUSE);
      answer.withContent(bid.content);
      if (bid.proposing) {
        const task = message.content;
        if (kv.setJSON(key, task !== null ? task : JSON.nul()) < 0) {
          throw new Error("cannot keep the task of " + conversation);
        }
        // The initiator's accept-proposal answers this, so it finds its way back.
        answer.withReplyWith(this.name + "/" + conversation);
      }
      send(answer);
    } else if (accept) {
      const task = kv.getJSON(key);
      let outcome: Outcome;
      if (task === null) outcome = Outcome.failed("no task in this conversation");
      else outcome = this.perform(message, task);
      kv.remove(key);
      const done = outcome.kind == OutcomeKind.Done;
      send(answerIn(message, done ? Performative.INFORM : Performative.FAILURE)
        .withContent(outcome.content));
    } else {
      const task = kv.getJSON(key);
      kv.remove(key);
      this.rejected(message, task);
    }
  }
}

/** A reply in the contract net: threaded like makeReply, with the protocol set. */
function answerIn(message: Message, performative: string): Message {
  return message.makeReply(performative).withProtocol(FIPA_CONTRACT_NET);
}

// ---------------------------------------------------------------- Contract Net: initiator

/** One participant's proposal. */
export class Proposal {
  constructor(
    public sender: string,
    public replyWith: string | null,
    public content: JSONValue,
  ) {}

  /** content.cost as a number, or +Infinity when there is none. */
  get cost(): f64 {
    const cost = this.content.get("cost");
    return cost !== null && cost.isNumber ? cost.asNumber() : Infinity;
  }

  toJSON(): JSONObject {
    const object = JSON.object().setString("sender", this.sender).set("content", this.content);
    const replyWith = this.replyWith;
    if (replyWith !== null) object.setString("reply_with", replyWith);
    return object;
  }

  static fromJSON(value: JSONValue): Proposal {
    const content = value.get("content");
    return new Proposal(value.getString("sender")!, value.getString("reply_with"),
                        content !== null ? content : JSON.nul());
  }
}

const CONVERSATION_PREFIX = "fipa-contract-net/initiated/";
const COUNTER_KEY = "fipa-contract-net/counter";

/**
 * The initiator's side of Contract Net. `callForProposals` sends one cfp to many;
 * proposals, refusals and failures are collected until every participant has
 * answered or the platform's deadline notice (an inform from "caxton" with
 * "x-caxton-event": "deadline") arrives; then the best proposal (`better`, by
 * default the lowest content.cost) is accepted and the others rejected, and the
 * winner's inform or failure is handed to `completed` or `failed`.
 *
 * Each conversation is kept in kv under "fipa-contract-net/initiated/<id>":
 * {"phase": "open" | "awarded" | "done", "participants": [...], "answered": {name: kind},
 *  "proposals": [...], "refusals": n, "failures": n, "winner": proposal}.
 */
export class ContractNetInitiator extends Agent {
  /** Whether proposal `a` beats `b`; by default the lower cost (earlier wins ties). */
  better(a: Proposal, b: Proposal): bool {
    return a.cost < b.cost;
  }

  /** Whether a proposal can be considered at all; by default when it names a cost. */
  acceptable(proposal: Proposal): bool {
    return proposal.cost != Infinity;
  }

  /** The award went out. */
  awarded(conversation: string, winner: Proposal, proposals: i32, refusals: i32, failures: i32): void {}

  /** Nobody proposed (all refused, failed or stayed silent). */
  noProposals(conversation: string, refusals: i32, failures: i32): void {}

  /** The winner reported the result (its inform). */
  completed(conversation: string, winner: Proposal, result: Message): void {}

  /** The winner failed (its failure, or the platform's for it). */
  failed(conversation: string, winner: Proposal, failure: Message): void {}

  /** Messages of no conversation this initiator runs; logged and ignored by default. */
  other(message: Message): void {
    log.warn(this.name + ": ignoring " + message.performative);
  }

  /**
   * Sends one cfp with `task` to `participants`, reply_by `deadlineMs` from now;
   * the conversation id ("<name>-<n>"), or "" when the cfp could not be sent.
   */
  callForProposals(participants: string[], task: JSONValue, deadlineMs: i64): string {
    const counted = kv.getString(COUNTER_KEY);
    const number = (counted !== null ? I64.parseInt(counted) : 0) + 1;
    kv.setString(COUNTER_KEY, number.toString());
    const conversation = this.name + "-" + number.toString();

    const distinct: string[] = [];
    for (let i = 0; i < participants.length; i++) {
      if (!distinct.includes(participants[i])) distinct.push(participants[i]);
    }
    const record = JSON.object()
      .setString("phase", "open")
      .set("participants", JSON.strings(distinct))
      .set("answered", JSON.object())
      .set("proposals", JSON.array())
      .setInteger("refusals", 0)
      .setInteger("failures", 0);
    if (kv.setJSON(CONVERSATION_PREFIX + conversation, record) < 0) return "";
    const status = send(
      new Message(Performative.CFP)
        .toAll(distinct)
        .withProtocol(FIPA_CONTRACT_NET)
        .withConversationId(conversation)
        .withReplyWith(conversation + "-cfp")
        .withReplyByMs(nowMs() + deadlineMs)
        .withContent(task),
    );
    if (status < 0) {
      kv.remove(CONVERSATION_PREFIX + conversation);
      return "";
    }
    return conversation;
  }

  handle(message: Message): void {
    const conversation = message.conversationId;
    const record = conversation !== null ? kv.getJSON(CONVERSATION_PREFIX + conversation) : null;
    if (conversation === null || record === null || !record.isObject) {
      this.other(message);
      return;
    }
    const state = record.asObject();
    const phase = state.getString("phase")!;
    const sender = message.sender;
    if (sender === null) return;
    if (phase == "open") {
      this.collect(conversation, state, message, sender);
    } else if (phase == "awarded" || phase == "done") {
      this.afterAward(conversation, state, message, sender);
    }
  }

  private collect(conversation: string, state: JSONObject, message: Message, sender: string): void {
    const answered = state.get("answered")!.asObject();
    const participants = state.get("participants")!.asArray();
    const platform = sender == PLATFORM;
    if (platform) {
      const event = message.stringParam("x-caxton-event");
      if (event !== null && (event == "deadline" || event == "timeout")) {
        this.decide(conversation, state);
        return;
      }
      // The platform could not deliver the cfp to someone (e.g. no such agent).
      if (message.is(Performative.FAILURE)) bump(state, "failures");
      else return;
    } else {
      if (!isParticipant(participants, sender) || answered.has(sender)) {
        log.warn(this.name + ": unexpected " + message.performative + " from " + sender +
                 " in " + conversation);
        return;
      }
      if (message.is(Performative.PROPOSE)) {
        const content = message.content;
        const proposal = new Proposal(sender, message.replyWith,
                                      content !== null ? content : JSON.nul());
        if (this.acceptable(proposal)) {
          answered.setString(sender, "propose");
          state.get("proposals")!.asArray().push(proposal.toJSON());
        } else {
          answered.setString(sender, "failure");
          bump(state, "failures");
          send(answerIn(message, Performative.NOT_UNDERSTOOD)
            .withContent(reasonContent("the proposal is not acceptable")));
        }
      } else if (message.is(Performative.REFUSE)) {
        answered.setString(sender, "refuse");
        bump(state, "refusals");
      } else if (message.is(Performative.FAILURE) || message.is(Performative.NOT_UNDERSTOOD)) {
        answered.setString(sender, "failure");
        bump(state, "failures");
      } else {
        this.other(message);
        return;
      }
    }
    const proposals = state.get("proposals")!.asArray().length;
    const heard = proposals + <i32>count(state, "refusals") + <i32>count(state, "failures");
    if (heard >= participants.length) this.decide(conversation, state);
    else save(conversation, state);
  }

  private decide(conversation: string, state: JSONObject): void {
    const items = state.get("proposals")!.asArray().items;
    const refusals = <i32>count(state, "refusals");
    const failures = <i32>count(state, "failures");
    if (items.length == 0) {
      state.setString("phase", "done");
      save(conversation, state);
      this.noProposals(conversation, refusals, failures);
      return;
    }
    let best = Proposal.fromJSON(items[0]);
    for (let i = 1; i < items.length; i++) {
      const candidate = Proposal.fromJSON(items[i]);
      if (this.better(candidate, best)) best = candidate;
    }
    state.setString("phase", "awarded");
    state.set("winner", best.toJSON());
    save(conversation, state);

    const accept = new Message(Performative.ACCEPT_PROPOSAL)
      .to(best.sender)
      .withProtocol(FIPA_CONTRACT_NET)
      .withConversationId(conversation)
      .withReplyWith(conversation + "-accept")
      .withContent(best.content);
    const winnerReplyWith = best.replyWith;
    if (winnerReplyWith !== null) accept.withInReplyTo(winnerReplyWith);
    send(accept);
    const others: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const name = items[i].getString("sender")!;
      if (name != best.sender) others.push(name);
    }
    if (others.length > 0) {
      send(new Message(Performative.REJECT_PROPOSAL)
        .toAll(others)
        .withProtocol(FIPA_CONTRACT_NET)
        .withConversationId(conversation)
        .withInReplyTo(conversation + "-cfp")
        .withContent(reasonContent("another proposal was chosen")));
    }
    this.awarded(conversation, best, items.length, refusals, failures);
  }

  private afterAward(conversation: string, state: JSONObject, message: Message, sender: string): void {
    if (message.is(Performative.PROPOSE)) {
      send(answerIn(message, Performative.REJECT_PROPOSAL)
        .withContent(reasonContent("the contract was already awarded")));
      return;
    }
    const winnerValue = state.get("winner");
    if (winnerValue === null || state.getString("phase")! != "awarded") {
      this.other(message);
      return;
    }
    const winner = Proposal.fromJSON(winnerValue);
    const fromWinner = sender == winner.sender;
    const inReplyTo = message.inReplyTo;
    const aboutAccept = inReplyTo !== null && inReplyTo == conversation + "-accept";
    if (fromWinner && message.is(Performative.INFORM)) {
      state.setString("phase", "done");
      save(conversation, state);
      this.completed(conversation, winner, message);
    } else if (message.is(Performative.FAILURE) && (fromWinner || (sender == PLATFORM && aboutAccept))) {
      state.setString("phase", "done");
      save(conversation, state);
      this.failed(conversation, winner, message);
    } else {
      this.other(message);
    }
  }
}

function isParticipant(participants: JSONArray, name: string): bool {
  const items = participants.items;
  for (let i = 0; i < items.length; i++) if (items[i].asString() == name) return true;
  return false;
}

function count(state: JSONObject, key: string): i64 {
  const value = state.get(key);
  return value !== null && value.kind == JSONKind.Number ? value.asInteger() : 0;
}

function bump(state: JSONObject, key: string): void {
  state.setInteger(key, count(state, key) + 1);
}

function save(conversation: string, state: JSONObject): void {
  if (kv.setJSON(CONVERSATION_PREFIX + conversation, state) < 0) {
    throw new Error("cannot keep the state of " + conversation);
  }
}
