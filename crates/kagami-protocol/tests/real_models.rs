//! The engine against the embedded botocore models of the services kagami serves
//! first: what SDKs send to SQS (JSON and legacy query), STS and S3, and what they get.

#![allow(clippy::result_large_err)]

use indexmap::IndexMap;
use kagami_model::ServiceModel;
use kagami_protocol::{Protocol, RequestParts, ServiceError, Timestamp, Value};

fn model(name: &str) -> &'static ServiceModel {
    kagami_model::service(name).unwrap_or_else(|| panic!("no model {name}")).model()
}

fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    h
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<IndexMap<_, _>>())
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

struct Request {
    method: http::Method,
    path: &'static str,
    query: &'static str,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Request {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: self.path,
            query: self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// Detect, resolve and parse, as the gateway does.
    fn parse(&self, model: &ServiceModel) -> Result<(Protocol, String, Value), ServiceError> {
        let parts = self.parts();
        let protocol = kagami_protocol::detect_protocol(model, &parts);
        let op = kagami_protocol::resolve_operation(model, protocol, &parts)?;
        let input = kagami_protocol::parse_request(model, protocol, op, &parts)?;
        Ok((protocol, op.name.clone(), input))
    }
}

fn post(headers_: http::HeaderMap, body: &str) -> Request {
    Request { method: http::Method::POST, path: "/", query: "", headers: headers_, body: body.as_bytes().to_vec() }
}

#[test]
fn sqs_send_message_reads_the_same_from_json_and_from_a_legacy_query_form() {
    let sqs = model("sqs");
    let json = post(
        headers(&[("x-amz-target", "AmazonSQS.SendMessage"), ("content-type", "application/x-amz-json-1.0")]),
        r#"{"QueueUrl":"http://localhost:4566/000000000000/q","MessageBody":"hello","DelaySeconds":5,
            "MessageAttributes":{"color":{"DataType":"String","StringValue":"red"}}}"#,
    );
    let (protocol, op, from_json) = json.parse(sqs).unwrap();
    assert_eq!((protocol, op.as_str()), (Protocol::Json, "SendMessage"));
    let query = post(
        headers(&[("content-type", "application/x-www-form-urlencoded")]),
        "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Fq&MessageBody=hello\
         &DelaySeconds=5&MessageAttribute.1.Name=color&MessageAttribute.1.Value.DataType=String\
         &MessageAttribute.1.Value.StringValue=red",
    );
    let (protocol, op, from_query) = query.parse(sqs).unwrap();
    assert_eq!((protocol, op.as_str()), (Protocol::Query, "SendMessage"));
    assert_eq!(from_json, from_query);
    let attr = from_json.get("MessageAttributes").and_then(|m| m.get("color")).unwrap();
    assert_eq!(attr.get("StringValue"), Some(&s("red")));
    assert_eq!(from_json.get("DelaySeconds"), Some(&Value::Int(5)));
}

#[test]
fn sqs_legacy_query_lists_and_maps_use_the_2012_names() {
    let sqs = model("sqs");
    let req = post(
        headers(&[("content-type", "application/x-www-form-urlencoded")]),
        "Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40\
         &Attribute.2.Name=DelaySeconds&Attribute.2.Value=1&Tag.1.Key=team&Tag.1.Value=core",
    );
    let (_, _, v) = req.parse(sqs).unwrap();
    assert_eq!(v.get("Attributes").and_then(|a| a.get("VisibilityTimeout")), Some(&s("40")));
    assert_eq!(v.get("Attributes").and_then(|a| a.get("DelaySeconds")), Some(&s("1")));
    assert_eq!(v.get("tags").and_then(|a| a.get("team")), Some(&s("core")));

    let req = post(
        headers(&[("content-type", "application/x-www-form-urlencoded")]),
        "Action=ReceiveMessage&QueueUrl=q&AttributeName.1=All&MessageAttributeName.1=color&MaxNumberOfMessages=10",
    );
    let (_, _, v) = req.parse(sqs).unwrap();
    assert_eq!(v.get("AttributeNames"), Some(&Value::List(vec![s("All")])));
    assert_eq!(v.get("MessageAttributeNames"), Some(&Value::List(vec![s("color")])));

    let req = post(
        headers(&[("content-type", "application/x-www-form-urlencoded")]),
        "Action=DeleteMessageBatch&QueueUrl=q&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=r1\
         &DeleteMessageBatchRequestEntry.2.Id=b&DeleteMessageBatchRequestEntry.2.ReceiptHandle=r2",
    );
    let (_, _, v) = req.parse(sqs).unwrap();
    let entries = v.get("Entries").and_then(Value::as_list).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].get("ReceiptHandle"), Some(&s("r2")));
}

