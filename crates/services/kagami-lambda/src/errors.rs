//! Error documents Lambda answers with beyond the generated enum's plain constructors.

use crate::generated::LambdaError;
use kagami_core::ServiceError;

/// `Function not found: arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
pub fn not_found(arn: &str) -> ServiceError {
    LambdaError::ResourceNotFoundException(format!("Function not found: {arn}")).into()
}

/// A constraint violation as Lambda's front end reports it (one violation).
pub fn validation(detail: &str) -> ServiceError {
    ServiceError::new("ValidationException", 400, format!("1 validation error detected: {detail}"))
}
