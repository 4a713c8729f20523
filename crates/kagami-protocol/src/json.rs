//! The awsJson 1.0 and 1.1 protocols: `POST /` with `X-Amz-Target: Prefix.Operation`
//! and a JSON body (or a CBOR body, `application/x-amz-cbor-1.1`, from Kinesis SDKs).

use crate::schema::{Bindings, error_shape, shape};
use crate::{HttpResponse, JsonEncoding, RequestParts, ServiceError, Value, cbor, header, json_codec};
use bytes::Bytes;
use kagami_model::{Operation, ServiceModel};

pub(crate) const CBOR_CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

pub(crate) fn unknown_operation(message: String) -> ServiceError {
    ServiceError::new("UnknownOperationException", 400, message)
}

pub(crate) fn serialization_error(message: impl Into<String>) -> ServiceError {
    ServiceError::new("SerializationException", 400, message)
}

pub(crate) fn resolve<'m>(model: &'m ServiceModel, parts: &RequestParts) -> Result<&'m Operation, ServiceError> {
    let target =
        header(parts.headers, "x-amz-target").ok_or_else(|| unknown_operation("Missing X-Amz-Target header".into()))?;
    let (prefix, name) = target.rsplit_once('.').unwrap_or(("", target));
    let prefix_ok = model.metadata.target_prefix.as_deref().is_none_or(|p| p == prefix);
    match model.operations.get(name) {
        Some(op) if prefix_ok => Ok(op),
        _ => Err(unknown_operation(format!("Operation {target} is not recognized"))),
    }
}

pub(crate) fn encoding(parts: &RequestParts) -> JsonEncoding {
    match header(parts.headers, "content-type") {
        Some(ct) if ct.trim_start().get(..22).is_some_and(|p| p.eq_ignore_ascii_case("application/x-amz-cbor")) => {
            JsonEncoding::Cbor
        }
        _ => JsonEncoding::Json,
    }
}

pub(crate) fn parse_request(model: &ServiceModel, op: &Operation, parts: &RequestParts) -> Result<Value, ServiceError> {
    let Some(input) = &op.input else { return Ok(Value::map()) };
    let s = shape(model, &input.shape)?;
    let members = match encoding(parts) {
        JsonEncoding::Json => json_codec::parse_struct(model, s, parts.body, Bindings::None)
            .map_err(|e| serialization_error(e.to_string()))?,
        JsonEncoding::Cbor => cbor::parse_struct(model, s, parts.body).map_err(serialization_error)?,
    };
    Ok(Value::Map(members))
}

fn content_type(model: &ServiceModel, enc: JsonEncoding) -> String {
    match enc {
        JsonEncoding::Json => {
            format!("application/x-amz-json-{}", model.metadata.json_version.as_deref().unwrap_or("1.0"))
        }
        JsonEncoding::Cbor => CBOR_CONTENT_TYPE.to_string(),
    }
}

fn response(model: &ServiceModel, enc: JsonEncoding, status: u16, body: Vec<u8>, request_id: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".to_string(), content_type(model, enc)),
            ("x-amzn-RequestId".to_string(), request_id.to_string()),
        ],
        body: Bytes::from(body),
        stream: None,
    }
}

pub(crate) fn serialize_response(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
    enc: JsonEncoding,
) -> HttpResponse {
    let out_shape = op.output.as_ref().and_then(|r| model.shapes.get(&r.shape));
    let empty = indexmap::IndexMap::new();
    let members = output.as_map().unwrap_or(&empty);
    let body = match enc {
        JsonEncoding::Json => {
            let mut out = Vec::with_capacity(128);
            match out_shape {
                Some(s) => json_codec::write_struct(&mut out, model, s, members, Bindings::None),
                None => out.extend_from_slice(b"{}"),
            }
            out
        }
        JsonEncoding::Cbor => {
            let mut e = cbor::Encoder::new();
            match out_shape {
                Some(s) => cbor::write_struct(&mut e, model, s, members),
                None => e.map_head(0),
            }
            e.buf
        }
    };
    response(model, enc, 200, body, request_id)
}

/// `{"__type": code, "message": …}` with the code in `x-amzn-ErrorType` too; services
/// that were once query services (`awsQueryCompatible`, SQS) also name their legacy
/// code in `x-amzn-query-error`, which is how SDKs still raise the old codes.
pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
    enc: JsonEncoding,
) -> HttpResponse {
    let shape = error_shape(model, op, &err.code);
    let body = match enc {
        JsonEncoding::Json => {
            let mut out = Vec::with_capacity(128);
            json_codec::write_error(&mut out, model, shape, err, Some(&err.code));
            out
        }
        JsonEncoding::Cbor => crate::rpcv2::error_body(model, shape, err),
    };
    let mut resp = response(model, enc, err.status, body, request_id);
    resp.headers.push(("x-amzn-ErrorType".to_string(), err.code.clone()));
    if model.metadata.aws_query_compatible.is_some() {
        resp.headers.push(query_error_header(err));
    }
    resp.headers.extend(err.headers.iter().cloned());
    resp
}

