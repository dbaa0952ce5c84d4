//! Interactive sign-in on desktops: an HTTP listener on the loopback
//! interface receives the authorize redirect (RFC 8252 §7.3), and an
//! injectable [`BrowserOpener`] shows the authorize page.
//!
//! The listener serves connections concurrently, ends the wait only for the
//! request that carries this sign-in's `state` (a forged request from
//! another local page gets an error page, and the wait goes on), and gives up
//! after [`LoopbackOptions::timeout`].
//!
//! Tests replace the opener with one that drives the provider's pages over
//! HTTP and finally requests the redirect URL, so the whole interactive flow
//! runs without a browser.

use super::cancel::{or_cancel, CancelHandle};
use crate::error::{Flow, IdFlowError, LocalCode};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

/// Shows a URL to the user (normally: opens the system browser).
pub trait BrowserOpener: Send + Sync + std::fmt::Debug {
    /// Starts showing `url` and returns at once. The error text is shown to
    /// the app in an `authentication_ui_failed` error.
    fn open(&self, url: &Url) -> Result<(), String>;
}

/// Opens the system's default browser without a shell: `open <url>` on
/// macOS, `rundll32.exe url.dll,FileProtocolHandler <url>` on Windows,
/// `xdg-open <url>` elsewhere, the URL always one argument of its own. Only
/// `http` and `https` URLs are opened (anything else could start a local
/// program through the desktop's file associations).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemBrowser;

/// Which desktop's way of opening a URL [`browser_command`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Desktop {
    Windows,
    MacOs,
    /// Linux and the BSDs: the freedesktop.org `xdg-open`.
    Freedesktop,
}

impl Desktop {
    fn current() -> Desktop {
        if cfg!(windows) {
            Desktop::Windows
        } else if cfg!(target_os = "macos") {
            Desktop::MacOs
        } else {
            Desktop::Freedesktop
        }
    }
}

/// The program and its arguments that open `url` on `desktop`; no shell is
/// involved, so `& | ^ % "` and the like are plain bytes of the URL.
/// `windows_root` is `%SystemRoot%` (`C:\Windows` when unset): Windows runs
/// its own `rundll32.exe` by full path, never one found on the search path.
pub(crate) fn browser_command(
    desktop: Desktop,
    url: &Url,
    windows_root: Option<&str>,
) -> Result<(String, Vec<String>), String> {
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "the system browser opens only http and https URLs, not {}:",
            url.scheme()
        ));
    }
    let url = url.as_str();
    // A serialized URL never holds these (they are percent-encoded), so the
    // URL needs no quoting on a Windows command line and reaches the
    // program exactly as given; refuse rather than rely on quoting if not.
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        return Err("the URL holds characters a browser URL cannot hold".to_owned());
    }
    Ok(match desktop {
        Desktop::Windows => {
            let root = windows_root
                .filter(|r| !r.is_empty())
                .unwrap_or(r"C:\Windows")
                .trim_end_matches('\\');
            (
                format!(r"{root}\System32\rundll32.exe"),
                vec!["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
            )
        }
        Desktop::MacOs => ("open".to_owned(), vec![url.to_owned()]),
        Desktop::Freedesktop => ("xdg-open".to_owned(), vec![url.to_owned()]),
    })
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let root = std::env::var("SystemRoot").ok();
        let (program, args) = browser_command(Desktop::current(), url, root.as_deref())?;
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("the system browser could not be started: {e}"))
    }
}

