//! Static website hosting: PutBucketWebsite / GetBucketWebsite / DeleteBucketWebsite,
//! and the website endpoint that serves a bucket anonymously — index documents,
//! error documents, object redirects, routing rules and RedirectAllRequestsTo
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteHosting.html).
//! Website endpoints answer errors as HTML pages, not XML.

use super::{encode_key, html, invalid_argument, invalid_request, malformed_xml};
use crate::errors::{no_such_bucket, no_such_key};
use crate::generated::*;
use crate::objects::find_version;
use crate::persistence::ObjectRecord;
use crate::state::S3;
use kagami_core::service::HttpSurfaceRequest;
use kagami_core::{RequestContext, ServiceError, Timestamp};
use kagami_protocol::{FromValue, HttpResponse, IntoValue, StreamSlot};

/// Name of the configuration document in the bucket's config store.
pub const CONFIG: &str = "Website";
/// A website configuration holds at most 50 routing rules.
const MAX_ROUTING_RULES: usize = 50;
const BAD_PROTOCOL: &str = "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.";

impl S3 {
    pub async fn put_bucket_website(
        &self,
        ctx: &RequestContext,
        input: PutBucketWebsiteRequest,
    ) -> Result<(), ServiceError> {
        validate(&input.website_configuration)?;
        let value = input.website_configuration.into_value();
        self.set_bucket_config(ctx, &input.bucket, CONFIG, Some(value))
            .await
    }

    pub fn get_bucket_website(
        &self,
        ctx: &RequestContext,
        input: &GetBucketWebsiteRequest,
    ) -> Result<GetBucketWebsiteOutput, ServiceError> {
        let value = self
            .bucket_config(ctx, &input.bucket, CONFIG)?
            .ok_or_else(|| no_such_website_configuration(&input.bucket))?;
        let c = WebsiteConfiguration::from_value(value)
            .map_err(|e| ServiceError::internal(format!("stored website configuration: {e}")))?;
        Ok(GetBucketWebsiteOutput {
            redirect_all_requests_to: c.redirect_all_requests_to,
            index_document: c.index_document,
            error_document: c.error_document,
            routing_rules: c.routing_rules,
        })
    }

    pub async fn delete_bucket_website(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketWebsiteRequest,
    ) -> Result<(), ServiceError> {
        self.set_bucket_config(ctx, &input.bucket, CONFIG, None)
            .await
    }
}

pub fn no_such_website_configuration(bucket: &str) -> ServiceError {
    ServiceError::new(
        "NoSuchWebsiteConfiguration",
        404,
        "The specified bucket does not have a website configuration",
    )
    .with_field("BucketName", bucket)
}

fn check_protocol(protocol: Option<&str>) -> Result<(), ServiceError> {
    match protocol {
        None | Some("http") | Some("https") => Ok(()),
        Some(_) => Err(invalid_request(BAD_PROTOCOL)),
    }
}

fn validate(c: &WebsiteConfiguration) -> Result<(), ServiceError> {
    if let Some(all) = &c.redirect_all_requests_to {
        if c.index_document.is_some() || c.error_document.is_some() || c.routing_rules.is_some() {
            return Err(invalid_argument(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                "RedirectAllRequestsTo",
                "not null",
            ));
        }
        if all.host_name.is_empty() {
            return Err(malformed_xml());
        }
        return check_protocol(all.protocol.as_deref());
    }
    let Some(index) = &c.index_document else {
        return Err(invalid_argument(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
            "IndexDocument",
            "null",
        ));
    };
    if index.suffix.is_empty() || index.suffix.contains('/') {
        return Err(invalid_argument(
            "The IndexDocument Suffix is not well formed",
            "IndexDocument",
            &index.suffix,
        ));
    }
    if c.error_document.as_ref().is_some_and(|e| e.key.is_empty()) {
        return Err(malformed_xml());
    }
    if let Some(rules) = &c.routing_rules {
        if rules.is_empty() || rules.len() > MAX_ROUTING_RULES {
            return Err(malformed_xml());
        }
        for rule in rules {
            let r = &rule.redirect;
            if r.replace_key_prefix_with.is_some() && r.replace_key_with.is_some() {
                return Err(invalid_request(
                    "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
                ));
            }
            if rule.condition.as_ref().is_some_and(|c| {
                c.key_prefix_equals.is_none() && c.http_error_code_returned_equals.is_none()
            }) {
                return Err(invalid_request(
                    "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.",
                ));
            }
            check_protocol(r.protocol.as_deref())?;
        }
    }
    Ok(())
}

/// What the endpoint found for a key.
// One short-lived value per lookup: boxing either variant would cost more than it saves.
#[allow(clippy::large_enum_variant)]
enum Lookup {
    Object(ObjectRecord, crate::blobs::Opened),
    Missing(ServiceError),
}

