//! The DynamoDB data model: attribute values of the ten types, items, their validation as
//! DynamoDB validates a request, and their size as DynamoDB counts it.

use crate::errors::ValidationError;
use crate::generated;
use crate::number::Number;
use base64::Engine as _;
use bytes::Bytes;
use indexmap::IndexMap;

/// A map value (`M`) or an item: attribute name to value.
pub type Map = IndexMap<String, AttributeValue>;
/// An item is a map of top-level attributes.
pub type Item = Map;

/// Maximum size of an item, in bytes (400 KB).
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items>
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// Documents nest at most 32 levels deep.
pub const MAX_NESTING_DEPTH: usize = 32;

/// One attribute value. Sets keep the order the client sent; they compare as sets.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Bytes),
    Bool(bool),
    Null,
    M(Map),
    L(Vec<AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Bytes>),
}

/// The scalar types a key attribute may have (`AttributeDefinition.AttributeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    /// "S", "N" or "B" as in `AttributeDefinitions`.
    pub fn parse(name: &str) -> Option<ScalarType> {
        match name {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

impl AttributeValue {
    /// The descriptor of the type as the wire names it: `S`, `N`, `B`, `BOOL`, `NULL`, `M`,
    /// `L`, `SS`, `NS`, `BS` (also what `attribute_type` compares with).
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// The type as update-expression errors spell it ("operand type: STRING").
    pub fn long_type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "STRING",
            AttributeValue::N(_) => "NUMBER",
            AttributeValue::B(_) => "BINARY",
            AttributeValue::Bool(_) => "BOOLEAN",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "MAP",
            AttributeValue::L(_) => "LIST",
            AttributeValue::Ss(_) => "STRING SET",
            AttributeValue::Ns(_) => "NUMBER SET",
            AttributeValue::Bs(_) => "BINARY SET",
        }
    }

    /// The scalar type of an `S`, `N` or `B` value: what a key attribute may hold.
    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttributeValue::S(_) => Some(ScalarType::S),
            AttributeValue::N(_) => Some(ScalarType::N),
            AttributeValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn is_set(&self) -> bool {
        matches!(self, AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_))
    }

    /// The bytes this value adds to an item, without its name.
    /// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number_size(n),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            // 3 bytes for the document, 1 per element, plus the elements (and map keys).
            AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
            AttributeValue::Ns(s) => s.iter().map(number_size).sum(),
            AttributeValue::Bs(s) => s.iter().map(Bytes::len).sum(),
        }
    }

    /// Reads a value of the request, validating it as DynamoDB does.
    pub fn from_generated(value: generated::AttributeValue) -> Result<AttributeValue, ValidationError> {
        from_generated_at(value, 1)
    }

    /// The wire shape of this value, numbers in DynamoDB's normalised text.
    pub fn into_generated(self) -> generated::AttributeValue {
        let mut g = generated::AttributeValue::default();
        match self {
            AttributeValue::S(s) => g.s = Some(s),
            AttributeValue::N(n) => g.n = Some(n.to_string()),
            AttributeValue::B(b) => g.b = Some(b),
            AttributeValue::Bool(b) => g.bool = Some(b),
            AttributeValue::Null => g.null = Some(true),
            AttributeValue::M(m) => g.m = Some(m.into_iter().map(|(k, v)| (k, Box::new(v.into_generated()))).collect()),
            AttributeValue::L(l) => g.l = Some(l.into_iter().map(|v| Box::new(v.into_generated())).collect()),
            AttributeValue::Ss(s) => g.ss = Some(s),
            AttributeValue::Ns(s) => g.ns = Some(s.iter().map(Number::to_string).collect()),
            AttributeValue::Bs(s) => g.bs = Some(s),
        }
        g
    }
}

/// "1 byte per two significant digits, plus 1 byte" (the documented approximation).
fn number_size(n: &Number) -> usize {
    n.significant_digits().div_ceil(2) + 1
}

/// The size of an item as DynamoDB counts it against the 400 KB limit and capacity units:
/// each attribute's name in UTF-8 bytes plus its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value.size()).sum()
}

/// PutItem (and every write of a whole item): at most [`MAX_ITEM_SIZE`] bytes.
pub fn check_item_size(item: &Item) -> Result<(), ValidationError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(ValidationError::new("Item size has exceeded the maximum allowed size"));
    }
    Ok(())
}

