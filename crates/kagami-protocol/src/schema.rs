//! Lookups into the service model that every protocol shares: shapes by name, the
//! traits that decide a member's name on the wire, and the error shape of a code.

use crate::ServiceError;
use kagami_model::{Operation, ServiceModel, Shape, ShapeRef, ShapeType};

/// Deep enough for every AWS shape (DynamoDB nests attribute values 32 levels), shallow
/// enough that hostile input cannot exhaust the stack through recursive shapes.
pub(crate) const MAX_DEPTH: u32 = 100;

/// A shape the model names but does not define is a defect of the embedded model.
pub(crate) fn shape<'m>(model: &'m ServiceModel, name: &str) -> Result<&'m Shape, ServiceError> {
    model.shapes.get(name).ok_or_else(|| ServiceError::internal(format!("model of {} has no shape {name}", model.name)))
}

/// `document` shapes are free-form JSON whatever their declared type.
pub(crate) fn is_document(shape: &Shape) -> bool {
    shape.document
}

/// Lists and maps are flattened by a trait on the shape or on the member that refers to it.
pub(crate) fn is_flattened(r: Option<&ShapeRef>, shape: &Shape) -> bool {
    shape.flattened || r.is_some_and(|r| r.flattened)
}

pub(crate) fn is_jsonvalue(r: Option<&ShapeRef>, shape: &Shape) -> bool {
    shape.jsonvalue || r.is_some_and(|r| r.jsonvalue)
}

/// The name a member has on the wire in JSON, CBOR and XML bodies.
pub(crate) fn wire_name<'a>(member: &'a str, r: &'a ShapeRef) -> &'a str {
    r.location_name.as_deref().unwrap_or(member)
}

/// Members bound to the HTTP message rather than the body (REST protocols only).
pub(crate) fn is_located(r: &ShapeRef) -> bool {
    r.location.is_some()
}

/// The payload member of an input or output structure when it is a blob marked
/// `streaming` (on the shape, or on the member that refers to it).
pub(crate) fn streaming_payload<'m>(model: &'m ServiceModel, io: &ShapeRef) -> Option<&'m str> {
    let structure = model.shapes.get(&io.shape)?;
    let payload = structure.payload.as_deref()?;
    let r = structure.members.get(payload)?;
    let s = model.shapes.get(&r.shape)?;
    (s.shape_type == ShapeType::Blob && (s.streaming || r.streaming)).then_some(payload)
}

/// Which members a body leaves to the HTTP message around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bindings {
    /// Not a REST body: every member is in the body.
    None,
    /// A REST request: labels, query parameters and headers are outside the body.
    Request,
    /// A REST response: only headers and the status code are outside the body; a
    /// member bound to the query string or a label is in the body of a response.
    Response,
}

impl Bindings {
    pub(crate) fn binds(self, r: &ShapeRef) -> bool {
        match self {
            Bindings::None => false,
            Bindings::Request => r.location.is_some(),
            Bindings::Response => matches!(r.location.as_deref(), Some("header" | "headers" | "statusCode")),
        }
    }
}

pub(crate) fn is_integer(t: ShapeType) -> bool {
    matches!(t, ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte | ShapeType::Biginteger)
}

pub(crate) fn is_float(t: ShapeType) -> bool {
    matches!(t, ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal)
}

/// The structure shape of an error code: a shape of the operation's errors, or of the
/// model, named like the code or carrying it as its `error.code` (query codes).
pub(crate) fn error_shape<'m>(model: &'m ServiceModel, op: Option<&'m Operation>, code: &str) -> Option<&'m Shape> {
    let matches =
        |name: &str, s: &Shape| name == code || s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code);
    if let Some(op) = op {
        for r in &op.errors {
            if let Some(s) = model.shapes.get(&r.shape)
                && matches(&r.shape, s)
            {
                return Some(s);
            }
        }
    }
    if let Some(s) = model.shapes.get(code)
        && (s.exception || s.error.is_some())
    {
        return Some(s);
    }
    model.shapes.iter().find(|(name, s)| (s.exception || s.error.is_some()) && matches(name, s)).map(|(_, s)| s)
}

/// The member of an error shape that carries the message: `message` or `Message`
/// depending on the service, `message` when the shape does not say.
pub(crate) fn message_member(shape: Option<&Shape>) -> &str {
    shape
        .and_then(|s| s.members.iter().find(|(name, r)| r.location.is_none() && name.eq_ignore_ascii_case("message")))
        .map_or("message", |(name, r)| wire_name(name, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "json", "endpointPrefix": "t"},
            "operations": {"Op": {"name": "Op", "errors": [{"shape": "NotFound"}]}},
            "shapes": {
                "NotFound": {"type": "structure", "members": {"Message": {"shape": "S"}}, "exception": true,
                             "error": {"code": "Legacy.NotFound", "httpStatusCode": 404}},
                "Other": {"type": "structure", "members": {"message": {"shape": "S"}}, "exception": true},
                "S": {"type": "string"},
            }
        }))
        .unwrap()
    }

    #[test]
    fn error_shapes_are_found_by_name_or_by_query_code() {
        let m = model();
        let op = m.operations.get("Op");
        assert!(error_shape(&m, op, "NotFound").is_some_and(|s| s.members.contains_key("Message")));
        assert!(error_shape(&m, op, "Legacy.NotFound").is_some_and(|s| s.members.contains_key("Message")));
        assert!(error_shape(&m, None, "Other").is_some_and(|s| s.members.contains_key("message")));
        assert!(error_shape(&m, op, "S").is_none(), "a non-error shape is no error shape");
        assert_eq!(message_member(error_shape(&m, op, "NotFound")), "Message");
        assert_eq!(message_member(None), "message");
    }

    #[test]
    fn bindings_leave_query_members_in_response_bodies() {
        let r = |loc: &str| ShapeRef { shape: "S".into(), location: Some(loc.into()), ..Default::default() };
        assert!(Bindings::Request.binds(&r("querystring")));
        assert!(!Bindings::Response.binds(&r("querystring")));
        assert!(Bindings::Response.binds(&r("header")) && Bindings::Response.binds(&r("statusCode")));
        assert!(!Bindings::None.binds(&r("header")));
    }
}
