//! Lambda event filtering: FilterCriteria patterns over each record, in the syntax of
//! EventBridge patterns (exact values, prefix, suffix, equals-ignore-case, anything-but,
//! numeric, exists). A record is delivered when any filter matches it.
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>

use serde_json::Value as Json;

/// The patterns of a mapping, parsed.
#[derive(Debug, Clone, Default)]
pub struct Filters(Vec<Json>);

impl Filters {
    /// Parses the patterns; `None` when one is not a valid pattern.
    pub fn parse(patterns: &[String]) -> Option<Filters> {
        let mut out = Vec::new();
        for p in patterns {
            let json: Json = serde_json::from_str(p).ok()?;
            if !valid_object(&json) {
                return None;
            }
            out.push(json);
        }
        Some(Filters(out))
    }

    /// No filters: everything is delivered.
    pub fn matches(&self, record: &Json) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| matches_object(p, Some(record)))
    }
}

fn valid_object(p: &Json) -> bool {
    match p {
        Json::Object(m) => m.values().all(|v| match v {
            Json::Object(_) => valid_object(v),
            Json::Array(rules) => !rules.is_empty() && rules.iter().all(valid_rule),
            _ => false,
        }),
        _ => false,
    }
}

fn valid_rule(rule: &Json) -> bool {
    let Json::Object(m) = rule else {
        return !rule.is_array();
    };
    if m.len() != 1 {
        return false;
    }
    let Some((op, arg)) = m.iter().next() else { return false };
    match op.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => arg.is_string(),
        "exists" => arg.is_boolean(),
        "anything-but" => match arg {
            Json::Array(values) => !values.is_empty() && values.iter().all(|v| v.is_string() || v.is_number()),
            Json::Object(inner) => inner.len() == 1 && inner.iter().all(|(k, v)| (k == "prefix" || k == "suffix") && v.is_string()),
            Json::String(_) | Json::Number(_) => true,
            _ => false,
        },
        "numeric" => numeric_valid(arg),
        _ => false,
    }
}

fn numeric_valid(arg: &Json) -> bool {
    let Json::Array(parts) = arg else { return false };
    if parts.is_empty() || parts.len() % 2 != 0 || parts.len() > 4 {
        return false;
    }
    parts.chunks(2).all(|c| {
        matches!(c.first().and_then(Json::as_str), Some("=" | "<" | "<=" | ">" | ">=")) && c.get(1).is_some_and(Json::is_number)
    })
}

fn matches_object(pattern: &Json, event: Option<&Json>) -> bool {
    let Json::Object(fields) = pattern else { return false };
    fields.iter().all(|(key, p)| {
        let value = event.and_then(|e| e.get(key));
        match p {
            // A nested pattern over a missing field still matches `exists: false` below it.
            Json::Object(_) => matches_object(p, value.filter(|v| v.is_object())),
            Json::Array(rules) => rules.iter().any(|r| matches_rule(r, value)),
            _ => false,
        }
    })
}

fn matches_rule(rule: &Json, value: Option<&Json>) -> bool {
    if let Some(exists) = rule.get("exists").and_then(Json::as_bool) {
        return value.is_some() == exists;
    }
    match value {
        None => false,
        Some(Json::Array(items)) => items.iter().any(|v| matches_leaf(rule, v)),
        Some(v) => matches_leaf(rule, v),
    }
}

