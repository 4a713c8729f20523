//! Items in the store: DynamoDB's own JSON (`{"S": "x"}`, binaries in base64, numbers as
//! their normalised text), so a record reads like the wire and decodes back exactly.

use crate::attribute::{AttributeValue, Item, Map};
use crate::number::Number;
use crate::ordering::KeyValue;
use crate::keys::PrimaryKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value as Json, json};

/// Why a stored record does not decode (a defect or a damaged file, logged on load).
#[derive(Debug, thiserror::Error)]
#[error("stored attribute value does not decode: {0}")]
pub struct DecodeError(String);

pub fn value_to_json(value: &AttributeValue) -> Json {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n.to_string() }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null => json!({ "NULL": true }),
        AttributeValue::M(m) => json!({ "M": item_to_json(m) }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(value_to_json).collect::<Vec<_>>() }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(s) => json!({ "NS": s.iter().map(Number::to_string).collect::<Vec<_>>() }),
        AttributeValue::Bs(s) => json!({ "BS": s.iter().map(|b| STANDARD.encode(b)).collect::<Vec<_>>() }),
    }
}

pub fn item_to_json(item: &Item) -> Json {
    Json::Object(item.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect())
}

fn bad(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

fn number(v: &Json) -> Result<Number, DecodeError> {
    let text = v.as_str().ok_or_else(|| bad("N is not a string"))?;
    Number::parse(text).map_err(|e| bad(e.to_string()))
}

fn binary(v: &Json) -> Result<Bytes, DecodeError> {
    let text = v.as_str().ok_or_else(|| bad("B is not a string"))?;
    STANDARD.decode(text).map(Bytes::from).map_err(|e| bad(e.to_string()))
}

fn list<T>(v: &Json, each: impl Fn(&Json) -> Result<T, DecodeError>) -> Result<Vec<T>, DecodeError> {
    v.as_array().ok_or_else(|| bad("expected a list"))?.iter().map(each).collect()
}

pub fn value_from_json(json: &Json) -> Result<AttributeValue, DecodeError> {
    let object = json.as_object().ok_or_else(|| bad("value is not an object"))?;
    let (tag, v) = object.iter().next().ok_or_else(|| bad("empty value"))?;
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(v.as_str().ok_or_else(|| bad("S is not a string"))?.to_string()),
        "N" => AttributeValue::N(number(v)?),
        "B" => AttributeValue::B(binary(v)?),
        "BOOL" => AttributeValue::Bool(v.as_bool().ok_or_else(|| bad("BOOL is not a boolean"))?),
        "NULL" => AttributeValue::Null,
        "M" => AttributeValue::M(item_from_json(v)?),
        "L" => AttributeValue::L(list(v, value_from_json)?),
        "SS" => AttributeValue::Ss(list(v, |s| s.as_str().map(str::to_string).ok_or_else(|| bad("SS member")))?),
        "NS" => AttributeValue::Ns(list(v, number)?),
        "BS" => AttributeValue::Bs(list(v, binary)?),
        other => return Err(bad(format!("unknown type {other}"))),
    })
}

pub fn item_from_json(json: &Json) -> Result<Map, DecodeError> {
    let object = json.as_object().ok_or_else(|| bad("item is not an object"))?;
    object.iter().map(|(k, v)| Ok((k.clone(), value_from_json(v)?))).collect()
}

/// The text that names one item among its table's records: the key values with their types.
pub fn key_text(key: &PrimaryKey) -> String {
    let part = |k: &KeyValue| value_to_json(&k.to_attribute());
    match &key.range {
        Some(range) => json!([part(&key.hash), part(range)]).to_string(),
        None => json!([part(&key.hash)]).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_the_record_format() {
        let mut m = Map::new();
        m.insert("n".into(), AttributeValue::N(Number::from(7i64)));
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::S("x/y".into()));
        item.insert("n".into(), AttributeValue::N(Number::parse("-1.5E-3").unwrap_or_else(|e| panic!("{e}"))));
        item.insert("b".into(), AttributeValue::B(Bytes::from_static(b"\x00\xff")));
        item.insert("t".into(), AttributeValue::Bool(true));
        item.insert("z".into(), AttributeValue::Null);
        item.insert("m".into(), AttributeValue::M(m));
        item.insert("l".into(), AttributeValue::L(vec![AttributeValue::S("a".into()), AttributeValue::Null]));
        item.insert("ss".into(), AttributeValue::Ss(vec!["a".into(), "b".into()]));
        item.insert("ns".into(), AttributeValue::Ns(vec![Number::from(1i64)]));
        item.insert("bs".into(), AttributeValue::Bs(vec![Bytes::from_static(b"q")]));
        let back = item_from_json(&item_to_json(&item)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, item);
        assert_eq!(back.keys().collect::<Vec<_>>(), item.keys().collect::<Vec<_>>());
    }
}
