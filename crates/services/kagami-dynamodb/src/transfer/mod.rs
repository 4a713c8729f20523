//! Exports to and imports from S3 (kagami's own, through `Peers`).
//!
//! ExportTableToPointInTime writes a full export in DYNAMODB_JSON, in AWS's layout under
//! `<prefix>/AWSDynamoDB/<export id>/`: `manifest-summary.json`, `manifest-files.json`
//! (one JSON line per data file), their `.md5` files, and `data/<name>.json.gz` holding
//! one `{"Item": {...}}` line per item, of the table as it was at ExportTime (which the
//! point-in-time recovery journal reconstructs, so PITR must be on, as AWS requires).
//! ImportTable reads every object under the source prefix (DYNAMODB_JSON or CSV, gzip or
//! not), creates the table and writes the items; a line that does not decode or lacks
//! the key counts as an error, as AWS counts it.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html>
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Format.html>
//!
//! Both finish within the request: the answer says IN_PROGRESS, as AWS's first answer
//! does, and DescribeExport/DescribeImport already report COMPLETED (or FAILED).

mod s3;

use crate::attribute::{AttributeValue, Item, check_item_size};
use crate::codec;
use crate::definition::TableDefinition;
use crate::generated::*;
use crate::persistence;
use crate::state::{Dynamodb, Table, TableState, locate, store_failed};
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Timestamp, Value, clock};
use kagami_protocol::{FromValue, IntoValue};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The most one imported gzip object may inflate to.
const MAX_INFLATED_OBJECT: usize = 1 << 30;

pub const EXPORTS: &str = "dynamodb/exports";
pub const IMPORTS: &str = "dynamodb/imports";
/// ListExports: MaxResults 1 to 25; ListImports: PageSize 1 to 25.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html>
pub const MAX_LIST_EXPORTS: i32 = 25;
pub const MAX_LIST_IMPORTS: i32 = 25;
/// ClientToken idempotency window of exports and imports: 8 hours.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ImportTable.html>
const CLIENT_TOKEN_WINDOW_MS: i64 = 8 * 3600 * 1000;
/// How many items one export data file holds.
const ITEMS_PER_DATA_FILE: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportRecord {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub start_time: i64,
    pub end_time: i64,
    pub table_arn: String,
    pub table_id: String,
    pub export_time: i64,
    pub client_token: Option<String>,
    pub s3_bucket: String,
    pub s3_bucket_owner: Option<String>,
    pub s3_prefix: Option<String>,
    pub s3_sse_algorithm: Option<String>,
    pub s3_sse_kms_key_id: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub billed_size_bytes: i64,
    pub item_count: i64,
    pub manifest: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportRecord {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub table_arn: String,
    pub table_id: String,
    pub client_token: Option<String>,
    /// S3BucketSource, InputFormatOptions and TableCreationParameters as the request gave them.
    pub source: serde_json::Value,
    pub format_options: Option<serde_json::Value>,
    pub creation: serde_json::Value,
    pub input_format: String,
    pub compression: Option<String>,
    pub start_time: i64,
    pub end_time: i64,
    pub processed_bytes: i64,
    pub processed_items: i64,
    pub imported_items: i64,
    pub errors: i64,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
}

fn to_json(v: Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Stream(_) => serde_json::Value::Null,
        Value::Bool(b) => b.into(),
        Value::Int(i) => i.into(),
        Value::Float(f) => f.into(),
        Value::Str(s) => s.into(),
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned().into(),
        Value::Timestamp(t) => t.as_millis().into(),
        Value::List(l) => l.into_iter().map(to_json).collect(),
        Value::Map(m) => m.into_iter().map(|(k, v)| (k, to_json(v))).collect(),
        Value::Document(d) => d,
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect::<IndexMap<_, _>>()),
    }
}

fn shape<T: FromValue>(j: &serde_json::Value) -> Option<T> {
    T::from_value(from_json(j)).ok()
}

fn id() -> String {
    let suffix: String = kagami_core::ids::uuid_v4().chars().filter(char::is_ascii_hexdigit).take(8).collect();
    format!("{:013}-{suffix}", clock::now_millis())
}

