// FIPA-ACL messages (SC00061G) as Caxton's ABI v1 spells them: a JSON object with
// snake_case parameters. The whole object is kept, so parameters this SDK has no
// accessor for (x-* and any the host adds later) survive a round trip.

import { JSON, JSONArray, JSONKind, JSONObject, JSONString, JSONValue } from "./json";
import { sendJSON } from "./host";

/** The 22 FIPA communicative acts, spelled as on the wire. */
export namespace Performative {
  export const ACCEPT_PROPOSAL = "accept-proposal";
  export const AGREE = "agree";
  export const CANCEL = "cancel";
  export const CFP = "cfp";
  export const CONFIRM = "confirm";
  export const DISCONFIRM = "disconfirm";
  export const FAILURE = "failure";
  export const INFORM = "inform";
  export const INFORM_IF = "inform-if";
  export const INFORM_REF = "inform-ref";
  export const NOT_UNDERSTOOD = "not-understood";
  export const PROPAGATE = "propagate";
  export const PROPOSE = "propose";
  export const PROXY = "proxy";
  export const QUERY_IF = "query-if";
  export const QUERY_REF = "query-ref";
  export const REFUSE = "refuse";
  export const REJECT_PROPOSAL = "reject-proposal";
  export const REQUEST = "request";
  export const REQUEST_WHEN = "request-when";
  export const REQUEST_WHENEVER = "request-whenever";
  export const SUBSCRIBE = "subscribe";
}

/** The name the platform itself sends under (tool results, deadlines, delivery failures). */
export const PLATFORM = "caxton";

export class Message {
  /** Every parameter of the message, in order. */
  fields: JSONObject;

  constructor(performative: string = Performative.INFORM) {
    this.fields = new JSONObject();
    this.fields.setString("performative", performative);
  }

  /** A message over an existing object (not copied). */
  static fromObject(fields: JSONObject): Message {
    const message = new Message();
    message.fields = fields;
    return message;
  }

  /** Parses a message; aborts when `text` is not a JSON object. */
  static parse(text: string): Message {
    const value = JSON.parse(text);
    if (!value.isObject) throw new Error("an ACL message must be a JSON object");
    return Message.fromObject(value.asObject());
  }

  /** Parses `len` UTF-8 bytes at `ptr`; null when they are not a JSON object. */
  static parseBytes(ptr: usize, len: i32): Message | null {
    const value = JSON.parseBytes(ptr, len);
    if (value === null || !value.isObject) return null;
    return Message.fromObject(value.asObject());
  }

  toJSON(): string {
    return JSON.stringify(this.fields);
  }

  toString(): string {
    return this.toJSON();
  }

  // ---- reading ----

  /** Any parameter, e.g. "x-priority"; null when absent. */
  param(name: string): JSONValue | null {
    return this.fields.get(name);
  }

  /** A parameter that is a string; null when absent or of another type. */
  stringParam(name: string): string | null {
    return this.fields.getString(name);
  }

