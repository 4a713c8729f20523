//! An AWS API request: detect the service, authenticate, parse with the service's
//! model, call its provider, serialize the answer in the service's own protocol.

use crate::auth::{self, Flavour};
use crate::body::BodyError;
use crate::panic::{CatchUnwind, catch};
use crate::s3_host::{self, S3Host};
use crate::s3_surface::{self, CorsDecision};
use crate::{Gateway, ResponseBody, Unavailable, body, detect, handler, queue_path, sigv4};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Response, StatusCode};
use http_body::Body;
use kagami_core::{RequestContext, ServiceError, ids};
use kagami_model::{Operation, ServiceModel};
use kagami_protocol::{ByteStream, HttpResponse, JsonEncoding, Protocol, RequestParts, StreamSlot};

/// The answer, with what the access log reports.
pub struct Outcome {
    pub response: Response<ResponseBody>,
    pub service: &'static str,
    pub operation: Option<String>,
    /// S3 settled the CORS headers (from a bucket's rules, or by refusing them in
    /// `KAGAMI_S3_CORS=aws` mode): the gateway's permissive CORS must not add its own.
    pub cors_final: bool,
}

/// The X-Ray trace header that AWS SDKs forward (SQS keeps it as `AWSTraceHeader`).
const TRACE_ID: &str = "x-amzn-trace-id";

/// AWS's text for errors it does not explain.
const INTERNAL_FAILURE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

pub async fn aws<B>(gw: &Gateway, head: &http::request::Parts, body: B) -> Outcome
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut outcome = answer(gw, head, body).await;
    // Only browsers send Origin: other requests pay nothing here.
    if outcome.service == "s3" && head.headers.contains_key(http::header::ORIGIN) {
        outcome.cors_final = settle_cors(gw, head, outcome.response.headers_mut()).await;
    }
    outcome
}

/// Adds the CORS headers of the bucket's matching rule to S3's answer; true when
/// S3 settled them (the gateway must then add none of its own).
async fn settle_cors(
    gw: &Gateway,
    head: &http::request::Parts,
    headers: &mut http::HeaderMap,
) -> bool {
    let host = handler::host(head);
    let (path, virtual_host) = match s3_host::classify(host, gw.env.external_host.as_deref()) {
        Some(h) => (s3_host::path_style(h.bucket(), head.uri.path()), true),
        None => (head.uri.path().to_string(), false),
    };
    match s3_surface::cors_headers(gw, head, &path, virtual_host).await {
        CorsDecision::Rules(found) => {
            for (name, value) in found {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    headers.append(n, v);
                }
            }
            true
        }
        CorsDecision::NoConfiguration => gw.config.s3_cors_strict,
    }
}

