//! Interactive sign-in on desktops: a one-shot HTTP listener on the loopback
//! interface receives the authorize redirect (RFC 8252 §7.3), and an
//! injectable [`BrowserOpener`] shows the authorize page.
//!
//! Tests replace the opener with one that drives the provider's pages over
//! HTTP and finally requests the redirect URL, so the whole interactive flow
//! runs without a browser.

use super::cancel::{or_cancel, CancelHandle};
use crate::error::{Flow, IdFlowError, LocalCode};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Shows a URL to the user (normally: opens the system browser).
pub trait BrowserOpener: Send + Sync + std::fmt::Debug {
    /// Starts showing `url` and returns at once. The error text is shown to
    /// the app in an `authentication_ui_failed` error.
    fn open(&self, url: &Url) -> Result<(), String>;
}

/// Opens the system's default browser (`open` on macOS, `cmd /C start` on
/// Windows, `xdg-open` elsewhere).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemBrowser;

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let mut command = if cfg!(target_os = "macos") {
            std::process::Command::new("open")
        } else if cfg!(windows) {
            let mut c = std::process::Command::new("cmd");
            c.args(["/C", "start", ""]);
            c
        } else {
            std::process::Command::new("xdg-open")
        };
        command
            .arg(url.as_str())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("the system browser could not be started: {e}"))
    }
}

/// Where the listener binds and what redirect URI it announces.
#[derive(Clone, Debug)]
pub struct LoopbackOptions {
    /// 0 picks a free port (register `http://localhost` without a port with
    /// the Microsoft identity platform, or a loopback IP with RFC 8252 providers).
    pub port: u16,
    /// The host named in the redirect URI: `localhost` (what the Microsoft
    /// identity platform registers) or `127.0.0.1`. The listener always binds
    /// 127.0.0.1.
    pub redirect_host: String,
    /// The redirect URI's path (`/` by default).
    pub path: String,
    /// Page shown in the browser once the redirect has arrived.
    pub success_html: String,
}

impl Default for LoopbackOptions {
    fn default() -> Self {
        LoopbackOptions {
            port: 0,
            redirect_host: "localhost".to_owned(),
            path: "/".to_owned(),
            success_html: "<!doctype html><title>Signed in</title>\
                <p>Sign-in finished. You can close this window and return to the app.</p>"
                .to_owned(),
        }
    }
}

/// The most a redirect request may be (request line and headers).
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound, not yet answered, loopback listener.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: String,
    options: LoopbackOptions,
}

fn ui_failed(why: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::AuthenticationUiFailed, why).with_flow(Flow::Authorize)
}

impl LoopbackListener {
    /// Binds 127.0.0.1 on the requested port.
    pub async fn bind(options: LoopbackOptions) -> Result<Self, IdFlowError> {
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|e| ui_failed(format!("the loopback listener could not bind: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| ui_failed(format!("the loopback listener has no address: {e}")))?
            .port();
        let path = if options.path.starts_with('/') {
            options.path.clone()
        } else {
            format!("/{}", options.path)
        };
        let redirect_uri = format!("http://{}:{port}{path}", options.redirect_host);
        Ok(LoopbackListener {
            listener,
            redirect_uri,
            options: LoopbackOptions { path, ..options },
        })
    }

    /// The redirect URI to put in the authorize request.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Serves requests until one arrives on the redirect path with a query
    /// (`code=` or `error=`), answers it with the success page, and returns
    /// the full redirect URL. Other requests (a favicon, a probe) get a 404.
    /// Ends with `user_cancelled` when `cancel` fires.
    pub async fn receive(self, cancel: &CancelHandle) -> Result<String, IdFlowError> {
        or_cancel(
            cancel,
            Flow::Authorize,
            "the interactive sign-in",
            self.serve(),
        )
        .await?
    }

    async fn serve(self) -> Result<String, IdFlowError> {
        loop {
            let (mut stream, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| ui_failed(format!("the loopback listener failed: {e}")))?;
            let Ok(Ok(Some(target))) =
                tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream)).await
            else {
                continue;
            };
            let path = target.split('?').next().unwrap_or_default();
            let has_query = target.split_once('?').is_some_and(|(_, q)| !q.is_empty());
            if path == self.options.path && has_query {
                tracing::debug!(
                    target: "idflow::loopback",
                    "the browser reached the loopback redirect"
                );
                respond(&mut stream, "200 OK", &self.options.success_html).await;
                let base = self
                    .redirect_uri
                    .trim_end_matches(self.options.path.as_str());
                return Ok(format!("{base}{target}"));
            }
            tracing::trace!(
                target: "idflow::loopback",
                "a request off the redirect path got a 404"
            );
            respond(&mut stream, "404 Not Found", "").await;
        }
    }
}

/// Reads the request line's target (`/path?query`) of a GET request.
async fn read_target(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST_BYTES {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    Ok(match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
        _ => None,
    })
}

async fn respond(stream: &mut TcpStream, status: &str, html: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    // The browser may already have gone; the redirect was read either way.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> String {
        let u = Url::parse(url).unwrap();
        let mut s = TcpStream::connect(("127.0.0.1", u.port().unwrap()))
            .await
            .unwrap();
        let target = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        };
        let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_one_redirect_and_ignores_other_paths() {
        let opts = LoopbackOptions {
            redirect_host: "127.0.0.1".into(),
            path: "cb".into(),
            ..LoopbackOptions::default()
        };
        let l = LoopbackListener::bind(opts).await.unwrap();
        let uri = l.redirect_uri().to_owned();
        assert!(
            uri.starts_with("http://127.0.0.1:") && uri.ends_with("/cb"),
            "{uri}"
        );
        let cancel = CancelHandle::new();
        let task = tokio::spawn(async move { l.receive(&cancel).await });
        let base = uri.trim_end_matches("/cb").to_owned();
        assert!(get(&format!("{base}/favicon.ico"))
            .await
            .starts_with("HTTP/1.1 404"));
        assert!(get(&uri).await.starts_with("HTTP/1.1 404"), "no query yet");
        let page = get(&format!("{uri}?code=abc&state=s")).await;
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("Sign-in finished"));
        assert_eq!(
            task.await.unwrap().unwrap(),
            format!("{uri}?code=abc&state=s")
        );
    }

    #[tokio::test]
    async fn cancel_stops_waiting() {
        let l = LoopbackListener::bind(LoopbackOptions::default())
            .await
            .unwrap();
        assert!(l.redirect_uri().starts_with("http://localhost:"));
        let cancel = CancelHandle::new();
        cancel.cancel();
        let e = l.receive(&cancel).await.unwrap_err();
        assert_eq!(e.code, "user_cancelled");
    }
}
