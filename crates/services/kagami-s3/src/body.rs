//! Object bodies on the wire: receiving one into a file (aws-chunked decoded, hashed,
//! fsynced) and sending a file's bytes back as a stream.

use crate::blobs::Opened;
use crate::checksums::{Algorithm, Hasher};
use crate::chunked::AwsChunkedDecoder;
use crate::errors::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_core::ServiceError;
use kagami_protocol::ByteStream;
use md5::{Digest, Md5};
use std::io::SeekFrom;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Largest object a single PUT may create (AWS: 5 GiB).
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Bytes read from a body file per chunk of a GET.
const READ_CHUNK: u64 = 256 * 1024;
/// Write buffer between the connection and the body file.
const WRITE_BUFFER: usize = 256 * 1024;
/// Bytes of decoded pieces gathered before they go to the hasher and the writer: each
/// hand-over may wake a thread, which on a virtual machine costs more than hashing
/// tens of KiB, so they go in batches.
const BATCH_BYTES: usize = 1024 * 1024;
/// Batches in flight to each of the hasher and the writer: enough to keep both busy,
/// few enough to bound memory per upload (a few MiB).
const BATCH_QUEUE: usize = 4;
/// Bodies up to this size are received on the request's task and written in one call
/// when nothing needs an fsync, and read back in one call: handing a small body to a
/// blocking worker costs more CPU than the write or read itself.
const INLINE_BODY: u64 = crate::blobs::SMALL_BODY_MAX;
/// What was received of a body.
pub struct Received {
    pub md5: [u8; 16],
    pub size: u64,
    pub trailers: Vec<(String, String)>,
    /// The checksums asked of `receive_hashing`, as binary digests.
    pub checksums: Vec<(Algorithm, Vec<u8>)>,
}

impl Received {
    /// The digest of `algorithm` computed while receiving, if it was asked for.
    pub fn checksum(&self, algorithm: Algorithm) -> Option<&[u8]> {
        self.checksums
            .iter()
            .find(|(a, _)| *a == algorithm)
            .map(|(_, d)| d.as_slice())
    }
}

/// Content-MD5 is the base64 of the 16-byte digest.
pub fn parse_content_md5(value: &str) -> Option<[u8; 16]> {
    STANDARD.decode(value.trim()).ok()?.try_into().ok()
}

/// Whether a body's first bytes are a signed aws-chunked chunk header
/// (`<hex size>;chunk-signature=`), for requests whose model has no Content-Encoding.
pub fn looks_signed_chunked(first: &[u8]) -> bool {
    let digits = first.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    (1..=16).contains(&digits)
        && first
            .get(digits..)
            .is_some_and(|rest| rest.starts_with(b";chunk-signature="))
}

/// Streams the body into `temp`, decoding aws-chunked on the way and computing MD5 and
/// the checksums of `algorithms` over the decoded body, and (in durable mode) fsyncs
/// the file. `max` bounds the decoded size (EntityTooLarge).
/// `chunked: None` tells aws-chunked from the body's first bytes.
///
/// The connection's bytes are read and decoded here; MD5 (for the ETag) runs on one
/// blocking worker, the checksums and the writing on another, both fed the same batches
/// through short queues, so a large upload uses a second core and the runtime thread
/// never waits on the disk. A small body that needs no fsync stays on the request's task.
pub async fn receive_hashing(
    mut body: ByteStream,
    chunked: Option<bool>,
    temp: &Path,
    max: u64,
    algorithms: &[Algorithm],
) -> Result<Received, ServiceError> {
    if !crate::blobs::durable_writes() && body.content_length().is_some_and(|n| n <= INLINE_BODY) {
        return receive_inline(body, chunked, temp, max, algorithms).await;
    }
    let (md5_tx, md5_rx) = tokio::sync::mpsc::channel::<Batch>(BATCH_QUEUE);
    let (write_tx, write_rx) = tokio::sync::mpsc::channel::<Batch>(BATCH_QUEUE);
    let md5_worker = spawn_md5(md5_rx);
    let writer = spawn_writer(temp.to_path_buf(), algorithms.to_vec(), write_rx);
    let mut sink = Sink::Workers {
        md5: &md5_tx,
        writer: &write_tx,
        batch: Vec::new(),
        batch_bytes: 0,
    };
    let streamed = stream_into(&mut body, chunked, max, &mut sink).await;
    if streamed.is_ok() {
        // A worker that stopped did so on an error of its own, reported below.
        sink.flush().await;
    }
    drop(sink);
    drop((md5_tx, write_tx));
    let joined = |e: tokio::task::JoinError| io_error("writing the object body", &std::io::Error::other(e));
    let written = writer.await.map_err(joined)?;
    let md5 = md5_worker.await.map_err(joined)?;
    // A body the client broke off is its error, whatever the disk said after.
    let (size, trailers) = streamed?;
    let checksums = written.map_err(|e| io_error("writing the object body", &e))?;
    Ok(Received {
        md5,
        size,
        trailers,
        checksums,
    })
}

