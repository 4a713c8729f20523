//! Global tables: a table with replicas of the same name in other regions of the same
//! account, every write of one replicated to the others.
//!
//! Version 2019.11.21 is managed with UpdateTable `ReplicaUpdates` (Create copies the
//! table and its items into the new region; Delete deletes that replica); version
//! 2017.11.29 with CreateGlobalTable/UpdateGlobalTable over existing empty tables that
//! have a NEW_AND_OLD_IMAGES stream. Both keep the group in every member's
//! `features.replicas`, and both replicate the same way: an item write on a member
//! queues the item's new version (or its deletion) for the other members, and a worker
//! applies it there shortly after, as AWS replicates asynchronously (last writer wins).
//! A replicated write shows in the replica's stream and is not replicated again. In
//! durable mode a queued write is also a store record ([`REPLICATION_OUTBOX`]) in the
//! same commit as the write itself, removed after the replicas' commits: a write the
//! client saw acknowledged reaches the replicas even when the process is killed first.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html>

use crate::attribute::Item;
use crate::definition::{PAY_PER_REQUEST, PROVISIONED, StreamDefinition, TableDefinition};
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, Table, TableState, store_failed, table_not_found};
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Weak};

pub const GLOBAL_TABLES: &str = "dynamodb/global_tables";
pub const VERSION_2019: &str = "2019.11.21";
pub const VERSION_2017: &str = "2017.11.29";
/// ListGlobalTables: at most this many per page.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListGlobalTables.html>
pub const MAX_LIST_GLOBAL_TABLES: i32 = 100;

/// A 2017.11.29 global table: its name and regions, one record per (account, name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlobalTableRecord {
    pub account: String,
    pub name: String,
    pub regions: Vec<String>,
    pub created_at: i64,
}

/// The writes not yet applied to every replica, in durable mode: keyed
/// `<millis:016>/<uuid>`, oldest first.
pub const REPLICATION_OUTBOX: &str = "dynamodb/replication_outbox";

/// One write waiting to reach the other replicas.
struct Pending {
    /// Its outbox record, in durable mode.
    store_key: Option<String>,
    account: String,
    name: String,
    targets: Vec<String>,
    key: Item,
    new: Option<Item>,
}

/// A `Pending` as the outbox keeps it, items in DynamoDB JSON.
#[derive(Serialize, Deserialize)]
struct PendingRecord {
    account: String,
    name: String,
    targets: Vec<String>,
    key: serde_json::Value,
    new: Option<serde_json::Value>,
}

impl Pending {
    fn record(&self) -> PendingRecord {
        PendingRecord {
            account: self.account.clone(),
            name: self.name.clone(),
            targets: self.targets.clone(),
            key: crate::codec::item_to_json(&self.key),
            new: self.new.as_ref().map(crate::codec::item_to_json),
        }
    }

    fn from_record(store_key: String, r: PendingRecord) -> Option<Pending> {
        let key = crate::codec::item_from_json(&r.key).ok()?;
        let new = match &r.new {
            Some(n) => Some(crate::codec::item_from_json(n).ok()?),
            None => None,
        };
        Some(Pending {
            store_key: Some(store_key),
            account: r.account,
            name: r.name,
            targets: r.targets,
            key,
            new,
        })
    }
}

#[derive(Default)]
pub struct Replication {
    queue: Mutex<VecDeque<Pending>>,
    wake: Arc<tokio::sync::Notify>,
}

fn global_arn(account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb::{account}:global-table/{name}")
}

fn global_key(account: &str, name: &str) -> String {
    format!("{account}/{name}")
}

fn invalid(message: impl Into<String>) -> ServiceError {
    DynamodbError::ValidationException(message.into()).into()
}

/// DescribeTable's Replicas: the other members of the group.
pub fn replica_descriptions(def: &TableDefinition) -> Option<Vec<ReplicaDescription>> {
    if def.features.replicas.len() < 2 {
        return None;
    }
    Some(
        def.features
            .replicas
            .iter()
            .filter(|r| **r != def.region)
            .map(|r| ReplicaDescription {
                region_name: Some(r.clone()),
                replica_status: Some("ACTIVE".into()),
                replica_arn: Some(crate::definition::table_arn(&def.account, r, &def.name)),
                ..Default::default()
            })
            .collect(),
    )
}

