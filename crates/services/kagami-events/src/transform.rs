//! What a target receives: the whole event, a constant `Input`, the part of the event
//! an `InputPath` selects, or an `InputTransformer`'s template filled from the event.
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html

use crate::generated::{InputTransformer, Target};
use serde_json::Value as Json;

/// The rule an event matched, for the `<aws.events.rule-*>` variables.
pub(crate) struct RuleRef<'a> {
    pub arn: &'a str,
    pub name: &'a str,
}

/// The text delivered to `target` for `event`.
pub(crate) fn target_input(target: &Target, event: &Json, rule: &RuleRef<'_>) -> String {
    if let Some(input) = &target.input {
        return input.clone();
    }
    if let Some(path) = &target.input_path {
        return select(event, path).map_or_else(|| "null".into(), Json::to_string);
    }
    if let Some(t) = &target.input_transformer {
        return transform(t, event, rule);
    }
    event.to_string()
}

/// A JSONPath of the simple form EventBridge accepts: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`.
pub(crate) fn select<'a>(event: &'a Json, path: &str) -> Option<&'a Json> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut at = event;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            at = at.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let key = r[..end].trim();
            at = match key.strip_prefix(['\'', '"']).and_then(|k| k.strip_suffix(['\'', '"'])) {
                Some(name) => at.get(name)?,
                None => at.get(key.parse::<usize>().ok()?)?,
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(at)
}

/// Whether `path` is one `select` understands.
pub(crate) fn valid_path(path: &str) -> bool {
    let p = path.trim();
    p == "$" || p.starts_with("$.") || p.starts_with("$[")
}

fn transform(t: &InputTransformer, event: &Json, rule: &RuleRef<'_>) -> String {
    let value_of = |name: &str| -> Option<Json> {
        if let Some(path) = t.input_paths_map.as_ref().and_then(|m| m.get(name)) {
            return Some(select(event, path).cloned().unwrap_or(Json::Null));
        }
        match name {
            "aws.events.rule-arn" => Some(Json::from(rule.arn)),
            "aws.events.rule-name" => Some(Json::from(rule.name)),
            "aws.events.event.ingestion-time" => Some(event.get("time").cloned().unwrap_or(Json::Null)),
            "aws.events.event" | "aws.events.event.json" => Some(event.clone()),
            _ => None,
        }
    };
    let template = &t.input_template;
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && let Some(value) = value_of(&rest[1..end])
        {
            match (in_string, &value) {
                // Inside a JSON string a string goes in without its quotes.
                (true, Json::String(s)) => out.push_str(json_string_body(s).as_str()),
                (true, Json::Null) => {}
                (true, v) => out.push_str(json_string_body(&v.to_string()).as_str()),
                (false, v) => out.push_str(&v.to_string()),
            }
            rest = &rest[end + 1..];
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            _ => escaped = false,
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `s` escaped as inside a JSON string, without the surrounding quotes.
fn json_string_body(s: &str) -> String {
    let quoted = Json::from(s).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use serde_json::json;

    #[test]
    fn paths() {
        let e = json!({"detail": {"a": [1, {"b": "x"}], "c-d": true}});
        assert_eq!(select(&e, "$.detail.a[1].b"), Some(&json!("x")));
        assert_eq!(select(&e, "$.detail['c-d']"), Some(&json!(true)));
        assert_eq!(select(&e, "$"), Some(&e));
        assert_eq!(select(&e, "$.nope"), None);
    }

    #[test]
    fn templates_quote_by_position() {
        let e = json!({"detail": {"id": "i-1", "n": 3}, "time": "T"});
        let t = InputTransformer {
            input_paths_map: Some(IndexMap::from([("id".to_string(), "$.detail.id".to_string()), ("n".to_string(), "$.detail.n".to_string())])),
            input_template: r#"{"i": <id>, "s": "instance <id> has <n>", "r": "<aws.events.rule-name>", "n": <n>}"#.into(),
        };
        let rule = RuleRef { arn: "arn", name: "r1" };
        let out: Json = serde_json::from_str(&transform(&t, &e, &rule)).unwrap();
        assert_eq!(out, json!({"i": "i-1", "s": "instance i-1 has 3", "r": "r1", "n": 3}));
        let plain = InputTransformer { input_paths_map: t.input_paths_map.clone(), input_template: "\"<id> is up\"".into() };
        assert_eq!(transform(&plain, &e, &rule), "\"i-1 is up\"");
    }
}
