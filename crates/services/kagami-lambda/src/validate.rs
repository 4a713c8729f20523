//! Checks of CreateFunction / UpdateFunction* parameters, with Lambda's limits and texts.

use crate::generated::LambdaError;
use crate::runtimes;
use kagami_core::ServiceError;

pub use crate::errors::validation;

/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
pub const DEFAULT_TIMEOUT: i32 = 3;
pub const MAX_TIMEOUT: i32 = 900;
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
pub const DEFAULT_MEMORY: i32 = 128;
pub const MIN_MEMORY: i32 = 128;
pub const MAX_MEMORY: i32 = 10_240;
const MAX_NAME: usize = 64;
const MAX_HANDLER: usize = 128;

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A FunctionName as the API takes it: `name`, `ACCOUNT:function:name` or the full ARN,
/// each optionally `:qualifier`. Returns the bare name and the qualifier.
pub fn function_name(input: &str) -> Result<(&str, Option<&str>), ServiceError> {
    let parts: Vec<&str> = input.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [name] => (*name, None),
        [name, q] => (*name, Some(*q)),
        [_account, "function", name] => (*name, None),
        [_account, "function", name, q] => (*name, Some(*q)),
        ["arn", _, "lambda", _region, _account, "function", name] => (*name, None),
        ["arn", _, "lambda", _region, _account, "function", name, q] => (*name, Some(*q)),
        _ => ("", None),
    };
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(name_char) {
        return Err(validation(&format!(
            "Value '{input}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    Ok((name, qualifier))
}

/// `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
pub fn role(role: &str) -> Result<(), ServiceError> {
    let ok = (|| {
        let rest = role.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(':')?;
        if !(partition.is_empty() || partition.starts_with("aws") && partition.chars().all(|c| c.is_ascii_alphabetic() || c == '-')) {
            return None;
        }
        let rest = rest.strip_prefix("iam::")?;
        let (account, rest) = rest.split_once(':')?;
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let path = rest.strip_prefix("role")?;
        let path = path.strip_prefix('/').unwrap_or(path);
        (!path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))).then_some(())
    })()
    .is_some();
    if ok {
        Ok(())
    } else {
        Err(validation(&format!(
            "Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        )))
    }
}

pub fn runtime(runtime: &str) -> Result<(), ServiceError> {
    if runtimes::family(runtime).is_some() {
        return Ok(());
    }
    Err(LambdaError::InvalidParameterValueException(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        runtimes::RUNTIMES.join(", ")
    ))
    .into())
}

pub fn handler(handler: &str) -> Result<(), ServiceError> {
    if handler.is_empty() || handler.len() > MAX_HANDLER || handler.chars().any(char::is_whitespace) {
        return Err(validation(&format!(
            "Value '{handler}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
        )));
    }
    Ok(())
}

/// Variables Lambda sets itself and refuses to take from the user.
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

pub fn environment(vars: Option<&indexmap::IndexMap<String, String>>) -> Result<(), ServiceError> {
    let reserved: Vec<&str> = vars
        .into_iter()
        .flat_map(|v| v.keys())
        .filter(|k| RESERVED_VARIABLES.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if reserved.is_empty() {
        return Ok(());
    }
    Err(LambdaError::InvalidParameterValueException(format!(
        "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
        reserved.join(", ")
    ))
    .into())
}

/// DeadLetterConfig.TargetArn: an SQS queue (not FIFO) or SNS topic of the function's
/// region; empty removes it.
/// https://docs.aws.amazon.com/lambda/latest/api/API_DeadLetterConfig.html
pub fn dead_letter_target(arn: &str, region: &str) -> Result<(), ServiceError> {
    if arn.is_empty() {
        return Ok(());
    }
    let invalid = |why: &str| -> ServiceError { LambdaError::InvalidParameterValueException(format!("Invalid dead letter queue ARN: {why}")).into() };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _partition, service, arn_region, _account, resource] = parts.as_slice() else {
        return Err(invalid(&format!("ARNs must start with 'arn:': {arn}")));
    };
    if !matches!(*service, "sqs" | "sns") {
        return Err(invalid("The service specified by the TargetArn is not supported for dead letter configuration."));
    }
    if *arn_region != region {
        return Err(invalid("The resource specified by the TargetArn must be in the same region as the Lambda function it's associated with."));
    }
    if *service == "sqs" && resource.ends_with(".fifo") {
        return Err(invalid("FIFO SQS queue is not supported for dead letter configuration"));
    }
    Ok(())
}

pub fn timeout(timeout: Option<i32>) -> Result<i32, ServiceError> {
    match timeout {
        None => Ok(DEFAULT_TIMEOUT),
        Some(t) if t < 1 => Err(validation(&format!(
            "Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(t) if t > MAX_TIMEOUT => Err(validation(&format!(
            "Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to {MAX_TIMEOUT}"
        ))),
        Some(t) => Ok(t),
    }
}

pub fn memory_size(memory: Option<i32>) -> Result<i32, ServiceError> {
    match memory {
        None => Ok(DEFAULT_MEMORY),
        Some(m) if m < MIN_MEMORY => Err(validation(&format!(
            "Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to {MIN_MEMORY}"
        ))),
        Some(m) if m > MAX_MEMORY => Err(validation(&format!(
            "Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to {MAX_MEMORY}"
        ))),
        Some(m) => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_name_accepts_names_and_arns() {
        assert_eq!(function_name("f").unwrap(), ("f", None));
        assert_eq!(function_name("f:$LATEST").unwrap(), ("f", Some("$LATEST")));
        assert_eq!(function_name("arn:aws:lambda:us-east-1:000000000000:function:f").unwrap(), ("f", None));
        assert_eq!(function_name("000000000000:function:f:1").unwrap(), ("f", Some("1")));
        assert!(function_name("bad name").is_err());
    }

    #[test]
    fn role_must_be_an_iam_role_arn() {
        assert!(role("arn:aws:iam::000000000000:role/lambda-role").is_ok());
        assert!(role("arn:aws:iam::000000000000:role/path/r").is_ok());
        assert!(role("not-a-role").is_err());
        assert!(role("arn:aws:iam::123:role/r").is_err());
    }

    #[test]
    fn limits_and_defaults() {
        assert_eq!(timeout(None).unwrap(), 3);
        assert!(timeout(Some(0)).is_err() && timeout(Some(901)).is_err());
        assert_eq!(memory_size(None).unwrap(), 128);
        assert!(memory_size(Some(127)).is_err() && memory_size(Some(10_241)).is_err());
    }

    #[test]
    fn dead_letter_targets_are_sqs_queues_or_sns_topics_of_the_region() {
        assert!(dead_letter_target("", "us-east-1").is_ok());
        assert!(dead_letter_target("arn:aws:sqs:us-east-1:000000000000:dlq", "us-east-1").is_ok());
        assert!(dead_letter_target("arn:aws:sns:us-east-1:000000000000:topic", "us-east-1").is_ok());
        let message = |arn: &str| dead_letter_target(arn, "us-east-1").err().map(|e| e.message).unwrap_or_default();
        assert!(message("queue").contains("ARNs must start with 'arn:'"));
        assert!(message("arn:aws:s3:::bucket/x").contains("not supported for dead letter configuration"));
        assert!(message("arn:aws:sqs:eu-west-1:000000000000:dlq").contains("same region"));
        assert!(message("arn:aws:sqs:us-east-1:000000000000:dlq.fifo").contains("FIFO"));
    }
}
