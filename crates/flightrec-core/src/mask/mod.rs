//! Credential masking: secrets never reach the log.
//!
//! Every string of an incoming event is scanned before the event is hashed
//! or stored. A credential found inside text is replaced by
//! `[MASKED:<kind>]`, keeping the text around it; any value under a key
//! named like a secret (`password`, `api_key`, `authorization`, …) is
//! replaced whole. Each masked value's path is reported so the event can
//! say what was masked without saying what it was. Masking cannot be
//! turned off.
//!
//! Not here: compliance rules (personal data that is not a credential),
//! which are the tenant's choice and may alert instead of mask.

mod detectors;

pub use detectors::kinds;

use crate::event::Redaction;
use detectors::{ANY, DETECTORS};
use serde_json::{Map, Value};

/// Strings shorter than this hold no credential the detectors know.
const MIN_SECRET_LEN: usize = 8;

/// The most passes [`mask_text`] makes over one text. The texts known to
/// need more than one (a secret glued to one masked before it) need two;
/// the bound keeps a hostile text, with detectors that chain further, from
/// costing a pass per secret. Masking past it would not be idempotent,
/// which fuzz/fuzz_targets/mask.rs would report.
const MAX_PASSES: usize = 4;

/// The replacement for a masked value.
pub fn placeholder(kind: &str) -> String {
    format!("[MASKED:{kind}]")
}

