//! PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction. A statement is
//! parsed, then run as the item operation it stands for, its WHERE clause turned into a
//! condition (or filter) expression: SELECT is a Scan with a filter, INSERT a PutItem that
//! must not overwrite, UPDATE and DELETE an UpdateItem/DeleteItem of the item the WHERE
//! clause names by its full key, conditional on the rest of the clause.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.html>

mod parser;

use crate::attribute::{AttributeValue, Item, item_from_generated};
use crate::codec;
use crate::errors::ValidationError;
use crate::generated::{self, *};
use crate::state::Dynamodb;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use kagami_core::{RequestContext, ServiceError};
use parser::{Cond, Parser, Path, Segment, Statement};

/// Statements one BatchExecuteStatement or ExecuteTransaction may hold.
pub const MAX_BATCH_STATEMENTS: usize = 25;
pub const MAX_TRANSACTION_STATEMENTS: usize = 100;

/// Expression names and values collected while a statement is rendered as expressions.
#[derive(Default)]
struct Expressions {
    names: IndexMap<String, String>,
    values: IndexMap<String, generated::AttributeValue>,
}

impl Expressions {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| *n == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_string());
        placeholder
    }

    fn value(&mut self, value: &AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value.clone().into_generated());
        placeholder
    }

    fn path(&mut self, path: &Path) -> String {
        let mut out = String::new();
        for segment in path {
            match segment {
                Segment::Name(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&self.name(n));
                }
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn condition(&mut self, c: &Cond) -> String {
        match c {
            Cond::Cmp(p, op, v) => format!("{} {op} {}", self.path(p), self.value(v)),
            Cond::Between(p, lo, hi) => format!("{} BETWEEN {} AND {}", self.path(p), self.value(lo), self.value(hi)),
            Cond::In(p, list) => {
                let path = self.path(p);
                let values: Vec<String> = list.iter().map(|v| self.value(v)).collect();
                format!("{path} IN ({})", values.join(", "))
            }
            Cond::Func(f, p, v) => format!("{f}({}, {})", self.path(p), self.value(v)),
            Cond::Missing(p, true) => format!("attribute_not_exists({})", self.path(p)),
            Cond::Missing(p, false) => format!("attribute_exists({})", self.path(p)),
            // Parentheses only where precedence needs them, so long AND/OR chains stay flat
            // (the expression parser limits nesting).
            Cond::And(a, b) => format!("{} AND {}", self.grouped(a, |c| matches!(c, Cond::Or(..))), self.grouped(b, |c| matches!(c, Cond::Or(..)))),
            Cond::Or(a, b) => format!("{} OR {}", self.condition(a), self.condition(b)),
            Cond::Not(a) => format!("NOT {}", self.grouped(a, |c| matches!(c, Cond::And(..) | Cond::Or(..)))),
        }
    }

    fn grouped(&mut self, c: &Cond, needs_parentheses: impl Fn(&Cond) -> bool) -> String {
        let text = self.condition(c);
        if needs_parentheses(c) { format!("({text})") } else { text }
    }

    fn names(&self) -> Option<IndexMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<IndexMap<String, generated::AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// The equalities on top-level attributes at the top of a WHERE clause (its AND terms).
fn equalities<'a>(c: &'a Cond, out: &mut Vec<(&'a str, &'a AttributeValue)>) {
    match c {
        Cond::And(a, b) => {
            equalities(a, out);
            equalities(b, out);
        }
        Cond::Cmp(path, "=", v) => {
            if let [Segment::Name(n)] = path.as_slice() {
                out.push((n, v));
            }
        }
        _ => {}
    }
}

fn parameters(list: Option<Vec<generated::AttributeValue>>) -> Result<Vec<AttributeValue>, ValidationError> {
    list.unwrap_or_default().into_iter().map(AttributeValue::from_generated).collect()
}

fn encode_token(key: &IndexMap<String, generated::AttributeValue>) -> Result<String, ValidationError> {
    let item = item_from_generated(key.clone())?;
    Ok(STANDARD.encode(codec::item_to_json(&item).to_string()))
}

fn decode_token(token: &str) -> Result<IndexMap<String, generated::AttributeValue>, ValidationError> {
    let invalid = || ValidationError::new("Invalid NextToken");
    let bytes = STANDARD.decode(token.trim()).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let item: Item = codec::item_from_json(&json).map_err(|_| invalid())?;
    Ok(crate::attribute::item_into_generated(item))
}

/// What one statement produced.
struct Outcome {
    items: Vec<IndexMap<String, generated::AttributeValue>>,
    last_evaluated_key: Option<IndexMap<String, generated::AttributeValue>>,
}

impl Dynamodb {
    /// The full primary key a WHERE clause names, as a `Key` parameter.
    fn key_of_where(&self, ctx: &RequestContext, table: &str, filter: &Cond) -> Result<IndexMap<String, generated::AttributeValue>, ServiceError> {
        let t = self.table_for_items(ctx, table)?;
        let schema = t.state.read().schema.clone();
        let mut found = Vec::new();
        equalities(filter, &mut found);
        let mut key = IndexMap::new();
        for attribute in std::iter::once(&schema.hash).chain(schema.range.as_ref()) {
            let Some((_, v)) = found.iter().find(|(n, _)| *n == attribute.name) else {
                return Err(ValidationError::new("Where clause does not contain a mandatory equality on all key attributes").into());
            };
            key.insert(attribute.name.clone(), (*v).clone().into_generated());
        }
        Ok(key)
    }

    /// The partition key value a WHERE clause fixes with an equality at its top level.
    fn partition_of(&self, ctx: &RequestContext, table: &str, filter: &Cond) -> Result<Option<AttributeValue>, ServiceError> {
        let t = self.table_for_items(ctx, table)?;
        let hash = t.state.read().schema.hash.name.clone();
        let mut found = Vec::new();
        equalities(filter, &mut found);
        Ok(found.into_iter().find(|(n, _)| *n == hash).map(|(_, v)| v.clone()))
    }

    async fn run_statement(
        &self,
        ctx: &RequestContext,
        statement: Statement,
        consistent_read: Option<bool>,
        limit: Option<i32>,
        next_token: Option<&str>,
        on_failure: Option<String>,
    ) -> Result<Outcome, ServiceError> {
        let mut e = Expressions::default();
        match statement {
            Statement::Select { table, index: None, projection, filter: Some(filter) }
                if self.partition_of(ctx, &table, &filter)?.is_some() =>
            {
                // The WHERE clause fixes the partition: read that partition only.
                let hash_value = self.partition_of(ctx, &table, &filter)?.unwrap_or(AttributeValue::Null);
                let filter_text = e.condition(&filter);
                let projection_text = projection.map(|paths| paths.iter().map(|p| e.path(p)).collect::<Vec<_>>().join(", "));
                let mut attrs = crate::expressions::ExpressionAttributes::new(e.names(), e.values())?;
                let condition = attrs.condition(crate::expressions::ExpressionKind::FilterExpression, &filter_text)?;
                let projection = projection_text.map(|t| attrs.projection(&t)).transpose()?;
                let limit = limit.and_then(|l| usize::try_from(l).ok()).filter(|l| *l > 0);
                let start = next_token.map(decode_token).transpose()?;
                let (items, last) = self.read_partition(
                    ctx,
                    &table,
                    &hash_value,
                    Some(condition),
                    projection,
                    limit,
                    consistent_read.unwrap_or(false),
                    start,
                )?;
                Ok(Outcome {
                    items: items.into_iter().map(crate::attribute::item_into_generated).collect(),
                    last_evaluated_key: last.map(crate::attribute::item_into_generated),
                })
            }
            Statement::Select { table, index, projection, filter } => {
                let filter_expression = filter.as_ref().map(|f| e.condition(f));
                let projection_expression = projection.map(|paths| paths.iter().map(|p| e.path(p)).collect::<Vec<_>>().join(", "));
                let out = self.scan(
                    ctx,
                    ScanInput {
                        table_name: table,
                        index_name: index,
                        filter_expression,
                        projection_expression,
                        expression_attribute_names: e.names(),
                        expression_attribute_values: e.values(),
                        consistent_read,
                        limit,
                        exclusive_start_key: next_token.map(decode_token).transpose()?,
                        ..Default::default()
                    },
                )?;
                Ok(Outcome { items: out.items.unwrap_or_default(), last_evaluated_key: out.last_evaluated_key })
            }
            Statement::Insert { table, item } => {
                let t = self.table_for_items(ctx, &table)?;
                let hash = t.state.read().schema.hash.name.clone();
                let condition = format!("attribute_not_exists({})", e.name(&hash));
                let result = self
                    .put_item(
                        ctx,
                        PutItemInput {
                            table_name: table,
                            item: crate::attribute::item_into_generated(item),
                            condition_expression: Some(condition),
                            expression_attribute_names: e.names(),
                            ..Default::default()
                        },
                    )
                    .await;
                match result {
                    Err(err) if err.code == "ConditionalCheckFailedException" => {
                        Err(DynamodbError::DuplicateItemException("Duplicate primary key exists in table".into()).into())
                    }
                    Err(err) => Err(err),
                    Ok(_) => Ok(Outcome { items: Vec::new(), last_evaluated_key: None }),
                }
            }
            Statement::Update { table, sets, removes, filter } => {
                let key = self.key_of_where(ctx, &table, &filter)?;
                let mut clauses = Vec::new();
                if !sets.is_empty() {
                    let parts: Vec<String> = sets.iter().map(|(p, v)| format!("{} = {}", e.path(p), e.value(v))).collect();
                    clauses.push(format!("SET {}", parts.join(", ")));
                }
                if !removes.is_empty() {
                    let parts: Vec<String> = removes.iter().map(|p| e.path(p)).collect();
                    clauses.push(format!("REMOVE {}", parts.join(", ")));
                }
                let condition = e.condition(&filter);
                self.update_item(
                    ctx,
                    UpdateItemInput {
                        table_name: table,
                        key,
                        update_expression: Some(clauses.join(" ")),
                        condition_expression: Some(condition),
                        expression_attribute_names: e.names(),
                        expression_attribute_values: e.values(),
                        return_values_on_condition_check_failure: on_failure,
                        ..Default::default()
                    },
                )
                .await?;
                Ok(Outcome { items: Vec::new(), last_evaluated_key: None })
            }
            Statement::Delete { table, filter } => {
                let key = self.key_of_where(ctx, &table, &filter)?;
                let condition = e.condition(&filter);
                self.delete_item(
                    ctx,
                    DeleteItemInput {
                        table_name: table,
                        key,
                        condition_expression: Some(condition),
                        expression_attribute_names: e.names(),
                        expression_attribute_values: e.values(),
                        return_values_on_condition_check_failure: on_failure,
                        ..Default::default()
                    },
                )
                .await?;
                Ok(Outcome { items: Vec::new(), last_evaluated_key: None })
            }
        }
    }

    pub async fn execute_statement(&self, ctx: &RequestContext, input: ExecuteStatementInput) -> Result<ExecuteStatementOutput, ServiceError> {
        let statement = Parser::parse(&input.statement, parameters(input.parameters)?)?;
        let outcome = self
            .run_statement(ctx, statement, input.consistent_read, input.limit, input.next_token.as_deref(), input.return_values_on_condition_check_failure)
            .await?;
        Ok(ExecuteStatementOutput {
            next_token: outcome.last_evaluated_key.as_ref().map(encode_token).transpose()?,
            last_evaluated_key: outcome.last_evaluated_key,
            items: Some(outcome.items),
            consumed_capacity: None,
        })
    }

    pub async fn batch_execute_statement(
        &self,
        ctx: &RequestContext,
        input: BatchExecuteStatementInput,
    ) -> Result<BatchExecuteStatementOutput, ServiceError> {
        if input.statements.is_empty() || input.statements.len() > MAX_BATCH_STATEMENTS {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_STATEMENTS}"
            ))
            .into());
        }
        let mut responses = Vec::with_capacity(input.statements.len());
        for request in input.statements {
            let parsed = Parser::parse(&request.statement, parameters(request.parameters)?);
            let table = parsed.as_ref().ok().map(|s| s.table().to_string());
            let result = match parsed {
                Ok(statement) => {
                    // A batched SELECT reads one item by its full key.
                    let key_check = match &statement {
                        Statement::Select { filter: Some(f), table, .. } => self.key_of_where(ctx, table, f).map(|_| ()),
                        Statement::Select { filter: None, .. } => {
                            Err(ValidationError::new("Where clause does not contain a mandatory equality on all key attributes").into())
                        }
                        _ => Ok(()),
                    };
                    match key_check {
                        Ok(()) => {
                            self.run_statement(ctx, statement, request.consistent_read, None, None, request.return_values_on_condition_check_failure)
                                .await
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e.into()),
            };
            responses.push(match result {
                Ok(outcome) => BatchStatementResponse { table_name: table, item: outcome.items.into_iter().next(), error: None },
                Err(err) => BatchStatementResponse {
                    table_name: table,
                    item: None,
                    error: Some(BatchStatementError {
                        code: Some(err.code.trim_end_matches("Exception").to_string()),
                        message: Some(err.message.clone()),
                        item: None,
                    }),
                },
            });
        }
        Ok(BatchExecuteStatementOutput { responses: Some(responses), consumed_capacity: None })
    }

    pub async fn execute_transaction(&self, ctx: &RequestContext, input: ExecuteTransactionInput) -> Result<ExecuteTransactionOutput, ServiceError> {
        let n = input.transact_statements.len();
        if n == 0 || n > MAX_TRANSACTION_STATEMENTS {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRANSACTION_STATEMENTS}"
            ))
            .into());
        }
        let mut statements = Vec::with_capacity(n);
        for s in input.transact_statements {
            statements.push((Parser::parse(&s.statement, parameters(s.parameters)?)?, s.return_values_on_condition_check_failure));
        }
        let reads = statements.iter().filter(|(s, _)| matches!(s, Statement::Select { .. })).count();
        if reads != 0 && reads != n {
            return Err(ValidationError::new("Transaction statements must all be reads or all be writes").into());
        }
        if reads == n {
            let mut gets = Vec::with_capacity(n);
            for (statement, _) in statements {
                let Statement::Select { table, filter: Some(filter), projection, .. } = statement else {
                    return Err(ValidationError::new("Where clause does not contain a mandatory equality on all key attributes").into());
                };
                let key = self.key_of_where(ctx, &table, &filter)?;
                let mut e = Expressions::default();
                let projection_expression = projection.map(|paths| paths.iter().map(|p| e.path(p)).collect::<Vec<_>>().join(", "));
                gets.push(TransactGetItem {
                    get: Get { table_name: table, key, projection_expression, expression_attribute_names: e.names() },
                });
            }
            let out = self.transact_get_items(ctx, TransactGetItemsInput { transact_items: gets, return_consumed_capacity: input.return_consumed_capacity })?;
            return Ok(ExecuteTransactionOutput { responses: out.responses, consumed_capacity: out.consumed_capacity });
        }
        let mut items = Vec::with_capacity(n);
        for (statement, on_failure) in statements {
            let mut e = Expressions::default();
            let item = match statement {
                Statement::Insert { table, item } => {
                    let t = self.table_for_items(ctx, &table)?;
                    let hash = t.state.read().schema.hash.name.clone();
                    let condition = format!("attribute_not_exists({})", e.name(&hash));
                    TransactWriteItem {
                        put: Some(Put {
                            table_name: table,
                            item: crate::attribute::item_into_generated(item),
                            condition_expression: Some(condition),
                            expression_attribute_names: e.names(),
                            expression_attribute_values: None,
                            return_values_on_condition_check_failure: on_failure,
                        }),
                        ..Default::default()
                    }
                }
                Statement::Update { table, sets, removes, filter } => {
                    let key = self.key_of_where(ctx, &table, &filter)?;
                    let mut clauses = Vec::new();
                    if !sets.is_empty() {
                        let parts: Vec<String> = sets.iter().map(|(p, v)| format!("{} = {}", e.path(p), e.value(v))).collect();
                        clauses.push(format!("SET {}", parts.join(", ")));
                    }
                    if !removes.is_empty() {
                        let parts: Vec<String> = removes.iter().map(|p| e.path(p)).collect();
                        clauses.push(format!("REMOVE {}", parts.join(", ")));
                    }
                    let condition = e.condition(&filter);
                    TransactWriteItem {
                        update: Some(generated::Update {
                            table_name: table,
                            key,
                            update_expression: clauses.join(" "),
                            condition_expression: Some(condition),
                            expression_attribute_names: e.names(),
                            expression_attribute_values: e.values(),
                            return_values_on_condition_check_failure: on_failure,
                        }),
                        ..Default::default()
                    }
                }
                Statement::Delete { table, filter } => {
                    let key = self.key_of_where(ctx, &table, &filter)?;
                    let condition = e.condition(&filter);
                    TransactWriteItem {
                        delete: Some(Delete {
                            table_name: table,
                            key,
                            condition_expression: Some(condition),
                            expression_attribute_names: e.names(),
                            expression_attribute_values: e.values(),
                            return_values_on_condition_check_failure: on_failure,
                        }),
                        ..Default::default()
                    }
                }
                Statement::Select { .. } => return Err(ServiceError::internal("a read among the writes of a transaction")),
            };
            items.push(item);
        }
        let out = self
            .transact_write_items(
                ctx,
                TransactWriteItemsInput {
                    transact_items: items,
                    return_consumed_capacity: input.return_consumed_capacity,
                    client_request_token: input.client_request_token,
                    ..Default::default()
                },
            )
            .await?;
        Ok(ExecuteTransactionOutput { responses: None, consumed_capacity: out.consumed_capacity })
    }
}
