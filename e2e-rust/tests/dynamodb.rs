//! aws-sdk-dynamodb against the release binary: JSON 1.0 with typed attribute values,
//! update expressions, modelled errors (conditional checks, cancelled transactions) and
//! the Query paginator.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, Put, ReturnValue, ScalarAttributeType, TransactWriteItem,
};
use kagami_e2e_rust::{config, start};

async fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config(endpoint, "test", "test", None).await)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_element(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().unwrap()
}

fn attribute(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build().unwrap()
}

/// A table keyed by `pk` (S) and `sk` (N), on demand.
async fn create_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    ddb.create_table()
        .table_name(name)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .key_schema(key_element("pk", KeyType::Hash))
        .key_schema(key_element("sk", KeyType::Range))
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn dynamodb_put_get_update_and_conditional_put() {
    let k = start();
    let ddb = client(&k.endpoint).await;
    let created = ddb
        .create_table()
        .table_name("users")
        .attribute_definitions(attribute("id", ScalarAttributeType::S))
        .attribute_definitions(attribute("email", ScalarAttributeType::S))
        .key_schema(key_element("id", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-email")
                .key_schema(key_element("email", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let description = created.table_description.unwrap();
    assert_eq!(description.table_name.as_deref(), Some("users"));
    let gsis = description.global_secondary_indexes.unwrap();
    assert_eq!(gsis.len(), 1);
    assert_eq!(gsis[0].index_name.as_deref(), Some("by-email"));

    ddb.put_item()
        .table_name("users")
        .item("id", s("u1"))
        .item("email", s("a@example.com"))
        .item("visits", n(1))
        .send()
        .await
        .unwrap();
    let got = ddb.get_item().table_name("users").key("id", s("u1")).send().await.unwrap();
    let item = got.item.unwrap();
    assert_eq!(item.get("email"), Some(&s("a@example.com")));
    assert_eq!(item.get("visits"), Some(&n(1)));

    let updated = ddb
        .update_item()
        .table_name("users")
        .key("id", s("u1"))
        .update_expression("SET visits = visits + :one, #n = :name")
        .expression_attribute_names("#n", "name")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":name", s("Ann"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let attributes = updated.attributes.unwrap();
    assert_eq!(attributes.len(), 4);
    assert_eq!(attributes.get("id"), Some(&s("u1")));
    assert_eq!(attributes.get("email"), Some(&s("a@example.com")));
    assert_eq!(attributes.get("visits"), Some(&n(2)));
    assert_eq!(attributes.get("name"), Some(&s("Ann")));

    let conflict = ddb
        .put_item()
        .table_name("users")
        .item("id", s("u1"))
        .item("email", s("b@example.com"))
        .condition_expression("attribute_not_exists(id)")
        .send()
        .await;
    let err = conflict.unwrap_err().into_service_error();
    assert!(err.is_conditional_check_failed_exception(), "{err:?}");
    // The failed put changed nothing.
    let after = ddb.get_item().table_name("users").key("id", s("u1")).send().await.unwrap().item.unwrap();
    assert_eq!(after.get("email"), Some(&s("a@example.com")));
    assert_eq!(after.get("visits"), Some(&n(2)));
}

#[tokio::test]
async fn dynamodb_query_pages_in_sort_key_order_and_transaction_cancels() {
    let k = start();
    let ddb = client(&k.endpoint).await;
    create_table(&ddb, "events").await;
    // Written out of order: the query must come back sorted by sk.
    for i in (0..25i64).rev() {
        ddb.put_item().table_name("events").item("pk", s("p")).item("sk", n(i)).send().await.unwrap();
    }
    ddb.put_item().table_name("events").item("pk", s("other")).item("sk", n(0)).send().await.unwrap();

    let pages: Vec<_> = ddb
        .query()
        .table_name("events")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .limit(10)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let counts: Vec<i32> = pages.iter().map(|p| p.count).collect();
    // 10 + 10 + 5; a page ending exactly on the last item may be followed by an empty one.
    assert_eq!(counts.iter().take(3).copied().collect::<Vec<_>>(), vec![10, 10, 5]);
    assert!(counts.iter().skip(3).all(|&c| c == 0), "{counts:?}");
    let sks: Vec<AttributeValue> =
        pages.iter().flat_map(|p| p.items().iter().filter_map(|item| item.get("sk").cloned())).collect();
    assert_eq!(sks, (0..25).map(n).collect::<Vec<_>>());

    let put = |sk: i64, condition: Option<&str>| {
        let mut builder = Put::builder().table_name("events").item("pk", s("p")).item("sk", n(sk)).item("tx", s("yes"));
        if let Some(c) = condition {
            builder = builder.condition_expression(c);
        }
        TransactWriteItem::builder().put(builder.build().unwrap()).build()
    };
    let cancelled = ddb
        .transact_write_items()
        .transact_items(put(100, None))
        .transact_items(put(3, Some("attribute_not_exists(pk)")))
        .send()
        .await;
    let err = cancelled.unwrap_err().into_service_error();
    assert!(err.is_transaction_canceled_exception(), "{err:?}");
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) = err
    else {
        unreachable!()
    };
    let codes: Vec<Option<&str>> = e.cancellation_reasons().iter().map(|r| r.code.as_deref()).collect();
    assert_eq!(codes, vec![Some("None"), Some("ConditionalCheckFailed")]);
    // Neither write happened.
    let untouched = ddb.get_item().table_name("events").key("pk", s("p")).key("sk", n(100)).send().await.unwrap();
    assert!(untouched.item.is_none());
    let kept = ddb.get_item().table_name("events").key("pk", s("p")).key("sk", n(3)).send().await.unwrap().item.unwrap();
    assert!(!kept.contains_key("tx"));
}
