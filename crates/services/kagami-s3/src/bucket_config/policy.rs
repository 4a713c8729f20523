//! PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus.
//!
//! The policy is kept as the caller's text (GetBucketPolicy returns it unchanged) after
//! the checks S3 makes before accepting one: valid JSON object, statements with an
//! effect, a principal, actions and resources of this bucket. A public policy (an
//! Allow to everyone without a condition) is refused while BlockPublicPolicy is on.
//! Evaluation of the policy on requests belongs to IAM enforcement, not to this module.

use super::public_access_block::blocks_public_policy;
use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, Value};
use serde_json::Value as Json;

pub const OPERATIONS: &[&str] = &[
    "DeleteBucketPolicy",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "PutBucketPolicy",
];

const CONFIG: &str = "Policy";

/// Bucket policies are limited to 20 KB (S3 User Guide, "Bucket policies").
const MAX_POLICY_BYTES: usize = 20 * 1024;

fn no_such_bucket_policy(bucket: &str) -> ServiceError {
    configuration_not_found(
        "NoSuchBucketPolicy",
        "The bucket policy does not exist",
        bucket,
    )
}

/// A policy element that may be one string or a list of strings.
fn strings(v: &Json) -> Vec<&str> {
    match v {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Matches `text` against an IAM pattern with `*` and `?` wildcards.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                backtrack = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match backtrack {
                Some((bp, bt)) => {
                    pi = bp + 1;
                    ti = bt + 1;
                    backtrack = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Whether a Resource names this bucket or objects in it.
fn resource_is_of_bucket(resource: &str, bucket: &str) -> bool {
    let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
        return resource == "*";
    };
    let bucket_part = rest.split('/').next().unwrap_or_default();
    glob_matches(bucket_part, bucket) || glob_matches(rest, bucket)
}

/// S3's checks of a policy document, with its MalformedPolicy messages.
pub fn validate_policy(text: &str, bucket: &str) -> Result<Json, ServiceError> {
    let not_json =
        || malformed_policy("Policies must be valid JSON and the first byte must be '{'");
    if !text.trim_start().starts_with('{') {
        return Err(not_json());
    }
    if text.len() > MAX_POLICY_BYTES {
        return Err(malformed_policy("Policies must be less than 20 KB"));
    }
    let doc: Json = serde_json::from_str(text).map_err(|_| not_json())?;
    let statements = match doc.get("Statement") {
        None => return Err(malformed_policy("Missing required field Statement")),
        Some(Json::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(one @ Json::Object(_)) => vec![one],
        Some(_) => return Err(malformed_policy("Statement is not well formed")),
    };
    if statements.is_empty() {
        return Err(malformed_policy(
            "Could not parse the policy: Statement is empty!",
        ));
    }
    for statement in statements {
        let Some(s) = statement.as_object() else {
            return Err(malformed_policy("Statement is not well formed"));
        };
        match s.get("Effect").and_then(Json::as_str) {
            Some("Allow" | "Deny") => {}
            Some(other) => return Err(malformed_policy(&format!("Invalid effect: {other}"))),
            None => return Err(malformed_policy("Missing required field Effect")),
        }
        if !s.contains_key("Principal") && !s.contains_key("NotPrincipal") {
            return Err(malformed_policy("Missing required field Principal"));
        }
        let actions = match (s.get("Action"), s.get("NotAction")) {
            (Some(a), _) | (None, Some(a)) => strings(a),
            (None, None) => return Err(malformed_policy("Missing required field Action")),
        };
        if actions
            .iter()
            .any(|a| *a != "*" && !a.to_ascii_lowercase().starts_with("s3:"))
        {
            return Err(malformed_policy("Policy has invalid action"));
        }
        let resources = match (s.get("Resource"), s.get("NotResource")) {
            (Some(r), _) | (None, Some(r)) => strings(r),
            (None, None) => return Err(malformed_policy("Missing required field Resource")),
        };
        if resources.is_empty() || resources.iter().any(|r| !resource_is_of_bucket(r, bucket)) {
            return Err(malformed_policy("Policy has invalid resource"));
        }
    }
    Ok(doc)
}

/// Whether a principal element grants to everyone (`"*"` or `{"AWS": "*"}`).
fn is_everyone(principal: &Json) -> bool {
    match principal {
        Json::String(s) => s == "*",
        Json::Object(m) => m.get("AWS").is_some_and(|aws| strings(aws).contains(&"*")),
        _ => false,
    }
}

/// AWS calls a policy public when it allows access to everyone without a condition
/// that pins the caller (S3 User Guide, "The meaning of public").
pub fn is_public(doc: &Json) -> bool {
    let statements = match doc.get("Statement") {
        Some(Json::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Json::as_str) == Some("Allow")
            && s.get("Principal").is_some_and(is_everyone)
            && s.get("Condition")
                .is_none_or(|c| c.as_object().is_none_or(|m| m.is_empty()))
    })
}

impl S3 {
    pub async fn put_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: PutBucketPolicyRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let doc = validate_policy(&input.policy, &input.bucket)?;
        let blocked = self.with_bucket(ctx, &input.bucket, |b| Ok(blocks_public_policy(b)))?;
        if blocked && is_public(&doc) {
            return Err(access_denied());
        }
        self.set_bucket_config(ctx, &input.bucket, CONFIG, Some(Value::Str(input.policy)))
            .await
    }

    fn policy_text(&self, ctx: &RequestContext, bucket: &str) -> Result<String, ServiceError> {
        match self.bucket_config(ctx, bucket, CONFIG)? {
            Some(Value::Str(text)) => Ok(text),
            _ => Err(no_such_bucket_policy(bucket)),
        }
    }

    pub fn get_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: &GetBucketPolicyRequest,
    ) -> Result<GetBucketPolicyOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(GetBucketPolicyOutput {
            policy: Some(self.policy_text(ctx, &input.bucket)?),
        })
    }

    pub fn get_bucket_policy_status(
        &self,
        ctx: &RequestContext,
        input: &GetBucketPolicyStatusRequest,
    ) -> Result<GetBucketPolicyStatusOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let text = self.policy_text(ctx, &input.bucket)?;
        let public = serde_json::from_str::<Json>(&text).is_ok_and(|doc| is_public(&doc));
        Ok(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(public),
            }),
        })
    }

    pub async fn delete_bucket_policy(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketPolicyRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.delete_config(ctx, &input.bucket, CONFIG).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob_matches("my-*", "my-bucket"));
        assert!(glob_matches("*", "anything"));
        assert!(glob_matches("b?cket", "bucket"));
        assert!(!glob_matches("other", "bucket"));
        assert!(glob_matches("bucket/*", "bucket/key"));
    }

    #[test]
    fn policies_allowing_everyone_without_conditions_are_public() {
        let public = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        let conditioned = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]});
        let account = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b"}});
        assert!(is_public(&public));
        assert!(!is_public(&conditioned));
        assert!(!is_public(&account));
    }

    #[test]
    fn resources_must_name_the_bucket() {
        let other = r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}"#;
        let err = validate_policy(other, "mine").unwrap_err();
        assert_eq!(err.code, "MalformedPolicy");
        let ok = r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"]}]}"#;
        assert!(validate_policy(ok, "mine").is_ok());
    }
}
