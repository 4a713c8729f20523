//! Amazon DynamoDB for kagami: tables with global and local secondary indexes, items of
//! every attribute type, condition/update/filter/projection expressions (and the legacy
//! parameters), Query as a range read, Scan with parallel segments, batch reads and writes,
//! transactions, PartiQL, Time to Live, on-demand backups, point-in-time recovery, exports
//! to and imports from S3, global tables (both versions), consumed capacity, tags,
//! Contributor Insights and resource policies; in every (account, region), durable when
//! the store is.
//!
//! The provider below is the generated `DynamodbApi` trait: one method per operation, each
//! handing the typed request to the domain model: `state.rs` (tables by account and
//! region), `tables.rs`, `items.rs`, `query.rs`, `batch.rs`, `transactions.rs`,
//! `partiql/`, `ttl.rs`, `backups.rs`, `pitr.rs`, `transfer/` (S3 exports and imports),
//! `global.rs` (replicas), `kinesis.rs` (Kinesis streaming destinations), `features.rs`
//! (settings kept in the table's record and the
//! operations that only set them); `definition.rs` reads and describes table
//! definitions, `storage.rs` holds items and indexes, `persistence.rs` their records,
//! `capacity.rs` consumed capacity. The data model and the expression engine underneath:
//!
//! - [`attribute`]: [`AttributeValue`] (S, N, B, BOOL, NULL, M, L, SS, NS, BS) and
//!   [`Item`], read from and written to the generated wire shape with DynamoDB's
//!   validation (`AttributeValue::from_generated`, `item_from_generated`), and the item
//!   size DynamoDB counts ([`item_size`], [`check_item_size`]).
//! - [`number`]: exact decimal [`Number`]s with DynamoDB's range, precision, normalised
//!   text, order and arithmetic.
//! - [`ordering`]: [`KeyValue`], the `Ord` key type (numbers numerically, strings and
//!   binaries by bytes), and [`SortKeyCondition`] with the bounds of a range read.
//! - [`keys`]: [`KeySchema`] and [`PrimaryKey`]: keys out of items and `Key` parameters,
//!   and the rules on key attributes in updates and query filters.
//! - [`expressions`]: condition, filter, key-condition, projection and update expressions,
//!   and the legacy parameters converted to the same trees.
//!
//! An operation reads a request in this order (the order DynamoDB reports errors in):
//!
//! ```text
//! expressions::check_parameters(...)?;                        // expression vs legacy parameters
//! let mut attrs = ExpressionAttributes::new(names, values)?;   // the maps, checked
//! // UpdateItem:
//! let update    = attrs.update(update_expression)?;            // or legacy::attribute_updates
//! let condition = attrs.condition(ExpressionKind::ConditionExpression, text)?; // or legacy::expected
//! // Query / Scan:
//! let filter    = attrs.condition(ExpressionKind::FilterExpression, text)?;    // or legacy::filter
//! let projection = attrs.projection(text)?;                    // or legacy::attributes_to_get
//! let keys      = attrs.key_condition(text)?;                  // or legacy::key_conditions
//! attrs.check_all_used()?;
//! let key   = schema.key_from_key(&key_item)?;                 // GetItem/UpdateItem/DeleteItem
//! schema.check_update(&update)?;
//! let query = keys.resolve((hash_name, hash_type), range)?;    // partition + sort-key range
//! if condition.evaluate(&current_item) { let outcome = update.apply(&current_item)?; ... }
//! // (update.apply_new(&schema.key_item(&key)) when the item does not exist yet)
//! ```
//!
//! Every refusal is a [`ValidationError`] carrying AWS's message; it converts into the
//! generated `DynamodbError::ValidationException` and into a `ServiceError`.
//!
//! ## DynamoDB Streams and the change feed
//!
//! `streams/` keeps one change log (one shard) per stream: every item write on a table
//! with a stream enabled (PutItem, UpdateItem, DeleteItem, BatchWriteItem, transactions,
//! PartiQL, TTL deletions) appends an INSERT/MODIFY/REMOVE record in commit order, in the
//! same store commit as the item. [`new_services`] builds the `dynamodb` and
//! `dynamodbstreams` services over one state, and a [`ChangeFeed`] for other services
//! (Lambda event source mappings) to read the logs without going through HTTP:
//!
//! ```text
//! let DynamodbServices { dynamodb, streams, feed } = kagami_dynamodb::new_services(&env)?;
//! let mut woken = feed.subscribe();                       // tokio watch: last sequence written
//! let page = feed.stream_records(&stream_arn, after.as_deref(), 100)?; // after = last SequenceNumber read
//! if page.is_empty() { woken.changed().await.ok(); }      // wait for the next write
//! ```

