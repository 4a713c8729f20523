//! Item operations: PutItem, GetItem, UpdateItem, DeleteItem, with conditions (expression
//! or legacy Expected), ReturnValues, ReturnValuesOnConditionCheckFailure, the item size
//! limit, index key types and consumed capacity.

use crate::attribute::{Item, check_item_size, check_updated_item_size, item_from_generated, item_into_generated, item_size};
use crate::capacity::{Consumed, Report, read_units, write_units};
use crate::errors::ValidationError;
use crate::expressions::{self, Condition, ExpressionAttributes, ExpressionKind, Projection, Update, legacy};
use crate::generated::*;
use crate::keys::PrimaryKey;
use crate::persistence;
use crate::state::{Dynamodb, TableState, resource_not_found, store_failed};
use crate::storage::index_key_of;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError, Value};
use kagami_protocol::shapes::IntoValue;

/// The message of every failed condition.
pub const CONDITION_FAILED: &str = "The conditional request failed";

/// ReturnValues of PutItem and DeleteItem, and of UpdateItem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

impl ReturnValues {
    fn parse(value: Option<&str>, update: bool) -> Result<ReturnValues, ValidationError> {
        let parsed = match value {
            None | Some("NONE") => ReturnValues::None,
            Some("ALL_OLD") => ReturnValues::AllOld,
            Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
            Some("ALL_NEW") => ReturnValues::AllNew,
            Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
            Some(other) => {
                return Err(ValidationError::new(format!(
                    "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
                )));
            }
        };
        if !update && !matches!(parsed, ReturnValues::None | ReturnValues::AllOld) {
            return Err(ValidationError::new("Return values set to invalid value"));
        }
        Ok(parsed)
    }
}

