//! Turning raw names and values into real ones while collecting the semantic errors of an
//! expression; DynamoDB reports only one, chosen by a fixed priority per expression kind.

use super::ExpressionAttributes;
use super::parser::{RawElement, RawName, RawPath};
use super::path::{Path, PathElement};
use super::reserved::is_reserved;
use crate::attribute::AttributeValue;
use std::collections::BTreeMap;

/// Elements a document path may have (documents nest 32 levels deep).
const MAX_PATH_DEPTH: usize = 32;

/// Kinds of semantic error; each expression kind reports the first present in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Slot {
    Parens,
    UnknownFunction,
    MisusedFunction,
    Reserved,
    PathDepth,
    Section,
    /// The first undefined name or value, whichever came first.
    Undefined,
    UndefinedName,
    UndefinedValue,
    Overlap,
    Conflict,
    OperandCount,
    Distinct,
    Operand,
    Function,
}

pub(crate) struct Resolver<'a> {
    attrs: &'a mut ExpressionAttributes,
    errors: BTreeMap<Slot, String>,
}

impl<'a> Resolver<'a> {
    pub fn new(attrs: &'a mut ExpressionAttributes) -> Resolver<'a> {
        Resolver { attrs, errors: BTreeMap::new() }
    }

    /// Records an error unless one of the same kind came first.
    pub fn error(&mut self, slot: Slot, message: impl Into<String>) {
        self.errors.entry(slot).or_insert_with(|| message.into());
    }

    pub fn has(&self, slot: Slot) -> bool {
        self.errors.contains_key(&slot)
    }

    /// The error to report, by the expression kind's priority.
    pub fn first_error(&self, order: &[Slot]) -> Option<String> {
        order.iter().find_map(|slot| self.errors.get(slot).cloned())
    }

    pub fn name(&mut self, raw: &RawName) -> String {
        match raw {
            RawName::Plain(name) => {
                if is_reserved(name) {
                    self.error(Slot::Reserved, format!("Attribute name is a reserved keyword; reserved keyword: {name}"));
                }
                name.clone()
            }
            RawName::Placeholder(placeholder) => match self.attrs.use_name(placeholder) {
                Some(name) => name,
                None => {
                    let message =
                        format!("An expression attribute name used in the document path is not defined; attribute name: {placeholder}");
                    self.error(Slot::Undefined, message.clone());
                    self.error(Slot::UndefinedName, message);
                    placeholder.clone()
                }
            },
        }
    }

    pub fn path(&mut self, raw: &RawPath) -> Path {
        let top = self.name(&raw.head);
        let rest = raw
            .rest
            .iter()
            .map(|element| match element {
                RawElement::Name(name) => PathElement::Attribute(self.name(name)),
                RawElement::Index(i) => PathElement::Index(*i),
            })
            .collect();
        let levels = 1 + raw.rest.len();
        if levels > MAX_PATH_DEPTH {
            self.error(Slot::PathDepth, format!("The document path has too many nesting levels; nesting levels: {levels}"));
        }
        Path::new(top, rest)
    }

    /// The value of `:v`; `None` (with the error recorded) when it is not defined.
    pub fn value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let value = self.attrs.use_value(placeholder);
        if value.is_none() {
            let message = format!("An expression attribute value used in expression is not defined; attribute value: {placeholder}");
            self.error(Slot::Undefined, message.clone());
            self.error(Slot::UndefinedValue, message);
        }
        value
    }
}
