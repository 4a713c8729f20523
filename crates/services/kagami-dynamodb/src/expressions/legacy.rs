//! The parameters of the pre-expression API — Expected with ConditionalOperator,
//! KeyConditions, QueryFilter/ScanFilter, AttributesToGet, AttributeUpdates — converted
//! into the same trees as the expressions, so that operations evaluate one thing.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html>

use super::condition::{Condition, Operand};
use super::key_condition::{KeyConditions, KeyPredicate, bounds_ordered};
use super::parser::Comparator;
use super::path::Path;
use super::projection::Projection;
use super::update::{SetOperand, SetValue, Update, UpdateAction};
use crate::attribute::AttributeValue;
use crate::errors::ValidationError;
use crate::generated;
use indexmap::IndexMap;

fn values(list: Option<Vec<generated::AttributeValue>>) -> Result<Vec<AttributeValue>, ValidationError> {
    list.unwrap_or_default().into_iter().map(AttributeValue::from_generated).collect()
}

/// Checks the argument count and types of a ComparisonOperator, as DynamoDB does.
fn check_operator(operator: &str, args: &[AttributeValue]) -> Result<(), ValidationError> {
    let count_ok = match operator {
        "NULL" | "NOT_NULL" => args.is_empty(),
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "BEGINS_WITH" => args.len() == 1,
        "IN" => !args.is_empty(),
        "BETWEEN" => args.len() == 2,
        other => {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value '{other}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )));
        }
    };
    if !count_ok {
        return Err(ValidationError::parameter(format!("Invalid number of argument(s) for the {operator} ComparisonOperator")));
    }
    if let Some(first) = args.first() {
        if args.iter().any(|a| a.type_name() != first.type_name()) {
            return Err(ValidationError::parameter("AttributeValues inside AttributeValueList must be of same type"));
        }
        let allowed: &[&str] = match operator {
            "EQ" | "NE" => &["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"],
            "BEGINS_WITH" => &["S", "B"],
            _ => &["S", "N", "B"],
        };
        if !allowed.contains(&first.type_name()) {
            return Err(ValidationError::parameter(format!(
                "ComparisonOperator {operator} is not valid for {} AttributeValue type",
                first.type_name()
            )));
        }
    }
    if let [lo, hi] = args
        && operator == "BETWEEN"
        && !bounds_ordered(lo, hi)
    {
        return Err(ValidationError::new(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ));
    }
    Ok(())
}

/// The condition `attribute OPERATOR values`, already checked.
fn comparison(attribute: &str, operator: &str, mut args: Vec<AttributeValue>) -> Condition {
    let path = Path::attribute(attribute);
    let p = || Operand::Path(path.clone());
    let mut next = || if args.is_empty() { AttributeValue::Null } else { args.remove(0) };
    match operator {
        "NULL" => Condition::AttributeNotExists(path.clone()),
        "NOT_NULL" => Condition::AttributeExists(path.clone()),
        "EQ" => Condition::Compare(Comparator::Eq, p(), Operand::Value(next())),
        "NE" => Condition::Compare(Comparator::Ne, p(), Operand::Value(next())),
        "LT" => Condition::Compare(Comparator::Lt, p(), Operand::Value(next())),
        "LE" => Condition::Compare(Comparator::Le, p(), Operand::Value(next())),
        "GT" => Condition::Compare(Comparator::Gt, p(), Operand::Value(next())),
        "GE" => Condition::Compare(Comparator::Ge, p(), Operand::Value(next())),
        "CONTAINS" => Condition::Contains(p(), Operand::Value(next())),
        // Absence of a value in an attribute that is itself absent is not a match.
        "NOT_CONTAINS" => Condition::And(
            Box::new(Condition::AttributeExists(path.clone())),
            Box::new(Condition::Not(Box::new(Condition::Contains(p(), Operand::Value(next()))))),
        ),
        "BEGINS_WITH" => Condition::BeginsWith(p(), Operand::Value(next())),
        "BETWEEN" => {
            let lo = next();
            let hi = next();
            Condition::Between(p(), Operand::Value(lo), Operand::Value(hi))
        }
        // IN: the only operator left after check_operator.
        _ => Condition::In(p(), args.drain(..).map(Operand::Value).collect()),
    }
}

