//! FIPA-ACL messages as Caxton carries them: JSON objects (ABI v1, "Data").
//!
//! A [`Message`] keeps the whole object it was parsed from, so parameters
//! this SDK has no accessor for (`trace`, `x-*`, future ones) survive a read
//! and a write unchanged. Accessors read the FIPA parameters (SC00061G),
//! `with_*` methods set them in a builder chain:
//!
//! ```
//! use caxton::{json, Message, Performative};
//! let m = Message::new(Performative::Request)
//!     .to("pong")
//!     .with_content(json!({"ping": 1}))
//!     .with_conversation_id("game-1");
//! assert_eq!(m.receivers(), ["pong"]);
//! assert_eq!(m.content()["ping"], 1);
//! ```

use std::fmt;

use crate::json::{self, Map, Value};
use crate::Error;

macro_rules! performatives {
    ($($variant:ident => $text:literal),* $(,)?) => {
        /// The 22 FIPA communicative acts (SC00037), spelled as on the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Performative {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl Performative {
            /// Every performative, in alphabetical order.
            pub const ALL: &'static [Performative] = &[$(Performative::$variant),*];

            /// The wire spelling, e.g. `"accept-proposal"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Performative::$variant => $text,)*
                }
            }

            /// The performative spelled `text`, if it is one of the 22.
            pub fn parse(text: &str) -> Option<Performative> {
                match text {
                    $($text => Some(Performative::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

performatives! {
    AcceptProposal => "accept-proposal",
    Agree => "agree",
    Cancel => "cancel",
    Cfp => "cfp",
    Confirm => "confirm",
    Disconfirm => "disconfirm",
    Failure => "failure",
    Inform => "inform",
    InformIf => "inform-if",
    InformRef => "inform-ref",
    NotUnderstood => "not-understood",
    Propagate => "propagate",
    Propose => "propose",
    Proxy => "proxy",
    QueryIf => "query-if",
    QueryRef => "query-ref",
    Refuse => "refuse",
    RejectProposal => "reject-proposal",
    Request => "request",
    RequestWhen => "request-when",
    RequestWhenever => "request-whenever",
    Subscribe => "subscribe",
}

impl fmt::Display for Performative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Performative> for Value {
    fn from(p: Performative) -> Value {
        Value::from(p.as_str())
    }
}

/// One ACL message: a JSON object with typed accessors.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    fields: Map,
}

/// A string-valued parameter: a getter and a `with_` setter.
macro_rules! string_params {
    ($($(#[$doc:meta])* $key:literal => $get:ident, $with:ident;)*) => {
        impl Message {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> Option<&str> {
                    self.str_param($key)
                }

                #[doc = concat!("Sets `", $key, "`.")]
                pub fn $with(mut self, value: impl Into<String>) -> Message {
                    self.fields.insert($key, value.into());
                    self
                }
            )*
        }
    };
}

string_params! {
    /// `sender`: set by the host on every message an agent receives.
    "sender" => sender, with_sender;
    /// `conversation_id`: the host assigns one when a conversation starts without it.
    "conversation_id" => conversation_id, with_conversation_id;
    /// `reply_with`: the tag an answer must quote as `in_reply_to`.
    "reply_with" => reply_with, with_reply_with;
    /// `in_reply_to`: the `reply_with` of the message this one answers.
    "in_reply_to" => in_reply_to, with_in_reply_to;
    /// `protocol`, e.g. `fipa-request` or `fipa-contract-net`.
    "protocol" => protocol, with_protocol;
    /// `ontology`.
    "ontology" => ontology, with_ontology;
    /// `language` of the content.
    "language" => language, with_language;
    /// `encoding` of the content.
    "encoding" => encoding, with_encoding;
    /// `reply_by`: an RFC 3339 deadline for the answer (see [`crate::rfc3339`]).
    "reply_by" => reply_by, with_reply_by;
    /// `message_id`: assigned by the host.
    "message_id" => message_id, with_message_id;
}

impl Message {
    /// A new message with only its performative set.
    pub fn new(performative: Performative) -> Message {
        let mut fields = Map::new();
        fields.insert("performative", performative);
        Message { fields }
    }

    /// Parses a message from JSON text; it must be an object.
    pub fn parse(text: &str) -> Result<Message, Error> {
        Message::from_value(json::parse(text)?)
    }

    /// Parses a message from UTF-8 JSON bytes; it must be an object.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Message, Error> {
        Message::from_value(json::parse_bytes(bytes)?)
    }

    /// Wraps a JSON object as a message.
    pub fn from_value(value: Value) -> Result<Message, Error> {
        match value {
            Value::Object(fields) => Ok(Message { fields }),
            _ => Err(Error::msg("an ACL message must be a JSON object")),
        }
    }

    /// The compact JSON text, every parameter included, in the order they were set.
    pub fn to_json(&self) -> String {
        self.fields.to_json()
    }

    /// Appends the compact JSON text to `out`.
    pub fn write_json(&self, out: &mut String) {
        self.fields.write_json(out);
    }

    /// All parameters as a JSON object.
    pub fn fields(&self) -> &Map {
        &self.fields
    }

    /// The message as a JSON value (an object).
    pub fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    /// The performative, if it is one of the 22 FIPA acts.
    pub fn performative(&self) -> Option<Performative> {
        self.performative_str().and_then(Performative::parse)
    }

    /// The performative as written, whatever it is.
    pub fn performative_str(&self) -> Option<&str> {
        self.str_param("performative")
    }

    /// Whether the performative is `p`.
    pub fn is(&self, p: Performative) -> bool {
        self.performative_str() == Some(p.as_str())
    }

    /// The receivers: `receiver` as a list, whether it is a string or an array.
    pub fn receivers(&self) -> Vec<&str> {
        names(self.fields.get("receiver"))
    }

    /// `reply_to` as a list, whether it is a string or an array.
    pub fn reply_to(&self) -> Vec<&str> {
        names(self.fields.get("reply_to"))
    }

    /// The content; `Null` when absent (see [`Message::has_content`]).
    pub fn content(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.fields.get("content").unwrap_or(&NULL)
    }

    /// Whether the message has a `content` parameter (`null` counts).
    pub fn has_content(&self) -> bool {
        self.fields.contains_key("content")
    }

    /// The content as raw JSON text (`null` when absent).
    pub fn content_json(&self) -> String {
        self.content().to_json()
    }

    /// The content as text, when it is a JSON string.
    pub fn content_str(&self) -> Option<&str> {
        self.content().as_str()
    }

    /// Any parameter by its key, e.g. `"x-priority"` or `"trace"`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// The user-defined `x-*` parameters, in order.
    pub fn x_params(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().filter(|(k, _)| k.starts_with("x-"))
    }

    /// Sets the performative.
    pub fn with_performative(mut self, p: Performative) -> Message {
        self.fields.insert("performative", p);
        self
    }

    /// Sets one receiver.
    pub fn to(mut self, receiver: impl Into<String>) -> Message {
        self.fields.insert("receiver", receiver.into());
        self
    }

    /// Sets several receivers (written as an array, even of one).
    pub fn to_all<I, S>(mut self, receivers: I) -> Message
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list: Vec<Value> = receivers
            .into_iter()
            .map(|s| Value::String(s.into()))
            .collect();
        self.fields.insert("receiver", Value::Array(list));
        self
    }

    /// Sets `reply_to`: where answers should go instead of the sender.
    pub fn with_reply_to(mut self, names: impl Into<Value>) -> Message {
        self.fields.insert("reply_to", names.into());
        self
    }

    /// Sets the content to any JSON value.
    pub fn with_content(mut self, content: impl Into<Value>) -> Message {
        self.fields.insert("content", content.into());
        self
    }

    /// Sets the content from raw JSON text, which must be valid JSON.
    pub fn with_content_json(self, text: &str) -> Result<Message, Error> {
        Ok(self.with_content(json::parse(text)?))
    }

    /// Sets any parameter, e.g. an `x-*` one.
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Message {
        self.fields.insert(key, value);
        self
    }

    /// Sets any parameter in place.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.fields.insert(key, value);
    }

    /// Removes a parameter; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.fields.remove(key)
    }

    /// A new message answering this one (FIPA's reply conventions, SC00061G §2):
    /// `receiver` = this sender, `in_reply_to` = this `reply_with`, and this
    /// `conversation_id` and `protocol`, each only when present. Set the content
    /// and send it with [`crate::send`], or use [`crate::reply`] in one step.
    pub fn reply(&self, performative: Performative) -> Message {
        let mut answer = Message::new(performative);
        if let Some(sender) = self.sender() {
            answer.fields.insert("receiver", sender);
        }
        if let Some(tag) = self.reply_with() {
            answer.fields.insert("in_reply_to", tag);
        }
        for key in ["conversation_id", "protocol"] {
            if let Some(value) = self.str_param(key) {
                answer.fields.insert(key, value);
            }
        }
        answer
    }

    fn str_param(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }
}