pub fn version(def: &TableDefinition) -> Option<String> {
    (def.features.replicas.len() > 1).then(|| def.features.global_version.clone().unwrap_or_else(|| VERSION_2019.into()))
}

fn new_and_old_stream(now: i64) -> StreamDefinition {
    StreamDefinition {
        view_type: "NEW_AND_OLD_IMAGES".into(),
        label: Timestamp::from_millis(now).to_iso8601_millis().trim_end_matches('Z').to_string(),
    }
}

impl Dynamodb {
    /// Queues an item change of a group member for the other members (called under the
    /// member's write lock, so changes of one table are queued in their order). Returns
    /// its outbox record, for the change's commit (none in memory mode).
    pub(crate) fn replicate(&self, state: &TableState, key: &crate::keys::PrimaryKey, new: Option<&Item>) -> Option<StoreOp> {
        let def = &state.def;
        let targets: Vec<String> = def.features.replicas.iter().filter(|r| **r != def.region).cloned().collect();
        if targets.is_empty() {
            return None;
        }
        let store_key = self
            .store
            .is_durable()
            .then(|| format!("{:016}/{}", clock::now_millis().max(0), kagami_core::ids::uuid_v4()));
        let pending = Pending {
            store_key,
            account: def.account.clone(),
            name: def.name.clone(),
            targets,
            key: state.schema.key_item(key),
            new: new.cloned(),
        };
        let op = pending.store_key.as_ref().map(|k| StoreOp::put_json(REPLICATION_OUTBOX, k.clone(), &pending.record()));
        self.replication.queue.lock().push_back(pending);
        self.replication.wake.notify_one();
        op
    }

    /// Queues the writes a previous process stored and did not replicate, oldest first.
    pub(crate) fn load_replication_outbox(&self) -> Result<(), kagami_core::StoreError> {
        let stored = self.store.scan_json::<PendingRecord>(REPLICATION_OUTBOX)?;
        let mut queue = self.replication.queue.lock();
        for (key, record) in stored {
            match Pending::from_record(key.clone(), record) {
                Some(p) => queue.push_back(p),
                None => tracing::warn!(key, "skipping a stored replication that does not decode"),
            }
        }
        Ok(())
    }

    /// Applies every queued write to its replicas; returns the commits to await.
    pub(crate) fn apply_replicated(&self) -> Vec<Commit> {
        let mut commits = Vec::new();
        loop {
            let Some(p) = self.replication.queue.lock().pop_front() else { return commits };
            for region in &p.targets {
                let Some(table) = self.table(&p.account, region, &p.name) else { continue };
                let mut state = table.state.write();
                if state.deleted {
                    continue;
                }
                let Ok(key) = state.schema.key_of_item(&p.key) else { continue };
                let old = state.data.get(&key).cloned();
                let change = crate::streams::Change { key: &key, old: old.as_ref(), new: p.new.as_ref(), by_service: false };
                let mut ops = self.record_local_change(&state, change);
                let durable = self.store.is_durable();
                match &p.new {
                    Some(item) => {
                        if durable {
                            ops.push(persistence::put_item(&table.key, &key, item));
                        }
                        state.data.put(key, item.clone());
                    }
                    None => {
                        if durable {
                            ops.push(persistence::delete_item(&table.key, &key));
                        }
                        state.data.delete(&key);
                    }
                }
                commits.push(self.store.submit(ops));
            }
            // After the replicas' commits: the store applies commits in order.
            if let Some(k) = p.store_key {
                commits.push(self.store.submit(vec![StoreOp::delete(REPLICATION_OUTBOX, k)]));
            }
        }
    }

