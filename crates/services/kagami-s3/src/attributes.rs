//! GetObjectAttributes: the attributes a client names in `x-amz-object-attributes`,
//! without the body.

use crate::errors::{check_expected_owner, invalid_argument};
use crate::generated::*;
use crate::objects::find_version;
use crate::persistence::ObjectRecord;
use crate::sse::{self, Customer};
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError, Timestamp};

/// The operations of this module that behave as AWS documents.
pub const OPERATIONS: &[&str] = &["GetObjectAttributes"];

const ATTRIBUTES: &[&str] = &["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
/// Parts listed per page when the request names no MaxParts (as ListParts).
const DEFAULT_MAX_PARTS: i32 = 1000;

impl S3 {
    pub fn get_object_attributes(
        &self,
        ctx: &RequestContext,
        input: &GetObjectAttributesRequest,
    ) -> Result<GetObjectAttributesOutput, ServiceError> {
        let wanted: Vec<&str> = input
            .object_attributes
            .iter()
            .flat_map(|a| a.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if wanted.is_empty() || wanted.iter().any(|a| !ATTRIBUTES.contains(a)) {
            return Err(invalid_argument(
                "Invalid attribute name specified.",
                "x-amz-object-attributes",
                &input.object_attributes.join(","),
            ));
        }
        let customer = Customer {
            algorithm: input.sse_customer_algorithm.as_deref(),
            key: input.sse_customer_key.as_deref(),
            key_md5: input.sse_customer_key_md5.as_deref(),
        };
        let found = self.with_bucket(ctx, &input.bucket, |b| {
            check_expected_owner(&b.record.account, input.expected_bucket_owner.as_deref(), false)?;
            let found = find_version(b, &input.key, input.version_id.as_deref(), false)?;
            sse::check_read(found.record.sse.as_ref(), &customer)?;
            Ok(found)
        })?;
        let record = &found.record;
        let has = |name: &str| wanted.contains(&name);
        Ok(GetObjectAttributesOutput {
            last_modified: Some(Timestamp::from_millis(record.last_modified)),
            version_id: found.version_id.clone(),
            // This answer, unlike every other, gives the ETag without its quotes.
            e_tag: has("ETag").then(|| record.etag.trim_matches('"').to_string()),
            checksum: if has("Checksum") { checksum(record) } else { None },
            object_parts: if has("ObjectParts") {
                parts(record, input.max_parts, input.part_number_marker)
            } else {
                None
            },
            storage_class: has("StorageClass")
                .then(|| record.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
            object_size: if has("ObjectSize") { i64::try_from(record.size).ok() } else { None },
            ..Default::default()
        })
    }
}

fn checksum(record: &ObjectRecord) -> Option<Checksum> {
    record.checksum.as_ref()?;
    let mut out = Checksum::default();
    crate::objects::set_checksum!(out, record);
    Some(out)
}

/// The parts of a multipart object, a page at a time. Parts are listed one by one only
/// where they carry checksums; otherwise S3 reports their count alone.
fn parts(record: &ObjectRecord, max_parts: Option<i32>, marker: Option<i32>) -> Option<GetObjectAttributesParts> {
    if record.parts.is_empty() {
        return None;
    }
    let total = i32::try_from(record.parts.len()).ok();
    let algorithm = record.checksum.as_ref().map(|(a, _)| a.as_str());
    if algorithm.is_none() || record.parts.iter().all(|p| p.checksum.is_none()) {
        return Some(GetObjectAttributesParts {
            total_parts_count: total,
            ..Default::default()
        });
    }
    let max = max_parts.unwrap_or(DEFAULT_MAX_PARTS).clamp(0, DEFAULT_MAX_PARTS);
    let after = marker.unwrap_or(0).max(0);
    let listed: Vec<ObjectPart> = record
        .parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| i32::try_from(i + 1).ok().map(|n| (n, p)))
        .filter(|(n, _)| *n > after)
        .take(usize::try_from(max).unwrap_or(0))
        .map(|(n, p)| {
            let mut part = ObjectPart {
                part_number: Some(n),
                size: i64::try_from(p.size).ok(),
                ..Default::default()
            };
            let value = p.checksum.clone();
            match algorithm {
                Some("CRC32") => part.checksum_crc32 = value,
                Some("CRC32C") => part.checksum_crc32_c = value,
                Some("CRC64NVME") => part.checksum_crc64_nvme = value,
                Some("SHA1") => part.checksum_sha1 = value,
                Some("SHA256") => part.checksum_sha256 = value,
                _ => {}
            }
            part
        })
        .collect();
    let last = listed.last().and_then(|p| p.part_number);
    let truncated = last.is_some_and(|l| total.is_some_and(|t| l < t));
    Some(GetObjectAttributesParts {
        total_parts_count: total,
        part_number_marker: Some(after),
        next_part_number_marker: last.or(Some(after)),
        max_parts: Some(max),
        is_truncated: Some(truncated),
        parts: Some(listed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::PartRecord;

    fn multipart(with_checksums: bool) -> ObjectRecord {
        ObjectRecord {
            size: 15,
            checksum: Some(("CRC32".into(), "AAAAAA==-3".into())),
            parts: (0..3)
                .map(|i| PartRecord {
                    size: 5,
                    etag: format!("\"{i}\""),
                    checksum: with_checksums.then(|| format!("c{i}")),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn parts_are_paged_when_they_carry_checksums() {
        let p = parts(&multipart(true), Some(2), None).unwrap();
        assert_eq!((p.total_parts_count, p.is_truncated, p.next_part_number_marker), (Some(3), Some(true), Some(2)));
        let listed = p.parts.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].checksum_crc32.as_deref(), Some("c1"));
        let rest = parts(&multipart(true), Some(2), Some(2)).unwrap();
        assert_eq!((rest.is_truncated, rest.parts.map(|p| p.len())), (Some(false), Some(1)));
        let bare = parts(&multipart(false), None, None).unwrap();
        assert_eq!((bare.total_parts_count, bare.parts.is_none()), (Some(3), true));
        assert!(parts(&ObjectRecord::default(), None, None).is_none());
    }
}
