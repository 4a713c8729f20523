//! Primary keys: reading them out of items and `Key` parameters as DynamoDB validates them,
//! and the rules expressions must follow around key attributes.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys>

use crate::attribute::{AttributeValue, Item, ScalarType};
use crate::errors::ValidationError;
use crate::expressions::{Condition, Update};
use crate::ordering::KeyValue;

/// Bytes a partition key value may have.
pub const MAX_HASH_KEY_SIZE: usize = 2048;
/// Bytes a sort key value may have.
pub const MAX_RANGE_KEY_SIZE: usize = 1024;

/// One key attribute of a table or index: its name and declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttribute {
    pub name: String,
    pub scalar_type: ScalarType,
}

/// The key schema of a table or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: KeyAttribute,
    pub range: Option<KeyAttribute>,
}

/// A primary key. Ordered by partition then sort key, so it can key a `BTreeMap` in which
/// a Query is a range read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimaryKey {
    pub hash: KeyValue,
    pub range: Option<KeyValue>,
}

fn does_not_match() -> ValidationError {
    ValidationError::new("The provided key element does not match the schema")
}

/// Key values may not be empty: DynamoDB's message names the attribute.
pub(crate) fn check_not_empty(name: &str, value: &AttributeValue) -> Result<(), ValidationError> {
    let kind = match value {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(ValidationError::new(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
    )))
}

fn check_size(value: &KeyValue, range: bool) -> Result<(), ValidationError> {
    let size = value.to_attribute().size();
    if !range && size > MAX_HASH_KEY_SIZE {
        // AWS's text has no space between "of" and the number.
        return Err(ValidationError::parameter(format!("Size of hashkey has exceeded the maximum size limit of{MAX_HASH_KEY_SIZE} bytes")));
    }
    if range && size > MAX_RANGE_KEY_SIZE {
        return Err(ValidationError::parameter(format!(
            "Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_KEY_SIZE} bytes"
        )));
    }
    Ok(())
}

impl KeySchema {
    fn attributes(&self) -> impl Iterator<Item = (&KeyAttribute, bool)> {
        std::iter::once((&self.hash, false)).chain(self.range.iter().map(|r| (r, true)))
    }

    pub fn is_key_attribute(&self, name: &str) -> bool {
        self.attributes().any(|(a, _)| a.name == name)
    }

    /// The key of an item to write (PutItem, a Put in a transaction): every key attribute
    /// present, with its declared type, not empty, within the size limits.
    pub fn key_of_item(&self, item: &Item) -> Result<PrimaryKey, ValidationError> {
        let mut values = Vec::with_capacity(2);
        for (attribute, range) in self.attributes() {
            let Some(value) = item.get(&attribute.name) else {
                return Err(ValidationError::parameter(format!("Missing the key {} in the item", attribute.name)));
            };
            let actual = value.type_name();
            let key = KeyValue::from_attribute(value).filter(|k| k.scalar_type() == attribute.scalar_type).ok_or_else(|| {
                ValidationError::parameter(format!(
                    "Type mismatch for key {} expected: {} actual: {actual}",
                    attribute.name,
                    attribute.scalar_type.as_str()
                ))
            })?;
            check_not_empty(&attribute.name, value)?;
            check_size(&key, range)?;
            values.push(key);
        }
        let mut values = values.into_iter();
        let hash = values.next().ok_or_else(does_not_match)?;
        Ok(PrimaryKey { hash, range: values.next() })
    }

