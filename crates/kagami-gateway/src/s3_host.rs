//! S3's host names: virtual-hosted addressing (`<bucket>.s3.localhost.localstack.cloud`,
//! `<bucket>.localhost`, `<bucket>.s3.<region>.amazonaws.com`, `<bucket>.<external host>`)
//! and static website endpoints (`<bucket>.s3-website[-.]<region>...`).
//!
//! A virtual-hosted request is routed as its path-style twin (`/<bucket>/<key>`); its
//! signature still covers the path the client sent.

/// Domains under which a host can name a bucket, besides the configured external host.
const SUFFIXES: &[&str] = &["localhost.localstack.cloud", "amazonaws.com", "localhost"];

/// Suffixes whose bare first label is a bucket (`photos.localhost`), not only
/// `<bucket>.s3.<suffix>`: they serve nothing else under that label but AWS services,
/// which are told apart by their names.
const BARE_BUCKET_SUFFIXES: &[&str] = &["localhost.localstack.cloud", "localhost"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Host<'a> {
    /// `<bucket>.s3...`: the S3 API, for that bucket.
    Bucket(&'a str),
    /// `<bucket>.s3-website...`: the bucket's static website.
    Website(&'a str),
}

impl<'a> S3Host<'a> {
    pub fn bucket(self) -> &'a str {
        match self {
            S3Host::Bucket(b) | S3Host::Website(b) => b,
        }
    }
}

/// The bucket a Host names, if it names one. `external` is the configured external host
/// name (without port). Plain endpoints (`localhost:4566`, `127.0.0.1`,
/// `s3.localhost.localstack.cloud`) name none and cost no more than a scan for a dot.
pub fn classify<'a>(host: &'a str, external: Option<&str>) -> Option<S3Host<'a>> {
    let host = strip_port(host);
    // `localhost`, IP addresses and the like: no label can name a bucket.
    if !host.contains('.')
        || host.starts_with('[')
        || host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    let (rest, bare_allowed) = SUFFIXES
        .iter()
        .find_map(|suffix| {
            strip_domain(host, suffix).map(|rest| (rest, BARE_BUCKET_SUFFIXES.contains(suffix)))
        })
        .or_else(|| {
            let external = external
                .map(strip_port)
                .filter(|e| !e.is_empty() && host != *e)?;
            strip_domain(host, external).map(|rest| (rest, true))
        })?;
    let (bucket, last) = match rest.rsplit_once('.') {
        Some((bucket, last)) => (Some(bucket), last),
        None => (None, rest),
    };
    // `<bucket>.s3-website-<region>`, `<bucket>.s3-website`, `<bucket>.s3-<region>`, `<bucket>.s3`
    if let Some(kind) = s3_label(last) {
        return bucket.filter(|b| !b.is_empty()).map(|b| kind.with(b));
    }
    // `<bucket>.s3.<region>`, `<bucket>.s3-website.<region>`
    if is_region(last) {
        let (bucket, label) = match bucket?.rsplit_once('.') {
            Some((bucket, label)) => (bucket, label),
            None => return None,
        };
        return s3_label(label)
            .filter(|_| !bucket.is_empty())
            .map(|kind| kind.with(bucket));
    }
    // `<bucket>.localhost`: a bucket unless the label names another service (`sqs.localhost`).
    if bare_allowed && !is_service_label(last) {
        return Some(S3Host::Bucket(rest));
    }
    None
}

#[derive(Clone, Copy)]
enum Kind {
    Api,
    Website,
}

impl Kind {
    fn with(self, bucket: &str) -> S3Host<'_> {
        match self {
            Kind::Api => S3Host::Bucket(bucket),
            Kind::Website => S3Host::Website(bucket),
        }
    }
}

/// `s3`, `s3-<region>` (legacy), `s3-website`, `s3-website-<region>`.
fn s3_label(label: &str) -> Option<Kind> {
    if label == "s3" {
        return Some(Kind::Api);
    }
    if label == "s3-website" {
        return Some(Kind::Website);
    }
    if let Some(region) = label.strip_prefix("s3-website-") {
        return is_region(region).then_some(Kind::Website);
    }
    if let Some(region) = label.strip_prefix("s3-") {
        return is_region(region).then_some(Kind::Api);
    }
    None
}

/// Labels that name an AWS service (`sqs`, `lambda`) or its endpoint prefix.
fn is_service_label(label: &str) -> bool {
    crate::detect::is_service_host_label(label)
}

