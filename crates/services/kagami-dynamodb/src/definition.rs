//! A table's definition: key schema, attribute definitions, billing, secondary indexes,
//! stream specification, tags, deletion protection. Read from CreateTable (and changed by
//! UpdateTable) with DynamoDB's validation messages, stored as one record, and described
//! back as a `TableDescription`.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html>

use crate::attribute::ScalarType;
use crate::errors::ValidationError;
use crate::generated;
use crate::keys::{KeyAttribute, KeySchema};
use serde::{Deserialize, Serialize};

/// Local secondary indexes a table may have.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-secondary-indexes>
pub const MAX_LOCAL_SECONDARY_INDEXES: usize = 5;
/// Global secondary indexes a table may have (the default quota).
pub const MAX_GLOBAL_SECONDARY_INDEXES: usize = 20;
/// Non-key attributes projected into all the indexes of a table.
pub const MAX_PROJECTED_NON_KEY_ATTRIBUTES: usize = 100;
pub const MIN_TABLE_NAME_LENGTH: usize = 3;
pub const MAX_TABLE_NAME_LENGTH: usize = 255;

pub const PROVISIONED: &str = "PROVISIONED";
pub const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";

fn invalid(message: impl std::fmt::Display) -> ValidationError {
    ValidationError::new(format!("One or more parameter values were invalid: {message}"))
}

/// Which attributes an index copies from the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexProjection {
    /// ALL, KEYS_ONLY or INCLUDE.
    pub projection_type: String,
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDefinition {
    pub name: String,
    pub hash_key: String,
    pub range_key: Option<String>,
    pub projection: IndexProjection,
    #[serde(default)]
    pub read_capacity: i64,
    #[serde(default)]
    pub write_capacity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDefinition {
    pub view_type: String,
    /// The stream's label: its creation time, ISO 8601 with milliseconds.
    pub label: String,
}

/// Everything CreateTable and UpdateTable define; one store record per table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDefinition {
    pub account: String,
    pub region: String,
    pub name: String,
    pub table_id: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Attribute name and type (S, N or B), in the order the client gave them.
    pub attribute_definitions: Vec<(String, String)>,
    pub hash_key: String,
    pub range_key: Option<String>,
    pub billing_mode: String,
    pub read_capacity: i64,
    pub write_capacity: i64,
    #[serde(default)]
    pub pay_per_request_since: Option<i64>,
    #[serde(default)]
    pub global_indexes: Vec<IndexDefinition>,
    #[serde(default)]
    pub local_indexes: Vec<IndexDefinition>,
    #[serde(default)]
    pub stream: Option<StreamDefinition>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub table_class: Option<String>,
    /// The TTL attribute while Time to Live is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Set on a table restored from a backup.
    #[serde(default)]
    pub restore: Option<crate::backups::RestoreInfo>,
    /// The KMS key ARN while encryption with a KMS key (rather than an AWS owned key, the
    /// default, which DescribeTable does not describe) is enabled.
    #[serde(default)]
    pub sse_kms_key_arn: Option<String>,
    /// Point-in-time recovery, contributor insights, resource policy, replicas.
    #[serde(default)]
    pub features: crate::features::TableFeatures,
}

