//! Scalars as text: the form every protocol uses in XML, query strings, headers and URI
//! labels. Each protocol picks the timestamp format that applies where the text goes.

use crate::schema::{is_float, is_integer};
use crate::{Timestamp, Value};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_model::{Shape, ShapeRef, ShapeType};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsFormat {
    Iso8601,
    /// ISO 8601 with milliseconds always written, as S3 and the other restXml services
    /// print timestamps in their bodies (`2009-10-12T17:50:30.000Z`).
    Iso8601Millis,
    HttpDate,
    EpochSeconds,
}

impl TsFormat {
    /// The `timestampFormat` trait of the member, else of the shape, else the default of
    /// the place the value goes.
    pub(crate) fn of(r: Option<&ShapeRef>, shape: &Shape, default: TsFormat) -> TsFormat {
        let named = r.and_then(|r| r.timestamp_format.as_deref()).or(shape.timestamp_format.as_deref());
        match named {
            Some("iso8601") if default == TsFormat::Iso8601Millis => TsFormat::Iso8601Millis,
            Some("iso8601") => TsFormat::Iso8601,
            Some("rfc822") => TsFormat::HttpDate,
            Some("unixTimestamp") => TsFormat::EpochSeconds,
            _ => default,
        }
    }

    pub(crate) fn format(self, t: &Timestamp) -> String {
        match self {
            TsFormat::Iso8601 => t.to_iso8601(),
            TsFormat::Iso8601Millis => t.to_iso8601_millis(),
            TsFormat::HttpDate => t.to_rfc822(),
            TsFormat::EpochSeconds => t.to_epoch_string(),
        }
    }

    /// The declared format first; any other format is accepted too, as AWS front ends do.
    pub(crate) fn parse(self, s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let first = match self {
            TsFormat::Iso8601 | TsFormat::Iso8601Millis => Timestamp::parse_iso8601(s),
            TsFormat::HttpDate => Timestamp::parse_rfc822(s),
            TsFormat::EpochSeconds => Timestamp::parse_epoch(s),
        };
        first.or_else(|_| Timestamp::parse_any(s)).ok()
    }
}

/// What a text failed to be, for the protocol's validation message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected(pub &'static str);

/// A scalar shape's value from its text form.
pub(crate) fn parse_text(
    shape: &Shape,
    r: Option<&ShapeRef>,
    text: &str,
    ts_default: TsFormat,
) -> Result<Value, Expected> {
    let t = shape.shape_type;
    if is_integer(t) {
        return parse_int(text).map(Value::Int).ok_or(Expected("an integer"));
    }
    if is_float(t) {
        return parse_float(text).map(Value::Float).ok_or(Expected("a number"));
    }
    match t {
        ShapeType::String | ShapeType::Character => Ok(Value::Str(text.to_string())),
        ShapeType::Boolean => parse_bool(text).map(Value::Bool).ok_or(Expected("a boolean")),
        ShapeType::Timestamp => {
            TsFormat::of(r, shape, ts_default).parse(text).map(Value::Timestamp).ok_or(Expected("a timestamp"))
        }
        ShapeType::Blob => decode_base64(text).map(Value::Blob).ok_or(Expected("base64-encoded bytes")),
        _ => Err(Expected("a scalar")),
    }
}

pub(crate) fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok()
}

/// `NaN`, `Infinity` and `-Infinity` are how every protocol spells the non-finite values.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    match text.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t if t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
            && !t.is_empty() =>
        {
            t.parse::<f64>().ok()
        }
        _ => None,
    }
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Standard base64; whitespace and missing padding are tolerated because some clients
/// wrap or trim what they send.
pub(crate) fn decode_base64(text: &str) -> Option<Bytes> {
    let t = text.trim();
    if let Ok(b) = STANDARD.decode(t) {
        return Some(Bytes::from(b));
    }
    let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace() && *c != '=').collect();
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact).ok().map(Bytes::from)
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A timestamp from whatever a provider put in the tree: a timestamp, epoch seconds, or
/// text in any wire format.
pub(crate) fn as_timestamp(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Timestamp(t) => Some(*t),
        Value::Int(i) => Some(Timestamp::from_secs(*i)),
        Value::Float(f) => Timestamp::from_epoch_f64(*f),
        Value::Str(s) => Timestamp::parse_any(s).ok(),
        _ => None,
    }
}

