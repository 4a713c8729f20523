//! The provider end to end in memory and on a durable store: tables, items, conditions,
//! indexes, queries and a reload from disk.

use crate::generated::{self, *};
use crate::state::Dynamodb;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store};

fn ctx() -> RequestContext {
    RequestContext::system("111111111111", "us-east-1", "dynamodb")
}

fn s(v: &str) -> generated::AttributeValue {
    generated::AttributeValue { s: Some(v.into()), ..Default::default() }
}

fn n(v: &str) -> generated::AttributeValue {
    generated::AttributeValue { n: Some(v.into()), ..Default::default() }
}

fn item(pairs: &[(&str, generated::AttributeValue)]) -> IndexMap<String, generated::AttributeValue> {
    pairs.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ok<T>(r: Result<T, ServiceError>) -> T {
    r.unwrap_or_else(|e| panic!("{}: {}", e.code, e.message))
}

fn err<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> ServiceError {
    match r {
        Ok(v) => panic!("succeeded: {v:?}"),
        Err(e) => e,
    }
}

fn key(name: &str, t: &str) -> KeySchemaElement {
    KeySchemaElement { attribute_name: name.into(), key_type: t.into() }
}

fn def(name: &str, t: &str) -> AttributeDefinition {
    AttributeDefinition { attribute_name: name.into(), attribute_type: t.into() }
}

async fn create(d: &Dynamodb, name: &str) {
    ok(d
        .create_table(
            &ctx(),
            CreateTableInput {
                table_name: name.into(),
                key_schema: Some(vec![key("pk", "HASH"), key("sk", "RANGE")]),
                attribute_definitions: Some(vec![def("pk", "S"), def("sk", "N"), def("g", "S")]),
                billing_mode: Some("PAY_PER_REQUEST".into()),
                global_secondary_indexes: Some(vec![GlobalSecondaryIndex {
                    index_name: "by-g".into(),
                    key_schema: vec![key("g", "HASH")],
                    projection: generated::Projection { projection_type: Some("KEYS_ONLY".into()), non_key_attributes: None },
                    ..Default::default()
                }]),
                ..Default::default()
            },
        )
        .await);
}

async fn put(d: &Dynamodb, table: &str, it: IndexMap<String, generated::AttributeValue>) {
    ok(d.put_item(&ctx(), PutItemInput { table_name: table.into(), item: it, ..Default::default() }).await);
}

#[tokio::test]
async fn a_conditional_put_fails_with_the_old_item_when_asked() {
    let d = Dynamodb::new(&ServiceEnv::ephemeral()).unwrap_or_else(|e| panic!("{e}"));
    create(&d, "tbl1").await;
    put(&d, "tbl1", item(&[("pk", s("a")), ("sk", n("1")), ("v", s("old"))])).await;
    let e = err(
        d.put_item(
            &ctx(),
            PutItemInput {
                table_name: "tbl1".into(),
                item: item(&[("pk", s("a")), ("sk", n("1"))]),
                condition_expression: Some("attribute_not_exists(pk)".into()),
                return_values_on_condition_check_failure: Some("ALL_OLD".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(e.code, "ConditionalCheckFailedException");
    assert_eq!(e.message, "The conditional request failed");
    assert!(e.fields.iter().any(|(k, _)| k == "Item"));
}

#[tokio::test]
async fn index_key_attributes_must_have_their_defined_type() {
    let d = Dynamodb::new(&ServiceEnv::ephemeral()).unwrap_or_else(|e| panic!("{e}"));
    create(&d, "tbl1").await;
    let e = err(d.put_item(&ctx(), PutItemInput { table_name: "tbl1".into(), item: item(&[("pk", s("a")), ("sk", n("1")), ("g", n("5"))]), ..Default::default() }).await);
    assert_eq!(e.message, "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by-g");
}

#[tokio::test]
async fn a_query_pages_through_a_partition_with_limit() {
    let d = Dynamodb::new(&ServiceEnv::ephemeral()).unwrap_or_else(|e| panic!("{e}"));
    create(&d, "tbl1").await;
    for i in 0..5 {
        put(&d, "tbl1", item(&[("pk", s("a")), ("sk", n(&i.to_string()))])).await;
    }
    let mut start = None;
    let mut seen = Vec::new();
    loop {
        let out = ok(d.query(
            &ctx(),
            QueryInput {
                table_name: "tbl1".into(),
                key_condition_expression: Some("pk = :p AND sk >= :lo".into()),
                expression_attribute_values: Some(item(&[(":p", s("a")), (":lo", n("1"))])),
                limit: Some(2),
                exclusive_start_key: start.take(),
                ..Default::default()
            },
        ));
        seen.extend(out.items.unwrap_or_default().into_iter().filter_map(|i| i.get("sk").and_then(|v| v.n.clone())));
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(seen, vec!["1", "2", "3", "4"]);
}

#[tokio::test]
async fn tables_and_items_survive_a_reload_from_the_durable_store() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let env = ServiceEnv { store, ..ServiceEnv::ephemeral() };
        let d = Dynamodb::new(&env).unwrap_or_else(|e| panic!("{e}"));
        create(&d, "tbl1").await;
        put(&d, "tbl1", item(&[("pk", s("a/b")), ("sk", n("1")), ("g", s("x"))])).await;
        put(&d, "tbl1", item(&[("pk", s("c")), ("sk", n("2"))])).await;
        ok(d.delete_item(&ctx(), DeleteItemInput { table_name: "tbl1".into(), key: item(&[("pk", s("c")), ("sk", n("2"))]), ..Default::default() }).await);
    }
    let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let env = ServiceEnv { store, ..ServiceEnv::ephemeral() };
    let d = Dynamodb::new(&env).unwrap_or_else(|e| panic!("{e}"));
    let out = ok(d.scan(&ctx(), ScanInput { table_name: "tbl1".into(), ..Default::default() }));
    assert_eq!(out.count, Some(1));
    let by_index = ok(d.query(
        &ctx(),
        QueryInput {
            table_name: "tbl1".into(),
            index_name: Some("by-g".into()),
            key_condition_expression: Some("g = :g".into()),
            expression_attribute_values: Some(item(&[(":g", s("x"))])),
            ..Default::default()
        },
    ));
    assert_eq!(by_index.count, Some(1));
}

fn durable(dir: &std::path::Path) -> Dynamodb {
    let store = Store::open(dir).unwrap_or_else(|e| panic!("{e}"));
    Dynamodb::new(&ServiceEnv { store, ..ServiceEnv::ephemeral() }).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn kinesis_records_not_yet_put_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        // No worker runs here: the records stay queued, as when the process dies first.
        let d = durable(dir.path());
        create(&d, "tbl1").await;
        let table = d.table("111111111111", "us-east-1", "tbl1").unwrap_or_else(|| panic!("no table"));
        table.state.write().def.features.kinesis_destinations.push(crate::kinesis::KinesisDestination {
            stream_arn: "arn:aws:kinesis:us-east-1:111111111111:stream/changes".into(),
            status: "ACTIVE".into(),
            precision: "MILLISECOND".into(),
        });
        put(&d, "tbl1", item(&[("pk", s("a")), ("sk", n("1"))])).await;
        put(&d, "tbl1", item(&[("pk", s("a")), ("sk", n("1")), ("v", s("changed"))])).await;
        assert_eq!(d.queued_kinesis_records().len(), 2);
    }
    let d = durable(dir.path());
    let resumed = d.queued_kinesis_records();
    let names: Vec<&str> = resumed.iter().filter_map(|r| r["eventName"].as_str()).collect();
    assert_eq!(names, ["INSERT", "MODIFY"], "oldest first");
    assert_eq!(resumed[1]["dynamodb"]["NewImage"]["v"]["S"], "changed");
    assert_eq!(resumed[0]["tableName"], "tbl1");
}

#[tokio::test]
async fn replicated_writes_not_yet_applied_survive_a_restart_and_are_forgotten_once_applied() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let replica_ctx = RequestContext::system("111111111111", "eu-west-1", "dynamodb");
    {
        let d = durable(dir.path());
        create(&d, "tbl1").await;
        let table = d.table("111111111111", "us-east-1", "tbl1").unwrap_or_else(|| panic!("no table"));
        table.state.write().def.features.replicas = vec!["us-east-1".into(), "eu-west-1".into()];
        put(&d, "tbl1", item(&[("pk", s("a")), ("sk", n("1")), ("v", s("replicate me"))])).await;
    }
    let d = durable(dir.path());
    // The replica table exists by the time the write is applied.
    let create_input = CreateTableInput {
        table_name: "tbl1".into(),
        key_schema: Some(vec![key("pk", "HASH"), key("sk", "RANGE")]),
        attribute_definitions: Some(vec![def("pk", "S"), def("sk", "N")]),
        billing_mode: Some("PAY_PER_REQUEST".into()),
        ..Default::default()
    };
    ok(d.create_table(&replica_ctx, create_input).await);
    for commit in d.apply_replicated() {
        commit.wait().await.unwrap_or_else(|e| panic!("{e}"));
    }
    let out = ok(d.scan(&replica_ctx, ScanInput { table_name: "tbl1".into(), ..Default::default() }));
    assert_eq!(out.count, Some(1));
    assert_eq!(out.items.unwrap_or_default()[0].get("v"), Some(&s("replicate me")));
    drop(d);
    let d = durable(dir.path());
    assert!(d.apply_replicated().is_empty(), "an applied write is not applied again after a restart");
}

#[tokio::test]
async fn a_partiql_select_on_the_partition_key_pages_through_that_partition() {
    let d = Dynamodb::new(&ServiceEnv::ephemeral()).unwrap_or_else(|e| panic!("{e}"));
    create(&d, "tbl1").await;
    for (pk, sk) in [("a", "1"), ("a", "2"), ("a", "3"), ("b", "1")] {
        put(&d, "tbl1", item(&[("pk", s(pk)), ("sk", n(sk)), ("v", n(sk))])).await;
    }
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let out = ok(d
            .execute_statement(
                &ctx(),
                ExecuteStatementInput {
                    statement: "SELECT v FROM tbl1 WHERE pk = ? AND v <> 2".into(),
                    parameters: Some(vec![s("a")]),
                    limit: Some(1),
                    next_token: token.take(),
                    ..Default::default()
                },
            )
            .await);
        seen.extend(out.items.unwrap_or_default().into_iter().filter_map(|i| i.get("v").and_then(|v| v.n.clone())));
        match out.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, vec!["1", "3"]);
}
