//! Bodies that pass through instead of being held whole: the payload of a streaming
//! blob member (S3's `PutObject` `Body` in, `GetObject` `Body` out). DESIGN.md: object
//! bodies stream; they are never held whole in memory.
//!
//! A [`ByteStream`] is read chunk by chunk with [`ByteStream::next_chunk`]; it is also an
//! [`http_body::Body`], so the gateway can hand one to hyper as a response body. In the
//! [`Value`](crate::Value) tree it travels in a [`StreamSlot`], which keeps `Value`
//! `Clone` and lets the stream be moved out exactly once.

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

/// The error type bodies are erased to.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type DynBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send>>;

/// Why a stream could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The peer went away, or the source failed (a file read, a broken connection).
    #[error("reading the body: {0}")]
    Read(BoxError),
    /// [`ByteStream::collect`] met more bytes than it was allowed to hold.
    #[error("body is larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// A body read chunk by chunk: a request body as it arrives from the client, a file
/// as it is read, or bytes already in memory.
pub struct ByteStream {
    source: Source,
    content_length: Option<u64>,
}

enum Source {
    /// Yielded once, then empty.
    Bytes(Bytes),
    // A mutex that is never locked on the read path (`get_mut` needs `&mut self`, which
    // every read has): it only makes the stream `Sync`, which bodies such as hyper's
    // need not be, so that typed shapes holding one stay `Sync` like every other shape.
    Body(Mutex<DynBody>),
}

impl ByteStream {
    /// Any HTTP body, such as hyper's `Incoming`. The length is the body's exact size
    /// hint, if it has one; [`ByteStream::with_content_length`] sets it otherwise.
    pub fn new<B>(body: B) -> ByteStream
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let content_length = body.size_hint().exact();
        let body: DynBody = Box::pin(body.map_err(Into::into));
        ByteStream { source: Source::Body(Mutex::new(body)), content_length }
    }

    /// Bytes already in memory, as one chunk.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> ByteStream {
        let bytes = bytes.into();
        ByteStream { content_length: Some(bytes.len() as u64), source: Source::Bytes(bytes) }
    }

    pub fn empty() -> ByteStream {
        ByteStream::from_bytes(Bytes::new())
    }

    /// A stream produced by an async step function, like `futures::stream::unfold`:
    /// `f(state)` yields the next chunk and the state for the one after, or `None` at
    /// the end. A file read in pieces is `unfold(file, |f| async { read; Some(Ok((chunk, f))) })`.
    pub fn unfold<S, F, Fut, E>(state: S, f: F) -> ByteStream
    where
        S: Send + 'static,
        F: FnMut(S) -> Fut + Send + 'static,
        Fut: Future<Output = Option<Result<(Bytes, S), E>>> + Send + 'static,
        E: Into<BoxError>,
    {
        ByteStream::new(Unfold { state: Some(state), f, pending: None })
    }

    /// The length the stream declares (`Content-Length`), when known. The bytes that
    /// actually arrive are the reader's to count.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    pub fn with_content_length(mut self, length: Option<u64>) -> ByteStream {
        self.content_length = length;
        self
    }

    /// The next chunk of data; `None` at the end. Empty chunks and trailers are skipped.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, StreamError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, StreamError>>> {
        loop {
            match ready!(Pin::new(&mut *self).poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                    _ => continue,
                },
            }
        }
    }

    /// The whole stream in memory, refusing more than `limit` bytes (early, from the
    /// declared length, when there is one). For small payloads only: policies, XML
    /// configurations, a body a test wants to compare.
    pub async fn collect(mut self, limit: u64) -> Result<Bytes, StreamError> {
        if self.content_length.is_some_and(|n| n > limit) {
            return Err(StreamError::TooLarge { limit });
        }
        if let Source::Bytes(b) = &mut self.source {
            if b.len() as u64 > limit {
                return Err(StreamError::TooLarge { limit });
            }
            return Ok(std::mem::take(b));
        }
        // A body that arrives as one chunk is returned without a copy.
        let mut first: Option<Bytes> = None;
        let mut buf = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(chunk) = self.next_chunk().await {
            let chunk = chunk?;
            total = total.saturating_add(chunk.len() as u64);
            if total > limit {
                return Err(StreamError::TooLarge { limit });
            }
            if first.is_none() && buf.is_empty() {
                first = Some(chunk);
                continue;
            }
            if let Some(f) = first.take() {
                buf.reserve(usize::try_from(self.content_length.unwrap_or(total)).unwrap_or(0).max(f.len()));
                buf.extend_from_slice(&f);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(first.unwrap_or_else(|| buf.freeze()))
    }
}

impl Default for ByteStream {
    fn default() -> Self {
        ByteStream::empty()
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Bytes(_) => "bytes",
            Source::Body(_) => "body",
        };
        f.debug_struct("ByteStream").field("source", &source).field("content_length", &self.content_length).finish()
    }
}

