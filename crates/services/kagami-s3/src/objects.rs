//! PutObject, GetObject, HeadObject and DeleteObject over the versions of a key:
//! bodies streamed between the connection and a file, never held whole in memory.

use crate::body::{self, MAX_PUT_SIZE};
use crate::checksums;
use crate::incoming::Claims;
use crate::chunked::{is_aws_chunked, stored_encoding};
use crate::errors::*;
use crate::generated::*;
use crate::persistence::ObjectRecord;
use crate::new_object_headers::NewObjectHeaders;
use crate::state::{Bucket, S3};
use crate::versions::{self, NULL_VERSION, Versioning};
use crate::object_lock::DeleteAuth;
use crate::conditions::{self, Conditions};
use crate::ranges::{self, Window};
use crate::sse::{self, Customer};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["DeleteObject", "GetObject", "HeadObject", "PutObject"];

/// `"<hex digits>"`, as S3 quotes an ETag; built without `format!`, which costs several
/// times as much on every PutObject.
fn quoted_hex(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(digest.len() * 2 + 2);
    out.push(b'"');
    for b in digest {
        out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
    }
    out.push(b'"');
    // Only ASCII was written: the check cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

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
        // The record is this read's own copy: its fields move into the answer.
        let mut record = found.record;
        let restore = crate::restore::restore_header(&record);
        let mut output = $ty {
            accept_ranges: Some("bytes".into()),
            content_length: i64::try_from(record.size).ok(),
            e_tag: Some(std::mem::take(&mut record.etag)),
            last_modified: Some(Timestamp::from_millis(record.last_modified)),
            version_id: found.version_id,
            content_type: record.content_type.take(),
            content_encoding: record.content_encoding.take(),
            content_disposition: record.content_disposition.take(),
            content_language: record.content_language.take(),
            cache_control: record.cache_control.take(),
            expires: record.expires.take(),
            website_redirect_location: record.website_redirect_location.take(),
            storage_class: record.storage_class.take(),
            metadata: (!record.metadata.is_empty()).then(|| std::mem::take(&mut record.metadata)),
            tag_count: i32::try_from(record.tags.len()).ok().filter(|n| *n > 0),
            restore,
            ..Default::default()
        };
        set_sse!(owned output, record.sse.take());
        if let Some(lock) = record.lock.take() {
            output.object_lock_mode = lock.mode;
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

/// The encryption headers of an answer from a stored `Option<SseRecord>`; objects
/// written before encryption was recorded are SSE-S3, S3's default.
/// `owned` takes an `Option<SseRecord>` that is the caller's to give away.
macro_rules! set_sse {
    (owned $out:expr, $sse:expr) => {{
        let sse = $sse.unwrap_or_else(crate::sse::sse_s3);
        $out.server_side_encryption = sse.algorithm;
        $out.ssekms_key_id = sse.kms_key_id;
        $out.bucket_key_enabled = sse.bucket_key_enabled;
        $out.sse_customer_algorithm = sse.customer_algorithm;
        $out.sse_customer_key_md5 = sse.customer_key_md5;
    }};
    ($out:expr, $sse:expr) => {{
        crate::objects::set_sse!(owned $out, $sse.clone())
    }};
}
pub(crate) use set_sse;

/// The `Read` of a GetObjectRequest or HeadObjectRequest (same members, two types).
macro_rules! read_of {
    ($input:expr) => {
        Read {
            key: &$input.key,
            version_id: $input.version_id.as_deref(),
            range: $input.range.as_deref(),
            part_number: $input.part_number,
            conditions: Conditions {
                if_match: $input.if_match.as_deref(),
                if_none_match: $input.if_none_match.as_deref(),
                if_modified_since: $input.if_modified_since.as_ref(),
                if_unmodified_since: $input.if_unmodified_since.as_ref(),
            },
            customer: Customer {
                algorithm: $input.sse_customer_algorithm.as_deref(),
                key: $input.sse_customer_key.as_deref(),
                key_md5: $input.sse_customer_key_md5.as_deref(),
            },
            expected_owner: $input.expected_bucket_owner.as_deref(),
        }
    };
}

/// The `response-*` query parameters of GetObject and HeadObject override the stored
/// headers in this one answer.
macro_rules! response_overrides {
    ($out:expr, $input:expr) => {
        let overrides = [
            (&mut $out.content_type, &$input.response_content_type),
            (&mut $out.content_disposition, &$input.response_content_disposition),
            (&mut $out.content_encoding, &$input.response_content_encoding),
            (&mut $out.content_language, &$input.response_content_language),
            (&mut $out.cache_control, &$input.response_cache_control),
        ];
        for (field, value) in overrides {
            if value.is_some() {
                field.clone_from(value);
            }
        }
        if let Some(expires) = &$input.response_expires {
            $out.expires = Some(expires.to_rfc822());
        }
    };
}

/// The checksum of the part a read returns (`ranges::Window::part_checksum`).
macro_rules! set_part_checksum {
    ($out:expr, $part:expr) => {
        if let Some((algorithm, value, checksum_type)) = $part {
            match algorithm.as_str() {
                "CRC32" => $out.checksum_crc32 = Some(value),
                "CRC32C" => $out.checksum_crc32_c = Some(value),
                "CRC64NVME" => $out.checksum_crc64_nvme = Some(value),
                "SHA1" => $out.checksum_sha1 = Some(value),
                "SHA256" => $out.checksum_sha256 = Some(value),
                _ => {}
            }
            $out.checksum_type = checksum_type;
        }
    };
}

/// A version found for a read, with the version id to report.
pub struct Found {
    pub record: ObjectRecord,
    pub version_id: Option<String>,
}

/// What a GetObject or HeadObject asks for, apart from the bucket.
struct Read<'a> {
    key: &'a str,
    version_id: Option<&'a str>,
    range: Option<&'a str>,
    part_number: Option<i32>,
    conditions: Conditions<'a>,
    customer: Customer<'a>,
    expected_owner: Option<&'a str>,
}

impl Read<'_> {
    /// The version to read and the bytes of it to return, after S3's checks in S3's
    /// order: the version, its encryption key, the conditions, then the range.
    fn resolve(&self, bucket: &Bucket, head: bool) -> Result<(Found, Window), ServiceError> {
        check_expected_owner(&bucket.record.account, self.expected_owner, head)?;
        let found = find_version(bucket, self.key, self.version_id, head)?;
        sse::check_read(found.record.sse.as_ref(), &self.customer)?;
        self.conditions.check_read(&found.record, clock::now_millis())?;
        let window = ranges::window(&found.record, self.range, self.part_number)?;
        Ok((found, window))
    }
}

