//! ListParts and ListMultipartUploads, paginated as S3 paginates them.

use super::Upload;
use super::create::initiator_id;
use crate::errors::invalid_encoding_type;
use crate::generated::*;
use crate::state::{S3, canonical_user_id};
use kagami_core::{RequestContext, ServiceError, Timestamp};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Most entries in one page (AWS: 1000 for both listings).
const MAX_PAGE: usize = 1000;

/// What `encoding-type=url` leaves as it is: RFC 3986's unreserved characters and `/`.
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A key as S3 lists it: percent-encoded under `encoding-type=url`.
pub fn encode_key(key: &str, url: bool) -> String {
    if url {
        utf8_percent_encode(key, URL_KEEP).to_string()
    } else {
        key.to_string()
    }
}

fn page_size(asked: Option<i32>, name: &str) -> Result<usize, ServiceError> {
    match asked {
        None => Ok(MAX_PAGE),
        Some(n) if n < 0 => Err(ServiceError::new(
            "InvalidArgument",
            400,
            format!("Argument {name} must be an integer between 0 and 2147483647"),
        )
        .with_field("ArgumentName", name)
        .with_field("ArgumentValue", n.to_string())),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
    }
}

fn initiator(upload: &Upload) -> Initiator {
    Initiator {
        id: Some(initiator_id(&upload.initiator, &upload.owner)),
        display_name: None,
    }
}

fn owner(upload: &Upload) -> Owner {
    Owner {
        id: Some(canonical_user_id(&upload.owner)),
        display_name: None,
    }
}

fn storage_class(upload: &Upload) -> String {
    upload
        .object
        .storage_class
        .clone()
        .unwrap_or_else(|| "STANDARD".to_string())
}

/// One entry of ListMultipartUploads: an upload, or a common prefix rolled up by the
/// delimiter.
enum Entry<'a> {
    Upload(&'a Upload),
    Prefix(String),
}

impl S3 {
    pub fn list_parts(
        &self,
        ctx: &RequestContext,
        input: &ListPartsRequest,
    ) -> Result<ListPartsOutput, ServiceError> {
        let limit = page_size(input.max_parts, "max-parts")?;
        let marker = input.part_number_marker.unwrap_or(0);
        self.with_bucket(ctx, &input.bucket, |b| {
            let upload = super::find_upload(b, &input.key, &input.upload_id)?;
            let algorithm = upload
                .checksum_algorithm
                .as_deref()
                .and_then(crate::checksums::Algorithm::parse);
            let mut after = upload
                .parts
                .range(marker.saturating_add(1)..)
                .map(|(_, p)| p);
            let mut parts = Vec::new();
            for p in after.by_ref().take(limit) {
                let mut part = Part {
                    part_number: Some(p.part_number),
                    last_modified: Some(Timestamp::from_millis(p.last_modified)),
                    e_tag: Some(p.etag.clone()),
                    size: i64::try_from(p.size).ok(),
                    ..Default::default()
                };
                if let Some((a, value)) = algorithm.zip(p.checksum.clone()) {
                    set_part_checksum!(part, a, value);
                }
                parts.push(part);
            }
            let truncated = after.next().is_some();
            let (abort_date, abort_rule_id) = super::abort_rule::abort_rule(b, upload).unzip();
            Ok(ListPartsOutput {
                abort_date,
                abort_rule_id,
                bucket: Some(input.bucket.clone()),
                key: Some(input.key.clone()),
                upload_id: Some(input.upload_id.clone()),
                part_number_marker: Some(marker),
                next_part_number_marker: parts.last().and_then(|p| p.part_number),
                max_parts: Some(i32::try_from(limit).unwrap_or(i32::MAX)),
                is_truncated: Some(truncated),
                parts: Some(parts),
                initiator: Some(initiator(upload)),
                owner: Some(owner(upload)),
                storage_class: Some(storage_class(upload)),
                checksum_algorithm: upload.checksum_algorithm.clone(),
                checksum_type: upload.checksum_type.clone(),
                ..Default::default()
            })
        })
    }

