//! Session policies and session tags: the policy must be a JSON document, and
//! policies, managed policy ARNs and tags together must fit the packed space that
//! AWS reports as `PackedPolicySize` (a percentage; over 100 fails the request).
//!
//! AWS does not document its packing format. Here the policy is minified and
//! deflated, ARNs and tags count their bytes, and the total is measured against
//! [`PACKED_SPACE_BYTES`]: typical policies and a few dozen short tags land well under
//! 100%, documents near the 2,048-character plaintext limit or 50 long tags do not.

/// The packed space one session gets for its policies and tags.
pub(crate) const PACKED_SPACE_BYTES: usize = 2048;

/// Why a session's policies or tags are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicyError {
    /// `MalformedPolicyDocument`.
    Malformed(String),
    /// `PackedPolicyTooLarge`.
    TooLarge(String),
}

/// What a session carries besides its identity.
#[derive(Debug, Default)]
pub(crate) struct SessionPolicies<'a> {
    pub policy: Option<&'a str>,
    pub policy_arns: Vec<&'a str>,
    pub tags: Vec<(&'a str, &'a str)>,
}

impl SessionPolicies<'_> {
    fn is_empty(&self) -> bool {
        self.policy.is_none() && self.policy_arns.is_empty() && self.tags.is_empty()
    }

    /// `PackedPolicySize` for the response: `None` when the request passed no session
    /// policy, managed policy or tag.
    pub fn packed_size(&self) -> Result<Option<i32>, PolicyError> {
        if self.is_empty() {
            return Ok(None);
        }
        let policy_bytes = match self.policy {
            Some(policy) => packed_policy_len(policy)?,
            None => 0,
        };
        let arn_bytes: usize = self.policy_arns.iter().map(|a| a.len()).sum();
        // Each tag costs its key, its value and two bytes of framing.
        let tag_bytes: usize = self.tags.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let percent = percent_of_space(policy_bytes + arn_bytes + tag_bytes);
        if percent > 100 {
            let message = if policy_bytes + arn_bytes == 0 {
                format!("Packed size of session tags consumes {percent}% of allotted space.")
            } else {
                format!("Packed policy consumes {percent}% of allotted space, please use smaller policy.")
            };
            return Err(PolicyError::TooLarge(message));
        }
        Ok(Some(i32::try_from(percent).unwrap_or(i32::MAX)))
    }
}

fn percent_of_space(bytes: usize) -> usize {
    (bytes * 100).div_ceil(PACKED_SPACE_BYTES)
}

/// Deflated size of the minified policy document.
fn packed_policy_len(policy: &str) -> Result<usize, PolicyError> {
    let document: serde_json::Value = serde_json::from_str(policy)
        .map_err(|_| PolicyError::Malformed("The policy is not in the valid JSON format.".into()))?;
    if !document.is_object() {
        return Err(PolicyError::Malformed("The policy is not in the valid JSON format.".into()));
    }
    let minified = document.to_string();
    Ok(miniz_oxide::deflate::compress_to_vec(minified.as_bytes(), 6).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

    #[test]
    fn no_policy_and_no_tags_report_no_packed_size() {
        assert_eq!(SessionPolicies::default().packed_size(), Ok(None));
    }

    #[test]
    fn a_small_policy_uses_a_few_percent() {
        let p = SessionPolicies { policy: Some(POLICY), ..Default::default() };
        let size = p.packed_size().ok().flatten().unwrap_or(-1);
        assert!((1..=10).contains(&size), "{size}");
    }

    #[test]
    fn tags_count_towards_the_packed_size() {
        let without = SessionPolicies { policy: Some(POLICY), ..Default::default() };
        let with =
            SessionPolicies { policy: Some(POLICY), tags: vec![("Project", "kagami"); 20], ..Default::default() };
        let (a, b) = (without.packed_size(), with.packed_size());
        assert!(matches!((a, b), (Ok(Some(a)), Ok(Some(b))) if b > a));
    }

    #[test]
    fn policy_that_is_not_json_is_malformed() {
        let p = SessionPolicies { policy: Some("{not json"), ..Default::default() };
        assert!(matches!(p.packed_size(), Err(PolicyError::Malformed(_))));
        let p = SessionPolicies { policy: Some("[1,2]"), ..Default::default() };
        assert!(matches!(p.packed_size(), Err(PolicyError::Malformed(_))));
    }

    #[test]
    fn fifty_long_tags_exceed_the_packed_space() {
        let key = "k".repeat(128);
        let value = "v".repeat(256);
        let p = SessionPolicies { tags: vec![(key.as_str(), value.as_str()); 50], ..Default::default() };
        match p.packed_size() {
            Err(PolicyError::TooLarge(m)) => {
                assert!(m.starts_with("Packed size of session tags consumes "), "{m}");
                assert!(m.ends_with("% of allotted space."), "{m}");
            }
            other => panic!("expected PackedPolicyTooLarge, got {other:?}"),
        }
    }
}
