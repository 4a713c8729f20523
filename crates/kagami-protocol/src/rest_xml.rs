//! restXml: the XML body of the REST bindings in [`crate::rest`], and its errors
//! (S3's bare `<Error>`, the `<ErrorResponse>` of Route 53 and CloudFront).

use crate::rest::{Kind, error_headers, host_id};
use crate::schema::{Bindings, error_shape};
use crate::xml::XmlWriter;
use crate::xml_body::{
    parse_document, parse_struct, parse_value, write_attributes, write_element, write_members, write_namespace,
};
use crate::{HttpResponse, ServiceError, Value, overlay, query};
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_model::{Operation, ServiceModel, Shape, ShapeRef, XmlNamespace};

fn malformed() -> ServiceError {
    ServiceError::new(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// A well-formed document whose values do not fit the schema (`<Days>ten</Days>`): S3
/// answers that with the same MalformedXML as a broken document.
fn invalid(_detail: String) -> ServiceError {
    malformed()
}

/// The body members of `shape` from the children of the root element, whatever the
/// root is called.
pub(crate) fn parse_body(
    model: &ServiceModel,
    shape: &Shape,
    body: &[u8],
    bindings: Bindings,
    out: &mut IndexMap<String, Value>,
) -> Result<(), ServiceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let doc = parse_document(body).map_err(|_| malformed())?;
    out.extend(parse_struct(model, shape, doc.root_element(), bindings, 0).map_err(invalid)?);
    Ok(())
}

pub(crate) fn parse_payload(model: &ServiceModel, s: &Shape, body: &[u8]) -> Result<Option<Value>, ServiceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let doc = parse_document(body).map_err(|_| malformed())?;
    parse_value(model, s, None, doc.root_element(), 0).map_err(invalid)
}

fn root_namespace<'a>(model: &'a ServiceModel, r: Option<&'a ShapeRef>, s: &'a Shape) -> Option<RootNs<'a>> {
    r.and_then(|r| r.xml_namespace.as_ref())
        .or(s.xml_namespace.as_ref())
        .map(RootNs::Declared)
        .or_else(|| overlay::xml_namespace(model).map(RootNs::Default))
}

