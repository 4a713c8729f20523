//! Log groups: create, delete, describe, retention and tags.

use crate::errors::{constraint, group_not_found, invalid, store_failed};
use crate::generated::*;
use crate::pagination;
use crate::state::{GROUPS, Group, GroupRecord, Logs, Partition, EVENTS, STREAMS, group_mut};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock};
use std::collections::BTreeMap;

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
const MAX_GROUP_NAME: usize = 512;
const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
/// DescribeLogGroups returns at most 50 groups a page.
const MAX_DESCRIBE_GROUPS: i32 = 50;
/// A resource has at most 50 tags.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html
const MAX_TAGS: usize = 50;
/// The values PutRetentionPolicy accepts.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
const RETENTION_DAYS: &[i32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const GROUP_CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

pub(crate) fn validate_group_name(name: &str, member: &str) -> Result<(), LogsError> {
    if name.is_empty() {
        return Err(constraint(name, member, "Member must have length greater than or equal to 1"));
    }
    if name.len() > MAX_GROUP_NAME {
        return Err(constraint(name, member, "Member must have length less than or equal to 512"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')) {
        return Err(constraint(name, member, &format!("Member must satisfy regular expression pattern: {GROUP_NAME_PATTERN}")));
    }
    Ok(())
}

/// What TagResource and its siblings name by ARN.
enum TaggedResource {
    Group(String),
    Destination(String),
}

pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), LogsError> {
    if tags.len() > MAX_TAGS {
        return Err(LogsError::TooManyTagsException("A resource can have no more than 50 tags.".into()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 {
            return Err(constraint(k, "tags", "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"));
        }
        if v.len() > 256 {
            return Err(constraint(v, "tags", "Map value must satisfy constraint: [Member must have length less than or equal to 256]"));
        }
        if k.starts_with("aws:") {
            return Err(invalid("Tag keys beginning with 'aws:' are reserved."));
        }
    }
    Ok(())
}

/// The group a `logGroupName` or `logGroupIdentifier` (name or ARN) names.
pub(crate) fn resolve_group_name(name: Option<&str>, identifier: Option<&str>) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")),
        (Some(n), None) => Ok(n.to_string()),
        (None, Some(id)) => Ok(group_name_of_arn(id).unwrap_or(id).to_string()),
        (None, None) => Err(invalid("Should provide either name or ARN of the log group.")),
    }
}

/// `arn:aws:logs:r:a:log-group:NAME[:*]` -> NAME.
pub(crate) fn group_name_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, name) = rest.split_once(":log-group:")?;
    Some(name.strip_suffix(":*").unwrap_or(name))
}

pub(crate) fn describe(group: &Group) -> LogGroup {
    LogGroup {
        log_group_name: Some(group.rec.name.clone()),
        creation_time: Some(group.rec.creation_time),
        retention_in_days: group.rec.retention_in_days,
        metric_filter_count: Some(i32::try_from(group.rec.metric_filters.len()).unwrap_or(i32::MAX)),
        arn: Some(group.arn()),
        log_group_arn: Some(group.arn_without_star()),
        stored_bytes: Some(group.stored_bytes()),
        kms_key_id: group.rec.kms_key_id.clone(),
        log_group_class: Some(group.rec.log_group_class.clone()),
        deletion_protection_enabled: Some(group.rec.deletion_protection),
        data_protection_status: group.rec.data_protection_policy.as_ref().map(|_| "ACTIVATED".to_string()),
        ..Default::default()
    }
}

