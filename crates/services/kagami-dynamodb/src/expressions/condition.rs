//! Condition and filter expressions: the checked tree, built from the syntax tree with
//! DynamoDB's semantic checks, and its evaluation against an item.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html>

use super::parser::{Comparator, RawCondition, RawOperand};
use super::path::Path;
use super::resolve::{Resolver, Slot};
use crate::attribute::{AttributeValue, Item, describe};
use crate::number::Number;
use crate::ordering::compare_values;
use std::borrow::Cow;
use std::cmp::Ordering;

/// Operands an `IN` list may have.
pub const MAX_IN_OPERANDS: usize = 100;
/// Operators and functions one expression may use.
pub const MAX_OPERATORS: usize = 300;

const ATTRIBUTE_TYPES: &[&str] = &["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

/// A value in a condition: an attribute of the item, a literal, or `size(...)` of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttributeValue),
    Size(Box<Operand>),
}

/// A checked condition, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(Comparator, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    AttributeExists(Path),
    AttributeNotExists(Path),
    /// `attribute_type(path, :t)`: the type descriptor (`S`, `NS`, `BOOL`, …).
    AttributeType(Path, String),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

/// The order in which DynamoDB reports the semantic errors of a condition.
pub(crate) const ERROR_ORDER: &[Slot] = &[
    Slot::Parens,
    Slot::UnknownFunction,
    Slot::MisusedFunction,
    Slot::Reserved,
    Slot::PathDepth,
    Slot::Undefined,
    Slot::OperandCount,
    Slot::Distinct,
    Slot::Function,
];

impl Condition {
    /// Whether `item` satisfies the condition; an absent item is an empty one. Comparing
    /// values of different types is false, never an error.
    pub fn evaluate(&self, item: &Item) -> bool {
        match self {
            Condition::Compare(op, left, right) => {
                let (Some(a), Some(b)) = (left.evaluate(item), right.evaluate(item)) else {
                    // A missing attribute equals nothing, so it is "not equal" to anything.
                    return *op == Comparator::Ne;
                };
                match op {
                    Comparator::Eq => *a == *b,
                    Comparator::Ne => *a != *b,
                    Comparator::Lt => compare_values(&a, &b) == Some(Ordering::Less),
                    Comparator::Le => matches!(compare_values(&a, &b), Some(Ordering::Less | Ordering::Equal)),
                    Comparator::Gt => compare_values(&a, &b) == Some(Ordering::Greater),
                    Comparator::Ge => matches!(compare_values(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
                }
            }
            Condition::Between(operand, low, high) => {
                let (Some(v), Some(lo), Some(hi)) = (operand.evaluate(item), low.evaluate(item), high.evaluate(item)) else {
                    return false;
                };
                matches!(compare_values(&v, &lo), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(compare_values(&v, &hi), Some(Ordering::Less | Ordering::Equal))
            }
            Condition::In(operand, list) => match operand.evaluate(item) {
                Some(v) => list.iter().any(|candidate| candidate.evaluate(item).is_some_and(|c| *c == *v)),
                None => false,
            },
            Condition::AttributeExists(path) => path.get(item).is_some(),
            Condition::AttributeNotExists(path) => path.get(item).is_none(),
            Condition::AttributeType(path, type_name) => path.get(item).is_some_and(|v| v.type_name() == type_name),
            Condition::BeginsWith(a, b) => match (a.evaluate(item), b.evaluate(item)) {
                (Some(a), Some(b)) => begins_with(&a, &b),
                _ => false,
            },
            Condition::Contains(a, b) => match (a.evaluate(item), b.evaluate(item)) {
                (Some(a), Some(b)) => contains(&a, &b),
                _ => false,
            },
            Condition::And(a, b) => a.evaluate(item) && b.evaluate(item),
            Condition::Or(a, b) => a.evaluate(item) || b.evaluate(item),
            Condition::Not(c) => !c.evaluate(item),
        }
    }

    /// Every document path the condition reads.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Condition::Compare(_, a, b) | Condition::BeginsWith(a, b) | Condition::Contains(a, b) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
            Condition::Between(a, b, c) => {
                a.collect_paths(out);
                b.collect_paths(out);
                c.collect_paths(out);
            }
            Condition::In(a, list) => {
                a.collect_paths(out);
                list.iter().for_each(|o| o.collect_paths(out));
            }
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) | Condition::AttributeType(p, _) => out.push(p),
            Condition::And(a, b) | Condition::Or(a, b) => {
                a.collect_paths(out);
                b.collect_paths(out);
            }
            Condition::Not(c) => c.collect_paths(out),
        }
    }

