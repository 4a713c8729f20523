//! Who a request acts as, and — with `--verify-sigv4` — whether its signature holds.
//!
//! The access key always decides the account and principal (through [`Identities`]),
//! and the credential scope the region. Verification answers the errors AWS answers,
//! in the flavour of the service called: S3 has its own codes and texts, query
//! services the classic ones (`InvalidClientTokenId`), JSON services the `*Exception`
//! names, with the classic code in `x-amzn-query-error` for query-compatible ones.

// `ServiceError` is every provider's error, built at most once per request.
#![allow(clippy::result_large_err)]

use crate::sigv2;
use crate::sigv4::{self, Auth, Location, ParseError, Signature, VerifyError};
use kagami_core::identity::Identities;
use kagami_core::{DEFAULT_REGION, Principal, ServiceError};
use kagami_model::Operation;
use kagami_protocol::Protocol;

/// The identity and place a request acts in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub access_key_id: Option<String>,
    pub account_id: String,
    pub principal: Principal,
    pub region: String,
}

/// Which family of error codes the called service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    S3,
    Ec2,
    Query,
    /// JSON, REST-JSON, RPC v2 CBOR; `query_compatible` adds the classic code.
    Json {
        query_compatible: bool,
    },
}

impl Flavour {
    pub fn of(service: &str, protocol: Protocol, query_compatible: bool) -> Flavour {
        if service == "s3" || service == "s3control" {
            return Flavour::S3;
        }
        match protocol {
            Protocol::Ec2 => Flavour::Ec2,
            Protocol::Query => Flavour::Query,
            _ => Flavour::Json { query_compatible },
        }
    }
}

pub struct Check<'a> {
    pub request: &'a sigv4::Request<'a>,
    pub parsed: &'a Result<Option<Auth>, ParseError>,
    /// `None` when the body streams to the provider unread (S3 object uploads).
    pub body: Option<&'a [u8]>,
    /// botocore name of the service called.
    pub service: &'a str,
    /// The operation asked for; those the model marks unsigned (`authtype: none`) need
    /// no signature even when verifying.
    pub operation: Option<&'a Operation>,
    pub flavour: Flavour,
    /// Region named by the Host (`sqs.eu-west-1.localhost.localstack.cloud`), for unsigned requests.
    pub host_region: Option<&'a str>,
    /// The path-style path (`/bucket/key`) of an S3 request, even one addressed
    /// virtually: what an S3 signature version 2 signs.
    pub s3_path: &'a str,
}

/// Resolves the caller; with `verify`, refuses requests AWS would refuse.
pub fn authenticate(
    identities: &Identities,
    verify: bool,
    c: &Check<'_>,
) -> Result<Caller, ServiceError> {
    let auth = match c.parsed {
        Ok(a) => a.as_ref(),
        Err(e) if verify => return Err(malformed(c.flavour, e)),
        Err(_) => None,
    };
    let fallback_region = || c.host_region.unwrap_or(DEFAULT_REGION).to_string();
    let Some(auth) = auth else {
        let anonymous =
            c.flavour == Flavour::S3 || c.operation.is_some_and(Operation::allows_unsigned);
        if verify && !anonymous {
            return Err(missing_token(c.flavour));
        }
        return Ok(Caller {
            access_key_id: None,
            account_id: identities.default_account().to_string(),
            principal: Principal::Root,
            region: fallback_region(),
        });
    };
    let key = auth.access_key_id();
    let resolved = identities.resolve(key);
    let region = match auth {
        Auth::V4(sig) if !sig.scope.region.is_empty() => sig.scope.region.clone(),
        _ => fallback_region(),
    };
    if verify && let Auth::V4(sig) = auth {
        // SigV2 is accepted unverified: only old S3 clients still send it.
        let Some(secret) = resolved.secret_access_key.as_deref() else {
            return Err(unknown_key(c.flavour, key));
        };
        if let Some(issued) = identities.get(key)
            && issued.session_token.is_some()
            && issued.session_token != sig.security_token
        {
            return Err(unknown_key(c.flavour, key));
        }
        if resolved.expired {
            return Err(expired_token(c.flavour));
        }
        check_time(c.flavour, sig)?;
        let payload = match c.body {
            Some(body) => sigv4::Payload::Body(body),
            None => sigv4::Payload::Unread,
        };
        sigv4::verify_payload(c.request, sig, secret, payload)
            .map_err(|e| refused(c.flavour, key, sig, e))?;
    } else if verify && c.flavour == Flavour::S3 {
        // S3's signature version 2, which boto3 still presigns with.
        let Some(secret) = resolved.secret_access_key.as_deref() else {
            return Err(unknown_key(c.flavour, key));
        };
        if resolved.expired {
            return Err(expired_token(c.flavour));
        }
        check_v2(c, key, secret)?;
    } else if resolved.expired {
        // Expiry is no signature check: code that works against kagami must also
        // refresh its credentials as it will have to on AWS.
        return Err(expired_token(c.flavour));
    }
    Ok(Caller {
        access_key_id: Some(key.to_string()),
        account_id: resolved.account_id,
        principal: resolved.principal,
        region,
    })
}

