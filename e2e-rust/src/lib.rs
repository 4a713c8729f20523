//! The harness the aws-sdk-rust end-to-end tests in `tests/` share: start the release
//! binary on a free port, and build an SDK configuration pointed at it.

use aws_credential_types::Credentials;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Kagami {
    child: Child,
    pub endpoint: String,
}

impl Drop for Kagami {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start() -> Kagami {
    let binary = std::env::var("KAGAMI_BINARY").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/kagami").to_string()
    });
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start kagami (build it with cargo build --release -p kagami)");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        let line = lines.next().expect("kagami exited before listening").expect("read stdout");
        if let Some(rest) = line.split("kagami listening on ").nth(1) {
            break rest.trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Kagami { child, endpoint }
}

pub async fn config(endpoint: &str, key: &str, secret: &str, token: Option<String>) -> aws_config::SdkConfig {
    aws_config::from_env()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, token, None, "e2e"))
        .load()
        .await
}

