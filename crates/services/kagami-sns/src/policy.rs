//! Topic access policies: the default policy AWS gives a topic, the statements
//! AddPermission writes, and the check that lets another account use a topic.

use crate::generated::SnsError;
use crate::state::Topic;
use kagami_core::RequestContext;
use serde_json::{Value as Json, json};

/// The actions of the default statement, as AWS lists them.
const DEFAULT_ACTIONS: &[&str] = &[
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
];

/// Actions AddPermission accepts (without the `SNS:` prefix).
pub const PERMISSION_ACTIONS: &[&str] = &[
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
    "Receive",
];

pub fn default_policy(topic_arn: &str, owner: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": DEFAULT_ACTIONS,
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": owner}},
        }],
    })
    .to_string()
}

/// The topic's policy: the one set, else the default.
pub fn policy_of(topic: &Topic) -> String {
    topic.attributes.get("Policy").cloned().unwrap_or_else(|| default_policy(&topic.arn, &topic.account))
}

fn one_or_many(mut items: Vec<String>) -> Json {
    if items.len() == 1 { Json::String(items.remove(0)) } else { json!(items) }
}

/// The policy with a statement labelled `label` added (AddPermission).
pub fn add_statement(policy: &str, topic_arn: &str, label: &str, accounts: &[String], actions: &[String]) -> Result<String, SnsError> {
    let mut doc: Json = serde_json::from_str(policy).unwrap_or_else(|_| json!({"Version": "2008-10-17"}));
    let principals = accounts
        .iter()
        .map(|a| if a.chars().all(|c| c.is_ascii_digit()) { format!("arn:aws:iam::{a}:root") } else { a.clone() })
        .collect();
    let statement = json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": one_or_many(principals)},
        "Action": one_or_many(actions.iter().map(|a| format!("SNS:{a}")).collect()),
        "Resource": topic_arn,
    });
    let statements = doc.as_object_mut().map(|o| o.entry("Statement").or_insert_with(|| json!([])));
    match statements {
        Some(Json::Array(list)) => {
            if list.iter().any(|s| s.get("Sid").and_then(Json::as_str) == Some(label)) {
                return Err(crate::errors::invalid_parameter("Statement already exists"));
            }
            list.push(statement);
        }
        Some(other) => *other = json!([other.take(), statement]),
        None => return Err(crate::errors::invalid_parameter("Policy")),
    }
    Ok(doc.to_string())
}

/// The policy without the statement labelled `label` (RemovePermission); `None` when
/// there is none.
pub fn remove_statement(policy: &str, label: &str) -> Option<String> {
    let mut doc: Json = serde_json::from_str(policy).ok()?;
    let list = doc.get_mut("Statement")?.as_array_mut()?;
    let before = list.len();
    list.retain(|s| s.get("Sid").and_then(Json::as_str) != Some(label));
    (list.len() != before).then(|| doc.to_string())
}

fn strings(v: Option<&Json>) -> Vec<&str> {
    match v {
        Some(Json::String(s)) => vec![s.as_str()],
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(statement: &Json, ctx: &RequestContext) -> bool {
    let root = format!("arn:aws:iam::{}:root", ctx.account_id);
    let caller = ctx.caller_arn();
    match statement.get("Principal") {
        Some(Json::String(s)) => s == "*",
        Some(p) => strings(p.get("AWS")).iter().any(|a| *a == "*" || *a == ctx.account_id || *a == root || *a == caller),
        None => false,
    }
}

fn action_matches(statement: &Json, action: &str) -> bool {
    strings(statement.get("Action"))
        .iter()
        .any(|a| *a == "*" || a.eq_ignore_ascii_case("sns:*") || a.eq_ignore_ascii_case(&format!("sns:{action}")))
}

/// Conditions on the caller's own account (`AWS:SourceOwner`, `AWS:SourceAccount`) are
/// evaluated; other condition keys describe the request's source, which a direct
/// call does not have, and are taken as met.
fn conditions_hold(statement: &Json, ctx: &RequestContext) -> bool {
    let Some(Json::Object(conditions)) = statement.get("Condition") else { return true };
    conditions.values().all(|block| {
        let Json::Object(keys) = block else { return true };
        keys.iter().all(|(key, value)| {
            let own = key.eq_ignore_ascii_case("aws:SourceOwner") || key.eq_ignore_ascii_case("aws:SourceAccount");
            !own || strings(Some(value)).contains(&ctx.account_id.as_str())
        })
    })
}

/// Lets the topic's own account do anything; another account only what an Allow
/// statement of the topic policy grants it.
pub fn authorize(ctx: &RequestContext, topic: &Topic, action: &str) -> Result<(), SnsError> {
    if ctx.account_id == topic.account {
        return Ok(());
    }
    let policy: Json = serde_json::from_str(&policy_of(topic)).unwrap_or(Json::Null);
    let statements = match policy.get("Statement") {
        Some(Json::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let allowed = statements.iter().any(|s| {
        s.get("Effect").and_then(Json::as_str) == Some("Allow")
            && principal_matches(s, ctx)
            && action_matches(s, action)
            && conditions_hold(s, ctx)
    });
    if allowed {
        return Ok(());
    }
    Err(SnsError::AuthorizationErrorException(format!(
        "User: {} is not authorized to perform: SNS:{action} on resource: {}",
        ctx.caller_arn(),
        topic.arn
    )))
}
