//! The SNS subscription filter policy language: exact strings and numbers, prefix,
//! suffix, equals-ignore-case, anything-but, numeric ranges, exists, cidr and `$or`,
//! applied to message attributes or (scope `MessageBody`) to the JSON message body.
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>

use crate::errors::invalid_parameter;
use crate::generated::{MessageAttributeValue, SnsError};
use indexmap::IndexMap;
use serde_json::Value as Json;

/// "The total combination of values must not exceed 150."
pub const MAX_COMBINATIONS: usize = 150;
/// "A filter policy can have a maximum of 5 attribute names" (MessageAttributes scope).
pub const MAX_ATTRIBUTE_KEYS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

#[derive(Debug, Clone)]
pub struct FilterPolicy {
    root: Node,
}

#[derive(Debug, Clone, Default)]
struct Node {
    fields: Vec<(String, Field)>,
    /// Each `$or` is a list of alternatives, one of which must match.
    ors: Vec<Vec<Node>>,
}

#[derive(Debug, Clone)]
enum Field {
    Leaf(Vec<Condition>),
    Nested(Node),
}

#[derive(Debug, Clone)]
enum Condition {
    Exact(String),
    Number(f64),
    Bool(bool),
    Null,
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(AnythingBut),
    Numeric(Vec<(NumOp, f64)>),
    Exists(bool),
    Cidr { net: u32, mask: u32 },
}

