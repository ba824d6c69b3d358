//! The FIPA request interaction protocol (SC00026), both sides.
//!
//! The initiator sends a `request`; the participant answers `refuse`, or
//! `agree` and later the outcome, or the outcome at once: `inform` (done,
//! with a result) or `failure`. `not-understood` may come at any point.
//!
//! Participant:
//!
//! ```no_run
//! use caxton::{json, request, Message};
//! # fn handle(message: Message) -> caxton::Result<()> {
//! request::serve(&message, |content| match content["numbers"].as_array() {
//!     Some(numbers) => Ok(json!({"sum": numbers.iter().filter_map(|n| n.as_i64()).sum::<i64>()})),
//!     None => Err("content needs numbers".to_string()),
//! })
//! # }
//! ```
//!
//! Initiator:
//!
//! ```no_run
//! use caxton::{json, request::{self, Response}, Message};
//! # fn handle(message: Message) -> caxton::Result<()> {
//! let tag = request::send("summer", json!({"numbers": [1, 2]}))?;
//! // ... later, in the handler:
//! if message.in_reply_to() == Some(tag.as_str()) {
//!     match Response::of(&message) {
//!         Some(Response::Done(result)) => caxton::info!("sum: {}", result["sum"]),
//!         Some(other) => caxton::warn!("no sum: {:?}", other),
//!         None => {}
//!     }
//! }
//! # Ok(()) }
//! ```

use crate::json::Value;
use crate::{json, unique_id, Message, Performative, Result};

/// The protocol's name, for the `protocol` parameter.
pub const PROTOCOL: &str = "fipa-request";

/// How a participant answers a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// `agree`: it will do it, and answer again later with [`Answer::Done`] or [`Answer::Failed`].
    Agree,
    /// `refuse`, content `{"reason": ...}`.
    Refuse(String),
    /// `inform` with the result as content: done.
    Done(Value),
    /// `failure`, content `{"reason": ...}`: it tried and could not.
    Failed(String),
    /// `not-understood`, content `{"reason": ...}`.
    NotUnderstood(String),
}

impl Answer {
    /// The message answering `request` this way (threaded with [`Message::reply`]).
    pub fn to_message(&self, request: &Message) -> Message {
        let (performative, content) = match self {
            Answer::Agree => (Performative::Agree, None),
            Answer::Refuse(reason) => (Performative::Refuse, Some(reason_content(reason))),
            Answer::Done(result) => (Performative::Inform, Some(result.clone())),
            Answer::Failed(reason) => (Performative::Failure, Some(reason_content(reason))),
            Answer::NotUnderstood(reason) => {
                (Performative::NotUnderstood, Some(reason_content(reason)))
            }
        };
        let reply = request.reply(performative);
        match content {
            Some(content) => reply.with_content(content),
            None => reply,
        }
    }
}

pub(crate) fn reason_content(reason: &str) -> Value {
    json!({ "reason": reason })
}

/// Sends `answer` to `request`.
pub fn answer(request: &Message, answer: Answer) -> Result<()> {
    crate::send(&answer.to_message(request))
}

/// The participant in one call: `work` gets the request's content; `Ok(result)`
/// is answered `inform` with the result, `Err(reason)` `failure`. A message
/// that is not a `request` is answered `not-understood`.
pub fn serve<F>(request: &Message, work: F) -> Result<()>
where
    F: FnOnce(&Value) -> std::result::Result<Value, String>,
{
    if !request.is(Performative::Request) {
        let what = request
            .performative_str()
            .unwrap_or("a message without performative");
        return answer(
            request,
            Answer::NotUnderstood(format!("expected a request, got {}", what)),
        );
    }
    match work(request.content()) {
        Ok(result) => answer(request, Answer::Done(result)),
        Err(reason) => answer(request, Answer::Failed(reason)),
    }
}

/// The request [`send`] would send: protocol `fipa-request`, and a fresh
/// `reply_with` that is also the `conversation_id`.
pub fn new_request(receiver: &str, content: impl Into<Value>) -> Message {
    let tag = unique_id("req");
    Message::new(Performative::Request)
        .to(receiver)
        .with_protocol(PROTOCOL)
        .with_conversation_id(tag.clone())
        .with_reply_with(tag)
        .with_content(content)
}

