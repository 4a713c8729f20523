//! PutBucketReplication, GetBucketReplication, DeleteBucketReplication: the
//! configuration is checked as AWS checks it (versioning Enabled on the source and on
//! existing destination buckets, well-formed rules) and stored. Copying objects to the
//! destination is not done yet.

use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use crate::versions::Versioning;
use kagami_core::{RequestContext, ServiceError};

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketReplication",
    "GetBucketReplication",
    "PutBucketReplication",
];

const CONFIG: &str = "Replication";

/// A replication configuration holds at most 1,000 rules (PutBucketReplication).
const MAX_RULES: usize = 1000;
const STATUSES: &[&str] = &["Enabled", "Disabled"];

/// The ID S3 gives a rule put without one.
pub fn generated_rule_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..48)
        .map(|_| CHARS[fastrand::usize(..CHARS.len())] as char)
        .collect()
}

impl S3 {
    pub async fn put_bucket_replication(
        &self,
        ctx: &RequestContext,
        mut input: PutBucketReplicationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let versioning = self.with_bucket(ctx, &input.bucket, |b| Ok(b.versioning()))?;
        if versioning != Versioning::Enabled {
            return Err(invalid_request(
                "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
            ));
        }
        let rules = &mut input.replication_configuration.rules;
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(malformed_xml());
        }
        for rule in rules.iter_mut() {
            if !STATUSES.contains(&rule.status.as_str()) {
                return Err(malformed_xml());
            }
            if rule.filter.is_some() && rule.delete_marker_replication.is_none() {
                return Err(invalid_request(
                    "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.",
                ));
            }
            let Some(destination) = rule.destination.bucket.strip_prefix("arn:aws:s3:::") else {
                return Err(invalid_argument(
                    "Invalid ARN",
                    "Bucket",
                    &rule.destination.bucket,
                ));
            };
            let destination_versioning = {
                let buckets = self.buckets.read();
                buckets.get(destination).map(|b| b.versioning())
            };
            match destination_versioning {
                None => return Err(invalid_request("Destination bucket must exist.")),
                Some(Versioning::Enabled) => {}
                Some(_) => {
                    return Err(invalid_request(
                        "Destination bucket must have versioning enabled.",
                    ));
                }
            }
            if rule.id.is_none() {
                rule.id = Some(generated_rule_id());
            }
        }
        self.put_config(ctx, &input.bucket, CONFIG, input.replication_configuration)
            .await
    }

    pub fn get_bucket_replication(
        &self,
        ctx: &RequestContext,
        input: &GetBucketReplicationRequest,
    ) -> Result<GetBucketReplicationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config: ReplicationConfiguration =
            self.config_of(ctx, &input.bucket, CONFIG)?.ok_or_else(|| {
                configuration_not_found(
                    "ReplicationConfigurationNotFoundError",
                    "The replication configuration was not found",
                    &input.bucket,
                )
            })?;
        Ok(GetBucketReplicationOutput {
            replication_configuration: Some(config),
        })
    }

    pub async fn delete_bucket_replication(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketReplicationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_config(ctx, &input.bucket, CONFIG).await
    }
}
