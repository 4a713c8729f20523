//! Kinesis data streams as a `ShardReader`: ListShards, GetShardIterator and GetRecords of
//! the `kinesis` service, records in AWS's Kinesis event. A mapping of an enhanced fan-out
//! consumer reads its stream the same way (kagami has no separate throughput to give it).
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>

use super::json::{str_of, to_json};
use super::record::Mapping;
use super::shards::{Page, ShardInfo, ShardReader, Start, get_records, get_shard_iterator};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::{Peers, RequestContext, ServiceError, Timestamp, Value};
use serde_json::{Value as Json, json};

const SERVICE: &str = "kinesis";

/// GetRecords returns at most 10,000 records a call.
/// <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html>
const GET_RECORDS_MAX: usize = 10_000;

pub struct KinesisReader {
    peers: Peers,
    ctx: RequestContext,
    stream: String,
    /// The stream's ARN, as records name their source.
    stream_arn: String,
}

impl KinesisReader {
    pub fn new(peers: &Peers, region: &str, account: &str, stream: &str) -> KinesisReader {
        KinesisReader {
            ctx: peers.system_context(account, region, "lambda"),
            peers: peers.clone(),
            stream: stream.to_string(),
            stream_arn: format!("arn:aws:kinesis:{region}:{account}:stream/{stream}"),
        }
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ServiceError> {
        self.peers.call(&self.ctx, SERVICE, op, input).await
    }
}

impl ShardReader for KinesisReader {
    async fn shards(&self) -> Result<Vec<ShardInfo>, ServiceError> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut input = Value::map();
            // A NextToken names the stream itself: ListShards refuses both.
            match &token {
                Some(t) => input.insert("NextToken", Value::from(t.as_str())),
                None => input.insert("StreamName", Value::from(self.stream.as_str())),
            }
            let out = self.call("ListShards", input).await?;
            for s in out.get("Shards").and_then(Value::as_list).unwrap_or_default() {
                if let Some(id) = str_of(s, "ShardId") {
                    let parents = ["ParentShardId", "AdjacentParentShardId"].iter().filter_map(|k| str_of(s, k)).map(str::to_string).collect();
                    shards.push(ShardInfo { id: id.to_string(), parents });
                }
            }
            token = str_of(&out, "NextToken").map(str::to_string);
            if token.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, shard: &str, start: &Start) -> Result<String, ServiceError> {
        let mut input = Value::map();
        input.insert("StreamName", Value::from(self.stream.as_str()));
        input.insert("ShardId", Value::from(shard));
        let kind = match start {
            Start::After(sequence) => {
                input.insert("StartingSequenceNumber", Value::from(sequence.as_str()));
                "AFTER_SEQUENCE_NUMBER"
            }
            Start::TrimHorizon => "TRIM_HORIZON",
            Start::Latest => "LATEST",
            Start::AtTimestamp(ms) => {
                input.insert("Timestamp", Value::Timestamp(Timestamp::from_millis(*ms)));
                "AT_TIMESTAMP"
            }
        };
        input.insert("ShardIteratorType", Value::from(kind));
        get_shard_iterator(&self.peers, &self.ctx, SERVICE, input).await
    }

    async fn records(&self, iterator: &str, limit: usize) -> Result<Page, ServiceError> {
        get_records(&self.peers, &self.ctx, SERVICE, iterator, limit.min(GET_RECORDS_MAX)).await
    }

    fn max_records(&self) -> usize {
        GET_RECORDS_MAX
    }

    /// A sequence number the shard no longer holds is an invalid argument to Kinesis.
    fn is_trimmed(&self, e: &ServiceError) -> bool {
        e.code == "InvalidArgumentException" || e.code == "TrimmedDataAccessException"
    }

