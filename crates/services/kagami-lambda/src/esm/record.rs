//! One event source mapping as stored, and how it reads in the Lambda API.

use crate::generated::{DestinationConfig, EventSourceMappingConfiguration, Filter, FilterCriteria, OnFailure, ScalingConfig};
use kagami_core::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Sqs,
    DynamoDbStream,
    Kinesis,
}

impl Kind {
    /// Streams (DynamoDB, Kinesis) share their settings: positions, retries, destinations.
    pub fn is_stream(self) -> bool {
        self != Kind::Sqs
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub uuid: String,
    pub account: String,
    pub region: String,
    pub kind: Kind,
    pub event_source_arn: String,
    /// As AWS reports it: the function's ARN, with the qualifier the request named.
    pub function_arn: String,
    pub enabled: bool,
    pub batch_size: i32,
    pub maximum_batching_window_in_seconds: i32,
    pub starting_position: Option<String>,
    pub starting_position_timestamp: Option<i64>,
    /// Filter patterns (JSON text, as given).
    pub filters: Option<Vec<String>>,
    pub maximum_concurrency: Option<i32>,
    pub function_response_types: Vec<String>,
    pub maximum_record_age_in_seconds: Option<i32>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub maximum_retry_attempts: Option<i32>,
    pub parallelization_factor: Option<i32>,
    pub tumbling_window_in_seconds: Option<i32>,
    pub on_failure: Option<String>,
    pub last_modified_millis: i64,
    pub last_processing_result: Option<String>,
}

impl Mapping {
    /// A mapping for unit tests.
    #[cfg(test)]
    pub fn sample(kind: &str, arn: &str) -> Mapping {
        serde_json::from_value(serde_json::json!({
            "uuid": "u", "account": "111122223333", "region": "us-east-1", "kind": kind,
            "event_source_arn": arn,
            "function_arn": "arn:aws:lambda:us-east-1:111122223333:function:f", "enabled": true,
            "batch_size": 100, "maximum_batching_window_in_seconds": 0, "starting_position": "LATEST",
            "starting_position_timestamp": null, "filters": null, "maximum_concurrency": null,
            "function_response_types": [], "maximum_record_age_in_seconds": null,
            "bisect_batch_on_function_error": null, "maximum_retry_attempts": 1, "parallelization_factor": null,
            "tumbling_window_in_seconds": null, "on_failure": null, "last_modified_millis": 0,
            "last_processing_result": null
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, self.account, self.uuid)
    }

    /// SQS mappings say who changed them in capitals; stream mappings in words.
    fn transition_reason(&self) -> &'static str {
        match self.kind {
            Kind::Sqs => "USER_INITIATED",
            Kind::DynamoDbStream | Kind::Kinesis => "User action",
        }
    }

    /// The settled state: what GetEventSourceMapping reports once a change is done.
    pub fn settled_state(&self) -> &'static str {
        if self.enabled { "Enabled" } else { "Disabled" }
    }

    /// The mapping as the API shows it, in `state` (a transition such as `Creating`
    /// in the answer to the call that started it, else the settled state).
    pub fn configuration(&self, state: &str) -> EventSourceMappingConfiguration {
        let stream = self.kind.is_stream();
        EventSourceMappingConfiguration {
            uuid: Some(self.uuid.clone()),
            starting_position: self.starting_position.clone(),
            starting_position_timestamp: self.starting_position_timestamp.map(Timestamp::from_millis),
            batch_size: Some(self.batch_size),
            maximum_batching_window_in_seconds: Some(self.maximum_batching_window_in_seconds),
            parallelization_factor: stream.then_some(self.parallelization_factor.unwrap_or(1)),
            event_source_arn: Some(self.event_source_arn.clone()),
            filter_criteria: self.filters.as_ref().map(|f| FilterCriteria {
                filters: Some(f.iter().map(|p| Filter { pattern: Some(p.clone()) }).collect()),
            }),
            scaling_config: self.maximum_concurrency.map(|c| ScalingConfig { maximum_concurrency: Some(c) }),
            function_arn: Some(self.function_arn.clone()),
            last_modified: Some(Timestamp::from_millis(self.last_modified_millis)),
            last_processing_result: if stream {
                Some(self.last_processing_result.clone().unwrap_or_else(|| "No records processed".into()))
            } else {
                None
            },
            state: Some(state.to_string()),
            state_transition_reason: Some(self.transition_reason().into()),
            destination_config: stream.then(|| DestinationConfig {
                on_success: None,
                on_failure: Some(OnFailure { destination: self.on_failure.clone() }),
            }),
            maximum_record_age_in_seconds: stream.then_some(self.maximum_record_age_in_seconds.unwrap_or(-1)),
            bisect_batch_on_function_error: stream.then_some(self.bisect_batch_on_function_error.unwrap_or(false)),
            maximum_retry_attempts: stream.then_some(self.maximum_retry_attempts.unwrap_or(-1)),
            tumbling_window_in_seconds: stream.then_some(self.tumbling_window_in_seconds.unwrap_or(0)),
            function_response_types: Some(self.function_response_types.clone()),
            event_source_mapping_arn: Some(self.arn()),
            ..Default::default()
        }
    }
}
