//! Bucket configuration operations: each configuration is one document per bucket (or
//! one per Id for analytics, metrics, inventory and Intelligent-Tiering), kept as the
//! `Value` of its typed shape through `S3::bucket_config` / `S3::set_bucket_config`,
//! validated as AWS validates it and, where AWS acts on it, acted on: public access
//! blocks refuse public policies and ACLs, ownership controls disable ACLs, lifecycle
//! rules expire objects (`lifecycle_runner.rs`).

pub mod acl;
pub mod analytics_metrics_inventory;
pub mod encryption;
pub mod lifecycle;
pub mod lifecycle_runner;
pub mod logging;
pub mod notification;
pub mod ownership;
pub mod policy;
pub mod public_access_block;
pub mod replication;
pub mod simple;
pub mod tagging;

use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::shapes::{FromValue, IntoValue};

/// A stored document that no longer decodes into its shape: only a bug (or a
/// hand-edited store) gets here, so it is an internal error rather than "not set".
fn undecodable(name: &str, e: &kagami_protocol::shapes::ShapeError) -> ServiceError {
    tracing::error!(configuration = name, error = %e, "stored S3 bucket configuration does not decode");
    ServiceError::internal(format!(
        "the stored {name} configuration does not decode: {e}"
    ))
}

/// Decodes configuration `name` of a bucket already in hand (`None` when not set).
pub(crate) fn config_in<T: FromValue>(
    bucket: &Bucket,
    name: &str,
) -> Result<Option<T>, ServiceError> {
    match bucket.config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::from_value(v.clone())
            .map(Some)
            .map_err(|e| undecodable(name, &e)),
    }
}

impl S3 {
    /// `x-amz-expected-bucket-owner`: AccessDenied when the bucket belongs to another
    /// account than the one the caller names.
    pub(crate) fn check_expected_owner(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        expected: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(expected) = expected else {
            return Ok(());
        };
        self.with_bucket(ctx, bucket, |b| {
            if b.record.account == expected {
                Ok(())
            } else {
                Err(crate::errors::access_denied())
            }
        })
    }

    /// Configuration `name` of the caller's bucket, typed; `None` when not set.
    pub(crate) fn config_of<T: FromValue>(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        name: &str,
    ) -> Result<Option<T>, ServiceError> {
        self.with_bucket(ctx, bucket, |b| config_in(b, name))
    }

    /// Stores configuration `name` of the caller's bucket, durably.
    pub(crate) async fn put_config<T: IntoValue>(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        name: &str,
        value: T,
    ) -> Result<(), ServiceError> {
        self.set_bucket_config(ctx, bucket, name, Some(value.into_value()))
            .await
    }

    /// Removes configuration `name` of the caller's bucket (a no-op when not set, as
    /// S3's Delete* operations are).
    pub(crate) async fn delete_config(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        name: &str,
    ) -> Result<(), ServiceError> {
        self.set_bucket_config(ctx, bucket, name, None).await
    }
}
