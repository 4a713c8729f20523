//! The MD5 digests SQS returns so clients can verify what it received: of the body, and
//! of the message (system) attributes in the binary encoding AWS documents in
//! "Calculating the MD5 message digest for message attributes" (SQS Developer Guide).

use crate::message::MessageAttribute;
use ::md5::{Digest, Md5};
use indexmap::IndexMap;

/// Transport type bytes of the attribute encoding: which value member carries the value.
const STRING_VALUE: u8 = 1;
const BINARY_VALUE: u8 = 2;
const STRING_LIST_VALUES: u8 = 3;
const BINARY_LIST_VALUES: u8 = 4;

/// Lower-case hex MD5 of the UTF-8 body, as `MD5OfMessageBody` / `MD5OfBody`.
pub fn md5_of_body(body: &str) -> String {
    hex::encode(Md5::digest(body.as_bytes()))
}

/// `MD5OfMessageAttributes` (or `MD5OfMessageSystemAttributes`): `None` when there are none.
///
/// Attributes are taken in name order; each contributes its name, its data type, a
/// transport-type byte and its value, every variable-length part prefixed with its
/// length as a 4-byte big-endian integer.
pub fn md5_of_attributes(attributes: &IndexMap<String, MessageAttribute>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut sorted: Vec<(&String, &MessageAttribute)> = attributes.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut md5 = Md5::new();
    for (name, attribute) in sorted {
        length_prefixed(&mut md5, name.as_bytes());
        length_prefixed(&mut md5, attribute.data_type.as_bytes());
        if let Some(s) = &attribute.string_value {
            md5.update([STRING_VALUE]);
            length_prefixed(&mut md5, s.as_bytes());
        } else if let Some(b) = &attribute.binary_value {
            md5.update([BINARY_VALUE]);
            length_prefixed(&mut md5, b);
        } else if !attribute.string_list_values.is_empty() {
            md5.update([STRING_LIST_VALUES]);
            for s in &attribute.string_list_values {
                length_prefixed(&mut md5, s.as_bytes());
            }
        } else if !attribute.binary_list_values.is_empty() {
            md5.update([BINARY_LIST_VALUES]);
            for b in &attribute.binary_list_values {
                length_prefixed(&mut md5, b);
            }
        }
    }
    Some(hex::encode(md5.finalize()))
}

fn length_prefixed(md5: &mut Md5, bytes: &[u8]) {
    // Attribute parts are bounded by the 1 MiB message size, far below u32::MAX.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    md5.update(len.to_be_bytes());
    md5.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn string(data_type: &str, value: &str) -> MessageAttribute {
        MessageAttribute { data_type: data_type.into(), string_value: Some(value.into()), ..Default::default() }
    }

    fn binary(value: &[u8]) -> MessageAttribute {
        MessageAttribute {
            data_type: "Binary".into(),
            binary_value: Some(Bytes::copy_from_slice(value)),
            ..Default::default()
        }
    }

    #[test]
    fn body_digest_is_md5_hex_of_utf8() {
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(md5_of_body("日本"), hex::encode(Md5::digest("日本".as_bytes())));
    }

    #[test]
    fn no_attributes_have_no_digest() {
        assert_eq!(md5_of_attributes(&IndexMap::new()), None);
    }

    // Reference digests published with AWS's algorithm (aws-md5-of-message-attributes),
    // which the SDKs check against what SQS returns.
    #[test]
    fn string_attribute_digest_matches_aws() {
        let attrs = IndexMap::from([("attribName1".to_string(), string("String", "attribValue 1"))]);
        assert_eq!(md5_of_attributes(&attrs).as_deref(), Some("19e27d4e946b072f3f58da80d94fd778"));
    }

    #[test]
    fn custom_number_attribute_digest_matches_aws() {
        let attrs = IndexMap::from([(
            "customNumberTypeAttrib".to_string(),
            string("Number.float", "4563442423554324324264524243.32543234"),
        )]);
        assert_eq!(md5_of_attributes(&attrs).as_deref(), Some("9fe1b90bbd9965bdf77bac517c7d2495"));
    }

    #[test]
    fn binary_attribute_digest_matches_aws() {
        let attrs = IndexMap::from([("binaryAttribute".to_string(), binary(b"Hello binary world!"))]);
        assert_eq!(md5_of_attributes(&attrs).as_deref(), Some("31a92b15d92f8db860eda32aceb656c3"));
    }

    #[test]
    fn several_attributes_are_digested_in_name_order() {
        let attrs = IndexMap::from([
            ("attribName1".to_string(), string("String", "attribValue 1")),
            ("customNumberTypeAttrib".to_string(), string("Number.float", "4563442423554324324264524243.32543234")),
            ("binaryAttribute".to_string(), binary(b"Hello binary world!")),
        ]);
        assert_eq!(md5_of_attributes(&attrs).as_deref(), Some("c932db14a896c663f83c260297d594ff"));
        let mut reversed = attrs.clone();
        reversed.reverse();
        assert_eq!(md5_of_attributes(&reversed), md5_of_attributes(&attrs));
    }
}