    /// Sets the group (and version) of one member; none when it is left alone.
    fn set_group(&self, account: &str, region: &str, name: &str, group: &[String], version: &str) -> Option<Commit> {
        let table = self.table(account, region, name)?;
        let mut state = table.state.write();
        if state.deleted {
            return None;
        }
        if group.len() > 1 {
            state.def.features.replicas = group.to_vec();
            state.def.features.global_version = Some(version.to_string());
        } else {
            state.def.features.replicas.clear();
            state.def.features.global_version = None;
        }
        Some(self.persist(|| vec![persistence::put_table(&state.def)]))
    }

    /// Deletes one replica table (as DeleteTable does), leaving the others.
    fn delete_replica_table(&self, account: &str, region: &str, name: &str) -> Option<Commit> {
        let table = self.table(account, region, name)?;
        let commit = {
            let mut state = table.state.write();
            if state.deleted {
                return None;
            }
            state.deleted = true;
            let mut ops = self.streams.sync(state.def.stream_arn(), None, clock::now_millis(), self.store.is_durable());
            self.persist(|| {
                ops.extend(persistence::delete_table(&table.key));
                ops
            })
        };
        self.remove(&table);
        Some(commit)
    }

    /// A member was deleted by DeleteTable: the others forget it.
    pub(crate) async fn leave_group(&self, def: &TableDefinition) {
        let group: Vec<String> = def.features.replicas.iter().filter(|r| **r != def.region).cloned().collect();
        let version = def.features.global_version.clone().unwrap_or_else(|| VERSION_2019.into());
        let commits: Vec<Commit> = group.iter().filter_map(|r| self.set_group(&def.account, r, &def.name, &group, &version)).collect();
        if version == VERSION_2017 {
            let key = global_key(&def.account, &def.name);
            let commit = {
                let mut globals = self.global_tables.lock();
                if let Some(g) = globals.get_mut(&key) {
                    g.regions.retain(|r| *r != def.region);
                    let record = g.clone();
                    self.persist(|| vec![StoreOp::put_json(GLOBAL_TABLES, key.clone(), &record)])
                } else {
                    self.persist(Vec::new)
                }
            };
            drop(commit.wait().await);
        }
        for c in commits {
            drop(c.wait().await);
        }
    }

    /// UpdateTable's ReplicaUpdates (global tables version 2019.11.21).
    pub(crate) async fn update_replicas(&self, ctx: &RequestContext, table: &Arc<Table>, updates: &[ReplicationGroupUpdate]) -> Result<(), ServiceError> {
        for update in updates {
            if let Some(create) = &update.create {
                self.create_replica(ctx, table, create).await?;
            }
            if let Some(u) = &update.update {
                let state = table.state.read();
                if !state.def.features.replicas.contains(&u.region_name) || u.region_name == state.def.region {
                    return Err(replica_missing(&u.region_name));
                }
            }
            if let Some(delete) = &update.delete {
                self.delete_replica(ctx, table, &delete.region_name).await?;
            }
        }
        Ok(())
    }

