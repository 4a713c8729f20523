//! Projection expressions (and legacy AttributesToGet): which parts of an item to return.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html>

use super::path::{Path, PathElement};
use crate::attribute::{AttributeValue, Item, Map};
use std::collections::BTreeMap;

/// The document paths to return; they neither overlap nor conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    paths: Vec<Path>,
}

/// Which parts of a value are selected: all of it, or some map keys, or some list elements.
#[derive(Debug, Default)]
struct Selection {
    all: bool,
    keys: BTreeMap<String, Selection>,
    indexes: BTreeMap<usize, Selection>,
}

impl Selection {
    fn add(&mut self, elements: &[PathElement]) {
        match elements.split_first() {
            None => self.all = true,
            Some((PathElement::Attribute(k), rest)) => self.keys.entry(k.clone()).or_default().add(rest),
            Some((PathElement::Index(i), rest)) => self.indexes.entry(*i).or_default().add(rest),
        }
    }

    fn apply(&self, value: &AttributeValue) -> Option<AttributeValue> {
        if self.all {
            return Some(value.clone());
        }
        match value {
            AttributeValue::M(m) if !self.keys.is_empty() => {
                let mut out = Map::new();
                for (k, selection) in &self.keys {
                    if let Some(v) = m.get(k).and_then(|v| selection.apply(v)) {
                        out.insert(k.clone(), v);
                    }
                }
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            // Selected list elements come back in index order, the gaps closed.
            AttributeValue::L(l) if !self.indexes.is_empty() => {
                let out: Vec<AttributeValue> = self.indexes.iter().filter_map(|(i, s)| l.get(*i).and_then(|v| s.apply(v))).collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

impl Projection {
    pub(crate) fn new(paths: Vec<Path>) -> Projection {
        Projection { paths }
    }

    /// The projection of top-level attributes (legacy AttributesToGet).
    pub fn attributes(names: impl IntoIterator<Item = String>) -> Projection {
        Projection { paths: names.into_iter().map(Path::attribute).collect() }
    }

    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// The top-level attributes the projection reads (index projections check these).
    pub fn top_level_attributes(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for path in &self.paths {
            if !names.contains(&path.top()) {
                names.push(path.top());
            }
        }
        names
    }

    /// The parts of `item` the projection names; paths missing from the item are left out.
    pub fn apply(&self, item: &Item) -> Item {
        project(item, &self.paths)
    }
}

/// The parts of `item` at `paths` (also what UPDATED_OLD/UPDATED_NEW return).
pub(crate) fn project(item: &Item, paths: &[Path]) -> Item {
    let mut tops: Vec<(&str, Selection)> = Vec::new();
    for path in paths {
        let rest = path.rest();
        match tops.iter_mut().find(|(name, _)| *name == path.top()) {
            Some((_, selection)) => selection.add(rest),
            None => {
                let mut selection = Selection::default();
                selection.add(rest);
                tops.push((path.top(), selection));
            }
        }
    }
    let mut out = Item::new();
    for (name, selection) in tops {
        if let Some(v) = item.get(name).and_then(|v| selection.apply(v)) {
            out.insert(name.to_string(), v);
        }
    }
    out
}
