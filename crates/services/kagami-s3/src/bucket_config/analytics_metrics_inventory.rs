//! Configurations a bucket holds many of, each under its Id: analytics (storage class
//! analysis), CloudWatch request metrics, inventory and S3 Intelligent-Tiering archive
//! settings. Put/Get/Delete by Id (NoSuchConfiguration when absent) and List in pages
//! of 100 with a continuation token. Each configuration is its own durable record
//! (`<Family>/<Id>`), so putting one never rewrites the others. They are stored and
//! reported; producing analytics, metrics or inventory reports is not done.

use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kagami_core::{RequestContext, ServiceError};
use kagami_protocol::shapes::{FromValue, IntoValue};

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketAnalyticsConfiguration",
    "DeleteBucketIntelligentTieringConfiguration",
    "DeleteBucketInventoryConfiguration",
    "DeleteBucketMetricsConfiguration",
    "GetBucketAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration",
    "GetBucketMetricsConfiguration",
    "ListBucketAnalyticsConfigurations",
    "ListBucketIntelligentTieringConfigurations",
    "ListBucketInventoryConfigurations",
    "ListBucketMetricsConfigurations",
    "PutBucketAnalyticsConfiguration",
    "PutBucketIntelligentTieringConfiguration",
    "PutBucketInventoryConfiguration",
    "PutBucketMetricsConfiguration",
];

const ANALYTICS: &str = "Analytics";
const METRICS: &str = "Metrics";
const INVENTORY: &str = "Inventory";
const INTELLIGENT_TIERING: &str = "IntelligentTiering";

/// List* operations return at most 100 configurations per page.
const PAGE_SIZE: usize = 100;
/// Each kind is limited to 1,000 configurations per bucket.
const MAX_CONFIGURATIONS: usize = 1000;

const INVENTORY_FORMATS: &[&str] = &["CSV", "ORC", "Parquet"];
const INVENTORY_FREQUENCIES: &[&str] = &["Daily", "Weekly"];
const INVENTORY_VERSIONS: &[&str] = &["All", "Current"];
const INVENTORY_FIELDS: &[&str] = &[
    "Size",
    "LastModifiedDate",
    "StorageClass",
    "ETag",
    "IsMultipartUploaded",
    "ReplicationStatus",
    "EncryptionStatus",
    "ObjectLockRetainUntilDate",
    "ObjectLockMode",
    "ObjectLockLegalHoldStatus",
    "IntelligentTieringAccessTier",
    "BucketKeyStatus",
    "ChecksumAlgorithm",
    "ObjectAccessControlList",
    "ObjectOwner",
];
const TIERING_STATUSES: &[&str] = &["Enabled", "Disabled"];
const ACCESS_TIERS: &[&str] = &["ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"];

fn record_name(family: &str, id: &str) -> String {
    format!("{family}/{id}")
}

fn invalid_token() -> ServiceError {
    ServiceError::new(
        "InvalidArgument",
        400,
        "The continuation token provided is incorrect",
    )
    .with_field("ArgumentName", "continuation-token")
}

/// One page of a family's configurations, Ids in order, with the token of the next.
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

impl S3 {
    async fn put_by_id<T: IntoValue>(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        family: &str,
        id: &str,
        value: T,
    ) -> Result<(), ServiceError> {
        let name = record_name(family, id);
        let prefix = record_name(family, "");
        let (exists, count) = self.with_bucket(ctx, bucket, |b| {
            let count = b
                .config
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .count();
            Ok((b.config.contains_key(&name), count))
        })?;
        if !exists && count >= MAX_CONFIGURATIONS {
            return Err(ServiceError::new(
                "TooManyConfigurations",
                400,
                "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.",
            ));
        }
        self.put_config(ctx, bucket, &name, value).await
    }

    fn get_by_id<T: FromValue>(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        family: &str,
        id: &str,
    ) -> Result<T, ServiceError> {
        self.config_of(ctx, bucket, &record_name(family, id))?
            .ok_or_else(no_such_configuration)
    }

    async fn delete_by_id(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        family: &str,
        id: &str,
    ) -> Result<(), ServiceError> {
        let name = record_name(family, id);
        if !self.with_bucket(ctx, bucket, |b| Ok(b.config.contains_key(&name)))? {
            return Err(no_such_configuration());
        }
        self.delete_config(ctx, bucket, &name).await
    }