/// How long the listener waits for the redirect by default: MSAL Java's
/// default for its loopback listener (`httpPollingTimeoutInSeconds`, 120 in
/// AzureAD/microsoft-authentication-library-for-java
/// msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/InteractiveRequestParameters.java).
/// msal Python's `AuthCodeReceiver.get_auth_response` (msal/oauth2cli/authcode.py)
/// waits without bound unless given a timeout.
pub const DEFAULT_REDIRECT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the listener binds and what redirect URI it announces.
#[derive(Clone, Debug)]
pub struct LoopbackOptions {
    /// 0 picks a free port (register `http://localhost` without a port with
    /// the Microsoft identity platform, or a loopback IP with RFC 8252 providers).
    pub port: u16,
    /// The host named in the redirect URI: `localhost` (what the Microsoft
    /// identity platform registers) or a loopback IP such as `127.0.0.1`.
    /// The listener binds every loopback address the name stands for on the
    /// same port (`localhost`: 127.0.0.1, and [::1] where the machine has
    /// IPv6), so the browser reaches it whichever it tries and no other
    /// process can take the port on one of them; a name that stands for no
    /// loopback address is refused.
    pub redirect_host: String,
    /// The redirect URI's path (`/` by default).
    pub path: String,
    /// Page shown in the browser once the redirect has arrived.
    pub success_html: String,
    /// Gives up (`user_cancelled`) when no redirect has arrived after this
    /// long ([`DEFAULT_REDIRECT_TIMEOUT`] by default); `None` waits until
    /// the redirect arrives or the sign-in is cancelled.
    pub timeout: Option<Duration>,
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
            timeout: Some(DEFAULT_REDIRECT_TIMEOUT),
        }
    }
}

/// The most a redirect request may be (request line and headers).
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request; each connection
/// has its own, and others are served meanwhile.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many ports to try when a free one (port 0) is free on 127.0.0.1 but
/// taken on [::1].
const BIND_ATTEMPTS: usize = 16;

/// The page a request to the redirect path gets when it does not carry this
/// sign-in's state.
const FOREIGN_HTML: &str = "<!doctype html><title>Sign-in response refused</title>\
    <p>This response does not belong to the sign-in in progress and was ignored.</p>";

/// A bound, not yet answered, loopback listener.
#[derive(Debug)]
pub struct LoopbackListener {
    listeners: Vec<TcpListener>,
    redirect_uri: String,
    options: LoopbackOptions,
}

fn ui_failed(why: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::AuthenticationUiFailed, why).with_flow(Flow::Authorize)
}

/// The loopback addresses `host` stands for, IPv4 first; `required` is how
/// many of them must bind (the rest are bound where the machine has them).
async fn loopback_addresses(host: &str) -> Result<(Vec<IpAddr>, usize), IdFlowError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    // RFC 6761 §6.3: `localhost` is the loopback interface, resolved without
    // asking DNS; browsers try both families.
    if bare.eq_ignore_ascii_case("localhost") || bare.eq_ignore_ascii_case("localhost.") {
        return Ok((
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            1,
        ));
    }
    let mut found: Vec<IpAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((bare, 0))
            .await
            .map_err(|e| ui_failed(format!("the redirect host could not be resolved: {e}")))?
            .map(|a| a.ip())
            .collect(),
    };
    if found.iter().any(|ip| !ip.is_loopback()) || found.is_empty() {
        return Err(ui_failed(
            "the redirect host must stand for loopback addresses only",
        ));
    }
    found.sort_by_key(IpAddr::is_ipv6);
    found.dedup();
    let required = found.len();
    Ok((found, required))
}

