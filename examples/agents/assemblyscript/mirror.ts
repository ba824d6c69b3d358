// mirror - shows what the SDK reads from a message: it answers every message that
// has a sender with an `inform` whose content is
//   {"message": <the whole message, as parsed and written again>,
//    "performative", "sender", "receivers": [...], "reply_to": [...],
//    "conversation_id", "reply_with", "in_reply_to", "protocol", "ontology",
//    "language", "encoding", "reply_by", "message_id" (null when absent),
//    "content_text": <the content as JSON text, or null>,
//    "content_equal": <whether the content, written and parsed again, is equal>,
//    "user_params": {<every x-* parameter>}}
// and carries the same x-* parameters itself.
import { Agent, JSON, JSONObject, JSONValue, Message, Performative, registerHandler, send } from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

function orNull(value: string | null): JSONValue {
  return value !== null ? JSON.str(value) : JSON.nul();
}

function mirror(message: Message): void {
  if (message.sender === null) return;
  const content = message.content;
  const text = message.contentText;
  let equal = true;
  if (content !== null && text !== null) equal = JSON.parse(text).equals(content);
  const user = new JSONObject();
  const answer = message.makeReply(Performative.INFORM);
  const names = message.userParams;
  for (let i = 0; i < names.length; i++) {
    user.set(names[i], message.param(names[i])!);
    answer.withParam(names[i], message.param(names[i])!);
  }
  const seen = JSON.object()
    .set("message", JSON.parse(message.toJSON()))
    .setString("performative", message.performative)
    .set("sender", orNull(message.sender))
    .set("receivers", JSON.strings(message.receivers))
    .set("reply_to", JSON.strings(message.replyTo))
    .set("conversation_id", orNull(message.conversationId))
    .set("reply_with", orNull(message.replyWith))
    .set("in_reply_to", orNull(message.inReplyTo))
    .set("protocol", orNull(message.protocol))
    .set("ontology", orNull(message.ontology))
    .set("language", orNull(message.language))
    .set("encoding", orNull(message.encoding))
    .set("reply_by", orNull(message.replyBy))
    .set("message_id", orNull(message.messageId))
    .set("content_text", orNull(text))
    .setBool("content_equal", equal)
    .set("user_params", user);
  send(answer.withContent(seen));
}

registerHandler((message: Message, agent: Agent): void => mirror(message));
