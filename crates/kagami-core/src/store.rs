//! The record store: (table, key) -> bytes, ephemeral or durable.
//!
//! Services keep their working state in memory and write each changed record through
//! the store. In ephemeral mode that write is free. In durable mode records go to a
//! redb database; a single writer thread gathers the records of concurrent requests
//! into one transaction (group commit), so a request is acknowledged only after its
//! records are on disk, while one fsync serves many requests.
//!
//! Order matters: a service submits its records while it still holds the lock that
//! guards the in-memory change, so two changes to one record reach the disk in the
//! order they were made; it awaits durability after releasing that lock.

use redb::{Database, ReadableTable, TableDefinition, TableHandle};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening the store at {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error("store i/o: {0}")]
    Io(String),
    #[error("the store's writer has stopped")]
    WriterGone,
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

#[derive(Debug, Clone)]
pub enum StoreOp {
    Put { table: String, key: String, value: Vec<u8> },
    Delete { table: String, key: String },
    /// Deletes every record of the table whose key starts with the prefix.
    DeletePrefix { table: String, prefix: String },
}

impl StoreOp {
    pub fn put(table: &str, key: impl Into<String>, value: Vec<u8>) -> Self {
        StoreOp::Put { table: table.to_string(), key: key.into(), value }
    }
    pub fn put_json<T: serde::Serialize>(table: &str, key: impl Into<String>, value: &T) -> Self {
        let key = key.into();
        // Only a map with non-string keys fails to serialize: a defect of the record
        // type, logged loudly; the empty record is skipped (and logged) when loaded.
        let bytes = serde_json::to_vec(value).unwrap_or_else(|e| {
            tracing::error!(table, key, error = %e, "record does not serialize to JSON");
            Vec::new()
        });
        StoreOp::put(table, key, bytes)
    }
    pub fn delete(table: &str, key: impl Into<String>) -> Self {
        StoreOp::Delete { table: table.to_string(), key: key.into() }
    }
    pub fn delete_prefix(table: &str, prefix: impl Into<String>) -> Self {
        StoreOp::DeletePrefix { table: table.to_string(), prefix: prefix.into() }
    }
}

struct Batch {
    ops: Vec<StoreOp>,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

struct Durable {
    db: Arc<Database>,
    writer: Option<mpsc::Sender<Batch>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    dir: PathBuf,
}

impl Drop for Durable {
    /// Closes the channel and waits for the writer, so the database file is released
    /// (and everything submitted is committed) when the last handle goes.
    fn drop(&mut self) {
        self.writer.take();
        if let Some(t) = self.writer_thread.take() {
            let _ = t.join();
        }
    }
}

/// Cheap to clone; all clones share one backend.
#[derive(Clone)]
pub struct Store {
    durable: Option<Arc<Durable>>,
}

/// Resolves when the records it stands for are durable (at once when ephemeral).
pub struct Commit(Option<oneshot::Receiver<Result<(), String>>>);

impl Commit {
    pub async fn wait(self) -> Result<(), StoreError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => match rx.await {
                Ok(result) => result.map_err(StoreError::Io),
                Err(_) => Err(StoreError::WriterGone),
            },
        }
    }
}

impl Store {
    pub fn ephemeral() -> Store {
        Store { durable: None }
    }

