//! The Lambda Runtime API that one execution environment's runtime talks to, served on
//! its own loopback port: `GET /2018-06-01/runtime/invocation/next` hands out the next
//! event, `.../{id}/response` and `.../{id}/error` answer it, `init/error` reports a
//! runtime that could not start.
//! https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";

/// One event on its way to the runtime.
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: i64,
    pub function_arn: String,
    pub trace_id: String,
    /// The caller's ClientContext, base64-decoded (JSON).
    pub client_context: Option<String>,
}

/// What the runtime answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// `/error` or `/init/error`: Lambda's error document and the runtime's error type.
    Error { body: Bytes, init: bool },
}

/// The invocation in flight: its request id and where its answer goes.
type Waiter = Arc<Mutex<Option<(String, oneshot::Sender<Outcome>)>>>;

pub struct Server {
    pub addr: SocketAddr,
    pub events: mpsc::Sender<Invocation>,
    current: Waiter,
    /// An init error posted before anyone waited for an answer.
    early_init_error: Arc<Mutex<Option<Bytes>>>,
    /// When the runtime first asked for an event: the end of its init phase.
    pub ready: Arc<std::sync::OnceLock<std::time::Instant>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    ready: Arc<std::sync::OnceLock<std::time::Instant>>,
    events: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    current: Waiter,
    early_init_error: Arc<Mutex<Option<Bytes>>>,
}

impl Server {
    pub async fn start() -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(1);
        let current = Arc::new(Mutex::new(None));
        let ready = Arc::new(std::sync::OnceLock::new());
        let early_init_error = Arc::new(Mutex::new(None));
        let shared = Arc::new(Shared {
            ready: Arc::clone(&ready),
            events: tokio::sync::Mutex::new(rx),
            current: Arc::clone(&current),
            early_init_error: Arc::clone(&early_init_error),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(Arc::clone(&shared), req));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Ok(Server { addr, events: tx, current, early_init_error, ready, task })
    }

    /// Registers where the answer to `request_id` goes; call before sending the event.
    pub fn expect(&self, request_id: &str) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        let mut current = self.current.lock();
        // A runtime that failed to load its handler may have said so before the first
        // invoke was registered: that invoke gets the error.
        match self.early_init_error.lock().take() {
            Some(body) => drop(tx.send(Outcome::Error { body, init: true })),
            None => *current = Some((request_id.to_string(), tx)),
        }
        rx
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

/// Hands the answer to whoever waits for `request_id` (any waiter for an init error).
fn deliver(shared: &Shared, request_id: Option<&str>, outcome: Outcome) -> bool {
    let mut current = shared.current.lock();
    let matches = match (&*current, request_id) {
        (Some((id, _)), Some(want)) => id == want,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !matches {
        return false;
    }
    current.take().is_some_and(|(_, tx)| tx.send(outcome).is_ok())
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}"));
    };
    let method = req.method().clone();
    if method == Method::GET && rest == "/invocation/next" {
        let _ = shared.ready.set(std::time::Instant::now());
        let next = shared.events.lock().await.recv().await;
        let Some(inv) = next else {
            return Ok(reply(StatusCode::GONE, "{\"errorMessage\":\"environment stopping\"}"));
        };
        let mut r = Response::new(Full::new(inv.payload));
        let h = r.headers_mut();
        let mut set = |name: &'static str, value: String| {
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        };
        set("lambda-runtime-aws-request-id", inv.request_id);
        set("lambda-runtime-deadline-ms", inv.deadline_ms.to_string());
        set("lambda-runtime-invoked-function-arn", inv.function_arn);
        set("lambda-runtime-trace-id", inv.trace_id);
        if let Some(cc) = inv.client_context {
            set("lambda-runtime-client-context", cc);
        }
        set("content-type", "application/json".to_string());
        return Ok(r);
    }
    if method != Method::POST {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "{\"errorMessage\":\"method not allowed\"}"));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "{\"errorMessage\":\"unreadable body\"}")),
    };
    if rest == "/init/error" {
        let current = shared.current.lock();
        if current.is_none() {
            *shared.early_init_error.lock() = Some(body);
            return Ok(reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"));
        }
        drop(current);
        deliver(&shared, None, Outcome::Error { body, init: true });
        return Ok(reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"));
    }
    let Some(tail) = rest.strip_prefix("/invocation/") else {
        return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}"));
    };
    let (id, outcome) = if let Some(id) = tail.strip_suffix("/response") {
        (id, Outcome::Response(body))
    } else if let Some(id) = tail.strip_suffix("/error") {
        (id, Outcome::Error { body, init: false })
    } else {
        return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"not found\"}"));
    };
    if deliver(&shared, Some(id), outcome) {
        Ok(reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"))
    } else {
        Ok(reply(
            StatusCode::BAD_REQUEST,
            "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}",
        ))
    }
}
