//! Streaming decoder of `Content-Encoding: aws-chunked` bodies: what current SDKs send
//! for PutObject (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
//!
//! Wire form (AWS "Signature Version 4: streaming payload"):
//! `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=..]\r\n`
//! followed by trailer lines `name:value\r\n` and an empty line. Data passes through as
//! slices of the input chunks; only chunk headers and trailers are buffered, and those are
//! bounded so that a peer cannot make the decoder hold a body in memory.

use bytes::{Bytes, BytesMut};

/// Longest chunk header or trailer line accepted (a signature line is ~100 bytes).
const MAX_LINE: usize = 4096;
/// Most trailer lines accepted (SDKs send one checksum).
const MAX_TRAILERS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    #[error("malformed aws-chunked body: {0}")]
    Malformed(&'static str),
    #[error("aws-chunked body ended before its final chunk")]
    Truncated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Passing through this many data bytes.
    Data(u64),
    /// Expecting the CRLF after a chunk's data; the number of its bytes already seen.
    DataEnd(u8),
    /// Reading trailer lines after the final chunk.
    Trailers,
    Done,
}

/// Decodes one aws-chunked body, fed chunk by chunk.
#[derive(Debug)]
pub struct AwsChunkedDecoder {
    state: State,
    line: BytesMut,
    trailers: Vec<(String, String)>,
}

impl Default for AwsChunkedDecoder {
    fn default() -> Self {
        AwsChunkedDecoder::new()
    }
}

impl AwsChunkedDecoder {
    pub fn new() -> Self {
        AwsChunkedDecoder {
            state: State::Header,
            line: BytesMut::new(),
            trailers: Vec::new(),
        }
    }

    /// The trailers read so far, names lower-cased (`x-amz-checksum-crc32`).
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Feeds the next piece of the encoded body; returns the decoded data in it.
    pub fn push(&mut self, mut input: Bytes) -> Result<Vec<Bytes>, ChunkedError> {
        let mut out = Vec::new();
        while !input.is_empty() {
            match self.state {
                State::Data(remaining) => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    out.push(input.split_to(n));
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd(0)
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd(seen) => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if input.first() != Some(&expected) {
                        return Err(ChunkedError::Malformed("chunk data not followed by CRLF"));
                    }
                    let _ = input.split_to(1);
                    self.state = if seen == 0 {
                        State::DataEnd(1)
                    } else {
                        State::Header
                    };
                }
                State::Header | State::Trailers => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    self.line_done(&line)?;
                }
                State::Done => {
                    // Anything after the terminating empty line is not part of the body.
                    return Err(ChunkedError::Malformed("data after the final chunk"));
                }
            }
        }
        Ok(out)
    }

    /// Checks that the body ended where aws-chunked says it may.
    pub fn finish(&mut self) -> Result<(), ChunkedError> {
        match self.state {
            State::Done => Ok(()),
            // Some clients end with the final chunk and no trailer section.
            State::Trailers if self.line.is_empty() => Ok(()),
            _ => Err(ChunkedError::Truncated),
        }
    }

    /// Moves input into the line buffer up to the next LF; the line without its CRLF once
    /// complete.
    fn take_line(&mut self, input: &mut Bytes) -> Result<Option<BytesMut>, ChunkedError> {
        let end = input.iter().position(|&b| b == b'\n');
        let n = end.map_or(input.len(), |i| i + 1);
        if self.line.len() + n > MAX_LINE {
            return Err(ChunkedError::Malformed("line too long"));
        }
        self.line.extend_from_slice(&input.split_to(n));
        if end.is_none() {
            return Ok(None);
        }
        let mut line = std::mem::take(&mut self.line);
        line.truncate(line.len() - 1);
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        Ok(Some(line))
    }

    fn line_done(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        if self.state == State::Trailers {
            if line.is_empty() {
                self.state = State::Done;
                return Ok(());
            }
            if self.trailers.len() >= MAX_TRAILERS {
                return Err(ChunkedError::Malformed("too many trailers"));
            }
            let text = std::str::from_utf8(line)
                .map_err(|_| ChunkedError::Malformed("trailer is not UTF-8"))?;
            let (name, value) = text
                .split_once(':')
                .ok_or(ChunkedError::Malformed("trailer without ':'"))?;
            self.trailers
                .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            return Ok(());
        }
        let size_field = line.split(|&b| b == b';').next().unwrap_or_default();
        let text = std::str::from_utf8(size_field)
            .map_err(|_| ChunkedError::Malformed("chunk size is not hex"))?;
        let size = u64::from_str_radix(text.trim(), 16)
            .map_err(|_| ChunkedError::Malformed("chunk size is not hex"))?;
        self.state = if size == 0 {
            State::Trailers
        } else {
            State::Data(size)
        };
        Ok(())
    }
}

