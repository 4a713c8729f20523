//! TransactWriteItems and TransactGetItems: up to 100 actions on distinct items, all or
//! nothing. Every table involved is locked (in one global order, so two transactions never
//! deadlock) while the conditions are checked and the writes applied; the records of all
//! writes go to the store as one commit, so a transaction is atomic across a crash too.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html>

use crate::attribute::{Item, check_item_size, item_from_generated, item_into_generated, item_size};
use crate::capacity::{Consumed, Report, read_units, write_units};
use crate::errors::ValidationError;
use crate::expressions::{Condition, Update};
use crate::generated::*;
use crate::items::{check_index_keys, check_update_keys, item_value, read_projection, read_write_expressions, return_old_on_failure, updated_item};
use crate::keys::PrimaryKey;
use crate::persistence;
use crate::state::{Dynamodb, Table, TableState, resource_not_found, store_failed};
use indexmap::IndexMap;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Value, clock};
use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Actions one transaction may hold.
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// How long a ClientRequestToken makes a retried transaction a no-op.
pub const CLIENT_REQUEST_TOKEN_WINDOW_MS: i64 = 10 * 60 * 1000;

/// What identifies a request for idempotency: its parameters, in the order the client
/// sent them (an SDK retrying sends the same body).
pub(crate) fn fingerprint(input: &TransactWriteItemsInput) -> String {
    format!("{input:?}")
}

enum Action {
    Check,
    Put(Item),
    Delete,
    Update(Update),
}

struct Planned {
    table: Arc<Table>,
    key: PrimaryKey,
    condition: Option<Condition>,
    return_old: bool,
    action: Action,
}

fn count_error(n: usize) -> ValidationError {
    let rule = if n == 0 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_TRANSACT_ITEMS}") };
    ValidationError::new(format!(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {rule}"
    ))
}

/// The tables of a transaction, each once, in the order every transaction locks them.
fn distinct_tables<'a>(tables: impl Iterator<Item = &'a Arc<Table>>) -> Vec<Arc<Table>> {
    let mut by_key: BTreeMap<&str, &Arc<Table>> = BTreeMap::new();
    for t in tables {
        by_key.insert(t.key.as_str(), t);
    }
    by_key.into_values().cloned().collect()
}

fn cancellation(reasons: Vec<Option<(Option<Item>, bool)>>) -> ServiceError {
    let codes: Vec<&str> = reasons.iter().map(|r| if r.is_some() { "ConditionalCheckFailed" } else { "None" }).collect();
    let message = format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", "));
    let list = reasons
        .into_iter()
        .map(|r| {
            let mut m = IndexMap::new();
            match r {
                Some((old, return_old)) => {
                    if let (Some(item), true) = (old, return_old) {
                        m.insert("Item".to_string(), item_value(&item));
                    }
                    m.insert("Code".to_string(), Value::Str("ConditionalCheckFailed".into()));
                    m.insert("Message".to_string(), Value::Str(crate::items::CONDITION_FAILED.into()));
                }
                None => {
                    m.insert("Code".to_string(), Value::Str("None".into()));
                }
            }
            Value::Map(m)
        })
        .collect();
    ServiceError::from(DynamodbError::TransactionCanceledException(message)).with_field("CancellationReasons", Value::List(list))
}

