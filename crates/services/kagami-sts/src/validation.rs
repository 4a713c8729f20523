//! Member constraints checked the way AWS's request validator reports them: every
//! violated constraint of a request is collected, and the request fails with one
//! `ValidationError` whose message lists them all, e.g.
//! `1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy
//! constraint: Member must have length greater than or equal to 2`.
//!
//! Limits come from the STS API reference (and the model's shape traits).

use kagami_protocol::shapes::ShapeError;

/// `[\w+=,.@-]*`: RoleSessionName, federated user Name, SourceIdentity.
pub(crate) const NAME_PATTERN: Pattern = Pattern { display: r"[\w+=,.@-]*", at_least_one: false, allows: name_char };
/// `[\w+=,.@:\/-]*`: ExternalId.
pub(crate) const EXTERNAL_ID_PATTERN: Pattern =
    Pattern { display: r"[\w+=,.@:\/-]*", at_least_one: false, allows: external_id_char };
/// `[\w+=/:,.@-]*`: SerialNumber of an MFA device.
pub(crate) const SERIAL_NUMBER_PATTERN: Pattern =
    Pattern { display: r"[\w+=/:,.@-]*", at_least_one: false, allows: serial_number_char };
/// `[\d]*`: TokenCode.
pub(crate) const TOKEN_CODE_PATTERN: Pattern =
    Pattern { display: r"[\d]*", at_least_one: false, allows: |c| c.is_ascii_digit() };
/// `[\w]*`: AccessKeyId.
pub(crate) const ACCESS_KEY_ID_PATTERN: Pattern = Pattern { display: r"[\w]*", at_least_one: false, allows: word_char };
/// Printable characters an ARN may hold.
pub(crate) const ARN_PATTERN: Pattern = Pattern {
    display: r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+",
    at_least_one: true,
    allows: arn_char,
};
/// Session policy documents: tab, newlines and Latin-1 printable characters.
pub(crate) const POLICY_PATTERN: Pattern =
    Pattern { display: r"[\u0009\u000A\u000D\u0020-\u00FF]+", at_least_one: true, allows: policy_char };
pub(crate) const TAG_KEY_PATTERN: Pattern =
    Pattern { display: r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", at_least_one: true, allows: tag_char };
pub(crate) const TAG_VALUE_PATTERN: Pattern =
    Pattern { display: r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", at_least_one: false, allows: tag_char };

/// A regular expression of the model, as a character class AWS prints in its message.
#[derive(Clone, Copy)]
pub(crate) struct Pattern {
    pub display: &'static str,
    /// `+` rather than `*`: the empty string does not match.
    pub at_least_one: bool,
    pub allows: fn(char) -> bool,
}

impl Pattern {
    pub fn matches(&self, value: &str) -> bool {
        (!self.at_least_one || !value.is_empty()) && value.chars().all(self.allows)
    }
}

/// Java's `\w` without UNICODE_CHARACTER_CLASS: ASCII letters, digits and `_`.
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn name_char(c: char) -> bool {
    word_char(c) || "+=,.@-".contains(c)
}

fn external_id_char(c: char) -> bool {
    word_char(c) || "+=,.@:/-".contains(c)
}

fn serial_number_char(c: char) -> bool {
    word_char(c) || "+=/:,.@-".contains(c)
}

fn arn_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

fn policy_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}')
}

fn tag_char(c: char) -> bool {
    // \p{Z} is the separator category (spaces), which excludes control characters such as tab.
    c.is_alphabetic() || c.is_numeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// How the offending value appears in the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    Value,
    /// Secrets (tokens, assertions) and policy documents are not echoed back: `Value at 'policy'`.
    Hidden,
}

/// The violations found so far in one request.
#[derive(Default)]
pub(crate) struct Violations {
    items: Vec<String>,
}

impl Violations {
    pub fn new() -> Self {
        Violations::default()
    }

    fn push(&mut self, member: &str, value: &str, shown: Shown, constraint: &str) {
        let value = match shown {
            Shown::Value => format!("Value '{value}' at"),
            Shown::Hidden => "Value at".to_string(),
        };
        self.items.push(format!("{value} '{member}' failed to satisfy constraint: {constraint}"));
    }

    /// Length in characters between `min` and `max` (inclusive).
    pub fn length(&mut self, member: &str, value: &str, shown: Shown, min: usize, max: Option<usize>) {
        self.bounds(member, value, shown, value.chars().count(), min, max);
    }

    /// AWS words the size of a string and of a list alike: both are a "length".
    fn bounds(&mut self, member: &str, value: &str, shown: Shown, len: usize, min: usize, max: Option<usize>) {
        if len < min {
            self.push(member, value, shown, &format!("Member must have length greater than or equal to {min}"));
        }
        if let Some(max) = max.filter(|max| len > *max) {
            self.push(member, value, shown, &format!("Member must have length less than or equal to {max}"));
        }
    }

    pub fn pattern(&mut self, member: &str, value: &str, shown: Shown, pattern: Pattern) {
        if !pattern.matches(value) {
            let constraint = format!("Member must satisfy regular expression pattern: {}", pattern.display);
            self.push(member, value, shown, &constraint);
        }
    }

    /// Length and pattern of a string member, in the order AWS reports them.
    pub fn string(&mut self, member: &str, value: &str, min: usize, max: Option<usize>, pattern: Option<Pattern>) {
        self.length(member, value, Shown::Value, min, max);
        if let Some(pattern) = pattern {
            self.pattern(member, value, Shown::Value, pattern);
        }
    }

