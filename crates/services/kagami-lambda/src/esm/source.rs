//! What an EventSourceArn names.

/// A source kagami can read, or one it knows by name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `arn:aws:sqs:REGION:ACCOUNT:NAME`
    Sqs { region: String, account: String, name: String },
    /// `arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL`
    DynamoDbStream { region: String, account: String },
    /// `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`: kagami has no Kinesis yet.
    Kinesis,
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
            "kinesis" => Source::Kinesis,
            _ => Source::Other,
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, Source::DynamoDbStream { .. } | Source::Kinesis)
    }
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
        assert_eq!(Source::parse("arn:aws:kinesis:us-east-1:111122223333:stream/s"), Source::Kinesis);
        assert_eq!(Source::parse("arn:aws:dynamodb:us-east-1:111122223333:table/T"), Source::Other);
        assert_eq!(Source::parse("nonsense"), Source::Other);
    }
}
