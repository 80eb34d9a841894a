//! OTel attributes as JSON, and taking the ones a convention knows out of
//! them, so that whatever no mapping used is still kept (under
//! `metadata.attributes`) and nothing is stored twice.

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::{Map, Value};

/// An `AnyValue` as JSON: strings, bools and numbers as they are, arrays
/// and key-value lists as arrays and objects, bytes as base64.
pub fn any_value_json(value: &AnyValue) -> Value {
    use any_value::Value as V;
    match &value.value {
        None => Value::Null,
        Some(V::StringValue(s)) => Value::String(s.clone()),
        Some(V::BoolValue(b)) => Value::Bool(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        // JSON has no NaN or infinities: keep them readable as text.
        Some(V::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(d.to_string())),
        Some(V::ArrayValue(a)) => Value::Array(a.values.iter().map(any_value_json).collect()),
        Some(V::KvlistValue(kv)) => Value::Object(key_values_json(&kv.values)),
        Some(V::BytesValue(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        // Only meaningful inside profiles (a string-table index).
        Some(V::StringValueStrindex(_)) => Value::Null,
    }
}

fn key_values_json(kvs: &[KeyValue]) -> Map<String, Value> {
    kvs.iter()
        .map(|kv| {
            let value = kv.value.as_ref().map(any_value_json).unwrap_or(Value::Null);
            (kv.key.clone(), value)
        })
        .collect()
}

/// A span's, log record's or resource's attributes, by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Map<String, Value>);

impl Attributes {
    pub fn from_key_values(kvs: &[KeyValue]) -> Attributes {
        Attributes(key_values_json(kvs))
    }

    #[cfg(test)]
    pub fn from_map(map: Map<String, Value>) -> Attributes {
        Attributes(map)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A text attribute (numbers and bools as their text), untaken.
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key).and_then(as_text)
    }

    /// Takes an attribute out, whatever its type.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key).filter(|v| !v.is_null())
    }

    /// Takes a text attribute out; numbers and bools become their text, and
    /// an empty string counts as absent.
    pub fn take_str(&mut self, key: &str) -> Option<String> {
        match self.get(key).and_then(as_text) {
            Some(s) => {
                self.0.remove(key);
                (!s.is_empty()).then_some(s)
            }
            None => None,
        }
    }

    /// [`Attributes::take_str`] of the first of `keys` present (an
    /// attribute's current name first, then its older ones).
    pub fn take_first_str(&mut self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.take_str(k))
    }

    /// Takes a count out: an integer, or a string of one (OTLP/JSON sends
    /// 64-bit integers as strings, and some libraries send counts as text).
    /// A value that is no count stays where it is.
    pub fn take_count(&mut self, key: &str) -> Option<u64> {
        let count = match self.get(key)? {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }?;
        self.0.remove(key);
        Some(count)
    }

    /// Takes a number out (an integer, a float or a numeric string); a
    /// value that is no number stays.
    pub fn take_number(&mut self, key: &str) -> Option<serde_json::Number> {
        let number = match self.get(key)? {
            Value::Number(n) => Some(n.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64),
            _ => None,
        }?;
        self.0.remove(key);
        Some(number)
    }

    /// Takes an attribute out as structured JSON: a string that holds a
    /// JSON object or array (how the GenAI conventions carry messages and
    /// tool arguments) is parsed; anything else is kept as it is.
    pub fn take_json(&mut self, key: &str) -> Option<Value> {
        self.take(key).map(parse_embedded_json)
    }

    /// Takes every attribute under `prefix.` out, as one value: flattened
    /// indexes (`prefix.0.role`, `prefix.0.content`) become an array of
    /// objects, other keys nested objects. `None` when there were none.
    pub fn take_flattened(&mut self, prefix: &str) -> Option<Value> {
        let dotted = format!("{prefix}.");
        let keys: Vec<String> = self
            .0
            .keys()
            .filter(|k| k.starts_with(&dotted))
            .cloned()
            .collect();
        if keys.is_empty() {
            return None;
        }
        let mut tree = Value::Null;
        for key in keys {
            let value = self.0.remove(&key).unwrap_or(Value::Null);
            let path: Vec<&str> = key[dotted.len()..].split('.').collect();
            insert_path(&mut tree, &path, value);
        }
        Some(compact(tree))
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

/// A string holding a JSON object or array, parsed; any other value as is.
pub fn parse_embedded_json(value: Value) -> Value {
    match &value {
        Value::String(s) => {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('['))
                && let Ok(parsed) = serde_json::from_str::<Value>(s)
            {
                return parsed;
            }
            value
        }
        _ => value,
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Puts `value` at `path` in `tree`, where numeric segments are array
/// indexes (kept as object keys until [`compact`] turns them into arrays,
/// since the keys arrive in any order).
fn insert_path(tree: &mut Value, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *tree = value;
        return;
    };
    if !tree.is_object() {
        // A value and a deeper key under one name (`a` and `a.b`): the
        // deeper keys win, the value is kept beside them.
        let previous = std::mem::take(tree);
        let mut map = Map::new();
        if !previous.is_null() {
            map.insert("value".into(), previous);
        }
        *tree = Value::Object(map);
    }
    let map = tree.as_object_mut().expect("made an object above");
    let child = map.entry(first.to_string()).or_insert(Value::Null);
    insert_path(child, rest, value);
}

/// Objects whose keys are all indexes become arrays, in index order.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let all_indexes = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if all_indexes {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), compact(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, compact(v))).collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> Attributes {
        Attributes::from_map(value.as_object().unwrap().clone())
    }

    #[test]
    fn flattened_indexes_become_arrays_in_index_order() {
        let mut a = attrs(json!({
            "gen_ai.prompt.1.content": "second",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "first",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.10.role": "user",
            "other": 1
        }));
        let prompt = a.take_flattened("gen_ai.prompt").unwrap();
        assert_eq!(
            prompt,
            json!([
                {"role": "system", "content": "first"},
                {"content": "second", "role": "user"},
                {"role": "user"}
            ])
        );
        assert_eq!(
            a.into_map(),
            json!({"other": 1}).as_object().unwrap().clone()
        );
    }

    #[test]
    fn counts_come_as_integers_or_strings_and_others_stay() {
        let mut a = attrs(json!({"a": 12, "b": "34", "c": "many", "d": 2.0}));
        assert_eq!(a.take_count("a"), Some(12));
        assert_eq!(a.take_count("b"), Some(34));
        assert_eq!(a.take_count("c"), None);
        assert_eq!(a.take_count("d"), Some(2));
        assert_eq!(a.get_str("c").as_deref(), Some("many"));
    }

    #[test]
    fn json_in_strings_is_parsed_and_plain_text_kept() {
        let mut a = attrs(json!({"m": "[{\"role\":\"user\"}]", "t": "[not json", "o": {"x": 1}}));
        assert_eq!(a.take_json("m"), Some(json!([{"role": "user"}])));
        assert_eq!(a.take_json("t"), Some(json!("[not json")));
        assert_eq!(a.take_json("o"), Some(json!({"x": 1})));
    }
}
