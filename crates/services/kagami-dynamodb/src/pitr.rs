//! Point-in-time recovery: UpdateContinuousBackups turns it on for a table, after which
//! every item write also appends the item's previous version to the table's journal
//! (under the table's write lock, in the write's commit). RestoreTableToPointInTime
//! rebuilds the table as it was at an instant by taking its current items and undoing,
//! newest first, every change made after that instant. The journal holds only the
//! recovery period (emulated clock): nothing older can be restored to.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html>

use crate::attribute::Item;
use crate::backups::{Overrides, RestoreInfo, restored_definition};
use crate::codec;
use crate::definition::check_table_name;
use crate::generated::*;
use crate::keys::PrimaryKey;
use crate::persistence;
use crate::state::{Dynamodb, TableState, locate, store_failed};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

pub const JOURNAL: &str = "dynamodb/pitr_journal";
/// RecoveryPeriodInDays: 1 to 35, 35 by default.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoverySpecification.html>
pub const MIN_RECOVERY_PERIOD_DAYS: i32 = 1;
pub const MAX_RECOVERY_PERIOD_DAYS: i32 = 35;
/// LatestRestorableDateTime trails the current time by about five minutes.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html>
pub const LATEST_RESTORABLE_LAG_MILLIS: i64 = 5 * 60 * 1000;
const DAY_MILLIS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitrSettings {
    pub enabled_at: i64,
    pub period_days: i32,
}

impl PitrSettings {
    fn period_millis(&self) -> i64 {
        i64::from(self.period_days) * DAY_MILLIS
    }

    pub fn earliest(&self, now: i64) -> i64 {
        self.enabled_at.max(now - self.period_millis())
    }

    pub fn latest(&self, now: i64) -> i64 {
        (now - LATEST_RESTORABLE_LAG_MILLIS).max(self.earliest(now))
    }
}

/// One item write: the item's key and what it held before (None: absent).
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: i64,
    pub seq: u64,
    pub key: PrimaryKey,
    pub old: Option<Item>,
}

#[derive(Debug, Default)]
pub struct Journal {
    pub entries: VecDeque<Entry>,
    next: u64,
}

fn entry_key(table_key: &str, seq: u64) -> String {
    format!("{table_key}/{seq:020}")
}

impl Journal {
    /// Appends the previous version of one item; returns the store records.
    pub fn record(&mut self, state: &TableState, table_key: &str, key: &PrimaryKey, old: Option<&Item>, now: i64, durable: bool) -> Vec<StoreOp> {
        let Some(pitr) = &state.def.features.pitr else { return Vec::new() };
        let mut ops = Vec::new();
        let horizon = now - pitr.period_millis();
        while self.entries.front().is_some_and(|e| e.at < horizon) {
            if let Some(e) = self.entries.pop_front()
                && durable
            {
                ops.push(StoreOp::delete(JOURNAL, entry_key(table_key, e.seq)));
            }
        }
        let seq = self.next;
        self.next += 1;
        if durable {
            let json = serde_json::json!({
                "at": now,
                "key": codec::item_to_json(&state.schema.key_item(key)),
                "old": old.map(codec::item_to_json),
            });
            ops.push(StoreOp::put(JOURNAL, entry_key(table_key, seq), json.to_string().into_bytes()));
        }
        self.entries.push_back(Entry { at: now, seq, key: key.clone(), old: old.cloned() });
        ops
    }

