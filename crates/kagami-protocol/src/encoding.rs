//! `Content-Encoding: gzip` request bodies, which SDKs send for operations with the
//! `requestcompression` trait (CloudWatch `PutMetricData`). Other operations keep
//! their bodies as sent: for S3 the encoding describes the object, not the request.
//!
//! Also the one gzip writer and reader of every service that produces or reads `.gz`
//! payloads (Logs subscriptions and exports, DynamoDB exports and imports).

use std::borrow::Cow;

/// Decompressed bodies are capped so that a small request cannot inflate without bound.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GzipError {
    #[error("body is not a gzip stream")]
    NotGzip,
    #[error("gzip stream is corrupt or inflates beyond {MAX_INFLATED} bytes")]
    Corrupt,
}

/// A gzip member (RFC 1952) of `data` at the default level, for services that write
/// `.gz` objects or compressed payloads (Logs subscriptions and exports, DynamoDB exports).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    // Magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32;
    out.extend_from_slice(&crc.to_le_bytes());
    // ISIZE is the input size modulo 2^32, by definition.
    out.extend_from_slice(&((data.len() & 0xffff_ffff) as u32).to_le_bytes());
    out
}

/// The inflated member of a gzip file of at most `limit` bytes; None when `data` is not
/// gzip, is corrupt or inflates beyond `limit`.
pub fn gunzip(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    gunzip_limited(data, limit).ok()
}

/// The body with every `gzip` coding in `content_encoding` undone (the innermost
/// coding is listed last).
pub(crate) fn decode<'a>(content_encoding: &str, body: &'a [u8]) -> Result<Cow<'a, [u8]>, GzipError> {
    let mut out = Cow::Borrowed(body);
    for coding in content_encoding.rsplit(',').map(str::trim) {
        if coding.eq_ignore_ascii_case("gzip") {
            out = Cow::Owned(gunzip_limited(&out, MAX_INFLATED)?);
        }
    }
    Ok(out)
}

/// RFC 1952: a header with optional fields, a raw deflate stream, an 8-byte trailer.
fn gunzip_limited(data: &[u8], limit: usize) -> Result<Vec<u8>, GzipError> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return Err(GzipError::NotGzip);
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let len = data.get(pos..pos + 2).ok_or(GzipError::NotGzip)?;
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = data.get(pos..).and_then(|d| d.iter().position(|&b| b == 0)).ok_or(GzipError::NotGzip)?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let deflated = data.get(pos..data.len().saturating_sub(8)).ok_or(GzipError::NotGzip)?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, limit).map_err(|_| GzipError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        out.extend([0; 8]); // CRC and size are not checked.
        out
    }

    #[test]
    fn written_members_carry_the_standard_crc_and_round_trip() {
        let z = super::gzip(b"123456789");
        assert_eq!(&z[z.len() - 8..z.len() - 4], &0xcbf4_3926u32.to_le_bytes());
        assert_eq!(super::gunzip(&z, 100).as_deref(), Some(&b"123456789"[..]));
        assert_eq!(super::gunzip(&z, 4), None);
        assert_eq!(super::gunzip(b"not gzip at all, not at all", 100), None);
    }

    #[test]
    fn gzip_bodies_inflate_and_others_pass_through() {
        let body = gzip(b"Action=PutMetricData&Namespace=x");
        assert_eq!(decode("gzip", &body).unwrap().as_ref(), b"Action=PutMetricData&Namespace=x");
        assert_eq!(decode("custom, gzip", &body).unwrap().as_ref(), b"Action=PutMetricData&Namespace=x");
        assert!(matches!(decode("identity", b"plain").unwrap(), Cow::Borrowed(b"plain")));
        assert_eq!(decode("gzip", b"not gzip at all!!!!").unwrap_err(), GzipError::NotGzip);
    }

    #[test]
    fn truncated_oversized_and_malformed_streams_are_refused() {
        let body = gzip(b"Action=PutMetricData&Namespace=x");
        let mut truncated = body[..body.len() - 8 - 4].to_vec();
        truncated.extend([0; 8]);
        assert_eq!(decode("gzip", &truncated).unwrap_err(), GzipError::Corrupt);
        let bomb = gzip(&vec![b'a'; MAX_INFLATED + 1]);
        assert!(bomb.len() < 1024 * 1024, "a small request");
        assert_eq!(decode("gzip", &bomb).unwrap_err(), GzipError::Corrupt);
        // FEXTRA announcing more bytes than the body has, and a name that never ends.
        let mut extra = body.clone();
        extra[3] = 4;
        extra[10] = 0xff;
        extra[11] = 0xff;
        assert_eq!(decode("gzip", &extra).unwrap_err(), GzipError::NotGzip);
        let mut name = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 0xff];
        name.extend([b'n'; 20]);
        assert_eq!(decode("gzip", &name).unwrap_err(), GzipError::NotGzip);
    }
}
