//! The FIPA contract-net interaction protocol (SC00029), both sides.
//!
//! The initiator sends a `cfp` (call for proposals) with a task to several
//! participants and a `reply_by` deadline; each answers `propose` or `refuse`;
//! when all have answered, or the platform's deadline notice arrives, the
//! initiator accepts the best proposal (`accept-proposal`) and rejects the
//! others (`reject-proposal`); the winner does the work and answers `inform`
//! (done) or `failure`.
//!
//! Participant: implement [`Participant`] and pass messages to [`participate`]:
//!
//! ```no_run
//! use caxton::cnet::{self, Bid, Participant, Work};
//! use caxton::{json, Message};
//!
//! #[derive(Default)]
//! struct Adder;
//!
//! impl Participant for Adder {
//!     fn bid(&mut self, cfp: &Message) -> caxton::Result<Bid> {
//!         Ok(Bid::Propose(json!({"cost": 3})))
//!     }
//!     fn work(&mut self, accept: &Message) -> caxton::Result<Work> {
//!         Ok(Work::Done(json!({"result": 42})))
//!     }
//! }
//! # fn handle(adder: &mut Adder, message: Message) -> caxton::Result<()> {
//! if !cnet::participate(adder, &message)? {
//!     caxton::warn!("not a contract-net message");
//! }
//! # Ok(()) }
//! ```
//!
//! Initiator: keep an [`Initiator`] in the agent, start rounds with
//! [`Initiator::call_for_proposals`] and feed it every message with
//! [`Initiator::handle`]; it sends the awards and tells what happened as a
//! [`Step`]. Its state lives in the agent's memory (not in `kv`), so rounds
//! open when the agent restarts are lost.

use crate::json::Value;
use crate::request::reason_content;
use crate::{now_ms, rfc3339, send, unique_id, Message, Performative, Result, PLATFORM};

/// The protocol's name, for the `protocol` parameter.
pub const PROTOCOL: &str = "fipa-contract-net";

/// A participant's answer to a `cfp`.
#[derive(Clone, Debug, PartialEq)]
pub enum Bid {
    /// `propose`, with the proposal as content (e.g. `{"cost": 3}`).
    Propose(Value),
    /// `refuse`, content `{"reason": ...}`.
    Refuse(String),
}

/// The outcome of the work, once awarded.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    /// `inform`, with the result as content.
    Done(Value),
    /// `failure`, content `{"reason": ...}`.
    Failed(String),
}

/// The participant's side: decide on a `cfp`, do the work on `accept-proposal`.
pub trait Participant {
    /// Propose or refuse the task in `cfp` (its content). Keep what the work
    /// will need (in the agent, or in `kv` under the conversation id).
    fn bid(&mut self, cfp: &Message) -> Result<Bid>;

    /// Do the work the `accept-proposal` awards (same conversation id as the cfp).
    fn work(&mut self, accept: &Message) -> Result<Work>;

    /// The proposal was not chosen; forget the task. The default does nothing.
    fn rejected(&mut self, reject: &Message) -> Result<()> {
        let _ = reject;
        Ok(())
    }
}

/// Plays the participant's side for `message`: a `cfp` is answered with the
/// [`Bid`], an `accept-proposal` with the [`Work`]'s `inform` or `failure`,
/// a `reject-proposal` goes to [`Participant::rejected`]. Returns `false`,
/// doing nothing, for any other message.
///
/// Answers are threaded to the message they answer ([`Message::reply`]) and
/// carry protocol `fipa-contract-net`; a proposal's `reply_with` is
/// `<name>/<conversation_id>`, which the award quotes.
pub fn participate<P: Participant + ?Sized>(
    participant: &mut P,
    message: &Message,
) -> Result<bool> {
    let answer = |performative: Performative| {
        message
            .reply(performative)
            .with_protocol(message.protocol().unwrap_or(PROTOCOL))
    };
    match message.performative() {
        Some(Performative::Cfp) => {
            let reply = match participant.bid(message)? {
                Bid::Propose(proposal) => {
                    let tag = match message.conversation_id() {
                        Some(conversation) => format!("{}/{}", crate::name(), conversation),
                        None => unique_id("proposal"),
                    };
                    answer(Performative::Propose)
                        .with_reply_with(tag)
                        .with_content(proposal)
                }
                Bid::Refuse(reason) => {
                    answer(Performative::Refuse).with_content(reason_content(&reason))
                }
            };
            send(&reply)?;
        }
        Some(Performative::AcceptProposal) => {
            let reply = match participant.work(message)? {
                Work::Done(result) => answer(Performative::Inform).with_content(result),
                Work::Failed(reason) => {
                    answer(Performative::Failure).with_content(reason_content(&reason))
                }
            };
            send(&reply)?;
        }
        Some(Performative::RejectProposal) => participant.rejected(message)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// A proposal received by the initiator.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// Who proposed.
    pub participant: String,
    /// The `propose` message's content.
    pub content: Value,
    /// Its `reply_with`, which the award quotes as `in_reply_to`.
    pub reply_with: Option<String>,
}

/// How one round's participants answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Participants the cfp went to.
    pub expected: usize,
    /// `propose` answers.
    pub proposals: usize,
    /// `refuse` answers.
    pub refusals: usize,
    /// `failure` or `not-understood` answers, and the platform's failures to deliver.
    pub failures: usize,
}

