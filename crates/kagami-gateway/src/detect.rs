//! Which AWS service a request is for, in DESIGN.md's order: `X-Amz-Target`, the
//! Smithy RPC v2 path, the SigV4 credential scope, `Action=` with a known `Version`,
//! the Host name, and S3 when nothing else matches (S3 requests carry no other mark).

use crate::form;
use crate::sigv4::Auth;
use kagami_model::{Operation, SERVICES, ServiceEntry};
use kagami_protocol::{Protocol, RequestParts};
use std::collections::HashMap;
use std::sync::LazyLock;

/// How a request was attributed, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedBy {
    Target,
    RpcV2Path,
    SigningName,
    QueryAction,
    Host,
    /// An unsigned call to one of the REST services that take no signature (SSO).
    UnsignedPath,
    Default,
}

#[derive(Debug, Clone, Copy)]
pub struct Detection {
    pub entry: &'static ServiceEntry,
    pub by: DetectedBy,
    /// The REST operation routing found on the way (services sharing a signing name are
    /// told apart by routing the request), so that it is not routed a second time.
    pub rest_operation: Option<&'static Operation>,
}

/// A request signed for a service that no embedded model describes (one botocore has
/// retired, or a newer one): it must not be mistaken for S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownService {
    pub signing_name: String,
}

/// Lookup tables over the model index, built on the first request rather than at
/// startup so that startup does no work per service.
struct Index {
    by_target: HashMap<&'static str, Vec<&'static ServiceEntry>>,
    by_signing_name: HashMap<&'static str, Vec<&'static ServiceEntry>>,
    /// API version -> services that speak query or ec2 (`Version=` in the form).
    by_query_version: HashMap<&'static str, Vec<&'static ServiceEntry>>,
    /// Host label (endpoint prefix or botocore name) -> service.
    by_host_label: HashMap<&'static str, &'static ServiceEntry>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut ix = Index {
        by_target: HashMap::new(),
        by_signing_name: HashMap::new(),
        by_query_version: HashMap::new(),
        by_host_label: HashMap::new(),
    };
    for e in SERVICES {
        if let Some(t) = e.target_prefix {
            ix.by_target.entry(t).or_default().push(e);
        }
        ix.by_signing_name
            .entry(e.signing_name)
            .or_default()
            .push(e);
        if speaks_query(e) {
            ix.by_query_version
                .entry(e.api_version)
                .or_default()
                .push(e);
        }
    }
    // Names first, so `sqs.localhost` is SQS even if another service shares a prefix;
    // an endpoint prefix shared by several services goes to the one named after it.
    for e in SERVICES {
        ix.by_host_label.insert(e.name, e);
    }
    for e in SERVICES {
        ix.by_host_label.entry(e.endpoint_prefix).or_insert(e);
    }
    ix
});

/// Services that moved from the query protocol to JSON and whose models no longer list
/// `query` (they carry `awsQueryCompatible`), while older SDKs still send form posts.
const FORMER_QUERY_SERVICES: &[&str] = &["sqs"];

fn speaks_only_query(e: &ServiceEntry) -> bool {
    e.protocols
        .iter()
        .chain(std::iter::once(&e.protocol))
        .all(|p| *p == "query" || *p == "ec2")
}

fn speaks_query(e: &ServiceEntry) -> bool {
    FORMER_QUERY_SERVICES.contains(&e.name)
        || e.protocols
            .iter()
            .chain(std::iter::once(&e.protocol))
            .any(|p| *p == "query" || *p == "ec2")
}

