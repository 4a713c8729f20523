//! The DynamoDB domain model: tables partitioned by (account, region), each behind its own
//! lock, so work on one table never waits for another.

use crate::backups::Backup;
use crate::definition::TableDefinition;
use crate::generated::DynamodbError;
use crate::keys::KeySchema;
use crate::persistence;
use crate::storage::TableData;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceEnv, ServiceError, Store, StoreError};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One table: its definition, items and indexes.
#[derive(Debug)]
pub struct TableState {
    pub def: TableDefinition,
    pub schema: KeySchema,
    pub data: TableData,
    /// Set by DeleteTable under the lock, so a write that raced it stores nothing.
    pub deleted: bool,
    /// Previous versions of written items while point-in-time recovery is on. A mutex
    /// inside the table's lock so that writers holding the lock can append through `&`.
    pub journal: Mutex<crate::pitr::Journal>,
}

impl TableState {
    pub fn new(def: TableDefinition) -> TableState {
        TableState { schema: def.schema(), data: TableData::new(&def), def, deleted: false, journal: Mutex::new(Default::default()) }
    }
}

#[derive(Debug)]
pub struct Table {
    /// Prefix of its records in the store.
    pub key: String,
    pub state: RwLock<TableState>,
}

impl Table {
    pub fn new(key: String, state: TableState) -> Table {
        Table { key, state: RwLock::new(state) }
    }
}

/// Tables of one (account, region), by name: ListTables order.
type Partition = BTreeMap<String, Arc<Table>>;

pub struct Dynamodb {
    pub(crate) store: Store,
    /// Account -> region -> tables: looked up by `&str` without allocating.
    tables: RwLock<HashMap<String, HashMap<String, Partition>>>,
    /// ClientRequestTokens of recent TransactWriteItems, with the request and its time.
    pub(crate) transaction_tokens: Mutex<HashMap<String, (String, i64)>>,
    /// On-demand backups of every (account, region), by ARN.
    pub(crate) backups: Mutex<BTreeMap<String, Arc<Backup>>>,
    /// Every table's stream records (DynamoDB Streams).
    pub(crate) streams: crate::streams::Streams,
    /// Other services of this process (S3 for exports and imports).
    pub(crate) peers: kagami_core::Peers,
    /// Exports and imports of every (account, region), by ARN.
    pub(crate) exports: Mutex<BTreeMap<String, crate::transfer::ExportRecord>>,
    pub(crate) imports: Mutex<BTreeMap<String, crate::transfer::ImportRecord>>,
    /// Writes on their way to other replicas of global tables.
    pub(crate) replication: crate::global::Replication,
    /// Global tables of version 2017.11.29, by `<account>/<name>`.
    pub(crate) global_tables: Mutex<BTreeMap<String, crate::global::GlobalTableRecord>>,
    /// Item changes on their way to Kinesis streaming destinations.
    pub(crate) kinesis_out: crate::kinesis::Outbox,
}

/// "Requested resource not found": what item operations answer for a missing table.
pub fn resource_not_found() -> DynamodbError {
    DynamodbError::ResourceNotFoundException("Requested resource not found".into())
}

/// What table operations (DescribeTable, DeleteTable, UpdateTable) answer for one.
pub fn table_not_found(name: &str) -> DynamodbError {
    DynamodbError::ResourceNotFoundException(format!("Requested resource not found: Table: {name} not found"))
}

pub fn store_failed(e: StoreError) -> ServiceError {
    DynamodbError::InternalServerError(format!("Internal server error: {e}")).into()
}

/// `TableName` may be a name or a table ARN (of this caller's or another account).
pub fn locate<'a>(ctx: &'a RequestContext, table_name: &'a str) -> (&'a str, &'a str, &'a str) {
    if let Some(rest) = table_name.strip_prefix("arn:") {
        // arn:<partition>:dynamodb:<region>:<account>:table/<name>
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if let [_, "dynamodb", region, account, resource] = parts.as_slice()
            && let Some(name) = resource.strip_prefix("table/")
        {
            let name = name.split('/').next().unwrap_or(name);
            return (account, region, name);
        }
    }
    (ctx.account_id.as_str(), ctx.region.as_str(), table_name)
}

