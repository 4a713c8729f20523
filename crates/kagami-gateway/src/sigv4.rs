//! AWS Signature Version 4: reading the credential scope of a request (always) and
//! checking its signature against a known secret (with `--verify-sigv4`).
//!
//! Both places a signature can travel are handled: the `Authorization` header and
//! presigned query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, ...). The
//! canonical request follows AWS's "Create a canonical request" rules: for every
//! service but S3 the path is normalized and URI-encoded a second time; for S3 it is
//! used as sent. Clients disagree on a few corners (double encoding, payload hash of
//! presigned requests), so [`verify`] accepts a signature that matches any of the
//! canonical forms real SDKs produce.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// SigV4a: parsed for its access key and region set, not verified.
pub const ALGORITHM_ECDSA: &str = "AWS4-ECDSA-P256-SHA256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub(crate) const TERMINATOR: &str = "aws4_request";
/// How far a request's date may be from the server's clock (AWS: 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;
/// Longest validity of a presigned URL (S3: one week).
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 604_800;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request as the signer saw it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Raw path as sent, still percent-encoded.
    pub path: &'a str,
    /// Raw query string, without the `?`.
    pub query: &'a str,
    /// Lower-case header names with their values, in the order received; a name may repeat.
    pub headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    /// The signed parts of a request as the gateway received it.
    pub fn from_parts(head: &'a http::request::Parts) -> Self {
        Request {
            method: head.method.as_str(),
            path: head.uri.path(),
            query: head.uri.query().unwrap_or(""),
            headers: {
                // Sized up front: collecting through the filter would regrow it.
                let mut headers = Vec::with_capacity(head.headers.len());
                headers.extend(head.headers.iter().filter_map(|(n, v)| {
                    Some((n.as_str(), std::str::from_utf8(v.as_bytes()).ok()?))
                }));
                headers
            },
        }
    }
}

impl<'a> Request<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Header,
    Query,
}

/// The credential scope: `AKID/20150830/us-east-1/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    /// The scope as it appears in the string to sign (without the access key).
    pub fn to_scope_string(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// A parsed SigV4 (or SigV4a) signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub algorithm: String,
    pub scope: Scope,
    pub signed_headers: Vec<String>,
    pub signature: String,
    pub location: Location,
    /// `X-Amz-Date` (header or query), in ISO 8601 basic format.
    pub amz_date: Option<String>,
    /// `X-Amz-Expires` of presigned requests, in seconds.
    pub expires_secs: Option<i64>,
    /// `X-Amz-Security-Token` (header or query).
    pub security_token: Option<String>,
}

impl Signature {
    pub fn is_sigv4a(&self) -> bool {
        self.algorithm == ALGORITHM_ECDSA
    }
}

/// What authenticates a request.
#[derive(Debug, Clone, PartialEq, Eq)]
// One short-lived value per request: boxing the common variant would cost more than it saves.
#[allow(clippy::large_enum_variant)]
pub enum Auth {
    /// SigV4 or SigV4a, in the header or the query.
    V4(Signature),
    /// Signature version 2 (`AWS AKID:sig`, or `AWSAccessKeyId=` in the query), which old
    /// S3 clients still send: only the access key is read.
    V2 { access_key_id: String },
}

impl Auth {
    pub fn access_key_id(&self) -> &str {
        match self {
            Auth::V4(s) => &s.scope.access_key_id,
            Auth::V2 { access_key_id } => access_key_id,
        }
    }
}

/// A signature that is present but malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Header form: AWS answers `IncompleteSignature`.
    #[error("{0}")]
    IncompleteSignature(String),
    /// Query form: S3 answers `AuthorizationQueryParametersError`.
    #[error("{0}")]
    QueryParameters(String),
}

/// Reads the signature of a request, from the `Authorization` header or the query.
/// `Ok(None)` means the request is unsigned.
pub fn parse(req: &Request<'_>) -> Result<Option<Auth>, ParseError> {
    if let Some(value) = req.header("authorization") {
        return parse_header(req, value).map(Some);
    }
    parse_query(req)
}

