//! Starting and stopping the provider process.

use crate::{ClientKey, Error, Result, TlsCert};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// The device-code grant's URN (RFC 8628).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Per-request bound for every client the harness makes; the provider answers
/// in milliseconds, so anything near this is a hang, not slowness.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the provider's stderr is kept for error messages.
const STDERR_TAIL: usize = 8 * 1024;

/// How to start the provider. `OidcOptions::default()` gives plain http on an
/// ephemeral port with the issuer at `/tenant` and stock (non-Microsoft)
/// error bodies.
#[derive(Debug)]
pub struct OidcOptions {
    /// 0 picks a free port.
    pub port: u16,
    /// Issuer path, e.g. `/tenant` (msal Python needs at least one segment).
    pub issuer_path: String,
    /// Serve https with this certificate (the issuer becomes `https://…`).
    pub tls: Option<TlsCert>,
    /// The private_key_jwt client's key; one is generated when `None`.
    pub client_key: Option<ClientKey>,
    /// Decorate `/token` and `/device/auth` errors the way Entra ID does.
    pub microsoft_errors: bool,
    /// Refuse unknown scopes with `invalid_scope` (stock drops them).
    pub strict_scopes: bool,
    /// Add `interval` (seconds) to device-authorization responses; stock
    /// sends none, so clients wait RFC 8628's default of 5 s.
    pub device_interval: Option<u32>,
    /// Access-token lifetime in seconds (default 3600).
    pub access_token_ttl: Option<u32>,
    /// Device-code lifetime in seconds (default 600).
    pub device_code_ttl: Option<u32>,
    /// How long to wait for the start-up line. A bound, not a delay: a
    /// start takes well under a second on an idle machine, but a fresh-clone
    /// run on two cores with compilers beside it once took over 20 s to load
    /// the provider's modules and make its signing key. A start still silent
    /// after 40 s is killed and made again (three attempts at most).
    pub startup_timeout: Duration,
}

impl Default for OidcOptions {
    fn default() -> Self {
        OidcOptions {
            port: 0,
            issuer_path: "/tenant".to_owned(),
            tls: None,
            client_key: None,
            microsoft_errors: false,
            strict_scopes: false,
            device_interval: None,
            access_token_ttl: None,
            device_code_ttl: None,
            startup_timeout: Duration::from_secs(120),
        }
    }
}

/// One registered client, as the provider announced it.
#[derive(Clone, Debug, Deserialize)]
pub struct ClientInfo {
    pub client_id: String,
    /// Test-only secret (defined once, in `testing/oidc-provider/config.mjs`).
    pub client_secret: Option<String>,
    /// `none`, `client_secret_post`, `client_secret_basic` or `private_key_jwt`.
    pub auth_method: String,
}

/// The start-up line's shape.
#[derive(Debug, Deserialize)]
struct StartLine {
    issuer: String,
    port: u16,
    clients: BTreeMap<String, ClientInfo>,
    web_redirect_uri: String,
    control_url: String,
    api: Api,
}

#[derive(Debug, Deserialize)]
struct Api {
    resource: String,
    scopes: Vec<String>,
}

/// The four clients every test uses, checked present at start.
#[derive(Debug)]
struct Roles {
    native: ClientInfo,
    secret_post: ClientInfo,
    secret_basic: ClientInfo,
    private_key_jwt: ClientInfo,
}

/// A running provider. Dropping it kills the process.
#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    // Held open so the server's --exit-on-stdin-close fires when we go.
    _stdin: Option<ChildStdin>,
    issuer: Url,
    port: u16,
    clients: BTreeMap<String, ClientInfo>,
    roles: Roles,
    web_redirect_uri: String,
    control_url: Url,
    api_resource: String,
    api_scopes: Vec<String>,
    tls: Option<TlsCert>,
    client_key: ClientKey,
    stderr: Arc<Mutex<String>>,
}

/// `testing/oidc-provider`, found from this crate's manifest directory
/// (`IDFLOW_OP_DIR` overrides it).
fn provider_dir() -> PathBuf {
    match std::env::var_os("IDFLOW_OP_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testing/oidc-provider"),
    }
}

