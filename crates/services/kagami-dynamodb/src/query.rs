//! Query and Scan: a range read of one partition (Query) or a walk of the whole table or
//! index (Scan, optionally one parallel segment), in pages of at most `Limit` items read
//! and 1 MB, filtered after reading (Count vs ScannedCount), projected last.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.html>

use crate::attribute::{Item, item_from_generated, item_into_generated, item_size};
use crate::capacity::{Consumed, Report, read_units};
use crate::codec::value_to_json;
use crate::definition::IndexDefinition;
use crate::errors::ValidationError;
use crate::expressions::{self, Condition, ExpressionAttributes, ExpressionKind, KeyConditions, Projection, legacy};
use crate::generated::*;
use crate::keys::KeySchema;
use crate::ordering::KeyValue;
use crate::state::{Dynamodb, TableState, resource_not_found};
use crate::storage::{IndexData, Position};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};
use std::borrow::Cow;

/// A page of Query or Scan reads at most this many bytes of items.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html>
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// TotalSegments of a parallel scan.
pub const MAX_TOTAL_SEGMENTS: i32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    AllAttributes,
    AllProjectedAttributes,
    SpecificAttributes,
    Count,
}

fn invalid_start_key() -> ValidationError {
    ValidationError::new("The provided starting key is invalid: The provided key element does not match the schema")
}

fn limit_of(limit: Option<i32>) -> Result<Option<usize>, ValidationError> {
    match limit {
        None => Ok(None),
        Some(n) if n < 1 => Err(ValidationError::new(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(n) => Ok(usize::try_from(n).ok()),
    }
}

/// The index a request names, with its definition and data.
struct IndexRef<'a> {
    def: &'a IndexDefinition,
    global: bool,
    data: &'a IndexData,
}

fn index_ref<'a>(state: &'a TableState, name: Option<&str>) -> Result<Option<IndexRef<'a>>, ValidationError> {
    let Some(name) = name else { return Ok(None) };
    let found = state.def.index(name).and_then(|(def, global)| Some(IndexRef { def, global, data: state.data.index(name)? }));
    match found {
        Some(i) => Ok(Some(i)),
        None => Err(ValidationError::new(format!("The table does not have the specified index: {name}"))),
    }
}

fn select_of(
    select: Option<&str>,
    projection: Option<&Projection>,
    legacy_projection: bool,
    index: Option<&IndexRef>,
) -> Result<Select, ValidationError> {
    let what = if legacy_projection { "AttributesToGet" } else { "ProjectionExpression" };
    let select = match select {
        None if projection.is_some() => Select::SpecificAttributes,
        None if index.is_some() => Select::AllProjectedAttributes,
        None => Select::AllAttributes,
        Some("ALL_ATTRIBUTES") => Select::AllAttributes,
        Some("ALL_PROJECTED_ATTRIBUTES") => Select::AllProjectedAttributes,
        Some("SPECIFIC_ATTRIBUTES") => Select::SpecificAttributes,
        Some("COUNT") => Select::Count,
        Some(other) => {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )));
        }
    };
    match select {
        Select::AllAttributes if projection.is_some() => {
            return Err(ValidationError::new(format!("Cannot specify the {what} when choosing to get ALL_ATTRIBUTES")));
        }
        Select::AllProjectedAttributes if projection.is_some() => {
            return Err(ValidationError::new(format!("Cannot specify the {what} when choosing to get ALL_PROJECTED_ATTRIBUTES")));
        }
        Select::Count if projection.is_some() => {
            return Err(ValidationError::new(format!("Cannot specify the {what} when choosing to get only the COUNT")));
        }
        Select::AllProjectedAttributes if index.is_none() => {
            return Err(ValidationError::new("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"));
        }
        Select::AllAttributes => {
            if let Some(i) = index.filter(|i| i.global && i.def.projection.projection_type != "ALL") {
                return Err(ValidationError::new(format!(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                    i.def.name
                )));
            }
        }
        _ => {}
    }
    Ok(select)
}