/// The account a browser POST form acts in, from its `x-amz-credential`; with `verify`,
/// its `x-amz-signature` must be the SigV4 signature of the base64 policy with the
/// key's secret (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>).
pub fn post_policy(
    identities: &Identities,
    verify: bool,
    form: &kagami_core::service::PostSignature<'_>,
) -> Result<String, ServiceError> {
    if !form.credential.contains('/') {
        return post_policy_v2(identities, verify, form);
    }
    let mut parts = form.credential.split('/');
    let scope = match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some(key), Some(date), Some(region), Some(service), Some(sigv4::TERMINATOR), None)
            if !key.is_empty() =>
        {
            sigv4::Scope {
                access_key_id: key.to_string(),
                date: date.to_string(),
                region: region.to_string(),
                service: service.to_string(),
            }
        }
        _ => {
            return Err(ServiceError::new(
                "InvalidArgument",
                400,
                format!(
                    "Invalid according to Policy: Unable to parse credential: {}",
                    form.credential
                ),
            )
            .with_field("ArgumentName", "x-amz-credential")
            .with_field("ArgumentValue", form.credential.to_string()));
        }
    };
    let key = scope.access_key_id.as_str();
    let resolved = identities.resolve(key);
    if verify {
        let Some(secret) = resolved.secret_access_key.as_deref() else {
            return Err(unknown_key(Flavour::S3, key));
        };
        if let Some(issued) = identities.get(key)
            && issued.session_token.is_some()
            && issued.session_token.as_deref() != form.security_token
        {
            return Err(unknown_key(Flavour::S3, key));
        }
        if resolved.expired {
            return Err(expired_token(Flavour::S3));
        }
        let expected = sigv4::sign(secret, &scope, form.policy);
        if !expected.eq_ignore_ascii_case(form.signature.trim()) {
            return Err(ServiceError::new(
                "SignatureDoesNotMatch",
                403,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            )
            .with_field("AWSAccessKeyId", key.to_string())
            .with_field("StringToSign", form.policy.to_string())
            .with_field("SignatureProvided", form.signature.to_string()));
        }
    } else if resolved.expired {
        return Err(expired_token(Flavour::S3));
    }
    Ok(resolved.account_id)
}

/// Expiry (of a presigned URL) and signature of an S3 signature version 2.
fn check_v2(c: &Check<'_>, key: &str, secret: &str) -> Result<(), ServiceError> {
    let Some(v2) = sigv2::fields(c.request) else {
        return Err(ServiceError::new(
            "AccessDenied",
            403,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ));
    };
    if let Some(expires) = v2.expires {
        let Ok(at) = expires.trim().parse::<i64>() else {
            return Err(ServiceError::new(
                "AccessDenied",
                403,
                format!("Invalid date (should be seconds since epoch): {expires}"),
            ));
        };
        let now = real_now_secs();
        if now > at {
            return Err(
                ServiceError::new("AccessDenied", 403, "Request has expired")
                    .with_field("Expires", iso(at))
                    .with_field("ServerTime", iso(now)),
            );
        }
    }
    let string_to_sign = sigv2::string_to_sign(c.request, c.s3_path, v2.expires);
    // A bucket's own resource is `/bucket/` to some signers (botocore) and `/bucket`
    // to others, whichever path went on the wire.
    let bucket_only = c.s3_path.trim_matches('/');
    let alternative = (!bucket_only.is_empty() && !bucket_only.contains('/')).then(|| {
        let other = if c.s3_path.ends_with('/') {
            format!("/{bucket_only}")
        } else {
            format!("/{bucket_only}/")
        };
        sigv2::string_to_sign(c.request, &other, v2.expires)
    });
    let matches = |sts: &str| sigv2::sign(secret, sts) == v2.signature;
    if !matches(&string_to_sign) && !alternative.as_deref().is_some_and(matches) {
        return Err(ServiceError::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
        .with_field("AWSAccessKeyId", key.to_string())
        .with_field("StringToSign", string_to_sign)
        .with_field("SignatureProvided", v2.signature));
    }
    Ok(())
}

