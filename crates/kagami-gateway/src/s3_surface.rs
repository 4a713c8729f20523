//! S3's HTTP surface that no botocore operation describes: CORS preflights and the
//! CORS headers of actual requests (from the bucket's rules), static website
//! endpoints, and browser POST uploads. The gateway recognises these requests; the S3
//! service answers them through [`Service::http_surface`].

// `ServiceError` is every provider's error, built at most once per request.
#![allow(clippy::result_large_err)]

use crate::s3_host;
use crate::{Gateway, ResponseBody, detect, dispatch, internal};
use http::header::{ACCESS_CONTROL_REQUEST_HEADERS, CONTENT_TYPE};
use http::{Method, Response};
use kagami_core::service::{HttpSurfaceKind, HttpSurfaceRequest, PostCredentials};
use kagami_core::{DEFAULT_REGION, Protocol, RequestContext, Service, ServiceError, ids};
use kagami_protocol::ByteStream;
use std::sync::Arc;

/// An answer S3 gave for itself.
pub struct Answer {
    pub response: Response<ResponseBody>,
    pub service: &'static str,
}

/// How the CORS headers of an S3 answer were settled.
pub enum CorsDecision {
    /// The bucket's rules decided: these headers (none when no rule matched).
    Rules(Vec<(String, String)>),
    /// The bucket has no CORS configuration (or none could be read): the gateway's
    /// mode decides (permissive headers, or none in `KAGAMI_S3_CORS=aws`).
    NoConfiguration,
}

fn s3(gw: &Gateway) -> Option<&Arc<dyn Service>> {
    gw.providers
        .get("s3")
        .filter(|p| p.enabled)
        .map(|p| &p.service)
}

/// The context of a request on this surface: anonymous, in the default account, in the
/// region the host names.
fn context(gw: &Gateway, host: &str, operation: &str) -> RequestContext {
    let region = detect::host_region(host).unwrap_or(DEFAULT_REGION);
    let mut ctx = RequestContext::system(gw.env.identities.default_account(), region, "s3");
    ctx.host = host.to_string();
    ctx.operation = operation.to_string();
    ctx.protocol = Protocol::RestXml;
    ctx.request_id = ids::request_id();
    ctx
}

fn request(
    gw: &Gateway,
    head: &http::request::Parts,
    kind: HttpSurfaceKind,
    bucket: &str,
    raw_key: &str,
    virtual_host: bool,
    body: Option<ByteStream>,
) -> HttpSurfaceRequest {
    HttpSurfaceRequest {
        kind,
        method: head.method.as_str().to_string(),
        bucket: bucket.to_string(),
        key: percent_encoding::percent_decode_str(raw_key)
            .decode_utf8_lossy()
            .into_owned(),
        query: head.uri.query().unwrap_or("").to_string(),
        headers: crate::handler::owned_headers(head),
        body,
        virtual_host,
        strict_cors: gw.config.s3_cors_strict,
        post_credentials: (kind == HttpSurfaceKind::PostObject).then(|| {
            let identities = gw.env.identities.clone();
            let verify = gw.config.verify_sigv4;
            let check: PostCredentials =
                Arc::new(move |form| crate::auth::post_policy(&identities, verify, form));
            check
        }),
    }
}

async fn ask(
    service: &Arc<dyn Service>,
    ctx: &RequestContext,
    req: HttpSurfaceRequest,
) -> Option<Response<ResponseBody>> {
    let head_only = req.method == "HEAD";
    match service.http_surface(ctx, req).await? {
        Ok(mut http) => {
            if head_only {
                http.stream = None;
                http.body = bytes::Bytes::new();
            }
            Some(dispatch::to_response(http))
        }
        Err(e) => Some(error(&e, &ctx.request_id)),
    }
}

/// S3's error document for `e`.
pub fn error(e: &ServiceError, request_id: &str) -> Response<ResponseBody> {
    match kagami_model::service("s3") {
        Some(entry) => dispatch::to_response(kagami_protocol::serialize_error(
            entry.model(),
            Protocol::RestXml,
            None,
            e,
            request_id,
        )),
        None => {
            let mut resp = Response::new(ResponseBody::full(e.message.clone()));
            *resp.status_mut() = http::StatusCode::from_u16(e.status)
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            resp
        }
    }
}

