//! Object ACLs: GetObjectAcl and PutObjectAcl per version, canned ACLs and explicit
//! grants (an `AccessControlPolicy` body or `x-amz-grant-*` headers), the same headers
//! on a write, and Object Ownership: a bucket whose ownership is `BucketOwnerEnforced`
//! (the default for new buckets since April 2023) has ACLs disabled and accepts only
//! ACLs that give the bucket owner full control.
//! https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html

use crate::bucket_config::acl::{ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY};
use crate::bucket_config::ownership::acls_disabled;
use crate::bucket_config::public_access_block::blocks_public_acls;
use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3, canonical_user_id};
use crate::versioning::{target, target_mut};
use kagami_core::{RequestContext, ServiceError};
use serde::{Deserialize, Serialize};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["GetObjectAcl", "PutObjectAcl"];

/// The canonical user `aws-exec-read` grants READ to (EC2, for bundles in S3).
const EC2_READER: &str = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

const FULL_CONTROL: &str = "FULL_CONTROL";
const BUCKET_OWNER_FULL_CONTROL: &str = "bucket-owner-full-control";
const READ: &str = "READ";
const PERMISSIONS: &[&str] = &[FULL_CONTROL, "WRITE", "WRITE_ACP", READ, "READ_ACP"];

const CANONICAL_USER: &str = "CanonicalUser";
const GROUP: &str = "Group";
const BY_EMAIL: &str = "AmazonCustomerByEmail";

/// One grant as `ObjectRecord.acl` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// `CanonicalUser`, `Group` or `AmazonCustomerByEmail`.
    #[serde(rename = "type")]
    pub grantee_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub permission: String,
}

/// The ACL of one version; the owner is the version's owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAcl {
    pub grants: Vec<StoredGrant>,
}

/// The ACL parts of a request: `x-amz-acl` and the `x-amz-grant-*` headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct AclHeaders<'a> {
    pub acl: Option<&'a str>,
    pub full_control: Option<&'a str>,
    pub read: Option<&'a str>,
    pub read_acp: Option<&'a str>,
    pub write: Option<&'a str>,
    pub write_acp: Option<&'a str>,
}

impl AclHeaders<'_> {
    fn grants(&self) -> [(&'static str, &'static str, Option<&str>); 5] {
        [
            (FULL_CONTROL, "x-amz-grant-full-control", self.full_control),
            (READ, "x-amz-grant-read", self.read),
            ("READ_ACP", "x-amz-grant-read-acp", self.read_acp),
            ("WRITE", "x-amz-grant-write", self.write),
            ("WRITE_ACP", "x-amz-grant-write-acp", self.write_acp),
        ]
    }

    fn has_grants(&self) -> bool {
        self.grants().iter().any(|(_, _, v)| v.is_some())
    }
}

fn user(id: &str, permission: &str) -> StoredGrant {
    StoredGrant {
        grantee_type: CANONICAL_USER.into(),
        id: Some(id.into()),
        uri: None,
        email: None,
        permission: permission.into(),
    }
}

fn group(uri: &str, permission: &str) -> StoredGrant {
    StoredGrant {
        grantee_type: GROUP.into(),
        id: None,
        uri: Some(uri.into()),
        email: None,
        permission: permission.into(),
    }
}

fn is_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn valid_group(uri: &str) -> bool {
    [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&uri)
}

/// The grants of a canned ACL for an object owned by `owner` in a bucket owned by
/// `bucket_owner` (both canonical ids).
fn canned(acl: &str, owner: &str, bucket_owner: &str) -> Result<Vec<StoredGrant>, ServiceError> {
    let mut grants = vec![user(owner, FULL_CONTROL)];
    match acl {
        "private" => {}
        "public-read" => grants.push(group(ALL_USERS, READ)),
        "public-read-write" => {
            grants.push(group(ALL_USERS, READ));
            grants.push(group(ALL_USERS, "WRITE"));
        }
        "authenticated-read" => grants.push(group(AUTHENTICATED_USERS, READ)),
        "aws-exec-read" => grants.push(user(EC2_READER, READ)),
        "bucket-owner-read" if bucket_owner != owner => grants.push(user(bucket_owner, READ)),
        "bucket-owner-full-control" if bucket_owner != owner => {
            grants.push(user(bucket_owner, FULL_CONTROL));
        }
        "bucket-owner-read" | "bucket-owner-full-control" => {}
        other => return Err(invalid_argument("", "x-amz-acl", other)),
    }
    Ok(grants)
}

