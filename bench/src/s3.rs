//! S3's requests (REST, path-style on the server's address): the bucket, the 1 KiB
//! objects of PutObject and GetObject, and the signed heads the large-object
//! measurement streams behind.

use crate::http::{Conn, encode_head};
use crate::load::Outcome;
use crate::scenarios::{Operation, Target, ok};
use crate::sigv4::{amz_date_now, payload_hash, uri_encode_path};
use anyhow::{Context, Result, bail};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BUCKET: &str = "kagami-bench";
/// PutObject cycles over this many keys, so the bucket stays bounded however long it runs.
const PUT_KEYS: usize = 10_000;
/// GetObject cycles over this many objects, written by the setup.
const GET_KEYS: usize = 1_000;
const SMALL_OBJECT_SIZE: usize = 1024;
/// Seeding threads at most: moto serialises requests anyway, kagami is done in a blink.
const MAX_SEED_THREADS: usize = 8;

fn key_path(n: usize) -> String {
    uri_encode_path(&format!("/{BUCKET}/obj-{n}"))
}

/// A 1 KiB body of printable bytes.
fn small_body() -> Vec<u8> {
    (0..SMALL_OBJECT_SIZE).map(|i| b'a' + (i % 26) as u8).collect()
}

impl Target {
    /// A signed S3 request head for `path` (already encoded, see `uri_encode_path`)
    /// announcing `content_length` bytes of body whose hash is `payload_hash` (or
    /// `UNSIGNED-PAYLOAD`).
    pub fn s3_head(&self, method: &str, path: &str, content_length: u64, payload_hash: &str) -> Vec<u8> {
        let date = amz_date_now();
        let auth = self.s3.authorization_for(
            method,
            path,
            &[("host", &self.host), ("x-amz-content-sha256", payload_hash), ("x-amz-date", &date)],
            payload_hash,
            &date,
        );
        encode_head(
            method,
            &self.host,
            path,
            &[("X-Amz-Content-SHA256", payload_hash), ("X-Amz-Date", &date), ("Authorization", &auth)],
            content_length,
        )
    }

    /// A signed S3 request with its body, the payload hashed.
    fn s3_request(&self, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
        let mut request = self.s3_head(method, path, body.len() as u64, &payload_hash(body));
        request.extend_from_slice(body);
        request
    }

    /// CreateBucket in us-east-1 (no location constraint).
    pub fn create_bucket(&self) -> Result<()> {
        ok(Conn::new(self.addr).roundtrip(&self.s3_request("PUT", &uri_encode_path(&format!("/{BUCKET}")), b""))?)?;
        Ok(())
    }

    /// DeleteObject, so a large body does not outlive its measurement on disk.
    pub fn delete_object(&self, path: &str) -> Result<()> {
        ok(Conn::new(self.addr).roundtrip(&self.s3_request("DELETE", path, b""))?)?;
        Ok(())
    }

    /// Writes the objects GetObject reads.
    pub fn seed_objects(&self, connections: usize) -> Result<()> {
        let threads = connections.clamp(1, MAX_SEED_THREADS);
        let body = small_body();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let body = &body;
                    scope.spawn(move || -> Result<()> {
                        let mut conn = Conn::new(self.addr);
                        for n in (t..GET_KEYS).step_by(threads) {
                            ok(conn.roundtrip(&self.s3_request("PUT", &key_path(n), body))?)
                                .with_context(|| format!("PutObject obj-{n}"))?;
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

    /// PutObject of 1 KiB, cycling over `PUT_KEYS` keys, every request signed up front.
    pub fn put_object_operation(&self) -> Operation<'_> {
        let body = small_body();
        let requests: Vec<Vec<u8>> = (0..PUT_KEYS).map(|n| self.s3_request("PUT", &key_path(n), &body)).collect();
        cycling(requests, |_| Ok(()))
    }

    /// GetObject of the seeded 1 KiB objects, cycling over them.
    pub fn get_object_operation(&self) -> Operation<'_> {
        let empty = payload_hash(b"");
        // A bodiless request is its head alone.
        let requests: Vec<Vec<u8>> = (0..GET_KEYS).map(|n| self.s3_head("GET", &key_path(n), 0, &empty)).collect();
        cycling(requests, |body| {
            if body.len() != SMALL_OBJECT_SIZE {
                bail!("GetObject answered {} bytes, not {SMALL_OBJECT_SIZE}", body.len());
            }
            Ok(())
        })
    }
}

/// One request per operation, the next of `requests` each time (shared by all
/// connections), its success body checked by `check`.
pub(crate) fn cycling<'a>(requests: Vec<Vec<u8>>, check: impl Fn(&[u8]) -> Result<()> + Sync + 'a) -> Operation<'a> {
    let next = AtomicUsize::new(0);
    Box::new(move |conn: &mut Conn| {
        let i = next.fetch_add(1, Ordering::Relaxed) % requests.len().max(1);
        let request = requests.get(i).context("no request prepared")?;
        let response = ok(conn.roundtrip(request)?)?;
        check(&response.body)?;
        Ok(Outcome::Done { requests: 1 })
    })
}