    /// The top-level attributes the condition reads (a Query's filter must not name keys).
    pub fn top_level_attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for path in self.paths() {
            if !names.contains(&path.top()) {
                names.push(path.top());
            }
        }
        names
    }
}

impl Operand {
    pub fn evaluate<'a>(&'a self, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
        match self {
            Operand::Path(p) => p.get(item).map(Cow::Borrowed),
            Operand::Value(v) => Some(Cow::Borrowed(v)),
            Operand::Size(inner) => size(&*inner.evaluate(item)?).map(|n| Cow::Owned(AttributeValue::N(n))),
        }
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Operand::Path(p) => out.push(p),
            Operand::Value(_) => {}
            Operand::Size(inner) => inner.collect_paths(out),
        }
    }
}

/// `size()`: string length in UTF-8 bytes, binary length, elements of a set, list or map.
fn size(value: &AttributeValue) -> Option<Number> {
    let n = match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    };
    Some(Number::from(n))
}

pub(crate) fn begins_with(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.starts_with(b.as_str()),
        (AttributeValue::B(a), AttributeValue::B(b)) => a.starts_with(b),
        _ => false,
    }
}

/// `contains()`: a substring of a string (or subsequence of a binary), a member of a set,
/// an element of a list.
pub(crate) fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => a.contains(b.as_str()),
        (AttributeValue::B(a), AttributeValue::B(b)) => b.is_empty() || a.windows(b.len()).any(|w| w == b.as_ref()),
        (AttributeValue::Ss(set), AttributeValue::S(s)) => set.contains(s),
        (AttributeValue::Ns(set), AttributeValue::N(n)) => set.contains(n),
        (AttributeValue::Bs(set), AttributeValue::B(b)) => set.contains(b),
        (AttributeValue::L(list), v) => list.contains(v),
        _ => false,
    }
}

// ---- building the checked tree ----------------------------------------------------------

pub(crate) struct Builder<'r, 'a> {
    pub r: &'r mut Resolver<'a>,
    pub operators: usize,
}

fn placeholder() -> Condition {
    Condition::AttributeExists(Path::attribute(""))
}

fn redundant_parens() -> &'static str {
    "The expression has redundant parentheses;"
}

