//! Lambda function URLs: `<url-id>.lambda-url.<region>.<domain>[:port]`, whatever domain
//! resolves to kagami (`localhost.localstack.cloud`, the external host, AWS's `on.aws`).
//!
//! These are plain HTTP requests, not API calls: the gateway recognises the host,
//! collects the body, authenticates a SigV4 signature when the request carries one (a
//! URL with `AuthType` `AWS_IAM` needs one), and hands the request to Lambda through
//! `Service::endpoint`, which answers it whole — CORS preflights included.

use crate::auth::{self, Flavour};
use crate::{Gateway, ResponseBody, body, detect, dispatch, handler, sigv4};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body::Body;
use kagami_core::{EndpointRequest, RequestContext};

/// The label that marks a function URL host.
const LABEL: &str = "lambda-url";

/// The client's address, which the server puts in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// A function URL host, split: (url-id, region).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlHost<'a> {
    pub id: &'a str,
    pub region: &'a str,
}

/// The url-id and region a Host names, when it is a function URL host. Costs a scan for
/// `.lambda-url.` on every other host.
pub fn classify(host: &str) -> Option<UrlHost<'_>> {
    let (id, rest) = host.split_once('.')?;
    let rest = rest.strip_prefix(LABEL)?.strip_prefix('.')?;
    let region = rest.split(['.', ':']).next()?;
    let valid_id = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (valid_id && detect::is_region(region)).then_some(UrlHost { id, region })
}

/// Answers one request to a function URL.
pub async fn handle<B>(
    gw: &Gateway,
    head: &http::request::Parts,
    body: B,
    url: UrlHost<'_>,
) -> Response<ResponseBody>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(lambda) = gw.providers.get("lambda").filter(|p| p.enabled) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let body = match body::collect(
        body,
        handler::content_length(head),
        gw.config.max_body_bytes,
    )
    .await
    {
        Ok(b) => b,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let caller = match caller(gw, head, &body, url.region) {
        Ok(c) => c,
        Err(()) => return message(StatusCode::FORBIDDEN, "Forbidden"),
    };
    let req = EndpointRequest {
        id: url.id.to_string(),
        region: url.region.to_string(),
        method: head.method.as_str().to_string(),
        host: handler::host(head).to_string(),
        path: head.uri.path().to_string(),
        query: head.uri.query().unwrap_or("").to_string(),
        headers: handler::owned_headers(head),
        body,
        source_ip: head
            .extensions
            .get::<ClientAddr>()
            .map(|a| a.0.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".to_string()),
        protocol: match head.version {
            http::Version::HTTP_2 => "HTTP/2.0",
            http::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
        .to_string(),
        caller,
    };
    match lambda.service.endpoint(req).await {
        Some(http) => dispatch::to_response(http),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Who signed the request: `Ok(None)` when unsigned; `Err` when the signature is refused
/// (`--verify-sigv4`) or its credentials have expired.
fn caller(
    gw: &Gateway,
    head: &http::request::Parts,
    body: &Bytes,
    region: &str,
) -> Result<Option<RequestContext>, ()> {
    let signed = sigv4::Request::from_parts(head);
    let parsed = sigv4::parse(&signed);
    if matches!(parsed, Ok(None)) || (parsed.is_err() && !gw.config.verify_sigv4) {
        return Ok(None);
    }
    let check = auth::Check {
        request: &signed,
        parsed: &parsed,
        body: Some(body),
        service: "lambda",
        operation: None,
        flavour: Flavour::Json {
            query_compatible: false,
        },
        host_region: Some(region),
        s3_path: head.uri.path(),
    };
    let c =
        auth::authenticate(&gw.env.identities, gw.config.verify_sigv4, &check).map_err(|_| ())?;
    let mut ctx = RequestContext::system(&c.account_id, region, "lambda");
    ctx.access_key_id = c.access_key_id;
    ctx.principal = c.principal;
    Ok(Some(ctx))
}

/// A function URL's own error document: `{"Message": "..."}`.
fn message(status: StatusCode, text: &str) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::full(
        serde_json::json!({ "Message": text }).to_string(),
    ));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_url_hosts_name_their_url_id_and_region() {
        let id = "abcdefghij0123456789abcdefghij01";
        let want = Some(UrlHost {
            id,
            region: "us-east-1",
        });
        assert_eq!(
            classify(&format!(
                "{id}.lambda-url.us-east-1.localhost.localstack.cloud:4566"
            )),
            want
        );
        assert_eq!(classify(&format!("{id}.lambda-url.us-east-1.on.aws")), want);
        assert_eq!(
            classify(&format!("{id}.lambda-url.us-east-1.kagami:4566")),
            want
        );
        assert_eq!(classify(&format!("{id}.lambda-url.us-east-1:4566")), want);
    }

    #[test]
    fn other_hosts_are_no_function_urls() {
        assert_eq!(classify("localhost:4566"), None);
        assert_eq!(
            classify("lambda.us-east-1.localhost.localstack.cloud:4566"),
            None
        );
        assert_eq!(classify("bucket.s3.localhost.localstack.cloud"), None);
        assert_eq!(classify("Upper.lambda-url.us-east-1.localhost"), None);
        assert_eq!(classify("abc.lambda-url.nowhere.localhost"), None);
        assert_eq!(classify(".lambda-url.us-east-1.localhost"), None);
    }
}
