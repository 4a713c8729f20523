//! The one error the data model and the expression engine raise: a `ValidationException`
//! whose message is AWS's text, ready to become the service's error.

use crate::generated::DynamodbError;
use kagami_protocol::ServiceError;

/// A request DynamoDB refuses with `ValidationException` (HTTP 400); `message` is AWS's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub message: String,
}

impl ValidationError {
    pub fn new(message: impl Into<String>) -> ValidationError {
        ValidationError { message: message.into() }
    }

    /// The same error with "One or more parameter values were invalid: " in front, as AWS
    /// words problems found in attribute values.
    pub(crate) fn parameter(message: impl std::fmt::Display) -> ValidationError {
        ValidationError::new(format!("One or more parameter values were invalid: {message}"))
    }
}

impl From<ValidationError> for DynamodbError {
    fn from(e: ValidationError) -> DynamodbError {
        DynamodbError::ValidationException(e.message)
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> ServiceError {
        DynamodbError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_is_a_400_validation_exception() {
        let e: ServiceError = ValidationError::new("The provided key element does not match the schema").into();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(e.status, 400);
        assert_eq!(e.message, "The provided key element does not match the schema");
    }
}
