//! DynamoDB Streams as a `ShardReader`: DescribeStream, GetShardIterator and GetRecords
//! of the `dynamodbstreams` service; records reach the function as DynamoDB writes them,
//! with the stream's ARN added.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>

use super::json::{str_of, to_json};
use super::record::Mapping;
use super::shards::{Page, ShardInfo, ShardReader, Start, get_records, get_shard_iterator};
use kagami_core::{Peers, RequestContext, ServiceError, Timestamp, Value};
use serde_json::{Value as Json, json};

const SERVICE: &str = "dynamodbstreams";

/// GetRecords returns at most 1000 records a call.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html>
const GET_RECORDS_MAX: usize = 1000;

pub struct DynamoDbReader {
    peers: Peers,
    ctx: RequestContext,
    arn: String,
}

impl DynamoDbReader {
    pub fn new(peers: &Peers, arn: &str, region: &str, account: &str) -> DynamoDbReader {
        DynamoDbReader { ctx: peers.system_context(account, region, "lambda"), peers: peers.clone(), arn: arn.to_string() }
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ServiceError> {
        self.peers.call(&self.ctx, SERVICE, op, input).await
    }
}

impl ShardReader for DynamoDbReader {
    async fn shards(&self) -> Result<Vec<ShardInfo>, ServiceError> {
        let mut shards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut input = Value::map();
            input.insert("StreamArn", Value::from(self.arn.as_str()));
            if let Some(a) = &after {
                input.insert("ExclusiveStartShardId", Value::from(a.as_str()));
            }
            let out = self.call("DescribeStream", input).await?;
            let description = out.get("StreamDescription");
            for s in description.and_then(|d| d.get("Shards")).and_then(Value::as_list).unwrap_or_default() {
                if let Some(id) = str_of(s, "ShardId") {
                    let parents = str_of(s, "ParentShardId").map(|p| vec![p.to_string()]).unwrap_or_default();
                    shards.push(ShardInfo { id: id.to_string(), parents });
                }
            }
            after = description.and_then(|d| str_of(d, "LastEvaluatedShardId")).map(str::to_string);
            if after.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, shard: &str, start: &Start) -> Result<String, ServiceError> {
        let mut input = Value::map();
        input.insert("StreamArn", Value::from(self.arn.as_str()));
        input.insert("ShardId", Value::from(shard));
        let kind = match start {
            Start::After(sequence) => {
                input.insert("SequenceNumber", Value::from(sequence.as_str()));
                "AFTER_SEQUENCE_NUMBER"
            }
            Start::TrimHorizon => "TRIM_HORIZON",
            // DynamoDB streams have no AT_TIMESTAMP (CreateEventSourceMapping refuses it).
            Start::Latest | Start::AtTimestamp(_) => "LATEST",
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

    fn is_trimmed(&self, e: &ServiceError) -> bool {
        e.code == "TrimmedDataAccessException"
    }

    fn event_record(&self, m: &Mapping, _shard: &str, record: &Value, _role: &str) -> Json {
        let mut doc = to_json(record);
        if let Some(o) = doc.as_object_mut() {
            o.insert("eventSourceARN".into(), json!(m.event_source_arn));
        }
        doc
    }

    fn filter_view(&self, record: &Json) -> Json {
        record.clone()
    }

    fn sequence_of<'a>(&self, record: &'a Json) -> Option<&'a str> {
        record.get("dynamodb").and_then(|d| d.get("SequenceNumber")).and_then(Json::as_str)
    }

    fn arrival_millis(&self, record: &Json) -> Option<i64> {
        let secs = record.get("dynamodb").and_then(|d| d.get("ApproximateCreationDateTime")).and_then(Json::as_f64)?;
        Some((secs * 1000.0) as i64)
    }

    /// DynamoDB's records carry whole seconds, and so does its OnFailure record.
    fn arrival_text(&self, millis: i64) -> String {
        Timestamp::from_millis(millis).to_iso8601()
    }

    fn batch_info_key(&self) -> &'static str {
        "DDBStreamBatchInfo"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esm::delivery::{failure_record, retry_from};
    use crate::esm::shards::Condition;

    fn reader() -> DynamoDbReader {
        DynamoDbReader::new(&Peers::default(), "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/L", "us-east-1", "111122223333")
    }

    #[test]
    fn reported_failures_retry_from_the_lowest_failed_record() {
        let batch = vec![
            json!({"dynamodb": {"SequenceNumber": "1"}}),
            json!({"dynamodb": {"SequenceNumber": "2"}}),
            json!({"dynamodb": {"SequenceNumber": "3"}}),
        ];
        let doc = |ids: &[&str]| {
            json!({"batchItemFailures": ids.iter().map(|i| json!({"itemIdentifier": i})).collect::<Vec<_>>()}).to_string()
        };
        let r = reader();
        assert_eq!(retry_from(&r, doc(&["3", "2"]).as_bytes(), &batch), Ok(Some(1)));
        assert_eq!(retry_from(&r, doc(&[]).as_bytes(), &batch), Ok(None));
        assert_eq!(retry_from(&r, b"null", &batch), Ok(None));
        assert_eq!(retry_from(&r, doc(&["9"]).as_bytes(), &batch), Err(()));
        assert_eq!(retry_from(&r, b"{", &batch), Err(()));
    }

    #[test]
    fn failure_records_describe_the_batch_given_up_on() {
        let m = Mapping::sample("DynamoDbStream", "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/L");
        let batch = vec![
            json!({"dynamodb": {"SequenceNumber": "10", "ApproximateCreationDateTime": 1_700_000_000}}),
            json!({"dynamodb": {"SequenceNumber": "12", "ApproximateCreationDateTime": 1_700_000_001}}),
        ];
        let doc = failure_record(&reader(), &m, "shardId-1", &batch, Condition::RetryAttemptsExhausted, 2);
        assert_eq!(doc["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(doc["requestContext"]["approximateInvokeCount"], 2);
        assert_eq!(doc["version"], "1.0");
        let info = &doc["DDBStreamBatchInfo"];
        assert_eq!(info["startSequenceNumber"], "10");
        assert_eq!(info["endSequenceNumber"], "12");
        assert_eq!(info["batchSize"], 2);
        assert_eq!(info["approximateArrivalOfFirstRecord"], "2023-11-14T22:13:20Z");
        assert_eq!(info["streamArn"], m.event_source_arn);
    }
}
