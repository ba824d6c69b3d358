//! # Caxton agents in Rust
//!
//! This crate implements the Caxton agent ABI, version 1, for Rust agents
//! compiled to `wasm32-wasi`: an agent is a type implementing [`Agent`] plus
//! one [`export_agent!`] line, and never touches a raw pointer.
//!
//! ```no_run
//! use caxton::{export_agent, info, Agent, Init, Message, Performative};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Agent for Echo {
//!     fn init(&mut self, init: &Init) -> caxton::Result<()> {
//!         info!("{} ready", init.name);
//!         Ok(())
//!     }
//!
//!     fn handle(&mut self, message: Message) -> caxton::Result<()> {
//!         caxton::reply(&message, Performative::Inform, message.content().clone())
//!     }
//! }
//!
//! export_agent!(Echo);
//! ```
//!
//! What it offers:
//!
//! - [`Message`] and [`Performative`]: typed FIPA-ACL messages over JSON;
//!   [`json`](mod@json): the JSON value type, parser, serialiser and [`json!`] macro;
//! - [`send`], [`reply`], [`log()`] with [`info!`] and friends, [`now_ms`];
//! - [`kv`]: the agent's durable key-value store;
//! - [`tools`]: MCP tool calls and their answers;
//! - [`Capability`]: capability registration;
//! - [`request`] and [`cnet`]: the FIPA request and contract-net protocols,
//!   both sides;
//! - [`mock`] (native builds only): an in-memory host for unit tests.
//!
//! The crate uses only `std`, compiles with Rust 1.63 and has no dependencies.

#![warn(missing_docs)]

use std::cell::RefCell;
use std::fmt;

pub mod cnet;
pub mod json;
pub mod kv;
pub mod request;
pub mod tools;

mod agent;
mod capability;
#[doc(hidden)]
pub mod export;
mod host;
mod message;
#[cfg(not(target_arch = "wasm32"))]
pub mod mock;
mod time;

pub use agent::{Agent, Init};
pub use capability::Capability;
pub use json::{Map, Value};
pub use message::{Message, Performative};
pub use time::rfc3339;

/// The ABI version this crate implements.
pub const ABI_VERSION: u32 = 1;

/// The sender name of messages from the platform itself (tool answers,
/// deadline notices, delivery failures).
pub const PLATFORM: &str = "caxton";

/// What went wrong in a call to the host or in an agent's handler.
///
/// A handler that returns an `Error` fails the message: the SDK logs it and
/// returns non-zero, and the host answers a waiting sender with `failure`.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The host refused a call (`call` names it) with a negative ABI status:
    /// -1 malformed or invalid, -2 too large, -3 mailbox full, -4 not permitted.
    Host {
        /// The host function: `"send"`, `"kv_set"`, `"tool_call"`, ...
        call: &'static str,
        /// The status it returned.
        status: i32,
    },
    /// Text that is not valid JSON.
    Json(json::ParseError),
    /// Anything else, in words.
    Other(String),
}

impl Error {
    /// An error that says `text`.
    pub fn msg(text: impl Into<String>) -> Error {
        Error::Other(text.into())
    }

