//! Who is calling, where, and which request this is.

use kagami_protocol::Protocol;

/// The identity a request acts as, resolved from its access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user: what any unknown access key acts as.
    Root,
    /// An IAM user (by ARN and unique id).
    User { arn: String, user_id: String },
    /// A role session issued by AssumeRole* (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole { arn: String, role_id: String, session_name: String },
    /// A federated user issued by GetFederationToken.
    FederatedUser { arn: String, user_id: String },
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub account_id: String,
    pub region: String,
    /// botocore name of the service, e.g. `sqs`.
    pub service: &'static str,
    pub operation: String,
    pub access_key_id: Option<String>,
    pub principal: Principal,
    /// `Host` the client called (`localhost:4566`, `sqs.us-east-1.localhost.localstack.cloud:4566`):
    /// services build URLs the client can reach with it.
    pub host: String,
    /// The wire protocol the request came in: a few answers differ by it (SQS words
    /// QueueDoesNotExist one way for the query protocol, another for JSON).
    pub protocol: Protocol,
    /// The `X-Amzn-Trace-Id` header (X-Ray), which SQS keeps as `AWSTraceHeader`.
    pub trace_header: Option<String>,
}

impl RequestContext {
    /// A context for calls one service makes into another, or for tests.
    pub fn system(account_id: &str, region: &str, service: &'static str) -> Self {
        RequestContext {
            request_id: crate::ids::request_id(),
            account_id: account_id.to_string(),
            region: region.to_string(),
            service,
            operation: String::new(),
            access_key_id: None,
            principal: Principal::Root,
            host: "localhost:4566".to_string(),
            // In-process calls have no wire; JSON is what current SDKs speak.
            protocol: Protocol::Json,
            trace_header: None,
        }
    }

    /// The caller's ARN as GetCallerIdentity reports it; the root user's is in the
    /// partition of the request's region (`arn:aws-cn:iam::ACCOUNT:root`).
    pub fn caller_arn(&self) -> String {
        match &self.principal {
            Principal::Root => {
                format!("arn:{}:iam::{}:root", crate::arn::partition_of_region(&self.region), self.account_id)
            }
            Principal::User { arn, .. }
            | Principal::AssumedRole { arn, .. }
            | Principal::FederatedUser { arn, .. } => arn.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_callers_are_named_in_the_partition_of_the_region() {
        assert_eq!(RequestContext::system("111122223333", "us-east-1", "sts").caller_arn(), "arn:aws:iam::111122223333:root");
        assert_eq!(
            RequestContext::system("111122223333", "cn-north-1", "sts").caller_arn(),
            "arn:aws-cn:iam::111122223333:root"
        );
        let mut ctx = RequestContext::system("111122223333", "cn-north-1", "sts");
        let arn = "arn:aws:sts::111122223333:assumed-role/r/s".to_string();
        ctx.principal = Principal::AssumedRole { arn: arn.clone(), role_id: "AROA".into(), session_name: "s".into() };
        assert_eq!(ctx.caller_arn(), arn);
    }
}