/// Grants of one `x-amz-grant-*` header: `id="..."`, `uri="..."` or
/// `emailAddress="..."`, comma-separated.
fn header_grants(permission: &str, header: &str, value: &str) -> Result<Vec<StoredGrant>, ServiceError> {
    let mut grants = Vec::new();
    for piece in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let unrecognized = || invalid_argument("Argument format not recognized", header, piece);
        let (kind, raw) = piece.split_once('=').ok_or_else(unrecognized)?;
        let grantee = raw.trim().trim_matches('"');
        grants.push(match kind.trim() {
            "id" if is_canonical_id(grantee) => user(grantee, permission),
            "id" => return Err(invalid_argument("Invalid id", "id", grantee)),
            "uri" if valid_group(grantee) => group(grantee, permission),
            "uri" => return Err(invalid_argument("Invalid group uri", "uri", grantee)),
            "emailAddress" => StoredGrant {
                grantee_type: BY_EMAIL.into(),
                id: None,
                uri: None,
                email: Some(grantee.into()),
                permission: permission.into(),
            },
            _ => return Err(unrecognized()),
        });
    }
    Ok(grants)
}

/// Grants of an `AccessControlPolicy` document, checked as S3 checks them.
fn policy_grants(policy: AccessControlPolicy) -> Result<Vec<StoredGrant>, ServiceError> {
    let owner_id = policy.owner.and_then(|o| o.id).ok_or_else(malformed_acl_error)?;
    if !is_canonical_id(&owner_id) {
        return Err(invalid_argument("Invalid id", "CanonicalUser/ID", &owner_id));
    }
    let mut grants = Vec::new();
    for grant in policy.grants.unwrap_or_default() {
        let permission = grant
            .permission
            .filter(|p| PERMISSIONS.contains(&p.as_str()))
            .ok_or_else(malformed_acl_error)?;
        let grantee = grant.grantee.ok_or_else(malformed_acl_error)?;
        grants.push(match grantee.type_.as_str() {
            CANONICAL_USER => {
                let id = grantee.id.unwrap_or_default();
                if !is_canonical_id(&id) {
                    return Err(invalid_argument("Invalid id", "CanonicalUser/ID", &id));
                }
                user(&id, &permission)
            }
            GROUP => {
                let uri = grantee.uri.unwrap_or_default();
                if !valid_group(&uri) {
                    return Err(invalid_argument("Invalid group uri", "Group/URI", &uri));
                }
                group(&uri, &permission)
            }
            BY_EMAIL => StoredGrant {
                grantee_type: BY_EMAIL.into(),
                id: None,
                uri: None,
                email: grantee.email_address,
                permission,
            },
            _ => return Err(malformed_acl_error()),
        });
    }
    Ok(grants)
}

/// With ACLs disabled (Object Ownership `BucketOwnerEnforced`), only the
/// `bucket-owner-full-control` canned ACL, or grants of full control to the bucket owner
/// alone, are accepted; with Block Public Access's BlockPublicAcls, grants to everyone or
/// to all authenticated users are refused.
fn check_acls_allowed(
    bucket: &Bucket,
    canned: Option<&str>,
    grants: &[StoredGrant],
) -> Result<(), ServiceError> {
    if acls_disabled(bucket) {
        let bucket_owner = canonical_user_id(&bucket.record.account);
        let owner_only = grants.iter().all(|g| {
            g.id.as_deref() == Some(bucket_owner.as_str()) && g.permission == FULL_CONTROL
        });
        // Of the canned ACLs only bucket-owner-full-control passes, not even `private`.
        let canned_ok = canned.is_none_or(|c| c == BUCKET_OWNER_FULL_CONTROL);
        if !owner_only || !canned_ok {
            return Err(access_control_list_not_supported());
        }
    }
    let public = grants
        .iter()
        .any(|g| matches!(g.uri.as_deref(), Some(ALL_USERS | AUTHENTICATED_USERS)));
    if public && blocks_public_acls(bucket) {
        return Err(access_denied());
    }
    Ok(())
}

