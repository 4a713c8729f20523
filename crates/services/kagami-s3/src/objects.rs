//! PutObject, GetObject, HeadObject and DeleteObject over the versions of a key:
//! bodies streamed between the connection and a file, never held whole in memory.

use crate::body::{self, MAX_PUT_SIZE, header_checksum, parse_content_md5, trailer_checksum};
use crate::chunked::{is_aws_chunked, stored_encoding};
use crate::errors::*;
use crate::generated::*;
use crate::persistence::ObjectRecord;
use crate::state::{Bucket, S3};
use crate::versions::{self, NULL_VERSION, Versioning};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["DeleteObject", "GetObject", "HeadObject", "PutObject"];

/// Content-Type of an object stored without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// Puts a stored checksum into the output member of its algorithm.
macro_rules! set_checksum {
    ($out:expr, $record:expr) => {
        if let Some((algorithm, value)) = $record.checksum.clone() {
            match algorithm.as_str() {
                "CRC32" => $out.checksum_crc32 = Some(value),
                "CRC32C" => $out.checksum_crc32_c = Some(value),
                "CRC64NVME" => $out.checksum_crc64_nvme = Some(value),
                "SHA1" => $out.checksum_sha1 = Some(value),
                "SHA256" => $out.checksum_sha256 = Some(value),
                _ => {}
            }
            $out.checksum_type = Some(
                $record
                    .checksum_type
                    .clone()
                    .unwrap_or_else(|| "FULL_OBJECT".into()),
            );
        }
    };
}
pub(crate) use set_checksum;

/// GetObject and HeadObject answer the same headers from a stored record; their
/// generated output types are distinct, so a macro fills both.
macro_rules! object_output {
    ($ty:ident, $found:expr, $checksum_mode:expr) => {{
        let found: Found = $found;
        let record = found.record;
        let mut output = $ty {
            accept_ranges: Some("bytes".into()),
            content_length: i64::try_from(record.size).ok(),
            e_tag: Some(record.etag.clone()),
            last_modified: Some(Timestamp::from_millis(record.last_modified)),
            version_id: found.version_id,
            content_type: record.content_type.clone(),
            content_encoding: record.content_encoding.clone(),
            content_disposition: record.content_disposition.clone(),
            content_language: record.content_language.clone(),
            cache_control: record.cache_control.clone(),
            expires: record.expires.clone(),
            website_redirect_location: record.website_redirect_location.clone(),
            storage_class: record.storage_class.clone(),
            metadata: (!record.metadata.is_empty()).then(|| record.metadata.clone()),
            tag_count: i32::try_from(record.tags.len()).ok().filter(|n| *n > 0),
            parts_count: i32::try_from(record.parts.len()).ok().filter(|n| *n > 0),
            ..Default::default()
        };
        if let Some(sse) = &record.sse {
            output.server_side_encryption = sse.algorithm.clone();
            output.ssekms_key_id = sse.kms_key_id.clone();
            output.bucket_key_enabled = sse.bucket_key_enabled;
            output.sse_customer_algorithm = sse.customer_algorithm.clone();
            output.sse_customer_key_md5 = sse.customer_key_md5.clone();
        }
        if let Some(lock) = &record.lock {
            output.object_lock_mode = lock.mode.clone();
            output.object_lock_retain_until_date = lock.retain_until.map(Timestamp::from_millis);
            output.object_lock_legal_hold_status =
                Some(if lock.legal_hold { "ON" } else { "OFF" }.to_string());
        }
        if $checksum_mode.as_deref() == Some("ENABLED") {
            set_checksum!(output, record);
        }
        output
    }};
}

/// A version found for a read, with the version id to report.
pub struct Found {
    pub record: ObjectRecord,
    pub version_id: Option<String>,
}

/// The version id S3 reports for `record`: its id, `null` for the null version of a
/// bucket that has had versioning, nothing in a bucket that never had it.
pub fn reported_version(bucket: &Bucket, record: &ObjectRecord) -> Option<String> {
    match &record.version_id {
        Some(v) => Some(v.clone()),
        None if bucket.record.versioning.is_some() => Some(NULL_VERSION.to_string()),
        None => None,
    }
}

