//! JSON bodies driven by the model, for awsJson 1.0/1.1 and restJson1. Requests are
//! deserialized straight into [`Value`]s through a `DeserializeSeed` per shape, so no
//! intermediate JSON tree is built; responses are written straight into a byte buffer.

use crate::scalar::{TsFormat, as_timestamp, decode_base64, encode_base64, parse_float, write_text};
use crate::schema::{Bindings, is_document, is_float, is_integer, wire_name};
use crate::{Timestamp, Value};
use indexmap::IndexMap;
use kagami_model::{ServiceModel, Shape, ShapeRef, ShapeType};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

/// Why a body is not what the model says, in serde's words.
pub(crate) type JsonError = serde_json::Error;

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// The members of structure `shape` from a JSON object. An empty body is an empty
/// structure. `bindings` says which members are outside the body (REST).
pub(crate) fn parse_struct(
    model: &ServiceModel,
    shape: &Shape,
    body: &[u8],
    bindings: Bindings,
) -> Result<IndexMap<String, Value>, JsonError> {
    if is_blank(body) {
        return Ok(IndexMap::new());
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Seed { model, shape, r: None, bindings };
    let parsed = seed.deserialize(&mut de)?;
    de.end()?;
    match parsed {
        Some(Value::Map(m)) => Ok(m),
        None => Ok(IndexMap::new()),
        Some(_) => Err(de::Error::custom("expected a JSON object")),
    }
}

/// Any value of `shape` from a JSON text (a REST payload member); `None` for `null`.
pub(crate) fn parse_value(
    model: &ServiceModel,
    shape: &Shape,
    r: Option<&ShapeRef>,
    body: &[u8],
) -> Result<Option<Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Seed { model, shape, r, bindings: Bindings::None }.deserialize(&mut de)?;
    de.end()?;
    Ok(parsed)
}

#[derive(Clone, Copy)]
struct Seed<'m> {
    model: &'m ServiceModel,
    shape: &'m Shape,
    r: Option<&'m ShapeRef>,
    bindings: Bindings,
}