/// A CORS preflight to an S3 bucket or object, answered from the bucket's rules;
/// `None` when the request is not for a bucket, or S3 leaves it to the gateway's
/// permissive CORS.
pub async fn preflight(gw: &Gateway, head: &http::request::Parts) -> Option<Answer> {
    let host = crate::handler::host(head);
    let path = head.uri.path();
    let (bucket, key, virtual_host) = match s3_host::classify(host, gw.env.external_host.as_deref())
    {
        Some(h) => (h.bucket(), path.trim_start_matches('/'), true),
        None => {
            if detect::host_service_label(host).is_some_and(|l| l != "s3")
                || internal::is_internal(path)
                || detect::is_queue_url_path(path)
                || asks_for_target(head)
            {
                return None;
            }
            let (bucket, key) = s3_host::split_path(path);
            if bucket.is_empty() {
                return None;
            }
            (bucket, key, false)
        }
    };
    let service = s3(gw)?;
    let ctx = context(gw, host, "PreflightRequest");
    let req = request(
        gw,
        head,
        HttpSurfaceKind::CorsPreflight,
        bucket,
        key,
        virtual_host,
        None,
    );
    let response = ask(service, &ctx, req).await?;
    Some(Answer {
        response,
        service: "s3",
    })
}

/// A browser calling a JSON service names `x-amz-target` among the headers it will send.
fn asks_for_target(head: &http::request::Parts) -> bool {
    head.headers
        .get(ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| h.to_ascii_lowercase().contains("x-amz-target"))
}

/// A request to a static website endpoint.
pub async fn website(gw: &Gateway, head: &http::request::Parts, bucket: &str) -> Answer {
    let host = crate::handler::host(head);
    let ctx = context(gw, host, "Website");
    let key = head.uri.path().trim_start_matches('/');
    let response = match s3(gw) {
        Some(service) => {
            let req = request(gw, head, HttpSurfaceKind::Website, bucket, key, true, None);
            ask(service, &ctx, req).await
        }
        None => None,
    };
    Answer {
        response: response.unwrap_or_else(|| {
            error(
                &ServiceError::not_implemented("s3", "Website"),
                &ctx.request_id,
            )
        }),
        service: "s3",
    }
}

/// A POST of `multipart/form-data` to a bucket URL (no key, no subresource): a browser
/// form upload.
pub fn is_post_object(head: &http::request::Parts, routed_path: &str) -> bool {
    head.method == Method::POST
        && head
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .get(..19)
                    .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
            })
        && matches!(s3_host::split_path(routed_path), (b, "") if !b.is_empty())
}

/// The upload of a browser form; the body streams to S3 as it arrives.
pub async fn post_object(
    gw: &Gateway,
    head: &http::request::Parts,
    routed_path: &str,
    virtual_host: bool,
    body: ByteStream,
) -> Answer {
    let host = crate::handler::host(head);
    let ctx = context(gw, host, "PostObject");
    let (bucket, _) = s3_host::split_path(routed_path);
    let response = match s3(gw) {
        Some(service) => {
            let req = request(
                gw,
                head,
                HttpSurfaceKind::PostObject,
                bucket,
                "",
                virtual_host,
                Some(body),
            );
            ask(service, &ctx, req).await
        }
        None => None,
    };
    Answer {
        response: response.unwrap_or_else(|| {
            error(
                &ServiceError::not_implemented("s3", "PostObject"),
                &ctx.request_id,
            )
        }),
        service: "s3",
    }
}

/// The CORS headers of S3's answer to a request that carried `Origin`.
pub async fn cors_headers(
    gw: &Gateway,
    head: &http::request::Parts,
    routed_path: &str,
    virtual_host: bool,
) -> CorsDecision {
    let (bucket, key) = s3_host::split_path(routed_path);
    let Some(service) = s3(gw).filter(|_| !bucket.is_empty()) else {
        return CorsDecision::NoConfiguration;
    };
    let ctx = context(gw, crate::handler::host(head), "CorsHeaders");
    let req = request(
        gw,
        head,
        HttpSurfaceKind::CorsHeaders,
        bucket,
        key,
        virtual_host,
        None,
    );
    match service.http_surface(&ctx, req).await {
        Some(Ok(http)) => CorsDecision::Rules(http.headers),
        _ => CorsDecision::NoConfiguration,
    }
}
