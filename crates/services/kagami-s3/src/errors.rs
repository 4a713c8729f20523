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

// listing: ListObjects, ListObjectsV2 and ListObjectVersions refusals.

fn listing_argument(message: &str, name: &str, value: Option<&str>) -> ServiceError {
    let e = ServiceError::new("InvalidArgument", 400, message).with_field("ArgumentName", name);
    match value {
        Some(v) => e.with_field("ArgumentValue", v),
        None => e,
    }
}

/// ListObjects and ListObjectsV2 with a negative max-keys.
pub fn invalid_max_keys(value: i32) -> ServiceError {
    listing_argument(
        "Argument maxKeys must be an integer between 0 and 2147483647",
        "maxKeys",
        Some(&value.to_string()),
    )
}

/// ListObjectVersions words a negative max-keys differently.
pub fn negative_version_max_keys() -> ServiceError {
    listing_argument("max-keys cannot be negative", "max-keys", None)
}

pub fn invalid_encoding_type(value: &str) -> ServiceError {
    listing_argument(
        "Invalid Encoding Method specified in Request",
        "encoding-type",
        Some(value),
    )
}

pub fn invalid_continuation_token() -> ServiceError {
    listing_argument(
        "The continuation token provided is incorrect",
        "continuation-token",
        None,
    )
}

pub fn version_id_marker_without_key_marker(value: &str) -> ServiceError {
    listing_argument(
        "A version-id marker cannot be specified without a key marker.",
        "version-id-marker",
        Some(value),
    )
}

pub fn empty_version_id_marker() -> ServiceError {
    listing_argument(
        "A version-id marker cannot be empty.",
        "version-id-marker",
        Some(""),
    )
}

// multipart-checksums: errors of multipart uploads and checksums.

/// A body whose `x-amz-checksum-<algorithm>` (header or trailer) is not its checksum.
pub fn checksum_mismatch(algorithm: &str) -> ServiceError {
    ServiceError::new(
        "BadDigest",
        400,
        format!("The {algorithm} you specified did not match the calculated checksum."),
    )
}

/// A checksum value that is not the base64 of a digest of its algorithm's width.
pub fn invalid_checksum_value(header: &str) -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        format!("Value for {header} header is invalid."),
    )
}

pub fn multiple_checksums() -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )
}

pub fn unsupported_checksum_algorithm() -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    )
}

/// A part whose checksum is of another algorithm than the upload's.
pub fn checksum_type_mismatch(expected: &str, actual: &str) -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        format!(
            "Checksum Type mismatch occurred, expected checksum Type: {expected}, actual checksum Type: {actual}"
        ),
    )
}

pub fn no_such_upload(upload_id: &str) -> ServiceError {
    ServiceError::new(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    .with_field("UploadId", upload_id)
}

pub fn invalid_part_number(part_number: i32) -> ServiceError {
    ServiceError::new(
        "InvalidArgument",
        400,
        "Part number must be an integer between 1 and 10000, inclusive",
    )
    .with_field("ArgumentName", "partNumber")
    .with_field("ArgumentValue", part_number.to_string())
}

pub fn invalid_part_order(upload_id: &str) -> ServiceError {
    ServiceError::new(
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
    )
    .with_field("UploadId", upload_id)
}

pub fn invalid_part(upload_id: &str, part_number: i32, etag: &str) -> ServiceError {
    ServiceError::new(
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    )
    .with_field("UploadId", upload_id)
    .with_field("PartNumber", part_number.to_string())
    .with_field("ETag", etag)
}

pub fn entity_too_small(size: u64, min: u64, part_number: i32, etag: &str) -> ServiceError {
    ServiceError::new(
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed object size.",
    )
    .with_field("ProposedSize", size.to_string())
    .with_field("MinSizeAllowed", min.to_string())
    .with_field("PartNumber", part_number.to_string())
    .with_field("ETag", etag)
}

pub fn complete_malformed_xml() -> ServiceError {
    ServiceError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// CompleteMultipartUpload of a checksummed upload without a part's checksum.
pub fn missing_part_checksum(algorithm: &str, part_number: i32) -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        format!(
            "The upload was created using a {algorithm} checksum. The complete request must include the checksum for each part. It was missing for part {part_number} in the request."
        ),
    )
}

pub fn malformed_copy_range(range: &str) -> ServiceError {
    ServiceError::new(
        "InvalidArgument",
        400,
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
    )
    .with_field("ArgumentName", "x-amz-copy-source-range")
    .with_field("ArgumentValue", range)
}

pub fn copy_range_out_of_bounds(range: &str, size: u64) -> ServiceError {
    ServiceError::new(
        "InvalidArgument",
        400,
        format!("Range specified is not valid for source object of size: {size}"),
    )
    .with_field("ArgumentName", "x-amz-copy-source-range")
    .with_field("ArgumentValue", range)
}

pub fn upload_precondition_failed(condition: &str) -> ServiceError {
    ServiceError::new(
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
    )
    .with_field("Condition", condition)
}

// ---- bucket configuration (bucket_config/) ----

