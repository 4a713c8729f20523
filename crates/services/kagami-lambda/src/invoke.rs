//! Invoke: finds or starts an execution environment for the function's revision, hands
//! it the event through the Runtime API and answers with what the runtime returned,
//! as Lambda does (FunctionError, Task timed out, LogType Tail).

use crate::environment::{Environment, Failure, Launch};
use crate::function::Function;
use crate::generated::*;
use crate::runtime_api::{Invocation, Outcome};
use crate::runtimes::{self, Family};
use crate::state::Lambda;
use crate::versions::Resolved;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock, ids};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Synchronous invocation payload limit, request and response alike (6 MB).
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const MAX_REQUEST_PAYLOAD: usize = 6_291_456;
const MAX_RESPONSE_PAYLOAD: usize = 6_291_556;
/// Asynchronous (Event) invocation payload limit (256 KB).
pub(crate) const MAX_EVENT_PAYLOAD: usize = 262_144;
/// LogType Tail returns the last 4 KB of the invocation's log.
const TAIL_BYTES: usize = 4096;

/// What the runtime said, before it becomes an InvocationResponse.
struct Answer {
    payload: Bytes,
    function_error: Option<&'static str>,
    /// The environment may serve the next invoke.
    reusable: bool,
    /// A line the platform adds to the log (timeouts, crashes).
    platform_line: Option<String>,
}

