//! PutBucketLogging and GetBucketLogging: server access logging settings. The target
//! bucket must exist, belong to the same account and live in the same region, as AWS
//! requires. Writing the access log objects themselves is not done yet.

use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError};

pub const OPERATIONS: &[&str] = &["GetBucketLogging", "PutBucketLogging"];

const CONFIG: &str = "Logging";

impl S3 {
    pub async fn put_bucket_logging(
        &self,
        ctx: &RequestContext,
        input: PutBucketLoggingRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let Some(enabled) = input.bucket_logging_status.logging_enabled else {
            // An empty BucketLoggingStatus turns logging off.
            return self.delete_config(ctx, &input.bucket, CONFIG).await;
        };
        let source_region =
            self.with_bucket(ctx, &input.bucket, |b| Ok(b.record.region.clone()))?;
        {
            let buckets = self.buckets.read();
            let target = &enabled.target_bucket;
            let Some(t) = buckets.get(target) else {
                return Err(invalid_target_bucket_for_logging(
                    target,
                    "The target bucket for logging does not exist",
                ));
            };
            if t.record.account != ctx.account_id {
                return Err(invalid_target_bucket_for_logging(
                    target,
                    "The owner for the bucket to be logged and the target bucket must be the same.",
                ));
            }
            if t.record.region != source_region {
                return Err(ServiceError::new(
                    "CrossLocationLoggingProhibitted",
                    403,
                    "Cross S3 location logging not allowed.",
                )
                .with_field("TargetBucketLocation", t.record.region.clone()));
            }
        }
        self.put_config(ctx, &input.bucket, CONFIG, enabled).await
    }

    pub fn get_bucket_logging(
        &self,
        ctx: &RequestContext,
        input: &GetBucketLoggingRequest,
    ) -> Result<GetBucketLoggingOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketLoggingOutput {
            logging_enabled: self.config_of(ctx, &input.bucket, CONFIG)?,
        })
    }
}
