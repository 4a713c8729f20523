//! ARNs of topics, subscriptions and the endpoints SNS delivers to.

use kagami_core::arn::partition_of_region;

pub(crate) fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:{}:sns:{region}:{account}:{name}", partition_of_region(region))
}

/// The parts of an ARN of the form `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`
/// (the resource may contain `:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub(crate) fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    (!service.is_empty() && !resource.is_empty()).then_some(Arn { service, region, account, resource })
}

/// (region, account, topic name) of a topic ARN.
pub(crate) fn parse_topic(arn: &str) -> Option<(&str, &str, &str)> {
    let a = parse(arn)?;
    (a.service == "sns" && !a.resource.contains(':')).then_some((a.region, a.account, a.resource))
}

/// (region, account, topic name, id) of a subscription ARN (`<topic arn>:<uuid>`).
pub(crate) fn parse_subscription(arn: &str) -> Option<(&str, &str, &str)> {
    let a = parse(arn)?;
    let (topic, id) = a.resource.split_once(':')?;
    (a.service == "sns" && !topic.is_empty() && !id.is_empty()).then_some((a.region, a.account, topic))
}

/// (region, account, queue name) of an SQS queue ARN.
pub(crate) fn parse_queue(arn: &str) -> Option<(&str, &str, &str)> {
    let a = parse(arn)?;
    (a.service == "sqs" && !a.region.is_empty() && !a.account.is_empty()).then_some((a.region, a.account, a.resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_and_subscription_arns_parse() {
        let t = topic_arn("us-east-1", "123456789012", "t");
        assert_eq!(t, "arn:aws:sns:us-east-1:123456789012:t");
        assert_eq!(parse_topic(&t), Some(("us-east-1", "123456789012", "t")));
        assert_eq!(parse_topic("arn:aws:sns:us-east-1:1:t:x"), None);
        assert_eq!(parse_subscription("arn:aws:sns:us-east-1:1:t:abc"), Some(("us-east-1", "1", "t")));
        assert_eq!(parse_subscription("arn:aws:sns:us-east-1:1:t"), None);
        assert_eq!(parse_queue("arn:aws:sqs:eu-west-1:2:q.fifo"), Some(("eu-west-1", "2", "q.fifo")));
        assert_eq!(parse("not-an-arn"), None);
        assert_eq!(topic_arn("cn-north-1", "1", "t"), "arn:aws-cn:sns:cn-north-1:1:t");
    }
}
