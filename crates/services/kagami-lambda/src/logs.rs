//! The function's CloudWatch Logs: after every invocation, START, what the function
//! printed, END and REPORT go to `/aws/lambda/<name>`, in the stream of the execution
//! environment that ran it (`YYYY/MM/DD/[$LATEST]<hex>`), through the logs service in
//! this process. An init that fails adds what Lambda writes for it (the runtime's error,
//! INIT_REPORT, `Status: error` in REPORT).
//!
//! Each environment has one writer task: it creates the group and stream once, then puts
//! each invocation's lines in one PutLogEvents call, after the invocation has answered
//! (Lambda's logs arrive asynchronously too), in the order the invocations ran. A warm
//! invoke thus costs one logs call, off its own latency, instead of three on it.

use crate::function::Function;
use crate::state::Lambda;
use kagami_core::{Peers, RequestContext, Timestamp, Value, clock, ids};
use std::time::Duration;
use tokio::sync::mpsc;

/// PutLogEvents takes at most 10,000 events per call.
/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
const MAX_EVENTS_PER_PUT: usize = 10_000;

/// What one invocation leaves in the log.
pub(crate) struct InvocationLog<'a> {
    pub request_id: &'a str,
    pub output: &'a [u8],
    /// Lines the platform adds after the output (timeouts, runtime exits).
    pub platform_lines: Vec<String>,
    pub elapsed: Duration,
    pub init: Option<Duration>,
    /// The error type of an init that failed: the output is the init's, and INIT_REPORT
    /// reports it before START.
    pub init_error: Option<&'a str>,
    /// REPORT's trailing status fields (`Status: error\tError Type: ...`, `Status: timeout`).
    pub status: Option<String>,
}

/// Log lines with whether each is stamped at the invocation's start or its end.
pub(crate) struct Lines {
    pub lines: Vec<String>,
    /// Lines before this index carry the start time (init output, INIT_REPORT, START).
    pub started: usize,
}

impl Lines {
    pub fn text(&self) -> String {
        self.lines.concat()
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl InvocationLog<'_> {
    /// The messages as Lambda writes them: each ends with a newline, and REPORT's
    /// fields each end with a tab.
    pub fn lines(&self, f: &Function) -> Lines {
        let id = self.request_id;
        let output = String::from_utf8_lossy(self.output);
        let printed = output.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("{l}\n"));
        let mut lines = Vec::new();
        if let Some(kind) = self.init_error {
            lines.extend(printed);
            lines.push(format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {kind}\n",
                millis(self.init.unwrap_or_default())
            ));
            lines.push(format!("START RequestId: {id} Version: {}\n", f.version));
        } else {
            lines.push(format!("START RequestId: {id} Version: {}\n", f.version));
            lines.extend(printed);
        }
        let started = if self.init_error.is_some() { lines.len() } else { 1 };
        lines.extend(self.platform_lines.iter().map(|l| format!("{l}\n")));
        let duration = millis(self.elapsed.saturating_sub(self.init.unwrap_or_default()));
        // A failed init is reported by INIT_REPORT, not as REPORT's Init Duration.
        let init = match (self.init, self.init_error) {
            (Some(d), None) => format!("Init Duration: {:.2} ms\t", millis(d)),
            _ => String::new(),
        };
        let status = self.status.as_deref().map(|s| format!("{s}\t")).unwrap_or_default();
        lines.push(format!("END RequestId: {id}\n"));
        lines.push(format!(
            "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t{init}{status}\n",
            duration.ceil() as u64,
            f.memory_size,
            f.memory_size
        ));
        Lines { lines, started }
    }
}

