//! Document paths (`a.b[2].#c` once names are resolved): reading them from an item, and
//! the overlap and conflict rules DynamoDB applies to the paths of one expression.

use crate::attribute::{AttributeValue, Item};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// A top-level attribute or a map key.
    Attribute(String),
    /// A list index.
    Index(usize),
}

/// A document path: a top-level attribute name followed by map keys and list indexes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    top: String,
    rest: Vec<PathElement>,
}

impl Path {
    /// The path of a top-level attribute.
    pub fn attribute(name: impl Into<String>) -> Path {
        Path { top: name.into(), rest: Vec::new() }
    }

    pub(crate) fn new(top: String, rest: Vec<PathElement>) -> Path {
        Path { top, rest }
    }

    /// The top-level attribute the path starts at.
    pub fn top(&self) -> &str {
        &self.top
    }

    /// The elements after the top-level attribute.
    pub fn rest(&self) -> &[PathElement] {
        &self.rest
    }

    pub fn is_nested(&self) -> bool {
        !self.rest.is_empty()
    }

    /// All elements, the top-level attribute first.
    pub fn elements(&self) -> impl Iterator<Item = PathElement> + '_ {
        std::iter::once(PathElement::Attribute(self.top.clone())).chain(self.rest.iter().cloned())
    }

    /// The value at this path in `item`, if every step exists and has the right type.
    pub fn get<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let mut value = item.get(&self.top)?;
        for element in &self.rest {
            value = step(value, element)?;
        }
        Some(value)
    }
}

pub(crate) fn step<'a>(value: &'a AttributeValue, element: &PathElement) -> Option<&'a AttributeValue> {
    match (value, element) {
        (AttributeValue::M(m), PathElement::Attribute(k)) => m.get(k),
        (AttributeValue::L(l), PathElement::Index(i)) => l.get(*i),
        _ => None,
    }
}

/// `[a, b, [1]]`: how DynamoDB prints a path in its error messages.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}", self.top)?;
        for element in &self.rest {
            match element {
                PathElement::Attribute(a) => write!(f, ", {a}")?,
                PathElement::Index(i) => write!(f, ", [{i}]")?,
            }
        }
        f.write_str("]")
    }
}

/// How two paths of one expression relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clash {
    /// One is a prefix of the other (or they are equal).
    Overlap,
    /// At the first place they differ, one has a map key and the other a list index.
    Conflict,
}

pub(crate) fn clash(a: &Path, b: &Path) -> Option<Clash> {
    if a.top != b.top {
        return None;
    }
    for (x, y) in a.rest.iter().zip(&b.rest) {
        match (x, y) {
            (PathElement::Attribute(p), PathElement::Attribute(q)) if p != q => return None,
            (PathElement::Index(p), PathElement::Index(q)) if p != q => return None,
            (PathElement::Attribute(_), PathElement::Index(_)) | (PathElement::Index(_), PathElement::Attribute(_)) => {
                return Some(Clash::Conflict);
            }
            _ => {}
        }
    }
    Some(Clash::Overlap)
}

/// The first overlap and the first conflict among `paths`, each compared with the paths
/// before it, worded as DynamoDB words them (without the "Invalid …:" prefix).
pub(crate) fn clash_errors(paths: &[&Path]) -> (Option<String>, Option<String>) {
    let mut overlap = None;
    let mut conflict = None;
    for (i, path) in paths.iter().enumerate() {
        for earlier in paths.iter().take(i) {
            match clash(earlier, path) {
                Some(Clash::Overlap) if overlap.is_none() => {
                    overlap = Some(format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {path}"
                    ));
                }
                Some(Clash::Conflict) if conflict.is_none() => {
                    conflict = Some(format!(
                        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {earlier}, path two: {path}"
                    ));
                }
                _ => {}
            }
        }
    }
    (overlap, conflict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(top: &str, rest: &[PathElement]) -> Path {
        Path::new(top.to_string(), rest.to_vec())
    }

    fn a(s: &str) -> PathElement {
        PathElement::Attribute(s.to_string())
    }

    #[test]
    fn paths_print_as_in_aws_messages() {
        assert_eq!(p("c", &[PathElement::Index(3), a("[3]")]).to_string(), "[c, [3], [3]]");
        assert_eq!(Path::attribute("a").to_string(), "[a]");
    }

    #[test]
    fn overlap_and_conflict_follow_the_first_difference() {
        assert_eq!(clash(&p("a", &[]), &p("a", &[a("b")])), Some(Clash::Overlap));
        assert_eq!(clash(&p("a", &[a("b")]), &p("a", &[a("b")])), Some(Clash::Overlap));
        assert_eq!(clash(&p("a", &[a("b")]), &p("a", &[PathElement::Index(1)])), Some(Clash::Conflict));
        assert_eq!(clash(&p("a", &[a("b")]), &p("a", &[a("c")])), None);
        assert_eq!(clash(&p("a", &[PathElement::Index(1)]), &p("a", &[PathElement::Index(2)])), None);
        assert_eq!(clash(&p("a", &[]), &p("b", &[])), None);
    }
}
