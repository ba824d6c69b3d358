//! Unit tests of `json`, run natively (see the crate's README).
use super::*;

fn round_trip(text: &str) -> String {
    parse(text).unwrap().to_json()
}

#[test]
fn scalars() {
    assert_eq!(parse("null").unwrap(), Value::Null);
    assert_eq!(parse(" true ").unwrap(), Value::Bool(true));
    assert_eq!(parse("false").unwrap(), Value::Bool(false));
    assert_eq!(parse("0").unwrap(), 0i64);
    assert_eq!(parse("-12").unwrap(), -12i64);
    assert_eq!(parse("9223372036854775807").unwrap(), i64::MAX);
    assert_eq!(parse("-9223372036854775808").unwrap(), i64::MIN);
    assert_eq!(
        parse("9223372036854775808").unwrap().as_f64(),
        Some(9223372036854775808.0)
    );
    assert_eq!(parse("1.5").unwrap().as_f64(), Some(1.5));
    assert_eq!(parse("-2.5e-3").unwrap().as_f64(), Some(-0.0025));
    assert_eq!(parse("1E2").unwrap().as_f64(), Some(100.0));
    assert_eq!(parse("1e2").unwrap().as_i64(), Some(100));
}

#[test]
fn numbers_serialise_as_valid_json() {
    assert_eq!(round_trip("1.0"), "1.0");
    assert_eq!(round_trip("0.1"), "0.1");
    assert_eq!(round_trip("1e21"), "1e21");
    assert_eq!(round_trip("1e-7"), "1e-7");
    assert_eq!(round_trip("-0.0"), "-0.0");
    assert_eq!(round_trip("12345678901234567890"), "1.2345678901234567e19");
    assert_eq!(Value::from(f64::NAN).to_json(), "null");
    assert_eq!(Value::from(f64::INFINITY).to_json(), "null");
    assert_eq!(Value::from(u64::MAX).to_json(), "1.8446744073709552e19");
    for text in ["0.30000000000000004", "5e-324", "1.7976931348623157e308"] {
        assert_eq!(round_trip(text), text);
    }
}

