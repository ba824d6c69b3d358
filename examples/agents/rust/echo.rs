//! echo - answers every message with an `inform` carrying the same content.
//!
//! `init` logs (info) "echo ready". Each message is answered with
//! `{"performative":"inform","content":<its content, null if absent>}`,
//! threaded by `Message::reply`: receiver = the sender, in_reply_to = its
//! reply_with, and its conversation_id and protocol when present. A message
//! without a sender is logged (warn) "echo: message has no sender" and not
//! answered. The same behaviour as examples/agents/c/echo.c.

use caxton::{export_agent, info, warn, Agent, Init, Message, Performative};

#[derive(Default)]
struct Echo;

impl Agent for Echo {
    fn init(&mut self, _init: &Init) -> caxton::Result<()> {
        info!("echo ready");
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        if message.sender().is_none() {
            warn!("echo: message has no sender");
            return Ok(());
        }
        let content = message.content().clone();
        if let Err(e) = caxton::reply(&message, Performative::Inform, content) {
            warn!("echo: {}", e);
        }
        Ok(())
    }
}

export_agent!(Echo);
