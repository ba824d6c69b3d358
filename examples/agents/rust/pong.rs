//! pong - answers {"ping":N} requests with {"pong":N}.
//!
//! `init` logs (info) "pong ready". A `request` whose content is {"ping":N}
//! (N an integer) is answered `inform` {"pong":N}, then logged (info)
//! "pong N". A `request` with any other content is answered `not-understood`
//! carrying the content it got (null if absent), with the warning
//! `pong: expected content {"ping":N}`. Answers are threaded to the request
//! (`Message::reply`). A request without a sender logs
//! "pong: message has no sender"; other performatives are ignored.
//! The same behaviour as examples/agents/c/pong.c.

use caxton::json::{Number, Value};
use caxton::{export_agent, info, warn, Agent, Init, Message, Performative};

#[derive(Default)]
struct Pong;

impl Agent for Pong {
    fn init(&mut self, _init: &Init) -> caxton::Result<()> {
        info!("pong ready");
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        if !message.is(Performative::Request) {
            return Ok(());
        }
        if message.sender().is_none() {
            warn!("pong: message has no sender");
            return Ok(());
        }
        // An integer literal only: {"ping": 1.0} is not understood, as in the C pong.
        let n = match message.content()["ping"] {
            Value::Number(Number::Int(n)) => n,
            _ => {
                let content = message.content().clone();
                caxton::reply(&message, Performative::NotUnderstood, content)?;
                warn!("pong: expected content {{\"ping\":N}}");
                return Ok(());
            }
        };
        caxton::reply(&message, Performative::Inform, caxton::json!({ "pong": n }))?;
        info!("pong {}", n);
        Ok(())
    }
}

export_agent!(Pong);
