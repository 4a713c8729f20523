//! Object Lock: the bucket's configuration (enabled, default retention), retention and
//! legal hold per version, the `x-amz-object-lock-*` headers of a write, and the rule
//! that a version under retention or legal hold cannot be deleted.
//!
//! Retention is judged on the emulated clock, so tests move past a retain-until date
//! with `POST /_kagami/clock` instead of waiting.

use crate::config_store;
use crate::errors::*;
use crate::generated::*;
use crate::persistence::{self, LockRecord};
use crate::state::{Bucket, S3};
use crate::versioning::{check_mfa_delete, target, target_mut};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use kagami_protocol::shapes::{FromValue, IntoValue};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &[
    "GetObjectLegalHold",
    "GetObjectLockConfiguration",
    "GetObjectRetention",
    "PutObjectLegalHold",
    "PutObjectLockConfiguration",
    "PutObjectRetention",
];

/// The bucket configuration document holding the default retention rule.
const CONFIG: &str = "ObjectLockConfiguration";

const GOVERNANCE: &str = "GOVERNANCE";
const COMPLIANCE: &str = "COMPLIANCE";
const DAY_MILLIS: i64 = 86_400_000;
/// Default retention in years counts 365-day years.
const YEAR_DAYS: i64 = 365;

/// What a request to delete a version for good brings to unlock it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteAuth {
    /// `x-amz-bypass-governance-retention: true`.
    pub bypass_governance: bool,
    /// `x-amz-mfa` is present (kagami cannot check the code itself).
    pub mfa: bool,
}

impl DeleteAuth {
    pub fn new(bypass_governance: Option<bool>, mfa: Option<&str>) -> DeleteAuth {
        DeleteAuth {
            bypass_governance: bypass_governance == Some(true),
            mfa: mfa.is_some_and(|m| !m.trim().is_empty()),
        }
    }
}

/// Whether `version_id` of `key` may be deleted for good: MFA Delete wants the code; a
/// legal hold or a COMPLIANCE retention blocks it; a GOVERNANCE retention yields to the
/// bypass header. Delete markers hold no lock.
pub fn check_version_delete(
    bucket: &Bucket,
    key: &str,
    version_id: &str,
    auth: DeleteAuth,
) -> Result<(), ServiceError> {
    check_mfa_delete(bucket, auth.mfa)?;
    let Some(record) = bucket.objects.get(key).and_then(|v| v.find(version_id)) else {
        return Ok(());
    };
    let Some(lock) = record.lock.as_ref().filter(|_| !record.delete_marker) else {
        return Ok(());
    };
    if lock.legal_hold {
        return Err(object_locked());
    }
    if retention_active(lock, clock::now_millis()) {
        let bypassed = lock.mode.as_deref() == Some(GOVERNANCE) && auth.bypass_governance;
        if !bypassed {
            return Err(object_locked());
        }
    }
    Ok(())
}

fn retention_active(lock: &LockRecord, now: i64) -> bool {
    lock.mode.is_some() && lock.retain_until.is_some_and(|until| until > now)
}

fn valid_mode(mode: &str) -> bool {
    mode == GOVERNANCE || mode == COMPLIANCE
}

/// The lock state a new version gets: the `x-amz-object-lock-*` headers of the write,
/// else the bucket's default retention. `None` when nothing locks it.
pub fn lock_for_write(
    bucket: &Bucket,
    mode: Option<&str>,
    retain_until: Option<&Timestamp>,
    legal_hold: Option<&str>,
) -> Result<Option<LockRecord>, ServiceError> {
    let requested = mode.is_some() || retain_until.is_some() || legal_hold.is_some();
    if requested && !bucket.record.object_lock_enabled {
        return Err(missing_object_lock_configuration());
    }
    if mode.is_some() != retain_until.is_some() {
        return Err(ServiceError::new(
            "InvalidArgument",
            400,
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        ));
    }
    if let Some(m) = mode.filter(|m| !valid_mode(m)) {
        return Err(invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", m));
    }
    let now = clock::now_millis();
    if let Some(until) = retain_until
        && until.as_millis() <= now
    {
        return Err(retain_until_in_past());
    }
    let legal_hold = match legal_hold {
        None | Some("OFF") => false,
        Some("ON") => true,
        Some(other) => {
            return Err(invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'",
                "x-amz-object-lock-legal-hold",
                other,
            ));
        }
    };
    let (mode, retain_until) = match (mode, retain_until) {
        (Some(m), Some(u)) => (Some(m.to_string()), Some(u.as_millis())),
        _ => match default_retention(bucket) {
            Some((m, millis)) => (Some(m), Some(now.saturating_add(millis))),
            None => (None, None),
        },
    };
    if mode.is_none() && !requested {
        return Ok(None);
    }
    Ok(Some(LockRecord {
        mode,
        retain_until,
        legal_hold,
    }))
}

