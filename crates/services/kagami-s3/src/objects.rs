//! PutObject, GetObject, HeadObject and DeleteObject: bodies streamed between the
//! connection and a file, never held whole in memory.

use crate::chunked::{AwsChunkedDecoder, is_aws_chunked, stored_encoding};
use crate::errors::*;
use crate::generated::*;
use crate::persistence::{self, ObjectRecord};
use crate::state::{S3, store_error};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, Timestamp, clock};
use kagami_protocol::ByteStream;
use md5::{Digest, Md5};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

/// Largest object a single PUT may create (AWS: 5 GiB).
const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Bytes read from a body file per chunk of a GET.
const READ_CHUNK: u64 = 256 * 1024;
/// Write buffer between the connection and the body file.
const WRITE_BUFFER: usize = 256 * 1024;
/// Content-Type of an object stored without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";
/// The checksum algorithms S3 stores, as the `x-amz-checksum-<name>` suffix and S3's name.
const CHECKSUMS: &[(&str, &str)] = &[
    ("crc32", "CRC32"),
    ("crc32c", "CRC32C"),
    ("crc64nvme", "CRC64NVME"),
    ("sha1", "SHA1"),
    ("sha256", "SHA256"),
];

/// Puts a stored checksum into the output member of its algorithm.
macro_rules! set_checksum {
    ($out:expr, $checksum:expr) => {
        if let Some((algorithm, value)) = $checksum.clone() {
            match algorithm.as_str() {
                "CRC32" => $out.checksum_crc32 = Some(value),
                "CRC32C" => $out.checksum_crc32_c = Some(value),
                "CRC64NVME" => $out.checksum_crc64_nvme = Some(value),
                "SHA1" => $out.checksum_sha1 = Some(value),
                "SHA256" => $out.checksum_sha256 = Some(value),
                _ => {}
            }
            $out.checksum_type = Some("FULL_OBJECT".into());
        }
    };
}

/// GetObject and HeadObject answer the same headers from a stored record; their
/// generated output types are distinct, so a macro fills both.
macro_rules! object_output {
    ($ty:ident, $record:expr, $checksum_mode:expr) => {{
        let record = $record;
        let mut output = $ty {
            accept_ranges: Some("bytes".into()),
            content_length: i64::try_from(record.size).ok(),
            e_tag: Some(record.etag),
            last_modified: Some(Timestamp::from_millis(record.last_modified)),
            content_type: record.content_type,
            content_encoding: record.content_encoding,
            content_disposition: record.content_disposition,
            content_language: record.content_language,
            cache_control: record.cache_control,
            metadata: (!record.metadata.is_empty()).then_some(record.metadata),
            ..Default::default()
        };
        if $checksum_mode.as_deref() == Some("ENABLED") {
            set_checksum!(output, record.checksum);
        }
        output
    }};
}

/// What was received of a body.
struct Received {
    md5: [u8; 16],
    size: u64,
    trailers: Vec<(String, String)>,
}