/// Finds the version a read names (the current one without `version_id`), with AWS's
/// answers for a missing key or version and for delete markers. `head` selects the
/// bodiless codes HEAD answers with.
pub fn find_version(
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    head: bool,
) -> Result<Found, ServiceError> {
    let missing_key = || if head { not_found() } else { no_such_key(key) };
    let versions = bucket.objects.get(key);
    let record = match version_id {
        None => {
            let latest = versions.and_then(|v| v.latest()).ok_or_else(missing_key)?;
            if latest.delete_marker {
                return Err(missing_key()
                    .with_header("x-amz-delete-marker", "true")
                    .with_header("x-amz-version-id", versions::reported_id(latest)));
            }
            latest
        }
        Some(id) => {
            let found = versions.and_then(|v| v.find(id)).ok_or_else(|| {
                if head {
                    not_found()
                } else {
                    no_such_version(key, id)
                }
            })?;
            if found.delete_marker {
                let e = if head {
                    ServiceError::new("MethodNotAllowed", 405, "Method Not Allowed")
                } else {
                    method_not_allowed("GET", "DeleteMarker")
                };
                return Err(e
                    .with_header("x-amz-delete-marker", "true")
                    .with_header("x-amz-version-id", id)
                    .with_header(
                        "Last-Modified",
                        Timestamp::from_millis(found.last_modified).to_rfc822(),
                    ));
            }
            found
        }
    };
    Ok(Found {
        version_id: reported_version(bucket, record),
        record: record.clone(),
    })
}

impl S3 {
    pub async fn put_object(
        &self,
        ctx: &RequestContext,
        mut input: PutObjectRequest,
    ) -> Result<PutObjectOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |_| Ok(()))?;
        let expected_md5 = match input.content_md5.as_deref() {
            Some(m) => Some(parse_content_md5(m).ok_or_else(|| invalid_digest(m))?),
            None => None,
        };
        if let Some(n) = input
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n > MAX_PUT_SIZE)
        {
            return Err(entity_too_large(n, MAX_PUT_SIZE));
        }
        let chunked = is_aws_chunked(input.content_encoding.as_deref());
        let temp = self.blobs.temp_path();
        let received = match body::receive(
            input.body.take().unwrap_or_default(),
            chunked,
            &temp,
            MAX_PUT_SIZE,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        if let Some(expected) = expected_md5
            && expected != received.md5
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(bad_digest(
                &STANDARD.encode(expected),
                &STANDARD.encode(received.md5),
            ));
        }
        let file = kagami_core::ids::uuid_v4();
        if let Err(e) = self.blobs.commit(&temp, &file).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error("storing the object body", &e));
        }
        let checksum = header_checksum(&input).or_else(|| trailer_checksum(&received.trailers));
        let record = ObjectRecord {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            file: file.clone(),
            size: received.size,
            etag: format!("\"{}\"", hex::encode(received.md5)),
            last_modified: clock::now_millis(),
            owner: ctx.account_id.clone(),
            content_type: Some(
                input
                    .content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
            ),
            content_encoding: stored_encoding(input.content_encoding.as_deref()),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
            website_redirect_location: input.website_redirect_location,
            storage_class: input.storage_class.filter(|c| c != "STANDARD"),
            metadata: input.metadata.unwrap_or_default(),
            checksum,
            ..Default::default()
        };
        let seq = self.next_seq();
        let written = self
            .with_bucket_mut(ctx, &input.bucket, |bucket| {
                let w = bucket.write_version(record, seq);
                let version_id = reported_version(bucket, &w.stored);
                Ok(((w.stored, version_id), w.ops, w.orphaned))
            })
            .await;
        let (stored, version_id) = match written {
            Ok(w) => w,
            Err(e) => {
                // The bucket may have gone while the body was arriving.
                self.blobs.remove(&file);
                return Err(e);
            }
        };
        let mut output = PutObjectOutput {
            e_tag: Some(stored.etag.clone()),
            version_id,
            size: i64::try_from(stored.size).ok(),
            ..Default::default()
        };
        set_checksum!(output, stored);
        Ok(output)
    }

    pub async fn get_object(
        &self,
        ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<GetObjectOutput, ServiceError> {
        if input.range.is_some() || input.part_number.is_some() {
            return Err(ServiceError::new(
                "NotImplemented",
                501,
                "Range and part reads of GetObject are not implemented by kagami yet",
            ));
        }
        let (found, file) = self.with_bucket(ctx, &input.bucket, |b| {
            let found = find_version(b, &input.key, input.version_id.as_deref(), false)?;
            // Opened under the lock: a concurrent overwrite may unlink the file, never
            // before it is open.
            let file = std::fs::File::open(self.blobs.object_path(&found.record.file))
                .map_err(|e| io_error("opening the object body", &e))?;
            Ok((found, file))
        })?;
        let size = found.record.size;
        let body = body::read_stream(tokio::fs::File::from_std(file), 0, size).await?;
        let mut output = object_output!(GetObjectOutput, found, input.checksum_mode);
        output.body = Some(body);
        Ok(output)
    }

    pub fn head_object(
        &self,
        ctx: &RequestContext,
        input: &HeadObjectRequest,
    ) -> Result<HeadObjectOutput, ServiceError> {
        if input.range.is_some() || input.part_number.is_some() {
            return Err(ServiceError::new(
                "NotImplemented",
                501,
                "Range and part reads of HeadObject are not implemented by kagami yet",
            ));
        }
        let found = {
            let buckets = self.buckets.read();
            let bucket = buckets.get(&input.bucket).ok_or_else(not_found)?;
            if bucket.record.account != ctx.account_id {
                return Err(ServiceError::new("Forbidden", 403, "Forbidden"));
            }
            find_version(bucket, &input.key, input.version_id.as_deref(), true)?
        };
        Ok(object_output!(HeadObjectOutput, found, input.checksum_mode))
    }

    /// Without a version id: removes the object of an unversioned bucket (a missing key
    /// succeeds too) and adds a delete marker where versioning is on or suspended.
    /// With one: removes that version for good.
    pub async fn delete_object(
        &self,
        ctx: &RequestContext,
        input: &DeleteObjectRequest,
    ) -> Result<DeleteObjectOutput, ServiceError> {
        let seq = self.next_seq();
        self.with_bucket_mut(ctx, &input.bucket, |bucket| {
            delete_one(bucket, &input.key, input.version_id.as_deref(), ctx, seq)
        })
        .await
    }
}