/// `receive_hashing` of a small body that needs no fsync: hashed as it arrives and
/// written at the end, all on the request's task.
async fn receive_inline(
    body: ByteStream,
    chunked: Option<bool>,
    temp: &Path,
    max: u64,
    algorithms: &[Algorithm],
) -> Result<Received, ServiceError> {
    let (received, data) = receive_in_memory(body, chunked, max, algorithms).await?;
    std::fs::write(temp, &data).map_err(|e| io_error("writing the object body", &e))?;
    Ok(received)
}

/// `receive_hashing` into memory, for a small body: its digests and its bytes.
pub async fn receive_in_memory(
    mut body: ByteStream,
    chunked: Option<bool>,
    max: u64,
    algorithms: &[Algorithm],
) -> Result<(Received, Bytes), ServiceError> {
    let capacity = body
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let mut inline = Inline {
        md5: Md5::new(),
        hashers: algorithms.iter().map(|a| Hasher::new(*a)).collect(),
        data: Vec::with_capacity(capacity),
    };
    let (size, trailers) =
        stream_into(&mut body, chunked, max, &mut Sink::Inline(&mut inline)).await?;
    let received = Received {
        md5: inline.md5.finalize().into(),
        size,
        trailers,
        checksums: inline
            .hashers
            .into_iter()
            .map(|h| (h.algorithm(), h.finalize()))
            .collect(),
    };
    Ok((received, Bytes::from(inline.data)))
}

/// A small body being received in memory: its digests and bytes so far.
struct Inline {
    md5: Md5,
    hashers: Vec<Hasher>,
    data: Vec<u8>,
}

/// Pieces of a body handed to the hasher and the writer together.
type Batch = std::sync::Arc<Vec<Bytes>>;

/// Where `stream_into` puts the decoded pieces of a body.
enum Sink<'a> {
    /// The blocking MD5 hasher of `spawn_md5` and writer of `spawn_writer`, which work
    /// on the same batches side by side: MD5 alone runs at about the speed of the
    /// connection, so it gets a core of its own.
    Workers {
        md5: &'a tokio::sync::mpsc::Sender<Batch>,
        writer: &'a tokio::sync::mpsc::Sender<Batch>,
        batch: Vec<Bytes>,
        batch_bytes: usize,
    },
    Inline(&'a mut Inline),
}

impl Sink<'_> {
    /// Takes a piece; false once a worker has stopped (on a disk error).
    async fn push(&mut self, piece: Bytes) -> bool {
        match self {
            Sink::Workers {
                batch, batch_bytes, ..
            } => {
                *batch_bytes += piece.len();
                batch.push(piece);
                if *batch_bytes < BATCH_BYTES {
                    return true;
                }
                self.flush().await
            }
            Sink::Inline(inline) => {
                inline.md5.update(&piece);
                for h in &mut inline.hashers {
                    h.update(&piece);
                }
                inline.data.extend_from_slice(&piece);
                true
            }
        }
    }

    /// Hands over the pieces gathered so far; false once a worker has stopped.
    async fn flush(&mut self) -> bool {
        let Sink::Workers {
            md5,
            writer,
            batch,
            batch_bytes,
        } = self
        else {
            return true;
        };
        if batch.is_empty() {
            return true;
        }
        *batch_bytes = 0;
        let full: Batch = std::sync::Arc::new(std::mem::take(batch));
        md5.send(full.clone()).await.is_ok() && writer.send(full).await.is_ok()
    }
}