impl Dynamodb {
    pub async fn transact_write_items(&self, ctx: &RequestContext, input: TransactWriteItemsInput) -> Result<TransactWriteItemsOutput, ServiceError> {
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let n = input.transact_items.len();
        if n == 0 || n > MAX_TRANSACT_ITEMS {
            return Err(count_error(n).into());
        }
        let now = clock::now_millis();
        let token_key = input.client_request_token.as_ref().map(|t| format!("{}/{}/{t}", ctx.account_id, ctx.region));
        if let Some(token) = &token_key {
            let mut tokens = self.transaction_tokens.lock();
            tokens.retain(|_, (_, at)| now - *at < CLIENT_REQUEST_TOKEN_WINDOW_MS);
            if let Some((earlier, _)) = tokens.get(token) {
                if *earlier == fingerprint(&input) {
                    return Ok(TransactWriteItemsOutput::default());
                }
                return Err(DynamodbError::IdempotentParameterMismatchException(
                    "The request uses the same client token as a previous, but non-identical request. Do not reuse a client token with different requests, unless the requests are identical."
                        .into(),
                )
                .into());
            }
        }
        let remembered = token_key.as_ref().map(|_| fingerprint(&input));
        let plans = self.plan_writes(ctx, input.transact_items)?;

        let (commit, consumed) = {
            let tables = distinct_tables(plans.iter().map(|p| &p.table));
            let mut guards: Vec<(String, RwLockWriteGuard<'_, TableState>)> = tables.iter().map(|t| (t.key.clone(), t.state.write())).collect();
            let not_locked = || ServiceError::internal("transaction table not locked");
            let slots: Vec<usize> =
                plans.iter().map(|p| guards.iter().position(|(k, _)| *k == p.table.key)).collect::<Option<_>>().ok_or_else(not_locked)?;
            for (_, g) in &guards {
                if g.deleted {
                    return Err(resource_not_found().into());
                }
            }
            // Every outcome is computed (and validated) before any condition is judged.
            let mut outcomes: Vec<(Option<Item>, Option<Item>)> = Vec::with_capacity(plans.len());
            let mut failed = false;
            let mut reasons = Vec::with_capacity(plans.len());
            for (plan, slot) in plans.iter().zip(&slots) {
                let state = &guards.get(*slot).ok_or_else(not_locked)?.1;
                let old = state.data.get(&plan.key).cloned();
                let new = match &plan.action {
                    Action::Check => None,
                    Action::Delete => None,
                    Action::Put(item) => {
                        check_item_size(item)?;
                        check_index_keys(state, item)?;
                        Some(item.clone())
                    }
                    Action::Update(update) => {
                        check_update_keys(state, Some(update))?;
                        Some(updated_item(state, &plan.key, old.as_ref(), Some(update))?.0)
                    }
                };
                let holds = plan.condition.as_ref().is_none_or(|c| c.evaluate(old.as_ref().unwrap_or(&Item::new())));
                failed |= !holds;
                reasons.push((!holds).then(|| (old.clone(), plan.return_old)));
                outcomes.push((old, new));
            }
            if failed {
                return Err(cancellation(reasons));
            }
            let durable = self.store.is_durable();
            let mut ops: Vec<StoreOp> = Vec::new();
            let mut consumed: IndexMap<String, (String, Consumed)> = IndexMap::new();
            for ((plan, (old, new)), slot) in plans.iter().zip(outcomes).zip(&slots) {
                let state = &mut guards.get_mut(*slot).ok_or_else(not_locked)?.1;
                let size = old.as_ref().map_or(0, item_size).max(new.as_ref().map_or(0, item_size));
                let entry = consumed.entry(plan.table.key.clone()).or_insert_with(|| (state.def.name.clone(), Consumed::default()));
                // Transactional writes cost twice the units of plain ones; a check costs a read.
                let units = match plan.action {
                    Action::Check => read_units(size, true) * 2.0,
                    _ => write_units(size) * 2.0,
                };
                entry.1.add(&Consumed::table(units));
                match (&plan.action, new) {
                    (Action::Check, _) => {}
                    (Action::Delete, _) => {
                        if let Some(removed) = state.data.delete(&plan.key) {
                            let stream = self.stream_change(state, &plan.key, Some(&removed), None);
                            ops.extend(stream);
                            if durable {
                                ops.push(persistence::delete_item(&plan.table.key, &plan.key));
                            }
                        }
                    }
                    (_, Some(item)) => {
                        let stream = self.stream_change(state, &plan.key, old.as_ref(), Some(&item));
                        ops.extend(stream);
                        if durable {
                            ops.push(persistence::put_item(&plan.table.key, &plan.key, &item));
                        }
                        state.data.put(plan.key.clone(), item);
                    }
                    (_, None) => {}
                }
            }
            // The token is remembered in the transaction's own commit: a retry after a
            // restart still finds it.
            if durable && let (Some(token), Some(fp)) = (&token_key, &remembered) {
                ops.push(crate::persistence::put_transaction_token(token, fp, now));
            }
            (self.store.submit(ops), consumed)
        };
        commit.wait().await.map_err(store_failed)?;
        if let (Some(token), Some(input)) = (token_key, remembered) {
            self.transaction_tokens.lock().insert(token, (input, now));
        }
        Ok(TransactWriteItemsOutput {
            consumed_capacity: (report != Report::None).then(|| consumed.values().filter_map(|(name, c)| c.report(report, name)).collect()),
            item_collection_metrics: None,
        })
    }

    fn plan_writes(&self, ctx: &RequestContext, items: Vec<TransactWriteItem>) -> Result<Vec<Planned>, ServiceError> {
        let mut plans = Vec::with_capacity(items.len());
        let mut seen: HashSet<(String, PrimaryKey)> = HashSet::new();
        for item in items {
            let (check, table_name, key_item, put_item, update_expression, condition_expression, names, values, on_failure) =
                match (item.condition_check, item.put, item.delete, item.update) {
                    (Some(c), None, None, None) => (
                        true,
                        c.table_name,
                        Some(c.key),
                        None,
                        None,
                        Some(c.condition_expression),
                        c.expression_attribute_names,
                        c.expression_attribute_values,
                        c.return_values_on_condition_check_failure,
                    ),
                    (None, Some(p), None, None) => (
                        false,
                        p.table_name,
                        None,
                        Some(p.item),
                        None,
                        p.condition_expression,
                        p.expression_attribute_names,
                        p.expression_attribute_values,
                        p.return_values_on_condition_check_failure,
                    ),
                    (None, None, Some(d), None) => (
                        false,
                        d.table_name,
                        Some(d.key),
                        None,
                        None,
                        d.condition_expression,
                        d.expression_attribute_names,
                        d.expression_attribute_values,
                        d.return_values_on_condition_check_failure,
                    ),
                    (None, None, None, Some(u)) => (
                        false,
                        u.table_name,
                        Some(u.key),
                        None,
                        Some(u.update_expression),
                        u.condition_expression,
                        u.expression_attribute_names,
                        u.expression_attribute_values,
                        u.return_values_on_condition_check_failure,
                    ),
                    _ => {
                        return Err(ValidationError::new("TransactItems can only contain one of Check, Put, Update or Delete").into());
                    }
                };
            let table = self.table_for_items(ctx, &table_name)?;
            let return_old = return_old_on_failure(on_failure.as_deref())?;
            let is_update = update_expression.is_some();
            let (update, write) = read_write_expressions(
                update_expression.as_deref(),
                None,
                condition_expression.as_deref(),
                None,
                None,
                names,
                values,
                is_update,
            )?;
            let schema = table.state.read().schema.clone();
            let (key, action) = match (put_item, key_item, update) {
                (Some(item), _, _) => {
                    let item = item_from_generated(item)?;
                    (schema.key_of_item(&item)?, Action::Put(item))
                }
                (None, Some(k), Some(update)) => (schema.key_from_key(&item_from_generated(k)?)?, Action::Update(update)),
                (None, Some(k), None) => {
                    let key = schema.key_from_key(&item_from_generated(k)?)?;
                    (key, if check { Action::Check } else { Action::Delete })
                }
                (None, None, _) => return Err(ServiceError::internal("transaction action without a key")),
            };
            if !seen.insert((table.key.clone(), key.clone())) {
                return Err(ValidationError::new("Transaction request cannot include multiple operations on one item").into());
            }
            plans.push(Planned { table, key, condition: write.condition, return_old, action });
        }
        Ok(plans)
    }

    pub fn transact_get_items(&self, ctx: &RequestContext, input: TransactGetItemsInput) -> Result<TransactGetItemsOutput, ServiceError> {
        let report = Report::parse(input.return_consumed_capacity.as_deref())?;
        let n = input.transact_items.len();
        if n == 0 || n > MAX_TRANSACT_ITEMS {
            return Err(count_error(n).into());
        }
        let mut plans = Vec::with_capacity(n);
        for TransactGetItem { get } in input.transact_items {
            let table = self.table_for_items(ctx, &get.table_name)?;
            let projection = read_projection(get.projection_expression.as_deref(), None, get.expression_attribute_names)?;
            let key = table.state.read().schema.key_from_key(&item_from_generated(get.key)?)?;
            plans.push((table, key, projection));
        }
        let tables = distinct_tables(plans.iter().map(|p| &p.0));
        let guards: Vec<(String, RwLockReadGuard<'_, TableState>)> = tables.iter().map(|t| (t.key.clone(), t.state.read())).collect();
        let mut responses = Vec::with_capacity(n);
        let mut consumed: IndexMap<String, (String, Consumed)> = IndexMap::new();
        for (table, key, projection) in &plans {
            let Some((_, state)) = guards.iter().find(|(k, _)| *k == table.key) else {
                return Err(ServiceError::internal("transaction table not locked"));
            };
            if state.deleted {
                return Err(resource_not_found().into());
            }
            let item = state.data.get(key);
            let entry = consumed.entry(table.key.clone()).or_insert_with(|| (state.def.name.clone(), Consumed::default()));
            entry.1.add(&Consumed::table(read_units(item.map_or(0, item_size), true) * 2.0));
            let item = item.map(|i| match projection {
                Some(p) => p.apply(i),
                None => i.clone(),
            });
            responses.push(ItemResponse { item: item.map(item_into_generated) });
        }
        Ok(TransactGetItemsOutput {
            consumed_capacity: (report != Report::None).then(|| consumed.values().filter_map(|(name, c)| c.report(report, name)).collect()),
            responses: Some(responses),
        })
    }
}