// ServiceError carries AWS's extra error fields (CancellationReasons, Item); boxing it is
// the protocol crate's choice, not each service's.
#![allow(clippy::result_large_err)]

pub mod generated;
pub mod generated_streams;

pub mod attribute;
mod backups;
mod batch;
mod capacity;
mod codec;
mod definition;
pub mod errors;
pub mod expressions;
mod features;
mod global;
mod items;
mod kinesis;
pub mod keys;
pub mod number;
pub mod ordering;
mod partiql;
mod persistence;
mod pitr;
mod query;
mod state;
mod storage;
mod streams;
mod tables;
mod transactions;
mod transfer;
mod ttl;

pub use attribute::{AttributeValue, Item, Map, ScalarType, check_item_size, check_updated_item_size, item_size};
pub use errors::ValidationError;
pub use expressions::{Condition, ExpressionAttributes, ExpressionKind, KeyConditions, KeyQuery, Path, Projection, Update, UpdateOutcome};
pub use keys::{KeyAttribute, KeySchema, PrimaryKey};
pub use number::Number;
pub use ordering::{KeyValue, SortKeyCondition};

use crate::generated::*;
use crate::state::Dynamodb;
use kagami_core::{BoxFuture, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// DynamoDB Streams' operations, which this crate serves too.
pub use streams::api::IMPLEMENTED as STREAMS_IMPLEMENTED;

/// The operations that behave as AWS documents; every other answers NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "BatchExecuteStatement",
    "BatchGetItem",
    "BatchWriteItem",
    "CreateBackup",
    "CreateGlobalTable",
    "CreateTable",
    "DeleteBackup",
    "DeleteItem",
    "DeleteResourcePolicy",
    "DeleteTable",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeLimits",
    "DescribeTable",
    "DescribeTableReplicaAutoScaling",
    "DescribeTimeToLive",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteStatement",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetItem",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListTables",
    "ListTagsOfResource",
    "PutItem",
    "PutResourcePolicy",
    "Query",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "Scan",
    "TagResource",
    "TransactGetItems",
    "TransactWriteItems",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateItem",
    "UpdateKinesisStreamingDestination",
    "UpdateTable",
    "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// The DynamoDB provider.
pub struct DynamodbProvider {
    dynamodb: Arc<Dynamodb>,
}

impl DynamodbProvider {
    /// Loads the service state (tables, items, indexes) from the store; inside a Tokio
    /// runtime it also starts the sweep that deletes expired items (TTL).
    pub fn new(env: &ServiceEnv) -> Result<Self, StoreError> {
        let dynamodb = Arc::new(Dynamodb::new(env)?);
        ttl::start(&dynamodb);
        global::start(&dynamodb);
        kinesis::start(&dynamodb);
        Ok(DynamodbProvider { dynamodb })
    }
}

impl DynamodbApi for DynamodbProvider {
    async fn batch_execute_statement(
        &self,
        ctx: &RequestContext,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput, ServiceError> {
        self.dynamodb.batch_execute_statement(ctx, input).await
    }

    async fn batch_get_item(&self, ctx: &RequestContext, input: BatchGetItemInput) -> Result<BatchGetItemOutput, ServiceError> {
        self.dynamodb.batch_get_item(ctx, input)
    }

    async fn batch_write_item(&self, ctx: &RequestContext, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput, ServiceError> {
        self.dynamodb.batch_write_item(ctx, input).await
    }

    async fn create_backup(&self, ctx: &RequestContext, input: CreateBackupInput) -> Result<CreateBackupOutput, ServiceError> {
        self.dynamodb.create_backup(ctx, input).await
    }

    async fn create_table(&self, ctx: &RequestContext, input: CreateTableInput) -> Result<CreateTableOutput, ServiceError> {
        self.dynamodb.create_table(ctx, input).await
    }

    async fn delete_backup(&self, ctx: &RequestContext, input: DeleteBackupInput) -> Result<DeleteBackupOutput, ServiceError> {
        self.dynamodb.delete_backup(ctx, input).await
    }

    async fn delete_item(&self, ctx: &RequestContext, input: DeleteItemInput) -> Result<DeleteItemOutput, ServiceError> {
        self.dynamodb.delete_item(ctx, input).await
    }

    async fn delete_table(&self, ctx: &RequestContext, input: DeleteTableInput) -> Result<DeleteTableOutput, ServiceError> {
        self.dynamodb.delete_table(ctx, input).await
    }

    async fn describe_backup(&self, ctx: &RequestContext, input: DescribeBackupInput) -> Result<DescribeBackupOutput, ServiceError> {
        self.dynamodb.describe_backup(ctx, input).map_err(Into::into)
    }

    async fn describe_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: DescribeContinuousBackupsInput,
    ) -> Result<DescribeContinuousBackupsOutput, ServiceError> {
        self.dynamodb.describe_continuous_backups(ctx, input).map_err(Into::into)
    }

    async fn describe_contributor_insights(
        &self,
        ctx: &RequestContext,
        input: DescribeContributorInsightsInput,
    ) -> Result<DescribeContributorInsightsOutput, ServiceError> {
        self.dynamodb.describe_contributor_insights(ctx, input).map_err(Into::into)
    }

    async fn describe_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: DescribeKinesisStreamingDestinationInput,
    ) -> Result<DescribeKinesisStreamingDestinationOutput, ServiceError> {
        self.dynamodb.describe_kinesis_streaming_destination(ctx, input).map_err(Into::into)
    }

    async fn disable_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: KinesisStreamingDestinationInput,
    ) -> Result<KinesisStreamingDestinationOutput, ServiceError> {
        self.dynamodb.disable_kinesis_streaming_destination(ctx, input).await
    }

    async fn enable_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: KinesisStreamingDestinationInput,
    ) -> Result<KinesisStreamingDestinationOutput, ServiceError> {
        self.dynamodb.enable_kinesis_streaming_destination(ctx, input).await
    }

    async fn update_kinesis_streaming_destination(
        &self,
        ctx: &RequestContext,
        input: UpdateKinesisStreamingDestinationInput,
    ) -> Result<UpdateKinesisStreamingDestinationOutput, ServiceError> {
        self.dynamodb.update_kinesis_streaming_destination(ctx, input).await
    }

    async fn list_contributor_insights(&self, ctx: &RequestContext, input: ListContributorInsightsInput) -> Result<ListContributorInsightsOutput, ServiceError> {
        self.dynamodb.list_contributor_insights(ctx, input).map_err(Into::into)
    }

    async fn update_contributor_insights(
        &self,
        ctx: &RequestContext,
        input: UpdateContributorInsightsInput,
    ) -> Result<UpdateContributorInsightsOutput, ServiceError> {
        self.dynamodb.update_contributor_insights(ctx, input).await
    }

    async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyInput) -> Result<PutResourcePolicyOutput, ServiceError> {
        self.dynamodb.put_resource_policy(ctx, input).await
    }

    async fn get_resource_policy(&self, ctx: &RequestContext, input: GetResourcePolicyInput) -> Result<GetResourcePolicyOutput, ServiceError> {
        self.dynamodb.get_resource_policy(ctx, input).map_err(Into::into)
    }

    async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyInput) -> Result<DeleteResourcePolicyOutput, ServiceError> {
        self.dynamodb.delete_resource_policy(ctx, input).await
    }

    async fn update_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput, ServiceError> {
        self.dynamodb.update_continuous_backups(ctx, input).await
    }

    async fn restore_table_to_point_in_time(
        &self,
        ctx: &RequestContext,
        input: RestoreTableToPointInTimeInput,
    ) -> Result<RestoreTableToPointInTimeOutput, ServiceError> {
        self.dynamodb.restore_table_to_point_in_time(ctx, input).await
    }

    async fn export_table_to_point_in_time(
        &self,
        ctx: &RequestContext,
        input: ExportTableToPointInTimeInput,
    ) -> Result<ExportTableToPointInTimeOutput, ServiceError> {
        self.dynamodb.export_table_to_point_in_time(ctx, input).await
    }

    async fn describe_export(&self, ctx: &RequestContext, input: DescribeExportInput) -> Result<DescribeExportOutput, ServiceError> {
        self.dynamodb.describe_export(ctx, input).map_err(Into::into)
    }

    async fn list_exports(&self, ctx: &RequestContext, input: ListExportsInput) -> Result<ListExportsOutput, ServiceError> {
        self.dynamodb.list_exports(ctx, input).map_err(Into::into)
    }

    async fn import_table(&self, ctx: &RequestContext, input: ImportTableInput) -> Result<ImportTableOutput, ServiceError> {
        self.dynamodb.import_table(ctx, input).await
    }

    async fn describe_import(&self, ctx: &RequestContext, input: DescribeImportInput) -> Result<DescribeImportOutput, ServiceError> {
        self.dynamodb.describe_import(ctx, input).map_err(Into::into)
    }

    async fn list_imports(&self, ctx: &RequestContext, input: ListImportsInput) -> Result<ListImportsOutput, ServiceError> {
        self.dynamodb.list_imports(ctx, input).map_err(Into::into)
    }

    async fn create_global_table(&self, ctx: &RequestContext, input: CreateGlobalTableInput) -> Result<CreateGlobalTableOutput, ServiceError> {
        self.dynamodb.create_global_table(ctx, input).await
    }

    async fn describe_global_table(&self, ctx: &RequestContext, input: DescribeGlobalTableInput) -> Result<DescribeGlobalTableOutput, ServiceError> {
        self.dynamodb.describe_global_table(ctx, input).map_err(Into::into)
    }

    async fn list_global_tables(&self, ctx: &RequestContext, input: ListGlobalTablesInput) -> Result<ListGlobalTablesOutput, ServiceError> {
        self.dynamodb.list_global_tables(ctx, input).map_err(Into::into)
    }

    async fn update_global_table(&self, ctx: &RequestContext, input: UpdateGlobalTableInput) -> Result<UpdateGlobalTableOutput, ServiceError> {
        self.dynamodb.update_global_table(ctx, input).await
    }

    async fn describe_global_table_settings(
        &self,
        ctx: &RequestContext,
        input: DescribeGlobalTableSettingsInput,
    ) -> Result<DescribeGlobalTableSettingsOutput, ServiceError> {
        self.dynamodb.describe_global_table_settings(ctx, input).map_err(Into::into)
    }

    async fn update_global_table_settings(
        &self,
        ctx: &RequestContext,
        input: UpdateGlobalTableSettingsInput,
    ) -> Result<UpdateGlobalTableSettingsOutput, ServiceError> {
        self.dynamodb.update_global_table_settings(ctx, input).await
    }

    async fn describe_table_replica_auto_scaling(
        &self,
        ctx: &RequestContext,
        input: DescribeTableReplicaAutoScalingInput,
    ) -> Result<DescribeTableReplicaAutoScalingOutput, ServiceError> {
        self.dynamodb.describe_table_replica_auto_scaling(ctx, input).map_err(Into::into)
    }

    async fn update_table_replica_auto_scaling(
        &self,
        ctx: &RequestContext,
        input: UpdateTableReplicaAutoScalingInput,
    ) -> Result<UpdateTableReplicaAutoScalingOutput, ServiceError> {
        self.dynamodb.update_table_replica_auto_scaling(ctx, input).await
    }

    async fn describe_endpoints(&self, ctx: &RequestContext, _input: DescribeEndpointsRequest) -> Result<DescribeEndpointsResponse, ServiceError> {
        Ok(tables::describe_endpoints(ctx))
    }

    async fn describe_limits(&self, _ctx: &RequestContext, _input: DescribeLimitsInput) -> Result<DescribeLimitsOutput, ServiceError> {
        Ok(tables::describe_limits())
    }

    async fn describe_table(&self, ctx: &RequestContext, input: DescribeTableInput) -> Result<DescribeTableOutput, ServiceError> {
        self.dynamodb.describe_table(ctx, input).map_err(Into::into)
    }

    async fn describe_time_to_live(&self, ctx: &RequestContext, input: DescribeTimeToLiveInput) -> Result<DescribeTimeToLiveOutput, ServiceError> {
        self.dynamodb.describe_time_to_live(ctx, input).map_err(Into::into)
    }

    async fn execute_statement(&self, ctx: &RequestContext, input: ExecuteStatementInput) -> Result<ExecuteStatementOutput, ServiceError> {
        self.dynamodb.execute_statement(ctx, input).await
    }

    async fn execute_transaction(&self, ctx: &RequestContext, input: ExecuteTransactionInput) -> Result<ExecuteTransactionOutput, ServiceError> {
        self.dynamodb.execute_transaction(ctx, input).await
    }

    async fn get_item(&self, ctx: &RequestContext, input: GetItemInput) -> Result<GetItemOutput, ServiceError> {
        self.dynamodb.get_item(ctx, input)
    }

    async fn list_backups(&self, ctx: &RequestContext, input: ListBackupsInput) -> Result<ListBackupsOutput, ServiceError> {
        self.dynamodb.list_backups(ctx, input).map_err(Into::into)
    }

    async fn list_tables(&self, ctx: &RequestContext, input: ListTablesInput) -> Result<ListTablesOutput, ServiceError> {
        self.dynamodb.list_tables(ctx, input).map_err(Into::into)
    }

    async fn list_tags_of_resource(&self, ctx: &RequestContext, input: ListTagsOfResourceInput) -> Result<ListTagsOfResourceOutput, ServiceError> {
        self.dynamodb.list_tags_of_resource(ctx, input).map_err(Into::into)
    }

    async fn put_item(&self, ctx: &RequestContext, input: PutItemInput) -> Result<PutItemOutput, ServiceError> {
        self.dynamodb.put_item(ctx, input).await
    }

    async fn query(&self, ctx: &RequestContext, input: QueryInput) -> Result<QueryOutput, ServiceError> {
        self.dynamodb.query(ctx, input)
    }

    async fn restore_table_from_backup(
        &self,
        ctx: &RequestContext,
        input: RestoreTableFromBackupInput,
    ) -> Result<RestoreTableFromBackupOutput, ServiceError> {
        self.dynamodb.restore_table_from_backup(ctx, input).await
    }

    async fn scan(&self, ctx: &RequestContext, input: ScanInput) -> Result<ScanOutput, ServiceError> {
        self.dynamodb.scan(ctx, input)
    }

    async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceInput) -> Result<(), ServiceError> {
        self.dynamodb.tag_resource(ctx, input).await
    }

    async fn transact_get_items(&self, ctx: &RequestContext, input: TransactGetItemsInput) -> Result<TransactGetItemsOutput, ServiceError> {
        self.dynamodb.transact_get_items(ctx, input)
    }

    async fn transact_write_items(&self, ctx: &RequestContext, input: TransactWriteItemsInput) -> Result<TransactWriteItemsOutput, ServiceError> {
        self.dynamodb.transact_write_items(ctx, input).await
    }

    async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceInput) -> Result<(), ServiceError> {
        self.dynamodb.untag_resource(ctx, input).await
    }

    async fn update_item(&self, ctx: &RequestContext, input: UpdateItemInput) -> Result<UpdateItemOutput, ServiceError> {
        self.dynamodb.update_item(ctx, input).await
    }

    async fn update_table(&self, ctx: &RequestContext, input: UpdateTableInput) -> Result<UpdateTableOutput, ServiceError> {
        self.dynamodb.update_table(ctx, input).await
    }

    async fn update_time_to_live(&self, ctx: &RequestContext, input: UpdateTimeToLiveInput) -> Result<UpdateTimeToLiveOutput, ServiceError> {
        self.dynamodb.update_time_to_live(ctx, input).await
    }

    /// DynamoDB words a missing member as a constraint on its camelCase name, and a value of
    /// the wrong JSON type as a SerializationException.
    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        match error {
            ShapeError::Missing { member } => {
                let mut chars = member.chars();
                let camel: String = chars.next().map(|c| c.to_ascii_lowercase()).into_iter().chain(chars).collect();
                DynamodbError::ValidationException(format!(
                    "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
                ))
                .into()
            }
            ShapeError::Invalid { member, detail } => {
                ServiceError::new("SerializationException", 400, format!("Unexpected value for {member}: {detail}"))
            }
        }
    }
}

