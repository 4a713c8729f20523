//! CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases.

use crate::alias::{self, Alias};
use crate::function::{Function, children_prefix};
use crate::generated::*;
use crate::state::{ALIASES, Lambda};
use crate::versions::{alias_key, max_items};
use indexmap::IndexMap;
use kagami_core::store::{Commit, StoreOp};
use kagami_core::{RequestContext, ServiceError, ids};
use std::sync::Arc;

/// ListAliases page size when MaxItems is absent, and its ceiling.
/// https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
const MAX_ITEMS: usize = 50;

fn alias_not_found(latest: &Function, name: &str) -> ServiceError {
    LambdaError::ResourceNotFoundException(format!("Cannot find alias arn: {}:{name}", latest.arn())).into()
}

impl Lambda {
    /// The weights to store for an alias pointing at `primary`.
    fn alias_routing(&self, latest: &Arc<Function>, primary: &str, config: Option<&AliasRoutingConfiguration>) -> Result<IndexMap<String, f64>, ServiceError> {
        let weights = config.and_then(|c| c.additional_version_weights.clone()).unwrap_or_default();
        alias::validate_routing(&weights, primary, |v| self.version(&latest.key(), v).is_some(), |v| format!("{}:{v}", latest.arn()))
    }

    /// The version an alias is to point at, which must exist.
    fn alias_target(&self, latest: &Arc<Function>, version: &str) -> Result<(), ServiceError> {
        alias::validate_function_version(version)?;
        self.version_or_latest(latest, version)
            .map(|_| ())
            .ok_or_else(|| crate::errors::not_found(&format!("{}:{version}", latest.arn())))
    }

    /// Queues an alias's record; call under the `aliases` lock.
    fn submit_alias(&self, key: &str, a: &Alias) -> Commit {
        self.submit(vec![StoreOp::put_json(ALIASES, key, a)])
    }

    pub async fn create_alias(&self, ctx: &RequestContext, input: CreateAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        alias::validate_name(&input.name)?;
        let latest = self.latest(ctx, &input.function_name)?;
        self.alias_target(&latest, &input.function_version)?;
        let weights = self.alias_routing(&latest, &input.function_version, input.routing_config.as_ref())?;
        let a = Arc::new(Alias {
            account: latest.account.clone(),
            region: latest.region.clone(),
            function: latest.name.clone(),
            name: input.name.clone(),
            function_version: input.function_version,
            description: input.description.unwrap_or_default(),
            weights,
            revision_id: ids::uuid_v4(),
        });
        let pending = {
            let mut aliases = self.aliases.write();
            let key = alias_key(&latest.key(), &input.name);
            if aliases.contains_key(&key) {
                return Err(LambdaError::ResourceConflictException(format!("Alias already exists: {}", a.arn())).into());
            }
            aliases.insert(key.clone(), Arc::clone(&a));
            self.submit_alias(&key, &a)
        };
        Self::settle(pending, &latest.name).await?;
        Ok(a.configuration())
    }

    pub fn get_alias(&self, ctx: &RequestContext, input: GetAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        alias::validate_name(&input.name)?;
        let latest = self.latest(ctx, &input.function_name)?;
        let a = self.aliases.read().get(&alias_key(&latest.key(), &input.name)).cloned();
        a.map(|a| a.configuration()).ok_or_else(|| alias_not_found(&latest, &input.name))
    }

    pub async fn update_alias(&self, ctx: &RequestContext, input: UpdateAliasRequest) -> Result<AliasConfiguration, ServiceError> {
        alias::validate_name(&input.name)?;
        let latest = self.latest(ctx, &input.function_name)?;
        let key = alias_key(&latest.key(), &input.name);
        let current = self.aliases.read().get(&key).cloned().ok_or_else(|| alias_not_found(&latest, &input.name))?;
        if input.revision_id.as_deref().is_some_and(|r| r != current.revision_id) {
            return Err(LambdaError::PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
            )
            .into());
        }
        let mut next = (*current).clone();
        if let Some(v) = input.function_version {
            self.alias_target(&latest, &v)?;
            next.function_version = v;
        }
        if let Some(d) = input.description {
            next.description = d;
        }
        // Without RoutingConfig the weights stay; a new primary must still fit them.
        next.weights = match &input.routing_config {
            Some(c) => self.alias_routing(&latest, &next.function_version, Some(c))?,
            None => {
                let kept = AliasRoutingConfiguration { additional_version_weights: Some(next.weights.clone()) };
                self.alias_routing(&latest, &next.function_version, Some(&kept))?
            }
        };
        next.revision_id = ids::uuid_v4();
        let next = Arc::new(next);
        let pending = {
            let mut aliases = self.aliases.write();
            // Deleted or changed meanwhile: the caller's view is stale.
            if aliases.get(&key).is_none_or(|a| a.revision_id != current.revision_id) {
                return Err(LambdaError::PreconditionFailedException(
                    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
                )
                .into());
            }
            aliases.insert(key.clone(), Arc::clone(&next));
            self.submit_alias(&key, &next)
        };
        Self::settle(pending, &latest.name).await?;
        Ok(next.configuration())
    }

    /// Deleting an alias that does not exist succeeds, as in Lambda.
    pub async fn delete_alias(&self, ctx: &RequestContext, input: DeleteAliasRequest) -> Result<(), ServiceError> {
        alias::validate_name(&input.name)?;
        let latest = self.latest(ctx, &input.function_name)?;
        let key = alias_key(&latest.key(), &input.name);
        let pending = {
            let mut aliases = self.aliases.write();
            aliases.remove(&key).map(|_| self.submit(vec![StoreOp::delete(ALIASES, key.clone())]))
        };
        match pending {
            Some(p) => Self::settle(p, &latest.name).await,
            None => Ok(()),
        }
    }

    pub fn list_aliases(&self, ctx: &RequestContext, input: ListAliasesRequest) -> Result<ListAliasesResponse, ServiceError> {
        let max = max_items(input.max_items, MAX_ITEMS)?;
        if let Some(v) = &input.function_version {
            alias::validate_function_version(v)?;
        }
        let latest = self.latest(ctx, &input.function_name)?;
        let below = children_prefix(&latest.key());
        let aliases = self.aliases.read();
        let matching: Vec<&Arc<Alias>> = aliases
            .range(below.clone()..)
            .take_while(|(k, _)| k.starts_with(&below))
            .map(|(_, a)| a)
            .filter(|a| input.function_version.as_ref().is_none_or(|v| a.references(v)))
            .filter(|a| input.marker.as_deref().is_none_or(|m| m.is_empty() || a.name.as_str() > m))
            .collect();
        let page: Vec<AliasConfiguration> = matching.iter().take(max).map(|a| a.configuration()).collect();
        let next_marker = (matching.len() > max).then(|| page.last().and_then(|a| a.name.clone())).flatten();
        Ok(ListAliasesResponse { next_marker, aliases: Some(page) })
    }
}

