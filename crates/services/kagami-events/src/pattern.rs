//! Event patterns: parsing with AWS's validation and matching against an event, with
//! every content filter EventBridge documents (exact values, prefix, suffix,
//! equals-ignore-case, wildcard, anything-but, numeric ranges, exists, cidr and `$or`).
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html

use serde_json::{Map, Value as Json};
use std::net::IpAddr;

/// Numbers in patterns lie within ±5.0e9.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-numeric-matching
const MAX_NUMERIC: f64 = 5.0e9;

/// A parsed, valid event pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    root: Node,
}

#[derive(Debug, Clone)]
struct Node {
    fields: Vec<(String, Field)>,
    /// Each `$or` of this object: one of its alternatives must match.
    ors: Vec<Vec<Node>>,
}

#[derive(Debug, Clone)]
enum Field {
    Nested(Node),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(Json),
    Prefix { value: String, ignore_case: bool },
    Suffix { value: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(Op, f64)>),
    Exists(bool),
    Cidr { net: IpAddr, bits: u8 },
}

#[derive(Debug, Clone)]
enum AnythingBut {
    Values(Vec<Json>),
    Prefix(String),
    Suffix(String),
    IgnoreCase(Vec<String>),
    Wildcard(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Lt,
    Le,
    Eq,
    Gt,
    Ge,
}

impl Pattern {
    /// Parses `text`; the error is the reason AWS gives after "Event pattern is not valid. Reason: ".
    pub(crate) fn parse(text: &str) -> Result<Pattern, String> {
        let json: Json = serde_json::from_str(text).map_err(|e| format!("Filter is not valid JSON: {e}"))?;
        let Json::Object(obj) = json else { return Err("Filter is not an object".into()) };
        Ok(Pattern { root: parse_node(&obj)? })
    }

    /// Whether `event` (the whole envelope) matches.
    pub(crate) fn matches(&self, event: &Json) -> bool {
        node_matches(&self.root, event)
    }
}

fn parse_node(obj: &Map<String, Json>) -> Result<Node, String> {
    let mut node = Node { fields: Vec::new(), ors: Vec::new() };
    for (key, value) in obj {
        if key == "$or" {
            let Json::Array(alternatives) = value else { return Err("Value of $or must be an array".into()) };
            if alternatives.len() < 2 {
                return Err("Or relationship must contain at least 2 items".into());
            }
            let mut group = Vec::new();
            for alt in alternatives {
                let Json::Object(o) = alt else { return Err("Elements of $or must be objects".into()) };
                group.push(parse_node(o)?);
            }
            node.ors.push(group);
            continue;
        }
        let field = match value {
            Json::Object(o) if o.is_empty() => return Err(format!("Empty objects are not allowed in \"{key}\"")),
            Json::Object(o) => Field::Nested(parse_node(o)?),
            Json::Array(items) if items.is_empty() => return Err("Empty arrays are not allowed".into()),
            Json::Array(items) => Field::Leaf(items.iter().map(parse_matcher).collect::<Result<_, _>>()?),
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        };
        node.fields.push((key.clone(), field));
    }
    Ok(node)
}

fn parse_matcher(item: &Json) -> Result<Matcher, String> {
    let obj = match item {
        Json::Object(o) => o,
        Json::Array(_) => return Err("Arrays are not allowed inside arrays".into()),
        scalar => return Ok(Matcher::Exact(scalar.clone())),
    };
    let mut entries = obj.iter();
    let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
        return Err("Match objects must contain exactly one match type".into());
    };
    match op.as_str() {
        "prefix" | "suffix" => {
            let (value, ignore_case) = match arg {
                Json::String(s) => (s.clone(), false),
                Json::Object(o) => match (o.len(), o.get("equals-ignore-case")) {
                    (1, Some(Json::String(s))) => (s.clone(), true),
                    _ => return Err(format!("Unsupported {op} pattern: only equals-ignore-case is allowed in it")),
                },
                _ => return Err(format!("{op} match pattern must be a string")),
            };
            Ok(if op == "prefix" { Matcher::Prefix { value, ignore_case } } else { Matcher::Suffix { value, ignore_case } })
        }
        "equals-ignore-case" => match arg {
            Json::String(s) => Ok(Matcher::EqualsIgnoreCase(s.clone())),
            _ => Err("equals-ignore-case match pattern must be a string".into()),
        },
        "wildcard" => match arg {
            Json::String(s) => {
                validate_wildcard(s)?;
                Ok(Matcher::Wildcard(s.clone()))
            }
            _ => Err("wildcard match pattern must be a string".into()),
        },
        "anything-but" => parse_anything_but(arg).map(Matcher::AnythingBut),
        "numeric" => parse_numeric(arg).map(Matcher::Numeric),
        "exists" => match arg {
            Json::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err("exists match pattern must be either true or false.".into()),
        },
        "cidr" => match arg {
            Json::String(s) => parse_cidr(s),
            _ => Err("prefix match pattern must be a string".into()),
        },
        other => Err(format!("Unrecognized match type {other}")),
    }
}

