// echo - answers every message with an `inform` carrying the same content.
//
// init logs (info) "echo ready". Each message is answered with
//   {"performative":"inform","receiver":<sender>,"content":<content; null if absent>
//    [,"conversation_id":...][,"in_reply_to":<reply_with>][,"protocol":...]}
// (Message.makeReply threads it). No sender: a warning, and nothing is sent.
import { Agent, JSON, log, Message, Performative, register, reply } from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Echo extends Agent {
  init(): void {
    log.info("echo ready");
  }

  handle(message: Message): void {
    if (message.sender === null) {
      log.warn("echo: message has no sender");
      return;
    }
    const content = message.content;
    if (reply(message, Performative.INFORM, content !== null ? content : JSON.nul()) < 0) {
      log.warn("echo: send rejected");
    }
  }
}

register(new Echo());
