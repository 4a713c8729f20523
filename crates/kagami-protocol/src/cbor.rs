//! CBOR (RFC 8949) for Smithy RPC v2 and for the json protocol's CBOR variant
//! (`application/x-amz-cbor-1.1`, Kinesis). The subset AWS uses: integers, floats
//! (half, single, double), byte and text strings (also indefinite-length), arrays,
//! maps, tag 1 (epoch timestamps), booleans, null and undefined.

use crate::scalar::{TsFormat, as_timestamp, parse_float, write_text};
use crate::schema::{MAX_DEPTH, is_document, is_float, is_integer, is_located, wire_name};
use crate::{Timestamp, Value};
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_model::{ServiceModel, Shape, ShapeRef, ShapeType};

/// A decoded CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Unsigned(u64),
    /// The value is `-1 - n`.
    Negative(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
    Tag(u64, Box<Item>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed CBOR at byte {offset}: {reason}")]
pub struct CborError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Decodes exactly one data item filling `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Item, CborError> {
    let mut d = Decoder { bytes, pos: 0 };
    let item = d.item(0)?;
    if d.pos != bytes.len() {
        return Err(d.err("trailing bytes after the data item"));
    }
    Ok(item)
}

/// Arrays and maps reserve at most this many items up front and grow as items
/// actually arrive: a declared length only bounds the items by the input's bytes, and
/// an item takes tens of bytes in memory, so reserving it all at every level of a
/// nested input would turn a small body into gigabytes.
const PREALLOCATED_ITEMS: usize = 64;

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// What a head byte announces once its argument is read.
enum Head {
    Item(Item),
    Break,
}

impl Decoder<'_> {
    fn err(&self, reason: &'static str) -> CborError {
        CborError { offset: self.pos, reason }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| self.err("unexpected end"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    /// The argument of a head; `None` for indefinite length (additional info 31).
    fn argument(&mut self, info: u8) -> Result<Option<u64>, CborError> {
        Ok(Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.fixed()?)),
            26 => u64::from(u32::from_be_bytes(self.fixed()?)),
            27 => u64::from_be_bytes(self.fixed()?),
            31 => return Ok(None),
            _ => return Err(self.err("reserved additional information")),
        }))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], CborError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A length that the remaining input could possibly hold, so a hostile length
    /// cannot make us allocate beyond the input's size.
    fn len(&self, n: u64) -> Result<usize, CborError> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.pos)
            .ok_or_else(|| self.err("length exceeds the input"))
    }

    fn item(&mut self, depth: u32) -> Result<Item, CborError> {
        match self.head(depth)? {
            Head::Item(i) => Ok(i),
            Head::Break => Err(self.err("unexpected break")),
        }
    }

    fn head(&mut self, depth: u32) -> Result<Head, CborError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let b = self.byte()?;
        let (major, info) = (b >> 5, b & 0x1f);
        if b == 0xff {
            return Ok(Head::Break);
        }
        let arg = self.argument(info)?;
        let item = match (major, arg) {
            (0, Some(n)) => Item::Unsigned(n),
            (1, Some(n)) => Item::Negative(n),
            (2, Some(n)) => {
                let n = self.len(n)?;
                Item::Bytes(self.take(n)?.to_vec())
            }
            (2, None) => Item::Bytes(self.chunks(2)?),
            (3, Some(n)) => {
                let n = self.len(n)?;
                let s = self.take(n)?;
                Item::Text(String::from_utf8(s.to_vec()).map_err(|_| self.err("text is not UTF-8"))?)
            }
            (3, None) => {
                let raw = self.chunks(3)?;
                Item::Text(String::from_utf8(raw).map_err(|_| self.err("text is not UTF-8"))?)
            }
            (4, Some(n)) => {
                let n = self.len(n)?;
                let mut v = Vec::with_capacity(n.min(PREALLOCATED_ITEMS));
                for _ in 0..n {
                    v.push(self.item(depth + 1)?);
                }
                Item::Array(v)
            }
            (4, None) => {
                let mut v = Vec::new();
                while let Head::Item(i) = self.head(depth + 1)? {
                    v.push(i);
                }
                Item::Array(v)
            }
            (5, Some(n)) => {
                let n = self.len(n)?;
                let mut v = Vec::with_capacity(n.min(PREALLOCATED_ITEMS));
                for _ in 0..n {
                    let k = self.item(depth + 1)?;
                    v.push((k, self.item(depth + 1)?));
                }
                Item::Map(v)
            }
            (5, None) => {
                let mut v = Vec::new();
                while let Head::Item(k) = self.head(depth + 1)? {
                    v.push((k, self.item(depth + 1)?));
                }
                Item::Map(v)
            }
            (6, Some(tag)) => Item::Tag(tag, Box::new(self.item(depth + 1)?)),
            (7, Some(n)) => match info {
                20 => Item::Bool(false),
                21 => Item::Bool(true),
                22 => Item::Null,
                23 => Item::Undefined,
                25 => Item::Float(f16_to_f64(n as u16)),
                26 => Item::Float(f64::from(f32::from_bits(n as u32))),
                27 => Item::Float(f64::from_bits(n)),
                _ => return Err(self.err("unsupported simple value")),
            },
            _ => return Err(self.err("indefinite length where none is allowed")),
        };
        Ok(Head::Item(item))
    }

    /// The definite chunks of an indefinite-length byte or text string.
    fn chunks(&mut self, major: u8) -> Result<Vec<u8>, CborError> {
        let mut out = Vec::new();
        loop {
            let b = self.byte()?;
            if b == 0xff {
                return Ok(out);
            }
            if b >> 5 != major {
                return Err(self.err("chunk of another type in an indefinite string"));
            }
            let n = self.argument(b & 0x1f)?.ok_or_else(|| self.err("nested indefinite string"))?;
            let n = self.len(n)?;
            out.extend_from_slice(self.take(n)?);
        }
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

// ---------------------------------------------------------------------------------
// Items -> Values

/// Why an item does not fit its shape.
pub(crate) type Mismatch = String;

/// The members of structure `shape` from a CBOR map; an empty body is an empty structure.
pub(crate) fn parse_struct(
    model: &ServiceModel,
    shape: &Shape,
    body: &[u8],
) -> Result<IndexMap<String, Value>, Mismatch> {
    if body.is_empty() {
        return Ok(IndexMap::new());
    }
    let item = decode(body).map_err(|e| e.to_string())?;
    match to_value(model, shape, None, &item, 0)? {
        Some(Value::Map(m)) => Ok(m),
        None => Ok(IndexMap::new()),
        Some(_) => Err("expected a CBOR map".to_string()),
    }
}

fn mismatch(shape: &Shape, item: &Item) -> Mismatch {
    format!("expected {:?}, found {}", shape.shape_type, kind(item))
}

fn kind(item: &Item) -> &'static str {
    match item {
        Item::Unsigned(_) | Item::Negative(_) => "an integer",
        Item::Bytes(_) => "a byte string",
        Item::Text(_) => "a text string",
        Item::Array(_) => "an array",
        Item::Map(_) => "a map",
        Item::Tag(..) => "a tagged item",
        Item::Bool(_) => "a boolean",
        Item::Null | Item::Undefined => "null",
        Item::Float(_) => "a float",
    }
}

fn as_i64(item: &Item) -> Option<i64> {
    match item {
        Item::Unsigned(n) => i64::try_from(*n).ok(),
        Item::Negative(n) => i64::try_from(*n).ok().map(|n| -1 - n),
        Item::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
        _ => None,
    }
}

fn as_f64(item: &Item) -> Option<f64> {
    match item {
        Item::Float(f) => Some(*f),
        Item::Unsigned(n) => Some(*n as f64),
        Item::Negative(n) => Some(-1.0 - *n as f64),
        Item::Text(s) => parse_float(s),
        _ => None,
    }
}

/// `None` for null and undefined, which mean an absent member.
pub(crate) fn to_value(
    model: &ServiceModel,
    shape: &Shape,
    r: Option<&ShapeRef>,
    item: &Item,
    depth: u32,
) -> Result<Option<Value>, Mismatch> {
    if matches!(item, Item::Null | Item::Undefined) {
        return Ok(None);
    }
    if depth > MAX_DEPTH {
        return Err("nesting too deep".to_string());
    }
    if is_document(shape) {
        return Ok(Some(Value::Document(to_json(item))));
    }
    let t = shape.shape_type;
    let bad = || mismatch(shape, item);
    let child = |r: &ShapeRef| model.shapes.get(&r.shape).ok_or_else(|| format!("model has no shape {}", r.shape));
    let v = match t {
        ShapeType::Structure => {
            let Item::Map(pairs) = item else { return Err(bad()) };
            let mut out = IndexMap::with_capacity(pairs.len());
            for (k, v) in pairs {
                let Item::Text(key) = k else { return Err("map key is not a text string".to_string()) };
                if let Some((name, mr)) = crate::json_codec::find_member(shape, key, crate::schema::Bindings::None)
                    && let Some(v) = to_value(model, child(mr)?, Some(mr), v, depth + 1)?
                {
                    out.insert(name.to_owned(), v);
                }
            }
            Value::Map(out)
        }
        ShapeType::Map => {
            let Item::Map(pairs) = item else { return Err(bad()) };
            let vr = shape.value.as_ref().ok_or("map shape without value")?;
            let vs = child(vr)?;
            let mut out = IndexMap::with_capacity(pairs.len());
            for (k, v) in pairs {
                let Item::Text(key) = k else { return Err("map key is not a text string".to_string()) };
                if let Some(v) = to_value(model, vs, Some(vr), v, depth + 1)? {
                    out.insert(key.clone(), v);
                }
            }
            Value::Map(out)
        }
        ShapeType::List => {
            let Item::Array(items) = item else { return Err(bad()) };
            let mr = shape.member.as_ref().ok_or("list shape without member")?;
            let ms = child(mr)?;
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                if let Some(v) = to_value(model, ms, Some(mr), i, depth + 1)? {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        ShapeType::String | ShapeType::Character => match item {
            Item::Text(s) => Value::Str(s.clone()),
            _ => return Err(bad()),
        },
        ShapeType::Boolean => match item {
            Item::Bool(b) => Value::Bool(*b),
            _ => return Err(bad()),
        },
        ShapeType::Blob => match item {
            Item::Bytes(b) => Value::Blob(Bytes::from(b.clone())),
            Item::Text(s) => Value::Blob(Bytes::from(s.clone().into_bytes())),
            _ => return Err(bad()),
        },
        ShapeType::Timestamp => {
            let inner = match item {
                Item::Tag(1, inner) => inner.as_ref(),
                other => other,
            };
            let ts = match inner {
                Item::Unsigned(_) | Item::Negative(_) => as_i64(inner).and_then(Timestamp::from_epoch_secs),
                Item::Float(f) => Timestamp::from_epoch_f64(*f),
                Item::Text(s) => TsFormat::of(r, shape, TsFormat::EpochSeconds).parse(s),
                _ => None,
            };
            Value::Timestamp(ts.ok_or_else(bad)?)
        }
        t if is_integer(t) => Value::Int(as_i64(item).ok_or_else(bad)?),
        t if is_float(t) => Value::Float(as_f64(item).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    Ok(Some(v))
}

/// A CBOR item as free-form JSON (document members).
pub(crate) fn to_json(item: &Item) -> serde_json::Value {
    use serde_json::Value as J;
    match item {
        Item::Unsigned(n) => J::from(*n),
        Item::Negative(n) => i64::try_from(*n).map_or(J::Null, |n| J::from(-1 - n)),
        Item::Bytes(b) => J::String(crate::scalar::encode_base64(b)),
        Item::Text(s) => J::String(s.clone()),
        Item::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Item::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Item::Text(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Item::Tag(_, inner) => to_json(inner),
        Item::Bool(b) => J::Bool(*b),
        Item::Null | Item::Undefined => J::Null,
        Item::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
    }
}

// ---------------------------------------------------------------------------------
// Writing

pub(crate) struct Encoder {
    pub(crate) buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new() -> Self {
        Encoder { buf: Vec::with_capacity(128) }
    }

    fn head(&mut self, major: u8, n: u64) {
        let m = major << 5;
        if n < 24 {
            self.buf.push(m | n as u8);
        } else if n <= u64::from(u8::MAX) {
            self.buf.extend_from_slice(&[m | 24, n as u8]);
        } else if n <= u64::from(u16::MAX) {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= u64::from(u32::MAX) {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    pub(crate) fn int(&mut self, i: i64) {
        if i >= 0 {
            self.head(0, i as u64);
        } else {
            self.head(1, (-1 - i) as u64);
        }
    }

    pub(crate) fn float(&mut self, f: f64) {
        self.buf.push(0xfb);
        self.buf.extend_from_slice(&f.to_bits().to_be_bytes());
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.buf.push(if b { 0xf5 } else { 0xf4 });
    }

    pub(crate) fn null(&mut self) {
        self.buf.push(0xf6);
    }

    pub(crate) fn map_head(&mut self, n: usize) {
        self.head(5, n as u64);
    }

    pub(crate) fn array_head(&mut self, n: usize) {
        self.head(4, n as u64);
    }

    fn timestamp(&mut self, t: &Timestamp) {
        self.head(6, 1);
        if t.nanos == 0 {
            self.int(t.secs);
        } else {
            self.float(t.as_epoch_f64());
        }
    }
}

fn struct_members<'a, 'm>(
    model: &'m ServiceModel,
    shape: &'m Shape,
    map: &'a IndexMap<String, Value>,
) -> impl Iterator<Item = (&'m str, &'m ShapeRef, &'m Shape, &'a Value)> {
    map.iter().filter_map(move |(name, v)| {
        if matches!(v, Value::Null) {
            return None;
        }
        let (name, r) = shape.members.get_key_value(name)?;
        if is_located(r) {
            return None;
        }
        let s = model.shapes.get(&r.shape)?;
        Some((wire_name(name, r), r, s, v))
    })
}

pub(crate) fn write_struct(e: &mut Encoder, model: &ServiceModel, shape: &Shape, map: &IndexMap<String, Value>) {
    e.map_head(struct_members(model, shape, map).count());
    for (name, r, s, v) in struct_members(model, shape, map) {
        e.text(name);
        write_value(e, model, s, Some(r), v);
    }
}

pub(crate) fn write_value(e: &mut Encoder, model: &ServiceModel, shape: &Shape, r: Option<&ShapeRef>, v: &Value) {
    if is_document(shape) {
        return write_generic(e, v);
    }
    match (shape.shape_type, v) {
        (_, Value::Null) => e.null(),
        (ShapeType::Structure, Value::Map(m)) => write_struct(e, model, shape, m),
        (ShapeType::List, Value::List(items)) => {
            let ms = shape.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|s| (m, s)));
            e.array_head(items.len());
            for item in items {
                match ms {
                    Some((m, s)) => write_value(e, model, s, Some(m), item),
                    None => write_generic(e, item),
                }
            }
        }
        (ShapeType::Map, Value::Map(m)) => {
            let vs = shape.value.as_ref().and_then(|r| model.shapes.get(&r.shape).map(|s| (r, s)));
            e.map_head(m.values().filter(|v| !matches!(v, Value::Null)).count());
            for (k, item) in m.iter().filter(|(_, v)| !matches!(v, Value::Null)) {
                e.text(k);
                match vs {
                    Some((r, s)) => write_value(e, model, s, Some(r), item),
                    None => write_generic(e, item),
                }
            }
        }
        (ShapeType::Boolean, Value::Bool(b)) => e.bool(*b),
        (t, Value::Int(i)) if is_integer(t) => e.int(*i),
        (t, Value::Int(i)) if is_float(t) => e.float(*i as f64),
        (t, Value::Float(f)) if is_float(t) => e.float(*f),
        (t, Value::Float(f)) if is_integer(t) && f.fract() == 0.0 && f.abs() < 9.2e18 => e.int(*f as i64),
        (ShapeType::Timestamp, v) => match as_timestamp(v) {
            Some(t) => e.timestamp(&t),
            None => e.null(),
        },
        (ShapeType::Blob, Value::Blob(b)) => e.bytes(b),
        (ShapeType::Blob, Value::Str(s)) => e.bytes(s.as_bytes()),
        (ShapeType::String | ShapeType::Character, Value::Str(s)) => e.text(s),
        (_, other) => {
            let mut s = String::new();
            write_text(&mut s, other, shape, r, TsFormat::EpochSeconds);
            e.text(&s);
        }
    }
}

pub(crate) fn write_generic(e: &mut Encoder, v: &Value) {
    match v {
        // A stream has a place only as a REST payload, which CBOR bodies never carry.
        Value::Null | Value::Stream(_) => e.null(),
        Value::Bool(b) => e.bool(*b),
        Value::Int(i) => e.int(*i),
        Value::Float(f) => e.float(*f),
        Value::Str(s) => e.text(s),
        Value::Blob(b) => e.bytes(b),
        Value::Timestamp(t) => e.timestamp(t),
        Value::List(items) => {
            e.array_head(items.len());
            items.iter().for_each(|i| write_generic(e, i));
        }
        Value::Map(m) => {
            e.map_head(m.len());
            for (k, i) in m {
                e.text(k);
                write_generic(e, i);
            }
        }
        Value::Document(d) => write_json(e, d),
    }
}

fn write_json(e: &mut Encoder, d: &serde_json::Value) {
    use serde_json::Value as J;
    match d {
        J::Null => e.null(),
        J::Bool(b) => e.bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => e.int(i),
            None => e.float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => e.text(s),
        J::Array(a) => {
            e.array_head(a.len());
            a.iter().for_each(|i| write_json(e, i));
        }
        J::Object(o) => {
            e.map_head(o.len());
            for (k, i) in o {
                e.text(k);
                write_json(e, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_decode_including_indefinite_lengths_and_half_floats() {
        // {"a": [1, -2, "x"], "b": h'0102', "c": 1.5 (f16), "d": true, "e": null}
        let bytes = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0x21, 0x61, b'x', 0xff, 0x61, b'b', 0x42, 1, 2, 0x61, b'c', 0xf9, 0x3e, 0x00,
            0x61, b'd', 0xf5, 0x61, b'e', 0xf6, 0xff,
        ];
        let Item::Map(pairs) = decode(&bytes).unwrap() else { panic!() };
        assert_eq!(pairs[0].1, Item::Array(vec![Item::Unsigned(1), Item::Negative(1), Item::Text("x".into())]));
        assert_eq!(pairs[1].1, Item::Bytes(vec![1, 2]));
        assert_eq!(pairs[2].1, Item::Float(1.5));
        assert_eq!(pairs[4].1, Item::Null);
        // Indefinite text made of two chunks.
        assert_eq!(decode(&[0x7f, 0x61, b'a', 0x62, b'b', b'c', 0xff]).unwrap(), Item::Text("abc".into()));
        assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        assert!(decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err(), "huge length");
        assert!(decode(&[0x9f; 10_000]).is_err(), "deep nesting");
        assert!(decode(&[0xff]).is_err(), "stray break");
        assert!(decode(&[0x01, 0x02]).is_err(), "trailing bytes");
        assert!(decode(&[0x7f, 0x41, 0x00, 0xff]).is_err(), "byte chunk in text");
        assert!(decode(&[]).is_err());
    }

    /// Every level claims as many items as bytes remain after it, which the length
    /// check lets through: the decoder must refuse the nesting without first reserving
    /// room for the claimed items at every level (most of a GiB for this 256 KiB body).
    #[test]
    fn nested_length_claims_do_not_preallocate() {
        let size = 256 * 1024;
        let mut body = Vec::with_capacity(size);
        for _ in 0..=MAX_DEPTH + 1 {
            body.push(0x9a);
            let remaining = size - body.len() - 4;
            body.extend_from_slice(&u32::try_from(remaining).unwrap_or(u32::MAX).to_be_bytes());
        }
        body.resize(size, 0);
        assert_eq!(decode(&body).unwrap_err().reason, "nesting too deep");
    }

    #[test]
    fn timestamps_past_year_9999_are_mismatches() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "smithy-rpc-v2-cbor", "endpointPrefix": "t"},
            "operations": {}, "shapes": {"T": {"type": "timestamp"}}
        }))
        .unwrap();
        let t = &m.shapes["T"];
        let far = Item::Tag(1, Box::new(Item::Unsigned(u64::MAX >> 1)));
        assert_eq!(to_value(&m, t, None, &far, 0), Err("expected Timestamp, found a tagged item".to_string()));
        let now = Item::Tag(1, Box::new(Item::Unsigned(1_398_796_238)));
        assert_eq!(to_value(&m, t, None, &now, 0), Ok(Some(Value::Timestamp(Timestamp::from_secs(1_398_796_238)))));
    }

    #[test]
    fn values_round_trip_through_the_encoder() {
        let mut e = Encoder::new();
        let v = Value::Map(IndexMap::from([
            ("n".to_string(), Value::Int(-300)),
            ("t".to_string(), Value::Timestamp(Timestamp { secs: 946_845_296, nanos: 123_000_000 })),
            ("s".to_string(), Value::Str("héllo".into())),
        ]));
        write_generic(&mut e, &v);
        let Item::Map(pairs) = decode(&e.buf).unwrap() else { panic!() };
        assert_eq!(pairs[0].1, Item::Negative(299));
        assert_eq!(pairs[1].1, Item::Tag(1, Box::new(Item::Float(946_845_296.123))));
        assert_eq!(pairs[2].1, Item::Text("héllo".into()));
    }
}
