//! A minimal keep-alive HTTP/1.1 client over a blocking TcpStream: write a request,
//! read one response (Content-Length or chunked). Nothing more is needed to drive an
//! AWS endpoint at full speed. Large bodies are streamed both ways (`Conn::stream`)
//! so that a gigabyte object never sits in the client's memory.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Large bodies are read straight into this much scratch space at a time.
const STREAM_READ_SIZE: usize = 256 * 1024;
/// Error bodies kept by `Conn::stream`; AWS's error documents are far smaller.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A response whose body went to a sink rather than into memory.
pub struct Streamed {
    pub status: u16,
    /// Bytes of body handed to the sink (2xx) or read into `error_body` (others).
    pub body_len: u64,
    /// The body of a non-2xx response, for the error message.
    pub error_body: Vec<u8>,
}

pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        Conn { addr, stream: None, buf: Vec::with_capacity(16 * 1024) }
    }

    /// Sends one request and reads its response, reconnecting when the server closed
    /// the previous connection.
    pub fn roundtrip(&mut self, request: &[u8]) -> Result<Response> {
        let result = self.try_roundtrip(request);
        if result.is_err() {
            self.stream = None;
            self.buf.clear();
        }
        result
    }

    /// Sends `head` (a request head from `encode_head`), then the body `write_body`
    /// writes, and reads the response: a 2xx body goes to `sink` piece by piece as it
    /// arrives, any other is kept (bounded) for the error message.
    pub fn stream(
        &mut self,
        head: &[u8],
        write_body: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<Streamed> {
        let result = self.try_stream(head, write_body, sink);
        if result.is_err() {
            self.stream = None;
            self.buf.clear();
        }
        result
    }

    fn try_stream(
        &mut self,
        head: &[u8],
        write_body: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<Streamed> {
        self.connect()?;
        let Some(stream) = self.stream.as_mut() else { bail!("no connection") };
        let sent = stream.write_all(head).context("write request head").and_then(|()| write_body(stream));
        if let Err(e) = sent {
            // A server that refuses the body answers and closes before reading it
            // all; its answer says why, so prefer it to the broken pipe.
            return match read_response(stream, &mut self.buf) {
                Ok((response, _)) => Ok(Streamed {
                    status: response.status,
                    body_len: response.body.len() as u64,
                    error_body: response.body,
                }),
                Err(_) => Err(e.context("write request body")),
            };
        }
        let head = read_head(stream, &mut self.buf)?;
        let mut error_body = Vec::new();
        let mut keep_error = |piece: &[u8]| {
            let room = MAX_ERROR_BODY.saturating_sub(error_body.len());
            error_body.extend_from_slice(&piece[..piece.len().min(room)]);
            Ok(())
        };
        let to: &mut dyn FnMut(&[u8]) -> Result<()> = if (200..300).contains(&head.status) { sink } else { &mut keep_error };
        let body_len = stream_body(stream, &mut self.buf, &head, to)?;
        if head.close {
            self.stream = None;
            self.buf.clear();
        }
        Ok(Streamed { status: head.status, body_len, error_body })
    }

    fn connect(&mut self) -> Result<()> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).with_context(|| format!("connect {}", self.addr))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(READ_TIMEOUT))?;
            stream.set_write_timeout(Some(READ_TIMEOUT))?;
            self.stream = Some(stream);
        }
        Ok(())
    }

    fn try_roundtrip(&mut self, request: &[u8]) -> Result<Response> {
        self.connect()?;
        let Some(stream) = self.stream.as_mut() else { bail!("no connection") };
        stream.write_all(request).context("write request")?;
        let (response, close) = read_response(stream, &mut self.buf)?;
        if close {
            self.stream = None;
            self.buf.clear();
        }
        Ok(response)
    }
}

struct Head {
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
    /// The server closes the connection after this response.
    close: bool,
}

/// Reads a response head and removes it from `buf`.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Head> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf)?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut content_length = None;
    let mut chunked = false;
    let mut close = status_line.starts_with("HTTP/1.0");
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse::<u64>().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    buf.drain(..head_end);
    Ok(Head { status, content_length, chunked, close })
}

/// Reads one response; returns it and whether the server will close the connection.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(Response, bool)> {
    let head = read_head(stream, buf)?;
    let body = if head.chunked {
        loop {
            if let Some((body, used)) = decode_chunked(buf)? {
                buf.drain(..used);
                break body;
            }
            fill(stream, buf)?;
        }
    } else if let Some(len) = head.content_length {
        let len = usize::try_from(len).context("Content-Length too large")?;
        while buf.len() < len {
            fill(stream, buf)?;
        }
        buf.drain(..len).collect()
    } else if head.close {
        // Body runs to the end of the connection.
        while fill(stream, buf).is_ok() {}
        std::mem::take(buf)
    } else {
        Vec::new()
    };
    Ok((Response { status: head.status, body }, head.close))
}