/// A version 2 form: `signature` is the base64 HMAC-SHA1 of the policy.
fn post_policy_v2(
    identities: &Identities,
    verify: bool,
    form: &kagami_core::service::PostSignature<'_>,
) -> Result<String, ServiceError> {
    let key = form.credential;
    let resolved = identities.resolve(key);
    if resolved.expired {
        return Err(expired_token(Flavour::S3));
    }
    if verify {
        let Some(secret) = resolved.secret_access_key.as_deref() else {
            return Err(unknown_key(Flavour::S3, key));
        };
        if sigv2::sign(secret, form.policy) != form.signature.trim() {
            return Err(ServiceError::new(
                "SignatureDoesNotMatch",
                403,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            )
            .with_field("AWSAccessKeyId", key.to_string())
            .with_field("StringToSign", form.policy.to_string())
            .with_field("SignatureProvided", form.signature.to_string()));
        }
    }
    Ok(resolved.account_id)
}

fn real_now_secs() -> i64 {
    // Signature dates come from the client's wall clock, so they are checked against
    // real time: moving the emulated clock forward (`POST /_kagami/clock`) must not make
    // every signed request look skewed. Issued credentials expire on the emulated clock.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn check_time(flavour: Flavour, sig: &Signature) -> Result<(), ServiceError> {
    let Some(amz_date) = sig.amz_date.as_deref() else {
        return Err(missing_date(flavour));
    };
    let Some(signed_at) = sigv4::parse_amz_date(amz_date) else {
        let message = format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        );
        let e = match sig.location {
            Location::Header => ParseError::IncompleteSignature(message),
            Location::Query => ParseError::QueryParameters(message),
        };
        return Err(malformed(flavour, &e));
    };
    let now = real_now_secs();
    if sig.location == Location::Query {
        // The client's wall clock dated the URL, so its expiry is checked against real
        // time too: advancing the emulated clock must not expire URLs presigned since.
        let expires = sig
            .expires_secs
            .unwrap_or(sigv4::MAX_PRESIGNED_EXPIRES_SECS);
        if now > signed_at + expires {
            let mut e = ServiceError::new("AccessDenied", 403, "Request has expired");
            if flavour == Flavour::S3 {
                e = e
                    .with_field("X-Amz-Expires", expires.to_string())
                    .with_field("Expires", iso(signed_at + expires))
                    .with_field("ServerTime", iso(now));
            }
            return Err(e);
        }
        return Ok(());
    }
    if (now - signed_at).abs() <= sigv4::MAX_SKEW_SECS {
        return Ok(());
    }
    Err(match flavour {
        Flavour::S3 => ServiceError::new(
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        )
        .with_field("RequestTime", amz_date.to_string())
        .with_field("ServerTime", iso(now))
        .with_field("MaxAllowedSkewMilliseconds", "900000"),
        _ => {
            let message = if signed_at < now {
                format!(
                    "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                    sigv4::format_amz_date(now - sigv4::MAX_SKEW_SECS),
                    sigv4::format_amz_date(now)
                )
            } else {
                format!(
                    "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                    sigv4::format_amz_date(now + sigv4::MAX_SKEW_SECS),
                    sigv4::format_amz_date(now)
                )
            };
            classic(
                flavour,
                "RequestTimeTooSkewed",
                "InvalidSignatureException",
                403,
                message,
            )
        }
    })
}

fn iso(secs: i64) -> String {
    kagami_core::Timestamp::from_secs(secs).to_iso8601()
}

/// A classic (query) error code, or its JSON-protocol name with the classic code kept
/// for query-compatible services.
fn classic(
    flavour: Flavour,
    code: &str,
    json_code: &str,
    status: u16,
    message: impl Into<String>,
) -> ServiceError {
    match flavour {
        Flavour::Json { query_compatible } => {
            let e = ServiceError::new(json_code, status, message);
            if query_compatible {
                e.with_query_code(code)
            } else {
                e
            }
        }
        _ => ServiceError::new(code, status, message),
    }
}

fn unknown_key(flavour: Flavour, key: &str) -> ServiceError {
    match flavour {
        Flavour::S3 => ServiceError::new(
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        )
        .with_field("AWSAccessKeyId", key.to_string()),
        Flavour::Ec2 => auth_failure(),
        _ => classic(
            flavour,
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            403,
            "The security token included in the request is invalid.",
        ),
    }
}

