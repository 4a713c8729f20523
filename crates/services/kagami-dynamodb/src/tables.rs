//! Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable,
//! tags, DescribeLimits and DescribeEndpoints.

use crate::definition::{self, IndexDefinition, PAY_PER_REQUEST, PROVISIONED, TableDefinition};
use crate::errors::ValidationError;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, Table, TableState, locate, store_failed, table_not_found};
use crate::storage::IndexData;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use std::sync::Arc;

/// ListTables returns at most this many names per page.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListTables.html>
pub const MAX_LIST_TABLES_LIMIT: i32 = 100;
/// Tags a table may have.
pub const MAX_TAGS: usize = 50;
/// DescribeLimits: the default account and table quotas.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html>
pub const ACCOUNT_MAX_CAPACITY_UNITS: i64 = 80_000;
pub const TABLE_MAX_CAPACITY_UNITS: i64 = 40_000;
/// DescribeEndpoints: how long clients may cache the answer.
pub const ENDPOINT_CACHE_MINUTES: i64 = 1440;

fn key_schema(hash: &str, range: Option<&str>) -> Vec<KeySchemaElement> {
    let mut out = vec![KeySchemaElement { attribute_name: hash.to_string(), key_type: "HASH".into() }];
    if let Some(r) = range {
        out.push(KeySchemaElement { attribute_name: r.to_string(), key_type: "RANGE".into() });
    }
    out
}

fn projection(i: &IndexDefinition) -> Projection {
    Projection {
        projection_type: Some(i.projection.projection_type.clone()),
        non_key_attributes: (!i.projection.non_key_attributes.is_empty()).then(|| i.projection.non_key_attributes.clone()),
    }
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription {
        number_of_decreases_today: Some(0),
        read_capacity_units: Some(read),
        write_capacity_units: Some(write),
        ..Default::default()
    }
}