/// Binds `port` on every address; the first `required` must bind, the others
/// are skipped when the machine lacks them (but not when they are taken).
async fn bind_all(
    addrs: &[IpAddr],
    required: usize,
    mut port: u16,
) -> std::io::Result<Vec<TcpListener>> {
    let mut bound = Vec::with_capacity(addrs.len());
    for (i, ip) in addrs.iter().enumerate() {
        match TcpListener::bind((*ip, port)).await {
            Ok(l) => {
                port = l.local_addr()?.port();
                bound.push(l);
            }
            Err(e) if i >= required && e.kind() != std::io::ErrorKind::AddrInUse => {
                tracing::debug!(
                    target: "idflow::loopback",
                    "the loopback address {ip} is not available here: {e}"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(bound)
}

impl LoopbackListener {
    /// Binds every loopback address `redirect_host` stands for, on the
    /// requested port (one port free on all of them when it is 0).
    pub async fn bind(options: LoopbackOptions) -> Result<Self, IdFlowError> {
        let (addrs, required) = loopback_addresses(&options.redirect_host).await?;
        let attempts = if options.port == 0 { BIND_ATTEMPTS } else { 1 };
        let mut outcome = Err(std::io::Error::from(std::io::ErrorKind::AddrInUse));
        for _ in 0..attempts {
            outcome = bind_all(&addrs, required, options.port).await;
            match &outcome {
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                _ => break,
            }
        }
        let listeners =
            outcome.map_err(|e| ui_failed(format!("the loopback listener could not bind: {e}")))?;
        let port = listeners
            .first()
            .ok_or_else(|| ui_failed("the loopback listener bound no address"))?
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
            listeners,
            redirect_uri,
            options: LoopbackOptions { path, ..options },
        })
    }

    /// The redirect URI to put in the authorize request.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Serves requests, concurrently, until one arrives on the redirect path
    /// whose `state` parameter is `state`; answers it with the success page
    /// and returns the full redirect URL. A request on the redirect path
    /// with another state or none (`code=` or `error=` alike) gets a 400 page
    /// and the wait goes on; other requests (a favicon, a probe) get a 404.
    /// Ends with `user_cancelled` when `cancel` fires or the options'
    /// timeout passes.
    pub async fn receive(self, state: &str, cancel: &CancelHandle) -> Result<String, IdFlowError> {
        or_cancel(
            cancel,
            Flow::Authorize,
            "the interactive sign-in",
            self.serve(state),
        )
        .await?
    }

    async fn serve(self, state: &str) -> Result<String, IdFlowError> {
        let route = Arc::new(Route {
            base: self
                .redirect_uri
                .trim_end_matches(self.options.path.as_str())
                .to_owned(),
            path: self.options.path.clone(),
            state: state.to_owned(),
            success_html: self.options.success_html.clone(),
        });
        let (tx, mut rx) = mpsc::channel(1);
        // Dropping the set (on return, cancel or timeout) aborts the accept
        // loops, which abort the connections they serve.
        let mut accepting = JoinSet::new();
        for listener in self.listeners {
            accepting.spawn(accept_loop(listener, Arc::clone(&route), tx.clone()));
        }
        drop(tx);
        let wait = async {
            match rx.recv().await {
                Some(Ok(url)) => Ok(url),
                Some(Err(why)) => Err(ui_failed(why)),
                None => Err(ui_failed("the loopback listener stopped")),
            }
        };
        match self.options.timeout {
            None => wait.await,
            Some(limit) => tokio::time::timeout(limit, wait).await.unwrap_or_else(|_| {
                Err(CancelHandle::error(
                    Flow::Authorize,
                    "the interactive sign-in (no redirect before the timeout)",
                ))
            }),
        }
    }
}

/// What a connection needs to answer a request.
#[derive(Debug)]
struct Route {
    /// `http://host:port`
    base: String,
    path: String,
    state: String,
    success_html: String,
}

type Arrival = Result<String, String>;

async fn accept_loop(listener: TcpListener, route: Arc<Route>, tx: mpsc::Sender<Arrival>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                connections.spawn(serve_connection(stream, Arc::clone(&route), tx.clone()));
            }
            Err(e) => {
                let _ = tx
                    .send(Err(format!("the loopback listener failed: {e}")))
                    .await;
                return;
            }
        }
    }
}

