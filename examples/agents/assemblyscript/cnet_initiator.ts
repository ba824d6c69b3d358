// cnet_initiator - the initiator's side of FIPA Contract Net (SC00029) on
// ContractNetInitiator: one call for proposals, the cheapest proposal wins.
//
// init logs (info) "cnet-initiator ready".
// - `request` (the kick) with content {"participants": [...], "task": {...},
//   "deadline_ms": 200} sends one cfp (conversation "<name>-<n>", reply_by now +
//   deadline_ms) and logs (info) "cfp <conv> to <n> participants". Bad content is
//   answered with `not-understood` {"reason": ...}.
// - The decision (when all answered, or at the platform's deadline notice) sends
//   accept-proposal to the lowest cost and reject-proposal to the other proposers,
//   and logs (info) "awarded <conv> to <winner> at cost <cost>: <p> proposals,
//   <r> refusals, <f> failures".
// - The winner's inform stores {"winner","cost","result","proposals"} under kv
//   "outcome" and logs it; its failure stores {"winner","failed":true,"reason"};
//   no proposal at all stores {"outcome":"no-proposals"}.
import {
  ContractNetInitiator,
  FipaRequest,
  JSON,
  JSONObject,
  kv,
  log,
  Message,
  Performative,
  Proposal,
  register,
} from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Auctioneer extends ContractNetInitiator {
  init(): void {
    log.info("cnet-initiator ready");
  }

  other(message: Message): void {
    if (!message.is(Performative.REQUEST)) {
      log.warn("cnet-initiator: ignoring " + message.performative);
      return;
    }
    const content = message.content;
    const participants = content !== null ? content.get("participants") : null;
    const names: string[] = [];
    if (participants !== null && participants.isArray) {
      const items = participants.asArray().items;
      for (let i = 0; i < items.length; i++) {
        if (!items[i].isString) break;
        names.push(items[i].asString());
      }
      if (names.length != items.length) names.length = 0;
    }
    if (names.length == 0) {
      this.badKick(message, "participants must be a non-empty array of agent names");
      return;
    }
    const task = content!.get("task");
    if (task === null || !task.isObject) {
      this.badKick(message, "task must be an object");
      return;
    }
    const deadline = content!.get("deadline_ms");
    if (deadline === null || !deadline.isInteger || deadline.asInteger() < 1) {
      this.badKick(message, "deadline_ms must be an integer >= 1");
      return;
    }
    const conversation = this.callForProposals(names, task, deadline.asInteger());
    if (conversation.length == 0) {
      log.error("cnet-initiator: the cfp was not sent");
      return;
    }
    log.info("cfp " + conversation + " to " + names.length.toString() + " participants");
  }

  badKick(message: Message, reason: string): void {
    log.warn("cnet-initiator: bad request: " + reason);
    if (message.sender !== null) FipaRequest.notUnderstood(message, reason);
  }

  awarded(conversation: string, winner: Proposal, proposals: i32, refusals: i32, failures: i32): void {
    log.info("awarded " + conversation + " to " + winner.sender + " at cost " +
             winner.content.get("cost")!.toString() + ": " + proposals.toString() +
             " proposals, " + refusals.toString() + " refusals, " + failures.toString() +
             " failures");
  }

  noProposals(conversation: string, refusals: i32, failures: i32): void {
    this.store(JSON.object().setString("outcome", "no-proposals"));
  }

  completed(conversation: string, winner: Proposal, result: Message): void {
    const content = result.content;
    const value = content !== null ? content.get("result") : null;
    this.store(JSON.object()
      .setString("winner", winner.sender)
      .set("cost", winner.content.get("cost")!)
      .set("result", value !== null ? value : JSON.nul()));
  }

  failed(conversation: string, winner: Proposal, failure: Message): void {
    const content = failure.content;
    const outcome = JSON.object()
      .setString("winner", winner.sender)
      .setBool("failed", true)
      .set("reason", content !== null ? content : JSON.nul());
    kv.setJSON("outcome", outcome);
    log.warn(outcome.toString());
  }

  store(outcome: JSONObject): void {
    kv.setJSON("outcome", outcome);
    log.info(outcome.toString());
  }
}

register(new Auctioneer());
