//! Smithy RPC v2 CBOR: `POST /service/{Service}/operation/{Operation}` with the
//! `smithy-protocol: rpc-v2-cbor` header and CBOR bodies.

use crate::schema::{error_shape, message_member, shape, wire_name};
use crate::{HttpResponse, RequestParts, ServiceError, Value, cbor};
use bytes::Bytes;
use kagami_model::{Operation, ServiceModel, Shape};

pub(crate) const CONTENT_TYPE: &str = "application/cbor";

pub(crate) fn resolve<'m>(model: &'m ServiceModel, parts: &RequestParts) -> Result<&'m Operation, ServiceError> {
    let unknown =
        || ServiceError::new("UnknownOperationException", 404, format!("No operation matches {}", parts.path));
    let (before, name) = parts.path.rsplit_once("/operation/").ok_or_else(unknown)?;
    let service = before.rsplit_once("/service/").map(|(_, s)| s).ok_or_else(unknown)?;
    if service.is_empty() || service.contains('/') {
        return Err(unknown());
    }
    model.operations.get(name).ok_or_else(unknown)
}

pub(crate) fn parse_request(model: &ServiceModel, op: &Operation, parts: &RequestParts) -> Result<Value, ServiceError> {
    let Some(input) = &op.input else { return Ok(Value::map()) };
    let s = shape(model, &input.shape)?;
    cbor::parse_struct(model, s, parts.body)
        .map(Value::Map)
        .map_err(|e| ServiceError::new("SerializationException", 400, e))
}

fn response(status: u16, body: Vec<u8>, request_id: &str) -> HttpResponse {
    let mut headers = vec![
        ("smithy-protocol".to_string(), "rpc-v2-cbor".to_string()),
        ("x-amzn-RequestId".to_string(), request_id.to_string()),
    ];
    if !body.is_empty() {
        headers.push(("Content-Type".to_string(), CONTENT_TYPE.to_string()));
    }
    HttpResponse::full(status, headers, Bytes::from(body))
}

pub(crate) fn serialize_response(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let Some(s) = op.output.as_ref().and_then(|r| model.shapes.get(&r.shape)) else {
        return response(200, Vec::new(), request_id);
    };
    let mut e = cbor::Encoder::new();
    match output {
        Value::Map(m) => cbor::write_struct(&mut e, model, s, m),
        _ => e.map_head(0),
    }
    response(200, e.buf, request_id)
}

/// `{"__type": code, "message": …, fields…}` as a CBOR map.
pub(crate) fn error_body(model: &ServiceModel, shape: Option<&Shape>, err: &ServiceError) -> Vec<u8> {
    let message = (!err.message.is_empty()).then_some(err.message.as_str());
    let typed = |name: &str| {
        shape
            .and_then(|s| s.members.get_key_value(name))
            .and_then(|(n, r)| model.shapes.get(&r.shape).map(|ms| (n.as_str(), r, ms)))
    };
    let fields: Vec<&(String, Value)> = err
        .fields
        .iter()
        .filter(|(k, v)| !(matches!(v, Value::Null) || (message.is_some() && k.eq_ignore_ascii_case("message"))))
        .filter(|(k, _)| typed(k).is_none_or(|(_, r, _)| r.location.is_none()))
        .collect();
    let mut e = cbor::Encoder::new();
    e.map_head(1 + usize::from(message.is_some()) + fields.len());
    e.text("__type");
    e.text(&err.code);
    if let Some(m) = message {
        e.text(message_member(shape));
        e.text(m);
    }
    for (k, v) in fields {
        match typed(k) {
            Some((n, r, ms)) => {
                e.text(wire_name(n, r));
                cbor::write_value(&mut e, model, ms, Some(r), v);
            }
            None => {
                e.text(k);
                cbor::write_generic(&mut e, v);
            }
        }
    }
    e.buf
}

pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let shape = error_shape(model, op, &err.code);
    let mut resp = response(err.status, error_body(model, shape, err), request_id);
    if model.metadata.aws_query_compatible.is_some() {
        resp.headers.push(crate::json::query_error_header(err));
    }
    resp.headers.extend(err.headers.iter().cloned());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_operation() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "smithy-rpc-v2-cbor", "endpointPrefix": "t"},
            "operations": {"GetThing": {"name": "GetThing"}},
            "shapes": {}
        }))
        .unwrap();
        let h = http::HeaderMap::new();
        let parts = |path| RequestParts { method: &http::Method::POST, path, query: "", headers: &h, body: b"" };
        assert_eq!(resolve(&m, &parts("/service/Svc/operation/GetThing")).unwrap().name, "GetThing");
        assert_eq!(resolve(&m, &parts("/prefix/service/Svc/operation/GetThing")).unwrap().name, "GetThing");
        assert_eq!(resolve(&m, &parts("/service/Svc/operation/Nope")).unwrap_err().status, 404);
        let e = resolve(&m, &parts("/GetThing")).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("UnknownOperationException", 404));
        assert_eq!(resolve(&m, &parts("/service//operation/GetThing")).unwrap_err().status, 404, "an empty service name");
    }

    #[test]
    fn errors_are_cbor_maps_with_type() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "smithy-rpc-v2-cbor", "endpointPrefix": "t"},
            "operations": {}, "shapes": {}
        }))
        .unwrap();
        let err = ServiceError::new("ThingNotFound", 404, "no").with_field("Id", "x");
        let r = serialize_error(&m, None, &err, "rid");
        assert_eq!(r.status, 404);
        let cbor::Item::Map(pairs) = cbor::decode(&r.body).unwrap() else { panic!() };
        assert_eq!(pairs[0], (cbor::Item::Text("__type".into()), cbor::Item::Text("ThingNotFound".into())));
        assert_eq!(pairs[1], (cbor::Item::Text("message".into()), cbor::Item::Text("no".into())));
        assert_eq!(pairs[2], (cbor::Item::Text("Id".into()), cbor::Item::Text("x".into())));
        assert!(r.headers.iter().any(|(k, v)| k == "smithy-protocol" && v == "rpc-v2-cbor"));
    }
}
