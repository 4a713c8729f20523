//! Saved Logs Insights queries: PutQueryDefinition, DescribeQueryDefinitions and
//! DeleteQueryDefinition.
//! https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html

use crate::errors::{constraint, store_failed};
use crate::generated::*;
use crate::pagination;
use crate::resources::{QUERY_DEFINITIONS, QueryDefinitionRecord, QueryParameterRecord, query_definition_op, record_key};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock, ids};

const MAX_NAME: usize = 255;
const MAX_QUERY_STRING: usize = 10_000;
/// DescribeQueryDefinitions: maxResults 1 to 1000.
const MAX_DESCRIBE: i32 = 1000;
const LANGUAGES: &[&str] = &["CWLI", "SQL", "PPL"];

fn not_found() -> LogsError {
    LogsError::ResourceNotFoundException("The specified query definition does not exist.".into())
}

fn validate_language(language: Option<&str>) -> Result<String, LogsError> {
    let language = language.unwrap_or("CWLI");
    if !LANGUAGES.contains(&language) {
        return Err(constraint(language, "queryLanguage", "Member must satisfy enum value set: [CWLI, SQL, PPL]"));
    }
    Ok(language.to_string())
}

fn describe(r: &QueryDefinitionRecord) -> QueryDefinition {
    QueryDefinition {
        query_language: Some(r.query_language.clone()),
        query_definition_id: Some(r.id.clone()),
        name: Some(r.name.clone()),
        query_string: Some(r.query_string.clone()),
        last_modified: Some(r.last_modified),
        log_group_names: (!r.log_group_names.is_empty()).then(|| r.log_group_names.clone()),
        parameters: (!r.parameters.is_empty()).then(|| {
            r.parameters
                .iter()
                .map(|p| QueryParameter { name: p.name.clone(), default_value: p.default_value.clone(), description: p.description.clone() })
                .collect()
        }),
    }
}

impl crate::state::Logs {
    pub async fn put_query_definition(&self, ctx: &RequestContext, input: PutQueryDefinitionRequest) -> Result<PutQueryDefinitionResponse, ServiceError> {
        if input.name.is_empty() || input.name.chars().count() > MAX_NAME {
            return Err(constraint(&input.name, "name", "Member must have length less than or equal to 255").into());
        }
        if input.query_string.is_empty() || input.query_string.chars().count() > MAX_QUERY_STRING {
            return Err(constraint("***", "queryString", "Member must have length less than or equal to 10000").into());
        }
        let language = validate_language(input.query_language.as_deref())?;
        let parameters: Vec<QueryParameterRecord> = input
            .parameters
            .unwrap_or_default()
            .into_iter()
            .map(|p| QueryParameterRecord { name: p.name, default_value: p.default_value, description: p.description })
            .collect();
        let (id, commit) = self.with_resources(ctx, |r| {
            let id = match input.query_definition_id {
                Some(id) if !r.query_definitions.contains_key(&id) => return Err(not_found()),
                Some(id) => id,
                None => ids::uuid_v4(),
            };
            let record = QueryDefinitionRecord {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                id: id.clone(),
                name: input.name,
                query_string: input.query_string,
                query_language: language,
                log_group_names: input.log_group_names.unwrap_or_default(),
                parameters,
                last_modified: clock::now_millis(),
            };
            let op = query_definition_op(&record);
            r.query_definitions.insert(id.clone(), record);
            Ok((id, self.store.submit(vec![op])))
        })?;
        commit.wait().await.map_err(store_failed)?;
        Ok(PutQueryDefinitionResponse { query_definition_id: Some(id) })
    }

    pub fn describe_query_definitions(
        &self,
        ctx: &RequestContext,
        input: DescribeQueryDefinitionsRequest,
    ) -> Result<DescribeQueryDefinitionsResponse, ServiceError> {
        let limit = pagination::limit(input.max_results, MAX_DESCRIBE, MAX_DESCRIBE)?;
        let language = input.query_language.as_deref().map(|l| validate_language(Some(l))).transpose()?;
        let mut found: Vec<QueryDefinition> = self.with_resources(ctx, |r| {
            r.query_definitions
                .values()
                .filter(|d| input.query_definition_name_prefix.as_deref().is_none_or(|p| d.name.starts_with(p)))
                .filter(|d| language.as_deref().is_none_or(|l| d.query_language == l))
                .map(describe)
                .collect()
        });
        found.sort_by(|a, b| (&a.name, &a.query_definition_id).cmp(&(&b.name, &b.query_definition_id)));
        let (query_definitions, next_token) = pagination::page(found, input.next_token.as_deref(), limit)?;
        Ok(DescribeQueryDefinitionsResponse { query_definitions: Some(query_definitions), next_token })
    }

    pub async fn delete_query_definition(
        &self,
        ctx: &RequestContext,
        input: DeleteQueryDefinitionRequest,
    ) -> Result<DeleteQueryDefinitionResponse, ServiceError> {
        let commit = self.with_resources(ctx, |r| {
            r.query_definitions.remove(&input.query_definition_id).ok_or_else(not_found)?;
            let key = record_key(&ctx.account_id, &ctx.region, &input.query_definition_id);
            Ok::<_, LogsError>(self.store.submit(vec![StoreOp::delete(QUERY_DEFINITIONS, key)]))
        })?;
        commit.wait().await.map_err(store_failed)?;
        Ok(DeleteQueryDefinitionResponse { success: Some(true) })
    }
}
