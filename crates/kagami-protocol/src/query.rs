//! The awsQuery protocol: form-encoded requests (`Action=…&Version=…&A.member.1=…`),
//! XML responses wrapped in `<OpResponse><OpResult>`. The request side is shared
//! with ec2, which names and nests parameters differently ([`Flavor`]).

use crate::overlay;
use crate::scalar::{TsFormat, parse_text};
use crate::schema::{Bindings, MAX_DEPTH, error_shape, is_document, is_flattened, message_member};
use crate::xml::XmlWriter;
use crate::xml_body::write_members;
use crate::{HttpResponse, RequestParts, ServiceError, Value};
use indexmap::IndexMap;
use kagami_model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};
use std::borrow::Cow;

/// The two dialects of form-encoded parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Name.member.1`, `Map.entry.1.key`, names from `locationName`.
    Query,
    /// `Name.1`, names from `queryName` or the capitalized `locationName`.
    Ec2,
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
pub(crate) fn decode_component(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(raw);
    }
    let spaced: Cow<str> = if raw.contains('+') { Cow::Owned(raw.replace('+', " ")) } else { Cow::Borrowed(raw) };
    Cow::Owned(percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// The decoded `key=value` pairs of a form or query string, in order.
pub(crate) fn pairs(raw: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    raw.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode_component(k), decode_component(v))
    })
}

/// The value of the first parameter named `name`. Only keys are decoded on the way:
/// a form body can carry a whole message, and finding `Action` must not decode it.
pub(crate) fn find_param<'a>(raw: &'a str, name: &str) -> Option<Cow<'a, str>> {
    raw.split('&').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode_component(k) == name).then(|| decode_component(v))
    })
}

/// `application/x-www-form-urlencoded`, with or without parameters.
pub(crate) fn is_form_content_type(ct: &str) -> bool {
    ct.trim_start().get(..33).is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

fn is_form(parts: &RequestParts) -> bool {
    // Some old clients post the form without saying what it is.
    crate::header(parts.headers, "content-type").is_none_or(is_form_content_type)
}

fn body_str<'a>(parts: &RequestParts<'a>) -> &'a str {
    if is_form(parts) { std::str::from_utf8(parts.body).unwrap_or("") } else { "" }
}

/// The `Action` parameter, from the query string or a form body.
pub(crate) fn action<'a>(parts: &RequestParts<'a>) -> Option<Cow<'a, str>> {
    find_param(parts.query, "Action").or_else(|| find_param(body_str(parts), "Action"))
}

pub(crate) fn resolve<'m>(model: &'m ServiceModel, parts: &RequestParts) -> Result<&'m Operation, ServiceError> {
    let action = action(parts)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ServiceError::new("MissingAction", 400, "The request must contain the parameter Action."))?;
    model.operations.get(action.as_ref()).ok_or_else(|| {
        ServiceError::new("InvalidAction", 400, format!("The action {action} is not valid for this web service."))
    })
}

/// Parameters split on `.` into a tree: `A.member.1.B=x` is `A` → `member` → `1` → `B`.
#[derive(Default)]
struct Node<'a> {
    value: Option<&'a str>,
    children: Vec<(&'a str, Node<'a>)>,
}

impl<'a> Node<'a> {
    /// Builds the tree; keys are sorted segment by segment first so that every node's
    /// children arrive grouped and insertion stays linear however many parameters come.
    fn build(params: &'a [(Cow<'a, str>, Cow<'a, str>)]) -> Node<'a> {
        let mut order: Vec<&'a (Cow<'a, str>, Cow<'a, str>)> = params.iter().collect();
        order.sort_by(|a, b| a.0.split('.').cmp(b.0.split('.')));
        let mut root = Node::default();
        for (k, v) in order {
            // Deeper than any shape nests; such a key could only build a tree too deep
            // to drop without exhausting the stack.
            if k.bytes().filter(|&b| b == b'.').count() >= MAX_DEPTH as usize {
                continue;
            }
            let mut node = &mut root;
            for seg in k.split('.') {
                let found = node.children.last().is_some_and(|(name, _)| *name == seg);
                if !found {
                    node.children.push((seg, Node::default()));
                }
                let Some(last) = node.children.last_mut() else { break };
                node = &mut last.1;
            }
            // The first of duplicate parameters wins (the sort is stable).
            if node.value.is_none() {
                node.value = Some(v);
            }
        }
        root
    }

    /// Children are sorted and unique (see [`Node::build`]), so a lookup is a binary
    /// search however many parameters a list has.
    fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.binary_search_by(|(n, _)| n.cmp(&name)).ok().and_then(|i| self.children.get(i)).map(|(_, c)| c)
    }

