//! PutBucketOwnershipControls, GetBucketOwnershipControls, DeleteBucketOwnershipControls.
//!
//! Since April 2023 AWS creates buckets with Object Ownership `BucketOwnerEnforced`
//! (ACLs disabled), and GetBucketOwnershipControls reports it; only after
//! DeleteBucketOwnershipControls is there none (OwnershipControlsNotFoundError), which
//! behaves as `ObjectWriter`. With `BucketOwnerEnforced` ACLs other than the owner's
//! full control are refused (`acl.rs`).

use super::acl;
use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::shapes::FromValue;

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketOwnershipControls",
    "GetBucketOwnershipControls",
    "PutBucketOwnershipControls",
];

pub const CONFIG: &str = "OwnershipControls";

pub const BUCKET_OWNER_ENFORCED: &str = "BucketOwnerEnforced";
const OBJECT_OWNERSHIPS: &[&str] = &[
    "BucketOwnerPreferred",
    "ObjectWriter",
    BUCKET_OWNER_ENFORCED,
];

/// The bucket's ownership controls in force: `BucketOwnerEnforced` until put or deleted.
pub fn ownership_controls(bucket: &Bucket) -> Option<OwnershipControls> {
    match bucket.config.get(CONFIG) {
        None => Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: BUCKET_OWNER_ENFORCED.to_string(),
            }],
        }),
        Some(Value::Null) => None,
        Some(v) => OwnershipControls::from_value(v.clone()).ok(),
    }
}

/// Whether ACLs are disabled on the bucket (Object Ownership `BucketOwnerEnforced`).
pub fn acls_disabled(bucket: &Bucket) -> bool {
    ownership_controls(bucket).is_some_and(|c| {
        c.rules
            .iter()
            .any(|r| r.object_ownership == BUCKET_OWNER_ENFORCED)
    })
}

impl S3 {
    pub async fn put_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: PutBucketOwnershipControlsRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let rules = &input.ownership_controls.rules;
        let [rule] = rules.as_slice() else {
            return Err(malformed_xml());
        };
        if !OBJECT_OWNERSHIPS.contains(&rule.object_ownership.as_str()) {
            return Err(malformed_xml());
        }
        if rule.object_ownership == BUCKET_OWNER_ENFORCED {
            let granted_to_others = self.with_bucket(ctx, &input.bucket, |b| {
                Ok(!acl::grants_only_owner_full_control(&acl::bucket_acl(b)))
            })?;
            if granted_to_others {
                return Err(invalid_bucket_acl_with_object_ownership());
            }
        }
        self.put_config(ctx, &input.bucket, CONFIG, input.ownership_controls)
            .await
    }

    pub fn get_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: &GetBucketOwnershipControlsRequest,
    ) -> Result<GetBucketOwnershipControlsOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let controls = self.with_bucket(ctx, &input.bucket, |b| Ok(ownership_controls(b)))?;
        let controls = controls.ok_or_else(|| {
            configuration_not_found(
                "OwnershipControlsNotFoundError",
                "The bucket ownership controls were not found",
                &input.bucket,
            )
        })?;
        Ok(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(controls),
        })
    }

    pub async fn delete_bucket_ownership_controls(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketOwnershipControlsRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.set_bucket_config(ctx, &input.bucket, CONFIG, Some(Value::Null))
            .await
    }
}

pub fn invalid_bucket_acl_with_object_ownership() -> ServiceError {
    ServiceError::new(
        "InvalidBucketAclWithObjectOwnership",
        400,
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )
}

/// The OwnershipControls of a CreateBucket's `x-amz-object-ownership`; `None` when
/// absent (the default, BucketOwnerEnforced, applies).
pub fn created_ownership(header: Option<&str>) -> Result<Option<OwnershipControls>, ServiceError> {
    let Some(ownership) = header else { return Ok(None) };
    if !OBJECT_OWNERSHIPS.contains(&ownership) {
        return Err(ServiceError::new(
            "InvalidArgument",
            400,
            format!("Invalid x-amz-object-ownership header: {ownership}"),
        )
        .with_field("ArgumentName", "x-amz-object-ownership")
        .with_field("ArgumentValue", ownership));
    }
    Ok(Some(OwnershipControls {
        rules: vec![OwnershipControlsRule {
            object_ownership: ownership.to_string(),
        }],
    }))
}