pub(crate) fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f == f64::INFINITY {
        out.push_str("Infinity");
    } else if f == f64::NEG_INFINITY {
        out.push_str("-Infinity");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// The text form of a scalar value of `shape`, appended to `out`. Values of another
/// kind than the shape's are written as well as they can be rather than dropped.
pub(crate) fn write_text(out: &mut String, v: &Value, shape: &Shape, r: Option<&ShapeRef>, ts_default: TsFormat) {
    match v {
        Value::Null | Value::List(_) | Value::Map(_) | Value::Stream(_) => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            if shape.shape_type == ShapeType::Timestamp {
                out.push_str(&TsFormat::of(r, shape, ts_default).format(&Timestamp::from_secs(*i)));
            } else {
                let _ = write!(out, "{i}");
            }
        }
        Value::Float(f) => {
            if is_integer(shape.shape_type) && f.fract() == 0.0 && f.is_finite() {
                let _ = write!(out, "{}", *f as i64);
            } else if shape.shape_type == ShapeType::Timestamp {
                if let Some(t) = Timestamp::from_epoch_f64(*f) {
                    out.push_str(&TsFormat::of(r, shape, ts_default).format(&t));
                }
            } else {
                write_float(out, *f);
            }
        }
        Value::Str(s) => {
            if shape.shape_type == ShapeType::Blob {
                out.push_str(&encode_base64(s.as_bytes()));
            } else if shape.shape_type == ShapeType::Timestamp {
                match Timestamp::parse_any(s) {
                    Ok(t) => out.push_str(&TsFormat::of(r, shape, ts_default).format(&t)),
                    Err(_) => out.push_str(s),
                }
            } else {
                out.push_str(s);
            }
        }
        Value::Blob(b) => {
            if shape.shape_type == ShapeType::Blob {
                out.push_str(&encode_base64(b));
            } else {
                out.push_str(&String::from_utf8_lossy(b));
            }
        }
        Value::Timestamp(t) => out.push_str(&TsFormat::of(r, shape, ts_default).format(t)),
        Value::Document(d) => match d {
            serde_json::Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(t: &str) -> Shape {
        serde_json::from_str(&format!(r#"{{"type":"{t}"}}"#)).unwrap()
    }

    #[test]
    fn texts_parse_by_shape_type() {
        assert_eq!(parse_text(&shape("integer"), None, " 42 ", TsFormat::Iso8601), Ok(Value::Int(42)));
        assert_eq!(parse_text(&shape("integer"), None, "4x", TsFormat::Iso8601), Err(Expected("an integer")));
        assert_eq!(parse_text(&shape("boolean"), None, "true", TsFormat::Iso8601), Ok(Value::Bool(true)));
        assert_eq!(
            parse_text(&shape("blob"), None, "dmFsdWU=", TsFormat::Iso8601),
            Ok(Value::Blob(Bytes::from_static(b"value")))
        );
        let Ok(Value::Float(nan)) = parse_text(&shape("double"), None, "NaN", TsFormat::Iso8601) else { panic!() };
        assert!(nan.is_nan());
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("inf"), None, "only AWS's spelling of infinity is accepted");
        let ts = parse_text(&shape("timestamp"), None, "Mon, 16 Dec 2019 23:48:18 GMT", TsFormat::HttpDate);
        assert_eq!(ts, Ok(Value::Timestamp(Timestamp::from_secs(1_576_540_098))));
        // A member's own format wins over the place's default.
        let r: ShapeRef = serde_json::from_str(r#"{"shape":"T","timestampFormat":"unixTimestamp"}"#).unwrap();
        assert_eq!(TsFormat::of(Some(&r), &shape("timestamp"), TsFormat::HttpDate), TsFormat::EpochSeconds);
    }

    #[test]
    fn values_format_as_text() {
        let mut s = String::new();
        write_text(&mut s, &Value::Float(f64::INFINITY), &shape("double"), None, TsFormat::Iso8601);
        assert_eq!(s, "Infinity");
        s.clear();
        write_text(
            &mut s,
            &Value::Timestamp(Timestamp::from_secs(1_398_796_238)),
            &shape("timestamp"),
            None,
            TsFormat::HttpDate,
        );
        assert_eq!(s, "Tue, 29 Apr 2014 18:30:38 GMT");
        s.clear();
        write_text(&mut s, &Value::Blob(Bytes::from_static(b"value")), &shape("blob"), None, TsFormat::Iso8601);
        assert_eq!(s, "dmFsdWU=");
    }
}