/// Reads the body, decodes aws-chunked, bounds its size and hands the pieces to `sink`.
/// Returns the decoded size and the trailers.
async fn stream_into(
    body: &mut ByteStream,
    chunked: Option<bool>,
    max: u64,
    sink: &mut Sink<'_>,
) -> Result<(u64, Vec<(String, String)>), ServiceError> {
    let mut size: u64 = 0;
    let mut decoder = (chunked == Some(true)).then(AwsChunkedDecoder::new);
    let mut detect = chunked.is_none();
    while let Some(chunk) = body.next_chunk().await {
        let chunk = chunk.map_err(|_| incomplete_body())?;
        if chunk.is_empty() {
            continue;
        }
        if detect {
            detect = false;
            if looks_signed_chunked(&chunk) {
                decoder = Some(AwsChunkedDecoder::new());
            }
        }
        let pieces = match &mut decoder {
            Some(d) => d
                .push(chunk)
                .map_err(|e| ServiceError::new("InvalidRequest", 400, e.to_string()))?,
            None => vec![chunk],
        };
        for piece in pieces {
            size += piece.len() as u64;
            if size > max {
                return Err(entity_too_large(size, max));
            }
            if !sink.push(piece).await {
                // The writer stopped on a disk error, which the caller reports.
                return Ok((size, Vec::new()));
            }
        }
    }
    let mut trailers = Vec::new();
    if let Some(d) = &mut decoder {
        d.finish().map_err(|_| incomplete_body())?;
        trailers = d.trailers().to_vec();
    }
    Ok((size, trailers))
}

/// Binary digests by algorithm, as `Received::checksums` holds them.
type Checksums = Vec<(Algorithm, Vec<u8>)>;

/// The MD5 half of `receive_hashing`'s workers: the ETag's digest of every batch.
fn spawn_md5(mut rx: tokio::sync::mpsc::Receiver<Batch>) -> tokio::task::JoinHandle<[u8; 16]> {
    tokio::task::spawn_blocking(move || {
        let mut md5 = Md5::new();
        while let Some(batch) = rx.blocking_recv() {
            for piece in batch.iter() {
                md5.update(piece);
            }
        }
        md5.finalize().into()
    })
}

/// The writing half of `receive_hashing`'s workers: computes the checksums of
/// `algorithms` over every batch and writes it, then flushes and, in durable mode,
/// fsyncs the file.
fn spawn_writer(
    temp: std::path::PathBuf,
    algorithms: Vec<Algorithm>,
    mut rx: tokio::sync::mpsc::Receiver<Batch>,
) -> tokio::task::JoinHandle<std::io::Result<Checksums>> {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let file = std::fs::File::create(&temp)?;
        let mut out = std::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| Hasher::new(*a)).collect();
        while let Some(batch) = rx.blocking_recv() {
            for piece in batch.iter() {
                for h in &mut hashers {
                    h.update(piece);
                }
                out.write_all(piece)?;
            }
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if crate::blobs::durable_writes() {
            file.sync_all()?;
        }
        Ok(hashers
            .into_iter()
            .map(|h| (h.algorithm(), h.finalize()))
            .collect())
    })
}

/// The checksum of a body, read again: for a checksum the client revealed only in a
/// trailer, after the body had streamed past.
pub async fn hash_body(body: Opened, algorithm: Algorithm) -> Result<Vec<u8>, ServiceError> {
    let mut file = match body {
        Opened::Memory(bytes) => {
            let mut hasher = Hasher::new(algorithm);
            hasher.update(&bytes);
            return Ok(hasher.finalize());
        }
        Opened::File(file) => tokio::fs::File::from_std(file),
    };
    let mut hasher = Hasher::new(algorithm);
    let mut buf = vec![0u8; READ_CHUNK as usize];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| io_error("reading the object body", &e))?;
        let Some(read) = buf.get(..n).filter(|r| !r.is_empty()) else {
            break;
        };
        hasher.update(read);
    }
    Ok(hasher.finalize())
}

/// `hash_body` of the file at `path`.
pub async fn hash_file(path: &Path, algorithm: Algorithm) -> Result<Vec<u8>, ServiceError> {
    let file = std::fs::File::open(path).map_err(|e| io_error("reading the object body", &e))?;
    hash_body(Opened::File(file), algorithm).await
}

