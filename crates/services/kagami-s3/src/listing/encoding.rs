//! What listings put on the wire besides the entries: `EncodingType=url` encoding of
//! keys, and ListObjectsV2's opaque continuation tokens.

use crate::errors::invalid_continuation_token;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::ServiceError;

/// The one encoding S3 offers for keys in listings.
pub const URL: &str = "url";

/// Percent-encodes `s` as S3 does under `encoding-type=url`: everything but RFC 3986's
/// unreserved characters and `/`, each byte of UTF-8 as `%XX` (a space is `%20`).
pub fn url_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
    out
}

/// Encodes key-valued response members when the request asked for it.
#[derive(Clone, Copy)]
pub struct KeyEncoding {
    pub url: bool,
}

impl KeyEncoding {
    pub fn apply(self, s: &str) -> String {
        if self.url {
            url_encode(s)
        } else {
            s.to_string()
        }
    }

    pub fn apply_opt(self, s: Option<&str>) -> Option<String> {
        s.map(|s| self.apply(s))
    }

    /// The response's `EncodingType` member.
    pub fn echo(self) -> Option<String> {
        self.url.then(|| URL.to_string())
    }
}

/// The token of the page after one that ended at `position` (a key or common prefix).
pub fn continuation_token(position: &str) -> String {
    STANDARD.encode(position.as_bytes())
}

/// The position a continuation token resumes after; AWS's InvalidArgument when it is
/// not one this server handed out.
pub fn decode_continuation_token(token: &str) -> Result<String, ServiceError> {
    STANDARD
        .decode(token.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|position| !position.is_empty())
        .ok_or_else(invalid_continuation_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_slashes_and_unreserved_characters() {
        assert_eq!(url_encode("a b+c%d/é~_-."), "a%20b%2Bc%25d/%C3%A9~_-.");
        assert_eq!(url_encode("한글/x.txt"), "%ED%95%9C%EA%B8%80/x.txt");
    }

    #[test]
    fn continuation_tokens_round_trip_and_garbage_is_rejected() {
        let token = continuation_token("dir/ké y+%");
        assert_eq!(decode_continuation_token(&token).ok().as_deref(), Some("dir/ké y+%"));
        assert!(decode_continuation_token("not a token!").is_err());
        assert!(decode_continuation_token("").is_err());
        assert!(decode_continuation_token(&STANDARD.encode([0xFF, 0xFE])).is_err());
    }
}
