//! The one error type every provider returns; each protocol's serializer renders it in
//! that protocol's error shape.

use crate::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The error code as the current protocol of the service names it, e.g.
    /// `QueueDoesNotExist`, `NoSuchBucket`, `ValidationException`.
    pub code: String,
    pub message: String,
    pub status: u16,
    /// `Sender` or `Receiver` in query-protocol error documents.
    pub sender_fault: bool,
    /// The code older clients expect from query-compatible JSON services
    /// (`x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`).
    pub query_code: Option<String>,
    /// Extra members of the error shape (`BucketName`, `Key`, ...).
    pub fields: Vec<(String, Value)>,
    /// Extra response headers (`x-amz-delete-marker`, ...).
    pub headers: Vec<(String, String)>,
}

impl ServiceError {
    pub fn new(code: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        ServiceError {
            code: code.into(),
            message: message.into(),
            status,
            sender_fault: status < 500,
            query_code: None,
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// HTTP 501 for operations kagami does not implement yet: loud, never a fake success.
    pub fn not_implemented(service: &str, operation: &str) -> Self {
        ServiceError::new(
            "NotImplemented",
            501,
            format!("The operation {operation} of service {service} is not implemented by kagami yet"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        let mut e = ServiceError::new("InternalFailure", 500, message);
        e.sender_fault = false;
        e
    }

    pub fn with_query_code(mut self, code: impl Into<String>) -> Self {
        self.query_code = Some(code.into());
        self
    }

    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ServiceError {}
