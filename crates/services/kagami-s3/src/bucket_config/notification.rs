//! PutBucketNotificationConfiguration, GetBucketNotificationConfiguration and the legacy
//! PutBucketNotification / GetBucketNotification.
//!
//! Events, filter rules and ARNs are checked as S3 checks them, and configurations
//! without an Id get one. The destinations (SQS queues, SNS topics, Lambda functions)
//! are stored as given: AWS also checks that they exist and allow S3 to publish, which
//! needs services kagami does not have yet. Delivering events is not done here.

use super::replication::generated_rule_id;
use crate::errors::*;
use crate::generated::*;
use crate::state::S3;
use kagami_core::{RequestContext, ServiceError};

pub const OPERATIONS: &[&str] = &[
    "GetBucketNotification",
    "GetBucketNotificationConfiguration",
    "PutBucketNotification",
    "PutBucketNotificationConfiguration",
];

const CONFIG: &str = "Notification";

/// The event types S3 publishes (S3 User Guide, "Event notification types").
const EVENTS: &[&str] = &[
    "s3:TestEvent",
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
];

fn check_events(events: &[String]) -> Result<(), ServiceError> {
    match events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        Some(bad) => Err(invalid_argument(
            "The event is not supported for notifications",
            "Event",
            bad,
        )),
        None if events.is_empty() => Err(malformed_xml()),
        None => Ok(()),
    }
}

fn check_filter(filter: Option<&NotificationConfigurationFilter>) -> Result<(), ServiceError> {
    let rules = filter
        .and_then(|f| f.key.as_ref())
        .and_then(|k| k.filter_rules.as_ref());
    for rule in rules.into_iter().flatten() {
        let name = rule.name.as_deref().unwrap_or_default();
        if !name.eq_ignore_ascii_case("prefix") && !name.eq_ignore_ascii_case("suffix") {
            return Err(invalid_argument(
                "filter rule name must be either prefix or suffix",
                "FilterRule.Name",
                name,
            ));
        }
    }
    Ok(())
}

/// `arn:partition:service:region:account:resource`, with the service S3 expects.
fn check_arn(arn: &str, service: &str, member: &str) -> Result<(), ServiceError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts.first() == Some(&"arn")
        && parts.get(2) == Some(&service)
        && parts.get(5).is_some_and(|r| !r.is_empty());
    if well_formed {
        Ok(())
    } else {
        Err(invalid_argument("The ARN is not well formed", member, arn))
    }
}

fn validate(config: &mut NotificationConfiguration) -> Result<(), ServiceError> {
    for c in config.queue_configurations.iter_mut().flatten() {
        check_arn(&c.queue_arn, "sqs", "QueueArn")?;
        check_events(&c.events)?;
        check_filter(c.filter.as_ref())?;
        c.id.get_or_insert_with(generated_rule_id);
    }
    for c in config.topic_configurations.iter_mut().flatten() {
        check_arn(&c.topic_arn, "sns", "TopicArn")?;
        check_events(&c.events)?;
        check_filter(c.filter.as_ref())?;
        c.id.get_or_insert_with(generated_rule_id);
    }
    for c in config.lambda_function_configurations.iter_mut().flatten() {
        check_arn(&c.lambda_function_arn, "lambda", "CloudFunction")?;
        check_events(&c.events)?;
        check_filter(c.filter.as_ref())?;
        c.id.get_or_insert_with(generated_rule_id);
    }
    Ok(())
}

/// The events of a legacy configuration, which may name one (`Event`) or several.
fn legacy_events(event: Option<String>, events: Option<Vec<String>>) -> Vec<String> {
    let mut all = events.unwrap_or_default();
    if let Some(e) = event
        && !all.contains(&e)
    {
        all.insert(0, e);
    }
    all
}

impl S3 {
    pub async fn put_bucket_notification_configuration(
        &self,
        ctx: &RequestContext,
        mut input: PutBucketNotificationConfigurationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        self.with_bucket(ctx, &input.bucket, |_| Ok(()))?;
        validate(&mut input.notification_configuration)?;
        self.put_config(ctx, &input.bucket, CONFIG, input.notification_configuration)
            .await
    }

