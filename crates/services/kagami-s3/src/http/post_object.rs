//! PostObject: a browser uploads through an HTML form (POST of `multipart/form-data`
//! to the bucket URL), authorised by a signed POST policy
//! (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html,
//! https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
//! Fields come first and are held in memory; the file, which comes last, streams to
//! disk and is written as PutObject writes.

use super::encode_key;
use super::form::{FormError, FormReader};
use crate::blobs::BodySource;
use crate::body::{self, MAX_PUT_SIZE};
use crate::checksums::{self, Algorithm, Declared};
use crate::errors::*;
use crate::generated::Tagging;
use crate::object_acl::AclHeaders;
use crate::object_tagging;
use crate::new_object_headers::NewObjectHeaders;
use crate::objects::reported_version;
use crate::persistence::{ObjectRecord, SseRecord};
use crate::sse::{self, Customer};
use crate::state::S3;
use crate::write_settings::{WriteHeaders, WriteSettings};
use indexmap::IndexMap;
use kagami_protocol::FromValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::service::{HttpSurfaceRequest, PostSignature};
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use kagami_protocol::HttpResponse;
use serde_json::Value as Json;

/// Largest value of one form field (AWS allows 20 KB of fields in all; policies with
/// many conditions come close).
const MAX_FIELD: usize = 64 * 1024;
/// Fields the policy need not mention.
const EXEMPT_FIELDS: &[&str] = &[
    "policy",
    "x-amz-signature",
    "signature",
    "awsaccesskeyid",
    "file",
    "bucket",
];
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// How much of a refused upload is read (and dropped) before answering.
const MAX_DRAIN: u64 = 64 * 1024 * 1024;

/// The form fields before the file, names as sent.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn form_error(e: FormError) -> ServiceError {
    match e {
        FormError::Read | FormError::Truncated => incomplete_body(),
        FormError::FieldTooLarge(name) => ServiceError::new(
            "MaxPostPreDataLengthExceeded",
            400,
            "Your POST request fields preceeding the upload file was too large.",
        )
        .with_field("FieldName", name),
        other => ServiceError::new(
            "MalformedPOSTRequest",
            400,
            format!(
                "The body of your POST request is not well-formed multipart/form-data. ({other})"
            ),
        ),
    }
}

fn policy_denied(detail: &str) -> ServiceError {
    ServiceError::new(
        "AccessDenied",
        403,
        format!("Invalid according to Policy: {detail}"),
    )
}