    async fn create_replica(&self, ctx: &RequestContext, table: &Arc<Table>, create: &CreateReplicationGroupMemberAction) -> Result<(), ServiceError> {
        let region = create.region_name.clone();
        if region.is_empty() || kagami_core::arn::partition_of_region(&region) != kagami_core::arn::partition_of_region(&ctx.region) {
            return Err(invalid(format!("Invalid region name: {region}")));
        }
        let now = clock::now_millis();
        let (name, account) = {
            let state = table.state.read();
            (state.def.name.clone(), state.def.account.clone())
        };
        let exists = || {
            invalid(format!("Failed to create a the new replica of table with name: '{name}' because one or more replicas already existed as tables."))
        };
        // The registry is never taken under a table's lock (a reset takes them the other
        // way round): the replica is registered first, empty, then filled under both locks
        // (the source's first; nothing takes them in the other order), so every write of the
        // source after the copy is queued for a replica that exists.
        {
            let state = table.state.read();
            if region == state.def.region {
                return Err(invalid(format!("Cannot add replica in the region of the table: {region}")));
            }
            if state.def.features.global_version.as_deref() == Some(VERSION_2017) {
                return Err(invalid("This operation is not supported for global tables of version 2017.11.29; use UpdateGlobalTable"));
            }
            if state.def.features.replicas.contains(&region) {
                return Err(exists());
            }
            if let Some(s) = &state.def.stream
                && s.view_type != "NEW_AND_OLD_IMAGES"
            {
                return Err(invalid("One or more parameter values were invalid: Table stream view type must be NEW_AND_OLD_IMAGES to add replicas"));
            }
        }
        let placeholder = {
            let state = table.state.read();
            TableDefinition { region: region.clone(), ..state.def.clone() }
        };
        let key = persistence::table_key(&account, &region, &name);
        let replica = Arc::new(Table::new(key.clone(), TableState::new(placeholder)));
        if !self.insert_if_absent(Arc::clone(&replica), &account, &region, &name) {
            return Err(exists());
        }
        let mut commits = Vec::new();
        let group = {
            let mut state = table.state.write();
            let mut target = replica.state.write();
            if state.deleted {
                target.deleted = true;
                drop(target);
                drop(state);
                self.remove(&replica);
                return Err(table_not_found(&name).into());
            }
            let mut group = state.def.features.replicas.clone();
            if group.is_empty() {
                group.push(state.def.region.clone());
            }
            group.push(region.clone());
            // Replication rides on the stream: AWS turns one on if the table has none.
            let previous_stream = state.def.stream_arn();
            if state.def.stream.is_none() {
                state.def.stream = Some(new_and_old_stream(now));
                self.streams.unique_label(&mut state.def, now);
            }
            state.def.features.replicas = group.clone();
            state.def.features.global_version = Some(VERSION_2019.into());
            let durable = self.store.is_durable();
            let mut ops = self.streams.sync(previous_stream, Some(&state.def), now, durable);
            ops.push(persistence::put_table(&state.def));
            commits.push(self.persist(|| ops));

            let mut def = TableDefinition {
                region: region.clone(),
                table_id: kagami_core::ids::uuid_v4(),
                created_at: now,
                stream: Some(new_and_old_stream(now)),
                tags: Vec::new(),
                restore: None,
                ..state.def.clone()
            };
            def.features.pitr = None;
            def.features.resource_policy = None;
            def.features.stream_policy = None;
            def.features.last_stream = None;
            def.features.contributor_insights.clear();
            def.features.kinesis_destinations.clear();
            if let Some(c) = &create.table_class_override {
                def.table_class = Some(c.clone());
            }
            if let Some(t) = &create.provisioned_throughput_override
                && let Some(read) = t.read_capacity_units
                && def.billing_mode == PROVISIONED
            {
                def.read_capacity = read;
            }
            if let Some(kms) = &create.kms_master_key_id {
                let sse = SSESpecification { enabled: Some(true), sse_type: Some("KMS".into()), kms_master_key_id: Some(kms.clone()) };
                def.sse_kms_key_arn = crate::definition::sse_key(&sse, &def.account, &region)?;
            }
            self.streams.unique_label(&mut def, now);
            *target = TableState::new(def);
            let mut ops = self.streams.sync(None, Some(&target.def), now, durable);
            for (position, item) in state.data.scan(None, None, |_| true) {
                if durable {
                    ops.push(persistence::put_item(&key, &position.key, item));
                }
                target.data.put(position.key.clone(), item.clone());
            }
            if durable {
                ops.push(persistence::put_table(&target.def));
            }
            commits.push(self.store.submit(ops));
            group
        };
        let source_region = table.state.read().def.region.clone();
        for r in group.iter().filter(|r| **r != region && **r != source_region) {
            commits.extend(self.set_group(&ctx.account_id, r, &name, &group, VERSION_2019));
        }
        for c in commits {
            c.wait().await.map_err(store_failed)?;
        }
        Ok(())
    }

