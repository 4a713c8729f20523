//! The wire: one generic parser and serializer per AWS protocol, driven by the
//! service models. Service code sees [`Value`] trees (or typed shapes generated from
//! them) and [`ServiceError`]s, never XML, JSON or CBOR.

pub mod error;
pub mod timestamp;
pub mod value;

pub use error::ServiceError;
pub use timestamp::Timestamp;
pub use value::Value;
