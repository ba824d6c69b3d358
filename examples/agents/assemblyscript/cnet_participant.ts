// cnet_participant - the participant's side of FIPA Contract Net (SC00029), as
// examples/agents/c/cnet_participant.c: it bids a fixed cost for any task and,
// when awarded, sums the task's numbers. ContractNetParticipant does the protocol.
//
// config: "cost" (integer; required unless "refuse"), "refuse" (bool: refuse every
// cfp), "late_ms" (integer >= 0: busy-wait before proposing), "fail" (bool: trap
// on every cfp), "fail_work" (bool: propose, then trap when awarded). A config
// breaking these rules fails the start. init logs (info) "cnet-participant ready".
//
// - cfp with content {"numbers": [integers...]}: `propose` {"cost": <cost>}, logged
//   (info) "proposed <cost> in <conv>"; `refuse` {"reason": "not taking work"} when
//   configured to, {"reason": "task needs numbers: an array of integers"} for a bad task.
// - accept-proposal: `inform` {"result": <sum>}, logged "did the work in <conv>: <sum>";
//   `failure` {"reason": "the sum overflows"} when it does.
// - reject-proposal: logged "rejected in <conv>".
// Every answer carries protocol fipa-contract-net, the conversation_id and in_reply_to.
import {
  Bid,
  ContractNetParticipant,
  JSON,
  JSONValue,
  log,
  Message,
  nowMs,
  Outcome,
  register,
} from "caxton-sdk/assembly";
export { caxton_alloc, caxton_init, caxton_handle } from "caxton-sdk/assembly";

class Summer extends ContractNetParticipant {
  cost: i64 = 0;
  refuse: bool = false;
  fail: bool = false;
  failWork: bool = false;
  lateMs: i64 = 0;

  init(): void {
    this.refuse = this.flag("refuse");
    this.fail = this.flag("fail");
    this.failWork = this.flag("fail_work");
    const cost = this.config.get("cost");
    if (cost !== null) {
      if (!cost.isInteger) throw new Error("cnet-participant: config.cost must be an integer");
      this.cost = cost.asInteger();
    } else if (!this.refuse) {
      throw new Error("cnet-participant: config.cost is required");
    }
    const late = this.config.get("late_ms");
    if (late !== null) {
      if (!late.isInteger || late.asInteger() < 0) {
        throw new Error("cnet-participant: config.late_ms must be an integer >= 0");
      }
      this.lateMs = late.asInteger();
    }
    log.info("cnet-participant ready");
  }

  flag(key: string): bool {
    const value = this.config.get(key);
    if (value === null) return false;
    if (!value.isBool) throw new Error("cnet-participant: " + key + " must be a boolean");
    return value.asBool();
  }

  bid(cfp: Message): Bid {
    if (this.fail) throw new Error("cnet-participant: failing on cfp as configured");
    if (this.refuse) return Bid.refuse("not taking work");
    const task = cfp.content;
    // Checked now rather than at the award: a task it cannot do must not win.
    if (task === null || sum(task) === null) {
      return Bid.refuse("task needs numbers: an array of integers");
    }
    if (this.lateMs > 0) {
      const until = nowMs() + this.lateMs;
      while (nowMs() < until) {}
    }
    log.info("proposed " + this.cost.toString() + " in " + cfp.conversationId!);
    return Bid.propose(JSON.object().setInteger("cost", this.cost));
  }

  perform(accept: Message, task: JSONValue): Outcome {
    if (this.failWork) throw new Error("cnet-participant: failing on the work as configured");
    const total = sum(task);
    if (total === null) return Outcome.failed("the sum overflows");
    log.info("did the work in " + accept.conversationId! + ": " + total.toString());
    return Outcome.done(JSON.object().set("result", total));
  }

  rejected(reject: Message, task: JSONValue | null): void {
    log.info("rejected in " + reject.conversationId!);
  }
}

/** The sum of task.numbers as a JSON integer; null when not all integers, or on overflow. */
function sum(task: JSONValue): JSONValue | null {
  const numbers = task.get("numbers");
  if (numbers === null || !numbers.isArray) return null;
  const items = numbers.asArray().items;
  let total: i64 = 0;
  for (let i = 0; i < items.length; i++) {
    if (!items[i].isInteger) return null;
    const n = items[i].asInteger();
    const next = total + n;
    // Signed overflow: both operands share a sign that the result lacks.
    if (((total ^ next) & (n ^ next)) < 0) return null;
    total = next;
  }
  return JSON.integer(total);
}

register(new Summer());