    async fn delete_replica(&self, ctx: &RequestContext, table: &Arc<Table>, region: &str) -> Result<(), ServiceError> {
        let (group, name, own) = {
            let state = table.state.read();
            (state.def.features.replicas.clone(), state.def.name.clone(), state.def.region.clone())
        };
        if !group.iter().any(|r| r == region) || region == own {
            return Err(replica_missing(region));
        }
        let remaining: Vec<String> = group.iter().filter(|r| *r != region).cloned().collect();
        let mut commits: Vec<Commit> = self.delete_replica_table(&ctx.account_id, region, &name).into_iter().collect();
        for r in &remaining {
            commits.extend(self.set_group(&ctx.account_id, r, &name, &remaining, VERSION_2019));
        }
        for c in commits {
            c.wait().await.map_err(store_failed)?;
        }
        Ok(())
    }
}

fn replica_missing(region: &str) -> ServiceError {
    invalid(format!("Replica specified in the Replica Update or Replica Delete action of the request was not found: {region}"))
}

/// Starts the replication worker for as long as the service lives.
pub fn start(dynamodb: &Arc<Dynamodb>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let weak: Weak<Dynamodb> = Arc::downgrade(dynamodb);
    runtime.spawn(async move {
        loop {
            let Some(d) = weak.upgrade() else { return };
            let wake = Arc::clone(&d.replication.wake);
            let commits = d.apply_replicated();
            // No strong reference while waiting, so the service can be dropped.
            drop(d);
            if commits.is_empty() {
                // notify_one keeps a permit when nobody waits: a write queued since the
                // queue was drained wakes this at once.
                wake.notified().await;
                continue;
            }
            for c in commits {
                if let Err(e) = c.wait().await {
                    tracing::warn!(error = %e, "a replicated DynamoDB write could not be stored");
                }
            }
        }
    });
}

// ---------------------------------------------------------------- version 2017.11.29

fn global_description(g: &GlobalTableRecord) -> GlobalTableDescription {
    GlobalTableDescription {
        replication_group: Some(
            g.regions
                .iter()
                .map(|r| ReplicaDescription { region_name: Some(r.clone()), replica_status: Some("ACTIVE".into()), ..Default::default() })
                .collect(),
        ),
        global_table_arn: Some(global_arn(&g.account, &g.name)),
        creation_date_time: Some(Timestamp::from_millis(g.created_at)),
        global_table_status: Some("ACTIVE".into()),
        global_table_name: Some(g.name.clone()),
    }
}

fn global_not_found(name: &str) -> DynamodbError {
    DynamodbError::GlobalTableNotFoundException(format!("Global table not found: {name}"))
}

