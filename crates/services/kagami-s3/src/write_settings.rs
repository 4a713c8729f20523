//! What a write's headers set on the new version besides its body and metadata: tags
//! (`x-amz-tagging`), Object Lock (`x-amz-object-lock-*`, else the bucket's default
//! retention) and the ACL (`x-amz-acl`, `x-amz-grant-*`). PutObject applies them;
//! CopyObject and multipart uploads can reuse `WriteSettings::resolve`.

use crate::errors::invalid_request;
use crate::generated::PutObjectRequest;
use crate::object_acl::{self, AclHeaders};
use crate::object_lock;
use crate::object_tagging;
use crate::persistence::LockRecord;
use crate::state::Bucket;
use indexmap::IndexMap;
use kagami_core::{ServiceError, Timestamp};

/// The headers of a write that `WriteSettings` reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteHeaders<'a> {
    pub tagging: Option<&'a str>,
    pub lock_mode: Option<&'a str>,
    pub lock_retain_until: Option<&'a Timestamp>,
    pub legal_hold: Option<&'a str>,
    pub acl: AclHeaders<'a>,
}

/// Tags, lock and ACL for a new version, checked against the bucket.
#[derive(Debug, Clone, Default)]
pub struct WriteSettings {
    pub tags: IndexMap<String, String>,
    pub lock: Option<LockRecord>,
    pub acl: Option<serde_json::Value>,
}

impl WriteSettings {
    /// `owner_account` writes the version.
    pub fn resolve(
        bucket: &Bucket,
        owner_account: &str,
        headers: WriteHeaders<'_>,
    ) -> Result<WriteSettings, ServiceError> {
        let tags = match headers.tagging {
            Some(raw) => object_tagging::parse_tagging_header(raw)?,
            None => IndexMap::new(),
        };
        let lock = object_lock::lock_for_write(
            bucket,
            headers.lock_mode,
            headers.lock_retain_until,
            headers.legal_hold,
        )?;
        let acl = object_acl::acl_for_write(bucket, owner_account, headers.acl)?;
        Ok(WriteSettings { tags, lock, acl })
    }

    /// PutObject's settings. A version that gets a lock (from headers or the bucket's
    /// default retention) must come with an integrity check: Content-MD5 or a checksum.
    pub fn for_put(
        bucket: &Bucket,
        owner_account: &str,
        input: &PutObjectRequest,
    ) -> Result<WriteSettings, ServiceError> {
        let settings = WriteSettings::resolve(
            bucket,
            owner_account,
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
        )?;
        let checked = input.content_md5.is_some()
            || input.checksum_algorithm.is_some()
            || [
                &input.checksum_crc32,
                &input.checksum_crc32_c,
                &input.checksum_crc64_nvme,
                &input.checksum_sha1,
                &input.checksum_sha256,
            ]
            .iter()
            .any(|c| c.is_some());
        if settings.lock.is_some() && !checked {
            return Err(invalid_request(
                "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
            ));
        }
        Ok(settings)
    }
}
