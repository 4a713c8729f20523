//! Request bodies in, response bodies out.
//!
//! Request bodies are collected whole, up to a limit, because every protocol needs the
//! whole document; the one exception, a streaming payload (S3 object bodies), reaches
//! the provider as a [`ByteStream`] instead (see `dispatch`). Response bodies are
//! likewise whole, or a stream polled chunk by chunk (S3 `GetObject`).

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use kagami_protocol::ByteStream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the gateway answers with.
#[derive(Debug, Default)]
pub struct ResponseBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream(ByteStream),
}

impl Default for Kind {
    fn default() -> Self {
        Kind::Full(None)
    }
}

impl ResponseBody {
    pub fn full(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        ResponseBody {
            kind: Kind::Full((!data.is_empty()).then_some(data)),
        }
    }

    pub fn empty() -> Self {
        ResponseBody::default()
    }

    /// A body sent as the stream yields it; its declared length, if any, is the size
    /// hint (the `Content-Length` header, when set, is what hyper sends).
    pub fn stream(stream: ByteStream) -> Self {
        ResponseBody {
            kind: Kind::Stream(stream),
        }
    }

    /// The whole body, for tests and in-process callers; empty for a stream, which
    /// only polling reads.
    pub fn bytes(&self) -> Bytes {
        match &self.kind {
            Kind::Full(data) => data.clone().unwrap_or_default(),
            Kind::Stream(_) => Bytes::new(),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            // An error mid-stream (a file that vanished) can only cut the response
            // short: hyper then closes the connection, and the client sees it truncated.
            Kind::Stream(stream) => Pin::new(stream)
                .poll_frame(cx)
                .map(|frame| frame.map(|r| r.map_err(std::io::Error::other))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
            Kind::Stream(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Stream(stream) => stream.size_hint(),
        }
    }
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("reading the request body: {0}")]
    Read(String),
}

/// Collects a request body, refusing one larger than `limit` bytes (early, from
/// `Content-Length`, when the client declared it).
pub async fn collect<B>(
    body: B,
    content_length: Option<u64>,
    limit: usize,
) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if content_length.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge { limit }),
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}
