//! Starting the servers under test on a free loopback port and timing their first answer.

use crate::http::{Conn, encode_request};
use anyhow::{Context, Result, bail};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_INTERVAL: Duration = Duration::from_micros(200);
/// How long a server gets to stop cleanly before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub enum Kind {
    Kagami { binary: PathBuf, data_dir: Option<PathBuf> },
    /// moto's server command, e.g. `python3 -m moto.server`; `-H` and `-p` are appended.
    Moto { command: Vec<String> },
}

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    /// From spawn to the first complete HTTP answer.
    pub startup: Duration,
}

impl Server {
    pub fn start(kind: &Kind) -> Result<Server> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let (mut command, probe_path) = match kind {
            Kind::Kagami { binary, data_dir } => {
                let mut c = Command::new(binary);
                c.arg("--listen").arg(addr.to_string());
                if let Some(dir) = data_dir {
                    c.arg("--data-dir").arg(dir);
                }
                // The benchmark decides the configuration, not the caller's shell.
                for name in ["SERVICES", "PERSISTENCE", "DATA_DIR", "DEBUG", "KAGAMI_VERIFY_SIGV4", "RUST_LOG"] {
                    c.env_remove(name);
                }
                (c, "/_kagami/health")
            }
            Kind::Moto { command } => {
                let (program, args) = command.split_first().context("empty moto command")?;
                let mut c = Command::new(program);
                c.args(args).args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                (c, "/moto-api/")
            }
        };
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let probe = encode_request("GET", &addr.to_string(), probe_path, &[], b"");

        let started = Instant::now();
        let child = command.spawn().with_context(|| format!("start {kind:?}"))?;
        let pid = child.id();
        let mut server = Server { child, addr, pid, startup: Duration::ZERO };
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("{kind:?} exited with {status} before answering");
            }
            if Conn::new(addr).roundtrip(&probe).is_ok() {
                server.startup = started.elapsed();
                return Ok(server);
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                bail!("{kind:?} did not answer within {STARTUP_TIMEOUT:?}");
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first: kagami in memory mode keeps S3 bodies in a temporary directory
        // it removes on a clean stop, and a SIGKILL would leave them in /tmp.
        let terminated = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if terminated {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr()?.port())
}