    fn list_by_id<T: FromValue>(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        family: &str,
        token: Option<&str>,
    ) -> Result<Page<T>, ServiceError> {
        let prefix = record_name(family, "");
        // The token is the Id the next page starts at, encoded so clients treat it as opaque.
        let start = match token {
            Some(t) => {
                let bytes = URL_SAFE_NO_PAD.decode(t).map_err(|_| invalid_token())?;
                let id = String::from_utf8(bytes).map_err(|_| invalid_token())?;
                record_name(family, &id)
            }
            None => prefix.clone(),
        };
        self.with_bucket(ctx, bucket, |b| {
            let mut entries = b
                .config
                .range(start..)
                .take_while(|(k, _)| k.starts_with(&prefix));
            let mut items = Vec::new();
            for (name, value) in entries.by_ref().take(PAGE_SIZE) {
                let item = T::from_value(value.clone()).map_err(|e| {
                    ServiceError::internal(format!(
                        "the stored configuration {name} does not decode: {e}"
                    ))
                })?;
                items.push(item);
            }
            let next = entries
                .next()
                .and_then(|(k, _)| k.strip_prefix(&prefix))
                .map(|id| URL_SAFE_NO_PAD.encode(id));
            Ok(Page { items, next })
        })
    }
}

fn check_id(id: &str, body_id: &str) -> Result<(), ServiceError> {
    if id.is_empty() || id != body_id {
        return Err(malformed_xml());
    }
    Ok(())
}

fn validate_inventory(id: &str, c: &InventoryConfiguration) -> Result<(), ServiceError> {
    let destination = &c.destination.s3_bucket_destination;
    if !INVENTORY_FORMATS.contains(&destination.format.as_str())
        || !INVENTORY_FREQUENCIES.contains(&c.schedule.frequency.as_str())
        || !INVENTORY_VERSIONS.contains(&c.included_object_versions.as_str())
        || c.optional_fields
            .iter()
            .flatten()
            .any(|f| !INVENTORY_FIELDS.contains(&f.as_str()))
    {
        return Err(malformed_xml());
    }
    if c.id != id {
        return Err(ServiceError::new(
            "IdMismatch",
            400,
            "Document ID does not match the specified configuration ID.",
        ));
    }
    if !destination.bucket.starts_with("arn:aws:s3:::") {
        return Err(ServiceError::new(
            "InvalidS3DestinationBucket",
            400,
            "Invalid bucket ARN.",
        ));
    }
    Ok(())
}

fn validate_tiering(id: &str, c: &IntelligentTieringConfiguration) -> Result<(), ServiceError> {
    check_id(id, &c.id)?;
    if !TIERING_STATUSES.contains(&c.status.as_str())
        || c.tierings.is_empty()
        || c.tierings
            .iter()
            .any(|t| !ACCESS_TIERS.contains(&t.access_tier.as_str()))
    {
        return Err(malformed_xml());
    }
    Ok(())
}

