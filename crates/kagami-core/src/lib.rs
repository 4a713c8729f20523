//! What every kagami service shares: the request context, the [`Service`] trait the
//! gateway dispatches to, the emulated clock, the record store, identities issued by
//! STS, and ARN/id helpers.

pub mod arn;
pub mod clock;
pub mod context;
pub mod ids;
pub mod identity;
pub mod peers;
pub mod service;
pub mod store;

pub use context::{Principal, RequestContext};
pub use kagami_protocol::{Protocol, ServiceError, Timestamp, Value};
pub use peers::Peers;
pub use service::{BoxFuture, EndpointRequest, InternalRequest, InternalResponse, Service, ServiceEnv};
pub use store::{Store, StoreError};

/// The account used when the access key is not a 12-digit account id.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";
