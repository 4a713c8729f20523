//! Queue attributes: AWS's names, defaults and validation ranges (CreateQueue and
//! SetQueueAttributes in the SQS API Reference), and their string rendering.

use indexmap::IndexMap;

pub const DELAY_SECONDS_DEFAULT: u32 = 0;
pub const DELAY_SECONDS_MAX: u32 = 900;
pub const MAXIMUM_MESSAGE_SIZE_MIN: u32 = 1_024;
/// 1 MiB: both the upper bound and the default since SQS raised its message size limit.
pub const MAXIMUM_MESSAGE_SIZE_MAX: u32 = 1_048_576;
pub const MESSAGE_RETENTION_PERIOD_MIN: u32 = 60;
pub const MESSAGE_RETENTION_PERIOD_MAX: u32 = 1_209_600;
pub const MESSAGE_RETENTION_PERIOD_DEFAULT: u32 = 345_600;
pub const RECEIVE_MESSAGE_WAIT_TIME_SECONDS_MAX: u32 = 20;
pub const VISIBILITY_TIMEOUT_DEFAULT: u32 = 30;
pub const VISIBILITY_TIMEOUT_MAX: u32 = 43_200;
pub const KMS_DATA_KEY_REUSE_PERIOD_MIN: u32 = 60;
pub const KMS_DATA_KEY_REUSE_PERIOD_MAX: u32 = 86_400;
pub const KMS_DATA_KEY_REUSE_PERIOD_DEFAULT: u32 = 300;
pub const MAX_RECEIVE_COUNT_MIN: i64 = 1;
pub const MAX_RECEIVE_COUNT_MAX: i64 = 1_000;
/// RedriveAllowPolicy `sourceQueueArns` may name at most 10 queues.
pub const REDRIVE_ALLOW_SOURCE_ARNS_MAX: usize = 10;

/// Attributes SQS computes; GetQueueAttributes returns them, nothing may set them.
pub const READ_ONLY: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// Every attribute name GetQueueAttributes accepts (besides `All`).
pub const ALL_NAMES: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "DelaySeconds",
    "LastModifiedTimestamp",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "QueueArn",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// Why an attribute was refused; mapped to the SQS error of the same name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(clippy::enum_variant_names)] // AWS's error names
pub enum AttributeError {
    #[error("InvalidAttributeName: {0}")]
    InvalidAttributeName(String),
    #[error("InvalidAttributeValue: {0}")]
    InvalidAttributeValue(String),
    #[error("InvalidParameterValue: {0}")]
    InvalidParameterValue(String),
}

fn unknown(name: &str) -> AttributeError {
    AttributeError::InvalidAttributeName(format!("Unknown Attribute {name}."))
}

fn invalid(name: &str) -> AttributeError {
    AttributeError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))
}

/// `RedrivePolicy` as SQS keeps it: the target and the count, rendered back normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// Parses the JSON document; the target's existence is checked by the caller.
    pub fn parse(raw: &str) -> Result<RedrivePolicy, AttributeError> {
        let reason = |why: &str| {
            AttributeError::InvalidParameterValue(format!(
                "Value {raw} for parameter RedrivePolicy is invalid. Reason: {why}"
            ))
        };
        let doc: serde_json::Value =
            serde_json::from_str(raw).map_err(|_| reason("Redrive policy is not a valid JSON map."))?;
        let map = doc.as_object().ok_or_else(|| reason("Redrive policy is not a valid JSON map."))?;
        let target = match map.get("deadLetterTargetArn") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(_) => return Err(reason("Invalid value for deadLetterTargetArn.")),
            None => return Err(reason("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")),
        };
        let count = match map.get("maxReceiveCount") {
            None => return Err(reason("Redrive policy does not contain mandatory attribute: maxReceiveCount.")),
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        let shown = map.get("maxReceiveCount").map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or_default();
        match count {
            Some(n) if (MAX_RECEIVE_COUNT_MIN..=MAX_RECEIVE_COUNT_MAX).contains(&n) => {
                Ok(RedrivePolicy { dead_letter_target_arn: target, max_receive_count: u32::try_from(n).unwrap_or(1) })
            }
            _ => Err(reason(&format!(
                "Invalid value for maxReceiveCount: {shown}, valid values are from 1 to 1000 both inclusive."
            ))),
        }
    }

    pub fn render(&self) -> String {
        serde_json::json!({
            "deadLetterTargetArn": self.dead_letter_target_arn,
            "maxReceiveCount": self.max_receive_count,
        })
        .to_string()
    }
}