async fn answer<B>(gw: &Gateway, head: &http::request::Parts, body: B) -> Outcome
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let path = head.uri.path();
    let query = head.uri.query().unwrap_or("");
    let host = handler::host(head);
    let signed = sigv4::Request::from_parts(head);
    let parsed = sigv4::parse(&signed);
    let auth_header = parsed.as_ref().ok().and_then(Option::as_ref);

    // A host that names a bucket: website endpoints are S3's alone; virtual-hosted API
    // requests are routed as their path-style twins, while the signature (above) keeps
    // covering the path the client sent.
    let s3_host = s3_host::classify(host, gw.env.external_host.as_deref());
    let virtual_path = match s3_host {
        Some(S3Host::Website(bucket)) => {
            let answer = s3_surface::website(gw, head, bucket).await;
            return Outcome {
                response: answer.response,
                service: answer.service,
                operation: Some("Website".to_string()),
                cors_final: false,
            };
        }
        // A JSON-protocol call names its service by target, never by a bucket label.
        Some(S3Host::Bucket(bucket))
            if !head
                .headers
                .contains_key(const { HeaderName::from_static("x-amz-target") }) =>
        {
            Some(s3_host::path_style(bucket, path))
        }
        _ => None,
    };
    let path = virtual_path.as_deref().unwrap_or(path);

    // Route from the head first: only a form body (`Action=` of the query protocol) can
    // change where a request goes. A REST operation whose payload is a streaming blob
    // gets the body as it arrives; every other request is collected whole.
    let head_only = RequestParts {
        method: &head.method,
        path,
        query,
        headers: &head.headers,
        body: &[],
    };
    let early = (!is_form(&head.headers)).then(|| detect::detect(&head_only, auth_header));
    let early_op = match &early {
        Some(Ok(d)) => rest_operation(d.entry.model(), &head_only, d.rest_operation),
        _ => None,
    };
    let streams = match (&early, early_op) {
        (Some(Ok(d)), Some(op)) => {
            kagami_protocol::streaming_input_member(d.entry.model(), op).is_some()
        }
        _ => false,
    };
    let content_length = handler::content_length(head);
    let is_s3 = matches!(&early, Some(Ok(d)) if d.entry.name == "s3");
    if is_s3 && early_op.is_none() && s3_surface::is_post_object(head, path) {
        let stream = ByteStream::new(body).with_content_length(content_length);
        let answer = s3_surface::post_object(gw, head, path, virtual_path.is_some(), stream).await;
        return Outcome {
            response: answer.response,
            service: answer.service,
            operation: Some("PostObject".to_string()),
            cors_final: false,
        };
    }
    let (body, stream, body_error) = if streams {
        // Not polled until the provider reads it: hyper sends `100 Continue` then, so a
        // request refused before that never has its body sent. No size limit but the
        // service's own (S3: 5 GiB per PutObject).
        let stream = ByteStream::new(body).with_content_length(content_length);
        (Bytes::new(), Some(stream), None)
    } else {
        match body::collect(body, content_length, gw.config.max_body_bytes).await {
            Ok(b) => (b, None, None),
            Err(e) => (Bytes::new(), None, Some(e)),
        }
    };
    let parts = RequestParts {
        body: &body,
        ..head_only
    };

    let detected = match early {
        Some(d) => d,
        None => detect::detect(&parts, auth_header),
    };
    let detection = match detected {
        Ok(d) => d,
        Err(unknown) => {
            return Outcome {
                response: unknown_service(&unknown),
                service: "",
                operation: None,
                cors_final: false,
            };
        }
    };
    let entry = detection.entry;
    let model = entry.model();
    let protocol = kagami_protocol::detect_protocol(model, &parts);
    // Kinesis SDKs send json-protocol requests as CBOR and expect CBOR back.
    let encoding = kagami_protocol::json_encoding(&parts);
    let wire = Wire {
        model,
        protocol,
        encoding,
    };
    let request_id = ids::request_id();
    let answer_error = |op: Option<&Operation>, e: &ServiceError| Outcome {
        response: to_response(wire.error(op, e, &request_id)),
        service: entry.name,
        operation: op.map(|o| o.name.clone()),
        cors_final: false,
    };
    let flavour = Flavour::of(
        entry.name,
        protocol,
        model.metadata.aws_query_compatible.is_some(),
    );

    if let Some(e) = body_error {
        return answer_error(None, &body_refused(flavour, &e));
    }

    let operation = match early_op {
        Some(op) => Ok(op),
        None => kagami_protocol::resolve_operation(model, protocol, &parts),
    };
    let check = auth::Check {
        request: &signed,
        parsed: &parsed,
        body: if stream.is_some() { None } else { Some(&body) },
        service: entry.name,
        operation: operation.as_ref().ok().copied(),
        flavour,
        host_region: detect::host_region(host),
        s3_path: path,
    };
    let caller = match auth::authenticate(&gw.env.identities, gw.config.verify_sigv4, &check) {
        Ok(c) => c,
        Err(e) => return answer_error(operation.ok(), &e),
    };
    let op = match operation {
        Ok(op) => op,
        Err(e) => return answer_error(None, &e),
    };
    let provider = match gw.provider_for(entry.name, &op.name) {
        Ok(p) => p,
        Err(Unavailable::NoProvider) => {
            return answer_error(
                Some(op),
                &ServiceError::not_implemented(entry.name, &op.name),
            );
        }
        Err(Unavailable::Disabled) => {
            let e = ServiceError::new(
                "NotImplemented",
                501,
                format!(
                    "The service {} is not enabled in this kagami (see --services / SERVICES)",
                    entry.name
                ),
            );
            return answer_error(Some(op), &e);
        }
    };
    let parsed_input = match stream {
        Some(stream) => {
            kagami_protocol::parse_request_streaming(model, protocol, op, &parts, stream)
        }
        None => kagami_protocol::parse_request(model, protocol, op, &parts),
    };
    let mut input = match parsed_input {
        Ok(v) => v,
        Err(e) => return answer_error(Some(op), &e),
    };
    queue_path::fill_queue_url(model, protocol, op, &mut input, host, path);
    let ctx = RequestContext {
        request_id,
        account_id: caller.account_id,
        region: caller.region,
        service: entry.name,
        operation: op.name.clone(),
        access_key_id: caller.access_key_id,
        principal: caller.principal,
        host: host.to_string(),
        protocol,
        // A name built at compile time: a `&str` key is parsed again on every lookup.
        trace_header: head
            .headers
            .get(const { HeaderName::from_static(TRACE_ID) })
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string),
    };
    let http = match CatchUnwind(provider.service.handle(&ctx, &op.name, input)).await {
        Ok(Ok(output)) => catch(|| wire.response(op, &output, &ctx.request_id)).unwrap_or_else(|panic| {
            tracing::error!(service = entry.name, operation = %op.name, "serializing the response panicked: {panic}");
            wire.error(Some(op), &ServiceError::internal(INTERNAL_FAILURE), &ctx.request_id)
        }),
        Ok(Err(e)) => wire.error(Some(op), &e, &ctx.request_id),
        Err(panic) => {
            tracing::error!(service = entry.name, operation = %op.name, "operation panicked: {panic}");
            wire.error(Some(op), &ServiceError::internal(INTERNAL_FAILURE), &ctx.request_id)
        }
    };
    let mut http = http;
    if head.method == Method::HEAD {
        // No body goes out with HEAD: the stream is closed here rather than left unread.
        http.stream = None;
    }
    Outcome {
        response: to_response(http),
        service: entry.name,
        operation: Some(op.name.clone()),
        cors_final: false,
    }
}

