//! Typed shapes, a provider trait and an error enum for each implemented service,
//! generated from the committed compact models (and a small overlay per service for
//! what botocore lacks: legacy query error codes and codes the model does not list).

use crate::IMPLEMENTED;
use anyhow::{Context, Result};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

pub fn run(root: &Path) -> Result<()> {
    for (service, krate) in IMPLEMENTED {
        let model = load_model(root, service)?;
        let overlay = load_overlay(root, service)?;
        let code = Generator::new(service, &model, &overlay)?.generate()?;
        let out = root.join("crates/services").join(krate).join("src/generated.rs");
        fs::write(&out, code).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    for (service, krate, file) in SECONDARY {
        let model = load_model(root, service)?;
        let overlay = load_overlay(root, service)?;
        let code = Generator::new(service, &model, &overlay)?.generate()?;
        let out = root.join("crates/services").join(krate).join("src").join(file);
        fs::write(&out, code).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// Services served by another service's crate because they read its state (DynamoDB
/// Streams reads the tables' change logs): service, crate, file under `src/`.
const SECONDARY: &[(&str, &str, &str)] = &[("dynamodbstreams", "kagami-dynamodb", "generated_streams.rs")];

/// Reads a service's model back out of the committed blob, using the byte range the
/// routing table records for it.
fn load_model(root: &Path, service: &str) -> Result<Value> {
    let table = fs::read_to_string(root.join("crates/kagami-model/src/generated.rs"))?;
    // The entry's own name, not a `signing_name` ("eventbridgev2" signs as "events").
    let needle = format!("ServiceEntry {{ name: {service:?},");
    let line = table.lines().find(|l| l.contains(&needle)).with_context(|| format!("{service} is not in the model table"))?;
    let range = line.split("model_range: (").nth(1).and_then(|r| r.split(')').next()).context("no model_range")?;
    let (start, end) = range.split_once(", ").context("bad model_range")?;
    let (start, end): (usize, usize) = (start.trim().parse()?, end.trim().parse()?);
    let blob = fs::read(root.join("crates/kagami-model/models/models.bin"))?;
    let compressed = blob.get(start..end).context("model_range outside the blob")?;
    let json = miniz_oxide::inflate::decompress_to_vec_zlib(compressed)
        .map_err(|e| anyhow::anyhow!("inflating the {service} model: {e:?}"))?;
    Ok(serde_json::from_slice(&json)?)
}

fn load_overlay(root: &Path, service: &str) -> Result<Value> {
    let path = root.join(format!("xtask/overlay/{service}.json"));
    if !path.exists() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&fs::read(&path)?).with_context(|| format!("parsing {}", path.display()))
}

/// The type of a streaming blob (S3 object bodies), named in full so that the files of
/// services without one do not change.
const STREAM_TYPE: &str = "kagami_protocol::ByteStream";

const RESERVED_TYPE_NAMES: &[&str] =
    &["Option", "Result", "Vec", "Box", "String", "Value", "Self", "Default", "Bytes", "Timestamp", "IndexMap"];
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `MD5OfMessageBody` -> `md5_of_message_body`, `AssumeRoleWithSAML` -> `assume_role_with_saml`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        if c == '-' || c == '.' {
            out.push('_');
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    if RUST_KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

struct Generator<'a> {
    service: &'a str,
    shapes: &'a Map<String, Value>,
    operations: &'a Map<String, Value>,
    overlay: &'a Value,
    protocol: String,
}

impl<'a> Generator<'a> {
    fn new(service: &'a str, model: &'a Value, overlay: &'a Value) -> Result<Self> {
        Ok(Generator {
            service,
            shapes: model["shapes"].as_object().context("shapes")?,
            operations: model["operations"].as_object().context("operations")?,
            overlay,
            protocol: model["metadata"]["protocol"].as_str().unwrap_or("json").to_string(),
        })
    }

    fn shape(&self, name: &str) -> Result<&'a Value> {
        self.shapes.get(name).with_context(|| format!("{}: no shape {name}", self.service))
    }

    fn type_name(&self, shape: &str) -> String {
        if RESERVED_TYPE_NAMES.contains(&shape) { format!("{shape}Shape") } else { shape.to_string() }
    }

    fn rust_type(&self, shape_name: &str, owner: &str) -> Result<String> {
        let shape = self.shape(shape_name)?;
        let ty = shape["type"].as_str().unwrap_or("string");
        Ok(match ty {
            "string" | "character" => "String".into(),
            "integer" | "short" | "byte" => "i32".into(),
            "long" | "biginteger" => "i64".into(),
            "boolean" => "bool".into(),
            "float" | "double" | "bigdecimal" => "f64".into(),
            "timestamp" => "Timestamp".into(),
            "blob" if shape["streaming"].as_bool() == Some(true) => STREAM_TYPE.into(),
            "blob" => "Bytes".into(),
            "list" => format!("Vec<{}>", self.rust_type(member_shape(&shape["member"])?, owner)?),
            "map" => format!("IndexMap<String, {}>", self.rust_type(member_shape(&shape["value"])?, owner)?),
            "structure" if shape.get("document").and_then(Value::as_bool) == Some(true) => "serde_json::Value".into(),
            "structure" => {
                let name = self.type_name(shape_name);
                if self.reaches(shape_name, owner, &mut BTreeSet::new()) { format!("Box<{name}>") } else { name }
            }
            other => anyhow::bail!("{}: shape {shape_name} has unknown type {other}", self.service),
        })
    }

    /// Whether `from` leads back to `to` through structure members held inline: such a
    /// member must be boxed or the struct would have infinite size.
    fn reaches(&self, from: &str, to: &str, seen: &mut BTreeSet<String>) -> bool {
        if from == to {
            return true;
        }
        if !seen.insert(from.to_string()) {
            return false;
        }
        let Ok(shape) = self.shape(from) else { return false };
        if shape["type"] != "structure" {
            return false;
        }
        shape["members"].as_object().into_iter().flatten().any(|(_, m)| {
            m["shape"].as_str().is_some_and(|s| self.reaches(s, to, seen))
        })
    }

    /// Every structure reachable from the operations' inputs and outputs.
    fn structures(&self) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<String> = Vec::new();
        for op in self.operations.values() {
            for key in ["input", "output"] {
                if let Some(s) = op[key]["shape"].as_str() {
                    stack.push(s.to_string());
                }
            }
        }
        while let Some(name) = stack.pop() {
            let shape = self.shape(&name)?;
            match shape["type"].as_str() {
                Some("structure") if shape.get("document").and_then(Value::as_bool) != Some(true) => {
                    if !out.insert(name.clone()) {
                        continue;
                    }
                    for m in shape["members"].as_object().into_iter().flatten().map(|(_, m)| m) {
                        stack.push(member_shape(m)?.to_string());
                    }
                }
                Some("list") => stack.push(member_shape(&shape["member"])?.to_string()),
                Some("map") => stack.push(member_shape(&shape["value"])?.to_string()),
                _ => {}
            }
        }
        Ok(out)
    }

    fn generate(&self) -> Result<String> {
        let mut o = String::new();
        let svc = self.service;
        writeln!(o, "// @generated by `cargo xtask codegen` from the {svc} model. Do not edit.")?;
        writeln!(o, "#![allow(clippy::all, unused_imports, dead_code)]\n")?;
        writeln!(o, "use bytes::Bytes;")?;
        writeln!(o, "use indexmap::IndexMap;")?;
        writeln!(o, "use kagami_core::RequestContext;")?;
        writeln!(o, "use kagami_protocol::shapes::{{self, FromValue, IntoValue, ShapeError}};")?;
        writeln!(o, "use kagami_protocol::{{ServiceError, Timestamp, Value}};")?;
        writeln!(o, "use std::future::Future;\n")?;
        for name in self.structures()? {
            self.write_struct(&mut o, &name)?;
        }
        self.write_trait(&mut o)?;
        self.write_errors(&mut o)?;
        Ok(o)
    }

    fn write_struct(&self, o: &mut String, name: &str) -> Result<()> {
        let shape = self.shape(name)?;
        let ty = self.type_name(name);
        let required: BTreeSet<&str> =
            shape["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let members: Vec<(&String, &Value)> = shape["members"].as_object().into_iter().flatten().collect();
        let mut fields = Vec::new();
        for (member, m) in &members {
            let field = snake_case(member);
            let mut rust = self.rust_type(member_shape(m)?, name)?;
            // `streaming` may sit on the member that refers to a plain blob shape.
            if m["streaming"].as_bool() == Some(true) && rust == "Bytes" {
                rust = STREAM_TYPE.into();
            }
            let req = required.contains(member.as_str());
            fields.push((member.as_str(), field, rust, req));
        }
        // A stream is read once: it can be neither cloned nor compared.
        if fields.iter().any(|(_, _, rust, _)| rust.contains(STREAM_TYPE)) {
            writeln!(o, "#[derive(Debug, Default)]")?;
        } else {
            writeln!(o, "#[derive(Debug, Clone, Default, PartialEq)]")?;
        }
        writeln!(o, "pub struct {ty} {{")?;
        for (_, field, rust, req) in &fields {
            if *req {
                writeln!(o, "    pub {field}: {rust},")?;
            } else {
                writeln!(o, "    pub {field}: Option<{rust}>,")?;
            }
        }
        writeln!(o, "}}\n")?;
        writeln!(o, "impl FromValue for {ty} {{")?;
        writeln!(o, "    fn from_value(v: Value) -> Result<Self, ShapeError> {{")?;
        if fields.is_empty() {
            writeln!(o, "        shapes::expect_map(v)?;")?;
            writeln!(o, "        Ok(Self {{}})")?;
        } else {
            writeln!(o, "        let mut m = shapes::expect_map(v)?;")?;
            writeln!(o, "        Ok(Self {{")?;
            for (member, field, _, req) in &fields {
                let f = if *req { "required" } else { "optional" };
                writeln!(o, "            {field}: shapes::{f}(&mut m, {member:?})?,")?;
            }
            writeln!(o, "        }})")?;
        }
        writeln!(o, "    }}\n}}\n")?;
        writeln!(o, "impl IntoValue for {ty} {{")?;
        writeln!(o, "    fn into_value(self) -> Value {{")?;
        if fields.is_empty() {
            writeln!(o, "        Value::map()")?;
        } else {
            writeln!(o, "        let mut m = IndexMap::with_capacity({});", fields.len())?;
            for (member, field, _, req) in &fields {
                let f = if *req { "put" } else { "put_opt" };
                writeln!(o, "        shapes::{f}(&mut m, {member:?}, self.{field});")?;
            }
            writeln!(o, "        Value::Map(m)")?;
        }
        writeln!(o, "    }}\n}}\n")?;
        Ok(())
    }

    fn io_type(&self, op: &Value, key: &str) -> String {
        op[key]["shape"].as_str().map_or_else(|| "()".to_string(), |s| self.type_name(s))
    }

    fn write_trait(&self, o: &mut String) -> Result<()> {
        let svc = self.service;
        let api = format!("{}Api", capitalised(svc));
        writeln!(o, "/// One method per operation of the {svc} model; each answers NotImplemented until a")?;
        writeln!(o, "/// provider overrides it.")?;
        writeln!(o, "pub trait {api}: Send + Sync + 'static {{")?;
        for (name, op) in self.operations {
            let method = snake_case(name);
            let input = self.io_type(op, "input");
            let output = self.io_type(op, "output");
            writeln!(
                o,
                "    fn {method}(&self, ctx: &RequestContext, input: {input}) -> impl Future<Output = Result<{output}, ServiceError>> + Send {{"
            )?;
            writeln!(o, "        let _ = (ctx, input);")?;
            writeln!(o, "        async {{ Err(ServiceError::not_implemented({svc:?}, {name:?})) }}")?;
            writeln!(o, "    }}\n")?;
        }
        writeln!(o, "    /// How a malformed input (missing required member, wrong type) is reported.")?;
        writeln!(o, "    fn input_error(&self, operation: &str, error: ShapeError) -> ServiceError {{")?;
        writeln!(o, "        let _ = operation;")?;
        writeln!(o, "        ServiceError::new(\"ValidationException\", 400, error.to_string())")?;
        writeln!(o, "    }}")?;
        writeln!(o, "}}\n")?;

        writeln!(o, "/// Every operation of the model, in model order.")?;
        writeln!(o, "pub const OPERATIONS: &[&str] = &[")?;
        for name in self.operations.keys() {
            writeln!(o, "    {name:?},")?;
        }
        writeln!(o, "];\n")?;

        writeln!(o, "/// Parses the input into the typed request, calls the provider, and turns its output back into a Value.")?;
        writeln!(
            o,
            "pub async fn dispatch<P: {api}>(provider: &P, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, ServiceError> {{"
        )?;
        writeln!(o, "    match operation {{")?;
        for (name, op) in self.operations {
            let method = snake_case(name);
            let input = self.io_type(op, "input");
            writeln!(o, "        {name:?} => {{")?;
            writeln!(
                o,
                "            let input = <{input} as FromValue>::from_value(input).map_err(|e| provider.input_error(operation, e))?;"
            )?;
            writeln!(o, "            provider.{method}(ctx, input).await.map(IntoValue::into_value)")?;
            writeln!(o, "        }}")?;
        }
        writeln!(o, "        _ => Err(ServiceError::not_implemented({svc:?}, operation)),")?;
        writeln!(o, "    }}\n}}\n")?;
        Ok(())
    }

    fn write_errors(&self, o: &mut String) -> Result<()> {
        // name -> (code, query_code, status, sender_fault)
        let mut errors: BTreeMap<String, (String, Option<String>, u16, bool)> = BTreeMap::new();
        let query_model = self.protocol == "query" || self.protocol == "ec2";
        for op in self.operations.values() {
            for e in op["errors"].as_array().into_iter().flatten() {
                let Some(name) = e["shape"].as_str() else { continue };
                let shape = self.shape(name)?;
                let trait_code = shape["error"]["code"].as_str().map(str::to_string);
                let status = shape["error"]["httpStatusCode"].as_u64().map_or(400, |s| s as u16);
                let sender = shape["error"]["senderFault"].as_bool().unwrap_or(status < 500);
                let (code, query_code) = if query_model {
                    (trait_code.clone().unwrap_or_else(|| name.to_string()), None)
                } else {
                    (name.to_string(), trait_code)
                };
                errors.insert(name.to_string(), (code, query_code, status, sender));
            }
        }
        for (name, extra) in self.overlay["errors"].as_object().into_iter().flatten() {
            let entry = errors.entry(name.clone()).or_insert_with(|| (name.clone(), None, 400, true));
            if let Some(code) = extra["code"].as_str() {
                entry.0 = code.to_string();
            }
            if let Some(q) = extra["query_code"].as_str() {
                entry.1 = Some(q.to_string());
            }
            if let Some(s) = extra["status"].as_u64() {
                entry.2 = s as u16;
                entry.3 = entry.2 < 500;
            }
            if let Some(sf) = extra["sender_fault"].as_bool() {
                entry.3 = sf;
            }
        }
        let enum_name = format!("{}Error", capitalised(self.service));
        writeln!(o, "/// The {} model's error shapes and the overlay's extra codes, each with its message.", self.service)?;
        writeln!(o, "#[derive(Debug, Clone, PartialEq)]")?;
        writeln!(o, "pub enum {enum_name} {{")?;
        for name in errors.keys() {
            writeln!(o, "    {}(String),", variant(name))?;
        }
        writeln!(o, "}}\n")?;
        writeln!(o, "impl From<{enum_name}> for ServiceError {{")?;
        writeln!(o, "    fn from(e: {enum_name}) -> ServiceError {{")?;
        writeln!(o, "        let (code, query_code, status, sender_fault, message): (&str, Option<&str>, u16, bool, String) = match e {{")?;
        for (name, (code, query_code, status, sender)) in &errors {
            writeln!(
                o,
                "            {enum_name}::{}(m) => ({code:?}, {query_code:?}, {status}, {sender}, m),",
                variant(name)
            )?;
        }
        writeln!(o, "        }};")?;
        writeln!(o, "        let mut err = ServiceError::new(code, status, message);")?;
        writeln!(o, "        err.sender_fault = sender_fault;")?;
        writeln!(o, "        err.query_code = query_code.map(str::to_string);")?;
        writeln!(o, "        err")?;
        writeln!(o, "    }}\n}}")?;
        Ok(())
    }
}

fn variant(name: &str) -> String {
    let v: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    capitalised(&v)
}

fn member_shape(m: &Value) -> Result<&str> {
    m["shape"].as_str().context("member without shape")
}

#[cfg(test)]
mod tests {
    use super::{Generator, load_model, snake_case};
    use serde_json::{Map, Value};

    #[test]
    fn streaming_blobs_are_byte_streams_in_structs_that_are_neither_cloned_nor_compared() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let model = load_model(&root, "s3").unwrap();
        let overlay = Value::Object(Map::new());
        let code = Generator::new("s3", &model, &overlay).unwrap().generate().unwrap();
        let put = code.split("pub struct PutObjectRequest {").nth(1).unwrap();
        let put = put.split('}').next().unwrap();
        assert!(put.contains("pub body: Option<kagami_protocol::ByteStream>,"), "{put}");
        assert!(code.contains("#[derive(Debug, Default)]\npub struct PutObjectRequest {"));
        assert!(code.contains("#[derive(Debug, Default)]\npub struct GetObjectOutput {"));
        assert!(code.contains("#[derive(Debug, Clone, Default, PartialEq)]\npub struct HeadObjectOutput {"));
        let tagging = code.split("pub struct PutBucketTaggingRequest {").nth(1).unwrap().split('}').next().unwrap();
        assert!(!tagging.contains("ByteStream"), "an XML payload is no stream: {tagging}");
    }

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        assert_eq!(snake_case("MD5OfMessageBody"), "md5_of_message_body");
        assert_eq!(snake_case("AssumeRoleWithSAML"), "assume_role_with_saml");
        assert_eq!(snake_case("SSEKMSKeyId"), "ssekms_key_id");
        assert_eq!(snake_case("QueueUrl"), "queue_url");
        assert_eq!(snake_case("Type"), "type_");
        assert_eq!(snake_case("Ec2InstanceId"), "ec2_instance_id");
    }
}