/// Handles the upload.
pub async fn post_object(
    s3: &S3,
    ctx: &RequestContext,
    req: HttpSurfaceRequest,
) -> Result<HttpResponse, ServiceError> {
    let mut req = req;
    let bucket = req.bucket.clone();
    if !s3.buckets.read().contains_key(&bucket) {
        return Err(no_such_bucket(&bucket));
    }
    let content_type = req.header("content-type").unwrap_or("").to_string();
    let stream = req.body.take().unwrap_or_default();
    let mut reader = FormReader::new(stream, &content_type).map_err(form_error)?;
    let mut fields = Fields(Vec::new());
    let file_head = loop {
        match reader.next_part().await.map_err(form_error)? {
            None => {
                return Err(invalid_argument_post(
                    "POST requires exactly one file upload per request.",
                    "file",
                    "0",
                ));
            }
            Some(head) if head.name.eq_ignore_ascii_case("file") => break head,
            Some(head) => {
                let value = reader
                    .read_value(&head.name, MAX_FIELD)
                    .await
                    .map_err(form_error)?;
                fields
                    .0
                    .push((head.name, String::from_utf8_lossy(&value).into_owned()));
            }
        }
    };
    let (key, caller, length_range) = match authorize(ctx, &req, &fields, &file_head, &bucket) {
        Ok(checked) => checked,
        Err(e) => {
            // Read what the client is still sending, so that it gets to read the answer
            // instead of a reset connection.
            reader.drain(MAX_DRAIN).await;
            return Err(e);
        }
    };

    // Tags, ACL, encryption and checksum fields are checked before the file arrives.
    let write = match form_write(s3, &caller, &bucket, &fields) {
        Ok(w) => w,
        Err(e) => {
            reader.drain(MAX_DRAIN).await;
            return Err(e);
        }
    };

    let temp = s3.blobs.temp_path();
    let algorithms = write.declared.to_compute(&[checksums::DEFAULT]);
    let received = match body::receive_hashing(
        reader.into_part_stream(),
        Some(false),
        &temp,
        MAX_PUT_SIZE,
        &algorithms,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
    };
    if let Some((min, max)) = length_range {
        let size = received.size;
        let e = if size > max {
            Some(
                ServiceError::new(
                    "EntityTooLarge",
                    400,
                    "Your proposed upload exceeds the maximum allowed size",
                )
                .with_field("ProposedSize", size.to_string())
                .with_field("MaxSizeAllowed", max.to_string()),
            )
        } else if size < min {
            Some(
                ServiceError::new(
                    "EntityTooSmall",
                    400,
                    "Your proposed upload is smaller than the minimum allowed size",
                )
                .with_field("ProposedSize", size.to_string())
                .with_field("MinSizeAllowed", min.to_string()),
            )
        } else {
            None
        };
        if let Some(e) = e {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
    }
    let staged = BodySource::File(temp.clone());
    let checksum = match checksums::verify_object(&write.declared, &received, &staged).await {
        Ok(c) => c,
        Err(e) => {
            staged.discard().await;
            return Err(e);
        }
    };
    let file = kagami_core::ids::uuid_v4();
    if let Err(e) = s3.blobs.commit(&staged, &file).await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(io_error("storing the object body", &e));
    }
    let record = ObjectRecord {
        bucket: bucket.clone(),
        key: key.clone(),
        file: file.clone(),
        size: received.size,
        etag: format!("\"{}\"", hex::encode(received.md5)),
        last_modified: clock::now_millis(),
        owner: caller.account_id.clone(),
        content_type: Some(
            fields
                .get("content-type")
                .unwrap_or(DEFAULT_CONTENT_TYPE)
                .to_string(),
        ),
        content_encoding: fields.get("content-encoding").map(str::to_string),
        content_disposition: fields.get("content-disposition").map(str::to_string),
        content_language: fields.get("content-language").map(str::to_string),
        cache_control: fields.get("cache-control").map(str::to_string),
        expires: fields.get("expires").map(str::to_string),
        website_redirect_location: fields
            .get("x-amz-website-redirect-location")
            .map(str::to_string),
        storage_class: fields
            .get("x-amz-storage-class")
            .filter(|c| *c != "STANDARD")
            .map(str::to_string),
        metadata: write.metadata,
        checksum: Some(checksum),
        checksum_type: Some("FULL_OBJECT".to_string()),
        sse: Some(write.encryption),
        tags: write.settings.tags,
        lock: write.settings.lock,
        acl: write.settings.acl,
        ..Default::default()
    };
    let seq = s3.next_seq();
    let written = s3
        .with_bucket_mut(&caller, &bucket, |b| {
            let w = b.write_version(record, seq);
            let version_id = reported_version(b, &w.stored);
            Ok(((w.stored, version_id), w.ops, w.orphaned))
        })
        .await;
    let (stored, version_id) = match written {
        Ok(w) => w,
        Err(e) => {
            s3.blobs.remove(&file);
            return Err(e);
        }
    };
    Ok(success(&req, &fields, &stored, version_id.as_deref()))
}

/// What the form's fields set on the new version besides its body and metadata.
struct FormWrite {
    metadata: IndexMap<String, String>,
    settings: WriteSettings,
    encryption: SseRecord,
    declared: Declared,
}

