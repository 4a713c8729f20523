//! The gateway end to end over real sockets, with a small fake STS provider: routing,
//! NotImplemented for everything else, internal endpoints, CORS, keep-alive,
//! `Expect: 100-continue`, h2c, panics, body limits and SigV4 verification.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kagami_core::identity::{Credential, StoredPrincipal};
use kagami_core::{
    BoxFuture, InternalRequest, InternalResponse, RequestContext, Service, ServiceEnv,
    ServiceError, Value,
};
use kagami_gateway::{Gateway, GatewayConfig, sigv4};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// STS with two operations: GetCallerIdentity echoes the caller (the region goes in
/// `UserId` so tests can see it), GetSessionToken panics.
#[derive(Default)]
struct FakeSts {
    resets: AtomicUsize,
}

impl Service for FakeSts {
    fn name(&self) -> &'static str {
        "sts"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        &["GetCallerIdentity", "GetSessionToken"]
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        _input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(async move {
            match operation {
                "GetCallerIdentity" => {
                    let mut out = Value::map();
                    out.insert("Account", Value::from(ctx.account_id.as_str()));
                    out.insert("Arn", Value::from(ctx.caller_arn()));
                    out.insert("UserId", Value::from(ctx.region.as_str()));
                    Ok(out)
                }
                _ => panic!("GetSessionToken is broken on purpose"),
            }
        })
    }

    fn reset(&self) {
        self.resets.fetch_add(1, Ordering::SeqCst);
    }

    fn internal(&self, req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        Box::pin(async move {
            (req.path == "/ping").then(|| InternalResponse {
                status: 200,
                body: json!({ "pong": true, "query": req.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>() }),
            })
        })
    }
}

async fn start(config: GatewayConfig) -> (SocketAddr, Arc<FakeSts>) {
    start_with(config, ServiceEnv::ephemeral()).await
}

async fn start_with(config: GatewayConfig, env: ServiceEnv) -> (SocketAddr, Arc<FakeSts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = Arc::new(FakeSts::default());
    let services: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let gateway = Arc::new(Gateway::new(config, env, services));
    tokio::spawn(kagami_gateway::serve(
        listener,
        gateway,
        std::future::pending(),
    ));
    (addr, fake)
}

// --- a minimal HTTP/1.1 client -------------------------------------------------------

mod common;

use common::{Conn, Resp};

impl Conn {
    async fn call(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        self.send(&raw_request(method, target, headers, body)).await;
        self.response().await
    }
}

fn raw_request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        out.push_str("host: localhost:4566\r\n");
    }
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

async fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    Conn::open(addr)
        .await
        .call(method, target, headers, body)
        .await
}

const FORM: (&str, &str) = (
    "content-type",
    "application/x-www-form-urlencoded; charset=utf-8",
);
const GET_CALLER_IDENTITY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

/// SigV4 headers for a POST to `/` on host `localhost:4566`, signed at `signed_at`.
fn verifying() -> GatewayConfig {
    GatewayConfig {
        verify_sigv4: true,
        ..GatewayConfig::default()
    }
}

/// GetCallerIdentity from STS in us-east-1, signed with this key pair at `signed_at`.
async fn get_caller_identity(
    addr: SocketAddr,
    access_key: &str,
    secret: &str,
    signed_at: i64,
) -> Resp {
    let h = signed_headers(
        GET_CALLER_IDENTITY,
        access_key,
        secret,
        "sts",
        "us-east-1",
        signed_at,
    );
    call(addr, "POST", "/", &as_refs(&h), GET_CALLER_IDENTITY).await
}

fn signed_headers(
    body: &[u8],
    access_key: &str,
    secret: &str,
    service: &str,
    region: &str,
    signed_at: i64,
) -> Vec<(String, String)> {
    signed_headers_with_token(body, access_key, secret, None, service, region, signed_at)
}

fn signed_headers_with_token(
    body: &[u8],
    access_key: &str,
    secret: &str,
    token: Option<&str>,
    service: &str,
    region: &str,
    signed_at: i64,
) -> Vec<(String, String)> {
    let amz_date = sigv4::format_amz_date(signed_at);
    let mut headers = vec![
        ("content-type".to_string(), FORM.1.to_string()),
        ("host".to_string(), "localhost:4566".to_string()),
        ("x-amz-date".to_string(), amz_date.clone()),
    ];
    if let Some(t) = token {
        headers.push(("x-amz-security-token".to_string(), t.to_string()));
    }
    let scope = sigv4::Scope {
        access_key_id: access_key.into(),
        date: amz_date[..8].into(),
        region: region.into(),
        service: service.into(),
    };
    let signed: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let req = sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
    };
    let creq = sigv4::canonical_request(
        "POST",
        &sigv4::canonical_uri_normalized("/"),
        "",
        &sigv4::canonical_headers(&req, &signed),
        &signed,
        &hex::encode(Sha256::digest(body)),
    );
    let signature = sigv4::sign(
        secret,
        &scope,
        &sigv4::string_to_sign(&amz_date, &scope, &creq),
    );
    let mut out = headers;
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{}, SignedHeaders={}, Signature={signature}",
            scope.to_scope_string(),
            signed.join(";")
        ),
    ));
    out
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn as_refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