    /// Opens (or creates) the durable store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_err = |detail: String| StoreError::Open { path: dir.to_path_buf(), detail };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let db = Database::create(dir.join("kagami.redb")).map_err(|e| open_err(e.to_string()))?;
        let db = Arc::new(db);
        let (tx, rx) = mpsc::channel::<Batch>();
        let writer_db = Arc::clone(&db);
        let thread = std::thread::Builder::new()
            .name("kagami-store-writer".into())
            .spawn(move || writer_loop(&writer_db, &rx))
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Store {
            durable: Some(Arc::new(Durable {
                db,
                writer: Some(tx),
                writer_thread: Some(thread),
                dir: dir.to_path_buf(),
            })),
        })
    }

    pub fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// The data directory of a durable store (services keep large blobs beside it).
    pub fn dir(&self) -> Option<&Path> {
        self.durable.as_deref().map(|d| d.dir.as_path())
    }

    /// Queues records for the next group commit. Call while holding the lock that
    /// ordered the in-memory change; await the returned [`Commit`] after releasing it.
    pub fn submit(&self, ops: Vec<StoreOp>) -> Commit {
        let Some(d) = &self.durable else { return Commit(None) };
        if ops.is_empty() {
            return Commit(None);
        }
        let (tx, rx) = oneshot::channel();
        // A failed send drops the sender inside the batch, so wait() reports WriterGone.
        if let Some(writer) = &d.writer {
            let _ = writer.send(Batch { ops, done: Some(tx) });
        }
        Commit(Some(rx))
    }

    /// Submits and waits: for callers that hold no lock.
    pub async fn commit(&self, ops: Vec<StoreOp>) -> Result<(), StoreError> {
        self.submit(ops).wait().await
    }

    /// Every record of a table, in key order: services load their state with this at startup.
    pub fn scan(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let Some(d) = &self.durable else { return Ok(Vec::new()) };
        let txn = d.db.begin_read().map_err(io)?;
        let def: TableDefinition<&str, &[u8]> = TableDefinition::new(table);
        let t = match txn.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(io)? {
            let (k, v) = row.map_err(io)?;
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Scans a table and decodes each record as JSON, skipping (and logging) records
    /// that no longer decode.
    pub fn scan_json<T: serde::de::DeserializeOwned>(&self, table: &str) -> Result<Vec<(String, T)>, StoreError> {
        let rows = self.scan(table)?;
        let mut out = Vec::with_capacity(rows.len());
        for (key, bytes) in rows {
            match serde_json::from_slice(&bytes) {
                Ok(v) => out.push((key, v)),
                Err(e) => tracing::warn!(table, key, error = %e, "skipping a record that does not decode"),
            }
        }
        Ok(out)
    }

    /// Deletes every table whose name starts with `prefix` (a service's reset).
    pub async fn drop_tables(&self, prefix: &str) -> Result<(), StoreError> {
        let Some(d) = &self.durable else { return Ok(()) };
        let names: Vec<String> = {
            let txn = d.db.begin_read().map_err(io)?;
            txn.list_tables().map_err(io)?.map(|h| h.name().to_string()).filter(|n| n.starts_with(prefix)).collect()
        };
        let ops = names.into_iter().map(|table| StoreOp::DeletePrefix { table, prefix: String::new() }).collect();
        self.commit(ops).await
    }
}

/// Batches that one transaction takes at most: under a steady stream of writes the
/// writer still commits (and acknowledges) regularly instead of gathering forever.
const MAX_BATCHES_PER_COMMIT: usize = 256;

/// Runs until every `Store` handle is gone (the channel closes); batches already queued
/// by then are still committed, in the order they were submitted.
fn writer_loop(db: &Database, rx: &mpsc::Receiver<Batch>) {
    while let Ok(first) = rx.recv() {
        let mut batches = vec![first];
        while batches.len() < MAX_BATCHES_PER_COMMIT
            && let Ok(more) = rx.try_recv()
        {
            batches.push(more);
        }
        let result = write_batches(db, &mut batches).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "store commit failed");
        }
        for b in &mut batches {
            if let Some(done) = b.done.take() {
                let _ = done.send(result.clone());
            }
        }
    }
}