/// ReturnValuesOnConditionCheckFailure: whether a failed condition returns the item.
pub(crate) fn return_old_on_failure(value: Option<&str>) -> Result<bool, ValidationError> {
    match value {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(ValidationError::new(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

pub(crate) fn item_value(item: &Item) -> Value {
    Value::Map(item.iter().map(|(k, v)| (k.clone(), v.clone().into_generated().into_value())).collect())
}

/// ConditionalCheckFailedException, with the item when the request asked for it.
pub(crate) fn condition_failed(old: Option<&Item>, return_old: bool) -> ServiceError {
    let error: ServiceError = DynamodbError::ConditionalCheckFailedException(CONDITION_FAILED.into()).into();
    match old {
        Some(item) if return_old => error.with_field("Item", item_value(item)),
        _ => error,
    }
}

fn output_item(item: Item) -> Option<IndexMap<String, AttributeValue>> {
    (!item.is_empty()).then(|| item_into_generated(item))
}

/// The condition of a write: ConditionExpression or Expected (with ConditionalOperator).
pub(crate) struct WriteCondition {
    pub condition: Option<Condition>,
}

/// Reads the condition and (UpdateItem) the update of a write request, in DynamoDB's order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_write_expressions(
    update_expression: Option<&str>,
    attribute_updates: Option<IndexMap<String, AttributeValueUpdate>>,
    condition_expression: Option<&str>,
    expected: Option<IndexMap<String, ExpectedAttributeValue>>,
    conditional_operator: Option<&str>,
    names: Option<IndexMap<String, String>>,
    values: Option<IndexMap<String, AttributeValue>>,
    is_update: bool,
) -> Result<(Option<Update>, WriteCondition), ValidationError> {
    let mut used_expressions: Vec<&str> = Vec::new();
    if update_expression.is_some() {
        used_expressions.push("UpdateExpression");
    }
    if condition_expression.is_some() {
        used_expressions.push("ConditionExpression");
    }
    let mut used_legacy: Vec<&str> = Vec::new();
    if attribute_updates.is_some() {
        used_legacy.push("AttributeUpdates");
    }
    if expected.is_some() {
        used_legacy.push("Expected");
    }
    if conditional_operator.is_some() && expected.is_none() {
        used_legacy.push("ConditionalOperator");
    }
    let value_expressions: &[&str] = if is_update { &["UpdateExpression", "ConditionExpression"] } else { &["ConditionExpression"] };
    expressions::check_parameters(&used_expressions, &used_legacy, value_expressions, names.is_some(), values.is_some())?;
    if conditional_operator.is_some() && expected.is_none() {
        return Err(legacy::conditional_operator_without_conditions());
    }
    let mut attrs = ExpressionAttributes::new(names, values)?;
    let update = match (update_expression, attribute_updates) {
        (Some(text), _) => Some(attrs.update(text)?),
        (None, Some(updates)) => Some(legacy::attribute_updates(updates)?),
        (None, None) => None,
    };
    let condition = match (condition_expression, expected) {
        (Some(text), _) => Some(attrs.condition(ExpressionKind::ConditionExpression, text)?),
        (None, Some(expected)) => legacy::expected(expected, conditional_operator)?,
        (None, None) => None,
    };
    attrs.check_all_used()?;
    Ok((update, WriteCondition { condition }))
}

/// Reads ProjectionExpression or AttributesToGet of a read request.
pub(crate) fn read_projection(
    projection_expression: Option<&str>,
    attributes_to_get: Option<Vec<String>>,
    names: Option<IndexMap<String, String>>,
) -> Result<Option<Projection>, ValidationError> {
    let expressions_used: Vec<&str> = projection_expression.iter().map(|_| "ProjectionExpression").collect();
    let legacy_used: Vec<&str> = attributes_to_get.iter().map(|_| "AttributesToGet").collect();
    expressions::check_parameters(&expressions_used, &legacy_used, &[], names.is_some(), false)?;
    let mut attrs = ExpressionAttributes::new(names, None)?;
    let projection = match (projection_expression, attributes_to_get) {
        (Some(text), _) => Some(attrs.projection(text)?),
        (None, Some(names)) => Some(legacy::attributes_to_get(names)?),
        (None, None) => None,
    };
    attrs.check_all_used()?;
    Ok(projection)
}

/// Index key attributes an item carries must have the type the table defines for them.
pub(crate) fn check_index_keys(state: &TableState, item: &Item) -> Result<(), ValidationError> {
    for (index, _) in state.def.indexes() {
        for attribute in std::iter::once(&index.hash_key).chain(index.range_key.as_ref()) {
            let Some(value) = item.get(attribute) else { continue };
            let expected = state.def.scalar_type(attribute);
            if value.scalar_type() != Some(expected) {
                return Err(ValidationError::new(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {attribute} Expected: {} Actual: {} IndexName: {}",
                    expected.as_str(),
                    value.type_name(),
                    index.name
                )));
            }
            let empty = match value {
                crate::AttributeValue::S(s) => s.is_empty(),
                crate::AttributeValue::B(b) => b.is_empty(),
                _ => false,
            };
            if empty {
                return Err(ValidationError::new(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: {}, IndexKey: {attribute}",
                    if expected == crate::ScalarType::B { "binary" } else { "string" },
                    index.name
                )));
            }
        }
    }
    Ok(())
}

/// The write units of replacing `old` by `new`, on the table and each index it touches.
pub(crate) fn write_consumed(state: &TableState, old: Option<&Item>, new: Option<&Item>) -> Consumed {
    let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
    let mut consumed = Consumed::table(write_units(size));
    for index in &state.data.indexes {
        let before = old.and_then(|i| index_key_of(&index.schema, i));
        let after = new.and_then(|i| index_key_of(&index.schema, i));
        let writes = match (&before, &after) {
            (None, None) => 0.0,
            (Some(a), Some(b)) if a != b => 2.0,
            _ => 1.0,
        };
        if writes > 0.0 {
            let map = if index.global { &mut consumed.global } else { &mut consumed.local };
            map.insert(index.name.clone(), writes * write_units(size));
        }
    }
    consumed
}

impl Dynamodb {
    pub async fn put_item(&self, ctx: &RequestContext, input: PutItemInput) -> Result<PutItemOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let return_values = ReturnValues::parse(input.return_values.as_deref(), false)?;
        let return_old = return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let item = item_from_generated(input.item)?;
        let (_, write) = read_write_expressions(
            None,
            None,
            input.condition_expression.as_deref(),
            input.expected,
            input.conditional_operator.as_deref(),
            input.expression_attribute_names,
            input.expression_attribute_values,
            false,
        )?;
        let (old, consumed, name, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let key = state.schema.key_of_item(&item)?;
            check_item_size(&item)?;
            check_index_keys(&state, &item)?;
            let old = state.data.get(&key).cloned();
            if let Some(c) = &write.condition
                && !c.evaluate(old.as_ref().unwrap_or(&Item::new()))
            {
                return Err(condition_failed(old.as_ref(), return_old));
            }
            let consumed = write_consumed(&state, old.as_ref(), Some(&item));
            let mut ops = self.stream_change(&state, &key, old.as_ref(), Some(&item));
            let commit = self.persist(|| {
                ops.push(persistence::put_item(&table.key, &key, &item));
                ops
            });
            state.data.put(key, item);
            (old, consumed, state.def.name.clone(), commit)
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(PutItemOutput {
            attributes: if return_values == ReturnValues::AllOld { old.and_then(output_item) } else { None },
            consumed_capacity: consumed.report(report, &name),
            item_collection_metrics: None,
        })
    }

    pub fn get_item(&self, ctx: &RequestContext, input: GetItemInput) -> Result<GetItemOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let projection = read_projection(input.projection_expression.as_deref(), input.attributes_to_get, input.expression_attribute_names)?;
        let key_item = item_from_generated(input.key)?;
        let state = table.state.read();
        if state.deleted {
            return Err(resource_not_found().into());
        }
        let key = state.schema.key_from_key(&key_item)?;
        let item = state.data.get(&key);
        let consistent = input.consistent_read.unwrap_or(false);
        let consumed = Consumed::table(read_units(item.map_or(0, item_size), consistent));
        let item = item.map(|i| match &projection {
            Some(p) => p.apply(i),
            None => i.clone(),
        });
        Ok(GetItemOutput {
            item: item.map(item_into_generated),
            consumed_capacity: consumed.report(report, &state.def.name),
        })
    }

    pub async fn update_item(&self, ctx: &RequestContext, input: UpdateItemInput) -> Result<UpdateItemOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let return_values = ReturnValues::parse(input.return_values.as_deref(), true)?;
        let return_old = return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let key_item = item_from_generated(input.key)?;
        let (update, write) = read_write_expressions(
            input.update_expression.as_deref(),
            input.attribute_updates,
            input.condition_expression.as_deref(),
            input.expected,
            input.conditional_operator.as_deref(),
            input.expression_attribute_names,
            input.expression_attribute_values,
            true,
        )?;
        let (attributes, consumed, name, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let key = state.schema.key_from_key(&key_item)?;
            check_update_keys(&state, update.as_ref())?;
            let old = state.data.get(&key).cloned();
            if let Some(c) = &write.condition
                && !c.evaluate(old.as_ref().unwrap_or(&Item::new()))
            {
                return Err(condition_failed(old.as_ref(), return_old));
            }
            let (new, updated_old, updated_new) = updated_item(&state, &key, old.as_ref(), update.as_ref())?;
            let attributes = match return_values {
                ReturnValues::None => None,
                ReturnValues::AllOld => old.clone(),
                ReturnValues::UpdatedOld => Some(updated_old),
                ReturnValues::AllNew => Some(new.clone()),
                ReturnValues::UpdatedNew => Some(updated_new),
            };
            let consumed = write_consumed(&state, old.as_ref(), Some(&new));
            let mut ops = self.stream_change(&state, &key, old.as_ref(), Some(&new));
            let commit = self.persist(|| {
                ops.push(persistence::put_item(&table.key, &key, &new));
                ops
            });
            state.data.put(key, new);
            (attributes, consumed, state.def.name.clone(), commit)
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(UpdateItemOutput {
            attributes: attributes.and_then(output_item),
            consumed_capacity: consumed.report(report, &name),
            item_collection_metrics: None,
        })
    }

    pub async fn delete_item(&self, ctx: &RequestContext, input: DeleteItemInput) -> Result<DeleteItemOutput, ServiceError> {
        let table = self.table_for_items(ctx, &input.table_name)?;
        let return_values = ReturnValues::parse(input.return_values.as_deref(), false)?;
        let return_old = return_old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let key_item = item_from_generated(input.key)?;
        let (_, write) = read_write_expressions(
            None,
            None,
            input.condition_expression.as_deref(),
            input.expected,
            input.conditional_operator.as_deref(),
            input.expression_attribute_names,
            input.expression_attribute_values,
            false,
        )?;
        let (old, consumed, name, commit) = {
            let mut state = table.state.write();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let key = state.schema.key_from_key(&key_item)?;
            let (old, consumed, commit) = delete_locked(self, &table.key, &mut state, &key, write.condition.as_ref(), return_old)?;
            (old, consumed, state.def.name.clone(), commit)
        };
        commit.wait().await.map_err(store_failed)?;
        Ok(DeleteItemOutput {
            attributes: if return_values == ReturnValues::AllOld { old.and_then(output_item) } else { None },
            consumed_capacity: consumed.report(report, &name),
            item_collection_metrics: None,
        })
    }
}

