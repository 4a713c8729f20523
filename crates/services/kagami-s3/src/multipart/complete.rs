//! CompleteMultipartUpload: checks the listed parts, joins their files into one body
//! file (kernel-side copies, never through memory whole), and writes it as the newest
//! version of the key.

use super::{MIN_PART_SIZE, Upload, UploadedPart, same_etag};
use crate::blobs::BodySource;
use crate::checksums::{self, Algorithm};
use crate::conditions;
use crate::errors::*;
use crate::generated::*;
use crate::objects::reported_version;
use crate::persistence::PartRecord;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, clock};
use md5::{Digest, Md5};
use std::io::Write;
use std::path::Path;

/// The part checksum of `algorithm` a CompletedPart carries.
fn listed_checksum(part: &CompletedPart, algorithm: Algorithm) -> Option<&str> {
    match algorithm {
        Algorithm::Crc32 => part.checksum_crc32.as_deref(),
        Algorithm::Crc32c => part.checksum_crc32_c.as_deref(),
        Algorithm::Crc64Nvme => part.checksum_crc64_nvme.as_deref(),
        Algorithm::Sha1 => part.checksum_sha1.as_deref(),
        Algorithm::Sha256 => part.checksum_sha256.as_deref(),
    }
}

/// The full-object checksum a CompleteMultipartUpload request states, if any.
fn stated_checksum(input: &CompleteMultipartUploadRequest, algorithm: Algorithm) -> Option<&str> {
    match algorithm {
        Algorithm::Crc32 => input.checksum_crc32.as_deref(),
        Algorithm::Crc32c => input.checksum_crc32_c.as_deref(),
        Algorithm::Crc64Nvme => input.checksum_crc64_nvme.as_deref(),
        Algorithm::Sha1 => input.checksum_sha1.as_deref(),
        Algorithm::Sha256 => input.checksum_sha256.as_deref(),
    }
}

/// Checks the request's part list against the upload (order, existence, ETags, part
/// checksums, sizes) and returns the parts to join, in order.
fn select_parts(
    upload: &Upload,
    listed: &[CompletedPart],
    algorithm: Option<Algorithm>,
) -> Result<Vec<UploadedPart>, ServiceError> {
    let id = &upload.upload_id;
    let mut previous = 0;
    let mut selected = Vec::with_capacity(listed.len());
    for p in listed {
        let number = p.part_number.unwrap_or(0);
        if number <= previous {
            return Err(invalid_part_order(id));
        }
        previous = number;
        let etag = p.e_tag.as_deref().unwrap_or_default();
        let stored = upload
            .parts
            .get(&number)
            .filter(|s| same_etag(&s.etag, etag))
            .ok_or_else(|| invalid_part(id, number, etag))?;
        if let Some(a) = algorithm {
            match listed_checksum(p, a) {
                Some(c) if stored.checksum.as_deref() != Some(c.trim()) => {
                    return Err(invalid_part(id, number, etag));
                }
                Some(_) => {}
                None if upload.checksum_type.as_deref() == Some("COMPOSITE") => {
                    return Err(missing_part_checksum(a.lower(), number));
                }
                None => {}
            }
        }
        selected.push(stored.clone());
    }
    if selected.is_empty() {
        return Err(complete_malformed_xml());
    }
    let last = selected.len() - 1;
    if let Some((i, small)) = selected
        .iter()
        .enumerate()
        .find(|(i, p)| *i < last && p.size < MIN_PART_SIZE)
    {
        let etag = listed
            .get(i)
            .and_then(|p| p.e_tag.clone())
            .unwrap_or_default();
        return Err(entity_too_small(
            small.size,
            MIN_PART_SIZE,
            small.part_number,
            &etag,
        ));
    }
    Ok(selected)
}