fn matches_leaf(rule: &Json, v: &Json) -> bool {
    let Json::Object(m) = rule else {
        return equal(rule, v);
    };
    let Some((op, arg)) = m.iter().next() else { return false };
    let text = v.as_str();
    match op.as_str() {
        "prefix" => text.zip(arg.as_str()).is_some_and(|(t, p)| t.starts_with(p)),
        "suffix" => text.zip(arg.as_str()).is_some_and(|(t, s)| t.ends_with(s)),
        "equals-ignore-case" => text.zip(arg.as_str()).is_some_and(|(t, s)| t.to_lowercase() == s.to_lowercase()),
        "anything-but" => match arg {
            Json::Array(values) => !values.iter().any(|a| equal(a, v)),
            Json::Object(inner) => match (inner.get("prefix").and_then(Json::as_str), inner.get("suffix").and_then(Json::as_str), text) {
                (Some(p), _, Some(t)) => !t.starts_with(p),
                (_, Some(s), Some(t)) => !t.ends_with(s),
                _ => false,
            },
            other => !equal(other, v),
        },
        "numeric" => v.as_f64().is_some_and(|n| numeric(arg, n)),
        _ => false,
    }
}

fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn numeric(arg: &Json, n: f64) -> bool {
    let Json::Array(parts) = arg else { return false };
    parts.chunks(2).all(|c| {
        let bound = c.get(1).and_then(Json::as_f64).unwrap_or(f64::NAN);
        match c.first().and_then(Json::as_str) {
            Some("=") => n == bound,
            Some("<") => n < bound,
            Some("<=") => n <= bound,
            Some(">") => n > bound,
            Some(">=") => n >= bound,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(p: &str) -> Filters {
        Filters::parse(&[p.to_string()]).unwrap_or_default()
    }

    #[test]
    fn exact_values_match_scalars_and_members_of_arrays() {
        let filters = f(r#"{"body": {"kind": ["order"], "n": [3]}}"#);
        assert!(filters.matches(&json!({"body": {"kind": "order", "n": 3.0}})));
        assert!(filters.matches(&json!({"body": {"kind": ["x", "order"], "n": 3}})));
        assert!(!filters.matches(&json!({"body": {"kind": "refund", "n": 3}})));
        assert!(!filters.matches(&json!({"body": "plain text"})));
    }

    #[test]
    fn operators_behave_as_eventbridge_patterns() {
        assert!(f(r#"{"a": [{"prefix": "ab"}]}"#).matches(&json!({"a": "abc"})));
        assert!(f(r#"{"a": [{"suffix": ".png"}]}"#).matches(&json!({"a": "x.png"})));
        assert!(f(r#"{"a": [{"anything-but": ["x", "y"]}]}"#).matches(&json!({"a": "z"})));
        assert!(!f(r#"{"a": [{"anything-but": "x"}]}"#).matches(&json!({"a": "x"})));
        assert!(!f(r#"{"a": [{"anything-but": "x"}]}"#).matches(&json!({})));
        assert!(f(r#"{"a": [{"anything-but": {"prefix": "tmp"}}]}"#).matches(&json!({"a": "real"})));
        assert!(f(r#"{"a": [{"numeric": [">", 0, "<=", 5]}]}"#).matches(&json!({"a": 5})));
        assert!(!f(r#"{"a": [{"numeric": [">", 0, "<=", 5]}]}"#).matches(&json!({"a": 6})));
        assert!(f(r#"{"a": [{"exists": true}]}"#).matches(&json!({"a": 1})));
        assert!(f(r#"{"a": {"b": [{"exists": false}]}}"#).matches(&json!({})));
        assert!(f(r#"{"a": [{"equals-ignore-case": "HeLLo"}]}"#).matches(&json!({"a": "hello"})));
    }

    #[test]
    fn any_filter_may_match_and_invalid_patterns_are_refused() {
        let filters = Filters::parse(&[r#"{"a": [1]}"#.into(), r#"{"b": [2]}"#.into()]).unwrap_or_default();
        assert!(filters.matches(&json!({"b": 2})));
        assert!(Filters::parse(&["{\"a\": 1}".into()]).is_none());
        assert!(Filters::parse(&["{\"a\": []}".into()]).is_none());
        assert!(Filters::parse(&["{\"a\": [{\"numeric\": [\">\"]}]}".into()]).is_none());
        assert!(Filters::parse(&["not json".into()]).is_none());
        assert!(Filters::default().matches(&json!({"anything": 1})));
    }
}
