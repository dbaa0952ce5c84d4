//! The connection layer. axum's own `serve` hides the sockets; this accept
//! loop keeps a handle on each connection so that a fault can drop it before
//! any response or reset it (TCP RST) in the middle of a body — the failures
//! an app's network error handling must survive.

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// A handle on one connection, placed in every request's extensions.
#[derive(Debug, Default)]
pub struct ConnControl {
    kill: Notify,
    reset: AtomicBool,
    tls: bool,
}

impl ConnControl {
    /// Whether this connection is HTTPS (the scheme a same-origin page has).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Closes the connection now, whatever is in flight.
    pub fn drop_connection(&self) {
        self.kill.notify_one();
    }

    /// Makes the coming close a reset (RST) rather than an orderly FIN.
    pub fn reset_on_close(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }

    async fn killed(&self) {
        self.kill.notified().await;
    }
}

/// The TCP stream, which turns its close into a reset when asked to.
struct Stream {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.control.reset.load(Ordering::SeqCst) {
            // Zero linger: the close sends RST and discards unsent data, as a
            // crashed peer or middlebox would.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `app` on `listener` until `shutdown` turns true; then every open
/// connection (including ones waiting in a delay fault) is closed. With
/// `tls`, each accepted connection is a TLS server session first (the reset
/// and drop faults still act on the TCP stream beneath it).
pub async fn run(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve_connection(
                            stream,
                            app.clone(),
                            tls.clone(),
                            shutdown.clone(),
                        ));
                    }
                    // Out of file descriptors and the like: back off briefly.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            _ = shutdown.changed() => break,
        }
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

/// How long a client may take over the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let control = Arc::new(ConnControl {
        tls: tls.is_some(),
        ..ConnControl::default()
    });
    let stream = Stream {
        inner: stream,
        control: control.clone(),
    };
    match tls {
        None => serve_http(TokioIo::new(stream), control, app, shutdown).await,
        Some(acceptor) => {
            // A client that does not trust the certificate aborts here; the
            // connection just ends.
            let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            serve_http(TokioIo::new(tls), control, app, shutdown).await;
        }
    }
}

async fn serve_http<I>(
    io: TokioIo<I>,
    control: Arc<ConnControl>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let per_request = control.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(per_request.clone());
        app.clone().oneshot(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = control.killed() => {}
        _ = shutdown.changed() => {}
    }
}

/// The most an admin request body may hold (client registrations with
/// certificates are the largest).
const MAX_ADMIN_BODY: usize = 1024 * 1024;

/// Reads an admin request's whole body before its handler runs. A handler
/// that ignores the body (`POST /_admin/reset` with `{}`) would otherwise
/// leave it unread, and hyper then closes the connection after the answer:
/// a client that keeps connections alive (Java's HttpClient, a requests
/// Session) finds the next request on it refused.
pub async fn read_body_first(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_ADMIN_BODY).await {
        Ok(bytes) => {
            next.run(axum::extract::Request::from_parts(
                parts,
                axum::body::Body::from(bytes),
            ))
            .await
        }
        Err(_) => {
            let mut response = axum::response::Response::new(axum::body::Body::from(
                r#"{"error":"bad_request","message":"the request body is over 1 MiB or could not be read"}"#,
            ));
            *response.status_mut() = hyper::StatusCode::PAYLOAD_TOO_LARGE;
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}