impl OidcProvider {
    /// Spawns `node server.mjs` and waits (bounded by
    /// `options.startup_timeout`) for its JSON start-up line.
    pub fn start(options: OidcOptions) -> Result<OidcProvider> {
        let dir = provider_dir();
        if !dir
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            return Err(Error::new(format!(
                "oidc-provider is not installed in {}: run `bash scripts/setup-node.sh`",
                dir.display()
            )));
        }
        let client_key = match options.client_key {
            Some(k) => k,
            None => ClientKey::generate()?,
        };
        let node = std::env::var_os("IDFLOW_NODE").unwrap_or_else(|| "node".into());
        let mut cmd = Command::new(node);
        cmd.current_dir(&dir)
            .arg("server.mjs")
            .args(["--port", &options.port.to_string()])
            .args(["--issuer-path", &options.issuer_path])
            .arg("--jwks-file")
            .arg(client_key.jwks_path())
            .arg("--exit-on-stdin-close")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(tls) = &options.tls {
            cmd.arg("--tls-cert").arg(tls.cert_path());
            cmd.arg("--tls-key").arg(tls.key_path());
        }
        if options.microsoft_errors {
            cmd.arg("--microsoft-errors");
        }
        if options.strict_scopes {
            cmd.arg("--strict-scopes");
        }
        let numbers = [
            ("--device-interval", options.device_interval),
            ("--access-token-ttl", options.access_token_ttl),
            ("--device-code-ttl", options.device_code_ttl),
        ];
        for (flag, value) in numbers {
            if let Some(v) = value {
                cmd.args([flag, &v.to_string()]);
            }
        }
        // Keep the environment from steering the server: only our flags count.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("IDFLOW_OP_") {
                cmd.env_remove(key);
            }
        }
        // A start that stays silent is retried, each attempt bounded by
        // ATTEMPT within the whole bound: twice in about six fresh-clone runs
        // (a few hundred starts each) a provider printed its runtime warning
        // and then nothing for 60 s and 120 s, on a busy and on an idle
        // machine alike, while every other start took about a second. What
        // such a process was doing goes into the error.
        let deadline = Instant::now() + options.startup_timeout;
        let mut silent = Vec::new();
        let (mut child, stdin, stderr, line) = loop {
            let bound = deadline
                .saturating_duration_since(Instant::now())
                .min(ATTEMPT);
            match launch(&mut cmd, bound)? {
                Launch::Started(child, stdin, stderr, line) => break (child, stdin, stderr, line),
                Launch::Silent(what) => {
                    // Straight to the process's stderr, past the test
                    // harness's capture: a start that needed another attempt
                    // shows in a passing run's log too.
                    let _ = writeln!(
                        std::io::stderr(),
                        "idflow-testing: provider start attempt {} of {ATTEMPTS} was silent: {what}",
                        silent.len() + 1
                    );
                    silent.push(what);
                }
            }
            if silent.len() >= ATTEMPTS || Instant::now() >= deadline {
                return Err(Error::new(format!(
                    "no start-up line within {:?} ({} attempts): {}",
                    options.startup_timeout,
                    silent.len(),
                    silent.join("; ")
                )));
            }
        };
        let (start, roles) = match parse_start_line(&line) {
            Ok(parsed) => parsed,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let provider = OidcProvider {
            child,
            _stdin: stdin,
            issuer: Url::parse(&start.issuer)?,
            port: start.port,
            clients: start.clients,
            roles,
            web_redirect_uri: start.web_redirect_uri,
            control_url: Url::parse(&start.control_url)?,
            api_resource: start.api.resource,
            api_scopes: start.api.scopes,
            tls: options.tls,
            client_key,
            stderr,
        };
        Ok(provider)
    }

    /// The issuer, e.g. `http://127.0.0.1:41234/tenant` (no trailing slash).
    pub fn issuer(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id (for tests that check clean-up).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A URL under the issuer: `endpoint("/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    pub fn discovery_url(&self) -> String {
        self.endpoint("/.well-known/openid-configuration")
    }
    pub fn token_url(&self) -> String {
        self.endpoint("/token")
    }
    pub fn authorization_url(&self) -> String {
        self.endpoint("/auth")
    }
    pub fn device_authorization_url(&self) -> String {
        self.endpoint("/device/auth")
    }
    /// `/auth?…` with these query parameters (`response_type=code` added
    /// when absent).
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> Result<String> {
        let mut url = Url::parse(&self.authorization_url())?;
        {
            let mut q = url.query_pairs_mut();
            if !params.iter().any(|(k, _)| *k == "response_type") {
                q.append_pair("response_type", "code");
            }
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        Ok(url.into())
    }

    /// The page where a user types a device code.
    pub fn device_url(&self) -> String {
        self.endpoint("/device")
    }

    /// The public native client (PKCE, loopback redirects on any port, auth
    /// code + refresh token + device code).
    pub fn native(&self) -> &ClientInfo {
        &self.roles.native
    }
    /// Confidential, `client_secret_post`.
    pub fn secret_post(&self) -> &ClientInfo {
        &self.roles.secret_post
    }
    /// Confidential, `client_secret_basic`.
    pub fn secret_basic(&self) -> &ClientInfo {
        &self.roles.secret_basic
    }
    /// Confidential, `private_key_jwt` with [`OidcProvider::client_key`].
    pub fn private_key_jwt(&self) -> &ClientInfo {
        &self.roles.private_key_jwt
    }
    /// Every client, by role name.
    pub fn clients(&self) -> &BTreeMap<String, ClientInfo> {
        &self.clients
    }

    /// The exact redirect URI of the confidential (web) clients.
    pub fn web_redirect_uri(&self) -> &str {
        &self.web_redirect_uri
    }

    /// The API's resource indicator (`api://idflow-test`) and its scopes.
    pub fn api_resource(&self) -> &str {
        &self.api_resource
    }
    pub fn api_scopes(&self) -> &[String] {
        &self.api_scopes
    }

    /// The private_key_jwt client's key (for signing assertions).
    pub fn client_key(&self) -> &ClientKey {
        &self.client_key
    }

    /// The certificate of an https instance.
    pub fn tls_cert(&self) -> Option<&TlsCert> {
        self.tls.as_ref()
    }

    /// The provider's stderr so far (last 8 KiB), for failure messages.
    pub fn stderr_tail(&self) -> String {
        tail(&self.stderr)
    }

    /// A reqwest client for talking to this provider: bounded timeouts, no
    /// proxy, no redirects followed (tests look at 3xx themselves), and for an
    /// https instance this instance's certificate as the only trusted root.
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder> {
        let mut b = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(tls) = &self.tls {
            let cert = reqwest::Certificate::from_pem(tls.cert_pem().as_bytes())?;
            b = b.tls_certs_only([cert]);
        }
        Ok(b)
    }

    /// [`OidcProvider::client_builder`], built.
    pub fn http_client(&self) -> Result<reqwest::Client> {
        Ok(self.client_builder()?.build()?)
    }

    /// Changes the test controls (`POST /__test/control`): `{"slow_down": n}`
    /// makes the next n device-code polls answer `slow_down`;
    /// `{"strict_scopes": true}` refuses unknown scopes; `{"ms_error": {...}}`
    /// decorates the next error (`suberror`, `error_codes`, `claims`, `error`,
    /// `error_description`, `status`, `count`). Returns the new state.
    pub async fn control(&self, change: serde_json::Value) -> Result<serde_json::Value> {
        let resp = self
            .http_client()?
            .post(self.control_url.clone())
            .json(&change)
            .send()
            .await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await?;
        if !status.is_success() {
            return Err(Error::new(format!("control refused: {body}")));
        }
        Ok(body)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses the start-up line and picks out the four clients every test uses.
fn parse_start_line(line: &str) -> Result<(StartLine, Roles)> {
    let start: StartLine = serde_json::from_str(line)
        .map_err(|e| Error::new(format!("unreadable start-up line {line:?}: {e}")))?;
    let role = |key: &str| {
        start
            .clients
            .get(key)
            .cloned()
            .ok_or_else(|| Error::new(format!("the provider announced no {key} client")))
    };
    let roles = Roles {
        native: role("native")?,
        secret_post: role("secret_post")?,
        secret_basic: role("secret_basic")?,
        private_key_jwt: role("private_key_jwt")?,
    };
    Ok((start, roles))
}

/// How long one attempt to start the provider waits for its line, and how
/// many attempts a start makes (within [`OidcOptions::startup_timeout`]).
const ATTEMPT: Duration = Duration::from_secs(40);
const ATTEMPTS: usize = 3;

/// One attempt's outcome.
enum Launch {
    /// The process, its stdin (held: closing it stops the provider), its
    /// stderr as drained so far, and its start-up line.
    Started(Child, Option<ChildStdin>, Arc<Mutex<String>>, String),
    /// No line within the bound: what the process was doing, and its
    /// stderr (it has been killed).
    Silent(String),
}

/// Spawns `cmd` and waits up to `bound` for its first line of output. A
/// process that exits first, or pipes that are missing, are errors (not
/// worth another attempt: the same flags fail the same way).
fn launch(cmd: &mut Command, bound: Duration) -> Result<Launch> {
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::new(format!("cannot run node (is Node.js 20+ on PATH?): {e}")))?;
    let stderr = Arc::new(Mutex::new(String::new()));
    let (stdout, err_pipe) = match (child.stdout.take(), child.stderr.take()) {
        (Some(o), Some(e)) => (o, e),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::new("the provider's output pipes are missing"));
        }
    };
    let drain = spawn_stderr_drain(err_pipe, Arc::clone(&stderr));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        // Keep draining so a chatty server never blocks on a full pipe.
        for _ in lines {}
    });
    let stdin = child.stdin.take();
    let outcome = rx.recv_timeout(bound);
    if let Ok(Some(Ok(line))) = outcome {
        return Ok(Launch::Started(child, stdin, stderr, line));
    }
    let what = match outcome {
        Err(_) => format!("silent for {bound:?}, {}", process_state(child.id())),
        _ => "the provider exited before printing its start-up line".to_owned(),
    };
    let _ = child.kill();
    let _ = child.wait();
    // The process is gone, so its stderr is at EOF: collect all of it.
    let _ = drain.join();
    let what = format!("{what}; stderr:\n{}", tail(&stderr));
    match outcome {
        Err(_) => Ok(Launch::Silent(what)),
        _ => Err(Error::new(what)),
    }
}

