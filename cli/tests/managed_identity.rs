//! `idflow token --managed-identity ... --resource R` as a user runs it, with
//! the environment of each managed identity source pointing at an emulator
//! started here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_emulator::{Emulator, EmulatorHandle};
use serde_json::Value;
use std::process::{Command, Stdio};

const RESOURCE: &str = "https://management.azure.com";
const VARIABLES: [&str; 7] = [
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

async fn emulator() -> EmulatorHandle {
    Emulator::builder().port(0).start().await.unwrap()
}

/// Runs `idflow token ARGS` with `env` as the only managed identity variables.
async fn idflow(args: &[&str], env: Vec<(String, String)>) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idflow"));
        cmd.arg("token").args(&args).stdin(Stdio::null());
        for v in VARIABLES {
            cmd.env_remove(v);
        }
        cmd.envs(env);
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

#[tokio::test]
async fn a_token_from_each_source_that_needs_no_key_file() {
    let emu = emulator().await;
    for source in [
        "imds",
        "app_service",
        "service_fabric",
        "cloud_shell",
        "machine_learning",
    ] {
        let env = emu.admin().managed_identity_environment(source).unwrap();
        let (code, out, err) = idflow(
            &[
                "--managed-identity",
                "system",
                "--resource",
                RESOURCE,
                "--json",
            ],
            env,
        )
        .await;
        assert_eq!(code, 0, "{source}: {err}");
        let dict: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(dict["token_source"], "identity_provider", "{source}");
        assert_eq!(dict["resource"], RESOURCE, "{source}");
        assert!(dict["access_token"].is_string());
    }
    // A user-assigned identity by client id, on IMDS.
    let env = emu.admin().managed_identity_environment("imds").unwrap();
    let spec = format!("client_id={}", idflow_emulator::MI_USER_CLIENT_ID);
    let (code, out, _) = idflow(&["--managed-identity", &spec, "--resource", RESOURCE], env).await;
    assert_eq!(code, 0);
    let dict: Value = serde_json::from_str(&out).unwrap();
    let claims = idflow::jwt::decode(dict["access_token"].as_str().unwrap())
        .unwrap()
        .claims;
    assert_eq!(claims["appid"], idflow_emulator::MI_USER_CLIENT_ID);
}

#[tokio::test]
async fn refusals_and_misuse() {
    let emu = emulator().await;
    // The service refuses: the error dict, exit 1.
    let env = emu.admin().managed_identity_environment("imds").unwrap();
    let (code, out, _) = idflow(
        &[
            "--managed-identity",
            "system",
            "--resource",
            "not a resource",
        ],
        env,
    )
    .await;
    assert_eq!(code, 1);
    let dict: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(dict["error"], "invalid_resource");
    // Cloud Shell has no user-assigned identities: a usage error, exit 2.
    let env = emu
        .admin()
        .managed_identity_environment("cloud_shell")
        .unwrap();
    let (code, _, err) = idflow(
        &["--managed-identity", "object_id=o", "--resource", RESOURCE],
        env.clone(),
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("user_assigned_managed_identity_not_supported"),
        "{err}"
    );
    // A malformed SPEC, a missing --resource, mixing with --client-id.
    for args in [
        vec!["--managed-identity", "user", "--resource", RESOURCE],
        vec!["--managed-identity", "system"],
        vec![
            "--managed-identity",
            "system",
            "--resource",
            RESOURCE,
            "--client-id",
            "x",
        ],
    ] {
        let (code, _, _) = idflow(&args, env.clone()).await;
        assert_eq!(code, 2, "{args:?}");
    }
}
