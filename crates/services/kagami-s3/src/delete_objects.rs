//! DeleteObjects: up to 1000 keys (or versions) deleted in one request and one commit,
//! each answered on its own: a `Deleted` entry, or an `Error` entry with the code and
//! message a DeleteObject of that key would have failed with. Quiet mode reports only
//! the errors.

use crate::errors::*;
use crate::generated::*;
use crate::objects::delete_one;
use crate::object_lock::DeleteAuth;
use crate::conditions::etag_matches;
use crate::state::{Bucket, S3};
use kagami_core::{RequestContext, ServiceError};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["DeleteObjects"];

/// At most 1000 keys per request.
const MAX_KEYS: usize = 1000;

/// A key's `ETag` is a condition, as `If-Match` is on DeleteObject: the object (or the
/// version named) must exist with that entity tag.
fn check_etag(
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    expected: Option<&str>,
) -> Result<(), ServiceError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let versions = bucket.objects.get(key);
    let record = match version_id {
        None => versions.and_then(|v| v.current()),
        Some(id) => versions.and_then(|v| v.find(id)),
    }
    .ok_or_else(|| no_such_key(key))?;
    if etag_matches(expected, &record.etag) {
        Ok(())
    } else {
        Err(precondition_failed("If-Match"))
    }
}

impl S3 {
    pub async fn delete_objects(
        &self,
        ctx: &RequestContext,
        input: DeleteObjectsRequest,
    ) -> Result<DeleteObjectsOutput, ServiceError> {
        let objects = input.delete.objects;
        if objects.is_empty() || objects.len() > MAX_KEYS {
            return Err(malformed_xml());
        }
        let quiet = input.delete.quiet == Some(true);
        let auth = DeleteAuth::new(input.bypass_governance_retention, input.mfa.as_deref());
        let seqs: Vec<u64> = objects.iter().map(|_| self.next_seq()).collect();
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            let mut deleted = Vec::new();
            let mut errors = Vec::new();
            let mut ops = Vec::new();
            let mut orphaned = Vec::new();
            for (object, seq) in objects.into_iter().zip(seqs) {
                let version_id = object.version_id.as_deref();
                let result = check_etag(bucket, &object.key, version_id, object.e_tag.as_deref())
                    .and_then(|()| delete_one(bucket, &object.key, version_id, ctx, seq, auth));
                match result {
                    Ok((out, o, files)) => {
                        ops.extend(o);
                        orphaned.extend(files);
                        if quiet {
                            continue;
                        }
                        let marker = out.delete_marker == Some(true);
                        deleted.push(DeletedObject {
                            key: Some(object.key),
                            version_id: object.version_id,
                            delete_marker: marker.then_some(true),
                            delete_marker_version_id: if marker { out.version_id } else { None },
                        });
                    }
                    Err(e) => errors.push(Error {
                        key: Some(object.key),
                        version_id: object.version_id,
                        code: Some(e.code),
                        message: Some(e.message),
                    }),
                }
            }
            let output = DeleteObjectsOutput {
                deleted: (!deleted.is_empty()).then_some(deleted),
                errors: (!errors.is_empty()).then_some(errors),
                request_charged: None,
            };
            Ok((output, ops, orphaned))
        })
        .await
    }
}
