//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Every hash in flightrec is taken over these bytes, so two parties that
//! hold the same JSON value always hash the same bytes. Object members are
//! sorted by their UTF-16 code units, strings use the minimal escapes of
//! ECMAScript's `JSON.stringify`, and numbers are written the way
//! ECMAScript's `Number.prototype.toString` writes an IEEE-754 double.
//!
//! Not here: parsing. Callers hand in a `serde_json::Value`; a number that
//! does not fit a double is rounded to one, as any JCS implementation must.

use serde_json::Value;
use std::fmt::Write as _;

/// The canonical form of `value` as UTF-8 bytes.
pub fn to_vec(value: &Value) -> Vec<u8> {
    to_string(value).into_bytes()
}

/// The canonical form of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| compare_keys(a.0, b.0));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// JCS orders members by UTF-16 code units. That is byte order, except
/// when a character above U+FFFF meets one in U+E000..=U+FFFF, so the slow
/// comparison is needed only when a key has a byte of such characters.
fn compare_keys(a: &str, b: &str) -> std::cmp::Ordering {
    let plain = |s: &str| s.bytes().all(|b| b < 0xEE);
    if plain(a) && plain(b) {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    // Integers that a double holds exactly print as integers without a
    // detour through floating point; everything else goes through the
    // ECMAScript double formatting.
    const EXACT: u64 = 1 << 53;
    if let Some(u) = n.as_u64().filter(|u| *u <= EXACT) {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        let _ = write!(out, "{i}");
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        if f == 0.0 {
            // ECMAScript prints -0 as "0".
            out.push('0');
        } else {
            let mut buf = ryu_js::Buffer::new();
            out.push_str(buf.format_finite(f));
        }
    }
}

/// Writes `s` as a JSON string with JCS's escapes.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Copy runs that need no escape in one go; most strings are one run.
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b < 0x20 || b == b'"' || b == b'\\' {
            out.push_str(&s[start..i]);
            escape(out, b as char);
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn escape(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        to_string(&serde_json::from_str(text).unwrap())
    }

    // RFC 8785 §3.2.2: the worked example of the whole scheme.
    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    // RFC 8785 §3.2.3: sorting by UTF-16 code units, not by UTF-8 bytes.
    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
            \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    // RFC 8785 Appendix B: IEEE-754 doubles and their canonical text.
    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (f64::from_bits(0x0000000000000001), "5e-324"),
            (f64::from_bits(0x8000000000000001), "-5e-324"),
            (
                f64::from_bits(0x7fefffffffffffff),
                "1.7976931348623157e+308",
            ),
            (
                f64::from_bits(0xffefffffffffffff),
                "-1.7976931348623157e+308",
            ),
            (f64::from_bits(0x4340000000000000), "9007199254740992"),
            (f64::from_bits(0xc340000000000000), "-9007199254740992"),
            (f64::from_bits(0x4430000000000000), "295147905179352830000"),
            (f64::from_bits(0x44b52d02c7e14af5), "9.999999999999997e+22"),
            (f64::from_bits(0x44b52d02c7e14af6), "1e+23"),
            (f64::from_bits(0x44b52d02c7e14af7), "1.0000000000000001e+23"),
            (f64::from_bits(0x444b1ae4d6e2ef4e), "999999999999999700000"),
            (f64::from_bits(0x444b1ae4d6e2ef4f), "999999999999999900000"),
            (f64::from_bits(0x444b1ae4d6e2ef50), "1e+21"),
            (f64::from_bits(0x3eb0c6f7a0b5ed8c), "9.999999999999997e-7"),
            (f64::from_bits(0x3eb0c6f7a0b5ed8d), "0.000001"),
            (f64::from_bits(0x41b3de4355555553), "333333333.3333332"),
            (f64::from_bits(0x41b3de4355555554), "333333333.33333325"),
            (f64::from_bits(0x41b3de4355555555), "333333333.3333333"),
            (f64::from_bits(0x41b3de4355555556), "333333333.3333334"),
            (f64::from_bits(0x41b3de4355555557), "333333333.33333343"),
            (
                f64::from_bits(0xbecbf647612f3696),
                "-0.0000033333333333333333",
            ),
            (f64::from_bits(0x43143ff3c1cb0959), "1424953923781206.2"),
        ];
        for (value, expected) in cases {
            let v = serde_json::Number::from_f64(*value)
                .map(Value::Number)
                .unwrap();
            assert_eq!(to_string(&v), *expected, "bits {:016x}", value.to_bits());
        }
    }

    #[test]
    fn integers_stay_exact_and_large_ones_round_like_doubles() {
        assert_eq!(to_string(&json!(42)), "42");
        assert_eq!(to_string(&json!(-7)), "-7");
        assert_eq!(to_string(&json!(9007199254740992u64)), "9007199254740992");
        // 2^64 - 1 is not a double; JCS writes the nearest double.
        assert_eq!(to_string(&json!(u64::MAX)), "18446744073709552000");
    }

    #[test]
    fn agrees_with_an_independent_implementation() {
        let samples = [
            json!({"b": [1, 2.5, -0.001, 1e22, "x\u{7f}\u{1}"], "a": {"z": null, "é": true, "\u{1f600}": false}}),
            json!([{"k": "line\nbreak\ttab\"quote\\"}, 1.5e-7, 123456789012345u64]),
            json!({"nested": {"deeper": {"deepest": [[], {}, ""]}}}),
        ];
        for sample in samples {
            let theirs = serde_jcs::to_string(&sample).unwrap();
            assert_eq!(to_string(&sample), theirs);
        }
    }
}