fn auth_failure() -> ServiceError {
    ServiceError::new(
        "AuthFailure",
        401,
        "AWS was not able to validate the provided access credentials",
    )
}

fn expired_token(flavour: Flavour) -> ServiceError {
    match flavour {
        Flavour::S3 => ServiceError::new("ExpiredToken", 400, "The provided token has expired."),
        _ => classic(
            flavour,
            "ExpiredToken",
            "ExpiredTokenException",
            403,
            "The security token included in the request is expired",
        ),
    }
}

fn missing_token(flavour: Flavour) -> ServiceError {
    match flavour {
        Flavour::Json { .. } => classic(
            flavour,
            "MissingAuthenticationToken",
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token",
        ),
        _ => ServiceError::new(
            "MissingAuthenticationToken",
            403,
            "Request is missing Authentication Token",
        ),
    }
}

fn missing_date(flavour: Flavour) -> ServiceError {
    match flavour {
        Flavour::S3 => ServiceError::new(
            "AccessDenied",
            403,
            "AWS authentication requires a valid Date or x-amz-date header",
        ),
        _ => classic(
            flavour,
            "IncompleteSignature",
            "IncompleteSignatureException",
            400,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ),
    }
}

fn malformed(flavour: Flavour, e: &ParseError) -> ServiceError {
    match (flavour, e) {
        (Flavour::S3, ParseError::QueryParameters(m)) => {
            ServiceError::new("AuthorizationQueryParametersError", 400, m)
        }
        (Flavour::S3, ParseError::IncompleteSignature(m)) => ServiceError::new(
            "AuthorizationHeaderMalformed",
            400,
            format!("The authorization header is malformed; {m}"),
        ),
        (_, e) => classic(
            flavour,
            "IncompleteSignature",
            "IncompleteSignatureException",
            400,
            e.to_string(),
        ),
    }
}

