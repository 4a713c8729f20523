//! The SQS errors whose messages several operations share, with AWS's texts.

use crate::generated::SqsError;
use kagami_core::{Protocol, RequestContext};
use kagami_protocol::ServiceError;

/// `QueueDoesNotExist`, worded as AWS words it for the protocol the request came in:
/// the query protocol keeps the text of the SOAP era.
pub(crate) fn queue_does_not_exist(ctx: &RequestContext) -> SqsError {
    let message = match ctx.protocol {
        Protocol::Query => "The specified queue does not exist for this wsdl version.",
        _ => "The specified queue does not exist.",
    };
    SqsError::QueueDoesNotExist(message.to_string())
}

pub(crate) fn invalid_parameter_value(message: impl Into<String>) -> SqsError {
    SqsError::InvalidParameterValue(message.into())
}

/// `MissingParameter`: "The request must contain the parameter X."
pub(crate) fn missing_parameter(parameter: &str) -> SqsError {
    SqsError::MissingParameter(format!("The request must contain the parameter {parameter}."))
}

/// "Value V for parameter P is invalid. Reason: R." — AWS's wording for out-of-range values.
pub(crate) fn invalid_value(value: impl std::fmt::Display, parameter: &str, reason: &str) -> SqsError {
    SqsError::InvalidParameterValue(format!("Value {value} for parameter {parameter} is invalid. Reason: {reason}"))
}

pub(crate) fn receipt_handle_is_invalid(handle: &str) -> SqsError {
    SqsError::ReceiptHandleIsInvalid(format!("The input receipt handle \"{handle}\" is not a valid receipt handle."))
}

/// The code a batch result entry carries: the legacy code clients know when there is one.
pub(crate) fn batch_entry_code(error: &ServiceError) -> String {
    error.query_code.clone().unwrap_or_else(|| error.code.clone())
}

/// A store failure after the in-memory change was made: the request is not acknowledged.
pub(crate) fn store_failed(error: kagami_core::StoreError) -> ServiceError {
    ServiceError::internal(format!("the change could not be made durable: {error}"))
}

impl From<crate::attributes::AttributeError> for SqsError {
    fn from(e: crate::attributes::AttributeError) -> SqsError {
        use crate::attributes::AttributeError as A;
        match e {
            A::InvalidAttributeName(m) => SqsError::InvalidAttributeName(m),
            A::InvalidAttributeValue(m) => SqsError::InvalidAttributeValue(m),
            A::InvalidParameterValue(m) => SqsError::InvalidParameterValue(m),
        }
    }
}
