//! The wire: one generic parser and serializer per AWS protocol, driven by the
//! service models. Service code sees [`Value`] trees (or typed shapes generated from
//! them) and [`ServiceError`]s, never XML, JSON or CBOR.
//!
//! A request goes through [`detect_protocol`], [`resolve_operation`] and
//! [`parse_request`]; the provider's answer through [`serialize_response`] or
//! [`serialize_error`].

// `ServiceError` is the public error of every function here and is only built on the
// cold path; boxing it would change the API that every crate codes against.
#![allow(clippy::result_large_err)]

pub mod encoding;
pub mod error;
pub mod shapes;
pub mod stream;
pub mod timestamp;
pub mod value;

mod cbor;
mod ec2;
mod eventstream;
mod json;
mod json_codec;
mod overlay;
mod query;
mod rest;
mod rest_json;
mod rest_xml;
mod router;
mod rpcv2;
mod scalar;
mod schema;
mod xml;
mod xml_body;

#[doc(hidden)]
pub mod conformance;

pub use error::ServiceError;
pub use shapes::{FromValue, IntoValue, ShapeError};
pub use stream::{ByteStream, StreamError, StreamSlot};
pub use router::common_literal_prefix;
pub use timestamp::Timestamp;
pub use value::Value;

use kagami_model::{Operation, ServiceModel};

/// A pseudo-member of an output `Value` map that sets the HTTP status of a REST
/// success response where the model binds no member to it (S3's `206 Partial Content`
/// for ranged GetObject/HeadObject). It is never written to the wire as a member.
pub const STATUS_MEMBER: &str = "x-kagami-status";

/// A pseudo-member of a structure `Value` map, written as XML: a list of member names
/// of flattened lists, one per item, giving the order in which their items are
/// interleaved (S3's ListObjectVersions mixes `<Version>` and `<DeleteMarker>` in
/// listing order). The group is written where its first member would be.
pub const XML_ORDER_MEMBER: &str = "x-kagami-xml-order";

/// The wire protocols of AWS services, as botocore names them in `metadata.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Query,
    Ec2,
    Json,
    RestJson,
    RestXml,
    RpcV2Cbor,
}

impl Protocol {
    /// `query`, `ec2`, `json`, `rest-json`, `rest-xml`, `smithy-rpc-v2-cbor`.
    pub fn from_model_name(name: &str) -> Option<Protocol> {
        Some(match name {
            "query" => Protocol::Query,
            "ec2" => Protocol::Ec2,
            "json" => Protocol::Json,
            "rest-json" => Protocol::RestJson,
            "rest-xml" => Protocol::RestXml,
            "smithy-rpc-v2-cbor" => Protocol::RpcV2Cbor,
            _ => return None,
        })
    }

    /// The protocol a model declares first.
    pub fn of_model(model: &ServiceModel) -> Protocol {
        Protocol::from_model_name(&model.metadata.protocol)
            .or_else(|| model.metadata.protocols.iter().find_map(|p| Protocol::from_model_name(p)))
            .unwrap_or(Protocol::Json)
    }
}

/// The parts of an HTTP request the protocols read.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a http::Method,
    /// Raw (percent-encoded) path, without the query.
    pub path: &'a str,
    /// Raw query string without `?`; may be empty.
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// A serialized response. `Content-Length` is the HTTP layer's to add, unless the
/// provider set it for a streamed body.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, when it is in memory; empty when it streams.
    pub body: bytes::Bytes,
    /// The body of an output whose payload is a streaming blob (S3 `GetObject`), to be
    /// sent chunk by chunk. `None` for every other response.
    pub stream: Option<StreamSlot>,
}

impl HttpResponse {
    /// A response whose body is in memory.
    pub fn full(status: u16, headers: Vec<(String, String)>, body: bytes::Bytes) -> HttpResponse {
        HttpResponse { status, headers, body, stream: None }
    }

    /// The first header of that name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How the body of a `json`-protocol exchange is encoded: JSON, or CBOR with the same
/// rules for clients that send `Content-Type: application/x-amz-cbor-1.1` (the Kinesis
/// SDKs). The answer must use the encoding of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonEncoding {
    #[default]
    Json,
    Cbor,
}

