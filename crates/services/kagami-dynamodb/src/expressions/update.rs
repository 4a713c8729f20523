//! Update expressions (and legacy AttributeUpdates): the checked list of actions, built
//! with DynamoDB's semantic checks, and their application to an item.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html>

use super::parser::{RawClause, RawOperand};
use super::path::{Path, PathElement, clash_errors};
use super::projection::project;
use super::resolve::{Resolver, Slot};
use crate::attribute::{AttributeValue, Item};
use crate::errors::ValidationError;

/// A value a SET action reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOperand {
    Path(Path),
    Value(AttributeValue),
    /// `if_not_exists(path, operand)`.
    IfNotExists(Path, Box<SetOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// The right side of `SET path = …`.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Operand(SetOperand),
    Plus(SetOperand, SetOperand),
    Minus(SetOperand, SetOperand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(Path, SetValue),
    Remove(Path),
    /// Adds a number, or the members of a set (or, from legacy AttributeUpdates only, the
    /// elements of a list).
    Add(Path, AttributeValue),
    /// Removes the members of a set.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _) | UpdateAction::Remove(p) | UpdateAction::Add(p, _) | UpdateAction::Delete(p, _) => p,
        }
    }
}

/// A checked update: every clause at most once, no two paths overlapping or conflicting.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    actions: Vec<UpdateAction>,
    /// From AttributeUpdates: type errors are worded the legacy way.
    legacy: bool,
}

/// The item after an update, and what changed (for ReturnValues UPDATED_OLD/UPDATED_NEW).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    pub item: Item,
    pub updated_paths: Vec<Path>,
}

impl UpdateOutcome {
    /// `ReturnValues: UPDATED_OLD`: the updated parts as they were in `old`.
    pub fn updated_old(&self, old: &Item) -> Item {
        project(old, &self.updated_paths)
    }

    /// The top-level attributes the update wrote or removed, in order (stream records and
    /// index maintenance look at these).
    pub fn changed_attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for path in &self.updated_paths {
            if !names.contains(&path.top()) {
                names.push(path.top());
            }
        }
        names
    }

    /// `ReturnValues: UPDATED_NEW`: the updated parts as they are now.
    pub fn updated_new(&self) -> Item {
        project(&self.item, &self.updated_paths)
    }
}

pub(crate) const ERROR_ORDER: &[Slot] = &[
    Slot::Reserved,
    Slot::PathDepth,
    Slot::UnknownFunction,
    Slot::MisusedFunction,
    Slot::Section,
    Slot::UndefinedName,
    Slot::UndefinedValue,
    Slot::Overlap,
    Slot::Conflict,
    Slot::Operand,
    Slot::Function,
];

fn invalid_path() -> ValidationError {
    ValidationError::new("The document path provided in the update expression is invalid for update")
}

fn missing_attribute() -> ValidationError {
    ValidationError::new("The provided expression refers to an attribute that does not exist in the item")
}

impl Update {
    pub(crate) fn new(actions: Vec<UpdateAction>, legacy: bool) -> Update {
        Update { actions, legacy }
    }

    pub fn actions(&self) -> &[UpdateAction] {
        &self.actions
    }

