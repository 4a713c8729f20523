//! Server-side encryption as S3 records and reports it. kagami keeps bodies as they
//! came (nothing is encrypted on disk); what matters to clients is what S3 answers:
//! every new object is SSE-S3 (`AES256`) unless the request or the bucket's default
//! encryption names SSE-KMS, and SSE-C objects are readable only with their key.

use crate::errors::{access_denied, invalid_argument, invalid_request};
use crate::generated::ServerSideEncryptionConfiguration;
use crate::persistence::SseRecord;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::FromValue;
use md5::{Digest, Md5};

const AES256: &str = "AES256";
const KMS: &str = "aws:kms";
const KMS_DSSE: &str = "aws:kms:dsse";
const ALGORITHM_HEADER: &str = "x-amz-server-side-encryption";

/// The encryption headers of a write.
#[derive(Debug, Default, Clone, Copy)]
pub struct Requested<'a> {
    pub algorithm: Option<&'a str>,
    pub kms_key_id: Option<&'a str>,
    pub bucket_key_enabled: Option<bool>,
    pub customer: Customer<'a>,
}

/// The three SSE-C headers of a request (or the `x-amz-copy-source-` ones).
#[derive(Debug, Default, Clone, Copy)]
pub struct Customer<'a> {
    pub algorithm: Option<&'a str>,
    pub key: Option<&'a str>,
    pub key_md5: Option<&'a str>,
}

impl Customer<'_> {
    fn is_empty(&self) -> bool {
        self.algorithm.is_none() && self.key.is_none() && self.key_md5.is_none()
    }

    /// Validates the headers and returns the MD5 (base64) of the key. A write must
    /// carry all three; a read may leave out the MD5.
    fn key_md5(&self, write: bool) -> Result<String, ServiceError> {
        let algorithm = self.algorithm.ok_or_else(|| {
            invalid_argument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
                "x-amz-server-side-encryption-customer-algorithm",
                "null",
            )
        })?;
        if algorithm != AES256 {
            return Err(ServiceError::new(
                "InvalidEncryptionAlgorithmError",
                400,
                "The Encryption request you specified is not valid. Supported value: AES256.",
            )
            .with_field("ArgumentName", "x-amz-server-side-encryption-customer-algorithm")
            .with_field("ArgumentValue", algorithm));
        }
        let key = self.key.ok_or_else(|| {
            invalid_argument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
                "x-amz-server-side-encryption-customer-key",
                "null",
            )
        })?;
        let raw = STANDARD
            .decode(key.trim())
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| {
                invalid_argument(
                    "The secret key was invalid for the specified algorithm.",
                    "x-amz-server-side-encryption-customer-key",
                    "null",
                )
            })?;
        let computed = STANDARD.encode(Md5::digest(&raw));
        match self.key_md5 {
            Some(given) if given.trim() != computed => Err(invalid_argument(
                "The calculated MD5 hash of the key did not match the hash that was provided.",
                "x-amz-server-side-encryption-customer-key-MD5",
                "null",
            )),
            None if write => Err(invalid_argument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
                "x-amz-server-side-encryption-customer-key-MD5",
                "null",
            )),
            _ => Ok(computed),
        }
    }
}

/// The encryption of a new object: SSE-C when the request carries a customer key, else
/// what the request names, else the bucket's default encryption, else SSE-S3.
pub fn for_new_object(
    ctx: &RequestContext,
    requested: &Requested,
    bucket_default: Option<Value>,
) -> Result<SseRecord, ServiceError> {
    if !requested.customer.is_empty() {
        if requested.algorithm.is_some() {
            return Err(invalid_argument(
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
                ALGORITHM_HEADER,
                requested.algorithm.unwrap_or_default(),
            ));
        }
        let md5 = requested.customer.key_md5(true)?;
        return Ok(SseRecord {
            customer_algorithm: Some(AES256.to_string()),
            customer_key_md5: Some(md5),
            ..Default::default()
        });
    }
    if let Some(algorithm) = requested.algorithm {
        if ![AES256, KMS, KMS_DSSE].contains(&algorithm) {
            return Err(invalid_argument(
                "The encryption method specified is not supported",
                ALGORITHM_HEADER,
                algorithm,
            ));
        }
        let is_kms = algorithm != AES256;
        if !is_kms && requested.kms_key_id.is_some() {
            return Err(kms_key_without_kms());
        }
        return Ok(SseRecord {
            algorithm: Some(algorithm.to_string()),
            kms_key_id: is_kms.then(|| kms_key_arn(ctx, requested.kms_key_id)),
            bucket_key_enabled: requested.bucket_key_enabled.filter(|_| is_kms),
            ..Default::default()
        });
    }
    if requested.kms_key_id.is_some() {
        return Err(kms_key_without_kms());
    }
    let rule = bucket_default
        .and_then(|v| ServerSideEncryptionConfiguration::from_value(v).ok())
        .and_then(|c| c.rules.into_iter().next());
    if let Some(rule) = rule
        && let Some(default) = rule.apply_server_side_encryption_by_default
        && default.sse_algorithm != AES256
    {
        return Ok(SseRecord {
            kms_key_id: Some(kms_key_arn(ctx, default.kms_master_key_id.as_deref())),
            algorithm: Some(default.sse_algorithm),
            bucket_key_enabled: requested.bucket_key_enabled.or(rule.bucket_key_enabled),
            ..Default::default()
        });
    }
    Ok(sse_s3())
}