/// `x-amz-expiration` for a read of `record`: only the current version expires by an
/// Expiration rule.
fn current_expiration(bucket: &Bucket, record: &ObjectRecord) -> Option<String> {
    let current = bucket.objects.get(&record.key).and_then(|v| v.current())?;
    if current.seq != record.seq {
        return None;
    }
    crate::bucket_config::lifecycle_runner::expiration_header(bucket, record)
}

/// Reads a small request body to its end before an early error answers: HTTP/1.1
/// cannot reuse a connection whose request body was left unread, and clients that
/// pool connections would race to reuse it. Large bodies are left (and the connection
/// closed), as S3 does rather than receive gigabytes it will not store.
async fn drain_small_body(body: Option<kagami_protocol::ByteStream>, declared: Option<i64>) {
    const LIMIT: u64 = 1024 * 1024;
    if let Some(body) = body
        && declared.and_then(|n| u64::try_from(n).ok()).is_some_and(|n| n <= LIMIT)
    {
        let _ = body.collect(LIMIT).await;
    }
}

/// The encryption headers of a PutObject.
fn put_encryption(input: &PutObjectRequest) -> sse::Requested<'_> {
    sse::Requested {
        algorithm: input.server_side_encryption.as_deref(),
        kms_key_id: input.ssekms_key_id.as_deref(),
        bucket_key_enabled: input.bucket_key_enabled,
        customer: Customer {
            algorithm: input.sse_customer_algorithm.as_deref(),
            key: input.sse_customer_key.as_deref(),
            key_md5: input.sse_customer_key_md5.as_deref(),
        },
    }
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
        // Conditions are checked before the body arrives (no upload wasted) and again
        // under the write lock, where they decide.
        let early = self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(&b.record.account, input.expected_bucket_owner.as_deref(), false)?;
            NewObjectHeaders {
                storage_class: input.storage_class.as_deref(),
                metadata: input.metadata.as_ref(),
                website_redirect_location: input.website_redirect_location.as_deref(),
            }
            .check()?;
            let current = b.objects.get(&input.key).and_then(|v| v.current());
            conditions::check_write(&input.key, current, input.if_match.as_deref(), input.if_none_match.as_deref())?;
            sse::for_new_object(ctx, &put_encryption(&input), b.config.get("Encryption").cloned())
        });
        let encryption = match early {
            Ok(e) => e,
            Err(e) => {
                drain_small_body(input.body.take(), input.content_length).await;
                return Err(e);
            }
        };
        // Tags, Object Lock and ACL headers are checked before the body arrives too.
        let settings = self.with_bucket(ctx, &input.bucket, |b| {
            crate::write_settings::WriteSettings::for_put(b, &ctx.account_id, &input)
        })?;
        let claims = Claims::check(
            input.content_md5.as_deref(),
            input.content_length,
            MAX_PUT_SIZE,
            [
                input.checksum_crc32.as_deref(),
                input.checksum_crc32_c.as_deref(),
                input.checksum_crc64_nvme.as_deref(),
                input.checksum_sha1.as_deref(),
                input.checksum_sha256.as_deref(),
            ],
            input.checksum_algorithm.as_deref(),
        )?;
        let chunked = is_aws_chunked(input.content_encoding.as_deref());
        let incoming = self
            .receive_body(
                input.body.take().unwrap_or_default(),
                Some(chunked),
                MAX_PUT_SIZE,
                &claims.declared.to_compute(&[checksums::DEFAULT]),
                claims.md5,
            )
            .await?;
        let checksum = match checksums::verify_object(&claims.declared, &incoming.received, &incoming.temp).await {
            Ok(c) => c,
            Err(e) => {
                incoming.discard().await;
                return Err(e);
            }
        };
        let received = &incoming.received;
        let file = match self.blobs.commit_received(&incoming.temp, received.size).await {
            Ok(file) => file,
            Err(e) => {
                incoming.discard().await;
                return Err(io_error("storing the object body", &e));
            }
        };
        let record = ObjectRecord {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            file: file.clone(),
            size: received.size,
            etag: quoted_hex(&received.md5),
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
            checksum: Some(checksum),
            checksum_type: Some("FULL_OBJECT".to_string()),
            ..Default::default()
        };
        let record = ObjectRecord {
            sse: Some(encryption),
            tags: settings.tags,
            lock: settings.lock,
            acl: settings.acl,
            ..record
        };
        let seq = self.next_seq();
        let written = self
            .with_bucket_mut(ctx, &input.bucket, |bucket| {
                let current = bucket.objects.get(&input.key).and_then(|v| v.current());
                conditions::check_write(&input.key, current, input.if_match.as_deref(), input.if_none_match.as_deref())?;
                // The answer is read from the version as stored, which is not copied.
                let w = bucket.write_version_with(record, seq, |bucket, stored| {
                    let mut output = PutObjectOutput {
                        e_tag: Some(stored.etag.clone()),
                        version_id: reported_version(bucket, stored),
                        expiration: crate::bucket_config::lifecycle_runner::expiration_header(bucket, stored),
                        size: i64::try_from(stored.size).ok(),
                        ..Default::default()
                    };
                    set_checksum!(output, stored);
                    set_sse!(output, stored.sse);
                    output
                });
                Ok((w.stored, w.ops, w.orphaned))
            })
            .await;
        written.inspect_err(|_| {
            // The bucket may have gone while the body was arriving.
            self.blobs.remove(&file);
        })
    }

    pub async fn get_object(
        &self,
        ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<GetObjectOutput, ServiceError> {
        let read = read_of!(input);
        let (found, window, file, expiration) = self.with_bucket(ctx, &input.bucket, |b| {
            let (found, window) = read.resolve(b, false)?;
            crate::restore::check_readable(&found.record)?;
            // Opened under the lock: a concurrent overwrite may unlink the file, never
            // before it is open.
            let file = self
                .blobs
                .open_body(&found.record.file)
                .map_err(|e| io_error("opening the object body", &e))?;
            let expiration = current_expiration(b, &found.record);
            Ok((found, window, file, expiration))
        })?;
        let body = body::read_body(file, window.start, window.len).await?;
        let part_checksum = window.part_checksum(&found.record, input.part_number, input.checksum_mode.as_deref());
        let checksum_mode = window.whole_object_checksum(&found.record, input.checksum_mode);
        let mut output = object_output!(GetObjectOutput, found, checksum_mode);
        output.expiration = expiration;
        set_part_checksum!(output, part_checksum);
        output.content_length = i64::try_from(window.len).ok();
        output.content_range = window.content_range;
        output.parts_count = window.parts_count;
        output.body = Some(body);
        response_overrides!(output, input);
        Ok(output)
    }

    pub fn head_object(
        &self,
        ctx: &RequestContext,
        input: &HeadObjectRequest,
    ) -> Result<HeadObjectOutput, ServiceError> {
        let read = read_of!(input);
        let (found, window, expiration) = {
            let buckets = self.buckets.read();
            let bucket = buckets.get(&input.bucket).ok_or_else(not_found)?;
            if bucket.record.account != ctx.account_id {
                return Err(ServiceError::new("Forbidden", 403, "Forbidden"));
            }
            let (found, window) = read.resolve(bucket, true)?;
            let expiration = current_expiration(bucket, &found.record);
            (found, window, expiration)
        };
        let checksum_mode = window.whole_object_checksum(&found.record, input.checksum_mode.clone());
        let part_checksum = window.part_checksum(&found.record, input.part_number, input.checksum_mode.as_deref());
        let mut output = object_output!(HeadObjectOutput, found, checksum_mode);
        output.expiration = expiration;
        set_part_checksum!(output, part_checksum);
        output.content_length = i64::try_from(window.len).ok();
        output.content_range = window.content_range;
        output.parts_count = window.parts_count;
        response_overrides!(output, input);
        Ok(output)
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
            let auth = DeleteAuth::new(input.bypass_governance_retention, input.mfa.as_deref());
            delete_one(bucket, &input.key, input.version_id.as_deref(), ctx, seq, auth)
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
    auth: DeleteAuth,
) -> Result<(DeleteObjectOutput, Vec<kagami_core::store::StoreOp>, Vec<String>), ServiceError> {
    if let Some(id) = version_id {
        crate::object_lock::check_version_delete(bucket, key, id, auth)?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn etags_are_quoted_lower_case_hex() {
        let digest = [0x00, 0x9f, 0xa0, 0xff];
        assert_eq!(super::quoted_hex(&digest), format!("\"{}\"", hex::encode(digest)));
        assert_eq!(super::quoted_hex(&[]), "\"\"");
    }
}
