//! The member constraints of each STS request (lengths, patterns, ranges from the
//! API reference), checked before any behaviour so that one `ValidationError` lists
//! every violation, as AWS does.

use crate::generated::{
    AssumeRoleRequest, AssumeRoleWithSAMLRequest, AssumeRoleWithWebIdentityRequest, AssumeRootRequest,
    DecodeAuthorizationMessageRequest, GetAccessKeyInfoRequest, GetFederationTokenRequest, GetSessionTokenRequest,
    PolicyDescriptorType, ProvidedContext, StsError, Tag,
};
use crate::validation::{
    ACCESS_KEY_ID_PATTERN, ARN_PATTERN, EXTERNAL_ID_PATTERN, NAME_PATTERN, POLICY_PATTERN, SERIAL_NUMBER_PATTERN,
    Shown, TAG_KEY_PATTERN, TAG_VALUE_PATTERN, TOKEN_CODE_PATTERN, Violations,
};

/// AssumeRole* DurationSeconds: 15 minutes up to the role's maximum, at most 12 hours.
pub(crate) const MIN_ROLE_DURATION: i32 = 900;
pub(crate) const MAX_ROLE_DURATION: i32 = 43_200;
/// GetSessionToken / GetFederationToken DurationSeconds: 15 minutes to 36 hours.
pub(crate) const MIN_TOKEN_DURATION: i32 = 900;
pub(crate) const MAX_TOKEN_DURATION: i32 = 129_600;
/// AssumeRoot DurationSeconds: at most 15 minutes.
pub(crate) const MAX_ROOT_DURATION: i32 = 900;
const ARN_MIN: usize = 20;
const ARN_MAX: usize = 2048;
const ROLE_SESSION_NAME_MIN: usize = 2;
const ROLE_SESSION_NAME_MAX: usize = 64;
/// The plaintext of inline session policies of the non-AssumeRole operations.
const SESSION_POLICY_MAX: usize = 2048;
const MAX_TAGS: usize = 50;
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;
const EXTERNAL_ID_MIN: usize = 2;
const EXTERNAL_ID_MAX: usize = 1224;
const SERIAL_NUMBER_MIN: usize = 9;
const SERIAL_NUMBER_MAX: usize = 256;
const TOKEN_CODE_LEN: usize = 6;
const SOURCE_IDENTITY_MIN: usize = 2;
const SOURCE_IDENTITY_MAX: usize = 256;
const MAX_PROVIDED_CONTEXTS: usize = 5;
const CONTEXT_ASSERTION_MIN: usize = 4;
const CONTEXT_ASSERTION_MAX: usize = 3072;
const MAX_MINIMUM_SESSION_TOKEN_SIZE: i32 = 4096;
const WEB_IDENTITY_TOKEN_MIN: usize = 4;
const WEB_IDENTITY_TOKEN_MAX: usize = 20_000;
const PROVIDER_ID_MIN: usize = 4;
const PROVIDER_ID_MAX: usize = 2048;
const SAML_ASSERTION_MIN: usize = 4;
const SAML_ASSERTION_MAX: usize = 100_000;
const FEDERATED_NAME_MIN: usize = 2;
const FEDERATED_NAME_MAX: usize = 32;
const ACCESS_KEY_ID_MIN: usize = 16;
const ACCESS_KEY_ID_MAX: usize = 128;
const ENCODED_MESSAGE_MAX: usize = 10_240;
const TARGET_PRINCIPAL_MIN: usize = 12;
const TARGET_PRINCIPAL_MAX: usize = 2048;

