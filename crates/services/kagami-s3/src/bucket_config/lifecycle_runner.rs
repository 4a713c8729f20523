//! Lifecycle rules acted on: a background task that, every second of real time and
//! whenever the emulated clock is advanced, looks at every bucket with a lifecycle
//! configuration and
//! - expires current versions: removes them in unversioned buckets, adds a delete
//!   marker where versioning is enabled or suspended;
//! - removes noncurrent versions (`NoncurrentVersionExpiration`, keeping the newest
//!   `NewerNoncurrentVersions`) and expired object delete markers (a delete marker that
//!   is the only version left, with `ExpiredObjectDeleteMarker`, or once it is as old as
//!   an expiration rule's `Days`);
//! - moves versions to the storage class of their due `Transition`;
//! - aborts multipart uploads `DaysAfterInitiation` days after they were initiated.
//!
//! Versions under an Object Lock legal hold or retention period are never removed.
//!
//! Ages follow S3's rule: an action due `Days` after a time is due at the first
//! midnight UTC at or after that time plus the days. Each bucket is planned under the
//! read lock; the write lock is taken only to apply the plan, re-checking every version
//! it touches, so requests that changed a key meanwhile win.

use super::lifecycle::{ALL_STORAGE_CLASSES_128K, DAY_MILLIS, bucket_lifecycle};
use crate::generated::*;
use crate::persistence::ObjectRecord;
use crate::state::{Bucket, S3};
use crate::versions::{self, NULL_VERSION, ObjectVersions, Versioning};
use kagami_core::clock;
use kagami_core::store::StoreOp;
use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the runner looks at the buckets (real time; an advance of the clock wakes it).
pub const RUN_INTERVAL: Duration = Duration::from_secs(1);

/// Objects below 128 KiB are not transitioned unless the configuration says
/// `varies_by_storage_class` (PutBucketLifecycleConfiguration,
/// x-amz-transition-default-minimum-object-size).
const MIN_TRANSITION_SIZE: u64 = 128 * 1024;

/// The first midnight UTC at or after `ms`.
pub fn midnight_at_or_after(ms: i64) -> i64 {
    let into_day = ms.rem_euclid(DAY_MILLIS);
    if into_day == 0 {
        ms
    } else {
        ms.saturating_sub(into_day).saturating_add(DAY_MILLIS)
    }
}

/// When an action `days` after `since` is due.
pub fn due_after(since: i64, days: i32) -> i64 {
    midnight_at_or_after(since.saturating_add(i64::from(days).saturating_mul(DAY_MILLIS)))
}

/// The `x-amz-expiration` header of PutObject/GetObject/HeadObject for the current
/// version `record`: when the earliest enabled Expiration rule that selects it will
/// expire it, and that rule's id (`expiry-date="Fri, 23 Dec 2012 00:00:00 GMT",
/// rule-id="picture-deletion-rule"`). `None` when no rule applies.
pub fn expiration_header(bucket: &Bucket, record: &ObjectRecord) -> Option<String> {
    if record.delete_marker || !bucket.config.contains_key(super::lifecycle::CONFIG) {
        return None;
    }
    let config = bucket_lifecycle(bucket)?;
    let (due, id) = config
        .rules
        .iter()
        .flatten()
        .filter(|r| r.status == "Enabled")
        .filter_map(|rule| {
            let expiration = rule.expiration.as_ref()?;
            let due = match (expiration.days, &expiration.date) {
                (Some(d), _) => due_after(record.last_modified, d),
                (None, Some(date)) => date.as_millis(),
                (None, None) => return None,
            };
            let selector = Selector::of(rule);
            (selector.selects_key(&record.key) && selector.selects(record))
                .then(|| (due, rule.id.clone().unwrap_or_default()))
        })
        .min_by_key(|(due, _)| *due)?;
    Some(format!(
        r#"expiry-date="{}", rule-id="{id}""#,
        kagami_core::Timestamp::from_millis(due).to_rfc822()
    ))
}

/// What a rule's filter selects.
struct Selector {
    prefix: String,
    tags: Vec<(String, String)>,
    greater_than: Option<i64>,
    less_than: Option<i64>,
}

