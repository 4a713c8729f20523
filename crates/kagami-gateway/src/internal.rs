//! kagami's own endpoints, and the ones LocalStack and moto users already call:
//! `GET /_kagami/health`, `GET /_localstack/health`, `POST /_kagami/reset`,
//! `POST /moto-api/reset`, `GET|POST /_kagami/clock`, and `/_kagami/<service>/...`
//! for a service's test helpers.

use crate::{Gateway, ResponseBody};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Response, StatusCode};
use kagami_core::{InternalRequest, clock};
use serde_json::{Map, Value, json};
use std::time::Duration;

const KAGAMI_PREFIX: &str = "/_kagami/";
const LOCALSTACK_HEALTH: &str = "/_localstack/health";
const MOTO_RESET: &str = "/moto-api/reset";

pub fn is_internal(path: &str) -> bool {
    path.starts_with(KAGAMI_PREFIX) || path == LOCALSTACK_HEALTH || path == MOTO_RESET
}

pub async fn handle(
    gw: &Gateway,
    head: &http::request::Parts,
    body: Bytes,
) -> Response<ResponseBody> {
    let path = head.uri.path();
    let query = head.uri.query().unwrap_or("");
    let method = &head.method;
    let read = method == Method::GET || method == Method::HEAD;
    match path {
        "/_kagami/health" if read => {
            let detail = form_pairs(query).any(|(k, v)| k == "operations" && v != "0");
            ok(health(gw, detail))
        }
        LOCALSTACK_HEALTH if read => ok(localstack_health(gw)),
        "/_kagami/reset" if method == Method::POST => {
            let service = form_pairs(query)
                .find(|(k, _)| k == "service")
                .map(|(_, v)| v);
            if let Some(s) = &service
                && kagami_model::service(s).is_none()
            {
                return error(StatusCode::BAD_REQUEST, &format!("unknown service: {s}"));
            }
            let reset = gw.reset(service.as_deref()).await;
            ok(json!({ "reset": reset }))
        }
        MOTO_RESET if method == Method::POST => {
            gw.reset(None).await;
            ok(json!({ "status": "ok" }))
        }
        "/_kagami/clock" if read => ok(clock_now()),
        "/_kagami/clock" if method == Method::POST => advance_clock(&body),
        "/_kagami/health" | LOCALSTACK_HEALTH | "/_kagami/reset" | MOTO_RESET
        | "/_kagami/clock" => error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}"),
        ),
        _ => service_endpoint(gw, head, body).await,
    }
}

/// Every model service, with how much of it kagami implements. With `detail`, services
/// that have a provider also list their operations and which of them are implemented
/// (what `cargo xtask coverage` turns into docs/coverage.md).
fn health(gw: &Gateway, detail: bool) -> Value {
    let mut services = Map::new();
    for entry in kagami_model::SERVICES {
        let provider = gw.providers.get(entry.name).filter(|p| p.enabled);
        let implemented = provider.map_or(0, |p| p.implemented.len());
        let mut service = json!({
            "protocol": entry.protocol,
            "implemented_operations": implemented,
            "total_operations": entry.operation_count,
            "status": if implemented > 0 { "available" } else { "not_implemented" },
        });
        if detail && let Some(p) = provider {
            // Parsing the model is deferred to here so a plain health probe stays cheap.
            let operations: Vec<&str> = entry
                .model()
                .operations
                .keys()
                .map(String::as_str)
                .collect();
            let done: Vec<&str> = operations
                .iter()
                .copied()
                .filter(|op| p.implemented.contains(op))
                .collect();
            service["operations"] = json!(operations);
            service["implemented"] = json!(done);
        }
        services.insert(entry.name.to_string(), service);
    }
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "botocore_version": kagami_model::BOTOCORE_VERSION,
        "uptime_seconds": gw.started.elapsed().as_secs(),
        "persistence": gw.env.store.is_durable(),
        "services": services,
    })
}

/// LocalStack's shape, for tools that wait on it: only services kagami provides.
fn localstack_health(gw: &Gateway) -> Value {
    let mut names: Vec<&&'static str> = gw.providers.keys().collect();
    names.sort_unstable();
    let services: Map<String, Value> = names
        .into_iter()
        .filter_map(|name| {
            let p = gw.providers.get(*name)?;
            let state = if p.enabled { "running" } else { "disabled" };
            Some((name.to_string(), Value::from(state)))
        })
        .collect();
    json!({
        "services": services,
        "edition": "community",
        "version": env!("CARGO_PKG_VERSION"),
    })
}

fn clock_now() -> Value {
    let now = clock::now();
    json!({ "now": now.to_iso8601_millis(), "epoch_millis": now.as_millis() })
}

/// `{"advance_seconds": N}` moves the emulated clock forward by N seconds (fractions allowed).
fn advance_clock(body: &[u8]) -> Response<ResponseBody> {
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    let seconds = match parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("advance_seconds"))
        .and_then(Value::as_f64)
    {
        Some(s) if s.is_finite() && s >= 0.0 => s,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "advance_seconds must be a non-negative number: the clock only moves forward",
            );
        }
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                r#"expected a JSON body like {"advance_seconds": 60}"#,
            );
        }
    };
    // Duration::from_secs_f64 panics past u64::MAX seconds; no test needs more than centuries.
    clock::advance(Duration::from_secs_f64(seconds.min(1e10)));
    ok(clock_now())
}

/// `/_kagami/<service>/<rest>`: the service's own test helpers.
async fn service_endpoint(
    gw: &Gateway,
    head: &http::request::Parts,
    body: Bytes,
) -> Response<ResponseBody> {
    let path = head.uri.path();
    let rest = path.strip_prefix(KAGAMI_PREFIX).unwrap_or("");
    let (name, sub) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let Some(provider) = gw.providers.get(name) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("no internal endpoint at {path}"),
        );
    };
    let req = InternalRequest {
        method: head.method.as_str().to_string(),
        path: sub.to_string(),
        query: form_pairs(head.uri.query().unwrap_or("")).collect(),
        body,
        host: head
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    };
    match crate::panic::CatchUnwind(provider.service.internal(req)).await {
        Ok(Some(resp)) => {
            let status =
                StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json_response(status, &resp.body)
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            &format!("no internal endpoint at {path}"),
        ),
        Err(panic) => {
            tracing::error!(service = name, %path, "internal endpoint panicked: {panic}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal endpoint failed",
            )
        }
    }
}

/// Decoded `application/x-www-form-urlencoded` pairs.
fn form_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn ok(body: Value) -> Response<ResponseBody> {
    json_response(StatusCode::OK, &body)
}

pub fn error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    json_response(status, &json!({ "error": message }))
}

fn json_response(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::full(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
