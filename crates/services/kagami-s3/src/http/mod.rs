//! S3's HTTP surface beyond the API operations: CORS (the bucket's rules answer
//! preflights and decorate actual requests), static website endpoints, and browser
//! POST uploads. The gateway recognises these requests and hands them over through
//! `Service::http_surface`; the configuration operations (Put/Get/DeleteBucketCors,
//! Put/Get/DeleteBucketWebsite) are ordinary provider methods.

pub mod cors;
mod form;
mod html;
pub mod post_object;
pub mod website;

use crate::state::S3;
use kagami_core::service::{HttpSurfaceKind, HttpSurfaceRequest};
use kagami_core::{RequestContext, ServiceError};
use kagami_protocol::HttpResponse;

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &[
    "DeleteBucketCors",
    "DeleteBucketWebsite",
    "GetBucketCors",
    "GetBucketWebsite",
    "PutBucketCors",
    "PutBucketWebsite",
];

/// Answers a request on the surface; `None` leaves it to the gateway.
pub async fn answer(
    s3: &S3,
    ctx: &RequestContext,
    req: HttpSurfaceRequest,
) -> Option<Result<HttpResponse, ServiceError>> {
    match req.kind {
        HttpSurfaceKind::CorsPreflight => cors::preflight(s3, &req),
        HttpSurfaceKind::CorsHeaders => cors::actual_request_headers(s3, &req)
            .map(|headers| Ok(HttpResponse::full(200, headers, bytes::Bytes::new()))),
        HttpSurfaceKind::Website => Some(Ok(website::serve(s3, ctx, &req).await)),
        HttpSurfaceKind::PostObject => Some(post_object::post_object(s3, ctx, req).await),
    }
}

pub(crate) fn malformed_xml() -> ServiceError {
    ServiceError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub(crate) fn invalid_request(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidRequest", 400, message)
}

pub(crate) fn invalid_argument(
    message: impl Into<String>,
    name: &str,
    value: &str,
) -> ServiceError {
    ServiceError::new("InvalidArgument", 400, message)
        .with_field("ArgumentName", name)
        .with_field("ArgumentValue", value)
}

/// Percent-encodes a key for a URL, keeping `/`.
pub(crate) fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
