//! Key conditions of a Query: an equality on the partition key and at most one condition
//! on the sort key, checked first on their own (the expression's shape) and then against
//! the key schema of the table or index queried, with DynamoDB's messages for both.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html>

use super::condition::{Condition, Operand};
use super::parser::Comparator;
use crate::attribute::{AttributeValue, ScalarType};
use crate::errors::ValidationError;
use crate::keys::check_not_empty;
use crate::ordering::{KeyValue, SortKeyCondition, compare_values};
use std::cmp::Ordering;

/// A condition on one key attribute, before the key schema is known.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyPredicate {
    Eq(AttributeValue),
    Lt(AttributeValue),
    Le(AttributeValue),
    Gt(AttributeValue),
    Ge(AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

impl KeyPredicate {
    fn values(&self) -> Vec<&AttributeValue> {
        match self {
            KeyPredicate::Eq(v)
            | KeyPredicate::Lt(v)
            | KeyPredicate::Le(v)
            | KeyPredicate::Gt(v)
            | KeyPredicate::Ge(v)
            | KeyPredicate::BeginsWith(v) => vec![v],
            KeyPredicate::Between(a, b) => vec![a, b],
        }
    }
}

/// The conditions of a KeyConditionExpression (or of legacy KeyConditions), by attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyConditions {
    pub parts: Vec<(String, KeyPredicate)>,
}

/// What a Query reads: one partition, optionally narrowed on the sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyQuery {
    pub partition: KeyValue,
    pub sort: Option<SortKeyCondition>,
}

fn invalid_operator(operator: &str) -> ValidationError {
    ValidationError::new(format!("Invalid operator used in KeyConditionExpression: {operator}"))
}

impl KeyConditions {
    /// Reads the key conditions out of a checked KeyConditionExpression.
    pub(crate) fn from_condition(condition: &Condition) -> Result<KeyConditions, ValidationError> {
        let mut parts = Vec::new();
        collect(condition, &mut parts)?;
        if parts.len() > 2 {
            return Err(ValidationError::new("Conditions can be of length 1 or 2 only"));
        }
        Ok(KeyConditions { parts })
    }

    /// Checks the conditions against the key schema of the table or index queried:
    /// `hash` and the optional `range` key, each with its attribute type.
    pub fn resolve(&self, hash: (&str, ScalarType), range: Option<(&str, ScalarType)>) -> Result<KeyQuery, ValidationError> {
        let not_supported = || ValidationError::new("Query key condition not supported");
        let key_count = 1 + usize::from(range.is_some());
        if self.parts.len() > key_count {
            return Err(not_supported());
        }
        let Some((_, hash_predicate)) = self.parts.iter().find(|(name, _)| name == hash.0) else {
            return Err(ValidationError::new(format!("Query condition missed key schema element: {}", hash.0)));
        };
        let KeyPredicate::Eq(hash_value) = hash_predicate else {
            return Err(not_supported());
        };
        let mut sort = None;
        for (name, predicate) in &self.parts {
            if name == hash.0 {
                continue;
            }
            match range {
                Some((range_name, _)) if range_name == name => sort = Some(predicate),
                Some((range_name, _)) => {
                    return Err(ValidationError::new(format!("Query condition missed key schema element: {range_name}")));
                }
                None => return Err(not_supported()),
            }
        }
        let mismatch = || ValidationError::parameter("Condition parameter type does not match schema type");
        let key_value = |value: &AttributeValue, (name, expected): (&str, ScalarType)| -> Result<KeyValue, ValidationError> {
            match KeyValue::from_attribute(value) {
                Some(k) if k.scalar_type() == expected => {
                    check_not_empty(name, value)?;
                    Ok(k)
                }
                _ => Err(mismatch()),
            }
        };
        let partition = key_value(hash_value, hash)?;
        let sort = match (sort, range) {
            (Some(predicate), Some(range)) => {
                let range_type = range.1;
                for value in predicate.values() {
                    key_value(value, range)?;
                }
                let k = |v: &AttributeValue| key_value(v, range);
                Some(match predicate {
                    KeyPredicate::Eq(v) => SortKeyCondition::Eq(k(v)?),
                    KeyPredicate::Lt(v) => SortKeyCondition::Lt(k(v)?),
                    KeyPredicate::Le(v) => SortKeyCondition::Le(k(v)?),
                    KeyPredicate::Gt(v) => SortKeyCondition::Gt(k(v)?),
                    KeyPredicate::Ge(v) => SortKeyCondition::Ge(k(v)?),
                    KeyPredicate::Between(lo, hi) => SortKeyCondition::Between(k(lo)?, k(hi)?),
                    KeyPredicate::BeginsWith(v) => {
                        if range_type == ScalarType::N {
                            return Err(not_supported());
                        }
                        SortKeyCondition::BeginsWith(k(v)?)
                    }
                })
            }
            _ => None,
        };
        Ok(KeyQuery { partition, sort })
    }
}

