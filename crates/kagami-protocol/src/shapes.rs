//! Conversions between [`Value`] trees and the typed shapes that `cargo xtask codegen`
//! generates for each implemented service.

use crate::{ByteStream, Timestamp, Value};
use bytes::Bytes;
use indexmap::IndexMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    /// A required member is absent. `member` is the model's member name, e.g. `QueueUrl`.
    #[error("missing required member {member}")]
    Missing { member: String },
    /// A value of the wrong kind.
    #[error("invalid value for {member}: {detail}")]
    Invalid { member: String, detail: String },
}

impl ShapeError {
    pub fn member(&self) -> &str {
        match self {
            ShapeError::Missing { member } | ShapeError::Invalid { member, .. } => member,
        }
    }

    /// The constraint AWS's JSON front ends report for this error, naming the member as
    /// they do (first letter lowered): "Value null at 'streamName' failed to satisfy
    /// constraint: Member must not be null".
    pub fn constraint_violation(&self) -> String {
        match self {
            ShapeError::Missing { member } => {
                format!("Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(member))
            }
            ShapeError::Invalid { member, detail } => {
                format!("Value at '{}' failed to satisfy constraint: {detail}", lower_first(member))
            }
        }
    }

    /// [`Self::constraint_violation`] as a whole ValidationException message.
    pub fn validation_message(&self) -> String {
        format!("1 validation error detected: {}", self.constraint_violation())
    }

    fn within(self, parent: &str) -> ShapeError {
        match self {
            ShapeError::Missing { member } => ShapeError::Missing { member: format!("{parent}.{member}") },
            ShapeError::Invalid { member, detail } => {
                let member = if member.is_empty() { parent.to_string() } else { format!("{parent}.{member}") };
                ShapeError::Invalid { member, detail }
            }
        }
    }
}

/// `RoleSessionName` -> `roleSessionName`: how AWS names a member in validation messages
/// (only the first letter is lowered).
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Takes the value by ownership so strings and blobs (message bodies) move into the
/// typed shape instead of being copied.
pub trait FromValue: Sized {
    fn from_value(v: Value) -> Result<Self, ShapeError>;
}

pub trait IntoValue {
    fn into_value(self) -> Value;
}

fn invalid(expected: &str, got: &Value) -> ShapeError {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Blob(_) => "blob",
        Value::Stream(_) => "stream",
        Value::Timestamp(_) => "timestamp",
        Value::List(_) => "list",
        Value::Map(_) => "structure",
        Value::Document(_) => "document",
    };
    ShapeError::Invalid { member: String::new(), detail: format!("expected {expected}, got {kind}") }
}

/// The members of a structure value.
pub fn expect_map(v: Value) -> Result<IndexMap<String, Value>, ShapeError> {
    match v {
        Value::Map(m) => Ok(m),
        // An operation called with no body at all has an empty input.
        Value::Null => Ok(IndexMap::new()),
        other => Err(invalid("structure", &other)),
    }
}

/// Maps at most this long are searched key by key: a generated `from_value` takes out
/// each of dozens of members from a map holding a few, and comparing a few short keys
/// costs less than hashing the name once.
const LINEAR_SEARCH_MAX: usize = 8;

/// `swap_remove`, without hashing when the map is small.
fn take(m: &mut IndexMap<String, Value>, member: &str) -> Option<Value> {
    if m.len() <= LINEAR_SEARCH_MAX {
        // Lengths and first bytes tell most names apart before a full comparison.
        let first = member.as_bytes().first();
        let i = m
            .keys()
            .position(|k| k.len() == member.len() && k.as_bytes().first() == first && k == member)?;
        return m.swap_remove_index(i).map(|(_, v)| v);
    }
    m.swap_remove(member)
}

pub fn required<T: FromValue>(m: &mut IndexMap<String, Value>, member: &str) -> Result<T, ShapeError> {
    match take(m, member) {
        None | Some(Value::Null) => Err(ShapeError::Missing { member: member.to_string() }),
        Some(v) => T::from_value(v).map_err(|e| e.within(member)),
    }
}

pub fn optional<T: FromValue>(m: &mut IndexMap<String, Value>, member: &str) -> Result<Option<T>, ShapeError> {
    match take(m, member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::from_value(v).map(Some).map_err(|e| e.within(member)),
    }
}