impl Selector {
    fn of(rule: &LifecycleRule) -> Selector {
        let mut s = Selector {
            prefix: rule.prefix.clone().unwrap_or_default(),
            tags: Vec::new(),
            greater_than: None,
            less_than: None,
        };
        if let Some(f) = &rule.filter {
            if let Some(p) = &f.prefix {
                s.prefix.clone_from(p);
            }
            if let Some(t) = &f.tag {
                s.tags.push((t.key.clone(), t.value.clone()));
            }
            s.greater_than = f.object_size_greater_than;
            s.less_than = f.object_size_less_than;
            if let Some(a) = &f.and {
                if let Some(p) = &a.prefix {
                    s.prefix.clone_from(p);
                }
                s.tags.extend(
                    a.tags
                        .iter()
                        .flatten()
                        .map(|t| (t.key.clone(), t.value.clone())),
                );
                s.greater_than = a.object_size_greater_than.or(s.greater_than);
                s.less_than = a.object_size_less_than.or(s.less_than);
            }
        }
        s
    }

    fn selects_key(&self, key: &str) -> bool {
        key.starts_with(&self.prefix)
    }

    /// Whether the selector picks this version. Delete markers have no tags or size:
    /// only prefix-only rules apply to them.
    fn selects(&self, record: &ObjectRecord) -> bool {
        if record.delete_marker {
            return self.tags.is_empty() && self.greater_than.is_none() && self.less_than.is_none();
        }
        let size = i64::try_from(record.size).unwrap_or(i64::MAX);
        self.tags.iter().all(|(k, v)| record.tags.get(k) == Some(v))
            && self.greater_than.is_none_or(|g| size > g)
            && self.less_than.is_none_or(|l| size < l)
    }
}

/// Whether Object Lock keeps the version from being removed: lifecycle rules never
/// remove a version under a legal hold or an unexpired retention period.
fn locked(record: &ObjectRecord, now: i64) -> bool {
    record
        .lock
        .as_ref()
        .is_some_and(|l| l.legal_hold || l.retain_until.is_some_and(|t| t > now))
}

/// One change the runner makes; `seq` identifies the version it was planned for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Action {
    ExpireCurrent {
        key: String,
        seq: u64,
    },
    RemoveVersion {
        key: String,
        version_id: String,
        seq: u64,
    },
    Transition {
        key: String,
        version_id: String,
        seq: u64,
        storage_class: String,
    },
    AbortUpload {
        upload_id: String,
    },
}

/// The storage class of the latest transition due for a version, if it differs.
fn due_transition<'a>(
    transitions: impl Iterator<Item = (i64, &'a str)>,
    record: &ObjectRecord,
    now: i64,
    small_objects_move: bool,
) -> Option<String> {
    if record.delete_marker || (!small_objects_move && record.size < MIN_TRANSITION_SIZE) {
        return None;
    }
    let (_, class) = transitions
        .filter(|(due, _)| *due <= now)
        .max_by_key(|(due, _)| *due)?;
    let current = record.storage_class.as_deref().unwrap_or("STANDARD");
    (current != class).then(|| class.to_string())
}

