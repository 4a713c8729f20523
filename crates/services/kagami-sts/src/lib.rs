//! AWS Security Token Service. Every credential STS issues is registered with the
//! gateway's identities, so a later request signed with it acts as the principal it
//! names (an assumed role, a federated user, the caller itself) in that principal's
//! account: AssumeRole on a role of account 111111111111 gives credentials whose
//! requests land in 111111111111. They survive restarts in durable mode and expire on
//! the emulated clock.
//!
//! Roles are not looked up in IAM: any well-formed role ARN can be assumed, with a
//! maximum session duration of 12 hours, and trust policies are not evaluated.

pub mod generated;

mod arn;
mod authorization;
mod credentials;
mod policy;
mod requests;
#[cfg(test)]
mod tests;
mod tokens;
mod validation;

pub use authorization::encode_authorization_message;

use crate::arn::{RoleArn, SamlProviderArn};
use crate::credentials::Issued;
use crate::generated::*;
use crate::policy::{PolicyError, SessionPolicies};
use kagami_core::identity::{Identities, StoredPrincipal};
use kagami_core::{BoxFuture, Principal, RequestContext, Service, ServiceEnv, ServiceError, StoreError, Value, clock};
use kagami_protocol::shapes::ShapeError;
use std::sync::Arc;

/// The operations that behave as AWS documents. GetDelegatedAccessToken,
/// GetScopedCredentials and GetWebIdentityToken need IAM features kagami does not
/// have (trade-in tokens, scoped sessions, outbound federation with published signing
/// keys) and answer NotImplemented.
pub const IMPLEMENTED: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetCallerIdentity",
    "GetFederationToken",
    "GetSessionToken",
];

/// AssumeRole*: one hour unless DurationSeconds says otherwise.
const DEFAULT_ROLE_DURATION: i32 = 3600;
/// "Role chaining limits your AWS CLI or AWS API role session to a maximum of one hour."
const ROLE_CHAINING_MAX_DURATION: i32 = 3600;
/// GetSessionToken / GetFederationToken: 12 hours unless DurationSeconds says otherwise.
const DEFAULT_TOKEN_DURATION: i32 = 43_200;
/// Sessions of the account's root user last at most one hour; longer requests get one hour.
const ROOT_SESSION_MAX_DURATION: i32 = 3600;
/// AssumeRoot sessions last 15 minutes unless shorter ones are asked for.
const DEFAULT_ROOT_TASK_DURATION: i32 = 900;
/// The AWS managed policies AssumeRoot sessions are scoped with.
const ROOT_TASK_POLICIES: &[&str] = &[
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
];

/// The STS provider: issues credentials into the shared identities.
pub struct StsProvider {
    identities: Identities,
}

impl StsProvider {
    pub fn new(identities: Identities) -> Self {
        StsProvider { identities }
    }

    /// Creates and registers credentials; they are durable when this returns.
    async fn issue(
        &self,
        account_id: &str,
        principal: StoredPrincipal,
        duration_secs: i32,
        minimum_session_token_size: Option<i32>,
    ) -> Result<Issued, ServiceError> {
        let min_token = minimum_session_token_size.and_then(|m| usize::try_from(m).ok()).unwrap_or(0);
        let (credential, issued) = credentials::issue(account_id, principal, i64::from(duration_secs), min_token);
        self.identities
            .insert(credential)
            .await
            .map_err(|e| ServiceError::internal(format!("storing issued credentials: {e}")))?;
        Ok(issued)
    }

    /// A session of `role` named `session_name`, in the role's account: what every
    /// AssumeRole* answers. The session policies are measured before anything is issued.
    async fn start_role_session(
        &self,
        role: &RoleArn,
        session_name: &str,
        duration_secs: i32,
        minimum_session_token_size: Option<i32>,
        policies: SessionPolicies<'_>,
    ) -> Result<RoleSession, ServiceError> {
        let packed_policy_size = policies.packed_size()?;
        let role_id = credentials::role_id(role);
        let arn = role.assumed_role_arn(session_name);
        let user = AssumedRoleUser { assumed_role_id: format!("{role_id}:{session_name}"), arn: arn.clone() };
        let principal = StoredPrincipal::AssumedRole { arn, role_id, session_name: session_name.to_string() };
        let issued = self.issue(&role.account_id, principal, duration_secs, minimum_session_token_size).await?;
        let (session_token_utilization, session_token_size) = token_size(&issued, minimum_session_token_size);
        Ok(RoleSession {
            credentials: credentials_of(&issued),
            user,
            packed_policy_size,
            session_token_utilization,
            session_token_size,
        })
    }