/// A request that sends ConditionalOperator without Expected, QueryFilter or ScanFilter.
pub fn conditional_operator_without_conditions() -> ValidationError {
    ValidationError::new("ConditionalOperator cannot be used without Filter or Expected")
}

fn combine(conditions: Vec<Condition>, conditional_operator: Option<&str>) -> Result<Option<Condition>, ValidationError> {
    if conditional_operator.is_some() {
        match conditions.len() {
            0 => return Err(conditional_operator_without_conditions()),
            1 => return Err(ValidationError::new("ConditionalOperator can only be used when Filter or Expected has two or more elements")),
            _ => {}
        }
    }
    let or = match conditional_operator {
        None | Some("AND") => false,
        Some("OR") => true,
        Some(other) => {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value '{other}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]"
            )));
        }
    };
    Ok(conditions
        .into_iter()
        .reduce(|a, b| if or { Condition::Or(Box::new(a), Box::new(b)) } else { Condition::And(Box::new(a), Box::new(b)) }))
}

/// `Expected` (PutItem, UpdateItem, DeleteItem) with its `ConditionalOperator`.
pub fn expected(
    expected: IndexMap<String, generated::ExpectedAttributeValue>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ValidationError> {
    let mut conditions = Vec::with_capacity(expected.len());
    for (attribute, e) in expected {
        let invalid = |m: String| Err(ValidationError::parameter(m));
        // The order of these checks is DynamoDB's: which message a request with several
        // mistakes gets depends on it.
        if e.exists.is_some() && e.comparison_operator.is_some() {
            return invalid(format!("Exists and ComparisonOperator cannot be used together for Attribute: {attribute}"));
        }
        if e.attribute_value_list.is_some() && e.value.is_some() {
            return invalid(format!("Value and AttributeValueList cannot be used together for Attribute: {attribute}"));
        }
        match e.comparison_operator {
            Some(operator) => {
                if !matches!(operator.as_str(), "NULL" | "NOT_NULL") && e.attribute_value_list.is_none() && e.value.is_none() {
                    return invalid(format!(
                        "Value or AttributeValueList must be used with ComparisonOperator: {operator} for Attribute: {attribute}"
                    ));
                }
                let args = match e.value {
                    Some(v) => vec![AttributeValue::from_generated(v)?],
                    None => values(e.attribute_value_list)?,
                };
                check_operator(&operator, &args)?;
                conditions.push(comparison(&attribute, &operator, args));
            }
            None => {
                if e.attribute_value_list.is_some() {
                    return invalid(format!("AttributeValueList can only be used with a ComparisonOperator for Attribute: {attribute}"));
                }
                let exists = e.exists.unwrap_or(true);
                match (exists, e.value) {
                    (true, Some(v)) => conditions.push(Condition::Compare(
                        Comparator::Eq,
                        Operand::Path(Path::attribute(attribute.as_str())),
                        Operand::Value(AttributeValue::from_generated(v)?),
                    )),
                    (true, None) => {
                        let shown = if e.exists.is_some() { "true" } else { "null" };
                        return invalid(format!("Value must be provided when Exists is {shown} for Attribute: {attribute}"));
                    }
                    (false, Some(_)) => return invalid(format!("Value cannot be used when Exists is false for Attribute: {attribute}")),
                    (false, None) => conditions.push(Condition::AttributeNotExists(Path::attribute(attribute.as_str()))),
                }
            }
        }
    }
    combine(conditions, conditional_operator)
}

/// `QueryFilter` or `ScanFilter` with its `ConditionalOperator`.
pub fn filter(
    filter: IndexMap<String, generated::Condition>,
    conditional_operator: Option<&str>,
) -> Result<Option<Condition>, ValidationError> {
    let mut conditions = Vec::with_capacity(filter.len());
    for (attribute, c) in filter {
        let args = values(c.attribute_value_list)?;
        check_operator(&c.comparison_operator, &args)?;
        conditions.push(comparison(&attribute, &c.comparison_operator, args));
    }
    combine(conditions, conditional_operator)
}

/// `KeyConditions` of a Query.
pub fn key_conditions(conditions: IndexMap<String, generated::Condition>) -> Result<KeyConditions, ValidationError> {
    if conditions.is_empty() || conditions.len() > 2 {
        return Err(ValidationError::new("Conditions can be of length 1 or 2 only"));
    }
    let mut parts = Vec::with_capacity(conditions.len());
    for (attribute, c) in conditions {
        let mut args = values(c.attribute_value_list)?;
        let operator = c.comparison_operator.as_str();
        check_operator(operator, &args)?;
        let mut next = || if args.is_empty() { AttributeValue::Null } else { args.remove(0) };
        let predicate = match operator {
            "EQ" => KeyPredicate::Eq(next()),
            "LT" => KeyPredicate::Lt(next()),
            "LE" => KeyPredicate::Le(next()),
            "GT" => KeyPredicate::Gt(next()),
            "GE" => KeyPredicate::Ge(next()),
            "BEGINS_WITH" => KeyPredicate::BeginsWith(next()),
            "BETWEEN" => {
                let lo = next();
                KeyPredicate::Between(lo, next())
            }
            _ => return Err(ValidationError::new("Attempted conditional constraint is not an indexable operation")),
        };
        parts.push((attribute, predicate));
    }
    Ok(KeyConditions { parts })
}

/// `AttributesToGet`: top-level attributes.
pub fn attributes_to_get(names: Vec<String>) -> Result<Projection, ValidationError> {
    for (i, name) in names.iter().enumerate() {
        if names.iter().take(i).any(|n| n == name) {
            return Err(ValidationError::parameter(format!("Duplicate value in attribute name: {name}")));
        }
    }
    Ok(Projection::attributes(names))
}

/// `AttributeUpdates` of UpdateItem: PUT (the default), ADD and DELETE per attribute.
pub fn attribute_updates(updates: IndexMap<String, generated::AttributeValueUpdate>) -> Result<Update, ValidationError> {
    let mut actions = Vec::with_capacity(updates.len());
    for (attribute, update) in updates {
        let path = Path::attribute(attribute.as_str());
        let action = update.action.as_deref().unwrap_or("PUT");
        let value = update.value.map(AttributeValue::from_generated).transpose()?;
        let action = match (action, value) {
            ("DELETE", None) => UpdateAction::Remove(path),
            ("DELETE", Some(v)) if v.is_set() => UpdateAction::Delete(path, v),
            ("DELETE", Some(v)) => {
                return Err(ValidationError::parameter(format!(
                    "DELETE action with value is not supported for the type {}",
                    v.type_name()
                )));
            }
            (_, None) => return Err(ValidationError::parameter("Only DELETE action is allowed when no attribute value is specified")),
            ("PUT", Some(v)) => UpdateAction::Set(path, SetValue::Operand(SetOperand::Value(v))),
            ("ADD", Some(v)) if v.is_set() || matches!(v, AttributeValue::N(_) | AttributeValue::L(_)) => UpdateAction::Add(path, v),
            ("ADD", Some(v)) => {
                return Err(ValidationError::parameter(format!("ADD action is not supported for the type {}", v.type_name())));
            }
            (other, Some(_)) => {
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{other}' at 'attributeUpdates.{attribute}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )));
            }
        };
        actions.push(action);
    }
    Ok(Update::new(actions, true))
}