/// The DynamoDB service as the gateway sees it.
pub struct DynamodbService {
    provider: DynamodbProvider,
}

impl Service for DynamodbService {
    fn name(&self) -> &'static str {
        "dynamodb"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    fn reset(&self) {
        self.provider.dynamodb.reset();
    }
}

/// Builds the DynamoDB service, loading its tables and items from a durable store.
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(DynamodbService { provider: DynamodbProvider::new(env)? }))
}

/// The DynamoDB and DynamoDB Streams services over one state, and its change feed.
pub struct DynamodbServices {
    pub dynamodb: Arc<dyn Service>,
    pub streams: Arc<dyn Service>,
    pub feed: ChangeFeed,
}

/// Builds both services (and the feed), loading tables, items and stream records.
pub fn new_services(env: &ServiceEnv) -> Result<DynamodbServices, StoreError> {
    let provider = DynamodbProvider::new(env)?;
    let dynamodb = Arc::clone(&provider.dynamodb);
    Ok(DynamodbServices {
        streams: Arc::new(streams::api::StreamsService { provider: streams::api::StreamsProvider { dynamodb: Arc::clone(&dynamodb) } }),
        feed: ChangeFeed { dynamodb },
        dynamodb: Arc::new(DynamodbService { provider }),
    })
}

