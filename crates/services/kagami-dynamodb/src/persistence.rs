//! Durable records of tables and items in the kagami Store.
//!
//! One record per table (its definition, JSON) keyed `<account>/<region>/<table>`, and one
//! per item keyed `<account>/<region>/<table>/<key text>` holding the item in DynamoDB
//! JSON. Table names contain no `/`, so a table's items share a prefix no other table
//! has, and DeleteTable is one prefix delete. Index entries are not stored: they are
//! rebuilt from the items on load, so a write and its index maintenance are one record.

use crate::codec::{self, key_text};
use crate::definition::TableDefinition;
use crate::keys::PrimaryKey;
use crate::attribute::Item;
use kagami_core::store::StoreOp;
use kagami_core::{Store, StoreError};

pub const TABLES: &str = "dynamodb/tables";
pub const ITEMS: &str = "dynamodb/items";
pub const ALL: &[&str] = &[TABLES, ITEMS];

pub fn table_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

pub fn put_table(def: &TableDefinition) -> StoreOp {
    StoreOp::put_json(TABLES, table_key(&def.account, &def.region, &def.name), def)
}

/// The table's record and every item of it.
pub fn delete_table(table_key: &str) -> Vec<StoreOp> {
    vec![StoreOp::delete(TABLES, table_key), StoreOp::delete_prefix(ITEMS, format!("{table_key}/"))]
}

pub fn put_item(table_key: &str, key: &PrimaryKey, item: &Item) -> StoreOp {
    let bytes = codec::item_to_json(item).to_string().into_bytes();
    StoreOp::put(ITEMS, format!("{table_key}/{}", key_text(key)), bytes)
}

pub fn delete_item(table_key: &str, key: &PrimaryKey) -> StoreOp {
    StoreOp::delete(ITEMS, format!("{table_key}/{}", key_text(key)))
}

/// Every table definition, and every item by the key of its table.
pub fn load(store: &Store) -> Result<(Vec<TableDefinition>, Vec<(String, Item)>), StoreError> {
    let tables = store.scan_json::<TableDefinition>(TABLES)?.into_iter().map(|(_, d)| d).collect();
    let mut items = Vec::new();
    for (key, bytes) in store.scan(ITEMS)? {
        // <account>/<region>/<table>/<key text>: the key text may itself hold '/'.
        let mut parts = key.splitn(4, '/');
        let (Some(account), Some(region), Some(table)) = (parts.next(), parts.next(), parts.next()) else {
            tracing::warn!(key, "skipping an item record with a malformed key");
            continue;
        };
        let decoded = serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|json| codec::item_from_json(&json).map_err(|e| e.to_string()));
        match decoded {
            Ok(item) => items.push((table_key(account, region, table), item)),
            Err(error) => tracing::warn!(key, error, "skipping an item record that does not decode"),
        }
    }
    Ok((tables, items))
}
