//! The client side of the protocols: reading responses the way SDKs do. Only the
//! conformance tests use it, to compare what kagami writes with what botocore's
//! protocol test vectors expect, by meaning rather than by bytes.

use crate::rest::Kind;
use crate::schema::{Bindings, error_shape};
use crate::xml_body::{parse_document, parse_struct};
use crate::{Protocol, ServiceError, Value, cbor, header, json_codec, rest};
use indexmap::IndexMap;
use kagami_model::{Operation, ServiceModel};

pub use crate::cbor::{CborError, Item as CborItem, decode as decode_cbor};

/// An error response as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedError {
    pub code: String,
    pub message: Option<String>,
    pub fields: Value,
}

fn describe(e: ServiceError) -> String {
    format!("{}: {}", e.code, e.message)
}

fn root_children<'a, 'i>(doc: &'a roxmltree::Document<'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    doc.root_element().children().find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The output of `op` from a response.
pub fn parse_response(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Value, String> {
    let Some(out_ref) = &op.output else { return Ok(Value::map()) };
    let shape = model.shapes.get(&out_ref.shape).ok_or("no output shape")?;
    let blank = body.iter().all(u8::is_ascii_whitespace);
    match protocol {
        Protocol::Json => {
            if header(headers, "content-type").is_some_and(|c| c.starts_with("application/x-amz-cbor")) {
                cbor::parse_struct(model, shape, body).map(Value::Map)
            } else {
                json_codec::parse_struct(model, shape, body, Bindings::None).map(Value::Map).map_err(|e| e.to_string())
            }
        }
        Protocol::RpcV2Cbor => cbor::parse_struct(model, shape, body).map(Value::Map),
        Protocol::Query | Protocol::Ec2 if blank => Ok(Value::map()),
        Protocol::Query => {
            let doc = parse_document(body)?;
            let wrapper = out_ref.result_wrapper.clone().unwrap_or_else(|| format!("{}Result", op.name));
            match root_children(&doc, &wrapper) {
                Some(node) => parse_struct(model, shape, node, Bindings::None, 0).map(Value::Map),
                None => Ok(Value::map()),
            }
        }
        Protocol::Ec2 => {
            let doc = parse_document(body)?;
            parse_struct(model, shape, doc.root_element(), Bindings::None, 0).map(Value::Map)
        }
        Protocol::RestJson => rest::parse_response(model, shape, Kind::Json, status, headers, body).map_err(describe),
        Protocol::RestXml => rest::parse_response(model, shape, Kind::Xml, status, headers, body).map_err(describe),
    }
}

/// `ns#Code:uri` -> `Code`, as SDKs read error codes.
fn sanitize(code: &str) -> String {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim().to_string()
}

fn xml_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    error: roxmltree::Node,
    extra: IndexMap<String, Value>,
) -> Result<ParsedError, String> {
    let text = |name: &str| {
        error
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or("").to_string())
    };
    let code = text("Code").ok_or("error without a Code")?;
    let mut fields = match error_shape(model, op, &code) {
        Some(s) => parse_struct(model, s, error, Bindings::Response, 0)?,
        None => IndexMap::new(),
    };
    fields.extend(extra);
    Ok(ParsedError { code, message: text("Message"), fields: Value::Map(fields) })
}

/// SDKs of query-compatible services take the code from `x-amzn-query-error`.
fn query_code(model: &ServiceModel, headers: &http::HeaderMap) -> Option<String> {
    model.metadata.aws_query_compatible.as_ref()?;
    let h = header(headers, "x-amzn-query-error")?;
    h.split(';').next().map(str::to_string)
}

/// An error response: its code, message and the members of its error shape.
pub fn parse_error(
    model: &ServiceModel,
    protocol: Protocol,
    op: Option<&Operation>,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<ParsedError, String> {
    match protocol {
        Protocol::Json | Protocol::RestJson => {
            let json: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
                serde_json::json!({})
            } else {
                serde_json::from_slice(body).map_err(|e| e.to_string())?
            };
            let from_body = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let code = header(headers, "x-amzn-errortype")
                .map(str::to_string)
                .or_else(|| from_body("__type"))
                .or_else(|| from_body("code"))
                .map(|c| sanitize(&c))
                .ok_or("error without a code")?;
            let message = from_body("message").or_else(|| from_body("Message"));
            let shape = error_shape(model, op, &code);
            let code = query_code(model, headers).unwrap_or(code);
            let fields = match shape {
                Some(s) if protocol == Protocol::RestJson => {
                    rest::parse_response(model, s, Kind::Json, status, headers, body).map_err(describe)?
                }
                Some(s) => {
                    Value::Map(json_codec::parse_struct(model, s, body, Bindings::None).map_err(|e| e.to_string())?)
                }
                None => Value::map(),
            };
            Ok(ParsedError { code, message, fields })
        }
        Protocol::RpcV2Cbor => {
            let item = cbor::decode(body).map_err(|e| e.to_string())?;
            let CborItem::Map(pairs) = &item else { return Err("error body is not a map".into()) };
            let text = |k: &str| {
                pairs.iter().find_map(|(key, v)| match (key, v) {
                    (CborItem::Text(t), CborItem::Text(v)) if t == k => Some(v.clone()),
                    _ => None,
                })
            };
            let code = text("__type").map(|c| sanitize(&c)).ok_or("error without __type")?;
            let message = text("message").or_else(|| text("Message"));
            let fields = match error_shape(model, op, &code) {
                Some(s) => Value::Map(cbor::parse_struct(model, s, body)?),
                None => Value::map(),
            };
            let code = query_code(model, headers).unwrap_or(code);
            Ok(ParsedError { code, message, fields })
        }
        Protocol::Query => {
            let doc = parse_document(body)?;
            let error = root_children(&doc, "Error").ok_or("no Error element")?;
            xml_error(model, op, error, IndexMap::new())
        }
        Protocol::Ec2 => {
            let doc = parse_document(body)?;
            let error = root_children(&doc, "Errors")
                .and_then(|e| e.children().find(|n| n.is_element() && n.tag_name().name() == "Error"))
                .ok_or("no Errors/Error element")?;
            xml_error(model, op, error, IndexMap::new())
        }
        Protocol::RestXml => {
            let doc = parse_document(body)?;
            let root = doc.root_element();
            let error = if root.tag_name().name() == "Error" { Some(root) } else { root_children(&doc, "Error") };
            let error = error.ok_or("no Error element")?;
            let code = error
                .children()
                .find(|n| n.is_element() && n.tag_name().name() == "Code")
                .and_then(|n| n.text())
                .unwrap_or("");
            // Members bound to headers are read from the headers.
            let extra = match error_shape(model, op, code) {
                Some(s) => match rest::parse_response(model, s, Kind::Xml, status, headers, b"").map_err(describe)? {
                    Value::Map(m) => m,
                    _ => IndexMap::new(),
                },
                None => IndexMap::new(),
            };
            xml_error(model, op, error, extra)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_without_namespace_or_uri() {
        assert_eq!(sanitize("aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/"), "FooError");
        assert_eq!(sanitize("FooError"), "FooError");
        assert_eq!(sanitize("com.amazonaws.sqs#QueueDoesNotExist"), "QueueDoesNotExist");
    }
}
