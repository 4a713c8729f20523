//! Object bodies as files. A body is written to `tmp/`, fsynced, renamed into
//! `objects/` and only then referenced by a metadata record, so a crash mid-PUT leaves
//! at most a temporary file, which the next start sweeps away.
//!
//! Durable mode keeps them under `<data-dir>/s3/`; ephemeral mode under
//! `<temp>/kagami-s3-<pid>`, removed when the service is dropped or reset.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const TMP: &str = "tmp";

/// Whether body files must reach the disk before they are acknowledged: set by the
/// durable store's `open`. Ephemeral bodies need no fsync: they die with the process.
static DURABLE_WRITES: AtomicBool = AtomicBool::new(false);

pub fn durable_writes() -> bool {
    DURABLE_WRITES.load(Ordering::Relaxed)
}
const OBJECTS: &str = "objects";
const EPHEMERAL_PREFIX: &str = "kagami-s3-";

pub struct Blobs {
    root: PathBuf,
    /// Ephemeral roots are removed on drop.
    ephemeral: bool,
}

impl Blobs {
    /// The store for `data_dir` (durable), or a fresh per-process temporary one.
    pub fn open(data_dir: Option<&Path>) -> io::Result<Blobs> {
        let (root, ephemeral) = match data_dir {
            Some(d) => (d.join("s3"), false),
            None => {
                sweep_dead_ephemeral_roots();
                (
                    std::env::temp_dir().join(format!("{EPHEMERAL_PREFIX}{}", std::process::id())),
                    true,
                )
            }
        };
        if ephemeral {
            let _ = std::fs::remove_dir_all(&root);
        } else {
            DURABLE_WRITES.store(true, Ordering::Relaxed);
        }
        let blobs = Blobs { root, ephemeral };
        blobs.create_dirs()?;
        // Temporary files are bodies whose PUT never finished.
        for entry in std::fs::read_dir(blobs.root.join(TMP))? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(blobs)
    }

    fn create_dirs(&self) -> io::Result<()> {
        std::fs::create_dir_all(self.root.join(TMP))?;
        std::fs::create_dir_all(self.root.join(OBJECTS))
    }

    /// A new temporary path for a body being received.
    pub fn temp_path(&self) -> PathBuf {
        self.root.join(TMP).join(kagami_core::ids::uuid_v4())
    }

    /// Where the object file `id` lives.
    pub fn object_path(&self, id: &str) -> PathBuf {
        self.root.join(OBJECTS).join(id)
    }

    /// Moves a complete, fsynced temporary file to its object path, durably.
    pub async fn commit(&self, temp: &Path, id: &str) -> io::Result<()> {
        let target = self.object_path(id);
        if self.ephemeral {
            // A rename within one directory tree costs less than a trip to the
            // blocking pool.
            return std::fs::rename(temp, target);
        }
        let temp = temp.to_path_buf();
        let dir = self.root.join(OBJECTS);
        tokio::task::spawn_blocking(move || {
            std::fs::rename(temp, target)?;
            // The rename is durable once the directory entry is.
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(io::Error::other)?
    }

    pub fn remove(&self, id: &str) {
        if let Err(e) = std::fs::remove_file(self.object_path(id))
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(id, error = %e, "could not remove an object file");
        }
    }

    /// Deletes object files no record refers to (a crash between rename and commit).
    pub fn sweep_orphans(&self, referenced: &HashSet<String>) -> io::Result<()> {
        for entry in std::fs::read_dir(self.root.join(OBJECTS))? {
            let entry = entry?;
            if !referenced.contains(entry.file_name().to_string_lossy().as_ref()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    /// Forgets every body (reset).
    pub fn clear(&self) {
        let _ = std::fs::remove_dir_all(self.root.join(OBJECTS));
        let _ = std::fs::remove_dir_all(self.root.join(TMP));
        if let Err(e) = self.create_dirs() {
            tracing::warn!(error = %e, "could not recreate the S3 body directories");
        }
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        if self.ephemeral {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Removes the ephemeral roots of kagami processes that are gone (killed before they
/// could clean up), where the OS tells which processes live (`/proc`).
fn sweep_dead_ephemeral_roots() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(EPHEMERAL_PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
