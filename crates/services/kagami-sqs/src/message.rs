//! A message as SQS keeps it, and the checks SendMessage applies to what it is given
//! (SendMessage in the SQS API Reference; "Amazon SQS message attributes").

use crate::errors::{invalid_parameter_value, missing_parameter};
use crate::generated::SqsError;
use bytes::Bytes;
use indexmap::IndexMap;

/// At most 10 message attributes per message ("Amazon SQS message quotas").
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// Attribute names and data types are at most 256 characters.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 256;
/// The only system attribute a sender may set.
pub const AWS_TRACE_HEADER: &str = "AWSTraceHeader";

/// A message (or system) attribute: its data type and one of the value members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub string_value: Option<String>,
    pub binary_value: Option<Bytes>,
    pub string_list_values: Vec<String>,
    pub binary_list_values: Vec<Bytes>,
}

impl MessageAttribute {
    /// Bytes this attribute adds to the message size: name, data type and value.
    pub fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + self.string_value.as_ref().map_or(0, String::len)
            + self.binary_value.as_ref().map_or(0, Bytes::len)
            + self.string_list_values.iter().map(String::len).sum::<usize>()
            + self.binary_list_values.iter().map(Bytes::len).sum::<usize>()
    }
}

/// One message in a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Position in the queue: send order, and the key of the message's records.
    pub seq: u64,
    pub message_id: String,
    pub body: String,
    pub md5_of_body: String,
    pub message_attributes: IndexMap<String, MessageAttribute>,
    pub md5_of_message_attributes: Option<String>,
    pub system_attributes: IndexMap<String, MessageAttribute>,
    pub md5_of_message_system_attributes: Option<String>,
    pub sender_id: String,
    /// Enqueue time (ms): `SentTimestamp`, and the start of the retention period.
    pub sent_timestamp: i64,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
    pub dead_letter_queue_source_arn: Option<String>,
    pub delivery: Delivery,
}

/// What changes each time a message is received: kept as its own record so a receive
/// rewrites a few bytes, not the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub receive_count: u32,
    pub first_receive_timestamp: Option<i64>,
    pub last_receive_timestamp: Option<i64>,
    /// When the message becomes (or became) visible: end of its delay or of its
    /// visibility timeout.
    pub visible_at: i64,
}

/// `InvalidMessageContents` unless every character is in the XML character range SQS
/// accepts: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
pub fn check_contents(body: &str) -> Result<(), SqsError> {
    // Rust strings hold no surrogates, so only C0 controls and U+FFFE/U+FFFF can be
    // out of range; both show in the bytes without decoding.
    let bytes = body.as_bytes();
    let control = bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    let nonchar = bytes.contains(&0xEF) && body.chars().any(|c| c == '\u{FFFE}' || c == '\u{FFFF}');
    if control || nonchar {
        return Err(SqsError::InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
                .to_string(),
        ));
    }
    Ok(())
}

/// Total size SQS counts against MaximumMessageSize: the body plus every attribute's
/// name, type and value.
pub fn message_size(body: &str, attributes: &IndexMap<String, MessageAttribute>) -> usize {
    body.len() + attributes.iter().map(|(name, a)| a.size(name)).sum::<usize>()
}

/// Validates the user attributes of a message.
pub fn check_message_attributes(attributes: &IndexMap<String, MessageAttribute>) -> Result<(), SqsError> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(invalid_parameter_value(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attributes.len()
        )));
    }
    for (name, attribute) in attributes {
        check_attribute_name(name)?;
        check_attribute_value(name, attribute)?;
    }
    Ok(())
}

/// Validates `MessageSystemAttributes`: only `AWSTraceHeader`, as a String.
pub fn check_system_attributes(attributes: &IndexMap<String, MessageAttribute>) -> Result<(), SqsError> {
    for (name, attribute) in attributes {
        if name != AWS_TRACE_HEADER {
            return Err(invalid_parameter_value(format!("Message system attribute name '{name}' is invalid.")));
        }
        if attribute.data_type != "String" {
            return Err(invalid_parameter_value(format!(
                "The message system attribute '{name}' has an invalid message attribute type, the only supported type is String."
            )));
        }
        check_attribute_value(name, attribute)?;
    }
    Ok(())
}

