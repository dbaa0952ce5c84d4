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
