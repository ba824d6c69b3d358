//! cnet_participant - the participant's side of FIPA Contract Net (SC00029,
//! protocol `fipa-contract-net`), on `caxton::cnet`: it bids a fixed cost for
//! any task and, when awarded, sums the task's numbers.
//!
//! Config (read by `init`; a config that breaks these rules fails the start):
//!   "cost": integer         the price it proposes; required unless "refuse" is true
//!   "refuse": bool          answer every cfp with `refuse`
//!   "late_ms": integer >= 0 busy-wait that long (on now_ms) before proposing
//!   "fail": bool            panic on every cfp (the host answers `failure` in its name)
//!   "fail_work": bool       propose, but panic when awarded the work
//! It logs (info) "cnet-participant ready".
//!
//! - `cfp` with content {"numbers": [integers...]}: the task is kept in kv
//!   under "task/<conversation_id>" and it proposes {"cost": <cost>}, logging
//!   (info) "proposed <cost> in <conv>"; a malformed task is refused with
//!   {"reason":"task needs numbers: an array of integers"}, and with "refuse"
//!   every cfp gets {"reason":"not taking work"}.
//! - `accept-proposal`: sums the kept task and answers `inform` {"result": <sum>},
//!   logging (info) "did the work in <conv>: <sum>", then forgets the task;
//!   without a kept task, or when the sum overflows, `failure` with a reason.
//! - `reject-proposal`: forgets the task and logs (info) "rejected in <conv>".
//! - anything else is logged (warn) and ignored.
//!
//! The same messages, logs and kv state as examples/agents/c/cnet_participant.c.

use caxton::cnet::{self, Bid, Participant, Work};
use caxton::json::{Number, Value};
use caxton::{export_agent, info, json, kv, warn, Agent, Init, Message, Performative};

#[derive(Default)]
struct Adder {
    cost: i64,
    refuse: bool,
    late_ms: i64,
    fail: bool,
    fail_work: bool,
}

fn flag(init: &Init, key: &str) -> caxton::Result<bool> {
    match init.config(key) {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        _ => Err("cnet-participant: refuse, fail and fail_work must be booleans".into()),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(Number::Int(n)) => Some(*n),
        _ => None,
    }
}

/// The sum of the task's numbers; `None` unless they are all integers and it fits.
fn sum_numbers(task: &Value) -> Option<i64> {
    task["numbers"]
        .as_array()?
        .iter()
        .try_fold(0i64, |total, n| total.checked_add(integer(n)?))
}

fn task_key(message: &Message) -> String {
    format!("task/{}", message.conversation_id().unwrap_or(""))
}

impl Participant for Adder {
    fn bid(&mut self, cfp: &Message) -> caxton::Result<Bid> {
        if self.fail {
            warn!("cnet-participant: failing on cfp as configured");
            panic!("failing on cfp as configured");
        }
        if self.refuse {
            return Ok(Bid::Refuse("not taking work".into()));
        }
        // Checked now rather than at the award: a task it cannot do must not win.
        if sum_numbers(cfp.content()).is_none() {
            return Ok(Bid::Refuse(
                "task needs numbers: an array of integers".into(),
            ));
        }
        kv::set_json(&task_key(cfp), cfp.content())?;
        if self.late_ms > 0 {
            let until = caxton::now_ms() + self.late_ms;
            while caxton::now_ms() < until {}
        }
        info!(
            "proposed {} in {}",
            self.cost,
            cfp.conversation_id().unwrap_or("")
        );
        Ok(Bid::Propose(json!({ "cost": self.cost })))
    }

    fn work(&mut self, accept: &Message) -> caxton::Result<Work> {
        if self.fail_work {
            warn!("cnet-participant: failing on the work as configured");
            panic!("failing on the work as configured");
        }
        let key = task_key(accept);
        let task = match kv::get_json(&key)? {
            Some(task) => task,
            None => return Ok(Work::Failed("no task in this conversation".into())),
        };
        let sum = match sum_numbers(&task) {
            Some(sum) => sum,
            None => return Ok(Work::Failed("the sum overflows".into())),
        };
        kv::delete(&key)?;
        info!(
            "did the work in {}: {}",
            accept.conversation_id().unwrap_or(""),
            sum
        );
        Ok(Work::Done(json!({ "result": sum })))
    }

    fn rejected(&mut self, reject: &Message) -> caxton::Result<()> {
        kv::delete(&task_key(reject))?;
        info!("rejected in {}", reject.conversation_id().unwrap_or(""));
        Ok(())
    }
}

impl Agent for Adder {
    fn init(&mut self, init: &Init) -> caxton::Result<()> {
        self.refuse = flag(init, "refuse")?;
        self.fail = flag(init, "fail")?;
        self.fail_work = flag(init, "fail_work")?;
        match init.config("cost") {
            Value::Null if self.refuse => {}
            Value::Null => return Err("cnet-participant: config.cost is required".into()),
            cost => {
                self.cost =
                    integer(cost).ok_or("cnet-participant: config.cost must be an integer")?
            }
        }
        match init.config("late_ms") {
            Value::Null => {}
            late => match integer(late) {
                Some(ms) if ms >= 0 => self.late_ms = ms,
                _ => return Err("cnet-participant: config.late_ms must be an integer >= 0".into()),
            },
        }
        info!("cnet-participant ready");
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        let act = message.performative();
        let ours = matches!(
            act,
            Some(Performative::Cfp | Performative::AcceptProposal | Performative::RejectProposal)
        );
        if !ours {
            warn!(
                "cnet-participant: ignoring {}",
                message.performative_str().unwrap_or("?")
            );
            return Ok(());
        }
        // The host gives every message a conversation_id, so only a foreign sender lacks one.
        if message.conversation_id().is_none() || message.sender().is_none() {
            warn!("cnet-participant: ignoring a message without sender or conversation_id");
            return Ok(());
        }
        cnet::participate(self, &message)?;
        Ok(())
    }
}

export_agent!(Adder);