fn check_attribute_name(name: &str) -> Result<(), SqsError> {
    if name.is_empty() {
        return Err(missing_parameter("MessageAttribute.Name"));
    }
    if name.len() > MAX_ATTRIBUTE_NAME_LEN {
        return Err(invalid_parameter_value("Message (user) attribute names must be shorter than 256 Bytes"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(invalid_parameter_value(format!(
            "The message attribute name '{name}' is invalid. Attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters."
        )));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.")
        || lower.starts_with("amazon.")
        || name.starts_with('.')
        || name.ends_with('.')
        || name.contains("..")
    {
        return Err(invalid_parameter_value(
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'.",
        ));
    }
    Ok(())
}

fn check_attribute_value(name: &str, attribute: &MessageAttribute) -> Result<(), SqsError> {
    let data_type = attribute.data_type.as_str();
    if data_type.is_empty() {
        return Err(invalid_parameter_value(format!(
            "The message attribute '{name}' must contain non-empty message attribute type."
        )));
    }
    if data_type.len() > MAX_ATTRIBUTE_NAME_LEN {
        return Err(invalid_parameter_value("Message (user) attribute types must be shorter than 256 Bytes"));
    }
    let base = data_type.split('.').next().unwrap_or_default();
    let custom_ok = data_type.len() == base.len() || data_type.len() > base.len() + 1;
    if !matches!(base, "String" | "Number" | "Binary") || !custom_ok {
        return Err(invalid_parameter_value(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )));
    }
    let empty = || {
        invalid_parameter_value(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
        ))
    };
    match base {
        "Binary" => {
            if attribute.binary_value.as_ref().is_none_or(Bytes::is_empty) && attribute.binary_list_values.is_empty() {
                return Err(empty());
            }
        }
        _ => {
            let value = attribute.string_value.as_deref();
            if value.is_none_or(str::is_empty) && attribute.string_list_values.is_empty() {
                return Err(empty());
            }
            if let Some(v) = value {
                if check_contents(v).is_err() {
                    return Err(invalid_parameter_value(format!(
                        "Message (user) attribute '{name}' value contains invalid characters."
                    )));
                }
                if base == "Number" && !is_number(v) {
                    return Err(invalid_parameter_value(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Numbers as SQS accepts them: optional sign, digits, optional fraction and exponent.
fn is_number(v: &str) -> bool {
    let v = v.trim();
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exponent) = match v.find(['e', 'E']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = mantissa.replacen('.', "", 1);
    let mantissa_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_attr(data_type: &str, value: &str) -> MessageAttribute {
        MessageAttribute { data_type: data_type.into(), string_value: Some(value.into()), ..Default::default() }
    }

    fn code(e: SqsError) -> String {
        kagami_protocol::ServiceError::from(e).code
    }

    #[test]
    fn bodies_with_control_characters_are_invalid_message_contents() {
        assert!(check_contents("tab\tnewline\ncr\r 日本 \u{10000}").is_ok());
        assert_eq!(code(check_contents("bell\u{7}").unwrap_err()), "InvalidMessageContents");
        assert_eq!(code(check_contents("nonchar\u{FFFF}").unwrap_err()), "InvalidMessageContents");
        assert!(check_contents("\u{FFFD}").is_ok());
    }

    #[test]
    fn size_counts_body_and_attribute_names_types_and_values() {
        let attrs = IndexMap::from([("ab".to_string(), string_attr("String", "xyz"))]);
        assert_eq!(message_size("12345", &attrs), 5 + 2 + 6 + 3);
    }

    #[test]
    fn attribute_rules() {
        let ok = IndexMap::from([
            ("a.b-c_d".to_string(), string_attr("String.custom", "v")),
            ("n".to_string(), string_attr("Number", "-1.5e3")),
        ]);
        assert!(check_message_attributes(&ok).is_ok());
        for (name, attr) in [
            ("AWS.x", string_attr("String", "v")),
            (".x", string_attr("String", "v")),
            ("bad name", string_attr("String", "v")),
            ("x", string_attr("Strung", "v")),
            ("x", string_attr("String", "")),
            ("x", string_attr("Number", "12abc")),
            ("x", MessageAttribute { data_type: "Binary".into(), ..Default::default() }),
        ] {
            let attrs = IndexMap::from([(name.to_string(), attr)]);
            assert_eq!(code(check_message_attributes(&attrs).unwrap_err()), "InvalidParameterValue", "{name}");
        }
        let eleven: IndexMap<String, MessageAttribute> =
            (0..11).map(|i| (format!("a{i}"), string_attr("String", "v"))).collect();
        assert_eq!(code(check_message_attributes(&eleven).unwrap_err()), "InvalidParameterValue");
    }

    #[test]
    fn only_aws_trace_header_is_a_sendable_system_attribute() {
        let ok = IndexMap::from([(
            AWS_TRACE_HEADER.to_string(),
            string_attr("String", "Root=1-5759e988-bd862e3fe1be46a994272793"),
        )]);
        assert!(check_system_attributes(&ok).is_ok());
        let bad = IndexMap::from([("SenderId".to_string(), string_attr("String", "x"))]);
        assert!(check_system_attributes(&bad).is_err());
    }
}
