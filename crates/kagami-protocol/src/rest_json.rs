//! restJson1: the JSON body of the REST bindings in [`crate::rest`], and its errors
//! (`x-amzn-ErrorType` header, `{"message": …}` body).

use crate::rest::{Kind, error_headers};
use crate::schema::{Bindings, error_shape};
use crate::{HttpResponse, ServiceError, Value, json_codec};
use bytes::Bytes;
use indexmap::IndexMap;
use kagami_model::{Operation, ServiceModel, Shape, ShapeRef};

fn serialization(e: impl ToString) -> ServiceError {
    ServiceError::new("SerializationException", 400, e.to_string())
}

/// The body members of `shape` into `out`, next to the members bound to the request.
pub(crate) fn parse_body(
    model: &ServiceModel,
    shape: &Shape,
    body: &[u8],
    bindings: Bindings,
    out: &mut IndexMap<String, Value>,
) -> Result<(), ServiceError> {
    let members = json_codec::parse_struct(model, shape, body, bindings).map_err(serialization)?;
    out.extend(members);
    Ok(())
}

pub(crate) fn parse_payload(
    model: &ServiceModel,
    s: &Shape,
    r: &ShapeRef,
    body: &[u8],
) -> Result<Option<Value>, ServiceError> {
    json_codec::parse_value(model, s, Some(r), body).map_err(serialization)
}

/// The body members of an output; `{}` when it has body members but none is set, and
/// nothing when every member is bound to headers or the status.
pub(crate) fn write_body(model: &ServiceModel, shape: &Shape, map: &IndexMap<String, Value>) -> Vec<u8> {
    if shape.members.values().all(|r| Bindings::Response.binds(r)) {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(128);
    json_codec::write_struct(&mut out, model, shape, map, Bindings::Response);
    out
}

pub(crate) fn write_payload(model: &ServiceModel, s: &Shape, r: &ShapeRef, v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    json_codec::write_value(&mut out, model, s, Some(r), v);
    out
}

pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let shape = error_shape(model, op, &err.code);
    let headers = error_headers(Kind::Json, model, shape, err, request_id);
    let mut body = Vec::with_capacity(128);
    json_codec::write_error(&mut body, model, shape, err, None);
    HttpResponse::full(err.status, headers, Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_code_in_a_header_and_bind_header_fields() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-json", "endpointPrefix": "t"},
            "operations": {},
            "shapes": {
                "TooManyRequestsException": {"type": "structure", "exception": true, "members": {
                    "message": {"shape": "S"},
                    "retryAfterSeconds": {"shape": "S", "location": "header", "locationName": "Retry-After"},
                    "Type": {"shape": "S"}}},
                "S": {"type": "string"},
            }
        }))
        .unwrap();
        let err = ServiceError::new("TooManyRequestsException", 429, "Rate exceeded")
            .with_field("retryAfterSeconds", "3")
            .with_field("Type", "User");
        let r = serialize_error(&m, None, &err, "rid");
        assert_eq!(r.status, 429);
        assert_eq!(r.header("x-amzn-ErrorType"), Some("TooManyRequestsException"));
        assert_eq!(r.header("Retry-After"), Some("3"));
        assert_eq!(std::str::from_utf8(&r.body).unwrap(), r#"{"message":"Rate exceeded","Type":"User"}"#);
    }
}