/// The form's `tagging` (an XML `Tagging` document, unlike PutObject's header), `acl`,
/// `x-amz-server-side-encryption*` and `x-amz-checksum-*` fields, checked as PutObject
/// checks its headers.
fn form_write(
    s3: &S3,
    caller: &RequestContext,
    bucket: &str,
    fields: &Fields,
) -> Result<FormWrite, ServiceError> {
    let declared = Declared::new(
        Algorithm::ALL.map(|a| fields.get(&format!("x-amz-checksum-{}", a.lower()))),
        fields.get("x-amz-checksum-algorithm"),
    )?;
    let metadata: IndexMap<String, String> = fields
        .0
        .iter()
        .filter_map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            lower
                .strip_prefix("x-amz-meta-")
                .map(|m| (m.to_string(), v.clone()))
        })
        .collect();
    NewObjectHeaders {
        storage_class: fields.get("x-amz-storage-class"),
        metadata: Some(&metadata),
        website_redirect_location: fields.get("x-amz-website-redirect-location"),
    }
    .check()?;
    let tags = match fields.get("tagging") {
        Some(xml) => form_tags(xml)?,
        None => IndexMap::new(),
    };
    let requested = sse::Requested {
        algorithm: fields.get("x-amz-server-side-encryption"),
        kms_key_id: fields.get("x-amz-server-side-encryption-aws-kms-key-id"),
        bucket_key_enabled: fields
            .get("x-amz-server-side-encryption-bucket-key-enabled")
            .map(|v| v.trim().eq_ignore_ascii_case("true")),
        customer: Customer {
            algorithm: fields.get("x-amz-server-side-encryption-customer-algorithm"),
            key: fields.get("x-amz-server-side-encryption-customer-key"),
            key_md5: fields.get("x-amz-server-side-encryption-customer-key-MD5"),
        },
    };
    s3.with_bucket(caller, bucket, |b| {
        let encryption =
            sse::for_new_object(caller, &requested, b.config.get("Encryption").cloned())?;
        let mut settings = WriteSettings::resolve(
            b,
            &caller.account_id,
            WriteHeaders {
                acl: AclHeaders {
                    acl: fields.get("acl"),
                    ..Default::default()
                },
                ..Default::default()
            },
        )?;
        settings.tags = tags;
        Ok(FormWrite {
            metadata,
            settings,
            encryption,
            declared,
        })
    })
}

/// The tags of a form's `tagging` field.
fn form_tags(xml: &str) -> Result<IndexMap<String, String>, ServiceError> {
    let model = kagami_model::service("s3")
        .map(|s| s.model())
        .ok_or_else(|| ServiceError::internal("the S3 model is missing"))?;
    let tagging = match kagami_protocol::parse_xml_shape(model, "Tagging", xml.as_bytes())? {
        Some(v) => Tagging::from_value(v).map_err(|_| super::malformed_xml())?,
        None => return Err(super::malformed_xml()),
    };
    object_tagging::check_tags(
        tagging
            .tag_set
            .iter()
            .map(|t| (t.key.as_str(), t.value.as_str())),
    )?;
    Ok(tagging
        .tag_set
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect())
}

/// The key, the caller and the `content-length-range` (min, max) of an upload.
type Authorized = (String, RequestContext, Option<(u64, u64)>);

/// What an upload whose fields pass — a key, a valid credential, a policy the fields
/// satisfy — may write.
fn authorize(
    ctx: &RequestContext,
    req: &HttpSurfaceRequest,
    fields: &Fields,
    file_head: &super::form::PartHead,
    bucket: &str,
) -> Result<Authorized, ServiceError> {
    let Some(key_template) = fields.get("key") else {
        return Err(invalid_argument_post(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
            "key",
            "",
        ));
    };
    let filename = file_head.filename.clone().unwrap_or_default();
    let key = key_template.replace("${filename}", &filename);

    // Who uploads: the form's credential, checked by the gateway; anonymous without one.
    let mut caller = ctx.clone();
    // SigV4 forms name a credential scope; version 2 forms (boto3's default) only a key.
    let signed = match (fields.get("x-amz-credential"), fields.get("awsaccesskeyid")) {
        (Some(credential), _) => Some((credential, fields.get("x-amz-signature"))),
        (None, Some(key)) => Some((key, fields.get("signature"))),
        (None, None) => None,
    };
    if let Some((credential, signature)) = signed {
        let signature = PostSignature {
            credential,
            policy: fields.get("policy").unwrap_or(""),
            signature: signature.unwrap_or(""),
            security_token: fields.get("x-amz-security-token"),
        };
        if let Some(check) = &req.post_credentials {
            caller.account_id = check(&signature)?;
        }
    }
    let length_range = match fields.get("policy") {
        Some(policy) => check_policy(policy, fields, bucket, &key)?,
        None => None,
    };
    Ok((key, caller, length_range))
}

