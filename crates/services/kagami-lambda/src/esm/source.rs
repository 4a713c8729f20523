//! What an EventSourceArn names.

/// A source kagami can read, or one it knows by name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `arn:aws:sqs:REGION:ACCOUNT:NAME`
    Sqs { region: String, account: String, name: String },
    /// `arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL`
    DynamoDbStream { region: String, account: String },
    /// `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`, or one of its enhanced fan-out
    /// consumers (`.../stream/NAME/consumer/CONSUMER:CREATED`).
    Kinesis { region: String, account: String, stream: String, consumer: Option<String> },
    /// Anything else (Kafka, MQ, DocumentDB, or not an ARN).
    Other,
}

impl Source {
    pub fn parse(arn: &str) -> Source {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _partition, service, region, account, resource] = parts.as_slice() else {
            return Source::Other;
        };
        let (region, account) = (region.to_string(), account.to_string());
        match *service {
            "sqs" if !resource.is_empty() && !resource.contains('/') => Source::Sqs { region, account, name: resource.to_string() },
            "dynamodb" if resource.starts_with("table/") && resource.contains("/stream/") => Source::DynamoDbStream { region, account },
            "kinesis" => kinesis(region, account, resource, arn),
            _ => Source::Other,
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, Source::DynamoDbStream { .. } | Source::Kinesis { .. })
    }

    /// The ARN of the stream a Kinesis source reads (a consumer's ARN names its stream).
    pub fn kinesis_stream_arn(&self) -> Option<String> {
        match self {
            Source::Kinesis { region, account, stream, .. } => Some(format!("arn:aws:kinesis:{region}:{account}:stream/{stream}")),
            _ => None,
        }
    }
}

fn kinesis(region: String, account: String, resource: &str, arn: &str) -> Source {
    let Some(rest) = resource.strip_prefix("stream/") else { return Source::Other };
    let (stream, consumer) = match rest.split_once("/consumer/") {
        Some((stream, name)) if !name.is_empty() => (stream, Some(arn.to_string())),
        Some(_) => return Source::Other,
        None => (rest, None),
    };
    if stream.is_empty() || stream.contains('/') {
        return Source::Other;
    }
    Source::Kinesis { region, account, stream: stream.to_string(), consumer }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_source() {
        assert_eq!(
            Source::parse("arn:aws:sqs:eu-west-1:111122223333:jobs.fifo"),
            Source::Sqs { region: "eu-west-1".into(), account: "111122223333".into(), name: "jobs.fifo".into() }
        );
        assert_eq!(
            Source::parse("arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/2024-01-01T00:00:00.000"),
            Source::DynamoDbStream { region: "us-east-1".into(), account: "111122223333".into() }
        );
        let kinesis = |consumer: Option<&str>| Source::Kinesis {
            region: "us-east-1".into(),
            account: "111122223333".into(),
            stream: "s".into(),
            consumer: consumer.map(str::to_string),
        };
        assert_eq!(Source::parse("arn:aws:kinesis:us-east-1:111122223333:stream/s"), kinesis(None));
        let consumer = "arn:aws:kinesis:us-east-1:111122223333:stream/s/consumer/c:1700000000";
        assert_eq!(Source::parse(consumer), kinesis(Some(consumer)));
        assert_eq!(kinesis(Some(consumer)).kinesis_stream_arn().as_deref(), Some("arn:aws:kinesis:us-east-1:111122223333:stream/s"));
        assert_eq!(Source::parse("arn:aws:kinesis:us-east-1:111122223333:stream/"), Source::Other);
        assert_eq!(Source::parse("arn:aws:dynamodb:us-east-1:111122223333:table/T"), Source::Other);
        assert_eq!(Source::parse("nonsense"), Source::Other);
    }
}
