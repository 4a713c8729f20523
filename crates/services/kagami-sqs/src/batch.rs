//! The rules every *Batch operation shares: 1 to 10 entries with distinct, well-formed ids.

use crate::errors::batch_entry_code;
use crate::generated::{BatchResultErrorEntry, SqsError};
use kagami_protocol::ServiceError;
use std::collections::HashSet;

/// Entries per batch request.
pub const MAX_ENTRIES: usize = 10;
/// Batch entry ids: alphanumeric, hyphens and underscores, at most 80 characters.
pub const MAX_ID_LEN: usize = 80;

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks the entry ids of a batch; `entry` names the entry shape in AWS's message
/// ("There should be at least one SendMessageBatchRequestEntry in the request.").
pub fn check_entries<'a>(ids: impl ExactSizeIterator<Item = &'a str>, entry: &str) -> Result<(), SqsError> {
    let count = ids.len();
    if count == 0 {
        return Err(SqsError::EmptyBatchRequest(format!("There should be at least one {entry} in the request.")));
    }
    if count > MAX_ENTRIES {
        return Err(SqsError::TooManyEntriesInBatchRequest(format!(
            "Maximum number of entries per request are {MAX_ENTRIES}. You have sent {count}."
        )));
    }
    let mut seen = HashSet::with_capacity(count);
    for id in ids {
        if !valid_id(id) {
            return Err(SqsError::InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
                    .to_string(),
            ));
        }
        if !seen.insert(id) {
            return Err(SqsError::BatchEntryIdsNotDistinct(format!("Id {id} repeated.")));
        }
    }
    Ok(())
}

/// A failed entry of a batch result, with the code clients know.
pub fn failed(id: String, error: SqsError) -> BatchResultErrorEntry {
    let error = ServiceError::from(error);
    BatchResultErrorEntry {
        id,
        sender_fault: error.sender_fault,
        code: batch_entry_code(&error),
        message: Some(error.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(ids: &[&str]) -> Option<String> {
        check_entries(ids.iter().copied(), "SendMessageBatchRequestEntry").err().map(|e| ServiceError::from(e).code)
    }

    #[test]
    fn batch_rules() {
        assert_eq!(code(&["a", "b-1", "c_2"]), None);
        assert_eq!(code(&[]).as_deref(), Some("EmptyBatchRequest"));
        assert_eq!(code(&["a"; 11]).as_deref(), Some("TooManyEntriesInBatchRequest"));
        assert_eq!(code(&["a", "a"]).as_deref(), Some("BatchEntryIdsNotDistinct"));
        assert_eq!(code(&["a b"]).as_deref(), Some("InvalidBatchEntryId"));
        assert_eq!(code(&[&"x".repeat(81)]).as_deref(), Some("InvalidBatchEntryId"));
    }

    #[test]
    fn failed_entries_carry_the_legacy_code() {
        let entry = failed("1".into(), SqsError::MessageNotInflight("m".into()));
        assert_eq!(entry.code, "AWS.SimpleQueueService.MessageNotInflight");
        assert!(entry.sender_fault);
    }
}