/// `RedriveAllowPolicy`: which source queues may name this queue as their dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveAllowPolicy {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

impl RedriveAllowPolicy {
    pub fn parse(raw: &str) -> Result<RedriveAllowPolicy, AttributeError> {
        let reason = |why: &str| {
            AttributeError::InvalidParameterValue(format!(
                "Value {raw} for parameter RedriveAllowPolicy is invalid. Reason: {why}"
            ))
        };
        let doc: serde_json::Value =
            serde_json::from_str(raw).map_err(|_| reason("Amazon SQS can't parse the redrive allow policy."))?;
        let map = doc.as_object().ok_or_else(|| reason("Amazon SQS can't parse the redrive allow policy."))?;
        let permission = map.get("redrivePermission").and_then(|v| v.as_str());
        let arns: Option<Vec<String>> = match map.get("sourceQueueArns") {
            None => None,
            Some(serde_json::Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or_else(|| reason("Invalid value for sourceQueueArns.")))
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(reason("Invalid value for sourceQueueArns.")),
        };
        match (permission, arns) {
            (Some("allowAll"), None) => Ok(RedriveAllowPolicy::AllowAll),
            (Some("denyAll"), None) => Ok(RedriveAllowPolicy::DenyAll),
            (Some("allowAll" | "denyAll"), Some(_)) => {
                Err(reason("You can specify sourceQueueArns only when redrivePermission is set to byQueue."))
            }
            (Some("byQueue"), Some(arns)) if !arns.is_empty() && arns.len() <= REDRIVE_ALLOW_SOURCE_ARNS_MAX => {
                Ok(RedriveAllowPolicy::ByQueue(arns))
            }
            (Some("byQueue"), _) => Err(reason(
                "When redrivePermission is set to byQueue, you must specify between 1 and 10 sourceQueueArns.",
            )),
            (None, _) => Err(reason("Redrive allow policy does not contain mandatory attribute: redrivePermission.")),
            (Some(_), _) => Err(reason("Invalid value for redrivePermission.")),
        }
    }

    pub fn render(&self) -> String {
        match self {
            RedriveAllowPolicy::AllowAll => r#"{"redrivePermission":"allowAll"}"#.to_string(),
            RedriveAllowPolicy::DenyAll => r#"{"redrivePermission":"denyAll"}"#.to_string(),
            RedriveAllowPolicy::ByQueue(arns) => {
                serde_json::json!({"redrivePermission": "byQueue", "sourceQueueArns": arns}).to_string()
            }
        }
    }

    /// Whether a queue with ARN `source` may use this queue as its dead-letter queue.
    pub fn allows(&self, source: &str) -> bool {
        match self {
            RedriveAllowPolicy::AllowAll => true,
            RedriveAllowPolicy::DenyAll => false,
            RedriveAllowPolicy::ByQueue(arns) => arns.iter().any(|a| a == source),
        }
    }
}

/// The settable attributes of a queue, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueAttributes {
    pub fifo_queue: bool,
    pub delay_seconds: u32,
    pub maximum_message_size: u32,
    pub message_retention_period: u32,
    pub receive_message_wait_time_seconds: u32,
    pub visibility_timeout: u32,
    pub policy: Option<String>,
    pub redrive_policy: Option<RedrivePolicy>,
    pub redrive_allow_policy: Option<RedriveAllowPolicy>,
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_period_seconds: u32,
    pub sqs_managed_sse_enabled: bool,
    pub content_based_deduplication: bool,
    /// `queue` or `messageGroup` (FIFO only).
    pub deduplication_scope: String,
    /// `perQueue` or `perMessageGroupId` (FIFO only).
    pub fifo_throughput_limit: String,
}

impl QueueAttributes {
    pub fn defaults(fifo: bool) -> Self {
        QueueAttributes {
            fifo_queue: fifo,
            delay_seconds: DELAY_SECONDS_DEFAULT,
            maximum_message_size: MAXIMUM_MESSAGE_SIZE_MAX,
            message_retention_period: MESSAGE_RETENTION_PERIOD_DEFAULT,
            receive_message_wait_time_seconds: 0,
            visibility_timeout: VISIBILITY_TIMEOUT_DEFAULT,
            policy: None,
            redrive_policy: None,
            redrive_allow_policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: KMS_DATA_KEY_REUSE_PERIOD_DEFAULT,
            sqs_managed_sse_enabled: true,
            content_based_deduplication: false,
            deduplication_scope: "queue".to_string(),
            fifo_throughput_limit: "perQueue".to_string(),
        }
    }