/// The body and headers of a website response for an object.
async fn object_response(
    status: u16,
    record: &ObjectRecord,
    file: crate::blobs::Opened,
    request_id: &str,
) -> HttpResponse {
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            record
                .content_type
                .clone()
                .unwrap_or_else(|| "binary/octet-stream".into()),
        ),
        ("Content-Length".to_string(), record.size.to_string()),
        ("ETag".to_string(), record.etag.clone()),
        (
            "Last-Modified".to_string(),
            Timestamp::from_millis(record.last_modified).to_rfc822(),
        ),
    ];
    for (name, value) in [
        ("Content-Encoding", &record.content_encoding),
        ("Content-Disposition", &record.content_disposition),
        ("Content-Language", &record.content_language),
        ("Cache-Control", &record.cache_control),
        ("Expires", &record.expires),
    ] {
        if let Some(v) = value {
            headers.push((name.to_string(), v.clone()));
        }
    }
    for (k, v) in &record.metadata {
        headers.push((format!("x-amz-meta-{k}"), v.clone()));
    }
    let stream =
        match crate::body::read_body(file, 0, record.size).await {
            Ok(s) => s,
            Err(e) => return html::error_page(&e, request_id, None),
        };
    HttpResponse {
        status,
        headers,
        body: bytes::Bytes::new(),
        stream: Some(StreamSlot::new(stream)),
    }
}

fn redirect(status: u16, location: &str) -> HttpResponse {
    HttpResponse::full(
        status,
        vec![
            ("Location".to_string(), location.to_string()),
            ("Content-Length".to_string(), "0".to_string()),
        ],
        bytes::Bytes::new(),
    )
}

fn method_not_allowed(method: &str) -> ServiceError {
    ServiceError::new(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
    )
    .with_field("Method", method)
    .with_field("ResourceType", "OBJECT")
}

/// Serves a request to the bucket's website endpoint.
pub async fn serve(s3: &S3, ctx: &RequestContext, req: &HttpSurfaceRequest) -> HttpResponse {
    let page = |e: &ServiceError| html::error_page(e, &ctx.request_id, None);
    if req.method != "GET" && req.method != "HEAD" {
        return page(&method_not_allowed(&req.method));
    }
    let config = {
        let buckets = s3.buckets.read();
        let Some(bucket) = buckets.get(&req.bucket) else {
            return page(&no_such_bucket(&req.bucket));
        };
        bucket.config.get(CONFIG).cloned()
    };
    let Some(config) = config.and_then(|v| WebsiteConfiguration::from_value(v).ok()) else {
        return page(&no_such_website_configuration(&req.bucket));
    };
    let host = req.header("host").unwrap_or("");
    if let Some(all) = &config.redirect_all_requests_to {
        let protocol = all.protocol.as_deref().unwrap_or("http");
        return redirect(
            301,
            &format!("{protocol}://{}/{}", all.host_name, encode_key(&req.key)),
        );
    }
    let rules = config.routing_rules.as_deref().unwrap_or(&[]);
    if let Some(rule) = rules.iter().find(|r| rule_applies(r, &req.key, None)) {
        return routing_redirect(rule, &req.key, host);
    }
    let suffix = config
        .index_document
        .as_ref()
        .map(|i| i.suffix.as_str())
        .unwrap_or("index.html");
    let key = if req.key.is_empty() || req.key.ends_with('/') {
        format!("{}{suffix}", req.key)
    } else {
        req.key.clone()
    };
    let missing = match lookup(s3, &req.bucket, &key) {
        Lookup::Object(record, file) => {
            if let Some(location) = &record.website_redirect_location {
                return redirect(301, location);
            }
            return object_response(200, &record, file, &ctx.request_id).await;
        }
        Lookup::Missing(e) => e,
    };
    // `dir` without its slash: S3 sends the browser to `dir/` when `dir/<index>` exists.
    if !req.key.is_empty()
        && !req.key.ends_with('/')
        && matches!(
            lookup(s3, &req.bucket, &format!("{}/{suffix}", req.key)),
            Lookup::Object(..)
        )
    {
        return redirect(302, &format!("/{}/", encode_key(&req.key)));
    }
    let status = missing.status;
    if let Some(rule) = rules
        .iter()
        .find(|r| rule_applies(r, &req.key, Some(status)))
    {
        return routing_redirect(rule, &req.key, host);
    }
    let Some(error_document) = &config.error_document else {
        return page(&missing);
    };
    match lookup(s3, &req.bucket, &error_document.key) {
        Lookup::Object(record, file) => {
            object_response(status, &record, file, &ctx.request_id).await
        }
        Lookup::Missing(doc_error) => html::error_page(&missing, &ctx.request_id, Some(&doc_error)),
    }
}

