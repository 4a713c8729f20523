//! Event streams (`application/vnd.amazon.eventstream`): the body of a REST output
//! whose payload member is a union marked `eventstream` (Lambda's
//! InvokeWithResponseStream, S3's SelectObjectContent). Each event is one binary
//! message: a prelude (total length, headers length, CRC32 of those 8 bytes), typed
//! headers (`:event-type`, `:content-type`, `:message-type`), the payload and a CRC32
//! of everything before it.
//! https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html
//! https://smithy.io/2.0/aws/amazon-eventstream.html
//!
//! In the [`Value`] tree the events are either one union value (a `Map`: every member
//! that is set is one event, in the map's order — what a generated typed shape gives)
//! or a `List` of union values, for a provider that sends several events of one kind.
//! The whole stream is in memory when it is serialized: kagami's providers answer with
//! every event at once.

use crate::rest::Kind;
use crate::schema::{Bindings, is_document};
use crate::{Timestamp, Value, json_codec, rest_json, rest_xml};
use indexmap::IndexMap;
use kagami_model::{ServiceModel, Shape, ShapeRef, ShapeType};

pub(crate) const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Total length, headers length and the CRC32 of both.
const PRELUDE_LEN: usize = 12;
const CRC_LEN: usize = 4;

/// Header value type tags of the framing.
const TYPE_TRUE: u8 = 0;
const TYPE_FALSE: u8 = 1;
const TYPE_BYTE: u8 = 2;
const TYPE_SHORT: u8 = 3;
const TYPE_INT: u8 = 4;
const TYPE_LONG: u8 = 5;
const TYPE_BYTES: u8 = 6;
const TYPE_STRING: u8 = 7;
const TYPE_TIMESTAMP: u8 = 8;
const TYPE_UUID: u8 = 9;

/// A typed header value of one message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    Str(String),
    /// Milliseconds since the epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One message, before framing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

