//! No input panics the engine: every vector request and a set of real-model requests,
//! mutated thousands of ways (bytes flipped, cut, markup injected), go through
//! detect, resolve and parse, which may refuse them but must not panic; hostile
//! nesting is refused rather than exhausting the stack.

use kagami_model::ServiceModel;
use kagami_protocol::{Protocol, RequestParts, Value};
use serde_json::Value as J;
use std::path::Path;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const SPICE: &[&[u8]] = &[
    b"%",
    b"%zz",
    b".",
    b"..",
    b"{",
    b"}",
    b"[",
    b"]",
    b"<",
    b">",
    b"&",
    b"&amp",
    b"\"",
    b"\\",
    b"\xff",
    b"\xc3",
    b"=",
    b"+",
    b"\x00",
    b"9999999999999999999999",
    b"-1",
    b"NaN",
    b"1e999",
    b".member.0",
    b".entry.1.key",
    b"</a>",
    b"<![CDATA[",
    b"\xbf",
    b"\x9f",
    b"\x5b\xff\xff\xff\xff",
    b"/",
    b"//",
    b"{Bucket}",
    b"?",
];

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..=rng.below(3) {
        match rng.below(4) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = (rng.next() & 0xff) as u8;
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.truncate(i);
            }
            _ => {
                let i = rng.below(out.len() + 1);
                let spice = SPICE[rng.below(SPICE.len())];
                out.splice(i..i, spice.iter().copied());
            }
        }
    }
    out
}

fn exercise(
    model: &ServiceModel,
    method: &http::Method,
    path: &str,
    query: &str,
    headers: &http::HeaderMap,
    body: &[u8],
) {
    let parts = RequestParts { method, path, query, headers, body };
    let protocol = kagami_protocol::detect_protocol(model, &parts);
    for p in [protocol, Protocol::of_model(model)] {
        if let Ok(op) = kagami_protocol::resolve_operation(model, p, &parts)
            && let Ok(v) = kagami_protocol::parse_request(model, p, op, &parts)
        {
            // What was parsed also serializes, as the output of the same operation.
            let _ = kagami_protocol::serialize_response(model, p, op, &v, "rid");
        }
    }
}

fn fuzz(
    model: &ServiceModel,
    rng: &mut Rng,
    method: &http::Method,
    uri: &str,
    headers: &http::HeaderMap,
    body: &[u8],
    rounds: usize,
) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    exercise(model, method, path, query, headers, body);
    for _ in 0..rounds {
        let body = mutate(rng, body);
        let path_m = String::from_utf8_lossy(&mutate(rng, path.as_bytes())).into_owned();
        let query_m = String::from_utf8_lossy(&mutate(rng, query.as_bytes())).into_owned();
        match rng.below(3) {
            0 => exercise(model, method, path, query, headers, &body),
            1 => exercise(model, method, &path_m, query, headers, &body),
            _ => exercise(model, method, path, &query_m, headers, &body),
        }
        let mut h = headers.clone();
        if let Some(name) = headers.keys().nth(rng.below(headers.len())) {
            let value = headers.get(name).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
            if let Ok(v) = http::HeaderValue::from_bytes(&mutate(rng, &value)) {
                h.insert(name.clone(), v);
            }
        }
        exercise(model, method, path, query, &h, &body);
    }
}

fn vector_model(suite: &J, case: &J) -> Option<ServiceModel> {
    let mut metadata = suite["metadata"].clone();
    metadata["apiVersion"] = metadata.get("apiVersion").cloned().unwrap_or(J::String("1".into()));
    metadata["endpointPrefix"] = J::String("test".into());
    let name = case["given"]["name"].as_str()?.to_string();
    serde_json::from_value(
        serde_json::json!({"metadata": metadata, "operations": {name: case["given"]}, "shapes": suite["shapes"]}),
    )
    .ok()
}

#[test]
fn mutated_vector_requests_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/input"));
    let mut cases = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let suites: J = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cbor = path.to_string_lossy().contains("cbor");
        for suite in suites.as_array().into_iter().flatten() {
            for case in suite["cases"].as_array().into_iter().flatten() {
                let Some(model) = vector_model(suite, case) else { continue };
                let ser = &case["serialized"];
                let method = ser["method"].as_str().unwrap_or("POST").parse().unwrap_or(http::Method::POST);
                let mut headers = http::HeaderMap::new();
                for (k, v) in ser["headers"].as_object().into_iter().flatten() {
                    if let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(k.as_bytes()),
                        http::HeaderValue::from_str(v.as_str().unwrap_or("")),
                    ) {
                        headers.insert(k, v);
                    }
                }
                let text = ser["body"].as_str().unwrap_or("");
                let body = if cbor {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
                } else {
                    text.as_bytes().to_vec()
                };
                fuzz(&model, &mut rng, &method, ser["uri"].as_str().unwrap_or("/"), &headers, &body, 60);
                cases += 1;
            }
        }
    }
    assert!(cases > 300, "only {cases} vector cases were exercised");
}

