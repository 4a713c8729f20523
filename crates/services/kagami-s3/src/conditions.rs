//! Conditional requests: If-Match / If-None-Match / If-Modified-Since /
//! If-Unmodified-Since on reads (304, 412), the same four on a copy's source (412
//! only), and If-Match / If-None-Match on writes.
//!
//! S3 follows RFC 7232's precedence: a true If-Match makes If-Unmodified-Since
//! irrelevant, and If-None-Match, when present, decides alone over If-Modified-Since.

use crate::errors::{header_not_implemented, no_such_key, not_modified};
/// Kept here too: other modules evaluate conditions with it (DeleteObjects).
pub use crate::errors::precondition_failed;
use crate::persistence::ObjectRecord;
use kagami_core::{ServiceError, Timestamp};

/// The four conditions of a request, by the names S3 reports in `Condition`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

/// Why a condition stopped a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// 412, naming the condition that did not hold.
    Precondition(&'static str),
    /// 304: the client's copy is current.
    NotModified,
}

impl Conditions<'_> {
    /// Evaluates the conditions against `record` at `now_ms`.
    pub fn evaluate(&self, record: &ObjectRecord, now_ms: i64) -> Result<(), Failed> {
        let modified = seconds(record.last_modified);
        match self.if_match {
            Some(tags) if !etag_matches(tags, &record.etag) => return Err(Failed::Precondition("If-Match")),
            Some(_) => {}
            None => {
                if let Some(t) = self.if_unmodified_since
                    && modified > seconds(t.as_millis())
                {
                    return Err(Failed::Precondition("If-Unmodified-Since"));
                }
            }
        }
        match self.if_none_match {
            Some(tags) if etag_matches(tags, &record.etag) => return Err(Failed::NotModified),
            Some(_) => {}
            None => {
                // A date in the future is not a valid validator (RFC 7232 3.3): ignored.
                if let Some(t) = self.if_modified_since
                    && t.as_millis() <= now_ms
                    && modified <= seconds(t.as_millis())
                {
                    return Err(Failed::NotModified);
                }
            }
        }
        Ok(())
    }

    /// GetObject / HeadObject: 412 PreconditionFailed or 304 Not Modified (with the
    /// ETag and Last-Modified a cache needs).
    pub fn check_read(&self, record: &ObjectRecord, now_ms: i64) -> Result<(), ServiceError> {
        self.evaluate(record, now_ms).map_err(|f| match f {
            Failed::Precondition(condition) => precondition_failed(condition),
            Failed::NotModified => not_modified(
                &record.etag,
                &Timestamp::from_millis(record.last_modified).to_rfc822(),
            ),
        })
    }

    /// CopyObject's `x-amz-copy-source-if-*`: every failure is a 412.
    pub fn check_copy_source(&self, record: &ObjectRecord, now_ms: i64) -> Result<(), ServiceError> {
        self.evaluate(record, now_ms).map_err(|f| {
            let condition = match f {
                Failed::Precondition("If-Match") => "x-amz-copy-source-If-Match",
                Failed::Precondition(_) => "x-amz-copy-source-If-Unmodified-Since",
                Failed::NotModified if self.if_none_match.is_some() => "x-amz-copy-source-If-None-Match",
                Failed::NotModified => "x-amz-copy-source-If-Modified-Since",
            };
            precondition_failed(condition)
        })
    }
}

/// Conditional writes (PutObject, CopyObject's destination): `If-None-Match: *` fails
/// when the key has a current object, `If-Match` when it has none (404) or another ETag.
/// Called before the body is received and again under the bucket's write lock.
pub fn check_write(
    key: &str,
    current: Option<&ObjectRecord>,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<(), ServiceError> {
    if let Some(value) = if_none_match {
        if value.trim() != "*" {
            return Err(header_not_implemented("If-None-Match"));
        }
        if current.is_some() {
            return Err(precondition_failed("If-None-Match"));
        }
    }
    if let Some(tags) = if_match {
        let record = current.ok_or_else(|| no_such_key(key))?;
        if !etag_matches(tags, &record.etag) {
            return Err(precondition_failed("If-Match"));
        }
    }
    Ok(())
}

/// Whether a list of entity tags (quoted or not, `W/` weak tags compared weakly, `*`
/// for any) names `etag`.
pub fn etag_matches(tags: &str, etag: &str) -> bool {
    let bare = unquote(etag);
    tags.split(',').map(str::trim).any(|t| {
        t == "*" || unquote(t.strip_prefix("W/").unwrap_or(t)) == bare
    })
}

fn unquote(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag)
}