    /// The ABI status when the host refused a call.
    pub fn status(&self) -> Option<i32> {
        match self {
            Error::Host { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn check(call: &'static str, status: i32) -> Result<()> {
        if status < 0 {
            Err(Error::Host { call, status })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host { call, status } => {
                let why = match status {
                    -1 => "malformed JSON or an invalid message",
                    -2 => "too large",
                    -3 => "the receiver's mailbox is full",
                    -4 => "not permitted",
                    _ => "refused",
                };
                write!(f, "{} refused by the host: {} ({})", call, why, status)
            }
            Error::Json(e) => e.fmt(f),
            Error::Other(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for Error {}

impl From<json::ParseError> for Error {
    fn from(e: json::ParseError) -> Error {
        Error::Json(e)
    }
}

impl From<String> for Error {
    fn from(text: String) -> Error {
        Error::Other(text)
    }
}

impl From<&str> for Error {
    fn from(text: &str) -> Error {
        Error::Other(text.to_string())
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Log levels of the host's `log` import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 0
    Trace = 0,
    /// 1
    Debug = 1,
    /// 2
    Info = 2,
    /// 3
    Warn = 3,
    /// 4
    Error = 4,
}

impl Level {
    /// The level for an ABI number; out of range counts as `Error`.
    pub fn from_i32(n: i32) -> Level {
        match n {
            0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// Writes one log line at `level`; the host attaches it to the current trace.
pub fn log(level: Level, text: &str) {
    host::log(level as i32, text.as_bytes());
}

/// `log!(Level::Info, "format {}", args)`: a formatted log line.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)+) => {
        $crate::log($level, &::std::format!($($arg)+))
    };
}

/// `trace!("format {}", args)`: a log line at level trace.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Trace, $($arg)+) };
}

/// `debug!("format {}", args)`: a log line at level debug.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Debug, $($arg)+) };
}

/// `info!("format {}", args)`: a log line at level info.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Info, $($arg)+) };
}

/// `warn!("format {}", args)`: a log line at level warn.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Warn, $($arg)+) };
}

/// `error!("format {}", args)`: a log line at level error.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Error, $($arg)+) };
}

/// Sends `message`; the host sets `sender`. `Ok` means accepted for routing:
/// a receiver that does not exist answers later with a `failure` from
/// [`PLATFORM`]. A full mailbox is `Err` with status -3 (back-pressure).
pub fn send(message: &Message) -> Result<()> {
    Error::check("send", host::send(message.to_json().as_bytes()))
}

/// Answers `message` with `performative` and `content` in one step (see
/// [`Message::reply`] for what is copied from the original).
pub fn reply(
    message: &Message,
    performative: Performative,
    content: impl Into<Value>,
) -> Result<()> {
    send(&message.reply(performative).with_content(content))
}

/// Wall-clock milliseconds since the Unix epoch, from the host.
pub fn now_ms() -> i64 {
    host::now_ms()
}

struct Identity {
    name: String,
    id: String,
    counter: u64,
}

thread_local! {
    static IDENTITY: RefCell<Identity> = RefCell::new(Identity {
        name: String::new(),
        id: String::new(),
        counter: 0,
    });
}

pub(crate) fn set_identity(name: &str, id: &str) {
    IDENTITY.with(|identity| {
        let mut identity = identity.borrow_mut();
        identity.name = name.to_string();
        identity.id = id.to_string();
    });
}

/// This agent's name, as given to `caxton_init` (empty before it).
pub fn name() -> String {
    IDENTITY.with(|identity| identity.borrow().name.clone())
}

/// This agent instance's id, as given to `caxton_init` (empty before it).
pub fn id() -> String {
    IDENTITY.with(|identity| identity.borrow().id.clone())
}

/// A fresh tag for `reply_with` or `conversation_id`: `<name>-<tag>-<ms>-<n>`,
/// unique within this agent across restarts (the clock moves on) and calls
/// (the counter does).
pub fn unique_id(tag: &str) -> String {
    let n = IDENTITY.with(|identity| {
        let mut identity = identity.borrow_mut();
        identity.counter += 1;
        identity.counter
    });
    format!("{}-{}-{}-{}", name(), tag, now_ms(), n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_and_reply_reach_the_host() {
        mock::reset();
        let m =
            Message::parse(r#"{"performative":"request","sender":"a","reply_with":"r"}"#).unwrap();
        reply(&m, Performative::Inform, json!({"ok": true})).unwrap();
        let sent = mock::sent();
        assert_eq!(
            sent[0].to_json(),
            r#"{"performative":"inform","receiver":"a","in_reply_to":"r","content":{"ok":true}}"#
        );
        mock::set_status(-3);
        let error = send(&m).unwrap_err();
        assert_eq!(error.status(), Some(-3));
        assert_eq!(
            error.to_string(),
            "send refused by the host: the receiver's mailbox is full (-3)"
        );
    }

    #[test]
    fn log_macros_format() {
        mock::reset();
        info!("ping {}", 1);
        warn!("careful");
        log!(Level::Trace, "{}-{}", "a", 2);
        assert_eq!(
            mock::logs(),
            [
                (Level::Info, "ping 1".to_string()),
                (Level::Warn, "careful".to_string()),
                (Level::Trace, "a-2".to_string())
            ]
        );
    }

    #[test]
    fn unique_ids_differ() {
        mock::reset();
        set_identity("me", "id-1");
        mock::set_now_ms(5);
        assert_eq!(name(), "me");
        assert_eq!(id(), "id-1");
        let a = unique_id("x");
        let b = unique_id("x");
        assert!(a.starts_with("me-x-5-"), "{}", a);
        assert_ne!(a, b);
    }
}