impl Dynamodb {
    /// Builds the service state, loading tables and items from a durable store.
    pub fn new(env: &ServiceEnv) -> Result<Dynamodb, StoreError> {
        let dynamodb = Dynamodb {
            store: env.store.clone(),
            tables: RwLock::new(HashMap::new()),
            transaction_tokens: Mutex::new(HashMap::new()),
            backups: Mutex::new(BTreeMap::new()),
            streams: crate::streams::Streams::load(&env.store)?,
            peers: env.peers.clone(),
            exports: Mutex::new(BTreeMap::new()),
            imports: Mutex::new(BTreeMap::new()),
            replication: Default::default(),
            global_tables: Mutex::new(BTreeMap::new()),
            kinesis_out: Default::default(),
        };
        dynamodb.load_kinesis_outbox()?;
        dynamodb.load_replication_outbox()?;
        for g in crate::global::load(&env.store)? {
            dynamodb.global_tables.lock().insert(format!("{}/{}", g.account, g.name), g);
        }
        let (exports, imports) = crate::transfer::load(&env.store)?;
        dynamodb.exports.lock().extend(exports.into_iter().map(|r| (r.arn.clone(), r)));
        dynamodb.imports.lock().extend(imports.into_iter().map(|r| (r.arn.clone(), r)));
        let window = crate::transactions::CLIENT_REQUEST_TOKEN_WINDOW_MS;
        for (key, fingerprint, at) in persistence::load_transaction_tokens(&env.store, kagami_core::clock::now_millis(), window)? {
            dynamodb.transaction_tokens.lock().insert(key, (fingerprint, at));
        }
        for backup in persistence::load_backups(&env.store)? {
            dynamodb.backups.lock().insert(backup.record.arn.clone(), Arc::new(backup));
        }
        let (definitions, items) = persistence::load(&env.store)?;
        let mut by_key: HashMap<String, TableState> = HashMap::new();
        for def in definitions {
            by_key.insert(persistence::table_key(&def.account, &def.region, &def.name), TableState::new(def));
        }
        for (table_key, item) in items {
            let Some(state) = by_key.get_mut(&table_key) else { continue };
            match state.schema.key_of_item(&item) {
                Ok(key) => {
                    state.data.put(key, item);
                }
                Err(e) => tracing::warn!(table_key, error = %e, "skipping a stored item without a valid key"),
            }
        }
        for (table_key, entries) in crate::pitr::load(&env.store)? {
            let Some(state) = by_key.get(&table_key) else { continue };
            let mut journal = state.journal.lock();
            for (seq, bytes) in entries {
                if journal.load(state, seq, &bytes).is_none() {
                    tracing::warn!(table_key, seq, "skipping a point-in-time recovery record that does not decode");
                }
            }
        }
        for (key, state) in by_key {
            let account = state.def.account.clone();
            let region = state.def.region.clone();
            let name = state.def.name.clone();
            dynamodb.tables.write().entry(account).or_default().entry(region).or_default().insert(name, Arc::new(Table { key, state: RwLock::new(state) }));
        }
        Ok(dynamodb)
    }

    /// Forgets every table, in memory and in the store.
    pub fn reset(&self) {
        // Under the registry lock: no table can be created meanwhile, and every write to an
        // existing table either finished submitting before its table is marked deleted here
        // (and is wiped by the deletions below) or finds it deleted.
        let mut tables = self.tables.write();
        for t in tables.values().flat_map(|r| r.values().flat_map(|p| p.values())) {
            t.state.write().deleted = true;
        }
        let mut backups = self.backups.lock();
        drop(self.store.submit(persistence::ALL.iter().map(|t| StoreOp::delete_prefix(t, "")).collect()));
        backups.clear();
        self.streams.clear();
        tables.clear();
        self.transaction_tokens.lock().clear();
        self.exports.lock().clear();
        self.imports.lock().clear();
        self.global_tables.lock().clear();
    }

    /// Queues records for the next commit, building them only in durable mode.
    pub(crate) fn persist(&self, build: impl FnOnce() -> Vec<StoreOp>) -> Commit {
        self.store.submit(if self.store.is_durable() { build() } else { Vec::new() })
    }