/// A new environment's stream name, as Lambda names them: `YYYY/MM/DD/[version]<hex>`.
pub(crate) fn stream_name(f: &Function) -> String {
    format!(
        "{}/[{}]{}",
        Timestamp::from_millis(clock::now_millis()).to_iso8601().get(..10).unwrap_or_default().replace('-', "/"),
        f.version,
        ids::uuid_v4().replace('-', "")
    )
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// One environment's log stream; dropping it ends the writer once it has written
/// everything sent before.
pub(crate) struct LogWriter {
    tx: mpsc::UnboundedSender<Vec<(i64, String)>>,
}

impl LogWriter {
    /// Queues one invocation's lines, stamped from its start and end times.
    pub fn write(&self, lines: Lines, elapsed: Duration) {
        let end = clock::now_millis();
        let start = end - i64::try_from(elapsed.as_millis()).unwrap_or(0);
        let events = lines.lines.into_iter().enumerate().map(|(i, m)| (if i < lines.started { start } else { end }, m)).collect();
        // The writer only stops when this sender is dropped.
        let _ = self.tx.send(events);
    }
}

/// Where one stream's events go.
struct Target {
    peers: Peers,
    system: RequestContext,
    group: Value,
    stream: Value,
    function: String,
}

impl Target {
    /// Creates the group and the stream (either may exist already).
    async fn create(&self) -> bool {
        for (operation, input) in [
            ("CreateLogGroup", map(&[("logGroupName", self.group.clone())])),
            ("CreateLogStream", map(&[("logGroupName", self.group.clone()), ("logStreamName", self.stream.clone())])),
        ] {
            if let Err(e) = self.peers.call(&self.system, "logs", operation, input).await
                && e.code != "ResourceAlreadyExistsException"
            {
                tracing::debug!(function = %self.function, error = %e.message, "function log not written");
                return false;
            }
        }
        true
    }

    async fn put(&self, events: &[(i64, String)]) -> Result<(), kagami_core::ServiceError> {
        let events = events.iter().map(|(t, m)| map(&[("timestamp", Value::Int(*t)), ("message", Value::Str(m.clone()))])).collect();
        let input = map(&[("logGroupName", self.group.clone()), ("logStreamName", self.stream.clone()), ("logEvents", Value::List(events))]);
        self.peers.call(&self.system, "logs", "PutLogEvents", input).await.map(|_| ())
    }
}

impl Lambda {
    /// Starts the writer of one environment's stream.
    pub(crate) fn log_writer(&self, f: &Function, stream: &str) -> LogWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<(i64, String)>>();
        let target = Target {
            peers: self.peers.clone(),
            system: self.peers.system_context(&f.account, &f.region, "lambda"),
            group: Value::Str(f.log_group()),
            stream: Value::Str(stream.to_string()),
            function: f.name.clone(),
        };
        tokio::spawn(async move {
            let mut created = false;
            while let Some(mut events) = rx.recv().await {
                // Invocations that ended meanwhile go in the same call.
                while events.len() < MAX_EVENTS_PER_PUT
                    && let Ok(more) = rx.try_recv()
                {
                    events.extend(more);
                }
                if !created {
                    created = target.create().await;
                }
                for chunk in events.chunks(MAX_EVENTS_PER_PUT) {
                    let mut result = target.put(chunk).await;
                    // The group or stream was deleted while the environment lived.
                    if result.as_ref().is_err_and(|e| e.code == "ResourceNotFoundException") && target.create().await {
                        result = target.put(chunk).await;
                    }
                    if let Err(e) = result {
                        tracing::debug!(function = %target.function, error = %e.message, "function log not written");
                    }
                }
            }
        });
        LogWriter { tx }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function() -> Function {
        serde_json::from_value(serde_json::json!({
            "account": "000000000000", "region": "us-east-1", "name": "f", "runtime": "python3.12",
            "role": "r", "handler": "app.handler", "description": "", "timeout": 3, "memory_size": 128,
            "environment": null, "tags": {}, "code_sha256": "", "code_hex": "", "code_size": 0,
            "last_modified": "", "revision_id": "x"
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_failed_init_is_reported_before_start_and_in_report() {
        let log = InvocationLog {
            request_id: "id",
            output: b"[ERROR] Runtime.ImportModuleError: Unable to import module 'x': No module named 'x'\nTraceback (most recent call last):\n",
            platform_lines: Vec::new(),
            elapsed: Duration::from_millis(50),
            init: Some(Duration::from_millis(40)),
            init_error: Some("Runtime.ImportModuleError"),
            status: Some("Status: error\tError Type: Runtime.ImportModuleError".into()),
        };
        let lines = log.lines(&function());
        assert!(lines.lines[0].starts_with("[ERROR] Runtime.ImportModuleError: Unable to import module 'x'"));
        assert_eq!(lines.lines[2], "INIT_REPORT Init Duration: 40.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n");
        assert_eq!(lines.lines[3], "START RequestId: id Version: $LATEST\n");
        assert_eq!(lines.started, 4);
        assert_eq!(lines.lines[4], "END RequestId: id\n");
        let report = &lines.lines[5];
        assert!(report.ends_with("\tStatus: error\tError Type: Runtime.ImportModuleError\t\n"), "{report}");
        assert!(!report.contains("Init Duration"));
    }

    #[test]
    fn a_warm_invocation_is_start_output_end_report() {
        let log = InvocationLog {
            request_id: "id",
            output: b"hello\n\n",
            platform_lines: Vec::new(),
            elapsed: Duration::from_millis(5),
            init: None,
            init_error: None,
            status: None,
        };
        let lines = log.lines(&function());
        assert_eq!(lines.lines.len(), 4);
        assert_eq!(lines.lines[1], "hello\n");
        assert_eq!(lines.started, 1);
        assert!(lines.lines[3].ends_with("Max Memory Used: 128 MB\t\n"));
    }
}