/// The part of an item an index holds: the table and index keys and its projected attributes.
fn index_projection(state: &TableState, index: &IndexRef, item: &Item) -> Item {
    match index.def.projection.projection_type.as_str() {
        "ALL" => item.clone(),
        _ => {
            let mut keep: Vec<&str> = vec![state.def.hash_key.as_str(), index.def.hash_key.as_str()];
            keep.extend(state.def.range_key.as_deref());
            keep.extend(index.def.range_key.as_deref());
            keep.extend(index.def.projection.non_key_attributes.iter().map(String::as_str));
            item.iter().filter(|(k, _)| keep.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
    }
}

/// ExclusiveStartKey: the table's key, plus the index's key for an index.
fn start_position(state: &TableState, index: Option<&IndexRef>, esk: Option<IndexMap<String, AttributeValue>>) -> Result<Option<Position>, ValidationError> {
    let Some(esk) = esk else { return Ok(None) };
    let esk = item_from_generated(esk)?;
    let table_schema = &state.schema;
    match index {
        None => {
            let key = table_schema.key_from_key(&esk).map_err(|_| invalid_start_key())?;
            Ok(Some(Position { hash: key.hash.clone(), sort: key.range.clone(), key }))
        }
        Some(i) => {
            let schema: &KeySchema = &i.data.schema;
            let names: Vec<&str> = [Some(table_schema.hash.name.as_str()), table_schema.range.as_ref().map(|r| r.name.as_str()), Some(schema.hash.name.as_str()), schema.range.as_ref().map(|r| r.name.as_str())]
                .into_iter()
                .flatten()
                .collect();
            if esk.keys().any(|k| !names.contains(&k.as_str())) {
                return Err(invalid_start_key());
            }
            let table_part: Item = esk.iter().filter(|(k, _)| table_schema.is_key_attribute(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            let key = table_schema.key_from_key(&table_part).map_err(|_| invalid_start_key())?;
            let value = |name: &str| esk.get(name).and_then(KeyValue::from_attribute);
            let hash = value(&schema.hash.name).ok_or_else(invalid_start_key)?;
            let sort = match &schema.range {
                Some(r) => Some(value(&r.name).ok_or_else(invalid_start_key)?),
                None => None,
            };
            Ok(Some(Position { hash, sort, key }))
        }
    }
}

/// LastEvaluatedKey of a position: the table's key, plus the index's key for an index.
fn last_key(state: &TableState, index: Option<&IndexRef>, position: &Position) -> Item {
    let mut out = state.schema.key_item(&position.key);
    if let Some(i) = index {
        out.insert(i.data.schema.hash.name.clone(), position.hash.to_attribute());
        if let (Some(r), Some(v)) = (&i.data.schema.range, &position.sort) {
            out.insert(r.name.clone(), v.to_attribute());
        }
    }
    out
}

struct Page {
    items: Vec<Item>,
    count: usize,
    scanned: usize,
    last: Option<Item>,
    consumed: Consumed,
}

struct Reader<'a> {
    state: &'a TableState,
    index: Option<IndexRef<'a>>,
    filter: Option<Condition>,
    select: Select,
    projection: Option<Projection>,
    limit: Option<usize>,
    consistent: bool,
}

impl Reader<'_> {
    fn read<'i>(&self, items: impl Iterator<Item = (Position, &'i Item)>) -> Page {
        let mut page = Page { items: Vec::new(), count: 0, scanned: 0, last: None, consumed: Consumed::default() };
        let mut bytes = 0usize;
        let mut items = items.peekable();
        while let Some((position, item)) = items.next() {
            // A GSI holds only its projection; the table and LSIs are read in place.
            let visible: Cow<'_, Item> = match &self.index {
                Some(i) if i.global => Cow::Owned(index_projection(self.state, i, item)),
                _ => Cow::Borrowed(item),
            };
            page.scanned += 1;
            bytes += item_size(&visible);
            if self.filter.as_ref().is_none_or(|f| f.evaluate(&visible)) {
                page.count += 1;
                if self.select != Select::Count {
                    let out = match (&self.projection, self.select, &self.index) {
                        (Some(p), _, _) => p.apply(&visible),
                        (None, Select::AllProjectedAttributes, Some(i)) => index_projection(self.state, i, &visible),
                        _ => visible.into_owned(),
                    };
                    page.items.push(out);
                }
            }
            let full = self.limit.is_some_and(|l| page.scanned >= l) || bytes >= MAX_PAGE_BYTES;
            if full {
                // A page that stops at its Limit names where it stopped even if nothing
                // follows, as DynamoDB does; one cut by size only when more follows.
                if self.limit.is_some_and(|l| page.scanned >= l) || items.peek().is_some() {
                    page.last = Some(last_key(self.state, self.index.as_ref(), &position));
                }
                break;
            }
        }
        let units = read_units(bytes, self.consistent);
        page.consumed = match &self.index {
            Some(i) if i.global => Consumed { global: [(i.def.name.clone(), units)].into_iter().collect(), ..Consumed::default() },
            Some(i) => Consumed { local: [(i.def.name.clone(), units)].into_iter().collect(), ..Consumed::default() },
            None => Consumed::table(units),
        };
        page
    }
}