/// The canonical id of the account that owns a version.
fn owner_id(bucket: &Bucket, owner_account: &str) -> String {
    let account = if owner_account.is_empty() {
        &bucket.record.account
    } else {
        owner_account
    };
    canonical_user_id(account)
}

fn resolve(
    bucket: &Bucket,
    owner_account: &str,
    headers: AclHeaders<'_>,
    policy: Option<AccessControlPolicy>,
) -> Result<Option<Vec<StoredGrant>>, ServiceError> {
    let has_grants = headers.has_grants();
    if headers.acl.is_some() && has_grants {
        return Err(invalid_request("Specifying both Canned ACLs and Header Grants is not allowed"));
    }
    if (headers.acl.is_some() || has_grants) && policy.is_some() {
        return Err(unexpected_content());
    }
    let owner = owner_id(bucket, owner_account);
    let grants = if let Some(acl) = headers.acl {
        canned(acl, &owner, &canonical_user_id(&bucket.record.account))?
    } else if has_grants {
        let mut grants = Vec::new();
        for (permission, header, value) in headers.grants() {
            if let Some(value) = value {
                grants.extend(header_grants(permission, header, value)?);
            }
        }
        grants
    } else if let Some(policy) = policy {
        policy_grants(policy)?
    } else {
        return Ok(None);
    };
    check_acls_allowed(bucket, headers.acl, &grants)?;
    Ok(Some(grants))
}

fn to_json(grants: Vec<StoredGrant>) -> Option<serde_json::Value> {
    serde_json::to_value(StoredAcl { grants }).ok()
}

/// The ACL a write (PutObject, CopyObject, CreateMultipartUpload) sets on the new
/// version from its headers; `None` without ACL headers (owner full control).
pub fn acl_for_write(
    bucket: &Bucket,
    owner_account: &str,
    headers: AclHeaders<'_>,
) -> Result<Option<serde_json::Value>, ServiceError> {
    Ok(resolve(bucket, owner_account, headers, None)?.and_then(to_json))
}

fn grantee_of(grant: &StoredGrant) -> Grantee {
    Grantee {
        display_name: None,
        email_address: grant.email.clone(),
        id: grant.id.clone(),
        type_: grant.grantee_type.clone(),
        uri: grant.uri.clone(),
    }
}

impl S3 {
    pub async fn put_object_acl(
        &self,
        ctx: &RequestContext,
        input: PutObjectAclRequest,
    ) -> Result<PutObjectAclOutput, ServiceError> {
        let headers = AclHeaders {
            acl: input.acl.as_deref(),
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let policy = input.access_control_policy.clone();
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            let owner = target(bucket, &input.key, input.version_id.as_deref(), "PUT")?
                .owner
                .clone();
            let grants = resolve(bucket, &owner, headers, policy)?
                .ok_or_else(|| missing_security_header("x-amz-acl"))?;
            let record = target_mut(bucket, &input.key, input.version_id.as_deref(), "PUT")?;
            record.acl = to_json(grants);
            let op = Bucket::update_version_op(record);
            Ok((PutObjectAclOutput::default(), vec![op], Vec::new()))
        })
        .await
    }

    pub fn get_object_acl(
        &self,
        ctx: &RequestContext,
        input: &GetObjectAclRequest,
    ) -> Result<GetObjectAclOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |bucket| {
            let record = target(bucket, &input.key, input.version_id.as_deref(), "GET")?;
            let owner = owner_id(bucket, &record.owner);
            let grants = record
                .acl
                .as_ref()
                .and_then(|v| serde_json::from_value::<StoredAcl>(v.clone()).ok())
                .map_or_else(|| vec![user(&owner, FULL_CONTROL)], |a| a.grants);
            Ok(GetObjectAclOutput {
                owner: Some(Owner {
                    display_name: None,
                    id: Some(owner),
                }),
                grants: Some(
                    grants
                        .iter()
                        .map(|g| Grant {
                            grantee: Some(grantee_of(g)),
                            permission: Some(g.permission.clone()),
                        })
                        .collect(),
                ),
                request_charged: None,
            })
        })
    }
}