/// What [`Initiator::handle`] made of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Not about any round of this initiator: handle it yourself.
    NotMine,
    /// An answer was counted; the round still waits for others.
    Waiting,
    /// About a round, but nothing to do: the reason says why (a stranger, a
    /// second answer, a proposal after the decision, which was rejected).
    Ignored(String),
    /// Decided: `accept-proposal` went to the winner, `reject-proposal` to
    /// every other proposer.
    Awarded {
        /// The round.
        conversation_id: String,
        /// The chosen proposal.
        winner: Proposal,
        /// The other proposers.
        rejected: Vec<String>,
        /// How everyone answered.
        tally: Tally,
    },
    /// Decided without an acceptable proposal; the round is over.
    NoProposals {
        /// The round.
        conversation_id: String,
        /// How everyone answered.
        tally: Tally,
    },
    /// The winner's `inform`: the round is over.
    Done {
        /// The round.
        conversation_id: String,
        /// Who did the work.
        winner: String,
        /// The `inform`'s content.
        result: Value,
    },
    /// The winner's `failure` (or the platform's, in its name): the round is over.
    Failed {
        /// The round.
        conversation_id: String,
        /// Who failed.
        winner: String,
        /// The `failure`'s content.
        reason: Value,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Awarded,
    Done,
}

#[derive(Clone, Debug)]
struct Round {
    conversation_id: String,
    cfp_reply_with: String,
    accept_reply_with: String,
    participants: Vec<String>,
    answered: Vec<String>,
    platform_failures: usize,
    proposals: Vec<Proposal>,
    tally: Tally,
    phase: Phase,
    winner: Option<String>,
}

/// Scores a proposal for [`Initiator`]: the lowest score wins; `None` means
/// the proposal is not acceptable.
pub type Score = fn(&Proposal) -> Option<f64>;

/// The default [`Score`]: the proposal's numeric `"cost"`.
pub fn lowest_cost(proposal: &Proposal) -> Option<f64> {
    proposal.content["cost"].as_f64()
}

/// The initiator's side: any number of concurrent rounds.
#[derive(Clone)]
pub struct Initiator {
    rounds: Vec<Round>,
    score: Score,
}

impl std::fmt::Debug for Initiator {
    // By hand: Rust 1.63 has no Debug for higher-ranked fn pointers such as `Score`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

impl Default for Initiator {
    /// An initiator that picks the lowest `"cost"`.
    fn default() -> Initiator {
        Initiator::new(lowest_cost)
    }
}

impl Initiator {
    /// An initiator that picks the proposal with the lowest `score` (of equal
    /// scores, the first received).
    pub fn new(score: Score) -> Initiator {
        Initiator {
            rounds: Vec::new(),
            score,
        }
    }

