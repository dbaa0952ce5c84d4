//! `idflow token` as a user runs it, against an emulator started here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_emulator::{
    Effect, Emulator, EmulatorHandle, Endpoint, FaultSpec, Matcher, Settings,
    CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_TENANT, PUBLIC_CLIENT_ID,
};
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SECRET_VAR: &str = "IDFLOW_TEST_CLIENT_SECRET";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .port(0)
        .settings(Settings {
            device_code_interval_secs: 0,
            ..Settings::default()
        })
        .start()
        .await
        .unwrap()
}

/// Runs `idflow token ARGS` (off the runtime) and returns (exit code, stdout, stderr).
async fn idflow(args: Vec<String>, secret: Option<&str>) -> (i32, String, String) {
    let secret = secret.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idflow"));
        cmd.arg("token")
            .args(&args)
            .env_remove(SECRET_VAR)
            .stdin(Stdio::null());
        if let Some(s) = secret {
            cmd.env(SECRET_VAR, s);
        }
        exit_and_text(cmd.output().expect("idflow runs"))
    })
    .await
    .unwrap()
}

/// (exit code, stdout, stderr) of a finished `idflow`.
fn exit_and_text(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `--authority A --client-id C --scope S` and then `extra`.
fn token_args(authority: &str, client_id: &str, scope: &str, extra: &[&str]) -> Vec<String> {
    let mut a = args(&[
        "--authority",
        authority,
        "--client-id",
        client_id,
        "--scope",
        scope,
    ]);
    a.extend(args(extra));
    a
}

/// The public client's device-code sign-in, and then `extra`.
fn device_code(authority: &str, scope: &str, extra: &[&str]) -> Vec<String> {
    let mut a = token_args(authority, PUBLIC_CLIENT_ID, scope, &["--device-code"]);
    a.extend(args(extra));
    a
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_prints_the_result_dict() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let (code, out, err) = idflow(
        token_args(
            &authority,
            CONFIDENTIAL_CLIENT_ID,
            GRAPH_DEFAULT,
            &["--client-secret-env", SECRET_VAR, "--json"],
        ),
        Some(CONFIDENTIAL_CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim().lines().count(), 1, "--json is one line");
    let v = json(&out);
    assert!(v["access_token"].as_str().is_some_and(|t| t.len() > 20));
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().is_some_and(|s| s > 3000));
    for text in [&out, &err] {
        assert!(
            !text.contains(CONFIDENTIAL_CLIENT_SECRET),
            "secret leaked: {text}"
        );
    }
    let rec = emu.admin().requests(0).pop().unwrap();
    assert_eq!(rec.grant_type.as_deref(), Some("client_credentials"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_exits_1_with_the_error_dict() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let wrong = "not-the-secret-5b1f0c9d";
    let (code, out, err) = idflow(
        token_args(
            &authority,
            CONFIDENTIAL_CLIENT_ID,
            GRAPH_DEFAULT,
            &["--client-secret-env", SECRET_VAR],
        ),
        Some(wrong),
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], serde_json::json!([7000215]));
    let logged = emu.admin().requests(0).pop().unwrap();
    assert_eq!(v["correlation_id"], logged.correlation_id.as_str());
    for text in [&out, &err] {
        assert!(!text.contains(wrong), "secret leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_approved_through_the_admin_api() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let admin = emu.admin().clone();
    let approver = tokio::spawn(async move {
        for _ in 0..1000 {
            if let Some(d) = admin.device_codes().into_iter().next() {
                admin.approve_device_code(&d.user_code, None).unwrap();
                return d.user_code;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no device code was requested");
    });
    let (code, out, err) = idflow(device_code(&authority, "User.Read", &[]), None).await;
    let user_code = approver.await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(&user_code),
        "the message goes to stderr: {err}"
    );
    let v = json(&out);
    assert!(v["refresh_token"].is_string());
    assert_eq!(
        v["id_token_claims"]["preferred_username"],
        idflow_emulator::DEFAULT_USERNAME
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let msal = "https://login.microsoftonline.com/t";
    for bad in [
        token_args("not a url", "x", "s", &["--device-code"]),
        token_args(
            "http://login.example.com/tenant",
            "x",
            "s",
            &["--device-code"],
        ),
        token_args(msal, "x", "s", &[]),
        token_args(
            msal,
            "x",
            "s",
            &["--client-secret-env", "IDFLOW_TEST_UNSET_VARIABLE"],
        ),
        args(&["--authority", msal, "--client-id", "x"]),
    ] {
        let (code, out, err) = idflow(bad.clone(), None).await;
        assert_eq!(code, 2, "{bad:?}: {out}{err}");
        assert!(out.is_empty(), "{bad:?}: {out}");
        assert!(!err.is_empty());
    }
}

fn confidential(authority: &str, extra: &[&str]) -> Vec<String> {
    let mut a = token_args(
        authority,
        CONFIDENTIAL_CLIENT_ID,
        GRAPH_DEFAULT,
        &["--json"],
    );
    a.extend(args(extra));
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_file_signs_the_client_assertion() {
    let emu = emulator().await;
    let cred = emu
        .admin()
        .generate_certificate(CONFIDENTIAL_CLIENT_ID)
        .unwrap();
    let dir = tempdir();
    let pem = dir.join("app.pem");
    std::fs::write(
        &pem,
        format!("{}{}", cred.certificate_pem, cred.private_key_pem),
    )
    .unwrap();
    let authority = emu.authority(DEFAULT_TENANT);
    let (code, out, err) = idflow(
        confidential(&authority, &["--certificate", pem.to_str().unwrap()]),
        None,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(json(&out)["access_token"].is_string());
    let rec = emu.admin().requests(0).pop().unwrap();
    assert!(rec.param_names.iter().any(|p| p == "client_assertion"));
    assert!(!rec.param_names.iter().any(|p| p == "client_secret"));
    assert!(!out.contains("PRIVATE KEY") && !err.contains("PRIVATE KEY"));

    // A file without a key is usage, not a request.
    std::fs::write(&pem, &cred.certificate_pem).unwrap();
    let before = emu.admin().requests(0).len();
    let (code, out, err) = idflow(
        confidential(&authority, &["--certificate", pem.to_str().unwrap()]),
        None,
    )
    .await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--certificate"), "{err}");
    assert_eq!(emu.admin().requests(0).len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_file_answers_the_second_call_without_a_request() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let dir = tempdir();
    let cache = dir.join("cache.json");
    let cache = cache.to_str().unwrap();
    let run = || {
        idflow(
            confidential(
                &authority,
                &["--client-secret-env", SECRET_VAR, "--cache", cache],
            ),
            Some(CONFIDENTIAL_CLIENT_SECRET),
        )
    };
    let (code, first, err) = run().await;
    assert_eq!(code, 0, "{first}{err}");
    assert_eq!(json(&first)["token_source"], "identity_provider");
    let sent = emu.admin().requests(0).len();
    let (code, second, err) = run().await;
    assert_eq!(code, 0, "{second}{err}");
    assert_eq!(json(&second)["token_source"], "cache");
    assert_eq!(json(&second)["access_token"], json(&first)["access_token"]);
    assert_eq!(
        emu.admin().requests(0).len(),
        sent,
        "no request the second time"
    );
    let stored = std::fs::read_to_string(cache).unwrap();
    assert!(
        !stored.contains(CONFIDENTIAL_CLIENT_SECRET),
        "the secret is not cached"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_user_is_refreshed_silently_and_listed_by_accounts() {
    let emu = emulator().await;
    emu.admin()
        .update_settings(&serde_json::json!({"device_code_auto_approve_after_polls": 1}))
        .unwrap();
    let authority = emu.authority(DEFAULT_TENANT);
    let dir = tempdir();
    let cache = dir.join("cache.json");
    let cache = cache.to_str().unwrap();
    let device = || {
        idflow(
            device_code(&authority, "User.Read", &["--cache", cache, "--json"]),
            None,
        )
    };
    let (code, out, err) = device().await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["token_source"], "identity_provider");
    assert!(err.contains("enter the code"), "{err}");

    let (code, out, err) = device().await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["token_source"], "cache");
    assert!(err.is_empty(), "no sign-in message the second time: {err}");

    // Revoked: the silent attempt fails with interaction required, and a new sign-in follows.
    let revoked = emu.admin().revoke_refresh_tokens(None, None);
    assert!(revoked > 0);
    let (code, out, err) = idflow(
        device_code(&authority, "Mail.Read", &["--cache", cache, "--json"]),
        None,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("signing in again"), "{err}");
    assert!(err.contains("enter the code"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["accounts", "--cache", cache, "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list = json(&String::from_utf8_lossy(&out.stdout));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["username"], idflow_emulator::DEFAULT_USERNAME);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_exit_3_and_refusals_exit_1() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let cc = |a: &str| confidential(a, &["--client-secret-env", SECRET_VAR]);
    emu.admin()
        .arm_preset("throttled_429", Default::default())
        .unwrap();
    let (code, out, err) = idflow(cc(&authority), Some(CONFIDENTIAL_CLIENT_SECRET)).await;
    assert_eq!(code, 3, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["action"], "retry_after");
    assert_eq!(v["retry_after"], 30);

    // Nothing listens on the discard port: no HTTP answer.
    let (code, out, err) = idflow(
        cc("http://127.0.0.1:9/tenant"),
        Some(CONFIDENTIAL_CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(json(&out)["error_kind"], "network");

    emu.admin()
        .arm_preset("mfa_required_50079", Default::default())
        .unwrap();
    let (code, out, err) = idflow(cc(&authority), Some(CONFIDENTIAL_CLIENT_SECRET)).await;
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(json(&out)["action"], "acquire_interactively");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_device_code_polling_exits_130() {
    let emu = emulator().await;
    emu.admin()
        .update_settings(&serde_json::json!({"device_code_interval_secs": 1}))
        .unwrap();
    let authority = emu.authority(DEFAULT_TENANT);
    let admin = emu.admin().clone();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let child = Command::new(env!("CARGO_BIN_EXE_idflow"))
            .arg("token")
            .args(device_code(&authority, "User.Read", &["--json"]))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once it polls, interrupt it as a terminal's Ctrl-C would.
        for _ in 0..500 {
            if admin.device_codes().first().is_some_and(|d| d.polls > 0) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        exit_and_text(child.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(code, 130, "{out}{err}");
    assert!(err.contains("idflow: cancelled"), "{err}");
    assert_eq!(json(&out)["error_kind"], "cancelled");
}

#[test]
fn accounts_without_a_cache_file_is_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["accounts", "--cache", "/nonexistent/idflow-cache.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("idflow: --cache"));
}

#[test]
fn help_documents_the_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["token", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Exit codes:",
        "130",
        "--cache",
        "--certificate",
        "--device-code",
    ] {
        assert!(help.contains(needle), "{needle} in: {help}");
    }
}

/// A fresh directory under the system's temp dir (removed at exit by nobody:
/// its name is unique and it holds only test files).
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("idflow-cli-test-{}", uuid()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// Provider text that would drive a terminal: clear the screen, set the
/// window title, a C1 CSI, DEL, a carriage return and a backspace.
const HOSTILE_TEXT: &str = "before\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{7f}\r\u{8}after";

/// Fails when `text` holds a control character other than newline and tab
/// (C0, DEL and C1 alike; an escape sequence starts with one).
fn assert_inert(text: &str) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        panic!("U+{:04X} reached the terminal: {text:?}", u32::from(c));
    }
}

fn fault(emu: &EmulatorHandle, endpoint: Endpoint, effect: Effect) {
    emu.admin()
        .add_fault(FaultSpec {
            matcher: Matcher {
                endpoint: Some(endpoint),
                ..Matcher::default()
            },
            count: Some(1),
            effect,
            label: None,
        })
        .unwrap();
}

fn hostile_error() -> Effect {
    Effect::OauthError {
        error: "invalid_grant".into(),
        error_description: Some(format!("AADSTS70000: {HOSTILE_TEXT}")),
        error_codes: vec![70000],
        suberror: None,
        claims: None,
        status: 400,
        retry_after: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_text_reaches_the_terminal_without_control_characters() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    // An error description, in the error dict on stdout.
    fault(&emu, Endpoint::Token, hostile_error());
    let (code, out, err) = idflow(
        args(&[
            "--authority",
            &authority,
            "--client-id",
            CONFIDENTIAL_CLIENT_ID,
            "--scope",
            "https://graph.microsoft.com/.default",
            "--client-secret-env",
            SECRET_VAR,
        ]),
        Some(CONFIDENTIAL_CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert_inert(&out);
    assert_inert(&err);
    let v = json(&out);
    let description = v["error_description"].as_str().unwrap();
    assert!(
        description.contains("before") && description.contains("after"),
        "{description}"
    );

    // The device-code instruction on stderr, then an error while polling.
    let device = serde_json::json!({
        "device_code": "dc-hostile",
        "user_code": "HOSTILE1",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": 900,
        "interval": 1,
        "message": format!("To sign in, {HOSTILE_TEXT}"),
    });
    fault(
        &emu,
        Endpoint::Devicecode,
        Effect::Raw {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: device.to_string(),
        },
    );
    fault(&emu, Endpoint::Token, hostile_error());
    let (code, out, err) = idflow(
        args(&[
            "--authority",
            &authority,
            "--client-id",
            PUBLIC_CLIENT_ID,
            "--scope",
            "User.Read",
            "--device-code",
        ]),
        None,
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("To sign in, before"), "{err}");
    assert_inert(&err);
    assert_inert(&out);
}

/// A redis-server on a free loopback port (`scripts/setup-redis.sh` installs
/// it; without it this test fails, naming the script), killed on drop.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bin = std::env::var("IDFLOW_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let dir = std::env::temp_dir();
        let child = Command::new(&bin)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e}: run scripts/setup-redis.sh"));
        let redis = Redis(child, port);
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server did not start");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_cache_answers_the_second_process_without_a_request() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}/", redis.1);
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let run = || {
        idflow(
            confidential(
                &authority,
                &["--client-secret-env", SECRET_VAR, "--cache", &url],
            ),
            Some(CONFIDENTIAL_CLIENT_SECRET),
        )
    };
    let (code, first, err) = run().await;
    assert_eq!(code, 0, "{first}{err}");
    assert_eq!(json(&first)["token_source"], "identity_provider");
    let (code, second, err) = run().await;
    assert_eq!(code, 0, "{second}{err}");
    assert_eq!(json(&second)["token_source"], "cache");
    assert_eq!(json(&second)["access_token"], json(&first)["access_token"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sealed_redis_cache_needs_its_key_and_never_shows_it() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}/", redis.1);
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
    let dir = std::env::temp_dir().join(format!("idflow-cli-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = "3f".repeat(32);
    let (right, wrong, short) = (dir.join("right"), dir.join("wrong"), dir.join("short"));
    std::fs::write(&right, format!("{key}\n")).unwrap();
    std::fs::write(&wrong, "a1".repeat(32)).unwrap();
    std::fs::write(&short, "3f3f3f").unwrap();
    let run = |key_file: Option<&std::path::Path>| {
        let mut extra = vec!["--client-secret-env", SECRET_VAR, "--cache", &url];
        let file = key_file.map(|p| p.to_string_lossy().into_owned());
        if let Some(f) = &file {
            extra.extend(["--cache-key-file", f.as_str()]);
        }
        idflow(
            confidential(&authority, &extra),
            Some(CONFIDENTIAL_CLIENT_SECRET),
        )
    };
    let source = |out: &str| json(out)["token_source"].as_str().unwrap().to_owned();
    let (code, first, err) = run(Some(&right)).await;
    assert_eq!(code, 0, "{first}{err}");
    assert_eq!(source(&first), "identity_provider");
    let (code, second, err) = run(Some(&right)).await;
    assert_eq!(code, 0, "{second}{err}");
    assert_eq!(source(&second), "cache", "the same key opens it");
    // Another key, or none, cannot read the sealed partition: a new request
    // (never a failure).
    let (code, other, err) = run(Some(&wrong)).await;
    assert_eq!(code, 0, "{other}{err}");
    assert_eq!(source(&other), "identity_provider");
    // A malformed key is a usage error that does not quote it.
    let (code, out, err) = run(Some(&short)).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("64 hex digits") && !err.contains("3f3f3f"),
        "{err}"
    );
    // A key for a cache file is refused.
    let file = dir.join("cache.json");
    let (code, _, err) = idflow(
        confidential(
            &authority,
            &[
                "--client-secret-env",
                SECRET_VAR,
                "--cache",
                &file.to_string_lossy(),
                "--cache-key-file",
                &right.to_string_lossy(),
            ],
        ),
        Some(CONFIDENTIAL_CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains(&key));
    // An unset variable names the variable.
    let (code, _, err) = idflow(
        confidential(
            &authority,
            &[
                "--client-secret-env",
                SECRET_VAR,
                "--cache",
                &url,
                "--cache-key-env",
                "IDFLOW_TEST_UNSET_CACHE_KEY",
            ],
        ),
        Some(CONFIDENTIAL_CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("IDFLOW_TEST_UNSET_CACHE_KEY"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
