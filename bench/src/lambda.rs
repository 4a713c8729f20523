//! Lambda's requests (REST-JSON under `/2015-03-31/functions`) and its measurements,
//! for no-op handlers of Python (python3.12) and Node.js (nodejs20.x, skipped without
//! `node` on PATH):
//!
//! - cold start: UpdateFunctionConfiguration changes an environment variable, which
//!   retires the function's environments, then one Invoke is timed (the update is not);
//! - warm invoke, one client: the Invoke round trip, and that minus the handler's own
//!   run time (which the handler measures and returns): the overhead of kagami and the
//!   runtime loop;
//! - warm invokes over N connections (`Scenario::Invoke*` in the load loop): N
//!   concurrent invokes keep N environments busy; a warm-up round starts them first.

use crate::http::{Conn, encode_request};
use crate::load::Outcome;
use crate::procfs;
use crate::scenarios::{Operation, Target, ok};
use crate::sigv4::{amz_date_now, payload_hash};
use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const API: &str = "/2015-03-31/functions";
/// Role ARNs are only checked for their form.
const ROLE: &str = "arn:aws:iam::000000000000:role/kagami-bench";
/// The variable UpdateFunctionConfiguration changes to force a cold start.
const SAMPLE_VAR: &str = "KAGAMI_BENCH_SAMPLE";
/// Sequential warm invokes measured per runtime.
const WARM_SAMPLES: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Python,
    Node,
}

impl Runtime {
    pub const ALL: [Runtime; 2] = [Runtime::Python, Runtime::Node];

    pub fn id(self) -> &'static str {
        match self {
            Runtime::Python => "python3.12",
            Runtime::Node => "nodejs20.x",
        }
    }

    fn handler(self) -> &'static str {
        match self {
            Runtime::Python => "app.handler",
            Runtime::Node => "index.handler",
        }
    }

    /// The package's one file: a handler that does nothing but time itself.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Runtime::Python => (
                "app.py",
                "import time\n\n\ndef handler(event, context):\n    t = time.perf_counter_ns()\n    return {\"handler_ns\": time.perf_counter_ns() - t}\n",
            ),
            Runtime::Node => (
                "index.js",
                "exports.handler = async () => {\n  const t = process.hrtime.bigint();\n  return { handler_ns: Number(process.hrtime.bigint() - t) };\n};\n",
            ),
        }
    }

    pub fn function_name(self) -> &'static str {
        match self {
            Runtime::Python => "kagami-bench-python",
            Runtime::Node => "kagami-bench-node",
        }
    }

    /// Python is always there (the benchmark's own tooling needs it); Node.js may not be.
    pub fn available(self) -> bool {
        match self {
            Runtime::Python => true,
            Runtime::Node => std::process::Command::new("node")
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
    }
}

/// One runtime's cold and sequential warm invokes.
pub struct LambdaStats {
    pub runtime: Runtime,
    /// Invoke round trips right after an update, sorted.
    pub cold: Vec<Duration>,
    /// Sequential warm Invoke round trips, sorted.
    pub warm: Vec<Duration>,
    /// Each warm round trip minus the handler's own time, sorted.
    pub overhead: Vec<Duration>,
    /// Server CPU over the cold starts (updates included), in clock ticks.
    pub cold_cpu_ticks: u64,
}

impl LambdaStats {
    pub fn cpu_ms_per_cold_start(&self, ticks_per_sec: u64) -> f64 {
        self.cold_cpu_ticks as f64 * 1e3 / ticks_per_sec.max(1) as f64 / self.cold.len().max(1) as f64
    }
}

/// The `p`-th percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

impl Target {
    /// A signed Lambda REST-JSON request.
    fn lambda_request(&self, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
        let date = amz_date_now();
        let hash = payload_hash(body);
        let content_type = "application/json";
        let auth = self.lambda.authorization_for(
            method,
            path,
            &[("content-type", content_type), ("host", &self.host), ("x-amz-date", &date)],
            &hash,
            &date,
        );
        encode_request(method, &self.host, path, &[("Content-Type", content_type), ("X-Amz-Date", &date), ("Authorization", &auth)], body)
    }

    fn lambda_call(&self, conn: &mut Conn, method: &str, path: &str, body: &Value) -> Result<Value> {
        let response = ok(conn.roundtrip(&self.lambda_request(method, path, body.to_string().as_bytes()))?)
            .with_context(|| format!("{method} {path}"))?;
        if response.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&response.body).with_context(|| format!("{method} {path} response"))
    }

    /// Creates the no-op function of `runtime`.
    pub fn create_lambda_function(&self, runtime: Runtime) -> Result<()> {
        let (name, source) = runtime.file();
        let zip = base64::engine::general_purpose::STANDARD.encode(stored_zip(name, source.as_bytes()));
        let body = json!({
            "FunctionName": runtime.function_name(),
            "Runtime": runtime.id(),
            "Role": ROLE,
            "Handler": runtime.handler(),
            "Code": { "ZipFile": zip },
            "Timeout": 30,
        });
        self.lambda_call(&mut Conn::new(self.addr), "POST", API, &body).with_context(|| format!("CreateFunction {}", runtime.id()))?;
        Ok(())
    }

    fn invoke_request(&self, runtime: Runtime) -> Vec<u8> {
        self.lambda_request("POST", &format!("{API}/{}/invocations", runtime.function_name()), b"{}")
    }

    /// Warm invokes of `runtime`'s function, signed once and replayed.
    pub fn invoke_operation(&self, runtime: Runtime) -> Operation<'_> {
        let request = self.invoke_request(runtime);
        Box::new(move |conn: &mut Conn| {
            invoke(conn, &request)?;
            Ok(Outcome::Done { requests: 1 })
        })
    }
}

