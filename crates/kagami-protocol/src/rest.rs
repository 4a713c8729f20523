//! HTTP bindings shared by restJson1 and restXml: URI labels, query parameters,
//! headers, prefix headers (`location: headers`), the status code and the payload
//! member. The body format is the only thing the two protocols do differently
//! ([`Kind`]).

use crate::query::pairs;
use crate::scalar::{TsFormat, decode_base64, encode_base64, parse_text, write_text};
use crate::schema::{Bindings, is_document, is_jsonvalue, shape};
use crate::{HttpResponse, RequestParts, ServiceError, Value, eventstream, rest_json, rest_xml, router};
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Json,
    Xml,
}

impl Kind {
    /// A body the model cannot read.
    fn body_error(self, detail: &str) -> ServiceError {
        match self {
            Kind::Json => ServiceError::new("SerializationException", 400, detail),
            Kind::Xml => ServiceError::new(
                "MalformedXML",
                400,
                "The XML you provided was not well-formed or did not validate against our published schema",
            ),
        }
    }

    /// A header, query parameter or label the model cannot read.
    fn binding_error(self, what: &str, name: &str, expected: &str) -> ServiceError {
        let message = format!("{what} {name} must be {expected}");
        match self {
            Kind::Json => ServiceError::new("SerializationException", 400, message),
            Kind::Xml => ServiceError::new("InvalidArgument", 400, message),
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Kind::Json => "application/json",
            Kind::Xml => "application/xml",
        }
    }

    pub(crate) fn request_id_header(self) -> &'static str {
        match self {
            Kind::Json => "x-amzn-RequestId",
            Kind::Xml => "x-amz-request-id",
        }
    }

    /// The headers that name the request: S3-style services also send the host id
    /// (`x-amz-id-2`), which SDKs report beside the request id.
    pub(crate) fn request_id_headers(self, request_id: &str) -> Vec<(String, String)> {
        // Room for the headers an answer usually adds, so that they need no regrowth.
        let mut headers = Vec::with_capacity(RESPONSE_HEADERS_CAPACITY);
        headers.push((self.request_id_header().to_string(), request_id.to_string()));
        if self == Kind::Xml {
            headers.push(("x-amz-id-2".to_string(), host_id(request_id)));
        }
        headers
    }
}

/// Members a typical REST request sets (S3's PutObject: bucket, key, a few headers, the
/// body).
const INPUT_MEMBERS_CAPACITY: usize = 8;

/// Headers of a typical answer (S3's GetObject sends about ten).
const RESPONSE_HEADERS_CAPACITY: usize = 12;

/// S3's extended request id (`x-amz-id-2`, the `HostId` of its error bodies). Opaque
/// base64 to clients; derived from the request id so that both name one request.
pub(crate) fn host_id(request_id: &str) -> String {
    encode_base64(request_id.as_bytes())
}

pub(crate) fn resolve<'m>(model: &'m ServiceModel, parts: &RequestParts) -> Result<&'m Operation, ServiceError> {
    router::resolve(model, parts.method, parts.path, parts.query, parts.headers).ok_or_else(|| {
        ServiceError::new(
            "UnknownOperationException",
            404,
            format!("No operation matches {} {}", parts.method, parts.path),
        )
    })
}

fn decode_label(raw: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy()
}

/// The values of a header, joined as one list the way HTTP allows repeated headers.
fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let mut text = String::from_utf8_lossy(first.as_bytes()).into_owned();
    for v in values {
        text.push_str(", ");
        text.push_str(&String::from_utf8_lossy(v.as_bytes()));
    }
    Some(text)
}

/// Splits a header list on commas outside double quotes, unquoting quoted items.
fn split_header_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => items.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    let last = cur.trim();
    if !last.is_empty() || !items.is_empty() {
        items.push(last.to_string());
    }
    items
}

/// HTTP dates contain a comma themselves, so a list of them splits on every other one.
fn split_http_dates(text: &str) -> Vec<String> {
    let parts: Vec<&str> = text.split(',').collect();
    parts.chunks(2).map(|c| c.join(",").trim().to_string()).collect()
}