    /// The stream record of one item change (none without a stream or a change), for the
    /// same commit as the change; call it under the table's write lock.
    pub(crate) fn stream_change(&self, state: &TableState, key: &crate::keys::PrimaryKey, old: Option<&crate::attribute::Item>, new: Option<&crate::attribute::Item>) -> Vec<StoreOp> {
        self.record_change(state, crate::streams::Change { key, old, new, by_service: false })
    }

    /// Everything one item change writes besides the item: its stream record, its
    /// point-in-time recovery journal entry, and its replication to replica tables.
    pub(crate) fn record_change(&self, state: &TableState, change: crate::streams::Change<'_>) -> Vec<StoreOp> {
        let mut ops = self.record_local_change(state, change);
        if state.def.features.replicas.len() > 1 && change.old != change.new {
            ops.extend(self.replicate(state, change.key, change.new));
        }
        ops
    }

    /// The stream record, Kinesis record and journal entry of a change, without replicating it (a change
    /// that is itself a replicated one).
    pub(crate) fn record_local_change(&self, state: &TableState, change: crate::streams::Change<'_>) -> Vec<StoreOp> {
        let now = kagami_core::clock::now_millis();
        let durable = self.store.is_durable();
        let mut ops = Vec::new();
        if state.def.stream.is_some() {
            ops = self.streams.record_change(state, change, now, durable);
        }
        if !state.def.features.kinesis_destinations.is_empty() {
            ops.extend(self.queue_kinesis(state, change, now, durable));
        }
        if state.def.features.pitr.is_some() {
            let table_key = persistence::table_key(&state.def.account, &state.def.region, &state.def.name);
            ops.extend(state.journal.lock().record(state, &table_key, change.key, change.old, now, durable));
        }
        ops
    }

    pub fn table(&self, account: &str, region: &str, name: &str) -> Option<Arc<Table>> {
        self.tables.read().get(account)?.get(region)?.get(name).cloned()
    }

    /// The table an item operation names; ResourceNotFoundException when there is none.
    pub fn table_for_items(&self, ctx: &RequestContext, table_name: &str) -> Result<Arc<Table>, DynamodbError> {
        let (account, region, name) = locate(ctx, table_name);
        self.table(account, region, name).ok_or_else(resource_not_found)
    }

    /// The table a table operation names; its message names the table.
    pub fn table_named(&self, ctx: &RequestContext, table_name: &str) -> Result<Arc<Table>, DynamodbError> {
        let (account, region, name) = locate(ctx, table_name);
        self.table(account, region, name).ok_or_else(|| table_not_found(name))
    }

    /// Registers a new table unless one of that name exists already.
    pub fn insert_if_absent(&self, table: Arc<Table>, account: &str, region: &str, name: &str) -> bool {
        let mut tables = self.tables.write();
        let partition = tables.entry(account.to_string()).or_default().entry(region.to_string()).or_default();
        if partition.contains_key(name) {
            return false;
        }
        partition.insert(name.to_string(), table);
        true
    }

    /// Unregisters a deleted table (and only that table, not a newer one of its name).
    pub fn remove(&self, table: &Arc<Table>) {
        let (account, region, name) = {
            let state = table.state.read();
            (state.def.account.clone(), state.def.region.clone(), state.def.name.clone())
        };
        let mut tables = self.tables.write();
        if let Some(p) = tables.get_mut(&account).and_then(|r| r.get_mut(&region))
            && p.get(&name).is_some_and(|t| Arc::ptr_eq(t, table))
        {
            p.remove(&name);
        }
    }

    /// Every table of every partition (the TTL sweep).
    pub fn all_tables(&self) -> Vec<Arc<Table>> {
        self.tables.read().values().flat_map(|r| r.values().flat_map(|p| p.values().cloned())).collect()
    }

    /// Table names of one (account, region) in ListTables order.
    pub fn names(&self, account: &str, region: &str) -> Vec<String> {
        self.tables.read().get(account).and_then(|r| r.get(region)).map(|p| p.keys().cloned().collect()).unwrap_or_default()
    }
}