/// The current version of `key` and its open body file, or S3's error for it.
fn lookup(s3: &S3, bucket: &str, key: &str) -> Lookup {
    let buckets = s3.buckets.read();
    let Some(b) = buckets.get(bucket) else {
        return Lookup::Missing(no_such_bucket(bucket));
    };
    match find_version(b, key, None, false) {
        Ok(found) => match s3.blobs.open_body(&found.record.file) {
            Ok(file) => Lookup::Object(found.record, file),
            Err(_) => Lookup::Missing(no_such_key(key)),
        },
        Err(e) => Lookup::Missing(e),
    }
}

/// Whether a routing rule's condition holds: its key prefix (before the index document
/// is appended) and, once the lookup has failed, its error code.
fn rule_applies(rule: &RoutingRule, key: &str, error_status: Option<u16>) -> bool {
    let Some(c) = &rule.condition else {
        // A rule without a condition redirects every request.
        return true;
    };
    let prefix_ok = c
        .key_prefix_equals
        .as_deref()
        .is_none_or(|p| key.starts_with(p));
    match (&c.http_error_code_returned_equals, error_status) {
        (None, None) => prefix_ok,
        (Some(code), Some(status)) => prefix_ok && code.trim() == status.to_string(),
        _ => false,
    }
}

fn routing_redirect(rule: &RoutingRule, key: &str, request_host: &str) -> HttpResponse {
    let r = &rule.redirect;
    let protocol = r.protocol.as_deref().unwrap_or("http");
    let host = r.host_name.as_deref().unwrap_or(request_host);
    let new_key = if let Some(k) = &r.replace_key_with {
        k.clone()
    } else if let Some(with) = &r.replace_key_prefix_with {
        let prefix = rule
            .condition
            .as_ref()
            .and_then(|c| c.key_prefix_equals.as_deref())
            .unwrap_or("");
        format!("{with}{}", key.strip_prefix(prefix).unwrap_or(key))
    } else {
        key.to_string()
    };
    let status = r
        .http_redirect_code
        .as_deref()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| (300..400).contains(c))
        .unwrap_or(301);
    redirect(
        status,
        &format!("{protocol}://{host}/{}", encode_key(&new_key)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: Option<&str>, code: Option<&str>, redirect: Redirect) -> RoutingRule {
        RoutingRule {
            condition: Some(Condition {
                key_prefix_equals: prefix.map(str::to_string),
                http_error_code_returned_equals: code.map(str::to_string),
            }),
            redirect,
        }
    }

    #[test]
    fn routing_rules_replace_the_prefix_or_the_whole_key() {
        let r = rule(
            Some("docs/"),
            None,
            Redirect {
                replace_key_prefix_with: Some("documents/".into()),
                ..Default::default()
            },
        );
        assert!(rule_applies(&r, "docs/a.html", None));
        assert!(!rule_applies(&r, "img/a.png", None));
        let resp = routing_redirect(&r, "docs/a.html", "site.s3-website.localhost:4566");
        assert_eq!(resp.status, 301);
        assert_eq!(
            resp.header("Location"),
            Some("http://site.s3-website.localhost:4566/documents/a.html")
        );
        let r = rule(
            None,
            Some("404"),
            Redirect {
                host_name: Some("example.com".into()),
                protocol: Some("https".into()),
                replace_key_with: Some("missing.html".into()),
                http_redirect_code: Some("302".into()),
                ..Default::default()
            },
        );
        assert!(
            !rule_applies(&r, "x", None),
            "error-code rules wait for the lookup"
        );
        assert!(rule_applies(&r, "x", Some(404)));
        assert!(!rule_applies(&r, "x", Some(403)));
        let resp = routing_redirect(&r, "x", "h");
        assert_eq!(resp.status, 302);
        assert_eq!(
            resp.header("Location"),
            Some("https://example.com/missing.html")
        );
    }

    #[test]
    fn an_index_document_is_required_unless_all_requests_redirect() {
        let e = validate(&WebsiteConfiguration::default()).unwrap_err();
        assert_eq!(e.code, "InvalidArgument");
        assert_eq!(
            e.message,
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"
        );
        let nested = WebsiteConfiguration {
            index_document: Some(IndexDocument {
                suffix: "a/index.html".into(),
            }),
            ..Default::default()
        };
        assert_eq!(
            validate(&nested).unwrap_err().message,
            "The IndexDocument Suffix is not well formed"
        );
        let all = WebsiteConfiguration {
            redirect_all_requests_to: Some(RedirectAllRequestsTo {
                host_name: "example.com".into(),
                protocol: None,
            }),
            ..Default::default()
        };
        assert!(validate(&all).is_ok());
    }
}
