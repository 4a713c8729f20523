//! The expression engine: condition, filter, key-condition, projection and update
//! expressions parsed, checked and evaluated as DynamoDB does, with its error messages.
//!
//! An operation makes one [`ExpressionAttributes`] from the request's
//! ExpressionAttributeNames/Values, parses each expression of the request through it, then
//! calls [`ExpressionAttributes::check_all_used`]. The order decides which error a request
//! with several gets; DynamoDB's is UpdateExpression then ConditionExpression (UpdateItem),
//! and FilterExpression, ProjectionExpression, KeyConditionExpression (Query, Scan).
//! The legacy parameters (Expected, KeyConditions, QueryFilter, ScanFilter,
//! AttributesToGet, AttributeUpdates) convert to the same trees in [`legacy`].

mod condition;
mod key_condition;
pub mod legacy;
mod lexer;
mod parser;
mod path;
mod projection;
mod reserved;
mod resolve;
mod update;

pub use condition::{Condition, MAX_IN_OPERANDS, MAX_OPERATORS, Operand};
pub use key_condition::{KeyConditions, KeyPredicate, KeyQuery};
pub use parser::Comparator;
pub use path::{Path, PathElement};
pub use projection::Projection;
pub use update::{SetOperand, SetValue, Update, UpdateAction, UpdateOutcome};

use crate::attribute::AttributeValue;
use crate::errors::ValidationError;
use crate::generated;
use indexmap::IndexMap;
use parser::Parser;
use resolve::{Resolver, Slot};
use std::collections::HashSet;
use std::fmt;

/// Bytes an expression may have.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters>
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// Which request parameter an expression came from; it names the expression in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    ConditionExpression,
    FilterExpression,
    KeyConditionExpression,
    ProjectionExpression,
    UpdateExpression,
}

impl fmt::Display for ExpressionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExpressionKind::ConditionExpression => "ConditionExpression",
            ExpressionKind::FilterExpression => "FilterExpression",
            ExpressionKind::KeyConditionExpression => "KeyConditionExpression",
            ExpressionKind::ProjectionExpression => "ProjectionExpression",
            ExpressionKind::UpdateExpression => "UpdateExpression",
        })
    }
}

