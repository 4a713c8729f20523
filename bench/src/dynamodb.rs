//! DynamoDB's requests (JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<Op>`): the two
//! tables, their seeding, and PutItem, GetItem and Query, every load request signed
//! once and replayed.
//!
//! `kagami-bench-items` (hash key `pk`) holds the ~1 KiB items PutItem writes and
//! GetItem reads. `kagami-bench-query` (hash key `pk`, range key `sk`) holds N small
//! items: 100 in the partition `hot`, the rest spread over other partitions, so that a
//! Query's cost can be read against the table's size.

use crate::http::Conn;
use crate::s3::cycling;
use crate::scenarios::{Operation, Target, ok};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

const ITEMS_TABLE: &str = "kagami-bench-items";
const QUERY_TABLE: &str = "kagami-bench-query";
/// PutItem cycles over this many keys, so the table stays bounded however long it runs.
const PUT_KEYS: usize = 10_000;
/// GetItem cycles over this many items, written by the setup.
const GET_KEYS: usize = 1_000;
/// The `data` attribute of a PutItem/GetItem item: with the key, about 1 KiB.
const ITEM_DATA_LEN: usize = 1000;
/// Items in the partition Query reads (one page: far under 1 MB).
pub const HOT_ITEMS: usize = 100;
const HOT_PARTITION: &str = "hot";
/// The other items are spread over this many partitions.
const COLD_PARTITIONS: usize = 1000;
/// BatchWriteItem's limit.
const BATCH: usize = 25;
const MAX_SEED_THREADS: usize = 8;
/// Rounds of resending UnprocessedItems before giving up.
const MAX_UNPROCESSED_ROUNDS: usize = 20;

fn item_key(n: usize) -> String {
    format!("item-{n:05}")
}

fn big_item(n: usize, data: &str) -> Value {
    json!({ "pk": { "S": item_key(n) }, "data": { "S": data } })
}

/// The n-th item of the query table: the first `HOT_ITEMS` in `hot`, the rest elsewhere.
fn query_item(n: usize) -> Value {
    let pk = if n < HOT_ITEMS { HOT_PARTITION.to_string() } else { format!("p-{:04}", n % COLD_PARTITIONS) };
    json!({ "pk": { "S": pk }, "sk": { "N": n.to_string() }, "payload": { "S": "kagami-bench query item, about 100 bytes with its key attributes......." } })
}

fn item_data() -> String {
    (0..ITEM_DATA_LEN).map(|i| char::from(b'a' + (i % 26) as u8)).collect()
}

impl Target {
    /// A DynamoDB JSON 1.0 request.
    fn dynamodb_request(&self, operation: &str, body: &str) -> Vec<u8> {
        self.json_request(&self.dynamodb, &format!("DynamoDB_20120810.{operation}"), "application/x-amz-json-1.0", body)
    }

    fn dynamodb_call(&self, conn: &mut Conn, operation: &str, body: &Value) -> Result<Value> {
        let response = ok(conn.roundtrip(&self.dynamodb_request(operation, &body.to_string()))?)
            .with_context(|| operation.to_string())?;
        serde_json::from_slice(&response.body).with_context(|| format!("{operation} response"))
    }