/// The ETag of a multipart object: the MD5 of the parts' binary MD5s, `-<count>`.
fn multipart_etag(parts: &[UploadedPart]) -> String {
    let mut md5 = Md5::new();
    for p in parts {
        if let Ok(d) = hex::decode(p.etag.trim_matches('"')) {
            md5.update(&d);
        }
    }
    format!("\"{}-{}\"", hex::encode(md5.finalize()), parts.len())
}

/// The object's checksum and its type, from the parts' checksums: COMPOSITE is the
/// checksum of the part checksums, FULL_OBJECT the CRC of the whole, combined from the
/// part CRCs. `None` when a part lacks its checksum (the caller hashes the joined file).
fn object_checksum(
    parts: &[UploadedPart],
    algorithm: Algorithm,
    composite: bool,
) -> Option<String> {
    let digest_of = |p: &UploadedPart| {
        let value = if algorithm == checksums::DEFAULT {
            p.crc64nvme.as_deref().or(p.checksum.as_deref())
        } else {
            p.checksum.as_deref()
        };
        value.and_then(|v| checksums::decode(algorithm, v))
    };
    let digests: Option<Vec<Vec<u8>>> = parts.iter().map(digest_of).collect();
    let digests = digests?;
    if composite {
        return Some(checksums::composite(algorithm, &digests));
    }
    let mut iter = parts.iter().zip(&digests);
    let (_, first) = iter.next()?;
    let mut whole = first.clone();
    for (p, d) in iter {
        whole = checksums::combine(algorithm, &whole, d, p.size)?;
    }
    Some(checksums::encode(&whole))
}

/// Joins the part files into `out`, fsynced. Runs on a blocking thread: `std::io::copy`
/// between files is a kernel-side copy on Linux.
fn join_parts(sources: Vec<BodySource>, out: &Path) -> std::io::Result<()> {
    let mut joined = std::fs::File::create(out)?;
    for source in sources {
        match source {
            BodySource::File(path) => {
                std::io::copy(&mut std::fs::File::open(path)?, &mut joined)?;
            }
            BodySource::Memory(bytes) => joined.write_all(&bytes)?,
        }
    }
    joined.flush()?;
    joined.sync_all()
}

impl S3 {
    /// `If-Match` / `If-None-Match` of CompleteMultipartUpload, against the key's
    /// current object.
    fn check_complete_conditions(
        &self,
        bucket: &crate::state::Bucket,
        input: &CompleteMultipartUploadRequest,
    ) -> Result<(), ServiceError> {
        let current = bucket.objects.get(&input.key).and_then(|v| v.current());
        conditions::check_write(
            &input.key,
            current,
            input.if_match.as_deref(),
            input.if_none_match.as_deref(),
        )
    }

