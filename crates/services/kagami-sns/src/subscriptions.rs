//! Subscriptions: subscribe (with confirmation for endpoints that must prove they want
//! messages), confirm, unsubscribe, list, and subscription attributes.

use crate::arn::{parse, parse_queue, parse_subscription};
use crate::errors::{invalid_parameter, subscription_not_found};
use crate::filter::{FilterPolicy, Scope};
use crate::generated::*;
use crate::policy::authorize;
use crate::state::{Sns, Subscription, delete_subscription, put_subscription, put_topic};
use crate::topics::{locate, paginate};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, ids};
use std::sync::Arc;

const PROTOCOLS: &[&str] = &["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"];
/// Endpoints that must confirm (they get a token); the others are confirmed at once.
const CONFIRMED_BY_ENDPOINT: &[&str] = &["http", "https", "email", "email-json"];
const ATTRIBUTES: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];
/// What Subscribe answers for a subscription awaiting confirmation.
pub const PENDING_ARN: &str = "pending confirmation";
/// What the list operations show instead of a pending subscription's ARN.
pub const PENDING_LIST_ARN: &str = "PendingConfirmation";

fn new_token() -> String {
    // 64 hex digits, as unguessable as two UUIDs.
    format!("{}{}", ids::uuid_v4(), ids::uuid_v4()).replace('-', "")
}

fn check_endpoint(protocol: &str, endpoint: &str) -> Result<(), SnsError> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(invalid_parameter(format!("Amazon SNS does not support this protocol string: {protocol}")));
    }
    if endpoint.is_empty() {
        return Err(invalid_parameter("Endpoint"));
    }
    let ok = match protocol {
        "http" | "https" => endpoint.starts_with(&format!("{protocol}://")),
        "sqs" => parse_queue(endpoint).is_some(),
        "lambda" => parse(endpoint).is_some_and(|a| a.service == "lambda" && a.resource.starts_with("function:")),
        "email" | "email-json" => endpoint.contains('@'),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(invalid_parameter(match protocol {
        "http" | "https" => "Endpoint must match the specified protocol".to_string(),
        "sqs" => "SQS endpoint ARN".to_string(),
        "lambda" => "Lambda endpoint ARN".to_string(),
        "email" | "email-json" => "Email address".to_string(),
        _ => "Endpoint".to_string(),
    }))
}

/// Checks one subscription attribute; `scope` is the FilterPolicyScope the policy will
/// be applied with.
fn check_attribute(sub: &Subscription, name: &str, value: &str, scope: Scope) -> Result<(), SnsError> {
    if !ATTRIBUTES.contains(&name) {
        return Err(invalid_parameter("AttributeName"));
    }
    match name {
        "RawMessageDelivery" => {
            if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
                return Err(invalid_parameter(format!("RawMessageDelivery: Invalid value [{value}]. Must be true or false.")));
            }
            if !matches!(sub.protocol.as_str(), "sqs" | "http" | "https" | "firehose") {
                return Err(invalid_parameter(format!(
                    "Attributes Reason: Delivery protocol [{}] does not support raw message delivery.",
                    sub.protocol
                )));
            }
        }
        "FilterPolicy" if !value.is_empty() => {
            FilterPolicy::parse(value, scope)?;
        }
        "FilterPolicyScope" if value != "MessageAttributes" && value != "MessageBody" => {
            return Err(invalid_parameter(format!(
                "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes"
            )));
        }
        "RedrivePolicy" if !value.is_empty() => {
            let json: serde_json::Value =
                serde_json::from_str(value).map_err(|_| invalid_parameter("RedrivePolicy: failed to parse JSON."))?;
            let target = json.get("deadLetterTargetArn").and_then(|v| v.as_str()).unwrap_or_default();
            if parse_queue(target).is_none() {
                return Err(invalid_parameter("RedrivePolicy: deadLetterTargetArn is an invalid arn"));
            }
            if sub.topic_arn.ends_with(".fifo") && sub.endpoint.ends_with(".fifo") && !target.ends_with(".fifo") {
                return Err(invalid_parameter(
                    "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.",
                ));
            }
        }
        "DeliveryPolicy" | "ReplayPolicy" if !value.is_empty() => {
            serde_json::from_str::<serde_json::Value>(value).map_err(|_| invalid_parameter(format!("{name}: failed to parse JSON.")))?;
        }
        _ => {}
    }
    Ok(())
}

/// Sets (or, with an empty value, removes) an attribute that was checked.
fn apply_attribute(sub: &mut Subscription, name: &str, value: &str) {
    if value.is_empty() && matches!(name, "FilterPolicy" | "RedrivePolicy" | "DeliveryPolicy" | "ReplayPolicy") {
        sub.attributes.shift_remove(name);
    } else {
        sub.attributes.insert(name.to_string(), value.to_string());
    }
    sub.refresh_filter();
}

