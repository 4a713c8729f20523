//! Deployment packages as files, named by their SHA-256 so that functions sharing a
//! package share the file. A package is written to `tmp/`, fsynced, renamed into
//! `zips/` and only then referenced by a function record, so a crash leaves at most a
//! temporary file. Unpacked trees live under a per-process work directory, one per
//! package, made on first use.
//!
//! Durable mode keeps packages under `<data-dir>/lambda/`; ephemeral mode and the
//! unpacked trees under `<temp>/kagami-lambda-<pid>`, removed on drop.

use crate::zip;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const EPHEMERAL_PREFIX: &str = "kagami-lambda-";

pub struct CodeStore {
    /// `zips/` and `tmp/` live here.
    packages: PathBuf,
    /// Unpacked packages and runtime bootstraps; always per process.
    work: PathBuf,
    durable: bool,
}

/// A package's identity: base64 SHA-256 as Lambda reports it, hex for file names.
pub struct Digests {
    pub base64: String,
    pub hex: String,
}

pub fn digests(zip: &[u8]) -> Digests {
    use base64::Engine;
    let sum = Sha256::digest(zip);
    Digests { base64: base64::engine::general_purpose::STANDARD.encode(sum), hex: hex_string(&sum) }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CodeStore {
    pub fn open(data_dir: Option<&Path>) -> io::Result<CodeStore> {
        CodeStore::open_named(data_dir, "lambda", EPHEMERAL_PREFIX)
    }

    /// A store of its own (layer archives): packages under `<data-dir>/<dir>`, work
    /// trees under `<temp>/<prefix><pid>`.
    pub fn open_named(data_dir: Option<&Path>, dir: &str, prefix: &str) -> io::Result<CodeStore> {
        let work = std::env::temp_dir().join(format!("{prefix}{}", std::process::id()));
        let _ = fs::remove_dir_all(&work);
        let (packages, durable) = match data_dir {
            Some(d) => (d.join(dir), true),
            None => (work.join("packages"), false),
        };
        fs::create_dir_all(packages.join("zips"))?;
        fs::create_dir_all(packages.join("tmp"))?;
        fs::create_dir_all(work.join("code"))?;
        for entry in fs::read_dir(packages.join("tmp"))? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(CodeStore { packages, work, durable })
    }

    fn zip_path(&self, hex: &str) -> PathBuf {
        self.packages.join("zips").join(format!("{hex}.zip"))
    }

    /// Stores a package (once per content) before any record names it.
    pub fn put(&self, hex: &str, zip: &[u8]) -> io::Result<()> {
        let path = self.zip_path(hex);
        if path.exists() {
            return Ok(());
        }
        let tmp = self.packages.join("tmp").join(format!("{hex}.{}", kagami_core::ids::upper_alnum(8)));
        let mut file = fs::File::create(&tmp)?;
        file.write_all(zip)?;
        if self.durable {
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        if self.durable {
            // The rename itself must reach the disk before a record names the package.
            fs::File::open(self.packages.join("zips"))?.sync_all()?;
        }
        Ok(())
    }

    /// Removes packages no function names: left by a crash between storing a package
    /// and committing the record that names it, or by a delete cut short.
    pub fn sweep(&self, referenced: &std::collections::HashSet<&str>) {
        let Ok(entries) = fs::read_dir(self.packages.join("zips")) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let hex = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if !referenced.contains(hex) {
                let _ = fs::remove_file(&path);
            }
        }
    }

    pub fn get(&self, hex: &str) -> io::Result<Vec<u8>> {
        fs::read(self.zip_path(hex))
    }

    pub fn remove(&self, hex: &str) {
        let _ = fs::remove_file(self.zip_path(hex));
        let _ = fs::remove_dir_all(self.work.join("code").join(hex));
    }

    /// The unpacked package, unpacking it on first use.
    pub fn task_root(&self, hex: &str) -> Result<PathBuf, UnpackError> {
        let root = self.work.join("code").join(hex);
        if root.join(".complete").exists() {
            return Ok(root);
        }
        let zip = self.get(hex).map_err(UnpackError::Read)?;
        let partial = self.work.join("code").join(format!("{hex}.{}", kagami_core::ids::upper_alnum(8)));
        zip::extract(&zip, &partial)?;
        fs::write(partial.join(".complete"), b"").map_err(UnpackError::Read)?;
        // Another invoke may have unpacked it meanwhile: either tree is the same.
        if fs::rename(&partial, &root).is_err() {
            let _ = fs::remove_dir_all(&partial);
        }
        Ok(root)
    }

    /// The per-process directory for trees made from the packages.
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// Writes a runtime bootstrap program once per process and returns its path.
    pub fn bootstrap(&self, name: &str, source: &str) -> io::Result<PathBuf> {
        let path = self.work.join(name);
        if !path.exists() {
            fs::write(&path, source)?;
        }
        Ok(path)
    }

    /// Removes every package (reset).
    pub fn clear(&self) {
        let _ = fs::remove_dir_all(self.packages.join("zips"));
        let _ = fs::remove_dir_all(self.work.join("code"));
        let _ = fs::create_dir_all(self.packages.join("zips"));
        let _ = fs::create_dir_all(self.work.join("code"));
    }
}

impl Drop for CodeStore {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.work);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("reading the package: {0}")]
    Read(io::Error),
    #[error(transparent)]
    Zip(#[from] zip::ZipError),
}
