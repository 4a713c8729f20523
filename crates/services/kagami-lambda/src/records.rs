//! A table of control-plane records (policies, concurrency, code signing ...): kept in
//! memory, written through the store, loaded again at startup.
//!
//! Keys start with `account/region/`, so every table is per (account, region) by
//! construction and one prefix selects a function's records.

use kagami_core::store::StoreOp;
use kagami_core::{ServiceError, Store, StoreError};
use parking_lot::RwLock;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub struct Records<T> {
    table: &'static str,
    store: Store,
    map: RwLock<BTreeMap<String, T>>,
}

impl<T: Clone + Serialize + DeserializeOwned> Records<T> {
    pub fn load(store: &Store, table: &'static str) -> Result<Self, StoreError> {
        let map = store.scan_json::<T>(table)?.into_iter().collect();
        Ok(Records { table, store: store.clone(), map: RwLock::new(map) })
    }

    pub fn get(&self, key: &str) -> Option<T> {
        self.map.read().get(key).cloned()
    }

    /// Records whose key starts with `prefix`, in key order.
    pub fn under(&self, prefix: &str) -> Vec<(String, T)> {
        self.map
            .read()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Every record, in key order.
    pub fn all(&self) -> Vec<(String, T)> {
        self.map.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Reads, changes and writes one record atomically: `change` sees the current record
    /// and answers the new one (None deletes it) and a result for the caller.
    pub async fn change<R>(&self, key: &str, change: impl FnOnce(Option<&T>) -> Result<(Option<T>, R), ServiceError>) -> Result<R, ServiceError> {
        let commit = {
            let mut map = self.map.write();
            let (next, out) = change(map.get(key))?;
            let op = match next {
                Some(v) => {
                    let op = StoreOp::put_json(self.table, key, &v);
                    map.insert(key.to_string(), v);
                    op
                }
                None => {
                    map.remove(key);
                    StoreOp::delete(self.table, key)
                }
            };
            (self.store.submit(vec![op]), out)
        };
        let (pending, out) = commit;
        pending.wait().await.map_err(|e| ServiceError::internal(format!("saving {}: {e}", self.table)))?;
        Ok(out)
    }

    pub async fn put(&self, key: &str, value: T) -> Result<(), ServiceError> {
        self.change(key, |_| Ok((Some(value), ()))).await
    }

    /// Removes the record `key` and every record under `key:` (its qualifiers).
    pub async fn remove_with_qualifiers(&self, key: &str) -> Result<(), ServiceError> {
        let qualified = format!("{key}:");
        let pending = {
            let mut map = self.map.write();
            map.remove(key);
            map.retain(|k, _| !k.starts_with(&qualified));
            self.store.submit(vec![StoreOp::delete(self.table, key), StoreOp::delete_prefix(self.table, qualified)])
        };
        pending.wait().await.map_err(|e| ServiceError::internal(format!("deleting from {}: {e}", self.table)))
    }

    pub fn reset(&self) {
        let mut map = self.map.write();
        map.clear();
        drop(self.store.submit(vec![StoreOp::delete_prefix(self.table, "")]));
    }
}