    /// The configuration in force; an empty one when none was put.
    pub fn get_bucket_notification_configuration(
        &self,
        ctx: &RequestContext,
        input: &GetBucketNotificationConfigurationRequest,
    ) -> Result<NotificationConfiguration, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        Ok(self
            .config_of(ctx, &input.bucket, CONFIG)?
            .unwrap_or_default())
    }

    /// The legacy form holds one configuration per destination kind.
    pub async fn put_bucket_notification(
        &self,
        ctx: &RequestContext,
        input: PutBucketNotificationRequest,
    ) -> Result<(), ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let legacy = input.notification_configuration;
        let mut config = NotificationConfiguration::default();
        if let Some(q) = legacy.queue_configuration {
            config.queue_configurations = Some(vec![QueueConfiguration {
                id: q.id,
                queue_arn: q.queue.unwrap_or_default(),
                events: legacy_events(q.event, q.events),
                filter: None,
            }]);
        }
        if let Some(t) = legacy.topic_configuration {
            config.topic_configurations = Some(vec![TopicConfiguration {
                id: t.id,
                topic_arn: t.topic.unwrap_or_default(),
                events: legacy_events(t.event, t.events),
                filter: None,
            }]);
        }
        if let Some(f) = legacy.cloud_function_configuration {
            config.lambda_function_configurations = Some(vec![LambdaFunctionConfiguration {
                id: f.id,
                lambda_function_arn: f.cloud_function.unwrap_or_default(),
                events: legacy_events(f.event, f.events),
                filter: None,
            }]);
        }
        self.with_bucket(ctx, &input.bucket, |_| Ok(()))?;
        validate(&mut config)?;
        self.put_config(ctx, &input.bucket, CONFIG, config).await
    }

    pub fn get_bucket_notification(
        &self,
        ctx: &RequestContext,
        input: &GetBucketNotificationConfigurationRequest,
    ) -> Result<NotificationConfigurationDeprecated, ServiceError> {
        self.check_expected_owner(ctx, &input.bucket, input.expected_bucket_owner.as_deref())?;
        let config = self.get_bucket_notification_configuration(ctx, input)?;
        let queue = config.queue_configurations.into_iter().flatten().next();
        let topic = config.topic_configurations.into_iter().flatten().next();
        let function = config
            .lambda_function_configurations
            .into_iter()
            .flatten()
            .next();
        Ok(NotificationConfigurationDeprecated {
            queue_configuration: queue.map(|q| QueueConfigurationDeprecated {
                id: q.id,
                event: None,
                events: Some(q.events),
                queue: Some(q.queue_arn),
            }),
            topic_configuration: topic.map(|t| TopicConfigurationDeprecated {
                id: t.id,
                events: Some(t.events),
                event: None,
                topic: Some(t.topic_arn),
            }),
            cloud_function_configuration: function.map(|f| CloudFunctionConfiguration {
                id: f.id,
                event: None,
                events: Some(f.events),
                cloud_function: Some(f.lambda_function_arn),
                invocation_role: None,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(events: &[&str], rule_name: &str) -> NotificationConfiguration {
        NotificationConfiguration {
            queue_configurations: Some(vec![QueueConfiguration {
                id: None,
                queue_arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
                events: events.iter().map(|e| e.to_string()).collect(),
                filter: Some(NotificationConfigurationFilter {
                    key: Some(S3KeyFilter {
                        filter_rules: Some(vec![FilterRule {
                            name: Some(rule_name.into()),
                            value: Some("x".into()),
                        }]),
                    }),
                }),
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn filter_rules_are_prefix_or_suffix_in_any_case() {
        assert!(validate(&mut queue(&["s3:ObjectCreated:*"], "Suffix")).is_ok());
        let e = validate(&mut queue(&["s3:ObjectCreated:*"], "middle")).unwrap_err();
        assert_eq!(
            e.message,
            "filter rule name must be either prefix or suffix"
        );
    }

    #[test]
    fn configurations_get_an_id() {
        let mut config = queue(&["s3:ObjectRemoved:Delete"], "prefix");
        validate(&mut config).unwrap();
        let id = config
            .queue_configurations
            .and_then(|q| q.into_iter().next())
            .and_then(|q| q.id);
        assert!(id.is_some_and(|i| !i.is_empty()));
    }
}