#[test]
fn strings_decode_every_escape() {
    let v = parse(r#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00""#).unwrap();
    assert_eq!(v, "a\"b\\c/d\u{8}\u{c}\n\r\tAé€😀");
    assert_eq!(parse("\"héllo wörld ✓ 😀\"").unwrap(), "héllo wörld ✓ 😀");
}

#[test]
fn strings_encode_what_json_requires() {
    let s = "q\"b\\s/\u{0}\u{1f}\u{8}\u{c}\n\r\t\u{7f}é😀\u{2028}";
    let text = Value::from(s).to_json();
    assert_eq!(
        text,
        "\"q\\\"b\\\\s/\\u0000\\u001f\\b\\f\\n\\r\\t\u{7f}é😀\u{2028}\""
    );
    assert_eq!(parse(&text).unwrap(), s);
}

#[test]
fn surrogates_must_pair() {
    assert_eq!(
        parse(r#""\ud800""#).unwrap_err().reason,
        "lone high surrogate in \\u escape"
    );
    assert_eq!(
        parse(r#""\ud800\u0041""#).unwrap_err().reason,
        "lone high surrogate in \\u escape"
    );
    assert_eq!(
        parse(r#""\udc00""#).unwrap_err().reason,
        "lone low surrogate in \\u escape"
    );
    assert_eq!(parse(r#""x\ud83d"#).unwrap_err().offset, 2);
}

#[test]
fn objects_keep_order_and_the_last_duplicate() {
    let v = parse(r#"{"b":1,"a":{"z":[1,2,{"y":null}]},"c":"x"}"#).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["b", "a", "c"]
    );
    assert_eq!(v["a"]["z"][2].get("y"), Some(&Value::Null));
    assert_eq!(v["missing"]["deeper"][3], Value::Null);
    assert_eq!(round_trip(r#"{"k":1,"j":2,"k":3}"#), r#"{"k":3,"j":2}"#);
    let many: Vec<String> = (0..40).map(|i| format!("\"k{}\":{}", i % 20, i)).collect();
    let v = parse(&format!("{{{}}}", many.join(","))).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 20);
    assert_eq!(v["k0"], 20i64);
    assert_eq!(v["k19"], 39i64);
    assert_eq!(v.as_object().unwrap().keys().next(), Some("k0"));
}

#[test]
fn whitespace_and_empty_containers() {
    assert_eq!(
        round_trip(" { \"a\" : [ ] , \"b\" : { } }\n"),
        r#"{"a":[],"b":{}}"#
    );
}

#[test]
fn errors_say_where() {
    for (text, offset, reason) in [
        ("", 0, "unexpected end of text"),
        ("{", 1, "expected a string key"),
        ("[1,]", 3, "unexpected character"),
        ("{\"a\" 1}", 5, "expected ':'"),
        ("[1 2]", 3, "expected ',' or ']'"),
        ("\"abc", 4, "unterminated string"),
        ("\"a\nb\"", 2, "control character in string"),
        ("\"\\x\"", 2, "unknown escape"),
        ("\"\\u12G4\"", 3, "bad hex digit in \\u escape"),
        ("01", 1, "unexpected text after the value"),
        ("-", 1, "expected a digit"),
        ("1.", 2, "expected a digit after '.'"),
        ("1e+", 3, "expected a digit in the exponent"),
        ("nul", 0, "unexpected character"),
        ("{} x", 3, "unexpected text after the value"),
    ] {
        let error = parse(text).unwrap_err();
        assert_eq!((error.offset, error.reason), (offset, reason), "{:?}", text);
    }
    assert_eq!(
        parse_bytes(b"\"\xff\"").unwrap_err().reason,
        "not valid UTF-8"
    );
}

#[test]
fn depth_is_limited() {
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(&ok).is_ok());
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(parse(&deep).unwrap_err().reason, "nested too deeply");
    let deep_objects = "{\"a\":".repeat(MAX_DEPTH + 1);
    assert_eq!(
        parse(&deep_objects).unwrap_err().reason,
        "nested too deeply"
    );
}

#[test]
fn the_json_macro() {
    let n = 41;
    let name = String::from("ping");
    let nested = json!([1, 2]);
    let v = json!({
        "n": n + 1,
        "neg": -3,
        "name": name.as_str(),
        "list": [1, "two", null, true, [], {}],
        "nested": nested,
        (format!("k{}", 1)): {"deep": {"er": 2.5}},
        "none": Option::<i64>::None,
    });
    assert_eq!(
        v.to_json(),
        r#"{"n":42,"neg":-3,"name":"ping","list":[1,"two",null,true,[],{}],"nested":[1,2],"k1":{"deep":{"er":2.5}},"none":null}"#
    );
    assert_eq!(json!(null), Value::Null);
    assert_eq!(json!([]), Value::Array(vec![]));
    assert_eq!(json!({}), Value::object());
    assert_eq!(json!("s"), "s");
}

#[test]
fn numbers_compare_by_value() {
    assert_eq!(parse("1").unwrap(), parse("1.0").unwrap());
    assert_eq!(parse("3.0").unwrap().as_i64(), Some(3));
    assert_eq!(parse("3.5").unwrap().as_i64(), None);
    assert_eq!(parse("1e300").unwrap().as_i64(), None);
}

#[test]
fn maps_insert_in_place_and_remove() {
    let mut m = Map::new();
    m.insert("a", 1);
    m.insert("b", 2);
    assert_eq!(m.insert("a", 3), Some(Value::from(1)));
    assert_eq!(Value::from(m.clone()).to_json(), r#"{"a":3,"b":2}"#);
    assert_eq!(m.remove("a"), Some(Value::from(3)));
    assert_eq!(m.remove("a"), None);
    assert_eq!(Value::from(m).to_json(), r#"{"b":2}"#);
    let a = json!({"x": 1, "y": 2});
    let b = json!({"y": 2, "x": 1});
    assert_eq!(a, b);
}
