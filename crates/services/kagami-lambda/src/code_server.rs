//! Serves deployment packages for GetFunction's `Code.Location`
//! (`/_kagami/lambda/code/<account>/<region>/<name>[/<version>]`) on a loopback port of its own,
//! started on first use: the gateway's internal endpoints answer JSON only.

use crate::state::Lambda;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use tokio::net::TcpListener;

pub const PATH_PREFIX: &str = "/_kagami/lambda/code/";

/// The address of the package server, starting it if needed.
pub async fn address(lambda: &Arc<Lambda>) -> Option<SocketAddr> {
    let weak = Arc::downgrade(lambda);
    lambda
        .code_server
        .get_or_try_init(|| async move {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            let addr = listener.local_addr()?;
            tokio::spawn(serve(listener, weak));
            Ok::<_, std::io::Error>(addr)
        })
        .await
        .ok()
        .copied()
}

async fn serve(listener: TcpListener, lambda: Weak<Lambda>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        if lambda.strong_count() == 0 {
            break;
        }
        let lambda = lambda.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let lambda = lambda.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&lambda, &req)) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

fn answer(lambda: &Weak<Lambda>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let package = (|| {
        if let Some(rest) = req.uri().path().strip_prefix(crate::layers::LAYER_PATH_PREFIX) {
            return lambda.upgrade()?.layer_package(rest);
        }
        let rest = req.uri().path().strip_prefix(PATH_PREFIX)?;
        let mut parts = rest.split('/');
        let (account, region, name) = (parts.next()?, parts.next()?, parts.next()?);
        lambda.upgrade()?.package(account, region, name, parts.next())
    })();
    let mut response = match package {
        Some(zip) => {
            let mut r = Response::new(Full::new(Bytes::from(zip)));
            r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/zip"));
            r
        }
        None => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"Not Found")));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    };
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    }
    response
}
