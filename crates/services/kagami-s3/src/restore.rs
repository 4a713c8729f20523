//! Archived objects and RestoreObject: a version stored in GLACIER or DEEP_ARCHIVE
//! cannot be read (GetObject answers 403 InvalidObjectState) until a RestoreObject
//! has made a temporary copy readable; HeadObject reads its metadata throughout and
//! reports the restore in `x-amz-restore`.
//!
//! AWS takes minutes to hours to restore. kagami completes a restore once the
//! emulated clock passes `KAGAMI_S3_RESTORE_SECONDS` (default 0: at once, as tests that
//! restore and then read expect); with a delay, the restore is in progress
//! (`ongoing-request="true"`, another RestoreObject answers 409
//! RestoreAlreadyInProgress) until `POST /_kagami/clock` or time moves past it. The
//! copy stays readable for `Days` days, until the midnight UTC that follows, as S3
//! rounds it.

use crate::errors::*;
use crate::generated::*;
use crate::persistence::{ObjectRecord, RestoreRecord};
use crate::state::{Bucket, S3};
use crate::versioning::target_mut;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use std::sync::LazyLock;

pub const OPERATIONS: &[&str] = &["RestoreObject"];

const DAY_MILLIS: i64 = 86_400_000;

/// The storage classes whose objects must be restored before they can be read.
const ARCHIVED: &[&str] = &["GLACIER", "DEEP_ARCHIVE"];

/// How long a restore takes, in emulated milliseconds.
static RESTORE_DELAY_MILLIS: LazyLock<i64> = LazyLock::new(|| {
    std::env::var("KAGAMI_S3_RESTORE_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        // Saturating float-to-int conversion; anything past i64 is "never".
        .map_or(0, |s| (s * 1000.0) as i64)
});

/// Where a version stands: `None` when it is not archived.
enum State {
    Archived,
    Restoring,
    Restored { expires_at: i64 },
}

fn state(record: &ObjectRecord, now: i64) -> Option<State> {
    if !record.storage_class.as_deref().is_some_and(|c| ARCHIVED.contains(&c)) {
        return None;
    }
    Some(match record.restore {
        Some(r) if now < r.ready_at => State::Restoring,
        Some(r) if now < r.expires_at => State::Restored { expires_at: r.expires_at },
        _ => State::Archived,
    })
}

/// GetObject of an archived version that has no restored copy (yet).
pub fn check_readable(record: &ObjectRecord) -> Result<(), ServiceError> {
    match state(record, clock::now_millis()) {
        Some(State::Archived | State::Restoring) => Err(ServiceError::new(
            "InvalidObjectState",
            403,
            "The operation is not valid for the object's storage class",
        )
        .with_field("StorageClass", record.storage_class.clone().unwrap_or_default())),
        _ => Ok(()),
    }
}

/// The `x-amz-restore` header of a version with a restore in progress or done.
pub fn restore_header(record: &ObjectRecord) -> Option<String> {
    match state(record, clock::now_millis())? {
        State::Restoring => Some(r#"ongoing-request="true""#.to_string()),
        State::Restored { expires_at } => Some(format!(
            r#"ongoing-request="false", expiry-date="{}""#,
            Timestamp::from_millis(expires_at).to_rfc822()
        )),
        State::Archived => None,
    }
}

/// The first midnight UTC at least `days` days after `from`.
fn expiry(from: i64, days: i32) -> i64 {
    let end = from.saturating_add(i64::from(days).saturating_mul(DAY_MILLIS));
    end.div_euclid(DAY_MILLIS).saturating_add(1).saturating_mul(DAY_MILLIS)
}

/// What a RestoreObject did: AWS answers 202 when it starts a restore and 200 when it
/// only extends a restored copy.
pub struct Restored {
    pub output: RestoreObjectOutput,
    pub started: bool,
}

impl S3 {
    pub async fn restore_object(
        &self,
        ctx: &RequestContext,
        input: RestoreObjectRequest,
    ) -> Result<Restored, ServiceError> {
        let days = input.restore_request.as_ref().and_then(|r| r.days);
        if days.is_some_and(|d| d < 1) {
            return Err(malformed_xml());
        }
        let days = days.unwrap_or(1);
        self.with_bucket_mut(ctx, &input.bucket, |bucket: &mut Bucket| {
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "POST")?;
            let now = clock::now_millis();
            let started = match state(record, now) {
                None => {
                    return Err(ServiceError::new(
                        "InvalidObjectState",
                        403,
                        "Restore is not allowed for the object's current storage class",
                    ));
                }
                Some(State::Restoring) => {
                    return Err(ServiceError::new(
                        "RestoreAlreadyInProgress",
                        409,
                        "Object restore is already in progress",
                    ));
                }
                Some(State::Restored { .. }) => {
                    // A restored copy's expiry is counted again from now.
                    record.restore = Some(RestoreRecord { ready_at: now, expires_at: expiry(now, days) });
                    false
                }
                Some(State::Archived) => {
                    let ready_at = now.saturating_add(*RESTORE_DELAY_MILLIS);
                    record.restore = Some(RestoreRecord { ready_at, expires_at: expiry(ready_at, days) });
                    true
                }
            };
            let op = Bucket::update_version_op(record);
            Ok((Restored { output: RestoreObjectOutput::default(), started }, vec![op], Vec::new()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_copy_expires_at_the_midnight_after_its_days() {
        // 2012-12-21T10:00:00Z + 1 day -> 2012-12-23T00:00:00Z.
        let from = 1_356_084_000_000;
        assert_eq!(expiry(from, 1), 1_356_220_800_000);
        // Exactly midnight still moves to the next one.
        assert_eq!(expiry(1_356_048_000_000, 1), 1_356_220_800_000);
    }

    #[test]
    fn only_archived_classes_need_a_restore() {
        let mut record = ObjectRecord { storage_class: Some("GLACIER".into()), ..Default::default() };
        assert!(check_readable(&record).is_err());
        assert_eq!(restore_header(&record), None);
        let now = clock::now_millis();
        record.restore = Some(RestoreRecord { ready_at: now + 60_000, expires_at: now + DAY_MILLIS });
        assert!(check_readable(&record).is_err());
        assert_eq!(restore_header(&record).as_deref(), Some(r#"ongoing-request="true""#));
        record.restore = Some(RestoreRecord { ready_at: now - 1, expires_at: now + DAY_MILLIS });
        assert!(check_readable(&record).is_ok());
        assert!(restore_header(&record).is_some_and(|h| h.starts_with(r#"ongoing-request="false", expiry-date=""#)));
        record.storage_class = Some("STANDARD_IA".into());
        assert!(check_readable(&record).is_ok());
    }
}