    /// Children named `1`, `2`, … in numeric order.
    fn indexed(&self) -> Vec<&Node<'a>> {
        let mut items: Vec<(usize, &Node)> =
            self.children.iter().filter_map(|(n, c)| n.parse::<usize>().ok().map(|i| (i, c))).collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, c)| c).collect()
    }
}

/// A parameter whose text does not fit its shape; the path grows while unwinding.
struct Bad {
    path: String,
    text: String,
    expected: &'static str,
}

impl Bad {
    fn within(mut self, segment: &str) -> Bad {
        self.path = if self.path.is_empty() { segment.to_string() } else { format!("{segment}.{}", self.path) };
        self
    }
}

pub(crate) fn parse_request(
    model: &ServiceModel,
    op: &Operation,
    parts: &RequestParts,
    flavor: Flavor,
) -> Result<Value, ServiceError> {
    // Query-compatible JSON services are read with the names their query model had.
    let model = overlay::query_model(model);
    let op = model.operations.get(&op.name).unwrap_or(op);
    let Some(input) = &op.input else { return Ok(Value::map()) };
    let shape = crate::schema::shape(model, &input.shape)?;
    let params: Vec<(Cow<str>, Cow<str>)> = pairs(parts.query).chain(pairs(body_str(parts))).collect();
    let root = Node::build(&params);
    to_struct(model, shape, &root, flavor, 0).map(Value::Map).map_err(|b| {
        ServiceError::new(
            "InvalidParameterValue",
            400,
            format!("Value ({}) for parameter {} is invalid. Reason: must be {}.", b.text, b.path, b.expected),
        )
    })
}

fn capitalize(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some(c) if c.is_ascii_lowercase() => Cow::Owned(format!("{}{}", c.to_ascii_uppercase(), &s[1..])),
        _ => Cow::Borrowed(s),
    }
}

/// The node of a structure member: under the name its dialect gives it, or any name
/// another client might have used for it.
fn member_node<'n, 'a>(node: &'n Node<'a>, name: &str, r: &ShapeRef, flavor: Flavor) -> Option<(&'n Node<'a>, String)> {
    let mut candidates: Vec<Cow<str>> = Vec::with_capacity(4);
    match flavor {
        Flavor::Query => {
            if let Some(l) = &r.location_name {
                candidates.push(Cow::Borrowed(l));
            }
            candidates.push(Cow::Borrowed(name));
        }
        Flavor::Ec2 => {
            if let Some(q) = &r.query_name {
                candidates.push(Cow::Borrowed(q));
            }
            if let Some(l) = &r.location_name {
                candidates.push(capitalize(l));
                candidates.push(Cow::Borrowed(l));
            }
            candidates.push(capitalize(name));
            candidates.push(Cow::Borrowed(name));
        }
    }
    candidates.into_iter().find_map(|c| node.child(&c).map(|n| (n, c.into_owned())))
}