fn collect(condition: &Condition, parts: &mut Vec<(String, KeyPredicate)>) -> Result<(), ValidationError> {
    match condition {
        Condition::And(a, b) => {
            collect(a, parts)?;
            collect(b, parts)
        }
        Condition::Or(..) => Err(invalid_operator("OR")),
        Condition::Not(_) => Err(invalid_operator("NOT")),
        Condition::In(..) => Err(invalid_operator("IN")),
        Condition::Compare(Comparator::Ne, ..) => Err(invalid_operator("<>")),
        Condition::AttributeExists(_) => Err(invalid_operator("attribute_exists")),
        Condition::AttributeNotExists(_) => Err(invalid_operator("attribute_not_exists")),
        Condition::AttributeType(..) => Err(invalid_operator("attribute_type")),
        Condition::Contains(..) => Err(invalid_operator("contains")),
        Condition::Compare(op, a, b) => {
            let flipped = matches!(b, Operand::Path(_)) && !matches!(a, Operand::Path(_));
            push(vec![a, b], parts, compare_predicate(*op, flipped))
        }
        Condition::Between(v, lo, hi) => {
            if !matches!(v, Operand::Path(_)) {
                return Err(ValidationError::new(
                    "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
                ));
            }
            push(vec![v, lo, hi], parts, |mut values| {
                let hi = values.pop()?;
                let lo = values.pop()?;
                Some(KeyPredicate::Between(lo, hi))
            })
        }
        Condition::BeginsWith(a, b) => {
            if !matches!(a, Operand::Path(_)) {
                return Err(ValidationError::new(
                    "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
                ));
            }
            push(vec![a, b], parts, |mut values| Some(KeyPredicate::BeginsWith(values.pop()?)))
        }
    }
}

/// The predicate of `key op :v`, or of `:v op key` read the other way round.
fn compare_predicate(op: Comparator, flipped: bool) -> impl Fn(Vec<AttributeValue>) -> Option<KeyPredicate> {
    move |mut values| {
        let v = values.pop()?;
        let op = if flipped {
            match op {
                Comparator::Lt => Comparator::Gt,
                Comparator::Le => Comparator::Ge,
                Comparator::Gt => Comparator::Lt,
                Comparator::Ge => Comparator::Le,
                other => other,
            }
        } else {
            op
        };
        Some(match op {
            Comparator::Eq => KeyPredicate::Eq(v),
            Comparator::Lt => KeyPredicate::Lt(v),
            Comparator::Le => KeyPredicate::Le(v),
            Comparator::Gt => KeyPredicate::Gt(v),
            Comparator::Ge => KeyPredicate::Ge(v),
            Comparator::Ne => return None,
        })
    }
}

/// Finds the one key attribute among the operands and records its predicate.
fn push(
    operands: Vec<&Operand>,
    parts: &mut Vec<(String, KeyPredicate)>,
    build: impl Fn(Vec<AttributeValue>) -> Option<KeyPredicate>,
) -> Result<(), ValidationError> {
    let mut attribute: Option<String> = None;
    let mut values = Vec::new();
    for operand in operands {
        match operand {
            Operand::Path(path) => {
                if attribute.is_some() {
                    return Err(ValidationError::new(
                        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                    ));
                }
                if path.is_nested() {
                    return Err(ValidationError::new("KeyConditionExpressions cannot have conditions on nested attributes"));
                }
                attribute = Some(path.top().to_string());
            }
            Operand::Size(_) => return Err(ValidationError::new("KeyConditionExpressions cannot contain nested operations")),
            Operand::Value(v) => values.push(v.clone()),
        }
    }
    let Some(attribute) = attribute else {
        return Err(ValidationError::new("Invalid condition in KeyConditionExpression: No key attribute specified"));
    };
    if parts.iter().any(|(name, _)| *name == attribute) {
        return Err(ValidationError::new("KeyConditionExpressions must only contain one condition per key"));
    }
    let predicate = build(values).ok_or_else(|| invalid_operator("<>"))?;
    parts.push((attribute, predicate));
    Ok(())
}

/// BETWEEN bounds in a legacy KeyConditions/QueryFilter must be ordered.
pub(crate) fn bounds_ordered(lo: &AttributeValue, hi: &AttributeValue) -> bool {
    compare_values(lo, hi) != Some(Ordering::Greater)
}
