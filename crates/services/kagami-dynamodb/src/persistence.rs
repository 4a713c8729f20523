//! Durable records of tables and items in the kagami Store.
//!
//! One record per table (its definition, JSON) keyed `<account>/<region>/<table>`, and one
//! per item keyed `<account>/<region>/<table>/<key text>` holding the item in DynamoDB
//! JSON. Table names contain no `/`, so a table's items share a prefix no other table
//! has, and DeleteTable is one prefix delete. Index entries are not stored: they are
//! rebuilt from the items on load, so a write and its index maintenance are one record.
//!
//! A backup is one record (metadata and the table's definition) keyed by its ARN, and one
//! record per item keyed `<backup ARN>/<ordinal>`, all written in one commit.

use crate::codec::{self, key_text};
use crate::definition::TableDefinition;
use crate::keys::PrimaryKey;
use crate::attribute::Item;
use crate::backups::{Backup, BackupRecord};
use std::collections::BTreeMap;
use kagami_core::store::StoreOp;
use kagami_core::{Store, StoreError};

pub const TABLES: &str = "dynamodb/tables";
pub const ITEMS: &str = "dynamodb/items";
pub const BACKUPS: &str = "dynamodb/backups";
pub const BACKUP_ITEMS: &str = "dynamodb/backup_items";
pub const ALL: &[&str] = &[
    TABLES,
    ITEMS,
    BACKUPS,
    BACKUP_ITEMS,
    crate::streams::STREAMS,
    crate::streams::STREAM_RECORDS,
    crate::pitr::JOURNAL,
    TRANSACTION_TOKENS,
    crate::transfer::EXPORTS,
    crate::transfer::IMPORTS,
    crate::global::GLOBAL_TABLES,
    crate::kinesis::KINESIS_OUTBOX,
    crate::global::REPLICATION_OUTBOX,
];
/// ClientRequestTokens of TransactWriteItems: `<account>/<region>/<token>` -> request
/// fingerprint and time.
pub const TRANSACTION_TOKENS: &str = "dynamodb/transaction_tokens";

#[derive(serde::Serialize, serde::Deserialize)]
struct TokenRecord {
    fingerprint: String,
    at: i64,
}

pub fn put_transaction_token(key: &str, fingerprint: &str, at: i64) -> StoreOp {
    StoreOp::put_json(TRANSACTION_TOKENS, key, &TokenRecord { fingerprint: fingerprint.to_string(), at })
}

/// Remembered tokens younger than `window` milliseconds; older records are deleted.
pub fn load_transaction_tokens(store: &Store, now: i64, window: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
    let mut out = Vec::new();
    let mut expired = Vec::new();
    for (key, r) in store.scan_json::<TokenRecord>(TRANSACTION_TOKENS)? {
        if now - r.at < window {
            out.push((key, r.fingerprint, r.at));
        } else {
            expired.push(StoreOp::delete(TRANSACTION_TOKENS, key));
        }
    }
    if !expired.is_empty() {
        drop(store.submit(expired));
    }
    Ok(out)
}

pub fn table_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

pub fn put_table(def: &TableDefinition) -> StoreOp {
    StoreOp::put_json(TABLES, table_key(&def.account, &def.region, &def.name), def)
}

/// The table's record and every item of it.
pub fn delete_table(table_key: &str) -> Vec<StoreOp> {
    vec![
        StoreOp::delete(TABLES, table_key),
        StoreOp::delete_prefix(ITEMS, format!("{table_key}/")),
        StoreOp::delete_prefix(crate::pitr::JOURNAL, format!("{table_key}/")),
    ]
}

pub fn put_item(table_key: &str, key: &PrimaryKey, item: &Item) -> StoreOp {
    let bytes = codec::item_to_json(item).to_string().into_bytes();
    StoreOp::put(ITEMS, format!("{table_key}/{}", key_text(key)), bytes)
}

pub fn delete_item(table_key: &str, key: &PrimaryKey) -> StoreOp {
    StoreOp::delete(ITEMS, format!("{table_key}/{}", key_text(key)))
}

/// What the store holds: every table definition, and every item by the key of its table.
pub type Loaded = (Vec<TableDefinition>, Vec<(String, Item)>);

pub fn load(store: &Store) -> Result<Loaded, StoreError> {
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

pub fn put_backup(record: &BackupRecord, items: &[Item]) -> Vec<StoreOp> {
    let mut ops = Vec::with_capacity(items.len() + 1);
    ops.push(StoreOp::put_json(BACKUPS, record.arn.clone(), record));
    for (i, item) in items.iter().enumerate() {
        ops.push(StoreOp::put(BACKUP_ITEMS, format!("{}/{i:010}", record.arn), codec::item_to_json(item).to_string().into_bytes()));
    }
    ops
}

pub fn delete_backup(arn: &str) -> Vec<StoreOp> {
    vec![StoreOp::delete(BACKUPS, arn), StoreOp::delete_prefix(BACKUP_ITEMS, format!("{arn}/"))]
}

/// Every backup with its items.
pub fn load_backups(store: &Store) -> Result<Vec<Backup>, StoreError> {
    let mut backups: BTreeMap<String, Backup> = store
        .scan_json::<BackupRecord>(BACKUPS)?
        .into_iter()
        .map(|(arn, record)| (arn, Backup { record, items: Vec::new() }))
        .collect();
    for (key, bytes) in store.scan(BACKUP_ITEMS)? {
        // Keys are in order, so each backup's items come back in the order they were taken.
        let Some((arn, _)) = key.rsplit_once('/') else { continue };
        let Some(backup) = backups.get_mut(arn) else { continue };
        match serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| e.to_string()).and_then(|j| codec::item_from_json(&j).map_err(|e| e.to_string())) {
            Ok(item) => backup.items.push(item),
            Err(error) => tracing::warn!(key, error, "skipping a backup item that does not decode"),
        }
    }
    Ok(backups.into_values().collect())
}