impl S3 {
    pub async fn put_object(
        &self,
        ctx: &RequestContext,
        mut input: PutObjectRequest,
    ) -> Result<PutObjectOutput, ServiceError> {
        self.with_bucket(ctx, &input.bucket, |_| Ok(()))?;
        let expected_md5 = match input.content_md5.as_deref() {
            Some(m) => Some(parse_content_md5(m).ok_or_else(|| invalid_digest(m))?),
            None => None,
        };
        if let Some(n) = input
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n > MAX_PUT_SIZE)
        {
            return Err(entity_too_large(n, MAX_PUT_SIZE));
        }
        let chunked = is_aws_chunked(input.content_encoding.as_deref());
        let temp = self.blobs.temp_path();
        let received = match receive(input.body.take().unwrap_or_default(), chunked, &temp).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        if let Some(expected) = expected_md5
            && expected != received.md5
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(bad_digest(
                &STANDARD.encode(expected),
                &STANDARD.encode(received.md5),
            ));
        }
        let file = kagami_core::ids::uuid_v4();
        if let Err(e) = self.blobs.commit(&temp, &file).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error("storing the object body", &e));
        }
        let checksum = header_checksum(&input).or_else(|| trailer_checksum(&received.trailers));
        let record = ObjectRecord {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            file: file.clone(),
            size: received.size,
            etag: format!("\"{}\"", hex::encode(received.md5)),
            last_modified: clock::now_millis(),
            content_type: Some(
                input
                    .content_type
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
            ),
            content_encoding: stored_encoding(input.content_encoding.as_deref()),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            metadata: input.metadata.unwrap_or_default(),
            checksum,
        };
        let mut output = PutObjectOutput {
            e_tag: Some(record.etag.clone()),
            ..Default::default()
        };
        set_checksum!(output, record.checksum);
        let (commit, replaced) = {
            let mut buckets = self.buckets.write();
            // The bucket may have gone while the body was arriving.
            let Some(bucket) = buckets.get_mut(&input.bucket) else {
                drop(buckets);
                self.blobs.remove(&file);
                return Err(no_such_bucket(&input.bucket));
            };
            let op = StoreOp::put_json(
                persistence::OBJECTS,
                persistence::object_key(&input.bucket, &input.key),
                &record,
            );
            let replaced = bucket.objects.insert(input.key, record).map(|old| old.file);
            (self.store.submit(vec![op]), replaced)
        };
        commit.wait().await.map_err(store_error)?;
        if let Some(old) = replaced {
            self.blobs.remove(&old);
        }
        Ok(output)
    }

    pub async fn get_object(
        &self,
        ctx: &RequestContext,
        input: GetObjectRequest,
    ) -> Result<GetObjectOutput, ServiceError> {
        if input.range.is_some() || input.part_number.is_some() {
            return Err(ServiceError::new(
                "NotImplemented",
                501,
                "Range and part reads of GetObject are not implemented by kagami yet",
            ));
        }
        let (record, file) = self.with_bucket(ctx, &input.bucket, |b| {
            let record = b
                .objects
                .get(&input.key)
                .ok_or_else(|| no_such_key(&input.key))?
                .clone();
            // Opened under the lock: a concurrent overwrite may unlink the file, never
            // before it is open.
            let file = std::fs::File::open(self.blobs.object_path(&record.file))
                .map_err(|e| io_error("opening the object body", &e))?;
            Ok((record, file))
        })?;
        let body = read_stream(tokio::fs::File::from_std(file), record.size);
        let mut output = object_output!(GetObjectOutput, record, input.checksum_mode);
        output.body = Some(body);
        Ok(output)
    }

    pub fn head_object(
        &self,
        ctx: &RequestContext,
        input: &HeadObjectRequest,
    ) -> Result<HeadObjectOutput, ServiceError> {
        if input.range.is_some() || input.part_number.is_some() {
            return Err(ServiceError::new(
                "NotImplemented",
                501,
                "Range and part reads of HeadObject are not implemented by kagami yet",
            ));
        }
        let record = {
            let buckets = self.buckets.read();
            let bucket = buckets.get(&input.bucket).ok_or_else(not_found)?;
            if bucket.record.account != ctx.account_id {
                return Err(ServiceError::new("Forbidden", 403, "Forbidden"));
            }
            bucket
                .objects
                .get(&input.key)
                .ok_or_else(not_found)?
                .clone()
        };
        let output = object_output!(HeadObjectOutput, record, input.checksum_mode);
        Ok(output)
    }

    /// Deleting a key that does not exist succeeds (204), as in an unversioned bucket.
    pub async fn delete_object(
        &self,
        ctx: &RequestContext,
        input: &DeleteObjectRequest,
    ) -> Result<DeleteObjectOutput, ServiceError> {
        let (commit, removed) = {
            let mut buckets = self.buckets.write();
            let bucket = buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            if bucket.record.account != ctx.account_id {
                return Err(access_denied());
            }
            match bucket.objects.remove(&input.key) {
                None => return Ok(DeleteObjectOutput::default()),
                Some(old) => {
                    let op = StoreOp::delete(
                        persistence::OBJECTS,
                        persistence::object_key(&input.bucket, &input.key),
                    );
                    (self.store.submit(vec![op]), old.file)
                }
            }
        };
        commit.wait().await.map_err(store_error)?;
        self.blobs.remove(&removed);
        Ok(DeleteObjectOutput::default())
    }
}

/// Content-MD5 is the base64 of the 16-byte digest.
fn parse_content_md5(value: &str) -> Option<[u8; 16]> {
    STANDARD.decode(value.trim()).ok()?.try_into().ok()
}