/// `host` without `.<domain>` at its end, when it ends so.
fn strip_domain<'a>(host: &'a str, domain: &str) -> Option<&'a str> {
    let rest = host.strip_suffix(domain)?;
    rest.strip_suffix('.')
}

pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host;
    }
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

fn is_region(label: &str) -> bool {
    crate::detect::is_region(label)
}

/// The path-style path of a virtual-hosted request: `/` on `b.s3...` is `/b`,
/// `/key` is `/b/key`.
pub fn path_style(bucket: &str, path: &str) -> String {
    let mut out = String::with_capacity(bucket.len() + path.len() + 1);
    out.push('/');
    out.push_str(bucket);
    if path != "/" {
        if !path.starts_with('/') {
            out.push('/');
        }
        out.push_str(path);
    }
    out
}

/// The bucket and raw key of a path-style path (`/b/k/x` -> (`b`, `k/x`)).
pub fn split_path(path: &str) -> (&str, &str) {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split_once('/').unwrap_or((path, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosted_names_give_the_bucket() {
        for (host, bucket) in [
            ("photos.s3.localhost.localstack.cloud:4566", "photos"),
            (
                "photos.s3.us-west-2.localhost.localstack.cloud:4566",
                "photos",
            ),
            ("photos.localhost:4566", "photos"),
            ("photos.localhost.localstack.cloud:4566", "photos"),
            (
                "my.dotted.bucket.s3.localhost.localstack.cloud",
                "my.dotted.bucket",
            ),
            ("my.dotted.bucket.localhost:4566", "my.dotted.bucket"),
            ("photos.s3.amazonaws.com", "photos"),
            ("photos.s3.eu-central-1.amazonaws.com", "photos"),
            ("photos.s3-eu-west-1.amazonaws.com", "photos"),
            ("photos.s3.localhost:4566", "photos"),
        ] {
            assert_eq!(classify(host, None), Some(S3Host::Bucket(bucket)), "{host}");
        }
    }

    #[test]
    fn website_endpoints_give_the_bucket() {
        for host in [
            "site.s3-website.localhost.localstack.cloud:4566",
            "site.s3-website-us-east-1.localhost.localstack.cloud:4566",
            "site.s3-website.eu-west-1.localhost.localstack.cloud",
            "site.s3-website-us-east-1.amazonaws.com",
        ] {
            assert_eq!(
                classify(host, None),
                Some(S3Host::Website("site")),
                "{host}"
            );
        }
        assert_eq!(
            classify("a.b.s3-website.localhost.localstack.cloud", None),
            Some(S3Host::Website("a.b"))
        );
    }

    #[test]
    fn plain_endpoints_and_other_services_name_no_bucket() {
        for host in [
            "localhost:4566",
            "127.0.0.1:4566",
            "[::1]:4566",
            "s3.localhost.localstack.cloud:4566",
            "s3.us-east-1.localhost.localstack.cloud:4566",
            "localhost.localstack.cloud:4566",
            "s3.amazonaws.com",
            "s3-website.localhost.localstack.cloud",
            "sqs.localhost:4566",
            "sqs.eu-west-1.localhost.localstack.cloud:4566",
            "lambda.localhost.localstack.cloud",
            "sqs.us-east-1.amazonaws.com",
            "example.com",
        ] {
            assert_eq!(classify(host, None), None, "{host}");
        }
    }

    #[test]
    fn the_external_host_takes_bucket_labels_too() {
        assert_eq!(
            classify("photos.kagami.internal:4566", Some("kagami.internal:4566")),
            Some(S3Host::Bucket("photos"))
        );
        assert_eq!(
            classify("photos.s3.kagami.internal", Some("kagami.internal")),
            Some(S3Host::Bucket("photos"))
        );
        assert_eq!(
            classify("kagami.internal:4566", Some("kagami.internal")),
            None
        );
        assert_eq!(classify("photos.elsewhere", Some("kagami.internal")), None);
    }

    #[test]
    fn paths_are_rewritten_to_path_style() {
        assert_eq!(path_style("b", "/"), "/b");
        assert_eq!(path_style("b", "/k/x.txt"), "/b/k/x.txt");
        assert_eq!(path_style("b.c", "/%20k"), "/b.c/%20k");
        assert_eq!(split_path("/b/k/x"), ("b", "k/x"));
        assert_eq!(split_path("/b"), ("b", ""));
        assert_eq!(split_path("/b/"), ("b", ""));
    }
}
