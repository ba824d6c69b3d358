//! ping - plays `rounds` rounds of ping-pong with `peer`.
//!
//! `init` reads the config {"peer":"pong","rounds":3} (both optional, these are
//! the defaults); a peer that is not a string or rounds that are not an
//! integer >= 1 fail the start. It logs (info) "ping ready".
//!
//! - `request` (the kick, any content): the counter goes back to 0 and
//!   {"performative":"request","receiver":<peer>,"content":{"ping":1}} is sent;
//!   logs (info) "ping 1".
//! - `inform` with content {"pong":N} (N an integer): the counter becomes N. If
//!   N < rounds it sends {"ping":N+1} to the peer in the inform's conversation
//!   and logs (info) "ping N+1"; otherwise it logs (info) "done after N rounds"
//!   and stores N's decimal digits under key "rounds_done".
//! - an `inform` with other content logs a warning; other performatives are ignored.
//!
//! The same behaviour as examples/agents/c/ping.c.

use caxton::json::{Number, Value};
use caxton::{export_agent, info, json, kv, warn, Agent, Init, Message, Performative};

struct Ping {
    peer: String,
    rounds: i64,
}

impl Default for Ping {
    fn default() -> Ping {
        Ping {
            peer: "pong".to_string(),
            rounds: 3,
        }
    }
}

impl Ping {
    fn send_ping(&self, n: i64, thread: Option<&Message>) -> caxton::Result<()> {
        let mut ping = Message::new(Performative::Request)
            .to(self.peer.as_str())
            .with_content(json!({ "ping": n }));
        if let Some(conversation) = thread.and_then(Message::conversation_id) {
            ping = ping.with_conversation_id(conversation);
        }
        if let Err(e) = caxton::send(&ping) {
            warn!("ping: {}", e);
        }
        info!("ping {}", n);
        Ok(())
    }
}

impl Agent for Ping {
    fn init(&mut self, init: &Init) -> caxton::Result<()> {
        let peer = init.config("peer");
        if !peer.is_null() {
            self.peer = peer
                .as_str()
                .ok_or("ping: config.peer must be a string")?
                .to_string();
        }
        let rounds = init.config("rounds");
        if !rounds.is_null() {
            self.rounds = match *rounds {
                Value::Number(Number::Int(n)) if n >= 1 => n,
                _ => return Err("ping: config.rounds must be an integer >= 1".into()),
            };
        }
        info!("ping ready");
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        match message.performative() {
            Some(Performative::Request) => self.send_ping(1, None),
            Some(Performative::Inform) => match message.content()["pong"].as_i64() {
                Some(n) if n < self.rounds => self.send_ping(n + 1, Some(&message)),
                Some(n) => {
                    info!("done after {} rounds", n);
                    if let Err(e) = kv::set("rounds_done", n.to_string()) {
                        warn!("ping: kv_set rounds_done failed: {}", e);
                    }
                    Ok(())
                }
                None => {
                    warn!("ping: ignoring inform without {{\"pong\":N}}");
                    Ok(())
                }
            },
            _ => Ok(()),
        }
    }
}

export_agent!(Ping);
