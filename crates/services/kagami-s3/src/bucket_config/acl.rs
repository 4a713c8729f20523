//! GetBucketAcl and PutBucketAcl: the bucket's access control list, set by a canned
//! ACL (`x-amz-acl`), by grant headers (`x-amz-grant-*`) or by an AccessControlPolicy
//! body. A bucket that never had one answers with its owner's FULL_CONTROL.
//!
//! Acted on as AWS does: with Object Ownership `BucketOwnerEnforced` (the default of new
//! buckets) only ACLs that grant nothing beyond the owner's full control are accepted
//! (AccessControlListNotSupported otherwise); with BlockPublicAcls, ACLs granting to
//! everyone or to all authenticated users are refused (AccessDenied).

use super::config_in;
use super::ownership::acls_disabled;
use super::public_access_block::blocks_public_acls;
use crate::errors::*;
use crate::generated::*;
use crate::state::{Bucket, S3, canonical_user_id};
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::IntoValue;

pub const OPERATIONS: &[&str] = &["GetBucketAcl", "PutBucketAcl"];

const CONFIG: &str = "Acl";

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const GROUPS: &[&str] = &[ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

const PERMISSIONS: &[&str] = &["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];
const CANONICAL_USER: &str = "CanonicalUser";
const GROUP: &str = "Group";
const BY_EMAIL: &str = "AmazonCustomerByEmail";

fn canonical_user(id: &str) -> Grantee {
    Grantee {
        id: Some(id.to_string()),
        type_: CANONICAL_USER.to_string(),
        ..Default::default()
    }
}

fn group(uri: &str) -> Grantee {
    Grantee {
        uri: Some(uri.to_string()),
        type_: GROUP.to_string(),
        ..Default::default()
    }
}

fn grant(grantee: Grantee, permission: &str) -> Grant {
    Grant {
        grantee: Some(grantee),
        permission: Some(permission.to_string()),
    }
}

/// The grants of a canned ACL on a bucket (S3 User Guide, "Canned ACL"); `None` for a
/// name S3 does not know. The object-only names give the bucket owner full control.
pub fn canned_acl(name: &str, owner_id: &str) -> Option<AccessControlPolicy> {
    let mut grants = vec![grant(canonical_user(owner_id), "FULL_CONTROL")];
    match name {
        "private" | "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" => {}
        "public-read" => grants.push(grant(group(ALL_USERS), "READ")),
        "public-read-write" => {
            grants.push(grant(group(ALL_USERS), "READ"));
            grants.push(grant(group(ALL_USERS), "WRITE"));
        }
        "authenticated-read" => grants.push(grant(group(AUTHENTICATED_USERS), "READ")),
        "log-delivery-write" => {
            grants.push(grant(group(LOG_DELIVERY), "WRITE"));
            grants.push(grant(group(LOG_DELIVERY), "READ_ACP"));
        }
        _ => return None,
    }
    Some(AccessControlPolicy {
        grants: Some(grants),
        owner: Some(Owner {
            display_name: None,
            id: Some(owner_id.to_string()),
        }),
    })
}

/// The bucket's ACL: as last put, or its owner's full control.
pub fn bucket_acl(bucket: &Bucket) -> AccessControlPolicy {
    let owner = canonical_user_id(&bucket.record.account);
    config_in(bucket, CONFIG)
        .ok()
        .flatten()
        .or_else(|| canned_acl("private", &owner))
        .unwrap_or_default()
}

/// Whether `acl` grants nothing but full control to its owner: the one ACL a bucket
/// with ACLs disabled accepts.
pub fn grants_only_owner_full_control(acl: &AccessControlPolicy) -> bool {
    let owner = acl.owner.as_ref().and_then(|o| o.id.as_deref());
    acl.grants.iter().flatten().all(|g| {
        g.permission.as_deref() == Some("FULL_CONTROL")
            && g.grantee
                .as_ref()
                .is_some_and(|e| e.type_ == CANONICAL_USER && e.id.as_deref() == owner)
    })
}

/// Whether `acl` grants anything to everyone or to every authenticated AWS user.
pub fn is_public(acl: &AccessControlPolicy) -> bool {
    acl.grants.iter().flatten().any(|g| {
        g.grantee.as_ref().is_some_and(|e| {
            e.type_ == GROUP && matches!(e.uri.as_deref(), Some(ALL_USERS | AUTHENTICATED_USERS))
        })
    })
}

fn is_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses one `x-amz-grant-*` header: `id="..."`, `uri="..."` or `emailAddress="..."`,
/// comma-separated.
fn header_grants(header: &str, value: &str, permission: &str) -> Result<Vec<Grant>, ServiceError> {
    let mut grants = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((kind, id)) = item.split_once('=') else {
            return Err(invalid_argument(
                "Argument format not recognized",
                header,
                item,
            ));
        };
        let id = id.trim().trim_matches('"');
        let grantee = match kind.trim() {
            "id" if is_canonical_id(id) => canonical_user(id),
            "id" => return Err(invalid_argument("Invalid id", "id", id)),
            "uri" if GROUPS.contains(&id) => group(id),
            "uri" => return Err(invalid_argument("Invalid group uri", "uri", id)),
            "emailAddress" => Grantee {
                email_address: Some(id.to_string()),
                type_: BY_EMAIL.to_string(),
                ..Default::default()
            },
            _ => {
                return Err(invalid_argument(
                    "Argument format not recognized",
                    header,
                    item,
                ));
            }
        };
        grants.push(grant(grantee, permission));
    }
    Ok(grants)
}

/// Checks an AccessControlPolicy body as S3 does.
fn validate_policy_body(acp: &AccessControlPolicy) -> Result<(), ServiceError> {
    let owner_id = acp
        .owner
        .as_ref()
        .and_then(|o| o.id.as_deref())
        .ok_or_else(malformed_acl_error)?;
    if !is_canonical_id(owner_id) {
        return Err(invalid_argument("Invalid id", "CanonicalUser/ID", owner_id));
    }
    for g in acp.grants.iter().flatten() {
        if !g
            .permission
            .as_deref()
            .is_some_and(|p| PERMISSIONS.contains(&p))
        {
            return Err(malformed_acl_error());
        }
        let grantee = g.grantee.as_ref().ok_or_else(malformed_acl_error)?;
        match grantee.type_.as_str() {
            CANONICAL_USER => {
                let id = grantee.id.as_deref().unwrap_or_default();
                if !is_canonical_id(id) {
                    return Err(invalid_argument("Invalid id", "CanonicalUser/ID", id));
                }
            }
            GROUP => {
                let uri = grantee.uri.as_deref().unwrap_or_default();
                if !GROUPS.contains(&uri) {
                    return Err(invalid_argument("Invalid group uri", "Group/URI", uri));
                }
            }
            BY_EMAIL => {}
            _ => return Err(malformed_acl_error()),
        }
    }
    Ok(())
}

/// The ACL that a canned ACL (`x-amz-acl`) or `x-amz-grant-*` headers ask for, or
/// `None` when the request has neither.
fn acl_from_headers(
    canned: Option<&str>,
    headers: [(&str, &Option<String>, &str); 5],
    owner_id: &str,
) -> Result<Option<AccessControlPolicy>, ServiceError> {
    let has_grant_headers = headers.iter().any(|(_, v, _)| v.is_some());
    if let Some(canned) = canned {
        if has_grant_headers {
            return Err(invalid_request(
                "Specifying both Canned ACLs and Header Grants is not allowed",
            ));
        }
        return canned_acl(canned, owner_id)
            .map(Some)
            .ok_or_else(|| invalid_argument("", "x-amz-acl", canned));
    }
    if !has_grant_headers {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for (header, value, permission) in headers {
        if let Some(v) = value {
            grants.extend(header_grants(header, v, permission)?);
        }
    }
    Ok(Some(AccessControlPolicy {
        grants: Some(grants),
        owner: Some(Owner {
            display_name: None,
            id: Some(owner_id.to_string()),
        }),
    }))
}

/// The ACL a PutBucketAcl request asks for, from whichever of its three forms it uses.
fn requested_acl(
    input: PutBucketAclRequest,
    owner_id: &str,
) -> Result<AccessControlPolicy, ServiceError> {
    let headers = [
        ("x-amz-grant-full-control", &input.grant_full_control, "FULL_CONTROL"),
        ("x-amz-grant-read", &input.grant_read, "READ"),
        ("x-amz-grant-read-acp", &input.grant_read_acp, "READ_ACP"),
        ("x-amz-grant-write", &input.grant_write, "WRITE"),
        ("x-amz-grant-write-acp", &input.grant_write_acp, "WRITE_ACP"),
    ];
    if let Some(acl) = acl_from_headers(input.acl.as_deref(), headers, owner_id)? {
        return Ok(acl);
    }
    match input.access_control_policy {
        Some(acp) => {
            validate_policy_body(&acp)?;
            Ok(acp)
        }
        None => Err(ServiceError::new(
            "MissingSecurityHeader",
            400,
            "Your request was missing a required header",
        )
        .with_field("MissingHeaderName", "x-amz-acl")),
    }
}

/// The configuration documents a CreateBucket request sets from its headers: the
/// Object Ownership of `x-amz-object-ownership` (BucketOwnerEnforced when absent, as
/// for any new bucket) and the ACL of `x-amz-acl` / `x-amz-grant-*`. With ACLs disabled
/// an ACL granting more than the owner's full control is refused, as AWS does.
pub fn create_bucket_config(
    input: &CreateBucketRequest,
    owner_id: &str,
) -> Result<Vec<(&'static str, Value)>, ServiceError> {
    let headers = [
        ("x-amz-grant-full-control", &input.grant_full_control, "FULL_CONTROL"),
        ("x-amz-grant-read", &input.grant_read, "READ"),
        ("x-amz-grant-read-acp", &input.grant_read_acp, "READ_ACP"),
        ("x-amz-grant-write", &input.grant_write, "WRITE"),
        ("x-amz-grant-write-acp", &input.grant_write_acp, "WRITE_ACP"),
    ];
    let acl = acl_from_headers(input.acl.as_deref(), headers, owner_id)?;
    let ownership = super::ownership::created_ownership(input.object_ownership.as_deref())?;
    let enforced = ownership.as_ref().is_none_or(|c| {
        c.rules.iter().any(|r| r.object_ownership == super::ownership::BUCKET_OWNER_ENFORCED)
    });
    let mut config = Vec::new();
    if let Some(acl) = acl {
        if enforced && !grants_only_owner_full_control(&acl) {
            return Err(super::ownership::invalid_bucket_acl_with_object_ownership());
        }
        config.push((CONFIG, acl.into_value()));
    }
    if let Some(controls) = ownership {
        config.push((super::ownership::CONFIG, controls.into_value()));
    }
    Ok(config)
}

impl S3 {
    pub async fn put_bucket_acl(
        &self,
        ctx: &RequestContext,
        input: PutBucketAclRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let bucket = input.bucket.clone();
        let (owner_id, disabled, block_public) = self.with_bucket(ctx, &bucket, |b| {
            Ok((
                canonical_user_id(&b.record.account),
                acls_disabled(b),
                blocks_public_acls(b),
            ))
        })?;
        let mut acl = requested_acl(input, &owner_id)?;
        if disabled && !grants_only_owner_full_control(&acl) {
            return Err(access_control_list_not_supported());
        }
        if block_public && is_public(&acl) {
            return Err(access_denied());
        }
        // S3 reports the owner by id only.
        if let Some(o) = acl.owner.as_mut() {
            o.display_name = None;
        }
        self.put_config(ctx, &bucket, CONFIG, acl).await
    }

    pub fn get_bucket_acl(
        &self,
        ctx: &RequestContext,
        input: &GetBucketAclRequest,
    ) -> Result<GetBucketAclOutput, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let acl = self.with_bucket(ctx, &input.bucket, |b| Ok(bucket_acl(b)))?;
        Ok(GetBucketAclOutput {
            owner: acl.owner,
            grants: acl.grants,
        })
    }
}