    /// Applies a set of attributes from CreateQueue (`creating`) or SetQueueAttributes,
    /// all or nothing: on error `self` is unchanged.
    pub fn apply_all(&mut self, attributes: &IndexMap<String, String>, creating: bool) -> Result<(), AttributeError> {
        let mut next = self.clone();
        // SSE-KMS and SSE-SQS are exclusive: a KMS key turns SQS-managed encryption off
        // unless the same request turns it on explicitly.
        let sse_explicit = attributes.contains_key("SqsManagedSseEnabled");
        for (name, value) in attributes {
            next.apply(name, value, creating)?;
        }
        if !sse_explicit && attributes.get("KmsMasterKeyId").is_some_and(|v| !v.is_empty()) {
            next.sqs_managed_sse_enabled = false;
        }
        if sse_explicit && next.sqs_managed_sse_enabled && attributes.get("KmsMasterKeyId").is_none() {
            next.kms_master_key_id = None;
        }
        *self = next;
        Ok(())
    }

    fn apply(&mut self, name: &str, value: &str, creating: bool) -> Result<(), AttributeError> {
        if READ_ONLY.contains(&name) {
            return Err(unknown(name));
        }
        if FIFO_ONLY.contains(&name) && !self.fifo_queue {
            return Err(match name {
                "ContentBasedDeduplication" => unknown(name),
                _ => AttributeError::InvalidAttributeName(format!(
                    "You can specify the {name} only when FifoQueue is set to true."
                )),
            });
        }
        match name {
            "DelaySeconds" => self.delay_seconds = int_in(name, value, 0, DELAY_SECONDS_MAX)?,
            "MaximumMessageSize" => {
                self.maximum_message_size = int_in(name, value, MAXIMUM_MESSAGE_SIZE_MIN, MAXIMUM_MESSAGE_SIZE_MAX)?
            }
            "MessageRetentionPeriod" => {
                self.message_retention_period =
                    int_in(name, value, MESSAGE_RETENTION_PERIOD_MIN, MESSAGE_RETENTION_PERIOD_MAX)?
            }
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = int_in(name, value, 0, RECEIVE_MESSAGE_WAIT_TIME_SECONDS_MAX)?
            }
            "VisibilityTimeout" => self.visibility_timeout = int_in(name, value, 0, VISIBILITY_TIMEOUT_MAX)?,
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds =
                    int_in(name, value, KMS_DATA_KEY_REUSE_PERIOD_MIN, KMS_DATA_KEY_REUSE_PERIOD_MAX)?
            }
            "Policy" => {
                self.policy = if value.is_empty() {
                    None
                } else {
                    match serde_json::from_str::<serde_json::Value>(value) {
                        Ok(serde_json::Value::Object(_)) => Some(value.to_string()),
                        _ => return Err(invalid(name)),
                    }
                }
            }
            "RedrivePolicy" => {
                self.redrive_policy = if value.is_empty() { None } else { Some(RedrivePolicy::parse(value)?) }
            }
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy =
                    if value.is_empty() { None } else { Some(RedriveAllowPolicy::parse(value)?) }
            }
            "KmsMasterKeyId" => self.kms_master_key_id = if value.is_empty() { None } else { Some(value.to_string()) },
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled = boolean(name, value)?,
            "FifoQueue" => {
                let fifo = boolean(name, value)?;
                if fifo != self.fifo_queue {
                    if creating {
                        // The caller decides the queue type before applying attributes.
                        return Err(invalid(name));
                    }
                    return Err(AttributeError::InvalidAttributeValue(
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
                            .to_string(),
                    ));
                }
            }
            "ContentBasedDeduplication" => self.content_based_deduplication = boolean(name, value)?,
            "DeduplicationScope" => match value {
                "queue" | "messageGroup" => self.deduplication_scope = value.to_string(),
                _ => return Err(invalid(name)),
            },
            "FifoThroughputLimit" => match value {
                "perQueue" | "perMessageGroupId" => self.fifo_throughput_limit = value.to_string(),
                _ => return Err(invalid(name)),
            },
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    /// The rendered value of a settable attribute, `None` when unset (or not applicable
    /// to this queue type).
    pub fn get(&self, name: &str) -> Option<String> {
        let fifo = self.fifo_queue;
        Some(match name {
            "DelaySeconds" => self.delay_seconds.to_string(),
            "MaximumMessageSize" => self.maximum_message_size.to_string(),
            "MessageRetentionPeriod" => self.message_retention_period.to_string(),
            "ReceiveMessageWaitTimeSeconds" => self.receive_message_wait_time_seconds.to_string(),
            "VisibilityTimeout" => self.visibility_timeout.to_string(),
            "Policy" => self.policy.clone()?,
            "RedrivePolicy" => self.redrive_policy.as_ref()?.render(),
            "RedriveAllowPolicy" => self.redrive_allow_policy.as_ref()?.render(),
            "KmsMasterKeyId" => self.kms_master_key_id.clone()?,
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_master_key_id.as_ref()?;
                self.kms_data_key_reuse_period_seconds.to_string()
            }
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled.to_string(),
            "FifoQueue" if fifo => "true".to_string(),
            "ContentBasedDeduplication" if fifo => self.content_based_deduplication.to_string(),
            "DeduplicationScope" if fifo => self.deduplication_scope.clone(),
            "FifoThroughputLimit" if fifo => self.fifo_throughput_limit.clone(),
            _ => return None,
        })
    }

    /// The settable attributes with their values, for the store and for comparing
    /// CreateQueue calls against an existing queue.
    pub fn to_map(&self) -> IndexMap<String, String> {
        ALL_NAMES
            .iter()
            .filter(|n| !READ_ONLY.contains(n))
            .filter_map(|n| self.get(n).map(|v| (n.to_string(), v)))
            .collect()
    }

    /// The first attribute of `requested` whose value differs from this queue's: what
    /// makes CreateQueue on an existing name fail with QueueNameExists.
    pub fn first_difference(&self, requested: &IndexMap<String, String>) -> Result<Option<String>, AttributeError> {
        let mut candidate = QueueAttributes::defaults(self.fifo_queue);
        candidate.apply_all(requested, true)?;
        Ok(requested.keys().find(|name| self.get(name) != candidate.get(name)).cloned())
    }
}

