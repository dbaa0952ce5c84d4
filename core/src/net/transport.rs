//! The default [`HttpClient`]: reqwest with rustls.
//!
//! Bounded everywhere: a connect timeout, an overall timeout (connect, send
//! and the whole body), and a body read that stops one byte past
//! [`MAX_ERROR_BODY_BYTES`] so the classifier reports it as too large instead
//! of this process buffering whatever a broken proxy streams. Redirects are
//! never followed: an identity provider answering a token request with a
//! redirect is itself the failure to report. Every transport failure is mapped
//! to the precise [`NetworkKind`] the language layers turn into their
//! platform's own error.

use crate::error::{
    text_lossy, HttpResponse, IdFlowError, LocalCode, NetworkKind, MAX_ERROR_BODY_BYTES,
};
use crate::net::http::{BoxFuture, HttpClient, HttpRequest, Method, TransportError};
use crate::net::proxy::{ProxyConfig, ProxyRules};
use std::error::Error as StdError;
use std::io;
use std::time::Duration;

/// Settings for [`ReqwestHttpClient`].
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Time allowed to establish the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange, body included.
    pub timeout: Duration,
    /// Extra trusted root certificates, each PEM (one or more certificates)
    /// or DER. They are added to the system's roots, not instead of them: use
    /// this for a test server's self-signed certificate or a private CA.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Which proxy each request goes through (`requests`' rules: the app's
    /// map, then `HTTPS_PROXY` / `NO_PROXY` unless turned off).
    pub proxy: ProxyConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            extra_root_certificates: Vec::new(),
            proxy: ProxyConfig::default(),
        }
    }
}

/// Timeouts, no redirects and the proxy rules: what every client here shares.
fn base_builder(config: &HttpConfig) -> Result<reqwest::ClientBuilder, IdFlowError> {
    // reqwest's own reading of the environment (upper case first, no
    // `requests` map) is replaced by the rules of `net/proxy.rs`.
    let rules = ProxyRules::new(&config.proxy)?;
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if !rules.is_direct() {
        builder = builder
            .proxy(reqwest::Proxy::custom(move |url| rules.proxy_for(url)))
            // Forward proxies (tinyproxy, squid in some setups) close a
            // client connection after each answer without saying so; a
            // pooled connection then fails the next token request with
            // "connection closed before message completed". Identity
            // calls are rare: a fresh connection each time costs little.
            .pool_max_idle_per_host(0);
    }
    Ok(builder)
}

fn build(builder: reqwest::ClientBuilder) -> Result<ReqwestHttpClient, IdFlowError> {
    let client = builder.build().map_err(|e| {
        IdFlowError::local(
            LocalCode::InvalidParameter,
            format!("the HTTP client could not be built: {}", describe(&e)),
        )
    })?;
    Ok(ReqwestHttpClient { client })
}

/// reqwest + rustls, configured as the module docs describe.
#[derive(Clone, Debug)]
pub struct ReqwestHttpClient {
    client: reqwest::Client,
}

impl ReqwestHttpClient {
    /// Builds the client. Fails (`invalid_parameter`) when an extra root
    /// certificate cannot be parsed or the TLS setup is rejected.
    pub fn new(config: &HttpConfig) -> Result<Self, IdFlowError> {
        // The TLS settings (the system's roots read and parsed) are made once
        // per process and shared: see `net/tls.rs`.
        let tls = crate::net::tls::client_config(&config.extra_root_certificates)?;
        build(base_builder(config)?.tls_backend_preconfigured(tls))
    }

    /// A client that trusts exactly the server whose certificate has the
    /// SHA-1 thumbprint `pin` (no roots, no host name check: see
    /// `net/pinned.rs`), with `config`'s timeouts and proxies. For Service
    /// Fabric's managed identity endpoint.
    pub fn with_pinned_server(
        config: &HttpConfig,
        pin: crate::net::pinned::Thumbprint,
    ) -> Result<Self, IdFlowError> {
        let tls = crate::net::pinned::client_config(pin)?;
        build(base_builder(config)?.tls_backend_preconfigured(tls))
    }

    /// Wraps a client the app built itself (its own proxy, resolver or TLS
    /// settings). The app is responsible for disabling redirects and setting
    /// timeouts; the body cap and the error mapping still apply.
    pub fn from_client(client: reqwest::Client) -> Self {
        ReqwestHttpClient { client }
    }

