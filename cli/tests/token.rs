//! `idflow token` as a user runs it, against an emulator started here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_emulator::{
    Emulator, EmulatorHandle, Settings, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET,
    DEFAULT_TENANT, PUBLIC_CLIENT_ID,
};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

const SECRET_VAR: &str = "IDFLOW_TEST_CLIENT_SECRET";

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
        let out = cmd.output().expect("idflow runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_prints_the_result_dict() {
    let emu = emulator().await;
    let authority = emu.authority(DEFAULT_TENANT);
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
            "--json",
        ]),
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
    for bad in [
        args(&[
            "--authority",
            "not a url",
            "--client-id",
            "x",
            "--scope",
            "s",
            "--device-code",
        ]),
        args(&[
            "--authority",
            "http://login.example.com/tenant",
            "--client-id",
            "x",
            "--scope",
            "s",
            "--device-code",
        ]),
        args(&[
            "--authority",
            "https://login.microsoftonline.com/t",
            "--client-id",
            "x",
            "--scope",
            "s",
        ]),
        args(&[
            "--authority",
            "https://login.microsoftonline.com/t",
            "--client-id",
            "x",
            "--scope",
            "s",
            "--client-secret-env",
            "IDFLOW_TEST_UNSET_VARIABLE",
        ]),
        args(&[
            "--authority",
            "https://login.microsoftonline.com/t",
            "--client-id",
            "x",
        ]),
    ] {
        let (code, out, err) = idflow(bad.clone(), None).await;
        assert_eq!(code, 2, "{bad:?}: {out}{err}");
        assert!(out.is_empty(), "{bad:?}: {out}");
        assert!(!err.is_empty());
    }
}
