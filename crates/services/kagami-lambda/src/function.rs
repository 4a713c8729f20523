//! A function's record and how it reads in the Lambda API.

use crate::generated::{EnvironmentResponse, FunctionConfiguration};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What one function is, as stored: configuration plus the identity of its package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub account: String,
    pub region: String,
    pub name: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub description: String,
    pub timeout: i32,
    pub memory_size: i32,
    pub environment: Option<IndexMap<String, String>>,
    pub tags: IndexMap<String, String>,
    pub code_sha256: String,
    /// Hex of the same digest: the package's file name.
    pub code_hex: String,
    pub code_size: i64,
    pub last_modified: String,
    /// Changes with every update: selects the warm environments that still fit.
    pub revision_id: String,
    /// `$LATEST`, or the number of the published version this record is a snapshot of.
    #[serde(default = "latest")]
    pub version: String,
    /// On `$LATEST`: the number the last PublishVersion took (numbers are never reused).
    #[serde(default)]
    pub last_version: u64,
    /// On `$LATEST`: its RevisionId right after the last publish; still equal means
    /// nothing changed since, and PublishVersion answers that version again.
    #[serde(default)]
    pub published_revision: Option<String>,
    /// The layers unpacked into the function's `/opt`, in order.
    #[serde(default)]
    pub layers: Vec<crate::layers::FunctionLayer>,
    /// DeadLetterConfig.TargetArn: where asynchronous events go once they fail
    /// (`async_invoke.rs`).
    #[serde(default)]
    pub dead_letter_target: Option<String>,
}

fn latest() -> String {
    LATEST.to_string()
}

impl Function {
    pub fn arn(&self) -> String {
        function_arn(&self.region, &self.account, &self.name)
    }

    pub fn key(&self) -> String {
        record_key(&self.account, &self.region, &self.name)
    }

    /// The key of this record: `$LATEST` under the function's key, versions below it.
    pub fn record_key(&self) -> String {
        match self.version.parse::<u64>() {
            Ok(n) => version_key(&self.key(), n),
            Err(_) => self.key(),
        }
    }

    pub fn is_latest(&self) -> bool {
        self.version == LATEST
    }

    /// The ARN a configuration reports: published versions carry their number.
    pub fn version_arn(&self) -> String {
        if self.is_latest() { self.arn() } else { format!("{}:{}", self.arn(), self.version) }
    }

    pub fn configuration(&self) -> FunctionConfiguration {
        FunctionConfiguration {
            function_name: Some(self.name.clone()),
            function_arn: Some(self.version_arn()),
            runtime: Some(self.runtime.clone()),
            role: Some(self.role.clone()),
            handler: Some(self.handler.clone()),
            code_size: Some(self.code_size),
            description: Some(self.description.clone()),
            timeout: Some(self.timeout),
            memory_size: Some(self.memory_size),
            last_modified: Some(self.last_modified.clone()),
            code_sha256: Some(self.code_sha256.clone()),
            version: Some(self.version.clone()),
            environment: self
                .environment
                .as_ref()
                .map(|v| EnvironmentResponse { variables: Some(v.clone()), error: None }),
            tracing_config: Some(crate::generated::TracingConfigResponse { mode: Some("PassThrough".into()) }),
            revision_id: Some(self.revision_id.clone()),
            state: Some("Active".into()),
            last_update_status: Some("Successful".into()),
            package_type: Some("Zip".into()),
            architectures: Some(vec!["x86_64".into()]),
            ephemeral_storage: Some(crate::generated::EphemeralStorage { size: 512 }),
            snap_start: Some(crate::generated::SnapStartResponse {
                apply_on: Some("None".into()),
                optimization_status: Some("Off".into()),
            }),
            layers: (!self.layers.is_empty()).then(|| self.layers.iter().map(crate::layers::FunctionLayer::shape).collect()),
            dead_letter_config: self.dead_letter_target.as_ref().map(|t| crate::generated::DeadLetterConfig { target_arn: Some(t.clone()) }),
            logging_config: Some(crate::generated::LoggingConfig {
                log_format: Some("Text".into()),
                log_group: Some(self.log_group()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.name)
    }
}

pub const LATEST: &str = "$LATEST";

pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub fn record_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}/{region}/{name}")
}

/// A published version's record key: zero-padded so that keys sort by number.
pub fn version_key(function_key: &str, version: u64) -> String {
    format!("{function_key}/{version:020}")
}

/// Where a function's versions or aliases start among the record keys.
pub fn children_prefix(function_key: &str) -> String {
    format!("{function_key}/")
}

/// Lambda's LastModified: `2024-01-01T00:00:00.000+0000`.
pub fn last_modified(millis: i64) -> String {
    let iso = kagami_core::Timestamp::from_millis(millis).to_iso8601_millis();
    format!("{}+0000", iso.trim_end_matches('Z'))
}