/// Parses an XML document a client sent (a SAML response, a policy): DTDs are refused,
/// and so is nesting deeper than the parser, which recurses per element, could follow
/// without exhausting a thread's stack. Services parse client XML only through this.
pub fn parse_untrusted_xml(body: &[u8]) -> Result<roxmltree::Document<'_>, String> {
    xml_body::parse_document(body)
}

/// An XML document of the model's shape `shape` that arrives outside any operation's
/// body (S3 POST's `tagging` form field), read as the service's protocol reads a
/// payload; `None` for an empty document. A malformed document or a shape the model
/// lacks is the service's MalformedXML-style error.
pub fn parse_xml_shape(
    model: &ServiceModel,
    shape: &str,
    body: &[u8],
) -> Result<Option<Value>, ServiceError> {
    let s = model
        .shape(shape)
        .ok_or_else(|| ServiceError::internal(format!("the model has no shape {shape}")))?;
    rest_xml::parse_payload(model, s, body)
}

pub(crate) fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Action=` in the query string, or in a body that says it is a form: detection is
/// stricter than the query parser, which also reads bodies posted without a type.
fn has_form_action(parts: &RequestParts) -> bool {
    if header(parts.headers, "content-type").is_some_and(query::is_form_content_type) {
        query::action(parts).is_some()
    } else {
        query::find_param(parts.query, "Action").is_some()
    }
}

/// Which wire protocol a request to this service uses. REST services speak only their
/// own; the others also accept what older or newer SDKs send: a form post with
/// `Action=` (query; SQS before 2023), `X-Amz-Target` (json), or the
/// `smithy-protocol: rpc-v2-cbor` header (CBOR).
pub fn detect_protocol(model: &ServiceModel, parts: &RequestParts) -> Protocol {
    let native = Protocol::of_model(model);
    if matches!(native, Protocol::RestJson | Protocol::RestXml) {
        return native;
    }
    if header(parts.headers, "smithy-protocol").is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor")) {
        return Protocol::RpcV2Cbor;
    }
    if parts.headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    if has_form_action(parts) {
        return if native == Protocol::Ec2 { Protocol::Ec2 } else { Protocol::Query };
    }
    native
}

/// The operation a request asks for: by `X-Amz-Target` (json), `Action=` (query, ec2),
/// the `/service/S/operation/O` path (CBOR), or the most specific `requestUri`
/// template that matches method, path and query (REST).
pub fn resolve_operation<'m>(
    model: &'m ServiceModel,
    protocol: Protocol,
    parts: &RequestParts,
) -> Result<&'m Operation, ServiceError> {
    match protocol {
        Protocol::Json => json::resolve(model, parts),
        Protocol::Query | Protocol::Ec2 => query::resolve(model, parts),
        Protocol::RpcV2Cbor => rpcv2::resolve(model, parts),
        Protocol::RestJson | Protocol::RestXml => rest::resolve(model, parts),
    }
}

/// The body encoding of a json-protocol request (CBOR for Kinesis SDKs).
pub fn json_encoding(parts: &RequestParts) -> JsonEncoding {
    json::encoding(parts)
}

fn body_error(protocol: Protocol, message: String) -> ServiceError {
    match protocol {
        Protocol::Query | Protocol::Ec2 => ServiceError::new("InvalidParameterValue", 400, message),
        Protocol::RestXml => ServiceError::new("MalformedXML", 400, message),
        _ => ServiceError::new("SerializationException", 400, message),
    }
}

/// The input of `op` as a [`Value::Map`] keyed by the model's member names. Members the
/// model does not know are ignored; malformed values answer the protocol's 400 error.
pub fn parse_request(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    parts: &RequestParts,
) -> Result<Value, ServiceError> {
    let inflated;
    let mut parts = *parts;
    if op.request_compression.is_some()
        && let Some(ce) = header(parts.headers, "content-encoding")
    {
        inflated = encoding::decode(ce, parts.body).map_err(|e| body_error(protocol, e.to_string()))?;
        parts.body = &inflated;
    }
    match protocol {
        Protocol::Json => json::parse_request(model, op, &parts),
        Protocol::Query => query::parse_request(model, op, &parts, query::Flavor::Query),
        Protocol::Ec2 => query::parse_request(model, op, &parts, query::Flavor::Ec2),
        Protocol::RpcV2Cbor => rpcv2::parse_request(model, op, &parts),
        Protocol::RestJson => rest::parse_request(model, op, &parts, rest::Kind::Json),
        Protocol::RestXml => {
            let mut input = rest::parse_request(model, op, &parts, rest::Kind::Xml)?;
            if requires_checksum(op) {
                input.insert(INTEGRITY_MEMBER, Value::Bool(has_integrity_header(parts.headers)));
            }
            Ok(input)
        }
    }
}

/// A pseudo-member of the input of a restXml operation whose model requires a request
/// checksum (S3 `DeleteObjects`): whether the request carried `Content-MD5` or an
/// `x-amz-checksum-*` header (or trailer). The model has no member for either, so
/// without it a service could not refuse a request that has neither, as S3 does.
pub const INTEGRITY_MEMBER: &str = "x-kagami-integrity";

fn requires_checksum(op: &Operation) -> bool {
    op.http_checksum_required
        || op
            .http_checksum
            .as_ref()
            .and_then(|c| c.get("requestChecksumRequired"))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
}

fn has_integrity_header(headers: &http::HeaderMap) -> bool {
    headers.contains_key("content-md5")
        || headers.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || header(headers, "x-amz-trailer").is_some_and(|t| t.trim().starts_with("x-amz-checksum-"))
}

/// The payload member of `op`'s input when it is a streaming blob (S3 `PutObject`'s
/// `Body`): the gateway hands such a body to the provider as it arrives, through
/// [`parse_request_streaming`], instead of collecting it.
pub fn streaming_input_member<'m>(model: &'m ServiceModel, op: &Operation) -> Option<&'m str> {
    schema::streaming_payload(model, op.input.as_ref()?)
}

/// The payload member of `op`'s output when it is a streaming blob (S3 `GetObject`'s
/// `Body`): a [`Value::Stream`] there is sent as a streamed body.
pub fn streaming_output_member<'m>(model: &'m ServiceModel, op: &Operation) -> Option<&'m str> {
    schema::streaming_payload(model, op.output.as_ref()?)
}

/// [`parse_request`] for an operation with a streaming input payload: every other
/// member comes from the request head (`parts.body` is not read), and `body` becomes the
/// payload member as a [`Value::Stream`]. Only REST protocols bind payloads.
pub fn parse_request_streaming(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    parts: &RequestParts,
    body: ByteStream,
) -> Result<Value, ServiceError> {
    let head = RequestParts { body: &[], ..*parts };
    let mut input = parse_request(model, protocol, op, &head)?;
    if let Some(member) = streaming_input_member(model, op) {
        input.insert(member, Value::from(body));
    }
    Ok(input)
}

/// The HTTP response for a successful `output` of `op`.
pub fn serialize_response(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    serialize_response_encoded(model, protocol, op, output, request_id, JsonEncoding::Json)
}

/// [`serialize_response`] for a json-protocol request that came as CBOR.
pub fn serialize_response_encoded(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    output: &Value,
    request_id: &str,
    encoding: JsonEncoding,
) -> HttpResponse {
    match protocol {
        Protocol::Json => json::serialize_response(model, op, output, request_id, encoding),
        Protocol::Query => query::serialize_response(model, op, output, request_id),
        Protocol::Ec2 => ec2::serialize_response(model, op, output, request_id),
        Protocol::RpcV2Cbor => rpcv2::serialize_response(model, op, output, request_id),
        Protocol::RestJson => rest::serialize_response(model, op, output, request_id, rest::Kind::Json),
        Protocol::RestXml => rest::serialize_response(model, op, output, request_id, rest::Kind::Xml),
    }
}

/// The HTTP response for an error, in the protocol's error shape. `op` is `None` when
/// the request did not get as far as naming one.
pub fn serialize_error(
    model: &ServiceModel,
    protocol: Protocol,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    serialize_error_encoded(model, protocol, op, err, request_id, JsonEncoding::Json)
}

/// [`serialize_error`] for a json-protocol request that came as CBOR.
pub fn serialize_error_encoded(
    model: &ServiceModel,
    protocol: Protocol,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
    encoding: JsonEncoding,
) -> HttpResponse {
    match protocol {
        Protocol::Json => json::serialize_error(model, op, err, request_id, encoding),
        Protocol::Query => query::serialize_error(model, op, err, request_id),
        Protocol::Ec2 => ec2::serialize_error(model, op, err, request_id),
        Protocol::RpcV2Cbor => rpcv2::serialize_error(model, op, err, request_id),
        Protocol::RestJson => rest_json::serialize_error(model, op, err, request_id),
        Protocol::RestXml => rest_xml::serialize_error(model, op, err, request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(protocol: &str) -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": protocol, "endpointPrefix": "t"},
            "operations": {}, "shapes": {}
        }))
        .unwrap()
    }

    fn detect(m: &ServiceModel, headers: &[(&'static str, &'static str)], query: &str, body: &[u8]) -> Protocol {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        detect_protocol(m, &RequestParts { method: &http::Method::POST, path: "/", query, headers: &h, body })
    }

    #[test]
    fn json_services_also_answer_query_forms_and_cbor() {
        let sqs = model("json");
        assert_eq!(detect(&sqs, &[("x-amz-target", "AmazonSQS.SendMessage")], "", b"{}"), Protocol::Json);
        let form = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
        assert_eq!(detect(&sqs, &form, "", b"Action=SendMessage"), Protocol::Query);
        assert_eq!(detect(&sqs, &[], "Action=ListQueues", b""), Protocol::Query);
        assert_eq!(detect(&sqs, &[("smithy-protocol", "rpc-v2-cbor")], "", b""), Protocol::RpcV2Cbor);
        assert_eq!(detect(&sqs, &[], "", b""), Protocol::Json);
        assert_eq!(detect(&model("ec2"), &form, "", b"Action=DescribeInstances"), Protocol::Ec2);
    }

    #[test]
    fn rest_services_speak_only_their_protocol() {
        let s3 = model("rest-xml");
        let form = [("content-type", "application/x-www-form-urlencoded")];
        assert_eq!(detect(&s3, &form, "", b"Action=Upload"), Protocol::RestXml);
        assert_eq!(detect(&s3, &[("x-amz-target", "X.Y")], "", b""), Protocol::RestXml);
        assert_eq!(Protocol::from_model_name("smithy-rpc-v2-cbor"), Some(Protocol::RpcV2Cbor));
        assert_eq!(Protocol::from_model_name("rest-json"), Some(Protocol::RestJson));
        assert_eq!(Protocol::from_model_name("soap"), None);
    }

    #[test]
    fn compressed_bodies_are_inflated_only_for_operations_that_allow_it() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "query", "endpointPrefix": "monitoring"},
            "operations": {
                "PutMetricData": {"name": "PutMetricData", "input": {"shape": "In"}, "requestcompression": {"encodings": ["gzip"]}},
                "Plain": {"name": "Plain", "input": {"shape": "In"}}
            },
            "shapes": {"In": {"type": "structure", "members": {"Namespace": {"shape": "S"}}}, "S": {"type": "string"}}
        }))
        .unwrap();
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        gz.extend(miniz_oxide::deflate::compress_to_vec(b"Action=PutMetricData&Namespace=App", 6));
        gz.extend([0; 8]);
        let mut h = http::HeaderMap::new();
        h.insert("content-encoding", http::HeaderValue::from_static("gzip"));
        let parts = RequestParts { method: &http::Method::POST, path: "/", query: "", headers: &h, body: &gz };
        let v = parse_request(&m, Protocol::Query, &m.operations["PutMetricData"], &parts).unwrap();
        assert_eq!(v.get("Namespace"), Some(&Value::Str("App".into())));
        let v = parse_request(&m, Protocol::Query, &m.operations["Plain"], &parts).unwrap();
        assert_eq!(v.get("Namespace"), None, "other operations keep the body as sent");
    }
}
