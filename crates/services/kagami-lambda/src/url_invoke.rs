//! Requests to a function URL: the HTTP request becomes a payload format 2.0 event, the
//! function runs synchronously, and its result becomes the HTTP response as Lambda
//! interprets it. The URL's CORS configuration answers preflights and decorates answers.
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html

use crate::generated::InvocationRequest;
use crate::state::Lambda;
use crate::url_config::{CorsRules, FunctionUrls, UrlConfig};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::{EndpointRequest, Principal, RequestContext, Timestamp, clock, ids};
use kagami_protocol::HttpResponse;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Content types whose bodies reach the function as text; others arrive in base64.
const TEXT_TYPES: &[&str] = &["text", "json", "xml", "javascript"];
const JSON: &str = "application/json";

/// Answers a request to the URL `req.id` names; `None` when no URL has that id.
pub async fn serve(lambda: &Arc<Lambda>, urls: &FunctionUrls, req: EndpointRequest) -> Option<HttpResponse> {
    let url = urls.by_id(&req.id).filter(|u| u.region == req.region)?;
    let request_id = ids::uuid_v4();
    let origin = header(&req, "origin").map(str::to_string);
    if req.method == "OPTIONS"
        && header(&req, "access-control-request-method").is_some()
        && let Some(cors) = &url.cors
    {
        return Some(preflight(cors, &req, &request_id));
    }
    if url.auth_type == "AWS_IAM" && req.caller.as_ref().is_none_or(|c| c.account_id != url.account) {
        return Some(message(403, "Forbidden", &request_id));
    }
    let event = event(&url, &req, &request_id);
    let mut ctx = lambda.peers.system_context(&url.account, &url.region, "lambda");
    ctx.request_id = request_id.clone();
    let invoked = lambda
        .invoke(
            &ctx,
            InvocationRequest {
                function_name: url.function_name.clone(),
                qualifier: url.qualifier.clone(),
                payload: Some(Bytes::from(event.to_string())),
                ..Default::default()
            },
        )
        .await;
    let mut response = match invoked {
        Ok(r) if r.function_error.is_none() => {
            translate(r.payload.as_deref().unwrap_or_default()).unwrap_or_else(|| message(502, "Internal Server Error", &request_id))
        }
        Ok(_) => message(502, "Internal Server Error", &request_id),
        // Throttled (reserved concurrency): the caller may try again, as on AWS.
        Err(e) if e.status == 429 => message(429, "Rate Exceeded.", &request_id),
        Err(e) => {
            tracing::warn!(url = %url.function_url, error = %e.message, "function URL invoke failed");
            message(502, "Internal Server Error", &request_id)
        }
    };
    if response.header("x-amzn-requestid").is_none() {
        response.headers.push(("x-amzn-requestid".into(), request_id));
    }
    if let (Some(cors), Some(origin)) = (&url.cors, origin) {
        decorate(cors, &origin, &mut response.headers);
    }
    Some(response)
}

fn header<'a>(req: &'a EndpointRequest, name: &str) -> Option<&'a str> {
    req.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn port(host: &str) -> Option<&str> {
    host.rsplit_once(':').map(|(_, p)| p).filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A function URL's own error document.
fn message(status: u16, text: &str, request_id: &str) -> HttpResponse {
    HttpResponse::full(
        status,
        vec![("content-type".into(), JSON.into()), ("x-amzn-requestid".into(), request_id.into())],
        Bytes::from(json!({ "Message": text }).to_string()),
    )
}

/// The event of payload format version 2.0.
/// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
fn event(url: &UrlConfig, req: &EndpointRequest, request_id: &str) -> Value {
    let mut headers: IndexMap<String, String> = IndexMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in &req.headers {
        if name == "cookie" {
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string));
            continue;
        }
        headers.entry(name.clone()).and_modify(|v| {
            v.push(',');
            v.push_str(value);
        }).or_insert_with(|| value.clone());
    }
    headers.entry("x-forwarded-for".into()).or_insert_with(|| req.source_ip.clone());
    headers.entry("x-forwarded-proto".into()).or_insert_with(|| "http".into());
    if let Some(p) = port(&req.host) {
        headers.entry("x-forwarded-port".into()).or_insert_with(|| p.to_string());
    }
    let millis = clock::now_millis();
    let mut context = json!({
        "accountId": req.caller.as_ref().map_or("anonymous", |c| c.account_id.as_str()),
        "apiId": url.url_id,
        "domainName": req.host.split(':').next().unwrap_or_default(),
        "domainPrefix": url.url_id,
        "http": {
            "method": req.method,
            "path": req.path,
            "protocol": req.protocol,
            "sourceIp": req.source_ip,
            "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": clf_time(millis),
        "timeEpoch": millis,
    });
    if let (Some(caller), Some(obj)) = (&req.caller, context.as_object_mut()) {
        obj.insert("authorizer".into(), json!({ "iam": iam(caller) }));
    }
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!("$default"));
    event.insert("rawPath".into(), json!(req.path));
    event.insert("rawQueryString".into(), json!(req.query));
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), json!(headers));
    if !req.query.is_empty() {
        event.insert("queryStringParameters".into(), json!(query_parameters(&req.query)));
    }
    event.insert("requestContext".into(), context);
    let content_type = headers.get("content-type").map(|c| c.to_ascii_lowercase()).unwrap_or_default();
    let text = TEXT_TYPES.iter().any(|t| content_type.contains(t));
    match std::str::from_utf8(&req.body) {
        _ if req.body.is_empty() => {
            event.insert("isBase64Encoded".into(), json!(false));
        }
        Ok(body) if text => {
            event.insert("body".into(), json!(body));
            event.insert("isBase64Encoded".into(), json!(false));
        }
        _ => {
            event.insert("body".into(), json!(STANDARD.encode(&req.body)));
            event.insert("isBase64Encoded".into(), json!(true));
        }
    }
    Value::Object(event)
}

