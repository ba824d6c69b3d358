//! MCP tool calls (host import `tool_call`) and their answers.
//!
//! A call never blocks: [`call`] hands the request to the host and returns;
//! the answer arrives later as a message from [`PLATFORM`]
//! whose `in_reply_to` is the call's `reply_with`. [`ToolAnswer::from_message`]
//! recognises it:
//!
//! ```no_run
//! use caxton::{json, tools::{self, ToolAnswer}, Message};
//! # fn handle(message: Message) -> caxton::Result<()> {
//! tools::call("time/now", json!({"zone": "UTC"}), "clock-1")?;
//! // ... later, in the handler:
//! match ToolAnswer::from_message(&message) {
//!     Some(ToolAnswer::Done(result)) => caxton::info!("{} says {}", result.tool, result.text()),
//!     Some(ToolAnswer::Failed(failure)) => caxton::warn!("{}: {}", failure.tool, failure.reason),
//!     None => { /* not a tool answer */ }
//! }
//! # Ok(()) }
//! ```

use crate::json::{Map, Value};
use crate::{host, Error, Message, Performative, Result, PLATFORM};

/// Calls `tool` ("server/tool") with `arguments` (a JSON object); the answer
/// will quote `reply_with` as its `in_reply_to`.
pub fn call(tool: &str, arguments: Value, reply_with: &str) -> Result<()> {
    let mut request = Map::new();
    request.insert("tool", tool);
    request.insert("arguments", arguments);
    request.insert("reply_with", reply_with);
    Error::check(
        "tool_call",
        host::tool_call(Value::Object(request).to_json().as_bytes()),
    )
}

/// A tool's result: the `inform` the host sends back.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolResult {
    /// The call's `reply_with`.
    pub reply_with: String,
    /// "server/tool".
    pub tool: String,
    /// MCP content blocks, e.g. `{"type": "text", "text": "..."}`.
    pub content: Vec<Value>,
    /// MCP structured content, when the tool gave some.
    pub structured: Option<Value>,
}

impl ToolResult {
    /// The text of every `text` content block, joined by newlines.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter(|block| block["type"] == "text")
            .filter_map(|block| block["text"].as_str())
            .collect();
        texts.join("\n")
    }
}

/// A failed call: the `failure` the host sends back.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolFailure {
    /// The call's `reply_with`.
    pub reply_with: String,
    /// "server/tool".
    pub tool: String,
    /// The error class, e.g. `"timeout"` or `"not-permitted"`.
    pub error: String,
    /// Why, in words.
    pub reason: String,
    /// MCP content blocks of a tool that ran and reported an error, if any.
    pub content: Vec<Value>,
}

/// The answer to a tool call.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolAnswer {
    /// The tool ran and returned a result.
    Done(ToolResult),
    /// The call failed.
    Failed(ToolFailure),
}

impl ToolAnswer {
    /// The answer carried by `message`, if it is one: an `inform` or `failure`
    /// from the platform with an `in_reply_to` and a tool name (in the
    /// `x-caxton-tool` parameter or the content's `"tool"`).
    pub fn from_message(message: &Message) -> Option<ToolAnswer> {
        if message.sender() != Some(PLATFORM) {
            return None;
        }
        let reply_with = message.in_reply_to()?.to_string();
        let content = message.content();
        let tool = message
            .get("x-caxton-tool")
            .and_then(Value::as_str)
            .or_else(|| content["tool"].as_str())?
            .to_string();
        let blocks = content["content"].as_array().cloned().unwrap_or_default();
        match message.performative()? {
            Performative::Inform => Some(ToolAnswer::Done(ToolResult {
                reply_with,
                tool,
                content: blocks,
                structured: content.get("structured").cloned(),
            })),
            Performative::Failure => Some(ToolAnswer::Failed(ToolFailure {
                reply_with,
                tool,
                error: content["error"].as_str().unwrap_or("error").to_string(),
                reason: content["reason"].as_str().unwrap_or("").to_string(),
                content: blocks,
            })),
            _ => None,
        }
    }

    /// The call's `reply_with`, whichever way it went.
    pub fn reply_with(&self) -> &str {
        match self {
            ToolAnswer::Done(result) => &result.reply_with,
            ToolAnswer::Failed(failure) => &failure.reply_with,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{json, mock};

    #[test]
    fn a_call_is_json() {
        mock::reset();
        call("time/now", json!({"zone": "UTC"}), "t1").unwrap();
        assert_eq!(
            mock::tool_calls(),
            [json!({"tool": "time/now", "arguments": {"zone": "UTC"}, "reply_with": "t1"})]
        );
    }

    #[test]
    fn answers_are_recognised() {
        let done = Message::parse(
            r#"{"performative":"inform","sender":"caxton","in_reply_to":"t1","x-caxton-tool":"time/now",
                "content":{"tool":"time/now","content":[{"type":"text","text":"12:00"},{"type":"image"},
                {"type":"text","text":"UTC"}],"structured":{"h":12}}}"#,
        )
        .unwrap();
        let result = match ToolAnswer::from_message(&done) {
            Some(ToolAnswer::Done(result)) => result,
            other => panic!("{:?}", other),
        };
        assert_eq!(result.tool, "time/now");
        assert_eq!(result.reply_with, "t1");
        assert_eq!(result.text(), "12:00\nUTC");
        assert_eq!(result.structured, Some(json!({"h": 12})));

        let failed = Message::parse(
            r#"{"performative":"failure","sender":"caxton","in_reply_to":"t2",
                "content":{"error":"timeout","reason":"took too long","tool":"slow/op"}}"#,
        )
        .unwrap();
        let answer = ToolAnswer::from_message(&failed).unwrap();
        assert_eq!(answer.reply_with(), "t2");
        assert_eq!(
            answer,
            ToolAnswer::Failed(ToolFailure {
                reply_with: "t2".into(),
                tool: "slow/op".into(),
                error: "timeout".into(),
                reason: "took too long".into(),
                content: vec![],
            })
        );

        let stranger = Message::parse(
            r#"{"performative":"inform","sender":"bob","in_reply_to":"t1","content":{"tool":"x"}}"#,
        )
        .unwrap();
        assert_eq!(ToolAnswer::from_message(&stranger), None);
    }
}
