//! Control-plane settings that hang off a function without being part of its record:
//! resource policies, reserved and provisioned concurrency, code signing, runtime
//! management and recursion settings. Each lives in its own durable table, keyed
//! `account/region/name[:qualifier]`, and goes when its function goes.

use crate::code_signing::{CodeSigning, SigningConfig};
use crate::concurrency::{InFlight, Provisioned};
use crate::function::{Function, LATEST};
use crate::function_settings::RuntimeManagement;
use crate::policy::Policy;
use crate::records::Records;
use crate::state::Lambda;
use kagami_core::{RequestContext, ServiceError, Store, StoreError};
use std::sync::Arc;

pub struct Control {
    pub policies: Records<Policy>,
    /// Reserved concurrency per function (`account/region/name`).
    pub reserved: Records<i32>,
    pub provisioned: Records<Provisioned>,
    pub code_signing: CodeSigning,
    pub runtime_management: Records<RuntimeManagement>,
    /// RecursiveLoop per function; absent means AWS's default, Terminate.
    pub recursion: Records<String>,
    pub in_flight: InFlight,
}

impl Control {
    pub fn load(store: &Store) -> Result<Control, StoreError> {
        Ok(Control {
            policies: Records::load(store, "lambda/policies")?,
            reserved: Records::load(store, "lambda/reserved-concurrency")?,
            provisioned: Records::load(store, "lambda/provisioned-concurrency")?,
            code_signing: CodeSigning {
                configs: Records::<SigningConfig>::load(store, "lambda/code-signing-configs")?,
                bindings: Records::load(store, "lambda/function-code-signing")?,
            },
            runtime_management: Records::load(store, "lambda/runtime-management")?,
            recursion: Records::load(store, "lambda/recursion")?,
            in_flight: InFlight::default(),
        })
    }

    pub fn reset(&self) {
        self.policies.reset();
        self.reserved.reset();
        self.provisioned.reset();
        self.code_signing.configs.reset();
        self.code_signing.bindings.reset();
        self.runtime_management.reset();
        self.recursion.reset();
    }

    /// A function (`account/region/name`) or one of its versions or aliases was deleted.
    pub async fn forget(&self, key: &str, qualifier: Option<&str>) -> Result<(), ServiceError> {
        if let Some(q) = qualifier {
            let qualified = format!("{key}:{q}");
            self.policies.remove_with_qualifiers(&qualified).await?;
            self.provisioned.remove_with_qualifiers(&qualified).await?;
            return self.runtime_management.remove_with_qualifiers(&qualified).await;
        }
        self.policies.remove_with_qualifiers(key).await?;
        self.reserved.remove_with_qualifiers(key).await?;
        self.provisioned.remove_with_qualifiers(key).await?;
        self.code_signing.bindings.remove_with_qualifiers(key).await?;
        self.runtime_management.remove_with_qualifiers(key).await?;
        self.recursion.remove_with_qualifiers(key).await
    }
}

/// What a FunctionName plus optional Qualifier names: the function record (an alias's
/// version), the qualifier named, and the RevisionId a precondition compares with.
pub struct Target {
    pub function: Arc<Function>,
    pub qualifier: Option<String>,
    pub revision_id: String,
}

impl Target {
    /// `account/region/name` for unqualified settings.
    pub fn key(&self) -> String {
        self.function.key()
    }

    /// `account/region/name:qualifier`, with no qualifier meaning $LATEST.
    pub fn qualified_key(&self) -> String {
        format!("{}:{}", self.function.key(), self.qualifier.as_deref().unwrap_or(LATEST))
    }

    /// The ARN the request named: qualified when it carried a qualifier.
    pub fn arn(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function.arn()),
            None => self.function.arn(),
        }
    }
}

impl Lambda {
    pub fn control_target(&self, ctx: &RequestContext, function_name: &str, qualifier: Option<&str>) -> Result<Target, ServiceError> {
        let resolved = self.resolve(ctx, function_name, qualifier)?;
        let revision_id = resolved.alias.as_ref().map_or_else(|| resolved.function.revision_id.clone(), |a| a.revision_id.clone());
        Ok(Target { function: resolved.function, qualifier: resolved.qualifier, revision_id })
    }

    /// Settings of the whole function: its `$LATEST` record.
    pub fn control_function(&self, ctx: &RequestContext, function_name: &str) -> Result<Arc<Function>, ServiceError> {
        self.latest(ctx, function_name)
    }
}