    /// The `Key` parameter of GetItem, DeleteItem, UpdateItem: exactly the key attributes.
    pub fn key_from_key(&self, key: &Item) -> Result<PrimaryKey, ValidationError> {
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(does_not_match());
        }
        let mut values = Vec::with_capacity(2);
        for (attribute, range) in self.attributes() {
            let value = key.get(&attribute.name).ok_or_else(does_not_match)?;
            let k = KeyValue::from_attribute(value).filter(|k| k.scalar_type() == attribute.scalar_type).ok_or_else(does_not_match)?;
            check_not_empty(&attribute.name, value)?;
            check_size(&k, range)?;
            values.push(k);
        }
        let mut values = values.into_iter();
        let hash = values.next().ok_or_else(does_not_match)?;
        Ok(PrimaryKey { hash, range: values.next() })
    }

    /// The key attributes as an item (what UpdateItem starts from for a new item, what
    /// LastEvaluatedKey returns).
    pub fn key_item(&self, key: &PrimaryKey) -> Item {
        let mut item = Item::new();
        item.insert(self.hash.name.clone(), key.hash.to_attribute());
        if let (Some(attribute), Some(value)) = (&self.range, &key.range) {
            item.insert(attribute.name.clone(), value.to_attribute());
        }
        item
    }

    /// UpdateItem may not write key attributes, not even nested under them.
    pub fn check_update(&self, update: &Update) -> Result<(), ValidationError> {
        match update.touched_attributes().into_iter().find(|name| self.is_key_attribute(name)) {
            Some(name) => Err(ValidationError::parameter(format!("Cannot update attribute {name}. This attribute is part of the key"))),
            None => Ok(()),
        }
    }

    /// Key attributes of the table and of its indexes hold scalars: an update may not reach
    /// into one with `.` or `[]`, whether it writes or reads there. `index_keys` are the
    /// key attributes of the table's secondary indexes.
    pub fn check_nested_key_access(update: &Update, index_keys: &[&str]) -> Result<(), ValidationError> {
        match update.paths().into_iter().find(|p| p.is_nested() && index_keys.contains(&p.top())) {
            Some(path) => Err(ValidationError::new(format!(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {}",
                path.top()
            ))),
            None => Ok(()),
        }
    }

    /// A Query's FilterExpression (or QueryFilter) may not read key attributes.
    pub fn check_query_filter(&self, filter: &Condition, legacy: bool) -> Result<(), ValidationError> {
        match filter.top_level_attributes().into_iter().find(|name| self.is_key_attribute(name)) {
            Some(name) if legacy => {
                Err(ValidationError::new(format!("QueryFilter can only contain non-primary key attributes: Primary key attribute: {name}")))
            }
            Some(name) => Err(ValidationError::new(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {name}"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expressions::{ExpressionAttributes, ExpressionKind};
    use crate::number::Number;
    use bytes::Bytes;

    fn schema(range: bool) -> KeySchema {
        KeySchema {
            hash: KeyAttribute { name: "pk".into(), scalar_type: ScalarType::S },
            range: range.then(|| KeyAttribute { name: "sk".into(), scalar_type: ScalarType::N }),
        }
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect()
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from(v))
    }

    #[test]
    fn an_item_carries_its_key() {
        let key = schema(true).key_of_item(&item(&[("pk", s("a")), ("sk", n(1)), ("x", s("y"))]));
        assert_eq!(key, Ok(PrimaryKey { hash: KeyValue::S("a".into()), range: Some(KeyValue::N(Number::from(1i64))) }));
        let key = key.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(schema(true).key_item(&key), item(&[("pk", s("a")), ("sk", n(1))]));
    }

    #[test]
    fn items_without_a_valid_key_are_refused_with_aws_messages() {
        let p = "One or more parameter values were invalid: ";
        let cases: Vec<(Item, String)> = vec![
            (item(&[("sk", n(1))]), format!("{p}Missing the key pk in the item")),
            (item(&[("pk", s("a"))]), format!("{p}Missing the key sk in the item")),
            (item(&[("pk", n(1)), ("sk", n(1))]), format!("{p}Type mismatch for key pk expected: S actual: N")),
            (item(&[("pk", s("a")), ("sk", AttributeValue::Ss(vec!["x".into()]))]), format!("{p}Type mismatch for key sk expected: N actual: SS")),
            (
                item(&[("pk", s("")), ("sk", n(1))]),
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into(),
            ),
            (item(&[("pk", s(&"x".repeat(2049))), ("sk", n(1))]), format!("{p}Size of hashkey has exceeded the maximum size limit of2048 bytes")),
        ];
        for (it, message) in cases {
            assert_eq!(schema(true).key_of_item(&it).map_err(|e| e.message), Err(message));
        }
        let binary = KeySchema { hash: KeyAttribute { name: "b".into(), scalar_type: ScalarType::B }, range: None };
        assert_eq!(
            binary.key_of_item(&item(&[("b", AttributeValue::B(Bytes::new()))])).map_err(|e| e.message),
            Err("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: b".into())
        );
        assert!(schema(false).key_of_item(&item(&[("pk", s(&"x".repeat(2048)))])).is_ok());
    }

    #[test]
    fn a_key_parameter_must_match_the_schema_exactly() {
        let mismatch = Err("The provided key element does not match the schema".to_string());
        for key in [
            item(&[]),
            item(&[("pk", s("a"))]),
            item(&[("pk", s("a")), ("sk", n(1)), ("x", n(1))]),
            item(&[("pk", n(1)), ("sk", n(1))]),
            item(&[("pk", s("a")), ("other", n(1))]),
        ] {
            assert_eq!(schema(true).key_from_key(&key).map(|_| ()).map_err(|e| e.message), mismatch, "{key:?}");
        }
        assert!(schema(true).key_from_key(&item(&[("sk", n(1)), ("pk", s("a"))])).is_ok());
    }

    #[test]
    fn updates_and_query_filters_may_not_touch_key_attributes() {
        let mut a = ExpressionAttributes::from_parts(Default::default(), [(":v".to_string(), n(1))].into_iter().collect());
        let update = a.update("SET x = :v ADD sk.b :v").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            schema(true).check_update(&update).map_err(|e| e.message),
            Err("One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key".into())
        );
        let reads_index_key = a.update("SET e = list_append(x, y), f = d[1]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            KeySchema::check_nested_key_access(&reads_index_key, &["c", "d"]).map_err(|e| e.message),
            Err("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: d".into())
        );
        let writes_index_key = a.update("ADD d.b :v").unwrap_or_else(|e| panic!("{e}"));
        assert!(KeySchema::check_nested_key_access(&writes_index_key, &["d"]).is_err());
        let scalar = a.update("SET d = :v").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(KeySchema::check_nested_key_access(&scalar, &["d"]), Ok(()));
        let filter = a.condition(ExpressionKind::FilterExpression, "x = :v AND pk[1] = :v").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            schema(true).check_query_filter(&filter, false).map_err(|e| e.message),
            Err("Filter Expression can only contain non-primary key attributes: Primary key attribute: pk".into())
        );
        assert_eq!(
            schema(true).check_query_filter(&filter, true).map_err(|e| e.message),
            Err("QueryFilter can only contain non-primary key attributes: Primary key attribute: pk".into())
        );
    }
}
