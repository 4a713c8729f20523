//! Bucket CORS: PutBucketCors / GetBucketCors / DeleteBucketCors, and the rules
//! applied to browser requests — preflights answered from the first matching rule,
//! actual requests given that rule's headers
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html).

use super::{invalid_request, malformed_xml};
use crate::errors::no_such_bucket;
use crate::generated::*;
use crate::state::S3;
use kagami_core::service::HttpSurfaceRequest;
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::{FromValue, HttpResponse, IntoValue};

/// Name of the configuration document in the bucket's config store.
pub const CONFIG: &str = "Cors";
/// A CORS configuration holds at most 100 rules.
const MAX_RULES: usize = 100;
/// The methods a rule may allow.
const METHODS: &[&str] = &["GET", "PUT", "HEAD", "POST", "DELETE"];

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

impl S3 {
    pub async fn put_bucket_cors(
        &self,
        ctx: &RequestContext,
        input: PutBucketCorsRequest,
    ) -> Result<(), ServiceError> {
        validate(&input.cors_configuration)?;
        let value = input.cors_configuration.into_value();
        self.set_bucket_config(ctx, &input.bucket, CONFIG, Some(value))
            .await
    }

    pub fn get_bucket_cors(
        &self,
        ctx: &RequestContext,
        input: &GetBucketCorsRequest,
    ) -> Result<GetBucketCorsOutput, ServiceError> {
        let value = self
            .bucket_config(ctx, &input.bucket, CONFIG)?
            .ok_or_else(|| no_such_cors_configuration(&input.bucket))?;
        let config = CORSConfiguration::from_value(value)
            .map_err(|e| ServiceError::internal(format!("stored CORS configuration: {e}")))?;
        Ok(GetBucketCorsOutput {
            cors_rules: Some(config.cors_rules),
        })
    }

    pub async fn delete_bucket_cors(
        &self,
        ctx: &RequestContext,
        input: &DeleteBucketCorsRequest,
    ) -> Result<(), ServiceError> {
        self.set_bucket_config(ctx, &input.bucket, CONFIG, None)
            .await
    }

    /// The bucket's rules, read without an owner check: browsers call anonymously.
    /// `Err(())` when the bucket does not exist.
    fn cors_rules(&self, bucket: &str) -> Result<Option<Vec<CORSRule>>, ()> {
        let buckets = self.buckets.read();
        let b = buckets.get(bucket).ok_or(())?;
        Ok(b.config
            .get(CONFIG)
            .cloned()
            .and_then(|v: Value| CORSConfiguration::from_value(v).ok())
            .map(|c| c.cors_rules))
    }
}

pub fn no_such_cors_configuration(bucket: &str) -> ServiceError {
    ServiceError::new(
        "NoSuchCORSConfiguration",
        404,
        "The CORS configuration does not exist",
    )
    .with_field("BucketName", bucket)
}

fn validate(config: &CORSConfiguration) -> Result<(), ServiceError> {
    if config.cors_rules.is_empty() || config.cors_rules.len() > MAX_RULES {
        return Err(malformed_xml());
    }
    for rule in &config.cors_rules {
        if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
            return Err(malformed_xml());
        }
        if let Some(m) = rule
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(invalid_request(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        for origin in &rule.allowed_origins {
            if origin.matches('*').count() > 1 {
                return Err(invalid_request(format!(
                    "AllowedOrigin \"{origin}\" can not have more than one wildcard."
                )));
            }
        }
        for header in rule.allowed_headers.iter().flatten() {
            if header.matches('*').count() > 1 {
                return Err(invalid_request(format!(
                    "AllowedHeader \"{header}\" can not have more than one wildcard."
                )));
            }
        }
        if let Some(h) = rule
            .expose_headers
            .iter()
            .flatten()
            .find(|h| h.contains('*'))
        {
            return Err(invalid_request(format!(
                "ExposeHeader \"{h}\" contains wildcard. We currently do not support wildcard for ExposeHeader."
            )));
        }
    }
    Ok(())
}

/// `pattern` with at most one `*` standing for any run of characters.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.starts_with(prefix)
                && value.ends_with(suffix)
        }
    }
}

