//! Topics: create, delete, list, attributes, permissions, tags and data protection.

use crate::arn::{parse_topic, topic_arn};
use crate::errors::{invalid_parameter, resource_not_found, topic_not_found};
use crate::generated::*;
// The model's ListTopics entry shares its name with the domain type.
use crate::generated::Topic as TopicEntry;
use crate::policy::{self, authorize, policy_of};
use crate::state::{Sns, Topic, delete_topic, put_topic};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};

/// "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers,
/// underscores, and hyphens, and must be between 1 and 256 characters long." (CreateTopic)
pub const MAX_TOPIC_NAME_LEN: usize = 256;
/// ListTopics / ListSubscriptions return up to 100 entries per page.
pub const PAGE_SIZE: usize = 100;
/// "You can add up to 50 tags to each Amazon SNS topic." Keys 1-128, values 0-256.
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html>
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_KEY_LEN: usize = 128;
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// DisplayName: up to 100 characters (used as the SMS sender name).
pub const MAX_DISPLAY_NAME_LEN: usize = 100;

/// Attributes a topic can be created with or given later (SetTopicAttributes), beside the
/// delivery status logging attributes matched by [`is_feedback_attribute`].
const SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
];

fn is_feedback_attribute(name: &str) -> bool {
    const PROTOCOLS: &[&str] = &["Application", "Firehose", "HTTP", "Lambda", "SQS"];
    const SUFFIXES: &[&str] = &["SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"];
    PROTOCOLS.iter().any(|p| name.strip_prefix(p).is_some_and(|rest| SUFFIXES.contains(&rest)))
}

const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

fn valid_name(name: &str, fifo: bool) -> bool {
    let base = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    base.is_some_and(|b| {
        !b.is_empty() && name.len() <= MAX_TOPIC_NAME_LEN && b.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// (account, region, name) of a topic the caller names: the topic must be in the
/// caller's region.
pub(crate) fn locate<'a>(ctx: &RequestContext, arn: &'a str) -> Result<(&'a str, &'a str, &'a str), SnsError> {
    let (region, account, name) = parse_topic(arn).ok_or_else(|| invalid_parameter("TopicArn"))?;
    if region != ctx.region {
        return Err(invalid_parameter("TopicArn"));
    }
    Ok((account, region, name))
}

/// A topic attribute's value checked as SetTopicAttributes / CreateTopic check it.
fn check_attribute(name: &str, value: &str, fifo: bool) -> Result<(), SnsError> {
    match name {
        "Policy" | "DeliveryPolicy" | "ArchivePolicy" if !value.is_empty() => {
            match serde_json::from_str::<serde_json::Value>(value) {
                Ok(serde_json::Value::Object(_)) => Ok(()),
                _ => Err(invalid_parameter(format!("{name}: failed to parse JSON."))),
            }
        }
        "DisplayName" if value.chars().count() > MAX_DISPLAY_NAME_LEN => Err(invalid_parameter("DisplayName")),
        "ContentBasedDeduplication" if !fifo => Err(invalid_parameter(
            "ContentBasedDeduplication Reason: Content-based deduplication can only be set for FIFO topics",
        )),
        "ContentBasedDeduplication" if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") => {
            Err(invalid_parameter("ContentBasedDeduplication"))
        }
        "FifoThroughputScope" if !fifo => Err(invalid_parameter(
            "FifoThroughputScope Reason: FifoThroughputScope can only be set for FIFO topics",
        )),
        "FifoThroughputScope" if value != "Topic" && value != "MessageGroup" => Err(invalid_parameter("FifoThroughputScope")),
        "SignatureVersion" if value != "1" && value != "2" => Err(invalid_parameter("SignatureVersion")),
        _ => Ok(()),
    }
}

pub(crate) fn check_tags(existing: &IndexMap<String, String>, tags: &[Tag]) -> Result<(), SnsError> {
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        if !seen.insert(t.key.as_str()) {
            return Err(invalid_parameter("Duplicated keys are not allowed."));
        }
        if t.key.is_empty() || t.key.chars().count() > MAX_TAG_KEY_LEN {
            return Err(invalid_parameter("Tag keys must be between 1 and 128 characters in length."));
        }
        if t.value.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(invalid_parameter("Tag values must be less than 256 characters in length."));
        }
    }
    let added = tags.iter().filter(|t| !existing.contains_key(&t.key)).count();
    if existing.len() + added > MAX_TAGS {
        return Err(SnsError::TagLimitExceededException("Could not complete request: tag quota of per resource exceeded".into()));
    }
    Ok(())
}

