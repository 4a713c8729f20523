//! Peer answers (protocol `Value`s) as the JSON a Lambda event carries: blobs in base64,
//! timestamps in epoch seconds, as the JSON protocols put them on the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::Value;
use serde_json::{Map, Value as Json};

pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Stream(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Blob(b) => Json::String(STANDARD.encode(b)),
        Value::Timestamp(t) => {
            let secs = t.as_epoch_f64();
            if secs.fract() == 0.0 {
                Json::from(t.as_millis().div_euclid(1000))
            } else {
                serde_json::Number::from_f64(secs).map_or(Json::Null, Json::Number)
            }
        }
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<String, Json>>()),
        Value::Document(d) => d.clone(),
    }
}

/// A string member of a peer's answer.
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    #[test]
    fn blobs_become_base64_and_timestamps_epoch_seconds() {
        let mut m = IndexMap::new();
        m.insert("B".to_string(), Value::Blob(bytes::Bytes::from_static(b"hi")));
        m.insert("T".to_string(), Value::Timestamp(kagami_core::Timestamp::from_secs(1_700_000_000)));
        assert_eq!(to_json(&Value::Map(m)), serde_json::json!({"B": "aGk=", "T": 1_700_000_000}));
    }
}
