//! Scenario files: the examples shipped in `emulator/scenarios/` start an
//! emulator in the state they describe, in JSON and TOML alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use idflow_emulator::{Emulator, EmulatorHandle, Scenario};
use std::path::Path;

fn example(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    Scenario::from_path(&path).unwrap()
}

async fn daemon_token(emu: &EmulatorHandle) -> (u16, Option<String>) {
    let r = reqwest::Client::new()
        .post(emu.token_endpoint("contoso.example"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "my-daemon"),
            ("client_secret", "daemon-test-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    let retry_after = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), retry_after)
}

#[tokio::test]
async fn the_example_arms_its_faults_in_order() {
    for file in ["ci-example.json", "ci-example.toml"] {
        let emu = Emulator::builder()
            .scenario(example(file))
            .start()
            .await
            .unwrap();
        assert_eq!(emu.admin().settings().device_code_interval_secs, 1);
        assert!(emu
            .admin()
            .users()
            .iter()
            .any(|u| u.username == "grace@contoso.example"));
        assert!(emu
            .admin()
            .resources()
            .iter()
            .any(|r| r.uri == "https://vault.azure.net"));
        assert_eq!(emu.admin().faults().len(), 3, "{file}");

        assert_eq!(daemon_token(&emu).await, (429, Some("30".into())), "{file}");
        assert_eq!(daemon_token(&emu).await, (503, Some("1".into())), "{file}");
        assert_eq!(daemon_token(&emu).await.0, 200, "{file}");

        // A reset keeps the scenario's client, user and settings.
        emu.admin().reset().unwrap();
        assert_eq!(emu.admin().settings().device_code_interval_secs, 1);
        assert_eq!(daemon_token(&emu).await.0, 200, "{file}");
        emu.shutdown().await;
    }
}