    /// The top-level attributes the update writes, in order; the caller refuses key
    /// attributes ("Cannot update attribute a. This attribute is part of the key").
    pub fn touched_attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for action in &self.actions {
            let top = action.path().top();
            if !names.contains(&top) {
                names.push(top);
            }
        }
        names
    }

    /// Every path the update writes or reads, targets first.
    pub fn paths(&self) -> Vec<&Path> {
        fn operand_paths<'a>(operand: &'a SetOperand, out: &mut Vec<&'a Path>) {
            match operand {
                SetOperand::Path(p) => out.push(p),
                SetOperand::Value(_) => {}
                SetOperand::IfNotExists(p, fallback) => {
                    out.push(p);
                    operand_paths(fallback, out);
                }
                SetOperand::ListAppend(a, b) => {
                    operand_paths(a, out);
                    operand_paths(b, out);
                }
            }
        }
        let mut out: Vec<&Path> = self.actions.iter().map(UpdateAction::path).collect();
        for action in &self.actions {
            if let UpdateAction::Set(_, value) = action {
                match value {
                    SetValue::Operand(o) => operand_paths(o, &mut out),
                    SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                        operand_paths(a, &mut out);
                        operand_paths(b, &mut out);
                    }
                }
            }
        }
        out
    }

    fn data_type_error(&self) -> ValidationError {
        if self.legacy {
            ValidationError::new("Type mismatch for attribute to update")
        } else {
            ValidationError::new("An operand in the update expression has an incorrect data type")
        }
    }

    /// Applies the update to an existing `item`. Every operand is read from the item as it
    /// was before the update.
    pub fn apply(&self, item: &Item) -> Result<UpdateOutcome, ValidationError> {
        self.apply_to(item, false)
    }

    /// Applies the update to an item that does not exist yet, which starts as its `key`
    /// attributes. DynamoDB ignores a REMOVE of a nested path here instead of refusing it.
    pub fn apply_new(&self, key: &Item) -> Result<UpdateOutcome, ValidationError> {
        self.apply_to(key, true)
    }

    fn apply_to(&self, item: &Item, absent: bool) -> Result<UpdateOutcome, ValidationError> {
        let mut values = Vec::with_capacity(self.actions.len());
        for action in &self.actions {
            if let UpdateAction::Set(_, value) = action {
                values.push(Some(self.evaluate(value, item)?));
            } else {
                values.push(None);
            }
        }
        let mut new = item.clone();
        let mut sets: Vec<(&Path, AttributeValue)> = Vec::new();
        let mut removes: Vec<&Path> = Vec::new();
        for (action, value) in self.actions.iter().zip(values) {
            match (action, value) {
                (UpdateAction::Set(path, _), Some(value)) => sets.push((path, value)),
                (UpdateAction::Remove(path), _) => removes.push(path),
                (UpdateAction::Add(path, value), _) => self.add_at(&mut new, path, value.clone())?,
                (UpdateAction::Delete(path, value), _) => self.delete_at(&mut new, path, value.clone())?,
                _ => {}
            }
        }
        // Elements appended past the end of a list land in the order of their indexes.
        sets.sort_by(|a, b| a.0.cmp(b.0));
        for (path, value) in sets {
            set_at(&mut new, path, value)?;
        }
        // Indexes of one list refer to the list before the update: remove from the back.
        removes.sort_by(|a, b| b.cmp(a));
        for path in removes {
            match remove_at(&mut new, path) {
                Err(_) if absent => {}
                other => other?,
            }
        }
        Ok(UpdateOutcome { item: new, updated_paths: self.actions.iter().map(|a| a.path().clone()).collect() })
    }

    fn evaluate(&self, value: &SetValue, item: &Item) -> Result<AttributeValue, ValidationError> {
        match value {
            SetValue::Operand(o) => self.operand(o, item),
            SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                let (AttributeValue::N(x), AttributeValue::N(y)) = (self.operand(a, item)?, self.operand(b, item)?) else {
                    return Err(self.data_type_error());
                };
                let result = if matches!(value, SetValue::Plus(..)) { x.checked_add(&y) } else { x.checked_sub(&y) };
                Ok(AttributeValue::N(result?))
            }
        }
    }

    fn operand(&self, operand: &SetOperand, item: &Item) -> Result<AttributeValue, ValidationError> {
        match operand {
            SetOperand::Path(p) => p.get(item).cloned().ok_or_else(missing_attribute),
            SetOperand::Value(v) => Ok(v.clone()),
            SetOperand::IfNotExists(p, fallback) => match p.get(item) {
                Some(v) => Ok(v.clone()),
                None => self.operand(fallback, item),
            },
            SetOperand::ListAppend(a, b) => {
                let (AttributeValue::L(mut x), AttributeValue::L(y)) = (self.operand(a, item)?, self.operand(b, item)?) else {
                    return Err(self.data_type_error());
                };
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
        }
    }

    fn add_at(&self, item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ValidationError> {
        let sum = match (path.get(item), value) {
            (None, value) => value,
            (Some(AttributeValue::N(a)), AttributeValue::N(b)) => AttributeValue::N(a.checked_add(&b)?),
            (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => AttributeValue::Ss(union(a, b)),
            (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => AttributeValue::Ns(union(a, b)),
            (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => AttributeValue::Bs(union(a, b)),
            (Some(AttributeValue::L(a)), AttributeValue::L(b)) if self.legacy => {
                let mut list = a.clone();
                list.extend(b);
                AttributeValue::L(list)
            }
            _ => return Err(self.data_type_error()),
        };
        set_at(item, path, sum)
    }

    fn delete_at(&self, item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ValidationError> {
        if path.is_nested() && parent(item, path).is_none() {
            return Err(invalid_path());
        }
        let remaining = match (path.get(item), value) {
            (None, _) => return Ok(()),
            (Some(AttributeValue::Ss(a)), AttributeValue::Ss(b)) => difference(a, &b).map(AttributeValue::Ss),
            (Some(AttributeValue::Ns(a)), AttributeValue::Ns(b)) => difference(a, &b).map(AttributeValue::Ns),
            (Some(AttributeValue::Bs(a)), AttributeValue::Bs(b)) => difference(a, &b).map(AttributeValue::Bs),
            _ => return Err(self.data_type_error()),
        };
        match remaining {
            Some(set) => set_at(item, path, set),
            // A set may not be empty: deleting its last member removes the attribute.
            None => remove_at(item, path),
        }
    }
}

fn union<T: Clone + PartialEq>(a: &[T], b: Vec<T>) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Option<Vec<T>> {
    let out: Vec<T> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
    (!out.is_empty()).then_some(out)
}

/// The container holding the last element of a nested `path`.
fn parent<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    let (_, init) = path.rest().split_last()?;
    let mut value = item.get(path.top())?;
    for element in init {
        value = super::path::step(value, element)?;
    }
    Some(value)
}

fn parent_mut<'a>(item: &'a mut Item, path: &'a Path) -> Result<(&'a mut AttributeValue, &'a PathElement), ValidationError> {
    let Some((last, init)) = path.rest().split_last() else {
        return Err(invalid_path());
    };
    let mut value = item.get_mut(path.top()).ok_or_else(invalid_path)?;
    for element in init {
        value = match (value, element) {
            (AttributeValue::M(m), PathElement::Attribute(k)) => m.get_mut(k).ok_or_else(invalid_path)?,
            (AttributeValue::L(l), PathElement::Index(i)) => l.get_mut(*i).ok_or_else(invalid_path)?,
            _ => return Err(invalid_path()),
        };
    }
    Ok((value, last))
}

/// Writes `value` at `path`; a list index past the end appends.
fn set_at(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ValidationError> {
    if !path.is_nested() {
        item.insert(path.top().to_string(), value);
        return Ok(());
    }
    match parent_mut(item, path)? {
        (AttributeValue::M(m), PathElement::Attribute(k)) => {
            m.insert(k.clone(), value);
        }
        (AttributeValue::L(l), PathElement::Index(i)) => match l.get_mut(*i) {
            Some(slot) => *slot = value,
            None => l.push(value),
        },
        _ => return Err(invalid_path()),
    }
    Ok(())
}

/// Removes what is at `path`; a missing attribute, key or index is no error, a missing or
/// mistyped parent is.
fn remove_at(item: &mut Item, path: &Path) -> Result<(), ValidationError> {
    if !path.is_nested() {
        item.shift_remove(path.top());
        return Ok(());
    }
    match parent_mut(item, path)? {
        (AttributeValue::M(m), PathElement::Attribute(k)) => {
            m.shift_remove(k);
        }
        (AttributeValue::L(l), PathElement::Index(i)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

// ---- building the checked update -------------------------------------------------------

pub(crate) fn build(clauses: &[RawClause], r: &mut Resolver) -> Update {
    let mut seen: Vec<&str> = Vec::new();
    let mut actions = Vec::new();
    for clause in clauses {
        let keyword = clause.keyword();
        if seen.contains(&keyword) {
            r.error(Slot::Section, format!("The \"{keyword}\" section can only be used once in an update expression;"));
        }
        seen.push(keyword);
        match clause {
            RawClause::Set(list) => {
                for (path, value) in list {
                    let path = r.path(path);
                    let value = set_value(value, r);
                    actions.push(UpdateAction::Set(path, value));
                }
            }
            RawClause::Remove(list) => {
                for path in list {
                    actions.push(UpdateAction::Remove(r.path(path)));
                }
            }
            RawClause::Add(list) | RawClause::Delete(list) => {
                let add = matches!(clause, RawClause::Add(_));
                for (path, value) in list {
                    let path = r.path(path);
                    let value = r.value(value).unwrap_or(AttributeValue::Null);
                    let allowed = value.is_set() || (add && matches!(value, AttributeValue::N(_)));
                    if !allowed && !r.has(Slot::Undefined) {
                        r.error(
                            Slot::Operand,
                            format!(
                                "Incorrect operand type for operator or function; operator: {keyword}, operand type: {}",
                                value.long_type_name()
                            ),
                        );
                    }
                    actions.push(if add { UpdateAction::Add(path, value) } else { UpdateAction::Delete(path, value) });
                }
            }
        }
    }
    let paths: Vec<&Path> = actions.iter().map(UpdateAction::path).collect();
    let (overlap, conflict) = clash_errors(&paths);
    if let Some(m) = overlap {
        r.error(Slot::Overlap, m);
    }
    if let Some(m) = conflict {
        r.error(Slot::Conflict, m);
    }
    Update::new(actions, false)
}

fn set_value(raw: &RawOperand, r: &mut Resolver) -> SetValue {
    match raw {
        RawOperand::Paren(inner) => set_value(inner, r),
        RawOperand::Plus(a, b) | RawOperand::Minus(a, b) => {
            let symbol = if matches!(raw, RawOperand::Plus(..)) { "+" } else { "-" };
            let (a, b) = (set_operand(a, r), set_operand(b, r));
            for side in [&a, &b] {
                if let SetOperand::Value(v) = side
                    && !matches!(v, AttributeValue::N(_))
                    && !r.has(Slot::Undefined)
                {
                    r.error(
                        Slot::Function,
                        format!(
                            "Incorrect operand type for operator or function; operator or function: {symbol}, operand type: {}",
                            v.type_name()
                        ),
                    );
                }
            }
            if symbol == "+" { SetValue::Plus(a, b) } else { SetValue::Minus(a, b) }
        }
        other => SetValue::Operand(set_operand(other, r)),
    }
}

fn set_operand(raw: &RawOperand, r: &mut Resolver) -> SetOperand {
    match raw {
        RawOperand::Path(p) => SetOperand::Path(r.path(p)),
        RawOperand::Value(v) => SetOperand::Value(r.value(v).unwrap_or(AttributeValue::Null)),
        RawOperand::Paren(inner) => set_operand(inner, r),
        RawOperand::Plus(a, b) | RawOperand::Minus(a, b) => {
            // Arithmetic nests only at the top of a SET value; the parser keeps it there.
            set_operand(a, r);
            set_operand(b, r)
        }
        RawOperand::Call(name, args) => {
            let known = matches!(name.as_str(), "if_not_exists" | "list_append");
            if !known {
                let condition_function = matches!(
                    name.as_str(),
                    "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains" | "size"
                );
                let message = if condition_function {
                    format!("The function is not allowed in an update expression; function: {name}")
                } else {
                    format!("Invalid function name; function: {name}")
                };
                r.error(Slot::UnknownFunction, message);
            }
            let mut built: Vec<SetOperand> = args.iter().map(|a| set_operand(a, r)).collect();
            if !known {
                return SetOperand::Value(AttributeValue::Null);
            }
            if built.len() != 2 {
                r.error(
                    Slot::Function,
                    format!(
                        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                        built.len()
                    ),
                );
                return SetOperand::Value(AttributeValue::Null);
            }
            let second = built.pop().unwrap_or(SetOperand::Value(AttributeValue::Null));
            let first = built.pop().unwrap_or(SetOperand::Value(AttributeValue::Null));
            if name == "if_not_exists" {
                let SetOperand::Path(path) = first else {
                    r.error(Slot::Function, "Operator or function requires a document path; operator or function: if_not_exists");
                    return SetOperand::Value(AttributeValue::Null);
                };
                return SetOperand::IfNotExists(path, Box::new(second));
            }
            if args.iter().any(|a| matches!(a, RawOperand::Call(inner, _) if inner == "list_append")) {
                r.error(Slot::MisusedFunction, "The function is not allowed to be used this way in an expression; function: list_append");
            }
            for side in [&first, &second] {
                if let SetOperand::Value(v) = side
                    && !matches!(v, AttributeValue::L(_))
                    && !r.has(Slot::Undefined)
                {
                    r.error(
                        Slot::Function,
                        format!(
                            "Incorrect operand type for operator or function; operator or function: list_append, operand type: {}",
                            v.type_name()
                        ),
                    );
                }
            }
            SetOperand::ListAppend(Box::new(first), Box::new(second))
        }
    }
}
