//! Stream records from the DynamoDB operations, read through the Streams API and the
//! change feed, in memory and reloaded from a durable store.

use super::api::StreamsProvider;
use crate::ChangeFeed;
use crate::generated::{self, *};
use crate::generated_streams::{DynamodbstreamsApi, GetRecordsInput, GetShardIteratorInput};
use crate::state::Dynamodb;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store};
use std::sync::Arc;

fn ctx() -> RequestContext {
    RequestContext::system("111111111111", "us-east-1", "dynamodb")
}

fn s(v: &str) -> generated::AttributeValue {
    generated::AttributeValue { s: Some(v.into()), ..Default::default() }
}

fn item(pairs: &[(&str, &str)]) -> IndexMap<String, generated::AttributeValue> {
    pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect()
}

fn ok<T>(r: Result<T, ServiceError>) -> T {
    r.unwrap_or_else(|e| panic!("{}: {}", e.code, e.message))
}

async fn create(d: &Dynamodb, view_type: &str) -> String {
    let out = ok(d
        .create_table(
            &ctx(),
            CreateTableInput {
                table_name: "tbl".into(),
                key_schema: Some(vec![KeySchemaElement { attribute_name: "pk".into(), key_type: "HASH".into() }]),
                attribute_definitions: Some(vec![AttributeDefinition { attribute_name: "pk".into(), attribute_type: "S".into() }]),
                billing_mode: Some("PAY_PER_REQUEST".into()),
                stream_specification: Some(StreamSpecification { stream_enabled: true, stream_view_type: Some(view_type.into()) }),
                ..Default::default()
            },
        )
        .await);
    out.table_description.and_then(|t| t.latest_stream_arn).unwrap_or_else(|| panic!("no stream ARN"))
}

async fn put(d: &Dynamodb, pairs: &[(&str, &str)]) {
    ok(d.put_item(&ctx(), PutItemInput { table_name: "tbl".into(), item: item(pairs), ..Default::default() }).await);
}

fn events(feed: &ChangeFeed, arn: &str) -> Vec<(String, bool, bool)> {
    feed.stream_records(arn, None, 100)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|r| {
            let d = r.dynamodb.unwrap_or_default();
            (r.event_name.unwrap_or_default(), d.new_image.is_some(), d.old_image.is_some())
        })
        .collect()
}

#[tokio::test]
async fn writes_append_records_only_when_the_item_changes() {
    let d = Arc::new(Dynamodb::new(&ServiceEnv::ephemeral()).unwrap_or_else(|e| panic!("{e}")));
    let feed = ChangeFeed { dynamodb: Arc::clone(&d) };
    let arn = create(&d, "NEW_IMAGE").await;
    let woken = feed.subscribe();
    put(&d, &[("pk", "a"), ("v", "1")]).await;
    assert!(woken.has_changed().unwrap_or(false), "a write wakes the feed's readers");
    put(&d, &[("pk", "a"), ("v", "1")]).await;
    put(&d, &[("pk", "a"), ("v", "2")]).await;
    ok(d.delete_item(&ctx(), DeleteItemInput { table_name: "tbl".into(), key: item(&[("pk", "a")]), ..Default::default() }).await);
    ok(d.delete_item(&ctx(), DeleteItemInput { table_name: "tbl".into(), key: item(&[("pk", "a")]), ..Default::default() }).await);
    assert_eq!(
        events(&feed, &arn),
        vec![("INSERT".into(), true, false), ("MODIFY".into(), true, false), ("REMOVE".into(), false, false)]
    );
    let all = feed.stream_records(&arn, None, 100).unwrap_or_default();
    let first = all.first().and_then(|r| r.dynamodb.as_ref()).and_then(|d| d.sequence_number.clone()).unwrap_or_default();
    assert_eq!(first.len(), 21);
    assert_eq!(feed.stream_records(&arn, Some(&first), 100).unwrap_or_default().len(), 2);
}

#[tokio::test]
async fn records_and_positions_survive_a_reload() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let arn = {
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let d = Dynamodb::new(&ServiceEnv { store, ..ServiceEnv::ephemeral() }).unwrap_or_else(|e| panic!("{e}"));
        let arn = create(&d, "KEYS_ONLY").await;
        put(&d, &[("pk", "a")]).await;
        put(&d, &[("pk", "b")]).await;
        arn
    };
    let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let d = Arc::new(Dynamodb::new(&ServiceEnv { store, ..ServiceEnv::ephemeral() }).unwrap_or_else(|e| panic!("{e}")));
    put(&d, &[("pk", "c")]).await;
    let streams = StreamsProvider { dynamodb: Arc::clone(&d) };
    let shard = d.streams.get(&arn).map(|l| l.lock().meta.shard_id.clone()).unwrap_or_default();
    let iterator = ok(streams
        .get_shard_iterator(
            &ctx(),
            GetShardIteratorInput { stream_arn: arn.clone(), shard_id: shard, shard_iterator_type: "TRIM_HORIZON".into(), ..Default::default() },
        )
        .await)
    .shard_iterator
    .unwrap_or_default();
    let out = ok(streams.get_records(&ctx(), GetRecordsInput { shard_iterator: iterator, limit: None }).await);
    let keys: Vec<String> = out
        .records
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.dynamodb?.keys?.get("pk")?.s.clone())
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
}
