//! The `idflow` command as a user runs it: output, exit codes, bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn idflow(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("idflow runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("idflow finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn explain_aadsts_prints_every_section() {
    let (code, out, _) = idflow(&["explain", "AADSTS50079"], None);
    assert_eq!(code, 1, "an explained error exits 1");
    let v = json(&out);
    assert_eq!(v["kind"], "interaction_required");
    assert_eq!(v["classification"], "None");
    assert_eq!(v["action"], "acquire_interactively");
    assert_eq!(v["aadsts"], serde_json::json!([50079]));
    assert_eq!(v["swift"]["domain"], "IdFlowErrorDomain");
    assert_eq!(v["swift"]["code"], -50002);
    assert_eq!(v["kotlin"]["class"], "InteractionRequiredException");
    assert_eq!(v["kotlin"]["reason"], "NONE");
    assert_eq!(v["python"]["dict"]["error"], "interaction_required");
    assert!(v["mitigation"]
        .as_str()
        .is_some_and(|m| m.contains("multi-factor")));
}

#[test]
fn explain_response_from_stdin() {
    let input = r#"{"status": 400, "headers": {"Content-Type": "application/json"},
        "body": "{\"error\":\"invalid_grant\",\"suberror\":\"basic_action\",\"error_codes\":[50076]}", "flow": "silent"}"#;
    let (code, out, _) = idflow(&["explain", "--response", "-"], Some(input));
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["outcome"], "error");
    assert_eq!(v["classification"], "BasicAction");
    assert_eq!(v["retryable"], false);
    assert_eq!(v["retry_after_secs"], Value::Null);
    assert_eq!(v["kotlin"]["reason"], "BASIC_ACTION");
    assert_eq!(v["python"]["dict"]["classification"], "basic_action");
}