    pub fn range(&mut self, member: &str, value: i32, min: i32, max: Option<i32>) {
        let shown = value.to_string();
        if value < min {
            self.push(member, &shown, Shown::Value, &format!("Member must have value greater than or equal to {min}"));
        }
        if let Some(max) = max.filter(|max| value > *max) {
            self.push(member, &shown, Shown::Value, &format!("Member must have value less than or equal to {max}"));
        }
    }

    /// Number of members of a list; `rendered` is how the list is printed.
    pub fn count(&mut self, member: &str, rendered: &str, len: usize, min: usize, max: usize) {
        self.bounds(member, rendered, Shown::Value, len, min, Some(max));
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The `ValidationError` message, or `None` when the request is valid.
    pub fn message(&self) -> Option<String> {
        match self.items.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.items.join("; "))),
            n => Some(format!("{n} validation errors detected: {}", self.items.join("; "))),
        }
    }
}

/// The message for a request the protocol layer could not map onto its shape (a
/// missing required member, a number that is not a number), in the validator's words.
pub(crate) fn input_error_message(error: &ShapeError) -> String {
    let member = member_path(error.member());
    match error {
        ShapeError::Missing { .. } => format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ),
        ShapeError::Invalid { detail, .. } => {
            format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: {detail}")
        }
    }
}

/// `Tags.1.Key` -> `tags.1.member.key`: how AWS names a member inside a request.
pub(crate) fn member_path(path: &str) -> String {
    path.split('.')
        .map(|segment| {
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                format!("{segment}.member")
            } else {
                lower_first(segment)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub(crate) use kagami_protocol::shapes::lower_first;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_session_name_reports_aws_message() {
        let mut v = Violations::new();
        v.string("roleSessionName", "x", 2, Some(64), Some(NAME_PATTERN));
        assert_eq!(
            v.message().as_deref(),
            Some(
                "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: \
                 Member must have length greater than or equal to 2"
            )
        );
    }

    #[test]
    fn session_name_with_slash_fails_the_pattern() {
        let mut v = Violations::new();
        v.string("roleSessionName", "PowerUser/hjacobs", 2, Some(64), Some(NAME_PATTERN));
        assert_eq!(
            v.message().as_deref(),
            Some(
                "1 validation error detected: Value 'PowerUser/hjacobs' at 'roleSessionName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            )
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        v.string("roleSessionName", "a b", 2, Some(64), Some(NAME_PATTERN));
        v.range("durationSeconds", 600, 900, Some(43200));
        let msg = v.message().unwrap_or_default();
        assert!(msg.starts_with("2 validation errors detected: Value 'a b' at 'roleSessionName'"), "{msg}");
        assert!(msg.ends_with(
            "; Value '600' at 'durationSeconds' failed to satisfy constraint: \
             Member must have value greater than or equal to 900"
        ));
    }

    #[test]
    fn duration_above_maximum_reports_less_than_or_equal() {
        let mut v = Violations::new();
        v.range("durationSeconds", 43201, 900, Some(43200));
        assert_eq!(
            v.message().as_deref(),
            Some(
                "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: \
                 Member must have value less than or equal to 43200"
            )
        );
    }

    #[test]
    fn hidden_values_are_not_echoed() {
        let mut v = Violations::new();
        v.length("webIdentityToken", "abc", Shown::Hidden, 4, Some(20000));
        assert_eq!(
            v.message().as_deref(),
            Some(
                "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: \
                 Member must have length greater than or equal to 4"
            )
        );
    }

    #[test]
    fn valid_values_produce_no_message() {
        let mut v = Violations::new();
        v.string("roleSessionName", "user@example.com", 2, Some(64), Some(NAME_PATTERN));
        v.range("durationSeconds", 3600, 900, Some(43200));
        v.string("externalId", "arn:aws:x/y", 2, Some(1224), Some(EXTERNAL_ID_PATTERN));
        assert!(v.is_empty());
        assert_eq!(v.message(), None);
    }

    #[test]
    fn patterns_follow_the_model() {
        assert!(TAG_KEY_PATTERN.matches("Project Name:é"));
        assert!(!TAG_KEY_PATTERN.matches(""));
        assert!(TAG_VALUE_PATTERN.matches(""));
        assert!(!TAG_VALUE_PATTERN.matches("a\tb"));
        assert!(TOKEN_CODE_PATTERN.matches("123456"));
        assert!(!TOKEN_CODE_PATTERN.matches("12345a"));
        assert!(ACCESS_KEY_ID_PATTERN.matches("ASIAEXAMPLE_1234"));
        assert!(!ACCESS_KEY_ID_PATTERN.matches("ASIA-EXAMPLE"));
        assert!(POLICY_PATTERN.matches("{\"Version\":\"2012-10-17\"}\n"));
        assert!(!POLICY_PATTERN.matches("{\u{2603}}"));
        assert!(ARN_PATTERN.matches("arn:aws:iam::123456789012:role/x"));
        assert!(!ARN_PATTERN.matches("arn\u{1}"));
    }

    #[test]
    fn member_paths_use_aws_names() {
        assert_eq!(member_path("RoleSessionName"), "roleSessionName");
        assert_eq!(member_path("Tags.1.Key"), "tags.1.member.key");
        assert_eq!(member_path("SAMLAssertion"), "sAMLAssertion");
        let e = ShapeError::Missing { member: "RoleArn".into() };
        assert_eq!(
            input_error_message(&e),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
        );
    }
}
