//! The operations measured, as wire requests. Requests that never change are signed
//! once and replayed (PutObject, GetObject, PutItem, GetItem: one per key, prepared
//! before the load; Query);
//! DeleteMessage carries a fresh receipt handle, so it is signed per request (a few
//! microseconds of client CPU, none of the server's).

use crate::http::{Conn, Response, encode_request};
use crate::lambda::Runtime;
use crate::load::Outcome;
use crate::sigv4::{Signer, amz_date_now};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;

const REGION: &str = "us-east-1";
const ACCESS_KEY: &str = "test";
const SECRET_KEY: &str = "test";
/// A typical small message: 128 bytes.
const MESSAGE_BODY: &str = "kagami-bench: a small message body of a typical size for a work queue, padded to 128 bytes with dots...........................";

/// The services a run can be limited to (`--scenarios`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Group {
    Sqs,
    Sts,
    /// PutObject, GetObject and the large-object throughput.
    S3,
    /// PutItem, GetItem and Query.
    Dynamodb,
    /// Cold and warm Invoke of no-op Python and Node.js functions (kagami only).
    Lambda,
}

impl Group {
    pub const ALL: [Group; 5] = [Group::Sqs, Group::Sts, Group::S3, Group::Dynamodb, Group::Lambda];
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scenario {
    SendMessage,
    ReceiveDeleteMessage,
    GetCallerIdentity,
    PutObject,
    GetObject,
    PutItem,
    GetItem,
    Query,
    /// Warm Invoke of the no-op function of a runtime.
    Invoke(Runtime),
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::SendMessage,
        Scenario::ReceiveDeleteMessage,
        Scenario::GetCallerIdentity,
        Scenario::PutObject,
        Scenario::GetObject,
        Scenario::PutItem,
        Scenario::GetItem,
        Scenario::Query,
        Scenario::Invoke(Runtime::Python),
        Scenario::Invoke(Runtime::Node),
    ];

    pub fn label(self) -> &'static str {
        match self {
            Scenario::SendMessage => "SendMessage",
            Scenario::ReceiveDeleteMessage => "ReceiveMessage+DeleteMessage",
            Scenario::GetCallerIdentity => "GetCallerIdentity",
            Scenario::PutObject => "PutObject 1 KiB",
            Scenario::GetObject => "GetObject 1 KiB",
            Scenario::PutItem => "PutItem 1 KiB",
            Scenario::GetItem => "GetItem 1 KiB",
            Scenario::Query => "Query 100 items",
            Scenario::Invoke(Runtime::Python) => "Invoke python3.12 (warm, no-op)",
            Scenario::Invoke(Runtime::Node) => "Invoke nodejs20.x (warm, no-op)",
        }
    }

    pub fn group(self) -> Group {
        match self {
            Scenario::SendMessage | Scenario::ReceiveDeleteMessage => Group::Sqs,
            Scenario::GetCallerIdentity => Group::Sts,
            Scenario::PutObject | Scenario::GetObject => Group::S3,
            Scenario::PutItem | Scenario::GetItem | Scenario::Query => Group::Dynamodb,
            Scenario::Invoke(_) => Group::Lambda,
        }
    }

    /// Load run first and not measured: Invoke's starts one environment per connection.
    pub fn warm_up(self) -> Option<std::time::Duration> {
        matches!(self, Scenario::Invoke(_)).then_some(std::time::Duration::from_secs(1))
    }
}

/// What the setup of the selected groups made on the server.
pub struct Fixtures {
    queue_url: Option<String>,
    /// The runtimes whose functions exist (Node.js only where `node` runs).
    pub lambda_runtimes: Vec<Runtime>,
}

impl Fixtures {
    /// Whether the setup made what `scenario` needs.
    pub fn supports(&self, scenario: Scenario) -> bool {
        match scenario {
            Scenario::Invoke(runtime) => self.lambda_runtimes.contains(&runtime),
            _ => true,
        }
    }
}

/// The operation run in the load loop, its fixed requests prepared.
pub type Operation<'a> = Box<dyn Fn(&mut Conn) -> Result<Outcome> + Sync + 'a>;

pub struct Target {
    pub addr: SocketAddr,
    pub(crate) host: String,
    sqs: Signer,
    sts: Signer,
    pub(crate) s3: Signer,
    pub(crate) dynamodb: Signer,
    pub(crate) lambda: Signer,
}

impl Target {
    pub fn new(addr: SocketAddr) -> Self {
        let signer = |service: &str| Signer {
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            region: REGION.into(),
            service: service.into(),
        };
        Target { addr, host: addr.to_string(), sqs: signer("sqs"), sts: signer("sts"), s3: signer("s3"), dynamodb: signer("dynamodb"), lambda: signer("lambda") }
    }

    /// An SQS JSON-protocol request (what current SDKs send).
    fn sqs_request(&self, operation: &str, body: &str) -> Vec<u8> {
        self.json_request(&self.sqs, &format!("AmazonSQS.{operation}"), "application/x-amz-json-1.0", body)
    }