#[derive(Debug, Clone)]
enum AnythingBut {
    Values(Vec<Scalar>),
    Prefix(String),
    Suffix(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NumOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One value a condition is tested against.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

fn err(detail: impl std::fmt::Display) -> SnsError {
    invalid_parameter(format!("FilterPolicy: {detail}"))
}

impl FilterPolicy {
    /// Parses and validates a policy as SetSubscriptionAttributes / Subscribe receive it.
    pub fn parse(text: &str, scope: Scope) -> Result<FilterPolicy, SnsError> {
        let json: Json = serde_json::from_str(text).map_err(|_| err("failed to parse JSON."))?;
        let Json::Object(map) = json else {
            return Err(err("Filter policy must be a JSON object"));
        };
        let root = parse_node(&map, scope)?;
        if scope == Scope::MessageAttributes && root.key_count() > MAX_ATTRIBUTE_KEYS {
            return Err(err("Filter policy can not have more than 5 keys"));
        }
        if root.combinations() > MAX_COMBINATIONS {
            return Err(err("Filter policy is too complex"));
        }
        Ok(FilterPolicy { root })
    }

    pub fn matches_attributes(&self, attributes: &IndexMap<String, MessageAttributeValue>) -> bool {
        self.root.matches(&|key: &str| attribute_values(attributes.get(key)?))
    }

    /// A body that is not a JSON object matches no policy with conditions.
    pub fn matches_body(&self, body: &str) -> bool {
        match serde_json::from_str::<Json>(body) {
            Ok(json @ Json::Object(_)) => self.root.matches_json(Some(&json)),
            _ => self.root.fields.is_empty() && self.root.ors.is_empty(),
        }
    }
}

fn parse_node(map: &serde_json::Map<String, Json>, scope: Scope) -> Result<Node, SnsError> {
    let mut node = Node::default();
    for (key, value) in map {
        if key == "$or" {
            let Json::Array(alternatives) = value else {
                return Err(err("\"$or\" must be an array of objects"));
            };
            if alternatives.len() < 2 {
                return Err(err("\"$or\" must have at least 2 alternatives"));
            }
            let mut parsed = Vec::with_capacity(alternatives.len());
            for alternative in alternatives {
                let Json::Object(m) = alternative else {
                    return Err(err("\"$or\" must be an array of objects"));
                };
                parsed.push(parse_node(m, scope)?);
            }
            node.ors.push(parsed);
            continue;
        }
        let field = match value {
            Json::Array(conditions) => {
                if conditions.is_empty() {
                    return Err(err("Empty arrays are not allowed"));
                }
                Field::Leaf(conditions.iter().map(parse_condition).collect::<Result<_, _>>()?)
            }
            Json::Object(m) if scope == Scope::MessageBody => Field::Nested(parse_node(m, scope)?),
            Json::Object(_) => {
                return Err(err("Filter policy scope MessageAttributes does not support nested filter policy"));
            }
            _ => return Err(err(format!("\"{key}\" must be an object or an array"))),
        };
        node.fields.push((key.clone(), field));
    }
    Ok(node)
}

fn scalar(value: &Json) -> Option<Scalar> {
    match value {
        Json::String(s) => Some(Scalar::Str(s.clone())),
        Json::Number(n) => n.as_f64().map(Scalar::Num),
        Json::Bool(b) => Some(Scalar::Bool(*b)),
        Json::Null => Some(Scalar::Null),
        _ => None,
    }
}

fn string_operand(op: &str, value: &Json) -> Result<String, SnsError> {
    match value {
        Json::String(s) => Ok(s.clone()),
        _ => Err(err(format!("{op} match pattern must be a string"))),
    }
}

fn parse_condition(value: &Json) -> Result<Condition, SnsError> {
    let object = match value {
        Json::String(s) => return Ok(Condition::Exact(s.clone())),
        Json::Number(n) => return n.as_f64().map(Condition::Number).ok_or_else(|| err("Invalid number")),
        Json::Bool(b) => return Ok(Condition::Bool(*b)),
        Json::Null => return Ok(Condition::Null),
        Json::Array(_) => return Err(err("Match value must be String, number, true, false, or null")),
        Json::Object(m) => m,
    };
    let mut entries = object.iter();
    let (Some((op, operand)), None) = (entries.next(), entries.next()) else {
        return Err(err("Only one key allowed in match expression"));
    };
    match op.as_str() {
        "prefix" => Ok(Condition::Prefix(string_operand(op, operand)?)),
        "suffix" => Ok(Condition::Suffix(string_operand(op, operand)?)),
        "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(string_operand(op, operand)?)),
        "exists" => match operand {
            Json::Bool(b) => Ok(Condition::Exists(*b)),
            _ => Err(err("exists match pattern must be either true or false.")),
        },
        "anything-but" => parse_anything_but(operand).map(Condition::AnythingBut),
        "numeric" => parse_numeric(operand).map(Condition::Numeric),
        "cidr" => parse_cidr(operand),
        other => Err(err(format!("Unrecognized match type {other}"))),
    }
}

fn parse_anything_but(operand: &Json) -> Result<AnythingBut, SnsError> {
    match operand {
        Json::String(_) | Json::Number(_) => Ok(AnythingBut::Values(scalar(operand).into_iter().collect())),
        Json::Array(values) if !values.is_empty() => values
            .iter()
            .map(|v| match v {
                Json::String(_) | Json::Number(_) => scalar(v).ok_or_else(|| err("Invalid number")),
                _ => Err(err("Inside anything but list, start|null|boolean is not supported.")),
            })
            .collect::<Result<_, _>>()
            .map(AnythingBut::Values),
        Json::Object(m) if m.len() == 1 => match m.iter().next() {
            Some((op, Json::String(s))) if op == "prefix" => Ok(AnythingBut::Prefix(s.clone())),
            Some((op, Json::String(s))) if op == "suffix" => Ok(AnythingBut::Suffix(s.clone())),
            Some((op, _)) if op == "prefix" || op == "suffix" => Err(err(format!("{op} match pattern must be a string"))),
            Some((op, _)) => Err(err(format!("Unsupported anything-but pattern: {op}"))),
            None => Err(err("Empty objects are not allowed")),
        },
        _ => Err(err("Value of anything-but must be an array or single string/number value.")),
    }
}

fn parse_numeric(operand: &Json) -> Result<Vec<(NumOp, f64)>, SnsError> {
    let Json::Array(items) = operand else {
        return Err(err("Value of numeric must be an array."));
    };
    let mut out = Vec::new();
    let mut it = items.iter();
    while let Some(op) = it.next() {
        let op_name = op.as_str().unwrap_or_default();
        let op = match op_name {
            "=" => NumOp::Eq,
            "<" => NumOp::Lt,
            "<=" => NumOp::Le,
            ">" => NumOp::Gt,
            ">=" => NumOp::Ge,
            _ => return Err(err(format!("Unrecognized numeric range operator: {op}"))),
        };
        let Some(n) = it.next().and_then(Json::as_f64) else {
            return Err(err(format!("Value of {op_name} must be numeric")));
        };
        out.push((op, n));
    }
    let valid = match out.as_slice() {
        [_] => true,
        [(lo, a), (hi, b)] => matches!(lo, NumOp::Gt | NumOp::Ge) && matches!(hi, NumOp::Lt | NumOp::Le) && a < b,
        _ => false,
    };
    if !valid {
        return Err(err("Bad numeric range operator"));
    }
    Ok(out)
}

fn parse_ipv4(s: &str) -> Option<u32> {
    let mut out = 0u32;
    let mut parts = 0;
    for p in s.split('.') {
        out = (out << 8) | u32::from(p.parse::<u8>().ok()?);
        parts += 1;
    }
    (parts == 4).then_some(out)
}

fn parse_cidr(operand: &Json) -> Result<Condition, SnsError> {
    let bad = || err(format!("Malformed CIDR, one '/' required: {operand}"));
    let (ip, bits) = operand.as_str().and_then(|s| s.split_once('/')).ok_or_else(bad)?;
    let ip = parse_ipv4(ip).ok_or_else(bad)?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32).ok_or_else(bad)?;
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    Ok(Condition::Cidr { net: ip & mask, mask })
}

/// The values of a message attribute as the policy sees them: a String.Array is its
/// elements; Binary attributes take no part in filtering.
fn attribute_values(attribute: &MessageAttributeValue) -> Option<Vec<Scalar>> {
    let value = attribute.string_value.as_deref();
    let kind = attribute.data_type.split('.').next().unwrap_or_default();
    match (kind, value) {
        ("String", Some(v)) if attribute.data_type == "String.Array" => match serde_json::from_str::<Json>(v) {
            Ok(Json::Array(items)) => Some(items.iter().filter_map(scalar).collect()),
            _ => Some(Vec::new()),
        },
        ("String", Some(v)) => Some(vec![Scalar::Str(v.to_string())]),
        ("Number", Some(v)) => Some(v.trim().parse::<f64>().map(Scalar::Num).into_iter().collect()),
        _ => Some(Vec::new()),
    }
}

impl Node {
    fn key_count(&self) -> usize {
        self.fields.len() + self.ors.iter().flatten().map(Node::key_count).sum::<usize>()
    }

