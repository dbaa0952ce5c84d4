//! Crash-safety driver for the file-backed token cache (bench/cache-crash.sh
//! runs it). Three modes, all on one cache file:
//!
//! * `writer PATH FIRST_ID`: saves app tokens `id-FIRST_ID`, `id-FIRST_ID+1`, ...
//!   one at a time, persisting each, and prints `committed N` once persist
//!   returned. Runs until killed.
//! * `reader PATH SECONDS`: loads the file again and again (a fresh cache
//!   each time) for that long; exits 1 at the first load that fails.
//!   Prints `loads N`.
//! * `verify PATH IDS_FILE`: exits 1 unless the file loads and every id
//!   listed (one per line) is in it. Prints `verified N of M tokens`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use idflow::secret::AccessToken;
use idflow::FileStorage;
use idflow::TokenSource;
use idflow::{AccessTokenQuery, AuthenticationResult, SaveRequest, TokenCache};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const ENV: &str = "login.microsoftonline.com";
const CLIENT: &str = "crash-client";
const REALM: &str = "crash-tenant";

fn scope(id: u64) -> Vec<String> {
    vec![format!("api://crash/{id}")]
}

fn open(path: &str) -> TokenCache {
    let cache = TokenCache::new();
    cache
        .attach_storage(Arc::new(FileStorage::new(path)))
        .unwrap_or_else(|e| {
            eprintln!("load failed: {}: {}", e.code, e.message);
            std::process::exit(1)
        });
    cache
}

fn writer(path: &str, first: u64) {
    let cache = open(path);
    let out = std::io::stdout();
    for id in first.. {
        let now = SystemTime::now();
        let scopes = scope(id);
        let result = AuthenticationResult {
            access_token: AccessToken::new(format!("id-{id}")),
            token_type: "Bearer".into(),
            // Far future: nothing expires while the test runs.
            expires_on: now + Duration::from_secs(100 * 24 * 3600),
            ext_expires_on: None,
            refresh_on: None,
            scopes: scopes.clone(),
            refresh_token: None,
            id_token: None,
            id_token_claims: None,
            account: None,
            client_info: None,
            family_id: None,
            correlation_id: String::new(),
            token_source: TokenSource::IdentityProvider,
            received_at: now,
        };
        cache.save(&SaveRequest {
            client_id: CLIENT,
            environment: ENV,
            realm: REALM,
            requested_scopes: &scopes,
            result: &result,
            account_source: None,
            authority_type: "MSSTS",
            now,
        });
        cache.persist().unwrap();
        let mut o = out.lock();
        writeln!(o, "committed {id}").unwrap();
        o.flush().unwrap();
    }
}

fn reader(path: &str, seconds: u64) {
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut loads = 0u64;
    while Instant::now() < end {
        let cache = TokenCache::new();
        if let Ok(bytes) = std::fs::read(path) {
            if let Err(e) = cache.deserialize(&String::from_utf8_lossy(&bytes)) {
                eprintln!("reader: load {loads} failed: {}", e.message);
                std::process::exit(1);
            }
        }
        loads += 1;
    }
    println!("loads {loads}");
}

fn verify(path: &str, ids_file: &str) {
    let cache = open(path);
    let ids: Vec<u64> = std::fs::read_to_string(ids_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let now = SystemTime::now();
    let mut missing = Vec::new();
    for &id in &ids {
        let scopes = scope(id);
        let found = cache.access_token(
            &AccessTokenQuery {
                client_id: CLIENT,
                environment: ENV,
                realm: REALM,
                home_account_id: None,
                scopes: &scopes,
            },
            now,
        );
        if found.map(|t| t.secret.expose().to_owned()) != Some(format!("id-{id}")) {
            missing.push(id);
        }
    }
    println!(
        "verified {} of {} tokens",
        ids.len() - missing.len(),
        cache.counts().access_tokens
    );
    if !missing.is_empty() {
        eprintln!("missing committed ids: {missing:?}");
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("writer") if args.len() == 4 => writer(&args[2], args[3].parse().unwrap()),
        Some("reader") if args.len() == 4 => reader(&args[2], args[3].parse().unwrap()),
        Some("verify") if args.len() == 4 => verify(&args[2], &args[3]),
        _ => {
            eprintln!("usage: cache_crash writer PATH FIRST_ID | reader PATH SECONDS | verify PATH IDS_FILE");
            std::process::exit(2);
        }
    }
}