fn error_doc(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

impl Lambda {
    pub async fn invoke(self: &Arc<Self>, ctx: &RequestContext, input: InvocationRequest) -> Result<InvocationResponse, ServiceError> {
        let resolved = self.resolve(ctx, &input.function_name, input.qualifier.as_deref())?;
        match input.invocation_type.as_deref().unwrap_or("RequestResponse") {
            "RequestResponse" => {}
            "DryRun" => return Ok(InvocationResponse { status_code: Some(204), ..Default::default() }),
            "Event" => return self.invoke_event(ctx, input),
            other => {
                return Err(crate::errors::validation(&format!(
                    "Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                )));
            }
        }
        let payload = input.payload.unwrap_or_default();
        if payload.len() > MAX_REQUEST_PAYLOAD {
            return Err(LambdaError::RequestTooLargeException(format!(
                "Request must be smaller than {MAX_REQUEST_PAYLOAD} bytes for the InvokeFunction operation"
            ))
            .into());
        }
        // Reserved and account concurrency (`concurrency.rs`): counted until the answer.
        let _running = self.enter(&resolved.function)?;
        let tail = input.log_type.as_deref() == Some("Tail");
        let request_id = ids::uuid_v4();
        let f = self.routed(&resolved);
        // Per version and revision: an update of $LATEST retires only its environments.
        let key = format!("{}#{}#{}", f.key(), f.version, f.revision_id);
        let begun = Instant::now();

        let (env, cold) = match self.pool.take(&key) {
            Some(env) => (Some(env), false),
            None => (None, true),
        };
        let env = match env {
            Some(e) => Ok(e),
            None => self.start_environment(&f).await,
        };
        let env = match env {
            Ok(e) => e,
            Err(message) => {
                let r = Answer {
                    payload: error_doc("Runtime.InvalidEntrypoint", &format!("RequestId: {request_id} Error: {message}")),
                    function_error: Some("Unhandled"),
                    reusable: false,
                    platform_line: Some(message),
                };
                return Ok(self.respond(&f, &request_id, r, Vec::new(), tail, begun, None));
            }
        };
        let timeout = Duration::from_secs(u64::try_from(f.timeout).unwrap_or(3));
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload,
            deadline_ms: clock::now_millis() + i64::from(f.timeout) * 1000,
            function_arn: resolved.arn(),
            trace_id: trace_id(),
            client_context: input
                .client_context
                .as_deref()
                .and_then(|c| STANDARD.decode(c).ok())
                .and_then(|c| String::from_utf8(c).ok()),
        };
        let result = match env.invoke(invocation, timeout).await {
            Ok(Outcome::Response(body)) if body.len() > MAX_RESPONSE_PAYLOAD => Answer {
                payload: error_doc(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_PAYLOAD} bytes).",
                        body.len()
                    ),
                ),
                function_error: Some("Unhandled"),
                reusable: true,
                platform_line: None,
            },
            Ok(Outcome::Response(body)) => Answer { payload: body, function_error: None, reusable: true, platform_line: None },
            Ok(Outcome::Error { body, init }) => {
                Answer { payload: body, function_error: Some("Unhandled"), reusable: !init, platform_line: None }
            }
            Err(Failure::Timeout) => {
                let line = format!(
                    "{} {request_id} Task timed out after {:.2} seconds",
                    Timestamp::from_millis(clock::now_millis()).to_iso8601_millis(),
                    f64::from(f.timeout)
                );
                Answer {
                    payload: Bytes::from(serde_json::json!({ "errorMessage": line }).to_string()),
                    function_error: Some("Unhandled"),
                    reusable: false,
                    platform_line: Some(line),
                }
            }
            Err(Failure::Exited(status)) => {
                let message = format!("RequestId: {request_id} Error: Runtime exited with error: {status}");
                Answer {
                    payload: error_doc("Runtime.ExitError", &message),
                    function_error: Some("Unhandled"),
                    reusable: false,
                    platform_line: Some(message),
                }
            }
        };
        let init = if cold { env.ready_at().map(|t| t.saturating_duration_since(begun)) } else { None };
        let output = env.output();
        let log = crate::logs::InvocationLog { request_id: &request_id, output: &output, platform_line: result.platform_line.as_deref(), elapsed: begun.elapsed(), init };
        self.write_logs(&f, &env.log_stream, log).await;
        let reusable = result.reusable;
        let response = self.respond(&f, &request_id, result, output, tail, begun, init);
        // An update or delete during the invoke retired this revision's environments.
        if reusable && self.is_current(&f) {
            self.pool.give_back(&key, env);
        }
        Ok(response)
    }

    /// The version one invocation runs: an alias with RoutingConfig picks by weight.
    fn routed(&self, resolved: &Resolved) -> Arc<Function> {
        let Some(alias) = resolved.alias.as_ref().filter(|a| !a.weights.is_empty()) else {
            return Arc::clone(&resolved.function);
        };
        let picked = alias.pick();
        if picked == resolved.function.version {
            return Arc::clone(&resolved.function);
        }
        // The weighted version may have been deleted meanwhile (an alias refers to it, so
        // only by a race): the primary version runs.
        self.version(&resolved.function.key(), picked).unwrap_or_else(|| Arc::clone(&resolved.function))
    }

    /// Queues the event and answers 202 at once; `async_invoke.rs` runs it, with retries,
    /// maximum event age, destinations and the dead-letter queue.
    fn invoke_event(self: &Arc<Self>, ctx: &RequestContext, input: InvocationRequest) -> Result<InvocationResponse, ServiceError> {
        let size = input.payload.as_ref().map_or(0, Bytes::len);
        if size > MAX_EVENT_PAYLOAD {
            return Err(LambdaError::RequestTooLargeException(format!(
                "Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the InvokeFunction operation"
            ))
            .into());
        }
        self.enqueue_event(ctx, input);
        Ok(InvocationResponse { status_code: Some(202), ..Default::default() })
    }

    #[allow(clippy::too_many_arguments)]
    fn respond(
        &self,
        f: &Function,
        request_id: &str,
        result: Answer,
        output: Vec<u8>,
        tail: bool,
        begun: Instant,
        init: Option<Duration>,
    ) -> InvocationResponse {
        let log_result = tail.then(|| {
            let duration = begun.elapsed().saturating_sub(init.unwrap_or_default()).as_secs_f64() * 1000.0;
            let mut log = format!("START RequestId: {request_id} Version: {}\n", f.version).into_bytes();
            log.extend_from_slice(&output);
            if let Some(line) = &result.platform_line {
                log.extend_from_slice(format!("{line}\n").as_bytes());
            }
            let init = init.map(|d| format!("Init Duration: {:.2} ms\t", d.as_secs_f64() * 1000.0)).unwrap_or_default();
            log.extend_from_slice(
                format!(
                    "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {duration:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t{init}\n",
                    duration.ceil() as u64,
                    f.memory_size,
                    f.memory_size
                )
                .as_bytes(),
            );
            let start = log.len().saturating_sub(TAIL_BYTES);
            STANDARD.encode(log.get(start..).unwrap_or_default())
        });
        InvocationResponse {
            status_code: Some(200),
            function_error: result.function_error.map(str::to_string),
            log_result,
            payload: Some(result.payload),
            executed_version: Some(f.version.clone()),
            ..Default::default()
        }
    }

    /// Starts a runtime process for the function; an error is the message Lambda would log.
    async fn start_environment(&self, f: &Function) -> Result<Environment, String> {
        let family = runtimes::family(&f.runtime).ok_or_else(|| format!("Runtime {} is not supported", f.runtime))?;
        let task_root = self.code.task_root(&f.code_hex).map_err(|e| format!("unpacking the package: {e}"))?;
        let opt = self.opt_root(&f.layers)?;
        let interpreter = crate::interpreters::resolve(family).await;
        let (program, args) = match (family, interpreter) {
            (Family::Python, Some(i)) => {
                let script = self.code.bootstrap("python.py", runtimes::PYTHON_BOOTSTRAP).map_err(|e| e.to_string())?;
                match i.site {
                    // No site processing: the bootstrap appends the site directories.
                    Some(site) => (i.program, vec![PathBuf::from("-S"), PathBuf::from("-s"), script, PathBuf::from(site)]),
                    None => (i.program, vec![script]),
                }
            }
            (Family::Node, Some(i)) => {
                let script = self.code.bootstrap("node.js", runtimes::NODE_BOOTSTRAP).map_err(|e| e.to_string())?;
                (i.program, vec![script])
            }
            _ => (crate::layer_opt::bootstrap(&task_root, opt.as_deref()), Vec::new()),
        };
        let host = self.peers.address();
        let launch = Launch { program, args, task_root: task_root.clone(), vars: environment(f, &task_root, opt.as_deref(), host) };
        Environment::start(launch).await.map_err(|e| e.to_string())
    }
}

