//! Objects in kagami's own S3, through `Peers`, in the account and region of the table:
//! the export writes, the import reads.

use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::{Peers, RequestContext, ServiceError, Value};
use kagami_protocol::{ByteStream, FromValue, StreamSlot};

/// The most an import reads from one object.
const MAX_OBJECT_BYTES: u64 = 1 << 30;

fn input(pairs: &[(&str, Value)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect::<IndexMap<_, _>>())
}

pub async fn put_object(peers: &Peers, ctx: &RequestContext, bucket: &str, key: &str, body: Vec<u8>) -> Result<Option<String>, ServiceError> {
    let length = body.len();
    let stream = ByteStream::from_bytes(Bytes::from(body)).with_content_length(Some(length as u64));
    let out = peers
        .call(
            ctx,
            "s3",
            "PutObject",
            input(&[
                ("Bucket", Value::Str(bucket.into())),
                ("Key", Value::Str(key.into())),
                ("ContentLength", Value::Int(i64::try_from(length).unwrap_or(i64::MAX))),
                ("Body", Value::Stream(StreamSlot::new(stream))),
            ]),
        )
        .await?;
    Ok(match out.get("ETag") {
        Some(Value::Str(e)) => Some(e.clone()),
        _ => None,
    })
}

/// Keys of every object under `prefix`, in key order.
pub async fn list_keys(peers: &Peers, ctx: &RequestContext, bucket: &str, prefix: &str) -> Result<Vec<(String, i64)>, ServiceError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut pairs = vec![("Bucket", Value::Str(bucket.into())), ("Prefix", Value::Str(prefix.into()))];
        if let Some(t) = &token {
            pairs.push(("ContinuationToken", Value::Str(t.clone())));
        }
        let out = peers.call(ctx, "s3", "ListObjectsV2", input(&pairs)).await?;
        if let Some(Value::List(contents)) = out.get("Contents") {
            for o in contents {
                if let Some(Value::Str(k)) = o.get("Key") {
                    let size = match o.get("Size") {
                        Some(Value::Int(n)) => *n,
                        _ => 0,
                    };
                    keys.push((k.clone(), size));
                }
            }
        }
        token = match (out.get("IsTruncated"), out.get("NextContinuationToken")) {
            (Some(Value::Bool(true)), Some(Value::Str(t))) => Some(t.clone()),
            _ => break,
        };
    }
    Ok(keys)
}

pub async fn get_object(peers: &Peers, ctx: &RequestContext, bucket: &str, key: &str) -> Result<Bytes, ServiceError> {
    let out = peers.call(ctx, "s3", "GetObject", input(&[("Bucket", Value::Str(bucket.into())), ("Key", Value::Str(key.into()))])).await?;
    let body = match out {
        Value::Map(mut m) => m.shift_remove("Body"),
        _ => None,
    };
    let stream = match body {
        Some(v) => ByteStream::from_value(v).map_err(|e| ServiceError::internal(format!("S3 GetObject answered an unexpected body: {e}")))?,
        None => ByteStream::empty(),
    };
    stream.collect(MAX_OBJECT_BYTES).await.map_err(|e| ServiceError::internal(format!("reading s3://{bucket}/{key}: {e}")))
}
