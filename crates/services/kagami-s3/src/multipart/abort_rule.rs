//! The lifecycle rule that will abort an upload (`AbortIncompleteMultipartUpload`):
//! CreateMultipartUpload and ListParts report its id and the date it applies.

use super::Upload;
use crate::bucket_config::lifecycle::bucket_lifecycle;
use crate::bucket_config::lifecycle_runner::due_after;
use crate::generated::LifecycleRule;
use crate::state::Bucket;
use kagami_core::Timestamp;

/// The key prefix a rule selects (AbortIncompleteMultipartUpload rules cannot have tags).
fn rule_prefix(rule: &LifecycleRule) -> &str {
    let filter = rule.filter.as_ref();
    filter
        .and_then(|f| f.and.as_ref().and_then(|a| a.prefix.as_deref()))
        .or_else(|| filter.and_then(|f| f.prefix.as_deref()))
        .or(rule.prefix.as_deref())
        .unwrap_or_default()
}

/// The earliest abort date an enabled rule sets for `upload`, with the rule's id.
pub fn abort_rule(bucket: &Bucket, upload: &Upload) -> Option<(Timestamp, String)> {
    let lifecycle = bucket_lifecycle(bucket)?;
    lifecycle
        .rules
        .iter()
        .flatten()
        .filter(|r| r.status == "Enabled" && upload.key.starts_with(rule_prefix(r)))
        .filter_map(|r| {
            let days = r
                .abort_incomplete_multipart_upload
                .as_ref()?
                .days_after_initiation?;
            Some((
                due_after(upload.initiated, days),
                r.id.clone().unwrap_or_default(),
            ))
        })
        .min_by_key(|(due, _)| *due)
        .map(|(due, id)| (Timestamp::from_millis(due), id))
}
