//! The interpreter behind a runtime family, asked once per process where it really is.
//!
//! `python3` on PATH is often a version manager's shim (pyenv, asdf: a shell script
//! that runs another program to pick the interpreter), which costs more than the
//! interpreter's own start. And Python's site processing runs every `.pth` file of the
//! installation, some of which import modules. So the first start runs the interpreter
//! once to learn its real executable and, for Python, its `sys.path` with site
//! processing (without the user site, which Lambda does not have); every runtime after
//! that starts the executable directly with `-S -s`, handing the bootstrap the site
//! directories to append (see bootstrap/python.py).

use crate::runtimes::{self, Family};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

/// A probe that takes longer than this is abandoned: the command is run as configured.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

const PYTHON_PROBE: &str = "import os, sys\nprint(sys.executable)\nprint(os.pathsep.join(p for p in sys.path if p))";
const NODE_PROBE: &str = "process.stdout.write(process.execPath + '\\n')";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpreter {
    pub program: PathBuf,
    /// Python only: the site directories, joined by the path separator.
    pub site: Option<String>,
}

fn cache() -> &'static Mutex<HashMap<String, Interpreter>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Interpreter>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The interpreter of `family` (none for `provided.*`), probed on first use.
pub async fn resolve(family: Family) -> Option<Interpreter> {
    let command = runtimes::interpreter(family)?;
    if let Some(known) = cache().lock().get(&command) {
        return Some(known.clone());
    }
    // Two first starts may both probe: the answers are the same.
    let found = probe(family, &command).await.unwrap_or_else(|| Interpreter { program: PathBuf::from(&command), site: None });
    cache().lock().insert(command, found.clone());
    Some(found)
}

/// Probes in the background, so that the first invoke of a new function does not wait.
pub fn prewarm(runtime: &str) {
    let Some(family) = runtimes::family(runtime).filter(|f| *f != Family::Provided) else { return };
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(async move {
            resolve(family).await;
        });
    }
}

async fn probe(family: Family, command: &str) -> Option<Interpreter> {
    let mut cmd = tokio::process::Command::new(command);
    match family {
        Family::Python => cmd.args(["-s", "-c", PYTHON_PROBE]),
        Family::Node => cmd.args(["-e", NODE_PROBE]),
        Family::Provided => return None,
    };
    // The environment a runtime gets: PATH (which picks the shim's version) and no
    // PYTHONPATH of kagami's own.
    cmd.env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PROBE_TIMEOUT, cmd.output()).await.ok()?.ok()?;
    if !output.status.success() {
        return None;
    }
    parse(family, &String::from_utf8_lossy(&output.stdout))
}

fn parse(family: Family, stdout: &str) -> Option<Interpreter> {
    let mut lines = stdout.lines();
    let program = lines.next().map(str::trim).filter(|p| !p.is_empty())?;
    let program = PathBuf::from(program);
    if !program.is_absolute() {
        return None;
    }
    let site = match family {
        Family::Python => Some(lines.next().unwrap_or_default().trim().to_string()),
        _ => None,
    };
    Some(Interpreter { program, site })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_executable_and_the_site_directories() {
        let python = parse(Family::Python, "/usr/bin/python3.12\n/usr/lib/python3.12:/usr/lib/python3/dist-packages\n");
        assert_eq!(
            python,
            Some(Interpreter {
                program: PathBuf::from("/usr/bin/python3.12"),
                site: Some("/usr/lib/python3.12:/usr/lib/python3/dist-packages".into())
            })
        );
        let node = parse(Family::Node, "/usr/bin/node\n");
        assert_eq!(node, Some(Interpreter { program: PathBuf::from("/usr/bin/node"), site: None }));
        // An embedded interpreter may not know its executable: run the command instead.
        assert_eq!(parse(Family::Python, "\n/x\n"), None);
        assert_eq!(parse(Family::Python, "python3\n/x\n"), None);
    }
}