    fn combinations(&self) -> usize {
        let fields = self.fields.iter().fold(1usize, |acc, (_, f)| {
            let n = match f {
                Field::Leaf(c) => c.len(),
                Field::Nested(n) => n.combinations(),
            };
            acc.saturating_mul(n.max(1))
        });
        self.ors.iter().fold(fields, |acc, alts| acc.saturating_mul(alts.iter().map(Node::combinations).sum::<usize>().max(1)))
    }

    /// Matching for message attributes: `lookup` gives a key's values, None when absent.
    fn matches(&self, lookup: &dyn Fn(&str) -> Option<Vec<Scalar>>) -> bool {
        let fields = self.fields.iter().all(|(key, field)| match field {
            Field::Leaf(conditions) => leaf_matches(conditions, lookup(key).as_deref()),
            Field::Nested(_) => false,
        });
        fields && self.ors.iter().all(|alts| alts.iter().any(|n| n.matches(lookup)))
    }

    fn matches_json(&self, json: Option<&Json>) -> bool {
        let fields = self.fields.iter().all(|(key, field)| {
            let child = json.and_then(|j| j.get(key));
            match field {
                Field::Leaf(conditions) => {
                    let values = child.map(|v| match v {
                        Json::Array(items) => items.iter().filter_map(scalar).collect(),
                        other => scalar(other).into_iter().collect::<Vec<_>>(),
                    });
                    leaf_matches(conditions, values.as_deref())
                }
                Field::Nested(node) => match child {
                    Some(Json::Array(items)) => items.iter().any(|i| node.matches_json(Some(i))),
                    Some(obj @ Json::Object(_)) => node.matches_json(Some(obj)),
                    _ => node.matches_json(None),
                },
            }
        });
        fields && self.ors.iter().all(|alts| alts.iter().any(|n| n.matches_json(json)))
    }
}

fn leaf_matches(conditions: &[Condition], values: Option<&[Scalar]>) -> bool {
    conditions.iter().any(|c| match (c, values) {
        (Condition::Exists(wanted), v) => *wanted == v.is_some(),
        (_, None) => false,
        (c, Some(values)) => values.iter().any(|v| condition_matches(c, v)),
    })
}

fn condition_matches(condition: &Condition, value: &Scalar) -> bool {
    use Scalar::*;
    match (condition, value) {
        (Condition::Exact(s), Str(v)) => s == v,
        (Condition::Number(n), Num(v)) => numbers_equal(*n, *v),
        (Condition::Bool(b), Bool(v)) => b == v,
        (Condition::Null, Null) => true,
        (Condition::Prefix(p), Str(v)) => v.starts_with(p.as_str()),
        (Condition::Suffix(s), Str(v)) => v.ends_with(s.as_str()),
        (Condition::EqualsIgnoreCase(s), Str(v)) => s.to_lowercase() == v.to_lowercase(),
        (Condition::AnythingBut(a), v) => match a {
            AnythingBut::Values(list) => !list.iter().any(|x| match (x, v) {
                (Num(a), Num(b)) => numbers_equal(*a, *b),
                (a, b) => a == b,
            }),
            AnythingBut::Prefix(p) => matches!(v, Str(s) if !s.starts_with(p.as_str())),
            AnythingBut::Suffix(p) => matches!(v, Str(s) if !s.ends_with(p.as_str())),
        },
        (Condition::Numeric(ops), Num(v)) => ops.iter().all(|(op, n)| match op {
            NumOp::Eq => numbers_equal(*v, *n),
            NumOp::Lt => v < n,
            NumOp::Le => v <= n,
            NumOp::Gt => v > n,
            NumOp::Ge => v >= n,
        }),
        (Condition::Cidr { net, mask }, Str(v)) => parse_ipv4(v).is_some_and(|ip| ip & mask == *net),
        _ => false,
    }
}

/// SNS compares numbers to five decimal places.
fn numbers_equal(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> IndexMap<String, MessageAttributeValue> {
        pairs
            .iter()
            .map(|(k, t, v)| {
                (k.to_string(), MessageAttributeValue { data_type: t.to_string(), string_value: Some(v.to_string()), binary_value: None })
            })
            .collect()
    }

    fn attr_policy(p: &str) -> FilterPolicy {
        FilterPolicy::parse(p, Scope::MessageAttributes).unwrap()
    }

    #[test]
    fn exact_prefix_and_anything_but_on_attributes() {
        let p = attr_policy(r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}]}"#);
        assert!(p.matches_attributes(&attrs(&[("store", "String", "example_corp"), ("event", "String", "order_placed")])));
        assert!(!p.matches_attributes(&attrs(&[("store", "String", "example_corp"), ("event", "String", "order_cancelled")])));
        assert!(!p.matches_attributes(&attrs(&[("store", "String", "example_corp")])));
        let p = attr_policy(r#"{"c":[{"prefix":"ab"},{"suffix":".png"},{"equals-ignore-case":"XY"}]}"#);
        for v in ["abc", "x.png", "xy"] {
            assert!(p.matches_attributes(&attrs(&[("c", "String", v)])), "{v}");
        }
        assert!(!p.matches_attributes(&attrs(&[("c", "String", "zz")])));
    }

