//! The CloudWatch Logs errors several operations share, worded as AWS words them.

use crate::generated::LogsError;
use kagami_core::{ServiceError, StoreError};

pub(crate) fn group_not_found() -> LogsError {
    LogsError::ResourceNotFoundException("The specified log group does not exist.".into())
}

pub(crate) fn stream_not_found() -> LogsError {
    LogsError::ResourceNotFoundException("The specified log stream does not exist.".into())
}

pub(crate) fn invalid(message: impl Into<String>) -> LogsError {
    LogsError::InvalidParameterException(message.into())
}

/// The front end's constraint failures: "1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...".
pub(crate) fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> LogsError {
    LogsError::InvalidParameterException(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

pub(crate) fn invalid_token() -> LogsError {
    invalid("The specified nextToken is invalid.")
}

/// A store failure after the in-memory change was made: the request is not acknowledged.
pub(crate) fn store_failed(error: StoreError) -> ServiceError {
    ServiceError::internal(format!("the change could not be made durable: {error}"))
}
