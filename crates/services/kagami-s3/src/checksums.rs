//! The additional checksums S3 verifies and stores (`x-amz-checksum-<algorithm>`):
//! streaming hashers, the base64 wire form, CRC combination (a CRC of joined data from
//! the CRCs of its pieces, which is how a multipart FULL_OBJECT checksum is made without
//! reading the object again) and the COMPOSITE checksum of checksums.

use crate::blobs::BodySource;
use crate::body::{Received, hash_body};
use crate::errors::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crc_fast::CrcAlgorithm;
use kagami_core::ServiceError;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// The checksum algorithms S3 accepts for objects and parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

/// What S3 computes when the client names no algorithm (AWS's default data integrity
/// protection since 2025: a full-object CRC64NVME for every new object).
pub const DEFAULT: Algorithm = Algorithm::Crc64Nvme;

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// S3's name of the algorithm, case-insensitively (`ChecksumAlgorithm`).
    pub fn parse(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The name as headers and some messages spell it (`crc32c`).
    pub fn lower(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "crc32",
            Algorithm::Crc32c => "crc32c",
            Algorithm::Crc64Nvme => "crc64nvme",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
        }
    }

    /// The algorithm a `x-amz-checksum-<name>` header or trailer names.
    pub fn from_header(name: &str) -> Option<Algorithm> {
        let suffix = name.strip_prefix("x-amz-checksum-")?;
        Algorithm::ALL
            .into_iter()
            .find(|a| a.lower().eq_ignore_ascii_case(suffix))
    }

    /// Bytes of the binary digest.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// CRCs can be combined into a FULL_OBJECT checksum of a multipart object.
    pub fn is_crc(self) -> bool {
        self.crc().is_some()
    }

    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Algorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }
}

/// A checksum computed as data streams through.
#[derive(Clone)]
pub struct Hasher {
    algorithm: Algorithm,
    state: State,
}

#[derive(Clone)]
enum State {
    Crc(crc_fast::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        let state = match algorithm.crc() {
            Some(crc) => State::Crc(crc_fast::Digest::new(crc)),
            None if algorithm == Algorithm::Sha1 => State::Sha1(Sha1::new()),
            None => State::Sha256(Sha256::new()),
        };
        Hasher { algorithm, state }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc(d) => d.update(data),
            State::Sha1(d) => d.update(data),
            State::Sha256(d) => d.update(data),
        }
    }

    /// The binary digest: CRCs big-endian in their width, as S3 encodes them.
    pub fn finalize(self) -> Vec<u8> {
        match self.state {
            State::Crc(d) => crc_bytes(self.algorithm, d.finalize()),
            State::Sha1(d) => d.finalize().to_vec(),
            State::Sha256(d) => d.finalize().to_vec(),
        }
    }
}

/// The digest of `data` in one call.
#[cfg(test)]
pub fn digest(algorithm: Algorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finalize()
}

fn crc_bytes(algorithm: Algorithm, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    bytes
        .get(bytes.len().saturating_sub(algorithm.digest_len())..)
        .unwrap_or_default()
        .to_vec()
}

fn crc_value(digest: &[u8]) -> u64 {
    digest
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// The wire form of a digest.
pub fn encode(digest: &[u8]) -> String {
    STANDARD.encode(digest)
}

/// A client's value, when it is the base64 of a digest of the algorithm's width.
pub fn decode(algorithm: Algorithm, value: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(value.trim())
        .ok()
        .filter(|d| d.len() == algorithm.digest_len())
}

/// The CRC of `A || B` from the CRC of `A`, the CRC of `B` and the length of `B`; `None`
/// for hash algorithms, which do not combine.
pub fn combine(
    algorithm: Algorithm,
    first: &[u8],
    second: &[u8],
    second_len: u64,
) -> Option<Vec<u8>> {
    let crc = algorithm.crc()?;
    let combined = crc_fast::checksum_combine(crc, crc_value(first), crc_value(second), second_len);
    Some(crc_bytes(algorithm, combined))
}

/// S3's COMPOSITE checksum of a multipart object: the checksum of the concatenated
/// binary part checksums, with `-<number of parts>`.
pub fn composite(algorithm: Algorithm, parts: &[Vec<u8>]) -> String {
    let mut h = Hasher::new(algorithm);
    for p in parts {
        h.update(p);
    }
    format!("{}-{}", encode(&h.finalize()), parts.len())
}

/// What a request declared about its body's checksum.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// A value sent in a `x-amz-checksum-<algorithm>` header.
    pub header: Option<(Algorithm, String)>,
    /// `x-amz-sdk-checksum-algorithm`: the algorithm of a trailer to come, or of a
    /// checksum the client wants S3 to compute and store.
    pub algorithm: Option<Algorithm>,
}

impl Declared {
    /// From the request's checksum members (one per algorithm, in `Algorithm::ALL`
    /// order) and its ChecksumAlgorithm.
    pub fn new(
        values: [Option<&str>; 5],
        algorithm: Option<&str>,
    ) -> Result<Declared, ServiceError> {
        let mut header = None;
        for (a, v) in Algorithm::ALL.into_iter().zip(values) {
            let Some(v) = v else { continue };
            if header.is_some() {
                return Err(multiple_checksums());
            }
            if decode(a, v).is_none() {
                return Err(invalid_checksum_value(&format!(
                    "x-amz-checksum-{}",
                    a.lower()
                )));
            }
            header = Some((a, v.trim().to_string()));
        }
        let algorithm = match algorithm.filter(|a| !a.is_empty()) {
            Some(name) => Some(Algorithm::parse(name).ok_or_else(unsupported_checksum_algorithm)?),
            None => None,
        };
        Ok(Declared { header, algorithm })
    }