fn refused(flavour: Flavour, key: &str, sig: &Signature, e: VerifyError) -> ServiceError {
    match e {
        VerifyError::MissingDate => missing_date(flavour),
        VerifyError::ContentSha256Mismatch { client, computed } => ServiceError::new(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
        .with_field("ClientComputedContentSHA256", client)
        .with_field("S3ComputedContentSHA256", computed),
        VerifyError::Mismatch { canonical_request, string_to_sign } => match flavour {
            Flavour::S3 => ServiceError::new(
                "SignatureDoesNotMatch",
                403,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            )
            .with_field("AWSAccessKeyId", key.to_string())
            .with_field("StringToSign", string_to_sign)
            .with_field("SignatureProvided", sig.signature.clone())
            .with_field("CanonicalRequest", canonical_request),
            Flavour::Ec2 => auth_failure(),
            _ => classic(
                flavour,
                "SignatureDoesNotMatch",
                "InvalidSignatureException",
                403,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        flavour: Flavour,
        service: &str,
        query: &str,
        headers: Vec<(&str, &str)>,
        verify: bool,
    ) -> Result<Caller, ServiceError> {
        let request = sigv4::Request {
            method: "GET",
            path: "/",
            query,
            headers,
        };
        let parsed = sigv4::parse(&request);
        let check = Check {
            request: &request,
            parsed: &parsed,
            body: Some(b""),
            service,
            operation: None,
            flavour,
            host_region: Some("ap-south-1"),
            s3_path: "/",
        };
        authenticate(&Identities::ephemeral(), verify, &check)
    }

    fn header_auth(key: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={key}/20240101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00"
        )
    }

    #[test]
    fn unsigned_requests_act_as_the_default_account_in_the_host_region() {
        let c = run(Flavour::Query, "sqs", "", vec![], false).unwrap();
        assert_eq!(c.account_id, "000000000000");
        assert_eq!(c.region, "ap-south-1");
        assert_eq!(c.access_key_id, None);
    }

    #[test]
    fn s3_names_an_unknown_key_its_own_way() {
        let auth = header_auth("AKIAUNKNOWN");
        let e = run(
            Flavour::S3,
            "s3",
            "",
            vec![("authorization", &auth), ("x-amz-date", "20240101T000000Z")],
            true,
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidAccessKeyId");
        assert_eq!(e.status, 403);
        assert_eq!(
            e.message,
            "The AWS Access Key Id you provided does not exist in our records."
        );
        assert!(e.fields.iter().any(|(k, _)| k == "AWSAccessKeyId"));
    }

    #[test]
    fn json_services_use_exception_names_and_query_compatible_ones_keep_the_classic_code() {
        let auth = header_auth("AKIAUNKNOWN");
        let h = vec![
            ("authorization", auth.as_str()),
            ("x-amz-date", "20240101T000000Z"),
        ];
        let e = run(
            Flavour::Json {
                query_compatible: false,
            },
            "lambda",
            "",
            h.clone(),
            true,
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.query_code.as_deref()),
            ("UnrecognizedClientException", None)
        );
        let e = run(
            Flavour::Json {
                query_compatible: true,
            },
            "sqs",
            "",
            h,
            true,
        )
        .unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.query_code.as_deref()),
            ("UnrecognizedClientException", Some("InvalidClientTokenId"))
        );
    }

    #[test]
    fn presigned_url_past_its_expiry_is_refused() {
        let signed_at = sigv4::format_amz_date(real_now_secs() - 7200);
        let q = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F{}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={signed_at}&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
            &signed_at[..8]
        );
        let e = run(Flavour::S3, "s3", &q, vec![("host", "localhost")], true).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.status, e.message.as_str()),
            ("AccessDenied", 403, "Request has expired")
        );
    }

    #[test]
    fn presigned_url_with_a_malformed_date_is_a_query_parameters_error() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=yesterday&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let e = run(Flavour::S3, "s3", q, vec![("host", "localhost")], true).unwrap_err();
        assert_eq!(e.code, "AuthorizationQueryParametersError");
    }

    #[tokio::test]
    async fn expired_credentials_are_refused_even_when_not_verifying() {
        use kagami_core::identity::{Credential, StoredPrincipal};
        let identities = Identities::ephemeral();
        identities
            .insert(Credential {
                access_key_id: "ASIAEXPIRED".into(),
                secret_access_key: "secret".into(),
                session_token: Some("token".into()),
                account_id: "111111111111".into(),
                principal: StoredPrincipal::Root,
                expires_at_millis: Some(0),
            })
            .await
            .unwrap();
        let auth = header_auth("ASIAEXPIRED");
        let request = sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![("authorization", &auth), ("x-amz-date", "20240101T000000Z")],
        };
        let parsed = sigv4::parse(&request);
        let check = |flavour| Check {
            request: &request,
            parsed: &parsed,
            body: Some(b""),
            service: "sqs",
            operation: None,
            flavour,
            host_region: None,
            s3_path: "/",
        };
        let e = authenticate(&identities, false, &check(Flavour::Query)).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("ExpiredToken", 403));
        let json = check(Flavour::Json {
            query_compatible: true,
        });
        let e = authenticate(&identities, false, &json).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.query_code.as_deref()),
            ("ExpiredTokenException", Some("ExpiredToken"))
        );
    }

    #[test]
    fn malformed_signatures_pass_when_not_verifying() {
        let c = run(
            Flavour::Query,
            "sts",
            "",
            vec![("authorization", "AWS4-HMAC-SHA256 nonsense")],
            false,
        )
        .unwrap();
        assert_eq!(c.account_id, "000000000000");
    }

    #[test]
    fn post_policies_are_verified_with_the_keys_secret() {
        use kagami_core::service::PostSignature;
        let identities = Identities::ephemeral();
        let scope = sigv4::Scope {
            access_key_id: "111122223333".into(),
            date: "20260101".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
        };
        let policy = "eyJjb25kaXRpb25zIjogW119";
        fn form<'a>(signature: &'a str, credential: &'a str) -> PostSignature<'a> {
            PostSignature {
                credential,
                policy: "eyJjb25kaXRpb25zIjogW119",
                signature,
                security_token: None,
            }
        }
        let good = sigv4::sign("test", &scope, policy);
        let good = good.as_str();
        let credential = "111122223333/20260101/us-east-1/s3/aws4_request";
        assert_eq!(
            post_policy(&identities, true, &form(good, credential)).unwrap(),
            "111122223333"
        );
        let e = post_policy(&identities, true, &form("00", credential)).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("SignatureDoesNotMatch", 403));
        // Without verification the credential still names the account.
        assert_eq!(
            post_policy(&identities, false, &form("00", credential)).unwrap(),
            "111122223333"
        );
        let e = post_policy(&identities, true, &form("00", "not-a-scope/x")).unwrap_err();
        assert_eq!(e.code, "InvalidArgument");
        // Version 2 forms: base64 HMAC-SHA1 of the policy.
        let v2 = sigv2::sign("test", policy);
        assert_eq!(
            post_policy(&identities, true, &form(&v2, "test")).unwrap(),
            "000000000000"
        );
        let e = post_policy(&identities, true, &form("AAAA", "test")).unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
    }
}