    /// A JSON-protocol request to `/` for `target` (the X-Amz-Target), signed by `signer`.
    pub(crate) fn json_request(&self, signer: &Signer, target: &str, content_type: &str, body: &str) -> Vec<u8> {
        let date = amz_date_now();
        let auth = signer.authorization(
            "POST",
            &[("content-type", content_type), ("host", &self.host), ("x-amz-date", &date), ("x-amz-target", target)],
            body.as_bytes(),
            &date,
        );
        encode_request(
            "POST",
            &self.host,
            "/",
            &[("Content-Type", content_type), ("X-Amz-Date", &date), ("X-Amz-Target", target), ("Authorization", &auth)],
            body.as_bytes(),
        )
    }

    /// An STS query-protocol form post.
    fn sts_request(&self, body: &str) -> Vec<u8> {
        let date = amz_date_now();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let auth = self.sts.authorization(
            "POST",
            &[("content-type", content_type), ("host", &self.host), ("x-amz-date", &date)],
            body.as_bytes(),
            &date,
        );
        encode_request(
            "POST",
            &self.host,
            "/",
            &[("Content-Type", content_type), ("X-Amz-Date", &date), ("Authorization", &auth)],
            body.as_bytes(),
        )
    }

    /// Creates what the scenarios of `groups` need: the queue, the bucket and the
    /// objects GetObject reads, the DynamoDB tables with the items GetItem reads and
    /// `query_items` for Query (seeded over `connections` connections).
    pub fn setup(&self, groups: &[Group], connections: usize, query_items: usize) -> Result<Fixtures> {
        let queue_url = if groups.contains(&Group::Sqs) {
            Some(self.create_queue("kagami-bench").context("CreateQueue")?)
        } else {
            None
        };
        if groups.contains(&Group::S3) {
            self.create_bucket().context("CreateBucket")?;
            self.seed_objects(connections).context("seed the objects GetObject reads")?;
        }
        if groups.contains(&Group::Dynamodb) {
            self.setup_dynamodb(query_items, connections).context("set up DynamoDB")?;
        }
        let mut lambda_runtimes = Vec::new();
        if groups.contains(&Group::Lambda) {
            for runtime in Runtime::ALL.into_iter().filter(|r| r.available()) {
                self.create_lambda_function(runtime)?;
                lambda_runtimes.push(runtime);
            }
        }
        Ok(Fixtures { queue_url, lambda_runtimes })
    }

    fn create_queue(&self, name: &str) -> Result<String> {
        let body = serde_json::json!({ "QueueName": name }).to_string();
        let response = ok(Conn::new(self.addr).roundtrip(&self.sqs_request("CreateQueue", &body))?)?;
        let value: serde_json::Value = serde_json::from_slice(&response.body).context("CreateQueue response")?;
        value["QueueUrl"].as_str().map(str::to_owned).context("CreateQueue answered no QueueUrl")
    }

    pub fn operation(&self, scenario: Scenario, fixtures: &Fixtures) -> Result<Operation<'_>> {
        match scenario {
            Scenario::SendMessage | Scenario::ReceiveDeleteMessage => {
                let queue_url = fixtures.queue_url.clone().context("no queue: SQS was not set up")?;
                Ok(self.sqs_operation(scenario == Scenario::SendMessage, queue_url))
            }
            Scenario::GetCallerIdentity => {
                let caller_identity = self.sts_request("Action=GetCallerIdentity&Version=2011-06-15");
                Ok(Box::new(move |conn: &mut Conn| {
                    ok(conn.roundtrip(&caller_identity)?)?;
                    Ok(Outcome::Done { requests: 1 })
                }))
            }
            Scenario::PutObject => Ok(self.put_object_operation()),
            Scenario::GetObject => Ok(self.get_object_operation()),
            Scenario::PutItem => Ok(self.put_item_operation()),
            Scenario::GetItem => Ok(self.get_item_operation()),
            Scenario::Query => Ok(self.query_operation()),
            Scenario::Invoke(runtime) => Ok(self.invoke_operation(runtime)),
        }
    }

    fn sqs_operation(&self, send: bool, queue_url: String) -> Operation<'_> {
        if send {
            let send = self.sqs_request(
                "SendMessage",
                &serde_json::json!({ "QueueUrl": queue_url, "MessageBody": MESSAGE_BODY }).to_string(),
            );
            return Box::new(move |conn: &mut Conn| {
                ok(conn.roundtrip(&send)?)?;
                Ok(Outcome::Done { requests: 1 })
            });
        }
        let receive = self.sqs_request(
            "ReceiveMessage",
            &serde_json::json!({ "QueueUrl": queue_url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 0 }).to_string(),
        );
        Box::new(move |conn: &mut Conn| {
            let response = ok(conn.roundtrip(&receive)?)?;
            let value: serde_json::Value = serde_json::from_slice(&response.body).context("ReceiveMessage response")?;
            let Some(handle) = value["Messages"].get(0).and_then(|m| m["ReceiptHandle"].as_str()) else {
                return Ok(Outcome::Drained);
            };
            let body = serde_json::json!({ "QueueUrl": queue_url, "ReceiptHandle": handle }).to_string();
            ok(conn.roundtrip(&self.sqs_request("DeleteMessage", &body))?)?;
            Ok(Outcome::Done { requests: 2 })
        })
    }
}

/// The response if it is a success (2xx; S3's DeleteObject answers 204).
pub(crate) fn ok(response: Response) -> Result<Response> {
    if !(200..300).contains(&response.status) {
        let snippet: String = String::from_utf8_lossy(&response.body).chars().take(300).collect();
        bail!("HTTP {}: {snippet}", response.status);
    }
    Ok(response)
}