/// One delete as DeleteObject and DeleteObjects perform it.
pub fn delete_one(
    bucket: &mut Bucket,
    key: &str,
    version_id: Option<&str>,
    ctx: &RequestContext,
    seq: u64,
) -> Result<(DeleteObjectOutput, Vec<kagami_core::store::StoreOp>, Vec<String>), ServiceError> {
    if let Some(id) = version_id {
        return Ok(match bucket.remove_version(key, id) {
            Some(w) => (
                DeleteObjectOutput {
                    delete_marker: w.stored.delete_marker.then_some(true),
                    version_id: Some(id.to_string()),
                    ..Default::default()
                },
                w.ops,
                w.orphaned,
            ),
            None => (
                DeleteObjectOutput {
                    version_id: Some(id.to_string()),
                    ..Default::default()
                },
                Vec::new(),
                Vec::new(),
            ),
        });
    }
    match bucket.versioning() {
        Versioning::Unversioned => Ok(match bucket.remove_version(key, NULL_VERSION) {
            Some(w) => (DeleteObjectOutput::default(), w.ops, w.orphaned),
            None => (DeleteObjectOutput::default(), Vec::new(), Vec::new()),
        }),
        Versioning::Enabled | Versioning::Suspended => {
            let marker = ObjectRecord {
                bucket: bucket.record.name.clone(),
                key: key.to_string(),
                delete_marker: true,
                last_modified: clock::now_millis(),
                owner: ctx.account_id.clone(),
                ..Default::default()
            };
            let w = bucket.write_version(marker, seq);
            Ok((
                DeleteObjectOutput {
                    delete_marker: Some(true),
                    version_id: Some(versions::reported_id(&w.stored)),
                    ..Default::default()
                },
                w.ops,
                w.orphaned,
            ))
        }
    }
}