/// UpdateItem: the item after the update, at most [`MAX_ITEM_SIZE`] bytes.
pub fn check_updated_item_size(item: &Item) -> Result<(), ValidationError> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(ValidationError::new("Item size to update has exceeded the maximum allowed size"));
    }
    Ok(())
}

/// Reads the items and keys of a request.
pub fn item_from_generated(item: IndexMap<String, generated::AttributeValue>) -> Result<Item, ValidationError> {
    item.into_iter().map(|(k, v)| Ok((k, AttributeValue::from_generated(v)?))).collect()
}

pub fn item_into_generated(item: Item) -> IndexMap<String, generated::AttributeValue> {
    item.into_iter().map(|(k, v)| (k, v.into_generated())).collect()
}

fn from_generated_at(value: generated::AttributeValue, depth: usize) -> Result<AttributeValue, ValidationError> {
    if depth > MAX_NESTING_DEPTH {
        return Err(ValidationError::new(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit",
        ));
    }
    let generated::AttributeValue { s, n, b, ss, ns, bs, m, l, null, bool } = value;
    let mut found: Vec<AttributeValue> = Vec::with_capacity(1);
    if let Some(s) = s {
        found.push(AttributeValue::S(s));
    }
    if let Some(n) = n {
        found.push(AttributeValue::N(Number::parse(&n)?));
    }
    if let Some(b) = b {
        found.push(AttributeValue::B(b));
    }
    if let Some(null) = null {
        if !null {
            return Err(ValidationError::parameter("Null attribute value types must have the value of true"));
        }
        found.push(AttributeValue::Null);
    }
    if let Some(b) = bool {
        found.push(AttributeValue::Bool(b));
    }
    if let Some(ss) = ss {
        found.push(string_set(ss)?);
    }
    if let Some(ns) = ns {
        found.push(number_set(&ns)?);
    }
    if let Some(bs) = bs {
        found.push(binary_set(bs)?);
    }
    if let Some(m) = m {
        let mut map = Map::with_capacity(m.len());
        for (k, v) in m {
            map.insert(k, from_generated_at(*v, depth + 1)?);
        }
        found.push(AttributeValue::M(map));
    }
    if let Some(l) = l {
        let list = l.into_iter().map(|v| from_generated_at(*v, depth + 1)).collect::<Result<Vec<_>, _>>()?;
        found.push(AttributeValue::L(list));
    }
    match found.len() {
        0 => Err(ValidationError::new("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")),
        1 => Ok(found.remove(0)),
        _ => Err(ValidationError::new(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        )),
    }
}

fn string_set(ss: Vec<String>) -> Result<AttributeValue, ValidationError> {
    if ss.is_empty() {
        return Err(ValidationError::parameter("An string set  may not be empty"));
    }
    if ss.iter().any(String::is_empty) {
        return Err(ValidationError::parameter("An string set may not have a empty string as a member"));
    }
    if has_duplicates(&ss) {
        return Err(ValidationError::parameter(format!("Input collection [{}] contains duplicates.", ss.join(", "))));
    }
    Ok(AttributeValue::Ss(ss))
}

fn number_set(ns: &[String]) -> Result<AttributeValue, ValidationError> {
    if ns.is_empty() {
        return Err(ValidationError::parameter("An number set  may not be empty"));
    }
    let numbers = ns.iter().map(|n| Number::parse(n)).collect::<Result<Vec<_>, _>>()?;
    if has_duplicates(&numbers) {
        return Err(ValidationError::new("Input collection contains duplicates"));
    }
    Ok(AttributeValue::Ns(numbers))
}

fn binary_set(bs: Vec<Bytes>) -> Result<AttributeValue, ValidationError> {
    if bs.is_empty() {
        return Err(ValidationError::parameter("Binary sets should not be empty"));
    }
    if bs.iter().any(Bytes::is_empty) {
        return Err(ValidationError::parameter("Binary sets may not contain null or empty values"));
    }
    if has_duplicates(&bs) {
        let shown: Vec<String> = bs.iter().map(|b| base64::engine::general_purpose::STANDARD.encode(b)).collect();
        return Err(ValidationError::parameter(format!("Input collection [{}]of type BS contains duplicates.", shown.join(", "))));
    }
    Ok(AttributeValue::Bs(bs))
}