/// The bucket rule's mode and period in milliseconds, if it has one.
fn default_retention(bucket: &Bucket) -> Option<(String, i64)> {
    if !bucket.record.object_lock_enabled {
        return None;
    }
    let config = ObjectLockConfiguration::from_value(bucket.config.get(CONFIG)?.clone()).ok()?;
    let retention = config.rule?.default_retention?;
    let days = match (retention.days, retention.years) {
        (Some(d), _) => i64::from(d),
        (None, Some(y)) => i64::from(y).saturating_mul(YEAR_DAYS),
        (None, None) => return None,
    };
    Some((retention.mode?, days.saturating_mul(DAY_MILLIS)))
}

fn retain_until_in_past() -> ServiceError {
    ServiceError::new(
        "InvalidArgument",
        400,
        "The retain until date must be in the future!",
    )
}

fn require_lock(bucket: &Bucket) -> Result<(), ServiceError> {
    if bucket.record.object_lock_enabled {
        Ok(())
    } else {
        Err(missing_object_lock_configuration())
    }
}

/// Checks a default retention rule as S3 does: one mode, Days or Years (not both),
/// a positive period.
fn check_rule(rule: &ObjectLockRule) -> Result<(), ServiceError> {
    let retention = rule.default_retention.as_ref().ok_or_else(malformed_xml)?;
    if !retention.mode.as_deref().is_some_and(valid_mode) {
        return Err(malformed_xml());
    }
    let (name, period) = match (retention.days, retention.years) {
        (Some(d), None) => ("Days", d),
        (None, Some(y)) => ("Years", y),
        _ => return Err(malformed_xml()),
    };
    if period <= 0 {
        return Err(invalid_argument(
            "Default retention period must be a positive integer value.",
            name,
            &period.to_string(),
        ));
    }
    Ok(())
}