    /// Creates both tables and seeds them: `GET_KEYS` items for GetItem, `query_items`
    /// (at least `HOT_ITEMS`) for Query.
    pub fn setup_dynamodb(&self, query_items: usize, connections: usize) -> Result<()> {
        let mut conn = Conn::new(self.addr);
        self.dynamodb_call(
            &mut conn,
            "CreateTable",
            &json!({
                "TableName": ITEMS_TABLE,
                "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
                "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )?;
        self.dynamodb_call(
            &mut conn,
            "CreateTable",
            &json!({
                "TableName": QUERY_TABLE,
                "AttributeDefinitions": [
                    { "AttributeName": "pk", "AttributeType": "S" },
                    { "AttributeName": "sk", "AttributeType": "N" },
                ],
                "KeySchema": [
                    { "AttributeName": "pk", "KeyType": "HASH" },
                    { "AttributeName": "sk", "KeyType": "RANGE" },
                ],
                "BillingMode": "PAY_PER_REQUEST",
            }),
        )?;
        let data = item_data();
        self.seed(ITEMS_TABLE, GET_KEYS, connections, &|n| big_item(n, &data)).context("seed the items GetItem reads")?;
        self.seed(QUERY_TABLE, query_items.max(HOT_ITEMS), connections, &query_item).context("seed the Query table")?;
        Ok(())
    }

    /// Writes items 0..count of `table` with BatchWriteItem over up to eight connections.
    fn seed(&self, table: &str, count: usize, connections: usize, item: &(dyn Fn(usize) -> Value + Sync)) -> Result<()> {
        let threads = connections.clamp(1, MAX_SEED_THREADS);
        let batches: Vec<usize> = (0..count).step_by(BATCH).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let batches = &batches;
                    scope.spawn(move || -> Result<()> {
                        let mut conn = Conn::new(self.addr);
                        for &start in batches.iter().skip(t).step_by(threads) {
                            let requests: Vec<Value> = (start..(start + BATCH).min(count))
                                .map(|n| json!({ "PutRequest": { "Item": item(n) } }))
                                .collect();
                            self.batch_write(&mut conn, table, requests)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for h in handles {
                h.join().map_err(|_| anyhow::anyhow!("a seeding thread panicked"))??;
            }
            Ok(())
        })
    }

    /// One BatchWriteItem, resending whatever comes back unprocessed.
    fn batch_write(&self, conn: &mut Conn, table: &str, requests: Vec<Value>) -> Result<()> {
        let mut pending = json!({ table: requests });
        for _ in 0..MAX_UNPROCESSED_ROUNDS {
            let answer = self.dynamodb_call(conn, "BatchWriteItem", &json!({ "RequestItems": pending }))?;
            match answer.get("UnprocessedItems") {
                Some(Value::Object(left)) if !left.is_empty() => pending = Value::Object(left.clone()),
                _ => return Ok(()),
            }
        }
        bail!("BatchWriteItem left items unprocessed {MAX_UNPROCESSED_ROUNDS} times")
    }

    /// PutItem of a ~1 KiB item, cycling over `PUT_KEYS` keys.
    pub fn put_item_operation(&self) -> Operation<'_> {
        let data = item_data();
        let requests = (0..PUT_KEYS)
            .map(|n| {
                let body = json!({ "TableName": ITEMS_TABLE, "Item": big_item(n, &data) });
                self.dynamodb_request("PutItem", &body.to_string())
            })
            .collect();
        cycling(requests, |_| Ok(()))
    }

    /// GetItem of the seeded items, cycling over them; each must come back whole.
    pub fn get_item_operation(&self) -> Operation<'_> {
        let requests = (0..GET_KEYS)
            .map(|n| {
                let body = json!({ "TableName": ITEMS_TABLE, "Key": { "pk": { "S": item_key(n) } } });
                self.dynamodb_request("GetItem", &body.to_string())
            })
            .collect();
        cycling(requests, |body| {
            let value: Value = serde_json::from_slice(body).context("GetItem response")?;
            let len = value["Item"]["data"]["S"].as_str().map_or(0, str::len);
            if len != ITEM_DATA_LEN {
                bail!("GetItem answered data of {len} bytes, not {ITEM_DATA_LEN}");
            }
            Ok(())
        })
    }

    /// Query of the whole `hot` partition: `HOT_ITEMS` items in one page.
    pub fn query_operation(&self) -> Operation<'_> {
        let body = json!({
            "TableName": QUERY_TABLE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": { ":p": { "S": HOT_PARTITION } },
        });
        cycling(vec![self.dynamodb_request("Query", &body.to_string())], |body| {
            let value: Value = serde_json::from_slice(body).context("Query response")?;
            let count = value["Count"].as_u64().unwrap_or(0);
            if count != HOT_ITEMS as u64 {
                bail!("Query answered {count} items, not {HOT_ITEMS}");
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_partition_holds_exactly_the_first_items() {
        let hot = (0..20_000).filter(|&n| query_item(n)["pk"]["S"] == HOT_PARTITION).count();
        assert_eq!(hot, HOT_ITEMS);
    }

    #[test]
    fn a_put_item_body_is_about_one_kib() {
        let body = json!({ "TableName": ITEMS_TABLE, "Item": big_item(9999, &item_data()) }).to_string();
        assert!((1024..1200).contains(&body.len()), "{}", body.len());
    }
}