/// What a process is doing, from Linux's `/proc`: its scheduler state, the
/// CPU time it has used (clock ticks, user + system) and the kernel function
/// it waits in, so a hang says whether it spins or sleeps, and on what.
fn process_state(pid: u32) -> String {
    let read = |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).ok();
    let stat = read("stat").unwrap_or_default();
    // The fields after the command's closing parenthesis: state is the
    // first, utime and stime the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    format!(
        "state {} cpu {} ticks wchan {} threads {}",
        fields.first().copied().unwrap_or("?"),
        ticks(11) + ticks(12),
        read("wchan").unwrap_or_else(|| "?".into()),
        fields.get(17).copied().unwrap_or("?"),
    )
}

fn spawn_stderr_drain(
    mut pipe: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = into.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                if s.len() > 2 * STDERR_TAIL {
                    let cut = s.len() - STDERR_TAIL;
                    let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                    s.drain(..cut);
                }
            }
        }
    })
}

fn tail(stderr: &Mutex<String>) -> String {
    match stderr.lock() {
        Ok(s) => s.clone(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    #[test]
    fn a_first_line_is_a_start() {
        let mut cmd = sh("echo '{\"up\":1}'; exec sleep 30");
        match launch(&mut cmd, Duration::from_secs(20)).unwrap() {
            Launch::Started(mut child, _, _, line) => {
                assert_eq!(line, r#"{"up":1}"#);
                child.kill().unwrap();
                child.wait().unwrap();
            }
            Launch::Silent(what) => panic!("{what}"),
        }
    }

    /// A silent process is killed and described (sleeping, on what), with
    /// its stderr: what the caller retries and reports.
    #[test]
    fn a_silent_process_is_killed_and_described() {
        let mut cmd = sh("echo 'a warning' >&2; exec sleep 30");
        let started = Instant::now();
        match launch(&mut cmd, Duration::from_millis(300)).unwrap() {
            Launch::Silent(what) => {
                assert!(what.starts_with("silent for 300ms, state S cpu "), "{what}");
                assert!(what.contains("wchan "), "{what}");
                assert!(what.ends_with("stderr:\na warning\n"), "{what}");
            }
            Launch::Started(..) => panic!("a silent process started"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the sleeper was not killed"
        );
    }

    #[test]
    fn an_exit_before_the_line_is_an_error_not_retried() {
        let mut cmd = sh("echo 'bad flag' >&2; exit 3");
        let err = launch(&mut cmd, Duration::from_secs(20)).err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains("exited before printing"), "{msg}");
        assert!(msg.contains("bad flag"), "{msg}");
    }
}
