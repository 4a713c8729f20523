//! Execution environments: one runtime process (in its own process group) with its own
//! Runtime API server, running one invocation at a time, kept warm between invokes of
//! the same function revision and killed — with everything it started — on timeout,
//! when idle too long, and when kagami stops.

use crate::runtime_api::{Invocation, Outcome, Server};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::unix::pipe;
use tokio::sync::watch;

/// Output kept per invocation for `LogType: Tail` (only the last 4 KB is returned).
const LOG_BUFFER_LIMIT: usize = 64 * 1024;
/// How long an unused environment stays warm.
const DEFAULT_IDLE: Duration = Duration::from_secs(300);
const IDLE_ENV: &str = "KAGAMI_LAMBDA_IDLE_SECONDS";

/// How to start a runtime process.
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
    pub task_root: PathBuf,
    /// Variables the function sees, besides AWS_LAMBDA_RUNTIME_API.
    pub vars: Vec<(String, String)>,
}

/// Why an invocation got no answer.
#[derive(Debug)]
pub enum Failure {
    Timeout,
    /// The runtime exited; its exit status as text.
    Exited(String),
}

pub struct Environment {
    server: Server,
    pid: i32,
    exited: watch::Receiver<Option<String>>,
    output: Arc<Output>,
    /// The CloudWatch Logs stream of this environment (AWS_LAMBDA_LOG_STREAM_NAME).
    pub log_stream: String,
    /// Writes this environment's invocations to that stream, set on first use.
    pub log: Option<crate::logs::LogWriter>,
    /// Whether an invocation ran here already: the first one keeps what init printed.
    served: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("starting the Runtime API server: {0}")]
    Server(std::io::Error),
    #[error("starting {0}: {1}")]
    Spawn(String, std::io::Error),
}

