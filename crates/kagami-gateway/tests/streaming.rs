//! Streaming payloads end to end over real sockets, with a fake provider for the real
//! `s3` model: PutObject reads its body chunk by chunk while the client is still
//! sending it, GetObject answers with a generated body sent as it is produced, and
//! operations without a streaming payload still get their body parsed whole.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, Value};
use kagami_gateway::{Gateway, GatewayConfig};
use kagami_protocol::ByteStream;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const MIB: usize = 1024 * 1024;
const OBJECT_SIZE: usize = 64 * MIB;

/// The byte at `offset` of every generated object: a pattern that a dropped, repeated
/// or reordered chunk breaks.
fn pattern(offset: usize, len: usize) -> Bytes {
    (offset..offset + len).map(|p| (p % 251) as u8).collect()
}

/// What PutObject saw of its body.
#[derive(Debug, Clone, PartialEq)]
struct Upload {
    key: String,
    bytes: u64,
    chunks: u64,
    declared_length: Option<u64>,
    content_type: Option<String>,
    color: Option<String>,
}

struct FakeS3 {
    /// The size of each upload's first chunk, sent the moment it arrives.
    first_chunk: mpsc::UnboundedSender<usize>,
    uploads: Mutex<Vec<Upload>>,
    /// Inputs of the operations without a streaming payload.
    parsed: Mutex<Vec<Value>>,
}

impl FakeS3 {
    async fn put_object(&self, input: Value) -> Result<Value, ServiceError> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        if input.get("Bucket").and_then(Value::as_str) == Some("refuse") {
            return Err(ServiceError::new("AccessDenied", 403, "Access Denied"));
        }
        let mut body = input
            .get("Body")
            .and_then(Value::take_stream)
            .ok_or_else(|| ServiceError::new("InvalidRequest", 400, "Body is not a stream"))?;
        let mut upload = Upload {
            key: text(input.get("Key")).unwrap_or_default(),
            bytes: 0,
            chunks: 0,
            declared_length: body.content_length(),
            content_type: text(input.get("ContentType")),
            color: text(input.get("Metadata").and_then(|m| m.get("color"))),
        };
        while let Some(chunk) = body.next_chunk().await {
            let chunk =
                chunk.map_err(|e| ServiceError::new("IncompleteBody", 400, e.to_string()))?;
            let expected = pattern(upload.bytes as usize, chunk.len());
            if chunk != expected {
                return Err(ServiceError::new(
                    "BadDigest",
                    400,
                    format!("bytes differ after {}", upload.bytes),
                ));
            }
            if upload.chunks == 0 {
                let _ = self.first_chunk.send(chunk.len());
            }
            upload.bytes += chunk.len() as u64;
            upload.chunks += 1;
        }
        let etag = format!("\"{}\"", upload.bytes);
        self.uploads.lock().unwrap().push(upload);
        let mut out = Value::map();
        out.insert("ETag", Value::from(etag));
        Ok(out)
    }

    fn get_object(&self, input: &Value) -> Value {
        let sized = input.get("Key").and_then(Value::as_str) == Some("sized");
        let body = ByteStream::unfold(0usize, |offset| async move {
            (offset < OBJECT_SIZE).then(|| {
                let n = MIB.min(OBJECT_SIZE - offset);
                Ok::<_, Infallible>((pattern(offset, n), offset + n))
            })
        });
        let mut out = Value::map();
        out.insert("Body", Value::from(body));
        out.insert("ContentType", Value::from("application/octet-stream"));
        if sized {
            out.insert("ContentLength", Value::Int(OBJECT_SIZE as i64));
        }
        out
    }
}

impl Service for FakeS3 {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        &["PutObject", "GetObject", "PutBucketTagging"]
    }

    fn handle<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(async move {
            match operation {
                "PutObject" => self.put_object(input).await,
                "GetObject" => Ok(self.get_object(&input)),
                _ => {
                    self.parsed.lock().unwrap().push(input);
                    Ok(Value::map())
                }
            }
        })
    }

    fn reset(&self) {}
}

async fn start() -> (SocketAddr, Arc<FakeS3>, mpsc::UnboundedReceiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let fake = Arc::new(FakeS3 {
        first_chunk: tx,
        uploads: Mutex::default(),
        parsed: Mutex::default(),
    });
    let services: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let gateway = Arc::new(Gateway::new(
        GatewayConfig::default(),
        ServiceEnv::ephemeral(),
        services,
    ));
    tokio::spawn(kagami_gateway::serve(
        listener,
        gateway,
        std::future::pending(),
    ));
    (addr, fake, rx)
}

// --- a raw HTTP/1.1 client, to control when each byte is sent --------------------------

mod common;

use common::Conn;

impl Conn {
    async fn send_pattern(&mut self, from: usize, to: usize) {
        for offset in (from..to).step_by(MIB) {
            self.send(&pattern(offset, MIB.min(to - offset))).await;
        }
    }
}