impl Builder<'_, '_> {
    pub fn condition(&mut self, raw: &RawCondition) -> Condition {
        match raw {
            RawCondition::Paren(inner) => {
                if matches!(**inner, RawCondition::Paren(_)) {
                    self.r.error(Slot::Parens, redundant_parens());
                }
                self.condition(inner)
            }
            RawCondition::And(a, b) => {
                self.operators += 1;
                Condition::And(Box::new(self.condition(a)), Box::new(self.condition(b)))
            }
            RawCondition::Or(a, b) => {
                self.operators += 1;
                Condition::Or(Box::new(self.condition(a)), Box::new(self.condition(b)))
            }
            RawCondition::Not(c) => {
                self.operators += 1;
                Condition::Not(Box::new(self.condition(c)))
            }
            RawCondition::Compare(op, a, b) => {
                self.operators += 1;
                let (a, b) = (self.operand(a), self.operand(b));
                self.distinct(op.symbol(), &a, &b);
                if !matches!(op, Comparator::Eq | Comparator::Ne) {
                    self.orderable(op.symbol(), &[&a, &b]);
                }
                Condition::Compare(*op, a, b)
            }
            RawCondition::Between(v, lo, hi) => {
                self.operators += 1;
                let (v, lo, hi) = (self.operand(v), self.operand(lo), self.operand(hi));
                self.orderable("BETWEEN", &[&v, &lo, &hi]);
                if let (Operand::Value(x), Operand::Value(y)) = (&lo, &hi) {
                    if x.type_name() != y.type_name() {
                        self.r.error(
                            Slot::Function,
                            format!(
                                "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {}, upper bound operand: {}",
                                describe(x),
                                describe(y)
                            ),
                        );
                    } else if compare_values(x, y) == Some(Ordering::Greater) {
                        self.r.error(
                            Slot::Function,
                            format!(
                                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                                describe(x),
                                describe(y)
                            ),
                        );
                    }
                }
                Condition::Between(v, lo, hi)
            }
            RawCondition::In(v, list) => {
                self.operators += 1;
                if list.len() > MAX_IN_OPERANDS {
                    self.r.error(
                        Slot::Function,
                        format!("The IN operator is provided with too many operands; number of operands: {}", list.len()),
                    );
                }
                let v = self.operand(v);
                let list = list.iter().map(|o| self.operand(o)).collect();
                Condition::In(v, list)
            }
            RawCondition::Call(name, args) => self.function(name, args),
        }
    }

    /// A name that is no condition function: an update function, or nothing at all.
    fn unknown_function(&mut self, name: &str) {
        let message = if matches!(name, "if_not_exists" | "list_append") {
            format!("The function is not allowed in a condition expression; function: {name}")
        } else {
            format!("Invalid function name; function: {name}")
        };
        self.r.error(Slot::UnknownFunction, message);
    }

    /// Only strings, numbers and binaries have an order: a literal of another type next to
    /// `<`, `<=`, `>`, `>=` or BETWEEN is refused before any item is read.
    fn orderable(&mut self, operator: &str, operands: &[&Operand]) {
        for operand in operands {
            if let Operand::Value(v) = operand
                && v.scalar_type().is_none()
                && !self.r.has(Slot::Undefined)
            {
                self.r.error(
                    Slot::Function,
                    format!(
                        "Incorrect operand type for operator or function; operator or function: {operator}, operand type: {}",
                        v.type_name()
                    ),
                );
            }
        }
    }

    /// The first operand of a two-operand operator may not be the same path as the second.
    fn distinct(&mut self, operator: &str, a: &Operand, b: &Operand) {
        if let (Operand::Path(x), Operand::Path(y)) = (a, b)
            && x == y
        {
            self.r.error(
                    Slot::Distinct,
                    format!("The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {x}"),
                );
        }
    }