fn listed(s: &Subscription) -> crate::generated::Subscription {
    crate::generated::Subscription {
        subscription_arn: Some(if s.pending { PENDING_LIST_ARN.to_string() } else { s.arn.clone() }),
        owner: Some(s.owner.clone()),
        protocol: Some(s.protocol.clone()),
        endpoint: Some(s.endpoint.clone()),
        topic_arn: Some(s.topic_arn.clone()),
    }
}

/// (account, region) of the partition a subscription ARN names.
fn locate_subscription(arn: &str) -> Result<(&str, &str), SnsError> {
    let (region, account, _) = parse_subscription(arn).ok_or_else(|| invalid_parameter("SubscriptionArn"))?;
    Ok((account, region))
}

impl Sns {
    pub async fn subscribe(&self, ctx: &RequestContext, input: SubscribeInput) -> Result<SubscribeResponse, ServiceError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        let protocol = input.protocol.to_ascii_lowercase();
        let endpoint = input.endpoint.unwrap_or_default();
        check_endpoint(&protocol, &endpoint)?;
        let attributes = input.attributes.unwrap_or_default();
        let return_arn = input.return_subscription_arn.unwrap_or(false);
        let created = self
            .change(account, region, |p| {
                let topic = p.topic(name)?;
                authorize(ctx, topic, "Subscribe")?;
                if protocol == "sqs" && endpoint.ends_with(".fifo") && !topic.fifo {
                    return Err(invalid_parameter(
                        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
                    ));
                }
                if topic.fifo && protocol != "sqs" {
                    return Err(invalid_parameter(format!("Invalid protocol type: {protocol}")));
                }
                let mut sub = Subscription {
                    arn: format!("{}:{}", topic.arn, ids::uuid_v4()),
                    topic_arn: topic.arn.clone(),
                    owner: ctx.account_id.clone(),
                    protocol: protocol.clone(),
                    endpoint: endpoint.clone(),
                    attributes: IndexMap::new(),
                    pending: CONFIRMED_BY_ENDPOINT.contains(&protocol.as_str()),
                    token: new_token(),
                    authenticated: false,
                    filter: None,
                };
                let scope = match attributes.get("FilterPolicyScope").map(String::as_str) {
                    Some("MessageBody") => Scope::MessageBody,
                    _ => Scope::MessageAttributes,
                };
                for (k, v) in &attributes {
                    check_attribute(&sub, k, v, scope)?;
                }
                // Subscribe is idempotent for the same endpoint, unless attributes differ.
                if let Some(existing) = p.subscriptions_of(&sub.topic_arn).find(|s| s.protocol == protocol && s.endpoint == endpoint) {
                    if attributes.iter().any(|(k, v)| existing.attributes.get(k) != Some(v)) {
                        return Err(invalid_parameter("Attributes Reason: Subscription already exists with different attributes"));
                    }
                    let arn = if existing.pending && !return_arn { PENDING_ARN.to_string() } else { existing.arn.clone() };
                    return Ok(((arn, None), Vec::new()));
                }
                for (k, v) in &attributes {
                    apply_attribute(&mut sub, k, v);
                }
                sub.authenticated = !sub.pending;
                let op = put_subscription(&sub);
                let arn = if sub.pending && !return_arn { PENDING_ARN.to_string() } else { sub.arn.clone() };
                let confirm = sub.pending.then(|| sub.clone());
                p.subscriptions.insert(sub.arn.clone(), sub);
                Ok(((arn, confirm), vec![op]))
            })
            .await?;
        let (arn, confirm) = created;
        if let Some(sub) = confirm.filter(|s| s.protocol == "http" || s.protocol == "https") {
            self.send_confirmation(Arc::new(sub));
        }
        Ok(SubscribeResponse { subscription_arn: Some(arn) })
    }

    pub async fn confirm_subscription(
        &self,
        _ctx: &RequestContext,
        input: ConfirmSubscriptionInput,
    ) -> Result<ConfirmSubscriptionResponse, ServiceError> {
        // The token proves the caller; the SubscribeURL is visited unsigned, so the
        // topic is found where its ARN says, whatever region the request came in.
        let (region, account, name) = crate::arn::parse_topic(&input.topic_arn).ok_or_else(|| invalid_parameter("Topic"))?;
        let authenticate = input.authenticate_on_unsubscribe.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
        self.change(account, region, |p| {
            let topic_arn = p.topic(name)?.arn.clone();
            let sub = p
                .subscriptions
                .values_mut()
                .find(|s| s.topic_arn == topic_arn && s.token == input.token)
                .ok_or_else(|| invalid_parameter("Token"))?;
            // Confirming again answers the same ARN.
            if !sub.pending {
                return Ok((sub.arn.clone(), Vec::new()));
            }
            sub.pending = false;
            sub.authenticated = authenticate;
            Ok((sub.arn.clone(), vec![put_subscription(sub)]))
        })
        .await
        .map(|arn| ConfirmSubscriptionResponse { subscription_arn: Some(arn) })
    }

    pub async fn unsubscribe(&self, ctx: &RequestContext, input: UnsubscribeInput) -> Result<(), ServiceError> {
        let (account, region) = locate_subscription(&input.subscription_arn)?;
        self.change(account, region, |p| {
            // Unsubscribing twice succeeds.
            let Some(sub) = p.subscriptions.get(&input.subscription_arn) else { return Ok(((), Vec::new())) };
            let mut ops = vec![delete_subscription(sub)];
            // The subscriber or whoever the topic policy lets unsubscribe.
            let topic = crate::arn::parse_topic(&sub.topic_arn).and_then(|(_, _, n)| p.topics.get(n));
            if let Some(topic) = topic.filter(|_| sub.owner != ctx.account_id) {
                authorize(ctx, topic, "Unsubscribe")?;
            }
            let topic_arn = sub.topic_arn.clone();
            p.subscriptions.remove(&input.subscription_arn);
            if let Some(topic) = crate::arn::parse_topic(&topic_arn).and_then(|(_, _, n)| p.topics.get_mut(n)) {
                topic.subscriptions_deleted += 1;
                ops.push(put_topic(topic));
            }
            Ok(((), ops))
        })
        .await
    }

    pub fn list_subscriptions(&self, ctx: &RequestContext, input: ListSubscriptionsInput) -> Result<ListSubscriptionsResponse, SnsError> {
        let all = self.read(&ctx.account_id, &ctx.region, |p| Ok(p.subscriptions.values().map(|s| (s.arn.clone(), listed(s))).collect()))?;
        let (subscriptions, next_token) = paginate(all, input.next_token.as_deref())?;
        Ok(ListSubscriptionsResponse { subscriptions: Some(subscriptions), next_token })
    }

    pub fn list_subscriptions_by_topic(
        &self,
        ctx: &RequestContext,
        input: ListSubscriptionsByTopicInput,
    ) -> Result<ListSubscriptionsByTopicResponse, SnsError> {
        let (account, region, name) = locate(ctx, &input.topic_arn)?;
        let all = self.read(account, region, |p| {
            let topic = p.topic(name)?;
            authorize(ctx, topic, "ListSubscriptionsByTopic")?;
            Ok(p.subscriptions_of(&topic.arn).map(|s| (s.arn.clone(), listed(s))).collect())
        })?;
        let (subscriptions, next_token) = paginate(all, input.next_token.as_deref())?;
        Ok(ListSubscriptionsByTopicResponse { subscriptions: Some(subscriptions), next_token })
    }

    pub fn get_subscription_attributes(
        &self,
        _ctx: &RequestContext,
        input: GetSubscriptionAttributesInput,
    ) -> Result<GetSubscriptionAttributesResponse, SnsError> {
        let (account, region) = locate_subscription(&input.subscription_arn)?;
        self.read(account, region, |p| {
            let s = p.subscriptions.get(&input.subscription_arn).ok_or_else(subscription_not_found)?;
            let mut a = IndexMap::new();
            a.insert("Owner".to_string(), s.owner.clone());
            a.insert("TopicArn".into(), s.topic_arn.clone());
            a.insert("Endpoint".into(), s.endpoint.clone());
            a.insert("Protocol".into(), s.protocol.clone());
            a.insert("PendingConfirmation".into(), s.pending.to_string());
            a.insert("ConfirmationWasAuthenticated".into(), s.authenticated.to_string());
            a.insert("SubscriptionArn".into(), s.arn.clone());
            if matches!(s.protocol.as_str(), "sqs" | "http" | "https" | "firehose") {
                a.insert("RawMessageDelivery".into(), "false".into());
            }
            for (k, v) in &s.attributes {
                a.insert(k.clone(), v.clone());
            }
            if a.contains_key("FilterPolicy") {
                a.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
            } else {
                a.shift_remove("FilterPolicyScope");
            }
            Ok(GetSubscriptionAttributesResponse { attributes: Some(a) })
        })
    }

    pub async fn set_subscription_attributes(&self, _ctx: &RequestContext, input: SetSubscriptionAttributesInput) -> Result<(), ServiceError> {
        let (account, region) = locate_subscription(&input.subscription_arn)?;
        let value = input.attribute_value.unwrap_or_default();
        let name = input.attribute_name;
        self.change(account, region, |p| {
            let sub = p.subscriptions.get_mut(&input.subscription_arn).ok_or_else(subscription_not_found)?;
            let scope = match (name.as_str(), value.as_str()) {
                ("FilterPolicyScope", "MessageBody") => Scope::MessageBody,
                ("FilterPolicyScope", _) => Scope::MessageAttributes,
                _ => sub.scope(),
            };
            check_attribute(sub, &name, &value, scope)?;
            // A new scope must suit the policy already set.
            if let Some(policy) = sub.attributes.get("FilterPolicy").filter(|_| name == "FilterPolicyScope") {
                FilterPolicy::parse(policy, scope)?;
            }
            apply_attribute(sub, &name, &value);
            Ok(((), vec![put_subscription(sub)]))
        })
        .await
    }
}
