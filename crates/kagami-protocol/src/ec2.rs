//! The ec2 protocol: query-style requests with EC2's naming ([`query::Flavor::Ec2`]),
//! XML responses without a result wrapper, and errors in `<Response><Errors>`.

use crate::overlay;
use crate::query::{write_error_fields, xml_error_response, xml_response};
use crate::schema::{Bindings, error_shape};
use crate::xml::XmlWriter;
use crate::xml_body::write_members;
use crate::{HttpResponse, ServiceError, Value};
use kagami_model::{Operation, ServiceModel};

pub(crate) const CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

/// `<OpResponse xmlns=…><requestId>…</requestId>members</OpResponse>`.
pub(crate) fn serialize_response(
    model: &ServiceModel,
    op: &Operation,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let mut w = XmlWriter::new();
    let root = format!("{}Response", op.name);
    w.start(&root);
    if let Some(ns) = overlay::xml_namespace(model) {
        w.attr("xmlns", ns);
    }
    w.leaf("requestId", request_id);
    if let (Some(out_ref), Value::Map(m)) = (&op.output, output)
        && let Some(shape) = model.shapes.get(&out_ref.shape)
    {
        write_members(&mut w, model, shape, m, Bindings::None);
    }
    w.end(&root);
    xml_response(CONTENT_TYPE, 200, w.finish(), request_id)
}

/// `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
pub(crate) fn serialize_error(
    model: &ServiceModel,
    op: Option<&Operation>,
    err: &ServiceError,
    request_id: &str,
) -> HttpResponse {
    let code = err.query_code.as_deref().unwrap_or(&err.code);
    let shape = error_shape(model, op, &err.code);
    let mut w = XmlWriter::new();
    w.start("Response");
    w.start("Errors");
    w.start("Error");
    w.leaf("Code", code);
    write_error_fields(&mut w, model, shape, err);
    w.end("Error");
    w.end("Errors");
    w.leaf("RequestID", request_id);
    w.end("Response");
    xml_error_response(CONTENT_TYPE, err, w.finish(), request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestParts;
    use crate::query::{Flavor, parse_request};
    use indexmap::IndexMap;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "2016-11-15", "protocol": "ec2", "endpointPrefix": "ec2",
                         "xmlNamespace": "http://ec2.amazonaws.com/doc/2016-11-15"},
            "operations": {"DescribeThings": {"name": "DescribeThings", "input": {"shape": "In"}, "output": {"shape": "Out"}}},
            "shapes": {
                "In": {"type": "structure", "members": {
                    "ThingIds": {"shape": "Ids", "locationName": "ThingId"},
                    "DryRun": {"shape": "B", "locationName": "dryRun"},
                    "Filters": {"shape": "Fs", "locationName": "Filter"},
                    "Special": {"shape": "S", "queryName": "Odd", "locationName": "special"},
                }},
                "Out": {"type": "structure", "members": {"Things": {"shape": "Ids", "locationName": "thingSet"}}},
                "Ids": {"type": "list", "member": {"shape": "S", "locationName": "item"}},
                "Fs": {"type": "list", "member": {"shape": "F", "locationName": "Filter"}},
                "F": {"type": "structure", "members": {"Name": {"shape": "S"}, "Values": {"shape": "Ids", "locationName": "Value"}}},
                "S": {"type": "string"}, "B": {"type": "boolean"},
            }
        }))
        .unwrap()
    }

    #[test]
    fn ec2_parameters_use_query_names_and_capitalized_location_names() {
        let m = model();
        let headers = http::HeaderMap::new();
        let body = "Action=DescribeThings&ThingId.1=i-1&ThingId.2=i-2&DryRun=true&Filter.1.Name=state&Filter.1.Value.1=on&Odd=q";
        let parts = RequestParts {
            method: &http::Method::POST,
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let v = parse_request(&m, &m.operations["DescribeThings"], &parts, Flavor::Ec2).unwrap();
        assert_eq!(v.get("ThingIds"), Some(&Value::List(vec![Value::Str("i-1".into()), Value::Str("i-2".into())])));
        assert_eq!(v.get("DryRun"), Some(&Value::Bool(true)));
        let filter = v.get("Filters").and_then(|f| f.as_list()).and_then(|f| f.first()).cloned().unwrap();
        assert_eq!(filter.get("Values"), Some(&Value::List(vec![Value::Str("on".into())])));
        assert_eq!(v.get("Special"), Some(&Value::Str("q".into())));
    }

    #[test]
    fn responses_carry_the_request_id_first_and_errors_the_ec2_envelope() {
        let m = model();
        let out = Value::Map(IndexMap::from([("Things".to_string(), Value::List(vec![Value::Str("i-1".into())]))]));
        let r = serialize_response(&m, &m.operations["DescribeThings"], &out, "rid");
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<DescribeThingsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><requestId>rid</requestId>\
             <thingSet><item>i-1</item></thingSet></DescribeThingsResponse>"
        );
        let r = serialize_error(&m, None, &ServiceError::new("InvalidInstanceID.NotFound", 400, "gone"), "rid");
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>gone</Message></Error></Errors>\
             <RequestID>rid</RequestID></Response>"
        );
    }
}