fn parse_header(req: &Request<'_>, value: &str) -> Result<Auth, ParseError> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("AWS ") {
        let access_key_id = rest.split(':').next().unwrap_or_default().trim();
        if access_key_id.is_empty() {
            return Err(ParseError::IncompleteSignature(format!(
                "Authorization header is invalid -- one and only one ' ' (space) required. Authorization={value}"
            )));
        }
        return Ok(Auth::V2 {
            access_key_id: access_key_id.to_string(),
        });
    }
    let (algorithm, params) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM && algorithm != ALGORITHM_ECDSA {
        return Err(ParseError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in params.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed_headers = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    let missing: Vec<&str> = [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ]
    .iter()
    .filter(|(_, v)| v.is_none())
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        let msgs: Vec<String> = missing
            .iter()
            .map(|k| format!("Authorization header requires '{k}' parameter."))
            .collect();
        return Err(ParseError::IncompleteSignature(format!(
            "{} Authorization={value}",
            msgs.join(" ")
        )));
    }
    let scope = parse_scope(
        credential.unwrap_or_default(),
        algorithm,
        req.header("x-amz-region-set"),
    )
    .map_err(ParseError::IncompleteSignature)?;
    Ok(Auth::V4(Signature {
        algorithm: algorithm.to_string(),
        scope,
        signed_headers: split_signed_headers(signed_headers.unwrap_or_default()),
        signature: signature.unwrap_or_default().to_string(),
        location: Location::Header,
        amz_date: header_amz_date(req),
        expires_secs: None,
        security_token: req.header("x-amz-security-token").map(str::to_string),
    }))
}

/// `X-Amz-Date`, or the `Date` header converted to the basic ISO 8601 form.
fn header_amz_date(req: &Request<'_>) -> Option<String> {
    if let Some(d) = req.header("x-amz-date") {
        return Some(d.trim().to_string());
    }
    let date = req.header("date")?;
    let ts = kagami_protocol::Timestamp::parse_rfc822(date.trim()).ok()?;
    Some(format_amz_date(ts.as_millis().div_euclid(1000)))
}

fn parse_query(req: &Request<'_>) -> Result<Option<Auth>, ParseError> {
    let mut algorithm = None;
    let mut credential = None;
    let mut date = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut expires = None;
    let mut token = None;
    let mut v2_key = None;
    let mut region_set = None;
    for (k, v) in query_pairs(req.query) {
        match k.as_str() {
            "X-Amz-Algorithm" => algorithm = Some(v),
            "X-Amz-Credential" => credential = Some(v),
            "X-Amz-Date" => date = Some(v),
            "X-Amz-SignedHeaders" => signed_headers = Some(v),
            "X-Amz-Signature" => signature = Some(v),
            "X-Amz-Expires" => expires = Some(v),
            "X-Amz-Security-Token" => token = Some(v),
            "X-Amz-Region-Set" => region_set = Some(v),
            "AWSAccessKeyId" => v2_key = Some(v),
            _ => {}
        }
    }
    let Some(algorithm) = algorithm else {
        return Ok(v2_key
            .filter(|k| !k.is_empty())
            .map(|access_key_id| Auth::V2 { access_key_id }));
    };
    const REQUIRED: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
    if algorithm != ALGORITHM && algorithm != ALGORITHM_ECDSA {
        return Err(ParseError::QueryParameters(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256\"".into(),
        ));
    }
    let (Some(credential), Some(date), Some(signed_headers), Some(signature)) =
        (credential, date, signed_headers, signature)
    else {
        return Err(ParseError::QueryParameters(REQUIRED.into()));
    };
    let expires_secs = match expires {
        None => None,
        Some(e) => match e.parse::<i64>() {
            Ok(n) if n < 0 => {
                return Err(ParseError::QueryParameters(
                    "X-Amz-Expires must be non-negative".into(),
                ));
            }
            Ok(n) if n > MAX_PRESIGNED_EXPIRES_SECS => {
                return Err(ParseError::QueryParameters(
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800".into(),
                ));
            }
            Ok(n) => Some(n),
            Err(_) => {
                return Err(ParseError::QueryParameters(
                    "X-Amz-Expires should be a number".into(),
                ));
            }
        },
    };
    let region_set = region_set.as_deref().or(req.header("x-amz-region-set"));
    let scope =
        parse_scope(&credential, &algorithm, region_set).map_err(ParseError::QueryParameters)?;
    Ok(Some(Auth::V4(Signature {
        algorithm,
        scope,
        signed_headers: split_signed_headers(&signed_headers),
        signature,
        location: Location::Query,
        amz_date: Some(date),
        expires_secs,
        security_token: token.or_else(|| req.header("x-amz-security-token").map(str::to_string)),
    })))
}