/// One Invoke; returns the handler's own run time.
fn invoke(conn: &mut Conn, request: &[u8]) -> Result<Duration> {
    let response = ok(conn.roundtrip(request)?)?;
    let value: Value = serde_json::from_slice(&response.body).context("Invoke payload")?;
    let Some(ns) = value["handler_ns"].as_u64() else {
        let snippet: String = String::from_utf8_lossy(&response.body).chars().take(300).collect();
        bail!("the function failed: {snippet}");
    };
    Ok(Duration::from_nanos(ns))
}

/// Creates the functions of `runtimes` and measures `cold_starts` cold starts and
/// `WARM_SAMPLES` sequential warm invokes of each.
pub fn run(target: &Target, server_pid: u32, runtimes: &[Runtime], cold_starts: usize) -> Result<Vec<LambdaStats>> {
    let mut all = Vec::new();
    for &runtime in runtimes {
        target.create_lambda_function(runtime)?;
        let mut conn = Conn::new(target.addr);
        let config_path = format!("{API}/{}/configuration", runtime.function_name());
        let invoke_request = target.invoke_request(runtime);
        // The first start also pays for one-time work (writing the bootstrap, finding
        // the interpreter, the log group): not a cold start of a deployed function.
        invoke(&mut conn, &invoke_request).with_context(|| format!("first Invoke of {}", runtime.id()))?;

        let mut cold = Vec::with_capacity(cold_starts);
        let mut cold_cpu_ticks = 0;
        for i in 0..cold_starts {
            let body = json!({ "Environment": { "Variables": { SAMPLE_VAR: i.to_string() } } });
            let cpu_before = procfs::cpu_ticks(server_pid)?;
            target.lambda_call(&mut conn, "PUT", &config_path, &body).context("UpdateFunctionConfiguration")?;
            // Signed after the update: the request is the same either way.
            let started = Instant::now();
            invoke(&mut conn, &invoke_request).with_context(|| format!("cold Invoke of {}", runtime.id()))?;
            cold.push(started.elapsed());
            cold_cpu_ticks += procfs::cpu_ticks(server_pid)?.saturating_sub(cpu_before);
        }

        let mut warm = Vec::with_capacity(WARM_SAMPLES);
        let mut overhead = Vec::with_capacity(WARM_SAMPLES);
        for _ in 0..WARM_SAMPLES {
            let started = Instant::now();
            let handler = invoke(&mut conn, &invoke_request).with_context(|| format!("warm Invoke of {}", runtime.id()))?;
            let took = started.elapsed();
            warm.push(took);
            overhead.push(took.saturating_sub(handler));
        }
        cold.sort();
        warm.sort();
        overhead.sort();
        all.push(LambdaStats { runtime, cold, warm, overhead, cold_cpu_ticks });
    }
    Ok(all)
}

/// A zip of one file, stored (not compressed), readable by any unzip.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    // 1980-01-01 00:00, the earliest DOS date.
    let (dos_time, dos_date) = (0u16, 0x21u16);
    let mut out = Vec::new();
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());

    put32(&mut out, 0x0403_4b50);
    for v in [20, 0, 0, dos_time, dos_date] {
        put16(&mut out, v);
    }
    for v in [crc, size, size] {
        put32(&mut out, v);
    }
    put16(&mut out, name_len);
    put16(&mut out, 0);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);

    let central_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    put32(&mut out, 0x0201_4b50);
    // Made by Unix (3) with zip 2.0, so the mode bits below count.
    for v in [0x0314, 20, 0, 0, dos_time, dos_date] {
        put16(&mut out, v);
    }
    for v in [crc, size, size] {
        put32(&mut out, v);
    }
    for v in [name_len, 0, 0, 0, 0] {
        put16(&mut out, v);
    }
    put32(&mut out, 0o100_644 << 16);
    put32(&mut out, 0);
    out.extend_from_slice(name.as_bytes());
    let central_size = u32::try_from(out.len()).unwrap_or(u32::MAX) - central_offset;

    put32(&mut out, 0x0605_4b50);
    for v in [0, 0, 1, 1] {
        put16(&mut out, v);
    }
    put32(&mut out, central_size);
    put32(&mut out, central_offset);
    put16(&mut out, 0);
    out
}

/// CRC-32 (IEEE), bit by bit: the packages are a few hundred bytes.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn the_package_is_a_zip_python_reads() {
        let zip = stored_zip("app.py", Runtime::Python.file().1.as_bytes());
        let dir = std::env::temp_dir().join(format!("kagami-bench-zip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.zip");
        std::fs::write(&path, &zip).unwrap();
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), z.read('app.py').decode().count('handler_ns'), oct(z.getinfo('app.py').external_attr >> 16))"])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "None 1 0o100644");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
