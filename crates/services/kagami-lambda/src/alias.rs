//! A function alias: a name pointing at one version, optionally shifting a share of the
//! invocations to a second version (RoutingConfig).

use crate::errors::validation;
use crate::function::{LATEST, function_arn};
use crate::generated::{AliasConfiguration, AliasRoutingConfiguration, LambdaError};
use indexmap::IndexMap;
use kagami_core::ServiceError;
use serde::{Deserialize, Serialize};

/// Alias names are 1..128 characters and never all digits (those are versions).
/// https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
const MAX_ALIAS_NAME: usize = 128;
/// RoutingConfig takes one additional version.
/// https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html
const MAX_ADDITIONAL_VERSIONS: usize = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub account: String,
    pub region: String,
    pub function: String,
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// version -> share of invocations, in 0..=1.
    pub weights: IndexMap<String, f64>,
    pub revision_id: String,
}

impl Alias {
    pub fn arn(&self) -> String {
        format!("{}:{}", function_arn(&self.region, &self.account, &self.function), self.name)
    }

    pub fn configuration(&self) -> AliasConfiguration {
        AliasConfiguration {
            alias_arn: Some(self.arn()),
            name: Some(self.name.clone()),
            function_version: Some(self.function_version.clone()),
            description: Some(self.description.clone()),
            routing_config: (!self.weights.is_empty())
                .then(|| AliasRoutingConfiguration { additional_version_weights: Some(self.weights.clone()) }),
            revision_id: Some(self.revision_id.clone()),
        }
    }

    /// Whether the alias sends any invocation to `version`.
    pub fn references(&self, version: &str) -> bool {
        self.function_version == version || self.weights.contains_key(version)
    }

    /// The version one invocation runs: the additional version with its weight's
    /// probability, else the primary one.
    pub fn pick(&self) -> &str {
        match self.weights.iter().next() {
            Some((version, weight)) if fastrand::f64() < *weight => version,
            _ => &self.function_version,
        }
    }
}

pub fn is_version_number(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit())
}

pub fn validate_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ALIAS_NAME
        && !is_version_number(name)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        return Ok(());
    }
    Err(validation(&format!(
        "Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
    )))
}

pub fn validate_function_version(version: &str) -> Result<(), ServiceError> {
    if version == LATEST || is_version_number(version) && version.len() <= 1024 {
        return Ok(());
    }
    Err(validation(&format!(
        "Value '{version}' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"
    )))
}

/// A weight as Lambda's (Java) front end prints it: `0.5`, `2.0`.
fn weight_text(w: f64) -> String {
    if w.fract() == 0.0 && w.is_finite() { format!("{w:.1}") } else { w.to_string() }
}

/// Checks AdditionalVersionWeights against the alias's primary version; `exists` says
/// whether a version number is published. Answers the weights to keep (empty: none).
pub fn validate_routing(
    weights: &IndexMap<String, f64>,
    primary: &str,
    exists: impl Fn(&str) -> bool,
    version_arn: impl Fn(&str) -> String,
) -> Result<IndexMap<String, f64>, ServiceError> {
    if weights.len() > MAX_ADDITIONAL_VERSIONS {
        return Err(LambdaError::InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1".into(),
        )
        .into());
    }
    for (version, &weight) in weights {
        let entry = format!("{{{version}={}}}", weight_text(weight));
        if !(0.0..=1.0).contains(&weight) {
            return Err(validation(&format!(
                "Value '{entry}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
            )));
        }
        if !is_version_number(version) {
            return Err(validation(&format!(
                "Value '{entry}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]"
            )));
        }
        if version == primary {
            return Err(LambdaError::InvalidParameterValueException(format!(
                "Invalid function version {version}. Function version {version} is already included in routing configuration."
            ))
            .into());
        }
        if primary == LATEST {
            return Err(LambdaError::InvalidParameterValueException(
                "$LATEST is not supported for an alias pointing to more than 1 version".into(),
            )
            .into());
        }
        if !exists(version) {
            return Err(crate::errors::not_found(&version_arn(version)));
        }
    }
    Ok(weights.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_are_not_numbers() {
        assert!(validate_name("prod").is_ok());
        assert!(validate_name("blue-green_2").is_ok());
        assert!(validate_name("12").is_err());
        assert!(validate_name("").is_err());
        assert!(validate_name("a:b").is_err());
    }

    #[test]
    fn routing_takes_one_existing_other_version() {
        let exists = |v: &str| v == "1" || v == "2";
        let arn = |v: &str| format!("arn:{v}");
        let one: IndexMap<String, f64> = [("2".to_string(), 0.5)].into_iter().collect();
        assert!(validate_routing(&one, "1", exists, arn).is_ok());
        assert!(validate_routing(&one, "2", exists, arn).is_err());
        assert!(validate_routing(&one, LATEST, exists, arn).is_err());
        let missing: IndexMap<String, f64> = [("3".to_string(), 0.5)].into_iter().collect();
        assert_eq!(validate_routing(&missing, "1", exists, arn).unwrap_err().code, "ResourceNotFoundException");
        let heavy: IndexMap<String, f64> = [("2".to_string(), 1.5)].into_iter().collect();
        let e = validate_routing(&heavy, "1", exists, arn).unwrap_err();
        assert!(e.message.contains("Value '{2=1.5}'"), "{}", e.message);
        let two: IndexMap<String, f64> = [("2".to_string(), 0.1), ("3".to_string(), 0.1)].into_iter().collect();
        assert!(validate_routing(&two, "1", exists, arn).is_err());
    }

    #[test]
    fn weights_print_as_java_does() {
        assert_eq!(weight_text(2.0), "2.0");
        assert_eq!(weight_text(0.25), "0.25");
    }
}
