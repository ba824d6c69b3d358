//! An in-memory host for native builds: what the agent sends, logs, stores,
//! calls and registers is kept here, per thread, for tests to inspect.
//!
//! Only on targets other than `wasm32`: there the real host is linked in.
//!
//! ```
//! use caxton::{json, mock, Message, Performative};
//! mock::reset();
//! caxton::send(&Message::new(Performative::Inform).to("bob").with_content(1)).unwrap();
//! assert_eq!(mock::sent()[0].receivers(), ["bob"]);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::json::{self, Value};
use crate::{Level, Message};

#[derive(Default)]
struct Host {
    sent: Vec<Vec<u8>>,
    logs: Vec<(i32, String)>,
    kv: BTreeMap<Vec<u8>, Vec<u8>>,
    tool_calls: Vec<Vec<u8>>,
    capabilities: Vec<Vec<u8>>,
    now_ms: i64,
    status: i32,
}

thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::default());
}

fn with<T>(f: impl FnOnce(&mut Host) -> T) -> T {
    HOST.with(|host| f(&mut host.borrow_mut()))
}

/// Forgets everything recorded, empties the store, sets the clock to 0 and
/// makes calls succeed again.
pub fn reset() {
    with(|host| *host = Host::default());
}

/// The messages sent so far, in order.
pub fn sent() -> Vec<Message> {
    with(|host| {
        host.sent
            .iter()
            .map(|m| Message::parse_bytes(m).expect("sent JSON"))
            .collect()
    })
}

/// The log lines so far, in order.
pub fn logs() -> Vec<(Level, String)> {
    with(|host| {
        host.logs
            .iter()
            .map(|(level, text)| (Level::from_i32(*level), text.clone()))
            .collect()
    })
}

/// The tool calls so far (`{"tool":..., "arguments":..., "reply_with":...}`).
pub fn tool_calls() -> Vec<Value> {
    with(|host| {
        host.tool_calls
            .iter()
            .map(|c| json::parse_bytes(c).expect("JSON"))
            .collect()
    })
}

/// The capabilities registered so far.
pub fn capabilities() -> Vec<Value> {
    with(|host| {
        host.capabilities
            .iter()
            .map(|c| json::parse_bytes(c).expect("JSON"))
            .collect()
    })
}

/// Sets what `now_ms` answers.
pub fn set_now_ms(ms: i64) {
    with(|host| host.now_ms = ms);
}

/// Sets what `send`, `kv_set`, `tool_call` and `register_capability` answer
/// (0, or a negative ABI status such as -3 for a full mailbox).
pub fn set_status(status: i32) {
    with(|host| host.status = status);
}

fn record(list: fn(&mut Host) -> &mut Vec<Vec<u8>>, bytes: &[u8]) -> i32 {
    with(|host| {
        if host.status == 0 {
            list(host).push(bytes.to_vec());
        }
        host.status
    })
}

pub(crate) fn send(json: &[u8]) -> i32 {
    record(|h| &mut h.sent, json)
}

pub(crate) fn log(level: i32, text: &[u8]) {
    with(|host| {
        host.logs
            .push((level, String::from_utf8_lossy(text).into_owned()))
    });
}

pub(crate) fn now_ms() -> i64 {
    with(|host| host.now_ms)
}

pub(crate) fn kv_get(key: &[u8]) -> Result<Option<Vec<u8>>, i32> {
    Ok(with(|host| host.kv.get(key).cloned()))
}

pub(crate) fn kv_set(key: &[u8], value: &[u8]) -> i32 {
    with(|host| {
        if host.status == 0 {
            host.kv.insert(key.to_vec(), value.to_vec());
        }
        host.status
    })
}

pub(crate) fn kv_delete(key: &[u8]) -> i32 {
    with(|host| {
        host.kv.remove(key);
        0
    })
}

pub(crate) fn tool_call(json: &[u8]) -> i32 {
    record(|h| &mut h.tool_calls, json)
}

pub(crate) fn register_capability(json: &[u8]) -> i32 {
    record(|h| &mut h.capabilities, json)
}