/// Read access to every stream's records, for services inside kagami (Lambda event source
/// mappings). Cheap to clone.
#[derive(Clone)]
pub struct ChangeFeed {
    dynamodb: Arc<Dynamodb>,
}

/// Why the change feed cannot read a stream.
#[derive(Debug, thiserror::Error)]
pub enum ChangeFeedError {
    #[error("stream {0} not found")]
    StreamNotFound(String),
    #[error("invalid sequence number {0}")]
    InvalidSequenceNumber(String),
}

impl ChangeFeed {
    /// Up to `limit` records of the stream `stream_arn` (a table's `LatestStreamArn`) with
    /// a sequence number after `after_sequence` (all retained records when `None`), oldest
    /// first, as GetRecords returns them. `Record::into_value` gives the Streams API's
    /// JSON; a Lambda event's record differs only in adding `eventSourceARN` and spelling
    /// `userIdentity` as `{"type", "principalId"}` instead of `{"Type", "PrincipalId"}`.
    pub fn stream_records(&self, stream_arn: &str, after_sequence: Option<&str>, limit: usize) -> Result<Vec<generated_streams::Record>, ChangeFeedError> {
        let after: u128 = match after_sequence {
            Some(s) => s.parse().map_err(|_| ChangeFeedError::InvalidSequenceNumber(s.to_string()))?,
            None => 0,
        };
        let log = self.dynamodb.streams.get(stream_arn).ok_or_else(|| ChangeFeedError::StreamNotFound(stream_arn.to_string()))?;
        let log = log.lock();
        let now = kagami_core::clock::now_millis();
        Ok(log
            .records
            .iter()
            .filter(|r| r.sequence > after && r.created_at >= now - streams::RETENTION_MILLIS)
            .take(limit)
            .map(|r| streams::api::wire_record(&log.meta.region, &log.meta.view_type, r))
            .collect())
    }

    /// Whether the stream exists and is still open (a disabled stream's shard is closed:
    /// once its records are read there will be no more).
    pub fn stream_open(&self, stream_arn: &str) -> Option<bool> {
        self.dynamodb.streams.get(stream_arn).map(|l| l.lock().meta.ending_sequence.is_none())
    }

    /// A receiver of the last sequence number written to any stream: `changed().await`
    /// wakes a reader after every stream write.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u128> {
        self.dynamodb.streams.written.subscribe()
    }
}

#[cfg(test)]
mod tests;
