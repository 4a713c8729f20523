//! The trait the gateway dispatches parsed requests to.

use crate::RequestContext;
use kagami_protocol::{ByteStream, HttpResponse, ServiceError, Value};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request to a service's own internal endpoint (`/_kagami/<service>/...`).
#[derive(Debug)]
pub struct InternalRequest {
    pub method: String,
    /// Path below `/_kagami/<service>`, e.g. `/messages`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: bytes::Bytes,
    pub host: String,
}

#[derive(Debug)]
pub struct InternalResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

/// What a request on S3's browser-facing HTTP surface asks for: the parts of S3 that
/// no botocore operation describes, so the protocol engine cannot parse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpSurfaceKind {
    /// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) to a bucket or
    /// object URL, answered from the bucket's CORS rules.
    CorsPreflight,
    /// The CORS headers for the answer to an actual request that carried `Origin`:
    /// the response's headers are the ones to add (none when no rule matches).
    CorsHeaders,
    /// A GET or HEAD on a static website endpoint (`<bucket>.s3-website...`).
    Website,
    /// A browser form upload (POST of `multipart/form-data` to the bucket URL).
    PostObject,
}

/// The signature fields of a browser POST form (SigV4 POST policy).
#[derive(Debug, Clone, Copy)]
pub struct PostSignature<'a> {
    /// `x-amz-credential` (`AKID/YYYYMMDD/region/s3/aws4_request`), or for a version 2
    /// form its `AWSAccessKeyId` alone.
    pub credential: &'a str,
    /// `policy`, base64 as sent: what the signature covers.
    pub policy: &'a str,
    /// `x-amz-signature` (hex), or a version 2 form's `signature` (base64).
    pub signature: &'a str,
    /// `x-amz-security-token`, for temporary credentials.
    pub security_token: Option<&'a str>,
}

/// Resolves a POST form's credential to the account it acts in and, with
/// `--verify-sigv4`, checks its signature; the gateway provides it, as it holds the
/// credentials and SigV4.
pub type PostCredentials =
    std::sync::Arc<dyn Fn(&PostSignature<'_>) -> Result<String, ServiceError> + Send + Sync>;

/// A request on that surface, addressed to one bucket (path style already resolved
/// from virtual-hosted or website hosts).
pub struct HttpSurfaceRequest {
    pub kind: HttpSurfaceKind,
    pub method: String,
    pub bucket: String,
    /// The object key, percent-decoded; empty for the bucket itself.
    pub key: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    /// The request body, for `PostObject`; it streams as it arrives.
    pub body: Option<ByteStream>,
    /// The request came on a virtual-hosted or website host that names the bucket.
    pub virtual_host: bool,
    /// `KAGAMI_S3_CORS=aws`: buckets without a CORS configuration answer preflights
    /// with 403 and actual requests without CORS headers, as AWS does. Otherwise
    /// (LocalStack's default) the gateway's permissive CORS answers for them.
    pub strict_cors: bool,
    /// For `PostObject`: the form's credential check.
    pub post_credentials: Option<PostCredentials>,
}

impl HttpSurfaceRequest {
    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP request to an endpoint a service hands out under a host name of its
/// own (`<url-id>.lambda-url.<region>.<domain>`, a Lambda function URL). No model
/// describes it: the gateway only recognises the host, authenticates a signature if
/// the request carries one, and the service answers the request whole.
#[derive(Debug)]
pub struct EndpointRequest {
    /// The host's first label: the endpoint's id (a function URL's url-id).
    pub id: String,
    /// The region the host names.
    pub region: String,
    pub method: String,
    /// `Host` as sent.
    pub host: String,
    /// Path and query as sent (not decoded); the query without `?`.
    pub path: String,
    pub query: String,
    /// Header names in lower case, values as sent, in order.
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    /// The client's address, as the TCP connection shows it.
    pub source_ip: String,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: String,
    /// Who signed the request (SigV4), when it was signed; with `--verify-sigv4` the
    /// signature has been checked, and a bad one never reaches the service.
    pub caller: Option<crate::RequestContext>,
}

/// One AWS service. Implementations are usually a generated `dispatch` over typed
/// shapes plus a provider that holds the service's state.
pub trait Service: Send + Sync + 'static {
    /// botocore name, e.g. `sqs`.
    fn name(&self) -> &'static str;

    /// Operations that do something; every other operation answers NotImplemented.
    fn implemented_operations(&self) -> &'static [&'static str];

    fn handle<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceError>>;

    /// Forget all state (all accounts and regions), in memory and in the store.
    fn reset(&self);

    /// S3's browser-facing HTTP surface (CORS, website endpoints, POST uploads).
    /// `None`: the service has nothing to say, and the gateway answers as it would
    /// without it (its permissive CORS, or the usual operation routing). An error is
    /// serialized in the service's protocol.
    fn http_surface<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        _req: HttpSurfaceRequest,
    ) -> BoxFuture<'a, Option<Result<HttpResponse, ServiceError>>> {
        Box::pin(async { None })
    }

    /// A request to one of the service's own endpoints ([`EndpointRequest`]); `None`
    /// when the service has no endpoint of that id (the gateway answers 404).
    fn endpoint(&self, _req: EndpointRequest) -> BoxFuture<'_, Option<HttpResponse>> {
        Box::pin(async { None })
    }

    /// Internal, non-AWS endpoints for tests (`GET /_kagami/sqs/messages`).
    fn internal(&self, _req: InternalRequest) -> BoxFuture<'_, Option<InternalResponse>> {
        Box::pin(async { None })
    }
}

/// What a service is built with.
#[derive(Clone)]
pub struct ServiceEnv {
    pub store: crate::Store,
    pub identities: crate::identity::Identities,
    /// `LOCALSTACK_HOST` / `KAGAMI_HOST`: the host[:port] to put in URLs the service
    /// hands out (queue URLs) instead of the Host the client called.
    pub external_host: Option<String>,
    /// The other services of this process, for in-process calls.
    pub peers: crate::Peers,
}

impl ServiceEnv {
    pub fn ephemeral() -> Self {
        ServiceEnv {
            store: crate::Store::ephemeral(),
            identities: crate::identity::Identities::ephemeral(),
            external_host: None,
            peers: crate::Peers::default(),
        }
    }
}