/// `requestContext.authorizer.iam` of a signed request.
fn iam(caller: &RequestContext) -> Value {
    let (caller_id, user_id) = match &caller.principal {
        Principal::Root => (caller.account_id.clone(), caller.account_id.clone()),
        Principal::User { user_id, .. } | Principal::FederatedUser { user_id, .. } => (user_id.clone(), user_id.clone()),
        Principal::AssumedRole { role_id, session_name, .. } => (format!("{role_id}:{session_name}"), role_id.clone()),
    };
    json!({
        "accessKey": caller.access_key_id,
        "accountId": caller.account_id,
        "callerId": caller_id,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": caller.caller_arn(),
        "userId": user_id,
    })
}

/// `12/Mar/2020:19:03:58 +0000`.
fn clf_time(millis: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let iso = Timestamp::from_millis(millis).to_iso8601();
    let field = |range: std::ops::Range<usize>| iso.get(range).unwrap_or_default();
    let month = field(5..7).parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1))).copied().unwrap_or("Jan");
    format!("{}/{month}/{}:{} +0000", field(8..10), field(0..4), field(11..19))
}

/// Query parameters, decoded; repeated names joined with commas, as AWS does.
fn query_parameters(query: &str) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        out.entry(k).and_modify(|old| {
            old.push(',');
            old.push_str(&v);
        }).or_insert(v);
    }
    out
}

/// Percent-decoding, `+` as a space.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The function's result as the HTTP response Lambda makes of it: a JSON object with
/// `statusCode` is a response (`headers`, `cookies`, `body`, `isBase64Encoded`); any other
/// valid JSON is the body of a 200 `application/json` answer (a string as its text).
/// `None` for a response that is not valid (Lambda answers 502).
fn translate(payload: &[u8]) -> Option<HttpResponse> {
    let json_type = || ("content-type".to_string(), JSON.to_string());
    let value: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(_) => return Some(HttpResponse::full(200, vec![json_type()], Bytes::copy_from_slice(payload))),
    };
    let doc = match value {
        Value::Object(doc) if doc.contains_key("statusCode") => doc,
        Value::String(s) => return Some(HttpResponse::full(200, vec![json_type()], Bytes::from(s))),
        _ => return Some(HttpResponse::full(200, vec![json_type()], Bytes::copy_from_slice(payload))),
    };
    let status = match doc.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        _ => None,
    }
    .and_then(|s| u16::try_from(s).ok())
    .filter(|s| (100..=599).contains(s))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(h)) = doc.get("headers") {
        for (name, value) in h {
            headers.push((name.to_ascii_lowercase(), scalar(value)));
        }
    }
    if !headers.iter().any(|(k, _)| k == "content-type") {
        headers.push(json_type());
    }
    if let Some(Value::Array(cookies)) = doc.get("cookies") {
        headers.extend(cookies.iter().map(|c| ("set-cookie".to_string(), scalar(c))));
    }
    let body = match doc.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if doc.get("isBase64Encoded") == Some(&Value::Bool(true)) => Bytes::from(STANDARD.decode(s).ok()?),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    Some(HttpResponse::full(status, headers, body))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn allows_origin(cors: &CorsRules, origin: &str) -> Option<String> {
    let origins = cors.allow_origins.as_deref().unwrap_or_default();
    if origins.iter().any(|o| o == "*") {
        return Some("*".into());
    }
    origins.iter().any(|o| o.eq_ignore_ascii_case(origin)).then(|| origin.to_string())
}

