//! The protocol-neutral tree that parsers produce and serializers consume.

use crate::Timestamp;
use crate::stream::StreamSlot;
use bytes::Bytes;
use indexmap::IndexMap;

/// A value shaped by a model shape. Structures and maps are both `Map`: the model
/// says which one a given place holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// integer, long, short, byte.
    Int(i64),
    /// float, double; NaN and infinities are legal on the wire.
    Float(f64),
    Str(String),
    Blob(Bytes),
    /// The payload of a streaming blob member (S3's object bodies), read as it arrives.
    /// Parsers put one only in the payload member; serializers send one only from there.
    Stream(StreamSlot),
    Timestamp(Timestamp),
    List(Vec<Value>),
    Map(IndexMap<String, Value>),
    /// A document (`document` shapes, `jsonvalue` strings): free-form JSON.
    Document(serde_json::Value),
}

impl Value {
    pub fn map() -> Value {
        Value::Map(IndexMap::new())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&IndexMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The body of a streaming payload: the stream, moved out of its slot (once), or a
    /// blob that arrived whole (a form-typed upload, an in-process call) as one chunk.
    pub fn take_stream(&self) -> Option<crate::stream::ByteStream> {
        match self {
            Value::Stream(slot) => slot.take(),
            Value::Blob(b) => Some(crate::stream::ByteStream::from_bytes(b.clone())),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Inserts into a `Map`; a no-op on other variants.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        if let Value::Map(m) = self {
            m.insert(key.into(), value);
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::Timestamp(t)
    }
}
impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Blob(b)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Blob(Bytes::from(b))
    }
}
impl From<crate::stream::ByteStream> for Value {
    fn from(s: crate::stream::ByteStream) -> Self {
        Value::Stream(StreamSlot::new(s))
    }
}