    /// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-event-example>
    fn event_record(&self, m: &Mapping, shard: &str, record: &Value, role: &str) -> Json {
        let sequence = str_of(record, "SequenceNumber").unwrap_or_default();
        let arrival = match record.get("ApproximateArrivalTimestamp") {
            Some(Value::Timestamp(t)) => json!(t.as_epoch_f64()),
            Some(other) => to_json(other),
            None => Json::Null,
        };
        json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": str_of(record, "PartitionKey"),
                "sequenceNumber": sequence,
                "data": record.get("Data").map(to_json).unwrap_or_else(|| json!("")),
                "approximateArrivalTimestamp": arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("{shard}:{sequence}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": role,
            "awsRegion": m.region,
            "eventSourceARN": self.stream_arn,
        })
    }

    /// Kinesis mappings filter on `data` only, decoded, when it is JSON; a pattern that
    /// names `data` never matches a record whose data is not JSON.
    /// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html>
    fn filter_view(&self, record: &Json) -> Json {
        let data = record
            .get("kinesis")
            .and_then(|k| k.get("data"))
            .and_then(Json::as_str)
            .and_then(|d| STANDARD.decode(d).ok())
            .and_then(|bytes| serde_json::from_slice::<Json>(&bytes).ok());
        match data {
            Some(d) => json!({ "data": d }),
            None => json!({}),
        }
    }

    fn sequence_of<'a>(&self, record: &'a Json) -> Option<&'a str> {
        record.get("kinesis").and_then(|k| k.get("sequenceNumber")).and_then(Json::as_str)
    }

    fn arrival_millis(&self, record: &Json) -> Option<i64> {
        let secs = record.get("kinesis").and_then(|k| k.get("approximateArrivalTimestamp")).and_then(Json::as_f64)?;
        Some((secs * 1000.0).round() as i64)
    }

    fn arrival_text(&self, millis: i64) -> String {
        Timestamp::from_millis(millis).to_iso8601_millis()
    }

    fn batch_info_key(&self) -> &'static str {
        "KinesisBatchInfo"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::delivery::failure_record;
    use crate::esm::filter::Filters;
    use crate::esm::shards::Condition;
    use indexmap::IndexMap;

    fn reader() -> KinesisReader {
        KinesisReader::new(&Peers::default(), "us-east-1", "111122223333", "s")
    }

    fn mapping() -> Mapping {
        Mapping::sample("Kinesis", "arn:aws:kinesis:us-east-1:111122223333:stream/s/consumer/c:1")
    }

    fn raw(seq: &str, data: &[u8], arrival_ms: i64) -> Value {
        let mut m = IndexMap::new();
        m.insert("SequenceNumber".to_string(), Value::from(seq));
        m.insert("ApproximateArrivalTimestamp".to_string(), Value::Timestamp(Timestamp::from_millis(arrival_ms)));
        m.insert("Data".to_string(), Value::Blob(bytes::Bytes::copy_from_slice(data)));
        m.insert("PartitionKey".to_string(), Value::from("pk"));
        Value::Map(m)
    }

    #[test]
    fn records_read_as_awss_kinesis_event() {
        let r = reader();
        let doc = r.event_record(&mapping(), "shardId-000000000000", &raw("49", b"hi", 1_545_084_650_987), "arn:aws:iam::111122223333:role/r");
        assert_eq!(
            doc,
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0", "partitionKey": "pk", "sequenceNumber": "49",
                    "data": "aGk=", "approximateArrivalTimestamp": 1_545_084_650.987,
                },
                "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:49",
                "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::111122223333:role/r",
                "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:111122223333:stream/s",
            })
        );
        assert_eq!(r.sequence_of(&doc), Some("49"));
        assert_eq!(r.arrival_millis(&doc), Some(1_545_084_650_987));
    }

    #[test]
    fn filters_see_decoded_json_data_only() {
        let r = reader();
        let m = mapping();
        let json_record = r.event_record(&m, "s", &raw("1", br#"{"kind": "order", "n": 5}"#, 0), "");
        let text_record = r.event_record(&m, "s", &raw("2", b"plain", 0), "");
        assert_eq!(r.filter_view(&json_record), json!({"data": {"kind": "order", "n": 5}}));
        let filters = Filters::parse(&[r#"{"data": {"kind": ["order"]}}"#.into()]).unwrap_or_default();
        assert!(filters.matches(&r.filter_view(&json_record)));
        assert!(!filters.matches(&r.filter_view(&text_record)));
        // Only `data` is filtered on: the record's metadata is not there to match.
        let metadata = Filters::parse(&[r#"{"eventSource": ["aws:kinesis"]}"#.into()]).unwrap_or_default();
        assert!(!metadata.matches(&r.filter_view(&json_record)));
    }

    #[test]
    fn failure_records_carry_kinesis_batch_info() {
        let r = reader();
        let m = mapping();
        let batch = vec![r.event_record(&m, "shardId-000000000001", &raw("5", b"x", 1_573_690_379_864), "")];
        let doc = failure_record(&r, &m, "shardId-000000000001", &batch, Condition::RecordAgeExceeded, 1);
        assert_eq!(doc["requestContext"]["condition"], "RecordAgeExceeded");
        assert_eq!(
            doc["KinesisBatchInfo"],
            json!({
                "shardId": "shardId-000000000001", "startSequenceNumber": "5", "endSequenceNumber": "5",
                "approximateArrivalOfFirstRecord": "2019-11-14T00:12:59.864Z",
                "approximateArrivalOfLastRecord": "2019-11-14T00:12:59.864Z",
                "batchSize": 1, "streamArn": "arn:aws:kinesis:us-east-1:111122223333:stream/s",
            })
        );
        assert!(doc.get("DDBStreamBatchInfo").is_none());
    }
}