impl From<Bytes> for ByteStream {
    fn from(b: Bytes) -> Self {
        ByteStream::from_bytes(b)
    }
}

impl Body for ByteStream {
    type Data = Bytes;
    type Error = StreamError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        match &mut self.get_mut().source {
            Source::Bytes(b) if b.is_empty() => Poll::Ready(None),
            Source::Bytes(b) => Poll::Ready(Some(Ok(Frame::data(std::mem::take(b))))),
            Source::Body(body) => {
                let body = body.get_mut().unwrap_or_else(PoisonError::into_inner);
                body.as_mut().poll_frame(cx).map(|frame| frame.map(|r| r.map_err(StreamError::Read)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.source {
            Source::Bytes(b) => b.is_empty(),
            Source::Body(body) => body.lock().is_ok_and(|b| b.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.source, self.content_length) {
            (Source::Bytes(b), _) => SizeHint::with_exact(b.len() as u64),
            (_, Some(n)) => SizeHint::with_exact(n),
            (Source::Body(body), None) => body.lock().map(|b| b.size_hint()).unwrap_or_default(),
        }
    }
}

/// The body behind [`ByteStream::unfold`].
struct Unfold<S, F, Fut> {
    state: Option<S>,
    f: F,
    pending: Option<Pin<Box<Fut>>>,
}

// The state and the step function are moved, never pinned; the future that is polled
// is pinned in its own box. So `Unfold` may move while pinned, whatever `S` and `F` are.
impl<S, F, Fut> Unpin for Unfold<S, F, Fut> {}

impl<S, F, Fut, E> Body for Unfold<S, F, Fut>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Option<Result<(Bytes, S), E>>>,
    E: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            if let Some(step) = &mut this.pending {
                let next = ready!(step.as_mut().poll(cx));
                this.pending = None;
                return Poll::Ready(match next {
                    None => None,
                    Some(Ok((chunk, state))) => {
                        this.state = Some(state);
                        Some(Ok(Frame::data(chunk)))
                    }
                    Some(Err(e)) => Some(Err(e.into())),
                });
            }
            let Some(state) = this.state.take() else { return Poll::Ready(None) };
            this.pending = Some(Box::pin((this.f)(state)));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.state.is_none() && self.pending.is_none()
    }
}

/// Where a [`ByteStream`] sits in a [`Value`](crate::Value) tree. Cloning the tree
/// shares the slot, and the one stream in it is moved out once, by [`StreamSlot::take`]:
/// whoever consumes the payload (the provider's typed input, the serializer) owns it.
#[derive(Clone, Default)]
pub struct StreamSlot(Arc<Mutex<Option<ByteStream>>>);

impl StreamSlot {
    pub fn new(stream: ByteStream) -> StreamSlot {
        StreamSlot(Arc::new(Mutex::new(Some(stream))))
    }

    /// The stream, the first time; `None` after that.
    pub fn take(&self) -> Option<ByteStream> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// The declared length of the stream still in the slot.
    pub fn content_length(&self) -> Option<u64> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(ByteStream::content_length)
    }
}

/// Two slots are equal when they are the same slot: streams cannot be compared
/// without consuming them.
impl PartialEq for StreamSlot {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for StreamSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(s) => f.debug_tuple("StreamSlot").field(s).finish(),
            None => f.write_str("StreamSlot(taken)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use std::convert::Infallible;

    fn counting(chunks: usize, size: usize) -> ByteStream {
        ByteStream::unfold(0usize, move |i| async move {
            (i < chunks).then(|| Ok::<_, Infallible>((Bytes::from(vec![i as u8; size]), i + 1)))
        })
    }

    #[tokio::test]
    async fn bytes_come_out_as_one_chunk_and_then_the_end() {
        let mut s = ByteStream::from_bytes("hello");
        assert_eq!(s.content_length(), Some(5));
        assert_eq!(s.next_chunk().await.unwrap().unwrap(), "hello");
        assert!(s.next_chunk().await.is_none());
        assert!(s.next_chunk().await.is_none(), "the end stays the end");
        assert!(ByteStream::empty().next_chunk().await.is_none(), "an empty body has no chunk");
    }

    #[tokio::test]
    async fn unfold_yields_each_chunk_in_order() {
        let mut s = counting(3, 4);
        assert_eq!(s.content_length(), None, "an unfolded stream declares no length");
        let mut seen = Vec::new();
        while let Some(chunk) = s.next_chunk().await {
            seen.push(chunk.unwrap());
        }
        assert_eq!(seen, vec![Bytes::from(vec![0; 4]), Bytes::from(vec![1; 4]), Bytes::from(vec![2; 4])]);
    }

    #[tokio::test]
    async fn collect_joins_chunks_and_enforces_the_limit() {
        assert_eq!(counting(3, 2).collect(6).await.unwrap(), Bytes::from_static(&[0, 0, 1, 1, 2, 2]));
        assert!(matches!(counting(3, 2).collect(5).await, Err(StreamError::TooLarge { limit: 5 })));
        let declared = ByteStream::new(Full::new(Bytes::from_static(b"abcdef")));
        assert_eq!(declared.content_length(), Some(6), "a body's exact size is its length");
        assert!(
            matches!(declared.collect(3).await, Err(StreamError::TooLarge { limit: 3 })),
            "a declared length over the limit is refused before reading"
        );
        assert_eq!(ByteStream::from_bytes("x").collect(1).await.unwrap(), "x");
        let undeclared = ByteStream::from_bytes("xy").with_content_length(None);
        assert!(matches!(undeclared.collect(1).await, Err(StreamError::TooLarge { limit: 1 })));
    }

    #[tokio::test]
    async fn empty_frames_and_trailers_are_skipped() {
        let frames = Frames(
            [Frame::data(Bytes::new()), Frame::data(Bytes::from_static(b"a")), Frame::trailers(http::HeaderMap::new())]
                .into(),
        );
        let mut s = ByteStream::new(frames);
        assert_eq!(s.next_chunk().await.unwrap().unwrap(), "a");
        assert!(s.next_chunk().await.is_none());
    }

    #[tokio::test]
    async fn a_failing_source_reports_its_error_and_ends() {
        let mut s = ByteStream::unfold(0, |i| async move {
            match i {
                0 => Some(Ok((Bytes::from_static(b"first"), 1))),
                _ => Some(Err(std::io::Error::other("disk gone"))),
            }
        });
        assert_eq!(s.next_chunk().await.unwrap().unwrap(), "first");
        let err = s.next_chunk().await.unwrap().unwrap_err();
        assert!(matches!(&err, StreamError::Read(e) if e.to_string() == "disk gone"), "{err}");
        assert!(s.next_chunk().await.is_none());
    }

    #[tokio::test]
    async fn a_slot_hands_its_stream_out_once_and_compares_by_identity() {
        let slot = StreamSlot::new(ByteStream::from_bytes("abc"));
        let copy = slot.clone();
        assert_eq!(slot, copy);
        assert_ne!(slot, StreamSlot::new(ByteStream::empty()));
        assert_eq!(copy.content_length(), Some(3));
        let s = slot.take().unwrap();
        assert!(copy.take().is_none(), "a clone shares the one stream");
        assert_eq!(s.collect(10).await.unwrap(), "abc");
    }

    #[test]
    fn streams_and_slots_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ByteStream>();
        send_sync::<StreamSlot>();
        send_sync::<crate::Value>();
    }

    /// A body that yields the frames it was given.
    struct Frames(std::collections::VecDeque<Frame<Bytes>>);
    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.get_mut().0.pop_front().map(Ok))
        }
    }
}
