//! A published message as SNS delivers it, and the checks Publish and PublishBatch make
//! on what they are given.
//! <https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>

use crate::errors::{invalid_parameter, invalid_parameter_value};
use crate::generated::{MessageAttributeValue, SnsError};
use indexmap::IndexMap;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// "The maximum message size is 256 KiB" (message and attributes together); the same
/// bound applies to all the messages of a PublishBatch together.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// Subjects: ASCII, no line breaks or control characters, fewer than 100 characters.
pub const MAX_SUBJECT_LEN: usize = 100;
/// "Amazon SNS supports up to 10 message attributes per message" when delivered to SQS;
/// SNS itself refuses more than that.
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// Message group and deduplication ids: up to 128 characters.
pub const MAX_FIFO_ID_LEN: usize = 128;

/// What a subscriber is sent, built once per publish.
#[derive(Debug, Clone)]
pub struct Notification {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// The message, or with MessageStructure `json` its `default` entry.
    pub message: String,
    /// With MessageStructure `json`: the message for each protocol that has one.
    pub per_protocol: IndexMap<String, String>,
    pub attributes: IndexMap<String, MessageAttributeValue>,
    pub timestamp: String,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
    /// The topic's SignatureVersion ("1": SHA1withRSA, "2": SHA256withRSA).
    pub signature_version: String,
    /// The topic's DeliveryPolicy, for the retries of HTTP/S deliveries.
    pub delivery_policy: Option<String>,
}

impl Notification {
    /// The text a subscriber of `protocol` receives.
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol.get(protocol).map_or(self.message.as_str(), String::as_str)
    }
}

/// The parts of a publish request the checks need (Publish and batch entries alike).
pub struct Request<'a> {
    pub message: &'a str,
    pub subject: Option<&'a str>,
    pub message_structure: Option<&'a str>,
    pub attributes: Option<&'a IndexMap<String, MessageAttributeValue>>,
    pub group_id: Option<&'a str>,
    pub deduplication_id: Option<&'a str>,
}

