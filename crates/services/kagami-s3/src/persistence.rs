//! Durable records of buckets and object metadata in the kagami Store: one record per
//! bucket (key: bucket name, global like AWS's) and one per object (key:
//! `<bucket>/<object key>`; bucket names hold no `/`, so a bucket's objects share a
//! prefix). Bodies are files beside the store (`blobs.rs`).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const BUCKETS: &str = "s3/buckets";
pub const OBJECTS: &str = "s3/objects";
pub const TABLES: &[&str] = &[BUCKETS, OBJECTS];

pub fn object_key(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    /// The owner's account: bucket names are global, buckets are not.
    pub account: String,
    pub region: String,
    pub created: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub bucket: String,
    pub key: String,
    /// Name of the body file under `objects/`.
    pub file: String,
    pub size: u64,
    /// Quoted, as S3 returns it.
    pub etag: String,
    pub last_modified: i64,
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
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metadata: IndexMap<String, String>,
    /// The client's checksum of the body: algorithm (`CRC32`, `SHA256`, ...) and value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<(String, String)>,
}