/// The actions one rule calls for on one key's versions.
fn plan_key(
    rule: &LifecycleRule,
    selector: &Selector,
    key: &str,
    versions: &ObjectVersions,
    now: i64,
    small_objects_move: bool,
    out: &mut Vec<Action>,
) {
    let count = versions.versions.len();
    if let Some(current) = versions.current().filter(|c| selector.selects(c)) {
        let expiration = rule.expiration.as_ref();
        let expired = expiration.is_some_and(|e| {
            e.days
                .is_some_and(|d| now >= due_after(current.last_modified, d))
                || e.date.as_ref().is_some_and(|d| now >= d.as_millis())
        });
        if expired {
            out.push(Action::ExpireCurrent {
                key: key.to_string(),
                seq: current.seq,
            });
        } else {
            let transitions = rule.transitions.iter().flatten().filter_map(|t| {
                let due = match (t.days, &t.date) {
                    (Some(d), _) => due_after(current.last_modified, d),
                    (None, Some(date)) => date.as_millis(),
                    (None, None) => return None,
                };
                Some((due, t.storage_class.as_deref()?))
            });
            if let Some(class) = due_transition(transitions, current, now, small_objects_move) {
                out.push(Action::Transition {
                    key: key.to_string(),
                    version_id: versions::reported_id(current),
                    seq: current.seq,
                    storage_class: class,
                });
            }
        }
    }
    if let Some(latest) = versions.latest()
        && latest.delete_marker
        && count == 1
        && selector.selects(latest)
        && rule.expiration.as_ref().is_some_and(|e| {
            // A Days rule cleans up lone delete markers once they are old enough.
            e.expired_object_delete_marker == Some(true)
                || e.days
                    .is_some_and(|d| now >= due_after(latest.last_modified, d))
        })
    {
        out.push(Action::RemoveVersion {
            key: key.to_string(),
            version_id: versions::reported_id(latest),
            seq: latest.seq,
        });
    }
    // Noncurrent versions, newest first; each became noncurrent when its successor was written.
    let noncurrent = (0..count.saturating_sub(1)).rev().enumerate();
    for (rank, index) in noncurrent {
        let (Some(version), Some(successor)) = (
            versions.versions.get(index),
            versions.versions.get(index + 1),
        ) else {
            continue;
        };
        if !selector.selects(version) || locked(version, now) {
            continue;
        }
        let since = successor.last_modified;
        if let Some(n) = &rule.noncurrent_version_expiration {
            let kept = n
                .newer_noncurrent_versions
                .and_then(|k| usize::try_from(k).ok())
                .is_some_and(|k| rank < k);
            let due = n.noncurrent_days.map_or(since, |d| due_after(since, d));
            if !kept && now >= due {
                out.push(Action::RemoveVersion {
                    key: key.to_string(),
                    version_id: versions::reported_id(version),
                    seq: version.seq,
                });
                continue;
            }
        }
        let transitions = rule
            .noncurrent_version_transitions
            .iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    due_after(since, t.noncurrent_days?),
                    t.storage_class.as_deref()?,
                ))
            });
        if let Some(class) = due_transition(transitions, version, now, small_objects_move) {
            out.push(Action::Transition {
                key: key.to_string(),
                version_id: versions::reported_id(version),
                seq: version.seq,
                storage_class: class,
            });
        }
    }
}

/// What the bucket's lifecycle rules call for at `now`.
fn plan(bucket: &Bucket, now: i64) -> Vec<Action> {
    let Some(config) = bucket_lifecycle(bucket) else {
        return Vec::new();
    };
    let small_objects_move = config
        .transition_default_minimum_object_size
        .as_deref()
        .is_some_and(|s| s != ALL_STORAGE_CLASSES_128K);
    let rules: Vec<LifecycleRule> = config
        .rules
        .into_iter()
        .flatten()
        .filter(|r| r.status == "Enabled")
        .collect();
    let mut actions = Vec::new();
    for rule in &rules {
        let selector = Selector::of(rule);
        for (key, versions) in bucket.objects.range(selector.prefix.clone()..) {
            if !selector.selects_key(key) {
                break;
            }
            plan_key(
                rule,
                &selector,
                key,
                versions,
                now,
                small_objects_move,
                &mut actions,
            );
        }
        if let Some(days) = rule
            .abort_incomplete_multipart_upload
            .as_ref()
            .and_then(|a| a.days_after_initiation)
        {
            for (upload_id, upload) in &bucket.uploads {
                if selector.selects_key(&upload.key) && now >= due_after(upload.initiated, days) {
                    actions.push(Action::AbortUpload {
                        upload_id: upload_id.clone(),
                    });
                }
            }
        }
    }
    // Several rules may call for the same change; the first wins.
    let mut seen = HashSet::new();
    actions.retain(|a| seen.insert(a.clone()));
    actions
}

/// The record of the version `seq` of `key`, if it is still there.
fn still_there<'a>(
    bucket: &'a Bucket,
    key: &str,
    version_id: &str,
    seq: u64,
) -> Option<&'a ObjectRecord> {
    bucket
        .objects
        .get(key)?
        .find(version_id)
        .filter(|r| r.seq == seq)
}