#[test]
fn sqs_query_responses_and_errors_look_like_the_2012_api() {
    let sqs = model("sqs");
    let op = &sqs.operations["ReceiveMessage"];
    let message = map(vec![
        ("MessageId", s("m-1")),
        ("Body", s("hello")),
        ("Attributes", map(vec![("SenderId", s("000000000000"))])),
        ("MessageAttributes", map(vec![("color", map(vec![("DataType", s("String")), ("StringValue", s("red"))]))])),
    ]);
    let out = map(vec![("Messages", Value::List(vec![message]))]);
    let r = kagami_protocol::serialize_response(sqs, Protocol::Query, op, &out, "rid");
    let body = std::str::from_utf8(&r.body).unwrap();
    assert_eq!(
        body,
        "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ReceiveMessageResult>\
         <Message><MessageId>m-1</MessageId><Body>hello</Body>\
         <Attribute><Name>SenderId</Name><Value>000000000000</Value></Attribute>\
         <MessageAttribute><Name>color</Name><Value><StringValue>red</StringValue><DataType>String</DataType></Value></MessageAttribute>\
         </Message></ReceiveMessageResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
    );

    let err = ServiceError::new("QueueDoesNotExist", 400, "The specified queue does not exist.")
        .with_query_code("AWS.SimpleQueueService.NonExistentQueue");
    let r = kagami_protocol::serialize_error(sqs, Protocol::Query, Some(op), &err, "rid");
    assert!(std::str::from_utf8(&r.body).unwrap().contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
    let r = kagami_protocol::serialize_error(sqs, Protocol::Json, Some(op), &err, "rid");
    assert_eq!(r.header("x-amzn-query-error"), Some("AWS.SimpleQueueService.NonExistentQueue;Sender"));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    assert_eq!(r.header("x-amzn-RequestId"), Some("rid"));
}

#[test]
fn sts_query_requests_and_responses() {
    let sts = model("sts");
    let req = Request {
        method: http::Method::GET,
        path: "/",
        query: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s\
                &DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v",
        headers: http::HeaderMap::new(),
        body: Vec::new(),
    };
    let (protocol, op, v) = req.parse(sts).unwrap();
    assert_eq!((protocol, op.as_str()), (Protocol::Query, "AssumeRole"));
    assert_eq!(v.get("RoleArn"), Some(&s("arn:aws:iam::000000000000:role/r")));
    assert_eq!(v.get("DurationSeconds"), Some(&Value::Int(900)));
    assert_eq!(
        v.get("Tags").and_then(Value::as_list).and_then(|t| t.first()).and_then(|t| t.get("Key")),
        Some(&s("k"))
    );

    let creds = map(vec![
        ("AccessKeyId", s("ASIA")),
        ("SecretAccessKey", s("secret")),
        ("SessionToken", s("token")),
        ("Expiration", Value::Timestamp(Timestamp::from_secs(1_700_000_000))),
    ]);
    let out = map(vec![("Credentials", creds)]);
    let r = kagami_protocol::serialize_response(sts, Protocol::Query, &sts.operations["AssumeRole"], &out, "rid");
    let body = std::str::from_utf8(&r.body).unwrap();
    assert!(body.starts_with(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
    ));
    assert!(body.contains("<Expiration>2023-11-14T22:13:20Z</Expiration>"));

    let bad = Request { query: "Action=AssumeRole&DurationSeconds=soon", ..req };
    let e = bad.parse(sts).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("InvalidParameterValue", 400));
    let unknown =
        post(headers(&[("content-type", "application/x-www-form-urlencoded")]), "Action=Nope&Version=2011-06-15");
    let e = unknown.parse(sts).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("InvalidAction", 400));
}