fn to_count(n: usize) -> Option<i32> {
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Which parallel-scan segment a partition belongs to: a stable hash of its key value.
fn segment_of(hash: &KeyValue, total: u32) -> u32 {
    let text = value_to_json(&hash.to_attribute()).to_string();
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    u32::try_from(h % u64::from(total.max(1))).unwrap_or(0)
}

fn segments(segment: Option<i32>, total: Option<i32>) -> Result<Option<(u32, u32)>, ValidationError> {
    match (segment, total) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ValidationError::new(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )),
        (None, Some(_)) => Err(ValidationError::new(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )),
        (Some(s), Some(t)) => {
            if !(1..=MAX_TOTAL_SEGMENTS).contains(&t) {
                let rule = if t < 1 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_TOTAL_SEGMENTS}") };
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value {rule}"
                )));
            }
            if s < 0 {
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{s}' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0"
                )));
            }
            if s >= t {
                return Err(ValidationError::new(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                )));
            }
            Ok(Some((u32::try_from(s).unwrap_or(0), u32::try_from(t).unwrap_or(1))))
        }
    }
}

fn names_used(pairs: &[(&'static str, bool)]) -> Vec<&'static str> {
    pairs.iter().filter(|(_, used)| *used).map(|(n, _)| *n).collect()
}

impl Dynamodb {
    pub fn query(&self, ctx: &RequestContext, input: QueryInput) -> Result<QueryOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let limit = limit_of(input.limit)?;
        let expressions_used = names_used(&[
            ("KeyConditionExpression", input.key_condition_expression.is_some()),
            ("FilterExpression", input.filter_expression.is_some()),
            ("ProjectionExpression", input.projection_expression.is_some()),
        ]);
        let legacy_used = names_used(&[
            ("KeyConditions", input.key_conditions.is_some()),
            ("QueryFilter", input.query_filter.is_some()),
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some() && input.query_filter.is_none()),
        ]);
        expressions::check_parameters(
            &expressions_used,
            &legacy_used,
            &["KeyConditionExpression", "FilterExpression"],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        if input.key_condition_expression.is_none() && input.key_conditions.is_none() {
            return Err(ValidationError::new("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.").into());
        }
        if input.conditional_operator.is_some() && input.query_filter.is_none() {
            return Err(legacy::conditional_operator_without_conditions().into());
        }
        let mut attrs = ExpressionAttributes::new(input.expression_attribute_names, input.expression_attribute_values)?;
        let legacy_filter = input.query_filter.is_some();
        let filter = match (&input.filter_expression, input.query_filter) {
            (Some(text), _) => Some(attrs.condition(ExpressionKind::FilterExpression, text)?),
            (None, Some(f)) => legacy::filter(f, input.conditional_operator.as_deref())?,
            (None, None) => None,
        };
        let legacy_projection = input.attributes_to_get.is_some();
        let projection = match (&input.projection_expression, input.attributes_to_get) {
            (Some(text), _) => Some(attrs.projection(text)?),
            (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
            (None, None) => None,
        };
        let keys: KeyConditions = match (&input.key_condition_expression, input.key_conditions) {
            (Some(text), _) => attrs.key_condition(text)?,
            (None, Some(k)) => legacy::key_conditions(k)?,
            (None, None) => return Err(ValidationError::new("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.").into()),
        };
        attrs.check_all_used()?;

        let state = table.state.read();
        if state.deleted {
            return Err(resource_not_found().into());
        }
        let index = index_ref(&state, input.index_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        if consistent && index.as_ref().is_some_and(|i| i.global) {
            return Err(ValidationError::new("Consistent reads are not supported on global secondary indexes").into());
        }
        let schema = index.as_ref().map_or(&state.schema, |i| &i.data.schema);
        let query = keys.resolve(
            (&schema.hash.name, schema.hash.scalar_type),
            schema.range.as_ref().map(|r| (r.name.as_str(), r.scalar_type)),
        )?;
        if let Some(f) = &filter {
            schema.check_query_filter(f, legacy_filter)?;
        }
        let select = select_of(input.select.as_deref(), projection.as_ref(), legacy_projection, index.as_ref())?;
        let start = start_position(&state, index.as_ref(), input.exclusive_start_key)?;
        if let Some(s) = &start
            && s.hash != query.partition
        {
            return Err(ValidationError::new("The provided starting key is outside query boundaries based on provided conditions").into());
        }
        let forward = input.scan_index_forward.unwrap_or(true);
        let reader = Reader { state: &state, index, filter, select, projection, limit, consistent };
        let items = state.data.query(reader.index.as_ref().map(|i| i.data), &query.partition, query.sort.as_ref(), forward, start.as_ref());
        let page = reader.read(items);
        Ok(QueryOutput {
            items: (select != Select::Count).then(|| page.items.into_iter().map(item_into_generated).collect()),
            count: to_count(page.count),
            scanned_count: to_count(page.scanned),
            last_evaluated_key: page.last.map(item_into_generated),
            consumed_capacity: page.consumed.report(report, &state.def.name),
        })
    }

    pub fn scan(&self, ctx: &RequestContext, input: ScanInput) -> Result<ScanOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let limit = limit_of(input.limit)?;
        let segment = segments(input.segment, input.total_segments)?;
        let expressions_used = names_used(&[
            ("FilterExpression", input.filter_expression.is_some()),
            ("ProjectionExpression", input.projection_expression.is_some()),
        ]);
        let legacy_used = names_used(&[
            ("ScanFilter", input.scan_filter.is_some()),
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some() && input.scan_filter.is_none()),
        ]);
        expressions::check_parameters(
            &expressions_used,
            &legacy_used,
            &["FilterExpression"],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        if input.conditional_operator.is_some() && input.scan_filter.is_none() {
            return Err(legacy::conditional_operator_without_conditions().into());
        }
        let mut attrs = ExpressionAttributes::new(input.expression_attribute_names, input.expression_attribute_values)?;
        let filter = match (&input.filter_expression, input.scan_filter) {
            (Some(text), _) => Some(attrs.condition(ExpressionKind::FilterExpression, text)?),
            (None, Some(f)) => legacy::filter(f, input.conditional_operator.as_deref())?,
            (None, None) => None,
        };
        let legacy_projection = input.attributes_to_get.is_some();
        let projection = match (&input.projection_expression, input.attributes_to_get) {
            (Some(text), _) => Some(attrs.projection(text)?),
            (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
            (None, None) => None,
        };
        attrs.check_all_used()?;

        let state = table.state.read();
        if state.deleted {
            return Err(resource_not_found().into());
        }
        let index = index_ref(&state, input.index_name.as_deref())?;
        let consistent = input.consistent_read.unwrap_or(false);
        if consistent && index.as_ref().is_some_and(|i| i.global) {
            return Err(ValidationError::new("Consistent reads are not supported on global secondary indexes").into());
        }
        let select = select_of(input.select.as_deref(), projection.as_ref(), legacy_projection, index.as_ref())?;
        let start = start_position(&state, index.as_ref(), input.exclusive_start_key)?;
        let reader = Reader { state: &state, index, filter, select, projection, limit, consistent };
        let keep = move |hash: &KeyValue| segment.is_none_or(|(s, t)| segment_of(hash, t) == s);
        let items = state.data.scan(reader.index.as_ref().map(|i| i.data), start.as_ref(), keep);
        let page = reader.read(items);
        Ok(ScanOutput {
            items: (select != Select::Count).then(|| page.items.into_iter().map(item_into_generated).collect()),
            count: to_count(page.count),
            scanned_count: to_count(page.scanned),
            last_evaluated_key: page.last.map(item_into_generated),
            consumed_capacity: page.consumed.report(report, &state.def.name),
        })
    }
}

impl Dynamodb {
    /// One partition of a table read in key order with a condition evaluated on every item:
    /// a PartiQL SELECT whose WHERE clause fixes the partition key (a Query in AWS's plan).
    /// Returns the page's items and where it stopped.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn read_partition(
        &self,
        ctx: &RequestContext,
        table_name: &str,
        hash_value: &crate::attribute::AttributeValue,
        filter: Option<Condition>,
        projection: Option<Projection>,
        limit: Option<usize>,
        consistent: bool,
        start: Option<IndexMap<String, AttributeValue>>,
    ) -> Result<(Vec<Item>, Option<Item>), ServiceError> {
        let table = self.table_for_items(ctx, table_name)?;
        let state = table.state.read();
        if state.deleted {
            return Err(resource_not_found().into());
        }
        let start = start_position(&state, None, start)?;
        // A value of another type than the key's matches no item.
        let Some(partition) = KeyValue::from_attribute(hash_value).filter(|k| k.scalar_type() == state.schema.hash.scalar_type) else {
            return Ok((Vec::new(), None));
        };
        let select = if projection.is_some() { Select::SpecificAttributes } else { Select::AllAttributes };
        let reader = Reader { state: &state, index: None, filter, select, projection, limit, consistent };
        let page = reader.read(state.data.query(None, &partition, None, true, start.as_ref()));
        Ok((page.items, page.last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    #[test]
    fn segments_split_partitions_stably() {
        let keys: Vec<KeyValue> = (0..100).map(|i| KeyValue::N(Number::from(i as i64))).collect();
        let mut seen = [0usize; 4];
        for k in &keys {
            let s = segment_of(k, 4);
            assert_eq!(s, segment_of(k, 4));
            seen[s as usize] += 1;
        }
        assert_eq!(seen.iter().sum::<usize>(), 100);
        assert!(seen.iter().all(|n| *n > 0), "{seen:?}");
    }

    #[test]
    fn segment_parameters_are_checked_as_dynamodb_does() {
        assert!(segments(Some(0), None).is_err());
        assert!(segments(None, Some(2)).is_err());
        assert_eq!(
            segments(Some(2), Some(2)).map_err(|e| e.message),
            Err("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not less than TotalSegments: 2".into())
        );
        assert_eq!(segments(Some(1), Some(2)), Ok(Some((1, 2))));
    }
}
