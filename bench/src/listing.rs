//! ListObjectsV2 over a large bucket: the keys are written first (empty bodies), then
//! one client pages through all of them, 1,000 per page, as `aws s3 ls --recursive`
//! does. The cost of a page must not grow with the bucket: the number to read is the
//! server CPU per page next to the bucket's size.

use crate::http::Conn;
use crate::procfs;
use crate::s3::BUCKET;
use crate::scenarios::{Target, ok};
use crate::sigv4::{payload_hash, uri_encode_path};
use anyhow::{Context, Result, bail};
use std::time::{Duration, Instant};

const PREFIX: &str = "list/";
const PAGE: usize = 1000;
const MAX_SEED_THREADS: usize = 8;

pub struct ListingStats {
    pub keys: usize,
    pub pages: usize,
    pub took: Duration,
    /// Server CPU (user + system) in clock ticks over the listing.
    pub cpu_ticks: u64,
}

impl ListingStats {
    pub fn keys_per_sec(&self) -> f64 {
        self.keys as f64 / self.took.as_secs_f64().max(1e-9)
    }

    /// Server CPU microseconds per page of 1,000 keys.
    pub fn cpu_us_per_page(&self, ticks_per_sec: u64) -> f64 {
        self.cpu_ticks as f64 * 1e6 / ticks_per_sec.max(1) as f64 / self.pages.max(1) as f64
    }
}

fn key(n: usize) -> String {
    format!("{PREFIX}key-{n:07}")
}

/// Query-string encoding of a value: everything but unreserved characters escaped.
fn encode_query_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml.get(start..)?.find(&format!("</{tag}>"))? + start;
    xml.get(start..end)
}

/// Writes `keys` empty objects under `list/` over up to eight connections.
fn seed(target: &Target, keys: usize, connections: usize) -> Result<()> {
    let threads = connections.clamp(1, MAX_SEED_THREADS);
    let empty = payload_hash(b"");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let empty = &empty;
                scope.spawn(move || -> Result<()> {
                    let mut conn = Conn::new(target.addr);
                    for n in (t..keys).step_by(threads) {
                        let path = uri_encode_path(&format!("/{BUCKET}/{}", key(n)));
                        ok(conn.roundtrip(&target.s3_head("PUT", &path, 0, empty))?)
                            .with_context(|| format!("PutObject {}", key(n)))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("a seeding thread panicked"))??;
        }
        Ok(())
    })
}

/// Seeds `keys` objects, then lists them all and checks none is missing or repeated.
pub fn run(target: &Target, server_pid: u32, keys: usize, connections: usize) -> Result<ListingStats> {
    target.create_bucket().context("CreateBucket")?;
    seed(target, keys, connections)?;
    let empty = payload_hash(b"");
    let mut conn = Conn::new(target.addr);
    let mut token: Option<String> = None;
    let mut listed = 0usize;
    let mut pages = 0usize;
    let mut last_key = String::new();
    let cpu_before = procfs::cpu_ticks(server_pid)?;
    let started = Instant::now();
    loop {
        let mut path = format!("/{BUCKET}?list-type=2&max-keys={PAGE}&prefix={}", encode_query_value(PREFIX));
        if let Some(t) = &token {
            path.push_str(&format!("&continuation-token={}", encode_query_value(t)));
        }
        let response = ok(conn.roundtrip(&target.s3_head("GET", &path, 0, &empty))?)?;
        let xml = String::from_utf8_lossy(&response.body);
        pages += 1;
        for chunk in xml.split("<Key>").skip(1) {
            let Some(k) = chunk.split("</Key>").next() else { continue };
            if k <= last_key.as_str() {
                bail!("ListObjectsV2 returned {k} after {last_key}");
            }
            last_key = k.to_string();
            listed += 1;
        }
        match element(&xml, "NextContinuationToken") {
            Some(t) if element(&xml, "IsTruncated") == Some("true") => token = Some(t.to_string()),
            _ => break,
        }
    }
    let took = started.elapsed();
    let cpu_ticks = procfs::cpu_ticks(server_pid)?.saturating_sub(cpu_before);
    if listed != keys {
        bail!("ListObjectsV2 listed {listed} keys of {keys}");
    }
    Ok(ListingStats { keys, pages, took, cpu_ticks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_escape_all_but_unreserved_characters() {
        assert_eq!(encode_query_value("list/"), "list%2F");
        assert_eq!(encode_query_value("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }

    #[test]
    fn elements_are_found_by_tag() {
        let xml = "<R><IsTruncated>true</IsTruncated><NextContinuationToken>abc</NextContinuationToken></R>";
        assert_eq!(element(xml, "IsTruncated"), Some("true"));
        assert_eq!(element(xml, "NextContinuationToken"), Some("abc"));
        assert_eq!(element(xml, "Missing"), None);
    }
}