impl fmt::Display for Message {
    /// The compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<Message> for Value {
    fn from(m: Message) -> Value {
        m.into_value()
    }
}

fn names(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn performatives_spell_as_on_the_wire() {
        assert_eq!(Performative::ALL.len(), 22);
        for &p in Performative::ALL {
            assert_eq!(Performative::parse(p.as_str()), Some(p));
        }
        assert_eq!(Performative::AcceptProposal.as_str(), "accept-proposal");
        assert_eq!(
            Performative::RequestWhenever.to_string(),
            "request-whenever"
        );
        assert_eq!(Performative::parse("Request"), None);
    }

    #[test]
    fn accessors_read_every_parameter() {
        let text = r#"{"performative":"cfp","sender":"a","receiver":["b","c"],
            "reply_to":"d","content":{"task":[1,2]},"language":"json","encoding":"utf-8",
            "ontology":"sums","protocol":"fipa-contract-net","conversation_id":"c1",
            "reply_with":"r1","in_reply_to":"r0","reply_by":"2026-01-01T00:00:00.000Z",
            "message_id":"m1","trace":{"traceparent":"00-x"},"x-priority":2,"x-tags":["a"]}"#;
        let m = Message::parse(text).unwrap();
        assert_eq!(m.performative(), Some(Performative::Cfp));
        assert!(m.is(Performative::Cfp));
        assert_eq!(m.sender(), Some("a"));
        assert_eq!(m.receivers(), ["b", "c"]);
        assert_eq!(m.reply_to(), ["d"]);
        assert_eq!(m.content(), &json!({"task": [1, 2]}));
        assert_eq!(m.content_json(), r#"{"task":[1,2]}"#);
        assert_eq!(m.language(), Some("json"));
        assert_eq!(m.encoding(), Some("utf-8"));
        assert_eq!(m.ontology(), Some("sums"));
        assert_eq!(m.protocol(), Some("fipa-contract-net"));
        assert_eq!(m.conversation_id(), Some("c1"));
        assert_eq!(m.reply_with(), Some("r1"));
        assert_eq!(m.in_reply_to(), Some("r0"));
        assert_eq!(m.reply_by(), Some("2026-01-01T00:00:00.000Z"));
        assert_eq!(m.message_id(), Some("m1"));
        assert_eq!(m.get("trace").unwrap()["traceparent"], "00-x");
        let x: Vec<(&str, String)> = m.x_params().map(|(k, v)| (k, v.to_json())).collect();
        assert_eq!(
            x,
            [
                ("x-priority", "2".to_string()),
                ("x-tags", r#"["a"]"#.to_string())
            ]
        );
        // Written back, every parameter is there, in its place.
        assert_eq!(Message::parse(&m.to_json()).unwrap(), m);
        assert_eq!(
            json::parse(&m.to_json()).unwrap(),
            json::parse(text).unwrap()
        );
    }

    #[test]
    fn absent_parameters() {
        let m = Message::parse(r#"{"performative":"shout"}"#).unwrap();
        assert_eq!(m.performative(), None);
        assert_eq!(m.performative_str(), Some("shout"));
        assert_eq!(m.sender(), None);
        assert!(m.receivers().is_empty());
        assert!(!m.has_content());
        assert_eq!(m.content(), &Value::Null);
        assert_eq!(m.content_json(), "null");
        assert!(Message::parse("[1]").is_err());
        assert!(Message::parse("{").is_err());
    }

    #[test]
    fn builders_write_in_order() {
        let m = Message::new(Performative::Inform)
            .to_all(vec!["a", "b"])
            .with_content_json(r#"{"n":1}"#)
            .unwrap()
            .with_conversation_id("c")
            .with_param("x-hop", 1)
            .with_reply_to("z");
        assert_eq!(
            m.to_json(),
            r#"{"performative":"inform","receiver":["a","b"],"content":{"n":1},"conversation_id":"c","x-hop":1,"reply_to":"z"}"#
        );
        let single = Message::new(Performative::Agree)
            .to("x")
            .with_content("é\"");
        assert_eq!(
            single.to_string(),
            r#"{"performative":"agree","receiver":"x","content":"é\""}"#
        );
    }

    #[test]
    fn replies_thread_to_the_original() {
        let m = Message::parse(
            r#"{"performative":"request","sender":"alice","receiver":"bob","reply_with":"q1",
                "conversation_id":"c9","protocol":"fipa-request","ontology":"o","x-a":1}"#,
        )
        .unwrap();
        let r = m.reply(Performative::Agree);
        assert_eq!(
            r.to_json(),
            r#"{"performative":"agree","receiver":"alice","in_reply_to":"q1","conversation_id":"c9","protocol":"fipa-request"}"#
        );
        let bare = Message::parse(r#"{"performative":"inform","sender":"a"}"#).unwrap();
        assert_eq!(
            bare.reply(Performative::Inform).to_json(),
            r#"{"performative":"inform","receiver":"a"}"#
        );
    }
}
