//! sdk_probe - exercises every part of the Rust SDK through the real ABI, for
//! tests/sdk/test_rust_sdk.py. Not a model agent: each `request` names one
//! operation in its content's "op", and the answer (threaded to the request,
//! with `Message::reply`) shows what the SDK made of it.
//!
//! `init` registers the capability "sum" 1.0.0 (with a description and an
//! input schema) and logs (info) "probe ready: <name> <id> <config as JSON>".
//! A config {"fail_init": true} fails the start instead.
//!
//! Operations (content {"op": ..., ...}), answered `inform` unless said otherwise:
//! - "inspect": {"accessors": {...every typed accessor of the request...},
//!   "message": <the whole request as parsed>, "json": <it serialised again>};
//!   the answer also carries every `x-*` parameter of the request.
//! - "parse" with "text": {"value": <parsed>, "json": <serialised again>}, or
//!   `failure` {"reason": <the parse error>}.
//! - "kv" with optional "set" (object of strings), "delete" (array), "get"
//!   (array): {"got": {<key>: <text or null>}}.
//! - "tool" with "tool" and "arguments": calls the tool (reply_with
//!   "probe-tool-<n>"); its answer later answers the request: `inform`
//!   {"tool", "text", "structured", "reply_with"} or `failure`
//!   {"reason", "error", "tool", "reply_with"}.
//! - "ask" with "to" and "content": a fipa-request to "to"; the answer to it
//!   answers this request: `inform` {"response": "done"|"agreed"|"refused"|
//!   "failed"|"not-understood", "content": ...} (an `agree` is only logged).
//! - "sum" with "numbers": served with `request::serve`: `inform` {"sum": n}, or
//!   `failure` {"reason": "numbers must be integers"}.
//! - "panic": panics (the host answers `failure`; the panic is logged).
//! - "fail": the handler returns an error (the same, without a trap).
//! - anything else: `not-understood`.
//! Messages that are neither requests nor answers it waits for are logged (warn).

use std::collections::BTreeMap;

use caxton::json::{Map, Value};
use caxton::request::{self, Answer, Response};
use caxton::tools::{self, ToolAnswer};
use caxton::{export_agent, info, json, kv, warn, Agent, Capability, Init, Message, Performative};

#[derive(Default)]
struct Probe {
    /// Requests waiting for a tool answer or an answer to "ask", by reply_with.
    waiting: BTreeMap<String, Message>,
    calls: u64,
}

fn accessors(m: &Message) -> Value {
    let x: Vec<Value> = m.x_params().map(|(k, _)| Value::from(k)).collect();
    json!({
        "performative": (m.performative().map(|p| p.as_str())),
        "performative_str": (m.performative_str()),
        "sender": (m.sender()),
        "receivers": (m.receivers()),
        "reply_to": (m.reply_to()),
        "content_json": (m.content_json()),
        "has_content": (m.has_content()),
        "conversation_id": (m.conversation_id()),
        "reply_with": (m.reply_with()),
        "in_reply_to": (m.in_reply_to()),
        "protocol": (m.protocol()),
        "ontology": (m.ontology()),
        "language": (m.language()),
        "encoding": (m.encoding()),
        "reply_by": (m.reply_by()),
        "message_id": (m.message_id()),
        "x": x,
    })
}

fn kv_op(content: &Value) -> caxton::Result<Value> {
    if let Some(set) = content["set"].as_object() {
        for (key, value) in set.iter() {
            kv::set(key, value.as_str().unwrap_or_default())?;
        }
    }
    for key in content["delete"].as_array().into_iter().flatten() {
        kv::delete(key.as_str().unwrap_or_default())?;
    }
    let mut got = Map::new();
    for key in content["get"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        got.insert(key, kv::get_string(key)?);
    }
    Ok(json!({ "got": got }))
}

fn sum(content: &Value) -> Result<Value, String> {
    let numbers = content["numbers"]
        .as_array()
        .ok_or("numbers must be integers")?;
    let mut total: i64 = 0;
    for n in numbers {
        let n = n.as_i64().ok_or("numbers must be integers")?;
        total = total.checked_add(n).ok_or("the sum overflows")?;
    }
    Ok(json!({ "sum": total }))
}