/// The first rule that allows `origin`, `method` and every one of `headers`.
fn matching_rule<'r>(
    rules: &'r [CORSRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'r CORSRule> {
    rules.iter().find(|rule| {
        rule.allowed_origins
            .iter()
            .any(|o| wildcard_match(o, origin))
            && rule.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                rule.allowed_headers
                    .iter()
                    .flatten()
                    .any(|a| wildcard_match(&a.to_ascii_lowercase(), h))
            })
    })
}

/// The headers a matching rule gives, for a preflight or an actual request.
fn rule_headers(rule: &CORSRule, origin: &str) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(6);
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    if any_origin {
        out.push(("Access-Control-Allow-Origin".into(), "*".into()));
    } else {
        out.push(("Access-Control-Allow-Origin".into(), origin.to_string()));
        out.push(("Access-Control-Allow-Credentials".into(), "true".into()));
    }
    out.push((
        "Access-Control-Allow-Methods".into(),
        rule.allowed_methods.join(", "),
    ));
    if let Some(expose) = rule.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        out.push(("Access-Control-Expose-Headers".into(), expose.join(", ")));
    }
    if let Some(age) = rule.max_age_seconds {
        out.push(("Access-Control-Max-Age".into(), age.to_string()));
    }
    out
}

fn forbidden(message: &str, method: &str, resource_type: &str) -> ServiceError {
    ServiceError::new("AccessForbidden", 403, message)
        .with_field("Method", method)
        .with_field("ResourceType", resource_type)
}

fn bad_request(message: &str) -> ServiceError {
    ServiceError::new("BadRequest", 400, message)
}

/// Answers a preflight from the bucket's rules. `None` (the gateway's permissive CORS
/// answers) for a bucket without rules, or a missing bucket addressed path-style,
/// unless strict CORS is on.
pub fn preflight(s3: &S3, req: &HttpSurfaceRequest) -> Option<Result<HttpResponse, ServiceError>> {
    let method = req.header("access-control-request-method").unwrap_or("");
    let resource_type = if req.key.is_empty() {
        "BUCKET"
    } else {
        "OBJECT"
    };
    let rules = match s3.cors_rules(&req.bucket) {
        Ok(rules) => rules,
        // Path-style, a missing "bucket" may be another REST service's path (the gateway
        // serves them all on one port): it gets the permissive answer.
        Err(()) if req.strict_cors || req.virtual_host => {
            return Some(Err(no_such_bucket(&req.bucket)));
        }
        Err(()) => return None,
    };
    let Some(rules) = rules else {
        return req
            .strict_cors
            .then(|| Err(forbidden(NOT_ENABLED, method, resource_type)));
    };
    Some(answer_preflight(&rules, req, method, resource_type))
}

fn answer_preflight(
    rules: &[CORSRule],
    req: &HttpSurfaceRequest,
    method: &str,
    resource_type: &str,
) -> Result<HttpResponse, ServiceError> {
    let Some(origin) = req.header("origin") else {
        return Err(bad_request(
            "Insufficient information. Origin request header needed.",
        ));
    };
    if method.is_empty() {
        return Err(bad_request("Invalid Access-Control-Request-Method: null"));
    }
    let requested: Vec<String> = req
        .header("access-control-request-headers")
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let rule = matching_rule(rules, origin, method, &requested)
        .ok_or_else(|| forbidden(NOT_ALLOWED, method, resource_type))?;
    let mut headers = rule_headers(rule, origin);
    if !requested.is_empty() {
        headers.push(("Access-Control-Allow-Headers".into(), requested.join(", ")));
    }
    headers.push(("Vary".into(), PREFLIGHT_VARY.into()));
    headers.push(("Content-Length".into(), "0".into()));
    Ok(HttpResponse::full(200, headers, bytes::Bytes::new()))
}

