//! The [`Agent`] trait and what `caxton_init` hands it.

use crate::json::Value;
use crate::{Message, Result};

/// What the host passes to `caxton_init`: `{"name": ..., "id": ..., "config": {...}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Init {
    /// The agent's name (a DNS label, unique in the Caxton instance).
    pub name: String,
    /// This instance's id.
    pub id: String,
    /// The deployment's configuration object (`{}` when none was given).
    pub config: Value,
}

impl Init {
    /// Reads the init document; missing parts become empty.
    pub fn from_value(value: &Value) -> Init {
        Init {
            name: value["name"].as_str().unwrap_or("").to_string(),
            id: value["id"].as_str().unwrap_or("").to_string(),
            config: match value.get("config") {
                Some(config @ Value::Object(_)) => config.clone(),
                _ => Value::object(),
            },
        }
    }

    /// `config[key]`, or `Null` when absent.
    pub fn config(&self, key: &str) -> &Value {
        &self.config[key]
    }
}

/// An agent: its state is the implementing type, its behaviour the two methods.
///
/// [`export_agent!`](crate::export_agent) makes one value with `Default`, calls
/// [`init`](Agent::init) once when the host starts the agent, then
/// [`handle`](Agent::handle) for every message, in delivery order.
///
/// An `Err` from either is logged at level error and reported to the host
/// (non-zero): from `init` it fails the start, from `handle` it makes the
/// host answer the sender of a request-like message with `failure`. A panic
/// is logged the same way and traps.
pub trait Agent: Default + 'static {
    /// Called once, before any message; reads the configuration, registers
    /// capabilities. The default does nothing.
    fn init(&mut self, init: &Init) -> Result<()> {
        let _ = init;
        Ok(())
    }

    /// Called for each inbound message.
    fn handle(&mut self, message: Message) -> Result<()>;
}
