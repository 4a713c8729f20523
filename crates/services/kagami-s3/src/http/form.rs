//! A `multipart/form-data` body read as it arrives (RFC 7578): part headers and small
//! field values are held in memory, a file part is handed on chunk by chunk so that
//! an upload of any size never sits whole in memory.

use bytes::{Buf, Bytes, BytesMut};
use kagami_protocol::ByteStream;

/// Largest block of part headers.
const MAX_PART_HEADERS: usize = 16 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormError {
    #[error("the Content-Type has no multipart boundary")]
    NoBoundary,
    #[error("the body ended before the closing boundary")]
    Truncated,
    #[error("a part's headers are malformed or too large")]
    BadPartHeaders,
    #[error("the value of field {0} is too large")]
    FieldTooLarge(String),
    #[error("reading the body failed")]
    Read,
}

/// What the headers of a part say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHead {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Just past a delimiter: part headers, or the closing `--`, follow.
    Delimiter,
    /// Inside a part's body.
    Body,
    /// The closing delimiter was read.
    End,
}

pub struct FormReader {
    stream: ByteStream,
    /// `\r\n--<boundary>`: what ends every part's body.
    delimiter: Vec<u8>,
    buf: BytesMut,
    state: State,
    eof: bool,
}

/// The boundary parameter of a `multipart/form-data` Content-Type.
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = haystack.get(from..)?.iter().position(|b| *b == first) {
        let at = from + i;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        // A partial match at the end may complete with the next chunk: the caller
        // keeps `needle.len() - 1` bytes back for that.
        from = at + 1;
    }
    None
}

impl FormReader {
    pub fn new(stream: ByteStream, content_type: &str) -> Result<FormReader, FormError> {
        let b = boundary(content_type).ok_or(FormError::NoBoundary)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(b.as_bytes());
        let mut buf = BytesMut::with_capacity(8 * 1024);
        // The first delimiter has no CRLF before it: one in front makes every
        // delimiter look alike.
        buf.extend_from_slice(b"\r\n");
        Ok(FormReader {
            stream,
            delimiter,
            buf,
            state: State::Preamble,
            eof: false,
        })
    }

    /// Reads more of the body; false at its end.
    async fn fill(&mut self) -> Result<bool, FormError> {
        if self.eof {
            return Ok(false);
        }
        match self.stream.next_chunk().await {
            Some(Ok(chunk)) => {
                self.buf.extend_from_slice(&chunk);
                Ok(true)
            }
            Some(Err(_)) => Err(FormError::Read),
            None => {
                self.eof = true;
                Ok(false)
            }
        }
    }