fn s3_request(
    method: &str,
    path: &'static str,
    query: &'static str,
    hs: &[(&'static str, &str)],
    body: &[u8],
) -> Request {
    Request { method: method.parse().unwrap(), path, query, headers: headers(hs), body: body.to_vec() }
}

#[test]
fn s3_operations_that_require_a_checksum_say_whether_the_request_has_one() {
    let s3 = model("s3");
    let body = b"<Delete><Object><Key>k</Key></Object></Delete>";
    let integrity = |hs: &[(&'static str, &str)]| {
        let (_, op, v) = s3_request("POST", "/b", "delete", hs, body).parse(s3).unwrap();
        assert_eq!(op, "DeleteObjects");
        v.get(kagami_protocol::INTEGRITY_MEMBER).cloned()
    };
    assert_eq!(integrity(&[]), Some(Value::Bool(false)));
    assert_eq!(integrity(&[("content-md5", "x")]), Some(Value::Bool(true)));
    assert_eq!(integrity(&[("x-amz-checksum-crc32", "x")]), Some(Value::Bool(true)));
    // Operations without the requirement carry no such member.
    let (_, _, v) = s3_request("GET", "/b", "", &[], b"").parse(s3).unwrap();
    assert_eq!(v.get(kagami_protocol::INTEGRITY_MEMBER), None);
}

#[test]
fn s3_requests_route_to_the_operation_the_sdk_meant() {
    let s3 = model("s3");
    type Case<'a> = (&'a str, &'static str, &'static str, &'a [(&'static str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("GET", "/", "", &[], "ListBuckets"),
        ("PUT", "/b", "", &[], "CreateBucket"),
        ("HEAD", "/b", "", &[], "HeadBucket"),
        ("DELETE", "/b", "", &[], "DeleteBucket"),
        ("GET", "/b", "", &[], "ListObjects"),
        ("GET", "/b", "list-type=2&prefix=a%2Fb", &[], "ListObjectsV2"),
        ("GET", "/b", "location", &[], "GetBucketLocation"),
        ("PUT", "/b", "versioning", &[], "PutBucketVersioning"),
        ("POST", "/b", "delete", &[], "DeleteObjects"),
        ("GET", "/b", "uploads", &[], "ListMultipartUploads"),
        ("PUT", "/b/dir/key.txt", "", &[], "PutObject"),
        ("PUT", "/b/k", "", &[("x-amz-copy-source", "/src/k")], "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", &[], "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", &[("x-amz-copy-source", "/src/k")], "UploadPartCopy"),
        ("POST", "/b/k", "uploads", &[], "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", &[], "CompleteMultipartUpload"),
        ("DELETE", "/b/k", "uploadId=u", &[], "AbortMultipartUpload"),
        ("GET", "/b/k", "uploadId=u", &[], "ListParts"),
        ("GET", "/b/k", "", &[], "GetObject"),
        ("HEAD", "/b/k", "", &[], "HeadObject"),
        ("DELETE", "/b/k", "", &[], "DeleteObject"),
        ("GET", "/b/k", "tagging", &[], "GetObjectTagging"),
        ("GET", "/b/k", "x-id=GetObject", &[], "GetObject"),
    ];
    for (method, path, query, hs, want) in cases {
        let req = s3_request(method, path, query, hs, b"");
        let parts = req.parts();
        assert_eq!(kagami_protocol::detect_protocol(s3, &parts), Protocol::RestXml);
        let op = kagami_protocol::resolve_operation(s3, Protocol::RestXml, &parts).map(|op| op.name.as_str());
        assert_eq!(op, Ok(*want), "{method} {path}?{query}");
    }
}

#[test]
fn s3_put_object_binds_labels_headers_metadata_and_body() {
    let s3 = model("s3");
    let req = s3_request(
        "PUT",
        "/bucket/photos/2024/a%20b%2Bc.jpg",
        "",
        &[
            ("content-type", "image/jpeg"),
            ("x-amz-meta-Owner", "ann"),
            ("content-length", "3"),
            ("x-amz-tagging", "a=b"),
        ],
        b"\x00\x01\x02",
    );
    let (_, op, v) = req.parse(s3).unwrap();
    assert_eq!(op, "PutObject");
    assert_eq!(v.get("Bucket"), Some(&s("bucket")));
    // Labels are percent-decoded, `+` stays a plus in a path.
    assert_eq!(v.get("Key"), Some(&s("photos/2024/a b+c.jpg")));
    assert_eq!(v.get("ContentType"), Some(&s("image/jpeg")));
    assert_eq!(v.get("ContentLength"), Some(&Value::Int(3)));
    assert_eq!(v.get("Metadata").and_then(|m| m.get("owner")), Some(&s("ann")));
    assert_eq!(v.get("Body"), Some(&Value::Blob(bytes::Bytes::from_static(b"\x00\x01\x02"))));

    let bad = s3_request("PUT", "/bucket/k", "", &[("content-length", "three")], b"");
    let e = bad.parse(s3).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("InvalidArgument", 400));
    let bad = s3_request("POST", "/bucket", "delete", &[], b"<Delete><Object><Key>k</Key></Object>");
    let e = bad.parse(s3).unwrap_err();
    assert_eq!((e.code.as_str(), e.status), ("MalformedXML", 400));
}

#[test]
fn s3_responses_use_the_s3_root_names_namespace_and_bare_errors() {
    let s3 = model("s3");
    let op = &s3.operations["ListObjectsV2"];
    let out = map(vec![
        ("Name", s("b")),
        ("KeyCount", Value::Int(1)),
        ("IsTruncated", Value::Bool(false)),
        (
            "Contents",
            Value::List(vec![map(vec![
                ("Key", s("a&b")),
                ("LastModified", Value::Timestamp(Timestamp::from_millis(1_700_000_000_123))),
                ("Size", Value::Int(3)),
            ])]),
        ),
    ]);
    let r = kagami_protocol::serialize_response(s3, Protocol::RestXml, op, &out, "rid");
    let body = std::str::from_utf8(&r.body).unwrap();
    assert!(body.contains("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"), "{body}");
    assert!(
        body.contains(
            "<Contents><Key>a&amp;b</Key><LastModified>2023-11-14T22:13:20.123Z</LastModified><Size>3</Size></Contents>"
        ),
        "{body}"
    );
    assert_eq!(r.header("x-amz-request-id"), Some("rid"));
    assert_eq!(r.header("content-type"), Some("application/xml"));

    let loc = kagami_protocol::serialize_response(
        s3,
        Protocol::RestXml,
        &s3.operations["GetBucketLocation"],
        &map(vec![("LocationConstraint", s("eu-west-1"))]),
        "rid",
    );
    assert!(std::str::from_utf8(&loc.body).unwrap().ends_with(
        "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>"
    ));

    let get = kagami_protocol::serialize_response(
        s3,
        Protocol::RestXml,
        &s3.operations["GetObject"],
        &map(vec![
            ("Body", Value::Blob(bytes::Bytes::from_static(b"data"))),
            ("ContentType", s("text/plain")),
            ("ETag", s("\"abc\"")),
            ("Metadata", map(vec![("owner", s("ann"))])),
            ("LastModified", Value::Timestamp(Timestamp::from_secs(1_398_796_238))),
        ]),
        "rid",
    );
    assert_eq!(&get.body[..], b"data");
    assert_eq!(get.header("content-type"), Some("text/plain"));
    assert_eq!(get.header("x-amz-meta-owner"), Some("ann"));
    assert_eq!(get.header("last-modified"), Some("Tue, 29 Apr 2014 18:30:38 GMT"));

    let err = ServiceError::new("NoSuchKey", 404, "The specified key does not exist.").with_field("Key", "k");
    let r = kagami_protocol::serialize_error(s3, Protocol::RestXml, Some(&s3.operations["GetObject"]), &err, "rid");
    assert_eq!(r.status, 404);
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>\
         <Key>k</Key><RequestId>rid</RequestId><HostId>cmlk</HostId></Error>"
    );
}