fn parse_anything_but(arg: &Json) -> Result<AnythingBut, String> {
    match arg {
        Json::String(_) | Json::Number(_) => Ok(AnythingBut::Values(vec![arg.clone()])),
        Json::Array(items) if items.is_empty() => Err("Empty arrays are not allowed".into()),
        Json::Array(items) => items
            .iter()
            .map(|i| match i {
                Json::String(_) | Json::Number(_) => Ok(i.clone()),
                _ => Err("Inside anything but list, start|null|boolean is not supported.".to_string()),
            })
            .collect::<Result<_, _>>()
            .map(AnythingBut::Values),
        Json::Object(o) => {
            let mut entries = o.iter();
            let (Some((op, value)), None) = (entries.next(), entries.next()) else {
                return Err("Value of anything-but must be an array or single string/number value.".into());
            };
            let strings = |v: &Json| -> Result<Vec<String>, String> {
                match v {
                    Json::String(s) => Ok(vec![s.clone()]),
                    Json::Array(a) if !a.is_empty() => a
                        .iter()
                        .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("Inside {op} list, number|start|null|boolean is not supported.")))
                        .collect(),
                    _ => Err(format!("{op} match pattern must be a string")),
                }
            };
            match op.as_str() {
                "prefix" => value.as_str().map(|s| AnythingBut::Prefix(s.to_string())).ok_or_else(|| "prefix match pattern must be a string".into()),
                "suffix" => value.as_str().map(|s| AnythingBut::Suffix(s.to_string())).ok_or_else(|| "suffix match pattern must be a string".into()),
                "equals-ignore-case" => strings(value).map(AnythingBut::IgnoreCase),
                "wildcard" => {
                    let patterns = strings(value)?;
                    for p in &patterns {
                        validate_wildcard(p)?;
                    }
                    Ok(AnythingBut::Wildcard(patterns))
                }
                other => Err(format!("Unsupported anything-but pattern: {other}")),
            }
        }
        _ => Err("Value of anything-but must be an array or single string/number value.".into()),
    }
}

fn parse_numeric(arg: &Json) -> Result<Vec<(Op, f64)>, String> {
    let Json::Array(items) = arg else { return Err("Value of numeric must be an array.".into()) };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err("Value of numeric must be an array of one or two operator and number pairs.".into());
    }
    let mut ranges = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("<") => Op::Lt,
            Some("<=") => Op::Le,
            Some("=") => Op::Eq,
            Some(">") => Op::Gt,
            Some(">=") => Op::Ge,
            Some(other) => return Err(format!("Unrecognized numeric range operator: {other}")),
            None => return Err("Value of numeric must be an array of operator and number pairs.".into()),
        };
        let Some(n) = pair[1].as_f64() else { return Err(format!("Value of {} must be numeric", pair[0].as_str().unwrap_or_default())) };
        if !(-MAX_NUMERIC..=MAX_NUMERIC).contains(&n) {
            return Err(format!("Value of {} must be between -5.0E9 and 5.0E9 inclusive", pair[0].as_str().unwrap_or_default()));
        }
        ranges.push((op, n));
    }
    if let [(first, low), (second, high)] = ranges.as_slice() {
        if !matches!(first, Op::Gt | Op::Ge) || !matches!(second, Op::Lt | Op::Le) {
            return Err("Bad numeric range operator: a range needs a lower bound (> or >=) then an upper bound (< or <=)".into());
        }
        if low >= high {
            return Err("Bottom must be less than top".into());
        }
    }
    Ok(ranges)
}

