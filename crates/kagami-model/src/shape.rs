//! The subset of botocore's model schema that the protocol engine and the code
//! generator read. Unknown keys are ignored, so newer botocore releases still parse.

use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::HashMap;

/// The hasher of the model's maps: every request looks shapes and members up by name,
/// and these keys come from the embedded models, not from clients, so a fast
/// non-keyed hash is safe here.
pub type FastHash = foldhash::fast::FixedState;

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceModel {
    /// botocore's directory name; filled in after parsing.
    #[serde(skip)]
    pub name: String,
    pub metadata: Metadata,
    pub operations: IndexMap<String, Operation, FastHash>,
    pub shapes: HashMap<String, Shape, FastHash>,
    /// Derived lookup structures a consumer builds once per model (the protocol
    /// engine's REST route index); opaque here, so this crate needs no knowledge of them.
    #[serde(skip)]
    pub derived: std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    pub protocol: String,
    #[serde(default)]
    pub protocols: Vec<String>,
    pub target_prefix: Option<String>,
    pub json_version: Option<String>,
    pub signing_name: Option<String>,
    pub endpoint_prefix: String,
    #[serde(default)]
    pub service_id: String,
    pub xml_namespace: Option<String>,
    pub aws_query_compatible: Option<serde_json::Value>,
    pub global_endpoint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: Http,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    pub endpoint: Option<OperationEndpoint>,
    #[serde(default)]
    pub http_checksum_required: bool,
    pub http_checksum: Option<serde_json::Value>,
    #[serde(default)]
    pub deprecated: bool,
    /// `requestcompression`: the client may gzip the body (CloudWatch `PutMetricData`);
    /// only these operations have `Content-Encoding` undone by the protocol layer.
    #[serde(default, rename = "requestcompression")]
    pub request_compression: Option<RequestCompression>,
    /// botocore's `authtype`: `none` for operations AWS serves unsigned,
    /// `v4-unsigned-body` for signed ones whose body is not part of the signature.
    #[serde(default)]
    pub authtype: Option<String>,
    /// The Smithy auth schemes the operation accepts (`smithy.api#noAuth`,
    /// `aws.auth#sigv4`); empty when it takes the service's.
    #[serde(default)]
    pub auth: Vec<String>,
}

impl Operation {
    /// Whether AWS answers this operation without a signature (STS
    /// AssumeRoleWithWebIdentity, Cognito's sign-in flows): how callers get credentials.
    pub fn allows_unsigned(&self) -> bool {
        self.authtype.as_deref() == Some("none") || self.auth.iter().any(|a| a == "smithy.api#noAuth")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestCompression {
    #[serde(default)]
    pub encodings: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default = "default_uri")]
    pub request_uri: String,
    pub response_code: Option<u16>,
}

fn default_method() -> String {
    "POST".into()
}
fn default_uri() -> String {
    "/".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationEndpoint {
    pub host_prefix: Option<String>,
}

/// A reference to a shape from an operation or a structure member, with the
/// serialization traits that apply at that place.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// `header`, `headers`, `querystring`, `uri`, `statusCode` (REST protocols).
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    pub xml_namespace: Option<XmlNamespace>,
    #[serde(default)]
    pub xml_attribute: bool,
    #[serde(default)]
    pub flattened: bool,
    pub timestamp_format: Option<String>,
    #[serde(default)]
    pub jsonvalue: bool,
    #[serde(default)]
    pub streaming: bool,
    /// botocore spells the event-stream traits in lower case: `eventpayload` marks the
    /// member that is an event's whole payload, `eventheader` one sent as a header.
    #[serde(default, rename = "eventpayload")]
    pub event_payload: bool,
    #[serde(default, rename = "eventheader")]
    pub event_header: bool,
    #[serde(default)]
    pub host_label: bool,
    #[serde(default)]
    pub idempotency_token: bool,
    /// Query protocol: the element that wraps an operation's output.
    pub result_wrapper: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum XmlNamespace {
    Uri(String),
    Full { prefix: Option<String>, uri: String },
}

impl XmlNamespace {
    pub fn uri(&self) -> &str {
        match self {
            XmlNamespace::Uri(u) => u,
            XmlNamespace::Full { uri, .. } => uri,
        }
    }
    pub fn prefix(&self) -> Option<&str> {
        match self {
            XmlNamespace::Uri(_) => None,
            XmlNamespace::Full { prefix, .. } => prefix.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
    Byte,
    Short,
    Bigdecimal,
    Biginteger,
    Character,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub shape_type: ShapeType,
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef, FastHash>,
    pub member: Option<ShapeRef>,
    pub key: Option<ShapeRef>,
    pub value: Option<ShapeRef>,
    #[serde(default)]
    pub required: Vec<String>,
    pub payload: Option<String>,
    #[serde(default)]
    pub flattened: bool,
    pub location_name: Option<String>,
    pub xml_namespace: Option<XmlNamespace>,
    pub timestamp_format: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(default)]
    pub eventstream: bool,
    #[serde(default)]
    pub exception: bool,
    #[serde(default)]
    pub fault: bool,
    pub error: Option<ErrorTrait>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub union: bool,
    #[serde(default)]
    pub document: bool,
    #[serde(default)]
    pub requires_length: bool,
    #[serde(default)]
    pub jsonvalue: bool,
    #[serde(default)]
    pub event: bool,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    pub code: Option<String>,
    pub http_status_code: Option<u16>,
    #[serde(default)]
    pub sender_fault: bool,
}

impl ServiceModel {
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
}