fn export_description(r: &ExportRecord) -> ExportDescription {
    ExportDescription {
        export_arn: Some(r.arn.clone()),
        export_status: Some(r.status.clone()),
        start_time: Some(Timestamp::from_millis(r.start_time)),
        end_time: (r.status != "IN_PROGRESS").then(|| Timestamp::from_millis(r.end_time)),
        export_manifest: r.manifest.clone(),
        table_arn: Some(r.table_arn.clone()),
        table_id: Some(r.table_id.clone()),
        export_time: Some(Timestamp::from_millis(r.export_time)),
        client_token: r.client_token.clone(),
        s3_bucket: Some(r.s3_bucket.clone()),
        s3_bucket_owner: r.s3_bucket_owner.clone(),
        s3_prefix: r.s3_prefix.clone(),
        s3_sse_algorithm: r.s3_sse_algorithm.clone(),
        s3_sse_kms_key_id: r.s3_sse_kms_key_id.clone(),
        failure_code: r.failure_code.clone(),
        failure_message: r.failure_message.clone(),
        export_format: Some("DYNAMODB_JSON".into()),
        billed_size_bytes: Some(r.billed_size_bytes),
        item_count: Some(r.item_count),
        export_type: Some("FULL_EXPORT".into()),
        incremental_export_specification: None,
        filter_specification: None,
    }
}

fn import_description(r: &ImportRecord) -> ImportTableDescription {
    ImportTableDescription {
        import_arn: Some(r.arn.clone()),
        import_status: Some(r.status.clone()),
        table_arn: Some(r.table_arn.clone()),
        table_id: Some(r.table_id.clone()),
        client_token: r.client_token.clone(),
        s3_bucket_source: shape(&r.source),
        error_count: Some(r.errors),
        cloud_watch_log_group_arn: None,
        input_format: Some(r.input_format.clone()),
        input_format_options: r.format_options.as_ref().and_then(shape),
        input_compression_type: r.compression.clone(),
        table_creation_parameters: shape(&r.creation),
        start_time: Some(Timestamp::from_millis(r.start_time)),
        end_time: (r.status != "IN_PROGRESS").then(|| Timestamp::from_millis(r.end_time)),
        processed_size_bytes: Some(r.processed_bytes),
        processed_item_count: Some(r.processed_items),
        imported_item_count: Some(r.imported_items),
        failure_code: r.failure_code.clone(),
        failure_message: r.failure_message.clone(),
    }
}

fn export_not_found(arn: &str) -> DynamodbError {
    DynamodbError::ExportNotFoundException(format!("Export not found: {arn}"))
}

fn import_not_found(arn: &str) -> DynamodbError {
    DynamodbError::ImportNotFoundException(format!("Import not found: {arn}"))
}

fn page_size(given: Option<i32>, max: i32, member: &str) -> Result<usize, DynamodbError> {
    let n = given.unwrap_or(max);
    if !(1..=max).contains(&n) {
        let rule = if n < 1 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {max}") };
        return Err(DynamodbError::ValidationException(format!(
            "1 validation error detected: Value '{n}' at '{member}' failed to satisfy constraint: Member must have value {rule}"
        )));
    }
    Ok(usize::try_from(n).unwrap_or(1))
}

fn start_after(token: Option<&str>) -> Result<usize, DynamodbError> {
    match token {
        Some(t) => t.parse().map_err(|_| DynamodbError::ValidationException(format!("Invalid NextToken: {t}"))),
        None => Ok(0),
    }
}

fn md5_base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