/// A preflight, answered from the URL's CORS configuration: the allow headers when the
/// origin and method are allowed, none otherwise (the browser then refuses the call).
fn preflight(cors: &CorsRules, req: &EndpointRequest, request_id: &str) -> HttpResponse {
    let mut headers = vec![("x-amzn-requestid".to_string(), request_id.to_string())];
    let origin = header(req, "origin").and_then(|o| allows_origin(cors, o));
    let method = header(req, "access-control-request-method").unwrap_or_default();
    let methods = cors.allow_methods.as_deref().unwrap_or_default();
    let method_ok = methods.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method));
    if let (Some(origin), true) = (origin, method_ok) {
        headers.push(("access-control-allow-origin".into(), origin));
        headers.push(("access-control-allow-methods".into(), methods.join(",")));
        if let Some(h) = cors.allow_headers.as_ref().filter(|h| !h.is_empty()) {
            headers.push(("access-control-allow-headers".into(), h.join(",")));
        }
        if let Some(age) = cors.max_age {
            headers.push(("access-control-max-age".into(), age.to_string()));
        }
        if cors.allow_credentials == Some(true) {
            headers.push(("access-control-allow-credentials".into(), "true".into()));
        }
        headers.push(("vary".into(), "Origin".into()));
    }
    HttpResponse::full(200, headers, Bytes::new())
}

/// The CORS headers of an actual request's answer; they replace any the function set.
fn decorate(cors: &CorsRules, origin: &str, headers: &mut Vec<(String, String)>) {
    let Some(allowed) = allows_origin(cors, origin) else { return };
    headers.retain(|(k, _)| !k.starts_with("access-control-"));
    headers.push(("access-control-allow-origin".into(), allowed));
    if let Some(h) = cors.expose_headers.as_ref().filter(|h| !h.is_empty()) {
        headers.push(("access-control-expose-headers".into(), h.join(",")));
    }
    if cors.allow_credentials == Some(true) {
        headers.push(("access-control-allow-credentials".into(), "true".into()));
    }
    headers.push(("vary".into(), "Origin".into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &HttpResponse) -> String {
        String::from_utf8_lossy(&r.body).into_owned()
    }

    #[test]
    fn a_result_with_status_code_is_the_response() {
        let r = translate(br#"{"statusCode": 201, "headers": {"X-Custom": "1"}, "body": "made", "cookies": ["a=1", "b=2"]}"#);
        let r = r.expect("valid");
        assert_eq!(r.status, 201);
        assert_eq!(body(&r), "made");
        assert_eq!(r.header("x-custom"), Some("1"));
        assert_eq!(r.header("content-type"), Some(JSON));
        assert_eq!(r.headers.iter().filter(|(k, _)| k == "set-cookie").count(), 2);
    }

    #[test]
    fn other_json_is_the_body_of_a_200() {
        let r = translate(br#"{"message": "hi"}"#).expect("valid");
        assert_eq!((r.status, body(&r).as_str()), (200, r#"{"message": "hi"}"#));
        let r = translate(br#""plain text""#).expect("valid");
        assert_eq!(body(&r), "plain text");
        let r = translate(b"[1,2]").expect("valid");
        assert_eq!(body(&r), "[1,2]");
    }

    #[test]
    fn base64_bodies_are_decoded_and_bad_responses_refused() {
        let r = translate(br#"{"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}"#).expect("valid");
        assert_eq!(body(&r), "hi");
        assert!(translate(br#"{"statusCode": 200, "body": "!!", "isBase64Encoded": true}"#).is_none());
        assert!(translate(br#"{"statusCode": "teapot"}"#).is_none());
    }

    #[test]
    fn repeated_query_parameters_join_with_commas() {
        let q = query_parameters("a=1&a=2&b=x+y%21&c");
        assert_eq!(q.get("a").map(String::as_str), Some("1,2"));
        assert_eq!(q.get("b").map(String::as_str), Some("x y!"));
        assert_eq!(q.get("c").map(String::as_str), Some(""));
    }

    #[test]
    fn times_are_in_common_log_format() {
        assert_eq!(clf_time(1_583_348_638_390), "04/Mar/2020:19:03:58 +0000");
    }
}
