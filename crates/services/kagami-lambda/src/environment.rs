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
use tokio::io::AsyncReadExt;
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
    logs: Arc<Mutex<Vec<u8>>>,
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
        let logs = Arc::new(Mutex::new(Vec::new()));
        for pipe in [child.stdout.take().map(Pipe::Out), child.stderr.take().map(Pipe::Err)].into_iter().flatten() {
            let logs = Arc::clone(&logs);
            tokio::spawn(async move { pipe.drain(logs).await });
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
            logs,
        })
    }

    /// Runs one invocation; the caller keeps the environment only on an answer.
    pub async fn invoke(&self, inv: Invocation, timeout: Duration) -> Result<Outcome, Failure> {
        self.logs.lock().clear();
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

    /// The output of the current invocation so far (after a moment for the pipes to drain).
    pub async fn output(&self) -> Vec<u8> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.logs.lock().clone()
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

enum Pipe {
    Out(tokio::process::ChildStdout),
    Err(tokio::process::ChildStderr),
}

impl Pipe {
    async fn drain(self, logs: Arc<Mutex<Vec<u8>>>) {
        let mut buf = [0u8; 8192];
        let mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match self {
            Pipe::Out(o) => Box::new(o),
            Pipe::Err(e) => Box::new(e),
        };
        while let Ok(n) = reader.read(&mut buf).await {
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else { break };
            let mut logs = logs.lock();
            logs.extend_from_slice(chunk);
            if logs.len() > LOG_BUFFER_LIMIT {
                let cut = logs.len() - LOG_BUFFER_LIMIT;
                logs.drain(..cut);
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
