//! CopyObject: a new version whose body is the source's bytes, copied file to file
//! (never through memory), or shared when a small body is held in memory, with the
//! source's or the request's metadata and tags.

use crate::blobs::{BodySource, Opened};
use crate::checksums;
use crate::new_object_headers::NewObjectHeaders;
use crate::object_acl::AclHeaders;
use crate::write_settings::{WriteHeaders, WriteSettings};
use crate::conditions::{self, Conditions};
use crate::errors::*;
use crate::generated::*;
use crate::objects::{find_version, reported_version};
use crate::persistence::ObjectRecord;
use crate::sse::{self, Customer};
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["CopyObject"];

/// Largest source CopyObject copies (AWS: 5 GiB; larger objects need UploadPartCopy).
const MAX_COPY_SIZE: u64 = 5 * 1024 * 1024 * 1024;
const COPY_SOURCE: &str = "x-amz-copy-source";

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, URL-encoded.
#[derive(Debug, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

impl CopySource {
    pub fn parse(header: &str) -> Result<CopySource, ServiceError> {
        let raw = header.trim();
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let invalid = |message: &str| invalid_argument(message, COPY_SOURCE, raw);
        let path = percent_decode(path).ok_or_else(|| invalid("Invalid copy source encoding"))?;
        let path = path.strip_prefix('/').unwrap_or(&path);
        let (bucket, key) = path
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| invalid("Invalid copy source object key"))?;
        let mut version_id = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name == "versionId" {
                let v = percent_decode(value).ok_or_else(|| invalid("Invalid copy source encoding"))?;
                if !crate::versions::is_well_formed_version_id(&v) {
                    return Err(invalid("Invalid version id specified"));
                }
                version_id = Some(v);
            }
        }
        Ok(CopySource {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id,
        })
    }
}

/// `COPY` (the default) or `REPLACE`.
fn replace(directive: Option<&str>, name: &str, message: &str) -> Result<bool, ServiceError> {
    match directive {
        None | Some("COPY") => Ok(false),
        Some("REPLACE") => Ok(true),
        Some(other) => Err(invalid_argument(message, name, other)),
    }
}

