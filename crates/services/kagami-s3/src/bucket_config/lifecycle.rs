//! PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
//! DeleteBucketLifecycle and the legacy PutBucketLifecycle / GetBucketLifecycle.
//!
//! Rules are checked as S3 checks them (MalformedXML for what the schema forbids,
//! InvalidArgument / InvalidRequest with AWS's messages for the rest), get an ID when
//! put without one, and are acted on by `lifecycle_runner.rs`.

use super::replication::generated_rule_id;
use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError};
use std::collections::HashSet;

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketLifecycle",
    "GetBucketLifecycle",
    "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
];

pub const CONFIG: &str = "Lifecycle";

/// A lifecycle configuration holds at most 1,000 rules.
const MAX_RULES: usize = 1000;
/// Rule IDs are at most 255 characters.
const MAX_ID_LENGTH: usize = 255;
pub const DAY_MILLIS: i64 = 86_400_000;

pub const ALL_STORAGE_CLASSES_128K: &str = "all_storage_classes_128K";
pub const VARIES_BY_STORAGE_CLASS: &str = "varies_by_storage_class";
const TRANSITION_STORAGE_CLASSES: &[&str] = &[
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];
/// Infrequent-access classes take objects only after 30 days in S3 Standard.
const MIN_DAYS_BEFORE_IA: i32 = 30;

fn no_such_lifecycle(bucket: &str) -> ServiceError {
    configuration_not_found(
        "NoSuchLifecycleConfiguration",
        "The lifecycle configuration does not exist",
        bucket,
    )
}

fn positive(days: Option<i32>, message: &str, name: &str) -> Result<(), ServiceError> {
    match days {
        Some(d) if d <= 0 => Err(invalid_argument(message, name, &d.to_string())),
        _ => Ok(()),
    }
}

/// Whether the rule's filter selects objects by tag (which some actions do not allow).
fn filters_by_tags(rule: &LifecycleRule) -> bool {
    rule.filter.as_ref().is_some_and(|f| {
        f.tag.is_some()
            || f.and
                .as_ref()
                .is_some_and(|a| a.tags.as_ref().is_some_and(|t| !t.is_empty()))
    })
}

fn validate_filter(filter: &LifecycleRuleFilter) -> Result<(), ServiceError> {
    let sizes = filter.object_size_greater_than.is_some() || filter.object_size_less_than.is_some();
    let kinds = [
        filter.prefix.is_some(),
        filter.tag.is_some(),
        filter.and.is_some(),
        sizes,
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(malformed_xml());
    }
    if let Some(and) = &filter.and {
        let mut keys = HashSet::new();
        for tag in and.tags.iter().flatten() {
            if !keys.insert(tag.key.as_str()) {
                return Err(invalid_request("Duplicate Tag Keys are not allowed."));
            }
        }
    }
    Ok(())
}

fn validate_expiration(rule: &LifecycleRule, e: &LifecycleExpiration) -> Result<(), ServiceError> {
    let given = [
        e.date.is_some(),
        e.days.is_some(),
        e.expired_object_delete_marker.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(malformed_xml());
    }
    positive(
        e.days,
        "'Days' for Expiration action must be a positive integer",
        "Days",
    )?;
    if let Some(date) = &e.date
        && date.as_millis().rem_euclid(DAY_MILLIS) != 0
    {
        return Err(invalid_argument(
            "'Date' must be at midnight GMT",
            "Date",
            &date.to_iso8601(),
        ));
    }
    if e.expired_object_delete_marker.is_some() && filters_by_tags(rule) {
        return Err(invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Tags.",
        ));
    }
    Ok(())
}

fn validate_transition(
    days: Option<i32>,
    has_date: bool,
    class: Option<&str>,
) -> Result<(), ServiceError> {
    let Some(class) = class.filter(|c| TRANSITION_STORAGE_CLASSES.contains(c)) else {
        return Err(malformed_xml());
    };
    if days.is_some() == has_date {
        return Err(malformed_xml());
    }
    if let Some(d) = days {
        if d < 0 {
            return Err(invalid_argument(
                "'Days' in Transition action must be nonnegative",
                "Days",
                &d.to_string(),
            ));
        }
        if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && d < MIN_DAYS_BEFORE_IA {
            return Err(invalid_argument(
                &format!(
                    "'Days' in Transition action must be greater than or equal to 30 for storageClass '{class}'"
                ),
                "Days",
                &d.to_string(),
            ));
        }
    }
    Ok(())
}

