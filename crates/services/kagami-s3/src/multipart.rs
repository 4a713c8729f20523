//! Multipart uploads: parts held as files until CompleteMultipartUpload joins them.

use crate::persistence;
use crate::state::Bucket;
use kagami_core::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &[];

/// One in-progress upload, persisted in `persistence::UPLOADS` under
/// `<bucket>/<upload id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

impl Upload {
    /// The part files this upload holds, to remove when it ends.
    pub fn files(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Loads in-progress uploads into their buckets, adding the files they hold to
/// `referenced` so the startup sweep keeps them.
pub fn load(
    store: &Store,
    buckets: &mut BTreeMap<String, Bucket>,
    referenced: &mut HashSet<String>,
) -> Result<(), StoreError> {
    for (_, upload) in store.scan_json::<Upload>(persistence::UPLOADS)? {
        if let Some(b) = buckets.get_mut(&upload.bucket) {
            referenced.extend(upload.files());
            b.uploads.insert(upload.upload_id.clone(), upload);
        }
    }
    Ok(())
}