/// `len` bytes of a kept body from `start` on.
pub async fn read_body(body: Opened, start: u64, len: u64) -> Result<ByteStream, ServiceError> {
    match body {
        Opened::File(file) => read_file(file, start, len).await,
        Opened::Memory(bytes) => {
            let window = usize::try_from(start)
                .ok()
                .zip(usize::try_from(start.saturating_add(len)).ok())
                .filter(|(_, end)| *end <= bytes.len());
            let Some((from, to)) = window else {
                return Err(io_error(
                    "reading the object body",
                    &std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "object body is shorter than its record",
                    ),
                ));
            };
            Ok(ByteStream::from_bytes(bytes.slice(from..to)))
        }
    }
}

/// `len` bytes of the file from `start` on: a small window read at once, a larger one
/// (or one the file is too short for) as `read_stream`.
async fn read_file(
    mut file: std::fs::File,
    start: u64,
    len: u64,
) -> Result<ByteStream, ServiceError> {
    use std::io::{Read, Seek};
    if len <= INLINE_BODY {
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
        let read = file
            .seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut buf));
        if read.is_ok() {
            return Ok(ByteStream::from_bytes(buf));
        }
        // Streamed instead, to fail the way a long body does: after the bytes there are.
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io_error("seeking in the object body", &e))?;
    }
    read_stream(tokio::fs::File::from_std(file), start, len).await
}

/// `len` bytes of the file from `start` on, as a stream read a chunk at a time.
pub async fn read_stream(
    mut file: tokio::fs::File,
    start: u64,
    len: u64,
) -> Result<ByteStream, ServiceError> {
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| io_error("seeking in the object body", &e))?;
    }
    Ok(
        ByteStream::unfold((file, len), |(mut file, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let want = usize::try_from(remaining.min(READ_CHUNK)).unwrap_or(0);
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "object body file is shorter than its record",
                ))),
                Ok(n) => {
                    buf.truncate(n);
                    Some(Ok((Bytes::from(buf), (file, remaining - n as u64))))
                }
                Err(e) => Some(Err(e)),
            }
        })
        .with_content_length(Some(len)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_md5_must_be_the_base64_of_sixteen_bytes() {
        let digest: [u8; 16] = Md5::digest(b"payload").into();
        assert_eq!(parse_content_md5(&STANDARD.encode(digest)), Some(digest));
        assert_eq!(
            parse_content_md5("bm90LWEtZGlnZXN0"),
            None,
            "base64, but not 16 bytes"
        );
        assert_eq!(parse_content_md5("%%%"), None, "not base64");
    }

    #[test]
    fn only_a_signed_chunk_header_is_taken_for_aws_chunked() {
        assert!(looks_signed_chunked(b"10000;chunk-signature=ab12\r\n"));
        assert!(!looks_signed_chunked(b"10000\r\ndata"));
        assert!(!looks_signed_chunked(b";chunk-signature="));
        assert!(!looks_signed_chunked(b"plain body bytes"));
    }

    #[tokio::test]
    async fn a_file_is_read_back_in_chunks_from_an_offset_up_to_a_length() {
        let dir =
            std::env::temp_dir().join(format!("kagami-s3-unit-{}", kagami_core::ids::uuid_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("body");
        let data: Vec<u8> = (0..READ_CHUNK * 2 + 5).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = tokio::fs::File::open(&path).await.unwrap();
        let stream = read_stream(file, 0, data.len() as u64).await.unwrap();
        assert_eq!(stream.content_length(), Some(data.len() as u64));
        assert_eq!(stream.collect(u64::MAX).await.unwrap(), data);
        let file = tokio::fs::File::open(&path).await.unwrap();
        let middle = read_stream(file, 10, READ_CHUNK).await.unwrap();
        let expected = &data[10..10 + READ_CHUNK as usize];
        assert_eq!(middle.collect(u64::MAX).await.unwrap(), expected);
        // A record claiming more than the file holds ends in an error, not a short body.
        let file = tokio::fs::File::open(&path).await.unwrap();
        let long = read_stream(file, 0, data.len() as u64 + 1).await.unwrap();
        assert!(long.collect(u64::MAX).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
