//! Provider behaviour: issued credentials resolve to the principal and account they
//! were issued for, and the rules that depend on who is calling.

use crate::generated::*;
use crate::{StsProvider, encode_authorization_message};
use kagami_core::identity::{Identities, StoredPrincipal};
use kagami_core::{Principal, RequestContext, ServiceError, Store, clock};

fn provider() -> (StsProvider, Identities) {
    let identities = Identities::ephemeral();
    (StsProvider::new(identities.clone()), identities)
}

fn root_ctx(account: &str) -> RequestContext {
    let mut ctx = RequestContext::system(account, "us-east-1", "sts");
    ctx.access_key_id = Some("test".into());
    ctx
}

/// The context a request signed with `key` gets from the gateway.
fn ctx_for(identities: &Identities, key: &str) -> RequestContext {
    let resolved = identities.resolve(key);
    let mut ctx = RequestContext::system(&resolved.account_id, "us-east-1", "sts");
    ctx.access_key_id = Some(key.to_string());
    ctx.principal = resolved.principal;
    ctx
}

fn assume(arn: &str, session: &str) -> AssumeRoleRequest {
    AssumeRoleRequest { role_arn: arn.into(), role_session_name: session.into(), ..Default::default() }
}

fn code(e: &ServiceError) -> (&str, &str) {
    (e.code.as_str(), e.message.as_str())
}

#[tokio::test]
async fn root_caller_identity_is_the_account() {
    let (sts, _) = provider();
    let out = sts.get_caller_identity(&root_ctx("123456789012"), GetCallerIdentityRequest {}).await;
    let out = out.unwrap_or_default();
    assert_eq!(out.account.as_deref(), Some("123456789012"));
    assert_eq!(out.user_id.as_deref(), Some("123456789012"));
    assert_eq!(out.arn.as_deref(), Some("arn:aws:iam::123456789012:root"));
}

#[tokio::test]
async fn assumed_role_credentials_act_as_the_role_in_its_account() {
    let (sts, identities) = provider();
    let out = sts
        .assume_role(&root_ctx("000000000000"), assume("arn:aws:iam::111111111111:role/path/Deployer", "ci-run"))
        .await
        .unwrap_or_default();
    let creds = out.credentials.unwrap_or_default();
    let user = out.assumed_role_user.unwrap_or_default();
    assert!(creds.access_key_id.starts_with("ASIA") && creds.access_key_id.len() == 20);
    assert_eq!(user.arn, "arn:aws:sts::111111111111:assumed-role/Deployer/ci-run");
    assert!(user.assumed_role_id.starts_with("AROA") && user.assumed_role_id.ends_with(":ci-run"));
    assert_eq!(out.packed_policy_size, None);

    let ctx = ctx_for(&identities, &creds.access_key_id);
    assert_eq!(ctx.account_id, "111111111111");
    assert_eq!(identities.resolve(&creds.access_key_id).secret_access_key, Some(creds.secret_access_key.clone()));
    let me = sts.get_caller_identity(&ctx, GetCallerIdentityRequest {}).await.unwrap_or_default();
    assert_eq!(me.arn.as_deref(), Some(user.arn.as_str()));
    assert_eq!(me.user_id.as_deref(), Some(user.assumed_role_id.as_str()));
    assert_eq!(me.account.as_deref(), Some("111111111111"));
}

#[tokio::test]
async fn credentials_expire_after_their_duration() {
    let (sts, identities) = provider();
    let mut req = assume("arn:aws:iam::111111111111:role/r", "s1");
    req.duration_seconds = Some(900);
    let before = clock::now_secs();
    let out = sts.assume_role(&root_ctx("000000000000"), req).await.unwrap_or_default();
    let creds = out.credentials.unwrap_or_default();
    assert!((before + 900..=clock::now_secs() + 900).contains(&creds.expiration.secs));
    let stored = identities.get(&creds.access_key_id).map(|c| c.expires_at_millis);
    assert_eq!(stored, Some(Some(creds.expiration.secs * 1000)));
    assert!(!identities.resolve(&creds.access_key_id).expired);
}