/// The request body does not match S3's schema (a missing element, an unknown enum value).
pub fn malformed_xml() -> ServiceError {
    ServiceError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub fn invalid_argument(message: &str, name: &str, value: &str) -> ServiceError {
    ServiceError::new("InvalidArgument", 400, message)
        .with_field("ArgumentName", name)
        .with_field("ArgumentValue", value)
}

pub fn invalid_request(message: &str) -> ServiceError {
    ServiceError::from(S3Error::InvalidRequest(message.into()))
}

/// A configuration that is not set: each kind has its own code, all 404 with the bucket.
pub fn configuration_not_found(code: &str, message: &str, bucket: &str) -> ServiceError {
    ServiceError::new(code, 404, message).with_field("BucketName", bucket)
}

pub fn invalid_tag(message: &str) -> ServiceError {
    ServiceError::new("InvalidTag", 400, message)
}

pub fn malformed_policy(message: &str) -> ServiceError {
    ServiceError::new("MalformedPolicy", 400, message)
}

pub fn malformed_acl_error() -> ServiceError {
    ServiceError::new(
        "MalformedACLError",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub fn access_control_list_not_supported() -> ServiceError {
    ServiceError::new("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
}

pub fn invalid_target_bucket_for_logging(target: &str, message: &str) -> ServiceError {
    ServiceError::new("InvalidTargetBucketForLogging", 400, message).with_field("TargetBucket", target)
}

pub fn no_such_configuration() -> ServiceError {
    ServiceError::new("NoSuchConfiguration", 404, "The specified configuration does not exist.")
}

// ---- versioning, DeleteObjects, object tagging, ACLs and Object Lock ----

pub fn invalid_bucket_state(message: &str) -> ServiceError {
    ServiceError::new("InvalidBucketState", 409, message)
}

pub fn illegal_versioning_configuration() -> ServiceError {
    ServiceError::new(
        "IllegalVersioningConfigurationException",
        400,
        "The Versioning element must be specified",
    )
}

/// MFA Delete is on and the request carries no `x-amz-mfa`.
pub fn mfa_required() -> ServiceError {
    S3Error::AccessDenied("Mfa Authentication must be used for this request".into()).into()
}

/// A delete of a version that a retention period or a legal hold protects.
pub fn object_locked() -> ServiceError {
    S3Error::AccessDenied("Access Denied because object protected by object lock.".into()).into()
}

pub fn bad_request(message: &str) -> ServiceError {
    ServiceError::new("BadRequest", 400, message)
}

pub fn missing_object_lock_configuration() -> ServiceError {
    invalid_request("Bucket is missing Object Lock Configuration")
}

pub fn no_such_object_lock_configuration() -> ServiceError {
    ServiceError::new(
        "NoSuchObjectLockConfiguration",
        404,
        "The specified object does not have a ObjectLock configuration",
    )
}

pub fn missing_request_body() -> ServiceError {
    ServiceError::new("MissingRequestBodyError", 400, "Request Body is empty")
}

pub fn missing_security_header(header: &str) -> ServiceError {
    ServiceError::new(
        "MissingSecurityHeader",
        400,
        "Your request was missing a required header",
    )
    .with_field("MissingHeaderName", header)
}

pub fn unexpected_content() -> ServiceError {
    ServiceError::new("UnexpectedContent", 400, "This request does not support content")
}

// ---- object reads and copies (ranges.rs, conditions.rs, copy.rs, sse.rs) ----

/// A condition of a read, a write or a copy source did not hold; `condition` names it.
pub fn precondition_failed(condition: &str) -> ServiceError {
    ServiceError::new(
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
    )
    .with_field("Condition", condition)
}

/// 304: no body goes out, only what a cache needs to revalidate.
pub fn not_modified(etag: &str, last_modified: &str) -> ServiceError {
    ServiceError::new("NotModified", 304, "Not Modified")
        .with_header("ETag", etag)
        .with_header("Last-Modified", last_modified)
}

pub fn invalid_range(requested: &str, size: u64) -> ServiceError {
    // RFC 9110 §14.4: a 416 names the representation's length as `bytes */<size>`.
    ServiceError::new("InvalidRange", 416, "The requested range is not satisfiable")
        .with_field("RangeRequested", requested)
        .with_field("ActualObjectSize", size.to_string())
        .with_header("Content-Range", format!("bytes */{size}"))
}

/// A GetObject/HeadObject `partNumber` beyond the object's parts.
pub fn part_number_not_satisfiable(requested: i32, count: usize) -> ServiceError {
    ServiceError::new("InvalidPartNumber", 416, "The requested partnumber is not satisfiable")
        .with_field("PartNumberRequested", requested.to_string())
        .with_field("ActualPartCount", count.to_string())
}

/// A header S3 knows but does not support with that value (`If-None-Match` other than `*`).
pub fn header_not_implemented(header: &str) -> ServiceError {
    ServiceError::new(
        "NotImplemented",
        501,
        "A header you provided implies functionality that is not implemented",
    )
    .with_field("Header", header)
}

pub fn illegal_self_copy() -> ServiceError {
    invalid_request(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    )
}

/// `x-amz-expected-bucket-owner` (or the copy source's) names another account: 403,
/// bodiless for HEAD.
pub fn check_expected_owner(bucket_account: &str, expected: Option<&str>, head: bool) -> Result<(), ServiceError> {
    match expected {
        Some(account) if account != bucket_account => Err(if head {
            ServiceError::new("Forbidden", 403, "Forbidden")
        } else {
            access_denied()
        }),
        _ => Ok(()),
    }
}

pub fn copy_source_too_large(max: u64) -> ServiceError {
    invalid_request(&format!(
        "The specified copy source is larger than the maximum allowable size for a copy source: {max}"
    ))
}

/// A version id that S3 could not have issued (`?versionId=abc`).
pub fn invalid_version_id(id: &str) -> ServiceError {
    listing_argument("Invalid version id specified", "versionId", Some(id))
}

/// DeleteObjects without Content-MD5 or an `x-amz-checksum-*` header.
pub fn missing_content_md5() -> ServiceError {
    ServiceError::new(
        "InvalidRequest",
        400,
        "Missing required header for this request: Content-MD5",
    )
}