  /** The names of the user-defined parameters (those starting with "x-"), in order. */
  get userParams(): string[] {
    const names: string[] = [];
    const keys = this.fields.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i].startsWith("x-")) names.push(keys[i]);
    return names;
  }

  get performative(): string {
    const value = this.fields.getString("performative");
    return value !== null ? value : "";
  }
  set performative(value: string) {
    this.fields.setString("performative", value);
  }

  /** Whether the performative is `performative`. */
  is(performative: string): bool {
    return this.performative == performative;
  }

  get sender(): string | null {
    return this.fields.getString("sender");
  }

  /** Whether `name` sent it. */
  isFrom(name: string): bool {
    const sender = this.sender;
    return sender !== null && sender == name;
  }

  /** The receivers, whether written as one string or an array. */
  get receivers(): string[] {
    return names(this.fields.get("receiver"));
  }

  /** The first receiver, or null. */
  get receiver(): string | null {
    const all = this.receivers;
    return all.length > 0 ? all[0] : null;
  }

  get replyTo(): string[] {
    return names(this.fields.get("reply_to"));
  }

  /** The content, parsed; null when absent (a JSON null content is a JSONNull). */
  get content(): JSONValue | null {
    return this.fields.get("content");
  }
  set content(value: JSONValue | null) {
    if (value === null) this.fields.delete("content");
    else this.fields.set("content", value);
  }

  /** The content as JSON text, or null when absent. */
  get contentText(): string | null {
    const content = this.fields.get("content");
    return content === null ? null : JSON.stringify(content);
  }

  /** The content when it is a string, else null. */
  get contentString(): string | null {
    return this.fields.getString("content");
  }

  get conversationId(): string | null {
    return this.fields.getString("conversation_id");
  }
  get replyWith(): string | null {
    return this.fields.getString("reply_with");
  }
  get inReplyTo(): string | null {
    return this.fields.getString("in_reply_to");
  }
  get protocol(): string | null {
    return this.fields.getString("protocol");
  }
  get ontology(): string | null {
    return this.fields.getString("ontology");
  }
  get language(): string | null {
    return this.fields.getString("language");
  }
  get encoding(): string | null {
    return this.fields.getString("encoding");
  }
  /** RFC 3339 timestamp text, as sent. */
  get replyBy(): string | null {
    return this.fields.getString("reply_by");
  }
  get messageId(): string | null {
    return this.fields.getString("message_id");
  }

  // ---- building (each returns the message, so calls chain) ----

  to(receiver: string): Message {
    this.fields.setString("receiver", receiver);
    return this;
  }
  toAll(receivers: string[]): Message {
    this.fields.set("receiver", JSON.strings(receivers));
    return this;
  }
  withContent(value: JSONValue): Message {
    this.fields.set("content", value);
    return this;
  }
  /** Content given as JSON text; aborts when it is not JSON. */
  withContentText(json: string): Message {
    return this.withContent(JSON.parse(json));
  }
  withContentString(text: string): Message {
    return this.withContent(new JSONString(text));
  }
  withConversationId(value: string): Message {
    return this.withParam("conversation_id", new JSONString(value));
  }
  withReplyWith(value: string): Message {
    return this.withParam("reply_with", new JSONString(value));
  }
  withInReplyTo(value: string): Message {
    return this.withParam("in_reply_to", new JSONString(value));
  }
  withProtocol(value: string): Message {
    return this.withParam("protocol", new JSONString(value));
  }
  withOntology(value: string): Message {
    return this.withParam("ontology", new JSONString(value));
  }
  withLanguage(value: string): Message {
    return this.withParam("language", new JSONString(value));
  }
  withEncoding(value: string): Message {
    return this.withParam("encoding", new JSONString(value));
  }
  /** reply_by as RFC 3339 text. */
  withReplyBy(timestamp: string): Message {
    return this.withParam("reply_by", new JSONString(timestamp));
  }
  /** reply_by at `ms` milliseconds since the Unix epoch (see nowMs()). */
  withReplyByMs(ms: i64): Message {
    return this.withReplyBy(rfc3339(ms));
  }
  /** Any parameter; user-defined ones start with "x-". */
  withParam(name: string, value: JSONValue): Message {
    this.fields.set(name, value);
    return this;
  }

  /**
   * A new message answering this one: receiver = this sender, in_reply_to = this
   * reply_with, and the same conversation_id and protocol (each only when present).
   */
  makeReply(performative: string): Message {
    const answer = new Message(performative);
    const sender = this.sender;
    if (sender !== null) answer.to(sender);
    const conversation = this.conversationId;
    if (conversation !== null) answer.withConversationId(conversation);
    const replyWith = this.replyWith;
    if (replyWith !== null) answer.withInReplyTo(replyWith);
    const protocol = this.protocol;
    if (protocol !== null) answer.withProtocol(protocol);
    return answer;
  }
}

function names(value: JSONValue | null): string[] {
  const out: string[] = [];
  if (value === null) return out;
  if (value.kind == JSONKind.String) {
    out.push(value.asString());
  } else if (value.kind == JSONKind.Array) {
    const items = changetype<JSONArray>(value).items;
    for (let i = 0; i < items.length; i++) if (items[i].isString) out.push(items[i].asString());
  }
  return out;
}

/** Sends `message` (the host fills in sender, message_id and, if absent, conversation_id). */
export function send(message: Message): i32 {
  return sendJSON(message.fields);
}

/** Sends `original.makeReply(performative)` with `content` (when given); the host's status. */
export function reply(original: Message, performative: string, content: JSONValue | null = null): i32 {
  const answer = original.makeReply(performative);
  if (content !== null) answer.withContent(content);
  return send(answer);
}

/**
 * Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds, e.g.
 * 2026-11-25T10:15:00.123Z; RFC 3339 has four-digit years only, so instants
 * outside 0000..9999 are clamped.
 */
export function rfc3339(ms: i64): string {
  const first: i64 = -62167219200000; // 0000-01-01T00:00:00.000Z
  const last: i64 = 253402300799999; // 9999-12-31T23:59:59.999Z
  const dayMs: i64 = 86400000;
  if (ms < first) ms = first;
  if (ms > last) ms = last;
  let days = ms / dayMs;
  let inDay = ms % dayMs;
  if (inDay < 0) {
    inDay += dayMs;
    days--;
  }
  // Civil date from a day count (H. Hinnant, "chrono-compatible low-level date
  // algorithms"): 400-year eras starting on March 1st, so the leap day ends a year.
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const dayOfEra = z - era * 146097;
  const yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
  const dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const shifted = (5 * dayOfYear + 2) / 153;
  const day = dayOfYear - (153 * shifted + 2) / 5 + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return (
    pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(inDay / 3600000, 2) + ":" +
    pad((inDay / 60000) % 60, 2) + ":" + pad((inDay / 1000) % 60, 2) + "." + pad(inDay % 1000, 3) +
    "Z"
  );
}

function pad(value: i64, width: i32): string {
  return value.toString().padStart(width, "0");
}