    /// The algorithm the request names, by its header or its ChecksumAlgorithm.
    pub fn named(&self) -> Option<Algorithm> {
        self.header.as_ref().map(|(a, _)| *a).or(self.algorithm)
    }

    /// The algorithms to compute while the body streams: the named one and `also`.
    pub fn to_compute(&self, also: &[Algorithm]) -> Vec<Algorithm> {
        let mut all: Vec<Algorithm> = self.named().into_iter().collect();
        for a in also {
            if !all.contains(a) {
                all.push(*a);
            }
        }
        all
    }
}

/// Checks the checksum the client sent (header, else trailer) against the body as
/// received, reading the file again for an algorithm that was not computed on the way.
/// Returns the checksum of the algorithm the request named, if any, to store.
pub async fn verify(
    declared: &Declared,
    received: &Received,
    body: &BodySource,
) -> Result<Option<(Algorithm, Vec<u8>)>, ServiceError> {
    let trailer = received
        .trailers
        .iter()
        .find_map(|(name, value)| Algorithm::from_header(name).map(|a| (a, value.clone())));
    let sent = declared.header.clone().or(trailer);
    let Some(algorithm) = sent.as_ref().map(|(a, _)| *a).or(declared.algorithm) else {
        return Ok(None);
    };
    let computed = match received.checksum(algorithm) {
        Some(d) => d.to_vec(),
        None => hash_staged(body, algorithm).await?,
    };
    if let Some((_, value)) = &sent {
        let expected = decode(algorithm, value).ok_or_else(|| {
            invalid_checksum_value(&format!("x-amz-checksum-{}", algorithm.lower()))
        })?;
        if expected != computed {
            return Err(checksum_mismatch(algorithm.name()));
        }
    }
    Ok(Some((algorithm, computed)))
}

/// `verify` for a body that becomes an object by itself (PutObject): the checksum to
/// store as `(algorithm name, base64)`, the default CRC64NVME when the client named none.
pub async fn verify_object(
    declared: &Declared,
    received: &Received,
    body: &BodySource,
) -> Result<(String, String), ServiceError> {
    let (algorithm, digest) = match verify(declared, received, body).await? {
        Some(c) => c,
        None => match received.checksum(DEFAULT) {
            Some(d) => (DEFAULT, d.to_vec()),
            None => (DEFAULT, hash_staged(body, DEFAULT).await?),
        },
    };
    Ok((algorithm.name().to_string(), encode(&digest)))
}

/// The checksum of `algorithm` over a received body, read again.
async fn hash_staged(body: &BodySource, algorithm: Algorithm) -> Result<Vec<u8>, ServiceError> {
    let opened = body
        .open()
        .map_err(|e| crate::errors::io_error("reading the object body", &e))?;
    hash_body(opened, algorithm).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Check values from the CRC catalogue (the CRC of "123456789") and the SHA test vectors.
    #[test]
    fn each_algorithm_gives_its_catalogue_check_value() {
        let check = b"123456789";
        assert_eq!(hex::encode(digest(Algorithm::Crc32, check)), "cbf43926");
        assert_eq!(hex::encode(digest(Algorithm::Crc32c, check)), "e3069283");
        assert_eq!(
            hex::encode(digest(Algorithm::Crc64Nvme, check)),
            "ae8b14860a799888"
        );
        assert_eq!(
            hex::encode(digest(Algorithm::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex::encode(digest(Algorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_in_pieces_equals_hashing_at_once() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for a in Algorithm::ALL {
            let mut h = Hasher::new(a);
            for piece in data.chunks(333) {
                h.update(piece);
            }
            assert_eq!(h.finalize(), digest(a, &data), "{}", a.name());
        }
    }

    #[test]
    fn combined_crcs_equal_the_crc_of_the_joined_data() {
        let first = b"hello, ";
        let second = b"multipart world";
        let joined = [&first[..], &second[..]].concat();
        for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let combined = combine(
                a,
                &digest(a, first),
                &digest(a, second),
                second.len() as u64,
            );
            assert_eq!(combined, Some(digest(a, &joined)), "{}", a.name());
        }
        assert_eq!(combine(Algorithm::Sha256, b"x", b"y", 1), None);
    }

    #[test]
    fn composite_is_the_checksum_of_part_checksums_with_the_part_count() {
        let parts = vec![
            digest(Algorithm::Sha256, b"a"),
            digest(Algorithm::Sha256, b"b"),
        ];
        let expected = encode(&digest(Algorithm::Sha256, &parts.concat()));
        assert_eq!(
            composite(Algorithm::Sha256, &parts),
            format!("{expected}-2")
        );
    }

    #[test]
    fn names_headers_and_values_parse_as_s3_spells_them() {
        assert_eq!(Algorithm::parse("crc64nvme"), Some(Algorithm::Crc64Nvme));
        assert_eq!(Algorithm::parse("MD5"), None);
        assert_eq!(
            Algorithm::from_header("x-amz-checksum-crc32c"),
            Some(Algorithm::Crc32c)
        );
        assert_eq!(Algorithm::from_header("x-amz-checksum-md4"), None);
        assert_eq!(
            decode(Algorithm::Crc32, "DUoRhQ=="),
            Some(vec![0x0d, 0x4a, 0x11, 0x85])
        );
        assert_eq!(
            decode(Algorithm::Crc32, "AAAAAAAAAAA="),
            None,
            "8 bytes, not 4"
        );
        assert_eq!(decode(Algorithm::Sha1, "!!"), None);
    }
}
