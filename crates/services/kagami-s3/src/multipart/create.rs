//! CreateMultipartUpload and AbortMultipartUpload.

use crate::new_object_headers::NewObjectHeaders;
use super::Upload;
use crate::checksums::Algorithm;
use crate::errors::*;
use crate::generated::*;
use crate::object_acl::AclHeaders;
use crate::persistence::ObjectRecord;
use crate::sse;
use crate::state::S3;
use crate::write_settings::{WriteHeaders, WriteSettings};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kagami_core::{RequestContext, ServiceError, clock};

/// Content-Type of an object stored without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// Random bytes in an upload id (AWS's are long opaque strings).
const UPLOAD_ID_BYTES: usize = 60;

/// A new upload id: URL-safe, long and opaque like AWS's.
fn new_upload_id() -> String {
    let bytes: Vec<u8> = (0..UPLOAD_ID_BYTES).map(|_| fastrand::u8(..)).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The checksum algorithm and type of a new upload, with AWS's rules: a type needs an
/// algorithm; CRC64NVME is always FULL_OBJECT; SHA digests cannot be FULL_OBJECT.
fn checksum_settings(
    algorithm: Option<&str>,
    checksum_type: Option<&str>,
) -> Result<(Option<Algorithm>, Option<String>), ServiceError> {
    let algorithm = match algorithm.filter(|a| !a.is_empty()) {
        Some(a) => Some(Algorithm::parse(a).ok_or_else(unsupported_checksum_algorithm)?),
        None => None,
    };
    let checksum_type = checksum_type
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_uppercase);
    let Some(a) = algorithm else {
        if checksum_type.is_some() {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ));
        }
        return Ok((None, None));
    };
    let t = match checksum_type.as_deref() {
        None if a == Algorithm::Crc64Nvme => "FULL_OBJECT",
        None => "COMPOSITE",
        Some("COMPOSITE") if a == Algorithm::Crc64Nvme => {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.",
            ));
        }
        Some("FULL_OBJECT") if !a.is_crc() => {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                format!(
                    "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                    a.lower()
                ),
            ));
        }
        Some(t @ ("COMPOSITE" | "FULL_OBJECT")) => t,
        Some(other) => {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                format!("Value for x-amz-checksum-type header is invalid: {other}"),
            ));
        }
    };
    Ok((Some(a), Some(t.to_string())))
}

/// Who S3 names as an upload's initiator: the principal's ARN, or for an account's
/// root its canonical user id.
pub fn initiator_id(arn: &str, account: &str) -> String {
    if arn.is_empty() || arn.ends_with(":root") {
        crate::state::canonical_user_id(account)
    } else {
        arn.to_string()
    }
}