/// Masks the credentials in `text`; `None` when there are none. Returns
/// the masked text and the kinds found, in order, without repeats.
///
/// Masking is idempotent: the placeholders it writes are never taken for
/// secrets, and it masks again until nothing is left to mask, since one
/// pass can leave a secret the next finds (one that ran into a secret an
/// earlier detector took, as `glpat-…-eyJ…`, is only seen whole once that
/// one is a placeholder). So text masked twice, by an SDK and by the
/// server, keeps the first kinds and reports nothing new.
pub fn mask_text(text: &str) -> Option<(String, Vec<&'static str>)> {
    let (mut masked, mut kinds) = mask_once(text)?;
    for _ in 1..MAX_PASSES {
        let Some((again, more)) = mask_once(&masked) else {
            break;
        };
        masked = again;
        for kind in more {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    Some((masked, kinds))
}

/// One pass of [`mask_text`]; placeholders already in `text` are kept.
fn mask_once(text: &str) -> Option<(String, Vec<&'static str>)> {
    if text.len() < MIN_SECRET_LEN {
        return None;
    }
    let hits = ANY.matches(text);
    if !hits.matched_any() {
        return None;
    }
    // (start, end) of the placeholders already there: no secret overlaps
    // them, so a placeholder is never masked again.
    let masked_before = placeholders_in(text);
    // (start, end, kind) of every secret, earlier detectors first.
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    for i in hits.iter() {
        let d = &DETECTORS[i];
        for caps in d.regex.captures_iter(text) {
            if let Some(m) = caps.get(d.group) {
                let overlaps = |(s, e): (usize, usize)| m.start() < e && s < m.end();
                let overlaps = spans.iter().any(|(s, e, _)| overlaps((*s, *e)))
                    || masked_before.iter().any(|span| overlaps(*span));
                if !overlaps && !m.as_str().is_empty() {
                    spans.push((m.start(), m.end(), d.kind));
                }
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|(s, _, _)| *s);
    let mut out = String::with_capacity(text.len());
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut at = 0;
    for (start, end, kind) in spans {
        out.push_str(&text[at..start]);
        out.push_str(&placeholder(kind));
        at = end;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    out.push_str(&text[at..]);
    Some((out, kinds))
}

/// Where `text` has a placeholder of a kind the masker writes. One of
/// another kind (`[MASKED:hunter22]`) is text like any other.
fn placeholders_in(text: &str) -> Vec<(usize, usize)> {
    const OPEN: &str = "[MASKED:";
    let masker_kind =
        |kind: &str| kinds().any(|k| k == kind) || secret_key_kind(kind) == Some(kind);
    text.match_indices(OPEN)
        .filter_map(|(start, _)| {
            let kind_start = start + OPEN.len();
            let kind_len = text[kind_start..].find(']')?;
            let kind = &text[kind_start..kind_start + kind_len];
            masker_kind(kind).then_some((start, kind_start + kind_len + 1))
        })
        .collect()
}

/// The kind of secret a key's values are, if its name says so: `password`,
/// `db_password`, `X-Api-Key`, `clientSecret`, `Authorization`, … but not
/// `max_tokens` or `token_count`.
pub fn secret_key_kind(key: &str) -> Option<&'static str> {
    let normal: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const SUFFIXES: &[(&str, &str)] = &[
        ("password", "password"),
        ("passwd", "password"),
        ("passphrase", "password"),
        ("clientsecret", "client_secret"),
        ("secret", "secret"),
        ("secretkey", "secret"),
        ("privatekey", "private_key"),
        ("apikey", "api_key"),
        ("accesskey", "api_key"),
        ("token", "token"),
        ("authorization", "authorization"),
        ("cookie", "cookie"),
        ("credentials", "secret"),
        ("credential", "secret"),
        ("pwd", "password"),
        ("signature", "signature"),
    ];
    // Short names that are secrets alone, but too common inside other
    // names (`passenger`, `author`, `session_id`) to match as suffixes.
    const EXACT: &[(&str, &str)] = &[
        ("pass", "password"),
        ("auth", "authorization"),
        ("session", "session"),
        ("sessionkey", "session"),
        ("sessiontoken", "token"),
        ("sig", "signature"),
    ];
    // Names that hold a secret wherever the word stands in them.
    const ANYWHERE: &[(&str, &str)] = &[("privatekey", "private_key"), ("password", "password")];
    EXACT
        .iter()
        .find(|(name, _)| normal == *name)
        .or_else(|| SUFFIXES.iter().find(|(suffix, _)| normal.ends_with(suffix)))
        .or_else(|| ANYWHERE.iter().find(|(word, _)| normal.contains(word)))
        .map(|(_, kind)| *kind)
}

/// Masks every credential in `value`, whose path is `path`, appending a
/// redaction per masked value (and kind).
pub fn mask_value(path: &str, value: &mut Value, redactions: &mut Vec<Redaction>) {
    match value {
        Value::String(s) => {
            if let Some((masked, kinds)) = mask_text(s) {
                *s = masked;
                for kind in kinds {
                    redactions.push(Redaction {
                        path: path.to_owned(),
                        kind: kind.to_owned(),
                    });
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                mask_value(&format!("{path}[{i}]"), item, redactions);
            }
        }
        Value::Object(map) => mask_object(path, map, redactions),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Masks an object's values, and keys that are themselves credentials (a
/// token used as a map key); `path` is empty at the top of an event.
pub fn mask_object(path: &str, map: &mut Map<String, Value>, redactions: &mut Vec<Redaction>) {
    if map.keys().any(|k| mask_text(k).is_some()) {
        mask_keys(path, map, redactions);
    }
    for (key, value) in map.iter_mut() {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        // A key masked above names a secret by its placeholder, not its
        // value's kind: the value is scanned as any other.
        let kind = (!is_placeholder(key))
            .then(|| secret_key_kind(key))
            .flatten();
        match kind {
            Some(kind) => mask_whole(&child, value, kind, redactions),
            None => mask_value(&child, value, redactions),
        }
    }
}

/// Replaces the keys of `map` that hold a credential with their masked
/// text, keeping the order; two keys that mask alike are told apart by a
/// number (`[MASKED:token] 2`).
fn mask_keys(path: &str, map: &mut Map<String, Value>, redactions: &mut Vec<Redaction>) {
    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    for (key, value) in entries {
        let key = match mask_text(&key) {
            Some((masked, kinds)) => {
                let mut unique = masked.clone();
                let mut n = 1;
                while map.contains_key(&unique) {
                    n += 1;
                    unique = format!("{masked} {n}");
                }
                let at = if path.is_empty() {
                    unique.clone()
                } else {
                    format!("{path}.{unique}")
                };
                for kind in kinds {
                    redactions.push(Redaction {
                        path: at.clone(),
                        kind: kind.to_owned(),
                    });
                }
                unique
            }
            None => key,
        };
        map.insert(key, value);
    }
}

/// Replaces every string and number under a secret-named key.
fn mask_whole(path: &str, value: &mut Value, kind: &str, redactions: &mut Vec<Redaction>) {
    match value {
        Value::String(s) if s.is_empty() || is_placeholder(s) => {}
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(placeholder(kind));
            redactions.push(Redaction {
                path: path.to_owned(),
                kind: kind.to_owned(),
            });
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                mask_whole(&format!("{path}[{i}]"), item, kind, redactions);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                mask_whole(&format!("{path}.{k}"), v, kind, redactions);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn is_placeholder(s: &str) -> bool {
    s.starts_with("[MASKED:") && s.ends_with(']')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_inside_text_are_masked_and_the_rest_kept() {
        let (masked, kinds) = mask_text(
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE && curl -H 'Authorization: Bearer abcdefghijklmnop1234'",
        )
        .unwrap();
        assert_eq!(
            masked,
            "export AWS_ACCESS_KEY_ID=[MASKED:aws_access_key] && curl -H 'Authorization: Bearer [MASKED:authorization]'"
        );
        assert_eq!(kinds, ["aws_access_key", "authorization"]);
        let (masked, _) = mask_text("postgres://app:s3cr3t-pw@db.internal:5432/prod").unwrap();
        assert_eq!(
            masked,
            "postgres://app:[MASKED:url_password]@db.internal:5432/prod"
        );
    }

    #[test]
    fn harmless_look_alikes_pass() {
        for text in [
            "0193a0b2-7c4e-7d21-9f3a-2b8c4d5e6f70",
            "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "the token count was 1234",
            "max_tokens=4096",
            "sk-learn-compatible-estimator",
            "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        ] {
            assert_eq!(mask_text(text), None, "{text}");
        }
    }

    #[test]
    fn secret_named_keys_are_masked_whole() {
        let mut v = json!({
            "input": {"user": "ana", "password": "hunter22", "headers": {"X-Api-Key": "k-123456"}},
            "metadata": {"max_tokens": 4096, "token_count": 7, "has_password": true, "db": {"credentials": {"user": "u", "pass": 5}}},
        });
        let mut r = Vec::new();
        mask_object("", v.as_object_mut().unwrap(), &mut r);
        assert_eq!(v["input"]["password"], "[MASKED:password]");
        assert_eq!(v["input"]["headers"]["X-Api-Key"], "[MASKED:api_key]");
        assert_eq!(v["input"]["user"], "ana");
        assert_eq!(v["metadata"]["max_tokens"], 4096);
        assert_eq!(v["metadata"]["token_count"], 7);
        assert_eq!(v["metadata"]["has_password"], true);
        assert_eq!(
            v["metadata"]["db"]["credentials"]["user"],
            "[MASKED:secret]"
        );
        let paths: Vec<&str> = r.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "input.password",
                "input.headers.X-Api-Key",
                "metadata.db.credentials.user",
                "metadata.db.credentials.pass"
            ]
        );
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        let mut v = json!({"token": "[MASKED:token]", "note": "[MASKED:jwt] seen"});
        let mut r = Vec::new();
        mask_object("", v.as_object_mut().unwrap(), &mut r);
        assert!(r.is_empty());
    }

    #[test]
    fn masking_a_masked_text_again_changes_nothing() {
        // Found by fuzz/fuzz_targets/mask.rs: a second pass took the first
        // one's placeholder for a `token:` value ("token: [MASKED:jwt]"
        // became "token: [MASKED:password]"), and a secret that ran into
        // one found first was only masked by the second pass.
        for text in [
            "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "password=hunter22",
            "Cookie: a=b sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "glpat-abcdefghij0123456789-eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmN",
        ] {
            let (once, _) = mask_text(text).unwrap();
            assert_eq!(mask_text(&once), None, "{text:?} → {once:?}");
        }
        let (masked, kinds) = mask_text(
            "glpat-abcdefghij0123456789-eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmN",
        )
        .unwrap();
        assert_eq!(masked, "[MASKED:gitlab_token][MASKED:jwt]");
        assert_eq!(kinds, ["jwt", "gitlab_token"]);
        // A key found only once the URL after it is masked.
        let (masked, _) = mask_text(
            "AKIAIOSFODNN7EXAMPLEhttps://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX",
        )
        .unwrap();
        assert_eq!(masked, "[MASKED:aws_access_key][MASKED:slack_webhook]");
        // Only placeholders the masker writes are kept as they are.
        let (masked, _) = mask_text("password=[MASKED:hunter22]").unwrap();
        assert_eq!(masked, "password=[MASKED:password]");
    }

    #[test]
    fn every_detector_compiles() {
        assert!(kinds().count() >= 25);
        assert_eq!(detectors::DETECTORS.len(), kinds().count());
    }

    #[test]
    fn a_secret_used_as_an_object_key_is_masked() {
        let mut v = json!({"tokens": {"ghp_abcdefghijklmnopqrstuvwxyz0123456789": "ci",
                                      "plain": 1}});
        let mut redactions = Vec::new();
        mask_value("input", &mut v, &mut redactions);
        let keys: Vec<&String> = v["tokens"].as_object().unwrap().keys().collect();
        assert!(!v.to_string().contains("ghp_abcdef"), "{v}");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1], "plain", "order kept");
        assert!(keys[0].starts_with("[MASKED:"), "{keys:?}");
        assert_eq!(redactions.len(), 1, "{redactions:?}");
        assert!(redactions[0].path.starts_with("input.tokens.[MASKED:"));
    }

    #[test]
    fn short_and_embedded_secret_key_names_are_masked() {
        for key in [
            "pass",
            "pwd",
            "db_pwd",
            "auth",
            "session",
            "private_key",
            "private_key_pem",
            "signature",
            "x-hub-signature",
            "password_confirmation",
            "sig",
        ] {
            assert!(secret_key_kind(key).is_some(), "{key}");
        }
        for key in [
            "passenger",
            "author",
            "session_id",
            "compass",
            "signature_count_total_x",
        ] {
            assert_eq!(secret_key_kind(key), None, "{key}");
        }
    }
}
