//! The request sequence, top to bottom.

use crate::body;
use crate::panic::CatchUnwind;
use crate::{Gateway, ResponseBody, cors, dispatch, internal, lambda_url, s3_surface};
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST, ORIGIN};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use std::time::Instant;

impl Gateway {
    /// Answers one request. Never fails: bad input gets an AWS-shaped error, and a
    /// panic anywhere below becomes a 500 `InternalFailure`.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let origin = req.headers().get(ORIGIN).cloned();
        let (mut response, service, operation, cors_final) =
            match CatchUnwind(Box::pin(self.route(req))).await {
                Ok(answer) => answer,
                Err(panic) => {
                    tracing::error!(%method, %path, "request handling panicked: {panic}");
                    (internal_failure(), "", None, false)
                }
            };
        if !cors_final {
            cors::decorate(response.headers_mut(), origin.as_ref());
        }
        tracing::debug!(
            target: "kagami::access",
            "{method} {path} {} {}{}{} {}us",
            response.status().as_u16(),
            if service.is_empty() { "-" } else { service },
            if operation.is_some() { "." } else { "" },
            operation.as_deref().unwrap_or(""),
            started.elapsed().as_micros()
        );
        response
    }

    async fn route<B>(
        &self,
        req: Request<B>,
    ) -> (Response<ResponseBody>, &'static str, Option<String>, bool)
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut head, body) = req.into_parts();
        // HTTP/2 carries the host in `:authority`; SigV4 signs it as `host`.
        if !head.headers.contains_key(HOST)
            && let Some(authority) = head.uri.authority()
            && let Ok(v) = HeaderValue::from_str(authority.as_str())
        {
            head.headers.insert(HOST, v);
        }
        // A function URL answers everything itself, its CORS preflights included.
        if let Some(url) = lambda_url::classify(host(&head)) {
            let response = lambda_url::handle(self, &head, body, url).await;
            return (
                response,
                "lambda",
                Some("InvokeFunctionUrl".to_string()),
                true,
            );
        }
        if cors::is_preflight(&head.method, &head.headers) {
            // A bucket with CORS rules answers for itself; everything else is allowed.
            if let Some(answer) = s3_surface::preflight(self, &head).await {
                return (answer.response, answer.service, None, true);
            }
            return (cors::preflight(&head.headers), "", None, false);
        }
        if internal::is_internal(head.uri.path()) {
            let body = body::collect(body, content_length(&head), self.config.max_body_bytes).await;
            return match body {
                Ok(body) => (internal::handle(self, &head, body).await, "", None, false),
                Err(e) => (
                    internal::error(StatusCode::BAD_REQUEST, &e.to_string()),
                    "",
                    None,
                    false,
                ),
            };
        }
        let expects_continue = expects_continue(&head);
        let mut outcome = dispatch::aws(self, &head, body).await;
        if expects_continue
            && (content_length(&head) == Some(0) || !outcome.response.status().is_success())
        {
            // No `100 Continue` went out (an empty body is never read; an early error
            // answers before reading). botocore then keeps the final status for the
            // connection's next request, so that one stalls or misreads: start afresh.
            outcome
                .response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        (
            outcome.response,
            outcome.service,
            outcome.operation,
            outcome.cors_final,
        )
    }
}

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(head: &http::request::Parts) -> bool {
    head.headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The Host the client called (HTTP/2's `:authority` is copied into it first).
pub(crate) fn host(head: &http::request::Parts) -> &str {
    head.headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The headers with text values, owned, for a service's plain HTTP surface.
pub(crate) fn owned_headers(head: &http::request::Parts) -> Vec<(String, String)> {
    head.headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// The length the client declared, if it did.
pub(crate) fn content_length(head: &http::request::Parts) -> Option<u64> {
    head.headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Used only when the service's own protocol is not known (a panic outside a provider).
fn internal_failure() -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::full(
        r#"{"__type":"InternalFailure","message":"The request processing has failed because of an unknown error, exception or failure."}"#,
    ));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    resp.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("InternalFailure"),
    );
    resp
}