    /// Restores one entry read from the store (in key order, so oldest first).
    pub fn load(&mut self, state: &TableState, seq: u64, bytes: &[u8]) -> Option<()> {
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let at = json.get("at")?.as_i64()?;
        let key = state.schema.key_of_item(&codec::item_from_json(json.get("key")?).ok()?).ok()?;
        let old = match json.get("old") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(codec::item_from_json(v).ok()?),
        };
        self.next = self.next.max(seq + 1);
        self.entries.push_back(Entry { at, seq, key, old });
        Some(())
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Stored journal records by table key: (sequence, record), oldest first.
pub type StoredJournals = HashMap<String, Vec<(u64, Vec<u8>)>>;

/// Every journal record of the store.
pub fn load(store: &kagami_core::Store) -> Result<StoredJournals, kagami_core::StoreError> {
    let mut out = StoredJournals::new();
    for (key, bytes) in store.scan(JOURNAL)? {
        let Some((table_key, seq)) = key.rsplit_once('/') else { continue };
        let Ok(seq) = seq.parse() else { continue };
        out.entry(table_key.to_string()).or_default().push((seq, bytes));
    }
    Ok(out)
}

/// The table's items as they were at `at`: the current items with every later change undone.
pub fn items_at(state: &TableState, journal: &Journal, at: i64) -> Vec<Item> {
    let mut undone: HashMap<&PrimaryKey, Option<&Item>> = HashMap::new();
    // Newest first: the last assignment of a key is its oldest change after `at`, whose
    // previous version is the item as it was at `at`.
    for e in journal.entries.iter().rev().filter(|e| e.at > at) {
        undone.insert(&e.key, e.old.as_ref());
    }
    let mut items: Vec<Item> = state.data.scan(None, None, |_| true).filter(|(p, _)| !undone.contains_key(&p.key)).map(|(_, i)| i.clone()).collect();
    items.extend(undone.into_values().flatten().cloned());
    items
}

fn description(def: &crate::definition::TableDefinition, now: i64) -> ContinuousBackupsDescription {
    let pitr = def.features.pitr.as_ref();
    ContinuousBackupsDescription {
        continuous_backups_status: "ENABLED".into(),
        point_in_time_recovery_description: Some(PointInTimeRecoveryDescription {
            point_in_time_recovery_status: Some(if pitr.is_some() { "ENABLED" } else { "DISABLED" }.into()),
            recovery_period_in_days: pitr.map(|p| p.period_days),
            earliest_restorable_date_time: pitr.map(|p| Timestamp::from_millis(p.earliest(now))),
            latest_restorable_date_time: pitr.map(|p| Timestamp::from_millis(p.latest(now))),
        }),
    }
}

/// AWS's description of the error, naming the table.
pub fn pitr_unavailable(table: &str) -> DynamodbError {
    DynamodbError::PointInTimeRecoveryUnavailableException(format!("Point in time recovery has not yet been enabled for this source table: {table}"))
}

fn table_not_found(name: &str) -> DynamodbError {
    DynamodbError::TableNotFoundException(format!("Table not found: {name}"))
}

impl Dynamodb {
    pub fn describe_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: DescribeContinuousBackupsInput,
    ) -> Result<DescribeContinuousBackupsOutput, DynamodbError> {
        let (account, region, name) = locate(ctx, &input.table_name);
        let table = self.table(account, region, name).ok_or_else(|| table_not_found(name))?;
        let state = table.state.read();
        Ok(DescribeContinuousBackupsOutput { continuous_backups_description: Some(description(&state.def, clock::now_millis())) })
    }

