//! Unit tests of `diagram/json.rs`.

use super::*;

fn err(text: &str) -> String {
    match parse(text) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_a_trace_line() {
    let v = parse(r#" {"time":1795300000.123,"local":null,"ok":true,"fields":{"ids":[5,6],"s":"a\"\u00e9\ud83d\ude00"}} "#)
        .expect("valid");
    let Value::Object(members) = v else {
        panic!("not an object")
    };
    assert_eq!(
        members[0],
        ("time".into(), Value::Num("1795300000.123".into()))
    );
    assert_eq!(members[0].1.as_f64(), Some(1795300000.123));
    assert_eq!(members[1].1, Value::Null);
    assert_eq!(members[2].1, Value::Bool(true));
    let Value::Object(fields) = &members[3].1 else {
        panic!("fields")
    };
    assert_eq!(
        fields[0].1,
        Value::Array(vec![Value::Num("5".into()), Value::Num("6".into())])
    );
    assert_eq!(fields[1].1.as_str(), Some("a\"é😀"));
}

#[test]
fn numbers_follow_the_grammar() {
    for ok in ["0", "-0", "12", "1.5", "1e3", "1E+3", "2.5e-3"] {
        assert_eq!(parse(ok), Ok(Value::Num(ok.into())), "{ok}");
    }
    for bad in ["01", "+1", "1.", ".5", "1e", "-", "1e999", "NaN", "0x10"] {
        assert!(parse(bad).is_err(), "{bad} should be refused");
    }
    assert_eq!(parse("42").ok().and_then(|v| v.as_u64()), Some(42));
    assert_eq!(parse("-1").ok().and_then(|v| v.as_u64()), None);
}

#[test]
fn refuses_what_is_not_strict_json() {
    assert_eq!(
        err(r#"{"a":1,}"#),
        "column 8: expected a key in double quotes"
    );
    assert_eq!(
        err(r#"{"a":1} x"#),
        "column 9: unexpected text after the value"
    );
    assert_eq!(err(r#"{"a":1,"a":2}"#), "column 8: duplicate key \"a\"");
    assert_eq!(err("{'a':1}"), "column 2: expected a key in double quotes");
    assert_eq!(err("[1 2]"), "column 4: expected ',' or ']'");
    assert_eq!(err("\"a\tb\""), "column 3: control character in a string");
    assert_eq!(err(r#""\ud800""#), "column 8: lone surrogate in \\u escape");
    assert_eq!(err(r#""\x""#), "column 3: unknown escape");
    assert_eq!(err(r#""abc"#), "column 5: unterminated string");
    assert_eq!(err(""), "column 1: unexpected end of line");
    assert_eq!(err("tru"), "column 1: expected a value");
    assert_eq!(err(&"[".repeat(100)), "column 65: nested too deep");
}