/// `AKID/DATE/REGION/SERVICE/aws4_request`; SigV4a scopes have no region
/// (`AKID/DATE/SERVICE/aws4_request`) and carry it in `X-Amz-Region-Set`.
fn parse_scope(
    credential: &str,
    algorithm: &str,
    region_set: Option<&str>,
) -> Result<Scope, String> {
    let malformed = || {
        format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{credential}'."
        )
    };
    let mut parts = credential.rsplitn(5, '/');
    let terminator = parts.next().ok_or_else(malformed)?;
    if terminator != TERMINATOR {
        return Err(malformed());
    }
    if algorithm == ALGORITHM_ECDSA {
        let mut parts = credential.rsplitn(4, '/').skip(1);
        let (Some(service), Some(date), Some(akid)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let region = region_set
            .and_then(|s| {
                s.split(',')
                    .map(str::trim)
                    .find(|r| !r.is_empty() && *r != "*")
            })
            .unwrap_or(kagami_core::DEFAULT_REGION);
        return Ok(Scope {
            access_key_id: akid.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        });
    }
    let (Some(service), Some(region), Some(date), Some(akid)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "Credential should be scoped to a valid region, not '{credential}'."
        ));
    };
    if akid.is_empty() {
        return Err(format!(
            "Credential should contain an access key id, not '{credential}'."
        ));
    }
    Ok(Scope {
        access_key_id: akid.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

fn split_signed_headers(s: &str) -> Vec<String> {
    let mut names = Vec::with_capacity(s.bytes().filter(|b| *b == b';').count() + 1);
    names.extend(
        s.split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty()),
    );
    names
}

/// Percent-decoded `(key, value)` pairs of a raw query string.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_lossy(k), decode_lossy(v))
    })
}

fn decode_lossy(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

// --- canonical request -------------------------------------------------------------

/// URI-encodes per SigV4: every byte but the unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// becomes `%XX` (upper-case hex); `/` is kept when `keep_slash`.
pub fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// Canonical URI of every service but S3: dot segments and empty segments removed,
/// then the (already encoded) path encoded again.
pub fn canonical_uri_normalized(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in raw_path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = String::with_capacity(raw_path.len() + 1);
    path.push('/');
    path.push_str(&segments.join("/"));
    if raw_path.ends_with('/') && !segments.is_empty() {
        path.push('/');
    }
    uri_encode(path.as_bytes(), true)
}

/// Canonical URI of S3: the path exactly as sent.
pub fn canonical_uri_s3(raw_path: &str) -> String {
    if raw_path.is_empty() {
        "/".to_string()
    } else {
        raw_path.to_string()
    }
}

/// Canonical query string: each name and value decoded, then encoded per SigV4, sorted
/// by name and then value; `X-Amz-Signature` left out.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k: Vec<u8> = percent_encoding::percent_decode_str(k).collect();
            let v: Vec<u8> = percent_encoding::percent_decode_str(v).collect();
            (uri_encode(&k, false), uri_encode(&v, false))
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    pairs.sort();
    join_pairs(&pairs)
}

/// The query as sent, only sorted: what botocore signs (it encodes before signing, so
/// for its requests this equals [`canonical_query`]); other clients may differ.
fn canonical_query_raw(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_string(), v.to_string())
        })
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    pairs.sort();
    join_pairs(&pairs)
}

fn join_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `name:value\n` for each signed header: values of a repeated header joined by `,`,
/// whitespace runs (folded lines included) collapsed to one space, ends trimmed.
pub fn canonical_headers(req: &Request<'_>, signed_headers: &[String]) -> String {
    let mut out = String::new();
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        for (n, v) in &req.headers {
            if n == name {
                if !first {
                    out.push(',');
                }
                first = false;
                push_collapsed(&mut out, v);
            }
        }
        out.push('\n');
    }
    out
}