// --- routing -------------------------------------------------------------------------

#[tokio::test]
async fn query_request_reaches_the_provider_with_the_default_account() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = call(addr, "POST", "/", &[FORM], GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<Account>000000000000</Account>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<UserId>us-east-1</UserId>"), "{}", r.body);
}

#[tokio::test]
async fn twelve_digit_access_key_is_the_account_and_scope_gives_the_region() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let h = signed_headers(
        GET_CALLER_IDENTITY,
        "111122223333",
        "test",
        "sts",
        "eu-west-2",
        now_secs(),
    );
    let r = call(addr, "POST", "/", &as_refs(&h), GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<Account>111122223333</Account>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<UserId>eu-west-2</UserId>"), "{}", r.body);
    assert!(
        r.body.contains("arn:aws:iam::111122223333:root"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn unimplemented_operation_of_a_provided_service_is_not_implemented_in_xml() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s";
    let r = call(addr, "POST", "/", &[FORM], body).await;
    assert_eq!(r.status, 501, "{}", r.body);
    assert!(r.body.contains("<Code>NotImplemented</Code>"), "{}", r.body);
    assert!(r.body.contains("AssumeRole"), "{}", r.body);
}

#[tokio::test]
async fn service_without_provider_is_not_implemented_in_its_own_protocol() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00";
    let r = call(
        addr,
        "GET",
        "/2015-03-31/functions/",
        &[("authorization", auth)],
        b"",
    )
    .await;
    assert_eq!(r.status, 501, "{}", r.body);
    let in_header = r
        .header("x-amzn-errortype")
        .is_some_and(|v| v.starts_with("NotImplemented"));
    assert!(
        in_header || r.body.contains("NotImplemented"),
        "{:?} {}",
        r.headers,
        r.body
    );

    let r = call(
        addr,
        "POST",
        "/",
        &[
            ("x-amz-target", "DynamoDB_20120810.ListTables"),
            ("content-type", "application/x-amz-json-1.0"),
        ],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 501, "{}", r.body);
    assert!(r.body.contains("NotImplemented"), "{}", r.body);
}

#[tokio::test]
async fn disabled_service_answers_not_implemented() {
    let config = GatewayConfig {
        enabled_services: Some(["sqs".to_string()].into()),
        ..GatewayConfig::default()
    };
    let (addr, _) = start(config).await;
    let r = call(addr, "POST", "/", &[FORM], GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 501, "{}", r.body);
    assert!(r.body.contains("<Code>NotImplemented</Code>"), "{}", r.body);
}

#[tokio::test]
async fn panic_in_a_provider_is_an_internal_failure_and_the_connection_survives() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let mut conn = Conn::open(addr).await;
    let r = conn
        .call(
            "POST",
            "/",
            &[FORM],
            b"Action=GetSessionToken&Version=2011-06-15",
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("InternalFailure"), "{}", r.body);
    let r = conn.call("POST", "/", &[FORM], GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let mut conn = Conn::open(addr).await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..5 {
        let r = conn.call("POST", "/", &[FORM], GET_CALLER_IDENTITY).await;
        assert_eq!(r.status, 200);
        let start = r.body.find("<RequestId>").expect("request id in body") + "<RequestId>".len();
        let id = &r.body[start..start + 36];
        assert_eq!(id.len(), 36);
        ids.insert(id.to_string());
    }
    assert_eq!(ids.len(), 5, "every request gets its own request id");
}

#[tokio::test]
async fn expect_100_continue_is_honoured() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let mut conn = Conn::open(addr).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: localhost\r\ncontent-type: {}\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        FORM.1,
        GET_CALLER_IDENTITY.len()
    );
    conn.send(head.as_bytes()).await;
    let interim = conn.response().await;
    assert_eq!(interim.status, 100);
    conn.send(GET_CALLER_IDENTITY).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn h2c_with_prior_knowledge_is_served() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("http://{addr}/_kagami/health"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["services"]["sts"]["status"], "available");
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let config = GatewayConfig {
        max_body_bytes: 1024,
        ..GatewayConfig::default()
    };
    let (addr, _) = start(config).await;
    let body = vec![b'a'; 4096];
    let r = call(
        addr,
        "POST",
        "/",
        &[("x-amz-target", "AmazonSQS.SendMessage")],
        &body,
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("RequestEntityTooLarge"), "{}", r.body);
    // A body that is not read cannot name its service: nothing else marks it, so it is S3's.
    // (PutObject's body streams to the provider and has no gateway limit: PutBucketTagging.)
    let r = call(addr, "PUT", "/bucket?tagging", &[], &body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<Code>EntityTooLarge</Code>"), "{}", r.body);
}