/// Hands a response body to `sink` as it arrives, without collecting it; returns its
/// length.
fn stream_body(stream: &mut TcpStream, buf: &mut Vec<u8>, head: &Head, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
    let mut scratch = vec![0u8; STREAM_READ_SIZE];
    if head.chunked {
        let mut total = 0;
        loop {
            let line_len = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(stream, buf)?;
            };
            let size_text = std::str::from_utf8(&buf[..line_len])?;
            let size_hex = size_text.split(';').next().unwrap_or_default().trim();
            let size = u64::from_str_radix(size_hex, 16).with_context(|| format!("bad chunk size {size_hex:?}"))?;
            buf.drain(..line_len + 2);
            if size == 0 {
                // Trailers end with an empty line.
                loop {
                    let Some(len) = find(buf, b"\r\n") else {
                        fill(stream, buf)?;
                        continue;
                    };
                    buf.drain(..len + 2);
                    if len == 0 {
                        return Ok(total);
                    }
                }
            }
            pass_through(stream, buf, size, &mut scratch, sink)?;
            total += size;
            while buf.len() < 2 {
                fill(stream, buf)?;
            }
            if &buf[..2] != b"\r\n" {
                bail!("chunk not followed by CRLF");
            }
            buf.drain(..2);
        }
    } else if let Some(len) = head.content_length {
        pass_through(stream, buf, len, &mut scratch, sink)?;
        Ok(len)
    } else if head.close {
        let mut total = buf.len() as u64;
        sink(buf)?;
        buf.clear();
        loop {
            let n = stream.read(&mut scratch).context("read response")?;
            if n == 0 {
                return Ok(total);
            }
            sink(&scratch[..n])?;
            total += n as u64;
        }
    } else {
        Ok(0)
    }
}

/// Hands the next `len` body bytes to `sink`: first what `buf` already holds, then
/// straight from the socket, never reading past them (the next response stays unread).
fn pass_through(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    len: u64,
    scratch: &mut [u8],
    sink: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let buffered = usize::try_from(len).unwrap_or(usize::MAX).min(buf.len());
    sink(&buf[..buffered])?;
    buf.drain(..buffered);
    let mut remaining = len - buffered as u64;
    while remaining > 0 {
        let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(scratch.len());
        let n = stream.read(&mut scratch[..want]).context("read response body")?;
        if n == 0 {
            bail!("connection closed by the server with {remaining} body bytes to come");
        }
        sink(&scratch[..n])?;
        remaining -= n as u64;
    }
    Ok(())
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).context("read response")?;
    if n == 0 {
        bail!("connection closed by the server");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A complete chunked body at the start of `buf`: (body, bytes consumed); None if
/// more input is needed.
fn decode_chunked(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(line_len) = find(&buf[pos..], b"\r\n") else { return Ok(None) };
        let size_text = std::str::from_utf8(&buf[pos..pos + line_len])?;
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).with_context(|| format!("bad chunk size {size_hex:?}"))?;
        pos += line_len + 2;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let Some(len) = find(&buf[pos..], b"\r\n") else { return Ok(None) };
                pos += len + 2;
                if len == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

/// Serializes a request with `Content-Length`; `headers` excludes Host and length.
pub fn encode_request(method: &str, host: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut bytes = encode_head(method, host, path, headers, body.len() as u64);
    bytes.extend_from_slice(body);
    bytes
}

/// A request head announcing a body of `content_length` bytes, to be sent after it.
pub fn encode_head(method: &str, host: &str, path: &str, headers: &[(&str, &str)], content_length: u64) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {content_length}\r\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_chunked_body_with_trailers() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT";
        let (body, used) = decode_chunked(wire).unwrap().unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(&wire[used..], b"NEXT");
    }

    /// Serves `wire` as the answer to whatever arrives, then closes.
    fn canned_server(wire: &'static [u8]) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = s.read(&mut request);
            s.write_all(wire).unwrap();
        });
        addr
    }

    fn stream_from(wire: &'static [u8]) -> (Streamed, Vec<Vec<u8>>) {
        let mut conn = Conn::new(canned_server(wire));
        let mut pieces = Vec::new();
        let head = encode_head("GET", "h", "/", &[], 0);
        let streamed = conn
            .stream(&head, &mut |_| Ok(()), &mut |p: &[u8]| {
                pieces.push(p.to_vec());
                Ok(())
            })
            .unwrap();
        (streamed, pieces)
    }

    #[test]
    fn streams_a_chunked_body_to_the_sink() {
        let (streamed, pieces) =
            stream_from(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assert_eq!(streamed.status, 200);
        assert_eq!(streamed.body_len, 11);
        assert_eq!(pieces.concat(), b"hello world");
    }

    #[test]
    fn streams_a_sized_body_to_the_sink() {
        let (streamed, pieces) = stream_from(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((streamed.status, streamed.body_len), (200, 5));
        assert_eq!(pieces.concat(), b"hello");
    }

    #[test]
    fn keeps_an_error_body_out_of_the_sink() {
        let (streamed, pieces) = stream_from(b"HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\n<Error>");
        assert_eq!(streamed.status, 404);
        assert_eq!(streamed.error_body, b"<Error>");
        assert!(pieces.is_empty());
    }

    #[test]
    fn waits_for_the_rest_of_an_incomplete_chunked_body() {
        assert!(decode_chunked(b"5\r\nhel").unwrap().is_none());
        assert!(decode_chunked(b"5\r\nhello\r\n0\r\n").unwrap().is_none());
    }
}
