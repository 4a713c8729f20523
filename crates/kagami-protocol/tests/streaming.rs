//! Streaming payloads in the engine, against the embedded S3 model: which operations
//! stream, how a streamed request is parsed from its head, and how a streamed output is
//! serialized.

#![allow(clippy::result_large_err)]

use bytes::Bytes;
use kagami_model::ServiceModel;
use kagami_protocol::{ByteStream, FromValue, Protocol, RequestParts, Value};

fn model(name: &str) -> &'static ServiceModel {
    kagami_model::service(name).unwrap_or_else(|| panic!("no model {name}")).model()
}

#[test]
fn only_blob_payloads_marked_streaming_stream() {
    let s3 = model("s3");
    let op = |name: &str| &s3.operations[name];
    assert_eq!(kagami_protocol::streaming_input_member(s3, op("PutObject")), Some("Body"));
    assert_eq!(kagami_protocol::streaming_input_member(s3, op("UploadPart")), Some("Body"));
    assert_eq!(kagami_protocol::streaming_output_member(s3, op("GetObject")), Some("Body"));
    assert_eq!(kagami_protocol::streaming_input_member(s3, op("GetObject")), None);
    assert_eq!(kagami_protocol::streaming_input_member(s3, op("PutBucketTagging")), None, "an XML payload");
    assert_eq!(kagami_protocol::streaming_output_member(s3, op("HeadObject")), None);
    let lambda = model("lambda");
    assert_eq!(
        kagami_protocol::streaming_input_member(lambda, &lambda.operations["Invoke"]),
        None,
        "Invoke's payload is a plain blob"
    );
    let sqs = model("sqs");
    assert!(sqs.operations.values().all(|o| kagami_protocol::streaming_input_member(sqs, o).is_none()));
}

#[tokio::test]
async fn a_streamed_put_object_binds_its_head_and_carries_the_body_as_a_stream() {
    let s3 = model("s3");
    let op = &s3.operations["PutObject"];
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "text/plain".parse().unwrap());
    headers.insert("x-amz-meta-color", "blue".parse().unwrap());
    let parts = RequestParts {
        method: &http::Method::PUT,
        path: "/bucket/dir/key.txt",
        query: "",
        headers: &headers,
        body: b"ignored: the body is the stream",
    };
    let body = ByteStream::from_bytes("hello, stream");
    let input = kagami_protocol::parse_request_streaming(s3, Protocol::RestXml, op, &parts, body).unwrap();
    assert_eq!(input.get("Bucket").and_then(Value::as_str), Some("bucket"));
    assert_eq!(input.get("Key").and_then(Value::as_str), Some("dir/key.txt"));
    assert_eq!(input.get("ContentType").and_then(Value::as_str), Some("text/plain"));
    assert_eq!(input.get("Metadata").and_then(|m| m.get("color")).and_then(Value::as_str), Some("blue"));
    let Some(Value::Stream(slot)) = input.get("Body") else { panic!("Body is {:?}", input.get("Body")) };
    assert_eq!(slot.content_length(), Some(13));
    // A clone of the input shares the one stream; the typed layer takes it out.
    let copy = input.clone();
    let mut stream = ByteStream::from_value(input.get("Body").cloned().unwrap()).unwrap();
    assert_eq!(stream.next_chunk().await.unwrap().unwrap(), "hello, stream");
    assert!(ByteStream::from_value(copy.get("Body").cloned().unwrap()).is_err(), "a stream is consumed once");
    assert_eq!(
        ByteStream::from_value(Value::Blob(Bytes::from_static(b"in-process"))).unwrap().collect(100).await.unwrap(),
        "in-process",
        "a blob passed in-process becomes a one-chunk stream"
    );
}

#[tokio::test]
async fn a_streamed_get_object_output_leaves_the_body_to_the_http_layer() {
    let s3 = model("s3");
    let op = &s3.operations["GetObject"];
    let mut out = Value::map();
    out.insert("Body", Value::from(ByteStream::from_bytes("0123456789")));
    out.insert("ContentType", Value::from("text/plain"));
    let r = kagami_protocol::serialize_response(s3, Protocol::RestXml, op, &out, "rid");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty(), "no bytes are copied into the response");
    assert_eq!(r.header("Content-Length"), Some("10"), "the stream's declared length");
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    let stream = r.stream.as_ref().and_then(|s| s.take()).expect("the body streams");
    assert_eq!(stream.collect(100).await.unwrap(), "0123456789");

    // The provider's ContentLength member is the header, once.
    let mut out = Value::map();
    out.insert(
        "Body",
        Value::from(ByteStream::unfold(false, |done| async move {
            (!done).then(|| Ok::<_, std::convert::Infallible>((Bytes::from_static(b"abc"), true)))
        })),
    );
    out.insert("ContentLength", Value::Int(3));
    let r = kagami_protocol::serialize_response(s3, Protocol::RestXml, op, &out, "rid");
    let lengths: Vec<&str> =
        r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.as_str()).collect();
    assert_eq!(lengths, vec!["3"]);
    assert!(r.stream.is_some());
}