pub fn put<T: IntoValue>(m: &mut IndexMap<String, Value>, member: &str, v: T) {
    m.insert(member.to_string(), v.into_value());
}

pub fn put_opt<T: IntoValue>(m: &mut IndexMap<String, Value>, member: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(member.to_string(), v.into_value());
    }
}

impl FromValue for () {
    fn from_value(_: Value) -> Result<Self, ShapeError> {
        Ok(())
    }
}
impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::map()
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Str(s) => Ok(s),
            other => Err(invalid("string", &other)),
        }
    }
}
impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::Str(self)
    }
}

impl FromValue for i64 {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Int(i) => Ok(i),
            other => Err(invalid("integer", &other)),
        }
    }
}
impl IntoValue for i64 {
    fn into_value(self) -> Value {
        Value::Int(self)
    }
}

impl FromValue for i32 {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Int(i) => i32::try_from(i).map_err(|_| ShapeError::Invalid {
                member: String::new(),
                detail: format!("{i} is out of range for an integer"),
            }),
            other => Err(invalid("integer", &other)),
        }
    }
}
impl IntoValue for i32 {
    fn into_value(self) -> Value {
        Value::Int(i64::from(self))
    }
}

impl FromValue for f64 {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(invalid("number", &other)),
        }
    }
}
impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Value::Float(self)
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(invalid("boolean", &other)),
        }
    }
}
impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl FromValue for Timestamp {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Timestamp(t) => Ok(t),
            other => Err(invalid("timestamp", &other)),
        }
    }
}
impl IntoValue for Timestamp {
    fn into_value(self) -> Value {
        Value::Timestamp(self)
    }
}

impl FromValue for Bytes {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Blob(b) => Ok(b),
            other => Err(invalid("blob", &other)),
        }
    }
}
impl IntoValue for Bytes {
    fn into_value(self) -> Value {
        Value::Blob(self)
    }
}

/// A streaming payload. In-process callers (tests, one service calling another) may
/// pass a plain blob; it becomes a one-chunk stream.
impl FromValue for ByteStream {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Stream(slot) => slot.take().ok_or_else(|| ShapeError::Invalid {
                member: String::new(),
                detail: "the stream was already consumed".to_string(),
            }),
            Value::Blob(b) => Ok(ByteStream::from_bytes(b)),
            other => Err(invalid("stream", &other)),
        }
    }
}
impl IntoValue for ByteStream {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}

impl FromValue for serde_json::Value {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Document(d) => Ok(d),
            Value::Str(s) => Ok(serde_json::Value::String(s)),
            other => Err(invalid("document", &other)),
        }
    }
}
impl IntoValue for serde_json::Value {
    fn into_value(self) -> Value {
        Value::Document(self)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| T::from_value(item).map_err(|e| e.within(&format!("{}", i + 1))))
                .collect(),
            other => Err(invalid("list", &other)),
        }
    }
}
impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: FromValue> FromValue for IndexMap<String, T> {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        match v {
            Value::Map(m) => m
                .into_iter()
                .map(|(k, item)| match T::from_value(item) {
                    Ok(t) => Ok((k, t)),
                    Err(e) => Err(e.within(&k)),
                })
                .collect(),
            other => Err(invalid("map", &other)),
        }
    }
}
impl<T: IntoValue> IntoValue for IndexMap<String, T> {
    fn into_value(self) -> Value {
        Value::Map(self.into_iter().map(|(k, v)| (k, v.into_value())).collect())
    }
}

impl<T: FromValue> FromValue for Box<T> {
    fn from_value(v: Value) -> Result<Self, ShapeError> {
        T::from_value(v).map(Box::new)
    }
}
impl<T: IntoValue> IntoValue for Box<T> {
    fn into_value(self) -> Value {
        (*self).into_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_invalid_members_name_their_path() {
        let mut m = IndexMap::new();
        m.insert("Entries".to_string(), Value::List(vec![Value::Str("x".into())]));
        let e = required::<String>(&mut m, "QueueUrl").unwrap_err();
        assert_eq!(e, ShapeError::Missing { member: "QueueUrl".into() });
        let e = required::<Vec<i32>>(&mut m, "Entries").unwrap_err();
        assert_eq!(e.member(), "Entries.1");
    }
}
