//! Deployment packages and layer archives named by an S3 location (`S3Bucket`, `S3Key`,
//! `S3ObjectVersion`): read from kagami's own S3 through `Peers`, in the caller's
//! account and region, as Lambda reads them from S3 when the request arrives.

use crate::generated::LambdaError;
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_core::{Peers, RequestContext, ServiceError, Value};
use kagami_protocol::{ByteStream, FromValue, StreamError};

/// The most a package read from S3 may hold: it must unpack to at most 250 MB, so a
/// larger archive can never be valid.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const MAX_S3_PACKAGE: u64 = crate::zip::MAX_UNZIPPED as u64;

/// Where a package lies in S3, as CreateFunction, UpdateFunctionCode and
/// PublishLayerVersion take it.
pub struct S3Location<'a> {
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub version: Option<&'a str>,
}

impl S3Location<'_> {
    pub fn is_given(&self) -> bool {
        self.bucket.is_some() || self.key.is_some() || self.version.is_some()
    }
}

/// The archive at `location`. S3's refusals become Lambda's InvalidParameterValueException
/// quoting S3's code and message, as Lambda words them.
pub async fn fetch(peers: &Peers, ctx: &RequestContext, location: &S3Location<'_>) -> Result<Bytes, ServiceError> {
    let (Some(bucket), Some(key)) = (location.bucket, location.key) else {
        return Err(LambdaError::InvalidParameterValueException(
            "Please provide a source for function code. Specify the S3Bucket and S3Key of the deployment package.".into(),
        )
        .into());
    };
    let mut input = IndexMap::new();
    input.insert("Bucket".to_string(), Value::Str(bucket.to_string()));
    input.insert("Key".to_string(), Value::Str(key.to_string()));
    if let Some(v) = location.version {
        input.insert("VersionId".to_string(), Value::Str(v.to_string()));
    }
    let system = peers.system_context(&ctx.account_id, &ctx.region, "lambda");
    let output = peers.call(&system, "s3", "GetObject", Value::Map(input)).await.map_err(|e| {
        if e.status >= 500 {
            return e;
        }
        LambdaError::InvalidParameterValueException(format!(
            "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
            e.code, e.message
        ))
        .into()
    })?;
    let body = match output {
        Value::Map(mut m) => m.shift_remove("Body"),
        _ => None,
    };
    let stream = match body {
        Some(v) => ByteStream::from_value(v).map_err(|e| ServiceError::internal(format!("S3 GetObject answered an unexpected body: {e}")))?,
        None => ByteStream::empty(),
    };
    stream.collect(MAX_S3_PACKAGE).await.map_err(|e| match e {
        StreamError::TooLarge { .. } => LambdaError::InvalidParameterValueException(format!(
            "Unzipped size must be smaller than {MAX_S3_PACKAGE} bytes"
        ))
        .into(),
        StreamError::Read(e) => ServiceError::internal(format!("reading s3://{bucket}/{key}: {e}")),
    })
}