impl Dynamodb {
    /// A table that may join a 2017.11.29 global table: it exists, is empty, and streams
    /// NEW_AND_OLD_IMAGES.
    fn check_joinable(&self, account: &str, region: &str, name: &str) -> Result<(), ServiceError> {
        let table = self
            .table(account, region, name)
            .ok_or_else(|| DynamodbError::TableNotFoundException(format!("Table: {name} not found in region: {region}")))?;
        let state = table.state.read();
        if state.def.stream.as_ref().is_none_or(|s| s.view_type != "NEW_AND_OLD_IMAGES") {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Table: {name} in region: {region} does not have streams enabled with NEW_AND_OLD_IMAGES"
            )));
        }
        if state.data.item_count > 0 {
            return Err(invalid(format!("One or more parameter values were invalid: Table: {name} in region: {region} is not empty")));
        }
        if state.def.features.replicas.len() > 1 {
            return Err(DynamodbError::GlobalTableAlreadyExistsException(format!("Table: {name} in region: {region} is already part of a global table")).into());
        }
        Ok(())
    }

    async fn store_global(&self, record: &GlobalTableRecord) -> Result<(), ServiceError> {
        let mut commits: Vec<Commit> =
            record.regions.iter().filter_map(|r| self.set_group(&record.account, r, &record.name, &record.regions, VERSION_2017)).collect();
        let key = global_key(&record.account, &record.name);
        commits.push({
            let mut globals = self.global_tables.lock();
            globals.insert(key.clone(), record.clone());
            self.persist(|| vec![StoreOp::put_json(GLOBAL_TABLES, key, record)])
        });
        for c in commits {
            c.wait().await.map_err(store_failed)?;
        }
        Ok(())
    }

    fn global(&self, account: &str, name: &str) -> Result<GlobalTableRecord, DynamodbError> {
        self.global_tables.lock().get(&global_key(account, name)).cloned().ok_or_else(|| global_not_found(name))
    }

    pub async fn create_global_table(&self, ctx: &RequestContext, input: CreateGlobalTableInput) -> Result<CreateGlobalTableOutput, ServiceError> {
        let mut regions: Vec<String> = Vec::new();
        for r in &input.replication_group {
            let region = r.region_name.clone().unwrap_or_default();
            if !regions.contains(&region) {
                regions.push(region);
            }
        }
        if self.global_tables.lock().contains_key(&global_key(&ctx.account_id, &input.global_table_name)) {
            return Err(DynamodbError::GlobalTableAlreadyExistsException("Global table with this name already exists".into()).into());
        }
        for r in &regions {
            self.check_joinable(&ctx.account_id, r, &input.global_table_name)?;
        }
        let record = GlobalTableRecord { account: ctx.account_id.clone(), name: input.global_table_name.clone(), regions, created_at: clock::now_millis() };
        self.store_global(&record).await?;
        Ok(CreateGlobalTableOutput { global_table_description: Some(global_description(&record)) })
    }

    pub fn describe_global_table(&self, ctx: &RequestContext, input: DescribeGlobalTableInput) -> Result<DescribeGlobalTableOutput, DynamodbError> {
        let record = self.global(&ctx.account_id, &input.global_table_name)?;
        Ok(DescribeGlobalTableOutput { global_table_description: Some(global_description(&record)) })
    }

    pub fn list_global_tables(&self, ctx: &RequestContext, input: ListGlobalTablesInput) -> Result<ListGlobalTablesOutput, DynamodbError> {
        let limit = input.limit.unwrap_or(MAX_LIST_GLOBAL_TABLES);
        if !(1..=MAX_LIST_GLOBAL_TABLES).contains(&limit) {
            let rule = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {rule}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(1);
        let globals = self.global_tables.lock();
        let all: Vec<&GlobalTableRecord> = globals
            .values()
            .filter(|g| g.account == ctx.account_id)
            .filter(|g| input.region_name.as_ref().is_none_or(|r| g.regions.contains(r)))
            .filter(|g| input.exclusive_start_global_table_name.as_ref().is_none_or(|s| g.name > *s))
            .collect();
        let page: Vec<GlobalTable> = all
            .iter()
            .take(limit)
            .map(|g| GlobalTable {
                global_table_name: Some(g.name.clone()),
                replication_group: Some(g.regions.iter().map(|r| Replica { region_name: Some(r.clone()) }).collect()),
            })
            .collect();
        let last = (all.len() > limit).then(|| page.last().and_then(|g| g.global_table_name.clone())).flatten();
        Ok(ListGlobalTablesOutput { global_tables: Some(page), last_evaluated_global_table_name: last })
    }

    pub async fn update_global_table(&self, ctx: &RequestContext, input: UpdateGlobalTableInput) -> Result<UpdateGlobalTableOutput, ServiceError> {
        let mut record = self.global(&ctx.account_id, &input.global_table_name)?;
        let name = input.global_table_name.clone();
        let mut removed = Vec::new();
        for u in &input.replica_updates {
            if let Some(c) = &u.create {
                if record.regions.contains(&c.region_name) {
                    return Err(DynamodbError::ReplicaAlreadyExistsException(format!("Replica already exists in region: {}", c.region_name)).into());
                }
                self.check_joinable(&ctx.account_id, &c.region_name, &name)?;
                record.regions.push(c.region_name.clone());
            }
            if let Some(d) = &u.delete {
                if !record.regions.contains(&d.region_name) {
                    return Err(DynamodbError::ReplicaNotFoundException(format!("Replica not found in region: {}", d.region_name)).into());
                }
                record.regions.retain(|r| *r != d.region_name);
                removed.push(d.region_name.clone());
            }
        }
        // Removed tables stay as standalone tables, as AWS leaves them.
        let commits: Vec<Commit> = removed.iter().filter_map(|r| self.set_group(&ctx.account_id, r, &name, &[], VERSION_2017)).collect();
        for c in commits {
            c.wait().await.map_err(store_failed)?;
        }
        self.store_global(&record).await?;
        Ok(UpdateGlobalTableOutput { global_table_description: Some(global_description(&record)) })
    }

    fn global_settings(&self, record: &GlobalTableRecord) -> Vec<ReplicaSettingsDescription> {
        record
            .regions
            .iter()
            .filter_map(|r| {
                let table = self.table(&record.account, r, &record.name)?;
                let state = table.state.read();
                let d = &state.def;
                Some(ReplicaSettingsDescription {
                    region_name: r.clone(),
                    replica_status: Some("ACTIVE".into()),
                    replica_billing_mode_summary: Some(BillingModeSummary {
                        billing_mode: Some(d.billing_mode.clone()),
                        last_update_to_pay_per_request_date_time: d.pay_per_request_since.map(Timestamp::from_millis),
                    }),
                    replica_provisioned_read_capacity_units: Some(d.read_capacity),
                    replica_provisioned_write_capacity_units: Some(d.write_capacity),
                    ..Default::default()
                })
            })
            .collect()
    }

    pub fn describe_global_table_settings(
        &self,
        ctx: &RequestContext,
        input: DescribeGlobalTableSettingsInput,
    ) -> Result<DescribeGlobalTableSettingsOutput, DynamodbError> {
        let record = self.global(&ctx.account_id, &input.global_table_name)?;
        Ok(DescribeGlobalTableSettingsOutput { global_table_name: Some(record.name.clone()), replica_settings: Some(self.global_settings(&record)) })
    }

    pub async fn update_global_table_settings(
        &self,
        ctx: &RequestContext,
        input: UpdateGlobalTableSettingsInput,
    ) -> Result<UpdateGlobalTableSettingsOutput, ServiceError> {
        let record = self.global(&ctx.account_id, &input.global_table_name)?;
        for u in input.replica_settings_update.iter().flatten() {
            if !record.regions.contains(&u.region_name) {
                return Err(DynamodbError::ReplicaNotFoundException(format!("Replica not found in region: {}", u.region_name)).into());
            }
        }
        if let Some(mode) = input.global_table_billing_mode.as_deref()
            && mode != PROVISIONED
            && mode != PAY_PER_REQUEST
        {
            return Err(invalid(format!(
                "1 validation error detected: Value '{mode}' at 'globalTableBillingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )));
        }
        let now = clock::now_millis();
        let mut commits = Vec::new();
        for region in &record.regions {
            let Some(table) = self.table(&record.account, region, &record.name) else { continue };
            let mut state = table.state.write();
            let def = &mut state.def;
            if let Some(mode) = &input.global_table_billing_mode {
                if mode == PAY_PER_REQUEST && def.billing_mode != PAY_PER_REQUEST {
                    def.pay_per_request_since = Some(now);
                    def.read_capacity = 0;
                    def.write_capacity = 0;
                }
                def.billing_mode = mode.clone();
            }
            if let Some(w) = input.global_table_provisioned_write_capacity_units {
                if def.billing_mode == PAY_PER_REQUEST {
                    return Err(invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"));
                }
                def.write_capacity = w;
            }
            for u in input.replica_settings_update.iter().flatten().filter(|u| u.region_name == *region) {
                if let Some(r) = u.replica_provisioned_read_capacity_units {
                    def.read_capacity = r;
                }
                if let Some(c) = &u.replica_table_class {
                    def.table_class = Some(c.clone());
                }
            }
            commits.push(self.persist(|| vec![persistence::put_table(&state.def)]));
        }
        for c in commits {
            c.wait().await.map_err(store_failed)?;
        }
        Ok(UpdateGlobalTableSettingsOutput { global_table_name: Some(record.name.clone()), replica_settings: Some(self.global_settings(&record)) })
    }

    // ------------------------------------------------------------ replica auto scaling

    fn auto_scaling_description(&self, def: &TableDefinition) -> TableAutoScalingDescription {
        let stored = def.features.auto_scaling.as_ref();
        let settings = |member: &str| {
            let s = stored?.get(member)?;
            Some(AutoScalingSettingsDescription {
                minimum_units: s.get("MinimumUnits").and_then(serde_json::Value::as_i64),
                maximum_units: s.get("MaximumUnits").and_then(serde_json::Value::as_i64),
                auto_scaling_disabled: s.get("AutoScalingDisabled").and_then(serde_json::Value::as_bool),
                auto_scaling_role_arn: s.get("AutoScalingRoleArn").and_then(|v| v.as_str()).map(str::to_string),
                scaling_policies: None,
            })
        };
        let mut regions = def.features.replicas.clone();
        if regions.is_empty() {
            regions.push(def.region.clone());
        }
        TableAutoScalingDescription {
            table_name: Some(def.name.clone()),
            table_status: Some("ACTIVE".into()),
            replicas: Some(
                regions
                    .into_iter()
                    .map(|r| ReplicaAutoScalingDescription {
                        region_name: Some(r),
                        global_secondary_indexes: None,
                        replica_provisioned_read_capacity_auto_scaling_settings: settings("ReadCapacity"),
                        replica_provisioned_write_capacity_auto_scaling_settings: settings("WriteCapacity"),
                        replica_status: Some("ACTIVE".into()),
                    })
                    .collect(),
            ),
        }
    }

    pub fn describe_table_replica_auto_scaling(
        &self,
        ctx: &RequestContext,
        input: DescribeTableReplicaAutoScalingInput,
    ) -> Result<DescribeTableReplicaAutoScalingOutput, DynamodbError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let state = table.state.read();
        Ok(DescribeTableReplicaAutoScalingOutput { table_auto_scaling_description: Some(self.auto_scaling_description(&state.def)) })
    }

    pub async fn update_table_replica_auto_scaling(
        &self,
        ctx: &RequestContext,
        input: UpdateTableReplicaAutoScalingInput,
    ) -> Result<UpdateTableReplicaAutoScalingOutput, ServiceError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let to_json = |u: &AutoScalingSettingsUpdate| {
            serde_json::json!({
                "MinimumUnits": u.minimum_units,
                "MaximumUnits": u.maximum_units,
                "AutoScalingDisabled": u.auto_scaling_disabled,
                "AutoScalingRoleArn": u.auto_scaling_role_arn,
            })
        };
        let (out, commit) = {
            let mut state = table.state.write();
            let mut stored = state.def.features.auto_scaling.clone().unwrap_or_else(|| serde_json::json!({}));
            if let Some(w) = &input.provisioned_write_capacity_auto_scaling_update {
                stored["WriteCapacity"] = to_json(w);
            }
            for r in input.replica_updates.iter().flatten() {
                if r.region_name != state.def.region && !state.def.features.replicas.contains(&r.region_name) {
                    return Err(replica_missing(&r.region_name));
                }
                if let Some(u) = &r.replica_provisioned_read_capacity_auto_scaling_update {
                    stored["ReadCapacity"] = to_json(u);
                }
            }
            state.def.features.auto_scaling = Some(stored);
            (self.auto_scaling_description(&state.def), self.persist(|| vec![persistence::put_table(&state.def)]))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateTableReplicaAutoScalingOutput { table_auto_scaling_description: Some(out) })
    }
}

/// Every 2017.11.29 global table.
pub fn load(store: &kagami_core::Store) -> Result<Vec<GlobalTableRecord>, kagami_core::StoreError> {
    Ok(store.scan_json::<GlobalTableRecord>(GLOBAL_TABLES)?.into_iter().map(|(_, r)| r).collect())
}
