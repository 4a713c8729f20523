//! On-demand backups: CreateBackup takes a consistent snapshot of a table (its definition
//! and every item, under the table's lock), DescribeBackup/ListBackups/DeleteBackup manage
//! them, RestoreTableFromBackup creates a new table from one. A backup is AVAILABLE at once.
//! As AWS documents, a restored table has the source's keys, indexes and billing, but not
//! its tags, stream, Time to Live or deletion protection.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Backup.Tutorial.html>

use crate::attribute::Item;
use crate::definition::{self, PAY_PER_REQUEST, PROVISIONED, TableDefinition, check_table_name};
use crate::errors::ValidationError;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, Table, TableState, store_failed};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// ListBackups returns at most this many summaries per page.
pub const MAX_LIST_BACKUPS_LIMIT: i32 = 100;

/// A backup's metadata and the definition of the table it was taken of.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupRecord {
    pub arn: String,
    pub name: String,
    pub created_at: i64,
    pub size_bytes: i64,
    pub item_count: i64,
    pub table: TableDefinition,
}

#[derive(Debug)]
pub struct Backup {
    pub record: BackupRecord,
    pub items: Vec<Item>,
}

/// Where a restored table came from (DescribeTable's RestoreSummary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreInfo {
    /// None for a point-in-time restore.
    #[serde(default)]
    pub source_backup_arn: Option<String>,
    pub source_table_arn: String,
    pub restored_at: i64,
}

fn not_found(arn: &str) -> DynamodbError {
    DynamodbError::BackupNotFoundException(format!("Backup not found: {arn}"))
}

fn details(r: &BackupRecord, status: &str) -> BackupDetails {
    BackupDetails {
        backup_arn: r.arn.clone(),
        backup_name: r.name.clone(),
        backup_size_bytes: Some(r.size_bytes),
        backup_status: status.to_string(),
        backup_type: "USER".into(),
        backup_creation_date_time: Timestamp::from_millis(r.created_at),
        backup_expiry_date_time: None,
    }
}

fn key_schema(hash: &str, range: Option<&str>) -> Vec<KeySchemaElement> {
    let mut out = vec![KeySchemaElement { attribute_name: hash.to_string(), key_type: "HASH".into() }];
    out.extend(range.map(|r| KeySchemaElement { attribute_name: r.to_string(), key_type: "RANGE".into() }));
    out
}

fn description(r: &BackupRecord, status: &str) -> BackupDescription {
    let t = &r.table;
    let projection = |i: &definition::IndexDefinition| Projection {
        projection_type: Some(i.projection.projection_type.clone()),
        non_key_attributes: (!i.projection.non_key_attributes.is_empty()).then(|| i.projection.non_key_attributes.clone()),
    };
    let gsis: Vec<GlobalSecondaryIndexInfo> = t
        .global_indexes
        .iter()
        .map(|i| GlobalSecondaryIndexInfo {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.hash_key, i.range_key.as_deref())),
            projection: Some(projection(i)),
            ..Default::default()
        })
        .collect();
    let lsis: Vec<LocalSecondaryIndexInfo> = t
        .local_indexes
        .iter()
        .map(|i| LocalSecondaryIndexInfo {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.hash_key, i.range_key.as_deref())),
            projection: Some(projection(i)),
        })
        .collect();
    BackupDescription {
        backup_details: Some(details(r, status)),
        source_table_details: Some(SourceTableDetails {
            table_name: t.name.clone(),
            table_id: t.table_id.clone(),
            table_arn: Some(t.arn()),
            table_size_bytes: Some(r.size_bytes),
            key_schema: key_schema(&t.hash_key, t.range_key.as_deref()),
            table_creation_date_time: Timestamp::from_millis(t.created_at),
            provisioned_throughput: ProvisionedThroughput { read_capacity_units: t.read_capacity, write_capacity_units: t.write_capacity },
            item_count: Some(r.item_count),
            billing_mode: Some(t.billing_mode.clone()),
            ..Default::default()
        }),
        source_table_feature_details: Some(SourceTableFeatureDetails {
            global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
            local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
            ..Default::default()
        }),
    }
}

