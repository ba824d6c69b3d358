//! A small JSON value type with a parser and a serialiser (RFC 8259).
//!
//! Everything that crosses the Caxton ABI is UTF-8 JSON, and the SDK takes no
//! external crates, so it carries its own: [`Value`] for any JSON value,
//! [`Map`] for objects (insertion order kept, so a message read and written
//! back keeps its keys in place), [`parse`](fn@parse) and [`Value::to_json`], and the
//! [`json!`](crate::json!) macro for writing values inline.
//!
//! Numbers are kept as `i64` when the text is an integer that fits, and as
//! `f64` otherwise (a larger integer loses precision, as in JavaScript).
//! Strings are fully decoded: every escape, including `\uXXXX` surrogate
//! pairs; a lone surrogate is an error because it cannot be a Rust `String`.
//! The serialiser escapes `"`, `\` and control characters and writes all
//! other characters as UTF-8.

use std::fmt;
use std::ops::Index;

mod parse;

pub use parse::{parse, parse_bytes, ParseError};

/// Objects nested deeper than this are refused, so that hostile input ends in
/// an error instead of exhausting the agent's stack.
pub const MAX_DEPTH: usize = 128;

/// Any JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number: see [`Number`].
    Number(Number),
    /// A string, decoded.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, in insertion order.
    Object(Map),
}

/// A JSON number: an integer that fits in `i64`, or a float.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// An integer literal that fits in `i64`.
    Int(i64),
    /// Anything else: a fraction, an exponent, or an integer too large for `i64`.
    Float(f64),
}

impl Number {
    /// The number as `f64` (an `i64` beyond 2^53 is rounded).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(x) => x,
        }
    }
}

impl PartialEq for Number {
    /// Numeric equality: `1` equals `1.0`, as JSON has one number type.
    fn eq(&self, other: &Number) -> bool {
        match (*self, *other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (a, b) => a.as_f64() == b.as_f64(),
        }
    }
}

/// A JSON object: keys are unique and keep the order they were inserted in.
///
/// Lookups are linear, which is the fast choice for the few keys of an ACL
/// message; a very large object is still parsed in O(n log n).
#[derive(Clone, Debug, Default)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

impl Map {
    /// An empty object.
    pub fn new() -> Map {
        Map {
            entries: Vec::new(),
        }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` for changing in place, if present.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: in its old place when present (returning the old
    /// value), else at the end.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        let key = key.into();
        let value = value.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the others; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// The keys and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The compact JSON text of this object.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends the compact JSON text of this object to `out`.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(key, out);
            out.push(':');
            value.write_json(out);
        }
        out.push('}');
    }

    /// Drops all but the last of each duplicated key (as JavaScript and Python
    /// do), keeping the first position of each key.
    fn dedup_keep_last(&mut self) {
        let n = self.entries.len();
        if n < 2 {
            return;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.entries[a].0.cmp(&self.entries[b].0).then(a.cmp(&b)));
        let mut keep = vec![true; n];
        let mut moves: Vec<(usize, usize)> = Vec::new(); // (first position, last duplicate)
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && self.entries[order[j + 1]].0 == self.entries[order[i]].0 {
                j += 1;
            }
            if j > i {
                for &dropped in &order[i + 1..=j] {
                    keep[dropped] = false;
                }
                moves.push((order[i], order[j]));
            }
            i = j + 1;
        }
        if moves.is_empty() {
            return;
        }
        for (first, last) in moves {
            let value = std::mem::replace(&mut self.entries[last].1, Value::Null);
            self.entries[first].1 = value;
        }
        let mut index = 0;
        self.entries.retain(|_| {
            let kept = keep[index];
            index += 1;
            kept
        });
    }
}

impl PartialEq for Map {
    /// Objects are equal when they hold the same keys with equal values, in any order.
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Map {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

static NULL: Value = Value::Null;

impl Value {
    /// A new empty object.
    pub fn object() -> Value {
        Value::Object(Map::new())
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is a number without fraction that fits in `i64`
    /// (`3.0` counts; `3.5` does not).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Int(n)) => Some(*n),
            Value::Number(Number::Float(x))
                if x.fract() == 0.0
                    && *x >= -9.223_372_036_854_776e18
                    && *x < 9.223_372_036_854_776e18 =>
            {
                Some(*x as i64)
            }
            _ => None,
        }
    }

    /// The number as `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The elements for changing, if this is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object for changing, if this is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The value of `key` if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// The compact JSON text of this value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends the compact JSON text of this value to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => write_number(*n, out),
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(map) => map.write_json(out),
        }
    }
}