enum RootNs<'a> {
    Declared(&'a XmlNamespace),
    Default(&'a str),
}

/// A writer for restXml documents: their timestamps always carry milliseconds, as S3
/// writes them (`2009-10-12T17:50:30.000Z`); readers accept either form.
fn writer() -> XmlWriter {
    let mut w = XmlWriter::new();
    w.timestamps = crate::scalar::TsFormat::Iso8601Millis;
    w
}

fn write_root(
    w: &mut XmlWriter,
    model: &ServiceModel,
    name: &str,
    r: Option<&ShapeRef>,
    s: &Shape,
    map: &IndexMap<String, Value>,
    bindings: Bindings,
) {
    w.declaration();
    w.start(name);
    match root_namespace(model, r, s) {
        Some(RootNs::Declared(ns)) => write_namespace(w, Some(ns)),
        Some(RootNs::Default(uri)) => w.attr("xmlns", uri),
        None => {}
    }
    write_attributes(w, model, s, map);
    write_members(w, model, s, map, bindings);
    w.end(name);
}

/// The body members of an output under a root element named by the shape; nothing
/// when no body member has a value (S3's `PutObject` answers with headers alone).
pub(crate) fn write_body(
    model: &ServiceModel,
    op: &Operation,
    shape: &Shape,
    map: &IndexMap<String, Value>,
) -> Vec<u8> {
    let has_body = shape
        .members
        .iter()
        .any(|(name, r)| !Bindings::Response.binds(r) && map.get(name).is_some_and(|v| !matches!(v, Value::Null)));
    if !has_body {
        return Vec::new();
    }
    let out_ref = op.output.as_ref();
    let name = overlay::xml_root(model, &op.name)
        .or(out_ref.and_then(|r| r.location_name.as_deref()))
        .or(shape.location_name.as_deref())
        .or(out_ref.map(|r| r.shape.as_str()))
        .unwrap_or("Response");
    let mut w = writer();
    if let Some(member) = overlay::text_root_member(model, &op.name) {
        w.declaration();
        w.start(name);
        if let Some(ns) = overlay::xml_namespace(model) {
            w.attr("xmlns", ns);
        }
        if let (Some(v), Some(s)) =
            (map.get(member), shape.members.get(member).and_then(|r| model.shapes.get(&r.shape)))
        {
            let mut text = String::new();
            crate::scalar::write_text(&mut text, v, s, None, w.timestamps);
            w.text(&text);
        }
        w.end(name);
        return w.finish().into_bytes();
    }
    write_root(&mut w, model, name, out_ref, shape, map, Bindings::Response);
    w.finish().into_bytes()
}

/// A structure payload, its root element named by the member, else by its shape.
pub(crate) fn write_payload(model: &ServiceModel, member: &str, s: &Shape, r: &ShapeRef, v: &Value) -> Vec<u8> {
    // botocore repeats the member name as `locationName` on payload members; only a
    // name of its own (`Hola`) overrides the shape's.
    let own_name = r.location_name.as_deref().filter(|l| *l != member);
    let name = own_name.or(s.location_name.as_deref()).unwrap_or(&r.shape);
    let mut w = writer();
    match v {
        Value::Map(m) => write_root(&mut w, model, name, Some(r), s, m, Bindings::None),
        other => {
            w.declaration();
            write_element(&mut w, model, name, s, Some(r), other);
        }
    }
    w.finish().into_bytes()
}

pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let shape = error_shape(model, op, &err.code);
    let headers = error_headers(Kind::Xml, model, shape, err, request_id);
    let mut w = writer();
    w.declaration();
    if overlay::bare_xml_errors(model) {
        w.start("Error");
        w.leaf("Code", &err.code);
        query::write_error_fields(&mut w, model, shape, err);
        w.leaf("RequestId", request_id);
        w.leaf("HostId", &host_id(request_id));
        w.end("Error");
    } else {
        w.start("ErrorResponse");
        if let Some(ns) = overlay::xml_namespace(model) {
            w.attr("xmlns", ns);
        }
        w.start("Error");
        w.leaf("Type", if err.sender_fault { "Sender" } else { "Receiver" });
        w.leaf("Code", &err.code);
        query::write_error_fields(&mut w, model, shape, err);
        w.end("Error");
        w.leaf("RequestId", request_id);
        w.end("ErrorResponse");
    }
    HttpResponse::full(err.status, headers, Bytes::from(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> ServiceModel {
        let mut m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "t"},
            "operations": {"Put": {"name": "Put", "output": {"shape": "PutOut"}}},
            "shapes": {
                "PutOut": {"type": "structure", "members": {"ETag": {"shape": "S", "location": "header", "locationName": "ETag"}}},
                "S": {"type": "string"},
            }
        }))
        .unwrap();
        m.name = name.to_string();
        m
    }

    #[test]
    fn s3_errors_are_bare_and_other_services_wrap_them() {
        let err =
            ServiceError::new("NoSuchBucket", 404, "The specified bucket does not exist").with_field("BucketName", "b");
        let s3 = serialize_error(&model("s3"), None, &err, "rid");
        let body = std::str::from_utf8(&s3.body).unwrap();
        assert!(body.ends_with("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName><RequestId>rid</RequestId><HostId>cmlk</HostId></Error>"), "{body}");
        assert_eq!(s3.header("x-amz-request-id"), Some("rid"));
        assert_eq!(s3.header("x-amz-id-2"), Some("cmlk"), "the host id names the same request");
        let other = serialize_error(&model("route53"), None, &err, "rid");
        let body = std::str::from_utf8(&other.body).unwrap();
        assert!(body.contains("<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchBucket</Code>"), "{body}");
    }

    #[test]
    fn outputs_bound_only_to_headers_have_no_body() {
        let m = model("s3");
        let out = Value::Map(IndexMap::from([("ETag".to_string(), Value::Str("\"e\"".into()))]));
        assert!(write_body(&m, &m.operations["Put"], &m.shapes["PutOut"], out.as_map().unwrap()).is_empty());
    }
}