fn summary(r: &BackupRecord) -> BackupSummary {
    BackupSummary {
        table_name: Some(r.table.name.clone()),
        table_id: Some(r.table.table_id.clone()),
        table_arn: Some(r.table.arn()),
        backup_arn: Some(r.arn.clone()),
        backup_name: Some(r.name.clone()),
        backup_creation_date_time: Some(Timestamp::from_millis(r.created_at)),
        backup_expiry_date_time: None,
        backup_status: Some("AVAILABLE".into()),
        backup_type: Some("USER".into()),
        backup_size_bytes: Some(r.size_bytes),
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Dynamodb {
    pub async fn create_backup(&self, ctx: &RequestContext, input: CreateBackupInput) -> Result<CreateBackupOutput, ServiceError> {
        check_table_name(&input.backup_name, "backupName")?;
        let (account, region, name) = crate::state::locate(ctx, &input.table_name);
        let table = self.table(account, region, name).ok_or_else(|| DynamodbError::TableNotFoundException(format!("Table not found: {name}")))?;
        // Strictly after every earlier backup, so ListBackups' creation order is the order of
        // the calls even within one millisecond.
        let now = {
            let backups = self.backups.lock();
            let last = backups.values().map(|b| b.record.created_at).max().unwrap_or(0);
            clock::now_millis().max(last.saturating_add(1))
        };
        let backup = {
            let state = table.state.read();
            let items: Vec<Item> = state.data.scan(None, None, |_| true).map(|(_, item)| item.clone()).collect();
            let suffix: String = kagami_core::ids::uuid_v4().chars().filter(char::is_ascii_hexdigit).take(8).collect();
            let record = BackupRecord {
                arn: format!("{}/backup/{now:013}-{suffix}", state.def.arn()),
                name: input.backup_name.clone(),
                created_at: now,
                size_bytes: to_i64(state.data.size_bytes),
                item_count: to_i64(state.data.item_count),
                table: state.def.clone(),
            };
            Arc::new(Backup { record, items })
        };
        let out = details(&backup.record, "AVAILABLE");
        let commit = {
            let mut backups = self.backups.lock();
            backups.insert(backup.record.arn.clone(), Arc::clone(&backup));
            self.persist(|| persistence::put_backup(&backup.record, &backup.items))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(CreateBackupOutput { backup_details: Some(out) })
    }

    fn backup(&self, ctx: &RequestContext, arn: &str) -> Result<Arc<Backup>, DynamodbError> {
        let backups = self.backups.lock();
        backups
            .get(arn)
            .filter(|b| b.record.table.account == ctx.account_id && b.record.table.region == ctx.region)
            .cloned()
            .ok_or_else(|| not_found(arn))
    }

    pub fn describe_backup(&self, ctx: &RequestContext, input: DescribeBackupInput) -> Result<DescribeBackupOutput, DynamodbError> {
        let backup = self.backup(ctx, &input.backup_arn)?;
        Ok(DescribeBackupOutput { backup_description: Some(description(&backup.record, "AVAILABLE")) })
    }

    pub async fn delete_backup(&self, ctx: &RequestContext, input: DeleteBackupInput) -> Result<DeleteBackupOutput, ServiceError> {
        let backup = self.backup(ctx, &input.backup_arn)?;
        let commit = {
            let mut backups = self.backups.lock();
            if backups.remove(&input.backup_arn).is_none() {
                return Err(not_found(&input.backup_arn).into());
            }
            self.persist(|| persistence::delete_backup(&input.backup_arn))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(DeleteBackupOutput { backup_description: Some(description(&backup.record, "DELETED")) })
    }

    pub fn list_backups(&self, ctx: &RequestContext, input: ListBackupsInput) -> Result<ListBackupsOutput, DynamodbError> {
        let limit = input.limit.unwrap_or(MAX_LIST_BACKUPS_LIMIT);
        if !(1..=MAX_LIST_BACKUPS_LIMIT).contains(&limit) {
            let rule = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {rule}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(1);
        let lower = input.time_range_lower_bound.map(|t| t.as_millis());
        let upper = input.time_range_upper_bound.map(|t| t.as_millis());
        let user_backups = !matches!(input.backup_type.as_deref(), Some("SYSTEM" | "AWS_BACKUP"));
        let backups = self.backups.lock();
        let mut matching: Vec<&BackupRecord> = backups
            .values()
            .map(|b| &b.record)
            .filter(|r| r.table.account == ctx.account_id && r.table.region == ctx.region && user_backups)
            .filter(|r| input.table_name.as_ref().is_none_or(|t| *t == r.table.name))
            .filter(|r| lower.is_none_or(|l| r.created_at >= l) && upper.is_none_or(|u| r.created_at < u))
            .collect();
        matching.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.arn.cmp(&b.arn)));
        if let Some(start) = &input.exclusive_start_backup_arn {
            match matching.iter().position(|r| r.arn == *start) {
                Some(i) => {
                    matching.drain(..=i);
                }
                None => matching.clear(),
            }
        }
        let more = matching.len() > limit;
        let page: Vec<BackupSummary> = matching.iter().take(limit).map(|r| summary(r)).collect();
        let last = if more { page.last().and_then(|s| s.backup_arn.clone()) } else { None };
        Ok(ListBackupsOutput { backup_summaries: Some(page), last_evaluated_backup_arn: last })
    }

    pub async fn restore_table_from_backup(
        &self,
        ctx: &RequestContext,
        input: RestoreTableFromBackupInput,
    ) -> Result<RestoreTableFromBackupOutput, ServiceError> {
        check_table_name(&input.target_table_name, "targetTableName")?;
        let backup = self.backup(ctx, &input.backup_arn)?;
        let now = clock::now_millis();
        let source = &backup.record.table;
        let restore = RestoreInfo { source_backup_arn: Some(backup.record.arn.clone()), source_table_arn: source.arn(), restored_at: now };
        let overrides = Overrides {
            billing_mode: input.billing_mode_override.as_deref(),
            throughput: input.provisioned_throughput_override.as_ref(),
            global_indexes: input.global_secondary_index_override.as_deref(),
            local_indexes: input.local_secondary_index_override.as_deref(),
        };
        let def = restored_definition(ctx, source, &input.target_table_name, &overrides, restore, now)?;
        let out = self.create_restored(ctx, def, &backup.items).await?;
        Ok(RestoreTableFromBackupOutput { table_description: Some(out) })
    }

    /// Registers a restored table with its items; TableAlreadyExistsException if its name
    /// is taken.
    pub(crate) async fn create_restored(&self, ctx: &RequestContext, def: TableDefinition, items: &[Item]) -> Result<TableDescription, ServiceError> {
        let key = persistence::table_key(&def.account, &def.region, &def.name);
        let mut state = TableState::new(def);
        let mut ops = Vec::new();
        let durable = self.store.is_durable();
        for item in items {
            // Items of a backup were valid in their table, whose key schema is kept.
            let Ok(k) = state.schema.key_of_item(item) else { continue };
            if durable {
                ops.push(persistence::put_item(&key, &k, item));
            }
            state.data.put(k, item.clone());
        }
        if durable {
            ops.push(persistence::put_table(&state.def));
        }
        let name = state.def.name.clone();
        let table = Arc::new(Table::new(key, state));
        let (out, commit) = {
            let state = table.state.read();
            if !self.insert_if_absent(Arc::clone(&table), &ctx.account_id, &ctx.region, &name) {
                return Err(DynamodbError::TableAlreadyExistsException(format!("Table already exists: {name}")).into());
            }
            (crate::tables::describe(&state, "CREATING"), self.store.submit(ops))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(out)
    }
}

/// The overrides a restore (from a backup or to a point in time) may ask for.
pub(crate) struct Overrides<'a> {
    pub billing_mode: Option<&'a str>,
    pub throughput: Option<&'a ProvisionedThroughput>,
    pub global_indexes: Option<&'a [GlobalSecondaryIndex]>,
    pub local_indexes: Option<&'a [LocalSecondaryIndex]>,
}

/// The definition of a table restored from `source`: its keys, indexes, billing and
/// encryption, but not its tags, stream, Time to Live, deletion protection or other
/// settings, with the overrides applied.
pub(crate) fn restored_definition(
    ctx: &RequestContext,
    source: &TableDefinition,
    target: &str,
    overrides: &Overrides<'_>,
    restore: RestoreInfo,
    now: i64,
) -> Result<TableDefinition, ServiceError> {
    let mut def = TableDefinition {
        name: target.to_string(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        table_id: kagami_core::ids::uuid_v4(),
        created_at: now,
        stream: None,
        tags: Vec::new(),
        deletion_protection: false,
        ttl_attribute: None,
        restore: Some(restore),
        features: Default::default(),
        ..source.clone()
    };
    if let Some(mode) = overrides.billing_mode {
        match mode {
            PAY_PER_REQUEST => {
                def.billing_mode = PAY_PER_REQUEST.into();
                def.pay_per_request_since = Some(now);
                def.read_capacity = 0;
                def.write_capacity = 0;
            }
            PROVISIONED => {
                let Some(t) = overrides.throughput else {
                    return Err(ValidationError::new(
                        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                    )
                    .into());
                };
                def.billing_mode = PROVISIONED.into();
                def.pay_per_request_since = None;
                def.read_capacity = t.read_capacity_units;
                def.write_capacity = t.write_capacity_units;
            }
            other => {
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{other}' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
                ))
                .into());
            }
        }
    } else if let Some(t) = overrides.throughput {
        def.read_capacity = t.read_capacity_units;
        def.write_capacity = t.write_capacity_units;
    }
    if let Some(gsis) = overrides.global_indexes {
        let mut indexes = Vec::with_capacity(gsis.len());
        for g in gsis {
            let index = definition::global_index(&def.billing_mode, &g.index_name, &g.key_schema, &g.projection, g.provisioned_throughput.as_ref())?;
            for key in std::iter::once(&index.hash_key).chain(index.range_key.as_ref()) {
                if !def.attribute_definitions.iter().any(|(n, _)| n == key) {
                    return Err(ValidationError::new(format!(
                        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{key}]"
                    ))
                    .into());
                }
            }
            indexes.push(index);
        }
        def.global_indexes = indexes;
        def.prune_definitions();
    }
    if overrides.local_indexes.is_some() {
        return Err(ValidationError::new("LocalSecondaryIndexOverride is not supported by kagami's restore").into());
    }
    Ok(def)
}

/// DescribeTable's RestoreSummary of a restored table.
pub fn restore_summary(info: &RestoreInfo) -> RestoreSummary {
    RestoreSummary {
        source_backup_arn: info.source_backup_arn.clone(),
        source_table_arn: Some(info.source_table_arn.clone()),
        restore_date_time: Timestamp::from_millis(info.restored_at),
        restore_in_progress: false,
    }
}