// --- CORS ----------------------------------------------------------------------------

#[tokio::test]
async fn preflight_allows_the_origin_method_and_headers_asked_for() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = call(
        addr,
        "OPTIONS",
        "/",
        &[
            ("origin", "http://app.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,x-amz-date,x-amz-target",
            ),
        ],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization,x-amz-date,x-amz-target")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
}

#[tokio::test]
async fn every_response_carries_allow_origin_and_exposed_headers() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = call(
        addr,
        "POST",
        "/",
        &[FORM, ("origin", "http://app.example")],
        GET_CALLER_IDENTITY,
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("x-amzn-RequestId")
    );
    let r = call(addr, "GET", "/_kagami/health", &[], b"").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

// --- internal endpoints --------------------------------------------------------------

#[tokio::test]
async fn health_lists_every_model_service_with_its_coverage() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = call(addr, "GET", "/_kagami/health", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let h = r.json();
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert!(h["uptime_seconds"].is_u64());
    let services = h["services"].as_object().unwrap();
    assert_eq!(services.len(), kagami_model::SERVICES.len());
    assert_eq!(h["services"]["sts"]["implemented_operations"], 2);
    assert_eq!(h["services"]["sts"]["status"], "available");
    assert_eq!(h["services"]["sts"]["protocol"], "query");
    let lambda = kagami_model::service("lambda").unwrap();
    assert_eq!(h["services"]["lambda"]["implemented_operations"], 0);
    assert_eq!(
        h["services"]["lambda"]["total_operations"],
        lambda.operation_count
    );
    assert_eq!(h["services"]["lambda"]["status"], "not_implemented");
}

#[tokio::test]
async fn localstack_health_reports_provided_services_running() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let h = call(addr, "GET", "/_localstack/health", &[], b"")
        .await
        .json();
    assert_eq!(h["services"]["sts"], "running");
    assert_eq!(h["edition"], "community");
    assert!(h["version"].is_string());
}