impl S3 {
    pub async fn copy_object(
        &self,
        ctx: &RequestContext,
        input: CopyObjectRequest,
    ) -> Result<CopyObjectOutput, ServiceError> {
        let source = CopySource::parse(&input.copy_source)?;
        let replace_metadata = replace(
            input.metadata_directive.as_deref(),
            "MetadataDirective",
            "Unknown metadata directive.",
        )?;
        let replace_tags = replace(
            input.tagging_directive.as_deref(),
            "TaggingDirective",
            "Unknown tagging directive.",
        )?;
        let wanted_checksum =
            checksums::Declared::new([None; 5], input.checksum_algorithm.as_deref())?.algorithm;
        let requested = sse::Requested {
            algorithm: input.server_side_encryption.as_deref(),
            kms_key_id: input.ssekms_key_id.as_deref(),
            bucket_key_enabled: input.bucket_key_enabled,
            customer: Customer {
                algorithm: input.sse_customer_algorithm.as_deref(),
                key: input.sse_customer_key.as_deref(),
                key_md5: input.sse_customer_key_md5.as_deref(),
            },
        };
        // The destination first: its bucket, its conditions, its encryption, and the
        // tags, Object Lock and ACL the request sets on the copy.
        let (encryption, settings) = self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(&b.record.account, input.expected_bucket_owner.as_deref(), false)?;
            NewObjectHeaders {
                storage_class: input.storage_class.as_deref(),
                metadata: input.metadata.as_ref().filter(|_| replace_metadata),
                website_redirect_location: input.website_redirect_location.as_deref(),
            }
            .check()?;
            let current = b.objects.get(&input.key).and_then(|v| v.current());
            conditions::check_write(&input.key, current, input.if_match.as_deref(), input.if_none_match.as_deref())?;
            let encryption = sse::for_new_object(ctx, &requested, b.config.get("Encryption").cloned())?;
            let settings = WriteSettings::resolve(b, &ctx.account_id, write_headers(&input, replace_tags))?;
            Ok((encryption, settings))
        })?;
        let source_conditions = Conditions {
            if_match: input.copy_source_if_match.as_deref(),
            if_none_match: input.copy_source_if_none_match.as_deref(),
            if_modified_since: input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
        };
        let source_customer = Customer {
            algorithm: input.copy_source_sse_customer_algorithm.as_deref(),
            key: input.copy_source_sse_customer_key.as_deref(),
            key_md5: input.copy_source_sse_customer_key_md5.as_deref(),
        };
        let (record, source_version, file) = self.with_bucket(ctx, &source.bucket, |b| {
            check_expected_owner(&b.record.account, input.expected_source_bucket_owner.as_deref(), false)?;
            let found = find_version(b, &source.key, source.version_id.as_deref(), false)
                .map_err(|e| source_error(e, &source.key))?;
            sse::check_read(found.record.sse.as_ref(), &source_customer)?;
            crate::restore::check_readable(&found.record)?;
            source_conditions.check_copy_source(&found.record, clock::now_millis())?;
            check_copy_size(found.record.size)?;
            let is_current = b
                .objects
                .get(&source.key)
                .and_then(|v| v.current())
                .is_some_and(|c| c.version_id == found.record.version_id);
            let changes = replace_metadata
                || input.website_redirect_location.is_some()
                || input.server_side_encryption.is_some()
                || input.sse_customer_algorithm.is_some()
                || input
                    .storage_class
                    .as_deref()
                    .is_some_and(|c| c != found.record.storage_class.as_deref().unwrap_or("STANDARD"));
            if source.bucket == input.bucket && source.key == input.key && is_current && !changes {
                return Err(illegal_self_copy());
            }
            // Opened under the lock: an overwrite may unlink the file, never before it is open.
            let file = self
                .blobs
                .open_body(&found.record.file)
                .map_err(|e| io_error("opening the copy source body", &e))?;
            Ok((found.record, found.version_id, file))
        })?;
        let id = kagami_core::ids::uuid_v4();
        self.copy_body(file, record.size, &id).await?;
        let (checksum, checksum_type, recomputed) = match self.copy_checksum(&record, wanted_checksum, &id).await {
            Ok(c) => c,
            Err(e) => {
                self.blobs.remove(&id);
                return Err(e);
            }
        };
        let tags = if replace_tags {
            settings.tags
        } else {
            record.tags.clone()
        };
        let mut copy = ObjectRecord {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            file: id.clone(),
            size: record.size,
            etag: record.etag.clone(),
            last_modified: clock::now_millis(),
            owner: ctx.account_id.clone(),
            website_redirect_location: input.website_redirect_location.clone(),
            storage_class: input.storage_class.clone().filter(|c| c != "STANDARD"),
            tags,
            checksum,
            checksum_type,
            parts: record
                .parts
                .iter()
                .cloned()
                .map(|mut p| {
                    // Part checksums of another algorithm say nothing about this copy.
                    if recomputed {
                        p.checksum = None;
                    }
                    p
                })
                .collect(),
            sse: Some(encryption),
            lock: settings.lock,
            acl: settings.acl,
            ..Default::default()
        };
        if replace_metadata {
            copy.content_type = Some(input.content_type.clone().unwrap_or_else(|| "binary/octet-stream".into()));
            copy.content_encoding = input.content_encoding.clone();
            copy.content_disposition = input.content_disposition.clone();
            copy.content_language = input.content_language.clone();
            copy.cache_control = input.cache_control.clone();
            copy.expires = input.expires.clone();
            copy.metadata = input.metadata.clone().unwrap_or_default();
        } else {
            copy.content_type = record.content_type.clone();
            copy.content_encoding = record.content_encoding.clone();
            copy.content_disposition = record.content_disposition.clone();
            copy.content_language = record.content_language.clone();
            copy.cache_control = record.cache_control.clone();
            copy.expires = record.expires.clone();
            copy.metadata = record.metadata.clone();
        }
        let seq = self.next_seq();
        let written = self
            .with_bucket_mut(ctx, &input.bucket, |bucket| {
                let current = bucket.objects.get(&input.key).and_then(|v| v.current());
                conditions::check_write(&input.key, current, input.if_match.as_deref(), input.if_none_match.as_deref())?;
                let w = bucket.write_version(copy, seq);
                let version_id = reported_version(bucket, &w.stored);
                let expiration = crate::bucket_config::lifecycle_runner::expiration_header(bucket, &w.stored);
                Ok(((w.stored, version_id, expiration), w.ops, w.orphaned))
            })
            .await;
        let (stored, version_id, expiration) = match written {
            Ok(w) => w,
            Err(e) => {
                self.blobs.remove(&id);
                return Err(e);
            }
        };
        let mut result = CopyObjectResult {
            e_tag: Some(stored.etag.clone()),
            last_modified: Some(Timestamp::from_millis(stored.last_modified)),
            ..Default::default()
        };
        crate::objects::set_checksum!(result, stored);
        let mut output = CopyObjectOutput {
            copy_object_result: Some(result),
            copy_source_version_id: source_version,
            version_id,
            expiration,
            ..Default::default()
        };
        crate::objects::set_sse!(output, stored.sse);
        Ok(output)
    }

    /// The checksum of a copy: the source's, unless the request asks for another
    /// algorithm or the source has none (S3 then computes one, CRC64NVME by default).
    /// The flag tells whether it was computed again.
    async fn copy_checksum(
        &self,
        source: &ObjectRecord,
        wanted: Option<checksums::Algorithm>,
        id: &str,
    ) -> Result<(Option<(String, String)>, Option<String>, bool), ServiceError> {
        let keep = match (&source.checksum, wanted) {
            (Some(_), None) => true,
            (Some((name, _)), Some(a)) => name == a.name() && source.checksum_type.as_deref() != Some("COMPOSITE"),
            (None, _) => false,
        };
        if keep {
            return Ok((source.checksum.clone(), source.checksum_type.clone(), false));
        }
        let algorithm = wanted.unwrap_or(checksums::DEFAULT);
        let body = self
            .blobs
            .open_body(id)
            .map_err(|e| io_error("reading the copied body", &e))?;
        let digest = crate::body::hash_body(body, algorithm).await?;
        Ok((
            Some((algorithm.name().to_string(), checksums::encode(&digest))),
            Some("FULL_OBJECT".to_string()),
            true,
        ))
    }

    /// Copies `size` bytes of the open source into a new body file `id`, fsynced and
    /// committed. `std::io::copy` between files lets the kernel copy (copy_file_range).
    /// A body held in memory is shared with the copy while memory may hold it, and
    /// written out otherwise.
    async fn copy_body(&self, source: Opened, size: u64, id: &str) -> Result<(), ServiceError> {
        let source = match source {
            Opened::Memory(bytes) if self.blobs.holds(Some(size)) => {
                return self
                    .blobs
                    .commit(&BodySource::Memory(bytes), id)
                    .await
                    .map_err(|e| io_error("copying the object body", &e));
            }
            other => other,
        };
        let temp = self.blobs.temp_path();
        let target = temp.clone();
        let copied = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let mut out = std::fs::File::create(&target)?;
            let n = match source {
                Opened::File(mut file) => std::io::copy(&mut file, &mut out)?,
                Opened::Memory(bytes) => {
                    std::io::Write::write_all(&mut out, &bytes)?;
                    bytes.len() as u64
                }
            };
            out.sync_all()?;
            Ok(n)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        let result = match copied {
            Ok(n) if n == size => self.blobs.commit(&BodySource::File(temp.clone()), id).await,
            Ok(n) => Err(std::io::Error::other(format!(
                "the source body has {n} bytes, its record {size}"
            ))),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error("copying the object body", &e));
        }
        Ok(())
    }
}