impl Logs {
    pub async fn create_log_group(&self, ctx: &RequestContext, input: CreateLogGroupRequest) -> Result<(), ServiceError> {
        validate_group_name(&input.log_group_name, "logGroupName")?;
        let class = input.log_group_class.unwrap_or_else(|| "STANDARD".into());
        if !GROUP_CLASSES.contains(&class.as_str()) {
            return Err(constraint(&class, "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]").into());
        }
        let tags: BTreeMap<String, String> = input.tags.unwrap_or_default().into_iter().collect();
        validate_tags(&tags)?;
        let commit = self.with_partition(ctx, |p| {
            if p.contains_key(&input.log_group_name) {
                return Err(LogsError::ResourceAlreadyExistsException("The specified log group already exists".into()));
            }
            let group = Group {
                rec: GroupRecord {
                    account: ctx.account_id.clone(),
                    region: ctx.region.clone(),
                    name: input.log_group_name.clone(),
                    creation_time: clock::now_millis(),
                    retention_in_days: None,
                    tags,
                    log_group_class: class,
                    kms_key_id: input.kms_key_id,
                    deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
                    subscription_filters: Vec::new(),
                    metric_filters: Vec::new(),
                    data_protection_policy: None,
                    data_protection_updated: None,
                },
                streams: BTreeMap::new(),
            };
            let op = group.record_op();
            p.insert(input.log_group_name.clone(), group);
            Ok(self.store.submit(vec![op]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn delete_log_group(&self, ctx: &RequestContext, input: DeleteLogGroupRequest) -> Result<(), ServiceError> {
        let commit = self.with_partition(ctx, |p| {
            let group = p.get(&input.log_group_name).ok_or_else(group_not_found)?;
            if group.rec.deletion_protection {
                return Err(LogsError::OperationAbortedException(
                    "Log group deletion protection is enabled. Disable it before deleting the log group.".into(),
                ));
            }
            let key = group.key();
            p.remove(&input.log_group_name);
            Ok(self.store.submit(vec![
                StoreOp::delete(GROUPS, key.clone()),
                StoreOp::delete_prefix(STREAMS, format!("{key}:")),
                StoreOp::delete_prefix(EVENTS, format!("{key}:")),
            ]))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn describe_log_groups(
        &self,
        ctx: &RequestContext,
        input: DescribeLogGroupsRequest,
    ) -> Result<DescribeLogGroupsResponse, ServiceError> {
        let limit = pagination::limit(input.limit, MAX_DESCRIBE_GROUPS, MAX_DESCRIBE_GROUPS)?;
        if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
            return Err(invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.").into());
        }
        let pattern = input.log_group_name_pattern.as_deref().map(str::to_lowercase);
        let (groups, commit) = self.with_partition(ctx, |p| {
            let mut ops = Vec::new();
            let now = clock::now_millis();
            let mut out = Vec::new();
            for group in p.values_mut() {
                let name = &group.rec.name;
                if input.log_group_name_prefix.as_deref().is_some_and(|pre| !name.starts_with(pre)) {
                    continue;
                }
                if pattern.as_deref().is_some_and(|pat| !name.to_lowercase().contains(pat)) {
                    continue;
                }
                if input.log_group_class.as_deref().is_some_and(|c| c != group.rec.log_group_class) {
                    continue;
                }
                if let Some(ids) = &input.log_group_identifiers
                    && !ids.iter().any(|id| group_name_of_arn(id).unwrap_or(id) == name)
                {
                    continue;
                }
                group.expire(now, &mut ops);
                out.push(describe(group));
            }
            (out, self.store.submit(ops))
        });
        commit.wait().await.map_err(store_failed)?;
        let (log_groups, next_token) = pagination::page(groups, input.next_token.as_deref(), limit)?;
        Ok(DescribeLogGroupsResponse { log_groups: Some(log_groups), next_token })
    }

    pub async fn put_retention_policy(&self, ctx: &RequestContext, input: PutRetentionPolicyRequest) -> Result<(), ServiceError> {
        let days = input.retention_in_days;
        if !RETENTION_DAYS.contains(&days) {
            let allowed: Vec<String> = RETENTION_DAYS.iter().map(ToString::to_string).collect();
            return Err(constraint(days, "retentionInDays", &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))).into());
        }
        self.update_group(ctx, &input.log_group_name, |g| {
            g.rec.retention_in_days = Some(days);
            Ok(())
        })
        .await
    }

    pub async fn delete_retention_policy(&self, ctx: &RequestContext, input: DeleteRetentionPolicyRequest) -> Result<(), ServiceError> {
        self.update_group(ctx, &input.log_group_name, |g| {
            g.rec.retention_in_days = None;
            Ok(())
        })
        .await
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<(), ServiceError> {
        let tags: BTreeMap<String, String> = input.tags.into_iter().collect();
        match self.resource_of_arn(ctx, &input.resource_arn)? {
            TaggedResource::Group(name) => self.tag(ctx, &name, tags).await,
            TaggedResource::Destination(name) => {
                validate_tags(&tags)?;
                self.change_destination_tags(ctx, &name, |t| {
                    t.extend(tags);
                    validate_tags(t)
                })
                .await
            }
        }
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<(), ServiceError> {
        match self.resource_of_arn(ctx, &input.resource_arn)? {
            TaggedResource::Group(name) => self.untag(ctx, &name, &input.tag_keys).await,
            TaggedResource::Destination(name) => {
                self.change_destination_tags(ctx, &name, |t| {
                    t.retain(|k, _| !input.tag_keys.contains(k));
                    Ok(())
                })
                .await
            }
        }
    }

    pub fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, ServiceError> {
        let tags = match self.resource_of_arn(ctx, &input.resource_arn)? {
            TaggedResource::Group(name) => self.tags(ctx, &name)?,
            TaggedResource::Destination(name) => self.destination_tags(ctx, &name)?,
        };
        Ok(ListTagsForResourceResponse { tags: Some(tags) })
    }

    pub async fn tag_log_group(&self, ctx: &RequestContext, input: TagLogGroupRequest) -> Result<(), ServiceError> {
        self.tag(ctx, &input.log_group_name, input.tags.into_iter().collect()).await
    }

    pub async fn untag_log_group(&self, ctx: &RequestContext, input: UntagLogGroupRequest) -> Result<(), ServiceError> {
        self.untag(ctx, &input.log_group_name, &input.tags).await
    }

    pub fn list_tags_log_group(&self, ctx: &RequestContext, input: ListTagsLogGroupRequest) -> Result<ListTagsLogGroupResponse, ServiceError> {
        Ok(ListTagsLogGroupResponse { tags: Some(self.tags(ctx, &input.log_group_name)?) })
    }

    async fn tag(&self, ctx: &RequestContext, name: &str, tags: BTreeMap<String, String>) -> Result<(), ServiceError> {
        validate_tags(&tags)?;
        self.update_group(ctx, name, |g| {
            let mut merged = g.rec.tags.clone();
            merged.extend(tags);
            validate_tags(&merged)?;
            g.rec.tags = merged;
            Ok(())
        })
        .await
    }

    async fn untag(&self, ctx: &RequestContext, name: &str, keys: &[String]) -> Result<(), ServiceError> {
        self.update_group(ctx, name, |g| {
            for k in keys {
                g.rec.tags.remove(k);
            }
            Ok(())
        })
        .await
    }

    fn tags(&self, ctx: &RequestContext, name: &str) -> Result<indexmap::IndexMap<String, String>, ServiceError> {
        self.with_partition(ctx, |p| {
            let g = p.get(name).ok_or_else(group_not_found)?;
            Ok(g.rec.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        })
    }

    /// Tagging by ARN reaches log groups and destinations of the caller's account and region only.
    fn resource_of_arn(&self, ctx: &RequestContext, arn: &str) -> Result<TaggedResource, LogsError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, region, account, resource] = parts.as_slice() else {
            return Err(invalid(format!("Invalid ARN: {arn}")));
        };
        if *service != "logs" {
            return Err(invalid(format!("Invalid ARN: {arn}")));
        }
        if let Some(name) = resource.strip_prefix("destination:") {
            if *region != ctx.region || *account != ctx.account_id {
                return Err(LogsError::ResourceNotFoundException("The specified destination does not exist.".into()));
            }
            return Ok(TaggedResource::Destination(name.to_string()));
        }
        let Some(name) = resource.strip_prefix("log-group:") else {
            return Err(LogsError::ResourceNotFoundException("The specified resource does not exist.".into()));
        };
        if *region != ctx.region || *account != ctx.account_id {
            return Err(group_not_found());
        }
        Ok(TaggedResource::Group(name.strip_suffix(":*").unwrap_or(name).to_string()))
    }

    /// Applies `change` to a group and stores its record.
    pub(crate) async fn update_group(
        &self,
        ctx: &RequestContext,
        name: &str,
        change: impl FnOnce(&mut Group) -> Result<(), LogsError>,
    ) -> Result<(), ServiceError> {
        let commit = self.with_partition(ctx, |p: &mut Partition| {
            let group = group_mut(p, name)?;
            change(group)?;
            Ok::<_, LogsError>(self.store.submit(vec![group.record_op()]))
        })?;
        commit.wait().await.map_err(store_failed)
    }
}