pub(crate) fn assume_role(r: &AssumeRoleRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    arn(&mut v, "roleArn", &r.role_arn);
    role_session_name(&mut v, &r.role_session_name);
    policy_arns(&mut v, r.policy_arns.as_deref());
    if let Some(policy) = &r.policy {
        // AssumeRole's policy has no plaintext maximum in the model; its packed size is checked later.
        session_policy(&mut v, policy, None);
    }
    duration(&mut v, r.duration_seconds, MIN_ROLE_DURATION, MAX_ROLE_DURATION);
    tags(&mut v, r.tags.as_deref());
    if let Some(keys) = &r.transitive_tag_keys {
        v.count("transitiveTagKeys", &render_list(keys.iter()), keys.len(), 0, MAX_TAGS);
        for (i, key) in keys.iter().enumerate() {
            tag_key(&mut v, &format!("transitiveTagKeys.{}.member", i + 1), key);
        }
    }
    if let Some(id) = &r.external_id {
        v.string("externalId", id, EXTERNAL_ID_MIN, Some(EXTERNAL_ID_MAX), Some(EXTERNAL_ID_PATTERN));
    }
    mfa(&mut v, r.serial_number.as_deref(), r.token_code.as_deref());
    if let Some(s) = &r.source_identity {
        v.string("sourceIdentity", s, SOURCE_IDENTITY_MIN, Some(SOURCE_IDENTITY_MAX), Some(NAME_PATTERN));
    }
    provided_contexts(&mut v, r.provided_contexts.as_deref());
    minimum_session_token_size(&mut v, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn assume_role_with_web_identity(r: &AssumeRoleWithWebIdentityRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    arn(&mut v, "roleArn", &r.role_arn);
    role_session_name(&mut v, &r.role_session_name);
    v.length(
        "webIdentityToken",
        &r.web_identity_token,
        Shown::Hidden,
        WEB_IDENTITY_TOKEN_MIN,
        Some(WEB_IDENTITY_TOKEN_MAX),
    );
    if let Some(p) = &r.provider_id {
        v.string("providerId", p, PROVIDER_ID_MIN, Some(PROVIDER_ID_MAX), None);
    }
    federated_session(&mut v, r.policy_arns.as_deref(), r.policy.as_deref(), r.duration_seconds, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn assume_role_with_saml(r: &AssumeRoleWithSAMLRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    arn(&mut v, "roleArn", &r.role_arn);
    arn(&mut v, "principalArn", &r.principal_arn);
    v.length("sAMLAssertion", &r.saml_assertion, Shown::Hidden, SAML_ASSERTION_MIN, Some(SAML_ASSERTION_MAX));
    federated_session(&mut v, r.policy_arns.as_deref(), r.policy.as_deref(), r.duration_seconds, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn assume_root(r: &AssumeRootRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    v.string("targetPrincipal", &r.target_principal, TARGET_PRINCIPAL_MIN, Some(TARGET_PRINCIPAL_MAX), None);
    if let Some(a) = &r.task_policy_arn.arn {
        arn(&mut v, "taskPolicyArn.arn", a);
    }
    duration(&mut v, r.duration_seconds, 0, MAX_ROOT_DURATION);
    minimum_session_token_size(&mut v, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn get_session_token(r: &GetSessionTokenRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    duration(&mut v, r.duration_seconds, MIN_TOKEN_DURATION, MAX_TOKEN_DURATION);
    mfa(&mut v, r.serial_number.as_deref(), r.token_code.as_deref());
    minimum_session_token_size(&mut v, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn get_federation_token(r: &GetFederationTokenRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    v.string("name", &r.name, FEDERATED_NAME_MIN, Some(FEDERATED_NAME_MAX), Some(NAME_PATTERN));
    if let Some(policy) = &r.policy {
        session_policy(&mut v, policy, Some(SESSION_POLICY_MAX));
    }
    policy_arns(&mut v, r.policy_arns.as_deref());
    duration(&mut v, r.duration_seconds, MIN_TOKEN_DURATION, MAX_TOKEN_DURATION);
    tags(&mut v, r.tags.as_deref());
    minimum_session_token_size(&mut v, r.minimum_session_token_size);
    finish(v)
}

pub(crate) fn get_access_key_info(r: &GetAccessKeyInfoRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    v.string("accessKeyId", &r.access_key_id, ACCESS_KEY_ID_MIN, Some(ACCESS_KEY_ID_MAX), Some(ACCESS_KEY_ID_PATTERN));
    finish(v)
}

pub(crate) fn decode_authorization_message(r: &DecodeAuthorizationMessageRequest) -> Result<(), StsError> {
    let mut v = Violations::new();
    v.string("encodedMessage", &r.encoded_message, 1, Some(ENCODED_MESSAGE_MAX), None);
    finish(v)
}

/// Session tags beyond their constraints: keys are case-insensitive, so two tags may
/// not share a key, and transitive keys must name tags of the request.
pub(crate) fn session_tags(tags: Option<&[Tag]>, transitive_tag_keys: Option<&[String]>) -> Result<(), StsError> {
    let keys: Vec<String> = tags.unwrap_or_default().iter().map(|t| t.key.to_lowercase()).collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != keys.len() {
        return Err(StsError::InvalidParameterValue(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
        ));
    }
    if transitive_tag_keys.unwrap_or_default().iter().any(|k| !keys.contains(&k.to_lowercase())) {
        return Err(StsError::InvalidParameterValue(
            "The specified transitive tag key must be included in the requested tags.".into(),
        ));
    }
    Ok(())
}

/// An MFA device and its one-time code are given together or not at all.
pub(crate) fn mfa_pair(serial_number: Option<&str>, token_code: Option<&str>) -> Result<(), StsError> {
    if serial_number.is_some() != token_code.is_some() {
        return Err(StsError::AccessDenied(
            "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.".into(),
        ));
    }
    Ok(())
}

/// The session options AssumeRoleWithWebIdentity and AssumeRoleWithSAML share, whose
/// inline policy (unlike AssumeRole's) has a plaintext maximum.
fn federated_session(
    v: &mut Violations,
    arns: Option<&[PolicyDescriptorType]>,
    policy: Option<&str>,
    duration_seconds: Option<i32>,
    min_token_size: Option<i32>,
) {
    policy_arns(v, arns);
    if let Some(policy) = policy {
        session_policy(v, policy, Some(SESSION_POLICY_MAX));
    }
    duration(v, duration_seconds, MIN_ROLE_DURATION, MAX_ROLE_DURATION);
    minimum_session_token_size(v, min_token_size);
}

fn finish(v: Violations) -> Result<(), StsError> {
    match v.message() {
        Some(message) => Err(StsError::ValidationError(message)),
        None => Ok(()),
    }
}

fn arn(v: &mut Violations, member: &str, value: &str) {
    v.string(member, value, ARN_MIN, Some(ARN_MAX), Some(ARN_PATTERN));
}

fn role_session_name(v: &mut Violations, name: &str) {
    v.string("roleSessionName", name, ROLE_SESSION_NAME_MIN, Some(ROLE_SESSION_NAME_MAX), Some(NAME_PATTERN));
}

fn duration(v: &mut Violations, seconds: Option<i32>, min: i32, max: i32) {
    if let Some(seconds) = seconds {
        v.range("durationSeconds", seconds, min, Some(max));
    }
}

fn session_policy(v: &mut Violations, policy: &str, max: Option<usize>) {
    v.length("policy", policy, Shown::Hidden, 1, max);
    v.pattern("policy", policy, Shown::Hidden, POLICY_PATTERN);
}

fn policy_arns(v: &mut Violations, arns: Option<&[PolicyDescriptorType]>) {
    for (i, descriptor) in arns.unwrap_or_default().iter().enumerate() {
        if let Some(a) = &descriptor.arn {
            arn(v, &format!("policyArns.{}.member.arn", i + 1), a);
        }
    }
}

fn tags(v: &mut Violations, tags: Option<&[Tag]>) {
    let Some(tags) = tags else { return };
    let rendered = render_list(tags.iter().map(|t| format!("Tag(key={}, value={})", t.key, t.value)));
    v.count("tags", &rendered, tags.len(), 0, MAX_TAGS);
    for (i, tag) in tags.iter().enumerate() {
        let member = format!("tags.{}.member", i + 1);
        tag_key(v, &format!("{member}.key"), &tag.key);
        v.length(&format!("{member}.value"), &tag.value, Shown::Value, 0, Some(TAG_VALUE_MAX));
        v.pattern(&format!("{member}.value"), &tag.value, Shown::Value, TAG_VALUE_PATTERN);
    }
}

fn tag_key(v: &mut Violations, member: &str, key: &str) {
    v.string(member, key, 1, Some(TAG_KEY_MAX), Some(TAG_KEY_PATTERN));
}

fn mfa(v: &mut Violations, serial_number: Option<&str>, token_code: Option<&str>) {
    if let Some(s) = serial_number {
        v.string("serialNumber", s, SERIAL_NUMBER_MIN, Some(SERIAL_NUMBER_MAX), Some(SERIAL_NUMBER_PATTERN));
    }
    if let Some(t) = token_code {
        v.string("tokenCode", t, TOKEN_CODE_LEN, Some(TOKEN_CODE_LEN), Some(TOKEN_CODE_PATTERN));
    }
}

fn provided_contexts(v: &mut Violations, contexts: Option<&[ProvidedContext]>) {
    let Some(contexts) = contexts else { return };
    let rendered = render_list(contexts.iter().map(|c| {
        format!("ProvidedContext(providerArn={}, contextAssertion=***)", c.provider_arn.as_deref().unwrap_or("null"))
    }));
    v.count("providedContexts", &rendered, contexts.len(), 1, MAX_PROVIDED_CONTEXTS);
    for (i, context) in contexts.iter().enumerate() {
        let member = format!("providedContexts.{}.member", i + 1);
        if let Some(a) = &context.provider_arn {
            arn(v, &format!("{member}.providerArn"), a);
        }
        if let Some(a) = &context.context_assertion {
            let m = format!("{member}.contextAssertion");
            v.length(&m, a, Shown::Hidden, CONTEXT_ASSERTION_MIN, Some(CONTEXT_ASSERTION_MAX));
        }
    }
}

fn minimum_session_token_size(v: &mut Violations, size: Option<i32>) {
    if let Some(size) = size {
        v.range("minimumSessionTokenSize", size, 0, Some(MAX_MINIMUM_SESSION_TOKEN_SIZE));
    }
}

/// Lists as AWS's validator prints them (Java's `List.toString`).
fn render_list(items: impl Iterator<Item = impl std::fmt::Display>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, duration: Option<i32>) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: "arn:aws:iam::111122223333:role/app".into(),
            role_session_name: name.into(),
            duration_seconds: duration,
            ..Default::default()
        }
    }

    fn message(r: Result<(), StsError>) -> String {
        match r {
            Err(StsError::ValidationError(m)) => m,
            other => panic!("expected ValidationError, got {other:?}"),
        }
    }

    #[test]
    fn valid_assume_role_passes() {
        assert_eq!(assume_role(&request("session", Some(3600))), Ok(()));
    }

    #[test]
    fn long_session_name_fails_with_aws_message() {
        let m = message(assume_role(&request(&"s".repeat(65), None)));
        assert_eq!(
            m,
            format!(
                "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: \
                 Member must have length less than or equal to 64",
                "s".repeat(65)
            )
        );
    }

    #[test]
    fn duration_and_name_violations_are_reported_together() {
        let m = message(assume_role(&request("a", Some(100))));
        assert!(m.starts_with("2 validation errors detected: "), "{m}");
        assert!(m.contains("at 'roleSessionName'") && m.contains("Value '100' at 'durationSeconds'"), "{m}");
    }

    #[test]
    fn too_many_tags_and_bad_tag_keys_are_reported() {
        let mut r = request("session", None);
        r.tags = Some(vec![Tag { key: "ok".into(), value: "v".into() }; 51]);
        assert!(
            message(assume_role(&r))
                .contains("at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
        );
        r.tags = Some(vec![Tag { key: "bad#key".into(), value: "v".into() }]);
        assert!(message(assume_role(&r)).contains("Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern"));
    }

    #[test]
    fn tag_keys_are_case_insensitive() {
        let tags = vec![Tag { key: "Team".into(), value: "a".into() }, Tag { key: "team".into(), value: "b".into() }];
        assert!(
            matches!(session_tags(Some(&tags), None), Err(StsError::InvalidParameterValue(m)) if m.starts_with("Duplicate tag keys found."))
        );
        let tags = vec![Tag { key: "Team".into(), value: "a".into() }];
        assert_eq!(session_tags(Some(&tags), Some(&["team".to_string()])), Ok(()));
        assert!(matches!(
            session_tags(Some(&tags), Some(&["Project".to_string()])),
            Err(StsError::InvalidParameterValue(m)) if m == "The specified transitive tag key must be included in the requested tags."
        ));
    }

    #[test]
    fn mfa_serial_without_code_is_denied() {
        assert_eq!(mfa_pair(None, None), Ok(()));
        assert_eq!(mfa_pair(Some("arn:aws:iam::111122223333:mfa/u"), Some("123456")), Ok(()));
        assert!(matches!(mfa_pair(Some("arn:aws:iam::111122223333:mfa/u"), None), Err(StsError::AccessDenied(_))));
    }

    #[test]
    fn federated_user_name_is_limited_to_32_characters() {
        let r = GetFederationTokenRequest { name: "n".repeat(33), ..Default::default() };
        assert!(
            message(get_federation_token(&r))
                .contains("at 'name' failed to satisfy constraint: Member must have length less than or equal to 32")
        );
    }

    #[test]
    fn session_token_duration_allows_up_to_36_hours() {
        let ok = GetSessionTokenRequest { duration_seconds: Some(129_600), ..Default::default() };
        assert_eq!(get_session_token(&ok), Ok(()));
        let too_long = GetSessionTokenRequest { duration_seconds: Some(129_601), ..Default::default() };
        assert!(message(get_session_token(&too_long)).contains("Member must have value less than or equal to 129600"));
    }

    #[test]
    fn token_code_must_be_six_digits() {
        let r = GetSessionTokenRequest { token_code: Some("12a".into()), ..Default::default() };
        let m = message(get_session_token(&r));
        assert!(m.starts_with("2 validation errors detected: "), "{m}");
        assert!(m.contains("Member must have length greater than or equal to 6"), "{m}");
        assert!(m.contains(r"Member must satisfy regular expression pattern: [\d]*"), "{m}");
    }

    #[test]
    fn web_identity_token_is_not_echoed() {
        let r = AssumeRoleWithWebIdentityRequest {
            role_arn: "arn:aws:iam::111122223333:role/app".into(),
            role_session_name: "web".into(),
            web_identity_token: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            message(assume_role_with_web_identity(&r)),
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: \
             Member must have length greater than or equal to 4"
        );
    }

    #[test]
    fn short_access_key_id_is_rejected() {
        let r = GetAccessKeyInfoRequest { access_key_id: "test".into() };
        assert_eq!(
            message(get_access_key_info(&r)),
            "1 validation error detected: Value 'test' at 'accessKeyId' failed to satisfy constraint: \
             Member must have length greater than or equal to 16"
        );
    }
}