impl Dynamodb {
    pub async fn export_table_to_point_in_time(
        &self,
        ctx: &RequestContext,
        input: ExportTableToPointInTimeInput,
    ) -> Result<ExportTableToPointInTimeOutput, ServiceError> {
        if let Some(format) = input.export_format.as_deref()
            && format != "DYNAMODB_JSON"
        {
            return Err(DynamodbError::ValidationException(format!("ExportFormat {format} is not supported by kagami: use DYNAMODB_JSON")).into());
        }
        if let Some(t) = input.export_type.as_deref()
            && t != "FULL_EXPORT"
        {
            return Err(DynamodbError::ValidationException(format!("ExportType {t} is not supported by kagami: use FULL_EXPORT")).into());
        }
        let (account, region, name) = locate(ctx, &input.table_arn);
        let table = self.table(account, region, name).ok_or_else(|| DynamodbError::TableNotFoundException(format!("Table not found: {}", input.table_arn)))?;
        let now = clock::now_millis();
        if let Some(token) = &input.client_token {
            let existing = self
                .exports
                .lock()
                .values()
                .find(|e| e.client_token.as_ref() == Some(token) && e.account == ctx.account_id && e.region == ctx.region && now - e.start_time < CLIENT_TOKEN_WINDOW_MS)
                .cloned();
            if let Some(e) = existing {
                // The same token with other parameters within the idempotency window.
                if e.table_arn != table.state.read().def.arn() || e.s3_bucket != input.s3_bucket || e.s3_prefix != input.s3_prefix {
                    return Err(DynamodbError::ExportConflictException(format!(
                        "Export with ClientToken {token} already exists with different parameters"
                    ))
                    .into());
                }
                return Ok(ExportTableToPointInTimeOutput { export_description: Some(export_description(&e)) });
            }
        }
        let (items, def) = {
            let state = table.state.read();
            let Some(pitr) = &state.def.features.pitr else {
                return Err(crate::pitr::pitr_unavailable(&state.def.name).into());
            };
            let at = input.export_time.map_or(now, |t| t.as_millis());
            if at < pitr.earliest(now) || at > now {
                return Err(DynamodbError::InvalidExportTimeException(
                    "The specified ExportTime is outside of the point in time recovery window.".into(),
                )
                .into());
            }
            (crate::pitr::items_at(&state, &state.journal.lock(), at), state.def.clone())
        };
        let export_id = id();
        let export_time = input.export_time.map_or(now, |t| t.as_millis());
        let mut record = ExportRecord {
            arn: format!("{}/export/{export_id}", def.arn()),
            account: def.account.clone(),
            region: def.region.clone(),
            status: "IN_PROGRESS".into(),
            start_time: now,
            end_time: now,
            table_arn: def.arn(),
            table_id: def.table_id.clone(),
            export_time,
            client_token: input.client_token.clone(),
            s3_bucket: input.s3_bucket.clone(),
            s3_bucket_owner: input.s3_bucket_owner.clone(),
            s3_prefix: input.s3_prefix.clone(),
            s3_sse_algorithm: input.s3_sse_algorithm.clone(),
            s3_sse_kms_key_id: input.s3_sse_kms_key_id.clone(),
            failure_code: None,
            failure_message: None,
            billed_size_bytes: 0,
            item_count: 0,
            manifest: None,
        };
        let answer = export_description(&record);
        let system = RequestContext::system(&ctx.account_id, &ctx.region, "dynamodb");
        match self.write_export(&system, &mut record, &export_id, &items).await {
            Ok(()) => record.status = "COMPLETED".into(),
            Err(e) => {
                record.status = "FAILED".into();
                record.failure_code = Some(format!("S3{}", e.code));
                record.failure_message = Some(e.message);
            }
        }
        record.end_time = clock::now_millis();
        let commit = {
            let mut exports = self.exports.lock();
            exports.insert(record.arn.clone(), record.clone());
            self.persist(|| vec![StoreOp::put_json(EXPORTS, record.arn.clone(), &record)])
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(ExportTableToPointInTimeOutput { export_description: Some(answer) })
    }

    async fn write_export(&self, ctx: &RequestContext, record: &mut ExportRecord, export_id: &str, items: &[Item]) -> Result<(), ServiceError> {
        let base = match record.s3_prefix.as_deref().map(|p| p.trim_end_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/AWSDynamoDB/{export_id}"),
            _ => format!("AWSDynamoDB/{export_id}"),
        };
        let bucket = record.s3_bucket.clone();
        let mut files = String::new();
        let mut billed = 0i64;
        for chunk in items.chunks(ITEMS_PER_DATA_FILE) {
            let mut text = String::new();
            for item in chunk {
                text.push_str(&serde_json::json!({ "Item": codec::item_to_json(item) }).to_string());
                text.push('\n');
            }
            billed += i64::try_from(text.len()).unwrap_or(i64::MAX);
            let body = kagami_protocol::encoding::gzip(text.as_bytes());
            let name: String = kagami_core::ids::uuid_v4().chars().filter(char::is_ascii_alphanumeric).take(26).collect();
            let key = format!("{base}/data/{name}.json.gz");
            let md5 = md5_base64(&body);
            let etag = s3::put_object(&self.peers, ctx, &bucket, &key, body).await?.unwrap_or_default();
            let line = serde_json::json!({
                "itemCount": chunk.len(),
                "md5Checksum": md5,
                "etag": etag.trim_matches('"'),
                "dataFileS3Key": key,
            });
            files.push_str(&line.to_string());
            files.push('\n');
        }
        let files_key = format!("{base}/manifest-files.json");
        s3::put_object(&self.peers, ctx, &bucket, &files_key, files.clone().into_bytes()).await?;
        s3::put_object(&self.peers, ctx, &bucket, &format!("{base}/manifest-files.md5"), md5_hex(files.as_bytes()).into_bytes()).await?;
        record.item_count = i64::try_from(items.len()).unwrap_or(i64::MAX);
        record.billed_size_bytes = billed;
        let iso = |ms: i64| Timestamp::from_millis(ms).to_iso8601_millis();
        let summary = serde_json::json!({
            "version": "2020-06-30",
            "exportArn": record.arn,
            "startTime": iso(record.start_time),
            "endTime": iso(clock::now_millis()),
            "tableArn": record.table_arn,
            "tableId": record.table_id,
            "exportTime": iso(record.export_time),
            "s3Bucket": bucket,
            "s3Prefix": record.s3_prefix,
            "s3SseAlgorithm": record.s3_sse_algorithm.clone().unwrap_or_else(|| "AES256".into()),
            "s3SseKmsKeyId": record.s3_sse_kms_key_id,
            "manifestFilesS3Key": files_key,
            "billedSizeBytes": billed,
            "itemCount": items.len(),
            "outputFormat": "DYNAMODB_JSON",
            "exportType": "FULL_EXPORT",
        })
        .to_string();
        let summary_key = format!("{base}/manifest-summary.json");
        s3::put_object(&self.peers, ctx, &bucket, &summary_key, summary.clone().into_bytes()).await?;
        s3::put_object(&self.peers, ctx, &bucket, &format!("{base}/manifest-summary.md5"), md5_hex(summary.as_bytes()).into_bytes()).await?;
        record.manifest = Some(summary_key);
        Ok(())
    }

    pub fn describe_export(&self, ctx: &RequestContext, input: DescribeExportInput) -> Result<DescribeExportOutput, DynamodbError> {
        let exports = self.exports.lock();
        let r = exports
            .get(&input.export_arn)
            .filter(|r| r.account == ctx.account_id && r.region == ctx.region)
            .ok_or_else(|| export_not_found(&input.export_arn))?;
        Ok(DescribeExportOutput { export_description: Some(export_description(r)) })
    }

    pub fn list_exports(&self, ctx: &RequestContext, input: ListExportsInput) -> Result<ListExportsOutput, DynamodbError> {
        let limit = page_size(input.max_results, MAX_LIST_EXPORTS, "maxResults")?;
        let start = start_after(input.next_token.as_deref())?;
        let exports = self.exports.lock();
        let mut all: Vec<&ExportRecord> = exports
            .values()
            .filter(|r| r.account == ctx.account_id && r.region == ctx.region)
            .filter(|r| input.table_arn.as_ref().is_none_or(|t| *t == r.table_arn))
            .collect();
        all.sort_by(|a, b| a.start_time.cmp(&b.start_time).then_with(|| a.arn.cmp(&b.arn)));
        let page = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| ExportSummary { export_arn: Some(r.arn.clone()), export_status: Some(r.status.clone()), export_type: Some("FULL_EXPORT".into()) })
            .collect();
        let next = (start + limit < all.len()).then(|| (start + limit).to_string());
        Ok(ListExportsOutput { export_summaries: Some(page), next_token: next })
    }