/// CopyObject copies up to 5 GiB; larger objects are copied with UploadPartCopy.
fn check_copy_size(size: u64) -> Result<(), ServiceError> {
    if size > MAX_COPY_SIZE {
        return Err(copy_source_too_large(MAX_COPY_SIZE));
    }
    Ok(())
}

/// The tag, Object Lock and ACL headers of a copy; its tags count only with
/// `TaggingDirective: REPLACE` (no header then means no tags).
fn write_headers(input: &CopyObjectRequest, replace_tags: bool) -> WriteHeaders<'_> {
    WriteHeaders {
        tagging: replace_tags.then(|| input.tagging.as_deref().unwrap_or("")),
        lock_mode: input.object_lock_mode.as_deref(),
        lock_retain_until: input.object_lock_retain_until_date.as_ref(),
        legal_hold: input.object_lock_legal_hold_status.as_deref(),
        acl: AclHeaders {
            acl: input.acl.as_deref(),
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: None,
            write_acp: input.grant_write_acp.as_deref(),
        },
    }
}

/// A copy source that cannot be read: a delete marker named by version id is a bad
/// request, a current delete marker a missing key.
fn source_error(e: ServiceError, key: &str) -> ServiceError {
    match e.code.as_str() {
        "MethodNotAllowed" => invalid_request(
            "The source of a copy request may not specifically refer to a delete marker by version id.",
        ),
        "NoSuchKey" => no_such_key(key),
        _ => e,
    }
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_are_decoded_with_an_optional_version() {
        let id = "A".repeat(32);
        let s = CopySource::parse(&format!("/b/dir/a%20b%2Bc.txt?versionId={id}")).unwrap();
        assert_eq!((s.bucket.as_str(), s.key.as_str(), s.version_id.as_deref()), ("b", "dir/a b+c.txt", Some(id.as_str())));
        assert_eq!(CopySource::parse("/b/k?versionId=null").unwrap().version_id.as_deref(), Some("null"));
        let s = CopySource::parse("b/k%3Fq").unwrap();
        assert_eq!((s.key.as_str(), s.version_id), ("k?q", None));
        for bad in ["b", "/b/", "b/%zz", "/k", "b/k?versionId=abc", "b/k?versionId="] {
            assert_eq!(CopySource::parse(bad).unwrap_err().code, "InvalidArgument", "{bad}");
        }
    }

    #[test]
    fn sources_over_five_gib_are_refused() {
        assert!(check_copy_size(MAX_COPY_SIZE).is_ok());
        let e = check_copy_size(MAX_COPY_SIZE + 1).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidRequest"));
        assert!(e.message.ends_with("5368709120"));
    }

    #[test]
    fn directives_are_copy_or_replace() {
        assert!(!replace(None, "M", "x").unwrap());
        assert!(replace(Some("REPLACE"), "M", "x").unwrap());
        assert_eq!(replace(Some("copy"), "M", "x").unwrap_err().status, 400);
    }
}