/// Applies a plan under the write lock, skipping what changed since it was made.
/// Returns the store ops and the body files to remove after they commit.
fn apply(
    s3: &S3,
    bucket: &mut Bucket,
    actions: Vec<Action>,
    now: i64,
) -> (Vec<StoreOp>, Vec<String>) {
    let mut ops = Vec::new();
    let mut orphaned = Vec::new();
    for action in actions {
        match action {
            Action::ExpireCurrent { key, seq } => {
                let current = bucket.objects.get(&key).and_then(ObjectVersions::current);
                if current.is_none_or(|c| c.seq != seq) {
                    continue;
                }
                let write = match bucket.versioning() {
                    Versioning::Unversioned => bucket.remove_version(&key, NULL_VERSION),
                    Versioning::Enabled | Versioning::Suspended => {
                        let marker = ObjectRecord {
                            bucket: bucket.record.name.clone(),
                            key: key.clone(),
                            delete_marker: true,
                            last_modified: now,
                            owner: bucket.record.account.clone(),
                            ..Default::default()
                        };
                        Some(bucket.write_version(marker, s3.next_seq()))
                    }
                };
                if let Some(w) = write {
                    ops.extend(w.ops);
                    orphaned.extend(w.orphaned);
                }
            }
            Action::RemoveVersion {
                key,
                version_id,
                seq,
            } => {
                if still_there(bucket, &key, &version_id, seq).is_none() {
                    continue;
                }
                if let Some(w) = bucket.remove_version(&key, &version_id) {
                    ops.extend(w.ops);
                    orphaned.extend(w.orphaned);
                }
            }
            Action::Transition {
                key,
                version_id,
                seq,
                storage_class,
            } => {
                let record = bucket
                    .objects
                    .get_mut(&key)
                    .and_then(|v| v.find_mut(&version_id))
                    .filter(|r| r.seq == seq);
                if let Some(r) = record {
                    r.storage_class = Some(storage_class);
                    ops.push(Bucket::update_version_op(r));
                }
            }
            Action::AbortUpload { upload_id } => {
                if let Some(upload) = bucket.uploads.remove(&upload_id) {
                    ops.extend(upload.delete_ops());
                    orphaned.extend(upload.files());
                }
            }
        }
    }
    (ops, orphaned)
}

impl S3 {
    /// One pass over every bucket with a lifecycle configuration.
    pub(crate) async fn run_lifecycle(&self, now: i64) {
        let names: Vec<String> = {
            let buckets = self.buckets.read();
            buckets
                .iter()
                .filter(|(_, b)| b.config.contains_key(super::lifecycle::CONFIG))
                .map(|(name, _)| name.clone())
                .collect()
        };
        for name in names {
            let actions = {
                let buckets = self.buckets.read();
                match buckets.get(&name) {
                    Some(b) => plan(b, now),
                    None => continue,
                }
            };
            if actions.is_empty() {
                continue;
            }
            let (commit, orphaned) = {
                let mut buckets = self.buckets.write();
                let Some(bucket) = buckets.get_mut(&name) else {
                    continue;
                };
                let (ops, orphaned) = apply(self, bucket, actions, now);
                // Ephemeral writes build no ops, yet still leave files to remove.
                if ops.is_empty() && orphaned.is_empty() {
                    continue;
                }
                (self.store.submit(ops), orphaned)
            };
            if let Err(e) = self.finish(commit, orphaned).await {
                tracing::warn!(bucket = %name, error = %e.message, "lifecycle changes could not be persisted; the next pass retries");
            }
        }
    }
}