/// An update may not write the table's key attributes, nor reach into an index key.
pub(crate) fn check_update_keys(state: &TableState, update: Option<&Update>) -> Result<(), ValidationError> {
    let Some(update) = update else { return Ok(()) };
    state.schema.check_update(update)?;
    let index_keys: Vec<&str> =
        state.def.indexes().flat_map(|(i, _)| std::iter::once(i.hash_key.as_str()).chain(i.range_key.as_deref())).collect();
    crate::keys::KeySchema::check_nested_key_access(update, &index_keys)
}

/// The item after an update (a new item starts as its key), checked for size and index
/// key types, with what UPDATED_OLD and UPDATED_NEW return.
pub(crate) fn updated_item(
    state: &TableState,
    key: &PrimaryKey,
    old: Option<&Item>,
    update: Option<&Update>,
) -> Result<(Item, Item, Item), ValidationError> {
    let start = old.cloned().unwrap_or_else(|| state.schema.key_item(key));
    let (new, updated_old, updated_new) = match update {
        Some(update) => {
            let outcome = if old.is_some() { update.apply(&start)? } else { update.apply_new(&start)? };
            let updated_old = old.map(|o| outcome.updated_old(o)).unwrap_or_default();
            let updated_new = outcome.updated_new();
            (outcome.item, updated_old, updated_new)
        }
        None => (start, Item::new(), Item::new()),
    };
    check_updated_item_size(&new)?;
    check_index_keys(state, &new)?;
    Ok((new, updated_old, updated_new))
}

/// Deletes one item under the table's lock (DeleteItem, BatchWriteItem).
pub(crate) fn delete_locked(
    dynamodb: &Dynamodb,
    table_key: &str,
    state: &mut TableState,
    key: &PrimaryKey,
    condition: Option<&Condition>,
    return_old: bool,
) -> Result<(Option<Item>, Consumed, kagami_core::store::Commit), ServiceError> {
    let old = state.data.get(key).cloned();
    if let Some(c) = condition
        && !c.evaluate(old.as_ref().unwrap_or(&Item::new()))
    {
        return Err(condition_failed(old.as_ref(), return_old));
    }
    let consumed = write_consumed(state, old.as_ref(), None);
    let commit = if old.is_some() {
        let mut ops = dynamodb.stream_change(state, key, old.as_ref(), None);
        state.data.delete(key);
        dynamodb.persist(|| {
            ops.push(persistence::delete_item(table_key, key));
            ops
        })
    } else {
        dynamodb.persist(Vec::new)
    };
    Ok((old, consumed, commit))
}