fn push_collapsed(out: &mut String, value: &str) {
    let mut pending_space = false;
    let mut wrote = false;
    for c in value.chars() {
        if c.is_whitespace() {
            pending_space = wrote;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
            wrote = true;
        }
    }
}

pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        signed_headers.join(";")
    )
}

pub fn string_to_sign(amz_date: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        scope.to_scope_string(),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn signing_key(secret: &str, scope: &Scope) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

pub fn sign(secret: &str, scope: &Scope, string_to_sign: &str) -> String {
    hex::encode(hmac(&signing_key(secret, scope), string_to_sign.as_bytes()))
}

// --- verification ------------------------------------------------------------------

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No form of the canonical request gives the signature the client sent.
    Mismatch {
        canonical_request: String,
        string_to_sign: String,
    },
    /// `X-Amz-Content-SHA256` names a hash the body does not have.
    ContentSha256Mismatch { client: String, computed: String },
    /// The request has no date to sign with.
    MissingDate,
}

/// The body a signature covers.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    Body(&'a [u8]),
    /// A body that streams to the provider and has not been read: its declared hash
    /// (`X-Amz-Content-SHA256`) is signed as sent, and the reader must check the bytes
    /// against it (S3 answers `XAmzContentSHA256Mismatch`).
    Unread,
}

/// Checks a SigV4 signature with the key's secret. SigV4a signatures are not checked.
pub fn verify(
    req: &Request<'_>,
    sig: &Signature,
    secret: &str,
    body: &[u8],
) -> Result<(), VerifyError> {
    verify_payload(req, sig, secret, Payload::Body(body))
}