/// Pages of `PAGE_SIZE` after the item named by the token (an opaque encoding of the
/// last key returned).
pub(crate) fn paginate<T>(items: Vec<(String, T)>, token: Option<&str>) -> Result<(Vec<T>, Option<String>), SnsError> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let after = match token.filter(|t| !t.is_empty()) {
        Some(t) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid_parameter("NextToken"))?,
        ),
        None => None,
    };
    let mut rest: Vec<(String, T)> = items.into_iter().filter(|(k, _)| after.as_deref().is_none_or(|a| k.as_str() > a)).collect();
    let more = rest.len() > PAGE_SIZE;
    rest.truncate(PAGE_SIZE);
    let next = if more { rest.last().map(|(k, _)| URL_SAFE_NO_PAD.encode(k)) } else { None };
    Ok((rest.into_iter().map(|(_, v)| v).collect(), next))
}

impl Sns {
    pub async fn create_topic(&self, ctx: &RequestContext, input: CreateTopicInput) -> Result<CreateTopicResponse, ServiceError> {
        let mut attributes = input.attributes.unwrap_or_default();
        let fifo = is_true(attributes.get("FifoTopic"));
        if !valid_name(&input.name, fifo) {
            return Err(invalid_parameter(if fifo {
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            } else {
                "Topic Name"
            })
            .into());
        }
        attributes.shift_remove("FifoTopic");
        for (name, value) in &attributes {
            if !SETTABLE.contains(&name.as_str()) && !is_feedback_attribute(name) {
                return Err(invalid_parameter("Attributes Reason: Unknown attribute").into());
            }
            check_attribute(name, value, fifo)?;
        }
        if let Some(p) = &input.data_protection_policy {
            check_attribute("Policy", p, fifo)?;
        }
        let tags = input.tags.unwrap_or_default();
        let arn = topic_arn(&ctx.region, &ctx.account_id, &input.name);
        self.change(&ctx.account_id, &ctx.region, |p| {
            if let Some(existing) = p.topics.get(&input.name) {
                // CreateTopic is idempotent for the same name and attributes.
                let differs = existing.fifo != fifo || attributes.iter().any(|(k, v)| existing.attributes.get(k) != Some(v));
                if differs {
                    return Err(invalid_parameter("Attributes Reason: Topic already exists with different attributes"));
                }
                if tags.iter().any(|t| existing.tags.get(&t.key) != Some(&t.value)) {
                    return Err(invalid_parameter("Tags Reason: Topic already exists with different tags"));
                }
                return Ok((existing.arn.clone(), Vec::new()));
            }
            check_tags(&IndexMap::new(), &tags)?;
            if fifo && !attributes.contains_key("ContentBasedDeduplication") {
                attributes.insert("ContentBasedDeduplication".into(), "false".into());
            }
            let topic = Topic {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: input.name.clone(),
                arn: arn.clone(),
                fifo,
                attributes,
                tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
                data_protection_policy: input.data_protection_policy,
                subscriptions_deleted: 0,
                last_sequence: 0,
                deduplication: Default::default(),
            };
            let op = put_topic(&topic);
            p.topics.insert(topic.name.clone(), topic);
            Ok((arn, vec![op]))
        })
        .await
        .map(|arn| CreateTopicResponse { topic_arn: Some(arn) })
    }

