//! Protocol `Value`s as JSON and back, to keep targets (generated shapes) in the store
//! exactly as PutTargets received them.

use kagami_core::Value;
use serde_json::{Map, Value as Json};

pub(crate) fn to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Stream(_) | Value::Blob(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Timestamp(t) => Json::String(t.to_iso8601()),
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<String, Json>>()),
        Value::Document(d) => d.clone(),
    }
}

pub(crate) fn from_json(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or_default()), Value::Int),
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(a) => Value::List(a.iter().map(from_json).collect()),
        Json::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}
