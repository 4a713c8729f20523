//! Object bodies as files. A body is written to `tmp/`, fsynced, renamed into
//! `objects/` and only then referenced by a metadata record, so a crash mid-PUT leaves
//! at most a temporary file, which the next start sweeps away.
//!
//! Durable mode keeps them under `<data-dir>/s3/`; ephemeral mode under
//! `<temp>/kagami-s3-<pid>`, removed when the service is dropped or reset.
//!
//! Ephemeral small bodies are kept where a file costs less. First in the process's
//! memory while [`HELD_BUDGET`] allows ([`Held`]): creating, and later unlinking, even
//! a file on a RAM file system costs a fifth of a whole small PUT's CPU. Then on a RAM
//! file system (`/dev/shm/kagami-s3-<pid>`) while it has room ([`Small`]): creating a
//! file on a disk file system can cost a millisecond of kernel time, ten times a whole
//! small PUT. They are written straight under `objects/` with a fresh name (nothing
//! survives a crash there, so no rename is needed to make them whole). Only then on
//! disk, so the bodies held in memory stay bounded.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
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
/// The RAM file system small ephemeral bodies go to, where there is one.
const RAM_DIR: &str = "/dev/shm";
/// Bodies up to this size may go to the RAM file system.
pub const SMALL_BODY_MAX: u64 = 64 * 1024;
/// Bytes of small bodies the RAM file system holds at most: a quarter of its free
/// space at startup, and never more than this.
const SMALL_BUDGET_MAX: u64 = 256 * 1024 * 1024;

/// Bytes of small ephemeral bodies held in the process's memory at most.
pub const HELD_BUDGET: u64 = 64 * 1024 * 1024;

pub struct Blobs {
    root: PathBuf,
    /// Ephemeral roots are removed on drop.
    ephemeral: bool,
    held: Option<Held>,
    small: Option<Small>,
}

/// Where a body's bytes are: a file (a received body's temporary file, a kept body's
/// object file), or memory.
pub enum BodySource {
    File(PathBuf),
    Memory(Bytes),
}

impl BodySource {
    /// Removes what a body that will not be kept left behind.
    pub async fn discard(&self) {
        if let BodySource::File(path) = self {
            let _ = tokio::fs::remove_file(path).await;
        }
    }

    /// The body opened for reading from its start.
    pub fn open(&self) -> io::Result<Opened> {
        Ok(match self {
            BodySource::File(path) => Opened::File(std::fs::File::open(path)?),
            BodySource::Memory(bytes) => Opened::Memory(bytes.clone()),
        })
    }
}

/// A kept body opened for reading: a file, or the bytes held in memory. Holding either
/// keeps the body readable after its object is overwritten or deleted.
pub enum Opened {
    File(std::fs::File),
    Memory(Bytes),
}

/// The small ephemeral bodies held in memory, by object file id.
#[derive(Default)]
struct Held {
    bodies: Mutex<HeldBodies>,
}

#[derive(Default)]
struct HeldBodies {
    /// Ids are random already: a fast hash does not weaken the map.
    map: HashMap<String, Bytes, foldhash::fast::RandomState>,
    /// Bytes of the bodies in `map`.
    used: u64,
}

/// The ephemeral small bodies kept on the RAM file system, by object file id, with
/// their sizes: an id not here is a file under `root`.
struct Small {
    root: PathBuf,
    /// `root/objects`, joined once; as text (the RAM file system's path is UTF-8), so
    /// that a body's path is one string append.
    objects: String,
    budget: u64,
    files: Mutex<SmallFiles>,
}