pub fn detect(parts: &RequestParts<'_>, auth: Option<&Auth>) -> Result<Detection, UnknownService> {
    let ix = &*INDEX;
    let found = |entry, by| {
        Ok(Detection {
            entry,
            by,
            rest_operation: None,
        })
    };
    let mut unknown_signing_name = None;

    if let Some(target) = header(
        parts,
        const { http::HeaderName::from_static("x-amz-target") },
    ) {
        let (prefix, op) = target.rsplit_once('.').unwrap_or((target, ""));
        if let Some(entry) = ix.by_target.get(prefix).and_then(|c| with_operation(c, op)) {
            return found(entry, DetectedBy::Target);
        }
    }

    if header(
        parts,
        const { http::HeaderName::from_static("smithy-protocol") },
    )
    .is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor"))
        && let Some((service, op)) = rpc_v2_path(parts.path)
        && let Some(entry) = ix
            .by_target
            .get(service)
            .and_then(|c| with_operation(c, op))
    {
        return found(entry, DetectedBy::RpcV2Path);
    }

    let action = form::action_and_version(parts);

    if let Some(Auth::V4(sig)) = auth {
        let name = sig.scope.service.as_str();
        let by_signing = match ix.by_signing_name.get(name).map(Vec::as_slice) {
            Some([one]) => Some((*one, None)),
            Some(several) => disambiguate(several, name, parts, action.as_ref()),
            None => None,
        };
        // Some clients sign with the endpoint prefix rather than the signing name.
        if let Some((e, rest_operation)) =
            by_signing.or_else(|| ix.by_host_label.get(name).map(|e| (*e, None)))
        {
            return Ok(Detection {
                entry: e,
                by: DetectedBy::SigningName,
                rest_operation,
            });
        }
        // S3's variants (s3-object-lambda, s3express) sign with their own names.
        if !name.starts_with("s3") {
            unknown_signing_name = Some(name.to_string());
        }
    }

    if let Some(av) = &action {
        if let Some(version) = &av.version
            && let Some(candidates) = ix.by_query_version.get(version.as_str())
        {
            // Only several services sharing an API version need their models consulted.
            let with_action: Vec<&'static ServiceEntry> = match candidates.as_slice() {
                [one] => vec![*one],
                several => several
                    .iter()
                    .copied()
                    .filter(|e| e.model().operations.contains_key(&av.action))
                    .collect(),
            };
            let pool = if with_action.is_empty() {
                candidates.as_slice()
            } else {
                with_action.as_slice()
            };
            if let Some(e) = preferred(pool, None) {
                return found(e, DetectedBy::QueryAction);
            }
        }
        // Unversioned `?Action=` on a queue URL (`/000000000000/q`): SQS, as LocalStack does.
        if av.version.is_none()
            && is_queue_url_path(parts.path)
            && let Some(e) = kagami_model::service("sqs")
        {
            return found(e, DetectedBy::QueryAction);
        }
    }

    if let Some(label) = host_service_label(host(parts))
        && let Some(e) = ix.by_host_label.get(label)
    {
        return found(e, DetectedBy::Host);
    }

    if let Some(signing_name) = unknown_signing_name {
        return Err(UnknownService { signing_name });
    }

    if auth.is_none()
        && let Some(e) = unsigned_rest_service(parts)
    {
        return found(e, DetectedBy::UnsignedPath);
    }
    kagami_model::service("s3")
        .map(|entry| Detection {
            entry,
            by: DetectedBy::Default,
            rest_operation: None,
        })
        .ok_or(UnknownService {
            signing_name: "s3".to_string(),
        })
}

/// Names are built at compile time by the callers: a `&str` name is parsed again
/// on every lookup, and every request makes these.
fn header<'a>(parts: &RequestParts<'a>, name: http::HeaderName) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The Host the client called (`:authority` for HTTP/2, which hyper puts in the URI).
pub fn host<'a>(parts: &RequestParts<'a>) -> &'a str {
    header(parts, http::header::HOST).unwrap_or("")
}