impl<'m> Seed<'m> {
    fn child<E: de::Error>(&self, r: &'m ShapeRef) -> Result<Seed<'m>, E> {
        let shape =
            self.model.shapes.get(&r.shape).ok_or_else(|| E::custom(format_args!("model has no shape {}", r.shape)))?;
        Ok(Seed { model: self.model, shape, r: Some(r), bindings: Bindings::None })
    }

    fn number<E: de::Error>(self, n: Num) -> Result<Option<Value>, E> {
        let t = self.shape.shape_type;
        if is_integer(t) {
            return match n {
                Num::I(i) => Ok(Some(Value::Int(i))),
                Num::U(u) => i64::try_from(u)
                    .map(|i| Some(Value::Int(i)))
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(u), &self)),
                Num::F(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(Value::Int(f as i64))),
                Num::F(f) => Err(E::invalid_type(Unexpected::Float(f), &self)),
            };
        }
        if is_float(t) {
            return Ok(Some(Value::Float(n.as_f64())));
        }
        match (t, n) {
            (ShapeType::Timestamp, Num::I(i)) => Timestamp::from_epoch_secs(i)
                .map(|t| Some(Value::Timestamp(t)))
                .ok_or_else(|| E::invalid_value(Unexpected::Signed(i), &self)),
            (ShapeType::Timestamp, n) => Timestamp::from_epoch_f64(n.as_f64())
                .map(|t| Some(Value::Timestamp(t)))
                .ok_or_else(|| E::invalid_value(Unexpected::Float(n.as_f64()), &self)),
            (_, Num::I(i)) => Err(E::invalid_type(Unexpected::Signed(i), &self)),
            (_, Num::U(u)) => Err(E::invalid_type(Unexpected::Unsigned(u), &self)),
            (_, Num::F(f)) => Err(E::invalid_type(Unexpected::Float(f), &self)),
        }
    }
}

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::U(u) => u as f64,
            Num::F(f) => f,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    /// `None` for JSON `null`, which every protocol treats as an absent member.
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if is_document(self.shape) {
            let v = serde_json::Value::deserialize(d)?;
            return Ok(if v.is_null() { None } else { Some(Value::Document(v)) });
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let what = match self.shape.shape_type {
            ShapeType::Structure => "a JSON object",
            ShapeType::List => "a JSON array",
            ShapeType::Map => "a JSON object",
            ShapeType::String | ShapeType::Character => "a string",
            ShapeType::Boolean => "a boolean",
            ShapeType::Timestamp => "a timestamp",
            ShapeType::Blob => "a base64-encoded string",
            t if is_integer(t) => "an integer",
            _ => "a number",
        };
        f.write_str(what)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        match self.shape.shape_type {
            ShapeType::Boolean => Ok(Some(Value::Bool(b))),
            _ => Err(E::invalid_type(Unexpected::Bool(b), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        self.number(Num::I(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        self.number(Num::U(u))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        self.number(Num::F(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let t = self.shape.shape_type;
        let bad = || E::invalid_value(Unexpected::Str(s), &self);
        if is_float(t) {
            return parse_float(s).map(|f| Some(Value::Float(f))).ok_or_else(bad);
        }
        match t {
            ShapeType::String | ShapeType::Character => Ok(Some(Value::Str(s.to_owned()))),
            ShapeType::Timestamp => TsFormat::of(self.r, self.shape, TsFormat::EpochSeconds)
                .parse(s)
                .map(|t| Some(Value::Timestamp(t)))
                .ok_or_else(bad),
            ShapeType::Blob => decode_base64(s).map(|b| Some(Value::Blob(b))).ok_or_else(bad),
            _ => Err(E::invalid_type(Unexpected::Str(s), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let member = match (self.shape.shape_type, self.shape.member.as_ref()) {
            (ShapeType::List, Some(m)) => m,
            _ => return Err(de::Error::invalid_type(Unexpected::Seq, &self)),
        };
        let seed = self.child(member)?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(seed)? {
            // Dense lists have no nulls; a null entry is dropped rather than kept as a hole.
            if let Some(v) = item {
                out.push(v);
            }
        }
        Ok(Some(Value::List(out)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match self.shape.shape_type {
            ShapeType::Structure => {
                let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(0).min(self.shape.members.len()));
                while let Some(Key(key)) = map.next_key()? {
                    match find_member(self.shape, &key, self.bindings) {
                        Some((name, r)) => {
                            if let Some(v) = map.next_value_seed(self.child(r)?)? {
                                out.insert(name.to_owned(), v);
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Some(Value::Map(out)))
            }
            ShapeType::Map => {
                let value_ref =
                    self.shape.value.as_ref().ok_or_else(|| de::Error::custom("map shape without value"))?;
                let seed = self.child(value_ref)?;
                let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(Key(key)) = map.next_key()? {
                    if let Some(v) = map.next_value_seed(seed)? {
                        out.insert(key.into_owned(), v);
                    }
                }
                Ok(Some(Value::Map(out)))
            }
            _ => Err(de::Error::invalid_type(Unexpected::Map, &self)),
        }
    }
}

/// A structure member by its JSON name: the `locationName` when it has one.
pub(crate) fn find_member<'m>(shape: &'m Shape, key: &str, bindings: Bindings) -> Option<(&'m str, &'m ShapeRef)> {
    let usable = |r: &ShapeRef| !bindings.binds(r);
    if let Some((name, r)) = shape.members.get_key_value(key)
        && r.location_name.as_deref().is_none_or(|l| l == key)
        && usable(r)
    {
        return Some((name.as_str(), r));
    }
    shape
        .members
        .iter()
        .find(|(_, r)| r.location_name.as_deref() == Some(key) && usable(r))
        .map(|(name, r)| (name.as_str(), r))
}

/// Object keys, borrowed from the body when they need no unescaping.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

// ---------------------------------------------------------------------------------
// Writing

/// Appends `s` as a JSON string literal.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{b:04x}");
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        let _ = write!(out, "{f}");
    } else if f.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if f > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// The members of `map` that structure `shape` declares, as a JSON object. Members the
/// shape does not have and null members are left out.
pub(crate) fn write_struct(
    out: &mut Vec<u8>,
    model: &ServiceModel,
    shape: &Shape,
    map: &IndexMap<String, Value>,
    bindings: Bindings,
) {
    out.push(b'{');
    let mut first = true;
    for (name, v) in map {
        if matches!(v, Value::Null) {
            continue;
        }
        let Some(r) = shape.members.get(name) else { continue };
        if bindings.binds(r) {
            continue;
        }
        let Some(ms) = model.shapes.get(&r.shape) else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(out, wire_name(name, r));
        out.push(b':');
        write_value(out, model, ms, Some(r), v);
    }
    out.push(b'}');
}

/// `v` as the JSON form of `shape`.
pub(crate) fn write_value(out: &mut Vec<u8>, model: &ServiceModel, shape: &Shape, r: Option<&ShapeRef>, v: &Value) {
    if is_document(shape) {
        return write_generic(out, v);
    }
    let t = shape.shape_type;
    match (t, v) {
        (_, Value::Null) => out.extend_from_slice(b"null"),
        (ShapeType::Structure, Value::Map(m)) => write_struct(out, model, shape, m, Bindings::None),
        (ShapeType::List, Value::List(items)) => {
            let ms = shape.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|s| (m, s)));
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match ms {
                    Some((m, s)) => write_value(out, model, s, Some(m), item),
                    None => write_generic(out, item),
                }
            }
            out.push(b']');
        }
        (ShapeType::Map, Value::Map(m)) => {
            let vs = shape.value.as_ref().and_then(|r| model.shapes.get(&r.shape).map(|s| (r, s)));
            out.push(b'{');
            let mut first = true;
            for (k, item) in m {
                if matches!(item, Value::Null) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(out, k);
                out.push(b':');
                match vs {
                    Some((r, s)) => write_value(out, model, s, Some(r), item),
                    None => write_generic(out, item),
                }
            }
            out.push(b'}');
        }
        (ShapeType::Boolean, Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (t, Value::Int(i)) if is_integer(t) || is_float(t) => {
            let _ = write!(out, "{i}");
        }
        (t, Value::Float(f)) if is_float(t) => write_f64(out, *f),
        (t, Value::Float(f)) if is_integer(t) && f.fract() == 0.0 && f.abs() < 9.2e18 => {
            let _ = write!(out, "{}", *f as i64);
        }
        (ShapeType::Timestamp, v) => match as_timestamp(v) {
            Some(ts) => match TsFormat::of(r, shape, TsFormat::EpochSeconds) {
                TsFormat::EpochSeconds => out.extend_from_slice(ts.to_epoch_string().as_bytes()),
                f => write_str(out, &f.format(&ts)),
            },
            None => out.extend_from_slice(b"null"),
        },
        (ShapeType::Blob, Value::Blob(b)) => write_str(out, &encode_base64(b)),
        (ShapeType::String | ShapeType::Character, Value::Str(s)) => write_str(out, s),
        (ShapeType::String | ShapeType::Character, Value::Document(d)) => write_str(out, &d.to_string()),
        // A value of another kind than the shape: its text form, rather than nothing.
        (_, other) => {
            let mut s = String::new();
            write_text(&mut s, other, shape, r, TsFormat::EpochSeconds);
            write_str(out, &s);
        }
    }
}

/// A value without a shape to guide it (documents, or a shape the model lacks).
pub(crate) fn write_generic(out: &mut Vec<u8>, v: &Value) {
    match v {
        // A stream has a place only as a REST payload, never inside a JSON document.
        Value::Null | Value::Stream(_) => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_f64(out, *f),
        Value::Str(s) => write_str(out, s),
        Value::Blob(b) => write_str(out, &encode_base64(b)),
        Value::Timestamp(t) => out.extend_from_slice(t.to_epoch_string().as_bytes()),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_generic(out, item);
            }
            out.push(b']');
        }
        Value::Map(m) => {
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_generic(out, item);
            }
            out.push(b'}');
        }
        Value::Document(d) => {
            let _ = serde_json::to_writer(&mut *out, d);
        }
    }
}

/// An error document: `__type` when `type_field` says so, the message under the error
/// shape's name for it, then the extra fields typed by the shape where it has them.
pub(crate) fn write_error(
    out: &mut Vec<u8>,
    model: &ServiceModel,
    shape: Option<&Shape>,
    err: &crate::ServiceError,
    type_field: Option<&str>,
) {
    out.push(b'{');
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !first {
            out.push(b',');
        }
        first = false;
    };
    if let Some(t) = type_field {
        sep(out);
        write_str(out, "__type");
        out.push(b':');
        write_str(out, t);
    }
    if !err.message.is_empty() {
        sep(out);
        write_str(out, crate::schema::message_member(shape));
        out.push(b':');
        write_str(out, &err.message);
    }
    for (name, v) in &err.fields {
        if matches!(v, Value::Null) || (!err.message.is_empty() && name.eq_ignore_ascii_case("message")) {
            continue;
        }
        let typed = shape
            .and_then(|s| s.members.get_key_value(name.as_str()))
            .and_then(|(n, r)| model.shapes.get(&r.shape).map(|ms| (n, r, ms)));
        match typed {
            Some((_, r, _)) if Bindings::Response.binds(r) => {}
            Some((n, r, ms)) => {
                sep(out);
                write_str(out, wire_name(n, r));
                out.push(b':');
                write_value(out, model, ms, Some(r), v);
            }
            None => {
                sep(out);
                write_str(out, name);
                out.push(b':');
                write_generic(out, v);
            }
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "json", "endpointPrefix": "t"},
            "operations": {},
            "shapes": {
                "In": {"type": "structure", "members": {
                    "Name": {"shape": "S"},
                    "Renamed": {"shape": "S", "locationName": "wire"},
                    "Count": {"shape": "I"},
                    "Ratio": {"shape": "D"},
                    "When": {"shape": "T"},
                    "Data": {"shape": "B"},
                    "Tags": {"shape": "M"},
                    "Items": {"shape": "L"},
                    "Doc": {"shape": "Doc"},
                }},
                "S": {"type": "string"}, "I": {"type": "integer"}, "D": {"type": "double"},
                "T": {"type": "timestamp"}, "B": {"type": "blob"},
                "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
                "L": {"type": "list", "member": {"shape": "I"}},
                "Doc": {"type": "structure", "members": {}, "document": true},
            }
        }))
        .unwrap()
    }

    #[test]
    fn object_members_parse_by_shape_and_unknown_or_null_members_are_dropped() {
        let m = model();
        let body = br#"{"Name":"a\"b","wire":"w","Count":3,"Ratio":"NaN","When":1398796238.5,
            "Data":"dmFsdWU=","Tags":{"k":"v","n":null},"Items":[1,null,2],"Doc":{"x":[1]},
            "Unknown":{"deep":[1,2]},"Count2":null}"#;
        let v = parse_struct(&m, &m.shapes["In"], body, Bindings::None).unwrap();
        assert_eq!(v["Name"], Value::Str("a\"b".into()));
        assert_eq!(v["Renamed"], Value::Str("w".into()));
        assert_eq!(v["Count"], Value::Int(3));
        assert!(matches!(v["Ratio"], Value::Float(f) if f.is_nan()));
        assert_eq!(v["When"], Value::Timestamp(Timestamp { secs: 1_398_796_238, nanos: 500_000_000 }));
        assert_eq!(v["Data"], Value::Blob(bytes::Bytes::from_static(b"value")));
        assert_eq!(v["Tags"].as_map().unwrap().len(), 1);
        assert_eq!(v["Items"], Value::List(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(v["Doc"], Value::Document(serde_json::json!({"x": [1]})));
        assert!(!v.contains_key("Unknown"));
    }

    #[test]
    fn mistyped_and_malformed_bodies_are_errors() {
        let m = model();
        let s = &m.shapes["In"];
        assert!(parse_struct(&m, s, br#"{"Count":"3"}"#, Bindings::None).is_err());
        assert!(parse_struct(&m, s, br#"{"Count":1.5}"#, Bindings::None).is_err());
        assert!(parse_struct(&m, s, br#"{"Name":1}"#, Bindings::None).is_err());
        assert!(parse_struct(&m, s, br#"{"Name":"x""#, Bindings::None).is_err());
        assert!(parse_struct(&m, s, br#"[1]"#, Bindings::None).is_err());
        assert!(parse_struct(&m, s, b"  ", Bindings::None).unwrap().is_empty());
        // Past year 9999 no wire format can print it, and millisecond arithmetic overflows.
        let e = parse_struct(&m, s, br#"{"When":-9223372036854775808}"#, Bindings::None).unwrap_err();
        assert!(e.to_string().starts_with("invalid value: integer `-9223372036854775808`, expected a timestamp"), "{e}");
        let e = parse_struct(&m, s, br#"{"When":9223372036854775807}"#, Bindings::None).unwrap_err();
        assert!(e.to_string().contains("expected a timestamp"), "{e}");
        let deep = "[".repeat(10_000);
        assert!(parse_struct(&m, s, format!(r#"{{"Items":{deep}"#).as_bytes(), Bindings::None).is_err());
    }

    #[test]
    fn values_write_as_the_model_says() {
        let m = model();
        let mut v = IndexMap::new();
        v.insert("Renamed".to_string(), Value::Str("x\n".into()));
        v.insert("Ratio".to_string(), Value::Float(f64::NEG_INFINITY));
        v.insert("When".to_string(), Value::Timestamp(Timestamp { secs: 1, nanos: 250_000_000 }));
        v.insert("Data".to_string(), Value::Blob(bytes::Bytes::from_static(b"value")));
        v.insert("Count".to_string(), Value::Null);
        v.insert("NotInShape".to_string(), Value::Int(1));
        let mut out = Vec::new();
        write_struct(&mut out, &m, &m.shapes["In"], &v, Bindings::None);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"wire":"x\n","Ratio":"-Infinity","When":1.25,"Data":"dmFsdWU="}"#
        );
    }
}
