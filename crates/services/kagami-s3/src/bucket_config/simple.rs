//! Settings that are one value each: who pays for requests (RequestPayment, default
//! `BucketOwner`), Transfer Acceleration (`Enabled` / `Suspended`, never set until put;
//! not available for bucket names with dots) and attribute-based access control (ABAC,
//! `Enabled` / `Disabled`, disabled until put; stored, as tag-based access control
//! belongs to IAM enforcement).

use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError};

pub const OPERATIONS: &[&str] = &[
    "GetBucketAbac",
    "GetBucketAccelerateConfiguration",
    "GetBucketRequestPayment",
    "PutBucketAbac",
    "PutBucketAccelerateConfiguration",
    "PutBucketRequestPayment",
];

const REQUEST_PAYMENT: &str = "RequestPayment";
const ACCELERATE: &str = "Accelerate";
const ABAC: &str = "Abac";

const PAYERS: &[&str] = &["BucketOwner", "Requester"];
const ACCELERATE_STATUSES: &[&str] = &["Enabled", "Suspended"];
const ABAC_STATUSES: &[&str] = &["Enabled", "Disabled"];

impl S3 {
    pub async fn put_bucket_request_payment(
        &self,
        ctx: &RequestContext,
        input: PutBucketRequestPaymentRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        if !PAYERS.contains(&input.request_payment_configuration.payer.as_str()) {
            return Err(malformed_xml());
        }
        self.put_config(
            ctx,
            &input.bucket,
            REQUEST_PAYMENT,
            input.request_payment_configuration,
        )
        .await
    }

    pub fn get_bucket_request_payment(
        &self,
        ctx: &RequestContext,
        input: &GetBucketRequestPaymentRequest,
    ) -> Result<GetBucketRequestPaymentOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config: Option<RequestPaymentConfiguration> =
            self.config_of(ctx, &input.bucket, REQUEST_PAYMENT)?;
        Ok(GetBucketRequestPaymentOutput {
            payer: Some(config.map_or_else(|| "BucketOwner".to_string(), |c| c.payer)),
        })
    }

    pub async fn put_bucket_accelerate_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketAccelerateConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        // The bucket must exist (and be the caller's) before its name is judged.
        self.with_bucket(ctx, &input.bucket, |_| Ok(()))?;
        if input.bucket.contains('.') {
            return Err(invalid_request(
                "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
            ));
        }
        let status = input.accelerate_configuration.status.as_deref();
        if !status.is_some_and(|s| ACCELERATE_STATUSES.contains(&s)) {
            return Err(malformed_xml());
        }
        self.put_config(
            ctx,
            &input.bucket,
            ACCELERATE,
            input.accelerate_configuration,
        )
        .await
    }

    pub fn get_bucket_accelerate_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketAccelerateConfigurationRequest,
    ) -> Result<GetBucketAccelerateConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config: Option<AccelerateConfiguration> =
            self.config_of(ctx, &input.bucket, ACCELERATE)?;
        Ok(GetBucketAccelerateConfigurationOutput {
            status: config.and_then(|c| c.status),
            request_charged: None,
        })
    }

    pub async fn put_bucket_abac(
        &self,
        ctx: &RequestContext,
        input: PutBucketAbacRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let status = input.abac_status.status.as_deref();
        if !status.is_some_and(|s| ABAC_STATUSES.contains(&s)) {
            return Err(malformed_xml());
        }
        self.put_config(ctx, &input.bucket, ABAC, input.abac_status).await
    }

    pub fn get_bucket_abac(
        &self,
        ctx: &RequestContext,
        input: &GetBucketAbacRequest,
    ) -> Result<GetBucketAbacOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config: Option<AbacStatus> = self.config_of(ctx, &input.bucket, ABAC)?;
        Ok(GetBucketAbacOutput {
            abac_status: Some(config.unwrap_or(AbacStatus {
                status: Some("Disabled".to_string()),
            })),
        })
    }
}
