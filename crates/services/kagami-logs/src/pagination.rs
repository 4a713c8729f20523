//! The opaque nextToken of the Describe* operations: an offset into the ordered result.

use crate::errors::{constraint, invalid_token};
use crate::generated::LogsError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Checks `limit` against its documented range and applies the default.
pub(crate) fn limit(limit: Option<i32>, max: i32, default: i32) -> Result<usize, LogsError> {
    match limit {
        None => Ok(usize::try_from(default).unwrap_or(1)),
        Some(l) if l < 1 => Err(constraint(l, "limit", "Member must have value greater than or equal to 1")),
        Some(l) if l > max => Err(constraint(l, "limit", &format!("Member must have value less than or equal to {max}"))),
        Some(l) => Ok(usize::try_from(l).unwrap_or(1)),
    }
}

pub(crate) fn page<T>(items: Vec<T>, token: Option<&str>, limit: usize) -> Result<(Vec<T>, Option<String>), LogsError> {
    let start = match token {
        None => 0,
        Some(t) => decode(t).ok_or_else(invalid_token)?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = (end < total).then(|| encode(end));
    Ok((page, next))
}

fn encode(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode(token: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("offset:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once() {
        let (a, t) = page((0..5).collect(), None, 2).unwrap();
        assert_eq!(a, vec![0, 1]);
        let (b, t) = page((0..5).collect(), t.as_deref(), 2).unwrap();
        assert_eq!(b, vec![2, 3]);
        let (c, t) = page((0..5).collect(), t.as_deref(), 2).unwrap();
        assert_eq!((c, t), (vec![4], None));
        assert!(page::<i32>(vec![], Some("garbage!"), 2).is_err());
    }
}