#[test]
fn explain_response_takes_grant_names_as_flows() {
    let body = r#""{\"error\":\"invalid_grant\",\"suberror\":\"basic_action\"}""#;
    // refresh_token is the silent flow: msal Python's classification key appears.
    let input = format!(r#"{{"status": 400, "body": {body}, "flow": "refresh_token"}}"#);
    let (code, out, _) = idflow(&["explain", "--response", "-"], Some(&input));
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        json(&out)["python"]["dict"]["classification"],
        "basic_action"
    );
    for grant in [
        "client_credentials",
        "authorization_code",
        "password",
        "on_behalf_of",
    ] {
        let input = format!(r#"{{"status": 400, "body": {body}, "flow": "{grant}"}}"#);
        let (code, out, err) = idflow(&["explain", "--response", "-"], Some(&input));
        assert_eq!(code, 1, "{grant}: {err}");
        let v = json(&out);
        assert_eq!(v["kind"], "interaction_required", "{grant}");
        // A token-endpoint call made on the app's request: no silent classification key.
        assert_eq!(
            v["python"]["dict"]["classification"],
            Value::Null,
            "{grant}"
        );
    }
}

#[test]
fn explain_response_success_exits_zero() {
    let input = r#"{"status": 200, "body": {"access_token": "x", "token_type": "Bearer"}}"#;
    let (code, out, _) = idflow(&["explain", "--response", "-"], Some(input));
    assert_eq!(code, 0);
    assert_eq!(json(&out)["outcome"], "success");
}

#[test]
fn explain_retry_after_date_from_file() {
    let dir = std::env::temp_dir().join(format!("idflow-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("resp.json");
    std::fs::write(
        &file,
        r#"{"status": 503, "headers": [["Date", "Wed, 25 Nov 2026 10:00:00 GMT"], ["Retry-After", "Wed, 25 Nov 2026 10:00:45 GMT"]], "body": "<html>down</html>"}"#,
    )
    .expect("write");
    let (code, out, _) = idflow(
        &["explain", "--response", file.to_str().expect("utf-8 path")],
        None,
    );
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["code"], "service_not_available");
    assert_eq!(v["retry_after_secs"], 45);
    assert_eq!(v["action"], "retry_after");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_is_a_usage_error() {
    for (args, stdin) in [
        (vec!["explain", "--response", "-"], Some("not json")),
        (
            vec!["explain", "--response", "-"],
            Some(r#"{"status": "400"}"#),
        ),
        (
            vec!["explain", "--response", "-"],
            Some(r#"{"status": 400, "flow": "sideways"}"#),
        ),
        // An unknown number is explained (see below); words after it must be an error.
        (vec!["explain", "AADSTS1", "Not-An-Error"], None),
        (vec!["explain"], None),
        (vec!["explain", "--list", "--kind", "sideways"], None),
        (
            vec!["explain", "--response", "/nonexistent/file.json"],
            None,
        ),
    ] {
        let (code, out, err) = idflow(&args, stdin);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(err.starts_with("idflow: "), "{err}");
    }
}

#[test]
fn demo_walks_every_scenario() {
    let (code, out, err) = idflow(&["demo"], None);
    assert_eq!(code, 0, "{out}{err}");
    for needle in [
        "AADSTS65001",
        "AADSTS50079",
        "AADSTS90010",
        "AADSTS70002",
        "AADSTS53000",
        "unknown_user",
        "integrated_windows_auth_not_supported_managed_user",
        "PromptNeverFailed",
        "AcquireTokenSilentFailed",
        "NSURLErrorDomain",
        "retry after 30 s",
        "-50142",
        "-50004",
        "-50005",
        "each as the guide expects",
    ] {
        assert!(out.contains(needle), "demo lacks {needle}");
    }
    assert!(!out.contains("\x1b["), "no colour when not on a terminal");
}

/// The live scenarios really ran: each ended as the guide expects, with the
/// requests and waits the emulator and the core's clock recorded.
#[test]
fn demo_json_runs_the_scenarios_live() {
    let (code, out, err) = idflow(&["demo", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let items = json(&out);
    let items = items.as_array().unwrap();
    let live: Vec<&Value> = items.iter().filter(|i| i["live"] == true).collect();
    assert!(live.len() >= 20, "{}", live.len());
    for i in &live {
        assert_eq!(i["as_expected"], true, "{i}");
    }
    let find = |prefix: &str| {
        *live
            .iter()
            .find(|i| i["scenario"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no scenario {prefix}"))
    };
    // Every error kind appears.
    for kind in [
        "interaction_required",
        "service",
        "network",
        "throttled",
        "cancelled",
    ] {
        assert!(
            live.iter().any(|i| i["got"]["decision"]["kind"] == kind),
            "no live {kind}"
        );
    }
    let slow = find("Device code sign-in: slow_down");
    assert_eq!(slow["got"]["token"], true);
    assert_eq!(slow["wire"].as_array().unwrap().len(), 3, "{slow}");
    assert!(
        slow["waits_secs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_f64().unwrap() >= 6.0),
        "{slow}"
    );
    let silent = find("Silent: a valid token");
    assert_eq!(silent["got"]["token_source"], "cache");
    assert_eq!(silent["wire"].as_array().unwrap().len(), 0);
    let throttled = find("HTTP 429");
    assert_eq!(
        throttled["got"]["decision"]["retry_after_secs"], 30,
        "{throttled}"
    );
    let again = find("The same request again");
    assert_eq!(again["got"]["decision"]["kind"], "throttled");
    assert_eq!(
        again["wire"].as_array().unwrap().len(),
        0,
        "blocked locally: {again}"
    );
    let retried = find("HTTP 500 once");
    assert_eq!(retried["got"]["token"], true);
    assert_eq!(retried["wire"].as_array().unwrap().len(), 2, "{retried}");
    let mfa = find("MFA required");
    assert!(
        mfa["got"]["decision"]["python"]["dict"]["claims"].is_string(),
        "{mfa}"
    );
    assert!(
        mfa["follow_up"]
            .as_str()
            .unwrap()
            .contains("with the claims"),
        "{mfa}"
    );
    for class in [
        "BasicAction",
        "AdditionalAction",
        "MessageOnly",
        "ConsentRequired",
        "UserPasswordExpired",
    ] {
        let r = find(&format!("Silent refresh: interaction required, {class}"));
        assert_eq!(r["got"]["decision"]["classification"], class, "{r}");
    }
    assert!(
        items.iter().any(|i| i["live"] == false),
        "the simulated ones are listed too"
    );
}

#[test]
fn explain_any_published_number_and_decide_unknown_ones() {
    // Once "not an AADSTS number idflow knows".
    let (code, out, _) = idflow(&["explain", "AADSTS700027"], None);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["code"], "invalid_client");
    assert_eq!(v["action"], "fix_configuration");
    // A number newer than the table: a decision that says so, never a refusal.
    let (code, out, err) = idflow(&["explain", "AADSTS999999"], None);
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    assert!(v["message"]
        .as_str()
        .is_some_and(|m| m.contains("not in idflow's table")));
    // The number with the error and suberror it came with.
    let (_, out, _) = idflow(
        &[
            "explain",
            "AADSTS999999",
            "invalid_grant",
            "consent_required",
        ],
        None,
    );
    let v = json(&out);
    assert_eq!(v["kind"], "interaction_required");
    assert_eq!(v["classification"], "ConsentRequired");
}

#[test]
fn explain_list_prints_the_table_filtered() {
    let (code, out, _) = idflow(&["explain", "--list", "--json"], None);
    assert_eq!(code, 0);
    let all = json(&out);
    let n = all["count"].as_u64().unwrap();
    assert!(n >= 300, "{n}");
    assert_eq!(all["codes"].as_array().unwrap().len() as u64, n);
    assert_eq!(all["source"]["repo"], "MicrosoftDocs/entra-docs");
    let (code, out, _) = idflow(
        &[
            "explain",
            "--list",
            "--action",
            "fix_configuration",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0);
    let fix = json(&out);
    let codes = fix["codes"].as_array().unwrap();
    assert!(!codes.is_empty() && (codes.len() as u64) < n);
    assert!(codes.iter().all(|c| c["action"] == "fix_configuration"));
    assert!(codes.iter().any(|c| c["number"] == 700027));
    // Text: one block per number, the mitigation under it.
    let (code, out, _) = idflow(
        &[
            "explain",
            "--list",
            "--action",
            "contact_admin",
            "--fixed-by",
            "admin",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("AADSTS53003 BlockedByConditionalAccess"),
        "{out}"
    );
    assert!(!out.contains("AADSTS700027"));
    // A filter value the model does not know is refused with the known ones.
    let (code, _, err) = idflow(&["explain", "--list", "--action", "pray"], None);
    assert_ne!(code, 0);
    assert!(err.contains("fix_configuration"), "{err}");
    // --action without --list is a usage error.
    let (code, _, _) = idflow(&["explain", "--action", "retry"], None);
    assert_ne!(code, 0);
}