/// [`verify`] for a body that may not have been read yet.
pub fn verify_payload(
    req: &Request<'_>,
    sig: &Signature,
    secret: &str,
    payload: Payload<'_>,
) -> Result<(), VerifyError> {
    if sig.is_sigv4a() {
        return Ok(());
    }
    let amz_date = sig.amz_date.as_deref().ok_or(VerifyError::MissingDate)?;
    let body = match payload {
        Payload::Body(body) => body,
        Payload::Unread => &[],
    };
    let body_hash = || hex::encode(Sha256::digest(body));
    let declared = req.header("x-amz-content-sha256").map(str::trim);
    let mut payloads: Vec<String> = Vec::with_capacity(2);
    match declared {
        Some(h) if is_hex_sha256(h) && matches!(payload, Payload::Unread) => {
            payloads.push(h.to_string());
        }
        // Unread and undeclared: only an unsigned payload can match.
        None if matches!(payload, Payload::Unread) => {
            payloads.push(UNSIGNED_PAYLOAD.to_string());
        }
        Some(h) if is_hex_sha256(h) => {
            let computed = body_hash();
            if !h.eq_ignore_ascii_case(&computed) {
                return Err(VerifyError::ContentSha256Mismatch {
                    client: h.to_string(),
                    computed,
                });
            }
            payloads.push(h.to_string());
        }
        // UNSIGNED-PAYLOAD and the STREAMING-* forms are signed literally; the chunk
        // signatures of aws-chunked bodies are not checked.
        Some(h) => payloads.push(h.to_string()),
        None if sig.location == Location::Query => {
            payloads.push(UNSIGNED_PAYLOAD.to_string());
            payloads.push(body_hash());
        }
        None => {
            payloads.push(if body.is_empty() {
                EMPTY_SHA256.to_string()
            } else {
                body_hash()
            });
            payloads.push(UNSIGNED_PAYLOAD.to_string());
        }
    }
    let s3 = sig.scope.service.starts_with("s3");
    let (first_uri, other_uri) = if s3 {
        (
            canonical_uri_s3(req.path),
            canonical_uri_normalized(req.path),
        )
    } else {
        (
            canonical_uri_normalized(req.path),
            canonical_uri_s3(req.path),
        )
    };
    // Presigned parameters (all but the signature) are part of the canonical query.
    let queries = {
        let q = canonical_query(req.query);
        let raw = canonical_query_raw(req.query);
        if raw == q { vec![q] } else { vec![q, raw] }
    };
    let headers = canonical_headers(req, &sig.signed_headers);
    let key = signing_key(secret, &sig.scope);
    let mut first_attempt = None;
    for uri in [&first_uri, &other_uri] {
        for q in &queries {
            for payload in &payloads {
                let creq =
                    canonical_request(req.method, uri, q, &headers, &sig.signed_headers, payload);
                let sts = string_to_sign(amz_date, &sig.scope, &creq);
                let computed = hex::encode(hmac(&key, sts.as_bytes()));
                if constant_time_eq(
                    computed.as_bytes(),
                    sig.signature.to_ascii_lowercase().as_bytes(),
                ) {
                    return Ok(());
                }
                if first_attempt.is_none() {
                    first_attempt = Some((creq, sts));
                }
            }
        }
    }
    let (canonical_request, string_to_sign) = first_attempt.unwrap_or_default();
    Err(VerifyError::Mismatch {
        canonical_request,
        string_to_sign,
    })
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// --- dates ---------------------------------------------------------------------------

/// Seconds since the epoch of an ISO 8601 basic timestamp (`20150830T123600Z`).
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// The ISO 8601 basic form of an epoch second.
pub fn format_amz_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: Vec<(&'a str, &'a str)>,
    ) -> Request<'a> {
        Request {
            method,
            path,
            query,
            headers,
        }
    }

    #[test]
    fn header_authorization_yields_scope_and_signed_headers() {
        let r = req(
            "POST",
            "/",
            "",
            vec![
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
                ),
                ("x-amz-date", "20240102T030405Z"),
            ],
        );
        let Ok(Some(Auth::V4(sig))) = parse(&r) else {
            panic!("not parsed")
        };
        assert_eq!(sig.scope.access_key_id, "AKID");
        assert_eq!(sig.scope.region, "eu-west-1");
        assert_eq!(sig.scope.service, "sqs");
        assert_eq!(sig.scope.date, "20240102");
        assert_eq!(sig.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(sig.amz_date.as_deref(), Some("20240102T030405Z"));
        assert_eq!(sig.location, Location::Header);
    }

    #[test]
    fn presigned_query_yields_scope_and_expiry() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240102%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        let r = req("GET", "/b/k", q, vec![("host", "localhost")]);
        let Ok(Some(Auth::V4(sig))) = parse(&r) else {
            panic!("not parsed")
        };
        assert_eq!(sig.scope.access_key_id, "test");
        assert_eq!(sig.scope.region, "us-west-2");
        assert_eq!(sig.expires_secs, Some(60));
        assert_eq!(sig.location, Location::Query);
    }

    #[test]
    fn presigned_expiry_over_a_week_is_refused() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240102%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        let r = req("GET", "/b/k", q, vec![]);
        assert!(matches!(parse(&r), Err(ParseError::QueryParameters(m)) if m.contains("604800")));
    }

    #[test]
    fn presigned_expiry_beyond_i64_or_negative_is_refused() {
        for expires in ["99999999999999999999", "-1", "1e3"] {
            let q = format!(
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20240102%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=ff"
            );
            let r = req("GET", "/b/k", &q, vec![]);
            assert!(
                matches!(parse(&r), Err(ParseError::QueryParameters(_))),
                "{expires}"
            );
        }
    }

    #[test]
    fn amz_dates_with_multi_byte_characters_are_refused() {
        // 16 bytes with `T` and `Z` in place, but a digit field cut through a character.
        assert_eq!(parse_amz_date("202\u{20ac}01T030405Z"), None);
        assert_eq!(parse_amz_date("2024\u{e9}01T030405Z"), None);
        assert_eq!(parse_amz_date("20240102T03\u{e9}05Z"), None);
    }

    #[test]
    fn missing_signature_parameter_is_incomplete() {
        let r = req(
            "GET",
            "/",
            "",
            vec![(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=A/20240102/us-east-1/sqs/aws4_request",
            )],
        );
        let Err(ParseError::IncompleteSignature(m)) = parse(&r) else {
            panic!("accepted")
        };
        assert!(m.contains("'Signature'"), "{m}");
        assert!(m.contains("'SignedHeaders'"), "{m}");
    }

    #[test]
    fn sigv2_header_gives_access_key() {
        let r = req(
            "GET",
            "/",
            "",
            vec![("authorization", "AWS AKIAOLD:c2lnbmF0dXJl")],
        );
        assert_eq!(
            parse(&r),
            Ok(Some(Auth::V2 {
                access_key_id: "AKIAOLD".into()
            }))
        );
    }

    #[test]
    fn sigv4a_takes_region_from_region_set() {
        let r = req(
            "GET",
            "/",
            "",
            vec![
                (
                    "authorization",
                    "AWS4-ECDSA-P256-SHA256 Credential=AKID/20240102/s3/aws4_request, SignedHeaders=host, Signature=00",
                ),
                ("x-amz-region-set", "eu-central-1"),
            ],
        );
        let Ok(Some(Auth::V4(sig))) = parse(&r) else {
            panic!("not parsed")
        };
        assert_eq!(sig.scope.region, "eu-central-1");
        assert_eq!(sig.scope.service, "s3");
        assert!(sig.is_sigv4a());
    }

    #[test]
    fn unsigned_request_parses_to_none() {
        assert_eq!(
            parse(&req("GET", "/", "Action=ListQueues", vec![])),
            Ok(None)
        );
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }

    #[test]
    fn s3_path_is_not_normalized_but_others_are_encoded_twice() {
        assert_eq!(
            canonical_uri_s3("/my-object//example//photo.user"),
            "/my-object//example//photo.user"
        );
        assert_eq!(canonical_uri_normalized("/a%20b//c/"), "/a%2520b/c/");
    }

    #[test]
    fn content_sha256_that_does_not_match_the_body_is_refused() {
        let r = req(
            "PUT",
            "/b/k",
            "",
            vec![
                ("host", "localhost"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20240102T030405Z"),
            ],
        );
        let sig = Signature {
            algorithm: ALGORITHM.into(),
            scope: Scope {
                access_key_id: "test".into(),
                date: "20240102".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
            },
            signed_headers: vec!["host".into()],
            signature: "00".into(),
            location: Location::Header,
            amz_date: Some("20240102T030405Z".into()),
            expires_secs: None,
            security_token: None,
        };
        assert!(matches!(
            verify(&r, &sig, "test", b"body"),
            Err(VerifyError::ContentSha256Mismatch { .. })
        ));
    }

    #[test]
    fn an_unread_body_is_signed_with_the_hash_the_client_declared() {
        let declared = hex::encode(Sha256::digest(b"the object"));
        let r = req(
            "PUT",
            "/b/k",
            "",
            vec![
                ("host", "localhost"),
                ("x-amz-content-sha256", &declared),
                ("x-amz-date", "20240102T030405Z"),
            ],
        );
        let mut sig = Signature {
            algorithm: ALGORITHM.into(),
            scope: Scope {
                access_key_id: "test".into(),
                date: "20240102".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
            },
            signed_headers: vec![
                "host".into(),
                "x-amz-content-sha256".into(),
                "x-amz-date".into(),
            ],
            signature: "00".into(),
            location: Location::Header,
            amz_date: Some("20240102T030405Z".into()),
            expires_secs: None,
            security_token: None,
        };
        let Err(VerifyError::Mismatch {
            canonical_request,
            string_to_sign,
        }) = verify_payload(&r, &sig, "test", Payload::Unread)
        else {
            panic!("a wrong signature must be refused");
        };
        assert!(
            canonical_request.ends_with(&declared),
            "{canonical_request}"
        );
        sig.signature = sign("test", &sig.scope, &string_to_sign);
        assert_eq!(verify_payload(&r, &sig, "test", Payload::Unread), Ok(()));
        assert_eq!(verify(&r, &sig, "test", b"the object"), Ok(()));
        assert!(
            matches!(
                verify(&r, &sig, "test", b"another object"),
                Err(VerifyError::ContentSha256Mismatch { .. })
            ),
            "a body that was read is checked against the declared hash"
        );
    }
}