impl S3 {
    pub async fn put_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketAnalyticsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        check_id(&input.id, &input.analytics_configuration.id)?;
        self.put_by_id(
            ctx,
            &input.bucket,
            ANALYTICS,
            &input.id,
            input.analytics_configuration,
        )
        .await
    }

    pub fn get_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketAnalyticsConfigurationRequest,
    ) -> Result<GetBucketAnalyticsConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketAnalyticsConfigurationOutput {
            analytics_configuration: Some(self.get_by_id(
                ctx,
                &input.bucket,
                ANALYTICS,
                &input.id,
            )?),
        })
    }

    pub async fn delete_bucket_analytics_configuration(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketAnalyticsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_by_id(ctx, &input.bucket, ANALYTICS, &input.id)
            .await
    }

    pub fn list_bucket_analytics_configurations(
        &self,
        ctx: &RequestContext,
        input: &ListBucketAnalyticsConfigurationsRequest,
    ) -> Result<ListBucketAnalyticsConfigurationsOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let page = self.list_by_id(
            ctx,
            &input.bucket,
            ANALYTICS,
            input.continuation_token.as_deref(),
        )?;
        Ok(ListBucketAnalyticsConfigurationsOutput {
            is_truncated: Some(page.next.is_some()),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page.next,
            analytics_configuration_list: Some(page.items),
        })
    }

    pub async fn put_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketMetricsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        check_id(&input.id, &input.metrics_configuration.id)?;
        self.put_by_id(
            ctx,
            &input.bucket,
            METRICS,
            &input.id,
            input.metrics_configuration,
        )
        .await
    }

    pub fn get_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketMetricsConfigurationRequest,
    ) -> Result<GetBucketMetricsConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketMetricsConfigurationOutput {
            metrics_configuration: Some(self.get_by_id(ctx, &input.bucket, METRICS, &input.id)?),
        })
    }

    pub async fn delete_bucket_metrics_configuration(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketMetricsConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_by_id(ctx, &input.bucket, METRICS, &input.id)
            .await
    }

    pub fn list_bucket_metrics_configurations(
        &self,
        ctx: &RequestContext,
        input: &ListBucketMetricsConfigurationsRequest,
    ) -> Result<ListBucketMetricsConfigurationsOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let page = self.list_by_id(
            ctx,
            &input.bucket,
            METRICS,
            input.continuation_token.as_deref(),
        )?;
        Ok(ListBucketMetricsConfigurationsOutput {
            is_truncated: Some(page.next.is_some()),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page.next,
            metrics_configuration_list: Some(page.items),
        })
    }

    pub async fn put_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketInventoryConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        validate_inventory(&input.id, &input.inventory_configuration)?;
        self.put_by_id(
            ctx,
            &input.bucket,
            INVENTORY,
            &input.id,
            input.inventory_configuration,
        )
        .await
    }

    pub fn get_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketInventoryConfigurationRequest,
    ) -> Result<GetBucketInventoryConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketInventoryConfigurationOutput {
            inventory_configuration: Some(self.get_by_id(
                ctx,
                &input.bucket,
                INVENTORY,
                &input.id,
            )?),
        })
    }

    pub async fn delete_bucket_inventory_configuration(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketInventoryConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_by_id(ctx, &input.bucket, INVENTORY, &input.id)
            .await
    }

    pub fn list_bucket_inventory_configurations(
        &self,
        ctx: &RequestContext,
        input: &ListBucketInventoryConfigurationsRequest,
    ) -> Result<ListBucketInventoryConfigurationsOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let page = self.list_by_id(
            ctx,
            &input.bucket,
            INVENTORY,
            input.continuation_token.as_deref(),
        )?;
        Ok(ListBucketInventoryConfigurationsOutput {
            continuation_token: input.continuation_token.clone(),
            inventory_configuration_list: Some(page.items),
            is_truncated: Some(page.next.is_some()),
            next_continuation_token: page.next,
        })
    }

    pub async fn put_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketIntelligentTieringConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        validate_tiering(&input.id, &input.intelligent_tiering_configuration)?;
        self.put_by_id(
            ctx,
            &input.bucket,
            INTELLIGENT_TIERING,
            &input.id,
            input.intelligent_tiering_configuration,
        )
        .await
    }

    pub fn get_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketIntelligentTieringConfigurationRequest,
    ) -> Result<GetBucketIntelligentTieringConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketIntelligentTieringConfigurationOutput {
            intelligent_tiering_configuration: Some(self.get_by_id(
                ctx,
                &input.bucket,
                INTELLIGENT_TIERING,
                &input.id,
            )?),
        })
    }

    pub async fn delete_bucket_intelligent_tiering_configuration(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketIntelligentTieringConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_by_id(ctx, &input.bucket, INTELLIGENT_TIERING, &input.id)
            .await
    }

    pub fn list_bucket_intelligent_tiering_configurations(
        &self,
        ctx: &RequestContext,
        input: &ListBucketIntelligentTieringConfigurationsRequest,
    ) -> Result<ListBucketIntelligentTieringConfigurationsOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let page = self.list_by_id(
            ctx,
            &input.bucket,
            INTELLIGENT_TIERING,
            input.continuation_token.as_deref(),
        )?;
        Ok(ListBucketIntelligentTieringConfigurationsOutput {
            is_truncated: Some(page.next.is_some()),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page.next,
            intelligent_tiering_configuration_list: Some(page.items),
        })
    }
}