    /// Whether the request was signed with temporary credentials (which may not mint
    /// further session or federation tokens).
    fn signed_with_session_credentials(&self, ctx: &RequestContext) -> bool {
        let temporary = ctx
            .access_key_id
            .as_deref()
            .and_then(|key| self.identities.get(key))
            .is_some_and(|c| c.session_token.is_some());
        temporary || matches!(ctx.principal, Principal::AssumedRole { .. } | Principal::FederatedUser { .. })
    }
}

/// The members every AssumeRole* response shares.
struct RoleSession {
    credentials: Credentials,
    user: AssumedRoleUser,
    packed_policy_size: Option<i32>,
    session_token_utilization: Option<i32>,
    session_token_size: Option<i32>,
}

fn credentials_of(issued: &Issued) -> Credentials {
    Credentials {
        access_key_id: issued.access_key_id.clone(),
        secret_access_key: issued.secret_access_key.clone(),
        session_token: issued.session_token.clone(),
        expiration: issued.expiration,
    }
}

/// SessionTokenUtilization and SessionTokenSize, reported when the caller asked for a
/// minimum token size.
fn token_size(issued: &Issued, minimum_session_token_size: Option<i32>) -> (Option<i32>, Option<i32>) {
    match minimum_session_token_size {
        Some(_) => {
            (i32::try_from(issued.session_token_utilization()).ok(), i32::try_from(issued.session_token_size()).ok())
        }
        None => (None, None),
    }
}

/// The role a request names. A malformed ARN is invalid; a well-formed one that names
/// no role cannot be assumed, which AWS reports as access denied.
fn role_arn(arn: &str, denied: impl FnOnce() -> String) -> Result<RoleArn, StsError> {
    if !arn::is_well_formed(arn) {
        return Err(StsError::ValidationError(format!("{arn} is invalid")));
    }
    RoleArn::parse(arn).ok_or_else(|| StsError::AccessDenied(denied()))
}

/// What a request adds to a session besides its identity: an inline policy, managed
/// policy ARNs and session tags.
fn session_policies<'a>(
    policy: Option<&'a str>,
    policy_arns: Option<&'a [PolicyDescriptorType]>,
    tags: Option<&'a [Tag]>,
) -> SessionPolicies<'a> {
    SessionPolicies {
        policy,
        policy_arns: policy_arns.unwrap_or_default().iter().filter_map(|d| d.arn.as_deref()).collect(),
        tags: tags.unwrap_or_default().iter().map(|t| (t.key.as_str(), t.value.as_str())).collect(),
    }
}

impl From<PolicyError> for ServiceError {
    fn from(e: PolicyError) -> ServiceError {
        match e {
            PolicyError::Malformed(m) => StsError::MalformedPolicyDocumentException(m).into(),
            PolicyError::TooLarge(m) => StsError::PackedPolicyTooLargeException(m).into(),
        }
    }
}

impl StsApi for StsProvider {
    async fn get_caller_identity(
        &self,
        ctx: &RequestContext,
        _input: GetCallerIdentityRequest,
    ) -> Result<GetCallerIdentityResponse, ServiceError> {
        let user_id = match &ctx.principal {
            Principal::Root => ctx.account_id.clone(),
            Principal::User { user_id, .. } | Principal::FederatedUser { user_id, .. } => user_id.clone(),
            Principal::AssumedRole { role_id, session_name, .. } => format!("{role_id}:{session_name}"),
        };
        Ok(GetCallerIdentityResponse {
            user_id: Some(user_id),
            account: Some(ctx.account_id.clone()),
            arn: Some(ctx.caller_arn()),
        })
    }