pub(crate) fn query_error_header(err: &ServiceError) -> (String, String) {
    let code = err.query_code.as_deref().unwrap_or(&err.code);
    let fault = if err.sender_fault { "Sender" } else { "Receiver" };
    ("x-amzn-query-error".to_string(), format!("{code};{fault}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "2012-11-05", "protocol": "json", "endpointPrefix": "sqs", "jsonVersion": "1.0",
                         "targetPrefix": "AmazonSQS", "awsQueryCompatible": {}},
            "operations": {"SendMessage": {"name": "SendMessage", "input": {"shape": "In"}, "output": {"shape": "Out"},
                                           "errors": [{"shape": "QueueDoesNotExist"}]}},
            "shapes": {
                "In": {"type": "structure", "members": {"QueueUrl": {"shape": "S"}, "DelaySeconds": {"shape": "I"}}},
                "Out": {"type": "structure", "members": {"MessageId": {"shape": "S"}}},
                "QueueDoesNotExist": {"type": "structure", "members": {"message": {"shape": "S"}}, "exception": true,
                                      "error": {"code": "AWS.SimpleQueueService.NonExistentQueue", "httpStatusCode": 400, "senderFault": true}},
                "S": {"type": "string"}, "I": {"type": "integer"},
            }
        }))
        .unwrap()
    }

    fn parts<'a>(headers: &'a http::HeaderMap, body: &'a [u8]) -> RequestParts<'a> {
        RequestParts { method: &http::Method::POST, path: "/", query: "", headers, body }
    }

    #[test]
    fn target_names_the_operation_and_unknown_targets_are_rejected() {
        let m = model();
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-target", "AmazonSQS.SendMessage".parse().unwrap());
        assert_eq!(resolve(&m, &parts(&h, b"")).unwrap().name, "SendMessage");
        h.insert("x-amz-target", "AmazonSQS.Nope".parse().unwrap());
        let e = resolve(&m, &parts(&h, b"")).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("UnknownOperationException", 400));
        h.insert("x-amz-target", "Other.SendMessage".parse().unwrap());
        let e = resolve(&m, &parts(&h, b"")).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("UnknownOperationException", "Operation Other.SendMessage is not recognized"));
        let e = resolve(&m, &parts(&http::HeaderMap::new(), b"")).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("UnknownOperationException", "Missing X-Amz-Target header"));
    }

    #[test]
    fn cbor_bodies_are_recognised_by_content_type_in_any_case() {
        let mut h = http::HeaderMap::new();
        assert_eq!(encoding(&parts(&h, b"")), JsonEncoding::Json);
        h.insert("content-type", " Application/X-Amz-Cbor-1.1".parse().unwrap());
        assert_eq!(encoding(&parts(&h, b"")), JsonEncoding::Cbor);
        h.insert("content-type", "application/x-amz-json-1.1".parse().unwrap());
        assert_eq!(encoding(&parts(&h, b"")), JsonEncoding::Json);
        h.insert("content-type", "application/x-amz".parse().unwrap());
        assert_eq!(encoding(&parts(&h, b"")), JsonEncoding::Json);
    }

    #[test]
    fn malformed_bodies_are_serialization_exceptions() {
        let m = model();
        let h = http::HeaderMap::new();
        let e = parse_request(&m, &m.operations["SendMessage"], &parts(&h, br#"{"DelaySeconds":"x"}"#)).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("SerializationException", 400));
        let v = parse_request(&m, &m.operations["SendMessage"], &parts(&h, br#"{"QueueUrl":"q","DelaySeconds":5}"#))
            .unwrap();
        assert_eq!(v.get("DelaySeconds"), Some(&Value::Int(5)));
    }

    #[test]
    fn query_compatible_errors_carry_the_legacy_code_header() {
        let m = model();
        let err = ServiceError::new("QueueDoesNotExist", 400, "The specified queue does not exist.")
            .with_query_code("AWS.SimpleQueueService.NonExistentQueue");
        let r = serialize_error(&m, Some(&m.operations["SendMessage"]), &err, "rid", JsonEncoding::Json);
        assert_eq!(r.status, 400);
        let h = |n: &str| r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
        assert_eq!(h("x-amzn-query-error"), Some("AWS.SimpleQueueService.NonExistentQueue;Sender"));
        assert_eq!(h("x-amzn-ErrorType"), Some("QueueDoesNotExist"));
        assert_eq!(h("content-type"), Some("application/x-amz-json-1.0"));
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            r#"{"__type":"QueueDoesNotExist","message":"The specified queue does not exist."}"#
        );
    }
}
