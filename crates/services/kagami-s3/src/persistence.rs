//! Durable records of buckets and object metadata in the kagami Store: one record per
//! bucket (key: bucket name, global like AWS's) and one per object version (key:
//! `<bucket>/<object key>\0<version id or "null">`; bucket names hold no `/`, so a
//! bucket's objects share a prefix). Bodies are files beside the store (`blobs.rs`).
//! Other record kinds (bucket configuration, multipart uploads) keep their own tables
//! in the modules that own them; every table is listed in `TABLES` for reset.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const BUCKETS: &str = "s3/buckets";
pub const OBJECTS: &str = "s3/objects";
pub const BUCKET_CONFIG: &str = "s3/bucket-config";
pub const UPLOADS: &str = "s3/uploads";
pub const TABLES: &[&str] = &[BUCKETS, OBJECTS, BUCKET_CONFIG, UPLOADS];

/// Separates the object key from the version id in record keys; S3 keys are XML text,
/// which cannot carry NUL.
const VERSION_SEPARATOR: char = '\u{0}';

/// The store key of one version of an object.
pub fn object_key(bucket: &str, key: &str, version_id: Option<&str>) -> String {
    format!(
        "{bucket}/{key}{VERSION_SEPARATOR}{}",
        version_id.unwrap_or(crate::versions::NULL_VERSION)
    )
}

/// The prefix every record of `bucket` starts with, in any of the bucket's tables.
pub fn bucket_prefix(bucket: &str) -> String {
    format!("{bucket}/")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    /// The owner's account: bucket names are global, buckets are not.
    pub account: String,
    pub region: String,
    pub created: i64,
    /// `Enabled` or `Suspended`; `None` for a bucket that never had versioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
    /// `Enabled` or `Disabled` as last set through PutBucketVersioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_delete: Option<String>,
    /// Set at creation (`x-amz-bucket-object-lock-enabled`) or by
    /// PutObjectLockConfiguration; implies versioning Enabled.
    #[serde(default)]
    pub object_lock_enabled: bool,
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    /// `None` is the `null` version: what unversioned and suspended buckets write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// A delete marker has no body (`file` is empty, `size` 0).
    #[serde(default)]
    pub delete_marker: bool,
    /// Orders the versions of one key across restarts (newest is highest).
    #[serde(default)]
    pub seq: u64,
    /// Name of the body file under `objects/`; empty for delete markers.
    pub file: String,
    pub size: u64,
    /// Quoted, as S3 returns it.
    pub etag: String,
    pub last_modified: i64,
    /// The account that wrote this version.
    #[serde(default)]
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// As the client sent it (an HTTP date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    /// `None` reads as STANDARD, which S3 omits from HeadObject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metadata: IndexMap<String, String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub tags: IndexMap<String, String>,
    /// The checksum of the body: algorithm (`CRC32`, `SHA256`, ...) and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<(String, String)>,
    /// `FULL_OBJECT` or `COMPOSITE` (multipart checksums of checksums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Parts of an object made by CompleteMultipartUpload, in order; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<SseRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockRecord>,
    /// The canned ACL or grants set on this version, as the ACL module records them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<serde_json::Value>,
    /// A RestoreObject of an archived (GLACIER, DEEP_ARCHIVE) version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreRecord>,
}

/// A restore of an archived version: in progress until `ready_at`, then readable until
/// `expires_at` (both emulated epoch milliseconds).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub ready_at: i64,
    pub expires_at: i64,
}

/// One part of a multipart object: what GetObject?partNumber and
/// GetObjectAttributes report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PartRecord {
    pub size: u64,
    /// Quoted MD5 of the part.
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// Server-side encryption as requested and reported.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SseRecord {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`; `None` for SSE-C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key_enabled: Option<bool>,
    /// SSE-C: the algorithm and the MD5 of the customer's key, which every read must present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key_md5: Option<String>,
}

/// Object Lock state of one version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LockRecord {
    /// `GOVERNANCE` or `COMPLIANCE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<i64>,
    #[serde(default)]
    pub legal_hold: bool,
}