fn invalid_argument_post(message: &str, name: &str, value: &str) -> ServiceError {
    super::invalid_argument(message, name, value)
}

/// The answer AWS gives an accepted upload: a redirect to `success_action_redirect`,
/// or the status `success_action_status` names (204 by default; 201 with a document).
fn success(
    req: &HttpSurfaceRequest,
    fields: &Fields,
    stored: &ObjectRecord,
    version_id: Option<&str>,
) -> HttpResponse {
    let host = req.header("host").unwrap_or("localhost:4566");
    let location = if req.virtual_host {
        format!("http://{host}/{}", encode_key(&stored.key))
    } else {
        format!(
            "http://{host}/{}/{}",
            stored.bucket,
            encode_key(&stored.key)
        )
    };
    let mut headers = vec![
        ("ETag".to_string(), stored.etag.clone()),
        ("Location".to_string(), location.clone()),
    ];
    if let Some(v) = version_id {
        headers.push(("x-amz-version-id".to_string(), v.to_string()));
    }
    if let Some(sse) = &stored.sse {
        for (name, value) in [
            ("x-amz-server-side-encryption", &sse.algorithm),
            ("x-amz-server-side-encryption-aws-kms-key-id", &sse.kms_key_id),
            ("x-amz-server-side-encryption-customer-algorithm", &sse.customer_algorithm),
            ("x-amz-server-side-encryption-customer-key-MD5", &sse.customer_key_md5),
        ] {
            if let Some(v) = value {
                headers.push((name.to_string(), v.clone()));
            }
        }
        if sse.bucket_key_enabled == Some(true) {
            headers.push((
                "x-amz-server-side-encryption-bucket-key-enabled".to_string(),
                "true".to_string(),
            ));
        }
    }
    let redirect = fields
        .get("success_action_redirect")
        .or_else(|| fields.get("redirect"))
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"));
    if let Some(target) = redirect {
        let separator = if target.contains('?') { '&' } else { '?' };
        let to = format!(
            "{target}{separator}bucket={}&key={}&etag={}",
            encode_key(&stored.bucket),
            encode_key(&stored.key),
            encode_key(&stored.etag)
        );
        headers.retain(|(k, _)| k != "Location");
        headers.push(("Location".to_string(), to));
        return HttpResponse::full(303, headers, bytes::Bytes::new());
    }
    match fields.get("success_action_status") {
        Some("200") => HttpResponse::full(200, headers, bytes::Bytes::new()),
        Some("201") => {
            // PostResponse is not in the service model: this is its documented form.
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
                xml_escape(&location),
                xml_escape(&stored.bucket),
                xml_escape(&stored.key),
                xml_escape(&stored.etag)
            );
            headers.push(("Content-Type".to_string(), "application/xml".to_string()));
            HttpResponse::full(201, headers, body.into())
        }
        _ => HttpResponse::full(204, headers, bytes::Bytes::new()),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Checks the policy's expiration and conditions against the fields; returns the
/// `content-length-range` to check once the file has arrived.
fn check_policy(
    policy_b64: &str,
    fields: &Fields,
    bucket: &str,
    key: &str,
) -> Result<Option<(u64, u64)>, ServiceError> {
    let invalid_policy = |detail: &str| {
        ServiceError::new(
            "InvalidPolicyDocument",
            400,
            format!("Invalid Policy: {detail}"),
        )
    };
    let decoded = STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid_policy("Invalid 'POST' form data: policy is not base64."))?;
    let policy: Json =
        serde_json::from_slice(&decoded).map_err(|_| invalid_policy("Invalid JSON."))?;
    let expiration = policy
        .get("expiration")
        .and_then(Json::as_str)
        .ok_or_else(|| invalid_policy("Policy missing expiration."))?;
    let expires = Timestamp::parse_iso8601(expiration)
        .map_err(|_| invalid_policy(&format!("Invalid 'expiration' value: '{expiration}'")))?;
    if clock::now_millis() > expires.as_millis() {
        return Err(policy_denied("Policy expired."));
    }
    let conditions = policy
        .get("conditions")
        .and_then(Json::as_array)
        .ok_or_else(|| invalid_policy("Policy missing conditions."))?;
    let value_of = |name: &str| -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "bucket" => Some(bucket.to_string()),
            "key" => Some(key.to_string()),
            other => fields.get(other).map(str::to_string),
        }
    };
    let mut covered: Vec<String> = Vec::new();
    let mut length_range = None;
    for condition in conditions {
        match condition {
            Json::Object(map) => {
                for (name, expected) in map {
                    let expected = expected.as_str().unwrap_or_default();
                    covered.push(name.to_ascii_lowercase());
                    if value_of(name).as_deref() != Some(expected) {
                        return Err(condition_failed("eq", name, expected));
                    }
                }
            }
            Json::Array(items) => {
                let op = items.first().and_then(Json::as_str).unwrap_or_default();
                if op.eq_ignore_ascii_case("content-length-range") {
                    let bound = |i: usize| {
                        items
                            .get(i)
                            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    };
                    let (Some(min), Some(max)) = (bound(1), bound(2)) else {
                        return Err(invalid_policy("Invalid content-length-range condition."));
                    };
                    length_range = Some((min, max));
                    continue;
                }
                let (Some(field), Some(expected)) = (
                    items.get(1).and_then(Json::as_str),
                    items.get(2).and_then(Json::as_str),
                ) else {
                    return Err(invalid_policy("Invalid condition."));
                };
                let name = field.strip_prefix('$').unwrap_or(field);
                covered.push(name.to_ascii_lowercase());
                let actual = value_of(name).unwrap_or_default();
                let holds = if op.eq_ignore_ascii_case("eq") {
                    actual == expected
                } else if op.eq_ignore_ascii_case("starts-with") {
                    actual.starts_with(expected)
                } else {
                    return Err(invalid_policy(&format!("Invalid condition operator: {op}")));
                };
                if !holds {
                    return Err(condition_failed(op, name, expected));
                }
            }
            _ => return Err(invalid_policy("Invalid condition.")),
        }
    }
    // Every field must be named by a condition (AWS: "Extra input fields").
    for (name, _) in &fields.0 {
        let lower = name.to_ascii_lowercase();
        if EXEMPT_FIELDS.contains(&lower.as_str())
            || lower.starts_with("x-ignore-")
            || covered.contains(&lower)
        {
            continue;
        }
        return Err(policy_denied(&format!("Extra input fields: {lower}")));
    }
    Ok(length_range)
}

