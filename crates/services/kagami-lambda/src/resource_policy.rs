//! PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy: the resource-based policy
//! of a function, version or alias named by its ARN, as one document. It is the policy
//! AddPermission and RemovePermission edit statement by statement (`policy.rs`): Put
//! replaces every statement. The policy carries a revision id of its own, which each
//! of these operations and AddPermission/RemovePermission change.
//! https://docs.aws.amazon.com/lambda/latest/api/API_PutResourcePolicy.html

use crate::generated::*;
use crate::policy::{MAX_POLICY_BYTES, Policy};
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError, ids};
use serde_json::Value;

/// The ResourceArn pattern of the three operations.
const ARN_PATTERN: &str = "arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_])+)?";

/// A complete function ARN, optionally qualified (no bare names, no wildcards).
fn check_arn(arn: &str) -> Result<(), ServiceError> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = matches!(parts.as_slice(), ["arn", _, "lambda", region, account, "function", name, ..]
        if !region.is_empty() && account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() && parts.len() <= 8)
        && !arn.contains('*');
    if ok {
        return Ok(());
    }
    Err(crate::errors::validation(&format!(
        "Value '{arn}' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {ARN_PATTERN}"
    )))
}

fn precondition_failed() -> ServiceError {
    LambdaError::PreconditionFailedException(
        "The Revision Id provided does not match the latest Revision Id. Call the GetResourcePolicy API to retrieve the latest Revision Id".into(),
    )
    .into()
}

fn no_policy() -> ServiceError {
    LambdaError::ResourceNotFoundException("The resource you requested does not exist.".into()).into()
}

/// The statements of a policy document (`Statement` is an object or a list of them).
fn statements(document: &str) -> Result<Vec<Value>, ServiceError> {
    let invalid = || ServiceError::from(LambdaError::InvalidParameterValueException("The policy document is not valid JSON or has no Statement.".into()));
    let doc: Value = serde_json::from_str(document).map_err(|_| invalid())?;
    match doc.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() && list.iter().all(Value::is_object) => Ok(list.clone()),
        Some(s @ Value::Object(_)) => Ok(vec![s.clone()]),
        _ => Err(invalid()),
    }
}

impl Lambda {
    pub async fn put_resource_policy(&self, ctx: &RequestContext, input: PutResourcePolicyRequest) -> Result<PutResourcePolicyResponse, ServiceError> {
        check_arn(&input.resource_arn)?;
        let statements = statements(&input.policy)?;
        let target = self.control_target(ctx, &input.resource_arn, None)?;
        let revision = ids::uuid_v4();
        let policy = Policy { statements, revision_id: Some(revision.clone()) };
        let document = policy.document().to_string();
        if document.len() > MAX_POLICY_BYTES {
            return Err(LambdaError::PolicyLengthExceededException(format!(
                "The final policy size ({}) is bigger than the limit ({MAX_POLICY_BYTES}).",
                document.len()
            ))
            .into());
        }
        let expected = input.revision_id;
        self.control
            .policies
            .change(&target.qualified_key(), |current| {
                if let Some(want) = &expected
                    && current.and_then(|p| p.revision_id.as_ref()) != Some(want)
                {
                    return Err(precondition_failed());
                }
                Ok((Some(policy), ()))
            })
            .await?;
        Ok(PutResourcePolicyResponse { policy: Some(document), revision_id: Some(revision) })
    }

    pub fn get_resource_policy(&self, ctx: &RequestContext, input: GetResourcePolicyRequest) -> Result<GetResourcePolicyResponse, ServiceError> {
        check_arn(&input.resource_arn)?;
        let target = self.control_target(ctx, &input.resource_arn, None)?;
        let policy = self.control.policies.get(&target.qualified_key()).filter(|p| !p.statements.is_empty()).ok_or_else(no_policy)?;
        Ok(GetResourcePolicyResponse { policy: Some(policy.document().to_string()), revision_id: policy.revision_id.clone() })
    }

    pub async fn delete_resource_policy(&self, ctx: &RequestContext, input: DeleteResourcePolicyRequest) -> Result<(), ServiceError> {
        check_arn(&input.resource_arn)?;
        let target = self.control_target(ctx, &input.resource_arn, None)?;
        let expected = input.revision_id;
        self.control
            .policies
            .change(&target.qualified_key(), |current| {
                let Some(current) = current.filter(|p| !p.statements.is_empty()) else { return Err(no_policy()) };
                if expected.as_ref().is_some_and(|want| current.revision_id.as_ref() != Some(want)) {
                    return Err(precondition_failed());
                }
                Ok((None, ()))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_arns_are_complete_function_arns() {
        assert!(check_arn("arn:aws:lambda:us-east-1:000000000000:function:f").is_ok());
        assert!(check_arn("arn:aws:lambda:us-east-1:000000000000:function:f:live").is_ok());
        assert!(check_arn("f").is_err());
        assert!(check_arn("arn:aws:lambda:us-east-1:000000000000:function:*").is_err());
        assert!(check_arn("arn:aws:sqs:us-east-1:000000000000:q").is_err());
    }

    #[test]
    fn statements_come_from_a_list_or_a_single_object() {
        assert_eq!(statements(r#"{"Statement": [{"Sid": "a"}, {"Sid": "b"}]}"#).map(|s| s.len()).ok(), Some(2));
        assert_eq!(statements(r#"{"Statement": {"Sid": "a"}}"#).map(|s| s.len()).ok(), Some(1));
        assert!(statements("not json").is_err());
        assert!(statements(r#"{"Version": "2012-10-17"}"#).is_err());
    }
}