#[test]
fn mutated_real_service_requests_never_panic() {
    let mut rng = Rng(42);
    let form = |pairs: &[(&'static str, &'static str)]| {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    };
    let sqs = kagami_model::service("sqs").unwrap().model();
    let json = form(&[("x-amz-target", "AmazonSQS.SendMessageBatch"), ("content-type", "application/x-amz-json-1.0")]);
    let body = br#"{"QueueUrl":"q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":1,"MessageAttributes":{"k":{"DataType":"Binary","BinaryValue":"AAE="}}}]}"#;
    fuzz(sqs, &mut rng, &http::Method::POST, "/", &json, body, 2000);
    let q = form(&[("content-type", "application/x-www-form-urlencoded")]);
    let body = b"Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String";
    fuzz(sqs, &mut rng, &http::Method::POST, "/", &q, body, 2000);

    let s3 = kagami_model::service("s3").unwrap().model();
    let h = form(&[
        ("content-type", "application/xml"),
        ("x-amz-meta-a", "b"),
        ("x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"),
    ]);
    let body = b"<Delete><Object><Key>a</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>";
    fuzz(s3, &mut rng, &http::Method::POST, "/bucket?delete", &h, body, 2000);
    fuzz(s3, &mut rng, &http::Method::PUT, "/bucket/some/key.txt?partNumber=1&uploadId=x", &h, b"data", 1000);

    if let Some(kinesis) = kagami_model::service("kinesis") {
        let h = form(&[("x-amz-target", "Kinesis_20131202.PutRecord"), ("content-type", "application/x-amz-cbor-1.1")]);
        // {"StreamName": "s", "Data": h'0102', "PartitionKey": "p"}
        let body = b"\xa3\x6aStreamName\x61s\x64Data\x42\x01\x02\x6cPartitionKey\x61p";
        fuzz(kinesis.model(), &mut rng, &http::Method::POST, "/", &h, body, 2000);
    }
}

#[test]
fn hostile_nesting_is_refused_without_exhausting_the_stack() {
    let sqs = kagami_model::service("sqs").unwrap().model();
    let json_h = {
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-target", http::HeaderValue::from_static("AmazonSQS.SendMessage"));
        h
    };
    let deep_json = format!(r#"{{"MessageAttributes":{}}}"#, "[".repeat(200_000));
    exercise(sqs, &http::Method::POST, "/", "", &json_h, deep_json.as_bytes());
    let deep_key = format!("Action=SendMessage&{}=x", "a.".repeat(100_000));
    exercise(sqs, &http::Method::POST, "/", &deep_key, &http::HeaderMap::new(), b"");
    let s3 = kagami_model::service("s3").unwrap().model();
    let deep_xml = format!("<Delete>{}", "<Object>".repeat(100_000));
    exercise(s3, &http::Method::POST, "/b", "delete", &http::HeaderMap::new(), deep_xml.as_bytes());
    let cbor_h = {
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-target", http::HeaderValue::from_static("AmazonSQS.SendMessage"));
        h.insert("content-type", http::HeaderValue::from_static("application/x-amz-cbor-1.1"));
        h
    };
    exercise(sqs, &http::Method::POST, "/", "", &cbor_h, &vec![0x9f; 100_000]);
    // Serializing values of the wrong kind for their shapes writes something, never panics.
    let op = &sqs.operations["ReceiveMessage"];
    let odd = Value::Map(
        [("Messages".to_string(), Value::Map(Default::default())), ("Other".to_string(), Value::Float(f64::NAN))]
            .into_iter()
            .collect(),
    );
    for p in [Protocol::Json, Protocol::Query, Protocol::RpcV2Cbor] {
        let _ = kagami_protocol::serialize_response(sqs, p, op, &odd, "rid");
        let _ = kagami_protocol::serialize_response(sqs, p, op, &Value::List(vec![Value::Null]), "rid");
    }
}