    pub async fn complete_multipart_upload(
        &self,
        ctx: &RequestContext,
        input: CompleteMultipartUploadRequest,
    ) -> Result<CompleteMultipartUploadOutput, ServiceError> {
        let upload = self.with_bucket(ctx, &input.bucket, |b| {
            let upload = super::find_upload(b, &input.key, &input.upload_id)?;
            // Conditional writes are checked before the join (no work wasted) and again
            // under the write lock, where they decide.
            self.check_complete_conditions(b, &input)?;
            Ok(upload.clone())
        })?;
        let listed = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_deref())
            .unwrap_or_default();
        let algorithm = upload
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::parse);
        if let (Some(asked), Some(have)) = (
            input.checksum_type.as_deref(),
            upload.checksum_type.as_deref(),
        ) && !asked.eq_ignore_ascii_case(have)
        {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                format!(
                    "The upload was created using the {have} checksum mode. The complete request must use the same checksum mode."
                ),
            ));
        }
        let parts = select_parts(&upload, listed, algorithm)?;
        let size: u64 = parts.iter().map(|p| p.size).sum();
        if let Some(stated) = input.mpu_object_size
            && u64::try_from(stated).ok() != Some(size)
        {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                format!(
                    "The provided 'x-amz-mp-object-size' header value {stated} does not match what was computed: {size}"
                ),
            ));
        }
        let etag = multipart_etag(&parts);
        let temp = self.blobs.temp_path();
        let sources: Vec<BodySource> = parts.iter().map(|p| self.blobs.locate(&p.file)).collect();
        let out = temp.clone();
        let joined = tokio::task::spawn_blocking(move || join_parts(sources, &out))
            .await
            .map_err(|e| ServiceError::internal(format!("joining the parts: {e}")))?;
        if let Err(e) = joined {
            let _ = tokio::fs::remove_file(&temp).await;
            if e.kind() == std::io::ErrorKind::NotFound {
                // A part replaced while this request ran.
                return Err(no_such_upload(&input.upload_id));
            }
            return Err(io_error("joining the parts", &e));
        }
        let (checksum_algorithm, composite) = match algorithm {
            Some(a) => (a, upload.checksum_type.as_deref() == Some("COMPOSITE")),
            None => (checksums::DEFAULT, false),
        };
        let checksum = match object_checksum(&parts, checksum_algorithm, composite) {
            Some(c) => c,
            None if !composite => {
                checksums::encode(&crate::body::hash_file(&temp, checksum_algorithm).await?)
            }
            None => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(ServiceError::internal(
                    "a part of the upload has no checksum",
                ));
            }
        };
        if !composite
            && let Some(stated) = stated_checksum(&input, checksum_algorithm)
            && stated.trim() != checksum
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(checksum_mismatch(checksum_algorithm.name()));
        }
        let file = kagami_core::ids::uuid_v4();
        if let Err(e) = self.blobs.commit(&BodySource::File(temp.clone()), &file).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error("storing the object body", &e));
        }
        let mut record = upload.object.clone();
        record.file = file.clone();
        record.size = size;
        record.etag = etag;
        record.last_modified = clock::now_millis();
        record.checksum = Some((checksum_algorithm.name().to_string(), checksum));
        record.checksum_type = Some(
            if composite {
                "COMPOSITE"
            } else {
                "FULL_OBJECT"
            }
            .to_string(),
        );
        record.parts = parts
            .iter()
            .map(|p| PartRecord {
                size: p.size,
                etag: p.etag.clone(),
                checksum: p.checksum.clone(),
            })
            .collect();
        let seq = self.next_seq();
        let written = self
            .with_bucket_mut(ctx, &input.bucket, |b| {
                // Completed or aborted by another request while the parts were joined.
                let current = super::find_upload(b, &input.key, &input.upload_id)?;
                self.check_complete_conditions(b, &input)?;
                let mut ops = current.delete_ops();
                let mut orphaned = current.files();
                b.uploads.remove(&input.upload_id);
                let w = b.write_version(record, seq);
                let version_id = reported_version(b, &w.stored);
                let expiration = crate::bucket_config::lifecycle_runner::expiration_header(b, &w.stored);
                ops.extend(w.ops);
                orphaned.extend(w.orphaned);
                Ok(((w.stored, version_id, expiration), ops, orphaned))
            })
            .await;
        let (stored, version_id, expiration) = match written {
            Ok(w) => w,
            Err(e) => {
                self.blobs.remove(&file);
                return Err(e);
            }
        };
        let location = format!(
            "http://{}/{}/{}",
            ctx.host,
            input.bucket,
            super::lists::encode_key(&input.key, true)
        );
        let mut output = CompleteMultipartUploadOutput {
            location: Some(location),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(stored.etag.clone()),
            version_id,
            expiration,
            checksum_type: stored.checksum_type.clone(),
            ..Default::default()
        };
        if let Some((_, value)) = stored.checksum.clone() {
            set_part_checksum!(output, checksum_algorithm, value);
        }
        if let Some(sse) = stored.sse {
            output.server_side_encryption = sse.algorithm;
            output.ssekms_key_id = sse.kms_key_id;
            output.bucket_key_enabled = sse.bucket_key_enabled;
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: i32, data: &[u8]) -> UploadedPart {
        UploadedPart {
            part_number: n,
            file: format!("f{n}"),
            size: data.len() as u64,
            etag: format!("\"{}\"", hex::encode(Md5::digest(data))),
            last_modified: 0,
            checksum: Some(checksums::encode(&checksums::digest(
                Algorithm::Crc32,
                data,
            ))),
            crc64nvme: Some(checksums::encode(&checksums::digest(
                Algorithm::Crc64Nvme,
                data,
            ))),
        }
    }

    fn listed(n: i32, etag: &str) -> CompletedPart {
        CompletedPart {
            part_number: Some(n),
            e_tag: Some(etag.to_string()),
            ..Default::default()
        }
    }

    fn upload_of(parts: Vec<UploadedPart>) -> Upload {
        Upload {
            upload_id: "u".into(),
            parts: parts.into_iter().map(|p| (p.part_number, p)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_etag_is_the_md5_of_part_md5s_with_the_count() {
        let parts = vec![part(1, b"a"), part(2, b"b")];
        let mut both = Vec::new();
        both.extend_from_slice(&Md5::digest(b"a"));
        both.extend_from_slice(&Md5::digest(b"b"));
        assert_eq!(
            multipart_etag(&parts),
            format!("\"{}-2\"", hex::encode(Md5::digest(&both)))
        );
    }

    #[test]
    fn part_lists_are_checked_as_aws_checks_them() {
        let big = vec![0u8; MIN_PART_SIZE as usize];
        let (p1, p2) = (part(1, &big), part(2, b"tail"));
        let upload = upload_of(vec![p1.clone(), p2.clone()]);
        let ok = select_parts(&upload, &[listed(1, &p1.etag), listed(2, &p2.etag)], None).unwrap();
        assert_eq!(ok.len(), 2);
        let order = select_parts(&upload, &[listed(2, &p2.etag), listed(1, &p1.etag)], None);
        assert_eq!(order.unwrap_err().code, "InvalidPartOrder");
        let dup = select_parts(&upload, &[listed(1, &p1.etag), listed(1, &p1.etag)], None);
        assert_eq!(dup.unwrap_err().code, "InvalidPartOrder");
        let etag = select_parts(&upload, &[listed(1, "\"0000\"")], None);
        assert_eq!(etag.unwrap_err().code, "InvalidPart");
        let missing = select_parts(&upload, &[listed(3, &p1.etag)], None);
        assert_eq!(missing.unwrap_err().code, "InvalidPart");
        let small = upload_of(vec![part(1, b"small"), p2.clone()]);
        let e = select_parts(
            &small,
            &[listed(1, &part(1, b"small").etag), listed(2, &p2.etag)],
            None,
        );
        assert_eq!(e.unwrap_err().code, "EntityTooSmall");
        assert_eq!(
            select_parts(&upload, &[], None).unwrap_err().code,
            "MalformedXML"
        );
    }

    #[test]
    fn full_object_crcs_combine_and_composites_hash_the_part_checksums() {
        let parts = vec![part(1, b"hello "), part(2, b"world")];
        let whole = checksums::encode(&checksums::digest(Algorithm::Crc32, b"hello world"));
        assert_eq!(
            object_checksum(&parts, Algorithm::Crc32, false),
            Some(whole)
        );
        let nvme = checksums::encode(&checksums::digest(Algorithm::Crc64Nvme, b"hello world"));
        assert_eq!(
            object_checksum(&parts, Algorithm::Crc64Nvme, false),
            Some(nvme)
        );
        let digests = vec![
            checksums::digest(Algorithm::Crc32, b"hello "),
            checksums::digest(Algorithm::Crc32, b"world"),
        ];
        assert_eq!(
            object_checksum(&parts, Algorithm::Crc32, true),
            Some(checksums::composite(Algorithm::Crc32, &digests))
        );
    }
}