impl S3 {
    /// Turns Object Lock on (versioning must be Enabled) and sets or clears the default
    /// retention rule. Object Lock cannot be turned off again.
    pub async fn put_object_lock_configuration(
        &self,
        ctx: &RequestContext,
        input: PutObjectLockConfigurationRequest,
    ) -> Result<PutObjectLockConfigurationOutput, ServiceError> {
        let config = input.object_lock_configuration.ok_or_else(missing_request_body)?;
        if config.object_lock_enabled.as_deref() != Some("Enabled") {
            return Err(malformed_xml());
        }
        if let Some(rule) = &config.rule {
            check_rule(rule)?;
        }
        let name = input.bucket.clone();
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            if !bucket.record.object_lock_enabled
                && bucket.record.versioning.as_deref() != Some("Enabled")
            {
                return Err(invalid_bucket_state(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                ));
            }
            bucket.record.object_lock_enabled = true;
            let key = config_store::config_key(&name, CONFIG);
            let config_op = match config.rule {
                Some(rule) => {
                    let stored = ObjectLockConfiguration {
                        object_lock_enabled: Some("Enabled".into()),
                        rule: Some(rule),
                    }
                    .into_value();
                    let op = StoreOp::put_json(
                        persistence::BUCKET_CONFIG,
                        key,
                        &config_store::to_json(&stored),
                    );
                    bucket.config.insert(CONFIG.to_string(), stored);
                    op
                }
                None => {
                    bucket.config.remove(CONFIG);
                    StoreOp::delete(persistence::BUCKET_CONFIG, key)
                }
            };
            let ops = vec![S3::bucket_record_op(&bucket.record), config_op];
            Ok((PutObjectLockConfigurationOutput::default(), ops, Vec::new()))
        })
        .await
    }

    pub fn get_object_lock_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetObjectLockConfigurationRequest,
    ) -> Result<GetObjectLockConfigurationOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |bucket| {
            if !bucket.record.object_lock_enabled {
                return Err(configuration_not_found(
                    "ObjectLockConfigurationNotFoundError",
                    "Object Lock configuration does not exist for this bucket",
                    &input.bucket,
                ));
            }
            let rule = bucket
                .config
                .get(CONFIG)
                .and_then(|v| ObjectLockConfiguration::from_value(v.clone()).ok())
                .and_then(|c| c.rule);
            Ok(GetObjectLockConfigurationOutput {
                object_lock_configuration: Some(ObjectLockConfiguration {
                    object_lock_enabled: Some("Enabled".into()),
                    rule,
                }),
            })
        })
    }

    /// Sets or (with an empty request) removes a version's retention. A COMPLIANCE
    /// retention only ever grows; a GOVERNANCE one shrinks, goes or changes only with
    /// `x-amz-bypass-governance-retention`.
    pub async fn put_object_retention(
        &self,
        ctx: &RequestContext,
        input: PutObjectRetentionRequest,
    ) -> Result<PutObjectRetentionOutput, ServiceError> {
        let requested = match input.retention {
            None => None,
            Some(r) => {
                let (Some(mode), Some(until)) = (r.mode, r.retain_until_date) else {
                    return Err(malformed_xml());
                };
                if !valid_mode(&mode) {
                    return Err(malformed_xml());
                }
                Some((mode, until.as_millis()))
            }
        };
        let bypass = input.bypass_governance_retention == Some(true);
        let now = clock::now_millis();
        if requested.as_ref().is_some_and(|(_, until)| *until <= now) {
            return Err(retain_until_in_past());
        }
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            require_lock(bucket)?;
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "PUT")?;
            let current = record.lock.clone().unwrap_or_default();
            if retention_active(&current, now) {
                let old_until = current.retain_until.unwrap_or_default();
                let weakens = match &requested {
                    None => true,
                    Some((mode, until)) => {
                        *until < old_until
                            || (current.mode.as_deref() == Some(COMPLIANCE) && mode != COMPLIANCE)
                    }
                };
                let may = current.mode.as_deref() == Some(GOVERNANCE) && bypass;
                if weakens && !may {
                    return Err(access_denied());
                }
            }
            let (mode, retain_until) = match requested {
                Some((m, u)) => (Some(m), Some(u)),
                None => (None, None),
            };
            let lock = LockRecord {
                mode,
                retain_until,
                legal_hold: current.legal_hold,
            };
            record.lock = (lock.mode.is_some() || lock.legal_hold).then_some(lock);
            let op = Bucket::update_version_op(record);
            Ok((PutObjectRetentionOutput::default(), vec![op], Vec::new()))
        })
        .await
    }

    pub fn get_object_retention(
        &self,
        ctx: &RequestContext,
        input: &GetObjectRetentionRequest,
    ) -> Result<GetObjectRetentionOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |bucket| {
            require_lock(bucket)?;
            let record = target(bucket, &input.key, input.version_id.as_deref(), "GET")?;
            let lock = record
                .lock
                .as_ref()
                .filter(|l| l.mode.is_some())
                .ok_or_else(no_such_object_lock_configuration)?;
            Ok(GetObjectRetentionOutput {
                retention: Some(ObjectLockRetention {
                    mode: lock.mode.clone(),
                    retain_until_date: lock.retain_until.map(Timestamp::from_millis),
                    ..Default::default()
                }),
            })
        })
    }

    pub async fn put_object_legal_hold(
        &self,
        ctx: &RequestContext,
        input: PutObjectLegalHoldRequest,
    ) -> Result<PutObjectLegalHoldOutput, ServiceError> {
        let status = input.legal_hold.and_then(|h| h.status).ok_or_else(malformed_xml)?;
        let on = match status.as_str() {
            "ON" => true,
            "OFF" => false,
            _ => return Err(malformed_xml()),
        };
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            require_lock(bucket)?;
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "PUT")?;
            record.lock.get_or_insert_with(LockRecord::default).legal_hold = on;
            let op = Bucket::update_version_op(record);
            Ok((PutObjectLegalHoldOutput::default(), vec![op], Vec::new()))
        })
        .await
    }

    pub fn get_object_legal_hold(
        &self,
        ctx: &RequestContext,
        input: &GetObjectLegalHoldRequest,
    ) -> Result<GetObjectLegalHoldOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |bucket| {
            require_lock(bucket)?;
            let record = target(bucket, &input.key, input.version_id.as_deref(), "GET")?;
            let lock = record.lock.as_ref().ok_or_else(no_such_object_lock_configuration)?;
            Ok(GetObjectLegalHoldOutput {
                legal_hold: Some(ObjectLockLegalHold {
                    status: Some(if lock.legal_hold { "ON" } else { "OFF" }.into()),
                }),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::{BucketRecord, ObjectRecord};
    use crate::versions::{ObjectVersions, Versioning};
    use std::collections::BTreeMap;

    fn bucket(lock: Option<LockRecord>) -> Bucket {
        let mut versions = ObjectVersions::default();
        versions.push(
            ObjectRecord {
                key: "k".into(),
                lock,
                ..Default::default()
            },
            Versioning::Enabled,
        );
        Bucket {
            record: BucketRecord {
                name: "b".into(),
                account: "000000000000".into(),
                region: "us-east-1".into(),
                created: 0,
                versioning: Some("Enabled".into()),
                mfa_delete: None,
                object_lock_enabled: true,
            },
            objects: BTreeMap::from([("k".to_string(), versions)]),
            config: BTreeMap::new(),
            uploads: BTreeMap::new(),
        }
    }

    fn version_of(b: &Bucket) -> String {
        b.objects["k"].versions[0].version_id.clone().unwrap()
    }

    fn retained(mode: &str, from_now_ms: i64) -> Option<LockRecord> {
        Some(LockRecord {
            mode: Some(mode.into()),
            retain_until: Some(clock::now_millis() + from_now_ms),
            legal_hold: false,
        })
    }

    fn delete(b: &Bucket, bypass: bool) -> Result<(), ServiceError> {
        let auth = DeleteAuth {
            bypass_governance: bypass,
            mfa: false,
        };
        check_version_delete(b, "k", &version_of(b), auth)
    }

    #[test]
    fn governance_retention_yields_only_to_the_bypass() {
        let b = bucket(retained(GOVERNANCE, 60_000));
        assert_eq!(delete(&b, false).unwrap_err().message, "Access Denied because object protected by object lock.");
        assert!(delete(&b, true).is_ok());
    }

    #[test]
    fn compliance_retention_and_legal_hold_yield_to_nothing() {
        assert!(delete(&bucket(retained(COMPLIANCE, 60_000)), true).is_err());
        let hold = Some(LockRecord {
            legal_hold: true,
            ..Default::default()
        });
        assert!(delete(&bucket(hold), true).is_err());
    }

    #[test]
    fn expired_retention_protects_nothing() {
        assert!(delete(&bucket(retained(COMPLIANCE, -1)), false).is_ok());
        assert!(delete(&bucket(None), false).is_ok());
    }

    #[test]
    fn writes_take_the_bucket_rule_unless_their_headers_say_otherwise() {
        let mut b = bucket(None);
        assert!(lock_for_write(&b, None, None, None).unwrap().is_none());
        let config = ObjectLockConfiguration {
            object_lock_enabled: Some("Enabled".into()),
            rule: Some(ObjectLockRule {
                default_retention: Some(DefaultRetention {
                    mode: Some(GOVERNANCE.into()),
                    days: Some(2),
                    ..Default::default()
                }),
            }),
        };
        b.config.insert(CONFIG.into(), config.into_value());
        let now = clock::now_millis();
        let lock = lock_for_write(&b, None, None, None).unwrap().unwrap();
        assert_eq!(lock.mode.as_deref(), Some(GOVERNANCE));
        let until = lock.retain_until.unwrap();
        assert!((until - now - 2 * DAY_MILLIS).abs() < 5_000);
        let explicit = Timestamp::from_millis(now + 10 * DAY_MILLIS);
        let lock = lock_for_write(&b, Some(COMPLIANCE), Some(&explicit), Some("ON")).unwrap().unwrap();
        assert_eq!((lock.mode.as_deref(), lock.legal_hold), (Some(COMPLIANCE), true));
        assert_eq!(lock.retain_until, Some(explicit.as_millis()));
        assert_eq!(lock_for_write(&b, Some(COMPLIANCE), None, None).unwrap_err().code, "InvalidArgument");
        b.record.object_lock_enabled = false;
        assert_eq!(lock_for_write(&b, None, None, Some("ON")).unwrap_err().code, "InvalidRequest");
    }
}
