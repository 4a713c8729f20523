//! kagami-bench: measures kagami (in memory and durable) and, for comparison, moto's
//! server in the same run, and prints the results as markdown.
//!
//! Per server: time from spawn to the first answer, idle RSS, then for each operation a
//! fixed-duration load over N keep-alive connections reporting throughput, latency
//! percentiles and the server's CPU time per operation (from /proc/<pid>/stat).

mod http;
mod load;
mod procfs;
mod report;
mod scenarios;
mod server;
mod sigv4;

use anyhow::{Context, Result};
use clap::Parser;
use scenarios::{Scenario, Target};
use server::{Kind, Server};
use std::path::PathBuf;
use std::time::Duration;

/// How long a freshly started server idles before its RSS is read.
const IDLE_SETTLE: Duration = Duration::from_millis(500);

#[derive(Parser, Debug)]
#[command(name = "kagami-bench", about = "Load generator for kagami and moto: throughput, latency, server CPU per operation")]
pub struct Args {
    /// The kagami binary to measure.
    #[arg(long, default_value = "target/release/kagami")]
    kagami: PathBuf,
    /// moto's server command, e.g. "python3 -m moto.server" (whitespace-separated);
    /// without it there is no comparison.
    #[arg(long)]
    moto: Option<String>,
    /// Seconds of load per operation and server.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Startups measured for kagami (median reported).
    #[arg(long, default_value_t = 20)]
    startup_runs: usize,
    /// Startups measured for moto (each takes about a second).
    #[arg(long, default_value_t = 3)]
    moto_startup_runs: usize,
    /// Skips durable mode (--data-dir).
    #[arg(long)]
    skip_durable: bool,
}

pub struct Startup {
    /// Sorted.
    pub runs: Vec<Duration>,
    pub idle_rss_kib: u64,
}

pub struct Suite {
    pub label: &'static str,
    pub startup: Startup,
    pub results: Vec<(Scenario, load::LoadStats)>,
    pub peak_rss_kib: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let scratch = std::env::temp_dir().join(format!("kagami-bench-{}", std::process::id()));
    let result = run(&args, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let suites = result?;
    print!("{}", report::markdown(&args, &suites, procfs::clock_ticks_per_second()));
    Ok(())
}

fn run(args: &Args, scratch: &std::path::Path) -> Result<Vec<Suite>> {
    let mut suites = Vec::new();
    let memory = Kind::Kagami { binary: args.kagami.clone(), data_dir: None };
    suites.push(suite("kagami (memory)", &memory, args.startup_runs, args, None)?);
    if !args.skip_durable {
        let fresh_dir = |i: usize| scratch.join(format!("data-{i}"));
        let durable = |i: usize| Kind::Kagami { binary: args.kagami.clone(), data_dir: Some(fresh_dir(i)) };
        // Each startup gets an empty data dir; the load runs on one more.
        suites.push(suite("kagami (durable)", &durable(args.startup_runs), args.startup_runs, args, Some(&durable))?);
    }
    if let Some(command) = &args.moto {
        let moto = Kind::Moto { command: command.split_whitespace().map(str::to_owned).collect() };
        suites.push(suite("moto", &moto, args.moto_startup_runs, args, None)?);
    }
    Ok(suites)
}

/// Measures startup `runs` times (each durable startup on an empty data dir), then the
/// load of every scenario on one more instance.
fn suite(
    label: &'static str,
    kind: &Kind,
    runs: usize,
    args: &Args,
    startup_kind: Option<&dyn Fn(usize) -> Kind>,
) -> Result<Suite> {
    eprintln!("[kagami-bench] {label}: {runs} startups");
    let mut startups = Vec::with_capacity(runs);
    let mut idle_rss_kib = 0;
    for i in 0..runs.max(1) {
        let kind_i = startup_kind.map_or_else(|| kind.clone(), |f| f(i));
        let server = Server::start(&kind_i).with_context(|| format!("start {label}"))?;
        startups.push(server.startup);
        if i == 0 {
            std::thread::sleep(IDLE_SETTLE);
            idle_rss_kib = procfs::status_kib(server.pid, "VmRSS")?;
        }
    }
    startups.sort();

    let server = Server::start(kind)?;
    let target = Target::new(server.addr);
    let queue_url = target.create_queue("kagami-bench").with_context(|| format!("CreateQueue on {label}"))?;
    let duration = Duration::from_secs_f64(args.duration);
    let mut results = Vec::new();
    for scenario in Scenario::ALL {
        eprintln!("[kagami-bench] {label}: {} for {:?} on {} connections", scenario.label(), duration, args.connections);
        let stats = load::run(server.addr, args.connections, duration, server.pid, target.operation(scenario, &queue_url))?;
        results.push((scenario, stats));
    }
    let peak_rss_kib = procfs::status_kib(server.pid, "VmHWM")?;
    Ok(Suite { label, startup: Startup { runs: startups, idle_rss_kib }, results, peak_rss_kib })
}