fn write_batches(db: &Database, batches: &mut [Batch]) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(io)?;
    for batch in batches.iter() {
        for op in &batch.ops {
            match op {
                StoreOp::Put { table, key, value } => {
                    let mut t = txn.open_table(TableDefinition::<&str, &[u8]>::new(table)).map_err(io)?;
                    t.insert(key.as_str(), value.as_slice()).map_err(io)?;
                }
                StoreOp::Delete { table, key } => {
                    let mut t = txn.open_table(TableDefinition::<&str, &[u8]>::new(table)).map_err(io)?;
                    t.remove(key.as_str()).map_err(io)?;
                }
                StoreOp::DeletePrefix { table, prefix } => {
                    let mut t = txn.open_table(TableDefinition::<&str, &[u8]>::new(table)).map_err(io)?;
                    let mut keys = Vec::new();
                    for row in t.range(prefix.as_str()..).map_err(io)? {
                        let (k, _) = row.map_err(io)?;
                        if !k.value().starts_with(prefix.as_str()) {
                            break;
                        }
                        keys.push(k.value().to_string());
                    }
                    for k in keys {
                        t.remove(k.as_str()).map_err(io)?;
                    }
                }
            }
        }
    }
    txn.commit().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_survive_reopen_and_deletes_stay_deleted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .commit(vec![
                    StoreOp::put("t", "a/1", b"one".to_vec()),
                    StoreOp::put("t", "a/2", b"two".to_vec()),
                    StoreOp::put("t", "b/1", b"three".to_vec()),
                ])
                .await
                .unwrap();
            store.commit(vec![StoreOp::delete("t", "a/2")]).await.unwrap();
            store.commit(vec![StoreOp::delete_prefix("t", "b/")]).await.unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let rows = store.scan("t").unwrap();
        assert_eq!(rows, vec![("a/1".to_string(), b"one".to_vec())]);
        assert!(store.scan("missing").unwrap().is_empty());
    }

    /// Submissions are applied in the order they were made, within one group commit and
    /// across several, so the last write to a record is the one on disk.
    #[tokio::test]
    async fn queued_submissions_reach_the_disk_in_submission_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let commits: Vec<Commit> = (0..2000u32)
            .map(|i| {
                let mut ops = vec![StoreOp::put("t", "k", i.to_be_bytes().to_vec())];
                if i % 3 == 0 {
                    ops.push(StoreOp::delete("t", "k"));
                }
                store.submit(ops)
            })
            .collect();
        for c in commits {
            c.wait().await.unwrap();
        }
        assert_eq!(store.scan("t").unwrap(), vec![("k".to_string(), 1999u32.to_be_bytes().to_vec())]);
    }

    /// Threads submitting at once share group commits; each thread's own writes keep
    /// their order, and every acknowledged write is on disk after a reopen.
    #[tokio::test]
    async fn writers_on_many_threads_share_commits_and_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..500u32)
                        .map(|i| store.submit(vec![StoreOp::put("t", format!("k{t}"), i.to_be_bytes().to_vec())]))
                        .collect::<Vec<Commit>>()
                })
            })
            .collect();
        for t in threads {
            for c in t.join().unwrap() {
                c.wait().await.unwrap();
            }
        }
        drop(store);
        let rows = Store::open(dir.path()).unwrap().scan("t").unwrap();
        let last = 499u32.to_be_bytes().to_vec();
        assert_eq!(rows, (0..4).map(|t| (format!("k{t}"), last.clone())).collect::<Vec<_>>());
    }

    /// Dropping the last handle closes the writer only after it has committed what
    /// was queued, and releases the database so it can be opened again at once.
    #[tokio::test]
    async fn dropping_the_store_commits_queued_records_and_releases_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let clone = store.clone();
        let pending = clone.submit((0..100).map(|i| StoreOp::put("t", format!("k{i:03}"), vec![i])).collect());
        drop(store);
        drop(clone);
        assert!(pending.wait().await.is_ok(), "queued records are committed before the writer stops");
        let reopened = Store::open(dir.path()).unwrap();
        let rows = reopened.scan("t").unwrap();
        assert_eq!(rows.len(), 100);
        assert_eq!(rows.last(), Some(&("k099".to_string(), vec![99])));
    }

    #[tokio::test]
    async fn ephemeral_store_keeps_nothing() {
        let store = Store::ephemeral();
        store.commit(vec![StoreOp::put("t", "k", vec![1])]).await.unwrap();
        assert!(store.scan("t").unwrap().is_empty());
    }
}
