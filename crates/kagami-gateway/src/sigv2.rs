//! S3's legacy signature (version 2): `Authorization: AWS AKID:sig` or the presigned
//! query `AWSAccessKeyId=..&Signature=..&Expires=..`, which boto3 still produces for
//! `generate_presigned_url` in us-east-1
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>).

use crate::sigv4::{self, Request};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Sub-resources and query parameters that are part of the signed resource.
const SIGNED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The signature fields of a version 2 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2<'a> {
    pub signature: String,
    /// `Expires` (epoch seconds) of a presigned URL; `None` for the header form.
    pub expires: Option<&'a str>,
}

/// The signature and expiry a version 2 request carries, if it is one.
pub fn fields<'a>(req: &Request<'a>) -> Option<V2<'a>> {
    if let Some(value) = req.header("authorization") {
        let rest = value.trim().strip_prefix("AWS ")?;
        let (_, sig) = rest.split_once(':')?;
        return Some(V2 {
            signature: sig.trim().to_string(),
            expires: None,
        });
    }
    let mut signature = None;
    let mut expires = None;
    for pair in req.query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "Signature" => {
                signature = Some(
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned(),
                )
            }
            "Expires" => expires = Some(v),
            _ => {}
        }
    }
    Some(V2 {
        signature: signature?,
        expires: Some(expires?),
    })
}

/// The string a version 2 signature signs. `resource_path` is the path-style path
/// (`/bucket/key`, encoded as sent), which is the resource whatever the addressing.
pub fn string_to_sign(req: &Request<'_>, resource_path: &str, expires: Option<&str>) -> String {
    let header = |n: &str| req.header(n).unwrap_or("").trim();
    let date = match expires {
        Some(e) => e,
        // With x-amz-date, the Date line is empty: the date is among the amz headers.
        None if req.header("x-amz-date").is_some() => "",
        None => header("date"),
    };
    let mut amz: Vec<(String, String)> = Vec::new();
    for (name, value) in &req.headers {
        if name.starts_with("x-amz-") {
            let value = value.trim().to_string();
            match amz.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(&value);
                }
                None => amz.push((name.to_string(), value)),
            }
        }
    }
    amz.sort();
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        req.method,
        header("content-md5"),
        header("content-type"),
        date
    );
    for (name, value) in &amz {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push_str(resource_path);
    let mut subresources: Vec<(String, Option<String>)> = sigv4::query_pairs(req.query)
        .filter(|(k, _)| SIGNED_SUBRESOURCES.contains(&k.as_str()))
        .map(|(k, v)| {
            let has_value = req.query.split('&').any(|p| {
                p.split_once('=')
                    .is_some_and(|(pk, _)| sigv4_decode(pk) == k)
            });
            (k, has_value.then_some(v))
        })
        .collect();
    subresources.sort();
    for (i, (k, v)) in subresources.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

fn sigv4_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_query_string_example_verifies() {
        // AWS's RESTAuthentication example: a presigned GET of /photos/puppy.jpg.
        let req = Request {
            method: "GET",
            path: "/photos/puppy.jpg",
            query: "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
            headers: vec![("host", "johnsmith.s3.amazonaws.com")],
        };
        let v2 = fields(&req).unwrap();
        assert_eq!(v2.expires, Some("1175139620"));
        let sts = string_to_sign(&req, "/johnsmith/photos/puppy.jpg", v2.expires);
        assert_eq!(sts, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
        assert_eq!(
            sign("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts),
            v2.signature
        );
    }

    #[test]
    fn amz_headers_and_subresources_are_signed() {
        let req = Request {
            method: "PUT",
            path: "/db-backup.dat.gz",
            query: "acl&versionId=3&prefix=x",
            headers: vec![
                ("x-amz-meta-b", "2"),
                ("x-amz-date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-meta-b", "1"),
                ("content-type", "application/x-download"),
                ("date", "ignored"),
            ],
        };
        assert_eq!(
            string_to_sign(&req, "/static.johnsmith.net/db-backup.dat.gz", None),
            "PUT\n\napplication/x-download\n\nx-amz-date:Tue, 27 Mar 2007 21:06:08 +0000\nx-amz-meta-b:2,1\n/static.johnsmith.net/db-backup.dat.gz?acl&versionId=3"
        );
    }
}