    /// The headers of the next part, skipping what is left of the current one;
    /// `None` after the closing delimiter.
    pub async fn next_part(&mut self) -> Result<Option<PartHead>, FormError> {
        loop {
            match self.state {
                State::End => return Ok(None),
                State::Preamble | State::Body => {
                    // Skips to the next delimiter.
                    while self.next_chunk().await?.is_some() {}
                }
                State::Delimiter => {
                    while self.buf.len() < 2 {
                        if !self.fill().await? {
                            return Err(FormError::Truncated);
                        }
                    }
                    if self.buf.starts_with(b"--") {
                        self.state = State::End;
                        return Ok(None);
                    }
                    let end = loop {
                        if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                            break i;
                        }
                        if self.buf.len() > MAX_PART_HEADERS {
                            return Err(FormError::BadPartHeaders);
                        }
                        if !self.fill().await? {
                            return Err(FormError::Truncated);
                        }
                    };
                    let block = self.buf.split_to(end + 4);
                    let head = parse_headers(&block).ok_or(FormError::BadPartHeaders)?;
                    self.state = State::Body;
                    return Ok(Some(head));
                }
            }
        }
    }

    /// The next piece of the current part's body; `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, FormError> {
        if !matches!(self.state, State::Body | State::Preamble) {
            return Ok(None);
        }
        loop {
            if let Some(i) = find(&self.buf, &self.delimiter) {
                let piece = self.buf.split_to(i).freeze();
                self.buf.advance(self.delimiter.len());
                let preamble = self.state == State::Preamble;
                self.state = State::Delimiter;
                // The last piece goes out now; the next call, past the delimiter, ends the part.
                return Ok((!preamble && !piece.is_empty()).then_some(piece));
            }
            // Everything but a possible start of the delimiter can go (out, or away in
            // the preamble) now.
            let keep = self.delimiter.len() - 1;
            if self.buf.len() > keep {
                let piece = self.buf.split_to(self.buf.len() - keep).freeze();
                if self.state == State::Body {
                    return Ok(Some(piece));
                }
            }
            if !self.fill().await? {
                return Err(FormError::Truncated);
            }
        }
    }

    /// The whole value of the current part, at most `max` bytes.
    pub async fn read_value(&mut self, name: &str, max: usize) -> Result<Vec<u8>, FormError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            if out.len() + chunk.len() > max {
                return Err(FormError::FieldTooLarge(name.to_string()));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Reads and drops up to `max` bytes of what is left of the body.
    pub async fn drain(mut self, max: u64) {
        let mut dropped = self.buf.len() as u64;
        self.buf.clear();
        while dropped <= max {
            match self.stream.next_chunk().await {
                Some(Ok(chunk)) => dropped += chunk.len() as u64,
                _ => return,
            }
        }
    }

    /// The current part's body as a stream, for the upload: it ends with the part.
    pub fn into_part_stream(self) -> ByteStream {
        ByteStream::unfold(self, |mut reader| async move {
            match reader.next_chunk().await {
                Ok(Some(chunk)) => Some(Ok((chunk, reader))),
                Ok(None) => None,
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        })
    }
}

/// `Content-Disposition: form-data; name="key"; filename="a.txt"` and `Content-Type`.
fn parse_headers(block: &[u8]) -> Option<PartHead> {
    let text = std::str::from_utf8(block).ok()?;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':')?;
        if k.trim().eq_ignore_ascii_case("content-disposition") {
            for param in v.split(';').skip(1) {
                let Some((pk, pv)) = param.split_once('=') else {
                    continue;
                };
                let pv = pv.trim();
                let pv = pv
                    .strip_prefix('"')
                    .and_then(|p| p.strip_suffix('"'))
                    .unwrap_or(pv)
                    .to_string();
                match pk.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(pv),
                    "filename" => filename = Some(pv),
                    _ => {}
                }
            }
        } else if k.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(v.trim().to_string());
        }
    }
    Some(PartHead {
        name: name?,
        filename,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: Vec<&'static [u8]>) -> ByteStream {
        let mut it = chunks.into_iter();
        ByteStream::unfold((), move |()| {
            let next = it
                .next()
                .map(|c| Ok::<_, std::io::Error>((Bytes::from_static(c), ())));
            async move { next }
        })
    }

    const FORM: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--X world\r\n--XyZ--\r\n";

    async fn read_all(
        chunks: Vec<&'static [u8]>,
    ) -> (Vec<(PartHead, Vec<u8>)>, Result<(), FormError>) {
        let mut r = FormReader::new(body(chunks), "multipart/form-data; boundary=XyZ").unwrap();
        let mut parts = Vec::new();
        loop {
            match r.next_part().await {
                Ok(Some(head)) => {
                    let v = match r.read_value(&head.name, 1 << 20).await {
                        Ok(v) => v,
                        Err(e) => return (parts, Err(e)),
                    };
                    parts.push((head, v));
                }
                Ok(None) => return (parts, Ok(())),
                Err(e) => return (parts, Err(e)),
            }
        }
    }

    #[tokio::test]
    async fn fields_and_files_are_read_whatever_the_chunking() {
        let whole = read_all(vec![FORM]).await;
        assert_eq!(whole.1, Ok(()));
        assert_eq!(whole.0.len(), 2);
        assert_eq!(whole.0[0].0.name, "key");
        assert_eq!(whole.0[0].1, b"uploads/${filename}");
        assert_eq!(whole.0[1].0.filename.as_deref(), Some("a.txt"));
        assert_eq!(whole.0[1].0.content_type.as_deref(), Some("text/plain"));
        assert_eq!(whole.0[1].1, b"hello\r\n--X world");
        // Every split point, the delimiter cut anywhere.
        for cut in 1..FORM.len() {
            let (a, b) = FORM.split_at(cut);
            let a: &'static [u8] = a;
            let b: &'static [u8] = b;
            let split = read_all(vec![a, b]).await;
            assert_eq!(split.1, Ok(()), "cut at {cut}");
            assert_eq!(split.0, whole.0, "cut at {cut}");
        }
    }

    #[tokio::test]
    async fn a_body_without_its_closing_boundary_is_truncated() {
        let (_, r) = read_all(vec![&FORM[..FORM.len() - 12]]).await;
        assert_eq!(r, Err(FormError::Truncated));
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("multipart/form-data; charset=x; boundary=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