/// A request checked for a topic: the message split per protocol, and the FIFO ids.
pub struct Checked {
    pub message: String,
    pub per_protocol: IndexMap<String, String>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

pub fn check_message(message: &str, subject: Option<&str>) -> Result<(), SnsError> {
    if message.is_empty() {
        return Err(invalid_parameter("Empty message"));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(invalid_parameter("Message too long"));
    }
    if let Some(s) = subject {
        let ok = !s.is_empty() && s.chars().count() < MAX_SUBJECT_LEN && s.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
        if !ok {
            return Err(invalid_parameter("Subject"));
        }
    }
    Ok(())
}

/// MessageStructure `json`: an object of protocol -> message with a `default` entry;
/// entries whose value is not a string are ignored.
pub fn split_structure(message: &str, structure: Option<&str>) -> Result<(String, IndexMap<String, String>), SnsError> {
    match structure {
        None => Ok((message.to_string(), IndexMap::new())),
        Some("json") => {
            let Ok(Json::Object(map)) = serde_json::from_str::<Json>(message) else {
                return Err(invalid_parameter("Message Structure - JSON message body failed to parse"));
            };
            let per: IndexMap<String, String> =
                map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
            let default = per.get("default").cloned().ok_or_else(|| invalid_parameter("Message Structure - No default entry in JSON message body"))?;
            Ok((default, per))
        }
        Some(_) => Err(invalid_parameter("MessageStructure")),
    }
}

fn valid_attribute_name(name: &str) -> Result<(), SnsError> {
    if name.is_empty() || name.len() > 256 {
        return Err(invalid_parameter_value("Length of message attribute name must be less than 256 bytes."));
    }
    if name.starts_with('.') {
        return Err(invalid_parameter_value("Invalid message attribute name starting with character '.' was found."));
    }
    if name.ends_with('.') {
        return Err(invalid_parameter_value("Invalid message attribute name ending with character '.' was found."));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(invalid_parameter_value(format!(
            "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
            u32::from(c)
        )));
    }
    if name.contains("..") {
        return Err(invalid_parameter_value("Message attribute name can not have successive '.' character."));
    }
    Ok(())
}

pub fn check_attributes(attributes: &IndexMap<String, MessageAttributeValue>) -> Result<(), SnsError> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(invalid_parameter_value(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attributes.len()
        )));
    }
    for (name, a) in attributes {
        valid_attribute_name(name)?;
        let kind = a.data_type.split_once('.').map_or(a.data_type.as_str(), |(k, _)| k);
        let custom_ok = a.data_type.split_once('.').is_none_or(|(_, label)| !label.is_empty());
        if !matches!(kind, "String" | "Number" | "Binary") || !custom_ok {
            return Err(invalid_parameter_value(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let field = if kind == "Binary" { "Binary" } else { "String" };
        let present = if kind == "Binary" { a.binary_value.as_ref().map(|b| !b.is_empty()) } else { a.string_value.as_ref().map(|s| !s.is_empty()) };
        match present {
            None => {
                return Err(invalid_parameter_value(format!(
                    "The message attribute '{name}' with type '{}' must use field '{field}'.",
                    a.data_type
                )));
            }
            Some(false) => {
                return Err(invalid_parameter_value(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                    a.data_type
                )));
            }
            Some(true) => {}
        }
        let value = a.string_value.as_deref().unwrap_or_default();
        if kind == "Number" && value.trim().parse::<f64>().is_err() {
            return Err(invalid_parameter_value(format!("Could not cast message attribute '{name}' value to number.")));
        }
        if a.data_type == "String.Array" && !matches!(serde_json::from_str::<Json>(value), Ok(Json::Array(_))) {
            return Err(invalid_parameter(format!(
                "The message attribute '{name}' has an invalid String.Array value: the value must be a JSON array."
            )));
        }
    }
    Ok(())
}

/// The bytes a message counts against the size limit: body, attribute names, types and values.
pub fn size_of(message: &str, attributes: Option<&IndexMap<String, MessageAttributeValue>>) -> usize {
    message.len()
        + attributes.map_or(0, |m| {
            m.iter()
                .map(|(k, a)| {
                    k.len() + a.data_type.len() + a.string_value.as_ref().map_or(0, String::len) + a.binary_value.as_ref().map_or(0, |b| b.len())
                })
                .sum()
        })
}

/// Checks the parts of a request that depend on the topic's type (FIFO or standard).
pub fn check_for_topic(req: &Request<'_>, fifo: bool, content_based_deduplication: bool) -> Result<Checked, SnsError> {
    let (message, per_protocol) = split_structure(req.message, req.message_structure)?;
    if let Some(attributes) = req.attributes {
        check_attributes(attributes)?;
    }
    if !fifo {
        if req.deduplication_id.is_some() {
            return Err(invalid_parameter(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        if req.group_id.is_some() {
            return Err(invalid_parameter(
                "MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
            ));
        }
        return Ok(Checked { message, per_protocol, group_id: None, deduplication_id: None });
    }
    let group_id = req.group_id.filter(|g| !g.is_empty()).ok_or_else(|| invalid_parameter("The MessageGroupId parameter is required for FIFO topics"))?;
    if group_id.len() > MAX_FIFO_ID_LEN {
        return Err(invalid_parameter("MessageGroupId Reason: MessageGroupId can be up to 128 characters long"));
    }
    let deduplication_id = match req.deduplication_id {
        Some(d) if d.len() > MAX_FIFO_ID_LEN => {
            return Err(invalid_parameter("MessageDeduplicationId Reason: MessageDeduplicationId can be up to 128 characters long"));
        }
        Some(d) => d.to_string(),
        None if content_based_deduplication => hex::encode(Sha256::digest(req.message.as_bytes())),
        None => {
            return Err(invalid_parameter(
                "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
    };
    Ok(Checked { message, per_protocol, group_id: Some(group_id.to_string()), deduplication_id: Some(deduplication_id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(t: &str, v: &str) -> IndexMap<String, MessageAttributeValue> {
        let mut m = IndexMap::new();
        m.insert("a".to_string(), MessageAttributeValue { data_type: t.into(), string_value: Some(v.into()), binary_value: None });
        m
    }

    #[test]
    fn structure_json_needs_a_default() {
        let (d, per) = split_structure(r#"{"default":"d","sqs":"q","x":1}"#, Some("json")).unwrap();
        assert_eq!(d, "d");
        assert_eq!(per.get("sqs").map(String::as_str), Some("q"));
        assert!(!per.contains_key("x"));
        assert!(split_structure(r#"{"sqs":"q"}"#, Some("json")).is_err());
        assert!(split_structure("nope", Some("json")).is_err());
    }

    #[test]
    fn attribute_types_and_values_are_checked() {
        assert!(check_attributes(&attr("Number", "1.5")).is_ok());
        assert!(check_attributes(&attr("Number", "x")).is_err());
        assert!(check_attributes(&attr("String.Array", r#"["a",1]"#)).is_ok());
        assert!(check_attributes(&attr("String.Array", "a")).is_err());
        assert!(check_attributes(&attr("Blob", "a")).is_err());
        assert!(check_attributes(&attr("String", "")).is_err());
        assert!(check_attributes(&attr("String.custom", "v")).is_ok());
    }

    #[test]
    fn fifo_rules() {
        let req = Request { message: "m", subject: None, message_structure: None, attributes: None, group_id: None, deduplication_id: None };
        assert!(check_for_topic(&req, true, true).is_err());
        let req = Request { group_id: Some("g"), ..req };
        let c = check_for_topic(&req, true, true).unwrap();
        assert_eq!(c.deduplication_id.as_deref().map(str::len), Some(64));
        assert!(check_for_topic(&req, true, false).is_err());
        assert!(check_for_topic(&req, false, false).is_err());
    }
}