/// Sends a request to `receiver`; returns its `reply_with`, which the answers
/// quote as `in_reply_to`.
pub fn send(receiver: &str, content: impl Into<Value>) -> Result<String> {
    let request = new_request(receiver, content);
    crate::send(&request)?;
    Ok(request.reply_with().unwrap_or_default().to_string())
}

/// An answer to a request, as the initiator sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// `agree`: the outcome comes later.
    Agreed,
    /// `refuse`, with its content.
    Refused(Value),
    /// `inform`: done, with the result.
    Done(Value),
    /// `failure`, with its content (also what the host sends when the
    /// participant's handler failed or it does not exist).
    Failed(Value),
    /// `not-understood`, with its content.
    NotUnderstood(Value),
}

impl Response {
    /// Reads an answer by its performative; `None` for any other act.
    pub fn of(message: &Message) -> Option<Response> {
        let content = message.content().clone();
        Some(match message.performative()? {
            Performative::Agree => Response::Agreed,
            Performative::Refuse => Response::Refused(content),
            Performative::Inform => Response::Done(content),
            Performative::Failure => Response::Failed(content),
            Performative::NotUnderstood => Response::NotUnderstood(content),
            _ => return None,
        })
    }

    /// Whether the conversation is over (anything but `agree`).
    pub fn is_final(&self) -> bool {
        !matches!(self, Response::Agreed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{json, mock};

    fn request() -> Message {
        Message::parse(
            r#"{"performative":"request","sender":"alice","reply_with":"q","conversation_id":"c",
                "protocol":"fipa-request","content":{"numbers":[1,2,3]}}"#,
        )
        .unwrap()
    }

    fn sum(content: &Value) -> std::result::Result<Value, String> {
        match content["numbers"].as_array() {
            Some(n) => Ok(json!({"sum": n.iter().filter_map(Value::as_i64).sum::<i64>()})),
            None => Err("no numbers".to_string()),
        }
    }

    #[test]
    fn serve_informs_or_fails() {
        mock::reset();
        serve(&request(), sum).unwrap();
        let mut bad = request();
        bad.set("content", "x");
        serve(&bad, sum).unwrap();
        let mut not_a_request = request();
        not_a_request.set("performative", "inform");
        serve(&not_a_request, sum).unwrap();
        let texts: Vec<String> = mock::sent().iter().map(Message::to_json).collect();
        let thread = r#""receiver":"alice","in_reply_to":"q","conversation_id":"c","protocol":"fipa-request""#;
        assert_eq!(
            texts,
            [
                format!(
                    r#"{{"performative":"inform",{},"content":{{"sum":6}}}}"#,
                    thread
                ),
                format!(
                    r#"{{"performative":"failure",{},"content":{{"reason":"no numbers"}}}}"#,
                    thread
                ),
                format!(
                    r#"{{"performative":"not-understood",{},"content":{{"reason":"expected a request, got inform"}}}}"#,
                    thread
                ),
            ]
        );
    }

    #[test]
    fn answers_cover_the_protocol() {
        mock::reset();
        answer(&request(), Answer::Agree).unwrap();
        answer(&request(), Answer::Refuse("busy".into())).unwrap();
        let acts: Vec<String> = mock::sent()
            .iter()
            .map(|m| format!("{} {}", m.performative_str().unwrap(), m.content_json()))
            .collect();
        assert_eq!(acts, ["agree null", r#"refuse {"reason":"busy"}"#]);
    }

    #[test]
    fn initiator_sends_and_reads() {
        mock::reset();
        crate::set_identity("me", "1");
        let tag = send("bob", json!({"n": 1})).unwrap();
        let sent = &mock::sent()[0];
        assert_eq!(sent.receivers(), ["bob"]);
        assert_eq!(sent.protocol(), Some(PROTOCOL));
        assert_eq!(sent.reply_with(), Some(tag.as_str()));
        assert_eq!(sent.conversation_id(), Some(tag.as_str()));
        let answer = sent.reply(Performative::Inform).with_content(7);
        assert_eq!(Response::of(&answer), Some(Response::Done(json!(7))));
        assert!(Response::of(&answer).unwrap().is_final());
        assert!(!Response::Agreed.is_final());
        assert_eq!(Response::of(&sent.reply(Performative::Cfp)), None);
    }
}
