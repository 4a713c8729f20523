//! A minimal keep-alive HTTP/1.1 client over a blocking TcpStream: write a request,
//! read one response (Content-Length or chunked). Nothing more is needed to drive an
//! AWS endpoint at full speed.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const READ_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
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

    fn try_roundtrip(&mut self, request: &[u8]) -> Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).with_context(|| format!("connect {}", self.addr))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(READ_TIMEOUT))?;
            self.stream = Some(stream);
        }
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

/// Reads one response; returns it and whether the server will close the connection.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(Response, bool)> {
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
            content_length = Some(value.parse::<usize>().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    buf.drain(..head_end);

    let body = if chunked {
        loop {
            if let Some((body, used)) = decode_chunked(buf)? {
                buf.drain(..used);
                break body;
            }
            fill(stream, buf)?;
        }
    } else if let Some(len) = content_length {
        while buf.len() < len {
            fill(stream, buf)?;
        }
        buf.drain(..len).collect()
    } else if close {
        // Body runs to the end of the connection.
        while fill(stream, buf).is_ok() {}
        std::mem::take(buf)
    } else {
        Vec::new()
    };
    Ok((Response { status, body }, close))
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
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
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

    #[test]
    fn waits_for_the_rest_of_an_incomplete_chunked_body() {
        assert!(decode_chunked(b"5\r\nhel").unwrap().is_none());
        assert!(decode_chunked(b"5\r\nhello\r\n0\r\n").unwrap().is_none());
    }
}
