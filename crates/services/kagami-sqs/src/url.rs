//! Queue URLs: built from the host the client called, and parsed in every form clients
//! send them (AWS's, LocalStack's path and subdomain styles, or a bare queue name).

/// Where a queue URL points. Missing parts default to the caller's account and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueRef<'a> {
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub name: &'a str,
}

/// `http://<host>/<account>/<name>`.
pub fn queue_url(host: &str, account: &str, name: &str) -> String {
    let host = host.trim_end_matches('/');
    if host.starts_with("http://") || host.starts_with("https://") {
        format!("{host}/{account}/{name}")
    } else {
        format!("http://{host}/{account}/{name}")
    }
}

/// Parses a queue URL (or plain queue name); `None` when nothing names a queue.
pub fn parse_queue_url(url: &str) -> Option<QueueRef<'_>> {
    let url = url.trim();
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => match rest.split_once('/') {
            Some((host, path)) => (Some(host), path),
            None => (Some(rest), ""),
        },
        None => (None, url),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (account, mut region, name) = match segments.as_slice() {
        ["queue", region, account, name] => (Some(*account), Some(*region), *name),
        [.., account, name] => (Some(*account), None, *name),
        [name] => (None, None, *name),
        [] => return None,
    };
    if region.is_none() {
        region = host.and_then(region_of_host);
    }
    Some(QueueRef { account, region, name })
}

/// The region of `sqs.<region>.<domain>`, `<region>.queue.<domain>` and
/// `queue.amazonaws.com` (us-east-1) hosts.
fn region_of_host(host: &str) -> Option<&str> {
    let host = host.split(':').next().unwrap_or(host);
    let mut labels = host.split('.');
    let first = labels.next()?;
    let second = labels.next();
    match (first, second) {
        ("sqs", Some(region)) if looks_like_region(region) => Some(region),
        (region, Some("queue")) if looks_like_region(region) => Some(region),
        ("queue", Some("amazonaws")) => Some("us-east-1"),
        _ => None,
    }
}

fn looks_like_region(s: &str) -> bool {
    s.contains('-')
        && s.ends_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `arn:<partition>:sqs:<region>:<account>:<name>`.
pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:{}:sqs:{region}:{account}:{name}", partition(region))
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The (region, account, name) of an SQS queue ARN.
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("sqs"), Some(region), Some(account), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if region.is_empty() || account.is_empty() || name.is_empty() {
        return None;
    }
    Some((region, account, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r<'a>(account: Option<&'a str>, region: Option<&'a str>, name: &'a str) -> Option<QueueRef<'a>> {
        Some(QueueRef { account, region, name })
    }

    #[test]
    fn parses_every_url_style() {
        assert_eq!(parse_queue_url("http://localhost:4566/000000000000/q"), r(Some("000000000000"), None, "q"));
        assert_eq!(
            parse_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo"),
            r(Some("123456789012"), Some("eu-west-1"), "jobs.fifo")
        );
        assert_eq!(
            parse_queue_url("http://sqs.us-east-2.localhost.localstack.cloud:4566/000000000000/q"),
            r(Some("000000000000"), Some("us-east-2"), "q")
        );
        assert_eq!(
            parse_queue_url("http://localhost:4566/queue/ap-south-1/000000000000/q"),
            r(Some("000000000000"), Some("ap-south-1"), "q")
        );
        assert_eq!(
            parse_queue_url("http://eu-central-1.queue.localhost.localstack.cloud:4566/000000000000/q"),
            r(Some("000000000000"), Some("eu-central-1"), "q")
        );
        assert_eq!(parse_queue_url("https://queue.amazonaws.com/1/q"), r(Some("1"), Some("us-east-1"), "q"));
        assert_eq!(parse_queue_url("q"), r(None, None, "q"));
        assert_eq!(parse_queue_url("http://localhost:4566/q"), r(None, None, "q"));
        assert_eq!(parse_queue_url(""), None);
        assert_eq!(parse_queue_url("http://localhost:4566/"), None);
    }

    #[test]
    fn builds_urls_and_arns() {
        assert_eq!(queue_url("localhost:4566", "000000000000", "q"), "http://localhost:4566/000000000000/q");
        assert_eq!(queue_arn("us-east-1", "000000000000", "q"), "arn:aws:sqs:us-east-1:000000000000:q");
        assert_eq!(parse_queue_arn("arn:aws:sqs:us-east-1:000000000000:q"), Some(("us-east-1", "000000000000", "q")));
        assert_eq!(parse_queue_arn("arn:aws:sns:us-east-1:000000000000:q"), None);
        assert_eq!(parse_queue_arn("nope"), None);
    }
}