    pub async fn delete_topic(&self, ctx: &RequestContext, input: DeleteTopicInput) -> Result<(), ServiceError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        self.change(account, region, |p| {
            // Deleting a topic that does not exist succeeds (DeleteTopic is idempotent).
            let Some(topic) = p.topics.get(name) else { return Ok(((), Vec::new())) };
            authorize(ctx, topic, "DeleteTopic")?;
            let ops = delete_topic(topic);
            let arn = topic.arn.clone();
            p.topics.remove(name);
            p.subscriptions.retain(|_, s| s.topic_arn != arn);
            Ok(((), ops))
        })
        .await
    }

    pub fn list_topics(&self, ctx: &RequestContext, input: ListTopicsInput) -> Result<ListTopicsResponse, SnsError> {
        let arns = self.read(&ctx.account_id, &ctx.region, |p| {
            Ok(p.topics.values().map(|t| (t.arn.clone(), TopicEntry { topic_arn: Some(t.arn.clone()) })).collect::<Vec<_>>())
        })?;
        let (topics, next_token) = paginate(arns, input.next_token.as_deref())?;
        Ok(ListTopicsResponse { topics: Some(topics), next_token })
    }

    pub fn get_topic_attributes(&self, ctx: &RequestContext, input: GetTopicAttributesInput) -> Result<GetTopicAttributesResponse, SnsError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        self.read(account, region, |p| {
            let topic = p.topic(name)?;
            authorize(ctx, topic, "GetTopicAttributes")?;
            let (mut confirmed, mut pending) = (0, 0);
            for s in p.subscriptions_of(&topic.arn) {
                if s.pending { pending += 1 } else { confirmed += 1 }
            }
            let mut a = IndexMap::new();
            a.insert("Policy".to_string(), policy_of(topic));
            a.insert("Owner".into(), topic.account.clone());
            a.insert("SubscriptionsPending".into(), pending.to_string());
            a.insert("TopicArn".into(), topic.arn.clone());
            a.insert("EffectiveDeliveryPolicy".into(), EFFECTIVE_DELIVERY_POLICY.into());
            a.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
            a.insert("DisplayName".into(), String::new());
            a.insert("SubscriptionsDeleted".into(), topic.subscriptions_deleted.to_string());
            if topic.fifo {
                a.insert("FifoTopic".into(), "true".into());
            }
            for (k, v) in &topic.attributes {
                a.insert(k.clone(), v.clone());
            }
            Ok(GetTopicAttributesResponse { attributes: Some(a) })
        })
    }

    pub async fn set_topic_attributes(&self, ctx: &RequestContext, input: SetTopicAttributesInput) -> Result<(), ServiceError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        let attribute = input.attribute_name;
        if !SETTABLE.contains(&attribute.as_str()) && !is_feedback_attribute(&attribute) {
            return Err(invalid_parameter("AttributeName").into());
        }
        let value = input.attribute_value.unwrap_or_default();
        self.change(account, region, |p| {
            let topic = p.topic_mut(name)?;
            authorize(ctx, topic, "SetTopicAttributes")?;
            check_attribute(&attribute, &value, topic.fifo)?;
            // An empty Policy or DeliveryPolicy puts the default back.
            if value.is_empty() && matches!(attribute.as_str(), "Policy" | "DeliveryPolicy" | "ArchivePolicy") {
                topic.attributes.shift_remove(&attribute);
            } else {
                topic.attributes.insert(attribute, value);
            }
            Ok(((), vec![put_topic(topic)]))
        })
        .await
    }

    pub async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionInput) -> Result<(), ServiceError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        if input.aws_account_id.is_empty() || input.action_name.is_empty() {
            return Err(invalid_parameter("AWSAccountId and ActionName must not be empty").into());
        }
        if input.action_name.iter().any(|a| !policy::PERMISSION_ACTIONS.contains(&a.as_str())) {
            return Err(invalid_parameter("Policy statement action out of service scope!").into());
        }
        self.change(account, region, |p| {
            let topic = p.topic_mut(name)?;
            authorize(ctx, topic, "AddPermission")?;
            let updated = policy::add_statement(&policy_of(topic), &topic.arn, &input.label, &input.aws_account_id, &input.action_name)?;
            topic.attributes.insert("Policy".into(), updated);
            Ok(((), vec![put_topic(topic)]))
        })
        .await
    }

    pub async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionInput) -> Result<(), ServiceError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        self.change(account, region, |p| {
            let topic = p.topic_mut(name)?;
            authorize(ctx, topic, "RemovePermission")?;
            // A label that names no statement changes nothing.
            let Some(updated) = policy::remove_statement(&policy_of(topic), &input.label) else {
                return Ok(((), Vec::new()));
            };
            topic.attributes.insert("Policy".into(), updated);
            Ok(((), vec![put_topic(topic)]))
        })
        .await
    }

    /// The topic a tagging or data protection call names by ARN.
    fn resource<'a>(&self, ctx: &RequestContext, arn: &'a str) -> Result<(&'a str, &'a str, &'a str), SnsError> {
        let (region, account, name) = parse_topic(arn).ok_or_else(resource_not_found)?;
        if region != ctx.region || account != ctx.account_id {
            return Err(resource_not_found());
        }
        Ok((account, region, name))
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceRequest) -> Result<TagResourceResponse, ServiceError> {
        let (account, region, name) = self.resource(ctx, &input.resource_arn)?;
        self.change(account, region, |p| {
            let topic = p.topics.get_mut(name).ok_or_else(resource_not_found)?;
            check_tags(&topic.tags, &input.tags)?;
            for t in input.tags {
                topic.tags.insert(t.key, t.value);
            }
            Ok((TagResourceResponse {}, vec![put_topic(topic)]))
        })
        .await
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceRequest) -> Result<UntagResourceResponse, ServiceError> {
        let (account, region, name) = self.resource(ctx, &input.resource_arn)?;
        self.change(account, region, |p| {
            let topic = p.topics.get_mut(name).ok_or_else(resource_not_found)?;
            for k in &input.tag_keys {
                topic.tags.shift_remove(k);
            }
            Ok((UntagResourceResponse {}, vec![put_topic(topic)]))
        })
        .await
    }

    pub fn list_tags_for_resource(&self, ctx: &RequestContext, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, SnsError> {
        let (account, region, name) = self.resource(ctx, &input.resource_arn)?;
        self.read(account, region, |p| {
            let topic = p.topics.get(name).ok_or_else(resource_not_found)?;
            let tags = topic.tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect();
            Ok(ListTagsForResourceResponse { tags: Some(tags) })
        })
    }

    pub fn get_data_protection_policy(
        &self,
        ctx: &RequestContext,
        input: GetDataProtectionPolicyInput,
    ) -> Result<GetDataProtectionPolicyResponse, SnsError> {
        let (account, region, name) = locate(ctx, &input.resource_arn)?;
        self.read(account, region, |p| {
            let topic = p.topics.get(name).ok_or_else(topic_not_found)?;
            authorize(ctx, topic, "GetDataProtectionPolicy")?;
            Ok(GetDataProtectionPolicyResponse { data_protection_policy: Some(topic.data_protection_policy.clone().unwrap_or_default()) })
        })
    }

    pub async fn put_data_protection_policy(&self, ctx: &RequestContext, input: PutDataProtectionPolicyInput) -> Result<(), ServiceError> {
        let (account, region, name) = locate(ctx, &input.resource_arn)?;
        check_attribute("Policy", &input.data_protection_policy, false)
            .map_err(|_| invalid_parameter("DataProtectionPolicy: failed to parse JSON."))?;
        self.change(account, region, |p| {
            let topic = p.topic_mut(name)?;
            authorize(ctx, topic, "PutDataProtectionPolicy")?;
            topic.data_protection_policy = Some(input.data_protection_policy).filter(|s| !s.is_empty());
            Ok(((), vec![put_topic(topic)]))
        })
        .await
    }
}
