//! `idflow emulator` as a user runs it: it prints its URL first, serves the
//! platform and the admin API, and stops cleanly on Ctrl-C (SIGINT).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A plain HTTP/1.1 GET over a socket (the CLI crate has no HTTP client).
fn get(base: &str, path: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_until_interrupted() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["emulator", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("idflow runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the URL is printed first");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let banner: Vec<String> = (0..8)
        .filter_map(|_| rx.recv_timeout(Duration::from_secs(5)).ok())
        .collect();
    let banner = banner.join("\n");
    assert!(
        banner.contains(idflow_emulator::PUBLIC_CLIENT_ID),
        "{banner}"
    );
    assert!(
        banner.contains(idflow_emulator::CONFIDENTIAL_CLIENT_ID),
        "{banner}"
    );

    let admin = get(&base, "/_admin");
    assert!(admin.starts_with("HTTP/1.1 200"), "{admin}");
    let discovery = get(
        &base,
        "/organizations/v2.0/.well-known/openid-configuration",
    );
    assert!(discovery.contains("token_endpoint"));

    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let exit = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("stops on SIGINT")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    // The reader thread may still be forwarding the last lines: read until
    // the pipe closes (the process has exited, so it closes promptly).
    let mut rest = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        rest.push(line);
    }
    assert!(rest.iter().any(|l| l.contains("stopping")), "{rest:?}");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["emulator", "--port", &port])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on 127.0.0.1"), "{err}");
}

#[test]
fn tls_writes_the_ca_and_says_how_each_stack_trusts_it() {
    let dir = std::env::temp_dir().join(format!("idflow-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["emulator", "--port", "0", "--tls", "--ca-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("idflow runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let mut banner = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        let last = line.starts_with("curl");
        banner.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let banner = banner.join("\n");
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let file = ca.display().to_string();
    for needle in [
        format!("REQUESTS_CA_BUNDLE={file}"),
        format!("NODE_EXTRA_CA_CERTS={file}"),
        format!("keytool -importcert -noprompt -alias idflow-emulator -file {file}"),
        ".NET".to_owned(),
        "Swift".to_owned(),
    ] {
        assert!(banner.contains(&needle), "{needle} in {banner}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_scenario_file_is_refused_before_listening() {
    let file =
        std::env::temp_dir().join(format!("idflow-cli-scenario-{}.json", std::process::id()));
    std::fs::write(
        &file,
        "{\n  \"faults\": [\n    {\"preset\": \"throttled_429\", \"cout\": 1}\n  ]\n}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["emulator", "--port", "0", "--scenario"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing listened");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field `cout`") && err.contains("line 3"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_idflow"))
        .args(["emulator", "--port", "0", "--ca-out", "x.pem"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-out needs --tls"));
}
