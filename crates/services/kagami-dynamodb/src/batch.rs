//! BatchGetItem and BatchWriteItem. kagami never throttles, so UnprocessedKeys and
//! UnprocessedItems are always empty; every request of a batch is checked before any is
//! applied, so a refused batch changes nothing.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html>

use crate::attribute::{Item, check_item_size, item_from_generated, item_into_generated, item_size};
use crate::capacity::{Consumed, Report, read_units};
use crate::errors::ValidationError;
use crate::generated::*;
use crate::items::{check_index_keys, delete_locked, read_projection, write_consumed};
use crate::keys::PrimaryKey;
use crate::persistence;
use crate::state::{Dynamodb, Table, resource_not_found, store_failed};
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};
use std::collections::HashSet;
use std::sync::Arc;

/// Keys one BatchGetItem may read.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Requests one BatchWriteItem may make.
pub const MAX_BATCH_WRITE_REQUESTS: usize = 25;

fn duplicates() -> ValidationError {
    ValidationError::new("Provided list of item keys contains duplicates")
}

enum Write {
    Put(PrimaryKey, Item),
    Delete(PrimaryKey),
}

impl Dynamodb {
    pub fn batch_get_item(&self, ctx: &RequestContext, input: BatchGetItemInput) -> Result<BatchGetItemOutput, ServiceError> {
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        if input.request_items.is_empty() {
            return Err(ValidationError::new(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            )
            .into());
        }
        let total: usize = input.request_items.values().map(|k| k.keys.len()).sum();
        if total > MAX_BATCH_GET_KEYS {
            return Err(ValidationError::new("Too many items requested for the BatchGetItem call").into());
        }
        let mut responses = IndexMap::new();
        let mut capacity = Vec::new();
        for (table_name, request) in input.request_items {
            let table = self.table_for_items(ctx, &table_name)?;
            let projection = read_projection(request.projection_expression.as_deref(), request.attributes_to_get, request.expression_attribute_names)?;
            let consistent = request.consistent_read.unwrap_or(false);
            let state = table.state.read();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let mut seen = HashSet::new();
            let mut keys = Vec::with_capacity(request.keys.len());
            for key in request.keys {
                let key = state.schema.key_from_key(&item_from_generated(key)?)?;
                if !seen.insert(key.clone()) {
                    return Err(duplicates().into());
                }
                keys.push(key);
            }
            let mut found = Vec::new();
            let mut consumed = Consumed::default();
            for key in &keys {
                let item = state.data.get(key);
                consumed.add(&Consumed::table(read_units(item.map_or(0, item_size), consistent)));
                if let Some(item) = item {
                    found.push(item_into_generated(match &projection {
                        Some(p) => p.apply(item),
                        None => item.clone(),
                    }));
                }
            }
            capacity.extend(consumed.report(report, &state.def.name));
            responses.insert(table_name, found);
        }
        Ok(BatchGetItemOutput {
            responses: Some(responses),
            unprocessed_keys: Some(IndexMap::new()),
            consumed_capacity: (report != Report::None).then_some(capacity),
        })
    }

    pub async fn batch_write_item(&self, ctx: &RequestContext, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput, ServiceError> {
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        if input.request_items.is_empty() {
            return Err(ValidationError::new(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            )
            .into());
        }
        let total: usize = input.request_items.values().map(Vec::len).sum();
        if total > MAX_BATCH_WRITE_REQUESTS {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE_REQUESTS}, Member must have length greater than or equal to 1]"
            ))
            .into());
        }
        // Every request of every table is checked first.
        let mut plans: Vec<(Arc<Table>, Vec<Write>)> = Vec::new();
        for (table_name, requests) in input.request_items {
            let table = self.table_for_items(ctx, &table_name)?;
            let state = table.state.read();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let mut seen = HashSet::new();
            let mut writes = Vec::with_capacity(requests.len());
            for request in requests {
                let write = match (request.put_request, request.delete_request) {
                    (Some(put), None) => {
                        let item = item_from_generated(put.item)?;
                        let key = state.schema.key_of_item(&item)?;
                        check_item_size(&item)?;
                        check_index_keys(&state, &item)?;
                        Write::Put(key, item)
                    }
                    (None, Some(delete)) => Write::Delete(state.schema.key_from_key(&item_from_generated(delete.key)?)?),
                    _ => {
                        return Err(ValidationError::new(
                            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                        )
                        .into());
                    }
                };
                let key = match &write {
                    Write::Put(k, _) | Write::Delete(k) => k.clone(),
                };
                if !seen.insert(key) {
                    return Err(duplicates().into());
                }
                writes.push(write);
            }
            drop(state);
            plans.push((table, writes));
        }
        let mut commits = Vec::new();
        let mut capacity = Vec::new();
        for (table, writes) in plans {
            let mut state = table.state.write();
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let mut consumed = Consumed::default();
            for write in writes {
                match write {
                    Write::Put(key, item) => {
                        let old = state.data.get(&key).cloned();
                        consumed.add(&write_consumed(&state, old.as_ref(), Some(&item)));
                        let mut ops = self.stream_change(&state, &key, old.as_ref(), Some(&item));
                        commits.push(self.persist(|| {
                            ops.push(persistence::put_item(&table.key, &key, &item));
                            ops
                        }));
                        state.data.put(key, item);
                    }
                    Write::Delete(key) => {
                        let (_, c, commit) = delete_locked(self, &table.key, &mut state, &key, None, false)?;
                        consumed.add(&c);
                        commits.push(commit);
                    }
                }
            }
            capacity.extend(consumed.report(report, &state.def.name));
        }
        for commit in commits {
            commit.wait().await.map_err(store_failed)?;
        }
        Ok(BatchWriteItemOutput {
            unprocessed_items: Some(IndexMap::new()),
            item_collection_metrics: None,
            consumed_capacity: (report != Report::None).then_some(capacity),
        })
    }
}
