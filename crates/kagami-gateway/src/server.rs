//! The TCP server: HTTP/1.1 with keep-alive and HTTP/2 with prior knowledge (h2c) on
//! one port, one task per connection, graceful shutdown.

use crate::Gateway;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long in-flight requests get to finish after shutdown; a long poll (up to 20 s)
/// is cut short rather than holding a Ctrl-C or a test's restart.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves until `shutdown` resolves, then stops accepting, lets open connections finish
/// their requests (up to a grace period), and returns.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gw = Arc::clone(&gateway);
        let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            // Function URL events report the client's address.
            req.extensions_mut()
                .insert(crate::lambda_url::ClientAddr(peer));
            let gw = Arc::clone(&gw);
            async move { Ok::<_, Infallible>(gw.handle(req).await) }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; closing them");
        }
    }
    Ok(())
}
