//! Large-object throughput: one PutObject of a generated body streamed to the socket
//! with its Content-Length announced, then one GetObject read to the end and checked
//! byte for byte, neither ever held whole in memory, on both sides of the wire if the
//! server streams too: the server's peak RSS (VmHWM) over both tells.

use crate::http::{Conn, Streamed};
use crate::procfs;
use crate::s3::BUCKET;
use crate::scenarios::Target;
use crate::sigv4::{UNSIGNED_PAYLOAD, payload_hash, uri_encode_path};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::time::{Duration, Instant};

pub const MIB: u64 = 1024 * 1024;
/// The body is written and checked one MiB at a time.
const CHUNK: usize = MIB as usize;
const KEY: &str = "large-object";

pub struct LargeStats {
    pub bytes: u64,
    pub put: Duration,
    pub get: Duration,
    /// Server CPU (user + system) in clock ticks over each transfer.
    pub put_cpu_ticks: u64,
    pub get_cpu_ticks: u64,
    /// VmHWM after both transfers, on a server started for them alone.
    pub peak_rss_kib: u64,
}

impl LargeStats {
    pub fn put_mb_per_sec(&self) -> f64 {
        mb_per_sec(self.bytes, self.put)
    }

    pub fn get_mb_per_sec(&self) -> f64 {
        mb_per_sec(self.bytes, self.get)
    }

    /// Server CPU seconds per GiB moved, so runs of different sizes compare.
    pub fn cpu_secs_per_gib(&self, ticks: u64, ticks_per_sec: u64) -> f64 {
        let gib = self.bytes as f64 / (1024.0 * MIB as f64);
        ticks as f64 / ticks_per_sec.max(1) as f64 / gib.max(1e-12)
    }
}

/// Megabytes (10⁶ bytes) per second.
fn mb_per_sec(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64().max(1e-9)
}

/// The body, one MiB chunk after another: a fixed pseudo-random MiB whose first eight
/// bytes carry the chunk's index, so a chunk served out of place is caught. Moving to
/// another chunk rewrites those eight bytes only, keeping the client's cost per byte
/// to the socket copy.
struct Pattern {
    chunk: Vec<u8>,
    index: u64,
}

impl Pattern {
    fn new() -> Pattern {
        // xorshift64: incompressible enough that nothing on the way can shortcut it.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let chunk: Vec<u8> = (0..CHUNK / 8)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()
            })
            .collect();
        let mut pattern = Pattern { chunk, index: 0 };
        pattern.stamp(0);
        pattern
    }

    /// Chunk `index` of the body.
    fn chunk(&mut self, index: u64) -> &[u8] {
        if index != self.index {
            self.stamp(index);
        }
        &self.chunk
    }

    fn stamp(&mut self, index: u64) {
        self.index = index;
        if let Some(head) = self.chunk.get_mut(..8) {
            head.copy_from_slice(&index.to_le_bytes());
        }
    }
}

/// PUTs then GETs one object of `mib` MiB on a server that has done nothing else (so
/// its VmHWM is this measurement's), then deletes it.
pub fn run(target: &Target, server_pid: u32, mib: u64) -> Result<LargeStats> {
    target.create_bucket().context("CreateBucket")?;
    let bytes = mib * MIB;
    let path = uri_encode_path(&format!("/{BUCKET}/{KEY}"));
    let mut conn = Conn::new(target.addr);
    let mut pattern = Pattern::new();

    let head = target.s3_head("PUT", &path, bytes, UNSIGNED_PAYLOAD);
    let cpu_before = procfs::cpu_ticks(server_pid)?;
    let started = Instant::now();
    let put = conn.stream(
        &head,
        &mut |socket: &mut dyn Write| {
            for i in 0..mib {
                socket.write_all(pattern.chunk(i)).context("write body")?;
            }
            Ok(())
        },
        &mut |_| Ok(()),
    );
    let put_took = started.elapsed();
    let put_cpu_ticks = procfs::cpu_ticks(server_pid)?.saturating_sub(cpu_before);
    success(put.context("PutObject")?, "PutObject")?;

    let head = target.s3_head("GET", &path, 0, &payload_hash(b""));
    let mut offset: u64 = 0;
    let cpu_before = procfs::cpu_ticks(server_pid)?;
    let started = Instant::now();
    let get = conn.stream(&head, &mut |_| Ok(()), &mut |mut piece: &[u8]| {
        while !piece.is_empty() {
            let within = (offset % MIB) as usize;
            let expected = pattern.chunk(offset / MIB).get(within..).unwrap_or_default();
            let n = piece.len().min(expected.len());
            if n == 0 || piece[..n] != expected[..n] {
                bail!("GetObject body differs from what was put, at or after byte {offset}");
            }
            piece = &piece[n..];
            offset += n as u64;
        }
        Ok(())
    });
    let get_took = started.elapsed();
    let get_cpu_ticks = procfs::cpu_ticks(server_pid)?.saturating_sub(cpu_before);
    let got = success(get.context("GetObject")?, "GetObject")?;
    if got != bytes {
        bail!("GetObject answered {got} bytes, {bytes} were put");
    }
    let peak_rss_kib = procfs::status_kib(server_pid, "VmHWM")?;
    target.delete_object(&path).context("DeleteObject")?;
    Ok(LargeStats { bytes, put: put_took, get: get_took, put_cpu_ticks, get_cpu_ticks, peak_rss_kib })
}

/// The body length of a 2xx answer, or the error the server gave.
fn success(streamed: Streamed, operation: &str) -> Result<u64> {
    if !(200..300).contains(&streamed.status) {
        let snippet: String = String::from_utf8_lossy(&streamed.error_body).chars().take(300).collect();
        bail!("{operation}: HTTP {}: {snippet}", streamed.status);
    }
    Ok(streamed.body_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_each_chunk_with_its_index_over_the_same_bytes() {
        let mut pattern = Pattern::new();
        let first = pattern.chunk(0).to_vec();
        let seventh = pattern.chunk(7).to_vec();
        assert_eq!(first.len(), CHUNK);
        assert_eq!(&first[..8], &0u64.to_le_bytes());
        assert_eq!(&seventh[..8], &7u64.to_le_bytes());
        assert_eq!(first[8..], seventh[8..]);
        assert_ne!(first[8..16], first[16..24], "the pattern is not constant");
        assert_eq!(pattern.chunk(0), &first[..]);
    }

    #[test]
    fn reports_throughput_in_megabytes_and_cpu_per_gib() {
        let stats = LargeStats {
            bytes: 1024 * MIB,
            put: Duration::from_secs(2),
            get: Duration::from_secs(1),
            put_cpu_ticks: 150,
            get_cpu_ticks: 50,
            peak_rss_kib: 0,
        };
        assert!((stats.put_mb_per_sec() - 536.870_912).abs() < 1e-6);
        assert!((stats.get_mb_per_sec() - 1_073.741_824).abs() < 1e-6);
        assert!((stats.cpu_secs_per_gib(stats.put_cpu_ticks, 100) - 1.5).abs() < 1e-9);
    }
}