    /// Sends one `cfp` with `task` as content to `participants`, answers due
    /// `deadline_ms` from now (`reply_by`); returns the new round's
    /// conversation id. The platform sends a deadline notice when `reply_by`
    /// passes, which [`Initiator::handle`] turns into the decision.
    pub fn call_for_proposals<S: AsRef<str>>(
        &mut self,
        participants: &[S],
        task: Value,
        deadline_ms: i64,
    ) -> Result<String> {
        let names: Vec<String> = participants
            .iter()
            .map(|p| p.as_ref().to_string())
            .collect();
        if names.is_empty() {
            return Err(crate::Error::msg("a call for proposals needs participants"));
        }
        let conversation_id = unique_id("cnet");
        let cfp_reply_with = format!("{}-cfp", conversation_id);
        let cfp = Message::new(Performative::Cfp)
            .to_all(names.iter().cloned())
            .with_protocol(PROTOCOL)
            .with_conversation_id(conversation_id.clone())
            .with_reply_with(cfp_reply_with.clone())
            .with_reply_by(rfc3339(now_ms().saturating_add(deadline_ms)))
            .with_content(task);
        send(&cfp)?;
        let mut distinct: Vec<String> = Vec::new();
        for name in names {
            if !distinct.contains(&name) {
                distinct.push(name);
            }
        }
        self.rounds.push(Round {
            accept_reply_with: format!("{}-accept", conversation_id),
            conversation_id: conversation_id.clone(),
            cfp_reply_with,
            tally: Tally {
                expected: distinct.len(),
                ..Tally::default()
            },
            participants: distinct,
            answered: Vec::new(),
            platform_failures: 0,
            proposals: Vec::new(),
            phase: Phase::Open,
            winner: None,
        });
        Ok(conversation_id)
    }

    /// Whether the round `conversation_id` is known and not over.
    pub fn is_open(&self, conversation_id: &str) -> bool {
        self.rounds
            .iter()
            .any(|r| r.conversation_id == conversation_id && r.phase != Phase::Done)
    }

    /// Forgets a round (after that, its messages are [`Step::NotMine`]).
    pub fn forget(&mut self, conversation_id: &str) {
        self.rounds.retain(|r| r.conversation_id != conversation_id);
    }

    /// Takes one message: counts answers, decides when every participant has
    /// answered or the deadline notice comes, sends the award, and reports
    /// the winner's outcome.
    pub fn handle(&mut self, message: &Message) -> Result<Step> {
        let conversation = match message.conversation_id() {
            Some(c) => c,
            None => return Ok(Step::NotMine),
        };
        let score = self.score;
        let round = match self
            .rounds
            .iter_mut()
            .find(|r| r.conversation_id == conversation)
        {
            Some(round) => round,
            None => return Ok(Step::NotMine),
        };
        let sender = message.sender().unwrap_or("");
        let act = message.performative();
        if sender == PLATFORM {
            return round.from_platform(message, act, score);
        }
        if !round.participants.iter().any(|p| p == sender) {
            return Ok(Step::Ignored(format!("{} is not a participant", sender)));
        }
        if round.phase != Phase::Open {
            return round.after_decision(message, sender, act);
        }
        if round.answered.iter().any(|p| p == sender) {
            return Ok(Step::Ignored(format!("a second answer from {}", sender)));
        }
        match act {
            Some(Performative::Propose) => {
                round.tally.proposals += 1;
                round.proposals.push(Proposal {
                    participant: sender.to_string(),
                    content: message.content().clone(),
                    reply_with: message.reply_with().map(str::to_string),
                });
            }
            Some(Performative::Refuse) => round.tally.refusals += 1,
            Some(Performative::Failure | Performative::NotUnderstood) => round.tally.failures += 1,
            _ => {
                let what = message.performative_str().unwrap_or("?");
                return Ok(Step::Ignored(format!(
                    "a {} from {} while bidding",
                    what, sender
                )));
            }
        }
        round.answered.push(sender.to_string());
        if round.answered.len() + round.platform_failures >= round.participants.len() {
            round.decide(score)
        } else {
            Ok(Step::Waiting)
        }
    }
}

impl Round {
    fn from_platform(
        &mut self,
        message: &Message,
        act: Option<Performative>,
        score: Score,
    ) -> Result<Step> {
        let is_deadline = message.get("x-caxton-event").and_then(Value::as_str) == Some("deadline");
        let in_reply_to = message.in_reply_to();
        match (self.phase, act) {
            (Phase::Open, Some(Performative::Inform)) if is_deadline => self.decide(score),
            (Phase::Open, Some(Performative::Failure))
                if in_reply_to == Some(&self.cfp_reply_with) =>
            {
                // A cfp the platform could not deliver: one participant fewer to wait for.
                self.tally.failures += 1;
                self.platform_failures += 1;
                if self.answered.len() + self.platform_failures >= self.participants.len() {
                    self.decide(score)
                } else {
                    Ok(Step::Waiting)
                }
            }
            (Phase::Awarded, Some(Performative::Failure))
                if in_reply_to == Some(&self.accept_reply_with) =>
            {
                self.finish(message, false)
            }
            _ => Ok(Step::Ignored(
                "a platform message of no consequence".to_string(),
            )),
        }
    }