#[tokio::test]
async fn role_chaining_is_limited_to_one_hour() {
    let (sts, identities) = provider();
    let first = sts.assume_role(&root_ctx("000000000000"), assume("arn:aws:iam::111111111111:role/a", "first")).await;
    let key = first.unwrap_or_default().credentials.unwrap_or_default().access_key_id;
    let ctx = ctx_for(&identities, &key);
    let mut chained = assume("arn:aws:iam::222222222222:role/b", "second");
    chained.duration_seconds = Some(7200);
    let err = sts.assume_role(&ctx, chained.clone()).await.err().unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(
        code(&err),
        (
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    );
    chained.duration_seconds = Some(3600);
    let out = sts.assume_role(&ctx, chained).await.unwrap_or_default();
    assert_eq!(
        out.assumed_role_user.map(|u| u.arn).as_deref(),
        Some("arn:aws:sts::222222222222:assumed-role/b/second")
    );
}

#[tokio::test]
async fn malformed_role_arn_is_invalid() {
    let (sts, _) = provider();
    let err = sts.assume_role(&root_ctx("000000000000"), assume("arn:a:a::aaaaaaaaaa:", "s1")).await;
    let err = err.err().unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(code(&err), ("ValidationError", "arn:a:a::aaaaaaaaaa: is invalid"));
    assert_eq!(err.status, 400);
}

#[tokio::test]
async fn arn_of_something_other_than_a_role_cannot_be_assumed() {
    let (sts, _) = provider();
    let err = sts.assume_role(&root_ctx("000000000000"), assume("arn:aws:iam::111111111111:user/bob", "s1")).await;
    let err = err.err().unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(
        code(&err),
        (
            "AccessDenied",
            "User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: \
             arn:aws:iam::111111111111:user/bob"
        )
    );
    assert_eq!(err.status, 403);
}

#[tokio::test]
async fn session_policy_must_be_json_and_reports_packed_size() {
    let (sts, _) = provider();
    let mut req = assume("arn:aws:iam::111111111111:role/r", "s1");
    req.policy = Some("not json".into());
    let err = sts.assume_role(&root_ctx("000000000000"), req.clone()).await.err();
    let err = err.unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(code(&err), ("MalformedPolicyDocument", "The policy is not in the valid JSON format."));
    assert_eq!(err.status, 400);
    req.policy =
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into());
    let out = sts.assume_role(&root_ctx("000000000000"), req).await.unwrap_or_default();
    assert!(out.packed_policy_size.is_some_and(|p| (1..=100).contains(&p)));
}

#[tokio::test]
async fn session_credentials_cannot_get_session_or_federation_tokens() {
    let (sts, identities) = provider();
    let first = sts.get_session_token(&root_ctx("000000000000"), GetSessionTokenRequest::default()).await;
    let key = first.unwrap_or_default().credentials.unwrap_or_default().access_key_id;
    let ctx = ctx_for(&identities, &key);
    let err = sts.get_session_token(&ctx, GetSessionTokenRequest::default()).await.err();
    let err = err.unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(code(&err), ("AccessDenied", "Cannot call GetSessionToken with session credentials"));
    assert_eq!(err.status, 403);
    let req = GetFederationTokenRequest { name: "bob".into(), ..Default::default() };
    let err = sts.get_federation_token(&ctx, req).await.err().unwrap_or_else(|| ServiceError::internal("ok"));
    assert_eq!(code(&err), ("AccessDenied", "Cannot call GetFederationToken with session credentials"));
}

#[tokio::test]
async fn root_sessions_last_at_most_one_hour() {
    let (sts, _) = provider();
    let req = GetSessionTokenRequest { duration_seconds: Some(7200), ..Default::default() };
    let before = clock::now_secs();
    let out = sts.get_session_token(&root_ctx("000000000000"), req).await.unwrap_or_default();
    let expiration = out.credentials.unwrap_or_default().expiration.secs;
    assert!((before + 3600..=clock::now_secs() + 3600).contains(&expiration));
}

#[tokio::test]
async fn user_session_tokens_default_to_twelve_hours_and_act_as_the_user() {
    let (sts, identities) = provider();
    let mut ctx = root_ctx("111111111111");
    ctx.principal =
        Principal::User { arn: "arn:aws:iam::111111111111:user/alice".into(), user_id: "AIDAEXAMPLE".into() };
    let before = clock::now_secs();
    let out = sts.get_session_token(&ctx, GetSessionTokenRequest::default()).await.unwrap_or_default();
    let creds = out.credentials.unwrap_or_default();
    assert!((before + 43_200..=clock::now_secs() + 43_200).contains(&creds.expiration.secs));
    let issued = identities.get(&creds.access_key_id).map(|c| c.principal);
    assert_eq!(
        issued,
        Some(StoredPrincipal::User {
            arn: "arn:aws:iam::111111111111:user/alice".into(),
            user_id: "AIDAEXAMPLE".into()
        })
    );
}