#[derive(Default)]
struct SmallFiles {
    /// Ids are random already: a fast hash does not weaken the map.
    sizes: HashMap<String, u64, foldhash::fast::RandomState>,
    /// Bytes of the committed files in `sizes`.
    used: u64,
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
        let small = if ephemeral { Small::open() } else { None };
        let blobs = Blobs {
            root,
            ephemeral,
            held: ephemeral.then(Held::default),
            small,
        };
        blobs.create_dirs()?;
        // Temporary files are bodies whose PUT never finished.
        for entry in std::fs::read_dir(blobs.root.join(TMP))? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(blobs)
    }

    fn create_dirs(&self) -> io::Result<()> {
        if let Some(small) = &self.small {
            std::fs::create_dir_all(small.root.join(TMP))?;
            std::fs::create_dir_all(small.root.join(OBJECTS))?;
        }
        std::fs::create_dir_all(self.root.join(TMP))?;
        std::fs::create_dir_all(self.root.join(OBJECTS))
    }

    /// Whether a body of `size` bytes (its Content-Length) is to be received into
    /// memory and held there.
    pub fn holds(&self, size: Option<u64>) -> bool {
        match (&self.held, size) {
            (Some(held), Some(n)) => n <= SMALL_BODY_MAX && held.bodies.lock().used + n <= HELD_BUDGET,
            _ => false,
        }
    }

    /// Where the kept body `id` is, without opening it.
    pub fn locate(&self, id: &str) -> BodySource {
        if let Some(held) = &self.held
            && let Some(bytes) = held.bodies.lock().map.get(id)
        {
            return BodySource::Memory(bytes.clone());
        }
        BodySource::File(self.object_path(id))
    }

    /// The kept body `id`, opened for reading.
    pub fn open_body(&self, id: &str) -> io::Result<Opened> {
        if let Some(held) = &self.held
            && let Some(bytes) = held.bodies.lock().map.get(id)
        {
            return Ok(Opened::Memory(bytes.clone()));
        }
        std::fs::File::open(self.object_path(id)).map(Opened::File)
    }

    /// Keeps `bytes` in memory as the body `id`.
    fn hold(&self, bytes: &Bytes, id: &str) -> io::Result<()> {
        let held = self
            .held
            .as_ref()
            .ok_or_else(|| io::Error::other("a body held in memory in durable mode"))?;
        let mut bodies = held.bodies.lock();
        bodies.used += bytes.len() as u64;
        if let Some(old) = bodies.map.insert(id.to_string(), bytes.clone()) {
            bodies.used = bodies.used.saturating_sub(old.len() as u64);
        }
        Ok(())
    }

    /// A new temporary path for a body being received.
    pub fn temp_path(&self) -> PathBuf {
        self.root.join(TMP).join(kagami_core::ids::uuid_v4())
    }

    /// A new temporary path for a body of `size` bytes (its Content-Length): on the RAM
    /// file system when the body is small and there is room left. A small body is
    /// written where it will stay, under a fresh name no record refers to until
    /// [`Blobs::commit_received`]: it needs no rename (nor a second name) to be kept.
    pub fn temp_path_for(&self, size: Option<u64>) -> PathBuf {
        match (&self.small, size) {
            (Some(small), Some(n))
                if n <= SMALL_BODY_MAX && small.files.lock().used + n <= small.budget =>
            {
                PathBuf::from(small.path_of(&kagami_core::ids::uuid_v4()))
            }
            _ => self.temp_path(),
        }
    }

    /// Where the object file `id` lives.
    pub fn object_path(&self, id: &str) -> PathBuf {
        if let Some(small) = &self.small
            && small.files.lock().sizes.contains_key(id)
        {
            return PathBuf::from(small.path_of(id));
        }
        self.root.join(OBJECTS).join(id)
    }

    /// Keeps the received body `staged` (`size` bytes) as a new object file; returns its
    /// id. A small body written in place by [`Blobs::temp_path_for`] keeps its name.
    pub async fn commit_received(&self, staged: &BodySource, size: u64) -> io::Result<String> {
        let temp = match staged {
            BodySource::File(path) => path,
            BodySource::Memory(bytes) => {
                let id = kagami_core::ids::uuid_v4();
                self.hold(bytes, &id)?;
                return Ok(id);
            }
        };
        if let Some(small) = &self.small
            && let Some(name) = temp
                .to_str()
                .and_then(|t| t.strip_prefix(small.objects.as_str()))
                .and_then(|t| t.strip_prefix('/'))
                .filter(|name| !name.is_empty() && !name.contains('/'))
        {
            let id = name.to_string();
            let mut files = small.files.lock();
            files.used += size;
            files.sizes.insert(id.clone(), size);
            return Ok(id);
        }
        let id = kagami_core::ids::uuid_v4();
        self.commit_file(temp, &id).await?;
        Ok(id)
    }

    /// Keeps a staged body as the object file `id`: bytes in memory as they are, a
    /// complete, fsynced temporary file moved to its object path, durably.
    pub async fn commit(&self, staged: &BodySource, id: &str) -> io::Result<()> {
        match staged {
            BodySource::Memory(bytes) => self.hold(bytes, id),
            BodySource::File(temp) => self.commit_file(temp, id).await,
        }
    }

    async fn commit_file(&self, temp: &Path, id: &str) -> io::Result<()> {
        if let Some(small) = &self.small
            && temp.starts_with(&small.root)
        {
            let size = std::fs::metadata(temp)?.len();
            std::fs::rename(temp, small.path_of(id))?;
            let mut files = small.files.lock();
            files.used += size;
            files.sizes.insert(id.to_string(), size);
            return Ok(());
        }
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
        if let Some(held) = &self.held {
            let mut bodies = held.bodies.lock();
            if let Some(old) = bodies.map.remove(id) {
                bodies.used = bodies.used.saturating_sub(old.len() as u64);
                return;
            }
        }
        let path = self.object_path(id);
        if let Some(small) = &self.small {
            let mut files = small.files.lock();
            if let Some(size) = files.sizes.remove(id) {
                files.used = files.used.saturating_sub(size);
            }
        }
        if let Err(e) = std::fs::remove_file(path)
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
        if let Some(held) = &self.held {
            *held.bodies.lock() = HeldBodies::default();
        }
        if let Some(small) = &self.small {
            *small.files.lock() = SmallFiles::default();
            let _ = std::fs::remove_dir_all(small.root.join(OBJECTS));
            let _ = std::fs::remove_dir_all(small.root.join(TMP));
        }
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
        if let Some(small) = &self.small {
            let _ = std::fs::remove_dir_all(&small.root);
        }
    }
}