/// S3's checks of a lifecycle configuration; gives rules without an ID one.
pub fn validate_rules(rules: &mut [LifecycleRule]) -> Result<(), ServiceError> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed_xml());
    }
    let mut ids = HashSet::new();
    for rule in rules.iter_mut() {
        let id = rule.id.get_or_insert_with(generated_rule_id).clone();
        if id.chars().count() > MAX_ID_LENGTH {
            return Err(invalid_argument(
                "ID length should not exceed allowed limit of 255",
                "ID",
                &id,
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(invalid_argument(
                "Rule ID must be unique. Found same ID for more than one rule",
                "ID",
                &id,
            ));
        }
        if rule.status != "Enabled" && rule.status != "Disabled" {
            return Err(malformed_xml());
        }
        match (&rule.prefix, &rule.filter) {
            (Some(_), Some(_)) | (None, None) => return Err(malformed_xml()),
            (None, Some(filter)) => validate_filter(filter)?,
            (Some(_), None) => {}
        }
        let has_action = rule.expiration.is_some()
            || rule.transitions.as_ref().is_some_and(|t| !t.is_empty())
            || rule.noncurrent_version_expiration.is_some()
            || rule
                .noncurrent_version_transitions
                .as_ref()
                .is_some_and(|t| !t.is_empty())
            || rule.abort_incomplete_multipart_upload.is_some();
        if !has_action {
            return Err(invalid_request(
                "At least one action needs to be specified in a rule",
            ));
        }
        if let Some(e) = &rule.expiration {
            validate_expiration(rule, e)?;
        }
        for t in rule.transitions.iter().flatten() {
            validate_transition(t.days, t.date.is_some(), t.storage_class.as_deref())?;
        }
        for t in rule.noncurrent_version_transitions.iter().flatten() {
            validate_transition(t.noncurrent_days, false, t.storage_class.as_deref())?;
        }
        if let Some(n) = &rule.noncurrent_version_expiration {
            if n.noncurrent_days.is_none() && n.newer_noncurrent_versions.is_none() {
                return Err(malformed_xml());
            }
            positive(
                n.noncurrent_days,
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                "NoncurrentDays",
            )?;
            positive(
                n.newer_noncurrent_versions,
                "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer",
                "NewerNoncurrentVersions",
            )?;
        }
        if let Some(a) = &rule.abort_incomplete_multipart_upload {
            if a.days_after_initiation.is_none() {
                return Err(malformed_xml());
            }
            positive(
                a.days_after_initiation,
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
                "DaysAfterInitiation",
            )?;
            if filters_by_tags(rule) {
                return Err(invalid_request(
                    "AbortIncompleteMultipartUpload cannot be specified with Tags.",
                ));
            }
        }
    }
    Ok(())
}

/// The bucket's lifecycle configuration as stored: its rules and the
/// transition-default-minimum-object-size setting.
pub fn bucket_lifecycle(bucket: &Bucket) -> Option<GetBucketLifecycleConfigurationOutput> {
    super::config_in(bucket, CONFIG).ok().flatten()
}

impl S3 {
    async fn store_lifecycle(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        mut rules: Vec<LifecycleRule>,
        minimum_size: Option<String>,
    ) -> Result<String, ServiceError> {
        self.with_bucket(ctx, bucket, |_| Ok(()))?;
        let minimum_size = minimum_size.unwrap_or_else(|| ALL_STORAGE_CLASSES_128K.to_string());
        if minimum_size != ALL_STORAGE_CLASSES_128K && minimum_size != VARIES_BY_STORAGE_CLASS {
            return Err(invalid_argument(
                "Invalid value for x-amz-transition-default-minimum-object-size",
                "x-amz-transition-default-minimum-object-size",
                &minimum_size,
            ));
        }
        validate_rules(&mut rules)?;
        let stored = GetBucketLifecycleConfigurationOutput {
            rules: Some(rules),
            transition_default_minimum_object_size: Some(minimum_size.clone()),
        };
        self.put_config(ctx, bucket, CONFIG, stored).await?;
        Ok(minimum_size)
    }

    pub async fn put_bucket_lifecycle_configuration(
        &self,
        ctx: &RequestContext,
        input: PutBucketLifecycleConfigurationRequest,
    ) -> Result<PutBucketLifecycleConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let rules = input
            .lifecycle_configuration
            .map(|c| c.rules)
            .ok_or_else(malformed_xml)?;
        let minimum_size = self
            .store_lifecycle(
                ctx,
                &input.bucket,
                rules,
                input.transition_default_minimum_object_size,
            )
            .await?;
        Ok(PutBucketLifecycleConfigurationOutput {
            transition_default_minimum_object_size: Some(minimum_size),
        })
    }

    pub fn get_bucket_lifecycle_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketLifecycleConfigurationRequest,
    ) -> Result<GetBucketLifecycleConfigurationOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.with_bucket(ctx, &input.bucket, |b| Ok(bucket_lifecycle(b)))?
            .ok_or_else(|| no_such_lifecycle(&input.bucket))
    }

    pub async fn delete_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketLifecycleRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_config(ctx, &input.bucket, CONFIG).await
    }

    /// The legacy form: rules select by Prefix only and hold at most one transition.
    pub async fn put_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: PutBucketLifecycleRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let rules = input
            .lifecycle_configuration
            .ok_or_else(malformed_xml)?
            .rules
            .into_iter()
            .map(|r| LifecycleRule {
                expiration: r.expiration,
                id: r.id,
                prefix: Some(r.prefix),
                filter: None,
                status: r.status,
                transitions: r.transition.map(|t| vec![t]),
                noncurrent_version_transitions: r.noncurrent_version_transition.map(|t| vec![t]),
                noncurrent_version_expiration: r.noncurrent_version_expiration,
                abort_incomplete_multipart_upload: r.abort_incomplete_multipart_upload,
            })
            .collect();
        self.store_lifecycle(ctx, &input.bucket, rules, None)
            .await?;
        Ok(())
    }

    pub fn get_bucket_lifecycle(
        &self,
        ctx: &RequestContext,
        input: &GetBucketLifecycleRequest,
    ) -> Result<GetBucketLifecycleOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config = self
            .with_bucket(ctx, &input.bucket, |b| Ok(bucket_lifecycle(b)))?
            .ok_or_else(|| no_such_lifecycle(&input.bucket))?;
        let rules = config
            .rules
            .into_iter()
            .flatten()
            .map(|r| Rule {
                prefix: r
                    .prefix
                    .or_else(|| r.filter.and_then(|f| f.prefix))
                    .unwrap_or_default(),
                expiration: r.expiration,
                id: r.id,
                status: r.status,
                transition: r.transitions.and_then(|t| t.into_iter().next()),
                noncurrent_version_transition: r
                    .noncurrent_version_transitions
                    .and_then(|t| t.into_iter().next()),
                noncurrent_version_expiration: r.noncurrent_version_expiration,
                abort_incomplete_multipart_upload: r.abort_incomplete_multipart_upload,
            })
            .collect();
        Ok(GetBucketLifecycleOutput { rules: Some(rules) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kagami_core::Timestamp;

    fn rule(f: impl FnOnce(&mut LifecycleRule)) -> LifecycleRule {
        let mut r = LifecycleRule {
            id: Some("r".into()),
            status: "Enabled".into(),
            filter: Some(LifecycleRuleFilter::default()),
            expiration: Some(LifecycleExpiration {
                days: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        f(&mut r);
        r
    }

    fn error_of(r: LifecycleRule) -> (String, String) {
        let e = validate_rules(&mut [r]).unwrap_err();
        (e.code, e.message)
    }

    fn tag(k: &str) -> Tag {
        Tag {
            key: k.into(),
            value: "v".into(),
        }
    }

    #[test]
    fn rules_need_exactly_one_of_filter_and_prefix() {
        assert_eq!(error_of(rule(|r| r.filter = None)).0, "MalformedXML");
        assert_eq!(
            error_of(rule(|r| r.prefix = Some("a".into()))).0,
            "MalformedXML"
        );
        let mut prefix_only = rule(|r| {
            r.filter = None;
            r.prefix = Some("a/".into());
        });
        assert!(validate_rules(std::slice::from_mut(&mut prefix_only)).is_ok());
    }

    #[test]
    fn a_filter_holds_one_kind_of_selector() {
        let two = rule(|r| {
            r.filter = Some(LifecycleRuleFilter {
                prefix: Some("a".into()),
                tag: Some(tag("k")),
                ..Default::default()
            })
        });
        assert_eq!(error_of(two).0, "MalformedXML");
        let sizes = LifecycleRuleFilter {
            object_size_greater_than: Some(1),
            object_size_less_than: Some(10),
            ..Default::default()
        };
        let mut both_sizes = rule(|r| r.filter = Some(sizes));
        assert!(validate_rules(std::slice::from_mut(&mut both_sizes)).is_ok());
    }

    #[test]
    fn tag_filters_refuse_duplicate_keys_and_multipart_aborts() {
        let duplicate = rule(|r| {
            r.filter = Some(LifecycleRuleFilter {
                and: Some(LifecycleRuleAndOperator {
                    tags: Some(vec![tag("k"), tag("k")]),
                    ..Default::default()
                }),
                ..Default::default()
            })
        });
        assert_eq!(
            error_of(duplicate),
            (
                "InvalidRequest".into(),
                "Duplicate Tag Keys are not allowed.".into()
            )
        );
        let abort = rule(|r| {
            r.expiration = None;
            r.filter = Some(LifecycleRuleFilter {
                tag: Some(tag("k")),
                ..Default::default()
            });
            r.abort_incomplete_multipart_upload = Some(AbortIncompleteMultipartUpload {
                days_after_initiation: Some(1),
            });
        });
        assert_eq!(
            error_of(abort).1,
            "AbortIncompleteMultipartUpload cannot be specified with Tags."
        );
    }

    #[test]
    fn expiration_dates_must_be_midnight_utc_and_ids_are_generated() {
        let noon = rule(|r| {
            r.expiration = Some(LifecycleExpiration {
                date: Some(Timestamp::from_millis(DAY_MILLIS * 20_000 + DAY_MILLIS / 2)),
                ..Default::default()
            })
        });
        assert_eq!(error_of(noon).1, "'Date' must be at midnight GMT");
        let mut rules = vec![rule(|r| r.id = None), rule(|r| r.id = None)];
        assert!(validate_rules(&mut rules).is_ok());
        let ids: Vec<_> = rules.iter().filter_map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids.first(), ids.get(1));
    }
}
