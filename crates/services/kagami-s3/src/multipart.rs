//! Multipart uploads: parts held as files until CompleteMultipartUpload joins them.
//!
//! Persistence (table `persistence::UPLOADS`): one record per upload under
//! `<bucket>/<upload id>` and one per part under `<bucket>/<upload id>/<part number>`,
//! so uploading a part writes one small record, not the whole upload. A part's file is
//! committed (fsynced, renamed) before the record that names it.

/// Puts a checksum into the output member of its algorithm (UploadPart, CopyPartResult,
/// Part, CompleteMultipartUpload share the member names).
macro_rules! set_part_checksum {
    ($out:expr, $algorithm:expr, $value:expr) => {
        match $algorithm {
            $crate::checksums::Algorithm::Crc32 => $out.checksum_crc32 = Some($value),
            $crate::checksums::Algorithm::Crc32c => $out.checksum_crc32_c = Some($value),
            $crate::checksums::Algorithm::Crc64Nvme => $out.checksum_crc64_nvme = Some($value),
            $crate::checksums::Algorithm::Sha1 => $out.checksum_sha1 = Some($value),
            $crate::checksums::Algorithm::Sha256 => $out.checksum_sha256 = Some($value),
        }
    };
}

mod abort_rule;
mod complete;
mod copy;
mod create;
mod lists;
mod parts;

use crate::errors::*;
use crate::persistence::{self, ObjectRecord};
use crate::state::Bucket;
use kagami_core::store::StoreOp;
use kagami_core::{ServiceError, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &[
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CreateMultipartUpload",
    "ListMultipartUploads",
    "ListParts",
    "UploadPart",
    "UploadPartCopy",
];

/// Part numbers S3 accepts.
pub const PART_NUMBERS: std::ops::RangeInclusive<i32> = 1..=10_000;
/// Every part but the last must be at least this large (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part (5 GiB).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// One in-progress upload, persisted in `persistence::UPLOADS` under
/// `<bucket>/<upload id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub initiated: i64,
    /// The account that created the upload (and will own the object).
    #[serde(default)]
    pub owner: String,
    /// The ARN of the principal that created it.
    #[serde(default)]
    pub initiator: String,
    /// The object CompleteMultipartUpload will create, as far as CreateMultipartUpload
    /// said: system and user metadata, storage class, tags, encryption, lock.
    #[serde(default)]
    pub object: ObjectRecord,
    /// `CRC32`, `SHA256`, ...: the checksum every part carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT`, with an algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Parts by number; each is a record of its own.
    #[serde(skip)]
    pub parts: BTreeMap<i32, UploadedPart>,
}

/// One uploaded part, persisted under `<bucket>/<upload id>/<part number>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadedPart {
    pub part_number: i32,
    /// The part's body file (`blobs`).
    pub file: String,
    pub size: u64,
    /// Quoted MD5 of the part.
    pub etag: String,
    pub last_modified: i64,
    /// Base64 checksum of the upload's algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Base64 CRC64NVME of the part, from which the default full-object checksum of an
    /// upload without an algorithm is combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
}

impl Upload {
    /// The part files this upload holds, to remove when it ends.
    pub fn files(&self) -> Vec<String> {
        self.parts.values().map(|p| p.file.clone()).collect()
    }

    /// The store key of the upload record.
    pub fn record_key(&self) -> String {
        upload_key(&self.bucket, &self.upload_id)
    }

    /// The store op that persists the upload record (its parts are records of their own).
    pub fn put_op(&self) -> StoreOp {
        StoreOp::put_json(persistence::UPLOADS, self.record_key(), self)
    }

    pub fn part_op(&self, part: &UploadedPart) -> StoreOp {
        StoreOp::put_json(
            persistence::UPLOADS,
            part_key(&self.bucket, &self.upload_id, part.part_number),
            part,
        )
    }

    /// The ops that forget the upload and all its parts.
    pub fn delete_ops(&self) -> Vec<StoreOp> {
        vec![
            StoreOp::delete(persistence::UPLOADS, self.record_key()),
            StoreOp::delete_prefix(persistence::UPLOADS, format!("{}/", self.record_key())),
        ]
    }
}

fn upload_key(bucket: &str, upload_id: &str) -> String {
    format!("{bucket}/{upload_id}")
}

/// Zero-padded so a scan meets an upload's parts in order.
fn part_key(bucket: &str, upload_id: &str, part_number: i32) -> String {
    format!("{bucket}/{upload_id}/{part_number:05}")
}

/// The upload `upload_id` of `key`: NoSuchUpload when there is none (or it is another
/// key's, as AWS treats it).
pub fn find_upload<'a>(
    bucket: &'a Bucket,
    key: &str,
    upload_id: &str,
) -> Result<&'a Upload, ServiceError> {
    bucket
        .uploads
        .get(upload_id)
        .filter(|u| u.key == key)
        .ok_or_else(|| no_such_upload(upload_id))
}

pub fn find_upload_mut<'a>(
    bucket: &'a mut Bucket,
    key: &str,
    upload_id: &str,
) -> Result<&'a mut Upload, ServiceError> {
    bucket
        .uploads
        .get_mut(upload_id)
        .filter(|u| u.key == key)
        .ok_or_else(|| no_such_upload(upload_id))
}

/// Loads in-progress uploads into their buckets, adding the files they hold to
/// `referenced` so the startup sweep keeps them.
pub fn load(
    store: &Store,
    buckets: &mut BTreeMap<String, Bucket>,
    referenced: &mut HashSet<String>,
) -> Result<(), StoreError> {
    let mut parts = Vec::new();
    for (key, bytes) in store.scan(persistence::UPLOADS)? {
        // `<bucket>/<upload id>` is an upload; one more `/` makes it a part.
        let is_part = key
            .split_once('/')
            .is_some_and(|(_, rest)| rest.contains('/'));
        if is_part {
            parts.push((key, bytes));
            continue;
        }
        match serde_json::from_slice::<Upload>(&bytes) {
            Ok(upload) => {
                if let Some(b) = buckets.get_mut(&upload.bucket) {
                    b.uploads.insert(upload.upload_id.clone(), upload);
                }
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "skipping an upload record that does not decode")
            }
        }
    }
    for (key, bytes) in parts {
        let mut fields = key.splitn(3, '/');
        let (Some(bucket), Some(upload_id)) = (fields.next(), fields.next()) else {
            continue;
        };
        let part = match serde_json::from_slice::<UploadedPart>(&bytes) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(key, error = %e, "skipping a part record that does not decode");
                continue;
            }
        };
        if let Some(upload) = buckets
            .get_mut(bucket)
            .and_then(|b| b.uploads.get_mut(upload_id))
        {
            upload.parts.insert(part.part_number, part);
        }
    }
    for bucket in buckets.values() {
        for upload in bucket.uploads.values() {
            referenced.extend(upload.files());
        }
    }
    Ok(())
}

/// ETags compare without their quotes (clients send both forms).
pub fn same_etag(a: &str, b: &str) -> bool {
    a.trim().trim_matches('"') == b.trim().trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_keys_sort_by_part_number_and_nest_under_their_upload() {
        assert!(part_key("b", "u", 2) < part_key("b", "u", 10));
        assert!(part_key("b", "u", 1).starts_with(&format!("{}/", upload_key("b", "u"))));
    }

    #[test]
    fn etags_match_with_or_without_quotes() {
        assert!(same_etag("\"abc\"", "abc"));
        assert!(!same_etag("\"abc\"", "abd"));
    }
}
