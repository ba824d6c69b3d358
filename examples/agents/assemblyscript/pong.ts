// pong - answers {"ping":N} requests with {"pong":N}, as examples/agents/c/pong.c does.
//
// init logs (info) "pong ready". A `request` whose content is {"ping":N} (N an
// integer literal) is answered with an `inform` {"pong":N}, N's digits as received,
// threaded to the request (conversation_id, in_reply_to), and logged (info) "pong N".
// A `request` with other content gets `not-understood` carrying that content (null
// if absent) and a warning; one without a sender only a warning. Other
// performatives are ignored.
import { Agent, JSON, JSONNumber, log, Message, Performative, register, reply } from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Pong extends Agent {
  init(): void {
    log.info("pong ready");
  }

  handle(message: Message): void {
    if (!message.is(Performative.REQUEST)) return;
    if (message.sender === null) {
      log.warn("pong: message has no sender");
      return;
    }
    const content = message.content;
    const ping = content !== null ? content.get("ping") : null;
    if (ping === null || !ping.isNumber || !changetype<JSONNumber>(ping).isIntegerLiteral) {
      reply(message, Performative.NOT_UNDERSTOOD, content !== null ? content : JSON.nul());
      log.warn('pong: expected content {"ping":N}');
      return;
    }
    // The same number value goes back, so its digits are copied exactly.
    if (reply(message, Performative.INFORM, JSON.object().set("pong", ping)) < 0) {
      log.warn("pong: send rejected");
    }
    log.info("pong " + changetype<JSONNumber>(ping).text);
  }
}

register(new Pong());
