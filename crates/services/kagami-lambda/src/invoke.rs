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
    /// Lines the platform adds to the log (timeouts, crashes).
    platform_lines: Vec<String>,
    /// The error type of a runtime that failed to initialise.
    init_error: Option<String>,
    /// REPORT's status fields.
    status: Option<String>,
}

impl Answer {
    fn ok(payload: Bytes) -> Answer {
        Answer { payload, function_error: None, reusable: true, platform_lines: Vec::new(), init_error: None, status: None }
    }

    /// An error of the platform rather than the function's code (Runtime.ExitError,
    /// Runtime.InvalidEntrypoint): Lambda logs its message and type on their own lines.
    fn platform_error(kind: &str, message: String, during_init: bool) -> Answer {
        Answer {
            payload: error_doc(kind, &message),
            function_error: Some("Unhandled"),
            reusable: false,
            platform_lines: vec![message, kind.to_string()],
            init_error: during_init.then(|| kind.to_string()),
            status: Some(format!("Status: error\tError Type: {kind}")),
        }
    }
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
            "Event" => return self.invoke_event(ctx, input).await,
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
        let mut env = match env {
            Ok(e) => e,
            Err(message) => {
                // Nothing ran: the log still tells why, in a stream of its own.
                let r = Answer::platform_error("Runtime.InvalidEntrypoint", format!("RequestId: {request_id} Error: {message}"), true);
                let writer = self.log_writer(&f, &crate::logs::stream_name(&f));
                let lines = log_lines(&f, &request_id, &r, &[], begun.elapsed(), Some(begun.elapsed()));
                let tail = tail.then(|| lines.text());
                writer.write(lines, begun.elapsed());
                return Ok(self.respond(&f, r, tail));
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
                ..Answer::ok(Bytes::new())
            },
            Ok(Outcome::Response(body)) => Answer::ok(body),
            Ok(Outcome::Error { body, init: true }) => {
                let kind = error_type(&body).unwrap_or_else(|| "Runtime.Unknown".into());
                Answer {
                    payload: body,
                    function_error: Some("Unhandled"),
                    reusable: false,
                    platform_lines: Vec::new(),
                    status: Some(format!("Status: error\tError Type: {kind}")),
                    init_error: Some(kind),
                }
            }
            Ok(Outcome::Error { body, init: false }) => Answer { function_error: Some("Unhandled"), ..Answer::ok(body) },
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
                    platform_lines: vec![line],
                    init_error: None,
                    status: Some("Status: timeout".into()),
                }
            }
            Err(Failure::Exited(status)) => Answer::platform_error(
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
                env.ready_at().is_none(),
            ),
        };
        // A failed init lasted until its answer; a good one until the runtime asked for work.
        let init = match (&result.init_error, cold) {
            (Some(_), _) => Some(begun.elapsed()),
            (None, true) => env.ready_at().map(|t| t.saturating_duration_since(begun)),
            (None, false) => None,
        };
        let output = env.output();
        let lines = log_lines(&f, &request_id, &result, &output, begun.elapsed(), init);
        let tail = tail.then(|| lines.text());
        env.log.get_or_insert_with(|| self.log_writer(&f, &env.log_stream)).write(lines, begun.elapsed());
        let reusable = result.reusable;
        let response = self.respond(&f, result, tail);
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
    async fn invoke_event(self: &Arc<Self>, ctx: &RequestContext, input: InvocationRequest) -> Result<InvocationResponse, ServiceError> {
        let size = input.payload.as_ref().map_or(0, Bytes::len);
        if size > MAX_EVENT_PAYLOAD {
            return Err(LambdaError::RequestTooLargeException(format!(
                "Request must be smaller than {MAX_EVENT_PAYLOAD} bytes for the InvokeFunction operation"
            ))
            .into());
        }
        self.enqueue_event(ctx, input).await?;
        Ok(InvocationResponse { status_code: Some(202), ..Default::default() })
    }

    /// The answer; `LogType: Tail` returns the last 4 KB of the invocation's log.
    fn respond(&self, f: &Function, result: Answer, log: Option<String>) -> InvocationResponse {
        let log_result = log.map(|log| {
            let start = log.len().saturating_sub(TAIL_BYTES);
            STANDARD.encode(log.as_bytes().get(start..).unwrap_or_default())
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
            (Family::Provided, _) => {
                let bootstrap = crate::layer_opt::bootstrap(&task_root, opt.as_deref());
                if !bootstrap.exists() {
                    // Lambda's words, with the paths the function sees.
                    return Err("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into());
                }
                (bootstrap, Vec::new())
            }
            // Python and Node.js always resolve to a command (missing ones fail to spawn).
            _ => (crate::layer_opt::bootstrap(&task_root, opt.as_deref()), Vec::new()),
        };
        let host = self.peers.address();
        let launch = Launch { program, args, task_root: task_root.clone(), vars: environment(f, &task_root, opt.as_deref(), host) };
        Environment::start(launch).await.map_err(|e| e.to_string())
    }
}

/// One invocation's log lines, for CloudWatch Logs and `LogType: Tail` alike.
fn log_lines(f: &Function, request_id: &str, result: &Answer, output: &[u8], elapsed: Duration, init: Option<Duration>) -> crate::logs::Lines {
    crate::logs::InvocationLog {
        request_id,
        output,
        platform_lines: result.platform_lines.clone(),
        elapsed,
        init,
        init_error: result.init_error.as_deref(),
        status: result.status.clone(),
    }
    .lines(f)
}

/// The `errorType` of an error document.
fn error_type(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    doc.get("errorType").and_then(serde_json::Value::as_str).map(str::to_string)
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
    let stream = crate::logs::stream_name(f);
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
