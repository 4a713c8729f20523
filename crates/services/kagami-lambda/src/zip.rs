//! A minimal reader of zip archives (stored and deflated entries, no zip64), enough for
//! Lambda deployment packages: it lists entries from the central directory and unpacks
//! them below a directory, refusing names that would escape it and keeping Unix modes.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Why a package cannot be unpacked; Lambda answers these as InvalidZipFileException.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("Could not unzip uploaded file. Please check your file, then try to upload again.")]
    Malformed,
    #[error("Unsupported compression method {0} for {1}")]
    Method(u16, String),
    #[error("Entry name {0} leaves the package directory")]
    Traversal(String),
    #[error("Unzipped size must be smaller than {MAX_UNZIPPED} bytes")]
    TooLarge,
    #[error("writing {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
/// The end record is 22 bytes plus a comment of at most 65535.
const EOCD_MAX_SEARCH: usize = 22 + 65_535;
/// A package unpacks to at most 250 MB.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
pub const MAX_UNZIPPED: usize = 262_144_000;
/// `version made by` host 3: the external attributes hold a Unix mode in their top half.
const HOST_UNIX: u8 = 3;

fn u16_at(b: &[u8], at: usize) -> Result<u16, ZipError> {
    let s = b.get(at..at + 2).ok_or(ZipError::Malformed)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ZipError> {
    let s = b.get(at..at + 4).ok_or(ZipError::Malformed)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// One entry of the central directory.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    method: u16,
    compressed_size: usize,
    local_offset: usize,
    /// Unix permission bits when the archive recorded them.
    pub mode: Option<u32>,
    /// As the central directory claims; reading enforces it.
    uncompressed_size: usize,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// Lists the entries of an archive.
pub fn entries(data: &[u8]) -> Result<Vec<Entry>, ZipError> {
    let start = data.len().saturating_sub(EOCD_MAX_SEARCH);
    let eocd = (start..data.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(data, i).is_ok_and(|s| s == EOCD_SIGNATURE))
        .ok_or(ZipError::Malformed)?;
    let count = usize::from(u16_at(data, eocd + 10)?);
    let mut at = u32_at(data, eocd + 16)? as usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(data, at)? != CENTRAL_SIGNATURE {
            return Err(ZipError::Malformed);
        }
        let host = data.get(at + 5).copied().ok_or(ZipError::Malformed)?;
        let method = u16_at(data, at + 10)?;
        let compressed_size = u32_at(data, at + 20)? as usize;
        let uncompressed_size = u32_at(data, at + 24)? as usize;
        let name_len = usize::from(u16_at(data, at + 28)?);
        let extra_len = usize::from(u16_at(data, at + 30)?);
        let comment_len = usize::from(u16_at(data, at + 32)?);
        let external = u32_at(data, at + 38)?;
        let local_offset = u32_at(data, at + 42)? as usize;
        let name = data.get(at + 46..at + 46 + name_len).ok_or(ZipError::Malformed)?;
        let name = String::from_utf8_lossy(name).replace('\\', "/");
        let mode = (host == HOST_UNIX && external >> 16 != 0).then_some((external >> 16) & 0o7777);
        out.push(Entry { name, method, compressed_size, local_offset, mode, uncompressed_size });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// The uncompressed bytes of one entry.
pub fn read(data: &[u8], entry: &Entry) -> Result<Vec<u8>, ZipError> {
    let at = entry.local_offset;
    if u32_at(data, at)? != LOCAL_SIGNATURE {
        return Err(ZipError::Malformed);
    }
    let name_len = usize::from(u16_at(data, at + 26)?);
    let extra_len = usize::from(u16_at(data, at + 28)?);
    let begin = at + 30 + name_len + extra_len;
    let raw = data.get(begin..begin + entry.compressed_size).ok_or(ZipError::Malformed)?;
    match entry.method {
        0 => Ok(raw.to_vec()),
        // The claimed size bounds the output, so a forged header cannot inflate without end.
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, entry.uncompressed_size).map_err(|_| ZipError::Malformed),
        m => Err(ZipError::Method(m, entry.name.clone())),
    }
}

/// The path of an entry below `root`, or an error when its name is absolute or climbs out.
fn target(root: &Path, name: &str) -> Result<PathBuf, ZipError> {
    let mut path = root.to_path_buf();
    for part in Path::new(name).components() {
        match part {
            Component::Normal(p) => path.push(p),
            Component::CurDir => {}
            _ => return Err(ZipError::Traversal(name.to_string())),
        }
    }
    Ok(path)
}

/// What the archive's entries add up to once unpacked, as its directory claims.
pub fn unzipped_size(data: &[u8]) -> Result<u64, ZipError> {
    Ok(entries(data)?.iter().map(|e| e.uncompressed_size as u64).fold(0, u64::saturating_add))
}

/// Checks that the archive is readable and every name stays inside the package.
pub fn validate(data: &[u8]) -> Result<(), ZipError> {
    let entries = entries(data)?;
    if entries.iter().map(|e| e.uncompressed_size).fold(0usize, usize::saturating_add) > MAX_UNZIPPED {
        return Err(ZipError::TooLarge);
    }
    for e in entries {
        target(Path::new("/"), &e.name)?;
        if !matches!(e.method, 0 | 8) {
            return Err(ZipError::Method(e.method, e.name));
        }
    }
    Ok(())
}

/// Unpacks the archive into `root` (created), with the modes it recorded.
pub fn extract(data: &[u8], root: &Path) -> Result<(), ZipError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| ZipError::Io(p, e)
    };
    fs::create_dir_all(root).map_err(io(root))?;
    for e in entries(data)? {
        let path = target(root, &e.name)?;
        if e.is_dir() {
            fs::create_dir_all(&path).map_err(io(&path))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let bytes = read(data, &e)?;
        let mut file = fs::File::create(&path).map_err(io(&path))?;
        file.write_all(&bytes).map_err(io(&path))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Without a recorded mode, files are readable; a package's bootstrap must run.
            let mode = e.mode.unwrap_or(0o644) | 0o400;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored-entry archive built by hand: one file `name` with `body`, mode 0755.
    fn archive(name: &str, body: &[u8]) -> Vec<u8> {
        let mut z = Vec::new();
        z.extend_from_slice(&LOCAL_SIGNATURE.to_le_bytes());
        z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&(body.len() as u32).to_le_bytes());
        z.extend_from_slice(&(body.len() as u32).to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(body);
        let cd = z.len();
        z.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
        z.extend_from_slice(&[20, HOST_UNIX, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&(body.len() as u32).to_le_bytes());
        z.extend_from_slice(&(body.len() as u32).to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&((0o100_755u32) << 16).to_le_bytes());
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        let cd_len = z.len() - cd;
        z.extend_from_slice(&EOCD_SIGNATURE.to_le_bytes());
        z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        z.extend_from_slice(&(cd_len as u32).to_le_bytes());
        z.extend_from_slice(&(cd as u32).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    #[test]
    fn extract_keeps_executable_bit() {
        let dir = tempfile::tempdir().unwrap();
        extract(&archive("bin/bootstrap", b"#!/bin/sh\n"), dir.path()).unwrap();
        let meta = fs::metadata(dir.path().join("bin/bootstrap")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn traversal_is_rejected() {
        assert!(matches!(validate(&archive("../evil", b"x")), Err(ZipError::Traversal(_))));
        assert!(matches!(validate(&archive("/etc/evil", b"x")), Err(ZipError::Traversal(_))));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(validate(b"not a zip"), Err(ZipError::Malformed)));
    }
}