fn header_value(
    kind: Kind,
    model: &ServiceModel,
    name: &str,
    r: &ShapeRef,
    s: &Shape,
    text: &str,
) -> Result<Option<Value>, ServiceError> {
    let bad = |e: crate::scalar::Expected| kind.binding_error("Header", name, e.0);
    if s.shape_type == ShapeType::List {
        let Some((mr, ms)) = s.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|ms| (m, ms))) else {
            return Ok(None);
        };
        let items = if ms.shape_type == ShapeType::Timestamp
            && TsFormat::of(Some(mr), ms, TsFormat::HttpDate) == TsFormat::HttpDate
        {
            split_http_dates(text)
        } else {
            split_header_list(text)
        };
        let values: Result<Vec<Value>, _> =
            items.iter().map(|i| parse_text(ms, Some(mr), i, TsFormat::HttpDate).map_err(bad)).collect();
        return Ok(Some(Value::List(values?)));
    }
    if is_jsonvalue(Some(r), s) {
        let decoded = decode_base64(text).ok_or_else(|| kind.binding_error("Header", name, "base64-encoded JSON"))?;
        let doc =
            serde_json::from_slice(&decoded).map_err(|_| kind.binding_error("Header", name, "base64-encoded JSON"))?;
        return Ok(Some(Value::Document(doc)));
    }
    parse_text(s, Some(r), text, TsFormat::HttpDate).map(Some).map_err(bad)
}

fn query_value(
    kind: Kind,
    model: &ServiceModel,
    wire: &str,
    r: &ShapeRef,
    s: &Shape,
    query: &[(Cow<str>, Cow<str>)],
) -> Result<Option<Value>, ServiceError> {
    let bad = |e: crate::scalar::Expected| kind.binding_error("Query parameter", wire, e.0);
    match s.shape_type {
        // httpQueryParams: every parameter of the query string.
        ShapeType::Map => {
            let Some(vs) = s.value.as_ref().and_then(|v| model.shapes.get(&v.shape)) else { return Ok(None) };
            let mut out: IndexMap<String, Value> = IndexMap::new();
            for (k, v) in query {
                if vs.shape_type == ShapeType::List {
                    let slot = out.entry(k.to_string()).or_insert_with(|| Value::List(Vec::new()));
                    if let Value::List(items) = slot {
                        items.push(Value::Str(v.to_string()));
                    }
                } else if !out.contains_key(k.as_ref()) {
                    out.insert(k.to_string(), Value::Str(v.to_string()));
                }
            }
            Ok((!out.is_empty()).then_some(Value::Map(out)))
        }
        ShapeType::List => {
            let Some((mr, ms)) = s.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|ms| (m, ms))) else {
                return Ok(None);
            };
            let items: Result<Vec<Value>, _> = query
                .iter()
                .filter(|(k, _)| k == wire)
                .map(|(_, v)| parse_text(ms, Some(mr), v, TsFormat::Iso8601).map_err(bad))
                .collect();
            let items = items?;
            Ok((!items.is_empty()).then_some(Value::List(items)))
        }
        _ => match query.iter().find(|(k, _)| k == wire) {
            Some((_, v)) => parse_text(s, Some(r), v, TsFormat::Iso8601).map(Some).map_err(|e| match kind {
                // S3 words an unreadable integer parameter this way, naming it and its value
                // (`max-keys=abc`).
                Kind::Xml if e.0 == "an integer" => ServiceError::new(
                    "InvalidArgument",
                    400,
                    format!("Provided {wire} not an integer or within integer range"),
                )
                .with_field("ArgumentName", wire)
                .with_field("ArgumentValue", v.as_ref()),
                _ => bad(e),
            }),
            None => Ok(None),
        },
    }
}

