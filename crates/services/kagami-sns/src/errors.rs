//! SNS errors whose texts several operations share, worded as AWS words them.

use crate::generated::SnsError;
use kagami_core::ServiceError;

/// `InvalidParameter`: AWS prefixes every such message with "Invalid parameter: ".
pub(crate) fn invalid_parameter(detail: impl std::fmt::Display) -> SnsError {
    SnsError::InvalidParameterException(format!("Invalid parameter: {detail}"))
}

/// `ParameterValueInvalid` (message attributes): the message has no prefix.
pub(crate) fn invalid_parameter_value(message: impl Into<String>) -> SnsError {
    SnsError::InvalidParameterValueException(message.into())
}

pub(crate) fn topic_not_found() -> SnsError {
    SnsError::NotFoundException("Topic does not exist".to_string())
}

pub(crate) fn subscription_not_found() -> SnsError {
    SnsError::NotFoundException("Subscription does not exist".to_string())
}

pub(crate) fn resource_not_found() -> SnsError {
    SnsError::ResourceNotFoundException("Resource does not exist".to_string())
}

/// A store failure after the in-memory change was made: the request is not acknowledged.
pub(crate) fn store_failed(error: kagami_core::StoreError) -> ServiceError {
    ServiceError::internal(format!("the change could not be made durable: {error}"))
}
