//! UploadPartCopy: a part copied from (a byte range of) an existing object.

use super::parts::{check_part_number, part_algorithms};
use crate::body;
use crate::conditions::Conditions;
use crate::copy::CopySource;
use crate::errors::*;
use crate::generated::*;
use crate::objects::find_version;
use crate::sse;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};

/// `x-amz-copy-source-range: bytes=first-last` against a source of `size` bytes:
/// the offset and length to copy.
pub fn parse_copy_range(range: &str, size: u64) -> Result<(u64, u64), ServiceError> {
    let malformed = || malformed_copy_range(range);
    let spec = range.trim().strip_prefix("bytes=").ok_or_else(malformed)?;
    let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
    let first: u64 = first.trim().parse().map_err(|_| malformed())?;
    let last: u64 = last.trim().parse().map_err(|_| malformed())?;
    if first > last {
        return Err(malformed());
    }
    if last >= size {
        return Err(copy_range_out_of_bounds(range, size));
    }
    Ok((first, last - first + 1))
}

impl S3 {
    pub async fn upload_part_copy(
        &self,
        ctx: &RequestContext,
        input: UploadPartCopyRequest,
    ) -> Result<UploadPartCopyOutput, ServiceError> {
        check_part_number(input.part_number)?;
        let CopySource {
            bucket: src_bucket,
            key: src_key,
            version_id: src_version,
        } = CopySource::parse(&input.copy_source)?;
        let facts = self.upload_facts(ctx, &input.bucket, &input.key, &input.upload_id)?;
        sse::check_read(
            facts.sse.as_ref(),
            &sse::Customer {
                algorithm: input.sse_customer_algorithm.as_deref(),
                key: input.sse_customer_key.as_deref(),
                key_md5: input.sse_customer_key_md5.as_deref(),
            },
        )?;
        let source_customer = sse::Customer {
            algorithm: input.copy_source_sse_customer_algorithm.as_deref(),
            key: input.copy_source_sse_customer_key.as_deref(),
            key_md5: input.copy_source_sse_customer_key_md5.as_deref(),
        };
        let (found, file) = self.with_bucket(ctx, &src_bucket, |b| {
            let found = find_version(b, &src_key, src_version.as_deref(), false)?;
            sse::check_read(found.record.sse.as_ref(), &source_customer)?;
            crate::restore::check_readable(&found.record)?;
            // Opened under the lock: a concurrent overwrite may unlink the file, never
            // before it is open.
            let file = self
                .blobs
                .open_body(&found.record.file)
                .map_err(|e| io_error("opening the copy source", &e))?;
            Ok(((found.record, found.version_id), file))
        })?;
        let (source, source_version) = found;
        Conditions {
            if_match: input.copy_source_if_match.as_deref(),
            if_none_match: input.copy_source_if_none_match.as_deref(),
            if_modified_since: input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
        }
        .check_copy_source(&source, clock::now_millis())?;
        let (start, len) = match &input.copy_source_range {
            Some(r) => parse_copy_range(r, source.size)?,
            None => (0, source.size),
        };
        if len > super::MAX_PART_SIZE {
            return Err(ServiceError::new(
                "InvalidRequest",
                400,
                format!(
                    "The specified copy source is larger than the maximum allowable size for a copy source: {}",
                    super::MAX_PART_SIZE
                ),
            ));
        }
        let stream = body::read_body(file, start, len).await?;
        let incoming = self
            .receive_body(
                stream,
                Some(false),
                super::MAX_PART_SIZE,
                &part_algorithms(facts.algorithm),
                None,
            )
            .await?;
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
        let mut result = CopyPartResult {
            e_tag: Some(part.etag),
            last_modified: Some(Timestamp::from_millis(part.last_modified)),
            ..Default::default()
        };
        if let Some((a, value)) = facts.algorithm.zip(part.checksum) {
            set_part_checksum!(result, a, value);
        }
        let mut output = UploadPartCopyOutput {
            copy_source_version_id: source_version,
            copy_part_result: Some(result),
            ..Default::default()
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_are_inclusive_and_bounded_by_the_source() {
        assert_eq!(parse_copy_range("bytes=0-9", 100).unwrap(), (0, 10));
        assert_eq!(parse_copy_range("bytes=90-99", 100).unwrap(), (90, 10));
        for bad in ["bytes=5-", "bytes=-5", "0-9", "bytes=9-0", "bytes=a-b"] {
            let e = parse_copy_range(bad, 100).unwrap_err();
            assert_eq!(e.code, "InvalidArgument", "{bad}");
            assert!(
                e.message.starts_with("The x-amz-copy-source-range value"),
                "{bad}"
            );
        }
        let e = parse_copy_range("bytes=0-100", 100).unwrap_err();
        assert_eq!(
            e.message,
            "Range specified is not valid for source object of size: 100"
        );
    }
}