    #[test]
    fn numeric_ranges_exists_and_arrays() {
        let p = attr_policy(r#"{"price":[{"numeric":[">",0,"<=",150]}],"k":[{"exists":false}]}"#);
        assert!(p.matches_attributes(&attrs(&[("price", "Number", "100")])));
        assert!(!p.matches_attributes(&attrs(&[("price", "Number", "151")])));
        assert!(!p.matches_attributes(&attrs(&[("price", "String", "100")])));
        assert!(!p.matches_attributes(&attrs(&[("price", "Number", "1"), ("k", "String", "x")])));
        let p = attr_policy(r#"{"tags":["red"]}"#);
        assert!(p.matches_attributes(&attrs(&[("tags", "String.Array", r#"["blue","red"]"#)])));
        assert!(!p.matches_attributes(&attrs(&[("tags", "String.Array", r#"["blue"]"#)])));
        let p = attr_policy(r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#);
        assert!(p.matches_attributes(&attrs(&[("ip", "String", "10.0.0.255")])));
        assert!(!p.matches_attributes(&attrs(&[("ip", "String", "10.0.1.1")])));
    }

    #[test]
    fn body_scope_nests_and_or_alternatives() {
        let p = FilterPolicy::parse(
            r#"{"order":{"kind":["big"],"total":[{"numeric":[">=",10]}]},"$or":[{"a":["1"]},{"b":[{"exists":true}]}]}"#,
            Scope::MessageBody,
        )
        .unwrap();
        assert!(p.matches_body(r#"{"order":{"kind":"big","total":12},"b":null}"#));
        assert!(p.matches_body(r#"{"order":{"kind":["small","big"],"total":10},"a":"1"}"#));
        assert!(!p.matches_body(r#"{"order":{"kind":"big","total":12}}"#));
        assert!(!p.matches_body(r#"{"order":{"kind":"big","total":9},"a":"1"}"#));
        assert!(!p.matches_body("not json"));
    }

    #[test]
    fn invalid_policies_are_refused_with_aws_words() {
        let msg = |p: &str, s| match FilterPolicy::parse(p, s) {
            Err(SnsError::InvalidParameterException(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(msg("{", Scope::MessageAttributes), "Invalid parameter: FilterPolicy: failed to parse JSON.");
        assert_eq!(msg(r#"{"a":"b"}"#, Scope::MessageAttributes), "Invalid parameter: FilterPolicy: \"a\" must be an object or an array");
        assert!(msg(r#"{"a":[{"foo":1}]}"#, Scope::MessageAttributes).contains("Unrecognized match type foo"));
        assert!(msg(r#"{"a":{"b":["c"]}}"#, Scope::MessageAttributes).contains("does not support nested"));
        assert!(msg(r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#, Scope::MessageAttributes).contains("more than 5 keys"));
        let many: Vec<String> = (0..13).map(|i| format!("\"v{i}\"")).collect();
        let list = many.join(",");
        assert!(msg(&format!(r#"{{"a":[{list}],"b":[{list}]}}"#), Scope::MessageBody).contains("too complex"));
    }
}