fn to_struct(
    model: &ServiceModel,
    shape: &Shape,
    node: &Node,
    flavor: Flavor,
    depth: u32,
) -> Result<IndexMap<String, Value>, Bad> {
    let mut out = IndexMap::new();
    if depth > MAX_DEPTH {
        return Ok(out);
    }
    for (name, r) in &shape.members {
        let Some((child, wire)) = member_node(node, name, r, flavor) else { continue };
        let Some(ms) = model.shapes.get(&r.shape) else { continue };
        if let Some(v) = to_value(model, ms, Some(r), child, flavor, depth + 1).map_err(|b| b.within(&wire))? {
            out.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// The items of a list node, in whichever of the two layouts the client used.
fn list_items<'n, 'a>(node: &'n Node<'a>, shape: &Shape, r: Option<&ShapeRef>, flavor: Flavor) -> Vec<&'n Node<'a>> {
    let member_name = shape.member.as_ref().and_then(|m| m.location_name.as_deref()).unwrap_or("member");
    let wrapped = || node.child(member_name).or_else(|| node.child("member")).map(Node::indexed).unwrap_or_default();
    let direct = node.indexed();
    let prefer_direct = flavor == Flavor::Ec2 || is_flattened(r, shape);
    if prefer_direct && !direct.is_empty() {
        direct
    } else {
        let w = wrapped();
        if w.is_empty() { direct } else { w }
    }
}

fn to_value(
    model: &ServiceModel,
    shape: &Shape,
    r: Option<&ShapeRef>,
    node: &Node,
    flavor: Flavor,
    depth: u32,
) -> Result<Option<Value>, Bad> {
    if depth > MAX_DEPTH {
        return Ok(None);
    }
    if is_document(shape) {
        return Ok(node.value.map(|v| Value::Document(serde_json::Value::String(v.to_string()))));
    }
    let v = match shape.shape_type {
        ShapeType::Structure => Value::Map(to_struct(model, shape, node, flavor, depth)?),
        ShapeType::List => {
            let Some(mr) = shape.member.as_ref() else { return Ok(None) };
            let Some(ms) = model.shapes.get(&mr.shape) else { return Ok(None) };
            let mut out = Vec::new();
            for (i, item) in list_items(node, shape, r, flavor).into_iter().enumerate() {
                if let Some(v) = to_value(model, ms, Some(mr), item, flavor, depth + 1)
                    .map_err(|b| b.within(&(i + 1).to_string()))?
                {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        ShapeType::Map => {
            let (Some(kr), Some(vr)) = (shape.key.as_ref(), shape.value.as_ref()) else { return Ok(None) };
            let Some(vs) = model.shapes.get(&vr.shape) else { return Ok(None) };
            let key_name = kr.location_name.as_deref().unwrap_or("key");
            let value_name = vr.location_name.as_deref().unwrap_or("value");
            let entries = match node.child("entry") {
                Some(e) if !is_flattened(r, shape) || node.indexed().is_empty() => e.indexed(),
                _ => node.indexed(),
            };
            let mut out = IndexMap::new();
            for entry in entries {
                let Some(k) = entry.child(key_name).and_then(|k| k.value) else { continue };
                let Some(vn) = entry.child(value_name) else { continue };
                if let Some(v) = to_value(model, vs, Some(vr), vn, flavor, depth + 1).map_err(|b| b.within(k))? {
                    out.insert(k.to_string(), v);
                }
            }
            Value::Map(out)
        }
        _ => {
            let Some(text) = node.value else { return Ok(None) };
            parse_text(shape, r, text, TsFormat::Iso8601).map_err(|e| Bad {
                path: String::new(),
                text: text.to_string(),
                expected: e.0,
            })?
        }
    };
    Ok(Some(v))
}

// ---------------------------------------------------------------------------------
// Responses

pub(crate) const CONTENT_TYPE: &str = "text/xml";

/// An XML answer of the query or ec2 protocol (they differ only in `content_type`).
pub(crate) fn xml_response(content_type: &str, status: u16, body: String, request_id: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".to_string(), content_type.to_string()),
            ("x-amzn-RequestId".to_string(), request_id.to_string()),
        ],
        body: bytes::Bytes::from(body),
        stream: None,
    }
}

/// An XML error document of the query or ec2 protocol, with the error's extra headers.
pub(crate) fn xml_error_response(content_type: &str, err: &ServiceError, body: String, request_id: &str) -> HttpResponse {
    let mut resp = xml_response(content_type, err.status, body, request_id);
    resp.headers.extend(err.headers.iter().cloned());
    resp
}

pub(crate) fn serialize_response(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let model = overlay::query_model(model);
    let op = model.operations.get(&op.name).unwrap_or(op);
    let mut w = XmlWriter::new();
    let root = format!("{}Response", op.name);
    w.start(&root);
    if let Some(ns) = overlay::xml_namespace(model) {
        w.attr("xmlns", ns);
    }
    if let Some(out_ref) = &op.output
        && let Some(shape) = model.shapes.get(&out_ref.shape)
    {
        let wrapper = match &out_ref.result_wrapper {
            Some(w) => Cow::Borrowed(w.as_str()),
            None => Cow::Owned(format!("{}Result", op.name)),
        };
        w.start(&wrapper);
        if let Value::Map(m) = output {
            write_members(&mut w, model, shape, m, Bindings::None);
        }
        w.end(&wrapper);
    }
    w.start("ResponseMetadata");
    w.leaf("RequestId", request_id);
    w.end("ResponseMetadata");
    w.end(&root);
    xml_response(CONTENT_TYPE, 200, w.finish(), request_id)
}

/// Writes the members of an error: `Message` (or the shape's spelling of it) and then
/// the extra fields, typed by the error shape when the model has one.
pub(crate) fn write_error_fields(w: &mut XmlWriter, model: &ServiceModel, shape: Option<&Shape>, err: &ServiceError) {
    let message_name = match message_member(shape) {
        "message" => "Message",
        other => other,
    };
    if !err.message.is_empty() {
        w.leaf(message_name, &err.message);
    }
    if err.fields.is_empty() {
        return;
    }
    let fields: IndexMap<String, Value> = err
        .fields
        .iter()
        .filter(|(k, _)| err.message.is_empty() || !k.eq_ignore_ascii_case("message"))
        .cloned()
        .collect();
    match shape {
        Some(s) => {
            write_members(w, model, s, &fields, Bindings::Response);
            for (k, v) in fields.iter().filter(|(k, _)| !s.members.contains_key(*k)) {
                write_untyped(w, k, v);
            }
        }
        None => fields.iter().for_each(|(k, v)| write_untyped(w, k, v)),
    }
}

fn write_untyped(w: &mut XmlWriter, name: &str, v: &Value) {
    w.start(name);
    match v {
        Value::Map(m) => m.iter().for_each(|(k, v)| write_untyped(w, k, v)),
        Value::List(items) => items.iter().for_each(|v| write_untyped(w, "member", v)),
        Value::Timestamp(t) => w.text(&t.to_iso8601()),
        Value::Str(s) => w.text(s),
        Value::Int(i) => w.text(&i.to_string()),
        Value::Float(f) => {
            let mut s = String::new();
            crate::scalar::write_float(&mut s, *f);
            w.text(&s);
        }
        Value::Bool(b) => w.text(if *b { "true" } else { "false" }),
        Value::Blob(b) => w.text(&crate::scalar::encode_base64(b)),
        Value::Document(d) => w.text(&d.to_string()),
        Value::Null | Value::Stream(_) => {}
    }
    w.end(name);
}

/// `<ErrorResponse><Error><Type/><Code/><Message/>…</Error><RequestId/></ErrorResponse>`.
/// Query-compatible services answer with their legacy query code here.
pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let model = overlay::query_model(model);
    let op = op.map(|op| model.operations.get(&op.name).unwrap_or(op));
    let code = err.query_code.as_deref().unwrap_or(&err.code);
    let shape = error_shape(model, op, &err.code).or_else(|| error_shape(model, op, code));
    let mut w = XmlWriter::new();
    w.start("ErrorResponse");
    if let Some(ns) = overlay::xml_namespace(model) {
        w.attr("xmlns", ns);
    }
    w.start("Error");
    w.leaf("Type", if err.sender_fault { "Sender" } else { "Receiver" });
    w.leaf("Code", code);
    write_error_fields(&mut w, model, shape, err);
    w.end("Error");
    w.leaf("RequestId", request_id);
    w.end("ErrorResponse");
    xml_error_response(CONTENT_TYPE, err, w.finish(), request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "2020-01-08", "protocol": "query", "endpointPrefix": "t",
                         "xmlNamespace": "https://example.com/"},
            "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "output": {"shape": "Out", "resultWrapper": "OpResult"}}},
            "shapes": {
                "In": {"type": "structure", "members": {
                    "List": {"shape": "L"}, "Flat": {"shape": "L", "flattened": true},
                    "Map": {"shape": "M"}, "Count": {"shape": "I"}, "Nested": {"shape": "In"},
                    "Renamed": {"shape": "S", "locationName": "Other"},
                }},
                "Out": {"type": "structure", "members": {"Name": {"shape": "S"}}},
                "S": {"type": "string"}, "I": {"type": "integer"},
                "L": {"type": "list", "member": {"shape": "S"}},
                "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
            }
        }))
        .unwrap()
    }

    fn parse(m: &ServiceModel, body: &str) -> Result<Value, ServiceError> {
        let headers = http::HeaderMap::new();
        let parts = RequestParts {
            method: &http::Method::POST,
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        parse_request(m, &m.operations["Op"], &parts, Flavor::Query)
    }

    #[test]
    fn form_parameters_build_lists_maps_and_structures() {
        let m = model();
        let v = parse(
            &m,
            "Action=Op&List.member.2=b&List.member.1=a&List.member.10=j&Flat.1=x&Map.entry.1.key=k&Map.entry.1.value=v%20w\
             &Count=7&Nested.Count=8&Other=o+p&Nested.Nested.List.member.1=deep",
        )
        .unwrap();
        let list = |xs: &[&str]| Value::List(xs.iter().map(|s| Value::Str(s.to_string())).collect());
        assert_eq!(v.get("List"), Some(&list(&["a", "b", "j"])));
        assert_eq!(v.get("Flat"), Some(&list(&["x"])));
        assert_eq!(v.get("Map").and_then(|m| m.get("k")), Some(&Value::Str("v w".into())));
        assert_eq!(v.get("Count"), Some(&Value::Int(7)));
        assert_eq!(v.get("Nested").and_then(|n| n.get("Count")), Some(&Value::Int(8)));
        assert_eq!(v.get("Renamed"), Some(&Value::Str("o p".into())));
        let deep = v.get("Nested").and_then(|n| n.get("Nested")).and_then(|n| n.get("List"));
        assert_eq!(deep, Some(&list(&["deep"])));
        // An empty list is sent as `List=`.
        assert_eq!(parse(&m, "Action=Op&List=").unwrap().get("List"), Some(&Value::List(vec![])));
    }

    #[test]
    fn the_action_is_found_without_decoding_other_values() {
        assert_eq!(find_param("MessageBody=%E2%9C%93+x&Action=Send%4dessage", "Action").as_deref(), Some("SendMessage"));
        assert_eq!(find_param("Act%69on=A&Action=B", "Action").as_deref(), Some("A"), "keys are decoded");
        assert_eq!(find_param("Action", "Action").as_deref(), Some(""));
        assert_eq!(find_param("&&Version=1", "Action"), None);
        assert!(is_form_content_type(" Application/X-WWW-Form-Urlencoded; charset=utf-8"));
        assert!(!is_form_content_type("application/json"));
    }

    #[test]
    fn thousands_of_list_members_keep_their_order() {
        let m = model();
        let body: String = (1..=5000).rev().map(|i| format!("&List.member.{i}=v{i}")).collect();
        let v = parse(&m, &format!("Action=Op{body}")).unwrap();
        let items = v.get("List").and_then(Value::as_list).unwrap_or_default();
        assert_eq!(items.len(), 5000);
        assert_eq!(items.first(), Some(&Value::Str("v1".into())));
        assert_eq!(items.last(), Some(&Value::Str("v5000".into())));
    }

    #[test]
    fn malformed_values_and_unknown_actions_answer_aws_codes() {
        let m = model();
        let e = parse(&m, "Action=Op&Nested.Count=x").unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("InvalidParameterValue", 400));
        assert_eq!(e.message, "Value (x) for parameter Nested.Count is invalid. Reason: must be an integer.");
        let headers = http::HeaderMap::new();
        let parts =
            RequestParts { method: &http::Method::GET, path: "/", query: "Action=Nope", headers: &headers, body: b"" };
        let e = resolve(&m, &parts).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("InvalidAction", 400));
        let parts = RequestParts { query: "", ..parts };
        assert_eq!(resolve(&m, &parts).unwrap_err().code, "MissingAction");
    }

    #[test]
    fn responses_are_wrapped_with_the_result_wrapper_and_request_id() {
        let m = model();
        let out = Value::Map(IndexMap::from([("Name".to_string(), Value::Str("n".into()))]));
        let r = serialize_response(&m, &m.operations["Op"], &out, "rid");
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<OpResponse xmlns=\"https://example.com/\"><OpResult><Name>n</Name></OpResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></OpResponse>"
        );
        let err = ServiceError::new("Throttling", 400, "slow down").with_query_code("Throttling.Legacy");
        let r = serialize_error(&m, None, &err, "rid");
        assert_eq!(r.status, 400);
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<ErrorResponse xmlns=\"https://example.com/\"><Error><Type>Sender</Type><Code>Throttling.Legacy</Code>\
             <Message>slow down</Message></Error><RequestId>rid</RequestId></ErrorResponse>"
        );
    }
}