/// The CORS headers for S3's answer to an actual request with `Origin`: `Some` (empty
/// when no rule matches) when the bucket has rules, `None` when it has none.
pub fn actual_request_headers(s3: &S3, req: &HttpSurfaceRequest) -> Option<Vec<(String, String)>> {
    let rules = s3.cors_rules(&req.bucket).ok()??;
    let origin = req.header("origin")?;
    let mut headers = matching_rule(&rules, origin, &req.method, &[])
        .map(|rule| rule_headers(rule, origin))
        .unwrap_or_default();
    headers.push(("Vary".into(), PREFLIGHT_VARY.into()));
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CORSRule {
        CORSRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: Some(headers.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn origins_match_with_one_wildcard() {
        assert!(wildcard_match("*", "http://a.example"));
        assert!(wildcard_match(
            "http://*.example.com",
            "http://www.example.com"
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://example.org"
        ));
        assert!(wildcard_match("http://a.example", "http://a.example"));
        assert!(!wildcard_match("http://a.example", "http://b.example"));
        assert!(
            !wildcard_match("ab*ba", "aba"),
            "prefix and suffix may not overlap"
        );
    }

    #[test]
    fn the_first_rule_allowing_origin_method_and_every_header_matches() {
        let rules = vec![
            rule(&["http://a.example"], &["GET"], &[]),
            rule(
                &["http://*.example"],
                &["PUT", "GET"],
                &["x-amz-*", "Content-Type"],
            ),
        ];
        let none: Vec<String> = vec![];
        assert!(std::ptr::eq(
            matching_rule(&rules, "http://a.example", "GET", &none).unwrap(),
            &rules[0]
        ));
        let hs = vec!["content-type".to_string(), "x-amz-date".to_string()];
        assert!(std::ptr::eq(
            matching_rule(&rules, "http://a.example", "GET", &hs).unwrap(),
            &rules[1]
        ));
        assert!(matching_rule(&rules, "http://a.example", "DELETE", &none).is_none());
        let bad = vec!["authorization".to_string()];
        assert!(matching_rule(&rules, "http://b.example", "PUT", &bad).is_none());
    }

    #[test]
    fn validation_refuses_methods_s3_does_not_support_and_too_many_rules() {
        let ok = CORSConfiguration {
            cors_rules: vec![rule(&["*"], &["GET"], &[])],
        };
        assert!(validate(&ok).is_ok());
        let patch = CORSConfiguration {
            cors_rules: vec![rule(&["*"], &["GET", "PATCH"], &[])],
        };
        let e = validate(&patch).unwrap_err();
        assert_eq!(e.code, "InvalidRequest");
        assert_eq!(
            e.message,
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
        );
        let many = CORSConfiguration {
            cors_rules: vec![rule(&["*"], &["GET"], &[]); 101],
        };
        assert_eq!(validate(&many).unwrap_err().code, "MalformedXML");
        let empty = CORSConfiguration { cors_rules: vec![] };
        assert_eq!(validate(&empty).unwrap_err().code, "MalformedXML");
    }

    #[test]
    fn a_wildcard_origin_is_answered_with_a_star_and_no_credentials() {
        let h = rule_headers(&rule(&["*"], &["GET", "PUT"], &[]), "http://x");
        assert!(h.contains(&("Access-Control-Allow-Origin".into(), "*".into())));
        assert!(h.contains(&("Access-Control-Allow-Methods".into(), "GET, PUT".into())));
        assert!(
            !h.iter()
                .any(|(k, _)| k == "Access-Control-Allow-Credentials")
        );
        let h = rule_headers(&rule(&["http://x"], &["GET"], &[]), "http://x");
        assert!(h.contains(&("Access-Control-Allow-Origin".into(), "http://x".into())));
        assert!(h.contains(&("Access-Control-Allow-Credentials".into(), "true".into())));
    }
}
