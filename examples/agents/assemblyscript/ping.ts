// ping - plays `rounds` rounds of ping-pong with `peer`, as examples/agents/c/ping.c does.
//
// init reads config {"peer": "pong", "rounds": 3} (both optional, these are the
// defaults); a peer that is not a string or rounds that are not an integer >= 1
// fail the start. It logs (info) "ping ready".
// - `request` (the kick, any content): the counter goes back to 0 and {"ping":1}
//   is requested from the peer; logs (info) "ping 1".
// - `inform` {"pong":N}: the counter becomes N. Below `rounds` it requests
//   {"ping":N+1} in the inform's conversation and logs "ping N+1"; otherwise it
//   logs (info) "done after N rounds" and stores N under kv key "rounds_done".
// - an `inform` with other content logs a warning; other performatives are ignored.
import { Agent, JSON, kv, log, Message, Performative, register, send } from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Ping extends Agent {
  peer: string = "pong";
  rounds: i64 = 3;
  counter: i64 = 0;

  init(): void {
    const peer = this.config.get("peer");
    if (peer !== null) {
      if (!peer.isString) throw new Error("ping: config.peer must be a string");
      this.peer = peer.asString();
    }
    const rounds = this.config.get("rounds");
    if (rounds !== null) {
      if (!rounds.isInteger || rounds.asInteger() < 1) {
        throw new Error("ping: config.rounds must be an integer >= 1");
      }
      this.rounds = rounds.asInteger();
    }
    log.info("ping ready");
  }

  handle(message: Message): void {
    if (message.is(Performative.REQUEST)) {
      this.counter = 0;
      this.sendPing(1, null);
      return;
    }
    if (!message.is(Performative.INFORM)) return;
    const content = message.content;
    const pong = content !== null ? content.get("pong") : null;
    if (pong === null || !pong.isInteger) {
      log.warn('ping: ignoring inform without {"pong":N}');
      return;
    }
    this.counter = pong.asInteger();
    if (this.counter < this.rounds) {
      this.sendPing(this.counter + 1, message.conversationId);
      return;
    }
    log.info("done after " + this.counter.toString() + " rounds");
    if (kv.setString("rounds_done", this.counter.toString()) < 0) {
      log.warn("ping: kv_set rounds_done failed");
    }
  }

  sendPing(n: i64, conversation: string | null): void {
    const request = new Message(Performative.REQUEST)
      .to(this.peer)
      .withContent(JSON.object().setInteger("ping", n));
    if (conversation !== null) request.withConversationId(conversation);
    if (send(request) < 0) log.warn("ping: send rejected");
    log.info("ping " + n.toString());
  }
}

register(new Ping());