async fn serve_connection(mut stream: TcpStream, route: Arc<Route>, tx: mpsc::Sender<Arrival>) {
    let Ok(Ok(Some(target))) = tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream)).await
    else {
        return;
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    if path != route.path || query.is_empty() {
        tracing::trace!(
            target: "idflow::loopback",
            "a request off the redirect path got a 404"
        );
        respond(&mut stream, "404 Not Found", "").await;
        return;
    }
    let states: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .collect();
    if states.len() != 1 || states[0] != route.state {
        tracing::warn!(
            target: "idflow::loopback",
            "a request to the redirect path without this sign-in's state was refused"
        );
        respond(&mut stream, "400 Bad Request", FOREIGN_HTML).await;
        return;
    }
    tracing::debug!(
        target: "idflow::loopback",
        "the browser reached the loopback redirect"
    );
    respond(&mut stream, "200 OK", &route.success_html).await;
    let _ = tx.send(Ok(format!("{}{target}", route.base))).await;
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
        let task = tokio::spawn(async move { l.receive("s", &cancel).await });
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
        let e = l.receive("s", &cancel).await.unwrap_err();
        assert_eq!(e.code, "user_cancelled");
    }

    /// Whether this machine has an IPv6 loopback interface at all.
    fn has_ipv6_loopback() -> bool {
        std::net::TcpListener::bind(("::1", 0)).is_ok()
    }

    #[tokio::test]
    async fn localhost_is_served_on_every_loopback_address_it_names() {
        // `localhost` may resolve to [::1] first: the listener holds the
        // announced port there too, so no other process can take it and the
        // browser's request arrives either way.
        let l = LoopbackListener::bind(LoopbackOptions::default())
            .await
            .unwrap();
        let uri = l.redirect_uri().to_owned();
        let port = Url::parse(&uri).unwrap().port().unwrap();
        if !has_ipv6_loopback() {
            eprintln!("no IPv6 loopback on this machine: only 127.0.0.1 is checked");
            return;
        }
        assert!(
            std::net::TcpListener::bind(("::1", port)).is_err(),
            "another process could bind [::1]:{port} next to the listener"
        );
        let state = "the-state";
        let cancel = CancelHandle::new();
        let task = tokio::spawn(async move { l.receive(state, &cancel).await });
        let mut s = TcpStream::connect(("::1", port)).await.unwrap();
        let req = format!("GET /?code=abc&state={state} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut page = String::new();
        s.read_to_string(&mut page).await.unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert_eq!(
            task.await.unwrap().unwrap(),
            format!("{uri}?code=abc&state={state}")
        );
    }

    /// An authorize URL holding every character a Windows shell treats as
    /// syntax (`"` is percent-encoded by the URL itself).
    const HOSTILE: &str =
        "https://login.example/t/oauth2/v2.0/authorize?a=1&b=x|y^z&c=\"q\"&d=%PATH%&e=100%&f=`id`;$(id)";

    #[test]
    fn each_desktop_gets_the_url_as_one_argument_byte_for_byte() {
        let url = Url::parse(HOSTILE).unwrap();
        let s = url.as_str();
        for c in ['&', '|', '^', '%'] {
            assert!(s.contains(c), "{s} lost {c}");
        }
        assert!(s.contains("%22q%22"), "{s}");
        let (program, args) = browser_command(Desktop::Windows, &url, Some(r"D:\Win\")).unwrap();
        assert_eq!(program, r"D:\Win\System32\rundll32.exe");
        assert_eq!(
            args,
            vec!["url.dll,FileProtocolHandler".to_owned(), s.to_owned()]
        );
        // Nothing in the URL makes Rust's Windows command line quote it, so
        // rundll32 receives the same bytes as its command-line tail.
        assert!(!args[1].contains([' ', '\t', '\n', '"']));
        let (program, _) = browser_command(Desktop::Windows, &url, None).unwrap();
        assert_eq!(program, r"C:\Windows\System32\rundll32.exe");
        assert_eq!(
            browser_command(Desktop::MacOs, &url, None).unwrap(),
            ("open".to_owned(), vec![s.to_owned()])
        );
        assert_eq!(
            browser_command(Desktop::Freedesktop, &url, None).unwrap(),
            ("xdg-open".to_owned(), vec![s.to_owned()])
        );
    }

    #[test]
    fn only_web_urls_are_opened() {
        for u in [
            "file:///C:/Windows/System32/calc.exe",
            "ms-settings:privacy",
            "javascript:alert(1)",
        ] {
            let url = Url::parse(u).unwrap();
            for d in [Desktop::Windows, Desktop::MacOs, Desktop::Freedesktop] {
                let e = browser_command(d, &url, None).unwrap_err();
                assert!(e.contains("only http and https"), "{u}: {e}");
            }
        }
        let url = Url::parse("http://127.0.0.1:5000/authorize").unwrap();
        assert!(browser_command(Desktop::Windows, &url, None).is_ok());
    }

    /// Run by `system_browser_runs_xdg_open_without_a_shell` in a child
    /// process whose PATH starts with a fake `xdg-open`; does nothing otherwise.
    #[test]
    #[ignore = "run by system_browser_runs_xdg_open_without_a_shell"]
    fn open_in_child_process() {
        if let Ok(url) = std::env::var("IDFLOW_TEST_OPEN_URL") {
            SystemBrowser.open(&Url::parse(&url).unwrap()).unwrap();
        }
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn system_browser_runs_xdg_open_without_a_shell() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "idflow-opener-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir(&dir).unwrap();
        let record = dir.join("argv");
        let fake = dir.join("xdg-open");
        // Writes each argument NUL-terminated, then renames into place so the
        // test never reads half a file.
        std::fs::write(
            &fake,
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$IDFLOW_TEST_RECORD.part\" \
             && mv \"$IDFLOW_TEST_RECORD.part\" \"$IDFLOW_TEST_RECORD\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let url = Url::parse(HOSTILE).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "flows::loopback::tests::open_in_child_process",
                "--test-threads=1",
                "--quiet",
            ])
            .env("PATH", path)
            .env("IDFLOW_TEST_OPEN_URL", url.as_str())
            .env("IDFLOW_TEST_RECORD", &record)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !record.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let argv = std::fs::read(&record).expect("the fake xdg-open ran");
        let _ = std::fs::remove_dir_all(&dir);
        let mut expected = url.as_str().as_bytes().to_vec();
        expected.push(0);
        assert_eq!(
            String::from_utf8_lossy(&argv),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn the_wait_is_bounded_by_default() {
        assert_eq!(
            LoopbackOptions::default().timeout,
            Some(Duration::from_secs(120))
        );
    }

    #[tokio::test]
    async fn the_listener_gives_up_after_its_timeout() {
        let l = LoopbackListener::bind(LoopbackOptions {
            timeout: Some(Duration::from_millis(200)),
            ..LoopbackOptions::default()
        })
        .await
        .unwrap();
        let cancel = CancelHandle::new();
        let e = tokio::time::timeout(Duration::from_secs(5), l.receive("s", &cancel))
            .await
            .expect("the listener's own timeout ends the wait")
            .unwrap_err();
        assert_eq!(e.code, "user_cancelled");
        assert!(e.message.contains("timeout"), "{}", e.message);
    }

    #[tokio::test]
    async fn forged_requests_get_an_error_page_and_the_wait_goes_on() {
        let l = LoopbackListener::bind(LoopbackOptions {
            redirect_host: "127.0.0.1".into(),
            ..LoopbackOptions::default()
        })
        .await
        .unwrap();
        let uri = l.redirect_uri().to_owned();
        let cancel = CancelHandle::new();
        let task = tokio::spawn(async move { l.receive("right", &cancel).await });
        for q in [
            "code=x",
            "code=x&state=wrong",
            "error=access_denied",
            "code=x&state=right&state=wrong",
        ] {
            let page = get(&format!("{uri}?{q}")).await;
            assert!(page.starts_with("HTTP/1.1 400"), "{q}: {page}");
            assert!(!task.is_finished(), "{q} ended the wait");
        }
        let page = get(&format!("{uri}?code=real&state=right")).await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert_eq!(
            task.await.unwrap().unwrap(),
            format!("{uri}?code=real&state=right")
        );
    }

    #[tokio::test]
    async fn a_redirect_host_that_is_not_loopback_is_refused() {
        for host in ["192.0.2.1", "[2001:db8::1]"] {
            let e = LoopbackListener::bind(LoopbackOptions {
                redirect_host: host.into(),
                ..LoopbackOptions::default()
            })
            .await
            .unwrap_err();
            assert_eq!(e.code, "authentication_ui_failed", "{host}");
        }
        let l = LoopbackListener::bind(LoopbackOptions {
            redirect_host: "[::1]".into(),
            ..LoopbackOptions::default()
        })
        .await;
        assert_eq!(l.is_ok(), has_ipv6_loopback());
    }
}