/// The variables a function sees: the user's, then those AWS reserves.
/// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
fn environment(f: &Function, task_root: &std::path::Path, opt: Option<&std::path::Path>, host: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| vars.push((k.to_string(), v));
    // PATH, and with layers the search paths into the directory that plays /opt.
    for (k, v) in crate::layer_opt::search_paths(&f.runtime, task_root, opt) {
        set(k, v);
    }
    set("LANG", "en_US.UTF-8".into());
    set("TZ", ":UTC".into());
    set("PYTHONUNBUFFERED", "1".into());
    // Code that calls AWS reaches kagami, in the function's account.
    set("AWS_ENDPOINT_URL", format!("http://{host}"));
    set("AWS_ACCESS_KEY_ID", f.account.clone());
    set("AWS_SECRET_ACCESS_KEY", "test".into());
    if let Some(user) = &f.environment {
        for (k, v) in user {
            set(k, v.clone());
        }
    }
    let stream = format!(
        "{}/[{}]{}",
        Timestamp::from_millis(clock::now_millis()).to_iso8601().get(..10).unwrap_or_default().replace('-', "/"),
        f.version,
        ids::uuid_v4().replace('-', "")
    );
    set("_HANDLER", f.handler.clone());
    set("LAMBDA_TASK_ROOT", task_root.display().to_string());
    set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", f.runtime));
    set("AWS_LAMBDA_FUNCTION_NAME", f.name.clone());
    set("AWS_LAMBDA_FUNCTION_VERSION", f.version.clone());
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", f.memory_size.to_string());
    set("AWS_LAMBDA_LOG_GROUP_NAME", f.log_group());
    set("AWS_LAMBDA_LOG_STREAM_NAME", stream);
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into());
    set("AWS_REGION", f.region.clone());
    set("AWS_DEFAULT_REGION", f.region.clone());
    vars
}

/// An X-Ray trace header for the invocation.
fn trace_id() -> String {
    let secs = clock::now_millis() / 1000;
    let hex = ids::uuid_v4().replace('-', "");
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        hex.get(..24).unwrap_or_default(),
        hex.get(16..32).unwrap_or_default()
    )
}