impl Probe {
    fn request(&mut self, message: Message) -> caxton::Result<()> {
        let content = message.content().clone();
        let op = content["op"].as_str().unwrap_or("");
        match op {
            "inspect" => {
                let mut answer = message.reply(Performative::Inform).with_content(json!({
                    "accessors": (accessors(&message)),
                    "message": (message.clone().into_value()),
                    "json": (message.to_json()),
                }));
                for (key, value) in message.x_params() {
                    answer.set(key, value.clone());
                }
                caxton::send(&answer)
            }
            "parse" => match caxton::json::parse(content["text"].as_str().unwrap_or("")) {
                Ok(value) => {
                    let text = value.to_json();
                    request::answer(
                        &message,
                        Answer::Done(json!({"value": value, "json": text})),
                    )
                }
                Err(e) => request::answer(&message, Answer::Failed(e.to_string())),
            },
            "kv" => {
                let got = kv_op(&content)?;
                request::answer(&message, Answer::Done(got))
            }
            "tool" => {
                self.calls += 1;
                let tag = format!("probe-tool-{}", self.calls);
                let tool = content["tool"].as_str().unwrap_or("");
                tools::call(tool, content["arguments"].clone(), &tag)?;
                self.waiting.insert(tag, message);
                Ok(())
            }
            "ask" => {
                let to = content["to"].as_str().unwrap_or("");
                let tag = request::send(to, content["content"].clone())?;
                self.waiting.insert(tag, message);
                Ok(())
            }
            "sum" => request::serve(&message, sum),
            "panic" => panic!("the probe was asked to panic"),
            "fail" => Err(caxton::Error::msg("the probe was asked to fail")),
            _ => request::answer(&message, Answer::NotUnderstood(format!("no op {:?}", op))),
        }
    }

    fn tool_answer(&mut self, answer: ToolAnswer) -> caxton::Result<()> {
        let asked = match self.waiting.remove(answer.reply_with()) {
            Some(asked) => asked,
            None => {
                warn!(
                    "probe: a tool answer nobody waits for: {}",
                    answer.reply_with()
                );
                return Ok(());
            }
        };
        match answer {
            ToolAnswer::Done(result) => request::answer(
                &asked,
                Answer::Done(json!({
                    "tool": (result.tool.as_str()),
                    "text": (result.text()),
                    "structured": (result.structured.clone()),
                    "reply_with": (result.reply_with.as_str()),
                })),
            ),
            ToolAnswer::Failed(failure) => caxton::reply(
                &asked,
                Performative::Failure,
                json!({
                    "reason": (failure.reason.as_str()),
                    "error": (failure.error.as_str()),
                    "tool": (failure.tool.as_str()),
                    "reply_with": (failure.reply_with.as_str()),
                }),
            ),
        }
    }

    fn response(&mut self, message: &Message, asked: Message) -> caxton::Result<()> {
        let (kind, content) = match Response::of(message) {
            Some(Response::Agreed) => {
                info!("probe: agreed");
                if let Some(tag) = message.in_reply_to() {
                    self.waiting.insert(tag.to_string(), asked);
                }
                return Ok(());
            }
            Some(Response::Done(c)) => ("done", c),
            Some(Response::Refused(c)) => ("refused", c),
            Some(Response::Failed(c)) => ("failed", c),
            Some(Response::NotUnderstood(c)) => ("not-understood", c),
            None => ("other", Value::Null),
        };
        request::answer(
            &asked,
            Answer::Done(json!({"response": kind, "content": content})),
        )
    }
}

impl Agent for Probe {
    fn init(&mut self, init: &Init) -> caxton::Result<()> {
        if init.config("fail_init") == &Value::Bool(true) {
            return Err("probe: asked to fail at init".into());
        }
        Capability::new("sum", "1.0.0")
            .description("adds up integers")
            .input_schema(json!({
                "type": "object",
                "properties": {"numbers": {"type": "array", "items": {"type": "integer"}}},
                "required": ["numbers"],
            }))
            .register()?;
        info!("probe ready: {} {} {}", init.name, init.id, init.config);
        Ok(())
    }

    fn handle(&mut self, message: Message) -> caxton::Result<()> {
        if let Some(answer) = ToolAnswer::from_message(&message) {
            return self.tool_answer(answer);
        }
        if let Some(asked) = message
            .in_reply_to()
            .and_then(|tag| self.waiting.remove(tag))
        {
            return self.response(&message, asked);
        }
        if message.is(Performative::Request) {
            return self.request(message);
        }
        warn!("probe: ignoring {}", message.to_json());
        Ok(())
    }
}

export_agent!(Probe);
