//! The EventBridge errors several operations share, worded as AWS words them.

use crate::generated::EventsError;
use kagami_core::{ServiceError, StoreError};

pub(crate) fn rule_not_found(rule: &str, bus: &str) -> EventsError {
    EventsError::ResourceNotFoundException(format!("Rule {rule} does not exist on EventBus {bus}."))
}

pub(crate) fn bus_not_found(bus: &str) -> EventsError {
    EventsError::ResourceNotFoundException(format!("Event bus {bus} does not exist."))
}

pub(crate) fn validation(message: impl Into<String>) -> EventsError {
    EventsError::ValidationException(message.into())
}

pub(crate) fn invalid_pattern(reason: &str) -> EventsError {
    EventsError::InvalidEventPatternException(format!("Event pattern is not valid. Reason: {reason}"))
}

pub(crate) fn limit_exceeded() -> EventsError {
    EventsError::LimitExceededException("The requested resource exceeds the maximum number allowed.".into())
}

/// The front end's constraint failures: "1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...".
pub(crate) fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> EventsError {
    validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
}

/// A store failure after the in-memory change was made: the request is not acknowledged.
pub(crate) fn store_failed(error: StoreError) -> ServiceError {
    ServiceError::internal(format!("the change could not be made durable: {error}"))
}
