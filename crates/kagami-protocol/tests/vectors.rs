//! botocore's protocol test vectors, run against kagami's server side.
//!
//! Input cases: the serialized request is detected, resolved and parsed, and the
//! resulting [`Value`] is compared with the case's `params`. Output cases: the case's
//! `result` (or `error`) is serialized and compared with the expected response by
//! meaning: status, the headers that carry protocol information, and the body read
//! back the way an SDK reads it (`kagami_protocol::conformance`). The expected body is
//! read the same way and must agree with the case, so the comparison is anchored to
//! botocore's bytes; where the bodies are also equal as trees (JSON values, XML
//! elements, CBOR items) the case counts as an exact match.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use indexmap::IndexMap;
use kagami_model::{ServiceModel, Shape, ShapeRef, ShapeType};
use kagami_protocol::conformance::{self, CborItem, decode_cbor};
use kagami_protocol::{Protocol, RequestParts, ServiceError, Timestamp, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const FILES: &[(&str, &str, Protocol)] = &[
    ("ec2", "ec2", Protocol::Ec2),
    ("json", "json", Protocol::Json),
    ("json_1_0", "json_1_0", Protocol::Json),
    ("json_1_0-query-compatible", "json_1_0", Protocol::Json),
    ("query", "query", Protocol::Query),
    ("rest-json", "rest-json", Protocol::RestJson),
    ("rest-xml", "rest-xml", Protocol::RestXml),
    ("smithy-rpc-v2-cbor", "smithy-rpc-v2-cbor", Protocol::RpcV2Cbor),
    ("smithy-rpc-v2-cbor-non-query-compatible", "smithy-rpc-v2-cbor", Protocol::RpcV2Cbor),
    ("smithy-rpc-v2-cbor-query-compatible", "smithy-rpc-v2-cbor", Protocol::RpcV2Cbor),
];

/// Cases skipped beyond botocore's own ignore list: (file, direction, case id, reason).
/// Each is a client-side concern that has no server-side counterpart to test.
const SKIPS: &[(&str, &str, &str, &str)] = &[
    ("json_1_0", "input", "AwsJson10EndpointTrait", NO_TARGET),
    ("json_1_0", "input", "AwsJson10EndpointTraitWithHostLabel", NO_TARGET),
];

const NO_TARGET: &str = "the vector leaves out X-Amz-Target, which names the operation on the server side";

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

fn load(path: &Path) -> J {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Ignores {
    suites: Vec<String>,
    cases: BTreeMap<(String, String), Vec<String>>,
}

impl Ignores {
    fn load() -> Ignores {
        let j = load(&vectors_dir().join("protocol-tests-ignore-list.json"));
        let strings = |v: &J| {
            v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        let suites = strings(&j["general"]["input"]["suites"]);
        let mut cases = BTreeMap::new();
        if let Some(protocols) = j["protocols"].as_object() {
            for (proto, dirs) in protocols {
                for dir in ["input", "output"] {
                    cases.insert((proto.clone(), dir.to_string()), strings(&dirs[dir]["cases"]));
                }
            }
        }
        Ignores { suites, cases }
    }

    fn ignored(&self, ignore_key: &str, dir: &str, suite: &J, id: &str) -> bool {
        let description = suite["description"].as_str().unwrap_or("");
        (dir == "input" && self.suites.iter().any(|s| s == description))
            || self.cases.get(&(ignore_key.to_string(), dir.to_string())).is_some_and(|c| c.iter().any(|x| x == id))
    }
}

fn build_model(suite: &J, case: &J) -> ServiceModel {
    let mut metadata = suite["metadata"].clone();
    for (k, v) in [("apiVersion", "2020-01-01"), ("endpointPrefix", "test")] {
        if metadata.get(k).is_none() {
            metadata[k] = J::String(v.into());
        }
    }
    let given = &case["given"];
    let name = given["name"].as_str().unwrap_or("Op").to_string();
    let model = serde_json::json!({"metadata": metadata, "operations": {name: given}, "shapes": suite["shapes"]});
    serde_json::from_value(model).unwrap_or_else(|e| panic!("model of {}: {e}", case["id"]))
}

// ---------------------------------------------------------------------------------
// Expected values: a case's JSON params through the model.

fn expected(model: &ServiceModel, shape: &Shape, r: Option<&ShapeRef>, j: &J) -> Option<Value> {
    if j.is_null() {
        return None;
    }
    if shape.document {
        return Some(Value::Document(j.clone()));
    }
    let child = |r: &ShapeRef| model.shapes.get(&r.shape).expect("shape");
    Some(match shape.shape_type {
        ShapeType::Structure => {
            let mut out = IndexMap::new();
            for (k, v) in j.as_object()? {
                let Some(mr) = shape.members.get(k) else { continue };
                if let Some(v) = expected(model, child(mr), Some(mr), v) {
                    out.insert(k.clone(), v);
                }
            }
            Value::Map(out)
        }
        ShapeType::List => {
            let mr = shape.member.as_ref()?;
            Value::List(j.as_array()?.iter().filter_map(|v| expected(model, child(mr), Some(mr), v)).collect())
        }
        ShapeType::Map => {
            let vr = shape.value.as_ref()?;
            let mut out = IndexMap::new();
            for (k, v) in j.as_object()? {
                if let Some(v) = expected(model, child(vr), Some(vr), v) {
                    out.insert(k.clone(), v);
                }
            }
            Value::Map(out)
        }
        ShapeType::String | ShapeType::Character => {
            let s = j.as_str()?.to_string();
            let header_json =
                (shape.jsonvalue || r.is_some_and(|r| r.jsonvalue)) && r.is_some_and(|r| r.location.is_some());
            match serde_json::from_str::<J>(&s) {
                Ok(doc) if header_json => Value::Document(doc),
                _ => Value::Str(s),
            }
        }
        ShapeType::Boolean => Value::Bool(j.as_bool()?),
        ShapeType::Timestamp => match j {
            J::Number(n) if n.is_i64() => Value::Timestamp(Timestamp::from_secs(n.as_i64()?)),
            J::Number(n) => Value::Timestamp(Timestamp::from_epoch_f64(n.as_f64()?)?),
            J::String(s) => Value::Timestamp(Timestamp::parse_any(s).ok()?),
            _ => return None,
        },
        ShapeType::Blob => Value::Blob(bytes::Bytes::from(j.as_str()?.as_bytes().to_vec())),
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => match j {
            J::String(s) => Value::Float(match s.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other.parse().ok()?,
            }),
            other => Value::Float(other.as_f64()?),
        },
        _ => Value::Int(j.as_i64()?),
    })
}

fn emptyish(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// Equal by meaning: floats within float precision (NaN equal to NaN), timestamps to
/// the millisecond, and an absent member equal to null or an empty list or map (what
/// a server cannot tell apart on several wires).
fn same(path: &str, got: Option<&Value>, want: Option<&Value>) -> Result<(), String> {
    match (got, want) {
        (None, None) => Ok(()),
        (None, Some(w)) | (Some(w), None) if emptyish(w) => Ok(()),
        (Some(Value::Float(a)), Some(Value::Float(b))) => {
            if (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-6 * b.abs().max(1.0) {
                Ok(())
            } else {
                Err(format!("{path}: got {a}, want {b}"))
            }
        }
        (Some(Value::Int(a)), Some(Value::Float(b))) | (Some(Value::Float(b)), Some(Value::Int(a)))
            if *a as f64 == *b =>
        {
            Ok(())
        }
        (Some(Value::Timestamp(a)), Some(Value::Timestamp(b))) if a.as_millis() == b.as_millis() => Ok(()),
        (Some(Value::Map(a)), Some(Value::Map(b))) => {
            for k in a.keys().chain(b.keys()) {
                same(&format!("{path}.{k}"), a.get(k), b.get(k))?;
            }
            Ok(())
        }
        (Some(Value::List(a)), Some(Value::List(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(&format!("{path}[{i}]"), Some(x), Some(y))?;
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: got {a:?}, want {b:?}")),
    }
}

// ---------------------------------------------------------------------------------
// Structural comparison of bodies.

fn xml_equal(a: roxmltree::Node, b: roxmltree::Node) -> bool {
    if a.tag_name().name() != b.tag_name().name() {
        return false;
    }
    let attrs = |n: roxmltree::Node| {
        let mut v: Vec<(String, String)> =
            n.attributes().map(|a| (a.name().to_string(), a.value().to_string())).collect();
        v.sort();
        v
    };
    if attrs(a) != attrs(b) {
        return false;
    }
    // Request ids and response metadata are the server's own, not the case's.
    let content = |c: &roxmltree::Node| {
        c.is_element() && !matches!(c.tag_name().name(), "ResponseMetadata" | "requestId" | "RequestId" | "RequestID")
    };
    let ka: Vec<_> = a.children().filter(content).collect();
    let kb: Vec<_> = b.children().filter(content).collect();
    if ka.is_empty() && kb.is_empty() {
        let text =
            |n: roxmltree::Node| n.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect::<String>();
        return text(a) == text(b);
    }
    ka.len() == kb.len() && ka.iter().zip(&kb).all(|(x, y)| xml_equal(*x, *y))
}

fn cbor_equal(a: &CborItem, b: &CborItem) -> bool {
    match (a, b) {
        (CborItem::Map(x), CborItem::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| cbor_equal(k, k2) && cbor_equal(v, v2)))
        }
        (CborItem::Array(x), CborItem::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| cbor_equal(p, q))
        }
        (CborItem::Float(x), CborItem::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (CborItem::Tag(t, x), CborItem::Tag(u, y)) => t == u && cbor_equal(x, y),
        _ => a == b,
    }
}

fn bodies_equal(protocol: Protocol, ours: &[u8], theirs: &[u8]) -> bool {
    if ours.is_empty() || theirs.is_empty() {
        return ours.iter().all(u8::is_ascii_whitespace) && theirs.iter().all(u8::is_ascii_whitespace);
    }
    match protocol {
        Protocol::RpcV2Cbor => matches!((decode_cbor(ours), decode_cbor(theirs)), (Ok(a), Ok(b)) if cbor_equal(&a, &b)),
        Protocol::Json | Protocol::RestJson => {
            match (serde_json::from_slice::<J>(ours), serde_json::from_slice::<J>(theirs)) {
                (Ok(a), Ok(b)) => a == b,
                _ => ours == theirs,
            }
        }
        _ => {
            let (Ok(a), Ok(b)) = (std::str::from_utf8(ours), std::str::from_utf8(theirs)) else { return false };
            match (roxmltree::Document::parse(a), roxmltree::Document::parse(b)) {
                (Ok(x), Ok(y)) => xml_equal(x.root_element(), y.root_element()),
                _ => a == b,
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Running cases.

enum Outcome {
    Pass { exact: bool },
    Fail(String),
}

fn header_map(pairs: impl IntoIterator<Item = (String, String)>) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(&v)) {
            h.append(name, value);
        }
    }
    h
}

fn json_headers(j: &J) -> Vec<(String, String)> {
    j.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

fn body_bytes(protocol: Protocol, j: &J) -> Vec<u8> {
    let text = j.as_str().unwrap_or("");
    match protocol {
        Protocol::RpcV2Cbor => B64.decode(text).unwrap_or_default(),
        _ => text.as_bytes().to_vec(),
    }
}

fn run_input(protocol: Protocol, suite: &J, case: &J) -> Outcome {
    let model = build_model(suite, case);
    let ser = &case["serialized"];
    let method: http::Method = ser["method"].as_str().unwrap_or("POST").parse().unwrap_or(http::Method::POST);
    let uri = ser["uri"].as_str().unwrap_or("/");
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = header_map(json_headers(&ser["headers"]));
    let body = body_bytes(protocol, &ser["body"]);
    let parts = RequestParts { method: &method, path, query, headers: &headers, body: &body };
    let detected = kagami_protocol::detect_protocol(&model, &parts);
    if detected != protocol {
        return Outcome::Fail(format!("detected {detected:?}"));
    }
    let op = match kagami_protocol::resolve_operation(&model, protocol, &parts) {
        Ok(op) => op,
        Err(e) => return Outcome::Fail(format!("resolve: {e}")),
    };
    let want_name = case["given"]["name"].as_str().unwrap_or("");
    if op.name != want_name {
        return Outcome::Fail(format!("resolved {} instead of {want_name}", op.name));
    }
    let got = match kagami_protocol::parse_request(&model, protocol, op, &parts) {
        Ok(v) => v,
        Err(e) => return Outcome::Fail(format!("parse: {e}")),
    };
    let shape = op.input.as_ref().and_then(|r| model.shapes.get(&r.shape));
    let want = match shape {
        Some(s) => expected(&model, s, None, &case["params"]),
        None => Some(Value::map()),
    };
    // A server fills an `httpQueryParams` map with every parameter, also those bound
    // to named members; vectors written for clients may leave those out of the map.
    let mut got = got;
    if let (Some(s), Value::Map(g), Some(Value::Map(w))) = (shape, &mut got, &want) {
        let named: Vec<&str> = s
            .members
            .iter()
            .filter(|(_, r)| r.location.as_deref() == Some("querystring"))
            .map(|(n, r)| r.location_name.as_deref().unwrap_or(n))
            .collect();
        for (k, r) in &s.members {
            let is_params_map = r.location.as_deref() == Some("querystring")
                && model.shapes.get(&r.shape).is_some_and(|t| t.shape_type == ShapeType::Map);
            if !is_params_map {
                continue;
            }
            match (g.get_mut(k), w.get(k)) {
                (Some(_), None) => {
                    g.shift_remove(k);
                }
                (Some(Value::Map(gm)), Some(Value::Map(wm))) => {
                    gm.retain(|p, _| wm.contains_key(p) || !named.contains(&p.as_str()))
                }
                _ => {}
            }
        }
    }
    match same("params", Some(&got), want.as_ref()) {
        Ok(()) => Outcome::Pass { exact: true },
        Err(e) => Outcome::Fail(e),
    }
}

fn media_type(ct: &str) -> String {
    ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_request_id(name: &str) -> bool {
    name.eq_ignore_ascii_case("x-amzn-requestid")
        || name.eq_ignore_ascii_case("x-amz-request-id")
        || name.eq_ignore_ascii_case("x-amz-id-2")
}

/// Our headers without the request id, which is no member (a prefix-headers member
/// with an empty prefix would otherwise collect it).
fn member_headers(ours: &kagami_protocol::HttpResponse) -> http::HeaderMap {
    header_map(ours.headers.iter().filter(|(k, _)| !is_request_id(k)).cloned())
}

/// The headers that carry protocol information rather than members.
fn check_headers(ours: &kagami_protocol::HttpResponse, want: &J) -> Result<(), String> {
    if !ours.headers.iter().any(|(k, v)| is_request_id(k) && v == "request-id") {
        return Err("no request id header".into());
    }
    for (k, v) in json_headers(want) {
        let ours_v = ours.header(&k);
        match k.to_ascii_lowercase().as_str() {
            "content-type" if !ours.body.is_empty() && ours_v.map(media_type) != Some(media_type(&v)) => {
                return Err(format!("Content-Type {ours_v:?}, want {v}"));
            }
            "x-amzn-query-error" | "smithy-protocol" if ours_v != Some(v.as_str()) => {
                return Err(format!("{k} {ours_v:?}, want {v}"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn error_status(model: &ServiceModel, protocol: Protocol, shape: &Shape) -> u16 {
    let client = shape.error.as_ref().is_none_or(|e| e.sender_fault) && !shape.fault;
    let query_compatible_json =
        model.metadata.aws_query_compatible.is_some() && matches!(protocol, Protocol::Json | Protocol::RpcV2Cbor);
    match shape.error.as_ref().and_then(|e| e.http_status_code) {
        Some(code) if !query_compatible_json => code,
        _ if client => 400,
        _ => 500,
    }
}

/// The error a provider would return for the case: the code as this protocol names it,
/// with the query code of query-compatible services alongside.
fn service_error(model: &ServiceModel, protocol: Protocol, case: &J) -> Result<(ServiceError, Value), String> {
    let code = case["errorCode"].as_str().ok_or("no errorCode")?;
    let op = model.operations.values().next().ok_or("no operation")?;
    let (shape_name, shape) = op
        .errors
        .iter()
        .filter_map(|r| model.shapes.get(&r.shape).map(|s| (r.shape.as_str(), s)))
        .find(|(n, s)| *n == code || s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code))
        .ok_or_else(|| format!("no error shape for {code}"))?;
    let want = expected(model, shape, None, &case["error"]).unwrap_or_else(Value::map);
    let query_code = shape.error.as_ref().and_then(|e| e.code.clone());
    let wire_code = match protocol {
        Protocol::Query | Protocol::Ec2 => query_code.clone().unwrap_or_else(|| shape_name.to_string()),
        _ => shape_name.to_string(),
    };
    let message = case["errorMessage"]
        .as_str()
        .or_else(|| case["error"]["Message"].as_str())
        .or_else(|| case["error"]["message"].as_str())
        .unwrap_or("");
    let mut err = ServiceError::new(wire_code, error_status(model, protocol, shape), message);
    err.sender_fault = !shape.fault;
    if model.metadata.aws_query_compatible.is_some() {
        err.query_code = query_code;
    }
    if let Value::Map(m) = &want {
        for (k, v) in m {
            if !k.eq_ignore_ascii_case("message") {
                err.fields.push((k.clone(), v.clone()));
            }
        }
    }
    Ok((err, want))
}

fn run_output(protocol: Protocol, suite: &J, case: &J) -> Outcome {
    let model = build_model(suite, case);
    let Some(op) = model.operations.values().next() else { return Outcome::Fail("no operation".into()) };
    let response = &case["response"];
    let want_status = response["status_code"].as_u64().unwrap_or(200) as u16;
    let their_headers = header_map(json_headers(&response["headers"]));
    let their_body = body_bytes(protocol, &response["body"]);

    if case.get("errorCode").is_some() {
        let (err, want) = match service_error(&model, protocol, case) {
            Ok(x) => x,
            Err(e) => return Outcome::Fail(e),
        };
        let ours = kagami_protocol::serialize_error(&model, protocol, Some(op), &err, "request-id");
        if ours.status != want_status {
            return Outcome::Fail(format!("status {}, want {want_status}", ours.status));
        }
        if let Err(e) = check_headers(&ours, &response["headers"]) {
            return Outcome::Fail(e);
        }
        let our_headers = member_headers(&ours);
        let code = case["errorCode"].as_str().unwrap_or("");
        let check = |parsed: Result<conformance::ParsedError, String>, whose: &str| -> Result<(), String> {
            let p = parsed.map_err(|e| format!("{whose} error unreadable: {e}"))?;
            if p.code != code {
                return Err(format!("{whose} code {}, want {code}", p.code));
            }
            same(&format!("{whose} error"), Some(&p.fields), Some(&want))
        };
        if let Err(e) =
            check(conformance::parse_error(&model, protocol, Some(op), ours.status, &our_headers, &ours.body), "our")
        {
            return Outcome::Fail(e);
        }
        let exact = bodies_equal(protocol, &ours.body, &their_body);
        if !exact && std::env::var("VECTORS_DEBUG").is_ok() {
            println!(
                "NONEXACT {}\n  ours:   {}\n  theirs: {}",
                case["id"],
                String::from_utf8_lossy(&ours.body).replace('\n', "\\n"),
                String::from_utf8_lossy(&their_body).replace('\n', "\\n")
            );
        }
        let anchored = check(
            conformance::parse_error(&model, protocol, Some(op), want_status, &their_headers, &their_body),
            "their",
        );
        return match anchored {
            Ok(()) => Outcome::Pass { exact },
            Err(_) if exact => Outcome::Pass { exact },
            Err(e) => Outcome::Fail(format!("cannot anchor: {e}")),
        };
    }

    let shape = op.output.as_ref().and_then(|r| model.shapes.get(&r.shape));
    let want = match shape {
        Some(s) => expected(&model, s, None, &case["result"]).unwrap_or_else(Value::map),
        None => Value::map(),
    };
    let ours = kagami_protocol::serialize_response(&model, protocol, op, &want, "request-id");
    if ours.status != want_status {
        return Outcome::Fail(format!("status {}, want {want_status}", ours.status));
    }
    if let Err(e) = check_headers(&ours, &response["headers"]) {
        return Outcome::Fail(e);
    }
    let our_headers = member_headers(&ours);
    match conformance::parse_response(&model, protocol, op, ours.status, &our_headers, &ours.body) {
        Ok(v) => {
            if let Err(e) = same("our result", Some(&v), Some(&want)) {
                return Outcome::Fail(format!("{e}\n      body: {}", String::from_utf8_lossy(&ours.body)));
            }
        }
        Err(e) => return Outcome::Fail(format!("our response unreadable: {e}")),
    }
    let exact = bodies_equal(protocol, &ours.body, &their_body);
    if !exact && std::env::var("VECTORS_DEBUG").is_ok() {
        println!(
            "NONEXACT {}\n  ours:   {}\n  theirs: {}",
            case["id"],
            String::from_utf8_lossy(&ours.body).replace('\n', "\\n"),
            String::from_utf8_lossy(&their_body).replace('\n', "\\n")
        );
    }
    let theirs = conformance::parse_response(&model, protocol, op, want_status, &their_headers, &their_body)
        .and_then(|v| same("their result", Some(&v), Some(&want)));
    match theirs {
        Ok(()) => Outcome::Pass { exact },
        Err(_) if exact => Outcome::Pass { exact },
        Err(e) => Outcome::Fail(format!("cannot anchor: {e}")),
    }
}

#[derive(Default)]
struct Tally {
    run: usize,
    passed: usize,
    exact: usize,
    ignored: usize,
    skipped: usize,
}

#[test]
fn botocore_protocol_vectors() {
    let ignores = Ignores::load();
    let mut report = String::new();
    let mut failures = Vec::new();
    let mut skipped_with_reason = Vec::new();
    let run_ignored = std::env::var_os("VECTORS_RUN_IGNORED").is_some();
    let mut ignored_outcomes = Vec::new();
    let _ = writeln!(
        report,
        "{:<44} {:>6} {:>4} {:>6} {:>6} {:>7} {:>7}",
        "file", "dir", "run", "passed", "exact", "ignored", "skipped"
    );
    for (file, ignore_key, protocol) in FILES {
        for dir in ["input", "output"] {
            let path = vectors_dir().join(dir).join(format!("{file}.json"));
            let suites = load(&path);
            let mut t = Tally::default();
            for suite in suites.as_array().into_iter().flatten() {
                for case in suite["cases"].as_array().into_iter().flatten() {
                    let id = case["id"].as_str().unwrap_or("?");
                    if ignores.ignored(ignore_key, dir, suite, id) {
                        t.ignored += 1;
                        // `VECTORS_RUN_IGNORED=1` shows how the ignored cases fare, for
                        // information only.
                        if run_ignored {
                            let outcome = std::panic::catch_unwind(|| match dir {
                                "input" => run_input(*protocol, suite, case),
                                _ => run_output(*protocol, suite, case),
                            })
                            .unwrap_or_else(|_| Outcome::Fail("panicked".into()));
                            let verdict = match outcome {
                                Outcome::Pass { .. } => "passes".to_string(),
                                Outcome::Fail(why) => format!("fails: {why}"),
                            };
                            ignored_outcomes.push(format!("{file}/{dir}/{id} {verdict}"));
                        }
                        continue;
                    }
                    if let Some((.., reason)) = SKIPS.iter().find(|(f, d, c, _)| f == file && *d == dir && *c == id) {
                        t.skipped += 1;
                        skipped_with_reason.push(format!("{file}/{dir}/{id}: {reason}"));
                        continue;
                    }
                    t.run += 1;
                    let outcome = std::panic::catch_unwind(|| match dir {
                        "input" => run_input(*protocol, suite, case),
                        _ => run_output(*protocol, suite, case),
                    })
                    .unwrap_or_else(|_| Outcome::Fail("panicked".into()));
                    match outcome {
                        Outcome::Pass { exact } => {
                            t.passed += 1;
                            t.exact += usize::from(exact);
                        }
                        Outcome::Fail(why) => failures.push(format!("{file}/{dir}/{id}: {why}")),
                    }
                }
            }
            let _ = writeln!(
                report,
                "{:<44} {:>6} {:>4} {:>6} {:>6} {:>7} {:>7}",
                file, dir, t.run, t.passed, t.exact, t.ignored, t.skipped
            );
        }
    }
    println!("{report}");
    println!("skipped beyond botocore's ignore list:");
    for s in &skipped_with_reason {
        println!("  {s}");
    }
    if run_ignored {
        println!("cases on botocore's ignore list:");
        for o in &ignored_outcomes {
            println!("  {o}");
        }
    }
    if !failures.is_empty() {
        println!("failures:");
        for f in &failures {
            println!("  {f}");
        }
    }
    assert!(failures.is_empty(), "{} protocol vector cases failed", failures.len());
}