/// What objects stored before kagami recorded encryption report: SSE-S3, S3's default.
pub fn sse_s3() -> SseRecord {
    SseRecord {
        algorithm: Some(AES256.to_string()),
        ..Default::default()
    }
}

/// A read (GetObject, HeadObject, a copy's source) of an object stored with `sse`:
/// SSE-C objects need their key, other objects refuse SSE-C headers.
pub fn check_read(sse: Option<&SseRecord>, customer: &Customer) -> Result<(), ServiceError> {
    let stored = sse.and_then(|s| s.customer_key_md5.as_deref());
    match stored {
        None if customer.is_empty() => Ok(()),
        None => Err(invalid_request("The encryption parameters are not applicable to this object.")),
        Some(_) if customer.is_empty() => Err(invalid_request(
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )),
        Some(stored) => {
            if customer.key_md5(false)? == stored {
                Ok(())
            } else {
                Err(access_denied())
            }
        }
    }
}

/// S3 reports the KMS key as an ARN; without one, the account's AWS managed key.
fn kms_key_arn(ctx: &RequestContext, key: Option<&str>) -> String {
    let prefix = format!("arn:aws:kms:{}:{}:", ctx.region, ctx.account_id);
    match key {
        Some(k) if k.starts_with("arn:") => k.to_string(),
        Some(k) if k.starts_with("alias/") => format!("{prefix}{k}"),
        Some(k) => format!("{prefix}key/{k}"),
        None => format!("{prefix}alias/aws/s3"),
    }
}

fn kms_key_without_kms() -> ServiceError {
    invalid_argument(
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
        ALGORITHM_HEADER,
        "null",
    )
}


#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::system("111122223333", "eu-west-1", "s3")
    }

    fn customer_key() -> (String, String) {
        let key = [7u8; 32];
        (STANDARD.encode(key), STANDARD.encode(Md5::digest(key)))
    }

    #[test]
    fn new_objects_are_sse_s3_unless_told_otherwise() {
        let r = for_new_object(&ctx(), &Requested::default(), None).unwrap();
        assert_eq!(r.algorithm.as_deref(), Some("AES256"));
        let kms = Requested { algorithm: Some("aws:kms"), kms_key_id: Some("abc"), ..Default::default() };
        let r = for_new_object(&ctx(), &kms, None).unwrap();
        assert_eq!(r.kms_key_id.as_deref(), Some("arn:aws:kms:eu-west-1:111122223333:key/abc"));
        let bad = Requested { algorithm: Some("AES128"), ..Default::default() };
        assert_eq!(for_new_object(&ctx(), &bad, None).unwrap_err().code, "InvalidArgument");
        let key_only = Requested { kms_key_id: Some("abc"), ..Default::default() };
        assert_eq!(for_new_object(&ctx(), &key_only, None).unwrap_err().code, "InvalidArgument");
    }

    #[test]
    fn the_bucket_default_applies_when_the_request_names_none() {
        let config = Value::Map(indexmap::IndexMap::from([(
            "Rules".to_string(),
            Value::List(vec![Value::Map(indexmap::IndexMap::from([
                (
                    "ApplyServerSideEncryptionByDefault".to_string(),
                    Value::Map(indexmap::IndexMap::from([
                        ("SSEAlgorithm".to_string(), Value::Str("aws:kms".into())),
                        ("KMSMasterKeyID".to_string(), Value::Str("k1".into())),
                    ])),
                ),
                ("BucketKeyEnabled".to_string(), Value::Bool(true)),
            ]))]),
        )]));
        let r = for_new_object(&ctx(), &Requested::default(), Some(config.clone())).unwrap();
        assert_eq!(r.algorithm.as_deref(), Some("aws:kms"));
        assert_eq!(r.kms_key_id.as_deref(), Some("arn:aws:kms:eu-west-1:111122223333:key/k1"));
        assert_eq!(r.bucket_key_enabled, Some(true));
        let explicit = Requested { algorithm: Some("AES256"), ..Default::default() };
        let r = for_new_object(&ctx(), &explicit, Some(config)).unwrap();
        assert_eq!(r.algorithm.as_deref(), Some("AES256"));
    }

    #[test]
    fn sse_c_objects_need_their_key() {
        let (key, md5) = customer_key();
        let customer = Customer { algorithm: Some("AES256"), key: Some(&key), key_md5: Some(&md5) };
        let requested = Requested { customer, ..Default::default() };
        let record = for_new_object(&ctx(), &requested, None).unwrap();
        assert_eq!(record.customer_key_md5.as_deref(), Some(md5.as_str()));
        assert!(check_read(Some(&record), &customer).is_ok());
        assert_eq!(check_read(Some(&record), &Customer::default()).unwrap_err().status, 400);
        let other = STANDARD.encode([8u8; 32]);
        let wrong = Customer { algorithm: Some("AES256"), key: Some(&other), key_md5: None };
        assert_eq!(check_read(Some(&record), &wrong).unwrap_err().status, 403);
        let mismatched = Customer { key_md5: Some("AAAAAAAAAAAAAAAAAAAAAA=="), ..customer };
        assert_eq!(check_read(Some(&record), &mismatched).unwrap_err().code, "InvalidArgument");
        assert_eq!(check_read(None, &customer).unwrap_err().code, "InvalidRequest");
        let no_md5 = Requested { customer: Customer { key_md5: None, ..customer }, ..Default::default() };
        assert_eq!(for_new_object(&ctx(), &no_md5, None).unwrap_err().code, "InvalidArgument");
    }
}