#[tokio::test]
async fn federation_token_names_the_federated_user() {
    let (sts, identities) = provider();
    let req = GetFederationTokenRequest { name: "bob".into(), ..Default::default() };
    let out = sts.get_federation_token(&root_ctx("111111111111"), req).await.unwrap_or_default();
    let user = out.federated_user.unwrap_or_default();
    assert_eq!(user.arn, "arn:aws:sts::111111111111:federated-user/bob");
    assert_eq!(user.federated_user_id, "111111111111:bob");
    assert_eq!(out.packed_policy_size, Some(0));
    let ctx = ctx_for(&identities, &out.credentials.unwrap_or_default().access_key_id);
    let me = sts.get_caller_identity(&ctx, GetCallerIdentityRequest {}).await.unwrap_or_default();
    assert_eq!(me.arn.as_deref(), Some("arn:aws:sts::111111111111:federated-user/bob"));
    assert_eq!(me.user_id.as_deref(), Some("111111111111:bob"));
}

#[tokio::test]
async fn access_key_info_names_the_account_of_the_key() {
    let (sts, _) = provider();
    let out = sts.assume_role(&root_ctx("000000000000"), assume("arn:aws:iam::333333333333:role/r", "s1")).await;
    let key = out.unwrap_or_default().credentials.unwrap_or_default().access_key_id;
    let ctx = root_ctx("000000000000");
    for (key, account) in
        [(key.as_str(), "333333333333"), ("444455556666", "444455556666"), ("AKIAIOSFODNN7EXAMPLE", "000000000000")]
    {
        let out = sts.get_access_key_info(&ctx, GetAccessKeyInfoRequest { access_key_id: key.into() }).await;
        assert_eq!(out.unwrap_or_default().account.as_deref(), Some(account), "{key}");
    }
}

#[tokio::test]
async fn authorization_messages_round_trip() {
    let (sts, _) = provider();
    let doc = r#"{"allowed":false,"explicitDeny":false}"#;
    let req = DecodeAuthorizationMessageRequest { encoded_message: encode_authorization_message(doc) };
    let out = sts.decode_authorization_message(&root_ctx("000000000000"), req).await.unwrap_or_default();
    assert_eq!(out.decoded_message.as_deref(), Some(doc));
    let req = DecodeAuthorizationMessageRequest { encoded_message: "garbage".into() };
    let err = sts.decode_authorization_message(&root_ctx("000000000000"), req).await.err();
    assert_eq!(err.map(|e| e.code), Some("InvalidAuthorizationMessageException".to_string()));
}

#[tokio::test]
async fn assume_root_gives_root_credentials_of_the_member_account() {
    let (sts, identities) = provider();
    let req = AssumeRootRequest {
        target_principal: "222222222222".into(),
        task_policy_arn: PolicyDescriptorType {
            arn: Some("arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy".into()),
        },
        ..Default::default()
    };
    let out = sts.assume_root(&root_ctx("111111111111"), req.clone()).await.unwrap_or_default();
    let key = out.credentials.unwrap_or_default().access_key_id;
    let ctx = ctx_for(&identities, &key);
    assert_eq!(ctx.account_id, "222222222222");
    assert_eq!(ctx.principal, Principal::Root);
    let bad = AssumeRootRequest {
        task_policy_arn: PolicyDescriptorType { arn: Some("arn:aws:iam::aws:policy/AdministratorAccess".into()) },
        ..req
    };
    let err = sts.assume_root(&root_ctx("111111111111"), bad).await.err();
    assert_eq!(err.map(|e| e.code), Some("ValidationError".to_string()));
}

#[tokio::test]
async fn issued_credentials_survive_reopening_a_durable_store() {
    let dir = std::env::temp_dir().join(format!("kagami-sts-test-{}", kagami_core::ids::uuid_v4()));
    let key = {
        let store = Store::open(&dir).unwrap_or_else(|e| panic!("open store: {e}"));
        let identities = Identities::load(&store, "000000000000").unwrap_or_else(|e| panic!("load: {e}"));
        let sts = StsProvider::new(identities);
        let out = sts.assume_role(&root_ctx("000000000000"), assume("arn:aws:iam::111111111111:role/r", "s1")).await;
        out.unwrap_or_default().credentials.unwrap_or_default().access_key_id
    };
    let store = Store::open(&dir).unwrap_or_else(|e| panic!("reopen store: {e}"));
    let identities = Identities::load(&store, "000000000000").unwrap_or_else(|e| panic!("load: {e}"));
    let resolved = identities.resolve(&key);
    assert_eq!(resolved.account_id, "111111111111");
    assert!(matches!(resolved.principal, Principal::AssumedRole { ref session_name, .. } if session_name == "s1"));
    drop(identities);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