    pub async fn update_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput, ServiceError> {
        let spec = &input.point_in_time_recovery_specification;
        if let Some(days) = spec.recovery_period_in_days
            && !(MIN_RECOVERY_PERIOD_DAYS..=MAX_RECOVERY_PERIOD_DAYS).contains(&days)
        {
            let rule = if days < MIN_RECOVERY_PERIOD_DAYS {
                format!("greater than or equal to {MIN_RECOVERY_PERIOD_DAYS}")
            } else {
                format!("less than or equal to {MAX_RECOVERY_PERIOD_DAYS}")
            };
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value {rule}"
            ))
            .into());
        }
        if !spec.point_in_time_recovery_enabled && spec.recovery_period_in_days.is_some() {
            return Err(DynamodbError::ValidationException(
                "Cannot set RecoveryPeriodInDays when PointInTimeRecoveryEnabled is false".into(),
            )
            .into());
        }
        let (account, region, name) = locate(ctx, &input.table_name);
        let table = self.table(account, region, name).ok_or_else(|| table_not_found(name))?;
        let now = clock::now_millis();
        let (out, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(table_not_found(name).into());
            }
            let mut ops = Vec::new();
            match (&mut state.def.features.pitr, spec.point_in_time_recovery_enabled) {
                (Some(p), true) => {
                    // Changing the period keeps the history already recorded.
                    p.period_days = spec.recovery_period_in_days.unwrap_or(p.period_days);
                }
                (slot @ None, true) => {
                    *slot = Some(PitrSettings { enabled_at: now, period_days: spec.recovery_period_in_days.unwrap_or(MAX_RECOVERY_PERIOD_DAYS) });
                }
                (slot, false) => {
                    // Disabling deletes the recovery history, as AWS does.
                    *slot = None;
                    state.journal.lock().clear();
                    ops.push(StoreOp::delete_prefix(JOURNAL, format!("{}/", table.key)));
                }
            }
            let out = description(&state.def, now);
            (out, self.persist(|| {
                ops.push(persistence::put_table(&state.def));
                ops
            }))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateContinuousBackupsOutput { continuous_backups_description: Some(out) })
    }

    pub async fn restore_table_to_point_in_time(
        &self,
        ctx: &RequestContext,
        input: RestoreTableToPointInTimeInput,
    ) -> Result<RestoreTableToPointInTimeOutput, ServiceError> {
        check_table_name(&input.target_table_name, "targetTableName")?;
        let source_name = match (&input.source_table_arn, &input.source_table_name) {
            (Some(arn), _) => arn.as_str(),
            (None, Some(name)) => name.as_str(),
            (None, None) => {
                return Err(DynamodbError::ValidationException("Either source table name or source table arn must be specified".into()).into());
            }
        };
        let latest = input.use_latest_restorable_time == Some(true);
        if latest && input.restore_date_time.is_some() {
            return Err(DynamodbError::ValidationException("Only one of RestoreDateTime or UseLatestRestorableTime can be specified".into()).into());
        }
        if !latest && input.restore_date_time.is_none() {
            return Err(DynamodbError::ValidationException("Either RestoreDateTime or UseLatestRestorableTime must be specified".into()).into());
        }
        let (account, region, name) = locate(ctx, source_name);
        let source = self.table(account, region, name).ok_or_else(|| table_not_found(name))?;
        // Checked before the source's lock is taken: the registry is never read under a
        // table's lock (a reset takes them the other way round).
        if self.table(&ctx.account_id, &ctx.region, &input.target_table_name).is_some() {
            return Err(DynamodbError::TableAlreadyExistsException(format!("Table already exists: {}", input.target_table_name)).into());
        }
        let now = clock::now_millis();
        let (def, items) = {
            let state = source.state.read();
            let Some(pitr) = &state.def.features.pitr else {
                return Err(pitr_unavailable(&state.def.name).into());
            };
            let at = match input.restore_date_time {
                Some(t) => t.as_millis(),
                None => pitr.latest(now),
            };
            if at < pitr.earliest(now) || at > pitr.latest(now) {
                return Err(DynamodbError::InvalidRestoreTimeException(
                    "An invalid restore time was specified. RestoreDateTime must be between EarliestRestorableDateTime and LatestRestorableDateTime.".into(),
                )
                .into());
            }
            let restore = RestoreInfo { source_backup_arn: None, source_table_arn: state.def.arn(), restored_at: at };
            let overrides = Overrides {
                billing_mode: input.billing_mode_override.as_deref(),
                throughput: input.provisioned_throughput_override.as_ref(),
                global_indexes: input.global_secondary_index_override.as_deref(),
                local_indexes: input.local_secondary_index_override.as_deref(),
            };
            let def = restored_definition(ctx, &state.def, &input.target_table_name, &overrides, restore, now)?;
            let items = items_at(&state, &state.journal.lock(), at);
            (def, items)
        };
        let out = self.create_restored(ctx, def, &items).await?;
        Ok(RestoreTableToPointInTimeOutput { table_description: Some(out) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::AttributeValue;
    use crate::definition::TableDefinition;

    fn state() -> TableState {
        let input = CreateTableInput {
            table_name: "tbl".into(),
            attribute_definitions: Some(vec![AttributeDefinition { attribute_name: "pk".into(), attribute_type: "S".into() }]),
            key_schema: Some(vec![KeySchemaElement { attribute_name: "pk".into(), key_type: "HASH".into() }]),
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..Default::default()
        };
        let mut def = TableDefinition::from_create(&input, "000000000000", "us-east-1", 0).unwrap();
        def.features.pitr = Some(PitrSettings { enabled_at: 0, period_days: 1 });
        TableState::new(def)
    }

    fn item(pk: &str, v: &str) -> Item {
        let mut i = Item::new();
        i.insert("pk".into(), AttributeValue::S(pk.into()));
        i.insert("v".into(), AttributeValue::S(v.into()));
        i
    }

    /// Writes `new` (None: deletes) at `at`, journaling the previous version.
    fn write(state: &mut TableState, pk: &str, new: Option<Item>, at: i64) {
        let key = state.schema.key_of_item(&item(pk, "")).unwrap();
        let old = state.data.get(&key).cloned();
        let mut journal = std::mem::take(&mut *state.journal.lock());
        journal.record(state, "k", &key, old.as_ref(), at, false);
        *state.journal.lock() = journal;
        match new {
            Some(i) => {
                state.data.put(key, i);
            }
            None => {
                state.data.delete(&key);
            }
        }
    }

    fn values(mut items: Vec<Item>) -> Vec<String> {
        items.sort_by_key(|i| format!("{:?}", i.get("pk")));
        items.iter().map(|i| format!("{:?}={:?}", i.get("pk"), i.get("v"))).collect()
    }

    #[test]
    fn items_at_an_instant_undo_every_later_change() {
        let mut s = state();
        write(&mut s, "a", Some(item("a", "1")), 10);
        write(&mut s, "b", Some(item("b", "1")), 20);
        write(&mut s, "a", Some(item("a", "2")), 30);
        write(&mut s, "b", None, 40);
        write(&mut s, "a", Some(item("a", "3")), 50);
        let at = |t| values(items_at(&s, &s.journal.lock(), t));
        assert_eq!(at(5), Vec::<String>::new());
        assert_eq!(at(25), values(vec![item("a", "1"), item("b", "1")]));
        assert_eq!(at(35), values(vec![item("a", "2"), item("b", "1")]));
        assert_eq!(at(45), values(vec![item("a", "2")]));
        assert_eq!(at(60), values(vec![item("a", "3")]));
    }

    #[test]
    fn the_window_trails_now_by_five_minutes_and_spans_the_period() {
        let p = PitrSettings { enabled_at: 1_000, period_days: 1 };
        assert_eq!(p.earliest(2_000), 1_000);
        assert_eq!(p.latest(2_000), 1_000);
        let now = 3 * DAY_MILLIS;
        assert_eq!(p.earliest(now), 2 * DAY_MILLIS);
        assert_eq!(p.latest(now), now - LATEST_RESTORABLE_LAG_MILLIS);
    }
}
