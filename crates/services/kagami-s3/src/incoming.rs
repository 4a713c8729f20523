//! A request body on its way to becoming an object or a part (PutObject, UploadPart,
//! UploadPartCopy): what the request declares about it, checked before it arrives, and
//! its temporary file, removed again when anything about it is refused.

use crate::body::{self, Received, parse_content_md5};
use crate::checksums::{Algorithm, Declared};
use crate::errors::*;
use crate::state::S3;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kagami_core::ServiceError;
use kagami_protocol::ByteStream;
use crate::blobs::BodySource;

/// What a request says about the body it sends.
pub struct Claims {
    /// Content-MD5, as a digest.
    pub md5: Option<[u8; 16]>,
    pub declared: Declared,
}

impl Claims {
    /// Content-MD5 (InvalidDigest), a Content-Length above `max` (EntityTooLarge) and the
    /// checksum members (one per algorithm, in `Algorithm::ALL` order, and
    /// ChecksumAlgorithm), checked in that order before the body is read.
    pub fn check(
        content_md5: Option<&str>,
        content_length: Option<i64>,
        max: u64,
        checksums: [Option<&str>; 5],
        checksum_algorithm: Option<&str>,
    ) -> Result<Claims, ServiceError> {
        let md5 = match content_md5 {
            Some(m) => Some(parse_content_md5(m).ok_or_else(|| invalid_digest(m))?),
            None => None,
        };
        if let Some(n) = content_length
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n > max)
        {
            return Err(entity_too_large(n, max));
        }
        let declared = Declared::new(checksums, checksum_algorithm)?;
        Ok(Claims { md5, declared })
    }
}

/// A body received into its temporary file, or into memory.
pub struct Incoming {
    pub temp: BodySource,
    pub received: Received,
}

impl Incoming {
    /// Removes the temporary file of a body that will not be kept.
    pub async fn discard(&self) {
        self.temp.discard().await;
    }
}

impl S3 {
    /// Receives `body` (its declared length `size`, at most `max` bytes) into a new
    /// temporary file, or into memory when it is small enough to be held there,
    /// computing the checksums of `algorithms`, and compares its MD5 with `md5`
    /// (BadDigest). On any error the file is gone again.
    pub(crate) async fn receive_body(
        &self,
        body: ByteStream,
        chunked: Option<bool>,
        max: u64,
        algorithms: &[Algorithm],
        md5: Option<[u8; 16]>,
    ) -> Result<Incoming, ServiceError> {
        let size = body.content_length();
        let (temp, received) = if self.blobs.holds(size) {
            let (received, bytes) = body::receive_in_memory(body, chunked, max, algorithms).await?;
            (BodySource::Memory(bytes), received)
        } else {
            let temp = self.blobs.temp_path_for(size);
            match body::receive_hashing(body, chunked, &temp, max, algorithms).await {
                Ok(r) => (BodySource::File(temp), r),
                Err(e) => {
                    let _ = tokio::fs::remove_file(&temp).await;
                    return Err(e);
                }
            }
        };
        let incoming = Incoming { temp, received };
        if let Some(expected) = md5
            && expected != incoming.received.md5
        {
            incoming.discard().await;
            return Err(bad_digest(
                &STANDARD.encode(expected),
                &STANDARD.encode(incoming.received.md5),
            ));
        }
        Ok(incoming)
    }
}
