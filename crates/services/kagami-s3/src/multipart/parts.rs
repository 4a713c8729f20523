//! UploadPart: a part's body streamed to a file, checked (Content-MD5, checksums),
//! committed, and only then recorded.

use super::{MAX_PART_SIZE, PART_NUMBERS, UploadedPart};
use crate::blobs::BodySource;
use crate::body::Received;
use crate::checksums::{self, Algorithm};
use crate::errors::*;
use crate::generated::*;
use crate::incoming::Claims;
use crate::persistence::SseRecord;
use crate::sse;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, clock};

/// What an upload tells a part request before its body arrives.
pub(super) struct UploadFacts {
    pub algorithm: Option<Algorithm>,
    pub sse: Option<SseRecord>,
}

pub(super) fn check_part_number(part_number: i32) -> Result<(), ServiceError> {
    if PART_NUMBERS.contains(&part_number) {
        Ok(())
    } else {
        Err(invalid_part_number(part_number))
    }
}

/// The algorithms to compute over a part: the upload's, and CRC64NVME for the default
/// full-object checksum.
pub(super) fn part_algorithms(upload: Option<Algorithm>) -> Vec<Algorithm> {
    let mut all = vec![checksums::DEFAULT];
    if let Some(a) = upload.filter(|a| *a != checksums::DEFAULT) {
        all.push(a);
    }
    all
}

impl S3 {
    /// The facts of an upload a part request names: NoSuchBucket, NoSuchUpload.
    pub(super) fn upload_facts(
        &self,
        ctx: &RequestContext,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<UploadFacts, ServiceError> {
        self.with_bucket(ctx, bucket, |b| {
            let u = super::find_upload(b, key, upload_id)?;
            Ok(UploadFacts {
                algorithm: u.checksum_algorithm.as_deref().and_then(Algorithm::parse),
                sse: u.object.sse.clone(),
            })
        })
    }

    /// Commits a received part file and records it, replacing a part of the same
    /// number. The file is durable before the record; on failure it is removed.
    pub(super) async fn store_part(
        &self,
        ctx: &RequestContext,
        (bucket, key, upload_id): (&str, &str, &str),
        part_number: i32,
        temp: &BodySource,
        received: &Received,
        upload_algorithm: Option<Algorithm>,
    ) -> Result<UploadedPart, ServiceError> {
        let file = kagami_core::ids::uuid_v4();
        if let Err(e) = self.blobs.commit(temp, &file).await {
            temp.discard().await;
            return Err(io_error("storing the part body", &e));
        }
        let part = UploadedPart {
            part_number,
            file: file.clone(),
            size: received.size,
            etag: format!("\"{}\"", hex::encode(received.md5)),
            last_modified: clock::now_millis(),
            checksum: upload_algorithm
                .and_then(|a| received.checksum(a))
                .map(checksums::encode),
            crc64nvme: received.checksum(checksums::DEFAULT).map(checksums::encode),
        };
        let stored = part.clone();
        let result = self
            .with_bucket_mut(ctx, bucket, |b| {
                let upload = super::find_upload_mut(b, key, upload_id)?;
                let op = upload.part_op(&part);
                let replaced = upload.parts.insert(part_number, part);
                Ok((
                    (),
                    vec![op],
                    replaced.map(|p| vec![p.file]).unwrap_or_default(),
                ))
            })
            .await;
        if let Err(e) = result {
            // The upload may have been completed or aborted while the body arrived.
            self.blobs.remove(&file);
            return Err(e);
        }
        Ok(stored)
    }

    pub async fn upload_part(
        &self,
        ctx: &RequestContext,
        mut input: UploadPartRequest,
    ) -> Result<UploadPartOutput, ServiceError> {
        check_part_number(input.part_number)?;
        let facts = self.upload_facts(ctx, &input.bucket, &input.key, &input.upload_id)?;
        // Parts of an SSE-C upload carry the upload's key; others carry none.
        sse::check_read(
            facts.sse.as_ref(),
            &sse::Customer {
                algorithm: input.sse_customer_algorithm.as_deref(),
                key: input.sse_customer_key.as_deref(),
                key_md5: input.sse_customer_key_md5.as_deref(),
            },
        )?;
        let Claims { md5, declared } = Claims::check(
            input.content_md5.as_deref(),
            input.content_length,
            MAX_PART_SIZE,
            [
                input.checksum_crc32.as_deref(),
                input.checksum_crc32_c.as_deref(),
                input.checksum_crc64_nvme.as_deref(),
                input.checksum_sha1.as_deref(),
                input.checksum_sha256.as_deref(),
            ],
            input.checksum_algorithm.as_deref(),
        )?;
        if let (Some(expected), Some(named)) = (facts.algorithm, declared.named())
            && expected != named
        {
            return Err(checksum_type_mismatch(expected.lower(), named.lower()));
        }
        let incoming = self
            .receive_body(
                input.body.take().unwrap_or_default(),
                // UploadPart's model has no Content-Encoding: a checksum named without a
                // value comes as a trailer, so the body is aws-chunked; signed chunks
                // without a trailer are told by their first bytes.
                (declared.header.is_none() && declared.algorithm.is_some()).then_some(true),
                MAX_PART_SIZE,
                &declared.to_compute(&part_algorithms(facts.algorithm)),
                md5,
            )
            .await?;
        let verified = match checksums::verify(&declared, &incoming.received, &incoming.temp).await
        {
            Ok(v) => v,
            Err(e) => {
                incoming.discard().await;
                return Err(e);
            }
        };
        let part = self
            .store_part(
                ctx,
                (&input.bucket, &input.key, &input.upload_id),
                input.part_number,
                &incoming.temp,
                &incoming.received,
                facts.algorithm,
            )
            .await?;
        let mut output = UploadPartOutput {
            e_tag: Some(part.etag),
            ..Default::default()
        };
        // The checksum the client named, else the upload's.
        let reported = verified
            .map(|(a, d)| (a, checksums::encode(&d)))
            .or_else(|| facts.algorithm.zip(part.checksum));
        if let Some((a, value)) = reported {
            set_part_checksum!(output, a, value);
        }
        if let Some(sse) = facts.sse {
            output.server_side_encryption = sse.algorithm;
            output.ssekms_key_id = sse.kms_key_id;
            output.bucket_key_enabled = sse.bucket_key_enabled;
            output.sse_customer_algorithm = sse.customer_algorithm;
            output.sse_customer_key_md5 = sse.customer_key_md5;
        }
        Ok(output)
    }
}