    async fn execute(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut builder = match request.method {
            Method::Get => self.client.get(request.url.clone()),
            Method::Post => self.client.post(request.url.clone()),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if request.method == Method::Post && !request.form.is_empty() {
            builder = builder.form(&request.form);
        }
        let mut response = builder.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), text_lossy(v.as_bytes()).into_owned()))
            .collect();
        // Sized once from Content-Length (within the cap) where it is given.
        let mut body = Vec::with_capacity(
            response
                .content_length()
                .map_or(0, |n| n.min(MAX_ERROR_BODY_BYTES as u64 + 1) as usize),
        );
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
            let room = (MAX_ERROR_BODY_BYTES + 1).saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() > MAX_ERROR_BODY_BYTES {
                // One byte past the cap is enough for the classifier to call
                // it too large; dropping the response closes the connection.
                break;
            }
        }
        Ok(HttpResponse::new(status, headers, body))
    }
}

impl HttpClient for ReqwestHttpClient {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move { self.execute(&request).await })
    }

    fn send_ref<'a>(
        &'a self,
        request: &'a HttpRequest,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        Box::pin(self.execute(request))
    }
}

/// Maps a reqwest failure to the transport failure it is.
pub fn transport_error(e: &reqwest::Error) -> TransportError {
    TransportError::new(network_kind(e), describe(e))
}

/// Which transport failure a reqwest error is. The order matters: a timeout
/// wins over the connect error that carries it, and TLS is recognised before
/// the I/O error that wraps it.
pub fn network_kind(e: &reqwest::Error) -> NetworkKind {
    if e.is_timeout() {
        return NetworkKind::Timeout;
    }
    if e.is_dns() {
        return NetworkKind::Dns;
    }
    let mut io_kind = None;
    let mut hyper_lost = false;
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if err.is::<rustls::Error>() {
            return NetworkKind::Tls;
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            hyper_lost |= h.is_incomplete_message() || h.is_closed() || h.is_canceled();
        }
        next = err.source();
        if let Some(io) = err.downcast_ref::<io::Error>() {
            io_kind = io_kind.or_else(|| io_network_kind(io.kind()));
            // `io::Error::source` skips the wrapped error itself (where
            // hyper-rustls puts the rustls::Error): descend into it.
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
            }
        }
    }
    if let Some(kind) = io_kind {
        return kind;
    }
    if hyper_lost || e.is_body() || e.is_decode() {
        return NetworkKind::ConnectionLost;
    }
    if e.is_connect() {
        return NetworkKind::ConnectionRefused;
    }
    NetworkKind::ConnectionLost
}

fn io_network_kind(kind: io::ErrorKind) -> Option<NetworkKind> {
    use io::ErrorKind as K;
    Some(match kind {
        K::TimedOut => NetworkKind::Timeout,
        K::ConnectionRefused => NetworkKind::ConnectionRefused,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            NetworkKind::ConnectionLost
        }
        K::NetworkUnreachable | K::HostUnreachable | K::NetworkDown | K::AddrNotAvailable => {
            NetworkKind::NotConnected
        }
        _ => return None,
    })
}

/// The error and its causes on one line. reqwest's messages name the URL but
/// never the body, so this is safe to log; the URL's query is dropped anyway.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    let joined = parts.join(": ");
    match e.url().and_then(|u| u.query()) {
        Some(q) if !q.is_empty() => joined.replace(q, "[redacted]"),
        _ => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds() {
        assert_eq!(
            io_network_kind(io::ErrorKind::ConnectionReset),
            Some(NetworkKind::ConnectionLost)
        );
        assert_eq!(
            io_network_kind(io::ErrorKind::HostUnreachable),
            Some(NetworkKind::NotConnected)
        );
        assert_eq!(io_network_kind(io::ErrorKind::Other), None);
    }

    #[test]
    fn bad_extra_root_is_a_client_error() {
        let config = HttpConfig {
            extra_root_certificates: vec![b"-----BEGIN CERTIFICATE-----\nnot base64!\n".to_vec()],
            ..HttpConfig::default()
        };
        let e = ReqwestHttpClient::new(&config).unwrap_err();
        assert_eq!(e.code, "invalid_parameter");
        for junk in [
            b"\x30\x03\x02\x01".to_vec(),
            b"-----BEGIN NOTHING-----".to_vec(),
        ] {
            let config = HttpConfig {
                extra_root_certificates: vec![junk],
                ..HttpConfig::default()
            };
            assert_eq!(
                ReqwestHttpClient::new(&config).unwrap_err().code,
                "invalid_parameter"
            );
        }
    }
}