impl Message {
    pub(crate) fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn header_str(&self, name: &str) -> Option<&str> {
        match self.header(name) {
            Some(HeaderValue::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    // CRC-32 (ISO-HDLC) fits 32 bits; the library returns every width as u64.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, bytes) as u32
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &HeaderValue) {
    // Names are the model's member names and the fixed `:`-prefixed ones: never over 255 bytes.
    let name = name.as_bytes().get(..usize::from(u8::MAX)).unwrap_or(name.as_bytes());
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    match value {
        HeaderValue::Bool(true) => out.push(TYPE_TRUE),
        HeaderValue::Bool(false) => out.push(TYPE_FALSE),
        HeaderValue::Byte(b) => {
            out.push(TYPE_BYTE);
            out.extend_from_slice(&b.to_be_bytes());
        }
        HeaderValue::Short(s) => {
            out.push(TYPE_SHORT);
            out.extend_from_slice(&s.to_be_bytes());
        }
        HeaderValue::Int(i) => {
            out.push(TYPE_INT);
            out.extend_from_slice(&i.to_be_bytes());
        }
        HeaderValue::Long(l) => {
            out.push(TYPE_LONG);
            out.extend_from_slice(&l.to_be_bytes());
        }
        HeaderValue::Bytes(b) => write_variable(out, TYPE_BYTES, b),
        HeaderValue::Str(s) => write_variable(out, TYPE_STRING, s.as_bytes()),
        HeaderValue::Timestamp(ms) => {
            out.push(TYPE_TIMESTAMP);
            out.extend_from_slice(&ms.to_be_bytes());
        }
        HeaderValue::Uuid(u) => {
            out.push(TYPE_UUID);
            out.extend_from_slice(u);
        }
    }
}

/// Bytes and strings: a 16-bit length, then the bytes (longer ones are cut there).
fn write_variable(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    let bytes = bytes.get(..usize::from(u16::MAX)).unwrap_or(bytes);
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends `message`, framed, to `out`.
pub(crate) fn encode(out: &mut Vec<u8>, message: &Message) {
    let mut headers = Vec::with_capacity(96);
    for (name, value) in &message.headers {
        write_header(&mut headers, name, value);
    }
    let total = PRELUDE_LEN + headers.len() + message.payload.len() + CRC_LEN;
    let start = out.len();
    out.reserve(total);
    // Lambda caps a response at 20 MB and S3 Select records are far smaller; a stream
    // message near 4 GiB would be a provider defect, so the lengths fit in u32.
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&u32::try_from(headers.len()).unwrap_or(u32::MAX).to_be_bytes());
    let prelude_crc = crc32(out.get(start..start + 8).unwrap_or_default());
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(&message.payload);
    let message_crc = crc32(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&message_crc.to_be_bytes());
}

/// Why bytes are not a well-formed event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed event stream: {0}")]
pub(crate) struct Malformed(&'static str);

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], Malformed> {
    if bytes.len() < n {
        return Err(Malformed("truncated header"));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn array<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N], Malformed> {
    take(bytes, N)?.try_into().map_err(|_| Malformed("truncated header"))
}

fn read_headers(mut bytes: &[u8]) -> Result<Vec<(String, HeaderValue)>, Malformed> {
    let mut headers = Vec::new();
    while !bytes.is_empty() {
        let [len] = array::<1>(&mut bytes)?;
        let name = String::from_utf8(take(&mut bytes, usize::from(len))?.to_vec()).map_err(|_| Malformed("header name"))?;
        let [tag] = array::<1>(&mut bytes)?;
        let value = match tag {
            TYPE_TRUE => HeaderValue::Bool(true),
            TYPE_FALSE => HeaderValue::Bool(false),
            TYPE_BYTE => HeaderValue::Byte(i8::from_be_bytes(array(&mut bytes)?)),
            TYPE_SHORT => HeaderValue::Short(i16::from_be_bytes(array(&mut bytes)?)),
            TYPE_INT => HeaderValue::Int(i32::from_be_bytes(array(&mut bytes)?)),
            TYPE_LONG => HeaderValue::Long(i64::from_be_bytes(array(&mut bytes)?)),
            TYPE_TIMESTAMP => HeaderValue::Timestamp(i64::from_be_bytes(array(&mut bytes)?)),
            TYPE_UUID => HeaderValue::Uuid(array(&mut bytes)?),
            TYPE_BYTES | TYPE_STRING => {
                let len = u16::from_be_bytes(array(&mut bytes)?);
                let raw = take(&mut bytes, usize::from(len))?.to_vec();
                if tag == TYPE_BYTES {
                    HeaderValue::Bytes(raw)
                } else {
                    HeaderValue::Str(String::from_utf8(raw).map_err(|_| Malformed("string header"))?)
                }
            }
            _ => return Err(Malformed("unknown header type")),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

/// Every message of a stream, checking both CRCs of each.
pub(crate) fn decode(mut bytes: &[u8]) -> Result<Vec<Message>, Malformed> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        let prelude = bytes.get(..PRELUDE_LEN).ok_or(Malformed("truncated prelude"))?;
        let word = |i: usize| prelude.get(i..i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_be_bytes);
        let (Some(total), Some(headers_len), Some(prelude_crc)) = (word(0), word(4), word(8)) else {
            return Err(Malformed("truncated prelude"));
        };
        if crc32(prelude.get(..8).unwrap_or_default()) != prelude_crc {
            return Err(Malformed("prelude CRC mismatch"));
        }
        let (total, headers_len) = (total as usize, headers_len as usize);
        if total < PRELUDE_LEN + headers_len + CRC_LEN || total > bytes.len() {
            return Err(Malformed("bad lengths"));
        }
        let (message, rest) = bytes.split_at(total);
        let (body, crc) = message.split_at(total - CRC_LEN);
        let crc = <[u8; 4]>::try_from(crc).map_err(|_| Malformed("truncated message"))?;
        if crc32(body) != u32::from_be_bytes(crc) {
            return Err(Malformed("message CRC mismatch"));
        }
        let headers = read_headers(body.get(PRELUDE_LEN..PRELUDE_LEN + headers_len).unwrap_or_default())?;
        let payload = body.get(PRELUDE_LEN + headers_len..).unwrap_or_default().to_vec();
        messages.push(Message { headers, payload });
        bytes = rest;
    }
    Ok(messages)
}

// ---------------------------------------------------------------------------------
// Events of a model's union

/// The member of an event structure that is its whole payload.
fn payload_member(s: &Shape) -> Option<(&String, &ShapeRef)> {
    s.members.iter().find(|(_, r)| r.event_payload)
}

fn header_of(model: &ServiceModel, r: &ShapeRef, v: &Value) -> Option<HeaderValue> {
    let s = model.shapes.get(&r.shape)?;
    Some(match (s.shape_type, v) {
        (_, Value::Bool(b)) => HeaderValue::Bool(*b),
        (ShapeType::Byte, Value::Int(i)) => HeaderValue::Byte(i8::try_from(*i).ok()?),
        (ShapeType::Short, Value::Int(i)) => HeaderValue::Short(i16::try_from(*i).ok()?),
        (ShapeType::Integer, Value::Int(i)) => HeaderValue::Int(i32::try_from(*i).ok()?),
        (ShapeType::Timestamp, Value::Timestamp(t)) => HeaderValue::Timestamp(t.as_millis()),
        (ShapeType::Timestamp, Value::Int(secs)) => HeaderValue::Timestamp(secs.saturating_mul(1000)),
        (_, Value::Int(i)) => HeaderValue::Long(*i),
        (_, Value::Blob(b)) => HeaderValue::Bytes(b.to_vec()),
        (_, Value::Str(t)) => HeaderValue::Str(t.clone()),
        _ => return None,
    })
}

/// The body of an event: its payload member (raw bytes or text, or a structure in the
/// protocol's format), else its non-header members as a structure.
fn event_body(
    model: &ServiceModel,
    event: &str,
    s: &Shape,
    map: &IndexMap<String, Value>,
    kind: Kind,
) -> Option<(&'static str, Vec<u8>)> {
    if let Some((name, r)) = payload_member(s) {
        let v = map.get(name).filter(|v| !matches!(v, Value::Null))?;
        let ps = model.shapes.get(&r.shape)?;
        return Some(match (ps.shape_type, v) {
            (ShapeType::Blob, Value::Blob(b)) => ("application/octet-stream", b.to_vec()),
            (ShapeType::Blob, Value::Str(t)) => ("application/octet-stream", t.clone().into_bytes()),
            (ShapeType::String, Value::Str(t)) => ("text/plain", t.clone().into_bytes()),
            _ if is_document(ps) => {
                let mut out = Vec::new();
                json_codec::write_generic(&mut out, v);
                ("application/json", out)
            }
            _ => match kind {
                Kind::Json => ("application/json", rest_json::write_payload(model, ps, r, v)),
                Kind::Xml => ("text/xml", rest_xml::write_payload(model, name, ps, r, v)),
            },
        });
    }
    if s.members.values().all(|r| r.event_header) {
        return None;
    }
    let body: IndexMap<String, Value> = map
        .iter()
        .filter(|(k, _)| s.members.get(k.as_str()).is_some_and(|r| !r.event_header))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(match kind {
        Kind::Json => {
            let mut out = Vec::with_capacity(64);
            json_codec::write_struct(&mut out, model, s, &body, Bindings::None);
            ("application/json", out)
        }
        Kind::Xml => {
            // The root element is named by the event, as a payload is by its member.
            let r = ShapeRef { shape: event.to_string(), ..Default::default() };
            ("text/xml", rest_xml::write_payload(model, event, s, &r, &Value::Map(body)))
        }
    })
}

/// The message of one event: member `name` of the union, holding `v`.
fn event_message(model: &ServiceModel, name: &str, r: &ShapeRef, v: &Value, kind: Kind) -> Option<Message> {
    let s = model.shapes.get(&r.shape)?;
    let empty = IndexMap::new();
    let map = v.as_map().unwrap_or(&empty);
    let (type_header, message_type) = if s.exception { (":exception-type", "exception") } else { (":event-type", "event") };
    let mut headers = vec![(type_header.to_string(), HeaderValue::Str(name.to_string()))];
    let body = event_body(model, name, s, map, kind);
    if let Some((content_type, _)) = &body {
        headers.push((":content-type".to_string(), HeaderValue::Str((*content_type).to_string())));
    }
    headers.push((":message-type".to_string(), HeaderValue::Str(message_type.to_string())));
    for (member, mr) in s.members.iter().filter(|(_, mr)| mr.event_header) {
        if let Some(h) = map.get(member).and_then(|mv| header_of(model, mr, mv)) {
            headers.push((member.clone(), h));
        }
    }
    Some(Message { headers, payload: body.map(|(_, b)| b).unwrap_or_default() })
}

/// The framed messages of the events in `v`, a value of the event-stream union `stream`.
pub(crate) fn write_events(model: &ServiceModel, stream: &Shape, v: &Value, kind: Kind) -> Vec<u8> {
    let mut out = Vec::new();
    let unions: &[Value] = match v {
        Value::List(items) => items,
        other => std::slice::from_ref(other),
    };
    for union in unions {
        let Some(map) = union.as_map() else { continue };
        for (name, ev) in map.iter().filter(|(_, ev)| !matches!(ev, Value::Null)) {
            let Some(r) = stream.members.get(name) else { continue };
            if let Some(message) = event_message(model, name, r, ev, kind) {
                encode(&mut out, &message);
            }
        }
    }
    out
}

/// The events of a stream as a `List` of one-member union values: what an SDK reads.
pub(crate) fn read_events(model: &ServiceModel, stream: &Shape, body: &[u8], kind: Kind) -> Result<Value, String> {
    let mut events = Vec::new();
    for message in decode(body).map_err(|e| e.to_string())? {
        let name = message
            .header_str(":event-type")
            .or_else(|| message.header_str(":exception-type"))
            .ok_or("a message without :event-type")?;
        let r = stream.members.get(name).ok_or_else(|| format!("unknown event {name}"))?;
        let s = model.shapes.get(&r.shape).ok_or_else(|| format!("no shape {}", r.shape))?;
        let mut members = IndexMap::new();
        if let Some((pname, pr)) = payload_member(s) {
            let ps = model.shapes.get(&pr.shape).ok_or("no payload shape")?;
            let v = match ps.shape_type {
                ShapeType::Blob => Some(Value::Blob(message.payload.clone().into())),
                ShapeType::String => Some(Value::Str(String::from_utf8_lossy(&message.payload).into_owned())),
                _ => match kind {
                    Kind::Json => rest_json::parse_payload(model, ps, pr, &message.payload).map_err(|e| e.message)?,
                    Kind::Xml => rest_xml::parse_payload(model, ps, &message.payload).map_err(|e| e.message)?,
                },
            };
            if let Some(v) = v {
                members.insert(pname.clone(), v);
            }
        } else if !message.payload.is_empty() {
            match kind {
                Kind::Json => members.extend(
                    json_codec::parse_struct(model, s, &message.payload, Bindings::None).map_err(|e| e.to_string())?,
                ),
                Kind::Xml => rest_xml::parse_body(model, s, &message.payload, Bindings::None, &mut members).map_err(|e| e.message)?,
            }
        }
        for (member, _) in s.members.iter().filter(|(_, mr)| mr.event_header) {
            let v = match message.header(member) {
                Some(HeaderValue::Bool(b)) => Value::Bool(*b),
                Some(HeaderValue::Byte(i)) => Value::Int(i64::from(*i)),
                Some(HeaderValue::Short(i)) => Value::Int(i64::from(*i)),
                Some(HeaderValue::Int(i)) => Value::Int(i64::from(*i)),
                Some(HeaderValue::Long(i)) => Value::Int(*i),
                Some(HeaderValue::Timestamp(ms)) => Value::Timestamp(Timestamp::from_millis(*ms)),
                Some(HeaderValue::Bytes(b)) => Value::Blob(b.clone().into()),
                Some(HeaderValue::Str(t)) => Value::Str(t.clone()),
                Some(HeaderValue::Uuid(u)) => Value::Blob(u.to_vec().into()),
                None => continue,
            };
            members.insert(member.clone(), v);
        }
        events.push(Value::Map(IndexMap::from([(name.to_string(), Value::Map(members))])));
    }
    Ok(Value::List(events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn model() -> ServiceModel {
        let mut m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-json", "endpointPrefix": "t"},
            "operations": {"Stream": {"name": "Stream", "http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "Out"}}},
            "shapes": {
                "Out": {"type": "structure", "payload": "Events", "members": {
                    "Version": {"shape": "S", "location": "header", "locationName": "X-Amz-Executed-Version"},
                    "Events": {"shape": "Events"}}},
                "Events": {"type": "structure", "eventstream": true, "members": {
                    "Chunk": {"shape": "Chunk"},
                    "Done": {"shape": "Done"},
                    "Empty": {"shape": "Empty"},
                    "Boom": {"shape": "Boom"}}},
                "Chunk": {"type": "structure", "event": true, "members": {"Payload": {"shape": "B", "eventpayload": true}}},
                "Done": {"type": "structure", "event": true, "members": {
                    "ErrorCode": {"shape": "S"},
                    "Count": {"shape": "I", "eventheader": true}}},
                "Empty": {"type": "structure", "event": true, "members": {}},
                "Boom": {"type": "structure", "exception": true, "members": {"Message": {"shape": "S"}}},
                "S": {"type": "string"},
                "B": {"type": "blob"},
                "I": {"type": "integer"},
            }
        }))
        .unwrap();
        m.name = "t".to_string();
        m
    }

    fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
        m.header_str(name)
    }

    #[test]
    fn a_message_round_trips_and_its_crcs_are_checked() {
        let message = Message {
            headers: vec![
                (":event-type".into(), HeaderValue::Str("Chunk".into())),
                ("flag".into(), HeaderValue::Bool(false)),
                ("n".into(), HeaderValue::Long(-7)),
                ("at".into(), HeaderValue::Timestamp(1_700_000_000_123)),
            ],
            payload: b"hello".to_vec(),
        };
        let mut wire = Vec::new();
        encode(&mut wire, &message);
        let total = u32::from_be_bytes(wire[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, wire.len(), "the prelude counts the whole message");
        assert_eq!(decode(&wire).unwrap(), vec![message.clone()]);
        let mut corrupt = wire.clone();
        let last_payload_byte = corrupt.len() - CRC_LEN - 1;
        corrupt[last_payload_byte] ^= 1;
        assert_eq!(decode(&corrupt), Err(Malformed("message CRC mismatch")));
        corrupt = wire.clone();
        corrupt[5] ^= 1;
        assert_eq!(decode(&corrupt), Err(Malformed("prelude CRC mismatch")));
        assert!(decode(&wire[..wire.len() - 1]).is_err(), "a truncated message is refused");
    }

    #[test]
    fn the_known_empty_message_has_aws_bytes() {
        // An empty message with no headers: total 16, headers 0, and the CRC32 of the
        // 8 zero-and-16 bytes, as the AWS SDKs' test vectors have it.
        let mut wire = Vec::new();
        encode(&mut wire, &Message { headers: Vec::new(), payload: Vec::new() });
        assert_eq!(wire, [0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff]);
    }

    #[test]
    fn each_set_member_of_a_union_is_one_event_in_order() {
        let m = model();
        let events = &m.shapes["Events"];
        let union = Value::Map(IndexMap::from([
            ("Chunk".to_string(), Value::Map(IndexMap::from([("Payload".to_string(), Value::Blob(Bytes::from_static(b"{\"a\":1}")))]))),
            ("Empty".to_string(), Value::Null),
            (
                "Done".to_string(),
                Value::Map(IndexMap::from([("ErrorCode".to_string(), Value::Str("Unhandled".into())), ("Count".to_string(), Value::Int(3))])),
            ),
        ]));
        let wire = write_events(&m, events, &union, Kind::Json);
        let messages = decode(&wire).unwrap();
        assert_eq!(messages.len(), 2, "a null member sends nothing");
        assert_eq!(header(&messages[0], ":event-type"), Some("Chunk"));
        assert_eq!(header(&messages[0], ":content-type"), Some("application/octet-stream"));
        assert_eq!(header(&messages[0], ":message-type"), Some("event"));
        assert_eq!(messages[0].payload, b"{\"a\":1}", "a blob payload is sent raw");
        assert_eq!(header(&messages[1], ":event-type"), Some("Done"));
        assert_eq!(header(&messages[1], ":content-type"), Some("application/json"));
        assert_eq!(messages[1].payload, br#"{"ErrorCode":"Unhandled"}"#, "header members stay out of the body");
        assert_eq!(messages[1].header("Count"), Some(&HeaderValue::Int(3)));

        let read = read_events(&m, events, &wire, Kind::Json).unwrap();
        let list = read.as_list().unwrap();
        assert_eq!(list[0].get("Chunk").and_then(|c| c.get("Payload")), Some(&Value::Blob(Bytes::from_static(b"{\"a\":1}"))));
        assert_eq!(list[1].get("Done").and_then(|d| d.get("Count")), Some(&Value::Int(3)));
    }

    #[test]
    fn a_list_of_unions_sends_several_events_of_one_kind_and_exceptions_say_so() {
        let m = model();
        let chunk = |b: &'static [u8]| {
            Value::Map(IndexMap::from([(
                "Chunk".to_string(),
                Value::Map(IndexMap::from([("Payload".to_string(), Value::Blob(Bytes::from_static(b)))])),
            )]))
        };
        let boom = Value::Map(IndexMap::from([(
            "Boom".to_string(),
            Value::Map(IndexMap::from([("Message".to_string(), Value::Str("bad".into()))])),
        )]));
        let empty = Value::Map(IndexMap::from([("Empty".to_string(), Value::map())]));
        let wire = write_events(&m, &m.shapes["Events"], &Value::List(vec![chunk(b"ab"), chunk(b"cd"), empty, boom]), Kind::Json);
        let messages = decode(&wire).unwrap();
        let payloads: Vec<&[u8]> = messages.iter().map(|m| m.payload.as_slice()).collect();
        assert_eq!(payloads, vec![&b"ab"[..], b"cd", b"", br#"{"Message":"bad"}"#]);
        assert_eq!(header(&messages[2], ":content-type"), None, "an event without members has no body");
        assert_eq!(header(&messages[3], ":message-type"), Some("exception"));
        assert_eq!(header(&messages[3], ":exception-type"), Some("Boom"));
    }

    #[test]
    fn an_eventstream_payload_becomes_the_response_body() {
        let m = model();
        let op = &m.operations["Stream"];
        let output = Value::Map(IndexMap::from([
            ("Version".to_string(), Value::Str("$LATEST".into())),
            (
                "Events".to_string(),
                Value::Map(IndexMap::from([("Done".to_string(), Value::map())])),
            ),
        ]));
        let r = crate::rest::serialize_response(&m, op, &output, "rid", Kind::Json);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some(CONTENT_TYPE));
        assert_eq!(r.header("X-Amz-Executed-Version"), Some("$LATEST"));
        let messages = decode(&r.body).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].payload, b"{}");
        let parsed = crate::rest::parse_response(&m, &m.shapes["Out"], Kind::Json, 200, &http::HeaderMap::new(), &r.body).unwrap();
        assert!(parsed.get("Events").and_then(Value::as_list).is_some_and(|l| l.len() == 1), "{parsed:?}");
    }
}