    fn after_decision(
        &mut self,
        message: &Message,
        sender: &str,
        act: Option<Performative>,
    ) -> Result<Step> {
        let from_winner = self.winner.as_deref() == Some(sender);
        match act {
            Some(Performative::Inform) if from_winner && self.phase == Phase::Awarded => {
                self.finish(message, true)
            }
            Some(Performative::Failure) if from_winner && self.phase == Phase::Awarded => {
                self.finish(message, false)
            }
            Some(Performative::Propose) => {
                // SC00029: a proposal after the decision is rejected.
                let reject = message
                    .reply(Performative::RejectProposal)
                    .with_protocol(PROTOCOL)
                    .with_content(reason_content("the contract was already awarded"));
                send(&reject)?;
                Ok(Step::Ignored(format!(
                    "a late proposal from {}, rejected",
                    sender
                )))
            }
            _ => Ok(Step::Ignored(format!(
                "a message from {} after the decision",
                sender
            ))),
        }
    }

    fn decide(&mut self, score: Score) -> Result<Step> {
        let mut best: Option<(usize, f64)> = None;
        for (i, proposal) in self.proposals.iter().enumerate() {
            if let Some(s) = score(proposal) {
                if best.map_or(true, |(_, b)| s < b) {
                    best = Some((i, s));
                }
            }
        }
        let conversation_id = self.conversation_id.clone();
        let (index, _) = match best {
            Some(best) => best,
            None => {
                self.phase = Phase::Done;
                self.reject_all(None)?;
                return Ok(Step::NoProposals {
                    conversation_id,
                    tally: self.tally,
                });
            }
        };
        let winner = self.proposals[index].clone();
        let mut accept = Message::new(Performative::AcceptProposal)
            .to(winner.participant.clone())
            .with_protocol(PROTOCOL)
            .with_conversation_id(conversation_id.clone())
            .with_reply_with(self.accept_reply_with.clone())
            .with_content(winner.content.clone());
        if let Some(tag) = &winner.reply_with {
            accept = accept.with_in_reply_to(tag.clone());
        }
        self.phase = Phase::Awarded;
        self.winner = Some(winner.participant.clone());
        send(&accept)?;
        let rejected = self.reject_all(Some(index))?;
        Ok(Step::Awarded {
            conversation_id,
            winner,
            rejected,
            tally: self.tally,
        })
    }

    /// Rejects every proposal but `keep`'s, each quoting its own `reply_with`.
    fn reject_all(&mut self, keep: Option<usize>) -> Result<Vec<String>> {
        let mut rejected = Vec::new();
        for (i, proposal) in self.proposals.iter().enumerate() {
            if Some(i) == keep {
                continue;
            }
            let mut reject = Message::new(Performative::RejectProposal)
                .to(proposal.participant.clone())
                .with_protocol(PROTOCOL)
                .with_conversation_id(self.conversation_id.clone())
                .with_content(reason_content("another proposal was chosen"));
            if let Some(tag) = &proposal.reply_with {
                reject = reject.with_in_reply_to(tag.clone());
            }
            send(&reject)?;
            rejected.push(proposal.participant.clone());
        }
        Ok(rejected)
    }

    fn finish(&mut self, message: &Message, done: bool) -> Result<Step> {
        self.phase = Phase::Done;
        self.proposals.clear();
        let conversation_id = self.conversation_id.clone();
        let winner = self.winner.clone().unwrap_or_default();
        let content = message.content().clone();
        Ok(if done {
            Step::Done {
                conversation_id,
                winner,
                result: content,
            }
        } else {
            Step::Failed {
                conversation_id,
                winner,
                reason: content,
            }
        })
    }
}

#[cfg(test)]
mod tests;
