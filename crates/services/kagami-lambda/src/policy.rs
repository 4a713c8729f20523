//! A function's resource-based policy: AddPermission, RemovePermission, GetPolicy.
//! One policy per function ARN (unqualified, version or alias), each a list of
//! statements shaped as IAM reads them. kagami stores and reports policies; it does
//! not evaluate them when a peer service invokes the function.

use crate::generated::*;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A resource-based policy may hold 20 KB.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
pub(crate) const MAX_POLICY_BYTES: usize = 20_480;
/// https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
const MAX_STATEMENT_ID: usize = 100;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Policy {
    pub statements: Vec<Value>,
    /// Changes with every change of the policy (`resource_policy.rs`).
    #[serde(default)]
    pub revision_id: Option<String>,
}

impl Policy {
    pub(crate) fn document(&self) -> Value {
        json!({ "Version": "2012-10-17", "Id": "default", "Statement": self.statements })
    }
}

fn precondition_failed() -> ServiceError {
    LambdaError::PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
    )
    .into()
}

fn no_policy() -> ServiceError {
    LambdaError::ResourceNotFoundException("The resource you requested does not exist.".into()).into()
}

fn statement_id(sid: &str, member: &str, extra: &str) -> Result<(), ServiceError> {
    if sid.is_empty() || sid.len() > MAX_STATEMENT_ID {
        return Err(crate::errors::validation(&format!(
            "Value '{sid}' at '{member}' failed to satisfy constraint: Member must have length {}",
            if sid.is_empty() { "greater than or equal to 1" } else { "less than or equal to 100" }
        )));
    }
    if !sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(c)) {
        return Err(crate::errors::validation(&format!(
            "Value '{sid}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_{extra}]+)"
        )));
    }
    Ok(())
}

/// `(lambda:[*]|lambda:[a-zA-Z]+|[*])`
fn action(action: &str) -> Result<(), ServiceError> {
    let ok = action == "*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|a| a == "*" || !a.is_empty() && a.chars().all(|c| c.is_ascii_alphabetic()));
    if ok {
        return Ok(());
    }
    Err(crate::errors::validation(&format!(
        "Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
    )))
}

/// The Principal element IAM writes for what AddPermission took: `*`, an account
/// (as its root ARN), an IAM ARN, or a service principal.
fn principal(p: &str) -> Result<Value, ServiceError> {
    if p.is_empty() || p.chars().any(char::is_whitespace) {
        return Err(crate::errors::validation(&format!(
            "Value '{p}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
        )));
    }
    if p == "*" {
        return Ok(json!("*"));
    }
    if p.len() == 12 && p.chars().all(|c| c.is_ascii_digit()) {
        return Ok(json!({ "AWS": format!("arn:aws:iam::{p}:root") }));
    }
    if p.starts_with("arn:") {
        return Ok(json!({ "AWS": p }));
    }
    if p.contains('.') {
        return Ok(json!({ "Service": p }));
    }
    Err(LambdaError::InvalidParameterValueException("The provided principal was invalid. Please check the principal and try again.".into()).into())
}