    pub async fn import_table(&self, ctx: &RequestContext, input: ImportTableInput) -> Result<ImportTableOutput, ServiceError> {
        let format = input.input_format.clone();
        if !matches!(format.as_str(), "DYNAMODB_JSON" | "CSV" | "ION") {
            return Err(DynamodbError::ValidationException(format!(
                "1 validation error detected: Value '{format}' at 'inputFormat' failed to satisfy constraint: Member must satisfy enum value set: [DYNAMODB_JSON, ION, CSV]"
            ))
            .into());
        }
        if format == "ION" {
            return Err(DynamodbError::ValidationException("InputFormat ION is not supported by kagami: use DYNAMODB_JSON or CSV".into()).into());
        }
        let compression = input.input_compression_type.clone().unwrap_or_else(|| "NONE".into());
        match compression.as_str() {
            "NONE" | "GZIP" => {}
            "ZSTD" => return Err(DynamodbError::ValidationException("InputCompressionType ZSTD is not supported by kagami: use GZIP or NONE".into()).into()),
            other => {
                return Err(DynamodbError::ValidationException(format!(
                    "1 validation error detected: Value '{other}' at 'inputCompressionType' failed to satisfy constraint: Member must satisfy enum value set: [GZIP, ZSTD, NONE]"
                ))
                .into());
            }
        }
        if format != "CSV" && input.input_format_options.as_ref().is_some_and(|o| o.csv.is_some()) {
            return Err(DynamodbError::ValidationException("InputFormatOptions can only be specified with the CSV InputFormat".into()).into());
        }
        if let Some(token) = &input.client_token {
            let now = clock::now_millis();
            let existing = self
                .imports
                .lock()
                .values()
                .find(|r| r.client_token.as_ref() == Some(token) && r.account == ctx.account_id && r.region == ctx.region && now - r.start_time < CLIENT_TOKEN_WINDOW_MS)
                .cloned();
            if let Some(r) = existing {
                let same = r.source == to_json(input.s3_bucket_source.clone().into_value())
                    && r.creation == to_json(input.table_creation_parameters.clone().into_value())
                    && r.input_format == format;
                if !same {
                    return Err(DynamodbError::ImportConflictException(format!(
                        "Import with ClientToken {token} already exists with different parameters"
                    ))
                    .into());
                }
                return Ok(ImportTableOutput { import_table_description: import_description(&r) });
            }
        }
        let p = &input.table_creation_parameters;
        let create = CreateTableInput {
            table_name: p.table_name.clone(),
            attribute_definitions: Some(p.attribute_definitions.clone()),
            key_schema: Some(p.key_schema.clone()),
            billing_mode: p.billing_mode.clone(),
            provisioned_throughput: p.provisioned_throughput.clone(),
            sse_specification: p.sse_specification.clone(),
            global_secondary_indexes: p.global_secondary_indexes.clone(),
            ..Default::default()
        };
        let now = clock::now_millis();
        let def = TableDefinition::from_create(&create, &ctx.account_id, &ctx.region, now)?;
        if self.table(&ctx.account_id, &ctx.region, &def.name).is_some() {
            return Err(DynamodbError::ResourceInUseException(format!("Table already exists: {}", def.name)).into());
        }
        let mut record = ImportRecord {
            arn: format!("{}/import/{}", def.arn(), id()),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            status: "IN_PROGRESS".into(),
            table_arn: def.arn(),
            table_id: def.table_id.clone(),
            client_token: input.client_token.clone(),
            source: to_json(input.s3_bucket_source.clone().into_value()),
            format_options: input.input_format_options.clone().map(|o| to_json(o.into_value())),
            creation: to_json(input.table_creation_parameters.clone().into_value()),
            input_format: format.clone(),
            compression: input.input_compression_type.clone(),
            start_time: now,
            end_time: now,
            processed_bytes: 0,
            processed_items: 0,
            imported_items: 0,
            errors: 0,
            failure_code: None,
            failure_message: None,
        };
        let answer = import_description(&record);
        let mut state = TableState::new(def);
        let system = RequestContext::system(&ctx.account_id, &ctx.region, "dynamodb");
        let source = &input.s3_bucket_source;
        let csv = input.input_format_options.as_ref().and_then(|o| o.csv.as_ref());
        match self.read_import(&system, source, &format, compression == "GZIP", csv, &mut state, &mut record).await {
            Ok(()) => record.status = "COMPLETED".into(),
            Err(e) => {
                record.status = "FAILED".into();
                record.failure_code = Some(e.code.clone());
                record.failure_message = Some(e.message.clone());
            }
        }
        record.end_time = clock::now_millis();
        let key = persistence::table_key(&state.def.account, &state.def.region, &state.def.name);
        let durable = self.store.is_durable();
        let mut ops = Vec::new();
        if durable && record.status == "COMPLETED" {
            for (position, item) in state.data.scan(None, None, |_| true) {
                ops.push(persistence::put_item(&key, &position.key, item));
            }
            ops.push(persistence::put_table(&state.def));
        }
        if durable {
            ops.push(StoreOp::put_json(IMPORTS, record.arn.clone(), &record));
        }
        let name = state.def.name.clone();
        let completed = record.status == "COMPLETED";
        let table = Arc::new(Table::new(key, state));
        let commit = {
            if completed && !self.insert_if_absent(Arc::clone(&table), &ctx.account_id, &ctx.region, &name) {
                return Err(DynamodbError::ResourceInUseException(format!("Table already exists: {name}")).into());
            }
            self.imports.lock().insert(record.arn.clone(), record.clone());
            self.store.submit(ops)
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(ImportTableOutput { import_table_description: answer })
    }

    #[allow(clippy::too_many_arguments)]
    async fn read_import(
        &self,
        ctx: &RequestContext,
        source: &S3BucketSource,
        format: &str,
        gzipped: bool,
        csv: Option<&CsvOptions>,
        state: &mut TableState,
        record: &mut ImportRecord,
    ) -> Result<(), ServiceError> {
        let prefix = source.s3_key_prefix.clone().unwrap_or_default();
        let keys = s3::list_keys(&self.peers, ctx, &source.s3_bucket, &prefix).await?;
        for (key, _) in keys {
            let raw = s3::get_object(&self.peers, ctx, &source.s3_bucket, &key).await?;
            record.processed_bytes += i64::try_from(raw.len()).unwrap_or(i64::MAX);
            let data = if gzipped {
                match kagami_protocol::encoding::gunzip(&raw, MAX_INFLATED_OBJECT) {
                    Some(d) => d,
                    None => {
                        record.errors += 1;
                        continue;
                    }
                }
            } else {
                raw.to_vec()
            };
            let text = String::from_utf8_lossy(&data);
            let items: Vec<Option<Item>> = if format == "CSV" { csv_items(&text, csv, &state.def) } else { json_items(&text) };
            for item in items {
                record.processed_items += 1;
                let stored = item.and_then(|item| {
                    check_item_size(&item).ok()?;
                    let k = state.schema.key_of_item(&item).ok()?;
                    state.data.put(k, item);
                    Some(())
                });
                if stored.is_some() {
                    record.imported_items += 1;
                } else {
                    record.errors += 1;
                }
            }
        }
        // A key written twice counts twice as processed but is one item.
        record.imported_items = record.imported_items.min(i64::try_from(state.data.item_count).unwrap_or(i64::MAX));
        Ok(())
    }

    pub fn describe_import(&self, ctx: &RequestContext, input: DescribeImportInput) -> Result<DescribeImportOutput, DynamodbError> {
        let imports = self.imports.lock();
        let r = imports
            .get(&input.import_arn)
            .filter(|r| r.account == ctx.account_id && r.region == ctx.region)
            .ok_or_else(|| import_not_found(&input.import_arn))?;
        Ok(DescribeImportOutput { import_table_description: import_description(r) })
    }

    pub fn list_imports(&self, ctx: &RequestContext, input: ListImportsInput) -> Result<ListImportsOutput, DynamodbError> {
        let limit = page_size(input.page_size, MAX_LIST_IMPORTS, "pageSize")?;
        let start = start_after(input.next_token.as_deref())?;
        let imports = self.imports.lock();
        let mut all: Vec<&ImportRecord> = imports
            .values()
            .filter(|r| r.account == ctx.account_id && r.region == ctx.region)
            .filter(|r| input.table_arn.as_ref().is_none_or(|t| *t == r.table_arn))
            .collect();
        all.sort_by(|a, b| a.start_time.cmp(&b.start_time).then_with(|| a.arn.cmp(&b.arn)));
        let page = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| ImportSummary {
                import_arn: Some(r.arn.clone()),
                import_status: Some(r.status.clone()),
                table_arn: Some(r.table_arn.clone()),
                s3_bucket_source: shape(&r.source),
                cloud_watch_log_group_arn: None,
                input_format: Some(r.input_format.clone()),
                start_time: Some(Timestamp::from_millis(r.start_time)),
                end_time: (r.status != "IN_PROGRESS").then(|| Timestamp::from_millis(r.end_time)),
            })
            .collect();
        let next = (start + limit < all.len()).then(|| (start + limit).to_string());
        Ok(ListImportsOutput { import_summary_list: Some(page), next_token: next })
    }
}