fn has_duplicates<T: std::hash::Hash + Eq>(values: &[T]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    !values.iter().all(|v| seen.insert(v))
}

fn same_members<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    // Sets hold no duplicates, so equal length and inclusion is equality.
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// DynamoDB equality: numbers numerically, sets regardless of order, documents deeply.
impl PartialEq for AttributeValue {
    fn eq(&self, other: &AttributeValue) -> bool {
        use AttributeValue as V;
        match (self, other) {
            (V::S(a), V::S(b)) => a == b,
            (V::N(a), V::N(b)) => a == b,
            (V::B(a), V::B(b)) => a == b,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Null, V::Null) => true,
            (V::M(a), V::M(b)) => a == b,
            (V::L(a), V::L(b)) => a == b,
            (V::Ss(a), V::Ss(b)) => same_members(a, b),
            (V::Ns(a), V::Ns(b)) => same_members(a, b),
            (V::Bs(a), V::Bs(b)) => same_members(a, b),
            _ => false,
        }
    }
}

/// `{S:a}`, `{N:1}`: how AWS quotes a value inside an error message (BETWEEN bounds).
pub(crate) fn describe(value: &AttributeValue) -> String {
    let inner = match value {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64::engine::general_purpose::STANDARD.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        other => format!("{other:?}"),
    };
    format!("AttributeValue: {{{}:{inner}}}", value.type_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> generated::AttributeValue {
        generated::AttributeValue::default()
    }

    fn err(v: generated::AttributeValue) -> String {
        match AttributeValue::from_generated(v) {
            Ok(v) => panic!("accepted {v:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn every_type_round_trips_through_the_wire_shape() {
        let mut m = IndexMap::new();
        m.insert("x".to_string(), Box::new(generated::AttributeValue { n: Some("1.50".into()), ..g() }));
        let values = vec![
            generated::AttributeValue { s: Some("hello".into()), ..g() },
            generated::AttributeValue { s: Some(String::new()), ..g() },
            generated::AttributeValue { b: Some(Bytes::from_static(b"\x00\xff")), ..g() },
            generated::AttributeValue { bool: Some(false), ..g() },
            generated::AttributeValue { null: Some(true), ..g() },
            generated::AttributeValue { ss: Some(vec!["a".into(), "b".into()]), ..g() },
            generated::AttributeValue { bs: Some(vec![Bytes::from_static(b"a")]), ..g() },
            generated::AttributeValue { l: Some(vec![Box::new(generated::AttributeValue { bool: Some(true), ..g() })]), ..g() },
        ];
        for v in values {
            let parsed = AttributeValue::from_generated(v.clone()).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(parsed.into_generated(), v);
        }
        let map = AttributeValue::from_generated(generated::AttributeValue { m: Some(m), ..g() }).map(AttributeValue::into_generated);
        let n = map.ok().and_then(|v| v.m).and_then(|m| m.get("x").and_then(|x| x.n.clone()));
        assert_eq!(n.as_deref(), Some("1.5"), "numbers come back normalised");
    }

    #[test]
    fn malformed_values_are_refused_with_aws_messages() {
        let p = "One or more parameter values were invalid: ";
        assert_eq!(err(g()), "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assert_eq!(
            err(generated::AttributeValue { s: Some("a".into()), n: Some("1".into()), ..g() }),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            err(generated::AttributeValue { s: Some("a".into()), n: Some("b".into()), ..g() }),
            "The parameter cannot be converted to a numeric value: b"
        );
        assert_eq!(
            err(generated::AttributeValue { null: Some(false), ..g() }),
            format!("{p}Null attribute value types must have the value of true")
        );
        assert_eq!(err(generated::AttributeValue { ss: Some(vec![]), ..g() }), format!("{p}An string set  may not be empty"));
        assert_eq!(err(generated::AttributeValue { ns: Some(vec![]), ..g() }), format!("{p}An number set  may not be empty"));
        assert_eq!(err(generated::AttributeValue { bs: Some(vec![]), ..g() }), format!("{p}Binary sets should not be empty"));
        assert_eq!(
            err(generated::AttributeValue { ss: Some(vec!["a".into(), "a".into()]), ..g() }),
            format!("{p}Input collection [a, a] contains duplicates.")
        );
        assert_eq!(
            err(generated::AttributeValue { bs: Some(vec![Bytes::from_static(b"b"), Bytes::from_static(b"b")]), ..g() }),
            format!("{p}Input collection [Yg==, Yg==]of type BS contains duplicates.")
        );
        assert_eq!(
            err(generated::AttributeValue { ns: Some(vec!["1".into(), "1.0".into()]), ..g() }),
            "Input collection contains duplicates"
        );
        assert_eq!(
            err(generated::AttributeValue { ns: Some(vec!["1".into(), "".into()]), ..g() }),
            "The parameter cannot be converted to a numeric value"
        );
        assert_eq!(
            err(generated::AttributeValue { ns: Some(vec!["1".into(), "b".into()]), ..g() }),
            "The parameter cannot be converted to a numeric value: b"
        );
        let nested = generated::AttributeValue { l: Some(vec![Box::new(g())]), ..g() };
        assert_eq!(err(nested), "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    }

    #[test]
    fn documents_deeper_than_32_levels_are_refused() {
        let mut v = generated::AttributeValue { s: Some("x".into()), ..g() };
        for _ in 0..32 {
            v = generated::AttributeValue { l: Some(vec![Box::new(v)]), ..g() };
        }
        assert_eq!(
            AttributeValue::from_generated(v.clone()).map_err(|e| e.message).err().as_deref(),
            Some("Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
        );
        let mut ok = generated::AttributeValue { s: Some("x".into()), ..g() };
        for _ in 0..31 {
            ok = generated::AttributeValue { l: Some(vec![Box::new(ok)]), ..g() };
        }
        assert!(AttributeValue::from_generated(ok).is_ok());
    }

    #[test]
    fn sets_compare_regardless_of_order_and_numbers_numerically() {
        let n = |s: &str| Number::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(AttributeValue::Ss(vec!["a".into(), "b".into()]), AttributeValue::Ss(vec!["b".into(), "a".into()]));
        assert_ne!(AttributeValue::Ss(vec!["a".into()]), AttributeValue::Ss(vec!["a".into(), "b".into()]));
        assert_eq!(AttributeValue::Ns(vec![n("1"), n("2.0")]), AttributeValue::Ns(vec![n("2"), n("1")]));
        assert_eq!(AttributeValue::N(n("10")), AttributeValue::N(n("1e1")));
        assert_ne!(AttributeValue::S("1".into()), AttributeValue::N(n("1")));
    }

    #[test]
    fn item_size_follows_the_documented_rules() {
        let n = |s: &str| AttributeValue::N(Number::parse(s).unwrap_or_else(|e| panic!("{e}")));
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("abc".into())); // 2 + 3
        item.insert("n".into(), n("12345")); // 1 + ceil(5/2) + 1 = 5
        item.insert("b".into(), AttributeValue::B(Bytes::from_static(b"\x01\x02"))); // 1 + 2
        item.insert("t".into(), AttributeValue::Bool(true)); // 1 + 1
        item.insert("z".into(), AttributeValue::Null); // 1 + 1
        item.insert("e".into(), AttributeValue::L(vec![])); // 1 + 3
        let mut m = Map::new();
        m.insert("k".into(), AttributeValue::S("vv".into()));
        item.insert("m".into(), AttributeValue::M(m)); // 1 + 3 + (1 + 2 + 1)
        item.insert("l".into(), AttributeValue::L(vec![AttributeValue::S("x".into()), n("1")])); // 1 + 3 + (1+1) + (2+1)
        item.insert("ss".into(), AttributeValue::Ss(vec!["ab".into(), "c".into()])); // 2 + 3
        item.insert("ü".into(), AttributeValue::S("é".into())); // 2 + 2
        assert_eq!(item_size(&item), 5 + 5 + 3 + 2 + 2 + 4 + 8 + 9 + 5 + 4);
    }

    #[test]
    fn items_over_400_kb_are_refused() {
        let mut item = Item::new();
        item.insert("a".into(), AttributeValue::S("x".repeat(MAX_ITEM_SIZE - 1)));
        assert_eq!(check_item_size(&item), Ok(()));
        item.insert("b".into(), AttributeValue::Bool(true));
        assert_eq!(check_item_size(&item).map_err(|e| e.message), Err("Item size has exceeded the maximum allowed size".into()));
        assert_eq!(
            check_updated_item_size(&item).map_err(|e| e.message),
            Err("Item size to update has exceeded the maximum allowed size".into())
        );
    }
}