impl fmt::Display for Value {
    /// The compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl std::str::FromStr for Value {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Value, ParseError> {
        parse(text)
    }
}

impl Index<&str> for Value {
    type Output = Value;
    /// `value["key"]`: the member, or `Null` when absent or not an object.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Index<usize> for Value {
    type Output = Value;
    /// `value[i]`: the element, or `Null` when out of range or not an array.
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl Default for Value {
    fn default() -> Value {
        Value::Null
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<i64> for Value {
    fn eq(&self, other: &i64) -> bool {
        matches!(self, Value::Number(n) if *n == Number::Int(*other))
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value { Value::Number(Number::Int(n as i64)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        if n <= i64::MAX as u64 {
            Value::Number(Number::Int(n as i64))
        } else {
            Value::Number(Number::Float(n as f64))
        }
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::from(n as u64)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Number(Number::Float(x))
    }
}

impl From<f32> for Value {
    fn from(x: f32) -> Value {
        Value::Number(Number::Float(x as f64))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes `null`.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Value {
        Value::Array(iter.into_iter().map(Into::into).collect())
    }
}

/// Builds a [`Value`] from JSON-like syntax.
///
/// ```
/// use caxton::json;
/// let n = 41;
/// let v = json!({"ping": n + 1, "tags": ["a", "b"], "none": null, "ok": true});
/// assert_eq!(v.to_json(), r#"{"ping":42,"tags":["a","b"],"none":null,"ok":true}"#);
/// ```
///
/// Keys are string literals (or an expression in parentheses); a value is
/// `null`, a nested `{...}` or `[...]`, or any Rust expression whose type
/// converts `Into<Value>` (numbers, `bool`, strings, `Value`, `Vec`, `Option`).
#[macro_export]
macro_rules! json {
    // Object members: `key: value tokens...` up to the next top-level comma.
    (@object $map:ident ()) => {};
    (@object $map:ident ($key:tt : $($rest:tt)*)) => {
        $crate::json!(@member $map [$key] () ($($rest)*));
    };
    (@member $map:ident [$key:tt] ($($value:tt)*) (, $($rest:tt)*)) => {
        $map.insert($key, $crate::json!($($value)*));
        $crate::json!(@object $map ($($rest)*));
    };
    (@member $map:ident [$key:tt] ($($value:tt)*) ()) => {
        $map.insert($key, $crate::json!($($value)*));
    };
    (@member $map:ident [$key:tt] ($($value:tt)*) ($next:tt $($rest:tt)*)) => {
        $crate::json!(@member $map [$key] ($($value)* $next) ($($rest)*));
    };
    // Array elements, the same way.
    (@array $vec:ident () ()) => {};
    (@array $vec:ident ($($elem:tt)+) ()) => {
        $vec.push($crate::json!($($elem)+));
    };
    (@array $vec:ident ($($elem:tt)+) (, $($rest:tt)*)) => {
        $vec.push($crate::json!($($elem)+));
        $crate::json!(@array $vec () ($($rest)*));
    };
    (@array $vec:ident ($($elem:tt)*) ($next:tt $($rest:tt)*)) => {
        $crate::json!(@array $vec ($($elem)* $next) ($($rest)*));
    };
    (null) => {
        $crate::json::Value::Null
    };
    ([ $($tt:tt)* ]) => {{
        #[allow(unused_mut)]
        let mut items: ::std::vec::Vec<$crate::json::Value> = ::std::vec::Vec::new();
        $crate::json!(@array items () ($($tt)*));
        $crate::json::Value::Array(items)
    }};
    ({ $($tt:tt)* }) => {{
        #[allow(unused_mut)]
        let mut map = $crate::json::Map::new();
        $crate::json!(@object map ($($tt)*));
        $crate::json::Value::Object(map)
    }};
    ($($other:tt)+) => {
        $crate::json::Value::from($($other)+)
    };
}

fn write_number(n: Number, out: &mut String) {
    use std::fmt::Write;
    match n {
        Number::Int(i) => {
            let _ = write!(out, "{}", i);
        }
        // Debug keeps a fraction or an exponent ("1.0", "1e21"), all valid JSON,
        // and round-trips exactly; JSON has no NaN or infinity.
        Number::Float(x) if x.is_finite() => {
            let _ = write!(out, "{:?}", x);
        }
        Number::Float(_) => out.push_str("null"),
    }
}

/// Appends `s` as a JSON string literal, quotes included.
pub fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests;