    /// A function standing as a condition.
    fn function(&mut self, name: &str, raw_args: &[RawOperand]) -> Condition {
        self.operators += 1;
        let arity = match name {
            "attribute_exists" | "attribute_not_exists" | "size" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            _ => {
                self.unknown_function(name);
                raw_args.iter().for_each(|a| {
                    self.operand(a);
                });
                return placeholder();
            }
        };
        let args: Vec<Operand> = raw_args.iter().map(|a| self.operand(a)).collect();
        if name == "size" {
            self.r.error(
                Slot::MisusedFunction,
                format!("The function is not allowed to be used this way in an expression; function: {name}"),
            );
            return placeholder();
        }
        if args.len() != arity {
            self.r.error(
                Slot::OperandCount,
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                    args.len()
                ),
            );
            return placeholder();
        }
        let mut args = args.into_iter();
        let (Some(first), second) = (args.next(), args.next()) else {
            return placeholder();
        };
        if let Some(second) = &second {
            self.distinct(name, &first, second);
        }
        let requires_path = |b: &mut Self| {
            b.r.error(Slot::Function, format!("Operator or function requires a document path; operator or function: {name}"));
            placeholder()
        };
        match (name, first, second) {
            ("attribute_exists", Operand::Path(p), None) => Condition::AttributeExists(p),
            ("attribute_not_exists", Operand::Path(p), None) => Condition::AttributeNotExists(p),
            ("attribute_exists" | "attribute_not_exists", _, _) => requires_path(self),
            ("attribute_type", Operand::Path(p), Some(t)) => {
                let type_name = match t {
                    Operand::Value(AttributeValue::S(s)) => s,
                    other => {
                        let shown = match &other {
                            Operand::Value(v) => v.type_name().to_string(),
                            Operand::Size(_) => "N".to_string(),
                            Operand::Path(_) => "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}".to_string(),
                        };
                        self.r.error(
                            Slot::Function,
                            format!("Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {shown}"),
                        );
                        return placeholder();
                    }
                };
                if !ATTRIBUTE_TYPES.contains(&type_name.as_str()) {
                    self.r.error(
                        Slot::Function,
                        format!("Invalid attribute type name found; type: {type_name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"),
                    );
                }
                Condition::AttributeType(p, type_name)
            }
            ("attribute_type", _, _) => requires_path(self),
            ("begins_with", a, Some(b)) => {
                for operand in [&a, &b] {
                    let shown = match operand {
                        Operand::Value(v) if !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)) => Some(v.type_name()),
                        Operand::Size(_) => Some("N"),
                        _ => None,
                    };
                    if let Some(shown) = shown {
                        self.r.error(
                            Slot::Function,
                            format!(
                                "Incorrect operand type for operator or function; operator or function: begins_with, operand type: {shown}"
                            ),
                        );
                    }
                }
                Condition::BeginsWith(a, b)
            }
            ("contains", a, Some(b)) => Condition::Contains(a, b),
            _ => placeholder(),
        }
    }

    /// An operand of a comparison or a function; only `size` may be used as one.
    pub fn operand(&mut self, raw: &RawOperand) -> Operand {
        match raw {
            RawOperand::Path(p) => Operand::Path(self.r.path(p)),
            RawOperand::Value(v) => Operand::Value(self.r.value(v).unwrap_or(AttributeValue::Null)),
            RawOperand::Paren(inner) => {
                if matches!(**inner, RawOperand::Paren(_)) {
                    self.r.error(Slot::Parens, redundant_parens());
                }
                self.operand(inner)
            }
            RawOperand::Call(name, args) if name == "size" => {
                self.operators += 1;
                let mut built: Vec<Operand> = args.iter().map(|a| self.operand(a)).collect();
                if built.len() != 1 {
                    self.r.error(
                        Slot::OperandCount,
                        format!(
                            "Incorrect number of operands for operator or function; operator or function: size, number of operands: {}",
                            built.len()
                        ),
                    );
                    return Operand::Value(AttributeValue::Null);
                }
                let arg = built.remove(0);
                let shown = match &arg {
                    Operand::Value(v @ (AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null)) => Some(v.type_name()),
                    Operand::Size(_) => Some("N"),
                    _ => None,
                };
                if let Some(shown) = shown {
                    self.r.error(
                        Slot::Function,
                        format!("Incorrect operand type for operator or function; operator or function: size, operand type: {shown}"),
                    );
                }
                Operand::Size(Box::new(arg))
            }
            RawOperand::Call(name, args) => {
                let known =
                    matches!(name.as_str(), "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains");
                if known {
                    self.r.error(
                        Slot::MisusedFunction,
                        format!("The function is not allowed to be used this way in an expression; function: {name}"),
                    );
                } else {
                    self.unknown_function(name);
                }
                args.iter().for_each(|a| {
                    self.operand(a);
                });
                Operand::Value(AttributeValue::Null)
            }
            // The condition grammar has no arithmetic; kept total for the type.
            RawOperand::Plus(a, b) | RawOperand::Minus(a, b) => {
                self.operand(a);
                self.operand(b)
            }
        }
    }
}
