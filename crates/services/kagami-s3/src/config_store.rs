//! Bucket configuration documents (CORS, website, lifecycle, tagging, policy, ...),
//! kept per bucket as the protocol engine's `Value` of the typed shape and persisted as
//! JSON, one record per bucket and configuration name (`<bucket>/<Name>`).
//!
//! The JSON form is lossless for what configurations hold: numbers keep their integer
//! or float kind; blobs, timestamps and documents are tagged objects.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use kagami_core::{Timestamp, Value};
use serde_json::{Map, Number, Value as Json};

const BLOB: &str = "$blob";
const TIMESTAMP: &str = "$ts";
const DOCUMENT: &str = "$doc";

/// The store key of configuration `name` of `bucket`.
pub fn config_key(bucket: &str, name: &str) -> String {
    format!("{bucket}/{name}")
}

/// Splits a store key back into bucket and configuration name.
pub fn split_config_key(key: &str) -> Option<(&str, &str)> {
    key.split_once('/')
}

pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null | Value::Stream(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Blob(b) => tagged(BLOB, Json::String(STANDARD.encode(b))),
        Value::Timestamp(t) => tagged(TIMESTAMP, Json::Number(t.as_millis().into())),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Document(d) => tagged(DOCUMENT, d.clone()),
    }
}

pub fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::List(items.iter().map(from_json).collect()),
        Json::Object(m) => {
            if m.len() == 1 {
                if let Some(Json::String(b)) = m.get(BLOB) {
                    return Value::Blob(STANDARD.decode(b).unwrap_or_default().into());
                }
                if let Some(ms) = m.get(TIMESTAMP).and_then(Json::as_i64) {
                    return Value::Timestamp(Timestamp::from_millis(ms));
                }
                if let Some(d) = m.get(DOCUMENT) {
                    return Value::Document(d.clone());
                }
            }
            Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), from_json(v)))
                    .collect::<IndexMap<_, _>>(),
            )
        }
    }
}

fn tagged(tag: &str, value: Json) -> Json {
    let mut m = Map::new();
    m.insert(tag.to_string(), value);
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_values_survive_the_json_round_trip() {
        let mut rule = IndexMap::new();
        rule.insert("ID".to_string(), Value::Str("expire-logs".into()));
        rule.insert("Days".to_string(), Value::Int(30));
        rule.insert("Ratio".to_string(), Value::Float(0.5));
        rule.insert("Whole".to_string(), Value::Float(2.0));
        rule.insert("Enabled".to_string(), Value::Bool(true));
        rule.insert("Date".to_string(), Value::Timestamp(Timestamp::from_millis(1_700_000_000_000)));
        rule.insert("Blob".to_string(), Value::Blob(bytes::Bytes::from_static(b"\x00\x01")));
        rule.insert("Doc".to_string(), Value::Document(serde_json::json!({"a": [1, "b"]})));
        let value = Value::List(vec![Value::Map(rule), Value::Null]);
        let text = serde_json::to_string(&to_json(&value)).unwrap();
        let back: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(from_json(&back), value);
    }
}