fn parse_cidr(s: &str) -> Result<Matcher, String> {
    let Some((addr, bits)) = s.split_once('/') else { return Err(format!("Malformed CIDR, one '/' required: {s}")) };
    let net: IpAddr = addr.parse().map_err(|_| format!("Nonstandard IP address: {addr}"))?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    let bits: u8 = bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| format!("Malformed CIDR, mask bits must be an integer between 0 and {max}: {s}"))?;
    Ok(Matcher::Cidr { net, bits })
}

fn validate_wildcard(s: &str) -> Result<(), String> {
    if s.contains("**") {
        return Err(format!("Consecutive wildcard characters at pos {}", s.find("**").unwrap_or(0) + 1));
    }
    Ok(())
}

fn node_matches(node: &Node, event: &Json) -> bool {
    let empty = Map::new();
    let obj = event.as_object().unwrap_or(&empty);
    node.fields.iter().all(|(key, field)| field_matches(field, obj.get(key)))
        && node.ors.iter().all(|group| group.iter().any(|alt| node_matches(alt, event)))
}

fn field_matches(field: &Field, value: Option<&Json>) -> bool {
    match field {
        Field::Nested(node) => match value {
            Some(Json::Array(items)) => items.iter().any(|i| i.is_object() && node_matches(node, i)),
            Some(v) => node_matches(node, v),
            None => node_matches(node, &Json::Null),
        },
        Field::Leaf(matchers) => {
            let candidates: Vec<&Json> = match value {
                None | Some(Json::Object(_)) => Vec::new(),
                Some(Json::Array(items)) => items.iter().filter(|i| !i.is_object() && !i.is_array()).collect(),
                Some(v) => vec![v],
            };
            matchers.iter().any(|m| match m {
                Matcher::Exists(wanted) => *wanted != candidates.is_empty(),
                m => candidates.iter().any(|c| leaf_matches(m, c)),
            })
        }
    }
}

fn leaf_matches(m: &Matcher, v: &Json) -> bool {
    match m {
        Matcher::Exact(expected) => json_equal(expected, v),
        Matcher::Prefix { value, ignore_case } => v.as_str().is_some_and(|s| match ignore_case {
            true => s.to_lowercase().starts_with(&value.to_lowercase()),
            false => s.starts_with(value.as_str()),
        }),
        Matcher::Suffix { value, ignore_case } => v.as_str().is_some_and(|s| match ignore_case {
            true => s.to_lowercase().ends_with(&value.to_lowercase()),
            false => s.ends_with(value.as_str()),
        }),
        Matcher::EqualsIgnoreCase(expected) => v.as_str().is_some_and(|s| s.to_lowercase() == expected.to_lowercase()),
        Matcher::Wildcard(p) => v.as_str().is_some_and(|s| wildcard_matches(p, s)),
        Matcher::AnythingBut(but) => match but {
            AnythingBut::Values(values) => !v.is_null() && !values.iter().any(|x| json_equal(x, v)),
            AnythingBut::Prefix(p) => v.as_str().is_some_and(|s| !s.starts_with(p.as_str())),
            AnythingBut::Suffix(p) => v.as_str().is_some_and(|s| !s.ends_with(p.as_str())),
            AnythingBut::IgnoreCase(values) => v.as_str().is_some_and(|s| !values.iter().any(|x| x.to_lowercase() == s.to_lowercase())),
            AnythingBut::Wildcard(patterns) => v.as_str().is_some_and(|s| !patterns.iter().any(|p| wildcard_matches(p, s))),
        },
        Matcher::Numeric(ranges) => v.as_f64().is_some_and(|n| {
            ranges.iter().all(|(op, bound)| match op {
                Op::Lt => n < *bound,
                Op::Le => n <= *bound,
                Op::Eq => n == *bound,
                Op::Gt => n > *bound,
                Op::Ge => n >= *bound,
            })
        }),
        Matcher::Exists(_) => false,
        Matcher::Cidr { net, bits } => v.as_str().and_then(|s| s.parse::<IpAddr>().ok()).is_some_and(|ip| in_cidr(ip, *net, *bits)),
    }
}

