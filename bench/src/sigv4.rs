//! A minimal AWS Signature Version 4 signer for the requests the benchmark sends: the
//! JSON and query protocols (path `/`) and S3's REST requests (any path and query, with
//! `x-amz-content-sha256`).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// The `x-amz-content-sha256` value for a body streamed without hashing it first.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

pub struct Signer {
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub service: String,
}

impl Signer {
    /// The `Authorization` header value for a request to `/` without a query. `headers`
    /// are (lowercase name, value) and must include `host` and `x-amz-date`; all of them
    /// are signed.
    pub fn authorization(&self, method: &str, headers: &[(&str, &str)], body: &[u8], amz_date: &str) -> String {
        self.authorization_for(method, "/", headers, &payload_hash(body), amz_date)
    }

    /// The `Authorization` header value for a request to `target` (path and optional
    /// query, as sent on the wire: see [`uri_encode_path`]). `payload_hash` is the hex
    /// SHA-256 of the body or [`UNSIGNED_PAYLOAD`]; S3 also wants it sent as
    /// `x-amz-content-sha256`, which the caller includes in `headers` so it is signed.
    ///
    /// The canonical URI is the path as sent, S3's rule (no second encoding, no dot
    /// segment removal); for the other services' `/` both rules give the same answer.
    pub fn authorization_for(&self, method: &str, target: &str, headers: &[(&str, &str)], payload_hash: &str, amz_date: &str) -> String {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut sorted: Vec<(&str, &str)> = headers.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let canonical_headers: String = sorted.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
        let signed_headers = sorted.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
        let canonical_query = canonical_query(query);
        let canonical_request =
            format!("{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}");

        let date = amz_date.get(..8).unwrap_or(amz_date);
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let mut key = hmac(format!("AWS4{}", self.secret_key).as_bytes(), date.as_bytes());
        for part in [self.region.as_str(), self.service.as_str(), "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.access_key
        )
    }
}

/// Hex SHA-256 of a body, as `x-amz-content-sha256` and the canonical request carry it.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// A path as sent on the wire and signed: every byte but the unreserved ones and `/`
/// percent-encoded, once (S3's rule).
pub fn uri_encode_path(path: &str) -> String {
    uri_encode(path, true)
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query's parameters sorted by name then value, each `name=value` (a bare `acl`
/// becomes `acl=`). The query is taken as already encoded on the wire, which is how
/// the benchmark builds it.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(&str, &str)> =
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    params.sort_unstable();
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Now as `YYYYMMDDTHHMMSSZ` (UTC).
pub fn amz_date_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format_amz_date(secs)
}

fn format_amz_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_signer() -> Signer {
        Signer {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
            service: "service".into(),
        }
    }

    // aws4_testsuite/get-vanilla
    #[test]
    fn signs_get_vanilla_like_the_aws_test_suite() {
        let headers = [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")];
        assert_eq!(
            example_signer().authorization("GET", &headers, b"", "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    // aws4_testsuite/post-x-www-form-urlencoded
    #[test]
    fn signs_a_form_post_like_the_aws_test_suite() {
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        assert_eq!(
            example_signer().authorization("POST", &headers, b"Param1=value1", "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    fn s3_signer() -> Signer {
        Signer { service: "s3".into(), ..example_signer() }
    }

    // Computed with botocore 1.43.11 (`botocore.auth.S3SigV4Auth`, clock fixed at
    // 2015-08-30T12:36:00Z): PUT http://127.0.0.1:4566/kagami-bench/obj-42, body
    // "hello kagami".
    #[test]
    fn signs_an_s3_put_like_botocore() {
        let hash = payload_hash(b"hello kagami");
        assert_eq!(hash, "d046061d41d007371edd14966fe7e94186b777b7a51724a331175230bd203e62");
        let headers = [("host", "127.0.0.1:4566"), ("x-amz-content-sha256", hash.as_str()), ("x-amz-date", "20150830T123600Z")];
        assert_eq!(
            s3_signer().authorization_for("PUT", "/kagami-bench/obj-42", &headers, &hash, "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=1e58119578d19d5d03a88575fb77bee833109ee2dcea1da82a490234fd19410e"
        );
    }

    // botocore as above with `s3={"payload_signing_enabled": False}`.
    #[test]
    fn signs_an_unsigned_payload_s3_put_like_botocore() {
        let headers = [("host", "127.0.0.1:4566"), ("x-amz-content-sha256", UNSIGNED_PAYLOAD), ("x-amz-date", "20150830T123600Z")];
        assert_eq!(
            s3_signer().authorization_for("PUT", "/kagami-bench/large-object", &headers, UNSIGNED_PAYLOAD, "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=f291a18a73f7bc5bbc9dca5c110817a79e71f759a4fffc8a6e799dba731efa01"
        );
    }

    // botocore as above: GET http://127.0.0.1:4566/kagami-bench/obj-42?versionId=null&acl
    // (the query's parameters are sorted, a bare one signed as `acl=`).
    #[test]
    fn signs_an_s3_get_with_a_query_like_botocore() {
        let hash = payload_hash(b"");
        let headers = [("host", "127.0.0.1:4566"), ("x-amz-content-sha256", hash.as_str()), ("x-amz-date", "20150830T123600Z")];
        assert_eq!(
            s3_signer().authorization_for("GET", "/kagami-bench/obj-42?versionId=null&acl", &headers, &hash, "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=59d207277fe3b794c01071c2b3b9e8e998c84c387d386da758cc342e2ca72d2e"
        );
    }

    #[test]
    fn encodes_a_path_once_keeping_slashes_and_unreserved_bytes() {
        assert_eq!(uri_encode_path("/kagami-bench/obj-9_x.~"), "/kagami-bench/obj-9_x.~");
        assert_eq!(uri_encode_path("/b/a b+c%/é"), "/b/a%20b%2Bc%25/%C3%A9");
    }

    #[test]
    fn formats_amz_dates_in_utc() {
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    }
}