impl Small {
    /// The path of the object file `id`.
    fn path_of(&self, id: &str) -> String {
        let mut path = String::with_capacity(self.objects.len() + 1 + id.len());
        path.push_str(&self.objects);
        path.push('/');
        path.push_str(id);
        path
    }

    /// This process's area of the RAM file system, or `None` without one (or without
    /// room in it).
    fn open() -> Option<Small> {
        let dir = Path::new(RAM_DIR);
        let budget = (ram_free_bytes(dir)? / 4).min(SMALL_BUDGET_MAX);
        if budget < SMALL_BODY_MAX {
            return None;
        }
        let root = dir.join(format!("{EPHEMERAL_PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join(TMP)).ok()?;
        std::fs::create_dir_all(root.join(OBJECTS)).ok()?;
        Some(Small {
            objects: root.join(OBJECTS).to_str()?.to_string(),
            root,
            budget,
            files: Mutex::new(SmallFiles::default()),
        })
    }
}

/// Free bytes of the RAM file system at `dir`, if it is one.
#[cfg(target_os = "linux")]
fn ram_free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `path` is NUL-terminated and `st` is a properly sized out-parameter that
    // statfs(2) fills on success, which is checked before it is read.
    let st = unsafe {
        if libc::statfs(path.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    #[allow(clippy::unnecessary_cast)]
    let (kind, avail, bsize) = (st.f_type as u64, st.f_bavail as u64, st.f_bsize as u64);
    (kind == TMPFS_MAGIC).then(|| avail.saturating_mul(bsize))
}

#[cfg(not(target_os = "linux"))]
fn ram_free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// Removes the ephemeral roots of kagami processes that are gone (killed before they
/// could clean up), where the OS tells which processes live (`/proc`).
fn sweep_dead_ephemeral_roots() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let dirs = [std::env::temp_dir(), PathBuf::from(RAM_DIR)];
    for entry in dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .flatten()
    {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(EPHEMERAL_PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn small_ephemeral_bodies_live_on_the_ram_file_system_until_removed() {
        let blobs = Blobs::open(None).unwrap();
        let Some(small) = &blobs.small else {
            // No RAM file system here: every body goes to the temporary directory.
            assert!(blobs.temp_path_for(Some(1)).starts_with(&blobs.root));
            return;
        };
        let temp = blobs.temp_path_for(Some(5));
        assert!(temp.starts_with(&small.root));
        assert!(
            blobs
                .temp_path_for(Some(SMALL_BODY_MAX + 1))
                .starts_with(&blobs.root)
        );
        assert!(blobs.temp_path_for(None).starts_with(&blobs.root));
        std::fs::write(&temp, b"hello").unwrap();
        blobs.commit(&BodySource::File(temp), "id-1").await.unwrap();
        let stored = blobs.object_path("id-1");
        assert!(stored.starts_with(&small.root));
        assert_eq!(std::fs::read(&stored).unwrap(), b"hello");
        assert_eq!(small.files.lock().used, 5);
        blobs.remove("id-1");
        assert!(!stored.exists());
        assert_eq!(small.files.lock().used, 0);
        assert!(blobs.object_path("id-1").starts_with(&blobs.root));

        // Received in place: kept under its own name, without a rename.
        let temp = blobs.temp_path_for(Some(3));
        std::fs::write(&temp, b"abc").unwrap();
        let id = blobs.commit_received(&BodySource::File(temp.clone()), 3).await.unwrap();
        assert_eq!(blobs.object_path(&id), temp);
        assert_eq!(std::fs::read(blobs.object_path(&id)).unwrap(), b"abc");
        assert_eq!(small.files.lock().used, 3);
        // A large body is renamed to a new id.
        let large = blobs.temp_path_for(None);
        std::fs::write(&large, b"large").unwrap();
        let id = blobs.commit_received(&BodySource::File(large.clone()), 5).await.unwrap();
        assert!(!large.exists());
        assert_eq!(std::fs::read(blobs.object_path(&id)).unwrap(), b"large");
    }

    #[tokio::test]
    async fn small_ephemeral_bodies_are_held_in_memory_up_to_the_budget() {
        // A root of its own: `Blobs::open(None)` is per process, and tests run side by side.
        let root = std::env::temp_dir().join(format!("kagami-s3-held-{}", kagami_core::ids::uuid_v4()));
        let blobs = Blobs {
            root: root.clone(),
            ephemeral: true,
            held: Some(Held::default()),
            small: None,
        };
        blobs.create_dirs().unwrap();
        assert!(blobs.holds(Some(0)));
        assert!(blobs.holds(Some(SMALL_BODY_MAX)));
        assert!(!blobs.holds(Some(SMALL_BODY_MAX + 1)));
        assert!(!blobs.holds(None), "a body of unknown length streams to a file");

        let id = blobs
            .commit_received(&BodySource::Memory(Bytes::from_static(b"held")), 4)
            .await
            .unwrap();
        let Ok(Opened::Memory(bytes)) = blobs.open_body(&id) else {
            panic!("a held body opens from memory");
        };
        assert_eq!(&bytes[..], b"held");
        blobs.remove(&id);
        assert_eq!(
            blobs.open_body(&id).err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );

        // Bodies sharing one buffer still count whole against the budget.
        let body = Bytes::from(vec![7u8; SMALL_BODY_MAX as usize]);
        let fits = HELD_BUDGET / SMALL_BODY_MAX;
        for i in 0..fits {
            assert!(blobs.holds(Some(SMALL_BODY_MAX)));
            blobs
                .commit(&BodySource::Memory(body.clone()), &format!("part-{i}"))
                .await
                .unwrap();
        }
        assert!(!blobs.holds(Some(1)), "the budget is spent");
        blobs.remove("part-0");
        assert!(blobs.holds(Some(SMALL_BODY_MAX)));
        blobs.clear();
        assert!(blobs.open_body("part-1").is_err());
        drop(blobs);
        assert!(!root.exists(), "an ephemeral root goes with its store");
    }

    #[test]
    fn durable_bodies_are_never_held_in_memory() {
        let dir = std::env::temp_dir().join(format!("kagami-s3-held-{}", kagami_core::ids::uuid_v4()));
        let blobs = Blobs {
            root: dir.clone(),
            ephemeral: false,
            held: None,
            small: None,
        };
        assert!(!blobs.holds(Some(1)));
        let _ = std::fs::remove_dir_all(dir);
    }
}
