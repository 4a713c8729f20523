//! kagami-bench: measures kagami (in memory and durable) and, for comparison, moto's
//! server in the same run, and prints the results as markdown.
//!
//! Per server: time from spawn to the first answer, idle RSS, then for each operation a
//! fixed-duration load over N keep-alive connections reporting throughput, latency
//! percentiles and the server's CPU time per operation (from /proc/<pid>/stat); then,
//! on a server started for it alone, one large S3 object PUT and GET back (MB/s each
//! way and the server's peak RSS); and, on another, Lambda's cold starts and sequential
//! warm invokes (kagami only: moto runs functions in Docker).

mod dynamodb;
mod http;
mod lambda;
mod large;
mod listing;
mod load;
mod procfs;
mod report;
mod s3;
mod scenarios;
mod server;
mod sigv4;

use anyhow::{Context, Result};
use clap::Parser;
use scenarios::{Group, Scenario, Target};
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
    /// Only these services' scenarios, comma-separated (s3 includes the large object).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Group::ALL)]
    scenarios: Vec<Group>,
    /// Size of the object PUT and GET back for S3 throughput, in MiB; 0 skips it.
    #[arg(long, default_value_t = 1024)]
    large_object_mib: u64,
    /// The same for moto, which is far slower with large bodies.
    #[arg(long, default_value_t = 64)]
    moto_large_object_mib: u64,
    /// Keys in the bucket ListObjectsV2 pages through; 0 skips it.
    #[arg(long, default_value_t = 100_000)]
    list_keys: usize,
    /// The same for moto, which writes a few hundred objects a second.
    #[arg(long, default_value_t = 10_000)]
    moto_list_keys: usize,
    /// Items in the table DynamoDB's Query reads 100 of (one partition among many).
    #[arg(long, default_value_t = 100_000)]
    query_table_items: usize,
    /// The same for moto, which writes a few thousand items a second at best.
    #[arg(long, default_value_t = 5_000)]
    moto_query_table_items: usize,
    /// Cold starts measured per Lambda runtime (each after an UpdateFunctionConfiguration).
    #[arg(long, default_value_t = 20)]
    lambda_cold_starts: usize,
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
    pub large: Option<large::LargeStats>,
    pub listing: Option<listing::ListingStats>,
    /// Cold and sequential warm invokes per runtime.
    pub lambda: Vec<lambda::LambdaStats>,
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
    let sizes = Sizes { large_mib: args.large_object_mib, list_keys: args.list_keys, query_items: args.query_table_items };
    suites.push(suite("kagami (memory)", &|_| memory.clone(), args.startup_runs, sizes, args)?);
    if !args.skip_durable {
        // Every server gets an empty data dir of its own.
        let durable = |i: usize| Kind::Kagami { binary: args.kagami.clone(), data_dir: Some(scratch.join(format!("data-{i}"))) };
        suites.push(suite("kagami (durable)", &durable, args.startup_runs, sizes, args)?);
    }
    if let Some(command) = &args.moto {
        let moto = Kind::Moto { command: command.split_whitespace().map(str::to_owned).collect() };
        let sizes = Sizes { large_mib: args.moto_large_object_mib, list_keys: args.moto_list_keys, query_items: args.moto_query_table_items };
        suites.push(suite("moto", &|_| moto.clone(), args.moto_startup_runs, sizes, args)?);
    }
    Ok(suites)
}

/// How large the S3 and DynamoDB measurements of one server are.
#[derive(Clone, Copy)]
struct Sizes {
    large_mib: u64,
    list_keys: usize,
    query_items: usize,
}

/// Measures startup `runs` times, the load of every selected scenario on one more
/// instance, and the large object on another. `kind(i)` is the i-th server started.
fn suite(label: &'static str, kind: &dyn Fn(usize) -> Kind, runs: usize, sizes: Sizes, args: &Args) -> Result<Suite> {
    let large_mib = sizes.large_mib;
    eprintln!("[kagami-bench] {label}: {runs} startups");
    let runs = runs.max(1);
    let mut startups = Vec::with_capacity(runs);
    let mut idle_rss_kib = 0;
    for i in 0..runs {
        let server = Server::start(&kind(i)).with_context(|| format!("start {label}"))?;
        startups.push(server.startup);
        if i == 0 {
            std::thread::sleep(IDLE_SETTLE);
            idle_rss_kib = procfs::status_kib(server.pid, "VmRSS")?;
        }
    }
    startups.sort();

    // moto runs functions in Docker containers: not what this measures.
    let is_kagami = matches!(kind(0), Kind::Kagami { .. });
    let groups: Vec<Group> = args.scenarios.iter().copied().filter(|g| *g != Group::Lambda || is_kagami).collect();
    let server = Server::start(&kind(runs))?;
    let target = Target::new(server.addr);
    let fixtures = target.setup(&groups, args.connections, sizes.query_items).with_context(|| format!("set up on {label}"))?;
    let duration = Duration::from_secs_f64(args.duration);
    let mut results = Vec::new();
    for scenario in Scenario::ALL.into_iter().filter(|s| groups.contains(&s.group()) && fixtures.supports(*s)) {
        eprintln!("[kagami-bench] {label}: {} for {:?} on {} connections", scenario.label(), duration, args.connections);
        let operation = target.operation(scenario, &fixtures)?;
        if let Some(warm_up) = scenario.warm_up() {
            load::run(server.addr, args.connections, warm_up, server.pid, &operation)?;
        }
        let stats = load::run(server.addr, args.connections, duration, server.pid, &operation)?;
        results.push((scenario, stats));
    }
    let peak_rss_kib = procfs::status_kib(server.pid, "VmHWM")?;
    drop(server);

    let large = if args.scenarios.contains(&Group::S3) && large_mib > 0 {
        eprintln!("[kagami-bench] {label}: PutObject and GetObject of {large_mib} MiB");
        let server = Server::start(&kind(runs + 1))?;
        let stats = large::run(&Target::new(server.addr), server.pid, large_mib).with_context(|| format!("large object on {label}"))?;
        Some(stats)
    } else {
        None
    };
    let listing = if args.scenarios.contains(&Group::S3) && sizes.list_keys > 0 {
        eprintln!("[kagami-bench] {label}: ListObjectsV2 over {} keys", sizes.list_keys);
        let server = Server::start(&kind(runs + 2))?;
        let stats = listing::run(&Target::new(server.addr), server.pid, sizes.list_keys, args.connections)
            .with_context(|| format!("listing on {label}"))?;
        Some(stats)
    } else {
        None
    };
    let lambda = if groups.contains(&Group::Lambda) && !fixtures.lambda_runtimes.is_empty() {
        eprintln!("[kagami-bench] {label}: Lambda cold starts ({} per runtime) and sequential warm invokes", args.lambda_cold_starts);
        let server = Server::start(&kind(runs + 3))?;
        lambda::run(&Target::new(server.addr), server.pid, &fixtures.lambda_runtimes, args.lambda_cold_starts)
            .with_context(|| format!("Lambda on {label}"))?
    } else {
        Vec::new()
    };
    Ok(Suite { label, startup: Startup { runs: startups, idle_rss_kib }, results, peak_rss_kib, large, listing, lambda })
}