fn put_head(path: &str, length: usize, extra: &str) -> String {
    format!(
        "PUT {path} HTTP/1.1\r\nhost: localhost:4566\r\ncontent-type: application/octet-stream\r\n\
         x-amz-meta-color: blue\r\ncontent-length: {length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn put_object_body_reaches_the_provider_chunk_by_chunk_while_it_is_sent() {
    let (addr, fake, mut first_chunk) = start().await;
    let mut conn = Conn::open(addr).await;
    conn.send(put_head("/bucket/big", OBJECT_SIZE, "").as_bytes())
        .await;
    conn.send_pattern(0, OBJECT_SIZE / 2).await;
    // Had the gateway collected the body, the provider would run only after the whole
    // object arrived, and the second half is not sent until it has run.
    let first = tokio::time::timeout(Duration::from_secs(20), first_chunk.recv())
        .await
        .expect("the provider saw no chunk before the client finished sending")
        .unwrap();
    assert!(
        first > 0 && first < OBJECT_SIZE / 2,
        "first chunk of {first} bytes"
    );
    conn.send_pattern(OBJECT_SIZE / 2, OBJECT_SIZE).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{OBJECT_SIZE}\"").as_str())
    );
    let uploads = fake.uploads.lock().unwrap().clone();
    let [upload] = uploads.as_slice() else {
        panic!("one upload expected: {uploads:?}")
    };
    assert_eq!(upload.key, "big");
    assert_eq!(upload.bytes, OBJECT_SIZE as u64, "every byte arrives");
    assert!(
        upload.chunks > 1,
        "the body came in {} chunk(s)",
        upload.chunks
    );
    assert_eq!(
        upload.declared_length,
        Some(OBJECT_SIZE as u64),
        "Content-Length is the stream's length"
    );
    assert_eq!(
        upload.content_type.as_deref(),
        Some("application/octet-stream"),
        "headers bind as before"
    );
    assert_eq!(
        upload.color.as_deref(),
        Some("blue"),
        "x-amz-meta-* headers bind as before"
    );
}

#[tokio::test]
async fn get_object_streams_a_generated_body_with_its_content_length() {
    let (addr, _, _rx) = start().await;
    for (key, sized) in [("sized", true), ("unsized", false)] {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get(format!("http://{addr}/bucket/{key}"))
            .header("host", "localhost:4566")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if sized {
            assert_eq!(
                header("content-length"),
                Some(OBJECT_SIZE.to_string()),
                "the provider's ContentLength"
            );
        } else {
            assert_eq!(header("content-length"), None, "no length is invented");
            assert_eq!(header("transfer-encoding").as_deref(), Some("chunked"));
        }
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/octet-stream")
        );
        let mut body = resp.into_body();
        let mut received = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.unwrap().into_data() else {
                continue;
            };
            assert_eq!(
                data,
                pattern(received, data.len()),
                "bytes at {received} of {key}"
            );
            received += data.len();
        }
        assert_eq!(received, OBJECT_SIZE, "the whole {key} body arrives");
    }
}

#[tokio::test]
async fn operations_without_a_streaming_payload_still_get_their_body_parsed() {
    let (addr, fake, _rx) = start().await;
    let xml = "<Tagging><TagSet><Tag><Key>team</Key><Value>core</Value></Tag></TagSet></Tagging>";
    let mut conn = Conn::open(addr).await;
    let head = format!(
        "PUT /bucket?tagging HTTP/1.1\r\nhost: localhost:4566\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n",
        xml.len()
    );
    conn.send(head.as_bytes()).await;
    conn.send(xml.as_bytes()).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200, "{}", r.body);
    let parsed = fake.parsed.lock().unwrap().clone();
    let [input] = parsed.as_slice() else {
        panic!("one input expected: {parsed:?}")
    };
    assert_eq!(input.get("Bucket").and_then(Value::as_str), Some("bucket"));
    let tag = input
        .get("Tagging")
        .and_then(|t| t.get("TagSet"))
        .and_then(Value::as_list)
        .and_then(|l| l.first());
    assert_eq!(
        tag.and_then(|t| t.get("Key")).and_then(Value::as_str),
        Some("team")
    );
    assert_eq!(
        tag.and_then(|t| t.get("Value")).and_then(Value::as_str),
        Some("core")
    );
}

#[tokio::test]
async fn expect_100_continue_is_answered_when_the_provider_reads_the_body() {
    let (addr, fake, _rx) = start().await;
    let body = pattern(0, 1000);
    let mut conn = Conn::open(addr).await;
    conn.send(put_head("/bucket/small", body.len(), "expect: 100-continue\r\n").as_bytes())
        .await;
    let interim = conn.response().await;
    assert_eq!(interim.status, 100, "the provider asked for the body");
    conn.send(&body).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"1000\""));
    assert_eq!(fake.uploads.lock().unwrap()[0].bytes, 1000);

    // A provider that refuses without reading: the client hears the answer at once and
    // never has to send the body.
    let mut conn = Conn::open(addr).await;
    conn.send(put_head("/refuse/small", body.len(), "expect: 100-continue\r\n").as_bytes())
        .await;
    let r = conn.response().await;
    assert_eq!(
        r.status, 403,
        "the final answer comes without 100 Continue: {}",
        r.body
    );
    assert!(r.body.contains("<Code>AccessDenied</Code>"), "{}", r.body);
}

#[tokio::test]
async fn put_object_streams_over_h2c_under_flow_control() {
    let (addr, fake, _rx) = start().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    // Larger than any HTTP/2 window: it arrives only as fast as the provider reads it.
    let size = 8 * MIB;
    let req = http::Request::put(format!("http://{addr}/bucket/h2"))
        .header("content-length", size)
        .body(Full::new(pattern(0, size)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let uploads = fake.uploads.lock().unwrap().clone();
    let [upload] = uploads.as_slice() else {
        panic!("one upload expected: {uploads:?}")
    };
    assert_eq!((upload.key.as_str(), upload.bytes), ("h2", size as u64));
    assert!(
        upload.chunks > 1,
        "the body came in {} chunk(s)",
        upload.chunks
    );
}