/// The ExpressionAttributeNames and ExpressionAttributeValues of one request, and which of
/// them its expressions used.
#[derive(Debug, Default)]
pub struct ExpressionAttributes {
    names: IndexMap<String, String>,
    values: IndexMap<String, AttributeValue>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

fn valid_key(key: &str, sigil: char) -> bool {
    let mut chars = key.chars();
    chars.next() == Some(sigil) && key.len() > 1 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ExpressionAttributes {
    /// Checks the maps as DynamoDB does before reading any expression.
    pub fn new(
        names: Option<IndexMap<String, String>>,
        values: Option<IndexMap<String, generated::AttributeValue>>,
    ) -> Result<ExpressionAttributes, ValidationError> {
        let mut out = ExpressionAttributes::default();
        if let Some(names) = names {
            if names.is_empty() {
                return Err(ValidationError::new("ExpressionAttributeNames must not be empty"));
            }
            if let Some(key) = names.keys().find(|k| !valid_key(k, '#')) {
                return Err(ValidationError::new(format!("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{key}\"")));
            }
            out.names = names;
        }
        if let Some(values) = values {
            if values.is_empty() {
                return Err(ValidationError::new("ExpressionAttributeValues must not be empty"));
            }
            if let Some(key) = values.keys().find(|k| !valid_key(k, ':')) {
                return Err(ValidationError::new(format!("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{key}\"")));
            }
            for (key, value) in values {
                let value = AttributeValue::from_generated(value).map_err(|e| {
                    ValidationError::new(format!("ExpressionAttributeValues contains invalid value: {} for key {key}", e.message))
                })?;
                out.values.insert(key, value);
            }
        }
        Ok(out)
    }

    /// Builds the maps from already checked parts (tests, PartiQL, internal callers).
    pub fn from_parts(names: IndexMap<String, String>, values: IndexMap<String, AttributeValue>) -> ExpressionAttributes {
        ExpressionAttributes { names, values, ..ExpressionAttributes::default() }
    }

    pub(crate) fn use_name(&mut self, placeholder: &str) -> Option<String> {
        let name = self.names.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_string());
        Some(name)
    }

    pub(crate) fn use_value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let value = self.values.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_string());
        Some(value)
    }

    /// After every expression of the request is parsed: names and values no expression
    /// used are an error.
    pub fn check_all_used(&self) -> Result<(), ValidationError> {
        let unused = |keys: &mut dyn Iterator<Item = &String>, used: &HashSet<String>| {
            let list: Vec<&str> = keys.filter(|k| !used.contains(*k)).map(String::as_str).collect();
            (!list.is_empty()).then(|| list.join(", "))
        };
        if let Some(keys) = unused(&mut self.names.keys(), &self.used_names) {
            return Err(ValidationError::new(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}"
            )));
        }
        if let Some(keys) = unused(&mut self.values.keys(), &self.used_values) {
            return Err(ValidationError::new(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
            )));
        }
        Ok(())
    }

    fn checked_text(kind: ExpressionKind, text: &str) -> Result<&str, ValidationError> {
        if text.trim().is_empty() {
            return Err(ValidationError::new(format!("Invalid {kind}: The expression can not be empty;")));
        }
        if text.len() > MAX_EXPRESSION_SIZE {
            return Err(ValidationError::new(format!(
                "Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            )));
        }
        Ok(text)
    }

    /// A ConditionExpression or FilterExpression.
    pub fn condition(&mut self, kind: ExpressionKind, text: &str) -> Result<Condition, ValidationError> {
        let text = Self::checked_text(kind, text)?;
        let mut parser = Parser::new(text);
        let raw = parser.condition_expression().map_err(|e| ValidationError::new(format!("Invalid {kind}: {}", parser.message(&e))))?;
        let mut resolver = Resolver::new(self);
        let mut builder = condition::Builder { r: &mut resolver, operators: 0 };
        let built = builder.condition(&raw);
        let operators = builder.operators;
        if let Some(message) = resolver.first_error(condition::ERROR_ORDER) {
            return Err(ValidationError::new(format!("Invalid {kind}: {message}")));
        }
        if operators > MAX_OPERATORS {
            return Err(ValidationError::new(format!(
                "Invalid {kind}: The expression contains too many operators; operator count: {operators}"
            )));
        }
        Ok(built)
    }

    /// A KeyConditionExpression: checked as a condition, then for the shape of a key
    /// condition. The key schema is applied later by [`KeyConditions::resolve`].
    pub fn key_condition(&mut self, text: &str) -> Result<KeyConditions, ValidationError> {
        let condition = self.condition(ExpressionKind::KeyConditionExpression, text)?;
        KeyConditions::from_condition(&condition)
    }

    pub fn projection(&mut self, text: &str) -> Result<Projection, ValidationError> {
        let kind = ExpressionKind::ProjectionExpression;
        let text = Self::checked_text(kind, text)?;
        let mut parser = Parser::new(text);
        let raw = parser.projection_expression().map_err(|e| ValidationError::new(format!("Invalid {kind}: {}", parser.message(&e))))?;
        let mut resolver = Resolver::new(self);
        let paths: Vec<Path> = raw.iter().map(|p| resolver.path(p)).collect();
        let refs: Vec<&Path> = paths.iter().collect();
        let (overlap, conflict) = path::clash_errors(&refs);
        if let Some(m) = overlap {
            resolver.error(Slot::Overlap, m);
        }
        if let Some(m) = conflict {
            resolver.error(Slot::Conflict, m);
        }
        if let Some(message) = resolver.first_error(&[Slot::Reserved, Slot::PathDepth, Slot::UndefinedName, Slot::Overlap, Slot::Conflict])
        {
            return Err(ValidationError::new(format!("Invalid {kind}: {message}")));
        }
        Ok(Projection::new(paths))
    }

    pub fn update(&mut self, text: &str) -> Result<Update, ValidationError> {
        let kind = ExpressionKind::UpdateExpression;
        let text = Self::checked_text(kind, text)?;
        let mut parser = Parser::new(text);
        let raw = parser.update_expression().map_err(|e| ValidationError::new(format!("Invalid {kind}: {}", parser.message(&e))))?;
        let mut resolver = Resolver::new(self);
        let built = update::build(&raw, &mut resolver);
        if let Some(message) = resolver.first_error(update::ERROR_ORDER) {
            return Err(ValidationError::new(format!("Invalid {kind}: {message}")));
        }
        Ok(built)
    }
}

/// The request-level rules on mixing parameters, checked before any expression is read.
/// `expressions` and `legacy` are the names of the parameters the request carries, e.g.
/// `["ConditionExpression"]` and `["Expected"]`; `value_expressions` lists the expression
/// parameters of the operation that may use values (all but ProjectionExpression).
pub fn check_parameters(
    expressions: &[&str],
    legacy: &[&str],
    value_expressions: &[&str],
    has_names: bool,
    has_values: bool,
) -> Result<(), ValidationError> {
    if !expressions.is_empty() && !legacy.is_empty() {
        return Err(ValidationError::new(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            legacy.join(", "),
            expressions.join(", ")
        )));
    }
    if has_names && expressions.is_empty() {
        return Err(ValidationError::new("ExpressionAttributeNames can only be specified when using expressions"));
    }
    if has_values && !value_expressions.is_empty() && !expressions.iter().any(|e| value_expressions.contains(e)) {
        let verb = if value_expressions.len() > 1 { "are" } else { "is" };
        return Err(ValidationError::new(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
            value_expressions.join(" and ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
