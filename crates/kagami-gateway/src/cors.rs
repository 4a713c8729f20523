//! CORS for browser SDKs: every origin may call kagami. S3 buckets with a CORS
//! configuration answer for themselves (`s3_surface`), and so do buckets without one
//! under `KAGAMI_S3_CORS=aws`; a response that already carries
//! `Access-Control-Allow-Origin` is left alone.

use crate::ResponseBody;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, CONTENT_LENGTH, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

const ALLOW_METHODS: &str = "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH";
/// Response headers a browser SDK reads: request ids, error types, and S3's object headers.
const EXPOSE_HEADERS: &str = "x-amzn-RequestId,x-amz-request-id,x-amz-id-2,x-amzn-ErrorType,x-amzn-query-error,\
x-amz-version-id,x-amz-delete-marker,x-amz-server-side-encryption,x-amz-expiration,x-amz-restore,\
x-amz-checksum-crc32,x-amz-checksum-crc32c,x-amz-checksum-sha1,x-amz-checksum-sha256,\
ETag,Content-Length,Content-Type,Content-Range,Content-Encoding,Date,Last-Modified,Location";
const MAX_AGE: &str = "86400";

pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// Answers a preflight, allowing the method and headers the browser asked about.
pub fn preflight(request_headers: &HeaderMap) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::empty());
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    let allow_headers = request_headers
        .get(ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    h.insert(ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    decorate(h, request_headers.get(http::header::ORIGIN));
    resp
}

/// Adds the CORS response headers, echoing the request's Origin when it has one.
pub fn decorate(h: &mut HeaderMap, origin: Option<&HeaderValue>) {
    if h.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        return;
    }
    match origin {
        Some(o) => {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            h.append(VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
    }
    h.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}