pub(crate) fn parse_request(
    model: &ServiceModel,
    op: &Operation,
    parts: &RequestParts,
    kind: Kind,
) -> Result<Value, ServiceError> {
    let Some(input) = &op.input else { return Ok(Value::map()) };
    let input_shape = shape(model, &input.shape)?;
    let labels = router::labels(op, parts.path);
    let query: Vec<(Cow<str>, Cow<str>)> = pairs(parts.query).collect();
    // Sized for the few members a request sets, and the streaming body added after.
    let mut out = IndexMap::with_capacity(INPUT_MEMBERS_CAPACITY);
    let mut body_members = false;
    // Most members of a large input (S3 has dozens of headers) are absent: their
    // shapes are looked up only once their binding is found in the request, and a header
    // member is looked up among the headers only if the request has its header.
    let present = router::present_headers(model, &input.shape, input_shape.members.len(), parts.headers);
    let absent = |pos: usize| present.as_ref().is_some_and(|p| !p.get(pos).copied().unwrap_or(true));
    for (pos, (name, r)) in input_shape.members.iter().enumerate() {
        let wire = r.location_name.as_deref().unwrap_or(name);
        let value = match r.location.as_deref() {
            Some("uri") => match labels.iter().find(|(l, _)| *l == wire) {
                Some((_, raw)) => Some(
                    parse_text(shape(model, &r.shape)?, Some(r), &decode_label(raw), TsFormat::Iso8601)
                        .map_err(|e| kind.binding_error("Label", wire, e.0))?,
                ),
                None => None,
            },
            Some("querystring") if query.is_empty() => None,
            Some("querystring") => query_value(kind, model, wire, r, shape(model, &r.shape)?, &query)?,
            Some("header") if absent(pos) => None,
            Some("header") => match header_text(parts.headers, wire) {
                Some(text) => header_value(kind, model, wire, r, shape(model, &r.shape)?, &text)?,
                None => None,
            },
            Some("headers") => prefix_headers(kind, model, r, shape(model, &r.shape)?, parts.headers)?,
            Some(_) => None,
            None => {
                body_members = true;
                None
            }
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    if let Some(payload) = &input_shape.payload {
        if let Some(r) = input_shape.members.get(payload)
            && !parts.body.is_empty()
        {
            let s = shape(model, &r.shape)?;
            if let Some(v) = parse_payload(model, kind, s, r, parts.body)? {
                out.insert(payload.clone(), v);
            }
        }
    } else if body_members {
        match kind {
            Kind::Json => rest_json::parse_body(model, input_shape, parts.body, Bindings::Request, &mut out)?,
            Kind::Xml => rest_xml::parse_body(model, input_shape, parts.body, Bindings::Request, &mut out)?,
        }
    }
    Ok(Value::Map(out))
}

/// The members of `shape` bound to a response: headers, prefix headers and the status
/// code, then the payload or body. What SDKs do with our responses, for the
/// conformance tests.
pub(crate) fn parse_response(
    model: &ServiceModel,
    shape: &Shape,
    kind: Kind,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Value, ServiceError> {
    let mut out = IndexMap::new();
    let mut body_members = false;
    for (name, r) in &shape.members {
        let s = crate::schema::shape(model, &r.shape)?;
        let wire = r.location_name.as_deref().unwrap_or(name);
        let value = match r.location.as_deref() {
            Some("header") => match header_text(headers, wire) {
                Some(text) => header_value(kind, model, wire, r, s, &text)?,
                None => None,
            },
            Some("headers") => prefix_headers(kind, model, r, s, headers)?,
            Some("statusCode") => Some(Value::Int(i64::from(status))),
            _ => {
                body_members = true;
                None
            }
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    if let Some(payload) = &shape.payload {
        if let Some(r) = shape.members.get(payload)
            && !body.is_empty()
        {
            let s = crate::schema::shape(model, &r.shape)?;
            if s.eventstream {
                let events = eventstream::read_events(model, s, body, kind).map_err(|e| kind.body_error(&e))?;
                out.insert(payload.clone(), events);
            } else if let Some(v) = parse_payload(model, kind, s, r, body)? {
                out.insert(payload.clone(), v);
            }
        }
    } else if body_members {
        match kind {
            Kind::Json => rest_json::parse_body(model, shape, body, Bindings::Response, &mut out)?,
            Kind::Xml => rest_xml::parse_body(model, shape, body, Bindings::Response, &mut out)?,
        }
    }
    Ok(Value::Map(out))
}

fn prefix_headers(
    kind: Kind,
    model: &ServiceModel,
    r: &ShapeRef,
    s: &Shape,
    headers: &http::HeaderMap,
) -> Result<Option<Value>, ServiceError> {
    let prefix = r.location_name.as_deref().unwrap_or("").to_ascii_lowercase();
    let Some((vr, vs)) = s.value.as_ref().and_then(|v| model.shapes.get(&v.shape).map(|vs| (v, vs))) else {
        return Ok(None);
    };
    let mut out = IndexMap::new();
    for (name, value) in headers {
        let Some(key) = name.as_str().strip_prefix(prefix.as_str()) else { continue };
        let text = String::from_utf8_lossy(value.as_bytes());
        let v = parse_text(vs, Some(vr), &text, TsFormat::HttpDate)
            .map_err(|e| kind.binding_error("Header", name.as_str(), e.0))?;
        out.insert(key.to_string(), v);
    }
    Ok((!out.is_empty()).then_some(Value::Map(out)))
}

/// The member named by `payload`: raw bytes or text, or a structure in the body format.
fn parse_payload(
    model: &ServiceModel,
    kind: Kind,
    s: &Shape,
    r: &ShapeRef,
    body: &[u8],
) -> Result<Option<Value>, ServiceError> {
    if is_document(s) {
        return match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(d) => Ok(Some(Value::Document(d))),
            Err(e) => Err(kind.body_error(&e.to_string())),
        };
    }
    match s.shape_type {
        // A body that was collected (a non-streaming blob, or an in-process call); the
        // gateway passes streaming payloads through `parse_request_streaming` instead.
        ShapeType::Blob => Ok(Some(Value::Blob(Bytes::copy_from_slice(body)))),
        ShapeType::String => match std::str::from_utf8(body) {
            Ok(text) => Ok(Some(Value::Str(text.to_string()))),
            Err(_) => Err(kind.body_error("payload is not UTF-8")),
        },
        _ => match kind {
            Kind::Json => rest_json::parse_payload(model, s, r, body),
            Kind::Xml => rest_xml::parse_payload(model, s, body),
        },
    }
}

// ---------------------------------------------------------------------------------
// Responses

/// Header values of a scalar or a list (`a, "b,c"`), in the header formats.
fn header_string(model: &ServiceModel, r: &ShapeRef, s: &Shape, v: &Value) -> Option<String> {
    match (s.shape_type, v) {
        (ShapeType::List, Value::List(items)) => {
            let (mr, ms) = s.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|ms| (m, ms)))?;
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let mut text = String::new();
                write_text(&mut text, item, ms, Some(mr), TsFormat::HttpDate);
                if ms.shape_type == ShapeType::String && (text.contains(',') || text.contains('"')) {
                    out.push('"');
                    out.push_str(&text.replace('\\', "\\\\").replace('"', "\\\""));
                    out.push('"');
                } else {
                    out.push_str(&text);
                }
            }
            Some(out)
        }
        (_, Value::Null) => None,
        (_, v) if is_jsonvalue(Some(r), s) => {
            let json = match v {
                Value::Document(d) => d.to_string(),
                Value::Str(s) => s.clone(),
                other => {
                    let mut j = Vec::new();
                    crate::json_codec::write_generic(&mut j, other);
                    String::from_utf8_lossy(&j).into_owned()
                }
            };
            Some(encode_base64(json.as_bytes()))
        }
        // Most bound members are plain strings and dates: made at their final length.
        (ShapeType::String, Value::Str(text)) => Some(text.clone()),
        (_, Value::Timestamp(t)) => Some(TsFormat::of(Some(r), s, TsFormat::HttpDate).format(t)),
        (_, v) => {
            let mut text = String::new();
            write_text(&mut text, v, s, Some(r), TsFormat::HttpDate);
            Some(text)
        }
    }
}

/// Headers and the status code bound to members of `shape`.
pub(crate) fn write_bindings(
    model: &ServiceModel,
    shape: &Shape,
    map: &IndexMap<String, Value>,
    headers: &mut Vec<(String, String)>,
    status: &mut u16,
) {
    // An output sets few of its members: those are looked up in the shape (whose maps
    // hash cheaply) rather than every bound member of the shape in the output, and
    // written in the shape's member order all the same.
    let mut bound: Vec<(usize, &String, &ShapeRef, &Value)> = Vec::with_capacity(map.len());
    bound.extend(map.iter().filter_map(|(k, v)| {
        let (pos, name, r) = shape.members.get_full(k.as_str())?;
        Bindings::Response.binds(r).then_some((pos, name, r, v))
    }));
    bound.sort_unstable_by_key(|(pos, ..)| *pos);
    for (_, name, r, v) in bound {
        let Some(s) = model.shapes.get(&r.shape) else { continue };
        let wire = r.location_name.as_deref().unwrap_or(name);
        match r.location.as_deref() {
            Some("header") => {
                if let Some(text) = header_string(model, r, s, v) {
                    headers.push((wire.to_string(), text));
                }
            }
            Some("headers") => {
                let prefix = r.location_name.as_deref().unwrap_or("");
                let vs = s.value.as_ref().and_then(|vr| model.shapes.get(&vr.shape).map(|vs| (vr, vs)));
                if let (Value::Map(entries), Some((vr, vs))) = (v, vs) {
                    for (k, item) in entries {
                        if let Some(text) = header_string(model, vr, vs, item) {
                            headers.push((format!("{prefix}{k}"), text));
                        }
                    }
                }
            }
            Some("statusCode") => {
                if let Some(code) = v.as_i64().and_then(|c| u16::try_from(c).ok()).filter(|c| (100..600).contains(c)) {
                    *status = code;
                }
            }
            _ => {}
        }
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

pub(crate) fn serialize_response(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
    kind: Kind,
) -> HttpResponse {
    let mut status = op.http.response_code.unwrap_or(200);
    let mut headers = kind.request_id_headers(request_id);
    let Some(out_shape) = op.output.as_ref().and_then(|r| model.shapes.get(&r.shape)) else {
        return HttpResponse::full(status, headers, Bytes::new());
    };
    let empty = IndexMap::new();
    let map = output.as_map().unwrap_or(&empty);
    write_bindings(model, out_shape, map, &mut headers, &mut status);
    if let Some(code) = map
        .get(crate::STATUS_MEMBER)
        .and_then(Value::as_i64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (200..300).contains(c))
    {
        status = code;
    }
    let mut content_type: Option<&str> = None;
    let mut stream = None;
    let body: Bytes = if let Some(payload) = &out_shape.payload {
        match (out_shape.members.get(payload), map.get(payload)) {
            (Some(r), Some(v)) if !matches!(v, Value::Null) => match model.shapes.get(&r.shape) {
                Some(s) if s.eventstream => {
                    content_type = Some(eventstream::CONTENT_TYPE);
                    Bytes::from(eventstream::write_events(model, s, v, kind))
                }
                Some(s) if is_document(s) => {
                    content_type = Some(kind.content_type());
                    let mut out = Vec::new();
                    crate::json_codec::write_generic(&mut out, v);
                    Bytes::from(out)
                }
                Some(s) if s.shape_type == ShapeType::Blob => {
                    content_type = Some("application/octet-stream");
                    match v {
                        Value::Blob(b) => b.clone(),
                        Value::Stream(slot) => {
                            // The provider's `Content-Length` member, bound above, wins;
                            // else the length the stream declares, else chunked.
                            if !has_header(&headers, "content-length")
                                && let Some(n) = slot.content_length()
                            {
                                headers.push(("Content-Length".to_string(), n.to_string()));
                            }
                            stream = Some(slot.clone());
                            Bytes::new()
                        }
                        Value::Str(t) => Bytes::from(t.clone().into_bytes()),
                        _ => Bytes::new(),
                    }
                }
                Some(s) if s.shape_type == ShapeType::String => {
                    content_type = Some("text/plain");
                    let mut text = String::new();
                    write_text(&mut text, v, s, Some(r), TsFormat::Iso8601);
                    Bytes::from(text)
                }
                Some(s) => {
                    content_type = Some(kind.content_type());
                    Bytes::from(match kind {
                        Kind::Json => rest_json::write_payload(model, s, r, v),
                        Kind::Xml => rest_xml::write_payload(model, payload, s, r, v),
                    })
                }
                None => Bytes::new(),
            },
            _ => Bytes::new(),
        }
    } else {
        let body = match kind {
            Kind::Json => rest_json::write_body(model, out_shape, map),
            Kind::Xml => rest_xml::write_body(model, op, out_shape, map),
        };
        if !body.is_empty() {
            content_type = Some(kind.content_type());
        }
        Bytes::from(body)
    };
    if let Some(ct) = content_type
        && !has_header(&headers, "content-type")
    {
        headers.push(("Content-Type".to_string(), ct.to_string()));
    }
    HttpResponse { status, headers, body, stream }
}

/// The headers of an error: the request id, the code (restJson1 also names it in
/// `x-amzn-ErrorType`), the content type, the error fields its shape binds to headers
/// (the rest go to the body), and the error's own extra headers.
pub(crate) fn error_headers(
    kind: Kind,
    model: &ServiceModel,
    shape: Option<&Shape>,
    err: &ServiceError,
    request_id: &str,
) -> Vec<(String, String)> {
    let mut headers = kind.request_id_headers(request_id);
    if kind == Kind::Json {
        headers.push(("x-amzn-ErrorType".to_string(), err.code.clone()));
    }
    headers.push(("Content-Type".to_string(), kind.content_type().to_string()));
    if let Some(shape) = shape {
        let fields: IndexMap<String, Value> = err.fields.iter().cloned().collect();
        let mut status = err.status;
        write_bindings(model, shape, &fields, &mut headers, &mut status);
    }
    headers.extend(err.headers.iter().cloned());
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_pseudo_member_sets_a_success_status_and_is_not_written() {
        let mut m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "t"},
            "operations": {"Get": {"name": "Get", "http": {"method": "GET", "requestUri": "/"}, "output": {"shape": "Out"}}},
            "shapes": {
                "Out": {"type": "structure", "members": {
                    "ContentRange": {"shape": "S", "location": "header", "locationName": "Content-Range"}}},
                "S": {"type": "string"},
            }
        }))
        .unwrap();
        m.name = "s3".to_string();
        let op = &m.operations["Get"];
        let out = |status: Option<i64>| {
            let mut map = IndexMap::from([("ContentRange".to_string(), Value::Str("bytes 0-1/9".into()))]);
            if let Some(s) = status {
                map.insert(crate::STATUS_MEMBER.to_string(), Value::Int(s));
            }
            serialize_response(&m, op, &Value::Map(map), "rid", Kind::Xml)
        };
        let partial = out(Some(206));
        assert_eq!(partial.status, 206);
        assert_eq!(partial.header("Content-Range"), Some("bytes 0-1/9"));
        assert!(partial.header(crate::STATUS_MEMBER).is_none() && partial.body.is_empty());
        assert_eq!(out(None).status, 200, "the model's status without the member");
        // Only success statuses: an error must go through the error serializer.
        assert_eq!(out(Some(412)).status, 200);
        assert_eq!(out(Some(70_000)).status, 200);
    }

    #[test]
    fn header_members_are_read_whatever_the_case_of_their_names() {
        let mut m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "t"},
            "operations": {"Put": {"name": "Put", "http": {"method": "PUT", "requestUri": "/{K}"}, "input": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {
                    "K": {"shape": "S", "location": "uri", "locationName": "K"},
                    "Mixed": {"shape": "S", "location": "header", "locationName": "X-Amz-Mixed"},
                    "Lower": {"shape": "S", "location": "header", "locationName": "x-amz-lower"},
                    "Absent": {"shape": "S", "location": "header", "locationName": "x-amz-absent"},
                    "Repeated": {"shape": "L", "location": "header", "locationName": "X-Amz-List"},
                    "Meta": {"shape": "M", "location": "headers", "locationName": "x-amz-meta-"}}},
                "S": {"type": "string"},
                "L": {"type": "list", "member": {"shape": "S"}},
                "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
            }
        }))
        .unwrap();
        m.name = "t".to_string();
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-mixed", "a".parse().unwrap());
        h.insert("X-AMZ-LOWER", "b".parse().unwrap());
        h.append("x-amz-list", "c".parse().unwrap());
        h.append("x-amz-list", "d".parse().unwrap());
        h.insert("x-amz-meta-color", "blue".parse().unwrap());
        let parts = RequestParts { method: &http::Method::PUT, path: "/k", query: "", headers: &h, body: &[] };
        let v = parse_request(&m, &m.operations["Put"], &parts, Kind::Xml).unwrap();
        assert_eq!(v.get("Mixed"), Some(&Value::Str("a".into())));
        assert_eq!(v.get("Lower"), Some(&Value::Str("b".into())));
        assert_eq!(v.get("Absent"), None);
        assert_eq!(v.get("Repeated"), Some(&Value::List(vec![Value::Str("c".into()), Value::Str("d".into())])));
        assert_eq!(v.get("Meta").and_then(|m| m.get("color")), Some(&Value::Str("blue".into())));
    }

    #[test]
    fn header_lists_split_on_unquoted_commas() {
        assert_eq!(split_header_list("a, b,c"), vec!["a", "b", "c"]);
        assert_eq!(split_header_list(r#""b,c", "\"def\"", a"#), vec!["b,c", "\"def\"", "a"]);
        assert_eq!(split_header_list(""), Vec::<String>::new());
        assert_eq!(
            split_http_dates("Mon, 16 Dec 2019 23:48:18 GMT, Mon, 16 Dec 2019 23:48:19 GMT"),
            vec!["Mon, 16 Dec 2019 23:48:18 GMT", "Mon, 16 Dec 2019 23:48:19 GMT"]
        );
    }
}
