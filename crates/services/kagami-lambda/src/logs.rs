//! The function's CloudWatch Logs: after every invocation, START, what the function
//! printed, END and REPORT go to `/aws/lambda/<name>`, in the stream of the execution
//! environment that ran it (`YYYY/MM/DD/[$LATEST]<hex>`), through the logs service in
//! this process. The group and stream are created on first use, as Lambda does.

use crate::function::Function;
use crate::state::Lambda;
use kagami_core::{Value, clock};
use std::time::Duration;

/// What one invocation leaves in the log.
pub(crate) struct InvocationLog<'a> {
    pub request_id: &'a str,
    pub output: &'a [u8],
    pub platform_line: Option<&'a str>,
    pub elapsed: Duration,
    pub init: Option<Duration>,
}

impl InvocationLog<'_> {
    /// The messages as Lambda writes them: each ends with a newline, and REPORT's
    /// fields each end with a tab.
    fn lines(&self, f: &Function) -> Vec<String> {
        let id = self.request_id;
        let mut lines = vec![format!("START RequestId: {id} Version: {}\n", f.version)];
        let output = String::from_utf8_lossy(self.output);
        lines.extend(output.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("{l}\n")));
        lines.extend(self.platform_line.map(|l| format!("{l}\n")));
        let duration = self.elapsed.saturating_sub(self.init.unwrap_or_default()).as_secs_f64() * 1000.0;
        let init = self.init.map(|d| format!("Init Duration: {:.2} ms\t", d.as_secs_f64() * 1000.0)).unwrap_or_default();
        lines.push(format!("END RequestId: {id}\n"));
        lines.push(format!(
            "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t{init}\n",
            duration.ceil() as u64,
            f.memory_size,
            f.memory_size
        ));
        lines
    }
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

impl Lambda {
    /// Writes one invocation's log; a failure to log never fails the invocation.
    pub(crate) async fn write_logs(&self, f: &Function, stream: &str, log: InvocationLog<'_>) {
        let system = self.peers.system_context(&f.account, &f.region, "lambda");
        let group = Value::Str(f.log_group());
        let stream = Value::Str(stream.to_string());
        for (operation, input) in [
            ("CreateLogGroup", map(&[("logGroupName", group.clone())])),
            ("CreateLogStream", map(&[("logGroupName", group.clone()), ("logStreamName", stream.clone())])),
        ] {
            if let Err(e) = self.peers.call(&system, "logs", operation, input).await
                && e.code != "ResourceAlreadyExistsException"
            {
                tracing::debug!(function = %f.name, error = %e.message, "function log not written");
                return;
            }
        }
        let end = clock::now_millis();
        let start = end - i64::try_from(log.elapsed.as_millis()).unwrap_or(0);
        let lines = log.lines(f);
        // START at the invocation's start, the rest as it ended (output is not timed line by line).
        let events = lines
            .into_iter()
            .enumerate()
            .map(|(i, message)| {
                let timestamp = if i == 0 { start } else { end };
                map(&[("timestamp", Value::Int(timestamp)), ("message", Value::Str(message))])
            })
            .collect();
        let input = map(&[("logGroupName", group), ("logStreamName", stream), ("logEvents", Value::List(events))]);
        if let Err(e) = self.peers.call(&system, "logs", "PutLogEvents", input).await {
            tracing::debug!(function = %f.name, error = %e.message, "function log not written");
        }
    }
}