fn header_checksum(input: &PutObjectRequest) -> Option<(String, String)> {
    let named = [
        ("CRC32", &input.checksum_crc32),
        ("CRC32C", &input.checksum_crc32_c),
        ("CRC64NVME", &input.checksum_crc64_nvme),
        ("SHA1", &input.checksum_sha1),
        ("SHA256", &input.checksum_sha256),
    ];
    named
        .into_iter()
        .find_map(|(alg, v)| v.clone().map(|v| (alg.to_string(), v)))
}

fn trailer_checksum(trailers: &[(String, String)]) -> Option<(String, String)> {
    trailers.iter().find_map(|(name, value)| {
        let suffix = name.strip_prefix("x-amz-checksum-")?;
        CHECKSUMS
            .iter()
            .find(|(s, _)| *s == suffix)
            .map(|(_, alg)| (alg.to_string(), value.clone()))
    })
}

/// Streams the body into `temp`, decoding aws-chunked on the way, hashing as it goes,
/// and fsyncs the file.
async fn receive(
    mut body: ByteStream,
    chunked: bool,
    temp: &Path,
) -> Result<Received, ServiceError> {
    let file = tokio::fs::File::create(temp)
        .await
        .map_err(|e| io_error("creating the object body", &e))?;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut md5 = Md5::new();
    let mut size: u64 = 0;
    let mut decoder = chunked.then(AwsChunkedDecoder::new);
    while let Some(chunk) = body.next_chunk().await {
        let chunk = chunk.map_err(|_| incomplete_body())?;
        let pieces = match &mut decoder {
            Some(d) => d
                .push(chunk)
                .map_err(|e| ServiceError::new("InvalidRequest", 400, e.to_string()))?,
            None => vec![chunk],
        };
        for piece in pieces {
            size += piece.len() as u64;
            if size > MAX_PUT_SIZE {
                return Err(entity_too_large(size, MAX_PUT_SIZE));
            }
            md5.update(&piece);
            out.write_all(&piece)
                .await
                .map_err(|e| io_error("writing the object body", &e))?;
        }
    }
    let mut trailers = Vec::new();
    if let Some(d) = &mut decoder {
        d.finish().map_err(|_| incomplete_body())?;
        trailers = d.trailers().to_vec();
    }
    out.flush()
        .await
        .map_err(|e| io_error("writing the object body", &e))?;
    out.get_ref()
        .sync_all()
        .await
        .map_err(|e| io_error("syncing the object body", &e))?;
    Ok(Received {
        md5: md5.finalize().into(),
        size,
        trailers,
    })
}

/// The file's first `size` bytes as a stream, read a chunk at a time.
fn read_stream(file: tokio::fs::File, size: u64) -> ByteStream {
    ByteStream::unfold((file, size), |(mut file, remaining)| async move {
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
    .with_content_length(Some(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_md5_must_be_the_base64_of_sixteen_bytes() {
        let digest: [u8; 16] = Md5::digest(b"payload").into();
        assert_eq!(parse_content_md5(&STANDARD.encode(digest)), Some(digest));
        assert_eq!(parse_content_md5("bm90LWEtZGlnZXN0"), None, "base64, but not 16 bytes");
        assert_eq!(parse_content_md5("%%%"), None, "not base64");
    }

    #[test]
    fn checksum_trailers_are_stored_under_s3s_algorithm_names() {
        let trailers = vec![("x-amz-checksum-crc32c".to_string(), "abc=".to_string())];
        assert_eq!(trailer_checksum(&trailers), Some(("CRC32C".to_string(), "abc=".to_string())));
        let unknown = vec![("x-amz-checksum-md4".to_string(), "x".to_string())];
        assert_eq!(trailer_checksum(&unknown), None);
    }

    #[tokio::test]
    async fn a_file_is_read_back_in_chunks_up_to_its_recorded_size() {
        let dir = std::env::temp_dir().join(format!("kagami-s3-unit-{}", kagami_core::ids::uuid_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("body");
        let data: Vec<u8> = (0..READ_CHUNK * 2 + 5).map(|i| i as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = tokio::fs::File::open(&path).await.unwrap();
        let stream = read_stream(file, data.len() as u64);
        assert_eq!(stream.content_length(), Some(data.len() as u64));
        assert_eq!(stream.collect(u64::MAX).await.unwrap(), data);
        // A record claiming more than the file holds ends in an error, not a short body.
        let file = tokio::fs::File::open(&path).await.unwrap();
        assert!(read_stream(file, data.len() as u64 + 1).collect(u64::MAX).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
