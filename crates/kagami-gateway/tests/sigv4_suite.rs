//! AWS's SigV4 test suite (`aws4_testsuite`, from the botocore sdist): for every case,
//! the canonical request, the string to sign and the signature kagami computes equal
//! AWS's, and the signed request verifies (and fails with another secret).

use kagami_gateway::sigv4::{self, Auth, VerifyError};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Parses a `.sreq` file: request line, headers (continuation lines start with
/// whitespace), a blank line, the body.
fn parse_request(text: &str) -> RawRequest {
    let mut lines = text.split('\n');
    let request_line = lines.next().unwrap();
    let (method, target) = request_line.split_once(' ').unwrap();
    let target = target.strip_suffix(" HTTP/1.1").unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body_lines = Vec::new();
    let mut in_body = false;
    for line in lines {
        if in_body {
            body_lines.push(line);
        } else if line.is_empty() {
            in_body = true;
        } else if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.to_string()));
        }
    }
    RawRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers,
        body: body_lines.join("\n").into_bytes(),
    }
}

fn run(case: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/aws4_testsuite")
        .join(case);
    let name = dir.file_name().unwrap().to_str().unwrap().to_string();
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap();
    let mut raw = parse_request(&read("sreq"));
    // The `.authz` file is AWS's answer; the `.sreq` of get-vanilla-with-session-token
    // carries a signature that does not belong to it, so sign with the `.authz`.
    for (name, value) in raw.headers.iter_mut() {
        if name == "authorization" {
            *value = read("authz");
        }
    }
    let request = sigv4::Request {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: raw
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
    };
    let Ok(Some(Auth::V4(sig))) = sigv4::parse(&request) else {
        panic!("{case}: signature not parsed")
    };
    assert_eq!(sig.scope.access_key_id, ACCESS_KEY);
    assert_eq!(sig.scope.date, "20150830");
    assert_eq!(sig.scope.region, "us-east-1");
    assert_eq!(sig.scope.service, "service");

    let payload_hash = hex::encode(Sha256::digest(&raw.body));
    let creq = sigv4::canonical_request(
        &raw.method,
        &sigv4::canonical_uri_normalized(&raw.path),
        &sigv4::canonical_query(&raw.query),
        &sigv4::canonical_headers(&request, &sig.signed_headers),
        &sig.signed_headers,
        &payload_hash,
    );
    assert_eq!(creq, read("creq"), "{case}: canonical request");
    let sts = sigv4::string_to_sign(sig.amz_date.as_deref().unwrap(), &sig.scope, &creq);
    assert_eq!(sts, read("sts"), "{case}: string to sign");
    let signature = sigv4::sign(SECRET, &sig.scope, &sts);
    let authz = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}, SignedHeaders={}, Signature={signature}",
        sig.scope.to_scope_string(),
        sig.signed_headers.join(";")
    );
    assert_eq!(authz, read("authz"), "{case}: authorization header");

    assert_eq!(
        sigv4::verify(&request, &sig, SECRET, &raw.body),
        Ok(()),
        "{case}: verify"
    );
    assert!(
        matches!(
            sigv4::verify(&request, &sig, "not-the-secret", &raw.body),
            Err(VerifyError::Mismatch { .. })
        ),
        "{case}: a wrong secret must not verify"
    );
}

macro_rules! suite {
    ($($test:ident => $case:literal),* $(,)?) => {
        $( #[test] fn $test() { run($case) } )*
    };
}

suite! {
    get_header_key_duplicate => "get-header-key-duplicate",
    get_header_value_multiline => "get-header-value-multiline",
    get_header_value_order => "get-header-value-order",
    get_header_value_trim => "get-header-value-trim",
    get_unreserved => "get-unreserved",
    get_utf8 => "get-utf8",
    get_vanilla => "get-vanilla",
    get_vanilla_empty_query_key => "get-vanilla-empty-query-key",
    get_vanilla_query => "get-vanilla-query",
    get_vanilla_query_order_encoded => "get-vanilla-query-order-encoded",
    get_vanilla_query_order_key => "get-vanilla-query-order-key",
    get_vanilla_query_order_key_case => "get-vanilla-query-order-key-case",
    get_vanilla_query_order_value => "get-vanilla-query-order-value",
    get_vanilla_query_unreserved => "get-vanilla-query-unreserved",
    get_vanilla_utf8_query => "get-vanilla-utf8-query",
    get_vanilla_with_session_token => "get-vanilla-with-session-token",
    normalize_path_get_relative => "normalize-path/get-relative",
    normalize_path_get_relative_relative => "normalize-path/get-relative-relative",
    normalize_path_get_slash => "normalize-path/get-slash",
    normalize_path_get_slash_dot_slash => "normalize-path/get-slash-dot-slash",
    normalize_path_get_slash_pointless_dot => "normalize-path/get-slash-pointless-dot",
    normalize_path_get_slashes => "normalize-path/get-slashes",
    normalize_path_get_space => "normalize-path/get-space",
    normalize_path_get_special_character => "normalize-path/get-special-character",
    post_header_key_case => "post-header-key-case",
    post_header_key_sort => "post-header-key-sort",
    post_header_value_case => "post-header-value-case",
    post_sts_header_after => "post-sts-token/post-sts-header-after",
    post_sts_header_before => "post-sts-token/post-sts-header-before",
    post_vanilla => "post-vanilla",
    post_vanilla_empty_query_value => "post-vanilla-empty-query-value",
    post_vanilla_query => "post-vanilla-query",
    post_x_www_form_urlencoded => "post-x-www-form-urlencoded",
    post_x_www_form_urlencoded_parameters => "post-x-www-form-urlencoded-parameters",
}

#[test]
fn every_case_of_the_suite_is_listed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/aws4_testsuite");
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                if p.is_dir() {
                    count(&p)
                } else {
                    usize::from(p.extension().is_some_and(|e| e == "sreq"))
                }
            })
            .sum()
    }
    assert_eq!(count(&root), 34);
}