#[test]
fn every_embedded_operation_serializes_an_empty_output_and_error_without_panicking() {
    for entry in kagami_model::SERVICES {
        let m = entry.model();
        let protocol = Protocol::of_model(m);
        for op in m.operations.values() {
            let r = kagami_protocol::serialize_response(m, protocol, op, &Value::map(), "rid");
            assert!(r.status >= 200 && r.status < 300, "{} {}", entry.name, op.name);
            let err = ServiceError::new("ValidationException", 400, "bad");
            let e = kagami_protocol::serialize_error(m, protocol, Some(op), &err, "rid");
            assert_eq!(e.status, 400);
        }
    }
}

/// The per-request cost of the protocol layer for SQS's hottest call. Run with
/// `cargo test --release -p kagami-protocol --test real_models -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn sqs_send_message_protocol_cost() {
    let sqs = model("sqs");
    let req = post(
        headers(&[("x-amz-target", "AmazonSQS.SendMessage"), ("content-type", "application/x-amz-json-1.0")]),
        r#"{"QueueUrl":"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/orders","MessageBody":"{\"order\":12345,\"items\":[1,2,3]}","DelaySeconds":0,"MessageAttributes":{"kind":{"DataType":"String","StringValue":"created"}}}"#,
    );
    let out = map(vec![
        ("MD5OfMessageBody", s("6d1a3a3c3f6e5c2b1f0e9d8c7b6a5948")),
        ("MD5OfMessageAttributes", s("0a1b2c3d4e5f60718293a4b5c6d7e8f9")),
        ("MessageId", s("5fea7756-0ea4-451a-a703-a558b933e274")),
    ]);
    let n = 100_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let parts = req.parts();
        let protocol = kagami_protocol::detect_protocol(sqs, &parts);
        let op = kagami_protocol::resolve_operation(sqs, protocol, &parts).unwrap();
        let input = kagami_protocol::parse_request(sqs, protocol, op, &parts).unwrap();
        std::hint::black_box(&input);
        let r = kagami_protocol::serialize_response(sqs, protocol, op, &out, "5fea7756-0ea4-451a-a703-a558b933e274");
        std::hint::black_box(&r);
    }
    let per = start.elapsed() / n;
    println!("SQS SendMessage detect+resolve+parse+serialize: {per:?} per request");
    let query = post(
        headers(&[("content-type", "application/x-www-form-urlencoded")]),
        "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Forders&MessageBody=hello\
         &MessageAttribute.1.Name=kind&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=created",
    );
    let start = std::time::Instant::now();
    for _ in 0..n {
        let parts = query.parts();
        let protocol = kagami_protocol::detect_protocol(sqs, &parts);
        let op = kagami_protocol::resolve_operation(sqs, protocol, &parts).unwrap();
        let input = kagami_protocol::parse_request(sqs, protocol, op, &parts).unwrap();
        std::hint::black_box(&input);
        let r = kagami_protocol::serialize_response(sqs, protocol, op, &out, "5fea7756-0ea4-451a-a703-a558b933e274");
        std::hint::black_box(&r);
    }
    println!("SQS SendMessage over query: {:?} per request", start.elapsed() / n);
    let s3 = model("s3");
    let put = s3_request(
        "PUT",
        "/bucket/some/key.txt",
        "",
        &[("content-type", "text/plain"), ("x-amz-meta-a", "b")],
        b"hello",
    );
    let start = std::time::Instant::now();
    for _ in 0..n {
        let parts = put.parts();
        let op = kagami_protocol::resolve_operation(s3, Protocol::RestXml, &parts).unwrap();
        let input = kagami_protocol::parse_request(s3, Protocol::RestXml, op, &parts).unwrap();
        std::hint::black_box(&input);
    }
    println!("S3 PutObject route+parse: {:?} per request", start.elapsed() / n);
}