#[tokio::test]
async fn reset_reaches_one_service_or_all() {
    let (addr, fake) = start(GatewayConfig::default()).await;
    let r = call(addr, "POST", "/_kagami/reset?service=sts", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["reset"], json!(["sts"]));
    assert_eq!(fake.resets.load(Ordering::SeqCst), 1);
    let r = call(addr, "POST", "/_kagami/reset?service=sqs", &[], b"").await;
    assert_eq!(r.json()["reset"], json!([]));
    assert_eq!(fake.resets.load(Ordering::SeqCst), 1);
    let r = call(addr, "POST", "/moto-api/reset", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(fake.resets.load(Ordering::SeqCst), 2);
    let r = call(addr, "POST", "/_kagami/reset?service=nosuch", &[], b"").await;
    assert_eq!(r.status, 400);
    let r = call(addr, "GET", "/_kagami/reset", &[], b"").await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn clock_advances_the_emulated_time() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let before = kagami_core::clock::now_millis();
    let r = call(
        addr,
        "POST",
        "/_kagami/clock",
        &[("content-type", "application/json")],
        br#"{"advance_seconds": 5}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let now = r.json()["epoch_millis"].as_i64().unwrap();
    assert!(now >= before + 5000, "{now} < {before} + 5000");
    assert!(r.json()["now"].as_str().unwrap().ends_with('Z'));
    let r = call(
        addr,
        "POST",
        "/_kagami/clock",
        &[],
        br#"{"advance_seconds": -1}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    let r = call(addr, "POST", "/_kagami/clock", &[], b"not json").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn service_internal_endpoints_are_routed_to_the_service() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = call(
        addr,
        "GET",
        "/_kagami/sts/ping?QueueUrl=http%3A%2F%2Fx",
        &[],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({ "pong": true, "query": ["QueueUrl=http://x"] })
    );
    assert_eq!(
        call(addr, "GET", "/_kagami/sts/nothing", &[], b"")
            .await
            .status,
        404
    );
    assert_eq!(
        call(addr, "GET", "/_kagami/nosuch/x", &[], b"")
            .await
            .status,
        404
    );
}

// --- SigV4 verification --------------------------------------------------------------

#[tokio::test]
async fn verification_accepts_a_correct_signature() {
    let (addr, _) = start(verifying()).await;
    let r = get_caller_identity(addr, "test", "test", now_secs()).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn verification_refuses_a_wrong_secret() {
    let (addr, _) = start(verifying()).await;
    let r = get_caller_identity(addr, "test", "not-test", now_secs()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(
            "The request signature we calculated does not match the signature you provided"
        )
    );
}

#[tokio::test]
async fn verification_refuses_an_unknown_key() {
    let (addr, _) = start(verifying()).await;
    let r = get_caller_identity(addr, "AKIAUNKNOWNKEY000000", "x", now_secs()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("<Code>InvalidClientTokenId</Code>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("The security token included in the request is invalid."),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn verification_refuses_a_skewed_clock() {
    let (addr, _) = start(verifying()).await;
    let r = get_caller_identity(addr, "test", "test", now_secs() - 3600).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("<Code>RequestTimeTooSkewed</Code>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn verification_refuses_unsigned_requests_but_not_anonymous_operations() {
    let (addr, _) = start(verifying()).await;
    let r = call(addr, "POST", "/", &[FORM], GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{}",
        r.body
    );
    let body = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s&WebIdentityToken=t";
    let r = call(addr, "POST", "/", &[FORM], body).await;
    assert_eq!(
        r.status, 501,
        "anonymous operation passes auth and reaches NotImplemented: {}",
        r.body
    );
}

#[tokio::test]
async fn without_verification_a_wrong_signature_is_accepted() {
    let (addr, _) = start(GatewayConfig::default()).await;
    let r = get_caller_identity(addr, "test", "not-test", now_secs() - 3600).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

fn issued(key: &str, expires_at_millis: i64) -> Credential {
    Credential {
        access_key_id: key.into(),
        secret_access_key: "issued-secret".into(),
        session_token: Some("issued-token".into()),
        account_id: "123456789012".into(),
        principal: StoredPrincipal::AssumedRole {
            arn: "arn:aws:sts::123456789012:assumed-role/r/sess".into(),
            role_id: "AROAEXAMPLE".into(),
            session_name: "sess".into(),
        },
        expires_at_millis: Some(expires_at_millis),
    }
}

#[tokio::test]
async fn issued_credentials_act_as_their_principal_until_they_expire() {
    let env = ServiceEnv::ephemeral();
    let now = kagami_core::clock::now_millis();
    env.identities
        .insert(issued("ASIAVALID0000000001", now + 3_600_000))
        .await
        .unwrap();
    env.identities
        .insert(issued("ASIAEXPIRED00000001", now - 1))
        .await
        .unwrap();
    let (addr, _) = start_with(verifying(), env).await;
    let sign = |key: &str, token: Option<&str>| {
        signed_headers_with_token(
            GET_CALLER_IDENTITY,
            key,
            "issued-secret",
            token,
            "sts",
            "us-east-1",
            now_secs(),
        )
    };

    let h = sign("ASIAVALID0000000001", Some("issued-token"));
    let r = call(addr, "POST", "/", &as_refs(&h), GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<Account>123456789012</Account>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("arn:aws:sts::123456789012:assumed-role/r/sess"),
        "{}",
        r.body
    );

    let h = sign("ASIAVALID0000000001", Some("another-token"));
    let r = call(addr, "POST", "/", &as_refs(&h), GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("<Code>InvalidClientTokenId</Code>"),
        "{}",
        r.body
    );

    let h = sign("ASIAEXPIRED00000001", Some("issued-token"));
    let r = call(addr, "POST", "/", &as_refs(&h), GET_CALLER_IDENTITY).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("<Code>ExpiredToken</Code>"), "{}", r.body);
    assert!(
        r.body
            .contains("The security token included in the request is expired"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn query_compatible_json_service_carries_the_classic_code() {
    let (addr, _) = start(verifying()).await;
    let body = br#"{}"#;
    let amz_date = sigv4::format_amz_date(now_secs());
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY0000000/{}/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        &amz_date[..8]
    );
    let r = call(
        addr,
        "POST",
        "/",
        &[
            ("x-amz-target", "AmazonSQS.ListQueues"),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-date", &amz_date),
            ("authorization", &auth),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("UnrecognizedClientException"), "{}", r.body);
    assert!(
        r.header("x-amzn-query-error")
            .is_some_and(|v| v.starts_with("InvalidClientTokenId")),
        "{:?}",
        r.headers
    );
}