impl Environment {
    pub async fn start(launch: Launch) -> Result<Environment, StartError> {
        let server = Server::start().await.map_err(StartError::Server)?;
        let mut cmd = tokio::process::Command::new(&launch.program);
        cmd.args(&launch.args)
            .current_dir(&launch.task_root)
            .env_clear()
            .envs(launch.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", server.addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; the closure touches nothing else.
        unsafe {
            cmd.pre_exec(|| {
                // If kagami dies (even by SIGKILL), the runtime dies with it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| StartError::Spawn(launch.program.display().to_string(), e))?;
        let pid = child.id().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        let log_stream = launch.vars.iter().find(|(k, _)| k == "AWS_LAMBDA_LOG_STREAM_NAME").map(|(_, v)| v.clone()).unwrap_or_default();
        let mut pipes = Vec::new();
        let fds = [child.stdout.take().map(|o| o.into_owned_fd()), child.stderr.take().map(|e| e.into_owned_fd())];
        for fd in fds.into_iter().flatten() {
            let fd = fd.map_err(|e| StartError::Spawn(launch.program.display().to_string(), e))?;
            pipes.push(pipe::Receiver::from_owned_fd(fd).map_err(|e| StartError::Spawn(launch.program.display().to_string(), e))?);
        }
        let output = Arc::new(Output { logs: Mutex::new(Vec::new()), pipes });
        for i in 0..output.pipes.len() {
            let output = Arc::clone(&output);
            tokio::spawn(async move { output.drain(i).await });
        }
        let (tx, exited) = watch::channel(None);
        tokio::spawn(async move {
            let status = child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
            let _ = tx.send(Some(status));
        });
        Ok(Environment {
            server,
            pid,
            exited,
            output,
            log_stream,
            log: None,
            served: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Runs one invocation; the caller keeps the environment only on an answer.
    pub async fn invoke(&self, inv: Invocation, timeout: Duration) -> Result<Outcome, Failure> {
        // Init's output (an import error, top-level prints) belongs to the first invocation.
        if self.served.swap(true, std::sync::atomic::Ordering::Relaxed) {
            self.output.logs.lock().clear();
        }
        let answer = self.server.expect(&inv.request_id);
        let mut exited = self.exited.clone();
        if self.server.events.send(inv).await.is_err() {
            return Err(Failure::Exited("runtime API closed".into()));
        }
        let died = async {
            let status = exited.wait_for(Option::is_some).await.ok().and_then(|s| s.clone());
            status.unwrap_or_default()
        };
        tokio::select! {
            // An init error is posted just before the runtime exits: the answer wins.
            biased;
            outcome = answer => match outcome {
                Ok(o) => Ok(o),
                Err(_) => Err(Failure::Exited("no answer".into())),
            },
            status = died => Err(Failure::Exited(status)),
            () = tokio::time::sleep(timeout) => Err(Failure::Timeout),
        }
    }

    /// The output of the current invocation so far: everything the runtime wrote before
    /// it answered is in the pipes by now, so reading them dry (no waiting) gets it all.
    pub fn output(&self) -> Vec<u8> {
        let mut logs = self.output.logs.lock();
        for p in &self.output.pipes {
            Output::read_available(p, &mut logs);
        }
        logs.clone()
    }

    /// When the runtime finished initialising (first asked for an event).
    pub fn ready_at(&self) -> Option<Instant> {
        self.server.ready.get().copied()
    }

    pub fn is_alive(&self) -> bool {
        self.exited.borrow().is_none()
    }

    fn kill(&self) {
        if self.pid > 0 {
            // SAFETY: kill(2) with a negative pid signals the process group we created.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The runtime's stdout and stderr, and what was read from them for this invocation.
/// Reads happen under the `logs` lock, so that `output` reading the pipes dry sees every
/// byte already taken out by the drain tasks.
struct Output {
    logs: Mutex<Vec<u8>>,
    pipes: Vec<pipe::Receiver>,
}

impl Output {
    async fn drain(&self, i: usize) {
        let Some(p) = self.pipes.get(i) else { return };
        while p.readable().await.is_ok() {
            if !Output::read_available(p, &mut self.logs.lock()) {
                break;
            }
        }
    }

    /// Appends what `p` holds now; false once it is closed.
    fn read_available(p: &pipe::Receiver, logs: &mut Vec<u8>) -> bool {
        let mut buf = [0u8; 8192];
        loop {
            match p.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    logs.extend_from_slice(buf.get(..n).unwrap_or_default());
                    if logs.len() > LOG_BUFFER_LIMIT {
                        let cut = logs.len() - LOG_BUFFER_LIMIT;
                        logs.drain(..cut);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

/// Warm environments per function revision (`account/region/name#revision`).
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<(Instant, Environment)>>>,
}

impl Pool {
    pub fn take(&self, key: &str) -> Option<Environment> {
        let mut idle = self.idle.lock();
        let list = idle.get_mut(key)?;
        while let Some((_, env)) = list.pop() {
            if env.is_alive() {
                return Some(env);
            }
        }
        None
    }

    pub fn give_back(&self, key: &str, env: Environment) {
        if env.is_alive() {
            self.idle.lock().entry(key.to_string()).or_default().push((Instant::now(), env));
        }
    }

    /// Stops the warm environments of a function (deleted or updated).
    pub fn retire(&self, function_key: &str) {
        let prefix = format!("{function_key}#");
        let gone: Vec<_> = {
            let mut idle = self.idle.lock();
            let keys: Vec<String> = idle.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
            keys.into_iter().filter_map(|k| idle.remove(&k)).collect()
        };
        drop(gone);
    }

    pub fn clear(&self) {
        let all = std::mem::take(&mut *self.idle.lock());
        drop(all);
    }

    /// Stops environments idle for longer than the idle limit.
    pub fn reap(&self) {
        let limit = idle_limit();
        let mut gone = Vec::new();
        {
            let mut idle = self.idle.lock();
            for list in idle.values_mut() {
                let (keep, old): (Vec<_>, Vec<_>) = std::mem::take(list).into_iter().partition(|(t, _)| t.elapsed() < limit);
                *list = keep;
                gone.extend(old);
            }
            idle.retain(|_, l| !l.is_empty());
        }
        drop(gone);
    }
}

fn idle_limit() -> Duration {
    std::env::var(IDLE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEFAULT_IDLE, Duration::from_secs)
}

/// Reaps idle environments every few seconds while the pool lives.
pub fn start_reaper(pool: &Arc<Pool>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let weak = Arc::downgrade(pool);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let Some(pool) = weak.upgrade() else { break };
            pool.reap();
        }
    });
}
