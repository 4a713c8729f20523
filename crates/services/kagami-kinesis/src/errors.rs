//! The Kinesis errors several operations share, worded as AWS words them.

use crate::generated::KinesisError;
use kagami_core::{ServiceError, StoreError};

pub(crate) fn stream_not_found(name: &str, account: &str) -> KinesisError {
    KinesisError::ResourceNotFoundException(format!("Stream {name} under account {account} not found."))
}

pub(crate) fn shard_not_found(shard_id: &str, stream: &str, account: &str) -> KinesisError {
    KinesisError::ResourceNotFoundException(format!("Shard {shard_id} in stream {stream} under account {account} does not exist"))
}

pub(crate) fn invalid(message: impl Into<String>) -> KinesisError {
    KinesisError::InvalidArgumentException(message.into())
}

/// The front end's constraint failures: "1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...".
pub(crate) fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> KinesisError {
    KinesisError::ValidationException(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// Checks an optional limit against its documented range and applies the default.
pub(crate) fn limit(value: Option<i32>, member: &str, max: i32, default: i32) -> Result<usize, KinesisError> {
    match value {
        None => Ok(usize::try_from(default).unwrap_or(1)),
        Some(l) if l < 1 => Err(constraint(l, member, "Member must have value greater than or equal to 1")),
        Some(l) if l > max => Err(constraint(l, member, &format!("Member must have value less than or equal to {max}"))),
        Some(l) => Ok(usize::try_from(l).unwrap_or(1)),
    }
}

pub(crate) fn invalid_iterator() -> KinesisError {
    invalid("Invalid ShardIterator.")
}

/// A store failure after the in-memory change was made: the request is not acknowledged.
pub(crate) fn store_failed(error: StoreError) -> ServiceError {
    ServiceError::internal(format!("the change could not be made durable: {error}"))
}