/// One `{"Item": {...}}` per line (blank lines skipped); None for a line that does not decode.
fn json_items(text: &str) -> Vec<Option<Item>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).ok()?;
            codec::item_from_json(json.get("Item")?).ok()
        })
        .collect()
}

/// CSV: a header line (or HeaderList), then one item per line. Key attributes take their
/// defined type; every other value is a string, and an empty value is no attribute.
fn csv_items(text: &str, options: Option<&CsvOptions>, def: &TableDefinition) -> Vec<Option<Item>> {
    let delimiter = options.and_then(|o| o.delimiter.as_deref()).and_then(|d| d.chars().next()).unwrap_or(',');
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = match options.and_then(|o| o.header_list.clone()) {
        Some(h) => h,
        None => match lines.next() {
            Some(l) => split_csv(l, delimiter),
            None => return Vec::new(),
        },
    };
    lines
        .map(|line| {
            let mut item = Item::new();
            for (name, value) in header.iter().zip(split_csv(line, delimiter)) {
                if value.is_empty() {
                    continue;
                }
                let typed = match def.attribute_definitions.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()) {
                    Some("N") => AttributeValue::N(value.parse().ok()?),
                    Some("B") => {
                        use base64::Engine as _;
                        AttributeValue::B(base64::engine::general_purpose::STANDARD.decode(value.as_bytes()).ok()?.into())
                    }
                    _ => AttributeValue::S(value),
                };
                item.insert(name.clone(), typed);
            }
            Some(item)
        })
        .collect()
}

/// One CSV line into its fields (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn split_csv(line: &str, delimiter: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (c, false) if c == delimiter => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Loads every export and import record.
pub fn load(store: &kagami_core::Store) -> Result<(Vec<ExportRecord>, Vec<ImportRecord>), kagami_core::StoreError> {
    let exports = store.scan_json::<ExportRecord>(EXPORTS)?.into_iter().map(|(_, r)| r).collect();
    let imports = store.scan_json::<ImportRecord>(IMPORTS)?.into_iter().map(|(_, r)| r).collect();
    Ok((exports, imports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_follow_rfc_4180_quoting() {
        assert_eq!(split_csv(r#"a,"b,c","say ""hi""",,"#, ','), vec!["a", "b,c", "say \"hi\"", "", ""]);
        assert_eq!(split_csv("x|y", '|'), vec!["x", "y"]);
    }

    #[test]
    fn json_lines_that_do_not_decode_are_errors() {
        let items = json_items("{\"Item\":{\"pk\":{\"S\":\"a\"}}}\nnot json\n\n{\"Other\":1}\n");
        assert_eq!(items.len(), 3);
        assert!(items[0].is_some() && items[1].is_none() && items[2].is_none());
    }
}
