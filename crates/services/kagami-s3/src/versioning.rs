//! PutBucketVersioning and GetBucketVersioning, MFA Delete as a stored setting, and
//! how the per-version subresources (tagging, ACL, retention, legal hold) find the
//! version a request names. The version model itself is `versions.rs`.

use crate::errors::*;
use crate::generated::*;
use crate::objects::find_version;
use crate::persistence::ObjectRecord;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError, Value};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["GetBucketVersioning", "PutBucketVersioning"];

const ENABLED: &str = "Enabled";
const SUSPENDED: &str = "Suspended";
const DISABLED: &str = "Disabled";

impl S3 {
    /// Sets the versioning state (`Enabled` / `Suspended`) and, with `x-amz-mfa`, MFA
    /// Delete. A bucket never goes back to unversioned; a bucket with Object Lock keeps
    /// versioning Enabled for good.
    pub async fn put_bucket_versioning(
        &self,
        ctx: &RequestContext,
        input: PutBucketVersioningRequest,
    ) -> Result<(), ServiceError> {
        let config = input.versioning_configuration;
        let status = config.status.ok_or_else(illegal_versioning_configuration)?;
        if status != ENABLED && status != SUSPENDED {
            return Err(malformed_xml());
        }
        if let Some(mfa_delete) = config.mfa_delete.as_deref()
            && mfa_delete != ENABLED
            && mfa_delete != DISABLED
        {
            return Err(malformed_xml());
        }
        let mfa_present = input.mfa.as_deref().is_some_and(|m| !m.trim().is_empty());
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            // Enabling again is a no-op AWS accepts (Terraform and CDK send it).
            if bucket.record.object_lock_enabled && status == SUSPENDED {
                return Err(invalid_bucket_state(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                ));
            }
            // Changing MFA Delete, or anything while it is on, takes the device's code.
            let mfa_on = bucket.record.mfa_delete.as_deref() == Some(ENABLED);
            if (config.mfa_delete.is_some() || mfa_on) && !mfa_present {
                return Err(mfa_required());
            }
            bucket.record.versioning = Some(status);
            if let Some(mfa_delete) = config.mfa_delete {
                bucket.record.mfa_delete = Some(mfa_delete);
            }
            Ok(((), vec![S3::bucket_record_op(&bucket.record)], Vec::new()))
        })
        .await
    }

    /// The versioning state; empty for a bucket that never had versioning.
    pub fn get_bucket_versioning(
        &self,
        ctx: &RequestContext,
        input: &GetBucketVersioningRequest,
    ) -> Result<GetBucketVersioningOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |b| {
            Ok(GetBucketVersioningOutput {
                status: b.record.versioning.clone(),
                mfa_delete: b.record.mfa_delete.clone(),
            })
        })
    }
}

/// Whether deleting a version for good needs the MFA code the request lacks.
pub fn check_mfa_delete(bucket: &Bucket, mfa_present: bool) -> Result<(), ServiceError> {
    if bucket.record.mfa_delete.as_deref() == Some(ENABLED) && !mfa_present {
        return Err(mfa_required());
    }
    Ok(())
}

/// The version a subresource request (`?tagging`, `?acl`, `?retention`, `?legal-hold`)
/// acts on: the current one without `version_id`. Missing keys and versions answer as
/// GetObject does; a version id naming a delete marker is 405 for `method`.
pub fn target<'a>(
    bucket: &'a Bucket,
    key: &str,
    version_id: Option<&str>,
    method: &str,
) -> Result<&'a ObjectRecord, ServiceError> {
    find_version(bucket, key, version_id, false).map_err(|e| with_method(e, method))?;
    let versions = bucket.objects.get(key).ok_or_else(|| no_such_key(key))?;
    match version_id {
        None => versions.current(),
        Some(id) => versions.find(id),
    }
    .ok_or_else(|| no_such_key(key))
}

/// `target`, for changing the version in place.
pub fn target_mut<'a>(
    bucket: &'a mut Bucket,
    key: &str,
    version_id: Option<&str>,
    method: &str,
) -> Result<&'a mut ObjectRecord, ServiceError> {
    target(bucket, key, version_id, method)?;
    let versions = bucket.objects.get_mut(key).ok_or_else(|| no_such_key(key))?;
    match version_id {
        None => versions.versions.last_mut(),
        Some(id) => versions.find_mut(id),
    }
    .ok_or_else(|| no_such_key(key))
}

/// `find_version` words a delete marker's 405 for GET; PUT and DELETE name themselves.
fn with_method(mut e: ServiceError, method: &str) -> ServiceError {
    if e.code == "MethodNotAllowed" {
        for (name, value) in &mut e.fields {
            if name == "Method" {
                *value = Value::Str(method.to_string());
            }
        }
    }
    e
}
