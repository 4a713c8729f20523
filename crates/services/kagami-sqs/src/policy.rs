//! AddPermission / RemovePermission: statements in the queue's `Policy` document, one
//! per label, as SQS writes them.

use crate::errors::{invalid_parameter_value, missing_parameter};
use crate::generated::SqsError;
use serde_json::{Value, json};

/// AddPermission accepts at most 7 actions per call.
pub const MAX_ACTIONS: usize = 7;
/// Labels: up to 80 alphanumeric characters, hyphens and underscores.
pub const MAX_LABEL_LEN: usize = 80;

/// Actions a queue owner can share; the batch variants come with their single forms.
const SHAREABLE_ACTIONS: &[&str] = &[
    "*",
    "ChangeMessageVisibility",
    "DeleteMessage",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListQueueTags",
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
];

fn check_label(label: &str) -> Result<(), SqsError> {
    let valid = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(invalid_parameter_value(format!(
            "Value {label} for parameter Label is invalid. Reason: Must contain only alphanumeric characters, hyphens (-) and underscores (_), and be 1 to 80 characters long."
        )))
    }
}

fn statements_of(doc: &mut Value) -> Option<&mut Vec<Value>> {
    let map = doc.as_object_mut()?;
    map.entry("Statement").or_insert_with(|| json!([])).as_array_mut()
}

fn one_or_many(mut items: Vec<String>) -> Value {
    if items.len() == 1 { Value::String(items.remove(0)) } else { json!(items) }
}

/// The Policy after adding a statement labelled `label`.
pub fn add_permission(
    policy: Option<&str>,
    queue_arn: &str,
    label: &str,
    account_ids: &[String],
    actions: &[String],
) -> Result<String, SqsError> {
    check_label(label)?;
    if actions.is_empty() {
        return Err(missing_parameter("ActionName"));
    }
    if actions.len() > MAX_ACTIONS {
        return Err(SqsError::OverLimit(format!(
            "{} Actions were found, maximum allowed is {MAX_ACTIONS}.",
            actions.len()
        )));
    }
    if account_ids.is_empty() {
        return Err(invalid_parameter_value(
            "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.",
        ));
    }
    if let Some(bad) = actions.iter().find(|a| !SHAREABLE_ACTIONS.contains(&a.as_str())) {
        return Err(invalid_parameter_value(format!(
            "Value SQS:{bad} for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action."
        )));
    }
    if let Some(bad) = account_ids.iter().find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid_parameter_value(format!(
            "Value [{bad}] for parameter PrincipalId is invalid. Reason: Unable to verify."
        )));
    }
    let mut doc = match policy {
        Some(p) => serde_json::from_str(p).unwrap_or_else(|_| json!({})),
        None => json!({
            "Version": "2012-10-17",
            "Id": format!("{queue_arn}/SQSDefaultPolicy"),
            "Statement": [],
        }),
    };
    let statement = json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": { "AWS": one_or_many(account_ids.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect()) },
        "Action": one_or_many(actions.iter().map(|a| format!("SQS:{a}")).collect()),
        "Resource": queue_arn,
    });
    let statements =
        statements_of(&mut doc).ok_or_else(|| invalid_parameter_value("Invalid value for the parameter Policy."))?;
    if statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(label)) {
        return Err(invalid_parameter_value(format!(
            "Value {label} for parameter Label is invalid. Reason: Already exists."
        )));
    }
    statements.push(statement);
    Ok(doc.to_string())
}

/// The Policy after removing the statement labelled `label`; `None` when no statement is left.
pub fn remove_permission(policy: Option<&str>, label: &str) -> Result<Option<String>, SqsError> {
    let not_found =
        || invalid_parameter_value(format!("Value {label} for parameter Label is invalid. Reason: can't find label."));
    let mut doc: Value = policy.and_then(|p| serde_json::from_str(p).ok()).ok_or_else(not_found)?;
    let statements = statements_of(&mut doc).ok_or_else(not_found)?;
    let before = statements.len();
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
    if statements.len() == before {
        return Err(not_found());
    }
    let empty = statements.is_empty();
    Ok(if empty { None } else { Some(doc.to_string()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sqs:us-east-1:111111111111:q";

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn statements_are_added_and_removed_by_label() {
        let p = add_permission(None, ARN, "send", &s(&["222222222222"]), &s(&["SendMessage"])).unwrap();
        let doc: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(doc["Id"], format!("{ARN}/SQSDefaultPolicy"));
        assert_eq!(doc["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::222222222222:root");
        assert_eq!(doc["Statement"][0]["Action"], "SQS:SendMessage");
        let p = add_permission(
            Some(&p),
            ARN,
            "both",
            &s(&["222222222222", "333333333333"]),
            &s(&["ReceiveMessage", "DeleteMessage"]),
        )
        .unwrap();
        let doc: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(doc["Statement"][1]["Action"], json!(["SQS:ReceiveMessage", "SQS:DeleteMessage"]));
        assert!(add_permission(Some(&p), ARN, "send", &s(&["222222222222"]), &s(&["SendMessage"])).is_err());
        let p = remove_permission(Some(&p), "send").unwrap().unwrap();
        assert_eq!(remove_permission(Some(&p), "both").unwrap(), None);
        assert!(remove_permission(Some(&p), "missing").is_err());
        assert!(remove_permission(None, "missing").is_err());
    }

    #[test]
    fn more_than_seven_actions_is_over_limit() {
        let actions = s(&["SendMessage"; 8]);
        let err = add_permission(None, ARN, "l", &s(&["222222222222"]), &actions).unwrap_err();
        assert_eq!(kagami_protocol::ServiceError::from(err).code, "OverLimit");
    }

    #[test]
    fn owner_only_actions_cannot_be_shared() {
        let err = add_permission(None, ARN, "l", &s(&["222222222222"]), &s(&["CreateQueue"])).unwrap_err();
        assert!(
            matches!(err, SqsError::InvalidParameterValue(m) if m.starts_with("Value SQS:CreateQueue for parameter ActionName is invalid."))
        );
    }
}
