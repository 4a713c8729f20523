//! S3's errors with the extra members AWS puts in them (`BucketName`, `Key`).

use crate::generated::S3Error;
use kagami_core::ServiceError;

pub fn no_such_bucket(bucket: &str) -> ServiceError {
    ServiceError::from(S3Error::NoSuchBucket(
        "The specified bucket does not exist".into(),
    ))
    .with_field("BucketName", bucket)
}

pub fn no_such_key(key: &str) -> ServiceError {
    ServiceError::from(S3Error::NoSuchKey(
        "The specified key does not exist.".into(),
    ))
    .with_field("Key", key)
}

/// What HEAD requests answer for a missing bucket or key: no body, so only the status speaks.
pub fn not_found() -> ServiceError {
    ServiceError::new("NotFound", 404, "Not Found")
}

pub fn access_denied() -> ServiceError {
    S3Error::AccessDenied("Access Denied".into()).into()
}

pub fn invalid_bucket_name(bucket: &str) -> ServiceError {
    ServiceError::new(
        "InvalidBucketName",
        400,
        "The specified bucket is not valid.",
    )
    .with_field("BucketName", bucket)
}

pub fn bucket_not_empty(bucket: &str) -> ServiceError {
    ServiceError::new(
        "BucketNotEmpty",
        409,
        "The bucket you tried to delete is not empty",
    )
    .with_field("BucketName", bucket)
}

pub fn bucket_already_owned_by_you(bucket: &str) -> ServiceError {
    ServiceError::from(S3Error::BucketAlreadyOwnedByYou(
        "Your previous request to create the named bucket succeeded and you already own it.".into(),
    ))
    .with_field("BucketName", bucket)
}

pub fn bucket_already_exists(bucket: &str) -> ServiceError {
    ServiceError::from(S3Error::BucketAlreadyExists(
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.".into(),
    ))
    .with_field("BucketName", bucket)
}

pub fn invalid_location_constraint(constraint: &str) -> ServiceError {
    ServiceError::new(
        "InvalidLocationConstraint",
        400,
        "The specified location-constraint is not valid",
    )
    .with_field("LocationConstraint", constraint)
}

pub fn illegal_location_constraint(constraint: Option<&str>) -> ServiceError {
    let named = constraint.unwrap_or("unspecified");
    ServiceError::new(
        "IllegalLocationConstraintException",
        400,
        format!(
            "The {named} location constraint is incompatible for the region specific endpoint this request was sent to."
        ),
    )
}

pub fn invalid_digest(content_md5: &str) -> ServiceError {
    ServiceError::new(
        "InvalidDigest",
        400,
        "The Content-MD5 you specified was invalid.",
    )
    .with_field("Content-MD5", content_md5)
}

pub fn bad_digest(expected: &str, calculated: &str) -> ServiceError {
    ServiceError::new(
        "BadDigest",
        400,
        "The Content-MD5 you specified did not match what was received.",
    )
    .with_field("ExpectedDigest", expected)
    .with_field("CalculatedDigest", calculated)
}

pub fn incomplete_body() -> ServiceError {
    ServiceError::new(
        "IncompleteBody",
        400,
        "The request body terminated unexpectedly",
    )
}

pub fn entity_too_large(size: u64, max: u64) -> ServiceError {
    ServiceError::new(
        "EntityTooLarge",
        400,
        "Your proposed upload exceeds the maximum allowed size",
    )
    .with_field("ProposedSize", size.to_string())
    .with_field("MaxSizeAllowed", max.to_string())
}

pub fn io_error(what: &str, e: &std::io::Error) -> ServiceError {
    tracing::error!(error = %e, "{what}");
    ServiceError::internal(format!("{what}: {e}"))
}

pub fn no_such_version(key: &str, version_id: &str) -> ServiceError {
    ServiceError::new(
        "NoSuchVersion",
        404,
        "The specified version does not exist.",
    )
    .with_field("Key", key)
    .with_field("VersionId", version_id)
}

pub fn method_not_allowed(method: &str, resource_type: &str) -> ServiceError {
    ServiceError::new(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
    )
    .with_field("Method", method)
    .with_field("ResourceType", resource_type)
}