fn int_in(name: &str, value: &str, min: u32, max: u32) -> Result<u32, AttributeError> {
    match value.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(invalid(name)),
    }
}

fn boolean(name: &str, value: &str) -> Result<bool, AttributeError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_match_the_api_reference() {
        let a = QueueAttributes::defaults(false);
        assert_eq!(a.get("DelaySeconds").as_deref(), Some("0"));
        assert_eq!(a.get("MaximumMessageSize").as_deref(), Some("1048576"));
        assert_eq!(a.get("MessageRetentionPeriod").as_deref(), Some("345600"));
        assert_eq!(a.get("ReceiveMessageWaitTimeSeconds").as_deref(), Some("0"));
        assert_eq!(a.get("VisibilityTimeout").as_deref(), Some("30"));
        assert_eq!(a.get("SqsManagedSseEnabled").as_deref(), Some("true"));
        assert_eq!(a.get("FifoQueue"), None);
        assert_eq!(a.get("KmsDataKeyReusePeriodSeconds"), None);
        let f = QueueAttributes::defaults(true);
        assert_eq!(f.get("FifoQueue").as_deref(), Some("true"));
        assert_eq!(f.get("ContentBasedDeduplication").as_deref(), Some("false"));
        assert_eq!(f.get("DeduplicationScope").as_deref(), Some("queue"));
        assert_eq!(f.get("FifoThroughputLimit").as_deref(), Some("perQueue"));
    }

    #[test]
    fn values_outside_documented_ranges_are_invalid_attribute_values() {
        for (name, bad, good) in [
            ("DelaySeconds", "901", "900"),
            ("MaximumMessageSize", "1023", "1024"),
            ("MaximumMessageSize", "1048577", "1048576"),
            ("MessageRetentionPeriod", "59", "60"),
            ("MessageRetentionPeriod", "1209601", "1209600"),
            ("ReceiveMessageWaitTimeSeconds", "21", "20"),
            ("VisibilityTimeout", "43201", "43200"),
            ("VisibilityTimeout", "-1", "0"),
            ("KmsDataKeyReusePeriodSeconds", "59", "86400"),
            ("DelaySeconds", "abc", "1"),
        ] {
            let mut a = QueueAttributes::defaults(false);
            assert_eq!(
                a.apply_all(&map(&[(name, bad)]), true),
                Err(AttributeError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))),
                "{name}={bad}"
            );
            a.apply_all(&map(&[(name, good)]), true).unwrap();
        }
    }

    #[test]
    fn failed_apply_changes_nothing() {
        let mut a = QueueAttributes::defaults(false);
        let err = a.apply_all(&map(&[("VisibilityTimeout", "60"), ("DelaySeconds", "1000")]), false);
        assert!(err.is_err());
        assert_eq!(a, QueueAttributes::defaults(false));
    }

    #[test]
    fn read_only_and_unknown_names_are_invalid_attribute_names() {
        let mut a = QueueAttributes::defaults(false);
        for name in ["QueueArn", "ApproximateNumberOfMessages", "Bogus", "ContentBasedDeduplication"] {
            assert_eq!(
                a.apply_all(&map(&[(name, "1")]), false),
                Err(AttributeError::InvalidAttributeName(format!("Unknown Attribute {name}.")))
            );
        }
        assert_eq!(
            a.apply_all(&map(&[("FifoThroughputLimit", "perQueue")]), false),
            Err(AttributeError::InvalidAttributeName(
                "You can specify the FifoThroughputLimit only when FifoQueue is set to true.".into()
            ))
        );
    }

    #[test]
    fn fifo_queue_type_cannot_change() {
        let mut f = QueueAttributes::defaults(true);
        assert!(matches!(
            f.apply_all(&map(&[("FifoQueue", "false")]), false),
            Err(AttributeError::InvalidAttributeValue(m)) if m.contains("Modifying queue type is not supported")
        ));
        f.apply_all(&map(&[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]), false).unwrap();
        assert!(f.content_based_deduplication);
    }

    #[test]
    fn redrive_policy_is_validated_and_normalised() {
        let p = RedrivePolicy::parse(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"5"}"#,
        )
        .unwrap();
        assert_eq!(p.max_receive_count, 5);
        assert_eq!(
            p.render(),
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":5}"#
        );
        let missing = RedrivePolicy::parse(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}"#);
        assert!(matches!(missing, Err(AttributeError::InvalidParameterValue(m))
            if m.ends_with("Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount.")));
        let too_many = RedrivePolicy::parse(r#"{"deadLetterTargetArn":"a","maxReceiveCount":1001}"#);
        assert!(matches!(too_many, Err(AttributeError::InvalidParameterValue(m))
            if m.contains("Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive.")));
        assert!(RedrivePolicy::parse("not json").is_err());
    }

    #[test]
    fn redrive_allow_policy_permissions() {
        let by = RedriveAllowPolicy::parse(r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:a"]}"#).unwrap();
        assert!(by.allows("arn:a"));
        assert!(!by.allows("arn:b"));
        assert!(!RedriveAllowPolicy::parse(r#"{"redrivePermission":"denyAll"}"#).unwrap().allows("arn:a"));
        assert!(RedriveAllowPolicy::parse(r#"{"redrivePermission":"byQueue"}"#).is_err());
        assert!(RedriveAllowPolicy::parse(r#"{"redrivePermission":"allowAll","sourceQueueArns":["x"]}"#).is_err());
    }

    #[test]
    fn kms_key_turns_sqs_managed_sse_off() {
        let mut a = QueueAttributes::defaults(false);
        a.apply_all(&map(&[("KmsMasterKeyId", "alias/aws/sqs")]), true).unwrap();
        assert_eq!(a.get("SqsManagedSseEnabled").as_deref(), Some("false"));
        assert_eq!(a.get("KmsDataKeyReusePeriodSeconds").as_deref(), Some("300"));
    }

    #[test]
    fn create_queue_compares_only_requested_attributes() {
        let mut a = QueueAttributes::defaults(false);
        a.apply_all(&map(&[("VisibilityTimeout", "60")]), true).unwrap();
        assert_eq!(a.first_difference(&map(&[("VisibilityTimeout", "60")])), Ok(None));
        assert_eq!(a.first_difference(&IndexMap::new()), Ok(None));
        assert_eq!(
            a.first_difference(&map(&[("DelaySeconds", "0"), ("VisibilityTimeout", "30")])),
            Ok(Some("VisibilityTimeout".to_string()))
        );
    }
}
