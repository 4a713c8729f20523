//! Encoded authorization messages: what a service puts in an access-denied error
//! ("Encoded authorization failure message: ...") and DecodeAuthorizationMessage turns
//! back into the JSON document AWS describes (`allowed`, `explicitDeny`,
//! `matchedStatements`, `failures`, `context`).
//!
//! AWS encrypts these; kagami only needs them to round-trip, so a message is the
//! base64url of a marker followed by the document. Anything else is not a message
//! kagami produced and is rejected as AWS rejects foreign messages.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Marks a message as one of kagami's (and its format version).
const MARKER: &[u8] = b"kagami-authz-1\n";

/// The opaque form of a decoded authorization message (a JSON document).
pub fn encode_authorization_message(decoded: &str) -> String {
    let mut bytes = Vec::with_capacity(MARKER.len() + decoded.len());
    bytes.extend_from_slice(MARKER);
    bytes.extend_from_slice(decoded.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The JSON document inside a message kagami encoded, or `None` for anything else.
pub(crate) fn decode_authorization_message(encoded: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded.trim().trim_end_matches('=')).ok()?;
    let document = bytes.strip_prefix(MARKER)?;
    String::from_utf8(document.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_decode_to_the_document() {
        let doc = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]}}"#;
        let encoded = encode_authorization_message(doc);
        assert!(!encoded.contains(doc));
        assert_eq!(decode_authorization_message(&encoded).as_deref(), Some(doc));
    }

    #[test]
    fn foreign_messages_are_rejected() {
        assert_eq!(decode_authorization_message("rHU-pVHMSckD0OAc5l3r9-gKN1XZjZ2X9J3w0fZ31licaTpAVwlD9ix3"), None);
        assert_eq!(decode_authorization_message("not base64 at all!"), None);
    }
}