pub fn check_table_name(name: &str, member: &str) -> Result<(), ValidationError> {
    let mut problems = Vec::new();
    if name.len() < MIN_TABLE_NAME_LENGTH {
        problems.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {MIN_TABLE_NAME_LENGTH}"
        ));
    }
    if name.len() > MAX_TABLE_NAME_LENGTH {
        problems.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {MAX_TABLE_NAME_LENGTH}"
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        problems.push(format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let count = problems.len();
    let noun = if count == 1 { "error" } else { "errors" };
    Err(ValidationError::new(format!("{count} validation {noun} detected: {}", problems.join("; "))))
}

/// A KeySchema: HASH first, then optionally RANGE on another attribute.
fn key_schema(elements: &[generated::KeySchemaElement], member: &str) -> Result<(String, Option<String>), ValidationError> {
    for (i, e) in elements.iter().enumerate() {
        if !matches!(e.key_type.as_str(), "HASH" | "RANGE") {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value '{}' at '{member}.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                e.key_type,
                i + 1
            )));
        }
    }
    match elements {
        [] => Err(ValidationError::new(format!(
            "1 validation error detected: Value '[]' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ))),
        [h] if h.key_type == "HASH" => Ok((h.attribute_name.clone(), None)),
        [h, r] if h.key_type == "HASH" && r.key_type == "RANGE" => {
            if h.attribute_name == r.attribute_name {
                return Err(invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name"));
            }
            Ok((h.attribute_name.clone(), Some(r.attribute_name.clone())))
        }
        [h, ..] if h.key_type != "HASH" => Err(ValidationError::new("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")),
        [_, _] => Err(ValidationError::new("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")),
        _ => Err(ValidationError::new(format!(
            "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to 2",
            elements.len()
        ))),
    }
}

fn projection(p: &generated::Projection, index: &str) -> Result<IndexProjection, ValidationError> {
    let projection_type = p.projection_type.clone().unwrap_or_else(|| "ALL".to_string());
    let non_key = p.non_key_attributes.clone();
    match (projection_type.as_str(), non_key) {
        ("ALL" | "KEYS_ONLY", Some(_)) => Err(invalid(format!(
            "ProjectionType is {projection_type}, but NonKeyAttributes is specified"
        ))),
        ("ALL" | "KEYS_ONLY", None) => Ok(IndexProjection { projection_type, non_key_attributes: Vec::new() }),
        ("INCLUDE", Some(attrs)) if !attrs.is_empty() => Ok(IndexProjection { projection_type, non_key_attributes: attrs }),
        ("INCLUDE", _) => Err(invalid(format!("NonKeyAttributes must not be empty for index {index} when ProjectionType is INCLUDE"))),
        (other, _) => Err(ValidationError::new(format!(
            "1 validation error detected: Value '{other}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        ))),
    }
}

/// Billing mode and throughput of the table, or of a GSI of a provisioned table.
fn throughput(billing_mode: &str, given: Option<&generated::ProvisionedThroughput>) -> Result<(i64, i64), ValidationError> {
    match (billing_mode, given) {
        (PROVISIONED, None) => Err(invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")),
        (PROVISIONED, Some(t)) => {
            if t.read_capacity_units < 1 || t.write_capacity_units < 1 {
                return Err(invalid("ReadCapacityUnits and WriteCapacityUnits must both be greater than 0"));
            }
            Ok((t.read_capacity_units, t.write_capacity_units))
        }
        (_, Some(_)) => Err(invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")),
        (_, None) => Ok((0, 0)),
    }
}

fn billing_mode(given: Option<&str>) -> Result<String, ValidationError> {
    match given.unwrap_or(PROVISIONED) {
        m @ (PROVISIONED | PAY_PER_REQUEST) => Ok(m.to_string()),
        other => Err(ValidationError::new(format!(
            "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        ))),
    }
}

fn attribute_definitions(defs: &[generated::AttributeDefinition]) -> Result<Vec<(String, String)>, ValidationError> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(defs.len());
    for (i, d) in defs.iter().enumerate() {
        if ScalarType::parse(&d.attribute_type).is_none() {
            return Err(ValidationError::new(format!(
                "1 validation error detected: Value '{}' at 'attributeDefinitions.{}.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                d.attribute_type,
                i + 1
            )));
        }
        if out.iter().any(|(name, _)| *name == d.attribute_name) {
            return Err(invalid("Duplicate AttributeName in AttributeDefinitions"));
        }
        out.push((d.attribute_name.clone(), d.attribute_type.clone()));
    }
    Ok(out)
}

/// The index key attributes must all be defined, and every definition must be used by a key.
fn check_definitions_match(definitions: &[(String, String)], keys: &[&str]) -> Result<(), ValidationError> {
    let defined: Vec<&str> = definitions.iter().map(|(n, _)| n.as_str()).collect();
    let mut used: Vec<&str> = Vec::new();
    for k in keys {
        if !used.contains(k) {
            used.push(k);
        }
    }
    if used.iter().any(|k| !defined.contains(k)) {
        return Err(invalid(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            used.join(", "),
            defined.join(", ")
        )));
    }
    if defined.len() != used.len() {
        return Err(invalid("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"));
    }
    Ok(())
}

fn check_projected_count(global: &[IndexDefinition], local: &[IndexDefinition]) -> Result<(), ValidationError> {
    let total: usize = global.iter().chain(local).map(|i| i.projection.non_key_attributes.len()).sum();
    if total > MAX_PROJECTED_NON_KEY_ATTRIBUTES {
        return Err(invalid(format!(
            "The sum of distinct NonKeyAttributes across all secondary indexes exceeds the limit of {MAX_PROJECTED_NON_KEY_ATTRIBUTES}"
        )));
    }
    Ok(())
}

pub(crate) fn global_index(
    billing: &str,
    name: &str,
    keys: &[generated::KeySchemaElement],
    p: &generated::Projection,
    t: Option<&generated::ProvisionedThroughput>,
) -> Result<IndexDefinition, ValidationError> {
    let (hash_key, range_key) = key_schema(keys, "globalSecondaryIndexes.member.keySchema")?;
    let projection = projection(p, name)?;
    let (read_capacity, write_capacity) = match (billing, t) {
        (PROVISIONED, None) => {
            return Err(invalid(format!("ProvisionedThroughput is not specified for index: {name}")));
        }
        (PAY_PER_REQUEST, Some(_)) => {
            return Err(invalid(format!(
                "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
            )));
        }
        _ => throughput(billing, t)?,
    };
    Ok(IndexDefinition { name: name.to_string(), hash_key, range_key, projection, read_capacity, write_capacity })
}

fn check_index_name(name: &str) -> Result<(), ValidationError> {
    check_table_name(name, "indexName")
}

impl TableDefinition {
    /// Reads a CreateTable request in the order DynamoDB checks it.
    pub fn from_create(input: &generated::CreateTableInput, account: &str, region: &str, now: i64) -> Result<TableDefinition, ValidationError> {
        check_table_name(&input.table_name, "tableName")?;
        let Some(key_elements) = &input.key_schema else {
            return Err(ValidationError::new("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null"));
        };
        let Some(defs) = &input.attribute_definitions else {
            return Err(ValidationError::new(
                "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null",
            ));
        };
        let (hash_key, range_key) = key_schema(key_elements, "keySchema")?;
        let attribute_definitions = attribute_definitions(defs)?;
        let billing_mode = billing_mode(input.billing_mode.as_deref())?;
        let (read_capacity, write_capacity) = throughput(&billing_mode, input.provisioned_throughput.as_ref())?;

        let mut names: Vec<&str> = Vec::new();
        let mut local_indexes = Vec::new();
        let lsis = input.local_secondary_indexes.as_deref().unwrap_or_default();
        if input.local_secondary_indexes.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid("List of LocalSecondaryIndexes is empty"));
        }
        if lsis.len() > MAX_LOCAL_SECONDARY_INDEXES {
            return Err(invalid(format!("Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL_SECONDARY_INDEXES}")));
        }
        for l in lsis {
            check_index_name(&l.index_name)?;
            if names.contains(&l.index_name.as_str()) {
                return Err(invalid(format!("Duplicate index name: {}", l.index_name)));
            }
            names.push(&l.index_name);
            let (h, r) = key_schema(&l.key_schema, "localSecondaryIndexes.member.keySchema")?;
            if range_key.is_none() {
                return Err(invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"));
            }
            if h != hash_key {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {h}, table hash key: {hash_key}",
                    l.index_name
                )));
            }
            if r.is_none() {
                return Err(invalid(format!("Index KeySchema does not have a range key for index: {}", l.index_name)));
            }
            let projection = projection(&l.projection, &l.index_name)?;
            local_indexes.push(IndexDefinition {
                name: l.index_name.clone(),
                hash_key: h,
                range_key: r,
                projection,
                read_capacity: 0,
                write_capacity: 0,
            });
        }

        let gsis = input.global_secondary_indexes.as_deref().unwrap_or_default();
        if input.global_secondary_indexes.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid("List of GlobalSecondaryIndexes is empty"));
        }
        if gsis.len() > MAX_GLOBAL_SECONDARY_INDEXES {
            return Err(invalid(format!("GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_SECONDARY_INDEXES}")));
        }
        let mut global_indexes = Vec::new();
        for g in gsis {
            check_index_name(&g.index_name)?;
            if names.contains(&g.index_name.as_str()) {
                return Err(invalid(format!("Duplicate index name: {}", g.index_name)));
            }
            names.push(&g.index_name);
            global_indexes.push(global_index(&billing_mode, &g.index_name, &g.key_schema, &g.projection, g.provisioned_throughput.as_ref())?);
        }
        check_projected_count(&global_indexes, &local_indexes)?;

        let mut keys: Vec<&str> = vec![hash_key.as_str()];
        keys.extend(range_key.as_deref());
        for i in local_indexes.iter().chain(&global_indexes) {
            keys.push(&i.hash_key);
            keys.extend(i.range_key.as_deref());
        }
        check_definitions_match(&attribute_definitions, &keys)?;

        let stream = match &input.stream_specification {
            Some(s) => stream_definition(s, now)?,
            None => None,
        };
        let tags = input.tags.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect();
        Ok(TableDefinition {
            account: account.to_string(),
            region: region.to_string(),
            name: input.table_name.clone(),
            table_id: kagami_core::ids::uuid_v4(),
            created_at: now,
            attribute_definitions,
            hash_key,
            range_key,
            pay_per_request_since: (billing_mode == PAY_PER_REQUEST).then_some(now),
            billing_mode,
            read_capacity,
            write_capacity,
            global_indexes,
            local_indexes,
            stream,
            tags,
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
            table_class: input.table_class.clone(),
            ttl_attribute: None,
            restore: None,
            sse_kms_key_arn: match &input.sse_specification {
                Some(sse) => sse_key(sse, account, region)?,
                None => None,
            },
            features: crate::features::TableFeatures::default(),
        })
    }

    pub fn arn(&self) -> String {
        table_arn(&self.account, &self.region, &self.name)
    }

    pub fn scalar_type(&self, attribute: &str) -> ScalarType {
        // Every key attribute is defined (checked at creation); S is only a fallback.
        self.attribute_definitions
            .iter()
            .find(|(n, _)| n == attribute)
            .and_then(|(_, t)| ScalarType::parse(t))
            .unwrap_or(ScalarType::S)
    }

    fn schema_of(&self, hash: &str, range: Option<&str>) -> KeySchema {
        KeySchema {
            hash: KeyAttribute { name: hash.to_string(), scalar_type: self.scalar_type(hash) },
            range: range.map(|r| KeyAttribute { name: r.to_string(), scalar_type: self.scalar_type(r) }),
        }
    }

    pub fn schema(&self) -> KeySchema {
        self.schema_of(&self.hash_key, self.range_key.as_deref())
    }

    pub fn index_schema(&self, index: &IndexDefinition) -> KeySchema {
        self.schema_of(&index.hash_key, index.range_key.as_deref())
    }

    pub fn indexes(&self) -> impl Iterator<Item = (&IndexDefinition, bool)> {
        self.global_indexes.iter().map(|i| (i, true)).chain(self.local_indexes.iter().map(|i| (i, false)))
    }

    pub fn index(&self, name: &str) -> Option<(&IndexDefinition, bool)> {
        self.indexes().find(|(i, _)| i.name == name)
    }

    /// Attribute definitions no key of the table or its indexes uses any more are dropped
    /// (after a GSI is deleted), as DynamoDB does.
    pub fn prune_definitions(&mut self) {
        let mut used: Vec<String> = vec![self.hash_key.clone()];
        used.extend(self.range_key.clone());
        for (i, _) in self.indexes() {
            used.push(i.hash_key.clone());
            used.extend(i.range_key.clone());
        }
        self.attribute_definitions.retain(|(n, _)| used.contains(n));
    }

    pub fn stream_arn(&self) -> Option<String> {
        self.stream.as_ref().map(|s| format!("{}/stream/{}", self.arn(), s.label))
    }
}

/// The KMS key an SSESpecification asks for: none unless enabled (AWS owned key otherwise);
/// a key id or alias is turned into an ARN, the AWS managed `alias/aws/dynamodb` by default.
pub(crate) fn sse_key(sse: &generated::SSESpecification, account: &str, region: &str) -> Result<Option<String>, ValidationError> {
    if let Some(t) = &sse.sse_type
        && t != "KMS"
        && t != "AES256"
    {
        return Err(ValidationError::new(format!(
            "1 validation error detected: Value '{t}' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]"
        )));
    }
    if sse.enabled != Some(true) {
        if sse.kms_master_key_id.is_some() {
            return Err(invalid("SSEType and KMSMasterKeyId cannot be specified when SSE is disabled"));
        }
        return Ok(None);
    }
    let partition = kagami_core::arn::partition_of_region(region);
    let key = sse.kms_master_key_id.clone().unwrap_or_else(|| "alias/aws/dynamodb".to_string());
    Ok(Some(if key.starts_with("arn:") { key } else { format!("arn:{partition}:kms:{region}:{account}:{key}") }))
}

pub fn table_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:{}:dynamodb:{region}:{account}:table/{name}", kagami_core::arn::partition_of_region(region))
}

pub(crate) fn stream_definition(s: &generated::StreamSpecification, now: i64) -> Result<Option<StreamDefinition>, ValidationError> {
    if !s.stream_enabled {
        if s.stream_view_type.is_some() {
            return Err(invalid("StreamViewType cannot be specified when StreamEnabled is false"));
        }
        return Ok(None);
    }
    let Some(view_type) = &s.stream_view_type else {
        return Err(invalid("StreamViewType is required when StreamEnabled is true"));
    };
    if !matches!(view_type.as_str(), "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES") {
        return Err(ValidationError::new(format!(
            "1 validation error detected: Value '{view_type}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
        )));
    }
    let label = kagami_protocol::Timestamp::from_millis(now).to_iso8601_millis();
    let label = label.trim_end_matches('Z').to_string();
    Ok(Some(StreamDefinition { view_type: view_type.clone(), label }))
}

/// Checks the attribute definitions an UpdateTable brings for a new GSI against those the
/// table has, and adds the new ones.
pub(crate) fn merge_definitions(def: &mut TableDefinition, given: &[generated::AttributeDefinition], index: &IndexDefinition) -> Result<(), ValidationError> {
    let given = attribute_definitions(given)?;
    for key in std::iter::once(&index.hash_key).chain(index.range_key.as_ref()) {
        let existing = def.attribute_definitions.iter().find(|(n, _)| n == key).cloned();
        let new = given.iter().find(|(n, _)| n == key).cloned();
        match (existing, new) {
            (Some((_, a)), Some((_, b))) if a != b => {
                return Err(invalid(format!("Cannot change the type of attribute {key} from {a} to {b}")));
            }
            (None, Some(d)) => def.attribute_definitions.push(d),
            (None, None) => {
                return Err(invalid(format!(
                    "Global Secondary Index range key not specified in Attribute Definitions.Type unknown. {key}"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, t: &str) -> generated::KeySchemaElement {
        generated::KeySchemaElement { attribute_name: name.into(), key_type: t.into() }
    }

    fn def(name: &str, t: &str) -> generated::AttributeDefinition {
        generated::AttributeDefinition { attribute_name: name.into(), attribute_type: t.into() }
    }

    fn create(keys: Vec<generated::KeySchemaElement>, defs: Vec<generated::AttributeDefinition>) -> generated::CreateTableInput {
        generated::CreateTableInput {
            table_name: "tbl1".into(),
            key_schema: Some(keys),
            attribute_definitions: Some(defs),
            billing_mode: Some(PAY_PER_REQUEST.into()),
            ..Default::default()
        }
    }

    fn message(input: &generated::CreateTableInput) -> String {
        match TableDefinition::from_create(input, "000000000000", "us-east-1", 0) {
            Ok(d) => panic!("accepted {d:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn attribute_definitions_must_match_the_keys_exactly() {
        let extra = create(vec![key("pk", "HASH")], vec![def("pk", "S"), def("x", "S")]);
        assert_eq!(
            message(&extra),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
        );
        let missing = create(vec![key("pk", "HASH"), key("sk", "RANGE")], vec![def("pk", "S")]);
        assert_eq!(
            message(&missing),
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, sk], AttributeDefinitions: [pk]"
        );
    }

    #[test]
    fn billing_mode_decides_whether_throughput_is_required() {
        let mut provisioned = create(vec![key("pk", "HASH")], vec![def("pk", "S")]);
        provisioned.billing_mode = None;
        assert!(message(&provisioned).contains("must both be specified when BillingMode is PROVISIONED"));
        let mut on_demand = create(vec![key("pk", "HASH")], vec![def("pk", "S")]);
        on_demand.provisioned_throughput = Some(generated::ProvisionedThroughput { read_capacity_units: 1, write_capacity_units: 1 });
        assert!(message(&on_demand).contains("can be specified when BillingMode is PAY_PER_REQUEST"));
    }

    #[test]
    fn table_names_follow_the_documented_rules() {
        assert!(check_table_name("ab", "tableName").is_err());
        assert!(check_table_name("a b c", "tableName").is_err());
        assert!(check_table_name(&"a".repeat(256), "tableName").is_err());
        assert!(check_table_name("My_Table.v-1", "tableName").is_ok());
    }

    #[test]
    fn local_indexes_share_the_table_hash_key() {
        let mut input = create(vec![key("pk", "HASH"), key("sk", "RANGE")], vec![def("pk", "S"), def("sk", "S"), def("o", "S")]);
        input.local_secondary_indexes = Some(vec![generated::LocalSecondaryIndex {
            index_name: "lsi".into(),
            key_schema: vec![key("o", "HASH"), key("sk", "RANGE")],
            projection: generated::Projection { projection_type: Some("ALL".into()), non_key_attributes: None },
        }]);
        assert!(message(&input).contains("Index KeySchema does not have the same leading hash key"));
    }
}