    async fn assume_role(
        &self,
        ctx: &RequestContext,
        input: AssumeRoleRequest,
    ) -> Result<AssumeRoleResponse, ServiceError> {
        requests::assume_role(&input)?;
        let role = role_arn(&input.role_arn, || {
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                ctx.caller_arn(),
                input.role_arn
            )
        })?;
        requests::mfa_pair(input.serial_number.as_deref(), input.token_code.as_deref())?;
        let duration = input.duration_seconds.unwrap_or(DEFAULT_ROLE_DURATION);
        if matches!(ctx.principal, Principal::AssumedRole { .. }) && duration > ROLE_CHAINING_MAX_DURATION {
            return Err(StsError::ValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
                    .into(),
            )
            .into());
        }
        requests::session_tags(input.tags.as_deref(), input.transitive_tag_keys.as_deref())?;
        let policies = session_policies(input.policy.as_deref(), input.policy_arns.as_deref(), input.tags.as_deref());
        let session = self
            .start_role_session(&role, &input.role_session_name, duration, input.minimum_session_token_size, policies)
            .await?;
        Ok(AssumeRoleResponse {
            credentials: Some(session.credentials),
            assumed_role_user: Some(session.user),
            packed_policy_size: session.packed_policy_size,
            source_identity: input.source_identity,
            session_token_utilization: session.session_token_utilization,
            session_token_size: session.session_token_size,
        })
    }

    async fn assume_role_with_web_identity(
        &self,
        _ctx: &RequestContext,
        input: AssumeRoleWithWebIdentityRequest,
    ) -> Result<AssumeRoleWithWebIdentityResponse, ServiceError> {
        requests::assume_role_with_web_identity(&input)?;
        let role = role_arn(&input.role_arn, || "Not authorized to perform sts:AssumeRoleWithWebIdentity".into())?;
        // An OpenID Connect ID token is a JWT; OAuth 2.0 access tokens (with ProviderId)
        // are opaque and carry nothing kagami can read.
        let claims = tokens::parse_jwt(&input.web_identity_token);
        if let Some(expires_at) = claims.as_ref().and_then(|c| c.expires_at) {
            let now = clock::now_secs();
            if expires_at <= now {
                return Err(StsError::ExpiredTokenException(format!(
                    "Token expired: current date/time {now} must be before the expiration date/time{expires_at}"
                ))
                .into());
            }
        }
        let policies = session_policies(input.policy.as_deref(), input.policy_arns.as_deref(), None);
        let duration = input.duration_seconds.unwrap_or(DEFAULT_ROLE_DURATION);
        let session = self
            .start_role_session(&role, &input.role_session_name, duration, input.minimum_session_token_size, policies)
            .await?;
        let claims = claims.unwrap_or_default();
        Ok(AssumeRoleWithWebIdentityResponse {
            credentials: Some(session.credentials),
            subject_from_web_identity_token: claims.subject,
            assumed_role_user: Some(session.user),
            packed_policy_size: session.packed_policy_size,
            // "For OpenID Connect ID tokens, this contains the value of the iss field. For
            // OAuth 2.0 access tokens, this contains the value of the ProviderId parameter."
            provider: claims.issuer.or(input.provider_id),
            audience: claims.audience,
            source_identity: claims.source_identity,
            session_token_utilization: session.session_token_utilization,
            session_token_size: session.session_token_size,
            trusted_identity_propagation_context: None,
        })
    }

    async fn assume_role_with_saml(
        &self,
        _ctx: &RequestContext,
        input: AssumeRoleWithSAMLRequest,
    ) -> Result<AssumeRoleWithSAMLResponse, ServiceError> {
        requests::assume_role_with_saml(&input)?;
        let role = role_arn(&input.role_arn, || "Not authorized to perform sts:AssumeRoleWithSAML".into())?;
        let provider = SamlProviderArn::parse(&input.principal_arn)
            .ok_or_else(|| StsError::ValidationError("Principal ARN is invalid".into()))?;
        let assertion = tokens::parse_saml(&input.saml_assertion)
            .map_err(|e| StsError::InvalidIdentityTokenException(e.to_string()))?;
        let session_name = assertion.role_session_name.clone().ok_or_else(|| {
            StsError::InvalidIdentityTokenException(
                "SAML assertion has no https://aws.amazon.com/SAML/Attributes/RoleSessionName attribute".into(),
            )
        })?;
        let mut v = validation::Violations::new();
        v.string("roleSessionName", &session_name, 2, Some(64), Some(validation::NAME_PATTERN));
        if let Some(message) = v.message() {
            return Err(StsError::InvalidIdentityTokenException(message).into());
        }
        let from_assertion = assertion
            .session_duration
            .and_then(|d| i32::try_from(d).ok())
            .filter(|d| (requests::MIN_ROLE_DURATION..=requests::MAX_ROLE_DURATION).contains(d));
        let duration = input.duration_seconds.or(from_assertion).unwrap_or(DEFAULT_ROLE_DURATION);
        let policies = session_policies(input.policy.as_deref(), input.policy_arns.as_deref(), None);
        let session = self
            .start_role_session(&role, &session_name, duration, input.minimum_session_token_size, policies)
            .await?;
        let name_qualifier = assertion.name_qualifier(&provider.account_id, &provider.name);
        Ok(AssumeRoleWithSAMLResponse {
            credentials: Some(session.credentials),
            assumed_role_user: Some(session.user),
            packed_policy_size: session.packed_policy_size,
            subject: assertion.subject,
            subject_type: assertion.subject_type,
            issuer: assertion.issuer,
            audience: assertion.audience,
            name_qualifier,
            source_identity: assertion.source_identity,
            session_token_utilization: session.session_token_utilization,
            session_token_size: session.session_token_size,
            trusted_identity_propagation_context: None,
        })
    }

    async fn assume_root(
        &self,
        _ctx: &RequestContext,
        input: AssumeRootRequest,
    ) -> Result<AssumeRootResponse, ServiceError> {
        requests::assume_root(&input)?;
        let target = input.target_principal.as_str();
        let account_id = if arn::is_account_id(target) { Some(target) } else { arn::account_of(target) };
        let account_id = account_id.ok_or_else(|| {
            StsError::ValidationError(format!("TargetPrincipal {target} is not a member account ID or principal ARN"))
        })?;
        let task_policy = input.task_policy_arn.arn.as_deref().unwrap_or_default();
        let known_task = task_policy
            .split_once(":iam::aws:policy/root-task/")
            .is_some_and(|(prefix, name)| prefix.starts_with("arn:") && ROOT_TASK_POLICIES.contains(&name));
        if !known_task {
            return Err(StsError::ValidationError(format!(
                "TaskPolicyArn {task_policy} is not one of the AWS managed root-task policies"
            ))
            .into());
        }
        let duration = input.duration_seconds.unwrap_or(DEFAULT_ROOT_TASK_DURATION);
        let issued = self.issue(account_id, StoredPrincipal::Root, duration, input.minimum_session_token_size).await?;
        let (session_token_utilization, session_token_size) = token_size(&issued, input.minimum_session_token_size);
        Ok(AssumeRootResponse {
            credentials: Some(credentials_of(&issued)),
            source_identity: None,
            session_token_utilization,
            session_token_size,
        })
    }

    async fn get_session_token(
        &self,
        ctx: &RequestContext,
        input: GetSessionTokenRequest,
    ) -> Result<GetSessionTokenResponse, ServiceError> {
        requests::get_session_token(&input)?;
        requests::mfa_pair(input.serial_number.as_deref(), input.token_code.as_deref())?;
        if self.signed_with_session_credentials(ctx) {
            return Err(StsError::AccessDenied("Cannot call GetSessionToken with session credentials".into()).into());
        }
        let (principal, duration) = match &ctx.principal {
            Principal::User { arn, user_id } => (
                StoredPrincipal::User { arn: arn.clone(), user_id: user_id.clone() },
                input.duration_seconds.unwrap_or(DEFAULT_TOKEN_DURATION),
            ),
            _ => (StoredPrincipal::Root, root_duration(input.duration_seconds)),
        };
        let issued = self.issue(&ctx.account_id, principal, duration, input.minimum_session_token_size).await?;
        let (session_token_utilization, session_token_size) = token_size(&issued, input.minimum_session_token_size);
        Ok(GetSessionTokenResponse {
            credentials: Some(credentials_of(&issued)),
            session_token_utilization,
            session_token_size,
        })
    }

    async fn get_federation_token(
        &self,
        ctx: &RequestContext,
        input: GetFederationTokenRequest,
    ) -> Result<GetFederationTokenResponse, ServiceError> {
        requests::get_federation_token(&input)?;
        if self.signed_with_session_credentials(ctx) {
            return Err(StsError::AccessDenied("Cannot call GetFederationToken with session credentials".into()).into());
        }
        requests::session_tags(input.tags.as_deref(), None)?;
        let packed_policy_size = session_policies(input.policy.as_deref(), input.policy_arns.as_deref(), input.tags.as_deref())
            .packed_size()?
        // AWS reports 0 for federation tokens without session policies or tags.
        .or(Some(0));
        let duration = match ctx.principal {
            Principal::Root => root_duration(input.duration_seconds),
            _ => input.duration_seconds.unwrap_or(DEFAULT_TOKEN_DURATION),
        };
        let partition = kagami_core::arn::partition_of_region(&ctx.region);
        let arn = arn::federated_user_arn(partition, &ctx.account_id, &input.name);
        let federated_user_id = format!("{}:{}", ctx.account_id, input.name);
        let principal = StoredPrincipal::FederatedUser { arn: arn.clone(), user_id: federated_user_id.clone() };
        let issued = self.issue(&ctx.account_id, principal, duration, input.minimum_session_token_size).await?;
        let (session_token_utilization, session_token_size) = token_size(&issued, input.minimum_session_token_size);
        Ok(GetFederationTokenResponse {
            credentials: Some(credentials_of(&issued)),
            federated_user: Some(FederatedUser { federated_user_id, arn }),
            packed_policy_size,
            session_token_utilization,
            session_token_size,
        })
    }

    async fn get_access_key_info(
        &self,
        _ctx: &RequestContext,
        input: GetAccessKeyInfoRequest,
    ) -> Result<GetAccessKeyInfoResponse, ServiceError> {
        // A 12-digit key is an account id by kagami's (and LocalStack's) convention, even
        // though it is shorter than AWS's key ids.
        if !arn::is_account_id(&input.access_key_id) {
            requests::get_access_key_info(&input)?;
        }
        // The account the gateway acts in for this key: issued keys name theirs, 12-digit
        // keys are accounts, any other key belongs to the default account.
        let account = self.identities.resolve(&input.access_key_id).account_id;
        Ok(GetAccessKeyInfoResponse { account: Some(account) })
    }

    async fn decode_authorization_message(
        &self,
        _ctx: &RequestContext,
        input: DecodeAuthorizationMessageRequest,
    ) -> Result<DecodeAuthorizationMessageResponse, ServiceError> {
        requests::decode_authorization_message(&input)?;
        let decoded = authorization::decode_authorization_message(&input.encoded_message).ok_or_else(|| {
            StsError::InvalidAuthorizationMessageException("The encoded authorization message is invalid.".into())
        })?;
        Ok(DecodeAuthorizationMessageResponse { decoded_message: Some(decoded) })
    }

    fn input_error(&self, _operation: &str, error: ShapeError) -> ServiceError {
        StsError::ValidationError(validation::input_error_message(&error)).into()
    }
}

/// Sessions of the root user: one hour by default and at most.
fn root_duration(requested: Option<i32>) -> i32 {
    requested.map_or(ROOT_SESSION_MAX_DURATION, |d| d.min(ROOT_SESSION_MAX_DURATION))
}

struct StsService {
    provider: StsProvider,
}

impl Service for StsService {
    fn name(&self) -> &'static str {
        "sts"
    }

    fn implemented_operations(&self) -> &'static [&'static str] {
        IMPLEMENTED
    }

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>> {
        Box::pin(generated::dispatch(&self.provider, ctx, operation, input))
    }

    /// STS keeps nothing but the credentials it issued, which live in the shared
    /// identities; the gateway clears those when STS (or everything) is reset.
    fn reset(&self) {}
}

/// STS over the environment's identities (where issued credentials are registered).
pub fn new_service(env: &ServiceEnv) -> Result<Arc<dyn Service>, StoreError> {
    Ok(Arc::new(StsService { provider: StsProvider::new(env.identities.clone()) }))
}
