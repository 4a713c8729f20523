//! The HTML error pages of website endpoints, which answer in HTML rather than XML.

use kagami_core::{ServiceError, Value};
use kagami_protocol::HttpResponse;

/// AWS's reason phrase for the statuses website endpoints answer with.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Error",
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn field_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// The page a website endpoint shows for `e`: code, message and the error's fields
/// as a list, as S3 renders them. `error_document_failed` adds the section S3 shows
/// when the custom error document could not be read either.
pub fn error_page(
    e: &ServiceError,
    request_id: &str,
    error_document_failed: Option<&ServiceError>,
) -> HttpResponse {
    let status = e.status;
    let title = format!("{status} {}", reason(status));
    let mut body =
        format!("<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n");
    body.push_str(&format!("<li>Code: {}</li>\n", escape(&e.code)));
    body.push_str(&format!("<li>Message: {}</li>\n", escape(&e.message)));
    for (name, value) in &e.fields {
        body.push_str(&format!(
            "<li>{}: {}</li>\n",
            escape(name),
            escape(&field_text(value))
        ));
    }
    body.push_str(&format!("<li>RequestId: {}</li>\n", escape(request_id)));
    body.push_str("</ul>\n");
    if let Some(doc) = error_document_failed {
        body.push_str("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n");
        body.push_str(&format!("<li>Code: {}</li>\n", escape(&doc.code)));
        body.push_str(&format!("<li>Message: {}</li>\n", escape(&doc.message)));
        for (name, value) in &doc.fields {
            body.push_str(&format!(
                "<li>{}: {}</li>\n",
                escape(name),
                escape(&field_text(value))
            ));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<hr/>\n</body>\n</html>\n");
    let headers = vec![
        (
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        ),
        ("x-amz-request-id".to_string(), request_id.to_string()),
        ("x-amz-error-code".to_string(), e.code.clone()),
        ("x-amz-error-message".to_string(), e.message.clone()),
    ];
    HttpResponse::full(status, headers, body.into())
}