/// Several services can share a target prefix (Timestream query and write): the one
/// whose model has the operation wins.
fn with_operation(candidates: &[&'static ServiceEntry], op: &str) -> Option<&'static ServiceEntry> {
    match candidates {
        [] => None,
        [one] => Some(one),
        several => several
            .iter()
            .copied()
            .find(|e| e.model().operations.contains_key(op))
            .or(several.first().copied()),
    }
}

/// `/service/<ServiceName>/operation/<Operation>`; the name may be namespaced (`ns#Name`).
fn rpc_v2_path(path: &str) -> Option<(&str, &str)> {
    let rest = &path[path.find("/service/")? + "/service/".len()..];
    let (service, rest) = rest.split_once("/operation/")?;
    let service = service.rsplit('#').next().unwrap_or(service);
    let op = rest.split('/').next().unwrap_or(rest);
    Some((service, op))
}

/// `/<12-digit account>/<queue name>`: where an SQS queue URL points.
pub(crate) fn is_queue_url_path(path: &str) -> bool {
    let mut segs = path.trim_start_matches('/').split('/');
    matches!(
        (segs.next(), segs.next(), segs.next()),
        (Some(account), Some(name), None) if account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty()
    )
}

/// Services that share a signing name (S3 and S3 Control, API Gateway v1 and v2, ELB
/// and ELBv2, Lambda and its siblings): the one whose model routes the request, the
/// most specifically, wins; ties go to the service named after the signing name.
fn disambiguate(
    candidates: &[&'static ServiceEntry],
    signing_name: &str,
    parts: &RequestParts<'_>,
    action: Option<&form::ActionVersion>,
) -> Option<(&'static ServiceEntry, Option<&'static Operation>)> {
    if let Some(av) = action {
        let by_version: Vec<&'static ServiceEntry> = candidates
            .iter()
            .copied()
            .filter(|e| speaks_query(e) && av.version.as_deref() == Some(e.api_version))
            .collect();
        if let Some(e) = preferred(&by_version, Some(signing_name)) {
            return Some((e, None));
        }
    }
    let mut best: Option<(&'static ServiceEntry, usize, Option<&'static Operation>)> = None;
    for &e in candidates {
        let model = e.model();
        // S3 Control's operations all live under `/v20180820`: an S3 path is ruled out
        // without routing it through every template.
        let prefix = kagami_protocol::common_literal_prefix(model);
        if !prefix.is_empty() && !under_prefix(parts.path, prefix) {
            continue;
        }
        let protocol = kagami_protocol::detect_protocol(model, parts);
        let Ok(op) = kagami_protocol::resolve_operation(model, protocol, parts) else {
            continue;
        };
        let specificity = literal_len(&op.http.request_uri);
        let better = match best {
            None => true,
            Some((b, s, _)) => {
                specificity > s
                    || (specificity == s && rank(e, signing_name) < rank(b, signing_name))
            }
        };
        if better {
            let rest = matches!(protocol, Protocol::RestXml | Protocol::RestJson);
            best = Some((e, specificity, rest.then_some(op)));
        }
    }
    // Nothing routes it: a request without `Action=` is not for a query service.
    let plausible: Vec<&'static ServiceEntry> = candidates
        .iter()
        .copied()
        .filter(|e| action.is_some() || !speaks_only_query(e))
        .collect();
    let pool = if plausible.is_empty() {
        candidates
    } else {
        plausible.as_slice()
    };
    best.map(|(e, _, op)| (e, op))
        .or_else(|| preferred(pool, Some(signing_name)).map(|e| (e, None)))
}

/// Whether `path` starts with the literal segments `prefix`; a percent-encoded path
/// might spell them differently, so it is never ruled out here.
fn under_prefix(path: &str, prefix: &str) -> bool {
    path.contains('%')
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// REST services whose operations are called without a signature (SSO portal, OIDC,
/// sign-in): nothing marks their requests but the path.
const UNSIGNED_REST_SERVICES: &[&str] = &["sso", "sso-oidc", "signin"];

fn unsigned_rest_service(parts: &RequestParts<'_>) -> Option<&'static ServiceEntry> {
    UNSIGNED_REST_SERVICES
        .iter()
        .filter_map(|n| kagami_model::service(n))
        .find(|e| {
            let model = e.model();
            let protocol = kagami_protocol::detect_protocol(model, parts);
            // A literal path (`/token`, `/federation/credentials`), never S3's `/{Bucket}`.
            kagami_protocol::resolve_operation(model, protocol, parts)
                .is_ok_and(|op| literal_len(&op.http.request_uri) > 0)
        })
}

/// Characters of a request URI template outside `{labels}`: `/v20180820/configuration`
/// is more specific than `/{Bucket}/{Key+}`.
fn literal_len(uri: &str) -> usize {
    let path = uri.split('?').next().unwrap_or(uri);
    let mut depth = 0usize;
    path.chars()
        .filter(|c| match c {
            '{' => {
                depth += 1;
                false
            }
            '}' => {
                depth = depth.saturating_sub(1);
                false
            }
            '/' => false,
            _ => depth == 0,
        })
        .count()
}

/// 0 for the service named after the signing name, 1 for one whose endpoint prefix is
/// it, 2 otherwise.
fn rank(e: &ServiceEntry, signing_name: &str) -> u8 {
    if e.name == signing_name || e.name == e.signing_name {
        0
    } else if e.endpoint_prefix == signing_name || e.endpoint_prefix == e.signing_name {
        1
    } else {
        2
    }
}

fn preferred(
    candidates: &[&'static ServiceEntry],
    signing_name: Option<&str>,
) -> Option<&'static ServiceEntry> {
    candidates
        .iter()
        .copied()
        .min_by_key(|e| rank(e, signing_name.unwrap_or(e.signing_name)))
}

/// Whether a host label names an AWS service (`sqs`, `lambda`) or its endpoint prefix.
pub(crate) fn is_service_host_label(label: &str) -> bool {
    INDEX.by_host_label.contains_key(label)
}

/// The service label of `<svc>[.<region>].localhost.localstack.cloud`,
/// `<svc>[.<region>].amazonaws.com` or `<svc>.localhost` (with any bucket labels in front).
pub(crate) fn host_service_label(host: &str) -> Option<&str> {
    let host = strip_port(host);
    let rest = ["localhost.localstack.cloud", "amazonaws.com", "localhost"]
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix).and_then(|h| h.strip_suffix('.')))?;
    let mut labels = rest.rsplit('.');
    let last = labels.next()?;
    if is_region(last) {
        labels.next()
    } else {
        Some(last)
    }
}

/// The region label of such a host, if any.
pub fn host_region(host: &str) -> Option<&str> {
    let host = strip_port(host);
    let rest = ["localhost.localstack.cloud", "amazonaws.com"]
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix).and_then(|h| h.strip_suffix('.')))?;
    rest.rsplit('.').next().filter(|l| is_region(l))
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`.
pub(crate) fn is_region(label: &str) -> bool {
    let mut parts = label.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && rest.len() >= 2
        && rest
            .last()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && rest[..rest.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4;
    use http::{HeaderMap, HeaderValue, Method};

    struct Req {
        method: Method,
        path: String,
        query: String,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Req {
        fn new(method: Method, path: &str) -> Self {
            Req {
                method,
                path: path.into(),
                query: String::new(),
                headers: HeaderMap::new(),
                body: Vec::new(),
            }
        }
        fn header(mut self, name: &'static str, value: &str) -> Self {
            self.headers
                .insert(name, HeaderValue::from_str(value).unwrap());
            self
        }
        fn query(mut self, q: &str) -> Self {
            self.query = q.into();
            self
        }
        fn form(mut self, body: &str) -> Self {
            self.body = body.as_bytes().to_vec();
            self.header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
        }
        fn signed(self, service: &str) -> Self {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
            );
            self.header("authorization", &auth)
        }
        fn try_detect(&self) -> Result<Detection, UnknownService> {
            let parts = RequestParts {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            };
            let sreq = sigv4::Request {
                method: self.method.as_str(),
                path: &self.path,
                query: &self.query,
                headers: self
                    .headers
                    .iter()
                    .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
                    .collect(),
            };
            let auth = sigv4::parse(&sreq).ok().flatten();
            detect(&parts, auth.as_ref())
        }
        fn detect(&self) -> Detection {
            self.try_detect().unwrap()
        }
        fn detect_unknown(&self) -> Option<String> {
            self.try_detect().err().map(|u| u.signing_name)
        }
    }

    fn name(r: Req) -> &'static str {
        r.detect().entry.name
    }

    #[test]
    fn target_header_names_the_service() {
        let r = Req::new(Method::POST, "/").header("x-amz-target", "AmazonSQS.SendMessage");
        assert_eq!(r.detect().by, DetectedBy::Target);
        assert_eq!(name(r), "sqs");
        let r = Req::new(Method::POST, "/").header("x-amz-target", "DynamoDB_20120810.PutItem");
        assert_eq!(name(r), "dynamodb");
        let r = Req::new(Method::POST, "/")
            .header("x-amz-target", "DynamoDBStreams_20120810.GetRecords");
        assert_eq!(name(r), "dynamodbstreams");
    }

    #[test]
    fn target_prefix_shared_by_two_services_goes_to_the_one_with_the_operation() {
        let r =
            Req::new(Method::POST, "/").header("x-amz-target", "Timestream_20181101.WriteRecords");
        assert_eq!(name(r), "timestream-write");
        let r = Req::new(Method::POST, "/").header("x-amz-target", "Timestream_20181101.Query");
        assert_eq!(name(r), "timestream-query");
    }

    #[test]
    fn namespaced_target_prefix_is_found() {
        let r = Req::new(Method::POST, "/").header(
            "x-amz-target",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
        );
        assert_eq!(name(r), "cloudtrail");
    }

    #[test]
    fn rpc_v2_cbor_path_names_the_service() {
        let r = Req::new(
            Method::POST,
            "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        )
        .header("smithy-protocol", "rpc-v2-cbor");
        assert_eq!(r.detect().by, DetectedBy::RpcV2Path);
        assert_eq!(name(r), "cloudwatch");
    }

    #[test]
    fn signing_name_names_the_service() {
        let r = Req::new(Method::POST, "/")
            .signed("sts")
            .form("Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(r.detect().by, DetectedBy::SigningName);
        assert_eq!(name(r), "sts");
        assert_eq!(
            name(Req::new(Method::GET, "/2015-03-31/functions/").signed("lambda")),
            "lambda"
        );
        assert_eq!(
            name(
                Req::new(Method::POST, "/")
                    .signed("monitoring")
                    .form("Action=ListMetrics&Version=2010-08-01")
            ),
            "cloudwatch"
        );
    }

    #[test]
    fn shared_signing_name_is_settled_by_version() {
        let elb = Req::new(Method::POST, "/")
            .signed("elasticloadbalancing")
            .form("Action=DescribeLoadBalancers&Version=2012-06-01");
        assert_eq!(name(elb), "elb");
        let elbv2 = Req::new(Method::POST, "/")
            .signed("elasticloadbalancing")
            .form("Action=DescribeLoadBalancers&Version=2015-12-01");
        assert_eq!(name(elbv2), "elbv2");
    }

    #[test]
    fn shared_signing_name_is_settled_by_the_most_specific_path() {
        let r = Req::new(Method::GET, "/v20180820/configuration/publicAccessBlock")
            .signed("s3")
            .header("x-amz-account-id", "000000000000");
        assert_eq!(name(r), "s3control");
        assert_eq!(
            name(Req::new(Method::GET, "/my-bucket/key.txt").signed("s3")),
            "s3"
        );
        assert_eq!(
            name(Req::new(Method::GET, "/v2/apis").signed("apigateway")),
            "apigatewayv2"
        );
        assert_eq!(
            name(Req::new(Method::GET, "/restapis").signed("apigateway")),
            "apigateway"
        );
        let search = Req::new(Method::GET, "/2013-01-01/search")
            .query("format=sdk&pretty=true")
            .signed("cloudsearch");
        assert_eq!(name(search), "cloudsearchdomain");
        // botocore turns Search into a form POST without Action=: still not the query service.
        let search = Req::new(Method::POST, "/2013-01-01/search")
            .signed("cloudsearch")
            .form("format=sdk&q=x");
        assert_eq!(name(search), "cloudsearchdomain");
    }

    #[test]
    fn unsigned_sso_calls_are_recognised_by_path() {
        let r = Req::new(Method::GET, "/federation/credentials")
            .query("role_name=r&account_id=000000000000")
            .header("x-amz-sso_bearer_token", "t");
        assert_eq!(r.detect().by, DetectedBy::UnsignedPath);
        assert_eq!(name(r), "sso");
        let r = Req::new(Method::POST, "/token").header("content-type", "application/json");
        assert_eq!(name(r), "sso-oidc");
        assert_eq!(name(Req::new(Method::GET, "/token/key")), "s3");
    }

    #[test]
    fn unsigned_action_with_version_names_the_service() {
        let r = Req::new(Method::POST, "/").form("Action=ListQueues&Version=2012-11-05");
        assert_eq!(r.detect().by, DetectedBy::QueryAction);
        assert_eq!(name(r), "sqs");
        assert_eq!(
            name(Req::new(Method::GET, "/").query("Action=DescribeInstances&Version=2016-11-15")),
            "ec2"
        );
        assert_eq!(
            name(Req::new(Method::POST, "/").form("Action=ListUsers&Version=2010-05-08")),
            "iam"
        );
        assert_eq!(
            name(Req::new(Method::POST, "/").form("Action=SendEmail&Version=2010-12-01")),
            "ses"
        );
        assert_eq!(
            name(Req::new(Method::POST, "/").form("Action=CreateApplication&Version=2010-12-01")),
            "elasticbeanstalk"
        );
        assert_eq!(
            name(Req::new(Method::POST, "/").form("Action=DescribeDBInstances&Version=2014-10-31")),
            "rds"
        );
    }

    #[test]
    fn unversioned_action_on_a_queue_url_is_sqs() {
        assert_eq!(
            name(Req::new(Method::GET, "/000000000000/q").query("Action=ReceiveMessage")),
            "sqs"
        );
    }

    #[test]
    fn host_names_the_service() {
        let r = Req::new(Method::GET, "/")
            .header("host", "sqs.eu-west-1.localhost.localstack.cloud:4566");
        assert_eq!(r.detect().by, DetectedBy::Host);
        assert_eq!(name(r), "sqs");
        assert_eq!(
            name(Req::new(Method::GET, "/").header("host", "lambda.localhost:4566")),
            "lambda"
        );
        assert_eq!(
            host_region("sqs.eu-west-1.localhost.localstack.cloud:4566"),
            Some("eu-west-1")
        );
        assert_eq!(host_region("localhost:4566"), None);
    }

    #[test]
    fn anything_else_is_s3() {
        let r = Req::new(Method::PUT, "/bucket/key").header("host", "localhost:4566");
        assert_eq!(r.detect().by, DetectedBy::Default);
        assert_eq!(name(r), "s3");
        assert_eq!(
            name(
                Req::new(Method::GET, "/")
                    .header("host", "my-bucket.s3.localhost.localstack.cloud:4566")
            ),
            "s3"
        );
        assert_eq!(
            name(Req::new(Method::GET, "/").header("host", "photos.localhost:4566")),
            "s3"
        );
    }

    #[test]
    fn a_signing_name_no_model_has_is_not_taken_for_s3() {
        let r = Req::new(Method::GET, "/environment").signed("retired-service");
        assert_eq!(r.detect_unknown().as_deref(), Some("retired-service"));
        assert_eq!(
            name(Req::new(Method::GET, "/b/k").signed("s3-object-lambda")),
            "s3"
        );
    }

    #[test]
    fn every_target_prefix_resolves_to_its_service() {
        for e in SERVICES {
            if let Some(t) = e.target_prefix
                && e.protocol == "json"
            {
                let op = e.model().operations.keys().next().unwrap().clone();
                let r = Req::new(Method::POST, "/").header("x-amz-target", &format!("{t}.{op}"));
                assert_eq!(name(r), e.name, "{t}.{op}");
            }
        }
    }

    #[test]
    fn every_query_compatible_service_accepts_form_posts() {
        for e in SERVICES {
            if e.model().metadata.aws_query_compatible.is_some() {
                assert!(
                    speaks_query(e),
                    "{} is awsQueryCompatible but not routed by Action=",
                    e.name
                );
            }
        }
    }

    #[test]
    fn regions_are_recognised() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "us-iso-east-1",
            "ap-southeast-4",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in ["sqs", "s3", "my-bucket", "localhost", "a-b-c"] {
            assert!(!is_region(r), "{r}");
        }
    }
}