fn count(n: usize) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The table as DescribeTable (and every table operation) describes it.
pub fn describe(state: &TableState, status: &str) -> TableDescription {
    let def = &state.def;
    let arn = def.arn();
    let index_data = |name: &str| state.data.index(name);
    let gsis: Vec<GlobalSecondaryIndexDescription> = def
        .global_indexes
        .iter()
        .map(|i| GlobalSecondaryIndexDescription {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.hash_key, i.range_key.as_deref())),
            projection: Some(projection(i)),
            index_status: Some("ACTIVE".into()),
            provisioned_throughput: Some(throughput(i.read_capacity, i.write_capacity)),
            index_size_bytes: count(index_data(&i.name).map_or(0, |d| d.size_bytes)),
            item_count: count(index_data(&i.name).map_or(0, |d| d.item_count)),
            index_arn: Some(format!("{arn}/index/{}", i.name)),
            ..Default::default()
        })
        .collect();
    let lsis: Vec<LocalSecondaryIndexDescription> = def
        .local_indexes
        .iter()
        .map(|i| LocalSecondaryIndexDescription {
            index_name: Some(i.name.clone()),
            key_schema: Some(key_schema(&i.hash_key, i.range_key.as_deref())),
            projection: Some(projection(i)),
            index_size_bytes: count(index_data(&i.name).map_or(0, |d| d.size_bytes)),
            item_count: count(index_data(&i.name).map_or(0, |d| d.item_count)),
            index_arn: Some(format!("{arn}/index/{}", i.name)),
        })
        .collect();
    TableDescription {
        attribute_definitions: Some(
            def.attribute_definitions
                .iter()
                .map(|(n, t)| AttributeDefinition { attribute_name: n.clone(), attribute_type: t.clone() })
                .collect(),
        ),
        table_name: Some(def.name.clone()),
        key_schema: Some(key_schema(&def.hash_key, def.range_key.as_deref())),
        table_status: Some(status.to_string()),
        creation_date_time: Some(Timestamp::from_millis(def.created_at)),
        provisioned_throughput: Some(throughput(def.read_capacity, def.write_capacity)),
        table_size_bytes: count(state.data.size_bytes),
        item_count: count(state.data.item_count),
        table_arn: Some(arn.clone()),
        table_id: Some(def.table_id.clone()),
        billing_mode_summary: def.pay_per_request_since.filter(|_| def.billing_mode == PAY_PER_REQUEST).map(|since| BillingModeSummary {
            billing_mode: Some(PAY_PER_REQUEST.into()),
            last_update_to_pay_per_request_date_time: Some(Timestamp::from_millis(since)),
        }),
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        stream_specification: def
            .stream
            .as_ref()
            .map(|s| StreamSpecification { stream_enabled: true, stream_view_type: Some(s.view_type.clone()) }),
        latest_stream_label: def.stream.as_ref().or(def.features.last_stream.as_ref()).map(|s| s.label.clone()),
        latest_stream_arn: def.stream.as_ref().or(def.features.last_stream.as_ref()).map(|s| format!("{arn}/stream/{}", s.label)),
        table_class_summary: def.table_class.as_ref().map(|c| TableClassSummary { table_class: Some(c.clone()), ..Default::default() }),
        deletion_protection_enabled: Some(def.deletion_protection),
        restore_summary: def.restore.as_ref().map(crate::backups::restore_summary),
        replicas: crate::global::replica_descriptions(def),
        global_table_version: crate::global::version(def),
        sse_description: def.sse_kms_key_arn.as_ref().map(|key| SSEDescription {
            status: Some("ENABLED".into()),
            sse_type: Some("KMS".into()),
            kms_master_key_arn: Some(key.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn tag_list(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect()
}

/// A table named by a resource ARN (tag operations): the message quotes the ARN.
fn table_by_arn(dynamodb: &Dynamodb, ctx: &RequestContext, arn: &str) -> Result<Arc<Table>, DynamodbError> {
    let not_found = || DynamodbError::ResourceNotFoundException(format!("Requested resource not found: ResourcArn: {arn} not found"));
    if !arn.starts_with("arn:") {
        return Err(DynamodbError::ValidationException(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}")));
    }
    let (account, region, name) = locate(ctx, arn);
    dynamodb.table(account, region, name).ok_or_else(not_found)
}

impl Dynamodb {
    pub async fn create_table(&self, ctx: &RequestContext, input: CreateTableInput) -> Result<CreateTableOutput, ServiceError> {
        let def = TableDefinition::from_create(&input, &ctx.account_id, &ctx.region, clock::now_millis())?;
        if def.tags.len() > MAX_TAGS {
            return Err(DynamodbError::ValidationException("One or more parameter values were invalid: Too many tags".into()).into());
        }
        let key = persistence::table_key(&def.account, &def.region, &def.name);
        let name = def.name.clone();
        let table = Arc::new(Table::new(key, TableState::new(def)));
        let (description, commit) = {
            let state = table.state.write();
            if !self.insert_if_absent(Arc::clone(&table), &ctx.account_id, &ctx.region, &name) {
                return Err(DynamodbError::ResourceInUseException(format!("Table already exists: {name}")).into());
            }
            // AWS answers CREATING and turns ACTIVE moments later; kagami's table is ready
            // at once, which waiters accept on their first DescribeTable.
            let mut ops = self.streams.sync(None, Some(&state.def), clock::now_millis(), self.store.is_durable());
            (describe(&state, "CREATING"), self.persist(|| {
                ops.push(persistence::put_table(&state.def));
                ops
            }))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(CreateTableOutput { table_description: Some(description) })
    }

    pub fn describe_table(&self, ctx: &RequestContext, input: DescribeTableInput) -> Result<DescribeTableOutput, DynamodbError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let state = table.state.read();
        Ok(DescribeTableOutput { table: Some(describe(&state, "ACTIVE")) })
    }

    pub fn list_tables(&self, ctx: &RequestContext, input: ListTablesInput) -> Result<ListTablesOutput, DynamodbError> {
        let limit = input.limit.unwrap_or(MAX_LIST_TABLES_LIMIT);
        if !(1..=MAX_LIST_TABLES_LIMIT).contains(&limit) {
            let rule = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {rule}"
            )));
        }
        let limit = usize::try_from(limit).unwrap_or(1);
        let names = self.names(&ctx.account_id, &ctx.region);
        let after: Vec<String> = match &input.exclusive_start_table_name {
            Some(start) => names.into_iter().filter(|n| n > start).collect(),
            None => names,
        };
        let more = after.len() > limit;
        let page: Vec<String> = after.into_iter().take(limit).collect();
        let last = if more { page.last().cloned() } else { None };
        Ok(ListTablesOutput { table_names: Some(page), last_evaluated_table_name: last })
    }

    pub async fn delete_table(&self, ctx: &RequestContext, input: DeleteTableInput) -> Result<DeleteTableOutput, ServiceError> {
        let table = self.table_named(ctx, &input.table_name)?;
        let (description, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(table_not_found(&state.def.name).into());
            }
            if state.def.deletion_protection {
                return Err(DynamodbError::ValidationException(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into(),
                )
                .into());
            }
            state.deleted = true;
            // The table's stream stays readable for its retention, closed.
            let mut ops = self.streams.sync(state.def.stream_arn(), None, clock::now_millis(), self.store.is_durable());
            (describe(&state, "DELETING"), self.persist(|| {
                ops.extend(persistence::delete_table(&table.key));
                ops
            }))
        };
        // Unregistered after its deletion is submitted (and outside its lock, which a reset
        // takes while holding the registry): a table of the same name created from now on
        // writes its records after these deletions.
        self.remove(&table);
        commit.wait().await.map_err(store_failed)?;
        let def = table.state.read().def.clone();
        if def.features.replicas.len() > 1 {
            self.leave_group(&def).await;
        }
        Ok(DeleteTableOutput { table_description: Some(description) })
    }

    pub async fn update_table(&self, ctx: &RequestContext, input: UpdateTableInput) -> Result<UpdateTableOutput, ServiceError> {
        let table = self.table_named(ctx, &input.table_name)?;
        if let Some(updates) = &input.replica_updates {
            self.update_replicas(ctx, &table, updates).await?;
            if !changes_table(&input) {
                let state = table.state.read();
                return Ok(UpdateTableOutput { table_description: Some(describe(&state, "UPDATING")) });
            }
        }
        let (description, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(table_not_found(&state.def.name).into());
            }
            let mut def = state.def.clone();
            let new_indexes = apply_update(&mut def, &input, clock::now_millis())?;
            let deleted: Vec<String> =
                state.data.indexes.iter().filter(|d| d.global && def.index(&d.name).is_none()).map(|d| d.name.clone()).collect();
            for name in deleted {
                state.data.remove_index(&name);
            }
            for name in &new_indexes {
                if let Some((index, global)) = def.index(name) {
                    let data = IndexData::new(&def, index, global);
                    state.data.add_index(data);
                }
            }
            let previous_stream = state.def.stream_arn();
            if def.stream != state.def.stream {
                self.streams.unique_label(&mut def, clock::now_millis());
            }
            state.def = def;
            let mut ops = self.streams.sync(previous_stream, Some(&state.def), clock::now_millis(), self.store.is_durable());
            (describe(&state, "UPDATING"), self.persist(|| {
                ops.push(persistence::put_table(&state.def));
                ops
            }))
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateTableOutput { table_description: Some(description) })
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceInput) -> Result<(), ServiceError> {
        let table = table_by_arn(self, ctx, &input.resource_arn)?;
        let commit = {
            let mut state = table.state.write();
            let mut tags = state.def.tags.clone();
            for t in input.tags {
                match tags.iter_mut().find(|(k, _)| *k == t.key) {
                    Some(existing) => existing.1 = t.value,
                    None => tags.push((t.key, t.value)),
                }
            }
            if tags.len() > MAX_TAGS {
                return Err(DynamodbError::ValidationException("One or more parameter values were invalid: Too many tags".into()).into());
            }
            state.def.tags = tags;
            self.persist(|| vec![persistence::put_table(&state.def)])
        };
        commit.wait().await.map_err(store_failed)
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceInput) -> Result<(), ServiceError> {
        let table = table_by_arn(self, ctx, &input.resource_arn)?;
        let commit = {
            let mut state = table.state.write();
            state.def.tags.retain(|(k, _)| !input.tag_keys.contains(k));
            self.persist(|| vec![persistence::put_table(&state.def)])
        };
        commit.wait().await.map_err(store_failed)
    }

    pub fn list_tags_of_resource(&self, ctx: &RequestContext, input: ListTagsOfResourceInput) -> Result<ListTagsOfResourceOutput, DynamodbError> {
        let table = table_by_arn(self, ctx, &input.resource_arn)?;
        let state = table.state.read();
        Ok(ListTagsOfResourceOutput { tags: Some(tag_list(&state.def.tags)), next_token: None })
    }
}