/// Exact matching compares numbers as written, as EventBridge does: 300 does not match
/// 300.0 (only `numeric` compares values).
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html
fn json_equal(a: &Json, b: &Json) -> bool {
    a == b
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard_matches(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => toks.push(Tok::Char(chars.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let text: Vec<char> = s.chars().collect();
    // Greedy matching with backtracking to the last star: linear for patterns without
    // consecutive stars, which the parser rejects.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(pattern: &str, event: Json) -> bool {
        Pattern::parse(pattern).unwrap().matches(&event)
    }

    #[test]
    fn exact_values_arrays_and_nesting() {
        let e = json!({"source": "a.b", "detail": {"n": 5, "tags": ["x", "y"], "z": null}});
        assert!(m(r#"{"source":["a.b","c"]}"#, e.clone()));
        assert!(!m(r#"{"source":["c"]}"#, e.clone()));
        assert!(m(r#"{"detail":{"n":[5]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"n":[5.0]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"tags":["y"]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"z":[null]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"missing":["x"]}}"#, e));
    }

    #[test]
    fn content_filters() {
        let e = json!({"detail": {"s": "Hello.png", "n": 10, "ip": "10.0.0.7"}});
        assert!(m(r#"{"detail":{"s":[{"prefix":"Hel"}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"s":[{"prefix":{"equals-ignore-case":"hel"}}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"s":[{"suffix":".png"}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"s":[{"equals-ignore-case":"hello.PNG"}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"s":[{"wildcard":"H*.p*g"}]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"s":[{"wildcard":"*.jpg"}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"s":[{"anything-but":["x","y"]}]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"s":[{"anything-but":{"prefix":"He"}}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"n":[{"numeric":[">",5,"<=",10]}]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"n":[{"numeric":["<",10]}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"ip":[{"cidr":"10.0.1.0/24"}]}}"#, e.clone()));
        assert!(m(r#"{"detail":{"gone":[{"exists":false}]}}"#, e.clone()));
        assert!(!m(r#"{"detail":{"s":[{"exists":false}]}}"#, e.clone()));
        assert!(m(r#"{"$or":[{"detail":{"n":[1]}},{"detail":{"n":[10]}}]}"#, e));
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        for p in [
            "[]",
            "{\"source\":\"x\"}",
            "{\"a\":[{\"nope\":1}]}",
            "{\"a\":[{\"numeric\":[\">\",\"x\"]}]}",
            "{\"a\":[{\"numeric\":[\"<\",1,\">\",0]}]}",
            "{\"a\":[{\"exists\":\"yes\"}]}",
            "{\"a\":[{\"wildcard\":\"a**b\"}]}",
            "{\"a\":[{\"cidr\":\"10.0.0.0\"}]}",
            "{\"$or\":[{\"a\":[1]}]}",
            "not json",
        ] {
            assert!(Pattern::parse(p).is_err(), "{p}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_matches("*", ""));
        assert!(wildcard_matches("a*c", "abbbc"));
        assert!(!wildcard_matches("a*c", "abbbd"));
        assert!(wildcard_matches("a\\*c", "a*c"));
        assert!(!wildcard_matches("a\\*c", "abc"));
    }
}
