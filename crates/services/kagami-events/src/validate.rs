//! Names, tags and page limits, checked as EventBridge's front end checks them.
//! https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html

use crate::errors::{constraint, validation};
use crate::generated::{EventsError, Tag};
use std::collections::BTreeMap;

const MAX_RULE_NAME: usize = 64;
const MAX_BUS_NAME: usize = 256;
const MAX_TARGET_ID: usize = 64;
/// A resource has at most 50 tags.
/// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TagResource.html
const MAX_TAGS: usize = 50;
/// List operations return at most 100 items a page.
const MAX_LIMIT: i32 = 100;

fn name_chars(s: &str, slash: bool) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (slash && c == '/'))
}

pub(crate) fn rule_name(name: &str, member: &str) -> Result<(), EventsError> {
    if name.is_empty() || name.len() > MAX_RULE_NAME {
        return Err(constraint(name, member, "Member must have length less than or equal to 64"));
    }
    if !name_chars(name, false) {
        return Err(constraint(name, member, "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"));
    }
    Ok(())
}

pub(crate) fn target_id(id: &str) -> Result<(), EventsError> {
    if id.is_empty() || id.len() > MAX_TARGET_ID || !name_chars(id, false) {
        return Err(constraint(id, "targets.member.id", "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"));
    }
    Ok(())
}

pub(crate) fn bus_name(name: &str) -> Result<(), EventsError> {
    if name.is_empty() || name.len() > MAX_BUS_NAME {
        return Err(constraint(name, "name", "Member must have length less than or equal to 256"));
    }
    if !name_chars(name, true) {
        return Err(constraint(name, "name", "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+"));
    }
    if name.contains('/') {
        return Err(validation("Event bus name must not contain '/'."));
    }
    Ok(())
}

pub(crate) fn tags(tags: Option<Vec<Tag>>) -> Result<BTreeMap<String, String>, EventsError> {
    let tags = tags.unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(constraint("[...]", "tags", "Member must have length less than or equal to 50"));
    }
    let mut out = BTreeMap::new();
    for t in tags {
        if t.key.is_empty() || t.key.len() > 128 {
            return Err(constraint(&t.key, "tags.member.key", "Member must have length less than or equal to 128"));
        }
        if t.value.len() > 256 {
            return Err(constraint(&t.value, "tags.member.value", "Member must have length less than or equal to 256"));
        }
        out.insert(t.key, t.value);
    }
    Ok(out)
}

pub(crate) fn limit(limit: Option<i32>) -> Result<usize, EventsError> {
    match limit {
        None => Ok(usize::try_from(MAX_LIMIT).unwrap_or(100)),
        Some(l) if !(1..=MAX_LIMIT).contains(&l) => {
            Err(constraint(l, "limit", "Member must have value between 1 and 100"))
        }
        Some(l) => Ok(usize::try_from(l).unwrap_or(1)),
    }
}

/// One page of `items` from the opaque `token` on, and the token of the next page.
pub(crate) fn page<T>(items: Vec<T>, token: Option<&str>, limit: usize) -> Result<(Vec<T>, Option<String>), EventsError> {
    let start = match token {
        None => 0,
        Some(t) => t.strip_prefix("kagami-page-").and_then(|n| n.parse::<usize>().ok()).ok_or_else(|| validation("Invalid NextToken"))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    Ok((page, (end < total).then(|| format!("kagami-page-{end}"))))
}

pub(crate) fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect()
}