    pub fn list_multipart_uploads(
        &self,
        ctx: &RequestContext,
        input: &ListMultipartUploadsRequest,
    ) -> Result<ListMultipartUploadsOutput, ServiceError> {
        let limit = page_size(input.max_uploads, "max-uploads")?;
        let url = match input.encoding_type.as_deref() {
            None => false,
            Some(e) if e.eq_ignore_ascii_case("url") => true,
            Some(e) => return Err(invalid_encoding_type(e)),
        };
        let enc = |s: &str| encode_key(s, url);
        let prefix = input.prefix.as_deref().unwrap_or_default();
        let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
        let key_marker = input.key_marker.as_deref().filter(|k| !k.is_empty());
        // The upload id marker counts only with a key marker.
        let id_marker = key_marker.and(input.upload_id_marker.as_deref().filter(|u| !u.is_empty()));
        self.with_bucket(ctx, &input.bucket, |b| {
            let mut uploads: Vec<&Upload> = b
                .uploads
                .values()
                .filter(|u| u.key.starts_with(prefix))
                .collect();
            uploads.sort_by(|x, y| {
                (&x.key, x.initiated, &x.upload_id).cmp(&(&y.key, y.initiated, &y.upload_id))
            });
            // Where the marker upload sits among its key's uploads (by initiation).
            let marker_position = id_marker.and_then(|id| {
                uploads
                    .iter()
                    .find(|u| Some(u.key.as_str()) == key_marker && u.upload_id == id)
                    .map(|u| (u.initiated, u.upload_id.clone()))
            });
            let after_marker = |u: &Upload| match key_marker {
                None => true,
                Some(k) if u.key.as_str() > k => {
                    // A key marker that is a rolled-up prefix skips the keys under it.
                    !(delimiter.is_some_and(|d| k.ends_with(d)) && u.key.starts_with(k))
                }
                Some(k) if u.key == k => match (&marker_position, id_marker) {
                    (Some(pos), _) => (u.initiated, u.upload_id.clone()) > *pos,
                    (None, Some(id)) => u.upload_id.as_str() > id,
                    (None, None) => false,
                },
                Some(_) => false,
            };
            let mut entries: Vec<Entry> = Vec::new();
            let mut truncated = false;
            for u in uploads.into_iter().filter(|u| after_marker(u)) {
                let rolled = delimiter.and_then(|d| {
                    let rest = u.key.get(prefix.len()..)?;
                    let end = rest.find(d)? + d.len();
                    rest.get(..end).map(|rolled| format!("{prefix}{rolled}"))
                });
                if let Some(p) = &rolled
                    && matches!(entries.last(), Some(Entry::Prefix(last)) if last == p)
                {
                    continue;
                }
                if entries.len() == limit {
                    truncated = true;
                    break;
                }
                entries.push(match rolled {
                    Some(p) => Entry::Prefix(p),
                    None => Entry::Upload(u),
                });
            }
            let (next_key, next_id) = match entries.last() {
                Some(Entry::Upload(u)) => (Some(enc(&u.key)), Some(u.upload_id.clone())),
                Some(Entry::Prefix(p)) => (Some(enc(p)), None),
                None => (None, None),
            };
            let mut listed = Vec::new();
            let mut common = Vec::new();
            for e in entries {
                match e {
                    Entry::Upload(u) => listed.push(MultipartUpload {
                        upload_id: Some(u.upload_id.clone()),
                        key: Some(enc(&u.key)),
                        initiated: Some(Timestamp::from_millis(u.initiated)),
                        storage_class: Some(storage_class(u)),
                        owner: Some(owner(u)),
                        initiator: Some(initiator(u)),
                        checksum_algorithm: u.checksum_algorithm.clone(),
                        checksum_type: u.checksum_type.clone(),
                        ..Default::default()
                    }),
                    Entry::Prefix(p) => common.push(CommonPrefix {
                        prefix: Some(enc(&p)),
                    }),
                }
            }
            Ok(ListMultipartUploadsOutput {
                bucket: Some(input.bucket.clone()),
                key_marker: Some(enc(key_marker.unwrap_or_default())),
                upload_id_marker: Some(id_marker.unwrap_or_default().to_string()),
                next_key_marker: if truncated { next_key } else { None },
                next_upload_id_marker: if truncated { next_id } else { None },
                prefix: input.prefix.as_deref().map(enc),
                delimiter: input.delimiter.as_deref().map(enc),
                max_uploads: Some(i32::try_from(limit).unwrap_or(i32::MAX)),
                is_truncated: Some(truncated),
                uploads: (!listed.is_empty()).then_some(listed),
                common_prefixes: (!common.is_empty()).then_some(common),
                encoding_type: url.then(|| "url".to_string()),
                ..Default::default()
            })
        })
    }
}
