//! The operations measured, as wire requests. Requests that never change are signed
//! once and replayed; DeleteMessage carries a fresh receipt handle, so it is signed per
//! request (a few microseconds of client CPU, none of the server's).

use crate::http::{Conn, Response, encode_request};
use crate::load::Outcome;
use crate::sigv4::{Signer, amz_date_now};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;

const REGION: &str = "us-east-1";
const ACCESS_KEY: &str = "test";
const SECRET_KEY: &str = "test";
/// A typical small message: 128 bytes.
const MESSAGE_BODY: &str = "kagami-bench: a small message body of a typical size for a work queue, padded to 128 bytes with dots...........................";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scenario {
    SendMessage,
    ReceiveDeleteMessage,
    GetCallerIdentity,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::SendMessage, Scenario::ReceiveDeleteMessage, Scenario::GetCallerIdentity];

    pub fn label(self) -> &'static str {
        match self {
            Scenario::SendMessage => "SendMessage",
            Scenario::ReceiveDeleteMessage => "ReceiveMessage+DeleteMessage",
            Scenario::GetCallerIdentity => "GetCallerIdentity",
        }
    }
}

pub struct Target {
    pub addr: SocketAddr,
    host: String,
    sqs: Signer,
    sts: Signer,
}

impl Target {
    pub fn new(addr: SocketAddr) -> Self {
        let signer = |service: &str| Signer {
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            region: REGION.into(),
            service: service.into(),
        };
        Target { addr, host: addr.to_string(), sqs: signer("sqs"), sts: signer("sts") }
    }

    /// An SQS JSON-protocol request (what current SDKs send).
    fn sqs_request(&self, operation: &str, body: &str) -> Vec<u8> {
        let date = amz_date_now();
        let target = format!("AmazonSQS.{operation}");
        let content_type = "application/x-amz-json-1.0";
        let auth = self.sqs.authorization(
            "POST",
            &[("content-type", content_type), ("host", &self.host), ("x-amz-date", &date), ("x-amz-target", &target)],
            body.as_bytes(),
            &date,
        );
        encode_request(
            "POST",
            &self.host,
            "/",
            &[("Content-Type", content_type), ("X-Amz-Date", &date), ("X-Amz-Target", &target), ("Authorization", &auth)],
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

    pub fn create_queue(&self, name: &str) -> Result<String> {
        let body = serde_json::json!({ "QueueName": name }).to_string();
        let response = ok(Conn::new(self.addr).roundtrip(&self.sqs_request("CreateQueue", &body))?)?;
        let value: serde_json::Value = serde_json::from_slice(&response.body).context("CreateQueue response")?;
        value["QueueUrl"].as_str().map(str::to_owned).context("CreateQueue answered no QueueUrl")
    }

    /// The operation to run in the load loop, with its fixed requests prepared.
    pub fn operation(&self, scenario: Scenario, queue_url: &str) -> impl Fn(&mut Conn) -> Result<Outcome> + Sync + '_ {
        let send = self.sqs_request(
            "SendMessage",
            &serde_json::json!({ "QueueUrl": queue_url, "MessageBody": MESSAGE_BODY }).to_string(),
        );
        let receive = self.sqs_request(
            "ReceiveMessage",
            &serde_json::json!({ "QueueUrl": queue_url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 0 }).to_string(),
        );
        let caller_identity = self.sts_request("Action=GetCallerIdentity&Version=2011-06-15");
        let queue_url = queue_url.to_owned();
        move |conn: &mut Conn| match scenario {
            Scenario::SendMessage => {
                ok(conn.roundtrip(&send)?)?;
                Ok(Outcome::Done { requests: 1 })
            }
            Scenario::GetCallerIdentity => {
                ok(conn.roundtrip(&caller_identity)?)?;
                Ok(Outcome::Done { requests: 1 })
            }
            Scenario::ReceiveDeleteMessage => {
                let response = ok(conn.roundtrip(&receive)?)?;
                let value: serde_json::Value = serde_json::from_slice(&response.body).context("ReceiveMessage response")?;
                let Some(handle) = value["Messages"].get(0).and_then(|m| m["ReceiptHandle"].as_str()) else {
                    return Ok(Outcome::Drained);
                };
                let body = serde_json::json!({ "QueueUrl": queue_url, "ReceiptHandle": handle }).to_string();
                ok(conn.roundtrip(&self.sqs_request("DeleteMessage", &body))?)?;
                Ok(Outcome::Done { requests: 2 })
            }
        }
    }
}

fn ok(response: Response) -> Result<Response> {
    if response.status != 200 {
        let snippet: String = String::from_utf8_lossy(&response.body).chars().take(300).collect();
        bail!("HTTP {}: {snippet}", response.status);
    }
    Ok(response)
}