/// HTTP dates have whole seconds; Last-Modified is compared at that precision.
fn seconds(millis: i64) -> i64 {
    millis.div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LM: i64 = 1_700_000_000_500;

    fn object() -> ObjectRecord {
        ObjectRecord {
            etag: "\"abc\"".into(),
            last_modified: LM,
            ..Default::default()
        }
    }

    fn eval(c: Conditions) -> Result<(), Failed> {
        c.evaluate(&object(), LM + 3_600_000)
    }

    #[test]
    fn etags_match_quoted_unquoted_weak_listed_and_star() {
        for tags in ["\"abc\"", "abc", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(etag_matches(tags, "\"abc\""), "{tags}");
        }
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    #[test]
    fn aws_precedence_between_etag_and_date_conditions() {
        let before = Timestamp::from_millis(LM - 10_000);
        let after = Timestamp::from_millis(LM + 10_000);
        let same_second = Timestamp::from_millis(LM - 500);
        // If-Match true + If-Unmodified-Since false: 200.
        assert_eq!(eval(Conditions { if_match: Some("abc"), if_unmodified_since: Some(&before), ..Default::default() }), Ok(()));
        assert_eq!(eval(Conditions { if_unmodified_since: Some(&before), ..Default::default() }), Err(Failed::Precondition("If-Unmodified-Since")));
        assert_eq!(eval(Conditions { if_unmodified_since: Some(&same_second), ..Default::default() }), Ok(()));
        assert_eq!(eval(Conditions { if_match: Some("zzz"), ..Default::default() }), Err(Failed::Precondition("If-Match")));
        // If-None-Match false + If-Modified-Since true: 304.
        assert_eq!(eval(Conditions { if_none_match: Some("abc"), if_modified_since: Some(&before), ..Default::default() }), Err(Failed::NotModified));
        // If-None-Match true decides alone.
        assert_eq!(eval(Conditions { if_none_match: Some("zzz"), if_modified_since: Some(&after), ..Default::default() }), Ok(()));
        assert_eq!(eval(Conditions { if_modified_since: Some(&after), ..Default::default() }), Err(Failed::NotModified));
        assert_eq!(eval(Conditions { if_modified_since: Some(&same_second), ..Default::default() }), Err(Failed::NotModified));
        assert_eq!(eval(Conditions { if_modified_since: Some(&before), ..Default::default() }), Ok(()));
        // Failed preconditions win over 304.
        assert_eq!(eval(Conditions { if_match: Some("zzz"), if_none_match: Some("abc"), ..Default::default() }), Err(Failed::Precondition("If-Match")));
        // A future If-Modified-Since is ignored.
        let future = Timestamp::from_millis(LM + 7_200_000);
        assert_eq!(eval(Conditions { if_modified_since: Some(&future), ..Default::default() }), Ok(()));
    }

    #[test]
    fn conditional_writes() {
        let o = object();
        assert_eq!(check_write("k", Some(&o), None, Some("*")).unwrap_err().status, 412);
        assert!(check_write("k", None, None, Some("*")).is_ok());
        assert_eq!(check_write("k", None, None, Some("\"abc\"")).unwrap_err().status, 501);
        assert_eq!(check_write("k", None, Some("\"abc\""), None).unwrap_err().code, "NoSuchKey");
        assert_eq!(check_write("k", Some(&o), Some("\"abd\""), None).unwrap_err().status, 412);
        assert!(check_write("k", Some(&o), Some("\"abc\""), None).is_ok());
    }
}