/// Whether a Content-Encoding header names aws-chunked (it may be listed with others).
pub fn is_aws_chunked(content_encoding: Option<&str>) -> bool {
    content_encoding.is_some_and(|e| {
        e.split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("aws-chunked"))
    })
}

/// The Content-Encoding to store: the header without `aws-chunked`, which is transport only.
pub fn stored_encoding(content_encoding: Option<&str>) -> Option<String> {
    let rest: Vec<&str> = content_encoding?
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!rest.is_empty()).then(|| rest.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded data and trailers.
    type Decoded = (Vec<u8>, Vec<(String, String)>);

    fn decode_in_pieces(body: &[u8], piece: usize) -> Result<Decoded, ChunkedError> {
        let mut d = AwsChunkedDecoder::new();
        let mut out = Vec::new();
        for p in body.chunks(piece) {
            for b in d.push(Bytes::copy_from_slice(p))? {
                out.extend_from_slice(&b);
            }
        }
        d.finish()?;
        Ok((out, d.trailers().to_vec()))
    }

    const UNSIGNED_TRAILER: &[u8] =
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

    #[test]
    fn unsigned_body_with_trailer_decodes_whatever_the_piece_size() {
        for piece in [1, 2, 3, 7, 1000] {
            let (data, trailers) = decode_in_pieces(UNSIGNED_TRAILER, piece).unwrap();
            assert_eq!(data, b"hello world", "piece size {piece}");
            assert_eq!(
                trailers,
                vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
        }
    }

    #[test]
    fn signed_chunks_decode_and_signatures_are_skipped() {
        let body = b"3;chunk-signature=abcdef\r\nabc\r\n0;chunk-signature=012345\r\n\r\n";
        let (data, trailers) = decode_in_pieces(body, 4).unwrap();
        assert_eq!(data, b"abc");
        assert!(trailers.is_empty());
    }

    #[test]
    fn an_empty_object_is_just_the_final_chunk() {
        assert_eq!(decode_in_pieces(b"0\r\n\r\n", 1).unwrap().0, b"");
        assert_eq!(
            decode_in_pieces(b"0\r\n", 1).unwrap().0,
            b"",
            "no trailer section at all"
        );
    }

    #[test]
    fn malformed_and_truncated_bodies_are_refused() {
        assert_eq!(
            decode_in_pieces(b"zz\r\nabc\r\n0\r\n\r\n", 3).unwrap_err(),
            ChunkedError::Malformed("chunk size is not hex")
        );
        assert_eq!(
            decode_in_pieces(b"3\r\nabcX\r\n0\r\n\r\n", 3).unwrap_err(),
            ChunkedError::Malformed("chunk data not followed by CRLF")
        );
        assert_eq!(
            decode_in_pieces(b"5\r\nabc", 3).unwrap_err(),
            ChunkedError::Truncated
        );
        assert_eq!(
            decode_in_pieces(b"0\r\n\r\nmore", 100).unwrap_err(),
            ChunkedError::Malformed("data after the final chunk")
        );
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(
            decode_in_pieces(&long, 512).unwrap_err(),
            ChunkedError::Malformed("line too long")
        );
        assert!(
            decode_in_pieces(b"ffffffffffffffffffff\r\n", 100).is_err(),
            "a size beyond u64 is refused"
        );
    }

    #[test]
    fn aws_chunked_is_recognised_and_dropped_from_the_stored_encoding() {
        assert!(is_aws_chunked(Some("aws-chunked")));
        assert!(is_aws_chunked(Some("gzip, aws-chunked")));
        assert!(!is_aws_chunked(Some("gzip")));
        assert!(!is_aws_chunked(None));
        assert_eq!(stored_encoding(Some("aws-chunked")), None);
        assert_eq!(
            stored_encoding(Some("gzip,aws-chunked")),
            Some("gzip".to_string())
        );
        assert_eq!(stored_encoding(Some("gzip")), Some("gzip".to_string()));
    }
}