pub fn describe_limits() -> DescribeLimitsOutput {
    DescribeLimitsOutput {
        account_max_read_capacity_units: Some(ACCOUNT_MAX_CAPACITY_UNITS),
        account_max_write_capacity_units: Some(ACCOUNT_MAX_CAPACITY_UNITS),
        table_max_read_capacity_units: Some(TABLE_MAX_CAPACITY_UNITS),
        table_max_write_capacity_units: Some(TABLE_MAX_CAPACITY_UNITS),
    }
}

pub fn describe_endpoints(ctx: &RequestContext) -> DescribeEndpointsResponse {
    DescribeEndpointsResponse {
        endpoints: vec![Endpoint { address: format!("dynamodb.{}.amazonaws.com", ctx.region), cache_period_in_minutes: ENDPOINT_CACHE_MINUTES }],
    }
}

fn invalid(message: impl std::fmt::Display) -> ValidationError {
    ValidationError::new(format!("One or more parameter values were invalid: {message}"))
}

/// Applies an UpdateTable request to a copy of the definition; returns the GSIs it creates.
/// Whether an UpdateTable request changes the table itself (beyond its replicas).
fn changes_table(input: &UpdateTableInput) -> bool {
    !(input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input.global_secondary_index_updates.is_none()
        && input.stream_specification.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.table_class.is_none()
        && input.sse_specification.is_none()
        && input.on_demand_throughput.is_none()
        && input.warm_throughput.is_none())
}