fn pattern_check(value: &str, member: &str, pattern: &str, ok: bool) -> Result<(), ServiceError> {
    if ok {
        return Ok(());
    }
    Err(crate::errors::validation(&format!(
        "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    )))
}

fn statement(input: &AddPermissionRequest, resource: String) -> Result<Value, ServiceError> {
    let mut string_equals = Map::new();
    if let Some(account) = &input.source_account {
        pattern_check(account, "sourceAccount", "\\d{12}", account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))?;
        string_equals.insert("AWS:SourceAccount".into(), json!(account));
    }
    if let Some(org) = &input.principal_org_id {
        let ok = org
            .strip_prefix("o-")
            .is_some_and(|r| (10..=32).contains(&r.len()) && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        pattern_check(org, "principalOrgID", "o-[a-z0-9]{10,32}", ok)?;
        string_equals.insert("aws:PrincipalOrgID".into(), json!(org));
    }
    if let Some(token) = &input.event_source_token {
        string_equals.insert("lambda:EventSourceToken".into(), json!(token));
    }
    if let Some(auth) = &input.function_url_auth_type {
        if auth != "NONE" && auth != "AWS_IAM" {
            return Err(crate::errors::validation(&format!(
                "Value '{auth}' at 'functionUrlAuthType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]"
            )));
        }
        string_equals.insert("lambda:FunctionUrlAuthType".into(), json!(auth));
    }
    let mut condition = Map::new();
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = &input.source_arn {
        condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": arn }));
    }
    if let Some(via_url) = input.invoked_via_function_url {
        condition.insert("Bool".into(), json!({ "lambda:InvokedViaFunctionUrl": via_url.to_string() }));
    }
    let mut s = Map::new();
    s.insert("Sid".into(), json!(input.statement_id));
    s.insert("Effect".into(), json!("Allow"));
    s.insert("Principal".into(), principal(&input.principal)?);
    s.insert("Action".into(), json!(input.action));
    s.insert("Resource".into(), json!(resource));
    if !condition.is_empty() {
        s.insert("Condition".into(), Value::Object(condition));
    }
    Ok(Value::Object(s))
}

impl Lambda {
    pub async fn add_permission(&self, ctx: &RequestContext, input: AddPermissionRequest) -> Result<AddPermissionResponse, ServiceError> {
        statement_id(&input.statement_id, "statementId", "")?;
        action(&input.action)?;
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        if input.revision_id.as_ref().is_some_and(|r| *r != target.revision_id) {
            return Err(precondition_failed());
        }
        let new = statement(&input, target.arn())?;
        let text = new.to_string();
        let sid = input.statement_id.clone();
        self.control
            .policies
            .change(&target.qualified_key(), |current| {
                let mut policy = current.cloned().unwrap_or_default();
                if policy.statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid.as_str())) {
                    return Err(LambdaError::ResourceConflictException(format!(
                        "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
                    ))
                    .into());
                }
                policy.statements.push(new);
                policy.revision_id = Some(kagami_core::ids::uuid_v4());
                let size = policy.document().to_string().len();
                if size > MAX_POLICY_BYTES {
                    return Err(LambdaError::PolicyLengthExceededException(format!(
                        "The final policy size ({size}) is bigger than the limit ({MAX_POLICY_BYTES})."
                    ))
                    .into());
                }
                Ok((Some(policy), ()))
            })
            .await?;
        Ok(AddPermissionResponse { statement: Some(text) })
    }

    pub async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermissionRequest) -> Result<(), ServiceError> {
        statement_id(&input.statement_id, "statementId", ".")?;
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        if input.revision_id.as_ref().is_some_and(|r| *r != target.revision_id) {
            return Err(precondition_failed());
        }
        let sid = input.statement_id;
        self.control
            .policies
            .change(&target.qualified_key(), |current| {
                let Some(current) = current else {
                    return Err(LambdaError::ResourceNotFoundException("No policy is associated with the given resource.".into()).into());
                };
                let mut policy = current.clone();
                let before = policy.statements.len();
                policy.statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid.as_str()));
                if policy.statements.len() == before {
                    return Err(LambdaError::ResourceNotFoundException(format!("Statement {sid} is not found in resource policy.")).into());
                }
                policy.revision_id = Some(kagami_core::ids::uuid_v4());
                Ok(((!policy.statements.is_empty()).then_some(policy), ()))
            })
            .await
    }

    pub fn get_policy(&self, ctx: &RequestContext, input: GetPolicyRequest) -> Result<GetPolicyResponse, ServiceError> {
        let target = self.control_target(ctx, &input.function_name, input.qualifier.as_deref())?;
        let policy = self.control.policies.get(&target.qualified_key()).filter(|p| !p.statements.is_empty()).ok_or_else(no_policy)?;
        Ok(GetPolicyResponse { policy: Some(policy.document().to_string()), revision_id: Some(target.revision_id.clone()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_read_as_iam_writes_them() {
        assert_eq!(principal("*").unwrap(), json!("*"));
        assert_eq!(principal("123456789012").unwrap(), json!({"AWS": "arn:aws:iam::123456789012:root"}));
        assert_eq!(principal("s3.amazonaws.com").unwrap(), json!({"Service": "s3.amazonaws.com"}));
        assert_eq!(principal("arn:aws:iam::123456789012:role/r").unwrap(), json!({"AWS": "arn:aws:iam::123456789012:role/r"}));
        assert!(principal("nobody").is_err());
        assert!(principal("a b").is_err());
    }

    #[test]
    fn actions_follow_the_model_pattern() {
        assert!(action("lambda:InvokeFunction").is_ok());
        assert!(action("lambda:*").is_ok() && action("*").is_ok());
        assert!(action("s3:GetObject").is_err() && action("lambda:Invoke1").is_err());
    }
}
