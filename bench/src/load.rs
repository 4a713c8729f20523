//! The load loop: N keep-alive connections, one thread each, for a fixed duration.

use crate::http::Conn;
use crate::procfs;
use anyhow::Result;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub enum Outcome {
    /// One operation done with this many HTTP requests.
    Done { requests: u32 },
    /// Nothing left to do (the queue is empty): this connection stops.
    Drained,
}

pub struct LoadStats {
    pub ops: u64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Per-operation latencies in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Server CPU (user + system) over the run, in clock ticks.
    pub server_cpu_ticks: u64,
}

impl LoadStats {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn percentile_us(&self, p: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = (p / 100.0 * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)]
    }

    /// Server CPU time per operation in microseconds.
    pub fn cpu_us_per_op(&self, ticks_per_sec: u64) -> f64 {
        if self.ops == 0 {
            return 0.0;
        }
        self.server_cpu_ticks as f64 * 1e6 / ticks_per_sec as f64 / self.ops as f64
    }
}

struct WorkerStats {
    ops: u64,
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
}

pub fn run<F>(addr: SocketAddr, connections: usize, duration: Duration, server_pid: u32, op: F) -> Result<LoadStats>
where
    F: Fn(&mut Conn) -> Result<Outcome> + Sync,
{
    let cpu_before = procfs::cpu_ticks(server_pid)?;
    let started = Instant::now();
    let workers: Vec<WorkerStats> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..connections)
            .map(|_| {
                let op = &op;
                scope.spawn(move || {
                    let mut conn = Conn::new(addr);
                    let mut w = WorkerStats { ops: 0, requests: 0, errors: 0, first_error: None, latencies_us: Vec::with_capacity(64 * 1024) };
                    while started.elapsed() < duration {
                        let t = Instant::now();
                        match op(&mut conn) {
                            Ok(Outcome::Done { requests }) => {
                                w.latencies_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                                w.ops += 1;
                                w.requests += u64::from(requests);
                            }
                            Ok(Outcome::Drained) => break,
                            Err(e) => {
                                w.errors += 1;
                                w.first_error.get_or_insert_with(|| format!("{e:#}"));
                            }
                        }
                    }
                    w
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let elapsed = started.elapsed();
    let cpu_after = procfs::cpu_ticks(server_pid)?;

    let mut stats = LoadStats {
        ops: 0,
        requests: 0,
        errors: 0,
        first_error: None,
        elapsed,
        latencies_us: Vec::new(),
        server_cpu_ticks: cpu_after.saturating_sub(cpu_before),
    };
    for w in workers {
        stats.ops += w.ops;
        stats.requests += w.requests;
        stats.errors += w.errors;
        if stats.first_error.is_none() {
            stats.first_error = w.first_error;
        }
        stats.latencies_us.extend(w.latencies_us);
    }
    stats.latencies_us.sort_unstable();
    Ok(stats)
}