/// A `Content-Type` that makes the body a form, whose `Action=` routes the request.
fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .get(..33)
                .is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        })
}

/// The operation of a request to a REST service, which method, path, query and headers
/// name without the body.
fn rest_operation(
    model: &'static ServiceModel,
    head_only: &RequestParts<'_>,
    detected: Option<&'static Operation>,
) -> Option<&'static Operation> {
    // REST services speak only their own protocol, and no other service is ever
    // detected as REST: the model alone decides, without reading headers again
    // (detection runs once more on the full request for every other service).
    let protocol = Protocol::of_model(model);
    if !matches!(protocol, Protocol::RestXml | Protocol::RestJson) {
        return None;
    }
    // Detection routed this very request already when it had to tell services apart.
    if detected.is_some() {
        return detected;
    }
    kagami_protocol::resolve_operation(model, protocol, head_only).ok()
}

/// The service's wire format for this request.
#[derive(Clone, Copy)]
struct Wire {
    model: &'static ServiceModel,
    protocol: Protocol,
    encoding: JsonEncoding,
}

impl Wire {
    fn response(
        &self,
        op: &Operation,
        output: &kagami_core::Value,
        request_id: &str,
    ) -> HttpResponse {
        kagami_protocol::serialize_response_encoded(
            self.model,
            self.protocol,
            op,
            output,
            request_id,
            self.encoding,
        )
    }

    fn error(&self, op: Option<&Operation>, e: &ServiceError, request_id: &str) -> HttpResponse {
        kagami_protocol::serialize_error_encoded(
            self.model,
            self.protocol,
            op,
            e,
            request_id,
            self.encoding,
        )
    }
}

fn body_refused(flavour: Flavour, e: &BodyError) -> ServiceError {
    match (e, flavour) {
        (BodyError::TooLarge { .. }, Flavour::S3) => ServiceError::new(
            "EntityTooLarge",
            400,
            "Your proposed upload exceeds the maximum allowed size",
        ),
        (BodyError::TooLarge { limit }, _) => ServiceError::new(
            "RequestEntityTooLarge",
            413,
            format!("Request must be smaller than {limit} bytes for the operation"),
        ),
        (BodyError::Read(_), Flavour::S3) => ServiceError::new(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ),
        (BodyError::Read(detail), _) => ServiceError::new(
            "IncompleteBody",
            400,
            format!("The request body could not be read: {detail}"),
        ),
    }
}

