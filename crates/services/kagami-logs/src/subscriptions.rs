//! Subscription filters (delivered by `delivery.rs`), metric filters (stored and
//! validated; kagami has no CloudWatch metrics to publish to) and TestMetricFilter.

use crate::errors::{constraint, invalid};
use crate::generated::*;
use crate::pagination;
use crate::pattern::Pattern;
use crate::state::{Logs, MetricFilterRecord, MetricTransformationRecord, SubscriptionFilterRecord, group_mut};
use kagami_core::{RequestContext, ServiceError, clock};

/// A log group has at most two subscription filters and 100 metric filters.
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
const MAX_SUBSCRIPTION_FILTERS: usize = 2;
const MAX_METRIC_FILTERS: usize = 100;
const MAX_DESCRIBE_FILTERS: i32 = 50;
const MAX_FILTER_NAME: usize = 512;
const MAX_FILTER_PATTERN: usize = 1024;

fn validate_filter(name: &str, pattern: &str) -> Result<(), LogsError> {
    if name.is_empty() || name.len() > MAX_FILTER_NAME {
        return Err(constraint(name, "filterName", "Member must have length less than or equal to 512"));
    }
    if name.contains([':', '*']) {
        return Err(constraint(name, "filterName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    if pattern.len() > MAX_FILTER_PATTERN {
        return Err(constraint(pattern, "filterPattern", "Member must have length less than or equal to 1024"));
    }
    Pattern::parse(pattern).map_err(|_| invalid("Invalid metric filter pattern"))?;
    Ok(())
}

fn validate_metric_name(value: &str, member: &str) -> Result<(), LogsError> {
    if value.is_empty() || value.len() > 255 {
        return Err(constraint(value, member, "Member must have length less than or equal to 255"));
    }
    if value.contains([':', '*', '$']) {
        return Err(constraint(value, member, "Member must satisfy regular expression pattern: [^:*$]*"));
    }
    Ok(())
}

impl Logs {
    pub async fn put_subscription_filter(&self, ctx: &RequestContext, input: PutSubscriptionFilterRequest) -> Result<(), ServiceError> {
        validate_filter(&input.filter_name, &input.filter_pattern)
            .map_err(|e| match e {
                LogsError::InvalidParameterException(m) if m == "Invalid metric filter pattern" => invalid("Invalid subscription filter pattern"),
                e => e,
            })?;
        if !input.destination_arn.starts_with("arn:") {
            return Err(invalid(format!("Invalid destinationArn: {}", input.destination_arn)).into());
        }
        if let Some(d) = input.distribution.as_deref()
            && !matches!(d, "Random" | "ByLogStream")
        {
            return Err(constraint(d, "distribution", "Member must satisfy enum value set: [Random, ByLogStream]").into());
        }
        // The group must exist, and have room for a new filter, before the destination hears from it.
        self.with_partition(ctx, |p| {
            let g = group_mut(p, &input.log_group_name)?;
            let filters = &g.rec.subscription_filters;
            if filters.len() >= MAX_SUBSCRIPTION_FILTERS && !filters.iter().any(|f| f.name == input.filter_name) {
                return Err(LogsError::LimitExceededException("Resource limit exceeded.".into()));
            }
            Ok(())
        })?;
        self.check_destination(ctx, &input.destination_arn, clock::now_millis()).await?;
        self.update_group(ctx, &input.log_group_name, |g| {
            let filters = &mut g.rec.subscription_filters;
            let count = filters.len();
            let record = SubscriptionFilterRecord {
                name: input.filter_name.clone(),
                pattern: input.filter_pattern.clone(),
                destination_arn: input.destination_arn.clone(),
                role_arn: input.role_arn.clone(),
                distribution: Some(input.distribution.clone().unwrap_or_else(|| "ByLogStream".into())),
                creation_time: clock::now_millis(),
            };
            match filters.iter_mut().find(|f| f.name == input.filter_name) {
                Some(f) => *f = SubscriptionFilterRecord { creation_time: f.creation_time, ..record },
                None if count >= MAX_SUBSCRIPTION_FILTERS => {
                    return Err(LogsError::LimitExceededException("Resource limit exceeded.".into()));
                }
                None => filters.push(record),
            }
            Ok(())
        })
        .await
    }

    pub async fn delete_subscription_filter(&self, ctx: &RequestContext, input: DeleteSubscriptionFilterRequest) -> Result<(), ServiceError> {
        self.update_group(ctx, &input.log_group_name, |g| {
            let before = g.rec.subscription_filters.len();
            g.rec.subscription_filters.retain(|f| f.name != input.filter_name);
            if g.rec.subscription_filters.len() == before {
                return Err(LogsError::ResourceNotFoundException("The specified subscription filter does not exist.".into()));
            }
            Ok(())
        })
        .await
    }

    pub fn describe_subscription_filters(
        &self,
        ctx: &RequestContext,
        input: DescribeSubscriptionFiltersRequest,
    ) -> Result<DescribeSubscriptionFiltersResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE_FILTERS, MAX_DESCRIBE_FILTERS)?;
        let filters = self.with_partition(ctx, |p| {
            let g = group_mut(p, &input.log_group_name)?;
            Ok::<_, LogsError>(
                g.rec
                    .subscription_filters
                    .iter()
                    .filter(|f| input.filter_name_prefix.as_deref().is_none_or(|pre| f.name.starts_with(pre)))
                    .map(|f| SubscriptionFilter {
                        filter_name: Some(f.name.clone()),
                        log_group_name: Some(g.rec.name.clone()),
                        filter_pattern: Some(f.pattern.clone()),
                        destination_arn: Some(f.destination_arn.clone()),
                        role_arn: f.role_arn.clone(),
                        distribution: f.distribution.clone(),
                        creation_time: Some(f.creation_time),
                        ..Default::default()
                    })
                    .collect::<Vec<_>>(),
            )
        })?;
        let (subscription_filters, next_token) = pagination::page(filters, input.next_token.as_deref(), limit)?;
        Ok(DescribeSubscriptionFiltersResponse { subscription_filters: Some(subscription_filters), next_token })
    }

    pub async fn put_metric_filter(&self, ctx: &RequestContext, input: PutMetricFilterRequest) -> Result<(), ServiceError> {
        validate_filter(&input.filter_name, &input.filter_pattern)?;
        match input.metric_transformations.len() {
            0 => return Err(constraint("[]", "metricTransformations", "Member must have length greater than or equal to 1").into()),
            1 => {}
            _ => return Err(constraint("[...]", "metricTransformations", "Member must have length less than or equal to 1").into()),
        }
        let mut transformations = Vec::new();
        for t in input.metric_transformations {
            validate_metric_name(&t.metric_name, "metricTransformations.1.member.metricName")?;
            validate_metric_name(&t.metric_namespace, "metricTransformations.1.member.metricNamespace")?;
            if t.metric_value.is_empty() {
                return Err(constraint("", "metricTransformations.1.member.metricValue", "Member must have length greater than or equal to 1").into());
            }
            if t.dimensions.as_ref().is_some_and(|d| d.len() > 3) {
                return Err(invalid("A metric filter can have at most 3 dimensions.").into());
            }
            if t.dimensions.as_ref().is_some_and(|d| !d.is_empty()) && t.default_value.is_some() {
                return Err(invalid("You cannot specify both dimensions and a default value.").into());
            }
            transformations.push(MetricTransformationRecord {
                metric_name: t.metric_name,
                metric_namespace: t.metric_namespace,
                metric_value: t.metric_value,
                default_value: t.default_value,
                dimensions: t.dimensions.map(|d| d.into_iter().collect()),
                unit: t.unit,
            });
        }
        self.update_group(ctx, &input.log_group_name, |g| {
            let filters = &mut g.rec.metric_filters;
            let count = filters.len();
            let record = MetricFilterRecord {
                name: input.filter_name.clone(),
                pattern: input.filter_pattern.clone(),
                transformations,
                creation_time: clock::now_millis(),
            };
            match filters.iter_mut().find(|f| f.name == input.filter_name) {
                Some(f) => *f = MetricFilterRecord { creation_time: f.creation_time, ..record },
                None if count >= MAX_METRIC_FILTERS => {
                    return Err(LogsError::LimitExceededException("Resource limit exceeded.".into()));
                }
                None => {
                    filters.push(record);
                    filters.sort_by(|a, b| a.name.cmp(&b.name));
                }
            }
            Ok(())
        })
        .await
    }

    pub async fn delete_metric_filter(&self, ctx: &RequestContext, input: DeleteMetricFilterRequest) -> Result<(), ServiceError> {
        self.update_group(ctx, &input.log_group_name, |g| {
            let before = g.rec.metric_filters.len();
            g.rec.metric_filters.retain(|f| f.name != input.filter_name);
            if g.rec.metric_filters.len() == before {
                return Err(LogsError::ResourceNotFoundException("The specified metric filter does not exist.".into()));
            }
            Ok(())
        })
        .await
    }

    pub fn describe_metric_filters(&self, ctx: &RequestContext, input: DescribeMetricFiltersRequest) -> Result<DescribeMetricFiltersResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE_FILTERS, MAX_DESCRIBE_FILTERS)?;
        if input.filter_name_prefix.is_some() && input.log_group_name.is_none() {
            return Err(invalid("If you specify filterNamePrefix, you must also specify logGroupName.").into());
        }
        if input.metric_name.is_some() != input.metric_namespace.is_some() {
            return Err(invalid("If you specify metricName, you must also specify metricNamespace.").into());
        }
        let filters = self.with_partition(ctx, |p| {
            let groups: Vec<_> = match &input.log_group_name {
                Some(name) => vec![&*group_mut(p, name)?],
                None => p.values().collect(),
            };
            Ok::<_, LogsError>(
                groups
                    .into_iter()
                    .flat_map(|g| g.rec.metric_filters.iter().map(move |f| (g, f)))
                    .filter(|(_, f)| input.filter_name_prefix.as_deref().is_none_or(|pre| f.name.starts_with(pre)))
                    .filter(|(_, f)| {
                        input.metric_name.as_ref().is_none_or(|n| {
                            f.transformations.iter().any(|t| &t.metric_name == n && Some(&t.metric_namespace) == input.metric_namespace.as_ref())
                        })
                    })
                    .map(|(g, f)| MetricFilter {
                        filter_name: Some(f.name.clone()),
                        filter_pattern: Some(f.pattern.clone()),
                        metric_transformations: Some(
                            f.transformations
                                .iter()
                                .map(|t| MetricTransformation {
                                    metric_name: t.metric_name.clone(),
                                    metric_namespace: t.metric_namespace.clone(),
                                    metric_value: t.metric_value.clone(),
                                    default_value: t.default_value,
                                    dimensions: t.dimensions.as_ref().map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                                    unit: t.unit.clone(),
                                })
                                .collect(),
                        ),
                        creation_time: Some(f.creation_time),
                        log_group_name: Some(g.rec.name.clone()),
                        ..Default::default()
                    })
                    .collect::<Vec<_>>(),
            )
        })?;
        let (metric_filters, next_token) = pagination::page(filters, input.next_token.as_deref(), limit)?;
        Ok(DescribeMetricFiltersResponse { metric_filters: Some(metric_filters), next_token })
    }
}