fn apply_update(def: &mut TableDefinition, input: &UpdateTableInput, now: i64) -> Result<Vec<String>, ServiceError> {
    if !changes_table(input) {
        return Err(ValidationError::new(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        )
        .into());
    }
    if let Some(mode) = &input.billing_mode {
        match mode.as_str() {
            PROVISIONED if input.provisioned_throughput.is_none() && def.billing_mode != PROVISIONED => {
                return Err(invalid("ProvisionedThroughput must be specified when BillingMode is PROVISIONED").into());
            }
            PROVISIONED => {}
            PAY_PER_REQUEST => {
                if input.provisioned_throughput.is_some() {
                    return Err(invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST").into());
                }
                if def.billing_mode != PAY_PER_REQUEST {
                    def.pay_per_request_since = Some(now);
                }
                def.read_capacity = 0;
                def.write_capacity = 0;
                for i in &mut def.global_indexes {
                    i.read_capacity = 0;
                    i.write_capacity = 0;
                }
            }
            other => {
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
                ))
                .into());
            }
        }
        def.billing_mode = mode.clone();
    }
    if let Some(t) = &input.provisioned_throughput {
        if def.billing_mode == PAY_PER_REQUEST {
            return Err(invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST").into());
        }
        if t.read_capacity_units < 1 || t.write_capacity_units < 1 {
            return Err(invalid("ReadCapacityUnits and WriteCapacityUnits must both be greater than 0").into());
        }
        def.read_capacity = t.read_capacity_units;
        def.write_capacity = t.write_capacity_units;
    }
    let mut created = Vec::new();
    for update in input.global_secondary_index_updates.iter().flatten() {
        if let Some(c) = &update.create {
            if def.index(&c.index_name).is_some() {
                return Err(invalid(format!("Duplicate index name: {}", c.index_name)).into());
            }
            if def.global_indexes.len() >= definition::MAX_GLOBAL_SECONDARY_INDEXES {
                return Err(invalid(format!(
                    "GlobalSecondaryIndex count exceeds the per-table limit of {}",
                    definition::MAX_GLOBAL_SECONDARY_INDEXES
                ))
                .into());
            }
            let index = definition::global_index(&def.billing_mode, &c.index_name, &c.key_schema, &c.projection, c.provisioned_throughput.as_ref())?;
            definition::merge_definitions(def, input.attribute_definitions.as_deref().unwrap_or_default(), &index)?;
            created.push(index.name.clone());
            def.global_indexes.push(index);
        }
        if let Some(d) = &update.delete {
            if !def.global_indexes.iter().any(|i| i.name == d.index_name) {
                return Err(DynamodbError::ResourceNotFoundException(format!("Requested resource not found: Index: {} not found", d.index_name)).into());
            }
            def.global_indexes.retain(|i| i.name != d.index_name);
            created.retain(|n| *n != d.index_name);
            def.prune_definitions();
        }
        if let Some(u) = &update.update {
            let billing = def.billing_mode.clone();
            let Some(index) = def.global_indexes.iter_mut().find(|i| i.name == u.index_name) else {
                return Err(DynamodbError::ResourceNotFoundException(format!("Requested resource not found: Index: {} not found", u.index_name)).into());
            };
            if let Some(t) = &u.provisioned_throughput {
                if billing == PAY_PER_REQUEST {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                        u.index_name
                    ))
                    .into());
                }
                index.read_capacity = t.read_capacity_units;
                index.write_capacity = t.write_capacity_units;
            }
        }
    }
    if let Some(s) = &input.stream_specification {
        match (&def.stream, s.stream_enabled) {
            (Some(_), true) => {
                return Err(stream_already_enabled(&def.name));
            }
            (None, false) => {
                return Err(ValidationError::new("Table already has no stream enabled").into());
            }
            _ => {
                let previous = def.stream.take();
                def.stream = definition::stream_definition(s, now)?;
                if def.stream.is_none() {
                    // DescribeTable keeps naming the last stream after it is disabled.
                    def.features.last_stream = previous;
                }
            }
        }
    }
    if let Some(p) = input.deletion_protection_enabled {
        def.deletion_protection = p;
    }
    if let Some(sse) = &input.sse_specification {
        def.sse_kms_key_arn = definition::sse_key(sse, &def.account, &def.region)?;
    }
    if let Some(c) = &input.table_class {
        def.table_class = Some(c.clone());
    }
    Ok(created)
}

fn stream_already_enabled(name: &str) -> ServiceError {
    DynamodbError::ValidationException(format!("Table already has an enabled stream: TableName: {name}")).into()
}