/// The protocol engine's response as an HTTP response; a header the engine produced
/// that HTTP cannot carry is dropped (and logged) rather than failing the request.
pub fn to_response(http: HttpResponse) -> Response<ResponseBody> {
    let body = match http.stream.as_ref().and_then(StreamSlot::take) {
        Some(stream) => ResponseBody::stream(stream),
        None => ResponseBody::full(http.body),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(http.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.reserve(http.headers.len());
    for (name, value) in http.headers {
        // The value's bytes are taken over, not copied.
        match (
            header_name(&name),
            HeaderValue::from_maybe_shared(Bytes::from(value)),
        ) {
            (Ok(n), Ok(v)) => {
                headers.append(n, v);
            }
            _ => tracing::warn!("dropping response header that HTTP cannot carry: {name}"),
        }
    }
    resp
}

/// The name of a response header: the ones nearly every answer carries are built at
/// compile time, since parsing a name (lower-casing it into a new buffer for the
/// `x-amz-` ones) costs more than the rest of its header.
fn header_name(name: &str) -> Result<HeaderName, http::header::InvalidHeaderName> {
    use http::header;
    Ok(match name {
        "x-amz-request-id" => const { HeaderName::from_static("x-amz-request-id") },
        "x-amz-id-2" => const { HeaderName::from_static("x-amz-id-2") },
        "x-amzn-RequestId" => const { HeaderName::from_static("x-amzn-requestid") },
        "Content-Type" => header::CONTENT_TYPE,
        "Content-Length" => header::CONTENT_LENGTH,
        "ETag" => header::ETAG,
        "Last-Modified" => header::LAST_MODIFIED,
        "accept-ranges" | "Accept-Ranges" => header::ACCEPT_RANGES,
        "x-amz-server-side-encryption" => {
            const { HeaderName::from_static("x-amz-server-side-encryption") }
        }
        "x-amz-checksum-type" => const { HeaderName::from_static("x-amz-checksum-type") },
        "x-amz-checksum-crc64nvme" => const { HeaderName::from_static("x-amz-checksum-crc64nvme") },
        "x-amz-checksum-crc32" => const { HeaderName::from_static("x-amz-checksum-crc32") },
        "x-amz-version-id" => const { HeaderName::from_static("x-amz-version-id") },
        _ => return HeaderName::from_bytes(name.as_bytes()),
    })
}

/// NotImplemented for a service no model describes: its protocol is unknown, so the
/// answer takes the JSON error shape that most such services use.
fn unknown_service(unknown: &detect::UnknownService) -> Response<ResponseBody> {
    let message = format!(
        "kagami does not know the service that signs as '{}' (its models come from botocore {})",
        unknown.signing_name,
        kagami_model::BOTOCORE_VERSION
    );
    let body = serde_json::json!({ "__type": "NotImplemented", "message": message }).to_string();
    let mut resp = Response::new(ResponseBody::full(body));
    *resp.status_mut() = StatusCode::NOT_IMPLEMENTED;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    h.insert(
        "x-amzn-errortype",
        HeaderValue::from_static("NotImplemented"),
    );
    if let Ok(id) = HeaderValue::from_str(&ids::request_id()) {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prebuilt_header_names_are_the_parsed_ones() {
        for name in [
            "x-amz-request-id",
            "x-amz-id-2",
            "x-amzn-RequestId",
            "Content-Type",
            "Content-Length",
            "ETag",
            "Last-Modified",
            "accept-ranges",
            "Accept-Ranges",
            "x-amz-server-side-encryption",
            "x-amz-checksum-type",
            "x-amz-checksum-crc64nvme",
            "x-amz-checksum-crc32",
            "x-amz-version-id",
            "x-amz-meta-Color",
        ] {
            assert_eq!(
                header_name(name).ok(),
                HeaderName::from_bytes(name.as_bytes()).ok(),
                "{name}"
            );
        }
        assert!(header_name("bad name").is_err());
    }
}
