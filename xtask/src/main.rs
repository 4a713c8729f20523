//! `cargo xtask <command>`: the only writer of generated files in this repository.
//!
//! - `models`: downloads the pinned botocore sdist with pip, strips documentation
//!   from every service model, writes the compressed models and their index into
//!   kagami-model, copies botocore's protocol test vectors and the SigV4 test suite
//!   into the crates that test against them, and regenerates the typed shapes of the
//!   implemented services.
//! - `codegen`: only the typed shapes, from the models already committed.
//! - `coverage`: writes docs/coverage.md from what the built binary reports.

mod botocore;
mod codegen;
mod coverage;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The one place the botocore release is pinned.
pub const BOTOCORE_VERSION: &str = "1.44.8";

/// Services with a provider crate; the generator writes typed shapes for these.
pub const IMPLEMENTED: &[(&str, &str)] = &[("dynamodb", "kagami-dynamodb"), ("events", "kagami-events"), ("kinesis", "kagami-kinesis"), ("lambda", "kagami-lambda"), ("logs", "kagami-logs"), ("s3", "kagami-s3"), ("sns", "kagami-sns"), ("sqs", "kagami-sqs"), ("sts", "kagami-sts")];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root()?;
    match args.first().map(String::as_str) {
        Some("models") => {
            let sdist = botocore::fetch_sdist(&root)?;
            botocore::write_models(&root, &sdist)?;
            botocore::copy_test_vectors(&root, &sdist)?;
            codegen::run(&root)?;
            println!("next: cargo build --release -p kagami && cargo xtask coverage");
            Ok(())
        }
        Some("codegen") => codegen::run(&root),
        Some("coverage") => coverage::run(&root),
        _ => bail!("usage: cargo xtask models | codegen | coverage"),
    }
}

fn repo_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).context("xtask has no parent directory")
}
