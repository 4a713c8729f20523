//! The other two ways to invoke: InvokeWithResponseStream, whose answer is an event
//! stream (PayloadChunk events, then InvokeComplete), and the deprecated InvokeAsync,
//! an Event invocation of the request body.
//!
//! The function runs as a RequestResponse invoke and its whole response is sent as one
//! PayloadChunk once it is complete: kagami's runtimes buffer the response, so a handler
//! wrapped in Node's `awslambda.streamifyResponse` is not streamed chunk by chunk.
//! https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html

use crate::generated::*;
use crate::invoke::MAX_EVENT_PAYLOAD;
use crate::state::Lambda;
use bytes::Bytes;
use kagami_core::{RequestContext, ServiceError};
use kagami_protocol::StreamError;
use std::sync::Arc;

/// The error code of a function error whose document names no `errorType`, as Invoke's
/// `FunctionError` names it.
const UNHANDLED: &str = "Unhandled";

impl Lambda {
    pub async fn invoke_with_response_stream(
        self: &Arc<Self>,
        ctx: &RequestContext,
        input: InvokeWithResponseStreamRequest,
    ) -> Result<InvokeWithResponseStreamResponse, ServiceError> {
        let invocation_type = match input.invocation_type.as_deref().unwrap_or("RequestResponse") {
            t @ ("RequestResponse" | "DryRun") => t.to_string(),
            other => {
                return Err(crate::errors::validation(&format!(
                    "Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]"
                )));
            }
        };
        let request = InvocationRequest {
            function_name: input.function_name,
            invocation_type: Some(invocation_type),
            log_type: input.log_type,
            client_context: input.client_context,
            payload: input.payload,
            qualifier: input.qualifier,
            tenant_id: input.tenant_id,
            ..Default::default()
        };
        let out = self.invoke(ctx, request).await?;
        if out.status_code == Some(204) {
            return Ok(InvokeWithResponseStreamResponse { status_code: Some(204), ..Default::default() });
        }
        let payload = out.payload.unwrap_or_default();
        let event = match out.function_error {
            None => InvokeWithResponseStreamResponseEvent {
                payload_chunk: (!payload.is_empty()).then(|| InvokeResponseStreamUpdate { payload: Some(payload) }),
                invoke_complete: Some(InvokeWithResponseStreamCompleteEvent { log_result: out.log_result, ..Default::default() }),
            },
            // The function sent no response, only its error: InvokeComplete carries it.
            Some(_) => {
                let (code, details) = error_fields(&payload);
                InvokeWithResponseStreamResponseEvent {
                    payload_chunk: None,
                    invoke_complete: Some(InvokeWithResponseStreamCompleteEvent {
                        error_code: Some(code),
                        error_details: Some(details),
                        log_result: out.log_result,
                    }),
                }
            }
        };
        Ok(InvokeWithResponseStreamResponse {
            status_code: Some(200),
            executed_version: out.executed_version,
            event_stream: Some(event),
            response_stream_content_type: None,
        })
    }

    /// InvokeAsync: the body is the event; it is queued like an `Event` invoke.
    pub async fn invoke_async(self: &Arc<Self>, ctx: &RequestContext, input: InvokeAsyncRequest) -> Result<InvokeAsyncResponse, ServiceError> {
        // The function must exist before the body is read, as Invoke checks it first.
        self.resolve(ctx, &input.function_name, None)?;
        let payload = input.invoke_args.collect(MAX_EVENT_PAYLOAD as u64).await.map_err(|e| match e {
            StreamError::TooLarge { .. } => ServiceError::from(LambdaError::RequestTooLargeException(format!(
                "Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the InvokeFunction operation"
            ))),
            StreamError::Read(e) => ServiceError::from(LambdaError::InvalidRequestContentException(format!("Could not read the request body: {e}"))),
        })?;
        let request = InvocationRequest {
            function_name: input.function_name,
            invocation_type: Some("Event".into()),
            payload: Some(payload),
            ..Default::default()
        };
        self.invoke(ctx, request).await?;
        Ok(InvokeAsyncResponse { status: Some(202) })
    }
}

/// ErrorCode and ErrorDetails of a function error: the `errorType` and `errorMessage`
/// of the error document the runtime reported, else `Unhandled` and the document.
fn error_fields(payload: &Bytes) -> (String, String) {
    let doc: Option<serde_json::Value> = serde_json::from_slice(payload).ok();
    let field = |k: &str| doc.as_ref().and_then(|d| d.get(k)).and_then(serde_json::Value::as_str).map(str::to_string);
    let code = field("errorType").unwrap_or_else(|| UNHANDLED.to_string());
    let details = field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned());
    (code, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_fields_come_from_the_error_document() {
        let doc = Bytes::from_static(br#"{"errorType":"OrderError","errorMessage":"order 42 is missing","stackTrace":[]}"#);
        assert_eq!(error_fields(&doc), ("OrderError".to_string(), "order 42 is missing".to_string()));
        let timeout = Bytes::from_static(br#"{"errorMessage":"Task timed out after 1.00 seconds"}"#);
        assert_eq!(error_fields(&timeout), ("Unhandled".to_string(), "Task timed out after 1.00 seconds".to_string()));
        assert_eq!(error_fields(&Bytes::from_static(b"boom")), ("Unhandled".to_string(), "boom".to_string()));
    }
}