/// TestMetricFilter takes 1 to 50 messages.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html
const MAX_TEST_MESSAGES: usize = 50;

impl Logs {
    pub fn test_metric_filter(&self, input: TestMetricFilterRequest) -> Result<TestMetricFilterResponse, ServiceError> {
        if input.filter_pattern.len() > MAX_FILTER_PATTERN {
            return Err(constraint(&input.filter_pattern, "filterPattern", "Member must have length less than or equal to 1024").into());
        }
        match input.log_event_messages.len() {
            0 => return Err(constraint("[]", "logEventMessages", "Member must have length greater than or equal to 1").into()),
            n if n > MAX_TEST_MESSAGES => {
                return Err(constraint("[...]", "logEventMessages", "Member must have length less than or equal to 50").into());
            }
            _ => {}
        }
        let pattern = Pattern::parse(&input.filter_pattern).map_err(|_| invalid("Invalid metric filter pattern"))?;
        let matches = input
            .log_event_messages
            .into_iter()
            .enumerate()
            .filter_map(|(i, message)| {
                let values = pattern.extract(&message)?;
                Some(MetricFilterMatchRecord {
                    event_number: Some(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                    event_message: Some(message),
                    extracted_values: Some(values.into_iter().collect()),
                })
            })
            .collect();
        Ok(TestMetricFilterResponse { matches: Some(matches) })
    }
}