/// Starts the runner for as long as the service lives (it holds the service weakly).
/// Without a Tokio runtime (plain unit tests) there is no runner.
pub fn start(s3: &Arc<S3>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<S3> = Arc::downgrade(s3);
    runtime.spawn(async move {
        loop {
            let advanced = clock::advanced();
            tokio::select! {
                _ = tokio::time::sleep(RUN_INTERVAL) => {}
                _ = advanced => {}
            }
            match weak.upgrade() {
                Some(s3) => s3.run_lifecycle(clock::now_millis()).await,
                None => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn ages_round_up_to_the_next_midnight_utc() {
        let midnight = T0 - T0.rem_euclid(DAY_MILLIS);
        assert_eq!(midnight_at_or_after(midnight), midnight);
        assert_eq!(midnight_at_or_after(midnight + 1), midnight + DAY_MILLIS);
        // Created 22:13 on day N, 1 day: due at midnight starting day N+2.
        assert_eq!(due_after(T0, 1), midnight + 2 * DAY_MILLIS);
    }

    fn version(seq: u64, last_modified: i64, delete_marker: bool) -> ObjectRecord {
        ObjectRecord {
            key: "logs/a".into(),
            version_id: Some(format!("v{seq}")),
            seq,
            last_modified,
            delete_marker,
            ..Default::default()
        }
    }

    fn rule(xml_like: impl FnOnce(&mut LifecycleRule)) -> LifecycleRule {
        let mut r = LifecycleRule {
            id: Some("r".into()),
            status: "Enabled".into(),
            filter: Some(LifecycleRuleFilter {
                prefix: Some("logs/".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        xml_like(&mut r);
        r
    }

    fn actions(rule: &LifecycleRule, versions: &ObjectVersions, now: i64) -> Vec<Action> {
        let mut out = Vec::new();
        plan_key(
            rule,
            &Selector::of(rule),
            "logs/a",
            versions,
            now,
            false,
            &mut out,
        );
        out
    }

    #[test]
    fn current_versions_expire_at_the_rounded_due_time() {
        let r = rule(|r| {
            r.expiration = Some(LifecycleExpiration {
                days: Some(1),
                ..Default::default()
            })
        });
        let v = ObjectVersions {
            versions: vec![version(1, T0, false)],
        };
        let due = due_after(T0, 1);
        assert!(actions(&r, &v, due - 1).is_empty());
        assert_eq!(
            actions(&r, &v, due),
            vec![Action::ExpireCurrent {
                key: "logs/a".into(),
                seq: 1
            }]
        );
    }

    #[test]
    fn noncurrent_versions_expire_after_their_successor_plus_days_keeping_the_newest() {
        let r = rule(|r| {
            r.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
                noncurrent_days: Some(1),
                newer_noncurrent_versions: Some(1),
            })
        });
        let v = ObjectVersions {
            versions: vec![
                version(1, T0, false),
                version(2, T0 + 1000, false),
                version(3, T0 + 2000, false),
            ],
        };
        let later = due_after(T0 + 2000, 1);
        // v2 is the newest noncurrent version and is kept; v1 goes.
        assert_eq!(
            actions(&r, &v, later),
            vec![Action::RemoveVersion {
                key: "logs/a".into(),
                version_id: "v1".into(),
                seq: 1
            }]
        );
    }

    #[test]
    fn locked_noncurrent_versions_stay() {
        let r = rule(|r| {
            r.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
                noncurrent_days: Some(1),
                newer_noncurrent_versions: None,
            })
        });
        let mut held = version(1, T0, false);
        held.lock = Some(crate::persistence::LockRecord {
            legal_hold: true,
            ..Default::default()
        });
        let v = ObjectVersions {
            versions: vec![held, version(2, T0, false)],
        };
        assert!(actions(&r, &v, T0 + 10 * DAY_MILLIS).is_empty());
    }

    #[test]
    fn a_lone_delete_marker_is_removed_by_expired_object_delete_marker() {
        let r = rule(|r| {
            r.expiration = Some(LifecycleExpiration {
                expired_object_delete_marker: Some(true),
                ..Default::default()
            })
        });
        let lone = ObjectVersions {
            versions: vec![version(1, T0, true)],
        };
        assert_eq!(
            actions(&r, &lone, T0),
            vec![Action::RemoveVersion {
                key: "logs/a".into(),
                version_id: "v1".into(),
                seq: 1
            }]
        );
        let with_history = ObjectVersions {
            versions: vec![version(1, T0, false), version(2, T0, true)],
        };
        assert!(actions(&r, &with_history, T0 + 10 * DAY_MILLIS).is_empty());
    }

    #[test]
    fn expiration_days_also_remove_lone_delete_markers_once_old_enough() {
        let r = rule(|r| {
            r.expiration = Some(LifecycleExpiration {
                days: Some(2),
                ..Default::default()
            })
        });
        let lone = ObjectVersions {
            versions: vec![version(1, T0, true)],
        };
        assert!(actions(&r, &lone, due_after(T0, 2) - 1).is_empty());
        assert_eq!(
            actions(&r, &lone, due_after(T0, 2)),
            vec![Action::RemoveVersion {
                key: "logs/a".into(),
                version_id: "v1".into(),
                seq: 1
            }]
        );
    }

    #[test]
    fn tag_filters_select_only_tagged_versions() {
        let r = rule(|r| {
            r.filter = Some(LifecycleRuleFilter {
                tag: Some(Tag {
                    key: "tmp".into(),
                    value: "yes".into(),
                }),
                ..Default::default()
            });
            r.expiration = Some(LifecycleExpiration {
                days: Some(1),
                ..Default::default()
            });
        });
        let mut tagged = version(1, T0, false);
        tagged.tags.insert("tmp".into(), "yes".into());
        let later = T0 + 3 * DAY_MILLIS;
        let untagged = ObjectVersions {
            versions: vec![version(1, T0, false)],
        };
        assert!(actions(&r, &untagged, later).is_empty());
        let tagged = ObjectVersions {
            versions: vec![tagged],
        };
        assert_eq!(actions(&r, &tagged, later).len(), 1);
    }

    /// Through the provider's own methods (not the HTTP router): a Filter with tags
    /// selects what expires, and the stored configuration reports its defaults.
    #[tokio::test]
    async fn filtered_rules_expire_through_the_runner() {
        use kagami_core::{RequestContext, Store};
        let dir = std::env::temp_dir().join(format!(
            "kagami-s3-lifecycle-{}",
            kagami_core::ids::uuid_v4()
        ));
        let s3 = S3::new(Store::open(&dir).unwrap()).unwrap();
        let ctx = RequestContext::system("000000000000", "us-east-1", "s3");
        let create = CreateBucketRequest {
            bucket: "lifecycle-unit".into(),
            ..Default::default()
        };
        s3.create_bucket(&ctx, create).await.unwrap();
        {
            let mut buckets = s3.buckets.write();
            let b = buckets.get_mut("lifecycle-unit").unwrap();
            for (key, tagged) in [("tmp/a", true), ("tmp/b", false), ("keep/c", true)] {
                let mut r = ObjectRecord {
                    bucket: "lifecycle-unit".into(),
                    key: key.into(),
                    last_modified: T0,
                    ..Default::default()
                };
                if tagged {
                    r.tags.insert("temporary".into(), "yes".into());
                }
                b.write_version(r, s3.next_seq());
            }
        }
        let rule = LifecycleRule {
            id: Some("tmp".into()),
            status: "Enabled".into(),
            filter: Some(LifecycleRuleFilter {
                and: Some(LifecycleRuleAndOperator {
                    prefix: Some("tmp/".into()),
                    tags: Some(vec![Tag {
                        key: "temporary".into(),
                        value: "yes".into(),
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            expiration: Some(LifecycleExpiration {
                days: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let put = PutBucketLifecycleConfigurationRequest {
            bucket: "lifecycle-unit".into(),
            lifecycle_configuration: Some(BucketLifecycleConfiguration { rules: vec![rule] }),
            ..Default::default()
        };
        let out = s3
            .put_bucket_lifecycle_configuration(&ctx, put)
            .await
            .unwrap();
        assert_eq!(
            out.transition_default_minimum_object_size.as_deref(),
            Some(ALL_STORAGE_CLASSES_128K)
        );
        s3.run_lifecycle(T0 + DAY_MILLIS).await;
        let keys = |s3: &S3| -> Vec<String> {
            s3.buckets
                .read()
                .get("lifecycle-unit")
                .unwrap()
                .objects
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(
            keys(&s3),
            ["keep/c", "tmp/a", "tmp/b"],
            "not due a day after creation"
        );
        s3.run_lifecycle(T0 + 2 * DAY_MILLIS).await;
        assert_eq!(keys(&s3), ["keep/c", "tmp/b"]);
        let get = GetBucketLifecycleConfigurationRequest {
            bucket: "lifecycle-unit".into(),
            ..Default::default()
        };
        let got = s3.get_bucket_lifecycle_configuration(&ctx, &get).unwrap();
        assert!(got.rules.unwrap()[0].filter.as_ref().unwrap().and.is_some());
        drop(s3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
