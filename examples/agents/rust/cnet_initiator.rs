//! cnet_initiator - the initiator's side of FIPA Contract Net (SC00029), on
//! `caxton::cnet::Initiator`, serving FIPA requests (SC00026) for it.
//!
//! `init` logs (info) "cnet-initiator ready".
//!
//! - `request` with content
//!   {"participants": ["p-000", ...], "task": {...}, "deadline_ms": 200}
//!   sends one `cfp` (protocol fipa-contract-net, reply_by = now + deadline_ms)
//!   with the task as content, and logs (info) "cfp <conv> to <n> participants".
//!   Bad content (participants not a non-empty array of strings, task not an
//!   object, deadline_ms not an integer >= 1) is answered `not-understood`
//!   {"reason": ...} with a warning.
//! - The answers are fed to the `Initiator`: when everyone has answered, or
//!   the platform's deadline notice arrives, the lowest "cost" wins
//!   (`accept-proposal`, `reject-proposal` to the others), logged (info)
//!   "awarded <conv> to <winner> at cost <cost>: <p> proposals, <r> refusals,
//!   <f> failures of <n>".
//! - The outcome answers the original request (threaded to it) and is stored
//!   under "outcome" and logged (info): when the work is done, `inform` with
//!   {"winner": <name>, "cost": <cost>, "result": <the winner's content.result>};
//!   otherwise `failure` {"reason": "no proposals"} or
//!   {"reason": "the winner <name> failed"} (stored as {"failed": <reason>}).
//! - Anything else about a round is logged (debug) with the reason it was
//!   ignored; other messages are logged (warn) and ignored.

use std::collections::BTreeMap;

use caxton::cnet::{Initiator, Step};
use caxton::json::{Number, Value};
use caxton::request::{self, Answer};
use caxton::{debug, export_agent, info, json, kv, warn, Agent, Init, Message, Performative};

#[derive(Default)]
struct Boss {
    initiator: Initiator,
    /// Each open round's request, to answer when it ends, and the winning cost.
    rounds: BTreeMap<String, (Message, Value)>,
}

/// The participants, task and deadline of a kick; or why it is not understood.
fn read_kick(content: &Value) -> Result<(Vec<String>, Value, i64), &'static str> {
    let names: Option<Vec<String>> = content["participants"]
        .as_array()
        .filter(|list| !list.is_empty())
        .and_then(|list| {
            list.iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        });
    let names = names.ok_or("participants must be a non-empty array of agent names")?;
    let task = content["task"].clone();
    if task.as_object().is_none() {
        return Err("task must be an object");
    }
    match content["deadline_ms"] {
        Value::Number(Number::Int(ms)) if ms >= 1 => Ok((names, task, ms)),
        _ => Err("deadline_ms must be an integer >= 1"),
    }
}

impl Boss {
    fn kick(&mut self, message: Message) -> caxton::Result<()> {
        let (names, task, deadline_ms) = match read_kick(message.content()) {
            Ok(kick) => kick,
            Err(reason) => {
                warn!("cnet-initiator: bad request: {}", reason);
                return request::answer(&message, Answer::NotUnderstood(reason.to_string()));
            }
        };
        let conversation = self
            .initiator
            .call_for_proposals(&names, task, deadline_ms)?;
        info!("cfp {} to {} participants", conversation, names.len());
        self.rounds.insert(conversation, (message, Value::Null));
        Ok(())
    }

    /// Ends a round: stores and logs the outcome, answers the request that started it.
    fn conclude(&mut self, conversation: &str, answer: Answer) -> caxton::Result<()> {
        let outcome = match &answer {
            Answer::Done(result) => result.clone(),
            Answer::Failed(reason) => json!({ "failed": reason.as_str() }),
            _ => Value::Null,
        };
        kv::set_json("outcome", &outcome)?;
        info!("{}", outcome);
        self.initiator.forget(conversation);
        match self.rounds.remove(conversation) {
            Some((kick, _)) => request::answer(&kick, answer),
            None => Ok(()),
        }
    }
}

impl Agent for Boss {
    fn init(&mut self, _init: &Init) -> caxton::Result<()> {
        info!("cnet-initiator ready");
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        match self.initiator.handle(&message)? {
            Step::NotMine if message.is(Performative::Request) => self.kick(message),
            Step::NotMine => {
                warn!(
                    "cnet-initiator: ignoring {}",
                    message.performative_str().unwrap_or("?")
                );
                Ok(())
            }
            Step::Waiting => Ok(()),
            Step::Ignored(why) => {
                debug!("cnet-initiator: {}", why);
                Ok(())
            }
            Step::Awarded {
                conversation_id,
                winner,
                tally,
                ..
            } => {
                info!(
                    "awarded {} to {} at cost {}: {} proposals, {} refusals, {} failures of {}",
                    conversation_id,
                    winner.participant,
                    winner.content["cost"],
                    tally.proposals,
                    tally.refusals,
                    tally.failures,
                    tally.expected
                );
                if let Some((_, cost)) = self.rounds.get_mut(&conversation_id) {
                    *cost = winner.content["cost"].clone();
                }
                Ok(())
            }
            Step::NoProposals {
                conversation_id, ..
            } => self.conclude(&conversation_id, Answer::Failed("no proposals".into())),
            Step::Done {
                conversation_id,
                winner,
                result,
            } => {
                let cost = self
                    .rounds
                    .get(&conversation_id)
                    .map(|(_, cost)| cost.clone());
                let outcome =
                    json!({"winner": winner, "cost": cost, "result": (result["result"].clone())});
                self.conclude(&conversation_id, Answer::Done(outcome))
            }
            Step::Failed {
                conversation_id,
                winner,
                reason,
            } => {
                warn!(
                    "cnet-initiator: {} failed in {}: {}",
                    winner, conversation_id, reason
                );
                self.conclude(
                    &conversation_id,
                    Answer::Failed(format!("the winner {} failed", winner)),
                )
            }
        }
    }
}

export_agent!(Boss);