fn condition_failed(op: &str, name: &str, expected: &str) -> ServiceError {
    policy_denied(&format!(
        "Policy Condition failed: [\"{op}\", \"${name}\", \"{expected}\"]"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn policy(json: serde_json::Value) -> String {
        STANDARD.encode(json.to_string())
    }

    #[test]
    fn conditions_are_checked_against_the_fields() {
        let p = policy(serde_json::json!({
            "expiration": "2999-01-01T00:00:00Z",
            "conditions": [{"bucket": "b"}, ["starts-with", "$key", "user/"], ["content-length-range", 1, 10]]
        }));
        let f = fields(&[("key", "user/a"), ("policy", &p)]);
        assert_eq!(check_policy(&p, &f, "b", "user/a").unwrap(), Some((1, 10)));
        let e = check_policy(&p, &f, "b", "other/a").unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(
            e.message,
            "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"user/\"]"
        );
        let extra = fields(&[("key", "user/a"), ("Content-Type", "text/plain")]);
        assert_eq!(
            check_policy(&p, &extra, "b", "user/a").unwrap_err().message,
            "Invalid according to Policy: Extra input fields: content-type"
        );
    }

    #[test]
    fn an_expired_policy_is_refused() {
        let p = policy(serde_json::json!({"expiration": "2000-01-01T00:00:00Z", "conditions": []}));
        let e = check_policy(&p, &fields(&[]), "b", "k").unwrap_err();
        assert_eq!(e.status, 403);
        assert_eq!(e.message, "Invalid according to Policy: Policy expired.");
    }

    #[test]
    fn keys_are_encoded_for_locations() {
        assert_eq!(encode_key("a b/c+d.txt"), "a%20b/c%2Bd.txt");
    }
}