impl S3 {
    pub async fn create_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: CreateMultipartUploadRequest,
    ) -> Result<CreateMultipartUploadOutput, ServiceError> {
        let (algorithm, checksum_type) = checksum_settings(
            input.checksum_algorithm.as_deref(),
            input.checksum_type.as_deref(),
        )?;
        // SSE-C when the request carries a key, else what it names, else the bucket's
        // default encryption, else SSE-S3: as PutObject decides.
        let sse = self.with_bucket(ctx, &input.bucket, |b| {
            NewObjectHeaders {
                storage_class: input.storage_class.as_deref(),
                metadata: input.metadata.as_ref(),
                website_redirect_location: input.website_redirect_location.as_deref(),
            }
            .check()?;
            let requested = sse::Requested {
                algorithm: input.server_side_encryption.as_deref(),
                kms_key_id: input.ssekms_key_id.as_deref(),
                bucket_key_enabled: input.bucket_key_enabled,
                customer: sse::Customer {
                    algorithm: input.sse_customer_algorithm.as_deref(),
                    key: input.sse_customer_key.as_deref(),
                    key_md5: input.sse_customer_key_md5.as_deref(),
                },
            };
            sse::for_new_object(ctx, &requested, b.config.get("Encryption").cloned())
        })?;
        // Tags, Object Lock and ACL headers as PutObject checks and records them.
        let settings = self.with_bucket(ctx, &input.bucket, |b| {
            WriteSettings::resolve(
                b,
                &ctx.account_id,
                WriteHeaders {
                    tagging: input.tagging.as_deref(),
                    lock_mode: input.object_lock_mode.as_deref(),
                    lock_retain_until: input.object_lock_retain_until_date.as_ref(),
                    legal_hold: input.object_lock_legal_hold_status.as_deref(),
                    acl: AclHeaders {
                        acl: input.acl.as_deref(),
                        full_control: input.grant_full_control.as_deref(),
                        read: input.grant_read.as_deref(),
                        read_acp: input.grant_read_acp.as_deref(),
                        write: None,
                        write_acp: input.grant_write_acp.as_deref(),
                    },
                },
            )
        })?;
        let upload = Upload {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            upload_id: new_upload_id(),
            initiated: clock::now_millis(),
            owner: ctx.account_id.clone(),
            initiator: ctx.caller_arn(),
            object: ObjectRecord {
                bucket: input.bucket.clone(),
                key: input.key.clone(),
                owner: ctx.account_id.clone(),
                content_type: Some(
                    input
                        .content_type
                        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
                ),
                content_encoding: input.content_encoding,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: input.expires,
                website_redirect_location: input.website_redirect_location,
                storage_class: input.storage_class.filter(|c| c != "STANDARD"),
                metadata: input.metadata.unwrap_or_default(),
                tags: settings.tags,
                sse: Some(sse.clone()),
                lock: settings.lock,
                acl: settings.acl,
                ..Default::default()
            },
            checksum_algorithm: algorithm.map(|a| a.name().to_string()),
            checksum_type: checksum_type.clone(),
            parts: Default::default(),
        };
        let upload_id = upload.upload_id.clone();
        let abort = self
            .with_bucket_mut(ctx, &input.bucket, |b| {
                let op = upload.put_op();
                let abort = super::abort_rule::abort_rule(b, &upload);
                b.uploads.insert(upload.upload_id.clone(), upload);
                Ok((abort, vec![op], Vec::new()))
            })
            .await?;
        let (abort_date, abort_rule_id) = abort.unzip();
        Ok(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            server_side_encryption: sse.algorithm,
            ssekms_key_id: sse.kms_key_id,
            bucket_key_enabled: sse.bucket_key_enabled,
            sse_customer_algorithm: sse.customer_algorithm,
            sse_customer_key_md5: sse.customer_key_md5,
            checksum_algorithm: algorithm.map(|a| a.name().to_string()),
            checksum_type,
            abort_date,
            abort_rule_id,
            ..Default::default()
        })
    }

    /// Forgets the upload and removes its part files.
    pub async fn abort_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: &AbortMultipartUploadRequest,
    ) -> Result<AbortMultipartUploadOutput, ServiceError> {
        self.with_bucket_mut(ctx, &input.bucket, |b| {
            let upload = super::find_upload(b, &input.key, &input.upload_id)?;
            if let Some(t) = input.if_match_initiated_time
                && t.as_millis() / 1000 != upload.initiated / 1000
            {
                return Err(upload_precondition_failed("x-amz-if-match-initiated-time"));
            }
            let ops = upload.delete_ops();
            let files = upload.files();
            b.uploads.remove(&input.upload_id);
            Ok((AbortMultipartUploadOutput::default(), ops, files))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_are_long_url_safe_and_distinct() {
        let (a, b) = (new_upload_id(), new_upload_id());
        assert_eq!(a.len(), 80);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn checksum_type_follows_the_algorithm_as_aws_decides() {
        assert_eq!(checksum_settings(None, None).unwrap(), (None, None));
        assert_eq!(
            checksum_settings(Some("SHA256"), None).unwrap(),
            (Some(Algorithm::Sha256), Some("COMPOSITE".into()))
        );
        assert_eq!(
            checksum_settings(Some("CRC64NVME"), None).unwrap(),
            (Some(Algorithm::Crc64Nvme), Some("FULL_OBJECT".into()))
        );
        assert_eq!(
            checksum_settings(Some("CRC32"), Some("FULL_OBJECT")).unwrap(),
            (Some(Algorithm::Crc32), Some("FULL_OBJECT".into()))
        );
        assert!(checksum_settings(Some("SHA1"), Some("FULL_OBJECT")).is_err());
        assert!(checksum_settings(Some("CRC64NVME"), Some("COMPOSITE")).is_err());
        assert!(checksum_settings(None, Some("COMPOSITE")).is_err());
        assert!(checksum_settings(Some("MD5"), None).is_err());
    }
}
